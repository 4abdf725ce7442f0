"""Figures of results: panels, marks at the plan's numbers, stable channel colours, atomic saving."""

from __future__ import annotations

import io
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from conftest import ROOT, small_data
from mixsim.errors import InfeasibleError
from mixsim.optimizer import Problem, frontier, solve
from mixsim.optimizer.curves import CurveSet, Hill, ResponseCurve
from mixsim.optimizer.plan import Frontier
from mixsim.plots import (
    PALETTE,
    STAGE_COLORS,
    channel_colors,
    plot_allocation,
    plot_attribution,
    plot_attribution_check,
    plot_comparison,
    plot_curves,
    plot_flighting,
    plot_frontier,
    plot_funnel,
    plot_journeys,
    save_figure,
)
from mixsim.research.attribution import against_truth
from mixsim.results import SimulationResult
from mixsim.scenario import STAGES, Limit, Scenario, load_scenario, parse_scenario
from mixsim.simulation import simulate
from mixsim.whatif import Comparison, compare, vary

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# (ymax, half saturation, slope, current spend); the last is S-shaped.
HILLS = {
    "tv": (1e5, 2e4, 0.8, 1e4),
    "search": (5e4, 1e4, 1.0, 1e4),
    "social": (8e4, 3e4, 0.9, 1e4),
    "video": (6e4, 1.5e4, 2.0, 5e3),
}


def make_curves(names: tuple[str, ...] = tuple(HILLS), *, open_ended: bool = False) -> CurveSet:
    curves = []
    for name in names:
        ymax, half, slope, current = HILLS.get(name, (4e4, 1e4, 1.0, 5e3))
        hill = Hill(ymax, half, slope)
        spend = np.linspace(0.0, 4 * half, 9)
        revenue = hill(spend)
        curves.append(
            ResponseCurve(
                name,
                spend,
                revenue,
                revenue * 0.9,
                revenue * 1.2,
                hill,
                max_spend=math.inf if open_ended else 4 * half,
                current=current,
                fit_r2=0.99,
            )
        )
    return CurveSet(tuple(curves), order_value=50.0, margin=0.5, source="test curves")


@pytest.fixture(scope="module")
def curves() -> CurveSet:
    return make_curves()


@pytest.fixture(scope="module")
def plan(curves: CurveSet):
    return solve(Problem(curves, budget=6e4)).check()


@pytest.fixture(scope="module")
def budget_frontier(curves: CurveSet) -> Frontier:
    # tv must get at least 20,000: the 10,000 budget is infeasible. Budgets deliberately out of order.
    problem = Problem(curves, budget=1e5, limits={"tv": Limit(2e4, math.inf)})
    return frontier(problem, [6e4, 1e4, 3e4, 4.5e4, 9e4])


def by_gid(fig: Figure, gid: str) -> list:
    return fig.findobj(lambda artist: artist.get_gid() == gid)


def one(fig: Figure, gid: str):
    found = by_gid(fig, gid)
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


# --- colours -------------------------------------------------------------------------------------------------


def test_channel_colors_follow_position_and_repeat_past_the_palette():
    names = [f"c{i}" for i in range(len(PALETTE) + 2)]
    colors = channel_colors(names)
    assert list(colors.values())[: len(PALETTE)] == list(PALETTE)
    assert len(set(PALETTE)) == len(PALETTE)
    assert colors[f"c{len(PALETTE)}"] == PALETTE[0]
    assert channel_colors(["b", "a"]) == {"b": PALETTE[0], "a": PALETTE[1]}


def test_channels_past_the_palette_get_another_line_style():
    names = tuple(f"c{i}" for i in range(len(PALETTE) + 1))
    fig = plot_curves(make_curves(names))
    first = one(fig, "fit:c0")
    again = one(fig, f"fit:c{len(PALETTE)}")
    assert first.get_color() == again.get_color()
    assert first.get_linestyle() != again.get_linestyle()


