"""The allocation problem, described before it is solved.

A :class:`Problem` holds the response curves and the planner's constraints: the budget, the objective and its
target (their meaning is the table in :mod:`mixsim.optimizer.objectives`), per-channel limits, group shares and
the most each channel may move from the current plan. It is validated when described; turning it into a
program is :mod:`mixsim.optimizer.formulate`, solving it :func:`mixsim.optimizer.solve`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from mixsim._names import valid_names
from mixsim.errors import InputError
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.objectives import objective_problems
from mixsim.scenario import Group, Limit, Scenario, require_scenario

__all__ = ["MAX_CHANGE", "SEGMENTS", "TOLERANCE", "Problem", "argument_problems"]

SEGMENTS = 24
"""Breakpoint segments per Hill curve (half even in spend, half even in response)."""

TOLERANCE = 1e-6
"""Slack, as a share of the budget (or absolute for sums of money), within which a bound holds or binds."""

MAX_CHANGE = 10.0
"""Largest ``max_change``: 1,000% (a channel from 0 to 11 times today's spend). Past it the window bounds nothing a
plan would do, and a value such as 30 is far likelier a percentage given as a number (30 for 30%) than a window
of 3,000%; without a window, give ``max_change=None``."""


def argument_problems(
    *,
    objective: str,
    target: float | None,
    order_value: float,
    budget: float,
    max_change: float | None = None,
    segments: int = SEGMENTS,
) -> list[str]:
    """What is wrong with a problem's arguments, one line each (empty when nothing is).

    Every rule of :class:`Problem` but those about channels (which need the curves): the closed loop checks
    these before it spends minutes measuring curves, the problem when it is described.
    """
    problems = objective_problems(objective, target, order_value)
    if not (math.isfinite(budget) and budget >= 0):
        problems.append(f"budget: must be a number >= 0 (got {budget})")
    if max_change is not None and not 0 <= max_change <= MAX_CHANGE:
        problems.append(
            f"max_change: must be a fraction from 0 to {MAX_CHANGE:g} of today's spend, e.g. 0.3 for 30% "
            f"(got {max_change})"
        )
    if segments < 2:
        problems.append(f"segments: must be >= 2 (got {segments})")
    return problems


@dataclass(frozen=True)
class Problem:
    """An allocation problem, described before it is solved.

    Parameters
    ----------
    curves : CurveSet
        One response curve per channel (incremental revenue against spend).
    budget : float
        Most that may be spent, fixed costs included.
    objective : str, default="revenue"
        One of :data:`~mixsim.optimizer.objectives.OBJECTIVES`.
    target : float, optional
        For the objectives that need one (and only for them): conversions for ``min-spend``; the cost per
        conversion for ``cpa``; revenue per dollar for ``roas``.
    limits : dict of str to Limit, optional
        Per-channel bounds on spend.
    groups : sequence of Group, optional
        Share constraints on groups of channels (shares of media spend).
    max_change : float, optional
        Each channel within this fraction of its current spend (0.3: from 70% to 130%), from 0 to
        :data:`MAX_CHANGE` (10: up to 11 times today's spend); ``None``: no window.
    current : dict of str to float, optional
        The current plan; default the curves' own.
    segments : int, default=SEGMENTS
        Breakpoint segments per Hill curve.
    locked : tuple of str, default=()
        Channels held at today's spend (what their current booking delivers).
    anchor, radius : dict of str to float and float, optional
        A trust region: each channel within ``radius`` times the budget of its spend in ``anchor`` (the closed
        loop keeps each re-solve near the plan its curves were measured around, where they are accurate).

    Raises
    ------
    InputError
        Listing every problem at once: an unknown objective, a target missing or not wanted, an objective in
        conversions without the curves' revenue per conversion, a negative budget, a ``max_change`` out of
        [0, MAX_CHANGE], a constraint on a channel without a curve (the message lists those with one).
    """

    curves: CurveSet
    budget: float
    objective: str = "revenue"
    target: float | None = None
    limits: dict[str, Limit] = field(default_factory=dict)
    groups: tuple[Group, ...] = ()
    max_change: float | None = None
    current: dict[str, float] | None = None
    segments: int = SEGMENTS
    locked: tuple[str, ...] = ()
    anchor: dict[str, float] | None = None
    radius: float | None = None

    def __post_init__(self) -> None:
        problems = argument_problems(
            objective=self.objective,
            target=self.target,
            order_value=self.curves.order_value,
            budget=self.budget,
            max_change=self.max_change,
            segments=self.segments,
        )
        names = set(self.curves.channels)
        known = valid_names("channel", self.curves.channels)
        for name in self.limits:
            if name not in names:
                problems.append(f"limits: no curve for channel {name!r} ({known})")
        for g in self.groups:
            for name in g.channels:
                if name not in names:
                    problems.append(f"groups.{g.name}: no curve for channel {name!r} ({known})")
        for name in self.locked:
            if name not in names:
                problems.append(f"locked: no curve for channel {name!r} ({known})")
        if problems:
            raise InputError(problems)

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario,
        curves: CurveSet,
        *,
        budget: float | None = None,
        objective: str = "revenue",
        target: float | None = None,
        max_change: float | None = None,
        segments: int = SEGMENTS,
        locked: Sequence[str] = (),
    ) -> Problem:
        """The problem a scenario's ``[budget]`` table describes (total, limits, groups), over ``curves``; its
        channel spends are the current plan."""
        rules = require_scenario(scenario).budget
        return cls(
            curves=curves,
            budget=scenario.budget_total if budget is None else budget,
            objective=objective,
            target=target,
            limits=dict(rules.limits) if rules is not None else {},
            groups=rules.groups if rules is not None else (),
            max_change=max_change,
            current={c.name: c.spend for c in scenario.channels},
            segments=segments,
            locked=tuple(locked),
        )

    @property
    def current_plan(self) -> dict[str, float]:
        """Spend per channel in the current plan: ``current``, else the curves' own."""
        return dict(self.current) if self.current is not None else self.curves.current

    def bounds(self) -> list[tuple[float, str, float, str]]:
        """Per channel: (lower, why, upper, why) on its spend, from limits, ``max_change`` and the curve's end."""
        out = []
        current = self.current_plan
        for c in self.curves.curves:
            lo, lo_why = 0.0, ""
            hi, hi_why = c.max_spend, "end of its curve"
            if not math.isfinite(hi):
                hi, hi_why = self.budget, "the budget"
            limit = self.limits.get(c.channel)
            if limit is not None:
                if limit.min > lo:
                    lo, lo_why = limit.min, "budget.limits"
                if limit.max < hi:
                    hi, hi_why = limit.max, "budget.limits"
            if c.channel in self.locked:
                now = c.to_delivered(current.get(c.channel, 0.0))
                out.append((now, "locked", now, "locked"))
                continue
            if self.max_change is not None:
                # Today's spend is what today's booking delivers (a channel can deliver less than it is given).
                now = c.to_delivered(current.get(c.channel, 0.0))
                down, up = now * (1 - self.max_change), now * (1 + self.max_change)
                pct = f"{self.max_change:.0%}"
                if down > lo:
                    lo, lo_why = down, f"max_change {pct}"
                if up < hi:
                    hi, hi_why = up, f"max_change {pct}"
            if self.anchor is not None and self.radius is not None:
                at, step = self.anchor.get(c.channel, 0.0), self.radius * self.budget
                if at - step > lo:
                    lo, lo_why = at - step, "closed-loop step"
                if at + step < hi:
                    hi, hi_why = at + step, "closed-loop step"
            out.append((lo, lo_why, hi, hi_why))
        return out

    def describe(self) -> dict[str, object]:
        """The constraints as given, for reports and the assumptions sheet."""
        doc: dict[str, object] = {"budget": self.budget, "objective": self.objective}
        if self.target is not None:
            doc["target"] = self.target
        if self.limits:
            doc["limits"] = {
                k: {"min": v.min, "max": v.max if math.isfinite(v.max) else None} for k, v in self.limits.items()
            }
        if self.groups:
            doc["groups"] = {
                g.name: {"channels": list(g.channels), "min_share": g.min_share, "max_share": g.max_share}
                for g in self.groups
            }
        if self.max_change is not None:
            doc["max_change"] = self.max_change
        if self.locked:
            doc["locked"] = list(self.locked)
        return doc
