"""Touchpoints before buying: distinct channel-days with an exposure, with the exposures (impressions) kept beside.

A hand-built journal pins the count (repeated exposures from one channel on one day count once, two channels on
one day count twice); the shipped scenarios on a small population check that the histogram's bins spread the
buyers instead of piling them into the last one; the journal, the run's histogram and the command agree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, CliResult
from mixsim.engine.journal import TOUCH_DTYPE, Journal
from mixsim.engine.run import TOUCH_BINS, touch_labels
from mixsim.research.journeys import Journeys
from mixsim.scenario import Scenario, load_scenario
from mixsim.simulation import simulate

SHIPPED = ("d2c_ecommerce", "b2b_saas", "genz_launch", "retail_omnichannel")

# Small scenario: channels tv 0, search 1, email 2. Rows (customer, day, channel, exposures, before, after), in
# journal order (customer, day, channel).
ROWS = [
    (1, 0, 0, 3, 0, 1),  # customer 1: TV three times on day 0, one search on day 1: 2 touchpoints, 4 exposures
    (1, 1, 1, 1, 1, 3),
    (3, 2, 0, 2, 0, 2),  # customer 3: TV and search the same day: 2 touchpoints, 3 exposures
    (3, 2, 1, 1, 2, 3),
    (4, 0, 0, 1, 0, 1),  # customer 4: one TV day split over two rows: 1 touchpoint, 3 exposures
    (4, 0, 0, 2, 1, 2),
    *((6, d, 2, 1, 0 if d == 0 else 1, 1) for d in range(12)),  # customer 6: an email a day for 12 days
    (9, 0, 0, 5, 0, 1),  # customer 9: five TV exposures on one day, never buys
]
CUSTOMERS = [1, 3, 4, 6, 8, 9]  # customer 8 buys without any touch
STAGES = [3, 3, 3, 3, 3, 1]
CONVERTED_DAY = [1, 2, 5, 14, 3, -1]
TOUCHPOINTS = [2, 2, 1, 12, 0, 1]
EXPOSURES = [4, 3, 3, 12, 0, 5]


def hand_journal() -> Journal:
    touches = np.zeros(len(ROWS), dtype=TOUCH_DTYPE)
    for i, row in enumerate(ROWS):
        touches[i] = row
    return Journal(
        touches=touches,
        customers=np.array(CUSTOMERS, dtype=np.int32),
        segment=np.zeros(len(CUSTOMERS), dtype=np.int8),
        stage=np.array(STAGES, dtype=np.int8),
        converted_day=np.array(CONVERTED_DAY, dtype=np.float32),
        share=1.0,
    )


@pytest.fixture
def hand(make_scenario: Callable[..., Scenario]) -> Journeys:
    return Journeys(make_scenario(), (hand_journal(),))


def test_a_touchpoint_is_a_channel_day_and_the_exposures_are_kept(hand: Journeys) -> None:
    customers = hand.customers()
    assert customers["customer"].tolist() == CUSTOMERS
    assert customers["touches"].tolist() == TOUCHPOINTS
    assert customers["exposures"].tolist() == EXPOSURES

    table = hand.touchpoints()
    assert list(table.columns) == ["touchpoints", "buyers", "share", "exposures"]
    assert table["touchpoints"].tolist() == touch_labels()
    by_bin = table.set_index("touchpoints")
    # Five buyers: 0 touchpoints (customer 8), 1 (customer 4), 2 (customers 1 and 3), 12 (customer 6).
    expected = {"0": (1, 0.0), "1": (1, 3.0), "2": (2, 3.5), "10-19": (1, 12.0)}
    assert by_bin["buyers"].sum() == 5
    for label, row in by_bin.iterrows():
        buyers, exposures = expected.get(str(label), (0, math.nan))
        assert row["buyers"] == buyers, label
        assert row["share"] == pytest.approx(buyers / 5), label
        assert row["exposures"] == pytest.approx(exposures, nan_ok=True), label
    assert hand.multi_touch_share() == pytest.approx(3 / 5)
    assert hand.multi_touch_share(at_least=3) == pytest.approx(1 / 5)
    pd.testing.assert_frame_equal(hand.to_frame("touchpoints"), table)


def test_the_json_carries_touchpoints_and_exposures(hand: Journeys) -> None:
    data = json.loads(hand.to_json())
    assert data["touches"] == [sum(TOUCHPOINTS)]
    assert data["exposures"] == [sum(EXPOSURES)]
    assert data["multi_touch_share"] == pytest.approx(3 / 5)
    records = {row["touchpoints"]: row for row in data["touchpoints"]}
    assert list(records) == touch_labels()
    assert records["2"]["buyers"] == 2 and records["2"]["exposures"] == pytest.approx(3.5)
    assert records["5-9"]["exposures"] is None  # an empty bin has no mean
    assert "18 touches (a touch: one channel, one customer, one day) bringing 27 exposures" in hand._repr_html_()


def test_without_buyers_the_multi_touch_share_is_undefined(hand: Journeys) -> None:
    journal = hand_journal()
    nobody = Journeys(
        hand.scenario,
        (
            Journal(
                **{
                    **journal.__dict__,
                    "stage": np.ones(len(CUSTOMERS), np.int8),
                    "converted_day": np.full(len(CUSTOMERS), -1.0, np.float32),  # never won
                }
            ),
        ),
    )
    assert math.isnan(nobody.multi_touch_share())
    assert nobody.touchpoints()["buyers"].sum() == 0 and nobody.touchpoints()["share"].isna().all()
    assert json.loads(nobody.to_json())["multi_touch_share"] is None


def small_market(name: str, population: int = 5_000) -> Scenario:
    """A shipped scenario with fewer simulated customers standing for the same market (the same money per head)."""
    full = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    return load_scenario(
        ROOT / "scenarios" / f"{name}.toml",
        [f"scenario.population={population}", f"scenario.represents={full.represents}"],
    )


@pytest.mark.parametrize("name", SHIPPED)
def test_buyers_spread_over_the_bins_of_a_shipped_scenario(name: str) -> None:
    scenario = small_market(name)
    result = simulate(scenario, seed=1, replications=2, journeys=1.0)
    counts = result.to_frame("touchpoints")["mean"].to_numpy()
    share = counts / counts.sum()
    assert share[-1] < 0.5, f"the top bin holds {share[-1]:.0%} of the buyers"
    assert share.max() < 0.5, f"one bin holds {share.max():.0%} of the buyers"
    assert np.count_nonzero(share >= 0.05) >= 3, share
    # The journal counts the same channel-days as the run (in simulated customers; the run in the market's).
    journeys = result.journeys()
    for r, run in enumerate(result.runs):
        buyers = journeys.touchpoints(replication=r)["buyers"].to_numpy()
        np.testing.assert_allclose(run.touchpoints * scenario.population / scenario.represents, buyers, rtol=1e-9)
    assert len(counts) == TOUCH_BINS


def test_cli_journeys_prints_touchpoints_and_exposures(
    run_cli: Callable[..., CliResult], scenario_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "j"
    code, stdout, stderr = run_cli("journeys", scenario_file, "--out", out, "--sample", "1", "-w", "1", "--seed", "3")
    assert code == 0, stderr
    journeys = simulate(load_scenario(scenario_file), seed=3, replications=1, journeys=1.0).journeys()
    buyers = journeys.customers().query("converted")
    assert f"{journeys.multi_touch_share():.1%} of {len(buyers):,} buyers had two or more touchpoints." in stdout
    assert f"a mean of {buyers['touches'].mean():,.1f} touchpoints and {buyers['exposures'].mean():,.1f}" in stdout
    assert "Buyers by touchpoints before buying: 0 " in stdout
    customers = pd.read_csv(out / "customers.csv")
    touches = pd.read_csv(out / "touches.csv")
    per_customer = touches.groupby("customer")["exposures"].sum()
    np.testing.assert_array_equal(
        customers.set_index("customer")["exposures"].reindex(per_customer.index), per_customer
    )
