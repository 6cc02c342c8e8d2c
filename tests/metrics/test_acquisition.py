"""acquisition_cost and cohort_payback: hand-computed CAC, attribution, payback months."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pytest

from helpers import assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm import customer_features
from retailcrm.data import SpendSchema
from retailcrm.exceptions import ConfigError
from retailcrm.metrics import acquisition_cost, cohort_payback

MONTHLY = SpendSchema(period="month")
JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-03", 10.0, "web"),
        ("b", "2024-01-09", 20.0, "web"),
        ("c", "2024-01-15", 15.0, "store"),
        ("d", "2024-02-02", 30.0, "web"),
        ("d", "2024-02-02", 50.0, "store"),  # d's first day: store has the larger spend
        ("a", "2024-02-05", 25.0, "store"),
        ("e", "2024-03-01", 5.0, "web"),  # after as_of
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "channel"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


@pytest.fixture
def spend() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": ["2024-01", "2024-02", "2024-02", "2024-03"],
            "channel": ["web", "web", "social", "web"],
            "amount": [100.0, 90.0, 30.0, 500.0],  # March is after as_of
        }
    )


def test_cac_per_channel_and_month_by_hand(tx: pd.DataFrame, spend: pd.DataFrame) -> None:
    # January: a, b by web (first day's channel), c by store; February: d by store (50 > 30)
    # paid channels: those with spend rows (web, social); store is unpaid
    result = acquisition_cost(spend, tx, as_of="2024-02-29", spend_schema=MONTHLY)
    assert_equal_data(
        result,
        {
            "channel": ["social", "store", "store", "web", "web"],
            "period": [FEB, JAN, FEB, JAN, FEB],
            "new_customers": [0, 1, 1, 2, 0],
            "paid_new_customers": [0, 0, 0, 2, 0],
            "spend": [30.0, 0.0, 0.0, 100.0, 90.0],
            # social 30 / 0 and web 90 / 0: no new customers, no CAC; store: 0 / 1 = 0
            "cac": [None, 0.0, 0.0, 50.0, None],
            "paid_cac": [None, None, None, 50.0, None],
        },
    )


def test_blended_against_paid_cac(tx: pd.DataFrame, spend: pd.DataFrame) -> None:
    # all months to 02-29: spend 100 + 90 + 30 = 220; new a, b, c, d = 4 (paid: a, b)
    # blended 220 / 4 = 55; paid 220 / 2 = 110
    total = to_polars(acquisition_cost(spend, tx, by=(), as_of="2024-02-29", spend_schema=MONTHLY))
    assert total.row(0, named=True) == {
        "new_customers": 4,
        "paid_new_customers": 2,
        "spend": 220.0,
        "cac": 55.0,
        "paid_cac": 110.0,
    }
    # February only (start): spend 120, new d (store, unpaid): blended 120, paid missing
    feb = to_polars(
        acquisition_cost(
            spend, tx, by=("period",), as_of="2024-02-29", start="2024-02-01", spend_schema=MONTHLY
        )
    )
    assert feb.select("new_customers", "spend", "cac", "paid_cac").row(0) == (1, 120.0, 120.0, None)


def test_channel_from_customers_and_from_features(tx: pd.DataFrame, spend: pd.DataFrame) -> None:
    customers = pd.DataFrame(
        {"customer_id": list("abcde"), "acquisition_channel": ["web", "social", "web", "web", None]}
    )
    # a, c, d by web (2 in January, 1 in February), b by social in January
    by_channel = to_polars(
        acquisition_cost(
            spend, tx, by=("channel",), as_of="2024-02-29", customers=customers,
            spend_schema=MONTHLY,
        )
    )  # fmt: skip
    assert by_channel.rows() == [
        ("social", 1, 1, 30.0, 30.0, 30.0),
        ("web", 3, 3, 190.0, 190 / 3, 190 / 3),
    ]
    features = customer_features(tx, as_of="2024-02-29", customers=customers)
    from_features = acquisition_cost(spend, features, by=("channel",), spend_schema=MONTHLY)
    assert_equal_data(from_features, by_channel)


def test_parameters_are_checked(tx: pd.DataFrame, spend: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="The 'by' parameter of acquisition_cost"):
        acquisition_cost(spend, tx, by=("region",), as_of="2024-02-29", spend_schema=MONTHLY)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="The 'period' parameter of acquisition_cost"):
        acquisition_cost(spend, tx, period="W", as_of="2024-02-29", spend_schema=MONTHLY)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="as_of is required"):
        acquisition_cost(spend, tx, spend_schema=MONTHLY)
    with pytest.raises(ConfigError, match="no acquisition channel"):
        acquisition_cost(
            spend, tx.drop(columns="channel"), as_of="2024-02-29", spend_schema=MONTHLY
        )
    with pytest.raises(ConfigError, match="margin is required"):
        cohort_payback(spend, tx, as_of="2024-02-29", spend_schema=MONTHLY)


def test_cohort_payback_by_hand() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b", "a", "c"],
            "timestamp": pd.to_datetime(
                ["2024-01-03", "2024-01-09", "2024-02-15", "2024-03-02", "2024-03-20", "2024-02-01"]
            ),
            "amount": [50.0, 30.0, 40.0, 60.0, 20.0, 10.0],
            "channel": ["web", "web", "web", "web", "web", "store"],
        }
    )
    spend = pd.DataFrame(
        {"month": ["2024-01", "2024-02"], "channel": ["web", "web"], "amount": [80.0, 50.0]}
    )
    # January web cohort a, b: CAC 80 / 2 = 40; revenue Jan 80, Feb 40, Mar 80; margin 0.5
    # -> gross profit per customer 20, 30, 50: crosses 40 in the third month
    # February store cohort c: no spend, so no payback; February web spend has no cohort
    tx, spend = pl.from_pandas(tx), pl.from_pandas(spend)  # polars keeps dates and integers
    result = cohort_payback(spend, tx, margin=0.5, as_of="2024-03-31", spend_schema=MONTHLY)
    assert result.rows() == [
        (dt.date(2024, 1, 1), "web", 2, 80.0, 40.0, 3, 50.0, 3),
        (dt.date(2024, 2, 1), "store", 1, 0.0, 0.0, 2, 5.0, None),
    ]
    # by month only (blended): January is the same cohort; February's spend 50 now falls on c
    blended = cohort_payback(spend, tx, margin=0.5, as_of="2024-03-31", by=(), spend_schema=MONTHLY)
    assert blended.rows() == [
        (dt.date(2024, 1, 1), 2, 80.0, 40.0, 3, 50.0, 3),
        (dt.date(2024, 2, 1), 1, 50.0, 50.0, 2, 5.0, None),
    ]


@pytest.mark.parametrize("engine", ["pandas-pyarrow", "polars-lazy", "duckdb"])
def test_engine_parity(engine: str, tx: pd.DataFrame, spend: pd.DataFrame) -> None:
    native = make_native(engine, tx)
    result = acquisition_cost(
        make_native(engine, spend), native, as_of="2024-02-29", spend_schema=MONTHLY
    )
    assert_same_kind(result, native)
    assert_equal_data(result, acquisition_cost(spend, tx, as_of="2024-02-29", spend_schema=MONTHLY))
