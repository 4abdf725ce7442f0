"""The HTML report: everything a strategist needs in one file that references nothing outside itself, and that
a real browser renders."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from matplotlib.image import imread

from conftest import small_data
from mixsim import simulate
from mixsim.optimizer import optimize
from mixsim.optimizer.measure import response_curves
from mixsim.report import CAVEATS, build_report
from mixsim.scenario import parse_scenario

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
    for caveat in CAVEATS:
        assert caveat.split(";")[0].split(",")[0] in report_html.replace("&#x27;", "'")


def test_the_caveats_say_what_seasonality_does_and_leaves_out() -> None:
    demand = [c for c in CAVEATS if "seasonality" in c]
    assert len(demand) == 1 and "no seasonality" not in demand[0]
    for words in ["organic", "exposure", "forgetting", "day-of-week"]:
        assert words in demand[0], words


@pytest.mark.parametrize("optimize", [False, True])
def test_run_report_makes_what_the_report_shows_in_the_runs_it_counts(optimize: bool) -> None:
    from mixsim.report import Report, report_run_count, run_report

    scenario = parse_scenario(small_data(), source="small.toml")
    calls: list[tuple[int, int]] = []
    report = run_report(scenario, seed=1, replications=2, optimize=optimize, progress=lambda d, t: calls.append((d, t)))
    assert isinstance(report, Report) and report.result.incrementality is not None
    assert len(calls) == report_run_count(scenario, 2, optimize=optimize)
    assert (report.plan is not None) == optimize
    html = report.to_html()
    assert ("Optimized plan" in html) == optimize and "Response curves" in html


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
