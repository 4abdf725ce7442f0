"""Figures of simulations: the funnel over time, customer journeys, attribution against the truth, and what-if
comparisons.

They read a :class:`~mixsim.results.SimulationResult` or a :class:`~mixsim.whatif.Comparison` through their
tables (``to_frame``) and compute nothing the results do not hold: means and 90% intervals of replications.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from mixsim.errors import InputError
from mixsim.plots.style import (
    PALETTE,
    STAGE_COLORS,
    TRUTH,
    channel_colors,
    channel_order,
    channel_styles,
    escape_dollars,
    money_axis,
    note,
)
from mixsim.results import KPIS
from mixsim.scenario import STAGES

if TYPE_CHECKING:
    import pandas as pd

    from mixsim.results import SimulationResult
    from mixsim.whatif import Comparison

__all__ = ["plot_attribution", "plot_comparison", "plot_funnel", "plot_journeys"]

_NEUTRAL = "0.6"  # differences the simulation cannot tell from none
_LABEL_WIDTH = 34  # characters per line of a variant's label in the comparison; longer labels wrap
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
    population = result.scenario.represents  # the stages count the market the simulated customers stand for
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
    ax.set_title(escape_dollars(f"Customers by funnel stage per day\n{_about(result)}"), fontsize="medium")
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
        Two axes: bars of converted customers by touchpoints, distinct channel-days with an exposure (bins of
        :data:`mixsim.engine.run.TOUCH_EDGES`, the last open-ended), and by days to conversion (7-day bins),
        each with the 90% interval of the replications as error bars.
    """
    touches = result.to_frame("touchpoints")
    days = result.to_frame("days_to_conversion")
    fig = Figure(figsize=(10.0, 4.2), layout="constrained")
    touch_ax, days_ax = fig.subplots(1, 2)
    _histogram(touch_ax, touches, "touchpoints", "touchpoints")
    touch_ax.set_xlabel("Touchpoints before conversion (channel-days with an exposure)")
    touch_ax.set_title("Touchpoints before conversion", fontsize="medium")
    _histogram(days_ax, days, "days", "days")
    days_ax.set_xlabel("Days to conversion (7-day bins)")
    days_ax.set_title("Days to conversion", fontsize="medium")
    if len(days) > 8:
        days_ax.tick_params(axis="x", labelrotation=45)
    fig.suptitle(escape_dollars(f"Customer journeys\n{_about(result)}"))
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
    InputError
        If ``order`` misses a channel.
    """
    names = list(result.channels)
    channels = channel_order(names, order)
    colors = channel_colors(channels)
    styles = channel_styles(channels)
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
                color=TRUTH,
                markerfacecolor=colors[name],
                markeredgecolor=TRUTH,
                ecolor=TRUTH,
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
                color=TRUTH,
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
    ax.set_title(escape_dollars(f"{title}\n{_about(result)}"), fontsize="medium")
    return fig


def _wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters, at spaces where it can (long words are cut)."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


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
        and a vertical line at 0 (no difference). Long variant labels (a ``vary`` grid's ``key=value, ...``)
        are wrapped over several lines, and the figure is sized from them so that every label and the title
        fit; the title names the base, and any variant that was the base itself
        (:attr:`~mixsim.whatif.Comparison.same_as_base`).

    Raises
    ------
    InputError
        If ``kpi`` is not a KPI.
    """
    if kpi not in KPIS:
        raise InputError(f"unknown kpi {kpi!r}; choose one of {', '.join(KPIS)}")
    base = comparison.labels[0]
    frame = comparison.to_frame("kpis")
    # By position, not label: the table lists the variants in order, the base first.
    rows = frame[frame["kpi"] == kpi].iloc[1:].reset_index(drop=True)

    n = len(rows)
    ticks = [escape_dollars(_wrap(str(v), _LABEL_WIDTH)) for v in rows["variant"]]
    lines = max((t.count("\n") + 1 for t in ticks), default=1)
    longest = max((len(line) for t in ticks for line in t.split("\n")), default=0)
    # Inches: the labels' column (at about 0.085 in a character) beside a plot at least 4.5 wide; a row per
    # variant tall enough for its label's lines.
    width = max(8.0, 0.085 * longest + 4.5)
    row = max(0.55, 0.2 * lines + 0.2)
    replications = comparison.results[0].replications
    paragraphs = [
        f"{kpi}: each variant against {base}",
        f"{replications} paired replication{'s' if replications != 1 else ''} (common random numbers)",
    ]
    if comparison.same_as_base:
        paragraphs.append(f"the base itself, not repeated: {', '.join(comparison.same_as_base)}")
    title = "\n".join(_wrap(p, int(11 * width)) for p in paragraphs)
    height = 1.6 + 0.2 * (title.count("\n") + 1) + row * max(n, 1)

    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    ax.axvline(0.0, color="0.2", linestyle="-", linewidth=1.0, gid="zero", label="no difference")
    unit = _KPI_UNITS[kpi]
    for i in range(n):
        row_data = rows.iloc[i]
        label = str(row_data["variant"])
        diff = float(row_data["diff"])
        y = float(i)
        if not math.isfinite(diff):
            ax.text(0.0, y, "  undefined", va="center", color=_NEUTRAL, gid=f"undefined:{label}")
            continue
        clear = bool(row_data["distinguishable"])
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
        high = float(row_data["diff_high"]) if math.isfinite(float(row_data["diff_high"])) else diff
        text = _KPI_FORMATS.get(kpi, "{:+.3g}").format(diff) if clear else "~0"
        ax.annotate(
            escape_dollars(text),
            (high, y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            color=color,
            fontsize="small",
            gid=f"~0:{label}" if not clear else f"value:{label}",
        )
    if n == 0:
        note(ax, "no variants to compare (the comparison holds only the base)")
    ax.set_yticks(range(n), ticks)
    if n:
        ax.set_ylim(n - 0.5, -0.5)  # first variant on top, as in the tables
    # The title names the base; the axis label stays short whatever the base is called.
    ax.set_xlabel(escape_dollars(f"Difference in {kpi} from the base ({unit})"))
    if kpi in _MONEY_KPIS:
        money_axis(ax.xaxis)
    ax.margins(x=0.15)
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    handles = [
        Line2D([], [], color=PALETTE[0], marker="o", label="difference (90% interval)"),
        Line2D([], [], color=_NEUTRAL, marker="o", markerfacecolor="white", label="~0: interval holds 0"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    # On the figure, not the axes: centred over the whole width, which the labels' column takes part of.
    fig.suptitle(escape_dollars(title), fontsize="medium")
    return fig
