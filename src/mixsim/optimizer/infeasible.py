"""Infeasible problems: the plan that says so, and one sentence naming the conflict.

Infeasibility is a status, not an exception: :func:`mixsim.optimizer.solve` returns a plan with status
``"infeasible"`` and a message from :func:`explain_infeasible`, and :meth:`~mixsim.optimizer.plan.Plan.check`
raises :class:`~mixsim.errors.InfeasibleError` with it. The explanation looks for the simplest cause first (a
channel whose bounds cross, minimums above the budget, group shares that cannot hold together, a target out of
reach) and then re-solves without each family of constraints in turn.
"""

from __future__ import annotations

import dataclasses
import math

from mixsim.optimizer.formulate import formulate, read_plan
from mixsim.optimizer.plan import ChannelPlan, Plan
from mixsim.optimizer.problem import TOLERANCE, Problem
from mixsim.optimizer.program import OPTIMAL
from mixsim.optimizer.program import solve as solve_program

__all__ = ["explain_infeasible", "infeasible_plan", "overlapping_shares"]


def overlapping_shares(problem: Problem) -> bool:
    """Whether two groups with no channel in common must each have a minimum share adding to more than all."""
    groups = [g for g in problem.groups if g.min_share]
    return any(
        not set(a.channels) & set(b.channels) and (a.min_share or 0) + (b.min_share or 0) > 1 + TOLERANCE
        for i, a in enumerate(groups)
        for b in groups[i + 1 :]
    )


def _money(x: float) -> str:
    return f"{x:,.0f}"


def infeasible_plan(problem: Problem, solver: str, built: float, seconds: float, name: str) -> Plan:
    """The plan of an infeasible ``problem``: no allocation, and a sentence naming the conflict.

    ``solver`` is the backend asked for (the explanation re-solves with it), ``name`` the one that ran;
    ``built`` and ``seconds`` the time spent building and solving.
    """
    return Plan(
        status="infeasible",
        objective=problem.objective,
        objective_value=math.nan,
        budget=problem.budget,
        channels=tuple(
            ChannelPlan(
                c.channel,
                math.nan,
                problem.current_plan.get(c.channel, 0.0),
                math.nan,
                math.nan,
                math.nan,
                math.nan,
                c.fixed_cost,
            )
            for c in problem.curves.curves
        ),
        shadow_price=math.nan,
        binding=(),
        solver=name,
        build_seconds=built,
        solve_seconds=seconds,
        order_value=problem.curves.order_value,
        margin=problem.curves.margin,
        constraints=problem.describe(),
        source=problem.curves.source,
        seed=problem.curves.seed,
        message=explain_infeasible(problem, solver),
    )


def explain_infeasible(problem: Problem, solver: str = "auto") -> str:
    """A sentence naming why ``problem`` has no feasible plan.

    Parameters
    ----------
    problem : Problem
        An infeasible problem.
    solver : {"auto", "highs", "cbc"}, default="auto"
        The backend for the re-solves without each family of constraints.

    Returns
    -------
    str
        In the library's terms (parameter names, ``budget.limits``), with money rounded to whole units.
    """
    curves = problem.curves.curves
    bounds = problem.bounds()
    for curve, (lo, lo_why, hi, hi_why) in zip(curves, bounds, strict=True):
        if lo > hi + TOLERANCE:
            return (
                f"channel {curve.channel}: its minimum {_money(lo)} ({lo_why}) is above its maximum "
                f"{_money(hi)} ({hi_why})"
            )
        if 0 < hi < curve.min_spend and lo > 0:
            return (
                f"channel {curve.channel}: it must be used ({_money(lo)} from {lo_why}) but its minimum buy "
                f"{_money(curve.min_spend)} is above its maximum {_money(hi)} ({hi_why})"
            )
    forced = sum(
        max(lo, c.min_spend if lo > 0 else 0.0) + (c.fixed_cost if lo > 0 else 0.0)
        for c, (lo, *_rest) in zip(curves, bounds, strict=True)
    )
    if forced > problem.budget + TOLERANCE:
        why = sorted({lo_why for lo, lo_why, *_rest in bounds if lo > 0})
        fixed = any(lo > 0 and c.fixed_cost > 0 for c, (lo, *_rest) in zip(curves, bounds, strict=True))
        return (
            f"channel minimums add to {_money(forced)} but the budget is {_money(problem.budget)} (minimums from "
            f"{', '.join(why)}{', with fixed costs' if fixed else ''})"
        )
    groups = [g for g in problem.groups if g.min_share]
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            if not set(a.channels) & set(b.channels) and (a.min_share or 0) + (b.min_share or 0) > 1 + TOLERANCE:
                return (
                    f"groups {a.name} and {b.name} share no channel but must have at least {a.min_share:.0%} and "
                    f"{b.min_share:.0%} of spend: more than all of it"
                )
    for g in problem.groups:
        idx = [problem.curves.channels.index(n) for n in g.channels]
        others = [i for i in range(len(curves)) if i not in idx]
        group_max = sum(bounds[i][2] for i in idx)
        group_min = sum(bounds[i][0] for i in idx)
        others_min = sum(bounds[i][0] for i in others)
        others_max = sum(bounds[i][2] for i in others)
        if g.min_share is not None and group_max < g.min_share * (group_max + others_min) - TOLERANCE:
            return (
                f"group {g.name} must have at least {g.min_share:.0%} of spend, but its channels can take at most "
                f"{_money(group_max)} while the other channels' minimums add to {_money(others_min)}"
            )
        too_much = g.max_share is not None and group_min > g.max_share * (group_min + others_max) + TOLERANCE
        if g.max_share is not None and g.max_share < 1 and too_much:
            return (
                f"group {g.name} may have at most {g.max_share:.0%} of spend, but its channels' minimums add to "
                f"{_money(group_min)} while the other channels can take at most {_money(others_max)}"
            )
    families = [
        ("target", "the target"),
        ("groups", "the group shares"),
        ("max_change", "max_change"),
        ("limits", "the channel limits"),
    ]
    if problem.objective == "min-spend":
        # The most conversions the other constraints allow: if that is short of the target, say by how much.
        best = _most_conversions(problem, solver)
        if best is not None and best < (problem.target or 0.0):
            return (
                f"the target of {problem.target:,.0f} conversions is out of reach: the most the budget of "
                f"{_money(problem.budget)} can buy is {best:,.0f} (within the other constraints)"
            )
    for family, words in families:
        program, _ = formulate(problem, relax=frozenset({family}))
        if solve_program(program, solver, duals=False).status == OPTIMAL:
            if family == "target" and problem.objective in ("cpa", "roas"):
                kind = "a cost per conversion of at most" if problem.objective == "cpa" else "a return per dollar of"
                return (
                    f"no allocation within the constraints reaches {kind} {problem.target:g}: "
                    "the channels' minimums cost more than their returns allow"
                )
            return f"{words} cannot hold together with the other constraints; without them a plan exists"
    return "the constraints cannot all hold at once (each family alone is not the cause; relax several)"


def _most_conversions(problem: Problem, solver: str) -> float | None:
    """The most conversions ``problem``'s constraints allow without its target (None if none hold)."""
    relaxed = dataclasses.replace(problem, objective="conversions", target=None)
    if any(lo > hi + TOLERANCE for lo, _, hi, _ in relaxed.bounds()) or overlapping_shares(relaxed):
        return None
    program, layout = formulate(relaxed)
    sol = solve_program(program, solver)
    if sol.status != OPTIMAL:
        return None
    return read_plan(relaxed, program, layout, sol, 0.0).objective_value
