"""The signals that stop mixsim (SIGINT, SIGTERM), held back over the moments that must not be cut in two, and the
parent-death signal that ends a worker process with the process that started it.

A Python signal handler runs in the main thread at the next bytecode boundary, whichever thread the kernel chose to
deliver the signal to, so blocking a signal in the main thread alone does not keep the handler from running there:
:func:`uninterrupted` swaps the handlers for a recorder and delivers what it recorded once the block ends. It also
blocks the signals at the kernel in the calling thread, so that a process forked meanwhile (a pool's worker) starts
with them blocked and can choose its own handling before it receives any.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

STOPS = frozenset({signal.SIGINT, signal.SIGTERM})
"""The signals that ask mixsim to stop: Ctrl-C, and ``kill``'s default."""

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM for the duration of the block; one that arrives meanwhile takes effect (is
    raised again, to the handler in place before) as soon as the block ends.

    Outside the main thread (where Python allows no handler to be set) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = {signum: signal.signal(signum, record) for signum in STOPS}
    blocked = block(STOPS)
    try:
        yield
    finally:
        unblock(STOPS, blocked)
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: a handler set outside Python
        if caught:
            signal.raise_signal(caught[0])


def block(signals: frozenset[int]) -> set[int]:
    """Block ``signals`` in this thread at the kernel (where the system has signal masks); returns the mask before."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        return set()
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, signals))


def unblock(signals: frozenset[int], mask: set[int] | None = None) -> None:
    """Unblock ``signals``, or put back ``mask`` (from :func:`block`)."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    if mask is None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
    else:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def die_with_parent(parent: int) -> None:
    """End this process when the process ``parent`` (the one that started it) ends, however it ends (even killed
    with SIGKILL, when it runs no code of its own).

    On Linux the kernel does it: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` kills this process the moment the thread that
    forked it exits, whatever this process is doing (even inside a long computation that never returns to Python).
    That is the thread, not the process: a pool's workers are forked by the thread that first submits work to it,
    which must outlive the pool (in mixsim the pool lives inside the ``with`` block of the thread that uses it).
    Elsewhere a daemon thread checks twice a second whether this process was handed to another parent (the parent
    died) and ends it. Either way, a parent that died before this was set up is caught at once.
    """
    if not _parent_death_signal() and os.getppid() == parent:
        threading.Thread(target=_watch, args=(parent,), name="mixsim-parent-watch", daemon=True).start()
    if os.getppid() != parent and not _alive(parent):
        os._exit(1)


def _parent_death_signal() -> bool:
    """Ask the Linux kernel to send SIGKILL to this process when its parent exits; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, interval: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
