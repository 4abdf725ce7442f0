"""The engine against exact laws: accounting identities, exposure laws, Markov chains, Bass diffusion.

Every statistical check compares a simulated count with its law computed in ``tests/_analytic.py`` (exact where
the set-up allows: closed forms, pair chains, multinomials; linear noise for Bass) and allows ``Z`` standard
errors of that law. Seeds are fixed, so the tests are deterministic; the tolerances make a pass meaningful: a
deviation of a few standard errors (a percent or less of the counts here) fails.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.linalg import expm

from _analytic import (
    bass_continuous,
    bass_discrete,
    chain_shares,
    daily_probability,
    hit_chain,
    organic_daily_matrix,
    organic_generator,
    splitting_bound,
    survival_counts,
)
from mixsim.engine import RunRecord, run
from mixsim.engine.population import segment_sizes
from mixsim.engine.run import TOUCH_BINS, touch_bins
from mixsim.scenario import Scenario, load_scenario, parse_scenario

Z = 5.0
"""Standard errors allowed. Under a normal law |z| > 5 has probability 5.7e-7, so over the ~860 comparisons below a
correct engine would fail for fewer than 1 seed in 2,000; 5 sd is 1-10% of the compared counts (median ~4%)."""

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


# --------------------------------------------------------------------------------------------------------------
# Building scenarios and running them.


def build(
    population: int,
    horizon: int,
    channels: dict[str, dict[str, Any]],
    *,
    segments: dict[str, float] | None = None,
    half_life: dict[str, float] | None = None,
    synergy: float = 0.0,
    organic: dict[str, float] | None = None,
    abandonment: float = 0.0,
) -> Scenario:
    """A validated scenario from TOML-shaped pieces (defaults: no memory, no organic force, no synergy)."""
    data: dict[str, Any] = {
        "scenario": {"name": "engine test", "population": population, "horizon_days": horizon},
        "economics": {"order_value": 10.0, "margin": 0.5, "checkout_abandonment": abandonment},
        "funnel": {"half_life_days": half_life or {}, "synergy": synergy},
        "organic": organic or {},
        "channels": channels,
    }
    if segments is not None:
        data["segments"] = [{"name": name, "share": share} for name, share in segments.items()]
    return parse_scenario(data, "test_engine")


def per_day(exposures: int, horizon: int, **keys: Any) -> dict[str, Any]:
    """A channel at cpm 1000 (one exposure per dollar) spending ``exposures`` a day: exactly that many a day."""
    return {"cpm": 1000.0, "spend": float(exposures * horizon), **keys}


def simulate(scenario: Scenario, seed: int = 0, spend: dict[str, float] | None = None) -> RunRecord:
    return run(scenario, np.random.SeedSequence(seed), spend=spend)


def assert_law(observed: Any, mean: Any, sd: Any, what: str, slack: Any = 0.0) -> None:
    """|observed - mean| <= Z sd + slack everywhere (slack: a deterministic error allowed on top)."""
    observed, mean, sd = np.asarray(observed, float), np.asarray(mean, float), np.asarray(sd, float)
    excess = np.abs(observed - mean) - slack
    z = np.max(excess / np.maximum(sd, 1e-300))
    assert np.all(excess <= Z * sd), f"{what}: worst deviation beyond slack is {z:.1f} sd (allowed {Z})"


RICH_SEGMENTS = {"young": 0.4, "old": 0.6}


def rich(population: int = 20_000, horizon: int = 28, scale: float = 1.0, **changes: Any) -> Scenario:
    """Every mechanism on: segments, reach, affinity, caps, targets, cpc, flighting, memory, organic forces,
    synergy and checkout abandonment. ``scale`` multiplies every channel's spend."""
    channels = {
        "tv": {
            "cpm": 20.0,
            "spend": 6_000.0 * scale,
            "flighting": [2, 1, 0, 1],
            "reach": {"young": 0.6, "old": 0.9},
            "p_aware": 0.1,
            "p_consider": 0.02,
            "affinity": {"old": 1.5},
            "frequency_cap": 2,
        },
        "social": {
            "cpm": 5.0,
            "spend": 2_000.0 * scale,
            "reach": 0.5,
            "targets": ["unaware", "aware"],
            "p_aware": 0.05,
            "p_consider": 0.05,
        },
        "email": {
            "cpm": 1.0,
            "spend": 300.0 * scale,
            "reach": {"young": 0.3, "old": 0.5},
            "targets": ["aware", "considering"],
            "p_consider": 0.1,
            "p_convert": 0.05,
            "frequency_cap": 1,
        },
        "search": {"cpc": 1.5, "ctr": 0.05, "spend": 3_000.0 * scale, "targets": ["considering"], "p_convert": 0.15},
    }
    options: dict[str, Any] = {
        "segments": RICH_SEGMENTS,
        "half_life": {"aware": 10.0, "considering": 7.0},
        "synergy": 0.2,
        "organic": {"awareness_rate": 0.002, "word_of_mouth": 0.3, "consideration_rate": 0.02, "conversion_rate": 0.01},
        "abandonment": 0.3,
    }
    options.update(changes)
    return build(population, horizon, channels, **options)


