"""The scenario's ``[calibration]`` table: how a business's history maps onto the scenario, and what to fit.

The table names the history's columns (the date, the KPI, each channel's spend, impressions, clicks or activity,
the demand drivers) and the parameters to fit with their prior ranges. Its keys are declared here
(:data:`CALIBRATION_TABLE`, part of the file's constraint table) with the rules that relate them to the rest of the
scenario (:func:`check_calibration`), and :func:`build_calibration` makes the immutable :class:`Calibration` the
scenario carries. Reading the history itself is :mod:`mixsim.calibration.history`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mixsim.scenario._problems import INVALID, Problems, is_valid
from mixsim.scenario._validate import Choice, Integer, MapOf, Number, Table, Text

__all__ = [
    "CALIBRATION_TABLE",
    "FITTED_TABLES",
    "KPIS",
    "Calibration",
    "ChannelColumns",
    "Prior",
    "build_calibration",
    "check_calibration",
]

KPIS: tuple[str, ...] = ("revenue", "conversions")
"""What a history's KPI column may count: revenue of every purchase, or purchases."""

FITTED_TABLES: tuple[str, ...] = ("channels", "organic", "funnel", "repeat")
"""Tables whose numbers a prior may name: the effects, the organic forces, memory and synergy, repeat behaviour."""

_COLUMN = "A column of the history"

CALIBRATION_TABLE = Table(
    doc="How a business's history maps onto the scenario, and what to fit to it (mixsim calibrate); default none",
    fields={
        "date": Text(doc="The history's date column (ISO dates, one row per week or per day); default date"),
        "kpi": Choice(doc="What the KPI column counts: revenue or conversions (every purchase)", options=KPIS),
        "kpi_column": Text(doc="The history's KPI column; default the kpi's name"),
        "holdout_weeks": Integer(doc="The last weeks, kept out of the fit and forecast; default 0", low=0),
        "fit": Text(
            doc="The fit.json of the mixsim calibrate that fitted this scenario, relative to the scenario file "
            "(written by mixsim calibrate; mixsim report shows it); default none"
        ),
        "channels": MapOf(
            doc="Per channel of the scenario, its columns; default <channel>_spend, <channel>_impressions and "
            "<channel>_clicks where the history has them (the columns mixsim export-mmm writes)",
            value=Table(
                doc="A channel's columns: spend, or activity for an owned channel (exposures given, no spend)",
                fields={
                    "spend": Text(doc="Media spend of the period"),
                    "impressions": Text(doc="Exposures of the period (pins down the price)"),
                    "clicks": Text(doc="Clicks of the period (pins down a cpc channel's click-through rate)"),
                    "activity": Text(doc="Exposures of an owned channel (emails sent), in place of spend"),
                },
            ),
            noun="channel",
        ),
        "controls": MapOf(
            doc="Demand drivers by name: a numeric column gets a fitted elasticity of weekly demand, a text column "
            "one multiplier per level but the most common",
            value=Text(doc=_COLUMN),
            noun="control",
        ),
        "parameters": MapOf(
            doc="What to fit, by dotted key (a number of channels, organic, funnel or repeat), and its prior range; "
            "default each channel's non-zero effects and the organic rates, log-uniform over a factor of 10 either "
            "side of the file's values",
            value=Table(
                doc="A prior range, low < high",
                fields={
                    "low": Number(doc="Lowest value", low=0.0, required=True),
                    "high": Number(doc="Highest value", low=0.0, required=True),
                },
            ),
            noun="parameter",
        ),
    },
)


@dataclass(frozen=True)
class ChannelColumns:
    """A channel's columns in the history (``None``: not given)."""

    spend: str | None = None
    impressions: str | None = None
    clicks: str | None = None
    activity: str | None = None


@dataclass(frozen=True)
class Prior:
    """A parameter's prior range."""

    low: float
    high: float


@dataclass(frozen=True)
class Calibration:
    """The ``[calibration]`` table: the history's columns and the parameters to fit.

    ``channels`` and ``parameters`` are empty when the table leaves them to their defaults (the columns
    ``mixsim export-mmm`` writes; the default parameter set). ``fit`` names the ``fit.json`` of the calibration
    that fitted the scenario, relative to its file, when ``mixsim calibrate`` wrote it.
    """

    date: str = "date"
    kpi: str = "revenue"
    kpi_column: str = "revenue"
    holdout_weeks: int = 0
    channels: tuple[tuple[str, ChannelColumns], ...] = ()
    controls: tuple[tuple[str, str], ...] = ()
    parameters: tuple[tuple[str, Prior], ...] = ()
    fit: str | None = None


def build_calibration(table: dict[str, Any]) -> Calibration:
    """The :class:`Calibration` of a checked ``[calibration]`` table."""
    kpi = table["kpi"] or "revenue"
    return Calibration(
        date=table["date"] or "date",
        kpi=kpi,
        kpi_column=table["kpi_column"] or kpi,
        holdout_weeks=table["holdout_weeks"] or 0,
        channels=tuple((name, ChannelColumns(**columns)) for name, columns in (table["channels"] or {}).items()),
        controls=tuple((table["controls"] or {}).items()),
        parameters=tuple((key, Prior(p["low"], p["high"])) for key, p in (table["parameters"] or {}).items()),
        fit=table["fit"],
    )


def check_calibration(tree: dict[str, Any], out: Problems) -> None:
    """The rules relating ``[calibration]`` to the rest of the scenario: its channels are the scenario's, each with
    spend or activity (not both); each parameter names a number of the scenario's fitted tables; low < high."""
    table = tree["calibration"]
    if not isinstance(table, dict):
        return
    channels = tree["channels"] if isinstance(tree["channels"], dict) else None
    mapped = table["channels"]
    if isinstance(mapped, dict):
        for name, columns in mapped.items():
            where = ("calibration", "channels", name)
            if channels is not None and name not in channels:
                out.unknown(where, list(channels), noun="channel")
            if isinstance(columns, dict) and is_valid(columns):
                if columns["spend"] is not None and columns["activity"] is not None:
                    out.add(where, "give spend or activity (an owned channel), not both", got="both")
                elif columns["spend"] is None and columns["activity"] is None:
                    out.add(where, "needs spend, or activity for an owned channel", got="neither")
    parameters = table["parameters"]
    if isinstance(parameters, dict):
        for key, prior in parameters.items():
            where = ("calibration", "parameters", key)
            problem = _parameter_problem(tree, key)
            if problem:
                out.add(where, problem, key)
            if isinstance(prior, dict) and is_valid(prior["low"], prior["high"]) and not prior["low"] < prior["high"]:
                out.add(where, "low must be < high", got=f"low = {prior['low']:g}, high = {prior['high']:g}")


def _parameter_problem(tree: dict[str, Any], key: str) -> str:
    """What is wrong with ``key`` as a parameter to fit ('' when nothing): it must name a number of the scenario."""
    parts = key.split(".")
    rule = f"must name a number of {', '.join(FITTED_TABLES)} (e.g. channels.NAME.p_aware, organic.awareness_rate)"
    if parts[0] not in FITTED_TABLES or len(parts) < 2:
        return rule
    node: Any = tree
    for part in parts:
        if not isinstance(node, dict) or part not in node or node[part] is INVALID:
            return f"no such key in the scenario: {rule}"
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, float) or not math.isfinite(node):
        return f"does not name a finite number: {rule}"
    if parts[0] == "channels" and parts[-1] in ("spend", "min_spend", "fixed_cost", "cpm", "cpc", "ctr"):
        return "a channel's money and price come from the history, not the fit"
    return ""
