"""Channel-week response curves: the current flighting per week, a plan's weekly spend as a scenario, and each
channel-week's response measured by simulation as an impulse.

A channel-week's curve is the incremental revenue over the whole horizon that the week's spend brings, carryover
through memory included (extra spend just before a peak is credited with the sales it brings in the peak). The
channel-level counterpart is :mod:`mixsim.optimizer.curves`.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mixsim._version import __version__
from mixsim.engine import World, daily_spend
from mixsim.errors import InputError
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed, run_worlds
from mixsim.value import revenue

__all__ = [
    "WEEK_KEY",
    "WEEK_LEVELS",
    "WeekCurves",
    "horizon_weeks",
    "measure_week_curves",
    "measured_weeks",
    "week_run_count",
    "week_spend",
    "with_week_spend",
]

WEEK_KEY = 0x3EEC
"""Spawn key of the week-level measurements' random numbers (apart from the channel-level curves')."""


@dataclass(frozen=True)
class WeekCurves:
    """Response curves per channel and week, as breakpoints.

    Attributes
    ----------
    channels : tuple of str
        Channel names, in order.
    spend : ndarray, shape (channels, weeks, points)
        Spend at each breakpoint, increasing from 0 along the last axis.
    revenue : ndarray, shape (channels, weeks, points)
        Incremental revenue at each breakpoint (0 at spend 0).
    current : ndarray, shape (channels, weeks)
        The current flighting: spend per channel and week.
    plan_revenue : float
        Simulated revenue over the horizon of the plan the curves were measured around (mean over replications;
        NaN for curves not measured by simulation).
    runs : int
        Simulation runs the measurement made.
    seed : int or None
        Root seed of the simulation that measured them (None for curves not measured by simulation).
    replications : int
        Replications per spend level (0 for curves not measured by simulation).
    version : str
        mixsim version that produced them.
    """

    channels: tuple[str, ...]
    spend: np.ndarray
    revenue: np.ndarray
    current: np.ndarray
    plan_revenue: float = math.nan
    runs: int = 0
    seed: int | None = None
    replications: int = 0
    version: str = __version__

    def __post_init__(self) -> None:
        if self.spend.ndim != 3:
            raise InputError(f"spend: must be (channels, weeks, points) (got shape {self.spend.shape})")
        c, w, k = self.spend.shape
        if self.revenue.shape != (c, w, k) or self.current.shape != (c, w) or len(self.channels) != c:
            raise InputError(
                f"spend and revenue must be (channels, weeks, points) and current (channels, weeks) for "
                f"{len(self.channels)} channels (got {self.spend.shape}, {self.revenue.shape}, {self.current.shape})"
            )
        if k < 2 or np.any(self.spend[:, :, 0] != 0.0) or np.any(np.diff(self.spend, axis=2) <= 0):
            raise InputError("spend: each curve's spend must start at 0 and increase")

    @property
    def weeks(self) -> int:
        """Number of weeks."""
        return int(self.spend.shape[1])

    def response(self, spend: np.ndarray) -> np.ndarray:
        """Revenue of each channel-week at ``spend`` (shape (channels, weeks)), linear between breakpoints."""
        c, w, _ = self.spend.shape
        out = np.empty((c, w))
        for i in range(c):
            for j in range(w):
                out[i, j] = np.interp(spend[i, j], self.spend[i, j], self.revenue[i, j])
        return out


WEEK_LEVELS: tuple[float, ...] = (0.0, 1.0, 2.0)
"""Spend levels of a channel-week, as multiples of its reference (its current spend, or the channel's average week)."""


def horizon_weeks(scenario: Scenario) -> int:
    """Weeks of the scenario's horizon (the last may be short)."""
    return math.ceil(scenario.horizon_days / 7)


def week_spend(scenario: Scenario) -> np.ndarray:
    """The current flighting: planned spend per channel and week, shape (channels, weeks)."""
    horizon = scenario.horizon_days
    weeks = horizon_weeks(scenario)
    week_of_day = np.arange(horizon) // 7
    out = np.zeros((len(scenario.channels), weeks))
    for i, channel in enumerate(scenario.channels):
        out[i] = np.bincount(week_of_day, weights=daily_spend(channel, horizon), minlength=weeks)
    return out


def with_week_spend(scenario: Scenario, spend: np.ndarray) -> Scenario:
    """``scenario`` with each channel's spend and flighting set to spend ``spend[c, w]`` in week ``w``.

    The flighting weight of a week is its spend per day (the last week may be short), so the engine spends
    exactly ``spend[c, w]`` in week ``w``. A channel with no spend at all keeps its flighting and spends 0.
    """
    horizon = scenario.horizon_days
    days = np.bincount(np.arange(horizon) // 7)
    channels = []
    for i, channel in enumerate(scenario.channels):
        total = float(spend[i].sum())
        if total <= 0:
            channels.append(dataclasses.replace(channel, spend=0.0))
            continue
        weights = tuple(float(v) for v in spend[i] / days)
        channels.append(dataclasses.replace(channel, spend=total, flighting=weights))
    return dataclasses.replace(scenario, channels=tuple(channels))


def outcomes(
    runs: Sequence[tuple[Scenario, np.random.SeedSequence]],
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> list[tuple[float, float]]:
    """Revenue and the spend delivered over the horizon of each (scenario, seed) run, in batches (runs that differ
    only in their flighting share one)."""
    records = run_worlds([World(scenario, seed) for scenario, seed in runs], executor=executor, progress=progress)
    return [
        (float(revenue(scenario, record.conversions, record.repeat_purchases)), float(record.spend.sum()))
        for record, (scenario, _) in zip(records, runs, strict=True)
    ]


def _average_week(base: np.ndarray) -> np.ndarray:
    """Each channel's average week (channels x 1); for a channel with no spend at all, the plan's average
    channel-week (at least 1), so that it can be given a real buy."""
    average = base.sum(axis=1, keepdims=True) / base.shape[1]
    return np.where(average > 0, average, max(float(base.sum()) / max(base.size, 1), 1.0))


def _reference(base: np.ndarray) -> np.ndarray:
    """Each channel-week's reference spend: its spend in the plan, or for a dark week the channel's average week."""
    return np.where(base > 0, base, _average_week(base))


def _grid(levels: Sequence[float]) -> list[float]:
    """The levels a channel-week is simulated at: 0 (the week off, what the response is measured against) and
    ``levels``, sorted and each once."""
    grid = sorted({0.0, *(float(m) for m in levels)})
    given = ", ".join(f"{m:g}" for m in levels)
    if grid[0] < 0.0 or not all(math.isfinite(m) for m in grid):
        raise InputError(f"levels: must be finite numbers >= 0 (got {given})")
    if 1.0 not in grid:
        raise InputError(f"levels: must include 1, the plan itself (got {given})")
    return grid


def _check_replications(replications: int) -> None:
    if replications < 1:
        raise InputError(f"replications: must be >= 1 (got {replications})")


def week_run_count(
    around: np.ndarray,
    replications: int = 2,
    levels: Sequence[float] = WEEK_LEVELS,
    every: int = 1,
    season: Sequence[float] | None = None,
) -> int:
    """The runs :func:`measure_week_curves` makes around the plan ``around`` (channels x weeks), shared ones once.

    Parameters
    ----------
    around : ndarray, shape (channels, weeks)
        The plan the curves are measured around.
    replications, levels, every
        As for :func:`measure_week_curves`.
    season : sequence of float, optional
        The scenario's weekly demand multipliers (``scenario.seasonality``), whose edges are always measured.

    Raises
    ------
    InputError
        If ``replications``, ``levels`` or ``every`` is out of range.
    """
    _check_replications(replications)
    base = np.asarray(around, dtype=float)
    weeks = measured_weeks(base.shape[1], every, season)
    points = np.array(_grid(levels))[None, None, :] * _reference(base)[:, weeks, None]
    own = points != base[:, weeks, None]
    return replications * (int(own.sum()) + 1)


def measured_weeks(weeks: int, every: int = 1, season: Sequence[float] | None = None) -> np.ndarray:
    """The weeks whose impulses are simulated when only every ``every``-th week is measured (0-based).

    Weeks ``0, every, 2 * every, ...``, the last week, and both weeks around every change in the season's
    multiplier (the week before a period and its first week; its last week and the week after), so that a peak's
    edges are measured, not interpolated.

    Raises
    ------
    InputError
        If ``every`` < 1.
    """
    if every < 1:
        raise InputError(f"every: must be >= 1 (got {every})")
    chosen = set(range(0, weeks, every)) | {weeks - 1}
    if season is not None and every > 1:
        multipliers = np.asarray(season, dtype=float)[:weeks]
        for j in np.flatnonzero(np.diff(multipliers) != 0.0) + 1:
            chosen |= {int(j) - 1, int(j)}
    return np.array(sorted(chosen), dtype=np.int64)


def measure_week_curves(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replications: int = 2,
    levels: Sequence[float] = WEEK_LEVELS,
    around: np.ndarray | None = None,
    every: int = 1,
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WeekCurves:
    """Each channel-week's response, measured by simulation as an impulse.

    For channel ``c`` and week ``w``, the plan (``around``, default the scenario's flighting) is simulated with
    that one week's spend at each level times its reference, every other channel-week unchanged, on common random
    numbers. The response at a level is the revenue over the whole horizon minus the revenue with that week's
    spend at 0: extra spend just before a peak is credited with the sales it brings in the peak, and carryover
    through memory is counted.

    A run that is the plan itself (a level of 1 on a week the plan spends in, a level of 0 on a dark week) is
    the same run for every channel-week and is made once. With ``every > 1`` only the weeks of
    :func:`measured_weeks` are simulated; between them each level's revenue per unit of reference is interpolated
    linearly over the weeks.

    Parameters
    ----------
    scenario : Scenario
    seed : int, optional
        Root seed (default the scenario's, else 0).
    replications : int, default=2
        Replications per level; the response is their mean.
    levels : sequence of float, default=(0, 1, 2)
        Multiples of each channel-week's reference: its spend in the plan, or, for a dark week, the channel's
        average week.
    around : ndarray, shape (channels, weeks), optional
        The plan to measure around (default the scenario's own flighting).
    every : int, default=1
        Simulate every ``every``-th week (and the season's edges); interpolate the rest.
    executor : concurrent.futures.Executor, optional
        Where the runs go (default this process).
    progress : callable, optional
        ``progress(done, total)`` over the runs.

    Returns
    -------
    WeekCurves
        Breakpoints at the levels' spends (0 first), revenue incremental against the week off, with the seed and
        replications they were measured with.

    Raises
    ------
    InputError
        If ``replications``, ``levels`` or ``every`` is out of range.

    Examples
    --------
    >>> curves = measure_week_curves(scenario, replications=1, every=4)  # doctest: +SKIP
    >>> curves.revenue.shape  # doctest: +SKIP
    (5, 13, 3)
    """
    base = week_spend(scenario) if around is None else np.asarray(around, dtype=float)
    c, w = base.shape
    _check_replications(replications)
    ref, grid = _reference(base), _grid(levels)
    weeks = measured_weeks(w, every, scenario.seasonality)
    seed = root_seed(scenario, seed)
    seeds = np.random.SeedSequence(seed, spawn_key=(WEEK_KEY,)).spawn(replications)
    jobs = [(with_week_spend(scenario, base), seeds[r]) for r in range(replications)]  # the plan itself
    made: dict[tuple[bytes, int], int] = {(base.tobytes(), r): r for r in range(replications)}
    where: list[tuple[int, int, int, int, int]] = []
    for i in range(c):
        for j in weeks:
            for k, level in enumerate(grid):
                spend = base.copy()
                spend[i, j] = level * ref[i, j]
                for r in range(replications):
                    key = (spend.tobytes(), r)
                    if key not in made:
                        made[key] = len(jobs)
                        jobs.append((with_week_spend(scenario, spend), seeds[r]))
                    where.append((i, int(j), k, r, made[key]))
    results = [value for value, _ in outcomes(jobs, executor, progress)]
    revenue = np.zeros((c, w, len(grid), replications))
    for i, j, k, r, job in where:
        revenue[i, j, k, r] = results[job]
    mean = revenue.mean(axis=3)
    response = mean - mean[:, :, :1]
    if len(weeks) < w:
        per_ref = response[:, weeks, :] / ref[:, weeks, None]
        between = np.setdiff1d(np.arange(w), weeks)
        for i in range(c):
            for k in range(len(grid)):
                response[i, between, k] = np.interp(between, weeks, per_ref[i, :, k]) * ref[i, between]
    points = np.array(grid)[None, None, :] * ref[:, :, None]
    plan_revenue = float(np.mean(results[:replications]))
    return WeekCurves(scenario.channel_names, points, response, base, plan_revenue, len(jobs), seed, replications)
