"""Week-level program benchmark: build and solve time of 20 channels x 52 weeks with 20 segments per curve.

    python benchmarks/weekly_scale.py [--channels 20] [--weeks 52] [--segments 20] [--repeat 3]

Three programs on the same random concave curves: the budget alone (an LP); with pacing (no 4-week block above
12% of the budget) and weekly maximums; and with weeks on air / dark weeks for a quarter of the channels
(binaries: a MILP). Prints each run's time and the median. This is the solve alone, a small part of each of
the closed loop's steps; ``benchmarks/weekly_loop.py`` times the whole command at the same size. A benchmark, not
a test.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from mixsim.optimizer.weekly import WeekCurves, WeeklyProblem, solve_weekly


def curves(channels: int, weeks: int, segments: int, seed: int = 0) -> WeekCurves:
    rng = np.random.default_rng(seed)
    a = rng.uniform(1.0, 4.0, (channels, weeks))
    h = rng.uniform(500.0, 3000.0, (channels, weeks))
    xs = np.linspace(0.0, 20_000.0, segments + 1)[None, None, :] * np.ones((channels, weeks, 1))
    revenue = a[:, :, None] * h[:, :, None] * np.log1p(xs / h[:, :, None])
    return WeekCurves(tuple(f"c{i}" for i in range(channels)), xs, revenue, np.full((channels, weeks), 1000.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--segments", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    wc = curves(args.channels, args.weeks, args.segments)
    budget = 1000.0 * args.channels * args.weeks
    names = wc.channels
    some = names[: max(1, args.channels // 4)]
    cases = {
        "budget only (LP)": WeeklyProblem(wc, budget=budget),
        "pacing + weekly max (LP)": WeeklyProblem(
            wc, budget=budget, week_max={n: 4000.0 for n in names}, pacing_weeks=4, pacing_share=0.12
        ),
        "weeks on air, dark weeks (MILP)": WeeklyProblem(
            wc,
            budget=budget,
            week_min={n: 500.0 for n in some},
            min_weeks_on={n: args.weeks // 2 for n in some},
            max_dark_weeks={n: args.weeks // 4 for n in some},
        ),
    }
    for label, problem in cases.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            plan = solve_weekly(problem)
            times.append(time.perf_counter() - started)
        print(
            f"{label}: {args.channels} x {args.weeks} x {args.segments} segments, {plan.status} ({plan.solver}); "
            f"build + solve {', '.join(f'{t:.3f}' for t in times)} s, median {statistics.median(times):.3f} s"
        )


if __name__ == "__main__":
    main()
