"""Scenario sweeps: many variants of one scenario, each simulated (and optionally optimized), saved as they finish.

A sweep is described by a grid file (every combination of some keys' values, or a random sample of cells) and run
cell by cell on any executor. Each finished cell is written at once to its own Parquet file inside the output
folder (a Parquet dataset), atomically, so an interrupted sweep (Ctrl-C, a killed worker, a lost scheduler) keeps
every cell it finished. Run it again and the finished cells are skipped; :func:`read_sweep` reads the dataset,
one row per cell, whatever was interrupted where.

Every cell runs on the same seeds (common random numbers), so differences between cells are the effect of the
values varied, not of luck.
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._files import write_atomic
from mixsim._version import __version__
from mixsim.errors import InputError, ScenarioError
from mixsim.executors import run_all
from mixsim.optimizer import optimize as optimize_plan
from mixsim.scenario import Scenario, require_scenario, scenario_to_dict
from mixsim.scenario.files import read_toml
from mixsim.simulation import root_seed, simulate
from mixsim.tables import interval, json_ready

SWEPT_CHANNEL_METRICS: tuple[str, ...] = ("spend", "exposures", "reach", "frequency", "linear")
"""Per-channel figures each row carries (means over replications)."""

MAX_CELLS = 10_000
"""Most cells of a sweep, refused before any is built: each cell is a scenario validated up front and a file in the
output folder, and at a few cells a second (one replication of a small scenario) 10,000 cells already take about an
hour. Split a larger design into several sweeps, or sample it (``[sample]``)."""

_PART = "cell-"


@dataclass(frozen=True, eq=False)
class Sweep:
    """A described sweep: the base scenario and its cells, ready to run.

    Attributes
    ----------
    base : Scenario
        The scenario every cell varies.
    keys : tuple of str
        The dotted keys varied.
    cells : tuple of dict
        One mapping of key to value per cell, in order.
    scenarios : tuple of Scenario
        Each cell's scenario, validated.
    seed : int
        Root seed every cell runs with.
    replications : int
        Replications per cell.
    optimize : bool
        Whether each cell's budget is also optimized.
    version : str
        The mixsim version that described the sweep (part of its identity: another version runs another sweep).
    """

    base: Scenario
    keys: tuple[str, ...]
    cells: tuple[dict[str, Any], ...]
    scenarios: tuple[Scenario, ...]
    seed: int
    replications: int
    optimize: bool = False
    version: str = __version__

    @functools.cached_property
    def sweep_id(self) -> str:
        """A fingerprint of everything that decides the results: every cell's resolved scenario, the seed, the
        replications, whether cells are optimized, and the mixsim version (computed once)."""
        digest = hashlib.sha256()
        head = {"seed": self.seed, "replications": self.replications, "optimize": self.optimize, "v": self.version}
        digest.update(json.dumps(head, sort_keys=True).encode())
        for scenario in self.scenarios:
            digest.update(json.dumps(scenario_to_dict(scenario), sort_keys=True, default=str).encode())
        return digest.hexdigest()[:16]

    def cell_id(self, index: int) -> str:
        """The identity of cell ``index`` within this sweep."""
        return f"{self.sweep_id}-{index:06d}"

    def to_frame(self) -> pd.DataFrame:
        """The cells as described: one row per cell with ``cell``, ``cell_id`` and the value of each key varied
        (named by its dotted key). The results of a run are :func:`read_sweep`'s table."""
        rows = [{"cell": i, "cell_id": self.cell_id(i), **cell} for i, cell in enumerate(self.cells)]
        return pd.DataFrame(rows, columns=["cell", "cell_id", *self.keys])

    def to_dict(self) -> dict[str, Any]:
        """The description as plain data: identity, seed, replications, version, the keys and every cell."""
        return json_ready(
            {
                "sweep_id": self.sweep_id,
                "scenario": self.base.name,
                "source": self.base.source,
                "seed": self.seed,
                "replications": self.replications,
                "optimize": self.optimize,
                "version": self.version,
                "keys": list(self.keys),
                "cells": [{"cell": i, "cell_id": self.cell_id(i), **cell} for i, cell in enumerate(self.cells)],
            }
        )

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON (undefined numbers are null)."""
        return json.dumps(self.to_dict(), indent=indent)

    def _repr_html_(self) -> str:
        return summary_html(
            f"Sweep {self.sweep_id} of {self.base.name}: {len(self.cells)} cells over {', '.join(self.keys)}",
            [
                f"{self.replications} replications per cell, seed {self.seed} in every cell (common random "
                f"numbers){'; each budget optimized' if self.optimize else ''}; mixsim {self.version}",
                "Run it with run_sweep(sweep, folder); read the results with read_sweep(folder)",
            ],
            [("Cells", self.to_frame())],
        )


def read_grid(path: str | Path) -> dict[str, Any]:
    """Read a grid file (TOML): ``[grid]`` key = list of values, or ``[sample]`` with ``cells``, ``seed``,
    ``[sample.ranges]`` key = [low, high] and ``[sample.choices]`` key = list; optional ``[sweep]`` with
    ``replications`` and ``optimize``.

    Raises
    ------
    InputError
        Naming the file and what is wrong with it.
    """
    source = str(path)
    if not Path(path).exists():
        raise InputError(f"{source}: no such grid file")
    try:  # read as a scenario file is: size limited, devices refused, nesting bounded, a byte-order mark skipped
        data = read_toml(source)
    except ScenarioError as exc:
        raise InputError(exc.problems) from None
    problems = []
    unknown = sorted(set(data) - {"grid", "sample", "sweep"})
    if unknown:
        problems.append(
            f"{source}: unknown table(s) {', '.join(unknown)} (a grid file has [grid] or [sample], and [sweep])"
        )
    if ("grid" in data) == ("sample" in data):
        problems.append(f"{source}: give exactly one of [grid] (every combination) or [sample] (random cells)")
    if problems:
        raise InputError(problems)
    return data


def describe(
    base: Scenario,
    grid: Mapping[str, Any],
    *,
    seed: int | None = None,
    replications: int | None = None,
    optimize: bool | None = None,
    source: str = "<grid>",
) -> Sweep:
    """Build every cell's scenario from a grid (as :func:`read_grid` returns it), validating all of them first.

    Raises
    ------
    InputError
        Naming the grid file and the cell or key at fault, before anything is simulated (a value that makes a
        cell's scenario break the scenario contract is the grid's fault: its problems are listed per cell).
    """
    require_scenario(base, "base")
    options = dict(grid.get("sweep", {}))
    reps = replications if replications is not None else options.get("replications", 5)
    if not isinstance(reps, int) or isinstance(reps, bool) or reps < 1:
        raise InputError(f"{source}: sweep.replications: must be an integer >= 1 (got {reps!r})")
    opt = optimize if optimize is not None else options.get("optimize", False)
    if not isinstance(opt, bool):
        raise InputError(f"{source}: sweep.optimize: must be true or false (got {opt!r})")
    unknown = sorted(set(options) - {"replications", "optimize"})
    if unknown:
        raise InputError(f"{source}: sweep: unknown key(s) {', '.join(unknown)} (it takes replications, optimize)")
    cells = _grid_cells(grid["grid"], source) if "grid" in grid else _sample_cells(grid["sample"], source)
    keys = tuple(cells[0]) if cells else ()
    if "scenario.seed" in keys:
        raise InputError(f"{source}: scenario.seed: every cell runs on the sweep's seed; it cannot vary")
    cells = _same_types(cells, keys)
    scenarios, problems = [], []
    for i, cell in enumerate(cells):
        try:
            scenarios.append(base.replace(cell))
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v}" for k, v in cell.items())
            problems += [f"{source}: cell {i} ({where}): {line}" for line in exc.problems]
    if problems:
        raise InputError(problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else []))
    return Sweep(base, keys, tuple(cells), tuple(scenarios), root_seed(base, seed), reps, opt)


def _same_types(cells: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """A key with any float value holds floats in every cell (one column type in every file of the dataset)."""
    floats = {k for k in keys if any(isinstance(c[k], float) for c in cells)}
    return [
        {k: float(v) if k in floats and isinstance(v, int) and not isinstance(v, bool) else v for k, v in c.items()}
        for c in cells
    ]


def _grid_cells(grid: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(grid, dict) or not grid:
        raise InputError(f"{source}: grid: must be a table of dotted keys, each with a list of values")
    bad = [k for k, v in grid.items() if not isinstance(v, list) or not v]
    if bad:
        raise InputError([f"{source}: grid.{k}: must be a non-empty list of values (got {grid[k]!r})" for k in bad])
    keys = list(grid)
    cells = math.prod(len(grid[k]) for k in keys)
    if cells > MAX_CELLS:  # counted before building any, so a huge grid is refused at once
        sizes = " x ".join(f"{len(grid[k]):,}" for k in keys)
        raise InputError(f"{source}: grid: {sizes} = {cells:,} cells; at most {MAX_CELLS:,} in one sweep")
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def _sample_cells(sample: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(sample, dict):
        raise InputError(f"{source}: sample: must be a table")
    n, seed = sample.get("cells"), sample.get("seed", 0)
    ranges, choices = sample.get("ranges", {}), sample.get("choices", {})
    problems = []
    unknown = sorted(set(sample) - {"cells", "seed", "ranges", "choices"})
    if unknown:
        problems.append(
            f"{source}: sample: unknown key(s) {', '.join(unknown)} (it takes cells, seed, ranges, choices)"
        )
    for name, table in (("ranges", ranges), ("choices", choices)):
        if not isinstance(table, dict):
            problems.append(f"{source}: sample.{name}: must be a table of dotted keys (got {table!r})")
    if problems:
        raise InputError(problems)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        problems.append(f"{source}: sample.cells: must be an integer >= 1 (got {n!r})")
    elif n > MAX_CELLS:
        problems.append(f"{source}: sample.cells: at most {MAX_CELLS:,} in one sweep (got {n:,})")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        problems.append(f"{source}: sample.seed: must be an integer >= 0 (got {seed!r})")
    for key, bounds in ranges.items():
        ok = isinstance(bounds, list) and len(bounds) == 2
        ok = ok and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
        if not ok or not bounds[0] <= bounds[1]:
            problems.append(f"{source}: sample.ranges.{key}: must be [low, high] with low <= high (got {bounds!r})")
    for key, values in choices.items():
        if not isinstance(values, list) or not values:
            problems.append(f"{source}: sample.choices.{key}: must be a non-empty list (got {values!r})")
    if not ranges and not choices:
        problems.append(f"{source}: sample: give keys to vary in [sample.ranges] or [sample.choices]")
    if problems:
        raise InputError(problems)
    assert isinstance(n, int)
    rng = np.random.default_rng(seed)
    cells = []
    for _ in range(n):
        cell: dict[str, Any] = {
            # Whole-number bounds (a population, a cap) draw whole numbers.
            key: int(rng.integers(low, high + 1))
            if isinstance(low, int) and isinstance(high, int)
            else float(rng.uniform(low, high))
            for key, (low, high) in ranges.items()
        }
        cell.update({key: values[int(rng.integers(len(values)))] for key, values in choices.items()})
        cells.append(cell)
    return cells


def run_cell(scenario: Scenario, seed: int, replications: int, optimize: bool) -> dict[str, Any]:
    """Simulate (and optimize) one cell in this process; the row :func:`run_sweep` saves, without its labels."""
    result = simulate(scenario, seed=seed, replications=replications)
    row: dict[str, Any] = {}
    for kpi, values in result.kpi_values().items():
        mean, low, high = interval(values)
        row.update({kpi: float(mean), f"{kpi}_low": float(low), f"{kpi}_high": float(high)})
    channel_values = result.channel_values()
    for k, name in enumerate(result.channels):
        for metric in SWEPT_CHANNEL_METRICS:
            row[f"{name}.{metric}"] = float(np.nanmean(channel_values[metric][:, k]))
    if optimize:
        plan = optimize_plan(scenario, seed=seed, replications=max(1, min(replications, 3)), max_iterations=2)
        row["optimized.status"] = plan.status
        row["optimized.revenue"] = plan.total_revenue if plan.optimal else math.nan
        for c in plan.channels:
            row[f"optimized.{c.channel}.spend"] = c.spend if plan.optimal else math.nan
    return row


def done_cells(out: str | Path, sweep: Sweep) -> set[int]:
    """Cells of ``sweep`` already saved in ``out``.

    Raises
    ------
    InputError
        If ``out`` holds anything but this sweep's cells (another sweep's, other files, a damaged file).
    """
    folder = Path(out)
    if folder.is_dir():
        foreign = sorted(
            p.name for p in folder.iterdir() if not p.name.startswith((_PART, ".")) or not p.name.endswith(".parquet")
        )
        foreign = [name for name in foreign if not name.startswith(".")]
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise InputError(f"{out}: holds other files ({shown}): a sweep needs a folder of its own")
    table = read_sweep(out)
    if table.empty:
        return set()
    others = sorted(set(table["sweep_id"]) - {sweep.sweep_id})
    if others:
        raise InputError(
            f"{out}: holds results of a different sweep (another scenario, grid, seed or replications): "
            "choose another folder, or remove this one to start again"
        )
    return set(int(c) for c in table["cell"])


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Run every cell not yet in ``out`` and save each as it finishes; returns the whole table.

    Parameters
    ----------
    sweep : Sweep
        From :func:`describe`.
    out : str or Path
        The Parquet dataset (a folder; created if missing). Cells already in it are skipped.
    executor : concurrent.futures.Executor, optional
        Where cells run (a process pool, a Dask client's executor); default this process, one cell at a time.
    progress : callable, optional
        ``progress(cells done, cells in all)``, counting cells found already done.

    Returns
    -------
    pandas.DataFrame
        :func:`read_sweep` of ``out`` once every cell is in.

    Raises
    ------
    InputError
        If ``out`` holds a different sweep, other files, or a damaged cell file. A failing cell (e.g. its worker
        was killed) raises its error after every cell that finished is saved: running again resumes.
    """
    folder = Path(out)
    done = done_cells(folder, sweep)
    todo = [i for i in range(len(sweep.cells)) if i not in done]
    total = len(sweep.cells)
    if progress is not None:
        progress(len(done), total)
    jobs = [(sweep.scenarios[i], sweep.seed, sweep.replications, sweep.optimize) for i in todo]
    run_all(
        run_cell,
        jobs,
        executor,
        None if progress is None else lambda count, _: progress(len(done) + count, total),
        lambda k, values: _save(folder, sweep, todo[k], values),
    )
    return read_sweep(folder)


