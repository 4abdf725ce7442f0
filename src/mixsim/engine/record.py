"""What a run leaves behind: the :class:`RunRecord`, its touchpoint and days-to-conversion bins, and its scaling to
a market larger than the simulated population."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from mixsim.engine import journal

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
    daily_sales: np.ndarray  # (T, 2) customers won and repeat purchases so far, at the end of each day
    retention: np.ndarray  # (2, ceil(T / 7)) customers won at least k weeks before the end; those still active then
    repeat_stats: np.ndarray  # (3,) customers who bought again, days between their first and latest purchase, gaps
    journal: journal.Journal | None = None  # touches of the tracked customers, when asked for

    @property
    def conversions(self) -> float:
        """Customers won by the end of the horizon: those whose first purchase fell in it (a whole number unless the
        record is scaled to a market). Without repeat purchases and lapse, the customers converted at the end."""
        return self.daily_sales[-1, 0].item()

    @property
    def repeat_purchases(self) -> float:
        """Purchases after a customer's first in the horizon (a lapsed customer won again buys again too)."""
        return self.daily_sales[-1, 1].item()

    @property
    def purchases(self) -> float:
        """Every purchase: first and repeat."""
        return self.conversions + self.repeat_purchases

    def revenue(self, order_value: float, repeat_order_value: float) -> float:
        """Revenue of every purchase: first orders at ``order_value``, repeat ones at ``repeat_order_value``."""
        return self.conversions * order_value + self.repeat_purchases * repeat_order_value


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
    "daily_sales",
    "retention",
    "repeat_stats",
)
"""The fields of a :class:`RunRecord` that count customers or exposures, or sum money: all of them but the
journal."""


def in_market(record: RunRecord, weight: float) -> RunRecord:
    """``record`` with every field of :data:`MARKET_FIELDS` multiplied by ``weight``, the customers each simulated
    customer stands for."""
    return dataclasses.replace(record, **{name: getattr(record, name) * weight for name in MARKET_FIELDS})


def make_record(
    horizon: int,
    stage: np.ndarray,
    channel_touches: np.ndarray,
    touchpoints: np.ndarray,
    first_channel: np.ndarray,
    last_channel: np.ndarray,
    first_touch: np.ndarray,
    converted_day: np.ndarray,
    daily_stages: np.ndarray,
    daily_spend: np.ndarray,
    daily_exposures: np.ndarray,
    unspent: np.ndarray,
    seen: np.ndarray,
    daily_sales: np.ndarray,
    purchases: np.ndarray,
    last_purchase: np.ndarray,
    lapsed_day: np.ndarray,
) -> RunRecord:
    """One world's record from its customers' final arrays (``channel_touches``: channels x customers, touches
    before each customer was won; ``seen``: the bits of the channels that touched each) and its daily tallies
    (``purchases``, ``last_purchase`` and ``lapsed_day`` are empty without repeat purchases and lapse)."""
    n_channels = channel_touches.shape[0]
    reach = np.array([np.count_nonzero(seen & seen.dtype.type(1 << k)) for k in range(n_channels)], dtype=np.int64)

    converted = np.flatnonzero(converted_day >= 0)  # every customer won, whether still a customer or lapsed
    paths = channel_touches[:, converted].T.astype(np.float64)  # (converted, channels)
    touches = paths.sum(axis=1)
    touched = touches > 0
    first = np.bincount(first_channel[converted[touched]], minlength=n_channels).astype(float)
    last = np.bincount(last_channel[converted[touched]], minlength=n_channels).astype(float)
    linear = (paths[touched] / touches[touched, None]).sum(axis=0)

    # Touchpoints are channel-days, not exposures: three TV spots on Monday and a search on Tuesday make two.
    touch_counts = np.bincount(touch_bins(touchpoints[converted]), minlength=TOUCH_BINS)
    n_day_bins = -(-horizon // DAY_BIN_WIDTH)
    buyers = converted[touched]
    days = (converted_day[buyers] - first_touch[buyers]).astype(np.int64)
    days_to_conversion = np.bincount(days // DAY_BIN_WIDTH, minlength=n_day_bins)[:n_day_bins]
    retention, repeat_stats = _retention(horizon, converted_day[converted], purchases, last_purchase, lapsed_day)
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
        touchpoints=touch_counts,
        days_to_conversion=days_to_conversion,
        daily_sales=daily_sales,
        retention=retention,
        repeat_stats=repeat_stats,
    )


def _retention(
    horizon: int, won_day: np.ndarray, purchases: np.ndarray, last_purchase: np.ndarray, lapsed_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The retention counts and repeat figures of a world (``won_day``: the day each customer won was won).

    ``retention[0, k]``: customers won at least ``7 k`` days before the horizon's last day; ``retention[1, k]``:
    those of them who had not lapsed ``7 k`` days after being won. ``repeat_stats``: customers with two purchases
    or more, the days from their first purchase to their latest, and their gaps between purchases (purchases - 1).
    """
    weeks = -(-horizon // DAY_BIN_WIDTH)
    # Week k is seen for customers won by day horizon - 1 - 7 k: counted in the weeks up to their last one seen.
    seen_weeks = np.minimum((horizon - 1 - won_day.astype(np.int64)) // DAY_BIN_WIDTH + 1, weeks)
    base = np.bincount(seen_weeks, minlength=weeks + 1)[::-1].cumsum()[::-1][1:]
    retention = np.zeros((2, weeks), dtype=np.int64)
    retention[0] = base
    retention[1] = base
    stats = np.zeros(3)
    if purchases.size:
        won = np.flatnonzero(purchases > 0)
        lapsed = lapsed_day[won].astype(np.int64)
        first = won_day.astype(np.int64)
        gone = lapsed >= 0
        # A customer who lapsed d days after being won is active at week k while 7 k < d.
        lapsed_weeks = np.minimum((lapsed[gone] - first[gone] - 1) // DAY_BIN_WIDTH + 1, seen_weeks[gone])
        lost = np.bincount(seen_weeks[gone], minlength=weeks + 1) - np.bincount(lapsed_weeks, minlength=weeks + 1)
        retention[1] = base - lost[::-1].cumsum()[::-1][1:]
        again = won[purchases[won] > 1]
        stats[:] = (
            again.size,
            float(np.sum(last_purchase[again] - won_day[np.searchsorted(won, again)])),
            float(np.sum(purchases[again].astype(np.int64) - 1)),
        )
    return retention, stats
