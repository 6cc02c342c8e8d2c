"""Historical customer value: the gross profit a customer has brought so far."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw

from retailcrm._engine import lazy_frame
from retailcrm._params import check_number, parameter_error
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError

__all__ = ["historical_value"]

_FIX = (
    "pass the gross margin as a fraction, e.g. margin=0.35, or the name of a column holding "
    "each customer's margin; margin=1.0 says explicitly that you want revenue, not profit."
)


def historical_value(features: Any, *, margin: Any = None) -> Any:
    """Historical value per customer: net spend to date times the gross margin.

    Named so that it is not confused with the models' predictive customer lifetime value:
    this is what a customer *has* brought, not what they will.

    Parameters
    ----------
    features : dataframe
        The feature table of :func:`~retailcrm.customer_features` (any engine), or any frame
        with ``customer_id`` and ``monetary`` (net spend to date).
    margin : float or str
        Required. The gross margin as a fraction in (0, 1] for every customer, or the name of
        a column of ``features`` holding each customer's margin (a number in [0, 1]; a missing
        value gives a missing value). Revenue instead of profit only by saying so:
        ``margin=1.0``.

    Returns
    -------
    dataframe
        The caller's kind, one row per row of ``features`` in its order: ``customer_id``,
        ``monetary``, ``margin`` and ``historical_value`` (``monetary * margin``; 0 for a
        customer without purchases, whose ``monetary`` is missing).

    Raises
    ------
    ConfigError
        ``margin`` is missing or out of range, or names a column that is not numeric.
    MissingColumnsError
        ``customer_id``, ``monetary`` or the margin column is absent.
    InvalidDataError
        The margin column has values outside [0, 1].

    Notes
    -----
    Historical (or past) customer value, the backward-looking measure of Gupta & Lehmann,
    *Managing Customers as Investments* (2005), ch. 2: cumulative gross profit. Net spend
    already has refunds taken off (the feature table's ``returns`` policy).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import historical_value
    >>> features = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c"], "monetary": [400.0, 45.0, None]})
    >>> historical_value(features, margin=0.4)
      customer_id  monetary  margin  historical_value
    0           a     400.0     0.4             160.0
    1           b      45.0     0.4              18.0
    2           c       NaN     0.4               0.0
    """
    owner = "historical_value"
    if margin is None:
        raise ConfigError(f"historical_value: margin is required. Fix: {_FIX}")
    lf, engine = lazy_frame(features, name="features")
    names = [str(c) for c in lf.collect_schema().names()]
    needed = ["customer_id", "monetary"] + ([margin] if isinstance(margin, str) else [])
    missing = [c for c in needed if c not in names]
    if missing:
        raise MissingColumnsError(
            missing,
            available=names,
            role="features",
            fix="pass the output of customer_features (or name the margin column right).",
        )
    if isinstance(margin, str):
        dtype = lf.collect_schema()[margin]
        if not dtype.is_numeric():
            raise parameter_error(
                "margin", owner, "a number or the name of a numeric column", margin,
                f"column {margin!r} is {dtype}. {_FIX}",
            )  # fmt: skip
        m = nw.col(margin).cast(nw.Float64)
        bad = (
            engine.collect_small(
                lf.select(((m < 0) | (m > 1)).fill_null(value=False).cast(nw.Int64).sum())
            )
            .to_native()
            .item()
        )
        if bad:
            raise InvalidDataError(
                f"features: {bad} value(s) of margin column {margin!r} are outside [0, 1]. "
                "Fix: give margins as fractions (35% is 0.35)."
            )
    else:
        value = check_number(margin, name="margin", owner=owner, low=0.0, high=1.0, low_open=True,
                             fix=_FIX)  # fmt: skip
        m = nw.lit(value, nw.Float64)
    money = nw.col("monetary").cast(nw.Float64)
    result = lf.select(
        "customer_id",
        money.alias("monetary"),
        m.alias("margin"),
        nw.when(money.is_null()).then(nw.lit(0.0)).otherwise(money * m).alias("historical_value"),
    )
    return engine.to_native(result)
