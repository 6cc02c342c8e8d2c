"""Acquisition cohorts: customers (or revenue) by first-purchase period and period offset."""

from __future__ import annotations

from typing import Any, Literal

import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import PERIODS, Period, parse_as_of, period_number, period_number_of
from retailcrm._dates import period_start_of as _period_start
from retailcrm._engine import collect_polars, lazy_frame
from retailcrm._params import check_choice
from retailcrm.data import TransactionSchema
from retailcrm.data._prepare import Duplicates
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.features._occasions import OCCASION_READS, purchase_occasions
from retailcrm.metrics._retention import ReturnsPolicy, prepared_lines

__all__ = ["cohort_cells", "cohort_matrix", "cohort_retention"]

Mode = Literal["active", "active_or_later"]
Value = Literal["customers", "revenue", "cumulative_revenue"]
COLUMNS = ("cohort", "offset", "cohort_size", "value", "rate")
_MODE_PART = {"active": "active", "active_or_later": "last"}


def cohort_cells(
    occ: nw.LazyFrame[Any],
    cohort: Period,
    period: Period,
    parts: tuple[str, ...] = ("sizes", "active", "last", "revenue"),
) -> dict[str, pl.DataFrame]:
    """The engine's part of a cohort table: small aggregates, collected — only ``parts``.

    ``sizes`` (``cohort_no``, ``cohort_size``), ``active`` (``cohort_no``, ``offset``,
    ``customers``: customers with a purchase in that period), ``last`` (``cohort_no``,
    ``offset``, ``customers``: customers whose last purchase is at that offset) and
    ``revenue`` (``cohort_no``, ``offset``, ``revenue_minor``: net spend of every occasion,
    an occasion dated before the first purchase counting in offset 0). Customers without a
    purchase have no cohort. The parts asked for are computed in one pass of the engine
    (stacked into one small frame), so the occasions are built once.
    """
    buy = nw.col("is_purchase")
    # One row per customer and offset period (far fewer than occasions): the cohort period
    # of the period's first purchase (null: no purchase in it) and the period's net spend.
    # Period numbers grow with the date, so the cohort and base of the first purchase are the
    # minima over the customer's rows — a window, not a join of the occasions back to a
    # per-customer table.
    aggs = [nw.col("__c").min().alias("__c")]
    if "revenue" in parts:
        aggs.append(nw.col("net_minor").sum().alias("net_minor"))
    rows = (
        occ.with_columns(
            __p=period_number(nw.col("date"), period, occ.implementation),
            __c=nw.when(buy).then(period_number(nw.col("date"), cohort, occ.implementation)),
        )
        .group_by("customer_id", "__p")
        .agg(*aggs)
        .with_columns(
            cohort_no=nw.col("__c").min().over("customer_id"),
            __base=nw.when(~nw.col("__c").is_null())
            .then(nw.col("__p"))
            .otherwise(nw.lit(None, nw.Int64))
            .min()
            .over("customer_id"),
        )
        .filter(~nw.col("cohort_no").is_null())  # customers without a purchase: no cohort
    )
    # periods before the first purchase (refund-only occasions) count in offset 0
    offset = nw.col("__p") - nw.col("__base")
    rows = rows.with_columns(
        offset=nw.when(offset < 0).then(nw.lit(0, nw.Int64)).otherwise(offset).cast(nw.Int64)
    )
    bought = rows.filter(~nw.col("__c").is_null())

    def count(frame: nw.LazyFrame[Any], name: str = "customers") -> nw.LazyFrame[Any]:
        return frame.group_by("cohort_no", "offset").agg(nw.len().cast(nw.Int64).alias(name))

    # built only when asked for (DuckDB binds each query's columns as it is written)
    queries = {
        # every customer with a cohort bought in the base period: offset 0 once
        "sizes": lambda: count(bought.filter(nw.col("__p") == nw.col("__base")), "cohort_size"),
        "active": lambda: count(bought),
        "last": lambda: count(
            bought.group_by("customer_id", "cohort_no").agg(nw.col("offset").max())
        ),
        "revenue": lambda: rows.group_by("cohort_no", "offset").agg(
            nw.col("net_minor").sum().cast(nw.Int64).alias("revenue_minor")
        ),
    }
    # One collect: the parts stacked as (part, cohort_no, offset, n) rows.
    stacked = nw.concat(
        [
            queries[name]().select(
                nw.lit(name).alias("part"),
                nw.col("cohort_no").cast(nw.Int64),
                nw.col("offset").cast(nw.Int64),
                nw.col(_VALUE[name]).cast(nw.Int64).alias("n"),
            )
            for name in parts
        ],
        how="vertical",
    )
    got = stacked.pipe(collect_polars).to_native()
    out = {}
    for name in parts:
        part = got.filter(pl.col("part") == name).drop("part").rename({"n": _VALUE[name]})
        out[name] = part.drop("offset") if name == "sizes" else part
    return out


