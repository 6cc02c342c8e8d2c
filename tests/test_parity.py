"""The parity suite: every public function, on every engine, gives the pandas answer.

``CASES`` maps each public function's (or method's) qualified name to ``run(engine)``, which
builds its inputs from one small shared sample (``sample_data(150, seed=5)``), converted once
per engine, calls the function and returns its result. ``test_every_engine_matches_pandas``
compares each engine's result with the numpy-pandas one by value (``assert_equal_data``), and
checks that a frame comes back as the caller's kind (or, where the function by design returns a
small pandas frame, a dict or an array whatever the input, that documented kind).
``test_the_catalogue_covers_every_public_function`` keeps ``CASES`` and ``EXEMPT`` complete.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import matplotlib
import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import retailcrm
from helpers import ENGINES, assert_equal_data, make_native, to_polars
from retailcrm import (
    data,
    features,
    lifecycle,
    loyalty,
    metrics,
    models,
    plotting,
    rules,
    segmentation,
)
from retailcrm.exceptions import DataQualityWarning, IdentifiabilityWarning
from retailcrm.loyalty import BOUTIQUE_PROGRAM, BUILTIN_TRIGGERS, PointsPolicy
from retailcrm.segmentation import STANDARD_SEGMENTS

REFERENCE = "pandas-numpy"
PENALIZER = 0.01  # 150 customers do not identify every parameter without it
AS_OF = "2024-12-31"
MID = "2024-06-30"
SAMPLE = data.sample_data(150, seed=5)

# ---------------------------------------------------------------------------------------------
# Shared inputs: pandas (numpy dtypes) reference frames, each converted once per engine
# ---------------------------------------------------------------------------------------------

TX = SAMPLE.transactions
CUSTOMERS = SAMPLE.customers.assign(
    # a referrer for every 7th customer, so the referral metrics have something to count
    referred_by=[
        SAMPLE.customers["customer_id"].iloc[i - 1] if i % 7 == 0 else None
        for i in range(len(SAMPLE.customers))
    ]
).astype({"referred_by": "object"})
SURVEYS = SAMPLE.surveys
SPEND = SAMPLE.marketing_spend
EVENTS = SAMPLE.events
FEATURES = retailcrm.customer_features(TX, as_of=AS_OF, responses=SAMPLE.campaigns)
FEATURES = FEATURES[FEATURES["recency_days"].notna()].reset_index(drop=True)  # buyers only
SCORES = segmentation.rfm_scores(FEATURES)
LABELS = segmentation.segment(SCORES, STANDARD_SEGMENTS)
HISTORY = lifecycle.stage_history(TX, dates=["2024-03-31", MID, "2024-09-30", AS_OF])
MATRIX = lifecycle.transition_matrix(HISTORY, from_date=MID, to_date=AS_OF)
PROGRAM_FEATURES = loyalty.program_features(TX, BOUTIQUE_PROGRAM, as_of=AS_OF)
PROGRAM_FEATURES_MID = loyalty.program_features(TX, BOUTIQUE_PROGRAM, as_of=MID)
TIERS = BOUTIQUE_PROGRAM.assign(PROGRAM_FEATURES, as_of=AS_OF)
TIERS_MID = BOUTIQUE_PROGRAM.assign(PROGRAM_FEATURES_MID, as_of=MID)
TIER_IDS = TIERS[["customer_id", "tier"]]
SPEND_SCHEMA = data.SpendSchema(period="month", amount="spend")
POINTS = PointsPolicy(earn_rate=1.0, expiry_after=6)
LEDGER = loyalty.points_ledger(TX, POINTS, as_of=AS_OF)
COHORTS = metrics.cohort_retention(TX, as_of=AS_OF)
SUMMARY = features.btyd_summary(TX, observation_end=AS_OF)
SUMMARY_HOLDOUT = features.btyd_summary(TX, observation_end=AS_OF, calibration_end=MID)
CHURN_TRAIN = models.churn_training_frame(TX, cutoff="2024-03-31", horizon_days=90)
CHURN_TEST = models.churn_training_frame(TX, cutoff=MID, horizon_days=90)
REPURCHASED = FEATURES[["customer_id", "frequency", "monetary"]].assign(
    repurchased=(FEATURES["frequency"] > 1).astype("int64")
)
HALVES = {
    "a": REPURCHASED.iloc[: len(REPURCHASED) // 2],
    "b": REPURCHASED.iloc[len(REPURCHASED) // 2 :],
}
SURVEY_HALVES = {"a": SURVEYS.iloc[: len(SURVEYS) // 2], "b": SURVEYS.iloc[len(SURVEYS) // 2 :]}
CSAT = SURVEYS.assign(score=(SURVEYS["score"] % 5) + 1)
CES = SURVEYS.assign(score=(SURVEYS["score"] % 7) + 1)
PROFILE = segmentation.segment_profile(FEATURES, LABELS)
SIMULATION = loyalty.simulate_program(TX, BOUTIQUE_PROGRAM, dates=[MID, AS_OF], points=POINTS)
NPS_BY_CHANNEL = metrics.net_promoter_score(
    SURVEYS.merge(CUSTOMERS[["customer_id", "acquisition_channel"]], on="customer_id"),
    by="acquisition_channel",
)
LAUNCHES = pd.DataFrame(
    {
        "product_id": sorted(TX["product_id"].unique())[:15],
        "launched_at": pd.to_datetime("2024-11-01"),
    }
)

FRAMES: dict[str, pd.DataFrame] = {
    "tx": TX,
    "customers": CUSTOMERS,
    "surveys": SURVEYS,
    "csat": CSAT,
    "ces": CES,
    "spend": SPEND,
    "events": EVENTS,
    "campaigns": SAMPLE.campaigns,
    "features": FEATURES,
    "scores": SCORES,
    "labels": LABELS,
    "history": HISTORY,
    "matrix": MATRIX,
    "program_features": PROGRAM_FEATURES,
    "tiers": TIERS,
    "tiers_mid": TIERS_MID,
    "tier_ids": TIER_IDS,
    "ledger": LEDGER,
    "cohorts": COHORTS,
    "summary": SUMMARY,
    "summary_holdout": SUMMARY_HOLDOUT,
    "churn_train": CHURN_TRAIN,
    "churn_test": CHURN_TEST,
    "repurchased": REPURCHASED,
    "half_a": HALVES["a"],
    "half_b": HALVES["b"],
    "surveys_a": SURVEY_HALVES["a"],
    "surveys_b": SURVEY_HALVES["b"],
    "launches": LAUNCHES,
    # results the figures draw
    "profile": PROFILE,
    "flows": lifecycle.stage_flows(HISTORY),
    "nps_by_channel": NPS_BY_CHANNEL,
    "migration": loyalty.tier_migration(TIERS_MID, TIERS),
    "liability": SIMULATION.liability,
    "cac": metrics.acquisition_cost(
        SPEND,
        TX,
        by=("channel",),
        as_of=AS_OF,
        spend_schema=data.SpendSchema(period="month", amount="spend"),
        customers=CUSTOMERS,
    ),
    # what the built-in triggers read: the feature table with the tier and its change
    "trigger_features": retailcrm.customer_features(
        TX, as_of=AS_OF, events=EVENTS, customers=CUSTOMERS
    )
    .merge(TIERS, on="customer_id", how="left")
    .merge(LEDGER, on="customer_id", how="left"),
}


@functools.cache
def native(engine: str, name: str) -> Any:
    """The shared input ``name`` as ``engine``'s native frame (built once per engine)."""
    return make_native(engine, FRAMES[name].reset_index(drop=True))


