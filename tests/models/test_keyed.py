"""Predictions keyed by customer: a summary frame of any engine in, the same kind of frame out
with ``customer_id`` and a named column; arrays in, arrays out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from helpers import assert_equal_data, assert_same_kind, to_polars
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)

#: Customers to predict for: ids of mixed order, one without repeat purchases.
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["c", "a", "e", "b", "d"],
        "frequency": [0, 2, 7, 1, 4],
        "recency": [0.0, 3.0, 11.5, 1.0, 8.0],
        "T": [10.0, 12.0, 12.0, 4.0, 9.0],
        "monetary_value": [0.0, 20.0, 35.5, 12.0, 60.0],
    }
)
ARRAYS = {c: CUSTOMERS[c].to_numpy() for c in ("frequency", "recency", "T")}


@pytest.fixture(scope="module")
def bgnbd(small: dict[str, Any]) -> BetaGeoModel:
    return BetaGeoModel().fit(**small)


@pytest.fixture(scope="module")
def pareto(small: dict[str, Any]) -> ParetoNBDModel:
    return ParetoNBDModel().fit(**small)


@pytest.fixture(scope="module")
def spend() -> GammaGammaModel:
    return GammaGammaModel().fit([3, 4, 6, 2, 5, 3], [8, 15, 60, 25, 120, 40], weights=[10] * 6)


def _predictions(
    bgnbd: BetaGeoModel, pareto: ParetoNBDModel, spend: GammaGammaModel
) -> dict[str, Callable[..., Any]]:
    """Each prediction, as a function of a summary frame (or None) and the summary arrays."""

    def timing(a: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in a.items() if k in ("frequency", "recency", "T")}

    return {
        "probability_alive": lambda s=None, **a: bgnbd.probability_alive(s, **timing(a)),
        "expected_purchases": lambda s=None, **a: bgnbd.expected_purchases(26, s, **timing(a)),
        "conditional_probability_of_purchases": (
            lambda s=None, **a: pareto.conditional_probability_of_purchases(1, 26, s, **timing(a))
        ),
        "expected_spend": lambda s=None, **a: spend.expected_spend(
            s, **{k: v for k, v in a.items() if k in ("frequency", "monetary_value")}
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "probability_alive",
        "expected_purchases",
        "conditional_probability_of_purchases",
        "expected_spend",
    ],
)
def test_every_engine_answers_with_its_own_kind_keyed_by_customer(
    constructor: Callable[[pd.DataFrame], Any],
    bgnbd: BetaGeoModel,
    pareto: ParetoNBDModel,
    spend: GammaGammaModel,
    name: str,
) -> None:
    predict = _predictions(bgnbd, pareto, spend)[name]
    native = constructor(CUSTOMERS)
    got = predict(native)
    assert_same_kind(got, native)
    got_pl = to_polars(got).sort("customer_id")
    assert got_pl[name].dtype == pl.Float64
    arrays = {c: CUSTOMERS[c].to_numpy() for c in CUSTOMERS.columns if c != "customer_id"}
    values = predict(**arrays)
    assert isinstance(values, np.ndarray)
    want = pl.DataFrame({"customer_id": CUSTOMERS["customer_id"], name: values})
    assert_equal_data(got_pl, want.sort("customer_id"), rel_tol=1e-12)


def test_pandas_result_keeps_the_summary_index(bgnbd: BetaGeoModel) -> None:
    sub = CUSTOMERS.iloc[[3, 0, 4]].set_index(pd.Index(["x", "y", "z"]))
    got = bgnbd.expected_purchases(10, sub)
    assert got.index.tolist() == ["x", "y", "z"]
    assert got["customer_id"].tolist() == ["b", "c", "d"]
    want = bgnbd.expected_purchases(10, **{c: sub[c] for c in ("frequency", "recency", "T")})
    np.testing.assert_array_equal(got["expected_purchases"].to_numpy(), want)


def test_one_horizon_per_customer_and_empty_summaries(bgnbd: BetaGeoModel) -> None:
    t = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    got = bgnbd.expected_purchases(t, CUSTOMERS)["expected_purchases"].to_numpy()
    np.testing.assert_allclose(got, bgnbd.expected_purchases(t, **ARRAYS), rtol=1e-15)
    empty = bgnbd.probability_alive(CUSTOMERS.iloc[:0])
    assert list(empty.columns) == ["customer_id", "probability_alive"]
    assert len(empty) == 0


def test_all_forms_of_the_summary_agree(bgnbd: BetaGeoModel) -> None:
    x, t_x, T = ARRAYS["frequency"], ARRAYS["recency"], ARRAYS["T"]
    keywords = bgnbd.probability_alive(frequency=x, recency=t_x, T=T)
    np.testing.assert_array_equal(bgnbd.probability_alive(x, t_x, T), keywords)
    np.testing.assert_array_equal(bgnbd.probability_alive(dict(ARRAYS)), keywords)
    np.testing.assert_array_equal(bgnbd.probability_alive(x, t_x, T=T), keywords)
    frame = bgnbd.probability_alive(CUSTOMERS)["probability_alive"].to_numpy()
    np.testing.assert_array_equal(frame, keywords)


def test_fit_takes_a_frame_a_mapping_or_positional_arrays(cdnow_summary: pd.DataFrame) -> None:
    s = cdnow_summary.iloc[:400]
    x, t_x, T = (s[c].to_numpy() for c in ("frequency", "recency", "T"))
    frame = BetaGeoModel().fit(s).params_
    assert BetaGeoModel().fit(x, t_x, T).params_ == frame
    assert BetaGeoModel().fit({"frequency": x, "recency": t_x, "T": T}).params_ == frame
    assert ParetoNBDModel().fit(x, t_x, T).params_ == ParetoNBDModel().fit(s).params_
    assert (
        ModifiedBetaGeoModel().fit(x, recency=t_x, T=T).params_
        == ModifiedBetaGeoModel().fit(frequency=x, recency=t_x, T=T).params_
    )
    repeat = s[s["frequency"] > 0]
    assert (
        GammaGammaModel().fit(repeat["frequency"], repeat["monetary_value"]).params_
        == GammaGammaModel().fit(repeat).params_
    )


def test_bgbb_reads_n_periods_or_its_alias_from_frames() -> None:
    fitted = BetaGeoBetaBinomModel().fit(
        [6, 5, 3, 2, 1, 1, 0, 4], [6, 6, 5, 2, 1, 3, 0, 6], 6,
        weights=[120, 70, 20, 60, 110, 10, 350, 50],
    )  # fmt: skip
    donors = pl.DataFrame(
        {"customer_id": [1, 2, 3], "frequency": [0, 6, 3], "recency": [0, 6, 5], "T": [6, 6, 6]}
    )
    got = fitted.expected_purchases(5, donors)
    assert got.columns == ["customer_id", "expected_purchases"]
    want = fitted.expected_purchases(5, [0, 6, 3], [0, 6, 5], 6)
    np.testing.assert_array_equal(got["expected_purchases"].to_numpy(), want)
    renamed = donors.rename({"T": "n_periods"})
    np.testing.assert_array_equal(
        fitted.probability_alive(renamed)["probability_alive"].to_numpy(),
        fitted.probability_alive(frequency=[0, 6, 3], recency=[0, 6, 5], n_periods=6),
    )
    with pytest.raises(InvalidDataError, match="frequency exceeds recency"):
        fitted.probability_alive(donors.with_columns(recency=pl.Series([0, 2, 2])))


def test_errors_say_how_to_get_arrays_instead(bgnbd: BetaGeoModel) -> None:
    with pytest.raises(
        MissingColumnsError,
        match=r"missing column 'customer_id'.*Fix: BetaGeoModel\.probability_alive answers a "
        r"summary frame with one row per customer.*pass the columns as arrays \(frequency=\.\.\., "
        r"recency=\.\.\., T=\.\.\.\) to get a numpy array",
    ):
        bgnbd.probability_alive(CUSTOMERS.drop(columns="customer_id"))
    with pytest.raises(MissingColumnsError, match=r"customer_id is the index here: pass summary"):
        bgnbd.probability_alive(CUSTOMERS.set_index("customer_id"))
    with pytest.raises(MissingColumnsError, match=r"'customer_id', 'T'"):
        bgnbd.probability_alive(pl.DataFrame({"frequency": [1], "recency": [2.0]}))
    with pytest.raises(
        ConfigError,
        match=r"with a summary frame the answer is one expected_purchases per customer, but the "
        r"arguments give an array of shape \(3, 5\) for 5 customers",
    ):
        bgnbd.expected_purchases(np.array([[1.0], [2.0], [3.0]]), CUSTOMERS)
    with pytest.raises(ConfigError, match="Got frequency twice"):
        bgnbd.probability_alive([1, 2], frequency=[1, 2], recency=[1, 2], T=[3, 3])
    with pytest.raises(ConfigError, match="Got both a summary frame and the arrays"):
        bgnbd.probability_alive(CUSTOMERS, recency=[1.0])
    with pytest.raises(ConfigError, match="Got both a mapping of summary arrays and the arrays"):
        bgnbd.probability_alive(dict(ARRAYS), T=[1.0])
    with pytest.raises(InvalidDataError, match=r"recency is greater than T at row \[1\]"):
        bgnbd.probability_alive(CUSTOMERS.assign(T=[10.0, 1.0, 12.0, 4.0, 9.0]))


def test_summary_frames_are_not_mutated(bgnbd: BetaGeoModel, spend: GammaGammaModel) -> None:
    before = CUSTOMERS.copy()
    bgnbd.expected_purchases(10, CUSTOMERS)
    spend.expected_spend(CUSTOMERS)
    pd.testing.assert_frame_equal(CUSTOMERS, before)
