"""Behaviour features from the events table: what customers looked at, carted and kept.

Per customer, as of a date (events after it are ignored):

* ``views_{w}d``, ``carts_{w}d``, ``favourites_{w}d``: events of that type in the last ``w``
  days (the dates ``as_of - w + 1`` to ``as_of``, as for ``orders_{w}d``);
* ``days_since_last_view``: whole days from the date of the last view to the ``as_of`` date
  (null for a customer who never viewed anything);
* ``viewed_not_bought_{N}d``: something viewed in the last ``N`` days was not bought on or
  after the day of its first view in those days. "Something" is a product when both the
  events and the transactions have product ids, else a category when both have categories
  (views without one are not counted), else any purchase at all. Purchases are purchase
  lines (positive amounts) up to ``as_of``.

Searches are validated and kept but add no feature yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, day_number, parse_as_of
from retailcrm.exceptions import ConfigError

__all__ = [
    "EVENT_COUNTS",
    "VIEWED_NOT_BOUGHT_DAYS",
    "event_feature_names",
    "event_features",
    "with_event_features",
]

#: (event type, plural used in column names) of the counted events.
EVENT_COUNTS = (("view", "views"), ("cart", "carts"), ("favourite", "favourites"))
#: The default look-back of ``viewed_not_bought_{N}d`` (the boutique's "browsed a dress 3 days
#: ago without buying" trigger).
VIEWED_NOT_BOUGHT_DAYS = 3


def event_feature_names(windows: Sequence[int], viewed_not_bought_days: int) -> list[str]:
    """The columns :func:`event_features` adds, in order."""
    names = [f"{plural}_{w}d" for _, plural in EVENT_COUNTS for w in windows]
    return [*names, "days_since_last_view", f"viewed_not_bought_{viewed_not_bought_days}d"]


def _check_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            "The 'viewed_not_bought_days' parameter must be a positive whole number of days. "
            f"Got {value!r} instead. Fix: e.g. viewed_not_bought_days=3."
        )
    return value


def _day(lf: nw.LazyFrame[Any]) -> nw.Expr:
    """The day number of a canonical frame's rows (``date`` if present, else ``timestamp``)."""
    names = lf.collect_schema().names()
    return day_number(nw.col("date") if "date" in names else nw.col("timestamp"), lf.implementation)


def _up_to(lf: nw.LazyFrame[Any], as_of: AsOf) -> nw.LazyFrame[Any]:
    """Rows at or before ``as_of``: a date covers its whole day, a datetime is an instant."""
    dtype = lf.collect_schema()["timestamp"]
    if as_of.is_date or dtype == nw.Date:
        return lf.filter(day_number(nw.col("timestamp"), lf.implementation) <= as_of.day)
    cutoff = as_of.cutoff.replace(tzinfo=None)
    return lf.filter(nw.col("timestamp") <= nw.lit(cutoff))


def _match_type(lf: nw.LazyFrame[Any], column: str, target: Any, what: str) -> nw.LazyFrame[Any]:
    """Cast ``column`` to ``target`` (numbers of another width); text against numbers fails."""
    dtype = lf.collect_schema()[column]
    if dtype == target:
        return lf
    if (dtype == nw.String) != (target == nw.String):
        raise ConfigError(
            f"events: {column} is {dtype} but the {what}' is {target}, so they never match. "
            "Fix: cast both to the same type (e.g. text) first."
        )
    return lf.with_columns(nw.col(column).cast(target))


