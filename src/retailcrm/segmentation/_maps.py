"""Built-in segment maps over scores (:data:`STANDARD_SEGMENTS`, :data:`VALUE_TIERS`), the
Simplified Chinese labels of every built-in segmentation scheme, and :func:`segment`.

The Chinese labels are kept here, in one place, for review: the value tiers, value matrix and
RFRC classes use the source documents' own words; the 10-segment R×F map has no single source
text, and these are its common renderings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from retailcrm.exceptions import ConfigError
from retailcrm.rules import Rule, RuleSet

__all__ = [
    "RFRC_ZH",
    "STANDARD_SEGMENTS",
    "STANDARD_SEGMENTS_ZH",
    "UNSCORED",
    "UNSCORED_ZH",
    "VALUE_MATRIX_ZH",
    "VALUE_TIERS",
    "VALUE_TIERS_ZH",
    "segment",
]

# -- Simplified Chinese labels, by rule id ---------------------------------------------------
UNSCORED = "Unscored"
UNSCORED_ZH = "未评分客户"

STANDARD_SEGMENTS_ZH = {
    "champions": "冠军客户",
    "loyal_customers": "忠诚客户",
    "potential_loyalist": "潜在忠诚客户",
    "new_customers": "新客户",
    "promising": "潜力新客",
    "need_attention": "需要关注",
    "about_to_sleep": "即将沉睡",
    "at_risk": "流失风险",
    "cant_lose_them": "不能失去",
    "hibernating": "休眠客户",
}
VALUE_TIERS_ZH = {
    "high_value": "高价值客户",
    "potential": "潜力客户",
    "churn_risk": "流失风险客户",
    "low_value": "低价值客户",
    "average": "一般客户",
}
VALUE_MATRIX_ZH = {
    "gold": "黄金客户",
    "potential": "潜力客户",
    "churn_risk": "流失风险客户",
    "low_value": "低价值客户",
}
RFRC_ZH = {
    "high_value_loyal": "高价值忠诚客户",
    "potential": "潜力培养客户",
    "churn_warning": "流失预警客户",
    "low_value": "低价值客户",
}

# -- the 10-segment R x F map -------------------------------------------------------------------
STANDARD_SEGMENTS = RuleSet(
    [
        Rule(
            "champions",
            "r_score == 5 and f_score >= 4",
            label="Champions",
            description="bought very recently and buy often",
        ),
        Rule(
            "loyal_customers",
            "r_score in [3, 4] and f_score >= 4",
            label="Loyal Customers",
            description="buy often, fairly recently",
        ),
        Rule(
            "potential_loyalist",
            "r_score >= 4 and f_score in [2, 3]",
            label="Potential Loyalist",
            description="recent customers with a few purchases",
        ),
        Rule(
            "new_customers",
            "r_score == 5 and f_score == 1",
            label="New Customers",
            description="bought very recently, once",
        ),
        Rule(
            "promising",
            "r_score == 4 and f_score == 1",
            label="Promising",
            description="bought recently, once",
        ),
        Rule(
            "need_attention",
            "r_score == 3 and f_score == 3",
            label="Need Attention",
            description="middling recency and frequency",
        ),
        Rule(
            "about_to_sleep",
            "r_score == 3 and f_score <= 2",
            label="About to Sleep",
            description="middling recency, few purchases",
        ),
        Rule(
            "at_risk",
            "r_score <= 2 and f_score in [3, 4]",
            label="At Risk",
            description="bought often, but not for a long time",
        ),
        Rule(
            "cant_lose_them",
            "r_score <= 2 and f_score == 5",
            label="Can't Lose Them",
            description="the most frequent buyers, gone quiet",
        ),
        Rule(
            "hibernating",
            "r_score <= 2 and f_score <= 2",
            label="Hibernating",
            description="few purchases, long ago",
        ),
    ],
    default=UNSCORED,
    translations={"zh": {**STANDARD_SEGMENTS_ZH, "default": UNSCORED_ZH}},
)
"""The widely used 10-segment map over 5-bin R and F scores (``r_score``, ``f_score`` in 1..5).

Each of the 25 R×F cells belongs to exactly one segment (the rules do not overlap, so their
order does not matter):

| R \\ F | 1 | 2 | 3 | 4 | 5 |
|---|---|---|---|---|---|
| 5 | New Customers | Potential Loyalist | Potential Loyalist | Champions | Champions |
| 4 | Promising | Potential Loyalist | Potential Loyalist | Loyal Customers | Loyal Customers |
| 3 | About to Sleep | About to Sleep | Need Attention | Loyal Customers | Loyal Customers |
| 2 | Hibernating | Hibernating | At Risk | At Risk | Can't Lose Them |
| 1 | Hibernating | Hibernating | At Risk | At Risk | Can't Lose Them |

