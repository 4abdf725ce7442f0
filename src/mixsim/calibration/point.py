"""The point estimate: CMA-ES over the prior ranges, on the distance between the simulated and the observed KPI of
the history's training weeks, under common random numbers.

Every parameter set is simulated with the same seeds (the same customers, the same draws where the sets agree), so
the difference between two sets' distances is theirs, not chance's; the distance is 1 - R² of the mean simulated KPI
against the observed one (the residual sum of squares over the observed variation), so it reads like the fit
statistics. CMA-ES (the ``cma`` package) searches the unit cube of the priors (log scale for log priors), a
generation at a time, each generation's runs in parallel; a single parameter is searched on a grid that narrows
around the best point each generation (CMA-ES needs two dimensions or more).
"""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cma
import numpy as np

from mixsim.calibration.evaluation import evaluate, runs_per_set
from mixsim.calibration.history import History
from mixsim.calibration.lift import Experiment
from mixsim.calibration.parameters import Parameter
from mixsim.calibration.replay import fitted_replay
from mixsim.errors import InputError
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback

__all__ = ["PointFit", "fit_point"]


@dataclass(frozen=True)
class PointFit:
    """The point estimate: each parameter's value, the distance there, and how many simulations the search made."""

    parameters: tuple[Parameter, ...]
    values: tuple[float, ...]
    distance: float
    simulations: int
    generations: int

    def as_dict(self) -> dict[str, float]:
        """The values by dotted key."""
        return {p.key: v for p, v in zip(self.parameters, self.values, strict=True)}


def fit_point(
    scenario: Scenario,
    history: History,
    parameters: Sequence[Parameter],
    *,
    seed: int = 0,
    replications: int = 2,
    simulations: int = 200,
    experiments: Sequence[Experiment] = (),
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> PointFit:
    """Fit ``parameters`` of ``scenario`` to the training weeks of ``history`` by CMA-ES.

    Parameters
    ----------
    scenario : Scenario
        The scenario; it is replayed over the history (:func:`~mixsim.calibration.replay.history_scenario`).
    history : History
        What was observed.
    parameters : sequence of Parameter
        What to fit, with their priors; the search starts at the middle of each prior range.
    seed : int, default=0
        Root seed: of the search, and of the replications every parameter set shares.
    replications : int, default=2
        Runs per parameter set; their mean KPI is compared with the observed one.
    simulations : int, default=200
        The most engine runs the search makes (parameter sets x replications x the runs each set needs: one, and
        those reproducing the lift tests).
    experiments : sequence of Experiment, default=()
        Lift tests (:func:`~mixsim.calibration.lift.read_lift`), reproduced by every parameter set and weighed in
        its distance (:meth:`~mixsim.calibration.evaluation.Evaluation.distance`).
    workers, executor, progress
        As for :func:`mixsim.simulate`; ``progress(done, total)`` counts runs.

    Returns
    -------
    PointFit

    Raises
    ------
    InputError
        With no parameter to fit, fewer than one replication, or fewer simulations than one generation needs.
    """
    if not parameters:
        raise InputError(["calibration: no parameter to fit"])
    if replications < 1:
        raise InputError([f"replications: must be >= 1 (got {replications})"])
    seeds = np.random.SeedSequence(seed).spawn(replications)
    dims = len(parameters)
    popsize = 4 + int(3 * math.log(max(dims, 1)))
    per_set = replications * runs_per_set(experiments)
    if simulations < popsize * per_set:
        raise InputError([f"simulations: at least {popsize * per_set} for one generation (got {simulations})"])
    options = {
        "bounds": [0.0, 1.0],
        "seed": seed + 1,  # cma reads 0 as "a seed from the clock"
        "popsize": popsize,
        "verbose": -9,
        "maxfevals": simulations // per_set,
    }
    strategy = cma.CMAEvolutionStrategy([0.5] * dims, 0.3, options) if dims > 1 else _GridSearch(popsize)
    done = 0
    best_u: list[float] = [0.5] * dims
    best = math.inf
    generations = 0
    while not strategy.stop() and done + popsize * per_set <= simulations:
        candidates = strategy.ask()
        scenarios = [
            fitted_replay(scenario, history, parameters, [p.from_unit(u) for p, u in zip(parameters, x, strict=True)])
            for x in candidates
        ]
        base = done

        def counted(runs: int, _total: int, base: int = base) -> None:
            if progress is not None:
                progress(base + runs, simulations)

        evaluations = evaluate(scenarios, history, experiments, seeds, workers, executor, counted)
        done += len(scenarios) * per_set
        losses = [e.distance(history, experiments) for e in evaluations]
        strategy.tell(candidates, losses)
        generations += 1
        k = int(np.argmin(losses))
        if losses[k] < best:
            best, best_u = losses[k], list(candidates[k])
    values = tuple(p.from_unit(u) for p, u in zip(parameters, best_u, strict=True))
    return PointFit(tuple(parameters), values, best, done, generations)


class _GridSearch:
    """A search of [0, 1] for one parameter, with CMA-ES's ask and tell: each generation ``size`` evenly spaced
    points, then the window narrows to the best point's neighbours."""

    def __init__(self, size: int) -> None:
        self.size = max(size, 3)
        self.low, self.high = 0.0, 1.0
        self.points: list[float] = []

    def stop(self) -> bool:
        return self.high - self.low < 1e-6

    def ask(self) -> list[list[float]]:
        self.points = list(np.linspace(self.low, self.high, self.size))
        return [[u] for u in self.points]

    def tell(self, _candidates: list[list[float]], losses: list[float]) -> None:
        k = int(np.argmin(losses))
        step = (self.high - self.low) / (self.size - 1)
        self.low, self.high = max(0.0, self.points[k] - step), min(1.0, self.points[k] + step)
