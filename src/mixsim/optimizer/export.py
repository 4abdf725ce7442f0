"""Plans to files: one dispatcher for every kind of plan, by the suffix of the path, written atomically.

A plan (channel-level :class:`~mixsim.optimizer.plan.Plan` or week-level) provides ``to_csv()`` (text),
``to_json()`` (text) and ``to_xlsx()`` (bytes); :func:`write_plan` picks one by suffix and refuses any other
suffix with one error. The workbooks' layout (sheets, number formats) is built here.

Every user string (a channel, a group, a file name, an override) reaches a file as text: a workbook stores it as a
text cell, never a formula, with its control characters escaped (a workbook cannot hold them); a CSV file quotes a
text cell that a spreadsheet would take for a formula (:func:`~mixsim.tables.spreadsheet_safe`).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from mixsim._files import write_atomic
from mixsim._names import printable
from mixsim.errors import InputError
from mixsim.tables import spreadsheet_safe

if TYPE_CHECKING:
    from mixsim.optimizer.plan import Plan, Verification
    from mixsim.optimizer.weekly.plan import WeeklyPlan

__all__ = [
    "EXPORT_FORMATS",
    "Exportable",
    "check_export_path",
    "flighting_csv",
    "plan_csv",
    "plan_workbook",
    "round_to_total",
    "rounded_flighting",
    "rounded_tables",
    "weekly_workbook",
    "write_plan",
]

EXPORT_FORMATS: tuple[str, ...] = (".csv", ".json", ".xlsx")
"""The suffixes a plan can be written as."""


class Exportable(Protocol):
    """What :func:`write_plan` needs of a plan."""

    def to_csv(self) -> str: ...

    def to_json(self) -> str: ...

    def to_xlsx(self) -> bytes: ...


def check_export_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a :class:`~pathlib.Path` if its suffix names a format a plan can be written as.

    Raises
    ------
    InputError
        For any other suffix.
    """
    target = Path(path)
    if target.suffix.lower() not in EXPORT_FORMATS:
        raise InputError(
            f"{target}: a plan is written as {', '.join(EXPORT_FORMATS[:-1])} or {EXPORT_FORMATS[-1]} "
            f"(got {target.suffix or 'no suffix'!r})"
        )
    return target


