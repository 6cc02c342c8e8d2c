"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), fitted by maximum likelihood.

Numerics. Following Fader & Hardie's note on implementing the model, a customer's likelihood is

    L = Γ(r+x) α^r β^s / Γ(r) · [P(T) + s ∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ],
    P(t) = (α+t)^-(r+x) (β+t)^-s.

Writing ``H(t) = s ∫_t^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ / P(t)``, a number in (0, 1) (the
expected value of ``((α+t)/(α+τ))^(r+x)`` over the remaining lifetime of a customer alive at
``t``), the bracket is ``P(T) (1 - H(T)) + P(t_x) H(t_x)``: a sum of two non-negative terms,
added in log space, so there is no cancellation and no overflow for heavy buyers.

``H`` is the note's Gauss hypergeometric function after Euler's transformation,
``H = s/(r+s+x) · 2F1(1, r+x; r+s+x+1; u)`` with ``u = (α-β)/(α+t)`` when ``α >= β`` (and
``(1-u) 2F1(1, s+1; r+s+x+1; u)`` with ``u = (β-α)/(β+t)`` otherwise). Its power series has
positive terms (each below ``u^j``) and is summed directly when ``u <= 0.9``, to as many terms
as the largest ``u`` of each class of pairs needs; its coefficients depend on ``x`` only and its
powers on ``t`` only. Elsewhere (extreme parameter values, which SciPy's ``hyp2f1`` returns as
NaN for large ``x``) ``H`` is computed from the integral
``H = ∫ s e^y (1+e^y)^-(s+1) (1+ε e^y)^-(r+x) dy`` over the real line, ``ε = (β+t)/(α+t)``, by
the trapezoidal rule in log space (exponentially convergent for this analytic integrand) plus
the exact tail. ``H`` is evaluated once per distinct ``(x, t)`` pair.

Gradient. The fit uses the analytic gradient with respect to ``(ln r, ln α, ln s, ln β)`` of the
same representation: the series is differentiated term by term (``d ln c_j/db = Σ_{i<j}
1/(b+i)``, ``d ln c_j/dc = -Σ_{i<j} 1/(c+i)``) and the integral under the integral sign
(the trapezoidal weights of ``d ln f``). The rows' weights are summed by pair (with each row's
shares of the bracket's two terms), so ``ln P``, ``ln H`` and their derivatives are evaluated
once per pair, and the per-fit constants (distinct ``x`` and pairs, weight totals) once per fit.

The model's public methods are those of every continuous-time model
(:class:`~retailcrm.models._transaction.ContinuousTimeModel`); this module holds its
likelihood, gradient and prediction formulas.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from scipy import special

from retailcrm.models._base import wdot
from retailcrm.models._inputs import FloatArray
from retailcrm.models._transaction import ContinuousTimeModel

__all__ = ["ParetoNBDModel"]

#: The power series is used for ``u <= _NEAR_U``, i.e. ``|ln(eps)| <= -ln(1 - _NEAR_U)``.
_NEAR_U = 0.9
#: The series stops once ``u**j`` (a bound on its terms) is below ``_SERIES_TOL``: the rest
#: of the sum is then below ``_SERIES_TOL / (1 - u) <= 5e-17``; at most ``_SERIES_TERMS``.
_SERIES_TOL = 5e-18
_SERIES_TERMS = 400
#: Upper edges of the classes of ``u`` summed separately (to their own number of terms).
_SERIES_BANDS = np.array([0.125, 0.5, 0.75])
_QUAD_NODES = 640
_QUAD_MARGIN = 38.0
_QUAD_GRID = np.linspace(0.0, 1.0, _QUAD_NODES + 1)
#: Elements per block of the two-dimensional (pair x term or node) arrays; bounds the memory.
_BLOCK = 1 << 17


class _Fixed(NamedTuple):
    """Per-fit constants of the log-likelihood: they depend on the data and weights only."""

    n: float  # total weight
    w_x: Any  # total weight of each distinct x
    w_same: Any  # weight of the rows with t_x == T, by (x, T) pair
    w_diff: FloatArray  # weights of the rows with t_x < T
    diff_T: Any  # their (x, T) pairs
    diff_tx: Any  # their (x, t_x) pairs


