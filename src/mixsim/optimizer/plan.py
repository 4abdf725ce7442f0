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
from mixsim.optimizer.export import plan_csv, plan_workbook
from mixsim.optimizer.objectives import OBJECTIVES
from mixsim.tables import check_table, interval, json_ready, json_records

__all__ = ["PLAN_COLUMNS", "Binding", "ChannelPlan", "Frontier", "Plan", "Verification", "cost"]

PLAN_COLUMNS: tuple[str, ...] = (
    "channel",
    "book",
    "current_book",
    "book_change",
    "spend",
    "current_spend",
    "change",
    "change_pct",
    "share",
    "fixed_cost",
    "projected_conversions",
    "projected_revenue",
    "current_revenue",
    "roas",
    "marginal_return",
    "note",
)
"""The columns of a plan's table (:meth:`Plan.to_frame`), in order: every export uses these."""


@dataclass(frozen=True)
class ChannelPlan:
    """One channel's line of a plan (money in the scenario's currency; outcomes incremental, from the curves).

    A channel has two spends, and each is compared with the same quantity today:

    - **booked**: the buy to place (:attr:`booked`, against :attr:`current`, the scenario's planned spend);
    - **spend**: what the simulation says the channel delivers and is billed for (:attr:`spend`, against
      :attr:`current_spend`, what today's plan delivers). The budget, the curves and the projections are in
      this quantity.

    They differ only where a channel cannot deliver all it is given (a frequency cap, a small audience): the
    money booked but not delivered is not spent.

    Attributes
    ----------
    channel : str
    spend : float
        Delivered spend at the plan.
    current : float
        Booked (planned) spend today: the scenario's.
    revenue, conversions : float
        Projected incremental revenue and conversions at :attr:`spend`.
    current_revenue : float
        Projected incremental revenue at :attr:`current_spend`.
    marginal_return : float
        Revenue of the next dollar at the plan.
    fixed_cost : float
        Paid once if the channel is used.
    book : float
        The buy that delivers :attr:`spend` (NaN: the same as it).
    current_delivered : float
        What today's booking delivers (NaN: all of it).
    note : str
        Why the channel is where it is when something holds it there ('' when nothing does): dropped for its
        fixed cost, held by a limit, by the end of its curve, by the closed loop's step, locked.
    """

    channel: str
    spend: float
    current: float
    revenue: float
    conversions: float
    current_revenue: float
    marginal_return: float
    fixed_cost: float = 0.0
    book: float = math.nan
    current_delivered: float = math.nan
    note: str = ""

    @property
    def booked(self) -> float:
        """What to plan (book) for the channel to deliver :attr:`spend`: more than it where the channel cannot
        deliver all it is given (a frequency cap, a small audience); the money not delivered is not spent."""
        return self.book if math.isfinite(self.book) else self.spend

    @property
    def current_spend(self) -> float:
        """What today's plan delivers (the quantity :attr:`spend` is compared with)."""
        return self.current_delivered if math.isfinite(self.current_delivered) else self.current

    @property
    def change(self) -> float:
        """Delivered spend at the plan against today's delivered spend."""
        return self.spend - self.current_spend

    @property
    def book_change(self) -> float:
        """Booked spend against today's booking (both what a buyer places)."""
        return self.booked - self.current

    @property
    def active(self) -> bool:
        return self.spend > 0


