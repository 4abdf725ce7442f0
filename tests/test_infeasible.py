"""Limits that cannot hold against the budget (mixsim.optimizer.infeasible): refused before any simulation, with
the sentence a solve would give, and never for a problem that has a plan."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from _weekly import log_curves, small_scenario
from conftest import small_data
from mixsim import InfeasibleError
from mixsim.optimizer import Problem, optimize, solve
from mixsim.optimizer.budget_frontier import scenario_frontier
from mixsim.optimizer.curves import CurveSet, ResponseCurve
from mixsim.optimizer.infeasible import check_feasible, scenario_conflict
from mixsim.optimizer.weekly import WeeklyProblem, plan_weekly, solve_weekly
from mixsim.optimizer.weekly.problem import minimums_conflict
from mixsim.scenario import Scenario, parse_scenario

LEVELS = (0.0, 0.5, 1.0, 2.0)


@pytest.fixture
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation fails the test: every path to the engine goes through ``run_tasks`` or ``run_worlds``, or the
    week curves."""

    def fail(*args: object, **kwargs: object) -> None:
        pytest.fail("a simulation ran before the refusal")

    for module, name in (
        ("mixsim.simulation", "run_tasks"),
        ("mixsim.simulation", "run_worlds"),
        ("mixsim.optimizer.measure", "run_worlds"),
    ):
        monkeypatch.setattr(importlib.import_module(module), name, fail)
    monkeypatch.setattr(importlib.import_module("mixsim.optimizer.weekly.loop"), "measure_week_curves", fail)


def with_budget(*, total: float, limits: dict[str, Any] | None = None, groups: list[Any] | None = None) -> Scenario:
    """The small scenario (tv 2,000 with a fixed cost of 300, search 1,500, email 300) with a [budget] table."""
    data = small_data()
    data["budget"] = {"total": total, "limits": limits or {}, "groups": groups or []}
    return parse_scenario(data, source="small.toml")


def progress(done: int, total: int) -> None:
    pytest.fail("progress was reported before the refusal")


@pytest.mark.parametrize(
    ("scenario", "arguments", "sentence"),
    [
        # A minimum above the budget: 1,500 + tv's fixed cost of 300.
        (
            with_budget(total=5000, limits={"tv": {"min": 1500}}),
            {"budget": 1000},
            "channel minimums add to 1,800 but the budget is 1,000 (minimums from budget.limits, with fixed costs)",
        ),
        # Two groups with no channel in common, each asking for 60%.
        (
            with_budget(
                total=3800,
                groups=[
                    {"name": "brand", "channels": ["tv"], "min_share": 0.6},
                    {"name": "perf", "channels": ["search", "email"], "min_share": 0.6},
                ],
            ),
            {},
            "groups brand and perf share no channel but must have at least 60% and 60% of spend",
        ),
        # max_change keeps search within 10% of its 1,500: at most 1,650, whatever it delivers.
        (
            with_budget(total=5000, limits={"search": {"min": 2000}}),
            {"max_change": 0.1},
            "channel search: its minimum 2,000 (budget.limits) is above its maximum 1,650 (max_change 10%)",
        ),
        # A group that must have 90% of spend while its channel is capped and another must spend 1,000.
        (
            with_budget(
                total=5000,
                limits={"email": {"max": 100}, "search": {"min": 1000}},
                groups=[{"name": "mail", "channels": ["email"], "min_share": 0.9}],
            ),
            {},
            "group mail must have at least 90% of spend, but its channels can take at most 100 while the other "
            "channels' minimums add to 1,000",
        ),
    ],
)
def test_optimize_refuses_before_any_simulation(
    no_runs: None, scenario: Scenario, arguments: dict[str, Any], sentence: str
) -> None:
    with pytest.raises(InfeasibleError) as caught:
        optimize(scenario, replications=1, levels=LEVELS, progress=progress, **arguments)
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith(sentence)
    assert caught.value.exit_code == 3


def test_a_locked_channel_is_held_at_most_at_its_booking(no_runs: None) -> None:
    scenario = with_budget(total=5000, groups=[{"name": "tv", "channels": ["tv"], "min_share": 0.8}])
    scenario = scenario.replace({"budget.limits": {"search": {"min": 1000}}})
    with pytest.raises(InfeasibleError, match="group tv must have at least 80% of spend, but its channels can take at"):
        check_feasible(scenario, locked=["tv"])  # tv 2,000 < 80% of (2,000 + 1,000)
    assert scenario_conflict(scenario) is None  # unlocked, tv may take 4,000 of the 5,000


