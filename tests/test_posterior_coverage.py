"""Simulation-based calibration of the posterior: over truths drawn from the priors, the 90% intervals hold the
truth about 90% of the time and are narrower than the priors (a posterior that is the prior would cover every truth
and say nothing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mixsim
from mixsim.calibration import read_history
from mixsim.calibration.parameters import Parameter
from mixsim.calibration.posterior import sample_posterior
from mixsim.research.mmm import mmm_frame, mmm_scenario

pytestmark = pytest.mark.slow

TRUTHS = 8


def test_posterior_intervals_cover_truths_drawn_from_the_priors(tmp_path: Path) -> None:
    base = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=3000"])
    centre = {"organic.conversion_rate": base.organic.conversion_rate,
              "channels.search.p_convert": base.channel("search").p_convert}  # fmt: skip
    prior = [Parameter(key, value / 5, value * 5, log=True) for key, value in centre.items()]
    rng = np.random.default_rng(17)
    covered, widths = [], []
    for k in range(TRUTHS):
        unit = rng.random(len(prior))  # a truth drawn from the priors
        truth = base.replace({p.key: p.from_unit(u) for p, u in zip(prior, unit, strict=True)})
        frame = mmm_frame(mixsim.simulate(mmm_scenario(truth, weeks=12, seed=k), replications=1, seed=50 + k))
        frame.to_csv(tmp_path / f"h{k}.csv", index=False)
        history = read_history(tmp_path / f"h{k}.csv", base)
        posterior = sample_posterior(base, history, prior, particles=20, simulations=100, seed=k, workers=2)
        assert posterior.simulations <= 100 and posterior.generations >= 3
        summary = posterior.summary()
        for j, p in enumerate(prior):
            low, high = (p.to_unit(v) for v in summary[p.key]["ci90"])  # type: ignore[attr-defined]
            covered.append(low <= unit[j] <= high)
            widths.append(high - low)
    assert sum(covered) >= 0.75 * len(covered), covered
    assert np.mean(widths) < 0.7, widths
