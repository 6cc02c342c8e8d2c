"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Colombo & Jiang 1999).

Numerics. With ``x`` repeat transactions of mean value ``m`` the log-likelihood of a customer is

    ln L = ln G(px+q) - ln G(px) - ln G(q) + q ln(gamma) + (px-1) ln(m) + px ln(x)
           - (px+q) ln(gamma + x m)

(the density of the *mean* ``m``, Jacobian included, as in Fader & Hardie's 2013 note). It is
evaluated with ``gammaln`` and written with ``log1p`` where it mixes terms of different size:
``px ln(x m / (gamma + x m)) = -px log1p(gamma / (x m))`` and ``q ln(gamma / (gamma + x m)) =
-q log1p(x m / gamma)``. The gradient is analytic (digamma functions). The rows are the distinct
``(x, m)`` pairs weighted by their counts.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar, NamedTuple

import numpy as np
from scipy import special

from retailcrm.exceptions import (
    DataQualityWarning,
    IdentifiabilityWarning,
    InvalidDataError,
    format_rows,
)
from retailcrm.models._base import LOG_BOUND, BaseFitter, caller_stacklevel
from retailcrm.models._inputs import (
    FloatArray,
    summary_arrays,
    summary_input,
    unique_rows,
    validate_weights,
)
from retailcrm.models._keyed import read_keyed

__all__ = ["GammaGammaModel"]

_COLUMNS = ("frequency", "monetary_value")


class _Data(NamedTuple):
    x: FloatArray
    m: FloatArray


def _rows(mask: Any) -> str:
    rows = np.flatnonzero(mask)
    return format_rows([int(i) for i in rows[:5]], total=int(rows.size))


class GammaGammaModel(BaseFitter):
    """The Gamma-Gamma model of the average value of a customer's transactions.

    A customer's transaction values are Gamma(``p``, ``nu``) with a customer-specific scale
    ``nu ~ Gamma(q, gamma)``; the model is fitted on each repeat buyer's number of repeat
    transactions ``x`` and their mean value ``m_x``, and predicts the mean value of future
    transactions. It is meant to be combined with a transaction model (for instance
    :class:`BetaGeoModel`) in :func:`customer_lifetime_value`. The fitting options
    (``penalizer``, ``initial_params`` for ``p, q, gamma`` — default: deterministic
    moment-based starts —, ``max_iter``) are those of :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : dict of str to float
        ``p`` (shape of a transaction's value), ``q`` and ``gamma`` (shape and rate of the
        customers' scale ``nu``; ``gamma`` is in the currency's unit). The other fitted
        attributes (``log_likelihood_``, ``standard_errors_``, ...) are those of
        :class:`BetaGeoModel`; ``n_customers_`` counts the repeat buyers fitted.

    See Also
    --------
    customer_lifetime_value : combines a transaction model and this spend model.
    btyd_summary : builds ``frequency`` and ``monetary_value``.

    Notes
    -----
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using iso-value curves for
    customer base analysis. *Journal of Marketing Research* 42(4), 415-430; Fader, P. S. &
    Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value (note); the model is that
    of Colombo, R. & Jiang, W. (1999), *Journal of Interactive Marketing* 13(3), 2-12.

    The likelihood is that of the note (see the module docstring), maximised over the
    log-parameters with L-BFGS-B and the analytic gradient from deterministic starting values,
    then polished by Newton steps. On the 946 repeat buyers of the CDNOW sample (calibration
    1997-01-01 to 1997-09-30) with ``m_x`` the mean of the repeat purchase *days'* totals (the
    convention of :func:`btyd_summary`: a day's lines are one transaction, the first purchase
    is excluded) it gives ``p = 6.250, q = 3.744, gamma = 15.44``, the published
    ``6.25, 3.74, 15.44``.

    The model assumes that spend per transaction is independent of the number of
    transactions; check that ``frequency`` and ``monetary_value`` of the repeat buyers are
    only weakly correlated (0.11 on CDNOW) before relying on it.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models import GammaGammaModel
    >>> repeat = pd.DataFrame({"frequency": [3, 4, 6, 2, 5, 3],
    ...                        "monetary_value": [8.0, 15.0, 60.0, 25.0, 120.0, 40.0]})
    >>> model = GammaGammaModel().fit(repeat, weights=[10] * 6)  # 10 customers a row
    >>> sorted(model.params_)
    ['gamma', 'p', 'q']
    >>> model.expected_spend([0, 3], [0.0, 8.0]).round(2)
    array([55.12, 13.85])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")

    def fit(
        self,
        summary: Any = None,
        monetary_value: Any = None,
        *,
        frequency: Any = None,
        weights: Any = None,
    ) -> GammaGammaModel:
        """Fit the model by maximum likelihood on repeat buyers and return it.

        Parameters
        ----------
        summary : dataframe, mapping or array-like, optional
            Per-customer summary of repeat buyers with ``frequency`` (repeat transactions,
            > 0) and ``monetary_value`` (their mean value, > 0), any engine; only those columns
            are read. Or a mapping of the two to arrays, or the ``frequency`` array with
            ``monetary_value`` following positionally.
        monetary_value, frequency : array-like, optional
            The summary as arrays.
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        GammaGammaModel
            The fitted model.

        Raises
        ------
        InvalidDataError
            A row has ``frequency`` 0 or ``monetary_value`` <= 0 (the message names the rows
            and says to fit on ``summary[summary.frequency > 0]``), values are missing or
            not whole, or there are no repeat buyers.
        ConvergenceError
            No starting point converged; the message says what to try.

        Warns
        -----
        IdentifiabilityWarning
            The data do not identify some parameters (too few repeat buyers); the message
            names them, their standard errors are NaN. When every repeat buyer has the same
            ``monetary_value`` (one repeat buyer, say) the likelihood has no maximum: without a
            penalizer the model is then set at the edge of the search range, where it predicts
            that spend for everyone, and says so.

        Examples
        --------
        >>> from retailcrm.models import GammaGammaModel
        >>> m = GammaGammaModel().fit(frequency=[3, 4, 6, 2, 5, 3],
        ...                           monetary_value=[8, 15, 60, 25, 120, 40], weights=[10] * 6)
        >>> m.n_customers_
        60.0
        >>> GammaGammaModel().fit(frequency=[0, 2], monetary_value=[0.0, 30.0])
        Traceback (most recent call last):
        ...
        retailcrm.exceptions.InvalidDataError: GammaGammaModel.fit: frequency is 0 at row [0] ...
        """
        if weights is None:  # DuckDB / Spark: distinct rows counted in the engine
            frame, _ = summary_input(
                summary, _COLUMNS, {"frequency": frequency, "monetary_value": monetary_value}
            )
            merged = unique_rows(frame, _COLUMNS)
            if merged is not None:
                summary, frequency, monetary_value, weights = merged[0], None, None, merged[1]
        data = _repeat_buyers(summary, frequency, monetary_value)
        spend = _constant_spend(data, weights) if not self.penalizer else None
        if spend is not None:
            return self._fit_constant_spend(data, weights, spend)
        return self._fit_data(data, weights)

    def _fit_constant_spend(
        self, data: dict[str, FloatArray], weights: Any, spend: float
    ) -> GammaGammaModel:
        # Every repeat buyer's mean spend is the same (or there is one repeat buyer): the
        # likelihood grows without bound as p and q grow (no spread within or between
        # customers), so the maximum within the search range is at its edge, p = q = e^B, with
        # gamma = spend (q - 1) / p, which predicts ``spend`` for every customer.
        big = math.exp(LOG_BOUND)
        gamma = spend * (big - 1.0) / big
        theta = [LOG_BOUND, LOG_BOUND, float(np.clip(math.log(gamma), -LOG_BOUND, LOG_BOUND))]
        self._fit_at_boundary(data, weights, theta)
        n = self.n_customers_
        who = (
            f"there is a single repeat buyer (monetary_value {spend:,.6g}),"
            if n == 1
            else f"all {n:,.10g} repeat buyers have the same monetary_value, {spend:,.6g},"
        )
        warnings.warn(
            IdentifiabilityWarning(
                f"GammaGammaModel.fit: {who} so the data do not identify the "
                "parameters p, q, gamma: spend that never varies makes the likelihood grow "
                "without bound as p and q grow. The model is set at the edge of the search "
                f"range (p = q = {big:.0e}, gamma = {self.params_['gamma']:.6g}), where every "
                f"customer's expected spend is {spend:,.6g}; the standard errors are NaN. Fix: "
                "fit on more repeat buyers or a longer calibration period, or add a small "
                "penalizer (GammaGammaModel(penalizer=0.01))."
            ),
            stacklevel=caller_stacklevel(),
        )
        return self

    def _empty_data_message(self) -> str:
        return "there are no repeat buyers (0 rows), so there is no repeat spend to fit."

    def _empty_data_fix(self) -> str:
        return (
            "fit on the repeat buyers, summary[summary.frequency > 0], of a summary that has "
            "some; if there are none, lengthen the calibration period (btyd_summary's "
            "observation_end or calibration_end) or add customers."
        )

    # ------------------------------------------------------------------ likelihood
    def _prepare(self, data: dict[str, FloatArray], weights: FloatArray) -> _Data:
        return _Data(data["frequency"], data["monetary_value"])

    def _initial_params(self, data: _Data, weights: FloatArray) -> FloatArray:
        # Moments of the customers' mean spend, ignoring the noise of small x: m ~ p / nu with
        # nu ~ Gamma(q, gamma), so CV^2(m) = 1 / (q - 2) and E[m] = p gamma / (q - 1).
        n = weights.sum()
        mean = float(weights @ data.m) / n
        var = float(weights @ (data.m - mean) ** 2) / n
        cv2 = var / (mean * mean) if mean > 0 else 1.0
        q = float(np.clip(2.0 + 1.0 / max(cv2, 1e-3), 2.5, 50.0))
        p = 2.0
        return np.array([p, q, max(mean * (q - 1.0) / p, 1e-4)])

    @staticmethod
    def _loglik_terms(params: FloatArray, d: _Data) -> FloatArray:
        p, q, g = params
        px = p * d.x
        xm = d.x * d.m
        return np.asarray(
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            - np.log(d.m)
            - px * np.log1p(g / xm)
            - q * np.log1p(xm / g),
            dtype=np.float64,
        )

    def _negloglik(self, log_params: FloatArray, data: _Data, weights: FloatArray) -> float:
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ll = self._loglik_terms(np.exp(log_params), data)
        return -float(weights @ ll)

    def _negloglik_and_grad(
        self, log_params: FloatArray, data: _Data, weights: FloatArray
    ) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        p, q, g = params
        d = data
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ll = self._loglik_terms(params, d)
            px = p * d.x
            xm = d.x * d.m
            dig = special.digamma(px + q)
            g_p = weights @ (d.x * (dig - special.digamma(px) - np.log1p(g / xm)))
            g_q = weights @ (dig - special.digamma(q) - np.log1p(xm / g))
            g_g = weights @ (q / g - (px + q) / (g + xm))
        grad = -np.array([g_p * p, g_q * q, g_g * g])
        return -float(weights @ ll), grad

    # ------------------------------------------------------------------ predictions
    def expected_spend(
        self,
        summary: Any = None,
        monetary_value: Any = None,
        *,
        frequency: Any = None,
    ) -> Any:
        """Return each customer's expected value of a future transaction.

        Parameters
        ----------
        summary : dataframe, mapping or array-like, optional
            Per-customer summary with ``customer_id``, ``frequency`` and ``monetary_value``
            (any engine); all customers may be given, including those without repeat
            purchases. Or a mapping of the two columns to arrays, or the ``frequency`` array
            with ``monetary_value`` following positionally.
        monetary_value, frequency : array-like, optional
            The summary as arrays.

        Returns
        -------
        dataframe or numpy.ndarray
            For a summary frame: the caller's kind of frame with ``customer_id`` and
            ``expected_spend``, one row per summary row (a pandas result keeps the summary's
            index). For arrays: one value per customer, in order. Customers with
            ``frequency`` 0 get the population mean ``p * gamma / (q - 1)`` (infinite when
            ``q <= 1``).

        Notes
        -----
        Fader, Hardie & Lee (2005), equation (5), and Fader & Hardie (2013), equation (6):

            E[Z | p, q, gamma, m_x, x] = p (gamma + x m_x) / (p x + q - 1),

        a weighted mean of the population mean ``p gamma / (q - 1)`` and the customer's
        observed mean ``m_x``, with weight ``p x / (p x + q - 1)`` on the latter.

        Examples
        --------
        >>> import pandas as pd
        >>> from retailcrm.models import GammaGammaModel
        >>> m = GammaGammaModel().fit(frequency=[3, 4, 6, 2, 5, 3],
        ...                           monetary_value=[8, 15, 60, 25, 120, 40], weights=[10] * 6)
        >>> summary = pd.DataFrame({"customer_id": ["ann", "bob", "cy"], "frequency": [0, 3, 5],
        ...                         "monetary_value": [0.0, 8.0, 120.0]})
        >>> m.expected_spend(summary).round(2)
          customer_id  expected_spend
        0         ann           55.12
        1         bob           13.85
        2          cy          114.92
        """
        self._check_fitted()
        arrays = {"frequency": frequency, "monetary_value": monetary_value}
        frame, given = summary_input(summary, _COLUMNS, arrays)
        if frame is None:
            return self._expected_spend(summary_arrays(None, _COLUMNS, **given))
        data, keys = read_keyed(frame, _COLUMNS, owner="GammaGammaModel.expected_spend")
        spend = self._expected_spend(data)
        return keys.frame({"expected_spend": spend}, owner="GammaGammaModel.expected_spend")

    def _expected_spend(self, data: dict[str, FloatArray]) -> FloatArray:
        p, q, g = self._param_values()
        x, m = data["frequency"], data["monetary_value"]
        den = p * x + q - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(den > 0, p * (g + x * m) / np.where(den > 0, den, 1.0), np.inf)
        infinite = np.isinf(out) & np.isfinite(x)
        if infinite.any():
            # the posterior spend distribution has no finite mean: say so, never silently inf
            n, worst = int(infinite.sum()), float(x[infinite].max())
            who = (
                f"{n:,} customer{'' if n == 1 else 's'} with frequency <= {worst:,.6g} "
                f"get{'s' if n == 1 else ''}"
            )
            warnings.warn(
                DataQualityWarning(
                    f"GammaGammaModel.expected_spend: {who} expected_spend inf, because "
                    f"the fitted q = {q:.4g} makes p * frequency + q - 1 <= 0 for them (p = {p:.4g}): the "
                    "fitted spend distribution is so heavy-tailed that its mean is infinite "
                    "for customers with few repeat purchases (for frequency 0 whenever q <= 1). "
                    "Fix: look for outlying monetary_value in the fitting data (a few huge "
                    "orders, unit errors) and refit without them, or predict only customers "
                    "whose p * frequency + q > 1."
                ),
                stacklevel=caller_stacklevel(),
            )
        return np.asarray(out, dtype=np.float64)


def _constant_spend(data: dict[str, FloatArray], weights: Any) -> float | None:
    """The common monetary_value when every (positively weighted) row has the same, else None."""
    m = data["monetary_value"]
    if not m.size:
        return None
    used = m[validate_weights(weights, m.size) > 0]
    return float(used[0]) if used.size and used.min() == used.max() else None


def _repeat_buyers(summary: Any, frequency: Any, monetary_value: Any) -> dict[str, FloatArray]:
    arrays = {"frequency": frequency, "monetary_value": monetary_value}
    frame, given = summary_input(summary, _COLUMNS, arrays)
    data = summary_arrays(frame, _COLUMNS, validate=False, **given)
    x, m = data["frequency"], data["monetary_value"]
    problems = []
    zero = np.isfinite(x) & (x <= 0)
    if zero.any():
        problems.append(
            f"frequency is 0 at {_rows(zero)} (customers without repeat purchases have no "
            "repeat spend)"
        )
    nonpos = np.isfinite(m) & (m <= 0) & ~zero
    if nonpos.any():
        problems.append(f"monetary_value is not positive at {_rows(nonpos)}")
    if problems:
        raise InvalidDataError(
            "GammaGammaModel.fit: "
            + "; ".join(problems)
            + ". Fix: fit on repeat buyers: summary[summary.frequency > 0] (and drop repeat "
            "buyers whose repeat purchases were free: summary[summary.monetary_value > 0])."
        )
    return summary_arrays(None, _COLUMNS, frequency=x, monetary_value=m)
