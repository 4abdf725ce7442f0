"""The key reference: every key of the scenario file, as Markdown for people, generated from the constraint table.

It is rendered from :data:`mixsim.scenario.rules.FILE_TABLE`, the table the loader checks files against (as is
the JSON Schema, :func:`mixsim.scenario.json_schema`), so it cannot drift from what the loader accepts.
``docs/scenario-keys.md`` is :func:`key_reference`'s output; regenerate it with::

    python -m mixsim.scenario.reference > docs/scenario-keys.md

Nothing here checks or builds a scenario. The package does not import this module (so that ``python -m`` runs
it cleanly); import it as ``mixsim.scenario.reference``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mixsim.scenario._validate import ListOf, MapOf, Spec, Table
from mixsim.scenario.rules import CROSS_KEY_RULES, FILE_TABLE

__all__ = ["REGENERATE", "key_reference"]

REGENERATE = "python -m mixsim.scenario.reference > docs/scenario-keys.md"
"""The command that writes ``docs/scenario-keys.md``."""

NAME = "NAME"
"""Stands, in a key's path, for a name the file chooses (a channel's name)."""

ITEM = "[i]"
"""Stands, in a key's path, for any item of an array of tables."""


@dataclass(frozen=True)
class _Section:
    """One table of the file as TOML writes its header (``[channels.NAME]``, ``[[segments]]``), and where its
    keys sit (``channels.NAME``, ``segments[i]``)."""

    header: str
    path: str
    table: Table
    container: Spec


def _sections(table: Table, header: str = "", path: str = "") -> Iterator[_Section]:
    """Every table of the file under ``table``, parents before children, in the table's declared order."""
    for key, spec in table.fields.items():
        child_header = f"{header}.{key}" if header else key
        child_path = f"{path}.{key}" if path else key
        if isinstance(spec, Table):
            yield _Section(f"[{child_header}]", child_path, spec, spec)
            yield from _sections(spec, child_header, child_path)
        elif isinstance(spec, ListOf) and isinstance(spec.item, Table):
            yield _Section(f"[[{child_header}]]", child_path + ITEM, spec.item, spec)
            yield from _sections(spec.item, child_header, child_path + ITEM)
        elif isinstance(spec, MapOf) and isinstance(spec.value, Table):
            named = f"{child_header}.{NAME}"
            yield _Section(f"[{named}]", f"{child_path}.{NAME}", spec.value, spec)
            yield from _sections(spec.value, named, f"{child_path}.{NAME}")


def _toml(value: Any) -> str:
    """A default as it would be written in the file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def _sentence(text: str) -> str:
    """``text`` ending with a full stop (the docs in the table are written without one)."""
    text = text.strip()
    return text + ("" if not text or text.endswith(".") else ".")


def _has_section(spec: Spec) -> bool:
    """Whether ``spec`` is a table of the file (with a section of its own), not a value."""
    return (
        isinstance(spec, Table)
        or (isinstance(spec, ListOf) and isinstance(spec.item, Table))
        or (isinstance(spec, MapOf) and isinstance(spec.value, Table))
    )


def _row(path: str, spec: Spec) -> str:
    kind = spec.kind() + (" (its own section)" if _has_section(spec) else "")
    default = "-" if spec.required or spec.default is None else f"`{_toml(spec.default)}`"
    cells = (f"`{path}`", kind, "yes" if spec.required else "no", default, spec.constraint(), spec.doc)
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def key_reference() -> str:
    """Every key of the scenario file, as Markdown, generated from the constraint table.

    One section per table of the file (``[scenario]``, ``[economics]``, ``[funnel]``, ..., ``[[segments]]``,
    ``[channels.NAME]``, ``[budget]``, ...), each with a row per key: its dotted path, type, whether it is
    required, its default, the rule its value must satisfy, and what it means; then the rules across keys.

    Returns
    -------
    str
        The Markdown text of ``docs/scenario-keys.md``, ending with a newline.

    Examples
    --------
    >>> from mixsim.scenario.reference import key_reference
    >>> "| `channels.NAME.cpm` | number |" in key_reference()
    True
    """
    lines = [
        "# Scenario file keys",
        "",
        "<!-- Generated from the constraint table (mixsim.scenario.rules); do not edit. Regenerate with:",
        f"     {REGENERATE} -->",
        "",
        "Every key a scenario file may hold, with its type, whether it is required, its default, the rule its",
        "value must satisfy and what it means. The loader checks files against the same table, so this page is",
        "what `mixsim validate` accepts; any other key is an error (with a did-you-mean hint). The file as a",
        "whole, with a worked example, is described in [the scenario file](scenario.md).",
        "",
        f"In a key's path, `{NAME}` stands for a name the file chooses (a channel's name is its table's key) and",
        f"`{ITEM}` for any item of an array of tables; messages count items from 0 (`segments[0].share`). A range",
        "`[0, 1]` includes its ends, `(0, 1]` excludes 0.",
        "",
        "## Tables",
        "",
        "| Table | Required | What it holds |",
        "| --- | --- | --- |",
    ]
    for key, spec in FILE_TABLE.fields.items():
        header = next(s.header for s in _sections(FILE_TABLE) if s.path.split(".")[0].removesuffix(ITEM) == key)
        lines.append(f"| `{header}` (`{key}`) | {'yes' if spec.required else 'no'} | {_cell(_sentence(spec.doc))} |")
    for section in _sections(FILE_TABLE):
        about = [_sentence(section.container.doc)]
        if section.container.required:
            about.append("Required.")
        limits = section.container.constraint()
        if limits:
            about.append(_sentence(limits[:1].upper() + limits[1:]))  # a sentence of its own after the doc
        lines += [
            "",
            f"## `{section.header}`",
            "",
            " ".join(a for a in about if a),
            "",
            "| Key | Type | Required | Default | Rule | Meaning |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [_row(f"{section.path}.{key}", spec) for key, spec in section.table.fields.items()]
    lines += [
        "",
        "## Rules across keys",
        "",
        "Checked once every key has passed its own rule, so one mistake is reported once.",
        "",
        "| Where | Rule |",
        "| --- | --- |",
    ]
    lines += [f"| `{where}` | {_cell(_sentence(rule))} |" for where, rule in CROSS_KEY_RULES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(key_reference(), end="")
