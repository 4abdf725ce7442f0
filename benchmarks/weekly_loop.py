"""Week-level closed loop on a 52-week scenario: how many re-measure iterations until the plan settles.

    python benchmarks/weekly_loop.py [--population 20000] [--iterations 4] [--workers 2]

The D2C scenario stretched to 52 weeks (its plan's flighting repeated, the same daily spend) with a holiday peak
in weeks 47-51, 1 replication per level, curves at 0, 1x and 2x of each channel-week. Prints each solve's
largest move (share of the money), the iterations and the wall time. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mixsim
from mixsim.executors import open_executor
from mixsim.flighting import WeeklyProblem, optimize_weekly, week_spend
from mixsim.mmm import mmm_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base = mixsim.load_scenario(ROOT / "scenarios" / "d2c_ecommerce.toml", [f"scenario.population={args.population}"])
    year = mmm_scenario(base, 52, variation=0.0).replace(
        {"seasonality.periods": [{"name": "holiday", "first_week": 47, "last_week": 51, "multiplier": 1.8}]}
    )
    money = float(week_spend(year).sum())
    started = time.perf_counter()
    with open_executor(args.workers) as executor:
        plan = optimize_weekly(
            year,
            lambda curves: WeeklyProblem(curves, budget=money),
            seed=1,
            replications=1,
            max_iterations=args.iterations,
            executor=executor,
        )
    seconds = time.perf_counter() - started
    moves = ", ".join(f"{m:.1%}" for m in plan.moves)
    print(
        f"{len(year.channels)} channels x 52 weeks, {args.population:,} customers: {plan.iterations} solves "
        f"(moves {moves}), {plan.status}, {seconds:.0f} s wall on {args.workers} workers"
    )


if __name__ == "__main__":
    main()
