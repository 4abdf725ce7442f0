"""The touch journal: every contact between a channel and a tracked customer, for journey and path tables.

A *touch* is one channel reaching one customer on one day; it carries how many exposures the customer took that
day from the channel and the customer's stage just before and just after them. Only tracked customers (a random
sample of the population, or all of it) are journaled, so memory grows with the sample, not the population.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

TOUCH_DTYPE = np.dtype(
    [
        ("customer", np.int32),
        ("day", np.int32),
        ("channel", np.int16),
        ("exposures", np.uint32),
        ("stage_before", np.int8),
        ("stage_after", np.int8),
    ]
)
"""One row per touch: customer index, day, channel index (scenario order), exposures, stage before and after."""

_CUSTOMER = 3  # the stage of a customer (converted)


class Recorder:
    """Collects touches as the channels deliver; :meth:`finish` turns them into a :class:`Journal`."""

    def __init__(self, tracked: np.ndarray, share: float) -> None:
        self.tracked = tracked  # sorted customer indices
        self.share = share
        self._chunks: list[np.ndarray] = []

    def positions(self, reachable: np.ndarray) -> np.ndarray:
        """Positions in a channel's reachable list that hold tracked customers."""
        return np.flatnonzero(np.isin(reachable, self.tracked, assume_unique=True))

    def add(
        self,
        customers: np.ndarray,
        day: int,
        channel: int,
        exposures: np.ndarray,
        before: np.ndarray,
        after: np.ndarray,
    ) -> None:
        """Record one channel-day's touches on tracked customers."""
        if customers.size == 0:
            return
        chunk = np.empty(customers.size, dtype=TOUCH_DTYPE)
        chunk["customer"] = customers
        chunk["day"] = day
        chunk["channel"] = channel
        chunk["exposures"] = exposures
        chunk["stage_before"] = before
        chunk["stage_after"] = after
        self._chunks.append(chunk)

    def finish(self, segment: np.ndarray, stage: np.ndarray, converted_day: np.ndarray) -> Journal:
        """The journal, touches sorted by customer, then day, then channel (the order they happened in)."""
        touches = np.concatenate(self._chunks) if self._chunks else np.empty(0, dtype=TOUCH_DTYPE)
        touches = touches[np.lexsort((touches["channel"], touches["day"], touches["customer"]))]
        ids = self.tracked
        return Journal(
            touches=touches,
            customers=ids,
            segment=segment[ids].copy(),
            stage=stage[ids].copy(),
            converted_day=converted_day[ids].copy(),
            share=self.share,
        )


@dataclass(frozen=True)
class Journal:
    """The touches of one run's tracked customers, and where those customers ended.

    Attributes
    ----------
    touches : structured ndarray of :data:`TOUCH_DTYPE`
        Sorted by customer, day and channel: within a day, channels deliver in scenario order.
    customers : ndarray of int32
        The tracked customers (sorted); the population index they have in the run.
    segment, stage : ndarray of int8
        Their segment and final stage.
    converted_day : ndarray of float32
        Day each was won (its first purchase), -1 if never; a customer who lapsed keeps it.
    share : float
        The share of the population asked to be tracked (each customer was tracked with this probability).
    """

    touches: np.ndarray
    customers: np.ndarray
    segment: np.ndarray
    stage: np.ndarray
    converted_day: np.ndarray
    share: float

    @property
    def won(self) -> np.ndarray:
        """Per tracked customer: whether it was won (bought at least once). Without lapse, the same as ending in
        stage converted; with it, a lapsed customer was won too."""
        return self.converted_day >= 0

    def before_won(self) -> Journal:
        """The journal with only the touches that came before each customer was won: those of customers never won,
        those on earlier days, and on the day of winning those that found the customer not yet a customer (the
        engine's rule for touchpoints and attribution, ``kernels.book``). A touch after the win (a channel that
        targets customers, a channel reaching a lapsed customer) is left out; without any, this journal itself."""
        after = self.after_won()
        if not after.any():
            return self
        return dataclasses.replace(self, touches=self.touches[~after])

    def after_won(self) -> np.ndarray:
        """Per touch: whether it came after its customer was won (see :meth:`before_won`)."""
        t = self.touches
        won_day = self.converted_day[np.searchsorted(self.customers, t["customer"])]
        return (won_day >= 0) & ((t["day"] > won_day) | ((t["day"] == won_day) & (t["stage_before"] == _CUSTOMER)))


def sample(population: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """The customers to track: each with probability ``share`` (everyone when ``share`` is 1), sorted."""
    if share >= 1.0:
        return np.arange(population, dtype=np.int32)
    return np.flatnonzero(rng.random(population) < share).astype(np.int32)
