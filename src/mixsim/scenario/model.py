"""The scenario: audience, channels, economics and budget, validated once and immutable.

A scenario is read from a TOML file (the contract is in ``docs/scenario.md``) by
:func:`load_scenario`, or built from a plain mapping by :func:`parse_scenario`. Both check every field against a
declared constraint table and report every problem at once, each as ``file: dotted.path: what is wrong (got X)``.
The result is a frozen :class:`Scenario`; the engine and the optimizer take it and never read files.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mixsim.errors import ScenarioError
from mixsim.scenario._validate import (
    INVALID,
    Choice,
    Integer,
    ListOf,
    MapOf,
    Number,
    NumberOrMap,
    Problems,
    Table,
    Text,
    _hint,
    is_valid,
    show,
    to_plain,
)

__all__ = [
    "MAX_CHANNELS",
    "MAX_SEGMENTS",
    "STAGES",
    "TARGETABLE",
    "Budget",
    "Channel",
    "Economics",
    "Funnel",
    "Group",
    "Limit",
    "Organic",
    "Scenario",
    "Segment",
    "apply_overrides",
    "json_schema",
    "load_scenario",
    "parse_scenario",
    "scenario_to_dict",
]

STAGES: tuple[str, ...] = ("unaware", "aware", "considering", "converted")
"""Funnel stages in order; a customer's stage is its index here."""

TARGETABLE: tuple[str, ...] = STAGES[:3]
"""Stages a channel may target (a converted customer is never exposed)."""


@dataclass(frozen=True)
class Segment:
    """A persona: a named share of the population."""

    name: str
    share: float


@dataclass(frozen=True)
class Channel:
    """One paid channel: its price, plan, audience and effect.

    Per-segment values (``reach``, ``affinity``) are tuples aligned with :attr:`Scenario.segments`.
    """

    name: str
    spend: float
    cpm: float | None = None
    cpc: float | None = None
    ctr: float | None = None
    flighting: tuple[float, ...] | None = None
    reach: tuple[float, ...] = (1.0,)
    p_aware: float = 0.0
    p_consider: float = 0.0
    p_convert: float = 0.0
    targets: tuple[str, ...] = TARGETABLE
    affinity: tuple[float, ...] = (1.0,)
    frequency_cap: int | None = None
    fixed_cost: float = 0.0
    min_spend: float = 0.0

    @property
    def cost_per_exposure(self) -> float:
        """Price of one exposure: ``cpm / 1000``, or ``cpc * ctr`` for click-priced channels."""
        if self.cpm is not None:
            return self.cpm / 1000.0
        assert self.cpc is not None and self.ctr is not None
        return self.cpc * self.ctr


@dataclass(frozen=True)
class Economics:
    """What a conversion is worth."""

    order_value: float
    margin: float
    checkout_abandonment: float = 0.0


@dataclass(frozen=True)
class Funnel:
    """Memory (half-lives in days, ``inf`` = never forgets) and omnichannel synergy."""

    half_life_aware: float = math.inf
    half_life_considering: float = math.inf
    synergy: float = 0.0


@dataclass(frozen=True)
class Organic:
    """Daily hazards of the organic forces (Bass innovation ``awareness_rate``, imitation ``word_of_mouth``)."""

    awareness_rate: float = 0.0
    word_of_mouth: float = 0.0
    consideration_rate: float = 0.0
    conversion_rate: float = 0.0


@dataclass(frozen=True)
class Limit:
    """The optimizer's bounds on one channel's spend."""

    min: float = 0.0
    max: float = math.inf


@dataclass(frozen=True)
class Group:
    """A share constraint on a group of channels."""

    name: str
    channels: tuple[str, ...]
    min_share: float | None = None
    max_share: float | None = None


