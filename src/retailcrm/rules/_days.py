"""``days_since`` and ``days_until`` as portable integer expressions.

Both work on calendar dates (a datetime counts as the date it falls on) and use the exact day
numbers of :func:`retailcrm._dates.day_number`, so every engine gives the same whole numbers.

``days_until(d)`` counts the days from ``as_of`` to the next *anniversary* of ``d``'s month and
day — the next birthday, the next registration anniversary — 0 when the anniversary is the
``as_of`` date itself. A 29 February date has its anniversary on 28 February in years that are
not leap years.
"""

from __future__ import annotations

import calendar
import datetime as _dt

import narwhals.stable.v2 as nw

from retailcrm._dates import day_number_of

__all__ = ["days_since_expr", "days_until_expr"]


def days_since_expr(day: nw.Expr, as_of: _dt.date) -> nw.Expr:
    """Whole days from the day number ``day`` to ``as_of`` (negative for later dates)."""
    return (nw.lit(day_number_of(as_of)) - day).cast(nw.Int64)


def _anniversary(month: nw.Expr, dom: nw.Expr, year: int) -> nw.Expr:
    """Day number of (year, month, dom), with 29 February moved to the 28th in common years."""
    leap = calendar.isleap(year)
    if not leap:
        dom = nw.when((month == 2) & (dom == 29)).then(nw.lit(28)).otherwise(dom)
    # Days in the months before `month` of a common year: (367 m - 362) // 12, less 2 after Feb.
    before = (month * 367 - 362) // 12 + nw.when(month > 2).then(
        nw.lit(-1 if leap else -2)
    ).otherwise(nw.lit(0))
    return before + dom + (_new_year(year) - 1)


def _new_year(year: int) -> int:
    """Day number of 1 January of ``year`` (also for year 10000, one past ``date.max``)."""
    if year > _dt.MAXYEAR:
        return day_number_of(_dt.date(_dt.MAXYEAR, 12, 31)) + 1
    return day_number_of(_dt.date(year, 1, 1))


def days_until_expr(date: nw.Expr, as_of: _dt.date) -> nw.Expr:
    """Days from ``as_of`` to the next anniversary of the Date/Datetime expression ``date``."""
    today = day_number_of(as_of)
    month = date.dt.month().cast(nw.Int64)
    dom = date.dt.day().cast(nw.Int64)
    this_year = _anniversary(month, dom, as_of.year) - today
    next_year = _anniversary(month, dom, as_of.year + 1) - today
    return nw.when(this_year >= 0).then(this_year).otherwise(next_year).cast(nw.Int64)
