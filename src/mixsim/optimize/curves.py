"""Response curves: each channel's incremental revenue as a function of its spend.

A curve is measured by simulation (:func:`response_curves`: a grid of spend levels per channel, the other
channels held at the plan, common random numbers across levels), read from a CSV exported by another tool
(:func:`read_curves`), or built from Hill parameters. The optimizer only needs to evaluate a curve and its
slope; a :class:`CurveSet` carries the curves with what turns revenue into conversions and profit.

The Hill curve is ``ymax * s**slope / (half_saturation**slope + s**slope)``: concave for ``slope <= 1``,
S-shaped above.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import io
import json
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.errors import ScenarioError
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, Task, root_seed, run_tasks
from mixsim.tables import interval, json_records

__all__ = [
    "DEFAULT_LEVELS",
    "CurveSet",
    "Hill",
    "ResponseCurve",
    "curve_run_count",
    "fit_hill",
    "read_curves",
    "response_curves",
]

DEFAULT_LEVELS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
"""Spend levels of a measured curve, as multiples of the channel's reference spend (its spend in the plan)."""


@dataclass(frozen=True)
class Hill:
    """A saturating response curve ``ymax * s**slope / (half_saturation**slope + s**slope)``.

    Parameters
    ----------
    ymax : float
        The response the channel approaches as spend grows without bound.
    half_saturation : float
        The spend at which the response is half of ``ymax``.
    slope : float
        Shape: concave for ``slope <= 1``, S-shaped above 1.
    """

    ymax: float
    half_saturation: float
    slope: float

    def __call__(self, spend: np.ndarray | float) -> np.ndarray:
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        ratio = (s / self.half_saturation) ** self.slope
        return self.ymax * ratio / (1.0 + ratio)

    def derivative(self, spend: np.ndarray | float) -> np.ndarray:
        """The slope of the curve: extra response per extra unit of spend."""
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (s / self.half_saturation) ** self.slope
            d = self.ymax * self.slope * ratio / (s * (1.0 + ratio) ** 2)
        at_zero = self.ymax / self.half_saturation if self.slope == 1 else (math.inf if self.slope < 1 else 0.0)
        return np.where(s > 0, d, at_zero)


