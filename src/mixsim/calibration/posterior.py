"""A posterior sample of parameter sets by approximate Bayesian computation (ABC) on the distance of
:mod:`~mixsim.calibration.evaluation`: a parameter set belongs to the posterior when its simulation, on seeds of its
own, lands within a tolerance of what was observed.

The default method (``"smc"``) is adaptive sequential Monte Carlo ABC (Del Moral, Doucet and Jasra, Statistics and
Computing 2012): the first generation of particles is drawn from the priors; each later one shrinks the tolerance to
keep 70% of the particles alive, resamples the particles within it back to full size, and moves each by one
Metropolis step of a Gaussian random walk (twice the distinct particles' covariance, in the priors' unit cube, where
the priors are uniform, reflected at its faces): the proposal is kept when its own simulation is within the
tolerance. A generation costs one simulation per particle, whatever the acceptance. The tolerance never goes below
the distance a good parameter set gets on fresh chance (the point estimate's median over a few seeds of its own):
below it only lucky runs would pass, and a sample closing in on luck is narrower than the data allow. ``"pmc"`` is
ABC population Monte Carlo (Beaumont, Cornuet, Marin and Robert, Biometrika 2009), which simulates fresh draws until
a generation is full: it discards the draws beyond the tolerance, so on the same budget it goes through fewer
generations. Both stop when their budget of simulations is spent. Every particle is simulated on seeds of its own,
so the posterior carries the simulation's chance as the data would. The methods need no package beyond numpy and
work on the very distance the point fit minimizes; docs/calibration.md says how they were chosen.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mixsim.calibration.evaluation import evaluate, runs_per_set
from mixsim.calibration.history import History
from mixsim.calibration.lift import Experiment
from mixsim.calibration.parameters import Parameter
from mixsim.calibration.replay import fitted_replay
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback

__all__ = ["GENERATIONS", "POSTERIOR_KEY", "Posterior", "posterior_budget", "sample_posterior"]

POSTERIOR_KEY = 0xAB5C
"""Spawn key of the posterior's simulations: seeds apart from the point fit's and the checks'."""

INFORMED = 0.5
"""A parameter is informed when its posterior's 90% interval spans less than this share of its prior's."""
ALIVE = 0.7
"""The share of the particles kept alive when the tolerance shrinks (the tolerance: that quantile of their
distances). Halving them went faster, but its 90% intervals held the truth 0.67 to 0.71 of the time on synthetic
truths (benchmarks/posterior_methods.py)."""
FLOOR_RUNS = 5
"""Runs of a good parameter set, on seeds of their own, whose median distance is the lowest tolerance."""
GENERATIONS = 4
"""Generations of particles the posterior goes through by default (the first drawn from the priors)."""
OUTSIDE_TRIES = 100
"""``"pmc"`` stops after this many draws of a whole generation's moves in a row left the priors' cube."""
MIXING = 0.3
"""The tolerance shrinks only after a Metropolis step that moved at least this share of the particles."""
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
    floor: float = float("nan")  # the lowest tolerance ("smc"): a good parameter set's distance on fresh chance

    @property
    def settled(self) -> bool:
        """The tolerance has come down to its floor: more generations would mix the particles further but not
        narrow the sample much (``"pmc"``: unknown, False)."""
        return bool(self.tolerance <= self.floor * (1 + 1e-9))

    def to_dict(self) -> dict[str, Any]:
        """``particles``, ``generations``, ``simulations``, ``tolerance``, ``floor`` and ``settled``."""
        return {
            "particles": len(self.weights),
            "generations": self.generations,
            "simulations": self.simulations,
            "tolerance": self.tolerance,
            "floor": self.floor,
            "settled": self.settled,
        }

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


def posterior_budget(particles: int, generations: int, experiments: Sequence[Experiment] = ()) -> int:
    """The engine runs ``"smc"`` needs to go through ``generations`` generations of ``particles`` particles: one
    run per particle and generation and the :data:`FLOOR_RUNS` of the floor, each with its lift tests' variants."""
    return runs_per_set(experiments) * (particles * generations + FLOOR_RUNS)


