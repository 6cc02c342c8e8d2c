"""BTYD pictures: frequency–recency and P(alive) matrices, holdout check, tracking, CLV."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from retailcrm._params import check_int, check_number, parameter_error

from ._frames import to_pandas
from ._style import REFERENCE, color, heatmap, new_axes, no_data, style

__all__ = [
    "calibration_holdout",
    "cumulative_tracking",
    "frequency_recency_matrix",
    "ltv_distribution",
    "probability_alive_matrix",
]

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}
_UNIT_YEAR = {"D": 365.0, "W": 52.0, "M": 12.0}


def _grid(model: Any, T: Any, max_frequency: Any, owner: str) -> tuple[float, int, str]:
    """The customer age ``T``, the largest frequency and the unit name for a matrix."""
    if not hasattr(model, "probability_alive") or not hasattr(model, "expected_purchases"):
        raise parameter_error(
            "model",
            owner,
            "a fitted transaction model (BetaGeoModel, ParetoNBDModel, ...)",
            type(model).__name__,
        )
    unit = str(getattr(model, "time_unit_", None))
    if T is None:
        T = _UNIT_YEAR.get(unit, 52.0)
    age = check_number(T, name="T", owner=owner, low=0.0, low_open=True)
    if max_frequency is None:
        # the 99th percentile of a new customer's repeat purchases over T, within [3, 40]
        n = np.arange(0, 41)
        p = np.cumsum(np.asarray(model.probability_of_purchases(n, age), dtype=float))
        reached = np.flatnonzero(p >= 0.99)
        top = int(reached[0]) if reached.size else 40
        max_frequency = min(40, max(3, top))
    top = check_int(max_frequency, name="max_frequency", owner=owner, low=1, high=200)
    return age, top, _UNIT_NAMES.get(unit, "periods")


def _matrix(model: Any, age: float, top: int, what: str, t: float) -> tuple[Any, Any]:
    """Values over frequency 0..top (rows, top first) × recency 0..age (columns); NaN where
    impossible (no repeat purchase but a recency after the first purchase)."""
    steps = int(min(60, max(2, math.ceil(age)))) + 1
    recency = np.linspace(0.0, age, steps)
    frequency = np.arange(top, -1, -1)
    f, r = np.meshgrid(frequency, recency, indexing="ij")
    valid = (f > 0) | (r == 0)
    values = np.full(f.shape, np.nan)
    arrays = {
        "frequency": f[valid].astype(float),
        "recency": r[valid],
        "T": np.full(int(valid.sum()), age),
    }
    if what == "alive":
        values[valid] = np.asarray(model.probability_alive(**arrays), dtype=float)
    else:
        values[valid] = np.asarray(model.expected_purchases(t, **arrays), dtype=float)
    return values, recency


def _draw_matrix(
    ax: Axes, values: Any, recency: Any, top: int, unit: str, bar: str, fmt: Any
) -> None:
    columns = [f"{r:.0f}" for r in recency]
    heatmap(
        ax,
        values,
        rows=list(range(top, -1, -1)),
        columns=columns,
        fmt=fmt,
        colorbar=bar,
        annotate=False,
    )
    step = max(1, len(columns) // 8)
    ax.set_xticks(range(0, len(columns), step), columns[::step])
    ystep = max(1, (top + 1) // 10)
    ax.set_yticks(range(0, top + 1, ystep), [str(top - i) for i in range(0, top + 1, ystep)])
    ax.set_xlabel(f"recency: time of the last purchase ({unit} after the first)")
    ax.set_ylabel("frequency (repeat purchases)")


def frequency_recency_matrix(
    model: Any,
    *,
    T: float | None = None,
    max_frequency: int | None = None,
    t: float = 1.0,
    ax: Axes | None = None,
) -> Axes:
    """Expected purchases in the next ``t`` periods for every (frequency, recency) of
    customers of age ``T``: the frequency–recency matrix of Fader, Hardie & Lee (2005).

    Parameters
    ----------
    model : fitted transaction model
        A fitted :class:`~retailcrm.models.BetaGeoModel` (or another model with
        ``expected_purchases`` and ``probability_alive``).
    T : float, optional
        The customers' age (time since the first purchase) in the model's time unit; one year
        by default (52 for weeks, 365 for days, 12 for months; 52 when the unit is unknown).
    max_frequency : int, optional
        The largest frequency shown; by default the 99th percentile of a new customer's repeat
        purchases over ``T`` (between 3 and 40).
    t : float
        The horizon of the expectation, in the model's time unit.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        An image: rows are frequencies (highest on top), columns recencies from 0 to ``T``
        (at most 61); cells with no repeat purchase but a recency above 0 are blank.

    Examples
    --------
    >>> from retailcrm.models import BetaGeoModel
    >>> from retailcrm.plotting import frequency_recency_matrix
    >>> m = BetaGeoModel().fit([0, 1, 4, 5, 6, 7], [0, 1, 10, 9, 3, 3], 12,
    ...                        weights=[52, 52, 5, 5, 6, 15], time_unit="W")
    >>> frequency_recency_matrix(m, T=12, max_frequency=7).images[0].get_array().shape
    (8, 13)
    """
    owner = "frequency_recency_matrix"
    age, top, unit = _grid(model, T, max_frequency, owner)
    horizon = check_number(t, name="t", owner=owner, low=0.0, low_open=True)
    with style():
        ax = new_axes(ax, (8.0, 5.5))
        values, recency = _matrix(model, age, top, "purchases", horizon)
        _draw_matrix(
            ax,
            values,
            recency,
            top,
            unit,
            f"expected purchases in the next {horizon:g} {unit}",
            "{:.2f}".format,
        )
        ax.set_title(
            f"Expected purchases in the next {horizon:g} {unit} (customers aged {age:g} {unit})"
        )
    return ax


def probability_alive_matrix(
    model: Any,
    *,
    T: float | None = None,
    max_frequency: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The probability that a customer of age ``T`` is still active, for every (frequency,
    recency).

    Parameters
    ----------
    model : fitted transaction model
        A fitted :class:`~retailcrm.models.BetaGeoModel` (or another model with
        ``probability_alive``).
    T, max_frequency : optional
        As in :func:`frequency_recency_matrix`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        An image as in :func:`frequency_recency_matrix`, values in [0, 1].

    Examples
    --------
    >>> from retailcrm.models import BetaGeoModel
    >>> from retailcrm.plotting import probability_alive_matrix
    >>> m = BetaGeoModel().fit([0, 1, 4, 5, 6, 7], [0, 1, 10, 9, 3, 3], 12,
    ...                        weights=[52, 52, 5, 5, 6, 15], time_unit="W")
    >>> probability_alive_matrix(m, T=12, max_frequency=7).get_title()
    'Probability alive (customers aged 12 weeks)'
    """
    age, top, unit = _grid(model, T, max_frequency, "probability_alive_matrix")
    with style():
        ax = new_axes(ax, (8.0, 5.5))
        values, recency = _matrix(model, age, top, "alive", 1.0)
        _draw_matrix(ax, values, recency, top, unit, "P(alive)", "{:.0%}".format)
        ax.images[0].set_clim(0.0, 1.0)
        ax.set_title(f"Probability alive (customers aged {age:g} {unit})")
    return ax


