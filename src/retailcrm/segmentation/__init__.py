"""Customer segmentation: RFM and RFRC scores, named segment maps, the value matrix and HML
segments.

Scores are fitted as exact order statistics in the caller's engine and are a function of the
value alone (equal values, equal scores); segment maps are :class:`~retailcrm.rules.RuleSet`
constants, each exhaustive over its score grid, with English and Simplified Chinese labels
(``STANDARD_SEGMENTS.relabel("zh")``).
"""

from retailcrm.segmentation._clustering import CustomerClusters, cluster_customers
from retailcrm.segmentation._maps import STANDARD_SEGMENTS, VALUE_TIERS, segment
from retailcrm.segmentation._profiles import segment_profile
from retailcrm.segmentation._rfm import RFMScorer, rfm_scores
from retailcrm.segmentation._rfrc import RFRC_CLASSES, RFRCScorer, rfrc_scores
from retailcrm.segmentation._tags import BUILTIN_TAGS, builtin_tags, customer_tags
from retailcrm.segmentation._value_matrix import (
    HML_TIERS,
    VALUE_MATRIX,
    hml_segments,
    value_matrix,
)

__all__ = [
    "BUILTIN_TAGS",
    "HML_TIERS",
    "RFRC_CLASSES",
    "STANDARD_SEGMENTS",
    "VALUE_MATRIX",
    "VALUE_TIERS",
    "CustomerClusters",
    "RFMScorer",
    "RFRCScorer",
    "builtin_tags",
    "cluster_customers",
    "customer_tags",
    "hml_segments",
    "rfm_scores",
    "rfrc_scores",
    "segment",
    "segment_profile",
    "value_matrix",
]