_VALUE = {
    "sizes": "cohort_size",
    "active": "customers",
    "last": "customers",
    "revenue": "revenue_minor",
}


def _grid(sizes: pl.DataFrame, cohort: Period, period: Period, last_period: int) -> pl.DataFrame:
    """Every (cohort, offset) from 0 to the offset of the as-of period from the cohort's
    first day."""
    rows: dict[str, list[Any]] = {"cohort_no": [], "offset": []}
    for number in sizes.get_column("cohort_no").to_list():
        first = period_number_of(_period_start(number, cohort), period)
        for k in range(max(last_period - first, 0) + 1):
            rows["cohort_no"].append(number)
            rows["offset"].append(k)
    return pl.DataFrame(rows, schema={"cohort_no": pl.Int64, "offset": pl.Int64})


def cohort_table(
    cells: dict[str, pl.DataFrame],
    *,
    cohort: Period,
    period: Period,
    last_period: int,
    mode: Mode,
    value: Value,
    scale: int,
) -> pl.DataFrame:
    """The long cohort table from :func:`cohort_cells` (small; polars)."""
    sizes = cells["sizes"].with_columns(pl.col("cohort_no", "cohort_size").cast(pl.Int64))
    grid = _grid(sizes, cohort, period, last_period).join(sizes, on="cohort_no", how="left")
    keys = ["cohort_no", "offset"]

    def cast(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col("cohort_no", "offset").cast(pl.Int64))

    if value == "customers":
        if mode == "active":
            counts = cast(cells["active"])
            table = grid.join(counts, on=keys, how="left").with_columns(
                pl.col("customers").fill_null(0)
            )
        else:  # customers whose last purchase is at this offset or later
            last = cast(cells["last"])
            table = (
                grid.join(last.rename({"offset": "last_offset"}), on="cohort_no", how="left")
                .with_columns(
                    pl.when(pl.col("last_offset") >= pl.col("offset"))
                    .then(pl.col("customers"))
                    .otherwise(0)
                    .alias("customers")
                )
                .group_by(["cohort_no", "offset", "cohort_size"])
                .agg(pl.col("customers").sum())
            )
        table = table.with_columns(
            value=pl.col("customers").cast(pl.Int64),
            rate=pl.col("customers").cast(pl.Float64) / pl.col("cohort_size").cast(pl.Float64),
        )
    else:
        revenue = cast(cells["revenue"])
        table = (
            grid.join(revenue, on=keys, how="left")
            .with_columns(pl.col("revenue_minor").fill_null(0))
            .sort(keys)
        )
        minor = pl.col("revenue_minor")
        if value == "cumulative_revenue":
            minor = minor.cum_sum().over("cohort_no", order_by="offset")
        table = table.with_columns(value=minor.cast(pl.Float64) / float(scale)).with_columns(
            rate=pl.col("value") / pl.col("cohort_size").cast(pl.Float64)
        )
    starts = {n: _period_start(n, cohort) for n in sizes.get_column("cohort_no").to_list()}
    table = table.sort(keys).with_columns(
        cohort=pl.col("cohort_no").replace_strict(starts, return_dtype=pl.Date)
    )
    return table.select("cohort", "offset", pl.col("cohort_size").cast(pl.Int64), "value", "rate")


