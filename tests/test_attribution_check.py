"""Attribution against the simulator's truth: the journal route equals the path-table route, the engine's own
first/last-touch counts are reproduced, the share error has its extremes, and the command keeps its contract."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import small_data
from mixsim.errors import InputError
from mixsim.research.attribution import MODELS, AttributionCheck, against_truth, attribute
from mixsim.results import SimulationResult
from mixsim.scenario import Scenario, parse_scenario
from mixsim.simulation import simulate

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="module")
def small_result() -> object:

    scenario = parse_scenario(small_data(), source="small.toml")
    return simulate(scenario, seed=11, replications=3, incrementality=True, journeys=1.0)


def test_journal_route_equals_path_table_route(small_result: SimulationResult) -> None:
    result = small_result
    check = against_truth(result)
    journeys = result.journeys()
    channels = result.channels
    for r in range(result.replications):
        table = attribute(journeys.paths(replication=r, days=True), MODELS, channels=channels)
        wide = table.pivot(index="model", columns="channel", values="conversions").loc[list(MODELS), list(channels)]
        np.testing.assert_allclose(check.credit[r], wide.to_numpy() * journeys.scale()[r], rtol=1e-9, atol=1e-9)


def test_first_and_last_touch_match_the_engines_own_counts(small_result: SimulationResult) -> None:
    result = small_result
    check = against_truth(result, ["first_touch", "last_touch"])
    for r, run in enumerate(result.runs):
        np.testing.assert_allclose(check.credit[r, 0], run.first_touch)
        np.testing.assert_allclose(check.credit[r, 1], run.last_touch)


def test_credit_adds_up_to_the_touched_conversions(small_result: SimulationResult) -> None:
    result = small_result
    check = against_truth(result)
    untouched = result.journeys().untouched_conversions()
    touched = check.conversions - untouched
    np.testing.assert_allclose(check.credit.sum(axis=2), np.repeat(touched[:, None], len(MODELS), axis=1))
    np.testing.assert_array_equal(check.truth, result.incrementality.conversions)


def _check(credit: np.ndarray, truth: np.ndarray, scenario: Scenario) -> AttributionCheck:
    return AttributionCheck(
        scenario=scenario,
        models=tuple(f"m{i}" for i in range(credit.shape[1])),
        credit=credit,
        truth=truth,
        conversions=truth.sum(axis=1),
        seed=0,
        share=1.0,
    )


def test_share_error_extremes(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()  # three channels
    truth = np.array([[10.0, 30.0, 0.0], [20.0, 20.0, 0.0]])
    same_split = truth[:, None, :] * 3.0  # proportional: the same shares
    disjoint = np.array([[[0.0, 0.0, 5.0]], [[0.0, 0.0, 9.0]]])  # all credit where the truth has none
    half = np.array([[[10.0, 0.0, 10.0]], [[10.0, 0.0, 10.0]]])
    check = _check(np.concatenate([same_split, disjoint, half], axis=1), truth, scenario)
    errors = check.share_error()
    np.testing.assert_allclose(errors[:, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(errors[:, 1], 1.0)
    # Replication 0: credit shares (.5, 0, .5), truth (.25, .75, 0): |.25| + |.75| + |.5| = 1.5, halved.
    # Replication 1: credit (.5, 0, .5), truth (.5, .5, 0): 0 + .5 + .5 = 1, halved.
    np.testing.assert_allclose(errors[:, 2], [0.75, 0.5])
    models = check.to_frame("models").set_index("model")
    assert models.loc["m2", "share_error"] == pytest.approx(0.625)
    assert models.loc["m2", "abs_error"] == pytest.approx(((0 + 30 + 10) + (10 + 20 + 10)) / 2)
    channels = check.to_frame("channels")
    row = channels[(channels["model"] == "m1") & (channels["channel"] == "email")].iloc[0]
    assert row["credit"] == pytest.approx(7.0) and row["truth"] == 0.0 and row["error"] == pytest.approx(7.0)
    data = json.loads(check.to_json())
    assert [m["model"] for m in data["models"]] == ["m0", "m1", "m2"]
    with pytest.raises(InputError, match="unknown table"):
        check.to_frame("paths")


def test_needs_journeys_and_truth(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    with pytest.raises(InputError, match="incrementality=True"):
        against_truth(simulate(scenario, replications=1, journeys=1.0))
    with pytest.raises(InputError, match="journeys=share"):
        against_truth(simulate(scenario, replications=1, incrementality=True))
    with pytest.raises(InputError, match="did you mean 'markov'"):
        against_truth(simulate(scenario, replications=1, incrementality=True, journeys=1.0), ["markof"])


def test_a_sample_is_scaled_up_to_the_population(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario("scenario.population=20000")
    share = 0.3
    result = simulate(scenario, seed=5, replications=2, incrementality=True, journeys=share)
    check = against_truth(result, ["first_touch"])
    for r, run in enumerate(result.runs):
        touched = float(run.first_touch.sum())  # every touched buyer, counted by the engine itself
        estimate = float(check.credit[r, 0].sum())
        # The estimate counts tracked buyers times N / tracked: about sqrt(C (1 - s) / s) from the count.
        sd = math.sqrt(touched * (1 - share) / share) + 1.0
        assert abs(estimate - touched) < 5 * sd, (estimate, touched, sd)
        assert estimate != touched  # it is an estimate from a sample, not the engine's count


def test_cli_attribution_table_json_and_files(scenario_file: Path, run_cli: RunCli, tmp_path: Path) -> None:
    code, out, err = run_cli("attribution", scenario_file, "-r", "2", "-w", "1", "--out", tmp_path / "out")
    assert code == 0, err
    for model in MODELS:
        assert model in out
    assert "Closest to the truth here:" in out
    written = ("attribution_channels.csv", "attribution_models.csv", "attribution_check.png", "attribution_check.svg")
    for name in written:
        assert (tmp_path / "out" / name).stat().st_size > 0, name

    code, out, err = run_cli("attribution", scenario_file, "-r", "2", "-w", "1", "--json", "--models", "linear,markov")
    assert code == 0, err
    data = json.loads(out)
    assert [m["model"] for m in data["models"]] == ["linear", "markov"]
    assert {c["channel"] for c in data["channels"]} == {"tv", "search", "email"}
    assert data["replications"] == 2 and data["share"] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--models", "linear,lastclick"), "--models: unknown attribution model 'lastclick'"),
        (("--sample", "0"), "must be a share above 0"),
        (("--half-life", "-1"), "must be"),
    ],
)
def test_cli_attribution_bad_options(scenario_file: Path, run_cli: RunCli, args: tuple[str, ...], message: str) -> None:
    code, _, err = run_cli("attribution", scenario_file, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_share_error_is_undefined_without_true_effects(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    truth = np.array([[0.0, 0.0, 0.0], [10.0, -2.0, 0.0]])
    credit = np.array([[[1.0, 0.0, 0.0]], [[0.0, 10.0, 0.0]]])
    errors = _check(credit, truth, scenario).share_error()
    assert math.isnan(errors[0, 0])
    # Truth shares (1.25, -0.25, 0) against credit (0, 1, 0): (1.25 + 1.25) / 2, above 1 with a negative effect.
    assert errors[1, 0] == pytest.approx(1.25)


def test_cli_attribution_refuses_shapley_over_too_many_channels_before_simulating(
    tmp_path: Path, run_cli: RunCli
) -> None:
    from conftest import SMALL_TOML
    from mixsim.research.attribution import MAX_SHAPLEY_CHANNELS

    lines = [f"[channels.extra{k}]\ncpm = 5.0\nspend = 10\n" for k in range(MAX_SHAPLEY_CHANNELS)]
    path = tmp_path / "many.toml"
    path.write_text(SMALL_TOML + "\n" + "\n".join(lines), encoding="utf-8")
    assert len(small_data()["channels"]) + MAX_SHAPLEY_CHANNELS > MAX_SHAPLEY_CHANNELS
    code, out, err = run_cli("attribution", path, "-r", "1", "-w", "1")
    assert code == 2 and out == ""  # refused before anything ran or printed
    assert f"shapley takes at most {MAX_SHAPLEY_CHANNELS} channels" in err and "--models" in err


def test_the_check_keeps_the_result_contract(small_result: SimulationResult) -> None:
    check = against_truth(small_result, ["linear", "markov"])
    assert check.seed == small_result.seed == 11 and check.version == small_result.version != ""
    assert check.replications == 3
    data = json.loads(check.to_json())
    assert data["seed"] == 11 and data["version"] == small_result.version and data["replications"] == 3
    assert len(data["channels"]) == 2 * len(small_result.channels) and len(data["models"]) == 2
    assert list(check.to_frame().columns[:3]) == ["model", "channel", "credit"]
    html = check._repr_html_()
    assert "Attribution against the truth" in html and "markov" in html and "seed 11" in html


def test_cli_attribution_names_the_option_of_a_bad_request(scenario_file: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("attribution", scenario_file, "--models", "time_decay,linar", "--half-life", "0")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"--models: unknown attribution model 'linar' (did you mean 'linear'?); known models: {', '.join(MODELS)}",
        "--half-life: half_life must be a finite number > 0 (got 0.0)",
    ]