@dataclass(frozen=True)
class Budget:
    """What the optimizer may allocate, and the planner's constraints."""

    total: float
    limits: tuple[tuple[str, Limit], ...] = ()
    groups: tuple[Group, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """A validated, immutable scenario.

    Build one with :func:`load_scenario` or :func:`parse_scenario`; derive variants with :meth:`replace`,
    :meth:`with_channel`, :meth:`without_channel`, :meth:`with_overrides` or :meth:`with_spend`, which return new
    objects.
    """

    name: str
    population: int
    horizon_days: int
    economics: Economics
    channels: tuple[Channel, ...]
    segments: tuple[Segment, ...] = (Segment("all", 1.0),)
    funnel: Funnel = Funnel()
    organic: Organic = Organic()
    budget: Budget | None = None
    seed: int | None = None
    seasonality: tuple[float, ...] | None = None
    source: str = "<scenario>"
    raw: Any = field(default=None, compare=False, repr=False)

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Channel names in file order."""
        return tuple(c.name for c in self.channels)

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Segment names in file order."""
        return tuple(s.name for s in self.segments)

    @property
    def total_spend(self) -> float:
        """The current plan's spend over the horizon, all channels."""
        return float(sum(c.spend for c in self.channels))

    @property
    def fixed_costs(self) -> float:
        """The fixed costs of the channels the current plan uses (those with spend)."""
        return float(sum(c.fixed_cost for c in self.channels if c.spend > 0))

    @property
    def budget_total(self) -> float:
        """What the optimizer may allocate: ``budget.total``, else what the current plan costs (its media spend
        and the fixed costs of the channels it uses)."""
        if self.budget is not None:
            return self.budget.total
        return self.total_spend + self.fixed_costs

    def channel(self, name: str) -> Channel:
        """The channel called ``name``; ``KeyError`` if there is none."""
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(name)

    def with_spend(self, spend: dict[str, float]) -> Scenario:
        """A copy with the given channels' planned spend replaced (no other change, no re-validation)."""
        unknown = set(spend) - set(self.channel_names)
        if unknown:
            raise KeyError(f"unknown channels {sorted(unknown)}")
        channels = tuple(
            dataclasses.replace(c, spend=float(spend[c.name])) if c.name in spend else c for c in self.channels
        )
        return dataclasses.replace(self, channels=channels)

    def with_overrides(self, overrides: Sequence[str]) -> Scenario:
        """A new scenario: this one's data with ``dotted.key=VALUE`` overrides applied, validated again.

        Parameters
        ----------
        overrides : sequence of str
            Overrides as for :func:`apply_overrides`.

        Returns
        -------
        Scenario
            A new object; this one is left unchanged. Messages name the same source.

        Raises
        ------
        ScenarioError
            If an override is malformed or the result breaks the scenario contract.

        Notes
        -----
        The overrides apply to :attr:`raw`, the data as written (so a default such as ``budget.total`` is
        recomputed from the new spends). If this object no longer matches its raw data (it was derived with
        :meth:`with_spend` or ``dataclasses.replace``), they apply to :func:`scenario_to_dict` of it instead.
        """
        return _from_mapping(self._data(), overrides, self.source)

    def replace(self, changes: Mapping[str, Any] | None = None, /, **scenario_keys: Any) -> Scenario:
        """A new scenario with keys changed, validated again like a file.

        Parameters
        ----------
        changes : mapping of str to value, optional
            Dotted keys of the scenario file and their new values, as Python values (numpy numbers and arrays
            are taken as numbers and lists):
            ``{"funnel.synergy": 0.2, "channels.tv.spend": 40_000, "economics.order_value": 55.0}``. Per-segment
            keys take a number or a dict by segment name; lists replace whole arrays (``segments``, ``flighting``).
        **scenario_keys
            Shorthand for keys of the ``[scenario]`` table: ``population``, ``horizon_days``, ``name``, ``seed``.

        Returns
        -------
        Scenario
            A new object; this one is unchanged.

        Raises
        ------
        ScenarioError
            Naming every problem, as for a file (``source: dotted.key: rule (got X)``); a misspelt channel is
            named with a did-you-mean hint (``replace 'channels.tvv.spend': channels.tvv: no such channel; did you
            mean 'tv'?``). Adding a channel is :meth:`with_channel`'s job.

        Examples
        --------
        >>> bigger = scenario.replace(population=500_000)  # doctest: +SKIP
        >>> no_wom = scenario.replace({"organic.word_of_mouth": 0.0})  # doctest: +SKIP
        """
        items = [(key, value, f"replace {key!r}") for key, value in (changes or {}).items()]
        items += [(f"scenario.{key}", value, f"replace {key}=") for key, value in scenario_keys.items()]
        data, problems = _set_keys(self._data(), items, self.source)
        scenario, more = _parse(data, self.source)
        if problems or more or scenario is None:
            raise ScenarioError(problems + more)
        return scenario

    def with_channel(self, name: str, **fields: Any) -> Scenario:
        """A new scenario with channel ``name`` added, or changed where it already exists.

        Parameters
        ----------
        name : str
            The channel. A new one goes last and needs at least ``spend`` and a price (``cpm``, or ``cpc`` with
            ``ctr``); other keys take the scenario file's defaults (effects 0, reach 1 for every segment).
        **fields
            The channel's keys as in the scenario file (``spend``, ``cpm``, ``reach``, ``p_aware``, ``targets``,
            ...). For an existing channel only these keys change; giving ``cpc`` to a ``cpm`` channel is an error
            (exactly one price), so pass ``cpm=None`` to drop the old one.

        Returns
        -------
        Scenario
            Validated again; this one is unchanged.

        Raises
        ------
        ScenarioError
            If the channel breaks the scenario contract; messages name ``channels.<name>.<key>``.

        Examples
        --------
        >>> with_tv = scenario.with_channel("tv", spend=50_000, cpm=12.0, reach=0.6, p_aware=0.02)  # doctest: +SKIP
        >>> cheaper = scenario.with_channel("social", cpm=6.0)  # doctest: +SKIP
        """
        data = self._data()
        channels = data.setdefault("channels", {})
        entry = dict(channels.get(name, {}))
        for key, value in fields.items():
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = to_plain(_python(value))
        channels[name] = entry
        return _from_mapping(data, (), self.source)

    def without_channel(self, name: str) -> Scenario:
        """A new scenario without channel ``name`` (its budget limits and group memberships go with it, and a
        group it was the only member of).

        Raises
        ------
        KeyError
            If there is no such channel (the message suggests the nearest name).
        """
        if name not in self.channel_names:
            raise KeyError(f"no channel {name!r}{_hint(name, list(self.channel_names))}")
        data = self._data()
        del data["channels"][name]
        budget = data.get("budget")
        if isinstance(budget, dict):
            budget.get("limits", {}).pop(name, None)
            groups = []
            for group in budget.get("groups", []):
                group["channels"] = [c for c in group.get("channels", []) if c != name]
                if group["channels"]:  # a group of that channel alone goes with it
                    groups.append(group)
            budget["groups"] = groups
        return _from_mapping(data, (), self.source)

    def _data(self) -> dict[str, Any]:
        """A copy of the data this scenario was built from (its raw file data while that still matches it)."""
        base = self.raw
        if base is None or _parse(base, self.source)[0] != self:
            base = scenario_to_dict(self)
        return to_plain(base)


# --------------------------------------------------------------------------------------------------------------
# The constraint table: every key of the file, its type, range and default. Messages and the JSON Schema are
# generated from it; rules that relate several keys are in ``_cross_check``.

MAX_CHANNELS = 64
"""Most channels a scenario may have: the engine records the channels a customer has seen in a 64-bit mask."""

MAX_SEGMENTS = 127
"""Most segments a scenario may have: the engine stores a customer's segment in an int8."""

_SHARE_TOLERANCE = 1e-6
_CHANNEL_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _probability(doc: str, default: float | None = 0.0) -> Number:
    return Number(doc=doc, low=0.0, high=1.0, default=default)


def _rate(doc: str) -> Number:
    return Number(doc=doc, low=0.0, default=0.0)


def _per_segment(doc: str, number: Number, missing: str) -> NumberOrMap:
    # The default belongs to the whole key, not to a table entry (a segment missing from a reach table gets 0).
    value = dataclasses.replace(number, default=None)
    return NumberOrMap(
        doc=f"{doc}: one number for every segment, or a table segment name -> number ({missing})",
        number=value,
        table=MapOf(doc="Per-segment values, by segment name", value=value, noun="segment"),
        default=number.default,
    )


_CHANNEL = Table(
    doc="A paid channel; its name is the table key",
    fields={
        "cpm": Number(doc="Price per 1000 exposures (give exactly one of cpm or cpc)", low=0.0, low_open=True),
        "cpc": Number(
            doc="Price per click; an exposure is an impression, so it costs cpc * ctr (give exactly one of cpm or cpc)",
            low=0.0,
            low_open=True,
        ),
        "ctr": Number(
            doc="Click-through rate of a cpc channel (required with cpc, only with cpc)",
            low=0.0,
            low_open=True,
            high=1.0,
        ),
        "spend": Number(doc="The current plan: spend over the whole horizon", low=0.0, required=True),
        "flighting": ListOf(
            doc="Relative weight of each week of the horizon, one per week (ceil(horizon_days / 7)), not all 0; "
            "default even",
            item=Number(doc="Weight of one week", low=0.0),
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
            unique=True,
            noun="stage",
            default=list(TARGETABLE),
        ),
        "affinity": _per_segment(
            "Multiplier on the channel's probabilities per segment",
            Number(doc="Multiplier", low=0.0, default=1.0),
            "a segment missing from the table gets 1; default 1",
        ),
        "frequency_cap": Integer(doc="Most exposures per customer per day; default none", low=1),
        "fixed_cost": Number(doc="Paid once if the channel is used at all", low=0.0, default=0.0),
        "min_spend": Number(doc="Minimum buy if the channel is used at all", low=0.0, default=0.0),
    },
    extra_schema={
        "oneOf": [{"required": ["cpm"]}, {"required": ["cpc"]}],
        "dependentRequired": {"cpc": ["ctr"], "ctr": ["cpc"]},
    },
)

_HALF_LIFE_NOTE = "inf = never forgets"

_FILE = Table(
    doc="A mixsim scenario: audience, channels, economics and budget",
    fields={
        "scenario": Table(
            doc="What is simulated",
            required=True,
            fields={
                "name": Text(doc="Scenario name, shown in reports", required=True),
                "population": Integer(doc="Number of synthetic customers", low=0, low_open=True, required=True),
                "horizon_days": Integer(doc="Simulated days", low=0, low_open=True, required=True),
                "seed": Integer(doc="Default random seed", low=0),
            },
        ),
        "economics": Table(
            doc="What a conversion is worth",
            required=True,
            fields={
                "order_value": Number(doc="Revenue per conversion", low=0.0, low_open=True, required=True),
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
                            allow_inf=True,
                            note=_HALF_LIFE_NOTE,
                        ),
                        "considering": Number(
                            doc="Half-life of consideration, days",
                            low=0.0,
                            low_open=True,
                            allow_inf=True,
                            note=_HALF_LIFE_NOTE,
                        ),
                    },
                ),
                "synergy": Number(doc="Boost per extra distinct channel already seen", low=0.0, default=0.0),
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
            value=_CHANNEL,
            key_pattern=_CHANNEL_NAME,
            key_rule="channel name must be letters, digits and underscores, not starting with a digit",
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
                    item=Number(doc="Multiplier of one week", low=0.0),
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
                            "multiplier": Number(doc="Multiplier in the period's weeks", low=0.0, required=True),
                        },
                    ),
                    noun="period",
                    default=[],
                ),
            },
        ),
        "budget": Table(
            doc="What the optimizer may allocate, and the planner's constraints",
            fields={
                "total": Number(doc="Budget to allocate; default the sum of channel spends", low=0.0),
                "limits": MapOf(
                    doc="Per-channel bounds on spend, by channel name",
                    value=Table(
                        doc="Bounds on one channel's spend (min <= max)",
                        fields={
                            "min": Number(doc="Least spend", low=0.0),
                            "max": Number(doc="Most spend; default unbounded", low=0.0, allow_inf=True),
                        },
                    ),
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
                    noun="group",
                    default=[],
                ),
            },
        ),
    },
)