def test_a_channel_keeps_its_colour_in_every_figure(curves, plan, budget_frontier):
    colors = channel_colors(curves.channels)
    figures = plot_curves(curves, plan), plot_allocation(plan), plot_frontier(budget_frontier)
    for name in curves.channels:
        expected = to_rgb(colors[name])
        assert to_rgb(one(figures[0], f"fit:{name}").get_color()) == expected
        assert to_rgb(one(figures[1], f"optimal:{name}").get_facecolor()) == expected
        assert to_rgb(one(figures[1], f"current:{name}").get_edgecolor()) == expected
        assert to_rgb(one(figures[2], f"allocation:{name}").get_facecolor()[0]) == expected
    assert len({colors[n] for n in curves.channels}) == len(curves.channels)


def test_order_keeps_a_channels_colour_in_a_figure_of_fewer_channels(curves):
    alone = CurveSet((curves.curve("social"),))
    fig = plot_curves(alone, order=curves.channels)
    assert to_rgb(one(fig, "fit:social").get_color()) == to_rgb(channel_colors(curves.channels)["social"])
    with pytest.raises(ValueError, match="social"):
        plot_curves(alone, order=["tv", "search"])


# --- plot_curves -----------------------------------------------------------------------------------------------


def test_plot_curves_draws_one_panel_per_channel(curves):
    fig = plot_curves(curves, ncols=3)
    assert isinstance(fig, Figure)
    # 4 channels in a 2 x 3 grid: the two empty cells are removed.
    assert len(fig.axes) == 4
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == list(curves.channels)
    ax = fig.axes[0]
    assert ax.get_xlabel() == r"Spend (\$)"
    assert ax.get_ylabel() == r"Incremental revenue (\$)"
    assert ax.xaxis.get_major_formatter()(12345.0) == "12,345"
    assert ax.yaxis.get_major_formatter()(1234567.0) == "1,234,567"


def test_plot_curves_marks_planned_and_current_spend(curves, plan):
    fig = plot_curves(curves, plan)
    for line in plan.channels:
        planned = one(fig, f"planned:{line.channel}")
        assert isinstance(planned, Line2D)
        assert np.allclose(planned.get_xdata(), line.spend)
        assert planned.get_linestyle() == "-"
        current = one(fig, f"current:{line.channel}")
        assert np.allclose(current.get_xdata(), line.current)
        assert current.get_linestyle() == "--"
    ax = fig.axes[list(curves.channels).index("tv")]
    tv = next(c for c in plan.channels if c.channel == "tv")
    assert f"{tv.marginal_return:.2f}" in ax.get_title()
    assert f"{tv.spend:,.0f}" in ax.get_title()
    assert "planned spend" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_plot_curves_without_a_plan_or_with_an_infeasible_one_marks_no_plan(curves):
    infeasible = solve(Problem(curves, budget=1e4, limits={"tv": Limit(2e4, math.inf)}))
    assert infeasible.status == "infeasible"
    for fig in (plot_curves(curves), plot_curves(curves, infeasible)):
        assert not fig.findobj(lambda a: str(a.get_gid()).startswith("planned:"))
        assert len(by_gid(fig, "current:tv")) == 1
        assert "planned spend" not in [t.get_text() for t in fig.legends[0].get_texts()]


def test_plot_curves_points_carry_their_interval_and_the_fit_spans_the_curve(curves):
    fig = plot_curves(curves)
    ax = fig.axes[0]
    tv = curves.curve("tv")
    bars = ax.containers[0].lines[2][0].get_segments()
    assert len(bars) == len(tv.spend)
    assert all(seg[0][0] == seg[1][0] for seg in bars)  # vertical bars
    k = 4
    assert np.allclose(bars[k], [[tv.spend[k], tv.revenue_low[k]], [tv.spend[k], tv.revenue_high[k]]])
    fit = one(fig, "fit:tv")
    assert fit.get_xdata()[0] == 0.0
    assert fit.get_xdata()[-1] == pytest.approx(tv.max_spend)
    assert np.allclose(fit.get_ydata(), tv(fit.get_xdata()))


def test_open_ended_curves_are_drawn_over_a_finite_range():
    curves = make_curves(open_ended=True)
    fig = plot_curves(curves)
    for curve in curves.curves:
        end = one(fig, f"fit:{curve.channel}").get_xdata()[-1]
        assert math.isfinite(end)
        assert curve.hill is not None
        assert end >= 4 * curve.hill.half_saturation
        assert end >= 2 * curve.current


