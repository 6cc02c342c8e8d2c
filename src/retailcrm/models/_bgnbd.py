"""The BG/NBD model (Fader, Hardie & Lee 2005) and the shared beta-geometric machinery.

:class:`BetaGeoModel` is the beta-geometric/NBD model; the modified model of Batislam, Denizel
& Filiztekin (2007) differs only by letting customers drop out right after their first purchase,
so both are implemented here by one class parameterised by that ``_shift`` (0 for BG/NBD, 1 for
MBG/NBD); :mod:`retailcrm.models._mbgnbd` defines the modified model's public class.

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

from retailcrm.exceptions import ConfigError
from retailcrm.models._base import BaseFitter, wdot
from retailcrm.models._inputs import FloatArray, summary_arrays

__all__ = ["BetaGeoModel"]

_COLUMNS = ("frequency", "recency", "T")


class _Data(NamedTuple):
    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    ux: FloatArray  # distinct x
    ix: Any  # index of each row's x in ux
    pos: Any  # rows whose second likelihood term exists


def _as_float_or_array(value: FloatArray) -> float | FloatArray:
    return float(value) if value.ndim == 0 else value


def _check_t(t: Any, name: str = "t") -> FloatArray:
    arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ConfigError(
            f"{name} must be finite and >= 0 (a length of time in the summary's unit). "
            f"Got {t!r} instead."
        )
    return arr


def _check_n(n: Any) -> FloatArray:
    arr = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ConfigError(f"n must be whole numbers >= 0 (purchase counts). Got {n!r} instead.")
    return arr


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


class _BetaGeoFamily(BaseFitter):
    """BG/NBD (``_shift = 0``) and MBG/NBD (``_shift = 1``) likelihood and predictions."""

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    _shift: ClassVar[int] = 0

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,
        weights: Any = None,
    ) -> Any:
        data = summary_arrays(summary, _COLUMNS, frequency=frequency, recency=recency, T=T)
        return self._fit_data(data, weights)

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
    def _customers(
        self, summary: Any, frequency: Any, recency: Any, T: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._check_fitted()
        data = summary_arrays(summary, _COLUMNS, frequency=frequency, recency=recency, T=T)
        return data["frequency"], data["recency"], data["T"]

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

    def probability_alive(
        self, summary: Any = None, *, frequency: Any = None, recency: Any = None, T: Any = None
    ) -> FloatArray:
        """Return each customer's probability of being alive at the end of calibration.

        Parameters
        ----------
        summary : dataframe, optional
            Per-customer summary with ``frequency``, ``recency``, ``T`` (time in the unit the
            model was fitted in); or pass the three arrays as keywords.

        Returns
        -------
        numpy.ndarray
            One probability in [0, 1] per customer, in summary order.

        Notes
        -----
        ``1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))`` for ``x > 0``
        and 1 for ``x = 0`` (Fader, Hardie & Lee 2005, equation 11; the modified model uses
        ``b + x`` and applies to ``x = 0`` too). Evaluated as a logistic function of the log
        odds, so it never overflows.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> m.probability_alive(frequency=[0, 3], recency=[0, 4], T=[10, 12]).round(3)
        array([1.   , 0.107])
        """
        x, t_x, T_ = self._customers(summary, frequency, recency, T)
        return np.asarray(special.expit(-self._log_odds_dead(x, t_x, T_)), dtype=np.float64)

    def expected_purchases(
        self,
        t: Any,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,
    ) -> FloatArray:
        """Return each customer's expected number of purchases in the next ``t`` time units.

        Parameters
        ----------
        t : float or array
            Length of the future period, in the summary's time unit (an array broadcasts
            against the customers).
        summary : dataframe, optional
            Per-customer summary with ``frequency``, ``recency``, ``T``; or pass the arrays as
            keywords.

        Returns
        -------
        numpy.ndarray
            Expected purchases (>= 0, non-decreasing in ``t``), one per customer.

        Notes
        -----
        Fader, Hardie & Lee (2005), equation (10), with the hypergeometric function taken
        through Euler's transformation (see the module docstring) so that heavy buyers get
        finite, accurate values.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> m.expected_purchases(10, frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(3)
        array([0.248, 2.444])
        """
        x, t_x, T_ = self._customers(summary, frequency, recency, T)
        tt = _check_t(t)
        return self._expected(tt, x, t_x, T_)

    def _expected(self, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
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

    def expected_purchases_new_customer(self, t: Any) -> float | FloatArray:
        """Return the expected number of repeat purchases of a new customer in ``(0, t]``.

        Parameters
        ----------
        t : float or array
            Time since the first purchase, in the summary's time unit.

        Returns
        -------
        float or numpy.ndarray
            ``E[X(t)]``, a float for scalar ``t``.

        Notes
        -----
        Fader, Hardie & Lee (2005), equation (9): the conditional expectation of equation (10)
        at ``x = t_x = T = 0``.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> round(m.expected_purchases_new_customer(10), 3)
        1.619
        """
        self._check_fitted()
        tt = _check_t(t)
        zero = np.zeros(tt.shape)
        return _as_float_or_array(self._expected(tt, zero, zero, zero))

    def probability_of_purchases(self, n: Any, t: Any) -> float | FloatArray:
        """Return ``P(X(t) = n)``: the probability that a new customer makes ``n`` repeat
        purchases in ``(0, t]``.

        Parameters
        ----------
        n : int or array of int
            Numbers of repeat purchases.
        t : float or array
            Time since the first purchase, in the summary's time unit.

        Returns
        -------
        float or numpy.ndarray
            The probabilities (broadcast over ``n`` and ``t``), a float for scalar inputs.

        Notes
        -----
        Fader, Hardie & Lee (2005), equation (8); the NBD tail sum is the regularised
        incomplete beta function.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> m.probability_of_purchases([0, 1, 2], 10).round(3)
        array([0.356, 0.403, 0.097])
        """
        r, alpha, a, b = self._param_values()
        nn, tt = np.broadcast_arrays(_check_n(n), _check_t(t))
        return _as_float_or_array(_new_customer_pmf(nn, tt, r, alpha, a, b, self._shift))

    def conditional_probability_of_purchases(
        self,
        n: Any,
        t: Any,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,
    ) -> FloatArray:
        """Return each customer's probability of making exactly ``n`` purchases in the next
        ``t`` time units, given their history.

        Parameters
        ----------
        n : int or array of int
            Number of purchases in ``(T, T + t]``.
        t : float or array
            Length of the future period, in the summary's time unit.
        summary : dataframe, optional
            Per-customer summary with ``frequency``, ``recency``, ``T``; or pass the arrays as
            keywords. ``n`` and ``t`` broadcast against the customers.

        Returns
        -------
        numpy.ndarray
            Probabilities in [0, 1], one per customer (summing to 1 over ``n``).

        Notes
        -----
        Given ``(x, t_x, T)`` and alive at ``T``, the customer's ``lambda`` and ``p`` are
        independent, ``Gamma(r+x, alpha+T)`` and ``Beta(a, b+x)`` (``Beta(a, b+x+1)`` in the
        modified model, which also survived the first purchase), and the future is the
        process of a new customer with those parameters; a customer who has dropped out buys
        nothing. So ``P(X(T, T+t] = n) = P(alive) P_new(n, t | r+x, alpha+T, a, b+x) +
        (1 - P(alive)) [n = 0]``, with ``P_new`` Fader, Hardie & Lee's (2005) equation (8)
        (the BG/NBD form: after the first purchase, dropout follows purchases in both models).
        Its mean over ``n`` is :meth:`expected_purchases`.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> m.conditional_probability_of_purchases(
        ...     0, 10, frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(3)
        array([0.798, 0.277])
        """
        x, t_x, T_ = self._customers(summary, frequency, recency, T)
        nn, tt, x, t_x, T_ = np.broadcast_arrays(_check_n(n), _check_t(t), x, t_x, T_)
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

    ``fit`` accepts a summary frame with ``frequency`` (repeat purchases), ``recency`` (time of
    the last purchase after the first) and ``T`` (time from the first purchase to the end of
    calibration), or the three arrays as keywords; ``weights`` (customers per row) lets a
    pre-aggregated summary be fitted. Identical rows are merged before fitting.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import BetaGeoModel
    >>> summary = pd.DataFrame({"frequency": [0, 1, 4, 5, 6, 7],
    ...                         "recency": [0.0, 1.0, 10.0, 9.0, 3.0, 3.0],
    ...                         "T": [12.0] * 6,
    ...                         "customers": [52, 52, 5, 5, 6, 15]})
    >>> model = BetaGeoModel().fit(summary, weights=summary["customers"])
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> round(model.log_likelihood_, 3)
    -455.497
    >>> model.probability_alive(summary).round(2)
    array([1.  , 0.05, 0.7 , 0.6 , 0.  , 0.  ])
    """

    _shift: ClassVar[int] = 0

    def fit(
        self,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,
        weights: Any = None,
    ) -> BetaGeoModel:
        """Fit the model by maximum likelihood and return it.

        Parameters
        ----------
        summary : dataframe, optional
            Per-customer summary with columns ``frequency``, ``recency``, ``T`` (any engine;
            only those columns are read). Or pass the three as keyword arrays.
        frequency, recency, T : array-like, optional
            The summary as arrays, when ``summary`` is None.
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        BetaGeoModel
            The fitted model.

        Raises
        ------
        InvalidDataError
            The summary breaks an invariant (e.g. recency > T) or has no customers.
        ConvergenceError
            No starting point converged; the message says what to try.

        Warns
        -----
        IdentifiabilityWarning
            The data do not identify some parameters (too few customers or repeat purchases);
            the message names them, their standard errors are NaN (see "When the data do not
            identify a model" in the models user guide).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> m.n_customers_
        135.0
        """
        data = summary_arrays(summary, _COLUMNS, frequency=frequency, recency=recency, T=T)
        return self._fit_data(data, weights)
