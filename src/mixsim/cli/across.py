"""The command's text reports across a posterior's parameter sets: a simulation, a comparison, a plan under a risk
and a budget frontier in every world (the command parses and calls; these only format results)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mixsim.cli.text import num
from mixsim.scenario import describe_population

if TYPE_CHECKING:
    from mixsim.uncertainty import RobustPlan, WorldsComparison, WorldsResult
    from mixsim.uncertainty.curves import WorldsCurves
    from mixsim.uncertainty.frontier import RiskFrontier


def worlds_report(result: WorldsResult) -> str:
    """The KPIs across parameter sets: mean, the interval holding 90% of every world's replications, and the shares
    of the spread due to the parameters and to chance."""
    sc = result.scenario
    lines = [
        f"{sc.name}: {describe_population(sc)}, {sc.horizon_days} days, {len(result.sets):,} parameter sets from "
        f"{result.sets.source} x {result.replications} replications, seed {result.seed}",
        "Figures are means over every parameter set and replication; [low, high] holds 90% of them; the shares say",
        "how much of that spread the parameters the data allow make, and how much chance does.",
        "",
    ]
    kpis = result.to_frame().set_index("kpi")
    formats = {k: "{:,.0f}" for k in ("conversions", "purchases", "repeat_purchases")}
    formats.update(roi="{:.1%}", roas="{:.2f}")
    label = max(13, *(len(str(k)) + 2 for k in kpis.index))
    lines.append(f"{'KPI':<{label}}{'mean':>16}  {'90% interval':<28}{'parameters':>11}{'chance':>9}")
    for kpi, row in kpis.iterrows():
        fmt = formats.get(str(kpi), "{:,.2f}")
        interval = f"[{num(fmt, row['ci90_low'])}, {num(fmt, row['ci90_high'])}]"
        lines.append(
            f"{kpi!s:<{label}}{num(fmt, row['mean']):>16}  {interval:<28}"
            f"{num('{:.0%}', row['from_parameters']):>11}{num('{:.0%}', row['from_chance']):>9}"
        )
    channels = result.to_frame("channels")
    truth = channels[channels["metric"] == "incremental_roas"]
    if len(truth):
        lines += ["", f"{'channel':<{label}}{'true incremental ROAS':>22}  {'90% interval':<20}{'parameters':>11}"
                  f"{'chance':>9}"]  # fmt: skip
        for line in truth.to_dict(orient="records"):
            spread = f"[{num('{:.2f}', line['ci90_low'])}, {num('{:.2f}', line['ci90_high'])}]"
            lines.append(
                f"{line['channel']!s:<{label}}{num('{:.2f}', line['mean']):>22}  {spread:<20}"
                f"{num('{:.0%}', line['from_parameters']):>11}{num('{:.0%}', line['from_chance']):>9}"
            )
    if result.replications < 2:
        lines += ["", "With one replication per parameter set, chance cannot be told from the parameters."]
    return "\n".join(lines)


def worlds_comparison_report(result: WorldsComparison) -> str:
    """Each variant against the base across parameter sets: its mean, its paired gain with the interval holding
    90% of the worlds' and replications' gains, the shares of that spread due to the parameters and to chance, and
    the share of worlds in which its mean is the higher."""
    lines = [
        f"{len(result.sets):,} parameter sets from {result.sets.source} x {result.replications} replications, "
        f"seed {result.seed}; gains are against {result.labels[0]}, paired (same parameters, same random numbers).",
        "higher: the share of parameter sets in which the variant's mean is above the base's.",
        "",
    ]
    frame = result.to_frame()
    formats = {"conversions": "{:,.0f}", "roas": "{:.2f}"}
    for label, rows in frame.groupby("variant", sort=False):
        lines.append(f"{label}")
        lines.append(
            f"  {'KPI':<13}{'mean':>14}{'gain':>14}  {'90% interval':<26}{'parameters':>11}{'chance':>9}{'higher':>8}"
        )
        for record in rows.to_dict("records"):
            kpi, r = str(record["kpi"]), {k: float(v) for k, v in record.items() if k not in ("variant", "kpi")}
            fmt = formats.get(kpi, "{:,.0f}")
            interval = f"[{num(fmt, r['gain_ci90_low'])}, {num(fmt, r['gain_ci90_high'])}]"
            lines.append(
                f"  {kpi:<13}{num(fmt, r['mean']):>14}{num(fmt, r['gain']):>14}  {interval:<26}"
                f"{num('{:.0%}', r['from_parameters']):>11}{num('{:.0%}', r['from_chance']):>9}"
                f"{num('{:.0%}', r['higher']):>8}"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def robust_report(result: RobustPlan, source: str) -> str:
    """The plan across parameter sets beside the point estimate's, their projected returns across the worlds, the
    point plan's regret and, when checked, both plans' gains over today's in paired simulation."""
    data = result.to_dict()
    lines = [
        f"Plan under {data['risk']} across {data['worlds']} parameter sets from {source} "
        f"(objective {data['objective']}; curves measured in each, on the same seeds)",
        "",
        f"{'channel':<16}{'today':>12}{'risk plan':>12}{'point plan':>12}",
    ]
    for name, row in data["allocation"].items():
        lines.append(f"{name:<16}{row['current']:>12,.0f}{row['spend']:>12,.0f}{row['point_spend']:>12,.0f}")
    lines += ["", f"Projected {data['objective']} across the parameter sets ({data['risk']}, mean, 90% of the sets):"]
    for label, key in (("risk plan", "plan"), ("point plan", "point_plan")):
        p = data["projected"][key]
        low, high = p["range90"]
        lines.append(f"  {label:<12}{p['risk_value']:>14,.0f}{p['mean']:>14,.0f}  [{low:,.0f}, {high:,.0f}]")
    lines.append(
        f"Regret of the point plan: {data['regret']:,.0f} of {data['risk']}; the risk plan projects more in "
        f"{data['higher']:.0%} of the parameter sets."
    )
    if data["check"] is not None:
        kpi = data["objective"]
        lines += [
            "",
            f"Checked in paired simulation ({data['check']['replications']} replications per set): {kpi} gain over "
            "today's plan, mean [90% of sets and replications], share of sets where it is higher",
        ]
        for label in ("risk plan", "point plan"):
            figures = data["check"]["variants"][label][kpi]
            low, high = figures["gain"]["ci90"]
            lines.append(
                f"  {label:<12}{num('{:+,.0f}', figures['gain']['mean']):>14}  [{num('{:+,.0f}', low)}, "
                f"{num('{:+,.0f}', high)}]  {num('{:.0%}', figures['higher'])}"
            )
        wins = data["wins"]
        lines.append(
            f"Head to head, the risk plan does better in {wins['risk plan']:.0%} of the parameter sets, the point "
            f"plan in {wins['point plan']:.0%}."
        )
    lines += [f"Note: {note}" for note in data["notes"]]
    return "\n".join(lines)


