"""Budget optimization: response curves become a program whose solution is a plan, checked by simulation.

Owns response curves (model, measurement by simulation, reading a user's file), the problem description,
the linear program and its solvers, infeasibility explanations, the closed loop, verification and the
budget frontier, plans and their exports; :mod:`mixsim.optimize.weekly` does the same per channel and week.
It must not draw figures or parse command-line flags.
"""

from mixsim.optimize.loop import OBJECTIVES, Problem, explain_infeasible, frontier, optimize, solve, verify

__all__ = ["OBJECTIVES", "Problem", "explain_infeasible", "frontier", "optimize", "solve", "verify"]
