"""Scenario files: reading a TOML file into a validated :class:`~mixsim.scenario.Scenario`, and the file's JSON
Schema for editors.

The only place in mixsim that reads a scenario from disk. Problems with the file itself (missing, unreadable,
not UTF-8, not TOML) become :class:`~mixsim.errors.ScenarioError` lines naming the file, and the line and
column where TOML says so; the content is then checked like any data (:func:`~mixsim.scenario.parse_scenario`).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import tomllib
from collections.abc import Sequence
from typing import Any

from mixsim.errors import ScenarioError
from mixsim.scenario._nesting import nesting_problem
from mixsim.scenario.limits import MAX_FILE_BYTES
from mixsim.scenario.model import Scenario, parse_scenario
from mixsim.scenario.rules import FILE_TABLE

__all__ = ["json_schema", "load_scenario", "read_toml"]

_TOML_AT = re.compile(
    r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$", re.DOTALL
)


def _toml_problem(source: str, err: tomllib.TOMLDecodeError) -> str:
    match = _TOML_AT.match(str(err))
    if match is None:
        return f"{source}: invalid TOML: {err}"
    what = match["what"][:1].lower() + match["what"][1:]
    where = f"line {match['line']}, column {match['column']}" if match["line"] else "end of file"
    return f"{source}: {where}: {what}"


def read_toml(source: str) -> dict[str, Any]:
    """The TOML document in file ``source``, as plain data (not checked against the scenario contract).

    A file is read whole only if it is a regular file or a pipe of at most :data:`~mixsim.scenario.limits.
    MAX_FILE_BYTES`; a UTF-8 byte-order mark at its start is skipped (editors on Windows write one).

    Raises
    ------
    ScenarioError
        If the file is missing, unreadable, a directory or a device, larger than the limit, not UTF-8, nested
        too deeply, or not TOML (naming line and column).
    """
    text = _read_text(source)
    problem = nesting_problem(text)
    if problem is not None:
        raise ScenarioError([f"{source}: {problem}"])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError([_toml_problem(source, err)]) from None
    except RecursionError:  # a nesting the scan above let through: still the file's fault, not a crash
        raise ScenarioError([f"{source}: nested too deeply"]) from None


def _read_text(source: str) -> str:
    """The file's text: at most ``MAX_FILE_BYTES`` of a regular file or a pipe, decoded as UTF-8."""
    try:
        with open(source, "rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                # A device (/dev/zero, a terminal) or a socket never ends, or is not a file someone wrote.
                raise ScenarioError([f"{source}: not a regular file (a scenario is a TOML file)"])
            # Reading one byte more than the limit tells a file at the limit from a larger one without reading it
            # all (a pipe has no size to look at first).
            content = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError([f"{source}: file not found"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{source}: is a directory, not a scenario file"]) from None
    except PermissionError:
        raise ScenarioError([f"{source}: permission denied"]) from None
    except OSError as err:
        raise ScenarioError([f"{source}: cannot read file ({err.strerror or err})"]) from None
    if len(content) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        raise ScenarioError([f"{source}: larger than {limit} MiB; a scenario file is far smaller"])
    if content.startswith(codecs.BOM_UTF8):  # a byte-order mark, not part of the TOML text
        content = content[len(codecs.BOM_UTF8) :]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as err:
        line = content.count(b"\n", 0, err.start) + 1
        raise ScenarioError([f"{source}: line {line}: not UTF-8 text (a TOML file must be UTF-8)"]) from None


def load_scenario(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Scenario:
    """Read a scenario TOML file, apply overrides, and validate it.

    Parameters
    ----------
    path : str or os.PathLike
        The file; messages name it as given.
    overrides : sequence of str, default=()
        ``dotted.key=VALUE`` overrides applied before validation (see :func:`apply_overrides`).

    Returns
    -------
    Scenario
        The validated scenario; :attr:`Scenario.source` is the path as given.

    Raises
    ------
    ScenarioError
        If the file is missing or unreadable, is not valid TOML (the message names line and column), an
        override is malformed, or the content breaks the scenario contract (every problem at once).

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> scenario.population, scenario.channel_names[:2]
    (20000, ('social', 'search'))
    """
    try:
        source = os.fsdecode(path)
    except TypeError:
        raise ScenarioError([f"a scenario file is named by a path (got {path!r})"]) from None
    return parse_scenario(read_toml(source), source, overrides)


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the scenario file, for editor completion and checking.

    It is generated from the same constraint table as the validation. Rules across keys (exactly one price,
    shares summing to 1, flighting length, names that must exist) appear in descriptions, and where JSON
    Schema can say them, as ``oneOf`` / ``dependentRequired``. ``inf`` (a half-life that never fades) is not
    JSON, so it is only described.

    Returns
    -------
    dict
        The schema, ready for ``json.dumps``.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mixsim scenario",
        **FILE_TABLE.schema(),
    }
