"""The HTML report: everything a strategist needs in one file that references nothing outside itself, and that
a real browser renders."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from conftest import small_data
from mixsim import simulate
from mixsim.optimizer import optimize
from mixsim.optimizer.measure import response_curves
from mixsim.optimizer.plan import Verification
from mixsim.report import assumptions, build_report, caveats, money, price
from mixsim.scenario import load_scenario, parse_scenario

RunCli = Callable[..., tuple[int, str, str]]
# Anything a browser would fetch: src/href/url() that are not data: or in-page anchors, and <link>/<script src>.
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["'](?!data:|#)|url\(\s*["']?(?!data:|#)|<link\b|<script\b[^>]*\bsrc""", re.I
)


@pytest.fixture(scope="module")
def report_html() -> str:
    scenario = parse_scenario(small_data(), source="small.toml")
    result = simulate(scenario, seed=1, replications=2, incrementality=True)
    plan = optimize(scenario, seed=1, replications=2, max_iterations=1)
    curves = response_curves(scenario, seed=1, replications=2)
    return build_report(result, curves, plan)


def test_the_report_references_nothing_outside_itself(report_html: str) -> None:
    assert report_html.startswith("<!DOCTYPE html>")
    assert EXTERNAL.search(report_html) is None
    assert report_html.count('src="data:image/png;base64,') >= 5  # funnel, attribution, journeys, curves, plan


def test_the_detector_finds_external_references() -> None:
    for bad in [
        '<img src="http://x/y.png">',
        "<link rel=stylesheet href='a.css'>",
        "a{background:url(x.png)}",
        '<script src="app.js"></script>',
        '<a href="https://example.com">',
    ]:
        assert EXTERNAL.search(bad), bad
    assert EXTERNAL.search('<img src="data:image/png;base64,AAAA"> <a href="#kpis">') is None


def test_the_report_says_what_a_strategist_needs(report_html: str) -> None:
    for words in [
        "Assumptions",
        "Results",
        "The funnel over time",
        "Channels",
        "Response curves",
        "Optimized plan",
        "What the model does not include",
        "tv",
        "search",
        "email",
        "conversions",
        "roas",
        "90% interval",
    ]:
        assert words in report_html, words
    scenario = parse_scenario(small_data(), source="small.toml")
    for caveat in caveats(scenario, curves=True, plan=True):
        assert caveat.split(";")[0].split(",")[0] in report_html.replace("&#x27;", "'")


