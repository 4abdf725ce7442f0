"""The Python API as a researcher meets it: a scenario is an object (a path gets a TypeError naming
load_scenario), messages speak of parameters rather than flags, and the defaults the docs give are the code's."""

from __future__ import annotations

import ast
import inspect
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mixsim
from conftest import ROOT, small_data
from mixsim.cli.main import build_parser
from mixsim.optimizer import Problem, scenario_frontier
from mixsim.optimizer.weekly import plan_weekly
from mixsim.report import run_report
from mixsim.research.study import attribution_study, mmm_study
from mixsim.scenario import Scenario, parse_scenario
from mixsim.sweep import describe

PATH = "scenarios/d2c_ecommerce.toml"

CALLS: dict[str, Callable[[Any], object]] = {
    "simulate": lambda s: mixsim.simulate(s),
    "vary": lambda s: mixsim.vary(s, {"funnel.synergy": ["0"]}),
    "compare": lambda s: mixsim.compare(s, []),
    "response_curves": lambda s: mixsim.response_curves(s),
    "optimize": lambda s: mixsim.optimize(s),
    "verify": lambda s: mixsim.verify(s, None),  # type: ignore[arg-type]
    "mmm_scenario": lambda s: mixsim.mmm_scenario(s, 26),
    "Problem.from_scenario": lambda s: Problem.from_scenario(s, None),  # type: ignore[arg-type]
    "scenario_frontier": lambda s: scenario_frontier(s, [1000.0]),
    "plan_weekly": lambda s: plan_weekly(s),
    "sweep.describe": lambda s: describe(s, {"grid": {"funnel.synergy": [0.1]}}),
    "report.run_report": lambda s: run_report(s),
    "research.study.attribution_study": lambda s: attribution_study(s),
    "research.study.mmm_study": lambda s: mmm_study(s, 26),
}
"""Every public function that takes a scenario, called with ``s`` as it."""


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("given", [PATH, Path(PATH)], ids=["str", "Path"])
def test_a_path_gets_a_type_error_that_names_load_scenario(name: str, given: object) -> None:
    with pytest.raises(TypeError) as caught:
        CALLS[name](given)
    message = str(caught.value)
    assert "must be a mixsim.Scenario, not a path" in message
    assert f"mixsim.load_scenario('{PATH}')" in message


@pytest.mark.parametrize("name", sorted(CALLS))
def test_data_or_anything_else_gets_a_type_error_too(name: str) -> None:
    with pytest.raises(TypeError, match=r"mixsim\.parse_scenario\(data\)"):
        CALLS[name]({"scenario": {"name": "x"}})
    with pytest.raises(TypeError, match=r"must be a mixsim\.Scenario \(got int\)"):
        CALLS[name](7)


def test_a_variant_that_is_a_path_is_named() -> None:
    base = parse_scenario(small_data(), source="small.toml")
    with pytest.raises(TypeError, match=r"variants\[1\] must be a mixsim\.Scenario, not a path"):
        mixsim.compare(base, [("a", base), ("b", "b.toml")])


def test_every_public_function_taking_a_scenario_is_checked() -> None:
    """A new public function with a Scenario parameter must join CALLS (and call require_scenario)."""
    taking = set()
    for name in mixsim.__all__:
        obj = getattr(mixsim, name)
        if inspect.isfunction(obj) and any("Scenario" in str(p.annotation) for p in signature(obj)):
            taking.add(name)
    assert taking <= set(CALLS), taking - set(CALLS)


def signature(function: Callable[..., object]) -> list[inspect.Parameter]:
    return list(inspect.signature(function).parameters.values())


# ----------------------------------------------------------------------------------------------------------------
# Messages in the API's terms


def test_bad_overrides_are_told_as_overrides_not_as_a_flag() -> None:
    with pytest.raises(mixsim.ScenarioError) as caught:
        mixsim.load_scenario(PATH, overrides=["scenario.population 5000"])
    (message,) = caught.value.problems
    assert message.startswith("override 'scenario.population 5000'") and "--" not in message
    assert "'scenario.population=5000'" in message  # the form it should have
    with pytest.raises(mixsim.ScenarioError) as caught:
        mixsim.load_scenario(PATH, overrides={"scenario.population": 5000})  # type: ignore[arg-type]
    assert caught.value.problems == [
        "overrides: must be 'dotted.key=VALUE' strings, e.g. ['scenario.population=5000'] (got a dict; a mapping "
        "of dotted keys to values is what Scenario.replace takes)"
    ]


