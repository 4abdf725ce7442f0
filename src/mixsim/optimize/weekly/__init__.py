"""Week-level planning: the channel-level optimizer's parts at channel x week.

Owns week curves (impulses measured by simulation: :mod:`~mixsim.optimize.weekly.curves`), the week-level
problem with its money and time constraints (pacing, weeks on air, dark weeks, locks, committed spend:
:mod:`~mixsim.optimize.weekly.problem`, :mod:`~mixsim.optimize.weekly.committed`), its program
(:mod:`~mixsim.optimize.weekly.solve`), plan (:mod:`~mixsim.optimize.weekly.plan`) and closed loop
(:mod:`~mixsim.optimize.weekly.loop`). It reuses the channel level's program, verification and exports and must
not change them; it must not draw figures or parse command-line flags.

The names below load on first use, like :mod:`mixsim.optimize`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixsim._lazy import lazy_names

if TYPE_CHECKING:
    from mixsim.optimize.weekly.committed import COMMITTED_COLUMNS, parse_committed, read_committed
    from mixsim.optimize.weekly.curves import (
        WEEK_KEY,
        WEEK_LEVELS,
        WeekCurves,
        horizon_weeks,
        measure_week_curves,
        measured_weeks,
        week_run_count,
        week_spend,
        with_week_spend,
    )
    from mixsim.optimize.weekly.loop import (
        VERIFY_WEEK_KEY,
        optimize_weekly,
        plan_weekly,
        plan_weekly_runs,
        projected_funnel,
        starting_plan,
        verify_weekly,
    )
    from mixsim.optimize.weekly.plan import WeeklyPlan
    from mixsim.optimize.weekly.problem import WeeklyProblem, check_settings, money
    from mixsim.optimize.weekly.solve import solve_weekly

_HOMES: dict[str, str] = {
    **dict.fromkeys(("COMMITTED_COLUMNS", "parse_committed", "read_committed"), "mixsim.optimize.weekly.committed"),
    **dict.fromkeys(
        (
            "WEEK_KEY",
            "WEEK_LEVELS",
            "WeekCurves",
            "horizon_weeks",
            "measure_week_curves",
            "measured_weeks",
            "week_run_count",
            "week_spend",
            "with_week_spend",
        ),
        "mixsim.optimize.weekly.curves",
    ),
    **dict.fromkeys(
        (
            "VERIFY_WEEK_KEY",
            "optimize_weekly",
            "plan_weekly",
            "plan_weekly_runs",
            "projected_funnel",
            "starting_plan",
            "verify_weekly",
        ),
        "mixsim.optimize.weekly.loop",
    ),
    "WeeklyPlan": "mixsim.optimize.weekly.plan",
    **dict.fromkeys(("WeeklyProblem", "check_settings", "money"), "mixsim.optimize.weekly.problem"),
    "solve_weekly": "mixsim.optimize.weekly.solve",
}

__all__ = [
    "COMMITTED_COLUMNS",
    "VERIFY_WEEK_KEY",
    "WEEK_KEY",
    "WEEK_LEVELS",
    "WeekCurves",
    "WeeklyPlan",
    "WeeklyProblem",
    "check_settings",
    "horizon_weeks",
    "measure_week_curves",
    "measured_weeks",
    "money",
    "optimize_weekly",
    "parse_committed",
    "plan_weekly",
    "plan_weekly_runs",
    "projected_funnel",
    "read_committed",
    "solve_weekly",
    "starting_plan",
    "verify_weekly",
    "week_run_count",
    "week_spend",
    "with_week_spend",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
