"""The shared fitting machinery: estimator protocol, errors, standard errors, penalizer."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from retailcrm.exceptions import ConfigError, ConvergenceError, NotFittedError
from retailcrm.models import BetaGeoModel, ShiftedBetaGeometricModel
from retailcrm.models._base import BaseFitter

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


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
        ConfigError, match="'penalizer' parameter of BetaGeoModel must be a float >= 0"
    ):
        BetaGeoModel(penalizer=-1).fit(frequency=[1], recency=[1], T=[2])
    with pytest.raises(ConfigError, match="'initial_params' parameter"):
        BetaGeoModel(initial_params={"r": 1}).fit(frequency=[1], recency=[1], T=[2])


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="ShiftedBetaGeometricModel is not fitted yet"):
        ShiftedBetaGeometricModel().params_frame()


def test_unidentified_data_raise_convergence_error_with_advice() -> None:
    # nobody ever drops out: b runs off to infinity
    with pytest.raises(ConvergenceError, match=r"did not converge.*Try: a small penalizer"):
        BetaGeoModel().fit(frequency=[3, 3, 3], recency=[10, 10, 10], T=[10, 10, 10])


def test_penalizer_shrinks_parameters() -> None:
    data = {
        "frequency": [0, 1, 2, 4, 0, 3],
        "recency": [0, 2, 5, 9, 0, 4],
        "T": [10, 8, 10, 10, 6, 12],
    }
    free = BetaGeoModel().fit(**data).params_
    pen = BetaGeoModel(penalizer=0.1).fit(**data).params_
    assert all(np.isfinite(v) for v in pen.values())
    assert sum(v * v for v in pen.values()) < sum(v * v for v in free.values())


def test_sklearn_clone() -> None:
    from sklearn.base import clone

    m = BetaGeoModel(penalizer=0.01)
    c = clone(m)
    assert c.get_params() == m.get_params()
    assert c is not m
