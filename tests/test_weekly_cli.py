"""`mixsim optimize --by-week`: the flighting chart written, options and committed spend refused before any
simulation, and the verification."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _weekly import small_scenario
from mixsim.optimizer.weekly import week_spend

RunCli = Callable[..., tuple[int, str, str]]


def test_cli_by_week_writes_a_flighting_chart(scenario_file: Path, run_cli: RunCli, tmp_path: Path) -> None:
    committed = tmp_path / "committed.csv"
    committed.write_text("channel,week,spend\ntv,1,500\ntv,2,500\n", encoding="utf-8")
    out = tmp_path / "plan.csv"
    code, text, err = run_cli(
        "optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1",
        "--committed", committed, "--additional", "2000", "--lock", "email", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert "Week-level plan" in text
    wide = pd.read_csv(out, index_col=0)
    assert wide.loc["total", "total"] == pytest.approx(3000.0)  # committed 1,000 + additional 2,000
    assert wide.loc["tv", "1"] >= 500 - 1e-6 and wide.loc["tv", "2"] >= 500 - 1e-6
    np.testing.assert_allclose(wide.loc["email"].iloc[:-1].to_numpy(), week_spend(small_scenario())[2])
    assert (tmp_path / "plan_flighting.png").stat().st_size > 0 and (tmp_path / "plan_flighting.svg").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lock", "radio"), "--lock: no channel 'radio'"),
        (("--week-min", "tv=x"), "must be a number"),
        (("--pacing", "4"), "must be WEEKS:SHARE"),
        (("--additional", "100", "--committed", "missing.csv"), "missing.csv: file not found"),
        (("--additional", "100"), "--additional: only with committed spend"),
        (("--committed", "bought.csv"), "--committed: give the additional money too"),
        (("--additional", "100", "--committed", "bought.csv", "--budget", "5"), "--budget: not with additional money"),
        (("--out", "plan.txt"), "--out plan.txt: a plan is written as .csv, .json or .xlsx (got '.txt')"),
        (("--min-weeks-on", "tv=2.5"), "tv=2.5: must be a whole number of weeks"),
        (("--max-dark-weeks", "tv=1", "--max-dark-weeks", "tv=2"), "tv is given more than once"),
        (("--week-min", "tv=500", "--week-max", "tv=100"), "--week-min: tv: 500 is above its --week-max 100"),
        (("--min-weeks-on", "tv=9"), "--min-weeks-on: tv: must be in [0, 3] (got 9)"),
        (("--levels", "0,0.5,2"), "--levels: must include 1, the plan itself"),
    ],
)
def test_cli_by_week_refuses_bad_options_before_simulating(
    scenario_file: Path, run_cli: RunCli, args: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(scenario_file.parent)
    Path("bought.csv").write_text("channel,week,spend\ntv,1,100\n", encoding="utf-8")  # a committed file that reads
    code, _, err = run_cli("optimize", scenario_file, "--by-week", "-w", "1", *args)
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        ("tv,1,inf\n", (), "row 2: spend: must be a finite number >= 0 (got inf)"),
        ("tv,1.5,100\n", (), "row 2: week: must be a whole number in 1..3 (got 1.5)"),
        ("tv,,100\n", (), "row 2: week: must be a whole number"),
        (" tv ,1e400,100\n", (), "row 2: week: must be a whole number"),
        ("tv,1,100\ntv,1,200\n", (), "tv week 1 is already committed in row 2"),
        ("email,1,500\n", ("--lock", "email"), "email is locked at its flighting (105 in week 1) but 500"),
        ("tv,1,500\n", ("--week-max", "tv=400"), "tv has 500 committed in week 1, above its --week-max 400"),
        ("tv,1,5000\n", ("--pacing", "1:50%"), "pacing: committed spend and locked channels put 5,000 in weeks 1-1"),
    ],
)
def test_cli_by_week_refuses_committed_spend_that_cannot_hold(
    scenario_file: Path, run_cli: RunCli, tmp_path: Path, rows: str, extra: tuple[str, ...], message: str
) -> None:
    committed = tmp_path / "committed.csv"
    committed.write_text("channel,week,spend\n" + rows, encoding="utf-8")
    code, _, err = run_cli("optimize", scenario_file, "--by-week", "-w", "1", "--committed", committed,
                           "--additional", "100", *extra)  # fmt: skip
    assert code == 2 and message in err and "Traceback" not in err, err


@pytest.mark.parametrize("args", [("--committed", "spend.csv"), ("--measure-every", "2")])
def test_week_options_need_by_week(scenario_file: Path, run_cli: RunCli, args: tuple[str, ...]) -> None:
    code, _, err = run_cli("optimize", scenario_file, *args, "-w", "1")
    assert code == 2 and f"{args[0]}: only with --by-week" in err


def test_cli_by_week_measures_every_other_week(scenario_file: Path, run_cli: RunCli) -> None:
    code, text, err = run_cli("optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1",
                              "--measure-every", "2", "--json")  # fmt: skip
    assert code == 0, err
    doc = json.loads(text)
    assert doc["status"] == "optimal" and doc["spend"] == pytest.approx(doc["total"], rel=1e-6)
    assert doc["runs"] == 1 + 3 * 2 * 2  # the plan, then 3 channels x weeks 1 and 3 x levels 0 and 2
    code, _, err = run_cli("optimize", scenario_file, "--by-week", "--measure-every", "0", "-w", "1")
    assert code == 2 and "--measure-every" in err and "Traceback" not in err


def test_cli_by_week_verify_draws_the_projected_funnel(scenario_file: Path, run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    code, text, err = run_cli(
        "optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1", "--verify",
        "--verify-replications", "2", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert "Simulated gain over the current flighting" in text
    assert (tmp_path / "plan_funnel.png").stat().st_size > 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    rows = doc["verification"]["rows"]
    assert doc["status"] == "optimal" and [r["outcome"] for r in rows if r["metric"] == "revenue"] == [
        "current",
        "plan",
        "gain",
    ]


def test_cli_by_week_gives_the_same_bytes_for_the_same_seed(
    scenario_file: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    """The solve's seconds stay out of the JSON and the written plan unless --timings asks for them."""
    runs = []
    for n in (1, 2):
        out = tmp_path / f"plan{n}.json"
        code, text, err = run_cli(
            "optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1", "--seed", "3",
            "--json", "--out", out,
        )  # fmt: skip
        assert code == 0, err
        runs.append((text, out.read_bytes()))
    assert runs[0] == runs[1] and "seconds" not in runs[0][0]
    code, text, err = run_cli(
        "optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1", "--json", "--timings"
    )
    assert code == 0, err
    assert json.loads(text)["solver"]["seconds"] >= 0
