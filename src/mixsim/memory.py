"""Memory: what a run needs, what the machine can give, and how the C allocator holds the engine's arrays.

The command line refuses, before any work, a command the machine cannot hold (:func:`memory_for`: the runs that go
at once, each at its peak, and the record of every run kept until the result is made); the engine's runs call
:func:`tune_malloc` once per process. Nothing here simulates.
"""

from __future__ import annotations

import math
import os

import numpy as np

from mixsim.scenario import Scenario

__all__ = [
    "MAX_BATCH",
    "MAX_REPLICATIONS",
    "batch_size",
    "memory_available",
    "memory_for",
    "memory_needed",
    "record_bytes",
    "tune_malloc",
    "world_bytes",
]

MAX_REPLICATIONS = 100_000
"""The most replications of one simulation. A 90% interval over 100,000 runs is already as sharp as its figures are
printed, and every run's record is kept until the result is made (tens of kilobytes each): a billion would fill
any machine's memory before the first result."""

MAX_BATCH = 64
"""The most worlds in one batch. The worlds of a batch that share a seed read a customer's state from one place in
memory, so a batch costs less per world as it grows; past a few dozen worlds the saving is small, while a batch's
records arrive only when its last day is done (a progress bar moves once a batch)."""

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
_MMAP_THRESHOLD = 1 << 28
_malloc_tuned = False


def tune_malloc() -> None:
    """Keep the engine's day-to-day arrays (up to 256 MB) on the heap instead of a fresh mapping each time.

    glibc raises its mapping threshold by itself as large blocks are freed, unless the environment fixes it, as
    Dask's workers do (``MALLOC_TRIM_THRESHOLD_``): every large temporary array is then mapped, zeroed by the
    kernel and unmapped again, which tripled the time of a run on a Dask worker. Once per process, in whatever
    process runs the engine (the caller's own, for work run here); a no-op where the C library is not glibc.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass


_BASE_BYTES = 150 * 2**20
"""A worker's interpreter, numpy, pandas and SimPy, before any customer."""


def memory_needed(scenario: Scenario, journeys: float = 0.0) -> int:
    """Bytes one run of ``scenario`` needs at its peak, estimated from the engine's arrays (with a 25% margin).

    Per customer: stage, segment, the seen-channels mask, touches per channel (4 bytes each), first and last
    channel and day, conversion day (and 13 bytes more when customers buy again or lapse: purchases, the days of
    the latest purchase and the first lapse, the channel that won the customer); per reachable customer and
    channel, 4 bytes of reachable list; the largest
    channel's working arrays during a day's delivery (18 bytes per reachable customer); the organic forces' one
    uniform number per customer. Journals add 16 bytes per touch of the tracked share (at most one touch per
    exposure). Nothing else grows with customers: daily records grow with days x channels.
    """
    n = scenario.population
    channels = scenario.channels
    shares = np.array([s.share for s in scenario.segments])
    reachable = [n * float(shares @ np.asarray(c.reach, dtype=float)) for c in channels]
    mask = 1 if len(channels) <= 8 else 2 if len(channels) <= 16 else 4 if len(channels) <= 32 else 8
    per_customer = 1 + 1 + mask + 4 * len(channels) + 2 + 8 + 4 + _repeat_bytes(scenario)
    working = 18 * max(reachable, default=0.0) + 8 * n * 2
    exposures = sum(c.spend / c.cost_per_exposure for c in channels if c.spend > 0)
    journal = 16 * exposures * journeys
    return int(_BASE_BYTES + 1.25 * (per_customer * n + 4 * sum(reachable) + working + journal))


_RUN_OVERHEAD = 4096
"""Bytes held per finished run besides its arrays: its seed, its task, the record and its arrays' headers."""
_TOUCH_BINS = 16
"""At least the engine's bins of touchpoints per buyer (kept here as a number: importing the engine loads SimPy)."""


def record_bytes(scenario: Scenario, journeys: float = 0.0) -> int:
    """Bytes the caller holds for each finished run of ``scenario`` until the result is made (with a 25% margin).

    The record's daily stages (4 per day) and sales (2 per day), spend and exposures (per day and channel), its
    per-channel totals, its touchpoint, days-to-conversion and retention counts, and the journal of the tracked
    share (16 bytes per touch, at most one per exposure). A million replications of a half-year scenario with five
    channels hold about 32 GB, whatever the population.
    """
    days, channels = scenario.horizon_days, len(scenario.channels)
    values = 6 * days + 2 * days * channels + 6 * channels + _TOUCH_BINS + 3 * math.ceil(days / 7) + 3
    exposures = sum(c.spend / c.cost_per_exposure for c in scenario.channels if c.spend > 0)
    return int(_RUN_OVERHEAD + 1.25 * (8 * values + 16 * exposures * journeys))


def _repeat_bytes(scenario: Scenario) -> int:
    """Bytes per customer and world of the arrays kept only when customers buy again or lapse."""
    return 13 if scenario.repeats else 0


def world_bytes(scenario: Scenario) -> int:
    """Bytes each world of a batch adds to the first (with a 25% margin): its customers' arrays (stage, the
    seen-channels mask, touchpoints, first and last channel and day, conversion day, touches per channel) and each
    channel's counter of the day's exposures per reachable customer. The reachable lists and the SimPy clock are
    shared by every world of a seed."""
    n = scenario.population
    channels = scenario.channels
    shares = np.array([s.share for s in scenario.segments])
    reachable = sum(n * float(shares @ np.asarray(c.reach, dtype=float)) for c in channels)
    mask = 1 if len(channels) <= 8 else 2 if len(channels) <= 16 else 4 if len(channels) <= 32 else 8
    per_customer = 1 + mask + 4 + 2 + 12 + 4 * len(channels) + _repeat_bytes(scenario)
    return int(1.25 * (per_customer * n + 4 * reachable))


def batch_size(scenario: Scenario, workers: int = 1, available: int | None = None) -> int:
    """Worlds of ``scenario`` per batch: as many as fit in half of the memory available to each of ``workers``
    after the first world's peak (:func:`memory_needed`), at most :data:`MAX_BATCH`, and at least 1.

    ``available`` defaults to what the machine can still give (:func:`memory_available`); where that cannot be read,
    batches are of 8 worlds.
    """
    if available is None:
        available = memory_available()
        if available is None:
            return min(8, MAX_BATCH)
    room = available / max(workers, 1) / 2 - memory_needed(scenario)
    return int(max(1, min(MAX_BATCH, 1 + room // world_bytes(scenario))))


def memory_for(scenario: Scenario, runs: int, at_once: int, journeys: float = 0.0) -> int:
    """Bytes a command making ``runs`` runs of ``scenario``, ``at_once`` of them at a time, needs at its peak.

    Each run at once holds :func:`memory_needed` (in a worker of its own, or in this process), and this process
    holds every finished run's record (:func:`record_bytes`) until the result is made: replications count, not
    only the population. Batches of several worlds are sized afterwards to fit in what is left
    (:func:`batch_size`), so a batch of one per worker is what must fit.
    """
    return at_once * memory_needed(scenario, journeys) + runs * record_bytes(scenario, journeys)


def memory_available() -> int | None:
    """Bytes this machine can still give (``MemAvailable``), or None where that cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
