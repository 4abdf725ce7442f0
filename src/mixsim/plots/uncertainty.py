"""Figures across a posterior's parameter sets: plans' outcomes side by side (one point per parameter set), the
budget frontier with its band across the sets, and each channel's curve in every set.

They read a :class:`~mixsim.uncertainty.paired.WorldsComparison`, a :class:`~mixsim.uncertainty.frontier.RiskFrontier`
or a :class:`~mixsim.uncertainty.curves.WorldsCurves`; they simulate and solve nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from mixsim.errors import InputError
from mixsim.plots.style import CURRENT, PLANNED, money_axis

if TYPE_CHECKING:
    from mixsim.uncertainty.curves import WorldsCurves
    from mixsim.uncertainty.frontier import RiskFrontier
    from mixsim.uncertainty.paired import WorldsComparison

__all__ = ["plot_curves_across", "plot_outcomes", "plot_risk_frontier"]


def plot_outcomes(
    comparison: WorldsComparison,
    kpi: str = "revenue",
    labels: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> Figure:
    """Each plan's ``kpi`` across the parameter sets, side by side: one point per set (its mean over replications),
    a box over the middle half and whiskers over 90% of the sets, and a grey line joining each set's points (the
    same world under each plan).

    Parameters
    ----------
    comparison : WorldsComparison
        Plans simulated in every parameter set, paired (the base first).
    kpi : str, default="revenue"
    labels : sequence of str, optional
        The plans to show, in order (default all, the base first).
    names : sequence of str, optional
        What to call them under the axis (default their labels).

    Raises
    ------
    InputError
        If a label or the KPI is not in the comparison.
    """
    shown = list(labels) if labels is not None else list(comparison.labels)
    unknown = [label for label in shown if label not in comparison.values]
    if unknown or kpi not in comparison.values[comparison.labels[0]]:
        raise InputError(f"plot_outcomes: no {', '.join(unknown) or kpi!r} in the comparison")
    per_set = np.array([comparison.values[label][kpi].mean(axis=1) for label in shown])  # plans x sets
    fig = Figure(figsize=(2.2 + 1.6 * len(shown), 4.2), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(shown))
    at = positions[:, None] + np.random.default_rng(0).uniform(-0.06, 0.06, per_set.shape[1])  # plans x sets
    ax.plot(at, per_set, color="0.85", linewidth=0.8, zorder=1)
    for k, values in enumerate(per_set):
        ax.scatter(at[k], values, s=14, color=CURRENT if k == 0 else PLANNED, zorder=3)
    ax.boxplot(
        list(per_set), positions=positions, widths=0.35, whis=(5, 95), showfliers=False, zorder=2,
        medianprops={"color": PLANNED},
    )  # fmt: skip
    ax.set_xticks(positions, list(names) if names is not None else shown)
    ax.set_ylabel(f"{kpi}, mean per parameter set")
    if kpi in ("revenue", "profit", "spend"):
        money_axis(ax.yaxis)
    ax.set_title(f"{kpi} across {per_set.shape[1]} parameter sets")
    return fig


def plot_risk_frontier(frontier: RiskFrontier) -> Figure:
    """The budget frontier across a posterior: at each budget, the plan's projected return across the parameter
    sets (its mean, the band holding 90% of the sets) and the risk objective's value.

    Parameters
    ----------
    frontier : RiskFrontier

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = frontier.to_frame().dropna(subset=["mean"])
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.fill_between(table["budget"], table["low"], table["high"], color="0.88", label="90% of the parameter sets")
    ax.plot(table["budget"], table["mean"], color=PLANNED, marker="o", markersize=3, label="mean")
    if frontier.risk.kind != "mean":
        ax.plot(
            table["budget"], table["risk_value"], color=CURRENT, linestyle="--", marker="o", markersize=3,
            label=str(frontier.risk),
        )  # fmt: skip
    ax.set_xlabel("budget")
    ax.set_ylabel(f"projected {frontier.objective}")
    money_axis(ax.xaxis)
    if frontier.objective != "conversions":
        money_axis(ax.yaxis)
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(f"budget frontier under {frontier.risk} across {len(frontier.sets)} parameter sets")
    return fig


def plot_curves_across(worlds: WorldsCurves) -> Figure:
    """Each channel's response curve in every parameter set, one thin line per set, against the spend delivered;
    what today's booking delivers (in the first set) is marked.

    Parameters
    ----------
    worlds : WorldsCurves

    Returns
    -------
    matplotlib.figure.Figure
    """
    channels = worlds.curves[0].channels
    cols = min(3, len(channels))
    rows = -(-len(channels) // cols)
    fig = Figure(figsize=(3.6 * cols, 2.9 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, channels, strict=False):
        for curves in worlds.curves:
            curve = curves.curve(name)
            xs = np.linspace(0.0, curve.max_spend, 60)
            ax.plot(xs, curve(xs), color=PLANNED, alpha=0.25, linewidth=0.8)
        today = worlds.curves[0].curve(name)
        ax.axvline(today.to_delivered(today.current), color=CURRENT, linestyle="--", linewidth=0.8)
        ax.set_title(name)
        money_axis(ax.xaxis)
        money_axis(ax.yaxis)
    for ax in axes[len(channels) :]:
        ax.set_visible(False)
    fig.suptitle(f"response curves in {len(worlds.curves)} parameter sets (dashed: today's spend)")
    return fig
