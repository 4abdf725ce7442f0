"""The ``next-test`` command: which channel's lift test is worth running next, across a posterior's parameter sets."""

from __future__ import annotations

import argparse

import numpy as np

from mixsim._files import output_set, write_atomic
from mixsim.cli import options
from mixsim.cli.flags import named_by_flags
from mixsim.cli.outputs import ProgressBar, check_memory, out_dir
from mixsim.optimizer import DEFAULT_LEVELS
from mixsim.tables import spreadsheet_safe
from mixsim.uncertainty import read_parameter_sets
from mixsim.uncertainty.nexttest import DESIGNS, RANKINGS, ExperimentRanking, next_test_run_count, rank_tests

FLAGS = {
    "weeks": "--weeks",
    "budget_per_test": "--budget-per-test",
    "worlds": "--worlds",
    "replications": "--replications",
    "objective": "--objective",
    "rank_by": "--rank-by",
    "design": "--design",
}


def setup_next_test(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML): the point estimate, today's plan")
    parser.add_argument(
        "--posterior", required=True, metavar="FILE",
        help="parameter sets (posterior.csv of mixsim calibrate), each a world the test is simulated in",
    )  # fmt: skip
    parser.add_argument(
        "--budget-per-test", type=options.money, default=None, metavar="X",
        help="money each test spends on its channel beyond the plan (default: the channel's own spend over the "
        "test's weeks, doubling it there)",
    )  # fmt: skip
    parser.add_argument(
        "--weeks", type=options.positive, default=4, metavar="W",
        help="how long each test lasts, from the horizon's start (default 4)",
    )  # fmt: skip
    parser.add_argument(
        "--worlds", type=options.positive, default=20, metavar="K",
        help="the first K parameter sets (default 20; each costs a measurement of every curve)",
    )  # fmt: skip
    parser.add_argument(
        "--objective", choices=("revenue", "profit", "conversions"), default="revenue",
        help="what the plan maximizes, and what a test's worth is counted in (default revenue)",
    )  # fmt: skip
    parser.add_argument(
        "--design", choices=DESIGNS, default="increase",
        help="increase: each test spends --budget-per-test more on its channel (default); holdout: it switches the "
        "channel off (the window layout mixsim calibrate reads)",
    )  # fmt: skip
    parser.add_argument(
        "--rank-by", choices=RANKINGS, default="narrowing",
        help="rank tests by how much they narrow the plan's 90%% interval (default), or by the expected value of "
        "their result to the plan (EVSI)",
    )  # fmt: skip
    options.add_runs(parser, 3, "runs per spend level in each world, and of each test")
    options.add_set(parser)
    parser.add_argument("--json", action="store_true", help="print the ranking as JSON")
    parser.add_argument("--out", metavar="DIR", help="write tests.csv (one row per channel) and next_test.json")


def _next_test(args: argparse.Namespace) -> int:
    out = out_dir(args.out)
    scenario = options.load(args)
    sets = read_parameter_sets(args.posterior, scenario)
    worlds = min(args.worlds, len(sets))
    runs = next_test_run_count(scenario, worlds, args.replications, DEFAULT_LEVELS)
    check_memory(scenario, args, runs=runs)
    with named_by_flags(FLAGS), ProgressBar(runs, enabled=not args.json) as progress:
        ranking = rank_tests(
            scenario, sets, weeks=args.weeks, budget_per_test=args.budget_per_test, worlds=worlds,
            objective=args.objective, rank_by=args.rank_by, design=args.design, seed=args.seed,
            replications=args.replications, workers=args.workers, executor=args.executor, progress=progress,
        )  # fmt: skip
    if out is not None:
        with output_set(out) as staged:
            write_atomic(staged / "tests.csv", spreadsheet_safe(ranking.to_frame()).to_csv(index=False))
            write_atomic(staged / "next_test.json", ranking.to_json() + "\n")
    print(ranking.to_json() if args.json else next_test_report(ranking))
    if out is not None and not args.json:
        print(f"tests.csv and next_test.json written to {out}/")
    return 0


def next_test_report(ranking: ExperimentRanking) -> str:
    """The tests ranked, each with its size, what it would show across the parameter sets, its worth to the plan
    and why; the recommendation first."""
    data = ranking.to_dict()
    kpi = ranking.objective
    low, high = data["returns"]["range90"]
    best = ranking.best
    lines = [
        f"Next test across {len(ranking.returns)} parameter sets from {ranking.sets.source} ({ranking.weeks}-week "
        f"tests from the horizon's start; {kpi})",
        f"The plan now: {kpi} {data['returns']['mean']:,.0f} on average across the sets, 90% within "
        f"[{low:,.0f}, {high:,.0f}].",
        "",
        f"Recommended: test {best.channel} ({_size(best.extra, ranking.weeks)}): {best.reason}.",
        "",
        f"{'rank':<6}{'channel':<16}{'extra':>10}{'lift [90% of sets]':>28}{'se':>10}{'EVSI':>10}{'narrows':>9}",
    ]
    for rank, t in enumerate(ranking.tests, start=1):
        lift = f"{np.mean(t.lift):,.0f} [{np.quantile(t.lift, 0.05):,.0f}, {np.quantile(t.lift, 0.95):,.0f}]"
        lines.append(
            f"{rank:<6}{t.channel:<16}{t.extra:>10,.0f}{lift:>28}{t.standard_error:>10,.0f}"
            f"{round(t.evsi) + 0.0:>10,.0f}{round(t.narrowing, 2) + 0.0:>9.0%}"
        )
    lines += ["", "Why:"] + [f"  {t.channel}: {t.reason}" for t in ranking.tests]
    holdout = ranking.design == "holdout"
    moves = "loses over its weeks in each set (off, against on)" if holdout else "gains over its weeks in each set"
    lines.append(
        f"lift: the revenue the test {moves}; se: its standard error as a real test reads it; "
        "EVSI: the expected gain of the plan chosen after seeing the result; narrows: the share of the plan's 90% "
        "interval the result is expected to take away."
    )
    return "\n".join(lines)


COMMANDS = {"next-test": (setup_next_test, _next_test)}


def _size(extra: float, weeks: int) -> str:
    """A test's size in words: the money an increase adds, or what a holdout withholds."""
    if extra < 0:
        return f"off for {weeks} weeks, withholding {-extra:,.0f}"
    return f"{extra:,.0f} more over {weeks} weeks"
