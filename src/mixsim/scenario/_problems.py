"""Problems found in plain data, and how the places and values they name are written.

:class:`Problems` collects ``source: dotted.path: rule (got X)`` lines and sorts them in the order of the file;
:func:`format_path` writes a place (``channels.tv.flighting[3]``), :func:`show` a user's value, and
:func:`did_you_mean` the near-miss hint (kept in :mod:`mixsim._names` with the list of valid names).
:data:`INVALID` stands for a value that failed its check, and :func:`to_plain` copies a user's data as plain
dicts and lists before anything looks at it. The rules themselves are declared with
:mod:`mixsim.scenario._validate`.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mixsim._names import did_you_mean, name_hint

__all__ = [
    "INVALID",
    "Path",
    "Problems",
    "did_you_mean",
    "format_path",
    "is_valid",
    "show",
    "to_plain",
]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __deepcopy__(self, memo: dict[int, Any]) -> _Sentinel:
        return self  # a sentinel must stay itself, or ``is INVALID`` fails on copies


INVALID: Any = _Sentinel("INVALID")
"""Stands in for a value that failed its check (the problem is already recorded)."""

_NOTHING: Any = _Sentinel("NOTHING")

Path = tuple[str | int, ...]
"""Where a value sits: table keys (str) and list indices (int) from the document root."""

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(path: Path) -> str:
    """Dotted path for messages: ``channels.tv.flighting[3]``; odd keys are quoted as in TOML."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
            text += f".{key}" if text else key
    return text


def show(value: Any, limit: int = 60) -> str:
    """A short, TOML-flavoured rendering of a user's value for ``(got X)``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        text = "{" + ", ".join(f"{format_path((str(k),))} = {show(v, limit)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(show(v, limit) for v in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_valid(*values: Any) -> bool:
    """True if none of the values is :data:`INVALID` (containers are checked one level deep)."""
    for value in values:
        if value is INVALID:
            return False
        if isinstance(value, Mapping) and any(v is INVALID for v in value.values()):
            return False
        if isinstance(value, (list, tuple)) and any(v is INVALID for v in value):
            return False
    return True


_IMMUTABLE = (int, float, str, bool, type(None))


def to_plain(value: Any) -> Any:
    """Deep copy of ``value`` as plain ``dict`` / ``list`` / scalars (mappings keep their key order)."""
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        # Numbers and strings need no copy: skipping the call for them keeps a long array (a flighting of
        # millions of weights, refused right after) from taking seconds to copy.
        return [v if type(v) in _IMMUTABLE else to_plain(v) for v in value]
    return value if type(value) in _IMMUTABLE else copy.deepcopy(value)


def _document_order(path: Path, document: Any) -> tuple[int, ...]:
    """Position of ``path`` in ``document``: the index of each step among its siblings."""
    order: list[int] = []
    node = document
    for part in path:
        if isinstance(node, Mapping) and part in node:
            order.append(list(node).index(part))
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            order.append(part)
            node = node[part]
        else:
            order.append(len(node) if isinstance(node, (Mapping, list)) else 0)
            node = None
    return tuple(order)


class Problems:
    """Collects problems as ``source: dotted.path: rule (got X)`` lines.

    Parameters
    ----------
    source : str
        The name put in front of every message (usually the file path as given).
    origins : sequence of (Path, str), default=()
        Places whose values came from elsewhere than ``source`` (overrides), each with the label that names where:
        a problem at such a place or inside it starts with the label instead (the last matching one, as later
        overrides win), ``label: rule (got X)``, or ``label: dotted.path: rule (got X)`` inside it.
    """

    def __init__(self, source: str, origins: Sequence[tuple[Path, str]] = ()) -> None:
        self.source = source
        self._origins = list(origins)
        self._found: list[tuple[Path, str]] = []

    def __bool__(self) -> bool:
        return bool(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def add(
        self, path: Path, rule: str, value: Any = _NOTHING, *, got: str | None = None, because: Sequence[Path] = ()
    ) -> None:
        """Record that the value at ``path`` breaks ``rule``; ``value`` (or a ready ``got`` text) is shown.

        ``because`` lists the other places whose values the rule derives from: a problem caused by an override
        there is the override's (``override 'channels.tv.ctr=1e-300': channels.tv: price too low``).
        """
        where, source = format_path(path), self.source
        for origin, label in reversed(self._origins):
            if path[: len(origin)] == origin:
                where, source = ("" if path == origin else where), label
                break
            if any(place[: len(origin)] == origin or origin[: len(place)] == place for place in because):
                source = label
                break
        message = f"{source}: {where}: {rule}" if where else f"{source}: {rule}"
        if got is not None:
            message += f" (got {got})"
        elif value is not _NOTHING:
            message += f" (got {show(value)})"
        self._found.append((path, message))

    def messages(self, document: Any = None) -> list[str]:
        """The messages in the order of the places they name in ``document`` (else in the order found).

        Sorting by place makes a rule checked late (shares summing to 1) show next to the rest of its table,
        so the list reads like the file. Places missing from the document (a required key) come after the
        keys present in their table; the sort is stable, so ties keep the order found.
        """
        if document is None:
            return [message for _, message in self._found]
        ordered = sorted(self._found, key=lambda found: _document_order(found[0], document))
        return [message for _, message in ordered]

    def unknown(self, path: Path, options: Iterable[str], noun: str = "key", value: Any = _NOTHING) -> None:
        """Record an unknown name at ``path`` (its last part), with a near-miss hint from ``options``; an unknown
        channel or segment also lists the valid names (a key's siblings are many, and in the reference)."""
        word = value if value is not _NOTHING else path[-1]
        hint = did_you_mean(word, options) if noun == "key" else name_hint(word, options, noun)
        self.add(path, f"unknown {noun}{hint}", value)
