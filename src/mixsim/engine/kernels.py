"""Compiled loops of a channel's day: the draws taken one at a time, in the order they were drawn, in every world of
a seed group at once.

numpy would need a dozen passes over a day's draws (and a round per repeated chance) where one pass does, and the
worlds of a group look at the same draws: these loops run the exposure semantics (docs/scenario.md) draw by draw,
exactly as written there, reading each drawn customer's state in every world from one place in memory (the
customer arrays are customers x worlds). They are compiled once and cached next to this file.

Random numbers here are counter-based (SplitMix64's output function of a key and a counter), so a number depends
on the key, the draw's index and the customer's own count of chances, never on what other customers or other
worlds took: worlds that share a seed share every number they can.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

_GOLDEN = uint64(0x9E3779B97F4A7C15)
_ODD = uint64(0xD1B54A32D192ED03)
_MIX1 = uint64(0xBF58476D1CE4E5B9)
_MIX2 = uint64(0x94D049BB133111EB)
_CONVERTED = 3
_ACTIVE, _DONE, _PAUSED = 0, 1, 2
_AHEAD = 64  # draws whose memory is read ahead of the loop that uses it


@njit(cache=True, inline="always")
def uniform(key: np.uint64, counter: int, index: int) -> float:
    """Counter-based uniform number in [0, 1) of (``counter``, ``index``) under ``key``: SplitMix64's output
    function of ``counter * golden + index * odd + key``, 53 bits (exact for any probability)."""
    x = uint64(counter) * _GOLDEN + uint64(index) * _ODD + key
    x ^= x >> uint64(30)
    x *= _MIX1
    x ^= x >> uint64(27)
    x *= _MIX2
    x ^= x >> uint64(31)
    return float(x >> uint64(11)) * 2.0**-53


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> int:
    count = 0
    while x:
        x &= x - uint64(1)
        count += 1
    return count


@njit(cache=True)
def take(
    start: int,
    members: np.ndarray,
    limits: np.ndarray,
    wants: np.ndarray,
    accepted: np.ndarray,
    stopped: np.ndarray,
    pool: np.ndarray,
    reachable: np.ndarray,
    draw_key: np.uint64,
    chance_key: np.uint64,
    stage: np.ndarray,
    segment: np.ndarray,
    seen: np.ndarray,
    used: np.ndarray,
    table: np.ndarray,
    stride: int,
    targeted: np.ndarray,
    cap: int,
    bit: int,
    synergy: bool,
    converted_day: np.ndarray,
    day: float,
    moves: np.ndarray,
    touched: np.ndarray,
    n_touched: np.ndarray,
    bits: np.ndarray,
    shift: int,
    left: np.ndarray,
) -> int:
    """Look at draws ``start, start + 1, ...`` in the worlds ``members`` until each has accepted ``wants[m]`` more
    draws or looked at every draw below ``limits[m]``.

    Draw ``i`` is the position ``floor(uniform(draw_key, i, 0) * size)`` in ``reachable`` (or, when ``pool`` is
    not empty, the position ``pool[...]`` of the list ``pool`` of open positions). In each world a draw on a
    customer out of the targeted stages, or at the frequency cap, is rejected; an accepted draw is the customer's
    next chance of the day (number ``used + 1``): it moves the customer one stage up with the table's probability
    for its segment, stage and channels seen. ``stopped[m]`` receives the index of the first draw world ``m`` did
    not look at; ``touched`` gains the positions touched for the first time today in any world (``n_touched[0]``
    counts them), and ``moves[w, s]`` counts the customers who left stage ``s`` for ``s + 1``.

    When ``bits`` has rows (see :func:`open_bits`; ``2**shift`` bits a word), bit ``w`` of row ``position`` says
    whether the customer can take an exposure in world ``w``: one load answers for every world, and a world whose
    ``left`` open customers fall to zero stops (its limit is then not needed).
    """
    use_bits = bits.shape[0] > 0
    low = (1 << shift) - 1
    size = pool.size if pool.size > 0 else reachable.size
    n_members = members.size
    state = np.zeros(n_members, dtype=np.int8)
    active = n_members
    for m in range(n_members):
        if accepted[m] >= wants[m]:
            state[m] = _DONE
            stopped[m] = start
            active -= 1
    ahead = np.empty(_AHEAD, dtype=np.int64)  # the positions of the next draws
    ahead_customer = np.empty(_AHEAD, dtype=np.int64)
    touch = 0
    i = start
    while active > 0:
        k = (i - start) % _AHEAD
        if k == 0:
            # The next draws' positions and customers first, then a read of what the loop below will read for them:
            # the reads go out together instead of one after another (the results are the same, the waits shorter).
            for t in range(_AHEAD):
                j = int(uniform(draw_key, i + t, 0) * size)
                if j >= size:  # a product rounded up to the size itself
                    j = size - 1
                p = pool[j] if pool.size > 0 else j
                ahead[t] = p
                if use_bits:
                    touch += bits[p, 0]
                else:
                    ahead_customer[t] = reachable[p]
            if not use_bits:
                for t in range(_AHEAD):
                    c = ahead_customer[t]
                    touch += stage[c, 0] + used[ahead[t], 0] + segment[c]
                    if synergy:
                        touch += seen[c, 0]
        position = ahead[k]
        customer = -1 if use_bits else ahead_customer[k]  # with bits, read only for a world that takes the draw
        last_taken = -1
        u = 0.0
        listed = False
        for m in range(n_members):
            if state[m] != _ACTIVE:
                continue
            if i >= limits[m]:
                state[m] = _PAUSED
                stopped[m] = i
                active -= 1
                continue
            w = members[m]
            if use_bits:
                if not (bits[position, w >> shift] >> (w & low)) & 1:
                    continue
                if customer < 0:
                    customer = reachable[position]
                s = stage[customer, w]
                taken = used[position, w]
            else:
                s = stage[customer, w]
                if not targeted[s]:
                    continue
                taken = used[position, w]  # read only for a customer in a targeted stage: most draws stop above
                if taken >= cap:
                    continue
            if taken == 0:
                if not listed:  # once a draw: is this the customer's first exposure today in any world?
                    listed = True
                    fresh = True
                    for v in range(used.shape[1]):
                        if used[position, v]:
                            fresh = False
                            break
                    if fresh:  # it joins the day's list
                        touched[n_touched[0]] = position
                        n_touched[0] += 1
                if synergy:
                    seen[customer, w] |= bit
            offset = segment[customer] * 4 + s
            if synergy:
                offset += (_popcount(uint64(seen[customer, w])) - 1) * stride
            taken += 1
            used[position, w] = taken
            if taken != last_taken:  # worlds with the same count of chances share the number
                u = uniform(chance_key, position, taken)
                last_taken = taken
            after = s
            if u < table[offset]:
                after = s + 1
                stage[customer, w] = after
                moves[w, s] += 1
                if after == _CONVERTED:
                    converted_day[customer, w] = day
            accepted[m] += 1
            if use_bits and (not targeted[after] or taken >= cap):
                bits[position, w >> shift] ^= 1 << (w & low)  # the bit was set: clear it
                left[w] -= 1
            if accepted[m] >= wants[m] or (use_bits and left[w] == 0):
                state[m] = _DONE
                stopped[m] = i + 1
                active -= 1
        i += 1
    return touch


@njit(cache=True)
def book(
    touched: np.ndarray,
    reachable: np.ndarray,
    used: np.ndarray,
    channel: int,
    day: float,
    touches: np.ndarray,
    touchpoints: np.ndarray,
    first_channel: np.ndarray,
    first_touch: np.ndarray,
    last_channel: np.ndarray,
    last_touch: np.ndarray,
) -> None:
    """Record the day's touches once per customer touched (``touched``: positions touched in some world), in every
    world where it was (all of them came before any conversion): exposures, one touchpoint, first and last channel;
    the day's counters go back to zero."""
    worlds = used.shape[1]
    for k in range(touched.size):
        position = touched[k]
        customer = reachable[position]
        for w in range(worlds):
            taken = used[position, w]
            if taken == 0:
                continue
            used[position, w] = 0
            touches[customer, w] += taken
            touchpoints[customer, w] += 1
            if first_channel[customer, w] < 0:
                first_channel[customer, w] = channel
                first_touch[customer, w] = day
            last_channel[customer, w] = channel
            last_touch[customer, w] = day