@functools.cache
def fitted(kind: str) -> Any:
    """Models fitted once on the pandas summary (predictions are what differs by engine)."""
    with warnings.catch_warnings():  # 150 customers: some parameters are not identified
        warnings.simplefilter("ignore", IdentifiabilityWarning)
        return _fit(kind)


def _fit(kind: str) -> Any:
    if kind == "bgnbd":
        return models.BetaGeoModel(penalizer=PENALIZER).fit(SUMMARY)
    if kind == "mbgnbd":
        return models.ModifiedBetaGeoModel(penalizer=PENALIZER).fit(SUMMARY)
    if kind == "pareto":
        return models.ParetoNBDModel(penalizer=PENALIZER).fit(SUMMARY)
    if kind == "bgbb":
        return models.BetaGeoBetaBinomModel(penalizer=PENALIZER).fit(_discrete(SUMMARY))
    if kind == "gg":
        return models.GammaGammaModel(penalizer=PENALIZER).fit(SUMMARY[SUMMARY["frequency"] > 0])
    if kind == "churn":
        return churn_model().fit(CHURN_TRAIN)
    if kind == "rfm":
        return segmentation.RFMScorer().fit(FEATURES)
    if kind == "rfrc":
        return quiet(segmentation.RFRCScorer().fit, FEATURES)
    raise ValueError(kind)


def churn_model() -> models.ChurnModel:
    """A quick churn model: a logistic regression, two calibration folds, no baseline."""
    estimator = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression())
    return models.ChurnModel(estimator, cv=2, baseline=False)


