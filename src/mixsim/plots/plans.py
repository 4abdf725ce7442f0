"""Figures of plans: response curves with the plan's spend, the budget frontier, an allocation against the current
plan, and a week-level plan's flighting.

They read curves and plans (:class:`~mixsim.optimizer.curves.CurveSet`, :class:`~mixsim.optimizer.plan.Plan`,
:class:`~mixsim.optimizer.plan.Frontier`, a week-level plan) and the objectives table
(:data:`mixsim.optimizer.objectives.OBJECTIVES`) for what a plan's numbers count; they solve nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from mixsim.errors import InputError
from mixsim.optimizer.objectives import OBJECTIVES
from mixsim.plots.style import (
    CURRENT,
    PLANNED,
    TRUTH,
    channel_colors,
    channel_order,
    channel_styles,
    escape_dollars,
    money_axis,
    note,
)

if TYPE_CHECKING:
    from mixsim.optimizer.curves import CurveSet, ResponseCurve
    from mixsim.optimizer.plan import Frontier, Plan
    from mixsim.optimizer.weekly import WeeklyPlan

__all__ = ["plot_allocation", "plot_curves", "plot_flighting", "plot_frontier"]

_FIT_POINTS = 200


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
    InputError
        If there are no curves, ``ncols`` is below 1, or ``order`` misses a channel.
    """
    if not curves.curves:
        raise InputError("no curves to plot (the CurveSet is empty)")
    if ncols < 1:
        raise InputError(f"ncols must be >= 1 (got {ncols})")
    channels = channel_order(curves.channels, order)
    colors = channel_colors(channels)
    styles = channel_styles(channels)
    lines = {c.channel: c for c in plan.channels} if plan is not None and plan.optimal else {}
    # Curves are drawn against delivered spend: today's mark is what today's booking delivers.
    current = {c.channel: c.current_spend for c in plan.channels} if plan is not None else {}

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
        now = current.get(name, curve.to_delivered(curve.current))
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
            ax.axvline(now, color=CURRENT, linestyle="--", linewidth=1.2, gid=f"current:{name}")

        title = name
        if line is not None and math.isfinite(planned):
            ax.axvline(planned, color=PLANNED, linestyle="-", linewidth=1.2, gid=f"planned:{name}")
            title += f"\nplan ${planned:,.0f}, next dollar returns ${line.marginal_return:.2f}"
        elif math.isfinite(curve.fit_r2):
            title += f"\nHill fit R² {curve.fit_r2:.3f}"
        ax.set_title(escape_dollars(title), fontsize="medium")
        ax.set_xlabel(escape_dollars("Spend ($)"))
        ax.set_ylabel(escape_dollars("Incremental revenue ($)"))
        ax.set_xlim(left=0.0)
        # Few ticks: six-figure labels collide in a small panel.
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        money_axis(ax.xaxis)
        money_axis(ax.yaxis)
        ax.grid(True, alpha=0.3)

    fitted = any(c.hill is not None for c in curves.curves)
    # One legend for the figure, in neutral grey: each panel's colour is its channel.
    handles = [
        Line2D(
            [], [], color="0.3", marker="o", linestyle="none", label="measured (90% interval)" if measured else "points"
        ),
        Line2D([], [], color="0.3", linewidth=1.8, label="fitted curve" if fitted else "points interpolated"),
        Line2D([], [], color=CURRENT, linestyle="--", label="current spend"),
    ]
    if lines:
        handles.append(Line2D([], [], color=PLANNED, linestyle="-", label="planned spend"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    suptitle = "Response curves: incremental revenue by spend"
    if curves.source:
        suptitle += f"\n{curves.source}"
    fig.suptitle(escape_dollars(suptitle))
    return fig


# How the next dollar of budget reads in each money unit an objective can count in: the axis label, and what
# that dollar must return to pay for itself. A dollar of revenue pays back at 1; profit already nets the dollar
# spent, so the next dollar pays for itself when it adds any profit.
_MONEY_UNITS: dict[str, tuple[str, tuple[float, str]]] = {
    "revenue": ("Revenue of the next $ ($ per $)", (1.0, "break-even (1 $ per $)")),
    "profit": ("Profit of the next $ ($ per $)", (0.0, "break-even (0 $ profit per $)")),
}


def _marginal_axis(plan: Plan) -> tuple[float, str, tuple[float, str] | None]:
    """How to show the budget's shadow price: a factor to money terms, the axis label, and the break-even.

    The objective's unit (:data:`~mixsim.optimizer.objectives.OBJECTIVES`) says what the shadow price counts: money
    is shown as it is; conversions, when the plan knows what a conversion is worth, as the revenue they bring;
    anything else as a plain shadow price.
    """
    spec = OBJECTIVES.get(plan.objective)
    unit = spec.unit if spec is not None else ""
    if unit in _MONEY_UNITS:
        return 1.0, *_MONEY_UNITS[unit]
    if unit == "conversions" and math.isfinite(plan.order_value) and plan.order_value > 0:
        # At the order value a conversion is worth, the next dollar's conversions are revenue.
        return plan.order_value, *_MONEY_UNITS["revenue"]
    return 1.0, f"Shadow price of the budget ({plan.objective} per $)", None


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
    InputError
        If ``order`` misses a channel.
    """
    plans = sorted((p for p in frontier.plans if p.optimal), key=lambda p: p.budget)
    skipped = len(frontier.plans) - len(plans)
    reference = frontier.plans[0] if frontier.plans else None
    channels = channel_order([c.channel for c in reference.channels] if reference else [], order)
    colors = channel_colors(channels)
    styles = channel_styles(channels)

    naxes = 3 if allocation else 2
    fig = Figure(figsize=(7.5, 2.9 * naxes + 0.6), layout="constrained")
    axes = list(fig.subplots(naxes, 1, sharex=True, squeeze=False)[:, 0])
    revenue_ax, marginal_ax = axes[0], axes[1]
    title = "Budget frontier"
    if skipped:
        title += f" ({skipped} infeasible budget{'s' if skipped > 1 else ''} left out)"
    fig.suptitle(title)

    budgets = np.array([p.budget for p in plans])
    now = reference.current_spend if reference is not None else 0.0
    basis = plans[0] if plans else reference
    factor, marginal_label, break_even = (
        _marginal_axis(basis) if basis is not None else (1.0, "Return of the next $ ($ per $)", None)
    )

    revenue_ax.set_title("Optimal revenue by budget", fontsize="medium")
    revenue_ax.set_ylabel(escape_dollars("Incremental revenue ($)"))
    marginal_ax.set_title("Return of the next dollar of budget", fontsize="medium")
    marginal_ax.set_ylabel(escape_dollars(marginal_label))
    if plans:
        revenue_ax.plot(
            budgets, [p.revenue for p in plans], color=PLANNED, marker="o", markersize=3, label="optimal plan"
        )
        marginal_ax.plot(
            budgets,
            [p.shadow_price * factor for p in plans],
            color=PLANNED,
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
                color=CURRENT,
                linestyle="none",
                label="current plan",
            )
    else:
        for ax in axes:
            note(ax, "no feasible budget")
    for ax in axes:
        if now > 0:
            ax.axvline(now, color=CURRENT, linestyle="--", linewidth=1.2, label="current budget", gid="current")
        money_axis(ax.xaxis)
        ax.grid(True, alpha=0.3)
    money_axis(revenue_ax.yaxis)
    if break_even is not None:
        level, label = break_even
        marginal_ax.axhline(
            level, color="0.2", linestyle=":", linewidth=1.2, label=escape_dollars(label), gid="break-even"
        )
    if plans or now > 0:
        revenue_ax.legend(loc="best", fontsize="small")
        marginal_ax.legend(loc="best", fontsize="small")

    if allocation:
        ax = axes[2]
        ax.set_title("Optimal allocation by budget", fontsize="medium")
        ax.set_ylabel(escape_dollars("Spend ($)"))
        money_axis(ax.yaxis)
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
    axes[-1].set_xlabel(escape_dollars("Budget ($)"))
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
        One axes: per channel a pale bar (today's delivered spend) above a solid bar (the plan's), labelled
        with the spend and its change: the plan's table's ``current_spend``, ``spend`` and ``change``.

    Raises
    ------
    InfeasibleError
        If the plan is not optimal (there is no allocation to show).
    InputError
        If ``order`` misses a channel.
    """
    plan.check()
    names = [c.channel for c in plan.channels]
    channels = channel_order(names, order)
    colors = channel_colors(channels)
    styles = channel_styles(channels)

    n = len(names)
    fig = Figure(figsize=(7.5, 1.6 + 0.65 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    height = 0.38
    for i, line in enumerate(plan.channels):
        color = colors[line.channel]
        hatch = styles[line.channel][1]
        now = ax.barh(
            i - height / 2,
            line.current_spend,
            height=height,
            color=to_rgba(color, 0.35),
            edgecolor=color,
            hatch=hatch,
        )
        new = ax.barh(i + height / 2, line.spend, height=height, color=color, edgecolor=color, hatch=hatch)
        now.patches[0].set_gid(f"current:{line.channel}")
        new.patches[0].set_gid(f"optimal:{line.channel}")
        ax.bar_label(now, labels=[f"{line.current_spend:,.0f}"], padding=3, fontsize="small")
        # The label's change is the table's: delivered spend against today's delivered spend.
        change = ""
        if line.current_spend > 0:
            share = line.change / line.current_spend
            change = f" ({share:+.0%})" if abs(share) >= 0.005 else " (same)"
        ax.bar_label(new, labels=[f"{line.spend:,.0f}{change}"], padding=3, fontsize="small")
    ax.set_yticks(range(n), names)
    ax.invert_yaxis()  # first channel on top, as in the tables
    widest = max([0.0, *(max(c.current_spend, c.spend) for c in plan.channels)])
    # Room on the right for the bar labels.
    ax.set_xlim(0.0, widest * 1.25 if widest > 0 else 1.0)
    ax.set_xlabel(escape_dollars("Spend delivered ($)"))
    money_axis(ax.xaxis)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(escape_dollars(f"Current and optimal spend (budget ${plan.budget:,.0f}, objective {plan.objective})"))
    handles = [
        Patch(facecolor=(0.5, 0.5, 0.5, 0.35), edgecolor="0.5", label="current"),
        Patch(facecolor="0.5", edgecolor="0.5", label="optimal"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    return fig


def plot_flighting(plan: WeeklyPlan, seasonality: Sequence[float] | None = None) -> Figure:
    """A week-level plan as stacked bars of spend per week by channel, the current flighting's weekly total as a
    dashed line, and the season's demand multipliers (when given) on a second axis.

    Parameters
    ----------
    plan : WeeklyPlan
        From :func:`mixsim.optimizer.weekly.solve_weekly` or ``optimize_weekly``.
    seasonality : sequence of float, optional
        One demand multiplier per week (``scenario.seasonality``).

    Returns
    -------
    Figure
    """
    channels = list(plan.channels)
    colors = channel_colors(channels)
    styles = channel_styles(channels)
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
    (now,) = ax.plot(weeks, plan.current.sum(axis=0), color=CURRENT, linestyle="--", label="current flighting")
    now.set_gid("current")
    ax.set_xlabel("Week")
    ax.set_ylabel("Spend")
    money_axis(ax.yaxis)
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    if seasonality is not None:
        season = ax.twinx()
        (line,) = season.plot(weeks, list(seasonality), color=TRUTH, marker="o", markersize=3, label="demand")
        line.set_gid("seasonality")
        season.set_ylabel("Demand multiplier")
        season.set_ylim(bottom=0.0)
        more_handles, more_labels = season.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), frameon=False)
    ax.set_title(escape_dollars(f"Spend by week: {plan.spend.sum():,.0f} over {len(weeks)} weeks"), fontsize="medium")
    return fig
