"""Replicated simulation: seeding, workers and executors, progress, argument checks and ground-truth incrementality."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mixsim
from conftest import small_data
from mixsim.engine import RunRecord, run
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario
from mixsim.simulation import MARGINAL_SHARE, simulate

MakeScenario = Callable[..., Scenario]
RECORD_FIELDS = [f.name for f in dataclasses.fields(RunRecord)]


def assert_same_run(a: RunRecord, b: RunRecord, where: str = "") -> None:
    for name in RECORD_FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{where} {name}")


def seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(seed).spawn(replications)


# --- the result and its seeding ---------------------------------------------------------------------------------


def test_returns_a_simulation_result(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    result = simulate(scenario, seed=4, replications=3)
    assert isinstance(result, SimulationResult)
    assert result.scenario is scenario
    assert (result.seed, result.replications, result.version) == (4, 3, mixsim.__version__)
    assert isinstance(result.runs, tuple) and all(isinstance(r, RunRecord) for r in result.runs)
    assert result.incrementality is None
    assert result.channels == ("tv", "search", "email")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.seed = 5  # type: ignore[misc]


def test_replication_r_is_a_run_with_the_rth_spawned_seed(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    result = simulate(scenario, seed=9, replications=3)
    for r, child in enumerate(seeds(9, 3)):
        assert_same_run(result.runs[r], run(scenario, child), f"replication {r}")
    # ...so replications really are independent draws, not copies of one run.
    assert result.runs[0].conversions != result.runs[1].conversions or not np.array_equal(
        result.runs[0].daily_stages, result.runs[1].daily_stages
    )


def test_default_seed_is_the_scenarios_else_zero(make_scenario: MakeScenario) -> None:
    with_seed = make_scenario()  # scenario.seed = 3
    assert with_seed.seed == 3
    assert simulate(with_seed, replications=1).seed == 3
    assert_same_run(simulate(with_seed, replications=1).runs[0], run(with_seed, seeds(3, 1)[0]))

    data = small_data()
    del data["scenario"]["seed"]
    without = make_scenario(data=data)
    assert without.seed is None
    result = simulate(without, replications=1)
    assert result.seed == 0
    assert_same_run(result.runs[0], run(without, seeds(0, 1)[0]))


def test_more_replications_extend_nothing_but_reseed(make_scenario: MakeScenario) -> None:
    """spawn(R)[r] does not depend on R, so the first replications of a longer study are the shorter study's."""
    scenario = make_scenario()
    short, long = simulate(scenario, seed=1, replications=2), simulate(scenario, seed=1, replications=3)
    for a, b in zip(short.runs, long.runs, strict=False):
        assert_same_run(a, b)


def test_workers_and_executors_give_the_same_result(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    serial = simulate(scenario, seed=6, replications=3, incrementality=True)
    parallel = simulate(scenario, seed=6, replications=3, workers=2, incrementality=True)
    assert parallel.to_json() == serial.to_json()
    with cf.ThreadPoolExecutor(max_workers=3) as pool:
        threaded = simulate(scenario, seed=6, replications=3, workers=1, executor=pool, incrementality=True)
        assert threaded.to_json() == serial.to_json()
        assert pool.submit(lambda: 1).result() == 1, "a caller's executor is not shut down"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"replications": 0}, "replications must be from 1 to 100,000 (got 0)"),
        ({"replications": -2}, "replications must be from 1 to 100,000 (got -2)"),
        ({"workers": 0}, "workers must be >= 1 (got 0)"),
        ({"seed": -1}, "seed must be >= 0 (got -1)"),
    ],
)
def test_bad_arguments_raise_value_error(make_scenario: MakeScenario, kwargs: dict[str, Any], message: str) -> None:
    calls: list[tuple[int, int]] = []
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        simulate(make_scenario(), progress=lambda d, t: calls.append((d, t)), **kwargs)
    assert calls == [], "nothing runs before the arguments are checked"


@pytest.mark.parametrize("kwargs", [{"replications": 0}, {"workers": 0}, {"seed": -1}, {"journeys": 1.5}])
def test_bad_arguments_are_input_errors(make_scenario: MakeScenario, kwargs: dict[str, Any]) -> None:
    from mixsim.errors import InputError

    with pytest.raises(InputError):
        simulate(make_scenario(), **kwargs)


# --- progress ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("incrementality", [False, True])
def test_progress_counts_every_run(make_scenario: MakeScenario, workers: int, incrementality: bool) -> None:
    scenario = make_scenario("channels.email.spend=0")  # a zero-spend channel is not re-run
    calls: list[tuple[int, int]] = []
    simulate(
        scenario,
        seed=1,
        replications=2,
        workers=workers,
        incrementality=incrementality,
        progress=lambda done, total: calls.append((done, total)),
    )
    total = 2 * (1 + 2 * 2) if incrementality else 2  # per replication: the run, then off and 95% for tv, search
    # Runs go in batches: the count rises with each batch (and with a batch's days when it runs here), to the total.
    done = [d for d, _ in calls]
    assert calls and all(t == total for _, t in calls)
    assert done == sorted(done) and done[-1] == total and done[0] >= 1


# --- incrementality ---------------------------------------------------------------------------------------------


