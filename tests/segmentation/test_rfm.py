"""RFM scores: hand-computed scores and ties, every engine, the estimator, invariants."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from helpers import ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import (
    ConfigError,
    DataQualityWarning,
    InvalidDataError,
    MissingColumnsError,
    NotFittedError,
)
from retailcrm.segmentation import RFMScorer, rfm_scores

NAN = float("nan")


def features() -> pd.DataFrame:
    """Ten buyers (six bought once) and two customers without purchases, rows not in id order.

    recency  5 10 20 30 40 50 60 70 80 90 (ids 1..10), frequency 1 1 1 1 1 1 2 3 5 8 (ids
    10..1: the recent customers buy more), monetary 10..100 (ids 1..10).
    """
    ids = [3, 11, 1, 2, 4, 5, 6, 12, 7, 8, 9, 10]
    recency = {i: 10.0 * (i - 1) if i > 1 else 5.0 for i in range(1, 11)}
    frequency = dict(zip(range(1, 11), [8, 5, 3, 2, 1, 1, 1, 1, 1, 1], strict=True))
    monetary = {i: 10.0 * i for i in range(1, 11)}
    return pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": [recency.get(i, NAN) for i in ids],
            "frequency": [frequency.get(i, 0) for i in ids],
            "monetary": [monetary.get(i, NAN) for i in ids],
        }
    )


# Hand computation, n = 10 scored customers, bins = 5: edge j is the ceil(10 j / 5) = 2j-th
# smallest value (j = 1..4), and score = 1 + #{edges the value is strictly better than}.
# recency (negated, better = smaller): 2nd, 4th, 6th, 8th smallest of -recency = -80, -60, -40,
#   -20 -> edges (20, 40, 60, 80) days; 5 -> 5, 10 -> 5, 20 -> 4 (on an edge: the worse
#   score), 30 -> 4, 40 -> 3, 50 -> 3, 60 -> 2, 70 -> 2, 80 -> 1, 90 -> 1.
# frequency 1 1 1 1 1 1 2 3 5 8: x(2) = x(4) = x(6) = 1, x(8) = 3 -> edges (1, 1, 1, 3): 1 -> 1,
#   2 -> 1 + 3 = 4, 3 -> 4, 5 -> 5, 8 -> 5 (scores 2 and 3 are empty: 60% share the value 1).
# monetary 10..100: edges (20, 40, 60, 80): 10 -> 1, 20 -> 1, 30 -> 2, ..., 90 -> 5, 100 -> 5.
EXPECTED = {
    "customer_id": list(range(1, 13)),
    "r_score": [5, 5, 4, 4, 3, 3, 2, 2, 1, 1, None, None],
    "f_score": [5, 5, 4, 4, 1, 1, 1, 1, 1, 1, None, None],
    "m_score": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, None, None],
    "rfm_cell": ["551", "551", "442", "442", "313", "313", "214", "214", "115", "115", None, None],
    "rfm_score": [11, 11, 10, 10, 7, 7, 7, 7, 7, 7, None, None],
}
WARNING = (
    "rfm_scores: frequency: 60% of scored customers share the value 1; edges 1–3 coincide, "
    "so scores 2–3 are empty. Equal values get equal scores, and scores stay in 1..5 (see "
    "edges_ and collapsed_). 2 of 12 customers (17%) have no recency, frequency or monetary "
    "value (no purchases) and get null r_score, f_score, m_score."
)


def quiet(func: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return func(*args, **kwargs)


def test_hand_computed_scores_ties_and_warning() -> None:
    with pytest.warns(DataQualityWarning) as caught:
        got = rfm_scores(features())
    assert [str(w.message) for w in caught] == [WARNING]
    assert_equal_data(got, EXPECTED)
    assert list(got.columns) == list(EXPECTED)


def test_fitted_attributes_report_edges_collapse_and_unscored() -> None:
    scorer = quiet(RFMScorer().fit, features())
    assert scorer.edges_ == {
        "recency": (-math.inf, 20.0, 40.0, 60.0, 80.0, math.inf),
        "frequency": (-math.inf, 1.0, 1.0, 1.0, 3.0, math.inf),
        "monetary": (-math.inf, 20.0, 40.0, 60.0, 80.0, math.inf),
    }
    assert scorer.collapsed_ == {
        "frequency": [{"edges": (1, 3), "value": 1.0, "customers": 6, "share": 0.6}]
    }
    assert scorer.n_unscored_ == {"recency": 2, "frequency": 2, "monetary": 2}
    assert scorer.n_scored_ == {"recency": 10, "frequency": 10, "monetary": 10}


def test_recency_ties_collapse_reversed() -> None:
    # recency 7 7 7 7 7 7 30 60 90 120: negated and sorted, -120 -90 -60 -30 -7 -7 -7 -7 -7 -7;
    # x(2) = -90, x(4) = -30, x(6) = x(8) = -7 -> edges (7, 7, 30, 90) days. Score = 1 + #{edges
    # strictly above the recency}: 7 -> 3 (4 of 10 are strictly worse: 1 + floor(5 * 0.4)),
    # 30 -> 2, 90 -> 1, under 7 -> 5. Edges 1-2 coincide: score 4 is empty.
    data = pd.DataFrame(
        {
            "customer_id": range(1, 11),
            "recency_days": [7, 7, 7, 7, 7, 7, 30, 60, 90, 120],
            "frequency": range(1, 11),
            "monetary": [float(x) for x in range(1, 11)],
        }
    )
    shown = "recency: 60% of scored customers share the value 7; edges 1–2 coincide, so score 4 is empty"
    with pytest.warns(DataQualityWarning, match=shown):
        scorer = RFMScorer().fit(data)
    assert scorer.edges_["recency"] == (-math.inf, 7.0, 7.0, 30.0, 90.0, math.inf)
    new = data.assign(recency_days=[1, 7, 8, 30, 59, 89, 90, 500, 6, 7])
    # 1 -> 5, 7 -> 3, 8 -> 3, 30 -> 2 (on an edge: the worse score), 59 -> 2, 89 -> 2, 90 -> 1
    assert scorer.transform(new)["r_score"].tolist() == [5, 3, 3, 2, 2, 2, 1, 1, 5, 3]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_gives_the_same_scores(engine: str) -> None:
    native = make_native(engine, features())
    got = quiet(rfm_scores, native)
    assert_same_kind(got, native)
    assert_equal_data(got, EXPECTED)
    # exact order statistics on every engine (Spark's percentile functions would interpolate or
    # approximate): the same data values as pandas
    assert quiet(RFMScorer().fit, native).edges_ == quiet(RFMScorer().fit, features()).edges_


def test_percentile_scale_counts_the_share_strictly_worse() -> None:
    # frequency 1..10 (n = 10): percentile score = floor(100 * #{strictly smaller} / 10), so
    # 1 -> 0, 2 -> 10, ..., 10 -> 90; recency 1..10 reversed: 1 -> 90, 10 -> 0. Ties in monetary:
    # 5 5 5 5 5 6 7 8 9 10 -> 5 -> 0, 6 -> 50, 7 -> 60, 10 -> 90.
    data = pd.DataFrame(
        {
            "customer_id": range(1, 11),
            "recency_days": range(1, 11),
            "frequency": range(1, 11),
            "monetary": [5.0, 5, 5, 5, 5, 6, 7, 8, 9, 10],
        }
    )
    got = quiet(rfm_scores, data, scale="percentile")
    assert got["f_score"].tolist() == list(range(0, 100, 10))
    assert got["r_score"].tolist() == list(range(90, -10, -10))
    assert got["m_score"].tolist() == [0, 0, 0, 0, 0, 50, 60, 70, 80, 90]
    assert got["rfm_cell"].tolist()[:2] == ["90-0-0", "80-10-0"]
    scorer = quiet(RFMScorer(scale="percentile").fit, data)
    assert len(scorer.edges_["frequency"]) == 102
    # a value beyond every reference value is strictly better than all of them: 100
    beyond = data.assign(frequency=[11, 10, 0, 1, 1, 1, 1, 1, 1, 1])
    assert scorer.transform(beyond)["f_score"].tolist()[:3] == [100, 90, 0]


def test_explicit_thresholds_need_no_fitting() -> None:
    # recency cut points 30/90/180/365 days: 10 -> 5, 30 -> 4 (on a cut point: the worse
    # score), 100 -> 3, 365 -> 1, 400 -> 1. Frequency 1/2/4/8: 1 -> 1, 2 -> 2, 3 -> 3, 9 -> 5.
    data = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "recency_days": [10, 30, 100, 365, 400],
            "frequency": [1, 2, 3, 9, 8],
            "monetary": [10.0, 20.0, 30.0, 40.0, 50.0],
        }
    )
    thresholds = {"recency": [30, 90, 180, 365], "frequency": [1, 2, 4, 8]}
    got = rfm_scores(data, thresholds=thresholds)
    assert got["r_score"].tolist() == [5, 4, 3, 1, 1]
    assert got["f_score"].tolist() == [1, 2, 3, 5, 4]
    # monetary (not given) is fitted: ceil(5 j / 5) = j-th value -> edges 10, 20, 30, 40
    assert got["m_score"].tolist() == [1, 2, 3, 4, 5]


def test_weights_give_a_weighted_total() -> None:
    got = quiet(rfm_scores, features(), weights={"r": 2, "f": 1, "m": 0.5})
    # customer 1: 2*5 + 5 + 0.5*1 = 15.5; customer 3: 2*4 + 4 + 0.5*2 = 13
    assert got["rfm_score"].tolist()[:3] == [15.5, 15.5, 13.0]
    assert math.isnan(got["rfm_score"].iloc[-1])


def test_two_digit_scores_are_separated_in_the_cell() -> None:
    data = pd.DataFrame(
        {
            "customer_id": range(1, 13),
            "recency_days": range(1, 13),
            "frequency": range(1, 13),
            "monetary": [float(x) for x in range(1, 13)],
        }
    )
    got = rfm_scores(data, bins=12)
    assert got["rfm_cell"].tolist()[0] == "12-1-1"
    assert got["f_score"].tolist() == list(range(1, 13))


def test_estimator_equals_function_and_transfers() -> None:
    ref = features()
    scorer = quiet(RFMScorer().fit, ref)
    assert_equal_data(scorer.transform(ref), quiet(rfm_scores, ref))
    assert_equal_data(quiet(RFMScorer().fit_transform, ref), quiet(rfm_scores, ref))
    # another period: unseen extremes still score, and the scores are deterministic
    later = pd.DataFrame(
        {
            "customer_id": [21, 22, 23],
            "recency_days": [0, 10_000, 40],
            "frequency": [500, 1, 3],
            "monetary": [1e7, 0.0, 40.0],
        }
    )
    first = scorer.transform(later)
    assert_equal_data(
        first,
        {
            "customer_id": [21, 22, 23],
            "r_score": [5, 1, 3],
            "f_score": [5, 1, 4],
            "m_score": [5, 1, 2],
            "rfm_cell": ["555", "111", "342"],
            "rfm_score": [15, 3, 9],
        },
    )
    assert_equal_data(scorer.transform(later), first)
    refitted = quiet(clone(scorer).set_params(bins=5).fit, ref)
    assert_equal_data(refitted.transform(later), first)


def test_estimator_in_a_pipeline_with_set_output() -> None:
    ref = features()
    pipe = Pipeline([("rfm", RFMScorer())])
    assert_equal_data(quiet(pipe.fit_transform, ref), EXPECTED)
    scorer = RFMScorer()
    assert scorer.get_feature_names_out().tolist() == list(EXPECTED)
    as_polars = quiet(scorer.set_output(transform="polars").fit_transform, ref)
    assert isinstance(as_polars, pl.DataFrame)
    assert_equal_data(as_polars, EXPECTED)
    as_pandas = quiet(RFMScorer().set_output(transform="pandas").fit_transform, pl.from_pandas(ref))
    assert isinstance(as_pandas, pd.DataFrame)
    assert_equal_data(as_pandas, EXPECTED)
    assert isinstance(quiet(RFMScorer().fit_transform, pl.from_pandas(ref)), pl.DataFrame)


def test_transform_before_fit_raises() -> None:
    with pytest.raises(NotFittedError, match="RFMScorer instance is not fitted yet"):
        RFMScorer().transform(features())


def test_inputs_are_not_mutated() -> None:
    data = features()
    before = data.copy()
    quiet(rfm_scores, data)
    pd.testing.assert_frame_equal(data, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"bins": 1},
            "The 'bins' parameter of rfm_scores must be an int in [2, 20]. Got 1 instead.",
        ),
        (
            {"scale": "decile"},
            "The 'scale' parameter of rfm_scores must be one of ['quantile', 'percentile']",
        ),
        (
            {"thresholds": {"recency": [1, 2, 3]}},
            "The \"thresholds['recency']\" parameter of rfm_scores must be 4 cut points",
        ),
        ({"thresholds": {"recency": [1, 3, 2, 4]}}, "must be strictly increasing"),
        (
            {"scale": "percentile", "thresholds": {"recency": [1, 2, 3, 4]}},
            "must be 100 cut points (one fewer than the number of scores)",
        ),
        (
            {"thresholds": {"rec": [1, 2, 3, 4]}},
            "must be keyed by the dimensions ['recency', 'frequency', 'monetary']. Got ['rec']",
        ),
        (
            {"weights": {"r": 1, "f": 1}},
            "The 'weights' parameter of rfm_scores must be a dict with exactly the keys ['r', 'f', 'm']",
        ),
        (
            {"weights": {"r": 1, "f": 1, "m": -1}},
            "The \"weights['m']\" parameter of rfm_scores must be a finite number >= 0",
        ),
        ({"recency_col": "frequency"}, "must be distinct column names"),
    ],
)
def test_bad_parameters_are_reported(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        rfm_scores(features(), **kwargs)
    assert message in str(info.value)


def test_missing_and_non_numeric_columns() -> None:
    with pytest.raises(MissingColumnsError, match="'monetary'"):
        rfm_scores(features().drop(columns="monetary"))
    with pytest.raises(InvalidDataError, match=r"'frequency' .* must be numeric"):
        rfm_scores(features().astype({"frequency": str}))


def test_nothing_to_fit_on_raises_but_thresholds_do_not_need_it() -> None:
    empty = features().iloc[[1, 7]]  # the two customers without purchases
    with pytest.raises(InvalidDataError, match="no customer has a recency value"):
        rfm_scores(empty)
    thresholds = {"recency": [1, 2, 3, 4], "frequency": [1, 2, 3, 4], "monetary": [1, 2, 3, 4]}
    got = quiet(rfm_scores, empty, thresholds=thresholds)
    assert got["r_score"].isna().all() and len(got) == 2


# -- invariants -----------------------------------------------------------------------------
def _reference_scores(values: np.ndarray, bins: int, higher_is_better: bool) -> list[int]:
    """1 + min(bins - 1, floor(bins * share strictly worse)), by brute force."""
    n = len(values)
    out = []
    for v in values:
        worse = int(np.sum(values < v)) if higher_is_better else int(np.sum(values > v))
        out.append(1 + min(bins - 1, (bins * worse) // n))
    return out


rows = st.lists(
    st.tuples(
        st.integers(0, 30),  # recency: few distinct values, many ties
        st.integers(1, 6),
        st.sampled_from([5.0, 10.0, 10.5, 99.99, 250.0]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40)
@given(data=rows, bins=st.integers(2, 7), seed=st.integers(0, 2**16))
def test_scores_follow_the_definition_for_any_data(
    data: list[tuple[int, int, float]], bins: int, seed: int
) -> None:
    frame = pd.DataFrame(data, columns=["recency_days", "frequency", "monetary"])
    frame.insert(0, "customer_id", np.arange(len(frame)) * 7 + 3)
    got = quiet(rfm_scores, frame, bins=bins)
    # every customer once, sorted by id
    assert got["customer_id"].tolist() == frame["customer_id"].tolist()
    expected = {
        "r_score": _reference_scores(frame["recency_days"].to_numpy(), bins, False),
        "f_score": _reference_scores(frame["frequency"].to_numpy(), bins, True),
        "m_score": _reference_scores(frame["monetary"].to_numpy(), bins, True),
    }
    for column, want in expected.items():
        assert got[column].tolist() == want
        assert got[column].between(1, bins).all()
    # equal inputs, equal scores
    merged = frame.merge(got, on="customer_id")
    per_value = merged.groupby(["recency_days", "frequency", "monetary"])["rfm_cell"].nunique()
    assert (per_value == 1).all()
    # strictly lower recency (others equal) never gets a lower R
    by_recency = merged.sort_values("recency_days")
    assert by_recency["r_score"].is_monotonic_decreasing
    # row order is irrelevant
    shuffled = frame.sample(frac=1.0, random_state=seed)
    assert_equal_data(quiet(rfm_scores, shuffled, bins=bins), got)


@settings(max_examples=25)
@given(data=rows, seed=st.integers(0, 2**16))
def test_percentile_scores_stay_in_range(data: list[tuple[int, int, float]], seed: int) -> None:
    frame = pd.DataFrame(data, columns=["recency_days", "frequency", "monetary"])
    frame.insert(0, "customer_id", range(len(frame)))
    got = to_polars(quiet(rfm_scores, pl.from_pandas(frame).lazy(), scale="percentile"))
    n = len(frame)
    f = frame["frequency"].to_numpy()
    assert got["f_score"].to_list() == [(100 * int(np.sum(f < v))) // n for v in f]
    for column in ("r_score", "f_score", "m_score"):
        assert got[column].min() >= 0 and got[column].max() <= 99


def test_percentile_ties_are_summarised_per_dimension() -> None:
    # frequency 1 1 1 2 2 3 (n = 6): edge k is the ceil(6k/100)-th value, so edges 1-50 are 1,
    # 51-83 are 2 and 84-100 are 3; 1 -> 0, 2 -> 50 (3 of 6 strictly worse), 3 -> 83 (5 of 6).
    # Empty: scores 1-49 (the largest tie), then 51-82 and 84-99 (32 + 16 = 48 more).
    data = pd.DataFrame(
        {
            "customer_id": range(6),
            "recency_days": [1, 1, 1, 1, 1, 1],
            "frequency": [1, 1, 1, 2, 2, 3],
            "monetary": [5.0] * 6,
        }
    )
    shown = (
        "frequency: 50% of scored customers share the value 1; edges 1–50 coincide, so scores "
        "1–49 are empty (2 more ties leave 48 more scores empty)"
    )
    with pytest.warns(DataQualityWarning, match=re.escape(shown)):
        got = rfm_scores(data, scale="percentile")
    assert got["f_score"].tolist() == [0, 0, 0, 50, 50, 83]
    assert got["r_score"].tolist() == [0] * 6  # everyone tied: nobody is strictly worse
