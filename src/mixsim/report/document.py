"""The report as one HTML document: the answer first, then the assumptions, the results, the channels, the
curves, the plan with its verification, and what the model leaves out.

Figures are embedded as PNG data, styles are inline, and nothing is fetched: the file opens the same offline,
in a mail client's preview, or years later. :func:`build_report` draws the document from results only.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from mixsim._version import __version__
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.export import rounded_tables
from mixsim.optimizer.plan import Plan
from mixsim.plots import plot_allocation, plot_attribution, plot_curves, plot_funnel, plot_journeys
from mixsim.plots.uncertainty import plot_outcomes
from mixsim.report.calibration import calibration_section
from mixsim.report.facts import assumptions, caveats, html_table, money, price
from mixsim.report.posterior import posterior_summary
from mixsim.results import SimulationResult
from mixsim.tables import json_records
from mixsim.uncertainty.nexttest import ExperimentRanking
from mixsim.uncertainty.robust import RobustPlan

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["build_report", "summary"]

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;color:#1a1a1a;line-height:1.45;padding:0 1rem}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f5f8}
img{max-width:100%;height:auto;margin:.6rem 0}.muted{color:#666;font-size:.9rem}
.summary{background:#f6f8fb;border-left:4px solid #3b6ea8;padding:.6rem 1.2rem;margin:1rem 0}
.summary li{margin:.2rem 0}.warn{color:#8a3b00;font-weight:600}
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


def build_report(
    result: SimulationResult,
    curves: CurveSet | None = None,
    plan: Plan | None = None,
    calibration: Mapping[str, Any] | None = None,
    robust: RobustPlan | None = None,
    tests: ExperimentRanking | None = None,
) -> str:
    """The report as one HTML document: the answer first (:func:`summary`), then the assumptions, the results,
    the channels, the curves, the plan with its verification, and what the model leaves out.

    Parameters
    ----------
    result : SimulationResult
        A simulation of the scenario (with incrementality, for the true effect of each channel).
    curves : CurveSet, optional
        Response curves, drawn with the plan's spend marked when a plan is given.
    plan : Plan, optional
        An optimized plan, shown beside the current one (verified, when it carries its verification).
    calibration : mapping, optional
        The fit of a calibrated scenario (``fit.json``), shown after the assumptions
        (:func:`~mixsim.report.calibration.calibration_section`).
    robust, tests : RobustPlan and ExperimentRanking, optional
        Across a posterior: the recommended plan and the next tests, which open the report
        (:func:`~mixsim.report.posterior.posterior_summary`).

    Returns
    -------
    str
        A complete HTML document that references nothing outside itself.
    """
    sc = result.scenario
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(sc.name)}: mixsim report</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(sc.name)}</h1>",
        f"<p class='muted'>mixsim {__version__}; {result.replications} replications, seed {result.seed}; "
        f"scenario file {html.escape(sc.source or '(built in code)')}. Figures are means over replications; "
        "[low, high] holds 90% of the simulated outcomes.</p>",
        _across(robust, tests),
        summary(result, plan),
        "<h2>Assumptions</h2>",
        html_table(["item", "value"], [(html.escape(k), html.escape(v)) for k, v in assumptions(sc)]),
        html_table(
            [
                "channel",
                "planned spend",
                "price",
                "frequency cap",
                "fixed cost",
                "minimum buy",
                "p aware",
                "p consider",
                "p convert",
            ],
            [
                (
                    html.escape(c.name),
                    money(c.spend),
                    html.escape(price(c)),
                    f"{c.frequency_cap} per day" if c.frequency_cap else "none",
                    money(c.fixed_cost),
                    money(c.min_spend),
                    f"{c.p_aware:g}",
                    f"{c.p_consider:g}",
                    f"{c.p_convert:g}",
                )
                for c in sc.channels
            ],
        ),
        calibration_section(calibration) if calibration is not None else "",
        "<h2>Results</h2>",
    ]
    kpis = result.to_frame("kpis")
    parts.append(
        html_table(
            ["KPI", "mean", "90% interval"],
            [
                (
                    html.escape(str(r["kpi"])),
                    _kpi(str(r["kpi"]), r["mean"]),
                    f"[{_kpi(str(r['kpi']), r['ci90_low'])}, {_kpi(str(r['kpi']), r['ci90_high'])}]",
                )
                for _, r in kpis.iterrows()
            ],
        )
    )
    parts += ["<h2>The funnel over time</h2>", _png(plot_funnel(result))]
    channels = result.to_frame("channels").pivot(index="channel", columns="metric", values="mean")
    channels = channels.loc[list(result.channels)]
    columns: list[tuple[str, Callable[[float], str]]] = [
        ("spend", money),
        ("exposures", _count),
        ("reach", _count),
        ("frequency", lambda v: _number(v, "{:.1f}")),
        ("first_touch", _count),
        ("last_touch", _count),
        ("linear", _count),
    ]
    if result.incrementality is not None:
        columns += [("incremental_conversions", _count), ("incremental_roas", lambda v: _number(v, "{:.2f}"))]
    parts += [
        "<h2>Channels</h2>",
        html_table(
            ["channel", *(name.replace("_", " ") for name, _ in columns)],
            [(html.escape(str(name)), *(show(row[m]) for m, show in columns)) for name, row in channels.iterrows()],
        ),
        _png(plot_attribution(result)),
        _png(plot_journeys(result)),
    ]
    if curves is not None:
        parts += ["<h2>Response curves</h2>", _png(plot_curves(curves, plan))]
    if plan is not None and plan.optimal:
        parts += _plan_section(plan)
    parts += ["<h2>What the model does not include</h2><ul>"]
    parts += [f"<li>{html.escape(c)}</li>" for c in caveats(sc, curves=curves is not None, plan=plan is not None)]
    parts += ["</ul></body></html>"]
    return "\n".join(parts)


def _across(robust: RobustPlan | None, tests: ExperimentRanking | None) -> str:
    """The summary across a posterior, with today's, the recommended and the point estimate's outcomes side by
    side; empty without one."""
    if robust is None:
        return ""
    figure = ""
    if robust.check is not None:
        shown, names = ("today", "risk plan", "point plan"), ("today", "recommended", "point estimate's")
        figure = _png(plot_outcomes(robust.check, robust.plan.objective, shown, names))
    return posterior_summary(robust, tests, figure)


def summary(result: SimulationResult, plan: Plan | None = None) -> str:
    """The report's opening: the answer a strategist reads in ten seconds.

    With an optimal plan: its two or three largest moves (delivered spend against today's), its gain (the
    simulated one with its interval when the plan was verified, else the curves' projection, said to be one), and
    how sure (whether the closed loop settled; whether the simulated gain can be told from zero). Without one:
    revenue, conversions and ROAS with their intervals, and the channels with the highest and the lowest true
    incremental ROAS when incrementality was measured.
    """
    items: list[str] = []
    if plan is not None and plan.optimal:
        lines = sorted(plan.channels, key=lambda c: -abs(c.change))
        moves = [c for c in lines if abs(c.change) >= 0.005 * max(plan.budget, 1.0)][:3]
        if moves:
            said = "; ".join(
                f"<b>{html.escape(c.channel)}</b> {money(c.current_spend)} &rarr; {money(c.spend)} "
                f"({money(c.change, sign=True)}{_percent(c.change, c.current_spend)})"
                for c in moves
            )
            items.append(f"<b>What the plan changes</b> (spend delivered, against today's): {said}.")
        else:
            items.append("<b>What the plan changes</b>: nothing material; today's plan is already as good.")
        verified = plan.verified_gain
        if verified is not None and plan.verification is not None:
            mean, low, high = verified
            items.append(
                f"<b>Gain</b>: {money(mean, sign=True)} revenue [{money(low, sign=True)}, {money(high, sign=True)}], "
                f"simulated in {plan.verification.replications} paired replications of the plan against today's "
                f"(90% interval); the curves projected {money(plan.projected_gain, sign=True)}."
            )
        else:
            items.append(
                f"<b>Gain</b>: {money(plan.projected_gain, sign=True)} revenue, projected by the response curves "
                "(not verified by simulation)."
            )
        sure = []
        if plan.converged:
            sure.append(f"the plan settled ({plan.iterations} solve(s) of the closed loop)")
        else:
            last = f" (its last move: {plan.moves[-1]:.1%} of the budget)" if plan.moves else ""
            sure.append(
                f"<span class='warn'>the plan had not settled</span> after {plan.iterations} solve(s){last}: read "
                "its moves as a direction, and optimize with more closed-loop solves before booking"
            )
        if verified is not None:
            mean, low, high = verified
            if low <= 0 <= high:
                sure.append("<span class='warn'>the simulation cannot tell the gain from zero</span>")
            else:
                sure.append("the simulated gain is clear of zero")
        items.append("<b>How sure</b>: " + "; ".join(sure) + ".")
    else:
        kpis = {str(row["kpi"]): row for row in json_records(result.to_frame("kpis"))}
        figures = []
        for kpi in ("revenue", "conversions", "roas"):
            if kpi in kpis:
                mean, low, high = (_value(kpis[kpi][column]) for column in ("mean", "ci90_low", "ci90_high"))
                figures.append(f"{kpi} {_kpi(kpi, mean)} [{_kpi(kpi, low)}, {_kpi(kpi, high)}]")
        items.append(
            f"<b>Simulated</b> over {result.replications} replications of {result.scenario.horizon_days} days: "
            + "; ".join(figures)
            + "."
        )
        if result.scenario.repeats and "revenue_repeat" in kpis and "revenue" in kpis:
            share = _value(kpis["revenue_repeat"]["mean"]) / max(_value(kpis["revenue"]["mean"]), 1e-12)
            values = {k: float(pd.Series(v).mean()) for k, v in result.repeat_values().items()}
            items.append(
                f"<b>Customers</b>: {share:.0%} of revenue from repeat purchases; "
                f"{values['repeat_rate']:.0%} of the customers won bought again; "
                f"{_count(values['active_customers'])} active at the end."
            )
        if result.incrementality is not None:
            means = result.to_frame("channels").pivot(index="channel", columns="metric", values="mean")
            column = means["incremental_roas"].dropna() if "incremental_roas" in means else pd.Series(dtype=float)
            roas = {str(name): float(value) for name, value in column.items()}
            if len(roas) > 1:
                best, worst = max(roas, key=roas.__getitem__), min(roas, key=roas.__getitem__)
                items.append(
                    f"<b>Per dollar</b>, {html.escape(str(best))} returns the most true incremental revenue "
                    f"({roas[best]:.2f}) and {html.escape(str(worst))} the least ({roas[worst]:.2f})."
                )
    return "<div class='summary'><h2>Summary</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul></div>"


def _plan_section(plan: Plan) -> list[str]:
    """The optimized plan: what it is, its table (booked and delivered spend, each against today's), why channels
    are held, the figure, and the verification when there is one."""
    frame, totals = rounded_tables(plan)
    parts = [
        "<h2>Optimized plan</h2>",
        f"<p>Objective: {html.escape(plan.objective)}; budget {money(plan.budget)}; one more dollar of budget "
        f"returns {plan.shadow_price:.2f}. Binding: "
        f"{html.escape('; '.join(b.name for b in plan.binding) or 'none')}.</p>",
        html_table(
            [
                "channel",
                "book",
                "booked today",
                "spend delivered",
                "delivered today",
                "change",
                "share",
                "incremental revenue",
                "marginal return",
                "why",
            ],
            [
                (
                    html.escape(str(r["channel"])),
                    money(float(r["book"])),
                    money(float(r["current_book"])),
                    money(float(r["spend"])),
                    money(float(r["current_spend"])),
                    money(float(r["change"]), sign=True),
                    _number(r["share"], "{:.1%}"),
                    money(float(r["projected_revenue"])),
                    _number(r["marginal_return"], "{:.3f}"),
                    html.escape(str(r["note"])),
                )
                for _, r in pd.concat([frame, totals]).iterrows()
            ],
        ),
        "<p class='muted'>Book: the buy to place. Spend delivered: what the simulation says each channel delivers "
        "and is billed for (the budget counts it); a channel that cannot deliver all it is given is booked above "
        "it, and money not delivered is not billed. Changes compare each with the same quantity today.</p>",
        _png(plot_allocation(plan)),
    ]
    parts += [f"<p class='muted'>Note: {html.escape(note)}.</p>" for note in plan.notes]
    if not plan.converged:
        parts.append(
            "<p class='warn'>This plan had not settled when the closed loop stopped: the curves re-measured around "
            "it still moved it. Treat its moves as a direction.</p>"
        )
    if plan.verification is not None:
        check = plan.verification.to_frame()
        parts += [
            "<h3>Verification: the plan against today's, in paired simulation</h3>",
            f"<p class='muted'>{plan.verification.replications} replications with the same random numbers for both "
            f"plans (seed {plan.verification.seed}), apart from the curves' random numbers: out of sample.</p>",
            html_table(
                ["figure", "projected", "simulated", "90% interval"],
                [
                    (
                        html.escape(f"{r['metric']} ({r['outcome']})"),
                        _verified(r["metric"], r["projected"]),
                        _verified(r["metric"], r["simulated"]),
                        f"[{_verified(r['metric'], r['ci90_low'])}, {_verified(r['metric'], r['ci90_high'])}]",
                    )
                    for _, r in check.iterrows()
                ],
            ),
        ]
    return parts


def _kpi(kpi: str, value: float) -> str:
    """A KPI's figure: money with its currency, counts whole, ratios as such."""
    if kpi in ("conversions",):
        return _count(value)
    if kpi == "roi":
        return _number(value, "{:.1%}")
    if kpi == "roas":
        return _number(value, "{:.2f}")
    if kpi == "cac":
        return money(float(value), 2)
    return money(float(value))


def _verified(metric: str, value: float) -> str:
    return _count(value) if metric == "conversions" else money(float(value))


def _count(value: float) -> str:
    return _number(value, "{:,.0f}")


def _percent(change: float, base: float) -> str:
    return f", {change / base:+.0%}" if base > 0 else ""


def _value(value: object) -> float:
    """A JSON-ready figure back as a float (None: undefined)."""
    return float(value) if isinstance(value, int | float) else math.nan
