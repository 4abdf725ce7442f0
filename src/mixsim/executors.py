"""Where parallel work runs: in this process, on a local process pool, or on a Dask distributed cluster.

Every piece of parallel work (replications, curve levels, what-if variants, sweep cells) is submitted to a
:class:`concurrent.futures.Executor`. :func:`open_executor` picks one: nothing (run here) for one worker, a local
process pool for several, or a Dask client's executor when a scheduler is named. Results never depend on which:
every run's seed comes from ``numpy.random.SeedSequence.spawn``, never from a worker or from timing.

A local pool's workers answer to this process alone. They ignore Ctrl-C (it reaches the whole process group, and
this process stops them itself, so a worker never prints a traceback of its own), they die with this process
however it ends (see :func:`mixsim._signals.die_with_parent`), and a block that ends with an exception, an
interrupt included, stops them at once rather than waiting for the runs they hold.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from mixsim._signals import STOPS, die_with_parent, unblock, uninterrupted
from mixsim.errors import InputError

SCHEDULER_ENV = "MIXSIM_SCHEDULER"
"""Environment variable naming a Dask scheduler (``tcp://HOST:PORT`` or ``local``) when none is given."""

INSTALL_DASK = "pip install 'mixsim[dask]'"


def scheduler_from(value: str | None) -> str | None:
    """The scheduler asked for: ``value``, else ``$MIXSIM_SCHEDULER``, else none (the local pool)."""
    value = value if value else os.environ.get(SCHEDULER_ENV, "")
    return value.strip() or None


class _Deferred(cf.Executor):
    """An executor opened at its first submission, so that a command failing on its input, or running nothing in
    parallel, never starts a pool or a cluster (nor waits for an unreachable scheduler)."""

    def __init__(self, workers: int, scheduler: str | None) -> None:
        self._workers, self._scheduler = workers, scheduler
        self._stack = contextlib.ExitStack()
        self._target: cf.Executor | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        if self._target is None:
            target = self._stack.enter_context(open_executor(self._workers, self._scheduler))
            assert target is not None  # a deferred executor is only made for parallel work
            self._target = target
        return self._target.submit(fn, *args, **kwargs)

    def close(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)


@contextlib.contextmanager
def deferred_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[cf.Executor | None]:
    """Like :func:`open_executor`, but the pool or cluster starts only when the first piece of work is submitted.

    Yields ``None`` (run in this process) for one worker and no scheduler.
    """
    if scheduler is None and workers == 1:
        yield None
        return
    executor = _Deferred(workers, scheduler)
    try:
        yield executor
    except BaseException as exc:
        executor.close(type(exc), exc, exc.__traceback__)
        raise
    executor.close(None, None, None)


def run_all(
    fn: Callable[..., Any],
    jobs: Sequence[tuple[Any, ...]],
    executor: cf.Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """``fn(*job)`` for every job, the results in job order whatever finishes first.

    With no executor the jobs run here, one after another; otherwise all are submitted, and the ones still pending
    are cancelled if one fails (or the wait is interrupted). ``progress(done, total)`` is called after each.
    ``on_result(index, result)`` is called here as each job finishes, in the order they finish; when one fails,
    it is called for every other job that had finished by then, before the failure is raised.
    """
    total = len(jobs)
    results: list[Any] = [None] * total
    if executor is None:
        for done, job in enumerate(jobs, start=1):
            results[done - 1] = fn(*job)
            if on_result is not None:
                on_result(done - 1, results[done - 1])
            if progress is not None:
                progress(done, total)
        return results
    futures = {executor.submit(fn, *job): i for i, job in enumerate(jobs)}
    delivered: set[int] = set()
    try:
        for done, future in enumerate(cf.as_completed(futures), start=1):
            index = futures[future]
            results[index] = future.result()
            delivered.add(index)
            if on_result is not None:
                on_result(index, results[index])
            if progress is not None:
                progress(done, total)
    except BaseException:
        for future in futures:
            future.cancel()
        if on_result is not None:
            for future, index in futures.items():
                if index not in delivered and future.done() and not future.cancelled() and future.exception() is None:
                    delivered.add(index)
                    with contextlib.suppress(Exception):  # the first failure is the one raised
                        on_result(index, future.result())
        raise
    return results


@contextlib.contextmanager
def open_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[cf.Executor | None]:
    """An executor for the duration of a ``with`` block; shut down (pending work cancelled) when it ends.

    Parameters
    ----------
    workers : int, default=1
        Local worker processes. With no scheduler, 1 yields ``None`` (run in this process); for ``"local"``, the
        number of workers of the local Dask cluster.
    scheduler : str, optional
        ``"tcp://HOST:PORT"`` (or ``tls://``): an existing Dask scheduler, whose workers must have mixsim
        installed; ``"local"``: a Dask ``LocalCluster`` of ``workers`` single-threaded processes, to try Dask
        on one machine. Default: none (see :func:`scheduler_from` for the environment variable).

    Yields
    ------
    concurrent.futures.Executor or None

    Raises
    ------
    InputError
        If ``workers`` is below 1, Dask is not installed (the message says how to install it), the scheduler
        address is malformed or the scheduler cannot be reached.
    """
    if workers < 1:
        raise InputError(f"workers must be >= 1 (got {workers})")
    if scheduler is None:
        if workers == 1:
            yield None
            return
        pool = _Pool(workers)
        finished = False
        try:
            yield pool
            pool.shutdown()
            finished = True
        finally:
            if not finished:  # an error or an interrupt, also while shutting down: stop the workers now
                pool.stop()
        return
    with _dask_executor(scheduler, workers) as executor:
        yield executor


class _Pool(cf.ProcessPoolExecutor):
    """A local process pool whose workers ignore Ctrl-C, die with this process, and can be stopped at once."""

    STOP_WAIT = 2.0
    """Seconds a stopped worker gets to end on SIGTERM before it is killed."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers, initializer=_worker_started, initargs=(os.getpid(),))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        # The workers are started inside submit: they are born with SIGINT and SIGTERM blocked (a fork keeps the
        # blocked set), so that neither reaches one before it has set its own handling (_worker_started).
        with uninterrupted():
            return super().submit(fn, *args, **kwargs)

    def stop(self) -> None:
        """Cancel the pending work and end the workers now, the runs they hold included (SIGTERM, then SIGKILL for
        one that does not end within :attr:`STOP_WAIT` seconds)."""
        with uninterrupted():  # a second Ctrl-C must not leave the workers half stopped
            # The pool's own record of its processes: ProcessPoolExecutor has no public way to end running work
            # before Python 3.14 (terminate_workers), and shutdown() waits for the runs the workers hold.
            processes = list((getattr(self, "_processes", None) or {}).values())
            self.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(Exception):  # it may have ended already
                    process.terminate()
            deadline = time.monotonic() + self.STOP_WAIT
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.kill()
                    process.join(self.STOP_WAIT)


def _worker_started(parent: int) -> None:
    """What each worker of a local pool does first: leave Ctrl-C to its parent, end on SIGTERM, die with its parent,
    and only then take the signals it was born blocking (see :meth:`_Pool.submit`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, which a fork copies
    die_with_parent(parent)
    unblock(STOPS)


@contextlib.contextmanager
def _dask_executor(scheduler: str, workers: int) -> Iterator[cf.Executor]:
    if scheduler != "local" and not scheduler.startswith(("tcp://", "tls://")):
        raise InputError(
            f"{_named(scheduler)} must be 'local' or an address such as tcp://HOST:8786 (got {scheduler!r})"
        )
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError(f"{_named(scheduler)} {scheduler} needs Dask, an optional extra: {INSTALL_DASK}") from None
    cluster = None
    try:
        if scheduler == "local":
            # The cluster's processes inherit an ignored Ctrl-C: the command stops them itself, quietly.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
                )
            finally:
                signal.signal(signal.SIGINT, previous)
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(f"{_named(scheduler)} {scheduler}: cannot reach the scheduler ({exc})") from None
    try:
        # pure=False: every submission runs (two replications with equal arguments are still two runs).
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _named(scheduler: str) -> str:
    """How the scheduler was given: the environment variable, or the ``scheduler`` argument."""
    return f"${SCHEDULER_ENV}" if os.environ.get(SCHEDULER_ENV, "").strip() == scheduler else "scheduler"
