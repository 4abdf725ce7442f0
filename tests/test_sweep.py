"""Sweeps: cells as described, identical results on every executor, and nothing lost or written twice when a sweep
is interrupted, a worker is killed or the same folder is run again."""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mixsim.errors import MixsimError
from mixsim.executors import open_executor
from mixsim.scenario import Scenario
from mixsim.sweep import Sweep, describe, read_grid, read_sweep, run_sweep

RunCli = Callable[..., tuple[int, str, str]]

GRID = {"grid": {"channels.tv.spend": [1000, 2000, 3000], "funnel.synergy": [0.0, 0.3]}, "sweep": {"replications": 2}}


@pytest.fixture
def sweep(make_scenario: Callable[..., Scenario]) -> Sweep:
    return describe(make_scenario(), GRID, seed=5)


@pytest.fixture
def reference(sweep: Sweep, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return run_sweep(sweep, tmp_path_factory.mktemp("reference") / "out")


def results(table: pd.DataFrame) -> pd.DataFrame:
    """The table without the mixsim version (everything else must match exactly)."""
    return table.drop(columns=["version"]).reset_index(drop=True)


def test_grid_cells_are_every_combination_in_order(sweep: Sweep) -> None:
    assert sweep.keys == ("channels.tv.spend", "funnel.synergy")
    assert [tuple(c.values()) for c in sweep.cells] == [
        (1000, 0.0), (1000, 0.3), (2000, 0.0), (2000, 0.3), (3000, 0.0), (3000, 0.3)
    ]  # fmt: skip
    assert [s.channel("tv").spend for s in sweep.scenarios] == [1000, 1000, 2000, 2000, 3000, 3000]
    assert [s.funnel.synergy for s in sweep.scenarios] == [0.0, 0.3] * 3
    assert sweep.replications == 2 and sweep.seed == 5


def test_sample_cells_are_reproducible_and_in_range(make_scenario: Callable[..., Scenario]) -> None:
    grid = {"sample": {"cells": 40, "seed": 3, "ranges": {"channels.tv.spend": [500.0, 4000.0]},
                       "choices": {"funnel.synergy": [0.0, 0.1, 0.3]}}}  # fmt: skip
    one, two = describe(make_scenario(), grid), describe(make_scenario(), grid)
    assert one.cells == two.cells and one.sweep_id == two.sweep_id
    spends = np.array([c["channels.tv.spend"] for c in one.cells])
    assert spends.min() >= 500 and spends.max() <= 4000 and len(set(spends)) == 40
    assert {c["funnel.synergy"] for c in one.cells} == {0.0, 0.1, 0.3}
    other = describe(make_scenario(), {"sample": {**grid["sample"], "seed": 4}})
    assert other.cells != one.cells and other.sweep_id != one.sweep_id


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"grid": {"channels.tvv.spend": [1]}},
         "cell 0 (channels.tvv.spend=1): replace 'channels.tvv.spend': channels.tvv: no such channel; did you mean"),
        ({"grid": {"funnel.synergy": [0.1, -1.0]}}, "cell 1 (funnel.synergy=-1.0): small.toml: funnel.synergy: must"),
        ({"grid": {"funnel.synergy": []}}, "grid.funnel.synergy: must be a non-empty list"),
        ({"grid": {"funnel.synergy": [0.1]}, "sweep": {"replications": 0}}, "sweep.replications: must be an integer"),
        ({"sample": {"cells": 0, "ranges": {"funnel.synergy": [0, 1]}}}, "sample.cells: must be an integer >= 1"),
        ({"sample": {"cells": 3, "ranges": {"funnel.synergy": [1, 0]}}}, "sample.ranges.funnel.synergy: must be [low"),
    ],
)  # fmt: skip
def test_bad_grids_are_refused_before_any_work(
    make_scenario: Callable[..., Scenario], grid: dict[str, object], message: str
) -> None:
    with pytest.raises(MixsimError) as caught:
        describe(make_scenario(), grid, source="grid.toml")
    assert any(message in line for line in caught.value.problems), caught.value.problems
    assert all(line.startswith("grid.toml: ") for line in caught.value.problems)