# --------------------------------------------------------------------------------------------------------------
# Rules across keys. They only look at values that passed their own check, so one mistake is reported once.


def _n(x: float) -> str:
    """A checked number as the user most likely wrote it: 10000, not 10000.0 or 1e+04."""
    return str(int(x)) if x.is_integer() else repr(x)


def _cross_check(tree: dict[str, Any], out: Problems) -> None:
    segment_names = _check_segments(tree["segments"], out)
    scenario = tree["scenario"]
    horizon = scenario["horizon_days"] if isinstance(scenario, dict) else INVALID
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
# Building the objects from a checked tree (only called when there is no problem).


def _build(tree: dict[str, Any], raw: dict[str, Any], source: str) -> Scenario:
    segments = tuple(Segment(s["name"], s["share"]) for s in tree["segments"])
    names = [s.name for s in segments]

    def per_segment(value: Any, missing: float) -> tuple[float, ...]:
        if isinstance(value, dict):
            return tuple(value.get(n, missing) for n in names)
        return tuple(value for _ in names)

    channels = tuple(
        Channel(
            name=name,
            spend=c["spend"],
            cpm=c["cpm"],
            cpc=c["cpc"],
            ctr=c["ctr"],
            flighting=None if c["flighting"] is None else tuple(c["flighting"]),
            reach=per_segment(c["reach"], 0.0),
            p_aware=c["p_aware"],
            p_consider=c["p_consider"],
            p_convert=c["p_convert"],
            targets=tuple(t for t in TARGETABLE if t in c["targets"]),
            affinity=per_segment(c["affinity"], 1.0),
            frequency_cap=c["frequency_cap"],
            fixed_cost=c["fixed_cost"],
            min_spend=c["min_spend"],
        )
        for name, c in tree["channels"].items()
    )
    b = tree["budget"]
    budget = Budget(
        total=b["total"] if b["total"] is not None else math.fsum(c.spend for c in channels),
        limits=tuple(
            (
                name,
                Limit(
                    min=lim["min"] if lim["min"] is not None else 0.0,
                    max=lim["max"] if lim["max"] is not None else math.inf,
                ),
            )
            for name, lim in b["limits"].items()
        ),
        groups=tuple(
            Group(name=g["name"], channels=tuple(g["channels"]), min_share=g["min_share"], max_share=g["max_share"])
            for g in b["groups"]
        ),
    )
    f, hl = tree["funnel"], tree["funnel"]["half_life_days"]
    return Scenario(
        name=tree["scenario"]["name"],
        population=tree["scenario"]["population"],
        horizon_days=tree["scenario"]["horizon_days"],
        seed=tree["scenario"]["seed"],
        economics=Economics(**tree["economics"]),
        funnel=Funnel(
            half_life_aware=hl["aware"] if hl["aware"] is not None else math.inf,
            half_life_considering=hl["considering"] if hl["considering"] is not None else math.inf,
            synergy=f["synergy"],
        ),
        organic=Organic(**tree["organic"]),
        seasonality=_season(tree["seasonality"], tree["scenario"]["horizon_days"]),
        segments=segments,
        channels=channels,
        budget=budget,
        source=source,
        raw=raw,
    )


