"""Figures of a calibration: the fitted simulation against the observed KPI over time, with the holdout shaded and
the lift tests reproduced (:func:`plot_fit`), and each parameter's posterior against its prior
(:func:`plot_posterior`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from mixsim.plots.style import PALETTE, TRUTH, escape_dollars

if TYPE_CHECKING:
    from mixsim.calibration.calibrate import Calibrated

__all__ = ["plot_fit", "plot_posterior"]


def plot_fit(result: Calibrated) -> Figure:
    """Observed and simulated KPI per period (the simulated mean with the band holding 90% of the check runs), the
    holdout shaded; beside it, when there are lift tests, each test observed (with ±2 standard errors) against its
    reproduction by the fitted scenario (with its 90% band)."""
    tests = result.experiment_values()
    fig = Figure(figsize=(11.0 if tests else 8.0, 3.8), layout="constrained")
    axes = fig.subplots(1, 2, width_ratios=(3, 1)) if tests else [fig.subplots()]
    ax = axes[0]
    frame = result.to_frame()
    x = np.arange(len(frame))
    ax.fill_between(x, frame["low"], frame["high"], color=PALETTE[0], alpha=0.2, linewidth=0, label="simulated, 90%")
    ax.plot(x, frame["simulated"], color=PALETTE[0], label="simulated (mean)")
    ax.plot(x, frame["observed"], color=TRUTH, marker=".", linewidth=1.0, label="observed")
    train = result.history.train_periods
    if train < len(frame):
        ax.axvspan(train - 0.5, len(frame) - 0.5, color="0.9", zorder=0, label="holdout")
    stats = result.statistics()
    ax.set_title(escape_dollars(
        f"{result.history.kpi}: train R² {stats['train']['r2']:.2f}, holdout MAPE "
        + (f"{stats['holdout']['mape']:.0%}" if math.isfinite(stats["holdout"]["mape"]) else "n/a")
    ))  # fmt: skip
    ax.set_xlabel("period of the history")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    if tests:
        tax = axes[1]
        for k, test in enumerate(tests):
            se = test["standard_error"]
            err = 2 * se if se is not None and math.isfinite(se) else 0.0
            tax.errorbar(
                [k - 0.1], [test["observed"]], yerr=[err], fmt="o", color=TRUTH, label="observed" if k == 0 else None
            )
            low, high = test["simulated"]["ci90"]
            mean = test["simulated"]["mean"]
            tax.errorbar([k + 0.1], [mean], yerr=[[mean - low], [high - mean]], fmt="s", color=PALETTE[0],
                         label="simulated" if k == 0 else None)  # fmt: skip
        tax.set_xticks(range(len(tests)), [escape_dollars(t["channel"]) for t in tests])
        tax.set_xlim(-0.5, len(tests) - 0.5)
        tax.set_title("lift tests")
        tax.legend(fontsize="small", frameon=False)
    return fig


def plot_posterior(result: Calibrated) -> Figure:
    """Each parameter's posterior (a weighted histogram in the prior's own scale, log for a log prior) against its
    prior (uniform there), the point estimate marked; a parameter the data did not inform says so in its title."""
    posterior = result.posterior
    if posterior is None:
        raise ValueError("no posterior to draw: calibrate with particles > 0")
    params = posterior.parameters
    cols = min(3, len(params))
    rows = math.ceil(len(params) / cols)
    fig = Figure(figsize=(3.6 * cols, 2.6 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    summary = posterior.summary()
    for k, p in enumerate(params):
        ax = axes[k]
        ax.hist(posterior.unit[:, k], bins=12, range=(0, 1), weights=posterior.weights, density=True,
                color=PALETTE[0], alpha=0.7, label="posterior")  # fmt: skip
        ax.axhline(1.0, color="0.5", linestyle="--", label="prior")
        ax.axvline(p.to_unit(result.point.values[k]), color=TRUTH, label="point")
        ax.set_xticks([0, 0.5, 1], [f"{p.low:.3g}", f"{p.from_unit(0.5):.3g}", f"{p.high:.3g}"])
        informed = "" if summary[p.key]["informed"] else " (not informed)"
        ax.set_title(escape_dollars(p.key + informed), fontsize="small")
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize="x-small", frameon=False)
    return fig
