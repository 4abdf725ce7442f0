"""The ``mixsim`` command: a parser table and ``main``.

Each command lives in a module of :mod:`mixsim.cli` by group (scenario files, simulation, optimization, research);
only the chosen command's module is imported, so ``mixsim --help`` loads none of the numerical libraries. A
command parses its options, calls one library function, prints and writes; it never computes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from typing import NamedTuple

from mixsim._names import printable
from mixsim._version import __version__
from mixsim.cli._running import COMMAND, PROGRESS, SIGNALLED, Interrupted, interrupted_line, stopping
from mixsim.errors import MixsimError
from mixsim.executors import deferred_executor, scheduler_from


class Command(NamedTuple):
    """One row of the parser table: the command's name, its one-line help, and the module that implements it
    (a ``COMMANDS`` mapping of name to ``(setup, handler)``)."""

    name: str
    help: str
    module: str


COMMANDS: tuple[Command, ...] = (
    Command("simulate", "simulate a scenario and report what the plan does", "mixsim.cli.simulate"),
    Command("validate", "check a scenario file and report every problem", "mixsim.cli.scenario"),
    Command("schema", "print the JSON Schema of scenario files (for editor completion)", "mixsim.cli.scenario"),
    Command("curves", "measure each channel's response curve by simulation", "mixsim.cli.optimize"),
    Command("optimize", "allocate the budget across channels to maximize the projected return", "mixsim.cli.optimize"),
    Command("frontier", "the optimal return and allocation over a range of budgets", "mixsim.cli.optimize"),
    Command("compare", "simulate variants of a scenario with common random numbers", "mixsim.cli.simulate"),
    Command("report", "one self-contained HTML report of a scenario (and its optimized plan)", "mixsim.cli.simulate"),
    Command("export-mmm", "a long simulated dataset for marketing-mix models, with its truth", "mixsim.cli.research"),
    Command("calibrate", "fit a scenario's uncertain parameters to a business's history", "mixsim.cli.calibration"),
    Command(
        "next-test",
        "which channel's lift test to run next, across a posterior's parameter sets",
        "mixsim.cli.experiments",
    ),
    Command("journeys", "customer journeys as a path table and a per-touch event table", "mixsim.cli.research"),
    Command(
        "attribution", "attribution models' credit per channel beside the true incrementality", "mixsim.cli.research"
    ),
    Command(
        "sweep", "simulate every cell of a grid of scenario variants into a Parquet dataset", "mixsim.cli.simulate"
    ),
    Command("new", "write a commented starter scenario from a template", "mixsim.cli.scenario"),
    Command("list-templates", "the starter scenarios mixsim new can write", "mixsim.cli.scenario"),
)
"""Every command, in the order ``mixsim --help`` lists them."""


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser; the options of the command named in ``argv`` (if any) are filled in.

    The other commands are listed with their help line only: their modules (and the libraries those import) load
    only when they are the one asked for.
    """
    parser = argparse.ArgumentParser(prog="mixsim", description="Marketing-mix simulator and budget optimizer.")
    parser.add_argument("--version", action="version", version=f"mixsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # The top level takes no option with a value, so the first word that is not an option names the command.
    chosen = next((word for word in argv if not word.startswith("-")), None)
    for command in COMMANDS:
        child = sub.add_parser(command.name, help=command.help, description=command.help)
        if command.name == chosen:
            setup, handler = importlib.import_module(command.module).COMMANDS[command.name]
            setup(child)
            child.set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 unexpected failure, 2 invalid input, 130 interrupted by
    Ctrl-C, 143 stopped by SIGTERM).

    SIGTERM is taken like Ctrl-C: the command unwinds (temporary files removed, workers stopped) and says so in one
    line. Called without ``argv`` (as the ``mixsim`` program), a signal that arrives after the command's work, while
    the process shuts down, still ends it with that line and code.
    """
    words = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings(), stopping(process_exit=argv is None):
        if not os.environ.get("MIXSIM_DEBUG"):
            # Numerical warnings (numpy's overflow, division by zero) are not for the user: validation keeps
            # non-finite values out of the engine, and what is wrong is said in a line of its own. A process pool's
            # workers are forked from here and keep the filter.
            warnings.simplefilter("ignore", RuntimeWarning)
        try:
            code = _run(words)
            if SIGNALLED.get():  # a signal whose interrupt something swallowed: the command was still stopped
                raise Interrupted(SIGNALLED.get())
            return code
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (an Interrupted)
            print(interrupted_line(exc), file=sys.stderr)
            return _stopped(getattr(exc, "exit_code", 130), process_exit=argv is None)
        except Exception:  # what a stop signal caused (see _run), or a failure under MIXSIM_DEBUG
            if not SIGNALLED.get():
                raise
            stopped = Interrupted(SIGNALLED.get())
            print(interrupted_line(stopped), file=sys.stderr)
            return _stopped(stopped.exit_code, process_exit=argv is None)


def _stopped(code: int, process_exit: bool) -> int:
    """The exit code of a stopped command; as the whole process, it ends here, its clean-up done.

    Python's own shutdown puts the default handlers back before it ends, so a further Ctrl-C of a burst arriving
    then would kill the process by the signal (no code of its own); ending now leaves it no such moment.
    """
    if process_exit:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    return code


def _run(words: list[str]) -> int:
    args = build_parser(words).parse_args(words)
    COMMAND.set(f"mixsim {args.command}")  # for the lines a log gets (cli/outputs.py)
    PROGRESS.set("")
    try:
        if not hasattr(args, "workers"):
            return int(args.handler(args))
        with deferred_executor(args.workers, scheduler_from(args.scheduler)) as executor:
            args.executor = executor
            return int(args.handler(args))
    except Exception as exc:
        if SIGNALLED.get():  # a failure the stop signal caused (a C extension's import cut short: ImportError)
            raise
        return _failed(exc)


def _failed(exc: Exception) -> int:
    """One line (one per problem) for a failure, and its exit code."""
    if isinstance(exc, MixsimError):
        for line in exc.problems:  # the library's "override 'KEY=VALUE'" was given here as --set
            # One problem, one line: a name's control characters are shown escaped, never obeyed by the terminal.
            print(printable(line.replace("override '", "--set '")), file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):
        return 0
    if isinstance(exc, OSError):  # an output that could not be written (disk full, permissions changed meanwhile)
        print(f"mixsim: cannot write {exc.filename or 'an output'}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if os.environ.get("MIXSIM_DEBUG"):  # an unexpected failure: one line, the traceback on request
        raise exc
    print(f"mixsim: unexpected error: {type(exc).__name__}: {exc} (set MIXSIM_DEBUG=1 for details)", file=sys.stderr)
    return 1
