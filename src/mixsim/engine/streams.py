"""Random numbers of a run: one stream per process and day, and rare events drawn without a number per customer.

Every stream is a child of the run's seed sequence keyed by the process (a channel by its name) and the day, so a
counterfactual run that changes one channel leaves the numbers every other process sees unchanged, and worlds of a
batch that share a seed share every stream.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

DENSE = 0.25
"""Above this chance per customer, an organic force draws one uniform number per customer; below, only the
customers it may move (see :func:`candidates`)."""


_GAPS = 1e-6
"""From this chance up, the chosen customers are found by geometric gaps (cheaper); below, a gap could pass any
integer."""


def _stream_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def seed_key(seed: np.random.SeedSequence) -> tuple[object, ...]:
    """What makes two seed sequences give the same streams."""
    return (seed.entropy, tuple(seed.spawn_key), seed.pool_size)


class Streams:
    """Random streams of one seed: one per (process, day), all children of the seed sequence."""

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self._entropy = seed.entropy
        self._key = tuple(seed.spawn_key)
        self._pool_size = seed.pool_size

    def get(self, process: str, day: int = -1) -> np.random.Generator:
        """The stream of ``process`` on ``day`` (``-1``: the process's set-up stream)."""
        seq = np.random.SeedSequence(
            self._entropy, spawn_key=(*self._key, _stream_key(process), day + 1), pool_size=self._pool_size
        )
        return np.random.Generator(np.random.PCG64(seq))


def candidates(rng: np.random.Generator, n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """The customers whose uniform number of the day falls below ``p``, and those numbers.

    Every customer ``i`` of ``n`` has a uniform number ``u_i``; this returns the ``i`` with ``u_i < p`` (sorted) and
    their ``u_i``, without drawing the others: the gaps between successive ones are geometric (for a tiny ``p``,
    their count is binomial and which ones a uniform sample of that many), and given ``u_i < p``, ``u_i`` is uniform
    on ``[0, p)``. A force that moves customer ``i`` when
    ``u_i < q_i`` (with every ``q_i <= p``) thus acts exactly as with one number per customer, at a cost that grows
    with ``n p``, not ``n``. Above :data:`DENSE` it draws one number per customer (as cheap, then).
    """
    if p <= 0.0 or n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    if p >= DENSE:
        u = rng.random(n)
        chosen = np.flatnonzero(u < p)
        return chosen, u[chosen]
    if p < _GAPS:
        count = int(rng.binomial(n, p))
        chosen = np.sort(rng.choice(n, size=count, replace=False, shuffle=False)).astype(np.int64)
        return chosen, p * rng.random(count)
    expected = n * p
    chunks = []
    last = -1
    while last < n:
        size = int(expected * 1.1 + 5.0 * math.sqrt(expected)) + 16
        steps = np.cumsum(rng.geometric(p, size=size)) + last
        chunks.append(steps)
        last = int(steps[-1])
    chosen = np.concatenate(chunks)
    chosen = chosen[: np.searchsorted(chosen, n)]
    return chosen, p * rng.random(chosen.size)
