"""The engine boundary: native frame in -> narwhals LazyFrame -> same kind of native frame out.

Every public function converts its input here, computes in narwhals expressions on a
``LazyFrame`` and converts the result back with :meth:`Engine.to_native`, so that

* pandas in gives pandas out (numpy, nullable or pyarrow flavour kept),
* polars eager in gives polars eager out, polars lazy in gives polars lazy out,
* DuckDB relations and PySpark DataFrames stay in their engine (lazy results).

Eager pandas and polars inputs are routed through polars' lazy engine (ARCHITECTURE.md allows
this where results are identical): it is the fastest narwhals backend and it frees the pandas
path from pandas-specific dtype quirks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
from narwhals.exceptions import DuplicateError

from retailcrm.exceptions import ConfigError, InvalidDataError

__all__ = [
    "Engine",
    "arrow_refusals",
    "columns_of",
    "engine_of",
    "exact_quotient",
    "lazy_frame",
    "lazy_frame_reading",
    "missing_columns_error",
    "pandas_to_polars",
    "polars_through_arrow",
    "small_to_numpy",
    "unique_name",
]

Kind = Literal["pandas", "polars", "polars-lazy", "duckdb", "spark", "pyarrow", "other"]
PandasFlavour = Literal["numpy", "nullable", "pyarrow"]


def _pandas_flavour(native: Any) -> PandasFlavour:
    import pandas as pd

    dtypes = list(native.dtypes)
    if any(isinstance(d, pd.ArrowDtype) for d in dtypes):
        return "pyarrow"
    nullable = (pd.Int64Dtype, pd.Float64Dtype, pd.BooleanDtype, pd.Int32Dtype, pd.Float32Dtype)
    if any(isinstance(d, nullable) for d in dtypes):
        return "nullable"
    return "numpy"


def _nullable_type(arrow_type: Any) -> Any:
    """pandas' nullable dtype for an Arrow type (``None``: pandas' default)."""
    import pandas as pd
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype() if pa.types.is_signed_integer(arrow_type) else pd.UInt64Dtype()
    if pa.types.is_floating(arrow_type):
        return pd.Float64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pd.StringDtype()
    return None


@attrs.frozen
class Engine:
    """How a caller's frame came in, so results can go back out as the same kind.

    Attributes
    ----------
    kind : str
        ``"pandas"``, ``"polars"``, ``"polars-lazy"``, ``"duckdb"``, ``"spark"``, ``"pyarrow"``
        or ``"other"`` (another narwhals-supported lazy backend).
    pandas_flavour : str
        For pandas input: ``"numpy"``, ``"nullable"`` or ``"pyarrow"`` dtypes.
    """

    kind: Kind
    pandas_flavour: PandasFlavour = "numpy"

    @property
    def is_lazy(self) -> bool:
        """True when results stay lazy (polars lazy, DuckDB, Spark)."""
        return self.kind in ("polars-lazy", "duckdb", "spark", "other")

    @property
    def has_row_labels(self) -> bool:
        """True when rows have stable labels to report (pandas index, polars row position)."""
        return self.kind in ("pandas", "polars", "pyarrow")

    def to_native(self, frame: nw.LazyFrame[Any] | nw.DataFrame[Any]) -> Any:
        """Return ``frame`` as the caller's kind of native frame."""
        if self.is_lazy:
            lf = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
            return lf.to_native()
        df = collect_polars(frame) if isinstance(frame, nw.LazyFrame) else frame
        pl_df = df.to_native()
        if self.kind == "polars":
            return pl_df
        if self.kind == "pyarrow":
            return pl_df.to_arrow()
        if self.pandas_flavour == "pyarrow":
            return pl_df.to_pandas(use_pyarrow_extension_array=True)
        table = pl_df.to_arrow()
        del df, pl_df  # the Arrow table alone holds the columns: each is freed once converted
        if self.pandas_flavour == "nullable":
            return table.to_pandas(
                types_mapper=_nullable_type,
                date_as_object=False,
                self_destruct=True,
                split_blocks=True,
            )
        # what polars' to_pandas does, but one column at a time (its peak is the whole table
        # twice: 230 MiB over the result for 830k customers' features)
        return table.to_pandas(date_as_object=False, self_destruct=True, split_blocks=True)

    def small_native(self, table: Any, like: Any) -> Any:
        """A small eager polars ``table`` (a summary, a coverage table, per-customer values)
        as the caller's kind of frame; ``like`` is the caller's native input.

        The one rule for small results: the caller's kind everywhere. Eager callers get their
        eager kind (pandas flavour kept); lazy engines a lazy frame: polars lazy a
        ``LazyFrame``, Spark a DataFrame of ``like``'s session, DuckDB a relation on
        ``like``'s own connection (so it joins with the caller's relations), or on DuckDB's
        default connection when that cannot be found.
        """
        if not self.is_lazy:
            return self.to_native(nw.from_native(table, eager_only=True))
        if self.kind == "duckdb":
            import duckdb

            con = getattr(like, "_con", None)
            if con is not None and hasattr(con, "from_arrow"):
                return con.from_arrow(table.to_arrow())
            return duckdb.from_arrow(table.to_arrow())
        if self.kind == "spark":
            return _spark_frame(like.sparkSession, table)
        return table.lazy()

    def collect_small(self, frame: nw.LazyFrame[Any]) -> nw.DataFrame[Any]:
        """Collect a *small* result (a summary, a few example rows) into polars."""
        return collect_polars(frame)


