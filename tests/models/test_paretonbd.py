"""Pareto/NBD: published CDNOW estimates, lifetimes cross-check, heavy buyers vs mpmath, and the
analytic gradient (central differences, mpmath)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retailcrm.models import ParetoNBDModel, _paretonbd

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
    alive = fitted.probability_alive(sub)["probability_alive"]
    np.testing.assert_allclose(alive, LT_P_ALIVE, rtol=2e-4)
    expected = fitted.expected_purchases(39, sub)["expected_purchases"]
    np.testing.assert_allclose(expected, LT_EXP39, rtol=2e-4)
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


# ---------------------------------------------------------------------------- analytic gradient
NAMES = ("r", "alpha", "s", "beta")
# Standard errors from the Hessian of the CDNOW log-likelihood computed independently with
# mpmath at 30 digits (hyp2f1 form above, central differences with step 1e-7 in the
# log-parameters) at the fitted optimum.
MP_SE = {
    "r": 0.04762792597913944,
    "alpha": 0.842722533816469,
    "s": 0.18728134231178514,
    "beta": 6.211113590600527,
}


def _one(x: float, tx: float, T: float) -> tuple[ParetoNBDModel, Any, np.ndarray]:
    m = ParetoNBDModel()
    w = np.ones(1)
    d = m._prepare(
        {"frequency": np.array([float(x)]), "recency": np.array([tx]), "T": np.array([T])}, w
    )
    return m, d, w


def _central(f: Callable[[np.ndarray], float], theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Five-point central differences."""
    g = np.empty(theta.size)
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = h
        g[i] = (f(theta - 2 * e) - 8 * f(theta - e) + 8 * f(theta + e) - f(theta + 2 * e)) / (
            12 * h
        )
    return g


CDNOW_POINTS = [*PARAMS, (1.0, 1.0, 1.0, 1.0), (0.05, 30.0, 5.0, 2.0), (30.0, 2.0, 0.5, 2.05)]