def event_features(
    events_lf: nw.LazyFrame[Any],
    *,
    as_of: Any,
    windows: Sequence[int],
    viewed_not_bought_days: int = VIEWED_NOT_BOUGHT_DAYS,
    purchases_lf: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """One row per customer with an event on or before ``as_of`` (see the module docstring).

    Parameters
    ----------
    events_lf : narwhals.LazyFrame
        Canonical events (:func:`retailcrm.data._tables.prepare_events`): ``customer_id``,
        ``timestamp``, ``event_type`` and optionally ``product_id`` and ``category``.
    as_of : AsOf, date, datetime or ISO string
        The analysis date (a date covers its whole day).
    windows : sequence of int
        Day windows of the counts.
    viewed_not_bought_days : int
        ``N`` of ``viewed_not_bought_{N}d``.
    purchases_lf : narwhals.LazyFrame, optional
        Canonical transaction lines (``customer_id``, ``timestamp`` or ``date``, ``amount``,
        optionally ``product_id``, ``category``) of the same engine. Without it nothing counts
        as bought: every recent view makes the flag true.

    Returns
    -------
    narwhals.LazyFrame
        ``customer_id`` and the columns of :func:`event_feature_names`, unsorted.
    """
    asof = as_of if isinstance(as_of, AsOf) else parse_as_of(as_of)
    n_days = _check_days(viewed_not_bought_days)
    wins = tuple(windows)
    names = list(events_lf.collect_schema().names())
    day, last = (nw.generate_temporary_column_name(8, names) for _ in range(2))
    last = last + "_last"
    ev = _up_to(events_lf, asof).with_columns(_day(events_lf).alias(day))
    kind = nw.col("event_type")
    aggs = [
        ((kind == t) & (nw.col(day) > asof.day - w))
        .cast(nw.Int64)
        .sum()
        .cast(nw.Int64)
        .alias(f"{plural}_{w}d")
        for t, plural in EVENT_COUNTS
        for w in wins
    ]
    aggs.append(nw.when(kind == "view").then(nw.col(day)).max().alias(last))
    per = ev.group_by("customer_id").agg(*aggs)
    per = per.with_columns(
        days_since_last_view=(nw.lit(asof.day) - nw.col(last)).cast(nw.Int64)
    ).drop(last)
    flag = f"viewed_not_bought_{n_days}d"
    views = ev.filter((kind == "view") & (nw.col(day) > asof.day - n_days))
    flags = _not_bought(views, day, asof, purchases_lf, flag)
    per = per.join(flags, on="customer_id", how="left")
    return per.with_columns(nw.col(flag).fill_null(value=False)).select(
        "customer_id", *event_feature_names(wins, n_days)
    )


def _not_bought(
    views: nw.LazyFrame[Any],
    day: str,
    asof: AsOf,
    purchases_lf: nw.LazyFrame[Any] | None,
    flag: str,
) -> nw.LazyFrame[Any]:
    """Per customer with a recent view: whether something viewed was not bought since."""
    if purchases_lf is None:
        return views.group_by("customer_id").agg(
            (nw.len() > 0).alias(flag)  # every recent view counts: nothing is bought
        )
    bought = f"{day}_bought"
    first = f"{day}_first"
    ev_names = views.collect_schema().names()
    tx_names = purchases_lf.collect_schema().names()
    key = next((k for k in ("product_id", "category") if k in ev_names and k in tx_names), None)
    keys = ["customer_id", key] if key else ["customer_id"]
    buys = purchases_lf
    if "amount" in tx_names:
        buys = buys.filter(nw.col("amount") > 0)
    buys = buys.with_columns(_day(purchases_lf).alias(day)).filter(nw.col(day) <= asof.day)
    if key:
        views = views.filter(~nw.col(key).is_null())
        buys = buys.filter(~nw.col(key).is_null())
        views = _match_type(views, key, buys.collect_schema()[key], "transactions")
    views = _match_type(views, "customer_id", buys.collect_schema()["customer_id"], "transactions")
    first_view = views.group_by(*keys).agg(nw.col(day).min().alias(first))
    last_buy = buys.group_by(*keys).agg(nw.col(day).max().alias(bought))
    not_bought = nw.col(bought).is_null() | (nw.col(bought) < nw.col(first))
    return (
        first_view.join(last_buy, on=keys, how="left")
        .with_columns(not_bought.cast(nw.Int64).alias(flag))
        .group_by("customer_id")
        .agg((nw.col(flag).max() == 1).alias(flag))
    )


def prepare_event_side(events: Any, event_schema: Any, prepared: Any) -> nw.LazyFrame[Any]:
    """The events table validated (:func:`~retailcrm.data.validate_events`'s errors raise) and
    canonical, read in the transactions' time zone unless the event schema names its own."""
    import attrs

    from retailcrm.data import EventSchema
    from retailcrm.data._tables import prepare_events

    es = event_schema if event_schema is not None else EventSchema()
    if not isinstance(es, EventSchema):
        raise ConfigError(
            f"event_schema must be an EventSchema, got {type(es).__name__}. "
            "Fix: event_schema=EventSchema(customer_id=..., timestamp=..., event_type=...)."
        )
    if es.timezone is None and prepared.schema.timezone:
        es = attrs.evolve(es, timezone=prepared.schema.timezone)
    return prepare_events(events, es, engine=prepared.engine)


def with_event_features(
    table: nw.LazyFrame[Any],
    frame: nw.LazyFrame[Any],
    prepared: Any,
    asof: AsOf,
    wins: tuple[int, ...],
) -> nw.LazyFrame[Any]:
    """``table`` (one row per customer) with the features of the prepared events ``frame``.

    Customers of the table without events get zero counts, a null ``days_since_last_view`` and
    ``False``; events of customers who are not rows of the table add no rows (as for campaign
    responses).
    """
    frame = _match_type(frame, "customer_id", table.collect_schema()["customer_id"], "transactions")
    feats = event_features(frame, as_of=asof, windows=wins, purchases_lf=prepared.frame)
    names = event_feature_names(wins, VIEWED_NOT_BOUGHT_DAYS)
    counts = names[:-2]
    out = table.join(feats, on="customer_id", how="left")
    return out.with_columns(
        *(nw.col(c).fill_null(0).cast(nw.Int64) for c in counts),
        nw.col(names[-1]).fill_null(value=False),
    )
