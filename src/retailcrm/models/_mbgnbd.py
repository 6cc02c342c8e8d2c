"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

The modified BG/NBD lets a customer drop out right after the first purchase as well as after
each repeat purchase, which removes BG/NBD's implication that every customer with no repeat
purchase is certainly alive. Its numerics are those of :mod:`retailcrm.models._bgnbd` with a
shift of one in the beta functions; its public methods those of every continuous-time model
(:mod:`retailcrm.models._transaction`).
"""

from __future__ import annotations

from typing import ClassVar

from retailcrm.models._bgnbd import _BetaGeoFamily

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(_BetaGeoFamily):
    """The MBG/NBD model (Batislam, Denizel & Filiztekin 2007), fitted by maximum likelihood.

    As :class:`BetaGeoModel` (purchase rate ``lambda ~ Gamma(r, alpha)``, dropout probability
    ``p ~ Beta(a, b)``), except that a customer may drop out at time 0, right after the first
    purchase, as well as after each repeat purchase. The fitting options (``penalizer``,
    ``initial_params`` for ``r, alpha, a, b``, ``max_iter``) are those of
    :class:`BetaGeoModel`.

    Attributes
    ----------
    params_ : dict of str to float
        ``r, alpha, a, b`` (``alpha`` in the summary's time unit). The other fitted
        attributes (``time_unit_``, ``log_likelihood_``, ``standard_errors_``, ...) are
        those of :class:`BetaGeoModel`.

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
    Unlike BG/NBD, a customer without a repeat purchase may have dropped out:

    >>> import pandas as pd
    >>> from retailcrm.models import ModifiedBetaGeoModel
    >>> m = ModifiedBetaGeoModel().fit([0, 1, 4, 5, 6, 7], [0, 1, 10, 9, 3, 3], 12,
    ...                                weights=[52, 52, 5, 5, 6, 15], time_unit="W")
    >>> summary = pd.DataFrame({"customer_id": [101, 102], "frequency": [0, 4],
    ...                         "recency": [0.0, 9.0], "T": [10.0, 10.0]})
    >>> m.probability_alive(summary).round(2)
       customer_id  probability_alive
    0          101               0.00
    1          102               0.57
    """

    _shift: ClassVar[int] = 1
