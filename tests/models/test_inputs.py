"""Summary extraction, validation and compression."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.models._inputs import compress, summary_arrays, validate_weights

REF = pd.DataFrame(
    {"frequency": [0, 2, 1, 3], "recency": [0.0, 3.5, 1.0, 9.0], "T": [4.0, 5.0, 2.0, 9.0]}
)


def test_every_engine_gives_the_same_arrays(constructor: Callable[[pd.DataFrame], Any]) -> None:
    out = summary_arrays(constructor(REF))
    for c in REF.columns:
        np.testing.assert_array_equal(out[c], REF[c].to_numpy(dtype=float))


def test_all_problems_reported_at_once() -> None:
    bad = pd.DataFrame(
        {
            "frequency": [0, 1.5, -1, 0],
            "recency": [1.0, 3.0, 0.0, np.nan],
            "T": [2.0, 2.0, 1.0, 3.0],
        }
    )
    with pytest.raises(InvalidDataError) as err:
        summary_arrays(bad)
    msg = str(err.value)
    assert "5 problems" in msg
    assert "recency is missing, NaN or infinite at row [3]" in msg
    assert "frequency is negative at row [2]" in msg
    assert "frequency is not a whole number at row [1]" in msg
    assert "recency is greater than T at row [1]" in msg
    assert "Fix:" in msg


def test_recency_must_be_zero_without_repeats() -> None:
    with pytest.raises(
        InvalidDataError, match=r"recency is not 0 where frequency is 0 at row \[0\]"
    ):
        summary_arrays(frequency=[0], recency=[1.0], T=[2.0])


def test_missing_columns_and_argument_errors() -> None:
    with pytest.raises(
        MissingColumnsError, match="missing column 'recency' \\(did you mean 'Recency'\\?\\)"
    ):
        summary_arrays(REF.rename(columns={"recency": "Recency"}))
    with pytest.raises(ConfigError, match="not both"):
        summary_arrays(REF, frequency=[1])
    with pytest.raises(ConfigError, match="missing arrays"):
        summary_arrays(frequency=[1])
    with pytest.raises(ConfigError, match="differ in length"):
        summary_arrays(frequency=[1], recency=[1.0, 2.0], T=[2.0])


def test_monetary_value_checked_for_repeat_buyers() -> None:
    cols = ("frequency", "monetary_value")
    summary_arrays(frequency=[0, 1], monetary_value=[0.0, 3.0], columns=cols)
    with pytest.raises(InvalidDataError, match="monetary_value is not positive"):
        summary_arrays(frequency=[0, 1], monetary_value=[0.0, 0.0], columns=cols)


def test_compress_roundtrip() -> None:
    rng = np.random.default_rng(0)
    data = {"x": rng.integers(0, 3, 500).astype(float), "t": rng.integers(0, 4, 500).astype(float)}
    w = rng.random(500)
    u, counts, inv = compress(data, w)
    for k in data:
        np.testing.assert_array_equal(u[k][inv], data[k])
    assert counts.sum() == pytest.approx(w.sum())
    assert len(counts) == len({(a, b) for a, b in zip(data["x"], data["t"], strict=True)})


def test_weights_validation() -> None:
    with pytest.raises(InvalidDataError, match="negative, NaN or infinite at row"):
        validate_weights([1.0, -1.0], 2)
    with pytest.raises(ConfigError, match="one weight"):
        validate_weights([1.0], 2)


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_duckdb_and_spark_fits_collect_distinct_rows_counted_in_the_engine(engine: str) -> None:
    """On DuckDB and Spark a fit reads the distinct summary rows and their customer counts
    (computed in the engine, so the driver gets a few rows however many customers there
    are), and gives the fit of the whole table."""
    from helpers import make_native
    from retailcrm.data import sample_data
    from retailcrm.models import BetaGeoModel, GammaGammaModel, btyd_summary
    from retailcrm.models._inputs import unique_rows

    tx = sample_data(400, seed=3).transactions
    summary = btyd_summary(tx, observation_end="2024-12-31", time_unit="W")
    native = make_native(engine, summary)
    merged = unique_rows(native, ["frequency", "recency", "T"])
    assert merged is not None
    data, counts = merged
    got = sorted(zip(data["frequency"], data["recency"], data["T"], counts, strict=True))
    expected = summary.groupby(["frequency", "recency", "T"]).size().reset_index()
    assert got == [tuple(map(float, row)) for row in expected.itertuples(index=False)]
    assert unique_rows(summary, ["frequency", "recency", "T"]) is None  # pandas: row by row

    whole, engine_fit = BetaGeoModel().fit(summary), BetaGeoModel().fit(native)
    assert engine_fit.params_ == pytest.approx(whole.params_, rel=1e-9)
    assert engine_fit.n_customers_ == len(summary)
    assert len(counts) < len(summary)  # some customers share a row
    buyers = summary[summary["frequency"] > 0]
    gg_whole = GammaGammaModel().fit(buyers)
    gg_engine = GammaGammaModel().fit(make_native(engine, buyers))
    assert gg_engine.params_ == pytest.approx(gg_whole.params_, rel=1e-9)
    assert gg_engine.n_customers_ == len(buyers)
