"""Simulating across parameter sets: each set is a world, replications run within each on the same seeds (common
random numbers: two worlds differ by their parameters, not by luck), and every figure's spread is split into the
share due to the parameters and the share due to chance.

The split is the two-way analysis of variance of a world-by-replication table ``v[s, r]`` (worlds ``s``, shared
seeds ``r``): the parameters' variance is the variance of the worlds' means less what chance leaves in them (the
interaction's mean square over the replications), and chance's is the mean variance across replications within a
world. Their shares add up to 1. With one replication chance cannot be told from the parameters: no split.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.engine import World
from mixsim.errors import InputError
from mixsim.memory import MAX_REPLICATIONS
from mixsim.results import INCREMENTAL_METRICS, SimulationResult
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed, run_worlds, simulation_result, simulation_tasks
from mixsim.tables import json_ready
from mixsim.uncertainty.sets import ParameterSets

__all__ = ["WorldsResult", "simulate_worlds", "variance_shares"]


def variance_shares(values: np.ndarray) -> tuple[float, float]:
    """The shares of ``values``' spread (worlds x replications, on shared seeds) due to the parameters and to
    chance, adding up to 1 (``nan`` for both with one replication, or when nothing varies)."""
    worlds, reps = values.shape
    if reps < 2:
        return float("nan"), float("nan")
    chance = float(np.mean(np.var(values, axis=1, ddof=1)))
    parameters = 0.0
    if worlds > 1:
        means = values.mean(axis=1)
        residual = values - means[:, None] - values.mean(axis=0)[None, :] + values.mean()
        interaction = float(np.sum(residual**2)) / ((worlds - 1) * (reps - 1))
        parameters = max(0.0, float(np.var(means, ddof=1)) - interaction / reps)
    total = parameters + chance
    if total <= 0:
        return float("nan"), float("nan")
    return parameters / total, chance / total


@dataclass(frozen=True)
class WorldsResult:
    """A scenario simulated in every parameter set: one :class:`~mixsim.results.SimulationResult` per set, all on
    the same seeds."""

    scenario: Scenario
    sets: ParameterSets
    results: tuple[SimulationResult, ...]
    seed: int
    version: str = __version__

    def _repr_html_(self) -> str:
        return summary_html(
            f"WorldsResult: {self.scenario.name}",
            [
                f"{len(self.sets)} parameter sets from {self.sets.source} x {self.replications} replications, seed "
                f"{self.seed}; [ci90_low, ci90_high] holds 90% of them"
            ],
            [("KPIs", self.to_frame())],
        )

    @property
    def replications(self) -> int:
        return self.results[0].replications

    def kpi_values(self) -> dict[str, np.ndarray]:
        """Each headline figure (:meth:`SimulationResult.kpi_values`) per world and replication
        (sets x replications)."""
        per = [r.kpi_values() for r in self.results]
        return {kpi: np.vstack([p[kpi] for p in per]) for kpi in per[0]}

    def channel_values(self) -> dict[str, np.ndarray]:
        """Each channel's figures (:meth:`SimulationResult.channel_values`, and with incrementality its true
        ``incremental_*`` figures) per world, replication and channel (sets x replications x channels)."""
        per = [r.channel_values() | _incremental(r) for r in self.results]
        return {metric: np.stack([p[metric] for p in per]) for metric in per[0]}

    def to_frame(self, table: str = "kpis") -> pd.DataFrame:
        """``"kpis"``: one row per KPI; ``"channels"``: one row per channel and metric. Each gives the ``mean`` over
        every world and replication, ``ci90_low`` and ``ci90_high`` (the interval holding 90% of them: what the
        figure may be, given the parameters the data allow and chance), and the shares of its spread
        ``from_parameters`` and ``from_chance`` (:func:`variance_shares`)."""
        if table == "kpis":
            return pd.DataFrame([{"kpi": k, **_summary(v)} for k, v in self.kpi_values().items()])
        if table == "channels":
            names = self.scenario.channel_names
            return pd.DataFrame(
                [
                    {"channel": name, "metric": metric, **_summary(values[:, :, j])}
                    for j, name in enumerate(names)
                    for metric, values in self.channel_values().items()
                ]
            )
        raise ValueError(f"table: 'kpis' or 'channels' (got {table!r})")

    def to_dict(self) -> dict[str, Any]:
        """``kpis`` (per KPI: ``mean``, ``ci90``, ``from_parameters``, ``from_chance``), ``channels`` (the same per
        channel and metric), ``parameter_sets`` (how many, their keys and file), ``replications`` (per set),
        ``seed`` and ``version``."""
        channels: dict[str, dict[str, Any]] = {}
        for row in self.to_frame("channels").itertuples():
            channels.setdefault(str(row.channel), {})[str(row.metric)] = _figure(row)
        return {
            "scenario": self.scenario.name,
            "kpis": {str(row.kpi): _figure(row) for row in self.to_frame().itertuples()},
            "channels": channels,
            "parameter_sets": self.sets.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "version": __version__,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON; undefined figures are ``null``."""
        return json.dumps(json_ready(self.to_dict()), indent=indent, allow_nan=False)


