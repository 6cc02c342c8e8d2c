"""Portable calendar arithmetic and ``as_of`` parsing.

narwhals has no engine-independent "days between two dates" (``dt.total_seconds`` is missing on
Spark, DuckDB refuses it on dates), so retailcrm counts days with an exact integer day number
computed from ``year`` and ``ordinal_day``, which every backend supports. On polars, where a
Date is stored as exactly that number, the functions given the frame's implementation read it
directly (the arithmetic costs 0.36 s on ten million lines, the read 0.01 s).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm.exceptions import ConfigError

__all__ = [
    "PERIODS",
    "AsOf",
    "Period",
    "day_number",
    "day_number_of",
    "month_number",
    "month_number_of",
    "parse_as_of",
    "period_number",
    "period_number_of",
    "period_start_of",
]

_EPOCH = _dt.date(1970, 1, 1)


def day_number(expr: nw.Expr, implementation: nw.Implementation | None = None) -> nw.Expr:
    """Days since 1970-01-01 of a Date or Datetime expression (its calendar date), as Int64.

    Uses the proleptic Gregorian calendar: ``365 * (y - 1970)`` plus the leap days between
    1970 and ``y`` plus the day of the year. Given the frame's ``implementation`` and it is
    polars, the calendar date's own day count is read instead (polars stores a Date as exactly
    that number): the same values, 25-35× faster on ten million lines. Other engines keep the
    arithmetic (DuckDB refuses to cast a date to a number, and Spark casts it to null).
    """
    if implementation is nw.Implementation.POLARS:
        return expr.dt.date().cast(nw.Int64)
    y = expr.dt.year().cast(nw.Int64)
    y1 = y - 1
    leap = (y1 // 4 - 1969 // 4) - (y1 // 100 - 1969 // 100) + (y1 // 400 - 1969 // 400)
    return ((y - 1970) * 365 + leap + expr.dt.ordinal_day().cast(nw.Int64) - 1).cast(nw.Int64)


def month_number(expr: nw.Expr) -> nw.Expr:
    """``12 * year + month - 1`` of a Date or Datetime expression: consecutive months differ by 1."""
    return (expr.dt.year().cast(nw.Int64) * 12 + expr.dt.month().cast(nw.Int64) - 1).cast(nw.Int64)


def day_number_of(value: _dt.date) -> int:
    """The :func:`day_number` of a Python date."""
    return (value - _EPOCH).days


def month_number_of(value: _dt.date) -> int:
    """The :func:`month_number` of a Python date."""
    return value.year * 12 + value.month - 1


Period = Literal["D", "W", "M", "Q", "Y"]
#: Calendar periods for bucketing (cohorts, trends): days, ISO weeks (Monday first), months,
#: quarters and years.
PERIODS: tuple[Period, ...] = ("D", "W", "M", "Q", "Y")


def period_number(
    expr: nw.Expr, period: Period, implementation: nw.Implementation | None = None
) -> nw.Expr:
    """Consecutive Int64 numbers of the calendar ``period`` a Date or Datetime falls in (the
    same on every engine): day numbers, weeks since the Monday 1969-12-29, month numbers
    (``12 * year + month - 1``), quarters (month number // 3) or years. ``implementation``:
    as for :func:`day_number`."""
    if period == "D":
        return day_number(expr, implementation)
    if period == "W":
        return ((day_number(expr, implementation) + 3) // 7).cast(nw.Int64)
    if period == "M":
        return month_number(expr)
    if period == "Q":
        return (month_number(expr) // 3).cast(nw.Int64)
    return expr.dt.year().cast(nw.Int64)


def period_number_of(value: _dt.date, period: Period) -> int:
    """The :func:`period_number` of a Python date.

    >>> period_number_of(_dt.date(2024, 3, 31), "Q") == period_number_of(_dt.date(2024, 1, 1), "Q")
    True
    """
    if period == "D":
        return day_number_of(value)
    if period == "W":
        return (day_number_of(value) + 3) // 7
    if period == "M":
        return month_number_of(value)
    if period == "Q":
        return month_number_of(value) // 3
    return value.year


def period_start_of(number: int, period: Period) -> _dt.date:
    """The first day of the period with this :func:`period_number` (its label).

    >>> period_start_of(period_number_of(_dt.date(2024, 3, 6), "W"), "W")  # a Wednesday
    datetime.date(2024, 3, 4)
    """
    if period == "D":
        return _EPOCH + _dt.timedelta(days=number)
    if period == "W":
        return _EPOCH + _dt.timedelta(days=7 * number - 3)
    if period == "M":
        return _dt.date(number // 12, number % 12 + 1, 1)
    if period == "Q":
        return _dt.date(number * 3 // 12, number * 3 % 12 + 1, 1)
    return _dt.date(number, 1, 1)


@attrs.frozen
class AsOf:
    """A parsed ``as_of``: the instant that bounds the data and the calendar date it falls on.

    A date (or a date-only ISO string) means *the end of that day*: every transaction on that
    date is included. A datetime is an instant: transactions at or before it are included.
    """

    date: _dt.date
    cutoff: _dt.datetime  # inclusive upper bound, naive or aware
    is_date: bool

    @property
    def day(self) -> int:
        """Day number of the as-of date."""
        return day_number_of(self.date)

    @property
    def month(self) -> int:
        """Month number of the as-of date."""
        return month_number_of(self.date)

    @property
    def is_aware(self) -> bool:
        """True when ``as_of`` carried a time zone."""
        return self.cutoff.tzinfo is not None


def parse_as_of(value: Any, *, name: str = "as_of") -> AsOf:
    """Parse a date, datetime, pandas/numpy timestamp or ISO string into :class:`AsOf`.

    The rule, the same for every function that takes a date: a date, a date-only string *or a
    datetime at exactly midnight* (``pd.Timestamp("2024-12-31")``, ``np.datetime64``,
    ``datetime(2024, 12, 31)``) means that whole day — every line dated 31 December is
    included. Any other time of day is an instant: lines at or before it are included.
    ``None``, ``NaT`` and unreadable values raise :class:`~retailcrm.exceptions.ConfigError`.

    Examples
    --------
    >>> parse_as_of("2024-03-31")
    AsOf(date=datetime.date(2024, 3, 31), cutoff=datetime.datetime(2024, 3, 31, 23, 59, 59, 999999), is_date=True)
    >>> parse_as_of("2024-03-31T12:00").cutoff
    datetime.datetime(2024, 3, 31, 12, 0)
    >>> import pandas as pd
    >>> parse_as_of(pd.Timestamp("2024-03-31")).is_date
    True
    """
    fix = f"Fix: pass a date, e.g. {name}='2024-12-31'."
    if value is None:
        raise ConfigError(f"{name} is required: retailcrm never uses a hidden 'now'. {fix}")
    if _is_missing(value):
        raise ConfigError(f"{name} is missing ({value!r}): there is no date to cut at. {fix}")
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime(warn=False)
    elif type(value).__name__ == "datetime64":  # numpy
        import numpy as np

        value = np.datetime64(value, "us").astype(_dt.datetime)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                value = _dt.date.fromisoformat(text)
            else:
                value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(
                f"{name}={value!r} is not an ISO date or datetime. "
                f"Fix: use 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SS'."
            ) from exc
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0) and value.tzinfo is None:
            value = value.date()
        else:
            return AsOf(date=value.date(), cutoff=value, is_date=False)
    if isinstance(value, _dt.date):
        end = _dt.datetime.combine(value, _dt.time.max)
        return AsOf(date=value, cutoff=end, is_date=True)
    raise ConfigError(
        f"{name} must be a date, datetime or ISO string, got {type(value).__name__} "
        f"({value!r}). {fix}"
    )


def _is_missing(value: Any) -> bool:
    """``NaT`` (pandas or numpy) or a float NaN."""
    if isinstance(value, float):
        return value != value
    if type(value).__name__ in ("NaTType", "datetime64", "Timestamp"):
        try:
            import pandas as pd

            return bool(pd.isna(value))
        except ImportError:  # pragma: no cover - pandas is a dependency
            return False
    return False
