"""validate_transactions: every problem at once, on every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import make_native
from retailcrm import validate_transactions
from retailcrm.data import TransactionSchema
from retailcrm.exceptions import InvalidDataError, MissingColumnsError


def messy() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{(i // 2) % 9}" for i in range(n)],
            "order_id": np.arange(n) // 2,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) * 5, unit="D"),
            "amount": np.round(rng.lognormal(3, 0.4, n), 2),
        }
    )
    frame.loc[3, "amount"] = 0.0
    frame.loc[4, "amount"] = -12.5
    frame.loc[5, "amount"] = 250_000.0  # extreme
    frame.loc[7, "customer_id"] = "c0"  # order 3 now spans two customers
    frame.loc[10] = frame.loc[9]  # exact duplicate
    return frame


def test_report_lists_warnings_with_counts_rows_and_fixes() -> None:
    report = validate_transactions(messy(), as_of="2024-06-30")
    assert report.ok
    assert set(report.codes) == {
        "zero_amount",
        "negative_amount",
        "extreme_amount",
        "duplicate_lines",
        "after_as_of",
        "order_spans_customers",
    }
    assert report["zero_amount"].rows == (3,)
    assert report["extreme_amount"].rows == (5,) and report["extreme_amount"].examples == (
        250000.0,
    )
    assert report["duplicate_lines"].rows == (10,)
    assert report["after_as_of"].count == 60 - 37  # days 0..180 kept: rows 0..36
    assert report["order_spans_customers"].examples == (3,)
    assert report["negative_amount"].severity == "info"
    frame = report.to_frame()
    assert list(frame.columns)[:4] == ["code", "severity", "column", "count"]
    assert "Fix:" in str(report)


def test_engines_agree_on_counts(engine: str) -> None:
    expected = validate_transactions(messy(), as_of="2024-06-30")
    got = validate_transactions(make_native(engine, messy()), as_of="2024-06-30")
    assert {p.code: p.count for p in got} == {p.code: p.count for p in expected}


def test_errors_are_reported_together_and_raised_on_request() -> None:
    tx = messy()
    tx["amount"] = tx["amount"].astype(object)
    tx.loc[1, "amount"] = "n/a"
    tx.loc[2, "customer_id"] = None
    report = validate_transactions(tx)
    assert not report.ok
    assert [p.code for p in report.errors] == ["amount_not_numeric", "customer_id_null"]
    with pytest.raises(InvalidDataError, match="2 problems") as info:
        report.raise_for_errors()
    assert [p.code for p in info.value.problems] == ["amount_not_numeric", "customer_id_null"]


def test_missing_columns_are_a_report_entry_and_raise_key_error() -> None:
    report = validate_transactions(messy().drop(columns=["amount", "timestamp"]))
    assert report.codes == ("missing_columns",)
    with pytest.raises(MissingColumnsError, match="missing columns 'timestamp', 'amount'"):
        report.raise_for_errors()


def test_lazy_engines_identify_rows_by_something_findable() -> None:
    """Lazy engines have no row labels: examples are values of the first identifying column
    the offending rows have — a null customer id is found by its order id, never ``[None]``."""
    import polars as pl

    tx = pl.from_pandas(messy()).with_columns(
        pl.when(pl.col("order_id") == 1)
        .then(None)
        .otherwise(pl.col("customer_id"))
        .alias("customer_id")
    )
    report = validate_transactions(tx.lazy())
    problem = report["customer_id_null"]
    assert problem.count == 2 and problem.rows == () and problem.examples_of == "order_id"
    assert problem.examples == (1,) and None not in problem.examples
    assert "e.g. order_id [1]" in problem.describe()
    for other in report:
        assert None not in other.examples, other
    eager = validate_transactions(tx)["customer_id_null"]
    assert eager.rows == (2, 3)


def test_schema_mapping_names_the_callers_column() -> None:
    tx = messy().rename(columns={"amount": "total"})
    tx.loc[0, "total"] = np.nan
    report = validate_transactions(tx, schema=TransactionSchema(amount="total"))
    assert report["amount_null"].column == "total"
