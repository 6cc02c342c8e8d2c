"""Shared maximum-likelihood machinery of the probabilistic models (:class:`BaseFitter`).

Subclass API
------------
A model subclasses :class:`BaseFitter` and defines

``_param_names : tuple[str, ...]`` (class attribute)
    The parameters' names as in the paper, in the order used by the vectors below. All
    parameters are positive; the optimiser works on their logarithms.
``_initial_params(self, data, weights) -> numpy.ndarray``
    Deterministic starting values on the natural (positive) scale, one per parameter.
``_negloglik(self, log_params, data, weights) -> float``
    The *total* weighted negative log-likelihood, ``-sum(weights * loglik_i)``, at
    ``params = exp(log_params)``. It must be finite (never NaN) for every ``log_params`` within
    the bounds ``[-LOG_BOUND, LOG_BOUND]`` and must not emit warnings (use ``np.errstate``).
``_negloglik_and_grad(self, log_params, data, weights) -> tuple[float, numpy.ndarray]``
    Optional: the same value and its gradient with respect to ``log_params``. The default
    differentiates ``_negloglik`` numerically (central differences); define it when an analytic
    gradient is available (it is several times faster and more accurate).
``_prepare(self, data, weights) -> object``
    Optional: turn the compressed data (a ``dict`` of column arrays) into whatever the
    likelihood needs (precomputed indices, ...). Default: the dict itself.

``fit`` builds the ``dict`` of column arrays (see :func:`~retailcrm.models._inputs.summary_arrays`)
and calls ``self._fit_data(data, weights)``, which compresses identical rows, runs the
optimiser (L-BFGS-B on the mean negative log-likelihood, then Newton polishing with the
numerical Hessian; deterministic fallbacks on failure), checks convergence and sets ``params_``,
``log_likelihood_``, ``standard_errors_``, ``covariance_``, ``aic_``, ``bic_``,
``n_customers_``, ``n_iter_``. It raises :class:`~retailcrm.exceptions.ConvergenceError`, saying
what to try, when no start converges.
"""

from __future__ import annotations

import abc
import functools
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import optimize

from retailcrm.exceptions import ConfigError, ConvergenceError, NotFittedError
from retailcrm.models._inputs import FloatArray, compress, validate_weights

__all__ = ["LOG_BOUND", "BaseFitter", "wdot"]

#: Bound on the log of every parameter during optimisation (parameters in [1e-8, 1e8]).
LOG_BOUND = 18.42

_GRAD_STEP = 1e-6
_HESS_STEP_ANALYTIC = 1e-5
_HESS_STEP_NUMERIC = 1e-4
#: Convergence: max |gradient| of the mean negative log-likelihood w.r.t. log-parameters.
_GRAD_TOL = 1e-5


def wdot(a: Any, b: Any) -> float:
    """``sum(a * b)`` reproducibly (BLAS dot products may round differently with alignment)."""
    return float(np.sum(np.multiply(a, b)))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _single_blas_thread() -> Any:
    """Context manager limiting BLAS to one thread (a cached controller: ~15 µs a call)."""
    return _blas_controller().limit(limits=1, user_api="blas")