class _Data(NamedTuple):
    x: FloatArray
    ux: FloatArray
    ix: Any
    pair_x: FloatArray  # x of each distinct (x, t) pair
    pair_t: FloatArray  # t of each distinct (x, t) pair
    pair_ix: Any  # index of each pair's x in ux
    i_tx: Any  # each row's (x, t_x) pair
    i_T: Any  # each row's (x, T) pair
    same: Any  # rows with t_x == T
    weights: FloatArray  # the weights ``fixed`` was computed with
    fixed: _Fixed | None


def _fixed_terms(d: _Data, weights: FloatArray) -> _Fixed:
    """The per-fit constants for ``weights`` (cached in ``d`` for the weights of the fit)."""
    if weights is d.weights and d.fixed is not None:
        return d.fixed
    same, diff = d.same, ~d.same
    return _Fixed(
        float(np.sum(weights)),
        np.bincount(d.ix, weights=weights, minlength=d.ux.size),
        np.bincount(d.i_T[same], weights=weights[same], minlength=d.pair_t.size),
        weights[diff],
        d.i_T[diff],
        d.i_tx[diff],
    )


def _factorize(values: FloatArray) -> tuple[FloatArray, Any]:
    """The sorted distinct values and each value's index among them (``np.unique``), without
    a sort when ``values`` are already sorted (as the compressed rows' ``x`` are)."""
    if values.size and bool(np.all(values[1:] >= values[:-1])):
        new = np.empty(values.size, dtype=bool)
        new[0] = True
        np.not_equal(values[1:], values[:-1], out=new[1:])
        return values[new], np.cumsum(new) - 1
    uniq, codes = np.unique(values, return_inverse=True)
    return uniq, codes.ravel()


