"""sample_data: deterministic, realistic, every behaviour present."""

from __future__ import annotations

import pandas as pd
import pytest

from retailcrm import customer_features, validate_transactions
from retailcrm.data import PERSONAS, sample_data
from retailcrm.exceptions import ConfigError


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return sample_data(2_000, seed=11)


def test_deterministic() -> None:
    a, b = sample_data(300, seed=3), sample_data(300, seed=3)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    assert not sample_data(300, seed=4).transactions.equals(a.transactions)


def test_frames_and_behaviours(data) -> None:  # type: ignore[no-untyped-def]
    tx = data.transactions
    assert set(data.customers["persona"]) == set(PERSONAS)
    assert tx["customer_id"].isin(data.customers["customer_id"]).all()
    assert tx["timestamp"].min() >= pd.Timestamp(data.start)
    assert tx["timestamp"].max() <= pd.Timestamp(data.end) + pd.Timedelta(days=1)
    assert 0.02 < (tx["amount"] < 0).mean() < 0.06  # some returns
    assert tx.groupby("order_id").size().max() > 1  # orders with several lines
    assert set(tx["channel"]) == {"store", "web", "app", "mini-program"}
    assert (tx["discount"] > 0).any()
    assert data.surveys["score"].between(0, 10).all()
    assert set(data.campaigns.columns) >= {"customer_id", "campaign_id", "responded"}
    assert (data.marketing_spend["spend"] > 0).all()
    assert validate_transactions(tx, as_of=data.end).ok


def test_behaviours_show_in_features(data) -> None:  # type: ignore[no-untyped-def]
    f = customer_features(data.transactions, as_of=data.end, customers=data.customers)
    by = f.groupby("persona")
    assert by["recency_days"].median()["churned"] > 300
    assert by["recency_days"].median()["loyal"] < 45
    assert by["frequency"].median()["loyal"] > by["frequency"].median()["occasional"]
    assert by["tenure_days"].max()["new"] <= 45
    # return share of one order never exceeds the order: refunds follow purchases
    assert (f["monetary"] >= -1e-9).mean() > 0.99


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="positive integer"):
        sample_data(0)
    with pytest.raises(ConfigError, match="must be after start"):
        sample_data(10, start="2024-01-01", end="2023-01-01")
