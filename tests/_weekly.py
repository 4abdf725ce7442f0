"""Shared by the week-level tests: channel-week curves with a known optimum, and a small scenario."""

from __future__ import annotations

import numpy as np

from mixsim.optimizer.weekly import WeekCurves
from mixsim.scenario import Scenario

K = 41  # breakpoints per channel-week


def log_curves(
    rng: np.random.Generator, c: int, w: int, top: float = 20_000.0
) -> tuple[WeekCurves, np.ndarray, np.ndarray]:
    """Channel-week curves r(x) = a h log(1 + x / h) sampled on K breakpoints (returns the curves, a and h)."""
    a = rng.uniform(1.0, 4.0, (c, w))
    h = rng.uniform(500.0, 3000.0, (c, w))
    xs = np.linspace(0.0, top, K)[None, None, :] * np.ones((c, w, 1))
    revenue = a[:, :, None] * h[:, :, None] * np.log1p(xs / h[:, :, None])
    current = rng.uniform(0.0, 2000.0, (c, w))
    return WeekCurves(tuple(f"c{i}" for i in range(c)), xs, revenue, current), a, h


def optimum_by_bisection(a: np.ndarray, h: np.ndarray, budget: float, top: float) -> float:
    """The true optimum of sum a h log(1 + x / h) with sum x = budget: every x where the slope a / (1 + x / h)
    equals the multiplier, found by bisection (no breakpoints involved)."""

    def spend(lam: float) -> np.ndarray:
        return np.clip(h * (a / lam - 1.0), 0.0, top)

    low, high = 1e-9, float(a.max())
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if spend(mid).sum() > budget else (low, mid)
    x = spend((low + high) / 2)
    return float((a * h * np.log1p(x / h)).sum())


def small_scenario() -> Scenario:
    """The small three-channel scenario of the suite (tv, search, email; three weeks)."""
    from conftest import small_data
    from mixsim.scenario import parse_scenario

    return parse_scenario(small_data(), source="small.toml")