def test_plot_curves_rejects_an_empty_set():
    with pytest.raises(ValueError, match="no curves"):
        plot_curves(CurveSet(()))


# --- plot_frontier ---------------------------------------------------------------------------------------------


def test_plot_frontier_has_two_or_three_panels(budget_frontier):
    assert len(plot_frontier(budget_frontier).axes) == 3
    assert len(plot_frontier(budget_frontier, allocation=False).axes) == 2


def test_plot_frontier_leaves_infeasible_budgets_out(budget_frontier):
    statuses = {p.budget: p.status for p in budget_frontier.plans}
    assert statuses[1e4] == "infeasible"
    feasible = sorted((p for p in budget_frontier.plans if p.optimal), key=lambda p: p.budget)
    fig = plot_frontier(budget_frontier)
    revenue_ax, marginal_ax, _ = fig.axes
    revenue = revenue_ax.get_lines()[0]
    assert list(revenue.get_xdata()) == [p.budget for p in feasible]
    assert np.allclose(revenue.get_ydata(), [p.revenue for p in feasible])
    assert np.allclose(marginal_ax.get_lines()[0].get_ydata(), [p.shadow_price for p in feasible])
    assert "1 infeasible budget left out" in fig.get_suptitle()
    assert np.all(np.isfinite(revenue.get_ydata()))


def test_plot_frontier_marks_break_even_and_the_current_budget(budget_frontier):
    fig = plot_frontier(budget_frontier)
    marginal_ax = fig.axes[1]
    line = one(fig, "break-even")
    assert line in marginal_ax.get_lines()
    assert np.allclose(line.get_ydata(), 1.0)
    assert line.get_label() == r"break-even (1 \$ per \$)"
    current = sum(c.current for c in budget_frontier.plans[0].channels)
    marks = by_gid(fig, "current")
    assert len(marks) == 3
    assert all(np.allclose(m.get_xdata(), current) for m in marks)


def test_plot_frontier_for_profit_breaks_even_at_zero(curves):
    fig = plot_frontier(frontier(Problem(curves, budget=1e5, objective="profit"), [2e4, 6e4]))
    assert np.allclose(one(fig, "break-even").get_ydata(), 0.0)


@pytest.mark.parametrize(
    ("objective", "target", "label", "break_even"),
    [
        ("revenue", None, r"Revenue of the next \$ (\$ per \$)", 1.0),
        ("profit", None, r"Profit of the next \$ (\$ per \$)", 0.0),
        ("conversions", None, r"Revenue of the next \$ (\$ per \$)", 1.0),
        ("cpa", 80.0, r"Revenue of the next \$ (\$ per \$)", 1.0),
        ("min-spend", 500.0, r"Shadow price of the budget (min-spend per \$)", None),
    ],
)
def test_the_next_dollar_reads_in_the_objectives_unit(curves, objective, target, label, break_even):
    """What the objectives table says an objective counts decides the axis: money as it is, conversions as the
    revenue they bring at the order value, anything else as a plain shadow price without a break-even."""
    from mixsim.optimizer.objectives import OBJECTIVES

    problem = Problem(curves, budget=1e5, objective=objective, target=target)
    plans = frontier(problem, [4e4, 6e4])
    fig = plot_frontier(plans, allocation=False)
    marginal_ax = fig.axes[1]
    assert marginal_ax.get_ylabel() == label
    feasible = [p for p in plans.plans if p.optimal]
    factor = curves.order_value if OBJECTIVES[objective].unit == "conversions" else 1.0
    assert np.allclose(marginal_ax.get_lines()[0].get_ydata(), [p.shadow_price * factor for p in feasible])
    marks = by_gid(fig, "break-even")
    assert [float(m.get_ydata()[0]) for m in marks] == ([] if break_even is None else [break_even])


def test_plot_frontier_with_no_feasible_budget_still_draws(curves):
    problem = Problem(curves, budget=1e4, limits={"tv": Limit(2e4, math.inf)})
    fig = plot_frontier(frontier(problem, [5e3, 1e4]))
    assert len(fig.axes) == 3
    assert "2 infeasible budgets left out" in fig.get_suptitle()
    assert "no feasible budget" in [t.get_text() for t in fig.axes[0].texts]


