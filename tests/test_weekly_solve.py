"""The week-level program: a known optimum of separable curves, every time constraint on random instances, and
settings refused by name."""

from __future__ import annotations

import math

import numpy as np
import pytest

from _weekly import log_curves, optimum_by_bisection
from mixsim.errors import MixsimError
from mixsim.optimizer.weekly import WeekCurves, WeeklyProblem, check_settings, solve_weekly


@pytest.mark.parametrize("seed", range(5))
def test_separable_curves_reach_their_known_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c, w = int(rng.integers(2, 6)), int(rng.integers(4, 14))
    curves, a, h = log_curves(rng, c, w)
    budget = float(rng.uniform(0.2, 0.6) * c * w * 3000)
    plan = solve_weekly(WeeklyProblem(curves, budget=budget))
    assert plan.optimal
    assert plan.spend.sum() == pytest.approx(budget, rel=1e-9)
    best = optimum_by_bisection(a, h, budget, 20_000.0)
    projected = float((a * h * np.log1p(plan.spend / h)).sum())  # the plan on the true curves
    assert projected <= best * (1 + 1e-9)
    assert projected >= best * (1 - 0.005), "within 0.5% of the optimum"


def test_locked_channels_keep_their_flighting_and_committed_plus_additional_is_the_total() -> None:
    rng = np.random.default_rng(11)
    curves, _, _ = log_curves(rng, 4, 10)
    committed = np.zeros((4, 10))
    committed[1, :3] = 1500.0
    problem = WeeklyProblem(curves, budget=0.0, locked=("c2",), committed=committed, additional=25_000.0)
    plan = solve_weekly(problem)
    assert plan.optimal
    np.testing.assert_allclose(plan.spend[2], curves.current[2], atol=1e-6)
    assert plan.total == pytest.approx(committed.sum() + 25_000.0)
    assert plan.spend.sum() == pytest.approx(plan.total, rel=1e-9)
    assert np.all(plan.spend >= committed - 1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_every_time_constraint_holds_on_random_instances(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    c, w = int(rng.integers(2, 5)), int(rng.integers(6, 13))
    curves, _, _ = log_curves(rng, c, w)
    names = curves.channels
    problem = WeeklyProblem(
        curves,
        budget=float(rng.uniform(0.3, 0.8) * c * w * 2000),
        week_min={names[0]: 800.0},
        week_max={names[1]: 2500.0},
        min_weeks_on={names[0]: int(rng.integers(2, w // 2 + 1))},
        max_dark_weeks={names[-1]: int(rng.integers(1, w // 2))},
        pacing_weeks=4,
        pacing_share=float(rng.uniform(0.4, 0.7)),
    )
    plan = solve_weekly(problem)
    if not plan.optimal:
        assert plan.message and np.isnan(plan.spend).all()
        return
    x, tol = plan.spend, 1e-6 * problem.total
    assert x.sum() <= problem.total + tol
    on0 = x[0] > tol
    assert np.all(x[0][on0] >= 800.0 - tol) and on0.sum() >= problem.min_weeks_on[names[0]]
    assert np.all(x[1] <= 2500.0 + tol)
    assert (x[-1] <= tol).sum() <= problem.max_dark_weeks[names[-1]]
    for start in range(w - 4 + 1):
        assert x[:, start : start + 4].sum() <= problem.pacing_share * problem.total + tol  # type: ignore[operator]


def test_impossible_constraints_are_a_status_not_an_exception() -> None:
    curves, _, _ = log_curves(np.random.default_rng(3), 2, 6)
    plan = solve_weekly(WeeklyProblem(curves, budget=1000.0, week_min={"c0": 900.0}, min_weeks_on={"c0": 3}))
    assert plan.status == "infeasible" and "cannot all hold" in plan.message
    assert math.isnan(plan.shadow_price)


def test_bad_settings_are_named() -> None:
    curves, _, _ = log_curves(np.random.default_rng(5), 2, 4)
    with pytest.raises(MixsimError) as caught:
        solve_weekly(WeeklyProblem(curves, budget=1.0, week_min={"tv": 1.0}, locked=("radio",), pacing_weeks=9))
    assert set(caught.value.problems) >= {
        "week_min: no channel 'tv' (channels: c0, c1)",
        "locked: no channel 'radio' (channels: c0, c1)",
        "pacing: give both pacing_weeks and pacing_share",
        "pacing_weeks: must be in [1, 4] (got 9)",
    }


def test_committed_and_locked_spend_above_the_money_is_refused() -> None:
    current = np.full((2, 3), 100.0)
    committed = np.zeros((2, 3))
    committed[1] = 50.0
    check_settings(("a", "b"), 3, locked=("a",), committed=committed, current=current, total=450.0)
    with pytest.raises(MixsimError, match="come to 450, more than the money 449"):
        check_settings(("a", "b"), 3, locked=("a",), committed=committed, current=current, total=449.0)


def test_a_week_too_small_for_the_default_least_buy_can_still_air() -> None:
    """The default least buy of a week on air (5% of the channel's average week) never asks more than the week's
    curve reaches, so 'no dark weeks' holds for a flighting with one very small week."""
    current = np.array([[1000.0, 1000.0, 10.0, 1000.0]])
    xs = np.array([0.0, 1.0, 2.0])[None, None, :] * current[:, :, None]
    curves = WeekCurves(("tv",), xs, 2.0 * xs, current)
    plan = solve_weekly(WeeklyProblem(curves, budget=current.sum(), max_dark_weeks={"tv": 0}))
    assert plan.optimal and np.all(plan.spend > 0)
