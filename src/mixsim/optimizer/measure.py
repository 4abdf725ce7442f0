"""Measuring response curves by simulation.

For each channel and spend level the scenario is simulated with that channel's spend changed and every other
channel as planned; a level's revenue against the channel off is the curve's point there. Every level of a
replication uses the same random numbers (common random numbers), so differences between levels are the
channel's effect rather than noise. The curve model itself is in :mod:`mixsim.optimizer.curves`.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mixsim.engine import RunRecord, World
from mixsim.errors import InputError
from mixsim.optimizer.curves import BOOK_TOLERANCE, CurveSet, Hill, ResponseCurve, fit_hill
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import ProgressCallback, Task, root_seed, run_worlds
from mixsim.tables import interval
from mixsim.value import revenue as incremental
from mixsim.value import sales

__all__ = ["DEFAULT_LEVELS", "curve_run_count", "measure_curves", "response_curves"]

DEFAULT_LEVELS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
"""Spend levels of a measured curve, as multiples of the channel's reference spend (its spend in the plan)."""


def _reference(scenario: Scenario, plan: dict[str, float], budget: float | None) -> dict[str, float]:
    """The spend a channel's levels are multiples of: its planned spend, or an even share of the budget."""
    share = (scenario.budget_total if budget is None else budget) / len(scenario.channels)
    return {name: (plan[name] if plan[name] > 0 else share) for name in scenario.channel_names}


def curve_run_count(scenario: Scenario, replications: int, levels: Sequence[float] = DEFAULT_LEVELS) -> int:
    """How many engine runs :func:`response_curves` makes around the scenario's plan (for a progress bar)."""
    grid = {0.0, *(float(m) for m in levels)}
    at_plan = sum(c.spend > 0 and 1.0 in grid for c in scenario.channels)
    return replications * (1 + len(scenario.channels) * len(grid) - at_plan)


def response_curves(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replications: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    around: dict[str, float] | None = None,
    budget: float | None = None,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
    with_future_value: bool = False,
) -> CurveSet:
    """Measure every channel's response curve by simulation.

    For each channel and level ``m``, the scenario is simulated with the channel at ``m`` times its reference
    spend and every other channel as planned; the curve is the difference in revenue against the channel off.
    Every level of a replication uses the same random numbers (common random numbers), so the differences
    between levels are the channel's effect rather than noise.

    Parameters
    ----------
    scenario : Scenario
        The scenario; its channel spends are the plan unless ``around`` is given.
    seed : int, optional
        Root seed; default the scenario's ``seed``, else 0.
    replications : int, default=5
        Replications per level; the curve is their mean, with a 90% interval.
    levels : sequence of float, default=DEFAULT_LEVELS
        Spend levels as multiples of the reference spend (the channel's planned spend, or an even share of
        the budget for a channel planned at 0). 0 is always measured.
    around : dict of str to float, optional
        Measure around this plan instead of the scenario's (the optimizer re-measures around its own plan).
    budget : float, optional
        The budget a channel planned at 0 gets an even share of, as its reference; default the scenario's.
    workers : int, default=1
        Worker processes.
    executor : concurrent.futures.Executor, optional
        Run on this executor instead.
    progress : callable, optional
        ``progress(done, total)`` after each run.
    with_future_value : bool, default=False
        Count in a level's revenue the future value of the customers active at the end of the horizon
        (:func:`mixsim.value.future_value`), so that a plan is not blind to the customers it wins late.

    Returns
    -------
    CurveSet
        Curves with Hill fits against the spend actually delivered (mean over replications); the most a
        channel delivered is its maximum spend, so a plan never counts on spend the audience cannot absorb.

    Raises
    ------
    InputError
        For fewer than one replication, or levels below 0 or with fewer than two above 0.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> curves = mixsim.response_curves(scenario, seed=1, replications=1, levels=(0, 0.5, 1, 2))
    >>> curves.channels == scenario.channel_names
    True
    >>> list(curves.to_frame("fits")["channel"]) == list(scenario.channel_names)
    True
    """
    require_scenario(scenario)
    (curves,) = measure_curves(
        [scenario], seed=root_seed(scenario, seed), replications=replications, levels=levels, arounds=[around],
        budget=budget, workers=workers, executor=executor, progress=progress, with_future_value=with_future_value,
    )  # fmt: skip
    return curves


@dataclass(frozen=True)
class _Design:
    """One scenario's measurement: the plan measured around (scenario and spends), each channel's reference, and
    where each (replication, channel, level) run sits among its tasks."""

    planned: Scenario
    plan: dict[str, float]
    ref: dict[str, float]
    tasks: list[Task]
    slot: dict[tuple[int, str, int], int]


