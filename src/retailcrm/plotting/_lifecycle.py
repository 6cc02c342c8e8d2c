"""Lifecycle stage mix over time and the flows between stages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from ._frames import to_pandas
from ._style import color, new_axes, no_data, style, text_color

__all__ = ["stage_flow", "stage_mix"]

# The lifecycle's stages in the order of a customer's life, English ids and Chinese labels;
# other labels (a custom policy, segments, tiers) follow in order of first appearance.
_ORDER = (
    "entered",
    "prospect",
    "new",
    "growing",
    "active",
    "mature",
    "reactivated",
    "dormant",
    "churned",
    "潜在客户",
    "新客户",
    "成长客户",
    "活跃客户",
    "成熟客户",
    "回流客户",
    "休眠客户",
    "流失客户",
)
_NONE = "(none)"


def _ordered(labels: Iterable[Any]) -> list[str]:
    seen = list(dict.fromkeys(str(x) for x in labels))
    known = [x for x in _ORDER if x in seen]
    return known + [x for x in seen if x not in known]


def _date_label(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d") if not isinstance(value, str) else value


def stage_mix(
    history: Any,
    *,
    label: str = "stage",
    date_column: str = "date",
    ax: Axes | None = None,
) -> Axes:
    """The share of customers in each stage at each date, as stacked bars.

    Parameters
    ----------
    history : dataframe
        The long result of :func:`retailcrm.lifecycle.stage_history` (any engine): one row per
        customer and date with ``date`` and ``stage``.
    label, date_column : str
        The label and date columns (any long table of labels by date works, e.g. tiers).
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One bar segment per (date, stage), stages in lifecycle order from the bottom.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import stage_mix
    >>> history = pd.DataFrame({"customer_id": [1, 2, 1, 2],
    ...     "date": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...     "stage": ["new", "active", "active", "dormant"]})
    >>> len(stage_mix(history).patches)  # 2 dates x 3 stages
    6
    """
    frame = to_pandas(
        history,
        required=[date_column, label],
        owner="stage_mix",
        produced_by="retailcrm.lifecycle.stage_history",
    )
    title = f"{label.capitalize()} mix over time"
    labels = _ordered(frame[label].fillna(_NONE)) if not frame.empty else []
    with style(labels):
        ax = new_axes(ax, (8.5, 4.5))
        if frame.empty:
            return no_data(ax, title)
        counts = (
            frame.assign(**{label: frame[label].fillna(_NONE).astype(str)})
            .groupby([date_column, label])
            .size()
            .unstack(fill_value=0)
            .reindex(columns=labels, fill_value=0)
            .sort_index()
        )
        shares = counts.div(counts.sum(axis=1), axis=0)
        x = np.arange(len(shares))
        bottom = np.zeros(len(shares))
        for i, name in enumerate(labels):
            values = shares[name].to_numpy(dtype=float)
            bars = ax.bar(x, values, 0.8, bottom=bottom, color=color(i), label=name)
            if len(shares) <= 16:
                ax.bar_label(
                    bars,
                    labels=[f"{v:.0%}" if v >= 0.06 else "" for v in values],
                    label_type="center",
                    fontsize=7,
                    color=text_color(color(i)),
                )
            bottom += values
        ax.set_xticks(x, [_date_label(d) for d in shares.index], rotation=45, ha="right")
        ax.yaxis.set_major_formatter("{x:.0%}")
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of customers")
        ax.set_xlabel(date_column)
        ax.set_title(title)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _band(
    ax: Axes, x0: float, x1: float, y0: tuple[float, float], y1: tuple[float, float], colour: str
) -> PathPatch:
    """A band from the span ``y0`` at ``x0`` to the span ``y1`` at ``x1`` (cubic edges)."""
    mid = (x0 + x1) / 2
    vertices = [
        (x0, y0[0]),
        (mid, y0[0]),
        (mid, y1[0]),
        (x1, y1[0]),
        (x1, y1[1]),
        (mid, y1[1]),
        (mid, y0[1]),
        (x0, y0[1]),
        (x0, y0[0]),
    ]
    codes = [
        Path.MOVETO,
        Path.CURVE4,
        Path.CURVE4,
        Path.CURVE4,
        Path.LINETO,
        Path.CURVE4,
        Path.CURVE4,
        Path.CURVE4,
        Path.CLOSEPOLY,
    ]
    patch = PathPatch(Path(vertices, codes), facecolor=colour, alpha=0.45, edgecolor="none")
    ax.add_patch(patch)
    return patch


def stage_flow(
    flows: Any,
    *,
    date: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """Customers moving between stages from one date to the next, as an alluvial diagram.

    Parameters
    ----------
    flows : dataframe
        The result of :func:`retailcrm.lifecycle.stage_flows` (any engine): ``date``,
        ``from``, ``to`` and ``customers`` (one row per move into ``date``).
    date : date-like, optional
        The date whose incoming moves to draw; the last date by default.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One block per stage on each side (``ax.patches`` holds the blocks, then one band per
        (from, to) pair with customers).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import stage_flow
    >>> flows = pd.DataFrame({"date": pd.to_datetime(["2024-02-29"] * 3),
    ...     "from": ["new", "new", "active"], "to": ["active", "dormant", "active"],
    ...     "customers": [5, 2, 7]})
    >>> len(stage_flow(flows).patches)  # 2 + 2 blocks, 3 bands
    7
    """
    frame = to_pandas(
        flows,
        required=["date", "from", "to", "customers"],
        owner="stage_flow",
        produced_by="retailcrm.lifecycle.stage_flows",
    )
    frame = frame[frame["customers"].fillna(0) > 0]
    if not frame.empty:
        when = frame["date"].max() if date is None else pd.Timestamp(date)
        frame = frame[frame["date"] == when]
        title = f"Moves between stages into {_date_label(when)}"
    else:
        title = "Moves between stages"
    frame = frame.assign(
        **{
            "from": frame["from"].fillna(_NONE).astype(str),
            "to": frame["to"].fillna(_NONE).astype(str),
        }
    )
    labels = _ordered([*frame["from"], *frame["to"]])
    with style(labels):
        ax = new_axes(ax, (8.0, 5.5))
        if frame.empty:
            return no_data(ax, title)
        total = float(frame["customers"].sum())
        gap = 0.02 * total
        colours = {name: color(i) for i, name in enumerate(labels)}
        width = 0.06

        def blocks(column: str, x: float) -> dict[str, float]:
            sizes = frame.groupby(column)["customers"].sum()
            tops: dict[str, float] = {}
            y = total + gap * (len(sizes) - 1)
            for name in [n for n in labels if n in sizes.index]:
                size = float(sizes[name])
                ax.add_patch(Rectangle((x, y - size), width, size, color=colours[name]))
                ha, tx = ("right", x - 0.01) if x < 0.5 else ("left", x + width + 0.01)
                ax.text(tx, y - size / 2, f"{name} ({size:,.0f})", ha=ha, va="center", fontsize=8)
                tops[name] = y
                y -= size + gap
            return tops

        left, right = blocks("from", 0.0), blocks("to", 1.0 - width)
        order = np.lexsort((frame["to"].map(labels.index), frame["from"].map(labels.index)))
        moves = frame.iloc[order]
        for source, target, count in zip(
            moves["from"], moves["to"], moves["customers"], strict=True
        ):
            size = float(count)
            a, b = left[source], right[target]
            _band(ax, width, 1.0 - width, (a - size, a), (b - size, b), colours[source])
            left[source] -= size
            right[target] -= size
        ax.set_xlim(-0.35, 1.35)
        ax.set_ylim(0, total + gap * len(labels))
        ax.set_axis_off()
        ax.set_title(title)
        ax.text(0.0, 1.0, "before", transform=ax.transAxes, ha="left", fontsize=9)
        ax.text(1.0, 1.0, "after", transform=ax.transAxes, ha="right", fontsize=9)
    return ax
