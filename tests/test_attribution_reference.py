"""Markov and Shapley attribution checked against references computed another way.

Markov: the absorbing-chain answer (``attribute`` solves a linear system) is compared with the limit of
matrix powers of the estimated transition matrix, and with a seeded Monte Carlo random walk on that chain (5-sigma
tolerances from the binomial standard error). Shapley: the subset-weight formula is compared with the average of
marginal contributions over all n! orderings of the channels, and with the closed form of Zhao et al. (2018),
``phi_c = sum over channel sets T containing c of r(T) / |T|``. Relabelling the channels must relabel the credits.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from mixsim.research.attribution import attribute, conversion_probability, removal_effects


def markov(paths: pd.DataFrame) -> pd.DataFrame:
    """The markov model's credit, indexed by ``channel``, columns ``conversions`` and ``value``."""
    return attribute(paths, ["markov"]).drop(columns="model").set_index("channel")


def shapley(paths: pd.DataFrame) -> pd.DataFrame:
    """The shapley model's credit, indexed by ``channel``, columns ``conversions`` and ``value``."""
    return attribute(paths, ["shapley"]).drop(columns="model").set_index("channel")


NAMES = ("search", "social", "tv-spot", "email_2", "display", "Affiliate9")
START, CONV, NULL = "(start)", "(conversion)", "(null)"
RTOL = 1e-9
ATOL = 1e-12

# ------------------------------------------------------------------------------------------------- helpers


def split(path: str) -> list[str]:
    return path.split(" > ")


def random_table(seed: int, n_channels: int | None = None, n_rows: int | None = None) -> pd.DataFrame:
    """A path table with distinct paths over 3-6 channels, consecutive repeats, and some never-converting paths."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7)) if n_channels is None else n_channels
    names = [str(x) for x in rng.permutation(NAMES[:n])]
    rows = int(rng.integers(8, 25)) if n_rows is None else n_rows
    paths: dict[str, None] = {}
    while len(paths) < rows:
        length = int(rng.integers(1, 6))
        touches: list[str] = []
        for _ in range(length):
            if touches and rng.random() < 0.3:
                touches.append(touches[-1])  # a consecutive repeat
            else:
                touches.append(names[int(rng.integers(n))])
        paths[" > ".join(touches)] = None
    seen = {c for p in paths for c in split(p)}
    for c in names:  # every channel appears somewhere
        if c not in seen:
            paths[f"{c} > {names[0]}" if c != names[0] else c] = None
    path_list = list(paths)
    m = len(path_list)
    conv = np.where(rng.random(m) < 0.35, 0.0, rng.integers(1, 20, m).astype(float))
    conv[rng.random(m) < 0.2] += 0.5  # some fractional counts
    if conv.sum() == 0:
        conv[0] = 3.0
    null = rng.integers(0, 40, m).astype(float)
    null[(conv + null) == 0] = 1.0  # every row carries weight
    value = conv * rng.uniform(10.0, 100.0, m)
    return pd.DataFrame(
        {"path": path_list, "total_conversions": conv, "total_conversion_value": value, "total_null": null}
    )


def channels_of(table: pd.DataFrame) -> list[str]:
    """Channels in order of first appearance."""
    out: dict[str, None] = {}
    for p in table["path"]:
        for c in split(p):
            out[c] = None
    return list(out)


def transition_matrix(table: pd.DataFrame, chans: Sequence[str]) -> np.ndarray:
    """Row-stochastic first-order transition matrix over (start), channels..., (conversion), (null).

    Built touch by touch from the table (no vectorisation, on purpose); absorbing states loop onto themselves.
    """
    idx = {START: 0, **{c: i + 1 for i, c in enumerate(chans)}}
    n = len(chans)
    conv_i, null_i = n + 1, n + 2
    counts = np.zeros((n + 3, n + 3))
    for path, c, z in zip(table["path"], table["total_conversions"], table["total_null"], strict=True):
        w = float(c) + float(z)
        if w == 0:
            continue
        states = [START, *split(path)]
        for a, b in itertools.pairwise(states):
            counts[idx[a], idx[b]] += w
        counts[idx[states[-1]], conv_i] += float(c)
        counts[idx[states[-1]], null_i] += float(z)
    counts[conv_i, conv_i] = 1.0
    counts[null_i, null_i] = 1.0
    totals = counts.sum(axis=1, keepdims=True)
    assert np.all(totals > 0), "every state of the estimated chain has an outgoing transition"
    return counts / totals


def remove_channel(p: np.ndarray, k: int) -> np.ndarray:
    """Redirect every transition into state k to (null); k itself becomes a dead end into (null)."""
    q = p.copy()
    null_i = q.shape[0] - 1
    q[:, null_i] += q[:, k]
    q[:, k] = 0.0
    q[k, :] = 0.0
    q[k, null_i] = 1.0
    return q


def absorption_by_powers(p: np.ndarray) -> float:
    """P(absorbed in (conversion) | start) as the limit of P^(2^k) (repeated squaring), not a linear solve."""
    m = p.copy()
    n_states = p.shape[0]
    for _ in range(80):
        m = m @ m
        if m[0, : n_states - 2].sum() < 1e-15:
            break
    assert m[0, : n_states - 2].sum() < 1e-12, "the chain did not converge to absorption"
    return float(m[0, n_states - 2])


def markov_reference(table: pd.DataFrame) -> tuple[float, dict[str, float], dict[str, float], dict[str, float]]:
    """(P, removal effects, conversion credits, value credits) by matrix powers."""
    chans = channels_of(table)
    p = transition_matrix(table, chans)
    prob = absorption_by_powers(p)
    re = {c: 1.0 - absorption_by_powers(remove_channel(p, i + 1)) / prob for i, c in enumerate(chans)}
    total_re = sum(re.values())
    conv_total = float(table["total_conversions"].sum())
    value_total = float(table["total_conversion_value"].sum())
    conv = {c: r / total_re * conv_total for c, r in re.items()}
    value = {c: r / total_re * value_total for c, r in re.items()}
    return prob, re, conv, value


def random_walks(p: np.ndarray, n_walks: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Walk the chain from (start); return (converted flag, bit mask of channels visited) per walk."""
    rng = np.random.default_rng(seed)
    n_states = p.shape[0]
    conv_i, null_i = n_states - 2, n_states - 1
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = 1.0
    state = np.zeros(n_walks, dtype=np.int64)
    visited = np.zeros(n_walks, dtype=np.int64)
    for _ in range(100_000):
        active = np.flatnonzero((state != conv_i) & (state != null_i))
        if active.size == 0:
            break
        u = rng.random(active.size)
        nxt = (u[:, None] >= cum[state[active]]).sum(axis=1)
        state[active] = nxt
        is_channel = (nxt >= 1) & (nxt < conv_i)
        visited[active[is_channel]] |= np.left_shift(1, nxt[is_channel] - 1)
    else:
        pytest.fail("random walks did not all get absorbed")
    return state == conv_i, visited


