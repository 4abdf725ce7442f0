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

The names are imported on first use: ``import mixsim`` (and so every ``mixsim`` command) does not load pandas,
SciPy or the solvers until something needs them, which keeps ``mixsim --help`` and ``mixsim validate`` quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixsim._lazy import lazy_names
from mixsim._version import __version__
from mixsim.errors import InfeasibleError, InputError, MixsimError, ScenarioError, SolverError

if TYPE_CHECKING:
    from mixsim.optimizer import Problem, frontier, optimize, solve, verify
    from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve
    from mixsim.optimizer.export import write_plan
    from mixsim.optimizer.measure import response_curves
    from mixsim.optimizer.plan import Frontier, Plan
    from mixsim.optimizer.read import read_curves
    from mixsim.research.attribution import AttributionCheck, against_truth, attribute
    from mixsim.research.journeys import Journeys
    from mixsim.research.mmm import mmm_scenario, mmm_truth
    from mixsim.results import SimulationResult
    from mixsim.scenario import Scenario, load_scenario, parse_scenario
    from mixsim.simulation import simulate
    from mixsim.whatif import Comparison, compare, vary

_HOMES: dict[str, str] = {
    "AttributionCheck": "mixsim.research.attribution.check",
    "against_truth": "mixsim.research.attribution.check",
    "attribute": "mixsim.research.attribution.models",
    "CurveSet": "mixsim.optimizer.curves",
    "Hill": "mixsim.optimizer.curves",
    "ResponseCurve": "mixsim.optimizer.curves",
    "read_curves": "mixsim.optimizer.read",
    "response_curves": "mixsim.optimizer.measure",
    "Journeys": "mixsim.research.journeys",
    "mmm_scenario": "mixsim.research.mmm",
    "mmm_truth": "mixsim.research.mmm",
    "Problem": "mixsim.optimizer.problem",
    "frontier": "mixsim.optimizer.budget_frontier",
    "optimize": "mixsim.optimizer.loop",
    "solve": "mixsim.optimizer.solving",
    "verify": "mixsim.optimizer.verification",
    "Frontier": "mixsim.optimizer.plan",
    "Plan": "mixsim.optimizer.plan",
    "write_plan": "mixsim.optimizer.export",
    "SimulationResult": "mixsim.results",
    "Scenario": "mixsim.scenario",
    "load_scenario": "mixsim.scenario",
    "parse_scenario": "mixsim.scenario",
    "simulate": "mixsim.simulation",
    "Comparison": "mixsim.whatif",
    "compare": "mixsim.whatif",
    "vary": "mixsim.whatif",
}
"""Where each public name lives; it is imported from there on first use (see :mod:`mixsim._lazy`)."""


__getattr__, __dir__ = lazy_names(__name__, _HOMES)

__all__ = [
    "AttributionCheck",
    "Comparison",
    "CurveSet",
    "Frontier",
    "Hill",
    "InfeasibleError",
    "InputError",
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
