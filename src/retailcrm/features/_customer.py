"""customer_features: one row per customer as of a date."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, day_number, month_number, parse_as_of
from retailcrm._engine import Engine, exact_quotient
from retailcrm.data._prepare import Duplicates, PreparedTransactions, prepare_transactions
from retailcrm.data._schema import (
    CustomerSchema,
    EventSchema,
    ResponseSchema,
    TransactionSchema,
)
from retailcrm.data._tables import (
    columns_of,
    prepare_customers,
    prepare_responses,
    same_engine_frame,
)
from retailcrm.exceptions import ConfigError
from retailcrm.features._events import (
    VIEWED_NOT_BOUGHT_DAYS,
    event_feature_names,
    with_event_features,
)

__all__ = ["ReturnsPolicy", "customer_features", "purchase_occasions"]

ReturnsPolicy = Literal["net", "exclude", "keep"]
_RETURNS = ("net", "exclude", "keep")
_PLURAL = {"category": "categories", "channel": "channels"}
#: Eager inputs with more lines than this are aggregated in partitions of customers.
PARTITION_LINES = 4_000_000


def _check_windows(windows: Any) -> tuple[int, ...]:
    try:
        values = tuple(int(w) for w in windows)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"windows must be a sequence of whole numbers of days, got {windows!r}. "
            "Fix: e.g. windows=(30, 90, 180, 365)."
        ) from exc
    if any(v != w for v, w in zip(values, windows, strict=True)) or any(v <= 0 for v in values):
        raise ConfigError(
            f"windows must be positive whole numbers of days, got {windows!r}. "
            "Fix: e.g. windows=(30, 90, 180, 365)."
        )
    if len(set(values)) != len(values):
        raise ConfigError(f"windows contains repeats: {windows!r}. Fix: list each window once.")
    return tuple(sorted(values))


def purchase_occasions(prepared: PreparedTransactions, *, returns: ReturnsPolicy = "net") -> Any:
    """Lines grouped into occasions: one row per (customer, order) — or customer-day.

    Columns: ``customer_id``, ``date`` (first date of the occasion), ``day`` (its day number),
    ``net_minor`` (sum of the amounts the policy counts, in whole minor units of the currency),
    ``is_purchase`` (whether it is a purchase occasion under the returns policy: net spend
    above zero, exactly, since minor units sum exactly), ``refund_minor`` (refunded amount, a
    positive number, whatever the policy) and, with a ``discount`` column, ``discount_minor``
    and ``list_minor`` (amount plus discount) of its purchase lines. Lines with a null
    ``order_id`` form one occasion per customer-day.
    """
    if returns not in _RETURNS:
        raise ConfigError(
            f"returns must be one of {list(_RETURNS)}, got {returns!r}. "
            "Fix: 'net' (refunds reduce spend), 'exclude' (ignore refund lines) or 'keep'."
        )
    lf = prepared.frame.with_columns(day=day_number(nw.col("date")))
    if prepared.has("order_id"):
        keys = ["customer_id", "order_id", "__okey_day"]
        lf = lf.with_columns(
            __okey_day=nw.when(nw.col("order_id").is_null())
            .then(nw.col("day"))
            .otherwise(nw.lit(-(10**9)))
        )
    else:
        keys = ["customer_id", "day"]
    # money in whole minor units (Int64): sums are exact, so "net > 0" needs no tolerance and
    # every total is the same whatever the row order, thread count or engine
    amount = nw.col("amount_minor")
    zero = nw.lit(0, nw.Int64)
    positive = nw.when(amount > 0).then(amount).otherwise(zero)
    counted = positive if returns == "exclude" else amount
    aggs = [
        nw.col("date").min().alias("date"),
        nw.col("day").min().alias("__first_day"),
        counted.sum().cast(nw.Int64).alias("net_minor"),
        positive.sum().cast(nw.Int64).alias("__gross"),
        nw.when(amount < 0).then(-amount).otherwise(zero).sum().cast(nw.Int64).alias("refund_minor"),
    ]
    extra = ["refund_minor"]
    if prepared.has("discount"):
        disc = nw.col("discount_minor").fill_null(0)
        aggs += [
            nw.when(amount > 0).then(disc).otherwise(zero).sum().cast(nw.Int64).alias("discount_minor"),
            nw.when(amount > 0)
            .then(amount + disc)
            .otherwise(zero)
            .sum()
            .cast(nw.Int64)
            .alias("list_minor"),
        ]
        extra += ["discount_minor", "list_minor"]
    occ = lf.group_by(keys).agg(*aggs).with_columns(day=nw.col("__first_day"))
    is_purchase = nw.col("__gross") > 0 if returns == "keep" else nw.col("net_minor") > 0
    return occ.select(
        "customer_id", "date", "day", "net_minor", is_purchase.alias("is_purchase"), *extra
    )


def customer_features(
    tx: Any,
    *,
    as_of: Any,
    schema: TransactionSchema | None = None,
    customers: Any = None,
    windows: Sequence[int] = (30, 90, 180, 365),
    returns: ReturnsPolicy = "net",
    customer_schema: CustomerSchema | None = None,
    responses: Any = None,
    response_schema: ResponseSchema | None = None,
    duplicates: Duplicates | None = None,
    events: Any = None,
    event_schema: EventSchema | None = None,
) -> Any:
    """The customer feature table: one row per customer as of a date.

    Parameters
    ----------
    tx : dataframe
        Transaction lines (pandas, polars eager or lazy, pyarrow, DuckDB or PySpark).
    as_of : date, datetime or ISO string
        The analysis date. Required — there is no hidden ``now()``. A date includes the whole
        day; lines after ``as_of`` are ignored.
    schema : TransactionSchema, optional
        Column mapping for ``tx``.
    customers : dataframe, optional
        Customer profiles of the same engine as ``tx``: the key (``customer_schema``'s
        ``customer_id``), optionally ``registered_at`` and ``birthday``, and attributes. Every
        customer registered on or before ``as_of`` (or with no registration date) gets a row
        even without purchases; all its columns are carried into the result.
    windows : sequence of int
        Day windows for ``orders_{w}d`` / ``spend_{w}d``; a window of ``w`` days covers the
        dates ``as_of - w + 1`` to ``as_of``.
    returns : {"net", "exclude", "keep"}
        Returns policy. ``"net"``: an occasion (an order, or a customer-day where there is no
        order id) is a purchase when its net spend is positive; refunds reduce spend.
        ``"exclude"``: negative lines are ignored (gross spend). ``"keep"``: an occasion is a
        purchase when it has any positive line; refunds still reduce spend.
    customer_schema : CustomerSchema, optional
        Column mapping for ``customers``.
    responses : dataframe, optional
        Campaign contacts of the same engine as ``tx``, one row per contact (see
        :class:`~retailcrm.data.ResponseSchema`): adds ``campaigns_received``,
        ``campaigns_responded`` and ``response_rate`` (contacts up to ``as_of``). Contacts of
        customers who are neither buyers nor registered customers are not rows of the table.
    response_schema : ResponseSchema, optional
        Column mapping for ``responses``.
    duplicates : {"keep", "drop"} or None
        Lines equal in every column: ``"keep"`` counts them as separate lines (two equal
        items), ``"drop"`` keeps the first of each group (a repeated export). ``None`` (the
        default) keeps them and warns (:class:`~retailcrm.exceptions.DataQualityWarning`) when
        there are any; every function that reads transactions has this one default.
    events : dataframe, optional
        Behaviour events of the same engine as ``tx``, one row per event (see
        :class:`~retailcrm.data.EventSchema`; validated like
        :func:`~retailcrm.data.validate_events`): adds ``views_{w}d``, ``carts_{w}d`` and
        ``favourites_{w}d`` for each window, ``days_since_last_view`` (null without views) and
        ``viewed_not_bought_3d`` (a product — or, without product ids, a category — viewed
        in the last 3 days and not bought on or after the day it was first viewed in them).
        Events after ``as_of`` are ignored; as for ``responses``, events of customers who are
        neither buyers nor registered customers add no rows, and customers without events get
        zero counts and ``False``.
    event_schema : EventSchema, optional
        Column mapping for ``events`` and the mapping of their labels onto event types.

    Returns
    -------
    dataframe
        The caller's kind of frame, sorted by ``customer_id``, with columns

        ``customer_id``; ``first_purchase``, ``last_purchase`` (dates); ``recency_days`` (whole
        days from the last purchase date to the ``as_of`` date; null without purchases);
        ``frequency`` (purchase occasions); ``monetary`` (net spend); ``avg_order_value``
        (``monetary / frequency``); ``tenure_days`` (from the earlier of first purchase and
        registration to ``as_of``); ``mean_interpurchase_days`` (``(last - first) /
        (frequency - 1)``, null below 2 purchases); ``orders_{w}d`` and ``spend_{w}d`` for each
        window; ``active_months_12`` (calendar months with a purchase among ``as_of``'s month
        and the 11 before); ``consecutive_active_months`` (run of months with a purchase ending
        in ``as_of``'s month; 0 when that month has none); with a ``category`` column:
        ``n_categories``, ``top_category``, ``top_category_share``; with a ``channel`` column:
        ``n_channels``, ``top_channel``, ``top_channel_share``; ``refund_amount`` (refunded
        amount as a positive number, whatever the returns policy); with a ``discount`` column,
        ``discount_rate`` (discount over list price, amount + discount, of purchase lines);
        with ``responses``, ``campaigns_received``, ``campaigns_responded``, ``response_rate``;
        with ``events``, the event features above; then the ``customers`` columns.

    Raises
    ------
    MissingColumnsError
        A required column is absent (all missing columns are listed).
    InvalidDataError
        Error-level problems as found by :func:`~retailcrm.validate_transactions`.
    ConfigError
        Bad ``as_of``, ``windows`` or ``returns``.

    Notes
    -----
    Category and channel mix count purchase lines (positive amounts) weighted by spend; the top
    value is the one with the largest spend, ties broken by the smallest name; the share is
    its spend over the customer's positive spend. Every customer with a line on or before
    ``as_of`` appears exactly once — also one whose lines are all refunds (frequency 0).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm import customer_features
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["ann", "ann", "ann", "bob"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-20", "2024-03-01"]),
    ...     "amount": [120.0, 80.0, 200.0, 45.0],
    ... })
    >>> f = customer_features(tx, as_of="2024-03-31", windows=(30, 90))
    >>> f[["customer_id", "recency_days", "frequency", "monetary", "orders_30d", "orders_90d"]]
      customer_id  recency_days  frequency  monetary  orders_30d  orders_90d
    0         ann            11          3     400.0           1           3
    1         bob            30          1      45.0           0           1
    >>> f[["customer_id", "mean_interpurchase_days", "active_months_12", "consecutive_active_months"]]
      customer_id  mean_interpurchase_days  active_months_12  consecutive_active_months
    0         ann                     37.5                 3                          3
    1         bob                      NaN                 1                          1
    """
    wins = _check_windows(windows)
    parse_as_of(as_of)  # required: raises ConfigError for None or garbage before any work
    prepared = prepare_transactions(tx, schema=schema, as_of=as_of, duplicates=duplicates)
    asof = prepared.as_of
    assert asof is not None
    table = _per_customer(prepared, asof, wins, returns)
    if customers is not None:
        table = _with_customers(table, customers, customer_schema, prepared, asof, wins)
    if responses is not None:
        table = _with_responses(table, responses, response_schema, prepared, asof)
    if events is not None:
        table = with_event_features(table, events, event_schema, prepared, asof, wins)
    table = table.with_columns(
        tenure_days=(nw.lit(asof.day) - nw.col("__start_day")).cast(nw.Int64)
    ).drop("__start_day")
    table = table.select(_column_order(table, wins)).sort("customer_id")
    return prepared.engine.to_native(table)


def _per_customer(
    prepared: PreparedTransactions, asof: AsOf, wins: tuple[int, ...], returns: ReturnsPolicy
) -> Any:
    """The per-customer aggregates of the lines (before customers and responses are added).

    Eager callers' lines are already in memory (in polars): there the work runs in stages and,
    above ``PARTITION_LINES`` lines, in partitions of customers (by a hash of the id), so that
    only one partition's hash tables are alive at a time. Every customer's lines fall in one
    partition, so the result is the same; lazy callers keep one lazy plan.
    """
    if prepared.engine.is_lazy:
        return _aggregate_all(prepared, asof, wins, returns, lambda frame: frame)
    import polars as pl

    lines = prepared.frame.collect("polars").to_native()
    n_parts = -(-lines.height // PARTITION_LINES)
    if n_parts <= 1:
        return _aggregate_all(prepared, asof, wins, returns, _materialise)
    part = pl.col("customer_id").hash(seed=0) % n_parts
    lines = lines.with_columns(part.alias("__part"))
    tables = []
    for i in range(n_parts):
        chunk = lines.filter(pl.col("__part") == i).drop("__part")
        sub = attrs.evolve(prepared, frame=nw.from_native(chunk.lazy()))
        tables.append(_aggregate_all(sub, asof, wins, returns, _materialise).collect("polars"))
        del chunk, sub
    return nw.concat(tables, how="vertical").lazy()


def _materialise(frame: Any) -> Any:
    return frame.collect("polars").lazy()


def _aggregate_all(
    prepared: PreparedTransactions,
    asof: AsOf,
    wins: tuple[int, ...],
    returns: ReturnsPolicy,
    stage: Any,
) -> Any:
    occ = stage(purchase_occasions(prepared, returns=returns))
    table = stage(_aggregate(occ, asof, wins, float(10**prepared.schema.currency_decimals)))
    del occ
    for role in ("category", "channel"):
        if prepared.has(role):
            mix = stage(_mix(prepared, role, returns))
            table = table.join(mix, on="customer_id", how="left")
            table = table.with_columns(nw.col(f"n_{_PLURAL[role]}").fill_null(0))
    return table


def _money(minor: nw.Expr, scale: float) -> nw.Expr:
    """An exact sum of minor units as currency (Float64)."""
    return exact_quotient(minor.sum().cast(nw.Int64), scale)


def _aggregate(occ: Any, asof: AsOf, wins: tuple[int, ...], scale: float) -> Any:
    buy = nw.col("is_purchase")
    buy_day = nw.when(buy).then(nw.col("day"))
    aggs = [
        nw.when(buy).then(nw.col("date")).min().alias("first_purchase"),
        nw.when(buy).then(nw.col("date")).max().alias("last_purchase"),
        buy_day.min().alias("__first_day"),
        buy_day.max().alias("__last_day"),
        buy.cast(nw.Int64).sum().cast(nw.Int64).alias("frequency"),
        _money(nw.col("net_minor"), scale).alias("monetary"),
        _money(nw.col("refund_minor"), scale).alias("refund_amount"),
    ]
    if "discount_minor" in occ.collect_schema().names():
        aggs += [
            nw.col("discount_minor").sum().cast(nw.Int64).alias("__discount"),
            nw.col("list_minor").sum().cast(nw.Int64).alias("__list_amount"),
        ]
    for w in wins:
        inside = nw.col("day") > asof.day - w
        aggs.append((buy & inside).cast(nw.Int64).sum().cast(nw.Int64).alias(f"orders_{w}d"))
        windowed = nw.when(inside).then(nw.col("net_minor")).otherwise(nw.lit(0, nw.Int64))
        aggs.append(_money(windowed, scale).alias(f"spend_{w}d"))
    per_customer = occ.group_by("customer_id").agg(*aggs)

    months = (
        occ.filter(buy)
        .with_columns(ago=(nw.lit(asof.month) - month_number(nw.col("date"))).cast(nw.Int64))
        .select("customer_id", "ago")
        .unique()
        .with_columns(rank=nw.col("ago").rank("dense").over("customer_id").cast(nw.Int64))
        .group_by("customer_id")
        .agg(
            (nw.col("ago") < 12).cast(nw.Int64).sum().cast(nw.Int64).alias("active_months_12"),
            (nw.col("ago") == nw.col("rank") - 1)
            .cast(nw.Int64)
            .sum()
            .cast(nw.Int64)
            .alias("consecutive_active_months"),
        )
    )
    table = per_customer.join(months, on="customer_id", how="left")
    freq = nw.col("frequency")
    table = table.with_columns(
        recency_days=(nw.lit(asof.day) - nw.col("__last_day")).cast(nw.Int64),
        avg_order_value=nw.when(freq > 0).then(nw.col("monetary") / freq).cast(nw.Float64),
        mean_interpurchase_days=nw.when(freq > 1)
        .then((nw.col("__last_day") - nw.col("__first_day")) / (freq - 1))
        .cast(nw.Float64),
        active_months_12=nw.col("active_months_12").fill_null(0).cast(nw.Int64),
        consecutive_active_months=nw.col("consecutive_active_months").fill_null(0).cast(nw.Int64),
        __start_day=nw.col("__first_day"),
    ).drop("__first_day", "__last_day")
    if "__discount" in table.collect_schema().names():
        table = table.with_columns(
            discount_rate=nw.when(nw.col("__list_amount") > 0)
            .then(nw.col("__discount").cast(nw.Float64) / nw.col("__list_amount").cast(nw.Float64))
            .cast(nw.Float64)
        ).drop("__discount", "__list_amount")
    return table


def _mix(prepared: PreparedTransactions, role: str, returns: ReturnsPolicy) -> Any:
    """n_{role}s, top_{role}, top_{role}_share from purchase lines weighted by spend."""
    lines = prepared.frame.filter((nw.col("amount_minor") > 0) & ~nw.col(role).is_null())
    spend = lines.group_by("customer_id", role).agg(
        nw.col("amount_minor").sum().cast(nw.Int64).alias("__spend")
    )
    top = (
        spend.with_columns(
            __top=nw.col("__spend").max().over("customer_id"),
            __total=nw.col("__spend").sum().over("customer_id"),
            __n=nw.len().over("customer_id"),
        )
        .filter(nw.col("__spend") == nw.col("__top"))
        .group_by("customer_id")
        .agg(
            nw.col(role).min().alias(f"top_{role}"),
            (nw.col("__top").cast(nw.Float64) / nw.col("__total").cast(nw.Float64))
            .max()
            .cast(nw.Float64)
            .alias(f"top_{role}_share"),
            nw.col("__n").max().cast(nw.Int64).alias(f"n_{_PLURAL[role]}"),
        )
    )
    return top


def _with_customers(
    table: Any,
    customers: Any,
    customer_schema: CustomerSchema | None,
    prepared: PreparedTransactions,
    asof: AsOf,
    wins: tuple[int, ...],
) -> Any:
    cs = customer_schema
    if cs is None:  # the key is named like the transactions' customer id, or customer_id
        key = prepared.schema.customer_id
        names = columns_of(customers, name="customers")
        cs = CustomerSchema(
            customer_id=key if key in names or "customer_id" not in names else "customer_id"
        )
    if cs.timezone is None and prepared.schema.timezone:
        cs = attrs.evolve(cs, timezone=prepared.schema.timezone)
    frame = prepare_customers(customers, cs, engine=prepared.engine)
    names = list(frame.collect_schema().names())
    features = set(table.collect_schema().names())
    clash = [c for c in names if c != "customer_id" and c in features]
    if clash:
        raise ConfigError(
            f"customers: column(s) {clash} clash with feature names. Fix: rename them first."
        )
    tx_type = table.collect_schema()["customer_id"]
    cu_type = frame.collect_schema()["customer_id"]
    if (tx_type == nw.String) != (cu_type == nw.String):
        raise ConfigError(
            f"customers: customer_id is {cu_type} but the transactions' is {tx_type}. "
            "Fix: cast both to the same type (e.g. text) first."
        )
    reg_day = nw.generate_temporary_column_name(8, [*names, *features])
    if "registered_at" in names:
        reg_col = nw.col("registered_at")
        reg_date = (
            reg_col if frame.collect_schema()["registered_at"] == nw.Date else reg_col.dt.date()
        )
        frame = frame.with_columns(day_number(reg_date).alias(reg_day))
        frame = frame.filter(nw.col(reg_day).is_null() | (nw.col(reg_day) <= asof.day))
    else:
        frame = frame.with_columns(nw.lit(None, nw.Int64).alias(reg_day))
    if tx_type != cu_type:
        frame = frame.with_columns(nw.col("customer_id").cast(tx_type))
    ids = nw.concat(
        [table.select("customer_id"), frame.select("customer_id")], how="vertical"
    ).unique()
    out = ids.join(table, on="customer_id", how="left").join(frame, on="customer_id", how="left")
    zero_int = ["frequency", "active_months_12", "consecutive_active_months"] + [
        f"orders_{w}d" for w in wins
    ]
    zero_int += [c for c in ("n_categories", "n_channels") if c in out.collect_schema().names()]
    zero_float = ["monetary", "refund_amount"] + [f"spend_{w}d" for w in wins]
    start = nw.col("__start_day")
    return out.with_columns(
        *(nw.col(c).fill_null(0).cast(nw.Int64) for c in zero_int),
        *(nw.col(c).fill_null(0.0).cast(nw.Float64) for c in zero_float),
        __start_day=nw.when(start.is_null() | (nw.col(reg_day) < start))
        .then(nw.col(reg_day))
        .otherwise(start),
    ).drop(reg_day)


def _with_responses(
    table: Any,
    responses: Any,
    response_schema: ResponseSchema | None,
    prepared: PreparedTransactions,
    asof: AsOf,
) -> Any:
    rs = response_schema or ResponseSchema()
    if rs.timezone is None and prepared.schema.timezone:
        rs = attrs.evolve(rs, timezone=prepared.schema.timezone)
    frame = prepare_responses(responses, rs, engine=prepared.engine)
    contacted = nw.col("contacted_at")
    if frame.collect_schema()["contacted_at"] != nw.Date:
        contacted = contacted.dt.date()
    per_customer = (
        frame.filter(day_number(contacted) <= asof.day)
        .group_by("customer_id")
        .agg(
            nw.len().cast(nw.Int64).alias("campaigns_received"),
            nw.col("responded").cast(nw.Int64).sum().cast(nw.Int64).alias("campaigns_responded"),
        )
    )
    tx_type = table.collect_schema()["customer_id"]
    re_type = per_customer.collect_schema()["customer_id"]
    if (tx_type == nw.String) != (re_type == nw.String):
        raise ConfigError(
            f"responses: customer_id is {re_type} but the transactions' is {tx_type}. "
            "Fix: cast both to the same type (e.g. text) first."
        )
    if tx_type != re_type:
        per_customer = per_customer.with_columns(nw.col("customer_id").cast(tx_type))
    out = table.join(per_customer, on="customer_id", how="left")
    received = nw.col("campaigns_received").fill_null(0).cast(nw.Int64)
    responded = nw.col("campaigns_responded").fill_null(0).cast(nw.Int64)
    return out.with_columns(
        campaigns_received=received,
        campaigns_responded=responded,
        response_rate=nw.when(received > 0).then(responded / received).cast(nw.Float64),
    )


def _side_frame(native: Any, engine: Engine, name: str) -> Any:
    """A side table as a LazyFrame in the transactions' engine, unvalidated (the side tables
    of :func:`customer_features` go through :mod:`retailcrm.data._tables` instead)."""
    return same_engine_frame(native, engine, name)


def _column_order(table: Any, wins: tuple[int, ...]) -> list[str]:
    names = list(table.collect_schema().names())
    head = [
        "customer_id",
        "first_purchase",
        "last_purchase",
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "tenure_days",
        "mean_interpurchase_days",
        *(f"orders_{w}d" for w in wins),
        *(f"spend_{w}d" for w in wins),
        "active_months_12",
        "consecutive_active_months",
        "refund_amount",
    ]
    if "discount_rate" in names:
        head.append("discount_rate")
    for role in ("category", "channel"):
        if f"top_{role}" in names:
            head += [f"n_{_PLURAL[role]}", f"top_{role}", f"top_{role}_share"]
    if "response_rate" in names:
        head += ["campaigns_received", "campaigns_responded", "response_rate"]
    if "days_since_last_view" in names:
        head += event_feature_names(wins, VIEWED_NOT_BOUGHT_DAYS)
    return head + [c for c in names if c not in head]
