"""stage_history: equal to assign_stages date by date, chained stages, entry, engines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import hypothesis.strategies as st
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings

from helpers import LOCAL_ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm import customer_features
from retailcrm.data import sample_data
from retailcrm.exceptions import ConfigError
from retailcrm.lifecycle import RHYTHM_POLICY, LifecyclePolicy, assign_stages, stage_history
from retailcrm.rules import Rule, RuleSet

DATES = ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30"]


def tx_frame() -> pd.DataFrame:
    rows = [
        ("ann", "2024-01-10", 30.0),
        ("ann", "2024-02-05", 45.0),
        ("ann", "2024-03-07", 20.0),
        ("ann", "2024-03-20", 20.0),
        ("bob", "2023-09-20", 60.0),  # lapsed: dormant in January, churned in March
        ("bob", "2024-05-02", 25.0),  # back in May
        ("cy", "2024-03-15", 80.0),  # first purchase in March
        ("dee", "2023-12-30", 15.0),
    ]
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": pd.to_datetime([r[1] for r in rows]),
            "amount": [r[2] for r in rows],
        }
    )


def customers_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["ann", "bob", "cy", "dee", "eve"],
            "registered_at": pd.to_datetime(
                ["2023-06-01", "2023-01-01", "2024-03-01", "2023-12-30", "2024-04-10"]
            ),
        }
    )


def test_hand_built_history() -> None:
    h = stage_history(tx_frame(), dates=DATES, customers=customers_frame())
    wide = h.pivot(index="customer_id", columns="date", values="stage")
    wide.columns = [c.strftime("%m") for c in wide.columns]
    # ann: Jan (registered 2023-06) one purchase -> active; Feb: Jan + Feb purchases, months
    # Jan-Feb = 2, 1 purchase in 30 days -> active; Mar: Jan-Feb-Mar -> mature; Apr: no April
    # purchase -> active; May: 2024-03-20 -> 2024-05-31 is 72 days -> active; Jun: 102 -> dormant
    assert wide.loc["ann"].tolist() == ["active", "active", "mature", "active", "active", "dormant"]
    # bob: 2023-09-20 -> 2024-01-31 is 133 days (dormant); -> 2024-03-31 is 193 (churned);
    # bought 2024-05-02 -> reactivated at May 31, kept (30 < 90 days) in June
    assert wide.loc["bob"].tolist() == [
        "dormant",
        "dormant",
        "churned",
        "churned",
        "reactivated",
        "reactivated",
    ]
    # cy: registered 2024-03-01, absent before; 2024-03-01 -> 2024-03-31 is 30 days: not new
    # -> active; bought 2024-03-15: 107 days before 2024-06-30 -> dormant
    assert wide.loc["cy"].tolist()[2:] == ["active", "active", "active", "dormant"]
    assert h[h["customer_id"] == "cy"]["date"].min() == pd.Timestamp("2024-03-31")
    # dee: bought on her registration day 2023-12-30: new on Jan 31? 32 days -> active, then
    # 2023-12-30 -> 2024-03-31 is 92 days: dormant; -> 2024-06-30 is 183: churned
    assert wide.loc["dee"].tolist() == [
        "active",
        "active",
        "dormant",
        "dormant",
        "dormant",
        "churned",
    ]
    # eve: registered 2024-04-10, never bought: prospect from April on
    assert wide.loc["eve"].tolist()[3:] == ["prospect", "prospect", "prospect"]
    assert h[h["customer_id"] == "eve"].shape[0] == 3
    # stage_since is carried: bob reactivated since May 31, 30 days in the stage in June
    bob = h[h["customer_id"] == "bob"].set_index("date")
    assert bob.loc[pd.Timestamp("2024-06-30"), "stage_since"] == pd.Timestamp("2024-05-31")
    assert bob.loc[pd.Timestamp("2024-06-30"), "days_in_stage"] == 30
    # unchanged since the first date: start unknown
    assert pd.isna(bob.loc[pd.Timestamp("2024-02-29"), "stage_since"])
    assert list(h.columns) == [
        "customer_id",
        "date",
        "stage",
        "rule_id",
        "stage_since",
        "days_in_stage",
    ]


def _chained(
    tx: Any, dates: list[str], customers: Any, policy: Any = None, lang: str | None = None
) -> pl.DataFrame:
    """assign_stages run alone at each date (features computed from scratch), chained."""
    previous = None
    parts = []
    for d in dates:
        f = customer_features(tx, as_of=d, customers=customers, duplicates="keep")
        kwargs: dict[str, Any] = {"previous": previous, "lang": lang}
        if policy is not None:
            kwargs["policy"] = policy
        previous = assign_stages(f, as_of=d, **kwargs)
        parts.append(to_polars(previous).with_columns(date=pl.lit(dt.date.fromisoformat(d))))
    cols = ["customer_id", "date", "stage", "rule_id", "stage_since", "days_in_stage"]
    return pl.concat(parts, how="vertical_relaxed").select(cols)


def test_equals_assign_stages_alone_on_a_hand_built_table() -> None:
    tx, customers = tx_frame(), customers_frame()
    assert_equal_data(
        stage_history(tx, dates=DATES, customers=customers, duplicates="keep"),
        _chained(tx, DATES, customers),
    )
    # in Chinese, and with the rhythm policy
    assert_equal_data(
        stage_history(tx, dates=DATES, customers=customers, lang="zh", policy=RHYTHM_POLICY),
        _chained(tx, DATES, customers, policy=RHYTHM_POLICY, lang="zh"),
    )


BASE = dt.date(2023, 6, 1)
history_st = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 420), st.sampled_from([10.0, 25.0, -5.0])),
    min_size=1,
    max_size=14,
)


@settings(max_examples=10)
@given(history_st, st.lists(st.integers(30, 420), min_size=1, max_size=4, unique=True))
def test_equals_assign_stages_alone_at_each_date(
    lines: list[tuple[int, int, float]], days: list[int]
) -> None:
    tx = pl.DataFrame(
        {
            "customer_id": [f"c{c}" for c, _, _ in lines],
            "timestamp": pl.Series(
                [dt.datetime.combine(BASE + dt.timedelta(d), dt.time(10)) for _, d, _ in lines],
                dtype=pl.Datetime("us"),
            ),
            "amount": [a for _, _, a in lines],
        }
    )
    customers = pl.DataFrame(
        {"customer_id": ["c0", "c1", "c4"], "registered_at": [BASE, BASE + dt.timedelta(200), BASE]}
    )
    dates = [(BASE + dt.timedelta(d)).isoformat() for d in sorted(days)]
    got = stage_history(tx, dates=dates, customers=customers, duplicates="keep")
    assert_equal_data(got, _chained(tx, dates, customers))


def test_custom_rule_set_reading_other_feature_groups() -> None:
    tx = tx_frame().assign(category=["a", "b", "a", "a", "b", "b", "a", "b"])
    rules = RuleSet(
        [
            Rule("big", "spend_90d >= 60"),
            Rule("a_fan", "top_category == 'a' and active_months_12 >= 2"),
            Rule("back", "previous_stage == 'other' and recency_days < 40"),
        ],
        default="other",
    )
    dates = ["2024-03-31", "2024-05-31"]
    h = stage_history(tx, dates=dates, policy=rules)
    assert_equal_data(h, _chained(tx, dates, None, policy=rules))
    assert h["stage"].tolist() == ["big", "other", "big", "other", "a_fan", "back", "big", "other"]


def test_sample_retailer_in_several_customer_partitions_equals_assign_stages_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the backtest lays its lines out in customer partitions once (here 7 of 100 lines) and
    # slices them at each date; the default stages read windows and months, a custom rule
    # the category mix
    import retailcrm.features._customer as features_impl

    data = sample_data(120, seed=5, start="2024-01-01", end="2024-12-31")
    dates = ["2024-02-29", "2024-06-30", "2024-09-30", "2024-12-31"]
    expected = _chained(data.transactions, dates, data.customers)
    rules = RuleSet([Rule("fan", "top_category_share >= 0.6 and orders_90d >= 1")], default="other")
    expected_mix = _chained(data.transactions, dates, None, policy=rules)
    monkeypatch.setattr(features_impl, "PARTITION_LINES", 100)
    got = stage_history(data.transactions, dates=dates, customers=data.customers)
    assert_equal_data(got, expected)
    got_mix = stage_history(data.transactions, dates=dates, policy=rules)
    assert_equal_data(got_mix, expected_mix)
    assert set(got_mix["stage"]) == {"fan", "other"}


def test_dates_are_sorted_and_checked() -> None:
    tx = tx_frame()
    h = stage_history(tx, dates=["2024-03-31", "2024-01-31"])
    assert h["date"].drop_duplicates().tolist() == [
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-03-31"),
    ]
    with pytest.raises(
        ConfigError, match="'dates' parameter of stage_history must be at least one"
    ):
        stage_history(tx, dates=[])
    with pytest.raises(ConfigError, match="must be distinct dates"):
        stage_history(tx, dates=["2024-01-31", dt.date(2024, 1, 31)])
    with pytest.raises(ConfigError, match="must be a sequence of dates"):
        stage_history(tx, dates="2024-01-31")
    with pytest.raises(ConfigError, match="not an ISO date"):
        stage_history(tx, dates=["2024-13-01"])


def test_the_input_is_not_mutated_and_a_date_before_all_lines_is_empty() -> None:
    tx = tx_frame()
    before = tx.copy()
    h = stage_history(tx, dates=["2023-01-31", "2024-01-31"])
    pd.testing.assert_frame_equal(tx, before)
    assert (h["date"] == pd.Timestamp("2023-01-31")).sum() == 0
    assert set(h["customer_id"]) == {"ann", "bob", "dee"}


# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_engine_parity(engine: str) -> None:
    tx = make_native(engine, tx_frame())
    customers = make_native(engine, customers_frame())
    dates = ["2024-03-31", "2024-05-31"]  # bob comes back, eve enters
    out = stage_history(tx, dates=dates, customers=customers)
    assert_same_kind(out, tx)
    expected = stage_history(tx_frame(), dates=dates, customers=customers_frame())
    assert_equal_data(to_polars(out).sort("date", "customer_id"), expected)
    assert to_polars(out).height == 4 + 5  # eve registers in April
    assert to_polars(out)["stage"].to_list()[5] == "reactivated"  # bob on 2024-05-31


def test_the_growing_window_is_computed_whatever_its_length() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["x", "x", "x"],
            "timestamp": pd.to_datetime(["2023-06-01", "2024-06-10", "2024-06-25"]),
            "amount": [10.0, 10.0, 10.0],
        }
    )
    # 30-day window 2024-06-01 .. 06-30 holds 2 purchases -> growing; the 14-day window
    # 06-17 .. 06-30 holds 1 -> active
    assert stage_history(tx, dates=["2024-06-30"])["stage"].tolist() == ["growing"]
    fortnight = LifecyclePolicy(growing_window_days=14)
    assert stage_history(tx, dates=["2024-06-30"], policy=fortnight)["stage"].tolist() == ["active"]
