"""A budget plan for every world a posterior allows: each world's response curves measured by simulation, the plan
that is best across them under a risk objective (:mod:`~mixsim.uncertainty.risk`), the point estimate's own plan
beside it, and both checked in paired simulation across the worlds.

The point estimate's plan is the one the scenario alone gives (its curves, the same constraints). Both plans are
bookings (:func:`booked`): each world delivers what it can of them, and the budget holds what is booked; both are
solved in a closed loop (curves measured again around each plan, within a shrinking trust region, as the optimizer's
own loop does). Each world's return is projected from the total simulated at the plan its curves were measured
around (:func:`~mixsim.uncertainty.risk.anchor`). On the worlds' curves each plan has a projected return per world;
the regret of the point plan is how much of the risk objective it gives up against the plan made for it, and
``higher`` is the share of worlds in which the risk plan's projected return is the higher. The check simulates
today's plan and both plans in every world on the same seeds (:func:`~mixsim.uncertainty.paired.compare_worlds`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.errors import InfeasibleError, InputError
from mixsim.optimizer import DEFAULT_LEVELS, Problem, curve_run_count, solve
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.export import round_to_total
from mixsim.optimizer.measure import measure_curves
from mixsim.optimizer.plan import Plan
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed
from mixsim.tables import json_ready, spreadsheet_safe
from mixsim.uncertainty.paired import WorldsComparison, compare_worlds
from mixsim.uncertainty.risk import Risk, RiskPlan, projected, solve_under_risk
from mixsim.uncertainty.sets import ParameterSets

__all__ = ["RobustPlan", "optimize_under_risk", "risk_measure"]


def risk_measure(returns: np.ndarray, risk: Risk) -> float:
    """``risk``'s value of ``returns`` across equally likely worlds: their mean, the mean of the worst share (CVaR,
    the worst world counted in part when the share does not fall on a whole number of worlds), or the lower
    quantile (:mod:`~mixsim.uncertainty.risk`)."""
    if risk.kind == "mean":
        return float(np.mean(returns))
    ordered = np.sort(returns)
    if risk.kind == "quantile":  # the (k+1)-th worst, k = floor(Q W): as many worlds may fall below it
        return float(ordered[min(int(np.floor(risk.level * len(ordered))), len(ordered) - 1)])
    weight = np.clip(risk.level * len(ordered) - np.arange(len(ordered)), 0.0, 1.0)
    return float(weight @ ordered / weight.sum())


@dataclass(frozen=True)
class RobustPlan:
    """The plan best across worlds under a risk objective, and the point estimate's plan beside it."""

    plan: RiskPlan
    plan_returns: np.ndarray  # the risk plan's projected return in each world, on the worlds' curves
    point: dict[str, float]
    point_returns: np.ndarray  # the point plan's projected return in each world, on the worlds' curves
    current: dict[str, float]
    check: WorldsComparison | None
    notes: tuple[str, ...] = ()  # why the closed loop stopped early, when it did
    seed: int = 0
    version: str = __version__

    def _repr_html_(self) -> str:
        return summary_html(
            f"RobustPlan under {self.plan.risk} ({self.plan.objective})",
            [f"{len(self.plan.returns)} parameter sets, seed {self.seed}; regret of the point plan {self.regret:,.0f}"],
            [("Allocation", self.to_frame())],
        )

    @property
    def regret(self) -> float:
        """What the point plan gives up of the risk objective against the risk plan, both on the worlds' last curves
        (measured around the risk plan). It can be negative: after the first solve the risk plan is held within a
        trust region around its previous self, which the point plan is not held to on these curves, and the
        program solves on a piecewise-linear approximation of them; the paired check is the figure to quote."""
        return risk_measure(self.plan_returns, self.plan.risk) - risk_measure(self.point_returns, self.plan.risk)

    def wins(self) -> dict[str, float] | None:
        """In the paired simulation, the share of worlds in which each plan's mean return (the objective's KPI) is
        the higher of the two (``tie``: equal), or None without one."""
        if self.check is None:
            return None
        kpi = self.plan.objective
        risk = self.check.values["risk plan"][kpi].mean(axis=1)
        point = self.check.values["point plan"][kpi].mean(axis=1)
        return {
            "risk plan": float(np.mean(risk > point)),
            "point plan": float(np.mean(point > risk)),
            "tie": float(np.mean(risk == point)),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per channel: ``channel``, ``current`` spend, the risk plan's ``spend`` and the point plan's
        ``point_spend``."""
        names = list(self.plan.allocation)
        return pd.DataFrame(
            {
                "channel": names,
                "current": [self.current.get(n, 0.0) for n in names],
                "spend": [self.plan.allocation[n] for n in names],
                "point_spend": [self.point[n] for n in names],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """``risk``, ``objective``, ``worlds``, ``allocation`` (per channel: ``current``, ``spend``,
        ``point_spend``), ``projected`` (each plan's risk value, mean and 5% to 95% of its return across worlds),
        ``regret`` of the point plan, ``higher`` (share of worlds where the risk plan projects more), ``check``
        (the paired simulation, as :meth:`WorldsComparison.to_dict`, or null), ``wins``, ``notes`` and
        ``version``."""

        def spread(returns: np.ndarray) -> dict[str, Any]:
            return {
                "risk_value": risk_measure(returns, self.plan.risk),
                "mean": float(np.mean(returns)),
                "range90": [float(np.quantile(returns, 0.05)), float(np.quantile(returns, 0.95))],
            }

        return {
            "risk": str(self.plan.risk),
            "objective": self.plan.objective,
            "worlds": len(self.plan.returns),
            "allocation": {
                name: {"current": self.current.get(name, 0.0), "spend": spend, "point_spend": self.point[name]}
                for name, spend in self.plan.allocation.items()
            },
            "projected": {"plan": spread(self.plan_returns), "point_plan": spread(self.point_returns)},
            "regret": self.regret,
            "higher": float(np.mean(self.plan_returns > self.point_returns)),
            "check": None if self.check is None else self.check.to_dict(),
            "wins": self.wins(),
            "notes": list(self.notes),
            "seed": self.seed,
            "version": __version__,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON; undefined figures are ``null``."""
        return json.dumps(json_ready(self.to_dict()), indent=indent, allow_nan=False)

    def rounded(self) -> pd.DataFrame:
        """:meth:`to_frame` as files carry it: money in whole units that add up to a ``total`` row (last), marked in
        a first column ``kind`` (``channel`` or ``total``)."""
        table = self.to_frame()
        for column in ("current", "spend", "point_spend"):
            table[column] = round_to_total(table[column].to_numpy())
        totals = pd.DataFrame([{"channel": "", **{c: float(table[c].sum()) for c in table.columns[1:]}}])
        out = pd.concat([table.assign(kind="channel"), totals.assign(kind="total")], ignore_index=True)
        return out[["kind", *table.columns]]

    def to_csv(self) -> str:
        """The allocation as CSV text (:meth:`rounded`): today's spend, the risk plan's and the point plan's."""
        return spreadsheet_safe(self.rounded()).to_csv(index=False)

    def to_xlsx(self) -> bytes:
        """A workbook a planner can forward: the Allocation sheet (:meth:`rounded`) and the Across worlds sheet
        (the risk, each plan's projected return across the parameter sets, the regret and, when checked, each
        plan's simulated gain over today's)."""
        data = self.to_dict()
        rows: list[tuple[str, Any]] = [
            ("risk", data["risk"]), ("objective", data["objective"]), ("parameter sets", data["worlds"]),
            ("regret of the point plan", data["regret"]),
        ]  # fmt: skip
        for label, key in (("risk plan", "plan"), ("point plan", "point_plan")):
            p = data["projected"][key]
            rows += [
                (f"{label}: projected {data['risk']}", p["risk_value"]),
                (f"{label}: projected mean", p["mean"]),
                (f"{label}: projected 5% of sets", p["range90"][0]),
                (f"{label}: projected 95% of sets", p["range90"][1]),
            ]
            if data["check"] is not None:
                gain = data["check"]["variants"][label][data["objective"]]
                rows += [
                    (f"{label}: simulated gain over today", gain["gain"]["mean"]),
                    (f"{label}: simulated gain, 5%", gain["gain"]["ci90"][0]),
                    (f"{label}: simulated gain, 95%", gain["gain"]["ci90"][1]),
                    (f"{label}: share of sets beating today", gain["higher"]),
                ]
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            spreadsheet_safe(self.rounded()).to_excel(writer, sheet_name="Allocation", index=False)
            summary = pd.DataFrame(rows, columns=["item", "value"])
            spreadsheet_safe(summary).to_excel(writer, sheet_name="Across worlds", index=False)
        return buffer.getvalue()


def booked(curves: CurveSet) -> CurveSet:
    """``curves`` on the axis of the spend booked: a plan across worlds books each channel once, and each world
    delivers (and bills) what it can of it. A channel that delivered all it was given keeps its curve; one that
    delivered less gets its measured points, each at the spend booked for it (flat past the first booking that
    delivered the most). The budget then holds the bookings, which no world bills more than.

    Parameters
    ----------
    curves : CurveSet
        Curves measured by simulation (spend delivered, with the bookings that delivered it).

    Returns
    -------
    CurveSet
    """
    out = []
    for c in curves.curves:
        if len(c.planned) != len(c.spend) or len(c.spend) < 2 or np.allclose(c.planned, c.spend, rtol=1e-9):
            out.append(c)
            continue
        ys = np.asarray(c(c.spend), dtype=float)
        out.append(
            dataclasses.replace(
                c, spend=c.planned.copy(), revenue=ys, revenue_low=ys, revenue_high=ys, hill=None,
                max_spend=float(c.planned[-1]),
            )
        )  # fmt: skip
    return dataclasses.replace(curves, curves=tuple(out))


def optimize_under_risk(
    scenario: Scenario,
    sets: ParameterSets,
    risk: Risk,
    *,
    objective: str = "revenue",
    worlds: int = 20,
    seed: int | None = None,
    replications: int = 3,
    levels: Sequence[float] = DEFAULT_LEVELS,
    check_replications: int = 5,
    iterations: int = 3,
    max_change: float | None = None,
    locked: Sequence[str] = (),
    curves: Sequence[CurveSet] | None = None,
    solver: str = "auto",
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> RobustPlan:
    """The plan for ``scenario``'s budget best across the first ``worlds`` parameter sets of ``sets`` under
    ``risk``, with the point estimate's plan beside it.

    Parameters
    ----------
    scenario : Scenario
        The point estimate (``calibrated.toml``): its plan is today's, its ``[budget]`` the constraints.
    sets : ParameterSets
        The posterior's parameter sets (equally weighted, as ``posterior.csv`` is); the first ``worlds`` are used.
    risk : Risk
        How returns across worlds are weighed.
    objective : {"revenue", "profit", "conversions"}, default="revenue"
    worlds : int, default=20
        Parameter sets to plan across (each costs one measurement of every channel's curve).
    seed, replications, levels
        As for :func:`mixsim.optimizer.response_curves`; every world on the same seeds.
    check_replications : int, default=5
        Replications per world of the paired simulation of today's plan and both plans (0: no check).
    iterations : int, default=3
        Solves: after each but the last, every world's curves are measured again around the risk plan (the
        point estimate's around its own), and both plans solved again.
    max_change, locked
        As for :func:`mixsim.optimize`: each channel within ``max_change`` of today's spend, the ``locked``
        channels at today's; the same in every world and for the point plan.
    curves : sequence of CurveSet, optional
        The point estimate's curves then each world's, already measured around today's plan with the same seed,
        replications and levels (:func:`~mixsim.optimizer.measure.measure_curves`), as :func:`mixsim.optimize`
        takes them; the first solve is on these instead of measuring them again.
    solver, workers, executor, progress
        As for :func:`mixsim.optimize`.

    Returns
    -------
    RobustPlan
    """
    if worlds < 1 or iterations < 1:
        raise InputError(f"worlds and iterations must be at least 1 (got {worlds} and {iterations})")
    seed = root_seed(scenario, seed)
    used = sets.first(worlds)
    measured = [scenario, *used.scenarios(scenario)]
    per = curve_run_count(scenario, replications, levels)
    if curves is not None and len(curves) != len(measured):
        raise InputError(f"curves: one set for the point estimate and each of {len(used)} worlds (got {len(curves)})")
    total = per * len(measured) * (iterations - (curves is not None)) + 3 * len(used) * check_replications
    done = 0

    def measure(around: Sequence[dict[str, float] | None]) -> list[CurveSet]:
        """Every world's curves (and the point estimate's), each around its plan, their runs handed out together."""
        nonlocal done
        base = done

        def counted(runs: int, _total: int) -> None:
            if progress is not None:
                progress(min(base + runs, total), total)

        out = measure_curves(
            measured, seed=seed, replications=replications, levels=levels, arounds=around, workers=workers,
            executor=executor, progress=counted,
        )  # fmt: skip
        done += per * len(measured)
        return out

    curves = list(curves) if curves is not None else measure([None] * len(measured))
    point_at: dict[str, float] | None = None
    plan_at: dict[str, float] | None = None
    last: tuple[Plan, RiskPlan] | None = None
    notes: list[str] = []
    for iteration in range(iterations):
        problems = [
            Problem.from_scenario(w, booked(c), objective=objective, max_change=max_change, locked=locked)
            for w, c in zip(measured, curves, strict=True)
        ]
        if iteration > 0:  # a shrinking trust region around the last plans, as the optimizer's own loop keeps
            radius = 0.5 ** (iteration + 1)
            problems = [
                dataclasses.replace(p, anchor=point_at if i == 0 else plan_at, radius=radius)
                for i, p in enumerate(problems)
            ]
        try:
            point = solve(problems[0], solver)
            if not point.optimal:
                raise InfeasibleError(f"the point estimate's plan: {point.message}")
            plan = solve_under_risk(problems[1:], risk, solver)
        except InfeasibleError as exc:
            if last is None:
                raise
            # Re-measured around the plans, a channel can deliver less than the constraints demand: keep the last
            # plans that held, as the optimizer's own loop does, and say why the loop stopped.
            notes.append(f"the loop stopped at solve {iteration + 1}: re-measured curves made it infeasible ({exc})")
            point, plan = last
            break
        last = (point, plan)
        point_at, plan_at = dict(point.allocation), dict(plan.allocation)
        if iteration + 1 < iterations:
            # The closed loop: each world's curves again, around the risk plan (the point estimate's around its
            # own), so that neither plan is solved on curves measured far from it. The point plan's returns across
            # the worlds are then projected on curves measured around the risk plan: the paired check is the
            # figure that sets the two side by side on equal terms.
            curves = measure([point_at, *([plan_at] * len(used))])
    point_returns, plan_returns = (
        np.array([projected(chosen, p) for p in problems[1:]]) for chosen in (point.allocation, plan.allocation)
    )
    current = {c.name: c.spend for c in scenario.channels}
    check = None
    if check_replications > 0:
        variants = [
            ("point plan", scenario.with_spend(point.allocation)),
            ("risk plan", scenario.with_spend(plan.allocation)),
        ]

        def checked(runs: int, _total: int) -> None:
            if progress is not None:
                progress(done + runs, total)

        check = compare_worlds(
            scenario, variants, used, base_label="today", seed=seed, replications=check_replications,
            workers=workers, executor=executor, progress=checked,
        )  # fmt: skip
    return RobustPlan(plan, plan_returns, point.allocation, point_returns, current, check, tuple(notes), seed)