@dataclass(frozen=True)
class ResponseCurve:
    """One channel's incremental revenue against its spend.

    Attributes
    ----------
    channel : str
        The channel (or, more generally, the decision) this curve prices.
    spend, revenue : ndarray
        Measured or supplied points, spend ascending, starting at 0.
    revenue_low, revenue_high : ndarray
        90% interval of the revenue at each point (equal to ``revenue`` when not measured by simulation).
    hill : Hill or None
        The fitted or supplied Hill curve; when present the optimizer uses it, otherwise the points
        interpolated linearly.
    max_spend : float
        The largest spend the curve speaks for; the optimizer never goes past it.
    min_spend : float
        Minimum buy if the channel is used at all (0: none).
    fixed_cost : float
        Paid once if the channel is used at all.
    current : float
        The channel's spend in the current plan (0 when unknown).
    fit_rmse, fit_r2 : float
        Root-mean-square error and R^2 of the Hill fit against the points (NaN when not fitted).
    planned : ndarray
        For a measured curve, the spend planned at each point; ``spend`` is what was actually delivered (a
        frequency cap or a small audience can leave planned spend unspent, and money not spent buys nothing).
    """

    channel: str
    spend: np.ndarray
    revenue: np.ndarray
    revenue_low: np.ndarray
    revenue_high: np.ndarray
    hill: Hill | None
    max_spend: float
    min_spend: float = 0.0
    fixed_cost: float = 0.0
    current: float = 0.0
    fit_rmse: float = math.nan
    fit_r2: float = math.nan
    planned: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __call__(self, spend: np.ndarray | float) -> np.ndarray:
        """Incremental revenue at ``spend`` (the Hill curve if any, else the points interpolated); flat past
        ``max_spend``, where the channel cannot spend more."""
        if self.hill is not None:
            return self.hill(np.minimum(spend, self.max_spend))
        return np.interp(np.asarray(spend, dtype=float), self.spend, self.revenue)

    def to_book(self, spend: float) -> float:
        """The spend to plan (book) for the channel to deliver ``spend``.

        Interpolated over the measured points (planned against delivered); equal to ``spend`` for curves that
        were not measured, and where the channel delivered everything it was given.
        """
        if len(self.planned) != len(self.spend) or len(self.spend) < 2 or spend <= 0:
            return float(spend)
        delivered = np.maximum.accumulate(self.spend)  # points in planned order; delivery never falls back
        # The first point that delivers the spend, or all but a hair of it: past there, more booked buys nothing.
        i = int(np.searchsorted(delivered, spend * (1 - _BOOK_TOLERANCE), side="left"))
        if i >= len(delivered):
            return float(self.planned[-1])
        if i == 0 or delivered[i] <= spend:
            return float(self.planned[i])
        share = (spend - delivered[i - 1]) / (delivered[i] - delivered[i - 1])
        return float(self.planned[i - 1] + share * (self.planned[i] - self.planned[i - 1]))

    def marginal(self, spend: np.ndarray | float) -> np.ndarray:
        """Revenue of the next dollar at ``spend`` (for points: the slope of the segment the dollar falls in);
        0 at and past ``max_spend``."""
        if self.hill is not None:
            s = np.asarray(spend, dtype=float)
            slope = self.hill.derivative(s)
            if self.hill.slope < 1:
                # The Hill slope is infinite at 0 when its shape is below 1: report the first dollars' average.
                tiny = 1e-3 * min(self.hill.half_saturation, self.max_spend)
                slope = np.where(s > 0, slope, self.hill(tiny) / tiny if tiny > 0 else 0.0)
            return np.where(s < self.max_spend * (1 - 1e-9), slope, 0.0)
        slopes = np.diff(self.revenue) / np.diff(self.spend)
        k = np.clip(np.searchsorted(self.spend, np.asarray(spend, dtype=float), side="right") - 1, 0, len(slopes) - 1)
        return np.where(np.asarray(spend) >= self.max_spend, 0.0, slopes[k])

    @property
    def shape(self) -> str:
        """``"concave"`` or ``"s-shaped"`` (slopes that rise before they fall need binaries in the program)."""
        if self.hill is not None:
            return "s-shaped" if self.hill.slope > 1 + 1e-9 else "concave"
        slopes = np.diff(self.revenue) / np.diff(self.spend)
        return "s-shaped" if np.any(np.diff(slopes) > 1e-9 * max(1.0, float(np.abs(slopes).max()))) else "concave"


