"""Results of simulations: per-replication records summarised as means and 90% intervals.

A :class:`SimulationResult` holds every replication's raw record and derives everything else from them, so
nothing is stored twice. Each figure is summarised as its mean over replications and the 90% interval of the
replications (the 5th and 95th percentiles): the range within which nine simulated outcomes in ten fall.
Counts and money are the whole market's (``scenario.represents`` customers), as the engine records them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim.engine import RunRecord
from mixsim.engine.population import CONVERTED
from mixsim.engine.run import DAY_BIN_WIDTH, touch_labels
from mixsim.errors import InputError
from mixsim.research.journeys import Journeys
from mixsim.research.mmm import DEFAULT_START, mmm_frame
from mixsim.scenario import STAGES, Scenario, describe_population
from mixsim.tables import check_table, interval
from mixsim.value import future_value

KPIS: tuple[str, ...] = ("conversions", "revenue", "spend", "profit", "roi", "roas", "cac")
"""Headline figures, in report order."""
REPEAT_KPIS: tuple[str, ...] = ("purchases", "repeat_purchases", "revenue_new", "revenue_repeat", "cost_per_purchase")
"""Headline figures added when customers buy again or lapse (``Scenario.repeats``), and ``future_value`` when the
scenario values the customers active at the end (``economics.future_value = "expected"``)."""

CHANNEL_METRICS: tuple[str, ...] = (
    "spend",
    "unspent",
    "fixed_cost",
    "exposures",
    "reach",
    "frequency",
    "first_touch",
    "last_touch",
    "linear",
)
INCREMENTAL_METRICS: tuple[str, ...] = ("conversions", "revenue", "roas", "marginal_roas")
TABLES: tuple[str, ...] = ("kpis", "channels", "final_stages", "daily", "touchpoints", "days_to_conversion", "runs")
"""Tables :meth:`SimulationResult.to_frame` can return for every scenario."""
REPEAT_TABLES: tuple[str, ...] = ("retention",)
"""Tables added when customers buy again or lapse (:attr:`SimulationResult.tables`); ``to_frame`` gives them for
any scenario."""


def _figure(values: np.ndarray) -> dict[str, Any]:
    mean, low, high = interval(values)
    return {"mean": _plain(mean), "ci90": [_plain(low), _plain(high)]}


def _plain(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


@dataclass(frozen=True)
class Incrementality:
    """True incremental effect of each channel, per replication (shape (replications, channels)).

    Measured by re-running each replication with the channel off, and with the channel at 95% of its planned
    spend, with the same random numbers. ``conversions`` counts customers won, ``purchases`` every purchase (first and
    repeat), and ``revenue`` is that of every purchase. ``roas`` is incremental revenue per dollar the channel
    delivered;
    ``marginal_roas`` the revenue the last 5% of the plan adds per dollar it delivered (undefined when that
    last 5% could not be delivered, e.g. under a frequency cap). ``daily_conversions`` (shape (replications, days,
    channels)) spreads each channel's incremental conversions over the days they happened on: the conversions of
    the day with the channel on minus those with it off (the effect of all its spend so far, carryover included).
    """

    conversions: np.ndarray
    revenue: np.ndarray
    roas: np.ndarray
    marginal_roas: np.ndarray
    daily_conversions: np.ndarray | None = None
    purchases: np.ndarray | None = None
    daily_purchases: np.ndarray | None = None


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of simulating one scenario over several replications.

    Attributes
    ----------
    scenario : Scenario
        The scenario simulated.
    seed : int
        Root seed; replication ``r`` used ``numpy.random.SeedSequence(seed).spawn(replications)[r]``.
    runs : tuple of RunRecord
        One raw record per replication.
    incrementality : Incrementality or None
        Ground truth per channel, when asked for.
    version : str
        The mixsim version that produced the result.
    """

    scenario: Scenario
    seed: int
    runs: tuple[RunRecord, ...] = field(repr=False)
    incrementality: Incrementality | None = field(default=None, repr=False)
    version: str = ""

    @property
    def replications(self) -> int:
        """Number of replications."""
        return len(self.runs)

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names, in scenario order."""
        return self.scenario.channel_names

    def to_mmm_frame(
        self, freq: str = "W", *, replication: int = 0, start: str | dt.date = DEFAULT_START, truth: bool = False
    ) -> pd.DataFrame:
        """One replication as a marketing-mix-model dataset; see :func:`mixsim.research.mmm.mmm_frame`.

        Examples
        --------
        >>> long = mixsim.research.mmm.mmm_scenario(scenario, weeks=104)  # doctest: +SKIP
        >>> data = mixsim.simulate(long, replications=1, incrementality=True).to_mmm_frame(truth=True)  # doctest: +SKIP
        """
        return mmm_frame(self, freq, replication=replication, start=start, truth=truth)

    def _repr_html_(self) -> str:
        sc = self.scenario
        channels = self.to_frame("channels").pivot(index="channel", columns="metric", values="mean")
        channels = channels.loc[list(self.channels)].reset_index()
        return summary_html(
            f"SimulationResult: {sc.name}",
            [
                f"{describe_population(sc)}, {sc.horizon_days} days, {self.replications} replications, "
                f"seed {self.seed}; [ci90_low, ci90_high] holds 90% of the simulated outcomes"
            ],
            [("KPIs", self.to_frame("kpis")), ("Channels (means)", channels)],
        )

    def journeys(self) -> Journeys:
        """The recorded customer journeys: touch, customer and path tables.

        Raises
        ------
        InputError
            If the simulation did not record journeys (``simulate(..., journeys=share)``).
        """
        journals = tuple(run.journal for run in self.runs if run.journal is not None)
        if len(journals) != len(self.runs):
            raise InputError("no journeys were recorded: simulate with journeys=share (e.g. 1.0 for everyone)")
        return Journeys(self.scenario, journals, seed=self.seed, version=self.version)

    def _stack(self, name: str) -> np.ndarray:
        return np.stack([getattr(run, name) for run in self.runs]).astype(float)

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables this result has something to say in: :data:`TABLES`, and :data:`REPEAT_TABLES` when
        customers buy again or lapse."""
        return (*TABLES, *REPEAT_TABLES) if self.scenario.repeats else TABLES

    def _incremental_metrics(self) -> tuple[str, ...]:
        """:data:`INCREMENTAL_METRICS`, and incremental ``purchases`` when customers buy again or lapse."""
        return (*INCREMENTAL_METRICS, "purchases") if self.scenario.repeats else INCREMENTAL_METRICS

    def fixed_costs(self) -> np.ndarray:
        """Fixed cost per channel, paid when the channel's planned spend is positive; shape (channels,)."""
        return np.array([c.fixed_cost if c.spend > 0 else 0.0 for c in self.scenario.channels])

    def channel_values(self) -> dict[str, np.ndarray]:
        """Per-channel figures per replication, each of shape (replications, channels)."""
        exposures, reach = self._stack("exposures"), self._stack("reach")
        values = {
            "spend": self._stack("spend"),
            "unspent": self._stack("unspent"),
            "fixed_cost": np.broadcast_to(self.fixed_costs(), exposures.shape),
            "exposures": exposures,
            "reach": reach,
            "frequency": _ratio(exposures, reach),
            "first_touch": self._stack("first_touch"),
            "last_touch": self._stack("last_touch"),
            "linear": self._stack("linear"),
        }
        return values

    def kpi_values(self) -> dict[str, np.ndarray]:
        """Headline figures per replication, each of shape (replications,).

        ``conversions`` counts customers won (their first purchase in the horizon); ``revenue`` is that of every
        purchase, first and repeat; ``spend`` is media spend delivered plus the fixed costs of the channels used;
        ``profit`` is revenue x margin - spend, ``roi`` = profit / spend, ``roas`` = revenue / spend, ``cac`` = spend /
        conversions (per customer won). When customers buy again or lapse (``Scenario.repeats``), also
        :data:`REPEAT_KPIS`: ``purchases`` (first and repeat), ``repeat_purchases``, ``revenue_new`` (first orders),
        ``revenue_repeat`` and ``cost_per_purchase`` (spend / purchases), and ``future_value`` (the customers active
        at the end times :func:`mixsim.value.future_value`) when the scenario values them.
        """
        sc = self.scenario
        econ = sc.economics
        conversions = np.array([run.conversions for run in self.runs], dtype=float)
        repeat = np.array([run.repeat_purchases for run in self.runs], dtype=float)
        revenue_new = conversions * econ.order_value
        revenue_repeat = repeat * sc.repeat_order_value
        revenue = revenue_new + revenue_repeat
        spend = self._stack("spend").sum(axis=1) + self.fixed_costs().sum()
        profit = revenue * econ.margin - spend
        values = {
            "conversions": conversions,
            "revenue": revenue,
            "spend": spend,
            "profit": profit,
            "roi": _ratio(profit, spend),
            "roas": _ratio(revenue, spend),
            "cac": _ratio(spend, conversions),
        }
        if sc.repeats:
            values.update(
                purchases=conversions + repeat,
                repeat_purchases=repeat,
                revenue_new=revenue_new,
                revenue_repeat=revenue_repeat,
                cost_per_purchase=_ratio(spend, conversions + repeat),
            )
            if econ.future_value == "expected":
                values["future_value"] = self._stack("daily_stages")[:, -1, CONVERTED] * future_value(sc)
        return values

    def repeat_values(self) -> dict[str, np.ndarray]:
        """Customers' figures per replication, each of shape (replications,): ``active_customers`` at the end,
        ``returning_customers`` (customers won who bought again), ``repeat_rate`` (their share of those won),
        ``mean_days_between`` purchases (of those who bought again: days from their first purchase to their latest,
        over their gaps between purchases; NaN when nobody bought again) and ``purchases_per_customer`` (purchases
        over customers won)."""
        conversions = np.array([run.conversions for run in self.runs], dtype=float)
        purchases = np.array([run.purchases for run in self.runs], dtype=float)
        stats = self._stack("repeat_stats")
        return {
            "active_customers": self._stack("daily_stages")[:, -1, CONVERTED],
            "returning_customers": stats[:, 0],
            "repeat_rate": _ratio(stats[:, 0], conversions),
            "mean_days_between": _ratio(stats[:, 1], stats[:, 2]),
            "purchases_per_customer": _ratio(purchases, conversions),
        }

    def retention(self) -> np.ndarray:
        """Share of first buyers still active ``k`` weeks after their first purchase, per replication and week,
        shape (replications, weeks): among the customers won at least ``7 k`` days before the horizon's last day,
        those who had not lapsed ``7 k`` days after being won (NaN where no customer was won early enough)."""
        counts = self._stack("retention")
        return _ratio(counts[:, 1, :], counts[:, 0, :])

    # ----------------------------------------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data (see :meth:`to_json`)."""
        stages = self._stack("daily_stages")[:, -1, :]
        channel_values = self.channel_values()
        channels: dict[str, Any] = {}
        for k, name in enumerate(self.channels):
            entry = {m: _figure(channel_values[m][:, k]) for m in CHANNEL_METRICS if m not in _ATTRIBUTION}
            entry["attributed"] = {m: _figure(channel_values[m][:, k]) for m in _ATTRIBUTION}
            if self.incrementality is not None:
                inc = self.incrementality
                entry["incremental"] = {m: _figure(getattr(inc, m)[:, k]) for m in self._incremental_metrics()}
            channels[name] = entry
        summary = {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seed": self.seed,
            "replications": self.replications,
            "version": self.version,
            "population": self.scenario.population,
            "represents": self.scenario.represents,
            "horizon_days": self.scenario.horizon_days,
            "final_stages": {stage: _figure(stages[:, s]) for s, stage in enumerate(STAGES)},
            "kpis": {k: _figure(v) for k, v in self.kpi_values().items()},
            "channels": channels,
            "touchpoints": {
                label: _figure(v) for label, v in zip(touch_labels(), self._stack("touchpoints").T, strict=True)
            },
            "days_to_conversion": {
                label: _figure(v)
                for label, v in zip(
                    _day_labels(self.scenario.horizon_days), self._stack("days_to_conversion").T, strict=True
                )
            },
        }
        if self.scenario.repeats:
            repeat: dict[str, Any] = {k: _figure(v) for k, v in self.repeat_values().items()}
            repeat["retention"] = {f"week {k}": _figure(v) for k, v in enumerate(self.retention().T)}
            summary["repeat"] = repeat
        return summary

    def to_json(self, indent: int | None = 2) -> str:
        """One JSON object: ``scenario`` (its name), ``source`` (the file it came from), ``seed``,
        ``replications``, ``version``, ``population`` (customers simulated) and ``represents`` (customers they stand
        for: the figures are theirs), ``horizon_days``, ``final_stages``, ``kpis``, ``channels`` (with
        ``attributed`` and, when measured, ``incremental``), ``touchpoints`` and ``days_to_conversion``; when
        customers buy again or lapse, ``repeat`` too (:meth:`repeat_values` and the retention by week).

        Every figure is ``{"mean": x, "ci90": [low, high]}``; undefined figures (e.g. ROAS of zero spend) are
        ``null``. The same seed gives byte-identical output.
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_frame(self, table: str = "kpis") -> pd.DataFrame:
        """One table of the result as a tidy DataFrame with ``mean``, ``ci90_low`` and ``ci90_high`` columns.

        Parameters
        ----------
        table : {"kpis", "channels", "final_stages", "daily", "touchpoints", "days_to_conversion", "runs", \
"retention"}
            ``channels`` has one row per (channel, metric); ``daily`` one row per (day, quantity) where quantity
            is a stage or ``spend:<channel>`` / ``exposures:<channel>``, and, when customers buy again or lapse,
            ``purchases``, ``new_customers`` and ``repeat_purchases`` of the day; ``runs`` has the raw
            per-replication KPIs (one row per replication) instead of summaries; ``retention`` one row per week
            ``k`` with the share of first buyers still active ``k`` weeks after their first purchase.

        Returns
        -------
        pandas.DataFrame
        """
        check_table(table, (*TABLES, *REPEAT_TABLES))
        if table == "runs":
            frame = pd.DataFrame(self.kpi_values())
            frame.index.name = "replication"
            return frame.reset_index()
        rows: list[tuple[Any, ...]] = []
        if table == "kpis":
            rows = [(k, *_stats(v)) for k, v in self.kpi_values().items()]
            keys = ["kpi"]
        elif table == "channels":
            values = self.channel_values()
            if self.incrementality is not None:
                for m in self._incremental_metrics():
                    values[f"incremental_{m}"] = getattr(self.incrementality, m)
            rows = [(c, m, *_stats(v[:, k])) for k, c in enumerate(self.channels) for m, v in values.items()]
            keys = ["channel", "metric"]
        elif table == "final_stages":
            final = self._stack("daily_stages")[:, -1, :]
            rows = [(s, *_stats(final[:, i])) for i, s in enumerate(STAGES)]
            keys = ["stage"]
        elif table == "daily":
            series = {s: self._stack("daily_stages")[:, :, i] for i, s in enumerate(STAGES)}
            spend, exposures = self._stack("daily_spend"), self._stack("daily_exposures")
            for k, c in enumerate(self.channels):
                series[f"spend:{c}"] = spend[:, :, k]
                series[f"exposures:{c}"] = exposures[:, :, k]
            if self.scenario.repeats:
                sales = np.diff(self._stack("daily_sales"), axis=1, prepend=0.0)
                series["purchases"] = sales.sum(axis=2)
                series["new_customers"] = sales[:, :, 0]
                series["repeat_purchases"] = sales[:, :, 1]
            for name, v in series.items():
                mean, low, high = interval(v)
                rows.extend((d, name, mean[d], low[d], high[d]) for d in range(v.shape[1]))
            keys = ["day", "quantity"]
        elif table == "retention":
            rows = [(k, *_stats(v)) for k, v in enumerate(self.retention().T)]
            keys = ["week"]
        elif table == "touchpoints":
            rows = [(b, *_stats(v)) for b, v in zip(touch_labels(), self._stack("touchpoints").T, strict=True)]
            keys = ["touchpoints"]
        else:
            labels = _day_labels(self.scenario.horizon_days)
            rows = [(b, *_stats(v)) for b, v in zip(labels, self._stack("days_to_conversion").T, strict=True)]
            keys = ["days"]
        return pd.DataFrame(rows, columns=[*keys, "mean", "ci90_low", "ci90_high"])


_ATTRIBUTION = ("first_touch", "last_touch", "linear")


def _stats(values: np.ndarray) -> tuple[float, float, float]:
    mean, low, high = interval(values)
    return float(mean), float(low), float(high)


def _day_labels(horizon_days: int) -> list[str]:
    n_bins = -(-horizon_days // DAY_BIN_WIDTH)
    return [f"{b * DAY_BIN_WIDTH}-{b * DAY_BIN_WIDTH + DAY_BIN_WIDTH - 1}" for b in range(n_bins)]
