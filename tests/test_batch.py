"""Batched runs: every world of a batch gives exactly the record it gives run alone.

A batch runs several worlds (one scenario under different plans and seeds) on one clock, and each world's
:class:`~mixsim.engine.RunRecord` must be bit for bit the one :func:`mixsim.engine.run` gives it alone: every
field, its dtype and its shape, the touch journal included. The batches here mix worlds the way callers make
them (replication seeds, a channel off, at 95% and at three times its spend, a week's impulse, every channel
off, a journaled world), on every shipped scenario and on a scenario with every engine mechanism on, and check
what must not depend on how worlds are batched: their order, the batch size, duplicates, and common random
numbers between worlds that share a seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mixsim import engine
from mixsim.engine import RunRecord, World
from mixsim.scenario import Scenario, load_scenario, parse_scenario

SHIPPED = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))


# --- comparing records ------------------------------------------------------------------------------------------


def assert_same_value(batched: Any, alone: Any, what: str) -> None:
    """``batched`` is ``alone`` bit for bit: arrays of one dtype and shape with the same bytes (``0.0`` and
    ``-0.0`` differ), dataclasses field by field, anything else equal."""
    if isinstance(alone, np.ndarray):
        assert isinstance(batched, np.ndarray), f"{what}: {type(batched).__name__}, not an array"
        assert batched.dtype == alone.dtype, f"{what}: dtype {batched.dtype}, alone {alone.dtype}"
        assert batched.shape == alone.shape, f"{what}: shape {batched.shape}, alone {alone.shape}"
        np.testing.assert_array_equal(batched, alone, err_msg=what, strict=True)
        assert batched.tobytes() == alone.tobytes(), f"{what}: equal values, different bits"
    elif dataclasses.is_dataclass(alone):
        assert type(batched) is type(alone), f"{what}: {type(batched).__name__}, alone {type(alone).__name__}"
        for field in dataclasses.fields(alone):
            assert_same_value(getattr(batched, field.name), getattr(alone, field.name), f"{what}.{field.name}")
    else:
        assert type(batched) is type(alone), f"{what}: {type(batched).__name__}, alone {type(alone).__name__}"
        assert batched == alone, f"{what}: {batched!r}, alone {alone!r}"


def assert_same_record(batched: RunRecord, alone: RunRecord, what: str) -> None:
    """Every field of two run records is the same, bit for bit (the journal too, or both have none)."""
    assert_same_value(batched, alone, what)


def alone(world: World) -> RunRecord:
    """The world's record run by itself."""
    return engine.run(world.scenario, world.seed, journeys=world.journeys)


def check_batch(worlds: Sequence[World]) -> list[RunRecord]:
    """Run ``worlds`` as one batch, check each record against the world run alone, and return the records."""
    records = engine.run_batch(worlds)
    assert len(records) == len(worlds)
    for i, (world, record) in enumerate(zip(worlds, records, strict=True)):
        assert_same_record(record, alone(world), f"world {i}")
    return records


def assert_distinct(records: Sequence[RunRecord]) -> None:
    """No two records are the same run: the worlds of a test really differ, so a mix-up would show."""
    runs = {b"".join(getattr(r, f).tobytes() for f in ("daily_stages", "daily_spend", "unspent")) for r in records}
    assert len(runs) == len(records)


def test_comparison_sees_one_bit() -> None:
    """The comparison itself is strict: a last-bit change, a sign of zero, a dtype or a journal differ."""
    record = engine.run(engine_scenario(population=200, horizon=8), np.random.SeedSequence(1), journeys=1.0)
    assert_same_record(record, dataclasses.replace(record), "copy")
    assert record.journal is not None
    changed = [
        dataclasses.replace(record, linear=np.nextafter(record.linear, np.inf)),
        dataclasses.replace(record, unspent=np.where(record.unspent == 0, -0.0, record.unspent)),
        dataclasses.replace(record, daily_stages=record.daily_stages.astype(np.int32)),
        dataclasses.replace(record, journal=None),
        dataclasses.replace(record, journal=dataclasses.replace(record.journal, touches=record.journal.touches[1:])),
    ]
    assert (record.unspent == 0).any()  # so the sign of zero is there to change
    for other in changed:
        with pytest.raises(AssertionError):
            assert_same_record(other, record, "changed")


