"""The report's section on a calibrated scenario: how well the fitted simulation reproduces and forecasts the
business's history, each channel's return over it with its interval, and what the data did and did not inform.

It reads the fit as ``mixsim calibrate`` wrote it (the contents of ``fit.json``, :meth:`Calibrated.to_dict
<mixsim.calibration.calibrate.Calibrated.to_dict>`), so a report can be made long after the calibration ran.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

from mixsim.report.facts import html_table

__all__ = ["calibration_section"]


def calibration_section(fit: Mapping[str, Any], source: str = "fit.json") -> str:
    """The HTML of the section: fit statistics on the training weeks and the holdout, each channel's ROAS and
    incremental KPI over the history with its 90% interval, the lift tests reproduced, and each fitted parameter
    with its prior, point estimate and posterior interval, the ones the data did not inform said so.

    Parameters
    ----------
    fit : mapping
        The calibration's figures, as ``fit.json`` holds them.
    source : str, default="fit.json"
        Where they were read from, for the reader.
    """
    kpi = str(fit.get("kpi", "revenue"))
    weeks = fit.get("weeks", {})
    parts = [
        "<h2>Calibration</h2>",
        f"<p>This scenario was fitted to the history {html.escape(str(fit.get('history', '')))} "
        f"({weeks.get('train', '?')} weeks fitted, {weeks.get('holdout', 0)} held out and forecast) with "
        f"{_integer(fit.get('simulations'))} simulations, seed {html.escape(str(fit.get('seed', '')))} "
        f"({html.escape(source)}). R² near 1 and a small MAPE on the holdout say the fitted simulation forecasts "
        "weeks it was not fitted to.</p>",
        html_table(
            ["weeks", "R²", "NRMSE", "MAPE"],
            [
                (
                    part,
                    _float(stats.get("r2"), "{:.3f}"),
                    _float(stats.get("nrmse"), "{:.3f}"),
                    _float(stats.get("mape"), "{:.1%}"),
                )
                for part, stats in ((p, fit.get(p, {})) for p in ("train", "holdout"))
            ],
        ),
    ]
    channels = fit.get("channels", {})
    if channels:
        carries = {str(v.get("uncertainty", "chance")) for v in channels.values()}
        metric = "roas" if kpi == "revenue" else "incremental"
        parts += [
            f"<p>Each channel's {'return per dollar' if kpi == 'revenue' else 'incremental ' + html.escape(kpi)} over "
            "the history: the fitted simulation with the channel off, on the same random numbers; the interval holds "
            f"90% of the runs and carries {html.escape(' and '.join(sorted(carries)))}.</p>",
            html_table(
                ["channel", "ROAS" if metric == "roas" else f"incremental {kpi}", "90% interval"],
                [
                    (html.escape(name), _float(v[metric]["mean"], "{:,.2f}"), _interval(v[metric]["ci90"], "{:,.2f}"))
                    for name, v in channels.items()
                    if metric in v
                ],
            ),
        ]
    experiments = fit.get("experiments", [])
    if experiments:
        parts.append(
            html_table(
                ["lift test", "observed", "simulated", "90% interval"],
                [
                    (
                        html.escape(f"{e['channel']}: {e['test']}"),
                        _float(e["observed"], "{:,.4g}"),
                        _float(e["simulated"]["mean"], "{:,.4g}"),
                        _interval(e["simulated"]["ci90"], "{:,.4g}"),
                    )
                    for e in experiments
                ],
            )
        )
    parameters = fit.get("parameters", {})
    uninformed = [key for key, p in parameters.items() if p.get("informed") is False]
    parts.append(
        html_table(
            ["parameter", "prior", "point estimate", "posterior 90%", "informed by the data"],
            [
                (
                    html.escape(key),
                    _interval(p.get("prior"), "{:.4g}"),
                    _float(p.get("point"), "{:.4g}"),
                    _interval(p.get("posterior_ci90"), "{:.4g}"),
                    {True: "yes", False: "no: read as the prior"}.get(p.get("informed"), "n/a"),  # type: ignore[arg-type]
                )
                for key, p in parameters.items()
            ],
        )
    )
    if uninformed:
        parts.append(
            f"<p class='muted'>Not informed by the data (posterior about as wide as the prior): "
            f"{html.escape(', '.join(uninformed))}. Figures that rest on them rest on the prior.</p>"
        )
    sampled = fit.get("posterior")
    if isinstance(sampled, Mapping) and sampled.get("settled") is False:
        parts.append(
            f"<p class='muted'>The posterior had not settled after {_integer(sampled.get('generations'))} "
            f"generations (tolerance {_float(sampled.get('tolerance'), '{:.3g}')} against its floor "
            f"{_float(sampled.get('floor'), '{:.3g}')}): more generations would narrow it towards what the data "
            "allow.</p>"
        )
    for pair in fit.get("correlated", []):
        a, b = pair["parameters"]
        parts.append(
            f"<p class='muted'>{html.escape(a)} and {html.escape(b)} are correlated "
            f"({pair['correlation']:+.2f}): the data tell their combination, not each.</p>"
        )
    return "".join(parts)


def _float(value: object, fmt: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "n/a"
    return fmt.format(value)


def _integer(value: object) -> str:
    return _float(value, "{:,.0f}")


def _interval(pair: object, fmt: str) -> str:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return "n/a"
    return f"[{_float(pair[0], fmt)}, {_float(pair[1], fmt)}]"
