"""How well each posterior method recovers known truths on the same budget: simulation-based calibration of the ABC
methods of mixsim.calibration.posterior on synthetic histories.

    python benchmarks/posterior_methods.py [--truths K] [--particles N] [--simulations S] [--workers W]

Each truth draws two parameters (the D2C scenario's organic conversion rate and search's conversion chance) from
their priors (log-uniform over a factor of 5 either side of the file's values); mixsim simulates 14 weeks of history
from it (4,000 customers, spend varying week to week), and each method samples a posterior from the same budget of
runs. Printed per method: how often the 90% interval holds the truth (0.9 for a calibrated posterior), the mean
width of that interval (in the prior's unit scale, where the prior spans 1), the mean distance of the posterior
mean from the truth (same scale), and the wall seconds spent.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import mixsim
from mixsim.calibration import read_history
from mixsim.calibration.parameters import Parameter
from mixsim.calibration.posterior import sample_posterior
from mixsim.research.mmm import mmm_frame, mmm_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "d2c_ecommerce.toml"
KEYS = ("organic.conversion_rate", "channels.search.p_convert")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=20)
    parser.add_argument("--particles", type=int, default=20)
    parser.add_argument("--simulations", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--methods", default="smc,pmc", help="comma-separated: smc, pmc")
    args = parser.parse_args()
    base = mixsim.load_scenario(SCENARIO, overrides=["scenario.population=4000"])
    centre = [base.organic.conversion_rate, base.channel("search").p_convert]
    prior = [Parameter(key, value / 5, value * 5, log=True) for key, value in zip(KEYS, centre, strict=True)]
    rng = np.random.default_rng(2026)
    truths = rng.random((args.truths, len(prior)))
    scores: dict[str, list[tuple[bool, float, float]]] = {m: [] for m in args.methods.split(",")}
    cpu = dict.fromkeys(scores, 0.0)
    with tempfile.TemporaryDirectory() as folder:
        for k, unit in enumerate(truths):
            truth = base.replace({p.key: p.from_unit(u) for p, u in zip(prior, unit, strict=True)})
            frame = mmm_frame(mixsim.simulate(mmm_scenario(truth, weeks=14, seed=k), replications=1, seed=100 + k))
            path = Path(folder) / f"history{k}.csv"
            frame.to_csv(path, index=False)
            history = read_history(path, base)
            for method in scores:
                start = time.perf_counter()
                posterior = sample_posterior(
                    base, history, prior, particles=args.particles, simulations=args.simulations, seed=k,
                    method=method, workers=args.workers,
                )  # fmt: skip
                cpu[method] += time.perf_counter() - start
                summary = posterior.summary()
                mean_unit = posterior.weights @ posterior.unit
                for j, p in enumerate(prior):
                    low, high = (p.to_unit(v) for v in summary[p.key]["ci90"])  # type: ignore[attr-defined]
                    scores[method].append((low <= unit[j] <= high, high - low, abs(mean_unit[j] - unit[j])))
    print(f"{args.truths} truths x {len(prior)} parameters, {args.particles} particles, {args.simulations} runs each")
    for method, rows in scores.items():
        covered, width, error = (np.mean([r[i] for r in rows]) for i in range(3))
        print(f"  {method}: 90% coverage {covered:.2f}, width {width:.2f}, error {error:.3f}, "
              f"{cpu[method]:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
