"""A population that stands for more customers (``scenario.represents``) and quick previews (``Scenario.scaled``,
``--scale``): exact scaling laws in the engine, the same market at a smaller size, the key's rules, the record of
overrides, and the command line."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import mixsim
from mixsim.engine import RunRecord, run
from mixsim.engine.run import MARKET_FIELDS, in_market
from mixsim.errors import InputError, ScenarioError
from mixsim.scenario import Scenario, describe_population, load_scenario, scenario_to_dict

CliResult = tuple[int, str, str]
RunCli = Callable[..., CliResult]


def one_run(scenario: Scenario, seed: int = 5, journeys: float = 0.0) -> RunRecord:
    return run(scenario, np.random.SeedSequence(seed), journeys=journeys)


def assert_same_record(a: RunRecord, b: RunRecord) -> None:
    """Bit for bit: every field's values and dtype."""
    for name in MARKET_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert np.array_equal(x, y), name


# --- represents == population: nothing changes -----------------------------------------------------------------


def test_the_default_is_the_population_and_changes_nothing(make_scenario: Callable[..., Scenario]) -> None:
    implicit = make_scenario()
    explicit = make_scenario("scenario.represents=2000")
    assert implicit.represents == explicit.represents == implicit.population == 2000
    assert implicit.scale == 1.0
    assert_same_record(one_run(implicit), one_run(explicit))
    assert one_run(implicit).daily_stages.dtype == np.int64  # no arithmetic: counts stay integers
    assert isinstance(one_run(implicit).conversions, int)  # so f"{conversions:d}" keeps working
    a = mixsim.simulate(implicit, seed=2, replications=2, incrementality=True)
    b = mixsim.simulate(explicit, seed=2, replications=2, incrementality=True)
    assert a.to_json() == b.to_json()
    assert json.loads(a.to_json())["represents"] == 2000


# --- the engine's scaling laws ------------------------------------------------------------------------------------


def test_a_represented_run_is_the_population_given_its_share_of_the_money_counted_back_up(
    make_scenario: Callable[..., Scenario],
) -> None:
    """Exactly: the run of 2,000 customers standing for 20,000 is the run of those 2,000 with a tenth of every
    channel's money, every count and sum of money multiplied by 10; the journal stays in simulated customers."""
    market = make_scenario("scenario.represents=20000")
    share = market.population / market.represents
    alone = make_scenario().with_spend({c.name: c.spend * share for c in market.channels})
    scaled, plain = one_run(market, journeys=1.0), one_run(alone, journeys=1.0)
    assert_same_record(scaled, in_market(plain, 10.0))
    assert scaled.conversions == 10.0 * plain.conversions
    assert scaled.journal is not None and plain.journal is not None
    assert np.array_equal(scaled.journal.touches, plain.journal.touches)
    assert scaled.journal.customers.size == market.population  # everyone tracked: the simulated customers


def test_journeys_estimate_the_market(make_scenario: Callable[..., Scenario]) -> None:
    """Sample counts of journeys scale up to the customers the population stands for, like the truth they are
    checked against."""
    market = make_scenario("scenario.represents=20000")
    journeys = mixsim.simulate(market, seed=1, replications=1, journeys=0.5).journeys()
    np.testing.assert_allclose(journeys.scale(), market.represents / journeys.tracked())


def test_every_count_and_money_field_of_the_record_is_scaled() -> None:
    """A field added to RunRecord must be scaled or be the journal: the list and the record agree."""
    fields = {f.name for f in dataclasses.fields(RunRecord)}
    assert set(MARKET_FIELDS) == fields - {"journal"}


def test_money_in_is_money_out(make_scenario: Callable[..., Scenario]) -> None:
    market = make_scenario("scenario.represents=20000")
    record = one_run(market)
    planned = np.array([c.spend for c in market.channels])
    # Delivered and unspent add up to the plan, in the market's money, channel by channel.
    np.testing.assert_allclose(record.spend + record.unspent, planned, rtol=1e-12)
    # tv has no cap and a large audience: all its money is delivered.
    tv = market.channel_names.index("tv")
    assert record.unspent[tv] == 0.0
    assert record.spend[tv] == pytest.approx(market.channel("tv").spend, rel=1e-12)
    # The stages count the market.
    np.testing.assert_allclose(record.daily_stages.sum(axis=1), market.represents, rtol=1e-12)


