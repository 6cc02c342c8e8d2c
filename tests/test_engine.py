"""The engine boundary: results come back as the caller's kind and flavour."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from helpers import make_native
from retailcrm import customer_features
from retailcrm._engine import engine_of

TX = pd.DataFrame(
    {
        "customer_id": [1, 2, 2],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-02-01"]),
        "amount": [5.0, 6.0, 7.0],
    }
)


@pytest.mark.parametrize(
    ("engine", "kind"),
    [
        ("pandas-numpy", "pandas"),
        ("pandas-nullable", "pandas"),
        ("pandas-pyarrow", "pandas"),
        ("polars-eager", "polars"),
        ("polars-lazy", "polars-lazy"),
        ("duckdb", "duckdb"),
    ],
)
def test_engine_kind(engine: str, kind: str) -> None:
    assert engine_of(make_native(engine, TX)).kind == kind


def test_pandas_flavour_is_kept() -> None:
    numpy_out = customer_features(TX, as_of="2024-03-01")
    assert numpy_out["frequency"].dtype == "int64"
    nullable = customer_features(make_native("pandas-nullable", TX), as_of="2024-03-01")
    assert str(nullable["frequency"].dtype) == "Int64"
    arrow = customer_features(make_native("pandas-pyarrow", TX), as_of="2024-03-01")
    assert isinstance(arrow["frequency"].dtype, pd.ArrowDtype)


def test_pyarrow_table_in_table_out() -> None:
    out = customer_features(pa.Table.from_pandas(TX), as_of="2024-03-01")
    assert isinstance(out, pa.Table) and out.num_rows == 2


def test_lazy_stays_lazy_and_is_not_collected() -> None:
    out = customer_features(pl.from_pandas(TX).lazy(), as_of="2024-03-01")
    assert isinstance(out, pl.LazyFrame)
    assert out.collect()["frequency"].to_list() == [1, 2]