def _incremental(result: SimulationResult) -> dict[str, np.ndarray]:
    """A result's true incremental figures per replication and channel, named as its channel table names them."""
    truth = result.incrementality
    if truth is None:
        return {}
    metrics = (*INCREMENTAL_METRICS, "purchases") if result.scenario.repeats else INCREMENTAL_METRICS
    return {f"incremental_{m}": getattr(truth, m) for m in metrics}


def _summary(values: np.ndarray) -> dict[str, float]:
    """``values`` (worlds x replications): mean, the interval holding 90% of them, and the shares of their spread."""
    flat = values[np.isfinite(values)]
    low, high = np.quantile(flat, (0.05, 0.95)) if flat.size else (np.nan, np.nan)
    parameters, chance = variance_shares(values) if np.all(np.isfinite(values)) else (np.nan, np.nan)
    return {
        "mean": float(flat.mean()) if flat.size else np.nan,
        "ci90_low": float(low),
        "ci90_high": float(high),
        "from_parameters": parameters,
        "from_chance": chance,
    }


def _figure(row: Any) -> dict[str, Any]:
    return {
        "mean": row.mean,
        "ci90": [row.ci90_low, row.ci90_high],
        "from_parameters": row.from_parameters,
        "from_chance": row.from_chance,
    }


def simulate_worlds(
    scenario: Scenario,
    sets: ParameterSets,
    *,
    seed: int | None = None,
    replications: int = 10,
    incrementality: bool = False,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> WorldsResult:
    """Simulate ``scenario`` in each parameter set of ``sets``, ``replications`` times each, every set on the same
    seeds (those :func:`mixsim.simulate` uses: a posterior of one set is the scenario with that set, run alone).

    Parameters
    ----------
    scenario : Scenario
        The scenario the parameter sets are of.
    sets : ParameterSets
        The worlds (:func:`~mixsim.uncertainty.sets.read_parameter_sets`).
    seed : int, optional
        Root seed; default the scenario's, else 0.
    replications : int, default=10
        Runs per set; at least 2 to split each figure's spread between parameters and chance.
    incrementality : bool, default=False
        Also each channel's true incremental figures in every set (as :func:`mixsim.simulate` measures them).
    workers, executor, progress
        As for :func:`mixsim.simulate`; every set's runs are batched together.

    Returns
    -------
    WorldsResult
    """
    if not 1 <= replications * len(sets) <= MAX_REPLICATIONS or replications < 1:
        raise InputError(
            f"replications x parameter sets must be from 1 to {MAX_REPLICATIONS:,} "
            f"(got {replications:,} x {len(sets):,})"
        )
    seed = root_seed(scenario, seed)
    seeds = np.random.SeedSequence(seed).spawn(replications)
    worlds = sets.scenarios(scenario)
    tasks = [simulation_tasks(w, replications, incrementality) for w in worlds]
    runs = [
        World(w.with_spend(dict(t.spend)) if t.spend else w, seeds[t.replication])
        for w, own in zip(worlds, tasks, strict=True)
        for t in own
    ]
    records = run_worlds(runs, workers, executor, progress)
    results, at = [], 0
    for w, own in zip(worlds, tasks, strict=True):
        results.append(simulation_result(w, seed, replications, incrementality, records[at : at + len(own)]))
        at += len(own)
    return WorldsResult(scenario, sets, tuple(results), seed)
