"""Churn risk: the training frame, the calibrated classifier and its BG/NBD baselines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from helpers import assert_equal_data, assert_same_kind
from retailcrm.data import sample_data
from retailcrm.exceptions import (
    ConfigError,
    ConvergenceError,
    InvalidDataError,
    MissingColumnsError,
    NotFittedError,
)
from retailcrm.models import ChurnModel, btyd_summary, churn_training_frame
from retailcrm.models._churn import top_decile_lift


@pytest.fixture(autouse=True)
def _one_openmp_thread() -> Iterator[None]:
    """Gradient boosting's OpenMP threads spin badly on a busy CI machine; one is plenty."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "bob", "bob", "cy", "dan", "dan", "eve", "eve", "fay"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-05",
                    "2024-03-02",
                    "2024-02-11",
                    "2024-06-29",
                    "2024-04-15",
                    "2024-03-31",
                    "2024-07-01",
                    "2024-02-01",
                    "2024-02-03",
                    "2024-03-01",
                ]
            ),
            "amount": [40.0, 25.0, 60.0, 35.0, 20.0, 15.0, 30.0, 50.0, -50.0, -10.0],
        }
    )


def test_training_frame_hand_computed(tx: pd.DataFrame) -> None:
    frame = churn_training_frame(tx, cutoff="2024-03-31", horizon_days=90)
    # cy buys only after the cutoff; fay only has a refund
    assert frame["customer_id"].tolist() == ["ann", "bob", "dan", "eve"]
    # bob buys on the window's last day (06-29); dan only on 07-01, one day after it
    assert frame["churned"].tolist() == [True, False, True, True]
    assert frame["frequency"].tolist() == [2, 1, 1, 1]
    assert frame["recency_days"].tolist() == [29, 49, 0, 59]
    np.testing.assert_allclose(frame["btyd_T"], [86 / 7, 49 / 7, 0.0, 59 / 7])
    assert frame.columns[-4:].tolist() == ["btyd_frequency", "btyd_recency", "btyd_T", "churned"]
    assert frame["churned"].dtype == bool


def test_training_frame_engine_parity(constructor: Any, tx: pd.DataFrame) -> None:
    native = constructor(tx)
    got = churn_training_frame(native, cutoff="2024-03-31", horizon_days=90)
    assert_same_kind(got, native)
    assert_equal_data(got, churn_training_frame(tx, cutoff="2024-03-31", horizon_days=90))


def test_training_frame_errors(tx: pd.DataFrame) -> None:
    with pytest.raises(
        ConfigError,
        match=r"The 'horizon_days' parameter of churn_training_frame must be an int in \[1, inf\)\. Got 0 instead",
    ):
        churn_training_frame(tx, cutoff="2024-03-31", horizon_days=0)
    with pytest.raises(ConfigError, match="cutoff is required"):
        churn_training_frame(tx, cutoff=None, horizon_days=30)


