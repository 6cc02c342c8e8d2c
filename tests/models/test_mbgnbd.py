"""MBG/NBD: no published CDNOW estimate, so lifetimes' ModifiedBetaGeoFitter is the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retailcrm.models import BetaGeoModel, ModifiedBetaGeoModel

# lifetimes 0.11.3 (numpy 1.26.4, pandas 1.5.3, scipy 1.12.0), ModifiedBetaGeoFitter on the
# CDNOW calibration summary (weeks); sample ids 1, 2, 3, 18, 1516.
LT_PARAMS = {
    "r": 0.5248429031495594,
    "alpha": 6.1830817643990565,
    "a": 0.8913595172712871,
    "b": 1.6140029311985913,
}
LT_IDS = [1, 2, 3, 18, 1516]
LT_P_ALIVE = [
    0.7061384907953507,
    0.17095108033104392,
    0.38972310430887597,
    0.2557731281541836,
    0.9654846449716112,
]
LT_EXP39 = [
    1.2627588401713379,
    0.18894488774744764,
    0.15396600986398326,
    0.28269505459878513,
    19.4466084379318,
]
LT_NEW39 = 1.1822798470838118


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> ModifiedBetaGeoModel:
    return ModifiedBetaGeoModel().fit(cdnow_summary)


def test_matches_lifetimes_estimates(fitted: ModifiedBetaGeoModel) -> None:
    for k, v in LT_PARAMS.items():
        assert fitted.params_[k] == pytest.approx(v, rel=2e-4)
    # at lifetimes' optimum the log-likelihood is -9582.14, BG/NBD's is -9582.43
    assert fitted.log_likelihood_ == pytest.approx(-9582.14, abs=0.01)


def test_predictions_match_lifetimes(
    fitted: ModifiedBetaGeoModel, cdnow_summary: pd.DataFrame
) -> None:
    sub = cdnow_summary.loc[LT_IDS]
    alive = fitted.probability_alive(sub)["probability_alive"]
    np.testing.assert_allclose(alive, LT_P_ALIVE, rtol=5e-4)
    expected = fitted.expected_purchases(39, sub)["expected_purchases"]
    np.testing.assert_allclose(expected, LT_EXP39, rtol=5e-4)
    assert fitted.expected_purchases_new_customer(39) == pytest.approx(LT_NEW39, rel=5e-4)


def test_zero_repeat_customers_may_be_dead(fitted: ModifiedBetaGeoModel) -> None:
    p = fitted.probability_alive(frequency=[0], recency=[0], T=[0])[0]
    b = fitted.params_["b"]
    assert p == pytest.approx(b / (b + fitted.params_["a"]))
    bgnbd = BetaGeoModel().fit(
        frequency=[0, 1, 4, 5, 6, 7],
        recency=[0, 1, 10, 9, 3, 3],
        T=12,
        weights=[52, 52, 5, 5, 6, 15],
    )
    assert bgnbd.probability_alive(frequency=[0], recency=[0], T=[30])[0] == 1.0


def test_probability_of_purchases_is_a_distribution(fitted: ModifiedBetaGeoModel) -> None:
    n = np.arange(0, 300)
    p = fitted.probability_of_purchases(n, 39.0)
    assert p.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * p).sum() == pytest.approx(fitted.expected_purchases_new_customer(39.0), rel=1e-8)
