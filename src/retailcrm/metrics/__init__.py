"""Headline CRM metrics with stated definitions, references and intervals: survey scores
(NPS, CSAT, CES), programme impact, lifetime-value formulas, and the transaction-based
retention, cohort, KPI, acquisition-cost and affinity metrics."""

from retailcrm.metrics._acquisition import acquisition_cost, cohort_payback
from retailcrm.metrics._affinity import category_affinity
from retailcrm.metrics._cohorts import cohort_matrix, cohort_retention
from retailcrm.metrics._historical import historical_value
from retailcrm.metrics._impact import compare_groups, compare_periods, difference_in_differences
from retailcrm.metrics._kpi import kpi_summary
from retailcrm.metrics._retention import (
    active_customer_rate,
    churn_rate,
    interpurchase_times,
    old_customer_revenue_share,
    omnichannel_summary,
    reactivation_rate,
    referral_conversion_rate,
    referral_rate,
    referrer_rate,
    repeat_purchase_rate,
    repurchase_cycle,
    retention_rate,
)
from retailcrm.metrics._survey import ces, compare_nps, csat, net_promoter_score, nps_trend
from retailcrm.metrics._value import cac_payback_months, formula_ltv, ltv_to_cac, retention_ltv

__all__ = [
    "acquisition_cost",
    "active_customer_rate",
    "cac_payback_months",
    "category_affinity",
    "ces",
    "churn_rate",
    "cohort_matrix",
    "cohort_payback",
    "cohort_retention",
    "compare_groups",
    "compare_nps",
    "compare_periods",
    "csat",
    "difference_in_differences",
    "formula_ltv",
    "historical_value",
    "interpurchase_times",
    "kpi_summary",
    "ltv_to_cac",
    "net_promoter_score",
    "nps_trend",
    "old_customer_revenue_share",
    "omnichannel_summary",
    "reactivation_rate",
    "referral_conversion_rate",
    "referral_rate",
    "referrer_rate",
    "repeat_purchase_rate",
    "repurchase_cycle",
    "retention_ltv",
    "retention_rate",
]
