"""Path tables, read and checked into the one form every attribution model works on.

A *path table* follows the ChannelAttribution format, one row per distinct path:

- ``path`` (str): the channels touched, in order, joined by ``" > "`` (``"social > search > search"``);
- ``total_conversions``, ``total_conversion_value``, ``total_null`` (numbers >= 0): customers on this path who
  converted, their revenue, and customers on this path who did not convert;
- optionally ``path_days`` (str): for each touch, the days from that touch to the end of the path, joined by
  ``" > "`` (``"12 > 3 > 0"``). Only the ``time_decay`` model needs it.

:meth:`PathTable.from_frame` checks a table once and reports every problem in one :class:`~mixsim.errors.InputError`
(``path table: row R: column rule (got X)``); :meth:`PathTable.from_journal` builds the same form straight from a
simulation's journal. Rows with no customers (``total_conversions + total_null == 0``) are dropped here, before
any channel is discovered, so a channel seen only on such rows does not exist for the models.

This module only reads and checks; the models are in :mod:`mixsim.research.attribution.models`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mixsim.engine.journal import Journal
from mixsim.errors import InputError
from mixsim.research.journeys import PATH_COLUMNS, PATH_SEPARATOR
from mixsim.scenario import Scenario

__all__ = ["PathTable"]

_COUNT_COLUMNS: tuple[str, ...] = PATH_COLUMNS[1:]  # total_conversions, total_conversion_value, total_null
_SEPARATOR = PATH_SEPARATOR.strip()  # split on ">" and strip, so "a>b" and "a  >  b" read like "a > b"
_SHOWN_ROWS = 5  # rows quoted per problem; a table of 100k bad rows must not produce a 100k-line message


@dataclass(frozen=True)
class PathTable:
    """A checked path table, split into touches once.

    Touches are stored flat, row after row, in path order; ``starts[i]`` is the first touch of row ``i``.
    """

    channels: tuple[str, ...]  # distinct channels, in order of first appearance
    code: np.ndarray  # per touch: index into ``channels``
    row: np.ndarray  # per touch: its row
    pos: np.ndarray  # per touch: its position in the path (0 = first)
    length: np.ndarray  # per row: number of touches
    starts: np.ndarray  # per row: index of its first touch
    days: np.ndarray | None  # per touch: days to the end of the path, when the table has ``path_days``
    conversions: np.ndarray  # per row
    value: np.ndarray  # per row
    null: np.ndarray  # per row

    @property
    def last(self) -> np.ndarray:
        """Per touch: whether it is the last touch of its path."""
        return self.pos == self.length[self.row] - 1

    @classmethod
    def from_frame(cls, paths: pd.DataFrame) -> PathTable:
        """Check a path table and split it into touches.

        Parameters
        ----------
        paths : pandas.DataFrame
            Columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null`` and optionally
            ``path_days``. Rows are read by position: the index only labels rows in messages.

        Returns
        -------
        PathTable

        Raises
        ------
        TypeError
            If ``paths`` is not a DataFrame.
        InputError
            Naming every problem at once: a missing column, a count that is not a finite number >= 0, an empty
            path or channel name, day stamps that are not numbers >= 0 or not one per touch.
        """
        if not isinstance(paths, pd.DataFrame):
            raise TypeError(f"paths must be a pandas DataFrame (got {type(paths).__name__})")
        missing = [c for c in PATH_COLUMNS if c not in paths.columns]
        if missing:
            raise InputError([f"path table: missing column {c!r}" for c in missing])

        labels = paths.index.to_numpy(dtype=object)
        problems: list[str] = []

        counts: dict[str, np.ndarray] = {}
        for column in _COUNT_COLUMNS:
            raw = paths[column]
            numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            not_number = ~np.isfinite(numbers)
            problems += _where(labels, not_number, column, "must be a finite number", raw.to_numpy(dtype=object))
            problems += _where(labels, ~not_number & (numbers < 0), column, "must be >= 0", numbers)
            counts[column] = numbers

        text, length, names = _split(paths["path"])
        row = np.repeat(np.arange(len(length)), length)
        empty_path = pd.Series(text, dtype=object).str.strip().eq("").to_numpy(dtype=bool)
        problems += _where(labels, empty_path, "path", "is empty", text)
        empty_name = np.bincount(row, weights=(names == "").astype(float), minlength=len(length)) > 0
        problems += _where(labels, empty_name & ~empty_path, "path", "has an empty channel name", text)

        days: np.ndarray | None = None
        if "path_days" in paths.columns:
            days_text, days_length, days_pieces = _split(paths["path_days"])
            values = pd.to_numeric(pd.Series(days_pieces, dtype=object), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
            days_row = np.repeat(np.arange(len(days_length)), days_length)
            bad_day = ~(np.isfinite(values) & (values >= 0))
            bad_days = np.bincount(days_row, weights=bad_day.astype(float), minlength=len(days_length)) > 0
            problems += _where(labels, bad_days, "path_days", "must be numbers >= 0 joined by ' > '", days_text)
            # A bad path or bad day stamps already explain a length mismatch; do not report it twice.
            mismatch = (days_length != length) & ~(bad_days | empty_path | empty_name)
            got = np.empty(len(length), dtype=object)
            pairs = zip(days_length[mismatch], length[mismatch], strict=True)
            got[mismatch] = [f"{d} days for {n} touches" for d, n in pairs]
            problems += _where(labels, mismatch, "path_days", "must have one entry per touch of path", got)
            if not (bad_days.any() or mismatch.any()):
                days = values

        if problems:
            raise InputError(problems)

        # Rows without customers carry no information for any model: drop them before channels are discovered.
        keep_row = counts["total_conversions"] + counts["total_null"] > 0
        keep = keep_row[row]
        length = length[keep_row]
        names = names[keep]
        codes, uniques = pd.factorize(names, sort=False)
        starts = np.cumsum(length) - length
        row = np.repeat(np.arange(len(length)), length)
        return cls(
            channels=tuple(str(u) for u in uniques),
            code=np.asarray(codes, dtype=np.intp),
            row=row,
            pos=np.arange(len(row)) - starts[row],
            length=length,
            starts=starts,
            days=None if days is None else days[keep],
            conversions=counts["total_conversions"][keep_row],
            value=counts["total_conversion_value"][keep_row],
            null=counts["total_null"][keep_row],
        )

    @classmethod
    def from_journal(cls, journal: Journal, scenario: Scenario) -> PathTable:
        """A journal as a path table with one row per touched customer, without going through text.

        Every model's credit is a sum over rows (Markov's transition counts and Shapley's set values too), so one
        row per customer gives the same credit as one row per distinct path. ``days`` counts from each touch to
        the customer's conversion, or to the last day of the horizon for a customer who did not convert. Only the
        touches before a customer was won are its path (:meth:`~mixsim.engine.journal.Journal.before_won`): a
        customer converted when it was won (its first purchase), lapsed since or not, and its value is
        ``economics.order_value``, that of the first purchase its path led to (repeat purchases are in no path).
        """
        journal = journal.before_won()
        t = journal.touches
        owner = np.searchsorted(journal.customers, t["customer"])
        length_all = np.bincount(owner, minlength=journal.customers.size)
        touched = length_all > 0
        length = length_all[touched]
        starts = np.cumsum(length) - length
        row = np.repeat(np.arange(length.size), length)
        codes, uniques = pd.factorize(t["channel"], sort=False)
        converted = journal.won[touched].astype(float)
        end = np.where(journal.won, journal.converted_day, scenario.horizon_days - 1)[touched]
        return cls(
            channels=tuple(scenario.channel_names[int(k)] for k in uniques),
            code=np.asarray(codes, dtype=np.intp),
            row=row,
            pos=np.arange(row.size) - starts[row],
            length=length,
            starts=starts,
            days=(end[row] - t["day"]).astype(float),
            conversions=converted,
            value=converted * scenario.economics.order_value,
            null=1.0 - converted,
        )


def _where(labels: np.ndarray, bad: np.ndarray, column: str, what: str, got: np.ndarray | None = None) -> list[str]:
    """One problem line per bad row (the first few), each ``path table: row R: column what (got X)``."""
    rows = np.flatnonzero(bad)
    lines = []
    for i in rows[:_SHOWN_ROWS]:
        detail = "" if got is None else f" (got {_plain(got[i])!r})"
        lines.append(f"path table: row {_plain(labels[i])!r}: {column} {what}{detail}")
    if len(rows) > _SHOWN_ROWS:
        lines.append(f"path table: {column}: ... and {len(rows) - _SHOWN_ROWS} more rows with the same problem")
    return lines


def _plain(x: object) -> object:
    """A numpy scalar as the Python scalar it holds, so messages read ``-1.0``, not ``np.float64(-1.0)``."""
    return x.item() if isinstance(x, np.generic) else x


def _split(column: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a column of ``" > "``-joined strings: per row the text and the piece count, and the stripped pieces."""
    text = column.astype(object).where(column.notna(), "").astype(str)
    text = pd.Series(text.to_numpy(dtype=object), dtype=object)  # positional index: the table's may repeat labels
    pieces = text.str.split(_SEPARATOR)
    counts = text.str.count(_SEPARATOR).to_numpy(dtype=np.intp) + 1
    flat = pieces.explode().str.strip().to_numpy(dtype=object)
    return text.to_numpy(dtype=object), counts, flat
