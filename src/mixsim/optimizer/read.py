"""Reading response curves from a CSV file: a user's (exported from an MMM or another tool) or mixsim's own.

Two layouts, told apart by the header: measured points (``channel,spend,response``; mixsim's ``curve_points.csv``
names the response ``revenue``) or Hill parameters (``channel,ymax,half_saturation,slope`` and optional bounds;
mixsim's ``curve_fits.csv``). A channel is named as in a scenario (:data:`~mixsim._names.CHANNEL_NAME_RULE`), and
every number must keep the program solvable (:data:`MAX_AMOUNT`, :data:`MIN_HALF_SATURATION`,
:data:`SLOPE_RANGE`). The file is read row by row and refused as soon as it passes :data:`MAX_CURVE_ROWS`; every
other problem is reported at once (a screenful, then a count of the rest), each as an
:class:`~mixsim.errors.InputError` line naming the file, the row or column, and the rule.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np

from mixsim._names import CHANNEL_NAME_RULE, is_channel_name
from mixsim.errors import InputError, screenful
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve

__all__ = [
    "FITS_FILE",
    "MAX_AMOUNT",
    "MAX_CURVE_ROWS",
    "MAX_LINE",
    "MAX_POINTS",
    "MIN_HALF_SATURATION",
    "MIN_SPEND_STEP",
    "POINTS_FILE",
    "SLOPE_RANGE",
    "csv_rows",
    "parse_curves",
    "read_curves",
]

POINTS_FILE = "curve_points.csv"
"""The file of measured points the ``curves`` command writes into its folder (the points layout)."""

FITS_FILE = "curve_fits.csv"
"""The file of fitted curves the ``curves`` command writes beside :data:`POINTS_FILE` (the Hill layout; a channel
without a fit is read from the points file beside it)."""

MAX_CURVE_ROWS = 10_000
"""Most rows (besides the header) a curves file may have; a longer file is refused at the first row past it,
before the rest is read."""

MAX_POINTS = 1_000
"""Most points a channel's measured curve may have: each becomes a segment (and, on an S-shaped curve, a binary
variable) of the program."""

MAX_LINE = 10_000
"""Most characters on one line of a curves file, or of any CSV file mixsim reads (a row is a name and a few
numbers)."""

MAX_AMOUNT = 1e15
"""Largest amount (spend, response, ``ymax``, ``half_saturation``, bounds, costs) a curves file may give: past
about 9e15 a float no longer counts whole currency units, and the program's sums need room below that."""

MIN_HALF_SATURATION = 1e-3
"""Smallest ``half_saturation``: with amounts up to :data:`MAX_AMOUNT`, a curve's steepest slope then stays
below 1e18, inside what the solvers take as finite (1e20); a smaller one is a step the program cannot follow."""

MIN_SPEND_STEP = MIN_HALF_SATURATION
"""Smallest gap between two spends of a channel's measured points, for the same reason."""

SLOPE_RANGE = (0.1, 10.0)
"""Allowed Hill ``slope`` (the shape ``k``): outside it the curve is a step at 0 or at ``half_saturation``
(at ``k = 10`` it climbs from 10% to 90% of ``ymax`` between 0.8 and 1.25 times ``half_saturation``)."""

