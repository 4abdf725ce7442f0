"""The optimizer's commands: ``mixsim curves``, ``mixsim optimize`` and ``mixsim frontier``."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook

from conftest import SMALL_TOML
from mixsim.optimizer.objectives import OBJECTIVES

RunCli = Callable[..., tuple[int, str, str]]
QUICK = ("--workers", "1", "-r", "2", "--levels", "0,0.5,1,2")
CHANNELS = ["tv", "search", "email"]
HILL_CSV = (
    "channel,ymax,half_saturation,slope,max_spend,current\n"
    "tv,90000,20000,0.9,100000,30000\n"
    "radio,30000,8000,1.0,60000,10000\n"
    "social,60000,15000,0.8,80000,20000\n"
)


def optimize_json(run_cli: RunCli, *args: str | Path) -> dict[str, Any]:
    code, out, err = run_cli("optimize", *args, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def hill_file(tmp_path: Path) -> Path:
    path = tmp_path / "hill.csv"
    path.write_text(HILL_CSV, encoding="utf-8")
    return path


def test_optimize_json_contract(run_cli: RunCli, scenario_file: Path) -> None:
    plan = optimize_json(run_cli, scenario_file, *QUICK, "--iterations", "2")
    assert plan["status"] == "optimal" and plan["objective"] == "revenue"
    for key in ("budget", "allocation", "projected", "marginal_return", "shadow_price", "binding", "solver"):
        assert key in plan
    assert list(plan["allocation"]) == CHANNELS
    assert plan["budget"] == pytest.approx(3800.0)  # no [budget] table: the sum of channel spends
    assert plan["projected"]["spend"] <= plan["budget"] + 1e-6
    assert sum(plan["allocation"].values()) <= plan["budget"] + 1e-6
    assert set(plan["marginal_return"]) == set(CHANNELS)
    assert 1 <= plan["solver"]["iterations"] <= 2
    assert len(plan["solver"]["moves"]) == plan["solver"]["iterations"] - 1
    for b in plan["binding"]:
        assert set(b) == {"name", "bound", "shadow_price"}


def test_optimize_is_reproducible(run_cli: RunCli, scenario_file: Path) -> None:
    one = optimize_json(run_cli, scenario_file, *QUICK, "--iterations", "1", "--seed", "5")
    two = optimize_json(run_cli, scenario_file, *QUICK, "--iterations", "1", "--seed", "5")
    assert one["allocation"] == two["allocation"]


def test_verify_reports_projected_against_simulated(run_cli: RunCli, scenario_file: Path) -> None:
    plan = optimize_json(run_cli, scenario_file, *QUICK, "--iterations", "1", "--verify", "--verify-replications", "3")
    rows = {(r["metric"], r["outcome"]): r for r in plan["verification"]["rows"]}
    assert plan["verification"]["replications"] == 3
    for key in [("revenue", "plan"), ("revenue", "current"), ("revenue", "gain"), ("conversions", "gain")]:
        row = rows[key]
        assert row["ci90_low"] <= row["simulated"] <= row["ci90_high"]
        assert row["projected"] is not None
    # The gain is simulated with common random numbers: it is the difference of the paired runs.
    gain = rows[("revenue", "gain")]["simulated"]
    assert gain == pytest.approx(rows[("revenue", "plan")]["simulated"] - rows[("revenue", "current")]["simulated"])


def test_table_report(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("optimize", scenario_file, *QUICK, "--iterations", "1")
    assert code == 0, err
    for word in [*CHANNELS, "total", "Shadow price of the budget", "Binding constraints", "Solver"]:
        assert word in out


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx"])
def test_exports(run_cli: RunCli, hill_file: Path, tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"plan{suffix}"
    code, out, err = run_cli("optimize", "--curves", hill_file, "--budget", "60000", "--out", target)
    assert code == 0, err
    assert f"Plan written to {target}" in out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    if suffix == ".csv":
        rows = list(csv.DictReader(target.open(encoding="utf-8")))
        assert [r["channel"] for r in rows] == ["tv", "radio", "social", "total"]
        assert [r["kind"] for r in rows] == ["channel"] * 3 + ["total"]  # a reader can drop the totals row
        spends = [float(r["spend"]) for r in rows]
        assert spends[-1] == pytest.approx(sum(spends[:-1]))
        assert spends[-1] == pytest.approx(60000.0, rel=1e-6)
        assert sum(float(r["share"]) for r in rows[:-1]) == pytest.approx(1.0)
    elif suffix == ".json":
        doc = json.loads(target.read_text(encoding="utf-8"))
        assert doc["status"] == "optimal" and sum(doc["allocation"].values()) == pytest.approx(60000.0)
    else:
        book = load_workbook(target)
        assert book.sheetnames == ["Allocation", "Totals", "Assumptions"]
        sheet = book["Allocation"]
        header = [c.value for c in sheet[1]]
        assert header[:5] == ["Channel", "Book (buy to place)", "Booked today", "Book change", "Spend (delivered)"]
        assert "Marginal return per $" in header
        # The data rows only: the totals are on their own sheet, with the same columns.
        assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["tv", "radio", "social"]
        assert sheet.cell(row=2, column=2).number_format == "#,##0"
        totals = book["Totals"]
        assert [c.value for c in totals[1]] == header and totals.cell(row=2, column=1).value == "total"
        spend = header.index("Spend (delivered)") + 1
        assert totals.cell(row=2, column=spend).value == sum(sheet.cell(row=i, column=spend).value for i in (2, 3, 4))
        items = {row[0].value: row[1].value for row in book["Assumptions"].iter_rows(min_row=2)}
        assert items["objective"] == "revenue" and items["budget"] == 60000


def test_export_to_an_unknown_format_is_refused_before_any_work(run_cli: RunCli, hill_file: Path) -> None:
    code, _, err = run_cli("optimize", "--curves", hill_file, "--budget", "1000", "--out", "plan.txt")
    assert code == 2 and ".csv, .json or .xlsx" in err


def test_curves_file_form_and_solvers_agree(run_cli: RunCli, hill_file: Path) -> None:
    highs = optimize_json(run_cli, "--curves", hill_file, "--budget", "60000", "--solver", "highs")
    cbc = optimize_json(run_cli, "--curves", hill_file, "--budget", "60000", "--solver", "cbc")
    assert highs["solver"]["name"] == "highs" and cbc["solver"]["name"] == "cbc"
    for name in highs["allocation"]:
        assert highs["allocation"][name] == pytest.approx(cbc["allocation"][name], abs=1.0)
    assert highs["shadow_price"] == pytest.approx(cbc["shadow_price"], rel=1e-6)
    assert highs["shadow_price"] > 0


def test_max_change_holds(run_cli: RunCli, hill_file: Path) -> None:
    plan = optimize_json(run_cli, "--curves", hill_file, "--budget", "60000", "--max-change", "20%")
    for name, now in plan["current"].items():
        assert now * 0.8 - 1e-6 <= plan["allocation"][name] <= now * 1.2 + 1e-6


def test_objectives_in_conversions_need_an_order_value(run_cli: RunCli, hill_file: Path) -> None:
    code, _, err = run_cli("optimize", "--curves", hill_file, "--budget", "6e4", "--objective", "conversions")
    assert code == 2 and "--order-value" in err
    plan = optimize_json(
        run_cli, "--curves", hill_file, "--budget", "6e4", "--objective", "conversions", "--order-value", "40"
    )
    assert plan["projected"]["conversions"] == pytest.approx(plan["projected"]["revenue"] / 40)


def test_min_spend_objective_reaches_its_target(run_cli: RunCli, hill_file: Path) -> None:
    plan = optimize_json(
        run_cli,
        *("--curves", hill_file, "--budget", "2e5", "--objective", "min-spend"),
        *("--target", "1000", "--order-value", "50"),
    )
    assert plan["projected"]["conversions"] >= 1000 * (1 - 1e-6)
    assert plan["projected"]["spend"] < 2e5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # 90% of each channel's spend, and tv's fixed cost, are more than 1,000 whatever search delivers.
        (["--budget", "1000", "--max-change", "10%"], "but the budget is 1,000"),
        (
            ["--max-change", "10%", "--set", "budget.limits.tv={min=2500}"],
            "channel tv: its minimum 2,500 (budget.limits) is above its maximum 2,200 (--max-change 10%)",
        ),
        (["--budget", "1000", "--set", "budget.limits.tv={min=1500}"], "channel minimums add to 1,800 but the budget"),
    ],
)
def test_infeasible_constraints_exit_3_with_a_sentence(
    run_cli: RunCli, scenario_file: Path, args: list[str], message: str
) -> None:
    code, out, err = run_cli("optimize", scenario_file, *QUICK, "--iterations", "1", *args)
    assert code == 3
    assert message in err
    assert "Traceback" not in err and out == ""


def test_infeasible_with_json_prints_the_status_too(run_cli: RunCli, hill_file: Path) -> None:
    code, out, err = run_cli("optimize", "--curves", hill_file, "--budget", "100", "--max-change", "0%", "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc["status"] == "infeasible" and "60,000 but the budget is 100" in doc["message"]
    assert "60,000 but the budget is 100" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a SCENARIO file or --curves FILE"),
        (["--curves", "x.csv", "scenario.toml"], "give a SCENARIO file or --curves FILE"),
        (["--curves", "{hill}"], "--budget: required with --curves"),
        (["--curves", "{hill}", "--budget", "5", "--verify"], "--verify: needs a SCENARIO"),
        (["--curves", "{hill}", "--budget", "5", "--set", "a=1"], "--set: only with a SCENARIO"),
        (["--curves", "{hill}", "--budget", "-5"], "must be a finite number >= 0"),
        (["--curves", "{hill}", "--budget", "2e15"], "--budget: must be at most 1e15 (got 2e15)"),
        (["--curves", "{hill}", "--budget", "5", "--objective", "cpa"], "--target: objective cpa needs one"),
        (["--curves", "{hill}", "--budget", "5", "--solver", "gurobi"], "invalid choice"),
        (["--curves", "{hill}", "--budget", "5", "--seed", "3", "-r", "9"], "--seed, --replications: only with a"),
        (["--curves", "{hill}", "--budget", "5", "--levels", "0,1,2"], "--levels: only with a SCENARIO"),
    ],
)
def test_bad_optimize_arguments_exit_2(run_cli: RunCli, hill_file: Path, args: list[str], message: str) -> None:
    code, _, err = run_cli("optimize", *[a.replace("{hill}", str(hill_file)) for a in args])
    assert code == 2
    assert message in err


def test_bad_curves_file_exits_2_naming_the_file(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("channel,spend,response\ntv,1,x\n", encoding="utf-8")
    code, _, err = run_cli("optimize", "--curves", path, "--budget", "10")
    assert code == 2
    assert f"{path}: row 2: response: must be a number (got 'x')" in err


def test_curves_command_writes_points_fits_and_a_figure(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "curves"
    code, text, err = run_cli("curves", scenario_file, *QUICK, "--out", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["curve_fits.csv", "curve_points.csv", "curves.png", "curves.svg"]
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fits = list(csv.DictReader((out / "curve_fits.csv").open(encoding="utf-8")))
    assert [f["channel"] for f in fits] == CHANNELS
    points = list(csv.DictReader((out / "curve_points.csv").open(encoding="utf-8")))
    assert sorted({p["channel"] for p in points}) == sorted(CHANNELS)
    # Search is capped: levels past what it can deliver spend the same and are kept once.
    assert sum(p["channel"] == "tv" for p in points) == 4
    assert sum(p["channel"] == "search" for p in points) < 4
    for word in [*CHANNELS, "R^2", "mROAS"]:
        assert word in text


def test_optimize_reads_the_files_curves_writes(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    """Issue 15, point 17: ``curves --out D`` then ``optimize --curves D/curve_fits.csv`` (a channel without a fit
    taken from the points beside it) and ``--curves D/curve_points.csv``; the curves read back are the curves
    measured (each point's fitted revenue, as the fits file says), and both plans spend the budget."""
    from mixsim.optimizer.read import read_curves

    out = tmp_path / "curves"
    code, _, err = run_cli(
        "curves", scenario_file, "--workers", "1", "-r", "2", "--levels", "0,0.5,1,1.5,2,3", "--out", out
    )
    assert code == 0, err
    fits = list(csv.DictReader((out / "curve_fits.csv").open(encoding="utf-8")))
    assert {f["ymax"] == "" for f in fits} == {True, False}  # search has too few points for a fit; tv has a fit
    from_fits = read_curves(out / "curve_fits.csv")
    assert from_fits.channels == tuple(CHANNELS)
    for point in csv.DictReader((out / "curve_points.csv").open(encoding="utf-8")):
        curve = from_fits.curve(point["channel"])
        assert float(curve(float(point["spend"]))) == pytest.approx(float(point["fitted_revenue"]), abs=1e-6)
    for fit in fits:
        curve = from_fits.curve(fit["channel"])
        assert curve.to_delivered(curve.current) == pytest.approx(float(fit["current_spend"]))
    for name in ("curve_fits.csv", "curve_points.csv"):
        plan = optimize_json(run_cli, "--curves", out / name, "--budget", "3000")
        assert plan["status"] == "optimal" and list(plan["allocation"]) == CHANNELS
        assert plan["projected"]["spend"] == pytest.approx(3000.0, rel=1e-6)  # media and the fixed cost of tv


def test_a_curves_file_with_a_formula_for_a_name_is_refused_before_any_output(run_cli: RunCli, tmp_path: Path) -> None:
    """Issue 15, points 4 and 5: exit 2 naming the row and the rule; no workbook is written."""
    path = tmp_path / "curves.csv"
    path.write_text('channel,spend,response\n"=HYPERLINK(""http://x"")",0,0\n"=HYPERLINK(""http://x"")",9,5\n'
                    'tv\x07,0,0\ntv\x07,9,4\n', encoding="utf-8")  # fmt: skip
    target = tmp_path / "plan.xlsx"
    code, out, err = run_cli("optimize", "--curves", path, "--budget", "10", "--out", target)
    rule = "channel name must be letters, digits and underscores, not starting with a digit"
    assert code == 2 and out == "" and not target.exists()
    assert err.splitlines() == [
        f"{path}: row 2: channel: {rule} (got '=HYPERLINK(\"http://x\")')",
        f"{path}: row 3: channel: {rule} (got '=HYPERLINK(\"http://x\")')",
        f"{path}: row 4: channel: {rule} (got 'tv\\x07')",
        f"{path}: row 5: channel: {rule} (got 'tv\\x07')",
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("tv,1000,1e-300,1", "row 2: half_saturation: must be at least 0.001 (got 1e-300)"),
        ("tv,1e308,100,1", "row 2: ymax: must be at most 1e+15 (got 1e308)"),
    ],
)
def test_curves_that_cannot_be_solved_exit_2(run_cli: RunCli, tmp_path: Path, row: str, message: str) -> None:
    """Issue 15, point 10: refused at reading, instead of a plan of 0 or the solver's 'Unbounded'."""
    path = tmp_path / "hill.csv"
    path.write_text(f"channel,ymax,half_saturation,slope\n{row}\nradio,100,10,1\n", encoding="utf-8")
    code, _, err = run_cli("optimize", "--curves", path, "--budget", "3e9")
    assert code == 2 and err.splitlines() == [f"{path}: {message}"]


