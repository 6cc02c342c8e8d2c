"""Tier distribution, tier migration and the points liability."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._frames import to_pandas
from ._style import annotate_bars, color, heatmap, new_axes, no_data, style

__all__ = ["points_liability", "tier_distribution", "tier_migration"]


def tier_distribution(assignments: Any, *, ax: Axes | None = None) -> Axes:
    """Members per tier, with their share.

    Parameters
    ----------
    assignments : dataframe
        The result of :meth:`retailcrm.loyalty.TierProgram.assign` (any engine): ``tier``
        (and ``tier_name``, used for the labels when present).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per tier, largest first, "count (share)" written on each.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import tier_distribution
    >>> tiers = pd.DataFrame({"customer_id": [1, 2, 3], "tier": ["gold", "member", "member"]})
    >>> len(tier_distribution(tiers).patches)
    2
    """
    frame = to_pandas(
        assignments,
        required=["tier"],
        owner="tier_distribution",
        produced_by="retailcrm.loyalty.TierProgram.assign",
    )
    column = "tier_name" if "tier_name" in frame.columns else "tier"
    names = frame[column].fillna("(no tier)").astype(str)
    title = "Members per tier"
    with style(list(names.unique())):
        ax = new_axes(ax, (7.0, 4.5))
        if frame.empty:
            return no_data(ax, title)
        counts = names.value_counts(sort=True)
        x = np.arange(len(counts))
        bars = ax.bar(x, counts.to_numpy(), 0.7, color=[color(i) for i in range(len(counts))])
        total = counts.sum()
        annotate_bars(ax, bars, [f"{c:,} ({c / total:.0%})" for c in counts], horizontal=False)
        ax.set_xticks(
            x,
            list(counts.index),
            rotation=20 if len(counts) > 4 else 0,
            ha="right" if len(counts) > 4 else "center",
        )
        ax.set_ylabel("members")
        ax.set_xlabel("tier")
        ax.set_title(title)
    return ax


def tier_migration(migration: Any, *, ax: Axes | None = None) -> Axes:
    """Members moving between tiers: counts from each previous tier (rows) to each current
    tier (columns).

    Parameters
    ----------
    migration : dataframe
        The result of :func:`retailcrm.loyalty.tier_migration` (any engine): ``from_tier``,
        ``to_tier`` and ``customers``. A missing ``from_tier`` (a newcomer) is shown as
        "(new)", a missing ``to_tier`` as "(left)".
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        A heatmap with the count written in each cell.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import tier_migration
    >>> moves = pd.DataFrame({"from_tier": ["gold", "gold", None],
    ...                       "to_tier": ["gold", "member", "member"], "customers": [4, 1, 2]})
    >>> len(tier_migration(moves).texts)  # the three non-empty cells
    3
    """
    frame = to_pandas(
        migration,
        required=["from_tier", "to_tier", "customers"],
        owner="tier_migration",
        produced_by="retailcrm.loyalty.tier_migration",
    )
    frame = frame.assign(
        from_tier=frame["from_tier"].fillna("(new)").astype(str),
        to_tier=frame["to_tier"].fillna("(left)").astype(str),
    )
    title = "Tier migration: previous tier → current tier"
    with style([*frame["from_tier"], *frame["to_tier"]]):
        ax = new_axes(ax, (7.0, 5.0))
        if frame.empty:
            return no_data(ax, title)
        grid = frame.pivot_table(
            index="from_tier", columns="to_tier", values="customers", aggfunc="sum"
        )
        order = list(dict.fromkeys([*grid.columns, *grid.index]))
        rows = [r for r in order if r in grid.index]
        columns = [c for c in order if c in grid.columns]
        grid = grid.reindex(index=rows, columns=columns)
        heatmap(
            ax,
            grid.to_numpy(dtype=float),
            rows=rows,
            columns=columns,
            fmt="{:,.0f}".format,
            colorbar="customers",
        )
        ax.set_xlabel("current tier")
        ax.set_ylabel("previous tier")
        ax.set_title(title)
        ax.tick_params(axis="x", labelrotation=20)
    return ax


def points_liability(liability: Any, *, ax: Axes | None = None) -> Axes:
    """The programme's outstanding points over time: available balance and pending points.

    Parameters
    ----------
    liability : dataframe
        :attr:`retailcrm.loyalty.ProgramSimulation.liability` (any engine; from
        ``simulate_program(..., points=PointsPolicy(...))``): ``date`` and ``balance``, with
        ``pending`` stacked on it when present.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        Stacked areas (balance, pending) and the total as a line, its last value written.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import points_liability
    >>> liability = pd.DataFrame({"date": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...                           "balance": [100, 180], "pending": [20, 10]})
    >>> len(points_liability(liability).lines)
    1
    """
    frame = to_pandas(
        liability,
        required=["date", "balance"],
        owner="points_liability",
        produced_by="simulate_program(..., points=PointsPolicy(...)).liability",
    )
    title = "Points liability over time"
    with style():
        ax = new_axes(ax, (8.0, 4.5))
        if frame.empty:
            return no_data(ax, title)
        frame = frame.sort_values("date")
        dates = pd.to_datetime(frame["date"]).to_numpy()
        balance = frame["balance"].astype(float).fillna(0).to_numpy()
        pending = (
            frame["pending"].astype(float).fillna(0).to_numpy()
            if "pending" in frame.columns
            else np.zeros(len(frame))
        )
        total = balance + pending
        ax.fill_between(
            dates, 0, balance, color=color(0), alpha=0.6, label="available balance", step=None
        )
        ax.fill_between(dates, balance, total, color=color(1), alpha=0.6, label="pending")
        ax.plot(dates, total, color=color(0), marker="o", markersize=3, label="outstanding")
        ax.annotate(
            f"{total[-1]:,.0f}",
            (dates[-1], total[-1]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.set_ylabel("points")
        ax.set_xlabel("date")
        ax.set_title(title)
        ax.legend(loc="upper left")
        ax.tick_params(axis="x", labelrotation=30)
    return ax
