"""Paid exposure delivery: one channel, one day, applied to the whole population at once.

The exposure semantics (docs/scenario.md) are implemented exactly, without a loop over customers:

* The day's exposures, ``E``, are drawn uniformly with replacement from the reachable customers in a targeted
  stage. A draw on a customer who has left the targeted stages (or reached the frequency cap) earlier that day
  is rejected and drawn again. Processing the stream of draws in chunks gives the same result as processing it
  one draw at a time, because whether a draw is accepted depends only on the earlier draws on the same customer.
* A customer drawn k times gets k chances, one after another, each with the probability of the stage it is in
  at that moment; the rounds below apply the j-th chance to every customer drawn at least j times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mixsim.engine.journal import Recorder
from mixsim.engine.population import CONVERTED, Population
from mixsim.scenario import STAGES, Channel, Scenario

_NO_CAP = 2**62
_MIN_OPEN_SHARE = 0.02
_MAX_BATCH = 1 << 24  # draws held in memory at once (a few hundred MB at most)


@dataclass(frozen=True)
class ChannelModel:
    """A channel compiled for the engine: reachable customers and per-(segment, stage) probabilities."""

    index: int
    bit: np.unsignedinteger
    cost_per_exposure: float
    daily_spend: np.ndarray
    reachable: np.ndarray
    targeted: np.ndarray
    targets_all: bool
    probability: np.ndarray
    table_stride: int
    cap: int
    synergy: float
    tracked: np.ndarray | None = None  # positions in ``reachable`` of customers whose touches are journaled
    uncapped: np.ndarray | None = None  # probability before the cap at 1 and checkout, for seasonal scaling
    keep: np.ndarray | None = None  # per entry of the table: the share of attempts that survive checkout

    def table(self, demand: float) -> np.ndarray:
        """The probability table in a week of ``demand`` (the effect scaled, then capped at 1)."""
        if demand == 1.0 or self.uncapped is None or self.keep is None:
            return self.probability
        return np.minimum(1.0, self.uncapped * demand) * self.keep

    @classmethod
    def compile(
        cls,
        scenario: Scenario,
        index: int,
        population: Population,
        reach_rng: np.random.Generator,
        recorder: Recorder | None = None,
    ) -> ChannelModel:
        """Compile channel ``index`` of ``scenario``; draws once which customers it can ever reach."""
        ch: Channel = scenario.channels[index]
        horizon = scenario.horizon_days
        u = reach_rng.random(population.size)
        reach = np.asarray(ch.reach, dtype=float)[population.segment]
        reachable = np.flatnonzero(u < reach).astype(np.int32)
        targeted = np.array([stage in ch.targets for stage in STAGES], dtype=bool)
        base = np.array([ch.p_aware, ch.p_consider, ch.p_convert, 0.0])
        # probability[((m - 1) * segments + segment) * 4 + stage]: the chance that an exposure moves a customer up,
        # for a customer who has seen m distinct channels: affinity and synergy applied, capped at 1, and a
        # conversion attempt surviving checkout abandonment.
        synergy = scenario.funnel.synergy
        distinct = np.arange(1, len(scenario.channels) + 1) if synergy > 0.0 else np.ones(1)
        boost = 1.0 + synergy * (distinct - 1.0)
        affinity = np.asarray(ch.affinity, dtype=float)
        keep = np.array([1.0, 1.0, 1.0 - scenario.economics.checkout_abandonment, 0.0])
        base = np.minimum(1.0, affinity[:, None] * base[None, :])
        uncapped = boost[:, None, None] * base[None, :, :]
        probability = np.minimum(1.0, uncapped) * keep
        return cls(
            index=index,
            bit=population.seen.dtype.type(1 << index),
            cost_per_exposure=ch.cost_per_exposure,
            daily_spend=daily_spend(ch, horizon),
            reachable=reachable,
            targeted=targeted,
            targets_all=bool(targeted[:CONVERTED].all()),
            probability=probability.ravel(),
            table_stride=4 * len(scenario.segments),
            cap=ch.frequency_cap if ch.frequency_cap is not None else _NO_CAP,
            synergy=scenario.funnel.synergy,
            tracked=None if recorder is None else recorder.positions(reachable),
            uncapped=None if scenario.seasonality is None else uncapped.ravel(),
            keep=None if scenario.seasonality is None else np.broadcast_to(keep, uncapped.shape).ravel(),
        )


def daily_spend(channel: Channel, horizon_days: int) -> np.ndarray:
    """Planned spend per day: the channel's spend spread over the days by its weekly flighting weights."""
    weeks = math.ceil(horizon_days / 7)
    weights = np.ones(weeks) if channel.flighting is None else np.asarray(channel.flighting, dtype=float)
    per_day = weights[np.arange(horizon_days) // 7]
    return channel.spend * per_day / per_day.sum()


@dataclass
class Delivery:
    """What one channel delivered on one day."""

    exposures: int
    spend: float
    unspent: float


def deliver(
    model: ChannelModel,
    population: Population,
    day: float,
    spend: float,
    draws: np.random.Generator,
    chances: np.random.Generator,
    recorder: Recorder | None = None,
    demand: float = 1.0,
) -> Delivery:
    """Deliver one day of ``model``'s channel to ``population`` (updated in place).

    Parameters
    ----------
    model : ChannelModel
        The compiled channel.
    population : Population
        Customer state; stages, touches and attribution fields are updated in place.
    day : float
        The simulated day (recorded as the touch and conversion time).
    spend : float
        Planned spend for the day.
    draws, chances : numpy.random.Generator
        This channel's streams for this day: which customers are drawn, and whether an exposure moves them.
    recorder : Recorder, optional
        Journals the day's touches on tracked customers (``model.tracked``); it draws no random numbers.
    demand : float, default=1.0
        The week's seasonal multiplier of each exposure's effect (capped at 1).

    Returns
    -------
    Delivery
        Exposures delivered, spend used and spend left unspent (they add up to ``spend``).

    Notes
    -----
    Two runs with the same seed that differ a little (a channel at 95% of its spend, another channel off) should
    see the same random numbers wherever they can: draws are made over the channel's fixed list of reachable
    customers (a draw on one outside the targeted stages is rejected), so the smaller run's draws are the first
    ones of the larger run's; and the uniform number deciding a customer's j-th chance of the day is a function of
    (stream key, customer, j) alone (see :func:`uniforms`), not of how many other customers were drawn.
    """
    if spend <= 0.0:
        return Delivery(0, 0.0, 0.0)
    wanted = spend / model.cost_per_exposure
    n_wanted = int(wanted) + int(draws.random() < wanted - int(wanted))  # stochastic rounding
    reachable = model.reachable
    n = reachable.size
    stage = population.stage[reachable]
    # Out of the targeted stages, or (later) at the cap.
    done = stage == CONVERTED if model.targets_all else ~model.targeted[stage]
    n_done = int(np.count_nonzero(done))
    if n_done == n:
        return Delivery(0, 0.0, spend)
    if n_wanted == 0:
        return Delivery(0, spend, 0.0)

    key = np.uint64(chances.integers(2**63))
    probability = model.table(demand)
    journaled = recorder is not None and model.tracked is not None and model.tracked.size > 0
    if journaled:
        assert model.tracked is not None
        stage_before = stage[model.tracked]
    used = np.zeros(n, dtype=np.int64)  # accepted exposures per reachable position
    delivered = 0
    batches = []
    while delivered < n_wanted and n_done < n:
        # Drawing in batches of bounded size processes the same stream of draws, so the law is the same.
        deficit = min(n_wanted - delivered, _MAX_BATCH)
        # Draws on customers who are done are rejected and drawn again. Drawing over the whole reachable list and
        # dropping the rejected keeps two similar runs on the same draws; below a small open share that costs too
        # many draws, and drawing among the open customers only gives the same law.
        open_share = (n - n_done) / n
        tries = int(deficit / open_share * 1.05) + 16
        if open_share >= _MIN_OPEN_SHARE and tries <= 2 * _MAX_BATCH:
            picks: np.ndarray = draws.integers(n, size=tries, dtype=np.int32)  # first k = a shorter run's draws
            picks = picks[~done[picks]][:deficit]
        else:
            open_ = np.flatnonzero(~done)
            picks = open_[draws.integers(open_.size, size=deficit, dtype=np.int32)]
        if picks.size == 0:
            continue
        hit, drawn = _tally(picks, n)
        accepted, finished = _chances(model, population, reachable, hit, drawn, used, done, day, key, probability)
        batches.append(hit)
        delivered += accepted
        n_done += finished
    # Every customer drawn in a batch was open when drawn, so each of them took at least one exposure.
    touched = batches[0] if len(batches) == 1 else _union(batches)
    _book(model, population, reachable[touched], used[touched], day)
    if journaled:
        assert recorder is not None and model.tracked is not None
        took = used[model.tracked]
        hit = np.flatnonzero(took)
        customers = reachable[model.tracked[hit]]
        recorder.add(customers, int(day), model.index, took[hit], stage_before[hit], population.stage[customers])
    unspent = spend * (n_wanted - delivered) / n_wanted
    return Delivery(delivered, spend - unspent, unspent)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ODD = np.uint64(0xD1B54A32D192ED03)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def uniforms(key: np.uint64, position: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Counter-based uniform numbers in [0, 1): one per (``position``, ``index``) pair, fixed by ``key``.

    The SplitMix64 output function applied to a counter made of the key, the customer's position and the chance
    number. Unlike a sequential stream, the number a customer gets does not depend on how many numbers other
    customers took, which keeps counterfactual runs on common random numbers.
    """
    x = position.astype(np.uint64) * _GOLDEN
    x += index.astype(np.uint64) * _ODD
    x += key
    x ^= x >> np.uint64(30)
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53  # 53 bits: exact for any probability


def _tally(picks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct positions drawn (sorted) and how often each was drawn."""
    if picks.size * 16 >= n:
        counts = np.bincount(picks, minlength=n)
        hit = np.flatnonzero(counts.astype(bool))  # far faster on booleans than on integers
        return hit, counts[hit]
    # A few draws (redraws after rejections): sorting them beats a pass over the whole pool.
    picks = np.sort(picks)
    starts = np.flatnonzero(np.r_[True, picks[1:] != picks[:-1]])
    return picks[starts], np.diff(np.r_[starts, picks.size])


def _chances(
    model: ChannelModel,
    population: Population,
    pool: np.ndarray,
    hit: np.ndarray,
    drawn: np.ndarray,
    used: np.ndarray,
    done: np.ndarray,
    day: float,
    key: np.uint64,
    probability: np.ndarray,
) -> tuple[int, int]:
    """Apply one batch of draws in turn: ``drawn[i]`` draws on position ``hit[i]`` of ``pool``.

    Works on compact arrays of the customers drawn, one round per chance: round j gives the j-th chance to every
    customer drawn at least j times and still open, so each customer's chances come one after another. The working
    arrays shrink to the customers still going after each round.

    Returns
    -------
    accepted, finished : int
        Draws accepted (exposures delivered) and customers newly done (out of the targets or at the cap).
    """
    customers = pool[hit]
    before = used[hit]
    stage = population.stage[customers]
    offset = population.segment[customers].astype(np.intp) * 4
    if model.synergy > 0.0:
        # The customer has now seen this channel too; its boost is fixed for the whole day's delivery.
        seen = population.seen[customers] | model.bit
        population.seen[customers] = seen
        offset += (np.bitwise_count(seen).astype(np.intp) - 1) * model.table_stride
    applied = np.empty(hit.size, dtype=np.int64)  # chances taken in this batch
    left = np.empty(hit.size, dtype=bool)  # left the targeted stages
    # Working arrays of the customers still going: position in the batch, stage, table offset, chances allowed.
    pos = np.arange(hit.size)
    st = stage.copy()
    off = offset
    allowed = drawn if model.cap >= _NO_CAP else np.minimum(drawn, model.cap - before)
    chance = 0
    while pos.size:
        chance += 1
        u = uniforms(key, hit[pos], before[pos] + chance)
        up = np.flatnonzero(u < probability[off + st])
        st[up] += 1
        gone = ~model.targeted[st]
        going = ~gone & (allowed > chance)
        stop = np.flatnonzero(~going)
        stopped = pos[stop]
        stage[stopped] = st[stop]
        applied[stopped] = chance
        left[stopped] = gone[stop]
        keep = np.flatnonzero(going)
        pos, st, off, allowed = pos[keep], st[keep], off[keep], allowed[keep]
    converted = customers[(stage == CONVERTED) & (population.stage[customers] != CONVERTED)]
    population.converted_day[converted] = day
    population.stage[customers] = stage
    taken = before + applied
    used[hit] = taken
    finished = left | (taken >= model.cap)
    done[hit] = finished
    return int(applied.sum()), int(np.count_nonzero(finished))


def _union(sorted_arrays: list[np.ndarray]) -> np.ndarray:
    """Sorted distinct values of several sorted arrays (a stable sort merges sorted runs in linear time)."""
    merged = np.sort(np.concatenate(sorted_arrays), kind="stable")
    distinct = np.ones(merged.size, dtype=bool)
    distinct[1:] = merged[1:] != merged[:-1]
    return merged[distinct]


def _book(
    model: ChannelModel, population: Population, customers: np.ndarray, exposures: np.ndarray, day: float
) -> None:
    """Record the day's touches once per customer touched (all of them came before any conversion)."""
    population.channel_touches[model.index, customers] += exposures.astype(np.uint32)
    population.touchpoints[customers] += 1  # one channel-day, however many exposures it brought
    newcomers = customers[population.first_channel[customers] < 0]
    population.first_channel[newcomers] = model.index
    population.first_touch[newcomers] = day
    population.last_channel[customers] = model.index
    population.last_touch[customers] = day
