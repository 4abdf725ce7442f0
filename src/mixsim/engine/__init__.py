"""The simulation engine: population arrays, channel delivery and organic processes on a SimPy clock.

Owns one run of a scenario: the customers' arrays (stage, segment, reachability, memory), each channel's daily
delivery by the exact exposure semantics (docs/scenario.md), the organic forces, and the run's record. It takes a
:class:`~mixsim.scenario.Scenario` object and a seed and never reads files, prints, plots or optimizes; the rest
of mixsim uses this public face: :func:`run`, :class:`RunRecord`, the stage codes and :func:`daily_spend`.
"""

from mixsim.engine.delivery import daily_spend
from mixsim.engine.population import AWARE, CONSIDERING, CONVERTED, UNAWARE
from mixsim.engine.run import RunRecord, run

__all__ = ["AWARE", "CONSIDERING", "CONVERTED", "UNAWARE", "RunRecord", "daily_spend", "run"]