def test_grid_file_must_have_one_kind_of_cells(tmp_path: Path) -> None:
    path = tmp_path / "g.toml"
    path.write_text("[grid]\nx = [1]\n[sample]\ncells = 2\n[extra]\n", encoding="utf-8")
    with pytest.raises(MixsimError) as caught:
        read_grid(path)
    assert any("unknown table(s) extra" in p for p in caught.value.problems)
    assert any("exactly one of [grid]" in p for p in caught.value.problems)
    with pytest.raises(MixsimError, match="no such grid file"):
        read_grid(tmp_path / "missing.toml")


def test_a_grid_file_is_read_as_a_scenario_file_is(tmp_path: Path) -> None:
    """Size, devices and nesting bounded, a byte-order mark skipped: a grid file cannot crash or exhaust the reader."""
    marked = tmp_path / "marked.toml"
    marked.write_bytes(b"\xef\xbb\xbf[grid]\nx = [1, 2]\n")
    assert read_grid(marked) == {"grid": {"x": [1, 2]}}
    deep = tmp_path / "deep.toml"
    deep.write_text("[grid]\nx = " + "[" * 5_000 + "]" * 5_000 + "\n", encoding="utf-8")
    with pytest.raises(MixsimError, match="nested too deeply"):
        read_grid(deep)
    with pytest.raises(MixsimError, match="/dev/zero"):
        read_grid("/dev/zero")


def test_a_row_per_cell_with_the_values_and_figures(sweep: Sweep, reference: pd.DataFrame) -> None:
    assert list(reference["cell"]) == list(range(6))
    assert reference["cell_id"].is_unique and set(reference["sweep_id"]) == {sweep.sweep_id}
    assert list(reference["channels.tv.spend"]) == [1000, 1000, 2000, 2000, 3000, 3000]
    assert (reference["seed"] == 5).all() and (reference["replications"] == 2).all()
    assert (reference["conversions_low"] <= reference["conversions"]).all()
    assert (reference["conversions"] <= reference["conversions_high"]).all()
    # Each cell is exactly a simulation of its scenario with the sweep's seed.
    from mixsim.simulation import simulate

    check = simulate(sweep.scenarios[3], seed=5, replications=2)
    assert reference.loc[3, "conversions"] == check.kpi_values()["conversions"].mean()
    assert reference.loc[3, "tv.spend"] == pytest.approx(check.channel_values()["spend"][:, 0].mean())
    # Common random numbers: synergy only adds conversions, cell by cell.
    assert (reference["conversions"].to_numpy()[1::2] >= reference["conversions"].to_numpy()[::2]).all()


def test_the_same_on_a_process_pool(sweep: Sweep, reference: pd.DataFrame, tmp_path: Path) -> None:
    with open_executor(2) as pool:
        table = run_sweep(sweep, tmp_path / "out", executor=pool)
    pd.testing.assert_frame_equal(results(table), results(reference))


