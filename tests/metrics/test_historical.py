"""historical_value: margin required, numbers and columns, missing values."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from helpers import assert_equal_data, make_native
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.metrics import historical_value


@pytest.fixture
def features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "monetary": [400.0, 45.0, None],  # c never bought
            "margin_rate": [0.5, None, 0.3],
        }
    )


def test_fixed_margin_by_hand(features: pd.DataFrame) -> None:
    # 400 * 0.4 = 160; 45 * 0.4 = 18; no purchases -> 0
    assert_equal_data(
        historical_value(features, margin=0.4),
        {
            "customer_id": ["a", "b", "c"],
            "monetary": [400.0, 45.0, None],
            "margin": [0.4, 0.4, 0.4],
            "historical_value": [160.0, 18.0, 0.0],
        },
    )


def test_margin_column_and_revenue_by_saying_so(features: pd.DataFrame) -> None:
    # a: 400 * 0.5 = 200; b: margin unknown -> missing; c: no purchases -> 0
    result = historical_value(pl.from_pandas(features), margin="margin_rate")
    assert result["historical_value"].to_list() == [200.0, None, 0.0]
    revenue = historical_value(features, margin=1.0)
    assert revenue["historical_value"].tolist() == [400.0, 45.0, 0.0]


def test_margin_is_required_and_checked(features: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"margin is required.*margin=1\.0"):
        historical_value(features)
    with pytest.raises(ConfigError, match=r"The 'margin' parameter of historical_value must be"):
        historical_value(features, margin=35)
    with pytest.raises(ConfigError, match=r"The 'margin' parameter of historical_value"):
        historical_value(features, margin=0.0)
    with pytest.raises(MissingColumnsError, match="gross_margin"):
        historical_value(features, margin="gross_margin")
    with pytest.raises(InvalidDataError, match="outside \\[0, 1\\]"):
        historical_value(features.assign(margin_rate=[35.0, 40.0, 20.0]), margin="margin_rate")


def test_lazy_engine_stays_lazy(features: pd.DataFrame) -> None:
    native = make_native("duckdb", features)
    result = historical_value(native, margin="margin_rate")
    assert type(result).__module__.startswith("duckdb")
    got = pl.from_arrow(result.arrow()).sort("customer_id")
    assert got["historical_value"].to_list() == [200.0, None, 0.0]
