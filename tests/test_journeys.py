"""Customer journeys: the touch journal against the run's own counts, sampling laws, and a hand-built journal.

With every customer tracked, the journal is a second, independent bookkeeping of the run, so its tables must
reproduce the run's exposures, reach, attribution and conversions exactly. A hand-built
:class:`~mixsim.engine.journal.Journal` pins the path tables (order, ``path_days``, ``collapse``, pooling) to values
worked out by hand. Sampling is checked against its binomial law with ``Z`` standard errors.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, CliResult, small_data
from mixsim.engine import RunRecord
from mixsim.engine.journal import TOUCH_DTYPE, Journal
from mixsim.engine.population import segment_sizes
from mixsim.engine.run import DAY_BIN_WIDTH, TOUCH_BINS, touch_bins
from mixsim.errors import InputError
from mixsim.research.journeys import PATH_COLUMNS, PATH_SEPARATOR, Journeys
from mixsim.results import SimulationResult
from mixsim.scenario import STAGES, Scenario, apply_overrides, load_scenario, parse_scenario
from mixsim.simulation import simulate

CUSTOMER_COLUMNS = ["replication", "customer", "segment", "touches", "exposures", "converted", "converted_day"]
"""The columns of a customers table, from the API and in customers.csv alike."""

Z = 5.0
"""Standard errors allowed in the statistical checks (|z| > 5 has probability 5.7e-7 under a normal law)."""

RECORD_FIELDS = [f.name for f in dataclasses.fields(RunRecord) if f.name != "journal"]

# Little spend, narrow reach and strong organic forces: many customers are never touched, some of them convert.
SPARSE = (
    "channels.tv.spend=150",
    "channels.tv.reach=0.3",
    "channels.search.spend=100",
    "channels.email.spend=20",
    "organic.awareness_rate=0.03",
    "organic.consideration_rate=0.1",
    "organic.conversion_rate=0.1",
)


def small(*overrides: str) -> Scenario:
    return parse_scenario(apply_overrides(small_data(), list(overrides)), source="small.toml")


def scenario_named(name: str) -> Scenario:
    if name == "small":
        return small()
    if name == "sparse":
        return small(*SPARSE)
    if name == "customers":  # customers buy again and lapse; a CRM channel reaches only them
        repeat = ("repeat.mean_days_between=10", "repeat.lapse_half_life_days=8", "organic.conversion_rate=0.05")
        return small(*repeat).with_channel(
            "crm", cpm=5.0, spend=40.0, targets=["converted"], p_repurchase=0.05, frequency_cap=1
        )
    # A shipped scenario with five channels' worth of flighting, caps and segments, on a small population.
    return load_scenario(ROOT / "scenarios" / f"{name}.toml", ["scenario.population=1000"])


@pytest.fixture(scope="module", params=["small", "sparse", "genz_launch", "customers"])
def everyone(request: pytest.FixtureRequest) -> SimulationResult:
    """A simulation with every customer tracked."""
    return simulate(scenario_named(request.param), seed=11, replications=2, journeys=1.0)


def per_replication(result: SimulationResult, winning: bool = False) -> list[tuple[int, RunRecord, pd.DataFrame]]:
    """Each replication's touches; ``winning``: only those before their customer was won (with repeat purchases,
    the touch table marks the others ``after_won``)."""
    touches = result.journeys().touches()
    if winning and "after_won" in touches:
        touches = touches[~touches["after_won"]]
    return [(r, run, touches[touches["replication"] == r]) for r, run in enumerate(result.runs)]


def codes(column: pd.Series) -> np.ndarray:
    return np.asarray(column.cat.codes, dtype=np.int64)


def collapse_tokens(path: str, days: str | None = None) -> tuple[str, str | None]:
    """A path (and its path_days) with consecutive repeats of a channel merged, keeping the last of each run."""
    channels = path.split(PATH_SEPARATOR)
    timing = days.split(PATH_SEPARATOR) if days is not None else None
    keep = [i for i in range(len(channels)) if i == len(channels) - 1 or channels[i + 1] != channels[i]]
    merged = PATH_SEPARATOR.join(channels[i] for i in keep)
    return merged, None if timing is None else PATH_SEPARATOR.join(timing[i] for i in keep)


def as_records(table: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in table.itertuples(index=False)]


# --------------------------------------------------------------------------------------------------------------
# Tracking is bookkeeping only.


@pytest.mark.parametrize("name", ["small", "sparse"])
def test_tracking_does_not_change_the_run(name: str) -> None:
    scenario = scenario_named(name)
    untracked = simulate(scenario, seed=5, replications=2)
    assert all(run.journal is None for run in untracked.runs)
    for share in (0.3, 1.0):
        tracked = simulate(scenario, seed=5, replications=2, journeys=share)
        for a, b in zip(untracked.runs, tracked.runs, strict=True):
            assert b.journal is not None and b.journal.share == share
            for field in RECORD_FIELDS:
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=f"{share}: {field}")


def test_tracking_does_not_change_the_truth() -> None:
    """Counterfactual runs are not journaled, and the journaled base runs are the same runs."""
    scenario = small(*SPARSE)
    plain = simulate(scenario, seed=3, replications=1, incrementality=True)
    tracked = simulate(scenario, seed=3, replications=1, incrementality=True, journeys=1.0)
    assert plain.incrementality is not None and tracked.incrementality is not None
    for field in dataclasses.fields(plain.incrementality):
        a, b = getattr(plain.incrementality, field.name), getattr(tracked.incrementality, field.name)
        np.testing.assert_array_equal(a, b, err_msg=field.name)
    assert tracked.journeys().tracked().tolist() == [scenario.population]


def test_without_journeys_the_result_says_how_to_get_them() -> None:
    result = simulate(small(), replications=1)
    with pytest.raises(InputError, match=r"journeys=share"):
        result.journeys()


def test_everyone_tracked_means_the_whole_population(everyone: SimulationResult) -> None:
    journeys = everyone.journeys()
    population = everyone.scenario.population
    assert journeys.replications == everyone.replications
    assert journeys.share == 1.0
    np.testing.assert_array_equal(journeys.tracked(), [population] * everyone.replications)
    np.testing.assert_array_equal(journeys.scale(), np.ones(everyone.replications))
    for journal in journeys.journals:
        np.testing.assert_array_equal(journal.customers, np.arange(population))


# --------------------------------------------------------------------------------------------------------------
# With everyone tracked, the journal reproduces the run.


def test_touch_exposures_add_up_to_the_daily_exposures(everyone: SimulationResult) -> None:
    for r, run, touches in per_replication(everyone):
        table = np.zeros_like(run.daily_exposures)
        np.add.at(table, (touches["day"].to_numpy(), codes(touches["channel"])), touches["exposures"].to_numpy())
        np.testing.assert_array_equal(table, run.daily_exposures, err_msg=f"replication {r}")
        np.testing.assert_array_equal(table.sum(axis=0), run.exposures)


def test_customers_touched_per_channel_are_the_reach(everyone: SimulationResult) -> None:
    for r, run, touches in per_replication(everyone):
        distinct = touches.groupby("channel", observed=False)["customer"].nunique()
        np.testing.assert_array_equal(distinct.loc[list(everyone.channels)].to_numpy(), run.reach, err_msg=f"{r}")


def test_first_and_last_touch_of_the_path_table_are_the_runs(everyone: SimulationResult) -> None:
    journeys = everyone.journeys()
    for r, run in enumerate(everyone.runs):
        paths = journeys.paths(replication=r)
        channels = paths["path"].str.split(PATH_SEPARATOR)
        first = paths.groupby(channels.str[0])["total_conversions"].sum()
        last = paths.groupby(channels.str[-1])["total_conversions"].sum()
        names = list(everyone.channels)
        np.testing.assert_array_equal(first.reindex(names, fill_value=0.0).to_numpy(), run.first_touch)
        np.testing.assert_array_equal(last.reindex(names, fill_value=0.0).to_numpy(), run.last_touch)


def test_linear_attribution_from_the_touches_is_the_runs(everyone: SimulationResult) -> None:
    customers = everyone.journeys().customers()
    for r, run, touches in per_replication(everyone, winning=True):
        converted = customers.loc[(customers["replication"] == r) & customers["converted"], "customer"]
        bought = touches[touches["customer"].isin(converted)]
        share = bought["exposures"] / bought.groupby("customer")["exposures"].transform("sum")
        linear = share.groupby(bought["channel"], observed=False).sum()
        np.testing.assert_allclose(linear.loc[list(everyone.channels)].to_numpy(), run.linear, rtol=1e-9, atol=1e-9)


def test_touchpoints_and_days_to_conversion_from_the_journal_are_the_runs(everyone: SimulationResult) -> None:
    customers = everyone.journeys().customers()
    horizon = everyone.scenario.horizon_days
    for r, run, touches in per_replication(everyone, winning=True):
        mine = customers[customers["replication"] == r].set_index("customer")
        converted = mine.index[mine["converted"]]
        # A touchpoint is a distinct (customer, day, channel): counted here from the rows, not from the recorder.
        channel_days = touches.drop_duplicates(["customer", "day", "channel"]).groupby("customer").size()
        counts = channel_days.reindex(converted, fill_value=0).to_numpy()
        touchpoints = np.bincount(touch_bins(counts), minlength=TOUCH_BINS)
        np.testing.assert_array_equal(touchpoints, run.touchpoints)

        first_day = touches.groupby("customer")["day"].min()
        touched = converted[converted.isin(first_day.index)]
        days = (mine.loc[touched, "converted_day"].to_numpy() - first_day.loc[touched].to_numpy()).astype(np.int64)
        n_bins = math.ceil(horizon / DAY_BIN_WIDTH)
        np.testing.assert_array_equal(np.bincount(days // DAY_BIN_WIDTH, minlength=n_bins), run.days_to_conversion)


@pytest.mark.parametrize(("days", "collapse"), [(False, False), (True, False), (False, True), (True, True)])
def test_paths_and_untouched_conversions_account_for_every_customer(
    everyone: SimulationResult, days: bool, collapse: bool
) -> None:
    journeys = everyone.journeys()
    value = everyone.scenario.economics.order_value
    untouched = journeys.untouched_conversions()
    customers = journeys.customers()
    for r, run in enumerate(everyone.runs):
        paths = journeys.paths(replication=r, days=days, collapse=collapse)
        assert list(paths.columns) == [*PATH_COLUMNS, *(["path_days"] if days else [])]
        assert paths["path"].is_unique if not days else not paths.duplicated(["path", "path_days"]).any()
        assert paths["total_conversions"].sum() + untouched[r] == run.conversions
        mine = customers[customers["replication"] == r]
        assert paths["total_conversions"].sum() + paths["total_null"].sum() == np.count_nonzero(mine["touches"] > 0)
        assert untouched[r] == np.count_nonzero(mine["converted"] & (mine["touches"] == 0))
        np.testing.assert_array_equal(paths["total_conversion_value"], paths["total_conversions"] * value)
        total = (paths["total_conversions"] + paths["total_null"]).to_numpy()
        assert np.all(np.diff(total) <= 0), "most frequent first"
        assert (paths[["total_conversions", "total_null"]] >= 0).all().all()


def test_the_customer_table_is_the_final_state(everyone: SimulationResult) -> None:
    journeys = everyone.journeys()
    customers = journeys.customers()
    scenario = everyone.scenario
    sizes = segment_sizes(scenario.population, tuple(s.share for s in scenario.segments))
    for r, run, touches in per_replication(everyone, winning=True):
        mine = customers[customers["replication"] == r]
        stages = np.bincount(journeys.journals[r].stage, minlength=4)
        np.testing.assert_array_equal(stages, run.daily_stages[-1])
        assert mine["converted"].sum() == run.conversions
        assert mine["touches"].sum() == len(touches)
        counts = mine["segment"].value_counts().loc[list(scenario.segment_names)].to_numpy()
        np.testing.assert_array_equal(counts, sizes)
        day = mine["converted_day"]
        assert day.isna().to_numpy().tolist() == (~mine["converted"]).to_numpy().tolist()
        assert ((day[mine["converted"]] >= 0) & (day[mine["converted"]] < scenario.horizon_days)).all()


def test_touches_follow_the_exposure_rules(everyone: SimulationResult) -> None:
    """Time order; each touch starts in a targeted stage, climbs at most one stage per exposure through targeted
    stages only, never down, and only where the channel's probability is positive; caps hold; same-day touches of
    one customer chain (organic forces act after every channel has delivered)."""
    scenario = everyone.scenario
    journeys = everyone.journeys()
    customers = journeys.customers()
    targeted = np.array([[s in c.targets for s in STAGES] for c in scenario.channels])
    moves = np.array([[c.p_aware, c.p_consider, c.p_convert] for c in scenario.channels]) > 0
    caps = np.array([c.frequency_cap or np.iinfo(np.int64).max for c in scenario.channels])
    for r, _run, touches in per_replication(everyone):
        customer, day = touches["customer"].to_numpy(), touches["day"].to_numpy()
        channel = codes(touches["channel"])
        before, after = codes(touches["stage_before"]), codes(touches["stage_after"])
        exposures = touches["exposures"].to_numpy()
        order = np.lexsort((channel, day, customer))
        np.testing.assert_array_equal(order, np.arange(len(touches)), err_msg="touches in the order they happened")
        assert np.all(exposures >= 1) and np.all(exposures <= caps[channel])
        assert np.all(targeted[channel, before])
        assert np.all(after >= before) and np.all(after - before <= exposures)
        for s in range(3):
            passed = (before <= s) & (after > s)
            assert np.all(targeted[channel[passed], s]), f"climbed through untargeted stage {STAGES[s]}"
            assert np.all(moves[channel[passed], s]), f"left {STAGES[s]} with probability 0"
        same = (customer[1:] == customer[:-1]) & (day[1:] == day[:-1])
        np.testing.assert_array_equal(before[1:][same], after[:-1][same])

        mine = customers[customers["replication"] == r].set_index("customer")
        customer_stage = STAGES.index("converted")
        if scenario.repeats:
            # A touch that makes a customer of someone wins it, or wins it back after a lapse: never before the
            # day it was first won, and once at most on that day. Touches on later days come after the win.
            won_day = mine.loc[customer, "converted_day"].to_numpy()
            bought = (after == customer_stage) & (before < customer_stage)
            assert np.all(day[bought] >= won_day[bought])
            assert not pd.Series(customer[bought & (day == won_day)]).duplicated().any()
            later = ~np.isnan(won_day) & (day > won_day)
            np.testing.assert_array_equal(touches["after_won"].to_numpy()[later], True)
            assert later.any() and bought.any()
            continue
        last = ~np.r_[customer[1:] == customer[:-1], False]  # the last touch of each customer
        bought = after == customer_stage
        assert np.all(last[bought]), "nobody is touched after converting"
        np.testing.assert_array_equal(mine.loc[customer[bought], "converted_day"].to_numpy(), day[bought])
        ended = mine.loc[customer[last]]
        converted = ended["converted"].to_numpy()
        assert np.all(ended["converted_day"].to_numpy()[converted] >= day[last][converted])


def test_path_days_count_down_to_the_end_of_the_path(everyone: SimulationResult) -> None:
    journeys = everyone.journeys()
    horizon = everyone.scenario.horizon_days
    for r in range(everyone.replications):
        timed = journeys.paths(replication=r, days=True)
        for path, days in zip(timed["path"], timed["path_days"], strict=True):
            values = [int(d) for d in days.split(PATH_SEPARATOR)]
            assert len(values) == len(path.split(PATH_SEPARATOR))
            assert all(0 <= b <= a < horizon for a, b in itertools.pairwise(values)) and values[-1] >= 0
        # Timing only splits rows: summed over it, the path_days table is the plain table.
        merged = timed.groupby("path", sort=False)[list(PATH_COLUMNS[1:])].sum()
        plain = journeys.paths(replication=r).set_index("path")
        pd.testing.assert_frame_equal(merged.loc[plain.index], plain, check_names=False)


@pytest.mark.parametrize("days", [False, True])
def test_collapse_merges_consecutive_repeats_and_nothing_else(everyone: SimulationResult, days: bool) -> None:
    journeys = everyone.journeys()
    keys = ["path", "path_days"] if days else ["path"]
    for r in range(everyone.replications):
        full = journeys.paths(replication=r, days=days)
        timing = full["path_days"] if days else [None] * len(full)
        merged = [collapse_tokens(p, d) for p, d in zip(full["path"], timing, strict=True)]
        full["path"] = [path for path, _ in merged]
        if days:
            full["path_days"] = [d for _, d in merged]
        expected = full.groupby(keys, sort=False)[list(PATH_COLUMNS[1:])].sum()
        collapsed = journeys.paths(replication=r, days=days, collapse=True)
        for path in collapsed["path"]:
            channels = path.split(PATH_SEPARATOR)
            assert all(a != b for a, b in itertools.pairwise(channels)), path
        collapsed = collapsed.set_index(keys)
        assert set(collapsed.index) == set(expected.index)
        pd.testing.assert_frame_equal(expected.loc[collapsed.index], collapsed[list(PATH_COLUMNS[1:])])


def test_pooled_tables_add_up_the_replications(everyone: SimulationResult) -> None:
    journeys = everyone.journeys()
    touches = journeys.touches()
    stacked = pd.concat([journeys.touches(replication=r) for r in range(everyone.replications)], ignore_index=True)
    assert list(touches.columns) == list(stacked.columns)
    for column in touches.columns:  # column by column: assert_frame_equal is slow on long categoricals
        assert touches[column].dtype == stacked[column].dtype, column
        np.testing.assert_array_equal(touches[column].to_numpy(), stacked[column].to_numpy(), err_msg=column)
    pooled = journeys.paths().set_index("path")
    each = pd.concat([journeys.paths(replication=r) for r in range(everyone.replications)])
    summed = each.groupby("path")[list(PATH_COLUMNS[1:])].sum()
    pd.testing.assert_frame_equal(summed.loc[pooled.index], pooled, check_names=False)


# --------------------------------------------------------------------------------------------------------------
# A sample of customers.


def test_the_sample_is_binomial_and_blind_to_segments() -> None:
    scenario = small()
    share, replications = 0.3, 6
    journeys = simulate(scenario, seed=2, replications=replications, journeys=share).journeys()
    assert journeys.share == share
    sizes = segment_sizes(scenario.population, tuple(s.share for s in scenario.segments))
    tracked = journeys.tracked()
    n = scenario.population * replications
    assert abs(tracked.sum() - n * share) <= Z * math.sqrt(n * share * (1 - share))
    np.testing.assert_array_equal(journeys.scale(), scenario.population / tracked)
    per_segment = journeys.customers()["segment"].value_counts().loc[list(scenario.segment_names)].to_numpy()
    for size, count in zip(sizes * replications, per_segment, strict=True):
        assert abs(count - size * share) <= Z * math.sqrt(size * share * (1 - share))
    # Different replications track different customers.
    first, second = journeys.journals[0].customers, journeys.journals[1].customers
    assert not np.array_equal(first, second)


def test_a_sampled_journey_is_the_full_journey_of_that_customer() -> None:
    scenario = small(*SPARSE)
    sample = simulate(scenario, seed=4, replications=3, journeys=0.3).journeys()
    full = simulate(scenario, seed=4, replications=3, journeys=1.0).journeys()
    for part, whole in zip(sample.journals, full.journals, strict=True):
        assert 0 < part.customers.size < scenario.population
        kept = np.isin(whole.touches["customer"], part.customers)
        np.testing.assert_array_equal(part.touches, whole.touches[kept])
        for name in ("segment", "stage", "converted_day"):
            np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[part.customers])


def test_scaled_sample_exposures_estimate_the_totals() -> None:
    """Given the run, the sample total S of a channel's exposures has mean p T and variance p (1 - p) sum x_i^2,
    x_i being customer i's exposures (the sample is drawn independently of the run)."""
    scenario = small(*SPARSE)
    share = 0.3
    sample = simulate(scenario, seed=8, replications=4, journeys=share)
    full = simulate(scenario, seed=8, replications=4, journeys=1.0).journeys().touches()
    names = list(scenario.channel_names)
    estimate = sample.journeys().touches().groupby(["replication", "channel"], observed=False)["exposures"].sum()
    per_customer = full.groupby(["replication", "channel", "customer"], observed=True)["exposures"].sum()
    squares = (per_customer**2).groupby(["replication", "channel"], observed=False).sum()
    for r, run in enumerate(sample.runs):
        for k, name in enumerate(names):
            sd = math.sqrt(share * (1 - share) * squares.loc[(r, name)])
            assert abs(estimate.loc[(r, name)] - share * run.exposures[k]) <= Z * sd, (r, name)


