"""The value of customers beyond the horizon: the closed form against the repeat-purchase and lapse forces run day
by day, the KPI built from it, and the input it refuses."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import mixsim
from _analytic import customers
from mixsim.engine import CONVERTED, organic
from mixsim.engine.streams import Streams
from mixsim.errors import ScenarioError
from mixsim.scenario import Scenario, parse_scenario
from mixsim.value import expected_purchases, future_value

Z = 5.0


def scenario(rate: float = 0.05, half_life: float = 10.0, discount: float = 0.5, abandonment: float = 0.2) -> Scenario:
    """Customers who buy again and lapse, valued beyond the horizon; no channel spends."""
    return parse_scenario(
        {
            "scenario": {"name": "future value", "population": 20_000, "horizon_days": 7},
            "economics": {
                "order_value": 50.0,
                "margin": 0.5,
                "checkout_abandonment": abandonment,
                "future_value": "expected",
                "discount_rate": discount,
            },
            "repeat": {"purchase_rate": rate, "lapse_half_life_days": half_life, "order_value": 30.0},
            "channels": {"idle": {"cpm": 10.0, "spend": 0.0}},
        },
        "test_future_value",
    )


def test_closed_form_matches_the_forces_run_day_by_day() -> None:
    """Every customer active after the horizon, then the repurchase and lapse forces day after day (the order the
    engine runs them in): each customer's discounted purchases, sum over days t of b^t x its purchases on day t, have
    the mean p b / (1 - b s) (module mixsim.value); the sample mean must be within 5 standard errors of it."""
    sc = scenario(rate=0.3)  # a customer buys on a fifth of its days: buying days keep it from lapsing
    population = customers(sc)
    n = population.size
    streams = Streams(np.random.SeedSequence(5))
    b = (1.0 + sc.economics.discount_rate) ** (-1.0 / 365.0)
    value = np.zeros(n)
    before = population.purchases[:, 0].astype(float)
    for t in range(1, 400):  # active after 400 days: 2^-40 of the cohort
        organic.repurchase(sc, population, float(t), streams.get("organic:repurchase", t))
        organic.lapse(sc, population, float(t), streams.get("organic:lapse", t))
        now = population.purchases[:, 0].astype(float)
        value += b**t * (now - before)
        before = now
    assert population.counts[0, CONVERTED] < 5  # nearly everyone has lapsed: the tail left out is negligible
    expected = expected_purchases(0.3, 10.0, 0.5, 0.2)
    error = value.std() / math.sqrt(n)
    assert abs(value.mean() - expected) <= Z * error, f"{value.mean():.4f} vs {expected:.4f} (se {error:.4f})"
    assert future_value(sc) == pytest.approx(expected * 30.0, rel=1e-12)  # the repeat order value, not the first


def test_closed_form_limits() -> None:
    """Without lapse the customer buys forever, discounted: p b / (1 - b); without discount it buys until it
    lapses: p / ((1 - p) q) purchases after the first day's; without either, the value has no end."""
    p = -math.expm1(-0.1)
    b = 1.1 ** (-1 / 365)
    assert expected_purchases(0.1, math.inf, 0.1, 0.0) == pytest.approx(p * b / (1 - b), rel=1e-12)
    q = -math.expm1(-math.log(2) / 20.0)
    assert expected_purchases(0.1, 20.0, 0.0, 0.0) == pytest.approx(p / ((1 - p) * q), rel=1e-12)
    assert expected_purchases(0.1, math.inf, 0.0, 0.0) == math.inf
    assert expected_purchases(0.0, 20.0, 0.1, 0.0) == 0.0


def test_future_value_kpi_is_active_customers_times_the_value() -> None:
    """The KPI is, run by run, the customers active at the end times the closed form; revenue does not include it."""
    sc = scenario().replace({"organic.awareness_rate": 0.05, "organic.consideration_rate": 0.05})
    sc = sc.replace({"organic.conversion_rate": 0.05, "scenario.horizon_days": 60})
    result = mixsim.simulate(sc, seed=3, replications=2)
    kpis = result.kpi_values()
    active = np.array([run.daily_stages[-1, CONVERTED] for run in result.runs], dtype=float)
    assert np.all(active > 0)
    np.testing.assert_array_equal(kpis["future_value"], active * future_value(sc))
    np.testing.assert_array_equal(kpis["revenue"], kpis["revenue_new"] + kpis["revenue_repeat"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"repeat.purchase_rate": 0.0}, "economics.future_value: expected needs a repeat purchase rate"),
        (
            {"repeat.lapse_half_life_days": math.inf, "economics.discount_rate": 0.0},
            "economics.future_value: expected needs repeat.lapse_half_life_days or economics.discount_rate",
        ),
    ],
)
def test_future_value_without_an_end_is_refused(changes: dict[str, float], message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario().replace(changes)
    assert any(message in p for p in info.value.problems), info.value.problems


def test_optimize_with_future_value_needs_a_valued_scenario(run_cli, scenario_file: Path) -> None:  # type: ignore[no-untyped-def]
    """The flag on a scenario that does not value its customers, and with an objective in conversions: exit 2 and a
    message naming the rule, before any curve is measured."""
    code, _, err = run_cli("optimize", scenario_file, "--with-future-value")
    assert code == 2 and "economics.future_value is none" in err
    code, _, err = run_cli("optimize", scenario_file, "--with-future-value", "--by-week")
    assert code == 2 and "--with-future-value: not with --by-week" in err


def test_optimize_with_future_value_counts_the_customers_active_at_the_end() -> None:
    """The same plan measured with and without the future value: every curve point gains the future value of the
    customers the channel's spend leaves active at the end, so the curves differ exactly by that, the plan's
    projected revenue with it is above the one without, and a frontier takes the flag too."""
    sc = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    kwargs = {"seed": 2, "replications": 1, "levels": (0, 0.5, 1, 2)}
    plain = mixsim.response_curves(sc, **kwargs)
    valued = mixsim.response_curves(sc, **kwargs, with_future_value=True)
    assert "future value" in valued.source and "future value" not in plain.source
    assert valued.plan_revenue > plain.plan_revenue
    social = plain.channels.index("social")
    assert valued.curves[social].revenue[-1] > plain.curves[social].revenue[-1]  # more spend, more customers kept
    plan = mixsim.optimize(sc, **kwargs, max_iterations=1, with_future_value=True)
    assert plan.optimal and plan.total_revenue > mixsim.optimize(sc, **kwargs, max_iterations=1).total_revenue
    frontier = mixsim.optimizer.scenario_frontier(sc, [30_000.0, 60_000.0], **kwargs, with_future_value=True)
    assert len(frontier.to_frame()) == 2
