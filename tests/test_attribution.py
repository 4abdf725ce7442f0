"""Attribution models on small path tables whose credits are worked out by hand in the comments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mixsim.errors import InputError
from mixsim.research.attribution import MODELS, attribute, conversion_probability, removal_effects


def model_credit(
    model: str, paths: pd.DataFrame, channels: Sequence[str] | None = None, **parameters: Any
) -> pd.DataFrame:
    """One model's credit through :func:`attribute`: a frame indexed by ``channel``, columns ``conversions`` and
    ``value``."""
    return attribute(paths, [model], channels=channels, **parameters).drop(columns="model").set_index("channel")


def paths_table(*rows: tuple, days: bool = False) -> pd.DataFrame:
    """A path table from ``(path, conversions, value, null)`` tuples, plus ``path_days`` when ``days``."""
    columns = ["path", "total_conversions", "total_conversion_value", "total_null"]
    if days:
        columns.append("path_days")
    frame = pd.DataFrame([list(r) for r in rows], columns=columns)
    for column in columns[1:4]:
        frame[column] = frame[column].astype(float)
    return frame


def credits(result: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """``{channel: (conversions, value)}`` of a model result."""
    return {str(c): (float(row["conversions"]), float(row["value"])) for c, row in result.iterrows()}


def assert_credits(result: pd.DataFrame, expected: dict[str, tuple[float, float]]) -> None:
    """The result has exactly these channels, in this order, with these credits."""
    assert result.index.name == "channel"
    assert list(result.columns) == ["conversions", "value"]
    assert list(result.index) == list(expected)
    got = credits(result)
    for channel, (conversions, value) in expected.items():
        assert got[channel][0] == pytest.approx(conversions, abs=1e-12), channel
        assert got[channel][1] == pytest.approx(value, abs=1e-12), channel


# A table every model can read: repeats, a one-touch path, a non-converting path, two rows of one path with
# different day stamps.
MIXED = paths_table(
    ("social > search > search", 3, 300.0, 5, "10 > 2 > 0"),
    ("display", 1, 40.0, 9, "0"),
    ("search > email > social > display", 2, 90.0, 1, "20 > 9.5 > 4 > 0"),
    ("email", 0, 0.0, 6, "3"),
    ("social > search > search", 4, 120.0, 0, "1 > 1 > 0"),
    days=True,
)
MIXED_CHANNELS = ["social", "search", "display", "email"]


# ------------------------------------------------------------------------------------------------ first / last


def test_first_touch_gives_each_row_to_its_first_channel() -> None:
    table = paths_table(
        ("a > b > c", 2, 20.0, 1),
        ("b > a", 1, 5.0, 0),
        ("c", 3, 30.0, 2),
    )
    # a: row 0 (2, 20); b: row 1 (1, 5); c: row 2 (3, 30).
    assert_credits(model_credit("first_touch", table), {"a": (2, 20), "b": (1, 5), "c": (3, 30)})


def test_last_touch_gives_each_row_to_its_last_channel() -> None:
    table = paths_table(
        ("a > b > c", 2, 20.0, 1),
        ("b > a", 1, 5.0, 0),
        ("c", 3, 30.0, 2),
    )
    # a: row 1 (1, 5); b: never last; c: rows 0 and 2 (2 + 3, 20 + 30).
    assert_credits(model_credit("last_touch", table), {"a": (1, 5), "b": (0, 0), "c": (5, 50)})


def test_channels_come_in_order_of_first_appearance() -> None:
    table = paths_table(("zeta > alpha", 1, 1.0, 0), ("mid", 1, 1.0, 0), ("alpha > omega", 1, 1.0, 0))
    # Order of appearance, not alphabetical, and channels with no credit stay.
    assert list(model_credit("first_touch", table).index) == ["zeta", "alpha", "mid", "omega"]
    assert list(model_credit("last_touch", table).index) == ["zeta", "alpha", "mid", "omega"]


# ------------------------------------------------------------------------------------------------ linear


def test_linear_counts_repeated_touches() -> None:
    table = paths_table(
        ("a > a > b", 3, 30.0, 4),
        ("b > c", 2, 8.0, 0),
    )
    # Row 0: a has 2 of 3 touches -> 2 conversions, 20 value; b 1/3 -> 1, 10.
    # Row 1: b and c half each -> 1, 4 each.
    # a = (2, 20); b = (1 + 1, 10 + 4) = (2, 14); c = (1, 4).
    assert_credits(model_credit("linear", table), {"a": (2, 20), "b": (2, 14), "c": (1, 4)})


# ------------------------------------------------------------------------------------------------ time decay


def test_time_decay_with_a_seven_day_half_life() -> None:
    table = paths_table(
        ("a > b", 5, 50.0, 0, "14 > 0"),
        ("b > c > a", 4, 8.0, 3, "7 > 7 > 0"),
        days=True,
    )
    # Row 0: weights 2**-2 = 0.25 and 1 -> shares 0.2, 0.8 -> a (1, 10), b (4, 40).
    # Row 1: weights 0.5, 0.5, 1 -> shares 0.25, 0.25, 0.5 -> b (1, 2), c (1, 2), a (2, 4).
    # a = (3, 14), b = (5, 42), c = (1, 2).
    assert_credits(model_credit("time_decay", table, half_life=7.0), {"a": (3, 14), "b": (5, 42), "c": (1, 2)})
    # The default half-life is 7 days.
    assert_credits(model_credit("time_decay", table), {"a": (3, 14), "b": (5, 42), "c": (1, 2)})


def test_time_decay_half_life_and_fractional_days() -> None:
    table = paths_table(("a > b", 3, 6.0, 0, "3.5 > 0"), days=True)
    # half_life 3.5: weights 0.5 and 1 -> shares 1/3 and 2/3.
    assert_credits(model_credit("time_decay", table, half_life=3.5), {"a": (1, 2), "b": (2, 4)})
    # half_life 1.75: weights 0.25 and 1 -> shares 0.2 and 0.8.
    assert_credits(model_credit("time_decay", table, half_life=1.75), {"a": (0.6, 1.2), "b": (2.4, 4.8)})


def test_time_decay_reads_each_row_of_a_repeated_path_with_its_own_days() -> None:
    table = paths_table(
        ("a > b", 1, 10.0, 0, "7 > 0"),
        ("a > b", 1, 10.0, 0, "0 > 0"),
        days=True,
    )
    # Row 0: shares 1/3, 2/3. Row 1: same day, shares 1/2, 1/2. a = 1/3 + 1/2 = 5/6, b = 2/3 + 1/2 = 7/6.
    assert_credits(model_credit("time_decay", table), {"a": (5 / 6, 50 / 6), "b": (7 / 6, 70 / 6)})


def test_time_decay_survives_very_old_touches() -> None:
    table = paths_table(("a > b", 2, 2.0, 0, "20000 > 10000"), days=True)
    # Only the 10000-day gap matters: a weighs 2**-10000 relative to b, i.e. nothing; the result must not be 0/0.
    assert_credits(model_credit("time_decay", table, half_life=7.0), {"a": (0, 0), "b": (2, 2)})


# ------------------------------------------------------------------------------------------------ position based


def test_position_based_one_touch_takes_everything() -> None:
    table = paths_table(("a", 4, 8.0, 1), ("b > b > b", 0, 0.0, 3))
    assert_credits(model_credit("position_based", table), {"a": (4, 8), "b": (0, 0)})


@pytest.mark.parametrize(
    ("first", "last", "share_a", "share_b"),
    [
        (0.4, 0.4, 0.5, 0.5),  # 0.4 / 0.8 each
        (0.3, 0.1, 0.75, 0.25),  # 0.3 / 0.4 and 0.1 / 0.4
        (0.0, 0.5, 0.0, 1.0),
        (0.0, 0.0, 0.5, 0.5),  # neither end favoured: an even split
    ],
)
def test_position_based_two_touches_split_in_the_ratio_first_to_last(
    first: float, last: float, share_a: float, share_b: float
) -> None:
    table = paths_table(("a > b", 10, 100.0, 0))
    expected = {"a": (10 * share_a, 100 * share_a), "b": (10 * share_b, 100 * share_b)}
    assert_credits(model_credit("position_based", table, first=first, last=last), expected)


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # 0.4 first, 0.4 last, the remaining 0.2 over two middle touches -> 0.1 each.
        (0.4, 0.4, {"a": 4.0, "b": 1.0, "c": 1.0, "d": 4.0}),
        # 0.3 first, 0.1 last, 0.6 over two middles -> 0.3 each.
        (0.3, 0.1, {"a": 3.0, "b": 3.0, "c": 3.0, "d": 1.0}),
        # first + last = 1: the middle gets nothing.
        (0.5, 0.5, {"a": 5.0, "b": 0.0, "c": 0.0, "d": 5.0}),
        # first = last = 0: the middle shares everything.
        (0.0, 0.0, {"a": 0.0, "b": 5.0, "c": 5.0, "d": 0.0}),
    ],
)
def test_position_based_three_or_more_touches(first: float, last: float, expected: dict[str, float]) -> None:
    table = paths_table(("a > b > c > d", 10, 20.0, 7))
    result = model_credit("position_based", table, first=first, last=last)
    assert_credits(result, {c: (x, 2 * x) for c, x in expected.items()})


def test_position_based_three_touches_with_a_repeat() -> None:
    table = paths_table(("a > b > a", 10, 10.0, 0))
    # a is first (0.4) and last (0.4), b is the middle (0.2).
    assert_credits(model_credit("position_based", table), {"a": (8, 8), "b": (2, 2)})


# ------------------------------------------------------------------------------------------------ Markov

# Chain of MARKOV_LINE, counted from the paths (weights: conversions + null of the row):
#   start -> a: 1 (row 0) + 1 (row 1) = 2, start -> b: 2 (row 2)     => start: a 1/2, b 1/2
#   a -> b: 1 (row 0), a -> null: 1 (row 1)                            => a: b 1/2, null 1/2
#   b -> conversion: 1 (row 0) + 1 (row 2), b -> null: 1 (row 2)       => b: conversion 2/3, null 1/3
# Absorption in conversion: x_b = 2/3, x_a = 1/2 * 2/3 = 1/3, P = 1/2 * 1/3 + 1/2 * 2/3 = 1/2.
# Without a (start -> a goes to null): P = 1/2 * 2/3 = 1/3, RE_a = 1 - (1/3) / (1/2) = 1/3.
# Without b: nothing reaches conversion, P = 0, RE_b = 1.
# Credit shares: a (1/3) / (4/3) = 1/4, b 3/4 of 2 conversions and 40 revenue.
MARKOV_LINE = paths_table(
    ("a > b", 1, 10.0, 0),
    ("a", 0, 0.0, 1),
    ("b", 1, 30.0, 1),
)


def test_markov_on_a_chain_solved_by_hand() -> None:
    assert conversion_probability(MARKOV_LINE) == pytest.approx(0.5)
    effects = removal_effects(MARKOV_LINE)
    assert effects.name == "removal_effect"
    assert effects.index.name == "channel"
    assert list(effects.index) == ["a", "b"]
    assert effects.to_numpy() == pytest.approx([1 / 3, 1.0])
    assert_credits(model_credit("markov", MARKOV_LINE), {"a": (0.5, 10), "b": (1.5, 30)})


def test_markov_self_transitions_do_not_change_absorption() -> None:
    # a -> a adds a loop at a: a: a 1/3, b 1/3, null 1/3 -> x_a = (1/3 * 2/3) / (1 - 1/3) = 1/3, as without it.
    looped = MARKOV_LINE.assign(path=["a > a > b", "a", "b > b"])
    assert conversion_probability(looped) == pytest.approx(0.5)
    assert removal_effects(looped).to_numpy() == pytest.approx([1 / 3, 1.0])
    assert_credits(model_credit("markov", looped), {"a": (0.5, 10), "b": (1.5, 30)})


def test_markov_on_a_chain_with_a_cycle() -> None:
    table = paths_table(
        ("a > b > a", 1, 6.0, 0),
        ("b", 0, 0.0, 1),
    )
    # start: a 1/2, b 1/2. a: b 1/2 (row 0), conversion 1/2 (row 0 ends at a). b: a 1/2 (row 0), null 1/2 (row 1).
    # x_a = 1/2 x_b + 1/2, x_b = 1/2 x_a  =>  x_a = 2/3, x_b = 1/3, P = 1/2 * 2/3 + 1/2 * 1/3 = 1/2.
    # Without a: b -> null too, nothing converts: RE_a = 1.
    # Without b: x_a = 1/2, P = 1/2 * 1/2 = 1/4: RE_b = 1/2.
    # Shares: a 1 / 1.5 = 2/3, b 1/3.
    assert conversion_probability(table) == pytest.approx(0.5)
    assert removal_effects(table).to_numpy() == pytest.approx([1.0, 0.5])
    assert_credits(model_credit("markov", table), {"a": (2 / 3, 4), "b": (1 / 3, 2)})


def test_markov_gives_nothing_when_nothing_converts() -> None:
    table = paths_table(("a > b", 0, 0.0, 3), ("b", 0, 0.0, 1))
    assert conversion_probability(table) == 0.0
    assert removal_effects(table).to_numpy() == pytest.approx([0.0, 0.0])
    assert_credits(model_credit("markov", table), {"a": (0, 0), "b": (0, 0)})


def test_markov_channel_off_every_converting_route_gets_nothing() -> None:
    table = paths_table(("a", 2, 4.0, 2), ("c", 0, 0.0, 5))
    # P = P(start -> a) * 1/2 = 4/9 * 1/2 = 2/9; removing c changes nothing: RE_c = 0; RE_a = 1.
    assert conversion_probability(table) == pytest.approx(2 / 9)
    assert removal_effects(table).to_numpy() == pytest.approx([1.0, 0.0])
    assert_credits(model_credit("markov", table), {"a": (2, 4), "c": (0, 0)})


# ------------------------------------------------------------------------------------------------ Shapley


def test_shapley_two_channels_by_the_definition() -> None:
    table = paths_table(
        ("a", 2, 20.0, 5),
        ("b > a > b", 4, 8.0, 0),
    )
    # v(∅) = 0, v({a}) = 2, v({b}) = 0 (row 1 needs a too), v({a, b}) = 6; weights 1/2 for |S| = 0 and |S| = 1.
    # phi_a = 1/2 (v(a) - v(∅)) + 1/2 (v(ab) - v(b)) = 1 + 3 = 4;  phi_b = 1/2 (0 - 0) + 1/2 (6 - 2) = 2.
    # Revenue: v(a) = 20, v(ab) = 28 -> phi_a = 10 + 14 = 24, phi_b = 0 + 4 = 4.
    assert_credits(model_credit("shapley", table), {"a": (4, 24), "b": (2, 4)})


def test_shapley_three_channels_by_the_definition() -> None:
    table = paths_table(
        ("b > c > b", 6, 100.0, 2),
        ("a", 2, 1.0, 0),
        ("a > b", 4, 10.0, 3),
        ("c > a > b", 3, 30.0, 1),
    )
    # Conversions by exact channel set: r(bc) = 6, r(a) = 2, r(ab) = 4, r(abc) = 3.
    # v(∅) = v(b) = v(c) = 0, v(a) = 2, v(ab) = 6, v(ac) = 2, v(bc) = 6, v(abc) = 15.
    # Weights: 1/3 for |S| = 0 and 2, 1/6 for |S| = 1.
    # phi_a = 1/3 (2 - 0) + 1/6 (6 - 0) + 1/6 (2 - 0) + 1/3 (15 - 6) = 2/3 + 1 + 1/3 + 3 = 5
    # phi_b = 1/3 (0 - 0) + 1/6 (6 - 2) + 1/6 (6 - 0) + 1/3 (15 - 2) = 2/3 + 1 + 13/3 = 6
    # phi_c = 1/3 (0 - 0) + 1/6 (2 - 2) + 1/6 (6 - 0) + 1/3 (15 - 6) = 1 + 3 = 4
    # Check with sum over T containing c of r(T)/|T|: a = 2 + 4/2 + 3/3 = 5, b = 6/2 + 4/2 + 1 = 6, c = 3 + 1 = 4.
    # Revenue the same way: a = 1 + 10/2 + 30/3 = 16, b = 100/2 + 10/2 + 10 = 65, c = 50 + 10 = 60.
    assert_credits(model_credit("shapley", table), {"b": (6, 65), "c": (4, 60), "a": (5, 16)})


def test_shapley_ignores_order_and_repeats() -> None:
    one = paths_table(("a > b", 3, 9.0, 1), ("a", 1, 1.0, 0))
    other = paths_table(("b > a > b > a", 3, 9.0, 7), ("a > a", 1, 1.0, 4))
    # Same channel sets and conversions: same credits (a = 1 + 3/2, b = 3/2), though the channel order differs.
    assert_credits(model_credit("shapley", one), {"a": (2.5, 5.5), "b": (1.5, 4.5)})
    assert_credits(model_credit("shapley", other), {"b": (1.5, 4.5), "a": (2.5, 5.5)})


def test_shapley_refuses_more_than_twenty_channels() -> None:
    names = [f"ch{i}" for i in range(21)]
    table = paths_table(*[(name, 1, 1.0, 0) for name in names])
    with pytest.raises(InputError, match="21"):
        model_credit("shapley", table)
    # Twenty is fine: each channel converts alone, so it keeps its own conversion.
    result = model_credit("shapley", table.iloc[:20])
    assert result["conversions"].to_numpy() == pytest.approx(np.ones(20))


# ------------------------------------------------------------------------------------------------ every model


@pytest.mark.parametrize("model", MODELS)
def test_credits_sum_to_total_conversions_and_value(model: str) -> None:
    result = model_credit(model, MIXED)
    assert list(result.index) == MIXED_CHANNELS
    assert result["conversions"].sum() == pytest.approx(10.0)  # 3 + 1 + 2 + 0 + 4
    assert result["value"].sum() == pytest.approx(550.0)  # 300 + 40 + 90 + 0 + 120
    assert (result.to_numpy() >= 0).all()
    assert result.dtypes.tolist() == [np.dtype(float), np.dtype(float)]


@pytest.mark.parametrize("model", MODELS)
def test_single_touch_paths_give_every_model_the_same_answer(model: str) -> None:
    # Revenue is 2 per conversion everywhere, so models that split the total revenue by conversion shares (markov)
    # agree with those that split each row's own revenue.
    table = paths_table(("a", 3, 6.0, 1), ("b", 1, 2.0, 3), ("a", 2, 4.0, 0), ("c", 0, 0.0, 2))
    table["path_days"] = "0"
    # Each row can only credit its one channel: a = (5, 10), b = (1, 2), c = (0, 0).
    assert_credits(model_credit(model, table), {"a": (5, 10), "b": (1, 2), "c": (0, 0)})


@pytest.mark.parametrize("model", MODELS)
def test_channels_argument_sets_rows_order_and_zeros(model: str) -> None:
    plain = model_credit(model, MIXED)
    wanted = ["tv", "email", "display", "search", "social"]
    result = model_credit(model, MIXED, channels=wanted)
    assert list(result.index) == wanted
    assert result.index.name == "channel"
    assert result.loc["tv"].tolist() == [0.0, 0.0]
    pd.testing.assert_frame_equal(result.loc[MIXED_CHANNELS], plain, check_index_type=False)


@pytest.mark.parametrize("model", MODELS)
def test_channels_argument_must_cover_the_table(model: str) -> None:
    with pytest.raises(InputError, match="'email'"):
        model_credit(model, MIXED, channels=["social", "search", "display"])


def test_channels_argument_must_not_repeat_a_name() -> None:
    with pytest.raises(InputError, match="'search'"):
        model_credit("linear", MIXED, channels=["social", "search", "display", "email", "search"])


def test_rows_without_customers_are_ignored() -> None:
    with_empty = paths_table(
        ("ghost > a", 0, 0.0, 0),
        ("a > b", 2, 10.0, 1),
        ("b > ghost", 0, 0.0, 0),
    )
    without = with_empty.iloc[[1]]
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov", "shapley"):
        result = model_credit(model, with_empty)
        # "ghost" only appears on rows with nobody on them.
        assert list(result.index) == ["a", "b"], model
        pd.testing.assert_frame_equal(result, model_credit(model, without))
    assert conversion_probability(with_empty) == pytest.approx(2 / 3)


def test_integer_counts_and_a_custom_index_are_accepted() -> None:
    table = pd.DataFrame(
        {"path": ["a > b", "b"], "total_conversions": [2, 1], "total_conversion_value": [4, 3], "total_null": [0, 0]},
        index=["x", "x"],
    )
    # Repeated labels do not matter: rows are read by position. a = (1, 2), b = (1 + 1, 2 + 3).
    assert_credits(model_credit("linear", table), {"a": (1, 2), "b": (2, 5)})


# ------------------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize("column", ["path", "total_conversions", "total_conversion_value", "total_null"])
def test_missing_column_is_named(column: str) -> None:
    with pytest.raises(InputError, match=f"missing column '{column}'"):
        model_credit("first_touch", MIXED.drop(columns=column))


@pytest.mark.parametrize("column", ["total_conversions", "total_conversion_value", "total_null"])
def test_negative_counts_are_refused(column: str) -> None:
    table = MIXED.copy()
    table.loc[2, column] = -1.0
    with pytest.raises(InputError, match=rf"row 2: {column} must be >= 0 \(got -1.0\)"):
        model_credit("linear", table)


@pytest.mark.parametrize("bad", [np.nan, np.inf, "many"])
def test_counts_must_be_finite_numbers(bad: object) -> None:
    table = MIXED.astype({"total_null": object})
    table.loc[1, "total_null"] = bad
    with pytest.raises(InputError, match="row 1: total_null must be a finite number"):
        model_credit("linear", table)


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_empty_path_names_the_row(empty: str | None) -> None:
    table = MIXED.copy()
    table.index = ["r0", "r1", "r2", "r3", "r4"]
    table.loc["r3", "path"] = empty
    with pytest.raises(InputError, match="row 'r3': path is empty"):
        model_credit("markov", table)


@pytest.mark.parametrize("path", ["a >  > b", "a > b >", "> a"])
def test_empty_channel_name_names_the_row(path: str) -> None:
    table = paths_table(("a", 1, 1.0, 0), (path, 1, 1.0, 0))
    with pytest.raises(InputError, match="row 1: path has an empty channel name"):
        model_credit("shapley", table)


def test_path_days_length_mismatch_names_the_row() -> None:
    table = MIXED.copy()
    table.loc[4, "path_days"] = "1 > 0"
    # The check runs for every model, not only time_decay.
    with pytest.raises(InputError, match="row 4: path_days must have one entry per touch"):
        model_credit("first_touch", table)
    with pytest.raises(InputError, match="row 4: path_days"):
        model_credit("time_decay", table)


@pytest.mark.parametrize("days", ["3 > x > 0", "3 > -1 > 0", "", "3 >  > 0"])
def test_path_days_must_be_numbers(days: str) -> None:
    table = MIXED.copy()
    table.loc[0, "path_days"] = days
    with pytest.raises(InputError, match="row 0: path_days must be numbers >= 0"):
        model_credit("time_decay", table)


def test_every_problem_is_reported_at_once() -> None:
    table = MIXED.copy()
    table.loc[0, "total_null"] = -2.0
    table.loc[1, "path"] = ""
    table.loc[2, "path_days"] = "0"
    with pytest.raises(InputError) as caught:
        model_credit("linear", table)
    lines = str(caught.value).splitlines()
    assert lines == [
        "path table: row 0: total_null must be >= 0 (got -2.0)",
        "path table: row 1: path is empty (got '')",
        "path table: row 2: path_days must have one entry per touch of path (got '1 days for 4 touches')",
    ]


def test_many_bad_rows_are_summarised() -> None:
    table = paths_table(*[("a", 1, 1.0, -1) for _ in range(12)])
    with pytest.raises(InputError) as caught:
        model_credit("linear", table)
    lines = str(caught.value).splitlines()
    assert len(lines) == 6  # five rows quoted, then a count of the rest
    assert "7 more rows" in lines[-1]


def test_paths_must_be_a_dataframe() -> None:
    with pytest.raises(TypeError, match="DataFrame"):
        model_credit("linear", [("a", 1, 1.0, 0)])  # type: ignore[arg-type]


def test_time_decay_needs_path_days() -> None:
    with pytest.raises(InputError, match="path_days"):
        model_credit("time_decay", MIXED.drop(columns="path_days"))


@pytest.mark.parametrize("half_life", [0.0, -7.0, np.nan, np.inf])
def test_time_decay_half_life_must_be_positive(half_life: float) -> None:
    with pytest.raises(InputError, match="half_life"):
        model_credit("time_decay", MIXED, half_life=half_life)


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [(-0.1, 0.4, "first"), (0.4, -0.1, "last"), (0.6, 0.5, "first \\+ last"), (np.nan, 0.4, "first")],
)
def test_position_based_shares_must_be_valid(first: float, last: float, name: str) -> None:
    with pytest.raises(InputError, match=name):
        model_credit("position_based", MIXED, first=first, last=last)


def test_position_based_accepts_shares_summing_to_one() -> None:
    result = model_credit("position_based", MIXED, first=0.7, last=0.3)
    assert result["conversions"].sum() == pytest.approx(10.0)


# ------------------------------------------------------------------------------------------------ attribute


def test_attribute_stacks_every_model_in_a_long_table() -> None:
    result = attribute(MIXED)
    assert list(result.columns) == ["model", "channel", "conversions", "value"]
    assert len(result) == len(MODELS) * len(MIXED_CHANNELS)
    assert list(result["model"]) == [m for m in MODELS for _ in MIXED_CHANNELS]
    assert list(result["channel"]) == MIXED_CHANNELS * len(MODELS)
    for model in MODELS:
        block = result[result["model"] == model].set_index("channel")[["conversions", "value"]]
        pd.testing.assert_frame_equal(block, model_credit(model, MIXED), check_index_type=False, check_names=False)


def test_attribute_follows_the_given_models_channels_and_parameters() -> None:
    result = attribute(
        MIXED,
        models=["shapley", "position_based", "time_decay"],
        channels=["email", "tv", "social", "search", "display"],
        half_life=3.0,
        first=0.2,
        last=0.6,
    )
    assert list(result["model"]) == ["shapley"] * 5 + ["position_based"] * 5 + ["time_decay"] * 5
    assert list(result["channel"]) == ["email", "tv", "social", "search", "display"] * 3
    block = result[result["model"] == "position_based"].set_index("channel")[["conversions", "value"]]
    expected = model_credit(
        "position_based", MIXED, channels=["email", "tv", "social", "search", "display"], first=0.2, last=0.6
    )
    pd.testing.assert_frame_equal(block, expected, check_index_type=False, check_names=False)
    block = result[result["model"] == "time_decay"].set_index("channel")[["conversions", "value"]]
    expected = model_credit("time_decay", MIXED, channels=["email", "tv", "social", "search", "display"], half_life=3.0)
    pd.testing.assert_frame_equal(block, expected, check_index_type=False, check_names=False)


def test_attribute_on_the_hand_worked_chain() -> None:
    result = attribute(MARKOV_LINE, models=("last_touch", "markov"))
    # last_touch: b ends both converting rows -> a 0, b 2; markov as worked out above: a 0.5, b 1.5.
    assert result["conversions"].to_numpy() == pytest.approx([0.0, 2.0, 0.5, 1.5])
    assert result["value"].to_numpy() == pytest.approx([0.0, 40.0, 10.0, 30.0])


def test_attribute_accepts_a_single_model_name() -> None:
    result = attribute(MIXED, models="linear")
    assert list(result["model"]) == ["linear"] * 4


def test_attribute_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="'lnear'") as caught:
        attribute(MIXED, models=["linear", "lnear"])
    message = str(caught.value)
    assert "did you mean 'linear'" in message
    for model in MODELS:
        assert model in message


def test_attribute_time_decay_without_path_days_is_an_error_not_a_skip() -> None:
    no_days = MIXED.drop(columns="path_days")
    with pytest.raises(InputError, match="path_days"):
        attribute(no_days)
    # Without time_decay the column is not needed.
    result = attribute(no_days, models=[m for m in MODELS if m != "time_decay"])
    assert set(result["model"]) == set(MODELS) - {"time_decay"}


def test_attribute_checks_parameters_of_requested_models() -> None:
    with pytest.raises(InputError, match="half_life"):
        attribute(MIXED, models=["time_decay"], half_life=0.0)
    with pytest.raises(InputError, match="first \\+ last"):
        attribute(MIXED, models=["position_based"], first=0.9, last=0.9)
    # Parameters of models that are not run are not checked.
    assert len(attribute(MIXED, models=["linear"], half_life=0.0, first=0.9, last=0.9)) == 4


def test_attribute_propagates_table_errors() -> None:
    with pytest.raises(InputError, match="missing column 'total_null'"):
        attribute(MIXED.drop(columns="total_null"), models=["linear"])
    with pytest.raises(InputError, match="'email'"):
        attribute(MIXED, models=["markov"], channels=["social", "search", "display"])


@pytest.mark.parametrize("model", MODELS)
def test_an_empty_table_gives_no_credit(model: str) -> None:
    empty = MIXED.iloc[:0]
    assert len(model_credit(model, empty)) == 0
    # Listed channels still get their (zero) rows.
    assert_credits(model_credit(model, empty, channels=["a", "b"]), {"a": (0, 0), "b": (0, 0)})


# ------------------------------------------------------------------------------------------------ the registry


def test_every_model_is_one_registry_row_and_the_defaults_agree() -> None:
    import inspect

    from mixsim.research.attribution import against_truth, check_models
    from mixsim.research.attribution.models import REGISTRY

    assert tuple(REGISTRY) == MODELS
    declared = {p: d for model in REGISTRY.values() for p, d in model.parameters.items()}
    assert declared == {"half_life": 7.0, "first": 0.4, "last": 0.4}
    # Every entry point takes each declared parameter, with the registry's default.
    for function in (attribute, against_truth, check_models):
        signature = inspect.signature(function).parameters
        for name, default in declared.items():
            assert signature[name].default == default, (function.__name__, name)


def test_check_models_reports_every_problem_before_any_work() -> None:
    from mixsim.research.attribution import MAX_SHAPLEY_CHANNELS, check_models

    assert check_models(["markov", "linear"]) == ("markov", "linear")
    assert check_models("shapley", channels=MAX_SHAPLEY_CHANNELS) == ("shapley",)
    with pytest.raises(InputError) as caught:
        check_models(
            ["lnear", "time_decay", "position_based", "shapley"],
            channels=MAX_SHAPLEY_CHANNELS + 1,
            half_life=-1.0,
            first=-0.5,
            last="much",  # type: ignore[arg-type]
        )
    assert caught.value.problems == [
        f"unknown attribution model 'lnear' (did you mean 'linear'?); known models: {', '.join(MODELS)}",
        "half_life must be a finite number > 0 (got -1.0)",
        "first must be a number >= 0 (got -0.5)",
        "last must be a number >= 0 (got much)",
        f"shapley takes at most {MAX_SHAPLEY_CHANNELS} channels (got {MAX_SHAPLEY_CHANNELS + 1}): it sums over "
        "every set of channels; group channels or use the markov model",
    ]
