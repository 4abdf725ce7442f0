"""Response curves, the model: each channel's incremental revenue as a function of its spend.

A :class:`ResponseCurve` is points (spend, revenue) with, where there are enough of them, a fitted :class:`Hill`
curve; a :class:`CurveSet` carries one per channel with what turns revenue into conversions and profit. The
optimizer only needs to evaluate a curve and its slope. Curves are measured by simulation in
:mod:`mixsim.optimizer.measure` and read from a user's CSV in :mod:`mixsim.optimizer.read`; this module neither
simulates nor reads files.

The Hill curve is ``ymax * s**slope / (half_saturation**slope + s**slope)``: concave for ``slope <= 1``,
S-shaped above.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.tables import check_table, json_records

__all__ = ["BOOK_TOLERANCE", "CurveSet", "Hill", "ResponseCurve", "fit_hill"]

BOOK_TOLERANCE = 1e-3
"""Delivered spends closer than this share are the same: a level that adds less bought nothing more."""


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

    def _ratio(self, s: np.ndarray) -> np.ndarray:
        """``(s / h)**slope`` or its inverse, whichever is at most 1: the curve is computed from it, so that no
        power overflows (``(s / h)**slope`` far past the bend would be inf, and inf / inf is NaN)."""
        h = self.half_saturation
        with np.errstate(divide="ignore", over="ignore", under="ignore"):
            return (np.minimum(s, h) / np.maximum(s, h)) ** self.slope

    def __call__(self, spend: np.ndarray | float) -> np.ndarray:
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        w = self._ratio(s)
        # Below the half-saturation w = (s/h)^k and the share is w / (1 + w); above it w = (h/s)^k and 1 / (1 + w).
        return self.ymax * np.where(s <= self.half_saturation, w, 1.0) / (1.0 + w)

    def derivative(self, spend: np.ndarray | float) -> np.ndarray:
        """The slope of the curve: extra response per extra unit of spend."""
        s = np.maximum(np.asarray(spend, dtype=float), 0.0)
        w = self._ratio(s)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            # ymax k r / (s (1 + r)^2) is the same with r or 1/r: w (at most 1) keeps every term finite.
            d = self.ymax * self.slope * w / (s * (1.0 + w) ** 2)
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
        i = int(np.searchsorted(delivered, spend * (1 - BOOK_TOLERANCE), side="left"))
        if i >= len(delivered):
            return float(self.planned[-1])
        if i == 0 or delivered[i] <= spend:
            return float(self.planned[i])
        share = (spend - delivered[i - 1]) / (delivered[i] - delivered[i - 1])
        return float(self.planned[i - 1] + share * (self.planned[i] - self.planned[i - 1]))

    def to_delivered(self, book: float) -> float:
        """The spend the channel delivers (and is billed) when ``book`` is planned for it: the inverse of
        :meth:`to_book`.

        Interpolated over the measured points (planned against delivered); for curves that were not measured,
        ``book`` up to the curve's end (the optimizer never counts on spend past it).
        """
        if book <= 0:
            return 0.0
        if len(self.planned) != len(self.spend) or len(self.spend) < 2:
            return float(min(book, self.max_spend))
        delivered = np.maximum.accumulate(self.spend)  # points in planned order; delivery never falls back
        # Past the top level nothing was measured: the plan is held at the curve's end there, as for a file.
        return float(np.interp(book, self.planned, delivered))

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


CURVE_TABLES: tuple[str, ...] = ("points", "fits")
"""Tables :meth:`CurveSet.to_frame` can return."""


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
        check_table(table, CURVE_TABLES)
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
                at = c.to_delivered(c.current)  # what today's booking delivers: the curve is drawn against that
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
    # SciPy is imported here, not at the top: reading or evaluating curves (and so the command line and the
    # optimizer's package) should not wait for it; only a fit needs it.
    from scipy.optimize import OptimizeWarning, curve_fit

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