def test_workers_do_not_change_the_journeys() -> None:
    scenario = small(*SPARSE)
    one = simulate(scenario, seed=6, replications=2, journeys=0.5, workers=1).journeys()
    two = simulate(scenario, seed=6, replications=2, journeys=0.5, workers=2).journeys()
    for a, b in zip(one.journals, two.journals, strict=True):
        for field in dataclasses.fields(Journal):
            np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name), err_msg=field.name)


@pytest.mark.parametrize("share", [-0.1, 1.5, math.nan, math.inf])
def test_journeys_must_be_a_share(share: float) -> None:
    with pytest.raises(ValueError, match=r"journeys must be a share in \[0, 1\]"):
        simulate(small(), replications=1, journeys=share)


@pytest.mark.parametrize("replication", [-1, 2, 10])
@pytest.mark.parametrize("table", ["touches", "customers", "paths"])
def test_replication_must_exist(table: str, replication: int) -> None:
    journeys = simulate(small(), replications=2, journeys=0.2).journeys()
    with pytest.raises(InputError, match=rf"replication must be in \[0, 2\) \(got {replication}\)"):
        getattr(journeys, table)(replication=replication)


# --------------------------------------------------------------------------------------------------------------
# A journal built by hand (small scenario: channels tv 0, search 1, email 2; horizon 20 days; order value 50).


