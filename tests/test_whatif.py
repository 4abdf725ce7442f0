"""What-if comparisons: common random numbers make differences the effect of the change, with known answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mixsim.scenario import Scenario
from mixsim.whatif import compare, optimized, vary

RunCli = Callable[..., tuple[int, str, str]]


def row(frame: Any, **where: str) -> Any:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in where.items():
        mask &= frame[key] == value
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


def test_doubling_a_price_halves_the_exposures(make_scenario: Callable[..., Scenario]) -> None:
    """tv can always place its exposures (no cap, a large reach): at twice the CPM the same spend buys half."""
    base = make_scenario()
    result = compare(base, vary(base, {"channels.tv.cpm": ["40"]}), seed=4, replications=4)
    channels = result.to_frame("channels")
    now = row(channels, variant="base", channel="tv", metric="exposures")["mean"]
    doubled = row(channels, variant="channels.tv.cpm=40", channel="tv", metric="exposures")["mean"]
    # Exposures are rounded stochastically each day: half, within a day's rounding per day of the horizon.
    assert doubled == pytest.approx(now / 2, abs=base.horizon_days)
    assert row(channels, variant="channels.tv.cpm=40", channel="tv", metric="exposures")["distinguishable"]


def test_a_channel_without_effect_changes_nothing(make_scenario: Callable[..., Scenario]) -> None:
    """With no memory and no synergy a touch that moves no one is inert; with the same random numbers the
    variant's outcome is the base's, replication by replication, and its difference interval is exactly 0."""
    base = make_scenario(
        "funnel.half_life_days={}", "funnel.synergy=0", "channels.tv.p_aware=0", "channels.tv.p_consider=0"
    )
    result = compare(base, vary(base, {"channels.tv.spend": ["4000"]}), seed=2, replications=5)
    kpis = result.to_frame("kpis")
    conversions = row(kpis, variant="channels.tv.spend=4000", kpi="conversions")
    assert conversions["diff"] == conversions["diff_low"] == conversions["diff_high"] == 0.0
    assert not conversions["distinguishable"]
    # It did spend more, and that difference is told apart.
    spend = row(result.to_frame("channels"), variant="channels.tv.spend=4000", channel="tv", metric="spend")
    assert spend["diff"] > 0 and spend["distinguishable"]


def test_synergy_raises_conversions(make_scenario: Callable[..., Scenario]) -> None:
    base = make_scenario("funnel.synergy=0")
    result = compare(base, vary(base, {"funnel.synergy": ["0.3"]}), seed=1, replications=6)
    conversions = row(result.to_frame("kpis"), variant="funnel.synergy=0.3", kpi="conversions")
    assert conversions["diff"] > 0 and conversions["diff_low"] > 0 and conversions["distinguishable"]


def test_the_base_differs_from_itself_by_nothing(make_scenario: Callable[..., Scenario]) -> None:
    # The budget is the optimizer's, not the simulation's: a variant of its own in the same world (the base itself,
    # or a copy of it under another name, would not be repeated).
    base = make_scenario()
    result = compare(base, [("same", make_scenario("budget.total=9000"))], seed=9, replications=3)
    assert result.labels == ("base", "same")
    kpis = result.to_frame("kpis")
    for _, r in kpis.iterrows():
        assert r["diff"] == 0.0 or np.isnan(r["diff"])
        assert not r["distinguishable"]


def test_vary_makes_a_grid(make_scenario: Callable[..., Scenario]) -> None:
    base = make_scenario()
    variants = vary(base, {"funnel.synergy": ["0", "0.2"], "channels.tv.spend": ["1000", "3000", "5000"]})
    assert len(variants) == 6
    label, scenario = variants[-1]
    assert label == "funnel.synergy=0.2, channels.tv.spend=5000"
    assert scenario.funnel.synergy == 0.2 and scenario.channel("tv").spend == 5000


def test_workers_do_not_change_a_comparison(make_scenario: Callable[..., Scenario]) -> None:
    base = make_scenario()
    variants = vary(base, {"funnel.synergy": ["0.3"]})
    one = compare(base, variants, seed=3, replications=3, workers=1)
    two = compare(base, variants, seed=3, replications=3, workers=2)
    assert one.to_json() == two.to_json()


def test_compare_command(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "cheaper_tv.toml"
    other.write_text(scenario_file.read_text(encoding="utf-8").replace("cpm = 20.0", "cpm = 10.0"), "utf-8")
    out = tmp_path / "what_if"
    code, text, err = run_cli(
        "compare", scenario_file, other, "--vary", "funnel.synergy=0,0.3", "-r", "3", "-w", "1", "--out", out
    )
    assert code == 0, err
    figures = [f"compare_{kpi}.{fmt}" for kpi in ("conversions", "profit") for fmt in ("png", "svg")]
    assert sorted(p.name for p in out.iterdir()) == sorted(["compare_channels.csv", "compare_kpis.csv", *figures])
    for label in ["small", "cheaper_tv", "funnel.synergy=0", "funnel.synergy=0.3"]:
        assert label in text
    assert "Per channel" in text and "conversions attributed (linear)" in text
    code, text, err = run_cli("compare", scenario_file, other, "-r", "2", "-w", "1", "--json")
    assert code == 0, err
    doc = json.loads(text)
    assert doc["variants"] == ["small", "cheaper_tv"] and doc["replications"] == 2
    assert {r["kpi"] for r in doc["kpis"]} >= {"conversions", "revenue", "profit", "roi", "roas", "cac"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to compare"),
        (["{base}"], "every variant is the base itself ("),
        (["--vary", "funnel.synergy=0.1"], "nothing to compare: every variant is the base itself (funnel.synergy=0.1)"),
        (["--vary", "funnel.synergy"], "expected KEY=V1,V2"),
        (["--vary", "funnel.synergy=-1"], "funnel.synergy"),
    ],
)
def test_bad_compare_arguments_exit_2(run_cli: RunCli, scenario_file: Path, args: list[str], message: str) -> None:
    args = [a.replace("{base}", str(scenario_file)) for a in args]
    code, _, err = run_cli("compare", scenario_file, *args, "-r", "1", "-w", "1")
    assert code == 2 and message in err


def test_compare_optimize_adds_each_world_at_its_best(run_cli: RunCli, scenario_file: Path) -> None:
    code, text, err = run_cli(
        "compare", scenario_file, "--vary", "funnel.synergy=0.3", "--optimize", "-r", "2", "-w", "1", "--json"
    )
    assert code == 0, err
    doc = json.loads(text)
    assert doc["variants"] == ["small", "funnel.synergy=0.3", "small (optimized)", "funnel.synergy=0.3 (optimized)"]
    spend = {(r["variant"], r["channel"]): r["mean"] for r in doc["channels"] if r["metric"] == "spend"}
    # The optimized plans move money: some channel's spend differs from the current plan's.
    assert any(abs(spend["small (optimized)", c] - spend["small", c]) > 1.0 for c in ("tv", "search", "email"))


def test_optimized_variants_carry_the_plans_spend(make_scenario: Callable[..., Scenario]) -> None:
    from mixsim.optimizer import optimize

    base = make_scenario()
    [(label, best)] = optimized([("base", base)], seed=3, replications=2, max_iterations=1)
    plan = optimize(base, seed=3, replications=2, max_iterations=1)
    assert label == "base (optimized)"
    assert {c.name: c.spend for c in best.channels} == pytest.approx(plan.allocation)


def test_a_comparison_carries_its_seed_version_and_round_trips_as_json(make_scenario: Callable[..., Scenario]) -> None:
    from mixsim import __version__

    base = make_scenario()
    result = compare(base, vary(base, {"funnel.synergy": ["0.3"]}), seed=6, replications=2)
    assert result.seed == 6 and result.version == __version__ and result.replications == 2
    doc = json.loads(result.to_json())
    assert doc["seed"] == 6 and doc["version"] == __version__ and doc["replications"] == 2
    assert len(doc["kpis"]) == len(result.to_frame("kpis")) and len(doc["channels"]) == len(result.to_frame("channels"))
    html = result._repr_html_()
    assert "seed 6" in html and f"mixsim {__version__}" in html and "funnel.synergy=0.3" in html


def test_a_comparison_refuses_an_unknown_table(make_scenario: Callable[..., Scenario]) -> None:
    from mixsim.errors import InputError

    base = make_scenario()
    result = compare(base, vary(base, {"funnel.synergy": ["0.3"]}), seed=1, replications=1)
    with pytest.raises(InputError, match="unknown table 'runs'"):
        result.to_frame("runs")


def test_labels_must_differ_before_anything_runs(make_scenario: Callable[..., Scenario]) -> None:
    from mixsim.errors import InputError

    base = make_scenario()
    ran: list[int] = []
    with pytest.raises(InputError, match=r"named twice: base, other$") as caught:
        compare(
            base,
            [("other", base), ("base", base), ("other", base)],
            optimize=True,
            progress=lambda done, total: ran.append(done),
        )
    assert ran == []  # refused before any optimization or simulation
    assert "--" not in str(caught.value)  # library terms, no command-line flag


@pytest.mark.parametrize("optimize", [False, True])
def test_the_run_count_is_every_run_the_comparison_makes(
    make_scenario: Callable[..., Scenario], optimize: bool
) -> None:
    from mixsim.whatif import compare_run_count

    base = make_scenario()
    variants = vary(base, {"funnel.synergy": ["0.3"]})
    calls: list[tuple[int, int]] = []
    result = compare(
        base, variants, optimize=optimize, seed=1, replications=2, progress=lambda d, t: calls.append((d, t))
    )
    # Runs go in batches: each measurement reports as its batches finish and ends at its total.
    finished = [total for done, total in calls if done == total]
    assert calls[-1][0] == calls[-1][1] and sum(finished) == compare_run_count(base, variants, 2, optimize=optimize)
    assert len(result.labels) == (4 if optimize else 2)


def test_the_grid_point_equal_to_the_base_is_the_base_itself(make_scenario: Callable[..., Scenario]) -> None:
    """0.1 is the small scenario's own synergy: that grid point is the base again, its difference zero by
    construction; it is named once, neither simulated nor listed as a variant."""
    from mixsim.cli.text import compare_report
    from mixsim.whatif import compare_run_count

    base = make_scenario()
    variants = vary(base, {"funnel.synergy": ["0", "0.1", "0.3"]})
    assert [label for label, _ in variants] == ["funnel.synergy=0", "funnel.synergy=0.1", "funnel.synergy=0.3"]
    calls: list[int] = []
    result = compare(base, variants, seed=2, replications=2, progress=lambda done, total: calls.append(total))
    assert result.labels == ("base", "funnel.synergy=0", "funnel.synergy=0.3")
    assert result.same_as_base == ("funnel.synergy=0.1",)
    assert len(calls) == compare_run_count(base, variants, 2) == 3 * 2
    # Optimizing does not optimize the base twice either.
    assert compare_run_count(base, variants, 2, optimize=True) == compare_run_count(
        base, [variants[0], variants[2]], 2, optimize=True
    )
    for table in ("kpis", "channels"):
        assert set(result.to_frame(table)["variant"]) == set(result.labels)
    assert json.loads(result.to_json())["same_as_base"] == ["funnel.synergy=0.1"]
    text = compare_report(result)
    assert [line for line in text.splitlines() if "funnel.synergy=0.1" in line] == [
        "The base itself, not repeated: funnel.synergy=0.1."
    ]
    assert "funnel.synergy=0.1" in result._repr_html_()


def test_a_copy_under_another_name_is_the_base_itself(make_scenario: Callable[..., Scenario]) -> None:
    import dataclasses

    from mixsim.whatif import is_base

    base = make_scenario()
    copy = dataclasses.replace(base, name="Small, copied", source="elsewhere/copy.toml")
    assert is_base(copy, base) and not is_base(make_scenario("budget.total=9000"), base)
    result = compare(base, [("copy", copy), ("more tv", make_scenario("channels.tv.spend=3000"))], replications=1)
    assert result.labels == ("base", "more tv") and result.same_as_base == ("copy",)


def test_nothing_to_compare_is_refused_before_anything_runs(make_scenario: Callable[..., Scenario]) -> None:
    from mixsim.errors import InputError

    base = make_scenario()
    ran: list[int] = []
    with pytest.raises(InputError, match=r"every variant is the base itself \(funnel.synergy=0.1\)$"):
        compare(base, vary(base, {"funnel.synergy": ["0.1"]}), progress=lambda done, total: ran.append(done))
    with pytest.raises(InputError, match="nothing to compare"):
        compare(base, [], progress=lambda done, total: ran.append(done))
    assert ran == []


def test_scenario_labels_are_names_then_files_and_always_distinct(make_scenario: Callable[..., Scenario]) -> None:
    import dataclasses

    from mixsim.whatif import scenario_labels

    def named(name: str, source: str) -> Scenario:
        return dataclasses.replace(make_scenario(), name=name, source=source)

    shop, cheaper = named("Shop", "a/shop.toml"), named("Shop, TV at half price", "b/cheap.toml")
    assert scenario_labels([shop, cheaper]) == ["Shop", "Shop, TV at half price"]
    # A shared name says nothing: those two are told apart by their files; the third keeps its name.
    assert scenario_labels([shop, named("Shop", "b/copy.toml"), cheaper]) == ["shop", "copy", "Shop, TV at half price"]
    # A blank name falls back to the file too.
    assert scenario_labels([shop, named(" ", "b/untitled.toml")]) == ["Shop", "untitled"]
    # Shared stems: the paths; the same file twice: numbered.
    assert scenario_labels([shop, named("Shop", "b/shop.toml")]) == ["a/shop.toml", "b/shop.toml"]
    assert scenario_labels([shop, shop, shop]) == ["a/shop.toml", "a/shop.toml #2", "a/shop.toml #3"]


def test_compare_command_labels_scenario_files_by_name(run_cli: RunCli, scenario_file: Path, tmp_path: Path) -> None:
    text = scenario_file.read_text(encoding="utf-8")
    cheaper = tmp_path / "cheaper_tv.toml"
    cheaper.write_text(text.replace("cpm = 20.0", "cpm = 10.0").replace('name = "small"', 'name = "TV at half price"'))
    same_name = tmp_path / "more_email.toml"
    same_name.write_text(text.replace("spend = 300", "spend = 600"), encoding="utf-8")
    code, out, err = run_cli(
        "compare", scenario_file, cheaper, same_name, "--vary", "funnel.synergy=0,0.1", "-r", "1", "-w", "1", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    # small.toml and more_email.toml are both named "small": their files tell them apart.
    assert doc["variants"] == ["small", "TV at half price", "more_email", "funnel.synergy=0"]
    assert doc["same_as_base"] == ["funnel.synergy=0.1"]


def test_the_compare_report_keeps_its_columns_with_long_labels(make_scenario: Callable[..., Scenario]) -> None:
    """A three-key grid makes labels of some 90 characters: each stands whole on a line of its own, and the figures
    stay in the same narrow columns as for short labels."""
    from mixsim.cli.text import compare_report

    base = make_scenario()
    grid = {
        "channels.search.frequency_cap": ["1", "2"],
        "organic.word_of_mouth": ["0.05", "0.2"],
        "channels.email.p_consider": ["0.03"],
    }
    result = compare(base, vary(base, grid), seed=1, replications=1)
    lines = compare_report(result).splitlines()
    for label in result.labels:
        assert f"  {label}" in [line.rstrip() for line in lines] or any(
            line.startswith(f"  {label}  ") for line in lines
        ), label
    block = lines[lines.index("conversions") + 1 : lines.index("revenue") - 1]
    assert len(block) == 1 + 2 * 4  # the base's line; each variant's label, then its figures
    starts = {len(line) - len(line.lstrip()) for line in block[2::2]}
    assert starts == {block[0].index(block[0].split()[-3])}  # one column for every variant's figures
    assert max(starts) <= 40