def test_a_preview_is_the_same_market_not_a_saturated_one(repo_root: Path) -> None:
    """d2c at 40,000 customers against a quarter of them standing for the 40,000: conversions agree within the
    replications' spread. A quarter of the customers with the whole market's money does not."""
    full = load_scenario(repo_root / "scenarios" / "d2c_ecommerce.toml", ["scenario.population=40000"])
    preview = full.scaled(0.25)
    assert (preview.population, preview.represents) == (10_000, 40_000)
    replications = 4
    big = mixsim.simulate(full, seed=11, replications=replications).kpi_values()["conversions"]
    small = mixsim.simulate(preview, seed=11, replications=replications).kpi_values()["conversions"]
    error = np.sqrt(big.var(ddof=1) / replications + small.var(ddof=1) / replications)
    assert abs(small.mean() - big.mean()) <= 3.0 * error, (big, small)
    low, high = np.percentile(small, [5, 95])
    assert low - 3.0 * error <= big.mean() <= high + 3.0 * error
    # The naive preview: a quarter of the customers saturated by the whole market's money, counted up.
    naive = full.replace(population=10_000)
    crowded = mixsim.simulate(naive, seed=11, replications=2).kpi_values()["conversions"] * 4
    assert abs(crowded.mean() - big.mean()) > 10.0 * error


# --- the key and Scenario.scaled ------------------------------------------------------------------------------


def test_represents_below_the_population_is_refused(make_scenario: Callable[..., Scenario]) -> None:
    with pytest.raises(ScenarioError) as caught:
        make_scenario("scenario.represents=1999")
    assert caught.value.problems == [
        "small.toml: scenario.represents: must be >= population (2000): a simulated customer stands for one real "
        "customer or more (got 1999)"
    ]
    for bad, rule in (("0", "must be > 0"), ("2.5e4", "must be an integer"), ('"all"', "must be an integer")):
        with pytest.raises(ScenarioError, match=rf"small\.toml: scenario\.represents: {rule}"):
            make_scenario(f"scenario.represents={bad}")


def test_scaled_keeps_the_market_and_composes(make_scenario: Callable[..., Scenario]) -> None:
    base = make_scenario()
    half = base.scaled(0.5)
    assert (half.population, half.represents, half.scale) == (1000, 2000, 0.5)
    assert half.scaled(0.5) == base.scaled(0.25)
    assert (base.scaled(0.25).population, base.scaled(0.25).represents) == (500, 2000)
    assert base.scaled(1.0) is base
    assert half.channels == base.channels and half.budget == base.budget  # money stays the market's
    variant = half.with_overrides(["funnel.synergy=0.3"])  # as compare --vary makes them: still the preview
    assert (variant.population, variant.represents) == (1000, 2000)
    assert describe_population(base) == "2,000 customers"
    assert describe_population(half) == "1,000 simulated customers standing for 2,000"


@pytest.mark.parametrize("factor", [0.0, -0.1, 1.5, float("nan"), True, "0.1"])
def test_scaled_refuses_a_factor_outside_0_1(make_scenario: Callable[..., Scenario], factor: object) -> None:
    with pytest.raises(InputError, match=r"factor must be a share of the customers above 0 and at most 1"):
        make_scenario().scaled(factor)  # type: ignore[arg-type]


def test_scaled_refuses_too_few_customers(make_scenario: Callable[..., Scenario]) -> None:
    with pytest.raises(InputError, match=r"factor 0.04 leaves 80 of the scenario's 2,000 simulated customers; .*100"):
        make_scenario().scaled(0.04)
    assert make_scenario().scaled(0.05).population == 100


def test_overrides_are_recorded_in_order(make_scenario: Callable[..., Scenario], scenario_file: Path) -> None:
    loaded = load_scenario(scenario_file, ["funnel.synergy=0.2", "channels.tv.spend=1000"])
    assert loaded.overrides == ("funnel.synergy=0.2", "channels.tv.spend=1000")
    assert load_scenario(scenario_file).overrides == ()
    more = loaded.with_overrides(["economics.margin=0.5"])
    assert more.overrides == (*loaded.overrides, "economics.margin=0.5")
    scaled = more.scaled(0.1)
    assert scaled.overrides == (*more.overrides, "scenario.population=200", "scenario.represents=2000")
    assert scaled.scaled(0.5).overrides == (*scaled.overrides, "scenario.population=100")  # represents said once
    # The record reproduces the scenario from the file.
    assert load_scenario(scenario_file, scaled.overrides) == scaled
    # Variants made in code keep the record they came from.
    assert scaled.replace({"funnel.synergy": 0.0}).overrides == scaled.overrides
    assert scaled.with_channel("tv", cpm=30.0).overrides == scaled.overrides
    assert scaled.without_channel("email").overrides == scaled.overrides
    assert scaled.with_spend({"tv": 10.0}).overrides == scaled.overrides
    assert mixsim.parse_scenario({**scenario_to_dict(loaded)}, "x", "scenario.seed=4").overrides == ("scenario.seed=4",)


