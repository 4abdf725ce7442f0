"""The memory guard: every scenario a command simulates is checked before any run, replications count, and a
refusal names the file, the variant or the cell that does not fit."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import SMALL_TOML
from mixsim import InputError, simulate
from mixsim.engine import run
from mixsim.memory import MAX_REPLICATIONS, memory_for, memory_needed, record_bytes
from mixsim.scenario import load_scenario, parse_scenario

RunCli = Callable[..., tuple[int, str, str]]


def small(**changes: Any) -> Any:
    data = tomllib.loads(SMALL_TOML)
    data["scenario"].update(changes)
    return parse_scenario(data, source="small")


def test_a_runs_record_grows_with_days_and_channels_not_customers() -> None:
    base = small()
    assert record_bytes(small(population=2_000_000)) == record_bytes(base)
    assert record_bytes(small(horizon_days=40)) > record_bytes(base)
    # at_once runs at their peak, and every run's record until the result is made
    peak, record = memory_needed(base), record_bytes(base)
    assert memory_for(base, 1_000, 2) == 2 * peak + 1_000 * record


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Give the command line a machine with this many bytes available, and make any simulation fail the test: a
    refusal must come before the first run."""

    def give(available: int) -> None:
        monkeypatch.setattr("mixsim.cli.outputs.memory_available", lambda: available)

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("simulated before the memory was checked")

    monkeypatch.setattr("mixsim.cli.simulate.simulate", never)
    monkeypatch.setattr("mixsim.cli.simulate.compare", never)
    monkeypatch.setattr("mixsim.cli.simulate.run_sweep", never)
    return give


def test_replications_count_in_the_memory_a_command_needs(
    run_cli: RunCli, scenario_file: Path, machine: Callable[[int], None]
) -> None:
    """-r 1,000,000,000 once passed the guard (only the runs at once were counted) and filled the memory."""
    scenario = load_scenario(scenario_file)
    machine(memory_needed(scenario) + 5_000 * record_bytes(scenario))
    code, out, err = run_cli("simulate", scenario_file, "-w", "1", "-r", "50000")
    assert code == 2 and out == ""
    assert err.startswith(f"{scenario_file}: scenario.population 2,000 over 20 days needs about")
    assert "(1 run(s) at once, and the results of 50,000 runs)" in err and "--replications" in err


def test_absurd_replication_counts_are_refused_in_one_line(run_cli: RunCli, scenario_file: Path) -> None:
    code, _, err = run_cli("simulate", scenario_file, "-r", "1000000000")
    assert code == 2 and f"must be at most {MAX_REPLICATIONS:,} (got 1,000,000,000)" in err
    code, _, err = run_cli("optimize", scenario_file, "--verify", "--verify-replications", "1000000000")
    assert code == 2 and "--verify-replications" in err and "at most" in err
    with pytest.raises(InputError, match="replications must be from 1 to 100,000"):
        simulate(load_scenario(scenario_file), replications=10**9)


def test_compare_checks_every_variant_and_names_the_one_that_does_not_fit(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path, machine: Callable[[int], None]
) -> None:
    """--vary scenario.population=2000,5000000000 once simulated for 13 s and took 4.9 GB before a MemoryError;
    a second file too large was blamed on the first."""
    machine(memory_for(load_scenario(scenario_file), 100, 4) * 2)
    code, _, err = run_cli("compare", scenario_file, "--vary", "scenario.population=2000,5000000000", "-w", "1")
    assert code == 2
    assert err.startswith(f"{scenario_file} (--vary scenario.population=5000000000): scenario.population 5,000,000,000")
    big = tmp_path / "big.toml"
    big.write_text(SMALL_TOML.replace("population = 2_000", "population = 5_000_000_000"), encoding="utf-8")
    code, _, err = run_cli("compare", scenario_file, big, "-w", "1")
    assert code == 2 and err.startswith(f"{big}: scenario.population 5,000,000,000")
    # a variant too large behind one that fits, whatever its place
    code, _, err = run_cli("compare", scenario_file, scenario_file, big, "-w", "1")
    assert code == 2 and err.startswith(f"{big}:")


def test_sweep_names_its_largest_cell(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path, machine: Callable[[int], None]
) -> None:
    machine(memory_for(load_scenario(scenario_file), 100, 4) * 2)
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\n"scenario.population" = [2000, 5000000000, 3000]\n', encoding="utf-8")
    code, _, err = run_cli("sweep", scenario_file, "--grid", grid, "--out", tmp_path / "out", "-w", "1")
    assert code == 2 and err.startswith(f"{grid}: cell 1 (scenario.population=5000000000): scenario.population")


def test_a_runs_record_is_no_larger_than_its_estimate() -> None:
    """The estimate holds the arrays of a real run's record (with room to spare, but not ten times over)."""
    scenario = small()
    record = run(scenario, np.random.SeedSequence(1))
    arrays = sum(v.nbytes for v in vars(record).values() if isinstance(v, np.ndarray))
    assert arrays <= record_bytes(scenario) - 4096 <= 2 * arrays
