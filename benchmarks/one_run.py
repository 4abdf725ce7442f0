"""Seconds one engine run of a scenario takes, in this process (median of K after a first, untimed run).

    python benchmarks/one_run.py SCENARIO [--repeat K]

Prints the median, the exposures and the rate. The first run is not timed: it loads what the engine compiles.
Works with any version of mixsim on the path (``PYTHONPATH=OTHER/src``), so two versions can be timed side by side.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from mixsim.engine import run
from mixsim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    run(scenario, np.random.SeedSequence(0))
    times = []
    for k in range(args.repeat):
        start = time.perf_counter()
        record = run(scenario, np.random.SeedSequence(k + 1))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    exposures = int(record.exposures.sum())
    print(f"{args.scenario}: median {median:.3f} s, {exposures:,} exposures, {exposures / median / 1e6:.1f} M/s")


if __name__ == "__main__":
    main()
