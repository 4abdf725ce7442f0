"""How many customers a scenario simulates and how many it stands for: quick previews of a market.

``scenario.population`` customers are simulated; ``scenario.represents`` (default: the population) is how many real
customers they stand for. The engine gives the simulated population its share, ``population / represents``, of
every channel's money and counts what they do ``represents / population`` times, so results are in the whole
market's units whatever the population (docs/model.md, "A population that stands for more"). This module holds
the rule for shrinking a scenario (:meth:`Scenario.scaled <mixsim.scenario.Scenario.scaled>`) and the words for
how many customers a result is about; it builds no scenario itself.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

from mixsim.errors import InputError

if TYPE_CHECKING:
    from mixsim.scenario.model import Scenario

__all__ = ["MIN_CUSTOMERS", "describe_population", "scale_overrides"]

MIN_CUSTOMERS = 100
"""Fewest simulated customers a scaled scenario may keep: below it a preview is mostly noise."""


def scale_overrides(scenario: Scenario, factor: float) -> tuple[str, ...]:
    """The ``dotted.key=VALUE`` overrides that shrink ``scenario`` to ``factor`` of its customers.

    The population becomes ``round(population * factor)``; ``scenario.represents`` is written out unchanged (the
    whole market), unless the scenario's data already says it. A factor of 1 needs no override.

    Raises
    ------
    InputError
        If ``factor`` is not a number in (0, 1], or it leaves fewer than :data:`MIN_CUSTOMERS` customers.
    """
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0.0 < float(factor) <= 1.0:
        raise InputError(f"factor must be a share of the customers above 0 and at most 1, e.g. 0.1 (got {factor!r})")
    population = max(1, round(scenario.population * float(factor)))
    if population == scenario.population:
        return ()
    if population < MIN_CUSTOMERS:
        least = MIN_CUSTOMERS / scenario.population
        hint = f"give a factor of at least {math.ceil(least * 1000) / 1000:g}" if least <= 1 else "none can be shrunk"
        raise InputError(
            f"factor {float(factor):g} leaves {population:,} of the scenario's {scenario.population:,} simulated "
            f"customers; a scaled scenario keeps at least {MIN_CUSTOMERS} ({hint})"
        )
    overrides = [f"scenario.population={population}"]
    head = scenario.raw.get("scenario") if isinstance(scenario.raw, dict) else None
    if not (isinstance(head, dict) and head.get("represents") == scenario.represents):
        overrides.append(f"scenario.represents={scenario.represents}")
    return tuple(overrides)


def describe_population(scenario: Scenario) -> str:
    """``"20,000 customers"``, or for a population that stands for more,
    ``"2,000 simulated customers standing for 20,000"``."""
    if scenario.represents == scenario.population:
        return f"{scenario.population:,} customers"
    return f"{scenario.population:,} simulated customers standing for {scenario.represents:,}"
