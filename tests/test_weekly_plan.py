"""The week-level plan: the flighting chart, and the contract it shares with the channel-level plan."""

from __future__ import annotations

import numpy as np
import pytest

from _weekly import log_curves
from mixsim.optimize.weekly import WeeklyProblem, solve_weekly


def test_the_wide_table_is_a_flighting_chart_that_adds_up() -> None:
    curves, _, _ = log_curves(np.random.default_rng(4), 3, 5)
    plan = solve_weekly(WeeklyProblem(curves, budget=9000.0))
    wide = plan.to_frame(wide=True)
    assert list(wide.columns) == [1, 2, 3, 4, 5, "total"] and list(wide.index) == ["c0", "c1", "c2", "total"]
    assert wide.loc["total", "total"] == pytest.approx(plan.spend.sum())
    long = plan.to_frame()
    assert len(long) == 15 and long["spend"].sum() == pytest.approx(9000.0)
