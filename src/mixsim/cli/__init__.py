"""The ``mixsim`` command: a thin layer over the public API (it parses, calls, prints and writes; never computes)."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mixsim._files import write_atomic, write_csv
from mixsim._version import __version__
from mixsim.cli.text import (
    attribution_report,
    compare_report,
    curves_report,
    frontier_report,
    num,
    plan_report,
    short_path,
    simulation_report,
    weekly_report,
)
from mixsim.errors import InfeasibleError, MixsimError
from mixsim.executors import INSTALL_DASK, SCHEDULER_ENV, deferred_executor, scheduler_from
from mixsim.optimize import OBJECTIVES, Problem, frontier, optimize, solve, verify
from mixsim.optimize.curves import DEFAULT_LEVELS, CurveSet, curve_run_count, read_curves, response_curves
from mixsim.optimize.plan import write_plan
from mixsim.optimize.program import SOLVERS
from mixsim.research.attribution import MAX_SHAPLEY_CHANNELS, MODELS, against_truth
from mixsim.research.mmm import DEFAULT_START, MAX_VARIATION, mmm_scenario, mmm_truth
from mixsim.results import TABLES, SimulationResult, json_records
from mixsim.scenario import Scenario, json_schema, load_scenario
from mixsim.scenario.templates import list_templates, template_text, write_template
from mixsim.simulation import memory_available, memory_needed, root_seed, run_count, simulate
from mixsim.whatif import compare, optimized, vary

FIGURE_FORMATS = ("png", "svg")
"""Every figure the command saves is saved in each of these."""

TARGETED = {
    "min-spend": "the conversions to reach",
    "cpa": "the highest cost per conversion",
    "roas": "the lowest revenue per dollar",
}
"""Objectives that need ``--target``, and what it means for each."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 unexpected failure, 2 invalid input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if not hasattr(args, "workers"):
            return int(args.handler(args))
        with deferred_executor(args.workers, scheduler_from(args.scheduler)) as executor:
            args.executor = executor
            return int(args.handler(args))
    except MixsimError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mixsim: interrupted; no output file was left half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # an output that could not be written (disk full, permissions changed meanwhile)
        print(f"mixsim: cannot write {exc.filename or 'an output'}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an unexpected failure: say so in one line, the traceback on request
        if os.environ.get("MIXSIM_DEBUG"):
            raise
        print(
            f"mixsim: unexpected error: {type(exc).__name__}: {exc} (set MIXSIM_DEBUG=1 for details)", file=sys.stderr
        )
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mixsim", description="Marketing-mix simulator and budget optimizer.")
    parser.add_argument("--version", action="version", version=f"mixsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser("simulate", help="simulate a scenario and report what the plan does")
    sim.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    _add_runs(sim, 10, "independent runs")
    _add_set(sim)
    sim.add_argument(
        "--incrementality",
        action="store_true",
        help="also measure each channel's true incremental effect (re-runs with it off and at 95%%)",
    )
    sim.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    sim.add_argument("--out", metavar="DIR", help="write CSV tables and summary.json to DIR")
    sim.set_defaults(handler=_simulate)

    val = sub.add_parser("validate", help="check a scenario file and report every problem")
    val.add_argument("scenario", metavar="SCENARIO")
    _add_set(val)
    val.set_defaults(handler=_validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files (for editor completion)")
    schema.set_defaults(handler=_schema)

    cur = sub.add_parser("curves", help="measure each channel's response curve by simulation")
    cur.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    _add_measure(cur)
    _add_set(cur)
    cur.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    cur.add_argument("--out", metavar="DIR", help="write curve_points.csv, curve_fits.csv and curves.png to DIR")
    cur.set_defaults(handler=_curves)

    opt = sub.add_parser("optimize", help="allocate the budget across channels to maximize the projected return")
    _add_problem(opt)
    opt.add_argument("--verify", action="store_true", help="simulate the plan against the current plan")
    opt.add_argument(
        "--verify-replications", type=_positive, default=10, metavar="R", help="replications of --verify (default 10)"
    )
    opt.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    opt.add_argument("--out", metavar="FILE", help="write the plan to FILE: .csv, .json or .xlsx")
    week = opt.add_argument_group("week by week (with --by-week)")
    week.add_argument(
        "--by-week", action="store_true", help="decide spend per channel per week (curves measured as impulses)"
    )
    week.add_argument("--lock", type=_names, default=(), metavar="CH1,CH2", help="keep channels at their flighting")
    week.add_argument("--committed", metavar="FILE", help="spend already bought: CSV channel,week,spend (weeks from 1)")
    week.add_argument("--additional", type=_money, help="new money on top of --committed (the plan spends both)")
    week.add_argument(
        "--pacing",
        type=_pacing,
        metavar="WEEKS:SHARE",
        help="no WEEKS weeks in a row above SHARE of the money, e.g. 4:30%%",
    )
    week.add_argument(
        "--measure-every",
        type=_positive,
        metavar="K",
        help="simulate every K-th week's impulse (and the season's edges) and interpolate between (default 1)",
    )
    for flag, what in (
        ("--week-min", "least spend in a week the channel airs"),
        ("--week-max", "most spend in any week"),
        ("--min-weeks-on", "fewest weeks on air"),
        ("--max-dark-weeks", "most weeks dark"),
    ):
        week.add_argument(flag, action="append", type=_channel_number, default=[], metavar="CH=N", help=what)
    opt.set_defaults(handler=_optimize)

    fro = sub.add_parser("frontier", help="the optimal return and allocation over a range of budgets")
    _add_problem(fro, budget=False)
    fro.add_argument(
        "--budgets",
        required=True,
        type=_budgets,
        metavar="LOW:HIGH:N",
        help="N budgets evenly from LOW to HIGH, e.g. 100000:1000000:10",
    )
    fro.add_argument("--json", action="store_true", help="print JSON instead of a table")
    fro.add_argument("--out", metavar="DIR", help="write frontier.csv and frontier.png to DIR")
    fro.set_defaults(handler=_frontier)

    cmp_ = sub.add_parser("compare", help="simulate variants of a scenario with common random numbers")
    cmp_.add_argument("scenario", metavar="BASE", help="the base scenario (TOML)")
    cmp_.add_argument("others", metavar="OTHER", nargs="*", help="alternative scenario files")
    cmp_.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="variants of BASE with KEY at each value (repeat for a grid), e.g. funnel.synergy=0,0.3",
    )
    _add_runs(cmp_, 10, "runs per variant", seed_default="BASE's")
    _add_set(cmp_)
    cmp_.add_argument(
        "--optimize",
        action="store_true",
        help="also optimize each variant's budget (3 replications per curve level, 2 solves) and compare those too",
    )
    cmp_.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    cmp_.add_argument("--out", metavar="DIR", help="write compare_kpis.csv and compare_channels.csv to DIR")
    cmp_.set_defaults(handler=_compare)

    rep = sub.add_parser("report", help="one self-contained HTML report of a scenario (and its optimized plan)")
    rep.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    rep.add_argument("--optimize", action="store_true", help="also optimize the budget and show the plan")
    _add_runs(rep, 10, "replications")
    _add_set(rep)
    rep.add_argument("--out", metavar="FILE", default="report.html", help="the HTML file (default report.html)")
    rep.set_defaults(handler=_report_command)

    mmm = sub.add_parser("export-mmm", help="a long simulated dataset for marketing-mix models, with its truth")
    mmm.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    mmm.add_argument("--out", required=True, metavar="FILE", help="the dataset (CSV); the truth goes beside it")
    mmm.add_argument("--weeks", type=_weeks, default=104, help="length of the run in weeks (default 104)")
    mmm.add_argument("--freq", choices=("W", "D"), default="W", help="weekly (W, default) or daily (D) rows")
    mmm.add_argument(
        "--variation",
        type=_variation,
        default=0.5,
        metavar="SIGMA",
        help="log-scale spread of each channel's weekly spend around its plan (default 0.5)",
    )
    mmm.add_argument(
        "--dark", type=_dark, default=0.0, metavar="SHARE", help="chance a channel is off in a week (default 0)"
    )
    mmm.add_argument("--start", type=_date, default=DEFAULT_START, help=f"date of day 0 (default {DEFAULT_START})")
    mmm.add_argument("--seed", type=_non_negative, default=None, help="root seed (default: the scenario's, else 0)")
    _add_workers(mmm)
    _add_set(mmm)
    mmm.set_defaults(handler=_export_mmm)

    jny = sub.add_parser("journeys", help="customer journeys as a path table and a per-touch event table")
    jny.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    jny.add_argument("--out", required=True, metavar="DIR", help="write paths.csv, touches.csv and customers.csv")
    jny.add_argument(
        "--sample",
        type=_sample,
        default=0.1,
        metavar="SHARE",
        help="share of customers to follow (default 0.1; 1 follows everyone)",
    )
    jny.add_argument("--days", action="store_true", help="add path_days (days from each touch to the path's end)")
    jny.add_argument(
        "--collapse", action="store_true", help="merge consecutive touches by the same channel in paths.csv"
    )
    _add_runs(jny, 1, "replications, pooled in paths.csv")
    _add_set(jny)
    jny.set_defaults(handler=_journeys)

    att = sub.add_parser("attribution", help="attribution models' credit per channel beside the true incrementality")
    att.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    att.add_argument(
        "--models",
        type=_models,
        default=MODELS,
        metavar="M1,M2,...",
        help=f"models to compare (default all: {','.join(MODELS)})",
    )
    att.add_argument(
        "--sample",
        type=_sample,
        default=1.0,
        metavar="SHARE",
        help="share of customers whose journeys are attributed, scaled up to the population (default 1)",
    )
    att.add_argument(
        "--half-life", type=_positive_float, default=7.0, metavar="DAYS", help="time-decay half-life (default 7)"
    )
    _add_runs(att, 5, "replications")
    _add_set(att)
    att.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    att.add_argument("--out", metavar="DIR", help="write attribution_channels.csv, attribution_models.csv and a figure")
    att.set_defaults(handler=_attribution)

    swp = sub.add_parser("sweep", help="simulate every cell of a grid of scenario variants into a Parquet dataset")
    swp.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    swp.add_argument("--grid", required=True, metavar="FILE", help="the grid (TOML): [grid] or [sample], and [sweep]")
    swp.add_argument("--out", required=True, metavar="DIR", help="the Parquet dataset (a folder); run again to resume")
    swp.add_argument("--seed", type=_non_negative, default=None, help="root seed (default: the scenario's, else 0)")
    swp.add_argument(
        "--replications", "-r", type=_positive, default=None, help="replications per cell (default: the grid's, else 5)"
    )
    swp.add_argument(
        "--optimize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also optimize each cell's budget (default: the grid's [sweep] optimize, else no)",
    )
    _add_workers(swp)
    _add_set(swp)
    swp.set_defaults(handler=_sweep)

    new = sub.add_parser("new", help="write a commented starter scenario from a template")
    new.add_argument("--template", required=True, metavar="NAME", help="see mixsim list-templates")
    new.add_argument("--out", metavar="FILE", help="write it to FILE (default: print it)")
    new.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    new.set_defaults(handler=_new)

    lst = sub.add_parser("list-templates", help="the starter scenarios mixsim new can write")
    lst.set_defaults(handler=_list_templates)
    return parser


def _add_runs(
    parser: argparse.ArgumentParser, replications: int, what: str, seed_default: str = "the scenario's"
) -> None:
    """--seed, --replications and --workers, as every simulating command takes them."""
    parser.add_argument("--seed", type=_non_negative, default=None, help=f"root seed (default: {seed_default}, else 0)")
    parser.add_argument(
        "--replications", "-r", type=_positive, default=replications, help=f"{what} (default {replications})"
    )
    parser.set_defaults(default_replications=replications)
    _add_workers(parser)


def _add_workers(parser: argparse.ArgumentParser) -> None:
    """--workers and --scheduler: where the runs go (a local pool, or a Dask cluster)."""
    parser.add_argument(
        "--workers",
        "-w",
        type=_positive,
        default=os.cpu_count() or 1,
        help="worker processes (default: all cores); with --scheduler local, the local cluster's (a remote "
        "cluster has its own)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help=f"run on a Dask cluster: tcp://HOST:PORT, or 'local' for a local one of --workers processes "
        f"(default: ${SCHEDULER_ENV}, else the local process pool; needs {INSTALL_DASK})",
    )


def _add_measure(parser: argparse.ArgumentParser, replications: int = 5) -> None:
    _add_runs(parser, replications, "replications per curve level")
    parser.add_argument(
        "--levels",
        type=_levels,
        default=DEFAULT_LEVELS,
        metavar="M1,M2,...",
        help="curve spend levels as multiples of each channel's planned spend (default "
        + ",".join(f"{m:g}" for m in DEFAULT_LEVELS)
        + "; with --by-week, of each channel-week's, default 0,1,2)",
    )


def _add_problem(parser: argparse.ArgumentParser, budget: bool = True) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", nargs="?", help="scenario file (TOML)")
    parser.add_argument(
        "--curves", metavar="FILE", help="response curves from a CSV (channel,spend,response or Hill parameters)"
    )
    if budget:
        parser.add_argument("--budget", type=_money, help="budget to allocate (default: the scenario's budget.total)")
    parser.add_argument("--objective", choices=OBJECTIVES, default="revenue", help="what to optimize (default revenue)")
    parser.add_argument(
        "--target",
        type=_positive_float,
        help="conversions for min-spend; cost per conversion for cpa; revenue per dollar for roas",
    )
    parser.add_argument(
        "--max-change", type=_share, metavar="P", help="keep each channel within P of its current spend, e.g. 30%%"
    )
    parser.add_argument("--solver", choices=SOLVERS, default="auto", help="auto: HiGHS if installed, else CBC")
    if budget:
        parser.add_argument(
            "--iterations",
            type=_positive,
            default=3,
            help="most solves of the closed loop (default 3; 1: no re-measuring)",
        )
    parser.add_argument("--order-value", type=_positive_float, help="with --curves: revenue per conversion")
    parser.add_argument("--margin", type=_margin, default=None, help="with --curves: gross margin, 0..1 (default 1)")
    # Fewer than for `mixsim curves`: the closed loop measures again around each plan.
    _add_measure(parser, replications=3)
    _add_set(parser)


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario key with a TOML value, e.g. channels.tv.spend=50000 (repeatable)",
    )


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {value})")
    return value


