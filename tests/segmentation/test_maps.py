"""Built-in segment maps: exhaustive, no dead rule, the documented cells, Chinese labels;
``segment`` with a RuleSet, a dict or a YAML file; the CDNOW regression."""

from __future__ import annotations

import itertools
import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from helpers import assert_equal_data
from retailcrm.exceptions import ConfigError, RuleSyntaxError
from retailcrm.rules import RuleSet
from retailcrm.segmentation import (
    HML_TIERS,
    RFRC_CLASSES,
    STANDARD_SEGMENTS,
    VALUE_MATRIX,
    VALUE_TIERS,
    rfm_scores,
    segment,
)


def grid(columns: list[str], values: Any) -> pd.DataFrame:
    rows = list(itertools.product(values, repeat=len(columns)))
    return pd.DataFrame(rows, columns=columns)


def percentile_grid() -> pd.DataFrame:
    """Every combination of three 0-100 scores (101^3 rows)."""
    axes = np.meshgrid(np.arange(101), np.arange(101), np.arange(101), indexing="ij")
    return pd.DataFrame(
        np.stack(axes, axis=-1).reshape(-1, 3), columns=["r_score", "f_score", "m_score"]
    )


GRIDS = {
    "STANDARD_SEGMENTS": (STANDARD_SEGMENTS, lambda: grid(["r_score", "f_score"], range(1, 6))),
    "VALUE_TIERS": (VALUE_TIERS, percentile_grid),
    "RFRC_CLASSES": (
        RFRC_CLASSES,
        lambda: grid(["r_score", "f_score", "m_score", "c_score"], range(1, 6)),
    ),
    "RFRC_CLASSES, never contacted": (
        RFRC_CLASSES,
        lambda: grid(["r_score", "f_score", "m_score"], range(1, 6)).assign(
            c_score=pd.array([None] * 125, dtype="Int64")
        ),
    ),
    "VALUE_MATRIX": (VALUE_MATRIX, lambda: grid(["high_value", "high_loyalty"], [True, False])),
    "HML_TIERS": (HML_TIERS, lambda: pd.DataFrame({"spend_band": [1, 2, 3]})),
}


@pytest.mark.parametrize("name", list(GRIDS))
def test_every_built_in_map_is_exhaustive_with_no_dead_rule(name: str) -> None:
    scheme, make_grid = GRIDS[name]
    cells = make_grid()
    assert scheme.is_exhaustive(cells)
    coverage = scheme.coverage(cells)
    decided = dict(zip(coverage["rule_id"], coverage["decided"], strict=True))
    assert decided.pop("default") == 0
    assert all(n > 0 for n in decided.values()), decided


def test_standard_segments_assign_each_cell_to_exactly_one_segment() -> None:
    cells = grid(["r_score", "f_score"], range(1, 6))
    cells.insert(0, "customer_id", range(25))
    every = RuleSet(STANDARD_SEGMENTS.rules, mode="all").evaluate(cells)
    matches = every.drop(columns="customer_id").sum(axis=1)
    assert (matches == 1).all()
    got = segment(cells, STANDARD_SEGMENTS)
    table = got.assign(r=cells["r_score"], f=cells["f_score"]).pivot(
        index="r", columns="f", values="rule_id"
    )
    # the documented table: rows R = 5..1, columns F = 1..5
    expected = {
        5: ["new_customers", *["potential_loyalist"] * 2, *["champions"] * 2],
        4: ["promising", *["potential_loyalist"] * 2, *["loyal_customers"] * 2],
        3: [*["about_to_sleep"] * 2, "need_attention", *["loyal_customers"] * 2],
        2: [*["hibernating"] * 2, *["at_risk"] * 2, "cant_lose_them"],
        1: [*["hibernating"] * 2, *["at_risk"] * 2, "cant_lose_them"],
    }
    for r, row in expected.items():
        assert table.loc[r].tolist() == row, r
    assert set(STANDARD_SEGMENTS.labels) == {
        "Champions",
        "Loyal Customers",
        "Potential Loyalist",
        "New Customers",
        "Promising",
        "Need Attention",
        "About to Sleep",
        "At Risk",
        "Can't Lose Them",
        "Hibernating",
        "Unscored",
    }


def test_value_tiers_hand_cases() -> None:
    scores = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "r_score": [85, 70, 30, 10, 50, 80, 39, None],
            "f_score": [85, 70, 50, 10, 50, 80, 40, None],
            "m_score": [85, 50, 50, 10, 50, 79, 39, None],
        },
        dtype="Int64",
    )
    got = segment(scores, VALUE_TIERS)
    # 6: M 79 < 80 is not high value, but R, F >= 60 and M < 60 fails too -> average
    # 7: R 39 < 40, F 40 >= 40, M 39 < 40 -> neither churn risk nor low value -> average
    assert got["rule_id"].tolist() == [
        "high_value",
        "potential",
        "churn_risk",
        "low_value",
        "average",
        "average",
        "average",
        "default",
    ]


