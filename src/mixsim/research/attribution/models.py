"""Multi-touch attribution models: split the conversions (and revenue) of customer journeys across channels.

Every model is one entry of :data:`REGISTRY`: the function that credits the channels of a checked
:class:`~mixsim.research.attribution.paths.PathTable`, the parameters it reads and their rules. :func:`attribute`
is the one entry point: it checks the request, reads the table once and runs the models asked for, stacking their
credits in a long table (``model``, ``channel``, ``conversions``, ``value``).

The credit of a path is split across its touches with the same shares for conversions and for revenue, so each
model's credits sum to the table's total conversions and total value. Channels come in order of first appearance
in the table, or exactly as listed in ``channels=`` (zero for a listed channel with no credit; a channel of the
table missing from the list is an error).

To add a model: write ``credit(table, **parameters) -> (conversions, value)`` per channel of the table, give its
parameters a rule in a check function, and add a :class:`Model` row; :data:`MODELS`, :func:`attribute`,
:func:`~mixsim.research.attribution.check.against_truth` and the command line pick it up from there (a new
parameter also needs its keyword in their signatures).
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mixsim.errors import InputError
from mixsim.research.attribution.paths import PathTable

__all__ = [
    "MAX_SHAPLEY_CHANNELS",
    "MODELS",
    "REGISTRY",
    "Model",
    "attribute",
    "bind_models",
    "check_models",
    "conversion_probability",
    "credit_table",
    "removal_effects",
]

Credit = tuple[np.ndarray, np.ndarray]
"""Per channel of a path table (in its order): conversions credited and value credited."""

MAX_SHAPLEY_CHANNELS = 20
"""Most distinct channels the ``shapley`` model takes (it sums over every set of channels: 2^n of them)."""


# ------------------------------------------------------------------------------------------------ shared steps


def _by_touch(table: PathTable, weight: np.ndarray) -> Credit:
    """Credit per channel when each touch gets ``weight`` (summing to 1 within a path) of its row."""
    n = len(table.channels)
    conversions = np.bincount(table.code, weights=weight * table.conversions[table.row], minlength=n)
    value = np.bincount(table.code, weights=weight * table.value[table.row], minlength=n)
    return conversions, value


def _by_share(table: PathTable, share: np.ndarray) -> Credit:
    """Credit per channel when the totals are split by ``share`` (summing to 1, or all zero)."""
    return share * table.conversions.sum(), share * table.value.sum()


# ------------------------------------------------------------------------------------------------ rules of thumb


def _first_touch(table: PathTable) -> Credit:
    """All the credit of each path to its first touch."""
    return _by_touch(table, (table.pos == 0).astype(float))


def _last_touch(table: PathTable) -> Credit:
    """All the credit of each path to its last touch."""
    return _by_touch(table, table.last.astype(float))


def _linear(table: PathTable) -> Credit:
    """The credit of each path split equally over its touches; repeated touches count separately (``a > a > b``
    gives ``a`` two thirds and ``b`` one third)."""
    return _by_touch(table, 1.0 / table.length[table.row])


def _time_decay(table: PathTable, half_life: float) -> Credit:
    """The credit of each path split over its touches, more to recent ones: a touch ``d`` days before the end of
    its path weighs ``2 ** (-d / half_life)``, normalised within the path. Needs ``path_days``."""
    if table.days is None:
        raise InputError("time_decay needs a 'path_days' column in the path table (days from each touch to the end)")
    if len(table.row) == 0:
        return _by_touch(table, np.zeros(0))
    # Measuring days from the path's most recent touch leaves the shares unchanged and keeps the largest weight at 1,
    # so long paths cannot underflow to 0/0.
    nearest = np.minimum.reduceat(table.days, table.starts)
    raw = np.exp2(-(table.days - nearest[table.row]) / half_life)
    total = np.bincount(table.row, weights=raw, minlength=len(table.length))
    return _by_touch(table, raw / total[table.row])


def _position_based(table: PathTable, first: float, last: float) -> Credit:
    """U-shaped: a single touch gets all the credit; two touches ``first / (first + last)`` and
    ``last / (first + last)`` (half each when both are 0); three or more ``first`` to the first touch, ``last`` to
    the last and ``1 - first - last`` split evenly over the touches in between."""
    length = table.length[table.row]
    is_first = table.pos == 0
    is_last = table.last
    # Two touches share the whole credit in the ratio first:last; with first = last = 0 neither is favoured.
    ends = first + last
    two_first, two_last = (first / ends, last / ends) if ends > 0 else (0.5, 0.5)
    middle = max(1.0 - ends, 0.0) / np.maximum(length - 2, 1)
    weight = np.select(
        [length == 1, (length == 2) & is_first, length == 2, is_first, is_last],
        [1.0, two_first, two_last, first, last],
        default=middle,
    )
    return _by_touch(table, weight)


# ------------------------------------------------------------------------------------------------ Markov


def _markov(table: PathTable) -> tuple[float, np.ndarray]:
    """Conversion probability from the start and the removal effect of each channel."""
    n = len(table.channels)
    if n == 0 or table.conversions.sum() <= 0:
        return 0.0, np.zeros(n)
    # Transient states: 0 is (start), 1 + k is channel k. Absorbing states are kept as two vectors.
    size = n + 1
    dst = table.code + 1
    src = np.empty_like(dst)
    src[1:] = dst[:-1]
    src[table.pos == 0] = 0
    customers = (table.conversions + table.null)[table.row]
    counts = np.bincount(src * size + dst, weights=customers, minlength=size * size).reshape(size, size)
    final = table.code[table.starts + table.length - 1] + 1
    to_conversion = np.bincount(final, weights=table.conversions, minlength=size)
    to_null = np.bincount(final, weights=table.null, minlength=size)
    # Every state has outgoing customers: rows without customers were dropped, and each channel lies on a kept row.
    leaving = counts.sum(axis=1) + to_conversion + to_null
    q = counts / leaving[:, None]
    r = to_conversion / leaving
    identity = np.eye(size)
    p = float(np.linalg.solve(identity - q, r)[0])
    if p <= 0:
        return 0.0, np.zeros(n)
    without = np.empty(n)
    for k in range(n):  # one small solve per channel, not per customer
        q_removed = q.copy()
        q_removed[:, k + 1] = 0.0  # transitions into the channel now end in (null)
        without[k] = np.linalg.solve(identity - q_removed, r)[0]
    # Removing a channel can only lose conversions; clip the rounding noise of channels that never matter.
    return p, np.clip(1.0 - without / p, 0.0, 1.0)


def _markov_credit(table: PathTable) -> Credit:
    """Each channel gets ``RE_c / sum(RE)`` of the total conversions and of the total value, ``RE_c`` its removal
    effect (see :func:`removal_effects`); computed exactly with absorbing-chain formulas, not by simulation. When
    no path converts, every credit is 0."""
    _, effects = _markov(table)
    total = effects.sum()
    return _by_share(table, effects / total if total > 0 else effects)


def conversion_probability(paths: pd.DataFrame) -> float:
    """Probability that a journey converts, in the first-order Markov chain of the paths.

    The chain has states ``(start)``, one per channel, ``(conversion)`` and ``(null)``. Transitions are counted
    from the paths, each row weighted by ``total_conversions + total_null``: ``(start)`` to the first channel, each
    channel to the next, and the last channel to ``(conversion)`` (weight ``total_conversions``) and to ``(null)``
    (weight ``total_null``). The probability of absorption in ``(conversion)`` is found by a linear solve.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.

    Returns
    -------
    float
        The probability of reaching ``(conversion)`` from ``(start)``; 0 when no path converts.

    Raises
    ------
    InputError
        If the path table is invalid.
    """
    p, _ = _markov(PathTable.from_frame(paths))
    return p


def removal_effects(paths: pd.DataFrame) -> pd.Series:
    """Removal effect of each channel in the first-order Markov chain of the paths.

    Removing channel ``c`` sends every transition into ``c`` to ``(null)``; its removal effect is
    ``1 - P_without_c / P``, where ``P`` is :func:`conversion_probability`.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table: columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null``.

    Returns
    -------
    pandas.Series
        Named ``removal_effect``, indexed by ``channel`` in order of first appearance; all 0 when no path converts.

    Raises
    ------
    InputError
        If the path table is invalid.
    """
    table = PathTable.from_frame(paths)
    _, effects = _markov(table)
    index = pd.Index(list(table.channels), name="channel", dtype=object)
    return pd.Series(effects, index=index, name="removal_effect", dtype=float)


# ------------------------------------------------------------------------------------------------ Shapley


def _shapley(table: PathTable) -> Credit:
    """Each channel's Shapley value in the game where a path converts only if all its channels play.

    The value of a coalition ``S`` is the conversions (resp. revenue) of the rows whose set of channels lies within
    ``S``. Channel ``c`` gets ``sum over S without c of |S|! (n - |S| - 1)! / n! * (v(S + c) - v(S))``, evaluated
    over all ``2**n`` coalitions at once with bit masks. As Zhao et al. show, this equals the sum over channel sets
    ``T`` containing ``c`` of ``r(T) / |T|``, with ``r(T)`` the conversions of the rows whose channel set is exactly
    ``T``: repeats and order within a path do not matter. At most :data:`MAX_SHAPLEY_CHANNELS` channels.

    K. Zhao, S. H. Mahboobi, S. R. Bagheri (2018), "Shapley Value Methods for Attribution Modeling in Online
    Advertising", arXiv:1804.05327.
    """
    n = len(table.channels)
    problems = _channel_limit("shapley", n)
    if problems:
        raise InputError(problems)
    if n == 0:
        return np.zeros(0), np.zeros(0)
    subsets = np.arange(2**n, dtype=np.int64)
    bits = np.left_shift(np.int64(1), table.code.astype(np.int64))
    masks = np.bitwise_or.reduceat(bits, table.starts)
    # r(T): conversions and value of the rows whose channel set is exactly T.
    exact = np.stack(
        [
            np.bincount(masks, weights=table.conversions, minlength=2**n),
            np.bincount(masks, weights=table.value, minlength=2**n),
        ],
        axis=-1,
    )
    # v(S) = sum of r(T) over T within S. Viewed as an n-dimensional 2x2x...x2 array, a cumulative sum along every
    # axis adds each set's value into all its supersets.
    cube = exact.reshape((2,) * n + (2,))
    for axis in range(n):
        cube = np.cumsum(cube, axis=axis)
    v = cube.reshape(2**n, 2)
    size = np.bitwise_count(subsets)
    weight_by_size = np.array([1.0 / (n * math.comb(n - 1, k)) for k in range(n)])
    credit = np.empty((n, 2))
    for c in range(n):  # one vectorised pass over all subsets per channel
        bit = np.int64(1) << c
        without = subsets[(subsets & bit) == 0]
        credit[c] = weight_by_size[size[without]] @ (v[without | bit] - v[without])
    return credit[:, 0], credit[:, 1]


# ------------------------------------------------------------------------------------------------ parameter rules


def _number(value: object) -> float | None:
    """A parameter as a float, or None when it is not a number."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _check_half_life(half_life: float) -> tuple[dict[str, float], list[str]]:
    value = _number(half_life)
    if value is None or not (math.isfinite(value) and value > 0):
        return {}, [f"half_life must be a finite number > 0 (got {half_life if value is None else value})"]
    return {"half_life": value}, []


