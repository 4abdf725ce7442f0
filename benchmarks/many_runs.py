"""Many runs, old and new side by side: whole-process wall times of the same commands under two versions of mixsim.

    python benchmarks/many_runs.py [--old REV] [--repeat K] [--only NAME ...]

``--old`` (default ``a4d4d09``, the last commit before batched runs) is exported with ``git archive`` into a
temporary folder; every command then runs once with that source first on ``PYTHONPATH`` and once with this
checkout's, alternately, K times (default 1), on the same machine in the same run. Prints one line per timing,
then a markdown table of medians and new/old ratios. Run it on a quiet machine: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MIXSIM = [PYTHON, "-c", "import sys; from mixsim.cli import main; sys.argv[0] = 'mixsim'; sys.exit(main())"]

COMMANDS: dict[str, list[str]] = {
    "one run, curves100k (engine)": [PYTHON, "benchmarks/one_run.py", "benchmarks/curves100k.toml"],
    "one run, d2c_ecommerce (engine)": [PYTHON, "benchmarks/one_run.py", "scenarios/d2c_ecommerce.toml"],
    "one run, retail_omnichannel (engine)": [PYTHON, "benchmarks/one_run.py", "scenarios/retail_omnichannel.toml"],
    "one run, genz_launch (engine)": [PYTHON, "benchmarks/one_run.py", "scenarios/genz_launch.toml"],
    "one run, b2b_saas (engine)": [PYTHON, "benchmarks/one_run.py", "scenarios/b2b_saas.toml"],
    "one run, a year's plan of 15 channels (engine)": [PYTHON, "benchmarks/realistic_plans.py"],
    "simulate curves100k -r 1": [*MIXSIM, "simulate", "benchmarks/curves100k.toml", "-r", "1", "-w", "1"],
    "curves curves100k -r 3 -w 1": [*MIXSIM, "curves", "benchmarks/curves100k.toml", "-r", "3", "-w", "1"],
    "optimize d2c --verify -w 2": [*MIXSIM, "optimize", "scenarios/d2c_ecommerce.toml", "--verify", "-w", "2"],
    "report retail --optimize -w 2": [*MIXSIM, "report", "scenarios/retail_omnichannel.toml", "--optimize", "-w", "2"],
    "dense: engine_scale 1,000,000 x 8 x 14": [PYTHON, "benchmarks/engine_scale.py", "--days", "14", "--repeat", "1"],
}


def timed(command: list[str], source: Path, out: Path) -> tuple[float, str]:
    """Wall seconds of ``command`` run from the repository root with ``source`` first on the path."""
    env = dict(os.environ, PYTHONPATH=str(source), MPLBACKEND="Agg")
    start = time.perf_counter()
    done = subprocess.run(command, cwd=out, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed under {source}: {done.stderr[-2000:]}")
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return wall, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="a4d4d09")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None, help="names (or parts of names) of the commands to run")
    args = parser.parse_args()
    names = [n for n in COMMANDS if args.only is None or any(part in n for part in args.only)]
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        archive = subprocess.run(["git", "archive", args.old, "src"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        # Both versions run from a copy of this checkout's scenarios and benchmarks, writing outputs there.
        work = Path(tmp) / "work"
        work.mkdir()
        for folder in ("scenarios", "benchmarks"):
            subprocess.run(["cp", "-rL", str(ROOT / folder), str(work / folder)], check=True)
        rows = []
        for name in names:
            walls: dict[str, list[float]] = {"old": [], "new": []}
            for _ in range(args.repeat):
                for label, source in (("old", old / "src"), ("new", ROOT / "src")):
                    wall, last = timed(COMMANDS[name], source, work)
                    # A script that times its own runs prints "median X s": that figure, not the process's.
                    inside = re.search(r"median ([\d.]+) s", last)
                    walls[label].append(float(inside.group(1)) if inside else wall)
                    print(f"{name} [{label}]: {wall:.1f} s | {last}", flush=True)
            o, n = statistics.median(walls["old"]), statistics.median(walls["new"])
            rows.append(f"| {name} | {o:.2f} s | {n:.2f} s | {n / o:.2f} |")
    print("\n| command (median; engine runs timed inside, the rest whole process) | old | new | new / old |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
