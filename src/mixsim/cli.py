"""The ``mixsim`` command: a thin layer over the public API (it parses, calls, prints and writes; never computes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mixsim._files import write_atomic
from mixsim._version import __version__
from mixsim.errors import MixsimError
from mixsim.results import TABLES, SimulationResult
from mixsim.scenario import json_schema, load_scenario
from mixsim.simulation import run_count, simulate


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 unexpected failure, 2 invalid input)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
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
    sim.add_argument("--seed", type=_non_negative, default=None, help="root seed (default: the scenario's, else 0)")
    sim.add_argument("--replications", "-r", type=_positive, default=10, help="independent runs (default 10)")
    sim.add_argument(
        "--workers", "-w", type=_positive, default=os.cpu_count() or 1, help="worker processes (default: all cores)"
    )
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
    return parser


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


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None


# ------------------------------------------------------------------------------------------------- commands
def _simulate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise MixsimError(f"--out {args.out}: exists and is not a directory")
    runs = run_count(scenario, args.replications, args.incrementality)
    with _progress(runs, enabled=not args.json) as progress:
        result = simulate(
            scenario,
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            incrementality=args.incrementality,
            progress=progress,
        )
    if args.out:
        _write_tables(result, Path(args.out))
    if args.json:
        print(result.to_json())
    else:
        print(_report(result))
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


# ------------------------------------------------------------------------------------------------- output
class _progress:
    """A progress bar on stderr for runs longer than a moment; silent when stderr is not a terminal."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.total = total
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, unit="run", delay=1.5, file=sys.stderr, leave=False)

        def update(done: int, total: int) -> None:
            self.bar.n = done
            self.bar.refresh()

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _write_tables(result: SimulationResult, out: Path) -> None:
    for table in TABLES:
        write_atomic(out / f"{table}.csv", result.to_frame(table).to_csv(index=False))
    write_atomic(out / "summary.json", result.to_json() + "\n")


def _report(result: SimulationResult) -> str:
    sc = result.scenario
    lines = [
        f"{sc.name}: {sc.population:,} customers, {sc.horizon_days} days, "
        f"{result.replications} replications, seed {result.seed}",
        "Figures are means over replications; [low, high] holds 90% of simulated outcomes.",
        "",
    ]
    kpis = result.to_frame("kpis").set_index("kpi")
    formats = {"conversions": "{:,.0f}", "roi": "{:.1%}", "roas": "{:.2f}"}
    lines.append(f"{'KPI':<13}{'mean':>16}  90% interval")
    for kpi, row in kpis.iterrows():
        fmt = formats.get(str(kpi), "{:,.2f}")
        lines.append(
            f"{kpi!s:<13}{_fmt(fmt, row['mean']):>16}  [{_fmt(fmt, row['ci90_low'])}, {_fmt(fmt, row['ci90_high'])}]"
        )
    stages = result.to_frame("final_stages").set_index("stage")["mean"]
    lines += ["", "Funnel at the end: " + ", ".join(f"{s} {v:,.0f}" for s, v in stages.items())]

    channels = result.to_frame("channels").pivot(index="channel", columns="metric", values="mean")
    channels = channels.loc[list(result.channels)]
    columns = [
        ("spend", "spend", "{:,.0f}"),
        ("unspent", "unspent", "{:,.0f}"),
        ("exposures", "exposures", "{:,.0f}"),
        ("reach", "reach", "{:,.0f}"),
        ("frequency", "freq", "{:.1f}"),
        ("first_touch", "first", "{:,.0f}"),
        ("last_touch", "last", "{:,.0f}"),
        ("linear", "linear", "{:,.0f}"),
    ]
    if result.incrementality is not None:
        columns += [
            ("incremental_conversions", "incr conv", "{:,.0f}"),
            ("incremental_roas", "iROAS", "{:.2f}"),
            ("incremental_marginal_roas", "mROAS", "{:.2f}"),
        ]
    width = max(8, *(len(c) for c in result.channels)) + 1
    lines += ["", "Attributed conversions: first touch, last touch, linear."]
    if result.incrementality is not None:
        lines.append("iROAS: true incremental revenue / spend; mROAS: the same for the last 5% of spend.")
    lines.append(f"{'channel':<{width}}" + "".join(f"{title:>12}" for _, title, _ in columns))
    for name, row in channels.iterrows():
        lines.append(f"{name!s:<{width}}" + "".join(f"{_fmt(fmt, row[m]):>12}" for m, _, fmt in columns))
    return "\n".join(lines)


def _fmt(fmt: str, value: float) -> str:
    return "n/a" if value != value else fmt.format(value)  # NaN: undefined (e.g. ROAS of zero spend)


if __name__ == "__main__":
    sys.exit(main())