def _non_negative(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {value})")
    return value


def _positive_float(text: str) -> float:
    value = _money(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
    return value


def _money(text: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number (got {text!r})") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0 (got {text})")
    return value


def _share(text: str) -> float:
    """A share given as 30%% or 0.3."""
    percent = text.strip().endswith("%")
    value = _money(text.strip().rstrip("%"))
    return value / 100 if percent else value


def _margin(text: str) -> float:
    value = _share(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {text})")
    return value


def _levels(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be numbers separated by commas (got {text!r})") from None
    if any(not (math.isfinite(v) and v >= 0) for v in values) or sum(v > 0 for v in set(values)) < 2:
        raise argparse.ArgumentTypeError(f"must be numbers >= 0, at least two of them above 0 (got {text!r})")
    return values


def _budgets(text: str) -> list[float]:
    parts = text.split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"must be LOW:HIGH:N, e.g. 100000:1000000:10 (got {text!r})")
    low, high = _money(parts[0]), _money(parts[1])
    count = _positive(parts[2])
    if high < low:
        raise argparse.ArgumentTypeError(f"HIGH must be >= LOW (got {text!r})")
    return [float(b) for b in np.linspace(low, high, count)]


def _weeks(text: str) -> int:
    value = _integer(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be >= 2 (got {value})")
    return value


def _variation(text: str) -> float:
    value = _money(text)
    if value > MAX_VARIATION:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_VARIATION:g} (got {text})")
    return value


def _dark(text: str) -> float:
    value = _share(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be below 1 (got {text})")
    return value


def _sample(text: str) -> float:
    value = _share(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share above 0 and at most 1 (got {text})")
    return value


def _date(text: str) -> str:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date as YYYY-MM-DD (got {text!r})") from None
    return text


def _models(text: str) -> tuple[str, ...]:
    names = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in names if m not in MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(MODELS)}"
        )
    return names


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _pacing(text: str) -> tuple[int, float]:
    weeks, sep, share = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"must be WEEKS:SHARE, e.g. 4:30% (got {text!r})")
    return _positive(weeks), _margin(share)


