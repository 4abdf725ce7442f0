"""Results with repeat purchases: figures that add up across the KPIs, the daily table, the repeat figures, the
ground truth and the MMM export."""

from __future__ import annotations

import numpy as np
import pytest

import mixsim
from mixsim.engine import CONVERTED
from mixsim.research.mmm import mmm_frame
from mixsim.results import KPIS, REPEAT_KPIS, SimulationResult

SCENARIO = "scenarios/d2c_ecommerce.toml"


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    """The D2C scenario (reorders, a replenishment email to customers), small, with its ground truth."""
    scenario = mixsim.load_scenario(SCENARIO, overrides=["scenario.population=20000"])
    assert scenario.repeats
    return mixsim.simulate(scenario, seed=4, replications=2, incrementality=True)


def test_kpis_add_up(result: SimulationResult) -> None:
    kpis = result.kpi_values()
    assert list(kpis) == [*KPIS, *REPEAT_KPIS, "future_value"]
    np.testing.assert_array_equal(kpis["purchases"], kpis["conversions"] + kpis["repeat_purchases"])
    np.testing.assert_array_equal(kpis["revenue"], kpis["revenue_new"] + kpis["revenue_repeat"])
    econ, sc = result.scenario.economics, result.scenario
    np.testing.assert_allclose(kpis["revenue_new"], kpis["conversions"] * econ.order_value, rtol=1e-15)
    np.testing.assert_allclose(kpis["revenue_repeat"], kpis["repeat_purchases"] * sc.repeat_order_value, rtol=1e-15)
    assert np.all(kpis["repeat_purchases"] > 0)
    np.testing.assert_allclose(kpis["roas"], kpis["revenue"] / kpis["spend"], rtol=1e-15)  # on every purchase
    np.testing.assert_allclose(kpis["cac"], kpis["spend"] / kpis["conversions"], rtol=1e-15)  # per customer won
    np.testing.assert_allclose(kpis["cost_per_purchase"], kpis["spend"] / kpis["purchases"], rtol=1e-15)


def test_daily_purchases_add_up_to_the_kpis(result: SimulationResult) -> None:
    daily = result.to_frame("daily")
    runs = result.to_frame("runs")
    for quantity, kpi in (("purchases", "purchases"), ("new_customers", "conversions"), ("repeat_purchases", None)):
        total = daily[daily["quantity"] == quantity]["mean"].sum()
        expected = runs[kpi or "repeat_purchases"].mean()
        assert total == pytest.approx(expected, rel=1e-12), quantity


def test_repeat_figures_are_those_of_the_customers(result: SimulationResult) -> None:
    values = result.repeat_values()
    for r, run in enumerate(result.runs):
        assert values["active_customers"][r] == run.daily_stages[-1, CONVERTED]
        assert 0 < values["returning_customers"][r] <= run.repeat_purchases
        assert values["repeat_rate"][r] == values["returning_customers"][r] / run.conversions
        assert values["purchases_per_customer"][r] == run.purchases / run.conversions
        assert 0 < values["mean_days_between"][r] < result.scenario.horizon_days
    retention = result.to_frame("retention")
    assert retention["week"].tolist() == list(range(13)) and retention["mean"].iloc[0] == 1.0
    for run_retention, run in zip(result.retention(), result.runs, strict=True):
        np.testing.assert_array_equal(run_retention, run.retention[1] / run.retention[0])
    summary = result.to_dict()["repeat"]
    assert set(summary) == {*values, "retention"} and len(summary["retention"]) == 13


def test_truth_and_mmm_export_decompose_every_purchase(result: SimulationResult) -> None:
    """The MMM KPI counts every purchase and splits into new customers and repeat purchases; the truth of each
    channel splits the same way, and sums over the weeks to the channel's incremental customers and purchases."""
    data = mmm_frame(result, truth=True)
    np.testing.assert_array_equal(data["conversions"], data["new_customers"] + data["repeat_purchases"])
    sc = result.scenario
    expected = data["new_customers"] * sc.economics.order_value + data["repeat_purchases"] * sc.repeat_order_value
    np.testing.assert_allclose(data["revenue"], expected, rtol=1e-12)
    run = result.runs[0]
    assert data["conversions"].sum() == run.purchases and data["new_customers"].sum() == run.conversions
    inc = result.incrementality
    assert inc is not None and inc.purchases is not None
    for k, name in enumerate(result.channels):
        every, new = data[f"{name}_true_conversions"], data[f"{name}_true_new_customers"]
        np.testing.assert_allclose(every, new + data[f"{name}_true_repeat_purchases"], rtol=1e-12, atol=1e-9)
        assert new.sum() == pytest.approx(inc.conversions[0, k], abs=1e-9)
        assert every.sum() == pytest.approx(inc.purchases[0, k], abs=1e-9)
        revenue = new * sc.economics.order_value + (every - new) * sc.repeat_order_value
        np.testing.assert_allclose(data[f"{name}_true_revenue"], revenue, rtol=1e-12, atol=1e-9)
    email = result.channels.index("email")  # the replenishment email brings repeat purchases
    assert inc.purchases[:, email].mean() > inc.conversions[:, email].mean()
