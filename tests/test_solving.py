"""Solving at every scale: the same curves give the same plan whatever the size of the budget (1e2 to 1e12), and
curves scaled with the budget give the same plan scaled, each checked against an optimum solved by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixsim.optimizer import Problem, solve
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve
from mixsim.optimizer.plan import Plan
from mixsim.optimizer.program import money_unit

BUDGETS = [10.0**e for e in range(2, 13)]
SOLVERS = ["highs", "cbc"]


def points(name: str, spend: list[float], response: list[float], fixed_cost: float = 0.0) -> ResponseCurve:
    xs, ys = np.array(spend), np.array(response)
    return ResponseCurve(name, xs, ys, ys, ys, None, max_spend=float(xs[-1]), fixed_cost=fixed_cost)


def spends(plan: Plan) -> list[float]:
    return [c.spend for c in plan.channels]


# Two concave curves of two linear pieces each, fixed: a returns 3 per dollar up to 1,000 then 1 up to 2,000; b
# returns 5/3 up to 1,500 then 2/3 up to 3,000. The optimum fills the pieces by falling return: a's first, b's
# first, a's second, b's second, until the budget or the curves run out.
FIXED = CurveSet((points("a", [0, 1000, 2000], [0, 3000, 4000]), points("b", [0, 1500, 3000], [0, 2500, 3500])))
PIECES = [("a", 1000.0, 3.0), ("b", 1500.0, 5 / 3), ("a", 1000.0, 1.0), ("b", 1500.0, 2 / 3)]


def by_hand(budget: float) -> tuple[dict[str, float], float, float]:
    """The fixed curves' optimum at ``budget``: spend per channel, revenue, and what the next dollar returns."""
    spend, revenue, left = {"a": 0.0, "b": 0.0}, 0.0, budget
    for channel, length, slope in PIECES:
        take = min(length, left)
        spend[channel] += take
        revenue += take * slope
        left -= take
        if left <= 0:
            return spend, revenue, slope if take < length else next_slope(channel, spend)
    return spend, revenue, 0.0


def next_slope(channel: str, spend: dict[str, float]) -> float:
    """The return of the best piece with room left once the budget is spent exactly at a piece's end."""
    used = {"a": 0.0, "b": 0.0}
    for name, length, slope in PIECES:
        if used[name] + length > spend[name] + 1e-9:
            return slope
        used[name] += length
    return 0.0


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("budget", [*BUDGETS, 2500.0, 3e9])
def test_fixed_curves_give_the_hand_solved_plan_at_any_budget(solver: str, budget: float) -> None:
    """A budget of 3e9 over curves that end at 5,000 once gave every channel 0 ("optimal", revenue 0): a channel
    under a millionth of the budget was read as unused. Past 5,000 every budget gives the same plan."""
    plan = solve(Problem(FIXED, budget=budget), solver).check()
    spend, revenue, onward = by_hand(budget)
    assert spends(plan) == pytest.approx([spend["a"], spend["b"]], rel=1e-7, abs=1e-9)
    assert plan.objective_value == pytest.approx(revenue, rel=1e-7)
    assert plan.shadow_price == pytest.approx(onward, rel=1e-6, abs=1e-9)
    binding = {b.name for b in plan.binding}
    if budget >= 5000:
        assert binding == {"a: max (end of its curve)", "b: max (end of its curve)"}
        assert all(c.note.startswith("at its most") for c in plan.channels)
    else:
        assert "budget" in binding


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("budget", BUDGETS)
def test_curves_scaled_with_the_budget_give_the_plan_scaled(solver: str, budget: float) -> None:
    """a returns 3 per dollar up to 0.3 B then 1 up to 0.6 B; b 2 up to 0.5 B then 0.5 up to B. With B to spend:
    a's first piece, b's first piece, then the 0.2 B left in a's second: a = b = 0.5 B, revenue 2.1 B, and the
    next dollar would earn 1 (a's second piece has room)."""
    B = budget
    curves = CurveSet(
        (points("a", [0, 0.3 * B, 0.6 * B], [0, 0.9 * B, 1.2 * B]), points("b", [0, 0.5 * B, B], [0, B, 1.25 * B]))
    )
    plan = solve(Problem(curves, budget=B), solver).check()
    assert spends(plan) == pytest.approx([0.5 * B, 0.5 * B], rel=1e-7)
    assert plan.objective_value == pytest.approx(2.1 * B, rel=1e-7)
    assert plan.shadow_price == pytest.approx(1.0, rel=1e-6)
    assert [b.name for b in plan.binding] == ["budget"]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("budget", BUDGETS[::2])
@pytest.mark.parametrize(("fixed", "expected"), [(0.1, (0.4, 0.5)), (0.3, (0.0, 1.0))])
def test_a_fixed_cost_is_weighed_alike_at_any_scale(
    solver: str, budget: float, fixed: float, expected: tuple[float, float]
) -> None:
    """a returns 3 per dollar up to 0.4 B and costs ``fixed`` B to switch on; b returns 2 up to B. With a fixed cost
    of 0.1 B, a on earns 1.2 B + 2 x 0.5 B = 2.2 B against 2 B for b alone; with 0.3 B, 1.2 B + 2 x 0.3 B = 1.8 B:
    b alone."""
    B = budget
    a = points("a", [0, 0.4 * B], [0, 1.2 * B], fixed_cost=fixed * B)
    curves = CurveSet((a, points("b", [0, B], [0, 2 * B])))
    plan = solve(Problem(curves, budget=B), solver).check()
    assert spends(plan) == pytest.approx([expected[0] * B, expected[1] * B], rel=1e-7, abs=1e-9)
    assert plan.objective_value == pytest.approx(max(2.2, 2.0) * B if fixed == 0.1 else 2.0 * B, rel=1e-7)


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_small_channel_beside_one_the_budget_bounds_keeps_its_plan(solver: str) -> None:
    """h, a Hill curve with no end of its own and a fixed cost, can take any budget; a ends at 2,000. At every
    budget from 1e5 to 1e12 a is full and h is on (its fixed cost paid): once a binary within the solver's
    tolerance of 0 carried h's spend for free, and a, under a millionth of the budget, was read as unused."""
    h = Hill(10_000.0, 1_000.0, 1.0)
    grid = np.linspace(0.0, 4_000.0, 9)
    uncapped = ResponseCurve("h", grid, h(grid), h(grid), h(grid), h, max_spend=math.inf, fixed_cost=4_000.0)
    a = Hill(6_000.0, 1_000.0, 1.0)
    small = ResponseCurve("a", grid / 2, a(grid / 2), a(grid / 2), a(grid / 2), a, max_spend=2_000.0)
    curves = CurveSet((uncapped, small))
    for budget in BUDGETS[3:]:
        plan = solve(Problem(curves, budget=budget), solver).check()
        assert plan.channels[1].spend == pytest.approx(2_000.0, rel=1e-7)  # CBC reports 8 digits
        assert plan.channels[0].spend > 0
        assert plan.spend <= budget * (1 + 1e-9)  # h's fixed cost counted
        # a's 4,000 and h past its last response-even breakpoint (11/12 of its 10,000 at 11,000)
        assert plan.objective_value >= 4_000.0 + float(h(11_000.0)) * (1 - 1e-6)


def test_the_money_unit_is_a_power_of_two_between_the_amounts() -> None:
    assert money_unit(np.array([1_000.0, 1_500.0])) == 1024.0
    assert money_unit(np.array([1e2, 1e10])) == 2.0**20  # 1e6, the geometric middle, is about 2**19.9
    assert money_unit(np.array([0.0, math.inf])) == 1.0
