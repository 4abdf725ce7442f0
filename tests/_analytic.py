"""Exact laws of simple engine set-ups, for the analytic tests.

Each function gives the mean and the standard deviation of a simulated count from the model itself (closed
forms, finite Markov chains, matrix exponentials), so a test's tolerance is a stated number of standard errors and
not a guess. Shares are fractions of the population; standard deviations are of counts unless said otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import expm

from mixsim.engine.population import CONVERTED, Population
from mixsim.scenario import Scenario


def daily_probability(hazard: float) -> float:
    """Chance that an event with constant daily ``hazard`` happens within one day."""
    return -math.expm1(-hazard)


# --------------------------------------------------------------------------------------------------------------
# Paid exposures: draws uniform with replacement over a fixed pool of N customers.


def survival_counts(population: int, exposures: np.ndarray, classes: list[tuple[int, float]]) -> tuple:
    """Mean and sd of the number of customers never moved after ``exposures`` exposures.

    Every exposure falls on one of ``population`` customers uniformly; a customer of class ``c`` (``count``
    customers, per-exposure move probability ``p``) moves with probability ``p``. One exposure moves customer
    ``i`` with probability ``p_i / N``, and the events "moves i" and "moves j" are disjoint, so after ``n``
    exposures ``P(i stays) = (1 - p_i/N)^n`` and ``P(i and j stay) = (1 - (p_i + p_j)/N)^n`` exactly. The count's
    variance follows from these pair probabilities (it is below the binomial one: the draws compete).

    Parameters
    ----------
    population : int
        Pool size N (every customer reachable and targeted throughout).
    exposures : array of int
        Exposures delivered so far, one entry per time point.
    classes : list of (count, p)
        Customers by move probability; counts add up to ``population``.

    Returns
    -------
    mean, sd : ndarray
        Per time point.
    """
    n = np.asarray(exposures, dtype=float)
    N = float(population)

    def stay(p: float) -> np.ndarray:
        return np.exp(n * np.log1p(-p / N))

    mean = np.zeros_like(n)
    var = np.zeros_like(n)
    for c, (count_c, p_c) in enumerate(classes):
        q_c = stay(p_c)
        mean += count_c * q_c
        var += count_c * q_c * (1.0 - q_c)
        for d, (count_d, p_d) in enumerate(classes):
            pairs = count_c * (count_d - 1) if c == d else count_c * count_d
            var += pairs * (stay(p_c + p_d) - q_c * stay(p_d))
    return mean, np.sqrt(np.maximum(var, 0.0))


def hit_chain(hit: np.ndarray, population: int, exposures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stage shares and count sds for a pool whose customers move by the per-hit matrix ``hit``.

    One exposure hits a given customer with probability 1/N, so a customer's stage is a Markov chain with
    per-exposure matrix ``M = I + (hit - I)/N`` and ``shares(n) = e0 M^n``. Two customers form a chain on stage
    pairs with ``M2 = I + ((hit - I) x I + I x (hit - I))/N`` (one exposure hits at most one of them), which gives
    the exact covariance of their indicators and so the exact variance of each stage count.

    Returns
    -------
    shares : ndarray, shape (len(exposures), S)
    sd : ndarray, shape (len(exposures), S)
        Standard deviations of the stage counts.
    """
    S = hit.shape[0]
    N = float(population)
    eye = np.eye(S)
    single = eye + (hit - eye) / N
    pair = np.eye(S * S) + (np.kron(hit - eye, eye) + np.kron(eye, hit - eye)) / N
    e0 = eye[0]
    shares, sds = [], []
    for n in np.asarray(exposures, dtype=int):
        pi = e0 @ np.linalg.matrix_power(single, int(n))
        pi2 = np.kron(e0, e0) @ np.linalg.matrix_power(pair, int(n))
        both = pi2.reshape(S, S).diagonal()
        var = N * pi * (1.0 - pi) + N * (N - 1.0) * (both - pi * pi)
        shares.append(pi)
        sds.append(np.sqrt(np.maximum(var, 0.0)))
    return np.array(shares), np.array(sds)


# --------------------------------------------------------------------------------------------------------------
# Organic forces: independent customers, one day = memory, awareness, consideration, conversion in turn.


def organic_daily_matrix(
    awareness: float,
    consideration: float,
    conversion: float,
    abandonment: float,
    half_life_aware: float,
    half_life_considering: float,
) -> np.ndarray:
    """The engine's one-day transition matrix over the 4 stages (rows: from, columns: to).

    The forces act in sequence, each with probability ``1 - exp(-hazard)``: D = Memory @ Awareness @
    Consideration @ Conversion (row vectors evolve as ``x @ D``).
    """
    fa = daily_probability(math.log(2.0) / half_life_aware)
    fc = daily_probability(math.log(2.0) / half_life_considering)
    memory = np.eye(4)
    memory[1] = [fa, 1.0 - fa, 0.0, 0.0]
    memory[2] = [0.0, fc, 1.0 - fc, 0.0]
    steps = [memory]
    for frm, p in (
        (0, daily_probability(awareness)),
        (1, daily_probability(consideration)),
        (2, daily_probability(conversion) * (1.0 - abandonment)),
    ):
        m = np.eye(4)
        m[frm, frm], m[frm, frm + 1] = 1.0 - p, p
        steps.append(m)
    return np.linalg.multi_dot(steps)


