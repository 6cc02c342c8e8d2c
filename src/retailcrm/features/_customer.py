"""customer_features: one row per customer as of a date."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, day_number, month_number, parse_as_of
from retailcrm._engine import collect_polars, columns_of, exact_quotient
from retailcrm._params import check_windows, parameter_error
from retailcrm.data import (
    CustomerSchema,
    EventSchema,
    ResponseSchema,
    TransactionSchema,
)
from retailcrm.data._prepare import (
    Duplicates,
    PreparedTransactions,
    check_duplicates,
    prepare_transactions,
)
from retailcrm.data._tables import (
    prepare_customers,
    prepare_responses,
)
from retailcrm.exceptions import ConfigError
from retailcrm.features._events import (
    VIEWED_NOT_BOUGHT_DAYS,
    event_feature_names,
    prepare_event_side,
    with_event_features,
)
from retailcrm.features._occasions import (
    OccasionHistory,
    ReturnsPolicy,
    check_returns,
    occasion_history,
    purchase_occasions,
)

__all__ = [
    "BacktestHistory",
    "FeatureNeeds",
    "ReturnsPolicy",
    "customer_features",
    "customer_table",
    "feature_needs",
    "feature_reads",
    "laid_out_by_customer",
    "laid_out_history",
    "lines_dropped",
    "purchase_occasions",
]
_PLURAL = {"category": "categories", "channel": "channels"}
#: Eager inputs with more lines than this are aggregated in partitions of customers, about
#: this many lines each. 1M measured best on 10M lines (2 cores): against 4M, polars input
#: 7.05 -> 6.58 s and peak 1,187 -> 916 MiB; 500k and 250k were no leaner and slower.
PARTITION_LINES = 1_000_000
#: The partition number of each line, in lines laid out by :func:`laid_out_by_customer`.
_PART = "__part"
#: polars lazy inputs (a ``scan_parquet``, say) with more lines than this are aggregated in
#: partitions of customers of about this many lines, one after another, each a filter over
#: the source: the group-by state of one partition is alive at a time. Measured on 100M lines
#: (8.3M customers, streaming engine, 2 cores, the call alone): one plan 117.5 s at an
#: 11.35 GiB peak; 5 partitions (20M lines) 125.2 s at 4.06 GiB; 10 partitions (10M lines)
#: 128-137 s at 3.15 GiB. Each partition re-reads the source, so only large inputs are split;
#: validation's own peak (about 4.2 GiB there) makes smaller partitions no gain to a pipeline.
LAZY_PARTITION_LINES = 20_000_000
#: The feature groups ``customer_features(features=...)`` can ask for, in output order.
FEATURE_GROUPS = ("rfm", "windows", "months", "mix")

_WINDOW_COLUMN = re.compile(r"^(?:orders|spend)_(\d+)d$")
_MONTH_COLUMNS = frozenset({"active_months_12", "consecutive_active_months"})
#: The roles every feature group reads, whatever is asked (``refund`` has already signed
#: ``amount`` when the lines are prepared).
_CORE_ROLES = ("customer_id", "timestamp", "amount", "order_id")


@attrs.frozen
class FeatureNeeds:
    """What :func:`customer_table` must compute for a set of feature columns (the conditions
    of a rule set, say): its ``windows`` and ``groups``, the roles whose ``mix`` is read and
    whether ``discount_rate`` is. The columns asked for have the same values as in the full
    table; the others are not computed."""

    windows: tuple[int, ...]
    groups: frozenset[str]
    mix: tuple[str, ...]
    discount: bool

    @property
    def reads(self) -> tuple[str, ...]:
        """The optional transaction roles these features read (``reads=`` of
        ``prepare_transactions``)."""
        return ("order_id", *self.mix, *(("discount",) if self.discount else ()))

    def narrow(self, prepared: PreparedTransactions) -> PreparedTransactions:
        """``prepared`` with only the roles these features read: the mix of an unread role
        (a group-by of every line by customer and value) and the discount sums are skipped,
        and an eager frame materialised from it holds only those columns."""
        roles = tuple(r for r in prepared.roles if r in (*_CORE_ROLES, *self.reads))
        names = prepared.frame.collect_schema().names()
        minor = ("amount_minor", *(("discount_minor",) if self.discount else ()))
        keep = [c for c in (*roles, "date", *minor, _PART) if c in names]
        return attrs.evolve(prepared, frame=prepared.frame.select(*keep), roles=roles)


def feature_needs(columns: Iterable[str], *, windows: Iterable[int] = ()) -> FeatureNeeds:
    """The :class:`FeatureNeeds` of feature ``columns`` (plus day ``windows`` computed
    whether read or not, such as a tier programme's qualification window)."""
    used = set(columns)
    wins = {int(m.group(1)) for c in used if (m := _WINDOW_COLUMN.match(c))} | set(windows)
    groups = {"rfm"} | ({"windows"} if wins else set())
    if used & _MONTH_COLUMNS:
        groups.add("months")
    mix = tuple(
        role
        for role, plural in _PLURAL.items()
        if used & {f"n_{plural}", f"top_{role}", f"top_{role}_share"}
    )
    if mix:
        groups.add("mix")
    return FeatureNeeds(
        windows=tuple(sorted(wins)),
        groups=frozenset(groups),
        mix=mix,
        discount="discount_rate" in used,
    )


def check_feature_groups(groups: Any, *, owner: str) -> frozenset[str]:
    """``features=`` as a set of group names (``None``: every group)."""
    if groups is None:
        return frozenset(FEATURE_GROUPS)
    items = (groups,) if isinstance(groups, str) else groups
    try:
        chosen = list(items)
    except TypeError:
        chosen = [groups]
    unknown = [g for g in chosen if g not in FEATURE_GROUPS]
    if unknown or not chosen:
        raise parameter_error(
            "features",
            owner,
            f"None or a sequence of feature groups among {list(FEATURE_GROUPS)}",
            groups,
            fix="ask for the groups you need, e.g. features=('rfm',)",
        )
    return frozenset(chosen) | {"rfm"}


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
    features: Sequence[str] | None = None,
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
    features : sequence of str, optional
        Compute only these feature groups (``None``, the default: all). ``"rfm"`` (always
        included): dates, ``recency_days``, ``frequency``, ``monetary``,
        ``avg_order_value``, ``tenure_days``, ``mean_interpurchase_days``, ``refund_amount``
        and ``discount_rate``; ``"windows"``: ``orders_{w}d`` and ``spend_{w}d``;
        ``"months"``: ``active_months_12`` and ``consecutive_active_months``; ``"mix"``:
        category and channel mix. The side tables (``customers``, ``responses``,
        ``events``) add their columns whenever they are given. ``features=("rfm",)`` is what
        RFM scoring needs and skips the passes over lines the other groups cost (about
        half the time on the benchmark data). Without ``"mix"`` (and without ``events``,
        which may match on category) the category and channel columns are not read: neither
        validated nor converted.

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
    wins = check_windows(windows, owner="customer_features")
    check_returns(returns, owner="customer_features")
    check_duplicates(duplicates, owner="customer_features")
    groups = check_feature_groups(features, owner="customer_features")
    parse_as_of(as_of)  # required: raises ConfigError for None or garbage before any work
    prepared = prepare_transactions(
        tx, schema=schema, as_of=as_of, duplicates=duplicates, reads=feature_reads(groups, events)
    )
    table = customer_table(
        prepared,
        windows=wins,
        returns=returns,
        groups=groups,
        customers=_prepare_customers(customers, customer_schema, prepared),
        responses=_prepare_responses(responses, response_schema, prepared),
        events=None if events is None else prepare_event_side(events, event_schema, prepared),
    )
    engine = prepared.engine
    del prepared  # eager input: its converted columns are freed before the result is built
    return engine.to_native(table)


def feature_reads(
    groups: frozenset[str] = frozenset(FEATURE_GROUPS), events: Any = None
) -> tuple[str, ...]:
    """The optional transaction roles ``customer_features`` reads: the order id and discount
    always, category and channel for the mix, product id and category for events (which
    match on either). Quantity is never read: no feature counts units."""
    reads = ["order_id", "discount"]
    if "mix" in groups:
        reads += list(_PLURAL)
    if events is not None:
        reads += ["product_id", "category"]
    return tuple(dict.fromkeys(reads))


def customer_table(
    prepared: PreparedTransactions,
    *,
    windows: Sequence[int] = (30, 90, 180, 365),
    returns: ReturnsPolicy = "net",
    customers: nw.LazyFrame[Any] | None = None,
    responses: nw.LazyFrame[Any] | None = None,
    events: nw.LazyFrame[Any] | None = None,
    groups: frozenset[str] = frozenset(FEATURE_GROUPS),
    history: BacktestHistory | None = None,
) -> nw.LazyFrame[Any]:
    """The core of :func:`customer_features`: prepared lines (cut at their ``as_of``) and
    prepared side tables in, the feature table out as a narwhals LazyFrame sorted by
    ``customer_id``. Nothing is validated or converted here; other cores call this one.
    ``groups`` (a subset of :data:`FEATURE_GROUPS`, ``"rfm"`` always computed) leaves out the
    other groups' columns and the work they cost. ``history``: what the table reads of these
    lines, computed once for a backtest that cuts them at many dates
    (:func:`laid_out_history`, with ``returns``)."""
    asof = prepared.as_of
    if asof is None:
        raise ConfigError("customer_table needs lines cut at an as_of: prepared.until(as_of).")
    wins = tuple(sorted(windows)) if "windows" in groups else ()
    if history is not None and history.returns != returns:
        raise ConfigError(
            f"customer_table: the occasion history counts returns={history.returns!r}, the "
            f"table returns={returns!r}. Fix: build the history with the table's policy."
        )
    table = _per_customer(prepared, asof, wins, returns, groups, history)
    if customers is not None:
        table = _with_customers(table, customers, asof, wins)
    if responses is not None:
        table = _with_responses(table, responses, asof)
    if events is not None:
        table = with_event_features(table, events, prepared, asof, wins)
    table = table.with_columns(
        tenure_days=(nw.lit(asof.day) - nw.col("__start_day")).cast(nw.Int64)
    ).drop("__start_day")
    return table.select(_column_order(table, wins)).sort("customer_id")


def _prepare_customers(
    customers: Any, customer_schema: CustomerSchema | None, prepared: PreparedTransactions
) -> nw.LazyFrame[Any] | None:
    """The customers table validated and canonical (its key named like the transactions' id
    or ``customer_id``; the transactions' time zone unless its schema names one)."""
    if customers is None:
        return None
    cs = customer_schema
    if cs is None:  # the key is named like the transactions' customer id, or customer_id
        key = prepared.schema.customer_id
        names = columns_of(customers, name="customers")
        cs = CustomerSchema(
            customer_id=key if key in names or "customer_id" not in names else "customer_id"
        )
    if cs.timezone is None and prepared.schema.timezone:
        cs = attrs.evolve(cs, timezone=prepared.schema.timezone)
    return prepare_customers(customers, cs, engine=prepared.engine)


def _prepare_responses(
    responses: Any, response_schema: ResponseSchema | None, prepared: PreparedTransactions
) -> nw.LazyFrame[Any] | None:
    if responses is None:
        return None
    rs = response_schema or ResponseSchema()
    if rs.timezone is None and prepared.schema.timezone:
        rs = attrs.evolve(rs, timezone=prepared.schema.timezone)
    return prepare_responses(responses, rs, engine=prepared.engine)


def _per_customer(
    prepared: PreparedTransactions,
    asof: AsOf,
    wins: tuple[int, ...],
    returns: ReturnsPolicy,
    groups: frozenset[str],
    history: BacktestHistory | None = None,
) -> Any:
    """The per-customer aggregates of the lines (before customers and responses are added).

    Eager callers' lines are already in memory (in polars): there the work runs in stages and,
    above ``PARTITION_LINES`` lines, in partitions of customers (by a hash of the id), so that
    only one partition's hash tables are alive at a time. Every customer's lines fall in one
    partition, so the result is the same. Lazy callers keep one lazy plan; for polars above
    ``LAZY_PARTITION_LINES`` lines that plan is a sequential concatenation of per-partition
    plans (see :func:`_lazy_partitions`). DuckDB spills its own aggregations to disk and Spark
    distributes them, so their plans are not split. A :class:`BacktestHistory` that covers the
    cut replaces the lines (partition by partition too); one that does not still gives the
    occasions at a whole-day cut.
    """
    if prepared.engine.is_lazy:
        if history is not None:
            raise ConfigError("customer_table: an occasion history is for eager lines only.")
        return _lazy_partitions(prepared, asof, wins, returns, groups)
    roles = [r for r in _PLURAL if "mix" in groups and prepared.has(r)]
    if history is not None and history.covers(asof, roles):
        tables = [
            _aggregate_all(
                prepared,
                asof,
                wins,
                returns,
                groups,
                _materialise,
                history.occasions.until(asof.date, part),
                {role: history.spend_until(role, asof.date, part) for role in roles},
            ).pipe(collect_polars)
            for part in history.parts
        ]
        return nw.concat(tables, how="vertical").lazy()
    if history is not None and not history.lines_kept:
        raise ConfigError(
            f"customer_table: the backtest history covers {list(history.dates)} and its lines "
            f"were not kept; the cut {asof.cutoff:%Y-%m-%d %H:%M:%S} is not one of them. Fix: "
            "build the history for every date, or keep the lines."
        )
    if history is not None and not asof.is_date:
        history = None  # it is cut by date: a cut within a day reads the lines
    # only the columns the aggregates read are materialised (not timestamp, product, quantity)
    keep = ["customer_id", "date", "amount_minor"]
    names = prepared.frame.collect_schema().names()
    keep += [c for c in ("order_id", "discount_minor", _PART) if c in names]
    if "mix" in groups:
        keep += [r for r in _PLURAL if prepared.has(r)]
    prepared = attrs.evolve(prepared, frame=prepared.frame.select(keep))
    lines = prepared.frame.pipe(collect_polars).to_native()
    laid_out = _PART in names  # by laid_out_by_customer: the partitions are slices
    if laid_out:
        n_parts = int(lines.get_column(_PART).max() or 0) + 1
    else:
        n_parts = -(-lines.height // PARTITION_LINES)
    if history is not None and not laid_out:
        raise ConfigError(
            "customer_table: an occasion history needs lines laid out by laid_out_by_customer."
        )

    def occasions(part: int | None) -> Any:
        return None if history is None else history.occasions.until(asof.date, part)

    if n_parts <= 1:
        if laid_out:
            prepared = attrs.evolve(prepared, frame=prepared.frame.drop(_PART))
        return _aggregate_all(prepared, asof, wins, returns, groups, _materialise, occasions(None))
    if laid_out:
        parts = _laid_out_partitions(prepared, lines, n_parts)
    else:
        parts = _customer_partitions(prepared, lines, n_parts)
    tables = []
    for i, sub in enumerate(parts):
        table = _aggregate_all(sub, asof, wins, returns, groups, _materialise, occasions(i))
        tables.append(table.pipe(collect_polars))
        del sub  # one partition's lines in memory at a time
    return nw.concat(tables, how="vertical").lazy()


def _partition_of(n_parts: int) -> Any:
    """The partition of each line (polars expression): a hash of the customer id, so that
    every customer's lines fall in one partition."""
    import polars as pl

    return (pl.col("customer_id").hash(seed=0) % n_parts).cast(pl.UInt32)  # not 8 bytes a line


def _customer_partitions(
    prepared: PreparedTransactions, lines: Any, n_parts: int
) -> Iterator[PreparedTransactions]:
    """``prepared`` over each of ``n_parts`` partitions of the polars ``lines`` (a DataFrame or
    a LazyFrame), by a hash of the customer id: every customer's lines fall in one partition."""
    import polars as pl

    lines = lines.with_columns(_partition_of(n_parts).alias(_PART))
    for i in range(n_parts):
        chunk = lines.filter(pl.col(_PART) == i).drop(_PART).lazy()
        yield attrs.evolve(prepared, frame=nw.from_native(chunk))
        del chunk


def laid_out_by_customer(prepared: PreparedTransactions) -> PreparedTransactions:
    """Eager lines collected once (as :meth:`PreparedTransactions.materialised`) and laid out
    in the partitions of customers :func:`customer_table` aggregates one at a time: ordered by
    partition (each customer's lines keep their order), with its number in a column.
    A backtest cuts these lines at every date; each date's partitions are then slices of one
    frame instead of a hash of every line and a filter per partition, which copies the text
    columns. On 10M lines with a category column (``simulate_program``'s boutique programme,
    12 month ends, 4 alternating runs in one process) the 12 feature tables took 17.5-20.0 s
    instead of 19.5-22.0 s, for 0.35 s to lay the lines out; on lines whose only text is the
    id (``stage_history``'s default stages) there was no gain, so it does not use this.
    Lazy engines: unchanged."""
    if prepared.engine.is_lazy:
        return prepared
    import polars as pl

    lines = prepared.frame.pipe(collect_polars).to_native()
    n_parts = max(1, -(-lines.height // PARTITION_LINES))
    laid = lines.with_columns(_partition_of(n_parts).alias(_PART))
    del lines
    if laid.height:
        by_part = laid.partition_by(_PART, maintain_order=True, as_dict=True)
        del laid
        # the partitions in order, one chunk each (half the time of a sort: nothing merged)
        laid = pl.concat([by_part.pop(key) for key in sorted(by_part)], rechunk=False)
    return attrs.evolve(prepared, frame=nw.from_native(laid.lazy()))


@attrs.frozen
class BacktestHistory:
    """What :func:`customer_table` reads of lines laid out by :func:`laid_out_by_customer`,
    computed once for a backtest that cuts them at many whole-day ``dates``.

    ``occasions`` (:class:`~retailcrm.features._occasions.OccasionHistory`) gives the
    purchase occasions at any whole-day cut by a filter; ``spends`` holds, for each role whose
    mix is read, every customer's purchase spend per value up to each of ``dates`` (one
    column each, per partition). At those dates the table reads no line: built with
    ``lines_kept=False`` (the caller drops them), any other cut is refused.
    """

    occasions: OccasionHistory
    dates: tuple[_dt.date, ...]
    spends: dict[str, dict[int, Any]]
    lines_kept: bool = True

    @property
    def returns(self) -> ReturnsPolicy:
        """The returns policy the occasions count."""
        return self.occasions.returns

    @property
    def parts(self) -> list[int]:
        """The partitions of customers, in order."""
        return sorted(self.occasions.whole)

    def covers(self, asof: AsOf, roles: Sequence[str]) -> bool:
        """Whether the table at ``asof`` reading the mix of ``roles`` needs no line."""
        return asof.is_date and asof.date in self.dates and all(r in self.spends for r in roles)

    def spend_until(self, role: str, date: _dt.date, part: int) -> Any:
        """Each customer's purchase spend per ``role`` value up to ``date`` (one of
        ``dates``) in partition ``part``: ``customer_id``, ``role``, ``__spend`` (minor units,
        above zero)."""
        column = nw.col(f"__spend_{self.dates.index(date)}")
        frame = nw.from_native(self.spends[role][part].lazy())
        return frame.select("customer_id", role, column.alias("__spend")).filter(
            nw.col("__spend") > 0
        )


def laid_out_history(
    prepared: PreparedTransactions,
    *,
    returns: ReturnsPolicy = "net",
    dates: Iterable[_dt.date] = (),
    mix: Sequence[str] = (),
    lines_kept: bool = True,
) -> BacktestHistory | None:
    """The :class:`BacktestHistory` of lines laid out by :func:`laid_out_by_customer`:
    their occasions, and the spend per value of each role in ``mix`` up to each of ``dates``
    (whole days). Each partition's lines are read once, where they lie. ``None`` for lazy
    engines (their plans are not computed ahead).

    Measured on 10M lines (``simulate_program``'s boutique programme, its 12 month ends): a
    date's occasions took 0.45-0.6 s and take 0.1 s; its category mix 0.46-0.55 s and 0.13-0.21 s;
    building both 2.5 s once."""
    if prepared.engine.is_lazy:
        return None
    import polars as pl

    days = tuple(sorted(set(dates)))
    lines = prepared.frame.pipe(collect_polars).to_native()
    n_parts = int(lines.get_column(_PART).max() or 0) + 1 if lines.height else 1
    parts = list(_laid_out_partitions(prepared, lines, n_parts))
    del lines
    roles = [role for role in mix if prepared.has(role)]  # an absent role has no mix
    spends: dict[str, dict[int, Any]] = {role: {} for role in roles}
    amount = pl.col("amount_minor")
    for role in roles:
        sums = [
            pl.when(pl.col("date") <= day).then(amount).otherwise(0).sum().cast(pl.Int64)
            for day in days
        ]
        for i, sub in enumerate(parts):
            bought = sub.frame.to_native().filter((amount > 0) & pl.col(role).is_not_null())
            spend = bought.group_by("customer_id", role).agg(
                *(s.alias(f"__spend_{k}") for k, s in enumerate(sums))
            )
            spends[role][i] = spend.collect()
    occasions = occasion_history(parts, returns=returns)
    return BacktestHistory(occasions, days, spends, lines_kept=lines_kept)


def lines_dropped(prepared: PreparedTransactions) -> PreparedTransactions:
    """``prepared`` without its (eager) lines: a backtest whose :class:`BacktestHistory` holds
    everything its tables read keeps no line in memory."""
    return attrs.evolve(prepared, frame=prepared.frame.head(0).pipe(collect_polars).lazy())


def _laid_out_partitions(
    prepared: PreparedTransactions, lines: Any, n_parts: int
) -> Iterator[PreparedTransactions]:
    """``prepared`` over each of the ``n_parts`` partitions of lines laid out by
    :func:`laid_out_by_customer` (and cut since, which keeps their order): slices of
    ``lines``, without the partition column."""
    import polars as pl

    key = lines.get_column(_PART)
    starts = pl.Series(range(n_parts + 1), dtype=pl.UInt32)
    bounds = key.search_sorted(starts, side="left").to_list()
    for i in range(n_parts):
        chunk = lines.slice(bounds[i], bounds[i + 1] - bounds[i]).drop(_PART).lazy()
        yield attrs.evolve(prepared, frame=nw.from_native(chunk))
        del chunk


def _lazy_partitions(
    prepared: PreparedTransactions,
    asof: AsOf,
    wins: tuple[int, ...],
    returns: ReturnsPolicy,
    groups: frozenset[str],
) -> Any:
    """The lazy plan of the aggregates; a polars plan of many lines is split by customers.

    Each partition is the source filtered to the customers whose id hashes to it; the parts
    are concatenated with ``parallel=False``, so that polars (streaming engine included) runs
    them one after another and only one part's group-by state is in memory at a time.
    """
    identity = lambda frame: frame  # noqa: E731
    n_lines = prepared.n_lines or 0
    n_parts = -(-n_lines // LAZY_PARTITION_LINES)
    if n_parts <= 1 or prepared.frame.implementation is not nw.Implementation.POLARS:
        return _aggregate_all(prepared, asof, wins, returns, groups, identity)
    import polars as pl

    plans = [
        _aggregate_all(sub, asof, wins, returns, groups, identity).to_native()
        for sub in _customer_partitions(prepared, prepared.frame.to_native(), n_parts)
    ]
    return nw.from_native(pl.concat(plans, how="vertical", parallel=False))


def _materialise(frame: Any) -> Any:
    return frame.pipe(collect_polars).lazy()


def _aggregate_all(
    prepared: PreparedTransactions,
    asof: AsOf,
    wins: tuple[int, ...],
    returns: ReturnsPolicy,
    groups: frozenset[str],
    stage: Any,
    occasions: Any = None,
    spends: dict[str, Any] | None = None,
) -> Any:
    """The per-customer aggregates of ``prepared``'s lines, each step run by ``stage``; its
    ``occasions`` and its per-role ``spends`` (of :meth:`BacktestHistory.spend_until`) when
    they were computed ahead."""
    if occasions is None:
        occasions = purchase_occasions(prepared, returns=returns)
    occ = stage(occasions)
    scale = float(10**prepared.schema.currency_decimals)
    table = stage(_aggregate(occ, asof, wins, scale, months="months" in groups))
    del occ
    for role in ("category", "channel"):
        if "mix" in groups and prepared.has(role):
            spend = None if spends is None else spends.get(role)
            mix = stage(_mix(prepared, role, returns, spend))
            table = table.join(mix, on="customer_id", how="left")
            table = table.with_columns(nw.col(f"n_{_PLURAL[role]}").fill_null(0))
    return table


def _money(minor: nw.Expr, scale: float) -> nw.Expr:
    """An exact sum of minor units as currency (Float64)."""
    return exact_quotient(minor.sum().cast(nw.Int64), scale)


def _aggregate(
    occ: Any, asof: AsOf, wins: tuple[int, ...], scale: float, *, months: bool = True
) -> Any:
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
    table = occ.group_by("customer_id").agg(*aggs)
    if months:
        table = table.join(_months(occ, asof), on="customer_id", how="left").with_columns(
            nw.col("active_months_12").fill_null(0).cast(nw.Int64),
            nw.col("consecutive_active_months").fill_null(0).cast(nw.Int64),
        )
    freq = nw.col("frequency")
    table = table.with_columns(
        recency_days=(nw.lit(asof.day) - nw.col("__last_day")).cast(nw.Int64),
        avg_order_value=nw.when(freq > 0).then(nw.col("monetary") / freq).cast(nw.Float64),
        mean_interpurchase_days=nw.when(freq > 1)
        .then((nw.col("__last_day") - nw.col("__first_day")) / (freq - 1))
        .cast(nw.Float64),
        __start_day=nw.col("__first_day"),
    ).drop("__first_day", "__last_day")
    if "__discount" in table.collect_schema().names():
        table = table.with_columns(
            discount_rate=nw.when(nw.col("__list_amount") > 0)
            .then(nw.col("__discount").cast(nw.Float64) / nw.col("__list_amount").cast(nw.Float64))
            .cast(nw.Float64)
        ).drop("__discount", "__list_amount")
    return table


def _months(occ: Any, asof: AsOf) -> Any:
    """``active_months_12`` and ``consecutive_active_months`` of the buyers."""
    buy = nw.col("is_purchase")
    return (
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


def _mix(
    prepared: PreparedTransactions, role: str, returns: ReturnsPolicy, spend: Any = None
) -> Any:
    """n_{role}s, top_{role}, top_{role}_share from purchase lines weighted by spend (their
    ``spend`` per customer and value, ``__spend``, when it was computed ahead)."""
    if spend is None:
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


def _with_customers(table: Any, frame: Any, asof: AsOf, wins: tuple[int, ...]) -> Any:
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
    present = set(out.collect_schema().names())
    zero_int = ["frequency"] + [f"orders_{w}d" for w in wins]
    zero_int += [
        c
        for c in ("active_months_12", "consecutive_active_months", "n_categories", "n_channels")
        if c in present
    ]
    zero_float = ["monetary", "refund_amount"] + [f"spend_{w}d" for w in wins]
    start = nw.col("__start_day")
    return out.with_columns(
        *(nw.col(c).fill_null(0).cast(nw.Int64) for c in zero_int),
        *(nw.col(c).fill_null(0.0).cast(nw.Float64) for c in zero_float),
        __start_day=nw.when(start.is_null() | (nw.col(reg_day) < start))
        .then(nw.col(reg_day))
        .otherwise(start),
    ).drop(reg_day)


def _with_responses(table: Any, frame: Any, asof: AsOf) -> Any:
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
        *(c for c in ("active_months_12", "consecutive_active_months") if c in names),
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
