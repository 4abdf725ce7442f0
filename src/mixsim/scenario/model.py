"""The scenario's objects: :class:`Scenario` and its parts (channels, segments, economics, budget, ...).

The objects are frozen; a variant (:meth:`Scenario.replace`, :meth:`~Scenario.with_channel`, ...) is a new
object, validated again like a file. This module builds them from data the constraint table has checked
(:func:`parse_scenario`, with :mod:`mixsim.scenario.rules`); :mod:`mixsim.scenario.writing` writes them back as
plain data. Reading files is :mod:`mixsim.scenario.files`; nothing here simulates or prints.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mixsim._names import name_hint
from mixsim.errors import ScenarioError
from mixsim.scenario._problems import Path, show, to_plain
from mixsim.scenario.budget import Budget, Group, Limit
from mixsim.scenario.calibration import Calibration, build_calibration
from mixsim.scenario.limits import MAX_NUMBER, shown
from mixsim.scenario.overrides import override_data, python_value, set_keys
from mixsim.scenario.rules import STAGES, TARGETABLE, check_document
from mixsim.scenario.scaling import scale_overrides
from mixsim.scenario.writing import scenario_to_dict

__all__ = [
    "Budget",
    "Channel",
    "Economics",
    "Funnel",
    "Group",
    "Limit",
    "Organic",
    "Repeat",
    "Scenario",
    "Segment",
    "parse_scenario",
]


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
    p_repurchase: float = 0.0
    targets: tuple[str, ...] = TARGETABLE
    affinity: tuple[float, ...] = (1.0,)
    frequency_cap: int | None = None
    fixed_cost: float = 0.0
    min_spend: float = 0.0

    @property
    def cost_per_exposure(self) -> float:
        """Price of one exposure: ``cpm / 1000``, or ``cpc * ctr`` for click-priced channels.

        Raises
        ------
        ScenarioError
            For a channel built by hand with no price (a loaded one always has one).
        """
        if self.cpm is not None:
            return self.cpm / 1000.0
        if self.cpc is None or self.ctr is None:
            raise ScenarioError([f"channels.{self.name}: must have a price: cpm, or cpc with ctr"])
        return self.cpc * self.ctr


@dataclass(frozen=True)
class Economics:
    """What a purchase is worth, and how the customers still active at the end are valued."""

    order_value: float
    margin: float
    checkout_abandonment: float = 0.0
    future_value: str = "none"
    discount_rate: float = 0.0


@dataclass(frozen=True)
class Repeat:
    """Customers who buy again: a daily repeat-purchase hazard, a lapse half-life (days, ``inf`` = never) and the
    revenue of a repeat purchase (``None``: the first order's)."""

    purchase_rate: float = 0.0
    lapse_half_life: float = math.inf
    order_value: float | None = None


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
class Scenario:
    """A validated, immutable scenario.

    Build one with :func:`load_scenario` or :func:`parse_scenario`; derive variants with :meth:`replace`,
    :meth:`with_channel`, :meth:`without_channel`, :meth:`with_overrides`, :meth:`with_spend` or :meth:`scaled`,
    which return new objects.

    ``represents`` is how many real customers the ``population`` stands for (0 when built by hand: the
    population). ``overrides`` records the ``dotted.key=VALUE`` overrides the scenario was made with, in order:
    those given to :func:`load_scenario`, :func:`parse_scenario` and :meth:`with_overrides`, and those
    :meth:`scaled` applies. Variants made in code (:meth:`replace`, :meth:`with_channel`, :meth:`without_channel`,
    :meth:`with_spend`) keep the record of the scenario they came from and add nothing to it.
    """

    name: str
    population: int
    horizon_days: int
    economics: Economics
    channels: tuple[Channel, ...]
    segments: tuple[Segment, ...] = (Segment("all", 1.0),)
    funnel: Funnel = Funnel()
    organic: Organic = Organic()
    repeat: Repeat = Repeat()
    budget: Budget | None = None
    calibration: Calibration | None = None
    seed: int | None = None
    seasonality: tuple[float, ...] | None = None
    represents: int = 0
    source: str = "<scenario>"
    overrides: tuple[str, ...] = field(default=(), compare=False)
    raw: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.represents == 0:  # not given: the population stands for itself
            object.__setattr__(self, "represents", self.population)

    @property
    def scale(self) -> float:
        """The share of the market simulated, ``population / represents`` (1: every customer)."""
        return self.population / self.represents

    def scaled(self, factor: float) -> Scenario:
        """The same market with ``factor`` of its customers simulated: a quick preview.

        Parameters
        ----------
        factor : float
            Share of the simulated customers to keep, in (0, 1]. The population becomes
            ``round(population * factor)``; ``represents`` stays the whole market, so the engine gives the smaller
            population the same share of every channel's money and counts its outcomes back up: results are in
            the market's units. Scaling twice composes.

        Returns
        -------
        Scenario
            Validated again; ``overrides`` records ``scenario.population=N`` (and ``scenario.represents=M`` when
            the data did not say it yet). A factor of 1 returns this scenario.

        Raises
        ------
        InputError
            If ``factor`` is not in (0, 1], or leaves fewer than 100 simulated customers.

        Examples
        --------
        >>> preview = scenario.scaled(0.1)  # doctest: +SKIP
        >>> preview.population, preview.represents  # doctest: +SKIP
        (20000, 200000)
        """
        overrides = scale_overrides(self, factor)
        return self.with_overrides(overrides) if overrides else self

    @property
    def repeats(self) -> bool:
        """Whether customers can buy again or lapse: a repeat purchase rate, a lapse half-life, or a channel that
        targets the customers. Without, a customer buys once and stays a customer, as before repeat purchases."""
        repeat = self.repeat
        return (
            repeat.purchase_rate > 0
            or math.isfinite(repeat.lapse_half_life)
            or any("converted" in c.targets for c in self.channels)
        )

    @property
    def repeat_order_value(self) -> float:
        """Revenue of a repeat purchase: ``repeat.order_value``, else ``economics.order_value``."""
        value = self.repeat.order_value
        return self.economics.order_value if value is None else value

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
        """The channel called ``name``.

        Raises
        ------
        ScenarioError
            If there is none (the message suggests the nearest name).
        """
        for c in self.channels:
            if c.name == name:
                return c
        raise ScenarioError([self._no_channel(name)])

    def _no_channel(self, name: Any) -> str:
        return f"{self.source}: no channel {name!r}{name_hint(name, self.channel_names, 'channel')}"

    def with_spend(self, spend: Mapping[str, float]) -> Scenario:
        """A copy with the given channels' planned spend replaced (no other change, no re-validation).

        Raises
        ------
        ScenarioError
            For a channel the scenario does not have, or a spend that is not a number in [0, MAX_NUMBER] (NaN and
            inf never reach the engine).
        """
        problems = [self._no_channel(name) for name in spend if name not in self.channel_names]
        new: dict[str, float] = {}
        for name, value in spend.items():
            try:
                new[name] = float(value)
            except (TypeError, ValueError, OverflowError):
                problems.append(f"{self.source}: channels.{name}.spend: must be a number (got {show(value)})")
                continue
            if not 0.0 <= new[name] <= MAX_NUMBER:  # NaN too: it never reaches the engine
                rule = f"must be in [0, {MAX_NUMBER:.0e}]".replace("e+", "e")
                problems.append(f"{self.source}: channels.{name}.spend: {rule} (got {show(value)})")
        if problems:
            raise ScenarioError(problems)
        channels = tuple(dataclasses.replace(c, spend=new[c.name]) if c.name in new else c for c in self.channels)
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
        :meth:`with_spend` or ``dataclasses.replace``), they apply to :func:`scenario_to_dict` of it instead. The
        new scenario's :attr:`overrides` are this one's followed by ``overrides``.
        """
        new = parse_scenario(self._data(), self.source, overrides)
        return dataclasses.replace(new, overrides=self.overrides + new.overrides)

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
            mean 'tv'?``). Adding a channel is :meth:`with_channel`'s job. ``changes`` that is not a mapping of
            dotted keys is a ScenarioError too.

        Examples
        --------
        >>> bigger = scenario.replace(population=500_000)  # doctest: +SKIP
        >>> no_wom = scenario.replace({"organic.word_of_mouth": 0.0})  # doctest: +SKIP
        """
        if changes is not None and not isinstance(changes, Mapping):
            raise ScenarioError([f"replace: changes must be a mapping of dotted keys to values (got {show(changes)})"])
        items = [(key, value, f"replace {key!r}") for key, value in (changes or {}).items()]
        items += [(f"scenario.{key}", value, f"replace {key}=") for key, value in scenario_keys.items()]
        data, problems = set_keys(self._data(), items, self.source)
        scenario, more = _parse(data, self.source)
        if problems or more or scenario is None:
            raise ScenarioError(shown(problems + more, self.source))
        return dataclasses.replace(scenario, overrides=self.overrides)

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
                entry[key] = to_plain(python_value(value))
        channels[name] = entry
        return dataclasses.replace(parse_scenario(data, self.source), overrides=self.overrides)

    def without_channel(self, name: str) -> Scenario:
        """A new scenario without channel ``name`` (its budget limits and group memberships go with it, and a
        group it was the only member of).

        Raises
        ------
        ScenarioError
            If there is no such channel (the message suggests the nearest name), or it is the last one.
        """
        if name not in self.channel_names:
            raise ScenarioError([self._no_channel(name)])
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
        return dataclasses.replace(parse_scenario(data, self.source), overrides=self.overrides)

    def _data(self) -> dict[str, Any]:
        """A copy of the data this scenario was built from (its raw file data while that still matches it)."""
        base = self.raw
        if base is None or _parse(base, self.source)[0] != self:
            base = scenario_to_dict(self)
        return to_plain(base)


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
            p_repurchase=c["p_repurchase"],
            targets=tuple(t for t in STAGES if t in c["targets"]),
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
        represents=tree["scenario"]["represents"] or 0,
        horizon_days=tree["scenario"]["horizon_days"],
        seed=tree["scenario"]["seed"],
        economics=Economics(**tree["economics"]),
        funnel=Funnel(
            half_life_aware=hl["aware"] if hl["aware"] is not None else math.inf,
            half_life_considering=hl["considering"] if hl["considering"] is not None else math.inf,
            synergy=f["synergy"],
        ),
        organic=Organic(**tree["organic"]),
        repeat=_repeat(tree["repeat"]),
        calibration=build_calibration(tree["calibration"]) if "calibration" in raw else None,
        seasonality=_season(tree["seasonality"], tree["scenario"]["horizon_days"]),
        segments=segments,
        channels=channels,
        budget=budget,
        source=source,
        raw=raw,
    )


