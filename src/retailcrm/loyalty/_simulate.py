"""Programme backtesting and the dashboard: :func:`simulate_program`, :func:`program_features`,
:func:`tier_summary`, :func:`tier_migration`, :func:`reactivation_rate`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import AsOf, day_number, parse_as_of
from retailcrm._engine import collect_polars, columns_of, exact_quotient, lazy_frame
from retailcrm._params import parameter_error
from retailcrm.data import CustomerSchema, TransactionSchema
from retailcrm.data._prepare import (
    Duplicates,
    PreparedTransactions,
    check_duplicates,
    prepare_transactions,
)
from retailcrm.data._tables import prepare_customers
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.features._customer import (
    BacktestHistory,
    FeatureNeeds,
    customer_table,
    feature_needs,
    feature_reads,
    laid_out_by_customer,
    laid_out_history,
    lines_dropped,
)
from retailcrm.features._occasions import purchase_occasions
from retailcrm.loyalty._assign import assign_core, check_conditions
from retailcrm.loyalty._points import PointsPolicy, points_table
from retailcrm.loyalty._tiers import TierProgram

__all__ = [
    "ProgramSimulation",
    "program_features",
    "program_table",
    "reactivation_rate",
    "simulate_program",
    "tier_migration",
    "tier_summary",
]

_STANDARD_WINDOWS = (30, 90, 180, 365)


# ----------------------------------------------------------------------------------------------
# Features over the programme's window
# ----------------------------------------------------------------------------------------------
def _windows(program: TierProgram) -> tuple[int, ...]:
    extra = {program.window.days} if program.window.days is not None else set()
    return tuple(sorted(set(_STANDARD_WINDOWS) | extra))


def _needs(program: TierProgram) -> FeatureNeeds:
    """The feature windows, groups and roles the programme's conditions read (and its
    qualification window): a backtest computes only those at each date, with the same values
    as in the full table."""
    extra = (program.window.days,) if program.window.days is not None else ()
    return feature_needs(program.columns, windows=extra)


def _md(expr: nw.Expr) -> nw.Expr:
    """``100 * month + day`` of a date: compares dates within a year."""
    return (expr.dt.month().cast(nw.Int64) * 100 + expr.dt.day().cast(nw.Int64)).cast(nw.Int64)


def _window_start_key(anchor: nw.Expr, asof: AsOf) -> nw.Expr:
    """``10000 * year + 100 * month + day`` of the anchor's last anniversary on or before
    ``as_of`` (29 February: 28 February in common years)."""
    today_md = asof.date.month * 100 + asof.date.day
    md = _md(anchor)
    year = (
        nw.when(md <= today_md).then(nw.lit(asof.date.year)).otherwise(nw.lit(asof.date.year - 1))
    )
    year = year.cast(nw.Int64)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    md = nw.when((md == 229) & ~leap).then(nw.lit(228)).otherwise(md)
    return (year * 10000 + md).cast(nw.Int64)


def program_table(
    prepared: PreparedTransactions,
    program: TierProgram,
    *,
    customers: nw.LazyFrame[Any] | None = None,
    narrow: bool = False,
    history: BacktestHistory | None = None,
) -> nw.LazyFrame[Any]:
    """The core of :func:`program_features`: prepared lines cut at their ``as_of`` in, the
    feature table with ``orders_window`` and ``spend_window`` out (sorted by customer).
    ``narrow``: only the windows, feature groups and mix roles the programme reads (and
    ``rfm``). ``history``: what the table reads of the lines, computed once for a backtest's dates
    (see :func:`~retailcrm.features._customer.laid_out_history`)."""
    asof = prepared.as_of
    if asof is None:
        raise ConfigError("program_table needs lines cut at an as_of: prepared.until(as_of).")
    if narrow:
        needs = _needs(program)
        prepared = needs.narrow(prepared)
        table = customer_table(
            prepared,
            windows=needs.windows,
            customers=customers,
            groups=needs.groups,
            history=history,
        )
    else:
        table = customer_table(
            prepared, windows=_windows(program), customers=customers, history=history
        )
    window = program.window
    if window.kind == "rolling":
        return table.with_columns(
            nw.col(f"orders_{window.days}d").alias("orders_window"),
            nw.col(f"spend_{window.days}d").alias("spend_window"),
        )
    if history is not None and asof.is_date:
        occ = history.occasions.until(asof.date)
    else:
        occ = purchase_occasions(prepared)
    if window.kind == "calendar_year":
        inside = nw.col("date").dt.year().cast(nw.Int64) == asof.date.year
    else:
        anchor = str(window.anchor)
        names = table.collect_schema().names()
        if anchor not in names:
            raise MissingColumnsError(
                [anchor],
                available=list(names),
                role="program_features",
                fix="the anniversary anchor must be a date column of the feature table "
                "(first_purchase, or registered_at with a customers table).",
            )
        anchor_expr = nw.col("__anchor")
        if table.collect_schema()[anchor] != nw.Date:
            anchor_expr = anchor_expr.dt.date()
        occ = occ.join(
            table.select("customer_id", nw.col(anchor).alias("__anchor")),
            on="customer_id",
            how="left",
        )
        key = nw.col("date").dt.year().cast(nw.Int64) * 10000 + _md(nw.col("date"))
        inside = (key >= _window_start_key(anchor_expr, asof)).fill_null(False)
    scale = float(10**prepared.schema.currency_decimals)
    per_customer = occ.group_by("customer_id").agg(
        (nw.col("is_purchase") & inside).cast(nw.Int64).sum().cast(nw.Int64).alias("__orders"),
        nw.when(inside)
        .then(nw.col("net_minor"))
        .otherwise(nw.lit(0, nw.Int64))
        .sum()
        .cast(nw.Int64)
        .alias("__spend"),
    )
    out = table.join(per_customer, on="customer_id", how="left")
    return (
        out.with_columns(
            nw.col("__orders").fill_null(0).cast(nw.Int64).alias("orders_window"),
            exact_quotient(nw.col("__spend").fill_null(0), scale).alias("spend_window"),
        )
        .drop("__orders", "__spend")
        .sort("customer_id")
    )


def _prepare_customers_for(
    customers: Any, customer_schema: CustomerSchema | None, prepared: PreparedTransactions
) -> nw.LazyFrame[Any] | None:
    """The customers table validated, keyed like the transactions (as customer_features does)."""
    if customers is None:
        return None
    cs = customer_schema
    if cs is None:
        key = prepared.schema.customer_id
        names = columns_of(customers, name="customers")
        cs = CustomerSchema(
            customer_id=key if key in names or "customer_id" not in names else "customer_id"
        )
    if cs.timezone is None and prepared.schema.timezone:
        cs = attrs.evolve(cs, timezone=prepared.schema.timezone)
    return prepare_customers(customers, cs, engine=prepared.engine)


def program_features(
    tx: Any,
    program: TierProgram,
    *,
    as_of: Any,
    customers: Any = None,
    schema: TransactionSchema | None = None,
    customer_schema: CustomerSchema | None = None,
    duplicates: Duplicates | None = None,
) -> Any:
    """The feature table a programme's conditions read, as of a date.

    :func:`~retailcrm.features.customer_features` (net of returns, windows 30, 90, 180 and
    365 days plus the programme's rolling window) with two more columns measured over the
    programme's qualification window (:class:`~retailcrm.loyalty.Window`):
    ``orders_window`` (purchases) and ``spend_window`` (net spend).

    Parameters
    ----------
    tx : dataframe
        Transaction lines (any supported engine).
    program : TierProgram
        The programme (its window decides the two columns).
    as_of : date, datetime or ISO string
        The assessment date.
    customers : dataframe, optional
        Customer profiles (registered customers without purchases get rows).
    schema, customer_schema : optional
        Column mappings for ``tx`` and ``customers``.
    duplicates : {"keep", "drop"} or None
        The duplicate-lines policy of every reader of transactions.

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per customer, sorted by ``customer_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import Tier, TierProgram, program_features
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["ann", "ann", "bob"],
    ...     "timestamp": pd.to_datetime(["2023-12-20", "2024-01-05", "2024-02-01"]),
    ...     "amount": [300.0, 120.0, 45.0],
    ... })
    >>> program = TierProgram(tiers=[Tier("gold", "Gold", "spend_window >= 400")],
    ...                       window="calendar_year")
    >>> program_features(tx, program, as_of="2024-03-31")[
    ...     ["customer_id", "monetary", "orders_window", "spend_window"]]
      customer_id  monetary  orders_window  spend_window
    0         ann     420.0              1         120.0
    1         bob      45.0              1          45.0
    """
    if not isinstance(program, TierProgram):
        raise parameter_error("program", "program_features", "a TierProgram", program)
    check_duplicates(duplicates, owner="program_features")
    parse_as_of(as_of)
    prepared = prepare_transactions(
        tx,
        schema=schema,
        as_of=as_of,
        duplicates=duplicates,
        reads=feature_reads(),
    )
    cust = _prepare_customers_for(customers, customer_schema, prepared)
    return prepared.engine.to_native(program_table(prepared, program, customers=cust))


# ----------------------------------------------------------------------------------------------
# simulate_program
# ----------------------------------------------------------------------------------------------
@attrs.frozen
class ProgramSimulation:
    """What :func:`simulate_program` found; every table is the caller's kind of frame.

    Attributes
    ----------
    history : dataframe
        The tier history, long: ``date`` then the columns of :meth:`TierProgram.assign`, one
        row per customer and date (sorted by date, then customer).
    migration : dataframe
        ``date``, ``from_tier``, ``to_tier``, ``customers``: moves between the previous date
        and this one (``from_tier`` missing: new in this assessment or no tier before; at the
        first date everyone is new).
    costs : dataframe
        ``date``, ``tier``, ``members``, ``cost_per_member`` (the sum of the tier's
        :attr:`Benefit.cost`, unknown costs counted as 0) and ``benefit_cost``
        (``members * cost_per_member``); every tier at every date, highest first.
    activity : dataframe
        ``date``, ``tier``, ``members``, ``bought_next`` (members who made a purchase after
        this date, up to the next one) and ``rate`` (their share): the win-back tier's
        reactivation rate and every other tier's repurchase rate. The last date has no next
        period and no rows.
    liability : dataframe or None
        With ``points``: ``date``, ``customers``, ``earned``, ``pending``, ``expired``,
        ``redeemed``, ``balance`` (programme totals of the points ledger at each date, tier
        multipliers from that date's tiers) and ``outstanding_points`` (``balance +
        pending``). ``None`` without ``points``.
    fingerprint : str
        The programme's :attr:`TierProgram.fingerprint`.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import Benefit, Tier, TierProgram, simulate_program
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "amount": [500.0, 20.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-10", "2024-01-20"])})
    >>> program = TierProgram(tiers=[
    ...     Tier("vip", "VIP", "spend_90d >= 100", benefits=[Benefit("gift", "gift", cost=15)]),
    ...     Tier("member", "Member", "frequency >= 0")], window="90d")
    >>> simulate_program(tx, program, dates=["2024-01-31"]).costs
            date    tier  members  cost_per_member  benefit_cost
    0 2024-01-31     vip        1             15.0          15.0
    1 2024-01-31  member        1              0.0           0.0
    """

    history: Any
    migration: Any
    costs: Any
    activity: Any
    liability: Any
    fingerprint: str


def _check_dates(dates: Any) -> list[AsOf]:
    fix = "pass a list of dates, e.g. dates=pd.date_range('2024-01-31', periods=12, freq='ME')."
    if isinstance(dates, str | bytes) or not hasattr(dates, "__iter__"):
        raise parameter_error("dates", "simulate_program", "a sequence of dates", dates, fix)
    parsed = [parse_as_of(d, name="dates") for d in dates]
    if not parsed:
        raise parameter_error("dates", "simulate_program", "at least one date", list(dates), fix)
    if any(not p.is_date for p in parsed):
        raise parameter_error(
            "dates", "simulate_program", "dates (no time of day)", list(dates), fix
        )
    days = sorted({p.date for p in parsed})
    if len(days) != len(parsed):
        raise parameter_error("dates", "simulate_program", "distinct dates", list(dates), fix)
    return [parse_as_of(d) for d in days]


def _previous_of(program: TierProgram, assignment: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    n = len(program.tiers)
    rank = nw.col("tier").replace_strict(
        list(program.ids), list(range(n)), default=n, return_dtype=nw.Int64
    )
    return assignment.select(
        nw.col("customer_id"),
        rank.cast(nw.Int64).alias("__prev"),
        nw.col("tier_since").alias("__prev_since"),
        nw.col("grace_until").alias("__grace"),
    )


def simulate_program(
    tx: Any,
    program: TierProgram,
    *,
    dates: Sequence[Any],
    points: PointsPolicy | None = None,
    customers: Any = None,
    schema: TransactionSchema | None = None,
    customer_schema: CustomerSchema | None = None,
    duplicates: Duplicates | None = None,
) -> ProgramSimulation:
    """Replay a programme over history: assess it at each date, each assessment's previous
    being the one before.

    The transactions are validated once; at each date the feature table
    (:func:`program_features`) is computed from the lines up to that date, and
    :meth:`TierProgram.assign` runs with the previous date's result as ``previous`` — so each
    date's tiers are exactly what ``assign`` alone gives on that date's features and the
    previous assignment.

    Parameters
    ----------
    tx : dataframe
        Transaction lines (any supported engine).
    program : TierProgram
        The programme to replay.
    dates : sequence of dates
        The assessment dates (e.g. 12 month ends); sorted, each a whole day.
    points : PointsPolicy, optional
        A points policy: adds the points liability at each date (:attr:`ProgramSimulation.liability`).
    customers : dataframe, optional
        Customer profiles: registered customers without purchases are assessed too (from their
        registration date).
    schema, customer_schema : optional
        Column mappings for ``tx`` and ``customers``.
    duplicates : {"keep", "drop"} or None
        The duplicate-lines policy of every reader of transactions.

    Returns
    -------
    ProgramSimulation
        ``history``, ``migration``, ``costs``, ``activity``, ``liability``.

    Notes
    -----
    At each date only the feature columns the programme reads are computed (its windows,
    feature groups and the roles whose mix it reads, see :attr:`TierProgram.columns`), with
    the same values as :func:`program_features`. Eager inputs are converted once (polars)
    and what the tables read of the lines is computed once for every date: the purchase
    occasions (an order whose lines share a date is the same order at every later date; one
    returned days later is added up again at each date) and, for the mix the programme
    reads, each customer's spend per value up to each date. Without ``points`` the lines
    themselves are then dropped from memory (the points ledger reads them at each date).
    Each date's features and assignment (one row per customer) are computed before the next
    date; DuckDB, which runs locally, does the same on the caller's connection (its plans
    are not computed ahead). Spark keeps one lazy plan per date, each reading the previous
    one.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import Tier, TierProgram, simulate_program
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-02-20", "2024-01-15"]),
    ...     "amount": [100.0, 100.0, 100.0, 50.0],
    ... })
    >>> program = TierProgram(
    ...     tiers=[Tier("vip", "VIP", "orders_90d >= 3"), Tier("member", "Member", "orders_90d >= 0")],
    ...     window="90d",
    ... )
    >>> sim = simulate_program(tx, program, dates=["2024-01-31", "2024-02-29"])
    >>> sim.history[["date", "customer_id", "tier", "change"]]
            date  customer_id    tier   change
    0 2024-01-31            1  member      new
    1 2024-01-31            2  member      new
    2 2024-02-29            1     vip  upgrade
    3 2024-02-29            2  member retained
    >>> sim.activity
            date    tier  members  bought_next  rate
    0 2024-01-31     vip        0            0   NaN
    1 2024-01-31  member        2            1   0.5
    """
    if not isinstance(program, TierProgram):
        raise parameter_error("program", "simulate_program", "a TierProgram", program)
    if points is not None and not isinstance(points, PointsPolicy):
        raise parameter_error("points", "simulate_program", "a PointsPolicy or None", points)
    check_duplicates(duplicates, owner="simulate_program")
    asofs = _check_dates(dates)
    needs = _needs(program)
    prepared = prepare_transactions(
        tx,
        schema=schema,
        as_of=asofs[-1].date,
        duplicates=duplicates,
        reads=needs.reads if points is None else None,  # points may read the category
    )
    if points is None:  # only the columns the features read are held in memory
        prepared = needs.narrow(prepared)
    prepared = laid_out_by_customer(prepared)
    # what each date's table reads of the lines, computed once (eager lines; lazy: None)
    history_of_lines = laid_out_history(
        needs.narrow(prepared),
        dates=[asof.date for asof in asofs],
        mix=needs.mix,
        lines_kept=points is not None,  # the points ledger reads the lines at each date
    )
    engine = prepared.engine
    cust = _prepare_customers_for(customers, customer_schema, prepared)
    if cust is not None:
        cust = _materialise(cust, engine, tx)
    if history_of_lines is not None and not history_of_lines.lines_kept:
        prepared = lines_dropped(prepared)
    history: list[nw.LazyFrame[Any]] = []
    buyers: list[nw.LazyFrame[Any]] = []
    ledgers: list[nw.LazyFrame[Any]] = []
    previous = None
    for i, asof in enumerate(asofs):
        cut = prepared.until(asof.date)
        features = program_table(
            cut, program, customers=cust, narrow=True, history=history_of_lines
        )
        features = _materialise(features, engine, tx)
        if i == 0:
            check_conditions(program, features, asof)
        assignment = assign_core(program, features, as_of=asof, previous=previous)
        if not engine.is_lazy:
            # each date sorted by customer, so the history is in order without a sort of its
            # own (measured on 10M lines: that sort took 8 s and raised the peak by 1.2 GiB)
            assignment = assignment.sort("customer_id")
        assignment = _materialise(assignment, engine, tx)
        previous = _previous_of(program, assignment)
        history.append(assignment.with_columns(nw.lit(asof.date, nw.Date).alias("date")))
        buyers.append(features.select("customer_id", "last_purchase"))
        if points is not None:
            ledger = points_table(
                cut, points, tiers=assignment.select("customer_id", nw.col("tier"))
            )
            ledgers.append(_ledger_totals(ledger, asof))
    long = nw.concat(history, how="vertical")
    long = long.select("date", *[c for c in long.collect_schema().names() if c != "date"])
    migration = _migration(long).sort("date", "from_tier", "to_tier", nulls_last=False)
    counts = engine.collect_small(
        long.group_by("date", "tier").agg(nw.len().cast(nw.Int64).alias("members"))
    ).to_native()
    activity = _activity(program, history, buyers, asofs, engine)
    liability = None
    if ledgers:
        totals = [engine.collect_small(t).to_native() for t in ledgers]
        liability = engine.small_native(pl.concat(totals), like=tx)
    return ProgramSimulation(
        history=engine.to_native(long if not engine.is_lazy else long.sort("date", "customer_id")),
        migration=engine.small_native(engine.collect_small(migration).to_native(), like=tx),
        costs=engine.small_native(_costs(program, counts, asofs), like=tx),
        activity=engine.small_native(activity, like=tx),
        liability=liability,
        fingerprint=program.fingerprint,
    )


def _materialise(frame: nw.LazyFrame[Any], engine: Any, like: Any) -> nw.LazyFrame[Any]:
    """A per-customer table computed once: in memory (polars) for eager callers, a table on
    the caller's connection for DuckDB (which runs locally); Spark keeps its lazy plan."""
    if not engine.is_lazy:
        return frame.pipe(collect_polars).lazy()
    if engine.kind == "duckdb":
        return nw.from_native(
            engine.small_native(frame.pipe(collect_polars).to_native(), like=like)
        )
    return frame


