"""The command's text reports: what `mixsim` prints for a simulation, curves, a plan, a frontier, a comparison,
an attribution check and a week-level plan (the command parses and calls; these only format results).

User strings (a scenario's name, a group's, a file's) reach the terminal escaped (:func:`~mixsim._names.printable`):
a report shows what a name holds and never passes an escape sequence on to the terminal.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from mixsim._names import printable
from mixsim.optimizer.export import rounded_tables
from mixsim.optimizer.objectives import OBJECTIVES
from mixsim.scenario import describe_population
from mixsim.tables import interval, json_records

if TYPE_CHECKING:
    from mixsim.optimizer.curves import CurveSet
    from mixsim.optimizer.plan import Plan
    from mixsim.optimizer.weekly.plan import WeeklyPlan
    from mixsim.research.attribution import AttributionCheck
    from mixsim.results import SimulationResult
    from mixsim.whatif import Comparison


def weekly_report(plan: WeeklyPlan) -> str:
    """The week-level plan as a flighting chart in thousands, with its projection and, when verified, the
    simulated gain and the spend delivered."""
    if not plan.optimal:
        return printable(f"Week-level plan: {plan.message}")
    wide = plan.to_frame(wide=True) / 1000
    weeks = [c for c in wide.columns if c != "total"]
    width = max(8, *(len(str(i)) for i in wide.index)) + 1
    cell = max(6, len(f"{float(wide[weeks].to_numpy().max()):.1f}") + 1)
    loop = f"{plan.iterations} solve(s), money moved " + ", ".join(f"{m:.1%}" for m in plan.moves)
    if plan.gain_changes:
        loop += ", projected gain changed " + ", ".join(f"{g:.1%}" for g in plan.gain_changes)
    if plan.runs:
        loop += f" ({plan.runs:,} simulation runs)"
    if plan.iterations > 1 or plan.converged:
        loop += f"; {plan.convergence}"
        if not plan.converged:
            loop += " (more --iterations or --replications may settle it)"
    if plan.rejected:
        loop += f"; {plan.rejected} plan(s) set aside (simulated, they earned less than the plan they moved from)"
    if plan.verification is not None:
        mean, low, high = interval(plan.verification.runs["revenue", "gain"])
        headline = (
            f"Gain: {mean:+,.0f} revenue [{low:+,.0f}, {high:+,.0f}], simulated (plan against the current flighting "
            f"in {plan.verification.replications} paired replications, 90% interval); the curves projected "
            f"{plan.projected_gain:+,.0f}."
        )
    else:
        headline = f"Gain: {plan.projected_gain:+,.0f} revenue, projected by the curves (not simulated: --verify)."
    lines = [
        f"Week-level plan: {len(plan.channels)} channels x {len(weeks)} weeks, money {plan.total:,.0f}; {loop}",
        headline,
        "Spend per channel and week (thousands):",
        f"{'channel':<{width}}" + "".join(f"{w:>{cell}}" for w in weeks) + f"{'total':>{cell + 2}}",
    ]
    for name, row in wide.iterrows():
        cells = "".join(f"{row[w]:>{cell}.1f}" for w in weeks)
        lines.append(f"{name!s:<{width}}{cells}{row['total']:>{cell + 2}.1f}")
    unspent = plan.total - float(plan.spend.sum())
    if unspent > 1e-6 * max(plan.total, 1.0):
        lines.append(
            f"Unspent: {unspent:,.0f}. No channel-week returns more within its limits: each curve ends at the top "
            "level times the spend it was measured around, so more --iterations (or higher --levels) can reach "
            "further."
        )
    lines += [
        "",
        f"Projected revenue from the channel-weeks: {plan.revenue.sum():,.0f} against {plan.current_revenue.sum():,.0f}"
        f" at the current flighting ({plan.projected_gain:+,.0f}); the next dollar returns {plan.shadow_price:.3f}.",
    ]
    if plan.verification is not None:
        rows = {(r.metric, r.outcome): r for r in plan.verification.to_frame().itertuples()}
        gain = rows["revenue", "gain"]
        lines.append(
            f"Simulated gain over the current flighting: {gain.simulated:+,.0f} [{gain.ci90_low:+,.0f}, "
            f"{gain.ci90_high:+,.0f}] (paired replications, out of sample)."
        )
        booked = float(plan.spend.sum())
        runs = plan.verification.runs
        delivered, now = float(np.mean(runs["spend", "plan"])), float(np.mean(runs["spend", "current"]))
        lines.append(
            f"Spend delivered in simulation: {delivered:,.0f} of the {booked:,.0f} the plan books "
            f"({delivered / max(booked, 1e-9):.1%}); the current flighting delivered {now:,.0f}."
        )
    return _joined(lines)


_LABEL_COLUMN = 34
"""Widest label column of the comparison's tables; a longer label gets a line of its own above its figures."""


