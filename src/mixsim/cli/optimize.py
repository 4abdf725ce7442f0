"""Optimization commands: ``curves``, ``optimize`` and ``frontier`` (``--by-week``: :mod:`mixsim.cli.weekly`).

Each command parses, calls one library function, prints and writes. The rules about the problem itself (an
objective's target, an order value for objectives in conversions) are the library's; it names parameters, and
:mod:`mixsim.cli.flags` puts this command line's flags (:data:`FLAGS`) in their place. The rules here are about
the arguments alone (a scenario or a curves file, options that only apply to one of them).
"""

from __future__ import annotations

import argparse
import functools
import math
from collections.abc import Callable

import numpy as np

from mixsim._files import output_files, output_set, write_atomic
from mixsim.cli import options
from mixsim.cli.across import curves_across_report, risk_frontier_report, robust_report
from mixsim.cli.flags import in_flags, named_by_flags
from mixsim.cli.outputs import FIGURE_FORMATS, ProgressBar, check_memory, out_dir, plan_paths
from mixsim.cli.text import curves_report, frontier_report, plan_report
from mixsim.cli.weekly import optimize_by_week
from mixsim.errors import MixsimError
from mixsim.optimizer.budget_frontier import frontier, scenario_frontier
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.export import write_plan
from mixsim.optimizer.loop import optimize, optimize_run_count
from mixsim.optimizer.measure import DEFAULT_LEVELS, curve_run_count, response_curves
from mixsim.optimizer.objectives import OBJECTIVES
from mixsim.optimizer.problem import Problem
from mixsim.optimizer.program import SOLVERS
from mixsim.optimizer.read import FITS_FILE, POINTS_FILE, read_curves
from mixsim.optimizer.solving import solve
from mixsim.scenario import Scenario
from mixsim.tables import spreadsheet_safe
from mixsim.uncertainty import Risk, optimize_under_risk, read_parameter_sets
from mixsim.uncertainty.curves import curves_across
from mixsim.uncertainty.frontier import risk_frontier

FLAGS: dict[str, str] = {
    "budget": "--budget",
    "locked": "--lock",
    "budgets": "--budgets",
    "levels": "--levels",
    "margin": "--margin",
    "max_change": "--max-change",
    "max_iterations": "--iterations",
    "objective": "--objective",
    "order_value": "--order-value",
    "replications": "--replications",
    "target": "--target",
    "verify_replications": "--verify-replications",
}
"""The library's parameters and the flags that give them."""

Handler = Callable[[argparse.Namespace], int]


def _flagged(handler: Handler) -> Handler:
    """``handler`` with the library's errors told in flags."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        with named_by_flags(FLAGS):
            return handler(args)

    return run


def setup_curves(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    _add_measure(parser)
    options.add_set(parser)
    options.add_scale(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--out", metavar="DIR",
        help="write curve_points.csv, curve_fits.csv and curves.png to DIR (with --posterior: curves_*_by_set.csv)",
    )  # fmt: skip
    parser.add_argument(
        "--posterior", metavar="FILE",
        help="parameter sets (posterior.csv of mixsim calibrate): the curves in each, and how they spread",
    )  # fmt: skip
    parser.add_argument(
        "--worlds", type=options.positive, default=20, metavar="K",
        help="with --posterior: the first K parameter sets (default 20)",
    )  # fmt: skip


def _curves_worlds(args: argparse.Namespace) -> int:
    """``curves --posterior FILE``: every parameter set's curves, and the spread of what a planner reads off them."""
    scenario = options.load(args)
    sets = read_parameter_sets(args.posterior, scenario)
    sets = sets.first(args.worlds)
    runs = curve_run_count(scenario, args.replications, args.levels) * len(sets)
    check_memory(scenario, args, runs=runs)
    out = out_dir(args.out)
    with ProgressBar(runs, enabled=not args.json) as progress:
        result = curves_across(
            scenario, sets, seed=args.seed, replications=args.replications, levels=args.levels,
            workers=args.workers, executor=args.executor, progress=progress,
        )  # fmt: skip
    if out is not None:
        from mixsim.plots import save_figure  # deferred: matplotlib loads only when a figure is saved
        from mixsim.plots.uncertainty import plot_curves_across

        with output_set(out) as staged:  # all of this run's files or none
            for table in ("summary", "points", "fits"):
                frame = spreadsheet_safe(result.to_frame(table))
                write_atomic(staged / f"curves_{table}_by_set.csv", frame.to_csv(index=False))
            save_figure(plot_curves_across(result), staged / "curves", FIGURE_FORMATS)
    print(result.to_json() if args.json else curves_across_report(result))
    if out is not None and not args.json:
        print(f"\ncurves_summary_by_set.csv, curves_points_by_set.csv, curves_fits_by_set.csv and curves.png written "
              f"to {out}/")  # fmt: skip
    return 0


