"""Organic forces: memory (forgetting), awareness (Bass innovation and word of mouth), consideration, conversion
by direct visits, and, for customers, repeat purchases and lapse.

Each force acts once a day on every customer of every world of a seed group (the worlds of a batch that share a
seed). Every customer has one uniform number per force and day whatever its stage, the same in every world of the
group, so two runs with the same seed use the same numbers for the same customer even when their states differ
(common random numbers for counterfactual runs). Only the numbers that can move someone are drawn
(:func:`mixsim.engine.streams.candidates`): a force with a small daily chance costs in proportion to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mixsim.engine.population import AWARE, CONSIDERING, CONVERTED, UNAWARE, Population
from mixsim.engine.streams import candidates
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
"""An organic force: acts in place for one day on every world of a seed group's population."""


def _move(population: Population, chosen: np.ndarray, moves: np.ndarray, stage: np.ndarray, to: int) -> None:
    """Move customer ``chosen[k]`` of world ``w`` to stage ``to`` where ``moves[k, w]`` (from its ``stage[k, w]``)."""
    k, w = np.nonzero(moves)
    if w.size == 0:
        return
    population.stage[chosen[k], w] = to
    population.moved(w, stage[k, w], np.full(w.size, to))


def forget(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Aware and considering customers not touched today fall back one stage with their half-life's hazard."""
    funnel = scenario.funnel
    fall = np.zeros(4)
    fall[AWARE] = daily_probability(math.log(2.0) / funnel.half_life_aware)
    fall[CONSIDERING] = daily_probability(math.log(2.0) / funnel.half_life_considering)
    chosen, u = candidates(rng, population.size, float(fall.max()))
    if chosen.size == 0:
        return
    stage = population.stage[chosen]
    falls = (u[:, None] < fall[stage]) & (population.last_touch[chosen] != day)
    k, w = np.nonzero(falls)
    if w.size == 0:
        return
    before = stage[k, w]
    population.stage[chosen[k], w] = before - 1
    population.moved(w, before, before - 1)


def become_aware(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Bass diffusion: hazard = (innovation + imitation x share of the population converted) x the week's demand."""
    organic = scenario.organic
    season = demand(scenario, day)
    n = population.size
    # The chance is each world's own (its converted share); the numbers are drawn up to the highest it can reach.
    chance = np.array(
        [
            daily_probability((organic.awareness_rate + organic.word_of_mouth * (int(c) / n)) * season)
            for c in population.counts[:, CONVERTED]
        ]
    )
    ceiling = daily_probability((organic.awareness_rate + organic.word_of_mouth) * season)
    chosen, u = candidates(rng, n, ceiling)
    if chosen.size == 0:
        return
    stage = population.stage[chosen]
    _move(population, chosen, (u[:, None] < chance[None, :]) & (stage == UNAWARE), stage, AWARE)


def consider(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Aware customers start considering at the organic consideration hazard (times the week's demand)."""
    p = daily_probability(scenario.organic.consideration_rate * demand(scenario, day))
    chosen, _ = candidates(rng, population.size, p)
    if chosen.size == 0:
        return
    stage = population.stage[chosen]
    _move(population, chosen, stage == AWARE, stage, CONSIDERING)


def convert(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Considering customers attempt to buy at the direct-visit hazard (times the week's demand); checkout
    abandonment spoils some."""
    p = daily_probability(scenario.organic.conversion_rate * demand(scenario, day))
    p *= 1.0 - scenario.economics.checkout_abandonment
    chosen, _ = candidates(rng, population.size, p)
    if chosen.size == 0:
        return
    stage = population.stage[chosen]
    buys = stage == CONSIDERING
    k, w = np.nonzero(buys)
    population.bought(chosen[k], w, day)  # a lapsed customer won again buys again: a repeat purchase
    _move(population, chosen, buys, stage, CONVERTED)


def repurchase(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Customers buy again at the repeat-purchase hazard (times the week's demand); checkout abandonment spoils
    some. A customer stays a customer."""
    p = daily_probability(scenario.repeat.purchase_rate * demand(scenario, day))
    p *= 1.0 - scenario.economics.checkout_abandonment
    chosen, _ = candidates(rng, population.size, p)
    if chosen.size == 0:
        return
    k, w = np.nonzero(population.stage[chosen] == CONVERTED)
    population.bought(chosen[k], w, day)


def lapse(scenario: Scenario, population: Population, day: float, rng: np.random.Generator) -> None:
    """Customers who did not buy today lapse back to aware with the lapse half-life's hazard."""
    p = daily_probability(math.log(2.0) / scenario.repeat.lapse_half_life)
    chosen, _ = candidates(rng, population.size, p)
    if chosen.size == 0:
        return
    stage = population.stage[chosen]
    lapses = (stage == CONVERTED) & (population.last_purchase[chosen] != day)
    k, w = np.nonzero(lapses)
    if w.size == 0:
        return
    first = population.lapsed_day[chosen[k], w] < 0
    population.lapsed_day[chosen[k[first]], w[first]] = day
    _move(population, chosen, lapses, stage, AWARE)


def forces(scenario: Scenario) -> list[tuple[str, Force]]:
    """The organic forces this scenario switches on, in the order they act each day.

    Memory acts first, on the state the paid channels left, so a customer moved up by an organic force is not
    also made to forget on the same day. Repeat purchases and lapse act last: a customer who bought that day (won,
    or buying again) does not lapse on it.
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
    if scenario.repeat.purchase_rate > 0:
        active.append(("repurchase", repurchase))
    if math.isfinite(scenario.repeat.lapse_half_life):
        active.append(("lapse", lapse))
    return active
