"""Solving a problem into a plan: formulate the program, run a solver, read the plan.

:func:`solve` is the one entry: infeasible problems come back as a plan with that status and a sentence of
why (:mod:`mixsim.optimizer.infeasible`), a solver failure as :class:`~mixsim.errors.SolverError`. Where the
budget binds at a degenerate vertex the solvers' duals are not what the next dollar returns, so the budget's
shadow price is read off the plan itself. (The module is not called ``solve``: that name is the function,
exported by :mod:`mixsim.optimizer`.)
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from mixsim.optimizer.formulate import Layout, formulate, read_plan
from mixsim.optimizer.infeasible import infeasible_plan, overlapping_shares
from mixsim.optimizer.plan import Plan
from mixsim.optimizer.problem import TOLERANCE, Problem
from mixsim.optimizer.program import OPTIMAL, Program, choose
from mixsim.optimizer.program import solve as solve_program

__all__ = ["solve"]


def solve(problem: Problem, solver: str = "auto") -> Plan:
    """Solve ``problem``.

    Parameters
    ----------
    problem : Problem
        The described problem.
    solver : {"auto", "highs", "cbc"}, default="auto"
        HiGHS (highspy) when installed, CBC (bundled with PuLP) otherwise.

    Returns
    -------
    Plan
        Status ``"optimal"``, or ``"infeasible"`` with a message naming the conflict (see :meth:`Plan.check`).

    Raises
    ------
    SolverError
        If the solver fails for a reason other than infeasibility.
    """
    started = time.perf_counter()
    if any(lo > hi + TOLERANCE for lo, _, hi, _ in problem.bounds()) or overlapping_shares(problem):
        return infeasible_plan(problem, solver, time.perf_counter() - started, 0.0, choose(solver))
    program, layout = formulate(problem)
    built = time.perf_counter() - started
    sol = solve_program(program, solver)
    if sol.status != OPTIMAL:
        return infeasible_plan(problem, solver, built, sol.seconds, sol.solver)
    plan = read_plan(problem, program, layout, sol, built)
    if any(b.name == "budget" for b in plan.binding):
        # Where the plan sits on a breakpoint, or every channel is at its maximum, the budget row's dual is not
        # unique (a degenerate vertex): HiGHS and CBC may return different valid duals, none of them what the
        # next dollar returns. With the budget the only constraint across channels, the next dollar goes to the
        # best segment with room left; otherwise a hair more budget leaves the vertex, and the dual there is it.
        onward = _next_dollar(problem, program, layout, sol.x)
        if onward is not None:
            return dataclasses.replace(plan, shadow_price=onward)
        step = 1e-6 * max(problem.budget, 1.0)
        more, layout_more = formulate(dataclasses.replace(problem, budget=problem.budget + step))
        after = solve_program(more, solver)
        if after.status == OPTIMAL and len(after.duals):
            # An upper bound's worth is minus its dual in the minimization, whatever the objective.
            onward = max(-float(after.duals[layout_more.rows["budget"]]), 0.0) + 0.0
            plan = dataclasses.replace(plan, shadow_price=onward)
    return plan


def _next_dollar(problem: Problem, program: Program, layout: Layout, x: np.ndarray) -> float | None:
    """What one more dollar of budget returns, read off a concave LP whose only constraint across channels is
    the budget (None otherwise): the best next segment of any channel with room left, or nothing."""
    if problem.groups or problem.objective not in ("revenue", "conversions", "profit") or program.integer.any():
        return None
    best = 0.0
    curves = problem.curves
    for k, (_, _, hi, hi_why) in enumerate(problem.bounds()):
        seg = layout.segments[k]
        used = x[seg]
        if not len(seg):
            continue
        # Full within a millionth of its own amount (solvers' values are exact to about this, CBC's to 8 digits),
        # never of the budget's: a channel of 2,000 is not full at 0 because the budget is 3e9.
        if used.sum() >= hi * (1 - TOLERANCE):
            if hi_why == "the budget":
                # Held only by the budget itself: a dollar more of budget is a dollar more this channel can take.
                revenue = float(curves.curves[k].marginal(hi))
                worth = {"revenue": revenue, "profit": revenue * curves.margin - 1.0}.get(
                    problem.objective, revenue / curves.order_value
                )
                best = max(best, worth)
            continue
        room = np.flatnonzero(used < layout.lengths[k] * (1 - TOLERANCE))
        if len(room):
            best = max(best, -float(program.cost[seg[room[0]]]))  # segments of a concave curve fill in order
    return best + 0.0
