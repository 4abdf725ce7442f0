"""Calibrating a scenario to a history: the point fit (:mod:`~mixsim.calibration.point`), then the fitted scenario
replayed over the whole history, training weeks and holdout, on seeds of its own, to show how well it reproduces
what it was fitted to and how well it forecasts what it was not."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mixsim._version import __version__
from mixsim.calibration.baseline import baseline_parameters, demand, is_baseline
from mixsim.calibration.evaluation import evaluate, runs_per_set
from mixsim.calibration.fit import fit_statistics
from mixsim.calibration.history import History
from mixsim.calibration.lift import Experiment
from mixsim.calibration.parameters import apply, parameters_of
from mixsim.calibration.point import PointFit, fit_point
from mixsim.calibration.posterior import GENERATIONS, Posterior, posterior_budget, sample_posterior
from mixsim.calibration.replay import fitted_replay, simulated_kpi
from mixsim.engine import World
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed, run_worlds
from mixsim.tables import interval, json_ready

__all__ = [
    "CHECK_KEY",
    "DRAWS",
    "DRAWS_KEY",
    "Calibrated",
    "calibrate",
    "calibrate_run_count",
    "channel_effects",
    "posterior_effects",
]

CHECK_KEY = 0xCA11B
"""Spawn key of the runs that check the fit: seeds apart from those the search used."""
DRAWS_KEY = 0xCA11C
"""Spawn key of the runs of the posterior's parameter sets that measure each channel's effect."""
DRAWS = 30
"""Parameter sets drawn from the posterior to measure each channel's effect, by default."""