def collect_polars(frame: nw.LazyFrame[Any]) -> nw.DataFrame[Any]:
    """Run a lazy plan and bring its (small) result into polars: the one way internal results
    leave a lazy frame (use it as ``frame.pipe(collect_polars)``).

    A polars plan runs on polars' streaming engine, which reads a ``scan_parquet`` source in
    batches, so a check over a table larger than memory stays within memory (polars runs the
    parts of a plan it cannot stream in memory, by itself). DuckDB and Spark plans run in
    their own engine; only the result is converted.
    """
    if frame.implementation is nw.Implementation.POLARS:
        return frame.collect("polars", engine="streaming")
    return frame.collect("polars")


def _spark_frame(session: Any, table: Any) -> Any:
    """A small eager polars ``table`` as a Spark DataFrame of ``session``.

    Through Arrow, so that the schema comes from the table's dtypes: an empty result or an
    all-null column keeps its type (inferring the schema from pandas rows fails on both).
    Categoricals go as strings (Spark has no dictionary type).
    """
    import polars as pl

    strings = [
        pl.col(name).cast(pl.String)
        for name, dtype in table.schema.items()
        if dtype == pl.Categorical or isinstance(dtype, pl.Enum)
    ]
    if strings:
        table = table.with_columns(strings)
    return session.createDataFrame(table.to_arrow())


def unique_name(base: str, taken: Any) -> str:
    """A helper-column name starting with ``base`` that is not in ``taken`` (the frame's
    columns), so it can never clash with a caller's column: underscores are appended."""
    names = set(taken)
    while base in names:
        base += "_"
    return base


def missing_columns_error(
    missing: dict[str, str],
    available: Any,
    *,
    table: str,
    schema: str,
    explicit: Any = (),
) -> Any:
    """The one builder of :class:`~retailcrm.exceptions.MissingColumnsError` for an input
    table: ``missing`` maps role -> the column that is absent; the fix names the schema
    mapping to write, with the closest existing column where there is one, and offers
    ``role=None`` for explicitly mapped optional roles."""
    from retailcrm.exceptions import MissingColumnsError

    columns = [str(c) for c in available]
    cols = list(missing.values())
    hints = MissingColumnsError(cols, available=columns).hints
    mapping = ", ".join(f"{r}={hints.get(c, '<your column>')!r}" for r, c in missing.items())
    unmap = [r for r in missing if r in set(explicit)]
    also = (
        f" (or {', '.join(f'{r}=None' for r in unmap)} if the table has no such column)"
        if unmap
        else ""
    )
    return MissingColumnsError(
        cols,
        available=columns,
        role=table,
        fix=f"rename the column(s) or map them with {schema}({mapping}){also}.",
    )


def small_to_numpy(frame: Any, columns: Sequence[str]) -> dict[str, Any]:
    """Columns of a *small* result (a summary, unique (x, t_x, T) rows) of any engine as numpy
    arrays, for scipy and scikit-learn: the one place where results leave the engine."""
    import numpy as np

    nw_frame = frame if isinstance(frame, nw.DataFrame | nw.LazyFrame) else nw.from_native(frame)
    if isinstance(nw_frame, nw.LazyFrame):
        nw_frame = collect_polars(nw_frame)
    return {c: np.asarray(nw_frame.get_column(c).to_numpy()) for c in columns}


def pandas_to_polars(native: Any, *, name: str = "frame") -> nw.LazyFrame[Any]:
    """A pandas DataFrame as a polars-backed narwhals LazyFrame, through Arrow.

    Arrow shares numeric buffers and arrow-backed strings with pandas; measured on 12M lines,
    the peak of the conversion is a third of ``polars.from_pandas``'s (560 MiB against
    1.3-1.7 GiB). Object columns Arrow cannot type fall back to narwhals' own conversion; a
    column neither can hold (mixed kinds, complex numbers) is an :class:`InvalidDataError`
    naming it.
    """
    frame = polars_through_arrow(native)
    if frame is None:
        try:
            return nw.from_native(native, eager_only=True).lazy(backend="polars")
        except arrow_refusals() as exc:
            raise _unconvertible(native, name) from exc
    return nw.from_native(frame.lazy())


