"""Names a user gives: the rule a channel name follows, how a name is shown safely, and how a message names the
valid choices when a name is not one of them.

A channel is named the same way wherever it comes from (a scenario's table key, a curves file, a committed-spend
file): :data:`CHANNEL_NAME_RULE`, checked by :func:`is_channel_name`. Names and other user strings are shown on a
terminal through :func:`printable`, so that a control character or an escape sequence in a scenario's name is
shown as text (``'\\x1b[31m'``) rather than obeyed by the terminal.

A scenario file, an override, a limit or a lock that names a channel (or a segment) the scenario does not have is
refused with the list of those it has, so that the reader fixes it without opening the file:
``no channel 'tvv'; did you mean 'tv'? (channels: tv, search, social)``. Every such message builds its tail here.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = [
    "CHANNEL_NAME_PATTERN",
    "CHANNEL_NAME_RULE",
    "MAX_LISTED",
    "did_you_mean",
    "is_channel_name",
    "name_hint",
    "printable",
    "valid_names",
]

CHANNEL_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""A channel name: ASCII letters, digits and underscores, not starting with a digit (the JSON Schema's pattern;
in Python it must match the whole name, see :func:`is_channel_name`)."""

CHANNEL_NAME_RULE = "channel name must be letters, digits and underscores, not starting with a digit"
""":data:`CHANNEL_NAME_PATTERN` in words, for messages."""

MAX_LISTED = 30
"""Most names a list shows (a scenario has at most 64 channels; a longer list would hide the message)."""

# Bidirectional-text controls reorder what a terminal shows without being control characters (category Cf).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_channel_name(name: str) -> bool:
    """Whether ``name`` follows :data:`CHANNEL_NAME_RULE` (a whole-string match: ``"tv\\n"`` does not)."""
    return re.fullmatch(CHANNEL_NAME_PATTERN, name) is not None


def printable(text: Any) -> str:
    """``text`` with every control character (newlines, tabs and escape sequences' ESC included) and every
    bidirectional-text control written as its escape (``\\x1b``, ``\\n``, ``\\u202e``), the rest unchanged: safe
    to print on a terminal, and still telling what the string holds."""
    text = str(text)
    if text.isprintable() and not _BIDI.intersection(text):
        return text
    return "".join(_escaped(c) for c in text)


def _escaped(c: str) -> str:
    if c in _BIDI or unicodedata.category(c) == "Cc":
        return repr(c)[1:-1] if c not in "'\"\\" else c
    return c


def did_you_mean(word: Any, options: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the option nearest ``word``, or ``""`` when none is near."""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def valid_names(noun: str, options: Iterable[str]) -> str:
    """``"channels: tv, search, social"``: the valid names in their own order (``"no channels"`` if none), each
    shown :func:`printable`."""
    names = [printable(o) for o in options]
    if not names:
        return f"no {noun}s"
    shown = names[:MAX_LISTED] + ([f"... ({len(names) - MAX_LISTED} more)"] if len(names) > MAX_LISTED else [])
    return f"{noun}s: {', '.join(shown)}"


def name_hint(word: Any, options: Iterable[str], noun: str) -> str:
    """The tail of a message about ``word``, which is not one of ``options``: the near miss, if any, then every
    valid name, e.g. ``"; did you mean 'tv'? (channels: tv, search, social)"``."""
    names = list(options)
    return f"{did_you_mean(word, names)} ({valid_names(noun, names)})"