def measure_curves(
    scenarios: Sequence[Scenario],
    *,
    seed: int,
    replications: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    arounds: Sequence[dict[str, float] | None] | None = None,
    budget: float | None = None,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
    with_future_value: bool = False,
) -> list[CurveSet]:
    """:func:`response_curves` of several scenarios (a posterior's worlds, each around a plan of its own) on the
    same seeds, their runs handed out together: one pool of workers for all, every worker kept busy. Each scenario's
    curves are exactly those :func:`response_curves` gives it alone with ``seed``.

    Parameters
    ----------
    scenarios : sequence of Scenario
    seed : int
        Root seed (every scenario on the same seeds).
    replications, levels, budget, workers, executor, with_future_value
        As for :func:`response_curves`.
    arounds : sequence of (dict or None), optional
        The plan each scenario's curves are measured around (None: its own plan); default all None.
    progress : callable, optional
        ``progress(done, total)`` over all the scenarios' runs.

    Returns
    -------
    list of CurveSet
        One per scenario, in order.

    Raises
    ------
    InputError
        For fewer than one replication, or levels below 0 or with fewer than two above 0.
    """
    if replications < 1:
        raise InputError(f"replications: must be >= 1 (got {replications})")
    grid = sorted({0.0, *(float(m) for m in levels)})
    if grid[0] < 0 or len(grid) < 3:
        raise InputError(f"levels: must be >= 0 with at least two above 0 (got {list(levels)})")
    seeds = np.random.SeedSequence(seed).spawn(replications)
    designs = [
        _design(s, grid, replications, around, budget)
        for s, around in zip(scenarios, arounds or [None] * len(scenarios), strict=True)
    ]
    worlds = [
        World(d.planned.with_spend(dict(t.spend)) if t.spend else d.planned, seeds[t.replication])
        for d in designs
        for t in d.tasks
    ]
    records = run_worlds(worlds, workers, executor, progress)
    out, at = [], 0
    for d in designs:
        out.append(_fitted(d, grid, records[at : at + len(d.tasks)], seed, replications, with_future_value))
        at += len(d.tasks)
    return out


def _design(
    scenario: Scenario, grid: list[float], replications: int, around: dict[str, float] | None, budget: float | None
) -> _Design:
    """The runs that measure ``scenario``'s curves around ``around`` (default its own plan)."""
    plan = {c.name: c.spend for c in scenario.channels}
    if around:
        plan.update(around)
    planned = scenario.with_spend(plan)
    ref = _reference(planned, plan, budget)
    # A level equal to the plan is the plan's own run: reuse it rather than simulate it again.
    tasks = [Task(r) for r in range(replications)]
    slot: dict[tuple[int, str, int], int] = {}
    for r in range(replications):
        for name in planned.channel_names:
            for j, m in enumerate(grid):
                if math.isclose(m * ref[name], plan[name], rel_tol=1e-12, abs_tol=1e-9):
                    slot[r, name, j] = r
                else:
                    slot[r, name, j] = len(tasks)
                    tasks.append(Task(r, ((name, m * ref[name]),)))
    return _Design(planned, plan, ref, tasks, slot)


def _fitted(
    design: _Design,
    grid: list[float],
    records: Sequence[RunRecord],
    seed: int,
    replications: int,
    with_future_value: bool,
) -> CurveSet:
    """One scenario's curves from its runs (in its tasks' order)."""
    planned, plan, ref, slot = design.planned, design.plan, design.ref, design.slot
    value = planned.economics.order_value
    won, repeat, active = sales(records)
    curves = []
    for k, name in enumerate(planned.channel_names):
        at = np.empty((replications, len(grid)), dtype=np.int64)  # the record of each replication and level
        delivered = np.empty((replications, len(grid)))
        for (r, channel_name, j), i in slot.items():
            if channel_name == name:
                at[r, j] = i
                delivered[r, j] = records[i].spend[k]
        off = at[:, :1]
        revenue = np.asarray(
            incremental(
                planned, won[at] - won[off], repeat[at] - repeat[off], active[at] - active[off], with_future_value
            )
        )
        mean, low, high = interval(revenue)
        spend = delivered.mean(axis=0)
        # Levels past what the channel can deliver all spend the same: keep the first of them (the rest bought
        # nothing more), so the points are a function of spend.
        keep = np.concatenate([[True], np.diff(spend) > BOOK_TOLERANCE * max(float(spend.max()), 1.0)])
        spend, mean, low, high = spend[keep], mean[keep], low[keep], high[keep]
        hill: Hill | None = None
        rmse = r2 = math.nan
        if len(spend) >= 4:  # three parameters need three points besides the origin
            try:
                hill, rmse, r2 = fit_hill(spend, mean)
            except RuntimeError:
                hill = None  # the points, interpolated, are then the curve
        channel = planned.channel(name)
        curves.append(
            ResponseCurve(
                channel=name,
                spend=spend,
                revenue=mean,
                revenue_low=low,
                revenue_high=high,
                hill=hill,
                max_spend=float(spend.max()),
                min_spend=channel.min_spend,
                fixed_cost=channel.fixed_cost,
                current=plan[name],
                fit_rmse=rmse,
                fit_r2=r2,
                planned=(np.array(grid) * ref[name])[keep],
            )
        )
    source = f"simulation of {planned.source or planned.name}"
    if with_future_value:
        source += ", revenue with the future value of the customers active at the end"
    at_plan = float(np.mean(won[:replications]))
    plan_revenue = incremental(
        planned,
        at_plan,
        float(np.mean(repeat[:replications])),
        float(np.mean(active[:replications])),
        with_future_value,
    )
    return CurveSet(
        curves=tuple(curves),
        order_value=value,
        margin=planned.economics.margin,
        source=source,
        seed=seed,
        replications=replications,
        plan_revenue=float(plan_revenue),
        plan_conversions=at_plan,
    )
