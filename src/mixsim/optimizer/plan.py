"""What the optimizer returns: the plan, its verification by simulation, and the budget frontier.

A :class:`Plan` is a frozen record of one solved allocation: per channel spend, change against the current
plan, projected outcome and marginal return; the budget's shadow price; which constraints bind; how it was
solved. :mod:`mixsim.optimizer.export` writes it as CSV, JSON or a formatted XLSX workbook.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.errors import InfeasibleError
from mixsim.optimizer.export import plan_workbook
from mixsim.optimizer.objectives import OBJECTIVES
from mixsim.tables import interval, json_ready, json_records

__all__ = ["Binding", "ChannelPlan", "Frontier", "Plan", "Verification", "cost"]


@dataclass(frozen=True)
class ChannelPlan:
    """One channel's line of a plan (money in the scenario's currency; outcomes incremental, from the curves)."""

    channel: str
    spend: float
    current: float
    revenue: float
    conversions: float
    current_revenue: float
    marginal_return: float
    fixed_cost: float = 0.0
    book: float = math.nan

    @property
    def booked(self) -> float:
        """What to plan (book) for the channel to deliver :attr:`spend`: more than it where the channel cannot
        deliver all it is given (a frequency cap, a small audience); the money not delivered is not spent."""
        return self.book if math.isfinite(self.book) else self.spend

    @property
    def change(self) -> float:
        """Booked spend against the current plan's (both planned figures)."""
        return self.booked - self.current

    @property
    def active(self) -> bool:
        return self.spend > 0


def cost(lines: Iterable[ChannelPlan], *, current: bool = False) -> float:
    """What a plan's lines cost against a budget: media spend plus the fixed cost of each channel used.

    The one place a plan's cost is counted (the plan's :attr:`Plan.spend`, the objective value of min-spend
    and profit, the verification's projected spend, the figures' current plan). With ``current``, the
    current plan's cost (each line's current spend, a channel used when that is above 0).
    """
    lines = tuple(lines)
    if current:
        return sum(c.current for c in lines) + sum(c.fixed_cost for c in lines if c.current > 0)
    return sum(c.spend for c in lines) + sum(c.fixed_cost for c in lines if c.active)


@dataclass(frozen=True)
class Binding:
    """A constraint that holds with equality at the plan, and what relaxing it by one unit is worth.

    ``shadow_price`` is in the objective's units per unit of the bound (revenue, profit or conversions per
    dollar; for min-spend, the spend saved), >= 0; NaN where the solver gives no dual (a curve's end).
    """

    name: str
    bound: float
    shadow_price: float = math.nan


@dataclass(frozen=True)
class Verification:
    """The plan and the current plan simulated with the same random numbers, against the projection.

    Attributes
    ----------
    replications, seed : int
        How the simulation was run.
    projected : dict
        ``(metric, outcome)`` -> projected value, for metric ``revenue``, ``conversions`` or ``spend`` (the spend
        the runs delivered) and outcome ``plan``/``current``/``gain`` (plan minus current).
    runs : dict
        ``(metric, outcome)`` -> one simulated value per replication (paired: same random numbers).
    """

    replications: int
    seed: int
    projected: dict[tuple[str, str], float]
    runs: dict[tuple[str, str], np.ndarray]

    def to_frame(self) -> pd.DataFrame:
        """One row per metric and outcome: projected, simulated mean, its 90% interval, and whether it covers."""
        rows = []
        for (metric, outcome), runs in self.runs.items():
            mean, low, high = interval(runs)
            projected = self.projected.get((metric, outcome), math.nan)
            rows.append(
                {
                    "metric": metric,
                    "outcome": outcome,
                    "projected": projected,
                    "simulated": float(mean),
                    "ci90_low": float(low),
                    "ci90_high": float(high),
                    "projection_within_ci90": bool(low <= projected <= high) if math.isfinite(projected) else None,
                }
            )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "replications": self.replications,
            "seed": self.seed,
            "rows": self.to_frame().to_dict(orient="records"),
        }