def organic_generator(
    awareness: float,
    consideration: float,
    conversion: float,
    abandonment: float,
    half_life_aware: float,
    half_life_considering: float,
) -> np.ndarray:
    """Generator Q of the continuous-time chain the organic forces describe (conversion hazard r(1 - a))."""
    q = np.zeros((4, 4))
    q[0, 1] = awareness
    q[1, 0] = math.log(2.0) / half_life_aware
    q[1, 2] = consideration
    q[2, 1] = math.log(2.0) / half_life_considering
    q[2, 3] = conversion * (1.0 - abandonment)
    np.fill_diagonal(q, -q.sum(axis=1))
    return q


def splitting_bound(daily: np.ndarray, generator: np.ndarray, days: int) -> np.ndarray:
    """Bound on ``max_s |(e0 D^t)_s - (e0 e^{Qt})_s|`` for t = 1..days.

    Telescoping, ``e0 D^t - e0 E^t = sum_{k<t} (e0 D^k)(D - E) E^{t-1-k}`` with ``E = e^Q``; a stochastic matrix
    does not increase the l1 norm of a row vector, so the l1 distance is at most ``sum_{k<t} |e0 D^k (D - E)|_1``,
    and a zero-sum vector's largest entry is at most half its l1 norm. ``D - E`` is second order in the daily rates
    (first-order operator splitting), so the bound grows like t r^2.
    """
    step = daily - expm(generator)
    pi = np.eye(4)[0]
    total, out = 0.0, []
    for _ in range(days):
        total += float(np.abs(pi @ step).sum())
        pi = pi @ daily
        out.append(total / 2.0)
    return np.array(out)


def chain_shares(matrix: np.ndarray, days: int) -> np.ndarray:
    """Shares e0 D^t for t = 1..days, shape (days, states)."""
    pi = np.eye(matrix.shape[0])[0]
    out = []
    for _ in range(days):
        pi = pi @ matrix
        out.append(pi)
    return np.array(out)


# --------------------------------------------------------------------------------------------------------------
# Bass diffusion with an instant funnel: converted share F, awareness hazard p + q F.


def bass_step(share: np.ndarray | float, p: float, q: float) -> np.ndarray | float:
    """One engine day: the unaware become aware (and so convert at once) with probability 1 - e^-(p + qF)."""
    return share + (1.0 - share) * -np.expm1(-(p + q * share))


def bass_discrete(p: float, q: float, days: int, population: int) -> tuple[np.ndarray, np.ndarray]:
    """Converted share after each day by the discrete recursion, and its sd (share) by linear noise.

    Writing the simulated share as ``F_t + d_t``: ``d_{t+1} = f'(F_t) d_t + e_t`` to first order, where
    ``f(F) = F + (1 - F)(1 - e^{-h})``, ``h = p + qF``, ``f'(F) = e^{-h}(1 + q(1 - F))``, and ``e_t`` is the
    binomial noise of the day's adoptions, variance ``(1 - F) g (1 - g) / N`` with ``g = 1 - e^{-h}``. So
    ``V_{t+1} = f'(F_t)^2 V_t + (1 - F_t) g (1 - g) / N``. (The second-order bias ``f'' V / 2`` is ~1e-5 here.)
    """
    shares, sds = [], []
    f, v = 0.0, 0.0
    for _ in range(days):
        h = p + q * f
        g = -math.expm1(-h)
        slope = math.exp(-h) * (1.0 + q * (1.0 - f))
        v = slope * slope * v + (1.0 - f) * g * (1.0 - g) / population
        f = f + (1.0 - f) * g
        shares.append(f)
        sds.append(math.sqrt(v))
    return np.array(shares), np.array(sds)


def bass_continuous(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """The Bass curve F(t) = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})."""
    decay = np.exp(-(p + q) * np.asarray(t, dtype=float))
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def customers(scenario: Scenario) -> Population:
    """A one-world population in which everyone was won on day 0 with one purchase, as the engine leaves them."""
    population = Population.create(scenario)
    n = population.size
    assert population.purchases.shape == (n, 1), "repeat purchases keep a row per customer"
    population.stage[:] = CONVERTED
    population.counts[:] = [0, 0, 0, n]
    population.converted_day[:] = 0.0
    population.purchases[:] = 1
    population.last_purchase[:] = 0.0
    population.sales[:] = [n, 0]
    return population
