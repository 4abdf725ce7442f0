"""A name that is not one of the scenario's (mixsim._names): every message about it lists those that are, in the
scenario file, overrides, the API's arguments and the command line's options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mixsim
from conftest import small_data
from mixsim._names import MAX_LISTED, is_channel_name, name_hint, printable, valid_names
from mixsim.optimizer import Problem
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve
from mixsim.optimizer.weekly import plan_weekly
from mixsim.scenario import Limit, Scenario, parse_scenario

CHANNELS = "(channels: tv, search, email)"
RunCli = Callable[..., tuple[int, str, str]]


def test_the_hint_gives_the_near_miss_then_every_name() -> None:
    assert name_hint("tvv", ["tv", "search"], "channel") == "; did you mean 'tv'? (channels: tv, search)"
    assert name_hint("radio", ["tv", "search"], "channel") == " (channels: tv, search)"
    assert valid_names("segment", []) == "no segments"
    many = valid_names("channel", [f"c{i}" for i in range(MAX_LISTED + 5)])
    assert many.endswith("... (5 more)") and many.count(",") == MAX_LISTED


@pytest.fixture
def scenario() -> Scenario:
    return parse_scenario(small_data(), source="small.toml")


def broken(change: Callable[[dict[str, Any]], None]) -> list[str]:
    data = small_data()
    change(data)
    with pytest.raises(mixsim.ScenarioError) as caught:
        parse_scenario(data, source="small.toml")
    return caught.value.problems


def test_the_scenario_file_lists_the_channels_and_segments() -> None:
    def limits(data: dict[str, Any]) -> None:
        data["budget"] = {"total": 5000, "limits": {"tvv": {"max": 10}}}

    def groups(data: dict[str, Any]) -> None:
        data["budget"] = {"total": 5000, "groups": [{"name": "g", "channels": ["radio"], "max_share": 0.5}]}

    def reach(data: dict[str, Any]) -> None:
        data["channels"]["tv"]["reach"] = {"yung": 0.5, "old": 0.9}

    assert broken(limits) == [f"small.toml: budget.limits.tvv: unknown channel; did you mean 'tv'? {CHANNELS}"]
    assert broken(groups) == [f"small.toml: budget.groups[0].channels[0]: unknown channel {CHANNELS} (got 'radio')"]
    assert broken(reach) == [
        "small.toml: channels.tv.reach.yung: unknown segment; did you mean 'young'? (segments: young, old)"
    ]


def test_overrides_and_scenario_methods_list_the_channels(scenario: Scenario) -> None:
    with pytest.raises(mixsim.ScenarioError) as caught:
        scenario.with_overrides(["channels.radio.spend=5"])
    assert caught.value.problems == [f"override 'channels.radio.spend=5': channels.radio: no such channel {CHANNELS}"]
    for call in (lambda: scenario.channel("radio"), lambda: scenario.without_channel("radio")):
        with pytest.raises(mixsim.ScenarioError) as caught:
            call()
        assert caught.value.problems == [f"small.toml: no channel 'radio' {CHANNELS}"]


def test_the_optimizer_s_arguments_list_the_channels(scenario: Scenario) -> None:
    curve = ResponseCurve("tv", *([np.zeros(2)] * 4), Hill(1.0, 1.0, 1.0), max_spend=10.0)
    curves = CurveSet((curve,), order_value=50.0)
    with pytest.raises(mixsim.InputError) as caught:
        Problem(curves, budget=10.0, limits={"radio": Limit(0, 1)}, locked=("tvv",))
    assert caught.value.problems == [
        "limits: no curve for channel 'radio' (channels: tv)",
        "locked: no curve for channel 'tvv' (channels: tv)",
    ]
    with pytest.raises(mixsim.InputError) as caught:
        plan_weekly(scenario, week_min={"radio": 10.0}, locked=["tvv"])
    assert caught.value.problems == [f"week_min: no channel 'radio' {CHANNELS}", f"locked: no channel 'tvv' {CHANNELS}"]
    with pytest.raises(mixsim.InputError, match=r"locked: no channel 'tvv' \(channels: tv, search, email\)"):
        mixsim.optimize(scenario, locked=["tvv"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lock", "radio"), f"--lock: no channel 'radio' {CHANNELS}"),
        (("--by-week", "--lock", "radio"), f"--lock: no channel 'radio' {CHANNELS}"),
        (("--by-week", "--week-max", "radio=5"), f"--week-max: no channel 'radio' {CHANNELS}"),
        (("--set", "channels.tvv.spend=5"), f"channels.tvv: no such channel; did you mean 'tv'? {CHANNELS}"),
        (
            ("--set", "budget.limits.radio={max=5}"),
            f"--set 'budget.limits.radio={{max=5}}': unknown channel {CHANNELS}",
        ),
    ],
)
def test_the_command_line_lists_the_channels(
    run_cli: RunCli, scenario_file: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = run_cli("optimize", scenario_file, "--workers", "1", *args)
    assert code == 2 and out == "" and message in err


# ------------------------------------------------------------------------------------------------- untrusted names


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("tv", "tv"),
        ("télé 中", "télé 中"),
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("x\ny\tz\r", "x\\ny\\tz\\r"),
        ("\x9b2J", "\\x9b2J"),
        ("\x7f", "\\x7f"),
        ("\u202eevil", "\\u202eevil"),
        ('it\'s "q" \\', 'it\'s "q" \\'),
    ],
)
def test_printable_shows_control_characters_as_escapes(text: str, shown: str) -> None:
    """Issue 15, point 7: what a terminal would obey is shown as text, everything else as it is."""
    assert printable(text) == shown
    assert printable(text).isprintable()


def test_the_channel_rule_matches_whole_names() -> None:
    assert is_channel_name("tv") and is_channel_name("_x2") and is_channel_name("NA")
    for name in ("tv\n", "2tv", "t-v", "=tv", "", "télé", "tv\x1b"):
        assert not is_channel_name(name), name


def test_a_scenario_channel_with_a_trailing_newline_is_refused() -> None:
    """The scenario's rule matched with ``re.match`` and ``$`` let ``'tv\\n'`` through."""

    def newline(data: dict[str, Any]) -> None:
        data["channels"]["tv\n"] = data["channels"].pop("tv")

    assert broken(newline) == [
        "small.toml: channels.tv\n: channel name must be letters, digits and underscores, not starting with a "
        "digit (got 'tv\\n')"
    ]


def test_the_list_of_valid_names_escapes_them() -> None:
    assert valid_names("segment", ["young", "o\x1b[2Jld"]) == "segments: young, o\\x1b[2Jld"


def test_error_lines_on_the_terminal_escape_control_characters(run_cli: RunCli, tmp_path: Path) -> None:
    """Issue 15, point 7: a problem naming a segment called ``o<ESC>[2Jld`` prints the name, not a cleared screen."""
    import tomllib

    from conftest import SMALL_TOML

    path = tmp_path / "evil.toml"
    path.write_text(SMALL_TOML.replace('name = "old"', 'name = "o\\u001b[2Jld"'), encoding="utf-8")
    assert "o\x1b[2Jld" in [s["name"] for s in tomllib.loads(path.read_text("utf-8"))["segments"]]
    code, _, err = run_cli("validate", path)
    assert code == 2 and "\x1b" not in err
    assert "(segments: young, o\\x1b[2Jld)" in err
