"""What the commands share around their work: output paths checked before any work, the memory a run needs,
the progress of the runs (a bar on a terminal, a line at the start and one at the end in a log), and the figure
formats."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mixsim._files import refuse_special
from mixsim.cli._running import COMMAND, PROGRESS
from mixsim.errors import MixsimError
from mixsim.executors import scheduler_from
from mixsim.memory import memory_available, memory_for
from mixsim.scenario import Scenario

FIGURE_FORMATS = ("png", "svg")
"""Every figure the command saves is saved in each of these."""


def check_memory(
    scenario: Scenario,
    args: argparse.Namespace,
    journeys: float = 0.0,
    runs: int | None = None,
    source: str | None = None,
    held: int | None = None,
) -> None:
    """Refuse, before any work, a run this machine cannot hold.

    ``runs``: how many runs of ``scenario`` the command makes; no more than that many run at once, whatever
    ``--workers``, and this process keeps each one's record until the result is made (``held``: the records kept
    in all, when the command keeps others beside these, as ``compare`` does of every variant's). ``source`` names
    the scenario in the refusal (default: the command's SCENARIO). On a Dask cluster the runs use its workers'
    memory, but their records still come back here.
    """
    name = source or args.scenario
    count = runs if runs is not None else args.workers
    kept = held if held is not None else count
    local = scheduler_from(args.scheduler) in (None, "local")
    at_once = min(args.workers, count) if local else 0
    need = memory_for(scenario, kept, at_once, journeys)
    have = memory_available()
    if have is not None and need > have:
        records = f"the results of {kept:,} runs" if kept > 1 else "its result"
        raise MixsimError(
            f"{name}: scenario.population {scenario.population:,} over {scenario.horizon_days:,} days needs about "
            f"{_bytes(need)} of memory ({at_once} run(s) at once, and {records}) and this machine has "
            f"{_bytes(have)} available: lower the population, --replications or --workers"
            + (", or run on a cluster (--scheduler)" if local else "")
        )


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def out_dir(text: str | None) -> Path | None:
    """The folder an ``--out DIR`` names, refused before any work if it cannot be written (see
    :func:`check_writable`); the commands write their files into it as one set (:func:`mixsim._files.output_set`)."""
    if not text:
        return None
    check_writable(Path(text), directory=True)
    return Path(text)


def out_file(text: str, formats: tuple[str, ...], what: str, bare: bool = False) -> Path:
    """The file ``--out`` names, refused before any work if its suffix is not one of ``formats`` (``.html``: the
    command writes that format and no other, so a ``.pdf`` would be HTML under a false name) or it cannot be
    written. ``what`` says what is written, as in ``the report``; with ``bare``, a name with no suffix at all is
    taken too (it claims no other format)."""
    path = Path(text)
    check_writable(path, directory=False)
    if path.suffix.lower() not in formats and not (bare and not path.suffix):
        names = " or ".join(formats) if len(formats) < 3 else f"{', '.join(formats[:-1])} or {formats[-1]}"
        raise MixsimError(f"--out {path}: {what} is written as {names} (got {path.suffix or 'no suffix'!r})")
    return path


def plan_paths(texts: list[str] | None) -> list[Path]:
    """The files a plan is to be written to (``--out``, repeatable), each refused before any work if its suffix
    names no format or it cannot be written, and a path given twice refused."""
    from mixsim.optimizer.export import check_export_path  # deferred: pandas loads only for a command that plans

    paths: list[Path] = []
    for text in texts or []:
        try:
            path = check_export_path(text)
        except MixsimError as exc:
            raise MixsimError(f"--out {exc}") from None
        check_writable(path, directory=False)
        if path.resolve() in {p.resolve() for p in paths}:
            raise MixsimError(f"--out {path}: given twice")
        paths.append(path)
    return paths


def check_writable(path: Path, directory: bool) -> None:
    """Refuse, before any work, an output path that cannot be written, or that names something mixsim must not
    replace: a device (``/dev/stdout``), a pipe, a symbolic link (for a file; a folder may be a link to a folder, and
    is written through).

    Whether the folder the files go to takes a new file is tried (a file created and removed at once), so that a
    read-only folder is refused by its own name whoever runs the command, root included.
    """
    if directory:
        if path.is_symlink() and not path.exists():
            raise MixsimError(f"--out {path}: is a symbolic link to nothing")
        if path.exists() and not path.is_dir():
            raise MixsimError(f"--out {path}: exists and is not a directory")
    else:
        if path.is_dir():
            raise MixsimError(f"--out {path}: is a directory (give a file name)")
        try:
            refuse_special(path)
        except MixsimError as exc:
            raise MixsimError(f"--out {exc}") from None
    folder = path if directory and path.is_dir() else next((p for p in path.parents if p.exists()), Path("."))
    if not folder.is_dir():
        raise MixsimError(f"--out {path}: {folder} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".mixsim-probe-", dir=folder)
    except OSError as exc:
        raise MixsimError(f"--out {path}: cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


class ProgressBar:
    """Progress of a command's runs on stderr: a live bar on a terminal, two lines in a log.

    On a terminal the bar shows after :attr:`DELAY` seconds (a quick command leaves the screen as it was) and
    clears itself at the end. When stderr is not a terminal (a log file, a pipe, a scheduler's capture), a bar's
    carriage returns would only fill the log, so the command writes one line when its runs start and one when they
    end (``mixsim optimize: 540 simulation runs ...`` then ``mixsim optimize: done, 540 runs in 38 s``), and
    nothing per run. The start line waits for the first report, so a request refused before any run leaves none.

    Parameters
    ----------
    total : int
        Runs (or cells) expected, as the ``*_runs`` functions count them.
    enabled : bool, default=True
        Whether a terminal gets the live bar (commands turn it off under ``--json``). The two lines of a log are
        written either way: they go to stderr, and stdout keeps only what the command prints.
    unit : str, default="run"
        What is counted: ``run`` (a simulation run) or ``cell`` (a sweep's cell; a sweep's first report, before
        any cell runs, counts the cells found already done).
    """

    DELAY = 1.5
    """Seconds before the live bar shows on a terminal."""

    def __init__(self, total: int, enabled: bool = True, unit: str = "run") -> None:
        self.total = total
        self.unit = unit
        stream = sys.stderr
        terminal = stream is not None and stream.isatty()
        self.enabled = enabled and terminal
        self.log = stream is not None and not terminal
        self.bar: Any = None
        self.started = 0.0
        self.count = 0  # runs reported so far (over every measurement)
        self.found = 0  # cells a resumed sweep found already done
        self.reports = 0
        self.announced = False

    def __enter__(self) -> Any:
        if not (self.enabled or self.log):
            return None
        self.started = time.monotonic()
        if self.enabled:
            from tqdm import tqdm  # deferred: tqdm loads only when a terminal shows a bar

            self.bar = tqdm(total=self.total, unit=self.unit, delay=self.DELAY, file=sys.stderr, leave=False)

        # Several measurements may report in turn, each counting from its first batch to its total: carry the
        # finished ones forward (a report after one that reached its total, or counting lower, starts the next).
        state = {"base": 0, "last": 0, "total": 0}

        def update(done: int, total: int) -> None:
            if self.reports == 0 and self.unit == "cell":
                self.found = done  # a sweep's first report, before any cell runs, counts the cells found done
                if self.bar is not None:
                    self.bar.initial = done  # work found already done is not this session's rate
            if done < state["last"] or (state["total"] and state["last"] >= state["total"]):
                state["base"] += state["total"]
            state["last"], state["total"] = done, total
            self.count = state["base"] + done
            self.reports += 1
            if self.log and not self.announced:
                self._say(self._start_line())
                self.announced = True
            if self.bar is not None:
                self.bar.n = min(self.count, self.total)
                self.bar.refresh()

        return update

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
        if not self.announced:
            return
        elapsed = _duration(time.monotonic() - self.started)
        ran = self.count - self.found
        stopped = f"after {ran:,} of {_count(self.total - self.found, self.unit)} ({elapsed})"
        if kind is None:
            self._say(f"done, {_count(ran, self.unit)} in {elapsed}")
        elif issubclass(kind, KeyboardInterrupt):
            PROGRESS.set(stopped)  # said in the command's one interrupted line (cli/main.py)
        else:
            self._say(f"stopped {stopped}")

    def _start_line(self) -> str:
        noun = "simulation run" if self.unit == "run" else self.unit
        line = _count(self.total, noun)
        return f"{line}, {self.found:,} found done ..." if self.found else f"{line} ..."

    def _say(self, text: str) -> None:
        print(f"{COMMAND.get()}: {text}", file=sys.stderr, flush=True)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _duration(seconds: float) -> str:
    """``2.3 s``, ``38 s``, ``4 min 12 s``, ``1 h 05 min``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 120:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
