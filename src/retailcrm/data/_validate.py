"""validate_transactions: every problem of a transaction table, at once."""

from __future__ import annotations

from typing import Any

from retailcrm.data._prepare import inspect_transactions
from retailcrm.data._report import ValidationReport
from retailcrm.data._schema import TransactionSchema

__all__ = ["validate_transactions"]


def validate_transactions(
    tx: Any, *, schema: TransactionSchema | None = None, as_of: Any = None
) -> ValidationReport:
    """Check a transaction table and report every problem found.

    Nothing is changed and nothing is raised for bad data: the report lists each problem with
    its severity, the column, how many rows have it, up to five example row labels and the fix.
    Call :meth:`ValidationReport.raise_for_errors` to stop on errors.

    Parameters
    ----------
    tx : dataframe
        Transactions: pandas, polars (eager or lazy), pyarrow, DuckDB or PySpark.
    schema : TransactionSchema, optional
        Column mapping; ``TransactionSchema()`` (the role names) by default.
    as_of : date, datetime or str, optional
        When given, lines after it are reported (``after_as_of``).

    Returns
    -------
    ValidationReport
        ``report.ok`` is False when there are errors.

    Notes
    -----
    Errors (stop :func:`~retailcrm.customer_features`): ``missing_columns``,
    ``amount_not_numeric`` (also ``quantity_``/``discount_``), ``amount_null``,
    ``amount_not_finite``, ``timestamp_unparseable``, ``timestamp_not_datetime``,
    ``timestamp_null``, ``mixed_timezones``, ``customer_id_null``, ``customer_id_mixed_types``
    (also ``order_id_``/``product_id_``/``category_``/``channel_``).
    Warnings (handled by a documented policy): ``empty``, ``duplicate_lines``, ``after_as_of``,
    ``zero_amount``, ``extreme_amount``, ``order_spans_customers``.
    Info: ``negative_amount`` (returns, see the returns policy), ``amount_as_text``.

    *Extreme amounts* use Tukey's far-out fence on the log scale: a positive amount is extreme
    when ``log(amount) > Q3 + 3 * IQR`` of ``log`` of the positive amounts (a refund when
    ``-amount`` is); at least 20 positive amounts are needed.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm import validate_transactions
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "timestamp": ["2024-01-02", "2024-01-02", "yesterday"],
    ...     "amount": ["19.90", "19.90", "12,50"],
    ... })
    >>> report = validate_transactions(tx)
    >>> report.codes
    ('amount_not_numeric', 'timestamp_unparseable', 'duplicate_lines')
    >>> report["amount_not_numeric"].rows
    (2,)
    """
    _, report = inspect_transactions(tx, schema=schema, as_of=as_of, level="all")
    return report
