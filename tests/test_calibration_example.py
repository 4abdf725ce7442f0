"""The shipped calibration example is what its generator writes, and every file of it reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mixsim
from conftest import ROOT
from mixsim.calibration import read_history
from mixsim.calibration.lift import read_lift

EXAMPLE = ROOT / "examples" / "calibration"
FILES = ("history.csv", "lift.csv", "scenario.toml", "truth.toml", "truth.json")


def test_the_example_reads() -> None:
    scenario = mixsim.load_scenario(EXAMPLE / "scenario.toml")
    assert scenario.calibration is not None and scenario.calibration.holdout_weeks == 13
    history = read_history(EXAMPLE / "history.csv", scenario)
    assert history.weeks == 52 and history.train_periods == 39
    (test,) = read_lift(EXAMPLE / "lift.csv", scenario, history)
    assert test.channel == "social" and test.observed > 0 and test.standard_error > 0
    truth = mixsim.load_scenario(EXAMPLE / "truth.toml")
    assert truth.channel("social").p_aware == pytest.approx(3 * scenario.channel("social").p_aware, rel=1e-12)


@pytest.mark.slow
def test_the_example_is_what_its_generator_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(EXAMPLE / "generate.py"), "--out", str(tmp_path)], check=True, cwd=ROOT)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name
