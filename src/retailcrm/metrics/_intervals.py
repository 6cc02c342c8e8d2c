"""Interval maths shared by the metrics: Wilson, (adjusted) Wald for the NPS, two-proportion z,
Welch, normal-theory t intervals and seeded bootstraps.

Everything here works on *small* numpy arrays — one value per group of a result that the engine
has already aggregated — and is vectorised over groups. Undefined results (no answers, one
answer for a standard deviation) are NaN, which the public functions return as nulls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "bootstrap_mean_difference",
    "bootstrap_rate_difference",
    "normal_difference",
    "nps_bootstrap",
    "nps_wald",
    "t_interval",
    "two_proportion_z",
    "welch",
    "wilson",
    "z_value",
]

#: Rocks (2016): add 3 answers — 3/4 of a promoter, 3/4 of a detractor, 3/2 of a passive.
NPS_ADJUSTMENT = 0.75
#: Bootstrap of means: at most this many resampled values are held at once.
_BOOT_CELLS = 4_000_000


def z_value(level: float) -> float:
    """The two-sided standard-normal quantile of a confidence ``level`` (1.96 for 0.95)."""
    return float(stats.norm.ppf(0.5 + level / 2.0))


def _errstate() -> Any:
    return np.errstate(divide="ignore", invalid="ignore")


def wilson(successes: Any, n: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score interval of a proportion, vectorised; NaN where ``n`` is 0.

    ``successes`` may be fractional (weighted counts times the effective sample size).
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = z_value(level)
    with _errstate():
        p = x / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
        low = np.clip(centre - half, 0.0, 1.0)
        high = np.clip(centre + half, 0.0, 1.0)
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def nps_wald(
    p_pro: Any, p_det: Any, n: Any, level: float, *, adjusted: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard error and interval of the NPS (on the -1..1 scale) from shares and sizes.

    The NPS is a difference of two proportions of one multinomial sample, so
    ``Var(p+ - p-) = (p+ + p- - (p+ - p-)**2) / n``. ``adjusted=True`` is the adjusted Wald of
    Rocks (2016): 3/4 is added to the promoters and to the detractors and 3 to ``n`` before
    the shares, the estimate and its variance are computed; the interval is centred on that
    adjusted estimate. Intervals are clipped to [-1, 1]; NaN where ``n`` is 0.
    """
    p_pro = np.asarray(p_pro, dtype=float)
    p_det = np.asarray(p_det, dtype=float)
    n = np.asarray(n, dtype=float)
    empty = n <= 0
    with _errstate():
        if adjusted:
            n_adj = n + 4.0 * NPS_ADJUSTMENT
            p_pro = (p_pro * n + NPS_ADJUSTMENT) / n_adj
            p_det = (p_det * n + NPS_ADJUSTMENT) / n_adj
            n = n_adj
        centre = p_pro - p_det
        var = np.maximum(p_pro + p_det - centre * centre, 0.0) / n
        se = np.sqrt(var)
        half = z_value(level) * se
        low = np.clip(centre - half, -1.0, 1.0)
        high = np.clip(centre + half, -1.0, 1.0)
    nan = np.nan
    return np.where(empty, nan, se), np.where(empty, nan, low), np.where(empty, nan, high)