def as_series(x: Mapping[str, float]) -> pd.Series:
    return pd.Series(dict(x), dtype=float)


def assert_credits(frame: pd.DataFrame, conv: Mapping[str, float], value: Mapping[str, float]) -> None:
    assert set(frame.index) == set(conv), (list(frame.index), list(conv))
    order = list(conv)
    np.testing.assert_allclose(frame.loc[order, "conversions"].to_numpy(float), list(conv.values()), RTOL, ATOL)
    np.testing.assert_allclose(frame.loc[order, "value"].to_numpy(float), list(value.values()), RTOL, ATOL)


# Hand-worked table (see test_markov_hand_worked_table for the arithmetic).
HAND = pd.DataFrame(
    {
        "path": ["a > b", "a > a", "b", "c > a"],
        "total_conversions": [3.0, 1.0, 0.0, 1.0],
        "total_conversion_value": [30.0, 5.0, 0.0, 8.0],
        "total_null": [1.0, 1.0, 2.0, 3.0],
    }
)
MARKOV_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8]

# ------------------------------------------------------------------------------------------------- markov


def test_markov_hand_worked_table() -> None:
    # Weights w = conv + null: 4, 2, 2, 4. Transitions (self-loops dropped, they do not change absorption):
    #   start: a 6, b 2, c 4            -> a 1/2, b 1/6, c 1/3
    #   a:     b 4, conv 1+1, null 1+3   -> b 2/5, conv 1/5, null 2/5
    #   b:     conv 3, null 1+2          -> conv 1/2
    #   c:     a 4                       -> a 1
    # P(b) = 1/2, P(a) = 2/5 * 1/2 + 1/5 = 2/5, P(c) = 2/5, P = 1/5 + 1/12 + 2/15 = 5/12.
    # Without a: P = 1/6 * 1/2 = 1/12 -> RE 4/5. Without b: P(a) = P(c) = 1/5, P = 1/10 + 1/15 = 1/6 -> RE 3/5.
    # Without c: P = 1/5 + 1/12 = 17/60 -> RE 8/25. Shares 20/43, 15/43, 8/43 of 5 conversions and 43 in value.
    want_re = {"a": 4 / 5, "b": 3 / 5, "c": 8 / 25}
    want_conv = {"a": 100 / 43, "b": 75 / 43, "c": 40 / 43}
    want_value = {"a": 20.0, "b": 15.0, "c": 8.0}

    # the reference agrees with the hand computation ...
    ref_p, ref_re, ref_conv, ref_value = markov_reference(HAND)
    assert ref_p == pytest.approx(5 / 12, rel=1e-12)
    assert ref_re == pytest.approx(want_re, rel=1e-12)
    assert ref_conv == pytest.approx(want_conv, rel=1e-12)
    assert ref_value == pytest.approx(want_value, rel=1e-12)

    # ... and so does the implementation
    assert conversion_probability(HAND) == pytest.approx(5 / 12, rel=RTOL)
    re = removal_effects(HAND)
    assert re.index.name == "channel"
    assert re.name == "removal_effect"
    assert list(re.index) == ["a", "b", "c"]
    np.testing.assert_allclose(re.to_numpy(float), list(want_re.values()), RTOL, ATOL)
    out = markov(HAND)
    assert out.index.name == "channel"
    assert list(out.index) == ["a", "b", "c"]
    assert_credits(out, want_conv, want_value)