def setup_optimize(parser: argparse.ArgumentParser) -> None:
    _add_problem(parser)
    parser.add_argument("--verify", action="store_true", help="simulate the plan against the current plan")
    _add_future_value(parser)
    parser.add_argument(
        "--verify-replications",
        type=options.replication_count,
        default=10,
        metavar="R",
        help="replications of --verify (default 10)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument(
        "--timings",
        action="store_true",
        help="with --json: add the seconds spent solving (they differ from run to run, so the same seed no longer "
        "gives the same bytes)",
    )
    parser.add_argument(
        "--out",
        action="append",
        metavar="FILE",
        help="write the plan to FILE: .csv, .json or .xlsx (repeat for several: --out plan.xlsx --out plan.csv)",
    )
    _add_across(parser, "one plan across them")
    parser.add_argument(
        "--lock",
        type=options.names,
        default=(),
        metavar="CH1,CH2",
        help="keep channels at today's spend (with --by-week: at their flighting)",
    )
    week = parser.add_argument_group("week by week (with --by-week)")
    week.add_argument(
        "--by-week", action="store_true", help="decide spend per channel per week (curves measured as impulses)"
    )
    week.add_argument("--committed", metavar="FILE", help="spend already bought: CSV channel,week,spend (weeks from 1)")
    week.add_argument("--additional", type=options.money, help="new money on top of --committed (the plan spends both)")
    week.add_argument(
        "--pacing",
        type=options.pacing,
        metavar="WEEKS:SHARE",
        help="no WEEKS weeks in a row above SHARE of the money, e.g. 4:30%%",
    )
    week.add_argument(
        "--measure-every",
        type=options.positive,
        metavar="K",
        help="simulate every K-th week's impulse (and the season's edges) and interpolate between (default 1)",
    )
    for flag, metavar, what in (
        ("--week-min", "CH=V", "least spend in a week the channel airs"),
        ("--week-max", "CH=V", "most spend in any week"),
        ("--min-weeks-on", "CH=N", "fewest weeks on air"),
        ("--max-dark-weeks", "CH=N", "most weeks dark"),
    ):
        week.add_argument(flag, action="append", type=options.channel_number, default=[], metavar=metavar, help=what)


def _add_across(parser: argparse.ArgumentParser, what: str) -> None:
    """--posterior, --risk and --worlds: plans across a posterior's parameter sets."""
    across = parser.add_argument_group("across a posterior's parameter sets (with --posterior)")
    across.add_argument(
        "--posterior", metavar="FILE",
        help=f"parameter sets (posterior.csv of mixsim calibrate): {what}, under --risk",
    )  # fmt: skip
    across.add_argument(
        "--risk", type=options.risk, default=None, metavar="RISK",
        help="mean (default); cvar:A, the mean return of the worst share A of the parameter sets; or quantile:Q, "
        "the lower quantile Q of the return across them",
    )  # fmt: skip
    across.add_argument(
        "--worlds", type=options.positive, default=20, metavar="K",
        help="the first K parameter sets to plan across (default 20; each costs a measurement of every curve)",
    )  # fmt: skip


