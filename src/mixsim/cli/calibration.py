"""The ``calibrate`` command: a scenario fitted to a business's history, written as a scenario every command
accepts, with the fit's statistics and its week-by-week series."""

from __future__ import annotations

import argparse

from mixsim._files import output_set, write_atomic
from mixsim.calibration import read_history
from mixsim.calibration.calibrate import DRAWS, calibrate, calibrate_run_count
from mixsim.calibration.lift import read_lift
from mixsim.calibration.posterior import GENERATIONS
from mixsim.cli import options
from mixsim.cli.flags import named_by_flags
from mixsim.cli.outputs import FIGURE_FORMATS, ProgressBar, check_memory, out_dir
from mixsim.errors import MixsimError
from mixsim.scenario import scenario_to_toml
from mixsim.tables import spreadsheet_safe


def setup_calibrate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    parser.add_argument("--history", metavar="FILE", help="the business's history: CSV, one row per week or per day")
    parser.add_argument(
        "--lift", metavar="FILE", help="lift tests to reproduce in silico: CSV, one row per test (docs/calibration.md)"
    )
    parser.add_argument(
        "--holdout-weeks", type=options.non_negative, default=None, metavar="N",
        help="the last N weeks, kept out of the fit and forecast (default: the scenario's [calibration], else 0)",
    )  # fmt: skip
    parser.add_argument(
        "--simulations", type=options.positive, default=200, metavar="N",
        help="the most engine runs the search makes (default 200)",
    )  # fmt: skip
    parser.add_argument(
        "--posterior", type=options.non_negative, default=100, metavar="N",
        help="parameter sets of the posterior sample, by ABC-SMC (default 100; 0: the point estimate alone)",
    )  # fmt: skip
    parser.add_argument(
        "--generations", type=options.positive, default=GENERATIONS, metavar="N",
        help=f"generations of the posterior's particles: more bring it closer to what the data allow "
        f"(default {GENERATIONS})",
    )  # fmt: skip
    options.add_runs(parser, 2, "runs per parameter set during the search")
    options.add_set(parser)
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="write calibrated.toml, fit.json, fit.csv and posterior.csv"
    )


def _calibrate(args: argparse.Namespace) -> int:
    out = out_dir(args.out)
    assert out is not None
    scenario = options.load(args)
    if args.history is None:
        raise MixsimError("--history: required (the business's weekly spend and KPI, a CSV file)")
    history = read_history(args.history, scenario, holdout_weeks=args.holdout_weeks)
    experiments = read_lift(args.lift, scenario, history) if args.lift is not None else []
    check_replications = 10
    spending = sum(1 for c in scenario.channel_names if c in history.spend or c in history.activity)
    runs = calibrate_run_count(
        args.simulations, check_replications, spending, experiments, args.posterior, DRAWS, args.generations
    )
    check_memory(scenario, args, runs=runs)
    flags = {"simulations": "--simulations", "replications": "--replications", "seed": "--seed"}
    with named_by_flags(flags), ProgressBar(runs) as progress:
        result = calibrate(
            scenario,
            history,
            seed=args.seed,
            replications=args.replications,
            simulations=args.simulations,
            check_replications=check_replications,
            experiments=experiments,
            particles=args.posterior,
            generations=args.generations,
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    # Deferred: matplotlib loads only when figures are drawn.
    from mixsim.plots import save_figure
    from mixsim.plots.calibration import plot_fit, plot_posterior

    with output_set(out) as staged:  # all of this run's files, or none
        fitted = result.scenario.replace({"calibration.fit": "fit.json"})  # mixsim report finds its fit beside it
        write_atomic(staged / "calibrated.toml", scenario_to_toml(fitted))
        write_atomic(staged / "fit.json", result.to_json() + "\n")
        write_atomic(staged / "fit.csv", spreadsheet_safe(result.to_frame()).to_csv(index=False))
        save_figure(plot_fit(result), staged / "fit", FIGURE_FORMATS)
        if result.posterior is not None:
            sample = result.posterior.sample(args.posterior, seed=result.seed)
            write_atomic(staged / "posterior.csv", sample.to_csv(index=False))
            save_figure(plot_posterior(result), staged / "posterior", FIGURE_FORMATS)
    stats = result.statistics()
    print(f"{scenario.name}: fitted to {history.source} ({history.periods} rows, {history.kpi}), seed {result.seed}")
    for part in ("train", "holdout"):
        s = stats[part]
        print(f"  {part:<8} R² {s['r2']:.3f}   NRMSE {s['nrmse']:.3f}   MAPE {s['mape']:.1%}")
    summary = result.posterior.summary() if result.posterior is not None else {}
    if result.posterior is not None:
        post = result.posterior
        print(
            f"  posterior: {post.generations} generations of {len(post.weights)} particles, tolerance "
            f"{post.tolerance:.4g} (floor {post.floor:.4g})"
            + ("" if post.settled else "; not settled: more --generations would bring it closer to what the data allow")
        )
    for key, value in result.point.as_dict().items():
        line = f"  {key} = {value:.6g}"
        if key in summary:
            bounds: list[float] = summary[key]["ci90"]  # type: ignore[assignment]
            line += f"   posterior 90% [{bounds[0]:.6g}, {bounds[1]:.6g}]" + (
                "" if summary[key]["informed"] else "  (not informed)"
            )
        print(line)
    for name, figures in result.channel_values().items():
        what = "roas" if "roas" in figures else "incremental"
        mean, (low, high) = figures[what]["mean"], figures[what]["ci90"]
        print(f"  {name}: {what} over the history {mean:,.2f} [{low:,.2f}, {high:,.2f}]")
    for test in result.experiment_values():
        mean, (low, high) = test["simulated"]["mean"], test["simulated"]["ci90"]
        print(
            f"  lift test {test['test']}: observed {test['observed']:,.2f}, "
            f"simulated {mean:,.2f} [{low:,.2f}, {high:,.2f}]"
        )
    written = "calibrated.toml, fit.json, fit.csv, the figure fit" + (
        " and posterior.csv with its figure" if result.posterior is not None else ""
    )
    print(f"{written} written to {out}/ ({result.point.simulations} search runs)")
    return 0


COMMANDS = {"calibrate": (setup_calibrate, _calibrate)}