def write_plan(plan: Exportable, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` to ``path``, atomically, in the format its suffix names (``.csv``, ``.json``, ``.xlsx``).

    Parameters
    ----------
    plan : Plan or WeeklyPlan
        Any plan with ``to_csv``, ``to_json`` and ``to_xlsx``.
    path : str or path-like
        Where to write it; an interrupted write leaves no file there.

    Raises
    ------
    InputError
        For any other suffix (before anything is written).
    """
    target = check_export_path(path)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        return write_atomic(target, plan.to_csv())
    if suffix == ".json":
        return write_atomic(target, plan.to_json() + "\n")
    return write_atomic(target, plan.to_xlsx())


MONEY_COLUMNS: tuple[str, ...] = (
    "book",
    "current_book",
    "spend",
    "current_spend",
    "fixed_cost",
    "projected_revenue",
    "current_revenue",
)
"""A plan table's money columns: whole currency units in files, rounded so that they add up to their totals."""

ROUNDING: dict[str, int] = {
    "projected_conversions": 1,
    "change_pct": 6,
    "share": 6,
    "roas": 4,
    "marginal_return": 4,
}
"""Decimals kept in files for the plan table's other numeric columns."""


def round_to_total(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to whole numbers that add up to their own sum rounded (largest remainders first).

    Rounding each figure on its own can leave the rounded figures a unit or more away from the rounded total;
    a plan's lines must add up to its total row.
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    out = values.copy()
    if not finite.any():
        return out
    x = values[finite]
    floor = np.floor(x)
    short = round(float(np.round(x.sum())) - float(floor.sum()))
    # The units left go to the largest fractional parts (ties: the first channel), one each.
    order = np.argsort(-(x - floor), kind="stable")
    floor[order[:short]] += 1.0
    out[finite] = floor + 0.0
    return out


def rounded_tables(plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A plan's channel table and totals row as files carry them: money in whole units that add up, every change
    the difference of the rounded figures beside it, ratios to a few decimals, no ``-0``.

    Returns
    -------
    (channels, totals) : tuple of DataFrame
        With the columns of :data:`~mixsim.optimizer.plan.PLAN_COLUMNS`; ``totals`` has one row.
    """
    channels = plan.to_frame().copy()
    for column in MONEY_COLUMNS:
        channels[column] = round_to_total(channels[column].to_numpy())
    totals = plan.to_frame("totals").copy()
    for column in MONEY_COLUMNS:
        totals[column] = float(channels[column].sum())
    for table in (channels, totals):
        table["book_change"] = table["book"] - table["current_book"]
        table["change"] = table["spend"] - table["current_spend"]
        now = table["current_spend"].where(table["current_spend"] > 0)
        table["change_pct"] = table["change"] / now
    media = float(channels["spend"].sum())
    channels["share"] = channels["spend"] / media if media > 0 else np.nan
    for table in (channels, totals):
        for column, decimals in ROUNDING.items():
            table[column] = table[column].astype(float).round(decimals) + 0.0
        for column in (*MONEY_COLUMNS, "book_change", "change"):
            table[column] = table[column].astype("Int64")  # whole units print as such: 37500, not 37500.0
    return channels, totals


def plan_csv(plan: Plan) -> str:
    """The plan's table as CSV: a first column ``kind`` marks the channel rows (``channel``) and the totals row
    (``total``, last), so that a reader can drop it; money in whole units (:func:`rounded_tables`)."""
    channels, totals = rounded_tables(plan)
    table = pd.concat([channels.assign(kind="channel"), totals.assign(kind="total")], ignore_index=True)
    return spreadsheet_safe(table[["kind", *channels.columns]]).to_csv(index=False)


PLAN_HEADERS: dict[str, tuple[str, str | None]] = {
    "channel": ("Channel", None),
    "book": ("Book (buy to place)", "#,##0"),
    "current_book": ("Booked today", "#,##0"),
    "book_change": ("Book change", "+#,##0;-#,##0;0"),
    "spend": ("Spend (delivered)", "#,##0"),
    "current_spend": ("Delivered today", "#,##0"),
    "change": ("Spend change", "+#,##0;-#,##0;0"),
    "change_pct": ("Spend change %", "+0.0%;-0.0%;0.0%"),
    "share": ("Share of spend", "0.0%"),
    "fixed_cost": ("Fixed cost", "#,##0"),
    "projected_conversions": ("Incremental conversions", "#,##0.0"),
    "projected_revenue": ("Incremental revenue", "#,##0"),
    "current_revenue": ("Incremental revenue today", "#,##0"),
    "roas": ("ROAS", "0.00"),
    "marginal_return": ("Marginal return per $", "0.000"),
    "note": ("Why", None),
}
"""The workbook's header and number format for each column of a plan's table."""


def plan_workbook(plan: Plan) -> bytes:
    """A workbook a planner can forward: the Allocation sheet (one row per channel, nothing else), the Totals
    sheet (the same columns, one row), the Assumptions and, when verified, the Verification."""
    buffer = io.BytesIO()
    channels, totals = rounded_tables(plan)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in (("Allocation", channels), ("Totals", totals)):
            sheet = table[list(PLAN_HEADERS)].rename(columns={k: v[0] for k, v in PLAN_HEADERS.items()})
            _as_text(sheet).to_excel(writer, sheet_name=name, index=False)
            _format_sheet(writer.sheets[name], [fmt for _, fmt in PLAN_HEADERS.values()], len(sheet))
        _assumptions_sheet(writer, plan.assumptions(), plan.verification)
        _no_formulas(writer.book)
    return buffer.getvalue()


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose strings (cells, index and column labels) a workbook can hold: control characters,
    which it cannot (openpyxl refuses them), written as their escapes (``\\x1b``)."""

    def text(value: Any) -> Any:
        return printable(value) if isinstance(value, str) else value

    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].astype(object).map(text)
    out.index = out.index.map(text)
    out.columns = out.columns.map(text)
    return out


def _no_formulas(book: Any) -> None:
    """Make every cell openpyxl took for a formula a text cell: a workbook of mixsim's holds no formula, and a
    string that starts with ``=`` (a channel or a file named so) is text, never something a spreadsheet runs."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


def _format_sheet(ws: Any, formats: list[str | None], rows: int) -> None:
    """Bold shaded headers, column widths from them, number formats per column, the header row frozen."""
    from openpyxl.styles import Font, PatternFill  # deferred: openpyxl is needed for workbooks only
    from openpyxl.utils import get_column_letter

    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for j, fmt in enumerate(formats, start=1):
        cell = ws.cell(row=1, column=j)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        ws.column_dimensions[get_column_letter(j)].width = max(12, len(str(cell.value)) + 2)
        for i in range(2, rows + 2):
            if fmt:
                ws.cell(row=i, column=j).number_format = fmt
    ws.freeze_panes = "B2"


def rounded_flighting(plan: WeeklyPlan) -> pd.DataFrame:
    """A week-level plan's flighting chart (channels x weeks, a ``total`` row and column) in whole currency units:
    the cells rounded together so that they add up to the rounded grand total, the totals the sums of the
    rounded cells."""
    wide = plan.to_frame(wide=True)
    cells = wide.drop(index="total", columns="total")
    rounded = pd.DataFrame(
        round_to_total(cells.to_numpy().ravel()).reshape(cells.shape), index=cells.index, columns=cells.columns
    )
    rounded.loc["total"] = rounded.sum(axis=0)
    rounded["total"] = rounded.sum(axis=1)
    return rounded


def flighting_csv(plan: WeeklyPlan) -> str:
    """A week-level plan's flighting chart (:func:`rounded_flighting`) as CSV text, its labels spreadsheet-safe."""
    return spreadsheet_safe(rounded_flighting(plan)).to_csv()


def weekly_workbook(plan: WeeklyPlan) -> bytes:
    """A week-level plan's workbook: the Flighting sheet laid out as a flighting chart (channels x weeks, with
    totals), the Weeks sheet in long form, the Assumptions, and the Verification when there is one."""
    from openpyxl.styles import Font  # deferred: openpyxl is needed for workbooks only

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        wide = rounded_flighting(plan)
        wide.columns = [f"Week {c}" if c != "total" else "Total" for c in wide.columns]
        _as_text(wide).to_excel(writer, sheet_name="Flighting")
        weeks = plan.to_frame()
        for column in ("spend", "current", "revenue"):
            weeks[column] = round_to_total(weeks[column].to_numpy())
        _as_text(weeks).to_excel(writer, sheet_name="Weeks", index=False)
        sheet = writer.sheets["Flighting"]
        for row in sheet.iter_rows(min_row=2, min_col=2):
            for cell in row:
                cell.number_format = "#,##0"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "B2"
        _assumptions_sheet(writer, plan.assumptions(), plan.verification)
        _no_formulas(writer.book)
    return buffer.getvalue()


def _assumptions_sheet(writer: pd.ExcelWriter, assumptions: pd.DataFrame, verification: Verification | None) -> None:
    """The sheets every plan's workbook ends with: its assumptions (item, value) and, when verified, the
    verification table."""
    from openpyxl.styles import Font  # deferred: openpyxl is needed for workbooks only

    _as_text(assumptions).to_excel(writer, sheet_name="Assumptions", index=False)
    if verification is not None:
        _as_text(verification.to_frame()).to_excel(writer, sheet_name="Verification", index=False)
    sheet = writer.sheets["Assumptions"]
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 60
    sheet.cell(row=1, column=1).font = sheet.cell(row=1, column=2).font = Font(bold=True)