@pytest.mark.parametrize("seed", MARKOV_SEEDS)
def test_markov_matches_matrix_powers_on_random_tables(seed: int) -> None:
    table = random_table(seed)
    ref_p, ref_re, ref_conv, ref_value = markov_reference(table)
    assert 0 < ref_p < 1

    assert conversion_probability(table) == pytest.approx(ref_p, rel=RTOL, abs=ATOL)
    re = removal_effects(table)
    assert set(re.index) == set(ref_re)
    np.testing.assert_allclose(re.loc[list(ref_re)].to_numpy(float), list(ref_re.values()), RTOL, ATOL)

    out = markov(table)
    assert_credits(out, ref_conv, ref_value)
    assert out["conversions"].sum() == pytest.approx(table["total_conversions"].sum(), rel=RTOL)
    assert out["value"].sum() == pytest.approx(table["total_conversion_value"].sum(), rel=RTOL)


@pytest.mark.parametrize("seed", [*MARKOV_SEEDS[:4], -1])
def test_markov_matches_a_monte_carlo_random_walk(seed: int) -> None:
    table = HAND if seed == -1 else random_table(seed)
    chans = channels_of(table)
    p = transition_matrix(table, chans)
    n_walks = 1_000_000
    converted, visited = random_walks(p, n_walks, seed=1000 + seed)

    # P: binomial proportion, standard error under the implementation's value.
    impl_p = conversion_probability(table)
    se_p = math.sqrt(impl_p * (1 - impl_p) / n_walks)
    mc_p = float(converted.mean())
    assert abs(mc_p - impl_p) <= 5 * se_p + ATOL, (mc_p, impl_p, se_p)

    # RE_c = 1 - P(convert, never visit c) / P(convert) = P(visited c | converted): a proportion over converting walks.
    n_conv = int(converted.sum())
    impl_re = removal_effects(table).loc[chans].to_numpy(float)
    mc_re = np.array([((visited[converted] >> i) & 1).mean() for i in range(len(chans))])
    se_re = np.sqrt(np.clip(impl_re * (1 - impl_re), 0.0, None) / n_conv)
    tol_re = 5 * se_re + ATOL
    bad = np.abs(mc_re - impl_re) > tol_re
    assert not bad.any(), {c: (mc_re[i], impl_re[i], tol_re[i]) for i, c in enumerate(chans) if bad[i]}

    # Credit shares s_c = RE_c / sum RE: propagate the RE tolerances (worst case) to the shares.
    out = markov(table).loc[chans]
    impl_share = out["conversions"].to_numpy(float) / float(table["total_conversions"].sum())
    value_share = out["value"].to_numpy(float) / float(table["total_conversion_value"].sum())
    np.testing.assert_allclose(value_share, impl_share, RTOL, ATOL)
    mc_share = mc_re / mc_re.sum()
    tol_share = (tol_re + impl_share * tol_re.sum()) / (mc_re.sum() - tol_re.sum())
    bad = np.abs(mc_share - impl_share) > tol_share
    assert not bad.any(), {c: (mc_share[i], impl_share[i], tol_share[i]) for i, c in enumerate(chans) if bad[i]}


