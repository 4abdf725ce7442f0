"""The scenario file's rules across keys: what relates several keys (exactly one price, shares summing to 1,
flighting as long as the horizon, names that must exist, repeat purchases that can be valued).

Each ``_check_*`` function looks only at values that passed their own check in the constraint table
(:mod:`mixsim.scenario.rules`), so one mistake is reported once; :data:`CROSS_KEY_RULES` says them in words for
the key reference.
"""

from __future__ import annotations

import math
from typing import Any

from mixsim.scenario._problems import INVALID, Problems, is_valid
from mixsim.scenario.calibration import check_calibration
from mixsim.scenario.limits import DERIVED_RULES, check_derived

__all__ = ["CROSS_KEY_RULES", "cross_check"]

_SHARE_TOLERANCE = 1e-6


CROSS_KEY_RULES: tuple[tuple[str, str], ...] = (
    ("scenario.represents", ">= population (a simulated customer stands for one real customer or more)"),
    ("segments", "segment names are unique; the shares sum to 1"),
    ("channels.NAME", "exactly one price: cpm, or cpc together with ctr (ctr only with cpc)"),
    ("channels.NAME.flighting", "one weight per week of the horizon (ceil(horizon_days / 7)), not all 0"),
    ("channels.NAME.spend", "0, or at least min_spend (a smaller buy is not sold)"),
    ("channels.NAME.p_repurchase", "above 0 only with converted in targets (it acts on customers alone)"),
    ("repeat", "purchase_rate or mean_days_between, not both"),
    ("calibration.channels.NAME", "NAME is a channel; spend or activity, not both"),
    (
        "calibration.parameters.KEY",
        "KEY names a number of channels, organic, funnel or repeat (not a price or spend); low < high",
    ),
    (
        "economics.future_value",
        "expected only with a repeat purchase rate (repeat.purchase_rate or mean_days_between) and a lapse half-life "
        "or a discount rate above 0 (else the value has no end)",
    ),
    ("channels.NAME.reach", "a table's keys are names of segments"),
    ("channels.NAME.affinity", "a table's keys are names of segments"),
    ("budget.limits.NAME", "NAME is a channel; min <= max"),
    (
        "budget.groups[i]",
        "group names are unique; the channels exist; min_share or max_share (or both), min_share <= max_share",
    ),
    ("seasonality.weekly", "one multiplier per week of the horizon (ceil(horizon_days / 7))"),
    ("seasonality.periods[i]", "first_week <= last_week <= the number of weeks of the horizon"),
    *DERIVED_RULES,
)
"""The rules across keys in words, for the key reference; the ``_check_*`` functions below enforce them."""


def _n(x: float) -> str:
    """A checked number as the user most likely wrote it: 10000, not 10000.0 or 1e+04."""
    return str(int(x)) if x.is_integer() else repr(x)


def cross_check(tree: dict[str, Any], out: Problems) -> None:
    segment_names = _check_segments(tree["segments"], out)
    scenario = tree["scenario"]
    horizon = scenario["horizon_days"] if isinstance(scenario, dict) else INVALID
    if isinstance(scenario, dict):
        _check_represents(scenario, out)
    channels = tree["channels"]
    if isinstance(channels, dict):
        for name, channel in channels.items():
            if isinstance(channel, dict):
                _check_channel(("channels", name), channel, horizon, segment_names, out)
    budget = tree["budget"]
    if isinstance(budget, dict):
        _check_budget(budget, list(channels) if isinstance(channels, dict) else None, out)
    season = tree["seasonality"]
    if isinstance(season, dict) and isinstance(horizon, int):
        _check_seasonality(season, horizon, out)
    _check_repeat(tree, out)
    check_calibration(tree, out)
    check_derived(tree, out)


def _check_repeat(tree: dict[str, Any], out: Problems) -> None:
    repeat, economics = tree["repeat"], tree["economics"]
    if not isinstance(repeat, dict):
        return
    rate, mean_days = repeat["purchase_rate"], repeat["mean_days_between"]
    if mean_days is not None and is_valid(rate) and rate > 0:
        out.add(("repeat",), "give purchase_rate or mean_days_between, not both", got="both")
    if not isinstance(economics, dict) or economics["future_value"] != "expected":
        return
    buys = (is_valid(rate) and rate > 0) or mean_days is not None
    half_life, discount = repeat["lapse_half_life_days"], economics["discount_rate"]
    ends = (is_valid(half_life) and half_life is not None and math.isfinite(half_life)) or (
        is_valid(discount) and discount > 0
    )
    if not buys:
        out.add(
            ("economics", "future_value"),
            "expected needs a repeat purchase rate: repeat.purchase_rate or repeat.mean_days_between",
            got="expected",
        )
    elif not ends:
        out.add(
            ("economics", "future_value"),
            "expected needs repeat.lapse_half_life_days or "
            "economics.discount_rate (else an active customer is worth without end)",
            got="expected",
        )


def _check_represents(scenario: dict[str, Any], out: Problems) -> None:
    population, represents = scenario["population"], scenario["represents"]
    if represents is not None and is_valid(population, represents) and represents < population:
        out.add(
            ("scenario", "represents"),
            f"must be >= population ({population}): a simulated customer stands for one real customer or more",
            got=str(represents),
        )


