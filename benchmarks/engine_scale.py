"""Engine scale benchmark: exposures per second and peak memory of one run on one core.

Default: 1,000,000 customers x 8 channels x 90 days. Targets: at least 20 million exposures per second on one
core, under 1 GB for a million customers, and ten million customers within 24 GB (``--population 10000000``).

    python benchmarks/engine_scale.py [--population N] [--days D] [--exposures-per-day E] [--repeat K]

Prints one line per repeat and the median. Run it on a quiet machine; it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from mixsim.engine import run
from mixsim.scenario import Scenario, parse_scenario


def benchmark_scenario(population: int, days: int, exposures_per_day: float) -> Scenario:
    """Eight channels with every mechanism on: segments, affinity, targets, a frequency cap, memory, organic
    forces, synergy and checkout abandonment. Each channel buys ``exposures_per_day`` a day on average."""
    channels = {}
    for k in range(8):
        cpm = 2.0 + k
        channels[f"channel_{k}"] = {
            "cpm": cpm,
            "spend": exposures_per_day * days * cpm / 1000.0,
            "reach": {"young": 0.9 - 0.05 * k, "older": 0.6 + 0.04 * k},
            "p_aware": 0.01,
            "p_consider": 0.004,
            "p_convert": 0.002,
            "affinity": {"young": 1.2},
            **({"targets": ["aware", "considering"]} if k == 6 else {}),
            **({"frequency_cap": 3} if k == 7 else {}),
        }
    return parse_scenario(
        {
            "scenario": {"name": "scale benchmark", "population": population, "horizon_days": days},
            "economics": {"order_value": 50.0, "margin": 0.5, "checkout_abandonment": 0.7},
            "funnel": {"half_life_days": {"aware": 30.0, "considering": 14.0}, "synergy": 0.1},
            "organic": {
                "awareness_rate": 0.0005,
                "word_of_mouth": 0.05,
                "consideration_rate": 0.01,
                "conversion_rate": 0.002,
            },
            "segments": [{"name": "young", "share": 0.4}, {"name": "older", "share": 0.6}],
            "channels": channels,
        },
        source="benchmark",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--exposures-per-day", type=float, default=None, help="per channel (default: population/2)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    per_day = args.exposures_per_day if args.exposures_per_day is not None else args.population / 2
    scenario = benchmark_scenario(args.population, args.days, per_day)
    rates = []
    for i in range(args.repeat):
        start = time.perf_counter()
        record = run(scenario, np.random.SeedSequence(i))
        seconds = time.perf_counter() - start
        exposures = int(record.exposures.sum())
        rates.append(exposures / seconds)
        print(f"run {i}: {exposures:,} exposures in {seconds:.2f} s = {exposures / seconds / 1e6:.1f} M/s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(
        f"{args.population:,} customers x 8 channels x {args.days} days: "
        f"median {statistics.median(rates) / 1e6:.1f} M exposures/s, peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
