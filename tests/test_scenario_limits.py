"""A scenario that validates runs: the limits on values, derived quantities, sizes and nesting, and how problems
are named (the override that set a value, at most a screenful of them)."""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SMALL_TOML, CliResult, small_data
from mixsim.errors import InputError, ScenarioError
from mixsim.scenario import Scenario, load_scenario, parse_scenario
from mixsim.scenario.limits import MAX_EXPOSURES, MAX_FILE_BYTES, MAX_HORIZON_DAYS, MAX_PROBLEMS_SHOWN, MAX_WEEKS
from mixsim.sweep import MAX_CELLS, describe

RunCli = Callable[..., CliResult]

# The values a hostile-input audit tried: the largest float, the smallest normal and subnormal ones, the limit, a
# little above it, and an integer too large for a float.
AUDIT_VALUES = ("1e308", "1e-300", "5e-324", "1e15", "1e16", str(10**46))

# Every number the engine uses, by the key that sets it (a list or a table where the key holds one).
AUDIT_KEYS = (
    "scenario.represents",
    "scenario.seed",
    "economics.order_value",
    "economics.checkout_abandonment",
    "funnel.half_life_days.aware",
    "funnel.half_life_days.considering",
    "funnel.synergy",
    "organic.awareness_rate",
    "organic.word_of_mouth",
    "organic.consideration_rate",
    "organic.conversion_rate",
    "channels.tv.cpm",
    "channels.tv.spend",
    "channels.tv.fixed_cost",
    "channels.tv.min_spend",
    "channels.tv.affinity",
    "channels.tv.flighting",
    "channels.search.cpc",
    "channels.search.ctr",
    "channels.search.frequency_cap",
    "seasonality.weekly",
    "seasonality.periods",
    "budget.total",
    "budget.limits.tv.min",
    "budget.limits.tv.max",
)

# A problem line: the override that set the value, or the file and a dotted key.
PROBLEM = re.compile(
    r"^(--set '.*?(?:'|\.\.\.): |small\.toml: (channels|seasonality|budget|scenario|economics)[\w.\[\]]*: )"
)


def audit_value(key: str, value: str) -> str:
    """``value`` in the shape ``key`` holds (the small scenario's horizon is 20 days: 3 weeks)."""
    if key.endswith("flighting") or key == "seasonality.weekly":
        return f"[{value}, {value}, {value}]"
    if key == "seasonality.periods":  # two periods over the same weeks: their product counts
        period = f"first_week = 1, last_week = 2, multiplier = {value}"
        return f'[{{name = "a", {period}}}, {{name = "b", {period}}}]'
    return value


def no_nan(text: str) -> object:
    """The JSON in ``text``; NaN or infinity in it fails the test."""

    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} in the output")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.filterwarnings("error")  # a numpy RuntimeWarning is a failure, not a line on the user's terminal
