"""Budget optimization: response curves become a program whose solution is a plan, checked by simulation.

Owns response curves (model, measurement by simulation, reading a user's file), the problem description,
the linear program and its solvers, infeasibility explanations, the closed loop, verification and the
budget frontier, plans and their exports; :mod:`mixsim.optimize.weekly` does the same per channel and week.
It must not draw figures or parse command-line flags.

Where each concept lives, in the order of the pipeline:

- :mod:`~mixsim.optimize.curves` the curve model (:class:`Hill`, :class:`ResponseCurve`, :class:`CurveSet`,
  ``fit_hill``); :mod:`~mixsim.optimize.measure` measuring curves by simulation; :mod:`~mixsim.optimize.read`
  reading them from a CSV;
- :mod:`~mixsim.optimize.objectives` what each objective means; :mod:`~mixsim.optimize.problem` the
  :class:`Problem`;
- :mod:`~mixsim.optimize.formulate` the problem as a program and the plan its solution describes;
  :mod:`~mixsim.optimize.program` the program's matrix form and its solvers (HiGHS, CBC);
  :mod:`~mixsim.optimize.solving` :func:`solve`; :mod:`~mixsim.optimize.infeasible` why a problem has no plan;
- :mod:`~mixsim.optimize.loop` the closed loop :func:`optimize`; :mod:`~mixsim.optimize.verification`
  :func:`verify`; :mod:`~mixsim.optimize.budget_frontier` :func:`frontier`;
- :mod:`~mixsim.optimize.plan` the results (:class:`Plan`, :class:`Verification`, :class:`Frontier`);
  :mod:`~mixsim.optimize.export` writing plans as CSV, JSON or XLSX.

The names below load on first use (``import mixsim`` must not load NumPy, SciPy and the solvers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixsim._lazy import lazy_names

if TYPE_CHECKING:
    from mixsim.optimize.budget_frontier import frontier, scenario_frontier
    from mixsim.optimize.curves import CurveSet, Hill, ResponseCurve
    from mixsim.optimize.infeasible import explain_infeasible
    from mixsim.optimize.loop import optimize, optimize_run_count
    from mixsim.optimize.measure import DEFAULT_LEVELS, curve_run_count, response_curves
    from mixsim.optimize.objectives import OBJECTIVES, Objective
    from mixsim.optimize.plan import Frontier, Plan, Verification
    from mixsim.optimize.problem import Problem
    from mixsim.optimize.read import read_curves
    from mixsim.optimize.solving import solve
    from mixsim.optimize.verification import verify

_HOMES: dict[str, str] = {
    "CurveSet": "mixsim.optimize.curves",
    "DEFAULT_LEVELS": "mixsim.optimize.measure",
    "Frontier": "mixsim.optimize.plan",
    "Hill": "mixsim.optimize.curves",
    "OBJECTIVES": "mixsim.optimize.objectives",
    "Objective": "mixsim.optimize.objectives",
    "Plan": "mixsim.optimize.plan",
    "Problem": "mixsim.optimize.problem",
    "ResponseCurve": "mixsim.optimize.curves",
    "Verification": "mixsim.optimize.plan",
    "curve_run_count": "mixsim.optimize.measure",
    "explain_infeasible": "mixsim.optimize.infeasible",
    "frontier": "mixsim.optimize.budget_frontier",
    "optimize": "mixsim.optimize.loop",
    "optimize_run_count": "mixsim.optimize.loop",
    "read_curves": "mixsim.optimize.read",
    "response_curves": "mixsim.optimize.measure",
    "scenario_frontier": "mixsim.optimize.budget_frontier",
    "solve": "mixsim.optimize.solving",
    "verify": "mixsim.optimize.verification",
}
"""Where each public name lives; read on first use."""

__all__ = [
    "DEFAULT_LEVELS",
    "OBJECTIVES",
    "CurveSet",
    "Frontier",
    "Hill",
    "Objective",
    "Plan",
    "Problem",
    "ResponseCurve",
    "Verification",
    "curve_run_count",
    "explain_infeasible",
    "frontier",
    "optimize",
    "optimize_run_count",
    "read_curves",
    "response_curves",
    "scenario_frontier",
    "solve",
    "verify",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
