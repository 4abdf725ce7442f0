"""Week-level planning: the channel-level optimizer's parts at channel x week.

Owns week curves (impulses measured by simulation: :mod:`~mixsim.optimizer.weekly.curves`), the week-level
problem with its money and time constraints (pacing, weeks on air, dark weeks, locks, committed spend:
:mod:`~mixsim.optimizer.weekly.problem`, :mod:`~mixsim.optimizer.weekly.committed`), its program
(:mod:`~mixsim.optimizer.weekly.solve`), plan (:mod:`~mixsim.optimizer.weekly.plan`) and closed loop
(:mod:`~mixsim.optimizer.weekly.loop`). It reuses the channel level's program, verification and exports and must
not change them; it must not draw figures or parse command-line flags.
"""

from __future__ import annotations

from mixsim.optimizer.weekly.committed import COMMITTED_COLUMNS, parse_committed, read_committed
from mixsim.optimizer.weekly.curves import (
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
from mixsim.optimizer.weekly.loop import (
    GAIN_TOLERANCE,
    VERIFY_WEEK_KEY,
    optimize_weekly,
    plan_weekly,
    plan_weekly_runs,
    projected_funnel,
    starting_plan,
    verify_weekly,
)
from mixsim.optimizer.weekly.plan import WeeklyPlan
from mixsim.optimizer.weekly.problem import WeeklyProblem, check_settings, money
from mixsim.optimizer.weekly.solve import solve_weekly

__all__ = [
    "COMMITTED_COLUMNS",
    "GAIN_TOLERANCE",
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
