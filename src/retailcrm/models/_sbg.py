"""The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from scipy import special

from retailcrm._params import check_number
from retailcrm.exceptions import ConfigError, InvalidDataError
from retailcrm.models._base import BaseFitter, wdot
from retailcrm.models._inputs import FloatArray, as_float_or_array

__all__ = ["ShiftedBetaGeometricModel"]


def _survivor_rows(survivors: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(period, churned flag, count) rows from one or several cohorts' survivor counts."""
    cohorts: Sequence[Any]
    arr = np.asarray(survivors, dtype=object)
    if arr.ndim == 1 and arr.size and np.ndim(arr[0]) == 0:
        cohorts = [survivors]
    else:
        cohorts = list(survivors)
    if not cohorts:
        raise InvalidDataError(
            "survivors: no counts given (an empty sequence), so there is nothing to fit. Fix: "
            "pass counts of active customers at the start of periods 0..n, e.g. "
            "[1000, 631, 468], or one such sequence per cohort."
        )
    periods: list[float] = []
    churned: list[float] = []
    counts: list[float] = []
    for ci, cohort in enumerate(cohorts):
        s = np.asarray(cohort, dtype=np.float64).ravel()
        where = f"cohort {ci}" if len(cohorts) > 1 else "survivors"
        if s.size < 2:
            raise InvalidDataError(
                f"{where}: need the cohort size and at least one later count, got {s.size} "
                "value(s). Fix: pass counts of active customers at the start of periods 0..n, "
                "e.g. [1000, 631, 468]."
            )
        if not np.all(np.isfinite(s)) or np.any(s < 0) or np.any(s != np.floor(s)):
            raise InvalidDataError(
                f"{where}: counts must be whole numbers >= 0, got {s.tolist()}. Fix: pass "
                "customer counts."
            )
        drops = -np.diff(s)
        if np.any(drops < 0):
            bad = [int(i) + 1 for i in np.flatnonzero(drops < 0)[:5]]
            raise InvalidDataError(
                f"{where}: the number of active customers increases at period(s) {bad} "
                f"({s.tolist()}). Fix: a cohort can only shrink; pass one cohort per "
                "acquisition period."
            )
        if s[0] <= 0:
            raise InvalidDataError(f"{where}: the cohort size (first count) must be > 0.")
        n = s.size - 1
        periods += [float(t) for t in range(1, n + 1)] + [float(n)]
        churned += [1.0] * n + [0.0]
        counts += [*drops.tolist(), float(s[-1])]
    return np.array(periods), np.array(churned), np.array(counts)


