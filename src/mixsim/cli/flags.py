"""Library messages in the command line's words: each parameter a message names becomes the flag that sets it.

The library speaks of its parameters (``max_change``, ``weeks``, ``week_min``), never of flags; each command
module keeps a table from parameter to flag, and this module puts the flags in, in one way for every command:

- a problem that opens with a parameter and a colon (``week_min: tv: ...``) opens with the flag instead;
- a problem that opens with a parameter as its first word (``weeks must be >= 2``) is put under the flag
  (``--weeks: weeks must be >= 2``), and any other problem under ``other`` when a command gives one;
- a parameter with an underscore is unmistakable inside a sentence (``its maximum 2,200 (max_change 10%)``) and
  becomes the flag wherever it stands after the start; one without an underscore may be a plain word there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from mixsim.errors import MixsimError

__all__ = ["in_flags", "named_by_flags"]


def in_flags(text: str, flags: Mapping[str, str], other: str | None = None) -> str:
    """``text`` (a message, or a whole report) with the parameters in ``flags`` told as their flags."""
    within = [name for name in flags if "_" in name]
    pattern = re.compile(r"(?<=[^\w./\\-])(" + "|".join(map(re.escape, within)) + r")(?![\w./\\-])") if within else None
    lines = []
    for line in text.split("\n"):
        if pattern is not None:
            line = pattern.sub(lambda m: flags[m.group(1)], line)
        head, colon, rest = line.partition(":")
        first = line.split(" ", 1)[0]
        if colon and head in flags:
            line = flags[head] + colon + rest
        elif first in flags:
            line = f"{flags[first]}: {line}"
        elif other and line:
            line = f"{other}: {line}"
        lines.append(line)
    return "\n".join(lines)


@contextmanager
def named_by_flags(flags: Mapping[str, str], other: str | None = None) -> Iterator[None]:
    """Re-raise the library's errors raised inside the block with each problem told by :func:`in_flags`; the
    exit code stays the error's."""
    try:
        yield
    except MixsimError as exc:
        raise MixsimError([in_flags(p, flags, other) for p in exc.problems], exit_code=exc.exit_code) from exc
