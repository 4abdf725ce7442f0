"""Budget optimization: response curves become a program whose solution is a plan, checked by simulation.

Owns response curves (model, measurement by simulation, reading a user's file), the problem description,
the linear program and its solvers, infeasibility explanations, the closed loop, verification and the
budget frontier, plans and their exports; :mod:`mixsim.optimizer.weekly` does the same per channel and week.
It must not draw figures or parse command-line flags.

Where each concept lives, in the order of the pipeline:

- :mod:`~mixsim.optimizer.curves` the curve model (:class:`Hill`, :class:`ResponseCurve`, :class:`CurveSet`,
  ``fit_hill``); :mod:`~mixsim.optimizer.measure` measuring curves by simulation; :mod:`~mixsim.optimizer.read`
  reading them from a CSV;
- :mod:`~mixsim.optimizer.objectives` what each objective means; :mod:`~mixsim.optimizer.problem` the
  :class:`Problem`;
- :mod:`~mixsim.optimizer.formulate` the problem as a program and the plan its solution describes;
  :mod:`~mixsim.optimizer.program` the program's matrix form and its solvers (HiGHS, CBC);
  :mod:`~mixsim.optimizer.solving` :func:`solve`; :mod:`~mixsim.optimizer.infeasible` why a problem has no plan;
- :mod:`~mixsim.optimizer.loop` the closed loop :func:`optimize`; :mod:`~mixsim.optimizer.verification`
  :func:`verify`; :mod:`~mixsim.optimizer.budget_frontier` :func:`frontier`;
- :mod:`~mixsim.optimizer.plan` the results (:class:`Plan`, :class:`Verification`, :class:`Frontier`);
  :mod:`~mixsim.optimizer.export` writing plans as CSV, JSON or XLSX.
"""

from __future__ import annotations

from mixsim.optimizer.budget_frontier import frontier, scenario_frontier
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve
from mixsim.optimizer.infeasible import explain_infeasible
from mixsim.optimizer.loop import optimize, optimize_run_count
from mixsim.optimizer.measure import DEFAULT_LEVELS, curve_run_count, response_curves
from mixsim.optimizer.objectives import OBJECTIVES, Objective
from mixsim.optimizer.plan import Frontier, Plan, Verification
from mixsim.optimizer.problem import Problem
from mixsim.optimizer.read import read_curves
from mixsim.optimizer.solving import solve
from mixsim.optimizer.verification import verify

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
