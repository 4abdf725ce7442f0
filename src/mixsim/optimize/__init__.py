"""Budget optimization: response curves become a program whose solution is a plan, checked by simulation.

Owns response curves (model, measurement by simulation, reading a user's file), the problem description,
the linear program and its solvers, infeasibility explanations, the closed loop, verification and the
budget frontier, plans and their exports; :mod:`mixsim.optimize.weekly` does the same per channel and week.
It must not draw figures or parse command-line flags.

The names below load on first use (``import mixsim`` must not load SciPy and the solvers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixsim._lazy import lazy_names

if TYPE_CHECKING:
    from mixsim.optimize.loop import OBJECTIVES, Problem, explain_infeasible, frontier, optimize, solve, verify

__all__ = ["OBJECTIVES", "Problem", "explain_infeasible", "frontier", "optimize", "solve", "verify"]

__getattr__, __dir__ = lazy_names(__name__, {name: "mixsim.optimize.loop" for name in __all__})
