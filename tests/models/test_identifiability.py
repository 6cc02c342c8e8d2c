"""Fits the data cannot pin down: one shared criterion, a warning that names the parameters,
NaN standard errors; empty input is an error; well-identified fits stay silent."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retailcrm import exceptions
from retailcrm.exceptions import (
    IdentifiabilityWarning,
    InvalidDataError,
    RetailCRMWarning,
)
from retailcrm.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
)
from retailcrm.models._base import LOG_BOUND, BaseFitter, identification

#: 20 customers, none of whom made a repeat purchase.
NO_REPEAT = {"frequency": [0] * 20, "recency": [0.0] * 20, "T": np.linspace(5.0, 30.0, 20)}
#: Three customers.
THREE = {"frequency": [0, 2, 5], "recency": [0.0, 3.0, 10.0], "T": [12.0, 12.0, 15.0]}
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


@contextmanager
def no_identifiability_warning() -> Iterator[None]:
    """Fail if the block emits an IdentifiabilityWarning (whatever the warning filters)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    messages = [str(w.message) for w in caught if issubclass(w.category, IdentifiabilityWarning)]
    assert not messages, messages


def _assert_nan_exactly(model: BaseFitter, names: list[str]) -> None:
    """Standard errors are NaN for ``names`` and finite for the other parameters."""
    se = model.standard_errors_
    assert sorted(k for k, v in se.items() if np.isnan(v)) == sorted(names)
    frame = model.params_frame()
    assert frame.loc[names, ["std_error", "lower", "upper"]].isna().all().all()
    assert np.isfinite(frame.drop(index=names).to_numpy()).all()
    cov = model.covariance_
    idx = [list(se).index(n) for n in names]
    assert np.isnan(cov[idx]).all() and np.isnan(cov[:, idx]).all()


# ---------------------------------------------------------------- the warning, model by model
@pytest.mark.parametrize(
    ("model", "data", "names"),
    [
        (BetaGeoModel, NO_REPEAT, "r, alpha, a, b"),
        (BetaGeoModel, THREE, "a, b"),
        (ModifiedBetaGeoModel, NO_REPEAT, "r, alpha, a, b"),
        (ModifiedBetaGeoModel, THREE, "r, alpha, a, b"),
        (ParetoNBDModel, NO_REPEAT, "r, alpha, s, beta"),
        (ParetoNBDModel, THREE, "r, alpha, s, beta"),
    ],
    ids=[
        "bgnbd-no-repeat",
        "bgnbd-3",
        "mbgnbd-no-repeat",
        "mbgnbd-3",
        "pareto-no-repeat",
        "pareto-3",
    ],
)
def test_transaction_models_name_the_unidentified_parameters(
    model: Callable[[], BaseFitter], data: dict[str, Any], names: str
) -> None:
    n = len(data["frequency"])
    name = model.__name__  # type: ignore[attr-defined]
    with pytest.warns(
        IdentifiabilityWarning,
        match=rf"^{name}\.fit: the data \({n} customers\) do not identify the parameters "
        rf"{names}: .*\. Their 95% intervals reach the edge of the search range "
        r"\[1e-08, 1e\+08\], .*Fix: fit on more customers or a longer calibration period "
        rf"\(more repeat purchases\), or add a small penalizer \({name}\(penalizer=0\.01\)\)\.$",
    ):
        fitted = model().fit(**data)  # type: ignore[attr-defined]
    _assert_nan_exactly(fitted, names.split(", "))


def test_bgbb_without_repeat_transactions_warns() -> None:
    with pytest.warns(
        IdentifiabilityWarning,
        match=r"BetaGeoBetaBinomModel\.fit: the data \(5 customers\) do not identify the "
        r"parameters alpha, beta, gamma, delta: ",
    ):
        fitted = BetaGeoBetaBinomModel().fit(frequency=[0] * 5, recency=[0] * 5, n_periods=6)
    _assert_nan_exactly(fitted, ["alpha", "beta", "gamma", "delta"])


#: Why a parameter is named, as the warning says it. Where a fit stops on a nearly flat
#: likelihood depends on the processor's rounding (AVX-512 or not changes the last digits of
#: numpy's and OpenBLAS's kernels), so the end-to-end tests accept any reason that fits the
#: case; each branch of the criterion itself is held on hand-made inputs below.
WALD = r"standard error [\d.e+]+ times the estimate"
LEVELS_OFF = "the log-likelihood levels off towards the edge"
AT_EDGE = "at the edge of the search range"


