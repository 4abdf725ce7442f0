"""Datasets for marketing-mix models, with the ground truth beside them.

A marketing-mix model (MMM) reads a weekly table of spend per channel and sales, and estimates what each channel
contributed. The simulator knows the answer: each channel's true incremental conversions come from counterfactual
runs with the channel off and the same random numbers. :func:`mmm_scenario` stretches a scenario over a long
period with spend that moves week to week independently across channels (what an MMM needs to tell channels
apart); :func:`mmm_frame` turns a simulation of it into the table an MMM consumes; :func:`mmm_truth` gives what
the MMM should find; :func:`mmm_dataset` puts the three files a study needs together (the dataset, its truth per
period, and a summary of how it was made and what an MMM should find).

Column names follow the shape of the open-source MMMs' example data: ``date``, ``<channel>_spend``,
``<channel>_impressions``, ``<channel>_clicks`` (click-priced channels), ``conversions``, ``revenue`` and
``revenue_per_conversion``. The README maps them onto Robyn, Meridian and PyMC-Marketing arguments.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim.errors import InputError
from mixsim.scenario import Scenario, require_scenario
from mixsim.tables import check_table, interval, json_records

if TYPE_CHECKING:
    from mixsim.results import SimulationResult

__all__ = [
    "DEFAULT_START",
    "FREQUENCIES",
    "MAX_VARIATION",
    "MMM_TABLES",
    "TRUTH_SUFFIXES",
    "MMMDataset",
    "mmm_dataset",
    "mmm_frame",
    "mmm_scenario",
    "mmm_truth",
]

FREQUENCIES: dict[str, int] = {"D": 1, "W": 7}
"""Row frequencies :func:`mmm_frame` knows, and their length in days."""

DEFAULT_START = "2024-01-01"
"""Date of day 0 when none is given (a Monday)."""

MAX_VARIATION = 5.0
"""Widest log-scale spread :func:`mmm_scenario` takes: at 5 a channel's year is already a few weeks of spend."""

TRUTH_SUFFIXES: tuple[str, ...] = (
    "_true_conversions",
    "_true_revenue",
    "_true_new_customers",
    "_true_repeat_purchases",
)
"""Endings of the truth columns :func:`mmm_frame` adds with ``truth=True`` (after the channel's name; the last two
only when customers buy again or lapse)."""