@dataclass(frozen=True)
class Calibrated:
    """A scenario fitted to a history, and how well it fits.

    Attributes
    ----------
    scenario : Scenario
        The scenario with the point estimates (its own horizon and plan): every command accepts it.
    history : History
        What it was fitted to.
    point : PointFit
        The search's result.
    simulated : ndarray, shape (replications, periods)
        The fitted scenario's KPI over the whole history, per check replication.
    seed : int
        Root seed.
    incremental : ndarray, shape (replications, channels)
        Per check replication and channel of the scenario, the KPI over the history the channel's spend made: the
        replay minus the same replay with the channel off, on the same random numbers (0 for a channel without
        spend in the history).
    experiments : tuple of Experiment
        The lift tests fitted to.
    lifts : ndarray, shape (replications, experiments)
        Each test reproduced by the fitted scenario, per check replication.
    posterior : Posterior or None
        The posterior sample of parameter sets, when one was drawn.
    posterior_incremental : ndarray, shape (draws, channels), optional
        As ``incremental``, for parameter sets drawn from the posterior, each run once on a seed of its own: its
        spread carries both what the data leave uncertain and the simulation's chance.
    """

    scenario: Scenario
    history: History
    point: PointFit
    simulated: np.ndarray
    seed: int
    incremental: np.ndarray | None = None
    experiments: tuple[Experiment, ...] = ()
    lifts: np.ndarray | None = None
    posterior: Posterior | None = None
    posterior_incremental: np.ndarray | None = None

    def statistics(self) -> dict[str, dict[str, float]]:
        """``train`` and ``holdout`` fit statistics (R², NRMSE, MAPE) of the mean simulated KPI; the holdout's are
        NaN without a holdout."""
        mean = self.simulated.mean(axis=0)
        train = self.history.train_periods
        observed = self.history.observed
        return {
            "train": fit_statistics(observed[:train], mean[:train]),
            "holdout": fit_statistics(observed[train:], mean[train:]),
        }

    def channel_values(self) -> dict[str, dict[str, Any]]:
        """Per channel with spend in the history: ``incremental`` (its KPI over the history) and, for a revenue
        KPI, ``roas`` (that per dollar of its history spend), each ``{"mean", "ci90"}``; ``uncertainty`` says what
        the interval carries: ``"parameters and chance"`` (over parameter sets drawn from the posterior) or
        ``"chance"`` (over the check runs of the point estimate, when no posterior was drawn)."""
        effects = self.posterior_incremental if self.posterior_incremental is not None else self.incremental
        if effects is None:
            return {}
        carries = "chance" if self.posterior_incremental is None else "parameters and chance"
        out: dict[str, dict[str, Any]] = {}
        for k, name in enumerate(self.scenario.channel_names):
            spend = float(self.history.spend[name].sum()) if name in self.history.spend else 0.0
            if spend <= 0:
                continue
            values = {"incremental": effects[:, k]}
            if self.history.kpi == "revenue":
                values["roas"] = effects[:, k] / spend
            out[name] = {"uncertainty": carries}
            for metric, v in values.items():
                mean, low, high = interval(v)
                out[name][metric] = {"mean": float(mean), "ci90": [float(low), float(high)]}
        return out

    def to_frame(self) -> pd.DataFrame:
        """Period by period: ``date``, ``observed``, ``simulated`` (mean of the check runs), ``low`` and ``high``
        (the interval holding 90% of them), ``part`` (``train`` or ``holdout``) and ``baseline`` (the fitted demand
        multiplier of the period's week; 1 where no baseline was fitted)."""
        mean, low, high = interval(self.simulated)
        train = self.history.train_periods
        terms = {k: v for k, v in self.point.as_dict().items() if is_baseline(k)}
        week = np.arange(self.history.periods) * self.history.period_days // 7
        return pd.DataFrame(
            {
                "date": [d.isoformat() for d in self.history.dates],
                "observed": self.history.observed,
                "simulated": mean,
                "low": low,
                "high": high,
                "part": ["train" if k < train else "holdout" for k in range(self.history.periods)],
                "baseline": demand(self.history, terms)[week],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain data (see :meth:`to_json`)."""
        history = self.history
        holdout = history.periods - history.train_periods
        per_week = 7 // history.period_days
        parameters: dict[str, dict[str, Any]] = {
            p.key: {"prior": [p.low, p.high], "log_prior": p.log, "point": v}
            for p, v in zip(self.point.parameters, self.point.values, strict=True)
        }
        correlated: list[dict[str, object]] = []
        if self.posterior is not None:
            for key, figures in self.posterior.summary().items():
                parameters[key].update(
                    posterior_mean=figures["mean"], posterior_ci90=figures["ci90"], informed=figures["informed"]
                )
            correlated = self.posterior.correlated()
        return {
            "kpi": history.kpi,
            "history": history.source,
            "weeks": {"train": history.train_periods // per_week, "holdout": holdout // per_week},
            **self.statistics(),
            "parameters": parameters,
            "correlated": correlated,
            "channels": self.channel_values(),
            "experiments": self.experiment_values(),
            "distance": self.point.distance,
            "posterior": None if self.posterior is None else self.posterior.to_dict(),
            "simulations": self.point.simulations
            + self.check_runs
            + (0 if self.posterior is None else self.posterior.simulations),
            "seed": self.seed,
            "version": __version__,
        }

    def experiment_values(self) -> list[dict[str, Any]]:
        """Each lift test: ``row`` (of its file), ``channel``, ``layout``, ``test`` (in words), ``observed`` with its
        ``standard_error`` (null: the simulated test's spread was used) and ``simulated`` (``{"mean", "ci90"}`` over
        the check runs of the fitted scenario)."""
        out = []
        for j, e in enumerate(self.experiments):
            assert self.lifts is not None
            mean, low, high = interval(self.lifts[:, j])
            out.append(
                {
                    "row": e.row,
                    "channel": e.channel,
                    "layout": e.layout,
                    "test": e.label,
                    "observed": e.observed,
                    "standard_error": e.standard_error,
                    "simulated": {"mean": float(mean), "ci90": [float(low), float(high)]},
                }
            )
        return out

    @property
    def check_runs(self) -> int:
        """Engine runs after the search: the fitted replay and its lift tests, and each channel with spend off, per
        check replication; and each posterior draw with every such channel on and off."""
        channels = 0 if self.incremental is None else int(np.count_nonzero(self.incremental.any(axis=0)))
        draws = 0 if self.posterior_incremental is None else self.posterior_incremental.shape[0]
        return self.simulated.shape[0] * (runs_per_set(self.experiments) + channels) + draws * (1 + channels)

    def to_json(self, indent: int | None = 2) -> str:
        """One JSON object: ``kpi``, ``history`` (the file), ``weeks`` (``train``, ``holdout``), ``train`` and
        ``holdout`` (``r2``, ``nrmse``, ``mape``), ``parameters`` (each fitted key's prior range, whether the prior
        is log-uniform, and the point estimate), ``channels`` (:meth:`channel_values`), ``distance`` (1 - R² of
        the search's best set on the training weeks), ``posterior`` (:meth:`Posterior.to_dict
        <mixsim.calibration.posterior.Posterior.to_dict>`, or null), ``simulations`` (engine runs in all),
        ``seed`` and ``version``; undefined figures are ``null``."""
        return json.dumps(json_ready(self.to_dict()), indent=indent, allow_nan=False)


def calibrate_run_count(
    simulations: int,
    check_replications: int,
    channels: int = 0,
    experiments: Sequence[Experiment] = (),
    particles: int = 0,
    draws: int = 0,
    generations: int = GENERATIONS,
) -> int:
    """The most engine runs :func:`calibrate` makes (for a progress bar), with ``channels`` channels spending in
    the history, a posterior of ``particles`` particles over ``generations`` generations and ``draws`` of its
    parameter sets measuring the channels' effects."""
    per = runs_per_set(experiments)
    posterior = 0 if particles == 0 else posterior_budget(particles, generations, experiments)
    posterior += min(draws, particles) * (1 + channels)
    return simulations + check_replications * (per + channels) + posterior


def calibrate(
    scenario: Scenario,
    history: History,
    *,
    seed: int | None = None,
    replications: int = 2,
    simulations: int = 200,
    check_replications: int = 10,
    baseline: bool = True,
    experiments: Sequence[Experiment] = (),
    particles: int = 0,
    generations: int = GENERATIONS,
    draws: int = DRAWS,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Calibrated:
    """Fit ``scenario``'s parameters (``[calibration.parameters]``, else the default set) to ``history``.

    Parameters
    ----------
    scenario : Scenario
        The scenario the history is of.
    history : History
        What was observed (:func:`~mixsim.calibration.history.read_history`).
    seed : int, optional
        Root seed; default the scenario's, else 0.
    replications : int, default=2
        Runs per parameter set during the search.
    simulations : int, default=200
        The most runs the search makes.
    check_replications : int, default=10
        Runs of the fitted scenario over the whole history, on seeds of their own, for the fit statistics and the
        band of ``fit.csv``.
    baseline : bool, default=True
        Fit the baseline of demand too (:mod:`~mixsim.calibration.baseline`: a trend, the yearly season over a
        year or more, the history's controls), so that what the market would have bought anyway is not credited
        to media.
    experiments : sequence of Experiment, default=()
        Lift tests (:func:`~mixsim.calibration.lift.read_lift`): reproduced by every parameter set of the search and
        weighed in its distance, then by the fitted scenario on the check seeds.
    particles : int, default=0
        Particles of the posterior sample (:func:`~mixsim.calibration.posterior.sample_posterior`); 0 draws none.
    generations : int, default=4
        Generations of the posterior's particles (:func:`~mixsim.calibration.posterior.posterior_budget` runs):
        each shrinks the tolerance towards what a good parameter set gets on fresh chance, so more generations give
        a posterior closer to what the data allow (a lift test narrows its channel only once the tolerance is near
        that floor; docs/calibration.md).
    draws : int, default=30
        Parameter sets drawn from the posterior (no more than its particles) to measure each channel's effect with
        the uncertainty the data leave (each run once with every channel on, and once per channel off).
    workers, executor, progress
        As for :func:`mixsim.simulate`.

    Returns
    -------
    Calibrated
    """
    if particles > 0 and generations < 1:
        raise ValueError(f"generations: at least 1 (got {generations})")
    seed = root_seed(scenario, seed)
    parameters = [] if not baseline else baseline_parameters(history)
    parameters = [
        *parameters_of(scenario, [c for c in scenario.channel_names if c in history.spend or c in history.activity]),
        *parameters,
    ]
    point = fit_point(
        scenario,
        history,
        parameters,
        seed=seed,
        replications=replications,
        simulations=simulations,
        experiments=experiments,
        workers=workers,
        executor=executor,
        progress=progress,
    )
    fitted = apply(scenario, parameters, point.values)
    replay = fitted_replay(scenario, history, parameters, point.values)
    seeds = np.random.SeedSequence(seed, spawn_key=(CHECK_KEY,)).spawn(check_replications)

    # The fitted replay and its lift tests, then each channel that spent switched off, on the same seeds.
    checked = evaluate([replay], history, experiments, seeds, workers, executor, progress)[0]
    incremental = channel_effects([replay] * len(seeds), seeds, history, workers, executor, progress, checked.kpi)
    posterior = drawn = None
    if particles > 0:
        budget = posterior_budget(particles, generations, experiments)
        posterior = sample_posterior(
            scenario, history, parameters, particles=particles, simulations=budget, experiments=experiments,
            seed=seed, centre=point.values, workers=workers, executor=executor, progress=progress,
        )  # fmt: skip
        draws = min(draws, particles)  # no more than the particles to draw from
        if draws > 0:
            drawn = posterior_effects(scenario, history, posterior, draws, seed, workers, executor, progress)
    fitted = dataclasses.replace(fitted, overrides=())
    return Calibrated(
        fitted, history, point, checked.kpi, seed, incremental, tuple(experiments), checked.lifts, posterior, drawn
    )


def posterior_effects(
    scenario: Scenario,
    history: History,
    posterior: Posterior,
    draws: int,
    seed: int,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Each channel's incremental KPI over the history (draws x channels) for ``draws`` parameter sets drawn from
    ``posterior``, each replayed on a seed of its own (:data:`DRAWS_KEY`) with every channel on and each off."""
    sets = posterior.sample(draws, seed).to_numpy()
    replays = [fitted_replay(scenario, history, posterior.parameters, list(row)) for row in sets]
    own = np.random.SeedSequence(seed, spawn_key=(DRAWS_KEY,)).spawn(draws)
    return channel_effects(replays, own, history, workers, executor, progress)


def channel_effects(
    replays: Sequence[Scenario],
    seeds: Sequence[np.random.SeedSequence],
    history: History,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
    kpi: np.ndarray | None = None,
) -> np.ndarray:
    """Each channel's incremental KPI over the history, per replay and its seed (replays x channels): the replay's
    KPI minus the same replay's with the channel's spend off, on the same random numbers (0 for a channel without
    spend). ``kpi`` (replays x periods) is the replays' own KPI when already simulated."""
    spending = [c.name for c in replays[0].channels if c.spend > 0]
    plans = [[r.with_spend({name: 0.0}) for name in spending] for r in replays]
    if kpi is None:
        plans = [[r, *plan] for r, plan in zip(replays, plans, strict=True)]
    worlds = [World(v, s) for plan, s in zip(plans, seeds, strict=True) for v in plan]
    records = run_worlds(worlds, workers, executor, progress)
    width = len(plans[0])
    totals = np.array([simulated_kpi(r, w.scenario, history).sum() for r, w in zip(records, worlds, strict=True)])
    totals = totals.reshape(len(replays), width)
    on = kpi.sum(axis=1) if kpi is not None else totals[:, 0]
    off = totals if kpi is not None else totals[:, 1:]
    out = np.zeros((len(replays), len(replays[0].channels)))
    for j, name in enumerate(spending):
        out[:, replays[0].channel_names.index(name)] = on - off[:, j]
    return out