def _ledger_totals(ledger: nw.LazyFrame[Any], asof: AsOf) -> nw.LazyFrame[Any]:
    sums = ["earned", "pending", "expired", "redeemed", "balance"]
    return ledger.select(
        nw.lit(asof.date, nw.Date).alias("date"),
        nw.len().cast(nw.Int64).alias("customers"),
        *(nw.col(c).sum().cast(nw.Int64).alias(c) for c in sums),
        (nw.col("balance").sum() + nw.col("pending").sum())
        .cast(nw.Int64)
        .alias("outstanding_points"),
    )


def _migration(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    return (
        frame.group_by("date", "previous_tier", "tier")
        .agg(nw.len().cast(nw.Int64).alias("customers"))
        .select(
            "date",
            nw.col("previous_tier").alias("from_tier"),
            nw.col("tier").alias("to_tier"),
            "customers",
        )
    )


def _tier_order(program: TierProgram, tiers: list[Any]) -> list[Any]:
    """The programme's tiers highest first, then a missing tier if any customer has none."""
    return list(program.ids) + ([None] if None in tiers else [])


def _costs(program: TierProgram, counts: pl.DataFrame, asofs: list[AsOf]) -> pl.DataFrame:
    per_member = {t.id: float(sum(b.cost or 0.0 for b in t.benefits)) for t in program.tiers}
    found = {(row["date"], row["tier"]): row["members"] for row in counts.iter_rows(named=True)}
    order = _tier_order(program, counts.get_column("tier").to_list())
    rows = []
    for asof in asofs:
        for tier in order:
            members = int(found.get((asof.date, tier), 0))
            cost = per_member.get(tier, 0.0) if tier is not None else 0.0
            rows.append((asof.date, tier, members, cost, members * cost))
    return pl.DataFrame(
        rows,
        schema={
            "date": pl.Date,
            "tier": pl.String,
            "members": pl.Int64,
            "cost_per_member": pl.Float64,
            "benefit_cost": pl.Float64,
        },
        orient="row",
    )


def _activity(
    program: TierProgram,
    history: list[nw.LazyFrame[Any]],
    buyers: list[nw.LazyFrame[Any]],
    asofs: list[AsOf],
    engine: Any,
) -> pl.DataFrame:
    parts = []
    for i in range(len(asofs) - 1):
        asof = asofs[i]
        later = buyers[i + 1].select(
            "customer_id",
            (day_number(nw.col("last_purchase")) > asof.day).fill_null(False).alias("__bought"),
        )
        joined = history[i].join(later, on="customer_id", how="left")
        parts.append(
            engine.collect_small(
                joined.group_by("tier").agg(
                    nw.len().cast(nw.Int64).alias("members"),
                    nw.col("__bought")
                    .fill_null(False)
                    .cast(nw.Int64)
                    .sum()
                    .cast(nw.Int64)
                    .alias("bought_next"),
                )
            )
            .to_native()
            .with_columns(pl.lit(asof.date).alias("date"))
        )
    schema = {"date": pl.Date, "tier": pl.String, "members": pl.Int64, "bought_next": pl.Int64}
    found = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    lookup = {(r["date"], r["tier"]): r for r in found.iter_rows(named=True)}
    order = _tier_order(program, found.get_column("tier").to_list())
    rows = []
    for asof in asofs[:-1]:
        for tier in order:
            r = lookup.get((asof.date, tier))
            members = int(r["members"]) if r else 0
            bought = int(r["bought_next"]) if r else 0
            rows.append((asof.date, tier, members, bought, bought / members if members else None))
    return pl.DataFrame(rows, schema={**schema, "rate": pl.Float64}, orient="row")


# ----------------------------------------------------------------------------------------------
# Dashboard tables
# ----------------------------------------------------------------------------------------------
def _need(lf: nw.LazyFrame[Any], columns: Sequence[str], name: str, fix: str) -> None:
    names = list(lf.collect_schema().names())
    missing = [c for c in columns if c not in names]
    if missing:
        raise MissingColumnsError(missing, available=names, role=name, fix=fix)


def tier_summary(
    assignments: Any,
    features: Any,
    *,
    revenue: str = "monetary",
) -> Any:
    """Members, share, revenue and repurchase rate per tier: the programme dashboard.

    Parameters
    ----------
    assignments : dataframe
        A tier assignment (:meth:`TierProgram.assign`): ``customer_id`` and ``tier``.
    features : dataframe
        The customer feature table of the same engine (``customer_id``, ``frequency`` and the
        ``revenue`` column), usually as of the assignment date — or a later date, to measure
        what each tier did afterwards.
    revenue : str
        The feature column summed as revenue (``"monetary"``: net spend to date;
        ``"spend_90d"``: the last 90 days).

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per tier present (sorted by tier):
        ``tier``, ``members``, ``share`` (of all assigned customers), ``revenue`` (sum of the
        ``revenue`` column of the tier's members; customers missing from ``features`` count
        0), ``revenue_share`` and ``repurchase_rate`` (members with 2 or more purchases over
        members with at least one; missing when no member bought).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import tier_summary
    >>> tiers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "tier": ["vip", "vip", "member", "member"]})
    >>> features = pd.DataFrame({"customer_id": [1, 2, 3, 4], "frequency": [5, 1, 2, 0],
    ...                          "monetary": [900.0, 100.0, 300.0, 0.0]})
    >>> tier_summary(tiers, features)
         tier  members  share  revenue  revenue_share  repurchase_rate
    0  member        2    0.5    300.0        0.230769              1.0
    1     vip        2    0.5   1000.0        0.769231              0.5
    """
    a, engine = lazy_frame(assignments, name="assignments")
    f, _ = lazy_frame(features, name="features")
    _need(a, ["customer_id", "tier"], "assignments", "pass the output of TierProgram.assign.")
    _need(
        f,
        ["customer_id", "frequency", revenue],
        "features",
        "pass the customer feature table (customer_features(...)).",
    )
    joined = a.select("customer_id", "tier").join(
        f.select("customer_id", "frequency", nw.col(revenue).alias("__revenue")),
        on="customer_id",
        how="left",
    )
    freq = nw.col("frequency").fill_null(0)
    per_tier = joined.group_by("tier").agg(
        nw.len().cast(nw.Int64).alias("members"),
        nw.col("__revenue").fill_null(0).cast(nw.Float64).sum().alias("revenue"),
        (freq >= 2).cast(nw.Int64).sum().cast(nw.Int64).alias("__repeat"),
        (freq >= 1).cast(nw.Int64).sum().cast(nw.Int64).alias("__buyers"),
    )
    out = per_tier.with_columns(
        share=nw.col("members") / nw.col("members").sum(),
        revenue_share=nw.col("revenue") / nw.col("revenue").sum(),
        repurchase_rate=nw.when(nw.col("__buyers") > 0).then(
            nw.col("__repeat") / nw.col("__buyers")
        ),
    ).select(
        "tier",
        "members",
        nw.col("share").cast(nw.Float64),
        "revenue",
        nw.col("revenue_share").cast(nw.Float64),
        nw.col("repurchase_rate").cast(nw.Float64),
    )
    small = engine.collect_small(out.sort("tier", nulls_last=True)).to_native()
    return engine.small_native(small, like=assignments)


def tier_migration(previous: Any, current: Any) -> Any:
    """How many customers moved from each tier to each tier between two assignments.

    Parameters
    ----------
    previous, current : dataframe
        Two tier assignments (``customer_id``, ``tier``) of the same engine.

    Returns
    -------
    dataframe
        The caller's kind of frame: ``from_tier``, ``to_tier``, ``customers`` (sorted by
        ``from_tier`` then ``to_tier``, missing first). A missing ``from_tier`` is a customer
        not in ``previous`` (or without a tier there); a missing ``to_tier`` one not in
        ``current`` (or without a tier).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import tier_migration
    >>> june = pd.DataFrame({"customer_id": [1, 2, 3], "tier": ["gold", "silver", "silver"]})
    >>> july = pd.DataFrame({"customer_id": [1, 2, 4], "tier": ["gold", "gold", "silver"]})
    >>> tier_migration(june, july)
      from_tier to_tier  customers
    0       NaN  silver          1
    1      gold    gold          1
    2    silver     NaN          1
    3    silver    gold          1
    """
    p, engine = lazy_frame(previous, name="previous")
    c, _ = lazy_frame(current, name="current")
    fix = "pass tier assignments (TierProgram.assign output)."
    _need(p, ["customer_id", "tier"], "previous", fix)
    _need(c, ["customer_id", "tier"], "current", fix)
    left = p.select("customer_id", nw.col("tier").alias("from_tier"))
    right = c.select(nw.col("customer_id").alias("__cid"), nw.col("tier").alias("to_tier"))
    if left.collect_schema()["customer_id"] != right.collect_schema()["__cid"]:
        right = right.with_columns(nw.col("__cid").cast(left.collect_schema()["customer_id"]))
    both = left.join(right, left_on="customer_id", right_on="__cid", how="full")
    counts = both.group_by("from_tier", "to_tier").agg(nw.len().cast(nw.Int64).alias("customers"))
    small = engine.collect_small(counts).to_native().sort("from_tier", "to_tier", nulls_last=False)
    return engine.small_native(small, like=current)


def reactivation_rate(assignments: Any, later: Any, *, as_of: Any, tier: str) -> Any:
    """The share of a tier's members on ``as_of`` who bought after it: a win-back tier's
    reactivation rate.

    Parameters
    ----------
    assignments : dataframe
        The tier assignment on ``as_of`` (``customer_id``, ``tier``).
    later : dataframe
        The feature table at a later date (``customer_id``, ``last_purchase``), same engine.
    as_of : date, datetime or ISO string
        The date of ``assignments``.
    tier : str
        The tier id, e.g. ``"to_be_awakened"``.

    Returns
    -------
    dataframe
        One row, the caller's kind of frame: ``tier``, ``members``, ``reactivated`` (members
        whose last purchase in ``later`` is after ``as_of``) and ``rate`` (missing without
        members).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import reactivation_rate
    >>> tiers = pd.DataFrame({"customer_id": [1, 2, 3], "tier": ["sleep", "sleep", "vip"]})
    >>> later = pd.DataFrame({"customer_id": [1, 2, 3],
    ...                       "last_purchase": pd.to_datetime(["2024-07-03", "2024-02-01", "2024-07-09"])})
    >>> reactivation_rate(tiers, later, as_of="2024-06-30", tier="sleep")
        tier  members  reactivated  rate
    0  sleep        2            1   0.5
    """
    asof = parse_as_of(as_of)
    if not (isinstance(tier, str) and tier):
        raise parameter_error("tier", "reactivation_rate", "a tier id", tier)
    a, engine = lazy_frame(assignments, name="assignments")
    f, _ = lazy_frame(later, name="later")
    _need(a, ["customer_id", "tier"], "assignments", "pass the output of TierProgram.assign.")
    _need(f, ["customer_id", "last_purchase"], "later", "pass a later customer feature table.")
    last = nw.col("last_purchase")
    if f.collect_schema()["last_purchase"] != nw.Date:
        last = last.dt.date()
    bought = f.select("customer_id", (day_number(last) > asof.day).fill_null(False).alias("__b"))
    members = a.filter(nw.col("tier") == tier).select("customer_id")
    joined = members.join(bought, on="customer_id", how="left")
    row = engine.collect_small(
        joined.select(
            nw.len().cast(nw.Int64).alias("members"),
            nw.col("__b").fill_null(False).cast(nw.Int64).sum().cast(nw.Int64).alias("reactivated"),
        )
    ).to_native()
    m, r = int(row["members"][0]), int(row["reactivated"][0] or 0)
    small = pl.DataFrame(
        {"tier": [tier], "members": [m], "reactivated": [r], "rate": [r / m if m else None]},
        schema={
            "tier": pl.String,
            "members": pl.Int64,
            "reactivated": pl.Int64,
            "rate": pl.Float64,
        },
    )
    return engine.small_native(small, like=assignments)
