"""Research commands: ``export-mmm``, ``journeys`` and ``attribution``."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from mixsim._files import output_set, write_atomic, write_csv
from mixsim._names import printable
from mixsim.cli import options
from mixsim.cli.flags import named_by_flags
from mixsim.cli.outputs import FIGURE_FORMATS, ProgressBar, check_memory, out_dir, out_file
from mixsim.cli.text import attribution_report, num, short_path
from mixsim.errors import MixsimError
from mixsim.research import DEFAULT_START, MODELS, Journeys, MMMDataset
from mixsim.research.study import attribution_study, attribution_study_runs, mmm_study, mmm_study_runs
from mixsim.scenario import load_scenario
from mixsim.simulation import run_count, simulate
from mixsim.tables import json_records, spreadsheet_safe


def setup_export_mmm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (TOML)")
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="the dataset, a .csv file; the truth goes beside it"
    )
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
    options.add_runs(parser, 1, "replications: the first is the dataset, all give its ROAS figures' intervals")
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
    target = out_file(args.out, (".csv",), "the dataset", bare=True)  # a bare name is a CSV file all the same
    scenario = load_scenario(args.scenario, args.overrides)
    runs = mmm_study_runs(scenario, args.replications)
    check_memory(scenario, args, runs=runs)
    flags = {
        "weeks": "--weeks",
        "variation": "--variation",
        "dark": "--dark",
        "seed": "--seed",
        "replications": "--replications",
    }
    with named_by_flags(flags), ProgressBar(runs) as progress:
        dataset = mmm_study(
            scenario,
            args.weeks,
            variation=args.variation,
            dark=args.dark,
            seed=args.seed,
            replications=args.replications,
            freq=args.freq,
            start=args.start,
            overrides=args.overrides,
            workers=args.workers,
            executor=args.executor,
            progress=progress,
        )
    stem = target.with_suffix("")
    truth_csv, truth_json = Path(f"{stem}_truth.csv"), Path(f"{stem}_truth.json")
    with output_set(target.parent) as staged:  # the dataset and its truth: all three of this run's, or none
        write_atomic(staged / target.name, spreadsheet_safe(dataset.data).to_csv(index=False, date_format="%Y-%m-%d"))
        write_atomic(
            staged / truth_csv.name, spreadsheet_safe(dataset.truth).to_csv(index=False, date_format="%Y-%m-%d")
        )
        write_atomic(staged / truth_json.name, dataset.to_json() + "\n")
    rows, unit = len(dataset.data), "weeks" if args.freq == "W" else "days"
    simulated = dataset.summary["simulated"]
    print(f"{target}: {rows} {unit} of {simulated!r}, {len(scenario.channels)} channels (seed {dataset.seed})")
    print(f"{truth_csv}: each channel's true incremental conversions and revenue per period")
    print(f"{truth_json}: true ROAS and marginal ROAS over the run, with their intervals\n")
    print(_mmm_truth_report(dataset))
    return 0


def _mmm_truth_report(dataset: MMMDataset) -> str:
    """The truth per channel: the dataset's spend and incremental conversions, and each ROAS as its mean over the
    replications with their 90% interval, '~0' where that interval holds zero; with one replication, a plain
    sentence that there is no interval."""
    truth = json_records(dataset.channels)
    replications = dataset.replications
    lines = ["iROAS: true incremental revenue / spend; mROAS: the same for the last 5% of spend."]
    if replications > 1:
        lines += [
            f"Spend and incr conv are the dataset's; iROAS and mROAS are means over {replications} replications of the "
            "same market",
            "(the first is the dataset) with the interval holding 90% of them; '~0' marks a figure they cannot tell "
            "from zero.",
        ]
    else:
        lines += [
            "One replication: these figures have no interval, and one run cannot tell a small return from noise",
            "(a marginal ROAS least of all): add --replications 5 (or more) for their 90% intervals.",
        ]
    cells = [
        (_with_interval(row, "roas", replications), _with_interval(row, "marginal_roas", replications)) for row in truth
    ]
    width = max(8, *(len(row["channel"]) for row in truth)) + 1
    first = max(len("iROAS"), *(len(roas) for roas, _ in cells)) + 3
    lines.append(f"{'channel':<{width}}{'spend':>14}{'incr conv':>12}   {'iROAS':<{first}}mROAS")
    for row, (roas, marginal) in zip(truth, cells, strict=True):
        lines.append(
            f"{row['channel']:<{width}}{row['spend']:>14,.0f}{row['incremental_conversions']:>12,.0f}   "
            f"{roas:<{first}}{marginal}"
        )
    return "\n".join(lines)


def _with_interval(row: dict[str, Any], figure: str, replications: int) -> str:
    """``2.31 [1.90, 2.72]`` (the mean over replications and their 90% interval), with ``~0`` where the interval
    holds zero; without an interval, the figure alone under one replication (the report says so once), and marked
    as one run's where only one of several replications defines it."""
    value = num("{:.2f}", row[f"{figure}_mean"])
    low, high = row[f"{figure}_low"], row[f"{figure}_high"]
    if low is None or high is None:
        return f"{value} (one run)" if replications > 1 and row[f"{figure}_mean"] is not None else value
    spread = f"{value} [{num('{:.2f}', low)}, {num('{:.2f}', high)}]"
    return spread if row[f"{figure}_distinguishable"] else f"{spread} ~0"


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
    with output_set(out) as staged:  # all three of this run's tables, or none
        write_csv(staged / "paths.csv", paths)
        write_csv(staged / "touches.csv", touches)
        write_csv(staged / "customers.csv", journeys.customers())
    converted = paths["total_conversions"].sum()
    after = int(touches["after_won"].sum()) if "after_won" in touches else 0
    later = f" ({after:,} after the customer was won: in touches.csv, in no path)" if after else ""
    print(
        f"{printable(scenario.name)}: followed {tracked:,} customers ({args.sample:.0%} sample) over "
        f"{result.replications} replication(s): {len(touches):,} touches{later}, {len(paths):,} distinct paths, "
        f"{converted:,.0f} conversions after a touch, {int(journeys.untouched_conversions().sum()):,} without one."
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
        from mixsim.plots import plot_attribution_check, save_figure  # matplotlib loads only when a figure is due

        with output_set(out) as staged:  # all of this run's files or none
            write_atomic(
                staged / "attribution_channels.csv", spreadsheet_safe(check.to_frame("channels")).to_csv(index=False)
            )
            write_atomic(
                staged / "attribution_models.csv", spreadsheet_safe(check.to_frame("models")).to_csv(index=False)
            )
            save_figure(plot_attribution_check(check), staged / "attribution_check", FIGURE_FORMATS)
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
