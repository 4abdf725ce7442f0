"""What the commands share around their work: output paths checked before any work, the memory a run needs,
the progress bar, and the figure formats."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from mixsim.errors import MixsimError
from mixsim.executors import scheduler_from
from mixsim.memory import memory_available, memory_needed
from mixsim.scenario import Scenario

FIGURE_FORMATS = ("png", "svg")
"""Every figure the command saves is saved in each of these."""


def check_memory(scenario: Scenario, args: argparse.Namespace, journeys: float = 0.0, runs: int | None = None) -> None:
    """Refuse, before any work, a run this machine cannot hold (runs on a Dask cluster use its workers' memory).

    ``runs``: how many runs the command makes; no more than that many run at once, whatever ``--workers``.
    """
    if scheduler_from(args.scheduler) not in (None, "local"):
        return
    at_once = min(args.workers, runs) if runs is not None else args.workers
    need = memory_needed(scenario, journeys) * at_once
    have = memory_available()
    if have is not None and need > have:
        raise MixsimError(
            f"{args.scenario}: scenario.population {scenario.population:,} needs about {_bytes(need)} of memory "
            f"({at_once} run(s) at once) and this machine has {_bytes(have)} available: lower the "
            "population or --workers, or run on a cluster (--scheduler)"
        )


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def out_dir(text: str | None) -> Path | None:
    if not text:
        return None
    check_writable(Path(text), directory=True)
    return Path(text)


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
    """Refuse an output path that cannot be written, before any work is done."""
    if directory and path.exists() and not path.is_dir():
        raise MixsimError(f"--out {path}: exists and is not a directory")
    if not directory and path.is_dir():
        raise MixsimError(f"--out {path}: is a directory (give a file name)")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise MixsimError(f"--out {path}: {parent} is a file, not a directory")
            if not os.access(parent, os.W_OK):
                raise MixsimError(f"--out {path}: cannot write in {parent}")
            break


class ProgressBar:
    """A progress bar on stderr for runs longer than a moment; silent when stderr is not a terminal."""

    def __init__(self, total: int, enabled: bool = True, unit: str = "run") -> None:
        self.total = total
        self.unit = unit
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, unit=self.unit, delay=1.5, file=sys.stderr, leave=False)

        # Several measurements may report in turn, each counting from 1: carry the finished ones forward.
        state = {"base": 0, "last": 0, "total": 0}

        def update(done: int, total: int) -> None:
            if self.bar.n == 0 and state["base"] == 0 and done > 0 and state["last"] == 0:
                self.bar.initial = done  # work found already done (a resumed sweep) is not this session's rate
            if done < state["last"]:
                state["base"] += state["total"]
            state["last"], state["total"] = done, total
            self.bar.n = min(state["base"] + done, self.total)
            self.bar.refresh()

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
