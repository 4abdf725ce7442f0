"""The report across a posterior: it opens with the recommended plan's gain over today's in every parameter set,
the point estimate's plan beside it, both plans' outcomes side by side, and the next test."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from conftest import small_data
from mixsim.report import report_run_count, run_report
from mixsim.report.facts import money
from mixsim.scenario import parse_scenario
from mixsim.uncertainty import ParameterSets, Risk

RunCli = Callable[..., tuple[int, str, str]]
SETS = ParameterSets(("channels.search.p_convert",), np.array([[0.002], [0.05], [0.01]]), "posterior.csv")


def test_the_report_opens_with_the_plan_across_the_posterior() -> None:
    scenario = parse_scenario(small_data(), source="small.toml")
    calls: list[tuple[int, int]] = []
    report = run_report(
        scenario, seed=1, replications=2, posterior=SETS, risk=Risk.parse("cvar:0.34"), worlds=3,
        progress=lambda d, t: calls.append((d, t)),
    )  # fmt: skip
    assert sum(total for done, total in calls if done == total) == report_run_count(scenario, 2, worlds=3)
    assert report.robust is not None and report.tests is not None and report.robust.check is not None
    html = report.to_html()
    opening = html[html.index("Summary across the posterior") : html.index("<h2>Summary</h2>")]
    gain = report.robust.check.to_dict()["variants"]["risk plan"]["revenue"]["gain"]
    assert f"<b>Gain</b>: {money(gain['mean'], sign=True)} revenue" in opening
    assert "best under cvar:0.34 across 3 parameter sets from posterior.csv" in opening
    assert f"<b>Next test</b>: {report.tests.best.channel}," in opening
    assert len(re.findall(r"data:image/png;base64,", opening)) == 1  # the outcomes side by side
    assert html.index("Summary across the posterior") < html.index("<h2>Assumptions</h2>")


def test_a_report_without_a_posterior_has_no_such_opening() -> None:
    scenario = parse_scenario(small_data(), source="small.toml")
    report = run_report(scenario, seed=1, replications=2)
    assert report.robust is None and "Summary across the posterior" not in report.to_html()


def test_report_with_a_posterior_on_the_command_line(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.search.p_convert\n0.002\n0.05\n", encoding="utf-8")
    target = tmp_path / "report.html"
    code, _out, err = run_cli("report", scenario_file, "-r", "2", "-w", "1", "--posterior", posterior, "--out", target)
    assert code == 0, err
    assert "Summary across the posterior" in target.read_text(encoding="utf-8")
    code, _out, err = run_cli("report", scenario_file, "--risk", "cvar:0.2", "--out", tmp_path / "r2.html")
    assert code == 2 and "--risk: only with --posterior" in err
    code, _out, err = run_cli("report", scenario_file, "--posterior", posterior, "--risk", "cvar:2")
    assert code == 2 and "cvar:A needs a share A of the worst worlds, 0 < A <= 1" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("channels.search.p_convert\nmany\n", encoding="utf-8")
    code, _out, err = run_cli("report", scenario_file, "--posterior", bad, "--out", tmp_path / "r3.html")
    assert code == 2 and "bad.csv" in err and "Traceback" not in err
    assert not (tmp_path / "r2.html").exists() and not (tmp_path / "r3.html").exists()