# --- plot_allocation -------------------------------------------------------------------------------------------


def test_plot_allocation_shows_current_and_optimal_spend(plan):
    fig = plot_allocation(plan)
    assert len(fig.axes) == 1
    for line in plan.channels:
        assert one(fig, f"current:{line.channel}").get_width() == pytest.approx(line.current)
        assert one(fig, f"optimal:{line.channel}").get_width() == pytest.approx(line.spend)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [c.channel for c in plan.channels]


def test_plot_allocation_refuses_an_infeasible_plan(curves):
    infeasible = solve(Problem(curves, budget=1e4, limits={"tv": Limit(2e4, math.inf)}))
    with pytest.raises(InfeasibleError, match="minimums add to 20,000"):
        plot_allocation(infeasible)


# --- save_figure -----------------------------------------------------------------------------------------------


def test_save_figure_writes_a_png_atomically(tmp_path, plan):
    fig = plot_allocation(plan)
    paths = save_figure(fig, tmp_path / "sub" / "allocation")
    assert paths == [tmp_path / "sub" / "allocation.png"]
    assert paths[0].read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["allocation.png"]
    # The figure is still the caller's: it can be saved again.
    assert fig.axes
    save_figure(fig, tmp_path / "again")
    assert (tmp_path / "again.png").read_bytes()[:8] == PNG_SIGNATURE


def test_save_figure_writes_every_format_and_is_reproducible(tmp_path, plan):
    fig = plot_allocation(plan)
    paths = save_figure(fig, tmp_path / "a", ("png", "svg", "pdf"))
    assert [p.name for p in paths] == ["a.png", "a.svg", "a.pdf"]
    assert paths[2].read_bytes().startswith(b"%PDF")
    assert b"<svg" in paths[1].read_bytes()
    save_figure(fig, tmp_path / "b", ("svg", "pdf"))
    assert (tmp_path / "b.svg").read_bytes() == paths[1].read_bytes()
    assert (tmp_path / "b.pdf").read_bytes() == paths[2].read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "a.png", "a.svg", "b.pdf", "b.svg"]


def test_save_figure_rejects_an_unknown_format_before_writing(tmp_path, plan):
    with pytest.raises(ValueError, match="'bmpx'"):
        save_figure(plot_allocation(plan), tmp_path / "x", ("png", "bmpx"))
    assert list(tmp_path.iterdir()) == []


# --- simulation results ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> Scenario:
    return parse_scenario(small_data(), source="small.toml")


@pytest.fixture(scope="module")
def result(small: Scenario) -> SimulationResult:
    return simulate(small, replications=2, incrementality=True)


@pytest.fixture(scope="module")
def comparison(small: Scenario) -> Comparison:
    # The budget is the optimizer's money, not the simulation's: a variant whose difference is exactly 0, beside
    # one that shows. (The base's own synergy, 0.1, would be the base itself, not a variant.)
    variants = vary(small, {"budget.total": ["9000"]}) + vary(small, {"funnel.synergy": ["0.3"]})
    return compare(small, variants, replications=2)


def gids(fig: Figure, prefix: str) -> list[str]:
    return sorted(str(a.get_gid()) for a in fig.findobj(lambda a: str(a.get_gid()).startswith(prefix)))


def test_plot_funnel_stacks_the_stages_up_to_the_population(result):
    fig = plot_funnel(result)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Day"
    assert ax.get_ylabel() == "Customers"
    daily = result.to_frame("daily")
    stages = daily[daily["quantity"].isin(STAGES)].pivot(index="day", columns="quantity", values="mean")
    days = stages.index.to_numpy()
    assert len(days) == result.scenario.horizon_days
    top = np.zeros(len(days))
    for stage in STAGES:
        area = one(fig, f"stage:{stage}")
        assert to_rgb(area.get_facecolor()[0]) == to_rgb(STAGE_COLORS[stage])
        top += stages[stage].to_numpy()
        # The upper edge of this band is the running sum of the stages up to it.
        vertices = np.vstack([path.vertices for path in area.get_paths()])
        upper = [vertices[vertices[:, 0] == day, 1].max() for day in days]
        assert np.allclose(upper, top)
    assert np.allclose(top, result.scenario.population)
    assert np.allclose(one(fig, "population").get_ydata(), result.scenario.population)


