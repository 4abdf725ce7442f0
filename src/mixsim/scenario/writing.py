"""Writing a scenario back as plain, TOML-shaped data (:func:`scenario_to_dict`): the inverse of
:func:`~mixsim.scenario.parse_scenario`, for variants of scenarios changed in code and for fingerprints of them."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mixsim.scenario.model import Scenario

__all__ = ["scenario_to_dict", "scenario_to_toml"]


def _calibration(scenario: Scenario) -> dict[str, Any]:
    calibration = scenario.calibration
    assert calibration is not None
    table: dict[str, Any] = {
        "date": calibration.date,
        "kpi": calibration.kpi,
        "kpi_column": calibration.kpi_column,
        "holdout_weeks": calibration.holdout_weeks,
    }
    if calibration.fit is not None:
        table["fit"] = calibration.fit
    if calibration.channels:
        table["channels"] = {
            name: {k: v for k, v in dataclasses.asdict(columns).items() if v is not None}
            for name, columns in calibration.channels
        }
    if calibration.controls:
        table["controls"] = dict(calibration.controls)
    if calibration.parameters:
        table["parameters"] = {key: {"low": p.low, "high": p.high} for key, p in calibration.parameters}
    return table


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain, TOML-shaped data.

    Defaults are written out (but ``represents`` only where it is not the population), per-segment values become
    tables by segment name, and infinite half-lives and unbounded limits are left out (TOML readers without
    ``inf`` stay happy). ``parse_scenario`` of the result equals ``scenario``.

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
    if scenario.represents != scenario.population:  # the default follows the population when that changes
        head["represents"] = scenario.represents
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
        entry.update(p_aware=c.p_aware, p_consider=c.p_consider, p_convert=c.p_convert)
        if c.p_repurchase > 0:
            entry["p_repurchase"] = c.p_repurchase
        entry["targets"] = list(c.targets)
        entry["affinity"] = dict(zip(names, c.affinity, strict=True))
        if c.frequency_cap is not None:
            entry["frequency_cap"] = c.frequency_cap
        entry.update(fixed_cost=c.fixed_cost, min_spend=c.min_spend)
        channels[c.name] = entry
    # Keys added with repeat purchases are written only where they differ from their defaults, so the data (and a
    # fingerprint of it) of a scenario without them is what it always was.
    economics = dataclasses.asdict(scenario.economics)
    if economics["future_value"] == "none":
        del economics["future_value"]
    if economics["discount_rate"] == 0.0:
        del economics["discount_rate"]
    result: dict[str, Any] = {
        "scenario": head,
        "economics": economics,
        "funnel": {"half_life_days": half_lives, "synergy": scenario.funnel.synergy},
        "organic": dataclasses.asdict(scenario.organic),
        "segments": [{"name": s.name, "share": s.share} for s in scenario.segments],
        "channels": channels,
    }
    repeat = scenario.repeat
    written: dict[str, Any] = {}
    if repeat.purchase_rate > 0:
        written["purchase_rate"] = repeat.purchase_rate
    if not math.isinf(repeat.lapse_half_life):
        written["lapse_half_life_days"] = repeat.lapse_half_life
    if repeat.order_value is not None:
        written["order_value"] = repeat.order_value
    if written:
        result["repeat"] = written
    if scenario.calibration is not None:
        result["calibration"] = _calibration(scenario)
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


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def scenario_to_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text (:func:`scenario_to_dict`, written out): a file every command accepts and
    :func:`~mixsim.scenario.load_scenario` reads back to an equal scenario.

    Examples
    --------
    >>> import tomllib, mixsim
    >>> scenario = mixsim.load_scenario("scenarios/b2b_saas.toml")
    >>> mixsim.parse_scenario(tomllib.loads(scenario_to_toml(scenario)), scenario.source) == scenario
    True
    """
    origin = scenario.source.replace("\\", "/").rsplit("/", 1)[-1]  # the file's name: no path of this machine
    lines = [f"# {scenario.name}: written by mixsim from {origin}"]
    _table(scenario_to_dict(scenario), (), lines)
    return "\n".join(lines).strip() + "\n"


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table(table: dict[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    """Write ``table``'s plain keys, then its sub-tables and arrays of tables under headers."""
    nested = {k: v for k, v in table.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in table.items() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)}
    for key, value in table.items():
        if key not in nested and key not in arrays:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested.items():
        header = ".".join(_key(p) for p in (*path, key))
        lines += ["", f"[{header}]"]
        _table(value, (*path, key), lines)
    for key, items in arrays.items():
        header = ".".join(_key(p) for p in (*path, key))
        for item in items:
            lines += ["", f"[[{header}]]"]
            _table(item, (*path, key), lines)