def setup_frontier(parser: argparse.ArgumentParser) -> None:
    _add_problem(parser, budget=False)
    parser.add_argument(
        "--budgets",
        required=True,
        type=_budgets,
        metavar="LOW:HIGH:N",
        help="N budgets evenly from LOW to HIGH, e.g. 100000:1000000:10",
    )
    _add_future_value(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--out", metavar="DIR", help="write frontier.csv and frontier.png to DIR")
    _add_across(parser, "the plan across them at each budget")


def _add_future_value(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--with-future-value",
        action="store_true",
        help="count in revenue what the customers active at the end are worth after it (economics.future_value)",
    )


def _add_measure(parser: argparse.ArgumentParser, replications: int = 5, by_week: bool = False) -> None:
    options.add_runs(parser, replications, "replications per curve level")
    parser.add_argument(
        "--levels",
        type=options.levels,
        default=DEFAULT_LEVELS,
        metavar="M1,M2,...",
        help="curve spend levels as multiples of each channel's planned spend (default "
        + ",".join(f"{m:g}" for m in DEFAULT_LEVELS)
        + ("; with --by-week, of each channel-week's, default 0,1,2)" if by_week else ")"),
    )


def _add_problem(parser: argparse.ArgumentParser, budget: bool = True) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?", help="scenario file (TOML)")
    parser.add_argument(
        "--curves", metavar="FILE", help="response curves from a CSV (channel,spend,response or Hill parameters)"
    )
    if budget:
        parser.add_argument(
            "--budget", type=options.money, help="budget to allocate (default: the scenario's budget.total)"
        )
    parser.add_argument("--objective", choices=OBJECTIVES, default="revenue", help="what to optimize (default revenue)")
    parser.add_argument(
        "--target",
        type=options.positive_float,
        help="; ".join(f"{o.target} for {o.name}" for o in OBJECTIVES.values() if o.needs_target),
    )
    parser.add_argument(
        "--max-change",
        type=options.share,
        metavar="P",
        help="keep each channel within P of its current spend, e.g. 30%%",
    )
    parser.add_argument("--solver", choices=SOLVERS, default="auto", help="auto: HiGHS if installed, else CBC")
    if budget:
        parser.add_argument(
            "--iterations",
            type=options.positive,
            default=3,
            help="most solves of the closed loop (default 3; 1: no re-measuring)",
        )
    parser.add_argument("--order-value", type=options.positive_float, help="with --curves: revenue per conversion")
    parser.add_argument(
        "--margin", type=options.margin, default=None, help="with --curves: gross margin, 0..1 (default 1)"
    )
    # Fewer than for `mixsim curves`: the closed loop measures again around each plan.
    _add_measure(parser, replications=3, by_week=budget)  # the command with a budget is optimize
    options.add_set(parser)
    options.add_scale(parser)


def _budgets(text: str) -> list[float]:
    parts = text.split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"must be LOW:HIGH:N, e.g. 100000:1000000:10 (got {text!r})")
    low, high = options.money(parts[0]), options.money(parts[1])
    count = options.positive(parts[2])
    if high < low:
        raise argparse.ArgumentTypeError(f"HIGH must be >= LOW (got {text!r})")
    return [float(b) for b in np.linspace(low, high, count)]


