"""The synthetic population: one compact numpy array per customer attribute, with a world axis.

A batch simulates several worlds (the same customers under different plans) at once: every attribute is an array
of customers x worlds, so that a customer's state in every world sits in one place in memory, and world ``w``
holds exactly what a run of that world alone holds. Nothing here is a Python object per customer. A million
customers with eight channels take about 60 MB per world, plus the channels' lists of reachable customers (4 bytes
per reachable customer and channel, and 4 more per world for the day's exposure counters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mixsim.scenario import Scenario

UNAWARE, AWARE, CONSIDERING, CONVERTED = 0, 1, 2, 3
NEVER = np.float32(-1.0)
"""Day stored for "never happened" (first touch, last touch, conversion)."""


def segment_sizes(population: int, shares: tuple[float, ...]) -> np.ndarray:
    """Split ``population`` by ``shares`` into integers that add up exactly (largest remainder)."""
    raw = np.asarray(shares, dtype=float) * population
    sizes = np.floor(raw).astype(np.int64)
    short = population - int(sizes.sum())
    if short:
        # Ties go to the earlier segment, so the split is deterministic.
        order = np.argsort(-(raw - sizes), kind="stable")
        sizes[order[:short]] += 1
    return sizes


def _mask_dtype(n_channels: int) -> type[np.unsignedinteger]:
    """The smallest unsigned integer with a bit per channel (smaller masks gather faster)."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_channels <= np.iinfo(dtype).bits:
            return dtype
    return np.uint64


@dataclass
class Population:
    """Per-customer state of the worlds of a seed group, updated in place by the channel and organic processes.

    Arrays are customers x worlds unless said otherwise; customers are laid out segment by segment.

    Attributes
    ----------
    stage : ndarray of int8
        0 unaware, 1 aware, 2 considering, 3 converted.
    segment : ndarray of int8, shape (customers,)
        Index into the scenario's segments (the same in every world).
    seen : ndarray of unsigned integers
        Bit ``k`` set once channel ``k`` has touched the customer: its reach, and the channels seen for synergy.
    channel_touches : ndarray of uint32, shape (channels, customers, worlds)
        Exposures received before the customer was won, per channel (a touch after the win counts in ``seen`` and
        ``last_touch`` only).
    touchpoints : ndarray of uint32
        Touchpoints before converting: distinct channel-days with at least one exposure (a channel delivers
        once a day, so each delivery that reaches the customer adds one, however many exposures it brought).
    first_channel, last_channel : ndarray of int8
        Channel of the first and latest touch before converting, -1 if none.
    first_touch, last_touch, converted_day : ndarray of float32
        Days of those events, -1 if none.
    counts : ndarray of int64, shape (worlds, 4)
        Customers per stage in each world, kept up to date by every move (so no day counts the whole array).
    sales : ndarray of int64, shape (worlds, 2)
        Customers won so far (their first purchase) and repeat purchases so far, in each world.
    purchases : ndarray of uint32
        Purchases of each customer so far (kept only when customers buy again or lapse: else it has no rows, and a
        customer who converted bought once).
    last_purchase, lapsed_day : ndarray of float32
        Day of each customer's latest purchase and first lapse, -1 if none (rows only when ``purchases`` has them).
    won_by : ndarray of int8
        The channel whose exposure won each customer, -1 for none or an organic force (rows only when ``purchases``
        has them): a later channel's touch on the day a customer is won is not one of the touches that won it.

    ``converted_day`` is the day a customer was won (its first purchase): a customer who lapses and buys again keeps
    it.
    """

    stage: np.ndarray
    segment: np.ndarray
    seen: np.ndarray
    channel_touches: np.ndarray
    touchpoints: np.ndarray
    first_channel: np.ndarray
    last_channel: np.ndarray
    first_touch: np.ndarray
    last_touch: np.ndarray
    converted_day: np.ndarray
    counts: np.ndarray
    sales: np.ndarray
    purchases: np.ndarray
    last_purchase: np.ndarray
    lapsed_day: np.ndarray
    won_by: np.ndarray

    @classmethod
    def create(cls, scenario: Scenario, worlds: int = 1) -> Population:
        """Everyone unaware and untouched in each of ``worlds`` worlds, laid out segment by segment."""
        n = scenario.population
        sizes = segment_sizes(n, tuple(s.share for s in scenario.segments))
        shape = (n, worlds)
        counts = np.zeros((worlds, 4), dtype=np.int64)
        counts[:, UNAWARE] = n
        rows = n if scenario.repeats else 0
        return cls(
            stage=np.zeros(shape, dtype=np.int8),
            segment=np.repeat(np.arange(len(sizes), dtype=np.int8), sizes),
            seen=np.zeros(shape, dtype=_mask_dtype(len(scenario.channels))),
            channel_touches=np.zeros((len(scenario.channels), *shape), dtype=np.uint32),
            touchpoints=np.zeros(shape, dtype=np.uint32),
            first_channel=np.full(shape, -1, dtype=np.int8),
            last_channel=np.full(shape, -1, dtype=np.int8),
            first_touch=np.full(shape, NEVER, dtype=np.float32),
            last_touch=np.full(shape, NEVER, dtype=np.float32),
            converted_day=np.full(shape, NEVER, dtype=np.float32),
            counts=counts,
            sales=np.zeros((worlds, 2), dtype=np.int64),
            purchases=np.zeros((rows, worlds), dtype=np.uint32),
            last_purchase=np.full((rows, worlds), NEVER, dtype=np.float32),
            lapsed_day=np.full((rows, worlds), NEVER, dtype=np.float32),
            won_by=np.full((rows, worlds), -1, dtype=np.int8),
        )

    @property
    def size(self) -> int:
        """Number of customers (in each world)."""
        return int(self.segment.size)

    @property
    def worlds(self) -> int:
        """Number of worlds."""
        return int(self.stage.shape[1])

    def bought(self, customers: np.ndarray, world: np.ndarray, day: float) -> None:
        """Record a purchase by customer ``customers[k]`` of world ``world[k]`` on ``day`` (each pair once): its
        first (the customer is won) or a repeat one."""
        if world.size == 0:
            return
        first = self.converted_day[customers, world] < 0
        self.converted_day[customers[first], world[first]] = day
        worlds = self.worlds
        self.sales[:, 0] += np.bincount(world[first], minlength=worlds)
        self.sales[:, 1] += np.bincount(world[~first], minlength=worlds)
        if self.purchases.shape[0]:
            self.purchases[customers, world] += 1
            self.last_purchase[customers, world] = day

    def moved(self, world: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """Count customers of ``world`` (one entry per customer moved) going from stage ``before`` to ``after``."""
        if world.size == 0:
            return
        n = self.counts.size
        flat = self.counts.reshape(-1)
        key = world.astype(np.intp) * 4
        flat -= np.bincount(key + before, minlength=n)
        flat += np.bincount(key + after, minlength=n)
