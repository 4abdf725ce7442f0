"""The budget optimizer: response curves become a linear (or mixed-integer) program.

Describe, then solve: :class:`Problem` holds the curves and the planner's constraints; :func:`solve` builds the
program and returns a :class:`~mixsim.optimize.plan.Plan`. Each curve becomes piecewise-linear segments on breakpoints
from 0 to the channel's largest allowed spend. Concave curves have segments of falling slope, so an LP fills
them in order by itself and is exact at the breakpoints; S-shaped curves (rising slopes first), minimum buys and
fixed activation costs need binaries (a MILP).

:func:`optimize` closes the loop with the simulator: it measures curves around the current plan, solves,
re-measures around the new plan (channel interactions make true response non-separable) and re-solves until
the plan stops moving; :func:`verify` simulates the plan against the current one; :func:`frontier` solves over a
range of budgets.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mixsim.errors import ScenarioError
from mixsim.optimize import program as _program
from mixsim.optimize.curves import DEFAULT_LEVELS, CurveSet, ResponseCurve, response_curves
from mixsim.optimize.plan import Binding, ChannelPlan, Frontier, Plan, Verification
from mixsim.scenario import Group, Limit, Scenario
from mixsim.simulation import ProgressCallback, Task, root_seed, run_tasks

__all__ = ["OBJECTIVES", "Problem", "frontier", "optimize", "solve", "verify"]

OBJECTIVES: tuple[str, ...] = ("revenue", "profit", "conversions", "min-spend", "cpa", "roas")
"""revenue, profit (revenue x margin - spend), conversions: maximize. min-spend: least spend reaching ``target``
conversions. cpa / roas: most conversions with spend per conversion at most / revenue per dollar at least
``target``."""

SEGMENTS = 24
"""Breakpoint segments per Hill curve (half even in spend, half even in response)."""

_TOL = 1e-6

VERIFY_KEY = 0x7E51F1
"""Spawn key of verification runs: a stream family apart from the curve measurements of the same seed."""


@dataclass(frozen=True)
class Problem:
    """An allocation problem, described before it is solved.

    Parameters
    ----------
    curves : CurveSet
        One response curve per channel (incremental revenue against spend).
    budget : float
        Most that may be spent, fixed costs included.
    objective : str, default="revenue"
        One of :data:`OBJECTIVES`.
    target : float, optional
        Conversions for ``min-spend``; the cost per conversion for ``cpa``; revenue per dollar for ``roas``.
    limits : dict of str to Limit, optional
        Per-channel bounds on spend.
    groups : sequence of Group, optional
        Share constraints on groups of channels (shares of media spend).
    max_change : float, optional
        Each channel within this fraction of its current spend (0.3: from 70% to 130%).
    current : dict of str to float, optional
        The current plan; default the curves' own.
    segments : int, default=SEGMENTS
        Breakpoint segments per Hill curve.
    anchor, radius : dict of str to float and float, optional
        A trust region: each channel within ``radius`` times the budget of its spend in ``anchor`` (the closed
        loop keeps each re-solve near the plan its curves were measured around, where they are accurate).
    """

    curves: CurveSet
    budget: float
    objective: str = "revenue"
    target: float | None = None
    limits: dict[str, Limit] = field(default_factory=dict)
    groups: tuple[Group, ...] = ()
    max_change: float | None = None
    current: dict[str, float] | None = None
    segments: int = SEGMENTS
    anchor: dict[str, float] | None = None
    radius: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.objective not in OBJECTIVES:
            problems.append(f"objective: must be one of {', '.join(OBJECTIVES)} (got {self.objective!r})")
        if not (math.isfinite(self.budget) and self.budget >= 0):
            problems.append(f"budget: must be a number >= 0 (got {self.budget})")
        needs_target = self.objective in ("min-spend", "cpa", "roas")
        if needs_target and (self.target is None or not self.target > 0):
            problems.append(f"target: objective {self.objective} needs a target > 0 (got {self.target})")
        in_conversions = self.objective in ("conversions", "min-spend", "cpa", "roas")
        if in_conversions and not self.curves.order_value > 0:
            problems.append(
                f"objective: {self.objective} is counted in conversions and needs the revenue per conversion "
                "(--order-value with --curves)"
            )
        if self.max_change is not None and not self.max_change >= 0:
            problems.append(f"max_change: must be >= 0 (got {self.max_change})")
        if self.segments < 2:
            problems.append(f"segments: must be >= 2 (got {self.segments})")
        names = set(self.curves.channels)
        for name in self.limits:
            if name not in names:
                problems.append(f"limits: no curve for channel {name!r}")
        for g in self.groups:
            for name in g.channels:
                if name not in names:
                    problems.append(f"groups.{g.name}: no curve for channel {name!r}")
        if problems:
            raise ScenarioError(problems)

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        curves: CurveSet,
        *,
        budget: float | None = None,
        objective: str = "revenue",
        target: float | None = None,
        max_change: float | None = None,
        segments: int = SEGMENTS,
    ) -> Problem:
        """The problem a scenario's ``[budget]`` table describes (total, limits, groups), over ``curves``."""
        rules = scenario.budget
        return cls(
            curves=curves,
            budget=scenario.budget_total if budget is None else budget,
            objective=objective,
            target=target,
            limits=dict(rules.limits) if rules is not None else {},
            groups=rules.groups if rules is not None else (),
            max_change=max_change,
            current={c.name: c.spend for c in scenario.channels},
            segments=segments,
        )

    @property
    def current_plan(self) -> dict[str, float]:
        return dict(self.current) if self.current is not None else self.curves.current

    def bounds(self) -> list[tuple[float, str, float, str]]:
        """Per channel: (lower, why, upper, why) on its spend, from limits, --max-change and the curve's end."""
        out = []
        current = self.current_plan
        for c in self.curves.curves:
            lo, lo_why = 0.0, ""
            hi, hi_why = c.max_spend, "end of its curve"
            if not math.isfinite(hi):
                hi, hi_why = self.budget, "the budget"
            limit = self.limits.get(c.channel)
            if limit is not None:
                if limit.min > lo:
                    lo, lo_why = limit.min, "budget.limits"
                if limit.max < hi:
                    hi, hi_why = limit.max, "budget.limits"
            if self.max_change is not None:
                # A plan that asks more of a channel than it can deliver is held at what it delivers.
                now = min(current.get(c.channel, 0.0), c.max_spend)
                down, up = now * (1 - self.max_change), now * (1 + self.max_change)
                pct = f"{self.max_change:.0%}"
                if down > lo:
                    lo, lo_why = down, f"--max-change {pct}"
                if up < hi:
                    hi, hi_why = up, f"--max-change {pct}"
            if self.anchor is not None and self.radius is not None:
                at, step = self.anchor.get(c.channel, 0.0), self.radius * self.budget
                if at - step > lo:
                    lo, lo_why = at - step, "closed-loop step"
                if at + step < hi:
                    hi, hi_why = at + step, "closed-loop step"
            out.append((lo, lo_why, hi, hi_why))
        return out

    def describe(self) -> dict[str, object]:
        """The constraints as given, for reports and the assumptions sheet."""
        doc: dict[str, object] = {"budget": self.budget, "objective": self.objective}
        if self.target is not None:
            doc["target"] = self.target
        if self.limits:
            doc["limits"] = {
                k: {"min": v.min, "max": v.max if math.isfinite(v.max) else None} for k, v in self.limits.items()
            }
        if self.groups:
            doc["groups"] = {
                g.name: {"channels": list(g.channels), "min_share": g.min_share, "max_share": g.max_share}
                for g in self.groups
            }
        if self.max_change is not None:
            doc["max_change"] = self.max_change
        return doc


