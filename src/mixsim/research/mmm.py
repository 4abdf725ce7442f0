"""Datasets for marketing-mix models, with the ground truth beside them.

A marketing-mix model (MMM) reads a weekly table of spend per channel and sales, and estimates what each channel
contributed. The simulator knows the answer: each channel's true incremental conversions come from counterfactual
runs with the channel off and the same random numbers. :func:`mmm_scenario` stretches a scenario over a long
period with spend that moves week to week independently across channels (what an MMM needs to tell channels
apart); :func:`mmm_frame` turns a simulation of it into the table an MMM consumes; :func:`mmm_truth` gives what
the MMM should find.

Column names follow the shape of the open-source MMMs' example data: ``date``, ``<channel>_spend``,
``<channel>_impressions``, ``<channel>_clicks`` (click-priced channels), ``conversions``, ``revenue`` and
``revenue_per_conversion``. The README maps them onto Robyn, Meridian and PyMC-Marketing arguments.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mixsim.engine.population import CONVERTED
from mixsim.scenario import Scenario

if TYPE_CHECKING:
    from mixsim.results import SimulationResult

FREQUENCIES: dict[str, int] = {"D": 1, "W": 7}
"""Row frequencies :func:`mmm_frame` knows, and their length in days."""

DEFAULT_START = "2024-01-01"
"""Date of day 0 when none is given (a Monday)."""

MAX_VARIATION = 5.0
"""Widest log-scale spread :func:`mmm_scenario` takes: at 5 a channel's year is already a few weeks of spend."""

_FLIGHTING_KEY = 0x4D4D4D  # spawn key of the flighting stream, apart from every simulation seed


def mmm_scenario(
    scenario: Scenario, weeks: int, *, variation: float = 0.5, dark: float = 0.0, seed: int = 0
) -> Scenario:
    """The scenario stretched over ``weeks`` weeks, each channel's spend varying from week to week.

    Each channel keeps its average weekly spend. Its weekly weights are its own flighting pattern (repeated over
    the new horizon) times an independent log-normal factor per channel and week with ``sigma = variation``
    (mean 1), and a week goes dark (no spend) with probability ``dark``. Spend thus moves independently across
    channels, which is what lets a regression tell their effects apart.

    Parameters
    ----------
    scenario : Scenario
        The scenario to stretch; everything but the horizon, spends, flighting and budget is kept.
    weeks : int
        Length of the new horizon in weeks (at least 2).
    variation : float, default=0.5
        Log-scale standard deviation of the weekly spend factors, in [0, 5]; 0 keeps the pattern as it is.
    dark : float, default=0.0
        Chance that a channel is off in a given week (in [0, 1)); every channel keeps at least one week on.
    seed : int, default=0
        Seed of the weekly factors (the simulation's own seed is separate).

    Returns
    -------
    Scenario
        Validated; its name says it is the MMM stretch, and ``budget.total`` covers the new spends and fixed
        costs. Minimum buys and planner limits are scaled with the spends.

    Raises
    ------
    ValueError
        If ``weeks``, ``variation``, ``dark`` or ``seed`` is out of range.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> long = mmm_scenario(scenario, weeks=26, seed=1)
    >>> per_day = long.channel("social").spend / long.horizon_days  # the plan's daily spend is kept
    >>> long.horizon_days, round(per_day, 6) == round(scenario.channel("social").spend / scenario.horizon_days, 6)
    (182, True)
    """
    if weeks < 2:
        raise ValueError(f"weeks must be >= 2 (got {weeks})")
    if not 0.0 <= variation <= MAX_VARIATION:
        raise ValueError(f"variation must be in [0, {MAX_VARIATION:g}] (got {variation})")
    if not 0.0 <= dark < 1.0:
        raise ValueError(f"dark must be in [0, 1) (got {dark})")
    if seed < 0:
        raise ValueError(f"seed must be >= 0 (got {seed})")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_FLIGHTING_KEY,)))
    days = weeks * 7
    stretch = days / scenario.horizon_days
    changes: dict[str, Any] = {"scenario.horizon_days": days, "scenario.name": f"{scenario.name} (MMM, {weeks} weeks)"}
    for c in scenario.channels:
        # Draw for every channel, spending or not, so one channel's change leaves the others' weeks unchanged.
        log_factor = variation * rng.standard_normal(weeks)
        factor = np.exp(log_factor - variation**2 / 2.0)
        if not factor.any():  # underflow with a wide spread: the same proportions, scaled so the largest is 1
            factor = np.exp(log_factor - log_factor.max())
        on = rng.random(weeks) >= dark
        on[rng.integers(weeks)] = True
        pattern = np.ones(1) if c.flighting is None else np.asarray(c.flighting, dtype=float)
        pattern = pattern / pattern.mean()
        weights = np.resize(pattern, weeks) * factor * on
        if not weights.any():  # the pattern's dark weeks fell on every week left on
            weights = factor * on
        changes[f"channels.{c.name}.spend"] = c.spend * stretch
        changes[f"channels.{c.name}.min_spend"] = c.min_spend * stretch  # a minimum buy is for the whole horizon
        # Six significant digits keep the file readable without turning a small weight into a dark week.
        changes[f"channels.{c.name}.flighting"] = [float(f"{w:.6g}") for w in weights]
    if scenario.budget is not None:
        changes["budget.total"] = max(
            scenario.budget.total * stretch, scenario.total_spend * stretch + scenario.fixed_costs
        )
        for name, limit in scenario.budget.limits:
            changes[f"budget.limits.{name}.min"] = limit.min * stretch
            if math.isfinite(limit.max):
                changes[f"budget.limits.{name}.max"] = limit.max * stretch
    return scenario.replace(changes)


