"""The week-level program: a known optimum of separable curves, and every time constraint on random instances."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mixsim.engine import run
from mixsim.errors import MixsimError
from mixsim.optimize.weekly.flighting import (
    VERIFY_WEEK_KEY,
    WEEK_KEY,
    WeekCurves,
    WeeklyPlan,
    WeeklyProblem,
    measure_week_curves,
    measured_weeks,
    optimize_weekly,
    solve_weekly,
    verify_weekly,
    week_run_count,
    week_spend,
    with_week_spend,
)
from mixsim.scenario import Scenario

RunCli = Callable[..., tuple[int, str, str]]

K = 41  # breakpoints per channel-week


def log_curves(
    rng: np.random.Generator, c: int, w: int, top: float = 20_000.0
) -> tuple[WeekCurves, np.ndarray, np.ndarray]:
    """Channel-week curves r(x) = a h log(1 + x / h) sampled on K breakpoints (returns the curves, a and h)."""
    a = rng.uniform(1.0, 4.0, (c, w))
    h = rng.uniform(500.0, 3000.0, (c, w))
    xs = np.linspace(0.0, top, K)[None, None, :] * np.ones((c, w, 1))
    revenue = a[:, :, None] * h[:, :, None] * np.log1p(xs / h[:, :, None])
    current = rng.uniform(0.0, 2000.0, (c, w))
    return WeekCurves(tuple(f"c{i}" for i in range(c)), xs, revenue, current), a, h


def optimum_by_bisection(a: np.ndarray, h: np.ndarray, budget: float, top: float) -> float:
    """The true optimum of sum a h log(1 + x / h) with sum x = budget: every x where the slope a / (1 + x / h)
    equals the multiplier, found by bisection (no breakpoints involved)."""

    def spend(lam: float) -> np.ndarray:
        return np.clip(h * (a / lam - 1.0), 0.0, top)

    low, high = 1e-9, float(a.max())
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if spend(mid).sum() > budget else (low, mid)
    x = spend((low + high) / 2)
    return float((a * h * np.log1p(x / h)).sum())


@pytest.mark.parametrize("seed", range(5))
def test_separable_curves_reach_their_known_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c, w = int(rng.integers(2, 6)), int(rng.integers(4, 14))
    curves, a, h = log_curves(rng, c, w)
    budget = float(rng.uniform(0.2, 0.6) * c * w * 3000)
    plan = solve_weekly(WeeklyProblem(curves, budget=budget))
    assert plan.optimal
    assert plan.spend.sum() == pytest.approx(budget, rel=1e-9)
    best = optimum_by_bisection(a, h, budget, 20_000.0)
    projected = float((a * h * np.log1p(plan.spend / h)).sum())  # the plan on the true curves
    assert projected <= best * (1 + 1e-9)
    assert projected >= best * (1 - 0.005), "within 0.5% of the optimum"


def test_locked_channels_keep_their_flighting_and_committed_plus_additional_is_the_total() -> None:
    rng = np.random.default_rng(11)
    curves, _, _ = log_curves(rng, 4, 10)
    committed = np.zeros((4, 10))
    committed[1, :3] = 1500.0
    problem = WeeklyProblem(curves, budget=0.0, locked=("c2",), committed=committed, additional=25_000.0)
    plan = solve_weekly(problem)
    assert plan.optimal
    np.testing.assert_allclose(plan.spend[2], curves.current[2], atol=1e-6)
    assert plan.total == pytest.approx(committed.sum() + 25_000.0)
    assert plan.spend.sum() == pytest.approx(plan.total, rel=1e-9)
    assert np.all(plan.spend >= committed - 1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_every_time_constraint_holds_on_random_instances(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    c, w = int(rng.integers(2, 5)), int(rng.integers(6, 13))
    curves, _, _ = log_curves(rng, c, w)
    names = curves.channels
    problem = WeeklyProblem(
        curves,
        budget=float(rng.uniform(0.3, 0.8) * c * w * 2000),
        week_min={names[0]: 800.0},
        week_max={names[1]: 2500.0},
        min_weeks_on={names[0]: int(rng.integers(2, w // 2 + 1))},
        max_dark_weeks={names[-1]: int(rng.integers(1, w // 2))},
        pacing_weeks=4,
        pacing_share=float(rng.uniform(0.4, 0.7)),
    )
    plan = solve_weekly(problem)
    if not plan.optimal:
        assert plan.message and np.isnan(plan.spend).all()
        return
    x, tol = plan.spend, 1e-6 * problem.total
    assert x.sum() <= problem.total + tol
    on0 = x[0] > tol
    assert np.all(x[0][on0] >= 800.0 - tol) and on0.sum() >= problem.min_weeks_on[names[0]]
    assert np.all(x[1] <= 2500.0 + tol)
    assert (x[-1] <= tol).sum() <= problem.max_dark_weeks[names[-1]]
    for start in range(w - 4 + 1):
        assert x[:, start : start + 4].sum() <= problem.pacing_share * problem.total + tol  # type: ignore[operator]


def test_impossible_constraints_are_a_status_not_an_exception() -> None:
    curves, _, _ = log_curves(np.random.default_rng(3), 2, 6)
    plan = solve_weekly(WeeklyProblem(curves, budget=1000.0, week_min={"c0": 900.0}, min_weeks_on={"c0": 3}))
    assert plan.status == "infeasible" and "cannot all hold" in plan.message
    assert math.isnan(plan.shadow_price)


def test_the_wide_table_is_a_flighting_chart_that_adds_up() -> None:
    curves, _, _ = log_curves(np.random.default_rng(4), 3, 5)
    plan = solve_weekly(WeeklyProblem(curves, budget=9000.0))
    wide = plan.to_frame(wide=True)
    assert list(wide.columns) == [1, 2, 3, 4, 5, "total"] and list(wide.index) == ["c0", "c1", "c2", "total"]
    assert wide.loc["total", "total"] == pytest.approx(plan.spend.sum())
    long = plan.to_frame()
    assert len(long) == 15 and long["spend"].sum() == pytest.approx(9000.0)


def test_bad_settings_are_named() -> None:
    curves, _, _ = log_curves(np.random.default_rng(5), 2, 4)
    with pytest.raises(MixsimError) as caught:
        solve_weekly(WeeklyProblem(curves, budget=1.0, week_min={"tv": 1.0}, locked=("radio",), pacing_weeks=9))
    assert set(caught.value.problems) >= {
        "week_min: no channel 'tv'",
        "locked: no channel 'radio'",
        "pacing: give both pacing_weeks and pacing_share",
        "pacing_weeks: must be in [1, 4] (got 9)",
    }


# --------------------------------------------------------------------------------------------------------------
# Measured by simulation.


def small_scenario() -> Scenario:
    from conftest import small_data
    from mixsim.scenario import parse_scenario

    return parse_scenario(small_data(), source="small.toml")


def test_week_spend_round_trips_through_the_flighting() -> None:
    scenario = small_scenario()
    spend = np.abs(np.random.default_rng(2).normal(300.0, 120.0, week_spend(scenario).shape))
    spend[1, 1] = 0.0  # a dark week
    again = with_week_spend(scenario, spend)
    np.testing.assert_allclose(week_spend(again), spend, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(week_spend(scenario).sum(axis=1), [c.spend for c in scenario.channels])


def test_an_impulse_is_the_difference_of_two_runs_on_the_same_seeds() -> None:
    scenario = small_scenario()
    curves = measure_week_curves(scenario, seed=6, replications=2, levels=(0.0, 1.0, 2.0))
    base = week_spend(scenario)
    seeds = np.random.SeedSequence(6, spawn_key=(WEEK_KEY,)).spawn(2)
    i, j = 0, 1  # tv, week 2

    def revenue(level: float) -> float:
        spend = base.copy()
        spend[i, j] = level * base[i, j]
        planned = with_week_spend(scenario, spend)
        return float(np.mean([run(planned, s).conversions for s in seeds])) * scenario.economics.order_value

    np.testing.assert_allclose(curves.spend[i, j], [0.0, base[i, j], 2 * base[i, j]])
    assert curves.plan_revenue == pytest.approx(revenue(1.0), abs=1e-9)  # the plan itself
    assert curves.revenue[i, j, 1] == pytest.approx(revenue(1.0) - revenue(0.0), abs=1e-9)
    assert curves.revenue[i, j, 2] == pytest.approx(revenue(2.0) - revenue(0.0), abs=1e-9)
    np.testing.assert_array_equal(curves.current, base)


def test_the_closed_loop_and_its_verification() -> None:
    scenario = small_scenario()
    total = float(week_spend(scenario).sum())
    plan = optimize_weekly(scenario, lambda c: WeeklyProblem(c, budget=total, locked=("email",)), seed=1,
                           replications=1, max_iterations=2)  # fmt: skip
    assert plan.optimal and plan.iterations == len(plan.moves) <= 2
    assert plan.spend.sum() == pytest.approx(total, rel=1e-9)
    np.testing.assert_allclose(plan.spend[2], week_spend(scenario)[2])  # locked at its flighting
    check = verify_weekly(scenario, plan, seed=1, replications=4).set_index("outcome")
    assert check.loc["gain", "mean"] == pytest.approx(check.loc["plan", "mean"] - check.loc["current", "mean"])
    seeds = np.random.SeedSequence(1, spawn_key=(VERIFY_WEEK_KEY,)).spawn(4)
    planned = with_week_spend(scenario, plan.spend)
    delivered = np.mean([run(planned, s).spend.sum() for s in seeds])
    assert check.loc["plan", "spent"] == pytest.approx(delivered, rel=1e-12)
    assert 0 < check.loc["plan", "spent"] <= plan.spend.sum() * (1 + 1e-9)


def test_cli_by_week_writes_a_flighting_chart(scenario_file: Path, run_cli: RunCli, tmp_path: Path) -> None:
    committed = tmp_path / "committed.csv"
    committed.write_text("channel,week,spend\ntv,1,500\ntv,2,500\n", encoding="utf-8")
    out = tmp_path / "plan.csv"
    code, text, err = run_cli(
        "optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1",
        "--committed", committed, "--additional", "2000", "--lock", "email", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert "Week-level plan" in text
    import pandas as pd

    wide = pd.read_csv(out, index_col=0)
    assert wide.loc["total", "total"] == pytest.approx(3000.0)  # committed 1,000 + additional 2,000
    assert wide.loc["tv", "1"] >= 500 - 1e-6 and wide.loc["tv", "2"] >= 500 - 1e-6
    np.testing.assert_allclose(wide.loc["email"].iloc[:-1].to_numpy(), week_spend(small_scenario())[2])
    assert (tmp_path / "plan_flighting.png").stat().st_size > 0 and (tmp_path / "plan_flighting.svg").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lock", "radio"), "--lock: no channel 'radio'"),
        (("--week-min", "tv=x"), "must be a number"),
        (("--pacing", "4"), "must be WEEKS:SHARE"),
        (("--additional", "100", "--committed", "missing.csv"), "missing.csv: file not found"),
        (("--additional", "100"), "--additional: only with --committed"),
        (("--min-weeks-on", "tv=2.5"), "tv=2.5: must be a whole number of weeks"),
        (("--max-dark-weeks", "tv=1", "--max-dark-weeks", "tv=2"), "tv is given more than once"),
        (("--week-min", "tv=500", "--week-max", "tv=100"), "week_min: tv: 500 is above its week_max 100"),
        (("--min-weeks-on", "tv=9"), "min_weeks_on: tv: must be in [0, 3] (got 9)"),
        (("--levels", "0,0.5,2"), "--levels: must include 1, the plan itself"),
    ],
)
def test_cli_by_week_refuses_bad_options_before_simulating(
    scenario_file: Path, run_cli: RunCli, args: tuple[str, ...], message: str
) -> None:
    code, _, err = run_cli("optimize", scenario_file, "--by-week", "-w", "1", *args)
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        ("tv,1,inf\n", (), "spend a finite number >= 0"),
        ("tv,1.5,100\n", (), "week must be a whole number in 1..3"),
        ("tv,,100\n", (), "row 2: week must be a whole number"),
        (" tv ,1e400,100\n", (), "row 2: week must be a whole number"),
        ("tv,1,100\ntv,1,200\n", (), "tv week 1 is already committed in row 2"),
        ("email,1,500\n", ("--lock", "email"), "email is locked at its flighting (105 in week 1) but 500"),
        ("tv,1,500\n", ("--week-max", "tv=400"), "tv has 500 committed in week 1, above its week_max 400"),
        ("tv,1,5000\n", ("--pacing", "1:50%"), "pacing: committed spend and locked channels put 5,000 in weeks 1-1"),
    ],
)
def test_cli_by_week_refuses_committed_spend_that_cannot_hold(
    scenario_file: Path, run_cli: RunCli, tmp_path: Path, rows: str, extra: tuple[str, ...], message: str
) -> None:
    committed = tmp_path / "committed.csv"
    committed.write_text("channel,week,spend\n" + rows, encoding="utf-8")
    code, _, err = run_cli("optimize", scenario_file, "--by-week", "-w", "1", "--committed", committed,
                           "--additional", "100", *extra)  # fmt: skip
    assert code == 2 and message in err and "Traceback" not in err, err


def test_committed_and_locked_spend_above_the_money_is_refused() -> None:
    from mixsim.optimize.weekly.flighting import check_settings

    current = np.full((2, 3), 100.0)
    committed = np.zeros((2, 3))
    committed[1] = 50.0
    check_settings(("a", "b"), 3, locked=("a",), committed=committed, current=current, total=450.0)
    with pytest.raises(MixsimError, match="come to 450, more than the money 449"):
        check_settings(("a", "b"), 3, locked=("a",), committed=committed, current=current, total=449.0)


@pytest.mark.parametrize("args", [("--lock", "tv"), ("--measure-every", "2")])
def test_week_options_need_by_week(scenario_file: Path, run_cli: RunCli, args: tuple[str, ...]) -> None:
    code, _, err = run_cli("optimize", scenario_file, *args, "-w", "1")
    assert code == 2 and f"{args[0]}: only with --by-week" in err


def test_cli_by_week_measures_every_other_week(scenario_file: Path, run_cli: RunCli) -> None:
    code, text, err = run_cli("optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1",
                              "--measure-every", "2", "--json")  # fmt: skip
    assert code == 0, err
    import json

    doc = json.loads(text)
    assert doc["status"] == "optimal" and doc["spend"] == pytest.approx(doc["total"], rel=1e-6)
    assert doc["runs"] == 1 + 3 * 2 * 2  # the plan, then 3 channels x weeks 1 and 3 x levels 0 and 2
    code, _, err = run_cli("optimize", scenario_file, "--by-week", "--measure-every", "0", "-w", "1")
    assert code == 2 and "--measure-every" in err and "Traceback" not in err


def _peak_world(memory: bool, peak: bool) -> Scenario:
    """An awareness channel, organic consideration and conversion, and optionally memory and a two-week peak."""
    from test_engine import build

    scenario = build(
        20_000,
        56,
        {"tv": {"cpm": 1000.0, "spend": 56 * 400.0, "p_aware": 0.3, "targets": ["unaware"]}},
        half_life={"aware": 5.0, "considering": 5.0} if memory else None,
        organic={"consideration_rate": 0.08, "conversion_rate": 0.08},
    )
    if peak:
        holiday = {"name": "holiday", "first_week": 7, "last_week": 8, "multiplier": 3.0}
        scenario = scenario.replace({"seasonality.periods": [holiday]})
    return scenario


@pytest.mark.slow
def test_a_peak_pulls_spend_into_the_weeks_before_it_only_with_memory() -> None:
    """With forgetting, awareness bought just before the peak is still there when demand triples, so those weeks
    earn more than the first; without forgetting, awareness bought early lasts as well, so they do not. The plan
    (the money of the current flighting, each week at most twice its spend) follows."""

    def plan_and_curves(memory: bool, peak: bool) -> tuple[np.ndarray, np.ndarray]:
        scenario = _peak_world(memory, peak)
        curves = measure_week_curves(scenario, seed=1, replications=4, levels=(0.0, 1.0, 2.0))
        plan = solve_weekly(WeeklyProblem(curves, budget=float(week_spend(scenario).sum())))
        return curves.revenue[0, :, 1], plan.spend[0]

    (peak_first, peak_plan), (flat_first, flat_plan) = plan_and_curves(True, True), plan_and_curves(True, False)
    still_first, still_plan = plan_and_curves(False, True)
    # The first 400 of each week, as a multiple of week 1's.
    assert peak_first[4] > 1.2 * peak_first[0] and peak_first[5] > 1.2 * peak_first[0]
    assert flat_first[4] < flat_first[0] and flat_first[5] < flat_first[0]
    assert still_first[4] < 1.05 * still_first[0] and still_first[5] < 1.05 * still_first[0]
    before, early = slice(4, 6), slice(0, 2)
    assert peak_plan[before].sum() > peak_plan[early].sum()
    assert flat_plan[before].sum() < flat_plan[early].sum()
    assert still_plan[before].sum() <= still_plan[early].sum()


def test_the_projected_funnel_spends_the_plan_week_by_week() -> None:
    from mixsim.optimize.weekly.flighting import projected_funnel

    scenario = small_scenario()
    total = float(week_spend(scenario).sum())
    plan = solve_weekly(WeeklyProblem(measure_week_curves(scenario, seed=2, replications=1), budget=total))
    result = projected_funnel(scenario, plan, seed=2, replications=2)
    for record in result.runs:
        np.testing.assert_allclose(record.spend + record.unspent, plan.spend.sum(axis=1), rtol=1e-9)
        weekly = np.add.reduceat(record.daily_spend, np.arange(0, scenario.horizon_days, 7), axis=0).T
        assert np.all(weekly <= plan.spend + 1e-6)  # never more than planned in any week
    assert len(result.to_frame("daily")) > 0


def test_cli_by_week_verify_draws_the_projected_funnel(scenario_file: Path, run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    code, text, err = run_cli(
        "optimize", scenario_file, "--by-week", "-r", "1", "--iterations", "1", "-w", "1", "--verify",
        "--verify-replications", "2", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    assert "Simulated gain over the current flighting" in text
    assert (tmp_path / "plan_funnel.png").stat().st_size > 0
    import json

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["status"] == "optimal" and [v["outcome"] for v in doc["verification"]] == ["current", "plan", "gain"]


class FakeMeasure:
    """Stands in for the simulation: curves r(x) = a h log(1 + x / h) per channel-week, measured exactly on 0,
    1x and 2x of any plan, and the plan's "simulated" revenue from ``truth(x, fake)``. Records each plan measured.
    Without ``a`` and ``h``, random ones; ``tilted`` makes channel 0 four times as good and the curves straight, so
    the program always wants to move money into channel 0 as far as it may."""

    def __init__(self, truth: Callable[[np.ndarray, FakeMeasure], float], tilted: bool = False) -> None:
        rng = np.random.default_rng(5)
        self.a = rng.uniform(1.0, 4.0, (3, 8)) if not tilted else np.array([[4.0] * 8, [1.0] * 8, [1.0] * 8])
        self.h = rng.uniform(500.0, 3000.0, (3, 8)) if not tilted else np.full((3, 8), 1e9)
        self.truth = truth
        self.around: list[np.ndarray] = []

    def __call__(self, scenario: Scenario, *, around: np.ndarray, **_: object) -> WeekCurves:
        self.around.append(around.copy())
        average = around.mean(axis=1, keepdims=True)
        ref = np.where(around > 0, around, np.where(average > 0, average, around.mean()))
        xs = np.array([0.0, 1.0, 2.0])[None, None, :] * ref[:, :, None]
        revenue = self.a[:, :, None] * self.h[:, :, None] * np.log1p(xs / self.h[:, :, None])
        channels = tuple(f"c{i}" for i in range(around.shape[0]))
        return WeekCurves(channels, xs, revenue, around, self.truth(around, self), runs=7)

    def value(self, x: np.ndarray) -> float:
        """The curves' own total: the truth when the curves are right."""
        return float((self.a * self.h * np.log1p(x / self.h)).sum())

    def steps(self) -> list[float]:
        """Each measured plan's largest move from the plan measured before it, as a share of that plan's
        channel-week spend (or its channel's average week, if larger): the trust region it was solved in."""
        out = []
        for before, after in zip(self.around[1:], self.around[2:], strict=False):
            reference = np.maximum(before, before.mean(axis=1, keepdims=True))
            out.append(float((np.abs(after - before) / reference).max()))
        return out