def polars_through_arrow(native: Any) -> Any:
    """Every column of a pandas frame as a polars DataFrame (through Arrow, which shares
    numeric buffers and Arrow-backed text), or ``None`` if Arrow refuses a column."""
    import polars as pl
    import pyarrow as pa

    try:
        frame = pl.from_arrow(pa.Table.from_pandas(native, preserve_index=False))
    except arrow_refusals():
        return None
    assert isinstance(frame, pl.DataFrame)  # a Table gives a DataFrame
    return frame


def _unconvertible(native: Any, name: str) -> InvalidDataError:
    """The error for a pandas frame with columns polars cannot hold, naming them."""
    import polars as pl

    bad = []
    for col in native.columns:
        try:
            pl.from_pandas(native[[col]].head(1000))
        except arrow_refusals():
            bad.append(f"{col!r} ({native[col].dtype})")
    which = f"column{'s' if len(bad) > 1 else ''} {', '.join(bad)}" if bad else "a column"
    return InvalidDataError(
        f"{name}: {which} cannot be converted to Arrow or polars (values of mixed kinds, such "
        "as numbers and text, or of a kind neither has, such as complex numbers). Fix: drop "
        "the column or convert it to one type first, e.g. df[col].astype(str)."
    )


def arrow_refusals() -> tuple[type[Exception], ...]:
    """The errors with which Arrow refuses a pandas column it cannot type (mixed objects,
    complex numbers, ...): the callers fall back to a slower conversion or comparison."""
    import pyarrow as pa

    return (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError)


def engine_of(native: Any, *, name: str = "tx") -> Engine:
    """The :class:`Engine` of a caller's frame (see :func:`lazy_frame`)."""
    return lazy_frame(native, name=name, columns=())[1]


def lazy_frame(
    native: Any, *, name: str = "tx", columns: Sequence[str] | None = None
) -> tuple[nw.LazyFrame[Any], Engine]:
    """Convert a caller's frame to a narwhals ``LazyFrame`` and remember its kind.

    Parameters
    ----------
    native : dataframe
        pandas or polars DataFrame, polars LazyFrame, pyarrow Table, DuckDB relation or PySpark
        DataFrame (anything narwhals supports), or an already-wrapped narwhals frame.
    name : str
        The parameter name, used in error messages.
    columns : sequence of str, optional
        Only these columns are converted (pandas inputs are narrowed before conversion, which
        saves memory on wide frames).
    """
    if isinstance(native, nw.DataFrame | nw.LazyFrame):
        native = native.to_native()
    try:
        frame = nw.from_native(native)
    except DuplicateError as exc:
        from collections import Counter

        counts = Counter(str(c) for c in getattr(native, "columns", []))
        dups = ", ".join(
            f"column {k!r} appears more than once ({v} times)" for k, v in counts.items() if v > 1
        )
        raise InvalidDataError(
            f"{name}: {dups or 'duplicate column names'}. Fix: give each column a unique name."
        ) from exc
    except TypeError as exc:
        raise ConfigError(
            f"{name}: expected a dataframe (pandas, polars, pyarrow, DuckDB or PySpark), got "
            f"{type(native).__name__}. Fix: pass a dataframe, e.g. pandas.DataFrame(records)."
        ) from exc
    impl = frame.implementation
    if isinstance(frame, nw.DataFrame):
        if impl.is_pandas():
            engine = Engine("pandas", _pandas_flavour(native))
            if columns is not None:
                native = native.loc[:, [c for c in native.columns if c in set(columns)]]
            return pandas_to_polars(native, name=name), engine
        if impl.is_polars():
            return frame.lazy(), Engine("polars")
        if impl.is_pyarrow():
            return frame.lazy(backend="polars"), Engine("pyarrow")
        return frame.lazy(backend="polars"), Engine("pandas")
    if impl.is_polars():
        return frame, Engine("polars-lazy")
    if impl.is_duckdb():
        return frame, Engine("duckdb")
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return frame, Engine("spark")
    return frame, Engine("other")


def lazy_frame_reading(
    native: Any,
    columns: Sequence[str],
    *,
    name: str = "features",
    complete: Callable[[Any], bool] | None = None,
) -> tuple[nw.LazyFrame[Any], Engine]:
    """:func:`lazy_frame` narrowed to the ``columns`` a function reads: a pandas frame's other
    columns are neither converted (copied) nor able to fail the conversion. When the narrowed
    frame is not ``complete`` (a function of its schema; default: every one of ``columns`` is
    there), the whole frame instead, so that the error about what is missing names every
    column — unless another column cannot be converted: then the narrowed frame, so that the
    error is still about what is missing."""
    wanted = list(dict.fromkeys(columns))
    lf, engine = lazy_frame(native, name=name, columns=wanted)
    schema = lf.collect_schema()
    ok = complete(schema) if complete is not None else set(wanted) <= set(schema.names())
    if ok:
        return lf, engine
    try:
        return lazy_frame(native, name=name)
    except InvalidDataError:
        return lf, engine


