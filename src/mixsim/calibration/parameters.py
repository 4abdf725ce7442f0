"""The parameters a calibration fits: dotted keys of the scenario with prior ranges, and the map between a
parameter set and the unit cube the search works in.

A prior is log-uniform when its range spans more than a factor of 3 and starts above 0 (rates and probabilities
that can be off by an order of magnitude), uniform otherwise. Without ``[calibration.parameters]`` the default set
is each channel's non-zero effects (``p_aware``, ``p_consider``, ``p_convert``, ``p_repurchase``) and the non-zero
organic rates (and the repeat purchase rate), each log-uniform over a factor of 10 either side of the file's value
(probabilities capped at 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mixsim.scenario import Scenario, parse_scenario, scenario_to_dict
from mixsim.scenario.calibration import Prior

__all__ = ["BASELINE", "DEFAULT_FACTOR", "Parameter", "apply", "default_parameters", "parameters_of"]

BASELINE = "baseline."
"""Keys of the baseline's terms start with it (:mod:`mixsim.calibration.baseline`): they are not scenario keys."""

DEFAULT_FACTOR = 10.0
"""The default prior spans the file's value divided and multiplied by this."""

_EFFECTS = ("p_aware", "p_consider", "p_convert", "p_repurchase")
_ORGANIC = ("awareness_rate", "word_of_mouth", "consideration_rate", "conversion_rate")


@dataclass(frozen=True)
class Parameter:
    """One fitted number: its dotted key, prior range and whether the prior is log-uniform."""

    key: str
    low: float
    high: float
    log: bool

    def to_unit(self, value: float) -> float:
        """Where ``value`` sits in the prior range, 0 at ``low`` and 1 at ``high`` (log scale for a log prior)."""
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        """The value at ``u`` of the prior range (clipped to it)."""
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws from the prior."""
        return np.array([self.from_unit(u) for u in rng.random(size)])


def _prior(key: str, prior: Prior) -> Parameter:
    return Parameter(key, prior.low, prior.high, log=prior.low > 0 and prior.high / prior.low > 3.0)


def _value(scenario: Scenario, key: str) -> float:
    parts = key.split(".")
    if parts[0] == "channels":
        return float(getattr(scenario.channel(parts[1]), parts[2]))
    if parts[0] == "organic":
        return float(getattr(scenario.organic, parts[1]))
    if parts[0] == "repeat" and parts[1] == "purchase_rate":
        return scenario.repeat.purchase_rate
    raise KeyError(key)


def default_parameters(scenario: Scenario, channels: Sequence[str] | None = None) -> list[Parameter]:
    """The default set: the non-zero effects of ``channels`` (default every channel with spend) and the non-zero
    organic rates and repeat purchase rate, each log-uniform from a tenth to ten times the file's value (at most 1
    for a probability)."""
    names = [c.name for c in scenario.channels if c.spend > 0] if channels is None else list(channels)
    keys = [f"channels.{name}.{effect}" for name in names for effect in _EFFECTS]
    keys += [f"organic.{rate}" for rate in _ORGANIC]
    keys.append("repeat.purchase_rate")
    out = []
    for key in keys:
        value = _value(scenario, key)
        if value <= 0:
            continue
        high = value * DEFAULT_FACTOR
        if key.startswith("channels."):
            high = min(high, 1.0)
        out.append(Parameter(key, value / DEFAULT_FACTOR, high, log=True))
    return out


def parameters_of(scenario: Scenario, channels: Sequence[str] | None = None) -> list[Parameter]:
    """The scenario's ``[calibration.parameters]``, else :func:`default_parameters`."""
    calibration = scenario.calibration
    if calibration is not None and calibration.parameters:
        return [_prior(key, prior) for key, prior in calibration.parameters]
    return default_parameters(scenario, channels)


def apply(
    scenario: Scenario, parameters: Sequence[Parameter], values: Sequence[float] | Mapping[str, float]
) -> Scenario:
    """``scenario`` with the parameters set to ``values`` (in order, or by key); validated again. The baseline's terms
    are not the scenario's and are left out (:func:`mixsim.calibration.replay.fitted_replay` applies them)."""
    if isinstance(values, Mapping):
        changes = {p.key: float(values[p.key]) for p in parameters}
    else:
        changes = {p.key: float(v) for p, v in zip(parameters, values, strict=True)}
    changes = {k: v for k, v in changes.items() if not k.startswith(BASELINE)}
    if "repeat.purchase_rate" in changes and scenario.repeats:
        # A file may give the rate as mean_days_between: restate the scenario resolved (purchase_rate) first.
        scenario = parse_scenario(scenario_to_dict(scenario), source=scenario.source)
    return scenario.replace(changes) if changes else scenario
