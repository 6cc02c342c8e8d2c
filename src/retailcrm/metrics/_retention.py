"""Retention and repurchase metrics over an explicit period, from transactions.

Every function here reads the caller's transaction lines once (validated by
``prepare_transactions``, grouped into purchase occasions by ``purchase_occasions`` — an order,
or a customer-day where there is no order id, counts as a purchase when its net spend is above
zero under the ``returns`` policy), aggregates per customer in the caller's engine, and returns
a *one-row* frame of the caller's kind with named columns: the period's ``start`` and ``end``
dates, the counts, and the rate.

The period is explicit, one of two ways:

* ``start=`` and ``end=`` (dates; both days included), or
* ``period=`` with ``as_of=``: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` is the calendar
  period that contains ``as_of``, from its first day to ``as_of``; a whole number ``n`` is the
  ``n`` days ending on ``as_of``.

Lines after the period's end are ignored, so a metric computed today for last year is the
metric as it was at the end of last year.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import PERIODS, Period, day_number, parse_as_of, period_number_of
from retailcrm._dates import period_start_of as _period_start
from retailcrm._engine import Engine, missing_columns_error
from retailcrm._params import check_choice, check_int, parameter_error
from retailcrm.data import CustomerSchema, TransactionSchema
from retailcrm.data._prepare import (
    Duplicates,
    PreparedTransactions,
    check_duplicates,
    prepare_transactions,
)
from retailcrm.data._tables import prepare_customers, same_engine_frame
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.features._occasions import OCCASION_READS, purchase_occasions

__all__ = [
    "RETURNS",
    "ReturnsPolicy",
    "Window",
    "active_customer_rate",
    "churn_rate",
    "interpurchase_times",
    "labels_frame",
    "old_customer_revenue_share",
    "omnichannel_summary",
    "prepared_lines",
    "reactivation_rate",
    "referral_conversion_rate",
    "referral_rate",
    "referrer_rate",
    "repeat_purchase_rate",
    "repurchase_cycle",
    "resolve_window",
    "retention_rate",
    "window_counts",
]

Scope = Literal["period", "ever"]
#: The returns policy of purchase occasions (see ``customer_features``).
ReturnsPolicy = Literal["net", "exclude", "keep"]
RETURNS: tuple[ReturnsPolicy, ...] = ("net", "exclude", "keep")
_ONE_DAY = _dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# the period: start/end, or a calendar period (or n days) ending on as_of
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class Window:
    """An explicit analysis period: the days ``start`` to ``end`` (both included).

    ``cut`` is the ``as_of`` the lines are cut at (the end date, or an instant on it), and
    ``unit`` how the period was given: a calendar period letter, a number of days, or ``None``
    for explicit ``start``/``end`` dates.
    """

    start: _dt.date
    end: _dt.date
    cut: Any
    unit: Period | int | None = None

    @property
    def start_day(self) -> int:
        """Day number of ``start``."""
        return (self.start - _dt.date(1970, 1, 1)).days

    @property
    def end_day(self) -> int:
        """Day number of ``end``."""
        return (self.end - _dt.date(1970, 1, 1)).days

    def previous(self) -> Window:
        """The period before: the previous calendar period (whole), or as many days as this
        one ending the day before ``start``."""
        if isinstance(self.unit, str):
            number = period_number_of(self.start, self.unit) - 1
            start = _period_start(number, self.unit)
            end = self.start - _ONE_DAY
        else:
            length = self.end - self.start
            end = self.start - _ONE_DAY
            start = end - length
        return Window(start=start, end=end, cut=end, unit=self.unit)


def resolve_window(
    *, start: Any, end: Any, period: Any, as_of: Any, owner: str, default: Any = None
) -> Window:
    """The period of a metric: ``start``/``end`` dates, or ``period`` with ``as_of``.

    ``default`` is the ``period`` used when none of the four is a period (``kpi_summary``'s
    ``"M"``); without it, one of the two forms is required.
    """
    fix = (
        f"pass start= and end= dates (e.g. {owner}(tx, start='2024-01-01', end='2024-12-31')) "
        f"or period= with as_of= (e.g. period='M', as_of='2024-12-31')."
    )
    if start is not None or end is not None:
        if period is not None or as_of is not None:
            raise ConfigError(
                f"{owner}: give the period one way, not both (start/end and period/as_of). "
                f"Fix: {fix}"
            )
        if start is None or end is None:
            raise ConfigError(f"{owner}: start and end go together. Fix: {fix}")
        first = parse_as_of(start, name="start").date
        last = parse_as_of(end, name="end")
        if first > last.date:
            raise ConfigError(
                f"{owner}: start={first.isoformat()} is after end={last.date.isoformat()}. "
                "Fix: swap them."
            )
        return Window(start=first, end=last.date, cut=end)
    if period is None:
        period = default
    if period is None or as_of is None:
        raise ConfigError(f"{owner}: the period is required. Fix: {fix}")
    at = parse_as_of(as_of)
    if isinstance(period, str):
        unit = check_choice(
            period,
            PERIODS,
            name="period",
            owner=owner,
            fix="'M' (the calendar month of as_of), 'D', 'W', 'Q', 'Y', or a number of days.",
        )
        first = _period_start(period_number_of(at.date, unit), unit)
        return Window(start=first, end=at.date, cut=as_of, unit=unit)
    days = check_int(
        period,
        name="period",
        owner=owner,
        low=1,
        fix="a calendar period such as 'M', or a number of days such as 30.",
    )
    return Window(start=at.date - _dt.timedelta(days=days - 1), end=at.date, cut=as_of, unit=days)


def prepared_lines(
    tx: Any,
    *,
    cut: Any,
    schema: TransactionSchema | None,
    returns: Any,
    duplicates: Any,
    owner: str,
    reads: Sequence[str] | None,
) -> PreparedTransactions:
    """The caller's lines validated once and cut at ``cut`` (parameters checked first).

    ``reads``: the optional roles the caller reads (``prepare_transactions``' ``reads``;
    ``None``: all). Every caller names them, so that one that reads only occasions neither
    validates nor converts the text columns it never looks at.
    """
    check_choice(
        returns,
        RETURNS,
        name="returns",
        owner=owner,
        fix="'net' (refunds reduce spend), 'exclude' (ignore refund lines) or 'keep' (an "
        "occasion with any positive line is a purchase).",
    )
    check_duplicates(duplicates, owner=owner)
    return prepare_transactions(tx, schema=schema, as_of=cut, duplicates=duplicates, reads=reads)


def _scale(prepared: PreparedTransactions) -> int:
    return int(10**prepared.schema.currency_decimals)


# ---------------------------------------------------------------------------------------------
# the one per-customer pass behind the one-row metrics
# ---------------------------------------------------------------------------------------------


def _flag(expr: nw.Expr) -> nw.Expr:
    return expr.fill_null(value=False).cast(nw.Int64)


def window_counts(
    occ: nw.LazyFrame[Any],
    window: Window,
    engine: Engine,
    *,
    active_days: int = 365,
    inactive_days: int = 180,
) -> dict[str, int]:
    """Customer counts and money (minor units) of one period, from purchase occasions cut at
    the period's end: one aggregation per customer in the engine, one small row collected.

    Keys: ``customers_start`` (active at the period's opening, i.e. with a purchase in the
    ``active_days`` days up to the day before ``start``), ``customers_end`` (the same at
    ``end``), ``new_customers`` (first purchase in the period), ``retained`` (active at both),
    ``lost`` (active at the opening, not at the end), ``buyers`` and ``repeat_buyers`` (one or
    more, two or more purchases in the period), ``customers_ever`` and ``repeat_ever`` (the
    same up to ``end``), ``lapsed`` (bought before ``start`` but not in the
    ``inactive_days`` days before it), ``reactivated`` (lapsed and bought in the period),
    ``orders`` (purchases in the period), ``revenue_minor`` and ``old_revenue_minor`` (net
    spend in the period, all and of customers whose first purchase precedes ``start``).
    """
    s, e = window.start_day, window.end_day
    buy = nw.col("is_purchase")
    day = nw.col("day")
    inside = (day >= s) & (day <= e)
    zero = nw.lit(0, nw.Int64)
    per_customer = occ.group_by("customer_id").agg(
        nw.when(buy).then(day).min().alias("first_day"),
        nw.when(buy).then(day).max().alias("last_day"),
        nw.when(buy & (day < s)).then(day).max().alias("last_before"),
        _flag(buy & inside).sum().cast(nw.Int64).alias("n_in"),
        _flag(buy).sum().cast(nw.Int64).alias("n_ever"),
        nw.when(inside).then(nw.col("net_minor")).otherwise(zero).sum().cast(nw.Int64).alias("rev"),
    )
    opening = s - 1
    active_start = nw.col("last_before") > opening - active_days
    active_end = nw.col("last_day") > e - active_days
    new = nw.col("first_day") >= s
    old = nw.col("first_day") < s
    lapsed = nw.col("last_before") <= opening - inactive_days
    bought = nw.col("n_in") >= 1
    flags = {
        "customers_start": active_start,
        "customers_end": active_end,
        "new_customers": new,
        "retained": active_start & active_end,
        "lost": active_start & ~active_end.fill_null(value=False),
        "buyers": bought,
        "repeat_buyers": nw.col("n_in") >= 2,
        "customers_ever": nw.col("n_ever") >= 1,
        "repeat_ever": nw.col("n_ever") >= 2,
        "lapsed": lapsed,
        "reactivated": lapsed & bought,
    }
    exprs = [_flag(v).sum().cast(nw.Int64).alias(k) for k, v in flags.items()]
    exprs += [
        nw.col("n_in").sum().cast(nw.Int64).alias("orders"),
        nw.col("rev").sum().cast(nw.Int64).alias("revenue_minor"),
        nw.when(old).then(nw.col("rev")).otherwise(zero).sum().cast(nw.Int64).alias("old_minor"),
    ]
    row = engine.collect_small(per_customer.select(*exprs)).to_native().row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` (a missing value) when the denominator is 0."""
    return float(numerator) / float(denominator) if denominator else None


