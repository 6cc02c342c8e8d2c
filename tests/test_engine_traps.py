"""Known silent-divergence traps of the engine layer (narwhals over pandas, polars, DuckDB, Spark).

Each trap has two tests:

* ``test_trap_<name>_still_diverges`` runs the raw narwhals construct and asserts that the
  engines still disagree. When narwhals (or an engine) fixes it, that test fails and tells us
  the workaround may go.
* ``test_<name>_workaround`` runs the retailcrm helper or function that avoids the trap on every
  engine and checks the right answer.

The raw tests use only the engines that show the trap; the Spark ones are marked ``spark``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import polars as pl
import pytest

from helpers import ENGINES, assert_equal_data, make_native, to_polars
from retailcrm import TransactionSchema, customer_features, validate_transactions
from retailcrm._dates import day_number, day_number_of, period_number, period_number_of
from retailcrm._engine import exact_quotient
from retailcrm.data._prepare import minor_units
from retailcrm.rules import Rule, RuleSet
from retailcrm.rules._plan import count_true

SPARK = pytest.mark.spark


def _select(engine: str, data: pd.DataFrame, *exprs: nw.Expr) -> pl.DataFrame:
    """``exprs`` selected from ``data`` as ``engine``'s frame, back as eager polars."""
    return to_polars(nw.from_native(make_native(engine, data)).select(*exprs).to_native())


def _column(engine: str, data: pd.DataFrame, expr: nw.Expr) -> list[Any]:
    return _select(engine, data, expr.alias("out"))["out"].to_list()


# ---------------------------------------------------------------------------------------------
# 1. Division by a constant: polars multiplies by the reciprocal
# ---------------------------------------------------------------------------------------------

#: Whole numbers whose quotient by 7 polars gets wrong in the last bit (5 / 7, 9 / 7, ...).
NUMERATORS = pd.DataFrame({"x": [5.0, 9.0, 10.0, 13.0, 18.0, 29.0]})


def test_trap_constant_division_still_diverges() -> None:
    """Trap: ``col / 7`` on polars (eager and lazy, so also every pandas input retailcrm routes
    through polars) multiplies by ``1 / 7``, which is not correctly rounded: 5 / 7 differs from
    DuckDB's (and Python's) true division in the last bit."""
    true = [x / 7 for x in NUMERATORS["x"]]
    polars_q = _column("polars-lazy", NUMERATORS, nw.col("x") / 7)
    duckdb_q = _column("duckdb", NUMERATORS, nw.col("x") / 7)
    assert duckdb_q == true
    assert polars_q != true
    assert polars_q[0] != 5 / 7


@pytest.mark.parametrize("engine", ENGINES)
def test_constant_division_workaround(engine: str) -> None:
    """``exact_quotient`` divides by a column equal to the constant: the bits of true
    division on every engine."""
    got = _column(engine, NUMERATORS, exact_quotient(nw.col("x"), 7.0))
    assert got == [x / 7 for x in NUMERATORS["x"]]


# ---------------------------------------------------------------------------------------------
# 2. Sum of booleans: Spark refuses it; 3. Sum of integers: DuckDB returns a decimal
# ---------------------------------------------------------------------------------------------

FLAGS = pd.DataFrame({"x": [1.0, 2.0, 3.0]})


@SPARK
def test_trap_boolean_sum_still_diverges() -> None:
    """Trap: ``(x > 1).sum()`` counts true rows on pandas, polars and DuckDB, but Spark
    cannot sum booleans (an AnalysisException: sum needs a numeric type)."""
    assert _column("polars-eager", FLAGS, (nw.col("x") > 1).sum()) == [2]
    with pytest.raises(Exception, match=r"DATATYPE_MISMATCH|data type mismatch"):
        _column("spark", FLAGS, (nw.col("x") > 1).sum())


def test_trap_integer_sum_decimal_still_diverges() -> None:
    """Trap: DuckDB sums an Int64 column (or booleans) to a DECIMAL(38, 0): the value is
    right, but it comes back as ``decimal.Decimal``, and later arithmetic on it is decimal
    arithmetic, not float."""
    ints = pd.DataFrame({"x": [1, 2, 3]})
    duck = _select("duckdb", ints, nw.col("x").sum().alias("s"))
    assert isinstance(duck["s"].dtype, pl.Decimal)
    assert duck["s"].to_list() == [decimal.Decimal(6)]
    assert _select("polars-eager", ints, nw.col("x").sum().alias("s"))["s"].dtype == pl.Int64


@pytest.mark.parametrize("engine", ENGINES)
def test_boolean_and_integer_sum_workaround(engine: str) -> None:
    """``count_true`` casts to Int64 before and after the sum: an Int64 count on every engine
    (and 0, not null, on an empty frame)."""
    got = _select(engine, FLAGS, count_true(nw.col("x") > 1).alias("n"))
    assert got.schema["n"] == pl.Int64
    assert got["n"].to_list() == [2]
    frame = nw.from_native(make_native(engine, FLAGS))
    empty = to_polars(frame.filter(nw.col("x") > 5).select(count_true(nw.col("x") > 1).alias("n")))
    assert empty["n"].to_list() == [0]


