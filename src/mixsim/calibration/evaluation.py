"""Simulating parameter sets against what was observed: each set's replay over the history and the runs that
reproduce the lift tests, on the same seeds, and the distance the search minimizes."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mixsim.calibration.history import History
from mixsim.calibration.lift import Experiment, measure, standard_error, variants
from mixsim.calibration.replay import simulated_kpi
from mixsim.engine import World
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, run_worlds

__all__ = ["Evaluation", "distance", "evaluate", "runs_per_set"]


@dataclass(frozen=True)
class Evaluation:
    """One parameter set simulated: its KPI per replication and period, and each lift test's figure per
    replication (replications x experiments)."""

    kpi: np.ndarray
    lifts: np.ndarray

    def distance(self, history: History, experiments: Sequence[Experiment]) -> float:
        """What the search minimizes: 1 - R² of the mean KPI against the observed one over the training weeks, plus
        each lift test's squared z-score (simulated mean minus observed, over its standard error) divided by the
        training periods, so that a test missed by one standard error weighs as much as a period missed by the
        observed KPI's whole spread."""
        train = history.train_periods
        total = distance(history.observed[:train], self.kpi[:, :train].mean(axis=0))
        for j, experiment in enumerate(experiments):
            simulated = self.lifts[:, j]
            z = (float(np.mean(simulated)) - experiment.observed) / standard_error(experiment, simulated)
            total += z * z / max(train, 1)
        return total


def distance(observed: np.ndarray, simulated: np.ndarray) -> float:
    """1 - R² of ``simulated`` against ``observed``: the residual sum of squares over the observed variation (over
    the sum of squares for a flat observation)."""
    total = float(np.sum((observed - observed.mean()) ** 2))
    residual = float(np.sum((simulated - observed) ** 2))
    return residual / total if total > 0 else residual / max(float(np.sum(observed**2)), 1.0)


def runs_per_set(experiments: Sequence[Experiment]) -> int:
    """Engine runs per parameter set and replication: the replay and each test's variants."""
    return 1 + sum(2 if e.layout == "spend_change" else 1 for e in experiments)


def evaluate(
    replays: Sequence[Scenario],
    history: History,
    experiments: Sequence[Experiment],
    seeds: Sequence[np.random.SeedSequence] | Sequence[Sequence[np.random.SeedSequence]],
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> list[Evaluation]:
    """Simulate each replay and the variants of its lift tests (all in one batch of work), with ``seeds``: the same
    for every replay (common random numbers), or a sequence of seeds per replay."""
    per_replay: list[Sequence[np.random.SeedSequence]] = (
        [seeds] * len(replays)  # type: ignore[list-item]
        if not seeds or isinstance(seeds[0], np.random.SeedSequence)
        else list(seeds)  # type: ignore[arg-type]
    )
    plans = [[replay, *(v for e in experiments for v in variants(replay, history, e))] for replay in replays]
    worlds = [World(s, seed) for plan, own in zip(plans, per_replay, strict=True) for s in plan for seed in own]
    records = run_worlds(worlds, workers, executor, progress)
    out = []
    at = 0
    for replay, plan, own in zip(replays, plans, per_replay, strict=True):
        r = len(own)
        kpis = [
            np.array([simulated_kpi(records[at + k * r + i], replay, history) for i in range(r)])
            for k in range(len(plan))
        ]
        at += len(plan) * r
        lifts = np.zeros((r, len(experiments)))
        k = 1
        for j, experiment in enumerate(experiments):
            n = 2 if experiment.layout == "spend_change" else 1
            for i in range(r):
                lifts[i, j] = measure(experiment, history, kpis[0][i], [kpis[k + m][i] for m in range(n)])
            k += n
        out.append(Evaluation(kpis[0], lifts))
    return out