# --- worlds as callers make them --------------------------------------------------------------------------------


def week_impulse(scenario: Scenario, name: str, week: int, factor: float) -> Scenario:
    """``scenario`` with channel ``name`` spending ``factor`` times its planned spend in ``week`` and the same in
    every other week (its spend and flighting rewritten, as week-level planning does)."""
    channel = scenario.channels[scenario.channel_names.index(name)]
    horizon = scenario.horizon_days
    days = np.bincount(np.arange(horizon) // 7)
    per_week = np.bincount(np.arange(horizon) // 7, weights=engine.daily_spend(channel, horizon))
    per_week[week] *= factor
    return scenario.with_channel(name, spend=float(per_week.sum()), flighting=[float(v) for v in per_week / days])


def caller_worlds(scenario: Scenario) -> list[World]:
    """Worlds that differ the way callers make them, seeds interleaved (replications of the scenario's seed)."""
    names = scenario.channel_names
    spend = {c.name: c.spend for c in scenario.channels}
    first, second = np.random.SeedSequence(scenario.seed or 0).spawn(2)
    # Equal to ``first`` but another object, as a caller that spawns seeds again would pass it.
    first_again = np.random.SeedSequence(scenario.seed or 0).spawn(2)[0]
    weeks = -(-scenario.horizon_days // 7)
    flighted = next((c.name for c in scenario.channels if c.flighting is not None), names[0])
    return [
        World(scenario, first),
        World(scenario, second),
        World(scenario.with_spend({names[0]: 0.0}), first),
        World(scenario.with_spend({names[1]: 0.95 * spend[names[1]]}), first_again),
        World(scenario.with_spend({names[-1]: 3.0 * spend[names[-1]]}), second, journeys=0.3),
        World(week_impulse(scenario, flighted, week=min(2, weeks - 1), factor=1.5), first),
        World(scenario.with_spend(dict.fromkeys(names, 0.0)), first_again),
        World(scenario.with_spend({names[0]: 0.0}), second),
    ]


def reduced(path: Path) -> Scenario:
    """A shipped scenario with 4,000 simulated customers standing for its whole market (same money per customer,
    so the same frequencies, caps and saturation as the full size)."""
    full = load_scenario(path)
    return load_scenario(path, overrides=["scenario.population=4000", f"scenario.represents={full.represents}"])


def test_every_shipped_scenario_is_here() -> None:
    assert {p.stem for p in SHIPPED} >= {"b2b_saas", "d2c_ecommerce", "genz_launch", "retail_omnichannel"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_batched_as_alone(path: Path) -> None:
    worlds = caller_worlds(reduced(path))
    records = check_batch(worlds)
    assert_distinct(records)
    assert records[4].journal is not None and records[0].journal is None


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_saturated_batched_as_alone(path: Path) -> None:
    """4,000 customers with the whole market's money: caps bind, most buys go partly unspent and channels draw
    among the few customers left open."""
    worlds = caller_worlds(load_scenario(path, overrides=["scenario.population=4000"]))
    records = check_batch([worlds[i] for i in (0, 2, 3, 5)])
    assert_distinct(records)
    assert records[0].unspent.sum() > 0.0


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_full_size_batched_as_alone(path: Path) -> None:
    worlds = caller_worlds(load_scenario(path))
    check_batch([worlds[0], worlds[1], worlds[2], dataclasses.replace(worlds[5], journeys=0.3)])


# --- every mechanism on, and edge cases -------------------------------------------------------------------------


def engine_data(population: int = 3_000, horizon: int = 30, represents: int = 7_500) -> dict[str, Any]:
    """A scenario with every mechanism the engine has: segments, reach and affinity per segment, targets,
    frequency caps, memory, synergy, every organic force, checkout abandonment, seasonality (weeks and a period),
    flighting, a cpc channel, a fixed cost and a smallest buy, a population standing for a larger market, a channel
    that buys more than its reachable customers can take, and one that spends nothing."""
    weeks = -(-horizon // 7)

    def spend(exposures_per_customer_day: float, cost_per_exposure: float) -> float:
        return represents * horizon * exposures_per_customer_day * cost_per_exposure

    return {
        "scenario": {
            "name": "every mechanism",
            "population": population,
            "represents": represents,
            "horizon_days": horizon,
            "seed": 5,
        },
        "economics": {"order_value": 40.0, "margin": 0.5, "checkout_abandonment": 0.4},
        "funnel": {"half_life_days": {"aware": 12.0, "considering": 6.0}, "synergy": 0.15},
        "organic": {"awareness_rate": 0.002, "word_of_mouth": 0.3, "consideration_rate": 0.02, "conversion_rate": 0.01},
        "seasonality": {
            "weekly": [0.8 + 0.1 * w for w in range(weeks)],
            "periods": [{"name": "peak", "first_week": min(2, weeks), "last_week": weeks, "multiplier": 1.3}],
        },
        "segments": [{"name": "a", "share": 0.3}, {"name": "b", "share": 0.5}, {"name": "c", "share": 0.2}],
        "channels": {
            "tv": {
                "cpm": 15.0,
                "spend": spend(1.0, 0.015),
                "flighting": [1.0 + 0.5 * (w % 3) for w in range(weeks)],
                "reach": {"a": 0.7, "b": 0.5, "c": 0.9},
                "p_aware": 0.03,
                "p_consider": 0.005,
                "affinity": {"b": 1.5},
                "frequency_cap": 2,
                "fixed_cost": 500.0,
                "min_spend": 0.01 * spend(1.0, 0.015),
            },
            "search": {
                "cpc": 1.2,
                "ctr": 0.04,
                "spend": spend(0.3, 1.2 * 0.04),
                "reach": 0.8,
                "targets": ["considering"],
                "p_convert": 0.03,
                "frequency_cap": 1,
            },
            "social": {
                "cpm": 6.0,
                "spend": spend(2.0, 0.006),
                "reach": {"a": 0.9, "b": 0.6, "c": 0.3},
                "targets": ["aware", "considering"],
                "p_consider": 0.01,
                "p_convert": 0.003,
                "affinity": 1.2,
                "frequency_cap": 3,
            },
            "radio": {"cpm": 8.0, "spend": 0.0, "p_aware": 0.02},
            # A few calls a day to the considering customers, at most one each: often few of them are left open.
            "calls": {
                "cpc": 50.0,
                "ctr": 0.3,
                "spend": spend(0.02, 50.0 * 0.3),
                "targets": ["considering"],
                "p_convert": 0.05,
                "frequency_cap": 1,
            },
            # At most one exposure a day to a fifth of the customers, bought as five a day to everyone: unspent.
            "email": {
                "cpm": 2.0,
                "spend": spend(5.0, 0.002),
                "reach": 0.2,
                "targets": ["aware", "considering"],
                "p_consider": 0.02,
                "p_convert": 0.005,
                "frequency_cap": 1,
            },
        },
    }


def engine_scenario(population: int = 3_000, horizon: int = 30, represents: int = 7_500) -> Scenario:
    return parse_scenario(engine_data(population, horizon, represents), source="every mechanism")


def engine_worlds(scenario: Scenario) -> list[World]:
    """The callers' worlds, and more: every channel off in turn, the idle channel switched on, several journals,
    a response curve's levels of the targeted channels (where worlds differ most in who is left open)."""
    seeds = np.random.SeedSequence(11).spawn(3)
    spend = {c.name: c.spend for c in scenario.channels}
    worlds = caller_worlds(scenario)
    worlds += [
        World(scenario.with_spend({name: level * spend[name] for name in ("search", "calls")}), seeds[1])
        for level in (0.25, 0.5, 2.0, 4.0)
    ]
    worlds += [World(scenario.with_spend({name: 0.0}), seeds[i % 3]) for i, name in enumerate(scenario.channel_names)]
    worlds += [
        World(scenario.with_spend({"radio": 2_000.0}), seeds[2], journeys=1.0),
        World(scenario, seeds[2], journeys=0.3),
        World(week_impulse(scenario, "search", week=0, factor=0.5), seeds[0], journeys=0.5),
    ]
    return worlds


def test_every_mechanism_batched_as_alone() -> None:
    scenario = engine_scenario()
    records = check_batch(engine_worlds(scenario))
    assert_distinct(records)
    base = records[0]
    email, radio = scenario.channel_names.index("email"), scenario.channel_names.index("radio")
    assert base.unspent[email] > 0.0  # the buy exceeds what email's reachable customers can take
    assert base.spend[radio] == 0.0 and base.exposures[radio] == 0
    assert base.conversions > 0


@pytest.mark.parametrize(
    ("population", "horizon", "represents"),
    [(3_000, 1, 7_500), (1, 30, 1), (1, 30, 40), (1, 1, 1), (2_000, 8, 2_000)],
    ids=["one day", "one customer", "one customer for 40", "one customer one day", "eight days, no scaling"],
)
def test_edge_cases_batched_as_alone(population: int, horizon: int, represents: int) -> None:
    check_batch(engine_worlds(engine_scenario(population, horizon, represents)))


def test_batch_of_one_world() -> None:
    world = World(engine_scenario(), np.random.SeedSequence(3), journeys=0.2)
    [record] = check_batch([world])
    assert record.journal is not None


# --- what batching must not change ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worlds() -> list[World]:
    """Ten worlds of a small every-mechanism scenario over three seeds."""
    return engine_worlds(engine_scenario(population=1_000, horizon=15))[:10]


@pytest.fixture(scope="module")
def records(worlds: list[World]) -> list[RunRecord]:
    return engine.run_batch(worlds)


def test_order_does_not_matter(worlds: list[World], records: list[RunRecord]) -> None:
    for order in (list(reversed(range(len(worlds)))), list(np.random.default_rng(0).permutation(len(worlds)))):
        shuffled = engine.run_batch([worlds[i] for i in order])
        for i, record in zip(order, shuffled, strict=True):
            assert_same_record(record, records[i], f"world {i} at {order.index(i)}")


@pytest.mark.parametrize("size", [1, 2, 5])
def test_batch_size_does_not_matter(worlds: list[World], records: list[RunRecord], size: int) -> None:
    found: dict[int, RunRecord] = {}
    for indices in engine.batches(worlds, size):
        assert 1 <= len(indices) <= size
        found.update(zip(indices, engine.run_batch([worlds[i] for i in indices]), strict=True))
    assert sorted(found) == list(range(len(worlds)))
    for i, record in found.items():
        assert_same_record(record, records[i], f"world {i} in batches of {size}")


def test_duplicates_do_not_matter(worlds: list[World], records: list[RunRecord]) -> None:
    twice = engine.run_batch([*worlds, *worlds])
    for i, record in enumerate(twice):
        assert_same_record(record, records[i % len(worlds)], f"copy {i // len(worlds)} of world {i % len(worlds)}")


def test_identical_worlds_give_identical_records() -> None:
    scenario = engine_scenario(population=1_000, horizon=15)
    seed = np.random.SeedSequence(4)
    # The same objects, equal new ones (another scenario object, another seed object), a journal that must not
    # change the run, and a world of another seed between them.
    copy = World(engine_scenario(population=1_000, horizon=15), np.random.SeedSequence(4))
    worlds = [World(scenario, seed), World(scenario, seed), World(scenario, np.random.SeedSequence(5)), copy]
    worlds.append(World(scenario, seed, journeys=0.4))
    first, *others = engine.run_batch(worlds)
    assert_same_record(others[0], first, "the same world")
    assert_same_record(others[2], first, "an equal world")
    assert_same_record(dataclasses.replace(others[3], journal=None), first, "the same world, journaled")
    with pytest.raises(AssertionError):
        assert_same_record(others[1], first, "another seed")


def test_common_random_numbers_until_the_changed_day() -> None:
    """Two worlds of one seed whose plans differ on the last day only run the same until then, and on that day
    the channels that deliver before the changed one still see the same customers and numbers."""
    scenario = engine_scenario(population=2_000, horizon=22, represents=4_000)  # 22 days: the 4th week is one day
    # 220 over 22 equal days and 240 over 21 days of weight 1 and one of 3 are 10 a day exactly (5 after the
    # population's share of one half), then 30 on the last day: all bought, below what social can deliver.
    before = scenario.with_channel("social", spend=220.0, flighting=[1, 1, 1, 1])
    after = scenario.with_channel("social", spend=240.0, flighting=[1, 1, 1, 3])
    planned = [engine.daily_spend(s.channels[2], 22) for s in (before, after)]
    assert planned[0][:-1].tobytes() == planned[1][:-1].tobytes() and planned[0][-1] != planned[1][-1]

    seed = np.random.SeedSequence(8)
    base, changed = check_batch([World(before, seed), World(after, seed)])
    social = before.channel_names.index("social")
    assert changed.daily_exposures[-1, social] > base.daily_exposures[-1, social]
    for field in ("daily_stages", "daily_spend", "daily_exposures"):
        assert_same_value(getattr(changed, field)[:-1], getattr(base, field)[:-1], f"{field} before the last day")
    assert_same_value(
        changed.daily_exposures[-1, :social], base.daily_exposures[-1, :social], "channels before on the last day"
    )


def test_worlds_of_different_keys_are_refused() -> None:
    scenario = engine_scenario(population=500, horizon=8)
    seed = np.random.SeedSequence(0)
    others = [
        scenario.with_overrides(["scenario.population=501"]),
        scenario.with_overrides(["scenario.represents=8000"]),
        scenario.with_overrides(["organic.word_of_mouth=0.2"]),
        scenario.with_overrides(["economics.checkout_abandonment=0.5"]),
        scenario.with_overrides(["funnel.synergy=0.2"]),
        scenario.with_overrides(["seasonality.weekly=[1, 1]"]),
        scenario.with_channel("tv", cpm=16.0),
        scenario.with_channel("search", frequency_cap=2),
    ]
    for other in others:
        assert engine.batch_key(other) != engine.batch_key(scenario)
        with pytest.raises(ValueError, match="batch"):
            engine.run_batch([World(scenario, seed), World(other, seed)])
    with pytest.raises(ValueError):
        engine.run_batch([])


def test_plans_share_a_key() -> None:
    """Spend, flighting, fixed costs and smallest buys are a world's plan: worlds differing in them batch."""
    scenario = engine_scenario(population=500, horizon=8)
    plans = [
        scenario.with_spend({"tv": 0.0, "radio": 1_000.0}),
        scenario.with_channel("tv", flighting=[3, 1]),
        scenario.with_channel("tv", fixed_cost=0.0, min_spend=0.0),
        week_impulse(scenario, "search", week=1, factor=2.0),
    ]
    assert {engine.batch_key(p) for p in plans} == {engine.batch_key(scenario)}


def test_batches_group_by_key_keep_order_and_cap_size() -> None:
    a = engine_scenario(population=500, horizon=8)
    b = a.with_overrides(["scenario.population=400"])
    seed = np.random.SeedSequence(0)
    kinds = "abaabaaab"
    worlds = [World(a.with_spend({"tv": float(i)}) if k == "a" else b, seed) for i, k in enumerate(kinds)]
    assert engine.batches(worlds, 2) == [[0, 2], [3, 5], [6, 7], [1, 4], [8]]
    assert engine.batches(worlds, 100) == [[0, 2, 3, 5, 6, 7], [1, 4, 8]]
    assert engine.batches(worlds, 1) == [[i] for i in (0, 2, 3, 5, 6, 7, 1, 4, 8)]
    assert engine.batches([], 3) == []
    with pytest.raises(ValueError, match="size"):
        engine.batches(worlds, 0)


def test_on_day_sees_each_day_of_the_batch_once() -> None:
    scenario = engine_scenario(population=300, horizon=9)
    days: list[int] = []
    engine.run_batch([World(scenario, np.random.SeedSequence(s)) for s in range(3)], on_day=days.append)
    assert days == list(range(9))


def test_stage_counts_kept_as_customers_move_are_a_count_of_the_stages() -> None:
    """The engine keeps each world's customers per stage as they move (no day counts the whole array); with every
    customer journaled, the final stages can be counted directly, and the two agree in every world."""
    scenario = engine_scenario(represents=3_000)
    seed = np.random.SeedSequence(12)
    names = scenario.channel_names
    worlds = [World(scenario, seed, 1.0), World(scenario.with_spend({names[0]: 0.0}), seed, 1.0)]
    for record in engine.run_batch(worlds):
        assert record.journal is not None and record.journal.stage.size == scenario.population
        counted = np.bincount(record.journal.stage, minlength=4)
        np.testing.assert_array_equal(record.daily_stages[-1], counted)
        assert record.daily_stages[-1, 0] < scenario.population  # customers did move
