"""What-if comparisons: variants of a scenario simulated with common random numbers, and their differences.

Every variant's replication ``r`` uses the same seed (``SeedSequence(seed).spawn(replications)[r]``), so the
difference between a variant and the base, replication by replication, is the effect of what changed rather
than noise; each difference is summarised by its mean and 90% interval, and a difference whose interval holds
0 is flagged as one the simulation cannot tell from none.

A variant that is the base but for its name and file (the ``vary`` combination of the base's own values, a copy of
the base's file) is the base itself: its difference is zero by construction, so it is not simulated again nor
listed as a variant; the comparison names it in :attr:`Comparison.same_as_base`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim._version import __version__
from mixsim.errors import InfeasibleError, InputError
from mixsim.executors import open_executor
from mixsim.optimizer import optimize
from mixsim.optimizer.measure import curve_run_count
from mixsim.results import KPIS, SimulationResult
from mixsim.scenario import Scenario, require_scenario
from mixsim.simulation import ProgressCallback, root_seed, simulate
from mixsim.tables import check_table, interval, json_records

__all__ = [
    "COMPARED_CHANNEL_METRICS",
    "Comparison",
    "compare",
    "compare_run_count",
    "is_base",
    "optimized",
    "scenario_labels",
    "vary",
]

COMPARED_CHANNEL_METRICS: tuple[str, ...] = ("spend", "exposures", "reach", "linear")
"""Per-channel figures a comparison reports (``linear``: conversions attributed linearly)."""

OPTIMIZE_REPLICATIONS = 3
"""Replications per curve level when a comparison optimizes each scenario's budget."""

OPTIMIZE_ITERATIONS = 2
"""Solves of the closed loop when a comparison optimizes each scenario's budget."""


COMPARISON_TABLES: tuple[str, ...] = ("kpis", "channels")
"""Tables :meth:`Comparison.to_frame` can return."""


@dataclass(frozen=True)
class Comparison:
    """Variants of a scenario simulated with the same random numbers; the first is the base.

    Attributes
    ----------
    labels : tuple of str
        One per variant, the base first.
    results : tuple of SimulationResult
        One per variant, in the same order, each with the same seeds.
    seed : int
        The root seed every variant shared.
    same_as_base : tuple of str
        Labels of the variants that were the base itself (:func:`is_base`), in the order given: not simulated
        again and not in :attr:`labels`, since their difference from the base is zero by construction.
    version : str
        The mixsim version that produced the comparison.
    """

    labels: tuple[str, ...]
    results: tuple[SimulationResult, ...]
    seed: int
    same_as_base: tuple[str, ...] = ()
    version: str = __version__

    @property
    def replications(self) -> int:
        """Replications per variant (the same for every variant)."""
        return self.results[0].replications

    def _repr_html_(self) -> str:
        notes = [
            f"{self.replications} replications per variant, seed {self.seed}, mixsim {self.version}",
            "Differences from the base on common random numbers; '~0' where the interval holds 0",
        ]
        if self.same_as_base:
            notes.append(f"The base itself, not repeated: {', '.join(self.same_as_base)}")
        return summary_html(
            f"Comparison of {len(self.labels)} variants (base: {self.labels[0]})",
            notes,
            [("KPIs", self.to_frame("kpis"))],
        )

    def to_frame(self, table: str = "kpis") -> pd.DataFrame:
        """A tidy table of each variant's figures and their difference from the base.

        Parameters
        ----------
        table : {"kpis", "channels"}
            ``kpis``: one row per variant and KPI; ``channels``: one row per variant, channel and metric (of
            :data:`COMPARED_CHANNEL_METRICS`; channels missing from a variant are left out).

        Returns
        -------
        DataFrame
            ``mean``, ``ci90_low``, ``ci90_high`` of the variant, and ``diff``, ``diff_low``, ``diff_high`` of
            its paired difference from the base, with ``distinguishable`` False when that interval holds 0.

        Raises
        ------
        InputError
            If ``table`` is not one of the two.
        """
        check_table(table, COMPARISON_TABLES)
        rows: list[dict[str, Any]] = []
        base = self.results[0]
        if table == "kpis":
            base_values = base.kpi_values()
            for label, result in zip(self.labels, self.results, strict=True):
                values = result.kpi_values()
                for kpi in KPIS:
                    rows.append({"variant": label, "kpi": kpi, **_summary(values[kpi], base_values[kpi])})
            return pd.DataFrame(rows)
        if table == "channels":
            base_values = base.channel_values()
            for label, result in zip(self.labels, self.results, strict=True):
                values = result.channel_values()
                for k, channel in enumerate(result.channels):
                    if channel not in base.channels:
                        continue
                    j = base.channels.index(channel)
                    for metric in COMPARED_CHANNEL_METRICS:
                        rows.append(
                            {
                                "variant": label,
                                "channel": channel,
                                "metric": metric,
                                **_summary(values[metric][:, k], base_values[metric][:, j]),
                            }
                        )
        return pd.DataFrame(rows)

    def to_json(self, indent: int | None = 2) -> str:
        """Both tables as JSON (undefined figures are null), with the seed, replications and mixsim version."""
        doc = {
            "seed": self.seed,
            "replications": self.replications,
            "version": self.version,
            "variants": list(self.labels),
            "same_as_base": list(self.same_as_base),
            "kpis": json_records(self.to_frame("kpis")),
            "channels": json_records(self.to_frame("channels")),
        }
        return json.dumps(doc, indent=indent)