def one_row(columns: dict[str, Any], engine: Engine, like: Any) -> Any:
    """A one-row result of the caller's kind: dates as Date, whole numbers as Int64, rates and
    money as Float64 (``None`` values are missing)."""
    series = []
    for name, value in columns.items():
        if isinstance(value, _dt.date):
            dtype: Any = pl.Date
        elif isinstance(value, bool):
            dtype = pl.Boolean
        elif isinstance(value, int):
            dtype = pl.Int64
        elif isinstance(value, str):
            dtype = pl.String
        else:
            dtype = pl.Float64
        series.append(pl.Series(name, [value], dtype=dtype))
    return engine.small_native(pl.DataFrame(series), like=like)


def _run(
    tx: Any,
    owner: str,
    *,
    start: Any,
    end: Any,
    period: Any,
    as_of: Any,
    schema: TransactionSchema | None,
    returns: Any,
    duplicates: Any,
    active_days: int = 365,
    inactive_days: int = 180,
) -> tuple[Window, dict[str, int], PreparedTransactions]:
    window = resolve_window(start=start, end=end, period=period, as_of=as_of, owner=owner)
    prepared = prepared_lines(
        tx, cut=window.cut, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=OCCASION_READS,
    )  # fmt: skip
    occ = purchase_occasions(prepared, returns=returns)
    counts = window_counts(
        occ, window, prepared.engine, active_days=active_days, inactive_days=inactive_days
    )
    return window, counts, prepared


