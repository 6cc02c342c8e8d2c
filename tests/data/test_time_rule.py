"""The time rule (``retailcrm._clock``): one reading of every kind of time value on every engine.

A table of inputs (naive, aware in +08:00 and in UTC, text with ``Z``, with ``+08:00``, without
an offset, plain dates) x engines x two session time zones of DuckDB and Spark must give the
same local dates and times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import polars as pl
import pytest

from helpers import ENGINES, duckdb_connection, make_native, spark_session, to_polars
from retailcrm import TransactionSchema, customer_features, validate_transactions
from retailcrm.data._prepare import prepare_transactions
from retailcrm.exceptions import ConfigError, InvalidDataError

SHANGHAI = "Asia/Shanghai"
MORNING = dt.datetime(2024, 3, 1, 5, 0)  # 05:00 on 1 March in Shanghai = 21:00 on 29 Feb UTC


def _frame(values: Any) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "b"], "timestamp": values, "amount": [10.0, 20.0]})


# name -> (pandas column, wall clock with timezone=Asia/Shanghai, wall clock without a timezone
#          on engines whose aware columns keep their zone, ... on DuckDB/Spark)
CASES: dict[str, tuple[Any, dt.datetime, dt.datetime, dt.datetime]] = {
    "naive": (pd.to_datetime(["2024-03-01 05:00", "2024-03-01 05:00"]), MORNING, MORNING, MORNING),
    "aware_shanghai": (
        pd.to_datetime(["2024-03-01 05:00", "2024-03-01 05:00"]).tz_localize(SHANGHAI),
        MORNING,
        MORNING,
        dt.datetime(2024, 2, 29, 21, 0),
    ),
    "aware_utc": (
        pd.to_datetime(["2024-02-29 21:00", "2024-02-29 21:00"]).tz_localize("UTC"),
        MORNING,
        dt.datetime(2024, 2, 29, 21, 0),
        dt.datetime(2024, 2, 29, 21, 0),
    ),
    "text_z": (
        ["2024-02-29T21:00:00Z", "2024-02-29T21:00:00Z"],
        MORNING,
        dt.datetime(2024, 2, 29, 21, 0),
        dt.datetime(2024, 2, 29, 21, 0),
    ),
    "text_offset": (
        ["2024-03-01T05:00:00+08:00", "2024-03-01 05:00+0800"],
        MORNING,
        MORNING,
        MORNING,
    ),
    "text_plain": (["2024-03-01 05:00:00", "2024-03-01T05:00"], MORNING, MORNING, MORNING),
    "text_date": (
        ["2024-03-01", "2024-03-01"],
        dt.datetime(2024, 3, 1),
        dt.datetime(2024, 3, 1),
        dt.datetime(2024, 3, 1),
    ),
}

SESSION_ZONES = ["UTC", "America/Los_Angeles"]


@pytest.fixture(params=SESSION_ZONES)
def session_zone(request: pytest.FixtureRequest, engine: str) -> Iterator[str]:
    """Set DuckDB's and Spark's session time zone for the test, then restore it."""
    zone = str(request.param)
    if engine == "duckdb":
        con = duckdb_connection()
        old = con.sql("SELECT current_setting('TimeZone')").fetchall()[0][0]
        con.execute(f"SET TimeZone='{zone}'")
        yield zone
        con.execute(f"SET TimeZone='{old}'")
    elif engine == "spark":
        spark = spark_session()
        old = spark.conf.get("spark.sql.session.timeZone")
        spark.conf.set("spark.sql.session.timeZone", zone)
        yield zone
        spark.conf.set("spark.sql.session.timeZone", old)
    else:
        yield zone


def _local_times(native: Any, timezone: str | None) -> list[dt.datetime]:
    prepared = prepare_transactions(native, schema=TransactionSchema(timezone=timezone))
    got = to_polars(prepared.frame.select("customer_id", "timestamp", "date").to_native())
    got = got.sort("customer_id")
    stamps = got["timestamp"].to_list()
    dates = got["date"].to_list()
    assert dates == [s.date() for s in stamps]  # ``date`` is the local calendar date
    return [s if isinstance(s, dt.datetime) else dt.datetime.combine(s, dt.time()) for s in stamps]


@pytest.mark.parametrize("case", list(CASES))
def test_with_timezone_every_engine_agrees(case: str, engine: str, session_zone: str) -> None:
    values, expected, _, _ = CASES[case]
    native = make_native(engine, _frame(values))
    assert _local_times(native, SHANGHAI) == [expected, expected]


@pytest.mark.parametrize("case", list(CASES))
def test_without_timezone(case: str, engine: str, session_zone: str) -> None:
    values, _, own_zone, zoneless = CASES[case]
    native = make_native(engine, _frame(values))
    expected = zoneless if engine in ("duckdb", "spark") else own_zone
    assert _local_times(native, None) == [expected, expected]


@pytest.mark.parametrize("engine_name", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_zoneless_instants_are_reported(engine_name: str) -> None:
    native = make_native(engine_name, _frame(CASES["aware_utc"][0]))
    report = validate_transactions(native)
    assert "timestamp_zone_assumed" in report
    assert "UTC" in report["timestamp_zone_assumed"].message
    quiet = validate_transactions(native, schema=TransactionSchema(timezone="UTC"))
    assert "timestamp_zone_assumed" not in quiet


def test_fixed_offset_pandas_column() -> None:
    values = pd.to_datetime(["2024-03-01T05:00:00+08:00", "2024-03-01T05:00:00+08:00"])
    assert str(values.tz) in ("UTC+08:00", "pytz.FixedOffset(480)")
    assert _local_times(_frame(values), None) == [MORNING, MORNING]
    assert _local_times(_frame(values), "UTC") == [dt.datetime(2024, 2, 29, 21, 0)] * 2


def test_python_datetime_objects_follow_the_text_rule() -> None:
    aware = dt.datetime(2024, 3, 1, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    frame = _frame(pd.Series([aware, aware], dtype=object))
    assert _local_times(frame, None) == [MORNING, MORNING]
    assert _local_times(frame, "UTC") == [dt.datetime(2024, 2, 29, 21, 0)] * 2


def test_features_count_the_shanghai_day(engine: str) -> None:
    """The issue's example: 05:00 on 1 March in Shanghai is a March purchase, on every engine."""
    native = make_native(engine, _frame(["2024-03-01T05:00:00+08:00", "2024-02-29T12:00:00+08:00"]))
    schema = TransactionSchema(timezone=SHANGHAI)
    f = to_polars(customer_features(native, as_of="2024-03-01", schema=schema, windows=(1,)))
    f = f.sort("customer_id")
    last = [d.date() if isinstance(d, dt.datetime) else d for d in f["last_purchase"].to_list()]
    assert last == [dt.date(2024, 3, 1), dt.date(2024, 2, 29)]
    assert f["orders_1d"].to_list() == [1, 0]


