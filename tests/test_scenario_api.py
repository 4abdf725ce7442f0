"""Deriving scenarios in Python: ``Scenario.replace``, ``with_channel`` and ``without_channel``.

Each returns a new, validated scenario and leaves the original alone. The checks compare the resolved data
(:func:`~mixsim.scenario.scenario_to_dict`) key by key, so a change anywhere else than asked fails, and compare each
method with the route a file takes (``with_overrides`` / ``parse_scenario``), which must agree.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conftest import small_data
from mixsim.errors import ScenarioError
from mixsim.scenario import Channel, Scenario, parse_scenario, scenario_to_dict
from mixsim.simulation import simulate

MakeScenario = Callable[..., Scenario]


def flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key -> value for every leaf of nested tables (lists are leaves)."""
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(flat(value, f"{prefix}.{key}" if prefix else key))
    return out


def changed_keys(before: Scenario, after: Scenario) -> set[str]:
    a, b = flat(scenario_to_dict(before)), flat(scenario_to_dict(after))
    return {k for k in a.keys() | b.keys() if a.get(k, "<absent>") != b.get(k, "<absent>")}


def budgeted_data() -> dict[str, Any]:
    """The small scenario with an explicit budget, limits and groups."""
    data = small_data()
    data["budget"] = {
        "total": 6_000.0,
        "limits": {"tv": {"min": 500.0, "max": 4_000.0}, "search": {"min": 100.0}},
        "groups": [
            {"name": "digital", "channels": ["search", "email"], "min_share": 0.2},
            {"name": "all_media", "channels": ["tv", "search", "email"], "max_share": 1.0},
        ],
    }
    return data


@pytest.fixture
def scenario(make_scenario: MakeScenario) -> Scenario:
    return make_scenario()


@pytest.fixture
def budgeted(make_scenario: MakeScenario) -> Scenario:
    return make_scenario(data=budgeted_data())


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


# --------------------------------------------------------------------------------------------------------------
# replace


@pytest.mark.parametrize(
    "changes",
    [
        {"funnel.synergy": 0.25},
        {"economics.order_value": 55.0, "organic.word_of_mouth": 0.0},
        {"channels.email.p_convert": 0.03, "channels.search.frequency_cap": 2, "economics.margin": 0.5},
        {"funnel.half_life_days.aware": 5.0},
    ],
)
def test_replace_changes_exactly_the_keys_asked(budgeted: Scenario, changes: dict[str, Any]) -> None:
    new = budgeted.replace(changes)
    assert changed_keys(budgeted, new) == set(changes)
    values = flat(scenario_to_dict(new))
    assert {k: values[k] for k in changes} == changes


def test_a_default_budget_follows_the_spends_an_explicit_one_stays(scenario: Scenario, budgeted: Scenario) -> None:
    """The data as written is what changes: a budget.total left to its default is recomputed from the new spend."""
    assert scenario.budget is not None and scenario.budget.total == 3_800.0
    more = scenario.replace({"channels.tv.spend": 4_000.0})
    assert changed_keys(scenario, more) == {"channels.tv.spend", "budget.total"}
    assert more.budget is not None and more.budget.total == 5_800.0
    fixed = budgeted.replace({"channels.tv.spend": 4_000.0})
    assert changed_keys(budgeted, fixed) == {"channels.tv.spend"}


def test_replace_leaves_the_original_alone(scenario: Scenario) -> None:
    before = copy.deepcopy(scenario_to_dict(scenario))
    raw = copy.deepcopy(scenario.raw)
    new = scenario.replace({"channels.tv.spend": 9_000.0, "funnel.synergy": 0.0}, population=10)
    assert new is not scenario and new != scenario
    assert scenario_to_dict(scenario) == before and scenario.raw == raw
    assert scenario == parse_scenario(small_data(), source="small.toml")
    assert new.source == scenario.source == "small.toml"
    assert scenario.replace() == scenario


