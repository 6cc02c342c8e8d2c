"""Customer acquisition cost per channel and period, and the payback of acquisition cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import Period, day_number, parse_as_of, period_number, period_number_of
from retailcrm._dates import period_start_of as _period_start
from retailcrm._engine import Engine, columns_of, lazy_frame, missing_columns_error
from retailcrm._params import check_choice, check_number, parameter_error
from retailcrm.data import CustomerSchema, SpendSchema, TransactionSchema
from retailcrm.data._prepare import Duplicates, PreparedTransactions
from retailcrm.data._tables import prepare_customers, prepare_spend
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.features._occasions import OCCASION_READS, purchase_occasions
from retailcrm.metrics._retention import ReturnsPolicy, prepared_lines

__all__ = ["acquisition_cost", "cohort_payback"]

Key = Literal["channel", "period"]
_SPEND_PERIODS: tuple[Period, ...] = ("M", "Q", "Y")


def _check_by(by: Any, owner: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    fix = f"a tuple of distinct names from {list(allowed)}, e.g. by={allowed!r} or by=()."
    if isinstance(by, str):
        by = (by,)
    if not isinstance(by, Sequence) or any(k not in allowed for k in by) or len(set(by)) != len(by):
        raise parameter_error("by", owner, f"distinct names from {list(allowed)}", by, fix)
    return tuple(by)


def _acquired_from_tx(
    prepared: PreparedTransactions,
    returns: Any,
    customers: Any,
    channel_column: str,
    customer_schema: CustomerSchema | None,
) -> nw.LazyFrame[Any]:
    """``customer_id``, ``first_date``, ``channel`` of every customer with a purchase: the
    channel from ``customers`` (``channel_column``) or, without it, the first purchase day's
    channel (the one with the largest spend that day, ties to the smallest name)."""
    occ = purchase_occasions(prepared, returns=returns)
    first = (
        occ.filter(nw.col("is_purchase"))
        .group_by("customer_id")
        .agg(nw.col("date").min().alias("first_date"), nw.col("day").min().alias("first_day"))
    )
    if customers is not None:
        side = prepare_customers(
            customers, customer_schema or CustomerSchema(), engine=prepared.engine
        )
        names = [str(c) for c in side.collect_schema().names()]
        if channel_column not in names:
            raise missing_columns_error(
                {"channel_column": channel_column},
                names,
                table="customers",
                schema="acquisition_cost",
            )
        chan = side.select("customer_id", nw.col(channel_column).cast(nw.String).alias("channel"))
        return first.join(chan, on="customer_id", how="left").select(
            "customer_id", "first_date", "channel"
        )
    if not prepared.has("channel"):
        raise ConfigError(
            "no acquisition channel: tx has no channel column and no customers table was "
            f"given. Fix: pass customers=... with an {channel_column!r} column, or map "
            "TransactionSchema(channel=...)."
        )
    lines = (
        prepared.frame.with_columns(day=day_number(nw.col("date"), prepared.frame.implementation))
        .join(first.select("customer_id", "first_day"), on="customer_id", how="inner")
        .filter(
            (nw.col("day") == nw.col("first_day"))
            & (nw.col("amount_minor") > 0)
            & ~nw.col("channel").is_null()
        )
        .group_by("customer_id", "channel")
        .agg(nw.col("amount_minor").sum().cast(nw.Int64).alias("spent"))
        .with_columns(top=nw.col("spent").max().over("customer_id"))
        .filter(nw.col("spent") == nw.col("top"))
        .group_by("customer_id")
        .agg(nw.col("channel").cast(nw.String).min().alias("channel"))
    )
    return first.join(lines, on="customer_id", how="left").select(
        "customer_id", "first_date", "channel"
    )


def _acquired_from_features(lf: nw.LazyFrame[Any], channel_column: str) -> nw.LazyFrame[Any]:
    names = [str(c) for c in lf.collect_schema().names()]
    missing = {c: c for c in ("customer_id", "first_purchase", channel_column) if c not in names}
    if missing:
        raise MissingColumnsError(
            list(missing),
            available=names,
            role="features",
            fix="pass the output of customer_features (with customers= carrying the "
            "acquisition channel), or name the channel column with channel_column='...'.",
        )
    return lf.filter(~nw.col("first_purchase").is_null()).select(
        "customer_id",
        nw.col("first_purchase").alias("first_date"),
        nw.col(channel_column).cast(nw.String).alias("channel"),
    )


def _spend(
    spend: Any, spend_schema: SpendSchema | None, engine: Engine, period: Period, last: int
) -> pl.DataFrame:
    """Spend per (channel, period number) up to the period ``last`` (small, collected)."""
    lf = prepare_spend(spend, spend_schema, engine=engine)
    grouped = (
        lf.with_columns(pno=period_number(nw.col("start"), period))
        .filter(nw.col("pno") <= last)
        .group_by("channel", "pno")
        .agg(nw.col("amount").sum().cast(nw.Float64).alias("spend"))
    )
    out: pl.DataFrame = engine.collect_small(grouped).to_native()
    return out.with_columns(pl.col("pno").cast(pl.Int64), pl.col("channel").cast(pl.String))


def _new_counts(
    acquired: nw.LazyFrame[Any], engine: Engine, period: Period, last: int
) -> pl.DataFrame:
    grouped = (
        acquired.with_columns(pno=period_number(nw.col("first_date"), period))
        .filter(nw.col("pno") <= last)
        .group_by("channel", "pno")
        .agg(nw.len().cast(nw.Int64).alias("new_customers"))
    )
    out: pl.DataFrame = engine.collect_small(grouped).to_native()
    return out.with_columns(pl.col("pno").cast(pl.Int64), pl.col("channel").cast(pl.String))


def _cac_cells(new: pl.DataFrame, spent: pl.DataFrame, first: int | None) -> pl.DataFrame:
    """(channel, pno, new_customers, paid, spend) for every channel and period with new
    customers or spend; ``paid``: the channel has spend rows."""
    paid = set(spent.get_column("channel").drop_nulls().to_list())
    cells = new.join(spent, on=["channel", "pno"], how="full", coalesce=True, nulls_equal=True)
    cells = cells.with_columns(
        pl.col("new_customers").fill_null(0).cast(pl.Int64),
        pl.col("spend").fill_null(0.0),
        pl.col("channel").is_in(list(paid)).fill_null(value=False).alias("paid"),
    )
    if first is not None:
        cells = cells.filter(pl.col("pno") >= first)
    return cells


def _totals(cells: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    new = pl.col("new_customers")
    aggs = [
        new.sum().cast(pl.Int64).alias("new_customers"),
        pl.when(pl.col("paid")).then(new).otherwise(0).sum().cast(pl.Int64).alias("paid_new"),
        pl.col("spend").sum().alias("spend"),
    ]
    out = cells.group_by(keys).agg(aggs) if keys else cells.select(aggs)
    return out.with_columns(
        cac=pl.when(pl.col("new_customers") > 0).then(pl.col("spend") / pl.col("new_customers")),
        paid_cac=pl.when(pl.col("paid_new") > 0).then(pl.col("spend") / pl.col("paid_new")),
    ).rename({"paid_new": "paid_new_customers"})


def acquisition_cost(
    spend: Any,
    tx_or_features: Any,
    *,
    by: Sequence[Key] = ("channel", "period"),
    period: Period = "M",
    as_of: Any = None,
    start: Any = None,
    customers: Any = None,
    channel_column: str = "acquisition_channel",
    schema: TransactionSchema | None = None,
    spend_schema: SpendSchema | None = None,
    customer_schema: CustomerSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Customer acquisition cost (CAC): marketing spend over new customers, per channel and
    period, blended and paid.

    Parameters
    ----------
    spend : dataframe
        Marketing spend, one row per channel and period (see
        :class:`~retailcrm.data.SpendSchema`), of the same engine as ``tx_or_features``.
    tx_or_features : dataframe
        Transaction lines, or a feature table of :func:`~retailcrm.customer_features` (told
        apart by its ``first_purchase`` column; it must hold ``channel_column``, e.g. from
        ``customers=``).
    by : tuple of {"channel", "period"}
        The grouping: ``("channel", "period")``, ``("period",)``, ``("channel",)`` or ``()``
        for one total row.
    period : {"M", "Q", "Y"}
        The calendar period of spend and of a customer's first purchase.
    as_of : date, datetime or ISO string
        Lines after it are ignored, and periods after its period; required with
        transactions. With a feature table it may be left out: periods then run to the one
        of the latest first purchase.
    start : date or ISO string, optional
        Only periods from the one containing ``start`` on.
    customers : dataframe, optional
        Customer profiles with the acquisition channel in ``channel_column``. Without it (and
        with transactions), a customer's channel is the channel of their first purchase day
        (the one with the largest spend that day; ties to the smallest name).
    channel_column : str
        The acquisition channel column of ``customers`` or of the feature table.
    schema, spend_schema, customer_schema : optional
        Column mappings for the transactions, the spend and the customers.
    returns, duplicates
        As for :func:`~retailcrm.customer_features` (what makes a first purchase).

    Returns
    -------
    dataframe
        Small, of the caller's kind: the ``by`` keys (``period`` as the period's first day),
        ``new_customers`` (first purchase in the period), ``paid_new_customers`` (of those,
        acquired through a paid channel), ``spend``, ``cac`` (spend / new customers: the
        *blended* CAC; missing without new customers) and ``paid_cac`` (spend / paid new
        customers). Sorted by the keys, a missing channel last.

    Notes
    -----
    CAC = marketing spend / new customers (Farris et al., *Marketing Metrics*, 2010, ch. 5;
    "customer acquisition cost"). A channel is *paid* when it has rows in ``spend``; customers
    acquired through the others (organic, referral, an unknown channel) lower the blended CAC
    but not the paid one. Per channel the two agree for paid channels, and an unpaid channel
    has a CAC of 0 and no paid CAC. Spend is placed in the period of its first day.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import SpendSchema
    >>> from retailcrm.metrics import acquisition_cost
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d", "a"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-03", "2024-01-09", "2024-01-15", "2024-02-02", "2024-02-05"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0, 25.0],
    ...     "channel": ["web", "web", "store", "web", "store"],
    ... })
    >>> spend = pd.DataFrame({
    ...     "month": ["2024-01", "2024-02"], "channel": ["web", "web"], "amount": [100.0, 90.0]})
    >>> acquisition_cost(spend, tx, as_of="2024-02-29", spend_schema=SpendSchema(period="month"))
      channel     period  new_customers  paid_new_customers  spend   cac  paid_cac
    0   store 2024-01-01              1                   0    0.0   0.0       NaN
    1     web 2024-01-01              2                   2  100.0  50.0      50.0
    2     web 2024-02-01              1                   1   90.0  90.0      90.0
    >>> acquisition_cost(spend, tx, by=("period",), as_of="2024-02-29",
    ...                  spend_schema=SpendSchema(period="month"))
          period  new_customers  paid_new_customers  spend        cac  paid_cac
    0 2024-01-01              3                   2  100.0  33.333333      50.0
    1 2024-02-01              1                   1   90.0  90.000000      90.0
    """
    owner = "acquisition_cost"
    keys = _check_by(by, owner, ("channel", "period"))
    period = check_choice(
        period, _SPEND_PERIODS, name="period", owner=owner,
        fix="'M' (calendar months, as spend usually comes), 'Q' or 'Y'.",
    )  # fmt: skip
    acquired, engine, last = _acquired(
        tx_or_features, as_of=as_of, customers=customers, channel_column=channel_column,
        schema=schema, customer_schema=customer_schema, returns=returns,
        duplicates=duplicates, owner=owner, period=period,
    )  # fmt: skip
    first = (
        None if start is None else period_number_of(parse_as_of(start, name="start").date, period)
    )
    cells = _cac_cells(
        _new_counts(acquired, engine, period, last),
        _spend(spend, spend_schema, engine, period, last),
        first,
    )
    table = _totals(cells, ["pno" if k == "period" else k for k in keys])
    if "period" in keys:
        starts = {n: _period_start(n, period) for n in cells.get_column("pno").unique().to_list()}
        table = table.with_columns(
            pl.col("pno").replace_strict(starts, return_dtype=pl.Date).alias("period")
        )
    sort = [k if k == "channel" else "pno" for k in keys]
    if sort:
        table = table.sort(sort, nulls_last=True)
    table = table.select(*keys, "new_customers", "paid_new_customers", "spend", "cac", "paid_cac")
    return engine.small_native(table, like=tx_or_features)


