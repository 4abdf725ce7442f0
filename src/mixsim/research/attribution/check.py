"""Attribution against the truth: each model's credit beside the simulator's counterfactual incrementality.

:func:`against_truth` attributes the journeys of every replication of a simulation with each model and sets the
credit beside each channel's true incremental conversions (measured by re-running the replication with the channel
off, with the same random numbers); :class:`AttributionCheck` holds both and says how far each model is from the
truth. The models themselves are in :mod:`mixsim.research.attribution.models`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mixsim._display import summary_html
from mixsim.errors import InputError
from mixsim.research.attribution.models import MODELS, bind_models, credit_table
from mixsim.research.attribution.paths import PathTable
from mixsim.scenario import Scenario
from mixsim.tables import check_table, interval, json_records

if TYPE_CHECKING:
    from mixsim.results import SimulationResult

__all__ = ["CHECK_TABLES", "AttributionCheck", "against_truth"]

CHECK_TABLES: tuple[str, ...] = ("channels", "models")
"""Tables :meth:`AttributionCheck.to_frame` can return."""


@dataclass(frozen=True)
class AttributionCheck:
    """Each attribution model's credit per channel beside each channel's true incremental conversions.

    Credits are computed per replication on its path table (scaled from the tracked sample to the population);
    the truth comes from counterfactual runs of the same replication (the channel off, same random numbers).
    Conversions are customers won (their first purchase), in the credit and the truth alike. When customers buy
    again or lapse, a path holds only the touches up to the customer's win, so a channel that reaches customers
    alone (``targets = ["converted"]``) is credited nothing, whatever its truth: the repeat purchases it brings
    are not conversions, and what it changes otherwise (customers kept from lapsing on the day they buy, and
    their word of mouth) no path shows.

    Attributes
    ----------
    scenario : Scenario
        The scenario simulated.
    models : tuple of str
        The models compared, in order.
    credit : ndarray, shape (replications, models, channels)
        Conversions credited to each channel.
    truth : ndarray, shape (replications, channels)
        True incremental conversions of each channel.
    conversions : ndarray, shape (replications,)
        All conversions of each replication (touched or not).
    seed : int
        Root seed of the simulation.
    share : float
        Share of customers whose journeys were recorded.
    version : str
        The mixsim version that simulated the result.
    """

    scenario: Scenario = field(repr=False)
    models: tuple[str, ...]
    credit: np.ndarray = field(repr=False)
    truth: np.ndarray = field(repr=False)
    conversions: np.ndarray = field(repr=False)
    seed: int
    share: float
    version: str = ""

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names, in scenario order."""
        return self.scenario.channel_names

    @property
    def replications(self) -> int:
        """Number of replications compared."""
        return int(self.truth.shape[0])

    def share_error(self) -> np.ndarray:
        """Per replication and model, half the summed absolute gap between credit shares and truth shares.

        0 when a model splits the credit in the same proportions as the truth; 1 when it gives all of it to
        channels with no true effect (more than 1 is possible when a true effect is negative). Where the true
        effects add up to 0 there are no true shares to compare with: NaN. Shape (replications, models).
        """
        credited = self.credit.sum(axis=2, keepdims=True)
        credit = self.credit / np.where(credited > 0, credited, 1.0)
        total = self.truth.sum(axis=1, keepdims=True)
        truth = self.truth / np.where(total != 0, total, 1.0)
        error = 0.5 * np.abs(credit - truth[:, None, :]).sum(axis=2)
        return np.where(total != 0, error, np.nan)

    def to_frame(self, table: str = "channels") -> pd.DataFrame:
        """A tidy table with means and 90% intervals over replications.

        Parameters
        ----------
        table : {"channels", "models"}
            ``channels``: one row per (model, channel): ``credit``, ``truth`` and ``error`` (credit - truth), each
            with ``_low``/``_high`` bounds of the 90% interval of replications; the model ``truth`` is not a row,
            it is the ``truth`` column. ``models``: one row per model: ``share_error`` (see :meth:`share_error`),
            ``abs_error`` (sum over channels of |credit - truth|, in conversions) and ``credited`` (total credit),
            with intervals.

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        InputError
            If ``table`` is not one of :data:`CHECK_TABLES`.
        """
        check_table(table, CHECK_TABLES)
        rows: list[dict[str, Any]] = []
        if table == "channels":
            truth = interval(self.truth)
            for m, model in enumerate(self.models):
                credit = interval(self.credit[:, m, :])
                error = interval(self.credit[:, m, :] - self.truth)
                for c, channel in enumerate(self.channels):
                    row: dict[str, Any] = {"model": model, "channel": channel}
                    for name, (mean, low, high) in (("credit", credit), ("truth", truth), ("error", error)):
                        row.update({name: mean[c], f"{name}_low": low[c], f"{name}_high": high[c]})
                    rows.append(row)
        else:
            values = {
                "share_error": self.share_error(),
                "abs_error": np.abs(self.credit - self.truth[:, None, :]).sum(axis=2),
                "credited": self.credit.sum(axis=2),
            }
            for m, model in enumerate(self.models):
                row = {"model": model}
                for name, v in values.items():
                    mean, low, high = interval(v[:, m])
                    row.update({name: float(mean), f"{name}_low": float(low), f"{name}_high": float(high)})
                rows.append(row)
        return pd.DataFrame(rows)

    def to_json(self, indent: int | None = 2) -> str:
        """One JSON object: ``scenario``, ``source``, ``seed``, ``version``, ``replications``, ``share``,
        ``conversions`` (mean over replications), and the ``channels`` and ``models`` tables as lists of records
        (undefined figures are ``null``)."""
        data = {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seed": self.seed,
            "version": self.version,
            "replications": self.replications,
            "share": self.share,
            "conversions": float(np.mean(self.conversions)),
            "channels": json_records(self.to_frame("channels")),
            "models": json_records(self.to_frame("models")),
        }
        return json.dumps(data, indent=indent, allow_nan=False)

    def _repr_html_(self) -> str:
        credit = self.to_frame("channels").pivot(index="channel", columns="model", values="credit")
        truth = self.to_frame("channels").groupby("channel", sort=False)["truth"].first()
        table = pd.concat([truth, credit[list(self.models)]], axis=1).loc[list(self.channels)].reset_index()
        return summary_html(
            f"Attribution against the truth: {self.scenario.name}",
            [f"{self.replications} replications, seed {self.seed}; conversions per channel (means)"],
            [("Credit and truth", table), ("Error per model", self.to_frame("models"))],
        )