def touches_of(rows: list[tuple[int, int, int, int, int, int]]) -> np.ndarray:
    """Touches (customer, day, channel, exposures, stage before, stage after), in the order they happened."""
    out = np.zeros(len(rows), dtype=TOUCH_DTYPE)
    for i, row in enumerate(rows):
        out[i] = row
    return out


HAND_TOUCHES = [
    (2, 0, 0, 3, 0, 1),  # customer 2: tv > email > tv > search, converts by search on day 6
    (2, 0, 2, 1, 1, 1),
    (2, 4, 0, 1, 1, 2),
    (2, 6, 1, 1, 2, 3),
    (5, 1, 0, 2, 0, 1),  # customer 5: tv > tv > email, considering at the end
    (5, 3, 0, 1, 1, 1),
    (5, 3, 2, 1, 1, 2),
    # customer 7: never touched, converts on day 9 (direct visit)
    (11, 0, 0, 3, 0, 1),  # customer 11: customer 2's journey, same days
    (11, 0, 2, 1, 1, 1),
    (11, 4, 0, 1, 1, 2),
    (11, 6, 1, 1, 2, 3),
    (13, 2, 0, 1, 0, 1),  # customer 13: tv > tv > email, other days than customer 5
    (13, 5, 0, 1, 1, 1),
    (13, 5, 2, 1, 1, 2),
    (17, 10, 1, 1, 2, 2),  # customer 17: search, then converts by a direct visit on day 12
    (19, 1, 0, 1, 0, 1),  # customer 19: tv > email, aware at the end
    (19, 8, 2, 1, 1, 1),
]
HAND_CUSTOMERS = [2, 5, 7, 11, 13, 17, 19]
HAND_SEGMENTS = [0, 1, 0, 1, 0, 1, 1]
HAND_STAGES = [3, 2, 3, 3, 2, 3, 1]
HAND_CONVERTED_DAY = [6, -1, 9, 6, -1, 12, -1]