def _acquired(
    tx_or_features: Any,
    *,
    as_of: Any,
    customers: Any,
    channel_column: str,
    schema: TransactionSchema | None,
    customer_schema: CustomerSchema | None,
    returns: Any,
    duplicates: Any,
    owner: str,
    period: Period,
) -> tuple[nw.LazyFrame[Any], Engine, int]:
    """The acquired customers (``customer_id``, ``first_date``, ``channel``), the engine and
    the last period number to count."""
    names = columns_of(tx_or_features, name="tx_or_features")
    if "first_purchase" in names:
        lf, engine = lazy_frame(tx_or_features, name="features")
        acquired = _acquired_from_features(lf, channel_column)
        if as_of is None:
            stats = engine.collect_small(acquired.select(nw.col("first_date").max())).to_native()
            latest = stats.item()
            last = period_number_of(latest, period) if latest is not None else 0
        else:
            at = parse_as_of(as_of)
            last = period_number_of(at.date, period)
            acquired = acquired.filter(day_number(nw.col("first_date")) <= at.day)
        return acquired, engine, last
    if as_of is None:
        parse_as_of(as_of)  # raises: required with transactions
    last = period_number_of(parse_as_of(as_of).date, period)
    prepared = prepared_lines(
        tx_or_features, cut=as_of, schema=schema, returns=returns, duplicates=duplicates,
        owner=owner, reads=(*OCCASION_READS, "channel"),
    )  # fmt: skip
    return (
        _acquired_from_tx(prepared, returns, customers, channel_column, customer_schema),
        prepared.engine,
        last,
    )


