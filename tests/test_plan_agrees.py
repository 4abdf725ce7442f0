"""A plan agrees with itself: every column has one definition, used by the table, the files, the text and the
figure; the reasons a channel is held are on its line; one projected gain, and the verified one first."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook

from mixsim.cli.text import plan_report
from mixsim.optimizer import Problem, solve
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve
from mixsim.optimizer.export import MONEY_COLUMNS, round_to_total, rounded_tables
from mixsim.optimizer.plan import Plan, Verification
from mixsim.scenario import Limit

ORDER_VALUE = 50.0


def capped_curves(fixed_cost: float = 0.0) -> CurveSet:
    """Three channels; ``capped`` delivers at most 1,238 of whatever is booked (a frequency cap), so that today's
    booking of 1,500 delivers 1,238, as in a run where booked and delivered spend were mixed up."""
    xs = np.array([0.0, 500.0, 1000.0, 1238.0])
    capped = ResponseCurve(
        channel="capped",
        spend=xs,
        revenue=4.0 * xs - 0.001 * xs**2,
        revenue_low=4.0 * xs - 0.001 * xs**2,
        revenue_high=4.0 * xs - 0.001 * xs**2,
        hill=None,
        max_spend=1238.0,
        current=1500.0,
        planned=np.array([0.0, 500.0, 1000.0, 1500.0]),  # 1,500 booked delivered 1,238
    )

    def hill(name: str, ymax: float, half: float, current: float, fixed: float = 0.0) -> ResponseCurve:
        h = Hill(ymax, half, 1.0)
        grid = np.linspace(0.0, 4 * half, 9)
        return ResponseCurve(
            channel=name,
            spend=grid,
            revenue=h(grid),
            revenue_low=h(grid),
            revenue_high=h(grid),
            hill=h,
            max_spend=float(grid[-1]),
            current=current,
            fixed_cost=fixed,
        )

    return CurveSet(
        curves=(capped, hill("search", 2e4, 4e3, 3e3), hill("display", 300.0, 5e3, 0.0, fixed_cost)),
        order_value=ORDER_VALUE,
        margin=1.0,
        source="test",
        seed=1,
        replications=3,
    )


def solved(**kwargs: Any) -> Plan:
    curves = capped_curves(fixed_cost=kwargs.pop("fixed_cost", 0.0))
    return solve(Problem(curves, budget=kwargs.pop("budget", 8500.0), **kwargs)).check()


def test_every_change_is_the_difference_of_the_two_columns_beside_it() -> None:
    plan = solved()
    line = {c.channel: c for c in plan.channels}["capped"]
    assert line.current == 1500.0 and line.current_spend == pytest.approx(1238.0)  # booked today, delivered today
    assert line.spend <= 1238.0 + 1e-6 and line.booked >= line.spend
    frame = plan.to_frame()
    assert np.allclose(frame["change"], frame["spend"] - frame["current_spend"])
    assert np.allclose(frame["book_change"], frame["book"] - frame["current_book"])
    totals = plan.to_frame("totals").iloc[0]
    for column in ("book", "current_book", "spend", "current_spend", "projected_revenue", "current_revenue"):
        assert totals[column] == pytest.approx(frame[column].sum()), column
    assert totals["change"] == pytest.approx(totals["spend"] - totals["current_spend"])
    assert totals["book_change"] == pytest.approx(totals["book"] - totals["current_book"])
    # The budget counts delivered (billed) spend, today's as the plan's.
    assert plan.spend <= plan.budget + 1e-6
    assert plan.current_spend == pytest.approx(frame["current_spend"].sum())
    # Today's revenue is read off the curve at what today's booking delivers.
    assert line.current_revenue == pytest.approx(4.0 * 1238.0 - 0.001 * 1238.0**2)


def test_the_files_carry_the_same_figures_rounded_to_whole_currency_that_add_up() -> None:
    plan = solved()
    channels, totals = rounded_tables(plan)
    rows = list(csv.DictReader(io.StringIO(plan.to_csv())))
    assert [r["kind"] for r in rows] == ["channel"] * 3 + ["total"]
    for column in MONEY_COLUMNS:
        values = [float(r[column]) for r in rows]
        assert all(v == round(v) for v in values), column  # whole currency: no 19999.99999999993
        assert values[-1] == sum(values[:-1]), column  # the lines add up to the totals row
        assert values[-1] == round(plan.to_frame("totals").iloc[0][column]), column
    text = plan.to_csv()
    assert "e-" not in text and "e+" not in text and ",-0," not in text
    for r in rows:
        assert float(r["change"]) == float(r["spend"]) - float(r["current_spend"])
        assert float(r["book_change"]) == float(r["book"]) - float(r["current_book"])
    book = load_workbook(io.BytesIO(plan.to_xlsx()))
    sheet = book["Allocation"]
    header = [c.value for c in sheet[1]]
    spend = [sheet.cell(row=i, column=header.index("Spend (delivered)") + 1).value for i in range(2, 5)]
    assert spend == list(channels["spend"])
    assert book["Totals"].cell(row=2, column=header.index("Spend (delivered)") + 1).value == totals["spend"][0]
    doc = json.loads(plan.to_json())
    assert doc["current"]["capped"] == pytest.approx(1238.0) and doc["current_book"]["capped"] == 1500.0
    assert doc["totals"]["spend"] == pytest.approx(sum(doc["allocation"].values()))


@pytest.mark.parametrize("seed", range(20))
def test_rounding_to_a_total_keeps_each_figure_within_a_unit_and_the_sum_exact(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 1e5, size=int(rng.integers(1, 12)))
    rounded = round_to_total(values)
    assert np.all(rounded == np.round(rounded)) and np.all(np.abs(rounded - values) < 1.0)
    assert rounded.sum() == round(values.sum())


def test_the_text_and_the_figure_show_the_tables_figures() -> None:
    plan = solved()
    text = plan_report(plan)
    line = {c.channel: c for c in plan.channels}["capped"]
    row = next(r for r in text.splitlines() if r.startswith("capped"))
    assert f"{line.spend:,.0f}" in row and f"{line.current_spend:,.0f}" in row and f"{line.change:+,.0f}" in row
    assert f"{line.booked:,.0f}" in row and "1,500" in row  # booked, against today's booking
    from mixsim.plots import plot_allocation

    fig = plot_allocation(plan)
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    for line in plan.channels:
        if line.current_spend > 0:
            share = line.change / line.current_spend
            change = f" ({share:+.0%})" if abs(share) >= 0.005 else " (same)"
            assert f"{line.spend:,.0f}{change}" in labels and f"{line.current_spend:,.0f}" in labels


def test_a_held_or_dropped_channel_says_why_on_its_line() -> None:
    dropped = solved(fixed_cost=5e3)
    notes = {c.channel: c.note for c in dropped.channels}
    assert dropped.allocation["display"] == 0.0 and "fixed cost of 5,000" in notes["display"]
    limited = solved(limits={"search": Limit(0.0, 2e3)})
    assert limited.allocation["search"] == pytest.approx(2e3)
    assert "budget.limits" in {c.channel: c.note for c in limited.channels}["search"]
    capped = solved(budget=2e4)
    assert "end of its curve" in {c.channel: c.note for c in capped.channels}["capped"]
    locked = solved(locked=("search",))
    line = {c.channel: c for c in locked.channels}["search"]
    assert line.spend == pytest.approx(3e3) and line.note.startswith("locked")
    assert locked.constraints["locked"] == ["search"]
    text = plan_report(locked)
    assert "Why:" in text and "search: locked" in text


def test_locking_a_capped_channel_keeps_what_it_delivers_today() -> None:
    plan = solved(locked=("capped",))
    line = {c.channel: c for c in plan.channels}["capped"]
    assert line.spend == pytest.approx(1238.0) and line.change == pytest.approx(0.0, abs=1e-6)


def test_one_projected_gain_and_the_verified_one_leads_when_there_is_one() -> None:
    plan = solved()
    first = plan_report(plan).splitlines()[:3]
    assert any(f"Gain: {plan.projected_gain:+,.0f}" in r and "projected" in r for r in first)
    runs = np.array([100.0, 140.0, 120.0, 90.0, 150.0])
    check = Verification(
        replications=5,
        seed=3,
        projected={("revenue", "gain"): plan.projected_gain},
        runs={("revenue", "gain"): runs, ("revenue", "plan"): runs + 1e4, ("revenue", "current"): np.full(5, 1e4)},
    )
    verified = dataclasses.replace(plan, verification=check)
    mean, low, high = verified.verified_gain or (math.nan,) * 3
    assert mean == pytest.approx(runs.mean()) and low <= mean <= high
    head = plan_report(verified).splitlines()[:3]
    gain = next(r for r in head if r.startswith("Gain:"))
    assert gain.startswith(f"Gain: {mean:+,.0f}") and "simulated" in gain and "projected" in gain
    doc = json.loads(verified.to_json())
    assert doc["gain"]["projected"] == pytest.approx(plan.projected_gain)
    assert doc["gain"]["verified"]["mean"] == pytest.approx(mean)
    items = dict(zip(*(verified.assumptions()[c] for c in ("item", "value")), strict=True))
    assert items["verified gain (simulated, 90% interval)"].startswith(f"{mean:,.0f}")


def test_bookings_above_the_spend_are_explained_in_the_text() -> None:
    plan = solved(budget=2e4)
    _, totals = rounded_tables(plan)
    assert totals["book"][0] > totals["spend"][0]  # the capped channel is booked past what it delivers
    text = plan_report(plan)
    assert f"Bookings add up to {totals['book'][0]:,.0f}" in text and "capped cannot deliver" in text
