"""A business's history: read and checked row by row, accepted as ``mixsim export-mmm`` writes it, and replayed
through the scenario it came from."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixsim
from mixsim.calibration import MIN_WEEKS, fit_statistics, history_scenario, read_history, simulated_kpi
from mixsim.calibration.replay import history_spend
from mixsim.errors import InputError
from mixsim.research.mmm import mmm_frame, mmm_scenario
from mixsim.scenario import Scenario

WEEKS = 20


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])


@pytest.fixture(scope="module")
def exported(scenario: Scenario) -> pd.DataFrame:
    """A history as mixsim export-mmm writes it: the scenario over 20 weeks, spend varying week to week."""
    result = mixsim.simulate(mmm_scenario(scenario, weeks=WEEKS, seed=1), replications=1, seed=3)
    return mmm_frame(result)


def write(frame: pd.DataFrame, tmp_path: Path, name: str = "history.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def problems(path: Path, scenario: Scenario, **kwargs: object) -> list[str]:
    with pytest.raises(InputError) as info:
        read_history(path, scenario, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_export_mmm_output_is_a_history_as_it_is(scenario: Scenario, exported: pd.DataFrame, tmp_path: Path) -> None:
    history = read_history(write(exported, tmp_path), scenario)
    assert history.periods == WEEKS and history.period_days == 7 and history.kpi == "revenue"
    np.testing.assert_array_equal(history.observed, exported["revenue"].to_numpy())
    assert set(history.spend) == set(scenario.channel_names)
    for name, spend in history.spend.items():
        np.testing.assert_array_equal(spend, exported[f"{name}_spend"].to_numpy())
    assert set(history.clicks) == {"search"}  # the click-priced channel
    assert history.train_periods == WEEKS


def test_replaying_the_history_through_its_own_scenario_reproduces_it(
    scenario: Scenario, exported: pd.DataFrame, tmp_path: Path
) -> None:
    """The history came from the scenario: replayed with the history's spend, week by week, the simulated weekly
    revenue (mean of replications on other seeds) follows the observed one (R² above 0.9, MAPE under 10%), and the
    replay spends exactly the history's money, channel by channel and week by week."""
    history = read_history(write(exported, tmp_path), scenario)
    replay = history_scenario(scenario, history)
    assert replay.horizon_days == 7 * WEEKS and replay.seasonality is None
    for name, weekly in history_spend(scenario, history).items():
        np.testing.assert_allclose(weekly, history.spend[name], rtol=1e-12)
        assert replay.channel(name).spend == pytest.approx(history.spend[name].sum(), rel=1e-12)
    result = mixsim.simulate(replay, replications=3, seed=9)
    spent = np.mean([run.spend for run in result.runs], axis=0)
    planned = np.array([history.spend[n].sum() for n in replay.channel_names])
    assert np.all(spent <= planned * (1 + 1e-9))
    simulated = np.mean([simulated_kpi(run, replay, history) for run in result.runs], axis=0)
    stats = fit_statistics(history.observed, simulated)
    assert stats["r2"] > 0.9 and stats["mape"] < 0.10, stats
    # The KPI is the revenue of every purchase: the replay's runs add up to it.
    for run in result.runs:
        total = simulated_kpi(run, replay, history).sum()
        assert total == pytest.approx(run.revenue(replay.economics.order_value, replay.repeat_order_value))


def test_conversions_kpi_counts_every_purchase(scenario: Scenario, exported: pd.DataFrame, tmp_path: Path) -> None:
    kpi = scenario.replace({"calibration.kpi": "conversions"})
    history = read_history(write(exported, tmp_path), kpi)
    np.testing.assert_array_equal(history.observed, exported["conversions"].to_numpy())
    replay = history_scenario(kpi, history)
    run = mixsim.simulate(replay, replications=1, seed=2).runs[0]
    assert simulated_kpi(run, replay, history).sum() == run.purchases


