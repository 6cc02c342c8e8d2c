"""Retention and repurchase metrics: hand-computed cases, period rules, engine parity."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from helpers import LOCAL_ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.metrics import (
    active_customer_rate,
    churn_rate,
    interpurchase_times,
    old_customer_revenue_share,
    omnichannel_summary,
    reactivation_rate,
    referral_conversion_rate,
    referral_rate,
    referrer_rate,
    repeat_purchase_rate,
    repurchase_cycle,
    retention_rate,
)

FEB = {"period": "M", "as_of": "2024-02-29"}  # the period 2024-02-01 .. 2024-02-29


@pytest.fixture
def tx() -> pd.DataFrame:
    """Six customers around February 2024 (one line per purchase; no order ids)."""
    rows = [
        ("a", "2024-01-10", 100.0),
        ("a", "2024-02-05", 50.0),
        ("b", "2024-01-20", 40.0),
        ("c", "2023-01-15", 30.0),
        ("c", "2024-02-20", 60.0),
        ("d", "2024-02-10", 20.0),
        ("d", "2024-02-12", 25.0),
        ("e", "2023-06-01", 10.0),
        ("f", "2024-01-05", 80.0),
        ("f", "2024-02-08", -80.0),  # a refund: no purchase, but negative revenue in February
        ("g", "2024-03-03", 99.0),  # after the period: ignored
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


def _row(result: object) -> dict[str, object]:
    return to_polars(result).row(0, named=True)


def test_retention_rate_by_hand(tx: pd.DataFrame) -> None:
    # active_days=30: a customer at the opening (2024-01-31) bought after 2024-01-01:
    #   a (01-10), b (01-20), f (01-05) -> S = 3
    # at the end (02-29) bought after 2024-01-30: a (02-05), c (02-20), d (02-12) -> E = 3
    # new in February: d -> N = 1; retained (at both dates): a -> 1
    # retention = (E - N) / S = (3 - 1) / 3
    r = _row(retention_rate(tx, active_days=30, **FEB))
    assert r == {
        "start": dt.datetime(2024, 2, 1),  # pandas (numpy) has no date dtype
        "end": dt.datetime(2024, 2, 29),
        "customers_start": 3,
        "customers_end": 3,
        "new_customers": 1,
        "retained": 1,
        "retention_rate": pytest.approx(2 / 3),
    }
    # active_days=365: S = a, b, e (2023-06-01), f = 4; E = all six buyers (c came back) = 6;
    # N = 1 -> (6 - 1) / 4 = 1.25: E - N counts the reactivated c, retained stays 4
    r = _row(retention_rate(tx, **FEB))
    assert (r["customers_start"], r["customers_end"], r["new_customers"]) == (4, 6, 1)
    assert (r["retained"], r["retention_rate"]) == (4, 1.25)


def test_churn_rate_by_hand(tx: pd.DataFrame) -> None:
    # active_days=30: S = a, b, f; at the end b (01-20) and f (01-05, the refund is no
    # purchase) are no longer customers -> lost = 2, churn = 2 / 3
    r = _row(churn_rate(tx, start="2024-02-01", end="2024-02-29", active_days=30))
    assert (r["customers_start"], r["lost"]) == (3, 2)
    assert r["churn_rate"] == pytest.approx(2 / 3)


def test_repeat_purchase_rate_period_and_ever(tx: pd.DataFrame) -> None:
    # February buyers: a (1), c (1), d (2); f's refund is no purchase -> 1 / 3
    r = _row(repeat_purchase_rate(tx, **FEB))
    assert (r["customers"], r["repeat_customers"]) == (3, 1)
    assert r["repeat_purchase_rate"] == pytest.approx(1 / 3)
    # ever, up to 02-29: a, b, c, d, e, f bought; a, c, d twice or more -> 3 / 6
    r = _row(repeat_purchase_rate(tx, scope="ever", **FEB))
    assert (r["customers"], r["repeat_customers"], r["repeat_purchase_rate"]) == (6, 3, 0.5)


def test_active_customer_rate_by_hand(tx: pd.DataFrame) -> None:
    # six buyers up to 02-29; bought in the 30 days 01-31 .. 02-29: a, c, d -> 3 / 6
    r = _row(active_customer_rate(tx, as_of="2024-02-29", days=30))
    assert r == {
        "as_of": dt.datetime(2024, 2, 29),
        "customers": 6,
        "active_customers": 3,
        "active_customer_rate": 0.5,
    }


def test_reactivation_rate_by_hand(tx: pd.DataFrame) -> None:
    # lapsed at the opening (01-31): last purchase on or before 2023-08-04 (180 days earlier):
    #   c (2023-01-15), e (2023-06-01) -> 2; c bought in February -> 1 / 2
    r = _row(reactivation_rate(tx, inactive_days=180, **FEB))
    assert (r["lapsed_customers"], r["reactivated"], r["reactivation_rate"]) == (2, 1, 0.5)


def test_old_customer_revenue_share_by_hand(tx: pd.DataFrame) -> None:
    # February revenue: a 50 + c 60 + d (20 + 25) + f (-80) = 75
    # old customers (first purchase before 02-01): a, c, f -> 50 + 60 - 80 = 30; share 0.4
    r = _row(old_customer_revenue_share(tx, **FEB))
    assert r["revenue"] == 75.0
    assert (r["old_customer_revenue"], r["new_customer_revenue"]) == (30.0, 45.0)
    assert r["old_customer_revenue_share"] == pytest.approx(0.4)


def test_interpurchase_times_by_hand(tx: pd.DataFrame) -> None:
    # a: 01-10 -> 02-05 = 26 days; c: 2023-01-15 -> 2024-02-20 = 365 + 36 = 401; d: 2 days;
    # g's second purchase day is after as_of
    result = interpurchase_times(tx, as_of="2024-02-29")
    assert_equal_data(
        result,
        {
            "customer_id": ["a", "c", "d"],
            "purchase": [2, 2, 2],
            "date": [dt.date(2024, 2, 5), dt.date(2024, 2, 20), dt.date(2024, 2, 12)],
            "gap_days": [26, 401, 2],
        },
    )


def test_two_orders_on_one_day_are_one_purchase_day() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "order_id": [1, 2, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-04 12:00"]
            ),
            "amount": [10.0, 20.0, 5.0],
        }
    )
    result = to_polars(interpurchase_times(tx, as_of="2024-01-31"))
    assert result["gap_days"].to_list() == [3]  # 01-01 -> 01-04, not [0, 3]


def test_repurchase_cycle_overall_and_per_segment(tx: pd.DataFrame) -> None:
    # gaps 26 (a), 401 (c), 2 (d): median 26, mean 429 / 3 = 143
    overall = _row(repurchase_cycle(tx, as_of="2024-02-29"))
    assert overall == {"customers": 3, "gaps": 3, "median_days": 26.0, "mean_days": 143.0}
    labels = pd.DataFrame({"customer_id": list("abcdef"), "segment": list("xxyyzz")})
    # x: [26]; y: [401, 2] -> median (2 + 401) / 2 = 201.5; z (e, f) has no gaps: no row
    result = repurchase_cycle(tx, as_of="2024-02-29", labels=labels)
    assert_equal_data(
        result,
        {
            "segment": ["x", "y"],
            "customers": [1, 2],
            "gaps": [1, 2],
            "median_days": [26.0, 201.5],
            "mean_days": [26.0, 201.5],
        },
    )


def test_repurchase_cycle_labels_must_be_one_per_customer(tx: pd.DataFrame) -> None:
    labels = pd.DataFrame({"customer_id": ["a", "a"], "segment": ["x", "y"]})
    with pytest.raises(InvalidDataError, match="appear more than once"):
        repurchase_cycle(tx, as_of="2024-02-29", labels=labels)
    with pytest.raises(ConfigError, match="The 'by' parameter of repurchase_cycle"):
        repurchase_cycle(
            tx, as_of="2024-02-29", labels=labels.assign(other=1, customer_id=["a", "b"])
        )


@pytest.fixture
def referrals() -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "e"],
            "timestamp": pd.to_datetime(
                ["2024-01-05", "2024-02-03", "2024-02-10", "2024-02-15", "2023-12-01", "2024-02-20"]
            ),
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
            "registered_at": pd.to_datetime(
                [
                    "2023-12-20",
                    "2024-02-01",
                    "2024-02-09",
                    "2024-01-25",
                    "2023-11-01",
                    "2024-02-12",
                    None,
                ]
            ),
            "referred_by": [None, "a", None, "a", None, "e", "b"],
        }
    )
    return tx, customers


def test_the_three_referral_measures_by_hand(referrals: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, customers = referrals
    # new in February: b, c, d; referred: b, d -> 2 / 3
    r = _row(referral_rate(tx, customers, **FEB))
    assert (r["new_customers"], r["referred_new_customers"]) == (3, 2)
    assert r["referral_rate"] == pytest.approx(2 / 3)
    # referrals dated in February (registration): b (by a), f (by e); d registered in January;
    # g has no registration date and never bought: no date. February buyers: b, c, d, e;
    # of them, e referred someone in February (a did too, but bought in January) -> 1 / 4
    r = _row(referrer_rate(tx, customers, **FEB))
    assert (r["active_customers"], r["referrers"], r["referrer_rate"]) == (4, 1, 0.25)
    # February referrals b (bought) and f (never bought) -> 1 / 2
    r = _row(referral_conversion_rate(tx, customers, **FEB))
    assert (r["referrals"], r["converted"], r["referral_conversion_rate"]) == (2, 1, 0.5)


def test_referral_column_is_required(referrals: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, customers = referrals
    with pytest.raises(MissingColumnsError, match="referred_by"):
        referral_rate(tx, customers.drop(columns="referred_by"), **FEB)


def test_omnichannel_summary_by_hand() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c", "c"],
            "timestamp": pd.to_datetime(
                ["2024-01-02", "2024-01-20", "2024-01-05", "2024-01-06", "2024-01-09", "2024-01-10"]
            ),
            "amount": [100.0, 140.0, 60.0, -10.0, 40.0, 20.0],
            "channel": ["store", "app", "store", "web", "store", None],
        }
    )
    # a: store + app -> omnichannel, spend 240; b: store (the web line is a refund), spend 50;
    # c: store (a missing channel is no channel), spend 60 -> single-channel mean 55
    r = _row(omnichannel_summary(tx, period="M", as_of="2024-01-31"))
    assert (r["customers"], r["omnichannel_customers"]) == (3, 1)
    assert r["omnichannel_share"] == pytest.approx(1 / 3)
    assert (r["omnichannel_spend"], r["single_channel_spend"]) == (240.0, 55.0)
    assert r["spend_ratio"] == pytest.approx(240 / 55)
    with pytest.raises(MissingColumnsError, match="channel"):
        omnichannel_summary(tx.drop(columns="channel"), period="M", as_of="2024-01-31")


def test_period_forms_agree_and_are_checked(tx: pd.DataFrame) -> None:
    by_month = retention_rate(tx, period="M", as_of="2024-02-29")
    by_dates = retention_rate(tx, start="2024-02-01", end="2024-02-29")
    by_days = retention_rate(tx, period=29, as_of="2024-02-29")
    assert_equal_data(by_dates, by_month)
    assert_equal_data(by_days, by_month)
    with pytest.raises(ConfigError, match="the period is required"):
        retention_rate(tx)
    with pytest.raises(ConfigError, match="not both"):
        retention_rate(tx, start="2024-02-01", end="2024-02-29", period="M")
    with pytest.raises(ConfigError, match="is after end"):
        retention_rate(tx, start="2024-03-01", end="2024-02-29")
    with pytest.raises(ConfigError, match="The 'period' parameter of retention_rate"):
        retention_rate(tx, period="month", as_of="2024-02-29")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="The 'active_days' parameter of churn_rate"):
        churn_rate(tx, active_days=0, **FEB)
    with pytest.raises(ConfigError, match="The 'scope' parameter of repeat_purchase_rate"):
        repeat_purchase_rate(tx, scope="all", **FEB)  # type: ignore[arg-type]


def test_inputs_are_not_mutated_and_empty_denominators_are_missing(tx: pd.DataFrame) -> None:
    before = tx.copy()
    r = _row(reactivation_rate(tx, period="M", as_of="2023-01-31"))
    assert (r["lapsed_customers"], r["reactivation_rate"]) == (0, None)
    pd.testing.assert_frame_equal(tx, before)


@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_engine_parity_without_spark(
    engine: str, tx: pd.DataFrame, referrals: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    native = make_native(engine, tx)
    for fn in (retention_rate, old_customer_revenue_share, reactivation_rate):
        result = fn(make_native(engine, tx), **FEB)
        assert_same_kind(result, native)
        assert_equal_data(result, fn(tx, **FEB))
    assert_equal_data(
        interpurchase_times(native, as_of="2024-02-29"), interpurchase_times(tx, as_of="2024-02-29")
    )
    labels = pd.DataFrame({"customer_id": list("abcdef"), "segment": list("xxyyzz")})
    assert_equal_data(
        repurchase_cycle(native, as_of="2024-02-29", labels=make_native(engine, labels)),
        repurchase_cycle(tx, as_of="2024-02-29", labels=labels),
    )
    rtx, customers = referrals
    assert_equal_data(
        referrer_rate(make_native(engine, rtx), make_native(engine, customers), **FEB),
        referrer_rate(rtx, customers, **FEB),
    )


@pytest.mark.parametrize("engine_name", ["pandas-numpy", "polars-lazy", "duckdb"])
def test_metrics_of_occasions_do_not_read_category_or_channel(engine_name: str) -> None:
    """The metrics built on purchase occasions read only the order id among the optional
    roles: an unreadable channel and category (text mixed with numbers in pandas; lists and
    structs elsewhere) fail the metrics that read them, not the others, whose results equal
    those of a table without the two columns."""
    from retailcrm.metrics import category_affinity, cohort_retention, kpi_summary

    clean = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c"],
            "order_id": ["o1", "o2", "o3", "o3", None],
            "timestamp": pd.to_datetime(
                ["2024-01-02", "2024-02-20", "2024-02-10", "2024-02-10", "2024-02-11"]
            ),
            "amount": [10.0, 30.0, 5.0, 7.0, 12.0],
        }
    )
    if engine_name == "pandas-numpy":  # text and a number: 1 and '1' would be two labels
        bad = clean.assign(
            category=["tops", 3, "shoes", "tops", None], channel=["app", "store", 4, "app", "web"]
        )
    else:  # lists and structs: no labels at all
        bad = clean.assign(
            category=[["tops"], ["shoes"], ["tops"], ["tops"], None],
            channel=[{"c": "app"}, {"c": "web"}, {"c": "app"}, {"c": "app"}, None],
        )
    native, plain = make_native(engine_name, bad), make_native(engine_name, clean)
    calls = {
        "retention_rate": lambda t: retention_rate(t, **FEB),
        "repeat_purchase_rate": lambda t: repeat_purchase_rate(t, **FEB),
        "churn_rate": lambda t: churn_rate(t, **FEB),
        "interpurchase_times": lambda t: interpurchase_times(t, as_of="2024-02-29"),
        "repurchase_cycle": lambda t: repurchase_cycle(t, as_of="2024-02-29"),
        "cohort_retention": lambda t: cohort_retention(t, as_of="2024-02-29"),
        "kpi_summary": lambda t: kpi_summary(t, as_of="2024-02-29"),
    }
    for call in calls.values():
        assert_equal_data(call(native), call(plain))
    with pytest.raises(InvalidDataError, match="'channel'"):
        omnichannel_summary(native, **FEB)
    with pytest.raises(InvalidDataError, match="'category'"):
        category_affinity(native, as_of="2024-02-29")
