"""Week-level closed loop on a 52-week scenario: how many re-measure iterations until the plan settles.

    python benchmarks/weekly_loop.py [--channels 5|20] [--every 1] [--population 20000] [--iterations 4]
                                     [--workers 2]

The D2C scenario stretched to 52 weeks (its plan's flighting repeated, the same daily spend) with a holiday peak
in weeks 47-51, 1 replication per level, curves at 0, 1x and 2x of each channel-week. With ``--channels 20``
each of its 5 channels is split into 4 (a quarter of the spend each, prices 0.85x, 0.95x, 1.05x and 1.15x).
``--every K`` simulates every K-th week's impulse (and the season's edges) and interpolates between. Prints the
runs per measurement, each solve's money moved (share of the money), whether it converged, the plans set aside,
the last solve's time and the wall time. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mixsim
from mixsim.executors import open_executor
from mixsim.optimizer.weekly import WeeklyProblem, optimize_weekly, week_run_count, week_spend
from mixsim.research.mmm import mmm_scenario
from mixsim.scenario import Scenario, scenario_to_dict

ROOT = Path(__file__).resolve().parents[1]
PRICES = (0.85, 0.95, 1.05, 1.15)


def split_channels(scenario: Scenario) -> Scenario:
    """Each channel as four, a quarter of its spend each, at prices around its own (budget rules dropped)."""
    channels = scenario_to_dict(scenario)["channels"]
    out = scenario
    for name, keys in channels.items():
        for k, factor in enumerate(PRICES, start=1):
            price = "cpm" if "cpm" in keys else "cpc"
            fields = {**keys, "min_spend": 0.0, "spend": keys["spend"] / len(PRICES), price: keys[price] * factor}
            out = out.with_channel(f"{name}_{k}", **fields)
    for name in channels:
        out = out.without_channel(name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, choices=(5, 20), default=5)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base = mixsim.load_scenario(ROOT / "scenarios" / "d2c_ecommerce.toml", [f"scenario.population={args.population}"])
    if args.channels == 20:
        base = split_channels(base)
    year = mmm_scenario(base, 52, variation=0.0).replace(
        {"seasonality.periods": [{"name": "holiday", "first_week": 47, "last_week": 51, "multiplier": 1.8}]}
    )
    current = week_spend(year)
    money = float(current.sum())
    runs = week_run_count(current, 1, every=args.every, season=year.seasonality)
    print(f"{len(year.channels)} channels x 52 weeks, {args.population:,} customers: {runs} runs per measurement")
    started = time.perf_counter()
    with open_executor(args.workers) as executor:
        plan = optimize_weekly(
            year,
            lambda curves: WeeklyProblem(curves, budget=money),
            seed=1,
            replications=1,
            every=args.every,
            max_iterations=args.iterations,
            executor=executor,
        )
    seconds = time.perf_counter() - started
    moves = ", ".join(f"{m:.1%}" for m in plan.moves)
    print(
        f"{plan.iterations} solves (money moved {moves}), {'converged' if plan.converged else 'not converged'}, "
        f"{plan.rejected} set aside, {plan.status}, last solve {plan.seconds:.2f} s, {seconds:.0f} s wall on "
        f"{args.workers} workers"
    )


if __name__ == "__main__":
    main()
