"""``days_since`` and ``days_until`` against plain-Python calendar arithmetic."""

from __future__ import annotations

import calendar
import datetime as dt

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given

from retailcrm.rules import Rule, RuleSet


def next_anniversary_in_days(day: dt.date, as_of: dt.date) -> int:
    """Reference: days to the next anniversary, 29 February kept on the 28th in common years."""

    def anniversary(year: int) -> dt.date:
        dom = day.day
        if day.month == 2 and dom == 29 and not calendar.isleap(year):
            dom = 28
        return dt.date(year, day.month, dom)

    target = anniversary(as_of.year)
    if target < as_of:
        target = anniversary(as_of.year + 1)
    return (target - as_of).days


def agree(frame: pl.DataFrame, condition: str, as_of: dt.date | str) -> list[bool]:
    out = RuleSet([Rule("ok", condition)], mode="all").evaluate(frame, as_of=as_of, key="i")
    return out.get_column("ok").to_list()


DATES = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
AS_OF = st.dates(dt.date(1950, 1, 1), dt.date(2099, 12, 31))


@given(st.lists(DATES, min_size=1, max_size=40), AS_OF)
def test_days_until_matches_reference(days: list[dt.date], as_of: dt.date) -> None:
    frame = pl.DataFrame(
        {
            "i": range(len(days)),
            "d": days,
            "expected": [next_anniversary_in_days(d, as_of) for d in days],
        }
    )
    assert all(agree(frame, "days_until(d) == expected", as_of))


@given(st.lists(DATES, min_size=1, max_size=40), AS_OF)
def test_days_since_matches_reference(days: list[dt.date], as_of: dt.date) -> None:
    frame = pl.DataFrame(
        {"i": range(len(days)), "d": days, "expected": [(as_of - d).days for d in days]}
    )
    assert all(agree(frame, "days_since(d) == expected", as_of))
    assert all(agree(frame, "d - date('2000-01-01') == 10958 - days_since(d)", "2030-01-01"))


@pytest.mark.parametrize(
    ("birthday", "as_of", "expected"),
    [
        ("2000-02-29", "2023-02-28", 0),  # common year: celebrated on the 28th
        ("2000-02-29", "2023-03-01", 365),  # next one is 29 February 2024
        ("2000-02-29", "2024-02-28", 1),
        ("2000-02-29", "2024-02-29", 0),
        ("2000-02-29", "2024-03-01", 364),  # 28 February 2025
        ("1999-02-28", "2024-02-29", 365),
        ("1990-01-01", "2024-12-31", 1),
        ("1990-01-01", "2024-01-01", 0),
        ("1990-12-31", "2023-01-01", 364),
        ("1990-12-31", "2024-01-01", 365),
    ],
)
def test_days_until_calendar_edges(birthday: str, as_of: str, expected: int) -> None:
    frame = pl.DataFrame({"i": [0], "d": [dt.date.fromisoformat(birthday)], "e": [expected]})
    assert agree(frame, "days_until(d) == e", as_of) == [True]


def test_datetimes_count_by_their_calendar_day() -> None:
    frame = pl.DataFrame(
        {
            "i": [0, 1],
            "ts": [dt.datetime(2024, 6, 29, 23, 59), dt.datetime(2024, 6, 30, 0, 1)],
            "aware": pl.Series(
                [dt.datetime(2024, 6, 29, 23, 30), dt.datetime(2024, 6, 30, 0, 30)]
            ).dt.replace_time_zone("Europe/Berlin"),
        }
    )
    assert agree(frame, "days_since(ts) == 1 - i", "2024-06-30T08:00") == [True, True]
    assert agree(frame, "days_since(aware) == 1 - i", "2024-06-30") == [True, True]
    assert agree(frame, "days_until(ts) == 364 * (1 - i)", "2024-06-30") == [True, True]
    assert agree(frame, "days_until(aware) == 0", "2024-06-30") == [False, True]


def test_future_dates_give_negative_days_since() -> None:
    frame = pl.DataFrame({"i": [0], "d": [dt.date(2025, 1, 10)]})
    assert agree(frame, "days_since(d) == -10", "2024-12-31") == [True]