@dataclass(frozen=True)
class Plan:
    """A solved allocation.

    Attributes
    ----------
    status : str
        ``"optimal"`` or ``"infeasible"`` (then ``message`` says which constraints conflict).
    objective : str
        What was optimized: revenue, profit, conversions, min-spend, cpa or roas.
    objective_value : float
        The objective at the plan, from the curves (revenue, profit or conversions; spend for min-spend).
    budget : float
        The budget the plan may use.
    channels : tuple of ChannelPlan
        One line per channel.
    shadow_price : float
        What one more dollar of budget adds to the objective, in its units (0 when the budget does not bind).
    binding : tuple of Binding
        Constraints that hold with equality.
    solver : str
        The backend that solved it (``highs`` or ``cbc``).
    build_seconds, solve_seconds : float
        Time to build the program and to solve it (last iteration).
    iterations : int
        Solves in the closed loop (1 for curves that were not re-measured).
    moves : tuple of float
        Largest change of any channel's spend between successive solves, as a share of the budget.
    order_value : float
        Revenue per conversion (NaN when unknown).
    margin : float
        Gross margin (for profit).
    total_revenue : float
        Projected total revenue at the plan (organic included): the revenue simulated at the plan the curves
        were measured around, plus each channel's curve from there to the plan (NaN for curves from a file).
    current_total_revenue : float
        Total revenue simulated at the current plan (NaN for curves from a file).
    constraints : dict
        The constraints as given (for the assumptions sheet).
    source : str
        Where the curves came from.
    message : str
        Why the plan is infeasible ('' when optimal).
    verification : Verification or None
        Simulation of the plan against the current plan, when asked.
    seed, replications : int
        How the curves were measured (replications per level; 0 for curves from a file).
    converged : bool
        False when the closed loop stopped before the plan settled (see ``notes``).
    notes : tuple of str
        What a reader of the plan should know: a loop that did not settle, a channel held by the loop's step.
    """

    status: str
    objective: str
    objective_value: float
    budget: float
    channels: tuple[ChannelPlan, ...]
    shadow_price: float
    binding: tuple[Binding, ...]
    solver: str
    build_seconds: float
    solve_seconds: float
    iterations: int = 1
    moves: tuple[float, ...] = ()
    order_value: float = math.nan
    margin: float = 1.0
    total_revenue: float = math.nan
    current_total_revenue: float = math.nan
    constraints: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    message: str = ""
    verification: Verification | None = None
    seed: int | None = None
    replications: int = 0
    converged: bool = True
    notes: tuple[str, ...] = ()
    version: str = __version__

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"

    def check(self) -> Plan:
        """Return the plan if it is optimal; raise :class:`~mixsim.InfeasibleError` with its message if not."""
        if not self.optimal:
            raise InfeasibleError(self.message)
        return self

    @property
    def allocation(self) -> dict[str, float]:
        """Spend per channel: what each is to deliver (the curves' spend axis)."""
        return {c.channel: c.spend for c in self.channels}

    @property
    def bookings(self) -> dict[str, float]:
        """Planned spend per channel that delivers :attr:`allocation` (see :attr:`ChannelPlan.booked`)."""
        return {c.channel: c.booked for c in self.channels}

    @property
    def spend(self) -> float:
        """What the plan costs against its budget: media spend plus the fixed costs of the channels used."""
        return cost(self.channels)

    @property
    def fixed_costs(self) -> float:
        """The fixed costs of the channels the plan uses."""
        return sum(c.fixed_cost for c in self.channels if c.active)

    @property
    def current_spend(self) -> float:
        """What the current plan costs, counted as :attr:`spend` is (media plus the fixed costs of the channels
        it uses)."""
        return cost(self.channels, current=True)

    @property
    def revenue(self) -> float:
        """Projected incremental revenue of the channels at the plan."""
        return sum(c.revenue for c in self.channels)

    @property
    def current_revenue(self) -> float:
        return sum(c.current_revenue for c in self.channels)

    def _repr_html_(self) -> str:
        lines = [f"{self.status}: {self.objective} {self.objective_value:,.2f} within budget {self.budget:,.0f}"]
        if self.status == "optimal":
            unit = OBJECTIVES[self.objective].shadow_unit
            lines.append(f"next dollar of budget returns {self.shadow_price:,.3f} of {unit} ({self.solver})")
        else:
            lines.append(self.message)
        tables = [("Allocation", self.to_frame())]
        if self.verification is not None:
            tables.append(("Verified by simulation", self.verification.to_frame()))
        return summary_html("Plan", lines, tables)

    def to_frame(self) -> pd.DataFrame:
        """One row per channel and a ``total`` row: spend, share, change, projected outcome, marginal return.

        ``spend`` is what the channel is to deliver (the curves' axis); ``book`` is the planned spend that
        delivers it, higher where a channel cannot deliver all it is given (the difference is not spent).
        """
        spend = sum(c.spend for c in self.channels)
        rows = [
            {
                "channel": c.channel,
                "spend": c.spend,
                "book": c.booked,
                "share": c.spend / spend if spend > 0 else math.nan,
                "current_spend": c.current,
                "change": c.change,
                "change_pct": c.change / c.current if c.current > 0 else math.nan,
                "fixed_cost": c.fixed_cost if c.active else 0.0,
                "projected_conversions": c.conversions,
                "projected_revenue": c.revenue,
                "current_revenue": c.current_revenue,
                "roas": c.revenue / c.spend if c.spend > 0 else math.nan,
                "marginal_return": c.marginal_return,
            }
            for c in self.channels
        ]
        current = sum(c.current for c in self.channels)
        rows.append(
            {
                "channel": "total",
                "spend": spend,
                "book": sum(c.booked for c in self.channels),
                "share": 1.0 if spend > 0 else math.nan,
                "current_spend": current,
                "change": sum(c.change for c in self.channels),
                "change_pct": sum(c.change for c in self.channels) / current if current > 0 else math.nan,
                "fixed_cost": self.fixed_costs,
                "projected_conversions": sum(c.conversions for c in self.channels),
                "projected_revenue": self.revenue,
                "current_revenue": self.current_revenue,
                "roas": self.revenue / self.spend if self.spend > 0 else math.nan,
                # Channels' marginal returns are revenue per dollar; the budget's shadow price is in the
                # objective's units, the same only when the objective is revenue.
                "marginal_return": self.shadow_price if self.objective == "revenue" else math.nan,
            }
        )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        projected: dict[str, Any] = {
            "spend": self.spend,
            "revenue": self.revenue,
            "conversions": self.revenue / self.order_value if math.isfinite(self.order_value) else None,
            "current_revenue": self.current_revenue,
            "profit": self.revenue * self.margin - self.spend,
        }
        if math.isfinite(self.total_revenue):
            projected["total_revenue"] = self.total_revenue
            projected["current_total_revenue"] = self.current_total_revenue
        doc = {
            "status": self.status,
            "message": self.message or None,
            "objective": self.objective,
            "objective_value": self.objective_value,
            "budget": self.budget,
            "allocation": {c.channel: c.spend for c in self.channels},
            "book": self.bookings,
            "current": {c.channel: c.current for c in self.channels},
            "projected": projected,
            "channels": self.to_frame().iloc[:-1].to_dict(orient="records"),
            "marginal_return": {c.channel: c.marginal_return for c in self.channels},
            "shadow_price": self.shadow_price,
            "binding": [{"name": b.name, "bound": b.bound, "shadow_price": b.shadow_price} for b in self.binding],
            "solver": {
                "name": self.solver,
                "build_seconds": self.build_seconds,
                "solve_seconds": self.solve_seconds,
                "iterations": self.iterations,
                "moves": list(self.moves),
                "converged": self.converged,
            },
            "notes": list(self.notes),
            "constraints": self.constraints,
            "source": self.source,
            "seed": self.seed,
            "replications": self.replications,
            "version": self.version,
        }
        if self.verification is not None:
            doc["verification"] = self.verification.to_dict()
        return json_ready(doc)

    def to_json(self, indent: int | None = 2) -> str:
        """The plan as JSON (undefined figures are null)."""
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self) -> str:
        """The allocation table (:meth:`to_frame`) as CSV text."""
        return self.to_frame().to_csv(index=False)

    def to_xlsx(self) -> bytes:
        """A workbook a planner can forward: the formatted allocation, the assumptions, the verification."""
        return plan_workbook(self)

    def assumptions(self) -> pd.DataFrame:
        """The plan's provenance as a two-column table (the XLSX assumptions sheet)."""
        items: list[tuple[str, Any]] = [
            ("objective", self.objective),
            ("budget", self.budget),
            ("curves", self.source),
            ("seed", self.seed),
            ("replications per curve level", self.replications),
            ("solver", self.solver),
            ("solve seconds", round(self.solve_seconds, 4)),
            ("closed-loop iterations", self.iterations),
            ("closed loop converged", "yes" if self.converged else "no"),
            ("order value", self.order_value),
            ("margin", self.margin),
            ("shadow price of the budget", self.shadow_price),
            ("binding constraints", "; ".join(b.name for b in self.binding) or "none"),
            ("mixsim version", self.version),
        ]
        items += [("note", note) for note in self.notes]
        items += [
            (f"constraint: {k}", json.dumps(v) if not isinstance(v, str | int | float) else v)
            for k, v in self.constraints.items()
        ]
        return pd.DataFrame(items, columns=["item", "value"])


