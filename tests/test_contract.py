"""One contract for every result mixsim returns, checked on each of them.

A result is a frozen object a notebook, a script and the command line all read the same way: ``to_frame()`` gives
a pandas table, ``to_json()`` gives strict JSON (no NaN: undefined figures are null) that ``json.loads`` reads back,
``_repr_html_()`` renders it in Jupyter, and results made from random numbers carry their seed and the version
that made them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mixsim
from conftest import small_data
from mixsim.optimizer.weekly import WeeklyProblem, optimize_weekly, verify_weekly
from mixsim.research.mmm import mmm_dataset, mmm_scenario
from mixsim.scenario import Scenario, parse_scenario
from mixsim.sweep import describe
from mixsim.uncertainty import (
    ParameterSets,
    Risk,
    compare_worlds,
    optimize_under_risk,
    rank_tests,
    simulate_worlds,
)
from mixsim.uncertainty.curves import curves_across
from mixsim.uncertainty.frontier import risk_frontier


@pytest.fixture(scope="module")
def small() -> Scenario:
    return parse_scenario(small_data(), source="small.toml")


@pytest.fixture(scope="module")
def simulated(small: Scenario) -> mixsim.SimulationResult:
    return mixsim.simulate(small, seed=5, replications=2, workers=1, incrementality=True, journeys=1.0)


@pytest.fixture(scope="module")
def curves(small: Scenario) -> mixsim.CurveSet:
    return mixsim.response_curves(small, seed=5, replications=1, levels=(0, 0.5, 1, 2), workers=1)


def _plan(small: Scenario, curves: mixsim.CurveSet) -> Any:
    plan = mixsim.solve(mixsim.Problem.from_scenario(small, curves))
    return mixsim.verify(small, plan, seed=5, replications=2, workers=1)


def _comparison(small: Scenario) -> Any:
    more_tv = small.replace({"channels.tv.spend": 3000})
    return mixsim.compare(small, [("more tv", more_tv)], seed=5, replications=2, workers=1)


def _mmm(small: Scenario) -> Any:
    stretched = mmm_scenario(small, 4, variation=0.5, dark=0.2, seed=5)
    result = mixsim.simulate(stretched, seed=5, replications=1, workers=1, incrementality=True)
    return mmm_dataset(result, small, weeks=4, variation=0.5, dark=0.2)


def _weekly(small: Scenario) -> Any:
    plan = optimize_weekly(
        small,
        lambda c: WeeklyProblem(c, budget=small.total_spend),
        seed=5,
        replications=1,
        max_iterations=1,
    )
    return verify_weekly(small, plan, seed=5, replications=2)


SETS = ParameterSets(("channels.tv.p_aware",), np.array([[0.01], [0.1]]), "two sets")

RESULTS: dict[str, tuple[Callable[..., Any], bool]] = {
    # name: (make it from the fixtures, whether it comes from random numbers and so carries a seed)
    "SimulationResult": (lambda s, r, c: r, True),
    "Comparison": (lambda s, r, c: _comparison(s), True),
    "CurveSet": (lambda s, r, c: c, True),
    "Plan": (lambda s, r, c: _plan(s, c), True),
    "WeeklyPlan": (lambda s, r, c: _weekly(s), True),
    "Frontier": (lambda s, r, c: mixsim.frontier(mixsim.Problem.from_scenario(s, c), [2000.0, 4000.0]), True),
    "MMMDataset": (lambda s, r, c: _mmm(s), True),
    "AttributionCheck": (lambda s, r, c: mixsim.against_truth(r), True),
    "Journeys": (lambda s, r, c: r.journeys(), True),
    "Sweep": (lambda s, r, c: describe(s, {"grid": {"funnel.synergy": [0.0, 0.2]}}, seed=5, replications=1), True),
    "WorldsResult": (lambda s, r, c: simulate_worlds(s, SETS, seed=5, replications=2), True),
    "WorldsComparison": (
        lambda s, r, c: compare_worlds(s, [("more tv", s.with_spend({"tv": 3000.0}))], SETS, seed=5, replications=2),
        True,
    ),
    "RobustPlan": (
        lambda s, r, c: optimize_under_risk(
            s, SETS, Risk(), seed=5, replications=1, levels=(0, 1, 2), check_replications=0, iterations=1
        ),
        True,
    ),
    "ExperimentRanking": (
        lambda s, r, c: rank_tests(s, SETS, worlds=2, replications=2, levels=(0, 1, 2), weeks=1, draws=20, seed=5),
        True,
    ),
    "RiskFrontier": (
        lambda s, r, c: risk_frontier(s, SETS, [2000.0, 4000.0], Risk(), seed=5, replications=1, levels=(0, 1, 2)),
        True,
    ),
    "WorldsCurves": (lambda s, r, c: curves_across(s, SETS, seed=5, replications=1, levels=(0, 1, 2)), True),
}


@pytest.fixture(scope="module", params=sorted(RESULTS))
def result(request: pytest.FixtureRequest, small: Scenario, simulated: Any, curves: Any) -> tuple[str, Any, bool]:
    make, seeded = RESULTS[request.param]
    return request.param, make(small, simulated, curves), seeded


def _strict(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"to_json() wrote {constant}, which is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_to_frame_is_a_table(result: tuple[str, Any, bool]) -> None:
    name, obj, _ = result
    frame = obj.to_frame()
    assert isinstance(frame, pd.DataFrame), name
    assert len(frame) > 0 and len(frame.columns) > 0, name


def test_to_json_round_trips(result: tuple[str, Any, bool]) -> None:
    name, obj, _ = result
    doc = _strict(obj.to_json())
    assert isinstance(doc, dict | list), name
    assert json.loads(json.dumps(doc)) == doc


def test_seed_and_version(result: tuple[str, Any, bool]) -> None:
    name, obj, seeded = result
    doc = _strict(obj.to_json())
    assert getattr(obj, "version", None) == mixsim.__version__, f"{name} does not say which version made it"
    assert isinstance(doc, dict) and doc.get("version") == mixsim.__version__, f"{name}'s JSON has no version"
    if seeded:
        assert isinstance(obj.seed, int | np.integer), f"{name} does not carry its seed"
        assert doc.get("seed") == obj.seed, f"{name}'s JSON does not carry its seed"


def test_renders_in_jupyter(result: tuple[str, Any, bool]) -> None:
    name, obj, _ = result
    html = obj._repr_html_()
    assert isinstance(html, str) and "<table" in html, name


def test_plans_share_one_contract(small: Scenario, curves: Any, tmp_path: Path) -> None:
    # The channel-level and the week-level plan are the same kind of object: the same words, one exporter.
    channel, weekly = _plan(small, curves), _weekly(small)
    for plan in (channel, weekly):
        assert isinstance(plan.converged, bool)
        assert type(plan.verification).__name__ == "Verification"
        assert isinstance(plan.verification.to_frame(), pd.DataFrame)
        for suffix in ("csv", "json", "xlsx"):
            assert mixsim.write_plan(plan, tmp_path / f"{type(plan).__name__}.{suffix}").stat().st_size > 0
        with pytest.raises(mixsim.InputError, match="xml"):
            mixsim.write_plan(plan, tmp_path / "plan.xml")
    assert type(channel.verification) is type(weekly.verification)