def quiet(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` without its DataQualityWarning (the sample's response rates
    are mostly 0, so RFRC warns of an empty score; the same on every engine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return func(*args, **kwargs)


def infinite_spend(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)``, which must warn that some expected spend is infinite: the
    150-customer sample's Gamma-Gamma fit has q < 1, so customers without repeat purchases have
    no finite expected spend — the same warning on every engine."""
    with pytest.warns(DataQualityWarning, match=r"get expected_spend inf, because the fitted q"):
        return func(*args, **kwargs)


def _discrete(summary: Any) -> Any:
    """A BG/BB summary (whole periods) from a BTYD summary of any engine."""
    frame = nw.from_native(summary)
    out = frame.select(
        "customer_id",
        nw.col("frequency").clip(0, 12).cast(nw.Int64).alias("frequency"),
        nw.col("recency").floor().clip(0, 12).cast(nw.Int64).alias("recency"),
        nw.lit(12, nw.Int64).alias("n_periods"),
    ).with_columns(
        nw.when(nw.col("frequency") == 0)
        .then(0)
        .otherwise(nw.max_horizontal(nw.col("recency"), nw.col("frequency")))
        .cast(nw.Int64)
        .alias("recency")
    )
    return out.to_native()


def tx(engine: str) -> Any:
    return native(engine, "tx")


def feats(engine: str) -> Any:
    return native(engine, "features")


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

#: Functions that by design return a small pandas frame, a dict, an array or a number whatever
#: the input kind (the kind asserted instead of "the caller's kind").
PANDAS_RESULT = {
    "retailcrm.models.tracking_frame",
    "retailcrm.models.holdout_comparison",
    "retailcrm.models.ChurnModel.evaluate",
}
#: Results that are not frames at all (dicts, arrays, numbers, report objects): compared by
#: value.
NOT_A_FRAME = {
    "retailcrm.models.holdout_metrics",
    "retailcrm.models.ChurnModel.predict_proba",
    "retailcrm.models.ChurnModel.predict",
    "retailcrm.models.ChurnModel.score",
    "retailcrm.rules.RuleSet.is_exhaustive",
    "retailcrm.rules.RuleSet.check",
}
#: Functions whose row order is not defined: compared after sorting by these columns (none
#: today: every function in CASES documents its order, and the test holds it to that).
UNORDERED: dict[str, list[str]] = {}

M = "retailcrm.metrics."
S = "retailcrm.segmentation."
L = "retailcrm.lifecycle."
Y = "retailcrm.loyalty."
D = "retailcrm.data."
F = "retailcrm.features."
R = "retailcrm.rules."
MD = "retailcrm.models."


def _model_case(kind: str, method: str, *args: Any) -> Callable[[str], Any]:
    def run(engine: str) -> Any:
        summary = native(engine, "summary")
        if kind == "bgbb":
            summary = _discrete(summary)
        if kind == "gg":
            return infinite_spend(getattr(fitted(kind), method), summary)
        return getattr(fitted(kind), method)(*args, summary)

    return run


def _fit_case(cls: type, kind: str) -> Callable[[str], Any]:
    def run(engine: str) -> Any:
        summary = native(engine, "summary")
        if kind == "bgbb":
            summary = _discrete(summary)
        elif kind == "gg":
            summary = nw.from_native(summary).filter(nw.col("frequency") > 0).to_native()
        # started from the pandas fit's optimum: the engine's part is the summary it reads
        model = cls(penalizer=PENALIZER, initial_params=fitted(kind).params_)
        with warnings.catch_warnings():  # 150 customers: some parameters are not identified
            warnings.simplefilter("ignore", IdentifiabilityWarning)
            return model.fit(summary).params_

    return run


CASES: dict[str, Callable[[str], Any]] = {
    # data and features -------------------------------------------------------------------
    F + "customer_features": lambda e: features.customer_features(
        tx(e), as_of=MID, customers=native(e, "customers"), events=native(e, "events")
    ),
    F + "btyd_summary": lambda e: features.btyd_summary(
        tx(e), observation_end=AS_OF, calibration_end=MID
    ),
    F + "btyd_summary_excluded": lambda e: features.btyd_summary_excluded(
        tx(e), observation_end=AS_OF, calibration_end=MID
    ),
    D + "clean_transactions": lambda e: data.clean_transactions(tx(e), returns="exclude"),
    D + "validate_transactions": lambda e: data.validate_transactions(tx(e), as_of=AS_OF),
    D + "validate": lambda e: data.validate(native(e, "spend"), SPEND_SCHEMA),
    D + "validate_customers": lambda e: data.validate_customers(native(e, "customers")),
    D + "validate_events": lambda e: data.validate_events(native(e, "events")),
    D + "validate_responses": lambda e: data.validate_responses(native(e, "campaigns")),
    D + "validate_spend": lambda e: data.validate_spend(native(e, "spend"), schema=SPEND_SCHEMA),
    D + "validate_surveys": lambda e: data.validate_surveys(native(e, "surveys")),
    # rules -------------------------------------------------------------------------------
    R + "RuleSet.evaluate": lambda e: STANDARD_SEGMENTS.evaluate(native(e, "scores")),
    R + "RuleSet.coverage": lambda e: STANDARD_SEGMENTS.coverage(native(e, "scores")),
    R + "RuleSet.unmatched": lambda e: STANDARD_SEGMENTS.unmatched(native(e, "scores")),
    R + "RuleSet.check": lambda e: STANDARD_SEGMENTS.check(native(e, "scores")),
    R + "RuleSet.is_exhaustive": lambda e: STANDARD_SEGMENTS.is_exhaustive(native(e, "scores")),
    # segmentation ------------------------------------------------------------------------
    S + "rfm_scores": lambda e: segmentation.rfm_scores(feats(e)),
    S + "rfrc_scores": lambda e: quiet(segmentation.rfrc_scores, feats(e)),
    S + "segment": lambda e: segmentation.segment(native(e, "scores"), STANDARD_SEGMENTS),
    S + "hml_segments": lambda e: segmentation.hml_segments(feats(e)),
    S + "value_matrix": lambda e: segmentation.value_matrix(feats(e)),
    S + "customer_tags": lambda e: segmentation.customer_tags(
        feats(e), as_of=AS_OF, tx=tx(e), product_launches=native(e, "launches")
    ),
    S + "segment_profile": lambda e: segmentation.segment_profile(feats(e), native(e, "labels")),
    S + "cluster_customers": lambda e: segmentation.cluster_customers(
        feats(e), n_clusters=3, random_state=0
    ),
    S + "RFMScorer.fit": lambda e: segmentation.RFMScorer().fit(feats(e)).edges_,
    S + "RFMScorer.transform": lambda e: fitted("rfm").transform(feats(e)),
    S + "RFMScorer.fit_transform": lambda e: segmentation.RFMScorer(bins=4).fit_transform(feats(e)),
    S + "RFRCScorer.fit": lambda e: quiet(segmentation.RFRCScorer().fit, feats(e)).edges_,
    S + "RFRCScorer.transform": lambda e: fitted("rfrc").transform(feats(e)),
    S + "RFRCScorer.fit_transform": lambda e: quiet(
        segmentation.RFRCScorer(bins=4).fit_transform, feats(e)
    ),
    # lifecycle ---------------------------------------------------------------------------
    L + "assign_stages": lambda e: lifecycle.assign_stages(feats(e), as_of=AS_OF),
    L + "stage_history": lambda e: lifecycle.stage_history(tx(e), dates=[MID, AS_OF]),
    L + "transition_matrix": lambda e: lifecycle.transition_matrix(
        native(e, "history"), from_date=MID, to_date=AS_OF, normalize=True
    ),
    L + "stage_flows": lambda e: lifecycle.stage_flows(native(e, "history")),
    L + "churn_rate": lambda e: lifecycle.churn_rate(
        native(e, "history"), from_date=MID, to_date=AS_OF
    ),
    L + "reactivation_rate": lambda e: lifecycle.reactivation_rate(
        native(e, "history"), from_date=MID, to_date=AS_OF
    ),
    L + "rechurn_rate": lambda e: lifecycle.rechurn_rate(
        native(e, "history"), from_date="2024-03-31", to_date=AS_OF
    ),
    L + "project_stage_mix": lambda e: lifecycle.project_stage_mix(
        native(e, "matrix"), {"active": 50, "dormant": 20, "churned": 30}, steps=3
    ),
    L + "migration_clv": lambda e: lifecycle.migration_clv(
        native(e, "matrix"),
        {s: float(i) * 10 for i, s in enumerate(lifecycle.STAGES)},
        discount_rate=0.01,
        steps=6,
    ),
    # loyalty -----------------------------------------------------------------------------
    Y + "program_features": lambda e: loyalty.program_features(
        tx(e), BOUTIQUE_PROGRAM, as_of=AS_OF, customers=native(e, "customers")
    ),
    Y + "TierProgram.assign": lambda e: BOUTIQUE_PROGRAM.assign(
        native(e, "program_features"), as_of=AS_OF, previous=native(e, "tiers_mid")
    ),
    Y + "tier_summary": lambda e: loyalty.tier_summary(native(e, "tiers"), feats(e)),
    Y + "tier_migration": lambda e: loyalty.tier_migration(
        native(e, "tiers_mid"), native(e, "tiers")
    ),
    Y + "reactivation_rate": lambda e: loyalty.reactivation_rate(
        native(e, "tiers_mid"), feats(e), as_of=MID, tier="to_be_awakened"
    ),
    Y + "points_ledger": lambda e: loyalty.points_ledger(
        tx(e), POINTS, as_of=AS_OF, tiers=native(e, "tier_ids")
    ),
    Y + "points_summary": lambda e: loyalty.points_summary(native(e, "ledger"), point_value=0.1),
    Y + "evaluate_triggers": lambda e: loyalty.evaluate_triggers(
        native(e, "trigger_features"),
        BUILTIN_TRIGGERS,
        as_of=AS_OF,
        holdout=0.2,
    ),
    Y + "simulate_program": lambda e: loyalty.simulate_program(
        tx(e), BOUTIQUE_PROGRAM, dates=["2024-09-30", AS_OF]
    ),
    # metrics -----------------------------------------------------------------------------
    M + "acquisition_cost": lambda e: metrics.acquisition_cost(
        native(e, "spend"),
        tx(e),
        as_of=AS_OF,
        spend_schema=SPEND_SCHEMA,
        customers=native(e, "customers"),
    ),
    M + "cohort_payback": lambda e: metrics.cohort_payback(
        native(e, "spend"),
        tx(e),
        margin=0.4,
        as_of=AS_OF,
        spend_schema=SPEND_SCHEMA,
        customers=native(e, "customers"),
    ),
    M + "active_customer_rate": lambda e: metrics.active_customer_rate(tx(e), as_of=AS_OF),
    M + "category_affinity": lambda e: metrics.category_affinity(tx(e), as_of=AS_OF),
    M + "net_promoter_score": lambda e: metrics.net_promoter_score(native(e, "surveys")),
    M + "nps_trend": lambda e: metrics.nps_trend(native(e, "surveys"), period="Q"),
    M + "compare_nps": lambda e: metrics.compare_nps(
        native(e, "surveys_a"), native(e, "surveys_b")
    ),
    M + "csat": lambda e: metrics.csat(native(e, "csat")),
    M + "ces": lambda e: metrics.ces(
        native(e, "ces"), direction="higher_is_easier", method="top_box"
    ),
    M + "churn_rate": lambda e: metrics.churn_rate(tx(e), period="Q", as_of=AS_OF),
    M + "retention_rate": lambda e: metrics.retention_rate(tx(e), period="Q", as_of=AS_OF),
    M + "reactivation_rate": lambda e: metrics.reactivation_rate(tx(e), period="Q", as_of=AS_OF),
    M + "repeat_purchase_rate": lambda e: metrics.repeat_purchase_rate(
        tx(e), period="Q", as_of=AS_OF
    ),
    M + "old_customer_revenue_share": lambda e: metrics.old_customer_revenue_share(
        tx(e), period="Q", as_of=AS_OF
    ),
    M + "omnichannel_summary": lambda e: metrics.omnichannel_summary(
        tx(e), period="Q", as_of=AS_OF
    ),
    M + "referral_rate": lambda e: metrics.referral_rate(
        tx(e), native(e, "customers"), period="Q", as_of=AS_OF
    ),
    M + "referrer_rate": lambda e: metrics.referrer_rate(
        tx(e), native(e, "customers"), period="Q", as_of=AS_OF
    ),
    M + "referral_conversion_rate": lambda e: metrics.referral_conversion_rate(
        tx(e), native(e, "customers"), period="Q", as_of=AS_OF
    ),
    M + "cohort_retention": lambda e: metrics.cohort_retention(
        tx(e), as_of=AS_OF, cohort="Q", mode="active_or_later"
    ),
    M + "cohort_matrix": lambda e: metrics.cohort_matrix(native(e, "cohorts")),
    M + "interpurchase_times": lambda e: metrics.interpurchase_times(tx(e), as_of=AS_OF),
    M + "repurchase_cycle": lambda e: metrics.repurchase_cycle(
        tx(e), as_of=AS_OF, labels=native(e, "labels"), by="segment"
    ),
    M + "kpi_summary": lambda e: metrics.kpi_summary(tx(e), as_of=AS_OF, period="Q"),
    M + "historical_value": lambda e: metrics.historical_value(feats(e), margin=0.4),
    M + "compare_groups": lambda e: metrics.compare_groups(
        "repurchased", native(e, "half_a"), native(e, "half_b")
    ),
    M + "compare_periods": lambda e: metrics.compare_periods(
        "monetary",
        native(e, "half_a"),
        native(e, "half_b"),
        kind="mean",
        method="bootstrap",
        n_boot=200,
        random_state=3,
    ),
    M + "difference_in_differences": lambda e: metrics.difference_in_differences(
        "repurchased",
        native(e, "half_a"),
        native(e, "half_b"),
        native(e, "half_b"),
        native(e, "half_a"),
    ),
    # models ------------------------------------------------------------------------------
    MD + "churn_training_frame": lambda e: models.churn_training_frame(
        tx(e), cutoff=MID, horizon_days=90
    ),
    MD + "tracking_frame": lambda e: models.tracking_frame(
        fitted("bgnbd"), tx(e), observation_end=AS_OF, calibration_end=MID
    ),
    MD + "holdout_comparison": lambda e: models.holdout_comparison(
        fitted("bgnbd"), native(e, "summary_holdout")
    ),
    MD + "holdout_metrics": lambda e: models.holdout_metrics(
        fitted("bgnbd"), native(e, "summary_holdout")
    ),
    MD + "customer_lifetime_value": lambda e: infinite_spend(
        models.customer_lifetime_value,
        fitted("bgnbd"),
        fitted("gg"),
        native(e, "summary"),
        horizon=12,
        time_unit="W",
        discount_rate=0.01,
        margin=0.4,
    ),
    MD + "ChurnModel.fit": lambda e: (
        churn_model().fit(native(e, "churn_train")).predict_proba(CHURN_TEST)
    ),
    MD + "ChurnModel.predict_proba": lambda e: fitted("churn").predict_proba(
        native(e, "churn_test")
    ),
    MD + "ChurnModel.predict": lambda e: fitted("churn").predict(native(e, "churn_test")),
    MD + "ChurnModel.evaluate": lambda e: fitted("churn").evaluate(native(e, "churn_test")),
    MD + "ChurnModel.score": lambda e: fitted("churn").score(
        native(e, "churn_test"), CHURN_TEST["churned"].to_numpy()
    ),
}

for _cls, _kind in [
    (models.BetaGeoModel, "bgnbd"),
    (models.ModifiedBetaGeoModel, "mbgnbd"),
    (models.ParetoNBDModel, "pareto"),
]:
    _name = f"{MD}{_cls.__name__}."
    CASES[_name + "fit"] = _fit_case(_cls, _kind)
    CASES[_name + "probability_alive"] = _model_case(_kind, "probability_alive")
    CASES[_name + "expected_purchases"] = _model_case(_kind, "expected_purchases", 26)
    CASES[_name + "conditional_probability_of_purchases"] = _model_case(
        _kind, "conditional_probability_of_purchases", 1, 26
    )
CASES[MD + "BetaGeoBetaBinomModel.fit"] = _fit_case(models.BetaGeoBetaBinomModel, "bgbb")
CASES[MD + "BetaGeoBetaBinomModel.probability_alive"] = _model_case("bgbb", "probability_alive")
CASES[MD + "BetaGeoBetaBinomModel.expected_purchases"] = _model_case(
    "bgbb", "expected_purchases", 6
)
CASES[MD + "GammaGammaModel.fit"] = _fit_case(models.GammaGammaModel, "gg")
CASES[MD + "GammaGammaModel.expected_spend"] = _model_case("gg", "expected_spend")


def picture(ax: Any) -> dict[str, Any]:
    """What an Axes shows, as values: labels, bar geometry, line and point data, image cells
    (the figure is closed)."""
    shown = {
        "labels": [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()],
        "xticks": [t.get_text() for t in ax.get_xticklabels()],
        "yticks": [t.get_text() for t in ax.get_yticklabels()],
        "texts": [t.get_text() for t in ax.texts],
        "patches": [
            [p.get_x(), p.get_y(), p.get_width(), p.get_height()]
            for p in ax.patches
            if hasattr(p, "get_width")
        ],
        "lines": [np.asarray(line.get_xydata(), dtype=float) for line in ax.lines],
        "images": [np.ma.filled(im.get_array().astype(float), np.nan) for im in ax.images],
        "points": [np.asarray(c.get_offsets(), dtype=float) for c in ax.collections],
    }
    plt.close(ax.figure)
    return shown


P = "retailcrm.plotting."
CASES |= {
    P + "cac_by_channel": lambda e: picture(plotting.cac_by_channel(native(e, "cac"))),
    P + "calibration_holdout": lambda e: picture(
        plotting.calibration_holdout(CASES[MD + "holdout_comparison"](e))
    ),
    P + "cohort_heatmap": lambda e: picture(plotting.cohort_heatmap(native(e, "cohorts"))),
    P + "cumulative_tracking": lambda e: picture(
        plotting.cumulative_tracking(CASES[MD + "tracking_frame"](e))
    ),
    # the infinite values are left out and counted in the title
    P + "ltv_distribution": lambda e: picture(
        plotting.ltv_distribution(CASES[MD + "customer_lifetime_value"](e))
    ),
    P + "nps_by_group": lambda e: picture(plotting.nps_by_group(native(e, "nps_by_channel"))),
    P + "points_liability": lambda e: picture(plotting.points_liability(native(e, "liability"))),
    P + "rfm_heatmap": lambda e: picture(plotting.rfm_heatmap(native(e, "scores"))),
    P + "segment_portrait": lambda e: picture(
        plotting.segment_portrait(native(e, "profile"), PROFILE["segment"].iloc[0])
    ),
    P + "segment_sizes": lambda e: picture(plotting.segment_sizes(native(e, "profile"))),
    P + "stage_flow": lambda e: picture(plotting.stage_flow(native(e, "flows"))),
    P + "stage_mix": lambda e: picture(plotting.stage_mix(native(e, "history"))),
    P + "tier_distribution": lambda e: picture(plotting.tier_distribution(native(e, "tiers"))),
    P + "tier_migration": lambda e: picture(plotting.tier_migration(native(e, "migration"))),
}


REEXPORT = "the same object as (a re-export of) "
NO_FRAME = "takes no dataframe"
CONFIG = "builds or describes a config object"
RESULT_OBJECT = "a method of a result object: reads its own small pandas tables"
SKLEARN = "scikit-learn machinery (parameters, metadata routing, output container)"
ARRAYS = "takes numbers or arrays, no dataframe"
SUMMARY_MODEL = (
    "model fitted on a small numpy summary: the frame-taking entry point btyd_summary is in CASES"
)

#: Public names that take no engine frame, or whose frame-taking entry point is in CASES.
EXEMPT: dict[str, str] = {
    "retailcrm.customer_features": REEXPORT + F + "customer_features",
    "retailcrm.clean_transactions": REEXPORT + D + "clean_transactions",
    "retailcrm.validate_transactions": REEXPORT + D + "validate_transactions",
    "retailcrm.validate": REEXPORT + D + "validate",
    MD + "btyd_summary": REEXPORT + F + "btyd_summary",
    MD + "btyd_summary_excluded": REEXPORT + F + "btyd_summary_excluded",
    D + "sample_data": NO_FRAME,
    D + "CleaningReport.to_frame": RESULT_OBJECT,
    D + "ValidationReport.to_frame": RESULT_OBJECT,
    D + "ValidationReport.raise_for_errors": RESULT_OBJECT,
    D + "Problem.describe": RESULT_OBJECT,
    D + "EventSchema.to_dict": CONFIG,
    R + "condition_expr": "returns a narwhals expression; run on every engine by RuleSet.evaluate",
    R + "Rule.to_dict": CONFIG,
    R + "RuleSet.relabel": CONFIG,
    R + "RuleSet.to_dict": CONFIG,
    S + "builtin_tags": CONFIG,
    L + "LifecyclePolicy.to_dict": CONFIG,
    Y + "Benefit.to_dict": CONFIG,
    Y + "PointsPolicy.to_dict": CONFIG,
    Y + "Tier.to_dict": CONFIG,
    Y + "TierProgram.tier": CONFIG,
    Y + "TierProgram.relabel": CONFIG,
    Y + "TierProgram.to_dict": CONFIG,
    Y + "Trigger.relabel": CONFIG,
    Y + "Trigger.to_dict": CONFIG,
    Y + "Window.to_text": CONFIG,
    M + "cac_payback_months": ARRAYS,
    M + "formula_ltv": ARRAYS,
    M + "retention_ltv": ARRAYS,
    M + "ltv_to_cac": ARRAYS,
    P + "cjk_font": NO_FRAME,
    P + "frequency_recency_matrix": "draws a fitted model's predictions on a grid, no dataframe",
    P + "probability_alive_matrix": "draws a fitted model's predictions on a grid, no dataframe",
    MD + "ShiftedBetaGeometricModel.fit": "fitted on survivor counts (arrays), no dataframe",
    MD + "ShiftedBetaGeometricModel.churn_probability": ARRAYS,
    MD + "ShiftedBetaGeometricModel.retention_rate": ARRAYS,
    MD + "ShiftedBetaGeometricModel.survival_function": ARRAYS,
    MD + "ShiftedBetaGeometricModel.expected_residual_lifetime": ARRAYS,
}
#: Methods exempt on every class that has them.
EXEMPT_METHODS: dict[str, str] = {
    "get_params": SKLEARN,
    "set_params": SKLEARN,
    "get_metadata_routing": SKLEARN,
    "set_output": SKLEARN,
    "set_fit_request": SKLEARN,
    "set_score_request": SKLEARN,
    "get_feature_names_out": SKLEARN + "; takes column names",
    "params_frame": "reads the fitted parameters, no dataframe",
    "summary": "reads the fitted parameters, no dataframe",
    "expected_purchases_new_customer": ARRAYS,
    "probability_of_purchases": ARRAYS,
    "from_dict": CONFIG,
    "to_dict": CONFIG,
    # Window's constructors
    "anniversary": CONFIG,
    "calendar_year": CONFIG,
    "rolling": CONFIG,
    "parse": CONFIG,
}
PACKAGES = [
    retailcrm,
    data,
    features,
    rules,
    segmentation,
    lifecycle,
    loyalty,
    metrics,
    models,
    plotting,  # every figure takes any engine's frame, so it is in CASES too
]


def _public_callables() -> list[str]:
    names = []
    for module in PACKAGES:
        for name in module.__all__:
            obj = getattr(module, name)
            qual = f"{module.__name__}.{name}"
            if inspect.isclass(obj):
                if issubclass(obj, BaseException):
                    continue
                for attr, value in inspect.getmembers(obj):
                    if attr.startswith("_") or not callable(value):
                        continue
                    if isinstance(
                        inspect.getattr_static(obj, attr), (classmethod, staticmethod)
                    ) or inspect.isfunction(value):
                        names.append(f"{qual}.{attr}")
            elif callable(obj):
                names.append(qual)
    return names


def test_the_catalogue_covers_every_public_function() -> None:
    missing = []
    for name in _public_callables():
        if name in CASES or name in EXEMPT:
            continue
        if name.rsplit(".", 1)[-1] in EXEMPT_METHODS:
            continue
        missing.append(name)
    assert not missing, f"not in CASES nor EXEMPT: {missing}"
    public = set(_public_callables())
    stale = [n for n in [*CASES, *EXEMPT] if n not in public]
    assert not stale, f"CASES/EXEMPT name things that are not public: {stale}"
    for name, reason in EXEMPT.items():
        if reason.startswith(REEXPORT):
            target = reason.removeprefix(REEXPORT)
            assert target in CASES, (name, target)
            assert _resolve(name) is _resolve(target), f"{name} is not {target}"


def _resolve(qualified: str) -> Any:
    module, _, name = qualified.rpartition(".")
    return getattr(importlib.import_module(module), name)


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


LAZY = {"polars-lazy", "duckdb", "spark"}
#: Problem fields that differ by design on lazy engines (no row labels; ids as examples).
LAZY_BLANK = {"rows", "examples", "examples_of"}


def _kind_ok(result: Any, engine: str) -> bool:
    if engine.startswith("pandas"):
        return isinstance(result, pd.DataFrame)
    if engine == "polars-eager":
        return isinstance(result, pl.DataFrame)
    if engine == "polars-lazy":
        return isinstance(result, pl.LazyFrame)
    if engine == "duckdb":
        return type(result).__name__ == "DuckDBPyRelation"
    if engine == "spark":
        return type(result).__module__.startswith("pyspark.sql")
    raise ValueError(engine)


def _is_frame(obj: Any) -> bool:
    return nw.dependencies.is_into_dataframe(obj) or nw.dependencies.is_into_lazyframe(obj)


def _compare(got: Any, want: Any, *, engine: str, name: str, where: str = "") -> None:
    if _is_frame(want):
        if name in PANDAS_RESULT:
            assert isinstance(got, pd.DataFrame), (where, type(got))
        else:
            assert _kind_ok(got, engine), (where, engine, type(got))
        got_pl, want_pl = to_polars(got), to_polars(want)
        keys = UNORDERED.get(name)
        if keys:
            got_pl, want_pl = got_pl.sort(keys), want_pl.sort(keys)
        assert_equal_data(got_pl, want_pl, rel_tol=1e-7, abs_tol=1e-9)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), where
        for key in want:
            _compare(got[key], want[key], engine=engine, name=name, where=f"{where}[{key!r}]")
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _compare(g, w, engine=engine, name=name, where=f"{where}[{i}]")
    elif attrs.has(type(want)):
        assert type(got) is type(want), where
        for field in attrs.fields(type(want)):
            if isinstance(want, data.Problem) and engine in LAZY and field.name in LAZY_BLANK:
                continue  # documented: lazy engines have no row order, so no row labels
            _compare(
                getattr(got, field.name),
                getattr(want, field.name),
                engine=engine,
                name=name,
                where=f"{where}.{field.name}",
            )
    elif isinstance(want, (np.ndarray, pd.Series)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-7, err_msg=where)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-7, nan_ok=True), where
    else:
        assert got == want, where


@functools.cache
def _reference(name: str) -> Any:
    return CASES[name](REFERENCE)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_engine_matches_pandas(name: str, engine: str) -> None:
    want = _reference(name)
    got = want if engine == REFERENCE else CASES[name](engine)
    if name in NOT_A_FRAME:
        assert not _is_frame(got), type(got)
    _compare(got, want, engine=engine, name=name)