def _channel_number(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"must be CHANNEL=NUMBER (got {text!r})")
    return name.strip(), _money(value)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None


# ------------------------------------------------------------------------------------------------- commands
def _simulate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    _check_memory(scenario, args, runs=run_count(scenario, args.replications, args.incrementality))
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise MixsimError(f"--out {args.out}: exists and is not a directory")
    runs = run_count(scenario, args.replications, args.incrementality)
    with _progress(runs, enabled=not args.json) as progress:
        result = simulate(
            scenario,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            incrementality=args.incrementality,
            progress=progress,
        )
    if args.out:
        _write_tables(result, Path(args.out))
    if args.json:
        print(result.to_json())
    else:
        print(simulation_report(result))
        if args.out:
            print(f"\nTables written to {args.out}/")
    return 0


def _validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    print(
        f"{args.scenario}: ok ({scenario.name!r}: {len(scenario.channels)} channels, "
        f"{len(scenario.segments)} segments, population {scenario.population:,}, {scenario.horizon_days} days)"
    )
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def _curves(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    _check_memory(scenario, args, runs=curve_run_count(scenario, args.replications))
    out = _out_dir(args.out)
    with _progress(curve_run_count(scenario, args.replications, args.levels), enabled=not args.json) as progress:
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
        write_atomic(out / "curve_points.csv", curves.to_frame("points").to_csv(index=False))
        write_atomic(out / "curve_fits.csv", curves.to_frame("fits").to_csv(index=False))
        from mixsim.plots import plot_curves, save_figure

        save_figure(plot_curves(curves), out / "curves", FIGURE_FORMATS)
    if args.json:
        print(curves.to_json())
    else:
        print(curves_report(curves))
        if out is not None:
            print(f"\nPoints, fits and curves.png written to {out}/")
    return 0


def _load_curves(args: argparse.Namespace) -> tuple[Scenario | None, CurveSet | None]:
    """The scenario, or the curves file, the problem is about (exactly one)."""
    if (args.scenario is None) == (args.curves is None):
        raise MixsimError(f"mixsim {args.command}: give a SCENARIO file or --curves FILE (one of them)")
    # Checked before any simulation: a mistake here should not cost the minutes curves take to measure.
    if args.objective in TARGETED and args.target is None:
        raise MixsimError(f"--target: objective {args.objective} needs one ({TARGETED[args.objective]})")
    if args.objective not in TARGETED and args.target is not None:
        raise MixsimError(f"--target: only with objective {', '.join(TARGETED)} (got --objective {args.objective})")
    if args.curves is not None and args.objective not in ("revenue", "profit") and args.order_value is None:
        raise MixsimError(
            f"--order-value: objective {args.objective} is counted in conversions; give the revenue per conversion"
        )
    if args.curves is None:
        for flag in ("order_value", "margin"):
            if getattr(args, flag) is not None:
                raise MixsimError(f"--{flag.replace('_', '-')}: only with --curves (a scenario has its own economics)")
        scenario = load_scenario(args.scenario, args.overrides)
        _check_memory(scenario, args)
        return scenario, None
    if args.overrides:
        raise MixsimError("--set: only with a SCENARIO (curves from a file have no scenario to change)")
    measuring = [
        flag
        for flag, given in (
            ("--seed", args.seed is not None),
            ("--replications", args.replications != args.default_replications),
            ("--levels", args.levels is not DEFAULT_LEVELS),
        )
        if given
    ]
    if measuring:
        raise MixsimError(f"{', '.join(measuring)}: only with a SCENARIO (they set how curves are measured)")
    margin = 1.0 if args.margin is None else args.margin
    curves = read_curves(args.curves, order_value=args.order_value or math.nan, margin=margin)
    if args.max_change is not None and not any(c.current > 0 for c in curves.curves):
        raise MixsimError(
            f"--max-change: {args.curves} gives no current spend to change from (add a 'current' column of Hill "
            "parameters)"
        )
    return None, curves


def _optimize(args: argparse.Namespace) -> int:
    if args.by_week:
        return _optimize_by_week(args)
    week_options = (
        "lock",
        "committed",
        "additional",
        "pacing",
        "week_min",
        "week_max",
        "min_weeks_on",
        "max_dark_weeks",
        "measure_every",
    )
    used = [f"--{o.replace('_', '-')}" for o in week_options if getattr(args, o) not in (None, (), [])]
    if used:
        raise MixsimError(f"{', '.join(used)}: only with --by-week")
    scenario, curves = _load_curves(args)
    if args.out:
        if Path(args.out).suffix.lower() not in (".csv", ".json", ".xlsx"):
            raise MixsimError(
                f"--out {args.out}: the plan is written as .csv, .json or .xlsx (got {Path(args.out).name})"
            )
        _check_writable(Path(args.out), directory=False)
    if curves is not None:
        if args.budget is None:
            raise MixsimError("--budget: required with --curves (the file has no budget)")
        if args.verify:
            raise MixsimError("--verify: needs a SCENARIO to simulate (curves from a file cannot be verified)")
        problem = Problem(
            curves, budget=args.budget, objective=args.objective, target=args.target, max_change=args.max_change
        )
        plan = solve(problem, args.solver)
    else:
        assert scenario is not None
        per_measure = curve_run_count(scenario, args.replications, args.levels)
        total = per_measure * args.iterations + (2 * args.verify_replications if args.verify else 0)
        with _progress(total, enabled=not args.json) as progress:
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
            )
            if args.verify and plan.optimal:
                plan = verify(
                    scenario,
                    plan,
                    seed=args.seed,
                    replications=args.verify_replications,
                    workers=args.workers,
                    executor=args.executor,
                    progress=progress,
                )
    if args.json:
        print(plan.to_json())
    plan.check()
    if args.out:
        write_plan(plan, args.out)
    if not args.json:
        print(plan_report(plan))
        if args.out:
            print(f"\nPlan written to {args.out}")
    return 0