def fake_loop(
    monkeypatch: pytest.MonkeyPatch,
    truth: Callable[[np.ndarray, FakeMeasure], float],
    iterations: int,
    tilted: bool = True,
    budget: float = 24_000.0,
    tolerance: float = 1e-9,
) -> tuple[FakeMeasure, WeeklyPlan]:
    import mixsim.optimize.weekly.flighting as flighting

    fake = FakeMeasure(truth, tilted)
    monkeypatch.setattr(flighting, "measure_week_curves", fake)
    eight_weeks = small_scenario().replace({"scenario.horizon_days": 56})
    plan = optimize_weekly(eight_weeks, lambda c: WeeklyProblem(c, budget=budget), around=np.full((3, 8), 1000.0),
                           max_iterations=iterations, tolerance=tolerance)  # fmt: skip
    return fake, plan


def moved_from_first_plan(x: np.ndarray, fake: FakeMeasure) -> float:
    """Every move away from the first plan loses, whatever the curves promise."""
    return -float(np.abs(x - fake.around[1]).sum()) if len(fake.around) > 1 else 0.0


def test_plans_that_simulate_worse_are_set_aside_and_the_region_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    """The curves always promise a gain from moving into channel 0, but every move away from the first plan loses:
    each later plan is set aside, and the loop solves again from the first plan within 1/2, 1/4, then 1/8 of
    each channel-week's spend."""
    fake, plan = fake_loop(monkeypatch, moved_from_first_plan, iterations=4)
    assert plan.iterations == 4 and plan.rejected == 2 and not plan.settled and plan.runs == 7 * 4
    first = fake.around[1]
    assert np.all(first[0] == 2000.0)  # the first solve: channel 0 as far as its curves reach
    reference = np.maximum(first, first.mean(axis=1, keepdims=True))
    for k, share in ((2, 0.5), (3, 0.25)):
        assert float((np.abs(fake.around[k] - first) / reference).max()) == pytest.approx(share)
    assert float((np.abs(plan.spend - first) / reference).max()) == pytest.approx(0.125)