Customers without scores (no purchases) get the default, "Unscored" (未评分客户). Chinese
labels: ``STANDARD_SEGMENTS.relabel("zh")``.
"""

# -- the 0-100 value tiers ----------------------------------------------------------------------
VALUE_TIERS = RuleSet(
    [
        Rule(
            "high_value",
            "r_score >= 80 and f_score >= 80 and m_score >= 80",
            label="High value",
        ),
        Rule(
            "potential",
            "r_score >= 60 and f_score >= 60 and m_score < 60",
            label="Potential",
        ),
        Rule(
            "churn_risk",
            "r_score < 40 and f_score >= 40 and m_score >= 40",
            label="Churn risk",
        ),
        Rule(
            "low_value",
            "r_score < 40 and f_score < 40 and m_score < 40",
            label="Low value",
        ),
        Rule(
            "average",
            "r_score >= 0 and f_score >= 0 and m_score >= 0",
            label="Average",
            description="every scored customer the rules above do not take",
        ),
    ],
    default=UNSCORED,
    translations={"zh": {**VALUE_TIERS_ZH, "default": UNSCORED_ZH}},
)
"""Four value classes over 0–100 percentile scores (``rfm_scores(..., scale="percentile")``),
first match wins:

1. ``high_value`` (高价值客户): R >= 80 and F >= 80 and M >= 80;
2. ``potential`` (潜力客户): R >= 60 and F >= 60 and M < 60;
3. ``churn_risk`` (流失风险客户): R < 40 and F >= 40 and M >= 40;
4. ``low_value`` (低价值客户): R < 40 and F < 40 and M < 40;
5. ``average`` ("Average", 一般客户): every other scored customer.

The first four are disjoint; customers without scores get the default, "Unscored".
"""


# -- applying a map -----------------------------------------------------------------------------
def _load_scheme(scheme: Any) -> RuleSet:
    if isinstance(scheme, RuleSet):
        return scheme
    if isinstance(scheme, Mapping):
        return RuleSet.from_dict(scheme)
    if isinstance(scheme, str | Path):
        path = Path(scheme)
        if not path.is_file():
            raise ConfigError(
                f"segment: the scheme file {str(path)!r} does not exist. Fix: pass the path of "
                "a YAML rule file, a RuleSet or a dict."
            )
        try:
            import yaml
        except ImportError:
            raise ConfigError(
                "segment: reading a YAML scheme file needs PyYAML, which is not installed. "
                "Fix: pip install pyyaml, or pass RuleSet.from_dict(...) yourself."
            ) from None
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"segment: the scheme file {str(path)!r} must hold a mapping with a 'rules' "
                f"key; it holds {type(data).__name__}. Fix: see RuleSet.to_dict for the shape."
            )
        return RuleSet.from_dict(data)
    raise ConfigError(
        "The 'scheme' parameter of segment must be a RuleSet, a dict or the path of a YAML "
        f"file. Got {type(scheme).__name__} instead."
    )


def segment(
    scores: Any,
    scheme: Any,
    *,
    label_column: str = "segment",
    as_of: Any = None,
    key: str = "customer_id",
) -> Any:
    """Name each customer's segment with a map of rules over its scores (or any columns).

    Parameters
    ----------
    scores : dataframe
        Scores (:func:`rfm_scores`, :func:`rfrc_scores`), the feature table, or both joined;
        any engine.
    scheme : RuleSet, dict or path
        A rule set (e.g. :data:`STANDARD_SEGMENTS`, ``VALUE_TIERS.relabel("zh")`` or your own),
        a dict in the shape of :meth:`~retailcrm.rules.RuleSet.to_dict`, or the path of a YAML
        file holding that dict (reading YAML needs PyYAML).
    label_column : str
        Name of the label column.
    as_of : date, datetime or ISO string, optional
        Required when a rule uses ``days_since()`` or ``days_until()``.
    key : str
        The customer key column.

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per input row sorted by ``key``: ``key``,
        ``label_column`` and ``rule_id`` (the deciding rule, ``"default"`` where none matched).

    Raises
    ------
    ConfigError
        A scheme that is no rule set, a missing file, a bad dict.
    RuleSyntaxError
        A rule does not fit the frame (unknown column, wrong type), with a caret.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import STANDARD_SEGMENTS, segment
    >>> scores = pd.DataFrame(
    ...     {"customer_id": [1, 2, 3, 4], "r_score": [5, 5, 1, None], "f_score": [5, 1, 5, None]}
    ... )
    >>> segment(scores, STANDARD_SEGMENTS)
       customer_id          segment         rule_id
    0            1        Champions       champions
    1            2    New Customers   new_customers
    2            3  Can't Lose Them  cant_lose_them
    3            4         Unscored         default
    >>> segment(scores, STANDARD_SEGMENTS.relabel("zh"))["segment"].tolist()
    ['冠军客户', '新客户', '不能失去', '未评分客户']
    """
    rules = _load_scheme(scheme)
    return rules.evaluate(scores, as_of=as_of, key=key, label_column=label_column)