def test_self_transitions_do_not_change_absorption() -> None:
    # "a > a > a > b" and "a > b" give the same absorption probabilities (only the self-loop weight changes).
    base = pd.DataFrame(
        {
            "path": ["a > b", "b > a", "a"],
            "total_conversions": [2.0, 1.0, 0.0],
            "total_conversion_value": [20.0, 10.0, 0.0],
            "total_null": [3.0, 2.0, 4.0],
        }
    )
    looped = base.assign(path=["a > a > a > b", "b > b > a", "a > a"])
    ref = markov_reference(base)
    assert markov_reference(looped)[0] == pytest.approx(ref[0], rel=1e-12)
    assert conversion_probability(looped) == pytest.approx(ref[0], rel=RTOL)
    assert conversion_probability(base) == pytest.approx(ref[0], rel=RTOL)
    assert_credits(markov(looped), ref[2], ref[3])
    assert_credits(markov(base), ref[2], ref[3])


# ------------------------------------------------------------------------------------------------- shapley


def channel_masks(table: pd.DataFrame, chans: Sequence[str]) -> np.ndarray:
    bit = {c: 1 << i for i, c in enumerate(chans)}
    return np.array([sum({bit[c] for c in split(p)}) for p in table["path"]], dtype=np.int64)


def shapley_by_orderings(table: pd.DataFrame, column: str) -> dict[str, float]:
    """Average over all n! orderings of the marginal contribution v(before + c) - v(before)."""
    chans = channels_of(table)
    n = len(chans)
    assert n <= 7
    masks = channel_masks(table, chans)
    weights = table[column].to_numpy(float)
    v = np.array([weights[(masks & ~s) == 0].sum() for s in range(1 << n)])
    credit = dict.fromkeys(chans, 0.0)
    count = 0
    for order in itertools.permutations(range(n)):
        s = 0
        for i in order:
            credit[chans[i]] += v[s | (1 << i)] - v[s]
            s |= 1 << i
        count += 1
    assert count == math.factorial(n)
    return {c: x / count for c, x in credit.items()}


def shapley_closed_form(table: pd.DataFrame, column: str) -> dict[str, float]:
    """Zhao et al. (2018): phi_c = sum over sets T containing c of r(T) / |T|, r(T) = worth of rows with set T."""
    r: dict[frozenset[str], float] = {}
    for path, x in zip(table["path"], table[column], strict=True):
        key = frozenset(split(path))
        r[key] = r.get(key, 0.0) + float(x)
    chans = channels_of(table)
    return {c: sum(x / len(t) for t, x in r.items() if c in t) for c in chans}


SHAPLEY_SEEDS = [11, 12, 13, 14, 15, 16, 17, 18]


@pytest.mark.parametrize("seed", SHAPLEY_SEEDS)
def test_shapley_matches_all_orderings_and_the_closed_form(seed: int) -> None:
    table = random_table(seed)
    conv = shapley_by_orderings(table, "total_conversions")
    value = shapley_by_orderings(table, "total_conversion_value")
    # the two references agree with each other
    assert shapley_closed_form(table, "total_conversions") == pytest.approx(conv, rel=1e-10, abs=1e-10)
    assert shapley_closed_form(table, "total_conversion_value") == pytest.approx(value, rel=1e-10, abs=1e-10)
    out = shapley(table)
    assert out.index.name == "channel"
    assert_credits(out, conv, value)


@pytest.mark.parametrize("seed", SHAPLEY_SEEDS)
def test_shapley_efficiency(seed: int) -> None:
    table = random_table(seed)
    out = shapley(table)
    chans = channels_of(table)
    v_all = float(table["total_conversions"].sum())  # every row's channel set is a subset of all channels
    assert sum(shapley_by_orderings(table, "total_conversions").values()) == pytest.approx(v_all, rel=1e-12)
    assert out.loc[chans, "conversions"].sum() == pytest.approx(v_all, rel=RTOL)
    assert out.loc[chans, "value"].sum() == pytest.approx(float(table["total_conversion_value"].sum()), rel=RTOL)


