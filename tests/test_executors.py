"""The one helper that runs jobs on any executor: results in job order, each delivered once, nothing lost."""

from __future__ import annotations

import concurrent.futures as cf
import signal
import threading
import time
from pathlib import Path

import pytest

from mixsim.executors import open_executor, run_all


def square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("threads", [0, 3])
def test_results_come_in_job_order_and_each_is_delivered_once(threads: int) -> None:
    delivered: list[tuple[int, int]] = []
    progress: list[tuple[int, int]] = []
    jobs = [(x,) for x in range(20)]
    with cf.ThreadPoolExecutor(threads) if threads else _nothing() as executor:
        out = run_all(
            square, jobs, executor, lambda d, t: progress.append((d, t)), lambda i, v: delivered.append((i, v))
        )
    assert out == [x * x for x in range(20)]
    assert sorted(delivered) == [(x, x * x) for x in range(20)]
    assert progress == [(d, 20) for d in range(1, 21)]


def test_a_failure_delivers_every_job_finished_before_it_is_raised() -> None:
    """Job 3 fails while this thread is busy with job 0's result; jobs 4 and 5 finish after it, before the failure
    is seen here. They are delivered all the same (a sweep saves them), job 3 is not, and none twice."""
    busy = threading.Event()

    def job(x: int) -> int:
        if x > 0:
            busy.wait(5)
            if x == 3:
                raise RuntimeError("cell 3 failed")
            time.sleep(0.05)
        return x

    delivered: list[int] = []

    def on_result(index: int, value: int) -> None:
        delivered.append(index)
        if index == 0:
            busy.set()
            time.sleep(0.6)  # every other job ends meanwhile

    with cf.ThreadPoolExecutor(2) as executor, pytest.raises(RuntimeError, match="cell 3"):
        run_all(job, [(x,) for x in range(6)], executor, on_result=on_result)
    assert sorted(delivered) == [0, 1, 2, 4, 5]


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_failing_on_result_is_raised_and_the_others_are_still_delivered_once() -> None:
    """The hook fails for job 0 while the others finish: it is not called again for job 0, every other finished
    job is delivered exactly once, and the hook's own error is what is raised."""
    seen: list[int] = []

    def on_result(index: int, value: int) -> None:
        seen.append(index)
        if index == 0:
            time.sleep(0.3)  # every other job ends meanwhile
            raise OSError("disk full")

    def job(x: int) -> int:
        if x > 0:
            time.sleep(0.05)
        return x

    with cf.ThreadPoolExecutor(2) as executor, pytest.raises(OSError, match="disk full"):
        run_all(job, [(x,) for x in range(5)], executor, on_result=on_result)
    assert seen[0] == 0 and sorted(seen) == [0, 1, 2, 3, 4]


def test_bad_executor_arguments_are_input_errors_in_library_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    from mixsim.errors import InputError
    from mixsim.executors import SCHEDULER_ENV, open_executor

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    with pytest.raises(InputError, match=r"workers must be >= 1 \(got 0\)"), open_executor(0):
        pass
    with pytest.raises(InputError, match=r"^scheduler must be 'local' or an address") as caught:
        with open_executor(2, "somewhere"):
            pass
    assert "--" not in str(caught.value)  # the command line names its own option


def test_a_block_that_fails_stops_the_workers_and_the_runs_they_hold() -> None:
    """An error (an interrupt alike) while a local pool's workers hold long runs: they end at once, not when their
    runs are done (Python would otherwise wait for them as it exits)."""
    started = time.monotonic()
    with pytest.raises(RuntimeError), open_executor(2) as pool:
        assert pool is not None
        futures = [pool.submit(time.sleep, 60) for _ in range(2)]
        workers = list(pool._processes.values())  # type: ignore[attr-defined]
        time.sleep(0.2)
        raise RuntimeError("stop")
    assert time.monotonic() - started < 10
    # Whether each worker's process is gone, by the system's table: the pool's own thread may reap a worker while
    # Process.is_alive() is asked, which then answers from a stale record.
    assert all(_ended(worker.pid) for worker in workers)
    # Their futures end as the pool's own thread sees its workers gone (broken, not left pending for 60 s).
    assert not cf.wait(futures, timeout=5).not_done


def _ended(pid: int, wait: float = 5.0) -> bool:
    """Whether process ``pid`` has ended (gone from /proc, or a zombie awaiting its parent), within ``wait`` s."""
    deadline = time.monotonic() + wait
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X") or time.monotonic() > deadline:
            return state in ("Z", "X")
        time.sleep(0.05)


def test_workers_ignore_ctrl_c_and_take_sigterm() -> None:
    with open_executor(2) as pool:
        assert pool is not None
        handlers = pool.submit(_handlers).result()
    assert handlers == (signal.SIG_IGN, signal.SIG_DFL)


def _handlers() -> tuple[object, object]:
    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