def hand_journal(with_touches: bool = True) -> Journal:
    return Journal(
        touches=touches_of(HAND_TOUCHES if with_touches else []),
        customers=np.array(HAND_CUSTOMERS, dtype=np.int32),
        segment=np.array(HAND_SEGMENTS, dtype=np.int8),
        stage=np.array(HAND_STAGES, dtype=np.int8),
        converted_day=np.array(HAND_CONVERTED_DAY, dtype=np.float32),
        share=0.25,
    )


@pytest.fixture
def hand(make_scenario: Callable[..., Scenario]) -> Journeys:
    return Journeys(make_scenario(), (hand_journal(),))


# (path, conversions, value, null[, path_days]), in the documented order: most customers first, then by path.
HAND_PATHS = [
    ("tv > email > tv > search", 2.0, 100.0, 0.0),
    ("tv > tv > email", 0.0, 0.0, 2.0),
    ("search", 1.0, 50.0, 0.0),
    ("tv > email", 0.0, 0.0, 1.0),
]
HAND_PATHS_DAYS = [
    ("tv > email > tv > search", 2.0, 100.0, 0.0, "6 > 6 > 2 > 0"),
    ("search", 1.0, 50.0, 0.0, "2"),  # converted on day 12, touched on day 10
    ("tv > email", 0.0, 0.0, 1.0, "18 > 11"),  # not converted: counted to the last day, 19
    ("tv > tv > email", 0.0, 0.0, 1.0, "17 > 14 > 14"),
    ("tv > tv > email", 0.0, 0.0, 1.0, "18 > 16 > 16"),
]
HAND_COLLAPSED = [
    ("tv > email", 0.0, 0.0, 3.0),
    ("tv > email > tv > search", 2.0, 100.0, 0.0),
    ("search", 1.0, 50.0, 0.0),
]
HAND_COLLAPSED_DAYS = [  # the latest touch of a merged run gives the days
    ("tv > email > tv > search", 2.0, 100.0, 0.0, "6 > 6 > 2 > 0"),
    ("search", 1.0, 50.0, 0.0, "2"),
    ("tv > email", 0.0, 0.0, 1.0, "14 > 14"),
    ("tv > email", 0.0, 0.0, 1.0, "16 > 16"),
    ("tv > email", 0.0, 0.0, 1.0, "18 > 11"),
]


