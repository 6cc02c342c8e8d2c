"""The value matrix and HML segments: hand-computed cuts, ties, every engine (with segment)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from helpers import ENGINES, assert_equal_data, assert_same_kind, make_native
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.segmentation import (
    STANDARD_SEGMENTS,
    VALUE_MATRIX,
    hml_segments,
    segment,
    value_matrix,
)

NAN = float("nan")


def features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [5, 1, 3, 2, 4, 6],
            "frequency": [1, 1, 1, 3, 2, 0],
            "monetary": [500.0, 100.0, 300.0, 200.0, 400.0, NAN],
            "r_score": [1, 5, 3, 4, 2, None],
            "f_score": [1, 5, 2, 4, 3, None],
        }
    )


# Five customers have both values: the lower median is the ceil(5/2) = 3rd smallest value.
# monetary 100 200 300 400 500 -> 300: high value = ids 4 (400), 5 (500).
# frequency 1 1 1 2 3 -> 1: high loyalty = ids 2 (3), 4 (2); the three once-buyers are all low.
# 1 low/low -> low value; 2 low value, high loyalty -> potential; 3 -> low value; 4 -> gold;
# 5 high value, low loyalty -> churn risk; 6 (no spend) -> Unscored.
EXPECTED_MATRIX = {
    "customer_id": [1, 2, 3, 4, 5, 6],
    "high_value": [False, False, False, True, True, None],
    "high_loyalty": [False, True, False, True, False, None],
    "segment": ["Low value", "Potential", "Low value", "Gold", "Churn risk", "Unscored"],
    "rule_id": ["low_value", "potential", "low_value", "gold", "churn_risk", "default"],
}
# spenders 100..500 (n = 5): heavy when above x(ceil(0.8 * 5)) = x(4) = 400, medium when above
# x(ceil(0.5 * 5)) = x(3) = 300 -> 500 heavy, 400 medium, 100-300 light; no spend -> zero.
EXPECTED_HML = {
    "customer_id": [1, 2, 3, 4, 5, 6],
    "spend_band": [1, 1, 1, 2, 3, None],
    "segment": ["Light", "Light", "Light", "Medium", "Heavy", "Zero spend"],
    "rule_id": ["light", "light", "light", "medium", "heavy", "default"],
}
EXPECTED_SEGMENTS = {
    "customer_id": [1, 2, 3, 4, 5, 6],
    "segment": [
        "Champions",
        "Loyal Customers",
        "About to Sleep",
        "At Risk",
        "Hibernating",
        "Unscored",
    ],
    "rule_id": [
        "champions",
        "loyal_customers",
        "about_to_sleep",
        "at_risk",
        "hibernating",
        "default",
    ],
}


def test_value_matrix_cuts_at_the_lower_median() -> None:
    got = value_matrix(features())
    assert_equal_data(got, EXPECTED_MATRIX)
    assert list(got.columns) == list(EXPECTED_MATRIX)


def test_value_matrix_with_given_thresholds_and_chinese_labels() -> None:
    got = value_matrix(features(), value_threshold=150, loyalty_threshold=0)
    # high value: spend > 150 (ids 2-5); high loyalty: frequency > 0 (ids 1-5)
    assert got["rule_id"].tolist() == ["potential", "gold", "gold", "gold", "gold", "default"]
    zh = segment(got, VALUE_MATRIX.relabel("zh"))
    assert zh["segment"].tolist() == [
        "潜力客户",
        "黄金客户",
        "黄金客户",
        "黄金客户",
        "黄金客户",
        "未评分客户",
    ]
    other = value_matrix(features(), "monetary", "r_score", loyalty_threshold=3)
    assert other["high_loyalty"].tolist()[:5] == [True, True, False, False, False]


def test_hml_segments_by_spend_percentile_with_ties() -> None:
    assert_equal_data(hml_segments(features()), EXPECTED_HML)
    # eight of ten spenders spent 10: x(8) = x(5) = 10, so only 20 and 30 are above the cuts;
    # the tied customers all get the same band. Zero and negative spend are zero spenders.
    tied = pd.DataFrame(
        {"customer_id": range(12), "monetary": [10.0] * 8 + [20.0, 30.0, 0.0, -5.0]}
    )
    got = hml_segments(tied)
    assert got["rule_id"].tolist() == ["light"] * 8 + ["heavy", "heavy", "default", "default"]
    wider = hml_segments(features(), cuts=(0.6, 0.2))
    # x(ceil(0.6 * 5)) = x(3) = 300, x(ceil(0.2 * 5)) = x(1) = 100
    assert wider["rule_id"].tolist() == ["light", "medium", "medium", "heavy", "heavy", "default"]


def test_hml_with_no_spenders_gives_zero_spend() -> None:
    got = hml_segments(features().assign(monetary=0.0))
    assert set(got["rule_id"]) == {"default"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: hml_segments(features(), cuts=(0.5, 0.8)), "with heavy > medium"),
        (lambda: hml_segments(features(), cuts=(1.0, 0.5)), "strictly between 0 and 1. Got 1.0"),
        (lambda: hml_segments(features(), cuts=0.8), "two shares (heavy, medium)"),
        (lambda: value_matrix(features(), "monetary", "monetary"), "a column other than value_col"),
        (lambda: value_matrix(features(), value_threshold=float("inf")), "a finite number"),
    ],
)
def test_bad_parameters(call: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        call()
    assert message in str(info.value)


def test_missing_column() -> None:
    with pytest.raises(MissingColumnsError, match="'spend'"):
        value_matrix(features(), "spend")


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_same_segments(engine: str) -> None:
    native = make_native(engine, features())
    for result, expected in [
        (segment(native, STANDARD_SEGMENTS), EXPECTED_SEGMENTS),
        (value_matrix(native), EXPECTED_MATRIX),
        (hml_segments(native), EXPECTED_HML),
    ]:
        assert_same_kind(result, native)
        assert_equal_data(result, expected)