def _days(value: Any, name: str, owner: str) -> int:
    return check_int(
        value, name=name, owner=owner, low=1, fix=f"a number of days, e.g. {name}=365."
    )


# ---------------------------------------------------------------------------------------------
# public one-row metrics
# ---------------------------------------------------------------------------------------------


def retention_rate(
    tx: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    active_days: int = 365,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Customer retention rate of a period: ``(E - N) / S``.

    Parameters
    ----------
    tx : dataframe
        Transaction lines of any supported engine.
    start, end : date, datetime or ISO string, optional
        The period's first and last day (both included); or use ``period`` with ``as_of``.
    period : {"D", "W", "M", "Q", "Y"} or int, optional
        The calendar period that contains ``as_of`` (from its first day to ``as_of``), or
        that many days ending on ``as_of``.
    as_of : date, datetime or ISO string, optional
        With ``period``: the period's last day; lines after it are ignored.
    active_days : int
        A customer *is a customer* at a date when they bought in the ``active_days`` days up
        to it (365: bought in the last year).
    schema : TransactionSchema, optional
        Column mapping for ``tx``.
    returns : {"net", "exclude", "keep"}
        Returns policy of the purchase occasions (see ``customer_features``).
    duplicates : {"keep", "drop"} or None
        Duplicate-lines policy (see ``customer_features``).

    Returns
    -------
    dataframe
        One row of the caller's kind: ``start``, ``end``, ``customers_start`` (S: customers
        at the opening, the day before ``start``), ``customers_end`` (E: customers at
        ``end``), ``new_customers`` (N: first purchase ever in the period), ``retained``
        (customers at both dates) and ``retention_rate`` (missing when S is 0).

    Notes
    -----
    ``(E - N) / S`` is the practitioners' customer retention rate (CRR) as usually taught
    (e.g. HubSpot and Shopify guides; Farris et al., *Marketing Metrics*, 2nd ed., 2010, ch. 5,
    for retention as customers kept over customers at risk). ``E - N`` also counts customers
    who were not customers at the opening but came back during the period (reactivated), so
    it can exceed ``retained / S``; ``retained`` is shown for the strict reading, and
    :func:`churn_rate` uses it.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import retention_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c", "d"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-10", "2024-02-05", "2024-01-20", "2024-01-25", "2024-02-10"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0, 25.0],
    ... })
    >>> retention_rate(tx, period="M", as_of="2024-02-29")
            start        end  customers_start  customers_end  new_customers  retained  retention_rate
    0  2024-02-01 2024-02-29                3              4              1         3             1.0
    """
    owner = "retention_rate"
    days = _days(active_days, "active_days", owner)
    window, c, prepared = _run(
        tx, owner, start=start, end=end, period=period, as_of=as_of, schema=schema,
        returns=returns, duplicates=duplicates, active_days=days,
    )  # fmt: skip
    row = {
        "start": window.start,
        "end": window.end,
        "customers_start": c["customers_start"],
        "customers_end": c["customers_end"],
        "new_customers": c["new_customers"],
        "retained": c["retained"],
        "retention_rate": ratio(c["customers_end"] - c["new_customers"], c["customers_start"]),
    }
    return one_row(row, prepared.engine, tx)


def churn_rate(
    tx: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    active_days: int = 365,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Customer churn rate of a period: lost customers over customers at the opening.

    Parameters are those of :func:`retention_rate`.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``customers_start`` (S), ``lost`` (customers at the
        opening who are no longer customers at ``end``: no purchase in the ``active_days``
        days up to it) and ``churn_rate`` = ``lost / S`` (missing when S is 0).

    Notes
    -----
    This is the *lost over at-risk* definition (Farris et al., *Marketing Metrics*, 2010,
    ch. 5): ``churn_rate = 1 - retained / S``. It equals ``1 - retention_rate`` exactly when
    no one who was not a customer at the opening came back during the period (``E - N`` of
    :func:`retention_rate` counts those too).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import churn_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-08-05", "2024-01-20"]),
    ...     "amount": [10.0, 20.0, 15.0],
    ... })
    >>> churn_rate(tx, start="2024-02-01", end="2024-12-31", active_days=180)
            start        end  customers_start  lost  churn_rate
    0  2024-02-01 2024-12-31                2     1         0.5
    """
    owner = "churn_rate"
    days = _days(active_days, "active_days", owner)
    window, c, prepared = _run(
        tx, owner, start=start, end=end, period=period, as_of=as_of, schema=schema,
        returns=returns, duplicates=duplicates, active_days=days,
    )  # fmt: skip
    row = {
        "start": window.start,
        "end": window.end,
        "customers_start": c["customers_start"],
        "lost": c["lost"],
        "churn_rate": ratio(c["lost"], c["customers_start"]),
    }
    return one_row(row, prepared.engine, tx)


