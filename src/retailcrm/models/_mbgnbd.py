"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

The modified BG/NBD lets a customer drop out right after the first purchase as well as after
each repeat purchase, which removes BG/NBD's implication that every customer with no repeat
purchase is certainly alive. It shares the likelihood code of :mod:`retailcrm.models._bgnbd`
with a shift of one in the beta functions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from retailcrm.models._bgnbd import _BetaGeoFamily
from retailcrm.models._inputs import summary_arrays

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(_BetaGeoFamily):
    """The MBG/NBD model (Batislam, Denizel & Filiztekin 2007), fitted by maximum likelihood.

    As :class:`BetaGeoModel` (purchase rate ``lambda ~ Gamma(r, alpha)``, dropout probability
    ``p ~ Beta(a, b)``), except that a customer may drop out at time 0, right after the first
    purchase, as well as after each repeat purchase.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters added to the mean negative log-likelihood; 0 gives the
        maximum likelihood estimate.
    initial_params : mapping of str to float, optional
        Starting values for ``r, alpha, a, b``.
    max_iter : int, default 1000
        Maximum optimiser iterations.

    Attributes
    ----------
    params_ : dict of str to float
        ``r, alpha, a, b``.
    log_likelihood_, aic_, bic_ : float
        Total log-likelihood (in the summary's time unit) and information criteria.
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

    See Also
    --------
    BetaGeoModel : the original BG/NBD.

    Notes
    -----
    Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and comparison
    of models for customer base analysis. *International Journal of Research in Marketing*
    24(3), 201-209. The individual likelihood is

    ``L = Γ(r+x) α^r / Γ(r) · B(a, b+x+1) / B(a, b) · (α+T)^-(r+x)
    · [1 + a / (b+x) · ((α+T) / (α+t_x))^(r+x)]``.

    There is no published maximum-likelihood estimate on CDNOW; the tests compare with
    lifetimes' ``ModifiedBetaGeoFitter`` on the same data.

    Examples
    --------
    >>> from retailcrm.models import ModifiedBetaGeoModel
    >>> m = ModifiedBetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
    ...     T=12, weights=[52, 52, 5, 5, 6, 15])
    >>> m.probability_alive(frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(2)
    array([0.  , 0.57])
    """

    _shift: ClassVar[int] = 1

    def fit(
        self,
        summary: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,
        weights: Any = None,
    ) -> ModifiedBetaGeoModel:
        """Fit the model by maximum likelihood and return it.

        Parameters
        ----------
        summary : dataframe, optional
            Per-customer summary with columns ``frequency``, ``recency``, ``T``; or pass them
            as keyword arrays.
        frequency, recency, T : array-like, optional
            The summary as arrays, when ``summary`` is None.
        weights : array-like, optional
            Number of customers each row stands for (default 1).

        Returns
        -------
        ModifiedBetaGeoModel
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
        >>> from retailcrm.models import ModifiedBetaGeoModel
        >>> m = ModifiedBetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> sorted(m.params_)
        ['a', 'alpha', 'b', 'r']
        """
        data = summary_arrays(
            summary, ("frequency", "recency", "T"), frequency=frequency, recency=recency, T=T
        )
        return self._fit_data(data, weights)
