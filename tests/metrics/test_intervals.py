"""The interval maths of the metrics, against hand computations, scipy and a coverage
simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from retailcrm.metrics import _intervals as iv


def test_wilson_matches_scipy_and_hand_case() -> None:
    # 3 of 5 at 95%: z = 1.959964, centre = (0.6 + z²/10) / (1 + z²/5) = 0.55653,
    # half = z·sqrt(0.24/5 + z²/100) / (1 + z²/5) = 0.32545 -> [0.2311, 0.8819]
    low, high = iv.wilson([3], [5], 0.95)
    assert low[0] == pytest.approx(0.231, abs=5e-4)
    assert high[0] == pytest.approx(0.882, abs=5e-4)
    for k, n in [(0, 10), (10, 10), (7, 40), (1, 1)]:
        ci = stats.binomtest(k, n).proportion_ci(0.9, method="wilson")
        lo, hi = iv.wilson(k, n, 0.9)
        assert (float(lo), float(hi)) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_of_no_answers_is_nan() -> None:
    low, high = iv.wilson([0], [0], 0.95)
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_nps_wald_and_adjusted_wald_by_hand() -> None:
    # 4 promoters, 2 detractors of 8. Wald: d = 0.25, Var = (0.5 + 0.25 - 0.0625)/8
    # = 0.0859375, se = 0.293151, half = 1.959964 * se = 0.574566.
    se, low, high = iv.nps_wald([0.5], [0.25], [8], 0.95, adjusted=False)
    assert se[0] == pytest.approx(0.293151, abs=1e-6)
    assert (low[0], high[0]) == pytest.approx((0.25 - 0.574566, 0.25 + 0.574566), abs=1e-6)
    # Adjusted (Rocks 2016): n~ = 11, p+ = 4.75/11 = 0.431818, p- = 2.75/11 = 0.25,
    # d~ = 0.181818, Var = (0.681818 - 0.033058)/11 = 0.058978, se = 0.242854,
    # interval 0.181818 -+ 0.475985.
    se, low, high = iv.nps_wald([0.5], [0.25], [8], 0.95, adjusted=True)
    assert se[0] == pytest.approx(0.242854, abs=1e-6)
    assert low[0] == pytest.approx(0.181818 - 0.475985, abs=1e-5)
    assert high[0] == pytest.approx(0.181818 + 0.475985, abs=1e-5)


def test_nps_intervals_at_the_extremes_stay_inside_the_scale() -> None:
    # all promoters: Wald is the point 1; the adjusted interval has width and is clipped
    se, low, high = iv.nps_wald([1.0, 0.0], [0.0, 1.0], [20, 20], 0.95, adjusted=False)
    assert list(low) == [1.0, -1.0] and list(high) == [1.0, -1.0] and list(se) == [0.0, 0.0]
    se, low, high = iv.nps_wald([1.0, 0.0], [0.0, 1.0], [20, 20], 0.95, adjusted=True)
    assert (se > 0).all()
    assert low[0] < 1.0 and high[0] == 1.0  # 20.75/23 - 0.75/23 = 0.8696, clipped above
    assert low[1] == -1.0 and high[1] > -1.0
    se, low, high = iv.nps_wald([np.nan], [np.nan], [0], 0.95, adjusted=True)
    assert np.isnan([se[0], low[0], high[0]]).all()


@pytest.mark.parametrize("n", [30, 300])
def test_adjusted_wald_covers_the_true_nps(n: int) -> None:
    # 2,000 seeded samples from p+ = 0.5, passives 0.3, p- = 0.2: true NPS 0.3.
    rng = np.random.default_rng(20160127)
    counts = rng.multinomial(n, [0.5, 0.3, 0.2], size=2000)
    _, low, high = iv.nps_wald(counts[:, 0] / n, counts[:, 2] / n, np.full(2000, n), 0.95,
                               adjusted=True)  # fmt: skip
    coverage = np.mean((low <= 0.3) & (high >= 0.3))
    assert coverage >= 0.93, coverage
    assert coverage <= 0.975, coverage  # not bought with absurdly wide intervals


def test_nps_bootstrap_is_seeded_and_near_wald_for_large_n() -> None:
    def run(seed: int) -> tuple[np.ndarray, ...]:
        rng = np.random.default_rng(seed)
        return iv.nps_bootstrap([0.5], [0.2], [400], 0.95, n_boot=4000, rng=rng)

    first, again, other = run(0), run(0), run(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert first[0][0] != other[0][0]  # another seed, other resamples
    se_wald, low_wald, high_wald = iv.nps_wald([0.5], [0.2], [400], 0.95, adjusted=False)
    assert first[0][0] == pytest.approx(se_wald[0], rel=0.1)
    assert first[1][0] == pytest.approx(low_wald[0], abs=0.015)
    assert first[2][0] == pytest.approx(high_wald[0], abs=0.015)


def test_two_proportion_z_by_hand() -> None:
    # 42/100 vs 35/100: d = 0.07; unpooled se = sqrt(.42*.58/100 + .35*.65/100) = 0.068637;
    # pooled p = 0.385, se0 = sqrt(.385*.615*.02) = 0.068815, z = 1.017220, p = 0.30905
    out = iv.two_proportion_z(42, 100, 35, 100, 0.95)
    assert out["difference"] == pytest.approx(0.07)
    assert out["se"] == pytest.approx(0.068637, abs=1e-6)
    assert out["statistic"] == pytest.approx(1.017220, abs=1e-5)
    assert out["p_value"] == pytest.approx(0.30905, abs=1e-4)
    assert out["ci_low"] == pytest.approx(0.07 - 1.959964 * 0.068637, abs=1e-5)


def test_two_proportion_z_without_variance() -> None:
    out = iv.two_proportion_z(0, 50, 0, 80, 0.95)
    assert out["statistic"] == 0.0 and out["p_value"] == 1.0


def test_welch_matches_scipy() -> None:
    a = np.array([12.0, 15.0, 11.0, 19.0, 14.0, 13.0])
    b = np.array([9.0, 10.0, 14.0, 8.0, 11.0])
    out = iv.welch(a.mean(), a.var(ddof=1), a.size, b.mean(), b.var(ddof=1), b.size, 0.9)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.9)
    assert out["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert out["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-12)


def test_t_interval_matches_scipy() -> None:
    # mean 5.4, sd 2.073644 of [7, 6, 5, 7, 2]: se = 0.927362
    values = np.array([7.0, 6.0, 5.0, 7.0, 2.0])
    se, low, high = iv.t_interval([values.mean()], [values.std(ddof=1)], [5], 0.95)
    ref = stats.t.interval(0.95, 4, loc=values.mean(), scale=stats.sem(values))
    assert se[0] == pytest.approx(0.927362, abs=1e-6)
    assert (low[0], high[0]) == pytest.approx(ref, rel=1e-12)
    se, low, high = iv.t_interval([3.0], [np.nan], [1], 0.95)
    assert np.isnan([se[0], low[0], high[0]]).all()


def test_bootstraps_are_seeded_and_centred() -> None:
    rng = np.random.default_rng(3)
    rate = iv.bootstrap_rate_difference([(42, 100), (35, 100)], [1.0, -1.0], 0.95,
                                        n_boot=3000, rng=np.random.default_rng(0))  # fmt: skip
    assert rate["difference"] == pytest.approx(0.07)
    assert rate["ci_low"] < 0.07 < rate["ci_high"]
    assert rate["se"] == pytest.approx(0.068637, rel=0.1)  # the unpooled normal se
    assert 0.2 < rate["p_value"] < 0.45  # z-test: 0.309
    a, b = rng.normal(10, 2, 60), rng.normal(9, 2, 50)
    one = iv.bootstrap_mean_difference([a, b], [1.0, -1.0], 0.95, n_boot=2000,
                                       rng=np.random.default_rng(5))  # fmt: skip
    two = iv.bootstrap_mean_difference([a, b], [1.0, -1.0], 0.95, n_boot=2000,
                                       rng=np.random.default_rng(5))  # fmt: skip
    assert {k: v for k, v in one.items() if k != "statistic"} == {
        k: v for k, v in two.items() if k != "statistic"
    }
    assert np.isnan(one["statistic"])  # no test statistic for the bootstrap
    assert one["difference"] == pytest.approx(a.mean() - b.mean())
    welch = iv.welch(a.mean(), a.var(ddof=1), 60, b.mean(), b.var(ddof=1), 50, 0.95)
    assert one["ci_low"] == pytest.approx(welch["ci_low"], abs=0.15)
    assert one["ci_high"] == pytest.approx(welch["ci_high"], abs=0.15)
    assert 0 < one["p_value"] <= 1
