"""Customer lifecycle: stages as of a date, their history, transitions and projections.

Stages (prospect, new, growing, mature, active, reactivated, dormant, churned) are an ordered
:class:`~retailcrm.rules.RuleSet` over the customer feature table, built from a
:class:`LifecyclePolicy`; every stage carries the id of the rule that decided it.

Examples
--------
>>> import pandas as pd
>>> from retailcrm.lifecycle import assign_stages
>>> features = pd.DataFrame({
...     "customer_id": [1, 2, 3], "frequency": [0, 4, 2], "recency_days": [None, 5, 200],
...     "tenure_days": [3, 400, 500], "consecutive_active_months": [0, 4, 0],
...     "orders_30d": [0, 2, 0],
... })
>>> assign_stages(features, as_of="2024-06-30")[["customer_id", "stage"]]
   customer_id     stage
0            1  prospect
1            2    mature
2            3   churned
"""

from retailcrm.lifecycle._history import stage_history
from retailcrm.lifecycle._policy import (
    DEFAULT_POLICY,
    RHYTHM_POLICY,
    STAGE_LABELS_ZH,
    STAGES,
    LifecyclePolicy,
)
from retailcrm.lifecycle._projection import migration_clv, project_stage_mix
from retailcrm.lifecycle._stages import assign_stages
from retailcrm.lifecycle._transitions import (
    churn_rate,
    reactivation_rate,
    rechurn_rate,
    stage_flows,
    transition_matrix,
)

__all__ = [
    "DEFAULT_POLICY",
    "RHYTHM_POLICY",
    "STAGES",
    "STAGE_LABELS_ZH",
    "LifecyclePolicy",
    "assign_stages",
    "churn_rate",
    "migration_clv",
    "project_stage_mix",
    "reactivation_rate",
    "rechurn_rate",
    "stage_flows",
    "stage_history",
    "transition_matrix",
]
