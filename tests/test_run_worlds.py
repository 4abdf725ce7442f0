"""Many runs in batches (`mixsim.simulation.run_worlds`) and the memory that sizes them (`mixsim.memory`).

Whatever the batches, the workers or the order, every world's record is the one `engine.run` gives it alone, bit
for bit; a batch is as large as half of the memory left to a worker allows, never larger than `MAX_BATCH`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

import mixsim.simulation
from mixsim.engine import RunRecord, World, run
from mixsim.memory import MAX_BATCH, batch_size, memory_needed, world_bytes
from mixsim.scenario import Scenario
from mixsim.simulation import run_worlds

MakeScenario = Callable[..., Scenario]


def same(a: RunRecord, b: RunRecord) -> bool:
    """Every field equal, bit for bit (the journal's touches included)."""
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "journal":
            if (x is None) != (y is None) or (x is not None and x.touches.tobytes() != y.touches.tobytes()):
                return False
        elif x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
            return False
    return True


def worlds_of(make_scenario: MakeScenario) -> list[World]:
    """Worlds as callers make them: replications, a channel off or at 95%, another population (another batch key),
    a journaled one; seeds interleaved, as a curve's tasks come."""
    base = make_scenario("scenario.population=3000")
    other = make_scenario("scenario.population=2000")
    seeds = np.random.SeedSequence(4).spawn(3)
    names = base.channel_names
    worlds = []
    for r in range(3):
        worlds.append(World(base, seeds[r]))
        worlds.append(World(base.with_spend({names[0]: 0.0}), seeds[r]))
        worlds.append(World(base.with_spend({names[1]: base.channels[1].spend * 0.95}), seeds[r]))
        worlds.append(World(other, seeds[r], journeys=0.5 if r == 1 else 0.0))
    return worlds


@pytest.mark.parametrize("size", [1, 2, 5, MAX_BATCH])
@pytest.mark.parametrize("workers", [1, 2])
def test_every_world_is_its_run_alone(
    make_scenario: MakeScenario, monkeypatch: pytest.MonkeyPatch, size: int, workers: int
) -> None:
    monkeypatch.setattr(mixsim.simulation, "batch_size", lambda *args, **kwargs: size)
    worlds = worlds_of(make_scenario)
    records = run_worlds(worlds, workers=workers)
    assert len(records) == len(worlds)
    for world, record in zip(worlds, records, strict=True):
        assert same(record, run(world.scenario, world.seed, journeys=world.journeys))
    # Different worlds did give different records (the comparison can fail).
    assert not same(records[0], records[1])


def test_progress_counts_runs_to_the_total(make_scenario: MakeScenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mixsim.simulation, "batch_size", lambda *args, **kwargs: 5)
    worlds = worlds_of(make_scenario)
    calls: list[tuple[int, int]] = []
    run_worlds(worlds, progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert all(total == len(worlds) for _, total in calls)
    assert done == sorted(set(done)) and done[-1] == len(worlds)
    assert len(done) > len(worlds) / 5  # a batch run here reports its days too, not only its end


def test_no_world_no_run() -> None:
    assert run_worlds([]) == []


def test_a_batch_fits_in_half_of_what_a_worker_has(make_scenario: MakeScenario) -> None:
    scenario = make_scenario("scenario.population=100000")
    first, each = memory_needed(scenario), world_bytes(scenario)
    assert 0 < each < first
    for workers in (1, 2, 4):
        for available in (first, 2 * first + 3 * each * workers, 10**12):
            size = batch_size(scenario, workers, available)
            assert 1 <= size <= MAX_BATCH
            if size > 1:
                assert first + (size - 1) * each <= available / workers / 2
            if size < MAX_BATCH:
                assert first + size * each > available / workers / 2
    assert batch_size(scenario, 1, 1) == 1  # nothing left: one world at a time
    assert batch_size(scenario, 1, 10**15) == MAX_BATCH


def test_more_customers_fewer_worlds(make_scenario: MakeScenario) -> None:
    small, large = make_scenario("scenario.population=10000"), make_scenario("scenario.population=1000000")
    available = 4 * memory_needed(large)
    assert batch_size(large, 1, available) < batch_size(small, 1, available)
