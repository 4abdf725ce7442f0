"""Response curves: the Hill law, its fit, curves read from CSV, and curves measured by simulation."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mixsim import InputError, simulate
from mixsim.optimizer.curves import Hill, fit_hill
from mixsim.optimizer.measure import curve_run_count, measure_curves, response_curves
from mixsim.optimizer.read import parse_curves, read_curves
from mixsim.scenario import Scenario

# ------------------------------------------------------------------------------------------------- Hill


@pytest.mark.parametrize("slope", [0.6, 1.0, 2.5])
def test_hill_is_half_of_ymax_at_half_saturation_and_its_derivative_is_the_slope(slope: float) -> None:
    hill = Hill(ymax=1000.0, half_saturation=300.0, slope=slope)
    assert hill(300.0) == pytest.approx(500.0)
    assert hill(0.0) == 0.0
    s = np.array([10.0, 150.0, 300.0, 900.0, 5000.0])
    h = 1e-4 * s
    numeric = (hill(s + h) - hill(s - h)) / (2 * h)
    np.testing.assert_allclose(hill.derivative(s), numeric, rtol=1e-6)


def test_hill_derivative_at_zero_follows_the_shape() -> None:
    assert Hill(10.0, 5.0, 1.0).derivative(0.0) == pytest.approx(2.0)  # ymax / h
    assert Hill(10.0, 5.0, 2.0).derivative(0.0) == 0.0  # S-shaped: flat start
    assert Hill(10.0, 5.0, 0.5).derivative(0.0) == math.inf


@pytest.mark.parametrize(("half", "slope"), [(1e-3, 10.0), (1e15, 0.1), (1e-3, 0.1), (1e15, 10.0), (5.0, 1.0)])
def test_hill_stays_finite_without_warnings_at_any_spend(half: float, slope: float) -> None:
    """Issue 15, point 10: far past the bend ``(s / h)**k`` overflowed (inf / inf made the curve NaN and the plan
    0, and the overflow warning reached the user); the curve and its slope are now computed from the smaller of
    the ratio and its inverse. Checked against the closed form where the closed form is finite."""
    hill = Hill(1e15, half, slope)
    s = np.array([1e-300, 1e-9, 1e-3, 1.0, 5.0, 1e12, 1e15, 1e30, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, slopes = hill(s), hill.derivative(s)
    assert not np.isnan(values).any() and not np.isnan(slopes).any()
    assert np.all((values >= 0) & (values <= 1e15)) and np.all(np.diff(values) >= 0)
    with np.errstate(all="ignore"):
        ratio = (s / half) ** slope
        closed = 1e15 * ratio / (1 + ratio)
    finite = np.isfinite(ratio) & (ratio < 1e150)
    np.testing.assert_allclose(values[finite], closed[finite], rtol=1e-12)


@pytest.mark.parametrize(("ymax", "half", "slope"), [(5e4, 2e4, 0.8), (1e5, 1e4, 1.0), (3e4, 4e4, 2.2)])
def test_fit_recovers_the_parameters_of_exact_hill_points(ymax: float, half: float, slope: float) -> None:
    truth = Hill(ymax, half, slope)
    spend = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0]) * half
    fitted, rmse, r2 = fit_hill(spend, truth(spend))
    assert fitted.ymax == pytest.approx(ymax, rel=1e-3)
    assert fitted.half_saturation == pytest.approx(half, rel=1e-3)
    assert fitted.slope == pytest.approx(slope, rel=1e-3)
    assert rmse < 1e-3 * ymax
    assert r2 > 0.99999


def test_fit_of_noisy_points_reports_its_error() -> None:
    truth = Hill(1000.0, 50.0, 1.0)
    spend = np.linspace(0, 200, 12)
    noise = np.random.default_rng(5).normal(0, 20.0, size=spend.size)
    _, rmse, r2 = fit_hill(spend, truth(spend) + noise)
    assert 5.0 < rmse < 40.0  # close to the noise's standard deviation
    assert 0.9 < r2 < 1.0


def test_fit_of_no_effect_is_flat() -> None:
    hill, _, _ = fit_hill(np.array([0.0, 10.0, 20.0]), np.array([0.0, -1.0, 0.0]))
    assert hill.ymax == 0.0
    assert float(hill(20.0)) == 0.0


# ------------------------------------------------------------------------------------------------- CSV


def test_points_are_interpolated_and_never_extrapolated(tmp_path: Path) -> None:
    path = tmp_path / "curves.csv"
    path.write_text("channel,spend,response\ntv,1000,300\ntv,3000,600\nsearch,0,0\nsearch,500,400\n", "utf-8")
    curves = read_curves(path, order_value=20.0, current={"tv": 1000.0})
    tv = curves.curve("tv")
    assert tv.hill is None
    assert tv.max_spend == 3000.0
    assert float(tv(0.0)) == 0.0  # a curve without a point at 0 responds 0 there
    assert float(tv(500.0)) == pytest.approx(150.0)
    assert float(tv(2000.0)) == pytest.approx(450.0)
    assert float(tv(9000.0)) == pytest.approx(600.0)  # flat past the last point: no extrapolation
    assert float(tv.marginal(2000.0)) == pytest.approx(300 / 2000)
    assert float(tv.marginal(3000.0)) == 0.0
    assert tv.current == 1000.0
    assert curves.channels == ("tv", "search")
    assert tv.shape == "concave"


def test_points_with_rising_slopes_are_s_shaped() -> None:
    curves = parse_curves("channel,spend,response\na,0,0\na,10,1\na,20,10\na,30,12\n")
    assert curves.curve("a").shape == "s-shaped"


def test_hill_parameters_with_optional_columns() -> None:
    text = "channel,ymax,half_saturation,slope,min_spend,max_spend,fixed_cost\ntv,1e5,2e4,1.5,5000,80000,1000\n"
    text += "radio,2e4,5000,0.8,,,\n"
    curves = parse_curves(text, source="hill.csv")
    tv, radio = curves.curve("tv"), curves.curve("radio")
    assert tv.hill == Hill(1e5, 2e4, 1.5)
    assert (tv.min_spend, tv.max_spend, tv.fixed_cost) == (5000.0, 80000.0, 1000.0)
    assert tv.shape == "s-shaped"
    assert radio.max_spend == math.inf
    assert radio.shape == "concave"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the curves file is empty"),
        ("channel,cost,response\ntv,1,2\n", "header: expected columns channel,spend,response"),
        ("channel,spend,response\ntv,abc,2\ntv,3,4\n", "row 2: spend: must be a number (got 'abc')"),
        # A response may be negative (a measured difference can be: issue 15, point 17); a spend may not.
        ("channel,spend,response\ntv,1,2\ntv,-3,4\n", "row 3: spend: must be a finite number >= 0 (got -3)"),
        ("channel,spend,response\ntv,1,2\n", "channel tv: needs at least two points (got 1)"),
        ("channel,spend,response\ntv,1,2\ntv,1,4\n", "channel tv: spend: each spend must appear once"),
        ("channel,spend,response\n,1,2\n", "row 2: channel: must not be empty"),
        ("channel,spend,response,extra\ntv,1,2,3\ntv,2,3,4\n", "header: unknown column 'extra'"),
        ("channel,ymax,half_saturation,slope\ntv,1,0,1\n", "row 2: half_saturation: must be > 0 (got 0.0)"),
        ("channel,ymax,half_saturation,slope\ntv,1,1,1\ntv,2,2,2\n", "channel tv: appears on rows 2, 3"),
        (
            "channel,ymax,half_saturation,slope,min_spend,max_spend\ntv,1,1,1,50,10\n",
            "row 2: min_spend: must not exceed max_spend",
        ),
        ("channel,spend,response\n", "no curves"),
    ],
)
def test_bad_curve_files_name_the_file_row_and_rule(text: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        parse_curves(text, source="c.csv")
    assert any(p.startswith("c.csv: ") and expected in p for p in info.value.problems), info.value.problems


def test_a_missing_curves_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the curves file"):
        read_curves(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------------------------- measured


def test_measured_curve_at_the_plan_is_the_true_incrementality(make_scenario: Callable[..., Scenario]) -> None:
    """The level equal to the plan minus the level 0 is exactly the counterfactual of ``simulate``: same seeds."""
    scenario = make_scenario()
    curves = response_curves(scenario, seed=11, replications=3, levels=(0.0, 0.5, 1.0, 2.0))
    truth = simulate(scenario, seed=11, replications=3, incrementality=True)
    assert truth.incrementality is not None
    compared = []
    for k, name in enumerate(scenario.channel_names):
        curve = curves.curve(name)
        assert curve.revenue[0] == 0.0 and curve.revenue_low[0] == 0.0 and curve.revenue_high[0] == 0.0
        at_plan = np.flatnonzero(np.isclose(curve.planned, scenario.channel(name).spend))
        if not len(at_plan):  # a capped channel delivers no more at its plan than at half of it: kept once
            continue
        expected = truth.incrementality.revenue[:, k].mean()
        assert curve.revenue[int(at_plan[0])] == pytest.approx(expected, abs=1e-9)
        compared.append(name)
    assert "tv" in compared and len(compared) >= 2
    assert curves.plan_conversions == pytest.approx(np.mean([r.conversions for r in truth.runs]))
    assert curves.plan_revenue == pytest.approx(curves.plan_conversions * scenario.economics.order_value)


def test_measured_curves_are_reproducible_and_independent_of_workers(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    one = response_curves(scenario, seed=4, replications=2, levels=(0.0, 1.0, 3.0), workers=1)
    two = response_curves(scenario, seed=4, replications=2, levels=(0.0, 1.0, 3.0), workers=2)
    assert one.to_json() == two.to_json()


def test_spend_is_what_was_delivered_and_bounds_the_curve(make_scenario: Callable[..., Scenario]) -> None:
    """Search is capped at one exposure a day on a few considering customers: tripled, it cannot all be spent."""
    scenario = make_scenario()
    curves = response_curves(scenario, seed=2, replications=2, levels=(0.0, 1.0, 3.0, 30.0))
    search = curves.curve("search")
    assert np.all(search.spend <= search.planned + 1e-6)
    assert search.spend[-1] < 0.9 * search.planned[-1]
    assert search.max_spend == pytest.approx(search.spend.max())
    tv = curves.curve("tv")
    np.testing.assert_allclose(tv.spend, tv.planned, rtol=1e-6)  # tv has no cap: all of it is delivered


def test_curves_around_another_plan_hold_the_others_there(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    around = {"tv": 4000.0, "search": 0.0, "email": 300.0}
    curves = response_curves(scenario, seed=1, replications=1, levels=(0.0, 1.0, 2.0), around=around)
    assert curves.current == around
    np.testing.assert_allclose(curves.curve("tv").planned, [0.0, 4000.0, 8000.0])
    # A channel planned at 0 is measured on multiples of an even share of the budget.
    share = scenario.total_spend / 3 if scenario.budget is None else scenario.budget.total / 3
    np.testing.assert_allclose(curves.curve("search").planned, [0.0, share, 2 * share])


def test_run_count_is_the_number_of_runs(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario()
    seen: list[int] = []
    response_curves(scenario, replications=2, levels=(0.0, 0.5, 1.0), progress=lambda done, total: seen.append(total))
    assert seen[-1] == curve_run_count(scenario, 2, (0.0, 0.5, 1.0)) == 2 * (1 + 3 * 3 - 3)


def test_curve_tables_and_json(make_scenario: Callable[..., Scenario]) -> None:
    curves = response_curves(make_scenario(), replications=2, levels=(0.0, 1.0, 2.0))
    points = curves.to_frame("points")
    assert len(points) == sum(len(c.spend) for c in curves.curves)
    assert (points["channel"] == "tv").sum() == 3
    assert {"channel", "spend", "planned", "revenue", "revenue_low", "revenue_high", "conversions"} <= set(points)
    np.testing.assert_allclose(points["conversions"] * 50.0, points["revenue"])
    # Every conversion is worth the order value: the interval in conversions is the revenue's, scaled.
    np.testing.assert_allclose(points["conversions_low"] * 50.0, points["revenue_low"])
    np.testing.assert_allclose(points["conversions_high"] * 50.0, points["revenue_high"])
    assert (points["conversions_low"] <= points["conversions"] + 1e-9).all()
    assert (points["conversions"] <= points["conversions_high"] + 1e-9).all()
    fits = curves.to_frame("fits")
    assert list(fits["channel"]) == ["tv", "search", "email"]
    assert {"ymax", "half_saturation", "slope", "fit_r2", "roas_at_current", "marginal_roas_at_current"} <= set(fits)
    doc = json.loads(curves.to_json())
    assert doc["replications"] == 2 and len(doc["fits"]) == 3 and len(doc["points"]) == len(points)
    with pytest.raises(ValueError, match="unknown table"):
        curves.to_frame("nope")


def test_levels_must_include_two_above_zero(make_scenario: Callable[..., Scenario]) -> None:
    with pytest.raises(ValueError, match="levels"):
        response_curves(make_scenario(), levels=(0.0, 1.0))


def test_levels_past_what_a_channel_delivers_are_kept_once_and_the_curve_is_a_function(
    make_scenario: Callable[..., Scenario],
) -> None:
    """Search cannot spend more than a few hundred: every level above that spends the same. Only the first is
    kept, so spend is strictly increasing and the curve (points or Hill) is defined everywhere."""
    curves = response_curves(make_scenario(), seed=2, replications=1, levels=(0.0, 1.0, 2.0, 4.0, 8.0))
    search = curves.curve("search")
    assert np.all(np.diff(search.spend) > 0)
    assert len(search.spend) < 5
    assert np.isfinite(search(np.linspace(0, 2 * search.max_spend, 9))).all()
    assert float(search.marginal(search.max_spend)) == 0.0


def test_row_numbers_count_blank_lines_and_extra_cells_are_refused() -> None:
    text = "channel,spend,response\n\ntv,0,0\n\ntv,10,x\ntv,20,5,7\n"
    with pytest.raises(InputError) as info:
        parse_curves(text, source="c.csv")
    assert "c.csv: row 5: response: must be a number (got 'x')" in info.value.problems
    assert "c.csv: row 6: has 4 cells but the header has 3" in info.value.problems


def test_a_curves_file_that_is_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("channel,spend,response\ntélé,0,0\ntélé,10,5\n".encode("cp1252"))
    with pytest.raises(InputError, match="is not UTF-8 text"):
        read_curves(path)


def test_to_book_inverts_delivery_over_the_measured_points() -> None:
    from mixsim.optimizer.curves import ResponseCurve

    spend = np.array([0.0, 100.0, 150.0, 160.0])  # delivered: the channel runs out of audience
    planned = np.array([0.0, 100.0, 200.0, 300.0])
    curve = ResponseCurve("c", spend, spend * 2, spend * 2, spend * 2, None, 160.0, planned=planned)
    assert curve.to_book(0.0) == 0.0
    assert curve.to_book(50.0) == pytest.approx(50.0)  # delivered in full: book what is to be spent
    assert curve.to_book(150.0) == pytest.approx(200.0)
    assert curve.to_book(155.0) == pytest.approx(250.0)  # halfway between the points
    unmeasured = ResponseCurve("d", spend, spend, spend, spend, None, 160.0)
    assert unmeasured.to_book(155.0) == 155.0


def test_booking_delivers_the_spend_asked_for(make_scenario: Callable[..., Scenario]) -> None:
    # search (frequency cap 1, considering customers only) delivers well under what it is given. Booking what the
    # curve says delivers a spend between two measured points delivers about that spend (same world, same seeds);
    # booking the spend itself delivers far less.
    scenario = make_scenario()
    curve = response_curves(scenario, seed=4, replications=3).curve("search")
    assert curve.planned[-1] > 1.5 * curve.spend[-1]
    wanted = float(curve.spend[1] + curve.spend[2]) / 2
    book = curve.to_book(wanted)
    assert curve.planned[1] < book < curve.planned[2]

    def delivered(planned: float) -> float:
        result = simulate(scenario.with_spend({"search": planned}), seed=4, replications=3)
        return float(result.channel_values()["spend"][:, scenario.channel_names.index("search")].mean())

    gap = float(curve.spend[2] - curve.spend[1])
    assert abs(delivered(book) - wanted) < 0.25 * gap
    assert delivered(wanted) < wanted - 0.25 * gap


def test_to_book_stops_at_the_first_level_that_delivers() -> None:
    from mixsim.optimizer.curves import ResponseCurve

    # The channel delivers 732.89 from a planned 1,000 on (nearly: 732.9 and 732.91 past it): booking more buys nothing.
    spend = np.array([0.0, 500.0, 732.89, 732.9, 732.91])
    planned = np.array([0.0, 500.0, 1000.0, 2000.0, 3000.0])
    curve = ResponseCurve("email", spend, spend, spend, spend, None, 732.91, planned=planned)
    assert curve.to_book(732.91) == pytest.approx(1000.0)
    assert curve.to_book(732.905) == pytest.approx(1000.0)  # within a thousandth of the first level that delivers
    assert curve.to_book(732.0) == pytest.approx(500.0 + 232.0 / 232.89 * 500.0)  # just short of it: interpolated
    assert curve.to_book(600.0) == pytest.approx(500.0 + 100.0 / 232.89 * 500.0)


def test_a_curve_set_keeps_the_result_contract() -> None:
    curves = parse_curves("channel,spend,response\na,0,0\na,10,4\na,20,6\nb,0,0\nb,30,9\n", source="c.csv")
    assert list(curves.to_frame("points")["channel"]) == ["a", "a", "a", "b", "b"]
    assert list(curves.to_frame("fits")["channel"]) == ["a", "b"]
    doc = json.loads(curves.to_json(), parse_constant=lambda token: pytest.fail(f"{token} in JSON"))
    assert doc["seed"] is None and doc["version"] == curves.version and doc["source"] == "c.csv"
    assert len(doc["points"]) == 5 and doc["order_value"] is None
    assert "<table" in curves._repr_html_()
    with pytest.raises(InputError, match="unknown table"):
        curves.to_frame("nope")


# ------------------------------------------------------------------------------------------------- untrusted files


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://x")', "+cmd", "-2+3", "@SUM(A1)", "tv\x1b[31m", "tv\x07", "t v", "2tv", "télé", "t\nv"],
)
def test_a_channel_name_breaking_the_scenario_s_rule_is_refused_by_row(name: str) -> None:
    """Issue 15, points 4 and 5: a curves file's channel follows the scenario's name rule; a formula or a control
    character is refused naming the row, before anything is written."""
    text = 'channel,spend,response\ntv,0,0\ntv,10,5\n"' + name.replace('"', '""') + '",0,0\n'
    with pytest.raises(InputError) as info:
        parse_curves(text, source="c.csv")
    assert info.value.problems == [
        f"c.csv: row 4: channel: channel name must be letters, digits and underscores, not starting with a digit "
        f"(got {name!r})"
    ]


@pytest.mark.parametrize("name", ["NA", "null", "None", "nan", "NaN", "N_A", "_"])
def test_names_that_look_missing_are_names(name: str) -> None:
    """Issue 15, point 6: a name is text, never a missing value."""
    curves = parse_curves(f"channel,ymax,half_saturation,slope\n{name},100,10,1\ntv,50,5,1\n")
    assert curves.channels == (name, "tv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("channel,ymax,half_saturation,slope\ntv,1000,1e-300,1\n", "row 2: half_saturation: must be at least 0.001"),
        ("channel,ymax,half_saturation,slope\ntv,1e308,10,1\n", "row 2: ymax: must be at most 1e+15 (got 1e308)"),
        ("channel,ymax,half_saturation,slope\ntv,10,10,40\n", "row 2: slope: must be in [0.1, 10] (got 40.0)"),
        ("channel,ymax,half_saturation,slope\ntv,10,10,1e-300\n", "row 2: slope: must be in [0.1, 10] (got 1e-300)"),
        ("channel,ymax,half_saturation,slope,current\ntv,10,10,1,1e16\n", "row 2: current: must be at most 1e+15"),
        ("channel,spend,response\ntv,0,0\ntv,1e308,1e308\n", "row 3: spend: must be at most 1e+15 (got 1e308)"),
        ("channel,spend,response\ntv,0,0\ntv,10,-1e308\n", "row 3: response: must be a finite number >= -1e15"),
        ("channel,spend,response\ntv,0,0\ntv,1e-300,5\n", "channel tv: spend: points must be at least 0.001 apart"),
    ],
)
def test_curves_the_program_cannot_solve_are_refused_at_reading(text: str, expected: str) -> None:
    """Issue 15, point 10: a step at 0 (half-saturation 1e-300), overflowing amounts, a slope that is a step."""
    with pytest.raises(InputError) as info:
        parse_curves(text, source="c.csv")
    assert any(p.startswith("c.csv: ") and expected in p for p in info.value.problems), info.value.problems


def test_the_limits_on_amounts_are_inclusive() -> None:
    curves = parse_curves("channel,ymax,half_saturation,slope\ntv,1e15,0.001,10\nr,1,1e15,0.1\n")
    assert curves.curve("tv").hill == Hill(1e15, 1e-3, 10.0)
    assert np.isfinite(curves.curve("tv")(np.array([0.0, 1e-3, 1.0, 1e12]))).all()


def test_a_long_curves_file_is_refused_at_the_first_row_past_the_limit(tmp_path: Path) -> None:
    """Issue 15, point 12: refused at once, without reading (or parsing) the rest of the file."""
    from mixsim.optimizer.read import MAX_CURVE_ROWS

    class Endless:
        """A file of points that never ends: reading it whole would never return."""

        read_lines = 0

        def readline(self, size: int = -1) -> str:
            self.read_lines += 1
            return "channel,spend,response\n" if self.read_lines == 1 else f"tv,{self.read_lines},1\n"

    from mixsim.optimizer.read import _parse  # the reader's own loop, on a file that would never end

    endless = Endless()
    with pytest.raises(InputError) as info:
        _parse(endless, "big.csv", math.nan, 1.0, None)  # type: ignore[arg-type]
    assert info.value.problems == [
        f"big.csv: row {MAX_CURVE_ROWS + 2}: more than {MAX_CURVE_ROWS:,} rows (the most a curves file may have; "
        "at most 1,000 points per channel); nothing past it was read"
    ]
    assert endless.read_lines == MAX_CURVE_ROWS + 2


def test_a_file_without_line_breaks_is_refused_at_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "zero.csv"
    path.write_bytes(b"\0" * 50_000)
    with pytest.raises(InputError, match=r"zero\.csv: line 1: longer than 10,000 characters"):
        read_curves(path)


def test_a_curve_has_at_most_a_thousand_points() -> None:
    text = "channel,spend,response\n" + "".join(f"tv,{i},{i}\n" for i in range(1001))
    with pytest.raises(InputError, match="channel tv: at most 1,000 points per curve"):
        parse_curves(text, source="c.csv")
    assert len(parse_curves(text.rsplit("tv,1000", 1)[0]).curve("tv").spend) == 1000


def test_a_screenful_of_problems_then_their_count() -> None:
    """Issue 15, point 12: a file with a mistake on every row lists twenty, then counts the rest."""
    text = "channel,spend,response\n" + "tv,x,1\n" * 500
    with pytest.raises(InputError) as info:
        parse_curves(text, source="c.csv")
    problems = info.value.problems
    assert len(problems) == 21
    assert problems[0] == "c.csv: row 2: spend: must be a number (got 'x')"
    assert problems[-1] == "c.csv: and 480 more problem(s) like these"


MIXSIM_POINTS = (
    "channel,spend,planned,revenue,revenue_low,revenue_high,conversions,conversions_low,conversions_high,"
    "fitted_revenue\n"
    "tv,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\n"
    "tv,100.0,100.0,300.0,250.0,350.0,6.0,5.0,7.0,300.0\n"
    "tv,150.0,200.0,-20.0,-40.0,10.0,-0.4,-0.8,0.2,-20.0\n"
    "search,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0\n"
    "search,40.0,50.0,80.0,70.0,90.0,1.6,1.4,1.8,80.0\n"
)
MIXSIM_FITS = (
    "channel,ymax,half_saturation,slope,shape,fit_rmse,fit_r2,min_spend,max_spend,fixed_cost,current_spend,"
    "revenue_at_current,roas_at_current,marginal_roas_at_current\n"
    "tv,,,,concave,,,0.0,150.0,300.0,100.0,300.0,3.0,0.0\n"
    "search,1000.0,200.0,1.2,s-shaped,1.5,0.98,0.0,40.0,0.0,40.0,120.0,3.0,2.5\n"
)


def test_mixsim_s_own_points_file_is_read_with_its_bookings_and_negative_revenue(tmp_path: Path) -> None:
    """Issue 15, point 17: curve_points.csv as ``mixsim curves --out`` writes it."""
    path = tmp_path / "curve_points.csv"
    path.write_text(MIXSIM_POINTS, encoding="utf-8")
    tv = read_curves(path).curve("tv")
    np.testing.assert_array_equal(tv.spend, [0.0, 100.0, 150.0])
    np.testing.assert_array_equal(tv.revenue, [0.0, 300.0, -20.0])  # a measured difference may be below 0
    np.testing.assert_array_equal(tv.planned, [0.0, 100.0, 200.0])
    assert tv.to_book(150.0) == pytest.approx(200.0)  # booked 200 to deliver 150, as measured


def test_mixsim_s_own_fits_file_is_read_with_unfitted_channels_from_the_points_beside(tmp_path: Path) -> None:
    """Issue 15, point 17: curve_fits.csv as ``mixsim curves --out`` writes it; a channel with too few points for a
    fit (empty Hill columns) takes its curve from curve_points.csv beside it, and its current spend from the fits."""
    fits = tmp_path / "curve_fits.csv"
    fits.write_text(MIXSIM_FITS, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_curves(fits)  # no points beside it
    assert info.value.problems == [
        f"{fits}: row 2: channel tv has no Hill fit (ymax, half_saturation and slope are empty: too few distinct "
        "points were measured to fit one), and no curve_points.csv beside this file gives its points; give the "
        "points file as the curves"
    ]
    (tmp_path / "curve_points.csv").write_text(MIXSIM_POINTS, encoding="utf-8")
    curves = read_curves(fits)
    assert curves.channels == ("tv", "search")
    tv, search = curves.curve("tv"), curves.curve("search")
    assert tv.hill is None and float(tv(100.0)) == 300.0 and tv.to_delivered(tv.current) == pytest.approx(100.0)
    assert search.hill == Hill(1000.0, 200.0, 1.2) and search.current == 40.0 and search.max_spend == 40.0


def test_curves_of_several_scenarios_measured_together_are_each_ones_alone(
    make_scenario: Callable[..., Scenario],
) -> None:
    """Two worlds (tv's awareness differs), one around today's plan and one around another, measured in one batch
    of work on two workers: each world's curves are those it gives measured alone."""
    worlds = [make_scenario(), make_scenario("channels.tv.p_aware=0.2")]
    arounds = [None, {"tv": 3000.0, "search": 500.0}]
    together = measure_curves(worlds, seed=4, replications=2, levels=(0, 1, 2), arounds=arounds, workers=2)
    for world, around, measured in zip(worlds, arounds, together, strict=True):
        alone = response_curves(world, seed=4, replications=2, levels=(0, 1, 2), around=around)
        assert measured.to_frame().equals(alone.to_frame()) and measured.plan_revenue == alone.plan_revenue
    assert not together[0].to_frame().equals(together[1].to_frame())
