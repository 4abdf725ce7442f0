"""A self-contained HTML report a strategist can mail: assumptions, KPIs, funnel, channels, curves and plan.

Figures are embedded as PNG data, styles are inline, and nothing is fetched: the file opens the same offline,
in a mail client's preview, or years later. :func:`build_report` draws the document from results only (a
simulation, and optionally curves and a plan); :func:`run_report` makes those results for a scenario (and
:func:`report_run_count` says how many engine runs that takes), so that the command line only writes the file.
"""

from __future__ import annotations

import base64
import concurrent.futures as cf
import html
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mixsim._version import __version__
from mixsim.optimizer import optimize as optimize_budget
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.measure import curve_run_count, response_curves
from mixsim.optimizer.plan import Plan
from mixsim.plots import plot_allocation, plot_attribution, plot_curves, plot_funnel, plot_journeys
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, describe_population, require_scenario
from mixsim.simulation import ProgressCallback, run_count, simulate

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CAVEATS",
    "CURVE_REPLICATIONS",
    "PLAN_ITERATIONS",
    "Report",
    "build_report",
    "report_run_count",
    "run_report",
]

CAVEATS: tuple[str, ...] = (
    "Customers convert once; repeat purchases, price effects and competitors are not modelled.",
    "Demand varies by week only where the scenario's [seasonality] says so: one multiplier of the organic "
    "hazards and of each exposure's effect, the same for every segment and channel; prices, reach and "
    "forgetting do not follow it, and there is no day-of-week pattern or trend beyond the weekly values.",
    "Channels interact only through shared audiences, synergy and word of mouth.",
    "Attribution figures (first touch, last touch, linear) are bookkeeping; only the counterfactual runs measure "
    "what a channel causes.",
    "Response curves are measured one channel at a time; the optimized plan is a projection, checked by "
    "simulation, not a forecast of the market.",
    "Every figure is as good as the scenario's assumptions: replace the benchmarks with your own numbers.",
)
"""What the model does not include, said in every report."""

CURVE_REPLICATIONS = 3
"""Replications per curve level when :func:`run_report` measures response curves."""

