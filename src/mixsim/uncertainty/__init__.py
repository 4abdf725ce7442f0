"""Decisions under what the data leave uncertain: parameter sets (a posterior sample) as worlds to simulate in, and
each figure's uncertainty split into what comes from the parameters and what from chance. It runs the engine
through :func:`mixsim.simulation.run_worlds` and never reaches into its internals; it must not print or draw (the
command line and the report do)."""

from mixsim.uncertainty.nexttest import ExperimentRanking, ExperimentValue, rank_tests
from mixsim.uncertainty.paired import WorldsComparison, compare_worlds
from mixsim.uncertainty.risk import Risk, RiskPlan, solve_under_risk
from mixsim.uncertainty.robust import RobustPlan, optimize_under_risk
from mixsim.uncertainty.sets import ParameterSets, read_parameter_sets
from mixsim.uncertainty.worlds import WorldsResult, simulate_worlds

__all__ = [
    "ExperimentRanking",
    "ExperimentValue",
    "ParameterSets",
    "Risk",
    "RiskPlan",
    "RobustPlan",
    "WorldsComparison",
    "WorldsResult",
    "compare_worlds",
    "optimize_under_risk",
    "rank_tests",
    "read_parameter_sets",
    "simulate_worlds",
    "solve_under_risk",
]
