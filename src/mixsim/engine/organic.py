"""Organic forces: memory (forgetting), awareness (Bass innovation and word of mouth), consideration, and
conversion by direct visits.

Each force runs once a day over the whole population. Every customer gets one uniform number per force and
day whatever its stage, so two runs with the same seed use the same numbers for the same customer even when
their states differ (common random numbers for counterfactual runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mixsim.engine.population import AWARE, CONSIDERING, CONVERTED, UNAWARE, Population
from mixsim.scenario import Scenario


def daily_probability(hazard: float) -> float:
    """Chance that an event with constant ``hazard`` per day happens within one day."""
    return -math.expm1(-hazard)


def demand(scenario: Scenario, day: float) -> float:
    """The seasonal multiplier of ``day``: its week's ``seasonality`` value (1 without seasonality)."""
    if scenario.seasonality is None:
        return 1.0
    return scenario.seasonality[int(day) // 7]


Force = Callable[[Scenario, Population, float, np.random.Generator], None]
"""An organic force: acts on the population in place for one day."""


def forget(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Aware and considering customers not touched today fall back one stage with their half-life's hazard."""
    funnel = scenario.funnel
    fall = np.zeros(4)
    fall[AWARE] = daily_probability(math.log(2.0) / funnel.half_life_aware)
    fall[CONSIDERING] = daily_probability(math.log(2.0) / funnel.half_life_considering)
    stage = population.stage
    u = rng.random(stage.size)
    falls = (u < fall[stage]) & (population.last_touch != day)
    stage[falls] -= 1


def become_aware(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Bass diffusion: hazard = (innovation + imitation x share of the population converted) x the week's demand."""
    organic = scenario.organic
    stage = population.stage
    converted_share = np.count_nonzero(stage == CONVERTED) / stage.size
    p = daily_probability((organic.awareness_rate + organic.word_of_mouth * converted_share) * demand(scenario, day))
    u = rng.random(stage.size)
    stage[(u < p) & (stage == UNAWARE)] = AWARE


def consider(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Aware customers start considering at the organic consideration hazard (times the week's demand)."""
    p = daily_probability(scenario.organic.consideration_rate * demand(scenario, day))
    stage = population.stage
    u = rng.random(stage.size)
    stage[(u < p) & (stage == AWARE)] = CONSIDERING


def convert(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Considering customers attempt to buy at the direct-visit hazard (times the week's demand); checkout
    abandonment spoils some."""
    p = daily_probability(scenario.organic.conversion_rate * demand(scenario, day))
    p *= 1.0 - scenario.economics.checkout_abandonment
    stage = population.stage
    u = rng.random(stage.size)
    buyers = np.flatnonzero((u < p) & (stage == CONSIDERING))
    stage[buyers] = CONVERTED
    population.converted_day[buyers] = day


def forces(scenario: Scenario) -> list[tuple[str, Force]]:
    """The organic forces this scenario switches on, in the order they act each day.

    Memory acts first, on the state the paid channels left, so a customer moved up by an organic force is not
    also made to forget on the same day.
    """
    funnel, organic = scenario.funnel, scenario.organic
    active: list[tuple[str, Force]] = []
    if math.isfinite(funnel.half_life_aware) or math.isfinite(funnel.half_life_considering):
        active.append(("memory", forget))
    if organic.awareness_rate > 0 or organic.word_of_mouth > 0:
        active.append(("awareness", become_aware))
    if organic.consideration_rate > 0:
        active.append(("consideration", consider))
    if organic.conversion_rate > 0:
        active.append(("conversion", convert))
    return active