def test_scenario_table_shorthand(scenario: Scenario) -> None:
    short = scenario.replace(population=500, horizon_days=14, name="short run", seed=9)
    dotted = scenario.replace(
        {"scenario.population": 500, "scenario.horizon_days": 14, "scenario.name": "short run", "scenario.seed": 9}
    )
    assert short == dotted
    assert (short.population, short.horizon_days, short.name, short.seed) == (500, 14, "short run", 9)
    assert changed_keys(scenario, short) == {
        "scenario.population",
        "scenario.horizon_days",
        "scenario.name",
        "scenario.seed",
    }
    both = scenario.replace({"funnel.synergy": 0.3}, population=700)
    assert (both.population, both.funnel.synergy) == (700, 0.3)


@pytest.mark.parametrize(
    "changes",
    [
        {"channels.tv.spend": 4_000.0, "funnel.synergy": 0.2},
        {"channels.tv.reach": 0.3, "economics.checkout_abandonment": 0.5},
        {"channels.tv.reach": {"young": 0.2}, "channels.email.affinity": {"old": 2.0}},
        {"channels.tv.flighting": [1.0, 0.0, 2.0], "scenario.name": "flighted"},
        {"channels.search.targets": ["aware", "considering"], "organic.conversion_rate": 0.0},
        {"segments": [{"name": "young", "share": 0.5}, {"name": "old", "share": 0.5}]},
    ],
)
def test_replace_agrees_with_overrides(scenario: Scenario, changes: dict[str, Any]) -> None:
    overrides = [f"{key}={toml_value(value)}" for key, value in changes.items()]
    assert scenario.replace(changes) == scenario.with_overrides(overrides)


def test_per_segment_keys_take_a_number_or_a_table(scenario: Scenario) -> None:
    assert scenario.replace({"channels.tv.reach": 0.3}).channel("tv").reach == (0.3, 0.3)
    # A segment missing from a reach table is not reachable; one missing from an affinity table gets 1.
    assert scenario.replace({"channels.tv.reach": {"young": 0.2}}).channel("tv").reach == (0.2, 0.0)
    assert scenario.replace({"channels.tv.affinity": {"old": 1.5}}).channel("tv").affinity == (1.0, 1.5)


def test_lists_replace_whole_arrays(scenario: Scenario) -> None:
    new = scenario.replace({"segments": [{"name": "young", "share": 0.25}, {"name": "old", "share": 0.75}]})
    assert [(s.name, s.share) for s in new.segments] == [("young", 0.25), ("old", 0.75)]
    assert new.channel("tv").reach == scenario.channel("tv").reach
    flighted = scenario.replace({"channels.tv.flighting": (1, 2, 3)})  # a tuple is a list too
    assert flighted.channel("tv").flighting == (1.0, 2.0, 3.0)


def test_replace_starts_from_the_scenario_as_it_is(scenario: Scenario) -> None:
    """A scenario edited with with_spend no longer matches its raw data: replace starts from the object."""
    edited = scenario.with_spend({"tv": 1_234.0})
    new = edited.replace(population=100)
    assert new.channel("tv").spend == 1_234.0 and new.population == 100
    assert changed_keys(edited, new) == {"scenario.population"}


def test_a_replaced_scenario_simulates(scenario: Scenario) -> None:
    result = simulate(scenario.replace(population=300, horizon_days=7), seed=1, replications=1)
    assert result.runs[0].daily_stages.shape == (7, 4)
    assert result.runs[0].daily_stages[-1].sum() == 300