class BaseFitter(abc.ABC):
    """Base class of the maximum-likelihood models (see the module docstring for the API).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty ``penalizer * sum(params ** 2)`` added to the *mean* negative
        log-likelihood (the same scale as lifetimes' ``penalizer_coef``). 0 gives the maximum
        likelihood estimate; a small value (0.001-0.1) keeps parameters finite on data that do
        not identify them.
    initial_params : mapping of str to float, optional
        Starting values keyed by parameter name; default: the model's deterministic starts.
    max_iter : int, default 1000
        Maximum iterations of each optimiser run.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: Mapping[str, float] | None = None,
        max_iter: int = 1000,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.max_iter = max_iter

    # ------------------------------------------------------------------ estimator protocol
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor arguments (scikit-learn protocol).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> BetaGeoModel(penalizer=0.01).get_params()
        {'initial_params': None, 'max_iter': 1000, 'penalizer': 0.01}
        """
        return {
            "initial_params": self.initial_params,
            "max_iter": self.max_iter,
            "penalizer": self.penalizer,
        }

    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments (scikit-learn protocol) and return the model.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> BetaGeoModel().set_params(max_iter=50).max_iter
        50
        """
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {key!r}; valid parameters are "
                    f"{sorted(valid)}."
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {"initial_params": None, "max_iter": 1000, "penalizer": 0.0}
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults.get(k, object())
        )
        text = f"{type(self).__name__}({args})"
        if hasattr(self, "params_"):
            est = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params_.items())
            text += (
                f": {est} (log-likelihood {self.log_likelihood_:.2f} on "
                f"{self.n_customers_:,.10g} customers)"
            )
        return text

    # ------------------------------------------------------------------ subclass API
    @abc.abstractmethod
    def _initial_params(self, data: Any, weights: FloatArray) -> FloatArray:
        """Deterministic starting values (log-parameters) for this data."""

    @abc.abstractmethod
    def _negloglik(self, log_params: FloatArray, data: Any, weights: FloatArray) -> float:
        """The negative log-likelihood (total over customers, weighted)."""

    def _negloglik_and_grad(
        self, log_params: FloatArray, data: Any, weights: FloatArray
    ) -> tuple[float, FloatArray]:
        value = self._negloglik(log_params, data, weights)
        grad = np.empty_like(log_params)
        for i in range(log_params.size):
            step = np.zeros_like(log_params)
            step[i] = _GRAD_STEP
            up = self._negloglik(log_params + step, data, weights)
            down = self._negloglik(log_params - step, data, weights)
            grad[i] = (up - down) / (2 * _GRAD_STEP)
        return value, grad

    def _prepare(self, data: dict[str, FloatArray], weights: FloatArray) -> Any:
        return data

    @property
    def _has_analytic_gradient(self) -> bool:
        return type(self)._negloglik_and_grad is not BaseFitter._negloglik_and_grad

    # ------------------------------------------------------------------ fitting
    def _check_config(self) -> None:
        pen = self.penalizer
        if not (isinstance(pen, int | float) and math.isfinite(pen) and pen >= 0):
            raise ConfigError(
                f"The 'penalizer' parameter of {type(self).__name__} must be a float >= 0. "
                f"Got {pen!r} instead."
            )
        if not (isinstance(self.max_iter, int) and self.max_iter >= 1):
            raise ConfigError(
                f"The 'max_iter' parameter of {type(self).__name__} must be an int >= 1. "
                f"Got {self.max_iter!r} instead."
            )
        if self.initial_params is not None:
            names = set(self._param_names)
            given = dict(self.initial_params)
            if set(given) != names or not all(
                isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in given.values()
            ):
                raise ConfigError(
                    f"The 'initial_params' parameter of {type(self).__name__} must map each of "
                    f"{list(self._param_names)} to a positive float. Got {given!r} instead."
                )

    def _starts(self, data: Any, weights: FloatArray) -> list[FloatArray]:
        if self.initial_params is not None:
            first = np.array([float(self.initial_params[k]) for k in self._param_names])
        else:
            first = np.asarray(self._initial_params(data, weights), dtype=np.float64)
        base = np.log(np.clip(first, 1e-6, 1e6))
        starts = [base, np.zeros_like(base)]
        starts += [base + 1.0, base - 1.0]
        return starts

    def _fit_data(
        self,
        data: Mapping[str, FloatArray],
        weights: Any = None,
        *,
        compress_rows: bool = True,
    ) -> Self:
        """Fit by maximum likelihood on the column arrays ``data`` (see the module docstring)."""
        self._check_config()
        n_rows = next(iter(data.values())).size
        w = validate_weights(weights, n_rows)
        if compress_rows:
            unique, counts, _ = compress(data, w)
        else:
            unique, counts = dict(data), w
        keep = counts > 0
        if not keep.all():
            unique = {k: v[keep] for k, v in unique.items()}
            counts = counts[keep]
        prepared = self._prepare(unique, counts)
        n_total = float(counts.sum())
        pen = float(self.penalizer)

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            value, grad = self._negloglik_and_grad(theta, prepared, counts)
            value /= n_total
            grad = grad / n_total
            if pen:
                p = np.exp(theta)
                value += pen * wdot(p, p)
                grad = grad + 2 * pen * p * p
            if not math.isfinite(value) or not np.all(np.isfinite(grad)):
                return 1e100, np.zeros_like(theta)
            return float(value), grad

        best: tuple[float, FloatArray, FloatArray, int] | None = None
        failures: list[str] = []
        for start in self._starts(prepared, counts):
            outcome = self._optimise(objective, start)
            theta, value, grad, hess, nit, message = outcome
            at_bound = np.abs(theta) >= LOG_BOUND - 1e-3
            ok = (
                math.isfinite(value)
                and value < 1e99
                and float(np.max(np.abs(grad))) < _GRAD_TOL
                and not at_bound.any()
                and hess is not None
            )
            if ok and hess is not None:
                if best is None or value < best[0] - 1e-12:
                    best = (value, theta, hess, nit)
                if best is not None and len(failures) == 0:
                    break  # the first (default) start converged
            else:
                failures.append(self._describe_failure(theta, grad, at_bound, hess, message))
        if best is None:
            raise ConvergenceError(
                f"{type(self).__name__}.fit did not converge from any of its deterministic "
                f"starting points ({failures[0]}). Try: a small penalizer "
                f"({type(self).__name__}(penalizer=0.01)); check that the summary's time unit "
                "is sensible (weeks rather than seconds) and that there are repeat buyers; or "
                "pass initial_params close to the expected values."
            )
        value, theta, hess, nit = best
        self._set_fitted(theta, prepared, counts, n_total, hess, nit)
        return self

    def _describe_failure(
        self,
        theta: FloatArray,
        grad: FloatArray,
        at_bound: Any,
        hess: FloatArray | None,
        message: str,
    ) -> str:
        names = self._param_names
        if np.any(at_bound):
            which = [f"{names[i]} = {math.exp(theta[i]):.3g}" for i in np.flatnonzero(at_bound)]
            return (
                "parameters ran off to the edge of the parameter space: "
                + ", ".join(which)
                + "; the data do not identify them"
            )
        if hess is None:
            return "the log-likelihood is flat or not concave at the optimum found"
        return f"optimiser stopped with max |gradient| {np.max(np.abs(grad)):.2g}: {message}"

    def _optimise(
        self,
        objective: Callable[[FloatArray], tuple[float, FloatArray]],
        start: FloatArray,
    ) -> tuple[FloatArray, float, FloatArray, FloatArray | None, int, str]:
        bounds = [(-LOG_BOUND, LOG_BOUND)] * start.size
        # L-BFGS-B calls BLAS on vectors of 2-4 parameters; waking a BLAS thread pool for
        # those costs more than the whole fit (scipy#22438), so the optimiser runs on one
        # BLAS thread. The likelihood itself is numpy element-wise work, which BLAS threads
        # do not speed up anyway.
        with _single_blas_thread():
            res = optimize.minimize(
                objective,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": 1e-9, "maxls": 50},
            )
        theta = np.clip(np.asarray(res.x, dtype=np.float64), -LOG_BOUND, LOG_BOUND)
        value, grad = objective(theta)
        nit = int(res.nit)
        hess: FloatArray | None = None
        # Newton polishing: one numerical Hessian, reused for a few steps (it changes
        # negligibly this close to the optimum); it also gives the standard errors.
        hess = self._objective_hessian(objective, theta)
        if hess is not None:
            try:
                chol = np.linalg.cholesky(hess)
            except np.linalg.LinAlgError:
                hess = None
        if hess is not None:
            for _ in range(5):
                if float(np.max(np.abs(grad))) < 1e-10:
                    break
                step = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
                cand = np.clip(theta + step, -LOG_BOUND, LOG_BOUND)
                cval, cgrad = objective(cand)
                if not (
                    cval <= value + 1e-14 * abs(value)
                    and np.max(np.abs(cgrad)) < np.max(np.abs(grad))
                ):
                    break
                theta, value, grad = cand, cval, cgrad
                nit += 1
        return theta, value, grad, hess, nit, str(res.message)

    def _objective_hessian(
        self, objective: Callable[[FloatArray], tuple[float, FloatArray]], theta: FloatArray
    ) -> FloatArray | None:
        k = theta.size
        hess = np.empty((k, k))
        if self._has_analytic_gradient:
            h = _HESS_STEP_ANALYTIC
            for i in range(k):
                e = np.zeros(k)
                e[i] = h
                hess[i] = (objective(theta + e)[1] - objective(theta - e)[1]) / (2 * h)
        else:
            h = _HESS_STEP_NUMERIC

            def f(t: FloatArray) -> float:
                return objective(t)[0]

            f0 = f(theta)
            for i in range(k):
                ei = np.zeros(k)
                ei[i] = h
                hess[i, i] = (f(theta + 2 * ei) - 2 * f0 + f(theta - 2 * ei)) / (4 * h * h)
                for j in range(i):
                    ej = np.zeros(k)
                    ej[j] = h
                    hess[i, j] = (
                        f(theta + ei + ej)
                        - f(theta + ei - ej)
                        - f(theta - ei + ej)
                        + f(theta - ei - ej)
                    ) / (4 * h * h)
                    hess[j, i] = hess[i, j]
        hess = (hess + hess.T) / 2
        if not np.all(np.isfinite(hess)):
            return None
        return hess

    def _set_fitted(
        self,
        theta: FloatArray,
        prepared: Any,
        counts: FloatArray,
        n_total: float,
        hess_mean: FloatArray,
        nit: int,
    ) -> None:
        params = np.exp(theta)
        names = self._param_names
        total_nll = float(self._negloglik(theta, prepared, counts))
        # Observed information of the total log-likelihood on the log scale (penalty removed).
        hess_total = hess_mean * n_total
        if self.penalizer:
            hess_total = hess_total - n_total * np.diag(4 * float(self.penalizer) * params * params)
        try:
            cov_log = np.linalg.inv(hess_total)
        except np.linalg.LinAlgError:  # pragma: no cover - cholesky succeeded before
            cov_log = np.full_like(hess_total, np.nan)
        var_log = np.diag(cov_log)
        se_log = np.sqrt(np.where(var_log > 0, var_log, np.nan))
        self.params_: dict[str, float] = {n: float(p) for n, p in zip(names, params, strict=True)}
        self.log_likelihood_ = -total_nll
        self.n_customers_ = n_total
        self.n_iter_ = nit
        self.covariance_ = cov_log * np.outer(params, params)
        self.standard_errors_: dict[str, float] = {
            n: float(p * s) for n, p, s in zip(names, params, se_log, strict=True)
        }
        self._se_log = se_log
        k = len(names)
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * math.log(n_total) - 2 * self.log_likelihood_

    # ------------------------------------------------------------------ fitted state
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Fix: call fit(...) with the "
                "calibration data before predicting."
            )

    def _param_values(self) -> tuple[float, ...]:
        self._check_fitted()
        return tuple(self.params_[n] for n in self._param_names)

    def params_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Return the estimates with standard errors and confidence intervals.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the intervals.

        Returns
        -------
        pandas.DataFrame
            Indexed by parameter name, with columns ``estimate``, ``std_error``, ``lower``,
            ``upper``. Standard errors come from the observed information (the inverse
            Hessian of the log-likelihood) by the delta method; intervals are Wald intervals on
            the log scale, so they stay positive.

        Examples
        --------
        >>> from retailcrm.models import ShiftedBetaGeometricModel
        >>> m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.params_frame().round(3)
                   estimate  std_error  lower  upper
        parameter
        alpha         0.704      0.066  0.587  0.845
        beta          1.182      0.152  0.918  1.522
        """
        self._check_fitted()
        if not 0 < level < 1:
            raise ConfigError(f"level must be in (0, 1). Got {level!r} instead.")
        from scipy.stats import norm

        zq = float(norm.ppf(0.5 + level / 2))
        est = np.array([self.params_[n] for n in self._param_names])
        se = np.array([self.standard_errors_[n] for n in self._param_names])
        se_log = self._se_log
        with np.errstate(invalid="ignore"):
            lower = est * np.exp(-zq * se_log)
            upper = est * np.exp(zq * se_log)
        return pd.DataFrame(
            {"estimate": est, "std_error": se, "lower": lower, "upper": upper},
            index=pd.Index(list(self._param_names), name="parameter"),
        )

    def summary(self) -> pd.DataFrame:
        """Alias of :meth:`params_frame` with 95% intervals.

        Examples
        --------
        >>> from retailcrm.models import ShiftedBetaGeometricModel
        >>> m = ShiftedBetaGeometricModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> list(m.summary().columns)
        ['estimate', 'std_error', 'lower', 'upper']
        """
        return self.params_frame()