def compare_report(result: Comparison) -> str:
    """Each variant's KPIs beside the base, with paired differences and their intervals, then each variant's
    difference per channel.

    A label wider than the label column (a grid's ``key=value, ...``) stands on a line of its own with its figures
    under it, so the columns stay put; a variant that was the base itself is named once, not listed with a
    difference that is zero by construction."""
    frame = result.to_frame("kpis")
    base = result.labels[0]
    lines = [
        f"What-if: {base} (the base) and {len(result.labels) - 1} variant(s), {result.replications} replications "
        f"each, seed {result.seed}, the same random numbers in every variant.",
        "diff: the variant minus the base, replication by replication, with its 90% interval; "
        "'~0' marks a difference the interval cannot tell from none.",
    ]
    if result.same_as_base:
        lines.append(f"The base itself, not repeated: {', '.join(result.same_as_base)}.")
    formats = {k: "{:,.0f}" for k in ("conversions", "purchases", "repeat_purchases")}
    formats.update(roi="{:.1%}", roas="{:.2f}")
    width = min(max(12, *(len(label) for label in result.labels)), _LABEL_COLUMN) + 2
    for kpi, rows in frame.groupby("kpi", sort=False):
        fmt = formats.get(str(kpi), "{:,.2f}")
        signed = fmt.replace("{:", "{:+", 1)
        lines += ["", f"{kpi}"]
        # By position: the table lists the variants in order, the base first.
        for position, (_, row) in enumerate(rows.iterrows()):
            value = f"{num(fmt, row['mean'])} [{num(fmt, row['ci90_low'])}, {num(fmt, row['ci90_high'])}]"
            if position > 0:
                flag = "" if row["distinguishable"] else "  ~0"
                diff = f"{num(signed, row['diff'])} [{num(fmt, row['diff_low'])}, {num(fmt, row['diff_high'])}]"
                value += f"   diff {diff}{flag}"
            lines += _labelled(str(row["variant"]), width, [value])
    channels = result.to_frame("channels")
    names = channels["channel"].astype(str)
    channel_width = max(12, *(len(n) for n in names)) + 2 if len(names) else 14
    titles = {"spend": "spend", "linear": "conversions attributed (linear)"}
    lines += ["", "Per channel: each variant's difference from the base (90% interval)."]
    for metric, title in titles.items():
        lines += ["", title]
        rows = channels[(channels["metric"] == metric) & (channels["variant"] != base)]
        for variant, group in rows.groupby("variant", sort=False):
            cells = []
            for _, row in group.iterrows():
                flag = "" if row["distinguishable"] else "  ~0"
                cells.append(
                    f"{row['channel']!s:<{channel_width}}{num('{:+,.0f}', row['diff'])} "
                    f"[{num('{:,.0f}', row['diff_low'])}, {num('{:,.0f}', row['diff_high'])}]{flag}"
                )
            lines += _labelled(str(variant), width, cells)
    return _joined(lines)