@dataclass(frozen=True)
class CurveSet:
    """Response curves for a set of channels, and what turns their revenue into conversions and profit.

    Attributes
    ----------
    curves : tuple of ResponseCurve
        One per channel, in channel order.
    order_value : float
        Revenue per conversion (NaN when unknown: objectives in conversions are then unavailable).
    margin : float
        Gross margin on revenue, for the profit objective.
    source : str
        Where the curves come from (a scenario and seed, or a file).
    seed : int or None
        Root seed of the simulation that measured them.
    replications : int
        Replications per spend level (0 for curves read from a file).
    version : str
        mixsim version that produced them.
    plan_revenue, plan_conversions : float
        Total revenue and conversions simulated at the plan the curves were measured around (NaN for curves
        read from a file): with the curves, what a new plan's totals are projected from.
    """

    curves: tuple[ResponseCurve, ...]
    order_value: float = math.nan
    margin: float = 1.0
    source: str = ""
    seed: int | None = None
    replications: int = 0
    version: str = __version__
    plan_revenue: float = math.nan
    plan_conversions: float = math.nan

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c.channel for c in self.curves)

    def curve(self, channel: str) -> ResponseCurve:
        for c in self.curves:
            if c.channel == channel:
                return c
        raise KeyError(f"no curve for channel {channel!r}; curves are for {', '.join(self.channels)}")

    @property
    def current(self) -> dict[str, float]:
        """The current plan: spend per channel."""
        return {c.channel: c.current for c in self.curves}

    def _repr_html_(self) -> str:
        return summary_html(
            f"Response curves: {self.source}",
            [f"{len(self.curves)} channels, {self.replications} replications per level; revenue is incremental"],
            [("Fits", self.to_frame("fits"))],
        )

    def to_frame(self, table: str = "points") -> pd.DataFrame:
        """A tidy table: ``"points"`` (one row per channel and spend level) or ``"fits"`` (one row per channel).

        Revenue and conversions are incremental: the difference the channel's spend makes against the channel
        off, the other channels as planned.
        """
        ov = self.order_value
        if table == "points":
            rows = []
            for c in self.curves:
                planned = c.planned if len(c.planned) == len(c.spend) else c.spend
                for i, s in enumerate(c.spend):
                    rows.append(
                        {
                            "channel": c.channel,
                            "spend": float(s),
                            "planned": float(planned[i]),
                            "revenue": float(c.revenue[i]),
                            "revenue_low": float(c.revenue_low[i]),
                            "revenue_high": float(c.revenue_high[i]),
                            "conversions": float(c.revenue[i] / ov),
                            "conversions_low": float(c.revenue_low[i] / ov),
                            "conversions_high": float(c.revenue_high[i] / ov),
                            "fitted_revenue": float(c(s)),
                        }
                    )
            return pd.DataFrame(rows)
        if table == "fits":
            rows = []
            for c in self.curves:
                at = min(c.current, c.max_spend)  # a plan past what the channel can deliver spends its maximum
                rows.append(
                    {
                        "channel": c.channel,
                        "ymax": c.hill.ymax if c.hill else math.nan,
                        "half_saturation": c.hill.half_saturation if c.hill else math.nan,
                        "slope": c.hill.slope if c.hill else math.nan,
                        "shape": c.shape,
                        "fit_rmse": c.fit_rmse,
                        "fit_r2": c.fit_r2,
                        "min_spend": c.min_spend,
                        "max_spend": c.max_spend,
                        "fixed_cost": c.fixed_cost,
                        "current_spend": at,
                        "revenue_at_current": float(c(at)),
                        "roas_at_current": float(c(at)) / at if at > 0 else math.nan,
                        "marginal_roas_at_current": float(c.marginal(at)),
                    }
                )
            return pd.DataFrame(rows)
        raise ValueError(f"unknown table {table!r}; choose 'points' or 'fits'")

    def to_json(self, indent: int | None = 2) -> str:
        """The curves and their fits as JSON (undefined figures are null)."""
        doc: dict[str, Any] = {
            "source": self.source,
            "seed": self.seed,
            "replications": self.replications,
            "version": self.version,
            "order_value": self.order_value if math.isfinite(self.order_value) else None,
            "margin": self.margin,
            "fits": json_records(self.to_frame("fits")),
            "points": json_records(self.to_frame("points")),
        }
        return json.dumps(doc, indent=indent)


def fit_hill(spend: np.ndarray, response: np.ndarray) -> tuple[Hill, float, float]:
    """Least-squares Hill fit to measured points.

    Parameters
    ----------
    spend, response : ndarray
        The points (spend >= 0).

    Returns
    -------
    (Hill, rmse, r2)
        The fitted curve, its root-mean-square error on the points and its R^2 (NaN when the points are flat).
    """
    spend = np.asarray(spend, dtype=float)
    response = np.asarray(response, dtype=float)
    top = float(np.max(response))
    reach = float(np.max(spend))
    if top <= 0 or reach <= 0:
        # No measurable effect: a flat curve is the honest fit.
        flat = Hill(0.0, max(reach, 1.0), 1.0)
        return flat, float(np.sqrt(np.mean(response**2))), math.nan

    def model(s: np.ndarray, ymax: float, half: float, slope: float) -> np.ndarray:
        ratio = (np.maximum(s, 0.0) / half) ** slope
        return ymax * ratio / (1.0 + ratio)

    best: tuple[float, np.ndarray] | None = None
    # Several starting shapes: the least-squares surface has flat valleys between ymax and half-saturation.
    for start_slope in (1.0, 2.0, 0.7):
        p0 = (2.0 * top, reach / 2.0, start_slope)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            try:
                params, _ = curve_fit(
                    model,
                    spend,
                    response,
                    p0=p0,
                    bounds=([0.0, reach * 1e-4, 0.3], [top * 50.0, reach * 50.0, 5.0]),
                    maxfev=20_000,
                )
            except RuntimeError:
                continue
        sse = float(np.sum((model(spend, *params) - response) ** 2))
        if best is None or sse < best[0]:
            best = (sse, params)
    if best is None:
        raise RuntimeError("the Hill fit did not converge")
    sse, params = best
    hill = Hill(float(params[0]), float(params[1]), float(params[2]))
    rmse = math.sqrt(sse / len(spend))
    total = float(np.sum((response - response.mean()) ** 2))
    r2 = 1.0 - sse / total if total > 0 else math.nan
    return hill, rmse, r2


