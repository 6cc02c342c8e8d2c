"""Holdout validation: CDNOW figures of Fader, Hardie & Lee (2005), hand checks, engines."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.models import (
    BetaGeoModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    btyd_summary,
    holdout_comparison,
    holdout_metrics,
    tracking_frame,
)

# lifetimes 0.11.3 (numpy 2.4.6, pandas 3.1.1, scipy 1.17.1; throw-away venv), BetaGeoFitter
# with our fitted CDNOW parameters:
# * conditional_expected_number_of_purchases_up_to_time(39, x, t_x, T) averaged over the
#   calibration-frequency buckets 0..7+;
# * expected_number_of_purchases_up_to_time((e_k - first purchase day) / 7) summed over the
#   customers born by the end e_k of weeks 1, 2, 3, 39 and 78 (plain pandas on the lines).
LT_BUCKET_PREDICTED = [0.22508733, 0.52313117, 1.04413412, 1.52027951, 2.1638658, 2.65384588,
                       3.5040423, 6.15719051]  # fmt: skip
LT_TRACKING = {1: 3.20878788, 2: 14.8672625, 3: 34.9522066, 39: 2493.95689, 78: 4160.60921}
# from the data (plain pandas): mean holdout purchases per bucket, bucket sizes
BUCKET_ACTUAL = [0.23671155, 0.69703872, 1.39252336, 1.56, 2.53225806, 2.94736842, 3.86206897,
                 6.359375]  # fmt: skip
BUCKET_SIZES = [1411, 439, 214, 100, 62, 38, 29, 64]


class LinearModel:
    """A stand-in transaction model with simple, hand-checkable expectations."""

    def expected_purchases(self, t: Any, *, frequency: Any, recency: Any, T: Any) -> Any:
        return 0.1 * np.asarray(t) * (np.asarray(frequency) + 1)

    def expected_purchases_new_customer(self, t: Any) -> Any:
        return 0.5 * np.asarray(t, dtype=float)


@pytest.fixture(scope="module")
def summary(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    return btyd_summary(
        cdnow_transactions, observation_end="1998-06-30", calibration_end="1997-09-30"
    )


@pytest.fixture(scope="module")
def model(summary: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(summary)


def test_cdnow_conditional_expectations(model: BetaGeoModel, summary: pd.DataFrame) -> None:
    """Fader, Hardie & Lee (2005), figure 4: BG/NBD follows the holdout purchases of each
    calibration-frequency group closely, predicting a little less than happened."""
    table = holdout_comparison(model, summary)
    assert table["label"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["n_customers"].tolist() == BUCKET_SIZES
    np.testing.assert_allclose(table["actual"], BUCKET_ACTUAL, rtol=1e-7)
    np.testing.assert_allclose(table["predicted"], LT_BUCKET_PREDICTED, rtol=1e-6)
    gap = table["actual"] - table["predicted"]
    assert (gap > 0).all() and (gap < 0.37).all()  # modest under-prediction everywhere


def test_cdnow_metrics(model: BetaGeoModel, summary: pd.DataFrame) -> None:
    m = holdout_metrics(model, summary)
    assert m["n_customers"] == 2357
    assert m["actual_total"] == 1882
    assert m["predicted_total"] == pytest.approx(1653.41, abs=0.01)
    assert m["relative_error"] == pytest.approx(1653.41 / 1882 - 1, abs=1e-5)
    assert m["mae"] == pytest.approx(0.78545, abs=1e-5)
    assert m["rmse"] == pytest.approx(1.60798, abs=1e-5)
    assert m["bucket_mae"] == pytest.approx(0.096984, abs=1e-6)


def test_cdnow_tracking(model: BetaGeoModel, cdnow_transactions: pd.DataFrame) -> None:
    """Fader, Hardie & Lee (2005), figure 3: cumulative repeat transactions, weeks 1 - 78."""
    track = tracking_frame(
        model, cdnow_transactions, observation_end="1998-06-30", calibration_end="1997-09-30"
    )
    assert len(track) == 78
    assert track["period_end"].iloc[38] == pd.Timestamp("1997-09-30")
    assert not track["holdout"].iloc[38] and track["holdout"].iloc[39]
    by_week = track.set_index("period")
    assert by_week.loc[[1, 2, 3, 39, 78], "actual_cumulative"].tolist() == [0, 19, 42, 2457, 4339]
    np.testing.assert_allclose(
        by_week.loc[list(LT_TRACKING), "expected_cumulative"],
        list(LT_TRACKING.values()),
        rtol=1e-7,
    )
    np.testing.assert_allclose(track["expected"].cumsum(), track["expected_cumulative"])
    # at the end of calibration the curve sums the fitted expectations E[X(T_i)]
    s = btyd_summary(cdnow_transactions, observation_end="1997-09-30")
    fitted_total = model.expected_purchases_new_customer(s["T"].to_numpy()).sum()
    assert by_week.loc[39, "expected_cumulative"] == pytest.approx(fitted_total, rel=1e-12)
    # the model tracks the calibration weeks and falls 4% short by week 78
    assert by_week.loc[78, "expected_cumulative"] / 4339 == pytest.approx(0.959, abs=1e-3)


@pytest.mark.parametrize("other", [ModifiedBetaGeoModel, ParetoNBDModel])
def test_other_transaction_models(
    other: type, model: BetaGeoModel, summary: pd.DataFrame, cdnow_transactions: pd.DataFrame
) -> None:
    """Any continuous-time model works; on CDNOW they predict the holdout alike (FHL 2005)."""
    fitted = other().fit(summary)
    total = holdout_metrics(fitted, summary)["predicted_total"]
    assert total == pytest.approx(holdout_metrics(model, summary)["predicted_total"], rel=0.06)
    track = tracking_frame(
        fitted, cdnow_transactions, observation_end="1998-06-30", calibration_end="1997-09-30"
    )
    assert track["expected_cumulative"].iloc[-1] == pytest.approx(4339, rel=0.08)


def test_holdout_comparison_hand_computed() -> None:
    summary = pd.DataFrame(
        {
            "frequency": [0, 0, 1, 2, 5],
            "recency": [0.0, 0.0, 1.0, 2.0, 4.0],
            "T": [5.0, 5.0, 5.0, 5.0, 5.0],
            "frequency_holdout": [0, 1, 1, 2, 4],
            "duration_holdout": [10.0] * 5,
        }
    )
    table = holdout_comparison(LinearModel(), summary, max_frequency=2)
    assert table["label"].tolist() == ["0", "1", "2+"]
    assert table["n_customers"].tolist() == [2, 1, 2]
    np.testing.assert_allclose(table["actual"], [0.5, 1.0, 3.0])
    np.testing.assert_allclose(table["predicted"], [1.0, 2.0, (3.0 + 6.0) / 2])
    m = holdout_metrics(LinearModel(), summary)
    assert m["actual_total"] == 8 and m["predicted_total"] == pytest.approx(13.0)
    assert m["mae"] == pytest.approx((1 + 0 + 1 + 1 + 2) / 5)
    assert m["bucket_mae"] == pytest.approx((2 * 0.5 + 1 * 1.0 + 2 * 1.5) / 5)


def test_tracking_hand_computed(constructor: Any) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-01",
                    "2024-01-09",
                    "2024-01-20",
                    "2024-01-03",
                    "2024-01-25",
                    "2024-01-10",
                ]
            ),
            "amount": [20.0, 5.0, 15.0, 30.0, 12.0, 18.0, 40.0],
        }
    )
    track = tracking_frame(
        LinearModel(), constructor(tx), observation_end="2024-01-24", calibration_end="2024-01-14"
    )
    assert isinstance(track, pd.DataFrame)
    assert track["period"].tolist() == [1, 2, 3, 4]
    assert track["period_end"].dt.strftime("%m-%d").tolist() == ["01-07", "01-14", "01-21", "01-24"]
    assert track["holdout"].tolist() == [False, False, True, True]
    assert track["actual"].tolist() == [0, 1, 1, 0]  # the 01-25 purchase is after the end
    # E[X(t)] = t / 2 weeks; first purchases on days 0, 2 and 9 after 2024-01-01
    ends = np.array([6, 13, 20, 23])
    want = sum(np.where(ends >= f, 0.5 * (ends - f) / 7, 0.0) for f in (0, 2, 9))
    np.testing.assert_allclose(track["expected_cumulative"], want)
    # without calibration_end every buyer is in the cohort and nothing is holdout
    everyone = tracking_frame(LinearModel(), tx, observation_end="2024-01-24", time_unit="D")
    assert len(everyone) == 24 and not everyone["holdout"].any()
    assert everyone["actual_cumulative"].iloc[-1] == 2


def test_errors(model: BetaGeoModel, summary: pd.DataFrame) -> None:
    before = summary.copy(deep=True)
    with pytest.raises(
        MissingColumnsError,
        match=r"'frequency_holdout' \(did you mean 'frequency'\?\), 'duration_holdout'.*calibration_end=",
    ):
        holdout_comparison(model, summary.drop(columns=["frequency_holdout", "duration_holdout"]))
    with pytest.raises(
        ConfigError,
        match=r"The 'max_frequency' parameter of holdout_comparison must be an int in \[1, inf\)\. Got 0 instead",
    ):
        holdout_comparison(model, summary, max_frequency=0)
    with pytest.raises(ConfigError, match="has no expected_purchases_new_customer"):
        tracking_frame(object(), summary, observation_end="1998-06-30")
    pd.testing.assert_frame_equal(summary, before)  # the calls above left the summary as it was
