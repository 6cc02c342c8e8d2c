"""The time rule: every engine reads a time column into the same naive wall-clock time.

retailcrm counts calendar days, so what matters is the *local date and time* of each value.
The rule, the same on pandas, polars, DuckDB and Spark and whatever the session time zone of
DuckDB or Spark:

* naive datetimes, plain dates and ISO text without an offset are wall-clock times already:
  they are taken as written, never shifted;
* aware datetimes and ISO text with an offset (``Z``, ``+08:00``, ``+0800``) are *instants*.
  With a ``timezone`` (``TransactionSchema(timezone="Asia/Shanghai")``) they are shown in that
  zone's wall-clock time. Without one, text keeps the wall-clock time of its own offset
  (``"2024-03-01T05:00:00+08:00"`` is 1 March, 05:00) and an aware pandas or polars column
  keeps the zone its dtype carries. DuckDB ``TIMESTAMPTZ`` and Spark ``TIMESTAMP`` values
  carry no zone of their own (only a session display setting), so without a ``timezone``
  they are read in UTC, and the caller is told so;
* one column may not mix offset and plain values (``mixed_timezones``).

Conversions of instants to wall-clock time are written per engine here (narwhals' DuckDB and
Spark time-zone operations go through the session time zone); everything else is narwhals.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._engine import Engine, unique_name
from retailcrm.exceptions import ConfigError

__all__ = [
    "ISO_LOCAL_RE",
    "ISO_OFFSET_RE",
    "ISO_RE",
    "ClockReading",
    "has_offset",
    "has_plain_time",
    "is_iso_text",
    "wall_clock",
]

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
_OFFSET = r"\s*(Z|[+-]\d{2}:\d{2}|[+-]\d{4})"
#: ISO text without an offset: a date, or a date and a time (seconds and fraction optional).
ISO_LOCAL_RE = rf"^{_DATE}({_TIME})?$"
#: ISO text with an offset after the time.
ISO_OFFSET_RE = rf"^{_DATE}{_TIME}{_OFFSET}$"
#: Either form.
ISO_RE = rf"^{_DATE}({_TIME}({_OFFSET})?)?$"
_OFFSET_TAIL = rf"{_OFFSET}$"
_LOCAL_HEAD = rf"^{_DATE}{_TIME}\s*"
_EPOCH_NTZ = "TIMESTAMP_NTZ'1970-01-01 00:00:00'"


@attrs.frozen
class ClockReading:
    """How a time column was read.

    Attributes
    ----------
    kind : {"date", "naive", "aware", "text"}
        The column's type.
    zone : str or None
        For aware columns: the zone whose wall-clock time was taken.
    assumed_utc : bool
        An aware DuckDB or Spark column read in UTC because no ``timezone`` was given.
    """

    kind: Literal["date", "naive", "aware", "text"]
    zone: str | None = None
    assumed_utc: bool = False


def is_iso_text(expr: nw.Expr) -> nw.Expr:
    """True where stripped text is ISO date/time text (with or without an offset)."""
    return expr.str.strip_chars().str.contains(ISO_RE)


def has_plain_time(expr: nw.Expr) -> nw.Expr:
    """True where stripped text is ISO date-time text without an offset (a plain date, having
    no time of day, is neither aware nor naive)."""
    stripped = expr.str.strip_chars()
    return stripped.str.contains(ISO_LOCAL_RE) & (stripped.str.len_chars() > 10)


def has_offset(expr: nw.Expr) -> nw.Expr:
    """True where stripped text is ISO date-time text with an offset."""
    return expr.str.strip_chars().str.contains(ISO_OFFSET_RE)


def _local_text(text: nw.Expr) -> nw.Expr:
    """``YYYY-MM-DD HH:MM:SS`` of ISO text (its offset and fraction of a second dropped)."""
    local = text.str.replace_all(_OFFSET_TAIL, "")
    n = local.str.len_chars()
    time_part = (
        nw.when(n >= 19)
        .then(local.str.slice(11, 8))
        .when(n == 16)
        .then(nw.concat_str([local.str.slice(11, 5), nw.lit(":00")]))
        .otherwise(nw.lit("00:00:00"))
    )
    return nw.concat_str([local.str.slice(0, 10), nw.lit(" "), time_part])


def wall_clock(
    lf: nw.LazyFrame[Any],
    column: str,
    *,
    timezone: str | None,
    engine: Engine,
    dtype: Any = None,
) -> tuple[nw.LazyFrame[Any], ClockReading]:
    """Replace ``column`` by its naive wall-clock time (or keep a Date column) by the rule above.

    Text that is not ISO becomes null (the caller counts those rows against the raw text);
    mixed offset/plain text is read value by value (the caller reports ``mixed_timezones``).
    """
    if dtype is None:
        dtype = lf.collect_schema()[column]
    if dtype == nw.Date:
        return lf, ClockReading("date")
    if isinstance(dtype, nw.Datetime):
        if dtype.time_zone is None:
            return lf, ClockReading("naive")
        native_zone = engine.kind not in ("duckdb", "spark", "other")
        zone = timezone or (dtype.time_zone if native_zone else "UTC")
        lf = _instant_to_local(lf, column, zone)
        return lf, ClockReading(
            "aware", zone=zone, assumed_utc=timezone is None and not native_zone
        )
    if dtype != nw.String:
        raise TypeError(dtype)  # the caller reports non-time types
    text = nw.col(column).str.strip_chars()
    ok = text.str.contains(ISO_RE)
    local = (
        nw.when(ok)
        .then(_local_text(text))
        .otherwise(nw.lit(None, nw.String))
        .str.to_datetime("%Y-%m-%d %H:%M:%S")
    )
    if timezone is None:
        return lf.with_columns(local.alias(column)), ClockReading("text")
    # instants in the caller's zone: offset text is its local time minus its offset (UTC),
    # then shown in the zone by the engine; plain text is taken as written
    names = lf.collect_schema().names()
    utc, minutes = unique_name("__retailcrm_utc", names), unique_name("__retailcrm_offset", names)
    offset = text.str.contains(ISO_OFFSET_RE)
    tail = nw.when(offset).then(  # Z, +0800, -0530; null for plain text
        text.str.replace_all(_LOCAL_HEAD, "").str.replace_all(":", "")
    )
    sign = nw.when(tail.str.slice(0, 1) == "-").then(nw.lit(-1)).otherwise(nw.lit(1))
    off_minutes = sign * (
        tail.str.slice(1, 2).cast(nw.Int64) * 60 + tail.str.slice(3, 2).cast(nw.Int64)
    )
    lf = lf.with_columns(
        nw.when(offset & (tail != "Z"))
        .then(off_minutes)
        .otherwise(nw.lit(0))
        .cast(nw.Int64)
        .alias(minutes),
        nw.when(offset).then(local).alias(utc),
        local.alias(column),
    )
    lf = _utc_to_local(lf, utc, minutes, timezone)
    lf = lf.with_columns(
        nw.when(nw.col(utc).is_null()).then(nw.col(column)).otherwise(nw.col(utc)).alias(column)
    ).drop(utc, minutes)
    return lf, ClockReading("text", zone=timezone)


def _native(lf: nw.LazyFrame[Any]) -> tuple[Any, Literal["polars", "duckdb", "spark"] | None]:
    native = lf.to_native()
    impl = nw.from_native(native).implementation
    if impl.is_polars():
        return native, "polars"
    if impl.is_duckdb():
        return native, "duckdb"
    if impl.is_pyspark() or impl.is_pyspark_connect():
        return native, "spark"
    return native, None


def _unsupported(lf: nw.LazyFrame[Any]) -> ConfigError:
    return ConfigError(
        f"time-zone-aware times on a {nw.from_native(lf.to_native()).implementation} frame are "
        "not supported: retailcrm converts them to wall-clock time on pandas, polars, DuckDB and "
        "Spark only. Fix: convert the column to naive local time (or text without an offset) "
        "in your engine first."
    )


def _duckdb_replace(native: Any, column: str, sql: str) -> Any:
    import duckdb

    cols = [
        duckdb.SQLExpression(sql).alias(c) if c == column else duckdb.ColumnExpression(c)
        for c in native.columns
    ]
    return native.select(*cols)


def _quoted(column: str, kind: str) -> str:
    if kind == "spark":
        return "`" + column.replace("`", "``") + "`"
    return '"' + column.replace('"', '""') + '"'


def _utc_to_local(lf: nw.LazyFrame[Any], column: str, minutes: str, zone: str) -> nw.LazyFrame[Any]:
    """``column`` (naive local times) minus ``minutes`` is UTC; replace it by ``zone``'s time."""
    native, kind = _native(lf)
    if kind == "polars":
        import polars as pl

        utc = (pl.col(column) - pl.duration(minutes=pl.col(minutes))).dt.replace_time_zone("UTC")
        local = utc.dt.convert_time_zone(zone).dt.replace_time_zone(None)
        return nw.from_native(native.with_columns(local.alias(column)))
    if kind is None:
        raise _unsupported(lf)
    c, m, z = _quoted(column, kind), _quoted(minutes, kind), _sql_text(zone)
    if kind == "duckdb":
        sql = f"timezone('{z}', timezone('UTC', {c} - to_minutes({m})))"
        return nw.from_native(_duckdb_replace(native, column, sql))
    from pyspark.sql import functions as F

    utc_sql = f"timestampadd(MINUTE, -{m}, {c})"
    local_sql = utc_sql if zone == "UTC" else f"convert_timezone('UTC', '{z}', {utc_sql})"
    return nw.from_native(native.withColumn(column, F.expr(local_sql)))


def _instant_to_local(lf: nw.LazyFrame[Any], column: str, zone: str) -> nw.LazyFrame[Any]:
    """Replace ``column`` (aware datetimes) by wall-clock time in ``zone``, computed without
    the session time zone."""
    native, kind = _native(lf)
    if kind == "polars":
        import polars as pl

        local = pl.col(column).dt.convert_time_zone(zone).dt.replace_time_zone(None)
        return nw.from_native(native.with_columns(local.alias(column)))
    if kind is None:
        raise _unsupported(lf)
    c, z = _quoted(column, kind), _sql_text(zone)
    if kind == "duckdb":
        return nw.from_native(_duckdb_replace(native, column, f"timezone('{z}', {c})"))
    from pyspark.sql import functions as F

    utc_sql = f"timestampadd(MICROSECOND, unix_micros({c}), {_EPOCH_NTZ})"
    local_sql = utc_sql if zone == "UTC" else f"convert_timezone('UTC', '{z}', {utc_sql})"
    return nw.from_native(native.withColumn(column, F.expr(local_sql)))


def _sql_text(value: str) -> str:
    return value.replace("'", "''")
