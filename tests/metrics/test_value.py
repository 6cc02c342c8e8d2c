"""Lifetime-value formulas, LTV/CAC bands and the CAC payback by formula."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest

from retailcrm.exceptions import ConfigError
from retailcrm.metrics import cac_payback_months, formula_ltv, ltv_to_cac, retention_ltv


def test_formula_ltv_by_hand() -> None:
    # 50 per order × 4 orders a year × 40% margin = 80 a year; 3 years = 240
    assert formula_ltv(50.0, 4, 3, margin=0.4) == pytest.approx(240.0)
    # discounted at 10%: 80 (1/1.1 + 1/1.21 + 1/1.331) = 80 × 2.486852 = 198.948
    assert formula_ltv(50.0, 4, 3, 0.4, discount_rate=0.1) == pytest.approx(198.94816, abs=1e-4)
    # the annuity factor equals the explicit sum for whole years
    assert formula_ltv(50.0, 4, 5, 0.4, 0.07) == pytest.approx(
        sum(80 / 1.07**t for t in range(1, 6))
    )
    assert isinstance(formula_ltv(1, 1, 1, 1.0), float)


def test_formula_ltv_broadcasts_and_keeps_the_series_kind() -> None:
    aov = pd.Series([50.0, 80.0, np.nan], index=["x", "y", "z"])
    out = formula_ltv(aov, 4, np.array([3.0, 1.0, 2.0]), margin=0.5)
    assert isinstance(out, pd.Series) and list(out.index) == ["x", "y", "z"]
    assert out.iloc[:2].tolist() == [300.0, 160.0] and math.isnan(out.iloc[2])
    polars = formula_ltv(pl.Series([50.0, None]), 4, 3, margin=0.5)
    assert isinstance(polars, pl.Series) and polars.to_list() == [300.0, None]
    arr = formula_ltv([50.0, 80.0], [4, 2], 3, margin=[0.5, 0.25])
    assert isinstance(arr, np.ndarray) and arr.tolist() == [300.0, 120.0]


def test_formula_ltv_is_on_margin() -> None:
    with pytest.raises(TypeError):
        formula_ltv(50.0, 4, 3)  # type: ignore[call-arg]  # no silent revenue LTV
    with pytest.raises(ConfigError, match=r"'margin' parameter of formula_ltv.*not 35"):
        formula_ltv(50.0, 4, 3, margin=35)
    with pytest.raises(ConfigError, match="'aov' parameter"):
        formula_ltv(-1.0, 4, 3, margin=0.3)
    with pytest.raises(ConfigError, match="values such as"):
        formula_ltv(50.0, [4, -2], 3, margin=0.3)
    with pytest.raises(ConfigError, match="one length"):
        formula_ltv([1.0, 2.0], [1.0, 2.0, 3.0], 3, margin=0.3)


def test_retention_ltv_both_timings_by_hand() -> None:
    # Gupta & Lehmann: m r / (1 + i - r) = 100 × 0.8 / 0.3 = 266.667
    assert retention_ltv(100.0, 0.8, 0.1) == pytest.approx(800 / 3)
    # first margin now: m (1 + i) / (1 + i - r) = 110 / 0.3 = 366.667, exactly m more
    assert retention_ltv(100.0, 0.8, 0.1, timing="start") == pytest.approx(1100 / 3)
    # the closed form is the infinite sum Σ_{t>=1} m r^t / (1 + i)^t
    series = sum(100 * 0.8**t / 1.1**t for t in range(1, 400))
    assert retention_ltv(100.0, 0.8, 0.1) == pytest.approx(series)
    assert retention_ltv(100.0, 1.0, 0.25) == pytest.approx(400.0)  # 100 / 0.25
    out = retention_ltv(pd.Series([100.0, 50.0]), [0.5, 0.0], 0.0)
    assert out.tolist() == [100.0, 0.0]  # 100 × 0.5 / 0.5; nobody retained


def test_retention_ltv_errors() -> None:
    with pytest.raises(ConfigError, match="'retention_rate' parameter of retention_ltv"):
        retention_ltv(100.0, 1.0, 0.0)
    with pytest.raises(ConfigError, match=r"shares in \[0, 1\]"):
        retention_ltv(100.0, 80, 0.1)
    with pytest.raises(ConfigError, match="'timing' parameter"):
        retention_ltv(100.0, 0.8, 0.1, timing="middle")  # type: ignore[arg-type]


def test_ltv_to_cac_bands_at_their_edges() -> None:
    ltv = [99.0, 100.0, 299.0, 300.0, 500.0, 501.0, -50.0, 10.0]
    cac = [100.0] * 7 + [0.0]
    out = ltv_to_cac(ltv, cac)
    assert list(out.columns) == ["ltv", "cac", "ratio", "band"]
    assert out["ratio"].iloc[:7].tolist() == pytest.approx([0.99, 1, 2.99, 3, 5, 5.01, -0.5])
    assert out["band"].iloc[:7].tolist() == [
        "losing money", "below target", "below target", "healthy", "healthy",
        "under-investing", "losing money",
    ]  # fmt: skip
    assert out["band"].isna().iloc[7]
    assert math.isnan(out["ratio"].iloc[7])  # acquired for free: no ratio


def test_ltv_to_cac_kinds() -> None:
    one = ltv_to_cac(300.0, 100.0)
    assert isinstance(one, pd.DataFrame) and one["band"].tolist() == ["healthy"]
    indexed = ltv_to_cac(pd.Series([300.0, 80.0], index=["web", "store"]), 100.0)
    assert list(indexed.index) == ["web", "store"]
    assert indexed["band"].tolist() == ["healthy", "losing money"]
    polars = ltv_to_cac(pl.Series([300.0, 800.0]), pl.Series([100.0, 100.0]))
    assert isinstance(polars, pl.DataFrame)
    assert polars["band"].to_list() == ["healthy", "under-investing"]
    with pytest.raises(ConfigError, match="'cac' parameter of ltv_to_cac"):
        ltv_to_cac(100.0, -5.0)


def test_cac_payback_months_by_hand() -> None:
    assert cac_payback_months(120.0, 15.0) == 8.0  # 120 / 15
    assert cac_payback_months(0.0, 15.0) == 0.0
    assert math.isinf(cac_payback_months(120.0, 0.0))  # never paid back
    assert math.isinf(cac_payback_months(120.0, -3.0))
    out = cac_payback_months(pd.Series([90.0, 60.0, np.nan]), pd.Series([10.0, 20.0, 5.0]))
    assert out.iloc[:2].tolist() == [9.0, 3.0] and math.isnan(out.iloc[2])
