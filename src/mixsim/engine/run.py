"""Simulated runs: a SimPy clock driving one process per channel and per organic force, over a batch of worlds.

Each day, at phase 0 the channels deliver (in file order); at phase 0.5 the organic forces act; at phase 0.9 the
day's stage counts are recorded. Every process and day draws from its own random stream, keyed by the run's
seed sequence, the process (a channel by its name) and the day, so a counterfactual run that changes one channel
leaves the numbers every other process sees unchanged.

A batch runs several worlds on one clock: the same scenario under different plans (its channels' spend and
flighting) and seeds, every customer array with a world axis. Worlds that share a seed share their streams and
their channels' reachable customers, and each process acts on all of them in one vectorized step; every world's
record is exactly the one it gives run alone.

A population that stands for more customers than it holds (``scenario.represents`` above ``scenario.population``)
gets its share of every channel's money, ``population / represents``, and every count and sum of money in the
run's record is multiplied back by ``represents / population``: the record is in the whole market's units. The
touch journal stays in simulated customers (docs/model.md, "A population that stands for more").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from mixsim.engine import journal, organic
from mixsim.engine.delivery import ChannelModel, Reach, daily_spend, deliver
from mixsim.engine.population import Population
from mixsim.engine.record import (
    DAY_BIN_WIDTH,
    MARKET_FIELDS,
    TOUCH_BINS,
    TOUCH_EDGES,
    RunRecord,
    in_market,
    make_record,
    touch_bins,
    touch_labels,
)
from mixsim.engine.streams import Streams, seed_key
from mixsim.scenario import Scenario

__all__ = [
    "DAY_BIN_WIDTH",
    "MARKET_FIELDS",
    "TOUCH_BINS",
    "TOUCH_EDGES",
    "RunRecord",
    "World",
    "batch_key",
    "batches",
    "in_market",
    "run",
    "run_batch",
    "touch_bins",
    "touch_labels",
]

_ORGANIC_PHASE = 0.5
_RECORD_PHASE = 0.9


def run(
    scenario: Scenario,
    seed: np.random.SeedSequence,
    spend: Mapping[str, float] | None = None,
    on_day: Callable[[int], None] | None = None,
    journeys: float = 0.0,
) -> RunRecord:
    """Simulate ``scenario`` once.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    seed : numpy.random.SeedSequence
        This run's seed; the same seed gives the same run.
    spend : mapping of str to float, optional
        Planned spend overrides per channel (counterfactual runs: a channel off, or at 95%).
    on_day : callable, optional
        Called with the day number after each simulated day.
    journeys : float, default=0.0
        Share of customers whose touches are journaled (a random sample from the run's own stream, so the run
        is otherwise unchanged; 1 tracks everyone, 0 no one).

    Returns
    -------
    RunRecord
    """
    if spend:
        scenario = scenario.with_spend(dict(spend))
    return run_batch([World(scenario, seed, journeys)], on_day)[0]


@dataclass(frozen=True)
class World:
    """One run of a batch: a scenario (its channels' spend and flighting may differ from the batch's other worlds),
    a seed, and the share of customers whose touches are journaled."""

    scenario: Scenario
    seed: np.random.SeedSequence
    journeys: float = 0.0


def batch_key(scenario: Scenario) -> Hashable:
    """What worlds of one batch must share: everything the engine reads but the channels' spend and flighting.

    Two scenarios with equal keys differ only in how much each channel buys and when, so they can run on one clock
    over one population array with a world axis.
    """
    channels = tuple(
        dataclasses.replace(c, spend=0.0, flighting=None, fixed_cost=0.0, min_spend=0.0) for c in scenario.channels
    )
    return (
        scenario.population,
        scenario.horizon_days,
        scenario.represents,
        scenario.economics.checkout_abandonment,
        channels,
        scenario.segments,
        scenario.funnel,
        scenario.organic,
        scenario.repeat,
        scenario.seasonality,
    )


def batches(worlds: Sequence[World], size: int) -> list[list[int]]:
    """Indices of ``worlds`` grouped into batches of at most ``size`` worlds that share a :func:`batch_key`.

    Worlds keep their order within a batch, and batches come in the order of their first world.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1 (got {size})")
    groups: dict[Hashable, list[int]] = {}
    for i, world in enumerate(worlds):
        groups.setdefault(batch_key(world.scenario), []).append(i)
    return [group[k : k + size] for group in groups.values() for k in range(0, len(group), size)]


def run_batch(worlds: Sequence[World], on_day: Callable[[int], None] | None = None) -> list[RunRecord]:
    """Simulate a batch of worlds on one clock; each world's record is exactly the record :func:`run` gives it alone.

    Parameters
    ----------
    worlds : sequence of World
        Worlds sharing one :func:`batch_key` (see :func:`batches`).
    on_day : callable, optional
        Called with the day number after each simulated day of the batch.

    Returns
    -------
    list of RunRecord
        One per world, in order.

    Raises
    ------
    ValueError
        If there is no world, or the worlds do not share a batch key.
    """
    if not worlds:
        raise ValueError("a batch needs at least one world")
    if len({batch_key(w.scenario) for w in worlds}) > 1:
        raise ValueError("the worlds of a batch must differ only in their channels' spend and flighting")
    # Worlds that share a seed sit next to each other: a seed group is a slice of the world axis.
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, world in enumerate(worlds):
        groups.setdefault(seed_key(world.seed), []).append(i)
    order = [i for members in groups.values() for i in members]
    placed = [worlds[i] for i in order]
    records = _simulate(placed, [len(m) for m in groups.values()], on_day)
    result: list[RunRecord] = [records[0]] * len(worlds)
    for slot, i in enumerate(order):
        result[i] = records[slot]
    return result


