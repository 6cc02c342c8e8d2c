"""segment_profile: every column by hand, effect sizes, unlabelled customers, engine parity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers import ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.segmentation import segment_profile


def features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [3, 1, 2, 4, 5, 6],
            "recency_days": [100.0, 5.0, 10.0, 200.0, np.nan, 50.0],
            "frequency": [2, 10, 6, 1, 0, 3],
            "monetary": [100.0, 1000.0, 600.0, 50.0, np.nan, 250.0],
            "avg_order_value": [50.0, 100.0, 100.0, 50.0, np.nan, 250.0 / 3],
            "top_category": ["home", "beauty", "beauty", "home", None, "home"],
            "top_channel": ["web", "web", "store", "store", None, "store"],
        }
    )


def labels() -> pd.DataFrame:
    # customer 5 has a missing label, 6 no row, 99 is not in the feature table
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 99],
            "segment": ["A", "A", "B", "B", None, "A"],
        }
    )


# Segments: A = {1, 2}, B = {3, 4}, (unlabelled) = {5, 6}; two customers each, so the order is
# by label with "(unlabelled)" last.
#   revenue: A 1000 + 600 = 1600, B 100 + 50 = 150, (unlabelled) 250 (5 has none); total 2000
#   repurchase: A 2 of 2 buyers; B 1 (frequency 2) of 2; (unlabelled) 1 of 1 buyer (6)
#   top_channel: A and B tie web/store -> "store" (first in sort order)
#   distinguishing over frequency (d = (mean - mean_rest) / pooled sd):
#     A: [10, 6] mean 8, M2 8; rest [2, 1, 0, 3] mean 1.5, M2 5; sd = sqrt(13 / 4) = 1.8028;
#        d = 6.5 / 1.8028 = 3.61
#     B: [2, 1] mean 1.5, M2 0.5; rest [10, 6, 0, 3] mean 4.75, M2 54.75;
#        sd = sqrt(55.25 / 4) = 3.7165; d = -3.25 / 3.7165 = -0.87
#     (unlabelled): [0, 3] mean 1.5, M2 4.5; rest [10, 6, 2, 1] mean 4.75, M2 50.75; the same
#        sd and d
EXPECTED = {
    "segment": ["A", "B", "(unlabelled)"],
    "customers": [2, 2, 2],
    "share": [1 / 3, 1 / 3, 1 / 3],
    "revenue": [1600.0, 150.0, 250.0],
    "revenue_share": [0.8, 0.075, 0.125],
    "median_recency_days": [7.5, 150.0, 50.0],
    "mean_recency_days": [7.5, 150.0, 50.0],
    "median_frequency": [8.0, 1.5, 1.5],
    "mean_frequency": [8.0, 1.5, 1.5],
    "median_monetary": [800.0, 75.0, 250.0],
    "mean_monetary": [800.0, 75.0, 250.0],
    "median_avg_order_value": [100.0, 50.0, 250.0 / 3],
    "mean_avg_order_value": [100.0, 50.0, 250.0 / 3],
    "repurchase_rate": [1.0, 0.5, 1.0],
    "top_category": ["beauty", "home", "home"],
    "top_channel": ["store", "store", "store"],
    "distinguishing": ["frequency +3.6 sd", "frequency -0.9 sd", "frequency -0.9 sd"],
}


@pytest.mark.parametrize("engine", ENGINES)
def test_profile_by_hand_on_every_engine(engine: str) -> None:
    native = make_native(engine, features())
    out = segment_profile(native, make_native(engine, labels()), columns=["frequency"])
    assert_same_kind(out, native)
    assert_equal_data(out, EXPECTED)


def test_effect_sizes_by_hand() -> None:
    out = to_polars(segment_profile(features(), labels(), columns=["frequency", "monetary"]))
    # monetary of A: [1000, 600] mean 800, M2 80000; rest [100, 50, 250] (5 has none) mean
    # 133.33, M2 21666.67; sd = sqrt(101666.67 / 3) = 184.09; d = 666.67 / 184.09 = 3.62,
    # a little stronger than frequency's 3.61, so listed first
    assert out["distinguishing"][0] == "monetary +3.6 sd, frequency +3.6 sd"
    sd = math.sqrt((80000 + 21666.6667) / 3)
    assert (800 - 400 / 3) / sd == pytest.approx(3.6214, abs=1e-4)
    # top=1 keeps the strongest; min_effect=1 drops B's and the unlabelled's -0.9
    out = to_polars(
        segment_profile(features(), labels(), columns=["frequency"], top=1, min_effect=1.0)
    )
    assert out["distinguishing"].to_list() == ["frequency +3.6 sd", "", ""]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_effect_sizes_equal_a_direct_computation(seed: int) -> None:
    """The one-pass combination of per-segment statistics gives the two-group Cohen's d."""
    rng = np.random.default_rng(seed)
    n = 60
    data = pd.DataFrame(
        {
            "customer_id": range(n),
            "recency_days": rng.integers(0, 400, n).astype(float),
            "frequency": rng.integers(0, 20, n),
            "monetary": rng.gamma(2.0, 300.0, n),
            "avg_order_value": rng.gamma(2.0, 50.0, n),
            "x": rng.normal(0, 1, n),
        }
    )
    data.loc[rng.choice(n, 8, replace=False), "x"] = np.nan  # missing values are skipped
    segment = rng.choice(["a", "b", "c"], n)
    data["x"] += np.where(segment == "a", 1.5, 0.0)
    labels = pd.DataFrame({"customer_id": range(n), "segment": segment})
    out = segment_profile(data, labels, columns=["x"], min_effect=0.0)
    for row in out.itertuples():
        inside = data.loc[segment == row.segment, "x"].dropna().to_numpy()
        rest = data.loc[segment != row.segment, "x"].dropna().to_numpy()
        pooled = (((inside - inside.mean()) ** 2).sum() + ((rest - rest.mean()) ** 2).sum()) / (
            len(inside) + len(rest) - 2
        )
        d = (inside.mean() - rest.mean()) / math.sqrt(pooled)
        assert row.distinguishing == f"x {d:+.1f} sd"


