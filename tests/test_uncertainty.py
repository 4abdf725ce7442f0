"""Parameter sets as worlds: a posterior of identical sets is the scenario alone, run for run; the split of a
figure's spread between parameters and chance is the analysis of variance's; and a bad file is refused naming its
row and column."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixsim
from mixsim.errors import InputError
from mixsim.scenario import Scenario
from mixsim.uncertainty import ParameterSets, compare_worlds, read_parameter_sets, simulate_worlds
from mixsim.uncertainty.worlds import variance_shares


def test_identical_sets_are_the_scenario_alone(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    sets = ParameterSets(("channels.tv.p_aware", "organic.awareness_rate"), np.array([[0.08, 0.003]] * 3))
    result = simulate_worlds(scenario, sets, seed=5, replications=3)
    alone = mixsim.simulate(
        scenario.replace({"channels.tv.p_aware": 0.08, "organic.awareness_rate": 0.003}), seed=5, replications=3
    )
    for world in result.results:
        for kpi, values in alone.kpi_values().items():
            np.testing.assert_array_equal(world.kpi_values()[kpi], values, err_msg=kpi)
    frame = result.to_frame().set_index("kpi")
    assert frame.loc["conversions", "mean"] == alone.kpi_values()["conversions"].mean()
    assert frame.loc["conversions", "from_parameters"] == 0.0 and frame.loc["conversions", "from_chance"] == 1.0


def test_sets_that_differ_give_worlds_that_differ(make_scenario: Callable[..., Scenario]) -> None:
    """tv's reach from a tenth to ten times the file's: the worlds' conversions differ by far more than chance."""
    scenario = make_scenario()
    sets = ParameterSets(("channels.tv.p_aware",), np.array([[0.005], [0.05], [0.5]]))
    result = simulate_worlds(scenario, sets, seed=5, replications=3)
    conversions = result.kpi_values()["conversions"]
    assert conversions.shape == (3, 3) and np.all(np.diff(conversions.mean(axis=1)) > 0)
    share = result.to_frame().set_index("kpi").loc["conversions", "from_parameters"]
    assert share > 0.9
    data = result.to_dict()
    assert data["parameter_sets"]["count"] == 3 and data["replications"] == 3
    assert data["kpis"]["conversions"]["from_parameters"] == pytest.approx(share)


def test_variance_shares_are_the_analysis_of_variances() -> None:
    rng = np.random.default_rng(1)
    # No interaction: worlds' effects a and seeds' effects b add up; the shares are their variances' (ddof 1).
    a, b = rng.normal(size=6), 2 * rng.normal(size=5)
    parameters, chance = variance_shares(a[:, None] + b[None, :])
    assert parameters == pytest.approx(np.var(a, ddof=1) / (np.var(a, ddof=1) + np.var(b, ddof=1)), rel=1e-12)
    assert parameters + chance == pytest.approx(1.0, rel=1e-12)
    # Independent chance of variance 4 in every cell, worlds of variance 1: the parameters' share is 1/5.
    table = rng.normal(size=(2000, 1)) + 2 * rng.normal(size=(2000, 8))
    assert variance_shares(table)[0] == pytest.approx(0.2, abs=0.03)
    # Chance alone: the parameters' share is about 0, never below.
    assert 0.0 <= variance_shares(rng.normal(size=(500, 8)))[0] < 0.03
    assert np.isnan(variance_shares(rng.normal(size=(5, 1)))[0])  # one replication: no split


