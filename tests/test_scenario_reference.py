"""The scenario-key reference: generated from the constraint table, committed as docs/scenario-keys.md, and
naming every key the JSON Schema (the same table) accepts."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mixsim.scenario import json_schema
from mixsim.scenario.reference import ITEM, NAME, REGENERATE, key_reference

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scenario-keys.md"


def schema_keys(schema: dict[str, Any], path: str = "") -> Iterator[str]:
    """Every named key the schema accepts, as a dotted path in the reference's notation (``channels.NAME.cpm``,
    ``segments[i].name``); a table of free names contributes ``NAME``, an array of tables ``[i]``."""
    for key, child in schema.get("properties", {}).items():
        child_path = f"{path}.{key}" if path else key
        yield child_path
        yield from schema_keys(child, child_path)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from schema_keys(extra, f"{path}.{NAME}")
    if isinstance(schema.get("items"), dict):
        yield from schema_keys(schema["items"], path + ITEM)
    for option in schema.get("anyOf", []):
        yield from schema_keys(option, path)


def reference_keys(text: str) -> set[str]:
    """The keys the reference has a row for: the first cell of each row of a key table (six columns)."""
    rows = [line.strip("|").split(" | ") for line in text.splitlines() if line.startswith("| `")]
    return {cells[0].strip().strip("`") for cells in rows if len(cells) == 6}


def test_the_committed_reference_is_the_generated_one() -> None:
    assert DOC.exists(), f"docs/scenario-keys.md is missing; write it with: {REGENERATE}"
    assert DOC.read_text(encoding="utf-8") == key_reference(), (
        f"docs/scenario-keys.md differs from the constraint table; regenerate it with: {REGENERATE}"
    )


def test_every_key_the_schema_accepts_is_in_the_reference() -> None:
    text = key_reference()
    keys = list(schema_keys(json_schema()))
    assert len(keys) > 40 and "channels.NAME.cpm" in keys and "budget.groups[i].min_share" in keys
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing, f"keys accepted by the JSON Schema but missing from the reference: {missing}"


def test_every_key_row_of_the_reference_is_a_key_of_the_schema() -> None:
    rows = reference_keys(key_reference())
    assert "scenario.population" in rows and "segments[i].share" in rows
    assert rows <= set(schema_keys(json_schema())), rows - set(schema_keys(json_schema()))


def test_the_reference_says_type_rule_default_and_requirement() -> None:
    text = key_reference()
    assert "| `scenario.population` | integer | yes | - | must be > 0 | Number of synthetic customers |" in text
    assert (
        "| `channels.NAME.reach` | number, or table of segment name -> number | no | `1.0` | must be in [0, 1] |"
        in (text)
    )
    assert "## `[[segments]]`" in text and "## `[channels.NAME]`" in text and "## `[budget.limits.NAME]`" in text
    assert "1 to 64 channels (the engine tracks channels in a 64-bit mask)" in text
    assert "## Rules across keys" in text and "| `channels.NAME` | exactly one price" in text


def test_the_module_prints_the_reference(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "mixsim.scenario.reference"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout == key_reference()
