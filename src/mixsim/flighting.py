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
  carries at least the weekly minimum, or else 5% of the channel's average current week);
- pacing: no block of ``pacing_weeks`` consecutive weeks (a month, a quarter) takes more than ``pacing_share`` of
  the budget;
- channels locked at their current flighting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mixsim import _program
from mixsim.errors import MixsimError

_TOL = 1e-7


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
    """

    channels: tuple[str, ...]
    spend: np.ndarray
    revenue: np.ndarray
    current: np.ndarray

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

    @property
    def total(self) -> float:
        """The money the plan may spend: committed + additional, or the budget."""
        if self.additional is not None:
            committed = 0.0 if self.committed is None else float(self.committed.sum())
            return committed + self.additional
        return self.budget

    def check(self) -> None:
        """Refuse a problem that names unknown channels or has out-of-range settings (``MixsimError``)."""
        names = set(self.curves.channels)
        problems = []
        for label, mapping in (
            ("week_min", self.week_min),
            ("week_max", self.week_max),
            ("min_weeks_on", self.min_weeks_on),
            ("max_dark_weeks", self.max_dark_weeks),
        ):
            problems += [f"{label}: no channel {name!r}" for name in mapping if name not in names]
        problems += [f"locked: no channel {name!r}" for name in self.locked if name not in names]
        if (self.pacing_weeks is None) != (self.pacing_share is None):
            problems.append("pacing: give both pacing_weeks and pacing_share")
        if self.pacing_weeks is not None and not 1 <= self.pacing_weeks <= self.curves.weeks:
            problems.append(f"pacing_weeks: must be in [1, {self.curves.weeks}] (got {self.pacing_weeks})")
        if self.pacing_share is not None and not 0 < self.pacing_share <= 1:
            problems.append(f"pacing_share: must be in (0, 1] (got {self.pacing_share})")
        if self.committed is not None and self.committed.shape != self.curves.current.shape:
            problems.append(f"committed: must be (channels, weeks) = {self.curves.current.shape}")
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
        max(-dual, 0.0) + 0.0, sol.solver, seconds,
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
                row(f"{name} week {j + 1}: on air", np.append(index, on[j]), np.append(ones, -hi), -math.inf, 0.0)
                row(f"{name} week {j + 1}: weekly minimum", np.append(index, on[j]), np.append(ones, -least_buy),
                    0.0, math.inf)  # fmt: skip
            elif math.isfinite(week_max) and week_max < top[i, j]:
                row(f"{name} week {j + 1}: weekly maximum", index, ones, -math.inf, week_max)
            if committed[i, j] > 0:
                row(f"{name} week {j + 1}: committed", index, ones, committed[i, j], math.inf)
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
