"""How a message names the valid choices when a name is not one of them: the near miss, then every valid name.

A scenario file, an override, a limit or a lock that names a channel (or a segment) the scenario does not have is
refused with the list of those it has, so that the reader fixes it without opening the file:
``no channel 'tvv'; did you mean 'tv'? (channels: tv, search, social)``. Every such message builds its tail here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_LISTED", "did_you_mean", "name_hint", "valid_names"]

MAX_LISTED = 30
"""Most names a list shows (a scenario has at most 64 channels; a longer list would hide the message)."""


def did_you_mean(word: Any, options: Iterable[str]) -> str:
    """``"; did you mean 'X'?"`` for the option nearest ``word``, or ``""`` when none is near."""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def valid_names(noun: str, options: Iterable[str]) -> str:
    """``"channels: tv, search, social"``: the valid names in their own order (``"no channels"`` if none)."""
    names = [str(o) for o in options]
    if not names:
        return f"no {noun}s"
    shown = names[:MAX_LISTED] + ([f"... ({len(names) - MAX_LISTED} more)"] if len(names) > MAX_LISTED else [])
    return f"{noun}s: {', '.join(shown)}"


def name_hint(word: Any, options: Iterable[str], noun: str) -> str:
    """The tail of a message about ``word``, which is not one of ``options``: the near miss, if any, then every
    valid name, e.g. ``"; did you mean 'tv'? (channels: tv, search, social)"``."""
    names = list(options)
    return f"{did_you_mean(word, names)} ({valid_names(noun, names)})"
