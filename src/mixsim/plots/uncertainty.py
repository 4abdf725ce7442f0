"""Figures across a posterior's parameter sets: plans' outcomes side by side, one point per parameter set.

They read a :class:`~mixsim.uncertainty.paired.WorldsComparison`; they simulate and solve nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from mixsim.errors import InputError
from mixsim.plots.style import CURRENT, PLANNED, money_axis

if TYPE_CHECKING:
    from mixsim.uncertainty.paired import WorldsComparison

__all__ = ["plot_outcomes"]


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
