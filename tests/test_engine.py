"""The engine boundary: results come back as the caller's kind and flavour."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from polars.io.plugins import register_io_source

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
AS_OF = "2024-03-01"


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


# A customer whose purchase reaches the source after the call: a result that was not computed
# yet counts them.
LATE = pd.DataFrame(
    {"customer_id": [3], "timestamp": pd.to_datetime(["2024-02-10"]), "amount": [9.0]}
)


def test_lazy_stays_lazy_and_is_not_collected() -> None:
    """A polars LazyFrame out is a plan over the caller's source, run when the caller collects:
    the same result collected before and after the source changes gives two answers."""
    current = {"frame": pl.from_pandas(TX)}

    def read(
        with_columns: list[str] | None, predicate: Any, n_rows: int | None, batch_size: Any
    ) -> Iterator[pl.DataFrame]:
        frame = current["frame"]
        if with_columns is not None:
            frame = frame.select(with_columns)
        if predicate is not None:
            frame = frame.filter(predicate)
        yield frame if n_rows is None else frame.head(n_rows)

    out = customer_features(register_io_source(read, schema=current["frame"].schema), as_of=AS_OF)
    assert isinstance(out, pl.LazyFrame)
    assert out.collect()["frequency"].to_list() == [1, 2]
    current["frame"] = pl.concat([current["frame"], pl.from_pandas(LATE)])
    assert out.collect()["frequency"].to_list() == [1, 2, 1]


def test_duckdb_stays_a_relation_and_is_not_run() -> None:
    """A DuckDB relation out is a query over the caller's table, run each time the caller
    fetches it."""
    duckdb = pytest.importorskip("duckdb")
    with duckdb.connect() as con:
        con.from_df(TX).create("tx")
        out = customer_features(con.table("tx"), as_of=AS_OF)
        assert isinstance(out, duckdb.DuckDBPyRelation)
        assert out.pl()["frequency"].to_list() == [1, 2]
        con.execute("insert into tx values (3, TIMESTAMP '2024-02-10', 9.0)")
        assert out.pl()["frequency"].to_list() == [1, 2, 1]
