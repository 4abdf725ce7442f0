"""``mixsim optimize --by-week``: week-level plans from the command line.

The command parses its flags, reads the committed-spend file, calls :func:`mixsim.optimizer.weekly.plan_weekly`,
prints and writes; the library checks every setting and says what is wrong in its own terms, and this module
names the flag instead (:data:`FLAGS`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mixsim._files import output_files
from mixsim.cli import options
from mixsim.cli.flags import named_by_flags
from mixsim.cli.outputs import FIGURE_FORMATS, ProgressBar, check_memory, plan_paths
from mixsim.cli.text import weekly_report
from mixsim.errors import MixsimError
from mixsim.optimizer.export import write_plan
from mixsim.optimizer.measure import DEFAULT_LEVELS
from mixsim.optimizer.weekly import WEEK_LEVELS, plan_weekly, plan_weekly_runs, projected_funnel, read_committed

FLAGS: dict[str, str] = {
    "budget": "--budget",
    "locked": "--lock",
    "week_min": "--week-min",
    "week_max": "--week-max",
    "min_weeks_on": "--min-weeks-on",
    "max_dark_weeks": "--max-dark-weeks",
    "pacing": "--pacing",
    "pacing_weeks": "--pacing WEEKS",
    "pacing_share": "--pacing SHARE",
    "committed": "--committed",
    "additional": "--additional",
    "levels": "--levels",
    "every": "--measure-every",
    "replications": "--replications",
    "max_iterations": "--iterations",
    "verify_replications": "--verify-replications",
}
"""The flag that sets each of :func:`~mixsim.optimizer.weekly.plan_weekly`'s settings, named in its messages."""


def optimize_by_week(args: argparse.Namespace) -> int:
    if args.curves is not None or args.scenario is None:
        raise MixsimError("--by-week: needs a SCENARIO (week-level curves are measured by simulation)")
    if args.objective != "revenue" or args.max_change is not None:
        raise MixsimError("--by-week: optimizes revenue within the money; --objective and --max-change do not apply")
    limits = _limits(args)
    scenario = options.load(args)
    outs = plan_paths(args.out)
    committed = read_committed(args.committed, scenario) if args.committed else None
    pacing_weeks, pacing_share = args.pacing if args.pacing else (None, None)
    measure: dict[str, Any] = {
        "committed": committed,
        "replications": args.replications,
        # --levels defaults to the channel level's; the week level has its own default
        "levels": args.levels if args.levels is not DEFAULT_LEVELS else WEEK_LEVELS,
        "every": args.measure_every or 1,
        "max_iterations": args.iterations,
        "verify_replications": args.verify_replications if args.verify else 0,
    }
    with named_by_flags(FLAGS):
        runs = plan_weekly_runs(scenario, **measure)
        check_memory(scenario, args, runs=runs)
        with ProgressBar(runs, enabled=not args.json) as progress:
            plan = plan_weekly(
                scenario,
                budget=args.budget,
                **limits,
                pacing_weeks=pacing_weeks,
                pacing_share=pacing_share,
                locked=args.lock,
                additional=args.additional,
                seed=args.seed,
                solver=args.solver,
                executor=args.executor,
                progress=progress,
                **measure,
            )
    stems: list[Path] = []
    if plan.optimal and outs:
        # Deferred: matplotlib loads only when figures are drawn.
        from mixsim.plots import plot_flighting, plot_funnel, save_figure

        with output_files(outs) as staged:  # the plans and their figures land together, or none of them
            for out in outs:
                write_plan(plan, staged(out))
            stems = list(dict.fromkeys(out.with_suffix("") for out in outs))  # one set of figures per name
            flighting = plot_flighting(plan, scenario.seasonality)
            funnel = None
            if plan.verification is not None:
                funnel = plot_funnel(
                    projected_funnel(
                        scenario, plan, seed=args.seed, replications=args.verify_replications, executor=args.executor
                    )
                )
            for stem in stems:
                save_figure(flighting, staged(stem.with_name(f"{stem.name}_flighting")), FIGURE_FORMATS)
                if funnel is not None:
                    save_figure(funnel, staged(stem.with_name(f"{stem.name}_funnel")), FIGURE_FORMATS)
    if args.json:
        print(plan.to_json(timings=args.timings))
    else:
        print(weekly_report(plan))
        if stems:
            figures = "_flighting" + (" and _funnel" if plan.verification is not None else "")
            written = ", ".join(str(out) for out in outs)
            names = ", ".join(stem.name for stem in stems)
            print(f"\nPlan written to {written}; figures {names}{figures} (.png, .svg) beside it")
    plan.check()  # an infeasible plan is printed, then exits 3 with its message
    return 0


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    """The per-channel limits from their repeatable CH=N flags; refuses a channel given twice and a count of weeks
    that is not whole, and flag combinations that mean nothing (before the scenario is read)."""
    problems = []
    limits: dict[str, Any] = {}
    for option in ("week_min", "week_max", "min_weeks_on", "max_dark_weeks"):
        flag, pairs = FLAGS[option], getattr(args, option)
        names = [name for name, _ in pairs]
        problems += [
            f"{flag}: {name} is given more than once" for name in dict.fromkeys(names) if names.count(name) > 1
        ]
        if option in ("min_weeks_on", "max_dark_weeks"):
            problems += [f"{flag}: {name}={v:g}: must be a whole number of weeks" for name, v in pairs if v != int(v)]
            limits[option] = {name: int(v) for name, v in pairs}
        else:
            limits[option] = dict(pairs)
    if problems:
        raise MixsimError(problems)
    return limits
