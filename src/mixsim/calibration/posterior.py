"""A posterior sample of parameter sets: ABC-SMC (population Monte Carlo ABC, Beaumont, Cornuet, Marin and Robert,
Biometrika 2009) on the distance of :mod:`~mixsim.calibration.evaluation`.

The first generation draws its particles from the priors; each later one resamples the last by weight, moves each
draw by a Gaussian kernel of twice the last generation's weighted covariance (in the priors' unit cube) and keeps the
draws whose simulated distance is within the generation's tolerance (the median distance of the last generation),
weighted by prior over kernel density. Every particle is simulated on seeds of its own: the posterior carries the
simulation's chance as the data would. It stops when its budget of simulations is spent, keeping the last complete
generation. The method needs no package beyond numpy (ABC-SMC libraries and neural estimators bring dependencies
heavier than the rest of mixsim together) and works on the very distance the point fit minimizes.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mixsim.calibration.evaluation import evaluate, runs_per_set
from mixsim.calibration.history import History
from mixsim.calibration.lift import Experiment
from mixsim.calibration.parameters import Parameter
from mixsim.calibration.replay import fitted_replay
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback

__all__ = ["POSTERIOR_KEY", "Posterior", "sample_posterior"]

POSTERIOR_KEY = 0xAB5C
"""Spawn key of the posterior's simulations: seeds apart from the point fit's and the checks'."""

INFORMED = 0.5
"""A parameter is informed when its posterior's 90% interval spans less than this share of its prior's."""
CORRELATED = 0.7
"""Pairs of parameters whose posterior correlation (in the priors' unit cube) is above this, in absolute value."""


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of parameter sets (particles), in the priors' unit cube, and what it cost."""

    parameters: tuple[Parameter, ...]
    unit: np.ndarray  # (particles, parameters)
    weights: np.ndarray  # (particles,), summing to 1
    distances: np.ndarray  # (particles,)
    tolerance: float
    generations: int
    simulations: int

    def values(self) -> np.ndarray:
        """The particles' parameter values (particles x parameters)."""
        return np.array([[p.from_unit(u) for p, u in zip(self.parameters, row, strict=True)] for row in self.unit])

    def sample(self, size: int, seed: int = 0) -> pd.DataFrame:
        """``size`` parameter sets drawn from the particles by weight, one column per dotted key."""
        rng = np.random.default_rng(seed)
        rows = rng.choice(len(self.weights), size=size, p=self.weights)
        return pd.DataFrame(self.values()[rows], columns=[p.key for p in self.parameters])

    def summary(self) -> dict[str, dict[str, object]]:
        """Per parameter: ``prior`` range, posterior ``mean`` and ``ci90`` (weighted quantiles) and ``informed``
        (its 90% interval spans less than half its prior's, in the prior's own scale)."""
        values, out = self.values(), {}
        for k, p in enumerate(self.parameters):
            low, high = _quantiles(self.unit[:, k], self.weights, (0.05, 0.95))
            out[p.key] = {
                "prior": [p.low, p.high],
                "mean": float(np.sum(self.weights * values[:, k])),
                "ci90": [p.from_unit(low), p.from_unit(high)],
                "informed": bool(high - low < INFORMED * 0.9),
            }
        return out

    def correlated(self) -> list[dict[str, object]]:
        """Pairs of parameters the data cannot tell apart: weighted correlation above :data:`CORRELATED`."""
        if self.unit.shape[1] < 2:
            return []
        mean = self.weights @ self.unit
        centred = self.unit - mean
        cov = (centred * self.weights[:, None]).T @ centred
        sd = np.sqrt(np.diag(cov))
        out = []
        for i in range(len(self.parameters)):
            for j in range(i + 1, len(self.parameters)):
                if sd[i] > 0 and sd[j] > 0 and abs(cov[i, j] / (sd[i] * sd[j])) > CORRELATED:
                    r = float(cov[i, j] / (sd[i] * sd[j]))
                    out.append({"parameters": [self.parameters[i].key, self.parameters[j].key], "correlation": r})
        return out


def _quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    order = np.argsort(x)
    cumulative = np.cumsum(w[order])
    return [float(x[order][min(int(np.searchsorted(cumulative, q)), len(x) - 1)]) for q in qs]


def sample_posterior(
    scenario: Scenario,
    history: History,
    parameters: Sequence[Parameter],
    *,
    particles: int = 100,
    simulations: int = 1000,
    experiments: Sequence[Experiment] = (),
    seed: int = 0,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Posterior:
    """ABC-SMC over ``parameters`` of ``scenario`` against ``history`` (and ``experiments``).

    Parameters
    ----------
    particles : int, default=100
        Particles per generation.
    simulations : int, default=1000
        The most engine runs (each particle costs one run, and one more per lift-test variant).

    Returns
    -------
    Posterior
        The last complete generation (the first, from the priors, when the budget allows no other).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(POSTERIOR_KEY,)).generate_state(1)[0])
    drawn = 0

    def fresh() -> np.random.SeedSequence:  # the next particle's own seed
        nonlocal drawn
        drawn += 1
        return np.random.SeedSequence(seed, spawn_key=(POSTERIOR_KEY, drawn))

    per = runs_per_set(experiments)
    dims = len(parameters)
    done = 0

    def simulate(unit: np.ndarray) -> np.ndarray:
        nonlocal done
        replays = [
            fitted_replay(scenario, history, parameters, [p.from_unit(u) for p, u in zip(parameters, row, strict=True)])
            for row in unit
        ]
        base = done

        def counted(runs: int, _total: int) -> None:
            if progress is not None:
                progress(base + runs, simulations)

        # Each particle on a seed of its own: the posterior carries the simulation's chance.
        own = [[fresh()] for _ in replays]
        evaluations = evaluate(replays, history, experiments, own, workers, executor, counted)
        done += len(replays) * per
        return np.array([e.distance(history, experiments) for e in evaluations])

    unit = rng.random((particles, dims))
    distances = simulate(unit)
    weights = np.full(particles, 1.0 / particles)
    tolerance, generations = float(np.max(distances)), 1
    while done + particles * per <= simulations:
        tolerance_next = float(np.median(distances))
        cov = 2.0 * np.atleast_2d(np.cov(unit.T, aweights=weights)) + 1e-12 * np.eye(dims)
        chol = np.linalg.cholesky(cov)
        inv = np.linalg.inv(cov)
        kept_unit: list[np.ndarray] = []
        kept_distance: list[float] = []
        while len(kept_unit) < particles and done + particles * per <= simulations:
            picks = rng.choice(particles, size=particles, p=weights)
            moved = unit[picks] + rng.standard_normal((particles, dims)) @ chol.T
            inside = np.all((moved >= 0) & (moved <= 1), axis=1)
            candidates = moved[inside]
            if candidates.size == 0:
                continue
            d = simulate(candidates)
            for row, dist in zip(candidates, d, strict=True):
                if dist <= tolerance_next and len(kept_unit) < particles:
                    kept_unit.append(row)
                    kept_distance.append(float(dist))
        if len(kept_unit) < particles:
            break  # the budget ran out mid-generation: keep the last complete one
        new_unit = np.array(kept_unit)
        diff = new_unit[:, None, :] - unit[None, :, :]
        kernel = np.exp(-0.5 * np.einsum("ijk,kl,ijl->ij", diff, inv, diff))
        new_weights = 1.0 / (kernel @ weights)
        unit, distances = new_unit, np.array(kept_distance)
        weights = new_weights / new_weights.sum()
        tolerance, generations = tolerance_next, generations + 1
    return Posterior(tuple(parameters), unit, weights, distances, tolerance, generations, done)
