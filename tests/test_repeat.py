"""Repeat purchases and lapse against their exact laws.

A customer (stage 3) buys again each day with probability ``(1 - exp(-purchase_rate x demand)) x (1 -
checkout_abandonment)``, and one who did not buy that day lapses back to aware with probability ``1 - 2^(-1/h)``
(``h`` the lapse half-life); a channel that targets the customers makes each exposure it delivers a purchase with
probability ``min(1, p_repurchase x affinity) x (1 - checkout_abandonment)``. Each test below derives the mean and the
standard deviation of a simulated count from these rules (binomial and Poisson-binomial laws, conditioned on what
the run shows of the past where the law is a chain) and allows ``Z`` standard deviations; accounting identities are
checked exactly. Seeds are fixed, so the tests are deterministic.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mixsim
from _analytic import customers, daily_probability
from mixsim.engine import AWARE, CONVERTED, UNAWARE, RunRecord, organic, run
from mixsim.engine.streams import Streams
from mixsim.scenario import Scenario, parse_scenario

Z = 5.0
"""Standard deviations allowed: |z| > 5 has probability 5.7e-7 under a normal law, so the fewer than 200 comparisons
below would fail a correct engine for about 1 seed in 10,000."""

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
RATE, ABANDONMENT = 0.1, 0.2
SEASON = [1.0, 4.0, 0.0, 0.5]  # weeks of a 28-day horizon: a dense week (p > 0.25), one without demand
INSTANT = {"awareness_rate": 40.0, "consideration_rate": 40.0, "conversion_rate": 40.0}
"""Organic hazards whose daily probability is 1.0 in floating point: everyone unaware on a day of full demand ends it
converted (times checkout abandonment)."""


# --------------------------------------------------------------------------------------------------------------
# Building scenarios and populations, and comparing counts with their laws.


def build(
    population: int,
    horizon: int,
    channels: dict[str, dict[str, Any]] | None = None,
    *,
    organic_rates: dict[str, float] | None = None,
    repeat: dict[str, float] | None = None,
    abandonment: float = 0.0,
    seasonality: list[float] | None = None,
    segments: dict[str, float] | None = None,
    half_life: dict[str, float] | None = None,
) -> Scenario:
    """A validated scenario: no memory, no synergy, no word of mouth unless given; a channel that spends nothing
    when no channel is given."""
    data: dict[str, Any] = {
        "scenario": {"name": "repeat test", "population": population, "horizon_days": horizon},
        "economics": {"order_value": 10.0, "margin": 0.5, "checkout_abandonment": abandonment},
        "funnel": {"half_life_days": half_life or {}},
        "organic": organic_rates or {},
        "channels": channels or {"idle": {"cpm": 10.0, "spend": 0.0}},
    }
    if repeat is not None:
        data["repeat"] = repeat
    if seasonality is not None:
        data["seasonality"] = {"weekly": seasonality}
    if segments is not None:
        data["segments"] = [{"name": name, "share": share} for name, share in segments.items()]
    return parse_scenario(data, "test_repeat")


def per_day(exposures: int, horizon: int, **keys: Any) -> dict[str, Any]:
    """A channel at cpm 1000 (one exposure per dollar) buying ``exposures`` a day."""
    return {"cpm": 1000.0, "spend": float(exposures * horizon), **keys}


def check(observed: Any, mean: Any, sd: Any, what: str) -> None:
    """|observed - mean| <= Z sd everywhere (where sd is 0 the count must equal its mean)."""
    observed, mean, sd = np.asarray(observed, float), np.asarray(mean, float), np.asarray(sd, float)
    excess = np.abs(observed - mean)
    z = np.max(excess / np.maximum(sd, 1e-300))
    assert np.all(excess <= Z * sd), f"{what}: worst deviation is {z:.1f} sd (allowed {Z})"


def check_binomial(observed: Any, trials: Any, p: Any, what: str) -> None:
    """Each ``observed`` against Binomial(``trials``, ``p``)."""
    trials, p = np.asarray(trials, float), np.asarray(p, float)
    check(observed, trials * p, np.sqrt(trials * p * (1.0 - p)), what)


def poisson_binomial(p: np.ndarray) -> np.ndarray:
    """The law of a sum of independent Bernoulli(``p_i``): ``pmf[k]``, k = 0 .. len(p)."""
    pmf = np.ones(1)
    for q in p:
        pmf = np.concatenate([pmf * (1.0 - q), [0.0]]) + np.concatenate([[0.0], pmf * q])
    return pmf


def records_equal(a: RunRecord, b: RunRecord) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(RunRecord))


def simulate(scenario: Scenario, seed: int, journeys: float = 0.0) -> RunRecord:
    return run(scenario, np.random.SeedSequence(seed), journeys=journeys)


# --------------------------------------------------------------------------------------------------------------
# 1. The repeat-purchase hazard.


def test_repurchases_of_a_closed_cohort_follow_the_poisson_binomial_law() -> None:
    """A cohort of customers under the repurchase force alone, day ``d`` in a week of demand ``s``: each customer buys
    with probability ``p_d = (1 - exp(-rate s)) (1 - abandonment)``, independently of the other days and customers.
    So each day's purchases are Binomial(N, p_d) (exactly 0 in the week without demand), and a customer's repeat
    purchases over the days are Poisson-binomial(p_1..p_D): the histogram across customers (the count with none
    against prod(1 - p_d)), its mean and its variance. Nobody leaves stage 3, and every purchase is counted once in
    the customer's purchases and once in the repeat-purchase tally."""
    n, horizon = 20_000, 28
    scenario = build(n, horizon, repeat={"purchase_rate": RATE}, abandonment=ABANDONMENT, seasonality=SEASON)
    population = customers(scenario)
    streams = Streams(np.random.SeedSequence(11))
    days = np.arange(1, horizon)
    p = np.array([daily_probability(RATE * SEASON[d // 7]) * (1.0 - ABANDONMENT) for d in days])
    assert p.max() > 0.25 > p[p > 0].min()  # both ways of drawing the chosen customers are used
    bought = []
    for day in days:
        before = int(population.sales[0, 1])
        organic.repurchase(scenario, population, float(day), streams.get("organic:repurchase", int(day)))
        bought.append(int(population.sales[0, 1]) - before)

    assert np.all(population.stage == CONVERTED)
    np.testing.assert_array_equal(population.counts, [[0, 0, 0, n]])
    assert population.sales[0, 0] == n  # nobody is won twice
    repeats = population.purchases[:, 0].astype(np.int64) - 1
    assert repeats.sum() == population.sales[0, 1] == sum(bought)
    last = population.last_purchase[:, 0]
    assert np.all((last > 0) == (repeats > 0))
    assert not np.any((last >= 14) & (last <= 20)), "nobody buys in a week without demand"

    check_binomial(bought, n, p, "purchases per day")
    mean, var = p.sum(), (p * (1.0 - p)).sum()
    check(repeats.sum(), n * mean, math.sqrt(n * var), "total repeat purchases")
    # Histogram: each count k below the tail on its own, the tail (n P(>= tail) about 20 or more) as one cell.
    pmf = poisson_binomial(p)
    survival = pmf[::-1].cumsum()[::-1]
    tail = int(np.flatnonzero(n * survival >= 20.0).max())
    observed = np.bincount(np.minimum(repeats, tail), minlength=tail + 1)
    expected = np.append(pmf[:tail], survival[tail])
    check_binomial(observed, n, expected, "customers by repeat purchases")
    assert observed[0] > 0 and tail >= 5
    # Variance across customers: the sd of a sample variance is sqrt((mu4 - sigma^4) / N).
    k = np.arange(pmf.size)
    mu4 = float((pmf * (k - mean) ** 4).sum())
    check(repeats.var(ddof=1), var, math.sqrt((mu4 - var**2) / n), "variance of a customer's repeat purchases")


def test_repeat_purchases_in_a_run_follow_the_customers_of_each_day() -> None:
    """A whole run (organic funnel, repeat purchases, no lapse, seasonality): the repurchase force acts after
    conversion, on every customer of the day, so the repeat purchases of day ``d`` are Binomial(customers at the end
    of day ``d``, ``p_d``) given the past (no lapse: the day's stage-3 count is the one the force saw). The total is
    the sum of these martingale steps: mean sum C_d p_d, variance sum C_d p_d (1 - p_d)."""
    n, horizon = 20_000, 28
    scenario = build(
        n,
        horizon,
        organic_rates={"awareness_rate": 0.1, "consideration_rate": 0.2, "conversion_rate": 0.2},
        repeat={"purchase_rate": RATE},
        abandonment=ABANDONMENT,
        seasonality=SEASON,
    )
    record = simulate(scenario, seed=12)
    p = np.array([daily_probability(RATE * SEASON[d // 7]) * (1.0 - ABANDONMENT) for d in range(horizon)])
    stage3 = record.daily_stages[:, CONVERTED]
    np.testing.assert_array_equal(stage3, record.daily_sales[:, 0])  # no lapse: every customer won is one
    repeats = np.diff(record.daily_sales[:, 1], prepend=0)
    check_binomial(repeats, stage3, p, "repeat purchases per day")
    check(record.repeat_purchases, (stage3 * p).sum(), math.sqrt((stage3 * p * (1 - p)).sum()), "repeat purchases")
    assert record.repeat_purchases > 1_000 and record.conversions > n / 2
    assert record.repeat_stats[2] == record.repeat_purchases  # gaps between purchases: every purchase after the first


# --------------------------------------------------------------------------------------------------------------
# 2. Lapse.


@pytest.mark.parametrize("half_life", [10.0, 2.0])
def test_lapse_leaves_two_to_the_minus_t_over_h_of_a_cohort_active(half_life: float) -> None:
    """A cohort under the lapse force alone: each day a customer who did not buy lapses with probability
    q = 1 - 2^(-1/h), so after t days Binomial(N, 2^(-t/h)) of those who never buy are still customers, and
    Binomial(N, 2^(-(t-1)/h) q) lapse on day t exactly. A customer who bought that day never lapses on it (here a
    quarter of the cohort buys every day and stays). A lapsed customer is aware, keeps the day of its first lapse,
    and keeps its purchases; the stage counts follow every move."""
    n = 20_000
    checkpoints = [1, int(half_life / 2), int(half_life), int(2 * half_life), int(4 * half_life)]
    horizon = checkpoints[-1] + 1
    scenario = build(n, horizon, repeat={"lapse_half_life_days": half_life})
    population = customers(scenario)
    streams = Streams(np.random.SeedSequence(21))
    buyers = np.arange(n) % 4 == 0
    idle = int((~buyers).sum())
    q = daily_probability(math.log(2.0) / half_life)
    for day in range(1, horizon):
        population.last_purchase[buyers, 0] = day
        organic.lapse(scenario, population, float(day), streams.get("organic:lapse", day))
        if day in checkpoints:
            active = int((population.stage[~buyers, 0] == CONVERTED).sum())
            check_binomial(active, idle, 2.0 ** (-day / half_life), f"customers active after {day} days")

    stage, lapsed_day = population.stage[:, 0], population.lapsed_day[:, 0]
    assert np.all(stage[buyers] == CONVERTED) and np.all(lapsed_day[buyers] < 0)
    gone = stage != CONVERTED
    assert np.all(stage[gone] == AWARE)
    np.testing.assert_array_equal(gone, lapsed_day >= 0)
    np.testing.assert_array_equal(population.counts, [[0, gone.sum(), 0, n - gone.sum()]])
    np.testing.assert_array_equal(population.purchases, 1)
    np.testing.assert_array_equal(population.sales, [[n, 0]])
    days = np.arange(1, horizon)
    by_day = np.bincount(lapsed_day[gone].astype(np.int64), minlength=horizon)[1:]
    check_binomial(by_day, idle, 2.0 ** (-(days - 1) / half_life) * q, "lapses per day")


@pytest.mark.parametrize("purchase_rate", [0.0, 0.05])
def test_retention_in_a_run_follows_the_half_life(purchase_rate: float) -> None:
    """A run with an organic funnel (customers won any day, won back after a lapse) and lapse: a customer is still
    a customer 7k days after being won with probability s^(7k), s = 1 - q (1 - b) the daily chance not to lapse
    (q = 1 - 2^(-1/h); b the daily repeat-purchase probability, since a customer who bought that day does not
    lapse; without repeat purchases s^(7k) = 2^(-7k/h)). Customers are independent, so retention[1, k] is
    Binomial(retention[0, k], s^(7k)); retention[0, k] is exactly the customers won by day T - 1 - 7k, and nobody
    lapses on the day it is won."""
    n, horizon, half_life = 30_000, 56, 10.0
    scenario = build(
        n,
        horizon,
        organic_rates={"awareness_rate": 0.1, "consideration_rate": 0.2, "conversion_rate": 0.3},
        repeat={"lapse_half_life_days": half_life, "purchase_rate": purchase_rate},
        abandonment=ABANDONMENT,
    )
    record = simulate(scenario, seed=22)
    weeks = np.arange(horizon // 7)
    base, active = record.retention
    np.testing.assert_array_equal(base, record.daily_sales[horizon - 1 - 7 * weeks, 0])
    assert active[0] == base[0] == record.conversions
    q = daily_probability(math.log(2.0) / half_life)
    b = daily_probability(purchase_rate) * (1.0 - ABANDONMENT)
    stay = (1.0 - q * (1.0 - b)) ** (7 * weeks)
    check_binomial(active, base, stay, "customers still active k weeks after being won")
    assert stay[-1] < 0.5 and base[-1] > 1_000  # the law is tested well away from 0 and 1
    if purchase_rate == 0.0:
        np.testing.assert_allclose(stay, 2.0 ** (-7 * weeks / half_life), rtol=1e-12)
    # Some customers lapsed and were won back: the stage-3 count falls below the customers won.
    assert record.daily_stages[-1, CONVERTED] < record.conversions and record.repeat_purchases > 0


# --------------------------------------------------------------------------------------------------------------
# 3. A channel for the customers.


def crm_scenario() -> Scenario:
    """Social and search bring customers in over the first two weeks, they lapse (half-life 10 days), and a CRM
    channel targets the customers throughout."""
    horizon = 28
    return build(
        20_000,
        horizon,
        {
            "social": per_day(3_000, horizon, p_aware=0.1, p_consider=0.05, flighting=[2, 1, 0, 0]),
            "search": per_day(1_500, horizon, targets=["considering"], p_convert=0.3, flighting=[2, 1, 0, 0]),
            "crm": per_day(2_000, horizon, targets=["converted"], p_repurchase=0.1, frequency_cap=1),
        },
        organic_rates={"awareness_rate": 0.02, "consideration_rate": 0.05},
        repeat={"lapse_half_life_days": 10.0},
        abandonment=ABANDONMENT,
    )


def test_a_channel_that_targets_customers_touches_nobody_else() -> None:
    """targets = ["converted"]: every touch the journal records for the channel finds the customer in stage 3 before
    and after it (a lapsed customer, aware again, is not touched), on or after the day it was won. All customers are
    tracked, so its touches add up to its exposures and reach, and it cannot deliver more in a day (cap 1) than the
    customers won by then."""
    scenario = crm_scenario()
    record = mixsim.simulate(scenario, seed=31, replications=1, journeys=1.0).runs[0]
    journal = record.journal
    assert journal is not None
    crm = scenario.channel_names.index("crm")
    touches = journal.touches[journal.touches["channel"] == crm]
    assert record.exposures[crm] > 0 and touches.size > 0
    np.testing.assert_array_equal(touches["stage_before"], CONVERTED)
    np.testing.assert_array_equal(touches["stage_after"], CONVERTED)
    won = journal.converted_day[np.searchsorted(journal.customers, touches["customer"])]
    assert np.all((won >= 0) & (won <= touches["day"]))
    assert touches["exposures"].sum() == record.exposures[crm]
    assert np.unique(touches["customer"]).size == record.reach[crm] <= record.conversions
    assert np.all(record.daily_exposures[:, crm] <= record.daily_sales[:, 0])
    # The run does what it is meant to test: customers lapse while the channel runs.
    assert np.any(np.diff(record.daily_stages[:, CONVERTED]) < 0) and record.repeat_purchases > 0


def test_a_channel_that_targets_customers_gets_no_credit_for_winning_them() -> None:
    """A channel that reaches nobody but customers cannot have won any of them: first-touch, last-touch and linear
    credit of the customers won are all the other channels'."""
    scenario = crm_scenario()
    record = simulate(scenario, seed=31)
    crm = scenario.channel_names.index("crm")
    assert record.first_touch[crm] == record.last_touch[crm] == record.linear[crm] == 0.0


# --------------------------------------------------------------------------------------------------------------
# 4. p_repurchase.


@pytest.mark.parametrize("cap", [1, None])
def test_each_exposure_of_a_customer_channel_is_a_purchase_with_its_probability(cap: int | None) -> None:
    """Everyone is won in the first days (instant organic funnel, checkout abandonment a), then a CRM channel
    (reach 0.8, p_repurchase 0.3, affinity 5 on "old", capped at 1) is the only source of repeat purchases. Each
    exposure it delivers, to a segment's customer, is a purchase with probability q = min(1, 0.3 affinity) (1 - a),
    independently (a purchase leaves the customer where it is, so it changes no later draw): given the exposures
    E_young, E_old the journal counts, repeat purchases are Binomial(E_young, 0.3 (1 - a)) + Binomial(E_old, 1 - a).
    A customer with e exposures buys again at least once with probability 1 - (1 - q)^e, which gives the law of
    repeat_stats[0] (customers with two purchases or more)."""
    n, horizon, a = 20_000, 14, 0.25
    crm = per_day(3_000, horizon, targets=["converted"], p_repurchase=0.3, reach=0.8, affinity={"old": 5.0})
    if cap is not None:
        crm["frequency_cap"] = cap
    scenario = build(
        n,
        horizon,
        {"crm": crm},
        organic_rates=INSTANT,
        abandonment=a,
        segments={"young": 0.5, "old": 0.5},
    )
    assert scenario.repeats
    record = simulate(scenario, seed=41, journeys=1.0)
    journal = record.journal
    assert journal is not None
    touches = journal.touches
    segment = journal.segment[np.searchsorted(journal.customers, touches["customer"])]
    q = np.array([0.3, 1.0]) * (1.0 - a)
    exposures = np.bincount(segment, weights=touches["exposures"], minlength=2)
    assert exposures.sum() == record.exposures[0] > 10_000 and np.all(exposures > 0)
    mean, var = (exposures * q).sum(), (exposures * q * (1.0 - q)).sum()
    check(record.repeat_purchases, mean, math.sqrt(var), "repeat purchases from the channel's exposures")
    # Customers who bought again, from each customer's own exposures.
    per_customer = np.bincount(touches["customer"], weights=touches["exposures"], minlength=n)
    chance = 1.0 - (1.0 - q[journal.segment]) ** per_customer[journal.customers]
    check(
        record.repeat_stats[0], chance.sum(), math.sqrt((chance * (1.0 - chance)).sum()), "customers who bought again"
    )
    if cap == 1:
        assert per_customer.max() <= horizon
    # Ignoring checkout, or the cap of affinity at 1, would fail by far.
    for wrong in (exposures * np.array([0.3, 1.0]), exposures * np.array([0.3, 1.5]) * (1.0 - a)):
        assert abs(wrong.sum() - mean) > 4 * Z * math.sqrt(var)


# --------------------------------------------------------------------------------------------------------------
# 5. Sales, revenue and customers.


def test_revenue_splits_into_first_and_repeat_orders_and_the_tallies_agree() -> None:
    """Every mechanism on (funnel channels, a CRM channel, repeat purchases, lapse and win-back, word of mouth):
    revenue is first orders at order_value plus repeat ones at the repeat value; customers won never decrease from
    day to day while the stage-3 count, a subset of them, falls with lapse; the daily increments of customers won are
    the journal's days of winning (everyone tracked); repeat_stats counts every purchase after the first."""
    horizon = 28
    scenario = build(
        20_000,
        horizon,
        {
            "social": per_day(3_000, horizon, p_aware=0.1, p_consider=0.05, flighting=[2, 1, 0, 0]),
            "search": per_day(1_500, horizon, targets=["considering"], p_convert=0.3, flighting=[2, 1, 0, 0]),
            "crm": per_day(1_000, horizon, targets=["converted", "aware"], p_consider=0.1, p_repurchase=0.2),
        },
        organic_rates={"awareness_rate": 0.01, "word_of_mouth": 0.2, "consideration_rate": 0.05},
        repeat={"purchase_rate": 0.03, "lapse_half_life_days": 7.0, "order_value": 25.0},
        abandonment=ABANDONMENT,
    )
    record = simulate(scenario, seed=51, journeys=1.0)
    won, repeats = record.daily_sales[:, 0], record.daily_sales[:, 1]
    assert record.conversions == won[-1] and record.repeat_purchases == repeats[-1]
    assert record.purchases == won[-1] + repeats[-1]
    order, repeat_order = scenario.economics.order_value, scenario.repeat_order_value
    assert (order, repeat_order) == (10.0, 25.0)
    assert record.revenue(order, repeat_order) == won[-1] * order + repeats[-1] * repeat_order
    assert record.revenue(1.0, 0.0) == record.conversions and record.revenue(0.0, 1.0) == record.repeat_purchases

    assert np.all(np.diff(won) >= 0) and np.all(np.diff(repeats) >= 0)
    stage3 = record.daily_stages[:, CONVERTED]
    assert np.all(stage3 <= won)
    assert np.any(np.diff(stage3) < 0), "lapse makes the stage-3 count fall"
    journal = record.journal
    assert journal is not None and journal.customers.size == scenario.population
    days_won = journal.converted_day[journal.converted_day >= 0].astype(np.int64)
    np.testing.assert_array_equal(np.diff(won, prepend=0), np.bincount(days_won, minlength=horizon))
    assert np.all(journal.converted_day[journal.stage == CONVERTED] >= 0)
    assert np.count_nonzero(journal.stage == CONVERTED) == stage3[-1]
    assert record.retention[0, 0] == record.conversions
    buyers, days, gaps = record.repeat_stats
    assert gaps == record.repeat_purchases
    assert 0 < buyers <= min(record.conversions, record.repeat_purchases)
    assert 0 <= days <= buyers * (horizon - 1)


def test_customers_won_stay_won_while_they_lapse() -> None:
    """Everyone is won on day 0 (instant organic funnel in week 0, no demand after it), then lapses at
        q = 1 - 2^(-1/7). In week 0 a customer who lapses on day t is won back on day t + 1 (a repeat purchase, and it
        bought that day so it does not lapse on it): the aware count of day t is Binomial(N - aware[t - 1], q), and day
        t + 1 has exactly aware[t] repeat purchases. From week 1 nobody is won back: the stage-3 count of day t is
        Binomial(stage3[t - 1], 1 - q); customers won stay N every day while stage 3 is N less the lapsed not won back
    (all aware: nothing else makes anyone aware). Every first
        lapse comes 7k days after the win with probability 2^(-7k/7): retention[1, k] is Binomial(N, 2^(-k))."""
    n, horizon = 20_000, 28
    q = daily_probability(math.log(2.0) / 7.0)
    scenario = build(
        n,
        horizon,
        organic_rates=INSTANT,
        repeat={"lapse_half_life_days": 7.0, "order_value": 25.0},
        seasonality=[1.0, 0.0, 0.0, 0.0],
    )
    record = simulate(scenario, seed=52)
    stages, won, repeats = record.daily_stages, record.daily_sales[:, 0], record.daily_sales[:, 1]
    np.testing.assert_array_equal(won, n)
    np.testing.assert_array_equal(stages[:, UNAWARE], 0)
    np.testing.assert_array_equal(stages[:, 2], 0)
    aware, stage3 = stages[:, AWARE], stages[:, CONVERTED]
    np.testing.assert_array_equal(stage3, won - aware)  # the customers won less those lapsed and not won back
    assert aware[0] == 0 and repeats[0] == 0
    np.testing.assert_array_equal(np.diff(repeats)[:6], aware[:6])  # won back the next day, in week 0
    np.testing.assert_array_equal(repeats[7:], repeats[6])  # and never after
    check_binomial(aware[1:7], n - aware[:6], q, "lapses of a day in week 0")
    check_binomial(stage3[7:], stage3[6:-1], 1.0 - q, "customers still active from day to day after week 0")
    assert stage3[-1] < n / 4
    assert record.revenue(10.0, 25.0) == n * 10.0 + repeats[-1] * 25.0
    weeks = np.arange(4)
    np.testing.assert_array_equal(record.retention[0], n)
    check_binomial(record.retention[1], n, 2.0 ** (-weeks.astype(float)), "customers not lapsed k weeks after winning")


def test_a_lapsed_customer_touched_today_does_not_forget_today() -> None:
    """Memory makes an aware customer who was not touched today fall back (here surely: half-life 0.001 days).
    Everyone is won on day 0 (instant funnel in week 0, no demand after it) and lapses at half-life 3 days; a channel
    that targets aware customers touches each of them every day (cap 1, more exposures than customers). A lapsed
    customer is touched on every day after its lapse, so it never forgets: nobody is ever unaware."""
    n, horizon = 5_000, 21
    scenario = build(
        n,
        horizon,
        {"retarget": per_day(20_000, horizon, targets=["aware"], frequency_cap=1)},
        organic_rates=INSTANT,
        repeat={"lapse_half_life_days": 3.0},
        seasonality=[1.0, 0.0, 0.0],
        half_life={"aware": 1e-3},
    )
    record = simulate(scenario, seed=53)
    aware = record.daily_stages[:, AWARE]
    # Every aware customer of the day before takes the channel's exposure (the set-up works as meant) ...
    np.testing.assert_array_equal(record.daily_exposures[1:, 0], aware[:-1])
    assert aware[7:].max() > 0
    # ... and so keeps its memory.
    np.testing.assert_array_equal(record.daily_stages[:, UNAWARE], 0)


# --------------------------------------------------------------------------------------------------------------
# 6. Switched off, the keys change nothing.


def without_repeat(name: str) -> dict[str, Any]:
    """A shipped scenario's data with its repeat behaviour taken out: no ``[repeat]`` table, no future value, no
    ``p_repurchase``, no channel reaching customers (a channel that reaches only them goes)."""
    data = tomllib.loads((SCENARIOS / f"{name}.toml").read_text(encoding="utf-8"))
    data.pop("repeat", None)
    for key in ("future_value", "discount_rate"):
        data["economics"].pop(key, None)
    for channel in list(data["channels"]):
        entry = data["channels"][channel]
        entry.pop("p_repurchase", None)
        if "targets" in entry:
            entry["targets"] = [t for t in entry["targets"] if t != "converted"]
            if not entry["targets"]:
                del data["channels"][channel]
                data.get("budget", {}).get("limits", {}).pop(channel, None)
    return data


@pytest.mark.parametrize("name", ["d2c_ecommerce", "retail_omnichannel"])
def test_repeat_keys_switched_off_leave_every_record_bit_identical(name: str) -> None:
    """purchase_rate 0, lapse half-life inf, every channel's p_repurchase 0 (targets without converted), a repeat
    order value and a discount rate (values only): the scenario has no repeat purchases, and a run's record equals,
    array by array, the record of the scenario without the keys."""
    data = without_repeat(name)
    plain = parse_scenario(data, overrides=["scenario.population=20000"])
    off = [
        "repeat.purchase_rate=0.0",
        "repeat.lapse_half_life_days=inf",
        "repeat.order_value=123.0",
        "economics.future_value='none'",
        "economics.discount_rate=0.05",
        *(f"channels.{channel}.p_repurchase=0.0" for channel in plain.channel_names),
    ]
    keyed = parse_scenario(data, overrides=["scenario.population=20000", *off])
    assert keyed != plain and keyed.repeat.order_value == 123.0
    assert not plain.repeats and not keyed.repeats
    for seed in (61, 62):
        first, second = simulate(plain, seed), simulate(keyed, seed)
        assert records_equal(first, second), f"{name}, seed {seed}"
        assert first.repeat_purchases == 0 and first.conversions > 0
