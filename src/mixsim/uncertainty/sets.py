"""Parameter sets a business's data cannot tell apart: the rows of a posterior sample (``posterior.csv`` of ``mixsim
calibrate``, or any CSV whose columns are dotted scenario keys), each a world in which to simulate and plan.

Every problem names the file, the row (counting the header as row 1) and the column; the whole file is checked
before anything is raised (at most a screenful of problems). Columns of the baseline's terms (``baseline.*``)
describe the demand of the history the posterior was fitted to, not the scenario's, and are left out, as
``calibrated.toml`` leaves them out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mixsim.errors import InputError, MixsimError, screenful
from mixsim.optimizer.read import csv_file_rows
from mixsim.scenario import Scenario

__all__ = ["MAX_SETS", "ParameterSets", "read_parameter_sets"]

MAX_SETS = 10_000
"""The most parameter sets a file may hold."""

BASELINE = "baseline."
"""Columns of the baseline's terms start with it (left out)."""


@dataclass(frozen=True)
class ParameterSets:
    """Parameter sets: one value per dotted key and set (sets x keys), and where they came from."""

    keys: tuple[str, ...]
    values: np.ndarray
    source: str = "parameter sets"
    rows: tuple[int, ...] = ()  # each set's row in its file (default: the header's row 1, then 2, 3, ...)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(self.keys) or values.shape[0] < 1:
            raise InputError(f"{self.source}: parameter sets must be a table of at least one row, one column per key")
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def to_dict(self) -> dict[str, Any]:
        """``count``, ``keys`` and ``source``: what a result across these sets says of them."""
        return {"count": len(self), "keys": list(self.keys), "source": self.source}

    def first(self, count: int) -> ParameterSets:
        """The first ``count`` parameter sets (all of them when there are fewer)."""
        return ParameterSets(self.keys, self.values[:count], self.source, self.rows[:count])

    def scenarios(self, scenario: Scenario) -> list[Scenario]:
        """``scenario`` with each set's values, one scenario per set, each validated (a set that breaks a rule is
        refused naming its row)."""
        out, problems = [], []
        for i, row in enumerate(self.values):
            try:
                out.append(scenario.replace(dict(zip(self.keys, map(float, row), strict=True))))
            except MixsimError as exc:
                number = self.rows[i] if self.rows else i + 2
                problems += [f"{self.source}: row {number}: {_said(p, self.keys)}" for p in exc.problems]
        if problems:
            raise InputError(screenful(problems, self.source))
        return out


def read_parameter_sets(path: str | Path, scenario: Scenario) -> ParameterSets:
    """The parameter sets in the CSV file at ``path``, checked against ``scenario``.

    Parameters
    ----------
    path : str or Path
        A header of dotted keys (``channels.tv.p_aware``, ``organic.awareness_rate``, ...), then one row per set.
    scenario : Scenario
        The scenario the keys are of: every key must be a number of it, and every row must make a valid scenario.

    Returns
    -------
    ParameterSets

    Raises
    ------
    InputError
        Naming the file, row and column of every problem: an empty file, no rows, a key that is not the
        scenario's, a column named twice, a cell that is not a finite number, a row that breaks a scenario rule,
        more than :data:`MAX_SETS` rows.
    """
    source = str(path)
    rows = csv_file_rows(path, MAX_SETS, f"at most {MAX_SETS:,} parameter sets", "parameter sets")
    if len(rows) < 2:
        raise InputError([f"{source}: needs a header of dotted keys and at least one row of values"])
    (_, header), body = rows[0], rows[1:]
    names = [h.strip() for h in header]
    problems: list[str] = []
    kept = [k for k, name in enumerate(names) if not name.startswith(BASELINE)]
    for k in kept:
        name = names[k]
        if names.count(name) > 1 and names.index(name) == k:
            problems.append(f"{source}: column {name!r}: appears more than once in the header")
        elif not name:
            problems.append(f"{source}: column {k + 1}: has no name (a dotted key such as channels.tv.p_aware)")
    if not kept:
        problems.append(f"{source}: no column is a scenario key (only the baseline's terms, which are left out)")
    if problems:
        raise InputError(screenful(problems, source))
    keys = tuple(names[k] for k in kept)
    values = np.zeros((len(body), len(keys)))
    for i, (number, row) in enumerate(body):
        if len(row) != len(names):
            problems.append(f"{source}: row {number}: has {len(row)} cells, the header {len(names)}")
            continue
        for j, k in enumerate(kept):
            text = row[k].strip()
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                problems.append(f"{source}: row {number}: column {keys[j]}: must be a finite number (got {text!r})")
            values[i, j] = value
    if problems:
        raise InputError(screenful(problems, source))
    for key, value in zip(keys, values[0], strict=True):  # each key alone, on the first row: named once
        try:
            scenario.replace({key: float(value)})
        except MixsimError as exc:
            problems += [f"{source}: {_said(p, (key,))}" for p in exc.problems if _is_key_problem(p)]
    if problems:
        raise InputError(screenful(problems, source))
    sets = ParameterSets(keys, values, source, tuple(number for number, _ in body))
    sets.scenarios(scenario)  # every row valid, or every problem named by its row
    return sets


def _is_key_problem(problem: str) -> bool:
    return "unknown key" in problem or "no such channel" in problem or "no such segment" in problem


def _said(problem: str, keys: tuple[str, ...]) -> str:
    """A scenario's problem about one of ``keys`` as ``column KEY: RULE``."""
    for key in keys:
        at = problem.find(f"{key}: ")
        if at >= 0:
            return f"column {problem[at:]}"
    return re.sub(r"^replace '([^']*)': ", r"column \1: ", problem)
