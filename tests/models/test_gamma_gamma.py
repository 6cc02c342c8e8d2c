"""Gamma-Gamma: published CDNOW estimates, lifetimes cross-check, likelihood, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import special
from sklearn.base import clone

from retailcrm.exceptions import (
    ConvergenceError,
    DataQualityWarning,
    IdentifiabilityWarning,
    InvalidDataError,
    NotFittedError,
)
from retailcrm.models import GammaGammaModel, btyd_summary
from retailcrm.models._base import LOG_BOUND

# lifetimes 0.11.3 (with numpy 2.4.6, pandas 3.1.1, scipy 1.17.1, in a throw-away venv),
# GammaGammaFitter().fit on the same 946 repeat buyers (btyd_summary of the CDNOW sample,
# calibration to 1997-09-30): params_ and conditional_expected_average_profit for the
# sample ids below (ids 3 and 2357 have no repeat purchase: the population mean).
LT_PARAMS = {"p": 6.249572277633592, "q": 3.7442246747587236, "gamma": 15.443521018370207}
LT_IDS = [1, 2, 3, 18, 100, 1000, 2357]
LT_SPEND = [24.6539187, 18.91001845, 35.17037127, 17.67313944, 28.95097445, 18.13056976,
            35.17037127]  # fmt: skip


@pytest.fixture(scope="module")
def summary(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    return btyd_summary(cdnow_transactions, observation_end="1997-09-30")


@pytest.fixture(scope="module")
def fitted(summary: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(summary[summary["frequency"] > 0])


def test_reproduces_fader_hardie_2013(fitted: GammaGammaModel) -> None:
    """Fader & Hardie (2013), Fader, Hardie & Lee (2005): p = 6.25, q = 3.74, gamma = 15.44 on
    the 946 repeat buyers, m_x = mean of the repeat purchase days' totals."""
    p = fitted.params_
    assert list(p) == ["p", "q", "gamma"]
    assert f"{p['p']:.3g}" == "6.25"
    assert f"{p['q']:.3g}" == "3.74"
    assert f"{p['gamma']:.4g}" == "15.44"
    assert fitted.n_customers_ == 946
    assert fitted.log_likelihood_ == pytest.approx(-4055.92, abs=0.01)
    assert fitted.aic_ == pytest.approx(6 + 2 * 4055.918, abs=0.01)
    assert fitted.bic_ == pytest.approx(3 * np.log(946) + 2 * 4055.918, abs=0.01)
    se = fitted.standard_errors_
    assert se["p"] == pytest.approx(1.190, rel=1e-2)
    assert se["q"] == pytest.approx(0.2901, rel=1e-2)
    assert se["gamma"] == pytest.approx(4.159, rel=1e-2)


def test_other_mx_conventions_do_not_reproduce_it(cdnow_transactions: pd.DataFrame) -> None:
    """Averaging over repeat *lines* instead of repeat *days* gives p = 6.05: the published
    estimates need the day-level convention of btyd_summary."""
    tx = cdnow_transactions[cdnow_transactions["timestamp"] <= "1997-09-30"]
    first = tx.groupby("customer_id")["timestamp"].transform("min")
    repeat_lines = tx[tx["timestamp"] > first].groupby("customer_id")["amount"].mean()
    s = btyd_summary(cdnow_transactions, observation_end="1997-09-30").set_index("customer_id")
    buyers = s[s["frequency"] > 0]
    lines = GammaGammaModel().fit(
        frequency=buyers["frequency"], monetary_value=repeat_lines.loc[buyers.index]
    )
    assert lines.params_["p"] == pytest.approx(6.054, abs=0.01)


def test_agrees_with_lifetimes(fitted: GammaGammaModel, summary: pd.DataFrame) -> None:
    for name, value in LT_PARAMS.items():
        assert fitted.params_[name] == pytest.approx(value, rel=1e-6)
    sub = summary.set_index("customer_id", drop=False).loc[LT_IDS]
    spend = fitted.expected_spend(sub)
    assert spend["customer_id"].tolist() == LT_IDS
    np.testing.assert_allclose(spend["expected_spend"], LT_SPEND, rtol=1e-6)


def test_log_likelihood_matches_the_formula(fitted: GammaGammaModel, summary: pd.DataFrame) -> None:
    """Fader & Hardie (2013), equation (3) with the Jacobian of the mean, evaluated plainly."""
    p, q, g = fitted.params_["p"], fitted.params_["q"], fitted.params_["gamma"]
    r = summary[summary["frequency"] > 0]
    x, m = r["frequency"].to_numpy(float), r["monetary_value"].to_numpy()
    ll = (
        special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
        + q * np.log(g) + (p * x - 1) * np.log(m) + p * x * np.log(x)
        - (p * x + q) * np.log(g + x * m)
    )  # fmt: skip
    assert fitted.log_likelihood_ == pytest.approx(ll.sum(), rel=1e-10)


def test_expected_spend_formula_and_inputs(fitted: GammaGammaModel) -> None:
    p, q, g = fitted.params_["p"], fitted.params_["q"], fitted.params_["gamma"]
    got = fitted.expected_spend(frequency=[0, 3], monetary_value=[0.0, 50.0])
    np.testing.assert_allclose(got, [p * g / (q - 1), p * (g + 150) / (3 * p + q - 1)])
    frame = pl.DataFrame(
        {"customer_id": [7, 8], "frequency": [0, 3], "monetary_value": [0.0, 50.0]}
    ).lazy()
    spend = fitted.expected_spend(frame)
    assert isinstance(spend, pl.LazyFrame)
    np.testing.assert_allclose(spend.collect()["expected_spend"].to_numpy(), got)


