"""The scenario file's rules: the constraint table of every key, and the rules across keys.

The table (:data:`FILE_TABLE`) declares each key of the file once: its type, range, default, whether it is
required, and what it means. The messages, the did-you-mean hints, the JSON Schema and the key reference
(:mod:`mixsim.scenario.reference`) are all generated from it. Rules that relate several keys (exactly one price,
shares summing to 1, flighting as long as the horizon, names that must exist) are the ``_check_*`` functions
below; :func:`check_document` runs both and returns the checked data. The words the table is written in live
here too: the funnel's :data:`STAGES` and the most channels and segments the engine can hold. This module knows
nothing of the :class:`~mixsim.scenario.Scenario` objects built from the checked data, nor of files.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from mixsim._names import CHANNEL_NAME_PATTERN, CHANNEL_NAME_RULE
from mixsim.scenario._problems import INVALID, Path, Problems, is_valid, to_plain
from mixsim.scenario._validate import Choice, Integer, ListOf, MapOf, Number, NumberOrMap, Table, Text
from mixsim.scenario.limits import DERIVED_RULES, MAX_GROUPS, MAX_HORIZON_DAYS, MAX_NUMBER, MAX_WEEKS, check_derived

__all__ = [
    "CHANNEL_TABLE",
    "CROSS_KEY_RULES",
    "FILE_TABLE",
    "MAX_CHANNELS",
    "MAX_SEGMENTS",
    "STAGES",
    "TARGETABLE",
    "check_document",
]

STAGES: tuple[str, ...] = ("unaware", "aware", "considering", "converted")
"""Funnel stages in order; a customer's stage is its index here."""

TARGETABLE: tuple[str, ...] = STAGES[:3]
"""Stages a channel may target (a converted customer is never exposed)."""

# --------------------------------------------------------------------------------------------------------------
# The constraint table: every key of the file, its type, range and default. Messages, the JSON Schema and the key
# reference are generated from it; rules that relate several keys are in ``_cross_check``.

MAX_CHANNELS = 64
"""Most channels a scenario may have: the engine records the channels a customer has seen in a 64-bit mask."""

MAX_SEGMENTS = 127
"""Most segments a scenario may have: the engine stores a customer's segment in an int8."""

_SHARE_TOLERANCE = 1e-6


def _probability(doc: str, default: float | None = 0.0) -> Number:
    return Number(doc=doc, low=0.0, high=1.0, default=default)


def _rate(doc: str) -> Number:
    return Number(doc=doc, low=0.0, most=MAX_NUMBER, default=0.0)


def _amount(doc: str, **keys: Any) -> Number:
    """A number >= 0 and at most :data:`~mixsim.scenario.limits.MAX_NUMBER`: money, a multiplier, a weight."""
    return Number(doc=doc, low=0.0, most=MAX_NUMBER, **keys)


def _per_segment(doc: str, number: Number, missing: str) -> NumberOrMap:
    # The default belongs to the whole key, not to a table entry (a segment missing from a reach table gets 0).
    value = dataclasses.replace(number, default=None)
    return NumberOrMap(
        doc=f"{doc}: one number for every segment, or a table segment name -> number ({missing})",
        number=value,
        table=MapOf(doc="Per-segment values, by segment name", value=value, max_items=MAX_SEGMENTS, noun="segment"),
        default=number.default,
    )


CHANNEL_TABLE = Table(
    doc="A paid channel; its name is the table key",
    fields={
        "cpm": _amount("Price per 1000 exposures (give exactly one of cpm or cpc)", low_open=True),
        "cpc": _amount(
            "Price per click; an exposure is an impression, so it costs cpc * ctr (give exactly one of cpm or cpc)",
            low_open=True,
        ),
        "ctr": Number(
            doc="Click-through rate of a cpc channel (required with cpc, only with cpc)",
            low=0.0,
            low_open=True,
            high=1.0,
        ),
        "spend": _amount("The current plan: spend over the whole horizon", required=True),
        "flighting": ListOf(
            doc="Relative weight of each week of the horizon, one per week (ceil(horizon_days / 7)), not all 0; "
            "default even",
            item=_amount("Weight of one week"),
            max_items=MAX_WEEKS,
            noun="week",
        ),
        "reach": _per_segment(
            "Share of each segment the channel can ever touch",
            _probability("Share of the segment reachable", default=1.0),
            "a segment missing from the table is not reachable; default 1",
        ),
        "p_aware": _probability("Per-exposure probability unaware -> aware"),
        "p_consider": _probability("Per-exposure probability aware -> considering"),
        "p_convert": _probability("Per-exposure probability considering -> conversion attempt"),
        "targets": ListOf(
            doc="Stages the channel can touch",
            item=Choice(doc="A funnel stage", options=TARGETABLE),
            min_items=1,
            max_items=16,  # room to report a duplicate or a misspelt stage, not ten million of them
            unique=True,
            noun="stage",
            default=list(TARGETABLE),
        ),
        "affinity": _per_segment(
            "Multiplier on the channel's probabilities per segment",
            _amount("Multiplier", default=1.0),
            "a segment missing from the table gets 1; default 1",
        ),
        "frequency_cap": Integer(doc="Most exposures per customer per day; default none", low=1),
        "fixed_cost": _amount("Paid once if the channel is used at all", default=0.0),
        "min_spend": _amount("Minimum buy if the channel is used at all", default=0.0),
    },
    extra_schema={
        "oneOf": [{"required": ["cpm"]}, {"required": ["cpc"]}],
        "dependentRequired": {"cpc": ["ctr"], "ctr": ["cpc"]},
    },
)

