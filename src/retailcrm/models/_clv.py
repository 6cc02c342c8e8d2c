"""Predicted customer lifetime value: a transaction model times a spend model, discounted."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from retailcrm._params import check_int, check_number
from retailcrm.exceptions import ConfigError
from retailcrm.models._inputs import FloatArray, summary_arrays, summary_input
from retailcrm.models._keyed import read_keyed
from retailcrm.models._summary import TimeUnit, check_time_unit
from retailcrm.models._transaction import time_scale

__all__ = ["customer_lifetime_value"]

_COLUMNS = ("frequency", "recency", "T", "monetary_value")
_OWNER = "customer_lifetime_value"
#: How the discount rate's period reads in messages.
_PERIODS = {"D": "day", "W": "week (7 days)", "M": "month (30.4375 days)"}


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: Any,
    summary: Any,
    *,
    horizon: int,
    time_unit: TimeUnit | None = None,
    discount_rate: float,
    margin: float,
    period: Literal["D", "W", "M"] = "M",
) -> Any:
    """Each customer's discounted expected profit over the next ``horizon`` periods.

    Parameters
    ----------
    transaction_model : fitted transaction model
        A model of the number of purchases with ``expected_purchases(t, frequency=...,
        recency=..., T=...)``: :class:`BetaGeoModel`, :class:`ModifiedBetaGeoModel` or
        :class:`ParetoNBDModel`.
    spend_model : fitted spend model
        A model with ``expected_spend(frequency=..., monetary_value=...)``, normally
        :class:`GammaGammaModel`.
    summary : dataframe or mapping of arrays
        Per-customer summary with ``frequency``, ``recency``, ``T`` and ``monetary_value``
        (from :func:`btyd_summary`); a dataframe also needs ``customer_id``. Or a mapping of
        the four column names to arrays.
    horizon : int
        Number of future periods to add up (e.g. 12 months).
    time_unit : {"D", "W", "M"}, optional
        The time unit of the summary's ``recency`` and ``T`` ("W" for a weekly summary).
        Default: the unit the transaction model was fitted in (its ``time_unit_``). When the
        model knows its unit and it differs, the summary is converted to the model's unit;
        when the model was fitted without one, ``time_unit`` is taken to be its unit too, and
        is then required.
    discount_rate : float
        Discount rate *per period* (a monthly rate with the default ``period="M"``), >= 0. An
        annual rate ``R`` corresponds to ``(1 + R) ** (1 / 12) - 1`` per month.
    margin : float
        Profit margin in (0, 1] applied to spend (1 gives discounted revenue).
    period : {"D", "W", "M"}, default "M"
        Length of a discounting period: a day, a week of 7 days or a month of 30.4375 days,
        converted to the model's time unit.

    Returns
    -------
    dataframe or numpy.ndarray
        For a dataframe ``summary``: the caller's kind of frame with ``customer_id`` and
        ``clv`` (Float64), one row per summary row in its order (a pandas result keeps the
        summary's index; a DuckDB result is a relation of DuckDB's default connection; a Spark
        result is made by the summary's session). For a mapping of arrays: a numpy array.

    Raises
    ------
    ConfigError
        A parameter is out of range (the message states the range and, for
        ``discount_rate``, the period), neither ``time_unit`` nor the model states the
        summary's time unit, or a model lacks the method needed.
    MissingColumnsError
        The summary frame lacks a column.
    InvalidDataError
        The summary breaks an invariant (e.g. ``recency > T``).
    NotFittedError
        A model is not fitted.

    See Also
    --------
    GammaGammaModel.expected_spend : the spend per transaction used here.
    btyd_summary : builds the summary.

    Notes
    -----
    With ``L`` the length of a period in the summary's time unit and ``E[X(t)]`` the
    transaction model's expected number of purchases in the next ``t`` (conditional on each
    customer's history), the value is

        CLV = margin * E[Z] * sum_{i=1}^{horizon} (E[X(i L)] - E[X((i - 1) L)]) / (1 + d)^i,

    where ``E[Z]`` is the spend model's expected value per transaction and ``d`` the
    per-period ``discount_rate``: the purchases expected in period ``i`` are discounted as if
    made at the end of that period. This is the discrete discounting of lifetimes'
    ``GammaGammaFitter.customer_lifetime_value`` (monthly periods there, of 4.345 weeks or 30
    days; here of 30.4375 days), with a margin added. Fader, Hardie & Lee (2005), "RFM and CLV:
    Using iso-value curves for customer base analysis", *Journal of Marketing Research* 42(4),
    derive the continuous-time analogue (discounted expected transactions, DET); spend and
    transactions are independent in the Gamma-Gamma model, so their product is the expected
    value.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import BetaGeoModel, GammaGammaModel, customer_lifetime_value
    >>> summary = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d", "e", "f"],
    ...     "frequency": [0, 1, 1, 3, 3, 8], "recency": [0.0, 5.0, 30.0, 10.0, 33.0, 35.0],
    ...     "T": [38.0] * 6, "monetary_value": [0.0, 25.0, 40.0, 15.0, 30.0, 22.0],
    ... })
    >>> bgnbd = BetaGeoModel().fit(summary, weights=[140, 25, 19, 6, 15, 9], time_unit="W")
    >>> spend = GammaGammaModel().fit(frequency=[3, 4, 6, 2, 5, 3],
    ...                               monetary_value=[8, 15, 60, 25, 120, 40], weights=[10] * 6)
    >>> clv = customer_lifetime_value(bgnbd, spend, summary, horizon=12, discount_rate=0.01,
    ...                               margin=0.3)  # 12 months, in the model's unit (weeks)
    >>> clv.round(2)
      customer_id    clv
    0           a   3.70
    1           b   3.63
    2           c  10.12
    3           d  11.58
    4           e  31.51
    5           f  59.29
    """
    if time_unit is not None:
        check_time_unit(time_unit, owner=_OWNER)
    period_days = check_time_unit(period, owner=f"{_OWNER} (period)")
    check_int(horizon, name="horizon", owner=_OWNER, low=1, fix="a number of periods, e.g. 12.")
    d = check_number(
        discount_rate,
        name="discount_rate",
        owner=_OWNER,
        low=0.0,
        fix=f"a rate per period of one {_PERIODS[period]} (period={period!r}), e.g. 0.01 for 1% "
        "a period; an annual rate R is (1 + R) ** (1 / 12) - 1 a month.",
    )
    mg = check_number(
        margin,
        name="margin",
        owner=_OWNER,
        low=0.0,
        high=1.0,
        low_open=True,
        fix="the share of spend that is profit (1 gives discounted revenue).",
    )
    for model, method in (
        (transaction_model, "expected_purchases"),
        (spend_model, "expected_spend"),
    ):
        if not callable(getattr(model, method, None)):
            raise ConfigError(
                f"customer_lifetime_value: {type(model).__name__} has no {method}() method. "
                "Fix: pass a fitted transaction model (e.g. BetaGeoModel) first and a fitted "
                "spend model (GammaGammaModel) second."
            )
    model_unit = getattr(transaction_model, "time_unit_", None)
    unit = model_unit if model_unit is not None else time_unit
    if unit is None:
        raise ConfigError(
            "customer_lifetime_value: the time unit of the summary's recency and T is not "
            f"known: {type(transaction_model).__name__} was fitted without time_unit and none "
            "was given. Fix: pass time_unit= ('W' for a weekly summary), or fit the model with "
            "time_unit=...."
        )
    scale = time_scale(unit, time_unit, owner=_OWNER)  # the summary's lengths, in the model's unit
    length = period_days / check_time_unit(unit, owner=_OWNER)

    frame, given = summary_input(summary, _COLUMNS, {})
    if frame is None:
        data = summary_arrays(None, _COLUMNS, **given)
        return _clv(transaction_model, spend_model, data, int(horizon), length, scale, d, mg)
    data, keys = read_keyed(frame, _COLUMNS, owner=_OWNER)
    values = _clv(transaction_model, spend_model, data, int(horizon), length, scale, d, mg)
    return keys.frame({"clv": values}, owner=_OWNER)


def _clv(
    transaction_model: Any,
    spend_model: Any,
    data: dict[str, FloatArray],
    horizon: int,
    length: float,
    scale: float,
    discount_rate: float,
    margin: float,
) -> FloatArray:
    x, t_x, T = data["frequency"], data["recency"] * scale, data["T"] * scale
    spend = np.asarray(
        spend_model.expected_spend(frequency=x, monetary_value=data["monetary_value"]),
        dtype=np.float64,
    )
    total = np.zeros(x.shape)
    previous = np.zeros(x.shape)
    for i in range(1, horizon + 1):
        cumulative = np.asarray(
            transaction_model.expected_purchases(i * length, frequency=x, recency=t_x, T=T),
            dtype=np.float64,
        )
        total += (cumulative - previous) / (1.0 + discount_rate) ** i
        previous = cumulative
    return np.asarray(margin * spend * total, dtype=np.float64)
