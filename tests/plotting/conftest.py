"""Sample results for the plotting tests, built once from sample_data(2000) with the analysis
packages; every figure closed after each test."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import retailcrm
from retailcrm import lifecycle, loyalty, metrics, models, segmentation
from retailcrm.data import SpendSchema, sample_data
from retailcrm.exceptions import DataQualityWarning

AS_OF = "2024-12-31"


@pytest.fixture(scope="session")
def results() -> dict[str, Any]:
    """Every result a plot draws, on the sample data."""
    s = sample_data(2000)
    features = retailcrm.customer_features(s.transactions, as_of=AS_OF, customers=s.customers)
    with warnings.catch_warnings():  # the 7 customers without purchases get null scores
        warnings.filterwarnings("ignore", category=DataQualityWarning)
        scores = segmentation.rfm_scores(features)
    labels = segmentation.segment(scores, segmentation.STANDARD_SEGMENTS)
    month_ends = pd.date_range("2024-01-31", AS_OF, freq="ME")
    history = lifecycle.stage_history(s.transactions, dates=month_ends, customers=s.customers)
    answers = s.surveys.merge(s.customers[["customer_id", "acquisition_channel"]], on="customer_id")
    program = loyalty.BOUTIQUE_PROGRAM
    june = retailcrm.customer_features(s.transactions, as_of="2024-06-30", customers=s.customers)
    tiers = program.assign(features, as_of=AS_OF)
    sim = loyalty.simulate_program(
        s.transactions,
        program,
        dates=month_ends,
        customers=s.customers,
        points=loyalty.PointsPolicy(earn_rate=1.0, pending_days=14),
    )
    calibration = models.btyd_summary(
        s.transactions, observation_end=AS_OF, calibration_end="2024-06-30"
    )
    checked = models.BetaGeoModel().fit(calibration, time_unit="W")
    summary = models.btyd_summary(s.transactions, observation_end=AS_OF)
    bgnbd = models.BetaGeoModel().fit(summary, time_unit="W")
    spend = models.GammaGammaModel().fit(summary[summary["frequency"] > 0])
    return {
        "features": features,
        "scores": scores,
        "profile": segmentation.segment_profile(features, labels),
        "cohorts": metrics.cohort_retention(s.transactions, cohort="Q", period="Q", as_of=AS_OF),
        "history": history,
        "flows": lifecycle.stage_flows(history),
        "nps": metrics.net_promoter_score(answers, by="acquisition_channel"),
        "tiers": tiers,
        "migration": loyalty.tier_migration(program.assign(june, as_of="2024-06-30"), tiers),
        "liability": sim.liability,
        "model": bgnbd,
        "comparison": models.holdout_comparison(checked, calibration),
        "tracking": models.tracking_frame(
            checked, s.transactions, observation_end=AS_OF, calibration_end="2024-06-30"
        ),
        "clv": models.customer_lifetime_value(
            bgnbd, spend, summary, horizon=12, time_unit="M", discount_rate=0.01, margin=0.3
        ),
        "cac": metrics.acquisition_cost(
            s.marketing_spend,
            s.transactions,
            by=("channel",),
            as_of=AS_OF,
            customers=s.customers,
            spend_schema=SpendSchema(period="month", amount="spend"),
        ),
    }


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")
