"""The scenario argument of the public functions: a :class:`Scenario` object, never a path.

Only the readers touch the file system (see ``docs/architecture.md``), so ``mixsim.simulate("file.toml")`` is a
mistake; without a check it fails deep inside with an ``AttributeError`` on a string. Every public function that
takes a scenario calls :func:`require_scenario` first, which says what to call instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mixsim.scenario.model import Scenario

__all__ = ["require_scenario"]


def require_scenario(value: Any, parameter: str = "scenario") -> Scenario:
    """``value`` if it is a :class:`Scenario`; else a :class:`TypeError` that says how to make one.

    Parameters
    ----------
    value : object
        What the caller passed.
    parameter : str, default="scenario"
        The parameter's name, for the message.

    Raises
    ------
    TypeError
        For a path (``str`` or ``os.PathLike``: read it with :func:`mixsim.load_scenario`), a mapping (build it
        with :func:`mixsim.parse_scenario`) or anything else.
    """
    if isinstance(value, Scenario):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = os.fsdecode(value)
        raise TypeError(
            f"{parameter} must be a mixsim.Scenario, not a path ({path!r}): read the file first, "
            f"{parameter} = mixsim.load_scenario({path!r})"
        )
    if isinstance(value, Mapping):
        raise TypeError(
            f"{parameter} must be a mixsim.Scenario, not a {type(value).__name__}: build one from the data with "
            "mixsim.parse_scenario(data), or read a file with mixsim.load_scenario(path)"
        )
    raise TypeError(
        f"{parameter} must be a mixsim.Scenario (got {type(value).__name__}): read a file with "
        "mixsim.load_scenario(path)"
    )
