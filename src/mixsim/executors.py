"""Where parallel work runs: in this process, on a local process pool, or on a Dask distributed cluster.

Every piece of parallel work (replications, curve levels, what-if variants, sweep cells) is submitted to a
:class:`concurrent.futures.Executor`. :func:`open_executor` picks one: nothing (run here) for one worker, a local
process pool for several, or a Dask client's executor when a scheduler is named. Results never depend on which:
every run's seed comes from ``numpy.random.SeedSequence.spawn``, never from a worker or from timing.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
from collections.abc import Iterator

from mixsim.errors import MixsimError

SCHEDULER_ENV = "MIXSIM_SCHEDULER"
"""Environment variable naming a Dask scheduler (``tcp://HOST:PORT`` or ``local``) when no ``--scheduler`` is given."""

INSTALL_DASK = "pip install 'mixsim[dask]'"


def scheduler_from(value: str | None) -> str | None:
    """The scheduler asked for: ``value``, else ``$MIXSIM_SCHEDULER``, else none (the local pool)."""
    value = value if value else os.environ.get(SCHEDULER_ENV, "")
    return value.strip() or None


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
    MixsimError
        If Dask is not installed (the message says how to install it), the scheduler address is malformed or
        the scheduler cannot be reached.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1 (got {workers})")
    if scheduler is None:
        if workers == 1:
            yield None
            return
        pool = cf.ProcessPoolExecutor(max_workers=workers)
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return
    with _dask_executor(scheduler, workers) as executor:
        yield executor


@contextlib.contextmanager
def _dask_executor(scheduler: str, workers: int) -> Iterator[cf.Executor]:
    if scheduler != "local" and not scheduler.startswith(("tcp://", "tls://")):
        raise MixsimError(f"--scheduler must be 'local' or an address such as tcp://HOST:8786 (got {scheduler!r})")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise MixsimError(f"--scheduler {scheduler} needs Dask, an optional extra: {INSTALL_DASK}") from None
    cluster = None
    try:
        if scheduler == "local":
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise MixsimError(f"--scheduler {scheduler}: cannot reach the scheduler ({exc})") from None
    try:
        # pure=False: every submission runs (two replications with equal arguments are still two runs).
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
