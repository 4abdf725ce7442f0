"""Reading response curves from a user's CSV file (exported from an MMM or another tool).

Two layouts, told apart by the header: measured points (``channel,spend,response``) or Hill parameters
(``channel,ymax,half_saturation,slope`` and optional bounds). Every problem in the file is reported at once, each
as an :class:`~mixsim.errors.InputError` line naming the file, the row or column, and the rule.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

from mixsim.errors import InputError
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve

__all__ = ["parse_curves", "read_curves"]

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
        The current plan, for changes and a problem's ``max_change``.

    Raises
    ------
    InputError
        Naming the file, row and column of every problem found.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError([f"{where}: cannot read the curves file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise InputError([f"{where}: is not UTF-8 text (save it as CSV UTF-8)"]) from None
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
        raise InputError([f"{source}: the curves file is empty (expected a header row)"])
    header = [h.strip().lower() for h in rows[0]]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    if all(h in header for h in _POINTS):
        layout, required, optional = "points", _POINTS, ()
    elif all(h in header for h in _HILL):
        layout, required, optional = "hill", _HILL, _HILL_OPTIONAL
    else:
        raise InputError(
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
        raise InputError(problems)
    return CurveSet(curves=tuple(curves), order_value=order_value, margin=margin, source=source)
