"""Customer acquisition cost and LTV/CAC by channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from retailcrm._params import parameter_error

from ._frames import to_pandas
from ._style import annotate_bars, color, new_axes, no_data, style

__all__ = ["cac_by_channel"]


def _ltv_by_channel(ltv: Any, channels: list[str]) -> Any:
    """LTV per channel (array aligned with ``channels``) from a number, a mapping or a frame
    with ``channel`` and ``ltv``."""
    if isinstance(ltv, int | float) and not isinstance(ltv, bool):
        return np.full(len(channels), float(ltv))
    if isinstance(ltv, Mapping):
        given = [ltv.get(c) for c in channels]
        return np.array([np.nan if v is None else float(v) for v in given])
    try:
        frame = to_pandas(
            ltv,
            required=["channel", "ltv"],
            owner="cac_by_channel",
            produced_by="a per-channel LTV (columns channel, ltv)",
        )
    except TypeError as error:
        raise parameter_error(
            "ltv",
            "cac_by_channel",
            "a number, a mapping channel -> LTV or a frame with channel and ltv",
            type(ltv).__name__,
        ) from error
    values = frame.groupby(frame["channel"].astype(str))["ltv"].mean()
    return np.array([float(values.get(c, np.nan)) for c in channels])


def cac_by_channel(cac: Any, *, ltv: Any = None, ax: Axes | None = None) -> Axes:
    """Acquisition cost per new customer by channel, with LTV and the LTV/CAC ratio when an
    LTV is given.

    Parameters
    ----------
    cac : dataframe
        The result of ``retailcrm.metrics.acquisition_cost(..., by=("channel",))`` (any
        engine): ``channel`` and ``cac``.
    ltv : float, mapping or dataframe, optional
        Lifetime value per customer (on margin): one number for every channel, a mapping
        channel -> value, or a frame with ``channel`` and ``ltv``. A channel without a value
        gets no LTV bar and "LTV/CAC n/a".
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes
        One CAC bar per channel (its value written on it); with ``ltv``, an LTV bar beside
        each and the ratio "LTV/CAC 3.2×" above the pair.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.plotting import cac_by_channel
    >>> cac = pd.DataFrame({"channel": ["app", "web"], "cac": [30.0, 36.0]})
    >>> len(cac_by_channel(cac, ltv={"app": 120.0, "web": 90.0}).patches)
    4
    """
    frame = to_pandas(
        cac,
        required=["channel", "cac"],
        owner="cac_by_channel",
        produced_by='retailcrm.metrics.acquisition_cost(..., by=("channel",))',
    )
    channels = frame["channel"].fillna("(unknown)").astype(str).tolist()
    title = "Acquisition cost by channel" + (" and LTV/CAC" if ltv is not None else "")
    with style(channels):
        ax = new_axes(ax, (7.5, 4.5))
        if frame.empty:
            return no_data(ax, title)
        x = np.arange(len(frame))
        cost = frame["cac"].astype(float).to_numpy()
        width = 0.8 if ltv is None else 0.38
        shift = 0.0 if ltv is None else width / 2
        bars = ax.bar(x - shift, np.nan_to_num(cost), width, color=color(5), label="CAC")
        annotate_bars(ax, bars, [f"{v:,.2f}" for v in cost], horizontal=False)
        if ltv is not None:
            value = _ltv_by_channel(ltv, channels)
            ltv_bars = ax.bar(x + shift, np.nan_to_num(value), width, color=color(2), label="LTV")
            ratios = [
                f"LTV/CAC {v / c:.1f}×" if c > 0 and np.isfinite(v / c) else "LTV/CAC n/a"
                for v, c in zip(value, cost, strict=True)
            ]
            annotate_bars(ax, ltv_bars, ratios, horizontal=False)
            ax.legend(loc="upper right")
        ax.set_xticks(x, channels)
        ax.set_xlabel("acquisition channel")
        ax.set_ylabel("per new customer" if ltv is None else "per customer")
        ax.set_title(title)
    return ax