def _check_positions(first: float, last: float) -> tuple[dict[str, float], list[str]]:
    shares: dict[str, float] = {}
    problems = []
    for name, given in (("first", first), ("last", last)):
        value = _number(given)
        if value is None or not (math.isfinite(value) and value >= 0):
            problems.append(f"{name} must be a number >= 0 (got {given if value is None else value})")
        else:
            shares[name] = value
    if not problems and shares["first"] + shares["last"] > 1 + 1e-12:
        first, last = shares["first"], shares["last"]
        problems.append(f"first + last must be <= 1 (got {first} + {last} = {first + last})")
    return shares, problems


def _channel_limit(name: str, channels: int) -> list[str]:
    """The model's problem with this many distinct channels, if any."""
    limit = REGISTRY[name].max_channels
    if limit is None or channels <= limit:
        return []
    return [
        f"{name} takes at most {limit} channels (got {channels}): it sums over every set of channels; "
        "group channels or use the markov model"
    ]


# ------------------------------------------------------------------------------------------------ the registry


@dataclass(frozen=True)
class Model:
    """One attribution model: how it credits channels and what it takes.

    Attributes
    ----------
    credit : callable
        ``credit(table, **parameters)`` returns the conversions and value credited to each channel of a
        :class:`~mixsim.research.attribution.paths.PathTable`, in the table's channel order.
    parameters : mapping of str to float
        The keyword arguments of :func:`attribute` the model reads, with their defaults.
    check : callable, optional
        ``check(**parameters)`` returns the parameters as the model takes them and the problems with them (one
        line each, in the parameters' names); parameters are checked only when the model is asked for.
    max_channels : int, optional
        Most distinct channels the model takes.
    """

    credit: Callable[..., Credit]
    parameters: Mapping[str, float] = field(default_factory=dict)
    check: Callable[..., tuple[dict[str, float], list[str]]] | None = None
    max_channels: int | None = None


