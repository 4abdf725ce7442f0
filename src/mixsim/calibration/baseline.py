"""The baseline of demand over a history: what the market would have bought anyway, so that it is not credited to
media. Each week's demand multiplier is

    exp(trend x (w - mid) / weeks + season_sin x sin(2 pi w / 52) + season_cos x cos(2 pi w / 52)
        + sum over numeric controls of elasticity x the control's standardized value
        + the week's level effect of each text control)

and it acts as the replay's season does (:mod:`mixsim.engine.organic`): it multiplies every organic hazard and every
exposure's effect, the share of the market in-market that week. Its terms are fitted with the scenario's
parameters, under keys ``baseline.trend``, ``baseline.season_sin`` and ``baseline.season_cos`` (the yearly season,
only for a history of a year or more), ``baseline.CONTROL`` (a numeric control's elasticity per standard deviation)
and ``baseline.CONTROL=LEVEL`` (a text control's level, against its most common level).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

import numpy as np

from mixsim.calibration.history import History
from mixsim.calibration.parameters import BASELINE, Parameter

__all__ = ["PREFIX", "baseline_parameters", "demand", "is_baseline"]

PREFIX = BASELINE
"""Keys of the baseline's terms start with it (they are not the scenario's keys)."""

_WEEKS_PER_YEAR = 52


def is_baseline(key: str) -> bool:
    """Whether ``key`` names a term of the baseline."""
    return key.startswith(PREFIX)


def baseline_parameters(history: History) -> list[Parameter]:
    """The baseline's terms for ``history``, each with a uniform prior: the trend (-1 to 1: demand at most e times
    higher or lower at the end than at the start), the yearly season for a history of 52 weeks or more (-0.5 to
    0.5 each), each numeric control's elasticity (-1 to 1 per standard deviation; none for a constant control) and
    each level of a text control but its most common one (-1 to 1)."""
    out = [Parameter(f"{PREFIX}trend", -1.0, 1.0, log=False)]
    if history.weeks >= _WEEKS_PER_YEAR:
        out += [Parameter(f"{PREFIX}season_sin", -0.5, 0.5, log=False)]
        out += [Parameter(f"{PREFIX}season_cos", -0.5, 0.5, log=False)]
    for name, values in history.controls.items():
        if values.dtype == object:
            counts = Counter(str(v) for v in values)
            common = counts.most_common(1)[0][0]
            out += [Parameter(f"{PREFIX}{name}={level}", -1.0, 1.0, log=False) for level in sorted(counts)
                    if level != common]  # fmt: skip
        elif float(np.std(values)) > 0:
            out.append(Parameter(f"{PREFIX}{name}", -1.0, 1.0, log=False))
    return out


def demand(history: History, values: Mapping[str, float]) -> np.ndarray:
    """Each week's demand multiplier under the baseline terms ``values`` (by key; a term not given is 0)."""
    weeks = history.weeks
    w = np.arange(weeks, dtype=float)
    log = values.get(f"{PREFIX}trend", 0.0) * (w - (weeks - 1) / 2) / max(weeks, 1)
    log = log + values.get(f"{PREFIX}season_sin", 0.0) * np.sin(2 * math.pi * w / _WEEKS_PER_YEAR)
    log = log + values.get(f"{PREFIX}season_cos", 0.0) * np.cos(2 * math.pi * w / _WEEKS_PER_YEAR)
    week = np.arange(history.periods) * history.period_days // 7
    per_week = np.bincount(week, minlength=weeks).astype(float)
    for name, column in history.controls.items():
        if column.dtype == object:
            for key, value in values.items():
                prefix = f"{PREFIX}{name}="
                if key.startswith(prefix):
                    hit = np.array([str(v) == key[len(prefix) :] for v in column], dtype=float)
                    log = log + value * np.bincount(week, weights=hit, minlength=weeks) / per_week
        elif f"{PREFIX}{name}" in values:
            sd = float(np.std(column))
            z = (column - column.mean()) / sd if sd > 0 else np.zeros_like(column)
            log = log + values[f"{PREFIX}{name}"] * np.bincount(week, weights=z, minlength=weeks) / per_week
    return np.exp(log)