def cost(lines: Iterable[ChannelPlan], *, current: bool = False) -> float:
    """What a plan's lines cost against a budget: media spend plus the fixed cost of each channel used.

    The one place a plan's cost is counted (the plan's :attr:`Plan.spend`, the objective value of min-spend
    and profit, the verification's projected spend, the figures' current plan), in delivered spend. With
    ``current``, the current plan's cost (each line's delivered spend today, a channel used when it is booked).
    """
    lines = tuple(lines)
    if current:
        return sum(c.current_spend for c in lines) + sum(c.fixed_cost for c in lines if c.current > 0)
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
        What a reader of the plan should know: a loop that did not settle, a current plan over the budget.
        (Why a channel is held where it is is on its line: :attr:`ChannelPlan.note`.)
    overrides : tuple of str
        The ``dotted.key=VALUE`` overrides of the scenario the plan was optimized for (its
        :attr:`~mixsim.scenario.Scenario.overrides`).
    scenario_source : str
        The scenario's file (or name) ('' for curves from a file).
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
    overrides: tuple[str, ...] = ()
    scenario_source: str = ""
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
        if self.optimal:
            verified = self.verified_gain
            lines.append(
                f"gain {verified[0]:+,.0f} [{verified[1]:+,.0f}, {verified[2]:+,.0f}] simulated; "
                f"{self.projected_gain:+,.0f} projected by the curves"
                if verified is not None
                else f"gain {self.projected_gain:+,.0f} projected by the curves (not verified by simulation)"
            )
        tables = [("Allocation", self.to_frame()), ("Totals", self.to_frame("totals"))]
        if self.verification is not None:
            tables.append(("Verified by simulation", self.verification.to_frame()))
        return summary_html("Plan", lines, tables)

    @property
    def projected_gain(self) -> float:
        """The plan's one projected gain: revenue at the plan minus at today's plan, from the curves.

        For measured curves, the projected total revenue against the total simulated at today's plan
        (:attr:`total_revenue` - :attr:`current_total_revenue`, the figure verification checks); for curves from
        a file, the channels' incremental revenue at the plan against at today's spend. A projection, not a
        measurement: :attr:`verified_gain` is the simulated one, when the plan was verified.
        """
        if math.isfinite(self.total_revenue) and math.isfinite(self.current_total_revenue):
            return self.total_revenue - self.current_total_revenue
        return self.revenue - self.current_revenue

    @property
    def verified_gain(self) -> tuple[float, float, float] | None:
        """The simulated revenue gain of the plan over today's, in paired replications: (mean, low, high) of its
        90% interval; None when the plan was not verified."""
        if self.verification is None:
            return None
        mean, low, high = interval(self.verification.runs["revenue", "gain"])
        return float(mean), float(low), float(high)

    def to_frame(self, table: str = "channels") -> pd.DataFrame:
        """The plan as a table: ``"channels"`` (one row per channel) or ``"totals"`` (one row, the sums).

        Per channel: ``book`` (the buy to place) against ``current_book`` (today's) and their difference
        ``book_change``; ``spend`` (what the channel is to deliver and be billed for, the budget's quantity) against
        ``current_spend`` (what today's plan delivers), ``change`` and ``change_pct``; ``share`` of the plan's
        media spend; ``fixed_cost`` if used; projected incremental conversions and revenue at the plan, revenue at
        today's spend, ROAS and the next dollar's return; ``note``, why the channel is held where it is. Every
        change is the difference of the two columns beside it, and the totals are the sums of the channels'
        columns (ratios recomputed from the sums).
        """
        check_table(table, ("channels", "totals"))
        spend = sum(c.spend for c in self.channels)
        if table == "channels":
            return pd.DataFrame(
                [
                    {
                        "channel": c.channel,
                        "book": c.booked,
                        "current_book": c.current,
                        "book_change": c.book_change,
                        "spend": c.spend,
                        "current_spend": c.current_spend,
                        "change": c.change,
                        "change_pct": c.change / c.current_spend if c.current_spend > 0 else math.nan,
                        "share": c.spend / spend if spend > 0 else math.nan,
                        "fixed_cost": c.fixed_cost if c.active else 0.0,
                        "projected_conversions": c.conversions,
                        "projected_revenue": c.revenue,
                        "current_revenue": c.current_revenue,
                        "roas": c.revenue / c.spend if c.spend > 0 else math.nan,
                        "marginal_return": c.marginal_return,
                        "note": c.note,
                    }
                    for c in self.channels
                ],
                columns=list(PLAN_COLUMNS),
            )
        current = sum(c.current_spend for c in self.channels)
        row = {
            "channel": "total",
            "book": sum(c.booked for c in self.channels),
            "current_book": sum(c.current for c in self.channels),
            "book_change": sum(c.book_change for c in self.channels),
            "spend": spend,
            "current_spend": current,
            "change": spend - current,
            "change_pct": (spend - current) / current if current > 0 else math.nan,
            "share": 1.0 if spend > 0 else math.nan,
            "fixed_cost": self.fixed_costs,
            "projected_conversions": sum(c.conversions for c in self.channels),
            "projected_revenue": self.revenue,
            "current_revenue": self.current_revenue,
            "roas": self.revenue / spend if spend > 0 else math.nan,
            # Channels' marginal returns are revenue per dollar; the budget's shadow price is in the objective's
            # units, the same only when the objective is revenue.
            "marginal_return": self.shadow_price if self.objective == "revenue" else math.nan,
            "note": "",
        }
        return pd.DataFrame([row], columns=list(PLAN_COLUMNS))

    def to_dict(self, timings: bool = False) -> dict[str, Any]:
        """Everything in the plan as JSON-ready values (undefined figures are None); the seconds spent, which differ
        from run to run, only with ``timings``."""
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
            "current": {c.channel: c.current_spend for c in self.channels},
            "current_book": {c.channel: c.current for c in self.channels},
            "projected": projected,
            "channels": json_records(self.to_frame()),
            "totals": json_records(self.to_frame("totals"))[0],
            "gain": {
                "projected": self.projected_gain,
                "verified": dict(zip(("mean", "ci90_low", "ci90_high"), self.verified_gain, strict=True))
                if self.verified_gain is not None
                else None,
            },
            "marginal_return": {c.channel: c.marginal_return for c in self.channels},
            "shadow_price": self.shadow_price,
            "binding": [{"name": b.name, "bound": b.bound, "shadow_price": b.shadow_price} for b in self.binding],
            "solver": {
                "name": self.solver,
                **({"build_seconds": self.build_seconds, "solve_seconds": self.solve_seconds} if timings else {}),
                "iterations": self.iterations,
                "moves": list(self.moves),
                "converged": self.converged,
            },
            "notes": list(self.notes),
            "constraints": self.constraints,
            "source": self.source,
            "seed": self.seed,
            "replications": self.replications,
            "scenario": self.scenario_source or None,
            "overrides": list(self.overrides),
            "version": self.version,
        }
        if self.verification is not None:
            doc["verification"] = self.verification.to_dict()
        return json_ready(doc)

    def to_json(self, indent: int | None = 2, timings: bool = False) -> str:
        """The plan as JSON (:meth:`to_dict`: undefined figures are null, seconds only with ``timings``)."""
        return json.dumps(self.to_dict(timings), indent=indent)

    def to_csv(self) -> str:
        """The allocation table as CSV text: the channels, then the totals row, marked in a ``kind`` column;
        money in whole units that add up (:func:`~mixsim.optimizer.export.rounded_tables`)."""
        return plan_csv(self)

    def to_xlsx(self) -> bytes:
        """A workbook a planner can forward: the formatted allocation, the assumptions, the verification."""
        return plan_workbook(self)

    def assumptions(self) -> pd.DataFrame:
        """The plan's provenance as a two-column table (the XLSX assumptions sheet)."""
        gain = self.verified_gain
        items: list[tuple[str, Any]] = [
            ("status", self.status),
            ("scenario", self.scenario_source or "none (curves from a file)"),
            ("scenario overrides", "; ".join(self.overrides) or "none"),
            ("objective", self.objective),
            ("budget", self.budget),
            ("locked channels", ", ".join(self.constraints.get("locked", ())) or "none"),
            (
                "projected gain (incremental revenue, from the curves)",
                round(self.projected_gain) if math.isfinite(self.projected_gain) else None,
            ),
            (
                "verified gain (simulated, 90% interval)",
                f"{gain[0]:,.0f} [{gain[1]:,.0f}, {gain[2]:,.0f}]" if gain is not None else "not verified",
            ),
            ("curves", self.source),
            ("seed", self.seed),
            ("replications per curve level", self.replications),
            ("solver", self.solver),
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