def risk_frontier_report(result: RiskFrontier) -> str:
    """At each budget, the plan best across the parameter sets under the risk: its risk value, mean and the range
    of 90% of the sets, in the objective's terms."""
    kpi, risk = result.objective, str(result.risk)
    lines = [
        f"Budget frontier under {risk} across {len(result.sets)} parameter sets from {result.sets.source} "
        f"(projected {kpi}; curves measured once in each set, around today's plan)",
        "",
        f"{'budget':>12}{risk:>14}{'mean':>14}  {'90% of the sets':<26}",
    ]
    for row in result.to_frame().to_dict(orient="records"):
        budget, mean = float(row["budget"]), float(row["mean"])
        if mean != mean:
            lines.append(f"{budget:>12,.0f}  infeasible")
            continue
        spread = f"[{float(row['low']):,.0f}, {float(row['high']):,.0f}]"
        lines.append(f"{budget:>12,.0f}{float(row['risk_value']):>14,.0f}{mean:>14,.0f}  {spread:<26}")
    return "\n".join(lines)


def curves_across_report(result: WorldsCurves) -> str:
    """Per channel, what a planner reads off its curve at today's spend (incremental revenue, ROAS, the next
    dollar's return), as the mean across the parameter sets and the range of 90% of them."""
    lines = [
        f"Response curves in {len(result.sets)} parameter sets from {result.sets.source} ({result.replications} "
        f"replications per level, seed {result.seed}); at today's spend, mean [90% of the sets]:",
        "",
        f"{'channel':<16}{'incremental revenue':>34}{'ROAS':>22}{'next $':>22}",
    ]
    table = result.to_frame().set_index(["channel", "figure"])
    for channel in dict.fromkeys(name for name, _ in table.index):
        cells = []
        for figure, fmt in (("revenue_at_current", "{:,.0f}"), ("roas_at_current", "{:.2f}"),
                            ("marginal_roas_at_current", "{:.3f}")):  # fmt: skip
            row = table.loc[(channel, figure)]
            cells.append(f"{num(fmt, row['mean'])} [{num(fmt, row['low'])}, {num(fmt, row['high'])}]")
        lines.append(f"{channel!s:<16}{cells[0]:>34}{cells[1]:>22}{cells[2]:>22}")
    lines.append("next $: what one more dollar on the channel returns at today's spend.")
    return "\n".join(lines)