def test_stage_colours_are_not_channel_colours():
    assert list(STAGE_COLORS) == list(STAGES)
    assert not {to_rgb(c) for c in STAGE_COLORS.values()} & {to_rgb(c) for c in PALETTE}


def test_plot_journeys_has_a_histogram_per_panel_with_intervals(result):
    fig = plot_journeys(result)
    assert len(fig.axes) == 2
    touch_ax, days_ax = fig.axes
    assert touch_ax.get_xlabel() == "Touchpoints before conversion (channel-days with an exposure)"
    assert days_ax.get_xlabel().startswith("Days to conversion")
    assert touch_ax.get_ylabel() == days_ax.get_ylabel() == "Converted customers"
    for ax, table, key, gid in (
        (touch_ax, "touchpoints", "touchpoints", "touchpoints"),
        (days_ax, "days_to_conversion", "days", "days"),
    ):
        frame = result.to_frame(table)
        heights = [one(fig, f"{gid}:{label}").get_height() for label in frame[key]]
        assert np.allclose(heights, frame["mean"])
        assert [t.get_text() for t in ax.get_xticklabels()] == list(frame[key])
        # Error bars span the 90% interval.
        whiskers = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
        segments = whiskers.lines[2][0].get_segments()
        assert np.allclose([s[0][1] for s in segments], frame["ci90_low"])
        assert np.allclose([s[1][1] for s in segments], frame["ci90_high"])


def test_plot_attribution_draws_a_group_per_channel_and_the_truth(result):
    fig = plot_attribution(result)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(result.channels)
    colors = channel_colors(result.channels)
    table = result.to_frame("channels").set_index(["channel", "metric"])
    for k, name in enumerate(result.channels):
        bars = [one(fig, f"{rule}:{name}") for rule in ("first_touch", "last_touch", "linear")]
        for bar, rule in zip(bars, ("first_touch", "last_touch", "linear"), strict=True):
            assert bar.get_height() == pytest.approx(table.loc[(name, rule), "mean"])
            assert to_rgb(bar.get_edgecolor()) == to_rgb(colors[name])
            assert abs(bar.get_x() + bar.get_width() / 2 - k) < 0.5  # inside the channel's group
        truth = one(fig, f"incremental:{name}")
        assert np.allclose(truth.get_ydata(), table.loc[(name, "incremental_conversions"), "mean"])
        assert abs(truth.get_xdata()[0] - k) < 0.5
    assert len(gids(fig, "linear:")) == len(result.channels)
    assert len(gids(fig, "incremental:")) == len(result.channels)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("true incremental (counterfactual)" in text for text in legend)


def test_plot_attribution_without_incrementality_marks_no_truth(small):
    plain = simulate(small, replications=2)
    assert plain.incrementality is None
    fig = plot_attribution(plain)
    assert len(fig.axes) == 1
    assert gids(fig, "incremental:") == []
    assert len(gids(fig, "first_touch:")) == len(plain.channels)
    assert not any("incremental" in t.get_text() for t in fig.legends[0].get_texts())


def test_plot_attribution_check_marks_every_model_and_the_truth(small):
    check = against_truth(simulate(small, replications=2, incrementality=True, journeys=1.0))
    fig = plot_attribution_check(check)
    left, right = fig.axes[:2]
    colors = channel_colors(check.channels)
    credit = check.credit.mean(axis=0)
    for m, model in enumerate(check.models):
        for c, name in enumerate(check.channels):
            mark = one(fig, f"{model}:{name}")
            assert np.allclose(mark.get_ydata(), credit[m, c])
            assert abs(mark.get_xdata()[0] - c) < 0.5
            assert to_rgb(mark.get_color()) == to_rgb(colors[name])
    truth = one(fig, "truth")
    assert np.allclose(truth.get_ydata(), check.truth.mean(axis=0))
    errors = check.share_error().mean(axis=0)
    heights = {m: one(fig, f"share_error:{m}").get_width() for m in check.models}
    assert heights == pytest.approx(dict(zip(check.models, errors, strict=True)))
    # Best model at the top of the error panel.
    labels = [t.get_text() for t in right.get_yticklabels()]
    assert labels[-1] == check.models[int(np.argmin(errors))]
    assert left.get_ylabel() == "Conversions"


