"""The optimizer's part of a scenario: the budget to allocate, per-channel bounds and share constraints on groups of
channels (the ``[budget]`` table). The simulation ignores it."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Budget", "Group", "Limit"]


@dataclass(frozen=True)
class Limit:
    """The optimizer's bounds on one channel's spend."""

    min: float = 0.0
    max: float = math.inf


@dataclass(frozen=True)
class Group:
    """A share constraint on a group of channels."""

    name: str
    channels: tuple[str, ...]
    min_share: float | None = None
    max_share: float | None = None


@dataclass(frozen=True)
class Budget:
    """What the optimizer may allocate, and the planner's constraints."""

    total: float
    limits: tuple[tuple[str, Limit], ...] = ()
    groups: tuple[Group, ...] = ()
