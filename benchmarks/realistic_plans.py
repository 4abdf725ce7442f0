"""A plan shaped like real ones: exposures per second of one engine run (one core), median of K.

    python benchmarks/realistic_plans.py [--channels C] [--population N] [--repeat K] [--batch W]

Default: 15 channels over 52 weeks and 200,000 customers in three segments. Unlike ``engine_scale.py`` (every
channel buys half a million exposures a day), most channels here are targeted (aware and considering customers,
or considering ones only), several have frequency caps, buys are small (a few hundred to a few thousand
exposures a day) and flighting switches channels on and off by week, with a season: the shape of a year's media
plan. Works with any version of mixsim on the path, so two versions can be timed side by side.

With ``--batch W`` it also times one ``engine.run_batch`` of W worlds (the plan with each of W channels at half
its spend, one seed, as a response curve makes them) against the same W worlds run one by one (versions without
batches skip this).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from one_run import timed_runs

from mixsim.engine import run
from mixsim.scenario import Scenario, parse_scenario

WEEKS = 52


def plan_scenario(channels: int, population: int) -> Scenario:
    """``channels`` channels of mixed kinds over 52 weeks; the k-th channel's figures follow from k alone."""
    table: dict[str, dict[str, Any]] = {}
    for k in range(channels):
        kind = k % 5
        cpm = (2.0, 6.0, 12.0, 25.0, 4.0)[kind]
        daily = (3000.0, 1500.0, 800.0, 300.0, 5000.0)[kind] * (1.0 + 0.1 * k)
        on = [1.0 if (week + k) % (2 + kind) else 0.0 for week in range(WEEKS)]  # flighted on and off by week
        on[k % WEEKS] = 1.0
        channel: dict[str, Any] = {
            "cpm": cpm,
            "spend": daily * 7 * sum(on) * cpm / 1000.0,
            "flighting": on,
            "reach": {"young": 0.3 + 0.04 * kind, "middle": 0.5, "older": 0.7 - 0.05 * kind},
            "p_aware": 0.01,
            "p_consider": 0.02 if kind != 3 else 0.05,
            "p_convert": 0.01 if kind in (1, 2) else 0.002,
        }
        if kind == 1:
            channel["targets"] = ["aware", "considering"]
        elif kind == 2:
            channel["targets"] = ["considering"]
        if kind in (0, 4):
            channel["frequency_cap"] = 2 + kind // 4
        table[f"channel_{k}"] = channel
    season = [1.0 + 0.3 * np.sin(2 * np.pi * week / WEEKS) for week in range(WEEKS)]
    return parse_scenario(
        {
            "scenario": {"name": "a year's plan", "population": population, "horizon_days": 7 * WEEKS},
            "economics": {"order_value": 60.0, "margin": 0.5, "checkout_abandonment": 0.6},
            "funnel": {"half_life_days": {"aware": 21.0, "considering": 10.0}, "synergy": 0.05},
            "organic": {
                "awareness_rate": 0.0005,
                "word_of_mouth": 0.02,
                "consideration_rate": 0.005,
                "conversion_rate": 0.001,
            },
            "seasonality": {"weekly": [float(x) for x in season]},
            "segments": [
                {"name": "young", "share": 0.3},
                {"name": "middle", "share": 0.4},
                {"name": "older", "share": 0.3},
            ],
            "channels": table,
        },
        source="benchmark",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=15)
    parser.add_argument("--population", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=0, help="also time one batch of this many worlds")
    args = parser.parse_args()
    scenario = plan_scenario(args.channels, args.population)
    line = timed_runs(scenario, args.repeat)
    print(f"{args.channels} channels x {WEEKS} weeks, {args.population:,} customers: {line}")
    if args.batch:
        batch(scenario, args.batch)


def batch(scenario: Scenario, size: int) -> None:
    """One batch of ``size`` curve worlds against the same worlds one by one (both timed once)."""
    try:
        from mixsim.engine import World, run_batch
    except ImportError:
        print("this version has no batched runs")
        return
    seed = np.random.SeedSequence(1)
    channels = scenario.channels
    plans = [scenario.with_spend({channels[k % len(channels)].name: channels[k % len(channels)].spend * 0.5})
             for k in range(size)]  # fmt: skip
    start = time.perf_counter()
    run_batch([World(plan, seed) for plan in plans])
    together = time.perf_counter() - start
    start = time.perf_counter()
    for plan in plans:
        run(plan, seed)
    alone = time.perf_counter() - start
    print(f"a batch of {size} worlds: {together:.2f} s; one by one: {alone:.2f} s ({alone / together:.1f}x)")


if __name__ == "__main__":
    main()
