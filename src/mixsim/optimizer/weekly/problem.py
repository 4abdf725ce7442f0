"""The week-level problem, described before it is solved: the curves, the money and the time constraints.

The money is the budget over the whole horizon, or committed spend that is already bought plus ``additional``
new money (:func:`money`). The constraints are per-channel weekly minimums and maximums, weeks on air and dark
weeks, pacing over blocks of weeks, locked channels and committed spend; :func:`check_settings` refuses names
and values that cannot be meant, and settings that cannot all hold, before any curve is measured;
:func:`minimums_conflict` says when the least the settings force costs more than the money. The
channel-level counterpart is :class:`mixsim.optimizer.Problem`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mixsim._names import valid_names
from mixsim.errors import InputError
from mixsim.optimizer.weekly.curves import WeekCurves

__all__ = ["WeeklyProblem", "check_settings", "minimums_conflict", "money"]


@dataclass(frozen=True)
class WeeklyProblem:
    """A week-level allocation, described before it is solved.

    Parameters
    ----------
    curves : WeekCurves
        Response per channel-week.
    budget : float
        Most spend over the horizon (ignored when ``additional`` is given).
    week_min, week_max : mapping of str to float
        Per channel: least spend in a week it airs, most spend in any week.
    min_weeks_on, max_dark_weeks : mapping of str to int
        Per channel: fewest weeks on air, most weeks dark.
    pacing_weeks : int, optional
        Length of a pacing block (4 for a month, 13 for a quarter); with ``pacing_share``.
    pacing_share : float, optional
        Most share of the budget any block of ``pacing_weeks`` consecutive weeks may take.
    locked : sequence of str
        Channels kept at their current flighting.
    committed : ndarray, shape (channels, weeks), optional
        Spend already bought; the plan never goes below it.
    additional : float, optional
        New money on top of ``committed``: the budget becomes committed + additional.
    anchor, radius : ndarray, shape (channels, weeks), optional
        A trust region: each channel-week stays within ``radius`` of ``anchor`` (the closed loop's last plan).
    """

    curves: WeekCurves
    budget: float
    week_min: Mapping[str, float] = field(default_factory=dict)
    week_max: Mapping[str, float] = field(default_factory=dict)
    min_weeks_on: Mapping[str, int] = field(default_factory=dict)
    max_dark_weeks: Mapping[str, int] = field(default_factory=dict)
    pacing_weeks: int | None = None
    pacing_share: float | None = None
    locked: Sequence[str] = ()
    committed: np.ndarray | None = None
    additional: float | None = None
    anchor: np.ndarray | None = None
    radius: np.ndarray | None = None

    @property
    def total(self) -> float:
        """The money the plan may spend: committed + additional, or the budget."""
        return money(self.budget, self.committed, self.additional)

    @property
    def constraints(self) -> dict[str, Any]:
        """The settings as given, JSON-ready (committed spend as its total): what a plan's assumptions list."""
        out: dict[str, Any] = {"money": self.total}
        if self.additional is None:  # with new money on top of committed spend, the budget is not used
            out["budget"] = self.budget
        for name in ("week_min", "week_max", "min_weeks_on", "max_dark_weeks"):
            if getattr(self, name):
                out[name] = dict(getattr(self, name))
        if self.pacing_weeks is not None or self.pacing_share is not None:
            out["pacing_weeks"], out["pacing_share"] = self.pacing_weeks, self.pacing_share
        if self.locked:
            out["locked"] = list(self.locked)
        if self.committed is not None:
            out["committed"] = float(self.committed.sum())
        if self.additional is not None:
            out["additional"] = self.additional
        return out

    def check(self) -> None:
        """Refuse a problem that names unknown channels or has out-of-range settings (:class:`~mixsim.InputError`)."""
        settings = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "curves"}
        check_settings(self.curves.channels, self.curves.weeks, **settings, current=self.curves.current,
                       total=self.total)  # fmt: skip


def money(budget: float, committed: np.ndarray | None = None, additional: float | None = None) -> float:
    """The money a week-level plan may spend: committed + ``additional`` when new money is given, else the budget.

    Parameters
    ----------
    budget : float
        Most spend over the horizon.
    committed : ndarray, shape (channels, weeks), optional
        Spend already bought.
    additional : float, optional
        New money on top of ``committed``.
    """
    if additional is not None:
        return (0.0 if committed is None else float(committed.sum())) + additional
    return budget


def _committed_conflicts(
    channels: Sequence[str],
    committed: np.ndarray,
    week_max: Mapping[str, float],
    locked: Sequence[str],
    current: np.ndarray | None,
) -> list[str]:
    """Committed spend that a lock or a weekly maximum forbids, one message per channel (its first week)."""
    out = []
    for i, name in enumerate(channels):
        if name in locked and current is not None and current.shape == committed.shape:
            above = np.flatnonzero(committed[i] > current[i] * (1 + 1e-9) + 1e-9)
            if len(above):
                j = int(above[0])
                out.append(
                    f"committed: {name} is locked at its flighting ({current[i, j]:,.0f} in week {j + 1}) but "
                    f"{committed[i, j]:,.0f} is committed there ({len(above)} week(s) in all)"
                )
        if name in week_max:
            above = np.flatnonzero(committed[i] > week_max[name] * (1 + 1e-9))
            if len(above):
                j = int(above[0])
                out.append(
                    f"committed: {name} has {committed[i, j]:,.0f} committed in week {j + 1}, above its week_max "
                    f"{week_max[name]:,.0f} ({len(above)} week(s) in all)"
                )
    return out


