"""The simulation engine: population arrays, channel delivery and organic processes on a SimPy clock."""

from mixsim.engine.run import RunRecord, run

__all__ = ["RunRecord", "run"]
