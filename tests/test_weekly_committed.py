"""Committed spend read from a CSV file: the array it gives, and every problem named by file, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _weekly import small_scenario
from mixsim.errors import InputError
from mixsim.optimizer.weekly import parse_committed, read_committed


def test_listed_channel_weeks_are_committed_and_the_rest_is_zero(tmp_path: Path) -> None:
    path = tmp_path / "bought.csv"
    path.write_text("\ufeffWeek,Channel,Spend,note\n1,tv,500,upfront\n\n3, email ,12.5,\n", encoding="utf-8")
    committed = read_committed(path, small_scenario())  # tv, search, email over 3 weeks
    expected = np.zeros((3, 3))
    expected[0, 0], expected[2, 2] = 500.0, 12.5
    np.testing.assert_array_equal(committed, expected)


def test_every_problem_is_named_at_once_by_row_and_column() -> None:
    text = "channel,week,spend\nradio,1,5\ntv,0,-1\ntv,2,x\ntv,2,10\ntv,2,20\n"
    with pytest.raises(InputError) as caught:
        parse_committed(text, ("tv", "search"), 3, source="bought.csv")
    assert caught.value.problems == [
        "bought.csv: row 2: channel: no channel 'radio' (the scenario has tv, search)",
        "bought.csv: row 3: week: must be a whole number in 1..3 (got 0)",
        "bought.csv: row 3: spend: must be a finite number >= 0 (got -1)",
        "bought.csv: row 4: spend: must be a finite number >= 0 (got 'x')",
        "bought.csv: row 6: week: tv week 2 is already committed in row 5",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "bought.csv: the committed-spend file is empty (expected a header channel,week,spend)"),
        ("channel,spend\ntv,5\n", "bought.csv: header: missing column(s) week (expected channel,week,spend)"),
    ],
)
def test_a_file_without_its_columns_is_refused(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_committed(text, ("tv",), 3, source="bought.csv")
    assert caught.value.problems == [message]


def test_a_systematic_mistake_is_listed_twenty_times_then_counted() -> None:
    text = "channel,week,spend\n" + "radio,1,5\n" * 25
    with pytest.raises(InputError) as caught:
        parse_committed(text, ("tv",), 3, source="bought.csv")
    assert len(caught.value.problems) == 21 and caught.value.problems[-1] == (
        "bought.csv: and 5 more problem(s) like these"
    )


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.csv: file not found"):
        read_committed(tmp_path / "missing.csv", small_scenario())


def test_channels_named_like_missing_values_are_read_as_their_names(tmp_path: Path) -> None:
    """Issue 15, point 6: ``NA``, ``null``, ``None`` and ``nan`` are valid channel names, never missing values."""
    from conftest import small_data
    from mixsim.scenario import parse_scenario

    data = small_data()
    data["channels"] = {new: data["channels"][old] for old, new in (("tv", "NA"), ("search", "null"), ("email", "nan"))}
    data["channels"]["None"] = dict(data["channels"]["nan"])
    scenario = parse_scenario(data, source="na.toml")
    path = tmp_path / "bought.csv"
    path.write_text("channel,week,spend\nNA,1,100\nnull,2,50\nnan,3,7\nNone,1,1\n", encoding="utf-8")
    committed = read_committed(path, scenario)
    assert scenario.channel_names == ("NA", "null", "nan", "None")
    expected = np.zeros((4, 3))
    expected[0, 0], expected[1, 1], expected[2, 2], expected[3, 0] = 100.0, 50.0, 7.0, 1.0
    np.testing.assert_array_equal(committed, expected)


def test_a_name_breaking_the_channel_rule_is_refused_by_the_rule() -> None:
    """Issue 15, point 4: the scenario's name rule, not merely 'no such channel'."""
    text = 'channel,week,spend\n"=HYPERLINK(""x"")",1,5\n"tv\x1b[2J",1,5\n'
    with pytest.raises(InputError) as caught:
        parse_committed(text, ("tv",), 3, source="bought.csv")
    rule = "channel name must be letters, digits and underscores, not starting with a digit"
    assert caught.value.problems == [
        f"bought.csv: row 2: channel: {rule} (got '=HYPERLINK(\"x\")')",
        f"bought.csv: row 3: channel: {rule} (got 'tv\\x1b[2J')",
    ]


def test_committed_spend_past_what_the_program_can_hold_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        parse_committed("channel,week,spend\ntv,1,1e308\n", ("tv",), 3, source="bought.csv")
    assert caught.value.problems == ["bought.csv: row 2: spend: must be at most 1e+15 (got 1e308)"]


def test_a_file_longer_than_any_scenario_needs_is_refused_at_once() -> None:
    """Issue 15, point 12: at most one row per channel-week of the largest scenario (64 channels)."""
    text = "channel,week,spend\n" + "tv,1,5\n" * 200
    with pytest.raises(InputError) as caught:
        parse_committed(text, ("tv",), 3, source="bought.csv")
    assert caught.value.problems == [
        "bought.csv: row 194: more than 192 rows (the most a committed-spend file may have: 64 channels x 3 weeks); "
        "nothing past it was read"
    ]