def _summary(values: np.ndarray, base: np.ndarray) -> dict[str, Any]:
    mean, low, high = interval(values)
    diff, diff_low, diff_high = interval(values - base)
    known = math.isfinite(float(diff_low)) and math.isfinite(float(diff_high))
    return {
        "mean": float(mean),
        "ci90_low": float(low),
        "ci90_high": float(high),
        "diff": float(diff),
        "diff_low": float(diff_low),
        "diff_high": float(diff_high),
        "distinguishable": bool(known and not (diff_low <= 0 <= diff_high)),
    }


def vary(base: Scenario, grid: Mapping[str, Sequence[str]]) -> list[tuple[str, Scenario]]:
    """Variants of ``base``: every combination of the values given per dotted key (as overrides, see
    :meth:`~mixsim.scenario.Scenario.with_overrides`).

    Parameters
    ----------
    base : Scenario
        The scenario to vary.
    grid : dict of str to sequence of str
        Dotted key -> TOML values, e.g. ``{"funnel.synergy": ["0", "0.3"]}``.

    Returns
    -------
    list of (label, Scenario)
        Labelled ``key=value, key=value``; each validated like a file. A combination of the base's own values is
        the base again (:func:`is_base`); :func:`compare` does not repeat it.

    Raises
    ------
    ScenarioError
        If a value is malformed or makes a scenario that breaks the scenario contract.
    """
    require_scenario(base, "base")
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        overrides = [f"{k}={v}" for k, v in zip(keys, values, strict=True)]
        out.append((", ".join(overrides), base.with_overrides(overrides)))
    return out


def scenario_labels(scenarios: Sequence[Scenario]) -> list[str]:
    """A distinct label for each scenario: its ``name``, else the stem of the file it was read from.

    A scenario is labelled by its file only where its name is blank or shared with another of ``scenarios``;
    where the stems are shared too, by its source as given (the path), and where even that is shared (the same
    file twice), with ``#2``, ``#3``, ... in order.

    Parameters
    ----------
    scenarios : sequence of Scenario
        Typically the base and the other scenario files of a comparison, in order.

    Returns
    -------
    list of str
        One label per scenario, in order, no two alike.

    Examples
    --------
    >>> import mixsim
    >>> from mixsim.whatif import scenario_labels
    >>> shop = mixsim.load_scenario("scenarios/d2c_ecommerce.toml")
    >>> scenario_labels([shop, shop.replace(name="Cheaper TV")])
    ['D2C skincare brand, one quarter', 'Cheaper TV']
    >>> scenario_labels([shop, shop])
    ['scenarios/d2c_ecommerce.toml', 'scenarios/d2c_ecommerce.toml #2']
    """
    fallbacks = (
        lambda s: s.name.strip(),
        lambda s: Path(s.source).stem,
        lambda s: s.source,
    )
    labels = [""] * len(scenarios)
    for fallback in fallbacks:
        counts = Counter(labels)
        unclear = [i for i, label in enumerate(labels) if not label or counts[label] > 1]
        for i in unclear:
            labels[i] = fallback(scenarios[i]).strip() or labels[i]
    used: set[str] = set()
    for i, label in enumerate(labels):
        label = label or "scenario"
        candidate, n = label, 1
        while candidate in used:
            n += 1
            candidate = f"{label} #{n}"
        used.add(candidate)
        labels[i] = candidate
    return labels


def is_base(variant: Scenario, base: Scenario) -> bool:
    """Whether ``variant`` is ``base`` but for its name and file: the same world, whose difference from the base is
    zero in every replication by construction."""
    return all(
        getattr(variant, f.name) == getattr(base, f.name)
        for f in fields(Scenario)
        if f.compare and f.name not in ("name", "source")
    )


def _split(base: Scenario, variants: Sequence[tuple[str, Scenario]]) -> tuple[list[tuple[str, Scenario]], list[str]]:
    """The variants that differ from ``base``, and the labels of those that are the base itself."""
    kept = [(label, scenario) for label, scenario in variants if not is_base(scenario, base)]
    same = [label for label, scenario in variants if is_base(scenario, base)]
    return kept, same


