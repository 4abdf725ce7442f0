"""Figures of research results: attribution models' credit per channel against the true incremental conversions.

They read an :class:`~mixsim.research.attribution.AttributionCheck` and compute nothing it does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import StrMethodFormatter

from mixsim.plots.style import TRUTH, channel_colors, channel_order, escape_dollars
from mixsim.tables import interval

if TYPE_CHECKING:
    from mixsim.research.attribution import AttributionCheck

__all__ = ["plot_attribution_check"]

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
    colors = channel_colors(channel_order(names, order))
    models = list(check.models)
    credit = check.credit.mean(axis=0)
    truth_mean, truth_low, truth_high = (np.asarray(v) for v in interval(check.truth))
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
        color=TRUTH,
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
        Line2D([], [], color=TRUTH, marker="D", linestyle="-", label="truth (channel off), 90% interval")
    ]
    handles += [
        Line2D([], [], color="0.45", marker=_MODEL_MARKERS[m % len(_MODEL_MARKERS)], linestyle="", label=model)
        for m, model in enumerate(models)
    ]
    left.legend(
        handles=handles, fontsize="small", frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=4
    )

    errors = check.share_error()
    mean, low, high = (np.asarray(v) for v in interval(errors))
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
        escape_dollars(
            f"{sc.name}: {check.truth.shape[0]} replications, seed {check.seed}, journeys of {check.share:.0%}"
        ),
        fontsize="medium",
    )
    return fig
