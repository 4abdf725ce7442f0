"""What a customer still active at the end of the horizon is worth: the expected, discounted revenue of the repeat
purchases it makes after it, in closed form.

After the horizon nothing is planned, so only the organic repeat hazard acts, at the season's neutral level (a
multiplier of 1). An active customer buys on a day with probability ``p`` (the repeat hazard's daily probability,
after checkout abandonment) and, on a day it does not buy, lapses with probability ``q`` (the lapse half-life's),
exactly as in the simulation (docs/model.md, "Customers who come back"). With a daily discount factor ``b`` (from the
yearly rate ``r``: ``b = (1 + r) ** (-1 / 365)``), the customer is still active at the start of day ``t`` (1, 2, ...
after the horizon) with probability ``s ** (t - 1)``, where ``s = 1 - (1 - p) q``, and buys on it with probability
``p``, so its expected discounted purchases are

    sum over t >= 1 of b ** t * s ** (t - 1) * p  =  p b / (1 - b s)

and its value that times the repeat order value. It is finite when ``q > 0`` or ``r > 0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mixsim.engine.population import CONVERTED
from mixsim.engine.record import RunRecord
from mixsim.scenario import Scenario

__all__ = ["expected_purchases", "future_value", "revenue", "sales"]

DAYS_PER_YEAR = 365.0
"""Days over which the yearly discount rate compounds."""


def expected_purchases(purchase_rate: float, lapse_half_life: float, discount_rate: float, abandonment: float) -> float:
    """Expected discounted purchases of a customer active at the end of the horizon (see the module's formula).

    Parameters
    ----------
    purchase_rate : float
        Daily hazard of a repeat purchase attempt.
    lapse_half_life : float
        Half-life of a customer's activity in days (``inf``: never lapses).
    discount_rate : float
        Yearly discount rate.
    abandonment : float
        Share of purchase attempts abandoned at checkout.

    Returns
    -------
    float
        ``p b / (1 - b s)``; ``inf`` when the customer neither lapses nor is discounted and buys at all.
    """
    p = -math.expm1(-purchase_rate) * (1.0 - abandonment)
    q = -math.expm1(-math.log(2.0) / lapse_half_life) if math.isfinite(lapse_half_life) else 0.0
    b = (1.0 + discount_rate) ** (-1.0 / DAYS_PER_YEAR)
    s = 1.0 - (1.0 - p) * q
    if p == 0.0:
        return 0.0
    ending = 1.0 - b * s
    return math.inf if ending <= 0.0 else p * b / ending


def future_value(scenario: Scenario) -> float:
    """Revenue an active customer is expected to bring after the horizon, discounted: :func:`expected_purchases`
    under the scenario's ``[repeat]`` and ``economics`` keys, times the repeat order value (0 when
    ``economics.future_value`` is ``"none"``)."""
    if scenario.economics.future_value == "none":
        return 0.0
    repeat, economics = scenario.repeat, scenario.economics
    purchases = expected_purchases(
        repeat.purchase_rate, repeat.lapse_half_life, economics.discount_rate, economics.checkout_abandonment
    )
    return purchases * scenario.repeat_order_value


def revenue(
    scenario: Scenario,
    won: np.ndarray | float,
    repeat: np.ndarray | float,
    active: np.ndarray | float = 0.0,
    with_future_value: bool = False,
) -> np.ndarray | float:
    """Revenue of ``won`` customers' first orders and ``repeat`` repeat purchases (counts, or differences of
    counts between two runs), plus ``active`` customers' :func:`future_value` when ``with_future_value``.

    The one formula every revenue figure of a run is computed with (results, ground truth, curves, checks of a
    plan), so they add up: first orders at ``economics.order_value``, repeat purchases at the repeat order value.
    """
    total = won * scenario.economics.order_value + repeat * scenario.repeat_order_value
    if with_future_value:
        total = total + active * future_value(scenario)
    return total


def sales(records: Sequence[RunRecord]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers won, repeat purchases and customers active at the end, per record (floats)."""
    won = np.array([r.conversions for r in records], dtype=float)
    repeat = np.array([r.repeat_purchases for r in records], dtype=float)
    active = np.array([r.daily_stages[-1, CONVERTED] for r in records], dtype=float)
    return won, repeat, active