def calibration_holdout(comparison: Any, *, ax: Axes | None = None) -> Axes:
    """Mean holdout purchases per calibration frequency: actual against the model's
    prediction (the conditional-expectations check of Fader, Hardie & Lee 2005).

    Parameters
    ----------
    comparison : dataframe
        The result of :func:`retailcrm.models.holdout_comparison`: ``label`` (or
        ``frequency``), ``actual``, ``predicted`` and ``n_customers``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines, actual and predicted; the customers per group under the tick labels.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import calibration_holdout
    >>> comparison = pd.DataFrame({"frequency": [0, 1], "label": ["0", "1+"],
    ...     "n_customers": [10, 5], "actual": [0.2, 1.1], "predicted": [0.25, 0.9]})
    >>> [line.get_label() for line in calibration_holdout(comparison).lines]
    ['actual', 'model']
    """
    frame = to_pandas(
        comparison,
        required=["actual", "predicted"],
        owner="calibration_holdout",
        produced_by="retailcrm.models.holdout_comparison",
    )
    title = "Holdout purchases by calibration frequency"
    with style():
        ax = new_axes(ax, (7.5, 4.5))
        if frame.empty:
            return no_data(ax, title)
        labels = (
            (frame["label"] if "label" in frame.columns else frame.get("frequency", frame.index))
            .astype(str)
            .tolist()
        )
        if "n_customers" in frame.columns:
            labels = [
                f"{a}\n(n={int(n):,})" for a, n in zip(labels, frame["n_customers"], strict=True)
            ]
        x = np.arange(len(frame))
        ax.plot(x, frame["actual"].astype(float), marker="o", color=color(0), label="actual")
        ax.plot(
            x,
            frame["predicted"].astype(float),
            marker="s",
            linestyle="--",
            color=color(1),
            label="model",
        )
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_xlabel("repeat purchases in the calibration period")
        ax.set_ylabel("mean purchases in the holdout period")
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.legend()
    return ax


