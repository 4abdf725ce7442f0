"""The budget optimizer against independent references.

Every expected number here is computed in the test from the curves' parameters: the continuous optimum of concave
Hill curves by equalizing marginal returns (bisection on the Lagrange multiplier), exact brute force over the
vertices of piecewise-linear programs, fine grid search for S-shaped curves, and the constraints checked on the
plan's allocation directly. Curves come in two kinds:

- Hill curves (``ResponseCurve.hill`` set): the optimizer approximates them by piecewise-linear segments, so
  comparisons with the true optimum carry the approximation's tolerance;
- point curves (``hill=None``, ``max_spend`` at the last point): the curve *is* the piecewise-linear function the
  program uses, so the program is exact and the comparisons are tight.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from mixsim import InfeasibleError, InputError
from mixsim.optimizer import Problem, frontier, solve
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve
from mixsim.optimizer.objectives import OBJECTIVES
from mixsim.optimizer.plan import Plan, cost
from mixsim.scenario import Group, Limit

ORDER_VALUE = 50.0
MARGIN = 0.5
SEGMENTS = 24

Params = tuple[float, float, float]  # ymax, half saturation, slope


# ----------------------------------------------------------------------------------------------------------------
# Independent curve arithmetic (does not use mixsim.optimizer.curves.Hill, so a bug there cannot hide a bug here).


def hill_value(s: np.ndarray | float, p: Params) -> np.ndarray:
    """Hill response ``ymax * r / (1 + r)`` with ``r = (s / half) ** slope``."""
    ymax, half, slope = p
    r = (np.maximum(np.asarray(s, dtype=float), 0.0) / half) ** slope
    return ymax * r / (1.0 + r)


def hill_slope(s: np.ndarray | float, p: Params) -> np.ndarray:
    """Derivative of :func:`hill_value` (``inf`` at 0 when slope < 1)."""
    ymax, half, slope = p
    s = np.asarray(s, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (s / half) ** slope
        d = ymax * slope * r / (s * (1.0 + r) ** 2)
    at_zero = math.inf if slope < 1 else (ymax / half if slope == 1 else 0.0)
    return np.where(s > 0, d, at_zero)


def spend_at_slope(lam: float, params: Sequence[Params], upper: float) -> np.ndarray:
    """Per concave channel, the spend in ``[0, upper]`` where its slope falls to ``lam`` (bisection).

    0 when the slope is below ``lam`` everywhere, ``upper`` when it is above ``lam`` all the way.
    """
    ymax, half, slope = (np.array(column, dtype=float) for column in zip(*params, strict=True))
    lo = np.zeros(len(params))
    hi = np.full(len(params), float(upper))
    for _ in range(100):
        mid = 0.5 * (lo + hi)  # > 0, so the slope formula needs no special case at 0
        r = (mid / half) ** slope
        above = ymax * slope * r / (mid * (1.0 + r) ** 2) > lam
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return lo


def true_optimum(params: Sequence[Params], budget: float) -> tuple[np.ndarray, float, float]:
    """Revenue-maximizing allocation of ``budget`` over concave Hill curves by equal marginal returns.

    Returns
    -------
    (allocation, revenue, lambda)
        The allocation spends the budget to bisection precision; ``lambda`` is the common marginal return.
    """
    lo, hi = 1e-12, 1e12
    for _ in range(120):
        lam = math.sqrt(lo * hi)
        if spend_at_slope(lam, params, budget).sum() > budget:
            lo = lam
        else:
            hi = lam
    alloc = spend_at_slope(hi, params, budget)
    return alloc, float(sum(hill_value(a, p) for a, p in zip(alloc, params, strict=True))), hi


# ----------------------------------------------------------------------------------------------------------------
# Curve sets built from parameters.


def _per_channel(value: Sequence[float] | float | None, n: int, default: float) -> list[float]:
    """Broadcast an optional scalar or per-channel sequence to ``n`` floats."""
    if value is None:
        return [default] * n
    if isinstance(value, int | float):
        return [float(value)] * n
    return [float(v) for v in value]


def hill_curves(
    params: Sequence[Params],
    *,
    max_spend: Sequence[float] | float | None = None,
    min_spend: Sequence[float] | float | None = None,
    fixed_cost: Sequence[float] | float | None = None,
    current: Sequence[float] | float | None = None,
    order_value: float = ORDER_VALUE,
    margin: float = MARGIN,
) -> CurveSet:
    """A CurveSet of Hill curves named ``c0, c1, ...`` (the optimizer uses the Hill functions themselves).

    Parameters
    ----------
    params : sequence of (ymax, half_saturation, slope)
    max_spend, min_spend, fixed_cost, current : float or sequence of float, optional
        Per channel (a scalar applies to all); defaults: no cap, no minimum buy, no fixed cost, 0.
    order_value, margin : float
    """
    n = len(params)
    caps = _per_channel(max_spend, n, math.inf)
    mins = _per_channel(min_spend, n, 0.0)
    fixed = _per_channel(fixed_cost, n, 0.0)
    now = _per_channel(current, n, 0.0)
    curves = []
    for i, p in enumerate(params):
        # The points only matter for reports; the optimizer evaluates the Hill curve.
        xs = np.linspace(0.0, 4 * p[1], 9)
        ys = hill_value(xs, p)
        curves.append(
            ResponseCurve(
                f"c{i}",
                xs,
                ys,
                ys,
                ys,
                Hill(*p),
                max_spend=caps[i],
                min_spend=mins[i],
                fixed_cost=fixed[i],
                current=now[i],
            )
        )
    return CurveSet(tuple(curves), order_value=order_value, margin=margin)


def point_curves(
    params: Sequence[Params],
    top: Sequence[float] | float,
    n_points: int = 13,
    *,
    min_spend: Sequence[float] | float | None = None,
    fixed_cost: Sequence[float] | float | None = None,
    current: Sequence[float] | float | None = None,
    order_value: float = ORDER_VALUE,
    margin: float = MARGIN,
) -> CurveSet:
    """A CurveSet of piecewise-linear curves through ``n_points`` Hill samples on ``[0, top]`` (no Hill attached).

    The optimizer's breakpoints are then exactly these points, so its program is the problem itself.
    """
    n = len(params)
    tops = _per_channel(top, n, math.nan)
    mins = _per_channel(min_spend, n, 0.0)
    fixed = _per_channel(fixed_cost, n, 0.0)
    now = _per_channel(current, n, 0.0)
    curves = []
    for i, p in enumerate(params):
        xs = np.linspace(0.0, tops[i], n_points)
        ys = hill_value(xs, p)
        curves.append(
            ResponseCurve(
                f"c{i}",
                xs,
                ys,
                ys,
                ys,
                None,
                max_spend=tops[i],
                min_spend=mins[i],
                fixed_cost=fixed[i],
                current=now[i],
            )
        )
    return CurveSet(tuple(curves), order_value=order_value, margin=margin)


def evaluate(curves: CurveSet, spend: Sequence[float]) -> np.ndarray:
    """Each channel's revenue at ``spend``: the Hill formula for Hill curves, interpolation for point curves."""
    out = []
    for c, s in zip(curves.curves, spend, strict=True):
        if c.hill is not None:
            out.append(float(hill_value(s, (c.hill.ymax, c.hill.half_saturation, c.hill.slope))))
        else:
            out.append(float(np.interp(s, c.spend, c.revenue)))
    return np.array(out)


def spends(plan: Plan) -> np.ndarray:
    """The plan's media spend per channel, in channel order."""
    return np.array([c.spend for c in plan.channels])


def total_spend(curves: CurveSet, spend: Sequence[float]) -> float:
    """Media spend plus the fixed costs of the channels used."""
    return float(sum(spend) + sum(c.fixed_cost for c, s in zip(curves.curves, spend, strict=True) if s > 0))


