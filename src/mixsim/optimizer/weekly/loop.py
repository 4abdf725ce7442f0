"""The week-level closed loop with the simulator: measure channel-week curves around a plan, solve, measure
around the new plan and solve again; verify a plan by simulation; and :func:`plan_weekly`, the whole job in one
call (the money, the starting plan, the checks, the loop and the verification).

The channel-level counterparts are :func:`mixsim.optimizer.optimize` and :func:`mixsim.optimizer.verify`.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mixsim.errors import InfeasibleError, InputError
from mixsim.optimizer.plan import Verification
from mixsim.optimizer.weekly.curves import (
    WEEK_LEVELS,
    WeekCurves,
    _average_week,
    _check_replications,
    measure_week_curves,
    outcomes,
    week_run_count,
    week_spend,
    with_week_spend,
)
from mixsim.optimizer.weekly.plan import WeeklyPlan
from mixsim.optimizer.weekly.problem import WeeklyProblem, check_settings, minimums_conflict, money
from mixsim.optimizer.weekly.solve import solve_weekly
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import root_seed, simulate

if TYPE_CHECKING:
    from mixsim.results import SimulationResult

__all__ = [
    "GAIN_TOLERANCE",
    "VERIFY_WEEK_KEY",
    "optimize_weekly",
    "plan_weekly",
    "plan_weekly_runs",
    "projected_funnel",
    "starting_plan",
    "verify_weekly",
]

VERIFY_WEEK_KEY = 0x3EED
"""Spawn key of a week-level plan's verification runs (out of sample)."""

GAIN_TOLERANCE = 0.05
"""Default most change in projected gain between solves of a converged closed loop, as a share of the gain."""


def _check_money(budget: float | None, committed: np.ndarray | None, additional: float | None) -> None:
    """The money is a budget, or committed spend plus additional money: never a mix, never half of the second."""
    problems = []
    if additional is not None and committed is None:
        problems.append("additional: only with committed spend (without committed spend, give a budget)")
    if committed is not None and additional is None:
        problems.append("committed: give the additional money too (the new money on top of what is bought)")
    if additional is not None and budget is not None:
        problems.append("budget: not with additional money (the money is then committed + additional)")
    if problems:
        raise InputError(problems)