_POINTS = ("channel", "spend")
_RESPONSE = ("response", "revenue")  # mixsim's curve_points.csv calls the response revenue
_POINTS_OPTIONAL = ("planned",)  # mixsim's: the spend booked for each point (a channel can deliver less)
_POINTS_DERIVED = ("revenue_low", "revenue_high", "conversions", "conversions_low", "conversions_high")
_HILL = ("channel", "ymax", "half_saturation", "slope")
_HILL_OPTIONAL = ("min_spend", "max_spend", "fixed_cost", "current", "current_spend")
_HILL_DERIVED = ("shape", "fit_rmse", "fit_r2", "revenue_at_current", "roas_at_current", "marginal_roas_at_current")
# Columns mixsim writes beside the ones above; they are figures derived from them, read past and not checked.
_DERIVED = (*_POINTS_DERIVED, "fitted_revenue", *_HILL_DERIVED)


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
      more, at most :data:`MAX_POINTS`). The points are interpolated linearly, never extrapolated: the last point
      is the channel's maximum spend. A channel without a point at spend 0 is taken to respond 0 there. The
      response may be negative (a measured difference can be). mixsim's own ``curve_points.csv`` is this layout
      (its ``revenue`` is the response, its ``planned`` the spend booked for each point).
    - Hill parameters, columns ``channel,ymax,half_saturation,slope`` and optionally ``min_spend``,
      ``max_spend``, ``fixed_cost`` and ``current`` (the channel's spend in the current plan). mixsim's own
      ``curve_fits.csv`` is this layout (its ``current_spend`` is the current spend).

    ``response`` is incremental revenue (or any value per the same currency as spend). Channel names follow the
    scenario's rule (letters, digits and underscores, not starting with a digit). Amounts are at most
    :data:`MAX_AMOUNT`, ``half_saturation`` at least :data:`MIN_HALF_SATURATION`, ``slope`` within
    :data:`SLOPE_RANGE`, and a file has at most :data:`MAX_CURVE_ROWS` rows.

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
        Naming the file, row and column of every problem found (at most a screenful, then their count).
    """
    where = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return _parse(handle, where, order_value, margin, current, Path(path).parent / POINTS_FILE)
    except OSError as exc:
        raise InputError([f"{where}: cannot read the curves file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise InputError([f"{where}: is not UTF-8 text (save it as CSV UTF-8)"]) from None


def parse_curves(
    text: str,
    *,
    source: str = "<curves>",
    order_value: float = math.nan,
    margin: float = 1.0,
    current: dict[str, float] | None = None,
) -> CurveSet:
    """Parse the CSV text of :func:`read_curves` (same rules, same errors)."""
    return _parse(io.StringIO(text), source, order_value, margin, current)


def csv_file_rows(path: str | Path, max_rows: int, why: str, what: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the CSV file at ``path`` with their numbers (:func:`csv_rows`); a file that cannot be
    read, or is not UTF-8 text, is refused naming it and ``what`` it was to hold.

    Raises
    ------
    InputError
        Naming the file, and the row where it breaks :func:`csv_rows`' bounds.
    """
    source = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv_rows(handle, source, max_rows, why))
    except OSError as exc:
        raise InputError([f"{source}: cannot read the {what} ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError:
        raise InputError([f"{source}: is not UTF-8 text (save it as CSV UTF-8)"]) from None


def csv_rows(handle: TextIO, source: str, max_rows: int, why: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows of a CSV file with their numbers (blank lines count), read one at a time, each line with
    a bound (:data:`MAX_LINE`), so that no file is read whole into memory: a file of more than ``max_rows`` rows
    besides its header is refused at the first row past them (``why`` says where the limit comes from), and a file
    without line breaks (``/dev/zero``) at its first line.

    Raises
    ------
    InputError
        Naming ``source`` and the row or line.
    """
    seen = 0
    try:
        for number, row in enumerate(csv.reader(_lines(handle, source)), start=1):
            if not any(c.strip() for c in row):
                continue
            seen += 1
            if seen > max_rows + 1:  # the header and the rows
                raise InputError(
                    [f"{source}: row {number}: more than {max_rows:,} rows ({why}); nothing past it was read"]
                )
            yield number, row
    except csv.Error as exc:
        raise InputError([f"{source}: not a CSV file ({exc})"]) from None


def _lines(handle: TextIO, source: str) -> Iterator[str]:
    number = 0
    while line := handle.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE and not line.endswith("\n"):
            raise InputError([f"{source}: line {number}: longer than {MAX_LINE:,} characters (not a CSV file?)"])
        yield line


def _layout(header: list[str], source: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``(layout, required, optional)`` from the header; the response column of points is in ``required``."""
    if all(h in header for h in _POINTS) and any(h in header for h in _RESPONSE):
        if all(h in header for h in _RESPONSE):
            raise InputError([f"{source}: header: columns 'response' and 'revenue' both give the response; keep one"])
        response = next(h for h in _RESPONSE if h in header)
        return "points", (*_POINTS, response), _POINTS_OPTIONAL
    if all(h in header for h in _HILL):
        return "hill", _HILL, _HILL_OPTIONAL
    raise InputError(
        [
            f"{source}: header: expected columns channel,spend,response (measured points) or "
            f"{','.join(_HILL)}[,{','.join(_HILL_OPTIONAL[:-1])}] (Hill parameters) (got {','.join(header)})"
        ]
    )


def _parse(
    handle: TextIO,
    source: str,
    order_value: float,
    margin: float,
    current: dict[str, float] | None,
    points_file: Path | None = None,
) -> CurveSet:
    why = f"the most a curves file may have; at most {MAX_POINTS:,} points per channel"
    rows = csv_rows(handle, source, MAX_CURVE_ROWS, why)
    first = next(rows, None)
    if first is None:
        raise InputError([f"{source}: the curves file is empty (expected a header row)"])
    header = [h.strip().lower() for h in first[1]]
    layout, required, optional = _layout(header, source)
    problems = [f"{source}: header: unknown column {h!r}" for h in header if h not in required + optional + _DERIVED]
    problems += [
        f"{source}: header: column {h!r} appears twice" for h in sorted({h for h in header if header.count(h) > 1})
    ]
    col = {h: header.index(h) for h in required + optional if h in header}
    parsed: list[tuple[int, str, dict[str, float]]] = []
    unfitted: dict[str, tuple[int, float | None]] = {}
    for line, row in rows:
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            problems.append(f"{source}: row {line}: has {len(row)} cells but the header has {len(header)}")
            continue
        cells = [c.strip() for c in row] + [""] * (len(header) - len(row))
        name = cells[col["channel"]]
        if not name:
            problems.append(f"{source}: row {line}: channel: must not be empty")
            continue
        if not is_channel_name(name):
            problems.append(f"{source}: row {line}: channel: {CHANNEL_NAME_RULE} (got {name!r})")
            continue
        if layout == "hill" and all(cells[col[h]] == "" for h in _HILL[1:]) and "shape" in header:
            # mixsim's curve_fits.csv: too few distinct points were measured to fit this channel a curve, so its
            # points are its curve; they are in the points file written beside.
            unfitted[name] = (line, _numbers(cells, col, ("channel",), source, line, problems).get("current_spend"))
            parsed.append((line, name, {}))
            continue
        values = _numbers(cells, col, required, source, line, problems)
        if layout == "hill":
            _check_hill(values, source, line, problems)
        parsed.append((line, name, values))

    curves: list[ResponseCurve] = []
    current = dict(current or {})
    measured = _measured(unfitted, source, points_file, problems)
    for name in dict.fromkeys(name for _, name, _ in parsed):
        mine = [(line, v) for line, n, v in parsed if n == name]
        if layout == "hill" and len(mine) > 1:
            problems.append(f"{source}: channel {name}: appears on rows {', '.join(str(li) for li, _ in mine)}")
            continue
        if name in unfitted:
            curve = measured.get(name)
        elif layout == "points":
            curve = _points_curve(name, mine, required[2], source, problems, current.get(name, 0.0))
        else:
            curve = _hill_curve(name, mine, source, problems, current.get(name, 0.0))
        if curve is not None:
            curves.append(curve)
    if not parsed and not problems:
        problems.append(f"{source}: no curves (the file has a header and no rows)")
    if problems:
        raise InputError(screenful(problems, source))
    return CurveSet(curves=tuple(curves), order_value=order_value, margin=margin, source=source)


def _measured(
    unfitted: dict[str, tuple[int, float | None]], source: str, points_file: Path | None, problems: list[str]
) -> dict[str, ResponseCurve]:
    """The measured curves of the channels mixsim's fits file has no fit for, from the points file beside it
    (with the fits file's current spend); a problem for each channel without one."""
    if not unfitted:
        return {}
    found: dict[str, ResponseCurve] = {}
    if points_file is not None and points_file.is_file():
        # Read by the same rules (and refused by them): the folder mixsim wrote holds both files.
        with open(points_file, encoding="utf-8-sig", newline="") as handle:
            points = _parse(handle, str(points_file), math.nan, 1.0, None)
        found = {c.channel: c for c in points.curves if c.channel in unfitted}
    for name, (line, now) in unfitted.items():
        if name in found:
            # The fits give the spend today's plan delivers; the curve's current plan is what is booked for it.
            curve = found[name]
            found[name] = dataclasses.replace(curve, current=curve.to_book(now) if now is not None else 0.0)
        else:
            problems.append(
                f"{source}: row {line}: channel {name} has no Hill fit (ymax, half_saturation and slope are empty: "
                f"too few distinct points were measured to fit one), and no {POINTS_FILE} beside this file gives "
                f"its points; give the points file as the curves"
            )
    return found


def _numbers(
    cells: list[str], col: dict[str, int], required: tuple[str, ...], source: str, line: int, problems: list[str]
) -> dict[str, float]:
    """A row's numbers by column; each cell that is not a number within its range adds a problem (and is left
    out)."""
    values: dict[str, float] = {}
    for h in col:
        if h == "channel":
            continue
        cell = cells[col[h]]
        if cell == "" and h not in required:
            continue
        try:
            number = float(cell)
        except ValueError:
            problems.append(f"{source}: row {line}: {h}: must be a number (got {cell!r})")
            continue
        # A response is a measured difference and may be below 0; every other figure is an amount or a shape.
        low = -MAX_AMOUNT if h in _RESPONSE else 0.0
        if not math.isfinite(number) or number < low:
            rule = f"a finite number >= {'-1e15' if low else '0'}"
            problems.append(f"{source}: row {line}: {h}: must be {rule} (got {cell})")
            continue
        if number > MAX_AMOUNT:
            problems.append(f"{source}: row {line}: {h}: must be at most {MAX_AMOUNT:.0e} (got {cell})")
            continue
        values[h] = number
    return values


def _check_hill(values: dict[str, float], source: str, line: int, problems: list[str]) -> None:
    """Add a problem for each Hill parameter outside what the program can solve (and drop it from ``values``)."""
    half = values.get("half_saturation")
    if half is not None and half < MIN_HALF_SATURATION:
        rule = "must be > 0" if half <= 0 else f"must be at least {MIN_HALF_SATURATION:g}"
        problems.append(f"{source}: row {line}: half_saturation: {rule} (got {half})")
        del values["half_saturation"]
    slope = values.get("slope")
    if slope is not None and not SLOPE_RANGE[0] <= slope <= SLOPE_RANGE[1]:
        rule = "must be > 0" if slope <= 0 else f"must be in [{SLOPE_RANGE[0]:g}, {SLOPE_RANGE[1]:g}]"
        problems.append(f"{source}: row {line}: slope: {rule} (got {slope})")
        del values["slope"]


def _points_curve(
    name: str,
    mine: list[tuple[int, dict[str, float]]],
    response: str,
    source: str,
    problems: list[str],
    current: float,
) -> ResponseCurve | None:
    """One channel's measured curve from its rows, or ``None`` (with the problems added)."""
    if len(mine) < 2:
        problems.append(f"{source}: channel {name}: needs at least two points (got {len(mine)})")
        return None
    if len(mine) > MAX_POINTS:
        problems.append(f"{source}: channel {name}: at most {MAX_POINTS:,} points per curve (got {len(mine):,})")
        return None
    if any("spend" not in point or response not in point for _, point in mine):
        return None
    booked = all("planned" in point for _, point in mine)
    pts = sorted((p["spend"], p[response], p.get("planned", p["spend"])) for _, p in mine)
    xs, ys, planned = (np.array(column) for column in zip(*pts, strict=True))
    if np.any(np.diff(xs) == 0):
        problems.append(f"{source}: channel {name}: spend: each spend must appear once")
        return None
    if np.any(np.diff(xs) < MIN_SPEND_STEP):
        problems.append(f"{source}: channel {name}: spend: points must be at least {MIN_SPEND_STEP:g} apart")
        return None
    if booked and np.any(np.diff(planned) <= 0):
        problems.append(f"{source}: channel {name}: planned: must rise with spend (more booked, more delivered)")
        return None
    if xs[0] > 0:
        xs, ys, planned = (np.concatenate([[0.0], a]) for a in (xs, ys, planned))
    return ResponseCurve(
        name,
        xs,
        ys,
        ys,
        ys,
        None,
        max_spend=float(xs[-1]),
        current=current,
        planned=planned if booked else np.zeros(0),
    )


def _hill_curve(
    name: str, mine: list[tuple[int, dict[str, float]]], source: str, problems: list[str], current: float
) -> ResponseCurve | None:
    """One channel's Hill curve from its row, or ``None`` (with the problems added)."""
    line, v = mine[0]  # one row per channel (checked by the caller)
    if any(h not in v for h in _HILL[1:]):
        return None
    hill = Hill(v["ymax"], v["half_saturation"], v["slope"])
    top = v.get("max_spend", math.inf)
    if v.get("min_spend", 0.0) > top:
        problems.append(f"{source}: row {line}: min_spend: must not exceed max_spend ({v['min_spend']} > {top})")
        return None
    grid = np.linspace(0.0, top if math.isfinite(top) else 4 * v["half_saturation"], 9)
    ys = hill(grid)
    return ResponseCurve(
        name,
        grid,
        ys,
        ys,
        ys,
        hill,
        max_spend=top,
        min_spend=v.get("min_spend", 0.0),
        fixed_cost=v.get("fixed_cost", 0.0),
        current=v.get("current", v.get("current_spend", current)),
    )
