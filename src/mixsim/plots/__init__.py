"""Figures of results: response curves, the budget frontier, an allocation against the current plan, and of
simulations: the funnel over time, customer journeys, attribution against the truth and what-if comparisons.

Plotting consumes result objects only (:class:`~mixsim.optimize.curves.CurveSet`, :class:`~mixsim.optimize.plan.Plan`,
:class:`~mixsim.optimize.plan.Frontier`, :class:`~mixsim.results.SimulationResult`,
:class:`~mixsim.whatif.Comparison`); nothing in the engine or the optimizer imports this module. Figures are built
with the object-oriented API (:class:`matplotlib.figure.Figure`, no pyplot), so they need no GUI backend and
touch no global figure state; :func:`save_figure` writes them atomically.

A channel keeps its colour in every figure: :func:`channel_colors` colours by position in the channel order
(the scenario's order, which curves and plans keep).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from mixsim._files import write_atomic
from mixsim.optimize.curves import CurveSet, ResponseCurve
from mixsim.optimize.plan import Frontier, Plan
from mixsim.results import KPIS
from mixsim.scenario import STAGES
from mixsim.tables import interval as _interval

if TYPE_CHECKING:
    import pandas as pd

    from mixsim.optimize.weekly import WeeklyPlan
    from mixsim.research.attribution import AttributionCheck
    from mixsim.results import SimulationResult
    from mixsim.whatif import Comparison

__all__ = [
    "PALETTE",
    "STAGE_COLORS",
    "channel_colors",
    "plot_allocation",
    "plot_attribution",
    "plot_attribution_check",
    "plot_comparison",
    "plot_curves",
    "plot_flighting",
    "plot_frontier",
    "plot_funnel",
    "plot_journeys",
    "save_figure",
]

# Okabe & Ito (2008), "Color Universal Design (CUD): how to make figures and presentations that are friendly to
# colorblind people", https://jfly.uni-koeln.de/color/. Distinguishable under the common colour-vision
# deficiencies. Black is kept back for reference marks (planned spend, break-even); yellow goes last because it
# is the hardest to see on white.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)
"""Channel colours, in the order channels take them."""

# Stages are an ordered scale, not categories like channels: one hue (blue) getting darker down the funnel,
# from a near-white grey for the unaware. Told apart by lightness alone, so they survive greyscale printing and
# never clash with a channel's colour.
STAGE_COLORS: dict[str, str] = {
    "unaware": "#D9D9D9",
    "aware": "#9ECAE1",
    "considering": "#4292C6",
    "converted": "#08306B",
}
"""Fixed colour per funnel stage (light to dark down the funnel)."""

# Past the palette, colours repeat: each further round changes the line style (and a bar's hatch) instead, so
# two channels never look alike.
_LINESTYLES = ("-", "--", "-.", ":")
_HATCHES = ("", "//", "..", "xx")

_CURRENT = "0.4"  # the current plan: grey, dashed
_PLANNED = "black"  # the optimized plan: black, solid
_FIT_POINTS = 200
_MONEY = StrMethodFormatter("{x:,.0f}")


def channel_colors(channels: Sequence[str]) -> dict[str, str]:
    """A colour per channel, by its position in ``channels``: the same channel order gives the same colours.

    Parameters
    ----------
    channels : sequence of str
        Channel names in the scenario's order (``Scenario.channel_names``, ``SimulationResult.channels``,
        ``CurveSet.channels``).

    Returns
    -------
    dict of str to str
        Hex colour per channel, from :data:`PALETTE` (Okabe-Ito). Beyond its seven colours the palette repeats
        and the figures tell the channels apart by line style and hatch.
    """
    colors: dict[str, str] = {}
    for i, name in enumerate(channels):
        colors.setdefault(name, PALETTE[i % len(PALETTE)])
    return colors


def _styles(channels: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``(line style, hatch)`` per channel: plain for the first round of the palette, varied after."""
    styles: dict[str, tuple[str, str]] = {}
    for i, name in enumerate(channels):
        k = (i // len(PALETTE)) % len(_LINESTYLES)
        styles.setdefault(name, (_LINESTYLES[k], _HATCHES[k]))
    return styles


def _order(own: Sequence[str], order: Sequence[str] | None) -> tuple[str, ...]:
    """The channel order colours follow: ``order`` if given (it must name every channel), else ``own``."""
    if order is None:
        return tuple(own)
    missing = [name for name in own if name not in order]
    if missing:
        raise ValueError(f"order: no position for channel(s) {', '.join(missing)} (got {list(order)})")
    return tuple(order)


def _esc(text: str) -> str:
    """Text with literal dollar signs (two unescaped ``$`` would switch matplotlib to math mode)."""
    return text.replace("$", r"\$")


def _money_axis(axis: Axis) -> None:
    axis.set_major_formatter(_MONEY)


def _upper(curve: ResponseCurve, current: float, planned: float) -> float:
    """Where a curve's plot ends: its maximum spend, or for an open-ended curve a range that shows its shape."""
    if math.isfinite(curve.max_spend) and curve.max_spend > 0:
        return float(curve.max_spend)
    reach = [2.0 * current]
    if len(curve.spend):
        reach.append(float(np.max(curve.spend)))
    if math.isfinite(planned):
        reach.append(1.2 * planned)
    if curve.hill is not None and curve.hill.half_saturation > 0:
        reach.append(4.0 * curve.hill.half_saturation)
    upper = max(reach)
    return upper if upper > 0 else 1.0


def _current_spend(plan: Plan) -> float:
    """What the current plan spends: media plus the fixed costs of the channels it uses (as a budget counts)."""
    return sum(c.current for c in plan.channels) + sum(c.fixed_cost for c in plan.channels if c.current > 0)


def plot_curves(
    curves: CurveSet,
    plan: Plan | None = None,
    *,
    order: Sequence[str] | None = None,
    ncols: int = 3,
) -> Figure:
    """One panel per channel: measured points with their 90% interval, the fitted curve, current and planned spend.

    Parameters
    ----------
    curves : CurveSet
        The response curves.
    plan : Plan, optional
        A solved plan over these curves: its spend is marked (solid black line) and its marginal return (the
        plan's ``marginal_return``, revenue per dollar) given in the panel title. An infeasible plan marks
        nothing. When a plan is given, the current spend marked is the plan's (what it was compared with), else
        the curve's.
    order : sequence of str, optional
        Channel order for colours (default the curves' own, which is the scenario's).
    ncols : int, default=3
        Panels per row.

    Returns
    -------
    Figure
        One axes per channel, in the curves' order.

    Raises
    ------
    ValueError
        If there are no curves, ``ncols`` is below 1, or ``order`` misses a channel.
    """
    if not curves.curves:
        raise ValueError("no curves to plot (the CurveSet is empty)")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1 (got {ncols})")
    channels = _order(curves.channels, order)
    colors = channel_colors(channels)
    styles = _styles(channels)
    lines = {c.channel: c for c in plan.channels} if plan is not None and plan.optimal else {}
    current = {c.channel: c.current for c in plan.channels} if plan is not None else {}

    n = len(curves.curves)
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.8 * cols, 3.0 * rows + 0.8), layout="constrained")
    grid = fig.subplots(rows, cols, squeeze=False)
    panels = list(grid.flat)
    for extra in panels[n:]:
        fig.delaxes(extra)

    measured = False
    for ax, curve in zip(panels, curves.curves, strict=False):
        name = curve.channel
        color = colors[name]
        linestyle = styles[name][0]
        now = current.get(name, curve.current)
        line = lines.get(name)
        planned = line.spend if line is not None else math.nan

        low = np.maximum(curve.revenue - curve.revenue_low, 0.0)
        high = np.maximum(curve.revenue_high - curve.revenue, 0.0)
        has_interval = bool(np.any(low > 0) or np.any(high > 0))
        measured = measured or has_interval
        ax.errorbar(
            curve.spend,
            curve.revenue,
            yerr=np.vstack([low, high]) if has_interval else None,
            fmt="o",
            markersize=4,
            color=color,
            ecolor=color,
            elinewidth=1,
            capsize=2,
            gid=f"points:{name}",
        )
        xs = np.linspace(0.0, _upper(curve, now, planned), _FIT_POINTS)
        ax.plot(xs, curve(xs), color=color, linestyle=linestyle, linewidth=1.8, gid=f"fit:{name}")
        if now > 0:
            ax.axvline(now, color=_CURRENT, linestyle="--", linewidth=1.2, gid=f"current:{name}")

        title = name
        if line is not None and math.isfinite(planned):
            ax.axvline(planned, color=_PLANNED, linestyle="-", linewidth=1.2, gid=f"planned:{name}")
            title += f"\nplan {planned:,.0f} $, marginal return {line.marginal_return:.2f} $ per $"
        elif math.isfinite(curve.fit_r2):
            title += f"\nHill fit R² {curve.fit_r2:.3f}"
        ax.set_title(_esc(title), fontsize="medium")
        ax.set_xlabel(_esc("Spend ($)"))
        ax.set_ylabel(_esc("Incremental revenue ($)"))
        ax.set_xlim(left=0.0)
        # Few ticks: six-figure labels collide in a small panel.
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        _money_axis(ax.xaxis)
        _money_axis(ax.yaxis)
        ax.grid(True, alpha=0.3)

    fitted = any(c.hill is not None for c in curves.curves)
    # One legend for the figure, in neutral grey: each panel's colour is its channel.
    handles = [
        Line2D(
            [], [], color="0.3", marker="o", linestyle="none", label="measured (90% interval)" if measured else "points"
        ),
        Line2D([], [], color="0.3", linewidth=1.8, label="fitted curve" if fitted else "points interpolated"),
        Line2D([], [], color=_CURRENT, linestyle="--", label="current spend"),
    ]
    if lines:
        handles.append(Line2D([], [], color=_PLANNED, linestyle="-", label="planned spend"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    suptitle = "Response curves: incremental revenue by spend"
    if curves.source:
        suptitle += f"\n{curves.source}"
    fig.suptitle(_esc(suptitle))
    return fig


def _marginal_axis(plan: Plan) -> tuple[float, str, tuple[float, str] | None]:
    """How to show the budget's shadow price: a factor to revenue terms, the axis label, and the break-even."""
    objective = plan.objective
    if objective == "revenue":
        return 1.0, "Revenue of the next $ ($ per $)", (1.0, "break-even (1 $ per $)")
    if objective == "profit":
        # Profit already nets the dollar spent: the next dollar pays for itself when it adds any profit.
        return 1.0, "Profit of the next $ ($ per $)", (0.0, "break-even (0 $ profit per $)")
    if objective in ("conversions", "cpa", "roas") and math.isfinite(plan.order_value) and plan.order_value > 0:
        # These maximize conversions: at the order value a conversion is worth, the next dollar's revenue.
        return plan.order_value, "Revenue of the next $ ($ per $)", (1.0, "break-even (1 $ per $)")
    return 1.0, f"Shadow price of the budget ({objective} per $)", None


def _note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, _esc(text), transform=ax.transAxes, ha="center", va="center", color="0.4")


def plot_frontier(
    frontier: Frontier,
    *,
    order: Sequence[str] | None = None,
    allocation: bool = True,
) -> Figure:
    """The budget frontier: optimal revenue, the return of the next dollar and (optionally) the allocation.

    Parameters
    ----------
    frontier : Frontier
        Optimal plans over a series of budgets; infeasible budgets are left out (the top title counts them).
    order : sequence of str, optional
        Channel order for colours (default the plans' own, which is the scenario's).
    allocation : bool, default=True
        Add a third panel: each channel's spend stacked against the budget.

    Returns
    -------
    Figure
        Two or three axes sharing the budget axis: revenue, next dollar's return, allocation. The current plan's
        budget (its spend, fixed costs included) is marked with a dashed line when it is above 0.

    Raises
    ------
    ValueError
        If ``order`` misses a channel.
    """
    plans = sorted((p for p in frontier.plans if p.optimal), key=lambda p: p.budget)
    skipped = len(frontier.plans) - len(plans)
    reference = frontier.plans[0] if frontier.plans else None
    channels = _order([c.channel for c in reference.channels] if reference else [], order)
    colors = channel_colors(channels)
    styles = _styles(channels)

    naxes = 3 if allocation else 2
    fig = Figure(figsize=(7.5, 2.9 * naxes + 0.6), layout="constrained")
    axes = list(fig.subplots(naxes, 1, sharex=True, squeeze=False)[:, 0])
    revenue_ax, marginal_ax = axes[0], axes[1]
    title = "Budget frontier"
    if skipped:
        title += f" ({skipped} infeasible budget{'s' if skipped > 1 else ''} left out)"
    fig.suptitle(title)

    budgets = np.array([p.budget for p in plans])
    now = _current_spend(reference) if reference is not None else 0.0
    basis = plans[0] if plans else reference
    factor, marginal_label, break_even = (
        _marginal_axis(basis) if basis is not None else (1.0, "Return of the next $ ($ per $)", None)
    )

    revenue_ax.set_title("Optimal revenue by budget", fontsize="medium")
    revenue_ax.set_ylabel(_esc("Incremental revenue ($)"))
    marginal_ax.set_title("Return of the next dollar of budget", fontsize="medium")
    marginal_ax.set_ylabel(_esc(marginal_label))
    if plans:
        revenue_ax.plot(
            budgets, [p.revenue for p in plans], color=_PLANNED, marker="o", markersize=3, label="optimal plan"
        )
        marginal_ax.plot(
            budgets,
            [p.shadow_price * factor for p in plans],
            color=_PLANNED,
            marker="o",
            markersize=3,
            label="next dollar",
        )
        if now > 0:
            # The current plan's revenue is read off the same curves (infeasible plans do not carry it).
            revenue_ax.plot(
                [now],
                [plans[0].current_revenue],
                marker="D",
                color=_CURRENT,
                linestyle="none",
                label="current plan",
            )
    else:
        for ax in axes:
            _note(ax, "no feasible budget")
    for ax in axes:
        if now > 0:
            ax.axvline(now, color=_CURRENT, linestyle="--", linewidth=1.2, label="current budget", gid="current")
        _money_axis(ax.xaxis)
        ax.grid(True, alpha=0.3)
    _money_axis(revenue_ax.yaxis)
    if break_even is not None:
        level, label = break_even
        marginal_ax.axhline(level, color="0.2", linestyle=":", linewidth=1.2, label=_esc(label), gid="break-even")
    if plans or now > 0:
        revenue_ax.legend(loc="best", fontsize="small")
        marginal_ax.legend(loc="best", fontsize="small")

    if allocation:
        ax = axes[2]
        ax.set_title("Optimal allocation by budget", fontsize="medium")
        ax.set_ylabel(_esc("Spend ($)"))
        _money_axis(ax.yaxis)
        names = [c.channel for c in plans[0].channels] if plans else []
        if names:
            spend = np.array([[p.allocation.get(name, 0.0) for p in plans] for name in names])
            areas = ax.stackplot(
                budgets, spend, labels=names, colors=[colors[n] for n in names], edgecolor="white", linewidth=0.5
            )
            for area, name in zip(areas, names, strict=True):
                area.set_gid(f"allocation:{name}")
                area.set_hatch(styles[name][1])
            # Outside the axes, so it never covers a band.
            ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small", frameon=False)
    axes[-1].set_xlabel(_esc("Budget ($)"))
    return fig


def plot_allocation(plan: Plan, *, order: Sequence[str] | None = None) -> Figure:
    """Current against optimal spend per channel, as grouped horizontal bars in the channels' colours.

    Parameters
    ----------
    plan : Plan
        An optimal plan.
    order : sequence of str, optional
        Channel order for colours (default the plan's own, which is the scenario's).

    Returns
    -------
    Figure
        One axes: per channel a pale bar (current) above a solid bar (optimal), labelled with the spend and
        its change.

    Raises
    ------
    InfeasibleError
        If the plan is not optimal (there is no allocation to show).
    ValueError
        If ``order`` misses a channel.
    """
    plan.check()
    names = [c.channel for c in plan.channels]
    channels = _order(names, order)
    colors = channel_colors(channels)
    styles = _styles(channels)

    n = len(names)
    fig = Figure(figsize=(7.5, 1.6 + 0.65 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    height = 0.38
    for i, line in enumerate(plan.channels):
        color = colors[line.channel]
        hatch = styles[line.channel][1]
        now = ax.barh(
            i - height / 2,
            line.current,
            height=height,
            color=to_rgba(color, 0.35),
            edgecolor=color,
            hatch=hatch,
        )
        new = ax.barh(i + height / 2, line.spend, height=height, color=color, edgecolor=color, hatch=hatch)
        now.patches[0].set_gid(f"current:{line.channel}")
        new.patches[0].set_gid(f"optimal:{line.channel}")
        ax.bar_label(now, labels=[f"{line.current:,.0f}"], padding=3, fontsize="small")
        change = ""
        if line.current > 0:
            share = line.change / line.current
            change = f" ({share:+.0%})" if abs(share) >= 0.005 else " (same)"
        ax.bar_label(new, labels=[f"{line.spend:,.0f}{change}"], padding=3, fontsize="small")
    ax.set_yticks(range(n), names)
    ax.invert_yaxis()  # first channel on top, as in the tables
    widest = max([0.0, *(max(c.current, c.spend) for c in plan.channels)])
    # Room on the right for the bar labels.
    ax.set_xlim(0.0, widest * 1.25 if widest > 0 else 1.0)
    ax.set_xlabel(_esc("Spend ($)"))
    _money_axis(ax.xaxis)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(_esc(f"Current and optimal spend (budget {plan.budget:,.0f} $, objective {plan.objective})"))
    handles = [
        Patch(facecolor=(0.5, 0.5, 0.5, 0.35), edgecolor="0.5", label="current"),
        Patch(facecolor="0.5", edgecolor="0.5", label="optimal"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    return fig


# --- simulation results ----------------------------------------------------------------------------------------

_TRUTH = "black"  # the counterfactual truth: black, like the other reference marks
_NEUTRAL = "0.6"  # differences the simulation cannot tell from none
# Attribution rules, told apart by fill and hatch; the colour stays the channel's.
_RULES: tuple[tuple[str, str, float, str], ...] = (
    ("first_touch", "first touch", 0.35, "//"),
    ("last_touch", "last touch", 0.65, ".."),
    ("linear", "linear", 1.0, ""),
)
_KPI_UNITS: dict[str, str] = {
    "conversions": "conversions",
    "revenue": "$",
    "spend": "$",
    "profit": "$",
    "roi": "$ profit per $",
    "roas": "$ revenue per $",
    "cac": "$ per conversion",
}
# Whole-dollar ticks only where the amounts are large; CAC and the ratios are small numbers.
_MONEY_KPIS = frozenset({"revenue", "spend", "profit"})
_KPI_FORMATS: dict[str, str] = {
    "conversions": "{:+,.0f}",
    "revenue": "{:+,.0f}",
    "spend": "{:+,.0f}",
    "profit": "{:+,.0f}",
}


def _whiskers(frame: pd.DataFrame, center: str = "mean", low: str = "ci90_low", high: str = "ci90_high") -> np.ndarray:
    """Error-bar lengths below and above ``center`` (shape (2, n)), never negative, undefined values as 0."""
    c = frame[center].to_numpy(dtype=float)
    below = np.nan_to_num(c - frame[low].to_numpy(dtype=float), nan=0.0)
    above = np.nan_to_num(frame[high].to_numpy(dtype=float) - c, nan=0.0)
    return np.vstack([np.maximum(below, 0.0), np.maximum(above, 0.0)])


def _about(result: SimulationResult) -> str:
    """A subtitle naming the scenario and how much simulation stands behind the figure."""
    if result.replications == 1:
        return f"{result.scenario.name}: 1 replication (no interval)"
    return f"{result.scenario.name}: {result.replications} replications, means with 90% intervals of the replications"


def plot_funnel(result: SimulationResult) -> Figure:
    """The funnel over time: customers in each stage per day, as stacked areas of the replications' means.

    Parameters
    ----------
    result : SimulationResult
        A simulation (its ``daily`` table).

    Returns
    -------
    Figure
        One axes: a band per stage (:data:`STAGE_COLORS`), unaware at the bottom, converted on top; the stack
        adds up to the population every day (marked by a dotted line).
    """
    daily = result.to_frame("daily")
    stages = daily[daily["quantity"].isin(STAGES)].pivot(index="day", columns="quantity", values="mean")
    stages = stages.reindex(columns=list(STAGES)).sort_index()
    days = stages.index.to_numpy(dtype=float)

    fig = Figure(figsize=(8.0, 4.5), layout="constrained")
    ax = fig.add_subplot()
    areas = ax.stackplot(
        days,
        stages.to_numpy(dtype=float).T,
        labels=list(STAGES),
        colors=[STAGE_COLORS[s] for s in STAGES],
        edgecolor="white",
        linewidth=0.5,
    )
    for area, stage in zip(areas, STAGES, strict=True):
        area.set_gid(f"stage:{stage}")
    population = result.scenario.population
    ax.axhline(population, color="0.2", linestyle=":", linewidth=1.0, label="population", gid="population")
    if len(days) > 1:
        ax.set_xlim(days[0], days[-1])
    ax.set_ylim(0.0, population * 1.04)
    ax.set_xlabel("Day")
    ax.set_ylabel("Customers")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(True, alpha=0.3)
    ax.set_axisbelow(False)
    # Legend top to bottom as the stack reads, outside so it never hides a band.
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index("population"), *(labels.index(s) for s in reversed(STAGES))]
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        frameon=False,
    )
    ax.set_title(_esc(f"Customers by funnel stage per day\n{_about(result)}"), fontsize="medium")
    return fig


def _histogram(ax: Axes, frame: pd.DataFrame, key: str, gid: str) -> None:
    labels = [str(v) for v in frame[key]]
    x = np.arange(len(labels))
    bars = ax.bar(
        x,
        frame["mean"].to_numpy(dtype=float),
        width=0.8,
        color=STAGE_COLORS["converted"],
        yerr=_whiskers(frame),
        ecolor="0.3",
        capsize=2,
        error_kw={"elinewidth": 1},
    )
    for patch, label in zip(bars.patches, labels, strict=True):
        patch.set_gid(f"{gid}:{label}")
    ax.set_xticks(x, labels)
    ax.set_ylabel("Converted customers")
    ax.set_ylim(bottom=0.0)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def plot_journeys(result: SimulationResult) -> Figure:
    """How converted customers got there: touchpoints before converting and days to conversion.

    Parameters
    ----------
    result : SimulationResult
        A simulation (its ``touchpoints`` and ``days_to_conversion`` tables).

    Returns
    -------
    Figure
        Two axes: bars of converted customers by touchpoints (the last bar counts that many or more) and by
        days to conversion (7-day bins), each with the 90% interval of the replications as error bars.
    """
    touches = result.to_frame("touchpoints")
    days = result.to_frame("days_to_conversion")
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    touch_ax, days_ax = fig.subplots(1, 2)
    _histogram(touch_ax, touches, "touchpoints", "touchpoints")
    touch_ax.set_xlabel("Touchpoints before conversion")
    touch_ax.set_title("Touchpoints before conversion", fontsize="medium")
    _histogram(days_ax, days, "days", "days")
    days_ax.set_xlabel("Days to conversion (7-day bins)")
    days_ax.set_title("Days to conversion", fontsize="medium")
    if len(days) > 8:
        days_ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle(_esc(f"Customer journeys\n{_about(result)}"))
    return fig


def _metric(table: pd.DataFrame, metric: str, channels: Sequence[str]) -> pd.DataFrame:
    """One metric's rows of a result's ``channels`` table, one per channel in ``channels`` order."""
    return table[table["metric"] == metric].set_index("channel").reindex(list(channels))


def plot_attribution(result: SimulationResult, *, order: Sequence[str] | None = None) -> Figure:
    """Conversions per channel by attribution rule, against the true incremental conversions when measured.

    Parameters
    ----------
    result : SimulationResult
        A simulation; simulated with ``incrementality=True`` it also shows the counterfactual truth.
    order : sequence of str, optional
        Channel order for colours (default the result's own, which is the scenario's).

    Returns
    -------
    Figure
        One axes: per channel a group of bars in the channel's colour (first touch, last touch, linear; told
        apart by fill and hatch) with their 90% intervals, and, when the result has incrementality, a black
        diamond with its 90% interval for the true incremental conversions (channel off against on).

    Raises
    ------
    ValueError
        If ``order`` misses a channel.
    """
    names = list(result.channels)
    channels = _order(names, order)
    colors = channel_colors(channels)
    styles = _styles(channels)
    table = result.to_frame("channels")
    truth = result.incrementality is not None
    slots = len(_RULES) + (1 if truth else 0)
    width = 0.8 / slots
    x = np.arange(len(names), dtype=float)

    fig = Figure(figsize=(max(6.5, 1.3 * len(names) + 3.0), 4.8), layout="constrained")
    ax = fig.add_subplot()
    for k, (metric, _, alpha, hatch) in enumerate(_RULES):
        rows = _metric(table, metric, names)
        offset = (k - (slots - 1) / 2) * width
        for i, name in enumerate(names):
            color = colors[name]
            bar = ax.bar(
                x[i] + offset,
                float(rows["mean"].iloc[i]),
                width=width,
                color=to_rgba(color, alpha),
                edgecolor=color,
                hatch=hatch or styles[name][1],
                yerr=_whiskers(rows.iloc[[i]]),
                ecolor="0.3",
                capsize=2,
                error_kw={"elinewidth": 1},
            )
            bar.patches[0].set_gid(f"{metric}:{name}")
    if truth:
        rows = _metric(table, "incremental_conversions", names)
        offset = (slots - 1) / 2 * width
        for i, name in enumerate(names):
            marks = ax.errorbar(
                [x[i] + offset],
                [float(rows["mean"].iloc[i])],
                yerr=_whiskers(rows.iloc[[i]]),
                fmt="D",
                markersize=6,
                color=_TRUTH,
                markerfacecolor=colors[name],
                markeredgecolor=_TRUTH,
                ecolor=_TRUTH,
                elinewidth=1.2,
                capsize=3,
            )
            marks.lines[0].set_gid(f"incremental:{name}")
    ax.set_xticks(x, names)
    if len(names) > 5:
        ax.tick_params(axis="x", labelrotation=30)
    ax.set_ylabel("Conversions")
    ax.set_ylim(bottom=0.0)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    # Neutral grey in the legend: the colour of a bar is its channel, shown on the axis.
    handles: list[Any] = [
        Patch(facecolor=to_rgba("0.45", alpha), edgecolor="0.45", hatch=hatch, label=f"{label} (90% interval)")
        for _, label, alpha, hatch in _RULES
    ]
    if truth:
        handles.append(
            Line2D(
                [],
                [],
                color=_TRUTH,
                marker="D",
                markerfacecolor="0.45",
                linestyle="-",
                linewidth=1.2,
                label="true incremental (counterfactual), 90% interval",
            )
        )
    fig.legend(handles=handles, loc="outside lower center", ncols=2 if truth else 3, frameon=False)
    title = "Conversions per channel: attributed"
    title += " against the true incremental effect" if truth else " (no incrementality measured)"
    ax.set_title(_esc(f"{title}\n{_about(result)}"), fontsize="medium")
    return fig


_MODEL_MARKERS = ("o", "s", "^", "v", "P", "X", "*", "h")


def plot_attribution_check(check: AttributionCheck, *, order: Sequence[str] | None = None) -> Figure:
    """Every attribution model's credit per channel against the truth, and each model's error.

    Parameters
    ----------
    check : AttributionCheck
        From :func:`mixsim.research.attribution.against_truth`.
    order : sequence of str, optional
        Channel order for colours (default the scenario's).

    Returns
    -------
    Figure
        Left: per channel, the true incremental conversions (black diamond with its 90% interval) and each
        model's mean credit (one marker shape per model, in the channel's colour). Right: each model's share
        error (half the summed gap between its credit shares and the true shares) with its 90% interval, best
        first.
    """
    names = list(check.channels)
    colors = channel_colors(_order(names, order))
    models = list(check.models)
    credit = check.credit.mean(axis=0)
    truth_mean, truth_low, truth_high = (np.asarray(v) for v in _interval(check.truth))
    x = np.arange(len(names), dtype=float)
    spread = 0.7 / max(len(models), 1)

    fig = Figure(figsize=(max(10.0, 1.4 * len(names) + 6.0), 4.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(max(len(names), 3), 3))
    for m, model in enumerate(models):
        offset = (m - (len(models) - 1) / 2) * spread
        marker = _MODEL_MARKERS[m % len(_MODEL_MARKERS)]
        for i, name in enumerate(names):
            (line,) = left.plot(
                [x[i] + offset], [credit[m, i]], marker=marker, linestyle="", color=colors[name], markeredgecolor="0.2"
            )
            line.set_gid(f"{model}:{name}")
    marks = left.errorbar(
        x,
        truth_mean,
        yerr=np.vstack([truth_mean - truth_low, truth_high - truth_mean]),
        fmt="D",
        markersize=8,
        color=_TRUTH,
        capsize=4,
        linestyle="",
    )
    marks.lines[0].set_gid("truth")
    left.set_xticks(x, names)
    if len(names) > 5:
        left.tick_params(axis="x", labelrotation=30)
    left.set_ylabel("Conversions")
    left.set_ylim(bottom=0.0)
    left.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    left.grid(True, axis="y", alpha=0.3)
    left.set_axisbelow(True)
    left.set_title("Credit per channel against the true incremental conversions", fontsize="medium")
    handles: list[Any] = [
        Line2D([], [], color=_TRUTH, marker="D", linestyle="-", label="truth (channel off), 90% interval")
    ]
    handles += [
        Line2D([], [], color="0.45", marker=_MODEL_MARKERS[m % len(_MODEL_MARKERS)], linestyle="", label=model)
        for m, model in enumerate(models)
    ]
    left.legend(
        handles=handles, fontsize="small", frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=4
    )

    errors = check.share_error()
    mean, low, high = (np.asarray(v) for v in _interval(errors))
    rank = np.argsort(mean, kind="stable")[::-1]  # best at the top
    y = np.arange(len(models), dtype=float)
    bars = right.barh(
        y,
        mean[rank],
        xerr=np.vstack([mean[rank] - low[rank], high[rank] - mean[rank]]),
        color="0.6",
        edgecolor="0.3",
        ecolor="0.2",
        capsize=3,
    )
    for bar, k in zip(bars.patches, rank, strict=True):
        bar.set_gid(f"share_error:{models[k]}")
    right.set_yticks(y, [models[k] for k in rank])
    right.set_xlim(0.0, 1.0)
    right.set_xlabel("Share error (0: the true split; 1: none in common)")
    right.grid(True, axis="x", alpha=0.3)
    right.set_axisbelow(True)
    right.set_title("Error of each model, 90% interval", fontsize="medium")
    sc = check.scenario
    fig.suptitle(
        _esc(f"{sc.name}: {check.truth.shape[0]} replications, seed {check.seed}, journeys of {check.share:.0%}"),
        fontsize="medium",
    )
    return fig


def plot_flighting(plan: WeeklyPlan, seasonality: Sequence[float] | None = None) -> Figure:
    """A week-level plan as stacked bars of spend per week by channel, the current flighting's weekly total as a
    dashed line, and the season's demand multipliers (when given) on a second axis.

    Parameters
    ----------
    plan : WeeklyPlan
        From :func:`mixsim.optimize.weekly.flighting.solve_weekly` or ``optimize_weekly``.
    seasonality : sequence of float, optional
        One demand multiplier per week (``scenario.seasonality``).

    Returns
    -------
    Figure
    """
    channels = list(plan.channels)
    colors = channel_colors(channels)
    styles = _styles(channels)
    weeks = np.arange(1, plan.spend.shape[1] + 1)
    fig = Figure(figsize=(max(7.0, 0.35 * len(weeks) + 4.0), 4.8), layout="constrained")
    ax = fig.add_subplot()
    bottom = np.zeros(len(weeks))
    for i, name in enumerate(channels):
        values = np.nan_to_num(plan.spend[i])
        bars = ax.bar(weeks, values, bottom=bottom, color=colors[name], hatch=styles[name][1], label=name, width=0.8)
        for k, bar in enumerate(bars.patches):
            bar.set_gid(f"spend:{name}:{k + 1}")
        bottom += values
    (now,) = ax.plot(weeks, plan.current.sum(axis=0), color=_CURRENT, linestyle="--", label="current flighting")
    now.set_gid("current")
    ax.set_xlabel("Week")
    ax.set_ylabel("Spend")
    _money_axis(ax.yaxis)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    if seasonality is not None:
        season = ax.twinx()
        (line,) = season.plot(weeks, list(seasonality), color=_TRUTH, marker="o", markersize=3, label="demand")
        line.set_gid("seasonality")
        season.set_ylabel("Demand multiplier")
        season.set_ylim(bottom=0.0)
        more_handles, more_labels = season.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), frameon=False)
    ax.set_title(_esc(f"Spend by week: {plan.spend.sum():,.0f} over {len(weeks)} weeks"), fontsize="medium")
    return fig


def plot_comparison(comparison: Comparison, kpi: str = "conversions") -> Figure:
    """Each variant's difference from the base for one KPI, with its 90% interval.

    The differences are paired (common random numbers), so an interval is the spread of the effect itself. A
    difference whose interval holds 0 is one the simulation cannot tell from none: it is drawn hollow and grey
    and labelled "~0".

    Parameters
    ----------
    comparison : Comparison
        The variants, the base first.
    kpi : str, default="conversions"
        One of :data:`mixsim.results.KPIS`.

    Returns
    -------
    Figure
        One axes: a point per variant other than the base (first on top) with whiskers over its 90% interval,
        and a vertical line at 0 (no difference).

    Raises
    ------
    ValueError
        If ``kpi`` is not a KPI.
    """
    if kpi not in KPIS:
        raise ValueError(f"unknown kpi {kpi!r}; choose one of {', '.join(KPIS)}")
    base = comparison.labels[0]
    frame = comparison.to_frame("kpis")
    # By position, not label: the table lists the variants in order, the base first.
    rows = frame[frame["kpi"] == kpi].iloc[1:].reset_index(drop=True)

    n = len(rows)
    fig = Figure(figsize=(8.0, 1.8 + 0.55 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    ax.axvline(0.0, color="0.2", linestyle="-", linewidth=1.0, gid="zero", label="no difference")
    unit = _KPI_UNITS[kpi]
    for i in range(n):
        row = rows.iloc[i]
        label = str(row["variant"])
        diff = float(row["diff"])
        y = float(i)
        if not math.isfinite(diff):
            ax.text(0.0, y, "  undefined", va="center", color=_NEUTRAL, gid=f"undefined:{label}")
            continue
        clear = bool(row["distinguishable"])
        color = PALETTE[0] if clear else _NEUTRAL
        marks = ax.errorbar(
            [diff],
            [y],
            xerr=_whiskers(rows.iloc[[i]], "diff", "diff_low", "diff_high"),
            fmt="o",
            markersize=7,
            color=color,
            markerfacecolor=color if clear else "white",
            markeredgecolor=color,
            ecolor=color,
            elinewidth=1.5,
            capsize=4,
        )
        marks.lines[0].set_gid(f"diff:{label}")
        high = float(row["diff_high"]) if math.isfinite(float(row["diff_high"])) else diff
        text = _KPI_FORMATS.get(kpi, "{:+.3g}").format(diff) if clear else "~0"
        ax.annotate(
            _esc(text),
            (high, y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            color=color,
            fontsize="small",
            gid=f"~0:{label}" if not clear else f"value:{label}",
        )
    if n == 0:
        _note(ax, "no variants to compare (the comparison holds only the base)")
    ax.set_yticks(range(n), [_esc(str(v)) for v in rows["variant"]])
    if n:
        ax.set_ylim(n - 0.5, -0.5)  # first variant on top, as in the tables
    ax.set_xlabel(_esc(f"Difference in {kpi} from {base} ({unit})"))
    if kpi in _MONEY_KPIS:
        _money_axis(ax.xaxis)
    ax.margins(x=0.15)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [
        Line2D([], [], color=PALETTE[0], marker="o", label="difference (90% interval)"),
        Line2D([], [], color=_NEUTRAL, marker="o", markerfacecolor="white", label="~0: interval holds 0"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    replications = comparison.results[0].replications
    ax.set_title(
        _esc(f"{kpi}: each variant against {base}\n{replications} paired replications (common random numbers)"),
        fontsize="medium",
    )
    return fig


# Dates in the metadata would make every save of the same figure differ.
_METADATA: dict[str, dict[str, Any]] = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}


def save_figure(
    fig: Figure,
    path_without_suffix: str | os.PathLike[str],
    formats: Sequence[str] = ("png",),
    *,
    dpi: float = 150,
) -> list[Path]:
    """Save ``fig`` once per format, each file written atomically (rendered in memory, then renamed into place).

    Parameters
    ----------
    fig : Figure
        The figure; it is left open (the caller owns it).
    path_without_suffix : path-like
        Where to write, without the suffix: ``out/curves`` gives ``out/curves.png``. Missing folders are made.
    formats : sequence of str, default=("png",)
        Formats matplotlib can write (``png``, ``svg``, ``pdf``, ...).
    dpi : float, default=150
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Raises
    ------
    ValueError
        For a format matplotlib cannot write (before anything is written).
    """
    if isinstance(formats, str):
        formats = (formats,)
    supported = fig.canvas.get_supported_filetypes()
    for fmt in formats:
        if fmt.lower() not in supported:
            raise ValueError(f"unknown figure format {fmt!r}; choose from {', '.join(sorted(supported))}")
    base = os.fspath(path_without_suffix)
    written = []
    for fmt in formats:
        fmt = fmt.lower()
        buffer = io.BytesIO()
        options: dict[str, Any] = {}
        if fmt in _METADATA:
            options["metadata"] = _METADATA[fmt]
        # A fixed salt keeps SVG element ids the same from one save to the next.
        with matplotlib.rc_context({"svg.hashsalt": "mixsim"}):
            fig.savefig(buffer, format=fmt, dpi=dpi, **options)
        written.append(write_atomic(f"{base}.{fmt}", buffer.getvalue()))
    return written