def test_plot_comparison_greys_exactly_the_differences_it_cannot_tell_from_zero(comparison):
    frame = comparison.to_frame("kpis")
    variants = comparison.labels[1:]
    for kpi in ("conversions", "spend"):
        fig = plot_comparison(comparison, kpi)
        assert len(fig.axes) == 1
        ax = fig.axes[0]
        zero = one(fig, "zero")
        assert zero in ax.get_lines()
        assert np.allclose(zero.get_xdata(), 0.0)
        rows = frame[frame["kpi"] == kpi].set_index("variant")
        assert [t.get_text() for t in ax.get_yticklabels()] == list(variants)
        unclear = {v for v in variants if not rows.loc[v, "distinguishable"]}
        for v in variants:
            point = one(fig, f"diff:{v}")
            assert np.allclose(point.get_xdata(), rows.loc[v, "diff"])
            hollow = to_rgb(point.get_markerfacecolor()) == to_rgb("white")
            assert hollow == (v in unclear)
        assert gids(fig, "~0:") == sorted(f"~0:{v}" for v in unclear)
        assert all(one(fig, f"~0:{v}").get_text() == "~0" for v in unclear)
        assert "base" not in [t.get_text() for t in ax.get_yticklabels()]
    # The fixture holds both kinds: the same synergy as the base, and a change that shows.
    conversions = frame[(frame["kpi"] == "conversions") & (frame["variant"] != "base")]
    assert sorted(conversions["distinguishable"]) == [False, True]


