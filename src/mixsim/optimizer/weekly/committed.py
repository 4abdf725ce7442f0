"""Committed spend: what is already bought, per channel and week, read from a CSV file.

The file has a header and the columns ``channel``, ``week`` (from 1) and ``spend``, one row per channel-week
bought; channel-weeks not listed have nothing committed. Channel names are read as text (a channel named ``NA`` or
``null`` is that channel) and follow the scenario's rule. The file is read row by row, no further than one row per
channel-week of the largest scenario. Every problem names the file, the row, the column and the rule, all at once
(a screenful, then their count; the same form as :func:`mixsim.optimizer.read.read_curves`).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from typing import TextIO

import numpy as np

from mixsim._names import CHANNEL_NAME_RULE, is_channel_name
from mixsim.errors import InputError, screenful
from mixsim.optimizer.read import MAX_AMOUNT, csv_rows
from mixsim.optimizer.weekly.curves import horizon_weeks
from mixsim.scenario import MAX_CHANNELS, Scenario

__all__ = ["COMMITTED_COLUMNS", "parse_committed", "read_committed"]

COMMITTED_COLUMNS: tuple[str, ...] = ("channel", "week", "spend")
"""The columns of a committed-spend file."""


def read_committed(path: str | os.PathLike[str], scenario: Scenario) -> np.ndarray:
    """Committed spend for ``scenario`` from a CSV file, as an array of shape (channels, weeks).

    Parameters
    ----------
    path : path-like
        The CSV file: columns ``channel`` (one of the scenario's), ``week`` (from 1 to the horizon's last week)
        and ``spend`` (a finite number >= 0), each channel-week at most once; other columns are ignored.
    scenario : Scenario
        The scenario the spend is committed in: its channels, in order, and the weeks of its horizon.

    Returns
    -------
    ndarray, shape (channels, weeks)
        Spend already bought; 0 where the file lists nothing.

    Raises
    ------
    InputError
        When the file cannot be read, or naming the row and column of every problem found.
    """
    where = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return _parse(handle, scenario.channel_names, horizon_weeks(scenario), where)
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read the committed-spend file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{where}: is not UTF-8 text (save it as CSV UTF-8)") from None


def parse_committed(text: str, channels: Sequence[str], weeks: int, *, source: str = "<committed>") -> np.ndarray:
    """Parse the CSV text of :func:`read_committed` for ``channels`` (names, in order) over ``weeks`` weeks (same
    rules, same errors)."""
    return _parse(io.StringIO(text), channels, weeks, source)


def _parse(handle: TextIO, channels: Sequence[str], weeks: int, source: str) -> np.ndarray:
    # Read row by row, and no further than the most rows a file of any scenario can need (each channel-week once).
    why = f"the most a committed-spend file may have: {MAX_CHANNELS} channels x {weeks} weeks"
    numbered = list(csv_rows(handle, source, MAX_CHANNELS * weeks, why))
    if not numbered:
        raise InputError(
            f"{source}: the committed-spend file is empty (expected a header {','.join(COMMITTED_COLUMNS)})"
        )
    header = [h.strip().lower() for h in numbered[0][1]]
    missing = [c for c in COMMITTED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{source}: header: missing column(s) {', '.join(missing)} (expected {','.join(COMMITTED_COLUMNS)})"
        )
    col = {c: header.index(c) for c in COMMITTED_COLUMNS}
    names = list(channels)
    out = np.zeros((len(names), weeks))
    problems: list[str] = []
    seen: dict[tuple[str, int], int] = {}
    for row, cells in numbered[1:]:
        cells = [c.strip() for c in cells] + [""] * (len(header) - len(cells))
        name, week, spend = (cells[col[c]] for c in COMMITTED_COLUMNS)
        at = f"{source}: row {row}"
        mine: list[str] = []
        if not is_channel_name(name):
            mine.append(f"{at}: channel: {CHANNEL_NAME_RULE} (got {name!r})")
        elif name not in names:
            mine.append(f"{at}: channel: no channel {name!r} (the scenario has {', '.join(names)})")
        w = _number(week)
        if w is None or not (math.isfinite(w) and w == int(w) and 1 <= w <= weeks):
            mine.append(f"{at}: week: must be a whole number in 1..{weeks} (got {_shown(week)})")
        value = _number(spend)
        if value is None or not (math.isfinite(value) and value >= 0):
            mine.append(f"{at}: spend: must be a finite number >= 0 (got {_shown(spend)})")
        elif value > MAX_AMOUNT:  # the same bound as a curve's amounts: the program must stay solvable
            mine.append(f"{at}: spend: must be at most {MAX_AMOUNT:.0e} (got {spend})")
        if mine or w is None or value is None:
            problems += mine
            continue
        key = (name, int(w))
        if key in seen:
            problems.append(f"{at}: week: {name} week {key[1]} is already committed in row {seen[key]}")
            continue
        seen[key] = row
        out[names.index(name), key[1] - 1] = value
    if problems:
        raise InputError(screenful(problems, source))
    return out


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _shown(cell: str) -> str:
    return repr(cell) if cell == "" or _number(cell) is None else cell
