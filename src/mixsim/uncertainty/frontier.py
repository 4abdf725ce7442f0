"""The budget frontier across a posterior: at each budget, the plan best across the worlds under a risk objective,
and how its projected return spreads across them.

Every world's curves are measured once, around today's plan, on the same seeds (as the one-world frontier reads
its budgets off one measurement); each budget is then one program across the worlds
(:func:`~mixsim.uncertainty.risk.solve_under_risk`).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.errors import InfeasibleError, InputError
from mixsim.optimizer import DEFAULT_LEVELS, Problem
from mixsim.optimizer.measure import measure_curves
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed
from mixsim.tables import json_ready
from mixsim.uncertainty.risk import Risk, RiskPlan, solve_under_risk
from mixsim.uncertainty.robust import booked, risk_measure
from mixsim.uncertainty.sets import ParameterSets

__all__ = ["RiskFrontier", "risk_frontier"]


@dataclass(frozen=True)
class RiskFrontier:
    """At each budget, the plan best across the worlds under ``risk`` (None where no plan meets the constraints)."""

    budgets: tuple[float, ...]
    plans: tuple[RiskPlan | None, ...]
    risk: Risk
    objective: str
    channels: tuple[str, ...]
    sets: ParameterSets
    seed: int = 0
    version: str = __version__

    def _repr_html_(self) -> str:
        return summary_html(
            f"RiskFrontier under {self.risk} ({self.objective})",
            [f"{len(self.sets)} parameter sets, seed {self.seed}; low and high hold 90% of the sets"],
            [("Budgets", self.to_frame())],
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per budget: ``budget``, ``risk_value``, ``mean``, ``low`` and ``high`` (5% and 95% of the
        projected return across the worlds), then each channel's spend; NaN where no plan meets the constraints."""
        rows = []
        for budget, plan in zip(self.budgets, self.plans, strict=True):
            row: dict[str, Any] = {"budget": budget}
            if plan is None:
                row |= dict.fromkeys(("risk_value", "mean", "low", "high", *self.channels), math.nan)
            else:
                returns = plan.returns
                row |= {
                    "risk_value": risk_measure(returns, self.risk),
                    "mean": float(np.mean(returns)),
                    "low": float(np.quantile(returns, 0.05)),
                    "high": float(np.quantile(returns, 0.95)),
                    **plan.allocation,
                }
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """``risk``, ``objective``, ``worlds``, ``points`` (:meth:`to_frame`'s rows), ``parameter_sets``, ``seed``
        and ``version``."""
        return {
            "risk": str(self.risk),
            "objective": self.objective,
            "worlds": len(self.sets),
            "points": self.to_frame().to_dict(orient="records"),
            "parameter_sets": self.sets.to_dict(),
            "seed": self.seed,
            "version": __version__,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON; undefined figures are ``null``."""
        return json.dumps(json_ready(self.to_dict()), indent=indent, allow_nan=False)

    def check(self) -> None:
        """Raise :class:`~mixsim.errors.InfeasibleError` when no budget has a plan."""
        if all(plan is None for plan in self.plans):
            raise InfeasibleError("no budget has a plan that meets the constraints in every world")


def risk_frontier(
    scenario: Scenario,
    sets: ParameterSets,
    budgets: Sequence[float],
    risk: Risk,
    *,
    objective: str = "revenue",
    worlds: int = 20,
    max_change: float | None = None,
    seed: int | None = None,
    replications: int = 3,
    levels: Sequence[float] = DEFAULT_LEVELS,
    solver: str = "auto",
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> RiskFrontier:
    """The plan best across the first ``worlds`` parameter sets of ``sets`` under ``risk`` at each of ``budgets``.

    Parameters
    ----------
    scenario : Scenario
        The point estimate: today's plan (the curves are measured around it) and the budget's rules.
    sets : ParameterSets
        The posterior's parameter sets (equally weighted); the first ``worlds`` are used.
    budgets : sequence of float
        The budgets, each > 0.
    risk : Risk
        How returns across the worlds are weighed.
    objective : {"revenue", "profit", "conversions"}, default="revenue"
    worlds, max_change, seed, replications, levels, solver, workers, executor, progress
        As for :func:`~mixsim.uncertainty.robust.optimize_under_risk` (a channel planned at 0 gets an even share of
        the largest budget as the reference of its levels).

    Returns
    -------
    RiskFrontier
    """
    if not budgets or any(not (math.isfinite(b) and b > 0) for b in budgets):
        raise InputError(f"budgets: one or more amounts > 0 (got {list(budgets)})")
    if worlds < 1:
        raise InputError(f"worlds: at least 1 (got {worlds})")
    seed = root_seed(scenario, seed)
    used = sets.first(worlds)
    scenes = used.scenarios(scenario)
    measured = measure_curves(
        scenes, seed=seed, replications=replications, levels=levels, budget=max(budgets), workers=workers,
        executor=executor, progress=progress,
    )  # fmt: skip
    problems = [
        Problem.from_scenario(w, booked(c), objective=objective, max_change=max_change)
        for w, c in zip(scenes, measured, strict=True)
    ]
    plans: list[RiskPlan | None] = []
    for budget in budgets:
        try:
            plans.append(solve_under_risk([replace(p, budget=float(budget)) for p in problems], risk, solver))
        except InfeasibleError:
            plans.append(None)
    return RiskFrontier(
        tuple(float(b) for b in budgets), tuple(plans), risk, objective, scenario.channel_names, used, seed
    )
