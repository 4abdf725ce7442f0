"""Which experiment to run next: for each channel, a lift test simulated in every world a posterior allows, and what
its result would be worth to the plan (the expected value of sample information, by simulation).

The test of a channel spends ``extra`` more on it, evenly over the horizon's first ``weeks`` weeks, and reads the
revenue gained over those weeks (whatever the plan's objective), each world at its own prices. In each world the
test's expected figure is simulated (today's plan and the test on the same seeds); a real test reads it with the
market's own chance, the standard error of a difference between two independent runs of the window (at least 5% of
the figure, as calibration takes a test without one).

The worth of a test is the preposterior analysis of decision theory, on the worlds as equally likely draws of the
posterior: a world is the truth, the test shows its figure plus noise, the worlds are weighed by the chance of that
figure in each (the posterior after the test), and the plan with the best expected return under those weights is
chosen. Averaged over truths and noise, the expected return of the plan so chosen, less that of the plan chosen now,
is the expected value of sample information (EVSI, Raiffa and Schlaifer 1961); the width of the plan's 90% interval
across the reweighted worlds, against its width now, is how much the test narrows it. Plans are chosen among
candidates: the plan best on average across the worlds and each world's own best plan, each projected in every world
on that world's curves (:func:`~mixsim.uncertainty.risk.projected`).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.engine import World
from mixsim.errors import InputError
from mixsim.optimizer import DEFAULT_LEVELS, Problem, curve_run_count, solve
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.measure import measure_curves
from mixsim.scenario import Scenario
from mixsim.simulation import ProgressCallback, root_seed, run_worlds
from mixsim.tables import json_ready
from mixsim.uncertainty.risk import Risk, projected, solve_under_risk
from mixsim.uncertainty.robust import booked
from mixsim.uncertainty.sets import ParameterSets

__all__ = ["ExperimentRanking", "ExperimentValue", "experiment_scenario", "next_test_run_count", "rank_tests"]

DESIGNS = ("increase", "holdout")
"""A test spends more on its channel over its weeks, or switches it off there (calibration's ``window`` layout)."""
RANKINGS = ("narrowing", "value")
"""What tests are ranked by: the expected narrowing of the plan's interval, or the expected value of the result."""
WEEKS = 4
"""How long a test lasts by default."""
DRAWS = 200
"""Noisy results drawn per world and test for the preposterior average."""


@dataclass(frozen=True)
class ExperimentValue:
    """One channel's test: its size, what it would show in each world, and what that would be worth.

    Attributes
    ----------
    channel : str
    extra : float
        Money the test spends on the channel beyond the plan, over its weeks (a holdout: less than 0, the money it
        withholds).
    lift : numpy.ndarray
        The revenue the test gains over its weeks (a holdout: loses), in each world (mean over replications).
    standard_error : float
        The standard error of the test's reading.
    evsi : float
        Expected value of the test's result to the plan, in the objective's terms (revenue, profit or conversions).
    width_before, width_after : float
        Width of the plan's 90% interval across the worlds now, and expected after the test.
    changes : float
        Share of the test's possible results after which the plan chosen changes.
    """

    channel: str
    extra: float
    lift: np.ndarray
    standard_error: float
    evsi: float
    width_before: float
    width_after: float
    changes: float

    @property
    def separation(self) -> float:
        """How far apart the worlds' figures are, in standard errors of the test (their standard deviation)."""
        return float(np.std(self.lift) / self.standard_error)

    @property
    def narrowing(self) -> float:
        """Share of the plan's 90% interval the test is expected to take away (0 when there is none)."""
        share = 1.0 - self.width_after / self.width_before if self.width_before > 0 else 0.0
        return 0.0 if abs(share) < 1e-9 else share

    @property
    def reason(self) -> str:
        """Why the test ranks where it does, in a sentence."""
        spread = f"its figure differs across the parameter sets by {self.separation:.1f} standard errors"
        if self.separation < 0.5:
            return f"{spread}: the test can hardly tell them apart"
        if self.changes < 0.05:
            return f"{spread}, but the plan stays the same whatever it shows"
        return (
            f"{spread}; it changes the plan after {self.changes:.0%} of its results and narrows the plan's "
            f"interval by {self.narrowing:.0%}"
        )


@dataclass(frozen=True)
class ExperimentRanking:
    """Every channel's test, best first (by expected narrowing or by EVSI, as asked), with the plans chosen among."""

    tests: tuple[ExperimentValue, ...]
    candidates: tuple[dict[str, float], ...]  # the plans chosen among; the first is the plan now
    candidate_returns: np.ndarray  # candidates x worlds: each plan's projected return in each world
    objective: str
    weeks: int
    sets: ParameterSets
    seed: int
    replications: int
    design: str = "increase"
    version: str = __version__

    def _repr_html_(self) -> str:
        return summary_html(
            f"ExperimentRanking: test {self.best.channel} next",
            [f"{len(self.returns)} parameter sets, {self.weeks}-week tests, seed {self.seed}"],
            [("Tests", self.to_frame())],
        )

    @property
    def plan(self) -> dict[str, float]:
        """The plan now: the best on average across the worlds."""
        return self.candidates[0]

    @property
    def returns(self) -> np.ndarray:
        """The plan's projected return in each world."""
        return self.candidate_returns[0]

    def update(self, channel: str, reading: float) -> tuple[dict[str, float], np.ndarray, float]:
        """After ``channel``'s test read ``reading`` (the revenue it gained over its weeks): the plan then chosen, the
        worlds' weights (the posterior reweighed by the reading's likelihood), and the width of the plan's 90%
        interval across them.

        Raises
        ------
        KeyError
            If no test of ``channel`` was ranked.
        """
        test = next((t for t in self.tests if t.channel == channel), None)
        if test is None:
            raise KeyError(f"no test of channel {channel!r}")
        log_weight = -0.5 * ((reading - test.lift) / test.standard_error) ** 2
        weight = np.exp(log_weight - log_weight.max())
        weight /= weight.sum()
        best = int(np.argmax(self.candidate_returns @ weight))
        return dict(self.candidates[best]), weight, _width(self.candidate_returns[best], weight)

    @property
    def best(self) -> ExperimentValue:
        """The test to run next."""
        return self.tests[0]

    def to_frame(self) -> pd.DataFrame:
        """One row per test, best first: ``rank``, ``channel``, ``extra``, ``weeks``, ``lift_mean``, ``lift_low``,
        ``lift_high`` (5% to 95% across the worlds), ``standard_error``, ``separation``, ``evsi``, ``changes``,
        ``width_before``, ``width_after``, ``narrowing`` and ``reason``."""
        rows = [
            {
                "rank": rank,
                "channel": t.channel,
                "extra": t.extra,
                "weeks": self.weeks,
                "lift_mean": float(np.mean(t.lift)),
                "lift_low": float(np.quantile(t.lift, 0.05)),
                "lift_high": float(np.quantile(t.lift, 0.95)),
                "standard_error": t.standard_error,
                "separation": t.separation,
                "evsi": t.evsi,
                "changes": t.changes,
                "width_before": t.width_before,
                "width_after": t.width_after,
                "narrowing": t.narrowing,
                "reason": t.reason,
            }
            for rank, t in enumerate(self.tests, start=1)
        ]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """``objective``, ``design``, ``weeks``, ``plan`` (spend per channel) with its projected ``returns`` (mean and
        5% to 95% across the worlds), ``tests`` (as :meth:`to_frame`'s rows), ``recommended`` (the best test's
        channel), ``parameter_sets``, ``replications``, ``seed`` and ``version``."""
        return {
            "objective": self.objective,
            "design": self.design,
            "weeks": self.weeks,
            "plan": self.plan,
            "returns": {
                "mean": float(np.mean(self.returns)),
                "range90": list(_range(self.returns, np.full(len(self.returns), 1.0 / len(self.returns)))),
            },
            "tests": self.to_frame().to_dict(orient="records"),
            "recommended": self.best.channel,
            "parameter_sets": self.sets.to_dict(),
            "replications": self.replications,
            "seed": self.seed,
            "version": __version__,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON; undefined figures are ``null``."""
        return json.dumps(json_ready(self.to_dict()), indent=indent, allow_nan=False)


def experiment_scenario(
    scenario: Scenario, channel: str, weeks: int, extra: float | None, design: str = "increase"
) -> tuple[Scenario, float]:
    """``scenario`` with ``channel``'s test in it, the rest of the horizon as planned: for an ``increase``, ``extra``
    more money spread evenly over the days of the first ``weeks`` weeks (default: the channel's own spend over those
    days, doubling it there; for a channel without spend, an even share of the budget over them); for a ``holdout``,
    the channel off over those weeks (the lift-test layout ``window`` of calibration).

    Parameters
    ----------
    scenario : Scenario
    channel : str
    weeks : int
        The test's weeks, from the horizon's start (1 to the horizon's weeks).
    extra : float or None
        The money an increase adds (None for a holdout).
    design : {"increase", "holdout"}, default="increase"

    Returns
    -------
    (Scenario, float)
        The scenario with the test, and the money it adds (for a holdout, less than 0: the money it withholds).

    Raises
    ------
    InputError
        For weeks outside the horizon, an ``extra`` that is not a number > 0, or one given to a holdout.
    """
    if design not in DESIGNS:
        raise InputError(f"design: one of {', '.join(DESIGNS)} (got {design!r})")
    if design == "holdout" and extra is not None:
        raise InputError("budget_per_test: not with a holdout, which withholds the channel's own spend")
    c = scenario.channel(channel)
    days = scenario.horizon_days
    horizon = math.ceil(days / 7)
    if not 1 <= weeks <= horizon:
        raise InputError(f"weeks: a test lasts 1 to the horizon's {horizon} weeks (got {weeks})")
    # Flighting weights are rates per day of each week (the engine's rule): a short last week spends less.
    shares = np.asarray(c.flighting if c.flighting is not None else [1.0] * horizon, dtype=float)
    per_day = shares[np.arange(days) // 7]
    rate = c.spend * shares / per_day.sum() if per_day.sum() > 0 else np.zeros(horizon)  # money per day, each week
    inside = min(7 * weeks, days)
    if design == "holdout":
        withheld = float(rate[:weeks] @ np.bincount(np.arange(inside) // 7, minlength=weeks)[:weeks])
        rate[:weeks] = 0.0
        if not rate.any():
            return scenario.with_spend({channel: 0.0}), -withheld
        spend = float(rate[np.arange(days) // 7].sum())
        return scenario.with_channel(channel, spend=spend, flighting=[float(r) for r in rate]), -withheld
    if extra is None:
        own = float(rate[:weeks] @ np.bincount(np.arange(inside) // 7, minlength=weeks)[:weeks])
        extra = own or scenario.budget_total / len(scenario.channels) * inside / days
    if not (math.isfinite(extra) and extra > 0):
        raise InputError(f"budget_per_test: must be a number > 0 (got {extra})")
    rate[:weeks] += extra / inside
    spend = float(rate[np.arange(days) // 7].sum())
    return scenario.with_channel(channel, spend=spend, flighting=[float(r) for r in rate]), extra


def next_test_run_count(
    scenario: Scenario,
    worlds: int,
    replications: int = 3,
    levels: Sequence[float] = DEFAULT_LEVELS,
    curves_given: bool = False,
) -> int:
    """The engine runs :func:`rank_tests` makes (for a progress bar): every world's curves (unless given), today's
    plan and each channel's test in every world.

    Parameters
    ----------
    scenario : Scenario
    worlds : int
    replications : int, default=3
    levels : sequence of float, default=DEFAULT_LEVELS
    curves_given : bool, default=False
        Whether the worlds' curves are given to :func:`rank_tests` rather than measured there.

    Returns
    -------
    int
    """
    curves = 0 if curves_given else curve_run_count(scenario, replications, levels)
    return worlds * (curves + replications * (1 + len(scenario.channels)))


def rank_tests(
    scenario: Scenario,
    sets: ParameterSets,
    *,
    weeks: int = WEEKS,
    budget_per_test: float | None = None,
    worlds: int = 20,
    objective: str = "revenue",
    seed: int | None = None,
    replications: int = 3,
    levels: Sequence[float] = DEFAULT_LEVELS,
    draws: int = DRAWS,
    rank_by: str = "narrowing",
    design: str = "increase",
    curves: Sequence[CurveSet] | None = None,
    solver: str = "auto",
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> ExperimentRanking:
    """Rank a lift test of each of ``scenario``'s channels by what its result is expected to be worth to the plan.

    Parameters
    ----------
    scenario : Scenario
        The point estimate (``calibrated.toml``): today's plan, the budget and its constraints.
    sets : ParameterSets
        The posterior's parameter sets (equally weighted); the first ``worlds`` are used.
    weeks : int, default=4
        How long each test lasts, from the horizon's start.
    budget_per_test : float, optional
        Money each test spends beyond the plan; default each channel's own spend over the test's weeks.
    worlds : int, default=20
    objective : {"revenue", "profit", "conversions"}, default="revenue"
    seed, replications, levels
        As for :func:`mixsim.optimizer.response_curves`; at least 2 replications (the test's chance is measured
        from them). Every world runs on the same seeds.
    draws : int, default=200
        Noisy results drawn per world for each test.
    rank_by : {"narrowing", "value"}, default="narrowing"
        Rank the tests by how much they are expected to narrow the plan's 90% interval (then by EVSI), or by their
        EVSI (then by narrowing).
    design : {"increase", "holdout"}, default="increase"
        Each test spends ``budget_per_test`` more on its channel, or switches it off, over its weeks
        (:func:`experiment_scenario`); a holdout reads the revenue lost.
    curves : sequence of CurveSet, optional
        Each world's curves, already measured around today's plan with the same seed, replications and levels
        (:func:`~mixsim.optimizer.measure.measure_curves`); measured here when not given.
    solver, workers, executor, progress
        As for :func:`mixsim.optimize`.

    Returns
    -------
    ExperimentRanking
    """
    if rank_by not in RANKINGS:
        raise InputError(f"rank_by: one of {', '.join(RANKINGS)} (got {rank_by!r})")
    if worlds < 2:
        raise InputError(f"worlds: a test can only tell parameter sets apart from 2 of them (got {worlds})")
    if replications < 2:
        raise InputError(f"replications: at least 2, to measure a test's chance (got {replications})")
    names = scenario.channel_names
    tests = [experiment_scenario(scenario, name, weeks, budget_per_test, design) for name in names]  # before runs
    seed = root_seed(scenario, seed)
    used = sets.first(worlds)
    scenes = used.scenarios(scenario)
    if curves is not None and len(curves) != len(scenes):
        raise InputError(f"curves: one set for each of {len(scenes)} worlds (got {len(curves)})")
    total = next_test_run_count(scenario, len(scenes), replications, levels, curves_given=curves is not None)
    done = 0

    def counted(runs: int, _total: int) -> None:
        if progress is not None:
            progress(min(done + runs, total), total)

    if curves is None:
        curves = measure_curves(
            scenes, seed=seed, replications=replications, levels=levels, workers=workers, executor=executor,
            progress=counted,
        )  # fmt: skip
        done = curve_run_count(scenario, replications, levels) * len(scenes)
    problems = [Problem.from_scenario(w, booked(c), objective=objective) for w, c in zip(scenes, curves, strict=True)]
    plan = solve_under_risk(problems, Risk("mean"), solver)
    candidates = [plan.allocation]
    for problem in problems:
        own = solve(problem, solver)
        if own.optimal:
            candidates.append(dict(own.allocation))
    returns = np.array([[projected(c, p) for p in problems] for c in candidates])  # candidates x worlds

    designs = [
        [experiment_scenario(world, name, weeks, budget_per_test, design)[0] for name in names] for world in scenes
    ]
    seeds = np.random.SeedSequence(seed).spawn(replications)
    runs = [
        World(s, q) for world, changed in zip(scenes, designs, strict=True) for s in (world, *changed) for q in seeds
    ]
    records = run_worlds(runs, workers, executor, progress=counted)
    valued = [w for w in scenes for _ in range((1 + len(names)) * replications)]  # each run at its world's prices
    window = np.array([_window_kpi(r, w, weeks) for r, w in zip(records, valued, strict=True)]).reshape(
        len(scenes), 1 + len(names), replications
    )
    # The market's own chance in a reading: the difference of two independent windows, pooled over the worlds.
    scale = math.sqrt(scenario.population / scenario.represents)
    chance = math.sqrt(2.0 * float(np.mean(np.var(window[:, 0, :], axis=1, ddof=1)))) * scale
    noise = np.random.default_rng(seed).standard_normal((len(scenes), draws))
    chosen_now = int(np.argmax(returns.mean(axis=1)))
    order = [chosen_now, *(i for i in range(len(candidates)) if i != chosen_now)]
    candidates, returns = [candidates[i] for i in order], returns[order]
    chosen_now = 0
    before = _width(returns[chosen_now], np.full(len(scenes), 1.0 / len(scenes)))
    values = []
    for k, name in enumerate(names):
        sign = -1.0 if design == "holdout" else 1.0  # a holdout reads the revenue lost
        lift = sign * (window[:, 1 + k, :] - window[:, 0, :]).mean(axis=1)
        se = max(chance, 0.05 * abs(float(np.mean(lift))), 1e-9)
        evsi, after, changes = _preposterior(lift, se, returns, noise, chosen_now)
        values.append(ExperimentValue(name, tests[k][1], lift, se, evsi, before, after, changes))
    if rank_by == "value":
        values.sort(key=lambda t: (-round(t.evsi, 9), -t.narrowing))
    else:
        values.sort(key=lambda t: (-round(t.narrowing, 9), -t.evsi))
    return ExperimentRanking(
        tuple(values), tuple(dict(c) for c in candidates), returns, objective, weeks, used, seed, replications, design
    )


def _window_kpi(record: Any, scenario: Scenario, weeks: int) -> float:
    """Revenue over the first ``weeks`` weeks of one run (first purchases at the order value, repeat purchases at
    theirs), in the whole market's terms, as the engine records it."""
    days = min(7 * weeks, record.daily_sales.shape[0])
    won, repeat = record.daily_sales[days - 1]
    return float(won * scenario.economics.order_value + repeat * scenario.repeat_order_value)


def _preposterior(
    lift: np.ndarray, se: float, returns: np.ndarray, noise: np.ndarray, chosen_now: int
) -> tuple[float, float, float]:
    """EVSI, the expected width of the chosen plan's 90% interval after the test, and the share of results that
    change the plan: each world in turn the truth, its figure read with ``noise`` (worlds x draws, in standard
    errors ``se``), the worlds reweighed by the reading's likelihood, the best candidate under those weights chosen."""
    reading = lift[:, None] + se * noise  # truth x draws
    log_weight = -0.5 * ((reading[:, :, None] - lift[None, None, :]) / se) ** 2  # truth x draws x worlds
    weight = np.exp(log_weight - log_weight.max(axis=2, keepdims=True))
    weight /= weight.sum(axis=2, keepdims=True)
    choice = np.argmax(weight @ returns.T, axis=2)  # truth x draws: the candidate best in expectation
    truth = np.arange(len(lift))[:, None]
    gained = float(np.mean(returns[choice, truth] - returns[chosen_now, truth]))  # exactly 0 when nothing changes
    widths = [
        _width(returns[choice[t, d]], weight[t, d]) for t in range(choice.shape[0]) for d in range(choice.shape[1])
    ]
    return gained, float(np.mean(widths)), float(np.mean(choice != chosen_now))


def _width(values: np.ndarray, weight: np.ndarray) -> float:
    """Width of the interval holding the middle 90% of ``values`` under ``weight`` (:func:`_range`)."""
    low, high = _range(values, weight)
    return high - low


def _range(values: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """The interval holding the middle 90% of ``values`` under ``weight`` (summing to 1): the smallest values whose
    cumulative weights reach 5% and 95% (the weighted distribution's own quantiles, so a value holding nearly all
    the weight is an interval of nearly no width)."""
    order = np.argsort(values)
    v, cumulative = values[order], np.cumsum(weight[order])
    at = np.searchsorted(cumulative, [0.05 - 1e-12, 0.95 - 1e-12], side="left")
    low, high = v[np.minimum(at, len(v) - 1)]
    return float(low), float(high)