def _check_seasonality(season: dict[str, Any], horizon: int, out: Problems) -> None:
    weeks = math.ceil(horizon / 7)
    weekly = season["weekly"]
    if isinstance(weekly, list) and len(weekly) != weeks:
        out.add(
            ("seasonality", "weekly"),
            f"must have {weeks} multipliers, one per week of the {horizon}-day horizon",
            got=f"{len(weekly)}",
        )
    periods = season["periods"]
    for i, period in enumerate(periods if isinstance(periods, list) else []):
        if not isinstance(period, dict):
            continue
        first, last = period["first_week"], period["last_week"]
        where = ("seasonality", "periods", i)
        if is_valid(last) and isinstance(last, int) and last > weeks:
            out.add((*where, "last_week"), f"must be within the horizon's {weeks} weeks", got=str(last))
        if is_valid(first, last) and isinstance(first, int) and isinstance(last, int) and first > last:
            out.add((*where, "first_week"), f"must be <= last_week ({last})", got=str(first))


def _check_segments(segments: Any, out: Problems) -> list[str] | None:
    """Report duplicate names and shares not summing to 1; return the valid names (``None``: none usable)."""
    if not isinstance(segments, list):
        return None
    names: list[str] = []
    for i, segment in enumerate(segments):
        if not isinstance(segment, dict) or segment["name"] is INVALID:
            continue
        if segment["name"] in names:
            out.add(("segments", i, "name"), "duplicate segment name", segment["name"])
        names.append(segment["name"])
    shares = [s["share"] for s in segments if isinstance(s, dict)]
    if len(shares) == len(segments) and is_valid(shares):
        total = math.fsum(shares)
        if abs(total - 1.0) > _SHARE_TOLERANCE:
            out.add(("segments",), "shares must sum to 1", got=f"{total:.10g}")
    return names


def _check_channel(
    path: tuple[str, str], channel: dict[str, Any], horizon: Any, segments: list[str] | None, out: Problems
) -> None:
    cpm, cpc, ctr = channel["cpm"], channel["cpc"], channel["ctr"]
    if cpm is not None and cpc is not None:
        out.add(path, "must have exactly one of cpm or cpc", got="both")
    elif cpm is None and cpc is None:
        out.add(path, "must have a price: exactly one of cpm or cpc", got="neither")
    elif cpc is not None and ctr is None:
        out.add((*path, "ctr"), "required with cpc (cost per exposure = cpc * ctr)")
    elif cpm is not None and ctr is not None and ctr is not INVALID:
        out.add((*path, "ctr"), "only with cpc (a cpm channel is priced per exposure)", ctr)

    flighting = channel["flighting"]
    if isinstance(flighting, list):
        if isinstance(horizon, int):
            weeks = math.ceil(horizon / 7)
            if len(flighting) != weeks:
                out.add(
                    (*path, "flighting"),
                    f"must have {weeks} weights, one per week of the {horizon}-day horizon",
                    got=f"{len(flighting)}",
                )
        if flighting and is_valid(flighting) and not any(flighting):
            out.add((*path, "flighting"), "must not be all 0", got="[" + ", ".join(_n(w) for w in flighting) + "]")

    spend, min_spend = channel["spend"], channel["min_spend"]
    if is_valid(spend, min_spend) and 0 < spend < min_spend:
        out.add(
            (*path, "spend"),
            f"must be 0 or at least min_spend ({_n(min_spend)}): a smaller buy is not sold",
            got=_n(spend),
        )

    targets, repurchase = channel["targets"], channel["p_repurchase"]
    if is_valid(repurchase) and repurchase > 0 and isinstance(targets, list) and "converted" not in targets:
        out.add((*path, "p_repurchase"), "acts on customers alone: add converted to targets", got=_n(repurchase))

    for key in ("reach", "affinity"):
        value = channel[key]
        if isinstance(value, dict) and segments is not None:
            for segment in value:
                if segment not in segments:
                    out.unknown((*path, key, segment), segments, noun="segment")


def _check_budget(budget: dict[str, Any], channels: list[str] | None, out: Problems) -> None:
    limits = budget["limits"]
    if isinstance(limits, dict):
        for name, limit in limits.items():
            if channels is not None and name not in channels:
                out.unknown(("budget", "limits", name), channels, noun="channel")
            if not isinstance(limit, dict) or not is_valid(limit) or None in (limit["min"], limit["max"]):
                continue
            if limit["min"] > limit["max"]:
                got = f"min = {_n(limit['min'])}, max = {_n(limit['max'])}"
                out.add(("budget", "limits", name), "min must be <= max", got=got)
    groups = budget["groups"]
    if not isinstance(groups, list):
        return
    seen: list[str] = []
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            continue
        path: tuple[str | int, ...] = ("budget", "groups", i)
        name = group["name"]
        if name is not INVALID:
            if name in seen:
                out.add((*path, "name"), "duplicate group name", name)
            seen.append(name)
        members = group["channels"]
        if isinstance(members, list) and channels is not None:
            for j, member in enumerate(members):
                if member is not INVALID and member not in channels:
                    out.unknown((*path, "channels", j), channels, noun="channel", value=member)
        low, high = group["min_share"], group["max_share"]
        if low is None and high is None:
            out.add(path, "must have min_share or max_share", got="neither")
        elif is_valid(low, high) and low is not None and high is not None and low > high:
            out.add(path, "min_share must be <= max_share", got=f"min_share = {_n(low)}, max_share = {_n(high)}")