def test_top_decile_lift() -> None:
    y = [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert top_decile_lift(y, np.arange(10, 0, -1)) == pytest.approx(5.0)  # top 1 of 10
    assert top_decile_lift(y, np.ones(10)) == pytest.approx(1.0)  # all tied: random
    assert np.isnan(top_decile_lift([0, 0], [0.1, 0.2]))
    y20 = np.r_[np.ones(4), np.zeros(16)]
    assert top_decile_lift(y20, -np.arange(20)) == pytest.approx(1.0 / 0.2)  # top 2 churned


# ------------------------------------------------------------------------------------ CDNOW
@pytest.fixture(scope="module")
def cdnow_frame(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    return churn_training_frame(cdnow_transactions, cutoff="1997-09-30", horizon_days=273)


def test_cdnow_frame(cdnow_frame: pd.DataFrame, cdnow_transactions: pd.DataFrame) -> None:
    # the 8 customers whose only first-quarter purchase cost $0 have no purchase occasion in
    # customer_features, so 2,349 of the 2,357 BTYD customers remain
    assert len(cdnow_frame) == 2349
    assert int(cdnow_frame["churned"].sum()) == 1665
    s = btyd_summary(
        cdnow_transactions, observation_end="1998-06-30", calibration_end="1997-09-30"
    ).set_index("customer_id")
    holdout = s.loc[cdnow_frame["customer_id"], "frequency_holdout"].to_numpy()
    np.testing.assert_array_equal(cdnow_frame["churned"].to_numpy(), holdout == 0)
    np.testing.assert_allclose(
        cdnow_frame["btyd_T"], s.loc[cdnow_frame["customer_id"], "T"].to_numpy()
    )


def test_cdnow_model_against_bgnbd(cdnow_frame: pd.DataFrame) -> None:
    """Same cutoff, customers split in two halves by id: the classifier against BG/NBD."""
    train = cdnow_frame[cdnow_frame["customer_id"] % 2 == 0]
    test = cdnow_frame[cdnow_frame["customer_id"] % 2 == 1]
    report = ChurnModel().fit(train).evaluate(test, horizon_days=273)
    assert report.index.tolist() == ["model", "bg_nbd", "bg_nbd_no_purchase"]
    assert report["n_customers"].tolist() == [1174.0] * 3
    assert report.loc["model", "churn_rate"] == pytest.approx(835 / 1174)
    assert report.loc["model", "auc"] == pytest.approx(0.749, abs=0.01)
    assert report.loc["model", "brier"] == pytest.approx(0.172, abs=0.005)
    # 1 - P(alive) ranks one-time buyers (P(alive) = 1) as the safest: worse than random here
    assert report.loc["bg_nbd", "auc"] == pytest.approx(0.3298, abs=1e-4)
    assert report.loc["bg_nbd_no_purchase", "auc"] == pytest.approx(0.7558, abs=1e-4)
    assert report.loc["bg_nbd_no_purchase", "brier"] == pytest.approx(0.1610, abs=1e-4)


def test_the_baseline_is_bgnbd_in_weeks(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The baselines are BetaGeoModel's own predictions on the btyd_* columns (weeks):
    1 - probability_alive, and the conditional probability of no purchase in the horizon."""
    train, test = split
    imputed = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    model = ChurnModel(imputed, cv=3).fit(train)
    assert model.baseline_ is not None and model.baseline_.time_unit_ == "W"
    report = model.evaluate(test, horizon_days=90)
    arrays = {
        "frequency": test["btyd_frequency"].to_numpy(),
        "recency": test["btyd_recency"].to_numpy(),
        "T": test["btyd_T"].to_numpy(),
    }
    quiet = model.baseline_.conditional_probability_of_purchases(
        0, 90, **{k: v * 7 for k, v in arrays.items() if k != "frequency"},
        frequency=arrays["frequency"], time_unit="D",
    )  # fmt: skip
    churned = test["churned"].to_numpy()
    brier = float(np.mean((quiet - churned) ** 2))
    assert report.loc["bg_nbd_no_purchase", "brier"] == pytest.approx(brier, rel=1e-12)
    alive = model.baseline_.probability_alive(**arrays)
    assert report.loc["bg_nbd", "brier"] == pytest.approx(
        float(np.mean((1 - alive - churned) ** 2)), rel=1e-12
    )


# ----------------------------------------------------------------------------- sample data
@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A time-based split: train labels end (06-29) before the test features' cutoff (06-30)."""
    tx = sample_data(2000, seed=11).transactions
    train = churn_training_frame(tx, cutoff="2024-03-31", horizon_days=90)
    test = churn_training_frame(tx, cutoff="2024-06-30", horizon_days=90)
    return train, test


def test_time_based_split_on_sample_data(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = split
    model = ChurnModel().fit(train)
    assert "churned" not in model.feature_names_in_
    assert "customer_id" not in model.feature_names_in_
    assert "btyd_T" in model.feature_names_in_ and "top_category" not in model.feature_names_in_
    report = model.evaluate(test, horizon_days=90)
    rate = report.loc["model", "churn_rate"]
    assert report.loc["model", "auc"] > 0.65
    assert report.loc["model", "auc"] > report.loc["bg_nbd", "auc"]
    assert report.loc["model", "brier"] < rate * (1 - rate)  # beats the constant forecast
    assert report.loc["model", "top_decile_lift"] > 1.2
    proba = model.predict_proba(test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(model.predict(test), proba[:, 1] >= 0.5)
    # any engine's frame works, with the columns in any order
    shuffled = pl.from_pandas(test[test.columns[::-1]]).lazy()
    np.testing.assert_allclose(model.predict_proba(shuffled), proba)


def test_sigmoid_calibration_and_custom_estimator(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = split
    features = ["recency_days", "frequency", "monetary", "tenure_days"]
    model = ChurnModel(
        make_pipeline(StandardScaler(), LogisticRegression()), calibration="sigmoid", cv=3
    ).fit(train[["customer_id", *features, "churned"]])
    assert list(model.feature_names_in_) == features
    assert model.baseline_ is None  # no btyd_* columns, no baseline
    report = model.evaluate(test)
    assert report.index.tolist() == ["model"]
    assert report.loc["model", "auc"] > 0.6


def test_estimator_contract(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    model = ChurnModel(calibration="sigmoid", cv=3, baseline=False)
    assert clone(model).get_params()["calibration"] == "sigmoid"
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict_proba(split[1])
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = X[:, 1] + rng.normal(size=300) > 0
    pipe = make_pipeline(StandardScaler(), ChurnModel(LogisticRegression(), cv=3, baseline=False))
    pipe.fit(X, y)
    assert pipe.predict_proba(X).shape == (300, 2)
    assert pipe.score(X, y) > 0.6  # ClassifierMixin accuracy


def test_fit_errors(split: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, _ = split
    with pytest.raises(ConfigError, match=r"'calibration' parameter .* Got 'platt'"):
        ChurnModel(calibration="platt").fit(train)  # type: ignore[arg-type]
    with pytest.raises(MissingColumnsError, match="'churned'"):
        ChurnModel().fit(train.drop(columns="churned"))
    with pytest.raises(InvalidDataError, match="0 churned and 20 retained customers"):
        ChurnModel().fit(np.ones((20, 2)), np.zeros(20, dtype=bool))
    with pytest.raises(InvalidDataError, match="y must be Boolean or 0/1"):
        ChurnModel().fit(np.ones((3, 2)), ["yes", "no", "yes"])
    rng = np.random.default_rng(0)
    no_repeat = pd.DataFrame(
        {
            "customer_id": range(40),
            "f": rng.normal(size=40),
            "btyd_frequency": 0,
            "btyd_recency": 0.0,
            "btyd_T": rng.uniform(1, 20, 40),
            "churned": rng.random(40) > 0.5,
        }
    )
    with pytest.raises(ConvergenceError, match=r"BG/NBD baseline .* ChurnModel\(baseline=False\)"):
        ChurnModel(LogisticRegression(), cv=3).fit(no_repeat)
    assert ChurnModel(LogisticRegression(), cv=3, baseline=False).fit(no_repeat).baseline_ is None
    imputed = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    fitted = ChurnModel(imputed, cv=3).fit(train)
    with pytest.raises(MissingColumnsError, match="'recency_days'"):
        fitted.predict_proba(train.drop(columns="recency_days"))
