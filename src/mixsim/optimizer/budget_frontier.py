"""The budget frontier: the optimal plan of one problem at each of a series of budgets.

:func:`frontier` solves a described problem at each budget; :func:`scenario_frontier` first measures a
scenario's curves around its plan (once: the frontier is read off those curves, not re-measured per budget).
(The module is not called ``frontier``: that name is the function, exported by :mod:`mixsim.optimizer`.)
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
from collections.abc import Sequence

from mixsim.errors import InfeasibleError, InputError
from mixsim.optimizer.infeasible import scenario_conflict
from mixsim.optimizer.measure import DEFAULT_LEVELS, response_curves
from mixsim.optimizer.objectives import future_value_problems
from mixsim.optimizer.plan import Frontier
from mixsim.optimizer.problem import Problem, argument_problems
from mixsim.optimizer.solving import solve
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import ProgressCallback

__all__ = ["frontier", "scenario_frontier"]


def frontier(problem: Problem, budgets: Sequence[float], solver: str = "auto") -> Frontier:
    """The optimal plan of ``problem`` at each budget (the same curves and constraints otherwise).

    Budgets below what the constraints force give infeasible plans (rows of NaN in the table);
    :meth:`Frontier.check <mixsim.optimizer.plan.Frontier.check>` raises when no budget has a plan.
    """
    return Frontier(tuple(solve(dataclasses.replace(problem, budget=float(b)), solver) for b in budgets))


def scenario_frontier(
    scenario: Scenario,
    budgets: Sequence[float],
    *,
    objective: str = "revenue",
    target: float | None = None,
    max_change: float | None = None,
    seed: int | None = None,
    replications: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    solver: str = "auto",
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
    with_future_value: bool = False,
) -> Frontier:
    """The frontier of a scenario's problem (its ``[budget]`` limits and groups) over curves measured around
    its plan.

    Parameters
    ----------
    scenario : Scenario
        The scenario; its channel spends are the plan the curves are measured around.
    budgets : sequence of float
        The budgets to solve at.
    objective, target, max_change
        As for :class:`~mixsim.optimizer.Problem`.
    seed, replications, levels, workers, executor, progress
        As for :func:`~mixsim.response_curves` (:func:`~mixsim.optimizer.measure.curve_run_count` runs).
    solver : {"auto", "highs", "cbc"}, default="auto"
    with_future_value : bool, default=False
        Count in revenue the future value of the customers active at the end (as :func:`~mixsim.optimize`).

    Raises
    ------
    InputError
        For arguments a problem would refuse (checked before any curve is measured).
    InfeasibleError
        When the limits and groups cannot hold at any of the budgets, whatever the curves (also before any curve
        is measured; the sentence is :meth:`Frontier.check <mixsim.optimizer.plan.Frontier.check>`'s). Budgets
        where they cannot hold while others can come back as infeasible plans, each saying why.
    """
    problems = argument_problems(
        objective=objective,
        target=target,
        order_value=require_scenario(scenario).economics.order_value,
        budget=scenario.budget_total,
        max_change=max_change,
    )
    problems += [f"budgets: must be finite numbers >= 0 (got {b})" for b in budgets if not 0 <= float(b) < math.inf]
    if with_future_value:
        problems += future_value_problems(scenario, objective)
    if problems:
        raise InputError(problems)
    # Budgets where the limits and groups cannot hold come back infeasible; when none can, say so before measuring.
    conflicts = [scenario_conflict(scenario, budget=float(b), max_change=max_change) for b in budgets]
    if conflicts and all(conflicts):
        raise InfeasibleError(f"no budget from {min(budgets):,.0f} to {max(budgets):,.0f} is feasible: {conflicts[-1]}")
    curves = response_curves(
        scenario,
        seed=seed,
        replications=replications,
        levels=levels,
        workers=workers,
        executor=executor,
        progress=progress,
        with_future_value=with_future_value,
    )
    problem = Problem.from_scenario(scenario, curves, objective=objective, target=target, max_change=max_change)
    return frontier(problem, budgets, solver)