def sample_posterior(
    scenario: Scenario,
    history: History,
    parameters: Sequence[Parameter],
    *,
    particles: int = 100,
    simulations: int = 1000,
    experiments: Sequence[Experiment] = (),
    seed: int = 0,
    method: str = "smc",
    centre: Sequence[float] | None = None,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Posterior:
    """A posterior sample over ``parameters`` of ``scenario`` against ``history`` (and ``experiments``) by ABC.

    Parameters
    ----------
    particles : int, default=100
        Particles per generation.
    simulations : int, default=1000
        The most engine runs (each particle costs one run, and one more per lift-test variant).
    seed : int, default=0
        Root seed of the draws and of every particle's own runs.
    method : {"smc", "pmc"}, default="smc"
        Adaptive sequential Monte Carlo ABC, or ABC population Monte Carlo (see the module).
    centre : sequence of float, optional
        A good parameter set (the point estimate), one value per parameter: its median distance over
        :data:`FLOOR_RUNS` runs on seeds of their own is the lowest tolerance ``"smc"`` goes to; default the mean
        of the first generation's best tenth.
    workers, executor, progress
        As for :func:`mixsim.simulate`; ``progress(done, total)`` counts runs.

    Returns
    -------
    Posterior
        The last generation (``"pmc"``: the last complete one; the first, from the priors, when the budget allows no
        other).
    """
    if method not in ("smc", "pmc"):
        raise ValueError(f"method: 'smc' or 'pmc' (got {method!r})")
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
    if method == "pmc":
        return _population_monte_carlo(parameters, unit, distances, simulate, lambda: done, simulations, per, rng)
    # The floor: the distance a good set itself gets on fresh chance (its median over FLOOR_RUNS seeds). Below
    # it, only lucky runs would pass, and the particles would close in on luck rather than on the data.
    if centre is None:
        best = unit[np.argsort(distances)[: max(2, particles // 10)]]
        around = best.mean(axis=0)
    else:
        around = np.array([p.to_unit(v) for p, v in zip(parameters, centre, strict=True)])
    floor = float(np.median(simulate(np.repeat(around[None, :], FLOOR_RUNS, axis=0))))
    tolerance, generations, accepted = float(np.max(distances)), 1, 1.0
    while done + particles * per <= simulations:
        # While the particles still move (the last step kept at least MIXING of its proposals), shrink the tolerance
        # to keep ALIVE of the particles and resample those back to full size; else keep the tolerance,
        # so that particles stuck where one lucky run put them get more steps before it shrinks again. Then move
        # each by one Metropolis step at the tolerance: a proposal (reflected into the priors' cube, where they are
        # uniform: the step stays symmetric) is kept when its own simulation is within the tolerance.
        if accepted >= MIXING:
            tolerance = max(float(np.quantile(distances, ALIVE)), floor)
            alive = np.flatnonzero(distances <= tolerance)
            picks = alive[rng.integers(len(alive), size=particles)]
            unit, distances = unit[picks], distances[picks]
        distinct = np.unique(unit, axis=0)
        spread = np.atleast_2d(np.cov(distinct.T)) if len(distinct) > 1 else np.zeros((dims, dims))
        cov = 2.0 * spread + 1e-10 * np.eye(dims)  # the random walk: twice the distinct particles' covariance
        moved = _reflected(unit + rng.standard_normal((particles, dims)) @ np.linalg.cholesky(cov).T)
        d = simulate(moved)
        kept = np.flatnonzero(d <= tolerance)
        unit[kept], distances[kept] = moved[kept], d[kept]
        accepted = kept.size / particles
        generations += 1
    weights = np.full(particles, 1.0 / particles)
    return Posterior(tuple(parameters), unit, weights, distances, tolerance, generations, done, floor)


def _reflected(x: np.ndarray) -> np.ndarray:
    """``x`` folded into the unit cube by reflection at its faces (a symmetric random walk stays symmetric): in many
    dimensions almost every unfolded step would leave the cube somewhere."""
    folded = np.mod(x, 2.0)
    return np.where(folded > 1.0, 2.0 - folded, folded)


def _population_monte_carlo(
    parameters: Sequence[Parameter],
    unit: np.ndarray,
    distances: np.ndarray,
    simulate: Callable[[np.ndarray], np.ndarray],
    spent: Callable[[], int],
    simulations: int,
    per: int,
    rng: np.random.Generator,
) -> Posterior:
    """ABC population Monte Carlo (Beaumont et al. 2009) from a first generation drawn from the priors: each
    generation resamples the last by weight, moves each draw by a Gaussian kernel of twice the last generation's
    weighted covariance and keeps the draws within the last generation's median distance until it has as many as
    before, weighted by prior over kernel density; the last complete generation is returned."""
    particles, dims = unit.shape
    weights = np.full(particles, 1.0 / particles)
    tolerance, generations = float(np.max(distances)), 1
    while spent() + particles * per <= simulations:
        tolerance_next = float(np.median(distances))
        cov = 2.0 * np.atleast_2d(np.cov(unit.T, aweights=weights)) + 1e-12 * np.eye(dims)
        chol = np.linalg.cholesky(cov)
        inv = np.linalg.inv(cov)
        kept_unit: list[np.ndarray] = []
        kept_distance: list[float] = []
        tries = 0
        while len(kept_unit) < particles and spent() + particles * per <= simulations:
            picks = rng.choice(particles, size=particles, p=weights)
            moved = unit[picks] + rng.standard_normal((particles, dims)) @ chol.T
            inside = np.all((moved >= 0) & (moved <= 1), axis=1)
            candidates = moved[inside]
            if candidates.size == 0:
                tries += 1
                if tries >= OUTSIDE_TRIES:
                    break  # the kernel keeps leaving the cube (many parameters): stop with what there is
                continue
            tries = 0
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
    return Posterior(tuple(parameters), unit, weights, distances, tolerance, generations, spent())