def test_rfrc_classes_hand_cases() -> None:
    scores = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "r_score": [5, 5, 3, 1, 5, 2, None],
            "f_score": [5, 5, 1, 1, 4, 3, None],
            "m_score": [5, 5, 1, 1, 4, 1, None],
            "c_score": [5, 1, 4, 1, None, 2, 3],
        },
        dtype="Int64",
    )
    got = segment(scores, RFRC_CLASSES)
    # 2: a top customer who stopped responding -> churn warning; 5: never contacted counts as
    # responsive; 6: F 3 -> churn warning; 7: no purchases -> Unscored
    assert got["rule_id"].tolist() == [
        "high_value_loyal",
        "churn_warning",
        "potential",
        "low_value",
        "high_value_loyal",
        "churn_warning",
        "default",
    ]


@pytest.mark.parametrize(
    "scheme", [STANDARD_SEGMENTS, VALUE_TIERS, RFRC_CLASSES, VALUE_MATRIX, HML_TIERS]
)
def test_every_built_in_map_has_chinese_labels_with_the_same_ids(scheme: RuleSet) -> None:
    zh = scheme.relabel("zh")
    assert [r.id for r in zh.rules] == [r.id for r in scheme.rules]
    assert [r.when for r in zh.rules] == [r.when for r in scheme.rules]
    assert set(scheme.translations["zh"]) == {*(r.id for r in scheme.rules), "default"}
    for label in zh.labels:
        assert all(ord(ch) > 0x2E80 for ch in label), label


def test_chinese_labels_of_the_standard_map() -> None:
    scores = pd.DataFrame(
        {"customer_id": [1, 2, 3], "r_score": [5, 1, None], "f_score": [5, 1, None]}
    )
    got = segment(scores, STANDARD_SEGMENTS.relabel("zh"))
    assert got["segment"].tolist() == ["冠军客户", "休眠客户", "未评分客户"]
    english = segment(scores, STANDARD_SEGMENTS)
    assert got["rule_id"].tolist() == english["rule_id"].tolist()


# -- segment() -------------------------------------------------------------------------------
SCORES = pd.DataFrame({"customer_id": [2, 1], "r_score": [1, 5], "f_score": [1, 5]})
MAP = {"rules": [{"id": "top", "when": "r_score >= 4", "label": "Top"}], "default": "Rest"}
EXPECTED = {"customer_id": [1, 2], "tier": ["Top", "Rest"], "rule_id": ["top", "default"]}


def test_segment_takes_a_ruleset_a_dict_or_a_yaml_file(tmp_path: Any) -> None:
    assert_equal_data(segment(SCORES, RuleSet.from_dict(MAP), label_column="tier"), EXPECTED)
    assert_equal_data(segment(SCORES, MAP, label_column="tier"), EXPECTED)
    path = tmp_path / "tiers.yaml"
    path.write_text(
        "default: Rest\nrules:\n  - id: top\n    when: r_score >= 4\n    label: Top\n",
        encoding="utf-8",
    )
    assert_equal_data(segment(SCORES, path, label_column="tier"), EXPECTED)
    assert_equal_data(segment(SCORES, str(path), label_column="tier"), EXPECTED)


def test_segment_reports_bad_schemes(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"scheme file '.*nope\.yaml' does not exist"):
        segment(SCORES, tmp_path / "nope.yaml")
    with pytest.raises(
        ConfigError, match=r"must be a RuleSet, a dict or the path of a YAML file\. Got int"
    ):
        segment(SCORES, 3)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping with a 'rules' key; it holds list"):
        segment(SCORES, listed)
    with pytest.raises(RuleSyntaxError, match="unknown column 'm_score'"):
        segment(SCORES, VALUE_TIERS)
    path = tmp_path / "tiers.yaml"
    path.write_text("rules: []\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ConfigError, match="needs PyYAML, which is not installed"):
        segment(SCORES, path)


# -- CDNOW: the regression the docs page shows -------------------------------------------------
@pytest.fixture(scope="module")
def cdnow_scores() -> pd.DataFrame:
    from retailcrm import customer_features
    from retailcrm.datasets import load_cdnow_master

    features = customer_features(load_cdnow_master(), as_of="1998-07-01")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = rfm_scores(features)
    assert [str(w.message) for w in caught] == [
        "rfm_scores: frequency: 51% of scored customers share the value 1; edges 1–2 "
        "coincide, so score 2 is empty. Equal values get equal scores, and scores stay in "
        "1..5 (see edges_ and collapsed_). 68 of 23570 customers (0.3%) have no recency, "
        "frequency or monetary value (no purchases) and get null r_score, f_score, m_score."
    ]
    return scores


@pytest.mark.slow
def test_cdnow_score_distribution_and_segment_sizes(cdnow_scores: pd.DataFrame) -> None:
    counts = {
        c: cdnow_scores[c].value_counts(dropna=False).sort_index().tolist()
        for c in ("r_score", "f_score", "m_score")
    }
    assert counts == {
        "r_score": [4705, 4870, 4534, 4703, 4690, 68],
        "f_score": [11989, 4040, 3638, 3835, 68],  # score 2 is empty: 51% bought once
        "m_score": [4749, 4656, 4697, 4700, 4700, 68],
    }
    sizes = segment(cdnow_scores, STANDARD_SEGMENTS)["rule_id"].value_counts().to_dict()
    assert sizes == {
        "hibernating": 8792,
        "champions": 4108,
        "loyal_customers": 3264,
        "about_to_sleep": 3196,
        "potential_loyalist": 2402,
        "need_attention": 956,
        "at_risk": 776,
        "default": 68,
        "cant_lose_them": 7,
        "promising": 1,
    }
    assert sum(sizes.values()) == len(cdnow_scores) == 23_570