@pytest.mark.slow
def test_the_same_on_a_local_dask_cluster(sweep: Sweep, reference: pd.DataFrame, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    with open_executor(2, "local") as client:
        table = run_sweep(sweep, tmp_path / "out", executor=client)
    pd.testing.assert_frame_equal(results(table), results(reference))


def test_an_interrupted_sweep_resumes_to_the_same_table(sweep: Sweep, reference: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seen: list[int] = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, out, progress=interrupt)
    assert list(read_sweep(out)["cell"]) == [0, 1]  # finished cells are kept, nothing else
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
    counts: list[int] = []
    table = run_sweep(sweep, out, progress=lambda done, total: counts.append(done))
    assert counts[0] == 2 and counts[-1] == 6  # resumed from the two saved cells
    pd.testing.assert_frame_equal(results(table), results(reference))
    assert len(list(out.glob("cell-*.parquet"))) == 6  # no cell written twice


def test_a_killed_worker_loses_nothing(sweep: Sweep, reference: pd.DataFrame, tmp_path: Path) -> None:
    out = tmp_path / "out"
    pool = cf.ProcessPoolExecutor(max_workers=2)

    def kill_a_worker(done: int, total: int) -> None:
        if done == 1:
            victim = next(iter(pool._processes))  # a worker process of the pool
            os.kill(victim, signal.SIGKILL)

    try:
        with pytest.raises(cf.process.BrokenProcessPool):
            run_sweep(sweep, out, executor=pool, progress=kill_a_worker)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    saved = read_sweep(out)
    assert 1 <= len(saved) < 6
    pd.testing.assert_frame_equal(
        results(saved), results(reference[reference["cell"].isin(saved["cell"])]), check_like=False
    )
    with open_executor(2) as fresh:
        table = run_sweep(sweep, out, executor=fresh)
    pd.testing.assert_frame_equal(results(table), results(reference))


@pytest.mark.slow
def test_a_killed_dask_worker_loses_nothing(sweep: Sweep, reference: pd.DataFrame, tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            pids = list(client.run(os.getpid).values())

            def kill_a_worker(done: int, total: int) -> None:
                if done == 1:
                    os.kill(pids[0], signal.SIGKILL)  # its nanny restarts it; the scheduler reruns its tasks

            table = run_sweep(sweep, tmp_path / "out", executor=client.get_executor(pure=False), progress=kill_a_worker)
    pd.testing.assert_frame_equal(results(table), results(reference))


def test_another_sweep_in_the_same_folder_is_refused(
    make_scenario: Callable[..., Scenario], reference: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run_sweep(describe(make_scenario(), {"grid": {"funnel.synergy": [0.0]}, "sweep": {"replications": 1}}), out)
    with pytest.raises(MixsimError, match="holds results of a different sweep"):
        run_sweep(describe(make_scenario(), {"grid": {"funnel.synergy": [0.0]}, "sweep": {"replications": 2}}), out)


def test_reading_ignores_temporary_files_and_keeps_one_row_per_cell(sweep: Sweep, tmp_path: Path) -> None:
    out = tmp_path / "out"
    table = run_sweep(describe(sweep.base, {"grid": {"funnel.synergy": [0.0, 0.1]}, "sweep": {"replications": 1}}), out)
    first = next(out.glob("cell-000000-*.parquet"))
    shutil.copy(first, out / "cell-000000-copy.parquet")  # the same cell saved twice (two runs racing)
    (out / ".cell-000001-x.parquet.tmp").write_bytes(b"half a file")  # what an interrupted write leaves at most
    again = read_sweep(out)
    pd.testing.assert_frame_equal(again, table)
    assert pd.read_parquet(first)["cell"].tolist() == [0]


def test_cli_sweep_resume_and_refusals(scenario_file: Path, run_cli: RunCli, tmp_path: Path) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text('[grid]\n"funnel.synergy" = [0.0, 0.2]\n[sweep]\nreplications = 2\n', encoding="utf-8")
    out = tmp_path / "results.parquet"
    code, text, err = run_cli("sweep", scenario_file, "--grid", grid, "--out", out, "-w", "1")
    assert code == 0, err
    assert "2 cells" in text and len(read_sweep(out)) == 2
    code, text, err = run_cli("sweep", scenario_file, "--grid", grid, "--out", out, "-w", "1")
    assert code == 0 and "2 cells" in text  # nothing left to do: the same table
    code, _, err = run_cli("sweep", scenario_file, "--grid", grid, "--out", out, "-w", "1", "-r", "3")
    assert code == 2 and "different sweep" in err
    grid.write_text('[grid]\n"funnel.synergy" = [-5]\n', encoding="utf-8")
    code, _, err = run_cli("sweep", scenario_file, "--grid", grid, "--out", tmp_path / "other", "-w", "1")
    assert code == 2 and "cell 0 (funnel.synergy=-5)" in err and "Traceback" not in err


def test_cli_refuses_a_run_bigger_than_the_memory(scenario_file: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("simulate", scenario_file, "--set", "scenario.population=50000000000", "-w", "1")
    assert code == 2 and out == ""
    assert "needs about" in err and "available" in err and "--workers" in err


def test_scheduler_without_dask_says_how_to_install(
    scenario_file: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the extra were not installed
    code, _, err = run_cli("simulate", scenario_file, "--scheduler", "local", "-r", "1")
    assert code == 2 and "pip install 'mixsim[dask]'" in err
    monkeypatch.setenv("MIXSIM_SCHEDULER", "somewhere")
    code, _, err = run_cli("simulate", scenario_file, "-r", "1")
    assert code == 2 and "$MIXSIM_SCHEDULER must be 'local' or an address" in err


@pytest.mark.slow
def test_simulate_on_a_local_dask_cluster_prints_the_same_json(scenario_file: Path, run_cli: RunCli) -> None:
    pytest.importorskip("dask.distributed")
    code, here, err = run_cli("simulate", scenario_file, "-r", "4", "-w", "1", "--incrementality", "--json")
    assert code == 0, err
    code, there, err = run_cli(
        "simulate", scenario_file, "-r", "4", "-w", "2", "--scheduler", "local", "--incrementality", "--json"
    )
    assert code == 0, err
    assert there == here


def test_cells_can_be_optimized_too(make_scenario: Callable[..., Scenario], tmp_path: Path) -> None:
    grid = {"grid": {"funnel.synergy": [0.0, 0.3]}, "sweep": {"replications": 1, "optimize": True}}
    sweep = describe(make_scenario(), grid, seed=2)
    table = run_sweep(sweep, tmp_path / "out")
    assert list(table["optimized.status"]) == ["optimal", "optimal"]
    spends = table[[f"optimized.{c}.spend" for c in sweep.base.channel_names]].sum(axis=1)
    assert (spends <= sweep.base.budget.total + 1e-6).all()  # each world's plan within its budget
    assert (table["optimized.revenue"] > 0).all()
    # pandas reads the dataset folder directly too.
    assert len(pd.read_parquet(tmp_path / "out")) == 2


def test_same_resolved_scenarios_same_sweep_and_types_settled(make_scenario: Callable[..., Scenario]) -> None:
    base = make_scenario()
    ints = describe(base, {"grid": {"funnel.synergy": [0, 0.1]}})
    floats = describe(base, {"grid": {"funnel.synergy": [0.0, 0.1]}})
    assert ints.sweep_id == floats.sweep_id  # 0 and 0.0 make the same scenarios
    assert [type(c["funnel.synergy"]) for c in ints.cells] == [float, float]  # one column type in every file
    explicit = make_scenario(f"budget.total={base.budget.total}")  # the default written out: the same scenario
    assert describe(explicit, {"grid": {"funnel.synergy": [0.0, 0.1]}}).sweep_id == floats.sweep_id
    # A change that resolves differently in the cells is a different sweep, even from an equal base.
    assert (
        describe(base, {"grid": {"channels.tv.spend": [4000]}}).sweep_id
        != describe(explicit, {"grid": {"channels.tv.spend": [4000]}}).sweep_id
    )


def test_integer_ranges_draw_integers_and_seed_cannot_vary(make_scenario: Callable[..., Scenario]) -> None:
    grid = {"sample": {"cells": 5, "ranges": {"scenario.population": [1000, 3000]}}}
    sweep = describe(make_scenario(), grid)
    assert all(isinstance(c["scenario.population"], int) for c in sweep.cells)
    assert all(1000 <= s.population <= 3000 for s in sweep.scenarios)
    with pytest.raises(MixsimError, match=r"scenario.seed: every cell runs on the sweep's seed"):
        describe(make_scenario(), {"grid": {"scenario.seed": [1, 2]}})
    with pytest.raises(MixsimError, match=r"sweep: unknown key.s. replication "):
        describe(make_scenario(), {"grid": {"funnel.synergy": [0.1]}, "sweep": {"replication": 1}})
    with pytest.raises(MixsimError, match=r"sample.ranges: must be a table"):
        describe(make_scenario(), {"sample": {"cells": 2, "ranges": "x"}})


def test_a_folder_with_other_or_damaged_files_is_refused(sweep: Sweep, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "README.txt").write_text("notes", encoding="utf-8")
    with pytest.raises(MixsimError, match=r"holds other files .README.txt.: a sweep needs a folder of its own"):
        run_sweep(sweep, other)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "cell-000003-x.parquet").write_bytes(b"")
    with pytest.raises(MixsimError, match=r"cell-000003-x.parquet: not a readable cell"):
        run_sweep(sweep, damaged)


def test_nothing_starts_before_the_input_is_checked(run_cli: RunCli, tmp_path: Path) -> None:
    # An unreachable scheduler is only contacted once there is work: a missing file is reported at once.
    code, _, err = run_cli("simulate", tmp_path / "missing.toml", "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2 and "file not found" in err and "scheduler" not in err


def test_the_memory_check_counts_runs_not_workers(scenario_file: Path, run_cli: RunCli) -> None:
    # Two hundred workers, one run: only one run is ever in memory at once.
    code, _, err = run_cli("simulate", scenario_file, "-r", "1", "-w", "200", "--json")
    assert code == 0, err


def test_grid_and_folder_problems_are_input_errors_in_library_terms(
    make_scenario: Callable[..., Scenario], sweep: Sweep, tmp_path: Path
) -> None:
    from mixsim.errors import InputError, ScenarioError

    bad = tmp_path / "g.toml"
    bad.write_text("[grid\n", encoding="utf-8")
    for call in (
        lambda: read_grid(tmp_path / "missing.toml"),
        lambda: read_grid(bad),
        lambda: describe(make_scenario(), {"grid": {"funnel.synergy": [-1.0]}}, source="g.toml"),
        lambda: describe(make_scenario(), {"grid": {"scenario.seed": [1, 2]}}),
        lambda: describe(make_scenario(), {"grid": {"funnel.synergy": [0.1]}}, seed=-1),
    ):
        with pytest.raises(InputError) as caught:
            call()
        assert not isinstance(caught.value, ScenarioError)  # the grid is at fault, not the scenario
        assert all("--" not in line for line in caught.value.problems), caught.value.problems
    out = tmp_path / "out"
    run_sweep(describe(make_scenario(), {"grid": {"funnel.synergy": [0.0]}, "sweep": {"replications": 1}}), out)
    with pytest.raises(InputError, match="choose another folder") as caught:
        run_sweep(sweep, out)
    assert "--out" not in str(caught.value)


def test_a_described_sweep_has_a_table_json_and_a_summary(sweep: Sweep) -> None:
    import json

    from mixsim import __version__

    frame = sweep.to_frame()
    assert list(frame.columns) == ["cell", "cell_id", "channels.tv.spend", "funnel.synergy"]
    assert list(frame["cell"]) == list(range(6)) and list(frame["cell_id"]) == [sweep.cell_id(i) for i in range(6)]
    assert list(frame["channels.tv.spend"]) == [1000, 1000, 2000, 2000, 3000, 3000]
    doc = json.loads(sweep.to_json())
    assert doc["seed"] == 5 and doc["replications"] == 2 and doc["version"] == __version__ == sweep.version
    assert doc["sweep_id"] == sweep.sweep_id and doc["keys"] == list(sweep.keys)
    assert [c["funnel.synergy"] for c in doc["cells"]] == [0.0, 0.3] * 3
    html = sweep._repr_html_()
    assert sweep.sweep_id in html and "6 cells" in html and "seed 5" in html