def _blocks(n: int, width: int) -> list[slice]:
    step = max(1, _BLOCK // max(width, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _series_block(
    bx: FloatArray, m1x: FloatArray, ix: Any, u: FloatArray, grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """:func:`_series` for pairs whose ``u`` are of one size class."""
    n = u.size
    umax = float(np.max(u))
    n_terms = 1
    if umax > 0:
        n_terms = int(min(_SERIES_TERMS, max(1, np.ceil(np.log(_SERIES_TOL) / np.log(umax)))))
    j = np.arange(n_terms, dtype=np.float64)[:, None]
    # The coefficients depend on x only: (term, distinct x) arrays, gathered for each pair and
    # contracted with the powers of u. With ``grad`` the contraction also gives
    # dS/db = sum_j c_j Sb_j u^j, -dS/dm1 = sum_j c_j Sm_j u^j and u dS/du = sum_j j c_j u^j,
    # with Sb_j = sum_{i<j} 1/(b+i) and Sm_j = sum_{i<j} 1/(m1+i) (rows 1..J hold j = 1..J).
    bj = bx + j
    mj = m1x + j
    coef = np.cumprod(bj / mj, axis=0)  # c_1 .. c_J
    if grad:
        coef = np.stack(
            [
                coef,
                coef * np.cumsum(1.0 / bj, axis=0),
                coef * np.cumsum(1.0 / mj, axis=0),
                coef * (j + 1.0),
            ]
        )
    with np.errstate(divide="ignore"):
        log_u = np.log(u)
    sums = np.empty((4, n) if grad else (1, n))
    for sl in _blocks(n, 4 * n_terms if grad else n_terms):
        powers = np.exp((j + 1.0) * log_u[sl])  # u^1 .. u^J (0 where u = 0)
        if grad:
            sums[:, sl] = np.einsum("kji,ji->ki", coef[..., ix[sl]], powers)
        else:
            sums[0, sl] = np.einsum("ji,ji->i", coef[:, ix[sl]], powers)
    total = 1.0 + sums[0]
    if not grad:
        return total, None
    # dS/du = (u dS/du) / u, and the first coefficient where u = 0
    pos = u > 0
    du = np.where(pos, sums[3] / np.where(pos, u, 1.0), coef[0, 0, ix])
    return total, np.stack([sums[1], -sums[2], du])


def _series(
    bx: FloatArray, m1x: FloatArray, ix: Any, u: FloatArray, grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """``S = sum_j c_j u^j``, ``c_j = prod_{i<j} (b+i)/(m1+i)``, for ``0 <= u <= _NEAR_U`` and
    ``0 < b < m1`` (so the terms are positive and below ``u^j``).

    ``b`` and ``m1`` are given for each distinct ``x`` (``bx``, ``m1x``; ``ix`` maps the pairs
    to them), ``u`` for each pair. With ``grad``, also returns ``[dS/db, dS/dm1, dS/du]``
    (shape ``(3, n)``), differentiated term by term: ``d ln c_j/db = sum_{i<j} 1/(b+i)``,
    ``d ln c_j/dm1 = -sum_{i<j} 1/(m1+i)``. Pairs are summed in classes of ``u``
    (``_SERIES_BANDS``), each to as many terms as its largest ``u`` needs.
    """
    band = np.searchsorted(_SERIES_BANDS, u)
    first = int(band[0]) if band.size else 0
    if np.all(band == first):
        return _series_block(bx, m1x, ix, u, grad)
    total = np.empty(u.size)
    dtot = np.empty((3, u.size)) if grad else None
    for cls in np.unique(band):
        sel = np.flatnonzero(band == cls)
        tot, dt = _series_block(bx, m1x, ix[sel], u[sel], grad)
        total[sel] = tot
        if dtot is not None and dt is not None:
            dtot[:, sel] = dt
    return total, dtot


def _quadrature(
    k: FloatArray, log_eps: FloatArray, s: float, grad: bool
) -> tuple[FloatArray, FloatArray | None]:
    """``ln H`` from the integral over ``y`` (module docstring) and, with ``grad``,
    ``[d ln H/dk, d ln H/ds, d ln H/d ln(eps)]`` (shape ``(3, n)``), differentiated under the
    integral sign (the node positions move with ``k`` and ``eps``, but the integral over the
    real line does not depend on them)."""
    n = k.size
    out = np.empty(n)
    dout = np.empty((3, n)) if grad else None
    log_s = np.log(s)
    for sl in _blocks(n, _QUAD_NODES + 1):
        kk = k[sl, None]
        le = log_eps[sl, None]
        lo = np.minimum(0.0, -le - np.log1p(kk)) - _QUAD_MARGIN
        hi = np.maximum(0.0, -le) + _QUAD_MARGIN
        y = lo + (hi - lo) * _QUAD_GRID
        h = (hi[:, 0] - lo[:, 0]) / _QUAD_NODES
        sp0 = np.logaddexp(0.0, y)
        sp1 = np.logaddexp(0.0, y + le)
        log_f = y - (s + 1) * sp0 - kk * sp1
        peak = np.max(log_f, axis=1)
        f = np.exp(log_f - peak[:, None])
        mass = f.sum(axis=1)
        body = log_s + peak + np.log(mass) + np.log(h)
        # Beyond hi the integrand is s eps^-k e^-(s+k)y to double precision: add the rest of the
        # (infinite, exponentially accurate) trapezoidal sum as a geometric series.
        k1, le1, hi1 = kk[:, 0], le[:, 0], hi[:, 0]
        c = s + k1
        ch = c * h
        one_m = -special.expm1(-ch)
        tail = log_s - k1 * le1 - c * hi1 + np.log(h) - ch - np.log(one_m)
        log_h = np.logaddexp(body, tail)
        out[sl] = log_h
        if dout is not None:
            pb = np.exp(body - log_h)
            pt = np.exp(tail - log_h)
            # weighted means over the nodes of d ln f/dk = -sp1, d ln f/ds = 1/s - sp0 and
            # d ln f/d ln(eps) = -k sigmoid(y + le)
            m_sp1 = np.einsum("ij,ij->i", f, sp1) / mass
            m_sp0 = np.einsum("ij,ij->i", f, sp0) / mass
            m_sig = np.einsum("ij,ij->i", f, np.exp(y + le - sp1)) / mass
            dtail_dc = -hi1 - h / one_m
            dout[0, sl] = -pb * m_sp1 + pt * (dtail_dc - le1)
            dout[1, sl] = 1.0 / s - pb * m_sp0 + pt * dtail_dc
            dout[2, sl] = -k1 * (pb * m_sig + pt)
    return out, dout


def _log_h(
    kx: FloatArray,
    ix: Any,
    t: FloatArray,
    s: float,
    alpha: float,
    beta: float,
    grad: bool = False,
) -> tuple[FloatArray, FloatArray | None]:
    """``ln H(t)`` (see the module docstring) of each ``(x, t)`` pair and, with ``grad``, its
    derivatives ``[d/dk, d/dalpha, d/ds, d/dbeta]`` (shape ``(4, n)``).

    ``kx = r + x`` for each distinct ``x``; ``ix`` maps the pairs to them.
    """
    out = np.empty(t.shape)
    dout = np.zeros((4, t.size)) if grad else None
    at = alpha + t
    bt = beta + t
    log_eps = np.log(bt) - np.log(at)
    near = np.abs(log_eps) <= -np.log1p(-_NEAR_U)
    all_near = bool(near.all())
    if all_near or np.any(near):
        ixn, atn, btn = (ix, at, bt) if all_near else (ix[near], at[near], bt[near])
        mx = kx + s
        if alpha >= beta:
            u = (alpha - beta) / atn
            bx = kx
        else:
            u = (beta - alpha) / btn
            bx = np.full(kx.shape, s + 1.0)
        total, dtot = _series(bx, mx + 1, ixn, u, grad)
        inv_m = 1 / mx[ixn]
        log_h = np.log(s) + np.log(inv_m) + np.log(total)
        if alpha < beta:
            log_h += np.log1p(-u)
        if all_near:
            out = log_h
        else:
            out[near] = log_h
        if dout is not None and dtot is not None:
            db, dm, du = dtot / total
            if alpha >= beta:  # b = k; u = (alpha - beta) / (alpha + t)
                g = np.stack([db + dm - inv_m, du * btn / atn**2, 1 / s - inv_m + dm, -du / atn])
            else:  # b = s + 1; u = (beta - alpha) / (beta + t), plus ln(1 - u)
                gu = du - 1 / (1 - u)
                g = np.stack([dm - inv_m, -gu / btn, 1 / s - inv_m + db + dm, gu * atn / btn**2])
            if all_near:
                dout = g
            else:
                dout[:, near] = g
    if not all_near:
        far = ~near
        log_h, dq = _quadrature(kx[ix[far]], log_eps[far], s, grad)
        out[far] = log_h
        if dout is not None and dq is not None:
            dk, ds, dle = dq
            # ln(eps) = ln(beta + t) - ln(alpha + t)
            dout[:, far] = np.stack([dk, -dle / at[far], ds, dle / bt[far]])
    if dout is not None:
        dout[:, out > 0] = 0.0  # clipped below
    return np.minimum(out, 0.0), dout


def _new_customer_pmf(
    nn: FloatArray, tt: FloatArray, r: Any, alpha: Any, s: float, beta: Any
) -> FloatArray:
    """``P(X(t) = n)`` of a customer alive at time 0 (see
    :meth:`ParetoNBDModel.probability_of_purchases`); ``r``, ``alpha``, ``beta`` may be arrays
    broadcasting with ``nn`` and ``tt``."""
    r, alpha, beta = (np.asarray(v, dtype=np.float64)[..., None] for v in (r, alpha, beta))

    def nb(n_: Any, tau: Any) -> Any:
        p = alpha / (alpha + tau)
        return np.exp(
            special.gammaln(r + n_)
            - special.gammaln(r)
            - special.gammaln(n_ + 1)
            + r * np.log(p)
            + special.xlogy(n_, 1 - p)
        )

    nodes, wts = np.polynomial.legendre.leggauss(200)
    w_t = (beta[..., 0] / (beta[..., 0] + tt)) ** s  # P(tau > t)
    lo = w_t[..., None]
    w = lo + (1 - lo) * (nodes + 1) / 2
    with np.errstate(divide="ignore", over="ignore"):
        tau = beta * special.expm1(-np.log(w) / s)
    integral = (1 - w_t) / 2 * np.sum(wts * nb(nn[..., None], tau), axis=-1)
    out = w_t * nb(nn[..., None], tt[..., None])[..., 0] + integral
    return np.asarray(out, dtype=np.float64)


class ParetoNBDModel(ContinuousTimeModel):
    """The Pareto/NBD model of repeat purchasing, fitted by maximum likelihood.

    While alive, a customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``; lifetimes are
    exponential with rate ``mu ~ Gamma(s, beta)``. The fitting options (``penalizer``,
    ``initial_params`` for ``r, alpha, s, beta``, ``max_iter``) are those of
    :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : dict of str to float
        ``r, alpha, s, beta`` (``alpha`` and ``beta`` in the summary's time unit). The other
        fitted attributes (``time_unit_``, ``log_likelihood_``, ``standard_errors_``, ...) are
        those of :class:`BetaGeoModel`.

    See Also
    --------
    BetaGeoModel : a faster-to-evaluate alternative with dropout at purchases.

    Notes
    -----
    Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your customers: Who are
    they and what will they do next? *Management Science* 33(1), 1-24; Fader, P. S. &
    Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related expressions.
    The likelihood and its analytic gradient are evaluated as described in the module
    docstring. On the CDNOW sample (weeks) the fit reproduces
    ``r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669``, log-likelihood -9595.0.

    Examples
    --------
    >>> from retailcrm.models import ParetoNBDModel
    >>> m = ParetoNBDModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
    ...     T=12, weights=[52, 52, 5, 5, 6, 15])
    >>> m.probability_alive(frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(2)
    array([0.01, 0.71])
    >>> m.probability_alive(frequency=[132], recency=[200], T=[200])  # a heavy buyer
    array([1.])
    >>> m.expected_purchases(10, frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(3)
    array([0.003, 1.174])
    >>> round(m.expected_purchases_new_customer(10), 3)
    1.797
    >>> m.probability_of_purchases([0, 1, 2], 10).round(3)
    array([0.439, 0.209, 0.117])
    >>> m.conditional_probability_of_purchases(
    ...     0, 10, frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(3)
    array([0.998, 0.568])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")

    def _prepare(self, data: dict[str, FloatArray], weights: FloatArray) -> _Data:
        x, t_x, T = data["frequency"], data["recency"], data["T"]
        n = x.size
        ux, ix = _factorize(x)
        ut, it = _factorize(np.concatenate([t_x, T]))
        # The distinct (x, t) pairs, sorted by x then t, from integer keys: a dense table when
        # the grid of codes is small (no sort), else a sort of the keys.
        key = np.concatenate([ix, ix]) * ut.size + it
        cells = ux.size * ut.size
        if cells <= max(4 * key.size, 1 << 20):
            used = np.zeros(cells, dtype=bool)
            used[key] = True
            pairs = np.flatnonzero(used)
            inv = (np.cumsum(used) - 1)[key]
        else:
            pairs, inv = np.unique(key, return_inverse=True)
            inv = inv.ravel()
        pair_ix = pairs // ut.size
        pair_t = ut[pairs % ut.size]
        w = np.asarray(weights, dtype=np.float64)
        d = _Data(x, ux, ix, ux[pair_ix], pair_t, pair_ix, inv[:n], inv[n:], t_x == T, w, None)
        return d._replace(fixed=_fixed_terms(d, w))

    def _initial_params(self, data: _Data, weights: FloatArray) -> FloatArray:
        n = weights.sum()
        T = data.pair_t[data.i_T]
        rate = data.x / np.maximum(T, 1e-12)
        m = wdot(weights, rate) / n
        v = wdot(weights, (rate - m) ** 2) / n
        mean_t = wdot(weights, T) / n
        r = 1.0
        if m > 0 and v > m / max(mean_t, 1e-12):
            r = float(np.clip(m * m / (v - m / max(mean_t, 1e-12)), 0.05, 10.0))
        alpha = float(np.clip(r / m if m > 0 else mean_t, 1e-4, 1e6))
        return np.array([r, alpha, 1.0, max(mean_t, 1e-4)])

    def _row_loglik(
        self, log_params: FloatArray, d: _Data
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        r, alpha, s, beta = np.exp(log_params)
        k = r + d.pair_x
        log_p = -k * np.log(alpha + d.pair_t) - s * np.log(beta + d.pair_t)
        log_h = _log_h(r + d.ux, d.pair_ix, d.pair_t, float(s), float(alpha), float(beta))[0]
        log_1mh = np.log1p(-np.exp(log_h))
        alive = log_p[d.i_T] + log_1mh[d.i_T]
        died = log_p[d.i_tx] + log_h[d.i_tx]
        bracket = np.where(d.same, log_p[d.i_T], np.logaddexp(alive, died))
        const = special.gammaln(r + d.ux) - special.gammaln(r) + r * np.log(alpha)
        ll = const[d.ix] + s * np.log(beta) + bracket
        return ll, bracket, log_p[d.i_T]

    def _negloglik(self, log_params: FloatArray, data: _Data, weights: FloatArray) -> float:
        return self._fit_objective(log_params, data, weights, grad=False)[0]

    def _negloglik_and_grad(
        self, log_params: FloatArray, data: _Data, weights: FloatArray
    ) -> tuple[float, FloatArray]:
        return self._fit_objective(log_params, data, weights, grad=True)

    def _fit_objective(
        self, log_params: FloatArray, d: _Data, weights: FloatArray, grad: bool
    ) -> tuple[float, FloatArray]:
        """The total weighted negative log-likelihood and (with ``grad``) its gradient with
        respect to ``log_params`` (empty without ``grad``), from the per-fit constants of ``d``.

        With ``w_a`` and ``w_d`` the shares of the bracket's two terms (alive at ``T``; died
        after ``t_x``), ``d ln(bracket) = w_a [d ln P(T) + d ln(1-H(T))] + w_d [d ln P(t_x)
        + d ln H(t_x)]`` and ``d ln(1-H) = -H/(1-H) d ln H``; the row weights are summed by
        ``(x, t)`` pair, so every derivative of ``ln P`` and ``ln H`` is taken once per pair.
        """
        f = _fixed_terms(d, weights)
        r, alpha, s, beta = (float(v) for v in np.exp(log_params))
        t = d.pair_t
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            k = r + d.pair_x
            at = alpha + t
            bt = beta + t
            la = np.log(at)
            lb = np.log(bt)
            log_p = -k * la - s * lb
            log_h, dh = _log_h(r + d.ux, d.pair_ix, t, s, alpha, beta, grad)
            log_1mh = np.log1p(-np.exp(log_h))
            # Per row: bracket = ln(e^alive + e^died) = top + ln(e_a + e_d), computed in place
            # (the rows are the large arrays: few temporaries, no scalar-loop logaddexp).
            e_a = np.take(log_p + log_1mh, f.diff_T)
            e_d = np.take(log_p + log_h, f.diff_tx)
            top = np.maximum(e_a, e_d)
            np.exp(np.subtract(e_a, top, out=e_a), out=e_a)
            np.exp(np.subtract(e_d, top, out=e_d), out=e_d)
            both = np.add(e_a, e_d)
            bracket = np.add(top, np.log(both), out=top)
            log_a, log_b = np.log(alpha), np.log(beta)
            gl = special.gammaln(r + d.ux)
            value = (
                wdot(f.w_x, gl)
                + f.n * (r * log_a + s * log_b - float(special.gammaln(r)))
                + wdot(f.w_same, log_p)
                + float(np.multiply(f.w_diff, bracket, out=bracket).sum())
            )
            if not grad or dh is None:
                return -value, np.empty(0)
            n_pairs = t.size
            np.divide(f.w_diff, both, out=both)  # weight / (e_a + e_d)
            c_alive = np.bincount(f.diff_T, np.multiply(e_a, both, out=e_a), n_pairs)
            c_died = np.bincount(f.diff_tx, np.multiply(e_d, both, out=e_d), n_pairs)
            c_p = f.w_same + c_alive + c_died  # weight of d ln P at each pair
            odds = np.exp(log_h - log_1mh)  # H / (1 - H)
            c_h = c_died - np.where(c_alive > 0, c_alive * odds, 0.0)  # weight of d ln H
            # d ln P / d(k, alpha, s, beta) = (-ln(alpha+t), -k/(alpha+t), -ln(beta+t), -s/(beta+t))
            d_p = np.stack([la, k / at, lb, s / bt])
            g = (dh * c_h).sum(axis=1) - (d_p * c_p).sum(axis=1)
            g[0] += wdot(f.w_x, special.digamma(r + d.ux)) + f.n * (
                log_a - float(special.digamma(r))
            )
            g[1] += f.n * r / alpha
            g[2] += f.n * log_b
            g[3] += f.n * s / beta
        return -value, -g * np.array([r, alpha, s, beta])

    # ------------------------------------------------------------------ predictions
    def _customer_data(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> _Data:
        data = {"frequency": x, "recency": t_x, "T": T}
        return self._prepare(data, np.ones(x.size))

    def _log_prob_alive(self, d: _Data) -> FloatArray:
        theta = np.log(np.array(self._param_values()))
        with np.errstate(divide="ignore", over="ignore", under="ignore"):
            _, bracket, log_p_t = self._row_loglik(theta, d)
        return np.minimum(log_p_t - bracket, 0.0)

    def _probability_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """``P(alive) = P(T) / [P(T) (1 - H(T)) + P(t_x) H(t_x)]`` in the notation of the
        module docstring (Fader & Hardie 2005, equation 18), in log space."""
        d = self._customer_data(x, t_x, T)
        return np.asarray(np.exp(self._log_prob_alive(d)), dtype=np.float64)

    def _expected_purchases(
        self, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        d = self._customer_data(x, t_x, T)
        r, alpha, s, beta = self._param_values()
        T_ = d.pair_t[d.i_T]
        alive = np.exp(self._log_prob_alive(d))
        return np.asarray(
            alive * self._expected_alive(t, r + d.x, alpha + T_, s, beta + T_), dtype=np.float64
        )

    @staticmethod
    def _expected_alive(t: FloatArray, k: Any, a_t: Any, s: float, b_t: Any) -> FloatArray:
        """``k b_t / (a_t (s-1)) [1 - (b_t / (b_t+t))^(s-1)]``, the removable singularity at
        ``s = 1`` handled by ``expm1`` (Fader & Hardie 2005, equations 17 and 20)."""
        log_ratio = np.log1p(t / b_t)  # ln((β+T+t)/(β+T))
        e = s - 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(
                e == 0, log_ratio, -special.expm1(-e * log_ratio) / np.where(e == 0, 1.0, e)
            )
        return np.asarray(np.maximum(k * b_t / a_t * frac, 0.0), dtype=np.float64)

    def _expected_purchases_new(self, t: FloatArray) -> FloatArray:
        r, alpha, s, beta = self._param_values()
        return self._expected_alive(t, r, alpha, s, beta)

    def _probability_of_purchases(self, n: FloatArray, t: FloatArray) -> FloatArray:
        r, alpha, s, beta = self._param_values()
        nn, tt = np.broadcast_arrays(n, t)
        return _new_customer_pmf(nn, tt, r, alpha, s, beta)

    def _conditional_probability_of_purchases(
        self, n: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        d = self._customer_data(x, t_x, T)
        x, T_ = d.x, d.pair_t[d.i_T]
        alive = np.exp(self._log_prob_alive(d))
        nn, tt, x, T_, alive = np.broadcast_arrays(n, t, x, T_, alive)
        r, alpha, s, beta = self._param_values()
        fresh = _new_customer_pmf(nn, tt, r + x, alpha + T_, s, beta + T_)
        out = alive * fresh + (1.0 - alive) * (nn == 0)
        return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)
