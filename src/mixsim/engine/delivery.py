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

from mixsim.engine import kernels
from mixsim.engine.journal import Recorder
from mixsim.engine.population import Population
from mixsim.engine.streams import Streams
from mixsim.scenario import STAGES, Channel, Scenario

_NO_CAP = 2**31 - 1
_MIN_OPEN_SHARE = 0.02
_BITS_SHARE = 0.7  # below this estimated open share, a day with many draws marks the open customers first
_MARGIN = 3.0  # draws a world looks at, over its want divided by its estimated open share, before it counts again


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
    after_won: bool = False  # whether a customer may be touched after being won (see kernels.book)
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
        base = np.array([ch.p_aware, ch.p_consider, ch.p_convert, ch.p_repurchase])
        # probability[((m - 1) * segments + segment) * 4 + stage]: the chance that an exposure moves a customer up
        # (a customer: makes it buy again), for a customer who has seen m distinct channels: affinity and synergy
        # applied, capped at 1, and a purchase attempt surviving checkout abandonment.
        synergy = scenario.funnel.synergy
        distinct = np.arange(1, len(scenario.channels) + 1) if synergy > 0.0 else np.ones(1)
        boost = 1.0 + synergy * (distinct - 1.0)
        affinity = np.asarray(ch.affinity, dtype=float)
        kept = 1.0 - scenario.economics.checkout_abandonment
        keep = np.array([1.0, 1.0, kept, kept])
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
            # A cap above what a day's counter holds never binds (no customer takes 2**31 exposures in a day).
            cap=_NO_CAP if ch.frequency_cap is None else min(ch.frequency_cap, _NO_CAP),
            synergy=synergy,
            after_won=scenario.repeats,
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
    used : ndarray of int32, shape (reachable, worlds)
        Exposures each reachable customer took today in each world of the group (zero between days).
    tracked : list of ndarray or None
        Per world, the positions in ``reachable`` of customers whose touches are journaled (sorted).
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
            used=np.zeros((reachable.size, len(recorders)), dtype=np.int32),
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
    day: int,
    spend: np.ndarray,
    streams: Streams,
    recorders: Sequence[Recorder | None],
    demand: float = 1.0,
) -> Day:
    """Deliver one day of ``model``'s channel to every world of a seed group's ``population`` (updated in place).

    Parameters
    ----------
    model : ChannelModel
        The compiled channel.
    reach : Reach
        The channel's reachable customers under the group's seed.
    population : Population
        The group's customers; stages, touches and attribution fields are updated in place.
    day : int
        The simulated day (recorded as the touch and conversion time).
    spend : ndarray
        Planned spend of the day in each world.
    streams : Streams
        The group's random streams.
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
    The day's draws are one sequence, the same in every world: draw ``i`` is a reachable position computed from the
    day's key and ``i`` alone. A world takes them in order until it has its exposures, so a smaller buy takes the
    first draws of a larger one, and two worlds that differ a little (a channel at 95%, another channel off) see
    the same draws; the number deciding a customer's j-th chance of the day depends on (key, customer, j) alone.
    Only when few reachable customers are left open (under 2%) does a world draw among its open ones instead (the
    same law), from a sequence of its own.
    """
    worlds = population.worlds
    out = Day(np.zeros(worlds, dtype=np.int64), np.zeros(worlds), np.zeros(worlds))
    buying = [int(w) for w in np.flatnonzero(spend > 0.0)]
    if not buying:
        return out
    rng = streams.get(f"channel:{model.name}", day)
    u = rng.random()  # stochastic rounding: the same number in every world
    keys = [np.uint64(k) for k in rng.integers(2**63, size=3, dtype=np.uint64)]  # draws, chances, draws among few
    work = _Work(model, reach, population, day, model.table(demand), *keys)
    going = []
    for w in buying:
        exact = float(spend[w]) / model.cost_per_exposure
        work.wanted[w] = int(exact) + int(u < exact - int(exact))
        # The world's stage counts give the share of all customers in a targeted stage: exactly 0 when nobody is.
        work.share[w] = float(population.counts[w, model.targeted].sum()) / population.size
        nobody = reach.reachable.size == 0 or work.share[w] == 0.0
        if not nobody and work.wanted[w] == 0:
            nobody = work.open(w).size == 0
        if nobody:
            out.unspent[w] = float(spend[w])  # nobody reachable can take an exposure
        elif work.wanted[w] == 0:
            out.spend[w] = float(spend[w])  # stochastic rounding bought nothing today
        else:
            going.append(w)
    if not going:
        return out

    journaled = [w for w in going if recorders[w] is not None and _tracks(reach.tracked[w])]
    stage_before = {w: population.stage[reach.reachable[reach.tracked[w]], w] for w in journaled}  # type: ignore[index]
    work.run(going)
    hit = _in_order(work.touched[: work.n_touched[0]], reach.reachable.size)  # booking reads the arrays in turn
    took = {w: reach.used[hit, w] for w in journaled}  # the day's counters end in book
    kernels.book(
        hit,
        reach.reachable,
        reach.used,
        model.index,
        float(day),
        population.channel_touches[model.index],
        population.touchpoints,
        population.first_channel,
        population.first_touch,
        population.last_channel,
        population.last_touch,
        population.seen,
        int(model.bit),
        population.converted_day,
        population.won_by,
        model.after_won,
    )
    for w in journaled:
        recorder, tracked = recorders[w], reach.tracked[w]
        assert recorder is not None and tracked is not None
        mine = took[w] > 0
        positions = hit[mine]  # in order already
        seen = np.isin(positions, tracked)
        positions = positions[seen]
        customers = reach.reachable[positions]
        before = stage_before[w][np.searchsorted(tracked, positions)]
        after = population.stage[customers, w]
        recorder.add(customers, day, model.index, took[w][mine][seen], before, after)
    up = work.moves[:, :3]
    population.counts[:, :3] -= up
    population.counts[:, 1:] += up
    won_back = work.moves[:, 4]
    population.sales[:, 0] += work.moves[:, 2] - won_back
    population.sales[:, 1] += work.moves[:, 3] + won_back
    for w in going:
        planned, wanted, delivered = float(spend[w]), int(work.wanted[w]), int(work.delivered[w])
        unspent = planned if delivered == 0 else planned * (wanted - delivered) / wanted
        out.exposures[w] = delivered
        out.unspent[w] = unspent
        out.spend[w] = planned - unspent
    return out