def _season(season: dict[str, Any], horizon: int) -> tuple[float, ...] | None:
    """Each week's multiplier, or None when every week is 1 (the engine then skips the scaling entirely)."""
    weekly = np.ones(math.ceil(horizon / 7)) if season["weekly"] is None else np.array(season["weekly"], dtype=float)
    for period in season["periods"]:
        weekly[period["first_week"] - 1 : period["last_week"]] *= period["multiplier"]
    return None if np.all(weekly == 1.0) else tuple(float(w) for w in weekly)


def _parse(data: Any, source: str) -> tuple[Scenario | None, list[str]]:
    out = Problems(source)
    if not isinstance(data, Mapping):
        out.add((), "a scenario must be a table", data)
        return None, out.messages()
    raw = to_plain(data)
    tree = _FILE.check(raw, (), out)
    _cross_check(tree, out)
    if out:
        return None, out.messages(raw)
    return _build(tree, raw, source), []


def _from_mapping(data: Mapping[str, Any], overrides: Sequence[str], source: str) -> Scenario:
    data, problems = _apply_overrides(data, overrides, source)
    scenario, more = _parse(data, source)
    problems += more
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


# --------------------------------------------------------------------------------------------------------------
# Public functions.


def parse_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate plain data (a parsed TOML document) and build the :class:`Scenario` it describes.

    Every key is checked against the scenario contract (``docs/scenario.md``); every problem is collected
    before anything is raised.

    Parameters
    ----------
    data : mapping
        The document: tables as mappings, arrays as lists.
    source : str, default="<scenario>"
        Where the data came from; it starts every message and is kept in :attr:`Scenario.source`.

    Returns
    -------
    Scenario
        The validated scenario, defaults resolved; per-segment values aligned with its segments. A deep copy of
        ``data`` is kept in :attr:`Scenario.raw`.

    Raises
    ------
    ScenarioError
        With one line per problem, ``source: dotted.path: what is wrong (got X)``; list items are addressed
        ``segments[0].share`` (counting from 0).

    Examples
    --------
    >>> import tomllib, mixsim
    >>> data = tomllib.loads(open("scenarios/d2c_ecommerce.toml", encoding="utf-8").read())
    >>> mixsim.parse_scenario(data, source="in memory").name
    'D2C skincare brand, one quarter'
    """
    scenario, problems = _parse(data, source)
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


_TOML_AT = re.compile(
    r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$", re.DOTALL
)


def _toml_problem(source: str, err: tomllib.TOMLDecodeError) -> str:
    match = _TOML_AT.match(str(err))
    if match is None:
        return f"{source}: invalid TOML: {err}"
    what = match["what"][:1].lower() + match["what"][1:]
    where = f"line {match['line']}, column {match['column']}" if match["line"] else "end of file"
    return f"{source}: {where}: {what}"


def _read_toml(source: str) -> dict[str, Any]:
    try:
        content = Path(source).read_bytes()
    except FileNotFoundError:
        raise ScenarioError([f"{source}: file not found"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{source}: is a directory, not a scenario file"]) from None
    except PermissionError:
        raise ScenarioError([f"{source}: permission denied"]) from None
    except OSError as err:
        raise ScenarioError([f"{source}: cannot read file ({err.strerror or err})"]) from None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        line = content.count(b"\n", 0, err.start) + 1
        raise ScenarioError([f"{source}: line {line}: not UTF-8 text (a TOML file must be UTF-8)"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError([_toml_problem(source, err)]) from None


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Scenario:
    """Read a scenario TOML file, apply overrides, and validate it.

    Parameters
    ----------
    path : str or os.PathLike
        The file; messages name it as given.
    overrides : sequence of str, default=()
        ``dotted.key=VALUE`` overrides applied before validation (see :func:`apply_overrides`).

    Returns
    -------
    Scenario
        The validated scenario; :attr:`Scenario.source` is the path as given.

    Raises
    ------
    ScenarioError
        If the file is missing or unreadable, is not valid TOML (the message names line and column), an
        override is malformed, or the content breaks the scenario contract (every problem at once).

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> scenario.population, scenario.channel_names[:2]
    (20000, ('social', 'search'))
    """
    source = os.fsdecode(path)
    return _from_mapping(_read_toml(source), overrides, source)


_OVERRIDE_KEY = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")


def _override_value(text: str) -> Any:
    """``text`` as a TOML value, or as the plain string if it is not one."""
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    # Text such as "1\nx = 2" parses but smuggles in another key: it is not one value.
    return parsed["v"] if list(parsed) == ["v"] else text


def _apply_overrides(
    data: Mapping[str, Any], overrides: Sequence[str], source: str
) -> tuple[dict[str, Any], list[str]]:
    if isinstance(overrides, str):  # one override given bare, not in a list
        overrides = [overrides]
    items: list[tuple[str, Any, str]] = []
    problems: list[str] = []
    for override in overrides:
        key, sep, text = str(override).partition("=")
        key = key.strip()
        if not sep or not _OVERRIDE_KEY.match(key):
            problems.append(f"--set {override!r}: expected dotted.key=VALUE")
            continue
        items.append((key, _override_value(text.strip()), f"--set {override!r}"))
    result, more = _set_keys(data, items, source)
    return result, problems + more


def _set_keys(
    data: Mapping[str, Any], items: Sequence[tuple[str, Any, str]], source: str
) -> tuple[dict[str, Any], list[str]]:
    """Set ``(dotted.key, value, label)`` items in a deep copy of ``data``; ``label`` starts each message."""
    result: dict[str, Any] = to_plain(data)
    problems: list[str] = []
    for key, value, label in items:
        parts = key.split(".")
        node = result
        for depth, part in enumerate(parts[:-1]):
            if depth == 1 and parts[0] == "channels" and isinstance(node, dict) and part not in node:
                # A new table under channels is almost always a misspelt channel, not a new channel.
                problems.append(f"{label}: channels.{part}: no such channel{_hint(part, node)}")
                break
            if isinstance(node, dict) and part not in node:
                node[part] = {}
            child = node[part] if isinstance(node, dict) else None
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                problems.append(
                    f"{source}: {where}: not a table, so {label} cannot set a key inside it (got {show(child)})"
                )
                break
            node = child
        else:
            node[parts[-1]] = to_plain(_python(value))
    return result, problems


def _python(value: Any) -> Any:
    """numpy arrays and numbers as lists and Python numbers (a notebook's values are often numpy's)."""
    return value.tolist() if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) else value


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str], source: str = "<scenario>") -> dict[str, Any]:
    """Set keys in a copy of scenario data from ``dotted.key=VALUE`` strings (the CLI's ``--set``).

    Parameters
    ----------
    data : mapping
        The document; it is not modified.
    overrides : sequence of str
        Each ``dotted.key=VALUE``. The key is a path through tables (bare TOML keys joined by dots; missing
        tables are created). Items of arrays such as ``segments`` cannot be addressed: override the whole
        array instead (``segments=[{name = "all", share = 1.0}]``). ``VALUE`` is read as a TOML value
        (``3``, ``0.5``, ``inf``, ``true``, ``"text"``, ``[1, 2]``, ``{aware = 30}``); anything that is not valid
        TOML is taken as a plain string, so ``scenario.name=Spring push`` works. Later overrides win.
    source : str, default="<scenario>"
        Name used in messages about the data.

    Returns
    -------
    dict
        A deep copy of ``data`` with the overrides applied (not validated).

    Raises
    ------
    ScenarioError
        Listing every malformed override (``--set 'x': expected dotted.key=VALUE``) and every key that would
        have to go inside a value that is not a table.
    """
    result, problems = _apply_overrides(data, overrides, source)
    if problems:
        raise ScenarioError(problems)
    return result


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the scenario file, for editor completion and checking.

    It is generated from the same constraint table as the validation. Rules across keys (exactly one price,
    shares summing to 1, flighting length, names that must exist) appear in descriptions, and where JSON
    Schema can say them, as ``oneOf`` / ``dependentRequired``. ``inf`` (a half-life that never fades) is not
    JSON, so it is only described.

    Returns
    -------
    dict
        The schema, ready for ``json.dumps``.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mixsim scenario",
        **_FILE.schema(),
    }


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain, TOML-shaped data.

    Defaults are written out, per-segment values become tables by segment name, and infinite half-lives and
    unbounded limits are left out (TOML readers without ``inf`` stay happy). ``parse_scenario`` of the result
    equals ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        Any scenario (built by hand or loaded).

    Returns
    -------
    dict
        Tables as dicts, arrays as lists; no ``None`` values.
    """
    names = scenario.segment_names
    head: dict[str, Any] = {
        "name": scenario.name,
        "population": scenario.population,
        "horizon_days": scenario.horizon_days,
    }
    if scenario.seed is not None:
        head["seed"] = scenario.seed
    half_lives = {
        stage: value
        for stage, value in (
            ("aware", scenario.funnel.half_life_aware),
            ("considering", scenario.funnel.half_life_considering),
        )
        if not math.isinf(value)
    }
    channels: dict[str, Any] = {}
    for c in scenario.channels:
        entry: dict[str, Any] = {}
        for key in ("cpm", "cpc", "ctr"):
            if getattr(c, key) is not None:
                entry[key] = getattr(c, key)
        entry["spend"] = c.spend
        if c.flighting is not None:
            entry["flighting"] = list(c.flighting)
        entry["reach"] = dict(zip(names, c.reach, strict=True))
        entry.update(p_aware=c.p_aware, p_consider=c.p_consider, p_convert=c.p_convert, targets=list(c.targets))
        entry["affinity"] = dict(zip(names, c.affinity, strict=True))
        if c.frequency_cap is not None:
            entry["frequency_cap"] = c.frequency_cap
        entry.update(fixed_cost=c.fixed_cost, min_spend=c.min_spend)
        channels[c.name] = entry
    result: dict[str, Any] = {
        "scenario": head,
        "economics": dataclasses.asdict(scenario.economics),
        "funnel": {"half_life_days": half_lives, "synergy": scenario.funnel.synergy},
        "organic": dataclasses.asdict(scenario.organic),
        "segments": [{"name": s.name, "share": s.share} for s in scenario.segments],
        "channels": channels,
    }
    if scenario.seasonality is not None:
        result["seasonality"] = {"weekly": list(scenario.seasonality)}
    if scenario.budget is not None:
        limits: dict[str, Any] = {}
        for name, limit in scenario.budget.limits:
            limits[name] = {"min": limit.min} if math.isinf(limit.max) else {"min": limit.min, "max": limit.max}
        groups = []
        for g in scenario.budget.groups:
            group: dict[str, Any] = {"name": g.name, "channels": list(g.channels)}
            if g.min_share is not None:
                group["min_share"] = g.min_share
            if g.max_share is not None:
                group["max_share"] = g.max_share
            groups.append(group)
        result["budget"] = {"total": scenario.budget.total, "limits": limits, "groups": groups}
    return result