def random_concave(rng: np.random.Generator, n: int, slopes: tuple[float, float] = (0.4, 1.0)) -> list[Params]:
    """``n`` random Hill parameter triples with slopes in ``slopes``."""
    return [(float(rng.uniform(2e4, 2e5)), float(rng.uniform(5e3, 5e4)), float(rng.uniform(*slopes))) for _ in range(n)]


def money(x: float) -> str:
    """Money as the optimizer's messages print it."""
    return f"{x:,.0f}"


# ----------------------------------------------------------------------------------------------------------------
# 1. Known optimum of concave curves.


@pytest.mark.parametrize("seed", range(8))
def test_concave_plan_reaches_the_equal_marginal_return_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 11))
    params = random_concave(rng, n)
    budget = float(rng.uniform(0.3, 3.0) * sum(p[1] for p in params))
    curves = hill_curves(params)

    plan = solve(Problem(curves, budget=budget, segments=SEGMENTS)).check()
    _, best, _ = true_optimum(params, budget)

    s = spends(plan)
    assert s.sum() <= budget * (1 + 1e-9)
    # The objective is revenue on the true curves at the plan's allocation.
    revenue = evaluate(curves, s)
    assert plan.objective_value == pytest.approx(revenue.sum(), rel=1e-9)
    assert [c.revenue for c in plan.channels] == pytest.approx(list(revenue), rel=1e-9)
    # A feasible allocation cannot beat the true maximum; the piecewise-linear one comes within 0.5% of it.
    assert plan.objective_value <= best * (1 + 1e-9)
    assert plan.objective_value >= best * (1 - 0.005)


# ----------------------------------------------------------------------------------------------------------------
# 2. The budget is spent and its shadow price is the marginal return.


