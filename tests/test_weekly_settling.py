"""When the week-level closed loop settles (money moved and change in projected gain, both within their
tolerances), how the plan says so, every channel-week measured by default, and batched measurement equal to runs
made one by one."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from _weekly import small_scenario
from mixsim.cli.text import weekly_report
from mixsim.engine import World, run
from mixsim.errors import InputError
from mixsim.executors import open_executor
from mixsim.optimizer.weekly import (
    GAIN_TOLERANCE,
    VERIFY_WEEK_KEY,
    WEEK_KEY,
    WeekCurves,
    WeeklyPlan,
    WeeklyProblem,
    curves,
    loop,
    measure_week_curves,
    optimize_weekly,
    plan_weekly,
    solve_weekly,
    verify_weekly,
    week_run_count,
    week_spend,
    with_week_spend,
)
from mixsim.scenario import Scenario

MONEY = 24_000.0


class Remeasured:
    """Stands in for the simulation. Unless ``kinked_first``, the first measurement's curves are straight lines
    that make channel 0 four times as good as the others, so the first solve moves money into it. Every other
    measurement's curves are kinked at the plan they are measured around (2 per dollar up to it, 1 beyond; a dark
    week 0.9 throughout), so that plan is the only optimum at its total and a solve keeps it, and scaled by the
    next of ``scales``: the projection changes by that factor each time it is measured again."""

    def __init__(self, scales: Sequence[float], kinked_first: bool = False) -> None:
        self.scales = list(scales)
        self.kinked_first = kinked_first
        self.around: list[np.ndarray] = []

    def __call__(self, scenario: Scenario, *, around: np.ndarray, **_: object) -> WeekCurves:
        n = len(self.around)
        self.around.append(around.copy())
        ref = np.where(around > 0, around, around.mean())
        xs = np.array([0.0, 1.0, 2.0])[None, None, :] * ref[:, :, None]
        if n == 0 and not self.kinked_first:
            slope = np.where(np.arange(around.shape[0]) == 0, 4.0, 1.0)[:, None, None]
            revenue = slope * xs
        else:
            scale = self.scales[n - (0 if self.kinked_first else 1)]
            kinked = np.stack([np.zeros_like(ref), 2.0 * ref, 3.0 * ref], axis=2)
            revenue = scale * np.where(around[:, :, None] > 0, kinked, 0.9 * xs)
        channels = tuple(f"c{i}" for i in range(around.shape[0]))
        # Each simulated plan earns more than the one before: no plan is set aside.
        return WeekCurves(channels, xs, revenue, around, plan_revenue=float(n), runs=7)


def remeasured_loop(
    monkeypatch: pytest.MonkeyPatch, fake: Remeasured, iterations: int = 4, tolerance: float = 0.001
) -> WeeklyPlan:
    monkeypatch.setattr(loop, "measure_week_curves", fake)
    eight_weeks = small_scenario().replace({"scenario.horizon_days": 56})
    start = np.full((3, 8), 1000.0)
    start[1, ::2] = 500.0
    start[2, 1::2] = 1500.0  # an uneven start that spends the money
    return optimize_weekly(eight_weeks, lambda c: WeeklyProblem(c, budget=MONEY), around=start,
                           max_iterations=iterations, tolerance=tolerance)  # fmt: skip


def assert_stopped_by_the_law(plan: WeeklyPlan, iterations: int) -> None:
    """The loop stops at the first solve within both tolerances, or after its last solve."""
    assert plan.tolerance is not None and plan.gain_tolerance is not None
    steps = zip(plan.moves, plan.gain_changes, strict=True)
    within = [m <= plan.tolerance and g <= plan.gain_tolerance for m, g in steps]
    assert len(within) == plan.iterations
    assert not any(within[:-1])
    assert plan.converged is within[-1]
    assert plan.converged or plan.iterations == iterations


def test_a_first_solve_that_keeps_the_start_converges_at_once_on_both(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = Remeasured([1.0], kinked_first=True)
    plan = remeasured_loop(monkeypatch, fake)
    assert plan.optimal and plan.converged and plan.iterations == 1 and len(fake.around) == 1
    np.testing.assert_allclose(plan.spend, fake.around[0], rtol=1e-9)
    assert plan.moves[0] == pytest.approx(0.0, abs=1e-9) and plan.gain_changes[0] == pytest.approx(0.0, abs=1e-9)
    assert plan.projected_gain > 100.0  # a real gain over the current flighting, projected the same each time
    assert_stopped_by_the_law(plan, 4)
    assert plan.convergence.startswith("converged: the last solve moved 0.0% of the money (within 0.1%)")


def test_a_plan_that_stops_moving_while_its_projection_keeps_changing_has_not_converged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the first solve the plan never moves again, but each measurement projects 1.5 times the gain of the
    one before: the money moved alone would call it settled; the change in projected gain (a third, each time)
    does not."""
    plan = remeasured_loop(monkeypatch, Remeasured([1.0, 1.5, 2.25]))
    assert plan.optimal and plan.iterations == 4 and not plan.converged
    assert plan.moves[0] > 0.05 and plan.moves[1:] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert plan.gain_changes[2:] == pytest.approx([1 / 3, 1 / 3], rel=1e-9)
    assert_stopped_by_the_law(plan, 4)
    said = plan.convergence
    assert said.startswith("not converged after 4 solve(s): the last solve moved 0.0% of the money (within 0.1%)")
    assert said.endswith("changed the projected gain by 33.3% (above 5.0%)")
    doc = json.loads(plan.to_json())["solver"]
    assert doc["converged"] is False and doc["convergence"] == said
    assert doc["gain_changes"] == pytest.approx(list(plan.gain_changes))
    assert (doc["tolerance"], doc["gain_tolerance"]) == (0.001, GAIN_TOLERANCE)
    notes = dict(plan.assumptions().itertuples(index=False))
    assert notes["closed loop converged"] == "no" and notes["how the closed loop ended"] == said
    assert notes["change in projected gain at each solve"].endswith("33.33%, 33.33%")
    assert said in weekly_report(plan) and "more --iterations or --replications" in weekly_report(plan)