def test_plans_that_gain_less_than_projected_are_kept_and_the_region_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tenth of the projected gain: each plan is kept (the loop moves on from it), within half the region."""
    fake, plan = fake_loop(monkeypatch, lambda x, f: 0.1 * f.value(x), iterations=4)
    assert plan.rejected == 0 and plan.iterations == 4
    assert fake.steps() == pytest.approx([0.5, 0.25])
    assert fake.value(fake.around[3]) > fake.value(fake.around[2]) > fake.value(fake.around[1])


def test_plans_that_gain_as_projected_keep_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    fake, plan = fake_loop(monkeypatch, lambda x, f: f.value(x), iterations=4)
    assert plan.rejected == 0 and fake.steps() == pytest.approx([0.5, 0.5])


def test_the_first_plan_is_taken_even_when_the_start_breaks_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The start spends 24,000 and the budget is 16,800: the first plan earns less than the start (here every move
    from the start loses) but is the only kind of plan the budget allows, so it is taken, not set aside."""
    fake, plan = fake_loop(monkeypatch, lambda x, f: -float(np.abs(x - 1000.0).sum()), iterations=3, budget=16_800.0)
    assert plan.optimal and plan.spend.sum() == pytest.approx(16_800.0)
    assert len(fake.around) == 3 and fake.around[1].sum() == pytest.approx(16_800.0)


