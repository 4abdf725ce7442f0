"""Channel-week curves measured by simulation: impulses on common random numbers, runs made once, weeks measured
and interpolated, and a plan's weekly spend as a scenario."""

from __future__ import annotations

import numpy as np
import pytest

from _weekly import small_scenario
from mixsim.engine import run
from mixsim.optimizer.weekly import (
    WEEK_KEY,
    WeeklyProblem,
    measure_week_curves,
    measured_weeks,
    solve_weekly,
    week_run_count,
    week_spend,
    with_week_spend,
)
from mixsim.scenario import Scenario


def test_week_spend_round_trips_through_the_flighting() -> None:
    scenario = small_scenario()
    spend = np.abs(np.random.default_rng(2).normal(300.0, 120.0, week_spend(scenario).shape))
    spend[1, 1] = 0.0  # a dark week
    again = with_week_spend(scenario, spend)
    np.testing.assert_allclose(week_spend(again), spend, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(week_spend(scenario).sum(axis=1), [c.spend for c in scenario.channels])


def test_an_impulse_is_the_difference_of_two_runs_on_the_same_seeds() -> None:
    scenario = small_scenario()
    curves = measure_week_curves(scenario, seed=6, replications=2, levels=(0.0, 1.0, 2.0))
    base = week_spend(scenario)
    seeds = np.random.SeedSequence(6, spawn_key=(WEEK_KEY,)).spawn(2)
    i, j = 0, 1  # tv, week 2

    def revenue(level: float) -> float:
        spend = base.copy()
        spend[i, j] = level * base[i, j]
        planned = with_week_spend(scenario, spend)
        return float(np.mean([run(planned, s).conversions for s in seeds])) * scenario.economics.order_value

    np.testing.assert_allclose(curves.spend[i, j], [0.0, base[i, j], 2 * base[i, j]])
    assert curves.plan_revenue == pytest.approx(revenue(1.0), abs=1e-9)  # the plan itself
    assert curves.revenue[i, j, 1] == pytest.approx(revenue(1.0) - revenue(0.0), abs=1e-9)
    assert curves.revenue[i, j, 2] == pytest.approx(revenue(2.0) - revenue(0.0), abs=1e-9)
    np.testing.assert_array_equal(curves.current, base)


def six_weeks() -> Scenario:
    return small_scenario().replace({"scenario.horizon_days": 42})


def test_runs_shared_by_every_channel_week_are_made_once() -> None:
    scenario = six_weeks()
    base = week_spend(scenario)
    base[1, 2] = 0.0  # a dark week: its level 0 is the plan itself
    totals: list[int] = []
    curves = measure_week_curves(scenario, seed=3, replications=2, around=base,
                                 progress=lambda done, total: totals.append(total))  # fmt: skip
    c, w = base.shape
    # Per replication: the plan once, then two runs of its own per channel-week (levels 0 and 2, or 1 and 2).
    assert set(totals) == {2 * (1 + 2 * c * w)} == {week_run_count(base, replications=2)}
    assert curves.spend[1, 2, 1] == pytest.approx(base[1].sum() / w)  # a dark week: the channel's average week


def test_measured_weeks_include_the_edges_of_the_season() -> None:
    np.testing.assert_array_equal(measured_weeks(10, 1), np.arange(10))
    np.testing.assert_array_equal(measured_weeks(10, 4), [0, 4, 8, 9])
    season = [1.0] * 5 + [1.8, 1.8] + [1.0] * 3  # a peak in weeks 6-7 (1-based)
    np.testing.assert_array_equal(measured_weeks(10, 4, season), [0, 4, 5, 6, 7, 8, 9])
    with pytest.raises(ValueError, match="every"):
        measured_weeks(10, 0)


def test_every_other_week_is_measured_exactly_and_the_rest_interpolated() -> None:
    scenario = six_weeks()
    base = week_spend(scenario) * np.array([1.0, 1.5, 0.5, 1.2, 0.8, 1.0])  # references differ week to week
    full = measure_week_curves(scenario, seed=4, replications=1, around=base)
    totals: list[int] = []
    half = measure_week_curves(scenario, seed=4, replications=1, around=base, every=2,
                               progress=lambda done, total: totals.append(total))  # fmt: skip
    measured = [0, 2, 4, 5]
    assert set(totals) == {1 + 2 * 3 * len(measured)} == {week_run_count(base, 1, every=2)}
    np.testing.assert_array_equal(half.spend, full.spend)
    np.testing.assert_array_equal(half.revenue[:, measured], full.revenue[:, measured])
    # Weeks 2 and 4 (1-based): the mean of their neighbours' revenue per unit of reference, times their own.
    per_ref = full.revenue / base[:, :, None]
    for j in (1, 3):
        expected = (per_ref[:, j - 1] + per_ref[:, j + 1]) / 2 * base[:, j, None]
        np.testing.assert_allclose(half.revenue[:, j], expected, rtol=1e-12)


def test_a_channel_with_no_spend_is_measured_at_a_real_buy() -> None:
    scenario = small_scenario()
    around = week_spend(scenario)
    around[1] = 0.0  # search off all quarter
    curves = measure_week_curves(scenario, seed=2, replications=1, around=around)
    np.testing.assert_allclose(curves.spend[1, :, 1], around.sum() / around.size)
    assert np.all(curves.revenue[1, :, 2] > 0)  # a buy that brings sales, not a dollar


def _peak_world(memory: bool, peak: bool) -> Scenario:
    """An awareness channel, organic consideration and conversion, and optionally memory and a two-week peak."""
    from test_engine import build

    scenario = build(
        20_000,
        56,
        {"tv": {"cpm": 1000.0, "spend": 56 * 400.0, "p_aware": 0.3, "targets": ["unaware"]}},
        half_life={"aware": 5.0, "considering": 5.0} if memory else None,
        organic={"consideration_rate": 0.08, "conversion_rate": 0.08},
    )
    if peak:
        holiday = {"name": "holiday", "first_week": 7, "last_week": 8, "multiplier": 3.0}
        scenario = scenario.replace({"seasonality.periods": [holiday]})
    return scenario


@pytest.mark.slow
def test_a_peak_pulls_spend_into_the_weeks_before_it_only_with_memory() -> None:
    """With forgetting, awareness bought just before the peak is still there when demand triples, so those weeks
    earn more than the first; without forgetting, awareness bought early lasts as well, so they do not. The plan
    (the money of the current flighting, each week at most twice its spend) follows."""

    def plan_and_curves(memory: bool, peak: bool) -> tuple[np.ndarray, np.ndarray]:
        scenario = _peak_world(memory, peak)
        curves = measure_week_curves(scenario, seed=1, replications=4, levels=(0.0, 1.0, 2.0))
        plan = solve_weekly(WeeklyProblem(curves, budget=float(week_spend(scenario).sum())))
        return curves.revenue[0, :, 1], plan.spend[0]

    (peak_first, peak_plan), (flat_first, flat_plan) = plan_and_curves(True, True), plan_and_curves(True, False)
    still_first, still_plan = plan_and_curves(False, True)
    # The first 400 of each week, as a multiple of week 1's.
    assert peak_first[4] > 1.2 * peak_first[0] and peak_first[5] > 1.2 * peak_first[0]
    assert flat_first[4] < flat_first[0] and flat_first[5] < flat_first[0]
    assert still_first[4] < 1.05 * still_first[0] and still_first[5] < 1.05 * still_first[0]
    before, early = slice(4, 6), slice(0, 2)
    assert peak_plan[before].sum() > peak_plan[early].sum()
    assert flat_plan[before].sum() < flat_plan[early].sum()
    assert still_plan[before].sum() <= still_plan[early].sum()
