"""Exceptions raised by mixsim.

Every error a user can cause derives from :class:`MixsimError`; the command line catches it, prints one line per
problem and exits with a non-zero code, never a traceback.
"""

from __future__ import annotations

__all__ = [
    "MAX_PROBLEMS",
    "InfeasibleError",
    "InputError",
    "MixsimError",
    "ScenarioError",
    "SolverError",
    "screenful",
]

MAX_PROBLEMS = 20
"""Problems a file's error lists one by one; the rest are counted (a file with one systematic mistake, or a
million rows, fails on every row, and a screen should still show what is wrong)."""


def screenful(problems: list[str], source: str) -> list[str]:
    """``problems`` cut to :data:`MAX_PROBLEMS`, the rest counted on a last line naming ``source``."""
    if len(problems) <= MAX_PROBLEMS:
        return list(problems)
    return [*problems[:MAX_PROBLEMS], f"{source}: and {len(problems) - MAX_PROBLEMS} more problem(s) like these"]


class MixsimError(Exception):
    """Base class of every error mixsim raises on purpose.

    Parameters
    ----------
    message : str or list of str
        The problem, or several problems (one line each).
    exit_code : int, optional
        The command's exit code for it (default 2: invalid input).
    """

    exit_code: int = 2

    def __init__(self, message: str | list[str] = "", *, exit_code: int | None = None) -> None:
        self._lines = [message] if isinstance(message, str) else [str(m) for m in message]
        super().__init__("\n".join(self._lines))
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def problems(self) -> list[str]:
        """One line per problem, ready to print."""
        return list(self._lines)


class ScenarioError(MixsimError, ValueError):
    """A scenario file or override breaks the scenario contract.

    Parameters
    ----------
    problems : list of str
        Every problem found, each formatted ``file: dotted.path: what is wrong (got X)``.
    """

    def __init__(self, problems: list[str]) -> None:
        self._problems = list(problems)
        super().__init__("\n".join(self._problems))

    @property
    def problems(self) -> list[str]:
        return list(self._problems)


class InputError(MixsimError, ValueError):
    """A data file other than a scenario (response curves, committed spend, a sweep grid, a history) breaks its
    contract; each problem names the file, the row or column, and the rule."""


class InfeasibleError(MixsimError):
    """The planner's constraints cannot all hold at once."""

    exit_code = 3


class SolverError(MixsimError):
    """The solver failed; the message says what to try next."""

    exit_code = 1