def test_weights_equal_repeated_rows() -> None:
    # 40 repeat buyers drawn from the model (p = 6, q = 4, gamma = 15); this draw identifies
    # all three parameters (relative standard errors below 1), so the fits do not warn
    rng = np.random.default_rng(2)
    x = rng.integers(1, 8, 40)
    m = np.round(rng.gamma(6.0 * x, 1 / (x * rng.gamma(4.0, 1 / 15.0, 40))), 2)
    w = rng.integers(1, 4, 40)
    weighted = GammaGammaModel().fit(frequency=x, monetary_value=m, weights=w)
    repeated = GammaGammaModel().fit(frequency=np.repeat(x, w), monetary_value=np.repeat(m, w))
    for k in ("p", "q", "gamma"):
        assert weighted.params_[k] == pytest.approx(repeated.params_[k], rel=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-10)


def test_input_is_not_mutated(summary: pd.DataFrame) -> None:
    repeat = summary[summary["frequency"] > 0].copy()
    before = repeat.copy()
    GammaGammaModel().fit(repeat)
    pd.testing.assert_frame_equal(repeat, before)


def test_rejects_customers_without_repeat_spend(summary: pd.DataFrame) -> None:
    with pytest.raises(
        InvalidDataError,
        match=r"frequency is 0 at rows \[2, 3, 4, 7, 9\] \(and 1406 more\).*"
        r"Fix: fit on repeat buyers: summary\[summary.frequency > 0\]",
    ):
        GammaGammaModel().fit(summary)
    with pytest.raises(InvalidDataError, match=r"monetary_value is not positive at row \[1\]"):
        GammaGammaModel().fit(frequency=[2, 1], monetary_value=[10.0, 0.0])
    with pytest.raises(InvalidDataError, match="frequency is not a whole number"):
        GammaGammaModel().fit(frequency=[2, 1.5], monetary_value=[10.0, 3.0])


def test_identical_spend_warns_and_predicts_that_spend() -> None:
    # identical means: no spread at all, so the likelihood grows without bound in p and q
    with pytest.warns(
        IdentifiabilityWarning,
        match=r"all 8 repeat buyers have the same monetary_value, 20, so the data do not "
        r"identify the parameters p, q, gamma: .*Fix: .*penalizer",
    ):
        model = GammaGammaModel().fit(frequency=[1, 2, 5, 1, 3, 2, 4, 1], monetary_value=[20.0] * 8)
    assert model.params_["p"] == model.params_["q"] == pytest.approx(np.exp(LOG_BOUND))
    assert all(np.isnan(v) for v in model.standard_errors_.values())
    spend = model.expected_spend(frequency=[0, 1, 7], monetary_value=[0.0, 20.0, 20.0])
    np.testing.assert_allclose(spend, 20.0, rtol=1e-12)


def test_infinite_expected_spend_warns() -> None:
    """Spend so heavy-tailed that q < 1: the prior mean p gamma / (q - 1) is infinite, so a
    customer without repeat purchases gets inf, and the caller is told (never a silent inf)."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, 2_000)
    nu = rng.gamma(0.7, 1 / 15.0, x.size)  # the model's own process, with q = 0.7
    m = rng.gamma(6.0 * x, 1 / (x * nu))
    model = GammaGammaModel().fit(frequency=x, monetary_value=m)
    p, q, g = (model.params_[k] for k in ("p", "q", "gamma"))
    assert q < 1 < p + q  # frequency 0 has no finite mean, frequency 1 has
    with pytest.warns(
        DataQualityWarning,
        match=r"1 customer with frequency <= 0 gets expected_spend inf, because the fitted q = "
        r"0\.\d+ makes p \* frequency \+ q - 1 <= 0.*Fix: ",
    ):
        spend = model.expected_spend(frequency=[0, 1, 3], monetary_value=[0.0, 50.0, 80.0])
    assert spend[0] == np.inf
    expected = [p * (g + k * v) / (p * k + q - 1) for k, v in ((1, 50.0), (3, 80.0))]
    np.testing.assert_allclose(spend[1:], expected, rtol=1e-12)


def test_convergence_error_says_what_to_try() -> None:
    with pytest.raises(ConvergenceError, match=r"did not converge.*Try: a small penalizer"):
        GammaGammaModel(max_iter=1).fit(
            frequency=[3, 4, 6, 2, 5, 3], monetary_value=[8, 15, 60, 25, 120, 40], weights=[10] * 6
        )


def test_penalizer_keeps_unidentified_fits_finite() -> None:
    # no warning (the suite turns warnings into errors): the penalty pins the parameters,
    # but the data alone still give no standard errors
    model = GammaGammaModel(penalizer=0.01).fit(
        frequency=[1, 2, 5, 1, 3, 2, 4, 1], monetary_value=[20.0] * 8
    )
    assert all(np.isfinite(v) for v in model.params_.values())
    assert all(np.isnan(v) for v in model.standard_errors_.values())


def test_estimator_protocol() -> None:
    model = GammaGammaModel(penalizer=0.1, max_iter=50)
    assert clone(model).get_params() == {"initial_params": None, "max_iter": 50, "penalizer": 0.1}
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.expected_spend(frequency=[1], monetary_value=[3.0])
    start = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    data = {"frequency": [3, 4, 6, 2, 5, 3], "monetary_value": [8, 15, 60, 25, 120, 40]}
    fitted = GammaGammaModel(initial_params=start).fit(**data, weights=[10] * 6)
    assert "GammaGammaModel(initial_params=" in repr(fitted)
    assert fitted.params_["p"] == pytest.approx(
        GammaGammaModel().fit(**data, weights=[10] * 6).params_["p"], rel=1e-5
    )
