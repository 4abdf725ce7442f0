"""A demand driver in the data and not in the media is not credited to media: promotions lift a market's demand by
60% in one week of four, and social spends half again as much in those weeks. Given the promotion column, the fit
gives the promotion its lift and social its own reach and return; without it, social's reach is inflated to explain
the promotion's sales."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import mixsim
from mixsim.calibration import read_history
from mixsim.calibration.calibrate import calibrate, channel_effects
from mixsim.calibration.replay import history_scenario
from mixsim.research.mmm import mmm_frame, mmm_scenario

pytestmark = pytest.mark.slow

WEEKS = 16
LIFT = 1.6


def test_a_promotion_in_the_data_is_not_credited_to_media(tmp_path: Path) -> None:
    truth = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=3000"])
    promo = [w % 4 == 1 for w in range(WEEKS)]
    season = [LIFT if p else 1.0 for p in promo]
    varied = mmm_scenario(truth, weeks=WEEKS, variation=0.5, seed=1)
    flighting = varied.channel("social").flighting
    assert flighting is not None
    market = varied.replace(
        {
            "seasonality": {"weekly": season},
            "channels.social.flighting": [w * (1.5 if p else 1.0) for w, p in zip(flighting, promo, strict=True)],
        }
    )
    frame = mmm_frame(mixsim.simulate(market, replications=1, seed=3))
    frame["promotion"] = ["yes" if p else "no" for p in promo]
    frame.to_csv(tmp_path / "history.csv", index=False)
    reach = truth.channel("social").p_aware
    priors = {"channels.social.p_aware": {"low": reach / 10, "high": reach * 10}}

    def fitted(controls: dict[str, str]) -> tuple[dict[str, float], float]:
        scenario = truth.replace({"calibration.controls": controls, "calibration.parameters": priors})
        history = read_history(tmp_path / "history.csv", scenario)
        result = calibrate(scenario, history, seed=2, simulations=100, check_replications=4, workers=2)
        return result.point.as_dict(), float(result.channel_values()["social"]["roas"]["mean"])

    with_promotion, roas = fitted({"promotion": "promotion"})
    # The truth's own return on social over the history: the replay with the promotions' demand, social on and off.
    history = read_history(tmp_path / "history.csv", truth)
    replay = history_scenario(truth, history).replace({"seasonality": {"weekly": season}})
    effects = channel_effects([replay] * 4, np.random.SeedSequence(7).spawn(4), history, workers=2)
    true_roas = effects[:, truth.channel_names.index("social")].mean() / history.spend["social"].sum()

    assert with_promotion["baseline.promotion=yes"] == pytest.approx(math.log(LIFT), abs=0.15)
    assert reach / 2 < with_promotion["channels.social.p_aware"] < reach * 2
    assert roas == pytest.approx(true_roas, rel=0.25)
    without_promotion, _ = fitted({})
    assert without_promotion["channels.social.p_aware"] > 3 * reach  # the promotion's sales credited to social
