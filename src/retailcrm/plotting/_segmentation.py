"""RFM heatmap, segment sizes with revenue shares and a segment's portrait."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from retailcrm._params import check_choice, parameter_error

from ._frames import to_pandas
from ._style import REFERENCE, annotate_bars, color, heatmap, new_axes, no_data, style

__all__ = ["rfm_heatmap", "segment_portrait", "segment_sizes"]


def rfm_heatmap(
    scores: Any,
    *,
    features: Any = None,
    value: Literal["customers", "monetary"] = "customers",
    ax: Axes | None = None,
) -> Axes:
    """Heatmap of the R × F grid of RFM scores: customers per cell, or their mean monetary.

    Parameters
    ----------
    scores : dataframe
        The result of :func:`retailcrm.segmentation.rfm_scores` (any engine): ``customer_id``,
        ``r_score``, ``f_score``. Customers without purchases (null scores) are left out.
    features : dataframe, optional
        With ``value="monetary"``: a frame with ``customer_id`` and ``monetary`` (the feature
        table), joined on ``customer_id``. Not needed when ``scores`` has ``monetary``.
    value : {"customers", "monetary"}
        What the colour shows.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import rfm_heatmap
    >>> scores = pd.DataFrame({"customer_id": [1, 2, 3], "r_score": [1, 2, 2],
    ...                        "f_score": [1, 1, 2]})
    >>> rfm_heatmap(scores).get_title()
    'RFM grid: customers per R × F cell'
    """
    owner = "rfm_heatmap"
    value = check_choice(value, ("customers", "monetary"), name="value", owner=owner)
    frame = to_pandas(
        scores,
        required=["customer_id", "r_score", "f_score"],
        owner=owner,
        produced_by="retailcrm.segmentation.rfm_scores",
    )
    if value == "monetary" and "monetary" not in frame.columns:
        if features is None:
            raise parameter_error(
                "features",
                owner,
                "a frame with customer_id and monetary when value='monetary'",
                None,
                "pass features=customer_features(...)",
            )
        money = to_pandas(
            features,
            required=["customer_id", "monetary"],
            owner=owner,
            produced_by="retailcrm.customer_features",
        )[["customer_id", "monetary"]]
        frame = frame.merge(money, on="customer_id", how="left")
    title = (
        "RFM grid: customers per R × F cell"
        if value == "customers"
        else "RFM grid: mean monetary per R × F cell"
    )
    frame = frame.dropna(subset=["r_score", "f_score"])
    with style():
        ax = new_axes(ax, (6.5, 5.0))
        if frame.empty:
            return no_data(ax, title)
        r = frame["r_score"].astype(int)
        f = frame["f_score"].astype(int)
        r_levels = list(range(int(r.min()), int(r.max()) + 1))
        f_levels = list(range(int(f.max()), int(f.min()) - 1, -1))  # high F on top
        if value == "customers":
            table = frame.groupby([f, r]).size()
            fmt = "{:,.0f}".format
            bar = "customers"
        else:
            table = frame.groupby([f, r])["monetary"].mean()
            fmt = "{:,.0f}".format
            bar = "mean monetary"
        grid = table.unstack().reindex(index=f_levels, columns=r_levels)
        if value == "customers":
            grid = grid.fillna(0)
        heatmap(
            ax, grid.to_numpy(dtype=float), rows=f_levels, columns=r_levels, fmt=fmt, colorbar=bar
        )
        ax.set_title(title)
        ax.set_xlabel("Recency score R (higher = bought more recently)")
        ax.set_ylabel("Frequency score F (higher = buys more often)")
    return ax


_PROFILE = "retailcrm.segmentation.segment_profile"


def _label_column(frame: pd.DataFrame, known: set[str]) -> str:
    for name in frame.columns:
        if name not in known and frame[name].dtype.kind not in "iufb":
            return str(name)
    return str(frame.columns[0])


def segment_sizes(profile: Any, *, ax: Axes | None = None) -> Axes:
    """Each segment's share of customers next to its share of revenue.

    Parameters
    ----------
    profile : dataframe
        The result of :func:`retailcrm.segmentation.segment_profile` (any engine): the label
        column (``segment``, or whatever ``by`` was), ``share`` and ``revenue_share``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Horizontal bars, two per segment, largest segment on top, percentages at the ends.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import segment_sizes
    >>> profile = pd.DataFrame({"segment": ["VIP", "Other"], "customers": [1, 3],
    ...                         "share": [0.25, 0.75], "revenue_share": [0.6, 0.4]})
    >>> len(segment_sizes(profile).patches)
    4
    """
    frame = to_pandas(
        profile, required=["share", "revenue_share"], owner="segment_sizes", produced_by=_PROFILE
    )
    title = "Segments: share of customers and of revenue"
    label = _label_column(frame, {"share", "revenue_share", "customers", "revenue"})
    labels = [str(x) for x in frame[label]] if not frame.empty else []
    with style(labels):
        ax = new_axes(ax, (7.5, max(3.0, 0.55 * len(frame) + 1.5)))
        if frame.empty:
            return no_data(ax, title)
        frame = frame.sort_values("share", ascending=True, kind="stable")
        y = np.arange(len(frame))
        height = 0.4
        shares = frame["share"].astype(float).fillna(0).to_numpy()
        revenue = frame["revenue_share"].astype(float).fillna(0).to_numpy()
        a = ax.barh(y + height / 2, shares, height, color=color(0), label="customers")
        b = ax.barh(y - height / 2, revenue, height, color=color(1), label="revenue")
        annotate_bars(ax, a, [f"{v:.0%}" for v in shares], horizontal=True)
        annotate_bars(ax, b, [f"{v:.0%}" for v in revenue], horizontal=True)
        ax.set_yticks(y, [str(x) for x in frame[label]])
        ax.xaxis.set_major_formatter("{x:.0%}")
        ax.set_xlabel("share of all customers / of all revenue")
        ax.set_ylabel(label)
        ax.set_title(title)
        ax.legend(loc="lower right")
    return ax


# (label, mean column, median column, how to print a value)
_PORTRAIT = (
    ("Recency (days)", "mean_recency_days", "median_recency_days", "{:,.0f}"),
    ("Frequency (orders)", "mean_frequency", "median_frequency", "{:,.1f}"),
    ("Monetary", "mean_monetary", "median_monetary", "{:,.0f}"),
    ("Average order value", "mean_avg_order_value", "median_avg_order_value", "{:,.0f}"),
    ("Repurchase rate", "repurchase_rate", "repurchase_rate", "{:.0%}"),
)


def segment_portrait(profile: Any, segment: Any, *, ax: Axes | None = None) -> Axes:
    """One segment against all customers: recency, frequency, monetary, order value and
    repurchase rate as an index (all customers = 100).

    Parameters
    ----------
    profile : dataframe
        The result of :func:`retailcrm.segmentation.segment_profile` (any engine), with
        ``customers`` and the ``mean_*`` columns (``median_*`` when the means are absent) and
        ``repurchase_rate``.
    segment : str
        The segment (a value of the label column) to draw.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per measure; the segment's own value written at each bar.

    Raises
    ------
    ConfigError
        ``segment`` is not in the profile (the message lists the segments).

    Notes
    -----
    "All customers" is the mean of the segments' values weighted by their customers (for
    recency and money: customers with purchases count; the weights are the segment sizes).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import segment_portrait
    >>> profile = pd.DataFrame({"segment": ["VIP", "Other"], "customers": [1, 3],
    ...     "mean_recency_days": [10.0, 90.0], "mean_frequency": [8.0, 2.0],
    ...     "mean_monetary": [900.0, 100.0], "mean_avg_order_value": [112.5, 50.0],
    ...     "repurchase_rate": [1.0, 0.5]})
    >>> len(segment_portrait(profile, "VIP").patches)
    5
    """
    owner = "segment_portrait"
    frame = to_pandas(profile, required=["customers"], owner=owner, produced_by=_PROFILE)
    label = _label_column(frame, {"customers"})
    title = f"Portrait of {segment!s} vs all customers"
    measures = [
        (name, mean if mean in frame.columns else median, fmt)
        for name, mean, median, fmt in _PORTRAIT
        if mean in frame.columns or median in frame.columns
    ]
    with style([str(segment)]):
        ax = new_axes(ax, (7.0, 4.0))
        if frame.empty:
            return no_data(ax, title)
        rows = frame[frame[label].astype(str) == str(segment)]
        if rows.empty:
            raise parameter_error(
                "segment",
                owner,
                f"a value of the profile's {label!r} column",
                segment,
                f"choose one of {sorted(frame[label].astype(str).unique())}",
            )
        if not measures:
            return no_data(ax, title, "no measures (mean_* columns) in the profile")
        weights = frame["customers"].astype(float).to_numpy()
        names, index, texts = [], [], []
        for name, column, fmt in measures:
            values = frame[column].astype(float).to_numpy()
            ok = ~np.isnan(values)
            overall = (
                float(np.average(values[ok], weights=weights[ok]))
                if ok.any() and weights[ok].sum() > 0
                else float("nan")
            )
            own = float(rows[column].astype(float).iloc[0])
            names.append(name)
            index.append(100 * own / overall if overall and not np.isnan(own) else 0.0)
            texts.append(
                "n/a" if np.isnan(own) else f"{fmt.format(own)} (all: {fmt.format(overall)})"
            )
        y = np.arange(len(names))[::-1]
        bars = ax.barh(y, index, color=[color(i) for i in range(len(names))])
        annotate_bars(ax, bars, texts, horizontal=True)
        ax.axvline(100, color=REFERENCE, linestyle="--", linewidth=1)
        ax.set_yticks(y, names)
        ax.set_xlabel("index, all customers = 100")
        ax.set_ylabel("measure (mean per customer)")
        ax.set_title(title)
        ax.margins(x=0.45)
    return ax
