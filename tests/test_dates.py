"""Calendar helpers shared by every analysis: period bucketing agrees on every engine and with
Python's own calendar."""

from __future__ import annotations

import datetime as dt

import narwhals.stable.v2 as nw
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import make_native, to_polars
from retailcrm._dates import (
    PERIODS,
    day_number,
    day_number_of,
    period_number,
    period_number_of,
    period_start_of,
)

DAYS = [dt.date(1969, 12, 28), dt.date(1970, 1, 1), dt.date(2000, 2, 29), dt.date(2024, 3, 31)]


def test_engines_agree_with_python(engine: str) -> None:
    frame = pd.DataFrame({"d": pd.to_datetime(DAYS)})
    lf = nw.from_native(make_native(engine, frame))
    lf = lf.lazy() if isinstance(lf, nw.DataFrame) else lf
    got = to_polars(
        lf.select(*(period_number(nw.col("d"), p).alias(p) for p in PERIODS)).to_native()
    )
    for p in PERIODS:
        assert got[p].to_list() == [period_number_of(d, p) for d in DAYS], p


def test_engines_agree_given_their_implementation(engine: str) -> None:
    """Given the frame's implementation, polars reads its own day count and the other engines
    keep the arithmetic: the same numbers everywhere."""
    frame = pd.DataFrame({"d": pd.to_datetime(DAYS)})
    lf = nw.from_native(make_native(engine, frame))
    lf = lf.lazy() if isinstance(lf, nw.DataFrame) else lf
    impl = lf.implementation
    got = to_polars(
        lf.select(*(period_number(nw.col("d"), p, impl).alias(p) for p in PERIODS)).to_native()
    )
    for p in PERIODS:
        assert got[p].to_list() == [period_number_of(d, p) for d in DAYS], p


@given(
    st.lists(
        st.datetimes(dt.datetime(1800, 1, 1), dt.datetime(2300, 12, 31)), min_size=1, max_size=30
    ),
    st.sampled_from([None, "UTC", "Asia/Shanghai", "America/New_York"]),
)
def test_polars_day_count_equals_the_calendar_arithmetic(
    moments: list[dt.datetime], zone: str | None
) -> None:
    """The polars shortcut (the date's own day count) equals the year/ordinal-day arithmetic
    for dates, naive datetimes and zoned ones (their local calendar date), before 1970 too."""
    import polars as pl

    lf = pl.DataFrame({"t": moments}).lazy()
    if zone is not None:
        lf = lf.with_columns(pl.col("t").dt.replace_time_zone("UTC").dt.convert_time_zone(zone))
    lf = lf.with_columns(d=pl.col("t").dt.date())
    frame = nw.from_native(lf)
    got = (
        frame.select(
            *(day_number(nw.col(c), nw.Implementation.POLARS).alias(f"fast_{c}") for c in "td"),
            *(day_number(nw.col(c)).alias(f"slow_{c}") for c in "td"),
        )
        .collect()
        .to_native()
    )
    local = frame.select("d").collect().to_native()["d"].to_list()
    want = [day_number_of(d) for d in local]
    for column in ("fast_t", "fast_d", "slow_t", "slow_d"):
        assert got[column].dtype == pl.Int64
        assert got[column].to_list() == want, column


@given(st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), st.sampled_from(PERIODS))
def test_a_period_starts_on_its_first_day_and_contains_the_date(day: dt.date, period: str) -> None:
    number = period_number_of(day, period)  # type: ignore[arg-type]
    start = period_start_of(number, period)  # type: ignore[arg-type]
    assert start <= day
    assert period_number_of(start, period) == number  # type: ignore[arg-type]
    assert period_number_of(start - dt.timedelta(days=1), period) == number - 1  # type: ignore[arg-type]
    if period == "W":
        assert start.weekday() == 0  # ISO weeks start on Monday
    if period in ("M", "Q", "Y"):
        assert start.day == 1


@pytest.mark.parametrize(
    ("period", "label"),
    [("W", dt.date(2024, 3, 25)), ("M", dt.date(2024, 3, 1)), ("Q", dt.date(2024, 1, 1))],
)
def test_labels(period: str, label: dt.date) -> None:
    assert period_start_of(period_number_of(dt.date(2024, 3, 31), period), period) == label  # type: ignore[arg-type]
