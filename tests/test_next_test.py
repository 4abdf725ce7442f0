"""Which test next: the preposterior analysis against values solved by hand, a test's spend, and the command."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mixsim.engine import World
from mixsim.errors import InputError
from mixsim.scenario import Scenario
from mixsim.simulation import run_worlds
from mixsim.uncertainty import ParameterSets, rank_tests
from mixsim.uncertainty.nexttest import (
    ExperimentRanking,
    ExperimentValue,
    _preposterior,
    _width,
    _window_kpi,
    experiment_scenario,
)

# Two candidate plans in two worlds: the first returns 10 in world 0 and 0 in world 1, the second 0 and 8. Now the
# first is chosen (5 on average against 4).
RETURNS = np.array([[10.0, 0.0], [0.0, 8.0]])
NOISE = np.random.default_rng(1).standard_normal((2, 400))


def test_a_test_that_shows_the_same_everywhere_is_worth_nothing() -> None:
    evsi, after, changes = _preposterior(np.array([3.0, 3.0]), 1.0, RETURNS, NOISE, 0)
    assert evsi == 0.0 and changes == 0.0
    assert after == pytest.approx(_width(RETURNS[0], np.array([0.5, 0.5])))


def test_a_test_that_reveals_the_world_is_worth_perfect_information() -> None:
    """Figures 1,000 standard errors apart: the world is known after the test, the best plan for it chosen; the
    worth is that of perfect information, (10 + 8) / 2 - 5 = 4, the plan changes in world 1 (half the results),
    and no width is left."""
    evsi, after, changes = _preposterior(np.array([0.0, 1000.0]), 1.0, RETURNS, NOISE, 0)
    assert evsi == pytest.approx(4.0, abs=1e-12)
    assert changes == pytest.approx(0.5) and after == pytest.approx(0.0, abs=1e-9)


def test_a_noisy_test_is_worth_between_nothing_and_perfect_information() -> None:
    """One standard error apart: the reading decides right more often than not. With reading y, world 1 is chosen
    when its weight times 8 beats world 0's times 10, i.e. y > 0.5 + ln(10/8); the worth is then
    0.5 * 8 * P(y > c | world 1) - 0.5 * 10 * P(y > c | world 0), y normal about 0 or 1."""
    from scipy.stats import norm

    cut = 0.5 + np.log(10 / 8)
    exact = 0.5 * 8 * norm.sf(cut - 1.0) - 0.5 * 10 * norm.sf(cut)
    noise = np.random.default_rng(2).standard_normal((2, 200_000))
    evsi, _after, _changes = _preposterior(np.array([0.0, 1.0]), 1.0, RETURNS, noise, 0)
    assert 0 < exact < 4
    assert evsi == pytest.approx(exact, abs=0.02)


def test_the_width_of_weighed_values() -> None:
    """Even weights hold the middle 90% of the values; weight drawn to the middle narrows the interval, and weight
    on one value leaves none."""
    values = np.arange(101.0)
    even = np.full(101, 1 / 101)
    assert _width(values, even) == pytest.approx(90.0, rel=0.02)
    peaked = np.exp(-0.5 * ((values - 50) / 10) ** 2)
    assert _width(values, peaked / peaked.sum()) == pytest.approx(2 * 1.645 * 10, rel=0.05)  # a normal's 90%
    assert _width(values, np.eye(101)[7]) == 0.0


def test_a_reading_updates_the_plan() -> None:
    """Two worlds whose test figures are 0 and 10 (standard error 1): a reading of 10 puts the weight on the second
    world and chooses its plan, with no width left; a reading of 0 keeps the first; half-way, the weights are even
    and the plan best on average (the first) stays."""
    test = ExperimentValue("a", 1.0, np.array([0.0, 10.0]), 1.0, 0.0, 10.0, 0.0, 0.0)
    ranking = ExperimentRanking(
        (test,), ({"a": 1.0}, {"a": 2.0}), RETURNS, "revenue", 2, ParameterSets(("k",), np.zeros((2, 1))), 0, 2
    )
    plan, weight, width = ranking.update("a", 10.0)
    assert plan == {"a": 2.0} and weight[1] > 0.999999 and width == pytest.approx(0.0, abs=1e-6)
    plan, weight, _ = ranking.update("a", 0.0)
    assert plan == {"a": 1.0} and weight[0] > 0.999999
    plan, weight, _ = ranking.update("a", 5.0)
    assert plan == {"a": 1.0} and weight == pytest.approx([0.5, 0.5])
    with pytest.raises(KeyError, match="no test of channel 'b'"):
        ranking.update("b", 1.0)


def test_a_tests_spend(make_scenario: Callable[..., Scenario]) -> None:
    """tv spends 2,000 evenly over 20 days (100 a day; weeks of 7, 7 and 6 days); its 2-week test adds 500 over the
    first 14 days, or by default its own spend there, 1,400: what the engine spends day by day says so."""
    from mixsim.engine.delivery import daily_spend

    scenario = make_scenario()
    tested, extra = experiment_scenario(scenario, "tv", 2, 500.0)
    per_day = daily_spend(tested.channel("tv"), scenario.horizon_days)
    assert extra == 500.0 and tested.channel("tv").spend == pytest.approx(2_500.0)
    assert per_day == pytest.approx([100 + 500 / 14] * 14 + [100] * 6)
    _, default = experiment_scenario(scenario, "tv", 2, None)
    assert default == pytest.approx(1_400.0)
    with pytest.raises(InputError, match="weeks: a test lasts 1 to the horizon's 3 weeks"):
        experiment_scenario(scenario, "tv", 4, None)
    with pytest.raises(InputError, match="budget_per_test: must be a number > 0"):
        experiment_scenario(scenario, "tv", 1, 0.0)


def test_identical_parameter_sets_leave_no_test_anything_to_tell(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario("scenario.population=1000")
    sets = ParameterSets(("channels.tv.p_aware",), np.array([[0.05]] * 3))
    ranking = rank_tests(scenario, sets, worlds=3, replications=2, levels=(0, 1, 2), weeks=2, draws=50)
    assert [t.evsi for t in ranking.tests] == [0.0] * 3
    assert all(t.changes == 0.0 and np.ptp(t.lift) == 0.0 for t in ranking.tests)
    data = json.loads(ranking.to_json())
    assert data["recommended"] == ranking.tests[0].channel and len(data["tests"]) == 3


def test_next_test_command(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.search.p_convert\n0.002\n0.05\n0.01\n", encoding="utf-8")
    args = ["next-test", scenario_file, "--posterior", posterior, "-r", "2", "--weeks", "2", "-w", "1"]
    code, out, err = run_cli(*args, "--out", tmp_path / "nt")
    assert code == 0, err
    assert "Recommended: test" in out and (tmp_path / "nt" / "tests.csv").exists()
    data = json.loads((tmp_path / "nt" / "next_test.json").read_text(encoding="utf-8"))
    assert {t["channel"] for t in data["tests"]} == {"tv", "search", "email"}
    assert [t["rank"] for t in data["tests"]] == [1, 2, 3]
    narrowing = [t["narrowing"] for t in data["tests"]]
    assert sorted(narrowing, reverse=True) == narrowing  # ranked by narrowing by default
    code, out, err = run_cli(*args, "--rank-by", "value", "--json")
    assert code == 0, err
    evsi = [t["evsi"] for t in json.loads(out)["tests"]]
    assert sorted(evsi, reverse=True) == evsi


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--weeks", "9"], "--weeks: a test lasts 1 to the horizon's 3 weeks (got 9)"),
        (["--weeks", "0"], "--weeks"),
        (["--worlds", "1"], "--worlds: a test can only tell parameter sets apart from 2 of them"),
        (["-r", "1"], "--replications: at least 2"),
        (["--budget-per-test", "-5"], "--budget-per-test"),
        (["--objective", "min-spend"], "--objective"),
    ],
)
def test_next_test_refuses_bad_input(  # type: ignore[no-untyped-def]
    run_cli, scenario_file: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.search.p_convert\n0.002\n0.05\n", encoding="utf-8")
    code, _out, err = run_cli("next-test", scenario_file, "--posterior", posterior, "-w", "1", *extra)
    assert code == 2 and message in err and "Traceback" not in err


def test_next_test_needs_a_posterior(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("next-test", scenario_file)
    assert code == 2 and "--posterior" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("channels.radio.p_aware\n0.1\n", encoding="utf-8")
    code, _out, err = run_cli("next-test", scenario_file, "--posterior", bad)
    assert code == 2 and "bad.csv" in err and "radio" in err


@pytest.mark.slow
def test_the_top_ranked_test_narrows_the_plan_more_than_a_random_one(make_scenario: Callable[..., Scenario]) -> None:
    """Synthetic truths: the posterior is 16 parameter sets drawn from log-uniform priors on tv's awareness,
    search's conversion and email's consideration; the truths are 8 more draws, none of them a world of the ranking.
    In each truth every channel's test is run (simulated on fresh seeds, the test and its control on different ones,
    as a real test reads) and the posterior reweighed by its reading. Averaged over truths, readings and three
    draws of posterior and truths, the plan's 90% interval after the top-ranked test is narrower than after a test
    of a channel drawn at random, and narrower than before."""
    scenario = make_scenario(
        "scenario.population=3000", "scenario.horizon_days=42", "channels.tv.fixed_cost=0", "budget.total=5000"
    )
    keys = ("channels.tv.p_aware", "channels.search.p_convert", "channels.email.p_consider")
    low, high = np.log([0.01, 0.005, 0.005]), np.log([0.3, 0.1, 0.1])
    names = scenario.channel_names
    top, random, before = [], [], []
    for draw in range(3):
        rng = np.random.default_rng(draw)
        particles = ParameterSets(keys, np.exp(rng.uniform(low, high, (16, 3))))
        ranking = rank_tests(
            scenario, particles, worlds=16, seed=3, replications=3, levels=(0, 0.5, 1, 2, 4), weeks=3, workers=2
        )
        truths = ParameterSets(keys, np.exp(rng.uniform(low, high, (8, 3)))).scenarios(scenario)
        seeds = np.random.SeedSequence(77 + draw).spawn(6)
        runs = [
            World(variant, q)
            for truth in truths
            for variant in (truth, *(experiment_scenario(truth, name, 3, None)[0] for name in names))
            for q in seeds
        ]
        window = np.array([_window_kpi(r, scenario, 3) for r in run_worlds(runs, 2)])
        window = window.reshape(len(truths), 1 + len(names), len(seeds))
        widths = {
            name: np.mean(
                [
                    ranking.update(name, window[t, 1 + k, j] - window[t, 0, j + 1])[2]
                    for t in range(len(truths))
                    for j in range(0, len(seeds), 2)
                ]
            )
            for k, name in enumerate(names)
        }
        top.append(widths[ranking.best.channel])
        random.append(np.mean(list(widths.values())))
        before.append(ranking.best.width_before)
    assert np.mean(top) < np.mean(random), (top, random)
    assert np.mean(top) < np.mean(before), (top, before)


def test_a_holdout_switches_the_channel_off_over_its_weeks(make_scenario: Callable[..., Scenario]) -> None:
    """A two-week holdout of tv: 0 a day over the first 14 days, 100 a day after; the 1,400 withheld is its size.
    It takes no budget; a channel whose whole spend falls in the window is simply off."""
    from mixsim.engine.delivery import daily_spend

    scenario = make_scenario()
    held, size = experiment_scenario(scenario, "tv", 2, None, "holdout")
    assert size == pytest.approx(-1_400.0)
    assert daily_spend(held.channel("tv"), scenario.horizon_days) == pytest.approx([0.0] * 14 + [100.0] * 6)
    off, size = experiment_scenario(scenario, "tv", 3, None, "holdout")
    assert off.channel("tv").spend == 0.0 and size == pytest.approx(-2_000.0)
    with pytest.raises(InputError, match="budget_per_test: not with a holdout"):
        experiment_scenario(scenario, "tv", 2, 500.0, "holdout")
    with pytest.raises(InputError, match="design: one of increase, holdout"):
        experiment_scenario(scenario, "tv", 2, None, "pause")


def test_next_test_with_holdouts(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.search.p_convert\n0.002\n0.05\n", encoding="utf-8")
    args = ["next-test", scenario_file, "--posterior", posterior, "-r", "2", "--weeks", "2", "-w", "1"]
    code, out, err = run_cli(*args, "--design", "holdout", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["design"] == "holdout" and all(t["extra"] < 0 for t in data["tests"])
    search = next(t for t in data["tests"] if t["channel"] == "search")
    assert search["lift_mean"] > 0  # switched off, search loses revenue in every set
    code, _, err = run_cli(*args, "--design", "holdout", "--budget-per-test", "100")
    assert code == 2 and "--budget-per-test: not with a holdout" in err