@pytest.mark.parametrize(
    ("days", "collapse", "expected"),
    [
        (False, False, HAND_PATHS),
        (True, False, HAND_PATHS_DAYS),
        (False, True, HAND_COLLAPSED),
        (True, True, HAND_COLLAPSED_DAYS),
    ],
)
def test_hand_built_path_tables(hand: Journeys, days: bool, collapse: bool, expected: list[tuple[Any, ...]]) -> None:
    table = hand.paths(days=days, collapse=collapse)
    assert list(table.columns) == [*PATH_COLUMNS, *(["path_days"] if days else [])]
    assert list(table.index) == list(range(len(expected)))
    assert as_records(table) == expected


def test_hand_built_touch_and_customer_tables(hand: Journeys) -> None:
    touches = hand.touches()
    assert list(touches.columns) == [
        "replication",
        "customer",
        "segment",
        "day",
        "channel",
        "exposures",
        "stage_before",
        "stage_after",
    ]
    segment_of = dict(zip(HAND_CUSTOMERS, ["young", "old", "young", "old", "young", "old", "old"], strict=True))
    channel_names = ["tv", "search", "email"]
    expected = [
        (0, c, segment_of[c], d, channel_names[k], e, STAGES[b], STAGES[a]) for c, d, k, e, b, a in HAND_TOUCHES
    ]
    assert [tuple(row) for row in touches.astype(object).itertuples(index=False)] == expected
    assert list(touches["channel"].cat.categories) == channel_names
    assert list(touches["stage_before"].cat.categories) == list(STAGES)

    customers = hand.customers()
    assert list(customers.columns) == CUSTOMER_COLUMNS
    assert customers["customer"].tolist() == HAND_CUSTOMERS
    assert customers["segment"].astype(str).tolist() == [segment_of[c] for c in HAND_CUSTOMERS]
    assert customers["touches"].tolist() == [4, 3, 0, 4, 3, 1, 2]
    assert customers["exposures"].tolist() == [6, 4, 0, 6, 3, 1, 2]
    assert customers["converted"].tolist() == [s == 3 for s in HAND_STAGES]
    days = customers["converted_day"].tolist()
    assert [None if math.isnan(d) else d for d in days] == [6.0, None, 9.0, 6.0, None, 12.0, None]

    np.testing.assert_array_equal(hand.untouched_conversions(), [1])  # customer 7
    np.testing.assert_array_equal(hand.tracked(), [7])
    np.testing.assert_allclose(hand.scale(), [2_000 / 7])
    assert hand.share == 0.25 and hand.replications == 1


