"""Every shipped notebook runs top to bottom (its code cells, in order, in one namespace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS, "notebooks/ should ship at least one notebook"


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
