"""Loading and validating scenarios: defaults, every broken example's message, overrides, schema, round trip."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import importlib
import json
import math
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from mixsim.errors import ScenarioError
from mixsim.scenario import (
    MAX_SEGMENTS,
    STAGES,
    TARGETABLE,
    Channel,
    Limit,
    Scenario,
    Segment,
    apply_overrides,
    json_schema,
    load_scenario,
    parse_scenario,
    scenario_to_dict,
)

HERE = Path(__file__).parent
MINIMAL = HERE / "data" / "minimal.toml"
FULL = HERE / "data" / "full.toml"
BROKEN = sorted((HERE / "broken").glob("*.toml"))


def minimal_data() -> dict[str, Any]:
    return {
        "scenario": {"name": "inline", "population": 500, "horizon_days": 14},
        "economics": {"order_value": 10.0, "margin": 0.5},
        "channels": {"tv": {"cpm": 5.0, "spend": 1000}},
    }


def problems_of(data: Any, source: str = "bad.toml") -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source)
    return info.value.problems


def expectations(path: Path) -> list[str]:
    """The ``# expect: ...`` lines at the top of a broken example."""
    expected = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s*expect:\s*(.+)$", line)
        if match is None:
            break
        expected.append(match[1].strip())
    return expected


# --- valid files -------------------------------------------------------------------------------------------------


def test_minimal_file_loads_with_defaults() -> None:
    s = load_scenario(MINIMAL)
    assert (s.name, s.population, s.horizon_days, s.seed) == ("minimal", 1000, 28, None)
    assert s.source == str(MINIMAL)
    assert s.raw == tomllib.loads(MINIMAL.read_text(encoding="utf-8"))
    assert s.economics.checkout_abandonment == 0.0
    assert s.segments == (Segment("all", 1.0),)
    assert math.isinf(s.funnel.half_life_aware) and math.isinf(s.funnel.half_life_considering)
    assert s.funnel.synergy == 0.0
    assert dataclasses.astuple(s.organic) == (0.0, 0.0, 0.0, 0.0)
    (tv,) = s.channels
    assert tv == Channel(name="tv", spend=5000.0, cpm=20.0)
    assert isinstance(tv.spend, float)
    assert tv.targets == TARGETABLE and tv.reach == (1.0,) and tv.affinity == (1.0,)
    assert s.budget is not None
    assert s.budget.total == 5000.0 and s.budget.limits == () and s.budget.groups == ()


def test_full_file_resolves_every_key() -> None:
    s = load_scenario(FULL)
    assert s.seed == 7 and s.segment_names == ("gen_z", "over_40")
    assert s.funnel.half_life_aware == 30.0 and math.isinf(s.funnel.half_life_considering)
    assert s.organic.word_of_mouth == 0.05
    tv, search, social = s.channels
    assert tv.reach == (0.0, 0.9), "a segment missing from a reach table is not reachable"
    assert tv.affinity == (1.0, 1.3), "a segment missing from an affinity table gets 1"
    assert tv.flighting is not None and len(tv.flighting) == 13
    assert (tv.frequency_cap, tv.fixed_cost, tv.min_spend) == (3, 20000.0, 50000.0)
    assert search.reach == (0.8, 0.8) and search.targets == ("considering",)
    assert search.cost_per_exposure == pytest.approx(1.2 * 0.05)
    assert social.targets == ("unaware", "aware"), "targets are kept in stage order"
    assert social.affinity == (2.0, 2.0)
    assert s.budget is not None and s.budget.total == 250000.0
    assert s.budget.limits == (("tv", Limit(0.0, 120000.0)), ("search", Limit(10000.0, math.inf)))
    (digital,) = s.budget.groups
    assert digital.channels == ("search", "social") and digital.min_share == 0.3 and digital.max_share is None


def test_parse_keeps_a_deep_copy_of_the_data() -> None:
    data = minimal_data()
    s = parse_scenario(data)
    data["channels"]["tv"]["cpm"] = -1.0
    assert s.raw["channels"]["tv"]["cpm"] == 5.0
    assert s.source == "<scenario>"


def test_ints_accepted_where_floats_expected_but_not_booleans() -> None:
    data = minimal_data()
    data["economics"]["margin"] = 1
    assert parse_scenario(data).economics.margin == 1.0
    data["economics"]["margin"] = True
    assert problems_of(data) == ["bad.toml: economics.margin: must be a number (got true)"]


def test_half_life_inf_is_allowed() -> None:
    data = minimal_data()
    data["funnel"] = {"half_life_days": {"aware": math.inf, "considering": 5}}
    s = parse_scenario(data)
    assert math.isinf(s.funnel.half_life_aware) and s.funnel.half_life_considering == 5.0


# --- broken files ------------------------------------------------------------------------------------------------


