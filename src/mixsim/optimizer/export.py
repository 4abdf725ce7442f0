"""Plans to files: one dispatcher for every kind of plan, by the suffix of the path, written atomically.

A plan (channel-level :class:`~mixsim.optimizer.plan.Plan` or week-level) provides ``to_csv()`` (text),
``to_json()`` (text) and ``to_xlsx()`` (bytes); :func:`write_plan` picks one by suffix and refuses any other
suffix with one error. The workbooks' layout (sheets, number formats) is built here.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from mixsim._files import write_atomic
from mixsim.errors import InputError

if TYPE_CHECKING:
    from mixsim.optimizer.plan import Plan, Verification
    from mixsim.optimizer.weekly.plan import WeeklyPlan

__all__ = ["EXPORT_FORMATS", "Exportable", "check_export_path", "plan_workbook", "weekly_workbook", "write_plan"]

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


def plan_workbook(plan: Plan) -> bytes:
    """A workbook a planner can forward: a formatted allocation sheet and an assumptions sheet."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    frame = plan.to_frame()
    columns = {
        "channel": ("Channel", None),
        "spend": ("Spend", "#,##0"),
        "book": ("Book (planned spend)", "#,##0"),
        "share": ("Share", "0.0%"),
        "current_spend": ("Current spend", "#,##0"),
        "change": ("Change", "+#,##0;-#,##0;0"),
        "change_pct": ("Change %", "+0.0%;-0.0%;0.0%"),
        "fixed_cost": ("Fixed cost", "#,##0"),
        "projected_conversions": ("Incremental conversions", "#,##0.0"),
        "projected_revenue": ("Incremental revenue", "#,##0"),
        "current_revenue": ("Incremental revenue now", "#,##0"),
        "roas": ("ROAS", "0.00"),
        "marginal_return": ("Marginal return per $", "0.000"),
    }
    sheet = frame[list(columns)].rename(columns={k: v[0] for k, v in columns.items()})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        sheet.to_excel(writer, sheet_name="Allocation", index=False)
        ws = writer.sheets["Allocation"]
        header_fill = PatternFill("solid", fgColor="DDE4EE")
        for j, (_, fmt) in enumerate(columns.values(), start=1):
            cell = ws.cell(row=1, column=j)
            cell.font = Font(bold=True)
            cell.fill = header_fill
            ws.column_dimensions[get_column_letter(j)].width = max(12, len(str(cell.value)) + 2)
            for i in range(2, len(sheet) + 2):
                if fmt:
                    ws.cell(row=i, column=j).number_format = fmt
        for j in range(1, len(columns) + 1):
            ws.cell(row=len(sheet) + 1, column=j).font = Font(bold=True)
        ws.freeze_panes = "B2"
        _assumptions_sheet(writer, plan.assumptions(), plan.verification)
    return buffer.getvalue()


def weekly_workbook(plan: WeeklyPlan) -> bytes:
    """A week-level plan's workbook: the Flighting sheet laid out as a flighting chart (channels x weeks, with
    totals), the Weeks sheet in long form, the Assumptions, and the Verification when there is one."""
    from openpyxl.styles import Font  # deferred: openpyxl is needed for workbooks only

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        wide = plan.to_frame(wide=True)
        wide.columns = [f"Week {c}" if c != "total" else "Total" for c in wide.columns]
        wide.to_excel(writer, sheet_name="Flighting")
        plan.to_frame().to_excel(writer, sheet_name="Weeks", index=False)
        sheet = writer.sheets["Flighting"]
        for row in sheet.iter_rows(min_row=2, min_col=2):
            for cell in row:
                cell.number_format = "#,##0"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "B2"
        _assumptions_sheet(writer, plan.assumptions(), plan.verification)
    return buffer.getvalue()


def _assumptions_sheet(writer: pd.ExcelWriter, assumptions: pd.DataFrame, verification: Verification | None) -> None:
    """The sheets every plan's workbook ends with: its assumptions (item, value) and, when verified, the
    verification table."""
    from openpyxl.styles import Font  # deferred: openpyxl is needed for workbooks only

    assumptions.to_excel(writer, sheet_name="Assumptions", index=False)
    if verification is not None:
        verification.to_frame().to_excel(writer, sheet_name="Verification", index=False)
    sheet = writer.sheets["Assumptions"]
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 60
    sheet.cell(row=1, column=1).font = sheet.cell(row=1, column=2).font = Font(bold=True)