def test_curves_json(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("curves", scenario_file, *QUICK, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["replications"] == 2 and [f["channel"] for f in doc["fits"]] == CHANNELS


def test_frontier_from_curves_file(run_cli: RunCli, hill_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "frontier"
    code, text, err = run_cli("frontier", "--curves", hill_file, "--budgets", "10000:240000:6", "--out", out)
    assert code == 0, err
    rows = list(csv.DictReader((out / "frontier.csv").open(encoding="utf-8")))
    assert [float(r["budget"]) for r in rows] == pytest.approx(list(np.linspace(10000, 240000, 6)))
    revenue = [float(r["revenue"]) for r in rows]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(revenue))
    # Past the curves' ends (240,000 in all) there is nothing left to buy: the next dollar returns nothing.
    assert float(rows[-1]["marginal_return"]) == pytest.approx(0.0, abs=1e-9)
    assert float(rows[0]["marginal_return"]) > float(rows[3]["marginal_return"]) > 0
    assert (out / "frontier.png").read_bytes()[:4] == b"\x89PNG"
    assert "next $" in text


def test_frontier_from_a_scenario(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("frontier", scenario_file, *QUICK, "--budgets", "500:6000:3", "--json")
    assert code == 0, err
    rows = json.loads(out)["budgets"]
    assert len(rows) == 3 and all(r["status"] == "optimal" for r in rows)
    assert rows[0]["spend"] <= 500 + 1e-6


@pytest.mark.parametrize("budgets", ["1:2", "5:1:3", "a:b:c", "1:2:0"])
def test_bad_budgets_exit_2(run_cli: RunCli, hill_file: Path, budgets: str) -> None:
    code, _, err = run_cli("frontier", "--curves", hill_file, "--budgets", budgets)
    assert code == 2 and "--budgets" in err


def test_real_process_exits_3_when_infeasible(hill_file: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mixsim.cli",
            "optimize",
            "--curves",
            str(hill_file),
            "--budget",
            "10",
            "--max-change",
            "0",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3
    assert "but the budget is 10" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "5"], "--target: only with objective min-spend, cpa, roas"),
        (["--margin", "1.5"], "must be between 0 and 1"),
        (["--objective", "roas"], "--target: objective roas needs one"),
    ],
)
def test_mistakes_are_refused_before_any_work(run_cli: RunCli, hill_file: Path, args: list[str], message: str) -> None:
    code, _, err = run_cli("optimize", "--curves", hill_file, "--budget", "5000", *args)
    assert code == 2 and message in err


