"""mixsim: a marketing-mix simulator and budget optimizer."""

from mixsim._version import __version__
from mixsim.curves import CurveSet, Hill, ResponseCurve, read_curves, response_curves
from mixsim.errors import InfeasibleError, MixsimError, ScenarioError, SolverError
from mixsim.optimize import Problem, frontier, optimize, solve, verify
from mixsim.plan import Frontier, Plan, write_plan
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, load_scenario, parse_scenario
from mixsim.simulation import simulate

__all__ = [
    "CurveSet",
    "Frontier",
    "Hill",
    "InfeasibleError",
    "MixsimError",
    "Plan",
    "Problem",
    "ResponseCurve",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "SolverError",
    "__version__",
    "frontier",
    "load_scenario",
    "optimize",
    "parse_scenario",
    "read_curves",
    "response_curves",
    "simulate",
    "solve",
    "verify",
    "write_plan",
]
