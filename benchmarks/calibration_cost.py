"""What calibration costs: the calibration example's business (5 channels, a market of 20,000 customers) over a
history of 104 weeks, its default parameter set (every non-zero effect of its channels, its organic and repeat
rates, and the baseline's trend and yearly season) fitted with the command's defaults; the point fit with its check
runs, the posterior, and the posterior's draws that measure each channel's ROAS timed apart.

    python benchmarks/calibration_cost.py [--weeks W] [--population N] [--workers W] [--simulations N]
                                          [--posterior N]

The history is simulated from the example's truth (examples/calibration/truth.toml) on its whole market; the
scenario fitted to it is the example's scenario (six numbers off the truth by factors of 2 to 3) without its
[calibration.parameters], simulated with ``--population`` customers standing for the market (scenario.represents).
Prints wall seconds and engine runs of each part, the fit statistics and each channel's ROAS against the truth's
over the same history.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import mixsim
from mixsim.calibration import read_history
from mixsim.calibration.baseline import baseline_parameters
from mixsim.calibration.calibrate import DRAWS, calibrate, channel_effects, posterior_effects
from mixsim.calibration.parameters import default_parameters
from mixsim.calibration.posterior import GENERATIONS, posterior_budget, sample_posterior
from mixsim.calibration.replay import history_scenario
from mixsim.research.mmm import mmm_frame, mmm_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "calibration"
MARKET = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--population", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--posterior", type=int, default=100)
    args = parser.parse_args()
    truth = mixsim.load_scenario(EXAMPLE / "truth.toml")
    frame = mmm_frame(mixsim.simulate(mmm_scenario(truth, weeks=args.weeks, seed=11), replications=1, seed=11))
    scale = [f"scenario.population={args.population}", f"scenario.represents={MARKET}"]
    scenario = mixsim.load_scenario(EXAMPLE / "scenario.toml", overrides=scale).replace({"calibration.parameters": {}})
    with tempfile.TemporaryDirectory() as folder:
        frame.to_csv(Path(folder) / "history.csv", index=False)
        history = read_history(Path(folder) / "history.csv", scenario)
    parameters = [*default_parameters(scenario), *baseline_parameters(history)]
    print(f"{len(scenario.channels)} channels, {history.weeks} weeks ({history.train_periods} fitted), "
          f"{args.population:,} customers standing for {MARKET:,}, {len(parameters)} parameters, "
          f"{args.workers} workers")  # fmt: skip

    start = time.perf_counter()
    fit = calibrate(scenario, history, simulations=args.simulations, workers=args.workers)
    took = time.perf_counter() - start
    print(f"  point fit and checks: {took:.0f} s, {fit.point.simulations + fit.check_runs} runs "
          f"({fit.point.simulations} in the search, {fit.point.generations} generations)")  # fmt: skip
    stats = fit.statistics()
    print(f"  train R² {stats['train']['r2']:.3f}, holdout MAPE {stats['holdout']['mape']:.1%}")

    total = took
    if args.posterior:
        start = time.perf_counter()
        posterior = sample_posterior(
            scenario, history, fit.point.parameters, particles=args.posterior,
            simulations=posterior_budget(args.posterior, GENERATIONS),
            seed=fit.seed, centre=fit.point.values, workers=args.workers,
        )  # fmt: skip
        took = time.perf_counter() - start
        total += took
        informed = sum(bool(v["informed"]) for v in posterior.summary().values())
        print(f"  posterior: {took:.0f} s, {posterior.simulations} runs, {posterior.generations} generations of "
              f"{args.posterior} particles; {informed} of {len(parameters)} parameters informed")  # fmt: skip
        start = time.perf_counter()
        draws = min(DRAWS, args.posterior)
        effects = posterior_effects(scenario, history, posterior, draws, fit.seed, workers=args.workers)
        took = time.perf_counter() - start
        total += took
        runs = draws * (1 + len(scenario.channels))
        print(f"  channel ROAS over {draws} posterior draws: {took:.0f} s, {runs} runs")
        true = channel_effects([history_scenario(truth, history)] * 4, np.random.SeedSequence(5).spawn(4), history)
        for k, name in enumerate(scenario.channel_names):
            spend = history.spend[name].sum()
            low, high = np.quantile(effects[:, k] / spend, [0.05, 0.95])
            print(f"    {name}: ROAS {np.mean(effects[:, k]) / spend:.2f} [{low:.2f}, {high:.2f}], "
                  f"truth {true[:, k].mean() / spend:.2f}")  # fmt: skip
    print(f"  in all: {total:.0f} s ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