@dataclass(frozen=True)
class Frontier:
    """The optimal plan at each of a series of budgets.

    Attributes
    ----------
    plans : tuple of Plan
        One per budget, in the order given (infeasible where the constraints force more than the budget).
    version : str
        mixsim version that produced it.
    """

    plans: tuple[Plan, ...]
    version: str = __version__

    @property
    def seed(self) -> int | None:
        """Root seed of the curves the plans were solved over (None for curves from a file)."""
        return self.plans[0].seed if self.plans else None

    def check(self) -> Frontier:
        """Return the frontier if some budget has a plan; raise :class:`~mixsim.InfeasibleError` if none has.

        The message gives the budgets' range and why the largest of them is infeasible.
        """
        if self.plans and not any(p.optimal for p in self.plans):
            budgets = [p.budget for p in self.plans]
            raise InfeasibleError(
                f"no budget from {min(budgets):,.0f} to {max(budgets):,.0f} is feasible: {self.plans[-1].message}"
            )
        return self

    def _repr_html_(self) -> str:
        return summary_html(
            f"Frontier over {len(self.plans)} budgets", [], [("Optimal plan per budget", self.to_frame())]
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per budget: objective, revenue, spend, the next dollar's return, and spend per channel."""
        rows = []
        for p in self.plans:
            row: dict[str, Any] = {
                "budget": p.budget,
                "status": p.status,
                "objective_value": p.objective_value if p.optimal else math.nan,
                "spend": p.spend if p.optimal else math.nan,
                "revenue": p.revenue if p.optimal else math.nan,
                "conversions": p.revenue / p.order_value if p.optimal and math.isfinite(p.order_value) else math.nan,
                "roas": p.revenue / p.spend if p.optimal and p.spend > 0 else math.nan,
                "marginal_return": p.shadow_price if p.optimal else math.nan,
                "message": p.message,
            }
            for c in p.channels:
                row[f"spend_{c.channel}"] = c.spend if p.optimal else math.nan
            rows.append(row)
        return pd.DataFrame(rows)

    def to_json(self, indent: int | None = 2) -> str:
        """The frontier as JSON: ``seed``, ``version`` and ``budgets``, the rows of :meth:`to_frame`, one per budget
        (undefined figures are null)."""
        doc = {"seed": self.seed, "version": self.version, "budgets": json_records(self.to_frame())}
        return json.dumps(json_ready(doc), indent=indent, allow_nan=False)
