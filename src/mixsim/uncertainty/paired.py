"""Comparing plans across parameter sets: the base and each variant simulated in every world on the same seeds,
so that each variant's gain is paired (same parameters, same random numbers) and its spread splits between what the
data leave uncertain and chance; and how often, across the worlds, the variant comes out higher."""

from __future__ import annotations

import concurrent.futures as cf
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.engine import World
from mixsim.errors import InputError
from mixsim.memory import MAX_REPLICATIONS
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed, run_worlds
from mixsim.tables import json_ready
from mixsim.uncertainty.sets import ParameterSets
from mixsim.uncertainty.worlds import variance_shares

__all__ = ["WorldsComparison", "compare_worlds"]

KPIS = ("conversions", "revenue", "spend", "profit", "roas")
"""The figures a comparison across worlds reports."""


@dataclass(frozen=True)
class WorldsComparison:
    """Each scenario (the base first) in every world: ``values[label][kpi]`` is worlds x replications."""

    labels: tuple[str, ...]
    sets: ParameterSets
    values: dict[str, dict[str, np.ndarray]]
    seed: int
    replications: int
    version: str = __version__

    def _repr_html_(self) -> str:
        return summary_html(
            f"WorldsComparison: {', '.join(self.labels)}",
            [f"{len(self.sets)} parameter sets x {self.replications} replications, paired, seed {self.seed}"],
            [("Variants", self.to_frame())],
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per variant and KPI: the variant's ``mean`` and 90% interval over every world and replication,
        its ``gain`` over the base (paired: same world, same seed) with its 90% interval, the shares of the gain's
        spread ``from_parameters`` and ``from_chance``, and ``higher``: the share of worlds in which its mean gain is
        positive (``nan`` when the gain is 0 in every world, as for a variant that changes nothing)."""
        base = self.values[self.labels[0]]
        rows = []
        for label in self.labels[1:]:
            for kpi in KPIS:
                values, gain = self.values[label][kpi], self.values[label][kpi] - base[kpi]
                parameters, chance = variance_shares(gain) if np.all(np.isfinite(gain)) else (np.nan, np.nan)
                per_world = np.nanmean(gain, axis=1)
                decided = per_world[per_world != 0]
                rows.append(
                    {
                        "variant": label,
                        "kpi": kpi,
                        "mean": float(np.nanmean(values)),
                        "ci90_low": float(np.nanquantile(values, 0.05)),
                        "ci90_high": float(np.nanquantile(values, 0.95)),
                        "gain": float(np.nanmean(gain)),
                        "gain_ci90_low": float(np.nanquantile(gain, 0.05)),
                        "gain_ci90_high": float(np.nanquantile(gain, 0.95)),
                        "from_parameters": parameters,
                        "from_chance": chance,
                        "higher": float(np.mean(per_world > 0)) if decided.size else np.nan,
                    }
                )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """``base``, ``variants`` (per variant and KPI: ``mean``, ``ci90``, ``gain`` with ``ci90``,
        ``from_parameters``, ``from_chance`` and ``higher``), ``parameter_sets``, ``replications``, ``seed``,
        ``version``."""
        variants: dict[str, dict[str, Any]] = {}
        for row in self.to_frame().itertuples():
            variants.setdefault(str(row.variant), {})[str(row.kpi)] = {
                "mean": row.mean,
                "ci90": [row.ci90_low, row.ci90_high],
                "gain": {"mean": row.gain, "ci90": [row.gain_ci90_low, row.gain_ci90_high]},
                "from_parameters": row.from_parameters,
                "from_chance": row.from_chance,
                "higher": row.higher,
            }
        return {
            "base": self.labels[0],
            "variants": variants,
            "parameter_sets": self.sets.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "version": __version__,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON; undefined figures are ``null``."""
        return json.dumps(json_ready(self.to_dict()), indent=indent, allow_nan=False)


def compare_worlds(
    base: Scenario,
    variants: Sequence[tuple[str, Scenario]],
    sets: ParameterSets,
    *,
    base_label: str = "base",
    seed: int | None = None,
    replications: int = 10,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> WorldsComparison:
    """``base`` and each of ``variants`` in every parameter set of ``sets``, ``replications`` times each, every
    scenario and set on the same seeds (those of :func:`mixsim.simulate`), all in one batch of work.

    Parameters
    ----------
    base : Scenario
        The scenario the others are compared with; its seed is the default root seed.
    variants : sequence of (str, Scenario)
        The alternatives, labelled; the parameter sets apply to each of them as to the base.
    sets : ParameterSets
        The worlds (:func:`~mixsim.uncertainty.sets.read_parameter_sets`).
    base_label, seed, replications, workers, executor, progress
        As for :func:`mixsim.whatif.compare`.

    Returns
    -------
    WorldsComparison
    """
    labels = (base_label, *(label for label, _ in variants))
    if len(set(labels)) != len(labels):
        raise InputError(f"compare: every scenario needs a label of its own (got {', '.join(labels)})")
    total = len(labels) * len(sets) * replications
    if replications < 1 or total > MAX_REPLICATIONS:
        raise InputError(
            f"scenarios x parameter sets x replications must be at most {MAX_REPLICATIONS:,} (got {total:,})"
        )
    seed = root_seed(base, seed)
    seeds = np.random.SeedSequence(seed).spawn(replications)
    plans = [sets.scenarios(s) for s in (base, *(v for _, v in variants))]
    records = run_worlds([World(w, s) for plan in plans for w in plan for s in seeds], workers, executor, progress)
    values: dict[str, dict[str, np.ndarray]] = {}
    at = 0
    for label, plan in zip(labels, plans, strict=True):
        per_world = []
        for world in plan:
            result = SimulationResult(scenario=world, seed=seed, runs=tuple(records[at : at + replications]))
            per_world.append(result.kpi_values())
            at += replications
        values[label] = {kpi: np.vstack([p[kpi] for p in per_world]) for kpi in KPIS}
    return WorldsComparison(labels, sets, values, seed, replications)
