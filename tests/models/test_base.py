"""The shared fitting machinery: estimator protocol, errors, standard errors, penalizer."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from retailcrm.exceptions import (
    ConfigError,
    ConvergenceError,
    IdentifiabilityWarning,
    NotFittedError,
)
from retailcrm.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeometricModel,
)
from retailcrm.models._base import BaseFitter

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
SPEND = {
    "frequency": [3, 4, 6, 2, 5, 3],
    "monetary_value": [8, 15, 60, 25, 120, 40],
    "weights": [10] * 6,
}


class _Exponential(BaseFitter):
    """A one-parameter subclass written against the documented subclass API."""

    _param_names: ClassVar[tuple[str, ...]] = ("rate",)

    def fit(self, values: Any) -> _Exponential:
        return self._fit_data({"y": np.asarray(values, dtype=float)})

    def _initial_params(self, data: Any, weights: np.ndarray) -> np.ndarray:
        return np.array([1.0])

    def _negloglik(self, log_params: np.ndarray, data: Any, weights: np.ndarray) -> float:
        lam = float(np.exp(log_params[0]))
        return -float(np.sum(weights * (np.log(lam) - lam * data["y"])))


def test_subclass_api_gives_mle_and_standard_error() -> None:
    y = np.array([0.5, 1.0, 2.0, 0.25, 1.25])
    m = _Exponential().fit(y)
    rate = 1 / y.mean()
    assert m.params_["rate"] == pytest.approx(rate, rel=1e-7)
    assert m.standard_errors_["rate"] == pytest.approx(rate / np.sqrt(y.size), rel=1e-4)
    assert m.log_likelihood_ == pytest.approx(y.size * (np.log(rate) - 1))
    assert m.bic_ == pytest.approx(np.log(5) - 2 * m.log_likelihood_)


def test_params_frame_and_repr() -> None:
    m = ShiftedBetaGeometricModel().fit(REGULAR)
    f = m.params_frame()
    assert list(f.index) == ["alpha", "beta"]
    assert (f["lower"] < f["estimate"]).all()
    assert (f["estimate"] < f["upper"]).all()
    assert repr(m).startswith("ShiftedBetaGeometricModel(): alpha=0.7041, beta=1.182")


def test_get_set_params_and_config_errors() -> None:
    m = BetaGeoModel()
    assert m.set_params(penalizer=0.5).get_params()["penalizer"] == 0.5
    with pytest.raises(ConfigError, match="has no parameter 'foo'"):
        m.set_params(foo=1)
    with pytest.raises(
        ConfigError,
        match=r"The 'penalizer' parameter of BetaGeoModel must be a finite number in \[0, inf\)\. Got -1",
    ):
        BetaGeoModel(penalizer=-1).fit(frequency=[1], recency=[1], T=[2])
    with pytest.raises(ConfigError, match="'initial_params' parameter"):
        BetaGeoModel(initial_params={"r": 1}).fit(frequency=[1], recency=[1], T=[2])


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="ShiftedBetaGeometricModel is not fitted yet"):
        ShiftedBetaGeometricModel().params_frame()


def test_unidentified_data_warn_with_advice() -> None:
    # nobody ever drops out and everyone buys alike: the parameters run off to the edges
    with pytest.warns(
        IdentifiabilityWarning, match=r"do not identify the parameters .*Fix: .*penalizer"
    ):
        m = BetaGeoModel().fit(frequency=[3, 3, 3], recency=[10, 10, 10], T=[10, 10, 10])
    assert np.isnan(list(m.standard_errors_.values())).any()


def test_a_fit_cut_short_raises_convergence_error_with_advice() -> None:
    # well-identified data, but one iteration is not enough: an error, not a warning
    with pytest.raises(ConvergenceError, match=r"did not converge.*Try: a small penalizer"):
        BetaGeoModel(max_iter=1).fit(
            frequency=[0, 1, 4, 5, 6, 7],
            recency=[0, 1, 10, 9, 3, 3],
            T=12,
            weights=[52, 52, 5, 5, 6, 15],
        )


def test_penalizer_shrinks_parameters() -> None:
    data = {
        "frequency": [0, 1, 2, 4, 0, 3],
        "recency": [0, 2, 5, 9, 0, 4],
        "T": [10, 8, 10, 10, 6, 12],
    }
    with pytest.warns(IdentifiabilityWarning, match=r"do not identify the parameters a, b:"):
        free = BetaGeoModel().fit(**data).params_
    pen = BetaGeoModel(penalizer=0.1).fit(**data).params_  # no warning: the penalty pins a, b
    assert all(np.isfinite(v) for v in pen.values())
    assert sum(v * v for v in pen.values()) < sum(v * v for v in free.values())


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (BetaGeoModel(penalizer=0.01), "small"),
        (ModifiedBetaGeoModel(max_iter=500), "small"),
        (ParetoNBDModel(), "small"),
        (BetaGeoBetaBinomModel(), "small_donors"),
        (GammaGammaModel(), "spend"),
    ],
    ids=["bgnbd", "mbgnbd", "pareto", "bgbb", "gamma-gamma"],
)
def test_sklearn_clone_and_check_is_fitted(
    model: BaseFitter, data: str, request: pytest.FixtureRequest
) -> None:
    """scikit-learn's protocol comes from BaseEstimator: a fitted model passes
    check_is_fitted, its clone has the same parameters and is not fitted."""
    fit = SPEND if data == "spend" else request.getfixturevalue(data)
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError
    from sklearn.utils import get_tags
    from sklearn.utils.validation import check_is_fitted

    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(model)
    fitted = model.fit(**fit)  # type: ignore[attr-defined]
    check_is_fitted(fitted)
    copy = clone(fitted)
    assert copy is not fitted
    assert copy.get_params() == fitted.get_params()
    with pytest.raises(SklearnNotFittedError):
        check_is_fitted(copy)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        copy.params_frame()
    assert get_tags(fitted).requires_fit
    check_is_fitted(ShiftedBetaGeometricModel().fit(REGULAR))


def test_get_params_come_from_the_constructor() -> None:
    m = BetaGeoModel(penalizer=0.5, initial_params={"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0})
    assert m.get_params() == {
        "initial_params": {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0},
        "max_iter": 1000,
        "penalizer": 0.5,
    }
    assert "params_" not in vars(m)  # __init__ stores the arguments only
