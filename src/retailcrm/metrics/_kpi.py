"""The headline KPI block: this period against the one before."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import Period, parse_as_of
from retailcrm._engine import collect_polars
from retailcrm._params import check_int
from retailcrm.data import TransactionSchema
from retailcrm.data._prepare import Duplicates
from retailcrm.features._occasions import OCCASION_READS, purchase_occasions
from retailcrm.metrics._retention import (
    ReturnsPolicy,
    Window,
    prepared_lines,
    ratio,
    resolve_window,
    window_counts,
)

__all__ = ["KPI_NAMES", "kpi_summary"]

#: The rows of :func:`kpi_summary`, in order.
KPI_NAMES = (
    "customers",
    "new_customers",
    "active_customers",
    "buyers",
    "orders",
    "revenue",
    "aov",
    "repeat_purchase_rate",
    "old_customer_revenue_share",
)


def _values(c: dict[str, int], scale: int) -> dict[str, float | None]:
    revenue = c["revenue_minor"] / scale
    return {
        "customers": float(c["customers_ever"]),
        "new_customers": float(c["new_customers"]),
        "active_customers": float(c["customers_end"]),
        "buyers": float(c["buyers"]),
        "orders": float(c["orders"]),
        "revenue": revenue,
        "aov": ratio(revenue, c["orders"]),
        "repeat_purchase_rate": ratio(c["repeat_buyers"], c["buyers"]),
        "old_customer_revenue_share": ratio(c["old_minor"], c["revenue_minor"]),
    }


def kpi_summary(
    tx: Any,
    *,
    as_of: Any,
    period: Period | int = "M",
    active_days: int = 180,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """The headline KPI block of a period, with the previous period and the change.

    Parameters
    ----------
    tx : dataframe
        Transaction lines of any supported engine.
    as_of : date, datetime or ISO string
        The last day of the current period (required); lines after it are ignored.
    period : {"D", "W", "M", "Q", "Y"} or int
        The current period: the calendar period containing ``as_of`` (from its first day to
        ``as_of``), or that many days ending on ``as_of``. The previous period is the whole
        calendar period before (or as many days, ending the day before). Pass a period end as
        ``as_of`` to compare like with like.
    active_days : int
        ``active_customers`` bought in the ``active_days`` days up to the period's end.
    schema, returns, duplicates
        As for :func:`~retailcrm.customer_features`.

    Returns
    -------
    dataframe
        Small, of the caller's kind, one row per KPI (``metric``, in the order of
        ``KPI_NAMES``), with ``current``, ``previous``, ``change`` (current - previous) and
        ``relative_change`` (change / previous; missing when previous is 0 or missing):

        ``customers`` (customers with a purchase up to the period's end), ``new_customers``
        (first purchase in the period), ``active_customers``, ``buyers`` (a purchase in the
        period), ``orders`` (purchases in the period), ``revenue`` (net), ``aov`` (revenue /
        orders), ``repeat_purchase_rate`` (buyers with two or more purchases in the period /
        buyers) and ``old_customer_revenue_share`` (see
        :func:`~retailcrm.metrics.old_customer_revenue_share`).

    Notes
    -----
    Every figure uses the definitions of the one-row metrics of this package, computed for
    both periods from one validation of the lines.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import kpi_summary
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "a", "a", "c"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-17", "2024-02-20"]),
    ...     "amount": [40.0, 60.0, 30.0, 50.0, 20.0],
    ... })
    >>> kpi_summary(tx, as_of="2024-02-29")
                           metric  current  previous  change  relative_change
    0                   customers     3.00       2.0  1.0000         0.500000
    1               new_customers     1.00       2.0 -1.0000        -0.500000
    2            active_customers     3.00       2.0  1.0000         0.500000
    3                      buyers     2.00       2.0  0.0000         0.000000
    4                      orders     3.00       2.0  1.0000         0.500000
    5                     revenue   100.00     100.0  0.0000         0.000000
    6                         aov    33.33      50.0 -16.6667        -0.333333
    7        repeat_purchase_rate     0.50       0.0  0.5000              NaN
    8  old_customer_revenue_share     0.80       0.0  0.8000              NaN
    """
    owner = "kpi_summary"
    parse_as_of(as_of)
    days = check_int(
        active_days, name="active_days", owner=owner, low=1, fix="a number of days, e.g. 180."
    )
    current = resolve_window(start=None, end=None, period=period, as_of=as_of, owner=owner)
    previous: Window = current.previous()
    prepared = prepared_lines(
        tx, cut=current.cut, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=OCCASION_READS,
    ).materialised()  # fmt: skip
    engine = prepared.engine
    scale = int(10**prepared.schema.currency_decimals)
    occ = purchase_occasions(prepared, returns=returns)
    if not engine.is_lazy:
        occ = occ.pipe(collect_polars).lazy()
    now = _values(window_counts(occ, current, engine, active_days=days), scale)
    before_occ = occ.filter(nw.col("day") <= previous.end_day)
    before = _values(window_counts(before_occ, previous, engine, active_days=days), scale)
    rows = []
    for name in KPI_NAMES:
        a, b = now[name], before[name]
        change = None if a is None or b is None else a - b
        rows.append(
            {
                "metric": name,
                "current": a,
                "previous": b,
                "change": change,
                "relative_change": None if change is None or not b else change / b,
            }
        )
    table = pl.DataFrame(
        rows,
        schema={
            "metric": pl.String,
            "current": pl.Float64,
            "previous": pl.Float64,
            "change": pl.Float64,
            "relative_change": pl.Float64,
        },
    )
    return engine.small_native(table, like=tx)