def cohort_payback(
    spend: Any,
    tx: Any,
    *,
    margin: Any = None,
    as_of: Any = None,
    by: Sequence[Literal["channel"]] = ("channel",),
    customers: Any = None,
    channel_column: str = "acquisition_channel",
    schema: TransactionSchema | None = None,
    spend_schema: SpendSchema | None = None,
    customer_schema: CustomerSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """CAC payback of monthly acquisition cohorts: the month in which a cohort's cumulative
    gross profit per customer reaches its CAC.

    Parameters
    ----------
    spend, tx : dataframe
        As for :func:`acquisition_cost` (transactions only: revenue after acquisition is
        needed).
    margin : float
        Required: the gross margin in (0, 1] applied to net revenue (``margin=1.0`` to measure
        payback on revenue, said explicitly).
    as_of : date, datetime or ISO string
        Lines after it are ignored (required); cohorts are observed up to its month.
    by : ("channel",) or ()
        Cohorts per acquisition month and channel, or per month only (blended CAC).
    customers, channel_column, schema, spend_schema, customer_schema, returns, duplicates
        As for :func:`acquisition_cost`.

    Returns
    -------
    dataframe
        Small, of the caller's kind, one row per cohort: ``cohort`` (the month's first day),
        (``channel``), ``new_customers``, ``spend``, ``cac``, ``months_observed`` (the
        acquisition month and those after it up to ``as_of``'s), ``gross_profit_per_customer``
        (cumulative, up to ``as_of``) and ``payback_months``: the number of months, counting
        the acquisition month as 1, until cumulative gross profit per customer reaches the
        cohort's CAC; missing when it has not yet, or when the cohort had no spend.

    Notes
    -----
    The empirical form of CAC payback (e.g. Skok, "SaaS Metrics 2.0"): the month where the
    cohort's cumulative margin per customer crosses its acquisition cost, instead of the
    formula CAC / (monthly gross profit per customer), which assumes a steady spend.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import SpendSchema
    >>> from retailcrm.metrics import cohort_payback
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "a", "b", "a"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-03", "2024-01-09", "2024-02-15", "2024-03-02", "2024-03-20"]),
    ...     "amount": [50.0, 30.0, 40.0, 60.0, 20.0],
    ...     "channel": ["web", "web", "web", "web", "web"],
    ... })
    >>> spend = pd.DataFrame({"month": ["2024-01"], "channel": ["web"], "amount": [80.0]})
    >>> cohort_payback(spend, tx, margin=0.5, as_of="2024-03-31",
    ...                spend_schema=SpendSchema(period="month"))
          cohort channel  new_customers  spend   cac  months_observed  gross_profit_per_customer  payback_months
    0 2024-01-01     web              2   80.0  40.0                3                       50.0               3
    """
    owner = "cohort_payback"
    keys = _check_by(by, owner, ("channel",))
    if margin is None:
        raise ConfigError(
            "cohort_payback: margin is required. Fix: pass the gross margin, e.g. margin=0.35 "
            "(margin=1.0 measures payback on revenue, said explicitly)."
        )
    rate = check_number(margin, name="margin", owner=owner, low=0.0, high=1.0, low_open=True)
    at = parse_as_of(as_of)
    last = period_number_of(at.date, "M")
    prepared = prepared_lines(
        tx, cut=as_of, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=(*OCCASION_READS, "channel"),
    )  # fmt: skip
    engine = prepared.engine
    acquired = _acquired_from_tx(prepared, returns, customers, channel_column, customer_schema)
    cells = _cac_cells(
        _new_counts(acquired, engine, "M", last),
        _spend(spend, spend_schema, engine, "M", last),
        None,
    )
    cac = _totals(cells, ["pno", *keys]).filter(pl.col("new_customers") > 0)
    occ = purchase_occasions(prepared, returns=returns)
    monthly = (
        occ.join(
            acquired.with_columns(pno=period_number(nw.col("first_date"), "M")).select(
                "customer_id", "pno", "channel"
            ),
            on="customer_id",
            how="inner",
        )
        .with_columns(offset=(period_number(nw.col("date"), "M") - nw.col("pno")).cast(nw.Int64))
        .with_columns(
            offset=nw.when(nw.col("offset") < 0)
            .then(nw.lit(0, nw.Int64))
            .otherwise(nw.col("offset"))
        )
        .group_by("pno", *keys, "offset")
        .agg(nw.col("net_minor").sum().cast(nw.Int64).alias("rev"))
    )
    rev: pl.DataFrame = engine.collect_small(monthly).to_native()
    rev = rev.with_columns(pl.col("pno", "offset").cast(pl.Int64))
    scale = float(10**prepared.schema.currency_decimals)
    rows = []
    join_keys = ["pno", *keys]
    for row in cac.sort(join_keys, nulls_last=True).iter_rows(named=True):
        mask = pl.col("pno") == row["pno"]
        if keys:
            mask = mask & (
                pl.col("channel").is_null()
                if row["channel"] is None
                else pl.col("channel") == row["channel"]
            )
        mine = rev.filter(mask)
        months = last - row["pno"] + 1
        per_month = [0] * months
        for offset, value in zip(mine.get_column("offset"), mine.get_column("rev"), strict=True):
            if 0 <= offset < months:
                per_month[offset] += int(value)
        payback = None
        total = 0
        for k, value in enumerate(per_month):
            total += value
            profit = rate * total / scale / row["new_customers"]
            if payback is None and row["spend"] > 0 and profit >= row["cac"]:
                payback = k + 1
        out: dict[str, Any] = {"cohort": _period_start(row["pno"], "M")}
        if keys:
            out["channel"] = row["channel"]
        out.update(
            new_customers=row["new_customers"],
            spend=row["spend"],
            cac=row["cac"],
            months_observed=months,
            gross_profit_per_customer=rate * total / scale / row["new_customers"],
            payback_months=payback,
        )
        rows.append(out)
    schema_out: dict[str, Any] = {"cohort": pl.Date}
    if keys:
        schema_out["channel"] = pl.String
    schema_out.update(
        new_customers=pl.Int64,
        spend=pl.Float64,
        cac=pl.Float64,
        months_observed=pl.Int64,
        gross_profit_per_customer=pl.Float64,
        payback_months=pl.Int64,
    )
    return engine.small_native(pl.DataFrame(rows, schema=schema_out), like=tx)