PLAN_ITERATIONS = 2
"""Solves of the closed loop when :func:`run_report` optimizes the budget (the first on the report's curves)."""

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1a1a1a;line-height:1.45;padding:0 1rem}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f5f8}
img{max-width:100%;height:auto;margin:.6rem 0}.muted{color:#666;font-size:.9rem}
"""


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _number(value: object, fmt: str) -> str:
    if isinstance(value, int | float) and math.isfinite(float(value)):
        return fmt.format(value)
    return "n/a" if isinstance(value, float) else html.escape(str(value))


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(result: SimulationResult, curves: CurveSet | None = None, plan: Plan | None = None) -> str:
    """The report as one HTML document.

    Parameters
    ----------
    result : SimulationResult
        A simulation of the scenario (with incrementality, for the true effect of each channel).
    curves : CurveSet, optional
        Response curves, drawn with the plan's spend marked when a plan is given.
    plan : Plan, optional
        An optimized plan, shown beside the current one.

    Returns
    -------
    str
        A complete HTML document that references nothing outside itself.
    """
    sc = result.scenario
    econ = sc.economics
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(sc.name)}: mixsim report</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(sc.name)}</h1>",
        f"<p class='muted'>mixsim {__version__}; {result.replications} replications, seed {result.seed}; "
        f"scenario file {html.escape(sc.source or '(built in code)')}. Figures are means over replications; "
        "[low, high] holds 90% of the simulated outcomes.</p>",
        "<h2>Assumptions</h2>",
        _table(
            ["item", "value"],
            [
                ("Population", describe_population(sc)),
                ("Horizon", f"{sc.horizon_days} days"),
                ("Order value", f"{econ.order_value:,.2f}"),
                ("Gross margin", f"{econ.margin:.0%}"),
                ("Checkout abandonment", f"{econ.checkout_abandonment:.0%}"),
                ("Synergy per extra channel seen", f"{sc.funnel.synergy:g}"),
                ("Segments", ", ".join(f"{html.escape(s.name)} ({s.share:.0%})" for s in sc.segments)),
            ],
        ),
        _table(
            ["channel", "planned spend", "cost per 1,000 exposures", "p aware", "p consider", "p convert"],
            [
                (
                    html.escape(c.name),
                    f"{c.spend:,.0f}",
                    f"{1000 * c.cost_per_exposure:,.2f}",
                    f"{c.p_aware:g}",
                    f"{c.p_consider:g}",
                    f"{c.p_convert:g}",
                )
                for c in sc.channels
            ],
        ),
        "<h2>Results</h2>",
    ]
    kpis = result.to_frame("kpis")
    formats = {"conversions": "{:,.0f}", "roi": "{:.1%}", "roas": "{:.2f}"}
    parts.append(
        _table(
            ["KPI", "mean", "90% interval"],
            [
                (
                    html.escape(str(r["kpi"])),
                    _number(r["mean"], formats.get(str(r["kpi"]), "{:,.2f}")),
                    f"[{_number(r['ci90_low'], formats.get(str(r['kpi']), '{:,.2f}'))}, "
                    f"{_number(r['ci90_high'], formats.get(str(r['kpi']), '{:,.2f}'))}]",
                )
                for _, r in kpis.iterrows()
            ],
        )
    )
    parts += ["<h2>The funnel over time</h2>", _png(plot_funnel(result))]
    channels = result.to_frame("channels").pivot(index="channel", columns="metric", values="mean")
    channels = channels.loc[list(result.channels)]
    columns = [("spend", "{:,.0f}"), ("exposures", "{:,.0f}"), ("reach", "{:,.0f}"), ("frequency", "{:.1f}")]
    columns += [("first_touch", "{:,.0f}"), ("last_touch", "{:,.0f}"), ("linear", "{:,.0f}")]
    if result.incrementality is not None:
        columns += [("incremental_conversions", "{:,.0f}"), ("incremental_roas", "{:.2f}")]
    parts += [
        "<h2>Channels</h2>",
        _table(
            ["channel", *(name.replace("_", " ") for name, _ in columns)],
            [
                (html.escape(str(name)), *(_number(row[m], fmt) for m, fmt in columns))
                for name, row in channels.iterrows()
            ],
        ),
        _png(plot_attribution(result)),
        _png(plot_journeys(result)),
    ]
    if curves is not None:
        parts += ["<h2>Response curves</h2>", _png(plot_curves(curves, plan))]
    if plan is not None and plan.optimal:
        frame = plan.to_frame()
        parts += [
            "<h2>Optimized plan</h2>",
            f"<p>Objective: {html.escape(plan.objective)}; budget {plan.budget:,.0f}; one more dollar of budget "
            f"returns {plan.shadow_price:.2f}. Binding: "
            f"{html.escape('; '.join(b.name for b in plan.binding) or 'none')}.</p>",
            _table(
                ["channel", "spend", "share", "current", "change", "incremental revenue", "marginal return"],
                [
                    (
                        html.escape(str(r["channel"])),
                        _number(r["spend"], "{:,.0f}"),
                        _number(r["share"], "{:.1%}"),
                        _number(r["current_spend"], "{:,.0f}"),
                        _number(r["change"], "{:+,.0f}"),
                        _number(r["projected_revenue"], "{:,.0f}"),
                        _number(r["marginal_return"], "{:.3f}"),
                    )
                    for _, r in frame.iterrows()
                ],
            ),
            _png(plot_allocation(plan)),
        ]
        parts += [f"<p class='muted'>Note: {html.escape(note)}.</p>" for note in plan.notes]
    parts += ["<h2>What the model does not include</h2><ul>"]
    parts += [f"<li>{html.escape(c)}</li>" for c in CAVEATS]
    parts += ["</ul></body></html>"]
    return "\n".join(parts)


@dataclass(frozen=True)
class Report:
    """What a report shows: a simulation with incrementality, the response curves, and optionally a plan.

    Attributes
    ----------
    result : SimulationResult
        The scenario simulated with incrementality.
    curves : CurveSet
        Each channel's response curve, measured around the current plan.
    plan : Plan or None
        The optimized budget, when asked for (it may be infeasible: see ``plan.optimal`` and ``plan.message``).
    """

    result: SimulationResult
    curves: CurveSet
    plan: Plan | None = None

    def to_html(self) -> str:
        """The report as one HTML document (see :func:`build_report`)."""
        return build_report(self.result, self.curves, self.plan)


def report_run_count(scenario: Scenario, replications: int, optimize: bool = False) -> int:
    """How many engine runs :func:`run_report` makes (for sizing a progress bar).

    The simulation with its counterfactual runs, one measurement of the curves, and with ``optimize`` one more
    for the closed loop's second solve (its first solves on the curves already measured).
    """
    runs = run_count(scenario, replications, incrementality=True) + curve_run_count(scenario, CURVE_REPLICATIONS)
    if optimize:
        runs += (PLAN_ITERATIONS - 1) * curve_run_count(scenario, CURVE_REPLICATIONS)
    return runs


def run_report(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replications: int = 10,
    optimize: bool = False,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Everything a report of ``scenario`` shows: simulate it with incrementality, measure its response curves
    and, with ``optimize``, optimize its budget on them.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    seed : int, optional
        Root seed of every run; default the scenario's, else 0.
    replications : int, default=10
        Replications of the simulation (the curves use :data:`CURVE_REPLICATIONS` per level).
    optimize : bool, default=False
        Also optimize the budget (:data:`PLAN_ITERATIONS` solves of :func:`mixsim.optimize`).
    workers : int, default=1
        Worker processes.
    executor : concurrent.futures.Executor, optional
        Run on this executor instead.
    progress : callable, optional
        ``progress(done, total)`` as runs finish; each measurement counts from 1 again
        (:func:`report_run_count` is the total of all of them).

    Returns
    -------
    Report
        Its :meth:`Report.to_html` is the document.
    """
    require_scenario(scenario)
    result = simulate(
        scenario,
        seed=seed,
        replications=replications,
        incrementality=True,
        workers=workers,
        executor=executor,
        progress=progress,
    )
    curves = response_curves(
        scenario, seed=seed, replications=CURVE_REPLICATIONS, workers=workers, executor=executor, progress=progress
    )
    plan = None
    if optimize:
        plan = optimize_budget(
            scenario,
            seed=seed,
            replications=CURVE_REPLICATIONS,
            max_iterations=PLAN_ITERATIONS,
            workers=workers,
            executor=executor,
            progress=progress,
            curves=curves,
        )
    return Report(result, curves, plan)
