"""The scenario's limits: the largest values, sizes and derived quantities mixsim accepts, and their checks.

A scenario that validates must run. Every number is finite and at most :data:`MAX_NUMBER` (``inf`` only where a
key says so), so sums and products of a few of them stay finite; the quantities the engine derives from several
keys and turns into counts are checked here too: the exposures a channel can buy (:data:`MAX_EXPOSURES`) and each
week's demand multiplier, the product of ``seasonality.weekly`` and the periods over it. Sizes are bounded so that
a file is refused at once rather than after minutes (:data:`MAX_HORIZON_DAYS`, :data:`MAX_FILE_BYTES`, the array
lengths), and a long list of problems is cut to a screenful (:data:`MAX_PROBLEMS_SHOWN`). The constraint table
(:mod:`mixsim.scenario.rules`) declares the per-key bounds with these constants; :func:`check_derived` is one of its
rules across keys.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mixsim.scenario._problems import INVALID, Path, Problems, is_valid

__all__ = [
    "DERIVED_RULES",
    "MAX_EXPOSURES",
    "MAX_FILE_BYTES",
    "MAX_GROUPS",
    "MAX_HORIZON_DAYS",
    "MAX_NUMBER",
    "MAX_PROBLEMS_SHOWN",
    "MAX_WEEKS",
    "check_derived",
    "shown",
]

MAX_NUMBER = 1e15
"""Largest value of any number in a scenario (money, rates, multipliers, weights; ``inf`` only where a key allows
it). Far above any real price, budget or order value, and far enough below the largest float (about 1.8e308) that
the engine's sums and products of a few such numbers stay finite."""

MAX_EXPOSURES = 1e9
"""Most exposures a channel may buy the simulated population over the horizon at the most it can be given (its
spend, or the whole budget, times ``population / represents``). The engine counts a customer's exposures to a
channel in 32 bits (at most about 4.3e9) and delivers them in batches; a third of that bound leaves room for the
optimizer's measurements at up to three times a channel's spend. A price so low that a budget buys more (``cpm =
1e-300``) is a typing error, not a market."""

MAX_HORIZON_DAYS = 3660
"""Longest horizon: ten years of days (with leap days). The engine steps day by day and keeps per-day and per-week
tables, so a longer horizon is memory and time for a question a daily model of a funnel does not answer."""

MAX_WEEKS = math.ceil(MAX_HORIZON_DAYS / 7)
"""Weeks of the longest horizon: the most items of ``flighting``, ``seasonality.weekly`` and
``seasonality.periods``."""

MAX_GROUPS = 256
"""Most ``budget.groups``: each is a constraint of the optimizer's program."""

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest scenario file read (10 MiB): the largest scenario the limits allow (64 channels with ten years of weekly
flighting) is well under 1 MiB."""

MAX_PROBLEMS_SHOWN = 20
"""Most problems listed; the rest are counted on one more line."""

DERIVED_RULES: tuple[tuple[str, str], ...] = (
    (
        "channels.NAME",
        f"its spend, or the budget, times population / represents, buys at most {MAX_EXPOSURES:.0e} exposures at "
        "its cost per exposure (cpm / 1000, or cpc * ctr)".replace("e+", "e"),
    ),
    (
        "seasonality",
        f"each week's multiplier (weekly times the periods over it) is at most {MAX_NUMBER:.0e}".replace("e+", "e"),
    ),
)
"""The rules across keys of this module, in words, for the key reference."""


def _g(x: float) -> str:
    """A derived number for a message: 8,000 or 1.6e305 (three digits where it is not a whole number)."""
    if 1 <= abs(x) < 1e12 and float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.3g}".replace("e+", "e")


def check_derived(tree: dict[str, Any], out: Problems) -> None:
    """Check what the engine derives from several keys: exposures bought, and the weeks' demand multipliers.

    Only values that passed their own checks are looked at, so one mistake is reported once.
    """
    channels, budget = tree["channels"], tree["budget"]
    if isinstance(channels, dict):
        spends = [c["spend"] for c in channels.values() if isinstance(c, dict)]
        total = budget["total"] if isinstance(budget, dict) else INVALID
        what = "the budget"
        budget_keys: list[Path] = [("budget", "total")]
        if total is None:  # the default budget: the plan's spend
            total = math.fsum(spends) if len(spends) == len(channels) and is_valid(spends) else INVALID
            what = "the budget (the plan's total spend)"
            budget_keys = [("channels", name, "spend") for name in channels]
        scenario = tree["scenario"]
        share = _simulated_share(scenario) if isinstance(scenario, dict) else None
        for name, channel in channels.items():
            if isinstance(channel, dict) and share is not None:
                _check_exposures(("channels", name), channel, (total, what), share, out, budget_keys)
    season, scenario = tree["seasonality"], tree["scenario"]
    horizon = scenario["horizon_days"] if isinstance(scenario, dict) else INVALID
    if isinstance(season, dict) and isinstance(horizon, int) and horizon is not INVALID:
        _check_demand(season, math.ceil(horizon / 7), out)


def _simulated_share(scenario: dict[str, Any]) -> float | None:
    """``population / represents``: the share of every channel's money the simulated customers get."""
    population, represents = scenario["population"], scenario["represents"]
    if not is_valid(population, represents):
        return None
    return 1.0 if represents is None or represents < population else population / represents