@pytest.mark.parametrize(
    ("survivors", "reason"),
    [
        ([100, 60], WALD),  # one rate, two parameters
        ([100, 100, 100], f"{LEVELS_OFF}|{WALD}"),  # nobody churns: flat towards the edge
    ],
)
def test_sbg_on_a_cohort_that_cannot_identify_it_warns(survivors: list[int], reason: str) -> None:
    with pytest.warns(
        IdentifiabilityWarning,
        match=rf"the data \(100 customers\) do not identify the parameters alpha, beta: "
        rf"alpha = [\d.e+-]+ \((?:{reason})\); beta = ",
    ):
        fitted = ShiftedBetaGeometricModel().fit(survivors)
    _assert_nan_exactly(fitted, ["alpha", "beta"])


def test_gamma_gamma_on_two_customers_names_p_and_gamma() -> None:
    # q's interval reaches the edge on some processors and not on others (see WALD)
    with pytest.warns(
        IdentifiabilityWarning,
        match=r"GammaGammaModel\.fit: the data \(2 customers\) do not identify the parameters "
        rf"p, (q, )?gamma: p = [\d.e+]+ \({WALD}\); ",
    ) as record:
        fitted = GammaGammaModel().fit(frequency=[3, 2], monetary_value=[20.0, 35.0])
    named = (
        ["p", "q", "gamma"]
        if "parameters p, q, gamma" in str(record[0].message)
        else ["p", "gamma"]
    )
    assert fitted.unidentified_params_ == named
    _assert_nan_exactly(fitted, named)


@pytest.mark.parametrize(
    ("frequency", "spend", "who"),
    [
        ([3], [20.0], r"there is a single repeat buyer \(monetary_value 20\),"),
        ([3, 2, 4, 5, 1], [20.0] * 5, "all 5 repeat buyers have the same monetary_value, 20,"),
    ],
)
def test_gamma_gamma_on_constant_spend_warns_and_predicts_it(
    frequency: list[int], spend: list[float], who: str
) -> None:
    with pytest.warns(
        IdentifiabilityWarning,
        match=rf"^GammaGammaModel\.fit: {who} so the data do not identify the parameters p, q, "
        r"gamma: .* every customer's expected spend is 20; the standard errors are NaN\. Fix: ",
    ):
        fitted = GammaGammaModel().fit(frequency=frequency, monetary_value=spend)
    _assert_nan_exactly(fitted, ["p", "q", "gamma"])
    assert np.isfinite(fitted.log_likelihood_)
    np.testing.assert_allclose(
        fitted.expected_spend(frequency=[0, 1, 9], monetary_value=[0.0, 20.0, 20.0]), 20.0
    )


def test_the_warning_points_at_the_callers_line() -> None:
    with pytest.warns(IdentifiabilityWarning) as record:
        BetaGeoModel().fit(**THREE)
    assert record[0].filename == __file__


def test_a_single_unidentified_parameter_reads_in_the_singular() -> None:
    # p only: the interval of gamma stays inside the search range
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, 40)
    m = np.round(rng.gamma(6.0 * x, 1 / (x * rng.gamma(4.0, 1 / 15.0, 40))), 2)
    with pytest.warns(
        IdentifiabilityWarning,
        match=rf"do not identify the parameter p: p = [\d.e+]+ \((?:{AT_EDGE}|{WALD})\)\. Its "
        r"95% interval reaches .*so its estimate is arbitrary, its standard error is NaN",
    ):
        fitted = GammaGammaModel().fit(
            frequency=x, monetary_value=m, weights=rng.integers(1, 4, 40)
        )
    _assert_nan_exactly(fitted, ["p"])


# ---------------------------------------------------------------- silent when identified
def test_well_identified_small_fits_do_not_warn(
    small: dict[str, Any], small_donors: dict[str, Any]
) -> None:
    with no_identifiability_warning():
        fits = [
            BetaGeoModel().fit(**small),
            ModifiedBetaGeoModel().fit(**small),
            ParetoNBDModel().fit(**small),
            BetaGeoBetaBinomModel().fit(**small_donors),
            ShiftedBetaGeometricModel().fit(REGULAR),
            GammaGammaModel().fit(
                frequency=[3, 4, 6, 2, 5, 3],
                monetary_value=[8, 15, 60, 25, 120, 40],
                weights=[10] * 6,
            ),
        ]
    for fitted in fits:
        assert all(np.isfinite(v) for v in fitted.standard_errors_.values())


