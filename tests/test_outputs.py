"""Progress on stderr: a live bar on a terminal; in a log, one line when the runs start and one when they end.

A command whose stderr goes to a file or a pipe (cron, CI, ``2> log``) must leave a log that says what ran and how
long it took, without a carriage-return bar or a line per run, and must keep stdout for its output (pure JSON under
``--json``). A terminal keeps its bar.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mixsim import cli
from mixsim.cli._running import COMMAND, PROGRESS, interrupted_line
from mixsim.cli.outputs import ProgressBar

ROOT = Path(__file__).resolve().parents[1]
RunCli = Callable[..., tuple[int, str, str]]


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def named() -> Iterator[None]:
    token, progress = COMMAND.set("mixsim test"), PROGRESS.set("")
    yield
    COMMAND.reset(token)
    PROGRESS.reset(progress)


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    out, err = capsys.readouterr()
    assert out == "" and "\r" not in err
    return err.splitlines()


DONE = r"mixsim test: done, {} in [0-9.]+ s"


# --------------------------------------------------------------------------------------------------------------
# In a log


def test_a_log_gets_a_line_at_the_start_and_one_at_the_end(capsys: pytest.CaptureFixture[str], named: None) -> None:
    with ProgressBar(40) as update:
        assert update is not None
        for done in range(1, 41):
            update(done, 40)
            if done == 1:
                assert lines(capsys) == ["mixsim test: 40 simulation runs ..."]  # as the runs start, not at the end
    start_and_done = lines(capsys)
    assert len(start_and_done) == 1 and re.fullmatch(DONE.format("40 runs"), start_and_done[0])


def test_measurements_that_report_in_batches_add_up(capsys: pytest.CaptureFixture[str], named: None) -> None:
    """Runs go in batches: a measurement's first report may count more than the last one's final report did."""
    with ProgressBar(14) as update:
        for done, total in ((2, 2), (4, 6), (6, 6), (3, 6), (6, 6)):
            update(done, total)
    start, done = lines(capsys)
    assert start == "mixsim test: 14 simulation runs ..." and re.fullmatch(DONE.format("14 runs"), done)


def test_measurements_that_count_from_one_again_add_up(capsys: pytest.CaptureFixture[str], named: None) -> None:
    """The closed loop measures several times, each counting from 1, and may stop before its announced total."""
    with ProgressBar(12) as update:
        for total in (3, 2, 4):
            for done in range(1, total + 1):
                update(done, total)
    start, done = lines(capsys)
    assert start == "mixsim test: 12 simulation runs ..." and re.fullmatch(DONE.format("9 runs"), done)


def test_a_request_refused_before_any_run_leaves_no_line(capsys: pytest.CaptureFixture[str], named: None) -> None:
    with pytest.raises(ValueError), ProgressBar(10):
        raise ValueError("refused")
    assert lines(capsys) == []


def test_runs_cut_short_say_how_far_they_got(capsys: pytest.CaptureFixture[str], named: None) -> None:
    with pytest.raises(RuntimeError), ProgressBar(5) as update:
        update(1, 5)
        update(2, 5)
        raise RuntimeError("a worker was lost")
    start, stopped = lines(capsys)
    assert start == "mixsim test: 5 simulation runs ..."
    assert re.fullmatch(r"mixsim test: stopped after 2 of 5 runs \([0-9.]+ s\)", stopped), stopped


def test_runs_interrupted_leave_how_far_they_got_to_the_one_interrupted_line(
    capsys: pytest.CaptureFixture[str], named: None
) -> None:
    """Ctrl-C (or SIGTERM) ends a command with exactly one line (cli/main.py), which says how far the runs got."""
    with pytest.raises(KeyboardInterrupt), ProgressBar(5) as update:
        update(1, 5)
        update(2, 5)
        raise KeyboardInterrupt
    assert lines(capsys) == ["mixsim test: 5 simulation runs ..."]
    assert re.fullmatch(r"after 2 of 5 runs \([0-9.]+ s\)", PROGRESS.get()), PROGRESS.get()
    assert re.fullmatch(
        r"mixsim test: interrupted after 2 of 5 runs \([0-9.]+ s\); no output file was left half-written",
        interrupted_line(KeyboardInterrupt()),
    )


def test_a_resumed_sweep_counts_the_cells_it_ran(capsys: pytest.CaptureFixture[str], named: None) -> None:
    with ProgressBar(12, unit="cell") as update:
        for done in range(8, 13):  # the first report, before any cell runs, is of the cells found done
            update(done, 12)
    start, done = lines(capsys)
    assert start == "mixsim test: 12 cells, 8 found done ..." and re.fullmatch(DONE.format("4 cells"), done)
    with ProgressBar(1, unit="cell") as update:
        update(0, 1)
        update(1, 1)
    start, done = lines(capsys)
    assert start == "mixsim test: 1 cell ..." and re.fullmatch(DONE.format("1 cell"), done)


def test_the_log_lines_stay_under_json(capsys: pytest.CaptureFixture[str], named: None) -> None:
    """``enabled=False`` (a command under --json) turns off the terminal's bar, not the log's two lines."""
    with ProgressBar(2, enabled=False) as update:
        update(1, 2)
        update(2, 2)
    assert len(lines(capsys)) == 2


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0 s"), (2.34, "2.3 s"), (38.4, "38 s"), (252.0, "4 min 12 s"), (3900.0, "1 h 05 min")],
)
def test_durations_read_as_a_person_would_say_them(seconds: float, text: str) -> None:
    from mixsim.cli.outputs import _duration

    assert _duration(seconds) == text


def test_a_real_process_logs_two_lines_and_keeps_stdout_json(scenario_file: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "mixsim.cli", "simulate", str(scenario_file), "--json", "-r", "2", "-w", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["replications"] == 2  # stdout is the JSON and nothing else
    assert "\r" not in done.stderr
    start, end = done.stderr.splitlines()
    assert start == "mixsim simulate: 2 simulation runs ..."
    assert re.fullmatch(r"mixsim simulate: done, 2 runs in [0-9.]+ s", end), end


def test_a_command_logs_under_its_own_name(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("curves", scenario_file, "-r", "1", "--levels", "0,0.5,1", "-w", "1")
    assert code == 0 and out
    start, end = err.splitlines()
    assert re.fullmatch(r"mixsim curves: \d+ simulation runs \.\.\.", start), start
    assert re.fullmatch(r"mixsim curves: done, \d+ runs in [0-9.]+ s", end), end


# --------------------------------------------------------------------------------------------------------------
# On a terminal


def test_a_terminal_gets_the_bar_and_no_log_lines(monkeypatch: pytest.MonkeyPatch, named: None) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(ProgressBar, "DELAY", 0.0)
    with ProgressBar(3) as update:
        for done in range(1, 4):
            update(done, 3)
    shown = screen.getvalue()
    assert "\r" in shown and "3/3" in shown, shown
    assert "mixsim test" not in shown and "simulation runs" not in shown


def test_a_command_on_a_terminal_draws_its_bar(monkeypatch: pytest.MonkeyPatch, scenario_file: Path) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(ProgressBar, "DELAY", 0.0)
    assert cli.main(["simulate", str(scenario_file), "-r", "2", "-w", "1"]) == 0
    shown = screen.getvalue()
    assert "\r" in shown and "2/2" in shown and "mixsim simulate:" not in shown, shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("report", "{scenario}", "--out", "r.pdf"),
            "--out r.pdf: the report is written as .html or .htm (got '.pdf')",
        ),
        (("report", "{scenario}", "--out", "report"), "--out report: the report is written as .html or .htm"),
        (("export-mmm", "{scenario}", "--out", "d.xlsx"), "--out d.xlsx: the dataset is written as .csv (got '.xlsx')"),
        (("new", "--template", "d2c_ecommerce", "--out", "x.yaml"), "--out x.yaml: a scenario is written as .toml"),
    ],
)
def test_an_out_file_of_another_format_is_refused_before_any_work(
    run_cli: Callable[..., tuple[int, str, str]],
    scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    """Each of these commands writes one format (HTML, CSV, TOML): under another suffix the file would lie about
    what it holds, so it is refused with one line and exit code 2, as ``optimize --out plan.txt`` is."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(*(a.format(scenario=scenario_file) for a in args))
    assert code == 2 and err.startswith(message), err
    assert err.count("\n") == 1 and out == ""
    assert {p.name for p in tmp_path.iterdir()} <= {scenario_file.name}  # nothing written


