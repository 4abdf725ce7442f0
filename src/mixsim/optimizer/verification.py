"""Verifying a plan by simulation: the plan and the current plan run with the same random numbers.

The plan's projection comes from separable curves; :func:`verify` simulates the plan (as booked) and the
current plan with paired seeds of their own, apart from the seeds the curves were measured with, so the check
is out of sample. The result is a :class:`~mixsim.optimizer.plan.Verification` on the plan. (The module is not
called ``verify``: that name is the function, exported by :mod:`mixsim.optimizer`.)
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math

import numpy as np

from mixsim.errors import InputError
from mixsim.optimizer.plan import Plan, Verification
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import ProgressCallback, Task, root_seed, run_tasks
from mixsim.value import revenue, sales

__all__ = ["VERIFY_KEY", "verify", "verify_run_count"]

VERIFY_KEY = 0x7E51F1
"""Spawn key of verification runs: a stream family apart from the curve measurements of the same seed."""


def verify(
    scenario: Scenario,
    plan: Plan,
    *,
    seed: int | None = None,
    replications: int = 10,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
    with_future_value: bool = False,
) -> Plan:
    """Simulate ``plan`` and the current plan with the same random numbers; return the plan with its
    :class:`~mixsim.optimizer.plan.Verification`.

    Parameters
    ----------
    scenario : Scenario
        The scenario the plan is for (its channel spends are the current plan).
    plan : Plan
        An optimal plan.
    seed : int, optional
        Root seed; default the scenario's, else 0. Replication ``r`` of the plan and of the current plan share
        ``SeedSequence(seed, spawn_key=(VERIFY_KEY,)).spawn(replications)[r]``: random numbers of their own,
        not those the curves were measured with, so the check is out of sample.
    replications : int, default=10
    workers, executor, progress
        As for :func:`mixsim.simulate`.
    with_future_value : bool, default=False
        Count the future value of the customers active at the end in revenue, as the curves did
        (:func:`mixsim.value.future_value`).

    Returns
    -------
    Plan
        ``plan`` with its :class:`~mixsim.optimizer.plan.Verification`.

    Raises
    ------
    InfeasibleError
        If ``plan`` is not optimal (there is nothing to simulate).
    InputError
        For fewer than one replication.
    """
    require_scenario(scenario)
    plan.check()
    if replications < 1:
        raise InputError(f"replications: must be >= 1 (got {replications})")
    seed = root_seed(scenario, seed)
    seeds = np.random.SeedSequence(seed, spawn_key=(VERIFY_KEY,)).spawn(replications)
    allocation = tuple(plan.bookings.items())  # what a planner books, so what the plan's channels deliver
    tasks = [Task(r) for r in range(replications)] + [Task(r, allocation) for r in range(replications)]
    records = run_tasks(scenario, seeds, tasks, workers, executor, progress)
    value = scenario.economics.order_value
    fixed_now = scenario.fixed_costs  # what the runs of the current plan pay besides media
    current_runs, plan_runs = records[:replications], records[replications:]
    conv_now, repeat_now, active_now = sales(current_runs)
    conv_plan, repeat_plan, active_plan = sales(plan_runs)
    future = with_future_value
    runs = {
        ("revenue", "plan"): revenue(scenario, conv_plan, repeat_plan, active_plan, future),
        ("revenue", "current"): revenue(scenario, conv_now, repeat_now, active_now, future),
        ("revenue", "gain"): revenue(
            scenario, conv_plan - conv_now, repeat_plan - repeat_now, active_plan - active_now, future
        ),
        ("conversions", "plan"): conv_plan,
        ("conversions", "current"): conv_now,
        ("conversions", "gain"): conv_plan - conv_now,
        ("spend", "plan"): np.array([r.spend.sum() + plan.fixed_costs for r in plan_runs]),
        ("spend", "current"): np.array([r.spend.sum() + fixed_now for r in current_runs]),
    }
    projected: dict[tuple[str, str], float] = {}
    totals = {"plan": plan.total_revenue, "current": plan.current_total_revenue}
    totals["gain"] = totals["plan"] - totals["current"]
    for outcome, total in totals.items():
        if math.isfinite(total):
            projected[("revenue", outcome)] = total
            projected[("conversions", outcome)] = total / value
    projected[("spend", "plan")] = plan.spend
    projected[("spend", "current")] = plan.current_spend
    check = Verification(replications=replications, seed=seed, projected=projected, runs=runs)
    return dataclasses.replace(plan, verification=check)


def verify_run_count(replications: int) -> int:
    """How many engine runs :func:`verify` makes (for a progress bar): the plan and the current plan, each
    ``replications`` times."""
    return 2 * replications
