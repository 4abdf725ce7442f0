"""Figures of results: response curves, the budget frontier and an allocation against the current plan.

Plotting consumes result objects only (:class:`~mixsim.curves.CurveSet`, :class:`~mixsim.plan.Plan`,
:class:`~mixsim.plan.Frontier`); nothing in the engine or the optimizer imports this module. Figures are built
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
from typing import Any

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
from mixsim.curves import CurveSet, ResponseCurve
from mixsim.plan import Frontier, Plan

__all__ = ["PALETTE", "channel_colors", "plot_allocation", "plot_curves", "plot_frontier", "save_figure"]

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
