"""Pictures of every analysis, as matplotlib axes (the ``plot`` extra).

Each function takes a result of the library (a frame of any engine, or a fitted model), draws
on ``ax`` (a new figure when omitted) and returns the matplotlib ``Axes``, so the figure can be
restyled, combined with others or saved. One colour-blind-safe look throughout (Okabe–Ito
categories, ``cividis`` heatmaps); labels in Chinese are drawn with an installed CJK font, and
a :class:`CJKFontWarning` says how to install one when there is none.

This package imports matplotlib; ``import retailcrm`` does not.
"""

from __future__ import annotations

try:
    import matplotlib as _matplotlib  # noqa: F401
except ImportError as _error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "retailcrm.plotting needs matplotlib. Fix: pip install 'retailcrm[plot]' "
        "(or pip install matplotlib)."
    ) from _error

from ._acquisition import cac_by_channel
from ._cohorts import cohort_heatmap
from ._lifecycle import stage_flow, stage_mix
from ._loyalty import points_liability, tier_distribution, tier_migration
from ._models import (
    calibration_holdout,
    cumulative_tracking,
    frequency_recency_matrix,
    ltv_distribution,
    probability_alive_matrix,
)
from ._segmentation import rfm_heatmap, segment_portrait, segment_sizes
from ._style import CJK_FONTS, PALETTE, CJKFontWarning, cjk_font
from ._survey import nps_by_group

__all__ = [
    "CJK_FONTS",
    "PALETTE",
    "CJKFontWarning",
    "cac_by_channel",
    "calibration_holdout",
    "cjk_font",
    "cohort_heatmap",
    "cumulative_tracking",
    "frequency_recency_matrix",
    "ltv_distribution",
    "nps_by_group",
    "points_liability",
    "probability_alive_matrix",
    "rfm_heatmap",
    "segment_portrait",
    "segment_sizes",
    "stage_flow",
    "stage_mix",
    "tier_distribution",
    "tier_migration",
]
