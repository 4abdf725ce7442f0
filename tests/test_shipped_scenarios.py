"""Every scenario shipped in ``scenarios/`` loads, runs with sane, conserved figures, and says where its numbers
come from. New files are picked up by the folder glob."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, load_scenario
from mixsim.simulation import simulate

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))
IDS = [p.stem for p in SCENARIOS]
SMALL = ["scenario.population=5000"]  # the same plan on a small market: fast, and still every mechanism at work
YEAR = re.compile(r"\b(19|20)\d{2}\b")


def check_run(scenario: Scenario, result: SimulationResult) -> None:
    """Conservation and definedness, replication by replication."""
    planned = np.array([c.spend for c in scenario.channels])
    for r, record in enumerate(result.runs):
        where = f"{scenario.source} replication {r}"
        assert record.daily_stages.shape == (scenario.horizon_days, 4)
        assert np.all(record.daily_stages.sum(axis=1) == scenario.population), f"{where}: customers conserved"
        assert np.all(np.diff(record.daily_stages[:, 3]) >= 0), f"{where}: conversions never undone"
        np.testing.assert_allclose(record.spend + record.unspent, planned, rtol=1e-9, err_msg=where)
        np.testing.assert_allclose(record.daily_spend.sum(axis=0), record.spend, rtol=1e-9, err_msg=where)
        assert np.all(record.reach <= scenario.population) and np.all(record.reach <= record.exposures)
        used = planned > 0
        assert np.all(record.exposures[used] > 0), f"{where}: every channel in the plan delivers something"
        assert record.conversions > 0, where
    kpis = result.kpi_values()
    for name in ("conversions", "revenue", "spend", "profit"):
        assert np.all(np.isfinite(kpis[name])), name
    defined = {"roi": kpis["spend"] > 0, "roas": kpis["spend"] > 0, "cac": kpis["conversions"] > 0}
    for name, mask in defined.items():
        assert np.all(np.isfinite(kpis[name][mask])), name
        assert np.all(np.isnan(kpis[name][~mask])), f"{name} is undefined, not a number, when it cannot be computed"
    values = result.channel_values()
    reached = values["reach"] > 0
    assert np.all(np.isfinite(values["frequency"][reached]))
    for metric in ("spend", "unspent", "exposures", "reach", "first_touch", "last_touch", "linear"):
        assert np.all(np.isfinite(values[metric])) and np.all(values[metric] >= 0), metric


def test_there_are_shipped_scenarios() -> None:
    assert len(SCENARIOS) >= 4


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name and scenario.source == str(path)
    assert scenario.seed is not None, "a shipped example reproduces the same numbers by default"
    assert scenario.total_spend > 0 and len(scenario.channels) >= 2
    assert scenario.budget is not None and scenario.budget.total >= scenario.total_spend * 0.5


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_runs_on_a_small_population(path: Path) -> None:
    scenario = load_scenario(path).with_overrides(SMALL)
    assert scenario.population == 5000
    result = simulate(scenario, replications=2)
    check_run(scenario, result)
    assert "NaN" not in result.to_json()


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_runs_at_full_size(path: Path) -> None:
    scenario = load_scenario(path)
    check_run(scenario, simulate(scenario, replications=1))


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_incrementality_is_defined_for_every_channel_in_the_plan(path: Path) -> None:
    scenario = load_scenario(path).with_overrides(SMALL)
    result = simulate(scenario, replications=1, incrementality=True)
    inc = result.incrementality
    assert inc is not None
    used = np.array([c.spend > 0 for c in scenario.channels])
    for name in ("conversions", "revenue", "roas"):
        assert np.all(np.isfinite(getattr(inc, name)[:, used])), name
    # The last 5% of a plan is measurable wherever (nearly) the whole plan was delivered.
    values = result.channel_values()
    delivered = used & (values["unspent"] < 0.01 * values["spend"]).all(axis=0)
    assert np.all(np.isfinite(inc.marginal_roas[:, delivered]))
    assert np.all(np.abs(inc.conversions) <= result.kpi_values()["conversions"][:, None])
    assert "NaN" not in result.to_json()


# --- the comments say what is modelled and where the numbers come from ------------------------------------------


def header(text: str) -> list[str]:
    """The comment block at the top of the file."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return lines


def comments(lines: list[str]) -> str:
    return "\n".join(line.split("#", 1)[1] for line in lines if "#" in line)


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_header_says_what_is_modelled(path: Path) -> None:
    top = header(path.read_text(encoding="utf-8"))
    assert len([line for line in top if line]) >= 3, f"{path.name} starts with a comment describing the business"
    text = " ".join(top).lower()
    assert "assumption" in text or "benchmark" in text, "the header says the figures are benchmarks or assumptions"


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_comments_cite_sources(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    notes = comments(lines)
    assert "source" in notes.lower() or YEAR.search(notes), f"{path.name} cites no source or year"
    assert len(YEAR.findall(notes)) >= 2, f"{path.name}: dated published sources for its benchmarks"
    # Each channel's figures are justified in its own comments: a dated source or a stated assumption.
    starts = [i for i, line in enumerate(lines) if line.startswith("[channels.")]
    assert starts, path.name
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        section = comments(lines[start:end]).lower()
        assert YEAR.search(section) or "assumption" in section or "source" in section, lines[start]


def test_scenario_names_are_distinct() -> None:
    names = [load_scenario(p).name for p in SCENARIOS]
    assert len(set(names)) == len(names)