def swap_names(path: str, x: str, y: str) -> str:
    return " > ".join(y if c == x else x if c == y else c for c in split(path))


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_interchangeable_channels_get_equal_credit(seed: int) -> None:
    # Symmetrise a random table under the swap x <-> y: add the swapped copy of every row and merge equal paths.
    base = random_table(seed, n_channels=int(np.random.default_rng(seed).integers(3, 6)))
    chans = channels_of(base)
    x, y = chans[0], chans[1]
    mirrored = base.assign(path=[swap_names(p, x, y) for p in base["path"]])
    table = pd.concat([base, mirrored]).groupby("path", as_index=False, sort=False).sum()
    assert len(table) > len(base) // 2

    sh = shapley(table)
    assert sh.loc[x, "conversions"] == pytest.approx(sh.loc[y, "conversions"], rel=RTOL)
    assert sh.loc[x, "value"] == pytest.approx(sh.loc[y, "value"], rel=RTOL)
    assert_credits(
        sh, shapley_by_orderings(table, "total_conversions"), shapley_by_orderings(table, "total_conversion_value")
    )

    # the estimated Markov chain is swap-symmetric too
    mk = markov(table)
    assert mk.loc[x, "conversions"] == pytest.approx(mk.loc[y, "conversions"], rel=RTOL)
    re = removal_effects(table)
    assert re.loc[x] == pytest.approx(re.loc[y], rel=RTOL)


@pytest.mark.parametrize("seed", [31, 32, 33, 34])
def test_channel_only_on_non_converting_paths_gets_zero_shapley_credit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = random_table(seed, n_channels=int(rng.integers(3, 6)))
    dummy = "dummy_ch"
    rows = []
    for i in range(4):
        touches = split(str(base["path"].iloc[i % len(base)]))
        touches.insert(int(rng.integers(len(touches) + 1)), dummy)
        rows.append(
            {
                "path": " > ".join(touches),
                "total_conversions": 0.0,
                "total_conversion_value": 0.0,
                "total_null": float(rng.integers(1, 30)),
            }
        )
    rows.append({"path": dummy, "total_conversions": 0.0, "total_conversion_value": 0.0, "total_null": 5.0})
    table = pd.concat([base, pd.DataFrame(rows)], ignore_index=True).drop_duplicates("path")
    assert len(channels_of(table)) <= 6

    out = shapley(table)
    assert out.loc[dummy, "conversions"] == pytest.approx(0.0, abs=1e-9)
    assert out.loc[dummy, "value"] == pytest.approx(0.0, abs=1e-9)
    assert shapley_by_orderings(table, "total_conversions")[dummy] == pytest.approx(0.0, abs=1e-12)
    assert_credits(
        out, shapley_by_orderings(table, "total_conversions"), shapley_by_orderings(table, "total_conversion_value")
    )


# ------------------------------------------------------------------------------------------------- relabelling


@pytest.mark.parametrize("seed", [41, 42, 43, 44, 45])
def test_relabelling_channels_permutes_the_credits(seed: int) -> None:
    table = random_table(seed)
    chans = channels_of(table)
    rng = np.random.default_rng(seed + 500)
    while True:
        perm = [str(c) for c in rng.permutation(chans)]
        if perm != chans:
            break
    rename = dict(zip(chans, perm, strict=True))
    relabelled = table.assign(path=[" > ".join(rename[c] for c in split(p)) for p in table["path"]])
    new_names = [rename[c] for c in chans]

    assert conversion_probability(relabelled) == pytest.approx(conversion_probability(table), rel=RTOL)
    np.testing.assert_allclose(
        removal_effects(relabelled).loc[new_names].to_numpy(float),
        removal_effects(table).loc[chans].to_numpy(float),
        RTOL,
        ATOL,
    )
    for model in (markov, shapley):
        before = model(table)
        after = model(relabelled)
        assert set(after.index) == set(new_names)
        np.testing.assert_allclose(
            after.loc[new_names, ["conversions", "value"]].to_numpy(float),
            before.loc[chans, ["conversions", "value"]].to_numpy(float),
            RTOL,
            ATOL,
            err_msg=f"{model.__name__}: rename {rename}",
        )
        # order of first appearance follows the relabelled table
        assert list(after.index) == channels_of(relabelled)