def test_max_change_needs_a_current_plan(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("channel,spend,response\na,0,0\na,100,50\nb,0,0\nb,100,80\n", encoding="utf-8")
    code, _, err = run_cli("optimize", "--curves", path, "--budget", "100", "--max-change", "30%")
    assert code == 2 and "gives no current spend" in err


@pytest.mark.parametrize("where", ["dir", "under_a_file"])
def test_an_output_that_cannot_be_written_is_refused_first(
    run_cli: RunCli, hill_file: Path, tmp_path: Path, where: str
) -> None:
    if where == "dir":
        target = tmp_path / "plan.csv"
        target.mkdir()
        expected = "is a directory"
    else:
        (tmp_path / "file").write_text("x", encoding="utf-8")
        target = tmp_path / "file" / "plan.csv"
        expected = "is a file, not a directory"
    code, _, err = run_cli("optimize", "--curves", hill_file, "--budget", "5000", "--out", target)
    assert code == 2 and expected in err and "Traceback" not in err


def test_frontier_with_no_feasible_budget_exits_3(run_cli: RunCli, hill_file: Path) -> None:
    code, _, err = run_cli("frontier", "--curves", hill_file, "--budgets", "10:100:3", "--max-change", "0%")
    assert code == 3
    assert "no budget from 10 to 100 is feasible" in err and "channel minimums add to 60,000" in err


def test_groups_that_need_more_than_all_the_spend_are_infeasible(run_cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "groups.toml"
    groups = (
        '\n[budget]\ntotal = 3800\n[[budget.groups]]\nname = "brand"\nchannels = ["tv"]\nmin_share = 0.6\n'
        '[[budget.groups]]\nname = "perf"\nchannels = ["search", "email"]\nmin_share = 0.6\n'
    )
    path.write_text(SMALL_TOML + groups, encoding="utf-8")
    code, _, err = run_cli("optimize", path, *QUICK, "--iterations", "1")
    assert code == 3
    assert "groups brand and perf share no channel but must have at least 60% and 60% of spend" in err


def test_objective_choices_and_target_help_come_from_the_objectives_table(run_cli: RunCli) -> None:
    code, out, _ = run_cli("optimize", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "{" + ",".join(OBJECTIVES) + "}" in text
    for o in OBJECTIVES.values():
        if o.needs_target:
            assert f"{o.target} for {o.name}" in text


def test_the_text_report_reads_its_headline_and_unit_from_the_table(run_cli: RunCli, hill_file: Path) -> None:
    code, out, err = run_cli(
        "optimize",
        *("--curves", hill_file, "--budget", "2e5", "--objective", "min-spend"),
        *("--target", "1000", "--order-value", "50"),
    )
    assert code == 0, err
    assert "Plan: least spend reaching 1,000 conversions" in out
    assert "of spend saved per extra dollar" in out


def test_binding_constraints_are_reported_in_flags(run_cli: RunCli, hill_file: Path) -> None:
    code, out, err = run_cli("optimize", "--curves", hill_file, "--budget", "60000", "--max-change", "5%")
    assert code == 0, err
    assert "(--max-change 5%)" in out and "max_change" not in out


def test_several_out_files_in_one_run_carry_the_same_plan(run_cli: RunCli, hill_file: Path, tmp_path: Path) -> None:
    paths = [tmp_path / "plan.xlsx", tmp_path / "plan.csv", tmp_path / "plan.json"]
    args = [a for p in paths for a in ("--out", p)]
    code, out, err = run_cli("optimize", "--curves", hill_file, "--budget", "60000", *args)
    assert code == 0, err
    assert all(p.exists() for p in paths) and all(str(p) in out for p in paths)
    rows = list(csv.DictReader(paths[1].open(encoding="utf-8")))
    doc = json.loads(paths[2].read_text(encoding="utf-8"))
    sheet = load_workbook(paths[0])["Allocation"]
    header = [c.value for c in sheet[1]]
    column = header.index("Spend (delivered)") + 1
    from_xlsx = {sheet.cell(row=i, column=1).value: sheet.cell(row=i, column=column).value for i in range(2, 5)}
    from_csv = {r["channel"]: float(r["spend"]) for r in rows if r["kind"] == "channel"}
    assert from_xlsx == from_csv
    assert from_csv == {k: pytest.approx(v, abs=1.0) for k, v in doc["allocation"].items()}


def test_the_same_out_file_twice_is_refused_before_any_work(run_cli: RunCli, hill_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "plan.csv"
    code, _, err = run_cli("optimize", "--curves", hill_file, "--budget", "60000", "--out", target, "--out", target)
    assert code == 2 and "given twice" in err and not target.exists()


def test_lock_works_without_by_week_and_is_recorded(run_cli: RunCli, hill_file: Path, tmp_path: Path) -> None:
    free = optimize_json(run_cli, "--curves", hill_file, "--budget", "60000")
    locked = optimize_json(run_cli, "--curves", hill_file, "--budget", "60000", "--lock", "radio")
    current = locked["current"]["radio"]
    assert free["allocation"]["radio"] != pytest.approx(current)  # the lock changes something
    assert locked["allocation"]["radio"] == pytest.approx(current)
    assert locked["constraints"]["locked"] == ["radio"]
    assert sum(locked["allocation"].values()) == pytest.approx(60000.0, rel=1e-6)
    code, _, err = run_cli("optimize", "--curves", hill_file, "--budget", "60000", "--lock", "radi0")
    assert code == 2 and "radi0" in err and "Traceback" not in err


def sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every cell value of a workbook, by sheet (the file's bytes carry the time it was written)."""
    book = load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_the_same_run_gives_the_same_bytes(run_cli: RunCli, hill_file: Path, tmp_path: Path) -> None:
    """Seconds spent solving once made two identical runs differ: they are in the text report only, and in the
    JSON with --timings."""
    runs = []
    for n in (1, 2):
        outs = [tmp_path / f"plan{n}.{suffix}" for suffix in ("json", "csv", "xlsx")]
        code, out, err = run_cli(
            "optimize", "--curves", hill_file, "--budget", "150000", "--json", *(f"--out={o}" for o in outs)
        )
        assert code == 0, err
        runs.append((out, *(o.read_bytes() for o in outs[:2]), sheets(outs[2])))
    assert runs[0] == runs[1]
    assert "seconds" not in runs[0][0] and "seconds" not in str(runs[0][3])
    code, out, err = run_cli("optimize", "--curves", hill_file, "--budget", "150000", "--json", "--timings")
    assert code == 0, err
    solver = json.loads(out)["solver"]
    assert solver["build_seconds"] >= 0 and solver["solve_seconds"] >= 0
    code, text, _ = run_cli("optimize", "--curves", hill_file, "--budget", "150000")
    assert " s (built in " in text  # the text report still says how long it took


def test_a_budget_far_above_the_curves_gives_their_ends(run_cli: RunCli, tmp_path: Path) -> None:
    """--budget 3e9 over curves ending at 2,000 and 3,000 once reported every channel at 0 and revenue 0."""
    path = tmp_path / "points.csv"
    path.write_text("channel,spend,response\na,0,0\na,1000,3000\na,2000,4000\nb,0,0\nb,1500,2500\nb,3000,3500\n")
    for budget in ("1e9", "3e9", "1e12"):
        plan = optimize_json(run_cli, "--curves", path, "--budget", budget)
        assert plan["allocation"] == {"a": 2000.0, "b": 3000.0}
        assert plan["objective_value"] == pytest.approx(7500.0)
