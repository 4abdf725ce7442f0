"""Multi-touch attribution: split the conversions (and revenue) of customer journeys across marketing channels.

Every model reads a *path table* in the ChannelAttribution format, one row per distinct path:

- ``path`` (str): the channels touched, in order, joined by ``" > "`` (``"social > search > search"``);
- ``total_conversions``, ``total_conversion_value``, ``total_null`` (floats >= 0): customers on this path who
  converted, their revenue, and customers on this path who did not convert;
- optionally ``path_days`` (str): for each touch, the days from that touch to the end of the path, joined by
  ``" > "`` (``"12 > 3 > 0"``). Only :func:`time_decay` needs it.

Every model returns a DataFrame indexed by ``channel`` with float columns ``conversions`` and ``value``. The credit
of a row is split across its touches with the same shares for conversions and for revenue, so the credits sum to
the table's total conversions and total value. Channels come in order of first appearance in the table, or exactly
as listed in ``channels=`` (zero for a listed channel with no credit; a channel of the table missing from the list
is an error).

Rows with no customers (``total_conversions + total_null == 0``) are ignored: they are dropped before any model
runs, so a channel seen only on such rows gets no row of its own.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mixsim.engine.journal import Journal
from mixsim.engine.population import CONVERTED
from mixsim.scenario import Scenario

if TYPE_CHECKING:
    from mixsim.results import SimulationResult

__all__ = [
    "MODELS",
    "AttributionCheck",
    "against_truth",
    "attribute",
    "conversion_probability",
    "first_touch",
    "last_touch",
    "linear",
    "markov",
    "position_based",
    "removal_effects",
    "shapley",
    "time_decay",
]

MODELS: tuple[str, ...] = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley")
"""Names of the attribution models, as accepted by :func:`attribute`."""

_COUNT_COLUMNS: tuple[str, ...] = ("total_conversions", "total_conversion_value", "total_null")
_REQUIRED_COLUMNS: tuple[str, ...] = ("path", *_COUNT_COLUMNS)
_SEPARATOR = ">"
MAX_SHAPLEY_CHANNELS = 20
"""Most distinct channels :func:`shapley` takes (it sums over every set of channels: 2^n of them)."""
_SHOWN_ROWS = 5  # rows quoted per problem; a table of 100k bad rows must not produce a 100k-line message


@dataclass(frozen=True)
class _Table:
    """A validated path table, split into touches once.

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


# ------------------------------------------------------------------------------------------------ validation


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