@njit(cache=True)
def open_bits(
    reachable: np.ndarray, stage: np.ndarray, targeted: np.ndarray, bits: np.ndarray, shift: int
) -> np.ndarray:
    """Set bit ``w`` of ``bits[position]`` (zeros, ``2**shift`` bits a word) where the customer ``reachable[position]``
    is in a targeted stage in world ``w`` (at the start of a day, when nobody has reached a frequency cap); return
    how many are, per world."""
    worlds = stage.shape[1]
    low = (1 << shift) - 1
    left = np.zeros(worlds, dtype=np.int64)
    for position in range(reachable.size):
        customer = reachable[position]
        for w in range(worlds):
            if targeted[stage[customer, w]]:
                bits[position, w >> shift] |= 1 << (w & low)
                left[w] += 1
    return left


@njit(cache=True)
def open_positions(
    reachable: np.ndarray, stage: np.ndarray, used: np.ndarray, w: int, targeted: np.ndarray, cap: int
) -> np.ndarray:
    """Positions in ``reachable`` of the customers of world ``w`` who can take an exposure now."""
    out = np.empty(reachable.size, dtype=np.int32)
    count = 0
    for position in range(reachable.size):
        if targeted[stage[reachable[position], w]] and used[position, w] < cap:
            out[count] = position
            count += 1
    return out[:count]


@njit(cache=True)
def derived_key(key: np.uint64, index: int) -> np.uint64:
    """A new key from ``key`` and a counter (a fresh sequence of draws)."""
    x = key + uint64(index) * _ODD + _GOLDEN
    x ^= x >> uint64(30)
    x *= _MIX1
    x ^= x >> uint64(27)
    x *= _MIX2
    x ^= x >> uint64(31)
    return x
