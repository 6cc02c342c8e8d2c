"""stage_history: every customer's stage at many dates, from transactions validated once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import AsOf, parse_as_of
from retailcrm._engine import collect_polars, columns_of, unique_name
from retailcrm._params import parameter_error
from retailcrm.data import CustomerSchema, TransactionSchema
from retailcrm.data._prepare import (
    Duplicates,
    PreparedTransactions,
    check_duplicates,
    prepare_transactions,
)
from retailcrm.data._tables import prepare_customers
from retailcrm.features._customer import (
    customer_table,
    feature_needs,
    laid_out_by_customer,
    laid_out_history,
    lines_dropped,
)
from retailcrm.lifecycle._policy import DEFAULT_POLICY, LifecyclePolicy, stage_rules
from retailcrm.lifecycle._stages import (
    as_previous,
    check_features,
    feature_columns,
    stage_table,
)
from retailcrm.rules import RuleSet

__all__ = ["HISTORY_COLUMNS", "stage_history"]

#: The columns of a stage history, in order.
HISTORY_COLUMNS = ("customer_id", "date", "stage", "rule_id", "stage_since", "days_in_stage")


def stage_history(
    tx: Any,
    *,
    dates: Iterable[Any],
    schema: TransactionSchema | None = None,
    customers: Any = None,
    customer_schema: CustomerSchema | None = None,
    policy: LifecyclePolicy | RuleSet = DEFAULT_POLICY,
    duplicates: Duplicates | None = None,
    lang: str | None = None,
) -> Any:
    """Every customer's lifecycle stage at each of several dates (long format).

    The transactions are validated once; at each date the feature-table core computes only the
    columns the stage rules read, and each date's stages are the ``previous`` of the next
    (so ``reactivated`` and ``stage_since`` work across the history).

    Parameters
    ----------
    tx : dataframe
        Transaction lines of any supported engine.
    dates : sequence of date, datetime or ISO string
        The assessment dates (e.g. month-ends); distinct, taken in increasing order.
    schema : TransactionSchema, optional
        Column mapping for ``tx``.
    customers : dataframe, optional
        Customer profiles (as for :func:`~retailcrm.customer_features`): registered customers
        without a purchase are ``prospect``, and registration starts ``tenure_days``.
    customer_schema : CustomerSchema, optional
        Column mapping for ``customers``.
    policy : LifecyclePolicy or RuleSet
        The stage definitions, or your own rule set (see :func:`assign_stages`).
    duplicates : {"keep", "drop"} or None
        The duplicate-lines policy of :func:`~retailcrm.customer_features`.
    lang : str, optional
        Label language, e.g. ``"zh"``.

    Returns
    -------
    dataframe
        The caller's kind of frame, sorted by ``date`` then ``customer_id``: ``customer_id``,
        ``date``, ``stage``, ``rule_id``, ``stage_since`` and ``days_in_stage`` (as in
        :func:`assign_stages`; null at the first date, when the start of a stage is unknown).
        A customer appears from the first date at which it exists: it has a line on or before
        the date, or (with ``customers``) registered on or before it. Earlier dates have no
        row for it.

    Raises
    ------
    ConfigError
        No dates, repeated dates or an unreadable one; a bad ``policy``.
    InvalidDataError, MissingColumnsError
        As for :func:`~retailcrm.customer_features`.

    Notes
    -----
    At each date the stages equal those of ``assign_stages(customer_features(tx,
    as_of=date, ...), as_of=date, previous=<the stages of the date before>)``. The feature
    rows of each date (one per customer, only the columns the rules read) are collected into
    memory to assign the stages; the work over transaction lines stays in the caller's engine.
    Eager inputs are converted once (polars), and what the tables read of the lines (their
    purchase occasions, and the spend per value of a mix the rules read) is computed once for
    every date; when every date is a whole day the lines are then dropped from memory.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.lifecycle import stage_history
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["ann", "ann", "bob", "bob"],
    ...     "timestamp": pd.to_datetime(["2024-01-10", "2024-02-05", "2024-01-20", "2024-05-02"]),
    ...     "amount": [30.0, 45.0, 60.0, 25.0],
    ... })
    >>> h = stage_history(tx, dates=["2024-01-31", "2024-04-30", "2024-05-31"])
    >>> h[["customer_id", "date", "stage", "stage_since", "days_in_stage"]]
      customer_id       date        stage stage_since  days_in_stage
    0         ann 2024-01-31          new         NaT            NaN
    1         bob 2024-01-31          new         NaT            NaN
    2         ann 2024-04-30       active  2024-04-30            0.0
    3         bob 2024-04-30      dormant  2024-04-30            0.0
    4         ann 2024-05-31      dormant  2024-05-31            0.0
    5         bob 2024-05-31  reactivated  2024-05-31            0.0
    """
    parsed = _check_dates(dates)
    rules = stage_rules(policy, lang, owner="stage_history")
    check_duplicates(duplicates, owner="stage_history")
    needed = ["customer_id", *dict.fromkeys(feature_columns(rules))]
    step = unique_name("__step", needed)
    needs = feature_needs(needed)
    prepared = prepare_transactions(
        tx, schema=schema, as_of=parsed[-1][0], duplicates=duplicates, reads=needs.reads
    )
    prepared = laid_out_by_customer(needs.narrow(prepared))
    # what each date's table reads of the lines, computed once (eager lines; lazy: None); a
    # date within a day reads the lines
    whole_days = all(asof.is_date for _, asof in parsed)
    history_of_lines = laid_out_history(
        prepared, dates=[asof.date for _, asof in parsed], mix=needs.mix, lines_kept=not whole_days
    )
    side = _prepare_customers(customers, customer_schema, prepared)
    if history_of_lines is not None and not history_of_lines.lines_kept:
        prepared = lines_dropped(prepared)

    def features_at(i: int) -> nw.LazyFrame[Any]:
        table = customer_table(
            prepared.until(parsed[i][0]),
            windows=needs.windows,
            customers=side,
            groups=needs.groups,
            history=history_of_lines,
        )
        if i == 0:  # once: the columns are the same at every date
            check_features(table, needed, rules)
        return table.select(*needed).with_columns(nw.lit(i, nw.Int64).alias(step))

    # one row per customer and date, the rule columns only, is collected; the stages are
    # assigned in memory, each date's stages the next one's previous
    local: Iterable[nw.LazyFrame[Any]]
    if prepared.engine.is_lazy:  # one query for every date
        tables = [features_at(i) for i in range(len(parsed))]
        everything = nw.concat(tables, how="vertical").pipe(collect_polars)
        local = [everything.filter(nw.col(step) == i).lazy() for i in range(len(parsed))]
    else:  # one date at a time: only one date's features are in memory
        local = (features_at(i).pipe(collect_polars).lazy() for i in range(len(parsed)))
    previous: nw.LazyFrame[Any] | None = None
    parts = []
    for (_, asof), features in zip(parsed, local, strict=True):
        stages = stage_table(features.drop(step), previous, rules, asof).pipe(collect_polars)
        parts.append(stages.with_columns(nw.lit(asof.date, nw.Date).alias("date")))
        previous = as_previous(stages.lazy())
    history = nw.concat(parts, how="vertical").select(*HISTORY_COLUMNS)
    native = history.to_native()
    assert isinstance(native, pl.DataFrame)
    return prepared.engine.small_native(native, like=tx)


def _check_dates(dates: Any) -> list[tuple[Any, AsOf]]:
    """The dates parsed, distinct, in increasing order (each with the value given)."""
    fix = "e.g. dates=['2024-01-31', '2024-02-29', '2024-03-31']."
    if isinstance(dates, str | bytes) or not isinstance(dates, Iterable):
        raise parameter_error("dates", "stage_history", "a sequence of dates", dates, fix)
    parsed = [(d, parse_as_of(d, name="dates")) for d in dates]
    if not parsed:
        raise parameter_error("dates", "stage_history", "at least one date", dates, fix)
    seen: dict[Any, Any] = {}
    for value, asof in parsed:
        if asof.cutoff in seen:
            raise parameter_error(
                "dates",
                "stage_history",
                "distinct dates",
                value,
                "give each date once.",
                shown=f"{value!r} twice",
            )
        seen[asof.cutoff] = value
    return sorted(parsed, key=lambda pair: pair[1].cutoff)


def _prepare_customers(
    customers: Any, customer_schema: CustomerSchema | None, prepared: PreparedTransactions
) -> nw.LazyFrame[Any] | None:
    """The customers table validated, keyed like the transactions (as ``customer_features``
    reads it: the key named like the transactions' id, or ``customer_id``; the transactions'
    time zone unless the schema names one)."""
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
