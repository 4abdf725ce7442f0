"""Multi-touch attribution: path tables, the models (one registry) and their check against the truth.

- :mod:`~mixsim.research.attribution.paths` reads and checks a path table (ChannelAttribution format) into the
  one form the models work on, or builds it from a simulation's journal;
- :mod:`~mixsim.research.attribution.models` holds the models, their registry and :func:`attribute`, the one
  entry point (plus the Markov chain's :func:`conversion_probability` and :func:`removal_effects`);
- :mod:`~mixsim.research.attribution.check` sets each model's credit beside the counterfactual truth
  (:func:`against_truth`, :class:`AttributionCheck`).

It reads path tables and simulation results; it must not run simulations itself.
"""

from __future__ import annotations

from mixsim.research.attribution.check import CHECK_TABLES, AttributionCheck, against_truth
from mixsim.research.attribution.models import (
    MAX_SHAPLEY_CHANNELS,
    MODELS,
    attribute,
    check_models,
    conversion_probability,
    removal_effects,
)

__all__ = [
    "CHECK_TABLES",
    "MAX_SHAPLEY_CHANNELS",
    "MODELS",
    "AttributionCheck",
    "against_truth",
    "attribute",
    "check_models",
    "conversion_probability",
    "removal_effects",
]
