"""Experiments: lift tests a business ran, read from a CSV file in the layouts marketers' tools use, and reproduced
in silico by the scenario replayed over the history.

Three layouts, told apart by their header (every column named, in any order):

* a test window per channel, ``channel, start, end, lift, spend`` (and optionally ``standard_error``): the channel
  was switched off from ``start`` to ``end`` (dates, both included), which cost ``lift`` of the KPI over the window;
  ``spend`` is what the channel would have spent there;
* a spend change, ``channel, x, delta_x, delta_y, sigma``: with the channel at ``x`` a week, ``delta_x`` more a week
  brought ``delta_y`` more of the KPI a week (standard error ``sigma``);
* an estimate, ``channel, roas_or_incremental_per_dollar, standard_error, start, end``: the KPI per dollar the
  channel brought from ``start`` to ``end``.

Each is reproduced by the simulation itself, on the same random numbers: the replay with the channel off in the
window's weeks (or at ``x`` and at ``x + delta_x`` a week over the whole history) against the replay as it is. No
layout is converted into another. A window's standard error, when not given, is the simulated test's own spread
over its replications.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mixsim.calibration.history import History
from mixsim.errors import InputError, screenful
from mixsim.optimizer.read import csv_file_rows
from mixsim.scenario import Scenario

__all__ = ["LAYOUTS", "Experiment", "measure", "read_lift", "standard_error", "variants"]

LAYOUTS: dict[str, tuple[str, ...]] = {
    "window": ("channel", "start", "end", "lift", "spend"),
    "spend_change": ("channel", "x", "delta_x", "delta_y", "sigma"),
    "estimate": ("channel", "roas_or_incremental_per_dollar", "standard_error", "start", "end"),
}
"""The columns each layout needs."""


@dataclass(frozen=True)
class Experiment:
    """One lift test: its channel, layout and observed figure with its standard error (NaN: the simulated test's
    own), the weeks of the history it covers (``first`` to ``last``, counted from 0), and the spend levels of a spend
    change (a week's ``x`` and ``x + delta_x``)."""

    row: int
    channel: str
    layout: str
    observed: float
    standard_error: float
    first: int = 0
    last: int = 0
    x: float = 0.0
    delta_x: float = 0.0

    @property
    def label(self) -> str:
        """What the test was, in a few words."""
        if self.layout == "spend_change":
            return f"{self.channel} at {self.x:,.0f} + {self.delta_x:,.0f} a week"
        return f"{self.channel} off, weeks {self.first + 1}-{self.last + 1}"


def variants(replay: Scenario, history: History, experiment: Experiment) -> list[Scenario]:
    """The runs that reproduce the experiment besides the replay itself: the replay with the channel off in the
    window's weeks; or, for a spend change, the replay with the channel at ``x`` and at ``x + delta_x`` a week over
    the whole history."""
    channel = replay.channel(experiment.channel)
    weeks = history.weeks
    if experiment.layout == "spend_change":
        return [
            replay.with_channel(channel.name, spend=level * weeks, flighting=[1.0] * weeks, min_spend=0.0)
            for level in (experiment.x, experiment.x + experiment.delta_x)
        ]
    weights = list(channel.flighting) if channel.flighting is not None else [1.0] * weeks
    kept = [0.0 if experiment.first <= w <= experiment.last else weights[w] for w in range(weeks)]
    if not any(kept) or channel.spend <= 0:
        return [replay.with_spend({channel.name: 0.0})]
    spend = channel.spend * sum(kept) / sum(weights)
    return [replay.with_channel(channel.name, spend=spend, flighting=kept)]


def measure(experiment: Experiment, history: History, on: np.ndarray, changed: list[np.ndarray]) -> float:
    """The test's figure in one replication, from the replay's KPI per period (``on``) and that of each of its
    :func:`variants` (``changed``): the KPI lost over the window, that per dollar the channel spent there (an
    estimate), or the KPI a week gained by ``delta_x`` more a week (a spend change)."""
    if experiment.layout == "spend_change":
        return float((changed[1] - changed[0]).sum()) / history.weeks
    week = np.arange(history.periods) * history.period_days // 7
    inside = (week >= experiment.first) & (week <= experiment.last)
    lost = float((on - changed[0])[inside].sum())
    if experiment.layout == "estimate":
        spend = float(history.spend[experiment.channel][inside].sum()) if experiment.channel in history.spend else 0.0
        return lost / spend if spend > 0 else math.nan
    return lost


def standard_error(experiment: Experiment, simulated: np.ndarray) -> float:
    """The experiment's standard error; when the file gives none, the simulated test's spread over its
    replications, at least 5% of the observed figure (and above 0)."""
    if math.isfinite(experiment.standard_error):
        return experiment.standard_error
    spread = float(np.std(simulated, ddof=1)) if simulated.size > 1 else 0.0
    return max(spread, 0.05 * abs(experiment.observed), 1e-9)


def read_lift(path: str | Path, scenario: Scenario, history: History) -> list[Experiment]:
    """Read and check the lift tests of ``path`` for ``scenario`` over ``history``.

    Raises
    ------
    InputError
        Naming the file, row and column: an unknown layout (the header names none of them), an unknown channel, a
        cell that is not a number or a date, a negative spend or standard error (a standard error of 0 too), a
        window outside the history or ending before it starts.
    """
    source = str(path)
    rows = csv_file_rows(path, 10_000, "ten thousand lift tests", "lift tests")
    if len(rows) < 2:
        raise InputError([f"{source}: no lift test: a header row and one row per test are needed"])
    header = [h.strip() for h in rows[0][1]]
    layout = next((name for name, columns in LAYOUTS.items() if set(columns) <= set(header)), None)
    if layout is None:
        layouts = "; ".join(", ".join(c) for c in LAYOUTS.values())
        raise InputError([f"{source}: row 1: the header names no layout of lift tests (columns of one: {layouts})"])
    at = {name: i for i, name in enumerate(header)}
    problems: list[str] = []
    out = []
    for number, cells in rows[1:]:

        def cell(column: str, cells: list[str] = cells) -> str:
            return cells[at[column]].strip() if at[column] < len(cells) else ""

        def number_of(column: str, positive: bool = False, number: int = number) -> float:
            text = cell(column)
            try:
                value = float(text)
            except ValueError:
                problems.append(f"{source}: row {number}: column {column}: must be a number (got {text!r})")
                return math.nan
            if not math.isfinite(value) or (positive and value <= 0):
                rule = "a number > 0" if positive else "a finite number"
                problems.append(f"{source}: row {number}: column {column}: must be {rule} (got {text!r})")
                return math.nan
            return value

        channel = cell("channel")
        if channel not in scenario.channel_names:
            problems.append(
                f"{source}: row {number}: column channel: no channel {channel!r} "
                f"(channels: {', '.join(scenario.channel_names)})"
            )
            continue
        if layout == "spend_change":
            x, dx = number_of("x"), number_of("delta_x")
            dy, sigma = number_of("delta_y"), number_of("sigma", positive=True)
            if x < 0 or x + dx < 0:
                problems.append(f"{source}: row {number}: columns x, delta_x: spend must stay >= 0")
            out.append(Experiment(number, channel, layout, dy, sigma, 0, history.weeks - 1, x, dx))
            continue
        first, last = _window(cell("start"), cell("end"), history, source, number, problems)
        if layout == "window":
            lift, spend = number_of("lift"), number_of("spend")
            if spend < 0:
                problems.append(f"{source}: row {number}: column spend: must be >= 0 (got {cell('spend')!r})")
            se = (
                number_of("standard_error", positive=True)
                if "standard_error" in at and cell("standard_error")
                else math.nan
            )
            out.append(Experiment(number, channel, layout, lift, se, first, last))
        else:
            value = number_of("roas_or_incremental_per_dollar")
            out.append(
                Experiment(number, channel, layout, value, number_of("standard_error", positive=True), first, last)
            )
    if problems:
        raise InputError(screenful(problems, source))
    return out


def _window(start: str, end: str, history: History, source: str, number: int, problems: list[str]) -> tuple[int, int]:
    """The history's weeks (from 0) a test from ``start`` to ``end`` covers; a problem when outside the history."""
    try:
        first_day, last_day = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        problems.append(
            f"{source}: row {number}: columns start, end: must be dates, YYYY-MM-DD (got {start!r}, {end!r})"
        )
        return 0, 0
    begin = history.dates[0]
    stop = begin + dt.timedelta(days=history.days - 1)
    if last_day < first_day:
        problems.append(f"{source}: row {number}: column end: must not be before start (got {end} before {start})")
    elif first_day < begin or last_day > stop:
        problems.append(
            f"{source}: row {number}: columns start, end: the test ({start} to {end}) must lie within the history "
            f"({begin} to {stop})"
        )
    return (first_day - begin).days // 7, (last_day - begin).days // 7
