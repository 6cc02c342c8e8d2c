"""The cohort retention triangle."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from ._frames import to_pandas
from ._style import heatmap, new_axes, no_data, style

__all__ = ["cohort_heatmap"]


def _cohort_label(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m") if value.day == 1 else value.strftime("%Y-%m-%d")
    return str(value)


def cohort_heatmap(cohorts: Any, *, ax: Axes | None = None) -> Axes:
    """The retention triangle: one row per cohort, one column per period since acquisition.

    Parameters
    ----------
    cohorts : dataframe
        The long result of :func:`retailcrm.metrics.cohort_retention` (any engine):
        ``cohort``, ``offset`` and ``rate``; ``cohort_size`` is shown in the row labels when
        present.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        An image with one cell per (cohort, offset), the rate written as a percentage in each
        (up to 400 cells).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import cohort_heatmap
    >>> cohorts = pd.DataFrame({
    ...     "cohort": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
    ...     "offset": [0, 1, 0], "cohort_size": [10, 10, 8], "rate": [1.0, 0.4, 1.0]})
    >>> int(cohort_heatmap(cohorts).images[0].get_array().count())
    3
    """
    frame = to_pandas(
        cohorts,
        required=["cohort", "offset", "rate"],
        owner="cohort_heatmap",
        produced_by="retailcrm.metrics.cohort_retention",
    )
    title = "Retention by cohort"
    with style():
        ax = new_axes(ax, (8.0, 5.0))
        if frame.empty:
            return no_data(ax, title)
        grid = frame.pivot_table(index="cohort", columns="offset", values="rate", aggfunc="first")
        grid = grid.sort_index()
        if "cohort_size" in frame.columns:
            sizes = frame.groupby("cohort")["cohort_size"].first()
            rows = [f"{_cohort_label(c)} (n={int(sizes[c]):,})" for c in grid.index]
        else:
            rows = [_cohort_label(c) for c in grid.index]
        offsets = [int(c) for c in grid.columns]
        heatmap(
            ax,
            grid.to_numpy(dtype=float),
            rows=rows,
            columns=offsets,
            fmt="{:.0%}".format,
            colorbar="share of the cohort",
        )
        ax.set_title(title)
        ax.set_xlabel("periods since the first purchase")
        ax.set_ylabel("cohort (first purchase)")
    return ax
