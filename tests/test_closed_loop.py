"""The optimizer with the simulator: the closed loop, verification, and plans that beat the current one."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mixsim.engine import run
from mixsim.errors import InputError
from mixsim.optimizer import Problem, optimize, optimize_run_count, solve, verify
from mixsim.optimizer.measure import curve_run_count, response_curves
from mixsim.scenario import Scenario, load_scenario

LEVELS = (0.0, 0.5, 1.0, 2.0, 3.0)
ROOT = Path(__file__).resolve().parents[1]


def test_one_iteration_is_the_plan_of_the_curves_around_the_current_plan(
    make_scenario: Callable[..., Scenario],
) -> None:
    scenario = make_scenario()
    plan = optimize(scenario, seed=3, replications=2, levels=LEVELS, max_iterations=1)
    curves = response_curves(scenario, seed=3, replications=2, levels=LEVELS)
    direct = solve(Problem.from_scenario(scenario, curves))
    assert plan.iterations == 1 and plan.moves == ()
    assert plan.allocation == direct.allocation
    # Measured around the current plan: the simulated total there is the current plan's.
    assert plan.current_total_revenue == pytest.approx(curves.plan_revenue)
    assert plan.total_revenue == pytest.approx(curves.plan_revenue + plan.revenue - plan.current_revenue)


def test_closed_loop_steps_shrink_and_are_reported(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    plan = optimize(scenario, seed=5, replications=2, levels=LEVELS, max_iterations=4, tolerance=0.0)
    assert plan.iterations == 4
    assert len(plan.moves) == 3
    for j, move in enumerate(plan.moves):
        # Solve j + 2 is held within 0.5 ** (j + 2) of the budget of the plan before it.
        assert move <= 0.5 ** (j + 2) + 1e-9
    assert plan.spend <= plan.budget + 1e-6


def test_loop_stops_when_the_plan_stops_moving(make_scenario: Callable[..., Scenario]) -> None:
    plan = optimize(make_scenario(), seed=5, replications=2, levels=LEVELS, max_iterations=5, tolerance=1.0)
    assert plan.iterations == 2 and len(plan.moves) == 1  # any move is within a tolerance of the whole budget


def test_verification_is_paired_and_out_of_sample(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    plan = optimize(scenario, seed=2, replications=2, levels=LEVELS, max_iterations=1)
    checked = verify(scenario, plan, seed=2, replications=4)
    assert checked.verification is not None
    runs = checked.verification.runs
    np.testing.assert_allclose(runs["revenue", "gain"], runs["revenue", "plan"] - runs["revenue", "current"])
    # Its random numbers are not the curves': the current plan's runs differ from the curve base runs.
    base = [run(scenario, s).conversions for s in np.random.SeedSequence(2).spawn(4)]
    assert list(runs["conversions", "current"]) != base
    again = verify(scenario, plan, seed=2, replications=4)
    assert again.verification is not None
    np.testing.assert_array_equal(again.verification.runs["revenue", "plan"], runs["revenue", "plan"])
    frame = checked.verification.to_frame()
    assert {"metric", "outcome", "projected", "simulated", "ci90_low", "ci90_high"} <= set(frame)


def test_an_infeasible_plan_cannot_be_verified(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    plan = optimize(scenario, replications=1, levels=LEVELS, max_iterations=1, budget=10.0, max_change=0.1)
    assert plan.status == "infeasible"
    with pytest.raises(Exception, match="budget is 10"):
        verify(scenario, plan, replications=1)


def even_split(scenario: Scenario) -> dict[str, float]:
    """The budget (less fixed costs) split evenly, within each channel's limits: the level L with
    sum(clip(L, min, max)) equal to the budget, found by bisection."""
    assert scenario.budget is not None
    limits = dict(scenario.budget.limits)
    lows = np.array([limits[c.name].min if c.name in limits else 0.0 for c in scenario.channels])
    highs = np.array([limits[c.name].max if c.name in limits else np.inf for c in scenario.channels])
    money = scenario.budget.total - sum(c.fixed_cost for c in scenario.channels)
    low, high = 0.0, money
    for _ in range(100):
        level = (low + high) / 2
        low, high = (level, high) if np.clip(level, lows, highs).sum() < money else (low, level)
    return dict(zip(scenario.channel_names, np.clip(low, lows, highs).tolist(), strict=True))


@pytest.mark.slow
def test_optimized_plan_beats_the_current_plan_and_an_equal_split_on_a_shipped_scenario() -> None:
    """All three plans simulated with the same random numbers, apart from the curves' (out of sample)."""
    scenario = load_scenario(ROOT / "scenarios" / "d2c_ecommerce.toml")
    plan = optimize(scenario, replications=2, levels=LEVELS, max_iterations=2, workers=2).check()
    assert plan.spend <= scenario.budget_total + 1e-6
    checked = verify(scenario, plan, replications=6, workers=2)
    assert checked.verification is not None
    gain = checked.verification.runs["revenue", "gain"]
    assert np.quantile(gain, 0.05) > 0, "the plan beats the current plan in (nearly) every paired replication"

    even = even_split(scenario)  # planned spends: booked as they are
    split = dataclasses.replace(
        plan,
        channels=tuple(dataclasses.replace(c, spend=even[c.channel], book=even[c.channel]) for c in plan.channels),
    )
    against_split = verify(scenario, split, replications=6, workers=2).verification
    assert against_split is not None
    # Same seeds: the plan's runs and the split's runs are paired replication by replication.
    planned = checked.verification.runs["revenue", "plan"]
    assert np.quantile(planned - against_split.runs["revenue", "plan"], 0.05) > 0


def test_curves_already_measured_are_used_not_measured_again(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    curves = response_curves(scenario, seed=4, replications=2, levels=LEVELS)
    calls: list[int] = []
    given = optimize(
        scenario,
        seed=4,
        replications=2,
        levels=LEVELS,
        max_iterations=1,
        curves=curves,
        progress=lambda done, total: calls.append(done),
    )
    fresh = optimize(scenario, seed=4, replications=2, levels=LEVELS, max_iterations=1)
    assert given.allocation == fresh.allocation
    assert calls == []  # one solve, on the curves given: no engine run


def test_arguments_are_refused_before_any_curve_is_measured(
    make_scenario: Callable[..., Scenario], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        importlib.import_module("mixsim.optimizer.loop"),
        "response_curves",
        lambda *a, **k: pytest.fail("curves were measured"),
    )
    with pytest.raises(InputError) as info:
        optimize(make_scenario(), objective="cpa", max_change=-1.0, max_iterations=0)
    assert info.value.problems == [
        "target: objective cpa needs one (the highest cost per conversion), a number > 0 (got None)",
        "max_change: must be a fraction from 0 to 10 of today's spend, e.g. 0.3 for 30% (got -1.0)",
        "max_iterations: must be >= 1 (got 0)",
    ]


def test_the_run_count_covers_every_measurement_and_the_verification(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    calls: list[tuple[int, int]] = []
    plan = optimize(
        scenario,
        seed=2,
        replications=1,
        levels=LEVELS,
        max_iterations=1,
        verify_replications=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert plan.verification is not None and plan.verification.replications == 2
    expected = optimize_run_count(scenario, replications=1, levels=LEVELS, max_iterations=1, verify_replications=2)
    assert expected == curve_run_count(scenario, 1, LEVELS) + 4
    # Each measurement reports its own count: the curves' runs, then the verification's.
    assert sum(total for done, total in calls if done == total) == expected
