"""What a report says about a scenario in words: its assumptions, what the model leaves out of it, how each
channel is priced, and money with its currency (pure functions of the scenario; no figures, no HTML)."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

from mixsim.scenario import Channel, Scenario, describe_population

__all__ = ["assumptions", "caveats", "html_table", "money", "price"]


def caveats(scenario: Scenario, *, curves: bool = False, plan: bool = False) -> tuple[str, ...]:
    """What the model leaves out, said of this scenario: each sentence states something that holds for it.

    Parameters
    ----------
    scenario : Scenario
    curves, plan : bool, default=False
        Whether the report shows response curves and an optimized plan (their caveat is said only then).
    """
    said = ["Customers convert once; repeat purchases, price effects and competitors are not modelled."]
    season = scenario.seasonality
    if season is None or min(season) == max(season):
        said.append(
            "Demand has no seasonality in this scenario: every week is alike, with no day-of-week pattern or trend."
        )
    else:
        said.append(
            f"Demand follows the scenario's weekly multipliers ({min(season):.2f} to {max(season):.2f}), one "
            "multiplier of the organic hazards and of each exposure's effect, the same for every segment and "
            "channel; prices, reach and forgetting do not follow it, and there is no day-of-week pattern or trend "
            "beyond the weekly values."
        )
    links = ["shared audiences"]
    if scenario.funnel.synergy > 0:
        links.append(f"synergy ({scenario.funnel.synergy:g} per extra channel seen)")
    if scenario.organic.word_of_mouth > 0:
        links.append("word of mouth")
    said.append(f"Channels interact only through {_listed(links)}.")
    funnel = scenario.funnel
    if math.isinf(funnel.half_life_aware) and math.isinf(funnel.half_life_considering):
        said.append("Customers never forget the brand in this scenario: an exposure's effect on the funnel lasts.")
    said.append(
        "Attribution figures (first touch, last touch, linear) are bookkeeping; only the counterfactual runs measure "
        "what a channel causes."
    )
    if curves or plan:
        said.append(
            "Response curves are measured one channel at a time, the others as planned; the optimized plan is a "
            "projection, checked by simulation, not a forecast of the market."
        )
    if scenario.represents > scenario.population:
        said.append(
            f"{describe_population(scenario)}: counts and money are scaled up from a smaller sample, so intervals "
            "are wider than a full-size run's."
        )
    said.append("Every figure is as good as the scenario's assumptions: replace the benchmarks with your own numbers.")
    return tuple(said)


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table: ``header`` escaped, ``rows`` of cells already HTML."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def money(value: float, decimals: int = 0, sign: bool = False) -> str:
    """A money figure with its currency first: ``$40,954``, ``-$1,200``, ``+$300`` with ``sign``; ``n/a`` when
    undefined."""
    if not math.isfinite(value):
        return "n/a"
    text = f"${abs(value):,.{decimals}f}"
    if value < 0 and round(abs(value), decimals) > 0:
        return "-" + text
    return ("+" + text) if sign else text


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def assumptions(scenario: Scenario) -> list[tuple[str, str]]:
    """The scenario's assumptions as (item, value) rows: the market, the economics, the season, the organic
    forces, memory, synergy and the budget with its limits and groups (channels have a table of their own)."""
    sc = scenario
    econ, funnel, organic = sc.economics, sc.funnel, sc.organic
    rows = [
        ("Population", describe_population(sc)),
        ("Horizon", f"{sc.horizon_days} days"),
        ("Order value", money(econ.order_value, 2)),
        ("Gross margin", f"{econ.margin:.0%}"),
        ("Checkout abandonment", f"{econ.checkout_abandonment:.0%}"),
        ("Segments", ", ".join(f"{s.name} ({s.share:.0%})" for s in sc.segments)),
    ]
    season = sc.seasonality
    if season is None:
        rows.append(("Season", "none: every week alike"))
    else:
        peak = max(range(len(season)), key=season.__getitem__)
        rows.append(
            (
                "Season",
                f"weekly demand multipliers from {min(season):.2f} to {max(season):.2f} over {len(season)} weeks "
                f"(peak in week {peak + 1})",
            )
        )
    rows += [
        (
            "Organic (daily rates)",
            f"awareness {organic.awareness_rate:g}; word of mouth {organic.word_of_mouth:g}; consideration "
            f"{organic.consideration_rate:g}; conversion {organic.conversion_rate:g}",
        ),
        (
            "Memory half-lives",
            f"aware {_days(funnel.half_life_aware)}; considering {_days(funnel.half_life_considering)}",
        ),
        ("Synergy per extra channel seen", f"{funnel.synergy:g}"),
    ]
    if sc.repeats:
        repeat = sc.repeat
        rate = f"one attempt every {1 / repeat.purchase_rate:.0f} days" if repeat.purchase_rate > 0 else "none"
        lapse = "never" if math.isinf(repeat.lapse_half_life) else f"{repeat.lapse_half_life:g} days"
        value = "none" if econ.future_value == "none" else f"expected, discounted at {econ.discount_rate:.0%} a year"
        rows += [
            (
                "Repeat purchases",
                f"{rate} while a customer; lapse half-life {lapse}; "
                f"repeat order value {money(sc.repeat_order_value, 2)}",
            ),
            ("Future value of active customers", value),
        ]
    rows += [
        ("Fixed costs (channels in use)", money(sc.fixed_costs)),
        ("Budget", money(sc.budget_total)),
    ]
    rules = sc.budget
    if rules is not None and rules.limits:
        rows.append(
            (
                "Budget limits",
                "; ".join(
                    f"{name} {money(limit.min)} to {money(limit.max) if math.isfinite(limit.max) else 'no maximum'}"
                    for name, limit in rules.limits
                ),
            )
        )
    if rules is not None and rules.groups:
        rows.append(
            (
                "Budget groups",
                "; ".join(
                    f"{g.name} ({', '.join(g.channels)})"
                    + (f" at least {g.min_share:.0%}" if g.min_share is not None else "")
                    + (f" at most {g.max_share:.0%}" if g.max_share is not None else "")
                    for g in rules.groups
                ),
            )
        )
    return rows


def price(channel: Channel) -> str:
    """How the channel is bought: per click for a click-priced channel, per thousand exposures otherwise."""
    if channel.cpc is not None and channel.cpm is None:
        return f"{money(channel.cpc, 2)} per click (click-through {channel.ctr or 0:.1%})"
    return f"{money(1000 * channel.cost_per_exposure, 2)} per 1,000 exposures"


def _days(half_life: float) -> str:
    return "never forgotten" if math.isinf(half_life) else f"{half_life:g} days"
