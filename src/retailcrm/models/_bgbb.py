"""The BG/BB model for discrete purchase opportunities (Fader, Hardie & Shang 2010)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import special

from retailcrm.exceptions import ConfigError, InvalidDataError
from retailcrm.models._base import BaseFitter, wdot
from retailcrm.models._bgnbd import _as_float_or_array, _check_n
from retailcrm.models._inputs import FloatArray, summary_arrays

__all__ = ["BetaGeoBetaBinomModel"]

_COLUMNS = ("frequency", "recency", "n_periods")


def _discrete_summary(
    summary: Any, frequency: Any, recency: Any, n_periods: Any, T: Any
) -> dict[str, FloatArray]:
    if n_periods is not None and T is not None:
        raise ConfigError("Got both n_periods and its alias T. Fix: pass one of them.")
    n_arr = n_periods if n_periods is not None else T
    if summary is not None and n_arr is None:
        import narwhals.stable.v2 as nw

        names = nw.from_native(summary).columns
        if "n_periods" not in names and "T" in names:
            data = summary_arrays(summary, ("frequency", "recency", "T"))
            data["n_periods"] = data.pop("T")
            _check_discrete(data)
            return data
    data = summary_arrays(summary, _COLUMNS, frequency=frequency, recency=recency, n_periods=n_arr)
    _check_discrete(data)
    return data


def _check_discrete(data: dict[str, FloatArray]) -> None:
    x, tx = data["frequency"], data["recency"]
    problems = []
    frac = tx != np.floor(tx)
    if frac.any():
        problems.append(
            f"recency is not a whole number of opportunities at rows "
            f"{np.flatnonzero(frac)[:5].tolist()}"
        )
    above = x > tx
    if above.any():
        problems.append(
            f"frequency exceeds recency at rows {np.flatnonzero(above)[:5].tolist()} (at most "
            "one transaction per opportunity, the last at opportunity recency)"
        )
    if problems:
        raise InvalidDataError(
            "summary: " + "; ".join(problems) + ". Fix: for BG/BB, frequency = number of "
            "opportunities with a transaction, recency = the last such opportunity (0 if none), "
            "n_periods = opportunities observed."
        )


class BetaGeoBetaBinomModel(BaseFitter):
    """The BG/BB model of discrete-time repeat transactions, by maximum likelihood.

    At each of ``n`` discrete opportunities (a yearly fundraiser, a weekly market day) an alive
    customer transacts with probability ``p ~ Beta(alpha, beta)`` and, between
    opportunities, dies with probability ``theta ~ Beta(gamma, delta)``.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters added to the mean negative log-likelihood.
    initial_params : mapping of str to float, optional
        Starting values for ``alpha, beta, gamma, delta``.
    max_iter : int, default 1000
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : dict of str to float
        ``alpha, beta, gamma, delta``.
    log_likelihood_, aic_, bic_ : float
        Total log-likelihood and information criteria.
    standard_errors_ : dict of str to float
        From the observed information.
    covariance_ : numpy.ndarray
        Covariance matrix of the estimates.
    n_customers_ : float
        Number of customers.
    n_iter_ : int
        Optimiser iterations.
    unidentified_params_ : list of str
        Parameters the data do not identify (NaN standard errors; see
        :class:`~retailcrm.exceptions.IdentifiabilityWarning`); empty for a regular fit.

    Notes
    -----
    Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a
    discrete-time noncontractual setting. *Marketing Science* 29(6), 1086-1108. The summary
    columns are ``frequency`` (``x``, opportunities with a transaction after the first),
    ``recency`` (``t_x``, the last such opportunity, 0 if none) and ``n_periods`` (``n``,
    opportunities observed; ``T`` is accepted as an alias). The likelihood is their
    equation (5):

    ``L = B(α+x, β+n-x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
    + Σ_{i=0}^{n-t_x-1} B(α+x, β+t_x-x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ)``,

    evaluated with ``logaddexp``. On the paper's donation data (11,104 donors, n = 6) the fit
    gives ``alpha = 1.204, beta = 0.750, gamma = 0.657, delta = 2.783``, log-likelihood
    -33,225.6.

    Examples
    --------
    >>> from retailcrm.models import BetaGeoBetaBinomModel
    >>> m = BetaGeoBetaBinomModel().fit(
    ...     frequency=[6, 5, 3, 2, 1, 1, 0, 4], recency=[6, 6, 5, 2, 1, 3, 0, 6],
    ...     n_periods=6, weights=[120, 70, 20, 60, 110, 10, 350, 50])
    >>> m.probability_alive(frequency=[0, 6], recency=[0, 6], n_periods=6).round(3)
    array([0.001, 0.95 ])
    """

    _param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")

    def fit(
        self,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        n_periods: Any = None,
        T: Any = None,
        weights: Any = None,
    ) -> BetaGeoBetaBinomModel:
        """Fit the model by maximum likelihood and return it.

        Parameters
        ----------
        summary : dataframe, optional
            Columns ``frequency``, ``recency`` and ``n_periods`` (or ``T``); or pass the
            arrays as keywords (a scalar ``n_periods`` applies to every row).
        frequency, recency, n_periods, T : array-like, optional
            The summary as arrays; ``T`` is an alias of ``n_periods``.
        weights : array-like, optional
            Customers per row (e.g. the counts of a recency-frequency table).

        Returns
        -------
        BetaGeoBetaBinomModel
            The fitted model.

        Raises
        ------
        InvalidDataError
            The summary breaks an invariant or has no customers.
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
        >>> from retailcrm.models import BetaGeoBetaBinomModel
        >>> m = BetaGeoBetaBinomModel().fit(
        ...     frequency=[6, 5, 3, 2, 1, 1, 0, 4], recency=[6, 6, 5, 2, 1, 3, 0, 6],
        ...     n_periods=6, weights=[120, 70, 20, 60, 110, 10, 350, 50])
        >>> m.n_customers_
        790.0
        """
        data = self._broadcast(summary, frequency, recency, n_periods, T)
        return self._fit_data(data, weights)

    @staticmethod
    def _broadcast(
        summary: Any, frequency: Any, recency: Any, n_periods: Any, T: Any
    ) -> dict[str, FloatArray]:
        if summary is None and frequency is not None:
            size = np.asarray(frequency).size
            if n_periods is not None and np.ndim(n_periods) == 0:
                n_periods = np.full(size, float(n_periods))
            if T is not None and np.ndim(T) == 0:
                T = np.full(size, float(T))
        return _discrete_summary(summary, frequency, recency, n_periods, T)

    def _initial_params(self, data: dict[str, FloatArray], weights: FloatArray) -> FloatArray:
        return np.array([1.0, 1.0, 1.0, 1.0])

    def _empty_data_fix(self) -> str:
        return (
            "pass frequency, recency and n_periods for at least one customer (or the rows of a "
            "recency-frequency table, with the number of customers in each as weights)."
        )

    @staticmethod
    def _log_terms(
        p: tuple[float, ...], x: FloatArray, tx: FloatArray, n: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """(log of the first term, log of the whole likelihood)."""
        alpha, beta, gamma, delta = p
        lb_ab = special.betaln(alpha, beta)
        lb_gd = special.betaln(gamma, delta)
        first = (
            special.betaln(alpha + x, beta + n - x)
            - lb_ab
            + special.betaln(gamma, delta + n)
            - lb_gd
        )
        total = first.copy()
        gaps = n - tx
        for i in range(int(gaps.max()) if gaps.size else 0):
            use = i < gaps
            term = (
                special.betaln(alpha + x, beta + tx - x + i)
                - lb_ab
                + special.betaln(gamma + 1, delta + tx + i)
                - lb_gd
            )
            total = np.where(use, np.logaddexp(total, term), total)
        return first, total

    def _negloglik(self, log_params: FloatArray, data: Any, weights: FloatArray) -> float:
        p = tuple(float(v) for v in np.exp(log_params))
        _, ll = self._log_terms(p, data["frequency"], data["recency"], data["n_periods"])
        return -wdot(weights, ll)

    # ------------------------------------------------------------------ predictions
    def _customers(
        self, summary: Any, frequency: Any, recency: Any, n_periods: Any, T: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        self._check_fitted()
        d = self._broadcast(summary, frequency, recency, n_periods, T)
        return d["frequency"], d["recency"], d["n_periods"]

    def probability_alive(
        self,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        n_periods: Any = None,
        T: Any = None,
    ) -> FloatArray:
        """Return each customer's probability of being alive at opportunity ``n + 1``.

        Parameters
        ----------
        summary : dataframe, optional
            Columns ``frequency``, ``recency``, ``n_periods`` (or ``T``); or keyword arrays.

        Returns
        -------
        numpy.ndarray
            Probabilities in [0, 1], one per customer.

        Notes
        -----
        ``B(α+x, β+n-x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L`` (Fader, Hardie & Shang 2010,
        equation 11).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoBetaBinomModel
        >>> m = BetaGeoBetaBinomModel().fit(
        ...     frequency=[6, 5, 3, 2, 1, 1, 0, 4], recency=[6, 6, 5, 2, 1, 3, 0, 6],
        ...     n_periods=6, weights=[120, 70, 20, 60, 110, 10, 350, 50])
        >>> m.probability_alive(frequency=[1], recency=[1], n_periods=[6]).round(3)
        array([0.003])
        """
        x, tx, n = self._customers(summary, frequency, recency, n_periods, T)
        alpha, beta, gamma, delta = p = self._param_values()
        _, ll = self._log_terms(p, x, tx, n)
        num = (
            special.betaln(alpha + x, beta + n - x)
            - special.betaln(alpha, beta)
            + special.betaln(gamma, delta + n + 1)
            - special.betaln(gamma, delta)
        )
        return np.asarray(np.minimum(np.exp(num - ll), 1.0), dtype=np.float64)

    def expected_purchases(
        self,
        t: Any,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        n_periods: Any = None,
        T: Any = None,
    ) -> FloatArray:
        """Return each customer's expected transactions in the next ``t`` opportunities.

        Parameters
        ----------
        t : int
            Number of future opportunities ``n*``.
        summary : dataframe, optional
            Columns ``frequency``, ``recency``, ``n_periods`` (or ``T``); or keyword arrays.

        Returns
        -------
        numpy.ndarray
            ``E[X(n, n+n*) | x, t_x, n]``, one per customer.

        Notes
        -----
        Fader, Hardie & Shang (2010), equation (13), written as the sum over the future
        opportunities ``j = 1..n*`` of ``B(α+x+1, β+n-x)/B(α,β) · B(γ, δ+n+j)/B(γ,δ) / L``,
        which has no singularity at ``γ = 1``.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoBetaBinomModel
        >>> m = BetaGeoBetaBinomModel().fit(
        ...     frequency=[6, 5, 3, 2, 1, 1, 0, 4], recency=[6, 6, 5, 2, 1, 3, 0, 6],
        ...     n_periods=6, weights=[120, 70, 20, 60, 110, 10, 350, 50])
        >>> m.expected_purchases(5, frequency=[0, 6], recency=[0, 6], n_periods=6).round(3)
        array([1.000e-03, 3.986e+00])
        """
        x, tx, n = self._customers(summary, frequency, recency, n_periods, T)
        return self._expected(_check_n(t), x, tx, n)

    def _expected(self, t: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
        alpha, beta, gamma, delta = p = self._param_values()
        t, x, tx, n = np.broadcast_arrays(t, x, tx, n)
        _, ll = self._log_terms(p, x, tx, n)
        lead = special.betaln(alpha + x + 1, beta + n - x) - special.betaln(alpha, beta) - ll
        acc = np.full(x.shape, -np.inf)
        for j in range(1, int(t.max()) + 1 if t.size else 1):
            term = special.betaln(gamma, delta + n + j) - special.betaln(gamma, delta)
            acc = np.where(j <= t, np.logaddexp(acc, term), acc)
        return np.asarray(np.exp(lead + acc), dtype=np.float64)

    def expected_purchases_new_customer(self, t: Any) -> float | FloatArray:
        """Return the expected transactions of a new customer in the first ``t`` opportunities.

        Parameters
        ----------
        t : int or array of int
            Number of opportunities ``n``.

        Returns
        -------
        float or numpy.ndarray
            ``E[X(n)] = α/(α+β) · Σ_{j=1}^{n} B(γ, δ+j)/B(γ,δ)`` (Fader, Hardie & Shang 2010,
            equation 9).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoBetaBinomModel
        >>> m = BetaGeoBetaBinomModel().fit(
        ...     frequency=[6, 5, 3, 2, 1, 1, 0, 4], recency=[6, 6, 5, 2, 1, 3, 0, 6],
        ...     n_periods=6, weights=[120, 70, 20, 60, 110, 10, 350, 50])
        >>> round(m.expected_purchases_new_customer(6), 3)
        2.068
        """
        self._check_fitted()
        tt = _check_n(t)
        zero = np.zeros(tt.shape)
        return _as_float_or_array(self._expected(tt, zero, zero, zero))

    def probability_of_purchases(self, n: Any, t: Any) -> float | FloatArray:
        """Return ``P(X(t) = n)``: ``n`` transactions by a new customer in ``t`` opportunities.

        Parameters
        ----------
        n : int or array of int
            Numbers of transactions.
        t : int
            Number of opportunities.

        Returns
        -------
        float or numpy.ndarray
            Fader, Hardie & Shang (2010), equation (8).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoBetaBinomModel
        >>> m = BetaGeoBetaBinomModel().fit(
        ...     frequency=[6, 5, 3, 2, 1, 1, 0, 4], recency=[6, 6, 5, 2, 1, 3, 0, 6],
        ...     n_periods=6, weights=[120, 70, 20, 60, 110, 10, 350, 50])
        >>> float(m.probability_of_purchases(range(7), 6).sum().round(6))
        1.0
        """
        alpha, beta, gamma, delta = self._param_values()
        x = _check_n(n)
        nt = float(np.asarray(_check_n(t)).max(initial=0))
        if np.ndim(t) != 0:
            raise ConfigError("t must be a single number of opportunities.")
        lb_ab = special.betaln(alpha, beta)
        lb_gd = special.betaln(gamma, delta)

        def log_choose(a: Any, b: Any) -> Any:
            return special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1)

        with np.errstate(invalid="ignore"):
            out = np.where(
                x <= nt,
                np.exp(
                    log_choose(nt, np.minimum(x, nt))
                    + special.betaln(alpha + x, beta + np.maximum(nt - x, 0))
                    - lb_ab
                    + special.betaln(gamma, delta + nt)
                    - lb_gd
                ),
                0.0,
            )
            for i in range(int(nt)):
                ok = x <= i
                term = np.exp(
                    log_choose(i, np.minimum(x, i))
                    + special.betaln(alpha + x, beta + np.maximum(i - x, 0))
                    - lb_ab
                    + special.betaln(gamma + 1, delta + i)
                    - lb_gd
                )
                out = out + np.where(ok, term, 0.0)
        return _as_float_or_array(np.asarray(out, dtype=np.float64))