def _periods(horizon_days: int, freq: str) -> tuple[np.ndarray, int]:
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {', '.join(FREQUENCIES)} (got {freq!r})")
    length = FREQUENCIES[freq]
    return np.arange(horizon_days) // length, length


def _sum_by(period: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum the rows of ``values`` (days first) within each period."""
    starts = np.flatnonzero(np.r_[True, period[1:] != period[:-1]])
    return np.add.reduceat(values, starts, axis=0)


def _dates(start: str | dt.date, n_periods: int, length: int) -> pd.DatetimeIndex:
    try:
        first = pd.Timestamp(start)
    except (TypeError, ValueError) as err:
        raise ValueError(f"start must be a date such as 2024-01-01 (got {start!r})") from err
    return pd.DatetimeIndex(first + pd.to_timedelta(np.arange(n_periods) * length, unit="D"))


def mmm_frame(
    result: SimulationResult,
    freq: str = "W",
    *,
    replication: int = 0,
    start: str | dt.date = DEFAULT_START,
    truth: bool = False,
) -> pd.DataFrame:
    """One replication as an MMM dataset: a row per week (or day), spend, impressions, clicks and sales.

    Parameters
    ----------
    result : SimulationResult
        A simulation (of :func:`mmm_scenario`'s stretch, typically).
    freq : {"W", "D"}, default="W"
        Weekly rows (7-day periods from ``start``; a horizon that is not whole weeks ends on a short week) or
        daily rows.
    replication : int, default=0
        Which replication: a dataset is one realisation of the market.
    start : str or datetime.date, default="2024-01-01"
        Date of day 0.
    truth : bool, default=False
        Add, per channel, the true incremental conversions and revenue of each period
        (``<channel>_true_conversions``, ``<channel>_true_revenue``): the conversions that period with the channel
        on minus with it off, so carryover from earlier spend counts where it lands, as in an MMM's
        decomposition. Needs ``simulate(..., incrementality=True)``.

    Returns
    -------
    pandas.DataFrame
        ``date``, then per channel ``<channel>_spend`` (media spend delivered; fixed costs are not media),
        ``<channel>_impressions`` (exposures) and, for click-priced channels, ``<channel>_clicks`` (spend / cpc),
        then ``conversions`` (new conversions in the period), ``revenue`` and ``revenue_per_conversion`` (the
        order value; Meridian's ``revenue_per_kpi``).

    Raises
    ------
    ValueError
        If ``freq``, ``replication`` or ``start`` is not valid, or the truth was asked for and not measured.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> long = mmm_scenario(scenario, weeks=8, seed=1)
    >>> data = mmm_frame(mixsim.simulate(long, replications=1, incrementality=True), truth=True)
    >>> len(data), list(data.columns[:3])
    (8, ['date', 'social_spend', 'social_impressions'])
    """
    if not 0 <= replication < result.replications:
        raise ValueError(f"replication must be in [0, {result.replications}) (got {replication})")
    scenario = result.scenario
    run = result.runs[replication]
    period, length = _periods(scenario.horizon_days, freq)
    spend = _sum_by(period, run.daily_spend)
    exposures = _sum_by(period, run.daily_exposures.astype(float))
    conversions = _sum_by(period, np.diff(run.daily_stages[:, CONVERTED], prepend=0).astype(float))
    columns: dict[str, Any] = {"date": _dates(start, spend.shape[0], length)}
    for k, c in enumerate(scenario.channels):
        columns[f"{c.name}_spend"] = spend[:, k]
        columns[f"{c.name}_impressions"] = exposures[:, k].astype(np.int64)
        if c.cpc is not None:
            columns[f"{c.name}_clicks"] = spend[:, k] / c.cpc
    columns["conversions"] = conversions.astype(np.int64)
    columns["revenue"] = conversions * scenario.economics.order_value
    columns["revenue_per_conversion"] = np.full(conversions.shape, scenario.economics.order_value)
    if truth:
        inc = result.incrementality
        if inc is None or inc.daily_conversions is None:
            raise ValueError("the truth was not measured: simulate with incrementality=True")
        true = _sum_by(period, inc.daily_conversions[replication])
        for k, c in enumerate(scenario.channels):
            columns[f"{c.name}_true_conversions"] = true[:, k]
            columns[f"{c.name}_true_revenue"] = true[:, k] * scenario.economics.order_value
    return pd.DataFrame(columns)


def mmm_truth(result: SimulationResult, replication: int | None = None) -> pd.DataFrame:
    """What an MMM fitted to the dataset should find, per channel.

    Parameters
    ----------
    result : SimulationResult
        Simulated with ``incrementality=True``.
    replication : int, optional
        One replication (the dataset's, for :func:`mmm_frame`); default the mean over replications.

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``spend`` (delivered), ``incremental_conversions``,
        ``incremental_revenue``, ``roas`` (incremental revenue per dollar delivered) and ``marginal_roas`` (the
        revenue of the plan's last 5% per dollar; NaN where it could not be delivered).

    Raises
    ------
    ValueError
        If the truth was not measured, or ``replication`` is out of range.
    """
    inc = result.incrementality
    if inc is None:
        raise ValueError("the truth was not measured: simulate with incrementality=True")
    rows = slice(None) if replication is None else [replication]
    if replication is not None and not 0 <= replication < result.replications:
        raise ValueError(f"replication must be in [0, {result.replications}) (got {replication})")
    spend = np.stack([run.spend for run in result.runs])
    return pd.DataFrame(
        {
            "channel": list(result.channels),
            "spend": spend[rows].mean(axis=0),
            "incremental_conversions": inc.conversions[rows].mean(axis=0),
            "incremental_revenue": inc.revenue[rows].mean(axis=0),
            "roas": _nanmean(inc.roas[rows]),
            "marginal_roas": _nanmean(inc.marginal_roas[rows]),
        }
    )


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN; NaN where a column has no number."""
    counts = np.isfinite(values).sum(axis=0)
    sums = np.where(np.isfinite(values), values, 0.0).sum(axis=0)
    out = np.full(counts.shape, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out
