"""RFRC scores (RFM plus campaign response): :func:`rfrc_scores`, :class:`RFRCScorer` and the
built-in four-class map :data:`RFRC_CLASSES`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from retailcrm.rules import Rule, RuleSet
from retailcrm.segmentation._maps import RFRC_ZH, UNSCORED, UNSCORED_ZH
from retailcrm.segmentation._rfm import (
    Dimension,
    Scale,
    ScorerBase,
    Settings,
    rfm_dimensions,
    scores,
    settings,
)

__all__ = ["RFRC_CLASSES", "RFRCScorer", "rfrc_dimensions", "rfrc_scores"]


def rfrc_dimensions(
    recency_col: str, frequency_col: str, monetary_col: str, response_col: str
) -> tuple[Dimension, ...]:
    return (
        *rfm_dimensions(recency_col, frequency_col, monetary_col),
        Dimension("response", response_col, "c", higher_is_better=True, group="response"),
    )


def rfrc_scores(
    features: Any,
    *,
    bins: int = 5,
    scale: Scale = "quantile",
    thresholds: Mapping[str, Sequence[float]] | None = None,
    weights: Mapping[str, float] | None = None,
    recency_col: str = "recency_days",
    frequency_col: str = "frequency",
    monetary_col: str = "monetary",
    response_col: str = "response_rate",
    id_col: str = "customer_id",
) -> Any:
    """RFM scores plus a campaign-response score ``c_score`` (the RFRC model).

    Same scores, edges, tie rule and scales as :func:`rfm_scores`, with a fourth dimension:
    the share of campaigns the customer responded to (``response_rate`` of
    :func:`~retailcrm.features.customer_features` called with ``responses=``); a higher rate
    is better. ``rfrc_scores(f, ...)`` equals ``RFRCScorer(...).fit_transform(f)``.

    Parameters
    ----------
    features : dataframe
        The customer feature table, any engine.
    bins, scale, thresholds, weights
        As in :func:`rfm_scores`; ``thresholds`` may also name ``"response"`` and ``weights``
        has the keys ``"r"``, ``"f"``, ``"m"`` and ``"c"``.
    recency_col, frequency_col, monetary_col, response_col, id_col : str
        Column names of the inputs.

    Returns
    -------
    dataframe
        The caller's kind of frame, sorted by ``id_col``: ``customer_id``, ``r_score``,
        ``f_score``, ``m_score``, ``c_score``, ``rfrc_cell`` (e.g. ``"5453"``) and
        ``rfrc_score`` (sum or weighted sum). R, F and M are null for customers without
        purchases; C is null, independently, for customers never contacted (null response
        rate), and the C edges are fitted on the contacted customers. The cell and the total
        are null when any score is.

    Warns
    -----
    DataQualityWarning
        Coinciding edges (as in :func:`rfm_scores`) and how many customers get null R/F/M or
        null C scores.

    See Also
    --------
    RFRCScorer : Fit on one population, score another.
    RFRC_CLASSES : The four RFRC classes over these scores.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import rfrc_scores
    >>> features = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4, 5],
    ...         "recency_days": [5, 40, 200, 12, 90],
    ...         "frequency": [9, 3, 1, 5, 2],
    ...         "monetary": [820.0, 150.0, 35.0, 410.0, 90.0],
    ...         "response_rate": [0.5, 0.25, 0.0, 1.0, 0.1],
    ...     }
    ... )
    >>> rfrc_scores(features)[["customer_id", "c_score", "rfrc_cell", "rfrc_score"]]
       customer_id  c_score rfrc_cell  rfrc_score
    0            1        4      5554          19
    1            2        3      3333          12
    2            3        1      1111           4
    3            4        5      4445          17
    4            5        2      2222           8
    """
    owner = "rfrc_scores"
    spec = settings(
        owner=owner,
        kind="rfrc",
        dims=rfrc_dimensions(recency_col, frequency_col, monetary_col, response_col),
        bins=bins,
        scale=scale,
        thresholds=thresholds,
        weights=weights,
        id_col=id_col,
    )
    return scores(features, spec, owner=owner)


class RFRCScorer(ScorerBase):
    """RFRC scores with edges learned on a reference population (scikit-learn transformer).

    :class:`~retailcrm.segmentation.RFMScorer` plus the response dimension; parameters as in
    :func:`rfrc_scores`, which equals ``RFRCScorer(...).fit_transform``.

    Attributes
    ----------
    edges_ : dict
        ``"recency"``, ``"frequency"``, ``"monetary"``, ``"response"`` -> edges with outer
        ``-inf``/``+inf``.
    collapsed_ : dict
        Runs of coinciding fitted edges per dimension (see ``RFMScorer``).
    n_unscored_ : dict
        Dimension -> customers of the reference population with a null score (the same
        number for R, F and M; its own for C, the customers never contacted).
    n_scored_ : dict
        Dimension -> customers that dimension's edges were fitted on.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import RFRCScorer
    >>> reference = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4],
    ...         "recency_days": [5, 40, 200, 12],
    ...         "frequency": [9, 3, 1, 5],
    ...         "monetary": [820.0, 150.0, 35.0, 410.0],
    ...         "response_rate": [0.5, 0.25, 0.0, 1.0],
    ...     }
    ... )
    >>> RFRCScorer(bins=2).fit(reference).edges_["response"]
    (-inf, 0.25, inf)
    """

    def __init__(
        self,
        *,
        bins: int = 5,
        scale: Scale = "quantile",
        thresholds: Mapping[str, Sequence[float]] | None = None,
        weights: Mapping[str, float] | None = None,
        recency_col: str = "recency_days",
        frequency_col: str = "frequency",
        monetary_col: str = "monetary",
        response_col: str = "response_rate",
        id_col: str = "customer_id",
    ) -> None:
        self.bins = bins
        self.scale = scale
        self.thresholds = thresholds
        self.weights = weights
        self.recency_col = recency_col
        self.frequency_col = frequency_col
        self.monetary_col = monetary_col
        self.response_col = response_col
        self.id_col = id_col

    def _settings(self) -> Settings:
        return settings(
            owner=type(self).__name__,
            kind="rfrc",
            dims=rfrc_dimensions(
                self.recency_col, self.frequency_col, self.monetary_col, self.response_col
            ),
            bins=self.bins,
            scale=self.scale,
            thresholds=self.thresholds,
            weights=self.weights,
            id_col=self.id_col,
        )


_RESPONSIVE = "(is_null(c_score) or c_score >= 3)"

RFRC_CLASSES = RuleSet(
    [
        Rule(
            "high_value_loyal",
            f"r_score >= 4 and f_score >= 4 and m_score >= 4 and {_RESPONSIVE}",
            label="High-value loyal",
            description="recent, frequent, high spend and responsive to campaigns",
        ),
        Rule(
            "potential",
            f"r_score >= 3 and {_RESPONSIVE}",
            label="Potential to develop",
            description="bought recently and responds to campaigns: develop with offers",
        ),
        Rule(
            "churn_warning",
            "f_score >= 3 or m_score >= 3",
            label="Churn warning",
            description="a valuable history, but no longer recent or no longer responding",
        ),
        Rule(
            "low_value",
            "f_score <= 2 and m_score <= 2",
            label="Low value",
            description="few purchases and low spend",
        ),
    ],
    default=UNSCORED,
    translations={"zh": {**RFRC_ZH, "default": UNSCORED_ZH}},
)
"""The four RFRC classes over 5-bin RFRC scores (``r_score``, ``f_score``, ``m_score``,
``c_score`` in 1..5), first match wins:

1. ``high_value_loyal`` (High-value loyal, 高价值忠诚客户): R, F and M >= 4, and responsive
   (C >= 3, or never contacted);
2. ``potential`` (Potential to develop, 潜力培养客户): R >= 3 and responsive;
3. ``churn_warning`` (Churn warning, 流失预警客户): F >= 3 or M >= 3 — a valuable history
   that is no longer recent, or no longer responds;
4. ``low_value`` (Low value, 低价值客户): F <= 2 and M <= 2.

Every cell of the 5^4 grid is matched by a rule; customers without purchases (null R, F, M)
get the default, "Unscored" (未评分客户).
"""
