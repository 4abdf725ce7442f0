"""``mixsim optimize --by-week``: week-level plans from the command line."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

from mixsim.cli.outputs import FIGURE_FORMATS, ProgressBar, check_memory, check_writable
from mixsim.cli.text import (
    weekly_report,
)
from mixsim.errors import InfeasibleError, MixsimError
from mixsim.optimize.measure import DEFAULT_LEVELS
from mixsim.scenario import load_scenario


def optimize_by_week(args: argparse.Namespace) -> int:
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
    check_memory(scenario, args)
    budget = args.budget if args.budget is not None else scenario.budget_total - scenario.fixed_costs
    if args.out:
        if Path(args.out).suffix.lower() not in (".csv", ".json", ".xlsx"):
            raise MixsimError(f"--out {args.out}: the plan is written as .csv, .json or .xlsx")
        check_writable(Path(args.out), directory=False)
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
    with ProgressBar(runs, enabled=not args.json) as progress:
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
