"""Holdout validation of transaction models: frames ready to plot, and error measures.

Three views of how well a model fitted on a calibration period predicts the holdout period, the
checks of Fader, Hardie & Lee (2005): purchases per calibration-frequency bucket (the
"conditional expectations" figure), per-customer errors, and the weekly tracking of cumulative
repeat transactions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd

from retailcrm._dates import day_number_of
from retailcrm._engine import lazy_frame
from retailcrm._params import check_int
from retailcrm.data import TransactionSchema
from retailcrm.data._prepare import prepare_transactions
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.features._btyd import TimeUnit, check_ends, check_time_unit
from retailcrm.features._occasions import purchase_days
from retailcrm.models._inputs import FloatArray, summary_arrays

__all__ = ["holdout_comparison", "holdout_metrics", "tracking_frame"]

_HOLDOUT_COLUMNS = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")


def _check_model(model: Any, method: str, owner: str) -> None:
    if not callable(getattr(model, method, None)):
        raise ConfigError(
            f"{owner}: {type(model).__name__} has no {method}() method. Fix: pass a fitted "
            "transaction model such as BetaGeoModel, ModifiedBetaGeoModel or ParetoNBDModel."
        )


def _predicted_actual(model: Any, summary: Any, owner: str) -> tuple[FloatArray, ...]:
    _check_model(model, "expected_purchases", owner)
    if not isinstance(summary, Mapping):
        names = lazy_frame(summary, name="summary")[0].collect_schema().names()
        missing = [c for c in _HOLDOUT_COLUMNS if c not in names]
        if missing:
            raise MissingColumnsError(
                missing,
                available=names,
                role="summary",
                fix="make the summary with a holdout period: btyd_summary(tx, "
                "observation_end=..., calibration_end=...).",
            )
    data = summary_arrays(summary, _HOLDOUT_COLUMNS)
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    predicted = np.asarray(
        model.expected_purchases(data["duration_holdout"], frequency=x, recency=t_x, T=T),
        dtype=np.float64,
    )
    return x, predicted, data["frequency_holdout"]


def holdout_comparison(model: Any, summary: Any, *, max_frequency: int = 7) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases per calibration-frequency bucket.

    Parameters
    ----------
    model : fitted transaction model
        A model with ``expected_purchases(t, frequency=..., recency=..., T=...)`` (e.g.
        :class:`BetaGeoModel`) fitted on the calibration columns of ``summary``.
    summary : dataframe
        A :func:`btyd_summary` made with ``calibration_end`` (any engine): ``frequency``,
        ``recency``, ``T``, ``frequency_holdout`` and ``duration_holdout`` are read.
    max_frequency : int, default 7
        The last bucket collects calibration frequencies ``>= max_frequency``.

    Returns
    -------
    pandas.DataFrame
        One row per bucket ``0, 1, ..., max_frequency`` (buckets without customers included,
        with means NaN), columns ``frequency`` (the bucket's lowest calibration frequency),
        ``label`` (``"0"``, ..., ``"7+"``), ``n_customers``, ``actual`` (mean holdout
        purchases) and ``predicted`` (mean expected holdout purchases).

    Raises
    ------
    MissingColumnsError
        The summary lacks a column (e.g. it was made without ``calibration_end``).
    ConfigError
        ``max_frequency`` is not a whole number >= 1, or the model has no
        ``expected_purchases``.

    See Also
    --------
    holdout_metrics : the same predictions summarised as error measures.
    tracking_frame : cumulative repeat transactions over time.

    Notes
    -----
    The "conditional expectations" check of Fader, Hardie & Lee (2005), "Counting your
    customers the easy way", *Marketing Science* 24(2), figure 4: each customer's prediction is
    the conditional expectation of purchases in the holdout period (length
    ``duration_holdout``) given their calibration ``(x, t_x, T)``, averaged within the groups of
    customers who made 0, 1, ..., 7+ repeat purchases in calibration, next to the average of what
    they actually did. Plot ``predicted`` and ``actual`` against ``label``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import BetaGeoModel, holdout_comparison
    >>> summary = pd.DataFrame({
    ...     "frequency": [0, 1, 1, 3, 3, 8], "recency": [0.0, 5.0, 30.0, 10.0, 33.0, 35.0],
    ...     "T": [38.0] * 6, "frequency_holdout": [0, 0, 1, 0, 2, 6],
    ...     "duration_holdout": [39.0] * 6,
    ... })
    >>> model = BetaGeoModel().fit(summary, weights=[140, 25, 19, 6, 15, 9])
    >>> holdout_comparison(model, summary, max_frequency=3).round(3)
       frequency label  n_customers  actual  predicted
    0          0     0            1   0.000      0.183
    1          1     1            2   0.500      0.448
    2          2     2            0     NaN        NaN
    3          3    3+            3   2.667      3.597
    """
    check_int(max_frequency, name="max_frequency", owner="holdout_comparison", low=1)
    x, predicted, actual = _predicted_actual(model, summary, "holdout_comparison")
    top = int(max_frequency)
    bucket = np.minimum(x, top).astype(np.int64)
    n = np.bincount(bucket, minlength=top + 1).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_actual = np.bincount(bucket, weights=actual, minlength=top + 1) / n
        mean_predicted = np.bincount(bucket, weights=predicted, minlength=top + 1) / n
    labels = [str(k) for k in range(top)] + [f"{top}+"]
    return pd.DataFrame(
        {
            "frequency": np.arange(top + 1, dtype=np.int64),
            "label": labels,
            "n_customers": n,
            "actual": mean_actual,
            "predicted": mean_predicted,
        }
    )


