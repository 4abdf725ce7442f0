"""File output: a set of files lands whole or not at all, nothing but a regular file is ever replaced, and a failed
write names the file the user asked for."""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from mixsim import _files
from mixsim.errors import InputError

RunCli = Callable[..., tuple[int, str, str]]


def write_set(folder: Path, run: str, fail_after: int | None = None) -> None:
    with _files.output_set(folder) as staged:
        for i, name in enumerate(("kpis.csv", "channels.csv", "summary.json")):
            if fail_after is not None and i == fail_after:
                raise KeyboardInterrupt
            _files.write_atomic(staged / name, f"{run} {name}")


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_a_set_lands_whole_beside_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    write_set(tmp_path, "old")
    write_set(tmp_path, "new")
    assert contents(tmp_path) == {
        "channels.csv": "new channels.csv",
        "kpis.csv": "new kpis.csv",
        "notes.txt": "mine",
        "summary.json": "new summary.json",
    }


@pytest.mark.parametrize("after", [0, 1, 2])
def test_an_interrupted_set_leaves_the_earlier_one_whole(tmp_path: Path, after: int) -> None:
    out = tmp_path / "out"
    write_set(out, "old")
    with pytest.raises(KeyboardInterrupt):
        write_set(out, "new", fail_after=after)
    assert contents(out) == {n: f"old {n}" for n in ("channels.csv", "kpis.csv", "summary.json")}


def test_an_interrupted_first_set_leaves_no_folder(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        write_set(tmp_path / "out", "new", fail_after=2)
    assert list(tmp_path.iterdir()) == []


def test_a_signal_while_the_set_is_moved_in_waits_for_the_last_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT arrives as the first file is moved into place: the others follow before it takes effect."""
    write_set(tmp_path, "old")
    replace = os.replace

    def replace_and_interrupt(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        replace(src, dst)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(_files.os, "replace", replace_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        with _files.output_set(tmp_path) as staged:
            for name in ("kpis.csv", "channels.csv", "summary.json"):
                (staged / name).write_text(f"new {name}", encoding="utf-8")
    monkeypatch.undo()
    assert contents(tmp_path) == {n: f"new {n}" for n in ("channels.csv", "kpis.csv", "summary.json")}


def test_a_full_disk_names_the_file_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files.os, "fsync", full)
    with pytest.raises(OSError) as caught, _files.output_set(tmp_path / "out") as staged:
        _files.write_atomic(staged / "kpis.csv", "x")
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(tmp_path / "out" / "kpis.csv")
    assert not (tmp_path / "out").exists()


def test_special_files_are_never_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("keep", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    for target, kind in ((link, "a symbolic link"), (pipe, "a pipe"), (tmp_path, "a folder")):
        with pytest.raises(InputError, match=f"is {kind}, not a regular file"):
            _files.write_atomic(target, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "keep"
    with pytest.raises(InputError, match=r"kpis\.csv: is a symbolic link"):
        with _files.output_set(tmp_path) as staged:
            (tmp_path / "kpis.csv").symlink_to(real)
            (staged / "kpis.csv").write_text("new", encoding="utf-8")
    assert (tmp_path / "kpis.csv").is_symlink() and real.read_text(encoding="utf-8") == "keep"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_full_disk_in_a_sweep_names_the_cell_file_and_what_is_saved(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\n"funnel.synergy" = [0.0, 0.1]\n[sweep]\nreplications = 1\n', encoding="utf-8")
    fsync = os.fsync
    calls: list[int] = []

    def full_after_one(fd: int) -> None:
        calls.append(fd)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        fsync(fd)

    monkeypatch.setattr(_files.os, "fsync", full_after_one)
    code, _, err = run_cli("sweep", scenario_file, "--grid", grid, "--out", tmp_path / "cells", "-w", "1")
    monkeypatch.undo()
    line = err.splitlines()[-1]
    assert code == 2
    assert line.startswith(f"mixsim sweep: cannot write {tmp_path / 'cells'}/cell-000001-"), line
    assert line.endswith(
        ": No space left on device; 1 of 2 cells are saved: run the same command again to finish the rest"
    )


def test_files_in_several_folders_land_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plans = [tmp_path / "a" / "plan.csv", tmp_path / "b" / "plan.json"]
    with _files.output_files(plans) as staged:
        for plan in plans:
            _files.write_atomic(staged(plan), "old")
        _files.write_atomic(staged(tmp_path / "a" / "plan_flighting.png"), "old figure")
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")} == {
        "a",
        "b",
        "a/plan.csv",
        "a/plan_flighting.png",
        "b/plan.json",
    }
    with pytest.raises(KeyboardInterrupt), _files.output_files(plans) as staged:
        _files.write_atomic(staged(plans[0]), "new")
        raise KeyboardInterrupt  # before the second plan and the figure
    assert [p.read_text(encoding="utf-8") for p in plans] == ["old", "old"]
    assert not [p for p in tmp_path.rglob(".*")]
