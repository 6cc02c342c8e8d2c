"""The one look of every retailcrm figure: colour-blind-safe colours, labels, CJK fonts.

Categorical colours are the Okabe & Ito (2008) palette, distinguishable under the common colour
vision deficiencies; heatmaps use ``cividis`` (Nuñez, Anderton & Renslow 2018), a sequential
map designed to read the same with and without deuteranopia and in greyscale.
"""

from __future__ import annotations

import contextlib
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.rcsetup import cycler

from retailcrm.exceptions import RetailCRMWarning

__all__ = [
    "CJK_FONTS",
    "HEATMAP_CMAP",
    "PALETTE",
    "CJKFontWarning",
    "annotate_bars",
    "cjk_font",
    "color",
    "has_cjk",
    "heatmap",
    "new_axes",
    "no_data",
    "style",
    "text_color",
]

#: Okabe & Ito's colours and a grey, black last (for reference lines, not for categories).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#999999",  # grey (Wong 2011's extension of the palette)
    "#000000",  # black
)
HEATMAP_CMAP = "cividis"
REFERENCE = "#555555"

#: CJK fonts looked for, in order of preference (family names as matplotlib reports them).
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)

_RC: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=PALETTE[:-1]),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "image.cmap": HEATMAP_CMAP,
}

_warned = False


class CJKFontWarning(RetailCRMWarning, UserWarning):
    """Labels contain Chinese (CJK) characters but no CJK font is installed: they would be
    drawn as empty boxes. The message names the fix (install a CJK font such as
    ``fonts-noto-cjk``). Emitted once per session."""


def color(i: int) -> str:
    """The ``i``-th categorical colour (cycling through the palette without black)."""
    return PALETTE[i % (len(PALETTE) - 1)]


def text_color(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    red, green, blue = mpl.colors.to_rgb(background)
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def has_cjk(texts: Iterable[Any]) -> bool:
    """True when any text contains a CJK ideograph, kana or hangul character."""
    for text in texts:
        for ch in str(text):
            if ord(ch) >= 0x2E80 and unicodedata.name(ch, "").startswith(
                ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "FULLWIDTH")
            ):
                return True
    return False


def cjk_font() -> str | None:
    """The installed CJK font family to use (the first of :data:`CJK_FONTS` present, else any
    installed family whose name says CJK/SC/Hei), or None when there is none."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    for name in sorted(installed):
        if any(key in name for key in ("CJK", "Han Sans", "Hei", "YaHei", "Song", "Ming")):
            return name
    return None


def _families(texts: Sequence[Any]) -> list[str] | None:
    """The font family list for these texts: the default with a CJK fallback when they need
    one; None to keep the default."""
    global _warned
    if not has_cjk(texts):
        return None
    found = cjk_font()
    if found is None:
        if not _warned:
            _warned = True
            warnings.warn(
                "The labels contain Chinese (CJK) characters but no CJK font is installed, so "
                "they will be drawn as empty boxes. Fix: install a CJK font (Debian/Ubuntu: "
                "apt-get install fonts-noto-cjk; or Source Han Sans, WenQuanYi, Microsoft "
                "YaHei, SimHei, PingFang), then clear matplotlib's font cache "
                "(matplotlib.font_manager._load_fontmanager(try_read_cache=False)).",
                CJKFontWarning,
                stacklevel=4,
            )
        return None
    default = list(mpl.rcParams["font.sans-serif"])
    return [found, *[f for f in default if f != found]]  # matplotlib falls back glyph by glyph


@contextlib.contextmanager
def style(texts: Sequence[Any] = ()) -> Iterator[None]:
    """Draw within the retailcrm style; ``texts`` are the labels the figure will show (a CJK
    font is chosen when they need one)."""
    rc = dict(_RC)
    families = _families(list(texts))
    if families is not None:
        # named families, not the generic "sans-serif": texts keep them after the context
        rc["font.family"] = families
    with mpl.rc_context(rc):  # type: ignore[arg-type]
        yield


def new_axes(ax: Axes | None, size: tuple[float, float] = (7.0, 4.5)) -> Axes:
    """``ax``, or the axes of a new figure of ``size`` inches."""
    if ax is not None:
        return ax
    _, created = plt.subplots(figsize=size, layout="constrained")
    return created


def no_data(ax: Axes, title: str, what: str = "no data") -> Axes:
    """An empty axes with the title and a centred "no data" note."""
    ax.set_title(title)
    ax.text(
        0.5,
        0.5,
        what,
        ha="center",
        va="center",
        transform=ax.transAxes,
        color=REFERENCE,
        fontsize=11,
    )
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def annotate_bars(ax: Axes, bars: Any, labels: Sequence[str], *, horizontal: bool) -> None:
    """Write ``labels`` at the end of ``bars`` (a BarContainer)."""
    ax.bar_label(bars, labels=list(labels), padding=2, fontsize=8)
    if horizontal:
        ax.margins(x=0.15)
    else:
        ax.margins(y=0.12)


def heatmap(
    ax: Axes,
    values: Any,
    *,
    rows: Sequence[Any],
    columns: Sequence[Any],
    fmt: Any,
    colorbar: str,
    annotate: bool = True,
) -> Any:
    """Draw the 2-D array ``values`` (NaN cells left blank) as an image with ``rows`` top to
    bottom and ``columns`` left to right; write ``fmt(value)`` in each non-empty cell when
    ``annotate`` and the grid is small enough to read. Returns the image."""
    import numpy as np

    data = np.ma.masked_invalid(np.asarray(values, dtype=float))
    image = ax.imshow(data, cmap=HEATMAP_CMAP, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(columns)), [str(c) for c in columns])
    ax.set_yticks(range(len(rows)), [str(r) for r in rows])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.figure.colorbar(image, ax=ax, label=colorbar, shrink=0.85)
    if annotate and data.size <= 400 and data.count():
        low, high = float(data.min()), float(data.max())
        middle = (low + high) / 2
        for (i, j), value in np.ndenumerate(data.filled(np.nan)):
            if np.isnan(value):
                continue
            ax.text(
                j,
                i,
                fmt(value),
                ha="center",
                va="center",
                fontsize=8,
                color="black" if value > middle else "white",
            )
    return image