_NO_POOL = np.empty(0, dtype=np.int32)
_NO_BITS = np.empty((0, 1), dtype=np.uint8)


class _Work:
    """One channel-day in the worlds of a group: what each world wants, has taken and is estimated to find open,
    and the ways of taking draws (shared, marked, or among the few open)."""

    def __init__(
        self,
        model: ChannelModel,
        reach: Reach,
        population: Population,
        day: int,
        table: np.ndarray,
        draw_key: np.uint64,
        chance_key: np.uint64,
        pool_key: np.uint64,
    ) -> None:
        worlds, n = population.worlds, reach.reachable.size
        self.model, self.reach, self.population, self.day, self.table = model, reach, population, day, table
        self.draw_key, self.chance_key, self.pool_key = draw_key, chance_key, pool_key
        self.n = n
        self.wanted = np.zeros(worlds, dtype=np.int64)
        self.delivered = np.zeros(worlds, dtype=np.int64)
        self.share = np.zeros(worlds)  # estimated share of the reachable customers still open
        self.left = np.zeros(worlds, dtype=np.int64)  # open customers of a marked world
        self.moves = np.zeros((worlds, 5), dtype=np.int64)  # stage moves, repeat purchases, won back
        self.touched = np.empty(0, dtype=np.int32)  # positions touched today in some world
        self.n_touched = np.zeros(1, dtype=np.int64)

    def open(self, w: int) -> np.ndarray:
        """Positions in the reachable list of world ``w``'s customers who can take an exposure now (a pass over
        the whole list)."""
        model, reach = self.model, self.reach
        return kernels.open_positions(reach.reachable, self.population.stage, reach.used, w, model.targeted, model.cap)

    def take(
        self,
        members: list[int],
        start: int,
        limits: list[int],
        pool: np.ndarray = _NO_POOL,
        key: np.uint64 | None = None,
        bits: np.ndarray = _NO_BITS,
        shift: int = 3,
    ) -> np.ndarray:
        """The worlds ``members`` take draws from ``start`` until each has its exposures or reaches its limit;
        returns where each stopped (see :func:`mixsim.engine.kernels.take`)."""
        model, reach, population = self.model, self.reach, self.population
        index = np.array(members, dtype=np.int64)
        accepted = self.delivered[index].copy()
        stopped = np.zeros(index.size, dtype=np.int64)
        kernels.take(
            start,
            index,
            np.array(limits, dtype=np.int64),
            self.wanted[index],
            accepted,
            stopped,
            pool,
            reach.reachable,
            self.draw_key if key is None else key,
            self.chance_key,
            population.stage,
            population.segment,
            population.seen,
            reach.used,
            self.table,
            model.table_stride,
            model.targeted,
            model.cap,
            int(model.bit),
            model.synergy > 0.0,
            population.converted_day,
            population.won_by,
            model.index,
            population.purchases,
            population.last_purchase,
            float(self.day),
            self.moves,
            self.touched,
            self.n_touched,
            bits,
            shift,
            self.left,
        )
        self.delivered[index] = accepted
        return stopped

    def run(self, going: list[int]) -> None:
        """Deliver the day's exposures in the worlds ``going`` (each wants some, and someone is open in each)."""
        self.touched = np.empty(min(self.n, int(self.wanted.sum())), dtype=np.int32)
        going = self.marked(going)
        start = dict.fromkeys(going, 0)
        recount: set[int] = set()  # worlds that looked at twice their list in a stretch: their open ones are counted
        while going:
            self.stretches([w for w in going if self.share[w] >= _MIN_OPEN_SHARE], start, recount)
            for w in going:
                if self.delivered[w] < self.wanted[w] and (self.share[w] < _MIN_OPEN_SHARE or w in recount):
                    recount.discard(w)
                    self.count_open(w)
            going = [w for w in going if self.delivered[w] < self.wanted[w] and self.share[w] > 0.0]

    def marked(self, going: list[int]) -> list[int]:
        """Deliver in the worlds whose draws would mostly fall on customers who cannot take them; returns the
        worlds still going.

        One pass over the list marks, in a bit per world, who can take an exposure (an exact count of them too),
        and each draw then costs one small load for every world. Whether a world is marked depends on its own state
        alone, like everything it does.
        """
        n, share, wanted = self.n, self.share, self.wanted
        marked = [w for w in going if share[w] < _BITS_SHARE and int(wanted[w]) > share[w] * n / 8]
        if not marked:
            return going
        worlds = self.population.worlds
        shift = 3 if worlds <= 8 else 4 if worlds <= 16 else 5 if worlds <= 32 else 6
        bits = np.zeros((n, -(-worlds >> shift)), dtype=(np.uint8, np.uint16, np.uint32, np.uint64)[shift - 3])
        self.left[:] = kernels.open_bits(self.reach.reachable, self.population.stage, self.model.targeted, bits, shift)
        for w in marked:
            share[w] = self.left[w] / n
        enough = [w for w in marked if share[w] >= _MIN_OPEN_SHARE]
        if enough:
            self.take(enough, 0, [kernels.ENDLESS] * len(enough), bits=bits, shift=shift)
        for w in marked:
            if w not in enough:
                share[w] = 0.0  # few open: drawn among them
        return [w for w in going if w not in enough and self.delivered[w] < wanted[w]]

    def stretches(self, worlds: list[int], start: dict[int, int], recount: set[int]) -> None:
        """One stretch of the shared draws for each of ``worlds``, from where it stopped.

        A stretch is as many draws as the world's want over its open share (with a margin), at most twice the list
        (past that, counting the open customers costs less than looking); a world that ends one without its
        exposures takes the share of open customers it saw as its new estimate.
        """
        n, share = self.n, self.share
        by_start: dict[int, list[int]] = {}
        for w in worlds:
            by_start.setdefault(start[w], []).append(w)
        for first, members in by_start.items():
            before = self.delivered[members].copy()
            stretch = [
                min(int(int(self.wanted[w] - self.delivered[w]) / share[w] * _MARGIN), 2 * n) + 64 for w in members
            ]
            stops = self.take(members, first, [first + k for k in stretch])
            for k, w in enumerate(members):
                start[w] = int(stops[k])
                if self.delivered[w] < self.wanted[w]:
                    share[w] = (self.delivered[w] - before[k]) / max(start[w] - first, 1)
                    if stretch[k] > 2 * n:
                        recount.add(w)

    def count_open(self, w: int) -> None:
        """Count world ``w``'s open customers; when they are few, draw among them, from a sequence of the world's
        own, as many draws as it still wants, and count them again, until it has its exposures or none is open."""
        open_ = self.open(w)
        self.share[w] = open_.size / self.n
        if open_.size == 0 or self.share[w] >= _MIN_OPEN_SHARE:
            return
        pools = 0
        while self.delivered[w] < self.wanted[w] and open_.size:
            pools += 1
            key = np.uint64(kernels.derived_key(self.pool_key, pools))
            self.take([w], 0, [int(self.wanted[w] - self.delivered[w])], open_, key)
            open_ = self.open(w)
        self.share[w] = open_.size / self.n


def _in_order(positions: np.ndarray, n: int) -> np.ndarray:
    """``positions`` (distinct, below ``n``) sorted: by marking them when they are many, else by sorting."""
    if positions.size * 32 < n:
        return np.sort(positions)
    marked = np.zeros(n, dtype=bool)
    marked[positions] = True
    return np.flatnonzero(marked).astype(np.int32)


def _tracks(tracked: np.ndarray | None) -> bool:
    return tracked is not None and tracked.size > 0