def test_default_columns_are_every_numeric_column() -> None:
    out = to_polars(segment_profile(features(), labels()))
    words = out["distinguishing"][0].split(", ")
    assert len(words) == 3
    assert {w.rsplit(" ", 2)[0] for w in words} <= {
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
    }


def test_every_customer_counted_once_and_inputs_kept() -> None:
    data, labs = features(), labels()
    before, before_labels = data.copy(), labs.copy()
    out = segment_profile(data, labs)
    pd.testing.assert_frame_equal(data, before)
    pd.testing.assert_frame_equal(labs, before_labels)
    assert out["customers"].sum() == len(data)
    assert out["share"].sum() == pytest.approx(1.0)
    assert out["revenue_share"].sum() == pytest.approx(1.0)


def test_cluster_numbers_as_labels_and_no_mode_columns() -> None:
    data = features().drop(columns=["top_category", "top_channel"])
    clusters = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6], "cluster": [0, 0, 1, 1, -1, 1]})
    out = to_polars(segment_profile(data, clusters, by="cluster", columns=["frequency"]))
    # clusters as text, largest first: 1 = {3, 4, 6}, 0 = {1, 2}, -1 = {5}
    assert out["cluster"].to_list() == ["1", "0", "-1"]
    assert out["customers"].to_list() == [3, 2, 1]
    # cluster -1 has no buyers: repurchase rate missing
    assert out["repurchase_rate"].to_list()[2] is None
    assert out["top_category"].to_list() == [None, None, None]


def test_errors() -> None:
    with pytest.raises(InvalidDataError, match=r"more than one row .* \[1\]"):
        segment_profile(features(), pd.concat([labels(), labels().head(1)]))
    with pytest.raises(MissingColumnsError, match="monetary"):
        segment_profile(features().drop(columns=["monetary"]), labels())
    with pytest.raises(MissingColumnsError, match="tier"):
        segment_profile(features(), labels(), by="tier")
    with pytest.raises(ConfigError, match="'columns' parameter of segment_profile"):
        segment_profile(features(), labels(), columns=["top_category"])
    with pytest.raises(ConfigError, match="'top' parameter"):
        segment_profile(features(), labels(), top=0)
