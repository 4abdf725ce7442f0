"""Shared fixtures: the repository root, a small valid scenario (as data, object and file) and an in-process CLI."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from mixsim import cli
from mixsim.scenario import Scenario, apply_overrides, parse_scenario

ROOT = Path(__file__).resolve().parents[1]

# Small enough that a run takes a few milliseconds, rich enough to exercise every mechanism: two segments, a cpm
# and a cpc channel, targets, a frequency cap, a fixed cost, memory, synergy, organic forces and abandonment.
SMALL_TOML = """\
[scenario]
name = "small"
population = 2_000
horizon_days = 20
seed = 3

[economics]
order_value = 50.0
margin = 0.6
checkout_abandonment = 0.2

[funnel]
half_life_days = { aware = 20.0, considering = 10.0 }
synergy = 0.1

[organic]
awareness_rate = 0.002
word_of_mouth = 0.05
consideration_rate = 0.01
conversion_rate = 0.01

[[segments]]
name = "young"
share = 0.4
[[segments]]
name = "old"
share = 0.6

[channels.tv]
cpm = 20.0
spend = 2_000
reach = { young = 0.5, old = 0.9 }
p_aware = 0.05
p_consider = 0.01
fixed_cost = 300

[channels.search]
cpc = 1.5
ctr = 0.05
spend = 1_500
targets = ["considering"]
p_convert = 0.02
frequency_cap = 1

[channels.email]
cpm = 5.0
spend = 300
targets = ["aware", "considering"]
p_consider = 0.02
p_convert = 0.01
frequency_cap = 1
"""

CliResult = tuple[int, str, str]


def small_data() -> dict[str, Any]:
    """The small scenario as plain data (a fresh copy each call)."""
    return tomllib.loads(SMALL_TOML)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder (holds ``scenarios/`` and ``tests/``)."""
    return ROOT


@pytest.fixture
def make_scenario() -> Callable[..., Scenario]:
    """Build the small scenario with ``dotted.key=VALUE`` overrides (``--set`` syntax), validated.

    ``make_scenario("channels.tv.spend=0", data=...)``: ``data`` replaces the base document when given.
    """

    def make(*overrides: str, data: dict[str, Any] | None = None) -> Scenario:
        base = small_data() if data is None else data
        return parse_scenario(apply_overrides(base, list(overrides)), source="small.toml")

    return make


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    """The small scenario written to a TOML file."""
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TOML, encoding="utf-8")
    return path


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``mixsim`` in this process: ``run_cli("simulate", path, "--json")`` -> ``(exit code, stdout, stderr)``.

    argparse errors exit through ``SystemExit``; they are turned into the exit code like a real process would.
    """

    def run(*args: str | Path) -> CliResult:
        capsys.readouterr()  # drop anything printed before
        argv: Sequence[str] = [str(a) for a in args]
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
