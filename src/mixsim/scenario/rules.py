"""The scenario file's rules: the constraint table of every key, and the rules across keys.

The table (:data:`FILE_TABLE`) declares each key of the file once: its type, range, default, whether it is
required, and what it means. The messages, the did-you-mean hints, the JSON Schema and the key reference
(:mod:`mixsim.scenario.reference`) are all generated from it. Rules that relate several keys (exactly one price,
shares summing to 1, flighting as long as the horizon, names that must exist) are in
:mod:`mixsim.scenario.cross_keys`; :func:`check_document` runs both and returns the checked data. The words the
table is written in live here too: the funnel's :data:`STAGES` and the most channels and segments the engine can
hold. This module knows nothing of the :class:`~mixsim.scenario.Scenario` objects built from the checked data,
nor of files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from mixsim._names import CHANNEL_NAME_PATTERN, CHANNEL_NAME_RULE
from mixsim.scenario._problems import Path, Problems, to_plain
from mixsim.scenario._validate import Choice, Integer, ListOf, MapOf, Number, NumberOrMap, Table, Text
from mixsim.scenario.calibration import CALIBRATION_TABLE
from mixsim.scenario.cross_keys import CROSS_KEY_RULES, cross_check
from mixsim.scenario.limits import MAX_GROUPS, MAX_HORIZON_DAYS, MAX_NUMBER, MAX_WEEKS

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
"""Stages a channel targets unless its ``targets`` say otherwise: the ones before buying. A channel may also
target ``converted`` (the customers), to make them buy again (``p_repurchase``)."""

FUTURE_VALUE: tuple[str, ...] = ("none", "expected")
"""Ways of valuing the customers still active at the end of the horizon (``economics.future_value``)."""

# --------------------------------------------------------------------------------------------------------------
# The constraint table: every key of the file, its type, range and default. Messages, the JSON Schema and the key
# reference are generated from it; rules that relate several keys are in :mod:`mixsim.scenario.cross_keys`.

MAX_CHANNELS = 64
"""Most channels a scenario may have: the engine records the channels a customer has seen in a 64-bit mask."""

MAX_SEGMENTS = 127
"""Most segments a scenario may have: the engine stores a customer's segment in an int8."""


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
        "p_repurchase": _probability(
            "Per-exposure probability that a customer (converted) attempts a repeat purchase now; needs "
            "converted in targets"
        ),
        "targets": ListOf(
            doc="Stages the channel can touch (converted: the customers); default unaware, aware and considering",
            item=Choice(doc="A funnel stage", options=STAGES),
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
                "future_value": Choice(
                    doc="Value of the customers still active at the end of the horizon: none, or expected (the "
                    "discounted repeat revenue an active customer brings after it, in closed form; needs "
                    "repeat purchases, and a lapse or a discount rate)",
                    options=FUTURE_VALUE,
                    default="none",
                ),
                "discount_rate": Number(
                    doc="Yearly discount rate of revenue after the horizon (future value)",
                    low=0.0,
                    most=MAX_NUMBER,
                    default=0.0,
                ),
            },
        ),
        "repeat": Table(
            doc="Customers who buy again: a repeat-purchase hazard, and lapse back to aware; default off",
            fields={
                "purchase_rate": _rate(
                    "Daily hazard of a repeat purchase attempt by an active customer, times the week's demand "
                    "(give purchase_rate or mean_days_between)"
                ),
                "mean_days_between": Number(
                    doc="Mean days between an active customer's purchases: purchase_rate = 1 / mean_days_between",
                    low=0.0,
                    low_open=True,
                    most=MAX_NUMBER,
                ),
                "lapse_half_life_days": Number(
                    doc="Half-life in days of a customer's activity: a customer who did not buy that day lapses "
                    "back to aware at hazard ln 2 / half-life",
                    low=0.0,
                    low_open=True,
                    most=MAX_NUMBER,
                    allow_inf=True,
                    note="inf = never lapses",
                ),
                "order_value": _amount("Revenue per repeat purchase; default economics.order_value", low_open=True),
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
        "calibration": CALIBRATION_TABLE,
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
    cross_check(tree, out)
    if out:
        return None, raw, out.messages(raw)
    return tree, raw, []