def test_hand_built_replications_pool_and_select(hand: Journeys) -> None:
    twice = Journeys(hand.scenario, (hand_journal(), hand_journal()))
    doubled = [(p, 2 * c, 2 * v, 2 * n) for p, c, v, n in HAND_PATHS]
    assert as_records(twice.paths()) == doubled
    assert as_records(twice.paths(replication=1)) == HAND_PATHS
    np.testing.assert_array_equal(twice.untouched_conversions(), [1, 1])
    touches = twice.touches()
    assert touches["replication"].tolist() == [0] * len(HAND_TOUCHES) + [1] * len(HAND_TOUCHES)
    assert twice.customers(replication=1)["replication"].tolist() == [1] * len(HAND_CUSTOMERS)


def test_a_journal_without_touches_has_an_empty_path_table(hand: Journeys) -> None:
    quiet = Journeys(hand.scenario, (hand_journal(with_touches=False),))
    for days in (False, True):
        table = quiet.paths(days=days, collapse=days)
        assert table.empty and list(table.columns) == [*PATH_COLUMNS, *(["path_days"] if days else [])]
    np.testing.assert_array_equal(quiet.untouched_conversions(), [4])  # every converted customer
    assert quiet.touches().empty
    assert quiet.customers()["touches"].tolist() == [0] * len(HAND_CUSTOMERS)
    # Pooled with a journal that has touches, the quiet one adds nothing.
    mixed = Journeys(hand.scenario, (hand_journal(with_touches=False), hand_journal()))
    assert as_records(mixed.paths()) == HAND_PATHS


