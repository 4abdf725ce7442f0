"""Compiled loops of a channel's day: the draws taken in every world of a seed group at once.

numpy would need a dozen passes over a day's draws (and a round per repeated chance) where one pass does, and the
worlds of a group look at the same draws: these loops run the exposure semantics (docs/scenario.md) draw by draw,
exactly as written there, reading each drawn customer's state in every world from one place in memory (the
customer arrays are customers x worlds). Draws are taken in blocks in the order of the customers they fall on,
which reads memory in order and changes no number (see :func:`take`). They are compiled once and cached next to
this file.

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
_WON_BACK = 4  # the column of moves counting customers who lapsed and were won again
ENDLESS = 2**62  # a limit no day's draws reach
_BLOCK = 1 << 15  # the most draws taken at once in the order of their positions
_MIN_BLOCK = 64  # with less room than this, draws are taken one at a time


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


def _lowest_bit_table() -> np.ndarray:
    """Index of the lowest set bit of ``x`` from ``((x & -x) * _DE_BRUIJN) >> 58`` (a de Bruijn sequence)."""
    table = np.zeros(64, dtype=np.int64)
    for k in range(64):
        table[((1 << k) * int(_DE_BRUIJN) % 2**64) >> 58] = k
    return table


_DE_BRUIJN = uint64(0x03F79D71B4CB0A89)
_LOWEST_BIT = _lowest_bit_table()


@njit(cache=True, inline="always")
def _lowest_bit(x: np.uint64) -> int:
    return _LOWEST_BIT[((x & (~x + uint64(1))) * _DE_BRUIJN) >> uint64(58)]


@njit(cache=True, inline="always")
def _position(draw_key: np.uint64, i: int, size: int, pool: np.ndarray) -> int:
    """The reachable position of draw ``i``: uniform over the list, or over ``pool`` when it is not empty."""
    j = int(uniform(draw_key, i, 0) * size)
    if j >= size:  # a product rounded up to the size itself
        j = size - 1
    return pool[j] if pool.size > 0 else j


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
    won_by: np.ndarray,
    channel: int,
    purchases: np.ndarray,
    last_purchase: np.ndarray,
    day: float,
    moves: np.ndarray,
    touched: np.ndarray,
    n_touched: np.ndarray,
    bits: np.ndarray,
    shift: int,
    left: np.ndarray,
) -> None:
    """Look at draws ``start, start + 1, ...`` in the worlds ``members`` until each has accepted ``wants[m]`` more
    draws or looked at every draw below ``limits[m]``.

    Draw ``i`` is the position ``floor(uniform(draw_key, i, 0) * size)`` in ``reachable`` (or, when ``pool`` is
    not empty, the position ``pool[...]`` of the list ``pool`` of open positions). In each world a draw on a
    customer out of the targeted stages, or at the frequency cap, is rejected; an accepted draw is the customer's
    next chance of the day (number ``used + 1``): it moves the customer one stage up with the table's probability
    for its segment, stage and channels seen. ``stopped[m]`` receives the index of the first draw world ``m`` did
    not look at; ``touched`` gains the positions touched for the first time today in any world (``n_touched[0]``
    counts them), and ``moves[w, s]`` counts the customers who left stage ``s`` for ``s + 1`` (``s`` < 3).

    A customer (converted) who is targeted and accepts a draw makes a repeat purchase with the table's probability
    and stays a customer: ``moves[w, 3]`` counts those purchases, and ``moves[w, 4]`` the customers who had lapsed
    and are won again (a repeat purchase too). ``converted_day`` is set on a customer's first purchase only (and
    ``won_by``, when it has rows, to ``channel``);
    ``purchases`` and ``last_purchase`` (when they have rows) count every purchase and keep the day of the latest.

    When ``bits`` has rows (see :func:`open_bits`; ``2**shift`` bits a word), bit ``w`` of row ``position`` says
    whether the customer can take an exposure in world ``w``: one load tells which worlds can take the draw, and
    only those are visited; a world whose ``left`` open customers fall to zero stops (its limit is then not needed).

    Draws are taken in blocks, in the order of their positions: whether a draw is accepted, and what it does,
    depends on the earlier draws on the same customer alone (the k-th accepted one is the customer's k-th chance of
    the day, whichever draw it is) and on whether the world has stopped. A block is never longer than any world
    still looking can take without reaching its exposures or its limit, so no world stops inside one but for having
    no open customer left (and then every later draw is rejected anyway): each world ends exactly as it does taking
    the draws one at a time, and a block reads the customers' memory in order instead of at random.
    """
    use_bits = bits.shape[0] > 0
    low = (1 << shift) - 1
    size = pool.size if pool.size > 0 else reachable.size
    n_members = members.size
    # The members still looking, in a compact list; with bits, also as a mask over the world axis.
    live = np.empty(n_members, dtype=np.int64)
    n_live = 0
    member_of = np.full(stage.shape[1], -1, dtype=np.int64)
    mask = np.zeros(max(bits.shape[1], 1), dtype=np.uint64)
    finished = np.zeros(n_members, dtype=np.bool_)
    last = np.full(n_members, start - 1, dtype=np.int64)  # the last draw each member accepted
    for m in range(n_members):
        if accepted[m] >= wants[m]:
            stopped[m] = start
            continue
        w = members[m]
        live[n_live] = m
        n_live += 1
        member_of[w] = m
        if use_bits:
            mask[w >> shift] |= uint64(1) << uint64(w & low)
    drawn = np.empty(_BLOCK, dtype=np.int64)
    order = np.empty(_BLOCK, dtype=np.int64)
    counts = np.empty(_BLOCK + 2, dtype=np.int64)
    i = start
    while n_live > 0:
        room = ENDLESS
        kept = 0
        for r in range(n_live):
            m = live[r]
            if finished[m]:  # stopped after its last accepted draw
                stopped[m] = last[m] + 1
            elif i >= limits[m]:  # paused at its limit
                stopped[m] = i
                w = members[m]
                if use_bits:
                    mask[w >> shift] &= ~(uint64(1) << uint64(w & low))
            else:
                live[kept] = m
                kept += 1
                room = min(room, limits[m] - i, wants[m] - accepted[m])
        n_live = kept
        if n_live == 0:
            break
        span = 1 if room < _MIN_BLOCK else min(room, _BLOCK)
        if span == 1:
            drawn[0] = _position(draw_key, i, size, pool)
            order[0] = 0
        else:
            # The block's positions, then their order by position (a counting sort on the position's high bits).
            spread = 0
            while (reachable.size >> spread) > span:  # positions (in the pool too) are below the list's size
                spread += 1
            buckets = (reachable.size >> spread) + 1
            counts[: buckets + 1] = 0
            for t in range(span):
                p = _position(draw_key, i + t, size, pool)
                drawn[t] = p
                counts[(p >> spread) + 1] += 1
            for b in range(buckets):
                counts[b + 1] += counts[b]
            for t in range(span):
                b = drawn[t] >> spread
                order[counts[b]] = t
                counts[b] += 1
        for q in range(span):
            t = order[q]
            index = i + t
            position = drawn[t]
            customer = -1 if use_bits else reachable[position]  # with bits, read only for a world that takes the draw
            last_taken = -1
            u = 0.0
            listed = False
            r = 0
            word = 0
            x = uint64(0)
            while True:
                # The next world to look at: one whose bit says it can take the draw, or the next member still looking.
                if use_bits:
                    while x == 0 and word < mask.size:
                        x = uint64(bits[position, word]) & mask[word]
                        word += 1
                    if x == 0:
                        break
                    w = ((word - 1) << shift) | _lowest_bit(x)
                    x &= x - uint64(1)
                    m = member_of[w]
                    if customer < 0:
                        customer = reachable[position]
                    s = stage[customer, w]
                    taken = used[position, w]
                else:
                    if r == n_live:
                        break
                    m = live[r]
                    r += 1
                    if finished[m]:
                        continue
                    w = members[m]
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
                    if s == _CONVERTED:  # a customer buys again, and stays a customer
                        moves[w, _CONVERTED] += 1
                    else:
                        after = s + 1
                        stage[customer, w] = after
                        moves[w, s] += 1
                    if after == _CONVERTED:
                        if converted_day[customer, w] < 0:  # won
                            converted_day[customer, w] = day
                            if won_by.shape[0] > 0:
                                won_by[customer, w] = channel
                        elif s != _CONVERTED:  # won back after a lapse: a repeat purchase
                            moves[w, _WON_BACK] += 1
                        if purchases.shape[0] > 0:
                            purchases[customer, w] += 1
                            last_purchase[customer, w] = day
                accepted[m] += 1
                if index > last[m]:
                    last[m] = index
                if use_bits and (not targeted[after] or taken >= cap):
                    bits[position, w >> shift] ^= 1 << (w & low)  # the bit was set: clear it
                    left[w] -= 1
                if accepted[m] >= wants[m] or (use_bits and left[w] == 0):
                    finished[m] = True
                    if use_bits:
                        mask[w >> shift] &= ~(uint64(1) << uint64(w & low))
        i += span


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
    seen: np.ndarray,
    bit: int,
    converted_day: np.ndarray,
    won_by: np.ndarray,
    after_won: bool,
) -> None:
    """Record the day's touches once per customer touched (``touched``: positions touched in some world), in every
    world where it was: the channel's bit in ``seen`` and the day of the latest touch; and for a touch before the
    customer was won, exposures, one touchpoint, first and last channel. The day's counters go back to zero.

    Without ``after_won`` no customer is touched after being won (no channel targets customers and nobody lapses),
    and every touch counts. With it, a touch of a customer won on an earlier day, or earlier today by another
    channel (``won_by``: the channel that won each customer, -1 for none or an organic force), is not one of the
    touches that won it; a touch of this channel on the day it won the customer is."""
    worlds = used.shape[1]
    for k in range(touched.size):
        position = touched[k]
        customer = reachable[position]
        for w in range(worlds):
            taken = used[position, w]
            if taken == 0:
                continue
            used[position, w] = 0
            seen[customer, w] |= bit
            last_touch[customer, w] = day  # what memory reads: touched today
            won = converted_day[customer, w]
            if after_won and won >= 0 and (won < day or won_by[customer, w] != channel):
                continue  # won before this channel's touch: not one of the touches that won the customer
            touches[customer, w] += taken
            touchpoints[customer, w] += 1
            if first_channel[customer, w] < 0:
                first_channel[customer, w] = channel
                first_touch[customer, w] = day
            last_channel[customer, w] = channel


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