def against_truth(
    result: SimulationResult,
    models: Sequence[str] | str = MODELS,
    *,
    half_life: float = 7.0,
    first: float = 0.4,
    last: float = 0.4,
) -> AttributionCheck:
    """Attribute each replication's conversions with every model and set the credit beside the truth.

    Parameters
    ----------
    result : SimulationResult
        Simulated with ``incrementality=True`` and ``journeys=share`` (e.g.
        ``mixsim.simulate(scenario, incrementality=True, journeys=1.0)``).
    models : sequence of str or str, default=MODELS
        Models to compare (see :data:`~mixsim.research.attribution.models.MODELS`).
    half_life, first, last : float
        Parameters of the ``time_decay`` and ``position_based`` models (see
        :func:`~mixsim.research.attribution.models.attribute`).

    Returns
    -------
    AttributionCheck

    Raises
    ------
    InputError
        If the result has no journeys or no incrementality, a model is unknown or a parameter of a requested model
        is out of range.

    Examples
    --------
    >>> import mixsim
    >>> scenario = mixsim.load_scenario("scenarios/d2c_ecommerce.toml", overrides=["scenario.population=20000"])
    >>> result = mixsim.simulate(scenario, seed=1, replications=1, incrementality=True, journeys=1.0)
    >>> check = mixsim.against_truth(result, ["last_touch", "markov"])
    >>> check.to_frame("models")["model"].tolist()
    ['last_touch', 'markov']
    """
    if result.incrementality is None:
        raise InputError("the truth was not measured: simulate with incrementality=True")
    journeys = result.journeys()
    channels = result.channels
    scale = journeys.scale()
    bound = bind_models(models, {"half_life": half_life, "first": first, "last": last})
    names = [name for name, _ in bound]
    credit = np.zeros((result.replications, len(names), len(channels)))
    for r in range(result.replications):
        table = credit_table(PathTable.from_journal(journeys.journals[r], result.scenario), bound, channels)
        wide = table.pivot(index="model", columns="channel", values="conversions")
        credit[r] = wide.loc[names, list(channels)].to_numpy() * scale[r]
    conversions = np.array([run.conversions for run in result.runs], dtype=float)
    return AttributionCheck(
        scenario=result.scenario,
        models=tuple(names),
        credit=credit,
        truth=result.incrementality.conversions.copy(),
        conversions=conversions,
        seed=result.seed,
        share=journeys.share,
        version=result.version,
    )