def nps_bootstrap(
    p_pro: Any, p_det: Any, n: Any, level: float, *, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile bootstrap of the NPS (-1..1 scale): per group, ``n_boot`` multinomial
    resamples of the group's size (rounded) with its promoter/passive/detractor shares.

    Resampling answers with replacement is resampling these counts, so nothing but the
    aggregated result is needed. Standard error: the standard deviation of the resampled NPS.
    """
    p_pro = np.atleast_1d(np.asarray(p_pro, dtype=float))
    p_det = np.atleast_1d(np.asarray(p_det, dtype=float))
    sizes = np.atleast_1d(np.rint(np.asarray(n, dtype=float)))
    alpha = 1.0 - level
    se = np.full(p_pro.shape, np.nan)
    low = np.full(p_pro.shape, np.nan)
    high = np.full(p_pro.shape, np.nan)
    for i in range(p_pro.size):
        if not sizes[i] > 0:
            continue
        probs = np.clip([p_pro[i], 1.0 - p_pro[i] - p_det[i], p_det[i]], 0.0, 1.0)
        draws = rng.multinomial(int(sizes[i]), probs / probs.sum(), size=n_boot)
        values = (draws[:, 0] - draws[:, 2]) / sizes[i]
        se[i] = values.std(ddof=1)
        low[i], high[i] = np.quantile(values, [alpha / 2.0, 1.0 - alpha / 2.0])
    return se, low, high


def two_proportion_z(x1: float, n1: float, x2: float, n2: float, level: float) -> dict[str, float]:
    """``p1 - p2`` with the unpooled (Wald) interval and the pooled two-proportion z-test.

    The interval uses ``sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)``; the test statistic the
    pooled ``p = (x1 + x2) / (n1 + n2)``: ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))``.
    """
    with _errstate():
        p1, p2 = x1 / n1, x2 / n2
        diff = p1 - p2
        se = float(np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2))
        pooled = (x1 + x2) / (n1 + n2)
        se0 = float(np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)))
        z = diff / se0 if se0 > 0 else (0.0 if diff == 0 else np.copysign(np.inf, diff))
    p_value = float(2.0 * stats.norm.sf(abs(z)))
    half = z_value(level) * se
    return {
        "difference": float(diff),
        "se": se,
        "ci_low": float(diff - half),
        "ci_high": float(diff + half),
        "statistic": float(z),
        "p_value": p_value,
    }


def welch(
    m1: float, v1: float, n1: float, m2: float, v2: float, n2: float, level: float
) -> dict[str, float]:
    """Welch's unequal-variance t-test and interval of ``m1 - m2`` (sample variances ``v``).

    Degrees of freedom by Welch–Satterthwaite; the p-value agrees with
    :func:`scipy.stats.ttest_ind_from_stats` with ``equal_var=False``.
    """
    with _errstate():
        a, b = v1 / n1, v2 / n2
        se = float(np.sqrt(a + b))
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
        diff = m1 - m2
        t = diff / se
    if not np.isfinite(t):
        nan = float("nan")
        return {"difference": diff, "se": se, "ci_low": nan, "ci_high": nan,
                "statistic": nan, "p_value": nan}  # fmt: skip
    half = float(stats.t.ppf(0.5 + level / 2.0, df)) * se
    p_value = float(2.0 * stats.t.sf(abs(t), df))
    return {
        "difference": float(diff),
        "se": se,
        "ci_low": float(diff - half),
        "ci_high": float(diff + half),
        "statistic": float(t),
        "p_value": p_value,
    }


def normal_difference(diff: float, se: float, level: float) -> dict[str, float]:
    """A normal-theory interval and two-sided p-value for an estimate with standard error."""
    if not (np.isfinite(se) and se > 0):
        nan = float("nan")
        return {"difference": diff, "se": se, "ci_low": nan, "ci_high": nan,
                "statistic": nan, "p_value": nan}  # fmt: skip
    z = diff / se
    half = z_value(level) * se
    return {
        "difference": float(diff),
        "se": float(se),
        "ci_low": float(diff - half),
        "ci_high": float(diff + half),
        "statistic": float(z),
        "p_value": float(2.0 * stats.norm.sf(abs(z))),
    }


def t_interval(mean: Any, sd: Any, n: Any, level: float) -> tuple[np.ndarray, ...]:
    """Standard error and Student-t interval of a mean, vectorised; NaN below two values."""
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    with _errstate():
        se = sd / np.sqrt(n)
        q = stats.t.ppf(0.5 + level / 2.0, np.where(n > 1, n - 1, np.nan))
        low, high = mean - q * se, mean + q * se
    few = n < 2
    return (
        np.where(few, np.nan, se),
        np.where(few, np.nan, low),
        np.where(few, np.nan, high),
    )


def _bootstrap_summary(boot: np.ndarray, estimate: float, level: float) -> dict[str, float]:
    """Percentile interval and the two-sided p-value of "no difference": the share of
    resampled differences, centred on the estimate, at least as far from 0 as the estimate
    ((1 + count) / (1 + B), never 0)."""
    alpha = 1.0 - level
    low, high = np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0])
    extreme = np.abs(boot - estimate) >= abs(estimate) - 1e-12
    return {
        "difference": float(estimate),
        "se": float(boot.std(ddof=1)),
        "ci_low": float(low),
        "ci_high": float(high),
        "statistic": float("nan"),
        "p_value": float((1 + extreme.sum()) / (1 + boot.size)),
    }


def bootstrap_rate_difference(
    groups: list[tuple[float, float]],
    signs: list[float],
    level: float,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Bootstrap of a signed sum of proportions (``signs``: +1/-1 per group), each group
    ``(successes, n)`` resampled as a binomial of its own size and rate — the same as
    resampling its 0/1 values with replacement."""
    estimate = sum(s * x / n for (x, n), s in zip(groups, signs, strict=True))
    boot = np.zeros(n_boot)
    for (x, n), s in zip(groups, signs, strict=True):
        boot += s * rng.binomial(int(n), x / n, size=n_boot) / n
    return _bootstrap_summary(boot, estimate, level)


def bootstrap_mean_difference(
    samples: list[np.ndarray],
    signs: list[float],
    level: float,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Bootstrap of a signed sum of means, each sample resampled with replacement."""
    estimate = sum(s * float(v.mean()) for v, s in zip(samples, signs, strict=True))
    boot = np.zeros(n_boot)
    for v, s in zip(samples, signs, strict=True):
        rows = max(1, _BOOT_CELLS // max(v.size, 1))  # resamples per block: bounded memory
        for start in range(0, n_boot, rows):
            stop = min(n_boot, start + rows)
            index = rng.integers(0, v.size, size=(stop - start, v.size))
            boot[start:stop] += s * v[index].mean(axis=1)
    return _bootstrap_summary(boot, estimate, level)
