"""cluster_customers: in-engine assignment equal on every engine, determinism, the choice of k,
missing values, names, sampling, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.segmentation import cluster_customers


def blobs(k: int, per: int = 40, seed: int = 1) -> pd.DataFrame:
    """``k`` well-separated groups of customers in (recency, frequency, monetary), shuffled,
    plus two customers without purchases."""
    rng = np.random.default_rng(seed)
    centres = [(5, 20, 3000), (300, 1, 30), (60, 6, 400), (700, 3, 8000), (20, 2, 100)][:k]
    rows = []
    for r, f, m in centres:
        rows.append(
            np.column_stack(
                [
                    np.round(r * rng.uniform(0.9, 1.1, per)),
                    np.round(f * rng.uniform(0.9, 1.1, per)).clip(1),
                    m * rng.uniform(0.9, 1.1, per),
                ]
            )
        )
    values = np.vstack(rows)
    frame = pd.DataFrame(values, columns=["recency_days", "frequency", "monetary"])
    frame["frequency"] = frame["frequency"].astype("int64")
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in rng.permutation(len(frame))])
    extra = pd.DataFrame(
        {
            "customer_id": ["Z0001", "Z0002"],
            "recency_days": [np.nan, np.nan],
            "frequency": [0, 0],
            "monetary": [np.nan, np.nan],
        }
    )
    return pd.concat([frame, extra], ignore_index=True)


def small() -> pd.DataFrame:
    # two obvious groups and one customer without purchases
    return pd.DataFrame(
        {
            "customer_id": [4, 2, 7, 1, 3, 5, 6],
            "recency_days": [300.0, 8.0, None, 5.0, 6.0, 280.0, 310.0],
            "frequency": [1, 15, 0, 12, 11, 1, 2],
            "monetary": [40.0, 1200.0, None, 900.0, 950.0, 35.0, 60.0],
        }
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_assignment_in_engine_equals_pandas(engine: str) -> None:
    data = blobs(3, per=15)
    reference = cluster_customers(data, n_clusters=3)
    native = make_native(engine, data)
    result = cluster_customers(native, n_clusters=3)
    assert_same_kind(result.assignments, native)
    assert_equal_data(result.assignments, reference.assignments)
    assert_equal_data(result.profile, reference.profile)
    np.testing.assert_array_equal(result.centers, reference.centers)


def test_small_case_by_hand() -> None:
    result = cluster_customers(small(), n_clusters=2)
    # {1, 2, 3} (recent, frequent, big spend) and {4, 5, 6}: equal sizes, so the order follows
    # the centres: the recent group has the smaller scaled recency and comes first
    assert_equal_data(
        result.assignments,
        {"customer_id": [1, 2, 3, 4, 5, 6, 7], "cluster": [0, 0, 0, 1, 1, 1, -1]},
    )
    profile = to_polars(result.profile)
    assert profile["cluster"].to_list() == [0, 1, -1]
    assert profile["customers"].to_list() == [3, 3, 1]
    assert profile["share"].to_list() == pytest.approx([3 / 7, 3 / 7, 1 / 7])
    # original-unit means: (5 + 8 + 6) / 3, (12 + 15 + 11) / 3, (900 + 1200 + 950) / 3
    assert profile["mean_recency_days"].to_list()[:2] == pytest.approx([19 / 3, 890 / 3])
    assert profile["mean_frequency"].to_list()[0] == pytest.approx(38 / 3)
    assert profile["mean_monetary"].to_list()[0] == pytest.approx(3050 / 3)
    assert profile["name"].to_list() == [
        "recent, high spend, high frequency",
        "lapsed, low spend, low frequency",
        "missing values",
    ]
    assert result.n_clusters == 2 and result.sample_rows == 6


def test_name_from_standardized_differences() -> None:
    # frequency high and spend low in one group, the reverse in the other: both features name
    data = pd.DataFrame(
        {
            "customer_id": range(8),
            "frequency": [20, 22, 21, 19, 1, 1, 2, 1],
            "monetary": [50.0, 55.0, 52.0, 48.0, 900.0, 950.0, 1000.0, 980.0],
        }
    )
    result = cluster_customers(data, columns=["frequency", "monetary"], n_clusters=2)
    names = to_polars(result.profile)["name"].to_list()
    # (the stronger difference is named first; here both are about equally strong)
    assert sorted(sorted(n.split(", ")) for n in names) == [
        ["high frequency", "low spend"],
        ["high spend", "low frequency"],
    ]


@pytest.mark.parametrize("k", [3, 4])
def test_auto_finds_the_true_k(k: int) -> None:
    result = cluster_customers(blobs(k), n_clusters="auto", k_range=(2, 6))
    assert result.n_clusters == k
    assert max(result.silhouette, key=result.silhouette.__getitem__) == k
    assert sorted(result.silhouette) == [2, 3, 4, 5, 6]
    sizes = to_polars(result.profile)["customers"].to_list()
    assert sizes == [40] * k + [2]


def test_deterministic_and_row_order_free() -> None:
    data = blobs(3)
    first = cluster_customers(data, k_range=(2, 4))
    again = cluster_customers(data, k_range=(2, 4))
    assert_equal_data(again.assignments, first.assignments, exact=True)
    assert_equal_data(again.profile, first.profile, exact=True)
    assert again.silhouette == first.silhouette
    # the fitting sample is read in key order, so row order changes nothing but the last bits
    # of the means (summation order)
    shuffled = cluster_customers(data.sample(frac=1.0, random_state=7), k_range=(2, 4))
    assert_equal_data(shuffled.assignments, first.assignments, exact=True)
    assert_equal_data(shuffled.profile, first.profile)
    assert shuffled.silhouette == first.silhouette


def test_only_the_key_and_clustering_columns_are_converted() -> None:
    # a wide pandas feature table with columns no engine can hold (complex numbers, text
    # mixed with numbers), one named like a helper column: the same clusters and columns as
    # without them; clustering on a missing column names every available one
    data = blobs(3)
    wide = data.assign(z=np.full(len(data), 1j), m=["x", 1] * (len(data) // 2), scaled_monetary=0.0)
    first = cluster_customers(data.assign(scaled_monetary=0.0), k_range=(2, 4))
    got = cluster_customers(wide, k_range=(2, 4))
    assert_equal_data(got.assignments, first.assignments, exact=True)
    assert_equal_data(got.profile, first.profile, exact=True)
    with pytest.raises(MissingColumnsError, match="'m'"):
        cluster_customers(wide.drop(columns="z"), columns=("recency_days", "nope"))


def test_every_customer_once_and_missing_values_kept() -> None:
    data = blobs(2)
    data.loc[3, "monetary"] = np.nan  # one buyer with a missing value
    before = data.copy()
    result = cluster_customers(data, n_clusters=2)
    pd.testing.assert_frame_equal(data, before)
    out = result.assignments
    assert len(out) == len(data) and out["customer_id"].is_unique
    assert set(out["customer_id"]) == set(data["customer_id"])
    missing = set(out.loc[out["cluster"] == -1, "customer_id"])
    assert missing == {"Z0001", "Z0002", data.loc[3, "customer_id"]}


@pytest.mark.parametrize(
    "engine", ["pandas-numpy", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]
)
def test_sampled_fit_is_the_same_on_every_engine(engine: str) -> None:
    data = blobs(3)  # 120 complete customers
    reference = cluster_customers(data, n_clusters=3, sample_size=25)
    # every ceil(120 / 25) = 5th customer in key order: 24 customers
    assert reference.sample_rows == 24
    result = cluster_customers(make_native(engine, data), n_clusters=3, sample_size=25)
    assert result.sample_rows == 24
    assert_equal_data(result.assignments, reference.assignments)
    sizes = to_polars(result.profile)["customers"].to_list()
    assert sizes == [40, 40, 40, 2]


@pytest.mark.parametrize("scaling", ["log", "robust", "standard"])
def test_scalings_separate_obvious_groups(scaling: str) -> None:
    data = pd.DataFrame({"customer_id": range(6), "frequency": [1, 1, 2, 30, 31, 30]})
    result = cluster_customers(data, columns=["frequency"], n_clusters=2, scaling=scaling)
    # equal sizes: the group with the smaller centre (frequency 1-2) is cluster 0
    assert to_polars(result.assignments)["cluster"].to_list() == [0, 0, 0, 1, 1, 1]
    assert result.scaling == scaling


def test_errors() -> None:
    data = small()
    with pytest.raises(MissingColumnsError, match="monetry"):
        cluster_customers(data, columns=["recency_days", "monetry"])
    with pytest.raises(ConfigError, match="'n_clusters' parameter of cluster_customers"):
        cluster_customers(data, n_clusters=1)
    with pytest.raises(ConfigError, match="'k_range' parameter"):
        cluster_customers(data, k_range=(5, 3))
    with pytest.raises(ConfigError, match="'scaling' parameter"):
        cluster_customers(data, scaling="minmax")
    with pytest.raises(ConfigError, match="must be numeric"):
        cluster_customers(data.assign(tier="gold"), columns=["tier", "frequency"])
    with pytest.raises(InvalidDataError, match="only 6 distinct rows"):
        cluster_customers(data, n_clusters=7)
    with pytest.raises(InvalidDataError, match="at least 2 are needed"):
        cluster_customers(data.assign(monetary=np.nan), n_clusters=2)
