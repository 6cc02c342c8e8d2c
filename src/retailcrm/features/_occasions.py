"""Purchase occasions: the one place where transaction lines become purchases.

Two definitions serve two purposes, side by side (see "Two definitions of a purchase" in the
Data and features guide):

=========================  ===================================  ===================================
                           per order (feature table)            per day (BTYD summary)
=========================  ===================================  ===================================
an occasion is             a customer's order (a customer-day   all of a customer's lines of one
                           for lines without an order id)       calendar day, whatever the orders
it is a purchase when      its net spend is above zero (the     its net spend is zero or more (free
                           ``returns`` policy decides what       items count, as CDNOW's $0 first
                           counts as spend)                     purchases do)
refunds                    reduce the order's spend; a fully    a day netting below zero (a later
                           refunded order is no purchase        return) is neither purchase nor spend
used by                    ``customer_features``, tags, tiers   ``btyd_summary``, the BTYD models,
                                                                tracking and churn labels
=========================  ===================================  ===================================

Both sum money in whole minor units (``amount_minor``), so "above zero" and "zero or more" are
exact: no tolerance, the same answer for every row order and engine.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import day_number
from retailcrm._engine import collect_polars, exact_quotient
from retailcrm._params import check_choice
from retailcrm.data._prepare import PreparedTransactions

__all__ = [
    "OCCASION_READS",
    "RETURNS_POLICIES",
    "OccasionHistory",
    "ReturnsPolicy",
    "check_returns",
    "occasion_history",
    "purchase_days",
    "purchase_occasions",
]

ReturnsPolicy = Literal["net", "exclude", "keep"]
RETURNS_POLICIES: tuple[ReturnsPolicy, ...] = ("net", "exclude", "keep")
# the date key of lines with an order id: never null (engines differ on null group keys)
_NO_DATE = _dt.date(1970, 1, 1)
#: The optional transaction roles that decide what an occasion is (``reads=`` of
#: ``prepare_transactions`` for a function that reads nothing but occasions' counts and
#: money): the order id groups lines into orders; ``refund`` is always read (it decides the
#: sign of ``amount``), and ``discount`` only fills the discount columns.
OCCASION_READS: tuple[str, ...] = ("order_id",)


def check_returns(returns: Any, *, owner: str) -> ReturnsPolicy:
    """The returns policy, checked with the one parameter message."""
    return check_choice(
        returns,
        RETURNS_POLICIES,
        name="returns",
        owner=owner,
        fix="'net' (refunds reduce spend), 'exclude' (ignore refund lines) or 'keep' (an "
        "occasion with any positive line is a purchase).",
    )


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
    check_returns(returns, owner="purchase_occasions")
    lf, keys = _keyed(prepared)
    aggs, extra = _sums(prepared, returns)
    if "date" not in keys:
        aggs.insert(0, nw.col("date").min().alias("date"))
    return _finished(lf.group_by(keys).agg(*aggs), returns, extra)


def _keyed(prepared: PreparedTransactions) -> tuple[Any, list[str]]:
    """The lines with the columns that identify their occasion, and those columns."""
    if not prepared.has("order_id"):
        return prepared.frame, ["customer_id", "date"]
    lf = prepared.frame.with_columns(
        __okey_date=nw.when(nw.col("order_id").is_null())
        .then(nw.col("date"))
        .otherwise(nw.lit(_NO_DATE, nw.Date))
    )
    return lf, ["customer_id", "order_id", "__okey_date"]


def _sums(prepared: PreparedTransactions, returns: ReturnsPolicy) -> tuple[list[Any], list[str]]:
    """An occasion's sums over its lines (each a sum, so that sums of parts of an occasion add
    up to the occasion's) and the optional columns among them."""
    # money in whole minor units (Int64): sums are exact, so "net > 0" needs no tolerance and
    # every total is the same whatever the row order, thread count or engine
    amount = nw.col("amount_minor")
    zero = nw.lit(0, nw.Int64)
    positive = nw.when(amount > 0).then(amount).otherwise(zero)
    counted = positive if returns == "exclude" else amount
    aggs = [
        counted.sum().cast(nw.Int64).alias("net_minor"),
        positive.sum().cast(nw.Int64).alias("__gross"),
        nw.when(amount < 0)
        .then(-amount)
        .otherwise(zero)
        .sum()
        .cast(nw.Int64)
        .alias("refund_minor"),
    ]
    extra = ["refund_minor"]
    if prepared.has("discount"):
        disc = nw.col("discount_minor").fill_null(0)
        aggs += [
            nw.when(amount > 0)
            .then(disc)
            .otherwise(zero)
            .sum()
            .cast(nw.Int64)
            .alias("discount_minor"),
            nw.when(amount > 0)
            .then(amount + disc)
            .otherwise(zero)
            .sum()
            .cast(nw.Int64)
            .alias("list_minor"),
        ]
        extra += ["discount_minor", "list_minor"]
    return aggs, extra


