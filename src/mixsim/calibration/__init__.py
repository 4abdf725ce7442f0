"""Calibration to a business's own data: its history of spend and sales (:mod:`~mixsim.calibration.history`), and
the scenario replayed over it (:mod:`~mixsim.calibration.replay`) with the fit statistics marketing-mix modellers
know (:mod:`~mixsim.calibration.fit`). It runs the engine through :func:`mixsim.simulate` and never reaches into
its internals; it must not print or draw (the command line and the report do)."""

from __future__ import annotations

from mixsim.calibration.fit import fit_statistics
from mixsim.calibration.history import MIN_WEEKS, History, read_history
from mixsim.calibration.replay import history_scenario, simulated_kpi

__all__ = ["MIN_WEEKS", "History", "fit_statistics", "history_scenario", "read_history", "simulated_kpi"]