def test_daily_rows_and_a_mapped_owned_channel(scenario: Scenario, tmp_path: Path) -> None:
    """Daily rows sum into weeks; an owned channel given as activity (exposures) buys exactly those exposures."""
    days = 8 * 7
    frame = pd.DataFrame({"day": pd.date_range("2025-03-03", periods=days, freq="D").strftime("%Y-%m-%d")})
    frame["sales"] = 100.0
    frame["sends"] = 1000.0
    for name in scenario.channel_names:
        frame[f"{name}_cost"] = 50.0
    mapping = {name: {"spend": f"{name}_cost"} for name in scenario.channel_names if name != "email"}
    mapping["email"] = {"activity": "sends"}
    mapped = scenario.replace(
        {"calibration.date": "day", "calibration.kpi_column": "sales", "calibration.channels": mapping}
    )
    history = read_history(write(frame, tmp_path), mapped)
    assert history.period_days == 1 and history.weeks == 8 and set(history.activity) == {"email"}
    weekly = history_spend(mapped, history)
    np.testing.assert_allclose(weekly["social"], 350.0)
    np.testing.assert_allclose(weekly["email"], 7000.0 * mapped.channel("email").cost_per_exposure)
    run = mixsim.simulate(history_scenario(mapped, history), replications=1, seed=1).runs[0]
    email = mapped.channel_names.index("email")
    assert run.exposures[email] + run.unspent[email] / mapped.channel("email").cost_per_exposure == pytest.approx(
        7000.0 * 8, rel=1e-6
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.drop(columns=["social_spend"]), "channel social: no spend column (expected social_spend"),
        (lambda f: f.drop(columns=["revenue"]), "column 'revenue' (kpi): not in the file"),
        (lambda f: f.rename(columns={"date": "week"}), "column 'date' (date): not in the file"),
        (lambda f: f.assign(search_spend=f["search_spend"].astype(object).where(f.index != 3, "n/a")),
         "row 5: column search_spend: must be a number (got 'n/a')"),
        (lambda f: f.assign(social_spend=f["social_spend"].where(f.index != 0, -5.0)),
         "row 2: column social_spend: must be a finite number >= 0 (got '-5.0')"),
        (lambda f: f.assign(date=f["date"].where(f.index != 4, "2024-13-01")),
         "row 6: column date: must be a date, YYYY-MM-DD (got '2024-13-01')"),
        (lambda f: f.iloc[[0, 1, 3, 2, *range(4, len(f))]], "row 5: dates must increase"),
        (lambda f: pd.concat([f.iloc[:3], f.iloc[2:]]), "row 5: repeats the week of row 4"),
        (lambda f: f.drop(index=5), "row 7: a gap of 14 days after"),
        (lambda f: f.iloc[:MIN_WEEKS - 1], f"7 weeks of history: at least {MIN_WEEKS} are needed"),
    ],
)  # fmt: skip
def test_malformed_histories_are_refused_naming_file_row_and_column(
    scenario: Scenario, exported: pd.DataFrame, tmp_path: Path, change: object, expected: str
) -> None:
    path = write(change(exported), tmp_path)  # type: ignore[operator]
    found = problems(path, scenario)
    assert all(p.startswith(f"{path}: ") for p in found), found
    assert any(expected in p for p in found), found


def test_a_holdout_must_leave_enough_weeks_to_fit(scenario: Scenario, exported: pd.DataFrame, tmp_path: Path) -> None:
    path = write(exported, tmp_path)
    assert read_history(path, scenario, holdout_weeks=WEEKS - MIN_WEEKS).train_periods == MIN_WEEKS
    found = problems(path, scenario, holdout_weeks=WEEKS - MIN_WEEKS + 1)
    assert any("leaves 7 weeks to fit" in p for p in found), found


def test_a_missing_or_unreadable_file_is_named(scenario: Scenario, tmp_path: Path) -> None:
    assert any("cannot read the history" in p for p in problems(tmp_path / "nope.csv", scenario))
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    assert any("empty" in p for p in problems(empty, scenario))


def test_fit_statistics_laws() -> None:
    y = np.array([3.0, 5.0, 9.0, 4.0])
    perfect = fit_statistics(y, y)
    assert perfect == {"r2": 1.0, "nrmse": 0.0, "mape": 0.0}
    flat = fit_statistics(y, np.full(4, y.mean()))
    assert flat["r2"] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(fit_statistics(np.ones(3), np.ones(3))["r2"])
