"""Lift tests: read in each layout and checked row by row, and reproduced in silico by the scenario replayed over
the history, on the same random numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mixsim
from mixsim.calibration import read_history
from mixsim.calibration.calibrate import calibrate
from mixsim.calibration.evaluation import evaluate
from mixsim.calibration.history import History
from mixsim.calibration.lift import read_lift
from mixsim.calibration.replay import history_scenario
from mixsim.errors import InputError
from mixsim.research.mmm import mmm_frame, mmm_scenario
from mixsim.scenario import Scenario

WEEKS = 12
W = "channel,start,end,lift,spend\n"  # the header of the window layout


@pytest.fixture(scope="module")
def truth() -> Scenario:
    return mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=10000"])


@pytest.fixture(scope="module")
def history(truth: Scenario, tmp_path_factory: pytest.TempPathFactory) -> History:
    result = mixsim.simulate(mmm_scenario(truth, weeks=WEEKS, seed=1), replications=1, seed=3)
    path = tmp_path_factory.mktemp("history") / "history.csv"
    mmm_frame(result).to_csv(path, index=False)
    return read_history(path, truth)


def lift_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lift.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_layout_is_read(truth: Scenario, history: History, tmp_path: Path) -> None:
    window = read_lift(lift_file(tmp_path, "channel,start,end,lift,spend\nsocial,2024-01-15,2024-02-04,900,2500\n"),
                       truth, history)  # fmt: skip
    assert [(e.layout, e.channel, e.first, e.last, e.observed) for e in window] == [("window", "social", 2, 4, 900.0)]
    assert np.isnan(window[0].standard_error)  # none given: the simulated test's own spread
    change = read_lift(lift_file(tmp_path, "channel,x,delta_x,delta_y,sigma\nsearch,1000,200,150,30\n"), truth, history)
    assert (change[0].layout, change[0].x, change[0].delta_x, change[0].standard_error) == (
        "spend_change",
        1000,
        200,
        30,
    )
    estimate = read_lift(
        lift_file(tmp_path, "channel,roas_or_incremental_per_dollar,standard_error,start,end\n"
                  "email,40,5,2024-01-01,2024-03-24\n"), truth, history)  # fmt: skip
    assert (estimate[0].layout, estimate[0].first, estimate[0].last) == ("estimate", 0, WEEKS - 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (W + "tv,2024-01-15,2024-02-04,900,2500\n", "row 2: column channel: no channel 'tv'"),
        (W + "social,2024-01-15,2025-02-04,900,2500\n", "row 2: columns start, end: the test"),
        (W + "social,2024-02-15,2024-02-04,900,2500\n", "row 2: column end: must not be before"),
        (W + "social,2024-01-15,2024-02-04,much,2500\n", "row 2: column lift: must be a number"),
        ("channel,x,delta_x,delta_y,sigma\nsearch,1000,200,150,0\n", "row 2: column sigma: must be a number > 0"),
        ("channel,effect\nsocial,3\n", "row 1: the header names no layout of lift tests"),
    ],
)  # fmt: skip
def test_malformed_lift_tests_are_refused(
    truth: Scenario, history: History, tmp_path: Path, text: str, expected: str
) -> None:
    path = lift_file(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_lift(path, truth, history)
    assert any(p.startswith(f"{path}: ") and expected in p for p in info.value.problems), info.value.problems


def test_tests_are_reproduced_on_the_same_random_numbers(truth: Scenario, history: History, tmp_path: Path) -> None:
    """A window and the estimate over the same weeks are one simulated test: per replication, the estimate times
    the channel's spend in the window is the window's lift, exactly; a spend change of 0 gains nothing; a test of
    the channel at its truth lands near the truth's own lift."""
    text = "channel,start,end,lift,spend\nsocial,2024-01-15,2024-02-04,900,2500\n"
    window = read_lift(lift_file(tmp_path, text), truth, history)
    estimate = read_lift(lift_file(tmp_path, "channel,roas_or_incremental_per_dollar,standard_error,start,end\n"
                                   "social,3,1,2024-01-15,2024-02-04\n"), truth, history)  # fmt: skip
    nothing = read_lift(lift_file(tmp_path, "channel,x,delta_x,delta_y,sigma\nsearch,1000,0,0,1\n"), truth, history)
    replay = history_scenario(truth, history)
    seeds = np.random.SeedSequence(7).spawn(2)
    (checked,) = evaluate([replay], history, [*window, *estimate, *nothing], seeds)
    spend = history.spend["social"][2:5].sum()
    np.testing.assert_allclose(checked.lifts[:, 1] * spend, checked.lifts[:, 0], rtol=1e-12)
    np.testing.assert_array_equal(checked.lifts[:, 2], 0.0)
    assert np.all(checked.lifts[:, 0] > 0)  # social's weeks off cost sales


def test_calibrate_reports_each_test_beside_its_reproduction(truth: Scenario, history: History, tmp_path: Path) -> None:
    rate = truth.organic.conversion_rate
    at_truth = truth.replace(
        {"calibration.parameters": {"organic.conversion_rate": {"low": rate * 0.999, "high": rate * 1.001}}}
    )
    tests = read_lift(lift_file(tmp_path, "channel,start,end,lift,spend,standard_error\n"
                                "social,2024-01-15,2024-02-04,900,2500,150\n"), at_truth, history)  # fmt: skip
    result = calibrate(
        at_truth, history, seed=3, simulations=16, check_replications=3, baseline=False, experiments=tests
    )
    (reported,) = result.experiment_values()
    assert reported["observed"] == 900.0 and reported["standard_error"] == 150.0 and reported["layout"] == "window"
    assert result.lifts is not None and reported["simulated"]["mean"] == pytest.approx(result.lifts[:, 0].mean())
    assert result.check_runs == 3 * (2 + len(truth.channels))