def _labelled(label: str, width: int, cells: list[str]) -> list[str]:
    """Table lines for one variant: its label in the first column beside its first cell, or, when it is wider than
    the column, on a line of its own with every cell under it."""
    blank = " " * width
    if len(label) <= width - 2:
        return [f"  {label:<{width}}{cells[0]}", *(f"  {blank}{c}" for c in cells[1:])]
    return [f"  {label}", *(f"  {blank}{c}" for c in cells)]


def short_path(path: str, limit: int = 90) -> str:
    """A path cut to ``limit`` characters for a one-line listing."""
    return path if len(path) <= limit else path[: limit - 3] + "..."


def attribution_report(check: AttributionCheck) -> str:
    """Each model's credit per channel beside the truth, and each model's share error."""
    sc = check.scenario
    lines = [
        f"{sc.name}: {describe_population(sc)}, {sc.horizon_days} days, {check.replications} replications, "
        f"seed {check.seed}; journeys of {check.share:.0%} of customers",
        "Conversions per channel (means): true incremental (re-run with the channel off, same random numbers)",
        "beside each model's credit.",
        "",
    ]
    credit, truth = check.credit.mean(axis=0), check.truth.mean(axis=0)  # (models, channels), (channels,)
    width = max(8, *(len(c) for c in check.channels)) + 1
    cols = max(12, *(len(m) + 2 for m in check.models))
    lines.append(f"{'channel':<{width}}{'truth':>{cols}}" + "".join(f"{m:>{cols}}" for m in check.models))
    for c, name in enumerate(check.channels):
        credits = "".join(f"{credit[m, c]:>{cols},.0f}" for m in range(len(check.models)))
        lines.append(f"{name:<{width}}{truth[c]:>{cols},.0f}{credits}")
    totals = "".join(f"{total:>{cols},.0f}" for total in credit.sum(axis=1))
    lines.append(f"{'total':<{width}}{truth.sum():>{cols},.0f}{totals}")
    models = check.to_frame("models")
    lines += [
        "",
        "Error per model: share error is half the summed gap between its credit shares and the true shares",
        "(0: the same split as the truth; 1: none in common); abs error is the summed |credit - truth| in conversions.",
        f"{'model':<16}{'share error':>12}  90% interval    {'abs error':>10}",
    ]
    for row in json_records(models.sort_values("share_error", kind="stable")):
        spread = f"[{num('{:.3f}', row['share_error_low'])}, {num('{:.3f}', row['share_error_high'])}]"
        error = num("{:.3f}", row["share_error"])
        lines.append(f"{row['model']:<16}{error:>12}  {spread:<16}{row['abs_error']:>10,.0f}")
    errors = check.share_error()
    finite = np.isfinite(errors).any(axis=0)
    if finite.any():
        mean = np.where(finite, np.nansum(errors, axis=0) / np.isfinite(errors).sum(axis=0).clip(min=1), np.inf)
        best = int(np.argmin(mean))
        verdict = f"Closest to the truth here: {check.models[best]} (share error {mean[best]:.3f})."
    else:
        verdict = "No channel had a true effect in these runs (no conversions to split): nothing to compare."
    lines += [
        "",
        verdict,
        f"Credits add up to the conversions that followed a touch (about {float(np.mean(check.conversions)):,.0f} "
        "conversions in all,",
        "organic ones included); true incremental conversions need not add up to either: some conversions would",
        "have happened without any channel, and channels that reinforce each other each claim the shared part.",
    ]
    return _joined(lines)


