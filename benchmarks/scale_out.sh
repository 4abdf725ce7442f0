#!/usr/bin/env bash
# Scale-out benchmark (a benchmark, not a test): replications per second of a shipped scenario on 1 and 2 local
# workers and on a 2-worker local Dask cluster, then a 200-cell sweep on the pool and on Dask. Whole-process wall
# times, printed by /usr/bin/time; benchmarks/RESULTS.md has the figures measured and how they were taken.
set -euo pipefail
cd "$(dirname "$0")/.."
MIXSIM=.venv/bin/mixsim
SCENARIO=scenarios/d2c_ecommerce.toml
for run in "-w 1" "-w 2" "-w 2 --scheduler local"; do
    /usr/bin/time -f "simulate -r 20 $run: %e s wall" $MIXSIM simulate $SCENARIO -r 20 $run --json >/dev/null
done
out=$(mktemp -d)
for run in "-w 2" "-w 2 --scheduler local"; do
    rm -rf "$out/sweep"
    /usr/bin/time -f "sweep 200 cells $run: %e s wall" \
        $MIXSIM sweep $SCENARIO --grid benchmarks/sweep200.toml --out "$out/sweep" $run >/dev/null
done
rm -rf "$out"
