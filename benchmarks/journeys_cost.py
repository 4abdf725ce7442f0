"""What recording journeys and attributing them costs: one replication of a shipped scenario, whole process.

    python benchmarks/journeys_cost.py [--scenario PATH] [--journeys SHARE] [--attribution]

Runs one replication (with ground truth when ``--attribution``) with the touches of ``SHARE`` of the customers
journaled (0: none), then, with ``--attribution``, every attribution model against the truth. Time it from the
outside, side by side with ``--journeys 0`` (see RESULTS.md); it prints the touches recorded and its own peak
memory. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import mixsim

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "d2c_ecommerce.toml"))
    parser.add_argument("--journeys", type=float, default=1.0)
    parser.add_argument("--attribution", action="store_true")
    args = parser.parse_args()
    scenario = mixsim.load_scenario(args.scenario)
    start = time.perf_counter()
    result = mixsim.simulate(scenario, seed=1, replications=1, journeys=args.journeys, incrementality=args.attribution)
    simulated = time.perf_counter() - start
    touches = sum(run.journal.touches.size for run in result.runs if run.journal is not None)
    line = f"{scenario.name}: simulated in {simulated:.2f} s, {touches:,} touches journaled"
    if args.attribution:
        start = time.perf_counter()
        check = mixsim.against_truth(result)
        line += f"; {len(check.models)} models attributed in {time.perf_counter() - start:.2f} s"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{line}; peak {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