def _check_exposures(
    path: tuple[str, str],
    channel: dict[str, Any],
    budget: tuple[Any, str],
    share: float,
    out: Problems,
    budget_keys: Sequence[Path],
) -> None:
    cpm, cpc, ctr, spend = channel["cpm"], channel["cpc"], channel["ctr"], channel["spend"]
    where: Path
    if cpm is not None and cpc is None and is_valid(cpm):
        cost, where = cpm / 1000, (*path, "cpm")
    elif cpc is not None and cpm is None and ctr is not None and is_valid(cpc, ctr):
        cost, where = cpc * ctr, path
    else:
        return  # no single valid price: the price rule says so
    amounts = [(a, what) for a, what in ((spend, "its spend"), budget) if is_valid(a)]
    if not amounts:
        return
    amount, what = max(amounts, key=lambda item: item[0])
    exposures = amount * share / cost if cost > 0 else math.inf
    if exposures > MAX_EXPOSURES:
        simulated = f" (population / represents = {share:.3g} of it)" if share != 1.0 else ""
        out.add(
            where,
            f"price too low: at {_g(cost)} per exposure, {what}, {_g(amount)}{simulated}, buys the simulated "
            f"customers {_g(exposures)} exposures (at most {_g(MAX_EXPOSURES)})",
            got=_g(cpm) if where[-1] == "cpm" else f"cpc * ctr = {_g(cost)}",
            because=[path, *budget_keys, ("scenario", "population"), ("scenario", "represents")],
        )


def _check_demand(season: dict[str, Any], weeks: int, out: Problems) -> None:
    weekly, periods = season["weekly"], season["periods"]
    if weekly is None:
        demand = [1.0] * weeks
    elif isinstance(weekly, list) and len(weekly) == weeks and is_valid(weekly):
        demand = list(weekly)
    else:
        return
    for period in periods if isinstance(periods, list) else []:
        if not isinstance(period, dict) or not is_valid(period):
            return
        for week in range(max(period["first_week"], 1) - 1, min(period["last_week"], weeks)):
            demand[week] *= period["multiplier"]  # a Python float overflows to inf, silently: checked below
    for week, multiplier in enumerate(demand):
        if multiplier > MAX_NUMBER:
            out.add(
                ("seasonality",),
                f"week {week + 1}'s demand multiplier (weekly times the periods over it) must be at most "
                f"{_g(MAX_NUMBER)}",
                got=_g(multiplier),
                because=[("seasonality", "weekly"), ("seasonality", "periods"), ("scenario", "horizon_days")],
            )
            return


def shown(problems: list[str], source: str) -> list[str]:
    """At most :data:`MAX_PROBLEMS_SHOWN` of ``problems``, and a line counting the rest."""
    if len(problems) <= MAX_PROBLEMS_SHOWN:
        return problems
    rest = len(problems) - MAX_PROBLEMS_SHOWN
    return [*problems[:MAX_PROBLEMS_SHOWN], f"{source}: ... and {rest} more problem{'s' if rest > 1 else ''}"]
