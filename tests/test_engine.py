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


def test_pandas_results_are_what_polars_to_pandas_gives() -> None:
    """Engine.to_native converts one column at a time (Arrow's self_destruct): the result
    must be exactly polars' own to_pandas, every dtype and null included; the frame handed
    in stays intact."""
    import datetime as dt

    import narwhals.stable.v2 as nw

    from retailcrm._engine import Engine

    frame = pl.DataFrame(
        {
            "text": ["a", None, "c"],
            "day": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)],
            "count": [1, None, 3],
            "whole": [1, 2, 3],
            "share": [1.0, None, 2.5],
            "flag": [True, None, False],
            "at": [dt.datetime(2024, 1, 1, 8), None, dt.datetime(2024, 1, 2)],
            "label": pl.Series(["x", "y", "x"], dtype=pl.Enum(["y", "x"])),
            "gap": [dt.timedelta(days=1), None, dt.timedelta(0)],
        }
    )
    kept = frame.clone()
    got = Engine("pandas", "numpy").to_native(nw.from_native(frame))
    pd.testing.assert_frame_equal(got, frame.to_pandas())
    got = Engine("pandas", "numpy").to_native(nw.from_native(frame.lazy()))
    pd.testing.assert_frame_equal(got, frame.to_pandas())
    assert frame.equals(kept)


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


LAZY_ENGINES = ["polars-lazy", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]
#: column names a SQL engine must quote: Chinese, a space, a double quote
ODD_NAMES = ["订单 号", 'say "hi"']


def _lazy(engine: str, data: pd.DataFrame) -> Any:
    import narwhals.stable.v2 as nw

    return nw.from_native(make_native(engine, data))


def _sorted_column(frame: Any, column: str) -> list[Any]:
    from retailcrm._engine import collect_polars

    return sorted(frame.select(column).pipe(collect_polars).get_column(column).to_list())


@pytest.mark.parametrize("engine", LAZY_ENGINES)
def test_shared_values_finds_the_values_of_several_rows(engine: str) -> None:
    from retailcrm._engine import shared_values

    data = pd.DataFrame({"__n__": [5, 1, 2, 2, 3, 3, 3, 4]})  # a name the helper must avoid
    assert _sorted_column(shared_values(_lazy(engine, data), "__n__"), "__n__") == [2, 3]


@pytest.mark.parametrize("engine", LAZY_ENGINES)
def test_keys_with_several_values(engine: str) -> None:
    from retailcrm._engine import keys_with_several_values

    data = pd.DataFrame(
        {
            ODD_NAMES[0]: ["a", "a", "b", "b", "c", "d", "d"],
            "客户": ["x", "y", "z", "z", "w", "v", "u"],
        }
    )
    got = keys_with_several_values(_lazy(engine, data), key=ODD_NAMES[0], value="客户")
    assert _sorted_column(got, ODD_NAMES[0]) == ["a", "d"]


@pytest.mark.parametrize("engine", LAZY_ENGINES)
def test_row_hash_and_lazy_repeats_with_names_sql_must_quote(engine: str) -> None:
    """Equal lines hash equal, and the lazy duplicate count is exact, whatever the column
    names (DuckDB's hash is built as SQL text)."""
    from retailcrm._engine import collect_polars, with_row_hash
    from retailcrm.data._prepare import _lazy_repeats

    data = pd.DataFrame({ODD_NAMES[0]: [1, 1, 2, 1, 3], ODD_NAMES[1]: ["p", "p", "p", "q", "p"]})
    hashed = with_row_hash(_lazy(engine, data), ODD_NAMES, "h").pipe(collect_polars)
    hashes: dict[tuple[Any, ...], set[int]] = {}
    for *line, h in hashed.select(*ODD_NAMES, "h").iter_rows():
        hashes.setdefault(tuple(line), set()).add(h)
    assert all(len(v) == 1 for v in hashes.values())  # equal lines, one hash
    assert len(set().union(*hashes.values())) == len(hashes) == 4  # four lines, four hashes
    assert _lazy_repeats(_lazy(engine, data)) == 1


def test_a_column_no_engine_can_hold_is_named() -> None:
    """Arrow refuses complex numbers (ArrowNotImplementedError) and mixed objects
    (ArrowInvalid), and polars, converting through Arrow, too: a pandas frame with such a
    column is our InvalidDataError naming it and its dtype, not pyarrow's "Unsupported numpy
    type 15" or "Could not convert 'x' with type str"."""
    import numpy as np

    from retailcrm._engine import lazy_frame
    from retailcrm.exceptions import InvalidDataError

    frame = pd.DataFrame({"id": ["a", "b"], "z": np.array([1j, 2 + 0j]), "x": [1.0, 2.0]})
    with pytest.raises(InvalidDataError, match=r"features: column 'z' \(complex128\).*Fix: drop"):
        lazy_frame(frame, name="features")
    mixed = pd.DataFrame({"id": ["a", "b"], "m": [1, "x"], "n": [2, "y"]})
    with pytest.raises(InvalidDataError, match=r"tx: columns 'm' \(object\), 'n' \(object\)"):
        lazy_frame(mixed, name="tx")
    lf, _ = lazy_frame(mixed[["id"]], name="tx")
    assert lf.collect().to_native().get_column("id").to_list() == ["a", "b"]


def test_a_frame_read_for_some_columns_is_narrowed_unless_one_is_missing() -> None:
    """Only the columns read are converted (an unconvertible other column is never touched);
    when one of them is missing, the whole frame is converted, so the error names them all
    (or, when another column cannot be converted, the narrowed frame)."""
    import numpy as np

    from retailcrm._engine import lazy_frame_reading

    frame = pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0], "z": np.array([1j, 2j])})
    lf, engine = lazy_frame_reading(frame, ["id", "x", "id"])
    assert lf.collect_schema().names() == ["id", "x"] and engine.kind == "pandas"
    lf, _ = lazy_frame_reading(frame.drop(columns="z"), ["id", "nope"])
    assert lf.collect_schema().names() == ["id", "x"]
    # another column cannot be converted: the narrowed frame, so the error is about "nope"
    lf, _ = lazy_frame_reading(frame, ["id", "nope"])
    assert lf.collect_schema().names() == ["id"]
    lf, _ = lazy_frame_reading(frame, ["id", "nope"], complete=lambda schema: "id" in schema)
    assert lf.collect_schema().names() == ["id"]