_BOOK_TOLERANCE = 1e-3
"""Delivered spends closer than this share are the same: a level that adds less bought nothing more."""


def _reference(scenario: Scenario, plan: dict[str, float], budget: float | None) -> dict[str, float]:
    """The spend a channel's levels are multiples of: its planned spend, or an even share of the budget."""
    share = (scenario.budget_total if budget is None else budget) / len(scenario.channels)
    return {name: (plan[name] if plan[name] > 0 else share) for name in scenario.channel_names}


def curve_run_count(scenario: Scenario, replications: int, levels: Sequence[float] = DEFAULT_LEVELS) -> int:
    """How many engine runs :func:`response_curves` makes around the scenario's plan (for a progress bar)."""
    grid = {0.0, *(float(m) for m in levels)}
    at_plan = sum(c.spend > 0 and 1.0 in grid for c in scenario.channels)
    return replications * (1 + len(scenario.channels) * len(grid) - at_plan)


def response_curves(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replications: int = 5,
    levels: Sequence[float] = DEFAULT_LEVELS,
    around: dict[str, float] | None = None,
    budget: float | None = None,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> CurveSet:
    """Measure every channel's response curve by simulation.

    For each channel and level ``m``, the scenario is simulated with the channel at ``m`` times its reference
    spend and every other channel as planned; the curve is the difference in revenue against the channel off.
    Every level of a replication uses the same random numbers (common random numbers), so the differences
    between levels are the channel's effect rather than noise.

    Parameters
    ----------
    scenario : Scenario
        The scenario; its channel spends are the plan unless ``around`` is given.
    seed : int, optional
        Root seed; default the scenario's ``seed``, else 0.
    replications : int, default=5
        Replications per level; the curve is their mean, with a 90% interval.
    levels : sequence of float, default=DEFAULT_LEVELS
        Spend levels as multiples of the reference spend (the channel's planned spend, or an even share of
        the budget for a channel planned at 0). 0 is always measured.
    around : dict of str to float, optional
        Measure around this plan instead of the scenario's (the optimizer re-measures around its own plan).
    budget : float, optional
        The budget a channel planned at 0 gets an even share of, as its reference; default the scenario's.
    workers : int, default=1
        Worker processes.
    executor : concurrent.futures.Executor, optional
        Run on this executor instead.
    progress : callable, optional
        ``progress(done, total)`` after each run.

    Returns
    -------
    CurveSet
        Curves with Hill fits against the spend actually delivered (mean over replications); the most a
        channel delivered is its maximum spend, so a plan never counts on spend the audience cannot absorb.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> curves = mixsim.response_curves(scenario, seed=1, replications=1, levels=(0, 0.5, 1, 2))
    >>> curves.channels == scenario.channel_names
    True
    >>> list(curves.to_frame("fits")["channel"]) == list(scenario.channel_names)
    True
    """
    if replications < 1:
        raise ValueError(f"replications must be >= 1 (got {replications})")
    grid = sorted({0.0, *(float(m) for m in levels)})
    if grid[0] < 0 or len(grid) < 3:
        raise ValueError(f"levels must be >= 0 with at least two above 0 (got {list(levels)})")
    seed = root_seed(scenario, seed)
    plan = {c.name: c.spend for c in scenario.channels}
    if around:
        plan.update(around)
    planned = scenario.with_spend(plan)
    ref = _reference(planned, plan, budget)
    seeds = np.random.SeedSequence(seed).spawn(replications)

    # A level equal to the plan is the plan's own run: reuse it rather than simulate it again.
    tasks = [Task(r) for r in range(replications)]
    slot: dict[tuple[int, str, int], int] = {}
    for r in range(replications):
        for name in planned.channel_names:
            for j, m in enumerate(grid):
                if math.isclose(m * ref[name], plan[name], rel_tol=1e-12, abs_tol=1e-9):
                    slot[r, name, j] = r
                else:
                    slot[r, name, j] = len(tasks)
                    tasks.append(Task(r, ((name, m * ref[name]),)))
    records = run_tasks(planned, seeds, tasks, workers, executor, progress)

    value = planned.economics.order_value
    curves = []
    for k, name in enumerate(planned.channel_names):
        conv = np.empty((replications, len(grid)))
        delivered = np.empty((replications, len(grid)))
        for (r, channel_name, j), i in slot.items():
            if channel_name == name:
                conv[r, j] = records[i].conversions
                delivered[r, j] = records[i].spend[k]
        revenue = (conv - conv[:, :1]) * value
        mean, low, high = interval(revenue)
        spend = delivered.mean(axis=0)
        # Levels past what the channel can deliver all spend the same: keep the first of them (the rest bought
        # nothing more), so the points are a function of spend.
        keep = np.concatenate([[True], np.diff(spend) > _BOOK_TOLERANCE * max(float(spend.max()), 1.0)])
        spend, mean, low, high = spend[keep], mean[keep], low[keep], high[keep]
        hill: Hill | None = None
        rmse = r2 = math.nan
        if len(spend) >= 4:  # three parameters need three points besides the origin
            try:
                hill, rmse, r2 = fit_hill(spend, mean)
            except RuntimeError:
                hill = None  # the points, interpolated, are then the curve
        channel = planned.channel(name)
        curves.append(
            ResponseCurve(
                channel=name,
                spend=spend,
                revenue=mean,
                revenue_low=low,
                revenue_high=high,
                hill=hill,
                max_spend=float(spend.max()),
                min_spend=channel.min_spend,
                fixed_cost=channel.fixed_cost,
                current=plan[name],
                fit_rmse=rmse,
                fit_r2=r2,
                planned=(np.array(grid) * ref[name])[keep],
            )
        )
    source = f"simulation of {planned.source or planned.name}"
    at_plan = float(np.mean([record.conversions for record in records[:replications]]))
    return CurveSet(
        curves=tuple(curves),
        order_value=value,
        margin=planned.economics.margin,
        source=source,
        seed=seed,
        replications=replications,
        plan_revenue=at_plan * value,
        plan_conversions=at_plan,
    )


_POINTS = ("channel", "spend", "response")
_HILL = ("channel", "ymax", "half_saturation", "slope")
_HILL_OPTIONAL = ("min_spend", "max_spend", "fixed_cost", "current")


def read_curves(
    path: str | os.PathLike[str],
    *,
    order_value: float = math.nan,
    margin: float = 1.0,
    current: dict[str, float] | None = None,
) -> CurveSet:
    """Read response curves from a CSV file.

    Two layouts are accepted, told apart by the header:

    - measured points, columns ``channel,spend,response`` (one row per point; a channel needs two points or
      more). The points are interpolated linearly, never extrapolated: the last point is the channel's
      maximum spend. A channel without a point at spend 0 is taken to respond 0 there.
    - Hill parameters, columns ``channel,ymax,half_saturation,slope`` and optionally ``min_spend``,
      ``max_spend``, ``fixed_cost`` and ``current`` (the channel's spend in the current plan).

    ``response`` is incremental revenue (or any value per the same currency as spend).

    Parameters
    ----------
    path : path-like
        The CSV file.
    order_value : float, optional
        Revenue per conversion, for objectives counted in conversions.
    margin : float, default=1.0
        Gross margin on revenue, for the profit objective.
    current : dict of str to float, optional
        The current plan, for changes and ``--max-change``.

    Raises
    ------
    ScenarioError
        Naming the file, row and column of every problem found.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError([f"{where}: cannot read the curves file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{where}: is not UTF-8 text (save it as CSV UTF-8)"]) from None
    return parse_curves(text, source=where, order_value=order_value, margin=margin, current=current)


def parse_curves(
    text: str,
    *,
    source: str = "<curves>",
    order_value: float = math.nan,
    margin: float = 1.0,
    current: dict[str, float] | None = None,
) -> CurveSet:
    """Parse the CSV text of :func:`read_curves` (same rules, same errors)."""
    numbered = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1) if any(c.strip() for c in r)]
    rows = [r for _, r in numbered]
    if not rows:
        raise ScenarioError([f"{source}: the curves file is empty (expected a header row)"])
    header = [h.strip().lower() for h in rows[0]]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    if all(h in header for h in _POINTS):
        layout, required, optional = "points", _POINTS, ()
    elif all(h in header for h in _HILL):
        layout, required, optional = "hill", _HILL, _HILL_OPTIONAL
    else:
        raise ScenarioError(
            [
                f"{source}: header: expected columns {','.join(_POINTS)} (measured points) or "
                f"{','.join(_HILL)}[,{','.join(_HILL_OPTIONAL)}] (Hill parameters) (got {','.join(header)})"
            ]
        )
    unknown = [h for h in header if h not in required + optional]
    problems = [f"{source}: header: unknown column {h!r}" for h in unknown]
    col = {h: header.index(h) for h in required + optional if h in header}
    numeric = [h for h in col if h != "channel"]
    parsed: list[tuple[int, str, dict[str, float]]] = []
    problems += [
        f"{source}: header: column {h!r} appears twice" for h in sorted({h for h in header if header.count(h) > 1})
    ]
    for line, row in numbered[1:]:
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            problems.append(f"{source}: row {line}: has {len(row)} cells but the header has {len(header)}")
            continue
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        name = cells[col["channel"]]
        if not name:
            problems.append(f"{source}: row {line}: channel: must not be empty")
            continue
        values: dict[str, float] = {}
        for h in numeric:
            cell = cells[col[h]]
            if cell == "" and h in optional:
                continue
            try:
                number = float(cell)
            except ValueError:
                problems.append(f"{source}: row {line}: {h}: must be a number (got {cell!r})")
                continue
            if not math.isfinite(number) or number < 0:
                problems.append(f"{source}: row {line}: {h}: must be a finite number >= 0 (got {cell})")
                continue
            values[h] = number
        if layout == "hill":
            if values.get("half_saturation", 1.0) <= 0:
                problems.append(f"{source}: row {line}: half_saturation: must be > 0 (got {values['half_saturation']})")
            if values.get("slope", 1.0) <= 0:
                problems.append(f"{source}: row {line}: slope: must be > 0 (got {values['slope']})")
        parsed.append((line, name, values))

    curves: list[ResponseCurve] = []
    names = list(dict.fromkeys(name for _, name, _ in parsed))
    current = dict(current or {})
    for name in names:
        mine = [(line, v) for line, n, v in parsed if n == name]
        if layout == "points":
            if len(mine) < 2:
                problems.append(f"{source}: channel {name}: needs at least two points (got {len(mine)})")
                continue
            if any("spend" not in point or "response" not in point for _, point in mine):
                continue
            pts = sorted((point["spend"], point["response"]) for _, point in mine)
            xs = np.array([p[0] for p in pts])
            if np.any(np.diff(xs) == 0):
                problems.append(f"{source}: channel {name}: spend: each spend must appear once")
                continue
            ys = np.array([p[1] for p in pts])
            if xs[0] > 0:
                xs, ys = np.concatenate([[0.0], xs]), np.concatenate([[0.0], ys])
            curves.append(
                ResponseCurve(name, xs, ys, ys, ys, None, max_spend=float(xs[-1]), current=current.get(name, 0.0))
            )
        else:
            if len(mine) > 1:
                problems.append(f"{source}: channel {name}: appears on rows {', '.join(str(li) for li, _ in mine)}")
                continue
            line, v = mine[0]
            if any(h not in v for h in _HILL[1:]) or v["half_saturation"] <= 0 or v["slope"] <= 0:
                continue
            hill = Hill(v["ymax"], v["half_saturation"], v["slope"])
            top = v.get("max_spend", math.inf)
            if v.get("min_spend", 0.0) > top:
                problems.append(
                    f"{source}: row {line}: min_spend: must not exceed max_spend ({v['min_spend']} > {top})"
                )
                continue
            grid = np.linspace(0.0, top if math.isfinite(top) else 4 * v["half_saturation"], 9)
            ys = hill(grid)
            curves.append(
                ResponseCurve(
                    name,
                    grid,
                    ys,
                    ys,
                    ys,
                    hill,
                    max_spend=top,
                    min_spend=v.get("min_spend", 0.0),
                    fixed_cost=v.get("fixed_cost", 0.0),
                    current=v.get("current", current.get(name, 0.0)),
                )
            )
    if not parsed and not problems:
        problems.append(f"{source}: no curves (the file has a header and no rows)")
    if problems:
        raise ScenarioError(problems)
    return CurveSet(curves=tuple(curves), order_value=order_value, margin=margin, source=source)
