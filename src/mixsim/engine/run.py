"""One simulated run: a SimPy clock driving one process per channel and per organic force.

Each day, at phase 0 the channels deliver (in file order); at phase 0.5 the organic forces act; at phase 0.9 the
day's stage counts are recorded. Every process and day draws from its own random stream, keyed by the run's
seed sequence, the process (a channel by its name) and the day, so a counterfactual run that changes one channel
leaves the numbers every other process sees unchanged.

A population that stands for more customers than it holds (``scenario.represents`` above ``scenario.population``)
gets its share of every channel's money, ``population / represents``, and every count and sum of money in the
run's record is multiplied back by ``represents / population``: the record is in the whole market's units. The
touch journal stays in simulated customers (docs/model.md, "A population that stands for more").
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from mixsim.engine import journal, organic
from mixsim.engine.delivery import ChannelModel, deliver
from mixsim.engine.population import CONVERTED, Population
from mixsim.scenario import Scenario

_ORGANIC_PHASE = 0.5
_RECORD_PHASE = 0.9
TOUCH_EDGES: tuple[int, ...] = (0, 1, 2, 3, 5, 10, 20, 30, 50, 75, 100)
"""Lower edges of the touchpoints-before-conversion histogram: 0, 1, 2, 3-4, 5-9, 10-19, 20-29, 30-49, 50-74,
75-99 and 100 or more. A touchpoint is a distinct channel-day with an exposure; always-on channels reach a buyer on
dozens of days in a quarter, so the bins widen as they go (docs/model.md)."""
TOUCH_BINS = len(TOUCH_EDGES)
"""Bins of the touchpoints histogram."""
DAY_BIN_WIDTH = 7
"""Days-from-first-touch-to-conversion histogram: weekly bins."""


def touch_bins(touchpoints: np.ndarray) -> np.ndarray:
    """The bin of :data:`TOUCH_EDGES` each touchpoint count falls in."""
    return np.searchsorted(TOUCH_EDGES, touchpoints, side="right") - 1


def touch_labels() -> list[str]:
    """Names of the touchpoints bins: ``"0"``, ``"1"``, ``"2"``, ``"3-4"``, ..., ``"100+"``."""
    upper = [*(e - 1 for e in TOUCH_EDGES[1:]), None]
    return [
        f"{low}+" if high is None else str(low) if high == low else f"{low}-{high}"
        for low, high in zip(TOUCH_EDGES, upper, strict=True)
    ]


def _stream_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """Random streams of one run: one per (process, day), all children of the run's seed sequence."""

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self._entropy = seed.entropy
        self._key = tuple(seed.spawn_key)
        self._pool_size = seed.pool_size

    def get(self, process: str, day: int = -1) -> np.random.Generator:
        """The stream of ``process`` on ``day`` (``-1``: the process's set-up stream)."""
        seq = np.random.SeedSequence(
            self._entropy, spawn_key=(*self._key, _stream_key(process), day + 1), pool_size=self._pool_size
        )
        return np.random.Generator(np.random.PCG64(seq))


