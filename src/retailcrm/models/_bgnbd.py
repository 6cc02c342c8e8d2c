"""The BG/NBD model (Fader, Hardie & Lee 2005): its numerics, shared with MBG/NBD.

:class:`BetaGeoModel` is the beta-geometric/NBD model; the modified model of Batislam, Denizel
& Filiztekin (2007) differs only by letting customers drop out right after their first purchase,
so both are implemented here by one class parameterised by that ``_shift`` (0 for BG/NBD, 1 for
MBG/NBD); :mod:`retailcrm.models._mbgnbd` defines the modified model's public class. This
module holds the likelihood, its gradient and the prediction formulas (the hooks of
:class:`~retailcrm.models._transaction.ContinuousTimeModel`, which has the public methods).

Numerics. The log-likelihood of a customer with ``x`` repeat purchases, last at ``t_x``, observed
for ``T`` is (with ``k`` the shift)

    ln L = ln G(r+x) - ln G(r) + r ln(alpha) - ln B(a, b)
           + logaddexp(ln B(a, b+x+k) - (r+x) ln(alpha+T),
                       ln B(a+1, b+x+k-1) - (r+x) ln(alpha+t_x))

(the second term only for ``x > 0`` in BG/NBD), evaluated in log space, with its analytic
gradient. The special functions are evaluated once per distinct ``x``; the rows are the distinct
``(x, t_x, T)`` combinations weighted by their counts.

The conditional expectation uses Euler's transformation of the Gauss hypergeometric function of
Fader, Hardie & Lee's equation (10),

    2F1(r+x, b+x+k; C; z) (1-z)^(r+x) = (1-z)^(a-1) 2F1(a+b+k-1-r, a-1; C; z),
    C = a+b+x+k-1,  z = t / (alpha+T+t),

whose right-hand side stays of order one for heavy buyers (the left-hand side's hypergeometric
function overflows and is what makes other implementations return NaN), and whose removable
singularity at ``a = 1`` is handled explicitly.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from scipy import special

from retailcrm.models._base import wdot
from retailcrm.models._inputs import FloatArray
from retailcrm.models._transaction import ContinuousTimeModel

__all__ = ["BetaGeoModel"]


class _Data(NamedTuple):
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    ux: FloatArray  # distinct x
    ix: Any  # index of each row's x in ux
    pos: Any  # rows whose second likelihood term exists


def _bracket_over_e(e: FloatArray, p: FloatArray, c: FloatArray, z: FloatArray) -> FloatArray:
    """Return ``[1 - (1-z)^e 2F1(p, e; c; z)] / e``, continuous at ``e = 0``."""

    def raw(ev: FloatArray) -> FloatArray:
        l1 = np.log1p(-z)
        f = special.hyp2f1(p, ev, c, z)
        return -special.expm1(ev * l1) / ev - np.exp(ev * l1) * (f - 1.0) / ev

    small = np.abs(e) < 1e-6
    with np.errstate(invalid="ignore", divide="ignore"):
        safe_e = np.where(small, 1.0, e)
        out = raw(safe_e)
        if np.any(small):
            h = np.full_like(e, 1e-6)
            near = (raw(h) + raw(-h)) / 2
            out = np.where(small, near, out)
    return np.asarray(out, dtype=np.float64)


def _expected_alive_quadrature(
    k: FloatArray, s: FloatArray, a: FloatArray, b: FloatArray
) -> FloatArray:
    """``E[(1 - (1 + p s)^-k) / p]`` for ``p ~ Beta(a, b)``, over the quantiles of ``p``."""
    nodes, wts = np.polynomial.legendre.leggauss(128)
    u = (nodes + 1) / 2
    p = special.betaincinv(a[..., None], b[..., None], u)
    g = -special.expm1(-k[..., None] * np.log1p(p * s[..., None])) / p
    g = np.where(p > 0, g, (k * s)[..., None])
    return np.asarray(np.sum(wts * g, axis=-1) / 2, dtype=np.float64)


def _new_customer_pmf(
    nn: FloatArray, tt: FloatArray, r: Any, alpha: Any, a: Any, b: Any, k: int
) -> FloatArray:
    """``P(X(t) = n)`` of a customer alive at time 0 (Fader, Hardie & Lee 2005, equation 8;
    ``k = 1``: the modified model, which may also drop out at time 0)."""
    p = alpha / (alpha + tt)
    lb = special.betaln(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_nb = (
            special.gammaln(r + nn)
            - special.gammaln(r)
            - special.gammaln(nn + 1)
            + r * np.log(p)
            + special.xlogy(nn, 1 - p)
        )
        first = np.exp(special.betaln(a, b + nn + k) - lb + log_nb)
        pos = nn > 0 if k == 0 else np.ones(nn.shape, dtype=bool)
        tail = np.where(nn > 0, special.betainc(np.maximum(nn, 1), r, 1 - p), 1.0)
        nsafe = np.where(pos, nn, 1 - k)
        second = np.where(pos, np.exp(special.betaln(a + 1, b + nsafe + k - 1) - lb) * tail, 0.0)
    return np.asarray(first + second, dtype=np.float64)


class _BetaGeoFamily(ContinuousTimeModel):
    """BG/NBD (``_shift = 0``) and MBG/NBD (``_shift = 1``) likelihood and predictions."""

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _shift: ClassVar[int] = 0

    # ------------------------------------------------------------------ fitting
    def _prepare(self, data: dict[str, FloatArray], weights: FloatArray) -> _Data:
        x = data["frequency"]
        ux, ix = np.unique(x, return_inverse=True)
        pos = x > 0 if self._shift == 0 else np.ones(x.shape, dtype=bool)
        return _Data(x, data["recency"], data["T"], ux, ix.ravel(), pos)

    def _initial_params(self, data: _Data, weights: FloatArray) -> FloatArray:
        # Method-of-moments start for the purchase rate (NBD on repeat purchases per unit time,
        # ignoring dropout); a = 1, b = 3 puts the dropout probability around 1/4.
        n = weights.sum()
        rate = np.maximum(data.x / np.maximum(data.T, 1e-12), 0)
        m = wdot(weights, rate) / n
        v = wdot(weights, (rate - m) ** 2) / n
        mean_t = wdot(weights, data.T) / n
        r = 1.0
        if m > 0 and v > m / max(mean_t, 1e-12):
            r = float(np.clip(m * m / (v - m / max(mean_t, 1e-12)), 0.05, 10.0))
        alpha = r / m if m > 0 else mean_t
        return np.array([r, float(np.clip(alpha, 1e-4, 1e6)), 1.0, 3.0])

    def _terms(
        self, log_params: FloatArray, d: _Data
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        r, alpha, a, b = np.exp(log_params)
        k = self._shift
        ux = d.ux
        uxs = np.where(ux + k - 1 > -1, ux, 1 - k)  # keep the second B() finite where unused
        lb_ab = special.betaln(a, b)
        g1 = special.betaln(a, b + ux + k)
        g2 = special.betaln(a + 1, b + uxs + k - 1)
        rx = r + d.x
        l_t = np.log(alpha + d.T)
        l_tx = np.log(alpha + d.t_x)
        term1 = g1[d.ix] - rx * l_t
        term2 = np.where(d.pos, g2[d.ix] - rx * l_tx, -np.inf)
        mix = np.logaddexp(term1, term2)
        const = special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha) - lb_ab
        ll = const[d.ix] + mix
        return ll, term1, term2, mix, np.array([r, alpha, a, b])

    def _negloglik(self, log_params: FloatArray, data: _Data, weights: FloatArray) -> float:
        with np.errstate(divide="ignore", over="ignore"):
            ll = self._terms(log_params, data)[0]
        return -wdot(weights, ll)

    def _negloglik_and_grad(
        self, log_params: FloatArray, data: _Data, weights: FloatArray
    ) -> tuple[float, FloatArray]:
        d = data
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ll, _term1, term2, mix, p = self._terms(log_params, d)
            r, alpha, a, b = p
            k = self._shift
            w2 = np.exp(term2 - mix)  # posterior weight of the second term (0 where absent)
            q = weights * w2
            nx = d.ux.size
            cx = np.bincount(d.ix, weights=weights, minlength=nx)
            qx = np.bincount(d.ix, weights=q, minlength=nx)
            ux = d.ux
            uxs = np.where(ux + k - 1 > -1, ux, 1 - k)
            at = alpha + d.T
            atx = alpha + d.t_x
            cw1 = weights - q
            rx = r + d.x
            # d/dr
            g_r = wdot(cx, special.digamma(r + ux) - special.digamma(r) + np.log(alpha))
            g_r -= wdot(cw1, np.log(at)) + wdot(q, np.log(atx))
            # d/dalpha
            g_alpha = r / alpha * cx.sum() - wdot(rx * cw1, 1 / at) - wdot(rx * q, 1 / atx)
            # d/da and d/db
            dab = special.digamma(a + b)
            dabx = special.digamma(a + b + ux + k)
            g_a = -(special.digamma(a) - dab) * cx.sum()
            g_a += wdot(cx - qx, special.digamma(a) - dabx)
            g_a += wdot(qx, np.where(qx > 0, special.digamma(a + 1) - dabx, 0.0))
            g_b = -(special.digamma(b) - dab) * cx.sum()
            g_b += wdot(cx - qx, special.digamma(b + ux + k) - dabx)
            g_b += wdot(qx, np.where(qx > 0, special.digamma(b + uxs + k - 1) - dabx, 0.0))
        grad = -np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return -wdot(weights, ll), grad

    # ------------------------------------------------------------------ predictions
    def _log_odds_dead(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        r, alpha, a, b = self._param_values()
        k = self._shift
        pos = x > 0 if k == 0 else np.ones(x.shape, dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = (
                np.log(a)
                - np.log(np.where(pos, b + x + k - 1, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            )
        return np.where(pos, lo, -np.inf)

    def _probability_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """Equation (11) of Fader, Hardie & Lee (2005) as a logistic function of the log odds
        of having dropped out, so it never overflows."""
        return np.asarray(special.expit(-self._log_odds_dead(x, t_x, T)), dtype=np.float64)

    def _expected_purchases(
        self, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        """Equation (10) through Euler's transformation (module docstring); where ``hyp2f1``
        overflows (huge ``a``, ``b``) the expectation over ``p`` is integrated instead."""
        r, alpha, a, b = self._param_values()
        k = self._shift
        t, x, t_x, T = np.broadcast_arrays(t, x, t_x, T)
        z = t / (alpha + T + t)
        c = a + b + x + k - 1
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            core = _bracket_over_e(
                np.full(z.shape, a - 1.0), np.full(z.shape, a + b + k - 1 - r), c, z
            )
            alive = special.expit(-self._log_odds_dead(x, t_x, T))
            per_alive = c * core
            bad = ~np.isfinite(per_alive) & (t > 0)
            if np.any(bad):  # hyp2f1 overflows for huge a, b: integrate over p instead
                per_alive = np.where(
                    bad,
                    _expected_alive_quadrature(
                        r + x, t / (alpha + T), np.full(x.shape, a), b + x + k
                    ),
                    per_alive,
                )
            out = per_alive * alive
        return np.asarray(np.where(t == 0, 0.0, np.maximum(out, 0.0)), dtype=np.float64)

    def _probability_of_purchases(self, n: FloatArray, t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._param_values()
        nn, tt = np.broadcast_arrays(n, t)
        return _new_customer_pmf(nn, tt, r, alpha, a, b, self._shift)

    def _conditional_probability_of_purchases(
        self, n: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        """Alive at ``T``: a new customer with ``Gamma(r+x, alpha+T)`` and ``Beta(a, b+x+k)``
        (after the first purchase, dropout follows purchases in both models, so the BG/NBD
        form of equation 8 applies); dropped out: no purchase."""
        nn, tt, x, t_x, T_ = np.broadcast_arrays(n, t, x, t_x, T)
        r, alpha, a, b = self._param_values()
        alive = special.expit(-self._log_odds_dead(x, t_x, T_))
        fresh = _new_customer_pmf(nn, tt, r + x, alpha + T_, a, b + x + self._shift, 0)
        out = alive * fresh + (1.0 - alive) * (nn == 0)
        return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


class BetaGeoModel(_BetaGeoFamily):
    """The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005), fitted by maximum
    likelihood.

    Each customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)`` while alive and, after
    each repeat purchase, drops out with probability ``p ~ Beta(a, b)``.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters added to the mean negative log-likelihood (lifetimes'
        ``penalizer_coef``); 0 gives the maximum likelihood estimate.
    initial_params : mapping of str to float, optional
        Starting values for ``r, alpha, a, b``; default: deterministic method-of-moments
        starts.
    max_iter : int, default 1000
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : dict of str to float
        ``r, alpha, a, b``; ``alpha`` is in the summary's time unit.
    time_unit_ : str or None
        The unit of the summary stated at fit (``"D"``, ``"W"`` or ``"M"``); None when not
        stated. Predictions and :func:`customer_lifetime_value` asked in another unit convert.
    log_likelihood_ : float
        Total log-likelihood over customers (it depends on the time unit).
    standard_errors_ : dict of str to float
        From the observed information (inverse Hessian), by the delta method.
    covariance_ : numpy.ndarray
        Covariance matrix of the estimates.
    aic_, bic_ : float
        Akaike and Bayesian information criteria.
    n_customers_ : float
        Number of customers (sum of the weights).
    n_iter_ : int
        Optimiser iterations.
    unidentified_params_ : list of str
        Parameters the data do not identify (NaN standard errors; see
        :class:`~retailcrm.exceptions.IdentifiabilityWarning`); empty for a regular fit.

    See Also
    --------
    ModifiedBetaGeoModel : customers may also drop out right after the first purchase.
    ParetoNBDModel : dropout in continuous time.

    Notes
    -----
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the easy way:
    An alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284. The likelihood
    is equation (6), maximised over the log-parameters with L-BFGS-B and the analytic gradient
    from deterministic starting values, then polished by Newton steps. On the CDNOW sample
    (weeks) it reproduces the published ``r = 0.243, alpha = 4.414, a = 0.793, b = 2.426``,
    log-likelihood -9582.4.

    The model is a scikit-learn estimator (``get_params``, ``clone``, ``check_is_fitted``).
    ``fit`` reads a summary frame (``frequency``, ``recency``, ``T``), a mapping or arrays;
    ``weights`` (customers per row) lets a pre-aggregated summary be fitted. The predictions
    (:meth:`probability_alive`, :meth:`expected_purchases`,
    :meth:`conditional_probability_of_purchases`) answer a summary frame with a frame of the
    same kind keyed by ``customer_id``, and arrays with an array.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import BetaGeoModel
    >>> summary = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "f"],
    ...                         "frequency": [0, 1, 4, 5, 6, 7],
    ...                         "recency": [0.0, 1.0, 10.0, 9.0, 3.0, 3.0],
    ...                         "T": [12.0] * 6,
    ...                         "customers": [52, 52, 5, 5, 6, 15]})
    >>> model = BetaGeoModel().fit(summary, weights=summary["customers"], time_unit="W")
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> round(model.log_likelihood_, 3)
    -455.497
    >>> model.probability_alive(summary).round(2)
      customer_id  probability_alive
    0           a               1.00
    1           b               0.05
    2           c               0.70
    3           d               0.60
    4           e               0.00
    5           f               0.00
    """

    _shift: ClassVar[int] = 0
