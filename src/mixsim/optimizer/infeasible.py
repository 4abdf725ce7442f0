"""Infeasible problems: the plan that says so, and one sentence naming the conflict.

Infeasibility is a status, not an exception: :func:`mixsim.optimizer.solve` returns a plan with status
``"infeasible"`` and a message from :func:`explain_infeasible`, and :meth:`~mixsim.optimizer.plan.Plan.check`
raises :class:`~mixsim.errors.InfeasibleError` with it. The explanation looks for the simplest cause first (a
channel whose bounds cross, minimums above the budget, group shares that cannot hold together, a target out of
reach) and then re-solves without each family of constraints in turn.

The simplest of those causes need no curves: :func:`scenario_conflict` finds them from a scenario's ``[budget]``
limits and groups, its channels' minimum buys and fixed costs, ``max_change`` and locks, and
:func:`check_feasible` refuses such a problem with the same sentence before minutes go into measuring curves.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from mixsim.errors import InfeasibleError
from mixsim.optimizer.formulate import formulate, read_plan
from mixsim.optimizer.plan import ChannelPlan, Plan
from mixsim.optimizer.problem import TOLERANCE, Problem
from mixsim.optimizer.program import OPTIMAL
from mixsim.optimizer.program import solve as solve_program
from mixsim.scenario import Group, Scenario

__all__ = ["check_feasible", "explain_infeasible", "infeasible_plan", "overlapping_shares", "scenario_conflict"]


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
    channels = [(c.channel, c.min_spend, c.fixed_cost) for c in curves]
    simplest = _bounds_conflict(channels, problem.bounds(), problem.groups, problem.budget)
    if simplest is not None:
        return simplest
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


def scenario_conflict(
    scenario: Scenario,
    *,
    budget: float | None = None,
    max_change: float | None = None,
    locked: Sequence[str] = (),
) -> str | None:
    """Why the problem :meth:`Problem.from_scenario` would describe has no plan, as far as that is known before
    any curve is measured; None when nothing is (the curves may still reveal a conflict, e.g. a channel that
    cannot deliver its minimum).

    Each channel's bounds are taken no tighter than the curves could make them: a lower bound from
    ``budget.limits`` only (a ``max_change`` floor and a lock hold a channel at what today's booking delivers,
    which only the simulation knows), an upper bound from the limits, today's booking for a locked channel and
    ``max_change`` around today's booking (a channel delivers at most what it is booked for), none from the end of
    its curve. So a
    conflict found here is one the curves cannot lift, stated as :func:`explain_infeasible` states it.

    Parameters
    ----------
    scenario : Scenario
        Its channel spends are today's plan; its ``[budget]`` the limits and groups.
    budget : float, optional
        Default the scenario's ``budget.total``.
    max_change : float, optional
        As for :class:`Problem`.
    locked : sequence of str, default=()
        Channels held at today's spend.
    """
    total = scenario.budget_total if budget is None else float(budget)
    rules = scenario.budget
    limits = dict(rules.limits) if rules is not None else {}
    bounds: list[tuple[float, str, float, str]] = []
    for c in scenario.channels:
        if c.name in locked:  # limits do not apply to a locked channel (as in Problem.bounds)
            bounds.append((0.0, "", c.spend, "locked"))
            continue
        # Without curves a channel's top is unknown (the end of its curve): no bound, as the budget row has it.
        lo, lo_why, hi, hi_why = 0.0, "", math.inf, ""
        limit = limits.get(c.name)
        if limit is not None:
            if limit.min > lo:
                lo, lo_why = limit.min, "budget.limits"
            if limit.max < hi:
                hi, hi_why = limit.max, "budget.limits"
        if max_change is not None and c.spend * (1 + max_change) < hi:
            hi, hi_why = c.spend * (1 + max_change), f"max_change {max_change:.0%}"
        bounds.append((lo, lo_why, hi, hi_why))
    channels = [(c.name, c.min_spend, c.fixed_cost) for c in scenario.channels]
    return _bounds_conflict(channels, bounds, rules.groups if rules is not None else (), total)


def check_feasible(
    scenario: Scenario,
    *,
    budget: float | None = None,
    max_change: float | None = None,
    locked: Sequence[str] = (),
) -> None:
    """Refuse, before any simulation, a scenario whose limits and groups cannot hold against the budget.

    Parameters
    ----------
    scenario, budget, max_change, locked
        As for :func:`scenario_conflict`.

    Raises
    ------
    InfeasibleError
        With the sentence :func:`scenario_conflict` gives, when it gives one.
    """
    conflict = scenario_conflict(scenario, budget=budget, max_change=max_change, locked=locked)
    if conflict is not None:
        raise InfeasibleError(conflict)


def _bounds_conflict(
    channels: Sequence[tuple[str, float, float]],
    bounds: Sequence[tuple[float, str, float, str]],
    all_groups: Sequence[Group],
    budget: float,
) -> str | None:
    """The simplest conflict among per-channel bounds, group shares and the budget, or None.

    ``channels`` holds each channel's (name, minimum buy, fixed cost) and ``bounds`` its (lower, why, upper, why)
    spend, as :meth:`Problem.bounds` gives them. The rules are sound for any lower bounds no higher than the true
    ones and upper bounds no lower: :func:`scenario_conflict` relies on it, before the curves are measured.
    """
    for (name, min_spend, _), (lo, lo_why, hi, hi_why) in zip(channels, bounds, strict=True):
        if lo > hi + TOLERANCE:
            return f"channel {name}: its minimum {_money(lo)} ({lo_why}) is above its maximum {_money(hi)} ({hi_why})"
        if 0 < hi < min_spend and lo > 0:
            return (
                f"channel {name}: it must be used ({_money(lo)} from {lo_why}) but its minimum buy "
                f"{_money(min_spend)} is above its maximum {_money(hi)} ({hi_why})"
            )
    forced = sum(
        max(lo, min_spend if lo > 0 else 0.0) + (fixed_cost if lo > 0 else 0.0)
        for (_, min_spend, fixed_cost), (lo, *_rest) in zip(channels, bounds, strict=True)
    )
    if forced > budget + TOLERANCE:
        why = sorted({lo_why for lo, lo_why, *_rest in bounds if lo > 0})
        fixed = any(lo > 0 and c[2] > 0 for c, (lo, *_rest) in zip(channels, bounds, strict=True))
        return (
            f"channel minimums add to {_money(forced)} but the budget is {_money(budget)} (minimums from "
            f"{', '.join(why)}{', with fixed costs' if fixed else ''})"
        )
    names = [name for name, *_ in channels]
    groups = [g for g in all_groups if g.min_share]
    for i, a in enumerate(groups):
        for b in groups[i + 1 :]:
            if not set(a.channels) & set(b.channels) and (a.min_share or 0) + (b.min_share or 0) > 1 + TOLERANCE:
                return (
                    f"groups {a.name} and {b.name} share no channel but must have at least {a.min_share:.0%} and "
                    f"{b.min_share:.0%} of spend: more than all of it"
                )
    for g in all_groups:
        idx = [names.index(n) for n in g.channels]
        others = [i for i in range(len(channels)) if i not in idx]
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
    return None


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