MMM_TABLES: tuple[str, ...] = ("data", "truth", "channels")
"""Tables :meth:`MMMDataset.to_frame` can return."""

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
    InputError
        If ``weeks``, ``variation``, ``dark`` or ``seed`` is out of range (every problem at once).

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> long = mmm_scenario(scenario, weeks=26, seed=1)
    >>> per_day = long.channel("social").spend / long.horizon_days  # the plan's daily spend is kept
    >>> long.horizon_days, round(per_day, 6) == round(scenario.channel("social").spend / scenario.horizon_days, 6)
    (182, True)
    """
    require_scenario(scenario)
    problems = []
    if weeks < 2:
        problems.append(f"weeks must be >= 2 (got {weeks})")
    if not 0.0 <= variation <= MAX_VARIATION:
        problems.append(f"variation must be in [0, {MAX_VARIATION:g}] (got {variation})")
    if not 0.0 <= dark < 1.0:
        problems.append(f"dark must be in [0, 1) (got {dark})")
    if seed < 0:
        problems.append(f"seed must be >= 0 (got {seed})")
    if problems:
        raise InputError(problems)
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
        raise InputError(f"freq must be one of {', '.join(FREQUENCIES)} (got {freq!r})")
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
        raise InputError(f"start must be a date such as 2024-01-01 (got {start!r})") from err
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
        order value; Meridian's ``revenue_per_kpi``). When customers buy again or lapse, ``conversions`` counts
        every purchase in the period (the KPI an MMM fits), ``revenue`` is theirs, ``revenue_per_conversion`` the
        period's mean, and ``new_customers`` and ``repeat_purchases`` split it; the truth then gives per channel
        ``<channel>_true_conversions`` (every purchase), ``_true_new_customers``, ``_true_repeat_purchases`` and
        ``_true_revenue``.

    Raises
    ------
    InputError
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
        raise InputError(f"replication must be in [0, {result.replications}) (got {replication})")
    scenario = result.scenario
    run = result.runs[replication]
    period, length = _periods(scenario.horizon_days, freq)
    spend = _sum_by(period, run.daily_spend)
    exposures = _sum_by(period, run.daily_exposures.astype(float))
    conversions = _sum_by(period, np.diff(run.daily_sales[:, 0], prepend=0).astype(float))  # customers won
    repeat = _sum_by(period, np.diff(run.daily_sales[:, 1], prepend=0).astype(float))
    columns: dict[str, Any] = {"date": _dates(start, spend.shape[0], length)}
    for k, c in enumerate(scenario.channels):
        columns[f"{c.name}_spend"] = spend[:, k]
        columns[f"{c.name}_impressions"] = exposures[:, k].astype(np.int64)
        if c.cpc is not None:
            columns[f"{c.name}_clicks"] = spend[:, k] / c.cpc
    if not scenario.repeats:
        columns["conversions"] = conversions.astype(np.int64)
        columns["revenue"] = conversions * scenario.economics.order_value
        columns["revenue_per_conversion"] = np.full(conversions.shape, scenario.economics.order_value)
    else:  # the KPI counts every purchase; its parts follow
        purchases = conversions + repeat
        revenue = conversions * scenario.economics.order_value + repeat * scenario.repeat_order_value
        columns["conversions"] = purchases.astype(np.int64)
        columns["revenue"] = revenue
        columns["revenue_per_conversion"] = np.divide(
            revenue, purchases, out=np.full(revenue.shape, scenario.economics.order_value), where=purchases > 0
        )
        columns["new_customers"] = conversions.astype(np.int64)
        columns["repeat_purchases"] = repeat.astype(np.int64)
    if truth:
        inc = result.incrementality
        if inc is None or inc.daily_conversions is None:
            raise InputError("the truth was not measured: simulate with incrementality=True")
        true = _sum_by(period, inc.daily_conversions[replication])
        if not scenario.repeats:
            for k, c in enumerate(scenario.channels):
                columns[f"{c.name}_true_conversions"] = true[:, k]
                columns[f"{c.name}_true_revenue"] = true[:, k] * scenario.economics.order_value
        else:
            assert inc.daily_purchases is not None
            every = _sum_by(period, inc.daily_purchases[replication])
            for k, c in enumerate(scenario.channels):
                columns[f"{c.name}_true_conversions"] = every[:, k]
                columns[f"{c.name}_true_new_customers"] = true[:, k]
                columns[f"{c.name}_true_repeat_purchases"] = every[:, k] - true[:, k]
                columns[f"{c.name}_true_revenue"] = (
                    true[:, k] * scenario.economics.order_value
                    + (every[:, k] - true[:, k]) * scenario.repeat_order_value
                )
    return pd.DataFrame(columns)


def mmm_truth(result: SimulationResult, replication: int | None = None) -> pd.DataFrame:
    """What an MMM fitted to the dataset should find, per channel, and how far the replications let one tell it.

    Parameters
    ----------
    result : SimulationResult
        Simulated with ``incrementality=True``.
    replication : int, optional
        One replication (the dataset's, for :func:`mmm_frame`); default the mean over replications.

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``spend`` (delivered), ``incremental_conversions`` (customers won),
        ``incremental_revenue`` (of every purchase; with repeat purchases, ``incremental_purchases`` too),
        ``roas`` (incremental revenue per dollar delivered) and ``marginal_roas`` (the revenue of the plan's last
        5% per dollar; NaN where it could not be delivered), each of ``replication``
        (or their mean). For ``roas`` and ``marginal_roas``, over every replication of the result whatever
        ``replication`` is: ``<figure>_mean``, ``<figure>_low`` and ``<figure>_high`` (the mean and the interval
        holding 90% of the replications: how far the figure moves from one simulated market to the next) and
        ``<figure>_distinguishable`` (False where that interval holds 0: the replications cannot tell the figure
        from zero). With fewer than two replications that define a figure there is no interval: its bounds are
        NaN and ``_distinguishable`` is missing (``pd.NA``; null in JSON).

    Raises
    ------
    InputError
        If the truth was not measured, or ``replication`` is out of range.
    """
    inc = result.incrementality
    if inc is None:
        raise InputError("the truth was not measured: simulate with incrementality=True")
    rows = slice(None) if replication is None else [replication]
    if replication is not None and not 0 <= replication < result.replications:
        raise InputError(f"replication must be in [0, {result.replications}) (got {replication})")
    spend = np.stack([run.spend for run in result.runs])
    columns: dict[str, Any] = {
        "channel": list(result.channels),
        "spend": spend[rows].mean(axis=0),
        "incremental_conversions": inc.conversions[rows].mean(axis=0),
        "incremental_revenue": inc.revenue[rows].mean(axis=0),
    }
    if result.scenario.repeats and inc.purchases is not None:  # customers won, and every purchase
        columns["incremental_purchases"] = inc.purchases[rows].mean(axis=0)
    for name, values in (("roas", inc.roas), ("marginal_roas", inc.marginal_roas)):
        columns[name] = _nanmean(values[rows])
        columns.update(_spread(name, values))
    return pd.DataFrame(columns)


def _spread(name: str, values: np.ndarray) -> dict[str, Any]:
    """Mean and 90% interval over replications (rows) of each channel's figure, and whether the interval leaves
    out zero; no interval (NaN bounds, a missing flag) where fewer than two replications define the figure."""
    mean, low, high = interval(values)
    defined = np.isfinite(values).sum(axis=0) >= 2
    low, high = np.where(defined, low, np.nan), np.where(defined, high, np.nan)
    clear = pd.array(~((low <= 0) & (high >= 0)), dtype="boolean")
    clear[~defined] = pd.NA
    return {
        f"{name}_mean": mean,
        f"{name}_low": low,
        f"{name}_high": high,
        f"{name}_distinguishable": clear,
    }


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Column means ignoring NaN; NaN where a column has no number."""
    counts = np.isfinite(values).sum(axis=0)
    sums = np.where(np.isfinite(values), values, 0.0).sum(axis=0)
    out = np.full(counts.shape, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


@dataclass(frozen=True)
class MMMDataset:
    """A marketing-mix dataset with its truth: what ``mixsim export-mmm`` writes, from :func:`mmm_dataset`.

    Attributes
    ----------
    data : pandas.DataFrame
        The table an MMM reads (:func:`mmm_frame` without the truth columns).
    truth : pandas.DataFrame
        ``date`` and, per channel, its true incremental conversions and revenue in each period.
    channels : pandas.DataFrame
        What an MMM fitted to the data should find per channel over the run (:func:`mmm_truth` of the dataset's
        replication): the dataset's own figures, and for its ROAS and marginal ROAS the mean and 90% interval
        over every replication simulated, flagged where that interval cannot tell the figure from zero.
    summary : dict
        How the dataset was made (scenario, ``simulated``: the stretched scenario's name, file, overrides, seed,
        replications, weeks, freq, start, variation, dark, order value, version) and, under ``channels``, the rows
        of :attr:`channels`; JSON-ready.
    """

    data: pd.DataFrame = field(repr=False)
    truth: pd.DataFrame = field(repr=False)
    channels: pd.DataFrame = field(repr=False)
    summary: dict[str, Any] = field(repr=False)

    @property
    def seed(self) -> int:
        """Root seed of the stretch and of the simulation."""
        return int(self.summary["seed"])

    @property
    def replications(self) -> int:
        """Replications simulated: the first is the dataset; all of them give the intervals of its ROAS figures."""
        return int(self.summary["replications"])

    @property
    def version(self) -> str:
        """The mixsim version that simulated the data."""
        return str(self.summary["version"])

    def to_frame(self, table: str = "data") -> pd.DataFrame:
        """One of the tables: ``data`` (:attr:`data`), ``truth`` (:attr:`truth`) or ``channels`` (:attr:`channels`).

        Raises
        ------
        InputError
            If ``table`` is not one of :data:`MMM_TABLES`.
        """
        check_table(table, MMM_TABLES)
        frame: pd.DataFrame = getattr(self, table)
        return frame.copy()

    def to_json(self, indent: int | None = 2) -> str:
        """The summary as one JSON object (undefined figures, such as a marginal ROAS that could not be measured,
        are ``null``)."""
        return json.dumps(self.summary, indent=indent, allow_nan=False)

    def _repr_html_(self) -> str:
        s = self.summary
        unit = "weeks" if s["freq"] == "W" else "days"
        spread = (
            f"ROAS intervals over {self.replications} replications (the first is the dataset)"
            if self.replications > 1
            else "one replication: the ROAS figures have no interval"
        )
        return summary_html(
            f"MMM dataset: {s['scenario']}",
            [f"{len(self.data)} {unit} from {s['start']}, {len(self.channels)} channels, seed {s['seed']}", spread],
            [("What an MMM should find, per channel", self.channels), ("Dataset", self.data)],
        )


def mmm_dataset(
    result: SimulationResult,
    scenario: Scenario,
    *,
    weeks: int,
    variation: float,
    dark: float,
    freq: str = "W",
    start: str | dt.date = DEFAULT_START,
    overrides: Sequence[str] = (),
) -> MMMDataset:
    """A simulated MMM stretch as the dataset, its truth per period and a summary: the files of a study.

    Parameters
    ----------
    result : SimulationResult
        The simulation of ``mmm_scenario(scenario, weeks, variation=variation, dark=dark, seed=seed)`` with
        ``incrementality=True``; its first replication is the dataset, and every replication gives the intervals
        of the ROAS figures in :attr:`MMMDataset.channels`.
    scenario : Scenario
        The scenario that was stretched; its name and file are recorded.
    weeks, variation, dark : int, float, float
        The stretch's settings, recorded in the summary (``weeks`` must match the result's horizon).
    freq : {"W", "D"}, default="W"
        Weekly or daily rows (see :func:`mmm_frame`).
    start : str or datetime.date, default="2024-01-01"
        Date of day 0.
    overrides : sequence of str, optional
        The ``dotted.key=VALUE`` overrides the scenario was loaded with, recorded.

    Returns
    -------
    MMMDataset

    Raises
    ------
    InputError
        If the truth was not measured, ``freq`` or ``start`` is not valid, or ``weeks`` is not the result's horizon.
    """
    horizon = result.scenario.horizon_days
    if weeks * 7 != horizon:
        raise InputError(f"weeks must be the result's horizon in weeks (got {weeks} weeks for {horizon} days)")
    frame = mmm_frame(result, freq, start=start, truth=True)
    truth_columns = [c for c in frame.columns if c.endswith(TRUTH_SUFFIXES)]
    channels = mmm_truth(result, replication=0)
    summary = {
        "scenario": scenario.name,
        "simulated": result.scenario.name,
        "source": scenario.source,
        "overrides": list(overrides),
        "seed": result.seed,
        "replications": result.replications,
        "weeks": weeks,
        "freq": freq,
        "start": start if isinstance(start, str) else start.isoformat(),
        "variation": variation,
        "dark": dark,
        "order_value": scenario.economics.order_value,
        "version": result.version,
        "channels": {row.pop("channel"): row for row in json_records(channels)},
    }
    return MMMDataset(
        data=frame.drop(columns=truth_columns),
        truth=frame[["date", *truth_columns]],
        channels=channels,
        summary=summary,
    )
