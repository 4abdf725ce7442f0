"""What calibration costs: the shipped example (5 channels, 52 weeks, 20,000 customers, a lift test, six parameters
and the baseline's three terms) fitted with the command's defaults, the point fit, the checks and the posterior timed
apart.

    python benchmarks/calibration_cost.py [--workers W] [--simulations N] [--posterior N]

Prints wall seconds and engine runs of each part, and the fit's statistics against the truth written beside the
example (examples/calibration/truth.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import mixsim
from mixsim.calibration import read_history
from mixsim.calibration.baseline import baseline_parameters
from mixsim.calibration.calibrate import calibrate
from mixsim.calibration.evaluation import runs_per_set
from mixsim.calibration.lift import read_lift
from mixsim.calibration.posterior import sample_posterior

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "calibration"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--simulations", type=int, default=200)
    parser.add_argument("--posterior", type=int, default=100)
    args = parser.parse_args()
    scenario = mixsim.load_scenario(EXAMPLE / "scenario.toml")
    history = read_history(EXAMPLE / "history.csv", scenario)
    tests = read_lift(EXAMPLE / "lift.csv", scenario, history)
    truth = json.loads((EXAMPLE / "truth.json").read_text(encoding="utf-8"))
    dims = len(scenario.calibration.parameters if scenario.calibration else ()) + len(baseline_parameters(history))
    print(f"{len(scenario.channels)} channels, {history.weeks} weeks, {scenario.population:,} customers, "
          f"{dims} parameters, {len(tests)} lift test, {args.workers} workers")  # fmt: skip
    start = time.perf_counter()
    point = calibrate(scenario, history, simulations=args.simulations, experiments=tests, workers=args.workers)
    fitted = time.perf_counter() - start
    runs = point.point.simulations + point.check_runs
    print(f"  point fit and checks: {fitted:.0f} s, {runs} runs ({point.point.simulations} in the search)")
    stats = point.statistics()
    print(f"  train R² {stats['train']['r2']:.3f}, holdout MAPE {stats['holdout']['mape']:.1%}")
    for name, figures in point.channel_values().items():
        print(f"  {name}: ROAS {figures['roas']['mean']:.2f} (truth {truth['roas'][name]:.2f})")
    if args.posterior:
        start = time.perf_counter()
        budget = 5 * args.posterior * runs_per_set(tests)
        posterior = sample_posterior(
            scenario, history, point.point.parameters, particles=args.posterior, simulations=budget,
            experiments=tests, seed=point.seed, workers=args.workers,
        )  # fmt: skip
        took = time.perf_counter() - start
        print(f"  posterior: {took:.0f} s, {posterior.simulations} runs, {posterior.generations} generations of "
              f"{args.posterior} particles")  # fmt: skip
        for key, figures in posterior.summary().items():
            low, high = figures["ci90"]  # type: ignore[misc]
            true = truth["parameters"].get(key)
            shown = "" if true is None else f", truth {true:.4g}"
            print(f"  {key}: 90% [{low:.4g}, {high:.4g}]{shown}{'' if figures['informed'] else ' (not informed)'}")


if __name__ == "__main__":
    main()