def repeat_purchase_rate(
    tx: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    scope: Scope = "period",
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Repeat-purchase (repurchase) rate: the share of buyers who bought at least twice.

    Parameters
    ----------
    scope : {"period", "ever"}
        ``"period"``: buyers in the period with two or more purchases in it, over buyers in
        the period (the *period repurchase rate*, 复购率 of a month or year). ``"ever"``:
        customers with two or more purchases up to ``end``, over customers with one or more
        (the *cumulative repeat-customer rate*).
    tx, start, end, period, as_of, schema, returns, duplicates
        As for :func:`retention_rate`.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``customers`` (the denominator), ``repeat_customers``
        and ``repeat_purchase_rate`` (missing without customers).

    Notes
    -----
    A purchase is a purchase occasion (an order; a customer-day without order ids) with net
    spend above zero, so a fully refunded order is none.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import repeat_purchase_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c", "c"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-03-01", "2024-03-20", "2024-03-05", "2024-01-05", "2024-03-09"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0, 25.0],
    ... })
    >>> repeat_purchase_rate(tx, period="M", as_of="2024-03-31")
            start        end  customers  repeat_customers  repeat_purchase_rate
    0  2024-03-01 2024-03-31          3                 1              0.333333
    >>> repeat_purchase_rate(tx, period="M", as_of="2024-03-31", scope="ever")
            start        end  customers  repeat_customers  repeat_purchase_rate
    0  2024-03-01 2024-03-31          3                 2              0.666667
    """
    owner = "repeat_purchase_rate"
    check_choice(
        scope, ("period", "ever"), name="scope", owner=owner,
        fix="'period' (purchases in the period) or 'ever' (purchases up to its end).",
    )  # fmt: skip
    window, c, prepared = _run(
        tx, owner, start=start, end=end, period=period, as_of=as_of, schema=schema,
        returns=returns, duplicates=duplicates,
    )  # fmt: skip
    n, k = (
        (c["buyers"], c["repeat_buyers"])
        if scope == "period"
        else (c["customers_ever"], c["repeat_ever"])
    )
    row = {
        "start": window.start,
        "end": window.end,
        "customers": n,
        "repeat_customers": k,
        "repeat_purchase_rate": ratio(k, n),
    }
    return one_row(row, prepared.engine, tx)


def active_customer_rate(
    tx: Any,
    *,
    as_of: Any,
    days: int = 180,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Active-customer rate: the share of customers who bought within ``days`` of ``as_of``.

    Parameters
    ----------
    as_of : date, datetime or ISO string
        The date of the measure (required); lines after it are ignored.
    days : int
        The activity window: a purchase dated ``as_of - days + 1`` to ``as_of`` makes a
        customer active (180: the member activity rate "bought within 6 months").
    tx, schema, returns, duplicates
        As for :func:`retention_rate`.

    Returns
    -------
    dataframe
        One row: ``as_of`` (date), ``customers`` (customers with a purchase on or before
        ``as_of``), ``active_customers`` and ``active_customer_rate``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import active_customer_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "timestamp": pd.to_datetime(["2024-12-01", "2024-03-01", "2024-08-01", "2023-05-01"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0],
    ... })
    >>> active_customer_rate(tx, as_of="2024-12-31", days=180)
           as_of  customers  active_customers  active_customer_rate
    0 2024-12-31          4                 2                   0.5
    """
    owner = "active_customer_rate"
    n_days = _days(days, "days", owner)
    if as_of is None:
        parse_as_of(as_of)
    window, c, prepared = _run(
        tx, owner, start=None, end=None, period=1, as_of=as_of, schema=schema,
        returns=returns, duplicates=duplicates, active_days=n_days,
    )  # fmt: skip
    row = {
        "as_of": window.end,
        "customers": c["customers_ever"],
        "active_customers": c["customers_end"],
        "active_customer_rate": ratio(c["customers_end"], c["customers_ever"]),
    }
    return one_row(row, prepared.engine, tx)


def reactivation_rate(
    tx: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    inactive_days: int = 180,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Reactivation rate: lapsed customers who bought again in the period, over lapsed ones.

    Parameters
    ----------
    inactive_days : int
        A customer is *lapsed* at the period's opening when they bought before ``start`` but
        their last purchase was ``inactive_days`` or more days before the opening (the day
        before ``start``): their recency that day is at least ``inactive_days``.
    tx, start, end, period, as_of, schema, returns, duplicates
        As for :func:`retention_rate`.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``lapsed_customers``, ``reactivated`` (lapsed customers
        with a purchase in the period) and ``reactivation_rate``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import reactivation_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2023-01-10", "2024-02-05", "2023-03-01", "2023-12-20"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0],
    ... })
    >>> reactivation_rate(tx, period="M", as_of="2024-02-29", inactive_days=180)
            start        end  lapsed_customers  reactivated  reactivation_rate
    0  2024-02-01 2024-02-29                 2            1                0.5
    """
    owner = "reactivation_rate"
    days = _days(inactive_days, "inactive_days", owner)
    window, c, prepared = _run(
        tx, owner, start=start, end=end, period=period, as_of=as_of, schema=schema,
        returns=returns, duplicates=duplicates, inactive_days=days,
    )  # fmt: skip
    row = {
        "start": window.start,
        "end": window.end,
        "lapsed_customers": c["lapsed"],
        "reactivated": c["reactivated"],
        "reactivation_rate": ratio(c["reactivated"], c["lapsed"]),
    }
    return one_row(row, prepared.engine, tx)


def old_customer_revenue_share(
    tx: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Old-customer revenue share (老客贡献占比): revenue of the period from customers whose
    first purchase precedes it, over the period's revenue.

    Parameters are those of :func:`retention_rate`.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``revenue`` (net spend of every occasion in the period,
        under the ``returns`` policy), ``old_customer_revenue``, ``new_customer_revenue``
        (customers whose first purchase falls in the period — or who have none, such as a
        refund-only customer) and ``old_customer_revenue_share`` (missing when revenue is 0).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import old_customer_revenue_share
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-02-05", "2024-02-20"]),
    ...     "amount": [10.0, 30.0, 10.0],
    ... })
    >>> old_customer_revenue_share(tx, period="M", as_of="2024-02-29")
            start        end  revenue  old_customer_revenue  new_customer_revenue  old_customer_revenue_share
    0  2024-02-01 2024-02-29     40.0                  30.0                  10.0                        0.75
    """
    owner = "old_customer_revenue_share"
    window, c, prepared = _run(
        tx, owner, start=start, end=end, period=period, as_of=as_of, schema=schema,
        returns=returns, duplicates=duplicates,
    )  # fmt: skip
    scale = _scale(prepared)
    total, old = c["revenue_minor"], c["old_minor"]
    row = {
        "start": window.start,
        "end": window.end,
        "revenue": total / scale,
        "old_customer_revenue": old / scale,
        "new_customer_revenue": (total - old) / scale,
        "old_customer_revenue_share": ratio(old, total),
    }
    return one_row(row, prepared.engine, tx)