def holdout_metrics(model: Any, summary: Any) -> dict[str, float]:
    """Error measures of a model's holdout predictions, per customer and in total.

    Parameters
    ----------
    model : fitted transaction model
        As for :func:`holdout_comparison`.
    summary : dataframe
        A :func:`btyd_summary` made with ``calibration_end``.

    Returns
    -------
    dict of str to float
        ``n_customers``; ``actual_total`` and ``predicted_total`` (holdout purchases of all
        customers); ``relative_error`` (``predicted_total / actual_total - 1``); ``mae`` and
        ``rmse`` (mean absolute and root mean squared error of the per-customer predictions);
        ``bucket_mae`` (mean absolute difference of the bucket means of
        :func:`holdout_comparison`, weighted by the buckets' customers).

    Notes
    -----
    The per-customer errors compare a conditional expectation with a count, so even a perfect
    model has a positive MAE; use them to compare models on the same data (as in Fader,
    Hardie & Lee 2005's comparison of BG/NBD with Pareto/NBD), not in absolute terms.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import BetaGeoModel, holdout_metrics
    >>> summary = pd.DataFrame({
    ...     "frequency": [0, 1, 1, 3, 3, 8], "recency": [0.0, 5.0, 30.0, 10.0, 33.0, 35.0],
    ...     "T": [38.0] * 6, "frequency_holdout": [0, 0, 1, 0, 2, 6],
    ...     "duration_holdout": [39.0] * 6,
    ... })
    >>> model = BetaGeoModel().fit(summary, weights=[140, 25, 19, 6, 15, 9])
    >>> metrics = holdout_metrics(model, summary)
    >>> metrics["actual_total"], round(metrics["predicted_total"], 2), round(metrics["mae"], 3)
    (9.0, 11.87, 0.609)
    """
    x, predicted, actual = _predicted_actual(model, summary, "holdout_metrics")
    err = predicted - actual
    table = holdout_comparison(model, summary)
    valid = table["n_customers"].to_numpy() > 0
    gaps = np.abs(table["predicted"].to_numpy() - table["actual"].to_numpy())[valid]
    weights = table["n_customers"].to_numpy()[valid]
    actual_total = float(actual.sum())
    predicted_total = float(predicted.sum())
    return {
        "n_customers": float(x.size),
        "actual_total": actual_total,
        "predicted_total": predicted_total,
        "relative_error": predicted_total / actual_total - 1.0 if actual_total else float("nan"),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err * err))),
        "bucket_mae": float(gaps @ weights / weights.sum()),
    }


