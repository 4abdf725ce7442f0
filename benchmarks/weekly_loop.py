"""Week-level planning end to end: ``mixsim optimize --by-week`` on a year's plan, every week measured, timed as a
whole process, and whether the closed loop converged.

    python benchmarks/weekly_loop.py [--channels 20] [--weeks 52] [--population 20000] [--replications 3]
                                     [--iterations 4] [--workers 2] [--every 1] [--keep DIR]

The target: 20 channels x 52 weeks, every channel-week measured, 2 workers, under 10 minutes wall and converged
(money moved and change in projected gain both within their tolerances). The scenario is the D2C one stretched
to ``--weeks`` weeks (its flighting repeated, the same daily spend) with a holiday peak in its last five weeks
but one (weeks 47-51 of 52); with ``--channels 20`` each of its 5 channels is split into 4 (a quarter of the
spend each, prices 0.85x, 0.95x, 1.05x and 1.15x), with 1 to 5 the first channels are kept. The money is what
the flighting spends. The scenario is written to a TOML file (kept with ``--keep``) and the command run on it
as a user would, with ``--json``; the script prints the command, its wall time, the peak memory of the process,
the runs, each solve's money moved and change in projected gain, and how the loop ended. A check on a small
version: ``--channels 3 --weeks 6 --population 3000 --replications 1``. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mixsim
from mixsim.optimizer.weekly import week_run_count, week_spend
from mixsim.research.mmm import mmm_scenario
from mixsim.scenario import Scenario, scenario_to_dict

ROOT = Path(__file__).resolve().parents[1]
PRICES = (0.85, 0.95, 1.05, 1.15)
MIXSIM = [sys.executable, "-c", "import sys; from mixsim.cli import main; sys.argv[0] = 'mixsim'; sys.exit(main())"]
TARGET_SECONDS = 600.0


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


def year_plan(channels: int, weeks: int, population: int) -> Scenario:
    """The D2C scenario with ``channels`` channels over ``weeks`` weeks and a holiday peak near the end."""
    base = mixsim.load_scenario(ROOT / "scenarios" / "d2c_ecommerce.toml", [f"scenario.population={population}"])
    if channels == 20:
        base = split_channels(base)
    elif 1 <= channels <= len(base.channels):
        for name in base.channel_names[channels:]:
            base = base.without_channel(name)
    else:
        raise SystemExit(f"--channels: 1 to {len(base.channels)}, or 20 (got {channels})")
    year = mmm_scenario(base, weeks, variation=0.0)
    if weeks >= 7:
        peak = {"name": "holiday", "first_week": weeks - 5, "last_week": weeks - 1, "multiplier": 1.8}
        year = year.replace({"seasonality.periods": [peak]})
    return year


def toml_value(value: Any) -> str:
    """One value as TOML, tables inline (the scenario's data has strings, numbers, booleans, lists and tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not finite: {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for the plain names a scenario has
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def write_toml(data: dict[str, Any], path: Path) -> None:
    path.write_text("".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in data.items()), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=int, default=1, help="measure every K-th week (the target: 1, every week)")
    parser.add_argument("--keep", type=Path, help="write the scenario into this folder and keep it")
    args = parser.parse_args()
    year = year_plan(args.channels, args.weeks, args.population)
    current = week_spend(year)
    money = float(current.sum())
    runs = week_run_count(current, args.replications, every=args.every, season=year.seasonality)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"year_{args.channels}x{args.weeks}.toml"
        write_toml(scenario_to_dict(year), path)
        command = [
            *MIXSIM, "optimize", str(path), "--by-week", "--budget", f"{money:.2f}", "--seed", "1",
            "-r", str(args.replications), "--iterations", str(args.iterations), "-w", str(args.workers),
            "--measure-every", str(args.every), "--json",
        ]  # fmt: skip
        shown = " ".join(["mixsim", *command[len(MIXSIM) :]])
        print(f"{len(year.channels)} channels x {args.weeks} weeks, {args.population:,} customers, money {money:,.0f}")
        print(f"{runs:,} runs per measurement; {shown}", flush=True)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
        raise SystemExit(f"the command failed with exit code {done.returncode}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    plan = json.loads(done.stdout)
    solver = plan["solver"]
    moves = ", ".join(f"{m:.1%}" for m in solver["moves"])
    changes = ", ".join(f"{g:.1%}" for g in solver["gain_changes"])
    print(
        f"{solver['iterations']} solves, {plan['runs']:,} runs, money moved {moves}, projected gain changed "
        f"{changes}, {solver['rejected']} set aside, {plan['status']}"
    )
    print(f"{solver['convergence']}")
    met = seconds < TARGET_SECONDS and solver["converged"] and args.every == 1
    print(
        f"{seconds:.1f} s wall on {args.workers} workers, peak memory {peak:,.0f} MB (largest process); "
        f"target (under {TARGET_SECONDS:.0f} s, converged, every week measured): {'met' if met else 'not met'}"
    )


if __name__ == "__main__":
    main()