def simulation_report(result: SimulationResult) -> str:
    """The KPIs with their intervals, the funnel at the end, and the channel table."""
    sc = result.scenario
    lines = [
        f"{sc.name}: {describe_population(sc)}, {sc.horizon_days} days, "
        f"{result.replications} replications, seed {result.seed}",
        "Figures are means over replications; [low, high] holds 90% of simulated outcomes.",
        "",
    ]
    kpis = result.to_frame("kpis").set_index("kpi")
    formats = {k: "{:,.0f}" for k in ("conversions", "purchases", "repeat_purchases")}
    formats.update(roi="{:.1%}", roas="{:.2f}")
    label = max(13, *(len(str(k)) + 2 for k in kpis.index))
    lines.append(f"{'KPI':<{label}}{'mean':>16}  90% interval")
    for kpi, row in kpis.iterrows():
        fmt = formats.get(str(kpi), "{:,.2f}")
        lines.append(
            f"{kpi!s:<{label}}{num(fmt, row['mean']):>16}  [{num(fmt, row['ci90_low'])}, {num(fmt, row['ci90_high'])}]"
        )
    stages = result.to_frame("final_stages").set_index("stage")["mean"]
    lines += ["", "Funnel at the end: " + ", ".join(f"{s} {v:,.0f}" for s, v in stages.items())]
    if sc.repeats:
        lines.append(_customers_line(result))

    channels = result.to_frame("channels").pivot(index="channel", columns="metric", values="mean")
    channels = channels.loc[list(result.channels)]
    columns = [
        ("spend", "spend", "{:,.0f}"),
        ("unspent", "unspent", "{:,.0f}"),
        ("exposures", "exposures", "{:,.0f}"),
        ("reach", "reach", "{:,.0f}"),
        ("frequency", "freq", "{:.1f}"),
        ("first_touch", "first", "{:,.0f}"),
        ("last_touch", "last", "{:,.0f}"),
        ("linear", "linear", "{:,.0f}"),
    ]
    if result.incrementality is not None:
        columns += [
            ("incremental_conversions", "incr conv", "{:,.0f}"),
            ("incremental_roas", "iROAS", "{:.2f}"),
            ("incremental_marginal_roas", "mROAS", "{:.2f}"),
        ]
    width = max(8, *(len(c) for c in result.channels)) + 1
    lines += ["", "Attributed conversions: first touch, last touch, linear."]
    if result.incrementality is not None:
        lines.append("iROAS: true incremental revenue / spend; mROAS: the same for the last 5% of spend.")
    lines.append(f"{'channel':<{width}}" + "".join(f"{title:>12}" for _, title, _ in columns))
    for name, row in channels.iterrows():
        lines.append(f"{name!s:<{width}}" + "".join(f"{num(fmt, row[m]):>12}" for m, _, fmt in columns))
    return _joined(lines)


def _customers_line(result: SimulationResult) -> str:
    """Customers who come back, in one line: active at the end, repeat rate, days between purchases, retention."""
    values = {k: float(np.nanmean(v)) if np.isfinite(v).any() else math.nan for k, v in result.repeat_values().items()}
    retention = result.to_frame("retention").set_index("week")["mean"]
    # Weeks up to half the horizon: a later week is seen only for the few customers won in its first days.
    half = result.scenario.horizon_days / 14
    kept = [
        f"{retention[k]:.0%} after {k} weeks" for k in (4, 8, 13, 26, 52) if k <= half and np.isfinite(retention[k])
    ]
    days = values["mean_days_between"]
    return (
        f"Customers: {values['active_customers']:,.0f} active at the end; {values['repeat_rate']:.0%} of those won "
        f"bought again"
        + (f", every {days:.0f} days on average within the horizon" if math.isfinite(days) else "")
        + (f"; still active {', '.join(kept)}" if kept else "")
        + "."
    )