def test_incrementality_is_off_run_arithmetic(make_scenario: MakeScenario) -> None:
    scenario = make_scenario()
    replications, seed = 2, 8
    result = simulate(scenario, seed=seed, replications=replications, incrementality=True)
    inc = result.incrementality
    assert inc is not None
    shape = (replications, len(scenario.channels))
    for field in ("conversions", "revenue", "roas", "marginal_roas"):
        assert getattr(inc, field).shape == shape, field
    value = scenario.economics.order_value
    for r, child in enumerate(seeds(seed, replications)):
        base = run(scenario, child)
        assert_same_run(result.runs[r], base)
        for k, channel in enumerate(scenario.channels):
            off = run(scenario, child, {channel.name: 0.0})
            reduced = run(scenario, child, {channel.name: channel.spend * (1 - MARGINAL_SHARE)})
            assert off.spend[k] == 0 and off.exposures[k] == 0
            expected = base.conversions - off.conversions
            assert inc.conversions[r, k] == expected, (r, channel.name)
            assert inc.revenue[r, k] == expected * value
            assert inc.roas[r, k] == pytest.approx(expected * value / base.spend[k], rel=1e-12)
            last_spend = base.spend[k] - reduced.spend[k]
            if last_spend > 0:
                marginal = (base.conversions - reduced.conversions) * value / last_spend
                assert inc.marginal_roas[r, k] == pytest.approx(marginal, rel=1e-12)
            else:  # the last 5% of the plan could not be delivered (a cap, an exhausted pool)
                assert np.isnan(inc.marginal_roas[r, k])
    assert inc.conversions[:, 0].min() > 0, "tv creates the awareness everything else needs"


def test_a_counterfactual_spend_is_the_edited_scenario(make_scenario: MakeScenario) -> None:
    """``run(scenario, seed, {"tv": 0})`` (what incrementality uses) is exactly the scenario with tv's spend set to 0
    in the file, run with the same seed: the off-run measures that plan, nothing else."""
    scenario = make_scenario()
    child = seeds(5, 1)[0]
    off = run(scenario, child, {"tv": 0.0})
    assert_same_run(off, run(make_scenario("channels.tv.spend=0"), child))


def inert_channel_data(half_life: float | None) -> dict[str, Any]:
    """The small scenario plus ``dud``: a channel that touches aware and considering customers all day long and can
    never move anyone (every p = 0); no synergy."""
    data = small_data()
    data["funnel"] = {"synergy": 0.0}
    if half_life is not None:
        data["funnel"]["half_life_days"] = {"aware": half_life, "considering": half_life}
    data["channels"]["dud"] = {
        "cpm": 1.0,
        "spend": 40.0,
        "targets": ["aware", "considering"],
        "p_aware": 0.0,
        "p_consider": 0.0,
        "p_convert": 0.0,
    }
    return data


def test_a_channel_that_moves_nobody_has_exactly_zero_effect(make_scenario: MakeScenario) -> None:
    """p = 0 everywhere, no synergy and no memory: nothing the channel does changes any customer's stage, and
    common random numbers keep every other process on the same numbers, so its effect is exactly 0, not noise."""
    scenario = make_scenario(data=inert_channel_data(half_life=None))
    result = simulate(scenario, seed=2, replications=3, incrementality=True)
    inc = result.incrementality
    assert inc is not None
    k = scenario.channel_names.index("dud")
    assert result.channel_values()["exposures"][:, k].min() > 0, "the channel does deliver"
    assert result.kpi_values()["conversions"].min() > 0
    assert np.all(inc.conversions[:, k] == 0)
    assert np.all(inc.revenue[:, k] == 0)
    assert np.all(inc.roas[:, k] == 0)
    assert np.all(inc.marginal_roas[:, k] == 0)
    assert np.all(inc.conversions[:, scenario.channel_names.index("tv")] > 0), "the others are still measured"


def test_a_channel_that_moves_nobody_still_reminds_when_memory_is_finite(make_scenario: MakeScenario) -> None:
    """With finite half-lives an exposure counts as a touch, and touched customers do not forget that day
    (DESIGN.md, Memory): a p = 0 channel keeps customers warm, so its incremental effect is positive."""
    data = inert_channel_data(half_life=3.0)
    # Few paid touches otherwise (in the full small scenario tv and email touch nearly every aware customer daily
    # anyway, and then the reminder changes nothing); organic forces feed the funnel.
    del data["channels"]["search"], data["channels"]["email"]
    data["channels"]["tv"]["spend"] = 200.0
    data["organic"].update(awareness_rate=0.02, consideration_rate=0.05, conversion_rate=0.02)
    scenario = make_scenario(data=data)
    result = simulate(scenario, seed=2, replications=2, incrementality=True)
    assert result.incrementality is not None
    k = scenario.channel_names.index("dud")
    off_conversions = result.kpi_values()["conversions"] - result.incrementality.conversions[:, k]
    assert np.all(result.incrementality.conversions[:, k] > 0.2 * off_conversions), "a clear effect, not noise"


def test_zero_spend_channels_have_undefined_incremental_roas(make_scenario: MakeScenario) -> None:
    scenario = make_scenario("channels.search.spend=0")
    result = simulate(scenario, seed=1, replications=2, incrementality=True)
    inc = result.incrementality
    assert inc is not None
    k = scenario.channel_names.index("search")
    assert np.all(inc.conversions[:, k] == 0) and np.all(inc.revenue[:, k] == 0)
    assert np.all(np.isnan(inc.roas[:, k])) and np.all(np.isnan(inc.marginal_roas[:, k]))
    others = [i for i in range(len(scenario.channels)) if i != k]
    assert np.all(np.isfinite(inc.roas[:, others]))
    # Marginal ROAS of the others is defined wherever their last 5% was actually delivered.
    assert np.isfinite(inc.marginal_roas[:, others]).any()
    search = result.to_dict()["channels"]["search"]["incremental"]
    assert search["roas"] == {"mean": None, "ci90": [None, None]}
    assert search["marginal_roas"] == {"mean": None, "ci90": [None, None]}
    assert search["conversions"]["mean"] == 0
    assert math.isfinite(result.to_dict()["channels"]["tv"]["incremental"]["roas"]["mean"])
