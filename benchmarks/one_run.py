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
from mixsim.scenario import Scenario, load_scenario


def timed_runs(scenario: Scenario, repeat: int) -> str:
    """Median seconds of ``repeat`` runs of ``scenario`` (seeds 1..repeat, after an untimed run that loads what the
    engine compiles), with the last run's exposures and the rate, as one line of text."""
    run(scenario, np.random.SeedSequence(0))
    times = []
    for k in range(repeat):
        start = time.perf_counter()
        record = run(scenario, np.random.SeedSequence(k + 1))
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    exposures = int(record.exposures.sum())
    return f"median {median:.3f} s, {exposures:,} exposures, {exposures / median / 1e6:.1f} M/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.scenario}: {timed_runs(load_scenario(args.scenario), args.repeat)}")


if __name__ == "__main__":
    main()
