"""Net Promoter Score by group with its confidence interval."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes

from ._frames import to_pandas
from ._style import REFERENCE, annotate_bars, color, new_axes, no_data, style

__all__ = ["nps_by_group"]

_NPS_COLUMNS = frozenset(
    {
        "n",
        "n_invalid",
        "promoters",
        "passives",
        "detractors",
        "promoter_share",
        "passive_share",
        "detractor_share",
        "nps",
        "se",
        "ci_low",
        "ci_high",
        "n_eff",
    }
)


def nps_by_group(nps: Any, *, ax: Axes | None = None) -> Axes:
    """NPS per group as bars with their confidence intervals.

    Parameters
    ----------
    nps : dataframe
        The result of :func:`retailcrm.metrics.net_promoter_score` (any engine), with or
        without ``by``: ``nps``, ``ci_low``, ``ci_high`` and ``n``; the group columns are the
        others (several are joined with " / "; none: one bar "all answers").
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One horizontal bar per group, its interval as an error bar, "NPS (n=…)" written next
        to it; NPS runs from -100 to 100.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import nps_by_group
    >>> nps = pd.DataFrame({"channel": ["app", "web"], "n": [40, 25], "nps": [20.0, -8.0],
    ...                     "ci_low": [5.0, -30.0], "ci_high": [35.0, 14.0]})
    >>> len(nps_by_group(nps).patches)
    2
    """
    frame = to_pandas(
        nps,
        required=["nps", "ci_low", "ci_high"],
        owner="nps_by_group",
        produced_by="retailcrm.metrics.net_promoter_score",
    )
    groups = [c for c in frame.columns if c not in _NPS_COLUMNS]
    if groups and not frame.empty:
        names = frame[groups].astype(str).agg(" / ".join, axis=1).tolist()
    else:
        names = ["all answers"] * len(frame)
    title = "Net Promoter Score" + (f" by {', '.join(groups)}" if groups else "")
    with style(names):
        ax = new_axes(ax, (7.5, max(3.0, 0.5 * len(frame) + 1.5)))
        if frame.empty:
            return no_data(ax, title)
        score = frame["nps"].astype(float).to_numpy()
        low = frame["ci_low"].astype(float).to_numpy()
        high = frame["ci_high"].astype(float).to_numpy()
        y = np.arange(len(frame))[::-1]
        err = np.vstack([np.nan_to_num(score - low), np.nan_to_num(high - score)])
        colours = [color(0) if s >= 0 else color(5) for s in np.nan_to_num(score)]
        bars = ax.barh(
            y,
            np.nan_to_num(score),
            0.6,
            xerr=err,
            color=colours,
            error_kw={"ecolor": REFERENCE, "capsize": 3, "linewidth": 1},
        )
        counts = frame["n"].to_numpy() if "n" in frame.columns else [None] * len(frame)
        texts = [
            f"{s:+.1f}" + ("" if n is None else f" (n={int(n):,})")
            for s, n in zip(np.nan_to_num(score), counts, strict=True)
        ]
        annotate_bars(ax, bars, texts, horizontal=True)
        ax.axvline(0, color=REFERENCE, linewidth=1)
        ax.set_yticks(y, names)
        lo = min(-10.0, float(np.nanmin(np.append(low, score))) - 10)
        hi = max(10.0, float(np.nanmax(np.append(high, score))) + 25)
        ax.set_xlim(max(-100.0, lo), min(125.0, hi))
        ax.set_xlabel("NPS (% promoters − % detractors), with its confidence interval")
        ax.set_ylabel(" / ".join(groups) if groups else "respondents")
        ax.set_title(title)
    return ax