def test_there_are_enough_broken_examples() -> None:
    assert len(BROKEN) >= 15


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_example_reports_its_error(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} needs '# expect: ...' lines at its top"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    problems = info.value.problems
    for text in expected:
        assert any(text in p for p in problems), f"{text!r} not in {problems}"
    assert all(p.startswith(f"{path}: ") for p in problems)


def test_every_problem_is_reported_at_once() -> None:
    data = minimal_data()
    data["scenario"]["population"] = 0
    data["economics"]["margin"] = 2
    data["channels"]["tv"]["cpm"] = "cheap"
    data["channels"]["radio"] = {"cpc": 1.0, "spend": -5}
    problems = problems_of(data)
    assert problems == [
        "bad.toml: scenario.population: must be > 0 (got 0)",
        "bad.toml: economics.margin: must be in [0, 1] (got 2)",
        "bad.toml: channels.tv.cpm: must be a number (got 'cheap')",
        "bad.toml: channels.radio.spend: must be >= 0 (got -5)",
        "bad.toml: channels.radio.ctr: required with cpc (cost per exposure = cpc * ctr)",
    ]
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "bad.toml")
    assert isinstance(info.value, ValueError) and str(info.value) == "\n".join(problems)


def test_problems_follow_the_order_of_the_file() -> None:
    data = {"segments": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}], **minimal_data()}
    data["channels"]["tv"]["p_aware"] = 3
    problems = problems_of(data)
    # The share rule is checked after the walk, but it is about a table that comes before the channels.
    assert [p.split(": ")[1] for p in problems] == ["segments", "channels.tv.p_aware"]


def test_did_you_mean_hints() -> None:
    data = minimal_data()
    data["economics"]["margn"] = 0.5
    data["channels"]["tv"]["frequency_capp"] = 2
    data["channels"]["tv"]["zzz"] = 1
    data["organc"] = {}
    problems = problems_of(data)
    assert "bad.toml: economics.margn: unknown key; did you mean 'margin'?" in problems
    assert "bad.toml: channels.tv.frequency_capp: unknown key; did you mean 'frequency_cap'?" in problems
    assert "bad.toml: channels.tv.zzz: unknown key" in problems
    assert "bad.toml: organc: unknown key; did you mean 'organic'?" in problems


def test_type_errors_say_what_was_expected() -> None:
    data = minimal_data()
    data["funnel"] = {"half_life_days": 3}
    data["channels"]["tv"]["targets"] = "aware"
    data["channels"]["tv"]["affinity"] = [1, 2]
    data["segments"] = {"name": "all"}
    problems = problems_of(data)
    assert "bad.toml: funnel.half_life_days: must be a table (got 3)" in problems
    assert "bad.toml: channels.tv.targets: must be a list (got 'aware')" in problems
    assert "bad.toml: channels.tv.affinity: must be a number or a table (got [1, 2])" in problems
    assert "bad.toml: segments: must be a list (got {name = 'all'})" in problems


def test_segment_count_is_limited() -> None:
    data = minimal_data()
    n = MAX_SEGMENTS + 1
    data["segments"] = [{"name": f"s{i}", "share": 1 / n} for i in range(n)]
    assert problems_of(data) == [f"bad.toml: segments: at most {MAX_SEGMENTS} segments (got {n})"]


def test_shares_may_miss_one_by_rounding_only() -> None:
    data = minimal_data()
    data["segments"] = [{"name": "a", "share": 1 / 3}, {"name": "b", "share": 1 / 3}, {"name": "c", "share": 1 / 3}]
    assert parse_scenario(data).segment_names == ("a", "b", "c")
    data["segments"][0]["share"] = 0.333
    assert problems_of(data) == ["bad.toml: segments: shares must sum to 1 (got 0.9996666667)"]


def test_a_document_that_is_not_a_table() -> None:
    assert problems_of([1, 2]) == ["bad.toml: a scenario must be a table (got [1, 2])"]


