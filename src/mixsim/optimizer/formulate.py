"""Formulating a problem as a program, and reading the plan its solution describes.

Each curve becomes piecewise-linear segments on breakpoints from 0 to the channel's largest allowed spend: one
column per segment, its return per dollar the segment's slope. Concave curves have segments of falling slope,
so an LP fills them in order by itself and is exact at the breakpoints; S-shaped curves (rising slopes first),
minimum buys and fixed activation costs need binaries (a MILP). The program is a minimization whatever the
objective (see :mod:`mixsim.optimizer.program`); :func:`read_plan` turns a solution back into the objective's
own terms. Solving is :func:`mixsim.optimizer.solve`.

Nothing here depends on the size of the budget: the solvers see money in a unit centred on the segments' lengths
(:func:`~mixsim.optimizer.program.money_unit`), a channel's fixed cost switches on each of its segments (so a
binary a hair above 0 cannot carry a billion of spend), and a plan is read with tolerances relative to each
channel's own segments and each row's own amounts. A budget of 3e9 over curves that end at 5,000 gives the plan a
budget of 5,000 gives.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mixsim.optimizer.curves import CurveSet, ResponseCurve
from mixsim.optimizer.plan import Binding, ChannelPlan, Plan, cost
from mixsim.optimizer.problem import TOLERANCE, Problem
from mixsim.optimizer.program import Program, Row, Solution, money_unit

__all__ = ["Layout", "formulate", "objective_value", "read_plan"]


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
class Layout:
    """Where each channel's variables sit in the program: its segment columns (with their slopes and lengths),
    its on/off column if any, and the named rows a plan reports on (with the bound each holds)."""

    segments: list[np.ndarray]
    active: list[int | None]
    slopes: list[np.ndarray]
    lengths: list[np.ndarray]
    rows: dict[str, int]
    row_bound: dict[str, float]


def formulate(problem: Problem, relax: frozenset[str] = frozenset()) -> tuple[Program, Layout]:
    """The program for ``problem`` (a minimization) and where each channel sits in it.

    ``relax`` names constraint families to leave out (``"limits"``, ``"max_change"``, ``"groups"``,
    ``"target"``): :func:`~mixsim.optimizer.infeasible.explain_infeasible` solves without each in turn.
    """
    curves = problem.curves
    bounds = problem.bounds()
    value = curves.order_value if curves.order_value > 0 else math.nan
    cost: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    integer: list[bool] = []
    rows: list[Row] = []
    layout = Layout([], [], [], [], {}, {})

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
        rows.append(Row(name, np.asarray(index), np.asarray(coefs, dtype=float), lo, hi))

    budget_index: list[np.ndarray] = []
    budget_coef: list[np.ndarray] = []
    revenue_index: list[np.ndarray] = []
    revenue_coef: list[np.ndarray] = []
    for curve, (lo, lo_why, hi, hi_why) in zip(curves.curves, bounds, strict=True):
        if "limits" in relax and lo_why == "budget.limits":
            lo = 0.0
        if "max_change" in relax and lo_why.startswith("max_change"):
            lo = 0.0
        hi = max(hi, 0.0)
        # A bound set by the planner (limits, max_change) is a row, so that its dual says what relaxing it
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
                rows.append(Row("order", np.array([seg[k], z[k]]), np.array([1.0, -lengths[k]]), 0, math.inf))
                rows.append(Row("order", np.array([seg[k + 1], z[k]]), np.array([1.0, -lengths[k + 1]]), -math.inf, 0))
        active = None
        if len(seg) and (curve.min_spend > 0 or curve.fixed_cost > 0):
            active = int(new(1, 0.0, 1.0, True)[0])
            # Each segment only when on: one row per segment, not one for the sum (whose coefficient, the whole
            # range, would let an "off" within the solver's integer tolerance carry that share of the range).
            for k in range(len(seg)):
                rows.append(Row("on", np.array([seg[k], active]), np.array([1.0, -lengths[k]]), -math.inf, 0.0))
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

    program = Program(
        cost=c,
        lower=np.array(lower),
        upper=np.array(upper),
        integer=np.array(integer, dtype=bool),
        rows=rows,
        unit=money_unit(np.concatenate([np.zeros(0), *layout.lengths])),
    )
    return program, layout


def read_plan(problem: Problem, program: Program, layout: Layout, sol: Solution, built: float) -> Plan:
    """The optimal plan a solution of :func:`formulate`'s program describes, in the objective's own terms.

    ``built`` is the time it took to build the program (seconds), for the plan's record.
    """
    curves = problem.curves
    current = problem.current_plan
    value = curves.order_value
    lines = []
    for k, curve in enumerate(curves.curves):
        seg = layout.segments[k]
        x = np.clip(sol.x[seg], 0.0, layout.lengths[k])
        spend = float(x.sum())
        if len(x) and spend <= TOLERANCE * float(layout.lengths[k][0]):
            # A solver's rounding, judged against the channel's own first segment (never the budget): a millionth
            # of the spend where its curve starts to bend.
            spend = 0.0
        now = current.get(curve.channel, 0.0)
        delivered_now = curve.to_delivered(now)
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
                current_revenue=float(curve(delivered_now)),
                marginal_return=marginal,
                fixed_cost=curve.fixed_cost,
                book=curve.to_book(spend),
                current_delivered=delivered_now,
            )
        )
    # The program is a minimization (objectives that maximize are minimized as their negative), and a row's
    # dual is the change of that minimum per unit of the row's bound. What relaxing a row is worth, in the
    # objective's own terms (for min-spend: the spend it saves), is then minus the dual of an upper bound and
    # the dual of a lower bound, whichever the solver's own sign conventions.
    binding = []
    spent = {line.channel: line.spend for line in lines}
    notes: list[str] = []
    for name, i in layout.rows.items():
        r = program.rows[i]
        terms = r.coefs * sol.x[r.index]
        activity = float(terms.sum())
        # Within a millionth of the row's own amounts (its bound, its terms): a row of shares sums to about 0.
        slack = TOLERANCE * max(float(np.abs(terms).sum()), *(abs(b) for b in (r.lower, r.upper) if math.isfinite(b)))
        upper = math.isfinite(r.upper) and activity >= r.upper - slack
        lower = math.isfinite(r.lower) and activity <= r.lower + slack
        if name.endswith(": minimum buy") and not spent[name.removesuffix(": minimum buy")] > 0:
            continue  # a channel not used is at its "minimum buy" of nothing: nothing binds
        if (upper or lower) and name.endswith("(closed-loop step)"):
            continue  # said on the channel's line (held by the loop's step), not a constraint the planner set
        if upper or lower:
            dual = float(sol.duals[i]) if len(sol.duals) else math.nan
            binding.append(Binding(name, layout.row_bound[name], (-dual if upper else dual) + 0.0))
    for line in lines:
        name = f"{line.channel}: max (end of its curve)"
        bound = layout.row_bound.get(name)
        if bound is not None and bound > 0 and line.spend >= bound * (1 - TOLERANCE):
            binding.append(Binding(name, bound))
    budget_dual = float(sol.duals[layout.rows["budget"]]) if len(sol.duals) else math.nan
    shadow = -budget_dual + 0.0
    lines = [
        dataclasses.replace(line, note=why_held(problem, line, bound, slopes[0] if len(slopes) else 0.0, binding))
        for line, bound, slopes in zip(lines, problem.bounds(), layout.slopes, strict=True)
    ]
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
            + sum(c.revenue - float(k(k.to_delivered(k.current))) for c, k in zip(lines, curves.curves, strict=True)),
        ),
        current_total_revenue=curves.plan_revenue if _measured_at(curves, current) else math.nan,
        constraints=problem.describe(),
        source=curves.source,
        seed=curves.seed,
        replications=curves.replications,
        notes=tuple(notes),
    )


def why_held(
    problem: Problem,
    line: ChannelPlan,
    bounds: tuple[float, str, float, str],
    first_slope: float,
    binding: Sequence[Binding],
) -> str:
    """Why a channel of a solved plan is where it is, when something holds it there ('' when nothing does).

    In order: a lock; a channel left out (its fixed cost or minimum buy, or its first dollar returning less
    than the budget earns elsewhere, or a bound of 0); a bound it sits on (a limit, ``max_change``, the end of
    its curve, the closed loop's step); a group share that binds.
    """
    lo, lo_why, hi, hi_why = bounds
    if lo_why == "locked" and hi_why == "locked":
        return f"locked at today's spend ({line.spend:,.0f})"
    if line.spend == 0.0:
        left = "dropped" if line.current > 0 else "not used"
        if hi <= TOLERANCE and hi_why:  # a millionth of a unit of money allows nothing, at any budget
            return f"{left}: {_BOUND_WORDS.get(hi_why.split(' ')[0], hi_why)} allows nothing"
        curve = problem.curves.curve(line.channel)
        if curve.fixed_cost > 0 or curve.min_spend > 0:
            costs = " and ".join(
                f"{what} of {value:,.0f}"
                for what, value in (("fixed cost", curve.fixed_cost), ("minimum buy", curve.min_spend))
                if value > 0
            )
            return f"{left}: its {costs} would return less than the same money elsewhere in the plan"
        if first_slope <= 0:
            return f"{left}: its curve shows no return"
        return f"{left}: its first dollar returns {first_slope:.2f}, less than the next dollar elsewhere"
    if line.spend >= hi * (1 - TOLERANCE) and hi_why and hi_why != "the budget":
        return f"at its most, {hi:,.0f}: {_BOUND_WORDS.get(hi_why.split(' ')[0], hi_why)}"
    if lo > 0 and line.spend <= lo * (1 + TOLERANCE) and lo_why:
        return f"at its least, {lo:,.0f}: {_BOUND_WORDS.get(lo_why.split(' ')[0], lo_why)}"
    for b in binding:
        if b.name.startswith("group "):
            group = b.name.removeprefix("group ").split(":")[0]
            members = next((g.channels for g in problem.groups if g.name == group), ())
            if line.channel in members:
                return f"held by {b.name.removeprefix('group ')}"
    return ""


_BOUND_WORDS = {
    "end": "the end of its curve (the most it can deliver, as far as its curve tells)",
    "budget.limits": "its limit in budget.limits",
    "max_change": "the most max_change lets it move from today's spend",
    "closed-loop": "held by the closed loop's step (more iterations may move it)",
}
"""What each kind of bound means to a planner, by the first word of its name in :meth:`Problem.bounds`."""


def _measured_at(curves: CurveSet, plan: dict[str, float]) -> bool:
    """Whether ``curves`` were measured around ``plan`` (then their simulated total is the plan's)."""
    return all(math.isclose(c.current, plan.get(c.channel, 0.0), rel_tol=1e-9, abs_tol=1e-6) for c in curves.curves)


def _objective_value(problem: Problem, lines: Sequence[ChannelPlan]) -> float:
    """The objective at the plan, from the curves themselves (not their piecewise-linear version)."""
    return objective_value(problem, sum(c.revenue for c in lines), cost(lines))


def objective_value(problem: Problem, revenue: float, spend: float) -> float:
    """``problem``'s objective for a plan of incremental ``revenue`` that costs ``spend`` (fixed costs included)."""
    if problem.objective == "revenue":
        return revenue
    if problem.objective == "profit":
        return revenue * problem.curves.margin - spend
    if problem.objective == "min-spend":
        return spend
    return revenue / problem.curves.order_value