def test_a_projection_that_stops_changing_converges_on_the_next_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same plans measured again on the same curves: the second solve is projected on new curves (a change),
    the third on the same ones as the second (no change), and the loop stops there."""
    plan = remeasured_loop(monkeypatch, Remeasured([1.0, 1.0, 1.0]))
    assert plan.converged and plan.iterations == 3
    assert plan.gain_changes[1] > GAIN_TOLERANCE and plan.gain_changes[2] == pytest.approx(0.0, abs=1e-9)
    assert_stopped_by_the_law(plan, 4)
    assert plan.convergence.endswith("changed the projected gain by 0.0% (within 5.0%)")
    assert plan.convergence in weekly_report(plan)


def test_a_loose_gain_tolerance_leaves_the_money_moved_to_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loop, "measure_week_curves", Remeasured([1.0, 1.5, 2.25]))
    eight = small_scenario().replace({"scenario.horizon_days": 56})
    plan = optimize_weekly(eight, lambda c: WeeklyProblem(c, budget=MONEY), around=np.full((3, 8), 1000.0),
                           max_iterations=4, tolerance=0.001, gain_tolerance=1.0)  # fmt: skip
    assert plan.converged and plan.iterations == 2


def test_the_tolerances_must_not_be_negative() -> None:
    scenario = small_scenario()
    with pytest.raises(InputError, match=r"gain_tolerance: must be >= 0 \(got -0.1\)"):
        plan_weekly(scenario, gain_tolerance=-0.1)
    with pytest.raises(InputError, match="tolerance: must be >= 0"):
        optimize_weekly(scenario, lambda c: WeeklyProblem(c, budget=MONEY), tolerance=float("nan"))


def test_a_plan_solved_on_given_curves_says_so() -> None:
    scenario = small_scenario()
    given = measure_week_curves(scenario, seed=1, replications=1)
    plan = solve_weekly(WeeklyProblem(given, budget=float(week_spend(scenario).sum())))
    assert plan.convergence == "solved once on given curves" and plan.gain_changes == ()


def counted(monkeypatch: pytest.MonkeyPatch) -> list[World]:
    """Every world the week-level measurement hands to the batched runner."""
    seen: list[World] = []
    real = curves.run_worlds

    def counting(worlds: Sequence[World], *args: object, **kwargs: object) -> list[object]:
        seen.extend(worlds)
        return real(worlds, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(curves, "run_worlds", counting)
    return seen


def test_every_channel_week_is_measured_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = small_scenario().replace({"scenario.population": 3000})
    seen = counted(monkeypatch)
    plan = plan_weekly(scenario, seed=5, max_iterations=1)  # default replications, levels and weeks measured
    c, w = week_spend(scenario).shape
    replications, own_levels = 2, 2  # levels 0, 1 and 2: 1 is the plan itself, run once per replication
    assert len(seen) == c * w * own_levels * replications + replications == plan.runs
    assert plan.runs == week_run_count(week_spend(scenario), replications)
    spends = {tuple(np.round(week_spend(world.scenario), 6).ravel()) for world in seen}
    assert len(spends) == c * w * own_levels + 1  # every channel-week at each of its own levels, and the plan


def test_batched_week_curves_and_verification_equal_runs_made_one_by_one() -> None:
    scenario = small_scenario().replace({"scenario.population": 3000})
    base = week_spend(scenario)
    base[1, 1] = 0.0  # a dark week
    value = scenario.economics.order_value
    with open_executor(2) as pool:
        batched = measure_week_curves(scenario, seed=8, replications=2, around=base, executor=pool)
    here = measure_week_curves(scenario, seed=8, replications=2, around=base)
    seeds = np.random.SeedSequence(8, spawn_key=(WEEK_KEY,)).spawn(2)
    c, w = base.shape
    revenue = np.zeros((c, w, 3, 2))
    for i in range(c):
        for j in range(w):
            for k in range(3):
                spend = base.copy()
                spend[i, j] = batched.spend[i, j, k]
                planned = with_week_spend(scenario, spend)
                for r in range(2):
                    revenue[i, j, k, r] = run(planned, seeds[r]).conversions * value
    mean = revenue.mean(axis=3)
    for measured in (batched, here):
        np.testing.assert_array_equal(measured.revenue, mean - mean[:, :, :1])
        assert measured.plan_revenue == float(np.mean([run(with_week_spend(scenario, base), s).conversions * value
                                                       for s in seeds]))  # fmt: skip
    plan = solve_weekly_plan(scenario, batched)
    checked = verify_weekly(scenario, plan, seed=8, replications=2).verification
    assert checked is not None
    again = np.random.SeedSequence(8, spawn_key=(VERIFY_WEEK_KEY,)).spawn(2)
    planned = with_week_spend(scenario, plan.spend)
    np.testing.assert_array_equal(checked.runs["revenue", "plan"], [run(planned, s).conversions * value for s in again])
    np.testing.assert_array_equal(checked.runs["spend", "current"], [run(scenario, s).spend.sum() for s in again])


def solve_weekly_plan(scenario: Scenario, measured: WeekCurves) -> WeeklyPlan:
    return solve_weekly(WeeklyProblem(measured, budget=float(week_spend(scenario).sum()))).check()
