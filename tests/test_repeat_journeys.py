"""Journeys and attribution when customers buy again and lapse: a path is the touches up to the customer's win.

A customer is *won* on its first purchase (``converted_day``) and stays won after a lapse, so "converted" in the
journey tables is ``converted_day >= 0``, not a final stage of converted. The simulation books a touch towards
touchpoints and attribution only before the customer was won (``kernels.book``: on the day of winning, only the
touches that found it not yet a customer); the journal keeps every touch and marks the others ``after_won``. With
every customer tracked the journey tables must therefore reproduce the run's customers won, touchpoints, days to
conversion and attributions exactly, while the touch table still holds every touch: a CRM channel that reaches
customers alone is in the touch table and in no path. A hand-built journal pins the rule on the day of winning.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixsim
from conftest import ROOT, SMALL_TOML, CliResult, small_data
from mixsim.engine import RunRecord
from mixsim.engine.journal import TOUCH_DTYPE, Journal
from mixsim.engine.run import DAY_BIN_WIDTH, TOUCH_BINS, touch_bins
from mixsim.research.attribution import MODELS, attribute
from mixsim.research.attribution.paths import PathTable
from mixsim.research.journeys import PATH_SEPARATOR, Journeys
from mixsim.results import SimulationResult
from mixsim.scenario import STAGES, Scenario, load_scenario, parse_scenario

CUSTOMER = STAGES.index("converted")
REPEAT = {"repeat.mean_days_between": 15, "repeat.lapse_half_life_days": 10, "repeat.order_value": 20.0}


def small_repeat() -> Scenario:
    """The small scenario over 40 days with repeat purchases, lapse and strong organic conversion; email (third of
    four channels) targets the customers too, so it touches some on the day search won them, after the win; a CRM
    channel, last, reaches customers alone."""
    base = parse_scenario(small_data(), source="small.toml")
    scenario = base.replace({**REPEAT, "organic.conversion_rate": 0.05}, horizon_days=40)
    scenario = scenario.with_channel("email", targets=["aware", "considering", "converted"], p_repurchase=0.03)
    return scenario.with_channel("crm", spend=60.0, cpm=5.0, targets=["converted"], p_repurchase=0.05)


def d2c_repeat() -> Scenario:
    """The shipped d2c scenario (its email already targets customers) on a small population, with a CRM channel
    and a shorter lapse so that some customers lapse within the quarter."""
    scenario = load_scenario(ROOT / "scenarios" / "d2c_ecommerce.toml", ["scenario.population=4000"])
    scenario = scenario.replace({"repeat.lapse_half_life_days": 20})
    return scenario.with_channel("crm", spend=300.0, cpm=5.0, targets=["converted"], p_repurchase=0.05)


SCENARIOS: dict[str, Callable[[], Scenario]] = {"small": small_repeat, "d2c": d2c_repeat}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def everyone(request: pytest.FixtureRequest) -> SimulationResult:
    """One replication with every customer tracked."""
    return mixsim.simulate(SCENARIOS[request.param](), seed=4, replications=1, journeys=1.0)


@pytest.fixture(scope="module")
def day_paths(everyone: SimulationResult) -> pd.DataFrame:
    """The path table with ``path_days`` (every model can read it), once per scenario."""
    return everyone.journeys().paths(days=True)


def record_and_journal(result: SimulationResult) -> tuple[RunRecord, Journal]:
    run = result.runs[0]
    assert run.journal is not None
    return run, run.journal


def crm_index(result: SimulationResult) -> int:
    return result.channels.index("crm")


# --------------------------------------------------------------------------------------------------------------
# (a) Converted means won.


def test_the_scenarios_have_lapsed_customers_and_touches_after_the_win(everyone: SimulationResult) -> None:
    """The premise of every test below: without these, stage == converted and the unfiltered journal would pass."""
    run, journal = record_and_journal(everyone)
    assert everyone.scenario.repeats
    assert np.count_nonzero(journal.won & (journal.stage != CUSTOMER)) > 0, "some customers won have lapsed"
    assert run.repeat_purchases > 0
    after = journal.after_won()
    won_day = journal.converted_day[np.searchsorted(journal.customers, journal.touches["customer"])]
    same_day = journal.touches["day"] == won_day
    assert np.count_nonzero(after & same_day) > 0, "touches on the day of winning, after the win"
    assert np.count_nonzero(~after & same_day) > 0, "touches on the day of winning, before the win"
    lapsed = after & (journal.touches["stage_before"] < CUSTOMER)
    assert np.count_nonzero(lapsed) > 0, "lapsed customers reached again"


def test_the_customers_converted_are_the_customers_won(everyone: SimulationResult) -> None:
    run, journal = record_and_journal(everyone)
    journeys = everyone.journeys()
    customers = journeys.customers()
    np.testing.assert_array_equal(customers["customer"], journal.customers)
    won = journal.converted_day >= 0
    np.testing.assert_array_equal(customers["converted"], won)
    np.testing.assert_array_equal(customers["converted_day"], np.where(won, journal.converted_day, np.nan))
    assert customers["converted"].sum() == run.conversions > run.daily_stages[-1, CUSTOMER]
    # Every customer won is on a path or converted untouched; the touchpoints histogram counts each of them once.
    paths = journeys.paths()
    assert paths["total_conversions"].sum() + journeys.untouched_conversions().sum() == run.conversions
    assert journeys.touchpoints()["buyers"].sum() == run.conversions
    # A customer is on a path when it was touched before its win (or never won and touched at all).
    on_path = customers["touches"] > 0
    assert paths["total_conversions"].sum() == (on_path & customers["converted"]).sum()
    assert paths["total_null"].sum() == (on_path & ~customers["converted"]).sum()


# --------------------------------------------------------------------------------------------------------------
# (b) A channel on customers alone wins nobody: no path and no credit.


def test_a_crm_channel_is_in_no_path_and_credited_nothing(everyone: SimulationResult, day_paths: pd.DataFrame) -> None:
    run, journal = record_and_journal(everyone)
    k = crm_index(everyone)
    paths = day_paths
    channels = {c for path in paths["path"] for c in path.split(PATH_SEPARATOR)}
    assert "crm" not in channels and len(channels) == len(everyone.channels) - 1
    assert "crm" not in PathTable.from_journal(journal, everyone.scenario).channels
    credit = attribute(paths, MODELS, channels=everyone.channels)
    crm = credit[credit["channel"] == "crm"]
    assert len(crm) == len(MODELS)
    assert (crm["conversions"] == 0).all() and (crm["value"] == 0).all()
    totals = credit.groupby("model")["conversions"].sum()
    np.testing.assert_allclose(totals, paths["total_conversions"].sum())
    # The simulation's own attributions leave it out too, though it reached customers.
    assert run.first_touch[k] == run.last_touch[k] == run.linear[k] == 0.0
    assert run.reach[k] > 0


def test_against_the_truth_the_crm_channel_is_credited_nothing() -> None:
    result = mixsim.simulate(small_repeat(), seed=2, replications=1, incrementality=True, journeys=1.0)
    check = mixsim.against_truth(result)
    k = crm_index(result)
    np.testing.assert_array_equal(check.credit[:, :, k], 0.0)
    # Every model splits the customers won after a touch: the conversions of the paths, not the purchases.
    paths = result.journeys().paths()
    np.testing.assert_allclose(check.credit.sum(axis=2), paths["total_conversions"].sum())
    assert check.conversions[0] == result.runs[0].conversions


# --------------------------------------------------------------------------------------------------------------
# (c) The journal's filter is the engine's booking rule.


def test_touchpoints_from_the_journeys_are_the_runs(everyone: SimulationResult) -> None:
    run, _ = record_and_journal(everyone)
    journeys = everyone.journeys()
    np.testing.assert_array_equal(journeys.touchpoints()["buyers"], run.touchpoints)
    customers = journeys.customers()
    bought = customers[customers["converted"]]
    np.testing.assert_array_equal(np.bincount(touch_bins(bought["touches"]), minlength=TOUCH_BINS), run.touchpoints)
    share = np.count_nonzero(bought["touches"] >= 2) / run.conversions
    assert journeys.multi_touch_share() == pytest.approx(share)


def test_first_and_last_touch_and_days_to_conversion_of_the_paths_are_the_runs(
    everyone: SimulationResult, day_paths: pd.DataFrame
) -> None:
    run, _ = record_and_journal(everyone)
    converted = day_paths[day_paths["total_conversions"] > 0]
    channels = converted["path"].str.split(PATH_SEPARATOR)
    weight = converted["total_conversions"].to_numpy()
    index = {name: k for k, name in enumerate(everyone.channels)}
    n = len(index)
    first = np.bincount([index[c[0]] for c in channels], weights=weight, minlength=n)
    last = np.bincount([index[c[-1]] for c in channels], weights=weight, minlength=n)
    np.testing.assert_array_equal(first, run.first_touch)
    np.testing.assert_array_equal(last, run.last_touch)
    # The first entry of path_days runs from the first touch to the win.
    days = np.array([int(d.split(PATH_SEPARATOR)[0]) for d in converted["path_days"]])
    bins = run.days_to_conversion.size
    histogram = np.bincount(days // DAY_BIN_WIDTH, weights=weight, minlength=bins)[:bins]
    np.testing.assert_array_equal(histogram, run.days_to_conversion)


def test_linear_attribution_by_exposures_before_the_win_is_the_runs(everyone: SimulationResult) -> None:
    """The run's linear credit splits each customer won by its exposures to each channel before the win."""
    run, _ = record_and_journal(everyone)
    journeys = everyone.journeys()
    touches = journeys.touches()
    won = journeys.customers().query("converted")["customer"]
    before = touches[~touches["after_won"] & touches["customer"].isin(won)]
    share = before["exposures"] / before.groupby("customer")["exposures"].transform("sum")
    linear = share.groupby(before["channel"], observed=False).sum().reindex(list(everyone.channels), fill_value=0)
    np.testing.assert_allclose(linear.to_numpy(), run.linear, rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------------------------------------------
# (d) The touch table keeps every touch.


def test_the_touch_table_keeps_every_touch_with_the_crm_ones_after_the_win(everyone: SimulationResult) -> None:
    run, journal = record_and_journal(everyone)
    touches = everyone.journeys().touches()
    assert len(touches) == journal.touches.size
    np.testing.assert_array_equal(touches["after_won"], journal.after_won())
    crm = touches[touches["channel"] == "crm"]
    assert len(crm) > 0
    assert crm["after_won"].all()
    assert (crm["stage_before"] == "converted").all()
    # Every exposure delivered and every customer reached is in the table, before the win or after it.
    exposures = touches.groupby("channel", observed=False)["exposures"].sum().reindex(list(everyone.channels))
    np.testing.assert_array_equal(exposures.to_numpy(), run.exposures)
    reach = touches.groupby("channel", observed=False)["customer"].nunique().reindex(list(everyone.channels))
    np.testing.assert_array_equal(reach.to_numpy(), run.reach)
    # The JSON counts every touch of the table too.
    data = json.loads(everyone.journeys().to_json())
    assert data["exposures"] == [int(touches["exposures"].sum())]
    channel_days = touches[["customer", "day", "channel"]].drop_duplicates()
    assert data["touches"] == [len(channel_days)]


# --------------------------------------------------------------------------------------------------------------
# Revenue of a path: the first purchase.


def test_the_value_of_a_path_is_the_first_order_of_each_customer_won(
    everyone: SimulationResult, day_paths: pd.DataFrame
) -> None:
    run, _ = record_and_journal(everyone)
    scenario = everyone.scenario
    assert scenario.repeat_order_value != scenario.economics.order_value and run.repeat_purchases > 0
    paths = day_paths
    np.testing.assert_allclose(
        paths["total_conversion_value"], paths["total_conversions"] * scenario.economics.order_value
    )
    credit = attribute(paths, MODELS)
    values = credit.groupby("model")["value"].sum()
    np.testing.assert_allclose(values, paths["total_conversions"].sum() * scenario.economics.order_value)


# --------------------------------------------------------------------------------------------------------------
# A hand-built journal pins the rule.

# Small scenario with repeat purchases: channels tv 0, search 1, email 2, crm 3; horizon 40 days. Rows (customer,
# day, channel, exposures, stage before, stage after), in journal order (customer, day, channel).
ROWS = [
    (0, 1, 0, 2, 0, 1),  # customer 0: never won
    (0, 2, 1, 1, 1, 2),
    (1, 3, 0, 1, 1, 2),  # customer 1: TV on day 3, won by search on day 5 ...
    (1, 5, 1, 1, 2, 3),
    (1, 5, 2, 1, 3, 3),  # ... and emailed the same day, after the win
    (1, 5, 3, 1, 3, 3),  # ... and by the CRM channel
    (1, 9, 0, 1, 1, 1),  # lapsed, reached again by TV on day 9 ...
    (1, 11, 1, 1, 2, 3),  # ... and won back by search on day 11
    (2, 4, 2, 3, 2, 2),  # customer 2: emailed on day 4, won by organic conversion later that day (untouched by it)
    (2, 6, 3, 1, 3, 3),  # then reached by CRM
    (3, 7, 3, 1, 3, 3),  # customer 3: won untouched on day 0, reached by CRM alone
]
CUSTOMERS = [0, 1, 2, 3, 4]  # customer 4 is never touched nor won
FINAL_STAGE = [2, 3, 3, 1, 0]
WON_DAY = [-1, 5, 4, 0, -1]
AFTER_WON = [False, False, False, False, True, True, True, True, False, True, True]


@pytest.fixture
def hand() -> Journeys:
    touches = np.zeros(len(ROWS), dtype=TOUCH_DTYPE)
    for i, row in enumerate(ROWS):
        touches[i] = row
    journal = Journal(
        touches=touches,
        customers=np.array(CUSTOMERS, dtype=np.int32),
        segment=np.zeros(len(CUSTOMERS), dtype=np.int8),
        stage=np.array(FINAL_STAGE, dtype=np.int8),
        converted_day=np.array(WON_DAY, dtype=np.float32),
        share=1.0,
    )
    return Journeys(small_repeat(), (journal,))


def test_a_hand_built_journal_keeps_the_touches_up_to_each_win(hand: Journeys) -> None:
    journal = hand.journals[0]
    np.testing.assert_array_equal(journal.after_won(), AFTER_WON)
    np.testing.assert_array_equal(hand.touches()["after_won"], AFTER_WON)
    np.testing.assert_array_equal(journal.before_won().touches, journal.touches[~np.array(AFTER_WON)])

    customers = hand.customers()
    assert customers["converted"].tolist() == [False, True, True, True, False]
    assert customers["touches"].tolist() == [2, 2, 1, 0, 0]
    assert customers["exposures"].tolist() == [3, 2, 3, 0, 0]
    assert hand.untouched_conversions().tolist() == [1]  # customer 3: touched by CRM alone, after its win

    paths = hand.paths(days=True)
    rows = {(p, d): (c, v, n) for p, d, c, v, n in paths[["path", "path_days", *paths.columns[1:4]]].to_numpy()}
    assert rows == {
        ("tv > search", "2 > 0"): (1.0, 50.0, 0.0),  # value: the first order (order_value), not the repeat one
        ("tv > search", "38 > 37"): (0.0, 0.0, 1.0),  # never won: days to the horizon's last day
        ("email", "0"): (1.0, 50.0, 0.0),
    }
    assert hand.touchpoints()["buyers"].tolist()[:4] == [1, 1, 1, 0]
    credit = attribute(paths, MODELS, channels=hand.scenario.channel_names)
    assert (credit.loc[credit["channel"] == "crm", ["conversions", "value"]] == 0).all().all()


# --------------------------------------------------------------------------------------------------------------
# Without repeat purchases and lapse nothing changes.


def test_without_repeat_purchases_every_touch_comes_before_the_win() -> None:
    scenario = parse_scenario(small_data(), source="small.toml")
    assert not scenario.repeats
    result = mixsim.simulate(scenario, seed=4, replications=1, journeys=1.0)
    journal = result.runs[0].journal
    assert journal is not None
    assert not journal.after_won().any()
    assert journal.before_won() is journal  # the same object: every table is computed from the same touches
    np.testing.assert_array_equal(journal.won, journal.stage == CUSTOMER)
    assert "after_won" not in result.journeys().touches()


# --------------------------------------------------------------------------------------------------------------
# The command says how many touches came after a win.


def test_cli_journeys_counts_the_touches_after_the_win(run_cli: Callable[..., CliResult], tmp_path: Path) -> None:
    text = SMALL_TOML + (
        "\n[repeat]\nmean_days_between = 10\nlapse_half_life_days = 8\n"
        '\n[channels.crm]\ncpm = 5.0\nspend = 60\ntargets = ["converted"]\np_repurchase = 0.05\n'
    )
    path = tmp_path / "repeat.toml"
    path.write_text(text.replace("horizon_days = 20", "horizon_days = 40"), encoding="utf-8")
    out = tmp_path / "j"
    code, stdout, stderr = run_cli("journeys", path, "--out", out, "--sample", "1", "-w", "1")
    assert code == 0, stderr
    touches = pd.read_csv(out / "touches.csv")
    after = int(touches["after_won"].sum())
    assert after > 0 and (touches.loc[touches["channel"] == "crm", "after_won"]).all()
    assert f"{len(touches):,} touches ({after:,} after the customer was won: in touches.csv, in no path)" in stdout
    paths = pd.read_csv(out / "paths.csv")
    assert not paths["path"].str.contains("crm").any()
