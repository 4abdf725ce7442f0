"""The command line's shared options (runs, workers, ``--set``, ``--scale``) and argument types; each type refuses
a bad value with one line naming the rule. :func:`load` reads a command's scenario with its ``--set`` and
``--scale``.

A share (``--max-change``, ``--margin``, ``--pacing``'s share, ``--dark``, ``--sample``) is written ``30%`` or
``0.3``; a bare number above 1 is refused, because ``130`` is as likely meant as 130% as it is 13,000%.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import TYPE_CHECKING

from mixsim.cli.flags import named_by_flags
from mixsim.errors import MixsimError
from mixsim.executors import INSTALL_DASK, SCHEDULER_ENV
from mixsim.memory import MAX_REPLICATIONS
from mixsim.scenario import Scenario, describe_population, load_scenario
from mixsim.scenario.limits import MAX_NUMBER

if TYPE_CHECKING:
    from mixsim.uncertainty.risk import Risk


def add_runs(
    parser: argparse.ArgumentParser, replications: int, what: str, seed_default: str = "the scenario's"
) -> None:
    """--seed, --replications and --workers, as every simulating command takes them."""
    parser.add_argument("--seed", type=non_negative, default=None, help=f"root seed (default: {seed_default}, else 0)")
    parser.add_argument(
        "--replications", "-r", type=replication_count, default=replications, help=f"{what} (default {replications})"
    )
    parser.set_defaults(default_replications=replications)
    add_workers(parser)


def add_workers(parser: argparse.ArgumentParser) -> None:
    """--workers and --scheduler: where the runs go (a local pool, or a Dask cluster)."""
    parser.add_argument(
        "--workers",
        "-w",
        type=positive,
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


def add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        type=override,
        metavar="KEY=VALUE",
        help="override a scenario key with a TOML value, e.g. channels.tv.spend=50000 (repeatable)",
    )


def override(text: str) -> str:
    """One ``--set KEY=VALUE``, refused at once without its ``=`` (``--set KEY VALUE`` reads VALUE as another
    argument, and argparse would only say it does not know it)."""
    if "=" not in text:
        key = text.strip() or "KEY"
        raise argparse.ArgumentTypeError(
            f"must be KEY=VALUE in one word, with '=' and no spaces: --set {key}=VALUE (got {text!r})"
        )
    return text


def add_scale(parser: argparse.ArgumentParser) -> None:
    """--scale: a quick preview of the same market on a share of its customers."""
    parser.add_argument(
        "--scale",
        type=scale,
        default=None,
        metavar="F",
        help="quick preview: simulate this share of the customers (e.g. 0.1) with the same share of every "
        "channel's money; figures are scaled back to the whole market",
    )


def load(args: argparse.Namespace, path: str | None = None) -> Scenario:
    """The scenario file ``path`` (default: the command's SCENARIO) with ``--set`` applied, then shrunk by
    ``--scale``; a scaled scenario is announced on stdout (stderr with ``--json``) before anything runs."""
    source = args.scenario if path is None else path
    scenario = load_scenario(source, args.overrides)
    if getattr(args, "scale", None) is None:
        return scenario
    with named_by_flags({"factor": "--scale"}):
        scenario = scenario.scaled(args.scale)
    if scenario.represents != scenario.population:
        print(
            f"{source}: a preview (--scale {args.scale:g}): {describe_population(scenario)}; counts and money are "
            "the whole market's",
            file=sys.stderr if getattr(args, "json", False) else sys.stdout,
        )
    return scenario


def scale(text: str) -> float:
    """A share of the customers in (0, 1], as 0.1 or 10%%."""
    try:
        value = share(text)
    except argparse.ArgumentTypeError:
        value = math.nan
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share of the customers in (0, 1], e.g. 0.1 (got {text})")
    return value


def risk(text: str) -> Risk:
    """``--risk``: ``mean``, ``cvar:A`` or ``quantile:Q`` (:meth:`mixsim.uncertainty.Risk.parse`)."""
    # Deferred: the risk's module loads the optimizer, which the commands without --risk do not need.
    from mixsim.uncertainty.risk import Risk

    try:
        return Risk.parse(text)
    except MixsimError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive(text: str) -> int:
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1 (got {value})")
    return value


def replication_count(text: str) -> int:
    """A count of replications from 1 to :data:`~mixsim.memory.MAX_REPLICATIONS` (a billion would fill the
    memory with their records before the first result)."""
    value = positive(text)
    if value > MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_REPLICATIONS:,} (got {value:,}): more add nothing an interval can show, and "
            "every run's record is kept until the result is made"
        )
    return value


def non_negative(text: str) -> int:
    value = integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {value})")
    return value


def positive_float(text: str) -> float:
    value = money(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 (got {text})")
    return value


def money(text: str) -> float:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number (got {text!r})") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0 (got {text})")
    if value > MAX_NUMBER:  # the scenario's own limit on any amount (see docs/scenario.md, Limits)
        raise argparse.ArgumentTypeError(f"must be at most 1e15 (got {text})")
    return value


def share(text: str) -> float:
    """A share given as 30% or 0.3; a bare number above 1 is refused (is 130 meant as 130% or 13,000%?)."""
    percent = text.strip().endswith("%")
    value = money(text.strip().rstrip("%"))
    if not percent and value > 1:
        raise argparse.ArgumentTypeError(
            f"must be a share written as 30% or 0.3 (got {text}: a bare number above 1 is ambiguous; for {value:g}%, "
            f"write {value:g}%)"
        )
    return value / 100 if percent else value


def margin(text: str) -> float:
    """A share of at most all: 30% or 0.3, never above 100% or 1."""
    percent = text.strip().endswith("%")
    value = money(text.strip().rstrip("%")) / (100 if percent else 1)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, written as 30% or 0.3 (got {text})")
    return value


def levels(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be numbers separated by commas (got {text!r})") from None
    if any(not (math.isfinite(v) and v >= 0) for v in values) or sum(v > 0 for v in set(values)) < 2:
        raise argparse.ArgumentTypeError(f"must be numbers >= 0, at least two of them above 0 (got {text!r})")
    return values


def names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def pacing(text: str) -> tuple[int, float]:
    weeks, sep, share = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"must be WEEKS:SHARE, e.g. 4:30% (got {text!r})")
    return positive(weeks), margin(share)


def channel_number(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"must be CHANNEL=NUMBER (got {text!r})")
    return name.strip(), money(value)


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None
