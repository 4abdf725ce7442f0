"""Solving a week-level problem: the program over channel-weeks, built and solved into a plan.

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

The channel-level counterpart is :func:`mixsim.optimizer.solve`; both describe their program with
:mod:`mixsim.optimizer.program`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from mixsim.optimizer import program as _program
from mixsim.optimizer.weekly.plan import WeeklyPlan
from mixsim.optimizer.weekly.problem import WeeklyProblem

__all__ = ["solve_weekly"]


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
    InputError
        If the problem names unknown channels or has settings out of range.
    """
    problem.check()
    started = time.perf_counter()
    program, layout = _build(problem)
    sol = _program.solve(program, solver)
    curves = problem.curves
    c, w = curves.current.shape
    seconds = time.perf_counter() - started
    provenance: dict[str, Any] = {
        "constraints": problem.constraints,
        "seed": curves.seed,
        "replications": curves.replications,
    }
    if sol.status != _program.OPTIMAL:
        nan = np.full((c, w), np.nan)
        return WeeklyPlan(
            _program.INFEASIBLE, curves.channels, nan, nan, curves.current, problem.total, math.nan, sol.solver,
            seconds, "the weekly constraints cannot all hold within the budget (check minimums, locks, pacing "
            "and committed spend against the money available)", **provenance,
        )  # fmt: skip
    seg = layout["segments"]  # (c, w, k) column index of each segment
    spend = np.clip(sol.x[seg], 0.0, None).sum(axis=2)
    spend[np.abs(spend) < 1e-9 * max(problem.total, 1.0)] = 0.0
    dual = float(sol.duals[layout["budget_row"]]) if len(sol.duals) else math.nan
    return WeeklyPlan(
        _program.OPTIMAL, curves.channels, spend, curves.response(spend), curves.current, problem.total,
        max(-dual, 0.0) + 0.0, sol.solver, seconds, current_revenue=curves.response(curves.current), **provenance,
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