@dataclass(frozen=True)
class RunRecord:
    """Raw outcome of one run (the engine's output; :mod:`mixsim.results` summarises many of them).

    Arrays are indexed by day ``t``, channel ``c`` (scenario order) and stage ``s``. Counts and money are the
    whole market's: for a population that stands for more customers than it holds they are the simulated ones
    times ``represents / population`` (floats, then), and the journal alone counts simulated customers.
    """

    daily_stages: np.ndarray  # (T, 4) customers per stage at the end of each day
    daily_spend: np.ndarray  # (T, C)
    daily_exposures: np.ndarray  # (T, C)
    spend: np.ndarray  # (C,)
    unspent: np.ndarray  # (C,)
    exposures: np.ndarray  # (C,)
    reach: np.ndarray  # (C,) unique customers touched
    first_touch: np.ndarray  # (C,) conversions credited to the first touch
    last_touch: np.ndarray  # (C,)
    linear: np.ndarray  # (C,)
    touchpoints: np.ndarray  # (TOUCH_BINS,) converted customers by touchpoints (channel-days) before converting
    days_to_conversion: np.ndarray  # (ceil(T / 7),) converted, touched customers by days from first touch
    journal: journal.Journal | None = None  # touches of the tracked customers, when asked for

    @property
    def conversions(self) -> float:
        """Customers converted by the end of the horizon (a whole number unless the record is scaled to a market)."""
        return self.daily_stages[-1, CONVERTED].item()


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
    represented = scenario.represents != scenario.population  # else the population is the market: nothing to scale
    if represented:
        # The simulated customers are a share of the market: they get that share of every channel's money.
        share = scenario.population / scenario.represents
        scenario = scenario.with_spend({c.name: c.spend * share for c in scenario.channels})
    horizon = scenario.horizon_days
    streams = Streams(seed)
    population = Population.create(scenario)
    recorder = None
    if journeys > 0.0:
        recorder = journal.Recorder(journal.sample(population.size, journeys, streams.get("journeys")), journeys)
    models = [
        ChannelModel.compile(scenario, k, population, streams.get(f"reach:{ch.name}"), recorder)
        for k, ch in enumerate(scenario.channels)
    ]
    n_channels = len(models)
    daily_stages = np.zeros((horizon, 4), dtype=np.int64)
    daily_spend = np.zeros((horizon, n_channels))
    daily_exposures = np.zeros((horizon, n_channels), dtype=np.int64)
    unspent = np.zeros(n_channels)

    env = simpy.Environment()

    def channel_process(model: ChannelModel, name: str):  # type: ignore[no-untyped-def]
        while True:
            day = int(env.now)
            d = deliver(
                model,
                population,
                float(day),
                float(model.daily_spend[day]),
                streams.get(name, day),
                streams.get(f"{name}:chances", day),
                recorder,
                organic.demand(scenario, day),
            )
            daily_spend[day, model.index] = d.spend
            daily_exposures[day, model.index] = d.exposures
            unspent[model.index] += d.unspent
            yield env.timeout(1)

    def organic_process(name: str, force: organic.Force):  # type: ignore[no-untyped-def]
        yield env.timeout(_ORGANIC_PHASE)
        while True:
            day = int(env.now)
            force(scenario, population, float(day), streams.get(f"organic:{name}", day))
            yield env.timeout(1)

    def stage_recorder():  # type: ignore[no-untyped-def]
        yield env.timeout(_RECORD_PHASE)
        while True:
            day = int(env.now)
            daily_stages[day] = population.stage_counts()
            if on_day is not None:
                on_day(day)
            yield env.timeout(1)

    for model, ch in zip(models, scenario.channels, strict=True):
        env.process(channel_process(model, f"channel:{ch.name}"))
    for name, force in organic.forces(scenario):
        env.process(organic_process(name, force))
    env.process(stage_recorder())
    env.run(until=horizon)
    record = _record(scenario, population, daily_stages, daily_spend, daily_exposures, unspent)
    if represented:
        record = in_market(record, scenario.represents / scenario.population)
    if recorder is None:
        return record
    return dataclasses.replace(
        record, journal=recorder.finish(population.segment, population.stage, population.converted_day)
    )


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
        If the worlds do not share a batch key.
    """
    if len({batch_key(w.scenario) for w in worlds}) > 1:
        raise ValueError("the worlds of a batch must differ only in their channels' spend and flighting")
    return [run(w.scenario, w.seed, on_day=on_day, journeys=w.journeys) for w in worlds]


MARKET_FIELDS: tuple[str, ...] = (
    "daily_stages",
    "daily_spend",
    "daily_exposures",
    "spend",
    "unspent",
    "exposures",
    "reach",
    "first_touch",
    "last_touch",
    "linear",
    "touchpoints",
    "days_to_conversion",
)
"""The fields of a :class:`RunRecord` that count customers or exposures, or sum money: all of them but the
journal."""


def in_market(record: RunRecord, weight: float) -> RunRecord:
    """``record`` with every field of :data:`MARKET_FIELDS` multiplied by ``weight``, the customers each simulated
    customer stands for."""
    return dataclasses.replace(record, **{name: getattr(record, name) * weight for name in MARKET_FIELDS})


def _record(
    scenario: Scenario,
    population: Population,
    daily_stages: np.ndarray,
    daily_spend: np.ndarray,
    daily_exposures: np.ndarray,
    unspent: np.ndarray,
) -> RunRecord:
    n_channels = len(scenario.channels)
    reach = np.count_nonzero(population.channel_touches, axis=1).astype(np.int64)

    converted = np.flatnonzero(population.stage == CONVERTED)
    paths = population.channel_touches[:, converted].T.astype(np.float64)  # (converted, channels)
    touches = paths.sum(axis=1)
    touched = touches > 0
    first = np.bincount(population.first_channel[converted[touched]], minlength=n_channels).astype(float)
    last = np.bincount(population.last_channel[converted[touched]], minlength=n_channels).astype(float)
    linear = (paths[touched] / touches[touched, None]).sum(axis=0)

    # Touchpoints are channel-days, not exposures: three TV spots on Monday and a search on Tuesday make two.
    touchpoints = np.bincount(touch_bins(population.touchpoints[converted]), minlength=TOUCH_BINS)
    n_day_bins = -(-scenario.horizon_days // DAY_BIN_WIDTH)
    buyers = converted[touched]
    days = (population.converted_day[buyers] - population.first_touch[buyers]).astype(np.int64)
    days_to_conversion = np.bincount(days // DAY_BIN_WIDTH, minlength=n_day_bins)[:n_day_bins]
    return RunRecord(
        daily_stages=daily_stages,
        daily_spend=daily_spend,
        daily_exposures=daily_exposures,
        spend=daily_spend.sum(axis=0),
        unspent=unspent,
        exposures=daily_exposures.sum(axis=0),
        reach=reach,
        first_touch=first,
        last_touch=last,
        linear=np.asarray(linear, dtype=float),
        touchpoints=touchpoints,
        days_to_conversion=days_to_conversion,
    )