def test_a_misspelt_channel_gets_a_hint_with_the_dotted_path(scenario: Scenario) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario.replace({"channels.tvv.spend": 1.0})
    assert err.value.problems == [
        "replace 'channels.tvv.spend': channels.tvv: no such channel; did you mean 'tv'? (channels: tv, search, email)"
    ]
    with pytest.raises(ScenarioError, match=r"channels\.radio: no such channel") as err:
        scenario.replace({"channels.radio.spend": 1.0})
    assert "did you mean" not in str(err.value)  # nothing close; adding a channel is with_channel's job


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"funnel.synergy": -1.0}, "small.toml: funnel.synergy: must be >= 0 (got -1.0)"),
        ({"economics.margin": 1.5}, "small.toml: economics.margin: must be in [0, 1] (got 1.5)"),
        ({"channels.tv.spend": -5.0}, "small.toml: channels.tv.spend: must be >= 0 (got -5.0)"),
        ({"funnel.synergyy": 0.1}, "small.toml: funnel.synergyy: unknown key; did you mean 'synergy'?"),
        ({"channels.tv.reach": {"yung": 0.1}}, "small.toml: channels.tv.reach.yung: unknown segment; did you mean"),
        ({"channels.tv.flighting": [1.0, 1.0]}, "small.toml: channels.tv.flighting: must have 3 weights"),
        ({"economics.order_value.x": 5.0}, "small.toml: economics.order_value: not a table"),
    ],
)
def test_invalid_values_name_the_dotted_path(scenario: Scenario, changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario.replace(changes)
    problems = err.value.problems
    assert isinstance(err.value, ValueError)  # a ScenarioError is also a ValueError
    assert len(problems) == 1 and problems[0].startswith(problem)


def test_every_problem_is_reported_at_once(scenario: Scenario) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario.replace({"channels.tvv.spend": 1.0, "funnel.synergy": -1.0}, population=0, horizon_days="x")
    problems = err.value.problems
    assert len(problems) == 4
    for where in ("channels.tvv", "funnel.synergy", "scenario.population", "scenario.horizon_days"):
        assert sum(where in p for p in problems) == 1, where
    with pytest.raises(ScenarioError, match=r"scenario\.populaton: unknown key; did you mean 'population'\?"):
        scenario.replace(populaton=5)


# --------------------------------------------------------------------------------------------------------------
# with_channel


def test_with_channel_adds_a_channel_last_as_a_file_would(scenario: Scenario) -> None:
    new = scenario.with_channel("radio", spend=400.0, cpm=8.0, p_aware=0.02, reach={"old": 0.6})
    assert new.channel_names == ("tv", "search", "email", "radio")
    data = small_data()
    data["channels"]["radio"] = {"spend": 400.0, "cpm": 8.0, "p_aware": 0.02, "reach": {"old": 0.6}}
    assert new == parse_scenario(data, source="small.toml")
    radio = new.channel("radio")
    assert radio.reach == (0.0, 0.6) and (radio.p_consider, radio.p_convert) == (0.0, 0.0)
    assert new.channels[:3] == scenario.channels
    assert scenario.channel_names == ("tv", "search", "email")  # the original is unchanged


def test_a_new_channel_takes_the_files_defaults(scenario: Scenario) -> None:
    """Keys left out get the scenario file's defaults: reachable by everyone, no effect, all stages, no cap."""
    radio = scenario.with_channel("radio", spend=100.0, cpm=5.0).channel("radio")
    assert radio == Channel(name="radio", spend=100.0, cpm=5.0, reach=(1.0, 1.0), affinity=(1.0, 1.0))


def test_an_added_channel_is_simulated(scenario: Scenario) -> None:
    new = scenario.with_channel("radio", spend=400.0, cpm=8.0, p_aware=0.05, reach=0.5, targets=["unaware"])
    record = simulate(new, seed=2, replications=1).runs[0]
    k = new.channel_names.index("radio")
    assert record.exposures.shape == (4,)
    assert record.spend[k] + record.unspent[k] == pytest.approx(400.0)
    assert 0 < record.exposures[k] and 0 < record.reach[k] <= 0.5 * new.population + 5 * np.sqrt(new.population)
    # The other channels' spend is untouched by the newcomer.
    old = simulate(scenario, seed=2, replications=1).runs[0]
    np.testing.assert_allclose(record.spend[:3] + record.unspent[:3], old.spend + old.unspent)


def test_with_channel_changes_only_the_keys_given(budgeted: Scenario) -> None:
    new = budgeted.with_channel("tv", cpm=10.0, p_aware=0.2, targets=("unaware", "aware"))
    assert new.channel("tv") == dataclasses.replace(
        budgeted.channel("tv"), cpm=10.0, p_aware=0.2, targets=("unaware", "aware")
    )
    assert changed_keys(budgeted, new) == {"channels.tv.cpm", "channels.tv.p_aware", "channels.tv.targets"}


def test_none_drops_a_key_back_to_its_default(scenario: Scenario) -> None:
    capped = scenario.with_channel("tv", frequency_cap=2, p_convert=0.01)
    assert (capped.channel("tv").frequency_cap, capped.channel("tv").p_convert) == (2, 0.01)
    uncapped = capped.with_channel("tv", frequency_cap=None, p_convert=None)
    assert uncapped.channel("tv") == scenario.channel("tv")
    clicks = scenario.with_channel("tv", cpm=None, cpc=1.0, ctr=0.05)
    tv = clicks.channel("tv")
    assert (tv.cpm, tv.cpc, tv.ctr) == (None, 1.0, 0.05)
    assert tv.cost_per_exposure == pytest.approx(0.05)
    assert dataclasses.replace(tv, cpm=20.0, cpc=None, ctr=None) == scenario.channel("tv")


@pytest.mark.parametrize(
    ("name", "fields", "problem"),
    [
        ("tv", {"cpc": 1.0, "ctr": 0.05}, "small.toml: channels.tv: must have exactly one of cpm or cpc (got both)"),
        ("radio", {"spend": -1.0, "cpm": 5.0}, "small.toml: channels.radio.spend: must be >= 0 (got -1.0)"),
        ("radio", {"spend": 100.0}, "small.toml: channels.radio: must have a price"),
        (
            "radio",
            {"spend": 100.0, "cpm": 5.0, "p_aware": 2.0},
            "small.toml: channels.radio.p_aware: must be in [0, 1] (got 2.0)",
        ),
        ("radio", {"spend": 100.0, "cpm": 5.0, "reach": {"yung": 1.0}}, "small.toml: channels.radio.reach.yung"),
        ("radio", {"spend": 100.0, "cpm": 5.0, "colour": "red"}, "small.toml: channels.radio.colour: unknown key"),
        ("2radio", {"spend": 100.0, "cpm": 5.0}, "small.toml: channels.2radio: channel name must be letters"),
    ],
)
def test_with_channel_errors_name_the_channel_key(
    scenario: Scenario, name: str, fields: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario.with_channel(name, **fields)
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems
    assert scenario.channel_names == ("tv", "search", "email")


def test_with_then_without_a_channel_is_the_original(scenario: Scenario, budgeted: Scenario) -> None:
    for base in (scenario, budgeted):
        assert base.with_channel("radio", spend=10.0, cpm=3.0).without_channel("radio") == base


# --------------------------------------------------------------------------------------------------------------
# without_channel


def test_without_channel_takes_its_limits_and_group_memberships(budgeted: Scenario) -> None:
    new = budgeted.without_channel("search")
    assert new.channel_names == ("tv", "email")
    assert new.channels == tuple(c for c in budgeted.channels if c.name != "search")
    assert new.budget is not None and budgeted.budget is not None
    assert dict(new.budget.limits) == {"tv": dict(budgeted.budget.limits)["tv"]}
    assert [(g.name, g.channels) for g in new.budget.groups] == [
        ("digital", ("email",)),
        ("all_media", ("tv", "email")),
    ]
    assert [(g.min_share, g.max_share) for g in new.budget.groups] == [
        (g.min_share, g.max_share) for g in budgeted.budget.groups
    ]
    assert new.budget.total == 6_000.0  # an explicit budget stays
    assert budgeted.channel_names == ("tv", "search", "email") and len(budgeted.budget.limits) == 2
    result = simulate(new.replace(population=300), seed=1, replications=1)
    assert result.runs[0].exposures.shape == (2,)


def test_without_channel_recomputes_a_default_budget(scenario: Scenario) -> None:
    new = scenario.without_channel("tv")
    assert new.budget is not None and new.budget.total == 1_800.0
    assert changed_keys(scenario, new) == {"budget.total"} | {
        k for k in flat(scenario_to_dict(scenario)) if k.startswith("channels.tv.")
    }


def test_without_a_groups_only_channel_the_group_goes(make_scenario: MakeScenario) -> None:
    data = budgeted_data()
    data["budget"]["groups"].append({"name": "brand", "channels": ["tv"], "min_share": 0.1})
    scenario = make_scenario(data=data)
    new = scenario.without_channel("tv")
    assert new.budget is not None
    assert [g.name for g in new.budget.groups] == ["digital", "all_media"]


def test_without_an_unknown_channel_is_a_scenario_error(scenario: Scenario) -> None:
    with pytest.raises(ScenarioError, match="no channel 'radio'"):
        scenario.without_channel("radio")


def test_without_the_last_channel_is_not_a_scenario(scenario: Scenario) -> None:
    one = scenario.without_channel("search").without_channel("email")
    assert one.channel_names == ("tv",)
    with pytest.raises(ScenarioError, match="channels"):
        one.without_channel("tv")


def test_derived_scenarios_are_new_frozen_objects(scenario: Scenario) -> None:
    for new in (
        scenario.replace(population=10),
        scenario.with_channel("radio", spend=1.0, cpm=1.0),
        scenario.without_channel("email"),
    ):
        assert isinstance(new, Scenario) and new is not scenario
        assert all(isinstance(c, Channel) for c in new.channels)
        with pytest.raises(dataclasses.FrozenInstanceError):
            new.population = 5  # type: ignore[misc]
    assert scenario == parse_scenario(small_data(), source="small.toml")


def test_numpy_values_are_taken_as_python_values(make_scenario: MakeScenario) -> None:
    import numpy as np

    scenario = make_scenario()
    weeks = -(-scenario.horizon_days // 7)
    new = scenario.replace({"channels.tv.spend": np.float64(1234.5), "channels.tv.flighting": np.arange(1, weeks + 1)})
    assert new.channel("tv").spend == 1234.5
    assert new.channel("tv").flighting == tuple(float(w) for w in range(1, weeks + 1))
    added = scenario.with_channel("radio", spend=np.int64(500), cpm=np.float32(4.0), reach=np.float64(0.5))
    assert added.channel("radio").spend == 500 and added.channel("radio").reach == (0.5, 0.5)


# --- errors by kind: a mistake in what is asked is a ScenarioError, never a bare KeyError or TypeError -------------


def test_an_unknown_channel_is_a_scenario_error_with_a_hint(scenario: Scenario) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario.channel("serch")
    assert err.value.problems == [
        "small.toml: no channel 'serch'; did you mean 'search'? (channels: tv, search, email)"
    ]
    assert scenario.channel("search").name == "search"


def test_with_spend_refuses_unknown_channels_and_values_that_are_not_numbers(scenario: Scenario) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario.with_spend({"radio": 5.0, "tv": "lots"})
    assert err.value.problems == [
        "small.toml: no channel 'radio' (channels: tv, search, email)",
        "small.toml: channels.tv.spend: must be a number (got 'lots')",
    ]
    assert scenario.with_spend({"tv": 7}).channel("tv").spend == 7.0


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (["funnel.synergy", 0.2], "replace: changes must be a mapping of dotted keys to values (got ['funnel.synergy'"),
        ({3: 0.2}, "replace 3: a key is a dotted string such as 'funnel.synergy' (got 3)"),
    ],
)
def test_replace_with_malformed_changes_is_a_scenario_error(scenario: Scenario, changes: Any, problem: str) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario.replace(changes)
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(problem)


def test_a_channel_without_a_price_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match=r"channels\.radio: must have a price"):
        _ = Channel(name="radio", spend=1.0).cost_per_exposure
