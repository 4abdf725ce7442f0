"""The command being run, for the lines that name it (``mixsim optimize: done, 540 runs in 38 s``), and how it is
stopped: SIGTERM is taken like Ctrl-C, as an :class:`Interrupted` that unwinds the command (removing its temporary
files and stopping its workers) before it ends with one line and exit code 130 (SIGINT) or 143 (SIGTERM).

:func:`mixsim.cli.main.main` sets both; :class:`mixsim.cli.outputs.ProgressBar` reads and records them. It lives
apart from both so that the command line's entry point need not import what the outputs import.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from types import FrameType

from mixsim._signals import STOPS

COMMAND: ContextVar[str] = ContextVar("mixsim_command", default="mixsim")
"""``mixsim`` and the command's name, e.g. ``mixsim optimize``."""

PROGRESS: ContextVar[str] = ContextVar("mixsim_progress", default="")
"""How far the runs had got when the command was stopped (``after 3 of 8 runs``), for its one line."""


SIGNALLED: ContextVar[int] = ContextVar("mixsim_signalled", default=0)
"""The stop signal the command was given (0: none). Whatever fails after it is its doing: an import cut short by
the signal, for one, fails as an ``ImportError``; the command says it was interrupted rather than failed."""


class Interrupted(KeyboardInterrupt):
    """The command was asked to stop by a signal (SIGINT: Ctrl-C; SIGTERM: ``kill``).

    A :class:`KeyboardInterrupt`, so everything that cleans up after Ctrl-C cleans up after SIGTERM the same way.

    Parameters
    ----------
    signum : int, default=SIGINT
        The signal.
    detail : str, optional
        What the command leaves behind, when it is more than "no output file was left half-written" (a sweep's
        saved cells); said in its one line.
    """

    def __init__(self, signum: int = signal.SIGINT, detail: str = "") -> None:
        super().__init__(signum, detail)
        self.signum = signum
        self.detail = detail

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process ended by it: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + int(self.signum)


def interrupted_line(exc: KeyboardInterrupt) -> str:
    """The one line a stopped command prints: what stopped it, how far it got, what it leaves."""
    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
    by = " (SIGTERM)" if signum == signal.SIGTERM else ""
    progress = f" {PROGRESS.get()}" if PROGRESS.get() else ""
    detail = exc.detail if isinstance(exc, Interrupted) and exc.detail else "no output file was left half-written"
    return f"{COMMAND.get()}: interrupted{by}{progress}; {detail}"


@contextlib.contextmanager
def stopping(process_exit: bool) -> Iterator[None]:
    """Take SIGINT and SIGTERM as :class:`Interrupted` for the duration of the block.

    The first signal raises; any that follow while the command unwinds are ignored, so that its clean-up (removing
    temporary files, stopping workers) runs to its end. A signal the process was started ignoring stays ignored.
    With ``process_exit`` (the block is the whole of the process's command line) a signal that arrives after the
    block, while Python shuts down, ends the process at once with the interrupted line (unless it was printed
    already) and its exit code, rather than a traceback; otherwise the handlers in place before are put back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised: list[int] = []
    SIGNALLED.set(0)

    def stop(signum: int, frame: FrameType | None) -> None:
        if not raised:
            raised.append(signum)
            SIGNALLED.set(signum)
            raise Interrupted(signum)

    # A signal this process was started ignoring (a background job of a script ignores Ctrl-C) stays ignored.
    taken = [signum for signum in STOPS if signal.getsignal(signum) is not signal.SIG_IGN]
    previous = {signum: signal.signal(signum, stop) for signum in taken}
    try:
        yield
    finally:
        if process_exit:
            for signum in taken:
                signal.signal(signum, _exit_now if not raised else _exit_quietly)
        else:
            for signum, handler in previous.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    """A signal after the command's work, while Python shuts down: the line, the code, no traceback."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        print(interrupted_line(Interrupted(signum)), file=sys.stderr, flush=True)
    os._exit(128 + signum)


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    """A further signal after a command that was interrupted (and said so) already."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    os._exit(128 + signum)