def _parse(paths: pd.DataFrame) -> _Table:
    """Validate a path table and split it into touches; every problem is reported in one ValueError."""
    if not isinstance(paths, pd.DataFrame):
        raise TypeError(f"paths must be a pandas DataFrame (got {type(paths).__name__})")
    missing = [c for c in _REQUIRED_COLUMNS if c not in paths.columns]
    if missing:
        raise ValueError("\n".join(f"path table: missing column {c!r}" for c in missing))

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
    starts = np.cumsum(length) - length
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
        raise ValueError("\n".join(problems))

    # Rows without customers carry no information for any model: drop them before channels are discovered.
    keep_row = counts["total_conversions"] + counts["total_null"] > 0
    keep = keep_row[row]
    length = length[keep_row]
    names = names[keep]
    codes, uniques = pd.factorize(names, sort=False)
    starts = np.cumsum(length) - length
    row = np.repeat(np.arange(len(length)), length)
    return _Table(
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


def _frame(table: _Table, conversions: np.ndarray, value: np.ndarray, channels: Sequence[str] | None) -> pd.DataFrame:
    """The result frame: credits of the table's channels, re-indexed to ``channels`` when given."""
    names = list(table.channels)
    if channels is not None:
        wanted = [channels] if isinstance(channels, str) else [str(c) for c in channels]
        repeated = sorted({c for c in wanted if wanted.count(c) > 1})
        if repeated:
            raise ValueError(f"channels= lists {', '.join(map(repr, repeated))} more than once")
        listed = set(wanted)
        absent = [c for c in names if c not in listed]
        if absent:
            raise ValueError(f"channel(s) {', '.join(map(repr, absent))} of the path table missing from channels=")
        where = {c: i for i, c in enumerate(names)}
        take = np.array([where.get(c, -1) for c in wanted], dtype=np.intp)
        conversions = np.where(take >= 0, np.append(conversions, 0.0)[take], 0.0)
        value = np.where(take >= 0, np.append(value, 0.0)[take], 0.0)
        names = wanted
    index = pd.Index(names, name="channel", dtype=object)
    return pd.DataFrame(
        {"conversions": np.asarray(conversions, dtype=float), "value": np.asarray(value, dtype=float)}, index=index
    )


def _by_touch(table: _Table, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Credit per channel when each touch gets ``weight`` (summing to 1 within a path) of its row."""
    n = len(table.channels)
    conversions = np.bincount(table.code, weights=weight * table.conversions[table.row], minlength=n)
    value = np.bincount(table.code, weights=weight * table.value[table.row], minlength=n)
    return conversions, value


def _by_share(table: _Table, share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Credit per channel when the totals are split by ``share`` (summing to 1, or all zero)."""
    return share * table.conversions.sum(), share * table.value.sum()


# ------------------------------------------------------------------------------------------------ heuristics


def _first_touch(table: _Table) -> tuple[np.ndarray, np.ndarray]:
    return _by_touch(table, (table.pos == 0).astype(float))


def _last_touch(table: _Table) -> tuple[np.ndarray, np.ndarray]:
    return _by_touch(table, table.last.astype(float))


def _linear(table: _Table) -> tuple[np.ndarray, np.ndarray]:
    return _by_touch(table, 1.0 / table.length[table.row])


def _check_half_life(half_life: float) -> float:
    half_life = float(half_life)
    if not (math.isfinite(half_life) and half_life > 0):
        raise ValueError(f"half_life must be a finite number > 0 (got {half_life})")
    return half_life


def _time_decay(table: _Table, half_life: float) -> tuple[np.ndarray, np.ndarray]:
    if table.days is None:
        raise ValueError("time_decay needs a 'path_days' column in the path table (days from each touch to the end)")
    if len(table.row) == 0:
        return _by_touch(table, np.zeros(0))
    # Measuring days from the path's most recent touch leaves the shares unchanged and keeps the largest weight at 1,
    # so long paths cannot underflow to 0/0.
    nearest = np.minimum.reduceat(table.days, table.starts)
    raw = np.exp2(-(table.days - nearest[table.row]) / half_life)
    total = np.bincount(table.row, weights=raw, minlength=len(table.length))
    return _by_touch(table, raw / total[table.row])


def _check_positions(first: float, last: float) -> tuple[float, float]:
    first, last = float(first), float(last)
    if not (math.isfinite(first) and first >= 0):
        raise ValueError(f"first must be a number >= 0 (got {first})")
    if not (math.isfinite(last) and last >= 0):
        raise ValueError(f"last must be a number >= 0 (got {last})")
    if first + last > 1 + 1e-12:
        raise ValueError(f"first + last must be <= 1 (got {first} + {last} = {first + last})")
    return first, last


def _position_based(table: _Table, first: float, last: float) -> tuple[np.ndarray, np.ndarray]:
    length = table.length[table.row]
    is_first = table.pos == 0
    is_last = table.last
    # Two touches share the whole credit in the ratio first:last; with first = last = 0 neither is favoured.
    ends = first + last
    two_first, two_last = (first / ends, last / ends) if ends > 0 else (0.5, 0.5)
    middle = max(1.0 - ends, 0.0) / np.maximum(length - 2, 1)
    weight = np.select(
        [length == 1, (length == 2) & is_first, length == 2, is_first, is_last],
        [1.0, two_first, two_last, first, last],
        default=middle,
    )
    return _by_touch(table, weight)


# ------------------------------------------------------------------------------------------------ Markov


def _markov(table: _Table) -> tuple[float, np.ndarray]:
    """Conversion probability from the start and the removal effect of each channel."""
    n = len(table.channels)
    if n == 0 or table.conversions.sum() <= 0:
        return 0.0, np.zeros(n)
    # Transient states: 0 is (start), 1 + k is channel k. Absorbing states are kept as two vectors.
    size = n + 1
    dst = table.code + 1
    src = np.empty_like(dst)
    src[1:] = dst[:-1]
    src[table.pos == 0] = 0
    customers = (table.conversions + table.null)[table.row]
    counts = np.bincount(src * size + dst, weights=customers, minlength=size * size).reshape(size, size)
    final = table.code[table.starts + table.length - 1] + 1
    to_conversion = np.bincount(final, weights=table.conversions, minlength=size)
    to_null = np.bincount(final, weights=table.null, minlength=size)
    # Every state has outgoing customers: rows without customers were dropped, and each channel lies on a kept row.
    leaving = counts.sum(axis=1) + to_conversion + to_null
    q = counts / leaving[:, None]
    r = to_conversion / leaving
    identity = np.eye(size)
    p = float(np.linalg.solve(identity - q, r)[0])
    if p <= 0:
        return 0.0, np.zeros(n)
    without = np.empty(n)
    for k in range(n):  # one small solve per channel, not per customer
        q_removed = q.copy()
        q_removed[:, k + 1] = 0.0  # transitions into the channel now end in (null)
        without[k] = np.linalg.solve(identity - q_removed, r)[0]
    # Removing a channel can only lose conversions; clip the rounding noise of channels that never matter.
    return p, np.clip(1.0 - without / p, 0.0, 1.0)


def _markov_credit(table: _Table) -> tuple[np.ndarray, np.ndarray]:
    _, effects = _markov(table)
    total = effects.sum()
    return _by_share(table, effects / total if total > 0 else effects)


# ------------------------------------------------------------------------------------------------ Shapley


def _shapley(table: _Table) -> tuple[np.ndarray, np.ndarray]:
    n = len(table.channels)
    if n > MAX_SHAPLEY_CHANNELS:
        raise ValueError(
            f"shapley supports at most {MAX_SHAPLEY_CHANNELS} distinct channels (got {n}); "
            "group channels or use the markov model"
        )
    if n == 0:
        return np.zeros(0), np.zeros(0)
    subsets = np.arange(2**n, dtype=np.int64)
    bits = np.left_shift(np.int64(1), table.code.astype(np.int64))
    masks = np.bitwise_or.reduceat(bits, table.starts)
    # r(T): conversions and value of the rows whose channel set is exactly T.
    exact = np.stack(
        [
            np.bincount(masks, weights=table.conversions, minlength=2**n),
            np.bincount(masks, weights=table.value, minlength=2**n),
        ],
        axis=-1,
    )
    # v(S) = sum of r(T) over T within S. Viewed as an n-dimensional 2x2x...x2 array, a cumulative sum along every
    # axis adds each set's value into all its supersets.
    cube = exact.reshape((2,) * n + (2,))
    for axis in range(n):
        cube = np.cumsum(cube, axis=axis)
    v = cube.reshape(2**n, 2)
    size = np.bitwise_count(subsets)
    weight_by_size = np.array([1.0 / (n * math.comb(n - 1, k)) for k in range(n)])
    credit = np.empty((n, 2))
    for c in range(n):  # one vectorised pass over all subsets per channel
        bit = np.int64(1) << c
        without = subsets[(subsets & bit) == 0]
        credit[c] = weight_by_size[size[without]] @ (v[without | bit] - v[without])
    return credit[:, 0], credit[:, 1]


# ------------------------------------------------------------------------------------------------ public API


def first_touch(paths: pd.DataFrame, channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Give all the credit of each path to its first touch.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.
    channels : sequence of str, optional
        Channels of the result, in this order; zero for a listed channel without credit. By default, the table's
        channels in order of first appearance.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel``, float columns ``conversions`` and ``value``.

    Raises
    ------
    ValueError
        If the path table is invalid, or a channel of the table is missing from ``channels``.
    """
    table = _parse(paths)
    return _frame(table, *_first_touch(table), channels)


def last_touch(paths: pd.DataFrame, channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Give all the credit of each path to its last touch.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.
    channels : sequence of str, optional
        Channels of the result, in this order; zero for a listed channel without credit. By default, the table's
        channels in order of first appearance.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel``, float columns ``conversions`` and ``value``.

    Raises
    ------
    ValueError
        If the path table is invalid, or a channel of the table is missing from ``channels``.
    """
    table = _parse(paths)
    return _frame(table, *_last_touch(table), channels)


def linear(paths: pd.DataFrame, channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Split the credit of each path equally over its touches.

    Repeated touches count separately: ``"a > a > b"`` gives ``a`` two thirds and ``b`` one third.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.
    channels : sequence of str, optional
        Channels of the result, in this order; zero for a listed channel without credit. By default, the table's
        channels in order of first appearance.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel``, float columns ``conversions`` and ``value``.

    Raises
    ------
    ValueError
        If the path table is invalid, or a channel of the table is missing from ``channels``.
    """
    table = _parse(paths)
    return _frame(table, *_linear(table), channels)


def time_decay(paths: pd.DataFrame, channels: Sequence[str] | None = None, half_life: float = 7.0) -> pd.DataFrame:
    """Split the credit of each path over its touches, more to recent ones.

    A touch ``d`` days before the end of its path weighs ``2 ** (-d / half_life)``; weights are normalised within
    the path.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table, with a ``path_days`` column: for each touch, the days to the end of the path.
    channels : sequence of str, optional
        Channels of the result, in this order; zero for a listed channel without credit. By default, the table's
        channels in order of first appearance.
    half_life : float, default=7.0
        Days after which a touch's weight halves.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel``, float columns ``conversions`` and ``value``.

    Raises
    ------
    ValueError
        If the path table is invalid or has no ``path_days`` column, if ``half_life`` is not > 0, or if a channel
        of the table is missing from ``channels``.
    """
    half_life = _check_half_life(half_life)
    table = _parse(paths)
    return _frame(table, *_time_decay(table, half_life), channels)


def position_based(
    paths: pd.DataFrame, channels: Sequence[str] | None = None, first: float = 0.4, last: float = 0.4
) -> pd.DataFrame:
    """Split the credit of each path U-shaped: most to the first and last touches.

    A single touch gets all the credit. Two touches get ``first / (first + last)`` and ``last / (first + last)``
    (half each when both are 0). Three or more: ``first`` to the first touch, ``last`` to the last, and
    ``1 - first - last`` split evenly over the touches in between.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.
    channels : sequence of str, optional
        Channels of the result, in this order; zero for a listed channel without credit. By default, the table's
        channels in order of first appearance.
    first : float, default=0.4
        Share of the first touch.
    last : float, default=0.4
        Share of the last touch.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel``, float columns ``conversions`` and ``value``.

    Raises
    ------
    ValueError
        If the path table is invalid, if ``first`` or ``last`` is negative or they sum to more than 1, or if a
        channel of the table is missing from ``channels``.
    """
    first, last = _check_positions(first, last)
    table = _parse(paths)
    return _frame(table, *_position_based(table, first, last), channels)


def conversion_probability(paths: pd.DataFrame) -> float:
    """Probability that a journey converts, in the first-order Markov chain of the paths.

    The chain has states ``(start)``, one per channel, ``(conversion)`` and ``(null)``. Transitions are counted
    from the paths, each row weighted by ``total_conversions + total_null``: ``(start)`` to the first channel, each
    channel to the next, and the last channel to ``(conversion)`` (weight ``total_conversions``) and to ``(null)``
    (weight ``total_null``). The probability of absorption in ``(conversion)`` is found by a linear solve.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.

    Returns
    -------
    float
        The probability of reaching ``(conversion)`` from ``(start)``; 0 when no path converts.

    Raises
    ------
    ValueError
        If the path table is invalid.
    """
    p, _ = _markov(_parse(paths))
    return p


def removal_effects(paths: pd.DataFrame) -> pd.Series:
    """Removal effect of each channel in the first-order Markov chain of the paths.

    Removing channel ``c`` sends every transition into ``c`` to ``(null)``; its removal effect is
    ``1 - P_without_c / P``, where ``P`` is :func:`conversion_probability`.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.

    Returns
    -------
    pandas.Series
        Named ``removal_effect``, indexed by ``channel`` in order of first appearance; all 0 when no path converts.

    Raises
    ------
    ValueError
        If the path table is invalid.
    """
    table = _parse(paths)
    _, effects = _markov(table)
    index = pd.Index(list(table.channels), name="channel", dtype=object)
    return pd.Series(effects, index=index, name="removal_effect", dtype=float)


def markov(paths: pd.DataFrame, channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Credit channels in proportion to their removal effect in the first-order Markov chain of the paths.

    Each channel gets ``RE_c / sum(RE)`` of the total conversions and of the total value, where ``RE_c`` is its
    :func:`removal_effects` entry. Computed exactly with absorbing-chain formulas, not by simulation. When no path
    converts, every credit is 0.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.
    channels : sequence of str, optional
        Channels of the result, in this order; zero for a listed channel without credit. By default, the table's
        channels in order of first appearance.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel``, float columns ``conversions`` and ``value``.

    Raises
    ------
    ValueError
        If the path table is invalid, or a channel of the table is missing from ``channels``.
    """
    table = _parse(paths)
    return _frame(table, *_markov_credit(table), channels)


def shapley(paths: pd.DataFrame, channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Credit channels with their Shapley value in the game where a path converts only if all its channels play.

    The value of a coalition ``S`` is the conversions (resp. revenue) of the rows whose set of channels lies within
    ``S``. Channel ``c`` gets ``sum over S without c of |S|! (n - |S| - 1)! / n! * (v(S + c) - v(S))``, evaluated
    over all ``2**n`` coalitions at once with bit masks. As Zhao et al. show, this equals the sum over channel sets
    ``T`` containing ``c`` of ``r(T) / |T|``, with ``r(T)`` the conversions of the rows whose channel set is exactly
    ``T``: repeats and order within a path do not matter.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.
    channels : sequence of str, optional
        Channels of the result, in this order; zero for a listed channel without credit. By default, the table's
        channels in order of first appearance.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``channel``, float columns ``conversions`` and ``value``.

    Raises
    ------
    ValueError
        If the path table is invalid, has more than 20 distinct channels, or a channel of the table is missing from
        ``channels``.

    References
    ----------
    K. Zhao, S. H. Mahboobi, S. R. Bagheri (2018), "Shapley Value Methods for Attribution Modeling in Online
    Advertising", arXiv:1804.05327.
    """
    table = _parse(paths)
    return _frame(table, *_shapley(table), channels)


def attribute(
    paths: pd.DataFrame,
    models: Sequence[str] = MODELS,
    channels: Sequence[str] | None = None,
    half_life: float = 7.0,
    first: float = 0.4,
    last: float = 0.4,
) -> pd.DataFrame:
    """Run several attribution models on one path table and stack their credits.

    The table is validated and split once. Asking for ``"time_decay"`` without a ``path_days`` column is an error,
    not a silent skip.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``, and
        ``path_days`` for ``time_decay``.
    models : sequence of str, default=MODELS
        Models to run, in this order; a single name is accepted too.
    channels : sequence of str, optional
        Channels of each model's block, in this order; by default the table's channels in order of first
        appearance.
    half_life : float, default=7.0
        Half-life in days of :func:`time_decay`.
    first : float, default=0.4
        Share of the first touch in :func:`position_based`.
    last : float, default=0.4
        Share of the last touch in :func:`position_based`.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``model``, ``channel``, ``conversions``, ``value``: one block per model.

    Raises
    ------
    ValueError
        If a model name is unknown (the message lists the known ones), the path table is invalid, a parameter of a
        requested model is out of range, or a channel of the table is missing from ``channels``.

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["social > search", "search"], "total_conversions": [3.0, 1.0],
    ...                       "total_conversion_value": [150.0, 50.0], "total_null": [7.0, 9.0]})
    >>> credit = attribute(paths, ["first_touch", "last_touch"])
    >>> credit.pivot(index="channel", columns="model", values="conversions").loc[["social", "search"]].values.tolist()
    [[3.0, 0.0], [1.0, 4.0]]
    """
    names, half_life, first, last = _check_models(models, half_life, first, last)
    return _attribute(_parse(paths), names, channels, half_life, first, last)


def _check_models(
    models: Sequence[str] | str, half_life: float, first: float, last: float
) -> tuple[list[str], float, float, float]:
    """Model names known, and the parameters of the models asked for in range."""
    names = [models] if isinstance(models, str) else list(models)
    unknown = [m for m in names if m not in MODELS]
    if unknown:
        hints = []
        for m in unknown:
            near = difflib.get_close_matches(str(m), MODELS, n=1)
            hints.append(f"{m!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
        raise ValueError(f"unknown attribution model {', '.join(hints)}; known models: {', '.join(MODELS)}")
    if "time_decay" in names:
        half_life = _check_half_life(half_life)
    if "position_based" in names:
        first, last = _check_positions(first, last)
    return names, half_life, first, last


def _attribute(
    table: _Table, names: Sequence[str], channels: Sequence[str] | None, half_life: float, first: float, last: float
) -> pd.DataFrame:
    blocks = []
    for name in names:
        if name == "first_touch":
            credit = _first_touch(table)
        elif name == "last_touch":
            credit = _last_touch(table)
        elif name == "linear":
            credit = _linear(table)
        elif name == "time_decay":
            credit = _time_decay(table, half_life)
        elif name == "position_based":
            credit = _position_based(table, first, last)
        elif name == "markov":
            credit = _markov_credit(table)
        else:
            credit = _shapley(table)
        block = _frame(table, *credit, channels).reset_index()
        block.insert(0, "model", name)
        blocks.append(block)
    if not blocks:
        return pd.DataFrame(
            {
                "model": pd.Series(dtype=object),
                "channel": pd.Series(dtype=object),
                "conversions": pd.Series(dtype=float),
                "value": pd.Series(dtype=float),
            }
        )
    return pd.concat(blocks, ignore_index=True)


# --------------------------------------------------------------------------------------------------------------
# Against the truth: attribution credit beside the simulator's counterfactual incrementality.

CHECK_TABLES: tuple[str, ...] = ("channels", "models")
"""Tables :meth:`AttributionCheck.to_frame` can return."""


@dataclass(frozen=True)
class AttributionCheck:
    """Each attribution model's credit per channel beside each channel's true incremental conversions.

    Credits are computed per replication on its path table (scaled from the tracked sample to the population);
    the truth comes from counterfactual runs of the same replication (the channel off, same random numbers).

    Attributes
    ----------
    scenario : Scenario
        The scenario simulated.
    models : tuple of str
        The models compared, in order.
    credit : ndarray, shape (replications, models, channels)
        Conversions credited to each channel.
    truth : ndarray, shape (replications, channels)
        True incremental conversions of each channel.
    conversions : ndarray, shape (replications,)
        All conversions of each replication (touched or not).
    seed : int
        Root seed of the simulation.
    share : float
        Share of customers whose journeys were recorded.
    """

    scenario: Scenario = field(repr=False)
    models: tuple[str, ...]
    credit: np.ndarray = field(repr=False)
    truth: np.ndarray = field(repr=False)
    conversions: np.ndarray = field(repr=False)
    seed: int
    share: float

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names, in scenario order."""
        return self.scenario.channel_names

    def share_error(self) -> np.ndarray:
        """Per replication and model, half the summed absolute gap between credit shares and truth shares.

        0 when a model splits the credit in the same proportions as the truth; 1 when it gives all of it to
        channels with no true effect (more than 1 is possible when a true effect is negative). Where the true
        effects add up to 0 there are no true shares to compare with: NaN. Shape (replications, models).
        """
        credited = self.credit.sum(axis=2, keepdims=True)
        credit = self.credit / np.where(credited > 0, credited, 1.0)
        total = self.truth.sum(axis=1, keepdims=True)
        truth = self.truth / np.where(total != 0, total, 1.0)
        error = 0.5 * np.abs(credit - truth[:, None, :]).sum(axis=2)
        return np.where(total != 0, error, np.nan)

    def to_frame(self, table: str = "channels") -> pd.DataFrame:
        """A tidy table with means and 90% intervals over replications.

        Parameters
        ----------
        table : {"channels", "models"}
            ``channels``: one row per (model, channel): ``credit``, ``truth`` and ``error`` (credit - truth), each
            with ``_low``/``_high`` bounds of the 90% interval of replications; the model ``truth`` is not a row,
            it is the ``truth`` column. ``models``: one row per model: ``share_error`` (see :meth:`share_error`),
            ``abs_error`` (sum over channels of |credit - truth|, in conversions) and ``credited`` (total credit),
            with intervals.

        Returns
        -------
        pandas.DataFrame
        """
        from mixsim.tables import interval

        if table not in CHECK_TABLES:
            raise ValueError(f"unknown table {table!r}; choose one of {', '.join(CHECK_TABLES)}")
        rows: list[dict[str, Any]] = []
        if table == "channels":
            truth = interval(self.truth)
            for m, model in enumerate(self.models):
                credit = interval(self.credit[:, m, :])
                error = interval(self.credit[:, m, :] - self.truth)
                for c, channel in enumerate(self.channels):
                    row: dict[str, Any] = {"model": model, "channel": channel}
                    for name, (mean, low, high) in (("credit", credit), ("truth", truth), ("error", error)):
                        row.update({name: mean[c], f"{name}_low": low[c], f"{name}_high": high[c]})
                    rows.append(row)
        else:
            values = {
                "share_error": self.share_error(),
                "abs_error": np.abs(self.credit - self.truth[:, None, :]).sum(axis=2),
                "credited": self.credit.sum(axis=2),
            }
            for m, model in enumerate(self.models):
                row = {"model": model}
                for name, v in values.items():
                    mean, low, high = interval(v[:, m])
                    row.update({name: float(mean), f"{name}_low": float(low), f"{name}_high": float(high)})
                rows.append(row)
        return pd.DataFrame(rows)

    def to_json(self, indent: int | None = 2) -> str:
        """One JSON object: ``scenario``, ``seed``, ``replications``, ``share``, ``channels`` and ``models`` tables
        as lists of records (undefined figures are ``null``)."""
        from mixsim.tables import json_records

        data = {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seed": self.seed,
            "replications": int(self.truth.shape[0]),
            "share": self.share,
            "conversions": float(np.mean(self.conversions)),
            "channels": json_records(self.to_frame("channels")),
            "models": json_records(self.to_frame("models")),
        }
        return json.dumps(data, indent=indent, allow_nan=False)

    def _repr_html_(self) -> str:
        from mixsim._display import summary_html

        credit = self.to_frame("channels").pivot(index="channel", columns="model", values="credit")
        truth = self.to_frame("channels").groupby("channel", sort=False)["truth"].first()
        table = pd.concat([truth, credit[list(self.models)]], axis=1).loc[list(self.channels)].reset_index()
        return summary_html(
            f"Attribution against the truth: {self.scenario.name}",
            [f"{self.truth.shape[0]} replications, seed {self.seed}; conversions per channel (means)"],
            [("Credit and truth", table), ("Error per model", self.to_frame("models"))],
        )


def against_truth(
    result: SimulationResult,
    models: Sequence[str] = MODELS,
    *,
    half_life: float = 7.0,
    first: float = 0.4,
    last: float = 0.4,
) -> AttributionCheck:
    """Attribute each replication's conversions with every model and set the credit beside the truth.

    Parameters
    ----------
    result : SimulationResult
        Simulated with ``incrementality=True`` and ``journeys=share`` (e.g.
        ``mixsim.simulate(scenario, incrementality=True, journeys=1.0)``).
    models : sequence of str, default=MODELS
        Models to compare (see :data:`MODELS`).
    half_life, first, last : float
        Parameters of :func:`time_decay` and :func:`position_based`.

    Returns
    -------
    AttributionCheck

    Raises
    ------
    ValueError
        If the result has no journeys or no incrementality, or a model is unknown.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> result = mixsim.simulate(scenario, seed=1, replications=1, incrementality=True, journeys=1.0)
    >>> check = mixsim.against_truth(result, ["last_touch", "markov"])
    >>> check.to_frame("models")["model"].tolist()
    ['last_touch', 'markov']
    """
    if result.incrementality is None:
        raise ValueError("the truth was not measured: simulate with incrementality=True")
    journeys = result.journeys()
    channels = result.channels
    scale = journeys.scale()
    names, half_life, first, last = _check_models(models, half_life, first, last)
    credit = np.zeros((result.replications, len(names), len(channels)))
    for r in range(result.replications):
        journal = journeys.journals[r]
        table = _attribute(_from_journal(journal, result.scenario), names, channels, half_life, first, last)
        wide = table.pivot(index="model", columns="channel", values="conversions")
        credit[r] = wide.loc[names, list(channels)].to_numpy() * scale[r]
    conversions = np.array([run.conversions for run in result.runs], dtype=float)
    return AttributionCheck(
        scenario=result.scenario,
        models=tuple(names),
        credit=credit,
        truth=result.incrementality.conversions.copy(),
        conversions=conversions,
        seed=result.seed,
        share=journeys.share,
    )


def _from_journal(journal: Journal, scenario: Scenario) -> _Table:
    """A journal as a path table with one row per touched customer, without going through text.

    Every model's credit is a sum over rows (Markov's transition counts and Shapley's set values too), so one row
    per customer gives the same credit as one row per distinct path.
    """
    t = journal.touches
    owner = np.searchsorted(journal.customers, t["customer"])
    length_all = np.bincount(owner, minlength=journal.customers.size)
    touched = length_all > 0
    length = length_all[touched]
    starts = np.cumsum(length) - length
    row = np.repeat(np.arange(length.size), length)
    codes, uniques = pd.factorize(t["channel"], sort=False)
    converted = (journal.stage == CONVERTED)[touched].astype(float)
    end = np.where(journal.stage == CONVERTED, journal.converted_day, scenario.horizon_days - 1)[touched]
    return _Table(
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
