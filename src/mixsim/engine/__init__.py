"""The simulation engine: population arrays, channel delivery and organic processes on a SimPy clock.

Owns the runs of a scenario: the customers' arrays (stage, segment, reachability, memory), each channel's daily
delivery by the exact exposure semantics (docs/scenario.md), the organic forces, and each run's record. It takes
:class:`~mixsim.scenario.Scenario` objects and seeds and never reads files, prints, plots or optimizes; the rest
of mixsim uses this public face: :func:`run` (one world), :func:`run_batch` (many worlds on one clock, each
exactly as it runs alone), :class:`World`, :func:`batches`, :func:`seed_key`, :class:`RunRecord`, the stage codes and
:func:`daily_spend`.
"""

from mixsim.engine.delivery import daily_spend
from mixsim.engine.population import AWARE, CONSIDERING, CONVERTED, UNAWARE
from mixsim.engine.run import RunRecord, World, batch_key, batches, run, run_batch
from mixsim.engine.streams import seed_key

__all__ = [
    "AWARE",
    "CONSIDERING",
    "CONVERTED",
    "UNAWARE",
    "RunRecord",
    "World",
    "batch_key",
    "batches",
    "daily_spend",
    "run",
    "run_batch",
    "seed_key",
]
