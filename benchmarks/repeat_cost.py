"""What repeat purchases cost: a year-long run with customers who buy again and lapse, against the same run
without, per exposure (one core, median of K, the two taken in turn).

    python benchmarks/repeat_cost.py [--channels C] [--population N] [--repeat K]

The plan is ``realistic_plans.py``'s (15 channels over 52 weeks, 200,000 customers). With repeat purchases on,
customers buy again about once a month (``mean_days_between = 30``) and lapse with a 120-day half-life, and the
first channel also targets customers with a ``p_repurchase`` of 1% (a CRM channel's work): the organic forces of
repeat purchase and lapse act every day, the kernels count purchases, and every touch is checked against the day
the customer was won. Times are process CPU seconds; the runs of the two scenarios alternate, so drift in the
machine's speed falls on both.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from realistic_plans import WEEKS, plan_scenario

from mixsim.engine import run
from mixsim.scenario import Scenario


def with_repeat(scenario: Scenario) -> Scenario:
    """``scenario`` with customers who buy again and lapse, and its first channel reaching customers too."""
    first = scenario.channels[0]
    return scenario.replace(
        {
            "repeat.mean_days_between": 30.0,
            "repeat.lapse_half_life_days": 120.0,
            f"channels.{first.name}.targets": [*first.targets, "converted"],
            f"channels.{first.name}.p_repurchase": 0.01,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=15)
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plain = plan_scenario(args.channels, args.population)
    scenarios = {"without": plain, "with": with_repeat(plain)}
    for scenario in scenarios.values():
        run(scenario, np.random.SeedSequence(0))  # loads what the engine compiles
    seconds: dict[str, list[float]] = {name: [] for name in scenarios}
    exposures: dict[str, list[int]] = {name: [] for name in scenarios}
    purchases: dict[str, float] = {}
    for k in range(args.repeat):
        for name, scenario in scenarios.items():
            start = time.process_time()
            record = run(scenario, np.random.SeedSequence(k + 1))
            seconds[name].append(time.process_time() - start)
            exposures[name].append(int(record.exposures.sum()))
            purchases[name] = record.purchases
    print(f"{args.channels} channels x {WEEKS} weeks, {args.population:,} customers, median of {args.repeat}:")
    per = {}
    for name in scenarios:
        median = statistics.median(seconds[name])
        mean_exposures = statistics.mean(exposures[name])
        per[name] = median / mean_exposures * 1e9
        print(
            f"  {name} repeat purchases: {median:.3f} s CPU, {mean_exposures:,.0f} exposures, "
            f"{per[name]:.1f} ns per exposure, {purchases[name]:,.0f} purchases (last run)"
        )
    print(f"  cost per exposure, with / without: {per['with'] / per['without']:.2f}x")


if __name__ == "__main__":
    main()
