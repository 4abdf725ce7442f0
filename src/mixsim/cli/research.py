"""Research commands: ``export-mmm``, ``journeys`` and ``attribution``."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from mixsim._files import write_atomic, write_csv
from mixsim.cli import options
from mixsim.cli.flags import named_by_flags
from mixsim.cli.outputs import FIGURE_FORMATS, ProgressBar, check_memory, check_writable, out_dir
from mixsim.cli.text import attribution_report, num, short_path
from mixsim.errors import MixsimError
from mixsim.research import DEFAULT_START, MODELS, Journeys
from mixsim.research.study import attribution_study, attribution_study_runs, mmm_study, mmm_study_runs
from mixsim.scenario import load_scenario
from mixsim.simulation import run_count, simulate
from mixsim.tables import json_records


def setup_export_mmm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    parser.add_argument("--out", required=True, metavar="FILE", help="the dataset (CSV); the truth goes beside it")
    parser.add_argument("--weeks", type=options.integer, default=104, help="length of the run in weeks (default 104)")
    parser.add_argument("--freq", choices=("W", "D"), default="W", help="weekly (W, default) or daily (D) rows")
    parser.add_argument(
        "--variation",
        type=options.money,
        default=0.5,
        metavar="SIGMA",
        help="log-scale spread of each channel's weekly spend around its plan (default 0.5)",
    )
    parser.add_argument(
        "--dark", type=options.share, default=0.0, metavar="SHARE", help="chance a channel is off in a week (default 0)"
    )
    parser.add_argument("--start", type=_date, default=DEFAULT_START, help=f"date of day 0 (default {DEFAULT_START})")
    parser.add_argument(
        "--seed", type=options.non_negative, default=None, help="root seed (default: the scenario's, else 0)"
    )
    options.add_workers(parser)
    options.add_set(parser)


def setup_journeys(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    parser.add_argument("--out", required=True, metavar="DIR", help="write paths.csv, touches.csv and customers.csv")
    parser.add_argument(
        "--sample",
        type=_sample,
        default=0.1,
        metavar="SHARE",
        help="share of customers to follow (default 0.1; 1 follows everyone)",
    )
    parser.add_argument("--days", action="store_true", help="add path_days (days from each touch to the path's end)")
    parser.add_argument(
        "--collapse", action="store_true", help="merge consecutive touches by the same channel in paths.csv"
    )
    options.add_runs(parser, 1, "replications, pooled in paths.csv")
    options.add_set(parser)


def setup_attribution(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    parser.add_argument(
        "--models",
        type=_model_names,
        default=MODELS,
        metavar="M1,M2,...",
        help=f"models to compare (default all: {','.join(MODELS)})",
    )
    parser.add_argument(
        "--sample",
        type=_sample,
        default=1.0,
        metavar="SHARE",
        help="share of customers whose journeys are attributed, scaled up to the population (default 1)",
    )
    parser.add_argument(
        "--half-life", type=_number, default=7.0, metavar="DAYS", help="time-decay half-life (default 7)"
    )
    options.add_runs(parser, 5, "replications")
    options.add_set(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument(
        "--out", metavar="DIR", help="write attribution_channels.csv, attribution_models.csv and a figure"
    )


def _sample(text: str) -> float:
    value = options.share(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share above 0 and at most 1 (got {text})")
    return value


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date as YYYY-MM-DD (got {text!r})") from None


def _model_names(text: str) -> tuple[str, ...]:
    names = options.names(text)
    if not names:
        raise argparse.ArgumentTypeError(f"name at least one model (got {text!r}); choose from {', '.join(MODELS)}")
    return names


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number (got {text!r})") from None


def _export_mmm(args: argparse.Namespace) -> int:
    target = Path(args.out)
    check_writable(target, directory=False)
    scenario = load_scenario(args.scenario, args.overrides)
    runs = mmm_study_runs(scenario)
    check_memory(scenario, args, runs=runs)
    flags = {"weeks": "--weeks", "variation": "--variation", "dark": "--dark", "seed": "--seed"}
    with named_by_flags(flags), ProgressBar(runs) as progress:
        dataset = mmm_study(
            scenario,
            args.weeks,
            variation=args.variation,
            dark=args.dark,
            seed=args.seed,
            freq=args.freq,
            start=args.start,
            overrides=args.overrides,
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    stem = target.with_suffix("")
    truth_csv, truth_json = Path(f"{stem}_truth.csv"), Path(f"{stem}_truth.json")
    write_atomic(target, dataset.data.to_csv(index=False, date_format="%Y-%m-%d"))
    write_atomic(truth_csv, dataset.truth.to_csv(index=False, date_format="%Y-%m-%d"))
    write_atomic(truth_json, dataset.to_json() + "\n")
    rows, unit = len(dataset.data), "weeks" if args.freq == "W" else "days"
    simulated = dataset.summary["simulated"]
    print(f"{target}: {rows} {unit} of {simulated!r}, {len(scenario.channels)} channels (seed {dataset.seed})")
    print(f"{truth_csv}: each channel's true incremental conversions and revenue per period")
    print(f"{truth_json}: true ROAS and marginal ROAS over the run\n")
    truth = dataset.channels
    width = max(8, *(len(c) for c in truth["channel"])) + 1
    print(f"{'channel':<{width}}{'spend':>14}{'incr conv':>12}{'iROAS':>8}{'mROAS':>8}")
    for row in json_records(truth):
        print(
            f"{row['channel']:<{width}}{row['spend']:>14,.0f}{row['incremental_conversions']:>12,.0f}"
            f"{num('{:.2f}', row['roas']):>8}{num('{:.2f}', row['marginal_roas']):>8}"
        )
    return 0


def _journeys(args: argparse.Namespace) -> int:
    out = out_dir(args.out)
    assert out is not None
    scenario = load_scenario(args.scenario, args.overrides)
    check_memory(scenario, args, args.sample, runs=args.replications)
    with ProgressBar(run_count(scenario, args.replications)) as progress:
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
    print("A touch (touchpoint) is one channel reaching one customer on one day, however many exposures it brought.")
    _touchpoint_lines(journeys)
    top = journeys.top_paths(10)
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


def _touchpoint_lines(journeys: Journeys) -> None:
    """The followed buyers by touchpoints (channel-days) before buying, and their exposures beside them."""
    share = journeys.multi_touch_share()
    if share != share:  # NaN: no followed customer converted
        return
    table = journeys.touchpoints()
    bins = ", ".join(f"{label} {s:.0%}" for label, s in zip(table["touchpoints"], table["share"], strict=True))
    buyers = journeys.customers().query("converted")
    print(f"\nBuyers by touchpoints before buying: {bins}.")
    print(f"{share:.1%} of {len(buyers):,} buyers had two or more touchpoints.")
    print(
        f"Per buyer, a mean of {buyers['touches'].mean():,.1f} touchpoints and {buyers['exposures'].mean():,.1f} "
        "exposures (impressions)."
    )


def _attribution(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    runs = attribution_study_runs(scenario, args.replications)
    check_memory(scenario, args, args.sample, runs=runs)
    out = out_dir(args.out)
    with (
        named_by_flags({"half_life": "--half-life"}, other="--models"),
        ProgressBar(runs, enabled=not args.json) as progress,
    ):
        check = attribution_study(
            scenario,
            args.models,
            sample=args.sample,
            half_life=args.half_life,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    if out is not None:
        write_atomic(out / "attribution_channels.csv", check.to_frame("channels").to_csv(index=False))
        write_atomic(out / "attribution_models.csv", check.to_frame("models").to_csv(index=False))
        from mixsim.plots import plot_attribution_check, save_figure  # matplotlib loads only when a figure is due

        save_figure(plot_attribution_check(check), out / "attribution_check", FIGURE_FORMATS)
    if args.json:
        print(check.to_json())
        return 0
    print(attribution_report(check))
    if out is not None:
        print(f"\nTables and figure written to {out}/")
    return 0


COMMANDS = {
    "export-mmm": (setup_export_mmm, _export_mmm),
    "journeys": (setup_journeys, _journeys),
    "attribution": (setup_attribution, _attribution),
}
"""Each command's options and handler, for the parser table in :mod:`mixsim.cli.main`."""