def records_equal(a: RunRecord, b: RunRecord) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(RunRecord))


def check_accounting(scenario: Scenario, record: RunRecord) -> None:
    """Identities every run must satisfy, whatever the scenario."""
    n, horizon = scenario.population, scenario.horizon_days
    stages = record.daily_stages
    assert stages.shape == (horizon, 4)
    assert np.all(stages >= 0)
    np.testing.assert_array_equal(stages.sum(axis=1), n)
    sales = record.daily_sales
    assert np.all(np.diff(sales, axis=0) >= 0), "customers won and repeat purchases only add up"
    assert np.all(stages[:, 3] <= sales[:, 0]), "every customer was won"
    if not scenario.repeats:
        np.testing.assert_array_equal(stages[:, 3], sales[:, 0])  # converted is absorbing: a customer stays one
    planned = np.array([c.spend for c in scenario.channels])
    np.testing.assert_allclose(record.spend + record.unspent, planned, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(record.spend, record.daily_spend.sum(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(record.exposures, record.daily_exposures.sum(axis=0))
    assert np.all(record.unspent >= -1e-9 * np.maximum(planned, 1.0))
    assert np.all(record.reach <= record.exposures)
    sizes = segment_sizes(n, tuple(seg.share for seg in scenario.segments))
    reachable = np.array([sizes[np.asarray(c.reach) > 0].sum() for c in scenario.channels])
    assert np.all(record.reach <= reachable)
    caps = [c.frequency_cap for c in scenario.channels]
    for k, cap in enumerate(caps):
        if cap is not None:
            assert np.all(record.daily_exposures[:, k] <= cap * record.reach[k])
    conversions = record.conversions
    touched = conversions - int(record.touchpoints[0])
    assert record.touchpoints.sum() == conversions
    assert record.first_touch.sum() == touched
    assert record.last_touch.sum() == touched
    assert record.linear.sum() == pytest.approx(touched, rel=1e-9, abs=1e-9)
    assert record.days_to_conversion.sum() == touched
    assert 0 <= touched <= conversions


# --------------------------------------------------------------------------------------------------------------
# 1-3, 12: accounting and reproducibility.


def test_conservation_with_every_mechanism_on() -> None:
    scenario = rich()
    record = simulate(scenario, seed=1)
    check_accounting(scenario, record)
    # The run is not trivially quiet: every stage is visited and every channel delivers something.
    assert np.all(record.daily_stages.max(axis=0) > 0)
    assert np.all(record.exposures > 0)
    assert record.touchpoints[0] > 0 and record.conversions > record.touchpoints[0]


def test_zero_budget_delivers_nothing_and_nobody_moves_without_organic_forces() -> None:
    scenario = rich(scale=0.0, organic={})
    record = simulate(scenario, seed=2)
    for field in (
        "daily_spend",
        "daily_exposures",
        "spend",
        "unspent",
        "exposures",
        "reach",
        "first_touch",
        "last_touch",
        "linear",
        "days_to_conversion",
    ):
        assert not np.any(getattr(record, field)), field
    np.testing.assert_array_equal(record.daily_stages, [[scenario.population, 0, 0, 0]] * scenario.horizon_days)
    assert not np.any(record.touchpoints)


def test_zero_budget_with_organic_forces_has_no_paid_touches() -> None:
    scenario = rich(scale=0.0)
    record = simulate(scenario, seed=3)
    check_accounting(scenario, record)
    assert record.conversions > 0
    assert record.touchpoints[0] == record.conversions  # every buyer came organically
    assert not np.any(record.reach) and not np.any(record.exposures) and not np.any(record.spend)
    assert not np.any(record.first_touch) and not np.any(record.linear)


def test_spend_delivered_plus_unspent_is_planned() -> None:
    n, horizon = 10_000, 28
    scenario = build(
        n,
        horizon,
        {
            # Fully deliverable, fractional exposures a day (stochastic rounding), uneven flighting.
            "tv": {"cpm": 7.3, "spend": 12_345.67, "flighting": [3, 1, 0, 2], "p_aware": 0.05},
            # Click-priced, targets considering, and nobody ever considers: nothing can be delivered.
            "search": {"cpc": 1.3, "ctr": 0.07, "spend": 999.99, "targets": ["considering"], "p_convert": 0.5},
            # A pool of ~100 capped at 2 a day cannot take 500 exposures a day.
            "capped": per_day(500, horizon, reach=0.01, frequency_cap=2),
        },
    )
    record = simulate(scenario, seed=4)
    check_accounting(scenario, record)
    tv, search, capped = 0, 1, 2
    assert record.unspent[tv] == 0.0
    assert record.spend[tv] == pytest.approx(12_345.67, rel=1e-9)
    # Stochastic rounding: each day's exposures are within 1 of spend / price.
    wanted = record.daily_spend[:, tv] / (7.3 / 1000)
    assert np.all(np.abs(record.daily_exposures[:, tv] - wanted) < 1.0)
    assert np.all(record.daily_exposures[14:21, tv] == 0)  # the week with flighting weight 0
    assert record.exposures[search] == 0 and record.reach[search] == 0 and record.spend[search] == 0.0
    assert record.unspent[search] == pytest.approx(999.99, rel=1e-12)
    assert record.unspent[capped] > 0.0
    assert record.unspent[capped] == pytest.approx(horizon * 500 - record.exposures[capped], rel=1e-9)


def test_same_seed_same_record_and_different_seeds_differ() -> None:
    scenario = rich()
    first, again = simulate(scenario, seed=5), simulate(scenario, seed=5)
    assert records_equal(first, again)
    child = np.random.SeedSequence(5).spawn(3)[2]
    assert records_equal(run(scenario, child), run(scenario, np.random.SeedSequence(5).spawn(3)[2]))
    other = simulate(scenario, seed=6)
    assert not np.array_equal(first.daily_stages, other.daily_stages)
    assert not np.array_equal(first.reach, other.reach)
    assert not records_equal(run(scenario, child), first)


# --------------------------------------------------------------------------------------------------------------
# 4, 5, 15: exact exposure laws of a single channel on a fixed pool.


def test_awareness_follows_the_exact_exposure_law_every_day() -> None:
    """One channel, all stages targeted, only p_aware: P(unaware after n exposures) = (1 - p/N)^n exactly."""
    n, horizon, daily, p, reps = 20_000, 15, 4_000, 0.5, 4
    scenario = build(n, horizon, {"x": per_day(daily, horizon, p_aware=p)})
    records = [simulate(scenario, seed=10 + r) for r in range(reps)]
    for record in records:
        np.testing.assert_array_equal(record.daily_exposures[:, 0], daily)
        assert record.daily_stages[:, 2:].sum() == 0
    unaware = np.mean([r.daily_stages[:, 0] for r in records], axis=0)
    exposures = daily * np.arange(1, horizon + 1)
    mean, sd = survival_counts(n, exposures, [(n, p)])
    assert_law(unaware, mean, sd / math.sqrt(reps), "mean unaware count over replications")
    # Power: the law is far from what a one-chance-per-customer-per-day engine would give.
    one_chance = n * (1 - p * (1 - (1 - 1 / n) ** daily)) ** np.arange(1, horizon + 1)
    assert np.all(np.abs(one_chance - mean)[3:] > 2 * Z * sd[3:] / math.sqrt(reps))


def test_stage_chain_follows_matrix_powers() -> None:
    """p_aware, p_consider > 0, p_convert = 0: each customer's stage is a chain with M = I + (P - I)/N per exposure."""
    n, horizon, daily, pa, pc = 20_000, 15, 4_000, 0.6, 0.3
    scenario = build(n, horizon, {"x": per_day(daily, horizon, p_aware=pa, p_consider=pc)})
    hit = np.array([[1 - pa, pa, 0.0], [0.0, 1 - pc, pc], [0.0, 0.0, 1.0]])
    shares, sd = hit_chain(hit, n, daily * np.arange(1, horizon + 1))
    for seed in (20, 21):
        record = simulate(scenario, seed=seed)
        assert not np.any(record.daily_stages[:, 3])
        assert_law(record.daily_stages[:, :3], n * shares, sd, f"stage counts, seed {seed}")
    assert shares[-1, 1] > 0.2 and shares[-1, 2] > 0.3  # the curve goes through all three stages


@pytest.mark.parametrize("affinity", [2.0, 4.0])
def test_affinity_multiplies_p_for_its_segment(affinity: float) -> None:
    """Segment a has affinity 2 (p -> 2p) or 4 (capped: 4p > 1 -> 1); segment b keeps p."""
    n, horizon, daily, p = 20_000, 8, 4_000, 0.3
    scenario = build(
        n,
        horizon,
        {"x": per_day(daily, horizon, p_aware=p, affinity={"a": affinity})},
        segments={"a": 0.3, "b": 0.7},
    )
    size_a, size_b = segment_sizes(n, (0.3, 0.7))
    exposures = daily * np.arange(1, horizon + 1)
    mean, sd = survival_counts(n, exposures, [(int(size_a), min(1.0, p * affinity)), (int(size_b), p)])
    unaware = np.mean([simulate(scenario, seed=s).daily_stages[:, 0] for s in (30, 31)], axis=0)
    assert_law(unaware, mean, sd / math.sqrt(2), f"unaware count with affinity {affinity}")
    plain, plain_sd = survival_counts(n, exposures, [(n, p)])
    assert np.all(np.abs(plain - mean)[1:] > 10 * plain_sd[1:])  # affinity ignored would fail


def test_segment_outside_reach_is_never_touched() -> None:
    n, horizon = 10_000, 5
    size_a = int(segment_sizes(n, (0.3, 0.7))[0])
    scenario = build(
        n,
        horizon,
        {
            # Leaves the pool once aware: exactly min(exposures, pool) customers are touched.
            "all_of_a": per_day(5_000, horizon, reach={"a": 1.0}, targets=["unaware"], p_aware=1.0),
            "half_of_a": per_day(50_000, horizon, reach={"a": 0.5, "b": 0.0}, p_aware=0.0),
        },
        segments={"a": 0.3, "b": 0.7},
    )
    record = simulate(scenario, seed=7)
    check_accounting(scenario, record)
    assert record.reach[0] == size_a
    np.testing.assert_array_equal(record.daily_stages[:, 1], size_a)  # segment b (7000) is never moved
    np.testing.assert_array_equal(record.daily_exposures[:, 0], [size_a, 0, 0, 0, 0])
    assert record.unspent[0] == pytest.approx(5_000 * horizon - size_a, rel=1e-12)
    # Reach 0.5 of segment a: Binomial(size_a, 0.5) reachable, all touched by 50,000 draws a day.
    assert record.reach[1] <= size_a
    assert abs(record.reach[1] - size_a / 2) <= Z * math.sqrt(size_a / 4)


def test_channel_targeting_considering_never_moves_the_unaware() -> None:
    n, horizon = 5_000, 10
    scenario = build(
        n,
        horizon,
        {"search": per_day(1_000, horizon, targets=["considering"], p_aware=1.0, p_consider=1.0, p_convert=1.0)},
    )
    record = simulate(scenario, seed=8)
    np.testing.assert_array_equal(record.daily_stages, [[n, 0, 0, 0]] * horizon)
    assert record.exposures[0] == 0 and record.reach[0] == 0 and record.spend[0] == 0.0
    assert record.unspent[0] == pytest.approx(1_000 * horizon)


def test_exposures_on_a_leaving_pool_are_binomial() -> None:
    """targets = ["unaware"]: a customer leaves the pool when it moves, and draws on leavers are redrawn, so every
    delivered exposure falls on an unaware customer and moves it with probability p, independently of the rest:
    aware after t days ~ Binomial(E t, p) while the pool lasts. Half the pool moves on day 0, so the day's later
    draws often fall on customers already drawn (and failed) that day: each needs a fresh chance number."""
    n, horizon, daily, p = 20_000, 3, 10_000, 0.5
    scenario = build(n, horizon, {"x": per_day(daily, horizon, targets=["unaware"], p_aware=p)})
    for seed in (12, 13):
        record = simulate(scenario, seed=seed)
        np.testing.assert_array_equal(record.daily_exposures[:, 0], daily)
        trials = daily * np.arange(1, horizon + 1)
        assert_law(record.daily_stages[:, 1], trials * p, np.sqrt(trials * p * (1 - p)), f"aware, seed {seed}")


def test_two_channels_draw_independent_chances() -> None:
    """Two identical channels of E exposures a day act as one channel of 2E: the exact law of 2E t exposures."""
    n, horizon, daily, p = 20_000, 6, 10_000, 0.3
    x = per_day(daily, horizon, p_aware=p)
    record = simulate(build(n, horizon, {"x": x, "y": dict(x)}), seed=9)
    mean, sd = survival_counts(n, 2 * daily * np.arange(1, horizon + 1), [(n, p)])
    assert_law(record.daily_stages[:, 0], mean, sd, "unaware count under two channels")


def test_stochastic_rounding_delivers_spend_over_price_on_average() -> None:
    """2.5 exposures wanted a day: each day delivers 2 or 3, Bernoulli(0.5) extra, so the total is 2.5 T within
    Z sqrt(T / 4); always rounding down would be sqrt(T) = 19 sd short."""
    n, horizon = 1_000, 364
    record = simulate(build(n, horizon, {"x": {"cpm": 1000.0, "spend": 2.5 * horizon}}), seed=90)
    assert set(np.unique(record.daily_exposures[:, 0])) <= {2, 3}
    assert_law(record.exposures[0], 2.5 * horizon, math.sqrt(horizon / 4), "exposures over the year")
    assert record.spend[0] == pytest.approx(2.5 * horizon) and record.unspent[0] == 0.0


# --------------------------------------------------------------------------------------------------------------
# 9: frequency cap.


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_frequency_cap_limits_daily_exposures_and_the_excess_is_unspent(cap: int) -> None:
    n, horizon, daily = 10_000, 5, 1_000
    scenario = build(n, horizon, {"x": per_day(daily, horizon, reach=0.01, frequency_cap=cap)})
    record = simulate(scenario, seed=40 + cap)
    pool = int(record.reach[0])
    assert 0 < pool < daily / cap
    assert abs(pool - 0.01 * n) <= Z * math.sqrt(n * 0.01 * 0.99)  # reach ~ Binomial(N, 0.01)
    np.testing.assert_array_equal(record.daily_exposures[:, 0], cap * pool)
    assert record.unspent[0] == pytest.approx(horizon * (daily - cap * pool), rel=1e-12)


@pytest.mark.parametrize("cap", [1, 2])
def test_frequency_cap_paces_a_certain_funnel(cap: int) -> None:
    """All p = 1: a customer moves one stage per exposure, so with cap c the pool climbs c stages a day."""
    n, horizon, daily = 10_000, 5, 1_000
    scenario = build(
        n, horizon, {"x": per_day(daily, horizon, reach=0.02, frequency_cap=cap, p_aware=1, p_consider=1, p_convert=1)}
    )
    record = simulate(scenario, seed=50 + cap)
    pool = int(record.reach[0])
    for day in range(horizon):
        stage = min(3, cap * (day + 1))
        expected = np.zeros(4, dtype=int)
        expected[0], expected[stage] = n - pool, pool
        np.testing.assert_array_equal(record.daily_stages[day], expected)
    steps = [min(cap, 3 - min(3, cap * d)) * pool for d in range(horizon)]
    np.testing.assert_array_equal(record.daily_exposures[:, 0], steps)
    # A touchpoint is a channel-day: 3 exposures at c a day make ceil(3 / c) touchpoints (2 for c = 2, not 3).
    assert record.touchpoints[touch_bins(np.array(-(-3 // cap)))] == pool == record.conversions
    assert record.touchpoints.sum() == pool


# --------------------------------------------------------------------------------------------------------------
# 10, 11, 14: a primer channel makes everyone considering on day 0; a closer channel then converts.


def primer_closer(
    n: int, horizon: int, daily: int, p_convert: float, *, synergy: float = 0.0, abandonment: float = 0.0
) -> Scenario:
    """``primer`` (p_aware = p_consider = 1, targets unaware and aware) needs exactly 2 exposures per customer and
    gets 2N on day 0, so everyone is considering after it; ``closer`` then targets considering only. Every closer
    exposure lands on a considering customer (draws on buyers are redrawn) and is a conversion with probability
    p_convert x (1 + synergy) (capped at 1) x (1 - abandonment), independently: conversions ~ Binomial(daily x T, .).
    """
    return build(
        n,
        horizon,
        {
            "primer": per_day(2 * n, horizon, targets=["unaware", "aware"], p_aware=1.0, p_consider=1.0),
            "closer": per_day(daily, horizon, targets=["considering"], p_convert=p_convert),
        },
        synergy=synergy,
        abandonment=abandonment,
    )


def binomial(trials: int, p: float) -> tuple[float, float]:
    return trials * p, math.sqrt(trials * p * (1.0 - p))


def test_checkout_abandonment_scales_conversions() -> None:
    n, horizon, daily, p = 20_000, 7, 2_000, 0.4
    trials = daily * horizon
    counts = {}
    for a in (0.0, 0.5):
        record = simulate(primer_closer(n, horizon, daily, p, abandonment=a), seed=60)
        assert record.daily_exposures[0, 0] == 2 * n and record.exposures[0] == 2 * n
        np.testing.assert_array_equal(record.daily_exposures[:, 1], daily)
        counts[a] = record.conversions
        assert_law(record.conversions, *binomial(trials, p * (1 - a)), f"conversions at abandonment {a}")
    # The ratio, by the delta method; the variances add as if independent, an upper bound since the common
    # random numbers correlate the two runs positively.
    ratio = counts[0.5] / counts[0.0]
    mean_0, sd_0 = binomial(trials, p)
    mean_5, sd_5 = binomial(trials, p / 2)
    sd_ratio = 0.5 * math.hypot(sd_0 / mean_0, sd_5 / mean_5)
    assert abs(ratio - 0.5) <= Z * sd_ratio


def test_synergy_raises_conversions_with_two_channels() -> None:
    n, horizon, daily, p, s = 20_000, 7, 2_000, 0.4, 0.3
    trials = daily * horizon
    siloed = simulate(primer_closer(n, horizon, daily, p), seed=61).conversions
    boosted = simulate(primer_closer(n, horizon, daily, p, synergy=s), seed=61).conversions
    assert_law(siloed, *binomial(trials, p), "conversions without synergy")
    assert_law(boosted, *binomial(trials, p * (1 + s)), "conversions with synergy: m = 2 distinct channels")
    # The rise itself: sd of the difference bounded as if independent (the runs are positively correlated).
    rise = trials * p * s
    assert abs((boosted - siloed) - rise) <= Z * math.hypot(binomial(trials, p)[1], binomial(trials, p * (1 + s))[1])
    assert boosted - siloed > rise / 2


def test_synergy_boost_is_capped_before_checkout_abandonment() -> None:
    """0.9 x 1.3 = 1.17 caps at 1, then half of the attempts are abandoned: p = 0.5 (not 0.9 x 0.5 x 1.3 = 0.585)."""
    n, horizon, daily = 20_000, 7, 2_000
    record = simulate(primer_closer(n, horizon, daily, 0.9, synergy=0.3, abandonment=0.5), seed=62)
    assert_law(record.conversions, *binomial(daily * horizon, 0.5), "conversions, capped boost then checkout")
    certain = simulate(primer_closer(n, horizon, daily, 0.9, synergy=0.3), seed=62)
    assert certain.conversions == daily * horizon  # capped at 1: every closer exposure converts


def test_synergy_with_a_single_channel_changes_nothing() -> None:
    channels = {"x": per_day(3_000, 21, p_aware=0.3, p_consider=0.2, p_convert=0.1, frequency_cap=3)}
    options: dict[str, Any] = {
        "half_life": {"aware": 10.0, "considering": 5.0},
        "organic": {"awareness_rate": 0.01, "word_of_mouth": 0.2, "consideration_rate": 0.02, "conversion_rate": 0.01},
        "abandonment": 0.2,
    }
    siloed = simulate(build(10_000, 21, channels, **options), seed=63)
    boosted = simulate(build(10_000, 21, channels, synergy=0.5, **options), seed=63)
    assert siloed.conversions > 0
    assert records_equal(siloed, boosted)


def test_attribution_of_a_primer_closer_path_is_exact() -> None:
    """p_convert = 1: every closer exposure converts a customer whose path is primer, primer, closer."""
    n, horizon, daily = 20_000, 14, 500
    record = simulate(primer_closer(n, horizon, daily, 1.0), seed=64)
    buyers = daily * horizon
    assert record.conversions == buyers
    np.testing.assert_array_equal(record.first_touch, [buyers, 0])
    np.testing.assert_array_equal(record.last_touch, [0, buyers])
    np.testing.assert_allclose(record.linear, [2 * buyers / 3, buyers / 3], rtol=1e-12)
    expected = np.zeros(TOUCH_BINS, dtype=int)
    expected[touch_bins(np.array(2))] = buyers  # two primer exposures on day 0 are one touchpoint, the closer another
    np.testing.assert_array_equal(record.touchpoints, expected)
    np.testing.assert_array_equal(record.days_to_conversion, [7 * daily, 7 * daily])  # first touch on day 0


def test_attribution_sums_to_touched_buyers() -> None:
    scenario = rich()
    record = simulate(scenario, seed=65)
    check_accounting(scenario, record)
    touched = record.conversions - record.touchpoints[0]
    assert 0 < touched < record.conversions
    for credit in (record.first_touch, record.last_touch, record.linear):
        assert np.all(credit >= 0)
    single = build(
        10_000,
        21,
        {"only": per_day(3_000, 21, p_aware=0.3, p_consider=0.2, p_convert=0.1)},
        half_life={"aware": 10.0},
    )
    alone = simulate(single, seed=66)
    check_accounting(single, alone)
    assert alone.conversions > 0 and alone.touchpoints[0] == 0  # no organic conversion: every buyer touched
    for credit in (alone.first_touch, alone.last_touch, alone.linear):
        assert credit.tolist() == pytest.approx([alone.conversions])


# --------------------------------------------------------------------------------------------------------------
# 13: common random numbers.


def test_turning_a_channel_off_leaves_another_channels_draws_unchanged() -> None:
    """x targets every stage and nobody converts, so x's pool never changes: its draws cannot depend on y."""
    n, horizon = 10_000, 14
    scenario = build(
        n,
        horizon,
        {
            "y": per_day(2_000, horizon, p_aware=0.3, p_consider=0.3),
            "x": {"cpm": 3.0, "spend": 30.0, "p_aware": 0.1, "p_consider": 0.1},
        },
        organic={"awareness_rate": 0.01},
    )
    both = simulate(scenario, seed=70)
    alone = simulate(scenario, seed=70, spend={"y": 0.0})
    assert alone.exposures[0] == 0 and both.exposures[0] > 0
    assert both.reach[1] == alone.reach[1]
    np.testing.assert_array_equal(both.daily_exposures[:, 1], alone.daily_exposures[:, 1])
    assert not np.array_equal(both.daily_stages, alone.daily_stages)  # y did change the customers


def test_a_channel_without_effect_leaves_every_stage_count_unchanged() -> None:
    """No memory and no synergy: exposures that cannot move anyone must not move anything (identical runs)."""
    n, horizon = 10_000, 21
    scenario = build(
        n,
        horizon,
        {
            "inert": {"cpm": 2.0, "spend": 400.0, "frequency_cap": 2},
            "x": per_day(1_500, horizon, p_aware=0.2, p_consider=0.2, p_convert=0.2, frequency_cap=2),
        },
        organic={"awareness_rate": 0.01, "word_of_mouth": 0.5, "consideration_rate": 0.02, "conversion_rate": 0.02},
        abandonment=0.2,
    )
    on = simulate(scenario, seed=71)
    off = simulate(scenario, seed=71, spend={"inert": 0.0})
    assert on.exposures[0] > 0 and off.exposures[0] == 0
    np.testing.assert_array_equal(on.daily_stages, off.daily_stages)
    np.testing.assert_array_equal(on.daily_exposures[:, 1], off.daily_exposures[:, 1])
    assert on.reach[1] == off.reach[1]
    assert on.first_touch.sum() >= off.first_touch.sum()  # same buyers; more of them touched


def test_less_spend_touches_a_subset() -> None:
    """At 95% of the spend a channel's draws are the first ones of the full run's: its reach cannot grow."""
    n, horizon = 10_000, 14
    scenario = build(n, horizon, {"x": {"cpm": 10.0, "spend": 100.0, "frequency_cap": 3}})
    full = simulate(scenario, seed=72)
    less = simulate(scenario, seed=72, spend={"x": 95.0})
    assert np.all(less.daily_exposures <= full.daily_exposures)
    assert less.exposures[0] < full.exposures[0]
    assert less.reach[0] <= full.reach[0]


# --------------------------------------------------------------------------------------------------------------
# 6, 7, 8: memory and organic forces.


def test_organic_forces_follow_their_markov_chain() -> None:
    """Organic only (no word of mouth): customers are independent chains, so stage counts are multinomial with
    the engine's one-day matrix D (forces in sequence, probabilities 1 - e^-rate) and approximate the
    continuous-time chain e^{Qt} within the splitting bound (second order in the rates, stated in _analytic)."""
    n, horizon = 100_000, 60
    awareness, consideration, conversion, abandonment, half_aware, half_considering = 0.02, 0.03, 0.02, 0.25, 30, 15
    rates = {"awareness_rate": awareness, "consideration_rate": consideration, "conversion_rate": conversion}
    half_lives = {"aware": half_aware, "considering": half_considering}
    scenario = build(
        n,
        horizon,
        {"idle": {"cpm": 10.0, "spend": 0.0}},
        half_life=half_lives,
        organic=rates,
        abandonment=abandonment,
    )
    record = simulate(scenario, seed=80)
    args = (awareness, consideration, conversion, abandonment, half_aware, half_considering)
    daily = organic_daily_matrix(*args)
    shares = chain_shares(daily, horizon)
    sd = np.sqrt(n * shares * (1 - shares))
    assert_law(record.daily_stages, n * shares, sd, "stage counts vs the daily chain")
    generator = organic_generator(*args)
    t = np.arange(1, horizon + 1)
    continuous = np.array([expm(generator * ti)[0] for ti in t])
    bound = splitting_bound(daily, generator, horizon)
    assert bound[-1] < 0.02  # small rates: the daily-step error stays a fraction of the shares
    assert np.all(np.abs(shares - continuous).max(axis=1) <= bound + 1e-12)  # the bound holds
    assert_law(record.daily_stages, n * continuous, sd, "stage counts vs e^{Qt}", slack=n * bound[:, None])
    assert continuous[-1, 3] > 0.05 and continuous[-1, 2] > 0.1  # every stage is exercised


def test_forgetting_after_a_burst_halves_every_half_life() -> None:
    """Week 1 only; then no touch, so each aware customer forgets with 1 - 2^(-1/h) a day: given A_6, the aware
    count on day t is Binomial(A_6, 2^(-(t-6)/h)) exactly."""
    n, horizon, h = 20_000, 35, 5.0
    scenario = build(
        n,
        horizon,
        {"burst": {"cpm": 1000.0, "spend": 7.0 * 10_000, "flighting": [1, 0, 0, 0, 0], "p_aware": 0.8}},
        half_life={"aware": h},
    )
    record = simulate(scenario, seed=81)
    assert np.all(record.daily_exposures[:7, 0] == 10_000) and not np.any(record.daily_exposures[7:])
    aware = record.daily_stages[:, 1]
    start = int(aware[6])
    survive = 2.0 ** (-(np.arange(7, horizon) - 6) / h)
    mean = start * survive
    assert_law(aware[7:], mean, np.sqrt(start * survive * (1 - survive)), "aware count after the burst")
    # Pooled fit of the daily survival: A_t | A_{t-1} ~ Binomial(A_{t-1}, s), MLE s = sum A_t / sum A_{t-1}.
    s_hat = aware[7:].sum() / aware[6:-1].sum()
    s = 2.0 ** (-1.0 / h)
    sd_s = math.sqrt(s * (1 - s) / aware[6:-1].sum())
    assert abs(s_hat - s) <= Z * sd_s
    # The half-life it implies, h = -1 / log2(s); delta method: dh/ds = h^2 / (s ln 2).
    assert abs(-1.0 / math.log2(s_hat) - h) <= Z * sd_s * h * h / (s * math.log(2.0))


def test_customers_touched_today_do_not_forget_today() -> None:
    """Half-life 0.001 day: every untouched aware customer forgets at once, so the aware count at the end of a
    day is the number of distinct customers touched that day (p_aware = 1): N - #untouched, an occupancy law."""
    n, horizon, daily = 20_000, 10, 10_000
    scenario = build(n, horizon, {"x": per_day(daily, horizon, p_aware=1.0)}, half_life={"aware": 0.001})
    record = simulate(scenario, seed=82)
    untouched, sd = survival_counts(n, [daily], [(n, 1.0)])
    assert_law(record.daily_stages[:, 1], n - untouched[0], sd[0], "aware = distinct customers touched today")


def test_word_of_mouth_is_driven_by_the_converted_share() -> None:
    """Segment a converts (or only becomes aware) on day 0 by a certain channel; segment b is reached by word of mouth
    alone, hazard q x (converted share). Converted a = N/2: b's unaware count on day t is Binomial(N/2, e^-(q/2)(t+1)).
    Aware a only: the converted share is 0 and b never moves."""
    n, horizon, q = 20_000, 20, 0.2
    half = n // 2
    segments = {"a": 0.5, "b": 0.5}
    organic = {"word_of_mouth": q}
    certain = {"p_aware": 1.0, "p_consider": 1.0, "p_convert": 1.0}
    buyers = build(
        n, horizon, {"c": per_day(3 * half, horizon, reach={"a": 1.0}, **certain)}, segments=segments, organic=organic
    )
    record = simulate(buyers, seed=84)
    np.testing.assert_array_equal(record.daily_stages[:, 3], half)
    stay = np.exp(-q * 0.5 * np.arange(1, horizon + 1))
    assert_law(record.daily_stages[:, 0], half * stay, np.sqrt(half * stay * (1 - stay)), "segment b unaware")
    np.testing.assert_array_equal(record.daily_stages[:, 1], half - record.daily_stages[:, 0])
    talkers = build(
        n,
        horizon,
        {"c": per_day(half, horizon, reach={"a": 1.0}, targets=["unaware"], **certain)},
        segments=segments,
        organic=organic,
    )
    np.testing.assert_array_equal(simulate(talkers, seed=84).daily_stages, [[half, half, 0, 0]] * horizon)


def test_bass_diffusion_with_an_instant_funnel() -> None:
    """Awareness hazard p + q F; consideration and conversion at hazard 50 (daily probability exactly 1.0)."""
    n, horizon, p, q = 200_000, 60, 0.01, 0.1
    scenario = build(
        n,
        horizon,
        {"idle": {"cpm": 10.0, "spend": 0.0}},
        organic={"awareness_rate": p, "word_of_mouth": q, "consideration_rate": 50.0, "conversion_rate": 50.0},
    )
    assert daily_probability(50.0) == 1.0
    record = simulate(scenario, seed=83)
    stages = record.daily_stages
    assert not np.any(stages[:, 1:3])  # the aware convert the same day
    converted = stages[:, 3]
    # Exact one-step law: C_{t+1} - C_t ~ Binomial(N - C_t, 1 - e^-(p + q C_t / N)).
    before = np.r_[0, converted[:-1]]
    g = -np.expm1(-(p + q * before / n))
    assert_law(converted - before, (n - before) * g, np.sqrt((n - before) * g * (1 - g)), "daily adoptions")
    # The whole trajectory against the deterministic recursion (sd by linear noise propagation).
    discrete, sd = bass_discrete(p, q, horizon, n)
    assert_law(converted / n, discrete, sd, "converted share vs the discrete Bass recursion")
    # Against the continuous Bass curve: the daily step lags it (the day's hazard uses the share at the start of
    # the day; local error <= (p + q)^2 / 8 a day). Allowed: the exact gap between the two deterministic curves.
    continuous = bass_continuous(p, q, np.arange(1, horizon + 1))
    gap = np.abs(discrete - continuous)
    assert gap.max() < 0.03
    assert_law(converted / n, continuous, sd, "converted share vs the continuous Bass curve", slack=gap)
    assert discrete[-1] > 0.95 and discrete[20] < 0.5  # an S-curve through the whole range


# --------------------------------------------------------------------------------------------------------------
# Shipped scenarios (test_shipped_scenarios.py runs them at full size; the identities do not depend on size).


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_scenarios_keep_the_accounting_identities(path: Path) -> None:
    scenario = load_scenario(path, ["scenario.population=5000"])
    check_accounting(scenario, simulate(scenario, seed=scenario.seed or 0))