def curves_report(curves: CurveSet) -> str:
    """Each channel's fitted curve: parameters, fit quality, ROAS and marginal ROAS at today's spend."""
    fits = curves.to_frame("fits")
    lines = [
        f"Response curves: {curves.source}, {curves.replications} replications per level, seed {curves.seed}",
        "Incremental revenue against the channel off, the other channels as planned; Hill fit "
        "ymax * s^k / (h^k + s^k).",
        "",
    ]
    width = max(8, *(len(c) for c in curves.channels)) + 1
    head = ["current", "ymax", "half-sat h", "slope k", "R^2", "rev @ now", "ROAS", "mROAS"]
    lines.append(f"{'channel':<{width}}" + "".join(f"{h:>12}" for h in head))
    for _, row in fits.iterrows():
        cells = [
            num("{:,.0f}", row["current_spend"]),
            num("{:,.0f}", row["ymax"]),
            num("{:,.0f}", row["half_saturation"]),
            num("{:.2f}", row["slope"]),
            num("{:.3f}", row["fit_r2"]),
            num("{:,.0f}", row["revenue_at_current"]),
            num("{:.2f}", row["roas_at_current"]),
            num("{:.2f}", row["marginal_roas_at_current"]),
        ]
        lines.append(f"{row['channel']!s:<{width}}" + "".join(f"{c:>12}" for c in cells))
    lines.append("ROAS and mROAS (the next dollar's return) at the current spend, from the fitted curve.")
    return _joined(lines)


def plan_report(plan: Plan) -> str:
    """The plan's gain first (the simulated one when verified), then the allocation table, why channels are held,
    the totals, the budget's shadow price, binding constraints, the solve and the verification."""
    frame, total = rounded_tables(plan)  # the figures the files carry, so that text and files agree
    totals = total.iloc[0]
    goal = OBJECTIVES[plan.objective]
    headline = goal.headline(plan.constraints.get("target"))
    lines = [f"Plan: {headline}", f"Budget {plan.budget:,.0f}; curves from {plan.source}."]
    verified = plan.verified_gain
    if verified is not None:
        mean, low, high = verified
        lines.append(
            f"Gain: {mean:+,.0f} revenue [{low:+,.0f}, {high:+,.0f}], simulated (plan against today's in "
            f"{plan.verification.replications if plan.verification else 0} paired replications, 90% interval); "
            f"the curves projected {plan.projected_gain:+,.0f}."
        )
    else:
        lines.append(f"Gain: {plan.projected_gain:+,.0f} revenue, projected by the curves (not simulated: --verify).")
    lines.append("")
    width = max(8, *(len(c.channel) for c in plan.channels)) + 1
    # Booked columns only where some channel cannot deliver all it is given: its booking then differs.
    booked = any(
        abs(booked - spent) > 0.005 * max(spent, 1.0)
        for c in plan.channels
        for booked, spent in ((c.booked, c.spend), (c.current, c.current_spend))
    )
    columns = [
        *([("book", "book", "{:,.0f}"), ("current_book", "booked now", "{:,.0f}")] if booked else []),
        ("spend", "spend", "{:,.0f}"),
        ("current_spend", "now", "{:,.0f}"),
        ("change", "change", "{:+,.0f}"),
        ("share", "share", "{:.1%}"),
        ("projected_revenue", "incr rev", "{:,.0f}"),
        ("roas", "ROAS", "{:.2f}"),
        ("marginal_return", "marginal", "{:.3f}"),
    ]
    lines.append(f"{'channel':<{width}}" + "".join(f"{title:>12}" for _, title, _ in columns))
    for row in [*json_records(frame), *json_records(total)]:
        cells = "".join(f"{num(fmt, row[key]):>12}" for key, _, fmt in columns)
        lines.append(f"{row['channel']!s:<{width}}{cells}")
    held = [(c.channel, c.note) for c in plan.channels if c.note]
    if held:
        lines += ["", "Why:"] + [f"  {name}: {note}" for name, note in held]
    fixed = plan.fixed_costs
    lines += [
        "",
        "spend: what each channel is to deliver and be billed (the budget's quantity); now: what today's plan "
        "delivers; change: spend minus now.",
        *(
            [
                "book: the buy to place for that spend, against today's booking (booked now); some channels cannot "
                "deliver all they are given, and money not delivered is not billed."
            ]
            if booked
            else []
        ),
        "incr rev: each channel's projected incremental revenue (against it off, the others as planned); channels "
        "share customers, so these need not add up to the total. marginal: revenue of the next dollar.",
        f"Total spend {plan.spend:,.0f}"
        + (f" (fixed costs {fixed:,.0f} included)" if fixed > 0 else "")
        + f" against {plan.current_spend:,.0f} today ({totals['change']:+,.0f} in media).",
        *(
            [
                f"Bookings add up to {totals['book']:,.0f}, {totals['book'] - totals['spend']:,.0f} more than the "
                "spend: the part of the bookings "
                + ", ".join(c.channel for c in plan.channels if c.booked > c.spend + 0.5)
                + " cannot deliver, which is not billed."
            ]
            if totals["book"] > totals["spend"]
            else []
        ),
        *(
            [
                f"Projected total revenue {plan.total_revenue:,.0f} against {plan.current_total_revenue:,.0f} "
                "simulated at today's plan (organic included)."
            ]
            if math.isfinite(plan.total_revenue) and math.isfinite(plan.current_total_revenue)
            else []
        ),
        f"Shadow price of the budget: {plan.shadow_price:.3f} of {goal.shadow_unit} per extra dollar.",
        "Binding constraints: " + ("; ".join(b.name for b in plan.binding) or "none"),
        f"Solver {plan.solver}: optimal in {plan.solve_seconds:.3f} s (built in {plan.build_seconds:.3f} s); "
        + (
            f"{plan.iterations} solves, largest move between solves "
            + ", ".join(f"{m:.1%}" for m in plan.moves)
            + " of the budget."
            if plan.moves
            else f"{plan.iterations} solve."
        ),
    ]
    lines += [f"Note: {note}." for note in plan.notes]
    if plan.verification is not None:
        v = plan.verification
        lines += ["", f"Verification: {v.replications} paired replications (common random numbers), seed {v.seed}."]
        lines.append(f"{'':<24}{'projected':>12}{'simulated':>12}  90% interval")
        for _, check in v.to_frame().iterrows():
            fmt = "{:,.0f}"
            lines.append(
                f"{check['metric'] + ' ' + check['outcome']:<24}{num(fmt, check['projected']):>12}"
                f"{num(fmt, check['simulated']):>12}  [{num(fmt, check['ci90_low'])}, {num(fmt, check['ci90_high'])}]"
            )
    return _joined(lines)


