"""Results render as HTML tables in Jupyter: each shows its own figures, escapes names, and says when rows are cut."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from mixsim._display import MAX_ROWS, summary_html
from mixsim.optimizer import Problem, solve
from mixsim.research.attribution import against_truth
from mixsim.scenario import Scenario
from mixsim.simulation import simulate
from mixsim.whatif import compare, vary


def _cells(html: str) -> list[str]:
    return [c.strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, re.S)]


def test_summary_escapes_and_cuts_long_tables() -> None:
    frame = pd.DataFrame({"channel": [f"c{i}" for i in range(MAX_ROWS + 7)], "spend": np.arange(MAX_ROWS + 7) * 1e3})
    html = summary_html("<b>Spring</b> & more", ["a < b"], [("Table", frame)])
    assert "&lt;b&gt;Spring&lt;/b&gt; &amp; more" in html and "a &lt; b" in html
    assert "<b>Spring" not in html
    assert "c0" in _cells(html) and f"c{MAX_ROWS - 1}" in _cells(html) and f"c{MAX_ROWS}" not in _cells(html)
    assert "7 more rows" in html
    assert "24,000" in _cells(html)  # thousands separated


def test_every_result_renders_its_own_figures(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario("scenario.name='Spring <push>'")
    result = simulate(scenario, seed=2, replications=2, incrementality=True, journeys=1.0)
    html = result._repr_html_()
    assert "Spring &lt;push&gt;" in html
    kpis = result.to_frame("kpis")
    assert set(kpis["kpi"]) <= set(_cells(html))
    assert f"{kpis.set_index('kpi').loc['conversions', 'mean']:,.0f}" in _cells(html)
    assert set(scenario.channel_names) <= set(_cells(html))

    journeys = result.journeys()
    paths = journeys.paths(collapse=True)
    assert paths["path"].iloc[0].replace(">", "&gt;") in journeys._repr_html_()

    comparison = compare(scenario, vary(scenario, {"funnel.synergy": ["0.3"]}), seed=2, replications=2)
    assert "funnel.synergy=0.3" in _cells(comparison._repr_html_())

    check = against_truth(result)
    assert set(check.models) <= set(_cells(check._repr_html_()))
    assert repr(check).startswith("AttributionCheck(models=")  # no arrays in the plain repr
    assert "runs=" not in repr(result) and len(repr(result)) < 5_000


def test_plan_renders_allocation_and_status() -> None:
    from test_plots import make_curves

    plan = solve(Problem(make_curves(), budget=6e4))
    html = plan._repr_html_()
    assert "optimal" in html and "total" in _cells(html)
    for channel in plan.to_frame()["channel"]:
        assert channel in _cells(html)