def test_bad_optimizer_arguments_are_told_by_parameter() -> None:
    scenario = mixsim.load_scenario(PATH, overrides=["scenario.population=2000"])
    with pytest.raises(mixsim.InputError) as caught:
        mixsim.optimize(scenario, max_change=130, locked=["tvv"], max_iterations=0)
    text = str(caught.value)
    assert "max_change:" in text and "locked:" in text and "max_iterations:" in text
    assert not FLAG.search(text)


FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")
"""A command-line flag in text (``--max-change``), not an en dash or a rule line."""

LIBRARY = ROOT / "src" / "mixsim"


def string_literals(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings (messages, labels, formats)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_library_messages_name_no_command_line_flag() -> None:
    """Outside ``cli/``, no string the library can show names a flag; the command line puts its flags in."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted(LIBRARY.rglob("*.py"))
        if "cli" not in path.relative_to(LIBRARY).parts
        for line, text in string_literals(path)
        if FLAG.search(text)
    ]
    assert not found, "\n".join(found)


def test_the_scan_finds_a_flag() -> None:
    assert FLAG.search("use --max-change 30%") and not FLAG.search("a -- b, 2024-01-02, ---, x--y")


# ----------------------------------------------------------------------------------------------------------------
# Defaults: the table in docs/python.md is the code's


FUNCTIONS: dict[str, Callable[..., object]] = {
    "mixsim.simulate": mixsim.simulate,
    "mixsim.compare": mixsim.compare,
    "mixsim.report.run_report": run_report,
    "mixsim.research.study.attribution_study": attribution_study,
    "mixsim.response_curves": mixsim.response_curves,
    "mixsim.optimize": mixsim.optimize,
    "mixsim.optimizer.weekly.plan_weekly": plan_weekly,
    "mixsim.optimizer.scenario_frontier": scenario_frontier,
    "mixsim.verify": mixsim.verify,
}

ROW = re.compile(r"^\| `mixsim (?P<command>[a-z-]+)(?: --by-week| --verify)?` \| `(?P<flag>--[a-z-]+) (?P<cli>\d+)` "
                 r"\| `(?P<function>[\w.]+)` \| `(?P<parameter>\w+)=(?P<api>\d+)` \|$")  # fmt: skip


def default_rows() -> list[re.Match[str]]:
    text = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
    return [m for line in text.splitlines() if (m := ROW.match(line))]


def test_the_defaults_table_is_read() -> None:
    assert {m["function"] for m in default_rows()} == set(FUNCTIONS)


@pytest.mark.parametrize("row", default_rows(), ids=lambda m: f"{m['command']} {m['flag']}")
def test_each_default_in_the_table_is_the_code_s(row: re.Match[str]) -> None:
    parser = build_parser([row["command"]])
    sub = next(a for a in parser._actions if a.dest == "command")  # the subcommands
    command = sub.choices[row["command"]]  # type: ignore[index]
    action = next(a for a in command._actions if row["flag"] in a.option_strings)
    assert action.default == int(row["cli"]), f"mixsim {row['command']} {row['flag']}"
    parameters = inspect.signature(FUNCTIONS[row["function"]]).parameters
    assert parameters[row["parameter"]].default == int(row["api"]), f"{row['function']}({row['parameter']}=)"


def test_workers_default_to_every_core_on_the_command_line_and_one_in_the_library() -> None:
    parser = build_parser(["simulate"])
    sub = next(a for a in parser._actions if a.dest == "command")
    simulate = sub.choices["simulate"]  # type: ignore[index]
    workers = next(a for a in simulate._actions if "--workers" in a.option_strings)
    assert workers.default == (os.cpu_count() or 1)
    for function in FUNCTIONS.values():
        parameters = inspect.signature(function).parameters
        assert "workers" not in parameters or parameters["workers"].default == 1, function


def test_scenario_type_is_what_load_scenario_returns() -> None:
    assert isinstance(mixsim.load_scenario(PATH), Scenario)
