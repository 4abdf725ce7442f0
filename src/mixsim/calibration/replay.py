"""A scenario replayed over a business's history: the history's spend, week by week, in place of the plan, and the
simulated KPI period by period to set beside what was observed."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mixsim.calibration.baseline import demand, is_baseline
from mixsim.calibration.history import History
from mixsim.calibration.parameters import Parameter, apply
from mixsim.engine import RunRecord
from mixsim.scenario import Scenario, parse_scenario, scenario_to_dict

__all__ = ["fitted_replay", "history_scenario", "history_spend", "simulated_kpi"]


def history_spend(scenario: Scenario, history: History) -> dict[str, np.ndarray]:
    """Each channel's money per week of the history (channels x weeks): its spend column, or for an owned channel
    its activity (exposures given) times its cost per exposure, which buys exactly those exposures; 0 for a channel
    the history does not have."""
    weeks = history.weeks
    week = np.arange(history.periods) * history.period_days // 7
    out: dict[str, np.ndarray] = {}
    for channel in scenario.channels:
        per_period = history.spend.get(channel.name)
        if per_period is None and channel.name in history.activity:
            per_period = history.activity[channel.name] * channel.cost_per_exposure
        if per_period is None:
            per_period = np.zeros(history.periods)
        out[channel.name] = np.bincount(week, weights=per_period, minlength=weeks)
    return out


def history_scenario(scenario: Scenario, history: History) -> Scenario:
    """``scenario`` over the days of ``history``: each channel spends what the history says, week by week (its
    flighting), with no minimum buy (the history is what was bought); the scenario's own season, made for its own
    horizon, is left out (over a history, demand beyond media is the baseline's to explain).

    Returns
    -------
    Scenario
        Validated again, with ``horizon_days`` the history's days.
    """
    data = scenario_to_dict(scenario)
    data["scenario"]["horizon_days"] = history.days
    data.pop("seasonality", None)
    for name, weekly in history_spend(scenario, history).items():
        entry = data["channels"][name]
        total = math.fsum(weekly)
        entry["spend"] = total
        entry["min_spend"] = 0.0
        entry.pop("flighting", None)
        if total > 0:
            entry["flighting"] = [float(w) for w in weekly]
    data.pop("budget", None)
    return parse_scenario(data, source=f"{scenario.source} over {history.source}")


def fitted_replay(
    scenario: Scenario, history: History, parameters: Sequence[Parameter], values: Sequence[float]
) -> Scenario:
    """``scenario`` with the parameters set to ``values``, replayed over ``history`` (:func:`history_scenario`), with
    the baseline's terms among them as its weekly demand (:func:`mixsim.calibration.baseline.demand`)."""
    replay = history_scenario(apply(scenario, parameters, values), history)
    terms = {p.key: float(v) for p, v in zip(parameters, values, strict=True) if is_baseline(p.key)}
    if not terms:
        return replay
    return replay.replace({"seasonality": {"weekly": [float(d) for d in demand(history, terms)]}})


def simulated_kpi(record: RunRecord, scenario: Scenario, history: History) -> np.ndarray:
    """The KPI the history counts (revenue of every purchase, or purchases), period by period of ``history``, from
    one run of :func:`history_scenario`."""
    daily = np.diff(record.daily_sales, axis=0, prepend=0).astype(float)  # customers won, repeat purchases
    if history.kpi == "revenue":
        per_day = daily[:, 0] * scenario.economics.order_value + daily[:, 1] * scenario.repeat_order_value
    else:
        per_day = daily.sum(axis=1)
    period = np.arange(per_day.size) // history.period_days
    return np.bincount(period, weights=per_day, minlength=history.periods)[: history.periods]