class ShiftedBetaGeometricModel(BaseFitter):
    """The shifted-beta-geometric (sBG) model of contract renewals, by maximum likelihood.

    Each customer renews at the end of every period with probability ``1 - theta`` and
    churns with probability ``theta``; ``theta ~ Beta(alpha, beta)`` across customers, so the
    cohort's retention rate rises over time as the likelier churners leave. The fitting
    options (``penalizer``, ``initial_params`` for ``alpha, beta``, ``max_iter``) are those of
    :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : dict of str to float
        ``alpha, beta``. The other fitted attributes (``log_likelihood_``,
        ``standard_errors_``, ...) are those of :class:`BetaGeoModel`; ``n_customers_`` sums
        the cohort sizes.

    Notes
    -----
    Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
    Interactive Marketing* 21(1), 76-90. ``P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta)``,
    ``S(t) = B(alpha, beta+t) / B(alpha, beta)``, retention rate
    ``r_t = (beta+t-1) / (alpha+beta+t-1)``. The log-likelihood of a cohort is
    ``sum_t n_t ln P(T = t) + n_survived ln S(n)``. On the paper's "regular" cohort
    (1000, 631, 468, 382, 326, 289, 262, 241) the fit gives ``alpha = 0.704, beta = 1.182``,
    log-likelihood -1611.2.

    Examples
    --------
    >>> from retailcrm.models import ShiftedBetaGeometricModel
    >>> m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'alpha': 0.704, 'beta': 1.182}
    >>> round(m.log_likelihood_, 1)
    -1680.3
    >>> m.survival_function([1, 2, 12]).round(3)
    array([0.627, 0.474, 0.17 ])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")

    def fit(
        self,
        survivors: Any = None,
        *,
        tenure: Any = None,
        churned: Any = None,
        weights: Any = None,
    ) -> ShiftedBetaGeometricModel:
        """Fit the model by maximum likelihood and return it.

        Parameters
        ----------
        survivors : sequence of int, or sequence of such sequences
            Active customers at the start of periods 0, 1, ..., n of one cohort (the first
            value is the cohort size), or one such sequence per cohort (cohorts may have
            different lengths).
        tenure, churned : array-like, optional
            Individual-level data instead of ``survivors``: for each customer, the number of
            periods observed (``tenure >= 1``) and whether the customer churned at the end of
            the last of them (``churned`` true) or is still active (false).
        weights : array-like, optional
            With ``tenure``/``churned``: customers per row (default 1).

        Returns
        -------
        ShiftedBetaGeometricModel
            The fitted model.

        Raises
        ------
        ConfigError
            Neither or both of ``survivors`` and ``tenure``/``churned`` are given.
        InvalidDataError
            Counts are not whole, negative or increasing; tenure is not a whole number >= 1;
            there are no customers.
        ConvergenceError
            No starting point converged; the message says what to try.

        Warns
        -----
        IdentifiabilityWarning
            The cohorts cannot pin down ``alpha`` and ``beta`` (a single period, or nobody
            churns); as for :meth:`BetaGeoModel.fit`.

        Examples
        --------
        >>> from retailcrm.models import ShiftedBetaGeometricModel
        >>> m = ShiftedBetaGeometricModel().fit(tenure=[1, 2, 3, 3], churned=[1, 1, 0, 1],
        ...                                     weights=[30, 15, 45, 10])
        >>> sorted(m.params_)
        ['alpha', 'beta']
        """
        if survivors is not None and (tenure is not None or churned is not None):
            raise ConfigError(
                "Got both survivors and tenure/churned. Fix: pass cohort counts "
                "(survivors=...) or individual data (tenure=..., churned=...), not both."
            )
        if survivors is not None:
            if weights is not None:
                raise ConfigError("weights apply to tenure/churned rows, not to survivors.")
            t, c, w = _survivor_rows(survivors)
        elif tenure is not None and churned is not None:
            t = np.asarray(tenure, dtype=np.float64).ravel()
            c = np.asarray(churned, dtype=np.float64).ravel()
            if t.size != c.size:
                raise ConfigError(
                    f"tenure has {t.size} values and churned {c.size}. Fix: one of each per "
                    "customer."
                )
            bad = ~np.isfinite(t) | (t < 1) | (t != np.floor(t))
            if bad.any():
                rows = np.flatnonzero(bad)[:5].tolist()
                raise InvalidDataError(
                    f"tenure must be a whole number of periods >= 1; rows {rows} are not. "
                    "Fix: count the periods each customer was observed, starting at 1."
                )
            if not np.all((c == 0) | (c == 1)):
                raise InvalidDataError("churned must be boolean (0/1 or True/False).")
            w = weights
        else:
            raise ConfigError(
                "No data. Fix: pass survivors=[cohort size, active after period 1, ...] or "
                "tenure=... and churned=...."
            )
        return self._fit_data({"tenure": t, "churned": c}, w)

    def _initial_params(self, data: dict[str, FloatArray], weights: FloatArray) -> FloatArray:
        return np.array([1.0, 1.0])

    def _empty_data_message(self) -> str:
        return "tenure and churned are empty (0 customers), so there is nothing to fit."

    def _empty_data_fix(self) -> str:
        return (
            "pass one tenure and one churned value per customer, or cohort counts as "
            "survivors=[cohort size, active after period 1, ...]."
        )

    def _negloglik(self, log_params: FloatArray, data: Any, weights: FloatArray) -> float:
        alpha, beta = np.exp(log_params)
        t, c = data["tenure"], data["churned"]
        lb = special.betaln(alpha, beta)
        ll = np.where(
            c > 0,
            special.betaln(alpha + 1, beta + t - 1) - lb,
            special.betaln(alpha, beta + t) - lb,
        )
        return -wdot(weights, ll)

    def survival_function(self, t: Any) -> float | FloatArray:
        """Return ``S(t)``, the share of a cohort still active after ``t`` periods.

        Parameters
        ----------
        t : int or array of int
            Number of periods (renewal opportunities) since acquisition, >= 0.

        Returns
        -------
        float or numpy.ndarray
            ``B(alpha, beta+t) / B(alpha, beta)``.

        Examples
        --------
        >>> from retailcrm.models import ShiftedBetaGeometricModel
        >>> m = ShiftedBetaGeometricModel().fit([1000, 869, 743, 653, 593, 551, 517, 491])
        >>> round(m.survival_function(7), 3)
        0.489
        """
        alpha, beta = self._param_values()
        tt = self._periods(t, minimum=0)
        return as_float_or_array(
            np.exp(special.betaln(alpha, beta + tt) - special.betaln(alpha, beta))
        )

    def churn_probability(self, t: Any) -> float | FloatArray:
        """Return ``P(T = t)``, the share of a cohort that churns at the end of period ``t``.

        Parameters
        ----------
        t : int or array of int
            Period, >= 1.

        Returns
        -------
        float or numpy.ndarray
            ``B(alpha+1, beta+t-1) / B(alpha, beta)``.

        Examples
        --------
        >>> from retailcrm.models import ShiftedBetaGeometricModel
        >>> m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(m.churn_probability(1), 3)
        0.373
        """
        alpha, beta = self._param_values()
        tt = self._periods(t, minimum=1)
        return as_float_or_array(
            np.exp(special.betaln(alpha + 1, beta + tt - 1) - special.betaln(alpha, beta))
        )

    def retention_rate(self, t: Any) -> float | FloatArray:
        """Return the period-``t`` retention rate ``S(t) / S(t-1) = (beta+t-1)/(alpha+beta+t-1)``.

        Parameters
        ----------
        t : int or array of int
            Period, >= 1.

        Returns
        -------
        float or numpy.ndarray
            The share of customers active at the start of period ``t`` who renew at its end.

        Examples
        --------
        >>> from retailcrm.models import ShiftedBetaGeometricModel
        >>> m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.retention_rate([1, 2, 10]).round(3)
        array([0.627, 0.756, 0.935])
        """
        alpha, beta = self._param_values()
        tt = self._periods(t, minimum=1)
        return as_float_or_array((beta + tt - 1) / (alpha + beta + tt - 1))

    def expected_residual_lifetime(
        self, renewals: Any, discount_rate: float = 0.0
    ) -> float | FloatArray:
        """Return the (discounted) expected number of further renewals of an active customer.

        Parameters
        ----------
        renewals : int or array of int
            Renewals made so far (``n >= 0``); the customer is active now.
        discount_rate : float, default 0.0
            Discount rate ``d >= 0`` per period of the cohort data (the renewal period: a
            monthly rate for monthly renewals); 0: undiscounted, finite only when
            ``alpha > 1``.

        Returns
        -------
        float or numpy.ndarray
            ``DERL = (beta+n)/(alpha+beta+n) * 2F1(1, beta+n+1; alpha+beta+n+1; 1/(1+d))``
            (Fader & Hardie 2010, "Customer-base valuation in a contractual setting"),
            counting the current period's renewal as the first future payment.

        Examples
        --------
        >>> from retailcrm.models import ShiftedBetaGeometricModel
        >>> m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(m.expected_residual_lifetime(0, discount_rate=0.1), 3)
        2.964
        """
        alpha, beta = self._param_values()
        n = self._periods(renewals, minimum=0)
        d = check_number(
            discount_rate,
            name="discount_rate",
            owner="ShiftedBetaGeometricModel.expected_residual_lifetime",
            low=0.0,
            fix="a rate per period of the cohort data (the renewal period), e.g. 0.01 for 1% "
            "a month with monthly renewals; an annual rate R is (1 + R) ** (1 / 12) - 1 a month.",
        )
        if d == 0 and alpha <= 1:
            return as_float_or_array(np.full(n.shape, np.inf))
        with np.errstate(over="ignore"):
            out = (
                (beta + n)
                / (alpha + beta + n)
                * special.hyp2f1(1.0, beta + n + 1, alpha + beta + n + 1, 1.0 / (1.0 + d))
            )
        return as_float_or_array(np.asarray(out, dtype=np.float64))

    @staticmethod
    def _periods(t: Any, minimum: int) -> FloatArray:
        arr = np.asarray(t, dtype=np.float64)
        if not np.all(np.isfinite(arr)) or np.any(arr < minimum) or np.any(arr != np.floor(arr)):
            raise ConfigError(f"periods must be whole numbers >= {minimum}. Got {t!r} instead.")
        return arr