def _repeat(repeat: dict[str, Any]) -> Repeat:
    mean_days, half_life = repeat["mean_days_between"], repeat["lapse_half_life_days"]
    return Repeat(
        purchase_rate=repeat["purchase_rate"] if mean_days is None else 1.0 / mean_days,
        lapse_half_life=math.inf if half_life is None else half_life,
        order_value=repeat["order_value"],
    )


def _season(season: dict[str, Any], horizon: int) -> tuple[float, ...] | None:
    """Each week's multiplier, or None when every week is 1 (the engine then skips the scaling entirely)."""
    weekly = np.ones(math.ceil(horizon / 7)) if season["weekly"] is None else np.array(season["weekly"], dtype=float)
    for period in season["periods"]:
        weekly[period["first_week"] - 1 : period["last_week"]] *= period["multiplier"]
    return None if np.all(weekly == 1.0) else tuple(float(w) for w in weekly)


def _parse(data: Any, source: str, where: Sequence[tuple[Path, str]] = ()) -> tuple[Scenario | None, list[str]]:
    """The scenario ``data`` describes, or the problems found; ``where`` holds the places set by overrides."""
    try:
        tree, raw, problems = check_document(data, source, where)
    except RecursionError:  # data built in Python, nested deeper than any file may be
        return None, [f"{source}: nested too deeply"]
    if problems or tree is None or raw is None:
        return None, problems
    return _build(tree, raw, source), []


