"""BG/BB on the donation data of Fader, Hardie & Shang (2010)."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from retailcrm.exceptions import InvalidDataError
from retailcrm.models import BetaGeoBetaBinomModel

# The 1995 donor cohort's recency/frequency table for n = 6 annual opportunities, as (x, t_x,
# number of donors), from Fader, Hardie & Shang (2010) (also in the authors' BG/BB spreadsheet
# and lifetimes' donations.csv); 11,104 donors in all.
DONATIONS = [
    (6, 6, 1203),
    (5, 6, 728),
    (4, 6, 512),
    (3, 6, 357),
    (2, 6, 234),
    (1, 6, 129),
    (5, 5, 335),
    (4, 5, 284),
    (3, 5, 225),
    (2, 5, 173),
    (1, 5, 119),
    (4, 4, 240),
    (3, 4, 181),
    (2, 4, 155),
    (1, 4, 78),
    (3, 3, 322),
    (2, 3, 255),
    (1, 3, 129),
    (2, 2, 613),
    (1, 2, 277),
    (1, 1, 1091),
    (0, 0, 3464),
]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    t = pd.DataFrame(DONATIONS, columns=["frequency", "recency", "count"])
    t["n_periods"] = 6
    return t


@pytest.fixture(scope="module")
def fitted(table: pd.DataFrame) -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel().fit(table, weights=table["count"])


def test_reproduces_published_estimates(table: pd.DataFrame, fitted: BetaGeoBetaBinomModel) -> None:
    """Fader, Hardie & Shang (2010): alpha = 1.204, beta = 0.750, gamma = 0.657,
    delta = 2.783, LL = -33,225.6."""
    assert table["count"].sum() == 11104
    p = fitted.params_
    assert p["alpha"] == pytest.approx(1.204, rel=1e-3)
    assert p["beta"] == pytest.approx(0.750, rel=1e-3)
    assert p["gamma"] == pytest.approx(0.657, rel=1e-3)
    assert p["delta"] == pytest.approx(2.783, rel=1e-3)
    assert fitted.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)


def _mp_loglik(p: dict[str, float], x: int, tx: int, n: int) -> float:
    mp.mp.dps = 40
    a, b, g, d = (mp.mpf(p[k]) for k in ("alpha", "beta", "gamma", "delta"))
    B = mp.beta
    val = B(a + x, b + n - x) / B(a, b) * B(g, d + n) / B(g, d)
    for i in range(n - tx):
        val += B(a + x, b + tx - x + i) / B(a, b) * B(g + 1, d + tx + i) / B(g, d)
    return float(mp.log(val))


def test_loglik_matches_mpmath(fitted: BetaGeoBetaBinomModel) -> None:
    m = BetaGeoBetaBinomModel()
    for x, tx, n in [(0, 0, 6), (3, 5, 6), (40, 90, 100), (200, 200, 200), (1, 1, 300)]:
        data = {
            k: np.array([float(v)])
            for k, v in zip(("frequency", "recency", "n_periods"), (x, tx, n), strict=True)
        }
        got = -m._negloglik(np.log(np.array(list(fitted.params_.values()))), data, np.ones(1))
        assert got == pytest.approx(_mp_loglik(fitted.params_, x, tx, n), rel=1e-10)


def test_predictions_are_consistent(fitted: BetaGeoBetaBinomModel) -> None:
    n = np.arange(0, 7)
    p = fitted.probability_of_purchases(n, 6)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (n * p).sum() == pytest.approx(fitted.expected_purchases_new_customer(6), rel=1e-10)
    alive = fitted.probability_alive(frequency=[0, 6, 3], recency=[0, 6, 3], n_periods=6)
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[1] > max(alive[0], alive[2])
    e = fitted.expected_purchases(
        np.array([1, 5, 10]), frequency=[6, 6, 6], recency=[6, 6, 6], n_periods=6
    )
    assert np.all(np.diff(e) > 0)


def test_parameter_recovery_on_simulated_data() -> None:
    rng = np.random.default_rng(7)
    true = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    size, n = 20000, 8
    p = rng.beta(true["alpha"], true["beta"], size)
    theta = rng.beta(true["gamma"], true["delta"], size)
    alive = np.ones(size, bool)
    x = np.zeros(size)
    tx = np.zeros(size)
    for t in range(1, n + 1):
        alive &= rng.random(size) >= theta
        buy = alive & (rng.random(size) < p)
        x += buy
        tx[buy] = t
    m = BetaGeoBetaBinomModel().fit(frequency=x, recency=tx, n_periods=n)
    for k, v in true.items():
        assert abs(m.params_[k] - v) < 4 * m.standard_errors_[k]


def test_t_alias_and_discrete_checks(table: pd.DataFrame, fitted: BetaGeoBetaBinomModel) -> None:
    alias = table.rename(columns={"n_periods": "T"})
    assert BetaGeoBetaBinomModel().fit(alias, weights=alias["count"]).params_ == fitted.params_
    with pytest.raises(InvalidDataError, match="frequency exceeds recency"):
        BetaGeoBetaBinomModel().fit(frequency=[3], recency=[2], n_periods=[6])