def tracking_frame(
    model: Any,
    tx: Any,
    *,
    observation_end: Any,
    calibration_end: Any = None,
    schema: TransactionSchema | None = None,
    time_unit: TimeUnit = "W",
) -> pd.DataFrame:
    """Actual and expected repeat transactions of a cohort, period by period (tracking plot).

    Parameters
    ----------
    model : fitted transaction model
        A model with ``expected_purchases_new_customer(t)`` (e.g. :class:`BetaGeoModel`),
        fitted on a summary in ``time_unit``.
    tx : dataframe
        The transaction lines the summary was made from (any engine).
    observation_end : date, datetime or ISO string
        The last day tracked.
    calibration_end : date, datetime or ISO string, optional
        End of the calibration period: the cohort is the customers whose first purchase falls
        on or before it (those of ``btyd_summary(..., calibration_end=...)``), and periods
        after it are flagged ``holdout``. Without it the cohort is every customer with a
        purchase by ``observation_end``.
    schema : TransactionSchema, optional
        Column mapping for ``tx``.
    time_unit : {"D", "W", "M"}, default "W"
        The tracking period and the time unit the model was fitted in.

    Returns
    -------
    pandas.DataFrame
        One row per period from the cohort's first purchase day to ``observation_end`` (the
        last period may be shorter), columns ``period`` (1, 2, ...), ``period_end`` (the
        period's last day, a datetime at midnight), ``holdout`` (the period ends after
        ``calibration_end``),
        ``actual`` (Int64) and ``expected`` (Float64) repeat transactions in the period, and
        ``actual_cumulative`` and ``expected_cumulative``.

    Raises
    ------
    ConfigError
        Bad dates or ``time_unit``, or the model has no ``expected_purchases_new_customer``.

    Notes
    -----
    The tracking plot of Fader, Hardie & Lee (2005), "Counting your customers the easy way",
    *Marketing Science* 24(2), figure 3. Periods start on the cohort's earliest first purchase
    day and last one ``time_unit``. Repeat transactions are purchase days after a customer's
    first (as in :func:`btyd_summary`). With ``f_i`` customer ``i``'s first purchase day and
    ``e_k`` the last day of period ``k``, the expected cumulative number is

        sum_i E[X((e_k - f_i) / unit)]  over customers with f_i <= e_k,

    ``E[X(t)]`` being the model's expected repeat purchases of a new customer in ``(0, t]``,
    measured like ``T`` (so that at the end of calibration it sums the fitted expectations).
    Plot ``actual_cumulative`` and ``expected_cumulative`` (or the per-period columns) against
    ``period``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import BetaGeoModel, tracking_frame
    >>> model = BetaGeoModel().fit(frequency=[0, 1, 1, 3, 3, 8], recency=[0, 5, 30, 10, 33, 35],
    ...                            T=[38] * 6, weights=[140, 25, 19, 6, 15, 9])
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2, 2, 3],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-20",
    ...                                  "2024-01-03", "2024-01-25", "2024-01-10"]),
    ...     "amount": [20.0, 15.0, 30.0, 12.0, 18.0, 40.0],
    ... })
    >>> track = tracking_frame(model, tx, observation_end="2024-01-28",
    ...                        calibration_end="2024-01-14")
    >>> track["period_end"].dt.strftime("%Y-%m-%d").tolist()
    ['2024-01-07', '2024-01-14', '2024-01-21', '2024-01-28']
    >>> track.drop(columns="period_end").round(2)
       period  holdout  actual  expected  actual_cumulative  expected_cumulative
    0       1    False       0      0.04                  0                 0.04
    1       2    False       1      0.08                  1                 0.12
    2       3     True       1      0.09                  2                 0.20
    3       4     True       1      0.08                  3                 0.29
    """
    _check_model(model, "expected_purchases_new_customer", "tracking_frame")
    unit = check_time_unit(time_unit, owner="tracking_frame")
    obs, cal = check_ends(observation_end, calibration_end)
    prepared = prepare_transactions(tx, schema=schema, as_of=obs)
    days = purchase_days(prepared)
    firsts = days.group_by("customer_id").agg(nw.col("day").min().alias("__first_day"))
    if cal is not None:
        firsts = firsts.filter(nw.col("__first_day") <= day_number_of(cal))
    repeat = days.join(firsts, on="customer_id", how="inner").filter(
        nw.col("day") > nw.col("__first_day")
    )
    per_day = repeat.group_by("day").agg(nw.len().cast(nw.Int64).alias("n"))
    cohort = firsts.group_by("__first_day").agg(nw.len().cast(nw.Int64).alias("n"))
    engine = prepared.engine
    repeat_days = engine.collect_small(per_day).to_native()
    first_days = engine.collect_small(cohort).to_native()

    obs_day = day_number_of(obs)
    columns = [
        "period",
        "period_end",
        "holdout",
        "actual",
        "expected",
        "actual_cumulative",
        "expected_cumulative",
    ]
    if first_days.height == 0:
        return pd.DataFrame({c: [] for c in columns})
    f = np.asarray(first_days["__first_day"].to_numpy(), dtype=np.int64)
    nf = np.asarray(first_days["n"].to_numpy(), dtype=np.float64)
    origin = int(f.min())
    n_periods = int(np.floor((obs_day - origin) / unit)) + 1
    k = np.arange(1, n_periods + 1)
    ends = np.minimum(origin + np.ceil(k * unit).astype(np.int64) - 1, obs_day)
    d = np.asarray(repeat_days["day"].to_numpy(), dtype=np.int64)
    nd = np.asarray(repeat_days["n"].to_numpy(), dtype=np.float64)
    period_of_day = np.searchsorted(ends, d, side="left")  # period index (0-based) of each day
    actual = np.bincount(period_of_day, weights=nd, minlength=n_periods)[:n_periods]
    actual = np.rint(actual).astype(np.int64)

    elapsed = (ends[:, None] - f[None, :]) / unit  # periods x first days
    born = elapsed >= 0
    ex = np.asarray(
        model.expected_purchases_new_customer(np.where(born, elapsed, 0.0)), dtype=np.float64
    )
    expected_cum = (np.where(born, ex, 0.0) * nf[None, :]).sum(axis=1)
    expected = np.diff(expected_cum, prepend=0.0)
    cal_day = day_number_of(cal) if cal is not None else None
    return pd.DataFrame(
        {
            "period": k.astype(np.int64),
            "period_end": pd.to_datetime(ends, unit="D"),
            "holdout": (ends > cal_day) if cal_day is not None else np.zeros(n_periods, bool),
            "actual": actual,
            "expected": expected,
            "actual_cumulative": np.cumsum(actual),
            "expected_cumulative": expected_cum,
        }
    )
