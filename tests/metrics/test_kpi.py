"""kpi_summary: hand-computed block, previous periods, engine parity (Spark included)."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from helpers import assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError
from retailcrm.metrics import kpi_summary
from retailcrm.metrics._kpi import KPI_NAMES


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-05", 40.0),
        ("b", "2024-01-20", 60.0),
        ("a", "2024-02-03", 30.0),
        ("a", "2024-02-17", 50.0),
        ("c", "2024-02-20", 20.0),
        ("b", "2024-02-25", -10.0),  # a refund in February: revenue, no order
        ("d", "2024-03-02", 70.0),  # after as_of
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


def test_monthly_block_by_hand(tx: pd.DataFrame) -> None:
    # February (current) against January (previous), active_days=180 at each period's end
    #   customers (bought by the end):  a, b, c = 3       | a, b = 2
    #   new (first purchase in period): c = 1             | a, b = 2
    #   active (180 days to the end):   a, b, c = 3       | a, b = 2
    #   buyers:                          a, c = 2          | a, b = 2
    #   orders:                          a 2 + c 1 = 3     | 2
    #   revenue:                         30+50+20-10 = 90  | 100
    #   aov:                             90 / 3 = 30       | 50
    #   repeat rate:                     a / (a, c) = 0.5  | 0
    #   old share: a 80 + b -10 = 70 / 90                 | 0 / 100 = 0
    result = to_polars(kpi_summary(tx, as_of="2024-02-29"))
    assert result["metric"].to_list() == list(KPI_NAMES)
    assert result["current"].to_list() == pytest.approx([3, 1, 3, 2, 3, 90, 30, 0.5, 70 / 90])
    assert result["previous"].to_list() == [2, 2, 2, 2, 2, 100, 50, 0, 0]
    assert result["change"].to_list() == pytest.approx([1, -1, 1, 0, 1, -10, -20, 0.5, 70 / 90])
    rel = result["relative_change"].to_list()
    assert rel[:7] == pytest.approx([0.5, -0.5, 0.5, 0, 0.5, -0.1, -0.4])
    assert rel[7:] == [None, None]  # previous value 0: no relative change


def test_days_period_compares_with_the_days_before(tx: pd.DataFrame) -> None:
    # 10 days 02-20 .. 02-29 against 02-10 .. 02-19 (rows in KPI order):
    #   new customers c against none; buyers c (02-20) against a (02-17);
    #   revenue 20 - 10 = 10 against 50
    result = to_polars(kpi_summary(tx, as_of="2024-02-29", period=10)).filter(
        pl.col("metric").is_in(["new_customers", "buyers", "revenue"])
    )
    assert result["current"].to_list() == [1, 1, 10]
    assert result["previous"].to_list() == [0, 1, 50]


def test_parameters_are_checked(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="as_of is required"):
        kpi_summary(tx, as_of=None)
    with pytest.raises(ConfigError, match="The 'period' parameter of kpi_summary"):
        kpi_summary(tx, as_of="2024-02-29", period="month")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="The 'active_days' parameter of kpi_summary"):
        kpi_summary(tx, as_of="2024-02-29", active_days=0)


def test_engine_parity(engine: str, tx: pd.DataFrame) -> None:
    # `engine` (conftest) runs over helpers.ENGINES, Spark included: this covers the one
    # per-customer pass behind every one-row metric of retailcrm.metrics
    native = make_native(engine, tx)
    result = kpi_summary(native, as_of="2024-02-29", period="M")
    assert_same_kind(result, native)
    assert_equal_data(result, kpi_summary(tx, as_of="2024-02-29", period="M"))
