"""The week-level plan: the flighting chart, and the contract it shares with the channel-level plan."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixsim
from _weekly import log_curves
from mixsim.errors import InfeasibleError, InputError
from mixsim.optimizer.export import write_plan
from mixsim.optimizer.plan import Verification
from mixsim.optimizer.weekly import WeeklyPlan, WeeklyProblem, solve_weekly


def test_the_wide_table_is_a_flighting_chart_that_adds_up() -> None:
    curves, _, _ = log_curves(np.random.default_rng(4), 3, 5)
    plan = solve_weekly(WeeklyProblem(curves, budget=9000.0))
    wide = plan.to_frame(wide=True)
    assert list(wide.columns) == [1, 2, 3, 4, 5, "total"] and list(wide.index) == ["c0", "c1", "c2", "total"]
    assert wide.loc["total", "total"] == pytest.approx(plan.spend.sum())
    long = plan.to_frame()
    assert len(long) == 15 and long["spend"].sum() == pytest.approx(9000.0)


def verified_plan() -> WeeklyPlan:
    """An optimal plan with settings of every kind and a verification made up of known runs."""
    curves, _, _ = log_curves(np.random.default_rng(6), 3, 4)
    curves = dataclasses.replace(curves, seed=7, replications=2)
    problem = WeeklyProblem(
        curves, budget=12_000.0, week_max={"c0": 2500.0}, min_weeks_on={"c1": 2}, pacing_weeks=2, pacing_share=0.6,
        locked=("c2",),
    )  # fmt: skip
    plan = solve_weekly(problem)
    runs = {
        ("revenue", "current"): np.array([100.0, 110.0]),
        ("revenue", "plan"): np.array([130.0, 150.0]),
        ("revenue", "gain"): np.array([30.0, 40.0]),
        ("spend", "current"): np.array([900.0, 910.0]),
        ("spend", "plan"): np.array([950.0, 960.0]),
    }
    projected = {("revenue", "gain"): plan.projected_gain, ("spend", "plan"): float(plan.spend.sum())}
    return dataclasses.replace(plan, verification=Verification(2, 7, projected, runs))


def test_the_json_round_trips_with_the_channel_level_words() -> None:
    plan = verified_plan()
    doc = json.loads(plan.to_json())
    assert doc["status"] == "optimal" and doc["total"] == pytest.approx(12_000.0)
    assert doc["solver"]["converged"] is plan.converged and "settled" not in json.dumps(doc)
    assert (doc["seed"], doc["replications"], doc["version"]) == (7, 2, mixsim.__version__)
    assert doc["projected"]["gain"] == pytest.approx(float(plan.revenue.sum() - plan.current_revenue.sum()))
    assert doc["constraints"]["locked"] == ["c2"] and doc["constraints"]["week_max"] == {"c0": 2500.0}
    assert len(doc["weeks"]) == 12 and sum(w["spend"] for w in doc["weeks"]) == pytest.approx(plan.spend.sum())
    rows = {(r["metric"], r["outcome"]): r for r in doc["verification"]["rows"]}
    assert rows["revenue", "gain"]["simulated"] == pytest.approx(35.0)
    assert rows["revenue", "plan"]["projected"] is None  # no projection of the plan's total: null, not NaN


def test_an_infeasible_plan_is_json_with_nulls_and_refuses_check() -> None:
    curves, _, _ = log_curves(np.random.default_rng(3), 2, 6)
    plan = solve_weekly(WeeklyProblem(curves, budget=1000.0, week_min={"c0": 900.0}, min_weeks_on={"c0": 3}))
    doc = json.loads(plan.to_json())
    assert doc["status"] == "infeasible" and "cannot all hold" in doc["message"]
    assert doc["shadow_price"] is None and all(w["spend"] is None for w in doc["weeks"])
    with pytest.raises(InfeasibleError, match="cannot all hold"):
        plan.check()
    assert "cannot all hold" in plan._repr_html_()


def test_the_csv_is_the_flighting_chart() -> None:
    plan = verified_plan()
    chart = pd.read_csv(io.StringIO(plan.to_csv()), index_col=0)
    assert list(chart.index) == ["c0", "c1", "c2", "total"] and list(chart.columns) == ["1", "2", "3", "4", "total"]
    # Whole currency units, each within a unit of the plan, adding up to the totals row and column.
    cells = chart.iloc[:3, :4].to_numpy()
    assert np.all(cells == np.round(cells)) and np.all(np.abs(cells - plan.spend) < 1.0)
    np.testing.assert_array_equal(chart.loc["total"].to_numpy()[:4], cells.sum(axis=0))
    np.testing.assert_array_equal(chart["total"].to_numpy()[:3], cells.sum(axis=1))
    assert chart.loc["total", "total"] == round(plan.spend.sum())


def test_the_workbook_has_the_chart_the_weeks_the_assumptions_and_the_verification() -> None:
    plan = verified_plan()
    sheets = pd.read_excel(io.BytesIO(plan.to_xlsx()), sheet_name=None)
    assert list(sheets) == ["Flighting", "Weeks", "Assumptions", "Verification"]
    assert list(sheets["Flighting"].columns[1:]) == ["Week 1", "Week 2", "Week 3", "Week 4", "Total"]
    assert len(sheets["Weeks"]) == 12
    notes = dict(zip(sheets["Assumptions"]["item"], sheets["Assumptions"]["value"], strict=True))
    assert float(notes["money"]) == pytest.approx(12_000.0)
    assert notes["locked channels"] == "c2"
    assert notes["pacing"] == "at most 60% of the money in any 2 weeks in a row"
    assert notes["weekly limits"] == "most in a week: c0 2,500; fewest weeks on air: c1 2"
    assert notes["closed loop converged"] == ("yes" if plan.converged else "no")
    assert (int(notes["seed"]), int(notes["replications per curve level"])) == (7, 2)
    assert notes["mixsim version"] == mixsim.__version__
    verification = sheets["Verification"]
    assert list(zip(verification["metric"], verification["outcome"], strict=True)) == [
        ("revenue", "current"),
        ("revenue", "plan"),
        ("revenue", "gain"),
        ("spend", "current"),
        ("spend", "plan"),
    ]
    unverified = dataclasses.replace(plan, verification=None)
    assert "Verification" not in pd.read_excel(io.BytesIO(unverified.to_xlsx()), sheet_name=None)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx"])
def test_the_plan_dispatcher_writes_a_week_level_plan(tmp_path: Path, suffix: str) -> None:
    plan = verified_plan()
    path = write_plan(plan, tmp_path / f"plan{suffix}")
    data = path.read_bytes()
    expected = {".csv": plan.to_csv().encode(), ".json": (plan.to_json() + "\n").encode()}
    if suffix in expected:
        assert data == expected[suffix]
    else:
        assert data[:2] == b"PK"  # a zip: the workbook
    with pytest.raises(InputError, match="a plan is written as"):
        write_plan(plan, tmp_path / "plan.txt")


def test_it_renders_in_jupyter() -> None:
    html = verified_plan()._repr_html_()
    assert html.startswith("<div class='mixsim'><strong>Week-level plan</strong>")
    assert "Flighting: spend per channel and week" in html and "Verified by simulation" in html


def test_the_report_leads_with_one_gain_the_simulated_one_when_verified() -> None:
    from mixsim.cli.text import weekly_report

    plan = verified_plan()
    gain = weekly_report(plan).splitlines()[1]
    assert gain.startswith("Gain: +35 revenue [") and "simulated" in gain
    assert f"projected {plan.projected_gain:+,.0f}" in gain
    unverified = dataclasses.replace(plan, verification=None)
    assert weekly_report(unverified).splitlines()[1].startswith(f"Gain: {plan.projected_gain:+,.0f} revenue, projected")
    items = dict(zip(*(plan.assumptions()[c] for c in ("item", "value")), strict=True))
    assert items["verified gain (simulated, 90% interval)"].startswith("35 [")
    assert items["scenario overrides"] == "none"