# --- reading files -----------------------------------------------------------------------------------------------


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text('[scenario]\nname = "x"\npopulation = = 3\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}: line 3, column 14: ")
    assert "(at line" not in problem


def test_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    path = tmp_path / "open.toml"
    path.write_text("x = [1, 2", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems[0].startswith(f"{path}: end of file: ")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [f"{path}: file not found"]


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(tmp_path))
    assert info.value.problems == [f"{tmp_path}: is a directory, not a scenario file"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[scenario]\nname = "café"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [f"{path}: line 2: not UTF-8 text (a TOML file must be UTF-8)"]


def test_source_is_the_path_as_given() -> None:
    relative = Path("tests/data/minimal.toml")
    if not relative.exists():
        pytest.skip("run from the project root to check relative paths")
    assert load_scenario(relative).source == "tests/data/minimal.toml"


# --- overrides ---------------------------------------------------------------------------------------------------


def test_overrides_set_nested_values_and_create_tables() -> None:
    data = minimal_data()
    result = apply_overrides(data, ["channels.tv.cpm=7.5", "funnel.half_life_days.aware=30", "scenario.seed=3"])
    assert result["channels"]["tv"]["cpm"] == 7.5
    assert result["funnel"] == {"half_life_days": {"aware": 30}}
    assert result["scenario"]["seed"] == 3
    assert "funnel" not in data and data["channels"]["tv"]["cpm"] == 5.0, "the input is left alone"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("0.25", 0.25),
        ("inf", math.inf),
        ("true", True),
        ('"42"', "42"),
        ("[1, 0, 1]", [1, 0, 1]),
        ("{ aware = 3 }", {"aware": 3}),
        ("Spring push", "Spring push"),
        ("  padded  ", "padded"),
        ("a=b", "a=b"),
        ("1\nother = 2", "1\nother = 2"),
        ("", ""),
    ],
)
def test_override_values_are_toml_or_plain_strings(text: str, value: Any) -> None:
    assert apply_overrides({}, [f"scenario.name={text}"])["scenario"]["name"] == value


KEY_RULE = "(a dotted key of letters, digits, '_' and '-', then '=' and a TOML value)"


def test_bad_overrides_are_all_reported() -> None:
    data = minimal_data()
    with pytest.raises(ScenarioError) as info:
        apply_overrides(
            data, ["no-equals", "=5", "a..b=1", "scenario.name.first=Ann", "economics.margin=0.4"], "s.toml"
        )
    assert info.value.problems == [
        "override 'no-equals': expected dotted.key=VALUE, with '=' and no space (e.g. 'no-equals=VALUE')",
        f"override '=5': expected dotted.key=VALUE {KEY_RULE}",
        f"override 'a..b=1': expected dotted.key=VALUE {KEY_RULE}",
        (
            "s.toml: scenario.name: not a table, so override 'scenario.name.first=Ann' cannot set a key inside it "
            "(got 'inline')"
        ),
    ]


def test_overrides_need_a_table_and_a_load_needs_a_path() -> None:
    with pytest.raises(ScenarioError) as info:
        apply_overrides([1, 2], ["scenario.name=x"], "s.toml")  # type: ignore[arg-type]
    assert info.value.problems == ["s.toml: a scenario must be a table (got [1, 2])"]
    with pytest.raises(ScenarioError, match="a scenario file is named by a path"):
        load_scenario(42)  # type: ignore[arg-type]


def test_arrays_cannot_be_entered_by_overrides() -> None:
    data = minimal_data()
    data["segments"] = [{"name": "all", "share": 1.0}]
    with pytest.raises(ScenarioError, match=r"segments: not a table"):
        apply_overrides(data, ["segments.all.share=1"])
    assert apply_overrides(data, ['segments=[{name = "x", share = 1.0}]'])["segments"] == [{"name": "x", "share": 1.0}]


def test_load_with_overrides_validates_the_result() -> None:
    s = load_scenario(MINIMAL, ["scenario.name=Spring push", "channels.tv.spend=2500"])
    assert s.name == "Spring push" and s.channels[0].spend == 2500.0
    assert s.budget is not None and s.budget.total == 2500.0
    with pytest.raises(ScenarioError) as info:
        load_scenario(MINIMAL, ["channels.tv.cpm=-1", "channels.tv.cmp=3", "oops"])
    assert info.value.problems == [
        "override 'oops': expected dotted.key=VALUE, with '=' and no space (e.g. 'oops=VALUE')",
        # A value from an override is the override's problem, not the file's (the file does not hold it).
        "override 'channels.tv.cpm=-1': must be > 0 (got -1)",
        "override 'channels.tv.cmp=3': unknown key; did you mean 'cpm'?",
    ]


def test_with_overrides_returns_a_new_scenario() -> None:
    original = load_scenario(FULL)
    raw_before = copy.deepcopy(original.raw)
    changed = original.with_overrides(["economics.margin=0.3", "channels.tv.reach=0.5"])
    assert changed is not original and changed.source == original.source
    assert changed.economics.margin == 0.3 and changed.channel("tv").reach == (0.5, 0.5)
    assert original.economics.margin == 0.62 and original.channel("tv").reach == (0.0, 0.9)
    assert original.raw == raw_before
    assert changed.with_overrides([]) == changed
    with pytest.raises(ScenarioError, match=r"^override 'economics.margin=3': must be in \[0, 1\]"):
        original.with_overrides(["economics.margin=3"])


def test_with_overrides_keeps_changes_made_with_spend() -> None:
    s = load_scenario(MINIMAL).with_spend({"tv": 1234.0})
    assert s.with_overrides(["scenario.seed=1"]).channel("tv").spend == 1234.0