def exact_quotient(numerator: nw.Expr, divisor: float) -> nw.Expr:
    """``numerator / divisor`` as Float64, correctly rounded on every engine.

    polars divides a column by a constant by multiplying with the constant's reciprocal, which
    can differ from true division in the last bit (29 / 7); DuckDB and Spark divide. Dividing
    by a column equal to the constant makes every engine divide, so results agree to the bit.
    The numerator must be finite (sums of minor units, day counts).
    """
    num = numerator.cast(nw.Float64)
    return num / (num * 0.0 + float(divisor))


def columns_of(native: Any, *, name: str | None = None) -> list[str]:
    """The column names of a caller's frame; with ``name``, a frame that is no dataframe or
    has repeated column names raises our errors first."""
    if name is not None:
        engine_of(native, name=name)
    frame = nw.from_native(native)
    if isinstance(frame, nw.LazyFrame):
        return [str(c) for c in frame.collect_schema().names()]
    return [str(c) for c in frame.columns]


def sql_name(name: str) -> str:
    """A column name quoted for DuckDB's SQL."""
    return '"' + name.replace('"', '""') + '"'


def with_row_hash(frame: nw.LazyFrame[Any], names: list[str], key: str) -> Any:
    """``frame`` with a 64-bit hash of the columns ``names`` as column ``key`` (polars: the
    hash of a struct of the line; DuckDB: ``hash(...)``; Spark: ``xxhash64(...)``), or
    ``None`` for a backend without one. Equal lines hash equal; unequal lines rarely do, so a
    caller compares exactly the lines whose hash is shared."""
    native = frame.to_native()
    impl = frame.implementation
    if impl is nw.Implementation.POLARS:
        import polars as pl

        hashed = pl.struct([pl.col(c) for c in names]).hash(seed=0).alias(key)
        return nw.from_native(native.with_columns(hashed))
    if impl is nw.Implementation.DUCKDB:
        columns = ", ".join(sql_name(c) for c in names)
        return nw.from_native(native.project(f"*, hash({columns}) AS {sql_name(key)}"))
    if impl in (nw.Implementation.PYSPARK, nw.Implementation.PYSPARK_CONNECT):
        from pyspark.sql import functions as F

        return nw.from_native(native.withColumn(key, F.xxhash64(*[native[c] for c in names])))
    return None


def shared_values(frame: nw.LazyFrame[Any], key: str) -> nw.LazyFrame[Any]:
    """The values of column ``key`` that more than one row has, once each (column ``key``).

    Polars sorts the column and compares neighbours (measured on 100M line hashes: 13 s and
    1.3 GiB, where a group-by took 23 s and 7 GiB); DuckDB and Spark group by it (and spill).
    """
    if frame.implementation is nw.Implementation.POLARS:
        import polars as pl

        ordered = frame.to_native().select(key).sort(key)
        return nw.from_native(ordered.filter(pl.col(key) == pl.col(key).shift(1)).unique())
    n = unique_name("__n__", [key])
    return frame.group_by(key).agg(nw.len().alias(n)).filter(nw.col(n) > 1).select(key)


def keys_with_several_values(
    frame: nw.LazyFrame[Any], *, key: str, value: str
) -> nw.LazyFrame[Any]:
    """The values of ``key`` that come with more than one distinct ``value`` (column ``key``;
    polars adds helper columns).

    On polars, by the smallest and largest 64-bit hash of ``value`` per key (measured on 100M
    lines, order ids against customer ids: 14 s and 4.0 GiB, where counting distinct values
    took 18 s and 7.8 GiB): different hashes are different values; two values of one key
    would only be missed if their hashes collided (odds about one in 2**64 per pair). Other
    engines count distinct values.
    """
    if frame.implementation is nw.Implementation.POLARS:
        import polars as pl

        low, high = unique_name("__low__", [key]), unique_name("__high__", [key])
        hashed = pl.col(value).hash(seed=0)
        spans = (
            frame.to_native()
            .group_by(key)
            .agg(hashed.min().alias(low), hashed.max().alias(high))
            .filter(pl.col(low) != pl.col(high))
        )
        return nw.from_native(spans)
    n = unique_name("__n__", [key])
    return frame.group_by(key).agg(nw.col(value).n_unique().alias(n)).filter(nw.col(n) > 1)