# ---------------------------------------------------------------------------------------------
# interpurchase times and the repurchase cycle
# ---------------------------------------------------------------------------------------------


def purchase_day_gaps(occ: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """One row per customer and purchase day after the first: ``customer_id``, ``purchase``
    (the day's number, 2 for the second purchase day), ``date`` and ``gap_days``."""
    days = (
        occ.filter(nw.col("is_purchase"))
        .group_by("customer_id", "day")
        .agg(nw.col("date").min().alias("date"))
        .with_columns(
            purchase=nw.col("day").rank("dense").over("customer_id").cast(nw.Int64),
        )
    )
    before = days.select(
        "customer_id",
        (nw.col("purchase") + 1).cast(nw.Int64).alias("purchase"),
        nw.col("day").alias("previous_day"),
    )
    return days.join(before, on=["customer_id", "purchase"], how="inner").select(
        "customer_id",
        "purchase",
        "date",
        (nw.col("day") - nw.col("previous_day")).cast(nw.Int64).alias("gap_days"),
    )


def interpurchase_times(
    tx: Any,
    *,
    as_of: Any,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Days between a customer's consecutive purchase days: a long table.

    Parameters
    ----------
    as_of : date, datetime or ISO string
        Lines after it are ignored (required).
    tx, schema, returns, duplicates
        As for :func:`retention_rate`.

    Returns
    -------
    dataframe
        The caller's kind (lazy stays lazy), one row per customer and purchase day after the
        first, sorted by ``customer_id`` and ``purchase``: ``customer_id``, ``purchase``
        (2 for the second purchase day, ...), ``date`` (that day) and ``gap_days`` (whole days
        since the previous purchase day). Customers with fewer than two purchase days have no
        rows.

    Notes
    -----
    Purchases are purchase occasions with net spend above zero; two orders on one day are
    one purchase day, so every gap is at least one day.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import interpurchase_times
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-10", "2024-01-05"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0],
    ... })
    >>> interpurchase_times(tx, as_of="2024-12-31")
      customer_id  purchase       date  gap_days
    0           a         2 2024-01-11        10
    1           a         3 2024-02-10        30
    """
    owner = "interpurchase_times"
    parse_as_of(as_of)
    prepared = prepared_lines(
        tx, cut=as_of, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=OCCASION_READS,
    )  # fmt: skip
    gaps = purchase_day_gaps(purchase_occasions(prepared, returns=returns))
    return prepared.engine.to_native(gaps.sort("customer_id", "purchase"))


def labels_frame(
    labels: Any, by: str | None, prepared: PreparedTransactions, owner: str
) -> tuple[nw.LazyFrame[Any], str]:
    """The caller's segment labels as ``(customer_id, <by>)``, joinable with the lines.

    ``by`` names the label column; ``None`` takes the one column besides ``customer_id``.
    Each customer may appear once.
    """
    frame = same_engine_frame(labels, prepared.engine, "labels")
    names = [str(c) for c in frame.collect_schema().names()]
    if by is None:
        others = [c for c in names if c != "customer_id"]
        if len(others) != 1:
            raise parameter_error(
                "by", owner, "the name of the labels column", None,
                f"labels has columns {names}; name the one holding the segment, e.g. "
                "by='segment'.",
            )  # fmt: skip
        by = others[0]
    missing = {r: c for r, c in (("customer_id", "customer_id"), ("by", by)) if c not in names}
    if missing:
        raise MissingColumnsError(
            list(missing.values()),
            available=names,
            role="labels",
            fix="labels needs customer_id and the segment column; name it with by='...'.",
        )
    frame = frame.select("customer_id", by)
    tx_type = prepared.frame.collect_schema()["customer_id"]
    lab_type = frame.collect_schema()["customer_id"]
    if (tx_type == nw.String) != (lab_type == nw.String):
        raise ConfigError(
            f"labels: customer_id is {lab_type} but the transactions' is {tx_type}. "
            "Fix: cast both to the same type (e.g. text) first."
        )
    stats = (
        prepared.engine.collect_small(
            frame.select(
                nw.len().alias("rows"), nw.col("customer_id").n_unique().alias("customers")
            )
        )
        .to_native()
        .row(0, named=True)
    )
    if stats["rows"] != stats["customers"]:
        raise InvalidDataError(
            f"labels: {stats['rows'] - stats['customers']} customer_id value(s) appear more "
            "than once. Fix: give each customer one label (e.g. labels.drop_duplicates("
            "'customer_id'))."
        )
    return frame, by


def repurchase_cycle(
    tx: Any,
    *,
    as_of: Any,
    labels: Any = None,
    by: str | None = None,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """The repurchase cycle: median days between consecutive purchase days, per segment.

    Parameters
    ----------
    as_of : date, datetime or ISO string
        Lines after it are ignored (required).
    labels : dataframe, optional
        One row per customer: ``customer_id`` and a segment column (e.g. the output of a
        segmentation); gives one row per segment. Customers without a label form the
        missing-label group.
    by : str, optional
        The segment column of ``labels``; ``None`` takes its one column besides
        ``customer_id``.
    tx, schema, returns, duplicates
        As for :func:`interpurchase_times`.

    Returns
    -------
    dataframe
        Small, the caller's kind: (with ``labels``, the segment column, sorted, missing last)
        ``customers`` (with at least one gap), ``gaps``, ``median_days`` and ``mean_days``
        of the gaps of :func:`interpurchase_times`.

    Notes
    -----
    The median of an even number of gaps is the mean of the two middle ones. Every gap
    counts once, so customers who buy often weigh more; see ``mean_interpurchase_days`` in
    the feature table for a per-customer view.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import repurchase_cycle
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-01", "2024-01-11", "2024-02-10", "2024-01-05", "2024-01-25"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0, 5.0],
    ... })
    >>> repurchase_cycle(tx, as_of="2024-12-31")
       customers  gaps  median_days  mean_days
    0          2     3         20.0       20.0
    """
    owner = "repurchase_cycle"
    parse_as_of(as_of)
    prepared = prepared_lines(
        tx, cut=as_of, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=OCCASION_READS,
    )  # fmt: skip
    gaps = purchase_day_gaps(purchase_occasions(prepared, returns=returns))
    aggs = [
        nw.col("customer_id").n_unique().cast(nw.Int64).alias("customers"),
        nw.len().cast(nw.Int64).alias("gaps"),
        nw.col("gap_days").cast(nw.Float64).median().alias("median_days"),
        nw.col("gap_days").cast(nw.Float64).mean().alias("mean_days"),
    ]
    if labels is None:
        result = prepared.engine.collect_small(gaps.select(*aggs)).to_native()
        result = result.with_columns(pl.col("customers", "gaps").fill_null(0))
    else:
        frame, key = labels_frame(labels, by, prepared, owner)
        joined = gaps.join(frame, on="customer_id", how="left")
        result = prepared.engine.collect_small(joined.group_by(key).agg(*aggs)).to_native()
        result = result.sort(key, nulls_last=True)
    result = result.with_columns(pl.col("customers", "gaps").cast(pl.Int64))
    return prepared.engine.small_native(result, like=tx)


# ---------------------------------------------------------------------------------------------
# referrals
# ---------------------------------------------------------------------------------------------


def _referrals(
    tx: Any,
    customers: Any,
    owner: str,
    *,
    start: Any,
    end: Any,
    period: Any,
    as_of: Any,
    referred_by: str,
    customer_schema: CustomerSchema | None,
    schema: TransactionSchema | None,
    returns: Any,
    duplicates: Any,
) -> tuple[Window, dict[str, int], PreparedTransactions]:
    """Counts behind the three referral rates, from one per-customer table."""
    window = resolve_window(start=start, end=end, period=period, as_of=as_of, owner=owner)
    prepared = prepared_lines(
        tx, cut=window.cut, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=OCCASION_READS,
    )  # fmt: skip
    cs = customer_schema or CustomerSchema()
    side = prepare_customers(customers, cs, engine=prepared.engine)
    names = [str(c) for c in side.collect_schema().names()]
    if referred_by not in names:
        raise missing_columns_error(
            {"referred_by": referred_by}, names, table="customers", schema=owner
        )
    s, e = window.start_day, window.end_day
    occ = purchase_occasions(prepared, returns=returns)
    buy = nw.col("is_purchase")
    day = nw.col("day")
    buyers = occ.group_by("customer_id").agg(
        nw.when(buy).then(day).min().alias("first_day"),
        _flag(buy & (day >= s) & (day <= e)).sum().cast(nw.Int64).alias("n_in"),
    )
    reg = (
        day_number(nw.col("registered_at")) if "registered_at" in names else nw.lit(None, nw.Int64)
    )
    profile = side.select(
        "customer_id",
        nw.col(referred_by).alias("referrer"),
        reg.cast(nw.Int64).alias("reg_day"),
    )
    people = profile.join(buyers, on="customer_id", how="full", suffix="_b").with_columns(
        nw.coalesce(nw.col("customer_id"), nw.col("customer_id_b")).alias("customer_id")
    )
    referral_day = nw.coalesce(nw.col("reg_day"), nw.col("first_day"))
    referred = ~nw.col("referrer").is_null()
    people = people.with_columns(
        referred=_flag(referred).cast(nw.Int64),
        referred_in=_flag(referred & (referral_day >= s) & (referral_day <= e)),
        new=_flag((nw.col("first_day") >= s) & (nw.col("first_day") <= e)),
        active=_flag(nw.col("n_in") >= 1),
        bought=_flag(~nw.col("first_day").is_null()),
    )
    tx_type = buyers.collect_schema()["customer_id"]
    ref_type = profile.collect_schema()["referrer"]
    known = ref_type == nw.String or ref_type.is_numeric()
    if known and (tx_type == nw.String) != (ref_type == nw.String):
        raise ConfigError(
            f"customers: {referred_by} is {ref_type} but customer_id is {tx_type}. "
            f"Fix: store {referred_by} as the referrer's customer id, of the same type."
        )
    made = (
        people.filter(nw.col("referred_in") == 1)
        .group_by("referrer")
        .agg(nw.len().cast(nw.Int64).alias("n_made"))
        .select(nw.col("referrer").cast(tx_type).alias("customer_id"), "n_made")
    )
    base = people.select("customer_id", "referred", "referred_in", "new", "active", "bought")
    table = base.join(made, on="customer_id", how="left")
    agg = table.select(
        nw.col("new").sum().cast(nw.Int64).alias("new"),
        (nw.col("new") * nw.col("referred")).sum().cast(nw.Int64).alias("referred_new"),
        nw.col("active").sum().cast(nw.Int64).alias("active"),
        _flag((nw.col("active") == 1) & (nw.col("n_made") >= 1))
        .sum()
        .cast(nw.Int64)
        .alias("referrers"),
        nw.col("referred_in").sum().cast(nw.Int64).alias("referrals"),
        (nw.col("referred_in") * nw.col("bought")).sum().cast(nw.Int64).alias("converted"),
    )
    row = prepared.engine.collect_small(agg).to_native().row(0, named=True)
    return window, {k: int(v or 0) for k, v in row.items()}, prepared


_REFERRAL_DOC = """
    Parameters
    ----------
    tx : dataframe
        Transaction lines of any supported engine.
    customers : dataframe
        One row per customer (same engine as ``tx``): ``customer_id``, the referrer's
        customer id in ``referred_by`` (missing for customers who were not referred) and,
        optionally, ``registered_at`` (the referral date; without it, a referred customer's
        first purchase date).
    referred_by : str
        The referrer column of ``customers``.
    customer_schema : CustomerSchema, optional
        Column mapping for ``customers`` (its key and ``registered_at``).
    start, end, period, as_of, schema, returns, duplicates
        As for :func:`retention_rate`.
