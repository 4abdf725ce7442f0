"""Figures of results: response curves, the budget frontier, an allocation against the current plan and a
week-level plan's flighting (:mod:`~mixsim.plots.plans`); the funnel over time, customer journeys, attribution
against the truth and what-if comparisons (:mod:`~mixsim.plots.simulation`); attribution models against the truth
(:mod:`~mixsim.plots.research`); a calibration's fit and posterior (:mod:`~mixsim.plots.calibration`); the palette,
channel colours and :func:`save_figure` (:mod:`~mixsim.plots.style`).

Plotting consumes result objects only; it must not simulate, solve or change a result, and nothing in the engine,
the optimizer or the command line imports it at module level (it loads matplotlib). Figures are built with the
object-oriented API (:class:`matplotlib.figure.Figure`, no pyplot), so they need no GUI backend and touch no
global figure state; :func:`save_figure` writes them atomically.
"""

from __future__ import annotations

from mixsim.plots.plans import plot_allocation, plot_curves, plot_flighting, plot_frontier
from mixsim.plots.research import plot_attribution_check
from mixsim.plots.simulation import plot_attribution, plot_comparison, plot_funnel, plot_journeys
from mixsim.plots.style import PALETTE, STAGE_COLORS, channel_colors, save_figure

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
