"""The closed loop: curves measured by simulation, solved, re-measured around the plan, solved again.

Channel interactions make true response non-separable: a curve measured with the other channels at today's
plan is accurate near today's plan only. :func:`optimize` therefore measures the curves around the current
plan, solves, measures again around the new plan and re-solves, keeping each re-solve within a shrinking trust
region, until the plan stops moving; on request it then verifies the plan by simulation
(:func:`mixsim.optimizer.verify`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
from collections.abc import Sequence

from mixsim.errors import InputError
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.infeasible import check_feasible
from mixsim.optimizer.measure import DEFAULT_LEVELS, curve_run_count, response_curves
from mixsim.optimizer.objectives import future_value_problems
from mixsim.optimizer.plan import Plan
from mixsim.optimizer.problem import SEGMENTS, TOLERANCE, Problem, argument_problems
from mixsim.optimizer.solving import solve
from mixsim.optimizer.verification import verify, verify_run_count
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import ProgressCallback, root_seed

__all__ = ["optimize", "optimize_run_count"]


def optimize(
    scenario: Scenario,
    *,
    budget: float | None = None,
    objective: str = "revenue",
    target: float | None = None,
    max_change: float | None = None,
    seed: int | None = None,
    replications: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    max_iterations: int = 3,
    tolerance: float = 0.02,
    solver: str = "auto",
    segments: int = SEGMENTS,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
    curves: CurveSet | None = None,
    verify_replications: int = 0,
    locked: Sequence[str] = (),
    with_future_value: bool = False,
) -> Plan:
    """Optimize a scenario's budget with curves measured by simulation, re-measured around the plan.

    The curves are measured around the current plan and the program solved; then, up to ``max_iterations``
    solves in all, the curves are measured again around the new plan (the other channels held at it) and the
    program re-solved, until no channel's spend moves by more than ``tolerance`` of the budget. Re-solves are
    kept within a shrinking trust region around the plan the curves were measured at (each channel within
    25%, then 12.5%, ... of the budget of it), where the re-measured curves are accurate; the steps shrink,
    so the loop settles rather than oscillates between plans that each look best from the other.

    Parameters
    ----------
    scenario : Scenario
        The scenario; its channel spends are the current plan and its ``[budget]`` the constraints.
    budget : float, optional
        Default the scenario's ``budget.total``.
    objective, target, max_change, segments
        As for :class:`Problem`.
    seed : int, optional
        Root seed of the curve measurements; default the scenario's, else 0.
    replications : int, default=5
        Replications per curve level.
    levels : sequence of float, default=DEFAULT_LEVELS
        Curve levels, as multiples of each channel's spend in the plan measured around.
    max_iterations : int, default=3
        Most solves (1: no re-measuring).
    tolerance : float, default=0.02
        The plan has stopped moving when no channel moves by more than this share of the budget.
    solver : {"auto", "highs", "cbc"}, default="auto"
    workers, executor, progress
        As for :func:`mixsim.simulate`; ``progress`` restarts its count for each measurement.

    curves : CurveSet, optional
        Curves already measured around the current plan with the same seed, replications and levels (e.g. for a
        figure): the first solve uses them instead of measuring them again.
    verify_replications : int, default=0
        When above 0, an optimal plan comes back verified: simulated against the current plan with this many
        paired replications (:func:`~mixsim.optimizer.verify`, same seed and workers).
    locked : sequence of str, default=()
        Channels that keep today's spend (they are still measured, and their curves still shape the others').
    with_future_value : bool, default=False
        Count in revenue the future value of the customers active at the end of the horizon
        (:func:`mixsim.value.future_value`), in the curves and in the check of the plan: a plan is then not blind
        to the customers it wins late. Needs a scenario with ``economics.future_value = "expected"``.

    Returns
    -------
    Plan
        With ``iterations``, ``moves`` and ``converged`` reporting the closed loop, and its ``verification``
        when asked.

    Raises
    ------
    InputError
        For arguments a problem would refuse (checked before any curve is measured).
    InfeasibleError
        For limits and groups that cannot hold against the budget whatever the curves
        (:func:`~mixsim.optimizer.infeasible.check_feasible`, also before any curve is measured).

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> plan = mixsim.optimize(scenario, seed=1, replications=1, levels=(0, 0.5, 1, 2), max_iterations=1)
    >>> plan.status, round(plan.to_frame("totals").loc[0, "spend"]) <= scenario.budget.total
    ('optimal', True)
    """
    # Checked before any simulation: a mistake here should not cost the minutes curves take to measure.
    problems = argument_problems(
        objective=objective,
        target=target,
        order_value=require_scenario(scenario).economics.order_value,
        budget=scenario.budget_total if budget is None else budget,
        max_change=max_change,
        segments=segments,
    )
    if max_iterations < 1:
        problems.append(f"max_iterations: must be >= 1 (got {max_iterations})")
    if with_future_value:
        problems += future_value_problems(scenario, objective)
    if verify_replications < 0:
        problems.append(f"verify_replications: must be >= 0 (got {verify_replications})")
    unknown = [name for name in locked if name not in scenario.channel_names]
    if unknown:
        problems.append(
            f"locked: no channel {', '.join(map(repr, unknown))} (channels: {', '.join(scenario.channel_names)})"
        )
    if problems:
        raise InputError(problems)
    check_feasible(scenario, budget=budget, max_change=max_change, locked=locked)  # limits against the budget
    seed = root_seed(scenario, seed)
    plan = _closed_loop(
        scenario,
        curves,
        budget=budget,
        objective=objective,
        target=target,
        max_change=max_change,
        seed=seed,
        replications=replications,
        levels=levels,
        max_iterations=max_iterations,
        tolerance=tolerance,
        solver=solver,
        segments=segments,
        workers=workers,
        executor=executor,
        progress=progress,
        locked=tuple(locked),
        with_future_value=with_future_value,
    )
    plan = dataclasses.replace(plan, overrides=scenario.overrides, scenario_source=scenario.source or scenario.name)
    if verify_replications > 0 and plan.optimal:
        plan = verify(
            scenario,
            plan,
            seed=seed,
            replications=verify_replications,
            workers=workers,
            executor=executor,
            progress=progress,
            with_future_value=with_future_value,
        )
    return plan


def _closed_loop(
    scenario: Scenario,
    given: CurveSet | None,
    *,
    budget: float | None,
    objective: str,
    target: float | None,
    max_change: float | None,
    seed: int,
    replications: int,
    levels: Sequence[float],
    max_iterations: int,
    tolerance: float,
    solver: str,
    segments: int,
    workers: int,
    executor: cf.Executor | None,
    progress: ProgressCallback | None,
    locked: tuple[str, ...],
    with_future_value: bool = False,
) -> Plan:
    """The loop of :func:`optimize` (arguments checked, seed resolved): the last plan, with its notes."""
    current = {c.name: c.spend for c in scenario.channels}
    around: dict[str, float] | None = None
    moves: list[float] = []
    plan: Plan | None = None
    for iteration in range(1, max_iterations + 1):
        curves = (
            given
            if iteration == 1 and given is not None
            else response_curves(
                scenario,
                seed=seed,
                replications=replications,
                levels=levels,
                around=around,
                budget=budget,
                workers=workers,
                executor=executor,
                progress=progress,
                with_future_value=with_future_value,
            )
        )
        problem = Problem.from_scenario(
            scenario,
            curves,
            budget=budget,
            objective=objective,
            target=target,
            max_change=max_change,
            segments=segments,
            locked=locked,
        )
        problem = dataclasses.replace(problem, current=current)
        if plan is not None:
            problem = dataclasses.replace(problem, anchor=plan.allocation, radius=0.5**iteration)
        new = solve(problem, solver)
        if plan is not None:
            # The current plan's simulated total comes from the first measurement, the one around it.
            new = dataclasses.replace(new, current_total_revenue=plan.current_total_revenue)
        if not new.optimal:
            if plan is None:
                return dataclasses.replace(new, iterations=iteration, moves=tuple(moves))
            # Re-measured around the plan, a channel can deliver less than the constraints demand: keep the
            # last plan that held, and say why the loop stopped.
            reason = f"the loop stopped at solve {iteration}: re-measured curves made it infeasible ({new.message})"
            return dataclasses.replace(plan, converged=False, notes=(*plan.notes, reason))
        if plan is not None:
            scale = max(new.budget, 1.0)
            moves.append(max(abs(new.allocation[k] - plan.allocation[k]) for k in current) / scale)
        settled = bool(moves) and moves[-1] <= tolerance
        plan = dataclasses.replace(
            new, iterations=iteration, moves=tuple(moves), converged=settled or max_iterations == 1
        )
        if settled:
            break
        around = plan.bookings  # measured around the plan as booked, so the plan point delivers its spend
    assert plan is not None
    if plan.current_spend > plan.budget + TOLERANCE:
        note = (
            f"the current plan costs {plan.current_spend:,.0f} with its fixed costs, more than the budget "
            f"{plan.budget:,.0f}"
        )
        plan = dataclasses.replace(plan, notes=(*plan.notes, note))
    if not plan.converged:
        last = f"{plan.moves[-1]:.1%}" if plan.moves else "unknown"
        note = f"the plan had not settled after {plan.iterations} solves (last move {last} of the budget)"
        plan = dataclasses.replace(plan, notes=(*plan.notes, note))
    return plan


def optimize_run_count(
    scenario: Scenario,
    *,
    replications: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    max_iterations: int = 3,
    verify_replications: int = 0,
) -> int:
    """The most engine runs :func:`optimize` makes with these arguments (for a progress bar).

    Each solve measures the curves once; a loop that settles sooner makes fewer.
    """
    return curve_run_count(scenario, replications, levels) * max_iterations + verify_run_count(verify_replications)