"""


def referral_rate(
    tx: Any,
    customers: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    referred_by: str = "referred_by",
    customer_schema: CustomerSchema | None = None,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Referral rate: the share of the period's new customers who were referred.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``new_customers`` (first purchase in the period),
        ``referred_new_customers`` (of those, with a referrer) and ``referral_rate``.

    Notes
    -----
    One of three common referral measures, each under its own name: this one (referred new
    customers / new customers: how much of acquisition comes from referrals),
    :func:`referrer_rate` (customers who refer / active customers) and
    :func:`referral_conversion_rate` (referred people who buy / referrals).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import referral_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "timestamp": pd.to_datetime(["2023-12-01", "2024-01-05", "2024-01-09", "2024-01-20"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0],
    ... })
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"], "referred_by": [None, "a", None, "a"]})
    >>> referral_rate(tx, customers, period="M", as_of="2024-01-31")
            start        end  new_customers  referred_new_customers  referral_rate
    0  2024-01-01 2024-01-31              3                       2       0.666667
    """
    owner = "referral_rate"
    window, c, prepared = _referrals(
        tx, customers, owner, start=start, end=end, period=period, as_of=as_of,
        referred_by=referred_by, customer_schema=customer_schema, schema=schema,
        returns=returns, duplicates=duplicates,
    )  # fmt: skip
    row = {
        "start": window.start,
        "end": window.end,
        "new_customers": c["new"],
        "referred_new_customers": c["referred_new"],
        "referral_rate": ratio(c["referred_new"], c["new"]),
    }
    return one_row(row, prepared.engine, tx)


