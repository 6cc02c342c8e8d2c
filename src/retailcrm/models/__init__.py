"""Probabilistic customer-base models: buy-till-you-die transaction models, spend and churn.

Maximum-likelihood versions of the models of the customer-base-analysis literature, fitted on
a per-customer summary (``frequency``, ``recency``, ``T``) from any dataframe engine:

- :class:`BetaGeoModel` (BG/NBD), :class:`ModifiedBetaGeoModel` (MBG/NBD) and
  :class:`ParetoNBDModel` for non-contractual, continuous-time purchasing;
- :class:`BetaGeoBetaBinomModel` (BG/BB) for discrete purchase opportunities;
- :class:`ShiftedBetaGeometricModel` (sBG) for contractual retention by cohort.

Around them: :func:`btyd_summary` builds the summary from transaction lines;
:class:`GammaGammaModel` predicts spend per transaction and :func:`customer_lifetime_value`
combines it with a transaction model; :func:`holdout_comparison`, :func:`holdout_metrics` and
:func:`tracking_frame` check predictions on a holdout period; :func:`churn_training_frame` and
:class:`ChurnModel` predict churn with scikit-learn, next to the BG/NBD baseline.

Predictions answer in the form they are asked: a summary frame of any engine gives the same
kind of frame with ``customer_id`` and a column named after the prediction; arrays give a
numpy array. The continuous-time models record the time unit stated at ``fit(...,
time_unit=...)`` and convert predictions asked in another unit.

Formulas and references: ``docs/user-guide/models-formulas.md`` and
``docs/user-guide/models.md``.
"""

from retailcrm.models._bgbb import BetaGeoBetaBinomModel
from retailcrm.models._bgnbd import BetaGeoModel
from retailcrm.models._churn import ChurnModel, churn_training_frame
from retailcrm.models._clv import customer_lifetime_value
from retailcrm.models._gamma_gamma import GammaGammaModel
from retailcrm.models._holdout import holdout_comparison, holdout_metrics, tracking_frame
from retailcrm.models._mbgnbd import ModifiedBetaGeoModel
from retailcrm.models._paretonbd import ParetoNBDModel
from retailcrm.models._sbg import ShiftedBetaGeometricModel
from retailcrm.models._summary import btyd_summary, btyd_summary_excluded

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "ChurnModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeometricModel",
    "btyd_summary",
    "btyd_summary_excluded",
    "churn_training_frame",
    "customer_lifetime_value",
    "holdout_comparison",
    "holdout_metrics",
    "tracking_frame",
]
