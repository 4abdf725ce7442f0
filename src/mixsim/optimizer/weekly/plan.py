"""What the week-level planner returns: a plan of spend per channel and week, with the same contract as the
channel-level :class:`~mixsim.optimizer.plan.Plan`.

A :class:`WeeklyPlan` is a frozen record of one solved flighting: spend, projected revenue and the current
flighting per channel-week; the money's shadow price; how the closed loop went (``converged``, and the money
moved and change in projected gain against their tolerances: ``convergence``); seed, replications and version;
and, once verified, a :class:`~mixsim.optimizer.plan.Verification`. It is a table
(``to_frame``, ``to_csv``: the flighting chart), JSON (``to_json``) and a workbook (``to_xlsx``), so
:func:`mixsim.optimizer.export.write_plan` writes it like any plan. It must not simulate or solve.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.errors import InfeasibleError
from mixsim.optimizer.export import flighting_csv, weekly_workbook
from mixsim.optimizer.plan import Verification
from mixsim.optimizer.program import OPTIMAL
from mixsim.tables import interval, json_ready, json_records

__all__ = ["WeeklyPlan"]


@dataclass(frozen=True)
class WeeklyPlan:
    """A solved week-level plan.

    Attributes
    ----------
    status : str
        ``"optimal"`` or ``"infeasible"`` (then ``message`` says why).
    channels : tuple of str
    spend : ndarray, shape (channels, weeks)
        The plan (NaN when infeasible).
    revenue : ndarray, shape (channels, weeks)
        Projected incremental revenue of each channel-week's spend.
    current : ndarray, shape (channels, weeks)
        The current flighting.
    total : float
        The money the plan could spend.
    shadow_price : float
        Revenue of one more dollar of the money (from the LP; for a MILP, with the on-air choices fixed).
    solver : str
        The backend that solved it (``highs`` or ``cbc``).
    seconds : float
        Build and solve time (last solve).
    message : str
        Why it is infeasible, when it is.
    current_revenue : ndarray, shape (channels, weeks)
        Projected revenue of each channel-week at the current flighting (the same curves).
    iterations : int
        Solves made (measure, solve, measure around the plan, solve again, ...); each solve follows a measurement.
    moves : tuple of float
        Each solve's move from the plan it was measured around: the money moved between channel-weeks
        (half the sum of absolute changes), as a share of the money.
    gain_changes : tuple of float
        Each solve's change in projected gain (:attr:`projected_gain`) from the solve before, as a share of the
        larger of the two gains (or of 1 currency unit, if both are smaller); the first solve's is from the
        starting plan's gain on the same curves.
    converged : bool
        Whether the closed loop settled: its last solve moved no more than ``tolerance`` of the money and changed
        the projected gain by no more than ``gain_tolerance`` (True for a plan solved once on given curves, as for
        the channel-level :class:`~mixsim.optimizer.plan.Plan`). :attr:`convergence` says it in words.
    tolerance, gain_tolerance : float or None
        The closed loop's tolerances on the money moved and on the change in projected gain (None for a plan
        solved once on given curves).
    rejected : int
        Plans the closed loop set aside because, simulated, they earned less than the plan they moved from.
    runs : int
        Simulation runs the closed loop made to measure curves (0 for a plan solved on given curves).
    constraints : dict
        The money and the time constraints as given (for the assumptions sheet).
    verification : Verification or None
        Simulation of the plan against the current flighting, when asked
        (:func:`~mixsim.optimizer.weekly.verify_weekly`).
    seed : int or None
        Root seed of the curves' measurement (None for curves not measured by simulation).
    replications : int
        Replications per curve level (0 for curves not measured by simulation).
    overrides : tuple of str
        The ``dotted.key=VALUE`` overrides of the scenario the plan was made for.
    scenario_source : str
        The scenario's file (or name).
    version : str
        mixsim version that made the plan.
    """

    status: str
    channels: tuple[str, ...]
    spend: np.ndarray = field(repr=False)
    revenue: np.ndarray = field(repr=False)
    current: np.ndarray = field(repr=False)
    total: float
    shadow_price: float
    solver: str
    seconds: float
    message: str = ""
    current_revenue: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    iterations: int = 1
    moves: tuple[float, ...] = ()
    gain_changes: tuple[float, ...] = ()
    converged: bool = True
    tolerance: float | None = None
    gain_tolerance: float | None = None
    rejected: int = 0
    runs: int = 0
    constraints: dict[str, Any] = field(default_factory=dict)
    verification: Verification | None = None
    seed: int | None = None
    replications: int = 0
    overrides: tuple[str, ...] = ()
    scenario_source: str = ""
    version: str = __version__

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL

    def check(self) -> WeeklyPlan:
        """Return the plan if it is optimal; raise :class:`~mixsim.InfeasibleError` with its message if not."""
        if not self.optimal:
            raise InfeasibleError(self.message)
        return self

    @property
    def weeks(self) -> int:
        """Number of weeks."""
        return int(self.spend.shape[1])

    @property
    def projected_gain(self) -> float:
        """Projected revenue of the plan minus the current flighting's, from the same curves (NaN when infeasible)."""
        if not self.optimal or self.current_revenue.shape != self.revenue.shape:
            return math.nan
        return float(self.revenue.sum() - self.current_revenue.sum())

    @property
    def convergence(self) -> str:
        """How the closed loop ended, in words: whether it converged, and the last solve's money moved and change
        in projected gain, each against its tolerance."""
        if self.tolerance is None or self.gain_tolerance is None or not self.moves or not self.gain_changes:
            return "solved once on given curves" if self.optimal else "no plan"
        moved, changed = self.moves[-1], self.gain_changes[-1]
        money = (
            f"moved {moved:.1%} of the money ({'within' if moved <= self.tolerance else 'above'} {self.tolerance:.1%})"
        )
        gain = (
            f"changed the projected gain by {changed:.1%} "
            f"({'within' if changed <= self.gain_tolerance else 'above'} {self.gain_tolerance:.1%})"
        )
        head = "converged" if self.converged else f"not converged after {self.iterations} solve(s)"
        return f"{head}: the last solve {money} and {gain}"

    def to_frame(self, wide: bool = False) -> pd.DataFrame:
        """The flighting plan: one row per channel and week (``channel``, ``week`` from 1, ``spend``,
        ``current``, ``revenue``), or with ``wide=True`` a channels x weeks table of spend, as planners lay out
        a flighting chart, with a ``total`` row and column."""
        weeks = np.arange(1, self.spend.shape[1] + 1)
        if wide:
            table = pd.DataFrame(self.spend, index=pd.Index(self.channels, name="channel"), columns=weeks)
            table.loc["total"] = table.sum(axis=0)
            table["total"] = table.sum(axis=1)
            return table
        c, w = self.spend.shape
        return pd.DataFrame(
            {
                "channel": np.repeat(self.channels, w),
                "week": np.tile(weeks, c),
                "spend": self.spend.ravel(),
                "current": self.current.ravel(),
                "revenue": self.revenue.ravel(),
            }
        )

    def to_dict(self, timings: bool = False) -> dict[str, Any]:
        """Everything in the plan as JSON-ready values: status, money, projection, solver, provenance, one record
        per channel-week and the verification (undefined figures are None). The seconds spent solving differ from
        run to run, so they are left out unless ``timings``: the same seed gives the same document."""
        doc: dict[str, Any] = {
            "status": self.status,
            "message": self.message or None,
            "total": self.total,
            "spend": float(np.nansum(self.spend)),
            "projected": {
                "revenue": float(np.nansum(self.revenue)),
                "current_revenue": float(np.nansum(self.current_revenue)) if self.current_revenue.size else None,
                "gain": self.projected_gain,
            },
            "shadow_price": self.shadow_price,
            "solver": {
                "name": self.solver,
                **({"seconds": self.seconds} if timings else {}),
                "iterations": self.iterations,
                "moves": list(self.moves),
                "gain_changes": list(self.gain_changes),
                "tolerance": self.tolerance,
                "gain_tolerance": self.gain_tolerance,
                "converged": self.converged,
                "convergence": self.convergence,
                "rejected": self.rejected,
            },
            "runs": self.runs,
            "constraints": self.constraints,
            "seed": self.seed,
            "replications": self.replications,
            "scenario": self.scenario_source or None,
            "overrides": list(self.overrides),
            "version": self.version,
            "weeks": json_records(self.to_frame()),
            "verification": None if self.verification is None else self.verification.to_dict(),
        }
        return json_ready(doc)

    def to_json(self, indent: int | None = 2, timings: bool = False) -> str:
        """The plan as one JSON object (:meth:`to_dict`; undefined figures are null, seconds only with
        ``timings``)."""
        return json.dumps(self.to_dict(timings), indent=indent, allow_nan=False)

    def to_csv(self) -> str:
        """The flighting chart (``to_frame(wide=True)``: channels x weeks, with totals) as CSV text, in whole
        currency units that add up to their totals (:func:`~mixsim.optimizer.export.rounded_flighting`)."""
        return flighting_csv(self)

    def to_xlsx(self) -> bytes:
        """A workbook a planner can forward: the Flighting sheet laid out as a flighting chart, the Weeks sheet in
        long form, the Assumptions, and the Verification when there is one."""
        return weekly_workbook(self)

    def assumptions(self) -> pd.DataFrame:
        """The plan's provenance as a two-column table (the XLSX assumptions sheet): the money, locks, pacing,
        weekly limits, how the closed loop went, seed, replications and version."""
        given = self.constraints
        limits = [
            f"{label} {name} {value:,.0f}"
            for key, label in (
                ("week_min", "least in a week on air:"),
                ("week_max", "most in a week:"),
                ("min_weeks_on", "fewest weeks on air:"),
                ("max_dark_weeks", "most dark weeks:"),
            )
            for name, value in given.get(key, {}).items()
        ]
        pacing = given.get("pacing_weeks"), given.get("pacing_share")
        gain = None
        if self.verification is not None:
            gain = interval(self.verification.runs["revenue", "gain"])
        items: list[tuple[str, Any]] = [
            ("status", self.status),
            ("scenario", self.scenario_source or "none"),
            ("scenario overrides", "; ".join(self.overrides) or "none"),
            ("money", self.total),
            ("budget", given.get("budget", "not used (committed spend plus additional money)")),
            ("committed spend", given.get("committed", 0.0)),
            ("additional money", given.get("additional", "none")),
            ("locked channels", ", ".join(given.get("locked", ())) or "none"),
            (
                "pacing",
                f"at most {pacing[1]:.0%} of the money in any {pacing[0]} weeks in a row"
                if pacing[0] is not None and pacing[1] is not None
                else "none",
            ),
            ("weekly limits", "; ".join(limits) or "none"),
            ("curves", "channel-week impulses measured by simulation" if self.replications else "given"),
            ("seed", self.seed),
            ("replications per curve level", self.replications),
            ("simulation runs", self.runs),
            ("solver", self.solver),
            ("closed-loop solves", self.iterations),
            ("closed loop converged", "yes" if self.converged else "no"),
            ("how the closed loop ended", self.convergence),
            ("money moved by each solve", ", ".join(f"{m:.2%}" for m in self.moves) or "none"),
            ("change in projected gain at each solve", ", ".join(f"{g:.2%}" for g in self.gain_changes) or "none"),
            ("plans set aside", self.rejected),
            (
                "projected gain (revenue, from the curves)",
                round(self.projected_gain) if math.isfinite(self.projected_gain) else None,
            ),
            (
                "verified gain (simulated, 90% interval)",
                f"{gain[0]:,.0f} [{gain[1]:,.0f}, {gain[2]:,.0f}]" if gain is not None else "not verified",
            ),
            ("shadow price of the money", self.shadow_price),
            ("mixsim version", self.version),
        ]
        if self.message:
            items.append(("message", self.message))
        return pd.DataFrame(items, columns=["item", "value"])

    def _repr_html_(self) -> str:
        c, w = self.spend.shape
        lines = [f"{self.status}: {c} channels x {w} weeks, money {self.total:,.0f}"]
        if self.optimal:
            lines.append(
                f"projected revenue from the channel-weeks {float(self.revenue.sum()):,.0f} "
                f"({self.projected_gain:+,.0f} against the current flighting); the next dollar returns "
                f"{self.shadow_price:,.3f} ({self.solver})"
            )
            lines.append(
                f"{self.iterations} solve(s), {self.convergence}"
                + (f", {self.runs:,} simulation runs" if self.runs else "")
            )
        else:
            lines.append(self.message)
        tables = [("Flighting: spend per channel and week", self.to_frame(wide=True).reset_index())]
        if self.verification is not None:
            tables.append(("Verified by simulation", self.verification.to_frame()))
        return summary_html("Week-level plan", lines, tables)
