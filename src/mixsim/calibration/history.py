"""A business's history: one row per week (or per day) of dates, each channel's spend (or an owned channel's
activity), impressions and clicks, the KPI, and demand drivers, read from a CSV file and checked row by row.

The columns are named by the scenario's ``[calibration]`` table (:class:`~mixsim.scenario.calibration.Calibration`),
or by the names ``mixsim export-mmm`` writes (``date``, ``<channel>_spend``, ``<channel>_impressions``,
``<channel>_clicks``, ``revenue`` or ``conversions``), so its output is a history as it is. Every problem names the
file, the row (counting the header as row 1) and the column, and the whole file is checked before anything is
raised (at most a screenful of problems).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixsim._names import name_hint
from mixsim.errors import InputError, screenful
from mixsim.optimizer.read import csv_file_rows
from mixsim.scenario import Scenario
from mixsim.scenario.calibration import Calibration, ChannelColumns

__all__ = ["MAX_ROWS", "MIN_WEEKS", "History", "read_history"]

MIN_WEEKS = 8
"""The fewest weeks a history may have: fewer cannot tell media from the baseline."""

MAX_ROWS = 10 * 366
"""The most rows a history may have: ten years of days."""

_PERIODS = {7: "week", 1: "day"}


@dataclass(frozen=True)
class History:
    """What a business observed, period by period (weeks, or days), checked.

    Attributes
    ----------
    source : str
        The file it was read from.
    dates : tuple of datetime.date
        The first day of each period, increasing without gaps.
    period_days : int
        7 (weekly rows) or 1 (daily rows).
    kpi : str
        ``revenue`` or ``conversions``: what :attr:`observed` counts.
    observed : ndarray
        The KPI of each period.
    spend, impressions, clicks, activity : dict of str to ndarray
        Per channel of the scenario, the period's figures where the history has them (an owned channel has
        activity, exposures it was given, and no spend).
    controls : dict of str to ndarray
        Demand drivers by name: floats for a numeric column, strings for a text one.
    holdout_weeks : int
        The last weeks kept out of the fit.
    """

    source: str
    dates: tuple[dt.date, ...]
    period_days: int
    kpi: str
    observed: np.ndarray
    spend: dict[str, np.ndarray] = field(default_factory=dict)
    impressions: dict[str, np.ndarray] = field(default_factory=dict)
    clicks: dict[str, np.ndarray] = field(default_factory=dict)
    activity: dict[str, np.ndarray] = field(default_factory=dict)
    controls: dict[str, np.ndarray] = field(default_factory=dict)
    holdout_weeks: int = 0

    @property
    def periods(self) -> int:
        """Rows of the history."""
        return len(self.dates)

    @property
    def days(self) -> int:
        """Days the history covers."""
        return self.periods * self.period_days

    @property
    def weeks(self) -> int:
        """Whole and partial weeks the history covers."""
        return math.ceil(self.days / 7)

    @property
    def train_periods(self) -> int:
        """Rows of the fit: all but the holdout's."""
        return self.periods - self.holdout_weeks * 7 // self.period_days


def read_history(
    path: str | Path, scenario: Scenario, calibration: Calibration | None = None, holdout_weeks: int | None = None
) -> History:
    """Read and check a history CSV for ``scenario``.

    Parameters
    ----------
    path : str or Path
        The CSV file: a header row, then one row per week or per day.
    scenario : Scenario
        The scenario the history is of: every channel with spend must have a spend (or activity) column.
    calibration : Calibration, optional
        The column names; default the scenario's ``[calibration]`` table, else the names ``mixsim export-mmm``
        writes with the KPI ``revenue``.
    holdout_weeks : int, optional
        The last weeks kept out of the fit; default the calibration's.

    Returns
    -------
    History

    Raises
    ------
    InputError
        Naming the file, row and column of every problem: a missing column, a cell that is not a number (or a date),
        negative spend, impressions, clicks, activity or KPI, dates out of order, repeated or with gaps, rows neither
        7 nor 1 day apart, fewer than :data:`MIN_WEEKS` weeks, a holdout that leaves fewer than that to fit.
    """
    calibration = calibration or scenario.calibration or Calibration()
    source = str(path)
    rows = csv_file_rows(path, MAX_ROWS, "ten years of days", "history")
    if not rows:
        raise InputError([f"{source}: empty: a history needs a header row and one row per week"])
    (_, header), body = rows[0], rows[1:]
    names = [h.strip() for h in header]
    problems: list[str] = []
    columns = _columns(scenario, calibration, names, source, problems)
    if problems:
        raise InputError(screenful(problems, source))
    index = {name: i for i, name in enumerate(names)}

    def cells(column: str) -> list[tuple[int, str]]:
        at = index[column]
        return [(number, row[at].strip() if at < len(row) else "") for number, row in body]

    dates = _dates(cells(calibration.date), calibration.date, source, problems)
    numbers: dict[str, np.ndarray] = {}
    for column, kind in columns.items():
        if kind in ("date", "control"):
            continue
        numbers[column] = _numbers(cells(column), column, source, problems)
    controls: dict[str, np.ndarray] = {}
    for name, column in calibration.controls:
        controls[name] = _control(cells(column))
    if problems:
        raise InputError(screenful(problems, source))
    period = _period(dates, [n for n, _ in body], source, problems)
    if problems:
        raise InputError(screenful(problems, source))
    holdout = calibration.holdout_weeks if holdout_weeks is None else holdout_weeks
    weeks = len(dates) * period / 7
    if weeks < MIN_WEEKS:
        problems.append(f"{source}: {weeks:g} weeks of history: at least {MIN_WEEKS} are needed")
    elif holdout < 0 or weeks - holdout < MIN_WEEKS:
        problems.append(
            f"{source}: a holdout of {holdout} weeks leaves {weeks - holdout:g} weeks to fit: at least {MIN_WEEKS} "
            "are needed"
        )
    if problems:
        raise InputError(problems)
    mapping = _mapping(scenario, calibration, names)
    return History(
        source=source,
        dates=tuple(dates),
        period_days=period,
        kpi=calibration.kpi,
        observed=numbers[calibration.kpi_column],
        spend={c: numbers[m.spend] for c, m in mapping.items() if m.spend},
        impressions={c: numbers[m.impressions] for c, m in mapping.items() if m.impressions},
        clicks={c: numbers[m.clicks] for c, m in mapping.items() if m.clicks},
        activity={c: numbers[m.activity] for c, m in mapping.items() if m.activity},
        controls=controls,
        holdout_weeks=holdout,
    )


