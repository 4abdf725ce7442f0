"""The compiled channel-day against the exposure semantics written plainly: draws taken one at a time, in order.

The compiled loop takes draws in blocks in the order of the customers they fall on, and visits only the worlds a
draw's bits name; this file checks that it ends in exactly the state a draw-by-draw reading of docs/scenario.md gives
(same draws, same chances), world by world, with frequency caps, synergy, limits and marked open customers, and
with a channel that targets the customers (a purchase that leaves the stage where it is) in a population where some
customers won have lapsed (their win back is a repeat purchase).
"""

from __future__ import annotations

import numpy as np
import pytest

from mixsim.engine import kernels

FUNNEL = np.array([True, True, True, False])
EVERYONE = np.array([True, True, True, True])
CHANNEL = 2  # the index of the channel taking the draws


def _position(key: np.uint64, i: int, size: int, pool: np.ndarray) -> int:
    j = min(int(kernels.uniform(key, i, 0) * size), size - 1)
    return int(pool[j]) if pool.size else j


def reference(
    state: dict,
    start: int,
    members,
    limits,
    wants,
    pool,
    draw_key,
    chance_key,
    cap,
    bit,
    table,
    stride,
    marked,
    targeted,
):
    """One world after another, one draw after another: returns where each stopped and what it accepted (a marked
    world also stops when nobody reachable is left open)."""
    reachable, stage, seen, used = state["reachable"], state["stage"], state["seen"], state["used"]
    size = pool.size if pool.size else reachable.size
    stops, taken_counts = [], []
    for m, w in enumerate(members):
        accepted, i = 0, start
        still_open = int((targeted[stage[reachable, w]] & (used[:, w] < cap)).sum())
        while accepted < wants[m] and i < limits[m] and (still_open or not marked):
            position = _position(draw_key, i, size, pool)
            customer = reachable[position]
            s = int(stage[customer, w])
            i += 1
            if not targeted[s] or used[position, w] >= cap:
                continue  # rejected: drawn again
            seen[customer, w] |= bit
            used[position, w] += 1
            distinct = bin(int(seen[customer, w])).count("1")
            offset = int(state["segment"][customer]) * 4 + s + (distinct - 1) * stride
            if kernels.uniform(chance_key, position, int(used[position, w])) < table[offset]:
                if s == 3:  # a customer buys again and stays one
                    state["moves"][w, 3] += 1
                else:
                    stage[customer, w] = s + 1
                    state["moves"][w, s] += 1
                if s >= 2:  # a purchase: the first wins the customer, any other is a repeat purchase
                    if state["converted_day"][customer, w] < 0:
                        state["converted_day"][customer, w] = state["day"]
                        state["won_by"][customer, w] = CHANNEL
                    elif s == 2:
                        state["moves"][w, 4] += 1  # won back after a lapse
                    state["purchases"][customer, w] += 1
                    state["last_purchase"][customer, w] = state["day"]
            if not targeted[stage[customer, w]] or used[position, w] >= cap:
                still_open -= 1
            accepted += 1
        stops.append(i)
        taken_counts.append(accepted)
    return stops, taken_counts


