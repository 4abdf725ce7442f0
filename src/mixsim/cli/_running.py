"""The command being run, for the lines that name it (``mixsim optimize: done, 540 runs in 38 s``).

:func:`mixsim.cli.main.main` sets it; :class:`mixsim.cli.outputs.ProgressBar` reads it. It lives apart from both
so that the command line's entry point need not import what the outputs import.
"""

from __future__ import annotations

from contextvars import ContextVar

COMMAND: ContextVar[str] = ContextVar("mixsim_command", default="mixsim")
"""``mixsim`` and the command's name, e.g. ``mixsim optimize``."""
