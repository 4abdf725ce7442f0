"""How deeply a TOML text nests, found before a parser recurses into it.

Python's TOML reader recurses once per nested array or inline table (a few hundred levels exhaust the stack) and
spends time and memory quadratic in the number of parts of a dotted key (100,000 parts take gigabytes). A scenario
nests a few levels (``budget.groups[0].channels[1]``), so :func:`nesting_problem` refuses text whose brackets or
dotted keys go deeper than :data:`MAX_DEPTH`, after a scan that is linear in the text and never recurses. Quoted
strings and comments are blanked first, so brackets and dots inside them do not count.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DEPTH", "nesting_problem"]

MAX_DEPTH = 64
"""Most levels of nested arrays and inline tables, and most parts of a dotted key, in a scenario file or an
override's value. The scenario itself nests five levels at most."""

# Leftmost match wins, so a '#' or a bracket inside a string is read as part of the string, and a quote inside a
# comment as part of the comment, as a TOML reader would. A string left open ends at the end of its line (or of the
# text), so every pattern matches where it starts: with possessive repeats that keeps the scan linear in the text.
_STRING_OR_COMMENT = re.compile(
    r'"""(?:[^"\\]++|\\[\s\S]|"(?!""))*+(?:"""|\Z)'  # multi-line basic string
    r"|'''(?:[^']++|'(?!''))*+(?:'''|\Z)"  # multi-line literal string
    r'|"(?:[^"\\\n]++|\\.)*+(?:"|$)'  # basic string
    r"|'[^'\n]*+(?:'|$)"  # literal string
    r"|#[^\n]*+",  # comment
    re.MULTILINE,
)
_DOTTED = re.compile(r"(?<![\w-])[\w-]++(?:[ \t]*+\.[ \t]*+[\w-]++)++")  # possessive: linear time
_BRACKET = re.compile(r"[\[\]{}]")


def nesting_problem(text: str) -> str | None:
    """Why ``text`` nests too deeply to be read, or ``None`` if it does not (it may still be invalid TOML)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH and text.count(".") < MAX_DEPTH:
        return None  # the common case, at the cost of two counts
    bare = _STRING_OR_COMMENT.sub(lambda m: "" if m.group().startswith("#") else "s", text)
    depth = deepest = 0
    for match in _BRACKET.finditer(bare):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return f"nested too deeply (more than {MAX_DEPTH} levels of arrays or inline tables)"
    for match in _DOTTED.finditer(bare):
        if match.group().count(".") >= MAX_DEPTH:
            return f"nested too deeply (a dotted key of more than {MAX_DEPTH} parts)"
    return None
