"""Overrides: setting dotted keys of scenario data, as ``dotted.key=VALUE`` strings or as Python values.

:func:`apply_overrides` reads ``dotted.key=VALUE`` strings (``VALUE`` as TOML) and sets them in a copy of the
data; :meth:`Scenario.replace <mixsim.scenario.Scenario.replace>` sets Python values the same way through
:func:`set_keys`. Both work on plain data before validation and check only the shape of the keys; the values are
checked when the result is parsed. Nothing here builds a scenario or reads a file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from mixsim._names import name_hint
from mixsim.errors import ScenarioError
from mixsim.scenario._nesting import MAX_DEPTH, nesting_problem
from mixsim.scenario._problems import Path, show, to_plain

__all__ = ["apply_overrides", "origins", "override_data", "python_value", "set_keys"]

_OVERRIDE_KEY = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")


def _override_value(text: str) -> Any:
    """``text`` as a TOML value, or as the plain string if it is not one.

    Raises
    ------
    ValueError
        If ``text`` nests too deeply to be read (saying so).
    """
    problem = nesting_problem(text)
    if problem is not None:
        raise ValueError(problem)
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:  # a nesting the scan let through
        raise ValueError("nested too deeply") from None
    # Text such as "1\nx = 2" parses but smuggles in another key: it is not one value.
    return parsed["v"] if list(parsed) == ["v"] else text


def override_data(
    data: Mapping[str, Any], overrides: Sequence[str], source: str
) -> tuple[dict[str, Any], list[str], list[tuple[Path, str]]]:
    """:func:`apply_overrides` without raising: the new data, the problems found (so that a caller can report
    them together with the problems of the data itself), and the :func:`origins` of the keys set."""
    if not isinstance(data, Mapping):
        return {}, [f"{source}: a scenario must be a table (got {show(data)})"], []
    if isinstance(overrides, str):  # one override given bare, not in a list
        overrides = [overrides]
    if isinstance(overrides, Mapping):  # {key: value}: the form Scenario.replace takes, not this one
        return (
            to_plain(data),
            [
                "overrides: must be 'dotted.key=VALUE' strings, e.g. ['scenario.population=5000'] (got a "
                f"{type(overrides).__name__}; a mapping of dotted keys to values is what Scenario.replace takes)"
            ],
            [],
        )
    items: list[tuple[str, Any, str]] = []
    problems: list[str] = []
    for override in overrides:
        key, sep, text = str(override).partition("=")
        key = key.strip()
        if not sep or not _OVERRIDE_KEY.match(key):
            problems.append(f"{_label(override)}: {_override_form(key, sep)}")
            continue
        if key.count(".") >= MAX_DEPTH:
            problems.append(f"{_label(override)}: nested too deeply (a key of more than {MAX_DEPTH} parts)")
            continue
        try:
            value = _override_value(text.strip())
        except ValueError as err:
            problems.append(f"{_label(override)}: {err}")
            continue
        items.append((key, value, _label(override)))
    result, more = set_keys(data, items, source)
    return result, problems + more, origins(items)


def origins(items: Sequence[tuple[str, Any, str]]) -> list[tuple[Path, str]]:
    """Where each ``(dotted.key, value, label)`` item put its value, and its label: a problem with a value set
    there (or inside it) is told as the item's (``override 'economics.margin=2': must be in [0, 1]``), not the
    file's, since the file does not hold that value."""
    return [(tuple(key.split(".")), label) for key, _, label in items if isinstance(key, str) and key]


def _label(override: str) -> str:
    """How a message names an override: whole, unless it is too long to read in one line."""
    return f"override {show(str(override), limit=200)}"


def _override_form(key: str, sep: str) -> str:
    """What a malformed override should look like, with the user's key in it when it is one."""
    if not sep and _OVERRIDE_KEY.match(key):
        return f"expected dotted.key=VALUE, with '=' and no space (e.g. '{key}=VALUE')"
    head = key.split()[0] if key.split() else ""
    if not sep and _OVERRIDE_KEY.match(head):  # "key value": a space where the '=' goes
        return f"expected dotted.key=VALUE, with '=' and no space (e.g. '{head}={key[len(head) :].strip()}')"
    return "expected dotted.key=VALUE (a dotted key of letters, digits, '_' and '-', then '=' and a TOML value)"


def set_keys(
    data: Mapping[str, Any], items: Sequence[tuple[str, Any, str]], source: str
) -> tuple[dict[str, Any], list[str]]:
    """Set ``(dotted.key, value, label)`` items in a deep copy of ``data``; ``label`` starts each message.

    Returns the new data and the problems: a key that is not a dotted string, a misspelt channel (a key under
    ``channels`` that names no channel), a key inside a value that is not a table. Values are not checked.
    """
    result: dict[str, Any] = to_plain(data)
    problems: list[str] = []
    for key, value, label in items:
        if not isinstance(key, str) or not key:
            problems.append(f"{label}: a key is a dotted string such as 'funnel.synergy' (got {show(key)})")
            continue
        parts = key.split(".")
        node = result
        for depth, part in enumerate(parts[:-1]):
            if depth == 1 and parts[0] == "channels" and isinstance(node, dict) and part not in node:
                # A new table under channels is almost always a misspelt channel, not a new channel.
                problems.append(f"{label}: channels.{part}: no such channel{name_hint(part, node, 'channel')}")
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
            node[parts[-1]] = to_plain(python_value(value))
    return result, problems


def python_value(value: Any) -> Any:
    """numpy arrays and numbers as lists and Python numbers (a notebook's values are often numpy's)."""
    return value.tolist() if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) else value


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str], source: str = "<scenario>") -> dict[str, Any]:
    """Set keys in a copy of scenario data from ``dotted.key=VALUE`` strings (as the command line's ``--set``
    gives them).

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
        Listing every malformed override (``override 'x': expected dotted.key=VALUE``), every key naming a
        channel that does not exist, and every key that would have to go inside a value that is not a table; and
        if ``data`` is not a table.
    """
    result, problems, _ = override_data(data, overrides, source)
    if problems:
        raise ScenarioError(problems)
    return result
