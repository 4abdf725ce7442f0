"""Seasonality: weekly demand multipliers scale the organic hazards and each exposure's effect, with exact laws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mixsim.errors import ScenarioError
from mixsim.scenario import Scenario, scenario_to_dict
from test_engine import assert_law, build, per_day, records_equal, rich, simulate

WEEKS = (1.0, 3.0, 0.5, 0.0)


def seasonal(scenario: Scenario, weekly: tuple[float, ...]) -> Scenario:
    return scenario.replace({"seasonality.weekly": list(weekly)})


def test_a_flat_season_changes_nothing() -> None:
    scenario = rich()
    weeks = math.ceil(scenario.horizon_days / 7)
    flat = seasonal(scenario, (1.0,) * weeks)
    assert flat.seasonality is None
    assert records_equal(simulate(scenario, seed=3), simulate(flat, seed=3))


def test_organic_awareness_follows_the_season_exactly() -> None:
    """Only the Bass innovation hazard a: P(still unaware after day t) = exp(-a * sum of the days' multipliers)."""
    n, a = 50_000, 0.02
    scenario = seasonal(build(n, 28, {"x": per_day(0, 28)}, organic={"awareness_rate": a}), WEEKS)
    multipliers = np.repeat(WEEKS, 7)
    survive = np.exp(-a * np.cumsum(multipliers))
    for seed in (1, 2):
        unaware = simulate(scenario, seed=seed).daily_stages[:, 0]
        assert_law(unaware, n * survive, np.sqrt(n * survive * (1 - survive)), f"unaware, seed {seed}")
    # Power: a flat season would be far off by the end of the busy week.
    flat = n * np.exp(-a * np.arange(1, 29))
    assert abs(flat[13] - n * survive[13]) > 20 * math.sqrt(n * survive[13] * (1 - survive[13]))
    # A week of demand 0 stops the force altogether.
    run = simulate(scenario, seed=1).daily_stages[:, 0]
    assert np.all(run[21:] == run[20])


def test_each_exposure_effect_follows_the_season() -> None:
    """One channel, every stage targeted, only p_aware: P(unaware) = prod over days of (1 - min(1, p m_d)/N)^E."""
    n, daily, p = 20_000, 3_000, 0.4
    scenario = seasonal(build(n, 28, {"x": per_day(daily, 28, p_aware=p)}), WEEKS)  # week 2: 3 x 0.4 -> 1
    step = 1 - np.minimum(1.0, p * np.repeat(WEEKS, 7)) / n
    survive = np.cumprod(step**daily)
    for seed in (4, 5):
        unaware = simulate(scenario, seed=seed).daily_stages[:, 0]
        assert_law(unaware, n * survive, np.sqrt(n * survive * (1 - survive)), f"unaware, seed {seed}")


def test_a_holiday_peak_moves_conversions_into_its_weeks() -> None:
    scenario = rich(horizon=28)
    peak = scenario.replace({"seasonality.periods": [{"name": "holiday", "first_week": 3, "last_week": 4,
                                                      "multiplier": 2.0}]})  # fmt: skip
    assert peak.seasonality == (1.0, 1.0, 2.0, 2.0)
    base, busy = simulate(scenario, seed=8), simulate(peak, seed=8)
    # Common random numbers: the weeks before the peak are the same run.
    np.testing.assert_array_equal(base.daily_stages[:14], busy.daily_stages[:14])
    assert busy.conversions > base.conversions


def test_periods_multiply_the_weekly_values_and_round_trip() -> None:
    scenario = rich(horizon=28).replace(
        {
            "seasonality.weekly": [1.0, 0.8, 1.2, 1.0],
            "seasonality.periods": [
                {"name": "sale", "first_week": 2, "last_week": 3, "multiplier": 1.5},
                {"name": "launch", "first_week": 3, "last_week": 3, "multiplier": 2.0},
            ],
        }
    )
    assert scenario.seasonality == pytest.approx((1.0, 1.2, 3.6, 1.0))
    assert scenario_to_dict(scenario)["seasonality"] == {"weekly": list(scenario.seasonality)}
    assert scenario.replace({}) == scenario


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seasonality.weekly": [1.0, 2.0]}, "seasonality.weekly: must have 4 multipliers, one per week of the 28-day"),
        ({"seasonality.weekly": [1.0, -1.0, 1.0, 1.0]}, "seasonality.weekly[1]: must be >= 0 (got -1"),
        ({"seasonality.periods": [{"name": "x", "first_week": 3, "last_week": 5, "multiplier": 2}]},
         "seasonality.periods[0].last_week: must be within the horizon's 4 weeks (got 5)"),
        ({"seasonality.periods": [{"name": "x", "first_week": 3, "last_week": 2, "multiplier": 2}]},
         "seasonality.periods[0].first_week: must be <= last_week (2) (got 3)"),
        ({"seasonality.period": []}, "seasonality.period: unknown key; did you mean 'periods'?"),
    ],
)  # fmt: skip
def test_bad_seasons_are_refused_with_their_path(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        rich(horizon=28).replace(changes)
    assert any(message in line for line in caught.value.problems), caught.value.problems