def test_a_posterior_file_is_read_and_its_baseline_columns_left_out(
    make_scenario: Callable[..., Scenario], tmp_path: Path
) -> None:
    path = tmp_path / "posterior.csv"
    path.write_text("channels.tv.p_aware,baseline.trend,organic.awareness_rate\n0.04,0.1,0.002\n\n0.06,-0.2,0.003\n")
    sets = read_parameter_sets(path, make_scenario())
    assert sets.keys == ("channels.tv.p_aware", "organic.awareness_rate") and sets.rows == (2, 4)
    np.testing.assert_array_equal(sets.values, [[0.04, 0.002], [0.06, 0.003]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "needs a header of dotted keys and at least one row"),
        ("channels.tv.p_aware\n", "needs a header of dotted keys and at least one row"),
        ("channels.tv.p_aware\nlots\n", "row 2: column channels.tv.p_aware: must be a finite number (got 'lots')"),
        ("channels.tv.p_aware\nnan\n", "row 2: column channels.tv.p_aware: must be a finite number (got 'nan')"),
        ("channels.tv.p_aware,organic.awareness_rate\n0.1\n", "row 2: has 1 cells, the header 2"),
        ("channels.tv.p_awar\n0.1\n", "column channels.tv.p_awar: unknown key; did you mean 'p_aware'?"),
        ("channels.radio.p_aware\n0.1\n", "column channels.radio.p_aware: channels.radio: no such channel"),
        ("channels.tv.p_aware,channels.tv.p_aware\n0.1,0.1\n", "column 'channels.tv.p_aware': appears more than once"),
        ("baseline.trend\n0.1\n", "no column is a scenario key"),
        ("channels.tv.p_aware\n0.1\n1.5\n", "row 3: column channels.tv.p_aware: must be in [0, 1] (got 1.5)"),
    ],
)
def test_bad_parameter_sets_are_refused_naming_row_and_column(
    make_scenario: Callable[..., Scenario], tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "posterior.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_parameter_sets(path, make_scenario())
    assert any(p.startswith(f"{path}: ") and message in p for p in caught.value.problems), caught.value.problems


def test_simulate_with_a_posterior_splits_each_interval(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware,baseline.trend\n0.01,0.2\n0.05,0\n0.3,-0.1\n", encoding="utf-8")
    code, out, err = run_cli(
        "simulate", scenario_file, "--posterior", posterior, "-r", "2", "-w", "1", "--json", "--out", tmp_path / "o"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["parameter_sets"] == {"count": 3, "keys": ["channels.tv.p_aware"], "source": str(posterior)}
    conversions = data["kpis"]["conversions"]
    assert conversions["from_parameters"] + conversions["from_chance"] == pytest.approx(1.0)
    assert conversions["ci90"][0] <= conversions["mean"] <= conversions["ci90"][1]
    assert json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8")) == data
    # email reaches aware customers, whom tv's reach makes: its reach's spread is the parameters' more than
    # chance's, while tv's reach (the people its ads find, aware or not) does not depend on them at all.
    assert data["channels"]["email"]["reach"]["from_parameters"] > 0.5
    assert data["channels"]["tv"]["reach"]["from_parameters"] == 0.0
    channels = pd.read_csv(tmp_path / "o" / "channels.csv")
    assert set(channels["channel"]) == {"tv", "search", "email"} and len(channels) == 3 * len(data["channels"]["tv"])
    code, out, _ = run_cli("simulate", scenario_file, "--posterior", posterior, "-r", "2", "-w", "1")
    assert code == 0 and "3 parameter sets from" in out and "parameters" in out and "chance" in out


def test_simulate_refuses_a_bad_posterior_with_exit_2(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware\n0.01\nmuch\n", encoding="utf-8")
    code, _, err = run_cli("simulate", scenario_file, "--posterior", posterior, "--out", tmp_path / "o")
    assert code == 2 and f"{posterior}: row 3: column channels.tv.p_aware: must be a finite number" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
    code, _, err = run_cli("simulate", scenario_file, "--posterior", tmp_path / "missing.csv")
    assert code == 2 and "missing.csv: cannot read the parameter sets" in err


def test_a_comparison_across_worlds_is_each_world_simulated_alone(make_scenario: Callable[..., Scenario]) -> None:
    """Each scenario in each world is the scenario with that set, simulated alone on the same seeds; the gain is
    paired; a variant that is the base has no gain and no side."""
    base = make_scenario()
    more_tv = base.replace({"channels.tv.spend": 4000.0})
    sets = ParameterSets(("channels.tv.p_aware",), np.array([[0.02], [0.2]]))
    result = compare_worlds(base, [("more tv", more_tv), ("same", base)], sets, seed=4, replications=2)
    for label, scenario in (("base", base), ("more tv", more_tv)):
        for s, (value,) in enumerate(sets.values):
            alone = mixsim.simulate(scenario.replace({"channels.tv.p_aware": value}), seed=4, replications=2)
            np.testing.assert_array_equal(result.values[label]["conversions"][s], alone.kpi_values()["conversions"])
    frame = result.to_frame().set_index(["variant", "kpi"])
    gains = result.values["more tv"]["conversions"] - result.values["base"]["conversions"]
    assert frame.loc[("more tv", "conversions"), "gain"] == pytest.approx(gains.mean(), rel=1e-12)
    assert frame.loc[("more tv", "conversions"), "higher"] == np.mean(gains.mean(axis=1) > 0)
    assert frame.loc[("more tv", "spend"), "gain"] > 0
    same = frame.loc[("same", "conversions")]
    assert same["gain"] == 0.0 and np.isnan(same["higher"]) and np.isnan(same["from_parameters"])
    assert json.loads(result.to_json())["variants"]["same"]["conversions"]["higher"] is None


def test_compare_with_a_posterior(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware\n0.02\n0.2\n", encoding="utf-8")
    code, out, err = run_cli(
        "compare", scenario_file, "--vary", "channels.tv.spend=1000,4000", "--posterior", posterior, "-r", "2",
        "-w", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert set(data["variants"]) == {"channels.tv.spend=1000", "channels.tv.spend=4000"}
    assert data["variants"]["channels.tv.spend=4000"]["spend"]["gain"]["mean"] > 0
    code, _, err = run_cli("compare", scenario_file, "--optimize", "--posterior", posterior)
    assert code == 2 and "--optimize: not with --posterior" in err and "--posterior FILE --verify" in err
    code, _, err = run_cli("compare", scenario_file, "--vary", "channels.tv.spend=1000", "--posterior", tmp_path / "x")
    assert code == 2 and "cannot read the parameter sets" in err


def test_the_true_incrementality_across_worlds_is_each_worlds_own(  # type: ignore[no-untyped-def]
    make_scenario: Callable[..., Scenario], run_cli, scenario_file: Path, tmp_path: Path
) -> None:
    """With incrementality, each world's channel figures are those mixsim.simulate measures in that world alone;
    the command reports each channel's true incremental ROAS with its interval and shares."""
    sets = ParameterSets(("channels.tv.p_aware",), np.array([[0.01], [0.2]]))
    worlds = simulate_worlds(make_scenario(), sets, seed=5, replications=2, incrementality=True)
    for i, value in enumerate((0.01, 0.2)):
        alone = mixsim.simulate(make_scenario(f"channels.tv.p_aware={value}"), seed=5, replications=2,
                                incrementality=True)  # fmt: skip
        assert worlds.results[i].to_json() == alone.to_json()
    roas = worlds.channel_values()["incremental_roas"]
    assert roas.shape == (2, 2, 3) and roas[1, :, 0].mean() > roas[0, :, 0].mean()  # tv's, in the stronger world
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware\n0.01\n0.2\n", encoding="utf-8")
    code, out, err = run_cli("simulate", scenario_file, "--posterior", posterior, "--incrementality", "-r", "2",
                             "-w", "1")  # fmt: skip
    assert code == 0, err
    assert "true incremental ROAS" in out
