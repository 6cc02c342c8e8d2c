"""Pareto/NBD: published CDNOW estimates, lifetimes cross-check, heavy buyers vs mpmath."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retailcrm.models import ParetoNBDModel

# lifetimes 0.11.3 (numpy 1.26.4, pandas 1.5.3, scipy 1.12.0), ParetoNBDFitter on the same
# summary, sample ids 1, 2, 3, 18, 1516.
LT_IDS = [1, 2, 3, 18, 1516]
LT_P_ALIVE = [
    0.8691306398100338,
    0.16799655905459923,
    0.2951131108055876,
    0.2511940896485911,
    0.9978733439894033,
]
LT_EXP39 = [
    1.4551831164283868,
    0.17111330332496216,
    0.1070692560392952,
    0.25585435021623076,
    20.114646992070547,
]
LT_NEW39 = 1.2133972729601914


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> ParetoNBDModel:
    return ParetoNBDModel().fit(cdnow_summary)


def test_reproduces_published_cdnow_estimates(fitted: ParetoNBDModel) -> None:
    """Fader, Hardie & Lee (2005) / Fader & Hardie's Pareto/NBD note: r = 0.553,
    alpha = 10.578, s = 0.606, beta = 11.669, LL = -9595.0 (weeks, T to 1997-09-30)."""
    p = fitted.params_
    assert p["r"] == pytest.approx(0.553, rel=1e-3)
    assert p["alpha"] == pytest.approx(10.578, rel=1e-3)
    assert p["s"] == pytest.approx(0.606, rel=1e-3)
    assert p["beta"] == pytest.approx(11.669, rel=1e-3)
    assert fitted.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    assert fitted.standard_errors_["beta"] == pytest.approx(6.21, rel=2e-2)


def test_agrees_with_lifetimes(fitted: ParetoNBDModel, cdnow_summary: pd.DataFrame) -> None:
    sub = cdnow_summary.loc[LT_IDS]
    # lifetimes' own optimum differs in the 6th digit, so predictions agree to ~1e-4
    np.testing.assert_allclose(fitted.probability_alive(sub), LT_P_ALIVE, rtol=2e-4)
    np.testing.assert_allclose(fitted.expected_purchases(39, sub), LT_EXP39, rtol=2e-4)
    assert fitted.expected_purchases_new_customer(39) == pytest.approx(LT_NEW39, rel=2e-4)


def test_deterministic(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:500]
    assert ParetoNBDModel().fit(s).params_ == ParetoNBDModel().fit(s).params_


def _mp_loglik(
    r: float, alpha: float, s: float, beta: float, x: int, tx: float, T: float
) -> mp.mpf:
    mp.mp.dps = 50
    r, alpha, s, beta, tx, T = map(mp.mpf, (r, alpha, s, beta, tx, T))
    m = r + s + x

    def antiderivative(t: mp.mpf) -> mp.mpf:  # Fader & Hardie's note, the A0 hypergeometrics
        if alpha >= beta:
            return mp.hyp2f1(m, s + 1, m + 1, (alpha - beta) / (alpha + t)) / (alpha + t) ** m / m
        return mp.hyp2f1(m, r + x, m + 1, (beta - alpha) / (beta + t)) / (beta + t) ** m / m

    integral = antiderivative(tx) - antiderivative(T)
    bracket = (alpha + T) ** (-(r + x)) * (beta + T) ** (-s) + s * integral
    return (
        mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta) + mp.log(bracket)
    )


POINTS = [
    (132, 200.0, 200.0),
    (132, 150.0, 200.0),
    (500, 10.0, 365.0),
    (0, 0.0, 365.0),
    (40, 0.5, 300.0),
]
PARAMS = [(0.553, 10.578, 0.606, 11.669), (0.5, 1e3, 2.0, 0.1), (2.0, 0.05, 0.1, 500.0)]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize(("x", "tx", "T"), POINTS)
def test_loglik_matches_mpmath_for_extreme_customers(
    params: tuple[float, ...], x: int, tx: float, T: float
) -> None:
    m = ParetoNBDModel()
    d = m._prepare(
        {"frequency": np.array([float(x)]), "recency": np.array([tx]), "T": np.array([T])},
        np.ones(1),
    )
    got = -m._negloglik(np.log(np.array(params)), d, np.ones(1))
    ref = float(_mp_loglik(*params, x, tx, T))
    assert np.isfinite(got)
    assert got == pytest.approx(ref, rel=1e-10, abs=1e-9)


def test_heavy_buyer_probability_alive_is_finite(fitted: ParetoNBDModel) -> None:
    p = fitted.probability_alive(frequency=[132, 132], recency=[200, 100], T=[200, 200])
    assert np.all(np.isfinite(p))
    assert p[0] == pytest.approx(1.0)
    params = fitted.params_
    # P(alive) = P(T) / bracket, from the mpmath likelihood
    r, a, s, b = (mp.mpf(params[k]) for k in ("r", "alpha", "s", "beta"))
    full = _mp_loglik(params["r"], params["alpha"], params["s"], params["beta"], 132, 100.0, 200.0)
    const = mp.loggamma(r + 132) - mp.loggamma(r) + r * mp.log(a) + s * mp.log(b)
    ll_alive = const - (r + 132) * mp.log(a + 200) - s * mp.log(b + 200)
    assert p[1] == pytest.approx(float(mp.exp(ll_alive - full)), rel=1e-8)


def test_probability_of_purchases_sums_to_one_and_matches_mean(fitted: ParetoNBDModel) -> None:
    n = np.arange(0, 400)
    p = fitted.probability_of_purchases(n, 39.0)
    assert p.sum() == pytest.approx(1.0, abs=1e-6)
    assert (n * p).sum() == pytest.approx(fitted.expected_purchases_new_customer(39.0), rel=1e-4)


@settings(max_examples=30)
@given(x=st.integers(0, 300), tx=st.floats(0, 200), gap=st.floats(0, 200), t=st.floats(0, 400))
def test_invariants(fitted: ParetoNBDModel, x: int, tx: float, gap: float, t: float) -> None:
    tx = tx if x > 0 else 0.0
    T = tx + gap
    p = fitted.probability_alive(frequency=[x], recency=[tx], T=[T])[0]
    assert 0.0 <= p <= 1.0
    e = fitted.expected_purchases(
        np.array([t, t + 1.0]), frequency=[x, x], recency=[tx, tx], T=[T, T]
    )
    assert np.all(np.isfinite(e))
    assert 0 <= e[0] <= e[1]