def test_the_sentence_is_the_one_the_solve_gives() -> None:
    scenario = with_budget(total=5000, limits={"tv": {"min": 1500}})
    curves = measured_like(scenario, np.random.default_rng(0), delivers=1.0)
    plan = solve(Problem.from_scenario(scenario, curves, budget=1000))
    assert plan.status == "infeasible"
    assert scenario_conflict(scenario, budget=1000) == plan.message


def test_nothing_is_refused_when_the_limits_can_hold(no_runs: None) -> None:
    scenario = with_budget(
        total=5000,
        limits={"tv": {"min": 1000, "max": 3000}},
        groups=[{"name": "perf", "channels": ["search", "email"], "min_share": 0.3}],
    )
    assert scenario_conflict(scenario) is None
    assert scenario_conflict(scenario, max_change=0.5, locked=["email"]) is None


def measured_like(scenario: Scenario, rng: np.random.Generator, delivers: float | None = None) -> CurveSet:
    """Curves as :func:`response_curves` would measure them around the scenario's plan: points at multiples of
    each channel's spend (or an even share of the budget), each channel delivering a share of what it is booked
    for and stopping at a random audience limit."""
    curves = []
    share = scenario.budget_total / len(scenario.channels)
    for c in scenario.channels:
        ref = c.spend if c.spend > 0 else share
        planned = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0]) * ref
        rate = delivers if delivers is not None else rng.uniform(0.5, 1.0)
        cap = rng.uniform(0.3, 4.0) * ref
        spend = np.minimum(planned * rate, cap)
        keep = np.concatenate([[True], np.diff(spend) > 1e-9])
        spend, planned = spend[keep], planned[keep]
        half = rng.uniform(0.3, 2.0) * ref
        revenue = rng.uniform(1.0, 5.0) * half * np.log1p(spend / half)
        points = {"spend": spend, "revenue": revenue, "revenue_low": revenue, "revenue_high": revenue}
        bounds = {"max_spend": float(spend.max()), "min_spend": c.min_spend, "fixed_cost": c.fixed_cost}
        curves.append(ResponseCurve(c.name, **points, hill=None, **bounds, current=c.spend, planned=planned))
    return CurveSet(tuple(curves), order_value=scenario.economics.order_value, margin=scenario.economics.margin)


def random_case(rng: np.random.Generator) -> tuple[Scenario, dict[str, Any]]:
    """A small scenario with random spends, minimum buys, fixed costs, limits, groups, budget, window and locks."""
    data = small_data()
    names = list(data["channels"])
    for name in names:
        channel = data["channels"][name]
        channel["spend"] = float(rng.choice([0.0, rng.uniform(200, 3000)]))
        channel["fixed_cost"] = float(rng.choice([0.0, rng.uniform(0, 800)]))
        channel["min_spend"] = float(rng.choice([0.0, rng.uniform(0, 1500)]))
        if 0 < channel["spend"] < channel["min_spend"]:
            channel["spend"] = channel["min_spend"]
    limits: dict[str, Any] = {}
    for name in names:
        if rng.random() < 0.6:
            low, high = sorted(rng.uniform(0, 4000, 2))
            limits[name] = {"min": float(low) if rng.random() < 0.7 else 0.0, "max": float(high)}
    groups = []
    for i in range(int(rng.integers(0, 3))):
        members = [str(n) for n in rng.choice(names, int(rng.integers(1, 3)), replace=False)]
        low, high = sorted(rng.uniform(0, 1, 2))
        group: dict[str, Any] = {"name": f"g{i}", "channels": members}
        if rng.random() < 0.7:
            group["min_share"] = float(low)
        if rng.random() < 0.5 or "min_share" not in group:
            group["max_share"] = float(high)
        groups.append(group)
    data["budget"] = {"total": float(rng.uniform(500, 9000)), "limits": limits, "groups": groups}
    scenario = parse_scenario(data, source="random.toml")
    arguments: dict[str, Any] = {
        "max_change": float(rng.uniform(0, 1.5)) if rng.random() < 0.4 else None,
        "locked": [str(n) for n in names if rng.random() < 0.15],
    }
    return scenario, arguments