@pytest.mark.parametrize("key", AUDIT_KEYS)
def test_the_audits_values_are_refused_naming_the_field_or_run_cleanly(
    run_cli: RunCli, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TOML, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # messages name the file as given (and the next test finds scenarios/ again)
    for value in AUDIT_VALUES:
        override = f"{key}={audit_value(key, value)}"
        code, _, err = run_cli("validate", "small.toml", "--set", override)
        if code == 2:
            lines = err.splitlines()
            assert lines and all(PROBLEM.match(line) for line in lines), f"{override}: {err}"
            assert "Warning" not in err and "unexpected" not in err, err
            continue
        assert code == 0, f"{override}: exit {code}: {err}"
        code, out, err = run_cli("simulate", "small.toml", "--set", override, "-r", "1", "-w", "1", "--json")
        assert code == 0, f"{override}: validate says ok, simulate exits {code}: {err}"
        assert "Warning" not in err, err
        no_nan(out)


def test_the_audits_crashes_are_refused_at_validation(make_scenario: Callable[..., Scenario]) -> None:
    # Each of these validated and then failed in the engine (NaN to integer, an overflow, a division by zero).
    cases = {
        "channels.tv.spend=1e308": "must be at most 1e15 (got 1e+308)",
        "channels.tv.cpm=1e-300": "price too low: at 1e-303 per exposure",
        "channels.tv.cpm=5e-324": "price too low: at 0 per exposure",
        "channels.search.ctr=1e-300": "channels.search: price too low: at 1.5e-300 per exposure",
        "channels.tv.flighting=[1e308, 1e308, 1e308]": "channels.tv.flighting[0]: must be at most 1e15",
        "economics.order_value=1e308": "must be at most 1e15 (got 1e+308)",
        "channels.tv.fixed_cost=1e308": "must be at most 1e15 (got 1e+308)",
    }
    for override, expected in cases.items():
        with pytest.raises(ScenarioError) as info:
            parse_scenario(small_data(), "small.toml", [override])
        problems = info.value.problems
        assert all(p.startswith(f"override '{override}': ") for p in problems), problems
        assert expected in problems[0], (override, problems)


def test_exposures_bought_are_bounded_at_the_simulated_scale(make_scenario: Callable[..., Scenario]) -> None:
    # The cheapest exposure is email's (cpm 5: 0.005 each), and the optimizer may give it the whole budget.
    most = MAX_EXPOSURES * 5.0 / 1000
    make_scenario(f"budget.total={most - 1}")
    with pytest.raises(ScenarioError) as info:
        make_scenario(f"budget.total={most + 1}")
    assert info.value.problems == [
        "small.toml: channels.email.cpm: price too low: at 0.005 per exposure, the budget, 5,000,001, buys the "
        "simulated customers 1,000,000,200 exposures (at most 1,000,000,000) (got 5)"
    ]
    # The default budget is the plan's spend (tv 2000 + search 1500 + email 300).
    with pytest.raises(ScenarioError, match=r"channels\.email\.cpm: price too low.*the budget \(the plan's total"):
        make_scenario(f"channels.tv.spend={most}")
    # A population standing for ten times as many customers gets a tenth of the money: ten times the budget runs.
    make_scenario(f"budget.total={10 * most - 10}", "scenario.represents=20000")
    with pytest.raises(ScenarioError, match=r"price too low.*population / represents = 0\.1 of it"):
        make_scenario(f"budget.total={10 * most + 10}", "scenario.represents=20000")
    # The price that is too low is named where it is: a cpc channel by its cpc * ctr.
    with pytest.raises(ScenarioError, match=r"channels\.search: price too low.*\(got cpc \* ctr = 1\.5e-09\)"):
        make_scenario("channels.search.ctr=1e-9")


def test_a_weeks_demand_is_the_product_of_its_multipliers() -> None:
    period = "first_week = 2, last_week = 3, multiplier = 1e10"
    overrides = [f'seasonality.periods=[{{name = "a", {period}}}, {{name = "b", {period}}}]']
    with pytest.raises(ScenarioError) as info:
        parse_scenario(small_data(), "small.toml", overrides)
    assert info.value.problems == [
        'override \'seasonality.periods=[{name = "a", first_week = 2, last_week = 3, multiplier = 1e10}, '
        "{name = \"b\", first_week = 2, last_week = 3, multiplier = 1e10}]': seasonality: week 2's demand "
        "multiplier (weekly times the periods over it) must be at most 1e15 (got 1e20)"
    ]
    ok = parse_scenario(small_data(), "small.toml", ["seasonality.weekly=[1e5, 1e5, 1e5]"])
    assert ok.seasonality == (1e5, 1e5, 1e5)


def test_with_spend_keeps_nan_and_inf_from_the_engine(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    for bad in (math.nan, math.inf, -1.0, 1e308):
        with pytest.raises(ScenarioError, match=r"channels\.tv\.spend: must be in \[0, 1e15\]"):
            scenario.with_spend({"tv": bad})


def test_horizon_days_is_at_most_ten_years(make_scenario: Callable[..., Scenario]) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(small_data(), "small.toml", ["scenario.horizon_days=10000000"])
    assert info.value.problems[0] == (
        "override 'scenario.horizon_days=10000000': must be at most 3660 (ten years) (got 10000000)"
    )
    weeks = math.ceil(MAX_HORIZON_DAYS / 7)
    assert weeks == MAX_WEEKS
    flat = ", ".join(["1"] * weeks)
    long = make_scenario(f"scenario.horizon_days={MAX_HORIZON_DAYS}", f"channels.tv.flighting=[{flat}]")
    assert long.horizon_days == MAX_HORIZON_DAYS


def test_a_huge_array_is_refused_at_once_in_one_line() -> None:
    data = small_data()
    data["channels"]["tv"]["flighting"] = [-1.0] * 2_000_000
    data["channels"]["tv"]["targets"] = ["converted"] * 1_000_000
    started = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "big.toml")
    assert time.perf_counter() - started < 5.0
    assert info.value.problems == [
        "big.toml: channels.tv.flighting: at most 523 weeks (got 2000000)",
        "big.toml: channels.tv.targets: at most 16 stages (got 1000000)",
    ]


def test_many_problems_are_listed_up_to_a_screenful_then_counted() -> None:
    data = small_data()
    data["seasonality"] = {"weekly": [-1.0] * MAX_WEEKS}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "small.toml")
    problems = info.value.problems
    assert len(problems) == MAX_PROBLEMS_SHOWN + 1
    assert problems[:2] == [
        "small.toml: seasonality.weekly: must have 3 multipliers, one per week of the 20-day horizon (got 523)",
        "small.toml: seasonality.weekly[0]: must be >= 0 (got -1.0)",
    ]
    # 523 items wrong, and the length is not the horizon's 3 weeks.
    assert problems[-1] == f"small.toml: ... and {MAX_WEEKS + 1 - MAX_PROBLEMS_SHOWN} more problems"