def referrer_rate(
    tx: Any,
    customers: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    referred_by: str = "referred_by",
    customer_schema: CustomerSchema | None = None,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Referrer rate: the share of the period's active customers who referred someone in it.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``active_customers`` (a purchase in the period),
        ``referrers`` (of those, customers named as ``referred_by`` of at least one customer
        whose referral date falls in the period) and ``referrer_rate``.

    Notes
    -----
    See :func:`referral_rate` for the three referral measures.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import referrer_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-09", "2024-01-20"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0],
    ... })
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d"], "referred_by": [None, "a", None, "a"]})
    >>> referrer_rate(tx, customers, period="M", as_of="2024-01-31")
            start        end  active_customers  referrers  referrer_rate
    0  2024-01-01 2024-01-31                 4          1           0.25
    """
    owner = "referrer_rate"
    window, c, prepared = _referrals(
        tx, customers, owner, start=start, end=end, period=period, as_of=as_of,
        referred_by=referred_by, customer_schema=customer_schema, schema=schema,
        returns=returns, duplicates=duplicates,
    )  # fmt: skip
    row = {
        "start": window.start,
        "end": window.end,
        "active_customers": c["active"],
        "referrers": c["referrers"],
        "referrer_rate": ratio(c["referrers"], c["active"]),
    }
    return one_row(row, prepared.engine, tx)


def referral_conversion_rate(
    tx: Any,
    customers: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    referred_by: str = "referred_by",
    customer_schema: CustomerSchema | None = None,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Referral conversion rate: referred people (referral date in the period) who bought by
    its end, over those referrals.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``referrals`` (customers with a referrer whose referral
        date — ``registered_at``, else their first purchase — falls in the period),
        ``converted`` (of those, with a purchase up to ``end``) and
        ``referral_conversion_rate``.

    Notes
    -----
    Referred people who never bought have a referral date only through ``registered_at``:
    without that column every counted referral has bought, and the rate is 1. See
    :func:`referral_rate` for the three referral measures.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import referral_conversion_rate
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05"]),
    ...     "amount": [10.0, 20.0],
    ... })
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c"],
    ...     "registered_at": pd.to_datetime(["2023-06-01", "2024-01-03", "2024-01-15"]),
    ...     "referred_by": [None, "a", "a"]})
    >>> referral_conversion_rate(tx, customers, period="M", as_of="2024-01-31")
            start        end  referrals  converted  referral_conversion_rate
    0  2024-01-01 2024-01-31          2          1                       0.5
    """
    owner = "referral_conversion_rate"
    window, c, prepared = _referrals(
        tx, customers, owner, start=start, end=end, period=period, as_of=as_of,
        referred_by=referred_by, customer_schema=customer_schema, schema=schema,
        returns=returns, duplicates=duplicates,
    )  # fmt: skip
    row = {
        "start": window.start,
        "end": window.end,
        "referrals": c["referrals"],
        "converted": c["converted"],
        "referral_conversion_rate": ratio(c["converted"], c["referrals"]),
    }
    return one_row(row, prepared.engine, tx)