def test_a_refused_problem_never_has_a_plan() -> None:
    """Soundness: whatever the curves turn out to be (any delivery, any audience limit), a problem refused before
    they are measured has no plan once they are; and the check finds a good share of the conflicts."""
    rng = np.random.default_rng(14)
    refused = infeasible = 0
    for _ in range(150):
        scenario, arguments = random_case(rng)
        curves = measured_like(scenario, rng)
        plan = solve(Problem.from_scenario(scenario, curves, **arguments))
        conflict = scenario_conflict(scenario, **arguments)
        infeasible += not plan.optimal
        if conflict is not None:
            refused += 1
            assert not plan.optimal, f"refused ({conflict}) but a plan exists: {scenario.budget}, {arguments}"
    assert refused >= 0.3 * infeasible > 0, (refused, infeasible)


def test_frontier_refuses_when_no_budget_can_hold(no_runs: None) -> None:
    scenario = with_budget(total=5000, limits={"tv": {"min": 1500}})
    with pytest.raises(InfeasibleError) as caught:
        scenario_frontier(scenario, [500, 1000, 1700], replications=1, levels=LEVELS, progress=progress)
    assert str(caught.value) == (
        "no budget from 500 to 1,700 is feasible: channel minimums add to 1,800 but the budget is 1,700 (minimums "
        "from budget.limits, with fixed costs)"
    )


def test_frontier_keeps_the_budgets_that_can_hold_and_says_why_the_others_cannot() -> None:
    scenario = with_budget(total=5000, limits={"tv": {"min": 1500}})
    result = scenario_frontier(scenario, [1000, 4000], replications=1, levels=LEVELS, workers=1)
    low, high = result.plans
    assert not low.optimal and low.message == scenario_conflict(scenario, budget=1000)
    assert high.optimal


def weekly_settings(rng: np.random.Generator, c: int, w: int) -> dict[str, Any]:
    names = [f"c{i}" for i in range(c)]
    settings: dict[str, Any] = {"week_min": {}, "min_weeks_on": {}, "max_dark_weeks": {}}
    for name in names:
        if rng.random() < 0.7:
            settings["week_min"][name] = float(rng.uniform(100, 3000))
        if rng.random() < 0.5:
            settings["min_weeks_on"][name] = int(rng.integers(0, w + 1))
        if rng.random() < 0.3:
            settings["max_dark_weeks"][name] = int(rng.integers(0, w + 1))
    settings["locked"] = tuple(n for n in names if rng.random() < 0.2)
    if rng.random() < 0.5:
        settings["committed"] = np.where(rng.random((c, w)) < 0.3, rng.uniform(0, 1500, (c, w)), 0.0)
    return settings


def test_a_weekly_problem_refused_for_its_minimums_has_no_plan() -> None:
    rng = np.random.default_rng(9)
    refused = 0
    for _ in range(60):
        c, w = 3, 4
        curves, _, _ = log_curves(rng, c, w)
        settings = weekly_settings(rng, c, w)
        budget = float(rng.uniform(1000, 20000))
        problem = WeeklyProblem(curves, budget=budget, **settings)
        try:
            problem.check()
        except Exception:
            continue  # settings that check_settings refuses on their own
        conflict = minimums_conflict(curves.channels, w, budget, current=curves.current, **settings)
        if conflict is not None:
            refused += 1
            assert not solve_weekly(problem).optimal, conflict
    assert refused >= 5


def test_plan_weekly_refuses_minimums_above_the_money_before_any_run(no_runs: None) -> None:
    scenario = small_scenario()  # three weeks
    with pytest.raises(InfeasibleError) as caught:
        plan_weekly(scenario, budget=1000.0, week_min={"tv": 400.0}, min_weeks_on={"tv": 3}, progress=progress)
    assert str(caught.value) == (
        "week_min: the least spend the settings allow adds to 1,200 but the money is 1,000 (from week_min, "
        "min_weeks_on)"
    )


def test_the_cli_refuses_before_its_progress_bar(
    run_cli: Callable[..., tuple[int, str, str]], scenario_file: Path, no_runs: None
) -> None:
    code, out, err = run_cli(
        "optimize", scenario_file, "--budget", "1000", "--set", "budget.limits.tv={min=1500}", "--workers", "1"
    )
    assert code == 3 and out == ""
    assert err.strip() == (
        "channel minimums add to 1,800 but the budget is 1,000 (minimums from budget.limits, with fixed costs)"
    )


def test_max_change_out_of_range_is_refused_by_the_library() -> None:
    scenario = with_budget(total=5000)
    for bad in (-0.1, 130.0, math.nan):
        with pytest.raises(Exception, match=r"max_change: must be a fraction from 0 to 10 of today's spend"):
            optimize(scenario, max_change=bad, replications=1, levels=LEVELS)