@_flagged
def _curves(args: argparse.Namespace) -> int:
    if args.posterior is not None:
        return _curves_worlds(args)
    scenario = options.load(args)
    runs = curve_run_count(scenario, args.replications, args.levels)
    check_memory(scenario, args, runs=runs)
    out = out_dir(args.out)
    with ProgressBar(runs, enabled=not args.json) as progress:
        curves = response_curves(
            scenario,
            seed=args.seed,
            replications=args.replications,
            levels=args.levels,
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    if out is not None:
        from mixsim.plots import plot_curves, save_figure  # deferred: matplotlib loads only when a figure is saved

        with output_set(out) as staged:  # all of this run's files or none
            # The names optimize --curves knows: it reads a fits file's unfitted channels from the points beside it.
            write_atomic(staged / POINTS_FILE, spreadsheet_safe(curves.to_frame("points")).to_csv(index=False))
            write_atomic(staged / FITS_FILE, spreadsheet_safe(curves.to_frame("fits")).to_csv(index=False))
            save_figure(plot_curves(curves), staged / "curves", FIGURE_FORMATS)
    if args.json:
        print(curves.to_json())
    else:
        print(curves_report(curves))
        if out is not None:
            print(f"\nPoints, fits and curves.png written to {out}/")
    return 0


def _source(args: argparse.Namespace) -> tuple[Scenario | None, CurveSet | None]:
    """The scenario, or the curves file, the problem is about (exactly one), with the options that fit it."""
    if (args.scenario is None) == (args.curves is None):
        raise MixsimError(f"mixsim {args.command}: give a SCENARIO file or --curves FILE (one of them)")
    if args.curves is None:
        for flag in ("order_value", "margin"):
            if getattr(args, flag) is not None:
                raise MixsimError(f"{FLAGS[flag]}: only with --curves (a scenario has its own economics)")
        return options.load(args), None
    if args.overrides:
        raise MixsimError("--set: only with a SCENARIO (curves from a file have no scenario to change)")
    measuring = [
        flag
        for flag, given in (
            ("--seed", args.seed is not None),
            ("--replications", args.replications != args.default_replications),
            ("--levels", args.levels is not DEFAULT_LEVELS),
            ("--scale", args.scale is not None),
        )
        if given
    ]
    if measuring:
        raise MixsimError(f"{', '.join(measuring)}: only with a SCENARIO (they set how curves are measured)")
    margin = 1.0 if args.margin is None else args.margin
    curves = read_curves(args.curves, order_value=args.order_value or math.nan, margin=margin)
    if args.max_change is not None and not any(c.current > 0 for c in curves.curves):
        # The library takes this (every channel then stays at 0); from a file it is a missing column.
        raise MixsimError(
            f"--max-change: {args.curves} gives no current spend to change from (add a 'current' column of Hill "
            "parameters)"
        )
    return None, curves


_WEEK_OPTIONS = (
    "committed",
    "additional",
    "pacing",
    "week_min",
    "week_max",
    "min_weeks_on",
    "max_dark_weeks",
    "measure_every",
)
"""Options of ``optimize --by-week`` only."""


def _optimize(args: argparse.Namespace) -> int:
    if args.posterior is not None:
        return _optimize_worlds(args)
    if args.risk is not None:
        raise MixsimError("--risk: only with --posterior (a risk is weighed across parameter sets)")
    if args.by_week:
        if args.with_future_value:
            raise MixsimError("--with-future-value: not with --by-week (week-level plans count revenue in the horizon)")
        return optimize_by_week(args)
    return _optimize_channels(args)


@_flagged
def _optimize_worlds(args: argparse.Namespace) -> int:
    """``optimize --posterior FILE``: one plan across the parameter sets, under ``--risk``."""
    refused = {
        "--curves": args.curves, "--by-week": args.by_week, "--with-future-value": args.with_future_value,
        "--target": args.target,
    }  # fmt: skip
    used = [flag for flag, value in refused.items() if value not in (None, False, (), [])]
    if used:
        raise MixsimError(f"{', '.join(used)}: not yet with --posterior")
    if args.objective not in ("revenue", "profit", "conversions"):
        raise MixsimError(f"--objective {args.objective}: with --posterior, one of revenue, profit, conversions")
    targets = plan_paths(args.out)
    scenario = options.load(args)
    if args.budget is not None:
        scenario = scenario.replace({"budget.total": args.budget})
    sets = read_parameter_sets(args.posterior, scenario)
    worlds = min(args.worlds, len(sets))
    checks = args.verify_replications if args.verify else 0
    runs = curve_run_count(scenario, args.replications, args.levels) * (worlds + 1) * args.iterations
    runs += 3 * worlds * checks
    check_memory(scenario, args, runs=runs)
    with ProgressBar(runs, enabled=not args.json) as progress:
        result = optimize_under_risk(
            scenario, sets, args.risk or Risk(), objective=args.objective, worlds=worlds, seed=args.seed,
            replications=args.replications, levels=args.levels, check_replications=checks, iterations=args.iterations,
            max_change=args.max_change, locked=args.lock, solver=args.solver,
            workers=args.workers, executor=args.executor, progress=progress,
        )  # fmt: skip
    if targets:
        with output_files(targets) as staged:  # every --out of this plan, or none
            for target in targets:
                write_plan(result, staged(target))
    print(result.to_json() if args.json else robust_report(result, sets.source))
    if targets and not args.json:
        print(f"\nPlan written to {', '.join(str(t) for t in targets)}")
    return 0


@_flagged
def _optimize_channels(args: argparse.Namespace) -> int:
    used = [f"--{o.replace('_', '-')}" for o in _WEEK_OPTIONS if getattr(args, o) not in (None, (), [])]
    if used:
        raise MixsimError(f"{', '.join(used)}: only with --by-week")
    targets = plan_paths(args.out)
    scenario, curves = _source(args)
    if args.with_future_value and curves is not None:
        raise MixsimError("--with-future-value: needs a SCENARIO to simulate (curves from a file carry no customers)")
    if curves is not None:
        if args.budget is None:
            raise MixsimError("--budget: required with --curves (the file has no budget)")
        if args.verify:
            raise MixsimError("--verify: needs a SCENARIO to simulate (curves from a file cannot be verified)")
        problem = Problem(
            curves,
            budget=args.budget,
            objective=args.objective,
            target=args.target,
            max_change=args.max_change,
            locked=args.lock,
        )
        plan = solve(problem, args.solver)
    else:
        assert scenario is not None
        verify_replications = args.verify_replications if args.verify else 0
        runs = optimize_run_count(
            scenario,
            replications=args.replications,
            levels=args.levels,
            max_iterations=args.iterations,
            verify_replications=verify_replications,
        )
        check_memory(scenario, args, runs=runs)
        with ProgressBar(runs, enabled=not args.json) as progress:
            plan = optimize(
                scenario,
                budget=args.budget,
                objective=args.objective,
                target=args.target,
                max_change=args.max_change,
                seed=args.seed,
                replications=args.replications,
                levels=args.levels,
                max_iterations=args.iterations,
                solver=args.solver,
                workers=args.workers,
                executor=args.executor,
                progress=progress,
                verify_replications=verify_replications,
                locked=args.lock,
                with_future_value=args.with_future_value,
            )
    if args.json:
        print(plan.to_json(timings=args.timings))
    plan.check()
    if targets:
        with output_files(targets) as staged:  # every --out of this plan, or none
            for target in targets:
                write_plan(plan, staged(target))
    if not args.json:
        print(in_flags(plan_report(plan), FLAGS))
        if targets:
            print(f"\nPlan written to {', '.join(str(t) for t in targets)}")
    return 0


@_flagged
def _frontier(args: argparse.Namespace) -> int:
    if args.posterior is not None:
        return _frontier_worlds(args)
    if args.risk is not None:
        raise MixsimError("--risk: only with --posterior (a risk is weighed across parameter sets)")
    scenario, curves = _source(args)
    if args.with_future_value and curves is not None:
        raise MixsimError("--with-future-value: needs a SCENARIO to simulate (curves from a file carry no customers)")
    out = out_dir(args.out)
    if curves is None:
        assert scenario is not None
        runs = curve_run_count(scenario, args.replications, args.levels)
        check_memory(scenario, args, runs=runs)
        with ProgressBar(runs, enabled=not args.json) as progress:
            result = scenario_frontier(
                scenario,
                args.budgets,
                objective=args.objective,
                target=args.target,
                max_change=args.max_change,
                seed=args.seed,
                replications=args.replications,
                levels=args.levels,
                solver=args.solver,
                workers=args.workers,
                executor=args.executor,
                progress=progress,
                with_future_value=args.with_future_value,
            )
    else:
        problem = Problem(
            curves, budget=max(args.budgets), objective=args.objective, target=args.target, max_change=args.max_change
        )
        result = frontier(problem, args.budgets, args.solver)
    result.check()
    table = result.to_frame()
    if out is not None:
        from mixsim.plots import plot_frontier, save_figure  # deferred: matplotlib loads only when a figure is saved

        with output_set(out) as staged:  # all of this run's files or none
            write_atomic(staged / "frontier.csv", spreadsheet_safe(table).to_csv(index=False))
            save_figure(plot_frontier(result), staged / "frontier", FIGURE_FORMATS)
    if args.json:
        print(result.to_json())
    else:
        print(frontier_report(table))
        if out is not None:
            print(f"\nfrontier.csv and frontier.png written to {out}/")
    return 0


@_flagged
def _frontier_worlds(args: argparse.Namespace) -> int:
    """``frontier --posterior FILE``: at each budget, the plan across the parameter sets under ``--risk``."""
    refused = {"--curves": args.curves, "--with-future-value": args.with_future_value, "--target": args.target}
    used = [flag for flag, value in refused.items() if value not in (None, False)]
    if used:
        raise MixsimError(f"{', '.join(used)}: not yet with --posterior")
    if args.objective not in ("revenue", "profit", "conversions"):
        raise MixsimError(f"--objective {args.objective}: with --posterior, one of revenue, profit, conversions")
    out = out_dir(args.out)
    scenario = options.load(args)
    sets = read_parameter_sets(args.posterior, scenario)
    worlds = min(args.worlds, len(sets))
    runs = curve_run_count(scenario, args.replications, args.levels) * worlds
    check_memory(scenario, args, runs=runs)
    with ProgressBar(runs, enabled=not args.json) as progress:
        result = risk_frontier(
            scenario, sets, args.budgets, args.risk or Risk(), objective=args.objective, worlds=worlds,
            max_change=args.max_change, seed=args.seed, replications=args.replications, levels=args.levels,
            solver=args.solver, workers=args.workers, executor=args.executor, progress=progress,
        )  # fmt: skip
    result.check()
    if out is not None:
        from mixsim.plots import save_figure  # deferred: matplotlib loads only when a figure is saved
        from mixsim.plots.uncertainty import plot_risk_frontier

        with output_set(out) as staged:  # all of this run's files or none
            write_atomic(staged / "frontier.csv", spreadsheet_safe(result.to_frame()).to_csv(index=False))
            save_figure(plot_risk_frontier(result), staged / "frontier", FIGURE_FORMATS)
    print(result.to_json() if args.json else risk_frontier_report(result))
    if out is not None and not args.json:
        print(f"\nfrontier.csv and frontier.png written to {out}/")
    return 0


COMMANDS = {
    "curves": (setup_curves, _curves),
    "optimize": (setup_optimize, _optimize),
    "frontier": (setup_frontier, _frontier),
}
"""Each command's options and handler, for the parser table in :mod:`mixsim.cli.main`."""
