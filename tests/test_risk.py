"""One plan across worlds: the mean and the conditional value at risk of its return, as linear programs, against
optima solved by hand."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mixsim.errors import InputError
from mixsim.optimizer import Problem, solve
from mixsim.optimizer.curves import CurveSet, ResponseCurve
from mixsim.scenario import Scenario
from mixsim.uncertainty import ParameterSets, compare_worlds, optimize_under_risk
from mixsim.uncertainty.risk import Risk, solve_under_risk
from mixsim.uncertainty.robust import booked, risk_measure

BUDGET = 100.0


def straight(name: str, slope: float, end: float = BUDGET) -> ResponseCurve:
    xs, ys = np.array([0.0, end]), np.array([0.0, slope * end])
    return ResponseCurve(name, xs, ys, ys, ys, None, max_spend=end)


def world(a: float, b: float) -> Problem:
    """Two channels returning ``a`` and ``b`` per dollar up to the whole budget."""
    return Problem(CurveSet((straight("a", a), straight("b", b))), budget=BUDGET)


# Two worlds the data cannot tell apart: in one, a returns 3 per dollar and b 1; in the other a returns 0.5, b 2.
TWO = [world(3.0, 1.0), world(0.5, 2.0)]


def test_the_mean_plan_is_the_averaged_worlds_plan() -> None:
    """On average a returns 1.75 and b 1.5: everything on a, returning 300 and 50."""
    plan = solve_under_risk(TWO, Risk.parse("mean"))
    assert plan.allocation == pytest.approx({"a": BUDGET, "b": 0.0}, abs=1e-6)
    assert plan.returns == pytest.approx([300.0, 50.0], rel=1e-9)
    assert plan.value == pytest.approx(175.0, rel=1e-9)


def test_the_cvar_plan_of_two_worlds_maximizes_the_worse_one() -> None:
    """With half the worlds (the worse of two), CVaR is max over a + b = 100 of min(3a + b, 0.5a + 2b): the two
    meet at a = 200/7, where both return 1100/7."""
    plan = solve_under_risk(TWO, Risk.parse("cvar:0.5"))
    assert plan.allocation["a"] == pytest.approx(200 / 7, rel=1e-7)
    assert plan.allocation["b"] == pytest.approx(500 / 7, rel=1e-7)
    assert plan.returns == pytest.approx([1100 / 7, 1100 / 7], rel=1e-7)
    assert plan.value == pytest.approx(1100 / 7, rel=1e-7)
    mean = solve_under_risk(TWO, Risk.parse("mean"))
    assert plan.returns.min() > mean.returns.min() and plan.returns.mean() < mean.returns.mean()


def test_cvar_over_every_world_is_the_mean() -> None:
    plan = solve_under_risk(TWO, Risk.parse("cvar:1"))
    assert plan.value == pytest.approx(175.0, rel=1e-9) and plan.allocation["a"] == pytest.approx(BUDGET)


def test_identical_worlds_give_the_single_worlds_plan() -> None:
    """Concave curves with a cap and a fixed cost (so binaries tie the worlds' on/off too): three copies of one
    world give, under any risk, the plan the optimizer gives that world alone."""

    def curve(name: str, spend: list[float], revenue: list[float], fixed_cost: float = 0.0) -> ResponseCurve:
        xs, ys = np.array(spend), np.array(revenue)
        return ResponseCurve(name, xs, ys, ys, ys, None, max_spend=xs[-1], fixed_cost=fixed_cost)

    # a returns 3 per dollar to 40, then 1; b 1.8 to 50, for a fixed cost of 10: a 40, b 50 (210 of revenue).
    curves = CurveSet((curve("a", [0, 40, 100], [0, 120, 180]), curve("b", [0, 50], [0, 90], fixed_cost=10.0)))
    alone = solve(Problem(curves, budget=BUDGET))
    assert alone.allocation == pytest.approx({"a": 40.0, "b": 50.0}) and alone.objective_value == pytest.approx(210)
    for risk in ("mean", "cvar:0.3"):
        plan = solve_under_risk([Problem(curves, budget=BUDGET)] * 3, Risk.parse(risk))
        assert plan.allocation == pytest.approx(alone.allocation, abs=1e-6), risk
        assert plan.returns == pytest.approx([alone.objective_value] * 3, rel=1e-7), risk


@pytest.mark.parametrize(
    ("text", "message"),
    [("cvar", "cvar:A needs a share"), ("cvar:0", "cvar:A needs a share"), ("cvar:1.5", "cvar:A needs a share"),
     ("median", "one of mean, cvar:A, quantile:Q"), ("mean:2", "one of mean, cvar:A"),
     ("quantile:1", "quantile:Q needs a lower quantile"), ("quantile:-0.1", "quantile:Q needs a lower quantile")],
)  # fmt: skip
def test_bad_risks_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Risk.parse(text)


def test_worlds_must_agree() -> None:
    with pytest.raises(InputError, match="same channels"):
        solve_under_risk([world(1, 2), Problem(CurveSet((straight("a", 1.0),)), budget=BUDGET)], Risk())
    with pytest.raises(InputError, match="must be one of"):
        counted = CurveSet(TWO[0].curves.curves, order_value=5.0)
        solve_under_risk([Problem(counted, budget=BUDGET, objective="min-spend", target=10.0)], Risk())


def test_a_robust_plan_on_measured_curves(make_scenario: Callable[..., Scenario]) -> None:
    """Two worlds of tv's reach: the CVaR plan's projected worst world is at least the point plan's (both meet the
    same constraints, and the CVaR plan is the best such); identical worlds give the point estimate's own plan."""
    scenario = make_scenario("budget.total=5000")
    sets = ParameterSets(("channels.tv.p_aware",), np.array([[0.005], [0.2]]))
    kwargs = {"seed": 2, "replications": 1, "levels": (0, 0.5, 1, 2), "check_replications": 2}
    robust = optimize_under_risk(scenario, sets, Risk.parse("cvar:0.5"), **kwargs)  # type: ignore[arg-type]
    assert sum(robust.plan.allocation.values()) <= 5000 + 1e-6
    assert robust.plan.returns.min() >= robust.point_returns.min() - 1e-6 * abs(robust.point_returns.min())
    assert robust.regret >= -1e-6 * abs(robust.plan.value)
    data = json.loads(robust.to_json())
    assert data["worlds"] == 2 and set(data["check"]["variants"]) == {"point plan", "risk plan"}
    assert sum(data["wins"].values()) == pytest.approx(1.0)
    same = ParameterSets(("channels.tv.p_aware",), np.array([[scenario.channel("tv").p_aware]] * 2))
    alike = optimize_under_risk(scenario, same, Risk.parse("cvar:0.5"), **{**kwargs, "check_replications": 0})  # type: ignore[arg-type]
    assert alike.plan.allocation == pytest.approx(alike.point, rel=1e-6, abs=1e-6) and alike.check is None
    assert alike.regret == pytest.approx(0.0, abs=1e-6 * abs(alike.plan.value))