def _save(folder: Path, sweep: Sweep, index: int, values: dict[str, Any]) -> None:
    """One cell's row as its own Parquet file, written atomically (a reader sees all of it or none)."""
    row: dict[str, Any] = {"cell": index, "cell_id": sweep.cell_id(index), "sweep_id": sweep.sweep_id}
    row.update({key: sweep.cells[index][key] for key in sweep.keys})
    row.update({"seed": sweep.seed, "replications": sweep.replications, "version": __version__})
    row.update(values)
    data = pd.DataFrame([row]).to_parquet(index=False)
    write_atomic(folder / f"{_PART}{index:06d}-{sweep.sweep_id}.parquet", data)


def read_sweep(out: str | Path) -> pd.DataFrame:
    """The saved cells of a sweep, one row per cell, in cell order (an empty table if there are none yet).

    Columns: ``cell``, ``cell_id``, ``sweep_id``, the keys varied (named by their dotted keys), ``seed``,
    ``replications``, ``version``, each KPI's mean with ``_low`` and ``_high`` (its 90% interval over
    replications), and per channel ``<channel>.<metric>`` means (spend, exposures, reach, frequency, linear
    attribution); with optimization, ``optimized.status``, ``optimized.revenue`` and ``optimized.<channel>.spend``.
    """
    folder = Path(out)
    parts = sorted(folder.glob(f"{_PART}*.parquet")) if folder.is_dir() else []
    if not parts:
        return pd.DataFrame()
    frames = []
    for part in parts:
        try:
            frames.append(pd.read_parquet(part))
        except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
            raise InputError(
                f"{part}: not a readable cell ({type(exc).__name__}): remove it, and its cell runs again"
            ) from None
    table = pd.concat(frames, ignore_index=True)
    # A cell saved twice (two runs racing on one folder) is the same result: keep one.
    table = table.drop_duplicates("cell_id").sort_values("cell", kind="stable")
    return table.reset_index(drop=True)