def _state(rng: np.random.Generator, customers: int, worlds: int) -> dict:
    reachable = np.sort(rng.choice(customers, size=customers * 3 // 4, replace=False)).astype(np.int32)
    stage = rng.choice(4, size=(customers, worlds), p=[0.5, 0.25, 0.15, 0.1]).astype(np.int8)
    return {
        "reachable": reachable,
        "stage": stage,
        "segment": rng.integers(0, 2, size=customers).astype(np.int8),
        "seen": rng.integers(0, 4, size=(customers, worlds)).astype(np.uint8),
        "used": np.zeros((reachable.size, worlds), dtype=np.int32),
        # Customers (stage 3) were won on day 3; a fifth of the others were won then and have lapsed since.
        "converted_day": np.where((stage == 3) | (rng.random((customers, worlds)) < 0.2), 3.0, -1.0).astype(np.float32),
        "won_by": np.full((customers, worlds), -1, dtype=np.int8),
        "purchases": (stage == 3).astype(np.uint32),
        "last_purchase": np.where(stage == 3, 3.0, -1.0).astype(np.float32),
        "moves": np.zeros((worlds, 5), dtype=np.int64),
        "day": 7.0,
    }


def compiled(
    state: dict, start, members, limits, wants, pool, draw_key, chance_key, cap, bit, table, stride, marked, targeted
):
    """The same through :func:`kernels.take`, with the open customers marked in bits when ``marked``."""
    worlds = state["stage"].shape[1]
    n = state["reachable"].size
    members = np.asarray(members, dtype=np.int64)
    accepted = np.zeros(members.size, dtype=np.int64)
    stopped = np.zeros(members.size, dtype=np.int64)
    left = np.zeros(worlds, dtype=np.int64)
    bits = np.zeros((0, 1), dtype=np.uint8)
    if marked:
        bits = np.zeros((n, 1), dtype=np.uint8)
        left[:] = kernels.open_bits(state["reachable"], state["stage"], targeted, bits, 3)
    kernels.take(
        start,
        members,
        np.asarray(limits, dtype=np.int64),
        np.asarray(wants, dtype=np.int64),
        accepted,
        stopped,
        pool,
        state["reachable"],
        draw_key,
        chance_key,
        state["stage"],
        state["segment"],
        state["seen"],
        state["used"],
        table,
        stride,
        targeted,
        cap,
        bit,
        True,
        state["converted_day"],
        state["won_by"],
        CHANNEL,
        state["purchases"],
        state["last_purchase"],
        state["day"],
        state["moves"],
        np.empty(n, dtype=np.int32),
        np.zeros(1, dtype=np.int64),
        bits,
        3,
        left,
    )
    return list(stopped), list(accepted)


@pytest.mark.parametrize("customers_too", [False, True])
@pytest.mark.parametrize("marked", [False, True])
@pytest.mark.parametrize("case", range(6))
def test_compiled_channel_day_equals_draws_taken_one_at_a_time(case: int, marked: bool, customers_too: bool) -> None:
    rng = np.random.default_rng(case)
    customers, worlds = 3_000, 5
    base = _state(rng, customers, worlds)
    table = rng.uniform(0.05, 0.9, size=4 * 2 * 3)  # 2 segments x up to 3 distinct channels
    targeted = EVERYONE if customers_too else FUNNEL
    if not customers_too:
        table[3::4] = 0.0
    cap = int(rng.integers(1, 4))
    wants = rng.integers(0, 4_000, size=worlds)
    # Limits: unbounded, or a stretch that stops some worlds before their exposures (marked days have none).
    limits = [2**62] * worlds if marked else list(rng.integers(200, 9_000, size=worlds))
    start = 0 if marked else int(rng.integers(0, 500))
    pool = np.empty(0, dtype=np.int32)
    if case == 5 and not marked:  # drawing among a list of open positions
        pool = np.sort(rng.choice(base["reachable"].size, size=400, replace=False)).astype(np.int32)
    keys = [np.uint64(k) for k in rng.integers(2**63, size=2, dtype=np.uint64)]
    members = list(range(worlds))
    args = (start, members, limits, wants, pool, *keys, cap, 4, table, 8)

    plain = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in base.items()}
    fast = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in base.items()}
    stops, taken = reference(plain, *args, marked, targeted)
    got_stops, got_taken = compiled(fast, *args, marked, targeted)

    assert got_taken == taken
    assert got_stops == stops
    assert sum(taken) > 0
    for name in ("stage", "seen", "used", "converted_day", "won_by", "purchases", "last_purchase", "moves"):
        np.testing.assert_array_equal(fast[name], plain[name], err_msg=name)
    if customers_too:
        assert plain["moves"][:, 3].sum() > 0 and plain["moves"][:, 4].sum() > 0  # both kinds of repeat purchase