def _optimize_by_week(args: argparse.Namespace) -> int:
    from mixsim.optimize.weekly.flighting import (
        WEEK_LEVELS,
        WeeklyProblem,
        check_settings,
        money,
        optimize_weekly,
        verify_weekly,
        week_run_count,
        week_spend,
        write_weekly,
    )

    if args.curves is not None or args.scenario is None:
        raise MixsimError("--by-week: needs a SCENARIO (week-level curves are measured by simulation)")
    if args.objective != "revenue" or args.max_change is not None:
        raise MixsimError("--by-week: optimizes revenue within the money; --objective and --max-change do not apply")
    scenario = load_scenario(args.scenario, args.overrides)
    names = set(scenario.channel_names)
    mapped: dict[str, dict[str, float]] = {}
    problems = [f"--lock: no channel {n!r}" for n in args.lock if n not in names]
    for option in ("week_min", "week_max", "min_weeks_on", "max_dark_weeks"):
        flag = "--" + option.replace("_", "-")
        pairs = getattr(args, option)
        mapped[option] = dict(pairs)
        problems += [f"{flag}: no channel {n!r}" for n in mapped[option] if n not in names]
        problems += [
            f"{flag}: {n} is given more than once" for n in mapped[option] if [k for k, _ in pairs].count(n) > 1
        ]
        if option in ("min_weeks_on", "max_dark_weeks"):
            problems += [f"{flag}: {n}={v:g}: must be a whole number of weeks" for n, v in pairs if v != int(v)]
    if args.additional is not None and args.committed is None:
        problems.append("--additional: only with --committed (without committed spend, give --budget)")
    if args.additional is not None and args.budget is not None:
        problems.append("--budget: not with --additional (the money is then committed + additional)")
    if args.levels is not DEFAULT_LEVELS and 1.0 not in args.levels:
        problems.append(f"--levels: must include 1, the plan itself (got {','.join(f'{m:g}' for m in args.levels)})")
    if problems:
        raise MixsimError(problems)
    current = week_spend(scenario)
    committed = _read_committed(args.committed, scenario.channel_names, current.shape[1]) if args.committed else None
    if args.additional is None and committed is not None:
        raise MixsimError("--committed: give --additional too (the new money on top of what is bought)")
    _check_memory(scenario, args)
    budget = args.budget if args.budget is not None else scenario.budget_total - scenario.fixed_costs
    if args.out:
        if Path(args.out).suffix.lower() not in (".csv", ".json", ".xlsx"):
            raise MixsimError(f"--out {args.out}: the plan is written as .csv, .json or .xlsx")
        _check_writable(Path(args.out), directory=False)
    levels = args.levels if args.levels is not DEFAULT_LEVELS else WEEK_LEVELS
    pacing_weeks, pacing_share = args.pacing if args.pacing else (None, None)

    settings: dict[str, Any] = {
        "budget": budget,
        "week_min": mapped["week_min"],
        "week_max": mapped["week_max"],
        "min_weeks_on": {k: int(v) for k, v in mapped["min_weeks_on"].items()},
        "max_dark_weeks": {k: int(v) for k, v in mapped["max_dark_weeks"].items()},
        "pacing_weeks": pacing_weeks,
        "pacing_share": pacing_share,
        "locked": args.lock,
        "committed": committed,
        "additional": args.additional,
    }
    total = money(budget, committed, args.additional)
    check_settings(scenario.channel_names, current.shape[1], **settings, current=current, total=total)
    start = current if committed is None else np.maximum(current, committed)  # a start that meets what is bought
    every = args.measure_every or 1
    per_measure = week_run_count(start, args.replications, levels, every, scenario.seasonality)
    runs = args.iterations * per_measure + (2 * args.verify_replications if args.verify else 0)
    with _progress(runs, enabled=not args.json) as progress:
        plan = optimize_weekly(
            scenario,
            lambda curves: WeeklyProblem(curves, **settings),
            seed=args.seed,
            replications=args.replications,
            levels=levels,
            every=every,
            around=start,
            max_iterations=args.iterations,
            solver=args.solver,
            executor=args.executor,
            progress=progress,
        )
        verification = None
        if args.verify and plan.optimal:
            verification = verify_weekly(
                scenario,
                plan,
                seed=args.seed,
                replications=args.verify_replications,
                executor=args.executor,
                progress=progress,
            )
    if args.out and plan.optimal:
        write_weekly(plan, args.out, verification)
        from mixsim.plots import plot_flighting, save_figure

        figure = Path(args.out).with_name(f"{Path(args.out).stem}_flighting")
        save_figure(plot_flighting(plan, scenario.seasonality), figure, FIGURE_FORMATS)
        if args.verify:
            from mixsim.optimize.weekly.flighting import projected_funnel
            from mixsim.plots import plot_funnel

            funnel = projected_funnel(
                scenario, plan, seed=args.seed, replications=args.verify_replications, executor=args.executor
            )
            save_figure(plot_funnel(funnel), Path(args.out).with_name(f"{Path(args.out).stem}_funnel"), FIGURE_FORMATS)
    if args.json:
        from mixsim.optimize.weekly.flighting import plan_to_json

        print(plan_to_json(plan, verification))
    else:
        print(weekly_report(plan, verification))
        if args.out and plan.optimal:
            figures = "_flighting" + (" and _funnel" if args.verify else "")
            print(f"\nPlan written to {args.out}; figures {Path(args.out).stem}{figures} (.png, .svg) beside it")
    if not plan.optimal:
        raise InfeasibleError(plan.message)
    return 0


