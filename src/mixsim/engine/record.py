"""What a run leaves behind: the :class:`RunRecord`, its touchpoint and days-to-conversion bins, and its scaling to
a market larger than the simulated population."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from mixsim.engine import journal
from mixsim.engine.population import CONVERTED

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
    journal: journal.Journal | None = None  # touches of the tracked customers, when asked for

    @property
    def conversions(self) -> float:
        """Customers converted by the end of the horizon (a whole number unless the record is scaled to a market)."""
        return self.daily_stages[-1, CONVERTED].item()


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
) -> RunRecord:
    """One world's record from its customers' final arrays (``channel_touches``: channels x customers) and its
    daily tallies."""
    n_channels = channel_touches.shape[0]
    reach = np.count_nonzero(channel_touches, axis=1).astype(np.int64)

    converted = np.flatnonzero(stage == CONVERTED)
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
    )