def test_scenario_data_writes_represents_only_where_it_is_not_the_population(
    make_scenario: Callable[..., Scenario],
) -> None:
    base = make_scenario()
    assert "represents" not in scenario_to_dict(base)["scenario"]
    assert scenario_to_dict(base.scaled(0.5))["scenario"]["represents"] == 2000
    assert mixsim.parse_scenario(scenario_to_dict(base.scaled(0.5)), "small.toml") == base.scaled(0.5)
    # The default follows the population; an explicit market stays.
    assert base.with_spend({"tv": 1.0}).replace(population=3000).represents == 3000
    assert base.scaled(0.5).with_spend({"tv": 1.0}).replace(population=1500).represents == 2000


# --- the command line ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1", "abc", "150%"])
def test_cli_refuses_a_scale_outside_0_1(run_cli: RunCli, scenario_file: Path, value: str) -> None:
    code, _, err = run_cli("simulate", scenario_file, "--scale", value, "-r", "1", "-w", "1")
    assert code == 2
    assert f"argument --scale: must be a share of the customers in (0, 1], e.g. 0.1 (got {value})" in err


def test_cli_refuses_a_scale_that_leaves_too_few_customers(run_cli: RunCli, scenario_file: Path) -> None:
    code, _, err = run_cli("simulate", scenario_file, "--scale", "0.01", "-r", "1", "-w", "1")
    assert code == 2
    assert err.startswith("--scale: factor 0.01 leaves 20 of the scenario's 2,000 simulated customers")


def test_cli_scale_says_so_and_reports_the_market(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, _ = run_cli("simulate", scenario_file, "--scale", "10%", "-r", "1", "-w", "1")
    assert code == 0
    first, second = out.splitlines()[:2]
    assert first == (
        f"{scenario_file}: a preview (--scale 0.1): 200 simulated customers standing for 2,000; counts and money "
        "are the whole market's"
    )
    assert second.startswith("small: 200 simulated customers standing for 2,000, 20 days")
    code, out, err = run_cli("simulate", scenario_file, "--scale", "0.1", "-r", "1", "-w", "1", "--json")
    doc = json.loads(out)  # the note goes to stderr: stdout stays JSON
    assert "a preview (--scale 0.1)" in err
    assert (doc["population"], doc["represents"]) == (200, 2000)
    assert sum(v["mean"] for v in doc["final_stages"].values()) == pytest.approx(2000, rel=1e-12)


def test_cli_scale_applies_after_set_and_on_every_file(run_cli: RunCli, scenario_file: Path) -> None:
    other = scenario_file.with_name("other.toml")
    text = scenario_file.read_text(encoding="utf-8")
    other.write_text(text.replace('name = "small"', 'name = "other"').replace("spend = 2_000", "spend = 1_000"))
    code, out, err = run_cli(
        "compare", scenario_file, other, "--vary", "funnel.synergy=0.3", "--set", "scenario.population=1000",
        "--scale", "0.5", "-r", "1", "-w", "1",
    )  # fmt: skip
    assert code == 0, err
    assert out.count("a preview (--scale 0.5): 500 simulated customers standing for 1,000") == 2


def test_cli_scale_on_the_optimizer(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    code, out, _ = run_cli(
        "optimize", scenario_file, "--scale", "0.25", "-r", "1", "--iterations", "1", "-w", "1", "--out", target
    )
    assert code == 0
    assert out.startswith(f"{scenario_file}: a preview (--scale 0.25): 500 simulated customers standing for 2,000")
    plan = json.loads(target.read_text(encoding="utf-8"))
    assert plan["overrides"] == ["scenario.population=500", "scenario.represents=2000"]
    code, _, err = run_cli("optimize", "--curves", scenario_file, "--budget", "100", "--scale", "0.5")
    assert code == 2
    assert "--scale: only with a SCENARIO" in err
