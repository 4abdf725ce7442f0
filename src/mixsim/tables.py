"""Small helpers every result table shares: the interval over replications and JSON-ready values.

Results, plans, curves, comparisons and sweeps summarize replications the same way and write JSON the same way;
this module is below all of them, so none has to import another for it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mixsim.errors import InputError

__all__ = ["FORMULA_STARTS", "check_table", "interval", "json_ready", "json_records", "spreadsheet_safe"]

FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""How a text cell starts when a spreadsheet would take it for a formula (tab and carriage return too: some
tools drop them and read on)."""


def interval(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 90% interval (5th, 95th percentiles) over ``axis``, ignoring undefined (NaN) values."""
    values = np.asarray(values, dtype=float)
    with warnings.catch_warnings():
        # All-NaN slices are expected (e.g. CAC with no conversions); their summary is simply undefined.
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=axis)
        low, high = np.nanquantile(values, [0.05, 0.95], axis=axis)
    return mean, low, high


def json_records(frame: pd.DataFrame) -> list[dict[Any, Any]]:
    """A table's rows as JSON-ready dicts: undefined figures (NaN) become None, so JSON says null."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def json_ready(x: Any) -> Any:
    """JSON-ready: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {k: json_ready(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_ready(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` for a CSV file a spreadsheet may open: every text cell (and text label of the index or the
    columns) that starts as a formula does (:data:`FORMULA_STARTS`) is prefixed with a single quote, as
    spreadsheet tools expect, so it opens as the text it is. Numbers are never touched: ``-5`` stays a number.
    ``frame`` itself comes back when nothing needs quoting (a large table is not copied for nothing).
    """

    def safe(value: Any) -> Any:
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    def needs(labels: Any) -> bool:
        return any(isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in labels)

    quoted = {}
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            if needs(values.cat.categories):
                quoted[column] = values.astype(object).map(safe)  # as objects: two labels may quote alike
        elif values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            text = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
            if text.any():
                quoted[column] = values.map(safe)
    if not quoted and not needs(frame.index) and not needs(frame.columns):
        return frame
    out = frame.copy()
    for column, values in quoted.items():
        out[column] = values
    out.index = out.index.map(safe)
    out.columns = out.columns.map(safe)
    return out


def check_table(table: str, tables: Sequence[str]) -> None:
    """Refuse a table a result does not have (:class:`~mixsim.errors.InputError`), naming the ones it has."""
    if table not in tables:
        raise InputError(f"unknown table {table!r}; choose one of {', '.join(tables)}")