def compare_run_count(
    base: Scenario,
    variants: Sequence[tuple[str, Scenario]],
    replications: int,
    *,
    optimize: bool = False,
) -> int:
    """How many engine runs :func:`compare` makes with these arguments (for sizing a progress bar)."""
    worlds = [base, *(s for _, s in _split(base, variants)[0])]
    runs = replications * len(worlds) * (2 if optimize else 1)
    if optimize:
        runs += sum(curve_run_count(s, OPTIMIZE_REPLICATIONS) * OPTIMIZE_ITERATIONS for s in worlds)
    return runs


def compare(
    base: Scenario,
    variants: Sequence[tuple[str, Scenario]],
    *,
    base_label: str = "base",
    optimize: bool = False,
    seed: int | None = None,
    replications: int = 10,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> Comparison:
    """Simulate ``base`` and each variant with the same random numbers.

    Parameters
    ----------
    base : Scenario
        The reference every difference is taken from.
    variants : sequence of (label, Scenario)
        The alternatives (see :func:`vary`), each with its own label. One that is ``base`` but for its name and
        file (:func:`is_base`) is not simulated again nor listed, only named in :attr:`Comparison.same_as_base`.
    base_label : str, default="base"
    optimize : bool, default=False
        Also compare each scenario (the base, then each variant) with its budget optimized (see
        :func:`optimized`), labelled ``"<label> (optimized)"`` and listed after the variants.
    seed : int, optional
        Root seed shared by every variant; default the base scenario's, else 0.
    replications : int, default=10
    workers : int, default=1
        Worker processes shared by all the variants (one pool).
    executor : concurrent.futures.Executor, optional
        Run on this executor instead.
    progress : callable, optional
        ``progress(done, total)`` over all the variants' runs; with ``optimize``, each optimization's measurements
        first, each counting from 1 (:func:`compare_run_count` is the total of all of them).

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        If two variants (or a variant and the base) have the same label, or if there is nothing to compare (no
        variant other than the base itself, and ``optimize`` False), before anything is run.
    InfeasibleError
        With ``optimize``, naming the scenario whose constraints cannot all hold.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> variants = mixsim.vary(scenario, {"funnel.synergy": ["0", "0.1", "0.3"]})  # 0.1 is the file's own
    >>> comparison = mixsim.compare(scenario, variants, seed=1, replications=2)
    >>> comparison.labels
    ('base', 'funnel.synergy=0', 'funnel.synergy=0.3')
    >>> comparison.same_as_base
    ('funnel.synergy=0.1',)
    """
    for i, (_, given) in enumerate([("base", base), *variants]):
        require_scenario(given, "base" if i == 0 else f"variants[{i - 1}]")
    labels = [base_label, *(label for label, _ in variants)]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise InputError(f"variants need distinct names; named twice: {', '.join(twice)}")
    kept, same = _split(base, variants)
    if not kept and not optimize:
        if same:
            raise InputError(f"nothing to compare: every variant is the base itself ({', '.join(same)})")
        raise InputError("nothing to compare: give variants, or optimize=True to compare the base with its plan")
    compared = list(kept)
    if optimize:
        compared += optimized(
            [(base_label, base), *kept], seed=seed, workers=workers, executor=executor, progress=progress
        )
    seed = root_seed(base, seed)
    scenarios = [base, *(s for _, s in compared)]
    labels = [base_label, *(label for label, _ in compared)]
    total = replications * len(scenarios)
    results = []
    with contextlib.ExitStack() as stack:
        pool = executor if executor is not None else stack.enter_context(open_executor(workers))
        for i, scenario in enumerate(scenarios):
            offset = i * replications

            def report(done: int, _total: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + done, total)

            results.append(simulate(scenario, seed=seed, replications=replications, executor=pool, progress=report))
    return Comparison(
        labels=tuple(labels), results=tuple(results), seed=seed, same_as_base=tuple(same), version=__version__
    )


def optimized(
    variants: Sequence[tuple[str, Scenario]],
    *,
    seed: int | None = None,
    replications: int = OPTIMIZE_REPLICATIONS,
    max_iterations: int = OPTIMIZE_ITERATIONS,
    workers: int = 1,
    executor: cf.Executor | None = None,
    progress: ProgressCallback | None = None,
) -> list[tuple[str, Scenario]]:
    """Each variant with its budget optimized (:func:`mixsim.optimize`): the best each world can do.

    Returns
    -------
    list of (label, Scenario)
        Labelled ``"<label> (optimized)"``, the scenario with the plan's spend per channel.

    Raises
    ------
    InfeasibleError
        Naming the variant whose constraints cannot all hold.
    """
    out = []
    for label, scenario in variants:
        plan = optimize(
            scenario,
            seed=seed,
            replications=replications,
            max_iterations=max_iterations,
            workers=workers,
            executor=executor,
            progress=progress,
        )
        if not plan.optimal:
            raise InfeasibleError(f"{label}: {plan.message}")
        out.append((f"{label} (optimized)", scenario.with_spend(plan.allocation)))
    return out
