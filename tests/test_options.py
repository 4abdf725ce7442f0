"""The command line's argument types (mixsim.cli.options): shares that cannot be misread, and ``--set`` that
shows its form when given with a space."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from mixsim.cli import options

RunCli = Callable[..., tuple[int, str, str]]


@pytest.mark.parametrize(("text", "value"), [("30%", 0.3), ("0.3", 0.3), ("1", 1.0), ("0", 0.0), ("130%", 1.3)])
def test_a_share_is_a_percentage_or_a_fraction(text: str, value: float) -> None:
    assert options.share(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["130", "30", "1.5", "2"])
def test_a_bare_number_above_one_is_refused_with_both_forms(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        options.share(text)
    message = str(caught.value)
    assert "30%" in message and "0.3" in message and f"write {float(text):g}%" in message


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--max-change", "130"), ("--margin", "60"), ("--pacing", "4:30")],
)
def test_every_share_option_of_optimize_refuses_a_bare_number_above_one(
    run_cli: RunCli, scenario_file: Path, flag: str, value: str
) -> None:
    code, out, err = run_cli("optimize", scenario_file, flag, value)
    assert code == 2 and out == ""
    assert f"argument {flag}" in err and "30% or 0.3" in err


@pytest.mark.parametrize(("command", "flag"), [("export-mmm", "--dark"), ("journeys", "--sample")])
def test_the_research_shares_refuse_it_too(run_cli: RunCli, scenario_file: Path, command: str, flag: str) -> None:
    code, _, err = run_cli(command, scenario_file, "--out", "x", flag, "30")
    assert code == 2 and f"argument {flag}" in err and "30% or 0.3" in err


def test_a_margin_or_pacing_share_stays_at_most_all() -> None:
    assert options.margin("60%") == pytest.approx(0.6)
    assert options.pacing("4:30%") == (4, pytest.approx(0.3))
    for text in ("130%", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"between 0 and 1, written as 30% or 0\.3"):
            options.margin(text)


def test_set_with_a_space_shows_the_key_value_form(run_cli: RunCli, scenario_file: Path) -> None:
    # Before, argparse said only "unrecognized arguments: 5000".
    code, out, err = run_cli("simulate", scenario_file, "--set", "scenario.population", "5000", "-r", "1")
    assert code == 2 and out == ""
    assert "argument --set" in err and "--set scenario.population=VALUE" in err
    assert "unrecognized arguments" not in err
    # Also where the value would have been taken for the scenario file.
    code, _, err = run_cli("validate", "--set", "scenario.population", "5000", scenario_file)
    assert code == 2 and "--set scenario.population=VALUE" in err


def test_set_with_an_equals_sign_is_taken_as_it_is() -> None:
    assert options.override("scenario.population=5000") == "scenario.population=5000"
    assert options.override("scenario.name=Spring push") == "scenario.name=Spring push"