def drawn_texts(fig: Figure) -> list[Text]:
    """The texts a render of ``fig`` draws: visible, not blank, and tick labels only where their tick is in view."""
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            slack = 1e-9 * max(high - low, 1.0)
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                loc = tick.get_loc()
                if loc is None or not low - slack <= loc <= high + slack:
                    hidden.update({id(tick.label1), id(tick.label2)})
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def outside(fig: Figure) -> list[str]:
    """The texts of ``fig``, rendered, whose window is not inside the figure's (to half a pixel)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    bounds = fig.bbox
    out = []
    for text in drawn_texts(fig):
        box = text.get_window_extent(renderer)
        if box.x0 < bounds.x0 - 0.5 or box.y0 < bounds.y0 - 0.5 or box.x1 > bounds.x1 + 0.5 or box.y1 > bounds.y1 + 0.5:
            out.append(text.get_text())
    return out


@pytest.fixture(scope="module")
def long_labels(small: Scenario) -> Comparison:
    """A three-key grid (labels of some 90 characters), a long unbroken label and a long base label."""
    grid = {
        "channels.search.frequency_cap": ["1", "2"],
        "organic.word_of_mouth": ["0.05", "0.2"],
        "channels.email.p_consider": ["0.03"],
    }
    unbroken = ("a_scenario_file_named_without_any_spaces_at_all_v2", small.replace({"funnel.synergy": 0.3}))
    base = "D2C skincare brand, one quarter, every channel at its planned spend"
    return compare(small, [*vary(small, grid), unbroken], base_label=base, replications=1)


@pytest.mark.parametrize("kpi", ["conversions", "profit", "roas"])
def test_plot_comparison_fits_long_labels_inside_the_figure(long_labels, kpi):
    fig = plot_comparison(long_labels, kpi)
    assert outside(fig) == []
    # Every variant keeps its whole label, wrapped over lines rather than cut.
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ["".join(t.split()) for t in ticks] == ["".join(v.split()) for v in long_labels.labels[1:]]
    assert max(len(line) for t in ticks for line in t.split("\n")) <= 40
    assert long_labels.labels[0] in " ".join(fig.get_suptitle().split())


def test_plot_comparison_names_the_grid_point_that_is_the_base(small):
    comparison = compare(small, vary(small, {"funnel.synergy": ["0", "0.1", "0.3"]}), replications=1)
    fig = plot_comparison(comparison)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["funnel.synergy=0", "funnel.synergy=0.3"]
    assert "the base itself, not repeated: funnel.synergy=0.1" in fig.get_suptitle()


def test_bad_plotting_arguments_are_input_errors(tmp_path, curves, plan, comparison):
    from mixsim.errors import InputError

    for call in (
        lambda: plot_curves(curves, order=["tv"]),
        lambda: plot_curves(curves, ncols=0),
        lambda: plot_curves(CurveSet(())),
        lambda: plot_comparison(comparison, "sales"),
        lambda: save_figure(plot_allocation(plan), tmp_path / "x", ("bmpx",)),
    ):
        with pytest.raises(InputError):
            call()


def test_plot_comparison_rejects_an_unknown_kpi(comparison):
    with pytest.raises(ValueError, match="'sales'"):
        plot_comparison(comparison, "sales")


def _cut_down(path: Path) -> list[str]:
    """Overrides for a quick run: a small population over two weeks (and flighting cut to those weeks)."""
    overrides = ["scenario.population=3000", "scenario.horizon_days=14"]
    with path.open("rb") as f:
        data = tomllib.load(f)
    channels = data.get("channels", {})
    if "seasonality" in data:
        overrides.append("seasonality={}")  # its weeks are the full horizon's
    for name, channel in channels.items():
        if "flighting" in channel:
            weights = channel["flighting"][:2]
            weights = weights if any(weights) else [1, 1]
            overrides.append(f"channels.{name}.flighting=[{weights[0]}, {weights[1]}]")
    return overrides


SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_figure_draws_every_shipped_scenario(path):
    scenario = load_scenario(path, _cut_down(path))
    result = simulate(scenario, replications=1, incrementality=True)
    comparison = compare(scenario, vary(scenario, {"funnel.synergy": ["0.3"]}), replications=1)
    figures = {
        "funnel": plot_funnel(result),
        "journeys": plot_journeys(result),
        "attribution": plot_attribution(result),
        "comparison": plot_comparison(comparison),
    }
    assert {k: len(f.axes) for k, f in figures.items()} == {
        "funnel": 1,
        "journeys": 2,
        "attribution": 1,
        "comparison": 1,
    }
    for fig in figures.values():
        assert isinstance(fig, Figure)
        # Rendering catches what building does not (text matplotlib cannot lay out or parse).
        fig.savefig(io.BytesIO(), format="png", dpi=40)


# --- the plotting contract -------------------------------------------------------------------------------------


def test_plots_need_no_pyplot_and_the_engine_no_matplotlib():
    code = (
        "import sys\n"
        "import mixsim, mixsim.optimizer, mixsim.optimizer.curves, mixsim.optimizer.plan, mixsim.simulation\n"
        "assert 'matplotlib' not in sys.modules, 'engine or optimizer imports matplotlib'\n"
        "import mixsim.plots\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'plots imports pyplot'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plot_flighting_stacks_the_plan_and_draws_the_season() -> None:
    from mixsim.optimizer.weekly import WeekCurves, WeeklyProblem, solve_weekly

    rng = np.random.default_rng(7)
    xs = np.linspace(0.0, 5000.0, 11)[None, None, :] * np.ones((3, 6, 1))
    revenue = rng.uniform(1, 3, (3, 6, 1)) * 1000 * np.log1p(xs / 1000)
    plan = solve_weekly(WeeklyProblem(WeekCurves(("tv", "search", "email"), xs, revenue, np.full((3, 6), 500.0)), 9000))
    season = (1.0, 1.0, 1.5, 2.0, 1.0, 0.8)
    fig = plot_flighting(plan, season)
    colors = channel_colors(plan.channels)
    for i, name in enumerate(plan.channels):
        for week in range(1, 7):
            bar = one(fig, f"spend:{name}:{week}")
            assert bar.get_height() == pytest.approx(plan.spend[i, week - 1])
            assert to_rgb(bar.get_facecolor()) == to_rgb(colors[name])
    top = one(fig, "spend:email:4")
    assert top.get_y() + top.get_height() == pytest.approx(plan.spend[:, 3].sum())  # stacked to the week's total
    assert np.allclose(one(fig, "seasonality").get_ydata(), season)
    assert np.allclose(one(fig, "current").get_ydata(), 1500.0)
    assert gids(plot_flighting(plan), "seasonality") == []