def test_with_overrides_on_a_scenario_built_by_hand() -> None:
    s = Scenario(
        name="hand", population=10, horizon_days=7, economics=load_scenario(MINIMAL).economics,
        channels=(Channel(name="tv", spend=10.0, cpm=1.0),),
    )  # fmt: skip
    assert s.with_overrides(["scenario.population=20"]).population == 20


# --- JSON Schema -------------------------------------------------------------------------------------------------

CONTRACT_KEYS = {
    "scenario": ["name", "population", "represents", "horizon_days", "seed"],
    "economics": ["order_value", "margin", "checkout_abandonment", "future_value", "discount_rate"],
    "repeat": ["purchase_rate", "mean_days_between", "lapse_half_life_days", "order_value"],
    "funnel": ["half_life_days", "synergy"],
    "organic": ["awareness_rate", "word_of_mouth", "consideration_rate", "conversion_rate"],
    "budget": ["total", "limits", "groups"],
}
CHANNEL_KEYS = [
    "cpm", "cpc", "ctr", "spend", "flighting", "reach", "p_aware", "p_consider", "p_convert", "p_repurchase",
    "targets", "affinity",
    "frequency_cap", "fixed_cost", "min_spend",
]  # fmt: skip


def test_json_schema_is_plain_json() -> None:
    schema = json_schema()
    assert json.loads(json.dumps(schema, allow_nan=False)) == schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"scenario", "economics", "channels"}


def test_json_schema_lists_every_contract_key() -> None:
    props = json_schema()["properties"]
    for table, keys in CONTRACT_KEYS.items():
        assert props[table]["additionalProperties"] is False
        assert list(props[table]["properties"]) == keys
    channel = props["channels"]["additionalProperties"]
    assert channel["additionalProperties"] is False
    assert list(channel["properties"]) == CHANNEL_KEYS
    assert channel["required"] == ["spend"]
    assert list(props["funnel"]["properties"]["half_life_days"]["properties"]) == ["aware", "considering"]
    assert list(props["segments"]["items"]["properties"]) == ["name", "share"]
    assert props["budget"]["properties"]["limits"]["additionalProperties"]["additionalProperties"] is False
    group = props["budget"]["properties"]["groups"]["items"]
    assert list(group["properties"]) == ["name", "channels", "min_share", "max_share"]


def test_json_schema_carries_the_constraints() -> None:
    props = json_schema()["properties"]
    channel = props["channels"]["additionalProperties"]["properties"]
    assert channel["cpm"]["exclusiveMinimum"] == 0
    assert channel["ctr"]["exclusiveMinimum"] == 0 and channel["ctr"]["maximum"] == 1
    assert channel["targets"]["items"]["enum"] == list(STAGES)
    assert channel["targets"]["default"] == list(TARGETABLE)
    assert channel["frequency_cap"] == {**channel["frequency_cap"], "type": "integer", "minimum": 1}
    assert "description" in channel["reach"] and channel["reach"]["default"] == 1.0
    assert props["channels"]["maxProperties"] == 64
    assert props["economics"]["properties"]["checkout_abandonment"]["exclusiveMaximum"] == 1
    assert props["scenario"]["properties"]["population"]["exclusiveMinimum"] == 0
    assert "inf" in props["funnel"]["properties"]["half_life_days"]["properties"]["aware"]["description"]


# --- round trip --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [MINIMAL, FULL], ids=["minimal", "full"])
def test_scenario_to_dict_round_trips(path: Path) -> None:
    s = load_scenario(path)
    data = scenario_to_dict(s)
    assert parse_scenario(data, s.source) == s
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_scenario_to_dict_is_toml_shaped() -> None:
    data = scenario_to_dict(load_scenario(FULL))
    assert data["channels"]["tv"]["reach"] == {"gen_z": 0.0, "over_40": 0.9}
    assert data["funnel"]["half_life_days"] == {"aware": 30.0}
    assert data["budget"]["limits"]["search"] == {"min": 10000.0}
    assert "cpc" not in data["channels"]["tv"] and "frequency_cap" not in data["channels"]["search"]


def test_validating_loads_no_heavy_library() -> None:
    """``mixsim validate`` must start fast: the scenario package and its command import no pandas, scipy or
    matplotlib."""
    code = (
        "import sys, mixsim.cli.scenario, mixsim.scenario.reference, mixsim.scenario.templates; "
        "print(sorted(m for m in ('pandas', 'scipy', 'matplotlib') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["model", "files", "reference"])
def test_the_examples_in_the_docstrings_run(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE.parent)  # the examples load scenarios/ by relative path
    mod = importlib.import_module(f"mixsim.scenario.{module}")
    outcome = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False, report=True)
    assert outcome.attempted > 0 and outcome.failed == 0, outcome
