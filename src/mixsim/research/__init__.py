"""Research uses: the ground truth a simulation knows, and the methods to test against it.

- :mod:`~mixsim.research.journeys`: the touches of tracked customers as event, customer and path tables
  (:class:`Journeys`, from :meth:`mixsim.SimulationResult.journeys`);
- :mod:`~mixsim.research.attribution`: path tables read and checked, the attribution models in one registry
  behind :func:`attribute`, and each model's credit beside the counterfactual truth (:func:`against_truth`,
  :class:`AttributionCheck`);
- :mod:`~mixsim.research.mmm`: long scenarios whose spend moves week to week (:func:`mmm_scenario`), the dataset a
  marketing-mix model reads and what it should find (:func:`mmm_frame`, :func:`mmm_truth`, :func:`mmm_dataset`).

This package reads simulation results (``mixsim.results`` imports it, never the other way round at run time); it
must not run simulations, reach into the engine's internals or optimize.
"""

from __future__ import annotations

from mixsim.research.attribution import (
    CHECK_TABLES,
    MAX_SHAPLEY_CHANNELS,
    MODELS,
    AttributionCheck,
    against_truth,
    attribute,
    check_models,
    conversion_probability,
    removal_effects,
)
from mixsim.research.journeys import JOURNEY_TABLES, PATH_COLUMNS, PATH_SEPARATOR, Journeys
from mixsim.research.mmm import (
    DEFAULT_START,
    FREQUENCIES,
    MAX_VARIATION,
    MMM_TABLES,
    TRUTH_SUFFIXES,
    MMMDataset,
    mmm_dataset,
    mmm_frame,
    mmm_scenario,
    mmm_truth,
)

__all__ = [
    "CHECK_TABLES",
    "DEFAULT_START",
    "FREQUENCIES",
    "JOURNEY_TABLES",
    "MAX_SHAPLEY_CHANNELS",
    "MAX_VARIATION",
    "MMM_TABLES",
    "MODELS",
    "PATH_COLUMNS",
    "PATH_SEPARATOR",
    "TRUTH_SUFFIXES",
    "AttributionCheck",
    "Journeys",
    "MMMDataset",
    "against_truth",
    "attribute",
    "check_models",
    "conversion_probability",
    "mmm_dataset",
    "mmm_frame",
    "mmm_scenario",
    "mmm_truth",
    "removal_effects",
]