def frontier_report(table: Any) -> str:
    """The optimal plan's figures at each budget of the frontier."""
    lines = ["Budget frontier: the optimal plan at each budget (revenue incremental, from the curves).", ""]
    lines.append(f"{'budget':>12}{'spend':>12}{'revenue':>12}{'ROAS':>8}{'next $':>8}")
    for _, row in table.iterrows():
        if row["status"] != "optimal":
            lines.append(f"{row['budget']:>12,.0f}  infeasible")
            continue
        lines.append(
            f"{row['budget']:>12,.0f}{row['spend']:>12,.0f}{row['revenue']:>12,.0f}"
            f"{num('{:.2f}', row['roas']):>8}{num('{:.3f}', row['marginal_return']):>8}"
        )
    lines.append("next $: what one more dollar of budget returns at that budget.")
    return _joined(lines)


def _joined(lines: list[str]) -> str:
    """The report's lines as one text, each :func:`~mixsim._names.printable`: a name's control characters (an
    escape sequence in a scenario's name, a newline in a group's) are shown escaped, never obeyed by the terminal,
    and every line of the report stays one line."""
    return "\n".join(printable(line) for line in lines)


def num(fmt: str, value: float | None) -> str:
    """``value`` formatted with ``fmt``, or ``n/a`` where it is undefined (None or NaN: e.g. ROAS of zero spend)."""
    return "n/a" if value is None or value != value else fmt.format(value)
