"""The transaction models' shared surface: time units stated at fit, predictions asked in another
unit converted, and the errors that keep weeks and days from mixing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from retailcrm.exceptions import ConfigError, InvalidDataError
from retailcrm.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)

DAYS = {"D": 1.0, "W": 7.0, "M": 30.4375}


def _in_unit(summary: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The weekly summary with its lengths in ``unit``."""
    scale = 7.0 / DAYS[unit]
    return summary.assign(recency=summary["recency"] * scale, T=summary["T"] * scale)


@pytest.fixture(scope="module", params=[BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def weekly(request: pytest.FixtureRequest, cdnow_summary: pd.DataFrame) -> Any:
    return request.param().fit(cdnow_summary, time_unit="W")


def test_fit_records_the_time_unit(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:300]
    model = BetaGeoModel().fit(s, time_unit="W")
    assert model.time_unit_ == "W"
    assert repr(model).endswith("customers, time unit 'W')")
    assert model.params_ == BetaGeoModel().fit(s).params_  # the unit only labels the fit
    assert BetaGeoModel().fit(s).time_unit_ is None
    with pytest.raises(InvalidDataError, match="no customers"):  # a failed refit keeps the fit
        model.fit(frequency=[], recency=[], T=[], time_unit="D")
    assert model.time_unit_ == "W"
    with pytest.raises(
        ConfigError,
        match=r"The 'time_unit' parameter of BetaGeoModel\.fit must be one of \['D', 'W', 'M'\]\. "
        r"Got 'weeks' instead\. Fix: 'D' \(days\), 'W' \(weeks of 7 days\) or 'M' \(months of "
        r"30\.4375 days\)\.",
    ):
        BetaGeoModel().fit(s, time_unit="weeks")  # type: ignore[arg-type]


@pytest.mark.parametrize("unit", ["D", "M"])
def test_predictions_asked_in_another_unit_convert(
    weekly: Any, cdnow_summary: pd.DataFrame, unit: str
) -> None:
    sub = cdnow_summary.iloc[::50]
    other = _in_unit(sub, unit)
    t = 39.0 * 7.0 / DAYS[unit]  # 39 weeks in the other unit
    pairs = [
        (weekly.probability_alive(sub), weekly.probability_alive(other, time_unit=unit)),
        (weekly.expected_purchases(39, sub), weekly.expected_purchases(t, other, time_unit=unit)),
        (
            weekly.conditional_probability_of_purchases(2, 39, sub),
            weekly.conditional_probability_of_purchases(2, t, other, time_unit=unit),
        ),
    ]
    for want, got in pairs:
        assert got["customer_id"].tolist() == want["customer_id"].tolist()
        np.testing.assert_allclose(got.iloc[:, 1], want.iloc[:, 1], rtol=1e-12)
    assert weekly.expected_purchases_new_customer(t, time_unit=unit) == pytest.approx(
        weekly.expected_purchases_new_customer(39), rel=1e-12
    )
    np.testing.assert_allclose(
        weekly.probability_of_purchases([0, 1, 5], t, time_unit=unit),
        weekly.probability_of_purchases([0, 1, 5], 39),
        rtol=1e-12,
    )
    # stating the model's own unit changes nothing
    np.testing.assert_array_equal(
        weekly.expected_purchases(39, sub, time_unit="W"), weekly.expected_purchases(39, sub)
    )


def test_a_model_fitted_in_days_answers_in_weeks(cdnow_summary: pd.DataFrame) -> None:
    weeks = BetaGeoModel().fit(cdnow_summary, time_unit="W")
    days = BetaGeoModel().fit(_in_unit(cdnow_summary, "D"), time_unit="D")
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-6)
    sub = cdnow_summary.iloc[:200]
    np.testing.assert_allclose(
        days.expected_purchases(52, sub, time_unit="W")["expected_purchases"],
        weeks.expected_purchases(52, sub)["expected_purchases"],
        rtol=1e-5,
    )


def test_a_model_without_a_unit_refuses_to_convert(small: dict[str, Any]) -> None:
    model = BetaGeoModel().fit(**small)
    with pytest.raises(
        ConfigError,
        match=r"^BetaGeoModel\.expected_purchases: time_unit='D' was given, but the model was "
        r"fitted without a time unit, so it cannot tell whether that is its own\. Fix: fit with "
        r"time_unit=",
    ):
        model.expected_purchases(7, frequency=[1], recency=[2], T=[3], time_unit="D")
    with pytest.raises(ConfigError, match=r"probability_alive: time_unit='W' was given"):
        model.probability_alive(frequency=[1], recency=[2], T=[3], time_unit="W")
    # without time_unit the lengths are the model's own, as always
    assert model.expected_purchases(7, frequency=[1], recency=[2], T=[3]).shape == (1,)


def test_units_are_checked_where_they_are_asked(small: dict[str, Any]) -> None:
    model = BetaGeoModel().fit(**small, time_unit="W")
    with pytest.raises(
        ConfigError,
        match=r"'time_unit' parameter of BetaGeoModel\.expected_purchases_new_customer must be "
        r"one of \['D', 'W', 'M'\]",
    ):
        model.expected_purchases_new_customer(1, time_unit="week")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"t must be finite and >= 0"):
        model.expected_purchases(-1, frequency=[1], recency=[2], T=[3])
    with pytest.raises(ConfigError, match=r"n must be whole numbers >= 0 \(purchase counts\)"):
        model.probability_of_purchases(1.5, 10)


def test_bgbb_counts_opportunities_and_has_no_time_unit(small_donors: dict[str, Any]) -> None:
    model = BetaGeoBetaBinomModel().fit(**small_donors)
    assert model.time_unit_ is None
    with pytest.raises(
        ConfigError,
        match=r"^BetaGeoBetaBinomModel\.expected_purchases_new_customer: BetaGeoBetaBinomModel "
        r"counts discrete purchase opportunities and has no time unit\.",
    ):
        model.expected_purchases_new_customer(3, time_unit="W")
    with pytest.raises(ConfigError, match=r"t must be whole numbers >= 0 \(numbers of opport"):
        model.expected_purchases(2.5, frequency=[1], recency=[1], n_periods=[6])
    with pytest.raises(ConfigError, match=r"t must be a single number of opportunities"):
        model.probability_of_purchases(1, [3, 4])
