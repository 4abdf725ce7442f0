"""Memory: what a run needs, what the machine can give, and how the C allocator holds the engine's arrays.

The command line refuses, before any work, a run the machine cannot hold; the engine's runs call
:func:`tune_malloc` once per process. Nothing here simulates.
"""

from __future__ import annotations

import os

import numpy as np

from mixsim.scenario import Scenario

__all__ = ["memory_available", "memory_needed", "tune_malloc"]

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
    channel and day, conversion day; per reachable customer and channel, 4 bytes of reachable list; the largest
    channel's working arrays during a day's delivery (18 bytes per reachable customer); the organic forces' one
    uniform number per customer. Journals add 16 bytes per touch of the tracked share (at most one touch per
    exposure). Nothing else grows with customers: daily records grow with days x channels.
    """
    n = scenario.population
    channels = scenario.channels
    shares = np.array([s.share for s in scenario.segments])
    reachable = [n * float(shares @ np.asarray(c.reach, dtype=float)) for c in channels]
    mask = 1 if len(channels) <= 8 else 2 if len(channels) <= 16 else 4 if len(channels) <= 32 else 8
    per_customer = 1 + 1 + mask + 4 * len(channels) + 2 + 8 + 4
    working = 18 * max(reachable, default=0.0) + 8 * n * 2
    exposures = sum(c.spend / c.cost_per_exposure for c in channels if c.spend > 0)
    journal = 16 * exposures * journeys
    return int(_BASE_BYTES + 1.25 * (per_customer * n + 4 * sum(reachable) + working + journal))


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
