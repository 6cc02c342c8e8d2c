"""sBG on the worked example of Fader & Hardie (2007), "How to project customer retention"."""

from __future__ import annotations

import numpy as np
import pytest

from retailcrm.exceptions import ConfigError, InvalidDataError
from retailcrm.models import ShiftedBetaGeometricModel

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def test_regular_cohort() -> None:
    """Fader & Hardie (2007): alpha = 0.704, beta = 1.182, LL = -1680.3 for the regular
    customers (the -1611.2 of the brief belongs to the high-end cohort)."""
    m = ShiftedBetaGeometricModel().fit(REGULAR)
    assert m.params_["alpha"] == pytest.approx(0.704, rel=1e-3)
    assert m.params_["beta"] == pytest.approx(1.182, rel=1e-3)
    assert m.log_likelihood_ == pytest.approx(-1680.3, abs=0.05)
    assert m.n_customers_ == 1000


def test_high_end_cohort() -> None:
    m = ShiftedBetaGeometricModel().fit(HIGH_END)
    assert m.params_["alpha"] == pytest.approx(0.668, rel=1e-3)
    assert m.params_["beta"] == pytest.approx(3.806, rel=1e-3)
    assert m.log_likelihood_ == pytest.approx(-1611.2, abs=0.05)


def test_individual_data_equals_cohort_counts() -> None:
    s = np.array(REGULAR)
    drops = -np.diff(s)
    tenure = np.r_[np.arange(1, 8), 7]
    churned = np.r_[np.ones(7), 0]
    counts = np.r_[drops, s[-1]]
    a = ShiftedBetaGeometricModel().fit(REGULAR).params_
    b = ShiftedBetaGeometricModel().fit(tenure=tenure, churned=churned, weights=counts).params_
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-9)


def test_several_cohorts_and_predictions() -> None:
    m = ShiftedBetaGeometricModel().fit([REGULAR, REGULAR[:5]])
    assert m.n_customers_ == 2000
    s = m.survival_function(np.arange(0, 20))
    assert s[0] == 1.0
    assert np.all(np.diff(s) < 0)
    r = m.retention_rate(np.arange(1, 20))
    assert np.all(np.diff(r) > 0)
    assert m.churn_probability(1) == pytest.approx(1 - s[1])


def test_errors() -> None:
    with pytest.raises(InvalidDataError, match="increases at period"):
        ShiftedBetaGeometricModel().fit([100, 80, 90])
    with pytest.raises(ConfigError, match="not both"):
        ShiftedBetaGeometricModel().fit([100, 80], tenure=[1], churned=[1])


def test_discount_rate_is_checked_with_its_period() -> None:
    m = ShiftedBetaGeometricModel().fit(REGULAR)
    with pytest.raises(
        ConfigError,
        match=r"^The 'discount_rate' parameter of ShiftedBetaGeometricModel\."
        r"expected_residual_lifetime must be a finite number in \[0, inf\)\. Got -0\.1 instead\. "
        r"Fix: a rate per period of the cohort data \(the renewal period\)",
    ):
        m.expected_residual_lifetime(0, discount_rate=-0.1)