@pytest.mark.parametrize("params", CDNOW_POINTS)
def test_gradient_matches_central_differences_on_cdnow(
    cdnow_summary: pd.DataFrame, params: tuple[float, ...]
) -> None:
    """Both series branches (alpha >= beta, alpha < beta) and the quadrature are exercised."""
    from retailcrm.models._inputs import compress

    m = ParetoNBDModel()
    data = {c: cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T")}
    unique, counts, _ = compress(data)
    d = m._prepare(unique, counts)
    n = counts.sum()
    theta = np.log(np.array(params))
    value, grad = m._negloglik_and_grad(theta, d, counts)
    assert value == m._negloglik(theta, d, counts)
    numeric = _central(lambda t: m._negloglik(t, d, counts) / n, theta)
    np.testing.assert_allclose(grad / n, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize(("x", "tx", "T"), POINTS)
def test_gradient_matches_mpmath_for_extreme_customers(
    params: tuple[float, ...], x: int, tx: float, T: float
) -> None:
    m, d, w = _one(x, tx, T)
    theta = np.log(np.array(params))
    _, grad = m._negloglik_and_grad(theta, d, w)

    mp.mp.dps = 50

    def ll_at(i: int, step: mp.mpf) -> mp.mpf:
        p = [mp.mpf(q) for q in params]
        p[i] *= mp.exp(step)
        return _mp_loglik(p[0], p[1], p[2], p[3], x, tx, T)

    # central differences at 50 digits: the error is O(h^2) = 1e-30
    h = mp.mpf("1e-15")
    ref = [float((ll_at(i, h) - ll_at(i, -h)) / (2 * h)) for i in range(4)]
    np.testing.assert_allclose(-grad, ref, rtol=1e-8, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    log_params=st.lists(st.floats(-4.5, 4.5), min_size=4, max_size=4),
    x=st.integers(0, 300),
    tx=st.floats(0, 400),
    gap=st.floats(0, 400),
)
def test_gradient_matches_central_differences_property(
    log_params: list[float], x: int, tx: float, gap: float
) -> None:
    tx = tx if x > 0 else 0.0
    m, d, w = _one(x, tx, tx + gap)
    theta = np.array(log_params)
    value, grad = m._negloglik_and_grad(theta, d, w)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    numeric = _central(lambda t: m._negloglik(t, d, w), theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7 * max(1.0, abs(value)))


def test_blocks_and_classes_do_not_change_the_result(
    cdnow_summary: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Splitting the series and quadrature into small blocks changes nothing."""
    m = ParetoNBDModel()
    ext = pd.DataFrame(
        {
            "frequency": [132, 500, 0, 40, 3],
            "recency": [150.0, 10, 0, 0.5, 2],
            "T": [200.0, 365, 365, 300, 3],
        }
    )
    s = pd.concat([cdnow_summary[["frequency", "recency", "T"]], ext])
    data = {c: s[c].to_numpy(float) for c in ("frequency", "recency", "T")}
    w = np.ones(len(s))
    d = m._prepare(data, w)
    thetas = [np.log(np.array(p)) for p in CDNOW_POINTS]
    before = [m._negloglik_and_grad(t, d, w) for t in thetas]
    monkeypatch.setattr(_paretonbd, "_BLOCK", 97)
    after = [m._negloglik_and_grad(t, d, w) for t in thetas]
    for (v0, g0), (v1, g1) in zip(before, after, strict=True):
        assert v1 == pytest.approx(v0, rel=1e-14)
        np.testing.assert_allclose(g1, g0, rtol=1e-12, atol=1e-9)


def test_fit_is_at_a_stationary_point_with_accurate_standard_errors(
    fitted: ParetoNBDModel, cdnow_summary: pd.DataFrame
) -> None:
    theta = np.log(np.array([fitted.params_[k] for k in NAMES]))
    m = ParetoNBDModel()
    w = np.ones(len(cdnow_summary))
    d = m._prepare({c: cdnow_summary[c].to_numpy(float) for c in ("frequency", "recency", "T")}, w)
    _, grad = m._negloglik_and_grad(theta, d, w)
    assert np.max(np.abs(grad)) < 1e-7  # total log-likelihood, 2,357 customers
    for k in NAMES:
        assert fitted.standard_errors_[k] == pytest.approx(MP_SE[k], rel=1e-6)


def test_time_unit_only_rescales_alpha_and_beta(
    fitted: ParetoNBDModel, cdnow_summary: pd.DataFrame
) -> None:
    days = cdnow_summary.assign(recency=cdnow_summary["recency"] * 7, T=cdnow_summary["T"] * 7)
    m = ParetoNBDModel().fit(days)
    for k, scale in [("r", 1), ("alpha", 7), ("s", 1), ("beta", 7)]:
        assert m.params_[k] == pytest.approx(fitted.params_[k] * scale, rel=1e-7)
    # purchase-time densities scale by 1/7 per repeat purchase
    shift = cdnow_summary["frequency"].sum() * np.log(7)
    assert m.log_likelihood_ == pytest.approx(fitted.log_likelihood_ - shift, rel=1e-12)


# ---------------------------------------------------------------- conditional purchase PMF
# lifetimes 0.11.3 ParetoNBDFitter.conditional_probability_of_n_purchases_up_to_time (Fader &
# Hardie's note 028, equation 16) with params_ set to this model's CDNOW estimates
# (r 0.5532770468531746, alpha 10.577683463302314, s 0.6062399891279155, beta 11.66873528885792),
# sample ids LT_IDS, n = 0..3, t = 39 weeks.
LT_COND39 = [
    [0.4080736497977801, 0.2192651622425636, 0.15174824789637523, 0.09565623149652923],
    [0.9133546843659509, 0.043132756332936284, 0.022149413592717503, 0.01104762867489885],
    [0.9307277549017365, 0.04588571817197876, 0.014675785750664416, 0.005314617156557695],
    [0.8704437409413729, 0.06449417966210937, 0.03311887254857109, 0.016518947759782406],
    [0.023862776174901023, 0.02052444357102392, 0.019419683825706937, 0.018412165594940712],
]
HEAVY: dict[str, list[float]] = {
    "frequency": [0, 2, 29, 132, 132],
    "recency": [0.0, 30, 38, 200, 100],
    "T": [38.0, 32, 38.5, 200, 200],
}


def test_conditional_pmf_matches_lifetimes(
    fitted: ParetoNBDModel, cdnow_summary: pd.DataFrame
) -> None:
    sub = cdnow_summary.loc[LT_IDS]
    name = "conditional_probability_of_purchases"
    got = [fitted.conditional_probability_of_purchases(n, 39.0, sub)[name] for n in range(4)]
    np.testing.assert_allclose(np.column_stack(got), LT_COND39, rtol=1e-6)


@pytest.mark.parametrize("t", [0.5, 39.0, 200.0])
def test_conditional_pmf_sums_to_one_with_mean_expected_purchases(
    fitted: ParetoNBDModel, t: float
) -> None:
    n = np.arange(0, 800)[:, None]
    p = fitted.conditional_probability_of_purchases(n, t, **HEAVY)
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=1e-11)
    np.testing.assert_allclose(
        (n * p).sum(axis=0), fitted.expected_purchases(t, **HEAVY), rtol=1e-10
    )


def test_conditional_pmf_of_heavy_buyer_matches_mpmath(fitted: ParetoNBDModel) -> None:
    """Alive: the new-customer PMF with (r+x, alpha+T, s, beta+T), integrated by mpmath over
    the Pareto lifetime; lifetimes' closed form breaks down here (hypergeometric overflow)."""
    x, tx, T, t = 132, 190.0, 200.0, 39.0
    alive = fitted.probability_alive(frequency=[x], recency=[tx], T=[T])[0]
    got = fitted.conditional_probability_of_purchases(
        np.array([0, 5, 10, 20]), t, frequency=[x] * 4, recency=[tx] * 4, T=[T] * 4
    )
    mp.mp.dps = 30
    r, a, s, b = (mp.mpf(fitted.params_[k]) for k in NAMES)
    r, a, b = r + x, a + T, b + T

    def nb(n: int, tau: mp.mpf) -> mp.mpf:
        q = a / (a + tau)
        return (
            mp.exp(mp.loggamma(r + n) - mp.loggamma(r) - mp.loggamma(n + 1)) * q**r * (1 - q) ** n
        )

    def density(tau: mp.mpf) -> mp.mpf:  # of the remaining lifetime
        return s / b * (b / (b + tau)) ** (s + 1)

    for n, value in zip([0, 5, 10, 20], got, strict=True):
        fresh = (b / (b + t)) ** s * nb(n, mp.mpf(t)) + mp.quad(
            lambda tau, n=n: density(tau) * nb(n, tau), [0, t]
        )
        ref = float(alive * fresh + (1 - alive) * (n == 0))
        assert value == pytest.approx(ref, rel=1e-9, abs=1e-15)


def test_conditional_pmf_of_a_new_customer_is_the_unconditional_pmf(
    fitted: ParetoNBDModel,
) -> None:
    n = np.arange(6)
    got = fitted.conditional_probability_of_purchases(
        n, 20.0, frequency=[0] * 6, recency=[0] * 6, T=[0] * 6
    )
    np.testing.assert_allclose(got, fitted.probability_of_purchases(n, 20.0), rtol=1e-13)
    zero = fitted.conditional_probability_of_purchases(
        [0, 1], 0.0, **{k: v[:2] for k, v in HEAVY.items()}
    )
    np.testing.assert_allclose(zero, [1.0, 0.0])