_HALF_LIFE_NOTE = "inf = never forgets"

FILE_TABLE = Table(
    doc="A mixsim scenario: audience, channels, economics and budget",
    fields={
        "scenario": Table(
            doc="What is simulated",
            required=True,
            fields={
                "name": Text(doc="Scenario name, shown in reports", required=True),
                "population": Integer(doc="Number of synthetic customers", low=0, low_open=True, required=True),
                "represents": Integer(
                    doc="How many real customers the population stands for (each simulated customer stands for "
                    "represents / population); default the population",
                    low=0,
                    low_open=True,
                    most=int(MAX_NUMBER),
                ),
                "horizon_days": Integer(
                    doc="Simulated days",
                    low=0,
                    low_open=True,
                    most=MAX_HORIZON_DAYS,
                    why="ten years",
                    required=True,
                ),
                "seed": Integer(doc="Default random seed", low=0),
            },
        ),
        "economics": Table(
            doc="What a conversion is worth",
            required=True,
            fields={
                "order_value": _amount("Revenue per conversion", low_open=True, required=True),
                "margin": Number(doc="Gross margin", low=0.0, high=1.0, required=True),
                "checkout_abandonment": Number(
                    doc="Share of conversion attempts abandoned at checkout",
                    low=0.0,
                    high=1.0,
                    high_open=True,
                    note="1 would make conversion impossible",
                    default=0.0,
                ),
            },
        ),
        "funnel": Table(
            doc="Memory and omnichannel synergy",
            fields={
                "half_life_days": Table(
                    doc="Half-life in days of each stage's memory; omit a stage (or give inf) and it never forgets",
                    fields={
                        "aware": Number(
                            doc="Half-life of awareness, days",
                            low=0.0,
                            low_open=True,
                            most=MAX_NUMBER,
                            allow_inf=True,
                            note=_HALF_LIFE_NOTE,
                        ),
                        "considering": Number(
                            doc="Half-life of consideration, days",
                            low=0.0,
                            low_open=True,
                            most=MAX_NUMBER,
                            allow_inf=True,
                            note=_HALF_LIFE_NOTE,
                        ),
                    },
                ),
                "synergy": _amount("Boost per extra distinct channel already seen", default=0.0),
            },
        ),
        "organic": Table(
            doc="Daily hazards of the organic forces",
            fields={
                "awareness_rate": _rate("Unaware -> aware (Bass innovation p)"),
                "word_of_mouth": _rate("Unaware -> aware, times the share converted (Bass imitation q)"),
                "consideration_rate": _rate("Aware -> considering"),
                "conversion_rate": _rate("Considering -> conversion attempt (direct visits)"),
            },
        ),
        "segments": ListOf(
            doc="Personas; names unique, shares sum to 1; default one segment 'all' with share 1",
            item=Table(
                doc="A persona",
                fields={
                    "name": Text(doc="Segment name, used as a key in reach and affinity", required=True),
                    "share": Number(doc="Share of the population", low=0.0, low_open=True, high=1.0, required=True),
                },
            ),
            min_items=1,
            max_items=MAX_SEGMENTS,
            noun="segment",
            default=[{"name": "all", "share": 1.0}],
        ),
        "channels": MapOf(
            doc="The paid channels, by name",
            required=True,
            value=CHANNEL_TABLE,
            key_pattern=CHANNEL_NAME_PATTERN,  # the same rule as a channel in a curves or committed-spend file
            key_rule=CHANNEL_NAME_RULE,
            min_items=1,
            max_items=MAX_CHANNELS,
            noun="channel",
            why="the engine tracks channels in a 64-bit mask",
        ),
        "seasonality": Table(
            doc="Demand over the horizon: each week's multiplier of the organic hazards and of the channels' "
            "per-exposure effects (the share of the market in-market); default flat (1 every week)",
            fields={
                "weekly": ListOf(
                    doc="One multiplier per week of the horizon (ceil(horizon_days / 7)); default 1 every week",
                    item=_amount("Multiplier of one week"),
                    max_items=MAX_WEEKS,
                    noun="week",
                ),
                "periods": ListOf(
                    doc="Named periods (a holiday peak, a summer lull) multiplying the weekly values",
                    item=Table(
                        doc="A period of whole weeks, counted from 1, and its multiplier",
                        fields={
                            "name": Text(doc="Period name, shown in reports", required=True),
                            "first_week": Integer(
                                doc="First week of the period (1 is the first week)", low=1, required=True
                            ),
                            "last_week": Integer(doc="Last week of the period (>= first_week)", low=1, required=True),
                            "multiplier": _amount("Multiplier in the period's weeks", required=True),
                        },
                    ),
                    max_items=MAX_WEEKS,
                    noun="period",
                    default=[],
                ),
            },
        ),
        "budget": Table(
            doc="What the optimizer may allocate, and the planner's constraints",
            fields={
                "total": _amount("Budget to allocate; default the sum of channel spends"),
                "limits": MapOf(
                    doc="Per-channel bounds on spend, by channel name",
                    value=Table(
                        doc="Bounds on one channel's spend (min <= max)",
                        fields={
                            "min": _amount("Least spend"),
                            "max": _amount("Most spend; default unbounded", allow_inf=True),
                        },
                    ),
                    max_items=MAX_CHANNELS,
                    noun="channel",
                    default={},
                ),
                "groups": ListOf(
                    doc="Share constraints on groups of channels",
                    item=Table(
                        doc="A group of channels and its share of planned media spend (min_share, max_share)",
                        fields={
                            "name": Text(doc="Group name", required=True),
                            "channels": ListOf(
                                doc="Channels in the group",
                                item=Text(doc="A channel name"),
                                min_items=1,
                                max_items=MAX_CHANNELS,
                                unique=True,
                                noun="channel",
                                required=True,
                            ),
                            "min_share": _probability(
                                "Least share of planned media spend (fixed costs aside)", default=None
                            ),
                            "max_share": _probability(
                                "Most share of planned media spend (fixed costs aside)", default=None
                            ),
                        },
                        extra_schema={"anyOf": [{"required": ["min_share"]}, {"required": ["max_share"]}]},
                    ),
                    max_items=MAX_GROUPS,
                    noun="group",
                    default=[],
                ),
            },
        ),
    },
)