def test_cdnow_fits_do_not_warn(cdnow_summary: pd.DataFrame) -> None:
    repeat = cdnow_summary[cdnow_summary["frequency"] > 0]
    with no_identifiability_warning():
        fits = [
            BetaGeoModel().fit(cdnow_summary),
            ModifiedBetaGeoModel().fit(cdnow_summary),
            ParetoNBDModel().fit(cdnow_summary),
            GammaGammaModel().fit(repeat),
        ]
    for fitted in fits:
        se = np.array(list(fitted.standard_errors_.values()))
        est = np.array(list(fitted.params_.values()))
        assert np.all(np.isfinite(se)) and np.all(se < est)  # all well inside the range


def test_a_penalizer_decides_the_estimates_without_a_warning() -> None:
    # the data identify a, b no better than before: their standard errors stay NaN
    with no_identifiability_warning():
        fitted = BetaGeoModel(penalizer=0.1).fit(**THREE)
    assert all(np.isfinite(v) and v < 1e3 for v in fitted.params_.values())
    assert np.isnan(fitted.standard_errors_["a"]) and np.isnan(fitted.standard_errors_["b"])


def test_a_penalized_fit_still_warns_about_a_parameter_at_the_edge() -> None:
    # nobody repeats: the purchase rate's shape r runs down to 1e-8, which no L2 penalty stops
    with pytest.warns(
        IdentifiabilityWarning,
        match=r"do not identify the parameter r: r = 1\.0+\d*e-08 \(at the edge of the search "
        r"range\)\..*Fix: .*; the penalizer keeps parameters from growing, not from shrinking "
        r"to 0\.$",
    ):
        fitted = BetaGeoModel(penalizer=0.1).fit(**NO_REPEAT)
    assert np.isnan(fitted.standard_errors_["r"])


# ---------------------------------------------------------------- the shared criterion
def test_criterion_wald_interval_against_the_search_range() -> None:
    theta = np.array([0.0, 2.0, 2.0])
    # se(log) = 0.1; 1 / sqrt(0.011) = 9.53 (2 + 1.96 * 9.53 = 20.7 > 18.42); 8.3 (18.3 < 18.42)
    info = np.diag([100.0, 0.011, 1 / 8.3**2])
    ident = identification(theta, info)
    assert ident.unidentified.tolist() == [False, True, False]
    np.testing.assert_allclose(ident.se_log[[0, 2]], [0.1, 8.3])
    assert np.isnan(ident.se_log[1]) and np.isnan(ident.cov_log[1]).all()
    np.testing.assert_allclose(ident.cov_log[0, 0], 0.01)


def test_criterion_estimates_at_the_edge_and_flat_directions() -> None:
    theta = np.array([LOG_BOUND, 0.5, -0.5, 1.0])
    info = np.array(
        [
            [1e-9, 0.0, 0.0, 0.0],
            [0.0, 4.0, 4.0, 0.0],  # the 2nd and 3rd move together: a ridge, singular
            [0.0, 4.0, 4.0, 0.0],
            [0.0, 0.0, 0.0, 25.0],
        ]
    )
    ident = identification(theta, info)
    assert ident.at_edge.tolist() == [True, False, False, False]
    assert ident.unidentified.tolist() == [True, True, True, False]
    assert ident.se_log[3] == pytest.approx(0.2)  # the at-edge parameter is held fixed


def test_criterion_likelihood_that_levels_off_towards_a_bound() -> None:
    # quadratic near the estimate (se 2 on the log scale), but flat beyond: the Wald interval
    # stays inside the range, the likelihood at the edge is within 1.92 of the maximum
    def negloglik(t: np.ndarray) -> float:
        return float(min(0.5 * (t[0] / 2) ** 2, 1.0))

    theta, info = np.array([0.0]), np.array([[0.25]])
    assert not identification(theta, info).unidentified[0]
    ident = identification(theta, info, negloglik)
    assert ident.unidentified[0] and ident.levels_off[0] and np.isnan(ident.se_log[0])
    # a Wald interval narrower than a factor of 10 either way is not probed (se 1: 1.96 < 2.3)
    assert not identification(theta, np.array([[1.0]]), negloglik).unidentified[0]