def test_a_plan_the_simulation_agrees_with_settles(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the curves are the truth, every plan is accepted, each solve reaches further along the curves (they
    end at twice the spend they were measured around), and the loop settles close to the true optimum."""
    fake, plan = fake_loop(monkeypatch, lambda x, f: f.value(x), iterations=4, tilted=False, tolerance=0.001)
    assert plan.settled and plan.rejected == 0 and plan.iterations < 4
    assert plan.moves[0] > 0.05 and plan.moves[-1] <= 0.001
    best = optimum_by_bisection(fake.a, fake.h, 24_000.0, top=math.inf)
    # Two segments per curve: the loop settles where each channel-week's chords around it bracket the price of
    # the budget, close to the optimum but not on it (here 99.0% of it, from 85.0% at the start).
    assert fake.value(fake.around[0]) < 0.9 * best and fake.value(plan.spend) > 0.985 * best


def six_weeks() -> Scenario:
    return small_scenario().replace({"scenario.horizon_days": 42})


def test_runs_shared_by_every_channel_week_are_made_once() -> None:
    scenario = six_weeks()
    base = week_spend(scenario)
    base[1, 2] = 0.0  # a dark week: its level 0 is the plan itself
    totals: list[int] = []
    curves = measure_week_curves(scenario, seed=3, replications=2, around=base,
                                 progress=lambda done, total: totals.append(total))  # fmt: skip
    c, w = base.shape
    # Per replication: the plan once, then two runs of its own per channel-week (levels 0 and 2, or 1 and 2).
    assert set(totals) == {2 * (1 + 2 * c * w)} == {week_run_count(base, replications=2)}
    assert curves.spend[1, 2, 1] == pytest.approx(base[1].sum() / w)  # a dark week: the channel's average week


def test_measured_weeks_include_the_edges_of_the_season() -> None:
    np.testing.assert_array_equal(measured_weeks(10, 1), np.arange(10))
    np.testing.assert_array_equal(measured_weeks(10, 4), [0, 4, 8, 9])
    season = [1.0] * 5 + [1.8, 1.8] + [1.0] * 3  # a peak in weeks 6-7 (1-based)
    np.testing.assert_array_equal(measured_weeks(10, 4, season), [0, 4, 5, 6, 7, 8, 9])
    with pytest.raises(ValueError, match="every"):
        measured_weeks(10, 0)


def test_every_other_week_is_measured_exactly_and_the_rest_interpolated() -> None:
    scenario = six_weeks()
    base = week_spend(scenario) * np.array([1.0, 1.5, 0.5, 1.2, 0.8, 1.0])  # references differ week to week
    full = measure_week_curves(scenario, seed=4, replications=1, around=base)
    totals: list[int] = []
    half = measure_week_curves(scenario, seed=4, replications=1, around=base, every=2,
                               progress=lambda done, total: totals.append(total))  # fmt: skip
    measured = [0, 2, 4, 5]
    assert set(totals) == {1 + 2 * 3 * len(measured)} == {week_run_count(base, 1, every=2)}
    np.testing.assert_array_equal(half.spend, full.spend)
    np.testing.assert_array_equal(half.revenue[:, measured], full.revenue[:, measured])
    # Weeks 2 and 4 (1-based): the mean of their neighbours' revenue per unit of reference, times their own.
    per_ref = full.revenue / base[:, :, None]
    for j in (1, 3):
        expected = (per_ref[:, j - 1] + per_ref[:, j + 1]) / 2 * base[:, j, None]
        np.testing.assert_allclose(half.revenue[:, j], expected, rtol=1e-12)


def test_a_channel_with_no_spend_is_measured_at_a_real_buy() -> None:
    scenario = small_scenario()
    around = week_spend(scenario)
    around[1] = 0.0  # search off all quarter
    curves = measure_week_curves(scenario, seed=2, replications=1, around=around)
    np.testing.assert_allclose(curves.spend[1, :, 1], around.sum() / around.size)
    assert np.all(curves.revenue[1, :, 2] > 0)  # a buy that brings sales, not a dollar


def test_a_week_too_small_for_the_default_least_buy_can_still_air() -> None:
    """The default least buy of a week on air (5% of the channel's average week) never asks more than the week's
    curve reaches, so 'no dark weeks' holds for a flighting with one very small week."""
    current = np.array([[1000.0, 1000.0, 10.0, 1000.0]])
    xs = np.array([0.0, 1.0, 2.0])[None, None, :] * current[:, :, None]
    curves = WeekCurves(("tv",), xs, 2.0 * xs, current)
    plan = solve_weekly(WeeklyProblem(curves, budget=current.sum(), max_dark_weeks={"tv": 0}))
    assert plan.optimal and np.all(plan.spend > 0)
