"""customer_lifetime_value: lifetimes cross-check on CDNOW, discounting, frame kinds, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from helpers import assert_equal_data, assert_same_kind, to_polars
from retailcrm.exceptions import ConfigError, MissingColumnsError, NotFittedError
from retailcrm.models import (
    BetaGeoModel,
    GammaGammaModel,
    btyd_summary,
    customer_lifetime_value,
)

# lifetimes 0.11.3 (numpy 2.4.6, pandas 3.1.1, scipy 1.17.1; throw-away venv), with its
# BetaGeoFitter and GammaGammaFitter given exactly our fitted parameters, CDNOW calibration
# summary, sample ids below, 12 months, 0.01 per month:
# * LT_CLV: GammaGammaFitter.customer_lifetime_value(..., time=12, discount_rate=0.01,
#   freq="W"), whose months are 4.345 weeks;
# * LT_BLOCKS: the sum over i = 1..12 of (conditional_expected_number_of_purchases_up_to_time
#   (i L) - (...)((i-1) L)) / 1.01**i times conditional_expected_average_profit, with
#   L = 30.4375 / 7 weeks — retailcrm's convention computed with lifetimes' predictions.
LT_IDS = [1, 2, 3, 18, 100, 1000, 2357]
LT_CLV = [36.27397811, 4.64093657, 8.34448051, 6.34819293, 21.88774529, 50.69278472,
          11.01700201]  # fmt: skip
LT_BLOCKS = [36.29601548, 4.64382933, 8.34991947, 6.35214984, 21.90136595, 50.72213052,
             11.02395748]  # fmt: skip
LT_TOTAL = 71507.95175650158  # lifetimes' CLV summed over all 2,357 customers


@pytest.fixture(scope="module")
def summary(cdnow_transactions: pd.DataFrame) -> pd.DataFrame:
    return btyd_summary(cdnow_transactions, observation_end="1997-09-30")


@pytest.fixture(scope="module")
def models(summary: pd.DataFrame) -> tuple[BetaGeoModel, GammaGammaModel]:
    return (
        BetaGeoModel().fit(summary),
        GammaGammaModel().fit(summary[summary["frequency"] > 0]),
    )


def clv(models: tuple[BetaGeoModel, GammaGammaModel], summary: Any, **kw: Any) -> Any:
    args: dict[str, Any] = {"horizon": 12, "time_unit": "W", "discount_rate": 0.01, "margin": 1.0}
    args.update(kw)
    return customer_lifetime_value(models[0], models[1], summary, **args)


def test_agrees_with_lifetimes(models: tuple[Any, Any], summary: pd.DataFrame) -> None:
    got = clv(models, summary)
    assert list(got.columns) == ["customer_id", "clv"]
    by_id = got.set_index("customer_id")["clv"]
    np.testing.assert_allclose(by_id.loc[LT_IDS], LT_BLOCKS, rtol=1e-6)
    # lifetimes' own months are 4.345 weeks instead of 4.348: 0.03 - 0.08% apart
    np.testing.assert_allclose(by_id.loc[LT_IDS], LT_CLV, rtol=1e-3)
    assert got["clv"].sum() == pytest.approx(LT_TOTAL, rel=1e-3)
    assert got["clv"].sum() == pytest.approx(71550.2, abs=0.1)


def test_discounting_convention(models: tuple[Any, Any], summary: pd.DataFrame) -> None:
    """margin * E[Z] * sum_i (E[X(iL)] - E[X((i-1)L)]) / (1 + d)^i, checked by hand."""
    bg, gg = models
    sub = summary.iloc[:5]
    arrays = {c: sub[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value")}
    got = clv(models, arrays, horizon=3, period="W", discount_rate=0.05, margin=0.4)
    assert isinstance(got, np.ndarray)
    xs = {k: arrays[k] for k in ("frequency", "recency", "T")}
    cum = [bg.expected_purchases(t, **xs) for t in (0.0, 1.0, 2.0, 3.0)]
    spend = gg.expected_spend(sub)["expected_spend"].to_numpy()
    want = 0.4 * spend * sum((cum[i] - cum[i - 1]) / 1.05**i for i in (1, 2, 3))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # no discounting: the margin times spend times the expected purchases in 3 weeks
    flat = clv(models, arrays, horizon=3, period="W", discount_rate=0.0, margin=1.0)
    np.testing.assert_allclose(flat, spend * cum[3], rtol=1e-12)
    # the time unit of the summary converts periods: a daily summary gives the same value
    daily = {**arrays, "recency": arrays["recency"] * 7, "T": arrays["T"] * 7}
    bg_daily = BetaGeoModel().fit(
        frequency=summary["frequency"], recency=summary["recency"] * 7, T=summary["T"] * 7
    )
    per_day = customer_lifetime_value(
        bg_daily, gg, daily, horizon=12, time_unit="D", discount_rate=0.01, margin=1.0
    )
    np.testing.assert_allclose(per_day, clv(models, arrays), rtol=1e-4)


def test_value_grows_with_horizon_and_falls_with_discount(
    models: tuple[Any, Any], summary: pd.DataFrame
) -> None:
    base = clv(models, summary)["clv"].to_numpy()
    assert (clv(models, summary, horizon=24)["clv"].to_numpy() > base).all()
    assert (clv(models, summary, discount_rate=0.05)["clv"].to_numpy() < base).all()
    np.testing.assert_allclose(clv(models, summary, margin=0.25)["clv"], base * 0.25)


def test_pandas_result_keeps_the_summary_index(
    models: tuple[Any, Any], summary: pd.DataFrame
) -> None:
    sub = summary.iloc[[5, 2, 9]].set_index(pd.Index(["x", "y", "z"]))
    got = clv(models, sub)
    assert got.index.tolist() == ["x", "y", "z"]
    assert got["customer_id"].tolist() == sub["customer_id"].tolist()


def test_engine_kinds(constructor: Any, models: tuple[Any, Any], summary: pd.DataFrame) -> None:
    sub = summary.iloc[:6].reset_index(drop=True)
    native = constructor(sub)
    got = clv(models, native)
    assert_same_kind(got, native)
    assert_equal_data(to_polars(got).sort("customer_id"), clv(models, sub), rel_tol=1e-12)


def test_parameter_errors(models: tuple[Any, Any], summary: pd.DataFrame) -> None:
    with pytest.raises(
        ConfigError,
        match=r"The 'horizon' parameter of customer_lifetime_value must be an int in \[1, inf\)\. Got 0 instead\. Fix: a number of periods",
    ):
        clv(models, summary, horizon=0)
    with pytest.raises(ConfigError, match=r"'discount_rate' parameter .* \[0, inf\)"):
        clv(models, summary, discount_rate=-0.1)
    with pytest.raises(ConfigError, match=r"'margin' parameter .* \(0, 1\]. Got 30"):
        clv(models, summary, margin=30)
    with pytest.raises(ConfigError, match=r"'time_unit' parameter of customer_lifetime_value"):
        clv(models, summary, time_unit="weeks")
    with pytest.raises(ConfigError, match="GammaGammaModel has no expected_purchases"):
        customer_lifetime_value(
            models[1], models[0], summary, horizon=1, time_unit="W", discount_rate=0, margin=1
        )
    with pytest.raises(MissingColumnsError, match="'customer_id'"):
        clv(models, summary.drop(columns="customer_id"))
    with pytest.raises(NotFittedError):
        customer_lifetime_value(
            BetaGeoModel(),
            models[1],
            summary,
            horizon=1,
            time_unit="W",
            discount_rate=0,
            margin=1,
        )


# ------------------------------------------------------------------------------- time units
def test_a_model_that_knows_its_unit_needs_no_time_unit(summary: pd.DataFrame) -> None:
    bg = BetaGeoModel().fit(summary, time_unit="W")
    gg = GammaGammaModel().fit(summary[summary["frequency"] > 0])
    got = customer_lifetime_value(bg, gg, summary, horizon=12, discount_rate=0.01, margin=1.0)
    want = customer_lifetime_value(
        BetaGeoModel().fit(summary), gg, summary,
        horizon=12, time_unit="W", discount_rate=0.01, margin=1.0,
    )  # fmt: skip
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("unit", ["D", "M"])
def test_a_summary_in_another_unit_is_converted(summary: pd.DataFrame, unit: str) -> None:
    bg = BetaGeoModel().fit(summary, time_unit="W")
    gg = GammaGammaModel().fit(summary[summary["frequency"] > 0])
    scale = 7.0 / {"D": 1.0, "M": 30.4375}[unit]
    other = summary.assign(recency=summary["recency"] * scale, T=summary["T"] * scale)
    args: dict[str, Any] = {"horizon": 12, "discount_rate": 0.01, "margin": 1.0}
    got = customer_lifetime_value(bg, gg, other, time_unit=unit, **args)
    want = customer_lifetime_value(bg, gg, summary, **args)
    np.testing.assert_allclose(got["clv"], want["clv"], rtol=1e-12)


def test_an_unknown_unit_is_an_error(models: tuple[Any, Any], summary: pd.DataFrame) -> None:
    with pytest.raises(
        ConfigError,
        match=r"the time unit of the summary's recency and T is not known: BetaGeoModel was "
        r"fitted without time_unit and none was given\. Fix: pass time_unit=",
    ):
        customer_lifetime_value(*models, summary, horizon=12, discount_rate=0.01, margin=1.0)


def test_discount_rate_message_states_range_and_period(
    models: tuple[Any, Any], summary: pd.DataFrame
) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^The 'discount_rate' parameter of customer_lifetime_value must be a finite number "
        r"in \[0, inf\)\. Got -0\.01 instead\. Fix: a rate per period of one month "
        r"\(30\.4375 days\) \(period='M'\)",
    ):
        clv(models, summary, discount_rate=-0.01)
    with pytest.raises(ConfigError, match=r"per period of one week \(7 days\) \(period='W'\)"):
        clv(models, summary, discount_rate=float("nan"), period="W")