def test_criterion_is_silent_on_a_regular_likelihood() -> None:
    def negloglik(t: np.ndarray) -> float:
        return float(50.0 * np.sum(t**2))

    ident = identification(np.array([0.3, -0.2]), np.diag([100.0, 100.0]), negloglik)
    assert not ident.unidentified.any() and not ident.levels_off.any()


def test_warning_class_is_ours_and_a_user_warning() -> None:
    assert issubclass(IdentifiabilityWarning, RetailCRMWarning)
    assert issubclass(RetailCRMWarning, UserWarning)
    assert {"IdentifiabilityWarning", "RetailCRMWarning"} <= set(exceptions.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RetailCRMWarning)  # one filter escalates all of ours
        with pytest.raises(IdentifiabilityWarning):
            BetaGeoModel().fit(**THREE)


# ---------------------------------------------------------------- empty input
EMPTY_SUMMARY = pd.DataFrame(
    {c: pd.Series([], dtype="float64") for c in ("frequency", "recency", "T", "monetary_value")}
)
NO_CUSTOMERS = (
    r"\.fit: the summary has no customers \(0 rows\), so there is nothing to fit\. Fix: fit on "
    r"a summary with customers; if btyd_summary made it, check that observation_end \(or "
    r"calibration_end\) falls after the first purchases"
)


@pytest.mark.parametrize("model", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_empty_summary_raises_for_transaction_models(model: type[BaseFitter]) -> None:
    with pytest.raises(InvalidDataError, match=f"^{model.__name__}{NO_CUSTOMERS}"):
        model().fit(EMPTY_SUMMARY)  # type: ignore[attr-defined]
    with pytest.raises(InvalidDataError, match=f"^{model.__name__}{NO_CUSTOMERS}"):
        model().fit(frequency=[], recency=[], T=[])  # type: ignore[attr-defined]
    with pytest.raises(InvalidDataError, match=f"^{model.__name__}{NO_CUSTOMERS}"):
        model().fit(EMPTY_SUMMARY, weights=[])  # type: ignore[attr-defined]


def test_empty_summary_raises_for_bgbb() -> None:
    match = (
        r"^BetaGeoBetaBinomModel\.fit: the summary has no customers \(0 rows\), so there is "
        r"nothing to fit\. Fix: pass frequency, recency and n_periods for at least one customer"
    )
    with pytest.raises(InvalidDataError, match=match):
        BetaGeoBetaBinomModel().fit(EMPTY_SUMMARY)
    with pytest.raises(InvalidDataError, match=match):
        BetaGeoBetaBinomModel().fit(frequency=[], recency=[], n_periods=6)


def test_empty_summary_raises_for_gamma_gamma() -> None:
    match = (
        r"^GammaGammaModel\.fit: there are no repeat buyers \(0 rows\), so there is no repeat "
        r"spend to fit\. Fix: fit on the repeat buyers, summary\[summary\.frequency > 0\], of a "
        r"summary that has some"
    )
    with pytest.raises(InvalidDataError, match=match):
        GammaGammaModel().fit(EMPTY_SUMMARY)
    with pytest.raises(InvalidDataError, match=match):
        GammaGammaModel().fit(frequency=[], monetary_value=[])
    repeat = EMPTY_SUMMARY[EMPTY_SUMMARY["frequency"] > 0]
    with pytest.raises(InvalidDataError, match=match):
        GammaGammaModel(penalizer=0.01).fit(repeat)


def test_empty_input_raises_for_sbg() -> None:
    with pytest.raises(InvalidDataError, match=r"^survivors: no counts given .* Fix: pass counts"):
        ShiftedBetaGeometricModel().fit([])
    with pytest.raises(
        InvalidDataError,
        match=r"^ShiftedBetaGeometricModel\.fit: tenure and churned are empty \(0 customers\), "
        r"so there is nothing to fit\. Fix: pass one tenure and one churned value per customer",
    ):
        ShiftedBetaGeometricModel().fit(tenure=[], churned=[])
