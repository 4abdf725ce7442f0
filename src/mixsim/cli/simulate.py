"""Simulation commands: ``simulate``, ``compare``, ``report`` and ``sweep``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from mixsim._files import output_set, write_atomic
from mixsim.cli import options
from mixsim.cli._running import Interrupted
from mixsim.cli.across import worlds_comparison_report, worlds_report
from mixsim.cli.outputs import FIGURE_FORMATS, ProgressBar, check_memory, out_dir, out_file
from mixsim.cli.text import compare_report, simulation_report
from mixsim.errors import InputError, MixsimError
from mixsim.memory import memory_needed
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, load_scenario
from mixsim.simulation import run_count, simulate
from mixsim.sweep import describe, read_grid, read_sweep, run_sweep
from mixsim.tables import spreadsheet_safe
from mixsim.uncertainty import compare_worlds, read_parameter_sets, simulate_worlds
from mixsim.whatif import compare, compare_run_count, scenario_labels, vary


def setup_simulate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    options.add_runs(parser, 10, "independent runs")
    options.add_set(parser)
    options.add_scale(parser)
    parser.add_argument(
        "--incrementality",
        action="store_true",
        help="also measure each channel's true incremental effect (re-runs with it off and at 95%%)",
    )
    parser.add_argument(
        "--posterior", metavar="FILE",
        help="parameter sets (posterior.csv of mixsim calibrate, or a CSV of dotted keys): simulate in each, and "
        "split every interval between the parameters and chance",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--out", metavar="DIR", help="write CSV tables and summary.json to DIR")


def setup_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="BASE", help="the base scenario (TOML)")
    parser.add_argument(
        "others", metavar="OTHER", nargs="*", help="alternative scenario files (each labelled by its scenario.name)"
    )
    parser.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="variants of BASE with KEY at each value (repeat for a grid), e.g. funnel.synergy=0,0.3",
    )
    options.add_runs(parser, 10, "runs per variant", seed_default="BASE's")
    options.add_set(parser)
    options.add_scale(parser)
    parser.add_argument(
        "--optimize",
        action="store_true",
        help="also optimize each variant's budget (3 replications per curve level, 2 solves) and compare those too",
    )
    parser.add_argument(
        "--posterior", metavar="FILE",
        help="parameter sets (posterior.csv of mixsim calibrate, or a CSV of dotted keys): compare in each, paired",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--out", metavar="DIR", help="write compare_kpis.csv and compare_channels.csv to DIR")


def setup_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    parser.add_argument("--optimize", action="store_true", help="also optimize the budget and show the plan")
    across = parser.add_argument_group("across a posterior's parameter sets (with --posterior)")
    across.add_argument(
        "--posterior", metavar="FILE",
        help="parameter sets (posterior.csv of mixsim calibrate): open with the plan best across them under --risk, "
        "its gain in each, and the next test",
    )  # fmt: skip
    across.add_argument(
        "--risk", type=options.risk, default=None, metavar="RISK",
        help="mean (default), cvar:A or quantile:Q: how the plan weighs the parameter sets (as optimize's)",
    )  # fmt: skip
    across.add_argument(
        "--worlds", type=options.positive, default=20, metavar="K",
        help="the first K parameter sets (default 20)",
    )  # fmt: skip
    options.add_runs(parser, 10, "replications")
    options.add_set(parser)
    options.add_scale(parser)
    parser.add_argument(
        "--out", metavar="FILE", default="report.html", help="the HTML file, .html or .htm (default report.html)"
    )


def setup_sweep(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    parser.add_argument(
        "--grid", required=True, metavar="FILE", help="the grid (TOML): [grid] or [sample], and [sweep]"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="the Parquet dataset (a folder); run again to resume"
    )
    parser.add_argument(
        "--seed", type=options.non_negative, default=None, help="root seed (default: the scenario's, else 0)"
    )
    parser.add_argument(
        "--replications",
        "-r",
        type=options.replication_count,
        default=None,
        help="replications per cell (default: the grid's, else 5)",
    )
    parser.add_argument(
        "--optimize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also optimize each cell's budget (default: the grid's [sweep] optimize, else no)",
    )
    options.add_workers(parser)
    options.add_set(parser)


def _simulate(args: argparse.Namespace) -> int:
    scenario = options.load(args)
    if args.posterior is not None:
        return _simulate_worlds(args, scenario)
    runs = run_count(scenario, args.replications, args.incrementality)
    check_memory(scenario, args, runs=runs)
    out = out_dir(args.out)
    with ProgressBar(runs, enabled=not args.json) as progress:
        result = simulate(
            scenario,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            incrementality=args.incrementality,
            progress=progress,
        )
    if out is not None:
        _write_tables(result, out)
    if args.json:
        print(result.to_json())
    else:
        print(simulation_report(result))
        if out is not None:
            print(f"\nTables written to {args.out}/")
    return 0


def _simulate_worlds(args: argparse.Namespace, scenario: Scenario) -> int:
    """``simulate --posterior FILE``: the scenario in every parameter set, on shared seeds."""
    sets = read_parameter_sets(args.posterior, scenario)
    runs = len(sets) * run_count(scenario, args.replications, incrementality=args.incrementality)
    check_memory(scenario, args, runs=runs)
    out = out_dir(args.out)
    with ProgressBar(runs, enabled=not args.json) as progress:
        result = simulate_worlds(
            scenario, sets, seed=args.seed, replications=args.replications, incrementality=args.incrementality,
            workers=args.workers, executor=args.executor, progress=progress,
        )  # fmt: skip
    if out is not None:
        with output_set(out) as staged:
            for table in ("kpis", "channels"):
                frame = spreadsheet_safe(result.to_frame(table))
                write_atomic(staged / f"{table}.csv", frame.to_csv(index=False))
            write_atomic(staged / "summary.json", result.to_json() + "\n")
    if args.json:
        print(result.to_json())
    else:
        print(worlds_report(result))
        if out is not None:
            print(f"\nkpis.csv, channels.csv and summary.json written to {args.out}/")
    return 0


def _compare_worlds(
    args: argparse.Namespace,
    base_label: str,
    base: Scenario,
    variants: list[tuple[str, Scenario]],
    sources: list[str],
) -> int:
    """``compare --posterior FILE``: the base and each variant in every parameter set, paired."""
    if args.optimize:
        raise InputError(
            "--optimize: not with --posterior; the plan across the parameter sets, checked against today's in every "
            "one, is mixsim optimize SCENARIO --posterior FILE --verify"
        )
    sets = read_parameter_sets(args.posterior, base)
    for source, (_, variant) in zip(sources, variants, strict=True):
        try:
            sets.scenarios(variant)
        except InputError as exc:
            raise InputError([f"{source}: {p}" for p in exc.problems]) from None
    runs = (1 + len(variants)) * len(sets) * args.replications
    for source, scenario in zip([args.scenario, *sources], [base, *(v for _, v in variants)], strict=True):
        check_memory(scenario, args, runs=runs, source=source)
    out = out_dir(args.out)
    with ProgressBar(runs, enabled=not args.json) as progress:
        result = compare_worlds(
            base, variants, sets, base_label=base_label, seed=args.seed, replications=args.replications,
            workers=args.workers, executor=args.executor, progress=progress,
        )  # fmt: skip
    if out is not None:
        with output_set(out) as staged:
            write_atomic(staged / "compare_kpis.csv", spreadsheet_safe(result.to_frame()).to_csv(index=False))
            write_atomic(staged / "summary.json", result.to_json() + "\n")
    if args.json:
        print(result.to_json())
    else:
        print(worlds_comparison_report(result))
        if out is not None:
            print(f"\ncompare_kpis.csv and summary.json written to {args.out}/")
    return 0


def _write_tables(result: SimulationResult, out: Path) -> None:
    """The tables, summary.json and the figures, into ``out`` as one set (all of this run's or none)."""
    # Deferred: matplotlib loads only when figures are drawn.
    from mixsim.plots import plot_attribution, plot_funnel, plot_journeys, save_figure

    with output_set(out) as staged:
        for table in result.tables:
            write_atomic(staged / f"{table}.csv", spreadsheet_safe(result.to_frame(table)).to_csv(index=False))
        write_atomic(staged / "summary.json", result.to_json() + "\n")
        for name, draw in (("funnel", plot_funnel), ("journeys", plot_journeys), ("attribution", plot_attribution)):
            save_figure(draw(result), staged / name, FIGURE_FORMATS)


def _compare(args: argparse.Namespace) -> int:
    out = out_dir(args.out)
    files = [options.load(args, path) for path in (args.scenario, *args.others)]
    base_label, *labels = scenario_labels(files)
    base = files[0]
    variants = list(zip(labels, files[1:], strict=True))
    sources = [*args.others]  # what names each variant in a refusal: its file, or the base and the values varied
    grid: dict[str, list[str]] = {}
    for item in args.vary:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise InputError(f"--vary {item}: expected KEY=V1,V2,... e.g. funnel.synergy=0,0.3")
        grid[key.strip()] = [v.strip() for v in values.split(",")]
    if grid:
        varied = vary(base, grid)
        variants += varied
        sources += [f"{args.scenario} (--vary {label})" for label, _ in varied]
    if not variants and not args.optimize:
        raise InputError("mixsim compare: nothing to compare: give OTHER scenario files, --vary or --optimize")
    if args.posterior is not None:
        return _compare_worlds(args, base_label, base, variants, sources)
    runs = compare_run_count(base, variants, args.replications, optimize=args.optimize)
    # Every world is simulated and every run's record kept until the comparison is made: each is checked with
    # all of them, and a refusal names the one that does not fit.
    for source, (_, scenario) in zip([args.scenario, *sources], [(base_label, base), *variants], strict=True):
        check_memory(scenario, args, runs=runs, source=source)
    with ProgressBar(runs, enabled=not args.json) as progress:
        result = compare(
            base,
            variants,
            base_label=base_label,
            optimize=args.optimize,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    if out is not None:
        # Deferred: matplotlib loads only when figures are drawn.
        from mixsim.plots import plot_comparison, save_figure

        with output_set(out) as staged:
            write_atomic(staged / "compare_kpis.csv", spreadsheet_safe(result.to_frame("kpis")).to_csv(index=False))
            write_atomic(
                staged / "compare_channels.csv", spreadsheet_safe(result.to_frame("channels")).to_csv(index=False)
            )
            for kpi in ("conversions", "profit"):
                save_figure(plot_comparison(result, kpi), staged / f"compare_{kpi}", FIGURE_FORMATS)
    if args.json:
        print(result.to_json())
    else:
        print(compare_report(result))
        if out is not None:
            print(f"\ncompare_kpis.csv and compare_channels.csv written to {out}/")
    return 0


def _report_command(args: argparse.Namespace) -> int:
    target = out_file(args.out, (".html", ".htm"), "the report")
    scenario = options.load(args)
    # Deferred: the report draws figures, so it loads matplotlib.
    from mixsim.report import report_run_count, run_report

    fit = _calibration_fit(args.scenario, scenario)
    if args.risk is not None and args.posterior is None:
        raise InputError("--risk: only with --posterior (a risk is weighed across parameter sets)")
    sets = read_parameter_sets(args.posterior, scenario) if args.posterior is not None else None
    worlds = min(args.worlds, len(sets)) if sets is not None else 0
    runs = report_run_count(scenario, args.replications, optimize=args.optimize, worlds=worlds)
    check_memory(scenario, args, runs=runs)
    with ProgressBar(runs) as progress:
        report = run_report(
            scenario,
            seed=args.seed,
            replications=args.replications,
            optimize=args.optimize,
            calibration=fit,
            posterior=sets,
            risk=args.risk,
            worlds=max(worlds, 1),
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    write_atomic(target, report.to_html())
    print(f"{target}: report written (self-contained HTML; open it in any browser)")
    if report.plan is not None and not report.plan.optimal:
        print(f"The budget could not be optimized: {report.plan.message}", file=sys.stderr)
    return 0


def _calibration_fit(path: str, scenario: Scenario) -> dict[str, Any] | None:
    """The fit of a calibrated scenario (``calibration.fit``, a file beside the scenario's), or None."""
    if scenario.calibration is None or scenario.calibration.fit is None:
        return None
    fit = Path(path).parent / scenario.calibration.fit
    where = f"{path}: calibration.fit"
    try:
        data = json.loads(fit.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError([f"{where}: no such file: {fit}"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError([f"{where}: {fit} is not a fit.json mixsim calibrate wrote ({error})"]) from None
    if not isinstance(data, dict) or not {"kpi", "train", "holdout", "parameters"} <= set(data):
        raise InputError([f"{where}: {fit} is not a fit.json mixsim calibrate wrote (needs kpi, train, holdout, "
                          "parameters)"])  # fmt: skip
    return data


def _sweep(args: argparse.Namespace) -> int:
    out = out_dir(args.out)
    assert out is not None
    scenario = load_scenario(args.scenario, args.overrides)
    grid = read_grid(args.grid)
    sweep = describe(
        scenario, grid, seed=args.seed, replications=args.replications, optimize=args.optimize, source=args.grid
    )
    # Cells run at once, each keeping its replications' records until it is saved: the largest cell decides.
    if sweep.scenarios:
        index = max(range(len(sweep.scenarios)), key=lambda i: memory_needed(sweep.scenarios[i]))
        values = ", ".join(f"{key}={value}" for key, value in sweep.cells[index].items())
        cells = min(args.workers, len(sweep.cells))
        check_memory(
            sweep.scenarios[index],
            args,
            runs=len(sweep.cells),
            source=f"{args.grid}: cell {index} ({values})",
            held=cells * sweep.replications,
        )
    with ProgressBar(len(sweep.cells), unit="cell") as progress:
        try:
            table = run_sweep(sweep, out, executor=args.executor, progress=progress)
        except KeyboardInterrupt as exc:  # one line says what is saved (cli/main.py prints it)
            saved = len(read_sweep_safely(out))
            detail = f"{saved} of {len(sweep.cells)} cells are saved in {out}/: run the same command again to finish"
            raise Interrupted(getattr(exc, "signum", signal.SIGINT), f"{detail} the rest") from None
        except MixsimError:
            raise
        except Exception as exc:  # a worker lost, a scheduler gone, a full disk: what finished is saved
            saved = len(read_sweep_safely(out))
            if isinstance(exc, OSError) and exc.filename:  # a cell that could not be written: named
                raise MixsimError(
                    f"mixsim sweep: cannot write {exc.filename}: {exc.strerror or exc}; {saved} of "
                    f"{len(sweep.cells)} cells are saved: run the same command again to finish the rest"
                ) from None
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
    try:
        return read_sweep(out)
    except Exception:  # reporting must not fail on a damaged folder
        return []


COMMANDS = {
    "simulate": (setup_simulate, _simulate),
    "compare": (setup_compare, _compare),
    "report": (setup_report, _report_command),
    "sweep": (setup_sweep, _sweep),
}
"""Each command's options and handler, for the parser table in :mod:`mixsim.cli.main`."""
