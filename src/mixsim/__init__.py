"""mixsim: a marketing-mix simulator and budget optimizer."""

from mixsim.errors import InfeasibleError, MixsimError, ScenarioError, SolverError
from mixsim.scenario import Scenario, load_scenario, parse_scenario

__version__ = "0.1.0"

__all__ = [
    "InfeasibleError",
    "MixsimError",
    "Scenario",
    "ScenarioError",
    "SolverError",
    "__version__",
    "load_scenario",
    "parse_scenario",
]