def cumulative_tracking(tracking: Any, *, ax: Axes | None = None) -> Axes:
    """Cumulative repeat purchases of the cohort, actual and expected, period by period; a
    dashed line marks the start of the holdout.

    Parameters
    ----------
    tracking : dataframe
        The result of :func:`retailcrm.models.tracking_frame`: ``period`` (or
        ``period_end``), ``actual_cumulative``, ``expected_cumulative`` and ``holdout``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines (actual, expected) and the holdout marker when there is a holdout.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import cumulative_tracking
    >>> tracking = pd.DataFrame({"period": [1, 2, 3], "holdout": [False, False, True],
    ...     "actual_cumulative": [0, 4, 9], "expected_cumulative": [1.0, 4.2, 8.1]})
    >>> len(cumulative_tracking(tracking).lines)  # actual, expected, holdout start
    3
    """
    frame = to_pandas(
        tracking,
        required=["actual_cumulative", "expected_cumulative"],
        owner="cumulative_tracking",
        produced_by="retailcrm.models.tracking_frame",
    )
    title = "Cumulative repeat purchases: actual vs model"
    with style():
        ax = new_axes(ax, (8.0, 4.5))
        if frame.empty:
            return no_data(ax, title)
        x: Any
        if "period_end" in frame.columns:
            x = pd.to_datetime(frame["period_end"]).to_numpy()
            xlabel = "period end"
        else:
            x = frame["period"].to_numpy() if "period" in frame.columns else np.arange(len(frame))
            xlabel = "period"
        ax.plot(x, frame["actual_cumulative"].astype(float), color=color(0), label="actual")
        ax.plot(
            x,
            frame["expected_cumulative"].astype(float),
            color=color(1),
            linestyle="--",
            label="model",
        )
        if "holdout" in frame.columns and frame["holdout"].astype(bool).any():
            start = x[int(np.argmax(frame["holdout"].astype(bool).to_numpy()))]
            ax.axvline(start, color=REFERENCE, linestyle=":", linewidth=1, label="holdout starts")
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("cumulative repeat purchases")
        ax.set_title(title)
        ax.legend(loc="upper left")
        ax.tick_params(axis="x", labelrotation=30)
    return ax


def ltv_distribution(
    clv: Any, *, column: str = "clv", bins: int = 30, ax: Axes | None = None
) -> Axes:
    """Histogram of customer lifetime values with the mean and the median marked.

    Parameters
    ----------
    clv : dataframe
        The result of :func:`retailcrm.models.customer_lifetime_value` (any engine), or any
        frame with the value ``column``. Missing values are left out, and so are infinite ones
        (a Gamma-Gamma fit with ``q <= 1`` gives them, with a warning); the title counts
        those.
    column : str
        The value column.
    bins : int
        Number of bars (fewer when there are fewer distinct values).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        ``bins`` bars and two vertical lines (mean, median).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import ltv_distribution
    >>> clv = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5],
    ...                     "clv": [10.0, 20.0, 25.0, 40.0, 80.0]})
    >>> len(ltv_distribution(clv, bins=5).patches)
    5
    """
    owner = "ltv_distribution"
    n_bins = check_int(bins, name="bins", owner=owner, low=1, high=500)
    frame = to_pandas(
        clv,
        required=[column],
        owner=owner,
        produced_by="retailcrm.models.customer_lifetime_value",
    )
    values = frame[column].astype(float).dropna().to_numpy()
    infinite = int(np.isinf(values).sum())  # an expected spend without a finite mean
    values = values[np.isfinite(values)]
    title = "Customer lifetime value: distribution"
    left_out = f"; {infinite:,} infinite left out" if infinite else ""
    with style():
        ax = new_axes(ax, (7.5, 4.5))
        if values.size == 0:
            return no_data(ax, title)
        n_bins = max(1, min(n_bins, len(np.unique(values))))
        ax.hist(values, bins=n_bins, color=color(0), edgecolor="white")
        mean, median = float(values.mean()), float(np.median(values))
        ax.axvline(mean, color=color(5), linestyle="--", label=f"mean {mean:,.1f}")
        ax.axvline(median, color=color(2), linestyle=":", label=f"median {median:,.1f}")
        ax.set_xlabel(f"{column} per customer")
        ax.set_ylabel("customers")
        ax.set_title(f"{title} ({values.size:,} customers{left_out})")
        ax.legend()
    return ax