def _mapping(scenario: Scenario, calibration: Calibration, names: Sequence[str]) -> dict[str, ChannelColumns]:
    """Each channel's columns: the calibration's, else the ones export-mmm writes that the file has."""
    given = dict(calibration.channels)
    mapping: dict[str, ChannelColumns] = {}
    for channel in scenario.channel_names:
        if channel in given:
            mapping[channel] = given[channel]
        elif not given:
            present = {k: f"{channel}_{k}" for k in ("spend", "impressions", "clicks") if f"{channel}_{k}" in names}
            if present:
                mapping[channel] = ChannelColumns(**present)
    return mapping


def _columns(
    scenario: Scenario, calibration: Calibration, names: list[str], source: str, problems: list[str]
) -> dict[str, str]:
    """The columns to read, by role; a missing one is a problem naming the column, with the nearest name."""
    wanted: dict[str, str] = {calibration.date: "date", calibration.kpi_column: "kpi"}
    mapping = _mapping(scenario, calibration, names)
    for channel in scenario.channels:
        columns = mapping.get(channel.name)
        if columns is None or (columns.spend is None and columns.activity is None):
            if channel.spend > 0 or calibration.channels:
                problems.append(
                    f"{source}: channel {channel.name}: no spend column (expected {channel.name}_spend, or map it "
                    f"in [calibration.channels])"
                )
            continue
        for role in ("spend", "impressions", "clicks", "activity"):
            column = getattr(columns, role)
            if column is not None:
                wanted[column] = role
    for _, column in calibration.controls:
        wanted[column] = "control"
    for column, role in wanted.items():
        if column not in names:
            hint = name_hint(column, names, "column")
            problems.append(f"{source}: column {column!r} ({role}): not in the file{hint}")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    for name in duplicated:
        problems.append(f"{source}: column {name!r}: appears more than once in the header")
    return wanted


def _dates(cells: list[tuple[int, str]], column: str, source: str, problems: list[str]) -> list[dt.date]:
    dates = []
    for number, text in cells:
        try:
            dates.append(dt.datetime.fromisoformat(text).date())  # a date, or a date and time (export-mmm: a date)
        except ValueError:
            problems.append(f"{source}: row {number}: column {column}: must be a date, YYYY-MM-DD (got {text!r})")
    return dates


def _numbers(cells: list[tuple[int, str]], column: str, source: str, problems: list[str]) -> np.ndarray:
    values = np.zeros(len(cells))
    for k, (number, text) in enumerate(cells):
        try:
            value = float(text)
        except ValueError:
            problems.append(f"{source}: row {number}: column {column}: must be a number (got {text!r})")
            continue
        if not math.isfinite(value) or value < 0:
            problems.append(f"{source}: row {number}: column {column}: must be a finite number >= 0 (got {text!r})")
            continue
        values[k] = value
    return values


def _control(cells: list[tuple[int, str]]) -> np.ndarray:
    """A demand driver: floats when every cell is a number, else its text (levels)."""
    texts = [text for _, text in cells]
    try:
        values = np.array([float(t) for t in texts])
    except ValueError:
        return np.array(texts, dtype=object)
    return values if np.all(np.isfinite(values)) else np.array(texts, dtype=object)


def _period(dates: list[dt.date], numbers: list[int], source: str, problems: list[str]) -> int:
    """Days between rows (7 or 1, from the first two), checked on every row: increasing, no repeat, no gap."""
    if len(dates) < 2:
        return 7
    first = (dates[1] - dates[0]).days
    period = first if first in _PERIODS else 7
    if first not in _PERIODS:
        problems.append(
            f"{source}: row {numbers[1]}: rows must be a week or a day apart (got {first} days after {dates[0]})"
        )
    for k in range(1, len(dates)):
        step = (dates[k] - dates[k - 1]).days
        if step == period:
            continue
        if step == 0:
            what = f"repeats the {_PERIODS[period]} of row {numbers[k - 1]} ({dates[k]})"
        elif step < 0:
            what = f"dates must increase (got {dates[k]} after {dates[k - 1]})"
        else:
            what = f"a gap of {step} days after {dates[k - 1]} (rows are one {_PERIODS[period]} apart)"
        problems.append(f"{source}: row {numbers[k]}: {what}")
    return period
