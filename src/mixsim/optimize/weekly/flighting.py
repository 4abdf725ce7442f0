"""Week-level plans: spend per channel per week, with the constraints planners use over time.

The decision is ``x[c, w]``, the spend of channel ``c`` in week ``w``. Each channel-week has its own response
curve (the incremental revenue that week's spend brings over the rest of the horizon, carryover included), given
as breakpoints. The program is described (:class:`WeeklyProblem`), then solved (:func:`solve_weekly`) into a
:class:`WeeklyPlan`:

- concave curves become segments of falling slope (an LP); curves whose slope rises somewhere get binaries that
  fill their segments in order;
- the budget over the whole horizon; or committed spend that is already bought plus ``additional`` new money, the
  plan never going below what is committed;
- per-channel weekly minimum (when the channel airs that week) and maximum spend;
- per-channel minimum weeks on air and maximum dark weeks (binaries "on air" per channel-week; a week on air
  carries at least the weekly minimum, or else 5% of the channel's average current week, at least 1 and never
  more than the week's curve reaches);
- pacing: no block of ``pacing_weeks`` consecutive weeks (a month, a quarter) takes more than ``pacing_share`` of
  the budget;
- channels locked at their current flighting.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mixsim.engine import run
from mixsim.engine.delivery import daily_spend
from mixsim.errors import MixsimError
from mixsim.executors import run_all
from mixsim.optimize import program as _program
from mixsim.scenario import Scenario

if TYPE_CHECKING:
    from mixsim.results import SimulationResult
from mixsim.memory import tune_malloc
from mixsim.simulation import root_seed

_TOL = 1e-7
WEEK_KEY = 0x3EEC
"""Spawn key of the week-level measurements' random numbers (apart from the channel-level curves')."""
VERIFY_WEEK_KEY = 0x3EED
"""Spawn key of a week-level plan's verification runs (out of sample)."""


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
    """

    channels: tuple[str, ...]
    spend: np.ndarray
    revenue: np.ndarray
    current: np.ndarray
    plan_revenue: float = math.nan
    runs: int = 0

    def __post_init__(self) -> None:
        c, w, k = self.spend.shape
        if self.revenue.shape != (c, w, k) or self.current.shape != (c, w) or len(self.channels) != c:
            raise ValueError("spend and revenue must be (channels, weeks, points) and current (channels, weeks)")
        if k < 2 or np.any(self.spend[:, :, 0] != 0.0) or np.any(np.diff(self.spend, axis=2) <= 0):
            raise ValueError("each curve's spend must start at 0 and increase")

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


@dataclass(frozen=True)
class WeeklyProblem:
    """A week-level allocation, described before it is solved.

    Parameters
    ----------
    curves : WeekCurves
        Response per channel-week.
    budget : float
        Most spend over the horizon (ignored when ``additional`` is given).
    week_min, week_max : mapping of str to float
        Per channel: least spend in a week it airs, most spend in any week.
    min_weeks_on, max_dark_weeks : mapping of str to int
        Per channel: fewest weeks on air, most weeks dark.
    pacing_weeks : int, optional
        Length of a pacing block (4 for a month, 13 for a quarter); with ``pacing_share``.
    pacing_share : float, optional
        Most share of the budget any block of ``pacing_weeks`` consecutive weeks may take.
    locked : sequence of str
        Channels kept at their current flighting.
    committed : ndarray, shape (channels, weeks), optional
        Spend already bought; the plan never goes below it.
    additional : float, optional
        New money on top of ``committed``: the budget becomes committed + additional.
    anchor, radius : ndarray, shape (channels, weeks), optional
        A trust region: each channel-week stays within ``radius`` of ``anchor`` (the closed loop's last plan).
    """

    curves: WeekCurves
    budget: float
    week_min: Mapping[str, float] = field(default_factory=dict)
    week_max: Mapping[str, float] = field(default_factory=dict)
    min_weeks_on: Mapping[str, int] = field(default_factory=dict)
    max_dark_weeks: Mapping[str, int] = field(default_factory=dict)
    pacing_weeks: int | None = None
    pacing_share: float | None = None
    locked: Sequence[str] = ()
    committed: np.ndarray | None = None
    additional: float | None = None
    anchor: np.ndarray | None = None
    radius: np.ndarray | None = None

    @property
    def total(self) -> float:
        """The money the plan may spend: committed + additional, or the budget."""
        return money(self.budget, self.committed, self.additional)

    def check(self) -> None:
        """Refuse a problem that names unknown channels or has out-of-range settings (``MixsimError``)."""
        settings = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "curves"}
        check_settings(self.curves.channels, self.curves.weeks, **settings, current=self.curves.current,
                       total=self.total)  # fmt: skip


def money(budget: float, committed: np.ndarray | None = None, additional: float | None = None) -> float:
    """The money a week-level plan may spend: committed + ``additional`` when new money is given, else the budget."""
    if additional is not None:
        return (0.0 if committed is None else float(committed.sum())) + additional
    return budget


def _committed_conflicts(
    channels: Sequence[str],
    committed: np.ndarray,
    week_max: Mapping[str, float],
    locked: Sequence[str],
    current: np.ndarray | None,
) -> list[str]:
    """Committed spend that a lock or a weekly maximum forbids, one message per channel (its first week)."""
    out = []
    for i, name in enumerate(channels):
        if name in locked and current is not None and current.shape == committed.shape:
            above = np.flatnonzero(committed[i] > current[i] * (1 + 1e-9) + 1e-9)
            if len(above):
                j = int(above[0])
                out.append(
                    f"committed: {name} is locked at its flighting ({current[i, j]:,.0f} in week {j + 1}) but "
                    f"{committed[i, j]:,.0f} is committed there ({len(above)} week(s) in all)"
                )
        if name in week_max:
            above = np.flatnonzero(committed[i] > week_max[name] * (1 + 1e-9))
            if len(above):
                j = int(above[0])
                out.append(
                    f"committed: {name} has {committed[i, j]:,.0f} committed in week {j + 1}, above its week_max "
                    f"{week_max[name]:,.0f} ({len(above)} week(s) in all)"
                )
    return out


def check_settings(
    channels: Sequence[str],
    weeks: int,
    *,
    week_min: Mapping[str, float] | None = None,
    week_max: Mapping[str, float] | None = None,
    min_weeks_on: Mapping[str, int] | None = None,
    max_dark_weeks: Mapping[str, int] | None = None,
    pacing_weeks: int | None = None,
    pacing_share: float | None = None,
    locked: Sequence[str] = (),
    committed: np.ndarray | None = None,
    current: np.ndarray | None = None,
    total: float | None = None,
    **_: Any,
) -> None:
    """Check a week-level problem's settings against its channels and weeks, before any curve is measured.

    Takes the keywords of :class:`WeeklyProblem` (others are ignored), and optionally the current flighting
    (``current``, channels x weeks) and the money (``total``) to find settings that cannot all hold.

    Raises
    ------
    MixsimError
        Naming every unknown channel, every setting out of range, and every conflict found.
    """
    names = set(channels)
    problems = []
    mins, maxs = week_min or {}, week_max or {}
    for name in sorted(names & set(mins) & set(maxs)):
        if mins[name] > maxs[name]:
            problems.append(f"week_min: {name}: {mins[name]:,.0f} is above its week_max {maxs[name]:,.0f}")
    for label, counts in (("min_weeks_on", min_weeks_on), ("max_dark_weeks", max_dark_weeks)):
        for name, count in (counts or {}).items():
            if not 0 <= count <= weeks:
                problems.append(f"{label}: {name}: must be in [0, {weeks}] (got {count})")
    if committed is not None and committed.shape == (len(channels), weeks):
        problems += _committed_conflicts(channels, committed, maxs, locked, current)
        if total is not None and current is not None and current.shape == committed.shape:
            fixed = np.where(np.isin(channels, list(locked))[:, None], current, committed)
            if fixed.sum() > total * (1 + 1e-9):
                problems.append(
                    f"committed: committed spend and locked channels come to {fixed.sum():,.0f}, more than the "
                    f"money {total:,.0f}"
                )
            if pacing_weeks is not None and pacing_share is not None and 1 <= pacing_weeks <= weeks:
                blocks = np.convolve(fixed.sum(axis=0), np.ones(pacing_weeks), mode="valid")
                worst = int(np.argmax(blocks))
                if blocks[worst] > pacing_share * total * (1 + 1e-9):
                    problems.append(
                        f"pacing: committed spend and locked channels put {blocks[worst]:,.0f} in weeks "
                        f"{worst + 1}-{worst + pacing_weeks}, more than {pacing_share:.0%} of the money"
                    )
    for label, mapping in (
        ("week_min", week_min),
        ("week_max", week_max),
        ("min_weeks_on", min_weeks_on),
        ("max_dark_weeks", max_dark_weeks),
    ):
        problems += [f"{label}: no channel {name!r}" for name in mapping or {} if name not in names]
    problems += [f"locked: no channel {name!r}" for name in locked if name not in names]
    if (pacing_weeks is None) != (pacing_share is None):
        problems.append("pacing: give both pacing_weeks and pacing_share")
    if pacing_weeks is not None and not 1 <= pacing_weeks <= weeks:
        problems.append(f"pacing_weeks: must be in [1, {weeks}] (got {pacing_weeks})")
    if pacing_share is not None and not 0 < pacing_share <= 1:
        problems.append(f"pacing_share: must be in (0, 1] (got {pacing_share})")
    if committed is not None and committed.shape != (len(channels), weeks):
        problems.append(f"committed: must be (channels, weeks) = {(len(channels), weeks)}")
    if problems:
        raise MixsimError(problems)


@dataclass(frozen=True)
class WeeklyPlan:
    """A solved week-level plan.

    Attributes
    ----------
    status : str
        ``"optimal"`` or ``"infeasible"``.
    channels : tuple of str
    spend : ndarray, shape (channels, weeks)
        The plan (NaN when infeasible).
    revenue : ndarray, shape (channels, weeks)
        Projected incremental revenue of each channel-week's spend.
    current : ndarray, shape (channels, weeks)
        The current flighting.
    total : float
        The money the plan could spend.
    shadow_price : float
        Revenue of one more dollar of budget (from the LP; for a MILP, with the on-air choices fixed).
    solver : str
    seconds : float
        Build and solve time.
    message : str
        Why it is infeasible, when it is.
    current_revenue : ndarray, shape (channels, weeks)
        Projected revenue of each channel-week at the current flighting (the same curves).
    iterations : int
        Solves made (measure, solve, measure around the plan, solve again, ...); each solve follows a measurement.
    moves : tuple of float
        Each solve's move from the plan it was measured around: the money moved between channel-weeks
        (half the sum of absolute changes), as a share of the money.
    settled : bool
        The last solve moved no more than the closed loop's tolerance.
    rejected : int
        Plans the closed loop set aside because, simulated, they earned less than the plan they moved from.
    runs : int
        Simulation runs the closed loop made to measure curves (0 for a plan solved on given curves).
    """

    status: str
    channels: tuple[str, ...]
    spend: np.ndarray = field(repr=False)
    revenue: np.ndarray = field(repr=False)
    current: np.ndarray = field(repr=False)
    total: float
    shadow_price: float
    solver: str
    seconds: float
    message: str = ""
    current_revenue: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    iterations: int = 1
    moves: tuple[float, ...] = ()
    settled: bool = False
    rejected: int = 0
    runs: int = 0

    @property
    def optimal(self) -> bool:
        return self.status == _program.OPTIMAL

    def to_frame(self, wide: bool = False) -> pd.DataFrame:
        """The flighting plan: one row per channel and week (``channel``, ``week`` from 1, ``spend``,
        ``current``, ``revenue``), or with ``wide=True`` a channels x weeks table of spend, as planners lay out
        a flighting chart, with a ``total`` row and column."""
        weeks = np.arange(1, self.spend.shape[1] + 1)
        if wide:
            table = pd.DataFrame(self.spend, index=pd.Index(self.channels, name="channel"), columns=weeks)
            table.loc["total"] = table.sum(axis=0)
            table["total"] = table.sum(axis=1)
            return table
        c, w = self.spend.shape
        return pd.DataFrame(
            {
                "channel": np.repeat(self.channels, w),
                "week": np.tile(weeks, c),
                "spend": self.spend.ravel(),
                "current": self.current.ravel(),
                "revenue": self.revenue.ravel(),
            }
        )


def solve_weekly(problem: WeeklyProblem, solver: str = "auto") -> WeeklyPlan:
    """Solve a week-level allocation.

    Parameters
    ----------
    problem : WeeklyProblem
    solver : {"auto", "highs", "cbc"}, default="auto"

    Returns
    -------
    WeeklyPlan
        Status ``"infeasible"`` (with a message) when the constraints cannot all hold.

    Raises
    ------
    MixsimError
        If the problem names unknown channels or has settings out of range.
    """
    problem.check()
    started = time.perf_counter()
    program, layout = _build(problem)
    sol = _program.solve(program, solver)
    curves = problem.curves
    c, w = curves.current.shape
    seconds = time.perf_counter() - started
    if sol.status != _program.OPTIMAL:
        nan = np.full((c, w), np.nan)
        return WeeklyPlan(
            _program.INFEASIBLE, curves.channels, nan, nan, curves.current, problem.total, math.nan, sol.solver,
            seconds, "the weekly constraints cannot all hold within the budget (check minimums, locks, pacing "
            "and committed spend against the money available)",
        )  # fmt: skip
    seg = layout["segments"]  # (c, w, k) column index of each segment
    spend = np.clip(sol.x[seg], 0.0, None).sum(axis=2)
    spend[np.abs(spend) < 1e-9 * max(problem.total, 1.0)] = 0.0
    dual = float(sol.duals[layout["budget_row"]]) if len(sol.duals) else math.nan
    return WeeklyPlan(
        _program.OPTIMAL, curves.channels, spend, curves.response(spend), curves.current, problem.total,
        max(-dual, 0.0) + 0.0, sol.solver, seconds, current_revenue=curves.response(curves.current),
    )  # fmt: skip


def _build(problem: WeeklyProblem) -> tuple[_program.Program, dict[str, Any]]:
    curves = problem.curves
    c, w, k = curves.spend.shape
    lengths = np.diff(curves.spend, axis=2)  # (c, w, k-1)
    slopes = np.diff(curves.revenue, axis=2) / lengths
    n_seg = c * w * (k - 1)
    seg = np.arange(n_seg).reshape(c, w, k - 1)
    cost = [-slopes.ravel()]
    lower = [np.zeros(n_seg)]
    upper = [lengths.ravel()]
    integer = [np.zeros(n_seg, dtype=bool)]
    rows: list[_program.Row] = []
    count = n_seg

    def new(n: int, up: float, is_int: bool) -> np.ndarray:
        nonlocal count
        idx = np.arange(count, count + n)
        cost.append(np.zeros(n))
        lower.append(np.zeros(n))
        upper.append(np.full(n, up))
        integer.append(np.full(n, is_int))
        count += n
        return idx

    def row(name: str, index: np.ndarray, coefs: np.ndarray, lo: float, hi: float) -> int:
        rows.append(_program.Row(name, np.asarray(index, dtype=np.int64), np.asarray(coefs, dtype=float), lo, hi))
        return len(rows) - 1

    names = curves.channels
    committed = problem.committed if problem.committed is not None else np.zeros((c, w))
    top = curves.spend[:, :, -1]
    for i, name in enumerate(names):
        locked = name in problem.locked
        week_max = problem.week_max.get(name, math.inf)
        week_min = problem.week_min.get(name, 0.0)
        needs_on = (week_min > 0 or name in problem.min_weeks_on or name in problem.max_dark_weeks) and not locked
        on = new(w, 1.0, True) if needs_on else None
        # A week on air carries a real buy: the weekly minimum, or else 5% of the channel's average current week.
        least_buy = week_min if week_min > 0 else max(1.0, 0.05 * float(curves.current[i].mean()))
        for j in range(w):
            index = seg[i, j]
            ones = np.ones(k - 1)
            if locked:
                row(f"{name} week {j + 1}: locked", index, ones, curves.current[i, j], curves.current[i, j])
                continue
            hi = min(week_max, top[i, j])
            if on is not None:
                # The default least buy never asks more than the week's curve reaches; a week_min is kept as given.
                least = least_buy if week_min > 0 else min(least_buy, hi)
                row(f"{name} week {j + 1}: on air", np.append(index, on[j]), np.append(ones, -hi), -math.inf, 0.0)
                row(f"{name} week {j + 1}: weekly minimum", np.append(index, on[j]), np.append(ones, -least),
                    0.0, math.inf)  # fmt: skip
            elif math.isfinite(week_max) and week_max < top[i, j]:
                row(f"{name} week {j + 1}: weekly maximum", index, ones, -math.inf, week_max)
            if committed[i, j] > 0:
                row(f"{name} week {j + 1}: committed", index, ones, committed[i, j], math.inf)
            if problem.anchor is not None and problem.radius is not None:
                at, step = float(problem.anchor[i, j]), float(problem.radius[i, j])
                row(f"{name} week {j + 1}: closed-loop step", index, ones, max(at - step, 0.0), at + step)
            if len(index) > 1 and np.any(np.diff(slopes[i, j]) > 1e-12 * max(1.0, float(np.abs(slopes[i, j]).max()))):
                # Rising slopes: segment k + 1 only once segment k is full.
                z = new(len(index) - 1, 1.0, True)
                for m in range(len(index) - 1):
                    row("order", np.array([index[m], z[m]]), np.array([1.0, -lengths[i, j, m]]), 0.0, math.inf)
                    row("order", np.array([index[m + 1], z[m]]), np.array([1.0, -lengths[i, j, m + 1]]), -math.inf, 0.0)
        if on is not None:
            least = problem.min_weeks_on.get(name, 0)
            if name in problem.max_dark_weeks:
                least = max(least, w - problem.max_dark_weeks[name])
            if least > 0:
                row(f"{name}: weeks on air", on, np.ones(w), float(least), math.inf)
    all_segments = seg.ravel()
    budget_row = row("budget", all_segments, np.ones(n_seg), -math.inf, problem.total)
    if problem.pacing_weeks is not None and problem.pacing_share is not None:
        cap = problem.pacing_share * problem.total
        for start in range(0, w - problem.pacing_weeks + 1):
            block = seg[:, start : start + problem.pacing_weeks, :].ravel()
            row(f"pacing weeks {start + 1}-{start + problem.pacing_weeks}", block, np.ones(len(block)), -math.inf, cap)
    program = _program.Program(
        np.concatenate(cost), np.concatenate(lower), np.concatenate(upper), np.concatenate(integer), rows
    )
    return program, {"segments": seg, "budget_row": budget_row}


# --------------------------------------------------------------------------------------------------------------
# Measuring channel-week curves by simulation, and a plan's flighting as a scenario.

WEEK_LEVELS: tuple[float, ...] = (0.0, 1.0, 2.0)
"""Spend levels of a channel-week, as multiples of its reference (its current spend, or the channel's average week)."""


def week_spend(scenario: Scenario) -> np.ndarray:
    """The current flighting: planned spend per channel and week, shape (channels, weeks)."""
    horizon = scenario.horizon_days
    weeks = math.ceil(horizon / 7)
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


def _outcome_run(scenario: Scenario, seed: np.random.SeedSequence) -> tuple[float, float]:
    """Revenue and the spend delivered over the horizon."""
    tune_malloc()
    record = run(scenario, seed)
    return record.conversions * scenario.economics.order_value, float(record.spend.sum())


def _average_week(base: np.ndarray) -> np.ndarray:
    """Each channel's average week (channels x 1); for a channel with no spend at all, the plan's average
    channel-week (at least 1), so that it can be given a real buy."""
    average = base.sum(axis=1, keepdims=True) / base.shape[1]
    return np.where(average > 0, average, max(float(base.sum()) / max(base.size, 1), 1.0))


def _reference(base: np.ndarray) -> np.ndarray:
    """Each channel-week's reference spend: its spend in the plan, or for a dark week the channel's average week."""
    return np.where(base > 0, base, _average_week(base))


def _grid(levels: Sequence[float]) -> list[float]:
    grid = sorted({0.0, *(float(m) for m in levels)})
    if 1.0 not in grid or grid[0] < 0.0:
        raise ValueError(f"levels must be >= 0 and include 1, the plan itself (got {list(levels)})")
    return grid


def week_run_count(
    around: np.ndarray,
    replications: int = 2,
    levels: Sequence[float] = WEEK_LEVELS,
    every: int = 1,
    season: Sequence[float] | None = None,
) -> int:
    """The runs :func:`measure_week_curves` makes around the plan ``around`` (channels x weeks), shared ones once."""
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
    """
    if every < 1:
        raise ValueError(f"every must be >= 1 (got {every})")
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
        Breakpoints at the levels' spends (0 first), revenue incremental against the week off.

    Examples
    --------
    >>> curves = measure_week_curves(scenario, replications=1, every=4)  # doctest: +SKIP
    >>> curves.revenue.shape  # doctest: +SKIP
    (5, 13, 3)
    """
    base = week_spend(scenario) if around is None else np.asarray(around, dtype=float)
    c, w = base.shape
    ref, grid = _reference(base), _grid(levels)
    weeks = measured_weeks(w, every, scenario.seasonality)
    seeds = np.random.SeedSequence(root_seed(scenario, seed), spawn_key=(WEEK_KEY,)).spawn(replications)
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
    results = [value for value, _ in run_all(_outcome_run, jobs, executor, progress)]
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
    return WeekCurves(scenario.channel_names, points, response, base, plan_revenue, len(jobs))


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
    solver: str = "auto",
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WeeklyPlan:
    """Measure channel-week curves around a starting plan, solve, then measure around the new plan and solve
    again within a trust region, until a solve moves no more than ``tolerance`` of the money or ``max_iterations``
    solves are made.

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
        The plan has settled when a solve moves no more than this share of the money between channel-weeks.
    solver : {"auto", "highs", "cbc"}

    Returns
    -------
    WeeklyPlan
        The last solve's plan, with ``iterations``, ``moves``, ``settled`` and ``rejected``.
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1 (got {max_iterations})")
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
    rejected = 0
    for iteration in range(1, max_iterations + 1):
        described = problem(dataclasses.replace(curves, current=current))
        if region is not None:
            described = dataclasses.replace(described, anchor=anchor, radius=region)
        plan = solve_weekly(described, solver)
        if plan.optimal:
            moves.append(float(np.abs(plan.spend - anchor).sum() / 2 / max(plan.total, 1.0)))
        settled = plan.optimal and moves[-1] <= tolerance
        plan = dataclasses.replace(
            plan, iterations=iteration, moves=tuple(moves), rejected=rejected, runs=runs, settled=settled
        )
        if not plan.optimal:
            return plan
        if settled or iteration == max_iterations:
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


def verify_weekly(
    scenario: Scenario,
    plan: WeeklyPlan,
    *,
    seed: int | None = None,
    replications: int = 10,
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Simulate the plan's flighting against the scenario's own, paired on random numbers apart from the curves'.

    Returns
    -------
    pandas.DataFrame
        Rows ``current``, ``plan`` and ``gain`` (plan minus current, replication by replication): the mean
        revenue over the horizon and its 90% interval (``ci90_low``, ``ci90_high``), the mean spend the runs
        delivered (``spent``; a channel-week can deliver less than it is booked for when its audience is
        exhausted), and the projected gain (from the curves: the sum over channel-weeks of each curve at the plan
        minus at the current flighting).
    """
    from mixsim.tables import interval

    seeds = np.random.SeedSequence(root_seed(scenario, seed), spawn_key=(VERIFY_WEEK_KEY,)).spawn(replications)
    planned = with_week_spend(scenario, plan.spend)
    jobs = [(scenario, s) for s in seeds] + [(planned, s) for s in seeds]
    values = np.array(run_all(_outcome_run, jobs, executor, progress))  # (2 * replications, 2)
    now, then = values[:replications], values[replications:]
    rows = []
    for label, v in (("current", now), ("plan", then), ("gain", then - now)):
        mean, low, high = interval(v[:, 0])
        rows.append(
            {"outcome": label, "mean": float(mean), "ci90_low": float(low), "ci90_high": float(high),
             "spent": float(v[:, 1].mean())}
        )  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["projected_gain"] = [math.nan, math.nan, float(plan.revenue.sum() - plan.current_revenue.sum())]
    return frame


def plan_to_json(plan: WeeklyPlan, verification: pd.DataFrame | None = None) -> str:
    """The plan as one JSON object: status, totals, the solver's figures and one record per channel-week."""
    import json

    from mixsim.tables import json_records

    doc = {
        "status": plan.status,
        "message": plan.message or None,
        "total": plan.total,
        "spend": float(np.nansum(plan.spend)),
        "projected_revenue": float(np.nansum(plan.revenue)),
        "projected_current_revenue": float(np.nansum(plan.current_revenue)) if plan.current_revenue.size else None,
        "shadow_price": plan.shadow_price if math.isfinite(plan.shadow_price) else None,
        "solver": plan.solver,
        "iterations": plan.iterations,
        "moves": list(plan.moves),
        "settled": plan.settled,
        "rejected": plan.rejected,
        "runs": plan.runs,
        "weeks": json_records(plan.to_frame()),
        "verification": None if verification is None else json_records(verification),
    }
    return json.dumps(doc, indent=2, allow_nan=False)


def write_weekly(plan: WeeklyPlan, path: str | Path, verification: pd.DataFrame | None = None) -> Path:
    """Write the plan atomically: ``.csv`` (the flighting chart: channels x weeks), ``.json`` (everything), or
    ``.xlsx`` (a Flighting sheet laid out as a flighting chart, a Weeks sheet in long form, and the verification
    when there is one).

    Raises
    ------
    MixsimError
        For any other suffix.
    """
    import io

    from mixsim._files import write_atomic

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        return write_atomic(target, plan.to_frame(wide=True).to_csv())
    if suffix == ".json":
        return write_atomic(target, plan_to_json(plan, verification) + "\n")
    if suffix != ".xlsx":
        raise MixsimError(f"{target}: a week-level plan is written as .csv, .json or .xlsx (got {target.suffix!r})")
    from openpyxl.styles import Font

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        wide = plan.to_frame(wide=True)
        wide.columns = [f"Week {c}" if c != "total" else "Total" for c in wide.columns]
        wide.to_excel(writer, sheet_name="Flighting")
        plan.to_frame().to_excel(writer, sheet_name="Weeks", index=False)
        if verification is not None:
            verification.to_excel(writer, sheet_name="Verification", index=False)
        sheet = writer.sheets["Flighting"]
        for row in sheet.iter_rows(min_row=2, min_col=2):
            for cell in row:
                cell.number_format = "#,##0"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "B2"
    return write_atomic(target, buffer.getvalue())


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
    from mixsim.simulation import simulate

    return simulate(with_week_spend(scenario, plan.spend), seed=seed, replications=replications, executor=executor)
