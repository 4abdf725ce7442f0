"""Customer journeys: the touches of tracked customers as event tables and as path tables.

A *touch* (a *touchpoint*) is one channel reaching one customer on one day, however many exposures that day
brought: a customer who saw TV three times on Monday and searched once on Tuesday has two touchpoints and four
exposures. That is the count marketers mean when they say a buyer "had several touchpoints" (a day of an ad
campaign, a search, an email), and it keeps an always-on channel's frequency from inflating it; the exposures
(impressions) are kept beside it. A customer's
*path* is the sequence of channels of its touches, in the order they happened (within a day, channels deliver in
scenario order). Path tables follow the ChannelAttribution format: one row per distinct path, with the customers
who converted after it (``total_conversions``), their revenue (``total_conversion_value``) and the customers who
did not convert (``total_null``).

When customers buy again or lapse (``Scenario.repeats``), *converted* means *won*: the customer bought at least
once, whether it is still a customer at the end or lapsed since (its ``converted_day`` is the day it was won). A
customer's path is made of the touches up to its win: those of the days before it, and those of the day itself
that found it not yet a customer. Touches after the win (a channel that targets customers, such as a CRM email;
a lapsed customer reached again, even when it is won back) are in the touch table, marked ``after_won``, and in
no path, touchpoint count or attribution, as the simulation's own touchpoints and attribution leave them out
(:meth:`~mixsim.engine.journal.Journal.before_won`). Without repeat purchases and lapse no touch comes after a
win and every table is what it was before them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim.engine.journal import Journal
from mixsim.engine.run import TOUCH_BINS, touch_bins, touch_labels
from mixsim.errors import InputError
from mixsim.scenario import STAGES, Scenario
from mixsim.tables import check_table, json_ready, json_records

__all__ = ["JOURNEY_TABLES", "PATH_COLUMNS", "PATH_SEPARATOR", "Journeys"]

PATH_SEPARATOR = " > "
"""Between the channels of a path, as ChannelAttribution writes them."""

PATH_COLUMNS: tuple[str, ...] = ("path", "total_conversions", "total_conversion_value", "total_null")
"""Columns of a path table, in order (``path_days`` may follow)."""

JOURNEY_TABLES: tuple[str, ...] = ("paths", "touches", "customers", "touchpoints")
"""Tables :meth:`Journeys.to_frame` can return."""


@dataclass(frozen=True)
class Journeys:
    """The journaled touches of one simulation, one :class:`~mixsim.engine.journal.Journal` per replication.

    Get one from :meth:`mixsim.SimulationResult.journeys` after ``simulate(..., journeys=share)``.

    Attributes
    ----------
    scenario : Scenario
        The scenario simulated.
    journals : tuple of Journal
        One per replication.
    seed : int or None
        Root seed of the simulation (None for journals put together by hand).
    version : str
        The mixsim version that simulated them.
    """

    scenario: Scenario
    journals: tuple[Journal, ...] = field(repr=False)
    seed: int | None = None
    version: str = ""

    def _repr_html_(self) -> str:
        touches = sum(int(_touchpoints(j)[0].sum()) for j in self.journals)
        exposures = sum(int(j.touches["exposures"].sum(dtype=np.int64)) for j in self.journals)
        seed = "" if self.seed is None else f" (seed {self.seed})"
        return summary_html(
            f"Journeys: {self.scenario.name}",
            [
                f"{int(self.tracked().sum()):,} customers followed ({self.share:.0%} sample) over "
                f"{self.replications} replication(s){seed}, {touches:,} touches (a touch: one channel, one "
                f"customer, one day) bringing {exposures:,} exposures"
            ],
            [("Most frequent paths, consecutive repeats merged", self.paths(collapse=True))],
        )

    @property
    def replications(self) -> int:
        """Number of replications journaled."""
        return len(self.journals)

    @property
    def share(self) -> float:
        """Share of the population each customer was tracked with."""
        return self.journals[0].share if self.journals else 0.0

    def tracked(self) -> np.ndarray:
        """Customers tracked in each replication, shape (replications,)."""
        return np.array([j.customers.size for j in self.journals], dtype=np.int64)

    def scale(self) -> np.ndarray:
        """Per replication, the customers the population stands for (``scenario.represents``, the population
        itself by default) / customers tracked: multiply sample counts by it to estimate the market's totals."""
        tracked = self.tracked()
        out = np.full(tracked.shape, np.nan)
        np.divide(self.scenario.represents, tracked, out=out, where=tracked > 0)
        return out

    def _replications(self, replication: int | None) -> list[int]:
        if replication is None:
            return list(range(self.replications))
        if not 0 <= replication < self.replications:
            raise InputError(f"replication must be in [0, {self.replications}) (got {replication})")
        return [replication]

    def to_frame(self, table: str = "paths") -> pd.DataFrame:
        """One of the journey tables, over every replication.

        Parameters
        ----------
        table : {"paths", "touches", "customers", "touchpoints"}
            ``paths``: the path table, replications pooled (see :meth:`paths`); ``touches``: one row per touch
            (:meth:`touches`); ``customers``: one row per tracked customer (:meth:`customers`); ``touchpoints``:
            converted customers by touchpoints, replications pooled (:meth:`touchpoints`).

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        InputError
            If ``table`` is not one of :data:`JOURNEY_TABLES`.
        """
        check_table(table, JOURNEY_TABLES)
        tables = {
            "paths": self.paths,
            "touches": self.touches,
            "customers": self.customers,
            "touchpoints": self.touchpoints,
        }
        return tables[table]()

    def to_json(self, indent: int | None = 2) -> str:
        """One JSON object: ``scenario``, ``source``, ``seed``, ``version``, ``replications``, ``share``, per
        replication ``tracked`` customers, ``touches`` (touchpoints: channel-days) and ``exposures`` (impressions)
        of every touch in the touch table (those after a customer was won too), and ``untouched_conversions``;
        ``multi_touch_share`` (:meth:`multi_touch_share`, null when no one converted), ``touchpoints``
        (:meth:`touchpoints` as a list of records) and ``paths``: the path table (replications pooled) as a list of
        records. The touch and customer tables are left out: they have a row per touch and per customer (see
        :meth:`to_frame`)."""
        data = {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seed": self.seed,
            "version": self.version,
            "replications": self.replications,
            "share": self.share,
            "tracked": self.tracked().tolist(),
            "touches": [int(_touchpoints(j)[0].sum()) for j in self.journals],
            "exposures": [int(j.touches["exposures"].sum(dtype=np.int64)) for j in self.journals],
            "untouched_conversions": self.untouched_conversions().tolist(),
            "multi_touch_share": json_ready(self.multi_touch_share()),
            "touchpoints": json_records(self.touchpoints()),
            "paths": json_records(self.paths()),
        }
        return json.dumps(data, indent=indent, allow_nan=False)

    def touches(self, replication: int | None = None) -> pd.DataFrame:
        """The per-touch event table.

        Parameters
        ----------
        replication : int, optional
            One replication; default all of them, stacked.

        Returns
        -------
        pandas.DataFrame
            Columns ``replication``, ``customer`` (index in the run's population), ``segment``, ``day``,
            ``channel``, ``exposures`` (that day, from that channel), ``stage_before`` and ``stage_after`` (stage
            names around the channel's exposures), and when customers buy again or lapse ``after_won``: the touch
            came after its customer was won, so it is in no path and no attribution (a channel that targets
            customers, a lapsed customer reached again). Rows in the order the touches happened, per customer.
        """
        frames = []
        for r in self._replications(replication):
            j = self.journals[r]
            t = j.touches
            where = np.searchsorted(j.customers, t["customer"])
            frames.append(
                pd.DataFrame(
                    {
                        "replication": np.full(t.size, r, dtype=np.int32),
                        "customer": t["customer"],
                        "segment": _labels(j.segment[where], self.scenario.segment_names),
                        "day": t["day"],
                        "channel": _labels(t["channel"], self.scenario.channel_names),
                        "exposures": t["exposures"].astype(np.int64),
                        "stage_before": _labels(t["stage_before"], STAGES),
                        "stage_after": _labels(t["stage_after"], STAGES),
                        **({"after_won": j.after_won()} if self.scenario.repeats else {}),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def customers(self, replication: int | None = None) -> pd.DataFrame:
        """One row per tracked customer: ``replication``, ``customer``, ``segment``, ``touches`` (touchpoints:
        distinct channel-days with an exposure) and ``exposures`` (impressions) before the customer was won (all of
        them for a customer never won), ``converted`` (won: bought at least once, whether still a customer or
        lapsed since) and ``converted_day`` (the day it was won; NaN when it was not). Touches after a customer was
        won (a channel that targets customers, a lapsed customer reached again) are in :meth:`touches` only."""
        frames = []
        for r in self._replications(replication):
            j = self.journals[r].before_won()
            counts, exposures = _touchpoints(j)
            converted = j.won
            frames.append(
                pd.DataFrame(
                    {
                        "replication": np.full(j.customers.size, r, dtype=np.int32),
                        "customer": j.customers,
                        "segment": _labels(j.segment, self.scenario.segment_names),
                        "touches": counts,
                        "exposures": exposures,
                        "converted": converted,
                        "converted_day": np.where(converted, j.converted_day, np.nan),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def touchpoints(self, replication: int | None = None) -> pd.DataFrame:
        """Converted customers (won, see :meth:`customers`) by the touchpoints they had before being won, with
        their exposures.

        A touchpoint is a distinct channel-day with at least one exposure (repeated exposures from one channel on
        one day count once; two channels on one day count twice). The bins are the simulation's own
        (:data:`mixsim.engine.run.TOUCH_EDGES`: 0, 1, 2, 3-4, 5-9, 10-19, 20-29, 30-49, 50-74, 75-99, 100+),
        so with every customer followed the ``buyers`` column is the run's ``touchpoints`` table.

        Parameters
        ----------
        replication : int, optional
            One replication; default all of them pooled.

        Returns
        -------
        pandas.DataFrame
            One row per bin: ``touchpoints`` (the bin's label), ``buyers`` (converted tracked customers),
            ``share`` (of the converted tracked customers; NaN when none converted) and ``exposures`` (the mean
            exposures, impressions, of those buyers before converting; NaN for an empty bin).
        """
        buyers = np.zeros(TOUCH_BINS, dtype=np.int64)
        exposures = np.zeros(TOUCH_BINS)
        for r in self._replications(replication):
            j = self.journals[r].before_won()
            counts, seen = _touchpoints(j)
            converted = j.won
            bins = touch_bins(counts[converted])
            buyers += np.bincount(bins, minlength=TOUCH_BINS)
            exposures += np.bincount(bins, weights=seen[converted], minlength=TOUCH_BINS)
        total = buyers.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.DataFrame(
                {
                    "touchpoints": touch_labels(),
                    "buyers": buyers,
                    "share": buyers / total if total else np.full(TOUCH_BINS, np.nan),
                    "exposures": np.where(buyers > 0, exposures / np.maximum(buyers, 1), np.nan),
                }
            )

    def multi_touch_share(self, replication: int | None = None, at_least: int = 2) -> float:
        """Share of the converted tracked customers with ``at_least`` touchpoints (distinct channel-days with an
        exposure) before converting; NaN when no one converted. Customers who converted untouched count in the
        denominator.

        Parameters
        ----------
        replication : int, optional
            One replication; default all of them pooled.
        at_least : int, default=2
            The least number of touchpoints counted.
        """
        many = buyers = 0
        for r in self._replications(replication):
            j = self.journals[r].before_won()
            counts = _touchpoints(j)[0][j.won]
            many += int(np.count_nonzero(counts >= at_least))
            buyers += counts.size
        return many / buyers if buyers else float("nan")

    def paths(self, replication: int | None = None, days: bool = False, collapse: bool = False) -> pd.DataFrame:
        """The path table, in the ChannelAttribution format.

        Parameters
        ----------
        replication : int, optional
            One replication; default all of them pooled (counts added up).
        days : bool, default=False
            Add ``path_days``: for each touch, the days from it to the path's end (the conversion, or the last
            day of the horizon for a path that did not convert), joined like the path. Time-decay attribution
            needs it; paths then only merge when their timing is the same too.
        collapse : bool, default=False
            Merge consecutive touches by the same channel into one (``a > a > b`` becomes ``a > b``), keeping the
            latest of them for ``path_days``. Paths of always-on channels are long; this keeps the table readable
            and leaves first-order Markov removal effects unchanged.

        Returns
        -------
        pandas.DataFrame
            Columns ``path`` (channels joined by ``" > "``), ``total_conversions``, ``total_conversion_value``,
            ``total_null`` (and ``path_days``), one row per distinct path, most frequent first. Customers who
            were never touched are not in it (converted or not); those are :meth:`untouched_conversions`.
            Counts are of tracked customers: multiply by :meth:`scale` to estimate the whole population.

        Notes
        -----
        A path is a customer's touches up to the day it was won (see the module's notes): touches after the win
        are in :meth:`touches` only. ``total_conversions`` counts customers won, lapsed since or not, and
        ``total_conversion_value`` is ``economics.order_value`` per customer won: a path leads to the first
        purchase, so the revenue of repeat purchases (``repeat.order_value``) is in no path.
        """
        tables = [self._paths(self.journals[r].before_won(), days, collapse) for r in self._replications(replication)]
        table = pd.concat(tables, ignore_index=True)
        keys = ["path", "path_days"] if days else ["path"]
        if len(tables) > 1:
            table = table.groupby(keys, sort=False, as_index=False).sum()
        table["total"] = table["total_conversions"] + table["total_null"]
        table = table.sort_values(["total", *keys], ascending=[False] + [True] * len(keys), kind="stable")
        return table[[*PATH_COLUMNS, *(["path_days"] if days else [])]].reset_index(drop=True)

    def top_paths(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` paths with the most conversions after a touch (consecutive touches by the same channel
        merged), most first; paths without a conversion are left out.

        Returns
        -------
        pandas.DataFrame
            Rows of :meth:`paths` (``collapse=True``), replications pooled.
        """
        merged = self.paths(collapse=True)
        converting = merged[merged["total_conversions"] > 0]
        return converting.sort_values("total_conversions", ascending=False, kind="stable").head(n)

    def untouched_conversions(self) -> np.ndarray:
        """Tracked customers who converted (were won) without any touch before it (organic only), per replication.
        A customer first touched after being won, by a channel that targets customers, is one of them."""
        out = []
        for journal in self.journals:
            j = journal.before_won()
            touched = np.zeros(j.customers.size, dtype=bool)
            touched[np.searchsorted(j.customers, j.touches["customer"])] = True
            out.append(int(np.count_nonzero(j.won & ~touched)))
        return np.array(out, dtype=np.int64)

    def _paths(self, j: Journal, days: bool, collapse: bool) -> pd.DataFrame:
        """Distinct paths of one journal: customers grouped by path length, then by ``numpy.unique`` on rows."""
        t = j.touches
        if collapse and t.size:
            # Keep a touch when the next one is another customer's or another channel's: the last of each run.
            last = np.ones(t.size, dtype=bool)
            last[:-1] = (t["customer"][1:] != t["customer"][:-1]) | (t["channel"][1:] != t["channel"][:-1])
            t = t[last]
        owner = np.searchsorted(j.customers, t["customer"])  # tracked index of each touch (touches sorted by it)
        length = np.bincount(owner, minlength=j.customers.size)
        start = np.concatenate(([0], np.cumsum(length)[:-1]))
        converted = j.won
        end_day = np.where(converted, j.converted_day, self.scenario.horizon_days - 1).astype(np.int64)
        names = np.array(self.scenario.channel_names, dtype=object)
        value = self.scenario.economics.order_value
        rows: list[pd.DataFrame] = []
        for size in np.unique(length[length > 0]):
            who = np.flatnonzero(length == size)
            at = start[who, None] + np.arange(size)
            key = t["channel"][at].astype(np.int64)
            if days:
                key = np.concatenate([key, end_day[who, None] - t["day"][at]], axis=1)
            unique, inverse = np.unique(key, axis=0, return_inverse=True)
            inverse = inverse.ravel()
            conversions = np.bincount(inverse, weights=converted[who], minlength=len(unique))
            nulls = np.bincount(inverse, weights=~converted[who], minlength=len(unique))
            frame = pd.DataFrame(
                {
                    "path": _join(names[unique[:, :size]]),
                    "total_conversions": conversions,
                    "total_conversion_value": conversions * value,
                    "total_null": nulls,
                }
            )
            if days:
                frame["path_days"] = _join(unique[:, size:].astype(str).astype(object))
            rows.append(frame)
        if not rows:
            columns: dict[str, Sequence[object]] = {c: [] for c in PATH_COLUMNS}
            if days:
                columns["path_days"] = []
            return pd.DataFrame(columns)
        return pd.concat(rows, ignore_index=True)


def _touchpoints(j: Journal) -> tuple[np.ndarray, np.ndarray]:
    """Per tracked customer of ``j``: touchpoints (distinct channel-days with an exposure) and exposures.

    The journal is sorted by customer, day and channel, so a row starts a new channel-day exactly when its
    (customer, day, channel) differs from the row before: one comparison of neighbours instead of a
    ``numpy.unique`` over the keys. The recorder writes one row per channel-day; a journal put together by hand
    may split one into several rows, and they still count once.
    """
    t = j.touches
    owner = np.searchsorted(j.customers, t["customer"])
    new = np.ones(t.size, dtype=bool)
    new[1:] = (
        (t["customer"][1:] != t["customer"][:-1])
        | (t["day"][1:] != t["day"][:-1])
        | (t["channel"][1:] != t["channel"][:-1])
    )
    counts = np.bincount(owner[new], minlength=j.customers.size).astype(np.int64)
    exposures = np.bincount(owner, weights=t["exposures"], minlength=j.customers.size).astype(np.int64)
    return counts, exposures


def _labels(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical[str]:
    """Integer codes as a categorical of ``names``."""
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(list(names)))


def _join(parts: np.ndarray) -> np.ndarray:
    """Join each row of a 2-D object array of strings with the path separator, a column at a time."""
    joined = parts[:, 0].copy()
    for column in range(1, parts.shape[1]):
        joined = joined + PATH_SEPARATOR + parts[:, column]
    return joined