# --------------------------------------------------------------------------------------------------------------
# Rules across keys. They only look at values that passed their own check, so one mistake is reported once.

CROSS_KEY_RULES: tuple[tuple[str, str], ...] = (
    ("scenario.represents", ">= population (a simulated customer stands for one real customer or more)"),
    ("segments", "segment names are unique; the shares sum to 1"),
    ("channels.NAME", "exactly one price: cpm, or cpc together with ctr (ctr only with cpc)"),
    ("channels.NAME.flighting", "one weight per week of the horizon (ceil(horizon_days / 7)), not all 0"),
    ("channels.NAME.spend", "0, or at least min_spend (a smaller buy is not sold)"),
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


def _cross_check(tree: dict[str, Any], out: Problems) -> None:
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
    check_derived(tree, out)


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


# --------------------------------------------------------------------------------------------------------------
# Checking a whole document.


def check_document(
    data: Any, source: str, origins: Sequence[tuple[Path, str]] = ()
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[str]]:
    """Check plain data against the table and the rules across keys.

    Parameters
    ----------
    data : object
        The document as parsed (tables as mappings, arrays as lists); it is not modified.
    source : str
        The name that starts every message.
    origins : sequence of (Path, str), default=()
        Places set by overrides and their labels: a problem there names the override, not ``source``.

    Returns
    -------
    tree : dict or None
        The checked data with every default filled in; ``None`` when there is a problem.
    raw : dict or None
        A deep copy of ``data`` as plain dicts and lists (``None`` if it is not a table).
    problems : list of str
        Every problem, ``source: dotted.path: rule (got X)``, in the order of the places they name in the file.
    """
    out = Problems(source, origins)
    if not isinstance(data, Mapping):
        out.add((), "a scenario must be a table", data)
        return None, None, out.messages()
    raw = to_plain(data)
    tree = FILE_TABLE.check(raw, (), out)
    _cross_check(tree, out)
    if out:
        return None, raw, out.messages(raw)
    return tree, raw, []
