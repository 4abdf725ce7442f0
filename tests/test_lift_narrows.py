"""A lift test narrows its channel: a history in which social's spend is flat cannot tell social's reach from the
awareness the market gains on its own; a test that switched social off for most of the history can. Fitted with and
without the test, on the same posterior budget in generations, social's ROAS interval over the history and its
parameter's posterior are narrower with it, and the interval still holds the truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import mixsim
from mixsim.calibration import read_history
from mixsim.calibration.calibrate import Calibrated, calibrate, channel_effects
from mixsim.calibration.evaluation import evaluate
from mixsim.calibration.lift import read_lift
from mixsim.calibration.replay import history_scenario
from mixsim.research.mmm import mmm_frame, mmm_scenario

pytestmark = pytest.mark.slow

WEEKS = 16
KEYS = ("channels.social.p_aware", "organic.awareness_rate")


def test_a_lift_test_narrows_its_channels_roas_interval(tmp_path: Path) -> None:
    truth = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=3000"])
    generated = mixsim.simulate(mmm_scenario(truth, weeks=WEEKS, variation=0.0, seed=5), replications=1, seed=5)
    mmm_frame(generated).to_csv(tmp_path / "history.csv", index=False)
    history = read_history(tmp_path / "history.csv", truth, holdout_weeks=0)
    # The test: social off in weeks 3 to 14, its lift what the truth loses there on six seeds of its own, their
    # spread its standard error.
    start, end = history.dates[2], history.dates[13] + dt.timedelta(days=6)
    lift = tmp_path / "lift.csv"
    lift.write_text(f"channel,start,end,lift,spend\nsocial,{start},{end},0,0\n", encoding="utf-8")
    replay = history_scenario(truth, history)
    (measured,) = evaluate([replay], history, read_lift(lift, truth, history), np.random.SeedSequence(6).spawn(6))
    observed, se = float(measured.lifts[:, 0].mean()), float(measured.lifts[:, 0].std(ddof=1))
    lift.write_text(
        f"channel,start,end,lift,spend,standard_error\nsocial,{start},{end},{observed},1,{se}\n", encoding="utf-8"
    )
    tests = read_lift(lift, truth, history)
    social = truth.channel_names.index("social")
    true_roas = float(
        channel_effects([replay] * 4, np.random.SeedSequence(7).spawn(4), history)[:, social].mean()
        / history.spend["social"].sum()
    )

    def value(key: str) -> float:
        part, name, *rest = key.split(".")
        return float(getattr(truth.channel(name), rest[0]) if part == "channels" else getattr(truth.organic, name))

    # Priors a factor of 10 either side of the truth.
    priors = {key: {"low": value(key) / 10, "high": value(key) * 10} for key in KEYS}
    scenario = truth.replace({"calibration.parameters": priors})

    def fit(experiments: list) -> Calibrated:  # type: ignore[type-arg]
        return calibrate(
            scenario, history, seed=8, simulations=100, experiments=experiments, particles=20, generations=9,
            draws=20, baseline=False, workers=2,
        )  # fmt: skip

    without, with_test = fit([]), fit(tests)
    assert with_test.posterior is not None and without.posterior is not None
    assert with_test.posterior.generations == without.posterior.generations == 9
    low_0, high_0 = without.channel_values()["social"]["roas"]["ci90"]
    low_1, high_1 = with_test.channel_values()["social"]["roas"]["ci90"]
    assert high_1 - low_1 < 0.8 * (high_0 - low_0), ((low_0, high_0), (low_1, high_1))
    assert low_1 <= true_roas <= high_1, (true_roas, low_1, high_1)
    # Social's reach is what the test pins down: its posterior spread (in the prior's scale) at least halves.
    spread_0, spread_1 = (f.posterior.unit[:, 0].std() for f in (without, with_test))
    assert spread_1 < 0.5 * spread_0, (spread_0, spread_1)
