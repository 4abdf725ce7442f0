"""Marketing-mix datasets: the stretched scenario, the frame against the run, the truth against counterfactuals.

The frame is a regrouping of one replication's daily record, so its totals must be the run's exactly; the truth
columns must add up, period by period, to the counterfactual runs' differences. The weekly spend factors of
:func:`mmm_scenario` are checked against their log-normal and Bernoulli laws with ``Z`` standard errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import CliResult, small_data
from mixsim.engine import run
from mixsim.engine.population import CONVERTED
from mixsim.errors import InputError
from mixsim.research.mmm import DEFAULT_START, mmm_frame, mmm_scenario, mmm_truth
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, apply_overrides, load_scenario, parse_scenario
from mixsim.simulation import simulate

Z = 5.0
"""Standard errors allowed in the statistical checks (|z| > 5 has probability 5.7e-7 under a normal law)."""

WEEKS = 8
SPREAD = ("mean", "low", "high", "distinguishable")
"""What :func:`mmm_truth` adds to each ROAS figure: its mean and 90% interval over replications, and whether that
interval leaves zero out."""
SALES = ["conversions", "revenue", "revenue_per_conversion"]
"""The columns after the channels' (``revenue_per_conversion``: the order value, Meridian's revenue_per_kpi)."""


def small(*overrides: str, data: dict[str, Any] | None = None) -> Scenario:
    base = small_data() if data is None else data
    return parse_scenario(apply_overrides(base, list(overrides)), source="small.toml")


@pytest.fixture(scope="module")
def base() -> Scenario:
    return small("scenario.population=1000")


@pytest.fixture(scope="module")
def long(base: Scenario) -> Scenario:
    return mmm_scenario(base, WEEKS, seed=1)


@pytest.fixture(scope="module")
def result(long: Scenario) -> SimulationResult:
    return simulate(long, seed=2, replications=2, incrementality=True)


def channel_columns(scenario: Scenario) -> list[str]:
    columns = []
    for c in scenario.channels:
        columns += [f"{c.name}_spend", f"{c.name}_impressions"] + ([f"{c.name}_clicks"] if c.cpc is not None else [])
    return columns


def truth_columns(scenario: Scenario) -> list[str]:
    return [f"{c}_true_{what}" for c in scenario.channel_names for what in ("conversions", "revenue")]


def weights(scenario: Scenario) -> np.ndarray:
    """Flighting weights, one row per channel."""
    return np.array([c.flighting for c in scenario.channels], dtype=float)


# --------------------------------------------------------------------------------------------------------------
# The frame against the run.


def test_frame_columns_follow_the_documented_layout(result: SimulationResult) -> None:
    scenario = result.scenario
    frame = mmm_frame(result)
    assert list(frame.columns) == ["date", *channel_columns(scenario), *SALES]
    truth = mmm_frame(result, truth=True)
    assert list(truth.columns) == [*frame.columns, *truth_columns(scenario)]
    pd.testing.assert_frame_equal(truth[frame.columns], frame)
    assert frame["date"].dtype.kind == "M"
    assert all(frame[f"{c}_impressions"].dtype.kind == "i" for c in scenario.channel_names)
    assert frame["conversions"].dtype.kind == "i"


@pytest.mark.parametrize("freq", ["W", "D"])
@pytest.mark.parametrize("replication", [0, 1])
def test_frame_totals_are_the_runs(result: SimulationResult, freq: str, replication: int) -> None:
    scenario = result.scenario
    record = result.runs[replication]
    frame = mmm_frame(result, freq, replication=replication)
    assert len(frame) == (WEEKS if freq == "W" else WEEKS * 7)
    for k, c in enumerate(scenario.channels):
        np.testing.assert_allclose(frame[f"{c.name}_spend"].sum(), record.spend[k], rtol=1e-12)
        assert frame[f"{c.name}_impressions"].sum() == record.exposures[k]
        if c.cpc is not None:
            np.testing.assert_allclose(frame[f"{c.name}_clicks"], frame[f"{c.name}_spend"] / c.cpc, rtol=1e-15)
    assert frame["conversions"].sum() == record.conversions
    np.testing.assert_array_equal(frame["revenue"], frame["conversions"] * scenario.economics.order_value)
    assert (frame["revenue_per_conversion"] == scenario.economics.order_value).all()
    assert (frame["conversions"] >= 0).all()


def test_daily_rows_are_the_daily_record(result: SimulationResult) -> None:
    record = result.runs[1]
    daily = mmm_frame(result, "D", replication=1)
    for k, name in enumerate(result.channels):
        np.testing.assert_array_equal(daily[f"{name}_spend"], record.daily_spend[:, k])
        np.testing.assert_array_equal(daily[f"{name}_impressions"], record.daily_exposures[:, k])
    np.testing.assert_array_equal(daily["conversions"].cumsum(), record.daily_stages[:, CONVERTED])


def test_weekly_rows_are_seven_daily_rows(result: SimulationResult) -> None:
    weekly = mmm_frame(result, "W", truth=True).drop(columns=["date", "revenue_per_conversion"])
    daily = mmm_frame(result, "D", truth=True).drop(columns=["date", "revenue_per_conversion"])
    summed = daily.groupby(np.arange(len(daily)) // 7).sum()
    pd.testing.assert_frame_equal(weekly, summed, check_dtype=False, rtol=1e-12)


def test_a_horizon_of_part_weeks_ends_on_a_short_week(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()  # 20 days: weeks of 7, 7 and 6 days
    result = simulate(scenario, seed=1, replications=1)
    weekly = mmm_frame(result)
    daily = mmm_frame(result, "D")
    assert len(weekly) == 3 and len(daily) == 20
    last = daily.iloc[14:].drop(columns=["date", "revenue_per_conversion"]).sum()
    in_frame = weekly.iloc[2].drop(["date", "revenue_per_conversion"])
    np.testing.assert_allclose(in_frame.to_numpy(float), last.to_numpy(float), rtol=1e-12)
    assert weekly["date"].iloc[-1] == pd.Timestamp(DEFAULT_START) + pd.Timedelta(days=14)


@pytest.mark.parametrize("start", ["2023-05-17", dt.date(2023, 5, 17)])
def test_dates_step_by_the_period_from_start(result: SimulationResult, start: str | dt.date) -> None:
    first = pd.Timestamp("2023-05-17")
    weekly = result.to_mmm_frame(start=start)["date"]
    daily = result.to_mmm_frame("D", start=start)["date"]
    assert weekly.tolist() == [first + pd.Timedelta(days=7 * i) for i in range(WEEKS)]
    assert daily.tolist() == [first + pd.Timedelta(days=i) for i in range(7 * WEEKS)]
    default = result.to_mmm_frame()["date"]
    assert default.iloc[0] == pd.Timestamp(DEFAULT_START) and default.iloc[0].day_name() == "Monday"


def test_to_mmm_frame_is_mmm_frame(result: SimulationResult) -> None:
    pd.testing.assert_frame_equal(
        result.to_mmm_frame("D", replication=1, start="2022-02-02", truth=True),
        mmm_frame(result, "D", replication=1, start="2022-02-02", truth=True),
    )


def test_weekly_spend_follows_the_stretched_flighting(result: SimulationResult, long: Scenario) -> None:
    """tv always has open customers, so it delivers its plan: each week's share of the spend is its weight's, and
    stochastic rounding keeps impressions within one a day of spend / price."""
    tv = long.channel("tv")
    frame = mmm_frame(result)
    assert result.runs[0].unspent[0] == 0.0
    w = np.asarray(tv.flighting)
    np.testing.assert_allclose(frame["tv_spend"], tv.spend * w / w.sum(), rtol=1e-9)
    assert np.all(np.abs(frame["tv_impressions"] - frame["tv_spend"] / tv.cost_per_exposure) < 7)


# --------------------------------------------------------------------------------------------------------------
# The truth.


def test_truth_periods_add_up_to_the_incremental_conversions(result: SimulationResult) -> None:
    inc = result.incrementality
    assert inc is not None and inc.daily_conversions is not None
    assert inc.daily_conversions.shape == (2, WEEKS * 7, 3)
    value = result.scenario.economics.order_value
    for r in range(result.replications):
        for freq in ("W", "D"):
            frame = mmm_frame(result, freq, replication=r, truth=True)
            for k, name in enumerate(result.channels):
                assert frame[f"{name}_true_conversions"].sum() == inc.conversions[r, k]
                np.testing.assert_array_equal(frame[f"{name}_true_revenue"], frame[f"{name}_true_conversions"] * value)
        np.testing.assert_array_equal(inc.daily_conversions[r].sum(axis=0), inc.conversions[r])


def test_daily_truth_is_the_counterfactual_difference(result: SimulationResult) -> None:
    """Day by day, the conversions so far with the channel on minus with it off, same random numbers."""
    inc = result.incrementality
    assert inc is not None and inc.daily_conversions is not None
    seeds = np.random.SeedSequence(result.seed).spawn(result.replications)
    for r in range(result.replications):
        for k, name in enumerate(result.channels):
            off = run(result.scenario, seeds[r], spend={name: 0.0})
            gap = result.runs[r].daily_stages[:, CONVERTED] - off.daily_stages[:, CONVERTED]
            np.testing.assert_array_equal(np.cumsum(inc.daily_conversions[r, :, k]), gap, err_msg=f"{r} {name}")


def test_a_channel_that_moves_nobody_has_zero_truth_every_week() -> None:
    """Without synergy and memory, a channel with no effect changes nothing (not even the random numbers of the
    others); one that reaches nobody changes nothing even with them; a channel with no spend is not measured."""
    siloed = small("scenario.population=800", "funnel.synergy=0", "funnel.half_life_days={}")
    siloed = siloed.with_channel("dud", spend=400.0, cpm=5.0)
    everything = small("scenario.population=800", "channels.email.spend=0").with_channel(
        "ghost", spend=400.0, cpm=5.0, reach=0.0, p_aware=0.5
    )
    for scenario, inert in ((siloed, ["dud"]), (everything, ["ghost", "email"])):
        result = simulate(mmm_scenario(scenario, 4, seed=3), seed=5, replications=1, incrementality=True)
        frame = result.to_mmm_frame(truth=True)
        for name in inert:
            assert (frame[f"{name}_true_conversions"] == 0).all(), name
            assert (frame[f"{name}_true_revenue"] == 0).all(), name
        assert frame["tv_true_conversions"].sum() > 0  # the real channels still show


def test_mmm_truth_is_the_results_incremental_figures(result: SimulationResult) -> None:
    truth = mmm_truth(result)
    assert list(truth.columns) == [
        "channel",
        "spend",
        "incremental_conversions",
        "incremental_revenue",
        "roas",
        *(f"roas_{part}" for part in SPREAD),
        "marginal_roas",
        *(f"marginal_roas_{part}" for part in SPREAD),
    ]
    assert truth["channel"].tolist() == list(result.channels)
    means = result.to_frame("channels").pivot(index="channel", columns="metric", values="mean").loc[truth["channel"]]
    pairs = {
        "spend": "spend",
        "incremental_conversions": "incremental_conversions",
        "incremental_revenue": "incremental_revenue",
        "roas": "incremental_roas",
        "marginal_roas": "incremental_marginal_roas",
    }
    for mine, theirs in pairs.items():
        np.testing.assert_allclose(truth[mine], means[theirs], rtol=1e-12, err_msg=mine)


def test_mmm_truth_of_one_replication_is_that_datasets(result: SimulationResult) -> None:
    inc = result.incrementality
    assert inc is not None
    for r in range(result.replications):
        truth = mmm_truth(result, replication=r)
        frame = mmm_frame(result, replication=r, truth=True)
        np.testing.assert_array_equal(truth["spend"], result.runs[r].spend)
        np.testing.assert_array_equal(truth["incremental_conversions"], inc.conversions[r])
        np.testing.assert_array_equal(truth["incremental_revenue"], inc.revenue[r])
        np.testing.assert_array_equal(truth["roas"], inc.roas[r])
        for k, name in enumerate(result.channels):
            np.testing.assert_allclose(frame[f"{name}_spend"].sum(), truth["spend"][k], rtol=1e-12)
            assert frame[f"{name}_true_conversions"].sum() == truth["incremental_conversions"][k]


def test_frame_and_truth_argument_errors(result: SimulationResult, long: Scenario) -> None:
    with pytest.raises(InputError, match=r"freq must be one of D, W|freq must be one of W, D"):
        mmm_frame(result, "M")
    for replication in (-1, 2):
        with pytest.raises(InputError, match=rf"replication must be in \[0, 2\) \(got {replication}\)"):
            mmm_frame(result, replication=replication)
        with pytest.raises(InputError, match=rf"replication must be in \[0, 2\) \(got {replication}\)"):
            mmm_truth(result, replication=replication)
    with pytest.raises(InputError, match="start must be a date"):
        mmm_frame(result, start="the first monday")
    plain = simulate(long, seed=2, replications=1)
    with pytest.raises(InputError, match="incrementality=True"):
        mmm_frame(plain, truth=True)
    with pytest.raises(InputError, match="incrementality=True"):
        mmm_truth(plain)
    assert len(mmm_frame(plain)) == WEEKS  # the truth is only needed when asked for


# --------------------------------------------------------------------------------------------------------------
# The stretched scenario.


def test_the_stretch_keeps_average_weekly_spend_and_everything_else(base: Scenario, long: Scenario) -> None:
    assert long.horizon_days == 7 * WEEKS
    assert long.name == f"{base.name} (MMM, {WEEKS} weeks)"
    for old, new in zip(base.channels, long.channels, strict=True):
        np.testing.assert_allclose(new.spend / WEEKS, old.spend * 7 / base.horizon_days, rtol=1e-12)
        assert new.flighting is not None and len(new.flighting) == WEEKS
        assert dataclasses.replace(new, spend=old.spend, flighting=old.flighting, min_spend=old.min_spend) == old
    same = ("population", "economics", "segments", "funnel", "organic", "seed", "source")
    assert all(getattr(long, key) == getattr(base, key) for key in same)
    assert base.horizon_days == 20 and base.channel("tv").flighting is None  # the original is unchanged


def test_zero_variation_keeps_the_flighting_pattern_tiled() -> None:
    data = small_data()
    data["scenario"]["horizon_days"] = 21
    data["channels"]["tv"]["flighting"] = [3.0, 1.0, 2.0]
    scenario = small(data=data)
    long = mmm_scenario(scenario, 7, variation=0.0, seed=9)
    assert long.channel("tv").flighting == (1.5, 0.5, 1.0, 1.5, 0.5, 1.0, 1.5)
    for name in ("search", "email"):
        assert long.channel(name).flighting == (1.0,) * 7
    assert mmm_scenario(scenario, 7, variation=0.0, seed=10) == long  # nothing random is left


def test_same_seed_same_scenario_other_seed_other_weeks(base: Scenario) -> None:
    a, b = mmm_scenario(base, 12, seed=4), mmm_scenario(base, 12, seed=4)
    assert a == b
    c = mmm_scenario(base, 12, seed=5)
    for x, y in zip(a.channels, c.channels, strict=True):
        assert x.spend == y.spend
        assert x.flighting != y.flighting


def test_one_channels_plan_leaves_the_others_weeks_alone(base: Scenario) -> None:
    before = mmm_scenario(base, 10, dark=0.2, seed=8)
    after = mmm_scenario(base.with_channel("tv", spend=0.0, fixed_cost=0.0), 10, dark=0.2, seed=8)
    for name in ("search", "email"):
        assert after.channel(name).flighting == before.channel(name).flighting


def test_weekly_factors_are_independent_log_normals_of_mean_one() -> None:
    data = small_data()
    data["scenario"]["horizon_days"] = 21
    data["channels"]["tv"]["flighting"] = [3.0, 1.0, 2.0]
    n, sigma = 520, 0.5  # ten years of weeks, the longest horizon a scenario takes
    long = mmm_scenario(small(data=data), n, variation=sigma, seed=12)
    pattern = np.resize(np.array([1.5, 0.5, 1.0]), n)
    factors = weights(long) / np.vstack([pattern, np.ones(n), np.ones(n)])
    logs = np.log(factors)
    for k, name in enumerate(long.channel_names):
        assert abs(logs[k].mean() + sigma**2 / 2) <= Z * sigma / math.sqrt(n), name
        assert abs(logs[k].std(ddof=1) - sigma) <= Z * sigma / math.sqrt(2 * n), name
        assert abs(factors[k].mean() - 1.0) <= Z * math.sqrt(math.expm1(sigma**2) / n), name
        lag = np.corrcoef(logs[k, 1:], logs[k, :-1])[0, 1]
        assert abs(lag) <= Z / math.sqrt(n), f"{name}: weeks not independent ({lag:.3f})"
    correlation = np.corrcoef(logs)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert abs(correlation[i, j]) <= Z / math.sqrt(n), f"channels {i} and {j} correlated ({correlation[i, j]:.3f})"


def test_dark_weeks_come_at_the_requested_rate_independently() -> None:
    n, dark = 520, 0.3
    off = weights(mmm_scenario(small(), n, dark=dark, seed=13)) == 0
    for k in range(3):
        # One week per channel is forced on, so the count may fall one short of its binomial law.
        assert abs(off[k].sum() - n * dark) <= Z * math.sqrt(n * dark * (1 - dark)) + 1
    both = dark * dark
    assert abs((off[0] & off[1]).sum() - n * both) <= Z * math.sqrt(n * both * (1 - both)) + 1
    none = weights(mmm_scenario(small(), n, dark=0.0, seed=13))
    assert (none > 0).all()


@pytest.mark.parametrize("pattern", [None, [0.0, 0.0, 1.0]])
def test_every_channel_keeps_a_week_on(pattern: list[float] | None) -> None:
    data = small_data()
    data["scenario"]["horizon_days"] = 21
    if pattern is not None:
        data["channels"]["tv"]["flighting"] = pattern
    scenario = small(data=data)
    for seed in range(60):
        long = mmm_scenario(scenario, 3, dark=0.97, seed=seed)  # validated: a flighting of zeros would raise
        assert (weights(long).max(axis=1) > 0).all()


# Weekly weights are written with six significant digits: a tiny log-normal factor must not round to a dark week.


def test_a_large_variation_still_gives_a_valid_scenario() -> None:
    scenario = small()
    for seed in range(50):
        long = mmm_scenario(scenario, 2, variation=5.0, seed=seed)
        assert (weights(long).max(axis=1) > 0).all()


def test_no_week_goes_dark_unless_asked() -> None:
    long = mmm_scenario(small(), 520, variation=3.0, dark=0.0, seed=1)
    assert (weights(long) > 0).all()


def test_the_budget_stretches_with_the_plan() -> None:
    data = small_data()
    data["budget"] = {
        "total": 5_000.0,
        "limits": {"tv": {"min": 500.0, "max": 3_000.0}, "search": {"min": 100.0}},
        "groups": [{"name": "digital", "channels": ["search", "email"], "max_share": 0.9}],
    }
    scenario = small(data=data)
    long = mmm_scenario(scenario, 6, seed=1)
    stretch = 42 / 20
    assert long.budget is not None and scenario.budget is not None
    fixed = sum(c.fixed_cost for c in scenario.channels if c.spend > 0)
    assert long.budget.total >= long.total_spend + fixed - 1e-9
    np.testing.assert_allclose(long.budget.total, max(5_000.0 * stretch, 3_800.0 * stretch + fixed))
    limits = dict(long.budget.limits)
    np.testing.assert_allclose([limits["tv"].min, limits["tv"].max], [500.0 * stretch, 3_000.0 * stretch])
    np.testing.assert_allclose(limits["search"].min, 100.0 * stretch)
    assert math.isinf(limits["search"].max)
    assert long.budget.groups == scenario.budget.groups
    # A budget below the plan is raised to cover the new spends and fixed costs.
    tight = mmm_scenario(small(data={**data, "budget": {"total": 1.0}}), 6, seed=1)
    assert tight.budget is not None
    np.testing.assert_allclose(tight.budget.total, 3_800.0 * stretch + fixed)


def test_minimum_buys_stretch_with_the_spends() -> None:
    """A minimum buy is for the whole horizon: it scales like the spend, so a plan that met it still does."""
    scenario = small("channels.tv.min_spend=1500", "channels.search.min_spend=1500")
    long = mmm_scenario(scenario, 6, seed=2)
    stretch = 42 / 20
    for name in ("tv", "search"):
        np.testing.assert_allclose(long.channel(name).min_spend, 1_500.0 * stretch)
        assert long.channel(name).spend >= long.channel(name).min_spend
    assert long.channel("email").min_spend == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weeks": 1}, r"weeks must be >= 2 \(got 1\)"),
        ({"weeks": 0}, r"weeks must be >= 2 \(got 0\)"),
        ({"variation": -0.1}, r"variation must be in \[0, 5\] \(got -0.1\)"),
        ({"variation": math.nan}, r"variation must be in \[0, 5\] \(got nan\)"),
        ({"variation": math.inf}, r"variation must be in \[0, 5\] \(got inf\)"),
        ({"variation": 5.5}, r"variation must be in \[0, 5\] \(got 5.5\)"),
        ({"dark": 1.0}, r"dark must be in \[0, 1\) \(got 1.0\)"),
        ({"dark": -0.1}, r"dark must be in \[0, 1\) \(got -0.1\)"),
        ({"seed": -1}, r"seed must be >= 0 \(got -1\)"),
    ],
)
def test_mmm_scenario_argument_errors(base: Scenario, kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"weeks": 4, **kwargs}
    weeks = args.pop("weeks")
    with pytest.raises(InputError, match=message):
        mmm_scenario(base, weeks, **args)


# --------------------------------------------------------------------------------------------------------------
# The command.

TINY = ("--set", "scenario.population=400", "-w", "1")


def test_cli_export_mmm_writes_the_dataset_and_its_truth(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "data.csv"
    code, stdout, stderr = run_cli(
        "export-mmm", scenario_file, "--out", out, "--weeks", "5", "--start", "2023-03-06", "--seed", "4", *TINY
    )
    assert code == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "data_truth.csv", "data_truth.json", "small.toml"]
    scenario = load_scenario(scenario_file, ["scenario.population=400"])
    data = pd.read_csv(out, parse_dates=["date"])
    truth = pd.read_csv(tmp_path / "data_truth.csv", parse_dates=["date"])
    summary = json.loads((tmp_path / "data_truth.json").read_text(encoding="utf-8"))
    assert list(data.columns) == ["date", *channel_columns(scenario), *SALES]
    assert list(truth.columns) == ["date", *truth_columns(scenario)]
    assert len(data) == len(truth) == 5
    start = pd.Timestamp("2023-03-06")
    assert data["date"].tolist() == truth["date"].tolist() == [start + pd.Timedelta(days=7 * i) for i in range(5)]
    assert (data["revenue"] == data["conversions"] * 50.0).all() and (data["revenue_per_conversion"] == 50.0).all()
    np.testing.assert_allclose(data["search_clicks"], data["search_spend"] / 1.5, rtol=1e-12)

    assert {k: summary[k] for k in ("scenario", "seed", "weeks", "freq", "start", "variation", "dark")} == {
        "scenario": "small",
        "seed": 4,
        "weeks": 5,
        "freq": "W",
        "start": "2023-03-06",
        "variation": 0.5,
        "dark": 0.0,
    }
    assert summary["overrides"] == ["scenario.population=400"] and summary["order_value"] == 50.0
    assert list(summary["channels"]) == list(scenario.channel_names)
    spreads = {f"{figure}_{part}" for figure in ("roas", "marginal_roas") for part in SPREAD}
    for name, row in summary["channels"].items():
        assert set(row) == {
            "spend",
            "incremental_conversions",
            "incremental_revenue",
            "roas",
            "marginal_roas",
            *spreads,
        }
        assert truth[f"{name}_true_conversions"].sum() == row["incremental_conversions"]
        np.testing.assert_allclose(data[f"{name}_spend"].sum(), row["spend"], rtol=1e-9)
        if row["roas"] is not None:
            np.testing.assert_allclose(row["roas"], row["incremental_revenue"] / row["spend"], rtol=1e-12)

    # The files are the documented pipeline: stretch with the seed, simulate once with the truth, take the frame.
    long = mmm_scenario(scenario, 5, seed=4)
    expected = simulate(long, seed=4, replications=1, incrementality=True).to_mmm_frame(start="2023-03-06", truth=True)
    np.testing.assert_allclose(data.drop(columns="date"), expected[data.columns[1:]], rtol=1e-12)
    np.testing.assert_array_equal(truth.drop(columns="date"), expected[truth.columns[1:]])
    assert "data.csv: 5 weeks of 'small (MMM, 5 weeks)', 3 channels (seed 4)" in stdout


def test_cli_export_mmm_daily_rows(run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "daily"  # no suffix: the truth goes beside it all the same
    code, stdout, stderr = run_cli("export-mmm", scenario_file, "--out", out, "--weeks", "2", "--freq", "D", *TINY)
    assert code == 0, stderr
    data = pd.read_csv(out, parse_dates=["date"])
    truth = pd.read_csv(tmp_path / "daily_truth.csv")
    assert len(data) == len(truth) == 14
    assert (data["date"].diff().dropna() == pd.Timedelta(days=1)).all()
    assert json.loads((tmp_path / "daily_truth.json").read_text(encoding="utf-8"))["freq"] == "D"
    assert "14 days of" in stdout


@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (("--weeks", "1"), "--weeks", "must be >= 2"),
        (("--weeks", "many"), "--weeks", "must be an integer"),
        (("--dark", "1"), "--dark", "must be in [0, 1)"),
        (("--dark", "-0.1"), "--dark", ">= 0"),
        (("--start", "2024-02-30"), "--start", "must be a date as YYYY-MM-DD"),
        (("--start", "tomorrow"), "--start", "must be a date as YYYY-MM-DD"),
        (("--variation", "-1"), "--variation", ">= 0"),
        (("--freq", "M"), "--freq", "invalid choice"),
    ],
)
def test_cli_export_mmm_rejects_bad_arguments(
    run_cli: Callable[..., CliResult],
    scenario_file: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    option: str,
    says: str,
) -> None:
    out = tmp_path / "data.csv"
    code, _, stderr = run_cli("export-mmm", scenario_file, "--out", out, *args, *TINY)
    assert code == 2
    assert option in stderr and says in stderr
    assert not out.exists() and not (tmp_path / "data_truth.csv").exists()


def test_cli_export_mmm_refuses_a_directory_and_a_bad_scenario(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path
) -> None:
    code, _, stderr = run_cli("export-mmm", scenario_file, "--out", tmp_path, "--weeks", "2", *TINY)
    assert code == 2 and "is a directory" in stderr and "Traceback" not in stderr
    out = tmp_path / "data.csv"
    code, _, stderr = run_cli("export-mmm", scenario_file, "--out", out, "--set", "channels.tvv.spend=1", "-w", "1")
    assert code == 2 and "did you mean 'tv'" in stderr
    assert not out.exists()


def test_the_dataset_splits_the_truth_off_and_keeps_the_result_contract(
    base: Scenario, long: Scenario, result: SimulationResult
) -> None:
    from mixsim.research import MMMDataset, mmm_dataset

    dataset = mmm_dataset(
        result, base, weeks=WEEKS, variation=0.5, dark=0.0, start=dt.date(2023, 3, 6), overrides=["x.y=1"]
    )
    assert isinstance(dataset, MMMDataset)
    full = mmm_frame(result, start="2023-03-06", truth=True)
    assert list(dataset.data.columns) == ["date", *channel_columns(long), *SALES]
    assert list(dataset.truth.columns) == ["date", *truth_columns(long)]
    pd.testing.assert_frame_equal(dataset.data, full[dataset.data.columns])
    pd.testing.assert_frame_equal(dataset.truth, full[dataset.truth.columns])
    pd.testing.assert_frame_equal(dataset.channels, mmm_truth(result, replication=0))
    pd.testing.assert_frame_equal(dataset.to_frame("truth"), dataset.truth)
    with pytest.raises(InputError, match="unknown table 'dataset'; choose one of data, truth, channels"):
        dataset.to_frame("dataset")
    summary = json.loads(dataset.to_json())
    assert summary == dataset.summary  # JSON-ready: it round-trips unchanged
    assert {k: summary[k] for k in ("scenario", "source", "overrides", "seed", "weeks", "start", "version")} == {
        "scenario": base.name,
        "source": base.source,
        "overrides": ["x.y=1"],
        "seed": 2,
        "weeks": WEEKS,
        "start": "2023-03-06",
        "version": result.version,
    }
    assert dataset.seed == 2 and dataset.version == result.version != ""
    assert list(summary["channels"]) == list(long.channel_names)
    assert "MMM dataset" in dataset._repr_html_()
    with pytest.raises(InputError, match=rf"weeks must be the result's horizon in weeks \(got 3 weeks for {7 * WEEKS}"):
        mmm_dataset(result, base, weeks=3, variation=0.5, dark=0.0)


def test_every_stretch_problem_is_reported_at_once(base: Scenario) -> None:
    with pytest.raises(InputError) as caught:
        mmm_scenario(base, 1, variation=-1.0, dark=1.0, seed=-3)
    assert caught.value.problems == [
        "weeks must be >= 2 (got 1)",
        "variation must be in [0, 5] (got -1.0)",
        "dark must be in [0, 1) (got 1.0)",
        "seed must be >= 0 (got -3)",
    ]


# --------------------------------------------------------------------------------------------------------------
# How sure the truth's ROAS figures are: the replications' interval, '~0' where it holds zero, and no interval
# from one replication.


def with_figures(result: SimulationResult, roas: list[list[float]], marginal: list[list[float]]) -> SimulationResult:
    """``result`` with its per-replication ROAS and marginal ROAS replaced, to check the summary analytically."""
    inc = result.incrementality
    assert inc is not None
    figures = dataclasses.replace(inc, roas=np.array(roas), marginal_roas=np.array(marginal))
    return dataclasses.replace(result, incrementality=figures)


def test_truth_figures_carry_the_replications_interval_and_whether_it_holds_zero(result: SimulationResult) -> None:
    """Two replications: the 5th and 95th percentiles lie 5% of the gap inside the two values. A marginal ROAS of
    -2 in one and 4 in the other cannot be told from zero; a figure only one replication defines has no interval."""
    nan = math.nan
    crafted = with_figures(
        result, roas=[[1.0, 2.0, nan], [3.0, 4.0, 5.0]], marginal=[[-2.0, 0.5, nan], [4.0, 1.5, nan]]
    )
    truth = mmm_truth(crafted, replication=0)
    np.testing.assert_array_equal(truth["roas"], [1.0, 2.0, nan])  # the dataset's own figures stay as they were
    np.testing.assert_array_equal(truth["marginal_roas"], [-2.0, 0.5, nan])
    np.testing.assert_allclose(truth["roas_mean"], [2.0, 3.0, 5.0])
    np.testing.assert_allclose(truth["roas_low"], [1.1, 2.1, nan])
    np.testing.assert_allclose(truth["roas_high"], [2.9, 3.9, nan])
    np.testing.assert_allclose(truth["marginal_roas_mean"], [1.0, 1.0, nan])
    np.testing.assert_allclose(truth["marginal_roas_low"], [-1.7, 0.55, nan])
    np.testing.assert_allclose(truth["marginal_roas_high"], [3.7, 1.45, nan])
    roas_clear, marginal_clear = truth["roas_distinguishable"], truth["marginal_roas_distinguishable"]
    assert roas_clear[:2].tolist() == [True, True] and pd.isna(roas_clear[2])
    assert marginal_clear[:2].tolist() == [False, True] and pd.isna(marginal_clear[2])
    assert mmm_truth(crafted)["marginal_roas_low"].equals(truth["marginal_roas_low"])  # over every replication

    from mixsim.research import mmm_dataset

    dataset = mmm_dataset(crafted, result.scenario, weeks=WEEKS, variation=0.5, dark=0.0)
    summary = json.loads(dataset.to_json())
    assert summary["replications"] == 2 and dataset.replications == 2
    tv, search, email = (summary["channels"][name] for name in result.channels)
    assert tv["marginal_roas_distinguishable"] is False and search["marginal_roas_distinguishable"] is True
    assert tv["marginal_roas_low"] == pytest.approx(-1.7) and tv["marginal_roas_high"] == pytest.approx(3.7)
    assert email["roas_low"] is None and email["roas_distinguishable"] is None  # no interval: null, not a guess


def test_one_replication_gives_no_interval(long: Scenario) -> None:
    one = simulate(long, seed=2, replications=1, incrementality=True)
    truth = mmm_truth(one, replication=0)
    for figure in ("roas", "marginal_roas"):
        assert truth[f"{figure}_low"].isna().all() and truth[f"{figure}_high"].isna().all(), figure
        assert truth[f"{figure}_distinguishable"].isna().all(), figure
        np.testing.assert_array_equal(truth[f"{figure}_mean"], truth[figure])


DUD = ("--set", "channels.dud={spend=400.0, cpm=5.0}", "--set", "funnel.synergy=0", "--set", "funnel.half_life_days={}")
"""A channel that moves nobody: without synergy or memory its true ROAS is exactly 0 in every replication."""


def test_cli_export_mmm_shows_intervals_and_marks_what_cannot_be_told_from_zero(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "data.csv"
    code, stdout, stderr = run_cli(
        "export-mmm", scenario_file, "--out", out, "--weeks", "4", "--seed", "4", "-r", "3", *DUD, *TINY
    )
    assert code == 0, stderr
    summary = json.loads((tmp_path / "data_truth.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 3
    overrides = ["scenario.population=400", DUD[1], DUD[3], DUD[5]]
    scenario = load_scenario(scenario_file, overrides)
    long = mmm_scenario(scenario, 4, seed=4)
    simulated = simulate(long, seed=4, replications=3, incrementality=True)
    expected = mmm_truth(simulated, replication=0).set_index("channel")
    for name, row in summary["channels"].items():
        for figure in ("roas", "marginal_roas"):
            for part in ("mean", "low", "high"):
                want = expected.loc[name, f"{figure}_{part}"]
                got = row[f"{figure}_{part}"]
                assert (got is None and math.isnan(want)) or got == pytest.approx(want), (name, figure, part)
    dud = summary["channels"]["dud"]
    assert dud["roas_low"] == dud["roas_high"] == 0.0 and dud["roas_distinguishable"] is False
    tv = summary["channels"]["tv"]
    assert tv["roas_low"] > 0 and tv["roas_distinguishable"] is True

    rows = {line.split()[0]: line for line in stdout.splitlines() if line.strip()}
    assert rows["dud"].count("~0") == 2 and "0.00 [0.00, 0.00] ~0" in rows["dud"]
    roas = f"{tv['roas_mean']:.2f} [{tv['roas_low']:.2f}, {tv['roas_high']:.2f}]"
    assert roas in rows["tv"] and f"{roas} ~0" not in rows["tv"]
    assert "'~0' marks a figure they cannot tell from zero" in stdout
    # The dataset is the first replication, however many are simulated for the intervals.
    first = simulate(long, seed=4, replications=1, incrementality=True).to_mmm_frame()
    data = pd.read_csv(out, parse_dates=["date"])
    np.testing.assert_allclose(data.drop(columns="date"), first[data.columns[1:]], rtol=1e-12)


def test_cli_export_mmm_says_one_replication_gives_no_interval(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "data.csv"
    code, stdout, stderr = run_cli("export-mmm", scenario_file, "--out", out, "--weeks", "4", *DUD, *TINY)
    assert code == 0, stderr
    assert "One replication: these figures have no interval" in stdout and "--replications 5" in stdout
    table = stdout[stdout.index("channel ") :].splitlines()[1:]
    assert len(table) == 4 and not any("[" in line or "~0" in line for line in table), table
    summary = json.loads((tmp_path / "data_truth.json").read_text(encoding="utf-8"))
    assert summary["replications"] == 1
    for row in summary["channels"].values():
        assert row["roas_low"] is None and row["roas_high"] is None and row["roas_distinguishable"] is None
        assert row["marginal_roas_low"] is None and row["marginal_roas_distinguishable"] is None