@pytest.mark.parametrize("engine_name", [e for e in ENGINES if isinstance(e, str)])
def test_mixed_offsets_give_one_precise_error(engine_name: str) -> None:
    values = ["2024-03-01T05:00:00+08:00", "2024-03-01 05:00:00", "2024-03-02 06:00:00"]
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "timestamp": values, "amount": 1.0})
    report = validate_transactions(make_native(engine_name, frame))
    assert report.codes[0] == "mixed_timezones"
    assert "timestamp_unparseable" not in report
    problem = report["mixed_timezones"]
    assert problem.count == 1
    assert "1 with, 2 without" in problem.message
    with pytest.raises(InvalidDataError, match="mixes values with a UTC offset"):
        prepare_transactions(make_native(engine_name, frame))


def test_mixed_aware_and_naive_objects_pandas() -> None:
    aware = dt.datetime(2024, 3, 1, 5, 0, tzinfo=dt.UTC)
    frame = _frame(pd.Series([aware, dt.datetime(2024, 3, 1, 6, 0)], dtype=object))
    report = validate_transactions(frame)
    assert report.codes == ("mixed_timezones",)
    assert report["mixed_timezones"].rows in ((0,), (1,))


def test_aware_as_of_is_read_in_the_schema_zone() -> None:
    frame = _frame(["2024-03-01T05:00:00+08:00", "2024-03-01T09:00:00+08:00"])
    schema = TransactionSchema(timezone=SHANGHAI)
    cut = "2024-02-29T23:00:00+00:00"  # 07:00 in Shanghai: keeps the 05:00 line only
    prepared = prepare_transactions(frame, schema=schema, as_of=cut)
    assert to_polars(prepared.frame.to_native())["customer_id"].to_list() == ["a"]
    with pytest.raises(ConfigError, match="carries a time zone, but the schema names none"):
        prepare_transactions(frame, as_of=cut)


def test_polars_offset_column() -> None:
    frame = pl.DataFrame(
        {"customer_id": ["a"], "timestamp": [MORNING], "amount": [1.0]}
    ).with_columns(pl.col("timestamp").dt.replace_time_zone(SHANGHAI))
    assert _local_times(frame, None) == [MORNING]
    assert _local_times(frame, "UTC") == [dt.datetime(2024, 2, 28 + 1, 21, 0)]