def _read_committed(path: str, channels: tuple[str, ...], weeks: int) -> np.ndarray:
    """Committed spend from a CSV with columns channel, week (from 1), spend; errors name the file and row."""
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype={"channel": str})
    except FileNotFoundError:
        raise MixsimError(f"{path}: file not found") from None
    except (OSError, ValueError) as exc:
        raise MixsimError(f"{path}: cannot read it as CSV ({exc})") from None
    missing = [c for c in ("channel", "week", "spend") if c not in table.columns]
    if missing:
        raise MixsimError(f"{path}: missing column(s) {', '.join(missing)} (expected channel,week,spend)")
    out = np.zeros((len(channels), weeks))
    problems = []
    seen: dict[tuple[str, int], int] = {}
    for row, (raw, week, spend) in enumerate(zip(table["channel"], table["week"], table["spend"], strict=True), 2):
        name = raw.strip() if isinstance(raw, str) else raw
        if name not in channels:
            problems.append(f"{path}: row {row}: channel: no channel {name!r}")
            continue
        try:
            w, value = float(week), float(spend)
        except (TypeError, ValueError):
            problems.append(f"{path}: row {row}: week and spend must be numbers (got {week!r}, {spend!r})")
            continue
        if not (math.isfinite(w) and w == int(w) and 1 <= w <= weeks) or not (math.isfinite(value) and value >= 0):
            problems.append(
                f"{path}: row {row}: week must be a whole number in 1..{weeks} and spend a finite number >= 0 "
                f"(got {week}, {spend})"
            )
            continue
        if (name, int(w)) in seen:
            problems.append(f"{path}: row {row}: {name} week {int(w)} is already committed in row {seen[name, int(w)]}")
            continue
        seen[name, int(w)] = row
        out[channels.index(name), int(w) - 1] = value
    if len(problems) > 20:
        problems = [*problems[:20], f"{path}: and {len(problems) - 20} more row(s) like these"]
    if problems:
        raise MixsimError(problems)
    return out


