"""RFRC scores: the response dimension, its null policy, every engine, the estimator."""

from __future__ import annotations

import math
import warnings
from typing import Any

import pandas as pd
import pytest

from helpers import ENGINES, assert_equal_data, assert_same_kind, make_native
from retailcrm.exceptions import ConfigError, DataQualityWarning
from retailcrm.segmentation import RFRC_CLASSES, RFRCScorer, rfrc_scores, segment

NAN = float("nan")


def features() -> pd.DataFrame:
    """Five buyers (id 2 never contacted) and a contacted customer without purchases (6)."""
    return pd.DataFrame(
        {
            "customer_id": [4, 1, 6, 3, 2, 5],
            "recency_days": [40.0, 10.0, NAN, 30.0, 20.0, 50.0],
            "frequency": [2, 5, 0, 3, 4, 1],
            "monetary": [20.0, 50.0, NAN, 30.0, 40.0, 10.0],
            "response_rate": [1.0, 0.5, 0.5, 0.0, NAN, 0.25],
        }
    )


# bins = 3, n = 5 buyers: edges are the ceil(5/3) = 2nd and ceil(10/3) = 4th smallest values.
# recency (better = smaller): negated -50 -40 -30 -20 -10 -> x(2) = -40, x(4) = -20 -> edges
#   (20, 40) days: 10 -> 3, 20 -> 2 (on an edge), 30 -> 2, 40 -> 1, 50 -> 1.
# frequency 1 2 3 4 5 -> edges (2, 4): 5 -> 3, 4 -> 2, 3 -> 2, 2 -> 1, 1 -> 1; monetary alike.
# response, n = 5 contacted (ids 1, 3, 4, 5, 6): 0 .25 .5 .5 1 -> edges (.25, .5): 0.5 -> 2,
#   0 -> 1, 1 -> 3, 0.25 -> 1; id 2 was never contacted -> null.
EXPECTED = {
    "customer_id": [1, 2, 3, 4, 5, 6],
    "r_score": [3, 2, 2, 1, 1, None],
    "f_score": [3, 2, 2, 1, 1, None],
    "m_score": [3, 2, 2, 1, 1, None],
    "c_score": [2, None, 1, 3, 1, 2],
    "rfrc_cell": ["3332", None, "2221", "1113", "1111", None],
    "rfrc_score": [11, None, 7, 6, 4, None],
}
WARNING = (
    "rfrc_scores: 1 of 6 customers (17%) have no recency, frequency or monetary value (no "
    "purchases) and get null r_score, f_score, m_score; 1 of 6 customers (17%) have no "
    "response rate (never contacted) and get null c_score."
)


def quiet(func: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return func(*args, **kwargs)


def test_hand_computed_rfrc_scores_and_warning() -> None:
    with pytest.warns(DataQualityWarning) as caught:
        got = rfrc_scores(features(), bins=3)
    assert [str(w.message) for w in caught] == [WARNING]
    assert_equal_data(got, EXPECTED)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_same_rfrc_scores(engine: str) -> None:
    native = make_native(engine, features())
    got = quiet(rfrc_scores, native, bins=3)
    assert_same_kind(got, native)
    assert_equal_data(got, EXPECTED)


def test_estimator_counts_unscored_per_dimension_and_equals_the_function() -> None:
    scorer = quiet(RFRCScorer(bins=3).fit, features())
    assert scorer.n_unscored_ == {"recency": 1, "frequency": 1, "monetary": 1, "response": 1}
    assert scorer.n_scored_ == {"recency": 5, "frequency": 5, "monetary": 5, "response": 5}
    assert scorer.edges_["response"] == (-math.inf, 0.25, 0.5, math.inf)
    assert scorer.collapsed_ == {}
    assert_equal_data(scorer.transform(features()), EXPECTED)
    assert scorer.get_feature_names_out().tolist() == list(EXPECTED)
    # another population (rows are ids 4 1 6 3 2 5): 1.0 and 0.9 -> 3 (above 0.5), 0.3 -> 2,
    # 0.25 -> 1 (on the edge: the worse score), 0.1 -> 1, never contacted -> null
    later = features().assign(response_rate=[0.9, 1.0, 0.1, 0.3, 0.25, NAN])
    got = scorer.transform(later)[["customer_id", "c_score"]]
    assert_equal_data(got, {"customer_id": [1, 2, 3, 4, 5, 6], "c_score": [3, 1, 2, 3, None, 1]})


def test_weights_and_thresholds_name_the_response() -> None:
    got = quiet(
        rfrc_scores,
        features(),
        bins=3,
        thresholds={"response": [0.2, 0.6]},
        weights={"r": 1, "f": 1, "m": 1, "c": 2},
    )
    # response 0.5 -> 2 (0.2 < 0.5 <= 0.6), 0 -> 1, 1 -> 3, 0.25 -> 2; customer 1: 9 + 2 * 2
    assert_equal_data(got[["c_score"]], {"c_score": [2, None, 1, 3, 2, 2]})
    assert got["rfrc_score"].tolist()[0] == 13.0
    with pytest.raises(ConfigError, match=r"exactly the keys \['r', 'f', 'm', 'c'\]"):
        rfrc_scores(features(), weights={"r": 1, "f": 1, "m": 1})


def test_rfrc_classes_on_scores() -> None:
    scores = quiet(rfrc_scores, features(), bins=5)
    got = segment(scores, RFRC_CLASSES)
    zh = segment(scores, RFRC_CLASSES.relabel("zh"))
    assert got["rule_id"].tolist() == zh["rule_id"].tolist()
    # n = 5 and bins = 5: each buyer gets its own score, 5 for the best. Customer 1: R, F, M 5,
    # C 3 (0.5 ties with customer 6; 2 contacted rates are strictly lower: 1 + floor(5*2/5))
    # -> high-value loyal; 2 (R, F, M 4, never contacted) -> high-value loyal; 3 (R, F, M 3,
    # C 1) -> churn warning; 4 (1-2s, C 5) -> low value; 6 (no purchase) -> Unscored.
    assert got["rule_id"].tolist() == [
        "high_value_loyal",
        "high_value_loyal",
        "churn_warning",
        "low_value",
        "low_value",
        "default",
    ]
    assert zh["segment"].tolist()[0] == "高价值忠诚客户"
