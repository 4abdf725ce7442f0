"""The ``mixsim`` command: output contract of ``--json``, reproducibility, ``--set``, exit codes, ``--out`` files."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mixsim import _files
from mixsim.results import CHANNEL_METRICS, INCREMENTAL_METRICS, KPIS, TABLES
from mixsim.scenario import STAGES

ROOT = Path(__file__).resolve().parents[1]
RunCli = Callable[..., tuple[int, str, str]]

BROKEN = sorted((ROOT / "tests" / "broken").glob("*.toml"))
ATTRIBUTION = ("first_touch", "last_touch", "linear")
FAST = ("--workers", "1")
FIGURES = {f"{name}.{fmt}" for name in ("funnel", "journeys", "attribution") for fmt in ("png", "svg")}


def only_the_log(err: str, command: str, runs: int) -> bool:
    """stderr holds the two lines a log gets when stderr is not a terminal (cli/outputs.py), and nothing else."""
    start, done = err.splitlines()
    return start == f"mixsim {command}: {runs} simulation runs ..." and bool(
        re.fullmatch(rf"mixsim {command}: done, {runs} runs in [0-9.]+ s", done)
    )


def simulate_json(run_cli: RunCli, path: Path, *args: str) -> dict[str, Any]:
    code, out, err = run_cli("simulate", path, "--json", *FAST, *args)
    assert code == 0, err
    return json.loads(out)


def assert_figure(figure: Any, where: str) -> None:
    """``{"mean": x, "ci90": [lo, hi]}`` with lo <= x <= hi, or every part null."""
    assert isinstance(figure, dict) and set(figure) == {"mean", "ci90"}, where
    mean, ci90 = figure["mean"], figure["ci90"]
    assert isinstance(ci90, list) and len(ci90) == 2, where
    low, high = ci90
    if mean is None:
        assert low is None and high is None, f"{where}: a null mean with a non-null interval"
        return
    for x in (mean, low, high):
        assert isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x), where
    # The mean of a few replications lies inside their 5-95% range (not a law for 20+ replications; see report).
    slack = 1e-9 * max(1.0, abs(mean))
    assert low - slack <= mean <= high + slack, f"{where}: {figure}"


def planned(path: Path) -> dict[str, float]:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: float(c["spend"]) for name, c in doc["channels"].items()}


# --- --json: schema --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("replications", ["1", "3"])
def test_json_output_schema(run_cli: RunCli, scenario_file: Path, replications: str) -> None:
    doc = simulate_json(run_cli, scenario_file, "--incrementality", "-r", replications, "--seed", "5")
    assert {"scenario", "seed", "replications", "final_stages", "kpis", "channels"} <= set(doc)
    assert doc["scenario"] == "small" and doc["seed"] == 5 and doc["replications"] == int(replications)
    assert list(doc["final_stages"]) == list(STAGES)
    assert list(doc["kpis"]) == list(KPIS)
    assert list(doc["channels"]) == ["tv", "search", "email"], "channels in file order"
    for stage, fig in doc["final_stages"].items():
        assert_figure(fig, f"final_stages.{stage}")
    for kpi, fig in doc["kpis"].items():
        assert_figure(fig, f"kpis.{kpi}")
    plain = [m for m in CHANNEL_METRICS if m not in ATTRIBUTION]
    for name, entry in doc["channels"].items():
        assert {"spend", "unspent", "exposures", "reach", "frequency", "attributed", "incremental"} <= set(entry)
        assert set(entry) == {*plain, "attributed", "incremental"}
        assert set(entry["attributed"]) == set(ATTRIBUTION)
        assert set(entry["incremental"]) == set(INCREMENTAL_METRICS)
        for metric in plain:
            assert_figure(entry[metric], f"channels.{name}.{metric}")
        for group in ("attributed", "incremental"):
            for metric, fig in entry[group].items():
                assert_figure(fig, f"channels.{name}.{group}.{metric}")
    for section in ("touchpoints", "days_to_conversion"):
        for label, fig in doc.get(section, {}).items():
            assert_figure(fig, f"{section}.{label}")


def test_json_without_incrementality_has_no_incremental_block(run_cli: RunCli, scenario_file: Path) -> None:
    doc = simulate_json(run_cli, scenario_file, "-r", "1")
    assert all("incremental" not in entry for entry in doc["channels"].values())


def test_json_is_one_object_and_nothing_else(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("simulate", scenario_file, "--json", "-r", "2", *FAST)
    assert code == 0 and only_the_log(err, "simulate", 2), err
    decoder = json.JSONDecoder()
    doc, end = decoder.raw_decode(out)
    assert isinstance(doc, dict) and out[end:].strip() == ""
    assert "NaN" not in out and "Infinity" not in out


# --- --json: consistency (one replication, so every mean is that run's exact value) -----------------------------


def test_json_figures_are_consistent(run_cli: RunCli, scenario_file: Path) -> None:
    doc = simulate_json(run_cli, scenario_file, "-r", "1")
    data = tomllib.loads(scenario_file.read_text(encoding="utf-8"))
    econ = data["economics"]
    mean = {k: v["mean"] for k, v in doc["kpis"].items()}
    for fig in [*doc["kpis"].values(), *doc["final_stages"].values()]:
        assert fig["ci90"] == [fig["mean"], fig["mean"]], "one replication: the interval is the value"

    stages = {s: v["mean"] for s, v in doc["final_stages"].items()}
    assert sum(stages.values()) == data["scenario"]["population"]
    assert mean["conversions"] == stages["converted"] > 0
    assert mean["revenue"] == pytest.approx(mean["conversions"] * econ["order_value"], rel=1e-12)
    assert mean["profit"] == pytest.approx(mean["revenue"] * econ["margin"] - mean["spend"], rel=1e-12, abs=1e-9)
    assert mean["roas"] == pytest.approx(mean["revenue"] / mean["spend"], rel=1e-12)
    assert mean["roi"] == pytest.approx(mean["profit"] / mean["spend"], rel=1e-12)
    assert mean["cac"] == pytest.approx(mean["spend"] / mean["conversions"], rel=1e-12)

    channels = doc["channels"]
    plan = planned(scenario_file)
    fixed = sum(float(c.get("fixed_cost", 0.0)) for c in data["channels"].values() if c["spend"] > 0)
    media = sum(channels[name]["spend"]["mean"] for name in channels)
    assert mean["spend"] == pytest.approx(media + fixed, rel=1e-12), "KPI spend = media delivered + fixed costs"
    assert any(entry["unspent"]["mean"] > 0 for entry in channels.values()), "the caps should leave some unspent"
    for name, entry in channels.items():
        m = {k: v["mean"] for k, v in entry.items() if k not in ("attributed", "incremental")}
        assert m["spend"] + m["unspent"] == pytest.approx(plan[name], rel=1e-9), name
        assert m["spend"] >= 0 and m["unspent"] >= 0
        assert 0 < m["reach"] <= m["exposures"]
        assert m["frequency"] == pytest.approx(m["exposures"] / m["reach"], rel=1e-12)
        assert m["fixed_cost"] == float(data["channels"][name].get("fixed_cost", 0.0))

    # Every converted customer who was touched is credited exactly once by each attribution rule.
    credited = {rule: sum(e["attributed"][rule]["mean"] for e in channels.values()) for rule in ATTRIBUTION}
    assert credited["first_touch"] == credited["last_touch"]
    assert credited["linear"] == pytest.approx(credited["first_touch"], rel=1e-9)
    assert 0 < credited["first_touch"] <= mean["conversions"]
    assert sum(f["mean"] for f in doc["touchpoints"].values()) == mean["conversions"]
    assert sum(f["mean"] for f in doc["days_to_conversion"].values()) == credited["first_touch"]


def test_incremental_block_is_consistent(run_cli: RunCli, scenario_file: Path) -> None:
    doc = simulate_json(run_cli, scenario_file, "-r", "1", "--incrementality")
    order_value = tomllib.loads(scenario_file.read_text(encoding="utf-8"))["economics"]["order_value"]
    for name, entry in doc["channels"].items():
        inc = {k: v["mean"] for k, v in entry["incremental"].items()}
        assert inc["revenue"] == pytest.approx(inc["conversions"] * order_value, rel=1e-12), name
        # Incremental ROAS is per dollar the channel delivered.
        assert inc["roas"] == pytest.approx(inc["revenue"] / entry["spend"]["mean"], rel=1e-12), name
        assert inc["conversions"] <= doc["kpis"]["conversions"]["mean"]


# --- reproducibility -------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_json(run_cli: RunCli, scenario_file: Path) -> None:
    args = ("simulate", scenario_file, "--json", "-r", "3", "--seed", "11", *FAST)
    first, second = run_cli(*args), run_cli(*args)
    assert first[0] == second[0] == 0 and first[1] == second[1]  # stdout; a log's lines on stderr carry wall times


def test_workers_do_not_change_the_result(run_cli: RunCli, scenario_file: Path) -> None:
    base = ("simulate", scenario_file, "--json", "-r", "3", "--seed", "2", "--incrementality")
    one = run_cli(*base, "--workers", "1")
    two = run_cli(*base, "--workers", "2")
    assert one[0] == 0 and one[1] == two[1]


def test_different_seeds_differ(run_cli: RunCli, scenario_file: Path) -> None:
    a = simulate_json(run_cli, scenario_file, "-r", "2", "--seed", "1")
    b = simulate_json(run_cli, scenario_file, "-r", "2", "--seed", "2")
    assert a["seed"] == 1 and b["seed"] == 2
    assert a["final_stages"] != b["final_stages"]


def test_default_seed_is_the_scenarios(run_cli: RunCli, scenario_file: Path) -> None:
    implicit = simulate_json(run_cli, scenario_file, "-r", "2")
    explicit = simulate_json(run_cli, scenario_file, "-r", "2", "--seed", "3")  # scenario.seed = 3
    assert implicit == explicit and implicit["seed"] == 3


# --- --set -----------------------------------------------------------------------------------------------------


def test_set_zero_spend_switches_a_channel_off(run_cli: RunCli, scenario_file: Path) -> None:
    before = simulate_json(run_cli, scenario_file, "-r", "1")
    after = simulate_json(run_cli, scenario_file, "-r", "1", "--set", "channels.tv.spend=0")
    assert before["channels"]["tv"]["exposures"]["mean"] > 0
    tv = after["channels"]["tv"]
    for metric in ("spend", "unspent", "exposures", "reach", "fixed_cost"):
        assert tv[metric]["mean"] == 0, metric
    assert tv["frequency"]["mean"] is None, "frequency of nobody reached is undefined"
    assert after["kpis"]["spend"]["mean"] < before["kpis"]["spend"]["mean"]


def test_set_takes_toml_values_for_any_key(run_cli: RunCli, scenario_file: Path) -> None:
    doc = simulate_json(
        run_cli,
        scenario_file,
        "-r",
        "1",
        "--set",
        "scenario.name=Spring push",  # not TOML: taken as text
        "--set",
        "scenario.population=1500",
        "--set",
        "economics.order_value=80",
        "--set",
        "funnel.half_life_days={aware = 5}",
    )
    assert doc["scenario"] == "Spring push"
    assert sum(v["mean"] for v in doc["final_stages"].values()) == 1500
    kpis = doc["kpis"]
    assert kpis["revenue"]["mean"] == pytest.approx(80 * kpis["conversions"]["mean"], rel=1e-12)


def test_later_set_wins(run_cli: RunCli, scenario_file: Path) -> None:
    doc = simulate_json(
        run_cli, scenario_file, "-r", "1", "--set", "channels.tv.spend=0", "--set", "channels.tv.spend=500"
    )
    assert doc["channels"]["tv"]["spend"]["mean"] + doc["channels"]["tv"]["unspent"]["mean"] == pytest.approx(500)


def test_invalid_set_is_reported_as_the_set(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("simulate", scenario_file, *FAST, "--set", "channels.tv.cpm=-3")
    assert code == 2 and out == ""
    # The file does not hold -3: the message names the --set that gave it.
    assert err.splitlines() == ["--set 'channels.tv.cpm=-3': must be > 0 (got -3)"]


def test_every_bad_set_is_reported_at_once(run_cli: RunCli, scenario_file: Path) -> None:
    code, _, err = run_cli(
        "validate", scenario_file, "--set", "channels.tv.cpm=-3", "--set", "economics.margin=2", "--set", "a..b=1"
    )
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert any("--set 'channels.tv.cpm=-3': must be > 0" in line for line in lines)
    assert any("--set 'economics.margin=2': must be in [0, 1] (got 2)" in line for line in lines)
    assert any("'a..b=1'" in line for line in lines)


@pytest.mark.parametrize("override", ["=3", "a..b=1", "channels tv.spend=1"])
def test_malformed_set_exits_2(run_cli: RunCli, scenario_file: Path, override: str) -> None:
    code, out, err = run_cli("simulate", scenario_file, *FAST, "--set", override)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"--set {override!r}: expected dotted.key=VALUE (a dotted key of letters, digits, '_' and '-', then '=' and "
        "a TOML value)"
    ]


def test_misspelt_channel_in_set_gets_a_hint(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("simulate", scenario_file, *FAST, "--set", "channels.serch.spend=10")
    assert code == 2 and out == ""
    assert "channels.serch: no such channel; did you mean 'search'?" in err
    assert len(err.splitlines()) == 1


def test_misspelt_key_in_set_gets_a_hint(run_cli: RunCli, scenario_file: Path) -> None:
    code, _, err = run_cli("validate", scenario_file, "--set", "channels.tv.cmp=3")
    assert code == 2
    assert "--set 'channels.tv.cmp=3': unknown key; did you mean 'cpm'?" in err


def test_validate_applies_set(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("validate", scenario_file, "--set", "scenario.population=1234")
    assert code == 0 and err == ""
    assert "ok" in out and "1,234" in out and "3 channels" in out and "2 segments" in out


# --- exit codes and messages -----------------------------------------------------------------------------------


def expectations(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [m[1].strip() for line in lines if (m := re.match(r"#\s*expect:\s*(.+)$", line))]


def test_there_are_broken_examples() -> None:
    assert len(BROKEN) >= 10
    assert all(expectations(p) for p in BROKEN), "every broken example states its expected messages"


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_validate_reports_each_broken_example(run_cli: RunCli, path: Path) -> None:
    code, out, err = run_cli("validate", path)
    expected = expectations(path)
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    for text in expected:
        assert text in err, f"{path.name}: expected {text!r} in:\n{err}"
    lines = err.splitlines()
    assert len(lines) == len(expected), f"one line per problem:\n{err}"
    assert all(line.startswith(f"{path}: ") for line in lines), err


@pytest.mark.parametrize("path", BROKEN[:3], ids=lambda p: p.stem)
def test_simulate_refuses_broken_examples_too(run_cli: RunCli, path: Path) -> None:
    code, out, err = run_cli("simulate", path, *FAST, "--json")
    assert code == 2 and out == "" and expectations(path)[0] in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replications", "0"], "--replications/-r: must be >= 1 (got 0)"),
        (["-r", "two"], "must be an integer (got 'two')"),
        (["--workers", "0"], "--workers/-w: must be >= 1 (got 0)"),
        (["--seed", "-1"], "--seed: must be >= 0 (got -1)"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_arguments_exit_2(run_cli: RunCli, scenario_file: Path, args: list[str], message: str) -> None:
    code, out, err = run_cli("simulate", scenario_file, *args)
    assert code == 2 and out == ""
    assert message in err


def test_missing_file_exits_2(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    for command in ("simulate", "validate"):
        code, out, err = run_cli(command, missing)
        assert code == 2 and out == ""
        assert err.splitlines() == [f"{missing}: file not found"]


def test_directory_instead_of_file_exits_2(run_cli: RunCli, tmp_path: Path) -> None:
    code, _, err = run_cli("simulate", tmp_path)
    assert code == 2
    assert err.splitlines() == [f"{tmp_path}: is a directory, not a scenario file"]


def test_no_command_exits_2(run_cli: RunCli) -> None:
    code, _, err = run_cli()
    assert code == 2 and "COMMAND" in err


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "scenarios").glob("*.toml")))
def test_validate_shipped_scenario(run_cli: RunCli, repo_root: Path, name: str) -> None:
    path = repo_root / "scenarios" / name
    code, out, err = run_cli("validate", path)
    assert code == 0 and err == ""
    assert out.startswith(f"{path}: ok")


def test_schema_prints_a_json_schema(run_cli: RunCli) -> None:
    code, out, err = run_cli("schema")
    assert code == 0 and err == ""
    schema = json.loads(out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"scenario", "economics", "channels"} <= set(schema["properties"])
    assert {"scenario", "economics", "channels"} <= set(schema["required"])


def test_version(run_cli: RunCli) -> None:
    from mixsim import __version__

    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"mixsim {__version__}"


def _mixsim_command() -> list[str]:
    script = Path(sys.executable).with_name("mixsim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mixsim.cli"]


def test_real_process_exit_codes(scenario_file: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MIXSIM_DEBUG"}  # a traceback must not be asked for

    def call(*args: str | Path, module: bool = False) -> subprocess.CompletedProcess[str]:
        head = [sys.executable, "-m", "mixsim.cli"] if module else _mixsim_command()
        argv = [*head, *map(str, args)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, check=False)

    ok = call("simulate", scenario_file, "--json", "-r", "2", "-w", "1")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["replications"] == 2
    assert only_the_log(ok.stderr, "simulate", 2), "no progress bar when stderr is not a terminal: two lines"

    bad = call("simulate", scenario_file, "--set", "channels.tv.cpm=-3", module=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip() == "--set 'channels.tv.cpm=-3': must be > 0 (got -3)"

    invalid: list[list[str | Path]] = [["simulate", tmp_path / "missing.toml"], ["simulate", scenario_file, "-r", "0"]]
    for args in invalid:
        proc = call(*args)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.strip()


# --- the readable report ---------------------------------------------------------------------------------------


def test_table_report_names_every_channel_and_kpi(run_cli: RunCli, scenario_file: Path) -> None:
    code, out, err = run_cli("simulate", scenario_file, "-r", "2", *FAST, "--incrementality")
    assert code == 0 and only_the_log(err, "simulate", 2 * (1 + 2 * 3)), err
    assert out.startswith("small: 2,000 customers, 20 days, 2 replications, seed 3")
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for kpi in KPIS:
        assert kpi in rows, kpi
    for channel in ("tv", "search", "email"):
        assert channel in rows, channel
        assert len(rows[channel].split()) == 1 + 8 + 3, rows[channel]
    for stage in STAGES:
        assert stage in out
    assert "iROAS" in out and "mROAS" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_table_report_says_na_for_undefined_figures(run_cli: RunCli, scenario_file: Path) -> None:
    zero = [f"--set=channels.{c}.spend=0" for c in ("tv", "search", "email")]
    code, out, _ = run_cli("simulate", scenario_file, "-r", "1", *FAST, *zero)
    assert code == 0
    roas = next(line for line in out.splitlines() if line.startswith("roas"))
    assert "n/a" in roas and "nan" not in out.lower().replace("n/a", "")


# --- --out -----------------------------------------------------------------------------------------------------

CSV_FILES = {f"{t}.csv" for t in TABLES}


def test_out_writes_tables_and_summary(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    import pandas as pd

    out_dir = tmp_path / "results" / "nested"
    code, out, err = run_cli(
        "simulate", scenario_file, "-r", "2", *FAST, "--json", "--incrementality", "--out", out_dir
    )
    assert code == 0, err
    assert CSV_FILES == {
        "kpis.csv",
        "channels.csv",
        "daily.csv",
        "final_stages.csv",
        "touchpoints.csv",
        "days_to_conversion.csv",
        "runs.csv",
    }
    assert {p.name for p in out_dir.iterdir()} == {*CSV_FILES, "summary.json", *FIGURES}, "no temporary files left"
    assert (out_dir / "funnel.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (out_dir / "funnel.svg").read_bytes()[:500]
    assert (out_dir / "summary.json").read_text(encoding="utf-8") == out, "summary.json is the --json output"

    horizon, n_channels = 20, 3
    daily = pd.read_csv(out_dir / "daily.csv")
    assert list(daily.columns) == ["day", "quantity", "mean", "ci90_low", "ci90_high"]
    assert len(daily) == horizon * (len(STAGES) + 2 * n_channels)
    assert set(daily["day"]) == set(range(horizon))
    kpis = pd.read_csv(out_dir / "kpis.csv")
    assert list(kpis["kpi"]) == list(KPIS)
    summary = json.loads(out)
    for kpi, mean in zip(kpis["kpi"], kpis["mean"], strict=True):
        expected = summary["kpis"][kpi]["mean"]
        assert mean == pytest.approx(expected, rel=1e-12) if expected is not None else math.isnan(mean)
    channels = pd.read_csv(out_dir / "channels.csv")
    assert len(channels) == n_channels * (len(CHANNEL_METRICS) + len(INCREMENTAL_METRICS))
    runs = pd.read_csv(out_dir / "runs.csv")
    assert list(runs.columns) == ["replication", *KPIS] and len(runs) == 2
    stages = pd.read_csv(out_dir / "final_stages.csv")
    assert stages["mean"].sum() == pytest.approx(2000)


def test_out_without_json_prints_the_report(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    code, out, _ = run_cli("simulate", scenario_file, "-r", "1", *FAST, "--out", tmp_path / "o")
    assert code == 0
    assert f"Tables written to {tmp_path / 'o'}/" in out
    assert {p.name for p in (tmp_path / "o").iterdir()} == {*CSV_FILES, "summary.json", *FIGURES}


def test_out_overwrites_a_previous_run(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "o"
    run_cli("simulate", scenario_file, "-r", "1", *FAST, "--out", out_dir, "--seed", "1")
    code, _, _ = run_cli("simulate", scenario_file, "-r", "1", *FAST, "--out", out_dir, "--seed", "2", "--json")
    assert code == 0
    assert json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))["seed"] == 2
    assert {p.name for p in out_dir.iterdir()} == {*CSV_FILES, "summary.json", *FIGURES}


def test_out_that_is_a_file_is_invalid_input(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    code, _, err = run_cli("simulate", scenario_file, "-r", "1", *FAST, "--out", target)
    assert code == 2
    assert "unexpected" not in err and str(target) in err


# --- atomic writes ---------------------------------------------------------------------------------------------


def test_write_atomic_writes_whole_text(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "file.csv"
    text = "a,b\n1,2\r\n€\n"
    assert _files.write_atomic(target, text) == target
    assert target.read_bytes() == text.encode("utf-8"), "no newline translation, UTF-8"
    assert [p.name for p in target.parent.iterdir()] == ["file.csv"]


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_interrupted_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    target = tmp_path / "summary.json"
    target.write_text("old", encoding="utf-8")

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_files.os, where, interrupt)
    with pytest.raises(KeyboardInterrupt):
        _files.write_atomic(target, "new" * 10_000)
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"], "the temporary file is removed"


def test_interrupted_write_of_a_new_file_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_files.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        _files.write_atomic(tmp_path / "kpis.csv", "x")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_interrupted_cli_run_says_so(
    run_cli: RunCli, scenario_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    (out_dir / "kpis.csv").write_text("old", encoding="utf-8")

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_files.os, "replace", interrupt)
    code, _, err = run_cli("simulate", scenario_file, "-r", "1", *FAST, "--out", out_dir)
    monkeypatch.undo()
    assert code == 130
    assert "interrupted" in err and "Traceback" not in err
    assert [p.name for p in out_dir.iterdir()] == ["kpis.csv"]
    assert (out_dir / "kpis.csv").read_text(encoding="utf-8") == "old"


def test_csv_outputs_are_streamed_atomically(tmp_path: Path) -> None:
    import pandas as pd

    from mixsim._files import write_csv

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y,z", "é"]})
    target = write_csv(tmp_path / "out" / "t.csv", frame)
    assert target.read_bytes() == frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["t.csv"]  # no temporary file left


def test_journeys_command_refuses_a_sample_that_follows_no_one(scenario_file: Path, run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli(
        "journeys", scenario_file, "--set", "scenario.population=3", "--sample", "0.01", "--out", tmp_path / "j"
    )
    assert code == 2 and "followed no one" in err and "--sample" in err
    assert not (tmp_path / "j" / "paths.csv").exists()


def test_numerical_warnings_never_reach_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    """A numpy warning raised during a command (overflow, 0/0) is not printed; the command's own lines say what
    is wrong. Under MIXSIM_DEBUG it is shown."""
    import importlib
    import warnings

    import numpy as np

    entry = importlib.import_module("mixsim.cli.main")  # the module (mixsim.cli.main is also the function's name)

    def noisy(words: list[str]) -> int:
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        return 0

    monkeypatch.setattr(entry, "_run", noisy)
    monkeypatch.delenv("MIXSIM_DEBUG", raising=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert entry.main(["validate", "x.toml"]) == 0
    assert [w for w in seen if issubclass(w.category, RuntimeWarning)] == []
    monkeypatch.setenv("MIXSIM_DEBUG", "1")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert entry.main(["validate", "x.toml"]) == 0
    assert any(issubclass(w.category, RuntimeWarning) for w in seen)
