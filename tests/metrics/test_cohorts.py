"""cohort_retention and cohort_matrix: hand-computed cells, reconciliation, engine parity."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import LOCAL_ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError
from retailcrm.metrics import cohort_matrix, cohort_retention


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-05", 10.0),
        ("a", "2024-03-02", 20.0),
        ("b", "2024-01-20", 15.0),
        ("b", "2024-02-01", -5.0),  # a refund: revenue, but b is not active in February
        ("c", "2024-02-10", 30.0),
        ("c", "2024-03-15", 25.0),
        ("d", "2024-03-31", 40.0),
        ("e", "2024-02-02", -7.0),  # refunds only: no purchase, no cohort
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def test_active_customers_by_hand(tx: pd.DataFrame) -> None:
    # January cohort a, b: active in Jan (2), Feb (none: b's refund is no purchase), Mar (a)
    # February cohort c: Feb, Mar; March cohort d
    result = cohort_retention(tx, as_of="2024-03-31")
    assert_equal_data(
        result,
        {
            "cohort": [JAN, JAN, JAN, FEB, FEB, MAR],
            "offset": [0, 1, 2, 0, 1, 0],
            "cohort_size": [2, 2, 2, 1, 1, 1],
            "value": [2, 0, 1, 1, 1, 1],
            "rate": [1.0, 0.0, 0.5, 1.0, 1.0, 1.0],
        },
    )


def test_active_or_later_by_hand(tx: pd.DataFrame) -> None:
    # January: a's last purchase is at offset 2, b's at 0 -> 2, 1, 1
    result = to_polars(cohort_retention(tx, as_of="2024-03-31", mode="active_or_later"))
    assert result["value"].to_list() == [2, 1, 1, 1, 1, 1]


def test_revenue_and_cumulative_revenue_by_hand(tx: pd.DataFrame) -> None:
    # January cohort: Jan 10 + 15 = 25, Feb -5 (b's refund), Mar 20; per customer / 2
    result = to_polars(cohort_retention(tx, as_of="2024-03-31", value="revenue"))
    assert result["value"].to_list() == [25.0, -5.0, 20.0, 30.0, 25.0, 40.0]
    assert result["rate"].to_list() == [12.5, -2.5, 10.0, 30.0, 25.0, 40.0]
    cumulative = to_polars(cohort_retention(tx, as_of="2024-03-31", value="cumulative_revenue"))
    assert cumulative["value"].to_list() == [25.0, 20.0, 40.0, 30.0, 55.0, 40.0]


def test_weekly_offsets_of_monthly_cohorts(tx: pd.DataFrame) -> None:
    # a: first purchase Fri 2024-01-05 (ISO week of Mon 01-01), then 2024-03-02 (week of
    # Mon 02-26): 8 weeks later
    result = to_polars(cohort_retention(tx, as_of="2024-03-31", period="W"))
    jan = result.filter(pl.col("cohort").cast(pl.Date) == JAN)
    active = jan.filter(pl.col("value") > 0)["offset"].to_list()
    # b: Sat 2024-01-20 is in the week of Mon 01-15, offset 0 from its own first purchase
    assert active == [0, 8]
    assert jan["offset"].max() == 12  # week of 01-01 to the week of Sun 03-31 (Mon 03-25)


def test_matrix_wide(tx: pd.DataFrame) -> None:
    wide = cohort_matrix(cohort_retention(tx, as_of="2024-03-31"))
    assert list(wide.columns) == ["cohort", "0", "1", "2"]
    assert_equal_data(
        wide,
        {
            "cohort": [JAN, FEB, MAR],
            "0": [1.0, 1.0, 1.0],
            "1": [0.0, 1.0, None],
            "2": [0.5, None, None],
        },
    )


def test_options_are_checked(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="mode='active_or_later' counts customers"):
        cohort_retention(tx, as_of="2024-03-31", mode="active_or_later", value="revenue")
    with pytest.raises(ConfigError, match="The 'cohort' parameter of cohort_retention"):
        cohort_retention(tx, as_of="2024-03-31", cohort="month")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="as_of is required"):
        cohort_retention(tx)


_day = st.integers(min_value=0, max_value=120)
_cents = st.integers(min_value=-3000, max_value=9000)
_lines = st.lists(st.tuples(st.sampled_from("abcdef"), _day, _cents), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None)
@given(lines=_lines, cohort=st.sampled_from(["M", "W"]), period=st.sampled_from(["M", "W"]))
def test_cohort_tables_reconcile(
    lines: list[tuple[str, int, int]], cohort: str, period: str
) -> None:
    start = pd.Timestamp("2024-01-01")
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in lines],
            "timestamp": [start + pd.Timedelta(days=d) for _, d, _ in lines],
            "amount": [m / 100 for _, _, m in lines],
        }
    )
    kw = {"as_of": "2024-04-30", "cohort": cohort, "period": period, "duplicates": "keep"}
    active = to_polars(cohort_retention(tx, **kw))
    later = to_polars(cohort_retention(tx, mode="active_or_later", **kw))
    revenue = to_polars(cohort_retention(tx, value="revenue", **kw))
    cumulative = to_polars(cohort_retention(tx, value="cumulative_revenue", **kw))
    # offset 0 equals the cohort size
    first = active.filter(pl.col("offset") == 0)
    assert first["value"].to_list() == first["cohort_size"].to_list()
    # active_or_later never rises along a row, and is at least the active count
    for _, row in later.group_by("cohort"):
        values = row.sort("offset")["value"].to_list()
        assert values == sorted(values, reverse=True)
    assert (later["value"] >= active["value"]).all()
    # revenue cells add up to the net spend of every customer with a purchase (a customer-day
    # is an occasion; it is a purchase when it nets above zero)
    days = tx.assign(day=tx["timestamp"].dt.date, cents=[m for _, _, m in lines])
    nets = days.groupby(["customer_id", "day"])["cents"].sum()
    buyers = set(nets[nets > 0].index.get_level_values(0))
    expected = sum(m for c, _, m in lines if c in buyers) / 100
    assert revenue["value"].sum() == pytest.approx(expected, abs=1e-9)
    sizes = first.select(pl.col("cohort_size").sum()).item() if first.height else 0
    assert sizes == len(buyers)
    # the last cumulative cell of each cohort is its total revenue
    last = cumulative.group_by("cohort").agg(pl.col("value").sort_by("offset").last())
    total = revenue.group_by("cohort").agg(pl.col("value").sum())
    joined = last.join(total, on="cohort")
    for got, want in joined.select("value", "value_right").iter_rows():
        assert got == pytest.approx(want, abs=1e-9)


# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_engine_parity(engine: str, tx: pd.DataFrame) -> None:
    # `engine` (conftest) runs over helpers.ENGINES, Spark included
    native = make_native(engine, tx)
    result = cohort_retention(native, as_of="2024-03-31", mode="active_or_later")
    assert_same_kind(result, native)
    assert_equal_data(result, cohort_retention(tx, as_of="2024-03-31", mode="active_or_later"))
    revenue = cohort_retention(native, as_of="2024-03-31", value="revenue", period="W")
    assert_equal_data(
        revenue, cohort_retention(tx, as_of="2024-03-31", value="revenue", period="W")
    )
