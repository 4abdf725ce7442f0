"""How well a simulated series follows an observed one: the statistics marketing-mix modellers read (R², NRMSE as
Robyn defines it, MAPE)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fit_statistics"]


def fit_statistics(observed: np.ndarray, simulated: np.ndarray) -> dict[str, float]:
    """``r2`` (1 - residual over total sum of squares), ``nrmse`` (root mean squared error over the observed range,
    Robyn's definition) and ``mape`` (mean absolute error over the observed value, on periods with a positive
    observation) of ``simulated`` against ``observed``; NaN where a statistic is undefined (a flat or empty series,
    no positive observation).

    Examples
    --------
    >>> stats = fit_statistics(np.array([10.0, 20.0, 30.0]), np.array([12.0, 18.0, 30.0]))
    >>> round(stats["r2"], 3), round(stats["nrmse"], 4), round(stats["mape"], 4)
    (0.96, 0.0816, 0.1)
    """
    y, f = np.asarray(observed, dtype=float), np.asarray(simulated, dtype=float)
    if y.shape != f.shape:
        raise ValueError(f"observed and simulated differ in length ({y.size} and {f.size})")
    if y.size == 0:
        return {"r2": math.nan, "nrmse": math.nan, "mape": math.nan}
    error = f - y
    total = float(np.sum((y - y.mean()) ** 2))
    spread = float(y.max() - y.min())
    positive = y > 0
    return {
        "r2": 1.0 - float(np.sum(error**2)) / total if total > 0 else math.nan,
        "nrmse": math.sqrt(float(np.mean(error**2))) / spread if spread > 0 else math.nan,
        "mape": float(np.mean(np.abs(error[positive]) / y[positive])) if positive.any() else math.nan,
    }
