"""Plans to files (mixsim.optimizer.export) and CSV tables (mixsim.tables.spreadsheet_safe): a user's string is
stored as text, never as a formula a spreadsheet runs."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from _weekly import log_curves
from mixsim.optimizer.curves import CurveSet, ResponseCurve
from mixsim.optimizer.plan import Plan
from mixsim.optimizer.problem import Problem
from mixsim.optimizer.solving import solve
from mixsim.optimizer.weekly import WeeklyProblem, solve_weekly
from mixsim.tables import spreadsheet_safe

HOSTILE = ('=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "bell\x07\x1b[2J")


def hostile_plan() -> Plan:
    """A plan over channels named as formulas and with control characters (the library itself takes any name; the
    readers refuse them), from a source named as a formula."""
    xs = np.array([0.0, 100.0])
    curves = tuple(
        ResponseCurve(name, xs, xs * (5 - k) / 10, xs * (5 - k) / 10, xs * (5 - k) / 10, None, 100.0)
        for k, name in enumerate(HOSTILE)
    )
    return solve(Problem(CurveSet(curves, source="=cmd|' /C calc'!A0"), budget=250.0))


def cells(book_bytes: bytes) -> list[tuple[str, str, object, str]]:
    book = load_workbook(io.BytesIO(book_bytes))
    return [(s.title, c.coordinate, c.value, c.data_type) for s in book.worksheets for r in s.iter_rows() for c in r]


def test_a_plan_workbook_holds_every_user_string_as_text() -> None:
    """Issue 15, points 4 and 5: no formula in any sheet; control characters (which a workbook cannot hold, and
    which made openpyxl raise IllegalCharacterError) are written as escapes."""
    every = cells(hostile_plan().to_xlsx())
    assert not [c for c in every if c[3] == "f"]
    texts = {c[2] for c in every if c[3] == "s"}
    for name in HOSTILE[:4]:
        assert name in texts
    assert "bell\\x07\\x1b[2J" in texts
    assert "=cmd|' /C calc'!A0" in texts  # the Assumptions sheet's curves source


def test_a_plan_csv_quotes_text_that_starts_as_a_formula_and_leaves_numbers_alone() -> None:
    plan = hostile_plan()
    rows = list(csv.DictReader(io.StringIO(plan.to_csv())))
    names = [r["channel"] for r in rows if r["kind"] == "channel"]
    assert names == ["'" + n for n in HOSTILE[:4]] + [HOSTILE[4]]
    changes = [float(r["change"]) for r in rows]
    assert min(changes) >= 0  # from nothing: spend is new
    frame = pd.read_csv(io.StringIO(plan.to_csv()))
    assert pd.api.types.is_numeric_dtype(frame["spend"]) and pd.api.types.is_numeric_dtype(frame["change"])


def test_a_week_level_plan_s_files_hold_names_as_text() -> None:
    curves, _, _ = log_curves(np.random.default_rng(4), 2, 3)
    curves = dataclasses.replace(curves, channels=("=EVIL()", "-x\x1b"))
    plan = solve_weekly(WeeklyProblem(curves, budget=3000.0))
    every = cells(plan.to_xlsx())
    assert not [c for c in every if c[3] == "f"]
    assert {"=EVIL()", "-x\\x1b"} <= {c[2] for c in every}
    chart = list(csv.reader(io.StringIO(plan.to_csv())))
    assert [row[0] for row in chart[1:3]] == ["'=EVIL()", "'-x\x1b"]


def test_spreadsheet_safe_quotes_text_cells_and_labels_only() -> None:
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "-x", "tv", "@SUM", None, "\tcmd"],
            "number": [-1.0, 2.0, -3.5, 4.0, 5.0, -0.0],
            "mixed": [-1, "x", 3, "+y", None, "ok"],
            "segment": pd.Categorical(["=a", "b", "b", "=a", "b", "'=a"]),
        },
        index=["=i", "j", "k", "l", "m", "n"],
    )
    safe = spreadsheet_safe(frame)
    assert list(safe["text"].fillna("")) == ["'=1+1", "'-x", "tv", "'@SUM", "", "'\tcmd"]
    assert safe["number"].dtype == float and list(safe["number"]) == list(frame["number"])  # -1.0 stays a number
    assert list(safe["mixed"].fillna("")) == [-1, "x", 3, "'+y", "", "ok"]
    assert list(safe["segment"]) == ["'=a", "b", "b", "'=a", "b", "'=a"]  # two labels may now read alike
    assert list(safe.index) == ["'=i", "j", "k", "l", "m", "n"]
    assert frame["text"].iloc[0] == "=1+1"  # the input is left as it was
    plain = pd.DataFrame({"channel": ["tv", "search"], "spend": [-1.0, 2.0]})
    assert spreadsheet_safe(plain) is plain  # nothing to quote: no copy


@pytest.mark.parametrize("name", HOSTILE)
def test_overrides_in_the_assumptions_are_text_too(name: str) -> None:
    plan = hostile_plan()
    plan = dataclasses.replace(plan, overrides=(f"scenario.name={name}", name))
    assert not [c for c in cells(plan.to_xlsx()) if c[3] == "f"]


def test_command_line_csv_files_quote_a_name_that_starts_as_a_formula(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    """Issue 15, point 4: ``compare`` labels its variants by scenario name; a name like ``=HYPERLINK(...)`` reaches
    compare_kpis.csv quoted, and the figures beside it stay numbers."""
    from conftest import SMALL_TOML

    base, other = tmp_path / "base.toml", tmp_path / "other.toml"
    base.write_text(SMALL_TOML, encoding="utf-8")
    evil = SMALL_TOML.replace('name = "small"', 'name = "=HYPERLINK(\\"http://x\\")"')
    other.write_text(evil.replace("spend = 2_000", "spend = 2_500"), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run_cli("compare", base, other, "-r", "1", "--workers", "1", "--out", out)
    assert code == 0, err
    table = pd.read_csv(out / "compare_kpis.csv")
    assert set(table["variant"]) == {"small", '\'=HYPERLINK("http://x")'}
    assert pd.api.types.is_numeric_dtype(table["mean"]) and pd.api.types.is_numeric_dtype(table["diff"])