def _frontier(args: argparse.Namespace) -> int:
    scenario, curves = _load_curves(args)
    out = _out_dir(args.out)
    if curves is None:
        assert scenario is not None
        with _progress(curve_run_count(scenario, args.replications, args.levels), enabled=not args.json) as progress:
            curves = response_curves(
                scenario,
                seed=args.seed,
                replications=args.replications,
                levels=args.levels,
                workers=args.workers,
                executor=args.executor,
                progress=progress,
            )
        problem = Problem.from_scenario(
            scenario, curves, objective=args.objective, target=args.target, max_change=args.max_change
        )
    else:
        problem = Problem(
            curves, budget=max(args.budgets), objective=args.objective, target=args.target, max_change=args.max_change
        )
    result = frontier(problem, args.budgets, args.solver)
    if not any(p.optimal for p in result.plans):
        raise InfeasibleError(
            f"no budget from {min(args.budgets):,.0f} to {max(args.budgets):,.0f} is feasible: "
            + result.plans[-1].message
        )
    table = result.to_frame()
    if out is not None:
        write_atomic(out / "frontier.csv", table.to_csv(index=False))
        from mixsim.plots import plot_frontier, save_figure

        save_figure(plot_frontier(result), out / "frontier", FIGURE_FORMATS)
    if args.json:
        print(result.to_json())
    else:
        print(frontier_report(table))
        if out is not None:
            print(f"\nfrontier.csv and frontier.png written to {out}/")
    return 0


