"""mixsim: a marketing-mix simulator and budget optimizer."""

from mixsim._version import __version__
from mixsim.errors import InfeasibleError, MixsimError, ScenarioError, SolverError
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, load_scenario, parse_scenario
from mixsim.simulation import simulate

__all__ = [
    "InfeasibleError",
    "MixsimError",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "SolverError",
    "__version__",
    "load_scenario",
    "parse_scenario",
    "simulate",
]
