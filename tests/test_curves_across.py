"""Response curves across a posterior: every set's curves are the scenario's with that set, and the summary is
their spread."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mixsim.optimizer.measure import response_curves
from mixsim.scenario import Scenario
from mixsim.uncertainty import ParameterSets
from mixsim.uncertainty.curves import curves_across


def test_each_sets_curves_are_the_scenarios_with_that_set(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    sets = ParameterSets(("channels.tv.p_aware",), np.array([[0.01], [0.2]]))
    worlds = curves_across(scenario, sets, seed=3, replications=2, levels=(0, 1, 2))
    for i, value in enumerate((0.01, 0.2)):
        alone = response_curves(make_scenario(f"channels.tv.p_aware={value}"), seed=3, replications=2, levels=(0, 1, 2))
        assert worlds.curves[i].to_frame("fits").equals(alone.to_frame("fits"))
    summary = worlds.to_frame().set_index(["channel", "figure"])
    fits = worlds.to_frame("fits")
    tv = fits[fits["channel"] == "tv"]["roas_at_current"].to_numpy()
    assert summary.loc[("tv", "roas_at_current"), "mean"] == pytest.approx(tv.mean())
    assert summary.loc[("tv", "roas_at_current"), "low"] == pytest.approx(np.quantile(tv, 0.05))
    assert tv[1] > tv[0]  # more awareness per exposure, more return per dollar
    assert list(worlds.to_frame("points").columns[:2]) == ["set", "channel"]


def test_curves_with_a_posterior_on_the_command_line(  # type: ignore[no-untyped-def]
    run_cli, scenario_file: Path, tmp_path: Path
) -> None:
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware\n0.01\n0.2\n", encoding="utf-8")
    args = ("curves", scenario_file, "--posterior", posterior, "-r", "1", "--levels", "0,1,2", "-w", "1")
    code, out, err = run_cli(*args, "--out", tmp_path / "c")
    assert code == 0, err
    assert "Response curves in 2 parameter sets" in out and "tv" in out
    assert {p.name for p in (tmp_path / "c").iterdir()} >= {
        "curves_summary_by_set.csv", "curves_points_by_set.csv", "curves_fits_by_set.csv", "curves.png",
    }  # fmt: skip
    code, out, err = run_cli(*args, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data["summary"]) == {"tv", "search", "email"} and data["parameter_sets"]["count"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("channels.tv.p_awareness\n0.1\n", encoding="utf-8")
    code, _, err = run_cli("curves", scenario_file, "--posterior", bad)
    assert code == 2 and "p_awareness" in err and "Traceback" not in err
