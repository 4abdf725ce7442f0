"""Response curves in every world a posterior allows: each parameter set's curves measured on the same seeds, and
how far the figures a planner reads off them (a channel's ROAS and marginal return at today's spend) spread across
the sets."""

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
from mixsim.optimizer import DEFAULT_LEVELS
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.measure import measure_curves
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed
from mixsim.tables import check_table, json_ready
from mixsim.uncertainty.sets import ParameterSets

__all__ = ["WorldsCurves", "curves_across"]

TABLES = ("summary", "points", "fits")
_FIGURES = ("revenue_at_current", "roas_at_current", "marginal_roas_at_current")


@dataclass(frozen=True)
class WorldsCurves:
    """Every parameter set's response curves (``curves[i]`` of ``sets`` row ``i``), measured on the same seeds."""

    curves: tuple[CurveSet, ...]
    sets: ParameterSets
    seed: int
    replications: int
    version: str = __version__

    def _repr_html_(self) -> str:
        return summary_html(
            "WorldsCurves",
            [f"{len(self.curves)} parameter sets x {self.replications} replications per level, seed {self.seed}"],
            [("At today's spend", self.to_frame())],
        )

    def to_frame(self, table: str = "summary") -> pd.DataFrame:
        """``"summary"``: one row per channel and figure (``revenue_at_current``, ``roas_at_current``,
        ``marginal_roas_at_current``) with its ``mean`` and ``low``, ``high`` (5% and 95% across the sets);
        ``"points"`` and ``"fits"``: each set's :meth:`CurveSet.to_frame` with a first column ``set`` (from 0, in
        the file's order)."""
        check_table(table, TABLES)
        if table != "summary":
            return pd.concat(
                [c.to_frame(table).assign(set=i) for i, c in enumerate(self.curves)], ignore_index=True
            ).pipe(lambda f: f[["set", *(c for c in f.columns if c != "set")]])
        fits = self.to_frame("fits")
        rows = []
        for channel, group in fits.groupby("channel", sort=False):
            for figure in _FIGURES:
                values = group[figure].to_numpy(dtype=float)
                values = values[np.isfinite(values)]
                low, high = np.quantile(values, (0.05, 0.95)) if values.size else (np.nan, np.nan)
                rows.append(
                    {
                        "channel": channel,
                        "figure": figure,
                        "mean": float(values.mean()) if values.size else np.nan,
                        "low": float(low),
                        "high": float(high),
                    }
                )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """``summary`` (per channel, each figure's ``mean`` and ``range90``), ``parameter_sets``, ``replications``,
        ``seed`` and ``version``."""
        summary: dict[str, dict[str, Any]] = {}
        for row in self.to_frame().to_dict(orient="records"):
            summary.setdefault(str(row["channel"]), {})[str(row["figure"])] = {
                "mean": row["mean"],
                "range90": [row["low"], row["high"]],
            }
        return {
            "summary": summary,
            "parameter_sets": self.sets.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "version": __version__,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON; undefined figures are ``null``."""
        return json.dumps(json_ready(self.to_dict()), indent=indent, allow_nan=False)


def curves_across(
    scenario: Scenario,
    sets: ParameterSets,
    *,
    seed: int | None = None,
    replications: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> WorldsCurves:
    """Every parameter set's response curves around today's plan, on the same seeds (a set's curves are those
    :func:`mixsim.optimizer.response_curves` gives the scenario with that set), all runs handed out together.

    Parameters
    ----------
    scenario : Scenario
    sets : ParameterSets
        Every set is measured (:meth:`ParameterSets.first` for fewer).
    seed, replications, levels, workers, executor, progress
        As for :func:`mixsim.optimizer.response_curves`.

    Returns
    -------
    WorldsCurves
    """
    seed = root_seed(scenario, seed)
    measured = measure_curves(
        sets.scenarios(scenario), seed=seed, replications=replications, levels=levels, workers=workers,
        executor=executor, progress=progress,
    )  # fmt: skip
    return WorldsCurves(tuple(measured), sets, seed, replications)