# ---------------------------------------------------------------------------------------------
# 4. Rounding: half to even (pandas, polars) against half away from zero (DuckDB, Spark)
# ---------------------------------------------------------------------------------------------

HALVES = pd.DataFrame({"x": [0.5, 1.5, 2.5, -0.5, 0.125]})


@SPARK
def test_trap_round_half_still_diverges() -> None:
    """Trap: ``round`` of an exact half rounds to even on pandas and polars (0.5 -> 0,
    2.5 -> 2) and away from zero on DuckDB and Spark (0.5 -> 1, 2.5 -> 3): money rounded to
    cents would differ by a cent between engines."""
    to_even = [0.0, 2.0, 2.0, -0.0, 0.0]
    away = [1.0, 2.0, 3.0, -1.0, 0.0]
    assert _column("pandas-numpy", HALVES, nw.col("x").round(0)) == to_even
    assert _column("polars-eager", HALVES, nw.col("x").round(0)) == to_even
    assert _column("duckdb", HALVES, nw.col("x").round(0)) == away
    assert _column("spark", HALVES, nw.col("x").round(0)) == away


@pytest.mark.parametrize("engine", ENGINES)
def test_round_half_workaround(engine: str) -> None:
    """``minor_units`` rounds half away from zero with floor and integer casts, the same on
    every engine; amounts entering retailcrm are rounded to cents with it, so 0.125 is 0.13
    everywhere."""
    got = _column(engine, HALVES, minor_units(nw.col("x"), 0))
    assert got == [1, 2, 3, -1, 0]
    cents = _column(engine, HALVES, minor_units(nw.col("x"), 2))
    assert cents == [50, 150, 250, -50, 13]


# ---------------------------------------------------------------------------------------------
# 5. Weekday numbering: Spark's Sunday is 0
# ---------------------------------------------------------------------------------------------

WEEKEND = pd.DataFrame({"d": pd.to_datetime(["2024-01-06", "2024-01-07", "2024-01-08"])})


@SPARK
def test_trap_weekday_numbering_still_diverges() -> None:
    """Trap: ``dt.weekday()`` is ISO (Monday 1 .. Sunday 7) on pandas, polars and DuckDB,
    but Spark gives Sunday 0: a Sunday would fall in the next week when bucketing by
    ``date - weekday``."""
    iso = [6, 7, 1]
    assert _column("polars-eager", WEEKEND, nw.col("d").dt.weekday()) == iso
    assert _column("duckdb", WEEKEND, nw.col("d").dt.weekday()) == iso
    assert _column("spark", WEEKEND, nw.col("d").dt.weekday()) == [6, 0, 1]


@pytest.mark.parametrize("engine", ENGINES)
def test_weekday_numbering_workaround(engine: str) -> None:
    """``period_number(.., "W")`` numbers ISO weeks from day numbers, never from weekday:
    Saturday and Sunday share a week, Monday starts the next, on every engine."""
    got = _column(engine, WEEKEND, period_number(nw.col("d"), "W"))
    days = [dt.date(2024, 1, 6), dt.date(2024, 1, 7), dt.date(2024, 1, 8)]
    assert got == [period_number_of(d, "W") for d in days]
    assert got[0] == got[1] == got[2] - 1


# ---------------------------------------------------------------------------------------------
# 6. Days between two timestamps: no total_seconds on Spark
# ---------------------------------------------------------------------------------------------

SPANS = pd.DataFrame(
    {
        "a": pd.to_datetime(["2024-01-07 23:00", "2023-12-31 00:00"]),
        "b": pd.to_datetime(["2024-03-07 01:00", "2024-12-31 12:00"]),
    }
)


@SPARK
def test_trap_total_seconds_still_diverges() -> None:
    """Trap: ``(b - a).dt.total_seconds()`` works on pandas, polars and DuckDB but is not
    implemented for Spark (and DuckDB refuses it on dates), so "days between" has no portable
    narwhals spelling."""
    span = (nw.col("b") - nw.col("a")).dt.total_seconds()
    assert _column("polars-eager", SPANS, span)[0] == (60 * 24 - 22) * 3600
    with pytest.raises(NotImplementedError, match="total_seconds"):
        _column("spark", SPANS, span)


@pytest.mark.parametrize("engine", ENGINES)
def test_total_seconds_workaround(engine: str) -> None:
    """``day_number`` counts calendar days from year and ordinal day, which every engine
    has: the same whole days between two timestamps everywhere (calendar dates, not 24-hour
    spans)."""
    got = _column(engine, SPANS, day_number(nw.col("b")) - day_number(nw.col("a")))
    assert got == [60, 366]
    assert _column(engine, SPANS, day_number(nw.col("a"))) == [
        day_number_of(dt.date(2024, 1, 7)),
        day_number_of(dt.date(2023, 12, 31)),
    ]


# ---------------------------------------------------------------------------------------------
# 7. is_in with a missing value: pandas says False, the others null
# ---------------------------------------------------------------------------------------------

