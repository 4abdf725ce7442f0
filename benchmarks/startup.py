"""Command start-up benchmark: how long `mixsim --help` and `mixsim validate FILE` take as whole processes.

Every command imports the package before it does anything, so what the package loads at import is paid by every
command. Each case runs in a fresh interpreter, one after another, after one warm-up run each; the figure is the
median wall time, with the modules of the heavy libraries the process loaded.

    python benchmarks/startup.py [--runs N]

A benchmark, not a test: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pandas", "scipy", "matplotlib", "simpy", "pulp", "highspy", "openpyxl")

CASES = {
    "mixsim --help": ["--help"],
    "mixsim validate scenarios/d2c_ecommerce.toml": ["validate", str(ROOT / "scenarios" / "d2c_ecommerce.toml")],
    "mixsim schema": ["schema"],
}


def wall(argv: list[str]) -> float:
    """Seconds of one whole `python -m mixsim.cli ARGS` process, its output discarded."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mixsim.cli", *argv], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def loaded(argv: list[str]) -> list[str]:
    """The heavy libraries a command's process imports."""
    code = (
        "import contextlib, io, sys\nfrom mixsim.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    try:\n        main({argv!r})\n"
        "    except SystemExit:\n        pass\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="counted runs per command (default 9)")
    args = parser.parse_args()
    for label, argv in CASES.items():
        wall(argv)  # warm-up: the file cache
        times = [wall(argv) for _ in range(args.runs)]
        libraries = ", ".join(loaded(argv)) or "none"
        print(
            f"{label:<48} median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}); "
            f"loads {libraries}"
        )


if __name__ == "__main__":
    main()