for _f in (referral_rate, referrer_rate, referral_conversion_rate):
    if _f.__doc__:
        _head, _sep, _tail = _f.__doc__.partition("\n    Returns\n")
        _f.__doc__ = _head.rstrip() + "\n" + _REFERRAL_DOC + "\n    Returns\n" + _tail


# ---------------------------------------------------------------------------------------------
# omnichannel
# ---------------------------------------------------------------------------------------------


def omnichannel_summary(
    tx: Any,
    *,
    start: Any = None,
    end: Any = None,
    period: Period | int | None = None,
    as_of: Any = None,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Omnichannel customers: their share and their spend against single-channel customers.

    Parameters are those of :func:`retention_rate`; ``tx`` needs a ``channel`` column.

    Returns
    -------
    dataframe
        One row: ``start``, ``end``, ``customers`` (with a purchase in the period),
        ``omnichannel_customers`` (of those, buying in more than one channel in the period),
        ``omnichannel_share``, ``omnichannel_spend`` and ``single_channel_spend`` (mean net
        spend in the period per customer of each group) and ``spend_ratio`` (the first over
        the second: "omnichannel members spent 2.4x single-channel members").

    Notes
    -----
    A customer's channels are the distinct non-missing channels of their purchase lines
    (positive amounts) in the period; a buyer with no known channel counts as
    single-channel.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import omnichannel_summary
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c"],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-01-20", "2024-01-05", "2024-01-09"]),
    ...     "amount": [100.0, 140.0, 60.0, 40.0],
    ...     "channel": ["store", "app", "store", "store"],
    ... })
    >>> r = omnichannel_summary(tx, period="M", as_of="2024-01-31")
    >>> r[["customers", "omnichannel_customers", "omnichannel_share"]]
       customers  omnichannel_customers  omnichannel_share
    0          3                      1           0.333333
    >>> r[["omnichannel_spend", "single_channel_spend", "spend_ratio"]]
       omnichannel_spend  single_channel_spend  spend_ratio
    0              240.0                  50.0          4.8
    """
    owner = "omnichannel_summary"
    window = resolve_window(start=start, end=end, period=period, as_of=as_of, owner=owner)
    prepared = prepared_lines(
        tx, cut=window.cut, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=(*OCCASION_READS, "channel"),
    )  # fmt: skip
    if not prepared.has("channel"):
        raise missing_columns_error(
            {"channel": prepared.schema.channel or "channel"},
            prepared.source_columns,
            table="tx",
            schema="TransactionSchema",
        )
    s, e = window.start_day, window.end_day
    day = nw.col("day")
    occ = purchase_occasions(prepared, returns=returns)
    inside = (day >= s) & (day <= e)
    spend = occ.group_by("customer_id").agg(
        _flag(nw.col("is_purchase") & inside).sum().cast(nw.Int64).alias("n_in"),
        nw.when(inside)
        .then(nw.col("net_minor"))
        .otherwise(nw.lit(0, nw.Int64))
        .sum()
        .cast(nw.Int64)
        .alias("rev"),
    )
    lines = prepared.frame.with_columns(
        day=day_number(nw.col("date"), prepared.frame.implementation)
    )
    channels = (
        lines.filter((nw.col("amount_minor") > 0) & inside & ~nw.col("channel").is_null())
        .group_by("customer_id")
        .agg(nw.col("channel").n_unique().cast(nw.Int64).alias("n_channels"))
    )
    table = (
        spend.filter(nw.col("n_in") >= 1)
        .join(channels, on="customer_id", how="left")
        .with_columns(omni=_flag(nw.col("n_channels") > 1))
    )
    agg = table.select(
        nw.len().cast(nw.Int64).alias("customers"),
        nw.col("omni").sum().cast(nw.Int64).alias("omni"),
        (nw.col("omni") * nw.col("rev")).sum().cast(nw.Int64).alias("omni_rev"),
        nw.col("rev").sum().cast(nw.Int64).alias("rev"),
    )
    c = {
        k: int(v or 0)
        for k, v in prepared.engine.collect_small(agg).to_native().row(0, named=True).items()
    }
    scale = _scale(prepared)
    single = c["customers"] - c["omni"]
    omni_spend = ratio(c["omni_rev"] / scale, c["omni"])
    single_spend = ratio((c["rev"] - c["omni_rev"]) / scale, single)
    row = {
        "start": window.start,
        "end": window.end,
        "customers": c["customers"],
        "omnichannel_customers": c["omni"],
        "omnichannel_share": ratio(c["omni"], c["customers"]),
        "omnichannel_spend": omni_spend,
        "single_channel_spend": single_spend,
        "spend_ratio": None
        if omni_spend is None or single_spend is None
        else ratio(omni_spend, single_spend),
    }
    return one_row(row, prepared.engine, tx)