CHANNELS = pd.DataFrame({"customer_id": ["a", "b", "c"], "channel": ["web", None, "store"]}).astype(
    {"channel": "object"}
)


def test_trap_is_in_null_still_diverges() -> None:
    """Trap: ``is_in`` on a missing value is False on pandas (numpy and nullable dtypes) but
    null on polars, DuckDB and Spark; negating it (``~is_in``) then keeps the row on pandas
    and drops it elsewhere."""
    expr = nw.col("channel").is_in(["web"])
    assert _column("pandas-numpy", CHANNELS, expr) == [True, False, False]
    assert _column("polars-eager", CHANNELS, expr) == [True, None, False]
    assert _column("duckdb", CHANNELS, expr) == [True, None, False]


@pytest.mark.parametrize("engine", ENGINES)
def test_is_in_null_workaround(engine: str) -> None:
    """The rules compiler gives a missing value a definite answer (``on_null="false"``): a
    rule with ``in`` or ``not in`` never matches a missing channel, on every engine."""
    rules = RuleSet(
        [Rule("web", "channel in ['web']"), Rule("offline", "channel not in ['web']")],
        default="unknown",
    )
    got = rules.evaluate(make_native(engine, CHANNELS))
    assert_equal_data(
        got,
        {
            "customer_id": ["a", "b", "c"],
            "label": ["web", "unknown", "offline"],
            "rule_id": ["web", "default", "offline"],
        },
    )


# ---------------------------------------------------------------------------------------------
# 8. NaN against null: pandas (numpy) treats NaN as missing, polars does not
# ---------------------------------------------------------------------------------------------


def test_trap_nan_is_not_null_still_diverges() -> None:
    """Trap: in a numpy-backed pandas float column NaN *is* the missing value, so
    ``is_null`` is True for it; on a polars (or Arrow, DuckDB) float column NaN is a number
    and ``is_null`` is False. A null check alone lets a NaN amount through on polars."""
    values = [1.0, float("nan")]
    pandas_null = nw.from_native(pd.DataFrame({"x": values})).select(nw.col("x").is_null())
    polars_null = nw.from_native(pl.DataFrame({"x": values})).select(nw.col("x").is_null())
    assert pandas_null["x"].to_list() == [False, True]
    assert polars_null["x"].to_list() == [False, False]


def _nan_lines(engine: str) -> Any:
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-02-03", "2024-01-05"]),
            "amount": [10.0, float("nan"), 5.0],
        }
    )
    if engine in ("polars-eager", "polars-lazy"):  # a real NaN, not the null from_pandas makes
        frame = pl.from_pandas(lines, nan_to_null=False)
        assert frame["amount"].is_nan().sum() == 1
        return frame if engine == "polars-eager" else frame.lazy()
    return make_native(engine, lines)


@pytest.mark.parametrize("engine", ENGINES)
def test_nan_is_not_null_workaround(engine: str) -> None:
    """Validation checks ``is_null() | is_nan()``: the missing or NaN amount is one error on
    every engine."""
    report = validate_transactions(_nan_lines(engine))
    problems = [p for p in report.problems if p.column == "amount" and p.severity == "error"]
    assert len(problems) == 1
    assert problems[0].count == 1


# ---------------------------------------------------------------------------------------------
# 9. Time-zone-aware timestamps: the column's zone (polars, pandas) or the session's (DuckDB)
# ---------------------------------------------------------------------------------------------

#: 23:30 UTC on New Year's Day is already 07:30 on 2 January in Shanghai.
AWARE = pd.DataFrame(
    {
        "customer_id": ["a", "a"],
        "timestamp": pd.to_datetime(["2024-01-01 23:30", "2024-01-05 12:00"])
        .tz_localize("UTC")
        .tz_convert("Asia/Shanghai"),
        "amount": [10.0, 20.0],
    }
)


def test_trap_aware_timestamp_fields_still_diverges() -> None:
    """Trap: ``dt.day()`` of an aware column is taken in the column's own zone on pandas and
    polars, but DuckDB reads the column as TIMESTAMPTZ (an instant without a zone) and takes
    calendar fields in the *session* time zone: the same rows fall on different days."""
    pl_df = pl.from_pandas(AWARE[["timestamp"]])
    assert _column("polars-eager", AWARE[["timestamp"]], nw.col("timestamp").dt.day())[0] == 2
    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.from_arrow(pl_df.to_arrow())
    days = nw.from_native(rel).select(nw.col("timestamp").dt.day()).to_native().fetchall()
    assert days[0] == (1,)
    con.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_aware_timestamp_fields_workaround(engine: str) -> None:
    """With ``TransactionSchema(timezone=...)`` every engine takes calendar dates in that
    zone: the first purchase is on 2 January (Shanghai) everywhere."""
    schema = TransactionSchema(timezone="Asia/Shanghai")
    got = customer_features(make_native(engine, AWARE), as_of="2024-01-31", schema=schema)
    first = to_polars(got).select(pl.col("first_purchase").cast(pl.Date))["first_purchase"]
    assert first.to_list() == [dt.date(2024, 1, 2)]
