"""mixsim: a marketing-mix simulator and budget optimizer.

The public API, for notebooks and scripts:

- scenarios: :func:`load_scenario`, :func:`parse_scenario`, :class:`Scenario` (``replace``, ``with_channel``, ...);
- simulation: :func:`simulate` returns a :class:`SimulationResult` (tables, journeys, MMM datasets);
- what-if: :func:`vary` and :func:`compare`;
- optimization: :func:`response_curves`, :func:`read_curves`, :func:`optimize`, :class:`Problem` and
  :func:`solve`, :func:`verify`, :func:`frontier`, :func:`write_plan`;
- measurement against the truth: :func:`attribute`, :func:`against_truth`, :func:`mmm_scenario`.

Every result has ``.to_frame()`` and ``.to_json()`` and renders as a table in Jupyter. Figures are in
:mod:`mixsim.plots`.
"""

from mixsim._version import __version__
from mixsim.errors import InfeasibleError, MixsimError, ScenarioError, SolverError
from mixsim.optimize import Problem, frontier, optimize, solve, verify
from mixsim.optimize.curves import CurveSet, Hill, ResponseCurve, read_curves, response_curves
from mixsim.optimize.plan import Frontier, Plan, write_plan
from mixsim.research.attribution import AttributionCheck, against_truth, attribute
from mixsim.research.journeys import Journeys
from mixsim.research.mmm import mmm_scenario, mmm_truth
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, load_scenario, parse_scenario
from mixsim.simulation import simulate
from mixsim.whatif import Comparison, compare, vary

__all__ = [
    "AttributionCheck",
    "Comparison",
    "CurveSet",
    "Frontier",
    "Hill",
    "InfeasibleError",
    "Journeys",
    "MixsimError",
    "Plan",
    "Problem",
    "ResponseCurve",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "SolverError",
    "__version__",
    "against_truth",
    "attribute",
    "compare",
    "frontier",
    "load_scenario",
    "mmm_scenario",
    "mmm_truth",
    "optimize",
    "parse_scenario",
    "read_curves",
    "response_curves",
    "simulate",
    "solve",
    "vary",
    "verify",
    "write_plan",
]
