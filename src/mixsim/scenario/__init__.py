"""The scenario: what a market is (audience, channels, economics, budget), read and validated once.

Owns the immutable data classes and their variants, the declared constraint table with its cross-key rules,
reading TOML files, ``--set``-style overrides and the JSON Schema, and the starter templates. It must not
simulate, optimize or print: everything downstream takes a :class:`Scenario` object, never a path.
"""

from mixsim.scenario.model import (
    MAX_CHANNELS,
    MAX_SEGMENTS,
    STAGES,
    TARGETABLE,
    Budget,
    Channel,
    Economics,
    Funnel,
    Group,
    Limit,
    Organic,
    Scenario,
    Segment,
    apply_overrides,
    json_schema,
    load_scenario,
    parse_scenario,
    scenario_to_dict,
)

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
    "json_schema",
    "load_scenario",
    "parse_scenario",
    "scenario_to_dict",
]
