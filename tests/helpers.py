"""Engine helpers shared by the tests (importable as ``helpers``: pytest puts tests/ on the path).

``make_native(engine, reference)`` turns a pandas DataFrame (built with numpy dtypes, the
reference) into the native frame of one engine: pandas with numpy / nullable / pyarrow dtypes,
polars eager and lazy, DuckDB, and PySpark (skipped with a reason when pyspark or Java is
missing). ``to_polars`` brings any result back to an eager polars frame, and
``assert_equal_data`` — the one comparison helper of the tests — compares a result of any engine
with an expected frame or a dict of columns.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import polars as pl
import polars.testing
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

ENGINES = [
    "pandas-numpy",
    "pandas-nullable",
    "pandas-pyarrow",
    "polars-eager",
    "polars-lazy",
    "duckdb",
    pytest.param("spark", marks=pytest.mark.spark),
]
#: Every engine but Spark: for per-module engine-parity tests of functions whose Spark case is
#: in the parity catalogue (tests/test_parity.py), so each costs one Spark run, not two.
LOCAL_ENGINES = [e for e in ENGINES if isinstance(e, str)]

_SPARK: Any = None
_DUCKDB: Any = None


def duckdb_connection() -> Any:
    """One DuckDB connection for the whole run (relations of different connections cannot
    be joined)."""
    global _DUCKDB
    if _DUCKDB is None:
        duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
        _DUCKDB = duckdb.connect()
    return _DUCKDB


def spark_session() -> Any:
    """A shared local Spark session (started once, on first use)."""
    global _SPARK
    if _SPARK is None:
        pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is not installed")
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.skip("Spark tests need Java: none found on PATH or in JAVA_HOME")
        _SPARK = (
            pyspark_sql.SparkSession.builder.master("local[2]")
            .appName("retailcrm-tests")
            .config("spark.ui.enabled", "false")
            # small data: one partition, no adaptive planning and no code generation make the
            # many small jobs of the tests about a third faster (results are the same)
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.default.parallelism", "1")
            .config("spark.sql.adaptive.enabled", "false")
            .config("spark.sql.codegen.wholeStage", "false")
            .config("spark.sql.codegen.factoryMode", "NO_CODEGEN")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
            .config("spark.driver.memory", "2g")
            # the smallest allowed: every Spark test proves nothing large reaches the driver
            .config("spark.driver.maxResultSize", "1m")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        _SPARK.sparkContext.setLogLevel("OFF")
    return _SPARK


def make_native(engine: str, data: pd.DataFrame) -> Any:
    """Build ``engine``'s native frame from a pandas reference frame."""
    if engine == "pandas-numpy":
        return data.copy()
    if engine == "pandas-nullable":
        return data.convert_dtypes(dtype_backend="numpy_nullable")
    if engine == "pandas-pyarrow":
        return data.convert_dtypes(dtype_backend="pyarrow")
    pl_df = pl.from_pandas(data)
    if engine == "polars-eager":
        return pl_df
    if engine == "polars-lazy":
        return pl_df.lazy()
    if engine == "duckdb":
        return duckdb_connection().from_arrow(pl_df.to_arrow())
    if engine == "spark":
        spark = spark_session()
        return spark.createDataFrame(pl_df.to_pandas())
    raise ValueError(engine)


def to_polars(result: Any) -> pl.DataFrame:
    """Any supported native result (eager or lazy) as an eager polars DataFrame."""
    frame = nw.from_native(result)
    if isinstance(frame, nw.LazyFrame):
        return frame.collect("polars").to_native()
    if frame.implementation.is_pandas():
        native = frame.to_native()
        return pl.from_pandas(native.reset_index(drop=True))
    return (
        frame.to_native() if frame.implementation.is_polars() else pl.from_arrow(frame.to_arrow())
    )


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalise the dtypes that legitimately differ between engines, keeping every value."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.Date:  # numpy pandas has no date dtype: a midnight datetime
            out.append(col.cast(pl.Datetime("us")))
        elif isinstance(dtype, pl.Datetime):
            out.append(col.dt.cast_time_unit("us"))
        elif dtype.is_numeric():  # numpy pandas has no missing integers: floats with NaN
            out.append(col.cast(pl.Float64).fill_nan(None))
        elif dtype in (pl.Categorical, pl.Object) or isinstance(dtype, pl.Enum):
            out.append(col.cast(pl.String))
        else:
            out.append(col)
    return frame.select(out)


def assert_equal_data(
    result: Any,
    expected: Any,
    *,
    exact: bool = False,
    rel_tol: float = 1e-9,
    abs_tol: float = 1e-9,
) -> None:
    """``result`` (a frame of any engine, eager or lazy) holds the data of ``expected`` (a frame
    of any engine, or a dict of column name to values).

    Same columns in the same order, same rows in the same order (a pandas index is ignored),
    equal values up to what engines legitimately differ on: integers and floats compare as
    numbers with NaN and null both missing, a date equals its midnight datetime, categorical
    and object columns compare as text. Floats agree within ``rel_tol``/``abs_tol``, or bit for
    bit with ``exact=True``.
    """
    got = _comparable(to_polars(result))
    frame = pl.DataFrame(dict(expected)) if isinstance(expected, Mapping) else to_polars(expected)
    want = _comparable(frame)
    assert got.columns == want.columns, (got.columns, want.columns)
    polars.testing.assert_frame_equal(
        got, want, check_dtypes=False, check_exact=exact, rel_tol=rel_tol, abs_tol=abs_tol
    )


def assert_same_kind(result: Any, native_input: Any) -> None:
    """The result is the caller's kind of frame (pandas in, pandas out; lazy stays lazy)."""
    if isinstance(native_input, pd.DataFrame):
        assert isinstance(result, pd.DataFrame), type(result)
    elif isinstance(native_input, pl.DataFrame):
        assert isinstance(result, pl.DataFrame), type(result)
    elif isinstance(native_input, pl.LazyFrame):
        assert isinstance(result, pl.LazyFrame), type(result)
    else:
        assert (
            type(result).__module__.split(".")[0] == type(native_input).__module__.split(".")[0]
        ), (type(result), type(native_input))