def test_a_set_value_is_blamed_on_the_set_not_the_file(run_cli: RunCli, scenario_file: Path) -> None:
    code, _, err = run_cli("validate", scenario_file, "--set", "economics.margin=2")
    assert code == 2
    assert err == "--set 'economics.margin=2': must be in [0, 1] (got 2)\n"
    # A table given whole: the key inside it is named; a later --set of the same key wins.
    code, _, err = run_cli("validate", scenario_file, "--set", "economics={margin = 2}")
    assert err.splitlines() == [
        "--set 'economics={margin = 2}': economics.order_value: required",
        "--set 'economics={margin = 2}': economics.margin: must be in [0, 1] (got 2)",
    ] or sorted(err.splitlines()) == sorted(
        [
            "--set 'economics={margin = 2}': economics.order_value: required",
            "--set 'economics={margin = 2}': economics.margin: must be in [0, 1] (got 2)",
        ]
    )
    code, _, err = run_cli(
        "validate", scenario_file, "--set", "economics.margin=3", "--set", "economics.margin=2", "--set", "funnel.x=1"
    )
    assert err.splitlines() == [
        "--set 'economics.margin=2': must be in [0, 1] (got 2)",
        "--set 'funnel.x=1': unknown key",
    ]
    # The file's own problems still name the file.
    scenario_file.write_text(SMALL_TOML.replace("margin = 0.6", "margin = 1.6"), encoding="utf-8")
    code, _, err = run_cli("validate", scenario_file, "--set", "funnel.synergy=0.2")
    assert err == f"{scenario_file}: economics.margin: must be in [0, 1] (got 1.6)\n"


def test_a_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL_TOML.encode("utf-8"))
    assert load_scenario(path).name == "small"


def test_deep_nesting_is_refused_with_a_clear_line(run_cli: RunCli, tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("v = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    dotted = tmp_path / "dotted.toml"
    dotted.write_text("a" + ".a" * 100_000 + " = 1\n", encoding="utf-8")
    inline = tmp_path / "inline.toml"
    inline.write_text("v = " + "{a = " * 2_000 + "1" + "}" * 2_000 + "\n", encoding="utf-8")
    for path in (deep, dotted, inline):
        code, _, err = run_cli("validate", path)
        assert code == 2 and err.startswith(f"{path}: nested too deeply"), err
    # Brackets inside strings and comments do not count.
    fine = tmp_path / "fine.toml"
    fine.write_text(SMALL_TOML.replace('name = "small"', 'name = "' + "[" * 500 + '" # ' + "{" * 500), "utf-8")
    assert load_scenario(fine).name == "[" * 500


def test_deep_set_values_and_keys_are_refused(run_cli: RunCli, scenario_file: Path) -> None:
    deep = ("scenario.name=" + "[" * 5_000, "x=" + "{a=" * 5_000 + "1" + "}" * 5_000, "a" + ".a" * 5_000 + "=1")
    for override in deep:
        code, _, err = run_cli("validate", scenario_file, "--set", override)
        assert code == 2, err
        assert err.startswith("--set '") and "nested too deeply" in err and len(err) < 400, err


def test_data_built_in_python_nested_too_deeply_is_refused() -> None:
    data = small_data()
    node: dict[str, object] = {}
    data["funnel"] = node
    for _ in range(100_000):
        node["x"] = {}
        node = node["x"]  # type: ignore[assignment]
    with pytest.raises(ScenarioError, match=r"small\.toml: nested too deeply"):
        parse_scenario(data, "small.toml")


def test_devices_and_huge_files_are_refused_before_reading_them_whole(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, err = run_cli("validate", "/dev/zero")
    assert code == 2 and err == "/dev/zero: not a regular file (a scenario is a TOML file)\n"
    big = tmp_path / "big.toml"
    big.write_bytes(SMALL_TOML.encode() + b"#" * MAX_FILE_BYTES)
    code, _, err = run_cli("validate", big)
    assert code == 2 and err == f"{big}: larger than 10 MiB; a scenario file is far smaller\n"


def test_a_pipe_is_read_like_a_file(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.pipe"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w", encoding="utf-8") as pipe:
            pipe.write(SMALL_TOML)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert load_scenario(fifo).name == "small"
    finally:
        writer.join(timeout=10)


def test_a_huge_sweep_grid_is_refused_before_building_its_cells(make_scenario: Callable[..., Scenario]) -> None:
    base = make_scenario()
    grid = {"grid": {"funnel.synergy": [0.1] * 3_000, "channels.tv.spend": [1000] * 3_000}}
    started = time.perf_counter()
    with pytest.raises(InputError) as info:
        describe(base, grid, source="g.toml")
    assert time.perf_counter() - started < 1.0
    assert info.value.problems == ["g.toml: grid: 3,000 x 3,000 = 9,000,000 cells; at most 10,000 in one sweep"]
    sample = {"sample": {"cells": MAX_CELLS + 1, "ranges": {"funnel.synergy": [0.0, 0.5]}}}
    with pytest.raises(InputError, match=r"g\.toml: sample\.cells: at most 10,000 in one sweep \(got 10,001\)"):
        describe(base, sample, source="g.toml")
