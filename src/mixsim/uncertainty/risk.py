"""Allocating a budget across the worlds a posterior allows: one plan (one spend per channel) judged by its return
in every world, under an objective that says how to weigh them.

Each world's problem (its own curves, the same budget and constraints) is formulated as the optimizer formulates
one (:func:`mixsim.optimizer.formulate.formulate`); the programs are stacked side by side and tied by rows that
make each channel's spend, and whether it is on, the same in every world. The objective is then

* ``mean``: the expected return, the worlds weighing alike;
* ``cvar:A``: the conditional value at risk, the mean return of the worst share ``A`` of the worlds, in the linear
  form of Rockafellar and Uryasev (Journal of Risk 2000): maximize ``eta - sum(u_w) / (A W)`` with
  ``u_w >= eta - R_w`` and ``u_w >= 0``, where ``R_w`` is world ``w``'s return. ``cvar:1`` is the mean; as ``A``
  shrinks it weighs the worst world alone;
* ``quantile:Q``: the lower ``Q`` quantile of the return, the ``(k+1)``-th worst world's with ``k = floor(Q W)``:
  maximize ``t`` with ``R_w >= t - M b_w``, binaries ``b_w`` (world ``w`` may fall below ``t``), ``sum(b_w) <= k``
  and ``M`` the widest the returns can be apart. A quantile is not concave in the plan, so this one is a
  mixed-integer program.

A world's return is its projected total, as the optimizer projects one world's (:func:`anchor`): the total
simulated at the plan its curves were measured around, plus each channel's change along its curve. The curves'
increments alone, added up, can run far above what the channels do together when they share customers; for the
mean that shifts nothing, but which worlds are the worst depends on it.

The mean and CVaR stay linear programs when every world's program is (concave curves); S-shaped curves and fixed
costs bring the binaries they bring to a single world's program.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mixsim.errors import InfeasibleError, InputError
from mixsim.optimizer.formulate import formulate, objective_value
from mixsim.optimizer.problem import Problem
from mixsim.optimizer.program import OPTIMAL, Program, Row, solve

__all__ = ["RISKS", "Risk", "RiskPlan", "anchor", "projected", "solve_under_risk"]

RISKS = ("mean", "cvar", "quantile")
"""The objectives across worlds (``cvar`` with its share, ``cvar:0.2``; ``quantile`` with its level,
``quantile:0.1``)."""
_MAXIMIZED = ("revenue", "profit", "conversions")


@dataclass(frozen=True)
class Risk:
    """How returns across worlds are weighed: ``kind`` (one of :data:`RISKS`) and ``level``: for ``cvar`` the share
    of the worst worlds whose mean return is maximized, in (0, 1]; for ``quantile`` the lower quantile maximized,
    in [0, 1)."""

    kind: str = "mean"
    level: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Risk:
        """``"mean"``, ``"cvar:A"`` with ``0 < A <= 1`` or ``"quantile:Q"`` with ``0 <= Q < 1``.

        Raises
        ------
        InputError
            Naming the rule broken.
        """
        kind, _, level = text.strip().partition(":")
        if kind == "mean" and not level:
            return cls("mean", 1.0)
        if kind == "cvar":
            try:
                share = float(level)
            except ValueError:
                share = math.nan
            if 0 < share <= 1:
                return cls("cvar", share)
            raise InputError(f"risk {text!r}: cvar:A needs a share A of the worst worlds, 0 < A <= 1")
        if kind == "quantile":
            try:
                q = float(level)
            except ValueError:
                q = math.nan
            if 0 <= q < 1:
                return cls("quantile", q)
            raise InputError(f"risk {text!r}: quantile:Q needs a lower quantile Q, 0 <= Q < 1")
        raise InputError(f"risk {text!r}: one of mean, cvar:A, quantile:Q (e.g. cvar:0.2)")

    def __str__(self) -> str:
        return self.kind if self.kind == "mean" else f"{self.kind}:{self.level:g}"


@dataclass(frozen=True)
class RiskPlan:
    """The plan that is best across worlds under a :class:`Risk`: each channel's spend, its projected return in
    every world (in the objective's terms), and the risk measure's value at the optimum."""

    allocation: dict[str, float]
    returns: np.ndarray
    risk: Risk
    objective: str
    value: float

    def to_frame(self) -> pd.DataFrame:
        """One row per channel: ``channel``, ``spend``."""
        return pd.DataFrame({"channel": list(self.allocation), "spend": list(self.allocation.values())})


def anchor(problem: Problem) -> float:
    """What a world's return has besides its channels' curves, in the objective's terms: the total simulated at the
    plan the curves were measured around (``plan_revenue``) less the curves' values there, so that the return
    projected at that plan is the simulated total. 0 for curves without a simulated total (read from a file).

    Parameters
    ----------
    problem : Problem
        One world's problem, its curves measured by simulation (or read from a file).

    Returns
    -------
    float
    """
    curves = problem.curves
    if not math.isfinite(curves.plan_revenue):
        return 0.0
    at_plan = sum(float(c(c.to_delivered(c.current))) for c in curves.curves)
    return objective_value(problem, curves.plan_revenue - at_plan, 0.0)


def projected(plan: dict[str, float], problem: Problem) -> float:
    """``plan``'s return on ``problem``'s curves in the objective's terms (revenue, profit or conversions), anchored
    at the world's simulated total (:func:`anchor`), as :func:`solve_under_risk` projects it.

    Parameters
    ----------
    plan : dict of str to float
        Spend per channel, on the axis of ``problem``'s curves.
    problem : Problem

    Returns
    -------
    float
    """
    curves = problem.curves.curves
    revenue = sum(float(c(plan[c.channel])) for c in curves)
    spend = sum(plan.values()) + sum(c.fixed_cost for c in curves if plan[c.channel] > 0)
    return objective_value(problem, revenue, spend) + anchor(problem)


def solve_under_risk(problems: Sequence[Problem], risk: Risk, solver: str = "auto") -> RiskPlan:
    """The single plan best across the worlds of ``problems`` (one per world: its own curves, the same channels,
    budget, objective and constraints) under ``risk``.

    Raises
    ------
    InputError
        If there is no world, the worlds' channels or objectives differ, or the objective is not one that is
        maximized (revenue, profit, conversions).
    InfeasibleError
        If no plan meets the constraints.
    """
    if not problems:
        raise InputError("risk: at least one world is needed")
    first = problems[0]
    if first.objective not in _MAXIMIZED:
        raise InputError(f"risk: the objective must be one of {', '.join(_MAXIMIZED)} (got {first.objective!r})")
    for p in problems[1:]:
        if p.curves.channels != first.curves.channels or p.objective != first.objective:
            raise InputError("risk: every world needs the same channels and objective")
    built = [formulate(p) for p in _common_ends(problems)]
    worlds = len(built)
    anchors = np.array([anchor(p) for p in problems])
    offsets = np.cumsum([0, *(program.n for program, _ in built)])
    rows: list[Row] = []
    for (program, _), at in zip(built, offsets[:-1], strict=True):
        rows += [Row(r.name, r.index + at, r.coefs, r.lower, r.upper) for r in program.rows]
    _, first_layout = built[0]
    for w in range(1, worlds):
        layout = built[w][1]
        for k in range(len(first.curves.channels)):
            own, base = layout.segments[k] + offsets[w], first_layout.segments[k] + offsets[0]
            if len(own):
                index = np.concatenate([own, base])
                rows.append(Row("same spend", index, np.concatenate([np.ones(len(own)), -np.ones(len(base))]), 0, 0))
            if layout.active[k] is not None and first_layout.active[k] is not None:
                index = np.array([layout.active[k] + offsets[w], first_layout.active[k] + offsets[0]])
                rows.append(Row("same on", index, np.array([1.0, -1.0]), 0, 0))
    total = int(offsets[-1])
    losses = [
        np.pad(program.cost, (at, total - at - program.n)) for (program, _), at in zip(built, offsets[:-1], strict=True)
    ]
    lower = np.concatenate([program.lower for program, _ in built])
    upper = np.concatenate([program.upper for program, _ in built])
    integer = np.concatenate([program.integer for program, _ in built])
    if risk.kind == "mean":
        cost = np.sum(losses, axis=0) / worlds
    elif risk.kind == "quantile":
        # Columns s = -t (free) and binaries b_w after the worlds' own: min s, s + M b_w - L_w >= 0, sum(b_w) <= k.
        n = int(offsets[-1])
        s, below = n, n + 1 + np.arange(worlds)
        pairs = list(zip(losses, anchors, strict=True))
        lows = [float(np.sum(np.minimum(loss * lower, loss * upper))) - a for loss, a in pairs]
        highs = [float(np.sum(np.maximum(loss * lower, loss * upper))) - a for loss, a in pairs]
        big = max(highs) - min(lows) + 1.0
        if not math.isfinite(big):
            raise InputError("risk: a quantile needs every world's return bounded (a curve without an end)")
        cost = np.concatenate([np.zeros(n), [1.0], np.zeros(worlds)])
        lower = np.concatenate([lower, [-math.inf], np.zeros(worlds)])
        upper = np.concatenate([upper, [math.inf], np.ones(worlds)])
        integer = np.concatenate([integer, [False], np.ones(worlds, dtype=bool)])
        for w, loss in enumerate(losses):
            at = np.flatnonzero(loss)
            index = np.concatenate([at, [s, below[w]]])
            rows.append(Row("below", index, np.concatenate([-loss[at], [1.0, big]]), -anchors[w], math.inf))
        rows.append(Row("worlds below", below, np.ones(worlds), -math.inf, math.floor(risk.level * worlds)))
    else:
        # Columns eta (free) and u_w >= 0 after the worlds' own: min eta + sum(u_w) / (A W), u_w - L_w + eta >= 0.
        n = int(offsets[-1])
        eta, shortfall = n, n + 1 + np.arange(worlds)
        cost = np.concatenate([np.zeros(n), [1.0], np.full(worlds, 1.0 / (risk.level * worlds))])
        lower = np.concatenate([lower, [-math.inf], np.zeros(worlds)])
        upper = np.concatenate([upper, [math.inf], np.full(worlds, math.inf)])
        integer = np.concatenate([integer, np.zeros(1 + worlds, dtype=bool)])
        for w, loss in enumerate(losses):
            at = np.flatnonzero(loss)
            index = np.concatenate([at, [eta, shortfall[w]]])
            rows.append(Row("shortfall", index, np.concatenate([-loss[at], [1.0, 1.0]]), -anchors[w], math.inf))
    program = Program(cost, lower, upper, integer, rows, unit=built[0][0].unit)
    sol = solve(program, solver, duals=False)
    if sol.status != OPTIMAL:
        raise InfeasibleError(f"no plan meets the constraints in every world (the solver says {sol.status})")
    x = sol.x[: int(offsets[-1])]
    allocation = {
        name: float(np.clip(x[first_layout.segments[k]], 0.0, None).sum())
        for k, name in enumerate(first.curves.channels)
    }
    returns = np.array([-float(loss[: len(x)] @ x) for loss in losses]) + anchors
    value = -float(sol.objective) + (float(np.mean(anchors)) if risk.kind == "mean" else 0.0)
    return RiskPlan(allocation, returns, risk, first.objective, value)


def _common_ends(problems: Sequence[Problem]) -> list[Problem]:
    """``problems`` with each channel's curve running to the same end in every world (the farthest any world's
    runs): a world that cannot deliver as much gets a flat tail, so that money it cannot spend buys nothing there
    rather than being ruled out in every world. A curve given a tail becomes its points (a Hill curve sampled
    at its program's segments)."""
    ends = [max(p.curves.curves[k].max_spend for p in problems) for k in range(len(problems[0].curves.curves))]
    out = []
    for p in problems:
        curves = []
        for curve, end in zip(p.curves.curves, ends, strict=True):
            if curve.max_spend >= end:
                curves.append(curve)
                continue
            xs = np.linspace(0.0, curve.max_spend, p.segments + 1) if curve.hill is not None else curve.spend
            xs = xs[xs <= curve.max_spend]
            ys = np.asarray(curve(xs), dtype=float)
            xs, ys = np.append(xs, end), np.append(ys, ys[-1])
            curves.append(
                dataclasses.replace(
                    curve, spend=xs, revenue=ys, revenue_low=ys, revenue_high=ys, hill=None, max_spend=end,
                    planned=np.zeros(0),
                )
            )  # fmt: skip
        out.append(dataclasses.replace(p, curves=dataclasses.replace(p.curves, curves=tuple(curves))))
    return out