def test_nobody_tracked_gives_empty_tables_and_an_undefined_scale() -> None:
    journeys = simulate(small(), replications=2, journeys=1e-12).journeys()
    np.testing.assert_array_equal(journeys.tracked(), [0, 0])
    assert np.isnan(journeys.scale()).all()
    assert journeys.paths().empty and journeys.touches().empty and journeys.customers().empty
    np.testing.assert_array_equal(journeys.untouched_conversions(), [0, 0])


# --------------------------------------------------------------------------------------------------------------
# The command.


def test_cli_journeys_writes_three_consistent_tables(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "journeys"
    code, stdout, stderr = run_cli(
        "journeys", scenario_file, "--out", out, "--sample", "1", "-w", "1", "-r", "2", "--days", "--seed", "7"
    )
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["customers.csv", "paths.csv", "touches.csv"]
    paths = pd.read_csv(out / "paths.csv")
    touches = pd.read_csv(out / "touches.csv")
    customers = pd.read_csv(out / "customers.csv")
    assert list(paths.columns) == [*PATH_COLUMNS, "path_days"]
    assert list(customers.columns) == CUSTOMER_COLUMNS
    # The files are the API's tables for the same simulation.
    journeys = simulate(small(), seed=7, replications=2, journeys=1.0).journeys()
    assert len(touches) == len(journeys.touches())
    assert len(customers) == 2 * 2_000 and customers["touches"].sum() == len(touches)
    expected = journeys.paths(days=True)
    assert paths["path"].tolist() == expected["path"].tolist()
    np.testing.assert_array_equal(paths["total_conversions"], expected["total_conversions"])
    touched = int((customers["touches"] > 0).sum())
    assert paths["total_conversions"].sum() + paths["total_null"].sum() == touched
    assert "followed 4,000 customers (100% sample) over 2 replication(s)" in stdout


def test_cli_journeys_collapse_merges_repeats(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "j"
    code, _, stderr = run_cli("journeys", scenario_file, "--out", out, "--sample", "50%", "-w", "1", "--collapse")
    assert code == 0, stderr
    for path in pd.read_csv(out / "paths.csv")["path"]:
        channels = path.split(PATH_SEPARATOR)
        assert all(a != b for a, b in itertools.pairwise(channels))


@pytest.mark.parametrize("sample", ["0", "1.5", "-0.2", "lots"])
def test_cli_journeys_rejects_a_bad_sample(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path, sample: str
) -> None:
    code, _, stderr = run_cli("journeys", scenario_file, "--out", tmp_path / "j", f"--sample={sample}", "-w", "1")
    assert code == 2
    assert "--sample" in stderr
    assert not (tmp_path / "j").exists()


def test_journeys_keep_the_result_contract(everyone: SimulationResult) -> None:
    import json

    journeys = everyone.journeys()
    assert journeys.seed == everyone.seed and journeys.version == everyone.version != ""
    pd.testing.assert_frame_equal(journeys.to_frame(), journeys.paths())
    pd.testing.assert_frame_equal(journeys.to_frame("touches"), journeys.touches())
    pd.testing.assert_frame_equal(journeys.to_frame("customers"), journeys.customers())
    with pytest.raises(InputError, match="unknown table 'path'; choose one of paths, touches, customers"):
        journeys.to_frame("path")
    data = json.loads(journeys.to_json())
    assert data["seed"] == everyone.seed and data["version"] == everyone.version
    assert data["replications"] == everyone.replications and data["share"] == 1.0
    assert data["tracked"] == journeys.tracked().tolist()
    assert data["touches"] == [len(journeys.touches(replication=r)) for r in range(everyone.replications)]
    assert data["untouched_conversions"] == journeys.untouched_conversions().tolist()
    assert [row["path"] for row in data["paths"]] == journeys.paths()["path"].tolist()
    assert f"seed {everyone.seed}" in journeys._repr_html_()


def test_top_paths_are_the_converting_collapsed_paths_most_first(everyone: SimulationResult) -> None:
    journeys = everyone.journeys()
    merged = journeys.paths(collapse=True)
    top = journeys.top_paths(3)
    converting = merged[merged["total_conversions"] > 0]
    assert len(top) == min(3, len(converting))
    assert (top["total_conversions"] > 0).all()
    assert list(top["total_conversions"]) == sorted(converting["total_conversions"], reverse=True)[: len(top)]
    assert set(top["path"]) <= set(converting["path"])


def test_a_channel_on_customers_is_in_the_touches_and_in_no_path() -> None:
    """A CRM channel reaches only customers: all its touches come after the win, none is in a path, and the run
    credits it with no conversion; lapsed customers won back keep the day they were first won."""
    result = simulate(scenario_named("customers"), seed=5, replications=1, journeys=1.0)
    journeys, run = result.journeys(), result.runs[0]
    touches = journeys.touches()
    crm = touches[touches["channel"] == "crm"]
    assert len(crm) > 0 and crm["after_won"].all()
    assert (touches["after_won"] & (touches["channel"] != "crm")).any()  # lapsed customers reached again
    assert not journeys.paths()["path"].str.contains("crm").any()
    k = result.channels.index("crm")
    assert run.first_touch[k] == run.last_touch[k] == run.linear[k] == 0.0 and run.reach[k] > 0
    customers = journeys.customers()
    assert customers["converted"].sum() == run.conversions > run.daily_stages[-1, 3]  # some won customers lapsed
