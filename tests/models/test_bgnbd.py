"""BG/NBD: published CDNOW estimates, lifetimes cross-check, invariants, stability."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from retailcrm.exceptions import NotFittedError
from retailcrm.models import BetaGeoModel, ModifiedBetaGeoModel

# lifetimes 0.11.3 (numpy 1.26.4, pandas 1.5.3, scipy 1.12.0), BetaGeoFitter on the same
# summary, for sample ids 1, 2, 3, 18, 1516: conditional_probability_alive and
# conditional_expected_number_of_purchases_up_to_time(39).
LT_IDS = [1, 2, 3, 18, 1516]
LT_P_ALIVE = [0.7266202977882547, 0.21239102434936916, 1.0, 0.31085573587084264, 0.9688544473027222]
LT_EXP39 = [
    1.22599442967171,
    0.203418827605299,
    0.19479364221264606,
    0.2977240188889231,
    20.7489039039309,
]
LT_NEW39 = 1.1950099744790217
LT_PN39 = [0.5743071606916326, 0.19919254313800783, 0.08532292342736154, 0.01793848014602527]


@pytest.fixture(scope="module")
def fitted(cdnow_summary: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(cdnow_summary)


def test_cdnow_summary_has_2357_customers(cdnow_summary: pd.DataFrame) -> None:
    assert len(cdnow_summary) == 2357
    assert int(cdnow_summary["frequency"].sum()) == 2457


def test_reproduces_fader_hardie_lee_2005(fitted: BetaGeoModel) -> None:
    """Fader, Hardie & Lee (2005): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
    LL = -9582.4, with T measured from the first purchase to 1997-09-30 in weeks (38.86 weeks
    for a 1 January customer); measuring to 1997-10-01 gives LL = -9589.9 instead."""
    p = fitted.params_
    assert p["r"] == pytest.approx(0.2426, rel=1e-3)
    assert p["alpha"] == pytest.approx(4.414, rel=1e-3)
    assert p["a"] == pytest.approx(0.793, rel=1e-3)
    assert p["b"] == pytest.approx(2.426, rel=1e-3)
    assert fitted.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert fitted.n_customers_ == 2357
    assert fitted.aic_ == pytest.approx(2 * 4 + 2 * 9582.43, abs=0.1)
    se = fitted.standard_errors_  # lifetimes' summary: 0.0126, 0.378, 0.186, 0.705
    assert se["r"] == pytest.approx(0.01256, rel=1e-2)
    assert se["b"] == pytest.approx(0.7054, rel=1e-2)


def test_agrees_with_lifetimes(fitted: BetaGeoModel, cdnow_summary: pd.DataFrame) -> None:
    sub = cdnow_summary.loc[LT_IDS]
    alive = fitted.probability_alive(sub)
    assert alive["customer_id"].tolist() == LT_IDS
    np.testing.assert_allclose(alive["probability_alive"], LT_P_ALIVE, rtol=1e-5)
    expected = fitted.expected_purchases(39, sub)["expected_purchases"]
    np.testing.assert_allclose(expected, LT_EXP39, rtol=1e-5)
    assert fitted.expected_purchases_new_customer(39) == pytest.approx(LT_NEW39, rel=1e-5)
    np.testing.assert_allclose(
        fitted.probability_of_purchases([0, 1, 2, 5], 39), LT_PN39, rtol=1e-5
    )


def test_fit_is_deterministic_and_weights_equal_repeats(cdnow_summary: pd.DataFrame) -> None:
    a = BetaGeoModel().fit(cdnow_summary).params_
    b = BetaGeoModel().fit(cdnow_summary).params_
    assert a == b
    s = cdnow_summary.iloc[:400]
    agg = s.groupby(["frequency", "recency", "T"], as_index=False).size()
    w = BetaGeoModel().fit(agg, weights=agg["size"]).params_
    full = BetaGeoModel().fit(s).params_
    for k in full:
        assert w[k] == pytest.approx(full[k], rel=1e-6)


def test_analytic_gradient_matches_numerical(cdnow_summary: pd.DataFrame) -> None:
    from retailcrm.models._base import BaseFitter
    from retailcrm.models._inputs import compress, summary_arrays

    m = BetaGeoModel()
    u, w, _ = compress(summary_arrays(cdnow_summary))
    d = m._prepare(u, w)
    for theta in (np.log([0.3, 5.0, 0.8, 2.0]), np.log([2.0, 0.5, 3.0, 0.4])):
        v1, g1 = m._negloglik_and_grad(theta, d, w)
        v2, g2 = BaseFitter._negloglik_and_grad(m, theta, d, w)
        assert v1 == pytest.approx(v2)
        np.testing.assert_allclose(g1, g2, rtol=1e-6, atol=1e-4)


def _mp_expected(
    r: float, alpha: float, a: float, b: float, x: int, tx: float, T: float, t: float
) -> float:
    mp.mp.dps = 50
    r, alpha, a, b, tx, T, t = map(mp.mpf, (r, alpha, a, b, tx, T, t))
    hyp = mp.hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    den = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return float(num / den)


@pytest.mark.parametrize(
    ("x", "tx", "T", "t"),
    [
        (132, 200.0, 200.0, 52.0),
        (300, 150.0, 200.0, 100.0),
        (0, 0.0, 30.0, 1000.0),
        (5, 1.0, 300.0, 10.0),
    ],
)
def test_heavy_buyers_match_mpmath(
    fitted: BetaGeoModel, x: int, tx: float, T: float, t: float
) -> None:
    p = fitted.params_
    got = fitted.expected_purchases(t, frequency=[x], recency=[tx], T=[T])[0]
    ref = _mp_expected(p["r"], p["alpha"], p["a"], p["b"], x, tx, T, t)
    assert np.isfinite(got)
    assert got == pytest.approx(ref, rel=1e-8)


def test_a_near_one_is_continuous() -> None:
    m = BetaGeoModel()
    vals = []
    for a in (1 - 1e-3, 1 - 1e-7, 1.0, 1 + 1e-7, 1 + 1e-3):
        m.params_ = {"r": 0.5, "alpha": 3.0, "a": a, "b": 2.0}
        vals.append(m.expected_purchases_new_customer(20.0))
    assert np.all(np.isfinite(vals))
    assert vals[1] == pytest.approx(vals[2], rel=1e-7)
    assert vals[3] == pytest.approx(vals[2], rel=1e-7)


@given(
    x=st.integers(0, 400),
    gap=st.floats(0, 300),
    tx=st.floats(0, 300),
    t1=st.floats(0, 500),
    t2=st.floats(0, 500),
)
def test_invariants(
    fitted: BetaGeoModel, x: int, gap: float, tx: float, t1: float, t2: float
) -> None:
    tx = tx if x > 0 else 0.0
    T = tx + gap
    p = fitted.probability_alive(frequency=[x], recency=[tx], T=[T])[0]
    assert 0.0 <= p <= 1.0
    lo, hi = sorted((t1, t2))
    e = fitted.expected_purchases(np.array([lo, hi]), frequency=[x, x], recency=[tx, tx], T=[T, T])
    assert np.all(np.isfinite(e))
    assert e[0] >= 0
    assert e[1] >= e[0] * (1 - 1e-12)


def test_unfitted_and_repr() -> None:
    m = BetaGeoModel(penalizer=0.1)
    assert repr(m) == "BetaGeoModel(penalizer=0.1)"
    with pytest.raises(NotFittedError, match="not fitted yet"):
        m.probability_alive(frequency=[1], recency=[1], T=[2])


def test_accepts_polars_and_arrays_same(cdnow_summary: pd.DataFrame) -> None:
    import polars as pl

    s = cdnow_summary.iloc[:300]
    a = BetaGeoModel().fit(pl.from_pandas(s)).params_
    b = BetaGeoModel().fit(frequency=s["frequency"], recency=s["recency"], T=s["T"]).params_
    assert a == b


# ---------------------------------------------------------------- conditional purchase PMF
HEAVY = {
    "frequency": [0, 1, 2, 29, 132, 132],
    "recency": [0.0, 1, 30, 38, 200, 150],
    "T": [38.0, 38, 32, 38.5, 200, 200],
}


def _mp_conditional_pmf(
    params: tuple[float, ...], shift: int, n: int, t: float, x: int, tx: float, T: float
) -> float:
    """From the joint likelihood of the history and the future count given (lambda, p): the
    lambda-integrals in closed form, the p-integral by mpmath quadrature."""
    mp.mp.dps = 30
    r, alpha, a, b = (mp.mpf(v) for v in params)
    t, tx, T = mp.mpf(t), mp.mpf(tx), mp.mpf(T)

    def lam(j: int, c: mp.mpf) -> mp.mpf:  # E[lambda^j e^(-lambda c)], lambda ~ Gamma(r, alpha)
        return mp.exp(mp.loggamma(r + j) - mp.loggamma(r) + r * mp.log(alpha) - (r + j) * mp.log(c))

    def pois(i: int) -> mp.mpf:  # E[lambda^x e^(-lambda T) P(K = i)], K ~ Poisson(lambda t)
        return t**i / mp.factorial(i) * lam(x + i, alpha + T + t)

    can_die = x > 0 or shift == 1  # a dropout just after the last purchase

    def joint(p: mp.mpf, with_future: bool) -> mp.mpf:
        dens = p ** (a - 1) * (1 - p) ** (b - 1) / mp.beta(a, b)
        if with_future:  # alive at T, then n purchases in (T, T + t]
            future = pois(n) * (1 - p) ** n
            if n > 0:
                future += (
                    p * (1 - p) ** (n - 1) * (lam(x, alpha + T) - sum(pois(i) for i in range(n)))
                )
            total = (1 - p) ** (x + shift) * future
            if n == 0 and can_die:
                total += (1 - p) ** (x + shift - 1) * p * lam(x, alpha + tx)
        else:  # the history alone
            total = (1 - p) ** (x + shift) * lam(x, alpha + T)
            if can_die:
                total += (1 - p) ** (x + shift - 1) * p * lam(x, alpha + tx)
        return dens * total

    num = mp.quad(lambda p: joint(p, True), [0, 1])
    den = mp.quad(lambda p: joint(p, False), [0, 1])
    return float(num / den)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
@pytest.mark.parametrize("t", [0.5, 39.0, 200.0])
def test_conditional_pmf_sums_to_one_with_mean_expected_purchases(
    cdnow_summary: pd.DataFrame, cls: type[BetaGeoModel], t: float
) -> None:
    m = cls().fit(cdnow_summary)
    n = np.arange(0, 800)[:, None]
    p = m.conditional_probability_of_purchases(n, t, **HEAVY)
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=1e-11)
    np.testing.assert_allclose((n * p).sum(axis=0), m.expected_purchases(t, **HEAVY), rtol=1e-10)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_conditional_pmf_matches_mpmath(
    cdnow_summary: pd.DataFrame, cls: type[BetaGeoModel]
) -> None:
    m = cls().fit(cdnow_summary)
    params = tuple(m.params_[k] for k in ("r", "alpha", "a", "b"))
    shift = 1 if cls is ModifiedBetaGeoModel else 0
    for x, tx, T in [(0, 0.0, 38.0), (2, 30.0, 32.0), (7, 20.0, 38.0)]:
        n = np.array([0, 1, 3])
        got = m.conditional_probability_of_purchases(
            n, 39.0, frequency=[x] * 3, recency=[tx] * 3, T=[T] * 3
        )
        ref = [_mp_conditional_pmf(params, shift, int(k), 39.0, x, tx, T) for k in n]
        np.testing.assert_allclose(got, ref, rtol=1e-9)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_conditional_pmf_of_a_new_customer_is_the_unconditional_pmf(
    cdnow_summary: pd.DataFrame, cls: type[BetaGeoModel]
) -> None:
    """At x = t_x = T = 0 the history says nothing (the modified model's dropout at the first
    purchase is then in P(alive))."""
    m = cls().fit(cdnow_summary)
    n = np.arange(6)
    got = m.conditional_probability_of_purchases(
        n, 20.0, frequency=[0] * 6, recency=[0] * 6, T=[0] * 6
    )
    np.testing.assert_allclose(got, m.probability_of_purchases(n, 20.0), rtol=1e-12)
    zero = m.conditional_probability_of_purchases(
        [0, 1], 0.0, frequency=[3, 3], recency=[5, 5], T=[9, 9]
    )
    np.testing.assert_allclose(zero, [1.0, 0.0])
