"""Every shipped notebook runs top to bottom (its code cells, in order, in one namespace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


EXPECTED = (
    "01_quickstart",
    "02_what_if",
    "03_optimize_and_export",
    "04_attribution_vs_truth",
    "05_mmm_ground_truth",
    "06_calibration",
)


def test_the_shipped_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == list(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_are_stripped(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    for number, cell in enumerate(notebook["cells"], start=1):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: cell {number} has outputs saved"
            assert cell["execution_count"] is None, f"{path.name}: cell {number} has an execution count saved"
    first = "".join(notebook["cells"][0]["source"])
    assert notebook["cells"][0]["cell_type"] == "markdown" and first.startswith("# "), "a notebook opens with a title"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    monkeypatch.chdir(path.parent)
    namespace: dict[str, object] = {"__name__": "__main__"}
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert cells, f"{path.name} has no code cells"
    for number, cell in enumerate(cells, start=1):
        source = "".join(cell["source"])
        code = compile(source, f"{path.name}[cell {number}]", "exec")
        exec(code, namespace)  # an exception fails the test and names the cell