def _compare(args: argparse.Namespace) -> int:
    out = _out_dir(args.out)
    base = load_scenario(args.scenario, args.overrides)
    variants = [(Path(path).stem, load_scenario(path, args.overrides)) for path in args.others]
    for scenario in (base, *(s for _, s in variants)):
        _check_memory(scenario, args, runs=args.replications)
    grid: dict[str, list[str]] = {}
    for item in args.vary:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise MixsimError(f"--vary {item}: expected KEY=V1,V2,... e.g. funnel.synergy=0,0.3")
        grid[key.strip()] = [v.strip() for v in values.split(",")]
    if grid:
        variants += vary(base, grid)
    labels = [Path(args.scenario).stem, *(label for label, _ in variants)]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise MixsimError(f"mixsim compare: variants need distinct names; named twice: {', '.join(twice)}")
    if not variants and not args.optimize:
        raise MixsimError("mixsim compare: nothing to compare: give OTHER scenario files, --vary or --optimize")
    if args.optimize:
        worlds = [(Path(args.scenario).stem, base), *variants]
        runs = curve_run_count(base, 3, DEFAULT_LEVELS) * 2 * len(worlds)
        with _progress(runs, enabled=not args.json) as progress:
            variants += optimized(
                worlds, seed=args.seed, workers=args.workers, executor=args.executor, progress=progress
            )
    total = args.replications * (1 + len(variants))
    with _progress(total, enabled=not args.json) as progress:
        result = compare(
            base,
            variants,
            base_label=Path(args.scenario).stem,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    if out is not None:
        write_atomic(out / "compare_kpis.csv", result.to_frame("kpis").to_csv(index=False))
        write_atomic(out / "compare_channels.csv", result.to_frame("channels").to_csv(index=False))
        from mixsim.plots import plot_comparison, save_figure

        for kpi in ("conversions", "profit"):
            save_figure(plot_comparison(result, kpi), out / f"compare_{kpi}", FIGURE_FORMATS)
    if args.json:
        print(result.to_json())
    else:
        print(compare_report(result))
        if out is not None:
            print(f"\ncompare_kpis.csv and compare_channels.csv written to {out}/")
    return 0


def _report_command(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    _check_memory(scenario, args)
    target = Path(args.out)
    _check_writable(target, directory=False)
    runs = run_count(scenario, args.replications, incrementality=True) + curve_run_count(scenario, 3)
    if args.optimize:
        runs += curve_run_count(scenario, 3)  # the second solve's; the first uses the curves above
    with _progress(runs) as progress:
        result = simulate(
            scenario,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            incrementality=True,
            progress=progress,
        )
        curves = response_curves(
            scenario, seed=args.seed, replications=3, workers=args.workers, executor=args.executor, progress=progress
        )
        plan = None
        if args.optimize:
            plan = optimize(
                scenario,
                seed=args.seed,
                replications=3,
                max_iterations=2,
                workers=args.workers,
                executor=args.executor,
                progress=progress,
                curves=curves,
            )
    from mixsim.report import build_report

    write_atomic(target, build_report(result, curves, plan))
    print(f"{target}: report written (self-contained HTML; open it in any browser)")
    if plan is not None and not plan.optimal:
        print(f"The budget could not be optimized: {plan.message}", file=sys.stderr)
    return 0


def _export_mmm(args: argparse.Namespace) -> int:
    target = Path(args.out)
    _check_writable(target, directory=False)
    scenario = load_scenario(args.scenario, args.overrides)
    seed = root_seed(scenario, args.seed)
    long = mmm_scenario(scenario, args.weeks, variation=args.variation, dark=args.dark, seed=seed)
    _check_memory(long, args, runs=run_count(long, 1, incrementality=True))
    with _progress(run_count(long, 1, incrementality=True)) as progress:
        result = simulate(
            long,
            seed=seed,
            replications=1,
            workers=args.workers,
            executor=args.executor,
            incrementality=True,
            progress=progress,
        )
    data = result.to_mmm_frame(args.freq, start=args.start, truth=True)
    truth_columns = [c for c in data.columns if c.endswith(("_true_conversions", "_true_revenue"))]
    truth = mmm_truth(result, replication=0)
    stem = target.with_suffix("")
    truth_csv, truth_json = Path(f"{stem}_truth.csv"), Path(f"{stem}_truth.json")
    summary = {
        "scenario": scenario.name,
        "source": scenario.source,
        "overrides": list(args.overrides),
        "seed": seed,
        "weeks": args.weeks,
        "freq": args.freq,
        "start": args.start,
        "variation": args.variation,
        "dark": args.dark,
        "order_value": scenario.economics.order_value,
        "version": __version__,
        "channels": {row.pop("channel"): row for row in json_records(truth)},
    }
    write_atomic(target, data.drop(columns=truth_columns).to_csv(index=False, date_format="%Y-%m-%d"))
    write_atomic(truth_csv, data[["date", *truth_columns]].to_csv(index=False, date_format="%Y-%m-%d"))
    write_atomic(truth_json, json.dumps(summary, indent=2, allow_nan=False) + "\n")
    rows, unit = len(data), "weeks" if args.freq == "W" else "days"
    print(f"{target}: {rows} {unit} of {long.name!r}, {len(long.channels)} channels (seed {seed})")
    print(f"{truth_csv}: each channel's true incremental conversions and revenue per period")
    print(f"{truth_json}: true ROAS and marginal ROAS over the run\n")
    width = max(8, *(len(c) for c in truth["channel"])) + 1
    print(f"{'channel':<{width}}{'spend':>14}{'incr conv':>12}{'iROAS':>8}{'mROAS':>8}")
    for row in json_records(truth):
        print(
            f"{row['channel']:<{width}}{row['spend']:>14,.0f}{row['incremental_conversions']:>12,.0f}"
            f"{num('{:.2f}', row['roas']):>8}{num('{:.2f}', row['marginal_roas']):>8}"
        )
    return 0


def _journeys(args: argparse.Namespace) -> int:
    out = _out_dir(args.out)
    assert out is not None
    scenario = load_scenario(args.scenario, args.overrides)
    _check_memory(scenario, args, args.sample, runs=args.replications)
    with _progress(run_count(scenario, args.replications)) as progress:
        result = simulate(
            scenario,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            journeys=args.sample,
            progress=progress,
        )
    journeys = result.journeys()
    tracked = int(journeys.tracked().sum())
    if tracked == 0:
        raise MixsimError(
            f"--sample {args.sample:g} of {scenario.population:,} customers followed no one: give a larger --sample"
        )
    paths = journeys.paths(days=args.days, collapse=args.collapse)
    touches = journeys.touches()
    write_csv(out / "paths.csv", paths)
    write_csv(out / "touches.csv", touches)
    write_csv(out / "customers.csv", journeys.customers())
    converted = paths["total_conversions"].sum()
    print(
        f"{scenario.name}: followed {tracked:,} customers ({args.sample:.0%} sample) over {result.replications} "
        f"replication(s): {len(touches):,} touches, {len(paths):,} distinct paths, {converted:,.0f} conversions "
        f"after a touch, {int(journeys.untouched_conversions().sum()):,} without one."
    )
    print("A touch is one channel reaching one customer on one day.")
    merged = paths if args.collapse and not args.days else journeys.paths(collapse=True)
    top = merged[merged["total_conversions"] > 0]
    top = top.sort_values("total_conversions", ascending=False, kind="stable").head(10)
    if len(top):
        print("\nPaths with the most conversions (consecutive touches by the same channel merged):")
    else:
        print("\nNo followed customer converted after a touch.")
    for path, conversions, null in zip(top["path"], top["total_conversions"], top["total_null"], strict=True):
        customers = conversions + null
        share = f"{conversions / customers:6.1%} of {customers:,.0f}"
        print(f"{conversions:>8,.0f} conversions ({share})  {short_path(str(path))}")
    print(f"\nWritten to {out}/: paths.csv, touches.csv, customers.csv")
    return 0


def _attribution(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    _check_memory(scenario, args, args.sample, runs=run_count(scenario, args.replications, incrementality=True))
    out = _out_dir(args.out)
    if "shapley" in args.models and len(scenario.channels) > MAX_SHAPLEY_CHANNELS:
        raise MixsimError(
            f"{args.scenario}: shapley takes at most {MAX_SHAPLEY_CHANNELS} channels (this scenario has "
            f"{len(scenario.channels)}): leave it out with --models, e.g. --models {','.join(MODELS[:-1])}"
        )
    with _progress(run_count(scenario, args.replications, incrementality=True), enabled=not args.json) as progress:
        result = simulate(
            scenario,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            incrementality=True,
            journeys=args.sample,
            progress=progress,
        )
    check = against_truth(result, args.models, half_life=args.half_life)
    if out is not None:
        write_atomic(out / "attribution_channels.csv", check.to_frame("channels").to_csv(index=False))
        write_atomic(out / "attribution_models.csv", check.to_frame("models").to_csv(index=False))
        from mixsim.plots import plot_attribution_check, save_figure

        save_figure(plot_attribution_check(check), out / "attribution_check", FIGURE_FORMATS)
    if args.json:
        print(check.to_json())
        return 0
    print(attribution_report(check))
    if out is not None:
        print(f"\nTables and figure written to {out}/")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from mixsim.sweep import describe, read_grid, run_sweep

    out = _out_dir(args.out)
    assert out is not None
    scenario = load_scenario(args.scenario, args.overrides)
    grid = read_grid(args.grid)
    sweep = describe(
        scenario, grid, seed=args.seed, replications=args.replications, optimize=args.optimize, source=args.grid
    )
    biggest = max(sweep.scenarios, key=memory_needed, default=sweep.base)
    _check_memory(biggest, args, runs=len(sweep.cells))
    with _progress(len(sweep.cells), unit="cell") as progress:
        try:
            table = run_sweep(sweep, out, executor=args.executor, progress=progress)
        except KeyboardInterrupt:
            saved = len(read_sweep_safely(out))
            print(
                f"mixsim sweep: {saved} of {len(sweep.cells)} cells are saved in {out}/; run the same command "
                "again to finish the rest",
                file=sys.stderr,
            )
            raise
        except MixsimError:
            raise
        except Exception as exc:  # a worker lost, a scheduler gone: what finished is saved
            saved = len(read_sweep_safely(out))
            raise MixsimError(
                f"mixsim sweep: stopped ({type(exc).__name__}: {exc}); {saved} of {len(sweep.cells)} cells are "
                "saved: run the same command again to finish the rest",
                exit_code=1,
            ) from None
    print(
        f"{out}: {len(table)} cells of {scenario.name!r} ({', '.join(sweep.keys)}), {sweep.replications} "
        f"replications each, seed {sweep.seed}; read it with mixsim.sweep.read_sweep or pandas.read_parquet"
    )
    return 0


def read_sweep_safely(out: Path) -> Any:
    """The saved cells, or an empty list where the folder cannot be read (for a message about it)."""
    from mixsim.sweep import read_sweep

    try:
        return read_sweep(out)
    except Exception:  # reporting must not fail on a damaged folder
        return []


def _check_memory(scenario: Scenario, args: argparse.Namespace, journeys: float = 0.0, runs: int | None = None) -> None:
    """Refuse, before any work, a run this machine cannot hold (runs on a Dask cluster use its workers' memory).

    ``runs``: how many runs the command makes; no more than that many run at once, whatever ``--workers``.
    """
    if scheduler_from(args.scheduler) not in (None, "local"):
        return
    at_once = min(args.workers, runs) if runs is not None else args.workers
    need = memory_needed(scenario, journeys) * at_once
    have = memory_available()
    if have is not None and need > have:
        raise MixsimError(
            f"{args.scenario}: scenario.population {scenario.population:,} needs about {_bytes(need)} of memory "
            f"({at_once} run(s) at once) and this machine has {_bytes(have)} available: lower the "
            "population or --workers, or run on a cluster (--scheduler)"
        )


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def _new(args: argparse.Namespace) -> int:
    if args.out is None:
        print(template_text(args.template), end="")
        return 0
    _check_writable(Path(args.out), directory=False)
    write_template(args.template, args.out, overwrite=args.force)
    print(f"{args.out}: written from template {args.template}; check it with: mixsim validate {args.out}")
    return 0


def _list_templates(args: argparse.Namespace) -> int:
    templates = list_templates()
    width = max(len(name) for name in templates) + 2
    for name, about in templates.items():
        print(f"{name:<{width}}{about}")
    return 0


def _out_dir(text: str | None) -> Path | None:
    if not text:
        return None
    _check_writable(Path(text), directory=True)
    return Path(text)


def _check_writable(path: Path, directory: bool) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    if directory and path.exists() and not path.is_dir():
        raise MixsimError(f"--out {path}: exists and is not a directory")
    if not directory and path.is_dir():
        raise MixsimError(f"--out {path}: is a directory (give a file name)")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise MixsimError(f"--out {path}: {parent} is a file, not a directory")
            if not os.access(parent, os.W_OK):
                raise MixsimError(f"--out {path}: cannot write in {parent}")
            break


# ------------------------------------------------------------------------------------------------- output
class _progress:
    """A progress bar on stderr for runs longer than a moment; silent when stderr is not a terminal."""

    def __init__(self, total: int, enabled: bool = True, unit: str = "run") -> None:
        self.total = total
        self.unit = unit
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, unit=self.unit, delay=1.5, file=sys.stderr, leave=False)

        # Several measurements may report in turn, each counting from 1: carry the finished ones forward.
        state = {"base": 0, "last": 0, "total": 0}

        def update(done: int, total: int) -> None:
            if self.bar.n == 0 and state["base"] == 0 and done > 0 and state["last"] == 0:
                self.bar.initial = done  # work found already done (a resumed sweep) is not this session's rate
            if done < state["last"]:
                state["base"] += state["total"]
            state["last"], state["total"] = done, total
            self.bar.n = min(state["base"] + done, self.total)
            self.bar.refresh()

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _write_tables(result: SimulationResult, out: Path) -> None:
    for table in TABLES:
        write_atomic(out / f"{table}.csv", result.to_frame(table).to_csv(index=False))
    write_atomic(out / "summary.json", result.to_json() + "\n")
    from mixsim.plots import plot_attribution, plot_funnel, plot_journeys, save_figure

    for name, draw in (("funnel", plot_funnel), ("journeys", plot_journeys), ("attribution", plot_attribution)):
        save_figure(draw(result), out / name, FIGURE_FORMATS)


if __name__ == "__main__":
    sys.exit(main())
