"""Making a report: simulate a scenario with incrementality, measure its response curves and, on request,
optimize and verify its budget, and across a posterior's parameter sets find the plan best under a risk, check it in
paired simulation and rank the next tests; :func:`report_run_count` says how many engine runs that takes, so that
the command line only sizes a progress bar and writes the file."""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mixsim.optimizer import optimize as optimize_budget
from mixsim.optimizer.curves import CurveSet
from mixsim.optimizer.measure import curve_run_count, measure_curves
from mixsim.optimizer.plan import Plan
from mixsim.optimizer.verification import verify_run_count
from mixsim.report.document import build_report
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import ProgressCallback, root_seed, run_count, simulate
from mixsim.uncertainty.nexttest import WEEKS, ExperimentRanking, next_test_run_count, rank_tests
from mixsim.uncertainty.risk import Risk
from mixsim.uncertainty.robust import RobustPlan, optimize_under_risk
from mixsim.uncertainty.sets import ParameterSets

__all__ = [
    "CURVE_REPLICATIONS",
    "PLAN_ITERATIONS",
    "VERIFY_REPLICATIONS",
    "WORLD_REPLICATIONS",
    "Report",
    "report_run_count",
    "run_report",
]

CURVE_REPLICATIONS = 3
"""Replications per curve level when :func:`run_report` measures response curves."""

PLAN_ITERATIONS = 2
"""Solves of the closed loop when :func:`run_report` optimizes the budget (the first on the report's curves)."""

VERIFY_REPLICATIONS = 10
"""Paired replications of the plan against today's when :func:`run_report` verifies an optimized plan."""

WORLD_REPLICATIONS = 5
"""Paired replications per parameter set of today's, the recommended and the point estimate's plans, with a
posterior."""


@dataclass(frozen=True)
class Report:
    """What a report shows: a simulation with incrementality, the response curves, and optionally a plan.

    Attributes
    ----------
    result : SimulationResult
        The scenario simulated with incrementality.
    curves : CurveSet
        Each channel's response curve, measured around the current plan.
    plan : Plan or None
        The optimized budget, when asked for (it may be infeasible: see ``plan.optimal`` and ``plan.message``).
    calibration : mapping or None
        The fit of a calibrated scenario (the contents of its ``fit.json``), shown in a section of its own.
    robust : RobustPlan or None
        With a posterior: the plan best across its parameter sets under a risk, checked in paired simulation.
    tests : ExperimentRanking or None
        With a posterior: the lift tests ranked, the next one first.
    """

    result: SimulationResult
    curves: CurveSet
    plan: Plan | None = None
    calibration: Mapping[str, Any] | None = None
    robust: RobustPlan | None = None
    tests: ExperimentRanking | None = None

    def to_html(self) -> str:
        """The report as one HTML document (see :func:`build_report`)."""
        return build_report(self.result, self.curves, self.plan, self.calibration, self.robust, self.tests)


def report_run_count(scenario: Scenario, replications: int, optimize: bool = False, worlds: int = 0) -> int:
    """How many engine runs :func:`run_report` makes (for sizing a progress bar).

    The simulation with its counterfactual runs, one measurement of the curves, and with ``optimize`` one more
    for the closed loop's second solve (its first solves on the curves already measured) and the plan's
    verification (:data:`VERIFY_REPLICATIONS` paired runs of each plan); with ``worlds`` parameter sets, the plan
    across them (:data:`PLAN_ITERATIONS` measurements of every set's curves and the point estimate's, and
    :data:`WORLD_REPLICATIONS` paired runs of three plans in each set) and the next tests' ranking.
    """
    runs = run_count(scenario, replications, incrementality=True) + curve_run_count(scenario, CURVE_REPLICATIONS)
    if optimize:
        runs += (PLAN_ITERATIONS - 1) * curve_run_count(scenario, CURVE_REPLICATIONS)
        runs += verify_run_count(VERIFY_REPLICATIONS)
    if worlds:  # the worlds' curves measured once with the point estimate's, then again in each later solve
        runs += curve_run_count(scenario, CURVE_REPLICATIONS) * (worlds + (worlds + 1) * (PLAN_ITERATIONS - 1))
        runs += 3 * worlds * WORLD_REPLICATIONS
        runs += next_test_run_count(scenario, worlds, CURVE_REPLICATIONS, curves_given=True) if worlds >= 2 else 0
    return runs