def _finished(occ: Any, returns: ReturnsPolicy, extra: list[str]) -> Any:
    """Occasions' sums as :func:`purchase_occasions` returns them.
    The day number is computed per occasion, not per line: it grows with the date, so the day
    of an occasion's first date is its first day."""
    occ = occ.with_columns(day=day_number(nw.col("date"), occ.implementation))
    is_purchase = nw.col("__gross") > 0 if returns == "keep" else nw.col("net_minor") > 0
    return occ.select(
        "customer_id", "date", "day", "net_minor", is_purchase.alias("is_purchase"), *extra
    )


@attrs.frozen
class OccasionHistory:
    """The purchase occasions of eager lines computed once, to be cut at many dates (a
    backtest): :meth:`until` equals :func:`purchase_occasions` of the lines cut at that date.

    An occasion all of whose lines fall on one date is the same at every cut on or after that
    date, so it is kept whole (``whole``) and a cut is a filter. The few whose lines span dates
    (a later return under the order's id) are kept as one row of sums per date (``split``) and
    added up again at each cut. Both are held per partition of customers (the ``partition``
    column of the lines, or one partition without it).
    """

    whole: dict[int, Any]
    split: dict[int, Any]
    keys: tuple[str, ...]
    returns: ReturnsPolicy
    extra: tuple[str, ...]

    def until(self, date: _dt.date, part: int | None = None) -> Any:
        """The occasions (a narwhals LazyFrame, polars) of the lines dated on or before
        ``date``: of partition ``part``, or of every partition."""
        import polars as pl

        parts = sorted(self.whole) if part is None else [part]
        on_or_before = pl.col("date") <= date
        frames = [self.whole[p].filter(on_or_before) for p in parts if p in self.whole]
        split = [self.split[p] for p in parts if p in self.split]
        if split:
            days = nw.from_native(pl.concat(split).lazy().filter(on_or_before))
            sums = [nw.col(c).sum().cast(nw.Int64) for c in ("net_minor", "__gross", *self.extra)]
            regrouped = days.group_by(list(self.keys)).agg(nw.col("date").min(), *sums)
            occ = _finished(regrouped, self.returns, list(self.extra)).to_native()
            frames.append(occ.collect())
        if not frames:
            frames = [next(iter(self.whole.values())).clear()]
        return nw.from_native(pl.concat(frames, rechunk=False).lazy())


def occasion_history(
    parts: Iterable[PreparedTransactions], *, returns: ReturnsPolicy = "net"
) -> OccasionHistory:
    """The :class:`OccasionHistory` of eager lines given as the lines of each partition of
    customers, in order (every customer's lines in one partition, as
    :func:`~retailcrm.features._customer.laid_out_by_customer` lays them out; a partition's
    lines are grouped where they are: measured faster than one group-by of every line)."""
    check_returns(returns, owner="occasion_history")
    whole: dict[int, Any] = {}
    split: dict[int, Any] = {}
    keys: list[str] = []
    extra: list[str] = []
    for i, prepared in enumerate(parts):
        lf, keys = _keyed(prepared)
        aggs, extra = _sums(prepared, returns)
        if "date" in keys:  # one date per occasion: nothing is split
            occ = lf.group_by(keys).agg(*aggs).pipe(collect_polars)
        else:
            occ = lf.group_by(keys).agg(
                *aggs, nw.col("date").min().alias("date"), nw.col("date").max().alias("__last")
            )
            occ = occ.pipe(collect_polars)
            spans = occ.filter(nw.col("date") != nw.col("__last")).select(*keys)
            if len(spans):
                days = lf.join(spans.lazy(), on=keys, how="semi")
                split[i] = days.group_by(*keys, "date").agg(*aggs).pipe(collect_polars).to_native()
                occ = occ.filter(nw.col("date") == nw.col("__last"))
        whole[i] = _finished(occ, returns, extra).to_native()
    if not whole:
        raise ValueError("occasion_history needs the lines of one partition at least")
    return OccasionHistory(
        whole=whole, split=split, keys=tuple(keys), returns=returns, extra=tuple(extra)
    )


def purchase_days(prepared: PreparedTransactions) -> nw.LazyFrame[Any]:
    """One row per customer and purchase day: ``customer_id``, ``date``, ``day``, ``net_minor``
    (the day's net spend in whole minor units) and ``net`` (the same in currency).

    All of a customer's lines on one calendar day are one purchase (whatever their order ids);
    a day counts as a purchase when its net amount is zero or more (free items count, as the
    $0 purchases of CDNOW do). Days whose lines net to less than zero (refunds exceeding the
    day's purchases) are dropped: they are neither purchases nor spend.
    """
    lf = prepared.frame.with_columns(day=day_number(nw.col("date"), prepared.frame.implementation))
    scale = float(10**prepared.schema.currency_decimals)
    days = lf.group_by("customer_id", "day").agg(
        nw.col("date").min().alias("date"),
        nw.col("amount_minor").sum().cast(nw.Int64).alias("net_minor"),
    )
    # minor units sum exactly: a day whose lines cancel out is exactly zero (a purchase of nothing)
    return days.filter(nw.col("net_minor") >= 0).select(
        "customer_id",
        "date",
        "day",
        "net_minor",
        exact_quotient(nw.col("net_minor"), scale).alias("net"),
    )