def _breakpoints(curve: ResponseCurve, upper: float, segments: int) -> np.ndarray:
    """Spend breakpoints from 0 to ``upper``: the points themselves, or for a Hill curve half even in spend and
    half even in response (dense where the curve bends)."""
    if upper <= 0:
        return np.array([0.0])
    if curve.hill is None:
        inside = curve.spend[(curve.spend > 0) & (curve.spend < upper)]
        return np.unique(np.concatenate([[0.0], inside, [upper]]))
    hill = curve.hill
    even = np.linspace(0.0, upper, segments // 2 + 1)
    top = float(hill(upper))
    if hill.ymax > 0 and top > 0:
        levels = np.linspace(0.0, top, segments - segments // 2 + 1)[1:-1]
        by_response = hill.half_saturation * (levels / (hill.ymax - levels)) ** (1.0 / hill.slope)
        even = np.concatenate([even, by_response])
    xs = np.unique(np.clip(even, 0.0, upper))
    # Drop breakpoints closer than a dollar's fraction: they only add degenerate segments.
    keep = np.concatenate([[True], np.diff(xs) > upper * 1e-9])
    return xs[keep]


@dataclass
class _Layout:
    """Where each channel's variables sit in the program."""

    segments: list[np.ndarray]
    active: list[int | None]
    slopes: list[np.ndarray]
    lengths: list[np.ndarray]
    rows: dict[str, int]
    row_bound: dict[str, float]


def _build(problem: Problem, relax: frozenset[str] = frozenset()) -> tuple[_program.Program, _Layout]:
    """The program for ``problem`` (minimization), leaving out the constraint families named in ``relax``."""
    curves = problem.curves
    bounds = problem.bounds()
    value = curves.order_value if curves.order_value > 0 else math.nan
    cost: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    integer: list[bool] = []
    rows: list[_program.Row] = []
    layout = _Layout([], [], [], [], {}, {})

    def new(n: int, lo: float, hi: np.ndarray | float, is_int: bool) -> np.ndarray:
        start = len(cost)
        cost.extend([0.0] * n)
        lower.extend([lo] * n)
        upper.extend(np.broadcast_to(np.asarray(hi, dtype=float), (n,)).tolist())
        integer.extend([is_int] * n)
        return np.arange(start, start + n)

    def row(name: str, index: np.ndarray, coefs: np.ndarray, lo: float, hi: float) -> None:
        layout.rows[name] = len(rows)
        layout.row_bound[name] = hi if math.isfinite(hi) else lo
        rows.append(_program.Row(name, np.asarray(index), np.asarray(coefs, dtype=float), lo, hi))

    budget_index: list[np.ndarray] = []
    budget_coef: list[np.ndarray] = []
    revenue_index: list[np.ndarray] = []
    revenue_coef: list[np.ndarray] = []
    for curve, (lo, lo_why, hi, hi_why) in zip(curves.curves, bounds, strict=True):
        if "limits" in relax and lo_why == "budget.limits":
            lo = 0.0
        if "max_change" in relax and lo_why.startswith("--max-change"):
            lo = 0.0
        hi = max(hi, 0.0)
        # A bound set by the planner (limits, --max-change) is a row, so that its dual says what relaxing it
        # is worth; the breakpoints then run on to the curve's end, with the bounds themselves among them.
        end = hi if hi_why == "end of its curve" else max(hi, min(curve.max_spend, max(problem.budget, hi)))
        xs = _breakpoints(curve, end, problem.segments)
        if 0 < hi < end or 0 < lo < end:
            xs = np.unique(np.concatenate([xs, [v for v in (lo, hi) if 0 < v < end]]))
        ys = curve(xs)
        lengths = np.diff(xs)
        slopes = np.diff(ys) / lengths if len(xs) > 1 else np.zeros(0)
        seg = new(len(lengths), 0.0, lengths, False)
        layout.segments.append(seg)
        layout.slopes.append(slopes)
        layout.lengths.append(lengths)
        ones = np.ones(len(seg))
        if len(seg) > 1 and np.any(np.diff(slopes) > 1e-12 * max(1.0, float(np.abs(slopes).max()))):
            # Rising slopes: binaries force the segments to fill in order (segment k+1 only once k is full).
            z = new(len(seg) - 1, 0.0, 1.0, True)
            for k in range(len(seg) - 1):
                rows.append(_program.Row("order", np.array([seg[k], z[k]]), np.array([1.0, -lengths[k]]), 0, math.inf))
                rows.append(
                    _program.Row("order", np.array([seg[k + 1], z[k]]), np.array([1.0, -lengths[k + 1]]), -math.inf, 0)
                )
        active = None
        if len(seg) and (curve.min_spend > 0 or curve.fixed_cost > 0):
            active = int(new(1, 0.0, 1.0, True)[0])
            rows.append(_program.Row("on", np.append(seg, active), np.append(ones, -end), -math.inf, 0.0))
            if curve.min_spend > 0:
                row(
                    f"{curve.channel}: minimum buy",
                    np.append(seg, active),
                    np.append(ones, -curve.min_spend),
                    0.0,
                    math.inf,
                )
        layout.active.append(active)
        if lo > 0 and len(seg):
            row(f"{curve.channel}: min ({lo_why})", seg, ones, lo, math.inf)
        if hi_why != "end of its curve" and len(seg):
            row(f"{curve.channel}: max ({hi_why})", seg, ones, -math.inf, hi)
        elif len(seg):
            layout.row_bound[f"{curve.channel}: max ({hi_why})"] = hi
        budget_index.append(seg)
        budget_coef.append(ones)
        revenue_index.append(seg)
        revenue_coef.append(slopes)
        if active is not None and curve.fixed_cost > 0:
            budget_index.append(np.array([active]))
            budget_coef.append(np.array([curve.fixed_cost]))

    spend_idx = np.concatenate(budget_index) if budget_index else np.zeros(0, dtype=np.int64)
    spend_coef = np.concatenate(budget_coef) if budget_coef else np.zeros(0)
    rev_idx = np.concatenate(revenue_index) if revenue_index else np.zeros(0, dtype=np.int64)
    rev_coef = np.concatenate(revenue_coef) if revenue_coef else np.zeros(0)
    row("budget", spend_idx, spend_coef, -math.inf, problem.budget)

    if "groups" not in relax:
        media = np.concatenate(layout.segments) if layout.segments else np.zeros(0, dtype=np.int64)
        for g in problem.groups:
            members = np.concatenate([layout.segments[curves.channels.index(n)] for n in g.channels])
            for share, sense in ((g.min_share, "min_share"), (g.max_share, "max_share")):
                if share is None:
                    continue
                # sum(group) - share * sum(all) >= 0 (min) or <= 0 (max)
                coefs = np.zeros(len(cost))
                coefs[media] -= share
                coefs[members] += 1.0
                nz = np.flatnonzero(coefs)
                lo, hi = (0.0, math.inf) if sense == "min_share" else (-math.inf, 0.0)
                row(f"group {g.name}: {sense} {share:g}", nz, coefs[nz], lo, hi)

    objective = problem.objective
    target = problem.target or 0.0
    c = np.zeros(len(cost))
    if objective == "revenue":
        np.add.at(c, rev_idx, -rev_coef)
    elif objective == "profit":
        np.add.at(c, rev_idx, -rev_coef * curves.margin)
        np.add.at(c, spend_idx, spend_coef)
    elif objective in ("conversions", "cpa", "roas"):
        np.add.at(c, rev_idx, -rev_coef / value)
    elif objective == "min-spend":
        np.add.at(c, spend_idx, spend_coef)
    if "target" not in relax:
        if objective == "min-spend":
            row(f"target: {target:g} conversions", rev_idx, rev_coef / value, target, math.inf)
        elif objective == "cpa":
            # spend <= cpa * conversions
            coefs = np.zeros(len(cost))
            np.add.at(coefs, spend_idx, spend_coef)
            np.add.at(coefs, rev_idx, -rev_coef * target / value)
            nz = np.flatnonzero(coefs)
            row(f"target: CPA at most {target:g}", nz, coefs[nz], -math.inf, 0.0)
        elif objective == "roas":
            coefs = np.zeros(len(cost))
            np.add.at(coefs, rev_idx, rev_coef)
            np.add.at(coefs, spend_idx, -target * spend_coef)
            nz = np.flatnonzero(coefs)
            row(f"target: ROAS at least {target:g}", nz, coefs[nz], 0.0, math.inf)

    program = _program.Program(
        cost=c,
        lower=np.array(lower),
        upper=np.array(upper),
        integer=np.array(integer, dtype=bool),
        rows=rows,
    )
    return program, layout


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
    if any(lo > hi + _TOL for lo, _, hi, _ in problem.bounds()) or _overlapping_shares(problem):
        return _infeasible(problem, solver, time.perf_counter() - started, 0.0, _program.choose(solver))
    program, layout = _build(problem)
    built = time.perf_counter() - started
    sol = _program.solve(program, solver)
    if sol.status != _program.OPTIMAL:
        return _infeasible(problem, solver, built, sol.seconds, sol.solver)
    plan = _plan(problem, program, layout, sol, built)
    if any(b.name == "budget" for b in plan.binding):
        # Where the plan sits on a breakpoint, or every channel is at its maximum, the budget row's dual is not
        # unique (a degenerate vertex): HiGHS and CBC may return different valid duals, none of them what the
        # next dollar returns. With the budget the only constraint across channels, the next dollar goes to the
        # best segment with room left; otherwise a hair more budget leaves the vertex, and the dual there is it.
        onward = _next_dollar(problem, program, layout, sol.x)
        if onward is not None:
            return dataclasses.replace(plan, shadow_price=onward)
        step = 1e-6 * max(problem.budget, 1.0)
        more, layout_more = _build(dataclasses.replace(problem, budget=problem.budget + step))
        after = _program.solve(more, solver)
        if after.status == _program.OPTIMAL and len(after.duals):
            # An upper bound's worth is minus its dual in the minimization, whatever the objective.
            onward = max(-float(after.duals[layout_more.rows["budget"]]), 0.0) + 0.0
            plan = dataclasses.replace(plan, shadow_price=onward)
    return plan


def _next_dollar(problem: Problem, program: _program.Program, layout: _Layout, x: np.ndarray) -> float | None:
    """What one more dollar of budget returns, read off a concave LP whose only constraint across channels is
    the budget (None otherwise): the best next segment of any channel with room left, or nothing."""
    if problem.groups or problem.objective not in ("revenue", "conversions", "profit") or program.integer.any():
        return None
    best = 0.0
    slack = _TOL * max(problem.budget, 1.0)  # solvers' values are exact to about this (CBC's to 8 digits)
    curves = problem.curves
    for k, (_, _, hi, hi_why) in enumerate(problem.bounds()):
        seg = layout.segments[k]
        used = x[seg]
        if not len(seg):
            continue
        if used.sum() >= hi - slack:
            if hi_why == "the budget":
                # Held only by the budget itself: a dollar more of budget is a dollar more this channel can take.
                revenue = float(curves.curves[k].marginal(hi))
                worth = {"revenue": revenue, "profit": revenue * curves.margin - 1.0}.get(
                    problem.objective, revenue / curves.order_value
                )
                best = max(best, worth)
            continue
        room = np.flatnonzero(used < layout.lengths[k] - slack)
        if len(room):
            best = max(best, -float(program.cost[seg[room[0]]]))  # segments of a concave curve fill in order
    return best + 0.0


def _overlapping_shares(problem: Problem) -> bool:
    """Whether two groups with no channel in common must each have a minimum share adding to more than all."""
    groups = [g for g in problem.groups if g.min_share]
    return any(
        not set(a.channels) & set(b.channels) and (a.min_share or 0) + (b.min_share or 0) > 1 + _TOL
        for i, a in enumerate(groups)
        for b in groups[i + 1 :]
    )


def _plan(problem: Problem, program: _program.Program, layout: _Layout, sol: _program.Solution, built: float) -> Plan:
    curves = problem.curves
    current = problem.current_plan
    value = curves.order_value
    lines = []
    for k, curve in enumerate(curves.curves):
        seg = layout.segments[k]
        x = np.clip(sol.x[seg], 0.0, layout.lengths[k])
        spend = float(x.sum())
        if spend < 1e-6 * max(problem.budget, 1.0):
            spend = 0.0
        now = current.get(curve.channel, 0.0)
        revenue = float(curve(spend))
        marginal = float(curve.marginal(spend))
        if spend == 0.0 and len(layout.slopes[k]):
            # An unused channel's first dollars are what the program weighed: the first segment's average return.
            # A fitted curve's derivative at 0 can be far steeper (infinite for a Hill shape below 1) and would make
            # a plan that rightly leaves the channel out look as if it should not.
            marginal = float(layout.slopes[k][0])
        lines.append(
            ChannelPlan(
                channel=curve.channel,
                spend=spend,
                current=now,
                revenue=revenue,
                conversions=revenue / value if value > 0 else math.nan,
                current_revenue=float(curve(now)),
                marginal_return=marginal,
                fixed_cost=curve.fixed_cost,
                book=curve.to_book(spend),
            )
        )
    # The program is a minimization (objectives that maximize are minimized as their negative), and a row's
    # dual is the change of that minimum per unit of the row's bound. What relaxing a row is worth, in the
    # objective's own terms (for min-spend: the spend it saves), is then minus the dual of an upper bound and
    # the dual of a lower bound, whichever the solver's own sign conventions.
    binding = []
    scale = max(problem.budget, 1.0)
    spent = {line.channel: line.spend for line in lines}
    notes: list[str] = []
    for name, i in layout.rows.items():
        r = program.rows[i]
        activity = float(r.coefs @ sol.x[r.index])
        upper = math.isfinite(r.upper) and activity >= r.upper - _TOL * scale
        lower = math.isfinite(r.lower) and activity <= r.lower + _TOL * scale
        if name.endswith(": minimum buy") and not spent[name.removesuffix(": minimum buy")] > 0:
            continue  # a channel not used is at its "minimum buy" of nothing: nothing binds
        if (upper or lower) and name.endswith("(closed-loop step)"):
            notes.append(f"{name.split(':')[0]} was held within the closed loop's step; more iterations may move it")
            continue
        if upper or lower:
            dual = float(sol.duals[i]) if len(sol.duals) else math.nan
            binding.append(Binding(name, layout.row_bound[name], (-dual if upper else dual) + 0.0))
    for line in lines:
        name = f"{line.channel}: max (end of its curve)"
        bound = layout.row_bound.get(name)
        if bound is not None and line.spend >= bound - _TOL * scale and bound > 0:
            binding.append(Binding(name, bound))
    budget_dual = float(sol.duals[layout.rows["budget"]]) if len(sol.duals) else math.nan
    shadow = -budget_dual + 0.0
    objective_value = _objective_value(problem, lines)
    return Plan(
        status="optimal",
        objective=problem.objective,
        objective_value=objective_value,
        budget=problem.budget,
        channels=tuple(lines),
        shadow_price=shadow,
        binding=tuple(binding),
        solver=sol.solver,
        build_seconds=built,
        solve_seconds=sol.seconds,
        order_value=value,
        margin=curves.margin,
        # Separable curves summed can undershoot far from where they were measured: a total is never below 0.
        total_revenue=max(
            0.0,
            curves.plan_revenue
            + sum(c.revenue - float(k(k.current)) for c, k in zip(lines, curves.curves, strict=True)),
        ),
        current_total_revenue=curves.plan_revenue if _measured_at(curves, current) else math.nan,
        constraints=problem.describe(),
        source=curves.source,
        seed=curves.seed,
        replications=curves.replications,
        notes=tuple(notes),
    )


def _measured_at(curves: CurveSet, plan: dict[str, float]) -> bool:
    """Whether ``curves`` were measured around ``plan`` (then their simulated total is the plan's)."""
    return all(math.isclose(c.current, plan.get(c.channel, 0.0), rel_tol=1e-9, abs_tol=1e-6) for c in curves.curves)


def _objective_value(problem: Problem, lines: Sequence[ChannelPlan]) -> float:
    revenue = sum(c.revenue for c in lines)
    spend = sum(c.spend for c in lines) + sum(c.fixed_cost for c in lines if c.active)
    if problem.objective == "revenue":
        return revenue
    if problem.objective == "profit":
        return revenue * problem.curves.margin - spend
    if problem.objective == "min-spend":
        return spend
    return revenue / problem.curves.order_value


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _infeasible(problem: Problem, solver: str, built: float, seconds: float, name: str) -> Plan:
    """An infeasible plan, with a sentence naming the conflict."""
    return Plan(
        status="infeasible",
        objective=problem.objective,
        objective_value=math.nan,
        budget=problem.budget,
        channels=tuple(
            ChannelPlan(
                c.channel,
                math.nan,
                problem.current_plan.get(c.channel, 0.0),
                math.nan,
                math.nan,
                math.nan,
                math.nan,
                c.fixed_cost,
            )
            for c in problem.curves.curves
        ),
        shadow_price=math.nan,
        binding=(),
        solver=name,
        build_seconds=built,
        solve_seconds=seconds,
        order_value=problem.curves.order_value,
        margin=problem.curves.margin,
        constraints=problem.describe(),
        source=problem.curves.source,
        seed=problem.curves.seed,
        message=explain_infeasible(problem, solver),
    )


def explain_infeasible(problem: Problem, solver: str = "auto") -> str:
    """A sentence naming why ``problem`` has no feasible plan."""
    curves = problem.curves.curves
    bounds = problem.bounds()
    for curve, (lo, lo_why, hi, hi_why) in zip(curves, bounds, strict=True):
        if lo > hi + _TOL:
            return (
                f"channel {curve.channel}: its minimum {_money(lo)} ({lo_why}) is above its maximum "
                f"{_money(hi)} ({hi_why})"
            )
        if 0 < hi < curve.min_spend and lo > 0:
            return (
                f"channel {curve.channel}: it must be used ({_money(lo)} from {lo_why}) but its minimum buy "
                f"{_money(curve.min_spend)} is above its maximum {_money(hi)} ({hi_why})"
            )
    forced = sum(
        max(lo, c.min_spend if lo > 0 else 0.0) + (c.fixed_cost if lo > 0 else 0.0)
        for c, (lo, *_rest) in zip(curves, bounds, strict=True)
    )
    if forced > problem.budget + _TOL:
        why = sorted({lo_why for lo, lo_why, *_rest in bounds if lo > 0})
        fixed = any(lo > 0 and c.fixed_cost > 0 for c, (lo, *_rest) in zip(curves, bounds, strict=True))
        return (
            f"channel minimums add to {_money(forced)} but the budget is {_money(problem.budget)} (minimums from "
            f"{', '.join(why)}{', with fixed costs' if fixed else ''})"
        )
    groups = [g for g in problem.groups if g.min_share]
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            if not set(a.channels) & set(b.channels) and (a.min_share or 0) + (b.min_share or 0) > 1 + _TOL:
                return (
                    f"groups {a.name} and {b.name} share no channel but must have at least {a.min_share:.0%} and "
                    f"{b.min_share:.0%} of spend: more than all of it"
                )
    for g in problem.groups:
        idx = [problem.curves.channels.index(n) for n in g.channels]
        others = [i for i in range(len(curves)) if i not in idx]
        group_max = sum(bounds[i][2] for i in idx)
        group_min = sum(bounds[i][0] for i in idx)
        others_min = sum(bounds[i][0] for i in others)
        others_max = sum(bounds[i][2] for i in others)
        if g.min_share is not None and group_max < g.min_share * (group_max + others_min) - _TOL:
            return (
                f"group {g.name} must have at least {g.min_share:.0%} of spend, but its channels can take at most "
                f"{_money(group_max)} while the other channels' minimums add to {_money(others_min)}"
            )
        if g.max_share is not None and g.max_share < 1 and group_min > g.max_share * (group_min + others_max) + _TOL:
            return (
                f"group {g.name} may have at most {g.max_share:.0%} of spend, but its channels' minimums add to "
                f"{_money(group_min)} while the other channels can take at most {_money(others_max)}"
            )
    families = [
        ("target", "the target"),
        ("groups", "the group shares"),
        ("max_change", "--max-change"),
        ("limits", "the channel limits"),
    ]
    if problem.objective == "min-spend":
        # The most conversions the other constraints allow: if that is short of the target, say by how much.
        best = solve(dataclasses.replace(problem, objective="conversions", target=None), solver)
        if best.optimal and best.objective_value < (problem.target or 0.0):
            return (
                f"the target of {problem.target:,.0f} conversions is out of reach: the most the budget of "
                f"{_money(problem.budget)} can buy is {best.objective_value:,.0f} (within the other constraints)"
            )
    for family, words in families:
        program, _ = _build(problem, relax=frozenset({family}))
        if _program.solve(program, solver, duals=False).status == _program.OPTIMAL:
            if family == "target" and problem.objective in ("cpa", "roas"):
                kind = "a cost per conversion of at most" if problem.objective == "cpa" else "a return per dollar of"
                return (
                    f"no allocation within the constraints reaches {kind} {problem.target:g}: "
                    "the channels' minimums cost more than their returns allow"
                )
            return f"{words} cannot hold together with the other constraints; without them a plan exists"
    return "the constraints cannot all hold at once (each family alone is not the cause; relax several)"


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

    Returns
    -------
    Plan
        With ``iterations`` and ``moves`` reporting the closed loop.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> plan = mixsim.optimize(scenario, seed=1, replications=1, levels=(0, 0.5, 1, 2), max_iterations=1)
    >>> plan.status, round(plan.to_frame().set_index("channel").loc["total", "spend"]) <= scenario.budget.total
    ('optimal', True)
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1 (got {max_iterations})")
    seed = root_seed(scenario, seed)
    current = {c.name: c.spend for c in scenario.channels}
    around: dict[str, float] | None = None
    moves: list[float] = []
    plan: Plan | None = None
    given = curves
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
    costs = scenario.total_spend + scenario.fixed_costs
    if costs > plan.budget + _TOL:
        note = (
            f"the current plan costs {_money(costs)} with its fixed costs, more than the budget {_money(plan.budget)}"
        )
        plan = dataclasses.replace(plan, notes=(*plan.notes, note))
    if not plan.converged:
        last = f"{plan.moves[-1]:.1%}" if plan.moves else "unknown"
        note = f"the plan had not settled after {plan.iterations} solves (last move {last} of the budget)"
        plan = dataclasses.replace(plan, notes=(*plan.notes, note))
    return plan


def verify(
    scenario: Scenario,
    plan: Plan,
    *,
    seed: int | None = None,
    replications: int = 10,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Plan:
    """Simulate ``plan`` and the current plan with the same random numbers; return the plan with its
    :class:`~mixsim.optimize.plan.Verification`.

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
    """
    plan.check()
    seed = root_seed(scenario, seed)
    seeds = np.random.SeedSequence(seed, spawn_key=(VERIFY_KEY,)).spawn(replications)
    allocation = tuple(plan.bookings.items())  # what a planner books, so what the plan's channels deliver
    tasks = [Task(r) for r in range(replications)] + [Task(r, allocation) for r in range(replications)]
    records = run_tasks(scenario, seeds, tasks, workers, executor, progress)
    value = scenario.economics.order_value
    fixed_now = scenario.fixed_costs
    fixed_plan = sum(c.fixed_cost for c in plan.channels if c.active)
    current_runs, plan_runs = records[:replications], records[replications:]
    conv_now = np.array([r.conversions for r in current_runs], dtype=float)
    conv_plan = np.array([r.conversions for r in plan_runs], dtype=float)
    runs = {
        ("revenue", "plan"): conv_plan * value,
        ("revenue", "current"): conv_now * value,
        ("revenue", "gain"): (conv_plan - conv_now) * value,
        ("conversions", "plan"): conv_plan,
        ("conversions", "current"): conv_now,
        ("conversions", "gain"): conv_plan - conv_now,
        ("spend", "plan"): np.array([r.spend.sum() + fixed_plan for r in plan_runs]),
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
    projected[("spend", "current")] = sum(c.current for c in plan.channels) + fixed_now
    check = Verification(replications=replications, seed=seed, projected=projected, runs=runs)
    return dataclasses.replace(plan, verification=check)


def frontier(problem: Problem, budgets: Sequence[float], solver: str = "auto") -> Frontier:
    """The optimal plan of ``problem`` at each budget (the same curves and constraints otherwise).

    Budgets below what the constraints force give infeasible plans (rows of NaN in the table).
    """
    return Frontier(tuple(solve(dataclasses.replace(problem, budget=float(b)), solver) for b in budgets))
