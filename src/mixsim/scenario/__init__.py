"""The scenario: what a market is (audience, channels, economics, budget), read and validated once.

Owns the immutable data classes and their variants (:mod:`~mixsim.scenario.model`) and writing them back as data
(:mod:`~mixsim.scenario.writing`), the declared constraint table with its cross-key rules
(:mod:`~mixsim.scenario.rules`, on the machinery of ``_validate``), overrides of dotted keys
(:mod:`~mixsim.scenario.overrides`), how many customers a scenario simulates and stands for (previews:
:mod:`~mixsim.scenario.scaling`), reading TOML files and their JSON Schema (:mod:`~mixsim.scenario.files`), the
check that a function's scenario argument is one (:mod:`~mixsim.scenario.argument`), the key reference generated
from the table (:mod:`~mixsim.scenario.reference`,
``docs/scenario-keys.md``), and the starter templates (:mod:`~mixsim.scenario.templates`).

It must not simulate, optimize or print, and it imports none of pandas, scipy or matplotlib (``mixsim validate``
stays fast): everything downstream takes a :class:`Scenario` object, never a path.
"""

from mixsim.scenario.argument import require_scenario
from mixsim.scenario.files import json_schema, load_scenario
from mixsim.scenario.model import (
    Budget,
    Channel,
    Economics,
    Funnel,
    Group,
    Limit,
    Organic,
    Scenario,
    Segment,
    parse_scenario,
)
from mixsim.scenario.overrides import apply_overrides
from mixsim.scenario.rules import MAX_CHANNELS, MAX_SEGMENTS, STAGES, TARGETABLE
from mixsim.scenario.scaling import describe_population
from mixsim.scenario.writing import scenario_to_dict, scenario_to_toml

__all__ = [
    "MAX_CHANNELS",
    "MAX_SEGMENTS",
    "STAGES",
    "TARGETABLE",
    "Budget",
    "Channel",
    "Economics",
    "Funnel",
    "Group",
    "Limit",
    "Organic",
    "Scenario",
    "Segment",
    "apply_overrides",
    "describe_population",
    "json_schema",
    "load_scenario",
    "parse_scenario",
    "require_scenario",
    "scenario_to_dict",
    "scenario_to_toml",
]
