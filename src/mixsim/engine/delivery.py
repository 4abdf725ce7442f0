"""Paid exposure delivery: one channel, one day, applied to every world of a seed group at once.

The exposure semantics (docs/scenario.md) are implemented exactly, without a loop over customers:

* The day's exposures, ``E``, are drawn uniformly with replacement from the reachable customers in a targeted
  stage. A draw on a customer who has left the targeted stages (or reached the frequency cap) earlier that day
  is rejected and drawn again. Processing the stream of draws in blocks gives the same law as processing it
  one draw at a time, because whether a draw is accepted depends only on the earlier draws on the same customer.
* A customer drawn k times gets k chances, one after another, each with the probability of the stage it is in
  at that moment; the rounds below apply the j-th chance to every customer drawn at least j times.

The worlds of a seed group (a batch's worlds that share a seed) share the channel's reachable customers and its
random streams; each world takes from them exactly what it takes when it runs alone, so a batch changes no
number. The work of a day grows with the exposures bought, not with the reachable customers: the share of them
still open is estimated from the world's stage counts to size the first block of draws, and from each block
for the next.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mixsim.engine.journal import Recorder
from mixsim.engine.population import CONVERTED, Population
from mixsim.engine.streams import Streams
from mixsim.scenario import STAGES, Channel, Scenario

_NO_CAP = 2**31 - 1
_MIN_OPEN_SHARE = 0.02
_MAX_BATCH = 1 << 24  # draws held in memory at once (a few hundred MB at most)


@dataclass(frozen=True)
class ChannelModel:
    """A channel compiled for the engine: targets, cap and per-(segment, stage) probabilities (any world, any seed)."""

    index: int
    name: str
    bit: np.unsignedinteger
    cost_per_exposure: float
    reach: np.ndarray  # chance of being reachable, by segment
    targeted: np.ndarray
    probability: np.ndarray
    table_stride: int
    cap: int
    synergy: float
    uncapped: np.ndarray | None = None  # probability before the cap at 1 and checkout, for seasonal scaling
    keep: np.ndarray | None = None  # per entry of the table: the share of attempts that survive checkout

    def table(self, demand: float) -> np.ndarray:
        """The probability table in a week of ``demand`` (the effect scaled, then capped at 1)."""
        if demand == 1.0 or self.uncapped is None or self.keep is None:
            return self.probability
        return np.minimum(1.0, self.uncapped * demand) * self.keep

    @classmethod
    def compile(cls, scenario: Scenario, index: int, mask: type[np.unsignedinteger]) -> ChannelModel:
        """Compile channel ``index`` of ``scenario`` (``mask``: the dtype of the seen-channels bits)."""
        ch: Channel = scenario.channels[index]
        targeted = np.array([stage in ch.targets for stage in STAGES], dtype=bool)
        targeted[CONVERTED] = False  # converted customers are never exposed again
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
            name=ch.name,
            bit=mask(1 << index),
            cost_per_exposure=ch.cost_per_exposure,
            reach=np.asarray(ch.reach, dtype=float),
            targeted=targeted,
            probability=probability.ravel(),
            table_stride=4 * len(scenario.segments),
            cap=ch.frequency_cap if ch.frequency_cap is not None else _NO_CAP,
            synergy=synergy,
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
class Reach:
    """One channel under one seed: the customers it can ever reach, and each world's exposures of the day so far.

    Attributes
    ----------
    reachable : ndarray of int32
        The reachable customers (sorted); draws are positions in this list.
    used : ndarray of int32, shape (worlds, reachable)
        Exposures each reachable customer took today in each world of the group (zero between days).
    tracked : list of ndarray or None
        Per world, the positions in ``reachable`` of customers whose touches are journaled.
    """

    reachable: np.ndarray
    used: np.ndarray
    tracked: list[np.ndarray | None]

    @classmethod
    def draw(
        cls, model: ChannelModel, segment: np.ndarray, rng: np.random.Generator, recorders: Sequence[Recorder | None]
    ) -> Reach:
        """Draw once which customers the channel can reach (``rng``: the seed's reach stream for the channel)."""
        u = rng.random(segment.size)
        reachable = np.flatnonzero(u < model.reach[segment]).astype(np.int32)
        return cls(
            reachable=reachable,
            used=np.zeros((len(recorders), reachable.size), dtype=np.int32),
            tracked=[None if r is None else r.positions(reachable) for r in recorders],
        )


@dataclass
class Day:
    """What one channel delivered on one day in each world of a group: exposures, spend used and spend left
    unspent (the two add up to the planned spend)."""

    exposures: np.ndarray
    spend: np.ndarray
    unspent: np.ndarray


def deliver(
    model: ChannelModel,
    reach: Reach,
    population: Population,
    rows: slice,
    day: int,
    spend: np.ndarray,
    streams: Streams,
    recorders: Sequence[Recorder | None],
    demand: float = 1.0,
) -> Day:
    """Deliver one day of ``model``'s channel to the worlds ``rows`` of ``population`` (updated in place).

    Parameters
    ----------
    model : ChannelModel
        The compiled channel.
    reach : Reach
        The channel's reachable customers under the group's seed.
    population : Population
        Customer state; stages, touches and attribution fields are updated in place.
    rows : slice
        The worlds of the group (they share the seed of ``streams``).
    day : int
        The simulated day (recorded as the touch and conversion time).
    spend : ndarray
        Planned spend of the day in each world of the group.
    streams : Streams
        The group's random streams: which customers are drawn, and whether an exposure moves them.
    recorders : sequence of Recorder or None
        Per world, the journal of its tracked customers' touches (it draws no random numbers).
    demand : float, default=1.0
        The week's seasonal multiplier of each exposure's effect (capped at 1).

    Returns
    -------
    Day
        Per world: exposures delivered, spend used and spend left unspent.

    Notes
    -----
    Two runs with the same seed that differ a little (a channel at 95% of its spend, another channel off) should
    see the same random numbers wherever they can: draws are made over the channel's fixed list of reachable
    customers (a draw on one outside the targeted stages is rejected), so the smaller run's draws are the first
    ones of the larger run's; and the uniform number deciding a customer's j-th chance of the day is a function of
    (stream key, customer, j) alone (see :func:`uniforms`), not of how many other customers were drawn.
    """
    worlds = rows.stop - rows.start
    out = Day(np.zeros(worlds, dtype=np.int64), np.zeros(worlds), np.zeros(worlds))
    buying = [w for w in range(worlds) if spend[w] > 0.0]
    if not buying:
        return out
    name = f"channel:{model.name}"
    draws = streams.get(name, day)
    u = draws.random()  # stochastic rounding: the same number in every world
    wanted = np.zeros(worlds, dtype=np.int64)
    share = np.zeros(worlds)  # estimated share of the reachable customers still open
    going = []
    for w in buying:
        exact = float(spend[w]) / model.cost_per_exposure
        wanted[w] = int(exact) + int(u < exact - int(exact))
        # The world's stage counts give the share of all customers in a targeted stage: exactly 0 when nobody is.
        share[w] = float(population.counts[rows.start + w, model.targeted].sum()) / population.size
        nobody = reach.reachable.size == 0 or share[w] == 0.0
        if not nobody and wanted[w] == 0:
            nobody = _open(model, reach, population, rows.start + w, w).size == 0
        if nobody:
            out.unspent[w] = float(spend[w])  # nobody reachable can take an exposure
        elif wanted[w] == 0:
            out.spend[w] = float(spend[w])  # stochastic rounding bought nothing today
        else:
            going.append(w)
    if not going:
        return out

    key = np.uint64(streams.get(f"{name}:chances", day).integers(2**63))
    probability = model.table(demand)
    journaled = [w for w in going if recorders[w] is not None and _tracks(reach.tracked[w])]
    stage_before = {w: _tracked_stage(reach, population, rows.start + w, w) for w in journaled}
    n = reach.reachable.size
    delivered = np.zeros(worlds, dtype=np.int64)
    touched: list[np.ndarray] = []
    block = 0
    while going:
        keys = _draw(model, reach, population, rows, going, wanted - delivered, share, streams, name, day, block, draws)
        if keys.size:
            hit, drawn = _tally(keys, worlds * n)
            delivered += _chances(model, reach, population, rows, hit, drawn, day, key, probability)
            touched.append(hit)
        going = [w for w in going if delivered[w] < wanted[w] and share[w] >= 0.0]
        block += 1
    if touched:
        hit = touched[0] if len(touched) == 1 else _union(touched)
        _book(model, reach, population, rows, hit, float(day))
    for w in journaled:
        recorder, tracked = recorders[w], reach.tracked[w]
        assert recorder is not None and tracked is not None
        took = reach.used[w, tracked]
        seen = np.flatnonzero(took)
        customers = reach.reachable[tracked[seen]]
        after = population.stage[rows.start + w, customers]
        recorder.add(customers, day, model.index, took[seen], stage_before[w][seen], after)
    if touched:
        reach.used.reshape(-1)[hit] = 0  # the next day starts with no exposure taken
    for w in buying:
        if wanted[w] > 0 and out.spend[w] == 0.0 and out.unspent[w] == 0.0:
            planned = float(spend[w])
            unspent = planned if delivered[w] == 0 else planned * int(wanted[w] - delivered[w]) / int(wanted[w])
            out.exposures[w] = delivered[w]
            out.unspent[w] = unspent
            out.spend[w] = planned - unspent
    return out


def _tracks(tracked: np.ndarray | None) -> bool:
    return tracked is not None and tracked.size > 0


def _tracked_stage(reach: Reach, population: Population, row: int, w: int) -> np.ndarray:
    tracked = reach.tracked[w]
    assert tracked is not None
    return population.stage[row, reach.reachable[tracked]]


def _open_mask(model: ChannelModel, reach: Reach, population: Population, row: int, w: int) -> np.ndarray:
    """Whether each customer of the reachable list can take an exposure now in world ``row`` (group world ``w``)."""
    is_open = model.targeted[population.stage[row][reach.reachable]]
    if model.cap < _NO_CAP:
        is_open &= reach.used[w] < model.cap
    return is_open


def _open(model: ChannelModel, reach: Reach, population: Population, row: int, w: int) -> np.ndarray:
    """Positions in the reachable list of world ``row``'s customers who can take an exposure now (a pass over the
    whole list: only when few are open)."""
    return np.flatnonzero(_open_mask(model, reach, population, row, w))


def _draw(
    model: ChannelModel,
    reach: Reach,
    population: Population,
    rows: slice,
    going: list[int],
    deficit: np.ndarray,
    share: np.ndarray,
    streams: Streams,
    name: str,
    day: int,
    block: int,
    draws: np.random.Generator,
) -> np.ndarray:
    """One block of accepted draws for each world still ``going``, as keys ``world * reachable + position``.

    Block ``b`` of a day draws from its own stream, the same in every world: a world whose open share is large
    enough takes the first draws over the whole reachable list and keeps the first ``deficit`` that fall on open
    customers; the others draw among their open customers only (the same law). ``share`` is updated with each
    world's open share seen in the block (``-1``: nobody is open any more).
    """
    n = reach.reachable.size
    stream = draws if block == 0 else streams.get(f"{name}:{block}", day)
    over_all: list[tuple[int, int, int]] = []  # (world, tries, wanted)
    keys: list[np.ndarray] = []
    for w in going:
        want = int(min(deficit[w], _MAX_BATCH))
        if share[w] >= _MIN_OPEN_SHARE:
            tries = int(want / share[w] * 1.05) + 16
            if tries <= 2 * _MAX_BATCH:
                over_all.append((w, tries, want))
                continue
        open_ = _open(model, reach, population, rows.start + w, w)
        if open_.size == 0:
            share[w] = -1.0
            continue
        share[w] = open_.size / n
        fresh = streams.get(f"{name}:{block}", day) if block else streams.get(name, day)
        if block == 0:
            fresh.random()  # the stochastic rounding's number comes first in the day's stream
        keys.append(w * n + open_[fresh.integers(open_.size, size=want, dtype=np.int32)].astype(np.int64))
    if over_all:
        shared = stream.integers(n, size=max(t for _, t, _ in over_all), dtype=np.int32)  # a world's: its first ones
        for w, tries, want in over_all:
            position = shared[:tries]
            if tries >= n:
                # Many draws: one pass over the list, then a lookup per draw, beats three lookups per draw.
                ok = _open_mask(model, reach, population, rows.start + w, w)[position]
            else:
                ok = model.targeted[population.stage[rows.start + w][reach.reachable[position]]]
                if model.cap < _NO_CAP:
                    ok &= reach.used[w][position] < model.cap
            accepted = np.flatnonzero(ok)
            share[w] = accepted.size / tries  # 0 sends the world to draw among its open customers next
            keys.append(position[accepted[:want]] + np.int64(w * n))
    if not keys:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(keys) if len(keys) > 1 else keys[0]


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ODD = np.uint64(0xD1B54A32D192ED03)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def uniforms(key: np.uint64, position: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Counter-based uniform numbers in [0, 1): one per (``position``, ``index``) pair, fixed by ``key``.

    The SplitMix64 output function applied to a counter made of the key, the customer's position and the chance
    number. Unlike a sequential stream, the number a customer gets does not depend on how many numbers other
    customers (or other worlds) took, which keeps counterfactual runs on common random numbers.
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


def _tally(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys drawn (sorted) and how often each was drawn."""
    if keys.size * 16 >= space:
        counts = np.bincount(keys, minlength=space)
        hit = np.flatnonzero(counts.astype(bool))  # far faster on booleans than on integers
        return hit, counts[hit]
    # A few draws: sorting them beats a pass over every world's whole list.
    keys = np.sort(keys)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts], np.diff(np.r_[starts, keys.size])


def _chances(
    model: ChannelModel,
    reach: Reach,
    population: Population,
    rows: slice,
    hit: np.ndarray,
    drawn: np.ndarray,
    day: int,
    key: np.uint64,
    probability: np.ndarray,
) -> np.ndarray:
    """Apply one block of draws in turn: ``drawn[i]`` draws on key ``hit[i]`` (world and reachable position).

    Works on compact arrays of the customers drawn, one round per chance: round j gives the j-th chance to every
    customer drawn at least j times and still open, so each customer's chances come one after another. The working
    arrays shrink to the customers still going after each round.

    Returns
    -------
    ndarray of int64
        Draws accepted (exposures delivered) in each world of the group.
    """
    n = reach.reachable.size
    world = hit // n
    position = hit - world * n
    customers = reach.reachable[position]
    flat = (world + rows.start) * population.size + customers  # into the worlds x customers arrays
    used = reach.used.reshape(-1)
    before = used[hit]
    stages = population.stage.reshape(-1)
    start = stages[flat]
    offset = population.segment[customers].astype(np.intp) * 4
    if model.synergy > 0.0:
        # The customer has now seen this channel too; its boost is fixed for the whole day's delivery.
        seen = population.seen.reshape(-1)[flat] | model.bit
        population.seen.reshape(-1)[flat] = seen
        offset += (np.bitwise_count(seen).astype(np.intp) - 1) * model.table_stride
    stage = start.copy()
    applied = np.empty(hit.size, dtype=np.int64)  # chances taken in this block
    # Working arrays of the customers still going: position in the block, stage, table offset, chances allowed.
    pos = np.arange(hit.size)
    st = start.copy()
    off = offset
    allowed = drawn if model.cap >= _NO_CAP else np.minimum(drawn, model.cap - before)
    chance = 0
    while pos.size:
        chance += 1
        u = uniforms(key, position[pos], before[pos] + chance)
        up = np.flatnonzero(u < probability[off + st])
        st[up] += 1
        going = model.targeted[st] & (allowed > chance)
        stop = np.flatnonzero(~going)
        stopped = pos[stop]
        stage[stopped] = st[stop]
        applied[stopped] = chance
        keep = np.flatnonzero(going)
        pos, st, off, allowed = pos[keep], st[keep], off[keep], allowed[keep]
    moved = np.flatnonzero(stage != start)
    if moved.size:
        converted = moved[stage[moved] == CONVERTED]
        population.converted_day.reshape(-1)[flat[converted]] = day
        stages[flat[moved]] = stage[moved]
        population.moved(world[moved] + rows.start, start[moved], stage[moved])
    used[hit] = before + applied
    worlds = rows.stop - rows.start
    return np.bincount(world, weights=applied, minlength=worlds).astype(np.int64)


def _union(sorted_arrays: list[np.ndarray]) -> np.ndarray:
    """Sorted distinct values of several sorted arrays (a stable sort merges sorted runs in linear time)."""
    merged = np.sort(np.concatenate(sorted_arrays), kind="stable")
    distinct = np.ones(merged.size, dtype=bool)
    distinct[1:] = merged[1:] != merged[:-1]
    return merged[distinct]


def _book(model: ChannelModel, reach: Reach, population: Population, rows: slice, hit: np.ndarray, day: float) -> None:
    """Record the day's touches once per customer touched (all of them came before any conversion)."""
    n = reach.reachable.size
    world = hit // n
    flat = (world + rows.start) * population.size + reach.reachable[hit - world * n]
    exposures = reach.used.reshape(-1)[hit]
    population.channel_touches[model.index].reshape(-1)[flat] += exposures.astype(np.uint32)
    population.touchpoints.reshape(-1)[flat] += 1  # one channel-day, however many exposures it brought
    first = population.first_channel.reshape(-1)
    new = flat[first[flat] < 0]
    first[new] = model.index
    population.first_touch.reshape(-1)[new] = day
    population.last_channel.reshape(-1)[flat] = model.index
    population.last_touch.reshape(-1)[flat] = day
