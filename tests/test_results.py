"""Results: tidy tables, the summary interval, and JSON without NaN."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from conftest import small_data
from mixsim.engine.run import DAY_BIN_WIDTH, TOUCH_BINS
from mixsim.errors import InputError
from mixsim.results import CHANNEL_METRICS, INCREMENTAL_METRICS, KPIS, TABLES, SimulationResult
from mixsim.scenario import STAGES, Scenario, parse_scenario
from mixsim.simulation import simulate
from mixsim.tables import interval

MakeScenario = Callable[..., Scenario]
SUMMARY = ["mean", "ci90_low", "ci90_high"]
REPLICATIONS = 3


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    """One shared result (it is immutable): the small scenario with incrementality."""
    return simulate(parse_scenario(small_data()), seed=1, replications=REPLICATIONS, incrementality=True)


def expected_shape(table: str, horizon: int, n_channels: int) -> tuple[list[str], int]:
    """Columns and row count of each table of the small scenario (with incrementality)."""
    return {
        "kpis": (["kpi", *SUMMARY], len(KPIS)),
        "channels": (["channel", "metric", *SUMMARY], n_channels * (len(CHANNEL_METRICS) + len(INCREMENTAL_METRICS))),
        "final_stages": (["stage", *SUMMARY], len(STAGES)),
        "daily": (["day", "quantity", *SUMMARY], horizon * (len(STAGES) + 2 * n_channels)),
        "touchpoints": (["touchpoints", *SUMMARY], TOUCH_BINS),
        "days_to_conversion": (["days", *SUMMARY], math.ceil(horizon / DAY_BIN_WIDTH)),
        "runs": (["replication", *KPIS], REPLICATIONS),
    }[table]


def test_every_table_is_listed() -> None:
    assert set(TABLES) == {"kpis", "channels", "final_stages", "daily", "touchpoints", "days_to_conversion", "runs"}


@pytest.mark.parametrize("table", TABLES)
def test_to_frame_columns_and_rows(result: SimulationResult, table: str) -> None:
    frame = result.to_frame(table)
    columns, rows = expected_shape(table, result.scenario.horizon_days, len(result.channels))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == columns
    assert len(frame) == rows
    if table != "runs":
        summary = frame[SUMMARY].to_numpy()
        defined = ~np.isnan(summary).any(axis=1)
        assert defined.any()
        low, mean, high = summary[defined, 1], summary[defined, 0], summary[defined, 2]
        slack = 1e-9 * np.maximum(1.0, np.abs(mean))
        assert np.all(low - slack <= mean) and np.all(mean <= high + slack)


def test_to_frame_default_is_kpis(result: SimulationResult) -> None:
    pd.testing.assert_frame_equal(result.to_frame(), result.to_frame("kpis"))


def test_to_frame_rejects_unknown_tables(result: SimulationResult) -> None:
    with pytest.raises(InputError, match=r"unknown table 'kpi'.*kpis, channels"):
        result.to_frame("kpi")


def test_tables_agree_with_the_records(result: SimulationResult) -> None:
    runs = result.to_frame("runs")
    assert list(runs["replication"]) == list(range(REPLICATIONS))
    assert list(runs["conversions"]) == [r.conversions for r in result.runs]
    kpis = result.to_frame("kpis").set_index("kpi")
    for kpi in KPIS:
        assert kpis.loc[kpi, "mean"] == pytest.approx(runs[kpi].mean(), rel=1e-12), kpi
    stages = result.to_frame("final_stages").set_index("stage")["mean"]
    assert list(stages.index) == list(STAGES)
    assert stages.sum() == pytest.approx(result.scenario.population)
    daily = result.to_frame("daily")
    last = daily[daily["day"] == result.scenario.horizon_days - 1].set_index("quantity")["mean"]
    assert dict(last[list(STAGES)]) == pytest.approx(dict(stages))
    channels = result.to_frame("channels").set_index(["channel", "metric"])["mean"]
    for k, name in enumerate(result.channels):
        spend_per_day = daily[daily["quantity"] == f"spend:{name}"]["mean"]
        assert spend_per_day.sum() == pytest.approx(channels[(name, "spend")], rel=1e-9)
        assert channels[(name, "exposures")] == pytest.approx(np.mean([r.exposures[k] for r in result.runs]))
        assert (name, "incremental_conversions") in channels.index


def test_to_frame_matches_to_json(result: SimulationResult) -> None:
    doc = json.loads(result.to_json())
    kpis = result.to_frame("kpis").set_index("kpi")
    for kpi, figure in doc["kpis"].items():
        row = kpis.loc[kpi]
        assert [row["mean"], row["ci90_low"], row["ci90_high"]] == pytest.approx([figure["mean"], *figure["ci90"]])
    touch = result.to_frame("touchpoints")
    assert (
        list(touch["touchpoints"])
        == list(doc["touchpoints"])
        == ["0", "1", "2", "3-4", "5-9", "10-19", "20-29", "30-49", "50-74", "75-99", "100+"]
    )
    days = result.to_frame("days_to_conversion")
    assert list(days["days"]) == list(doc["days_to_conversion"])
    assert days["days"].iloc[0] == "0-6"


def test_to_json_carries_seed_version_and_scenario(result: SimulationResult) -> None:
    doc = json.loads(result.to_json(indent=None))
    assert (doc["seed"], doc["replications"], doc["scenario"]) == (1, REPLICATIONS, "small")
    assert doc["version"] == result.version != ""
    assert "\n" not in result.to_json(indent=None)


# --- interval ---------------------------------------------------------------------------------------------------


def test_interval_is_mean_and_5_95_percentiles() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(size=(9, 4))
    mean, low, high = interval(values)
    np.testing.assert_allclose(mean, values.mean(axis=0))
    np.testing.assert_allclose(low, np.quantile(values, 0.05, axis=0))
    np.testing.assert_allclose(high, np.quantile(values, 0.95, axis=0))
    assert np.all(low <= mean) and np.all(mean <= high)
    mean_t, low_t, high_t = interval(values.T, axis=1)
    np.testing.assert_allclose(mean_t, mean)
    np.testing.assert_allclose(low_t, low)
    np.testing.assert_allclose(high_t, high)


def test_interval_of_one_value_is_that_value() -> None:
    mean, low, high = interval(np.array([[2.5, -1.0]]))
    assert list(mean) == list(low) == list(high) == [2.5, -1.0]


def test_interval_ignores_nan_and_all_nan_is_nan_without_warnings() -> None:
    values = np.array([[1.0, np.nan, np.nan], [3.0, 4.0, np.nan], [5.0, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, low, high = interval(values)
    assert mean[0] == 3.0 and mean[1] == 4.0 and low[1] == high[1] == 4.0
    assert np.isnan(mean[2]) and np.isnan(low[2]) and np.isnan(high[2])


def test_summaries_do_not_warn_on_undefined_figures(make_scenario: MakeScenario) -> None:
    scenario = make_scenario("channels.tv.spend=0", "channels.search.spend=0", "channels.email.spend=0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = simulate(scenario, replications=2, incrementality=True)
        for table in TABLES:
            result.to_frame(table)
        result.to_json()


# --- undefined figures ------------------------------------------------------------------------------------------


def _reject_constant(name: str) -> None:
    raise AssertionError(f"JSON contains {name}")


@pytest.mark.parametrize("organic_conversions", [False, True])
def test_zero_spend_gives_null_not_nan(make_scenario: MakeScenario, organic_conversions: bool) -> None:
    overrides = ["channels.tv.spend=0", "channels.search.spend=0", "channels.email.spend=0"]
    if not organic_conversions:
        overrides += ["organic.awareness_rate=0", "organic.conversion_rate=0"]
    result = simulate(make_scenario(*overrides), seed=1, replications=2, incrementality=True)
    text = result.to_json()
    doc = json.loads(text, parse_constant=_reject_constant)
    undefined = {"mean": None, "ci90": [None, None]}
    kpis = doc["kpis"]
    assert kpis["spend"]["mean"] == 0.0, "no channel used: no media spend and no fixed cost"
    assert kpis["roas"] == kpis["roi"] == undefined
    assert kpis["profit"]["mean"] == pytest.approx(kpis["revenue"]["mean"] * 0.6)
    if organic_conversions:
        assert kpis["conversions"]["mean"] > 0
        assert kpis["cac"]["mean"] == 0.0, "customers won for nothing cost nothing each"
    else:
        assert kpis["conversions"]["mean"] == 0
        assert kpis["cac"] == undefined
    for name, entry in doc["channels"].items():
        assert entry["frequency"] == undefined, name
        assert entry["incremental"]["roas"] == entry["incremental"]["marginal_roas"] == undefined, name
        assert entry["incremental"]["conversions"]["mean"] == 0
    frame = result.to_frame("kpis").set_index("kpi")
    assert np.isnan(frame.loc["roas", "mean"]), "frames keep NaN for undefined figures"


def test_fixed_cost_is_paid_only_by_channels_in_use(make_scenario: MakeScenario) -> None:
    used = simulate(make_scenario(), replications=1)
    unused = simulate(make_scenario("channels.tv.spend=0"), replications=1)
    tv = used.scenario.channel("tv")
    assert tv.fixed_cost > 0
    assert list(used.fixed_costs()) == [tv.fixed_cost, 0.0, 0.0]
    assert list(unused.fixed_costs()) == [0.0, 0.0, 0.0]
    for res in (used, unused):
        kpi = res.kpi_values()
        assert kpi["spend"][0] == pytest.approx(res.runs[0].spend.sum() + res.fixed_costs().sum())