def cohort_retention(
    tx: Any,
    *,
    cohort: Period = "M",
    period: Period = "M",
    mode: Mode = "active",
    value: Value = "customers",
    as_of: Any = None,
    schema: TransactionSchema | None = None,
    returns: ReturnsPolicy = "net",
    duplicates: Duplicates | None = None,
) -> Any:
    """Acquisition cohorts by period offset: a long table, ready for a heatmap.

    Parameters
    ----------
    tx : dataframe
        Transaction lines of any supported engine.
    cohort : {"D", "W", "M", "Q", "Y"}
        The calendar period of a customer's first purchase that names their cohort.
    period : {"D", "W", "M", "Q", "Y"}
        The unit of the offset: offset ``k`` is the ``k``-th calendar period after the one of
        the customer's first purchase (offset 0 holds the first purchase).
    mode : {"active", "active_or_later"}
        With ``value="customers"``: ``"active"`` counts customers with a purchase in the
        offset's period; ``"active_or_later"`` those with a purchase in it or any later one
        (not yet lost: the count cannot rise along a row).
    value : {"customers", "revenue", "cumulative_revenue"}
        What a cell holds: customers (counted as ``mode`` says), the cohort's net revenue in
        the offset's period, or its revenue up to and including it.
    as_of : date, datetime or ISO string
        Lines after it are ignored (required); the last offset of each cohort is the period
        that contains ``as_of`` (partial when ``as_of`` is not a period end).
    schema, returns, duplicates
        As for :func:`~retailcrm.customer_features`.

    Returns
    -------
    dataframe
        Small, of the caller's kind: one row per cohort and offset from 0 to the as-of
        period, sorted: ``cohort`` (the first day of the cohort's period), ``offset``,
        ``cohort_size``, ``value`` and ``rate`` (``value / cohort_size``: the retention rate
        for customers, revenue per cohort customer for revenue). :func:`cohort_matrix` turns
        it wide.

    Raises
    ------
    ConfigError
        ``mode="active_or_later"`` with a revenue value (revenue has no "or later").

    Notes
    -----
    A purchase is a purchase occasion with net spend above zero; a customer's cohort is set
    by their first one. Revenue counts every occasion of cohort customers (refunds reduce
    it), so the revenue cells of all cohorts add up to the net revenue of every customer with
    a purchase; customers whose lines are all refunds have no cohort. The offset-0 column of
    ``"customers"`` equals the cohort size. The layout is the customer cohort chart
    ("C3") of Fader, Hardie & Ross, *The Customer-Base Audit* (2022).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import cohort_retention
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c", "c"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-05", "2024-03-02", "2024-01-20", "2024-02-10", "2024-03-15"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0, 25.0],
    ... })
    >>> cohort_retention(tx, as_of="2024-03-31")
          cohort  offset  cohort_size  value  rate
    0 2024-01-01       0            2      2   1.0
    1 2024-01-01       1            2      0   0.0
    2 2024-01-01       2            2      1   0.5
    3 2024-02-01       0            1      1   1.0
    4 2024-02-01       1            1      1   1.0
    """
    owner = "cohort_retention"
    fix = "'M' (calendar months), 'D', 'W', 'Q' or 'Y'."
    cohort = check_choice(cohort, PERIODS, name="cohort", owner=owner, fix=fix)
    period = check_choice(period, PERIODS, name="period", owner=owner, fix=fix)
    mode = check_choice(
        mode, ("active", "active_or_later"), name="mode", owner=owner,
        fix="'active' (bought in the period) or 'active_or_later' (bought then or later).",
    )  # fmt: skip
    value = check_choice(
        value, ("customers", "revenue", "cumulative_revenue"), name="value", owner=owner,
        fix="'customers', 'revenue' or 'cumulative_revenue'.",
    )  # fmt: skip
    if mode == "active_or_later" and value != "customers":
        raise ConfigError(
            f"cohort_retention: mode='active_or_later' counts customers; value={value!r} is "
            "money. Fix: value='customers' with that mode, or mode='active' for revenue."
        )
    at = parse_as_of(as_of)
    prepared = prepared_lines(
        tx, cut=as_of, schema=schema, returns=returns, duplicates=duplicates, owner=owner,
        reads=OCCASION_READS,
    )  # fmt: skip
    need = ("sizes", "revenue") if value != "customers" else ("sizes", _MODE_PART[mode])
    cells = cohort_cells(purchase_occasions(prepared, returns=returns), cohort, period, need)
    table = cohort_table(
        cells,
        cohort=cohort,
        period=period,
        last_period=period_number_of(at.date, period),
        mode=mode,
        value=value,
        scale=int(10**prepared.schema.currency_decimals),
    )
    return prepared.engine.small_native(table, like=tx)


def cohort_matrix(table: Any, *, values: Literal["rate", "value"] = "rate") -> Any:
    """A :func:`cohort_retention` table wide: one row per cohort, one column per offset.

    Parameters
    ----------
    table : dataframe
        The output of :func:`cohort_retention` (any engine; it is small).
    values : {"rate", "value"}
        The column to spread.

    Returns
    -------
    dataframe
        The caller's kind: ``cohort`` then the offsets ``"0"``, ``"1"``, ... as columns
        (text names, as every engine needs); cells past a cohort's last offset are missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import cohort_matrix, cohort_retention
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "c", "c"],
    ...     "timestamp": pd.to_datetime(
    ...         ["2024-01-05", "2024-03-02", "2024-01-20", "2024-02-10", "2024-03-15"]),
    ...     "amount": [10.0, 20.0, 15.0, 30.0, 25.0],
    ... })
    >>> cohort_matrix(cohort_retention(tx, as_of="2024-03-31"))
          cohort    0    1    2
    0 2024-01-01  1.0  0.0  0.5
    1 2024-02-01  1.0  1.0  NaN
    """
    owner = "cohort_matrix"
    values = check_choice(
        values, ("rate", "value"), name="values", owner=owner, fix="'rate' or 'value'."
    )
    lf, engine = lazy_frame(table, name="table")
    names = lf.collect_schema().names()
    missing = [c for c in ("cohort", "offset", values) if c not in names]
    if missing:
        raise MissingColumnsError(
            missing, available=names, role="table", fix="pass the output of cohort_retention."
        )
    small = engine.collect_small(lf.select("cohort", "offset", values)).to_native()
    wide = (
        small.sort("cohort", "offset")
        .with_columns(pl.col("offset").cast(pl.Int64).cast(pl.String))
        .pivot(on="offset", index="cohort", values=values, sort_columns=False)
        .sort("cohort")
    )
    offsets = sorted((c for c in wide.columns if c != "cohort"), key=int)
    return engine.small_native(wide.select("cohort", *offsets), like=table)