def run_report(
    scenario: Scenario,
    *,
    seed: int | None = None,
    replications: int = 10,
    optimize: bool = False,
    calibration: Mapping[str, Any] | None = None,
    posterior: ParameterSets | None = None,
    risk: Risk | None = None,
    worlds: int = 20,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Everything a report of ``scenario`` shows: simulate it with incrementality, measure its response curves
    and, with ``optimize``, optimize its budget on them.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    seed : int, optional
        Root seed of every run; default the scenario's, else 0.
    replications : int, default=10
        Replications of the simulation (the curves use :data:`CURVE_REPLICATIONS` per level).
    optimize : bool, default=False
        Also optimize the budget (:data:`PLAN_ITERATIONS` solves of :func:`mixsim.optimize`) and verify the plan
        against today's in paired simulation (:data:`VERIFY_REPLICATIONS` replications).
    calibration : mapping, optional
        The fit of a calibrated scenario (``fit.json`` as ``mixsim calibrate`` wrote it), shown in the report.
    posterior : ParameterSets, optional
        Parameter sets the data allow: the report then opens with the plan best across the first ``worlds`` of
        them under ``risk`` (default the mean), its gain over today's simulated in each, the point estimate's plan
        beside it, and the next test (:func:`~mixsim.uncertainty.nexttest.rank_tests`, tests of four weeks or the
        horizon if shorter; with two sets or more).
    risk : Risk, optional
    worlds : int, default=20
    workers : int, default=1
        Worker processes.
    executor : concurrent.futures.Executor, optional
        Run on this executor instead.
    progress : callable, optional
        ``progress(done, total)`` as runs finish; each measurement counts from 1 again
        (:func:`report_run_count` is the total of all of them).

    Returns
    -------
    Report
        Its :meth:`Report.to_html` is the document.
    """
    require_scenario(scenario)
    result = simulate(
        scenario,
        seed=seed,
        replications=replications,
        incrementality=True,
        workers=workers,
        executor=executor,
        progress=progress,
    )
    # With a posterior, the point estimate's curves and every world's are measured together, once, for the plan
    # across the worlds and the next tests alike.
    scenes = posterior.first(worlds).scenarios(scenario) if posterior is not None else []
    measured = measure_curves(
        [scenario, *scenes], seed=root_seed(scenario, seed), replications=CURVE_REPLICATIONS, workers=workers,
        executor=executor, progress=progress,
    )  # fmt: skip
    curves = measured[0]
    plan = None
    if optimize:
        plan = optimize_budget(
            scenario,
            seed=seed,
            replications=CURVE_REPLICATIONS,
            max_iterations=PLAN_ITERATIONS,
            workers=workers,
            executor=executor,
            progress=progress,
            curves=curves,
            verify_replications=VERIFY_REPLICATIONS,
        )
    robust = tests = None
    if posterior is not None:
        robust = optimize_under_risk(
            scenario, posterior, risk or Risk(), worlds=worlds, seed=seed, replications=CURVE_REPLICATIONS,
            check_replications=WORLD_REPLICATIONS, iterations=PLAN_ITERATIONS, curves=measured, workers=workers,
            executor=executor, progress=progress,
        )  # fmt: skip
        if min(worlds, len(posterior)) >= 2:
            weeks = min(WEEKS, math.ceil(scenario.horizon_days / 7))
            tests = rank_tests(
                scenario, posterior, worlds=worlds, weeks=weeks, seed=seed, replications=CURVE_REPLICATIONS,
                curves=measured[1:], workers=workers, executor=executor, progress=progress,
            )  # fmt: skip
    return Report(result, curves, plan, calibration, robust, tests)
