"""Stopping mixsim: the real ``mixsim`` process under SIGINT, SIGTERM and SIGKILL.

Each test starts the command line as a process of its own (in a session of its own, so that a Ctrl-C can be sent to
its whole process group as a terminal does), waits for a moment in its work (its pool's workers started, its files
being written), sends a signal and checks what is left: the exit code, one line on stderr, no worker alive, no
temporary file, an output folder that holds one run's files and never two runs' mixed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mixsim import _signals

ROOT = Path(__file__).resolve().parents[1]
BUSY = (str(ROOT / "scenarios" / "d2c_ecommerce.toml"), "--set", "scenario.population=20000")
"""A scenario whose runs take a second or more each: the workers are busy when the signal comes."""
QUICK = (str(ROOT / "scenarios" / "d2c_ecommerce.toml"), "--set", "scenario.population=3000")
"""The same market, small: its runs are over in a moment, and the command goes on to draw its figures."""
PROGRESS_LINE = "simulation runs ...", "cells ...", "runs in", "cells in"
"""What the progress lines of a log end with or hold (every other stderr line is counted)."""


STARTED: list[int] = []
"""Every process a test started or saw started (commands and their workers), ended at teardown if still alive, so
that a failing test leaves nothing running."""


@pytest.fixture(autouse=True)
def _nothing_left_running() -> Iterator[None]:
    yield
    for pid in STARTED:
        if alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    STARTED.clear()


def start(*args: str | Path, cwd: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MIXSIM_DEBUG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "mixsim.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killpg reaches it and its workers, as Ctrl-C would
        preexec_fn=_ctrl_c_as_on_a_terminal,
    )
    STARTED.append(process.pid)
    return process


def _ctrl_c_as_on_a_terminal() -> None:
    """A command started from a terminal takes Ctrl-C, even where these tests run in a background job (which
    ignores it, and would hand that on)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def children(pid: int) -> set[int]:
    """The processes ``pid`` started (read from /proc: no third-party process library)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def wait_for(condition: Callable[[], object], timeout: float = 60.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def workers_of(process: subprocess.Popen[str], count: int = 2) -> set[int]:
    found = wait_for(lambda: len(children(process.pid)) >= count and children(process.pid), what="the workers")
    assert isinstance(found, set)
    STARTED.extend(found)
    return found


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def own_lines(err: str) -> list[str]:
    """stderr without the progress lines a log gets as runs start and end."""
    return [line for line in err.splitlines() if not any(mark in line for mark in PROGRESS_LINE)]


def no_worker_left(workers: set[int]) -> None:
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=5, what=f"workers {workers} to end")


def temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".mixsim-")]


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from /proc")


# --- the workers die with the command (issue 15.1) -------------------------------------------------------------


@needs_proc
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_a_killed_simulate(tmp_path: Path, how: signal.Signals) -> None:
    process = start("simulate", *BUSY, "-r", "8", "-w", "2", "--out", tmp_path / "out", cwd=tmp_path)
    workers = workers_of(process)
    time.sleep(0.3)  # they are running
    os.kill(process.pid, how)
    code, _, err = finish(process)
    no_worker_left(workers)
    assert temporary_files(tmp_path) == [] or how == signal.SIGKILL  # SIGKILL runs no clean-up at all
    if how == signal.SIGTERM:
        assert code == 143, err
        assert own_lines(err) == ["mixsim simulate: interrupted (SIGTERM); no output file was left half-written"], err
    else:
        assert code == -signal.SIGKILL


@needs_proc
def test_workers_die_with_a_killed_sweep(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\n"funnel.synergy" = [0.0, 0.1, 0.2, 0.3]\n[sweep]\nreplications = 2\n', encoding="utf-8")
    process = start("sweep", *BUSY, "--grid", grid, "--out", tmp_path / "cells", "-w", "2", cwd=tmp_path)
    workers = workers_of(process)
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    finish(process)
    no_worker_left(workers)


@needs_proc
def test_a_sigterm_to_a_sweep_says_what_is_saved_in_one_line(tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\n"funnel.synergy" = [0.0, 0.1, 0.2, 0.3]\n[sweep]\nreplications = 2\n', encoding="utf-8")
    process = start("sweep", *BUSY, "--grid", grid, "--out", tmp_path / "cells", "-w", "2", cwd=tmp_path)
    workers = workers_of(process)
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGTERM)
    code, _, err = finish(process)
    no_worker_left(workers)
    assert code == 143
    (line,) = own_lines(err)
    assert line.startswith("mixsim sweep: interrupted (SIGTERM)") and "run the same command again" in line, err
    assert temporary_files(tmp_path) == []


# --- Ctrl-C to the process group: one line, exit 130 (issue 15.2) ---------------------------------------------


@needs_proc
def test_ctrl_c_while_the_workers_run(tmp_path: Path) -> None:
    process = start("simulate", *BUSY, "-r", "8", "-w", "2", "--out", tmp_path / "out", cwd=tmp_path)
    workers = workers_of(process)
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)
    code, _, err = finish(process)
    assert code == 130, err
    assert own_lines(err) == ["mixsim simulate: interrupted; no output file was left half-written"], err
    no_worker_left(workers)
    assert not (tmp_path / "out").exists(), "a folder the run created and never filled is removed"


@needs_proc
@pytest.mark.parametrize("burst", [1, 5])
def test_ctrl_c_while_idle_workers_wait_and_the_files_are_written(tmp_path: Path, burst: int) -> None:
    """The runs are done and the pool's workers sit idle while the figures are drawn: a Ctrl-C (or several, as an
    impatient user sends) reaches them too, and must print no worker's traceback."""
    out = tmp_path / "out"
    process = start("simulate", *QUICK, "-r", "2", "-w", "2", "--out", out, cwd=tmp_path)
    workers = workers_of(process)
    wait_for(lambda: len([p for p in out.rglob("*") if p.is_file()]) >= 2, what="files being written")
    for _ in range(burst):
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.005)
    code, _, err = finish(process)
    assert code == 130, err
    assert "Traceback" not in err
    assert own_lines(err) == ["mixsim simulate: interrupted; no output file was left half-written"], err
    no_worker_left(workers)
    assert temporary_files(tmp_path) == []