REGISTRY: dict[str, Model] = {
    "first_touch": Model(_first_touch),
    "last_touch": Model(_last_touch),
    "linear": Model(_linear),
    "time_decay": Model(_time_decay, {"half_life": 7.0}, _check_half_life),
    "position_based": Model(_position_based, {"first": 0.4, "last": 0.4}, _check_positions),
    "markov": Model(_markov_credit),
    "shapley": Model(_shapley, max_channels=MAX_SHAPLEY_CHANNELS),
}
"""Every attribution model by name, in the order :func:`attribute` runs them by default."""

MODELS: tuple[str, ...] = tuple(REGISTRY)
"""Names of the attribution models, as accepted by :func:`attribute`."""

Bound = tuple[str, Callable[[PathTable], Credit]]
"""A model asked for: its name and its credit function with its parameters filled in."""


def bind_models(
    models: Sequence[str] | str, parameters: Mapping[str, float], channels: int | None = None
) -> list[Bound]:
    """Check a request for models and fill in their parameters; every problem is reported at once.

    Parameters
    ----------
    models : sequence of str or str
        Model names, in the order to run them.
    parameters : mapping of str to float
        Values of the models' parameters (``half_life``, ``first``, ``last``); only those of the models asked for
        are read and checked.
    channels : int, optional
        How many distinct channels the paths may hold, to refuse a model's channel limit before any work.

    Raises
    ------
    InputError
        If a name is unknown (with the nearest known name and the list of them), a parameter of a model asked for
        breaks its rule, or ``channels`` is over a model's limit.
    """
    names = [models] if isinstance(models, str) else list(models)
    problems: list[str] = []
    unknown = [m for m in names if m not in REGISTRY]
    if unknown:
        hints = []
        for m in unknown:
            near = difflib.get_close_matches(str(m), MODELS, n=1)
            hints.append(f"{m!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
        problems.append(f"unknown attribution model {', '.join(hints)}; known models: {', '.join(MODELS)}")
    filled: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(m for m in names if m in REGISTRY):  # each model once, in order
        model = REGISTRY[name]
        values = {p: parameters[p] for p in model.parameters}
        if model.check is not None:
            values, found = model.check(**values)
            problems += found
        if channels is not None:
            problems += _channel_limit(name, channels)
        filled[name] = values
    if problems:
        raise InputError(problems)
    return [(name, functools.partial(REGISTRY[name].credit, **filled[name])) for name in names]


def check_models(
    models: Sequence[str] | str = MODELS,
    *,
    channels: int | None = None,
    half_life: float = 7.0,
    first: float = 0.4,
    last: float = 0.4,
) -> tuple[str, ...]:
    """Check a request for attribution models before any work is done (before a long simulation, say).

    Parameters
    ----------
    models : sequence of str or str, default=MODELS
        Model names.
    channels : int, optional
        How many distinct channels the paths may hold (a scenario's channel count); checked against each model's
        limit (``shapley`` takes at most :data:`MAX_SHAPLEY_CHANNELS`).
    half_life, first, last : float
        Parameters of ``time_decay`` and ``position_based``, checked when those models are asked for.

    Returns
    -------
    tuple of str
        The model names, in order.

    Raises
    ------
    InputError
        Naming every problem: unknown names (with a "did you mean"), parameters out of range, too many channels.
    """
    bound = bind_models(models, {"half_life": half_life, "first": first, "last": last}, channels)
    return tuple(name for name, _ in bound)


def credit_table(table: PathTable, models: Sequence[Bound], channels: Sequence[str] | None = None) -> pd.DataFrame:
    """Run bound models on a checked table and stack their credits: ``model``, ``channel``, ``conversions``,
    ``value``, one block per model in order, each block's channels as :func:`attribute` describes."""
    blocks = []
    for name, credit in models:
        block = _frame(table, *credit(table), channels).reset_index()
        block.insert(0, "model", name)
        blocks.append(block)
    if not blocks:
        return pd.DataFrame(
            {
                "model": pd.Series(dtype=object),
                "channel": pd.Series(dtype=object),
                "conversions": pd.Series(dtype=float),
                "value": pd.Series(dtype=float),
            }
        )
    return pd.concat(blocks, ignore_index=True)


def _frame(
    table: PathTable, conversions: np.ndarray, value: np.ndarray, channels: Sequence[str] | None
) -> pd.DataFrame:
    """One model's credit frame: the table's channels, re-indexed to ``channels`` when given."""
    names = list(table.channels)
    if channels is not None:
        wanted = [channels] if isinstance(channels, str) else [str(c) for c in channels]
        repeated = sorted({c for c in wanted if wanted.count(c) > 1})
        if repeated:
            raise InputError(f"channels= lists {', '.join(map(repr, repeated))} more than once")
        listed = set(wanted)
        absent = [c for c in names if c not in listed]
        if absent:
            raise InputError(f"channel(s) {', '.join(map(repr, absent))} of the path table missing from channels=")
        where = {c: i for i, c in enumerate(names)}
        take = np.array([where.get(c, -1) for c in wanted], dtype=np.intp)
        conversions = np.where(take >= 0, np.append(conversions, 0.0)[take], 0.0)
        value = np.where(take >= 0, np.append(value, 0.0)[take], 0.0)
        names = wanted
    index = pd.Index(names, name="channel", dtype=object)
    return pd.DataFrame(
        {"conversions": np.asarray(conversions, dtype=float), "value": np.asarray(value, dtype=float)}, index=index
    )


def attribute(
    paths: pd.DataFrame,
    models: Sequence[str] | str = MODELS,
    channels: Sequence[str] | None = None,
    half_life: float = 7.0,
    first: float = 0.4,
    last: float = 0.4,
) -> pd.DataFrame:
    """Credit the channels of a path table with one or more attribution models.

    The request is checked first, then the table, once; asking for ``"time_decay"`` without a ``path_days``
    column is an error, not a silent skip. The models (see :data:`REGISTRY`):

    - ``first_touch``, ``last_touch``: all the credit of each path to its first (last) touch;
    - ``linear``: each path's credit split equally over its touches (repeats count separately);
    - ``time_decay``: a touch ``d`` days before the end of its path weighs ``2 ** (-d / half_life)``, normalised
      within the path (needs ``path_days``);
    - ``position_based``: ``first`` to the first touch, ``last`` to the last, the rest evenly over the touches in
      between (a single touch takes everything; two split in the ratio ``first:last``);
    - ``markov``: the total split in proportion to each channel's removal effect in the first-order Markov chain
      of the paths (see :func:`removal_effects`);
    - ``shapley``: each channel's Shapley value when a path converts only if all its channels play (Zhao et al.
      2018, arXiv:1804.05327); at most :data:`MAX_SHAPLEY_CHANNELS` distinct channels.

    Parameters
    ----------
    paths : pandas.DataFrame
        The path table (see :mod:`mixsim.research.attribution.paths`): columns ``path``, ``total_conversions``,
        ``total_conversion_value``, ``total_null``, and ``path_days`` for ``time_decay``.
    models : sequence of str or str, default=MODELS
        Models to run, in this order; a single name is accepted too.
    channels : sequence of str, optional
        Channels of each model's block, in this order; zero for a listed channel without credit. By default the
        table's channels in order of first appearance.
    half_life : float, default=7.0
        Days after which a touch's weight halves, in ``time_decay``.
    first : float, default=0.4
        Share of the first touch in ``position_based``.
    last : float, default=0.4
        Share of the last touch in ``position_based``.

    Returns
    -------
    pandas.DataFrame
        Long table with columns ``model``, ``channel``, ``conversions``, ``value`` (floats): one block per model.
        Each block's credits sum to the table's total conversions and total value.

    Raises
    ------
    TypeError
        If ``paths`` is not a DataFrame.
    InputError
        If a model name is unknown (the message lists the known ones), the path table is invalid, a parameter of a
        requested model is out of range, the table has too many channels for a requested model, or a channel of
        the table is missing from ``channels``.

    Examples
    --------
    >>> import pandas as pd
    >>> paths = pd.DataFrame({"path": ["social > search", "search"], "total_conversions": [3.0, 1.0],
    ...                       "total_conversion_value": [150.0, 50.0], "total_null": [7.0, 9.0]})
    >>> credit = attribute(paths, ["first_touch", "last_touch"])
    >>> credit.pivot(index="channel", columns="model", values="conversions").loc[["social", "search"]].values.tolist()
    [[3.0, 0.0], [1.0, 4.0]]
    """
    bound = bind_models(models, {"half_life": half_life, "first": first, "last": last})
    return credit_table(PathTable.from_frame(paths), bound, channels)
