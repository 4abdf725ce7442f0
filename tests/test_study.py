"""Studies in one call: each equals the steps it stands for, on the same seeds, and refuses before any run."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from mixsim.errors import InputError
from mixsim.research.attribution import against_truth
from mixsim.research.mmm import mmm_dataset, mmm_scenario
from mixsim.research.study import attribution_study, attribution_study_runs, mmm_study, mmm_study_runs
from mixsim.scenario import Scenario
from mixsim.simulation import simulate


def test_an_mmm_study_is_the_stretch_simulated_once_with_its_truth(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    calls: list[tuple[int, int]] = []
    study = mmm_study(
        scenario, 4, variation=0.5, dark=0.2, seed=9, progress=lambda done, total: calls.append((done, total))
    )
    stretched = mmm_scenario(scenario, 4, variation=0.5, dark=0.2, seed=9)
    by_hand = mmm_dataset(
        simulate(stretched, seed=9, replications=1, incrementality=True), scenario, weeks=4, variation=0.5, dark=0.2
    )
    pd.testing.assert_frame_equal(study.data, by_hand.data)
    pd.testing.assert_frame_equal(study.truth, by_hand.truth)
    assert study.seed == 9 and study.summary["simulated"] == stretched.name
    assert calls[-1] == (mmm_study_runs(scenario), mmm_study_runs(scenario))


def test_an_mmm_study_of_several_replications_keeps_the_first_as_its_dataset(
    make_scenario: Callable[..., Scenario],
) -> None:
    scenario = make_scenario("scenario.population=500")
    calls: list[tuple[int, int]] = []
    study = mmm_study(scenario, 3, seed=5, replications=3, progress=lambda done, total: calls.append((done, total)))
    once = mmm_study(scenario, 3, seed=5)
    pd.testing.assert_frame_equal(study.data, once.data)
    pd.testing.assert_frame_equal(study.truth, once.truth)
    assert study.replications == 3 and once.replications == 1
    assert calls[-1] == (mmm_study_runs(scenario, 3), mmm_study_runs(scenario, 3)) == (21, 21)
    assert study.channels["roas_low"].notna().any() and once.channels["roas_low"].isna().all()


def test_an_attribution_study_is_against_truth_on_the_same_runs(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    calls: list[tuple[int, int]] = []
    check = attribution_study(
        scenario, ["linear", "markov"], seed=4, replications=2, progress=lambda d, t: calls.append((d, t))
    )
    result = simulate(scenario, seed=4, replications=2, incrementality=True, journeys=1.0)
    by_hand = against_truth(result, ["linear", "markov"])
    pd.testing.assert_frame_equal(check.to_frame("channels"), by_hand.to_frame("channels"))
    assert calls[-1] == (attribution_study_runs(scenario, 2), attribution_study_runs(scenario, 2))


@pytest.mark.parametrize(
    ("models", "options", "message"),
    [(["lastclick"], {}, "unknown attribution model 'lastclick'"), (["time_decay"], {"half_life": 0.0}, "half_life")],
)
def test_an_attribution_study_refuses_before_any_run(
    make_scenario: Callable[..., Scenario], models: list[str], options: dict[str, float], message: str
) -> None:
    calls: list[int] = []
    with pytest.raises(InputError, match=message):
        attribution_study(make_scenario(), models, progress=lambda d, t: calls.append(d), **options)
    assert calls == []