def check_settings(
    channels: Sequence[str],
    weeks: int,
    *,
    week_min: Mapping[str, float] | None = None,
    week_max: Mapping[str, float] | None = None,
    min_weeks_on: Mapping[str, int] | None = None,
    max_dark_weeks: Mapping[str, int] | None = None,
    pacing_weeks: int | None = None,
    pacing_share: float | None = None,
    locked: Sequence[str] = (),
    committed: np.ndarray | None = None,
    current: np.ndarray | None = None,
    total: float | None = None,
    **_: Any,
) -> None:
    """Check a week-level problem's settings against its channels and weeks, before any curve is measured.

    Takes the keywords of :class:`WeeklyProblem` (others are ignored), and optionally the current flighting
    (``current``, channels x weeks) and the money (``total``) to find settings that cannot all hold.

    Raises
    ------
    InputError
        Naming every unknown channel, every setting out of range, and every conflict found.
    """
    names = set(channels)
    problems = []
    mins, maxs = week_min or {}, week_max or {}
    for name in sorted(names & set(mins) & set(maxs)):
        if mins[name] > maxs[name]:
            problems.append(f"week_min: {name}: {mins[name]:,.0f} is above its week_max {maxs[name]:,.0f}")
    for label, counts in (("min_weeks_on", min_weeks_on), ("max_dark_weeks", max_dark_weeks)):
        for name, count in (counts or {}).items():
            if not 0 <= count <= weeks:
                problems.append(f"{label}: {name}: must be in [0, {weeks}] (got {count})")
    if committed is not None and committed.shape == (len(channels), weeks):
        problems += _committed_conflicts(channels, committed, maxs, locked, current)
        if total is not None and current is not None and current.shape == committed.shape:
            fixed = np.where(np.isin(channels, list(locked))[:, None], current, committed)
            if fixed.sum() > total * (1 + 1e-9):
                problems.append(
                    f"committed: committed spend and locked channels come to {fixed.sum():,.0f}, more than the "
                    f"money {total:,.0f}"
                )
            if pacing_weeks is not None and pacing_share is not None and 1 <= pacing_weeks <= weeks:
                blocks = np.convolve(fixed.sum(axis=0), np.ones(pacing_weeks), mode="valid")
                worst = int(np.argmax(blocks))
                if blocks[worst] > pacing_share * total * (1 + 1e-9):
                    problems.append(
                        f"pacing: committed spend and locked channels put {blocks[worst]:,.0f} in weeks "
                        f"{worst + 1}-{worst + pacing_weeks}, more than {pacing_share:.0%} of the money"
                    )
    known = valid_names("channel", channels)
    for label, mapping in (
        ("week_min", week_min),
        ("week_max", week_max),
        ("min_weeks_on", min_weeks_on),
        ("max_dark_weeks", max_dark_weeks),
    ):
        problems += [f"{label}: no channel {name!r} ({known})" for name in mapping or {} if name not in names]
    problems += [f"locked: no channel {name!r} ({known})" for name in locked if name not in names]
    if (pacing_weeks is None) != (pacing_share is None):
        problems.append("pacing: give both pacing_weeks and pacing_share")
    if pacing_weeks is not None and not 1 <= pacing_weeks <= weeks:
        problems.append(f"pacing_weeks: must be in [1, {weeks}] (got {pacing_weeks})")
    if pacing_share is not None and not 0 < pacing_share <= 1:
        problems.append(f"pacing_share: must be in (0, 1] (got {pacing_share})")
    if committed is not None and committed.shape != (len(channels), weeks):
        problems.append(f"committed: must be (channels, weeks) = {(len(channels), weeks)}")
    if problems:
        raise InputError(problems)


def minimums_conflict(
    channels: Sequence[str],
    weeks: int,
    total: float,
    *,
    week_min: Mapping[str, float] | None = None,
    min_weeks_on: Mapping[str, int] | None = None,
    max_dark_weeks: Mapping[str, int] | None = None,
    locked: Sequence[str] = (),
    committed: np.ndarray | None = None,
    current: np.ndarray | None = None,
    **_: Any,
) -> str | None:
    """Why the least spend the settings force is more than the money ``total``, or None when it is not.

    Takes the keywords of :class:`WeeklyProblem` (checked by :func:`check_settings`; others are ignored). The least
    spend is, per channel: a locked channel's current flighting (``current``); for any other, its committed spend,
    each committed week raised to its ``week_min`` (a week with a buy is on air), and ``week_min`` in as many more
    weeks as it must be on air (``min_weeks_on``, or the weeks less ``max_dark_weeks``). No curve can lower it, so
    a plan that needs more than the money is known to be impossible before any curve is measured.
    """
    mins, ons, darks = week_min or {}, min_weeks_on or {}, max_dark_weeks or {}
    shape = (len(channels), weeks)
    floor, why = 0.0, set()
    for i, name in enumerate(channels):
        if name in locked:
            if current is not None and current.shape == shape and current[i].sum() > 0:
                floor += float(current[i].sum())
                why.add("locked")
            continue
        bought = committed[i] if committed is not None and committed.shape == shape else np.zeros(weeks)
        least = mins.get(name, 0.0)
        on = max(ons.get(name, 0), weeks - darks[name] if name in darks else 0)
        airing = int((bought > 0).sum())
        spend = float(np.maximum(bought[bought > 0], least).sum()) + max(0, on - airing) * least
        floor += spend
        if bought.sum() > 0:
            why.add("committed")
        if spend > bought.sum():
            why.add("week_min")
            why.update(label for label, given in (("min_weeks_on", ons), ("max_dark_weeks", darks)) if name in given)
    if floor <= total * (1 + 1e-9):
        return None
    named = [label for label in ("week_min", "min_weeks_on", "max_dark_weeks", "committed", "locked") if label in why]
    return (
        f"{named[0]}: the least spend the settings allow adds to {floor:,.0f} but the money is {total:,.0f} "
        f"(from {', '.join(named)})"
    )
