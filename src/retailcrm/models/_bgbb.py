"""The BG/BB model for discrete purchase opportunities (Fader, Hardie & Shang 2010).

This module holds the model's likelihood and prediction formulas; the shared machinery
(reading the summary, predictions keyed by customer, the new-customer predictions) is that of
every transaction model (:class:`~retailcrm.models._transaction.TransactionModel`). BG/BB's
summary counts opportunities — ``n_periods`` (alias ``T``) instead of a length of time — so it
declares its own ``fit``, ``probability_alive`` and ``expected_purchases``, and has no time
unit.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from scipy import special

from retailcrm.exceptions import ConfigError, InvalidDataError
from retailcrm.models._base import wdot
from retailcrm.models._inputs import FloatArray, check_counts
from retailcrm.models._transaction import TransactionModel

__all__ = ["BetaGeoBetaBinomModel"]


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


class BetaGeoBetaBinomModel(TransactionModel):
    """The BG/BB model of discrete-time repeat transactions, by maximum likelihood.

    At each of ``n`` discrete opportunities (a yearly fundraiser, a weekly market day) an alive
    customer transacts with probability ``p ~ Beta(alpha, beta)`` and, between
    opportunities, dies with probability ``theta ~ Beta(gamma, delta)``. The fitting options
    (``penalizer``, ``initial_params`` for ``alpha, beta, gamma, delta``, ``max_iter``) are
    those of :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : dict of str to float
        ``alpha, beta, gamma, delta``. The other fitted attributes (``log_likelihood_``,
        ``standard_errors_``, ...) are those of :class:`BetaGeoModel`; ``time_unit_`` is
        always None (opportunities have no time unit).

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
    _columns: ClassVar[tuple[str, str, str]] = ("frequency", "recency", "n_periods")
    _aliases: ClassVar[dict[str, str]] = {"n_periods": "T"}
    _continuous: ClassVar[bool] = False

    def fit(
        self,
        summary: Any = None,
        recency: Any = None,
        n_periods: Any = None,
        *,
        frequency: Any = None,
        T: Any = None,
        weights: Any = None,
    ) -> Self:
        """Fit the model by maximum likelihood and return it.

        Parameters
        ----------
        summary : dataframe, mapping or array-like, optional
            Columns ``frequency``, ``recency`` and ``n_periods`` (or ``T``) of any engine, or
            a mapping of them to arrays; or the ``frequency`` array, with ``recency`` and
            ``n_periods`` following positionally.
        recency, n_periods, frequency, T : array-like, optional
            The summary as arrays; ``T`` is an alias of ``n_periods``, and a scalar
            ``n_periods`` applies to every row.
        weights : array-like, optional
            Customers per row (e.g. the counts of a recency-frequency table).

        Returns
        -------
        BetaGeoBetaBinomModel
            The fitted model.

        Raises
        ------
        InvalidDataError
            The summary breaks an invariant (e.g. frequency > recency, or a recency that is
            not a whole number of opportunities) or has no customers.

        See Also
        --------
        BetaGeoModel.fit : the errors and warnings every fit may raise (no convergence, data
            that do not identify the parameters).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoBetaBinomModel
        >>> m = BetaGeoBetaBinomModel().fit([6, 5, 3, 2, 1, 1, 0, 4], [6, 6, 5, 2, 1, 3, 0, 6],
        ...     6, weights=[120, 70, 20, 60, 110, 10, 350, 50])
        >>> m.n_customers_
        790.0
        """
        arrays = {"frequency": frequency, "recency": recency, "n_periods": n_periods, "T": T}
        return self._fit_summary(summary, arrays, weights, None)

    def _check_summary(self, data: dict[str, FloatArray]) -> None:
        _check_discrete(data)

    def _check_horizon(self, t: Any) -> FloatArray:
        return check_counts(t, name="t", what="numbers of opportunities")

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
    def probability_alive(
        self,
        summary: Any = None,
        recency: Any = None,
        n_periods: Any = None,
        *,
        frequency: Any = None,
        T: Any = None,
    ) -> Any:
        """Return each customer's probability of being alive at opportunity ``n + 1``.

        Parameters
        ----------
        summary, recency, n_periods, frequency, T : dataframe or array-like, optional
            A summary frame with ``customer_id``, ``frequency``, ``recency`` and ``n_periods``
            (or ``T``), answered with a frame; or the columns as arrays, as for :meth:`fit`,
            answered with an array.

        Returns
        -------
        dataframe or numpy.ndarray
            For a summary frame: the caller's kind of frame with ``customer_id`` and
            ``probability_alive``. For arrays: probabilities in [0, 1], one per customer.

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
        arrays = {"frequency": frequency, "recency": recency, "n_periods": n_periods, "T": T}
        return self._predict("probability_alive", summary, arrays, 1.0, self._probability_alive)

    def _probability_alive(self, x: FloatArray, tx: FloatArray, n: FloatArray) -> FloatArray:
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
        recency: Any = None,
        n_periods: Any = None,
        *,
        frequency: Any = None,
        T: Any = None,
    ) -> Any:
        """Return each customer's expected transactions in the next ``t`` opportunities.

        Parameters
        ----------
        t : int or array of int
            Number of future opportunities ``n*`` (with a summary frame, one number or one
            per customer).
        summary, recency, n_periods, frequency, T : dataframe or array-like, optional
            The summary, as for :meth:`probability_alive`.

        Returns
        -------
        dataframe or numpy.ndarray
            ``E[X(n, n+n*) | x, t_x, n]``: for a summary frame, the caller's kind of frame
            with ``customer_id`` and ``expected_purchases``; for arrays, one per customer.

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
        >>> round(m.expected_purchases_new_customer(6), 3)
        2.068
        >>> float(m.probability_of_purchases(range(7), 6).sum().round(6))
        1.0
        """
        self._check_fitted()
        arrays = {"frequency": frequency, "recency": recency, "n_periods": n_periods, "T": T}
        tt = self._check_horizon(t)
        return self._predict(
            "expected_purchases",
            summary,
            arrays,
            1.0,
            lambda x, tx, n: self._expected_purchases(tt, x, tx, n),
        )

    def _expected_purchases(
        self, t: FloatArray, x: FloatArray, tx: FloatArray, n: FloatArray
    ) -> FloatArray:
        alpha, beta, gamma, delta = p = self._param_values()
        t, x, tx, n = np.broadcast_arrays(t, x, tx, n)
        _, ll = self._log_terms(p, x, tx, n)
        lead = special.betaln(alpha + x + 1, beta + n - x) - special.betaln(alpha, beta) - ll
        acc = np.full(x.shape, -np.inf)
        for j in range(1, int(t.max()) + 1 if t.size else 1):
            term = special.betaln(gamma, delta + n + j) - special.betaln(gamma, delta)
            acc = np.where(j <= t, np.logaddexp(acc, term), acc)
        return np.asarray(np.exp(lead + acc), dtype=np.float64)

    def _probability_of_purchases(self, n: FloatArray, t: FloatArray) -> FloatArray:
        """Fader, Hardie & Shang (2010), equation (8), for a single number of opportunities."""
        if t.ndim != 0:
            raise ConfigError(
                f"t must be a single number of opportunities. Got an array of shape {t.shape}."
            )
        alpha, beta, gamma, delta = self._param_values()
        x = n
        nt = float(t)
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
        return np.asarray(out, dtype=np.float64)