@pytest.mark.parametrize("seed", range(5))
def test_shadow_price_is_the_exact_marginal_return_of_a_piecewise_linear_program(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(3, 8))
    params = random_concave(rng, n, slopes=(0.6, 1.0))
    budget = float(rng.uniform(0.5, 2.0) * sum(p[1] for p in params))
    # Curves reach past the budget, so no channel is capped and the budget binds.
    tops = [float(rng.uniform(1.2, 2.0) * budget) for _ in params]
    curves = point_curves(params, tops)

    def value(b: float) -> tuple[float, float]:
        plan = solve(Problem(curves, budget=b)).check()
        return plan.objective_value, plan.shadow_price

    plan = solve(Problem(curves, budget=budget)).check()
    s = spends(plan)
    assert s.sum() == pytest.approx(budget, rel=1e-9)
    lam = plan.shadow_price
    assert lam > 0

    # The LP value V(B) is concave with supergradient lambda: V(B +- d) <= V(B) +- lambda d, and for small d
    # (no breakpoint crossed) the one-sided differences equal lambda.
    v0 = plan.objective_value
    delta = budget * 1e-4
    up, _ = value(budget + delta)
    down, _ = value(budget - delta)
    assert up <= v0 + lam * delta + 1e-6 * v0
    assert down <= v0 - lam * delta + 1e-6 * v0
    assert (up - v0) / delta == pytest.approx(lam, rel=1e-3)
    assert (v0 - down) / delta == pytest.approx(lam, rel=1e-3)
    big = budget * 0.05
    assert value(budget + big)[0] <= v0 + lam * big + 1e-6 * v0
    assert value(budget - big)[0] <= v0 - lam * big + 1e-6 * v0

    # KKT on the segments: a channel inside a segment earns exactly lambda there; a channel at a breakpoint has
    # its last segment's slope >= lambda >= its next one's; an unused channel's first slope is <= lambda.
    inside = 0
    for c, x, line in zip(curves.curves, s, plan.channels, strict=True):
        slopes = np.diff(c.revenue) / np.diff(c.spend)
        tol = 1e-7 * c.spend[-1]
        at = np.flatnonzero(np.abs(c.spend - x) <= tol)
        if x <= tol:
            assert slopes[0] <= lam * (1 + 1e-6)
            following = slopes[0]
        elif len(at):
            j = int(at[0])
            assert slopes[j - 1] >= lam * (1 - 1e-6)
            following = slopes[j] if j < len(slopes) else 0.0
            assert following <= lam * (1 + 1e-6)
        else:
            inside += 1
            following = slopes[np.searchsorted(c.spend, x) - 1]
            assert following == pytest.approx(lam, rel=1e-6)
        # The plan's marginal return is what the channel's next dollar earns.
        assert line.marginal_return == pytest.approx(following, rel=1e-9, abs=1e-12), c.channel
    # A budget at a random point falls inside some channel's segment, which earns lambda; no next dollar earns more.
    assert inside >= 1
    assert max(line.marginal_return for line in plan.channels) == pytest.approx(lam, rel=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_shadow_price_of_hill_curves_is_bracketed_by_the_true_slopes(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(3, 8))
    params = random_concave(rng, n, slopes=(0.5, 1.0))
    budget = float(rng.uniform(0.5, 2.0) * sum(p[1] for p in params))
    curves = hill_curves(params)
    plan = solve(Problem(curves, budget=budget, segments=SEGMENTS)).check()
    s = spends(plan)

    # Uncapped increasing curves: every dollar is spent.
    assert s.sum() == pytest.approx(budget, rel=1e-9)
    lam = plan.shadow_price
    assert lam >= 0
    # Half the breakpoints are even in spend over [0, budget], so every segment is at most this wide; on a concave
    # curve a segment's slope lies between the true slopes at its ends.
    width = budget / (SEGMENTS // 2)
    for p, x, line in zip(params, s, plan.channels, strict=True):
        # The plan's marginal return is the true curve's slope at its spend.
        assert line.marginal_return == pytest.approx(float(hill_slope(x, p)), rel=1e-9)
        if x > 0:
            # The last segment used ([a, b] around x) earns at least lambda, the next one at most: so lambda and the
            # channel's true marginal return both lie between the true slopes a segment width either side of x.
            low, high = float(hill_slope(x + width, p)), float(hill_slope(max(x - width, 0.0), p))
            assert low * (1 - 1e-9) <= lam <= high * (1 + 1e-9)
            assert low * (1 - 1e-9) <= line.marginal_return <= high * (1 + 1e-9)
        else:
            assert float(hill_slope(width, p)) <= lam * (1 + 1e-9)
    # And the budget's true marginal value (central difference on the true curves) is near it, loosely.
    delta = 0.02 * budget
    v_up = solve(Problem(curves, budget=budget + delta, segments=SEGMENTS)).objective_value
    v_down = solve(Problem(curves, budget=budget - delta, segments=SEGMENTS)).objective_value
    assert (v_up - v_down) / (2 * delta) == pytest.approx(lam, rel=0.25)
    _, _, lam_true = true_optimum(params, budget)
    assert lam == pytest.approx(lam_true, rel=0.25)


# ----------------------------------------------------------------------------------------------------------------
# 3. HiGHS and CBC agree, duals included (the sign convention).


def assert_same_plan(a: Plan, b: Plan, budget: float) -> None:
    """Two solvers' plans agree on objective, allocation, shadow price and binding constraints."""
    assert a.optimal and b.optimal
    assert a.objective_value == pytest.approx(b.objective_value, rel=1e-6)
    assert spends(a) == pytest.approx(spends(b), abs=1e-5 * budget)
    # CBC reports values to ~8 significant digits; where the plan sits on a breakpoint the shadow price is the
    # one-sided difference of two solves, as exact as the solvers' objectives.
    assert math.copysign(1.0, a.shadow_price) == math.copysign(1.0, b.shadow_price) or a.shadow_price == 0
    assert a.shadow_price == pytest.approx(b.shadow_price, rel=1e-4, abs=1e-9)
    assert {x.name for x in a.binding} == {x.name for x in b.binding}


@pytest.mark.parametrize("seed", range(3))
def test_highs_and_cbc_agree_on_an_lp(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(3, 7))
    params = random_concave(rng, n)
    budget = float(rng.uniform(0.5, 2.0) * sum(p[1] for p in params))
    now = [budget / n] * n
    curves = hill_curves(params, current=now)
    problem = Problem(
        curves,
        budget=budget,
        limits={"c0": Limit(0.2 * budget / n, math.inf), "c1": Limit(0.0, 0.9 * budget / n)},
        groups=(Group("g", ("c1", "c2"), max_share=0.6),),
        max_change=2.0,
    )
    highs, cbc = solve(problem, "highs"), solve(problem, "cbc")
    assert_same_plan(highs, cbc, budget)
    assert highs.shadow_price > 0 and highs.solver == "highs" and cbc.solver == "cbc"


@pytest.mark.parametrize("seed", range(3))
def test_highs_and_cbc_agree_on_a_milp(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    n = int(rng.integers(3, 6))
    params = [
        (float(rng.uniform(2e4, 2e5)), float(rng.uniform(5e3, 5e4)), float(rng.uniform(1.5, 3.0))) for _ in range(n)
    ]
    halves = [p[1] for p in params]
    curves = hill_curves(
        params,
        min_spend=[float(rng.uniform(0.1, 0.5)) * h for h in halves],
        fixed_cost=[float(rng.uniform(0.0, 0.1)) * h for h in halves],
    )
    budget = float(rng.uniform(0.7, 2.0) * sum(halves))
    highs, cbc = solve(Problem(curves, budget=budget), "highs"), solve(Problem(curves, budget=budget), "cbc")
    assert_same_plan(highs, cbc, budget)
    assert highs.shadow_price >= 0


def test_highs_and_cbc_agree_on_the_sign_of_a_min_spend_target_dual() -> None:
    # Minimizing spend: one more conversion of target costs money, so the target's dual is positive in both, and
    # equals the finite difference of the minimum spend (point curves: the program is exact).
    rng = np.random.default_rng(7)
    params = random_concave(rng, 4, slopes=(0.6, 1.0))
    curves = point_curves(params, 2e5)
    target = 0.4 * sum(p[0] for p in params) / ORDER_VALUE
    plans = {
        name: solve(Problem(curves, budget=5e5, objective="min-spend", target=target), name)
        for name in ("highs", "cbc")
    }
    assert_same_plan(plans["highs"], plans["cbc"], 5e5)
    duals = []
    for plan in plans.values():
        (row,) = [b for b in plan.binding if b.name.startswith("target")]
        duals.append(row.shadow_price)
    assert duals[0] > 0 and duals[0] == pytest.approx(duals[1], rel=1e-6)
    d = target * 1e-4
    more = solve(Problem(curves, budget=5e5, objective="min-spend", target=target + d)).check()
    assert (more.objective_value - plans["highs"].objective_value) / d == pytest.approx(duals[0], rel=1e-3)
    # The budget does not bind when minimizing spend.
    assert plans["highs"].shadow_price == pytest.approx(0.0, abs=1e-9)


# ----------------------------------------------------------------------------------------------------------------
# 4. Every constraint is honoured on random feasible instances.

OBJECTIVE_CYCLE = ("revenue", "profit", "conversions", "min-spend", "cpa", "roas")
TARGETED = ("min-spend", "cpa", "roas")


def random_instance(seed: int) -> tuple[Problem, np.ndarray]:
    """A random problem with every kind of constraint, feasible by construction around a known allocation ``x0``.

    Each bound is drawn around ``x0`` so that ``x0`` itself satisfies it (with slack for the piecewise-linear
    approximation in the targets). Target objectives only use curves that never lie below their piecewise-linear
    version (concave Hill curves, point curves), so the targets can be checked on the curves themselves.
    """
    rng = np.random.default_rng(1000 + seed)
    objective = OBJECTIVE_CYCLE[seed % len(OBJECTIVE_CYCLE)]
    n = int(rng.integers(3, 7))
    x0 = rng.uniform(5e3, 4e4, n)
    curves: list[ResponseCurve] = []
    for i in range(n):
        s_shaped = rng.random() < 0.4
        p = (
            float(rng.uniform(2e4, 2e5)),
            float(rng.uniform(5e3, 5e4)),
            float(rng.uniform(1.5, 3.0) if s_shaped else rng.uniform(0.5, 1.0)),
        )
        cap = float(x0[i] * rng.uniform(1.5, 4.0)) if rng.random() < 0.5 else math.inf
        min_spend = float(x0[i] * rng.uniform(0.2, 1.0)) if rng.random() < 0.4 else 0.0
        fixed = float(x0[i] * rng.uniform(0.0, 0.1)) if rng.random() < 0.4 else 0.0
        as_points = math.isfinite(cap) and (rng.random() < 0.5 or (s_shaped and objective in TARGETED))
        if s_shaped and objective in TARGETED and not as_points:
            p = (p[0], p[1], float(rng.uniform(0.5, 1.0)))
        if as_points:
            xs = np.linspace(0.0, cap, 11)
            ys = hill_value(xs, p)
            curve = ResponseCurve(f"c{i}", xs, ys, ys, ys, None, cap, min_spend, fixed, float(x0[i]))
        else:
            xs = np.linspace(0.0, 4 * p[1], 9)
            ys = hill_value(xs, p)
            curve = ResponseCurve(f"c{i}", xs, ys, ys, ys, Hill(*p), cap, min_spend, fixed, float(x0[i]))
        curves.append(curve)
    cs = CurveSet(tuple(curves), order_value=ORDER_VALUE, margin=float(rng.uniform(0.4, 1.0)))
    spend0 = total_spend(cs, x0)
    budget = float(spend0 * rng.uniform(1.0, 1.5))
    limits = {}
    for i in range(n):
        if rng.random() < 0.5:
            low = float(x0[i] * rng.uniform(0.0, 0.9)) if rng.random() < 0.6 else 0.0
            high = float(x0[i] * rng.uniform(1.1, 3.0)) if rng.random() < 0.6 else math.inf
            limits[f"c{i}"] = Limit(low, high)
    groups = []
    for g in range(int(rng.integers(0, 3))):
        members = tuple(f"c{int(j)}" for j in rng.choice(n, size=int(rng.integers(1, 3)), replace=False))
        share0 = sum(x0[int(m[1:])] for m in members) / x0.sum()
        lo = float(share0 * rng.uniform(0.5, 1.0)) if rng.random() < 0.7 else None
        hi = float(min(1.0, share0 * rng.uniform(1.0, 1.5))) if rng.random() < 0.7 else None
        groups.append(Group(f"g{g}", members, lo, hi))
    max_change = float(rng.uniform(0.3, 1.0)) if rng.random() < 0.5 else None
    revenue0 = evaluate(cs, x0).sum()
    target = None
    if objective == "min-spend":
        target = float(revenue0 / ORDER_VALUE * rng.uniform(0.5, 0.9))
    elif objective == "cpa":
        target = float(spend0 / (revenue0 / ORDER_VALUE) * rng.uniform(1.1, 2.0))
    elif objective == "roas":
        target = float(revenue0 / spend0 * rng.uniform(0.5, 0.9))
    problem = Problem(
        cs,
        budget=budget,
        objective=objective,
        target=target,
        limits=limits,
        groups=tuple(groups),
        max_change=max_change,
    )
    return problem, x0


def objective_at(problem: Problem, spend: np.ndarray) -> float:
    """The problem's objective at ``spend``, computed from the curves here (not by the optimizer)."""
    revenue = evaluate(problem.curves, spend).sum()
    paid = total_spend(problem.curves, spend)
    if problem.objective == "revenue":
        return revenue
    if problem.objective == "profit":
        return revenue * problem.curves.margin - paid
    if problem.objective == "min-spend":
        return paid
    return revenue / problem.curves.order_value


@pytest.mark.parametrize("seed", range(20))
def test_every_constraint_holds_on_random_instances(seed: int) -> None:
    problem, x0 = random_instance(seed)
    plan = solve(problem)
    assert plan.optimal, f"a feasible instance (x0={x0}) was reported infeasible: {plan.message}"
    curves = problem.curves
    s = spends(plan)
    budget = problem.budget
    tol = 1e-6 * budget

    assert np.all(s >= 0)
    paid = total_spend(curves, s)
    assert plan.spend == pytest.approx(paid, rel=1e-9)
    assert paid <= budget + tol
    for c, x in zip(curves.curves, s, strict=True):
        assert x <= c.max_spend + tol
        assert x == 0 or x >= c.min_spend - tol, f"{c.channel}: {x} below its minimum buy {c.min_spend}"
        limit = problem.limits.get(c.channel)
        if limit is not None:
            assert limit.min - tol <= x <= limit.max + tol
        if problem.max_change is not None:
            now = c.current
            assert now * (1 - problem.max_change) - tol <= x <= now * (1 + problem.max_change) + tol
    media = s.sum()
    for g in problem.groups:
        in_group = sum(s[curves.channels.index(m)] for m in g.channels)
        if g.min_share is not None:
            assert in_group >= g.min_share * media - tol
        if g.max_share is not None:
            assert in_group <= g.max_share * media + tol

    revenue = evaluate(curves, s).sum()
    conversions = revenue / ORDER_VALUE
    if problem.objective == "min-spend":
        assert conversions >= problem.target * (1 - 1e-7)
    elif problem.objective == "cpa":
        assert paid <= problem.target * conversions * (1 + 1e-7)
    elif problem.objective == "roas":
        assert revenue >= problem.target * paid * (1 - 1e-7)

    # The objective is what it says, and the plan is at least as good as the allocation the instance was built
    # around (up to the piecewise-linear approximation of the Hill curves).
    value = objective_at(problem, s)
    assert plan.objective_value == pytest.approx(value, rel=1e-9, abs=1e-9 * budget)
    slack = (
        0.01 * evaluate(curves, x0).sum() / (ORDER_VALUE if problem.objective in ("conversions", "cpa", "roas") else 1)
    )
    if problem.objective == "min-spend":
        assert value <= objective_at(problem, x0) + 0.01 * budget
    else:
        assert value >= objective_at(problem, x0) - slack


def along_expansion_path(
    params: Sequence[Params], keep_spending: Callable[[float, float], bool]
) -> tuple[float, float]:
    """Spend and revenue of the most spent optimal allocation (equal marginal returns) still passing a test.

    Target objectives over concave curves are optimal on the expansion path ``slope_i(s_i) = lambda``: spend
    rises and the average return falls as ``lambda`` falls. ``keep_spending(spend, revenue)`` must hold for
    large ``lambda`` and fail for small; the result is at the smallest ``lambda`` where it holds (bisection).
    """

    def at(lam: float) -> tuple[float, float]:
        alloc = spend_at_slope(lam, params, 1e12)
        return float(alloc.sum()), float(sum(hill_value(a, p) for a, p in zip(alloc, params, strict=True)))

    lo, hi = 1e-8, 1e8
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        if keep_spending(*at(mid)):
            hi = mid
        else:
            lo = mid
    return at(hi)


@pytest.mark.parametrize(("objective", "seed"), [(o, k) for o in TARGETED for k in range(2)])
def test_target_objectives_reach_their_continuous_optimum(objective: str, seed: int) -> None:
    rng = np.random.default_rng(1100 + seed)
    params = random_concave(rng, int(rng.integers(3, 7)), slopes=(0.5, 0.95))
    curves = hill_curves(params)
    if objective == "min-spend":
        # The least spend that buys the target: the path's spend where revenue reaches target x order value.
        target = float(rng.uniform(0.2, 0.5) * sum(p[0] for p in params) / ORDER_VALUE)
        need, _ = along_expansion_path(params, lambda spend, revenue: revenue <= target * ORDER_VALUE)
        plan = solve(Problem(curves, budget=2 * need, objective=objective, target=target)).check()
        assert evaluate(curves, spends(plan)).sum() / ORDER_VALUE >= target * (1 - 1e-9)
        # Reaching the target on the true curves takes at least `need`; the approximation costs under 1%.
        assert plan.objective_value == pytest.approx(plan.spend, rel=1e-12)
        assert need * (1 - 1e-6) <= plan.spend <= need * 1.01
        return
    # Most conversions at an average return of at least `roas`: spend along the path until the average falls to it.
    roas = float(rng.uniform(1.0, 2.5))
    target = roas if objective == "roas" else ORDER_VALUE / roas
    spend, revenue = along_expansion_path(params, lambda spend, revenue: revenue >= roas * spend)
    plan = solve(Problem(curves, budget=2 * spend, objective=objective, target=target)).check()
    got = evaluate(curves, spends(plan)).sum()
    assert got >= roas * plan.spend * (1 - 1e-9)
    assert plan.spend < 2 * spend * (1 - 1e-3)  # the target binds, not the budget
    assert revenue / ORDER_VALUE * 0.99 <= plan.objective_value <= revenue / ORDER_VALUE * (1 + 1e-6)


def test_group_share_is_of_media_spend_without_fixed_costs() -> None:
    # c0 is far stronger, so it takes its whole allowed share; c1 pays a fixed cost that must not count as spend
    # in the share: c0 = c1 = (budget - fixed cost) / 2 exactly.
    curves = hill_curves([(1e6, 2e4, 0.9), (5e4, 1e4, 1.0)], fixed_cost=[0.0, 5e3])
    budget = 6e4
    plan = solve(Problem(curves, budget=budget, groups=(Group("g", ("c0",), max_share=0.5),))).check()
    assert spends(plan) == pytest.approx([(budget - 5e3) / 2] * 2, rel=1e-9)
    assert plan.spend == pytest.approx(budget, rel=1e-9)
    assert any(b.name.startswith("group g: max_share") for b in plan.binding)


def test_max_change_is_relative_to_the_problems_current_plan() -> None:
    # Problem.current overrides the curves' own current spends.
    curves = three_channels(current=[1e4, 1e4, 1e4])
    current = {"c0": 4e4, "c1": 5e3, "c2": 1e3}
    plan = solve(Problem(curves, budget=1e5, max_change=0.25, current=current)).check()
    for name, now in current.items():
        assert now * 0.75 * (1 - 1e-9) <= plan.allocation[name] <= now * 1.25 * (1 + 1e-9)
        assert next(c.current for c in plan.channels if c.channel == name) == now
    # Here every channel is worth more than nothing, and the budget is ample: each goes to its ceiling.
    assert spends(plan) == pytest.approx([5e4, 6.25e3, 1.25e3], rel=1e-9)


# ----------------------------------------------------------------------------------------------------------------
# 5. Mixed-integer plans against brute force.


def vertex_brute_force(curves: CurveSet, budget: float) -> float:
    """Most revenue over every vertex of a point-curve MILP (minimum buys, fixed costs, any curve shape).

    At an optimum of the program with its binaries fixed, every channel but one sits at a breakpoint, its minimum
    buy or its cap, and the one left takes what the budget leaves (more is never worse: the curves increase).
    """
    cands = []
    for c in curves.curves:
        points = [x for x in [*c.spend, c.min_spend, c.max_spend] if c.min_spend <= x <= c.max_spend and x > 0]
        cands.append(sorted({0.0, *points}))
    n = len(curves.curves)
    best = -math.inf
    for free in range(n):
        others = [i for i in range(n) if i != free]
        fc = curves.curves[free]
        for combo in itertools.product(*(cands[i] for i in others)):
            spend = np.zeros(n)
            spend[others] = combo
            left = budget - total_spend(curves, spend)
            if left < -1e-9:
                continue
            options = [0.0]
            room = min(fc.max_spend, left - fc.fixed_cost)
            if room > 0 and room >= fc.min_spend:
                options.append(room)
            for x in options:
                spend[free] = x
                best = max(best, float(evaluate(curves, spend).sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_milp_on_point_curves_matches_vertex_brute_force(seed: int) -> None:
    rng = np.random.default_rng(500 + seed)
    n = 2 + seed % 2
    params = [
        (float(rng.uniform(2e4, 2e5)), float(rng.uniform(5e3, 3e4)), float(rng.uniform(0.7, 3.0))) for _ in range(n)
    ]
    tops = [float(rng.uniform(2.0, 4.0) * p[1]) for p in params]
    curves = point_curves(
        params,
        tops,
        n_points=9,
        min_spend=[float(rng.uniform(0.1, 0.6) * t) if rng.random() < 0.7 else 0.0 for t in tops],
        fixed_cost=[float(rng.uniform(0.0, 0.15) * t) if rng.random() < 0.7 else 0.0 for t in tops],
    )
    budget = float(rng.uniform(0.3, 0.9) * sum(tops))
    plan = solve(Problem(curves, budget=budget)).check()
    best = vertex_brute_force(curves, budget)
    assert total_spend(curves, spends(plan)) <= budget * (1 + 1e-9)
    assert plan.objective_value == pytest.approx(best, rel=1e-7)


def grid_brute_force(curves: CurveSet, budget: float, points: int) -> float:
    """Most true revenue of two or three Hill channels by grid search.

    Each channel in turn takes what the budget leaves (more is never worse: the curves increase) while the others
    run over a grid of ``points`` spends (plus 0 and their minimum buy), so an optimum with one channel off or
    at a bound is found exactly in the channels that matter.
    """
    n = len(curves.curves)
    params = [(c.hill.ymax, c.hill.half_saturation, c.hill.slope) for c in curves.curves]
    best = -math.inf
    for free in range(n):
        others = [i for i in range(n) if i != free]
        axes = []
        for i in others:
            c = curves.curves[i]
            grid = np.linspace(0.0, min(c.max_spend, budget), points)
            axes.append(np.unique(np.concatenate([[0.0], grid[grid >= c.min_spend], [c.min_spend]])))
        head = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")])
        paid = head.sum(axis=0) + sum((head[k] > 0) * curves.curves[i].fixed_cost for k, i in enumerate(others))
        total = sum(hill_value(head[k], params[i]) for k, i in enumerate(others))
        c = curves.curves[free]
        room = np.minimum(c.max_spend, budget - paid - c.fixed_cost)
        usable = (room > 0) & (room >= c.min_spend)
        total = total + np.where(usable, hill_value(np.maximum(room, 0.0), params[free]), 0.0)
        best = max(best, float(np.max(np.where(paid <= budget + 1e-9, total, -np.inf))))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_milp_on_s_shaped_hill_curves_matches_grid_search(seed: int) -> None:
    rng = np.random.default_rng(600 + seed)
    n = 2 + seed % 2
    params = [
        (float(rng.uniform(2e4, 2e5)), float(rng.uniform(5e3, 3e4)), float(rng.uniform(1.5, 3.5))) for _ in range(n)
    ]
    halves = [p[1] for p in params]
    curves = hill_curves(
        params,
        min_spend=[float(rng.uniform(0.2, 0.8) * h) for h in halves],
        fixed_cost=[float(rng.uniform(0.0, 0.2) * h) for h in halves],
    )
    budget = float(rng.uniform(0.5, 2.0) * sum(halves))
    plan = solve(Problem(curves, budget=budget)).check()
    best = grid_brute_force(curves, budget, 2001 if n == 2 else 401)
    assert plan.spend <= budget * (1 + 1e-9)
    for c, x in zip(curves.curves, spends(plan), strict=True):
        assert x == 0 or x >= c.min_spend * (1 - 1e-9)
    # The grid is a lower bound on the true optimum, and the plan is feasible, so it cannot beat the grid by more
    # than the grid's resolution; the piecewise-linear approximation costs a fraction of a percent.
    assert plan.objective_value <= best * (1 + 1e-4)
    assert plan.objective_value >= best * (1 - 0.005)


# ----------------------------------------------------------------------------------------------------------------
# 6. Profit and conversions objectives.


@pytest.mark.parametrize("seed", range(4))
def test_profit_stops_spending_where_a_dollar_returns_less_than_a_dollar(seed: int) -> None:
    rng = np.random.default_rng(700 + seed)
    n = int(rng.integers(3, 8))
    params = random_concave(rng, n, slopes=(0.5, 1.0))
    margin = 0.5
    curves = hill_curves(params, margin=margin)
    # Each channel's profit peaks where slope * margin = 1; a budget well above their sum does not bind.
    peak = spend_at_slope(1.0 / margin, params, 1e9)
    budget = float(max(peak.sum() * 2.0, 1e4))
    plan = solve(Problem(curves, budget=budget, objective="profit", segments=SEGMENTS)).check()
    s = spends(plan)

    assert s.sum() < budget * 0.9
    assert plan.shadow_price == pytest.approx(0.0, abs=1e-9)
    # Each channel stops within a segment of where a dollar returns a dollar: its last segment returns at least
    # 1 / margin, its next at most. Half the breakpoints are even in spend over [0, budget].
    width = budget / (SEGMENTS // 2)
    for p, x, star, line in zip(params, s, peak, plan.channels, strict=True):
        if x > 0:  # at 0 a Hill slope below 1 is infinite; the plan reports the first dollars' average
            assert line.marginal_return == pytest.approx(float(hill_slope(x, p)), rel=1e-9)
        assert abs(x - star) <= width * (1 + 1e-9)
        if x > 0:
            assert float(hill_slope(max(x - width, 0.0), p)) * margin >= 1 - 1e-9
        assert float(hill_slope(x + width, p)) * margin <= 1 + 1e-9
    best = sum(float(hill_value(x, p)) * margin - x for x, p in zip(peak, params, strict=True))
    profit = float(evaluate(curves, s).sum() * margin - s.sum())
    assert plan.objective_value == pytest.approx(profit, rel=1e-9)
    assert profit <= best + 1e-6 * budget
    # Profit is a small difference of large numbers: bound the approximation's cost by revenue, as elsewhere.
    revenue_at_peak = sum(float(hill_value(x, p)) for x, p in zip(peak, params, strict=True))
    assert profit >= best - 0.01 * margin * revenue_at_peak


@pytest.mark.parametrize("seed", range(3))
def test_conversions_objective_is_revenue_over_order_value(seed: int) -> None:
    rng = np.random.default_rng(800 + seed)
    params = random_concave(rng, int(rng.integers(3, 8)))
    curves = hill_curves(params, order_value=37.5)
    budget = float(rng.uniform(0.5, 2.0) * sum(p[1] for p in params))
    by_revenue = solve(Problem(curves, budget=budget)).check()
    by_conversions = solve(Problem(curves, budget=budget, objective="conversions")).check()
    assert spends(by_conversions) == pytest.approx(spends(by_revenue), abs=1e-6 * budget)
    assert by_conversions.objective_value == pytest.approx(by_revenue.objective_value / 37.5, rel=1e-9)
    assert by_conversions.shadow_price == pytest.approx(by_revenue.shadow_price / 37.5, rel=1e-6)
    assert [c.conversions for c in by_conversions.channels] == pytest.approx(
        [c.revenue / 37.5 for c in by_revenue.channels], rel=1e-6
    )


# ----------------------------------------------------------------------------------------------------------------
# 7. Infeasible problems name their conflict.


def three_channels(**kwargs: Any) -> CurveSet:
    """Three concave Hill channels of comparable size (keywords as for :func:`hill_curves`)."""
    return hill_curves([(1e5, 2e4, 0.8), (5e4, 1e4, 1.0), (8e4, 3e4, 0.9)], **kwargs)


def assert_infeasible(plan: Plan, *words: str) -> None:
    """The plan is infeasible, its message has every word, and :meth:`Plan.check` raises with exit code 3."""
    assert plan.status == "infeasible"
    assert not plan.optimal
    for word in words:
        assert word in plan.message, f"{word!r} not in {plan.message!r}"
    with pytest.raises(InfeasibleError) as info:
        plan.check()
    assert info.value.exit_code == 3
    assert str(info.value) == plan.message
    assert all(math.isnan(c.spend) for c in plan.channels)


def test_channel_minimums_above_the_budget() -> None:
    curves = three_channels(min_spend=[0.0, 25e3, 0.0], fixed_cost=[0.0, 2e3, 500.0])
    limits = {"c0": Limit(3e4, math.inf), "c1": Limit(1e4, math.inf)}
    # c0 forces 30,000; c1 is forced on, so its minimum buy (25,000, above its limit) and fixed cost count; c2 is
    # free to stay off, so its fixed cost does not.
    forced = 3e4 + 25e3 + 2e3
    budget = 5e4
    plan = solve(Problem(curves, budget=budget, limits=limits))
    assert_infeasible(plan, f"channel minimums add to {money(forced)} but the budget is {money(budget)}")


def test_one_channel_minimum_above_its_maximum() -> None:
    plan = solve(Problem(three_channels(), budget=6e4, limits={"c1": Limit(5e3, 3e3)}))
    assert_infeasible(plan, "channel c1", "minimum 5,000", "maximum 3,000", "budget.limits")


def test_limit_minimum_above_the_max_change_ceiling() -> None:
    curves = three_channels(current=[1e4, 1e4, 1e4])
    plan = solve(Problem(curves, budget=6e4, limits={"c2": Limit(2e4, math.inf)}, max_change=0.5))
    assert_infeasible(plan, "channel c2", f"minimum {money(2e4)}", f"maximum {money(1.5e4)}", "max_change 50%")


def test_limit_minimum_with_a_zero_maximum_is_infeasible() -> None:
    # BUG: a channel that must get 1,000 but may get at most 0 cannot be planned; the optimizer drops the
    # channel's segments (its range is empty) and with them the minimum, and reports an optimal plan at 0.
    plan = solve(Problem(three_channels(), budget=6e4, limits={"c1": Limit(1e3, 0.0)}))
    assert_infeasible(plan, "channel c1", "minimum 1,000", "maximum 0")


def test_limit_minimum_for_a_channel_max_change_pins_at_zero_is_infeasible() -> None:
    # BUG, same cause: --max-change pins a channel with no current spend at 0, yet its limit asks for 5,000.
    curves = three_channels(current=[2e4, 0.0, 2e4])
    plan = solve(Problem(curves, budget=6e4, limits={"c1": Limit(5e3, math.inf)}, max_change=0.3))
    assert_infeasible(plan, "channel c1", "minimum 5,000", "maximum 0", "max_change 30%")


def test_minimum_buy_above_the_channel_maximum_keeps_the_channel_off() -> None:
    # BUG: a channel whose minimum buy (10,000) is above the most it may get (its limit, 5,000) can only stay off;
    # the optimizer instead lowers the minimum buy to the maximum and spends 5,000 on it.
    curves = hill_curves([(1e5, 2e4, 0.8), (1e4, 2e4, 0.8)], min_spend=[1e4, 0.0])
    plan = solve(Problem(curves, budget=5e4, limits={"c0": Limit(0.0, 5e3)})).check()
    assert plan.allocation["c0"] == 0.0
    # The same through the budget: all 5,000 of it cannot buy c0's 10,000 minimum.
    plan = solve(Problem(curves, budget=5e3)).check()
    assert plan.allocation["c0"] == 0.0


def test_group_minimum_share_out_of_reach() -> None:
    limits = {"c0": Limit(0.0, 1e4), "c1": Limit(2e4, math.inf), "c2": Limit(1e4, math.inf)}
    plan = solve(Problem(three_channels(), budget=1e5, limits=limits, groups=(Group("tv", ("c0",), min_share=0.5),)))
    # c0 can take 10,000 while the others must take 30,000: at most 25% of spend.
    assert_infeasible(plan, "group tv", "at least 50%", f"at most {money(1e4)}", f"minimums add to {money(3e4)}")


def test_group_maximum_share_out_of_reach() -> None:
    limits = {"c0": Limit(3e4, math.inf), "c1": Limit(0.0, 5e3), "c2": Limit(0.0, 5e3)}
    plan = solve(Problem(three_channels(), budget=1e5, limits=limits, groups=(Group("big", ("c0",), max_share=0.6),)))
    # c0 must take 30,000 while the others can take at most 10,000: at least 75% of spend.
    assert_infeasible(plan, "group big", "at most 60%", f"minimums add to {money(3e4)}", f"at most {money(1e4)}")


def test_min_spend_target_out_of_reach_names_the_most_the_budget_buys() -> None:
    params = [(1e5, 2e4, 0.8), (5e4, 1e4, 1.0), (8e4, 3e4, 0.9)]
    budget = 6e4
    _, best_revenue, _ = true_optimum(params, budget)
    most = best_revenue / ORDER_VALUE
    target = 2 * most
    plan = solve(Problem(hill_curves(params), budget=budget, objective="min-spend", target=target))
    assert_infeasible(plan, f"target of {target:,.0f} conversions is out of reach", f"budget of {money(budget)}")
    match = re.search(r"can buy is ([\d,]+)", plan.message)
    assert match is not None
    assert float(match[1].replace(",", "")) == pytest.approx(most, rel=0.005)


def test_cpa_target_out_of_reach_blames_the_target() -> None:
    # c0 must take 50,000 of a curve that tops out at 1,000 revenue: no allocation gets near 1 per conversion.
    params = [(1e3, 2e4, 0.8), (5e4, 1e4, 1.0)]
    plan = solve(
        Problem(hill_curves(params), budget=6e4, objective="cpa", target=1.0, limits={"c0": Limit(5e4, math.inf)})
    )
    assert_infeasible(plan, "cost per conversion of at most 1")


# ----------------------------------------------------------------------------------------------------------------
# Binding constraints' shadow prices, and problems with nothing to allocate.


def binding_price(plan: Plan, prefix: str) -> float:
    """The shadow price of the one binding constraint whose name starts with ``prefix``."""
    (row,) = [b for b in plan.binding if b.name.startswith(prefix)]
    return row.shadow_price


def test_binding_limit_maximum_reports_what_raising_it_is_worth() -> None:
    # BUG: a channel's maximum (limit or --max-change) also ends its segments, so its row is redundant with the
    # column bounds and its dual is 0, whatever the limit costs. Point curves make the program exact, so the
    # worth of one more dollar of limit is a finite difference.
    params = [(1e5, 2e4, 0.8), (5e4, 1e4, 1.0), (1e4, 3e4, 0.9)]
    curves = point_curves(params, 2e5, current=[2e4, 2e4, 2e4])
    budget, cap, d = 1.05e5, 1.1e4, 10.0
    plan = solve(Problem(curves, budget=budget, limits={"c0": Limit(0.0, cap)})).check()
    assert plan.allocation["c0"] == pytest.approx(cap)
    more = solve(Problem(curves, budget=budget, limits={"c0": Limit(0.0, cap + d)})).check()
    worth = (more.objective_value - plan.objective_value) / d
    assert worth > 0.5  # c0 earns far more at the margin than the budget's shadow price
    assert binding_price(plan, "c0: max (budget.limits)") == pytest.approx(worth, rel=1e-3)


def test_binding_max_change_ceilings_report_what_raising_them_is_worth() -> None:
    # BUG, same cause as above, for --max-change ceilings.
    params = [(1e5, 2e4, 0.8), (5e4, 1e4, 1.0), (1e4, 3e4, 0.9)]
    curves = point_curves(params, 2e5, current=[2e4, 2e4, 2e4])
    budget, d = 1.05e5, 10.0
    plan = solve(Problem(curves, budget=budget, max_change=0.5)).check()
    # Every channel at its ceiling of 30,000 (90,000 < budget): each ceiling is worth its segment's slope.
    assert list(plan.allocation.values()) == pytest.approx([3e4] * 3)
    wider = solve(Problem(curves, budget=budget, max_change=0.5 + d / 2e4)).check()
    gain = (wider.objective_value - plan.objective_value) / d  # all three ceilings raised by d
    slopes = [
        float(np.interp(3e4 + d, c.spend, c.revenue) - np.interp(3e4, c.spend, c.revenue)) / d for c in curves.curves
    ]
    assert gain == pytest.approx(sum(slopes), rel=1e-6)
    for i, slope in enumerate(slopes):
        assert binding_price(plan, f"c{i}: max (max_change 50%)") == pytest.approx(slope, rel=1e-3)


def test_binding_minimum_reports_what_lowering_it_is_worth() -> None:
    # Binding.shadow_price is documented as "what relaxing it by one unit is worth": for a minimum, relaxing is
    # lowering it, and forcing money into a weak channel costs revenue, so the worth is positive (as for the
    # budget, whose relaxation is raising it). BUG (or a docstring to fix): minimum rows report it negated.
    params = [(1e5, 2e4, 0.8), (5e4, 1e4, 1.0), (1e4, 3e4, 0.9)]
    curves = point_curves(params, 2e5)
    budget, floor, d = 1.05e5, 2.1e4, 10.0
    plan = solve(Problem(curves, budget=budget, limits={"c2": Limit(floor, math.inf)})).check()
    assert plan.allocation["c2"] == pytest.approx(floor)
    less = solve(Problem(curves, budget=budget, limits={"c2": Limit(floor - d, math.inf)})).check()
    worth = (less.objective_value - plan.objective_value) / d
    assert worth > 0
    assert binding_price(plan, "c2: min (budget.limits)") == pytest.approx(worth, rel=1e-3)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_nothing_to_allocate_gives_the_empty_plan(solver: str) -> None:
    # BUG with HiGHS: when every channel's range is empty the program has no columns, HiGHS answers "Empty"
    # and solve raises SolverError; CBC returns the all-zero plan. A budget of 0 is valid (and where a frontier
    # naturally starts), as is --max-change on channels with no current spend.
    curves = three_channels()
    for problem in (Problem(curves, budget=0.0), Problem(curves, budget=1e4, max_change=0.2)):
        plan = solve(problem, solver).check()
        assert plan.allocation == {"c0": 0.0, "c1": 0.0, "c2": 0.0}
        assert plan.objective_value == 0.0


# ----------------------------------------------------------------------------------------------------------------
# 8. Problems are validated when described.


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"objective": "sales"}, "objective"),
        ({"budget": -1.0}, "budget"),
        ({"budget": math.nan}, "budget"),
        ({"budget": math.inf}, "budget"),
        ({"objective": "min-spend"}, "target"),
        ({"objective": "cpa", "target": 0.0}, "target"),
        ({"objective": "roas", "target": -2.0}, "target"),
        ({"limits": {"radio": Limit(0.0, 1e3)}}, "radio"),
        ({"groups": (Group("g", ("c0", "radio"), min_share=0.1),)}, "radio"),
        ({"max_change": -0.1}, "max_change"),
        ({"segments": 1}, "segments"),
    ],
)
def test_invalid_problems_are_refused(kwargs: dict[str, Any], word: str) -> None:
    args: dict[str, Any] = {"budget": 1e4, **kwargs}
    with pytest.raises(InputError) as info:
        Problem(three_channels(), **args)
    assert any(word in line for line in info.value.problems)


@pytest.mark.parametrize("objective", ["conversions", "min-spend", "cpa", "roas"])
def test_objectives_in_conversions_need_an_order_value(objective: str) -> None:
    curves = three_channels(order_value=math.nan)
    with pytest.raises(InputError) as info:
        Problem(curves, budget=1e4, objective=objective, target=1.0)
    assert any("order" in line for line in info.value.problems)
    # Revenue and profit do not.
    Problem(curves, budget=1e4, objective="profit")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InputError) as info:
        Problem(three_channels(), budget=-5.0, objective="nope", limits={"tv": Limit()})
    assert len(info.value.problems) == 3


# ----------------------------------------------------------------------------------------------------------------
# 9. The budget frontier.


def test_frontier_is_monotone_and_infeasible_below_forced_minimums() -> None:
    rng = np.random.default_rng(900)
    params = random_concave(rng, 5, slopes=(0.5, 1.0))
    curves = hill_curves(params)
    limits = {"c0": Limit(1e4, math.inf), "c3": Limit(5e3, math.inf)}
    forced = 1.5e4
    budgets = [5e3, 1.4e4, *np.linspace(2e4, 3e5, 15)]
    front = frontier(Problem(curves, budget=1.0, limits=limits), budgets)

    assert [p.budget for p in front.plans] == pytest.approx(budgets)
    assert [p.optimal for p in front.plans] == [b >= forced for b in budgets]
    # 5,000 is below c0's own minimum; 14,000 covers each minimum but not both.
    assert "channel c0: its minimum 10,000" in front.plans[0].message
    assert "maximum 5,000 (the budget)" in front.plans[0].message
    assert f"channel minimums add to {money(forced)} but the budget is 14,000" in front.plans[1].message
    feasible = [p for p in front.plans if p.optimal]
    values = np.array([p.objective_value for p in feasible])
    prices = np.array([p.shadow_price for p in feasible])
    # More budget never earns less; for concave curves each extra dollar earns no more than the one before.
    assert np.all(np.diff(values) >= -1e-9 * values[1:])
    assert np.all(prices >= 0)
    assert np.all(np.diff(prices) <= 1e-9 * prices[:-1])
    # Each point is the optimum at its budget (the frontier is just repeated solves).
    for p in feasible[::5]:
        alone = solve(Problem(curves, budget=p.budget, limits=limits))
        assert alone.objective_value == pytest.approx(p.objective_value, rel=1e-9)
    table = front.to_frame()
    assert table["objective_value"].isna().tolist() == [b < forced for b in budgets]


def test_frontier_of_a_piecewise_linear_program_is_concave() -> None:
    # Point curves: the program does not change with the budget, so its value is exactly concave in the budget
    # and rises at the shadow price between neighbouring budgets.
    rng = np.random.default_rng(901)
    params = random_concave(rng, 4, slopes=(0.6, 1.0))
    curves = point_curves(params, 1e5)
    budgets = np.linspace(1e4, 3.5e5, 30)
    front = frontier(Problem(curves, budget=1.0), budgets)
    values = np.array([p.objective_value for p in front.plans])
    prices = np.array([p.shadow_price for p in front.plans])
    steps = np.diff(values) / np.diff(budgets)
    assert np.all(np.diff(values) >= -1e-9)
    # Supergradients: the slope between two budgets lies between the shadow prices at its ends.
    assert np.all(steps <= prices[:-1] * (1 + 1e-6) + 1e-9)
    assert np.all(steps >= prices[1:] * (1 - 1e-6) - 1e-9)
    # 350,000 is short of the curves' ends (4 x 100,000), so the budget still binds; past them it does not.
    assert prices[-1] > 0
    saturated = solve(Problem(curves, budget=5e5)).check()
    assert saturated.spend == pytest.approx(4e5, rel=1e-9)
    assert saturated.shadow_price == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_shadow_price_is_what_the_next_dollar_returns_when_every_channel_is_full(solver: str) -> None:
    """Every channel at its limit and the budget exactly their sum: the budget binds, but a dollar more buys
    nothing. A dual of a degenerate vertex may say otherwise; the plan must say 0."""
    curves = hill_curves([(1e5, 2e4, 0.8), (5e4, 1e4, 1.0)])
    plan = solve(Problem(curves, budget=1100.0, limits={"c0": Limit(0, 700.0), "c1": Limit(0, 400.0)}), solver)
    assert spends(plan) == pytest.approx([700.0, 400.0])
    assert plan.shadow_price == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_shadow_price_on_a_breakpoint_is_the_right_derivative(solver: str) -> None:
    """Points curves with a kink exactly where the budget puts the plan: the next dollar earns the slope after
    the kink, not the one before it."""
    xs = np.array([0.0, 100.0, 200.0])
    a = ResponseCurve("a", xs, np.array([0.0, 300.0, 400.0]), *[np.zeros(3)] * 2, None, max_spend=200.0)
    b = ResponseCurve("b", xs, np.array([0.0, 250.0, 300.0]), *[np.zeros(3)] * 2, None, max_spend=200.0)
    curves = CurveSet((a, b), order_value=10.0)
    # Slopes: a 3 then 1, b 2.5 then 0.5. With 200 both first segments are full: the next dollar goes to a at 1.
    plan = solve(Problem(curves, budget=200.0), solver)
    assert spends(plan) == pytest.approx([100.0, 100.0])
    assert plan.shadow_price == pytest.approx(1.0, rel=1e-4)


@pytest.mark.parametrize("objective", ["revenue", "profit", "conversions"])
def test_next_dollar_when_one_channel_could_take_the_whole_budget(objective: str) -> None:
    # c0 has no end of its own, so its spend is bounded by the budget alone, and it takes all of it; c1 is weak
    # (a Hill shape below 1, so its slope at 0 is infinite) and is left out. One more dollar of budget is one more
    # dollar for c0: the shadow price is c0's return there, not c1's first segment.
    curves = hill_curves([(2e5, 2e4, 1.0), (2e3, 5e4, 0.5)])
    plan = solve(Problem(curves, budget=1e4, segments=SEGMENTS, objective=objective)).check()
    more = solve(Problem(curves, budget=1e4 + 1.0, segments=SEGMENTS, objective=objective)).check()
    assert plan.channels[0].spend == pytest.approx(1e4) and plan.channels[1].spend == 0.0
    assert plan.shadow_price == pytest.approx(more.objective_value - plan.objective_value, rel=1e-3)
    # What the unused channel's first dollars return, as the program weighed them, is not worth the budget's dollar.
    unused = plan.channels[1]
    assert math.isinf(float(hill_slope(0.0, (2e3, 5e4, 0.5))))
    assert 0.0 < unused.marginal_return <= plan.channels[0].marginal_return


# ----------------------------------------------------------------------------------------------------------------
# 10. The result contract, the objectives table, and the plan's cost.


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses NaN and infinities (JSON has null for them)."""
    return json.loads(text, parse_constant=lambda token: pytest.fail(f"{token} in JSON"))


def test_plan_and_frontier_keep_the_result_contract() -> None:
    curves = three_channels()
    plan = solve(Problem(curves, budget=3e4)).check()
    assert list(plan.to_frame()["channel"]) == list(curves.channels)  # the data rows only: totals apart
    assert list(plan.to_frame("totals")["channel"]) == ["total"]
    doc = strict_json(plan.to_json())
    assert doc["version"] == plan.version and doc["seed"] == plan.seed
    assert plan.converged and doc["solver"]["converged"] is True
    assert "<table" in plan._repr_html_()

    result = frontier(Problem(curves, budget=3e4), [1e4, 2e4, 3e4])
    assert result.check() is result and result.seed == plan.seed and result.version == plan.version
    table = result.to_frame()
    doc = strict_json(result.to_json())
    assert doc["version"] == result.version and doc["seed"] == result.seed
    rows = doc["budgets"]
    assert [r["budget"] for r in rows] == list(table["budget"]) == [1e4, 2e4, 3e4]
    assert "<table" in result._repr_html_()


def test_a_frontier_with_no_feasible_budget_refuses_with_the_range_and_the_reason() -> None:
    curves = three_channels(current=[1e4, 1e4, 1e4])
    result = frontier(Problem(curves, budget=100.0, max_change=0.0), [10.0, 100.0])
    with pytest.raises(InfeasibleError) as info:
        result.check()
    assert "no budget from 10 to 100 is feasible" in str(info.value)
    assert result.plans[-1].message in str(info.value)


def test_the_plans_cost_is_counted_once_with_fixed_costs_of_the_channels_used() -> None:
    curves = three_channels(fixed_cost=[1e3, 2e3, 4e3], current=[5e3, 0.0, 1e4])
    plan = solve(Problem(curves, budget=3e4)).check()
    used = [c for c in plan.channels if c.spend > 0]
    assert plan.fixed_costs == sum(c.fixed_cost for c in used)
    assert plan.spend == pytest.approx(sum(c.spend for c in plan.channels) + plan.fixed_costs)
    assert plan.spend == cost(plan.channels)
    assert plan.current_spend == 5e3 + 1e4 + 1e3 + 4e3  # c1 is not used now: no fixed cost for it
    total = plan.to_frame("totals").iloc[0]
    assert total["fixed_cost"] == pytest.approx(plan.fixed_costs)


def test_every_objective_has_one_meaning_in_the_table() -> None:
    assert list(OBJECTIVES) == ["revenue", "profit", "conversions", "min-spend", "cpa", "roas"]
    assert [o.name for o in OBJECTIVES.values() if o.needs_target] == ["min-spend", "cpa", "roas"]
    assert OBJECTIVES["min-spend"].shadow_unit == "spend saved" and OBJECTIVES["profit"].shadow_unit == "profit"
    assert OBJECTIVES["cpa"].headline(40.0) == "maximize conversions at a cost per conversion of at most 40.00"
    curves = three_channels()
    for name, meaning in OBJECTIVES.items():
        target = 1.0 if meaning.needs_target else None
        plan = solve(Problem(curves, budget=3e4, objective=name, target=target))
        assert plan.objective == name


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"objective": "revenue", "target": 5.0}, "target: only with objective min-spend, cpa, roas"),
        ({"objective": "cpa"}, "target: objective cpa needs one (the highest cost per conversion)"),
        ({"objective": "conversions", "order_value": math.nan}, "order_value: objective conversions is counted in"),
    ],
)
def test_problem_messages_name_parameters_not_command_line_flags(kwargs: dict[str, Any], expected: str) -> None:
    order_value = kwargs.pop("order_value", ORDER_VALUE)
    with pytest.raises(InputError) as info:
        Problem(three_channels(order_value=order_value), budget=1e4, **kwargs)
    assert any(line.startswith(expected) for line in info.value.problems), info.value.problems
    assert not any("--" in line for line in info.value.problems)


def test_infeasible_messages_name_parameters_not_command_line_flags() -> None:
    curves = three_channels(current=[1e4, 1e4, 1e4])
    plan = solve(Problem(curves, budget=6e4, limits={"c0": Limit(2e4, math.inf)}, max_change=0.5))
    assert_infeasible(plan, "(max_change 50%)")
    assert "--" not in plan.message