def test_a_signal_while_python_shuts_down_gives_the_line_and_the_code(tmp_path: Path) -> None:
    """After the command's work, while the interpreter ends: still one line and 130, never exit 0 and a traceback."""
    code = (
        "import os, signal, time\n"
        "from mixsim.cli._running import stopping\n"
        "with stopping(process_exit=True):\n"
        "    pass\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(5)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 130
    assert done.stderr.splitlines() == ["mixsim: interrupted; no output file was left half-written"]


# --- an interrupted --out DIR never mixes two runs (issue 15.3) -------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.slow  # two runs of the command, figures included
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_rerun_interrupted_while_writing_leaves_the_earlier_set_whole(
    tmp_path: Path, scenario_file: Path, how: signal.Signals
) -> None:
    out = tmp_path / "out"
    first = start("simulate", scenario_file, "-r", "2", "-w", "1", "--seed", "1", "--out", out, cwd=tmp_path)
    assert finish(first)[0] == 0
    old = snapshot(out)
    begun = time.time()
    rerun = start("simulate", scenario_file, "-r", "2", "-w", "1", "--seed", "2", "--out", out, cwd=tmp_path)

    def written() -> bool:
        fresh = [p for p in out.rglob("*") if p.is_file() and p.stat().st_mtime > begun and ".tmp" not in p.name]
        return len(fresh) >= 3

    wait_for(written, what="three files of the rerun")
    rerun.send_signal(how)
    code, _, err = finish(rerun)
    now = snapshot(out)
    changed = {name for name in now if now[name] != old.get(name)}
    assert temporary_files(tmp_path) == [], "no temporary file or staging folder is left"
    if code == 0:  # the rerun ended before the signal came: then its whole set is in
        assert json.loads(now["summary.json"])["seed"] == 2 and "kpis.csv" in changed
    else:
        assert code == 128 + how, err
        # Stopped before its set was committed, the earlier set is whole; a signal that lands just after the commit
        # (the rerun then says it was interrupted) finds the new set whole. Never a mix of the two.
        assert now.keys() == old.keys()
        assert changed in (set(), set(now)), f"a mix of two runs: {sorted(changed)} are new"


# --- the safety nets themselves ---------------------------------------------------------------------------------


def test_signals_held_back_take_effect_when_the_block_ends() -> None:
    ran: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with _signals.uninterrupted():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # a handler would have run by now
            ran.append("the whole block")
    assert ran == ["the whole block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@needs_proc
def test_the_watchdog_ends_a_process_whose_parent_died_where_the_kernel_cannot() -> None:
    """Without Linux's parent-death signal (macOS, for one) a thread watches the parent: kill the parent, and the
    child it started ends within the watchdog's interval."""
    child = (
        "import os, sys, time\n"
        "from mixsim import _signals\n"
        "_signals._parent_death_signal = lambda: False\n"
        "_signals.die_with_parent(os.getppid())\n"
        "print(os.getpid(), flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {child!r}])\ntime.sleep(60)\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    process = subprocess.Popen([sys.executable, "-c", parent], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        orphan = int(process.stdout.readline())
        assert alive(orphan)
        process.kill()
        process.wait()
        wait_for(lambda: not alive(orphan), timeout=5, what="the orphan to end")
    finally:
        process.kill()


def test_a_command_started_ignoring_ctrl_c_keeps_ignoring_it(tmp_path: Path, scenario_file: Path) -> None:
    """A script's background job (``mixsim ... &``) is started with SIGINT ignored, and must stay so."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    code = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "from mixsim.cli.main import main\n"
        "from mixsim.cli import _running\n"
        "with _running.stopping(process_exit=False):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    print('still running', flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode == 0 and done.stdout == "still running\n", done.stderr


@pytest.mark.parametrize("swallowed", [ImportError("initialization failed"), None])
def test_what_a_signal_breaks_is_reported_as_the_interrupt(
    run_cli: Callable[..., tuple[int, str, str]],
    scenario_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    swallowed: Exception | None,
) -> None:
    """A C extension whose import is cut short by the signal turns the interrupt into an ImportError; other code may
    swallow it. Either way the command was stopped: one line, 143, not "unexpected error" or exit 0."""
    from mixsim.cli import simulate as command

    def stopped_midway(*args: object, **kwargs: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        except KeyboardInterrupt:
            if swallowed is not None:
                raise swallowed from None

    monkeypatch.setattr(command, "simulate", stopped_midway)
    code, _, err = run_cli("simulate", scenario_file, "-r", "1", "-w", "1", "--json")
    assert code == 143
    assert err.splitlines() == ["mixsim simulate: interrupted (SIGTERM); no output file was left half-written"]


def test_a_failure_asked_to_show_its_traceback_still_does(
    run_cli: Callable[..., tuple[int, str, str]], scenario_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixsim.cli import simulate as command

    def fails(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(command, "simulate", fails)
    monkeypatch.setenv("MIXSIM_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        run_cli("simulate", scenario_file, "-r", "1", "-w", "1")