def parse_scenario(data: Mapping[str, Any], source: str = "<scenario>", overrides: Sequence[str] = ()) -> Scenario:
    """Validate plain data (a parsed TOML document) and build the :class:`Scenario` it describes.

    Every key is checked against the scenario contract (``docs/scenario.md``, every key in
    ``docs/scenario-keys.md``); every problem is collected before anything is raised.

    Parameters
    ----------
    data : mapping
        The document: tables as mappings, arrays as lists.
    source : str, default="<scenario>"
        Where the data came from; it starts every message and is kept in :attr:`Scenario.source`.
    overrides : sequence of str, default=()
        ``dotted.key=VALUE`` overrides applied to (a copy of) ``data`` first, as by
        :func:`~mixsim.scenario.apply_overrides`.

    Returns
    -------
    Scenario
        The validated scenario, defaults resolved; per-segment values aligned with its segments. A deep copy of
        ``data`` (overrides applied) is kept in :attr:`Scenario.raw`.

    Raises
    ------
    ScenarioError
        With one line per problem, ``source: dotted.path: what is wrong (got X)``; list items are addressed
        ``segments[0].share`` (counting from 0). Malformed overrides come first.

    Notes
    -----
    The scenario's :attr:`Scenario.overrides` records ``overrides`` as given, in order.

    Examples
    --------
    >>> import tomllib, mixsim
    >>> data = tomllib.loads(open("scenarios/d2c_ecommerce.toml", encoding="utf-8").read())
    >>> mixsim.parse_scenario(data, source="in memory").name
    'D2C skincare brand, one quarter'
    """
    problems: list[str] = []
    where: list[tuple[Path, str]] = []
    if (isinstance(overrides, str) or overrides) and isinstance(data, Mapping):  # not a table: _parse says so
        try:
            data, problems, where = override_data(data, overrides, source)
        except RecursionError:  # data built in Python, nested deeper than any file may be
            raise ScenarioError([f"{source}: nested too deeply"]) from None
    scenario, more = _parse(data, source, where)
    problems += more
    if problems or scenario is None:
        raise ScenarioError(shown(problems, source))
    if isinstance(overrides, str):
        overrides = [overrides]
    return dataclasses.replace(scenario, overrides=tuple(str(o) for o in overrides)) if overrides else scenario