def test_the_caveats_are_said_of_the_scenario() -> None:
    flat = parse_scenario(small_data(), source="small.toml")
    assert flat.seasonality is None
    said = " ".join(caveats(flat))
    assert "no seasonality" in said and "weekly multipliers" not in said
    weeks = [1.0] * -(-flat.horizon_days // 7)
    weeks[0], weeks[-1] = 0.8, 1.4
    seasonal = flat.with_overrides([f"seasonality.weekly={weeks}"])
    demand = [c for c in caveats(seasonal) if "multipliers" in c]
    assert len(demand) == 1 and "0.80 to 1.40" in demand[0] and "no seasonality" not in " ".join(caveats(seasonal))
    for words in ["organic", "exposure", "forgetting", "day-of-week"]:
        assert words in demand[0], words
    # Word of mouth and synergy are named only where the scenario has them.
    quiet = flat.with_overrides(["organic.word_of_mouth=0", "funnel.synergy=0"])
    assert "Channels interact only through shared audiences." in caveats(quiet)
    loud = flat.with_overrides(["organic.word_of_mouth=0.05", "funnel.synergy=0.2"])
    assert any("synergy (0.2 per extra channel seen) and word of mouth" in c for c in caveats(loud))
    # The optimizer's caveat only where the report shows curves or a plan.
    assert not any("Response curves" in c for c in caveats(flat)) and any(
        "Response curves" in c for c in caveats(flat, curves=True)
    )


@pytest.mark.parametrize("optimize", [False, True])
def test_run_report_makes_what_the_report_shows_in_the_runs_it_counts(optimize: bool) -> None:
    from mixsim.report import Report, report_run_count, run_report

    scenario = parse_scenario(small_data(), source="small.toml")
    calls: list[tuple[int, int]] = []
    report = run_report(scenario, seed=1, replications=2, optimize=optimize, progress=lambda d, t: calls.append((d, t)))
    assert isinstance(report, Report) and report.result.incrementality is not None
    # Each measurement reports as its batches finish and ends at its total: the totals add up to the runs counted.
    assert sum(total for done, total in calls if done == total) == report_run_count(scenario, 2, optimize=optimize)
    assert (report.plan is not None) == optimize
    assert (report.plan is not None and report.plan.verification is not None) == optimize  # verified when optimized
    html = report.to_html()
    assert ("Optimized plan" in html) == optimize and "Response curves" in html
    assert ("Verification: the plan against today's" in html) == optimize


def test_report_command_writes_one_file(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    code, out, err = run_cli("report", scenario_file, "-r", "2", "-w", "1", "--out", target)
    assert code == 0, err
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]
    text = target.read_text(encoding="utf-8")
    assert EXTERNAL.search(text) is None and "Response curves" in text and "Optimized plan" not in text
    assert f"{target}: report written" in out


def test_report_refuses_an_unwritable_out_before_simulating(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, err = run_cli("report", scenario_file, "--out", tmp_path / "file" / "r.html")
    assert code == 2 and "is a file, not a directory" in err


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_a_headless_browser_renders_the_report(report_html: str, tmp_path: Path) -> None:
    """Chromium (Debian's package, installed by `make test`) opens the file with the network off and screenshots
    it: the page renders, and it is not blank."""
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed here; `make test` installs it")
    page = tmp_path / "report.html"
    page.write_text(report_html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=127.0.0.1:9",
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(BytesIO(data))
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1100
    # Not blank: the page has text and figures, so far from every pixel is the background.
    assert float((pixels[..., :3] < 0.9).mean()) > 0.01


MONEY_AFTER = re.compile(r"\d[\d,]*(?:\.\d+)? ?\$(?!\d)")  # "40,954 $": currency after the figure


def test_the_report_opens_with_the_answer(report_html: str) -> None:
    summary = report_html.index("<h2>Summary</h2>")
    assert summary < report_html.index("<h2>Assumptions</h2>") < report_html.index("<h2>Results</h2>")
    opening = report_html[summary : report_html.index("<h2>Assumptions</h2>")]
    for words in ("What the plan changes", "Gain", "How sure"):
        assert words in opening, words


def test_the_summary_names_the_largest_moves_and_says_when_a_plan_has_not_settled() -> None:
    from mixsim.report import summary

    scenario = parse_scenario(small_data(), source="small.toml")
    result = simulate(scenario, seed=1, replications=2, incrementality=True)
    plan = optimize(scenario, seed=1, replications=2, max_iterations=1)
    opening = summary(result, plan)
    largest = max(plan.channels, key=lambda c: abs(c.change))
    assert f"<b>{largest.channel}</b>" in opening and "projected by the response curves" in opening
    unsettled = dataclasses.replace(plan, converged=False, iterations=2, moves=(0.07,))
    text = summary(result, unsettled)
    assert "had not settled" in text and "7.0% of the budget" in text
    assert "had not settled" in build_report(result, None, unsettled)
    check = Verification(
        replications=3,
        seed=1,
        projected={("revenue", "gain"): plan.projected_gain},
        runs={("revenue", "gain"): np.array([-50.0, 20.0, 60.0])},
    )
    verified = summary(result, dataclasses.replace(plan, verification=check))
    assert "simulated in 3 paired replications" in verified and "cannot tell the gain from zero" in verified
    plain = summary(result)  # no plan: the simulation's answer
    assert "Simulated" in plain and "revenue $" in plain and "returns the most true incremental revenue" in plain


def test_money_carries_its_currency_first_and_a_click_priced_channel_its_cost_per_click(report_html: str) -> None:
    text = re.sub(r"<[^>]+>|data:image/png;base64,[^\"']+", " | ", report_html)  # cells stay apart
    assert MONEY_AFTER.search(text) is None, MONEY_AFTER.search(text)
    assert re.search(r"\$\d[\d,]*", text)
    scenario = parse_scenario(small_data(), source="small.toml")
    clicks = [c for c in scenario.channels if c.cpc is not None]
    assert clicks
    for channel in clicks:
        assert price(channel) == f"${channel.cpc:,.2f} per click (click-through {channel.ctr:.1%})"
        assert f"${channel.cpc:,.2f} per click" in text
    assert "per 1,000 exposures" in price(next(c for c in scenario.channels if c.cpm is not None))
    assert money(-1234.4) == "-$1,234" and money(5.0, sign=True) == "+$5" and money(float("nan")) == "n/a"


def test_the_assumptions_include_season_organic_memory_costs_and_the_budgets_rules() -> None:
    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "d2c_ecommerce.toml")
    rows = dict(assumptions(scenario))
    for item in ("Season", "Organic (daily rates)", "Memory half-lives", "Fixed costs (channels in use)", "Budget"):
        assert item in rows, item
    assert "social $10,000 to $45,000" in rows["Budget limits"] and "search $0 to $25,000" in rows["Budget limits"]
    assert "prospecting (social, influencers) at least 40%" in rows["Budget groups"]
    assert rows["Fixed costs (channels in use)"] == f"${scenario.fixed_costs:,.0f}"