def plan_weekly(
    scenario: Scenario,
    *,
    budget: float | None = None,
    week_min: Mapping[str, float] | None = None,
    week_max: Mapping[str, float] | None = None,
    min_weeks_on: Mapping[str, int] | None = None,
    max_dark_weeks: Mapping[str, int] | None = None,
    pacing_weeks: int | None = None,
    pacing_share: float | None = None,
    locked: Sequence[str] = (),
    committed: np.ndarray | None = None,
    additional: float | None = None,
    seed: int | None = None,
    replications: int = 2,
    levels: Sequence[float] = WEEK_LEVELS,
    every: int = 1,
    max_iterations: int = 3,
    tolerance: float = 0.02,
    gain_tolerance: float = GAIN_TOLERANCE,
    solver: str = "auto",
    verify_replications: int = 0,
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WeeklyPlan:
    """A week-level plan for ``scenario``: every setting checked first, then the closed loop from the current
    flighting (raised to committed spend where more is bought), then, if asked, the verification.

    Parameters
    ----------
    scenario : Scenario
    budget : float, optional
        Most media spend over the horizon; default the scenario's ``budget.total`` less its channels' fixed costs
        (a week-level plan places media spend only). Not used when ``additional`` is given.
    week_min, week_max, min_weeks_on, max_dark_weeks, pacing_weeks, pacing_share, locked, committed, additional
        The time constraints and the money, as for :class:`WeeklyProblem` (``committed`` from
        :func:`~mixsim.optimizer.weekly.read_committed`).
    seed, replications, levels, every, max_iterations, tolerance, gain_tolerance, solver
        As for :func:`optimize_weekly`.
    verify_replications : int, default=0
        Replications of :func:`verify_weekly` for an optimal plan (0: not verified).
    executor, progress
        Where the runs go, and ``progress(done, total)`` over them (:func:`plan_weekly_runs` says how many).

    Returns
    -------
    WeeklyPlan
        With ``verification`` when ``verify_replications`` > 0 and the plan is optimal.

    Raises
    ------
    InputError
        Before any run: every unknown channel, setting out of range and conflict among the settings
        (:func:`check_settings`), and measurement options out of range.
    InfeasibleError
        Before any run, when the least spend the settings force is more than the money
        (:func:`minimums_conflict`).

    Examples
    --------
    >>> plan = plan_weekly(scenario, locked=["email"], pacing_weeks=4, pacing_share=0.4)  # doctest: +SKIP
    >>> plan.to_frame(wide=True)  # doctest: +SKIP
    """
    require_scenario(scenario)
    _check_money(budget, committed, additional)
    current = week_spend(scenario)
    settings: dict[str, Any] = {
        "budget": scenario.budget_total - scenario.fixed_costs if budget is None else budget,
        "week_min": dict(week_min or {}),
        "week_max": dict(week_max or {}),
        "min_weeks_on": dict(min_weeks_on or {}),
        "max_dark_weeks": dict(max_dark_weeks or {}),
        "pacing_weeks": pacing_weeks,
        "pacing_share": pacing_share,
        "locked": tuple(locked),
        "committed": committed,
        "additional": additional,
    }
    total = money(settings["budget"], committed, additional)
    check_settings(scenario.channel_names, current.shape[1], **settings, current=current, total=total)
    if conflict := minimums_conflict(scenario.channel_names, current.shape[1], total, **settings, current=current):
        raise InfeasibleError(conflict)  # no curve can lower what the settings force: say so before measuring
    _check_loop(max_iterations, verify_replications, tolerance, gain_tolerance)
    start = starting_plan(scenario, committed)
    week_run_count(start, replications, levels, every, scenario.seasonality)  # refuses bad measurement options now
    plan = optimize_weekly(
        scenario,
        lambda curves: WeeklyProblem(curves, **settings),
        seed=seed,
        replications=replications,
        levels=levels,
        every=every,
        around=start,
        max_iterations=max_iterations,
        tolerance=tolerance,
        gain_tolerance=gain_tolerance,
        solver=solver,
        executor=executor,
        progress=progress,
    )
    plan = dataclasses.replace(plan, overrides=scenario.overrides, scenario_source=scenario.source or scenario.name)
    if verify_replications and plan.optimal:
        plan = verify_weekly(
            scenario, plan, seed=seed, replications=verify_replications, executor=executor, progress=progress
        )
    return plan


def plan_weekly_runs(
    scenario: Scenario,
    *,
    committed: np.ndarray | None = None,
    replications: int = 2,
    levels: Sequence[float] = WEEK_LEVELS,
    every: int = 1,
    max_iterations: int = 3,
    verify_replications: int = 0,
) -> int:
    """The simulation runs :func:`plan_weekly` makes at most with these settings (for a progress bar).

    Each measurement is counted as the first, around the starting plan; later ones are around other plans and may
    share a few more runs.
    """
    _check_loop(max_iterations, verify_replications)
    per_measure = week_run_count(starting_plan(scenario, committed), replications, levels, every, scenario.seasonality)
    return max_iterations * per_measure + 2 * verify_replications


def starting_plan(scenario: Scenario, committed: np.ndarray | None = None) -> np.ndarray:
    """Where the closed loop starts: the current flighting (:func:`week_spend`), raised to ``committed`` spend
    wherever more is already bought, so that the start meets what is bought."""
    current = week_spend(scenario)
    return current if committed is None else np.maximum(current, committed)


def _check_loop(
    max_iterations: int, verify_replications: int = 0, tolerance: float = 0.0, gain_tolerance: float = 0.0
) -> None:
    problems = []
    if max_iterations < 1:
        problems.append(f"max_iterations: must be >= 1 (got {max_iterations})")
    for name, value in (("tolerance", tolerance), ("gain_tolerance", gain_tolerance)):
        if not value >= 0.0:  # NaN too
            problems.append(f"{name}: must be >= 0 (got {value})")
    if verify_replications < 0:
        problems.append(f"verify_replications: must be >= 0 (got {verify_replications})")
    if problems:
        raise InputError(problems)


def optimize_weekly(
    scenario: Scenario,
    problem: Callable[[WeekCurves], WeeklyProblem],
    *,
    seed: int | None = None,
    replications: int = 2,
    levels: Sequence[float] = WEEK_LEVELS,
    every: int = 1,
    around: np.ndarray | None = None,
    max_iterations: int = 3,
    tolerance: float = 0.02,
    gain_tolerance: float = GAIN_TOLERANCE,
    solver: str = "auto",
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WeeklyPlan:
    """Measure channel-week curves around a starting plan, solve, then measure around the new plan and solve
    again within a trust region, until the loop converges or ``max_iterations`` solves are made.

    The loop converges when a solve both moves no more than ``tolerance`` of the money between channel-weeks
    and changes the projected gain (the plan's projected revenue less the current flighting's, on the curves it
    was solved on) by no more than ``gain_tolerance`` from the solve before. The change is a share of the larger
    of the two gains (or of 1 currency unit, if both are smaller); the first solve's is from the starting plan's
    gain on the same curves, so a start the first solve keeps converges at once. Either alone can mislead: a plan
    that stops moving can still be projected differently each time its curves are measured again (too few
    replications), and a projection that stops changing can come from plans that still swap money around.

    Each measurement also simulates the plan it is measured around (on the same random numbers every time). The
    first plan is always taken (the start may break the budget or a limit). After it, a plan that earns less,
    simulated, than the plan it moved from is set aside: the loop solves again from the earlier plan within half
    the region. A plan that earns less than a quarter of the gain its curves projected is kept, but the region
    halves. The first solve ranges over the whole measured curves; the region then starts at half of each
    channel-week's spend (or its channel's average week, if larger) around the plan.

    Parameters
    ----------
    scenario : Scenario
    problem : callable
        Builds the :class:`WeeklyProblem` (budget and constraints) for a set of curves.
    seed, replications, levels, every, executor, progress
        As for :func:`measure_week_curves`.
    around : ndarray, shape (channels, weeks), optional
        The plan to start from (default the scenario's flighting); start from one that meets committed spend.
    max_iterations : int, default=3
        Most solves (each follows a measurement).
    tolerance : float, default=0.02
        Most money a solve of a converged loop moves between channel-weeks (half the sum of absolute changes), as
        a share of the money.
    gain_tolerance : float, default=0.05
        Most change in projected gain from the solve before, for a converged loop (see above).
    solver : {"auto", "highs", "cbc"}

    Returns
    -------
    WeeklyPlan
        The last solve's plan, with ``iterations``, ``moves``, ``gain_changes``, ``converged`` (and in words
        ``convergence``), both tolerances, ``rejected`` and ``runs``, and the seed and replications of its curves.

    Raises
    ------
    InputError
        If ``max_iterations`` < 1, a tolerance is negative, a setting of the problem is out of range, or a
        measurement option is.
    """
    _check_loop(max_iterations, 0, tolerance, gain_tolerance)
    start = week_spend(scenario) if around is None else np.asarray(around, dtype=float)

    def measure(plan: np.ndarray) -> WeekCurves:
        return measure_week_curves(
            scenario, seed=seed, replications=replications, levels=levels, around=plan, every=every,
            executor=executor, progress=progress,
        )  # fmt: skip

    current = week_spend(scenario)  # what locks keep, and what the plan is compared with
    anchor, curves = start, measure(start)
    runs = curves.runs
    scale = 0.5
    region: np.ndarray | None = None  # the first solve ranges over the whole measured curves
    moves: list[float] = []
    changes: list[float] = []
    # The gain before the first solve: the start's, on the curves measured around it.
    before = float(curves.response(start).sum() - curves.response(current).sum())
    rejected = 0
    for iteration in range(1, max_iterations + 1):
        described = problem(dataclasses.replace(curves, current=current))
        if region is not None:
            described = dataclasses.replace(described, anchor=anchor, radius=region)
        plan = solve_weekly(described, solver)
        if plan.optimal:
            moves.append(float(np.abs(plan.spend - anchor).sum() / 2 / max(plan.total, 1.0)))
            changes.append(_gain_change(plan.projected_gain, before))
            before = plan.projected_gain
        converged = plan.optimal and moves[-1] <= tolerance and changes[-1] <= gain_tolerance
        plan = dataclasses.replace(
            plan,
            iterations=iteration,
            moves=tuple(moves),
            gain_changes=tuple(changes),
            rejected=rejected,
            runs=runs,
            converged=converged,
            tolerance=tolerance,
            gain_tolerance=gain_tolerance,
        )
        if not plan.optimal:
            return plan
        if converged or iteration == max_iterations:
            return plan
        measured = measure(plan.spend)
        runs += measured.runs
        # The first plan is always taken: the start is where curves are measured, not always a plan the
        # constraints allow (a cut budget, a weekly maximum). Later plans are judged against the plan they left.
        gained = measured.plan_revenue - curves.plan_revenue  # paired: the same random numbers
        projected = float(curves.response(plan.spend).sum() - curves.response(anchor).sum())
        worse = region is not None and not gained >= 0
        if worse:
            rejected += 1
        else:
            anchor, curves = plan.spend, measured
        if region is not None and (worse or not gained >= 0.25 * projected):
            scale /= 2  # the curves were a poor guide this far from where they were measured
        region = scale * np.maximum(anchor, _average_week(anchor))
    raise AssertionError("unreachable")  # the loop returns on its last iteration


def _gain_change(gain: float, before: float) -> float:
    """The change from projected gain ``before`` to ``gain``, as a share of the larger of the two (or of 1 currency
    unit, if both are smaller: two gains of nearly nothing differ by nearly nothing, not by 100%)."""
    return abs(gain - before) / max(abs(gain), abs(before), 1.0)


def verify_weekly(
    scenario: Scenario,
    plan: WeeklyPlan,
    *,
    seed: int | None = None,
    replications: int = 10,
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WeeklyPlan:
    """Simulate the plan's flighting and the scenario's own with the same random numbers; return the plan with
    its :class:`~mixsim.optimizer.plan.Verification`.

    The verification holds, per replication (paired: the same random numbers for both), the revenue over the
    horizon of the current flighting, of the plan and their difference (metric ``revenue``, outcomes
    ``current``, ``plan``, ``gain``), and the spend the runs delivered (metric ``spend``, outcomes ``current``
    and ``plan``; a channel-week can deliver less than it is booked for when its audience is exhausted). The
    projection beside them is the gain from the curves (the sum over channel-weeks of each curve at the plan minus
    at the current flighting) and the spend each flighting books.

    Parameters
    ----------
    scenario : Scenario
        The scenario the plan is for (its flighting is the current one).
    plan : WeeklyPlan
        An optimal plan.
    seed : int, optional
        Root seed; default the scenario's, else 0. Replication ``r`` of both flightings uses
        ``SeedSequence(seed, spawn_key=(VERIFY_WEEK_KEY,)).spawn(replications)[r]``: random numbers of their own,
        not those the curves were measured with, so the check is out of sample.
    replications : int, default=10
    executor, progress
        As for :func:`measure_week_curves`.

    Raises
    ------
    InfeasibleError
        If the plan is not optimal (it has no flighting to simulate).
    """
    plan.check()
    _check_replications(replications)
    seed = root_seed(scenario, seed)
    seeds = np.random.SeedSequence(seed, spawn_key=(VERIFY_WEEK_KEY,)).spawn(replications)
    planned = with_week_spend(scenario, plan.spend)
    jobs = [(scenario, s) for s in seeds] + [(planned, s) for s in seeds]
    values = np.array(outcomes(jobs, executor, progress))  # (2 * replications, 2)
    now, then = values[:replications], values[replications:]
    runs = {
        ("revenue", "current"): now[:, 0],
        ("revenue", "plan"): then[:, 0],
        ("revenue", "gain"): then[:, 0] - now[:, 0],
        ("spend", "current"): now[:, 1],
        ("spend", "plan"): then[:, 1],
    }
    projected = {
        ("revenue", "gain"): plan.projected_gain,
        ("spend", "current"): float(plan.current.sum()),
        ("spend", "plan"): float(plan.spend.sum()),
    }
    check = Verification(replications=replications, seed=seed, projected=projected, runs=runs)
    return dataclasses.replace(plan, verification=check)


def projected_funnel(
    scenario: Scenario,
    plan: WeeklyPlan,
    *,
    seed: int | None = None,
    replications: int = 3,
    executor: cf.Executor | None = None,
) -> SimulationResult:
    """The scenario simulated with the plan's flighting: the funnel over the horizon (``.to_frame("daily")``,
    :func:`mixsim.plots.plot_funnel`) and every other figure of a simulation, with the plan's spend week by week."""
    return simulate(with_week_spend(scenario, plan.spend), seed=seed, replications=replications, executor=executor)
