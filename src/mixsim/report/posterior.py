"""The report's opening across a posterior: the recommended plan's gain with an interval that holds what the data
leave uncertain as well as chance, how it fares against the point estimate's plan, and the test to run next (pure
functions of results; the figure comes drawn)."""

from __future__ import annotations

import html

from mixsim.report.facts import money
from mixsim.uncertainty.nexttest import ExperimentRanking
from mixsim.uncertainty.robust import RobustPlan

__all__ = ["posterior_summary"]


def posterior_summary(robust: RobustPlan, tests: ExperimentRanking | None, figure: str = "") -> str:
    """The summary a CFO reads first when the scenario comes with a posterior: the plan recommended under the risk
    asked for, its simulated gain over today's in every parameter set (its interval, the share of its spread from
    the parameters and from chance, in how many sets it beats today), the point estimate's plan beside it, the
    outcomes of today's and the recommended plan side by side (``figure``), and the next test with its reason.

    Parameters
    ----------
    robust : RobustPlan
        The plan across the parameter sets, checked in paired simulation (without a check, no gain is said).
    tests : ExperimentRanking or None
    figure : str, default=""
        The outcomes figure, as an HTML image.

    Returns
    -------
    str
        An HTML block.
    """
    data = robust.to_dict()
    kpi, risk, worlds = data["objective"], data["risk"], data["worlds"]
    source = robust.check.sets.source if robust.check is not None else ""
    items = []
    moves = sorted(data["allocation"].items(), key=lambda item: -abs(item[1]["spend"] - item[1]["current"]))
    budget = max(sum(row["spend"] for row in data["allocation"].values()), 1.0)
    said = "; ".join(
        f"<b>{html.escape(name)}</b> {money(row['current'])} &rarr; {money(row['spend'])} "
        f"({money(row['spend'] - row['current'], sign=True)})"
        for name, row in moves[:3]
        if abs(row["spend"] - row["current"]) >= 0.005 * budget
    )
    unchanged = "today's plan as it is"
    items.append(
        f"<b>Recommended plan</b>, best under {html.escape(risk)} across {worlds} parameter sets"
        + (f" from {html.escape(source)}" if source else "")
        + f": {said or unchanged}."
    )
    check = data["check"]
    if check is not None:
        plans = check["variants"]
        ours, point = plans["risk plan"][kpi], plans["point plan"][kpi]
        low, high = ours["gain"]["ci90"]
        items.append(
            f"<b>Gain</b>: {_amount(kpi, ours['gain']['mean'])} {kpi} [{_amount(kpi, low)}, {_amount(kpi, high)}] "
            f"over today's plan, simulated in every parameter set ({check['replications']} paired replications "
            f"each; the interval holds 90% of sets and replications). {_shares(ours)} It does better than today's "
            f"plan in {_of(ours['higher'], worlds)} parameter sets."
        )
        plow, phigh = point["gain"]["ci90"]
        items.append(
            f"<b>Against the point estimate's plan</b> (best for the single fitted market) gains "
            f"{_amount(kpi, point['gain']['mean'])} [{_amount(kpi, plow)}, {_amount(kpi, phigh)}] and does better "
            f"than today's in {_of(point['higher'], worlds)} sets; its regret under {html.escape(risk)} is "
            f"{_amount(kpi, data['regret'], sign=False)} (projected)."
        )
    if tests is not None:
        best = tests.best
        items.append(
            f"<b>Next test</b>: {html.escape(best.channel)}, {money(best.extra)} more over {tests.weeks} weeks: "
            f"{html.escape(best.reason)} (expected value of its result {_amount(tests.objective, best.evsi)})."
        )
    body = "".join(f"<li>{item}</li>" for item in items)
    return f"<div class='summary'><h2>Summary across the posterior</h2><ul>{body}</ul>{figure}</div>"


def _amount(kpi: str, value: float, sign: bool = True) -> str:
    """Money for revenue and profit, a count for conversions."""
    if kpi == "conversions":
        return f"{value:+,.0f}" if sign else f"{value:,.0f}"
    return money(value, sign=sign)


def _shares(figures: dict[str, float]) -> str:
    parameters, chance = figures["from_parameters"], figures["from_chance"]
    if parameters != parameters or chance != chance:  # NaN: one replication per set
        return ""
    return f"Of its spread, {parameters:.0%} comes from what the data leave uncertain and {chance:.0%} from chance."


def _of(share: float, worlds: int) -> str:
    """``share`` of ``worlds`` as a count; undefined (every gain exactly 0) reads as none."""
    return f"{round(share * worlds)} of {worlds}" if share == share else f"none of {worlds}"