def test_money_one_world_cannot_deliver_buys_nothing_there_but_is_not_ruled_out() -> None:
    """a returns 3 per dollar; in one world it can take only 50 (its curve ends there), in the other 100; b returns
    1. On average a's dollars past 50 return 1.5, more than b's: the mean plan puts all 100 on a, returning 150
    and 300 (ruling out what one world cannot deliver would give 50 and 50, 200 in each)."""
    short = Problem(CurveSet((straight("a", 3.0, end=50.0), straight("b", 1.0))), budget=BUDGET)
    plan = solve_under_risk([short, world(3.0, 1.0)], Risk.parse("mean"))
    assert plan.allocation == pytest.approx({"a": BUDGET, "b": 0.0}, abs=1e-6)
    assert plan.returns == pytest.approx([150.0, 300.0], rel=1e-9)


def test_optimize_with_a_posterior(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware\n0.005\n0.2\n0.05\n", encoding="utf-8")
    common = ("-r", "1", "--levels", "0,0.5,1,2", "-w", "1")
    code, out, err = run_cli(
        "optimize", scenario_file, "--posterior", posterior, "--risk", "cvar:0.5", "--worlds", "2", *common, "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["risk"] == "cvar:0.5" and data["worlds"] == 2 and set(data["allocation"]) == {"tv", "search", "email"}
    assert data["regret"] >= -1e-6 * abs(data["projected"]["plan"]["risk_value"]) and data["check"] is None
    code, out, err = run_cli("optimize", scenario_file, "--posterior", posterior, "--worlds", "2", *common, "--verify",
                             "--verify-replications", "2")  # fmt: skip
    assert code == 0, err
    assert "Plan under mean across 2 parameter sets" in out and "Checked in paired simulation" in out
    assert "Head to head, the risk plan does better in" in out
    for args, message in (
        (("--risk", "cvar:2"), "cvar:A needs a share"),
        (("--risk", "cvar:0.5"), "--risk: only with --posterior"),
        (("--posterior", posterior, "--by-week"), "--by-week: not yet with --posterior"),
        (("--posterior", posterior, "--objective", "roas", "--target", "2"), "not yet with --posterior"),
        (("--posterior", tmp_path / "none.csv"), "cannot read the parameter sets"),
    ):
        code, _, err = run_cli("optimize", scenario_file, *args)
        assert code == 2 and message in err, (args, err)


def test_the_lower_quantile_plan_lets_the_worst_world_go() -> None:
    """Four worlds; quantile 0.25 lets one fall below: the hopeless one (a and b return almost nothing) goes, the
    high one stays high, and the plan is the one that lifts the worse of the other two, as CVaR 0.5 did for them:
    a = 200/7 and a second-worst return of 1100/7."""
    worlds = [*TWO, world(0.0, 0.1), world(4.0, 4.0)]
    plan = solve_under_risk(worlds, Risk.parse("quantile:0.25"))
    assert plan.allocation["a"] == pytest.approx(200 / 7, rel=1e-6)
    assert plan.value == pytest.approx(1100 / 7, rel=1e-6)
    assert np.sort(plan.returns)[1] == pytest.approx(1100 / 7, rel=1e-6)
    assert risk_measure(plan.returns, Risk.parse("quantile:0.25")) == pytest.approx(plan.value, rel=1e-6)
    worst = solve_under_risk(worlds, Risk.parse("quantile:0"))  # the worst world alone: all on b
    assert worst.allocation["b"] == pytest.approx(BUDGET, rel=1e-6) and worst.value == pytest.approx(10.0, rel=1e-6)


@pytest.mark.parametrize("seeds", [(2, 99), (5, 7)])
def test_the_risk_averse_plan_holds_its_worst_world_out_of_sample(
    make_scenario: Callable[..., Scenario], seeds: tuple[int, int]
) -> None:
    """Three worlds the data cannot tell apart: tv's awareness strong, weak or between, email's the other way. The
    mean plan and the CVaR plan over the worst third are each measured and solved on one seed; simulated again in
    every world on fresh seeds, the CVaR plan's worst world (and its CVaR) is at least the mean plan's, and the mean
    plan's mean return is at least the CVaR plan's: each wins on its own objective out of sample."""
    scenario = make_scenario(
        "scenario.population=4000", "scenario.horizon_days=40", "channels.tv.fixed_cost=0", "budget.total=4000"
    )
    sets = ParameterSets(
        ("channels.tv.p_aware", "channels.email.p_consider"), np.array([[0.3, 0.002], [0.004, 0.08], [0.05, 0.02]])
    )
    fit, fresh = seeds
    kwargs = {"seed": fit, "replications": 2, "levels": (0, 0.5, 1, 2, 4), "check_replications": 0}
    risks = {"mean": Risk.parse("mean"), "cvar": Risk.parse("cvar:0.34")}
    plans = {name: optimize_under_risk(scenario, sets, risk, **kwargs) for name, risk in risks.items()}  # type: ignore[arg-type]
    variants = [(name, scenario.with_spend(p.plan.allocation)) for name, p in plans.items()]
    check = compare_worlds(scenario, variants, sets, seed=fresh, replications=6)
    simulated = {name: check.values[name]["revenue"].mean(axis=1) for name in plans}
    assert simulated["cvar"].min() >= simulated["mean"].min()
    assert risk_measure(simulated["cvar"], risks["cvar"]) >= risk_measure(simulated["mean"], risks["cvar"])
    assert simulated["mean"].mean() >= simulated["cvar"].mean()


def test_a_worlds_return_is_anchored_at_its_simulated_total() -> None:
    """The curves' increments are anchored at the total simulated where they were measured (here at no spend):
    world b has 1,000 besides its channels, so it is never the worse; CVaR 0.5 then maximizes world a alone (all
    100 on a: 300), where unanchored the two worlds would be balanced (a = 200/7)."""
    rich = Problem(dataclasses.replace(TWO[1].curves, plan_revenue=1000.0), budget=BUDGET)
    plan = solve_under_risk([TWO[0], rich], Risk.parse("cvar:0.5"))
    assert plan.allocation == pytest.approx({"a": BUDGET, "b": 0.0}, abs=1e-6)
    assert plan.returns == pytest.approx([300.0, 1050.0], rel=1e-9)
    assert plan.value == pytest.approx(300.0, rel=1e-9)
    mean = solve_under_risk([TWO[0], rich], Risk.parse("mean"))
    assert mean.value == pytest.approx((300.0 + 1050.0) / 2, rel=1e-9)


def test_plans_across_worlds_are_bookings() -> None:
    """A channel that delivered 50 and then 60 of bookings of 100 and 200 gets its points at the bookings (flat
    past 200); one that delivered all it was given keeps its curve."""
    xs, ys = np.array([0.0, 50.0, 60.0]), np.array([0.0, 100.0, 110.0])
    short = ResponseCurve("a", xs, ys, ys, ys, None, max_spend=60.0, planned=np.array([0.0, 100.0, 200.0]))
    full = dataclasses.replace(short, channel="b", planned=xs.copy())
    out = booked(CurveSet((short, full)))
    assert out.curves[0].spend.tolist() == [0.0, 100.0, 200.0] and out.curves[0].max_spend == 200.0
    assert float(out.curves[0](150.0)) == pytest.approx(105.0) and float(out.curves[0](400.0)) == 110.0
    assert out.curves[1] is full


def test_a_plan_across_a_posterior_is_exported_and_held_by_the_planners_rules(  # type: ignore[no-untyped-def]
    run_cli, scenario_file: Path, tmp_path: Path
) -> None:
    """--lock and --max-change hold in the plan across worlds as in one world's; --out writes CSV (whole units
    adding up to a total row), JSON and XLSX, or refuses a suffix before any run."""
    from openpyxl import load_workbook

    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware\n0.005\n0.2\n", encoding="utf-8")
    common = ("-r", "1", "--levels", "0,0.5,1,2", "-w", "1", "--iterations", "1", "--risk", "cvar:0.5")
    outs = [tmp_path / "plan.csv", tmp_path / "plan.json", tmp_path / "plan.xlsx"]
    code, out, err = run_cli(
        "optimize", scenario_file, "--posterior", posterior, *common, "--lock", "email", "--max-change", "20%",
        *(a for o in outs for a in ("--out", o)),
    )  # fmt: skip
    assert code == 0, err
    assert "Plan written to" in out
    data = json.loads(outs[1].read_text(encoding="utf-8"))
    today = {"tv": 2000.0, "search": 1500.0}
    for name, row in data["allocation"].items():
        if name in today:
            assert abs(row["spend"] - today[name]) <= 0.2 * today[name] + 1e-6, (name, row)
            assert abs(row["point_spend"] - today[name]) <= 0.2 * today[name] + 1e-6, (name, row)
    # Today's 300 on email delivers what 150 does (its audience is spent): locked, it is booked at that 150.
    email = data["allocation"]["email"]
    assert email["spend"] == pytest.approx(150.0, abs=1e-6) and email["point_spend"] == pytest.approx(150.0, abs=1e-6)
    lines = outs[0].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "kind,channel,current,spend,point_spend" and lines[-1].startswith("total,")
    rows = [line.split(",") for line in lines[1:]]
    assert (
        sum(float(r[3]) for r in rows[:-1])
        == float(rows[-1][3])
        == round(sum(data["allocation"][n]["spend"] for n in data["allocation"]))
    )
    assert all(float(r[3]).is_integer() for r in rows)
    book = load_workbook(outs[2])
    assert book.sheetnames == ["Allocation", "Across worlds"]
    code, _, err = run_cli("optimize", scenario_file, "--posterior", posterior, *common, "--out", tmp_path / "p.txt")
    assert code == 2 and "p.txt" in err and not (tmp_path / "p.txt").exists()


def test_the_frontier_across_a_posterior(run_cli, scenario_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """At each budget the plan across the parameter sets: the mean (a mean frontier) never falls as the budget
    grows (more money may go unspent), each plan spends at most its budget; --out writes the table and the figure;
    the options not yet across a posterior are refused."""
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("channels.tv.p_aware\n0.005\n0.2\n0.05\n", encoding="utf-8")
    common = ("-r", "1", "--levels", "0,0.5,1,2", "-w", "1", "--budgets", "1000:5000:5")
    code, out, err = run_cli("frontier", scenario_file, "--posterior", posterior, *common, "--json")
    assert code == 0, err
    points = json.loads(out)["points"]
    assert [p["budget"] for p in points] == [1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
    means = [p["mean"] for p in points]
    assert all(b >= a - 1e-6 * abs(a) for a, b in itertools.pairwise(means)), means
    for p in points:
        assert p["tv"] + p["search"] + p["email"] <= p["budget"] + 1e-6
        assert p["low"] <= p["mean"] <= p["high"]
    code, out, err = run_cli(
        "frontier", scenario_file, "--posterior", posterior, *common, "--risk", "cvar:0.34", "--out", tmp_path / "f"
    )
    assert code == 0, err
    assert "Budget frontier under cvar:0.34 across 3 parameter sets" in out
    assert {p.name for p in (tmp_path / "f").iterdir()} >= {"frontier.csv", "frontier.png"}
    for args, message in (
        (("--risk", "cvar:0.5"), "--risk: only with --posterior"),
        (("--posterior", posterior, "--with-future-value"), "--with-future-value: not yet with --posterior"),
        (("--posterior", posterior, "--objective", "roas", "--target", "2"), "not yet with --posterior"),
    ):
        code, _, err = run_cli("frontier", scenario_file, "--budgets", "1000:2000:2", *args)
        assert code == 2 and message in err, (args, err)


def test_curves_measured_once_serve_the_plan_and_the_tests_alike(make_scenario: Callable[..., Scenario]) -> None:
    """The report measures the point estimate's and every world's curves once and hands them to both: the plan across
    the worlds and the next tests are then byte for byte those that measure their own."""
    from mixsim.optimizer.measure import measure_curves
    from mixsim.uncertainty import rank_tests

    scenario = make_scenario()
    sets = ParameterSets(("channels.tv.p_aware",), np.array([[0.01], [0.1], [0.05]]))
    kwargs: dict[str, Any] = {"seed": 4, "replications": 2, "levels": (0, 0.5, 1, 2)}
    measured = measure_curves([scenario, *sets.scenarios(scenario)], **kwargs)
    risk = Risk.parse("cvar:0.5")
    own = optimize_under_risk(scenario, sets, risk, check_replications=2, iterations=2, **kwargs)
    given = optimize_under_risk(scenario, sets, risk, check_replications=2, iterations=2, curves=measured, **kwargs)
    assert own.to_json() == given.to_json()
    ranked = rank_tests(scenario, sets, worlds=3, weeks=2, **kwargs)
    assert ranked.to_json() == rank_tests(scenario, sets, worlds=3, weeks=2, curves=measured[1:], **kwargs).to_json()
    with pytest.raises(InputError, match="curves: one set for the point estimate and each of 3 worlds"):
        optimize_under_risk(scenario, sets, risk, curves=measured[1:], **kwargs)