@dataclass
class _Group:
    """The worlds of a batch that share a seed: their population, streams, channels' reach and journals."""

    worlds: list[int]  # indices into the batch
    population: Population
    streams: Streams
    reaches: list[Reach]  # by channel
    recorders: list[journal.Recorder | None]  # by world of the group


def _simulate(worlds: list[World], group_sizes: list[int], on_day: Callable[[int], None] | None) -> list[RunRecord]:
    """Run ``worlds``, laid out in seed groups of ``group_sizes`` consecutive worlds."""
    scenario = worlds[0].scenario
    represented = scenario.represents != scenario.population  # else the population is the market: nothing to scale
    share = scenario.population / scenario.represents
    plans = [w.scenario for w in worlds]
    if represented:
        # The simulated customers are a share of the market: they get that share of every channel's money.
        plans = [p.with_spend({c.name: c.spend * share for c in p.channels}) for p in plans]
    horizon = scenario.horizon_days
    n_worlds, n_channels = len(worlds), len(scenario.channels)
    # planned[k, w, t]: channel k's planned spend in world w on day t.
    planned = np.zeros((n_channels, n_worlds, horizon))
    for w, plan in enumerate(plans):
        for k, channel in enumerate(plan.channels):
            planned[k, w] = daily_spend(channel, horizon)

    groups: list[_Group] = []
    models: list[ChannelModel] = []
    first = 0
    for size in group_sizes:
        members = list(range(first, first + size))
        first += size
        population = Population.create(scenario, size)
        if not models:
            models = [ChannelModel.compile(scenario, k, population.seen.dtype.type) for k in range(n_channels)]
        streams = Streams(worlds[members[0]].seed)
        recorders = [
            journal.Recorder(
                journal.sample(population.size, worlds[w].journeys, streams.get("journeys")), worlds[w].journeys
            )
            if worlds[w].journeys > 0.0
            else None
            for w in members
        ]
        reaches = [Reach.draw(m, population.segment, streams.get(f"reach:{m.name}"), recorders) for m in models]
        groups.append(_Group(members, population, streams, reaches, recorders))

    daily_stages = np.zeros((n_worlds, horizon, 4), dtype=np.int64)
    daily_sales = np.zeros((n_worlds, horizon, 2), dtype=np.int64)
    spent = np.zeros((n_worlds, horizon, n_channels))
    exposures = np.zeros((n_worlds, horizon, n_channels), dtype=np.int64)
    unspent = np.zeros((n_worlds, n_channels))
    env = simpy.Environment()

    def channel_process(model: ChannelModel):  # type: ignore[no-untyped-def]
        k = model.index
        while True:
            day = int(env.now)
            for group in groups:
                delivered = deliver(
                    model,
                    group.reaches[k],
                    group.population,
                    day,
                    planned[k, group.worlds, day],
                    group.streams,
                    group.recorders,
                    organic.demand(scenario, day),
                )
                spent[group.worlds, day, k] = delivered.spend
                exposures[group.worlds, day, k] = delivered.exposures
                unspent[group.worlds, k] += delivered.unspent
            yield env.timeout(1)

    def organic_process(name: str, force: organic.Force):  # type: ignore[no-untyped-def]
        yield env.timeout(_ORGANIC_PHASE)
        while True:
            day = int(env.now)
            for group in groups:
                force(scenario, group.population, float(day), group.streams.get(f"organic:{name}", day))
            yield env.timeout(1)

    def stage_recorder():  # type: ignore[no-untyped-def]
        yield env.timeout(_RECORD_PHASE)
        while True:
            day = int(env.now)
            for group in groups:
                daily_stages[group.worlds, day] = group.population.counts
                daily_sales[group.worlds, day] = group.population.sales
            if on_day is not None:
                on_day(day)
            yield env.timeout(1)

    for model in models:
        env.process(channel_process(model))
    for name, force in organic.forces(scenario):
        env.process(organic_process(name, force))
    env.process(stage_recorder())
    env.run(until=horizon)

    records: list[RunRecord] = []
    for group in groups:
        population = group.population
        for g, w in enumerate(group.worlds):
            # Each world's own contiguous arrays: sums then add in the same order as a world run alone.
            own = np.ascontiguousarray
            record = make_record(
                horizon,
                own(population.stage[:, g]),
                own(population.channel_touches[:, :, g]),
                own(population.touchpoints[:, g]),
                own(population.first_channel[:, g]),
                own(population.last_channel[:, g]),
                own(population.first_touch[:, g]),
                own(population.converted_day[:, g]),
                daily_stages[w].copy(),
                spent[w].copy(),
                exposures[w].copy(),
                unspent[w].copy(),
                own(population.seen[:, g]),
                daily_sales[w].copy(),
                own(population.purchases[:, g]),
                own(population.last_purchase[:, g]),
                own(population.lapsed_day[:, g]),
            )
            if represented:
                record = in_market(record, scenario.represents / scenario.population)
            recorder = group.recorders[g]
            if recorder is not None:
                stage = np.ascontiguousarray(population.stage[:, g])
                finished = recorder.finish(
                    population.segment, stage, np.ascontiguousarray(population.converted_day[:, g])
                )
                record = dataclasses.replace(record, journal=finished)
            records.append(record)
    return records