@pytest.mark.parametrize(
    ("args", "name"), [(("report", "{scenario}"), "R.HTM"), (("new", "--template", "b2b_saas"), "x.TOML")]
)
def test_the_formats_suffix_is_taken_in_any_case(
    run_cli: Callable[..., tuple[int, str, str]],
    scenario_file: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    name: str,
) -> None:
    if args[0] == "report":
        args = (*args, "-r", "1", "-w", "1")
    code, _, err = run_cli(*(a.format(scenario=scenario_file) for a in args), "--out", tmp_path / name)
    assert code == 0, err
    assert (tmp_path / name).stat().st_size > 0


# --- what --out may name (issue 15.13 and 15.15) ---------------------------------------------------------------


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` made unwritable, for root too (immutable) where the test runs as root."""
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
        if made.returncode != 0:
            pytest.skip("root writes anywhere, and chattr +i is not available here")
        undo = ["chattr", "-i", str(folder)]
    else:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    try:
        yield
    finally:
        subprocess.run(undo, check=False)


def test_a_read_only_out_folder_is_refused_by_name_before_simulating(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    with read_only(out):
        code, stdout, err = run_cli("simulate", scenario_file, "-r", "1", "-w", "1", "--out", out)
    assert code == 2 and stdout == ""
    (line,) = err.splitlines()  # no progress line: nothing was simulated
    assert line.startswith(f"--out {out}: cannot write in {out} ("), line
    assert ".tmp" not in line


def test_a_full_disk_names_the_file_being_written(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mixsim import _files

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files.os, "fsync", full)
    code, _, err = run_cli("simulate", scenario_file, "-r", "1", "-w", "1", "--out", tmp_path / "out")
    monkeypatch.undo()
    assert code == 2
    *progress, line = err.splitlines()  # the runs' two lines, then the one line of the problem
    assert len(progress) == 2
    folder = re.escape(str(tmp_path / "out"))
    assert re.fullmatch(rf"mixsim: cannot write {folder}/\w+\.csv: No space left on device", line), line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["symlink", "pipe"])
@pytest.mark.parametrize(
    "command",
    [
        ("new", "--template", "d2c_ecommerce", "--force", "--out"),
        ("report", "{scenario}", "-r", "1", "-w", "1", "--out"),
        ("export-mmm", "{scenario}", "--weeks", "2", "--out"),
    ],
    ids=["new", "report", "export-mmm"],
)
def test_out_onto_a_link_or_a_device_is_refused_and_left_alone(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path, kind: str, command: tuple[str, ...]
) -> None:
    real = tmp_path / "real.txt"
    real.write_text("keep", encoding="utf-8")
    target = tmp_path / "target.csv"
    if kind == "symlink":
        target.symlink_to(real)
    else:
        os.mkfifo(target)  # a special file like /dev/stdout, which a test must not touch
    args = [str(scenario_file) if word == "{scenario}" else word for word in command]
    code, _, err = run_cli(*args, target)
    what = "a symbolic link" if kind == "symlink" else "a pipe"
    assert code == 2
    assert err.splitlines() == [f"--out {target}: is {what}, not a regular file: mixsim never writes over one"]
    assert target.is_symlink() if kind == "symlink" else stat.S_ISFIFO(os.lstat(target).st_mode)
    assert real.read_text(encoding="utf-8") == "keep"


def test_a_link_inside_the_out_folder_is_refused_and_left_alone(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    real = tmp_path / "real.csv"
    real.write_text("keep", encoding="utf-8")
    (out / "kpis.csv").symlink_to(real)
    code, _, err = run_cli("simulate", scenario_file, "-r", "1", "-w", "1", "--out", out)
    assert code == 2
    assert (
        err.splitlines()[-1] == f"{out}/kpis.csv: is a symbolic link, not a regular file: mixsim never writes over one"
    )
    assert [p.name for p in out.iterdir()] == ["kpis.csv"] and (out / "kpis.csv").is_symlink()
    assert real.read_text(encoding="utf-8") == "keep"
