"""Shared maximum-likelihood machinery of the probabilistic models (:class:`BaseFitter`).

Estimator protocol
------------------
:class:`BaseFitter` is a scikit-learn ``BaseEstimator``: ``get_params``, ``clone``, tags and
``check_is_fitted`` come from there. ``__init__`` only stores ``penalizer``,
``initial_params`` and ``max_iter``; ``fit`` sets the attributes ending in ``_``; an unknown
name in ``set_params`` raises :class:`~retailcrm.exceptions.ConfigError`. The transaction
models' shared public surface (summary in, predictions keyed by customer out, time units) is
in :mod:`retailcrm.models._transaction`.

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
``n_customers_``, ``n_iter_``, ``unidentified_params_``. It raises
:class:`~retailcrm.exceptions.InvalidDataError` when there are no customers, and
:class:`~retailcrm.exceptions.ConvergenceError`, saying what to try, when no start converges.

Identifiability
---------------
Every fit ends with one check, :func:`identification`, shared by all models: a parameter is
*not identified* when the data cannot tell its estimate from the edges of the search range
``[-LOG_BOUND, LOG_BOUND]`` of the log-parameters (estimates 1e-8 to 1e8), that is when

- its 95% Wald interval on the log scale, ``log(estimate) ± 1.96 · se(log(estimate))``,
  reaches an edge. This covers an estimate at a bound, a standard error that is non-finite or
  enormous relative to the estimate (``se(log θ)`` is the relative standard error
  ``se(θ) / θ``), and a singular observed information (eigenvalues below ``1e-10`` of the
  largest count as zero, so their directions get enormous variances); or
- moving it alone to an edge lowers the log-likelihood by less than 1.92, half the 95% quantile
  of chi-squared(1). The profile likelihood is at least as high, so its 95% interval reaches
  the edge too; this catches likelihoods that level off (an sBG cohort in which nobody churns),
  where the quadratic approximation behind the Wald interval fails.

This is the *practical non-identifiability* of Raue et al. (2009), Structural and practical
identifiability analysis of partially observed dynamical models by exploiting the profile
likelihood, *Bioinformatics* 25(15), 1923-1929: a likelihood-based confidence interval that
extends to the edge of the parameter space.

Unidentified parameters get NaN standard errors (and NaN rows and columns in ``covariance_``);
the others' come from the observed information of the identified parameters, with parameters at
a bound held fixed. Without a penalizer, a fit with unidentified parameters emits an
:class:`~retailcrm.exceptions.IdentifiabilityWarning` naming them, and is returned even when
the optimiser could not settle them (they ran off to a bound, or the log-likelihood is flat in
them), provided a Newton step in the identified ones would gain next to nothing. A fit with a
penalizer warns only about parameters left at the edge of the search range: the penalty, not
the data, decides the others (their standard errors, from the data's information, are still
NaN where the data do not identify them).
"""

from __future__ import annotations

import abc
import functools
import math
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize
from sklearn.base import BaseEstimator

from retailcrm._params import check_int, check_number, parameter_error
from retailcrm.exceptions import (
    ConfigError,
    ConvergenceError,
    IdentifiabilityWarning,
    InvalidDataError,
    NotFittedError,
)
from retailcrm.models._inputs import FloatArray, compress, validate_weights

__all__ = [
    "LOG_BOUND",
    "BaseFitter",
    "Identification",
    "caller_stacklevel",
    "identification",
    "wdot",
]

#: Bound on the log of every parameter during optimisation (parameters in [1e-8, 1e8]).
LOG_BOUND = 18.42

_GRAD_STEP = 1e-6
_HESS_STEP_ANALYTIC = 1e-5
_HESS_STEP_NUMERIC = 1e-4
#: Convergence: max |gradient| of the mean negative log-likelihood w.r.t. log-parameters.
_GRAD_TOL = 1e-5
#: A log-parameter this close to ``±LOG_BOUND`` is at the edge of the search range.
_EDGE_TOL = 1e-3
#: Identifiability: the normal quantile of the 95% Wald interval checked against the bounds.
_IDENT_Z = 1.959963984540054
#: Identifiability: eigenvalues of the observed information below this fraction of the largest
#: are numerically zero (the finite-difference Hessian is not more accurate than that).
_EIG_RTOL = 1e-10
#: A direction of the log-parameters is identified when its information exceeds this: its
#: 95% Wald half-width ``1.96 / sqrt(information)`` is then narrower than ``LOG_BOUND``.
_IDENTIFIED_CURVATURE = (_IDENT_Z / LOG_BOUND) ** 2
#: A run that stopped early counts as settled in the identified directions when a Newton step
#: there would gain less than this in log-likelihood (the estimates are within 0.05 standard
#: errors of where it would go).
_SETTLED_GAIN = 1e-3
#: Negative curvature beyond this fraction of the largest (and beyond
#: ``_IDENTIFIED_CURVATURE``) marks a saddle rather than a flat, unidentified direction.
_SADDLE_RTOL = 1e-3
#: Identifiability: half the 95% quantile of chi-squared(1), the likelihood drop at the edge
#: of a 95% profile-likelihood interval.
_SLICE_DROP = 1.920729410347062
#: Identifiability: the edges are probed only for parameters whose Wald half-width on the log
#: scale exceeds this (a factor of 10 either way).
_SLICE_MIN_LOG_WIDTH = math.log(10.0)


def wdot(a: Any, b: Any) -> float:
    """``sum(a * b)`` reproducibly (BLAS dot products may round differently with alignment)."""
    return float(np.sum(np.multiply(a, b)))


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning emitted by the calling function point at the
    first frame outside :mod:`retailcrm` (the user's line), however deep the call."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith(
        "retailcrm."
    ):
        frame = frame.f_back
        level += 1
    return level


class Identification(NamedTuple):
    """The outcome of :func:`identification` for one fit (log-parameter scale)."""

    unidentified: npt.NDArray[np.bool_]  # per parameter: not identified by the data
    at_edge: npt.NDArray[np.bool_]  # per parameter: estimate at a bound of the search range
    levels_off: npt.NDArray[np.bool_]  # per parameter: the likelihood barely drops at a bound
    se_log: FloatArray  # standard errors of the log-parameters, NaN where unidentified
    raw_se_log: FloatArray  # the same before masking (for messages): may be enormous or inf
    cov_log: FloatArray  # covariance of the log-parameters, NaN rows/columns where unidentified


def identification(
    theta: FloatArray,
    information: FloatArray,
    negloglik: Callable[[FloatArray], float] | None = None,
) -> Identification:
    """Check which parameters the data identify, and their standard errors (log scale).

    Parameters
    ----------
    theta : numpy.ndarray
        The fitted log-parameters.
    information : numpy.ndarray
        The observed information: the Hessian of the total negative log-likelihood with respect
        to ``theta``.
    negloglik : callable, optional
        The total negative log-likelihood as a function of the log-parameters; when given, the
        likelihood itself is also checked at the edges (see Notes).

    Returns
    -------
    Identification
        ``unidentified`` is true for a parameter whose 95% interval reaches ``±LOG_BOUND``
        (the criterion of the module docstring); ``se_log`` and ``cov_log`` are NaN for those
        parameters.

    Notes
    -----
    Parameters at a bound are held fixed: the covariance of the others is the inverse of their
    block of the information, computed by eigendecomposition with eigenvalues below
    ``1e-10`` of the largest (and negative ones) raised to that floor, so a flat direction gives
    the parameters that move along it enormous, not infinite or negative, variances. A
    parameter is not identified when its Wald interval ``theta ± 1.96 se`` reaches a bound or,
    with ``negloglik``, when moving it alone to a bound (the others fixed) costs less than
    ``1.92`` (half the 95% quantile of chi-squared with one degree of freedom): the profile
    likelihood is at least as high as that slice, so its 95% interval reaches the bound too.
    The second test catches likelihoods that level off towards a bound (no churn at all in an
    sBG cohort), where the quadratic approximation behind the Wald interval fails; it is made
    only for parameters whose Wald interval is wider than a factor of 10 either way (over a
    narrower one the log-likelihood is close to quadratic and cannot level off).

    Examples
    --------
    >>> import numpy as np
    >>> from retailcrm.models._base import identification
    >>> ident = identification(np.array([0.0, 2.0]), np.array([[100.0, 0.0], [0.0, 1e-6]]))
    >>> ident.unidentified.tolist(), ident.se_log.round(3).tolist()
    ([False, True], [0.1, nan])
    """
    theta = np.asarray(theta, dtype=np.float64)
    k = theta.size
    at_edge = np.abs(theta) >= LOG_BOUND - _EDGE_TOL
    cov = np.full((k, k), np.nan)
    free = np.flatnonzero(~at_edge)
    block = np.asarray(information, dtype=np.float64)[np.ix_(free, free)]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if free.size and np.all(np.isfinite(block)):
            lam, vec = np.linalg.eigh((block + block.T) / 2)
            floor = _EIG_RTOL * max(float(np.max(np.abs(lam))), np.finfo(np.float64).tiny)
            cov[np.ix_(free, free)] = (vec / np.maximum(lam, floor)) @ vec.T
        raw = np.sqrt(np.diag(cov).copy())
        reach = np.abs(theta) + _IDENT_Z * raw
    unidentified = at_edge | ~np.isfinite(raw) | ~(reach < LOG_BOUND)
    levels_off = np.zeros(k, dtype=bool)
    # Where the Wald interval is narrower than a factor of 10 either way, the log-likelihood is
    # close to quadratic over it and cannot level off above the 95% cut: no need to look.
    wide = ~unidentified & (_IDENT_Z * raw > _SLICE_MIN_LOG_WIDTH)
    if negloglik is not None and wide.any():
        best = negloglik(theta)
        for i in np.flatnonzero(wide):
            for edge in (-LOG_BOUND, LOG_BOUND):
                moved = theta.copy()
                moved[i] = edge
                if negloglik(moved) < best + _SLICE_DROP:
                    levels_off[i] = True
        unidentified |= levels_off
    se = np.where(unidentified, np.nan, raw)
    cov[unidentified, :] = np.nan
    cov[:, unidentified] = np.nan
    return Identification(unidentified, at_edge, levels_off, se, raw, cov)


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _single_blas_thread() -> Any:
    """Context manager limiting BLAS to one thread (a cached controller: ~15 µs a call)."""
    return _blas_controller().limit(limits=1, user_api="blas")


class _Run(NamedTuple):
    """One optimiser run of :meth:`BaseFitter._optimise`."""

    theta: FloatArray  # log-parameters where it stopped (after Newton polishing)
    value: float  # mean objective there
    grad: FloatArray  # its gradient
    hess: FloatArray | None  # its Hessian (None if not finite)
    regular: bool  # the Hessian is positive definite
    stopped: bool  # L-BFGS-B stopped by itself (converged, or no descent found), not max_iter
    nit: int  # iterations
    message: str  # L-BFGS-B's message


def _settled_where_identified(
    theta: FloatArray,
    gradient: FloatArray,
    information: FloatArray,
    negloglik: Callable[[FloatArray], float],
) -> bool:
    """Whether an optimiser run that did not converge stopped only because the data do not
    identify some parameters: some are unidentified (:func:`identification`), the objective is
    not clearly curved downwards in any direction (a saddle), and in the directions the data do
    identify a Newton step would gain less than ``_SETTLED_GAIN`` in log-likelihood.
    ``gradient`` and ``information`` are those of the total objective; parameters at a bound
    are left out (they may push against it)."""
    if not identification(theta, information, negloglik).unidentified.any():
        return False
    free = np.flatnonzero(np.abs(theta) < LOG_BOUND - _EDGE_TOL)
    if not free.size:
        return True
    with np.errstate(all="ignore"):
        lam, vec = np.linalg.eigh(information[np.ix_(free, free)])
        scale = float(np.max(np.abs(lam)))
        if np.any(lam < -max(_IDENTIFIED_CURVATURE, _SADDLE_RTOL * scale)):
            return False  # clearly curved downwards somewhere: a saddle, not settled
        known = lam > _IDENTIFIED_CURVATURE
        along = vec[:, known].T @ gradient[free]
        gain = 0.5 * float(np.sum(along * along / lam[known]))
    return gain < _SETTLED_GAIN


class BaseFitter(BaseEstimator, abc.ABC):
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
    def set_params(self, **params: Any) -> Self:
        """Set constructor arguments (scikit-learn protocol) and return the model.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> BetaGeoModel().set_params(max_iter=50).max_iter
        50
        """
        valid = self.get_params(deep=False)
        for key in params:
            if key not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {key!r}; valid parameters are "
                    f"{sorted(valid)}."
                )
        out: Self = super().set_params(**params)
        return out

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted once ``fit`` has set the parameters (scikit-learn's ``check_is_fitted``)."""
        return hasattr(self, "params_")

    def __repr__(self) -> str:
        defaults = {"initial_params": None, "max_iter": 1000, "penalizer": 0.0}
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults.get(k, object())
        )
        text = f"{type(self).__name__}({args})"
        if hasattr(self, "params_"):
            est = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params_.items())
            unit = getattr(self, "time_unit_", None)
            text += (
                f": {est} (log-likelihood {self.log_likelihood_:.2f} on "
                f"{self.n_customers_:,.10g} customers{f', time unit {unit!r}' if unit else ''})"
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
        owner = type(self).__name__
        check_number(self.penalizer, name="penalizer", owner=owner, low=0.0)
        check_int(self.max_iter, name="max_iter", owner=owner, low=1)
        if self.initial_params is not None:
            names = set(self._param_names)
            given = dict(self.initial_params)
            if set(given) != names or not all(
                isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in given.values()
            ):
                raise parameter_error(
                    "initial_params",
                    owner,
                    f"a mapping of each of {list(self._param_names)} to a positive float",
                    given,
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
        fitted: Mapping[str, Any] | None = None,
    ) -> Self:
        """Fit by maximum likelihood on the column arrays ``data`` (see the module docstring);
        ``fitted`` are further attributes of the fit (``time_unit_``), set with the estimates
        and only with them."""
        self._check_config()
        prepared, counts, n_total = self._compressed(data, weights, compress_rows=compress_rows)
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

        best: tuple[float, FloatArray, FloatArray | None, int] | None = None
        # The best run that stopped only because the data do not identify some parameters
        # (they ran off to a bound, or the log-likelihood is flat in them), while it settled in
        # the others: returned, with an IdentifiabilityWarning, if no start converges.
        unidentified: tuple[float, FloatArray, FloatArray | None, int] | None = None
        failures: list[str] = []
        for start in self._starts(prepared, counts):
            run = self._optimise(objective, start)
            at_bound = np.abs(run.theta) >= LOG_BOUND - _EDGE_TOL
            finite = math.isfinite(run.value) and run.value < 1e99
            if (
                finite
                and run.regular
                and float(np.max(np.abs(run.grad))) < _GRAD_TOL
                and not at_bound.any()
            ):
                if best is None or run.value < best[0] - 1e-12:
                    best = (run.value, run.theta, run.hess, run.nit)
                if not failures:
                    break  # the first (default) start converged
                continue
            failures.append(
                self._describe_failure(
                    run.theta, run.grad, at_bound, run.hess if run.regular else None, run.message
                )
            )
            if (
                finite
                and run.stopped  # not cut short by max_iter
                and run.hess is not None
                and (unidentified is None or run.value < unidentified[0] - 1e-12)
                and _settled_where_identified(
                    run.theta,
                    run.grad * n_total,
                    run.hess * n_total,
                    lambda t: objective(t)[0] * n_total,
                )
            ):
                unidentified = (run.value, run.theta, run.hess, run.nit)
        if best is None:
            best = unidentified
        if best is None:
            raise ConvergenceError(
                f"{type(self).__name__}.fit did not converge from any of its deterministic "
                f"starting points ({failures[0]}). Try: a small penalizer "
                f"({type(self).__name__}(penalizer=0.01)); check that the summary's time unit "
                "is sensible (weeks rather than seconds) and that there are repeat buyers; or "
                "pass initial_params close to the expected values."
            )
        _, theta, hess, nit = best
        self._set_fitted(theta, prepared, counts, n_total, hess, nit)
        for name, value in (fitted or {}).items():
            setattr(self, name, value)
        self._warn_unidentified()
        return self

    def _compressed(
        self, data: Mapping[str, FloatArray], weights: Any, *, compress_rows: bool = True
    ) -> tuple[Any, FloatArray, float]:
        """The prepared unique rows, their weights and the number of customers."""
        n_rows = next(iter(data.values())).size if data else 0
        if n_rows == 0:
            raise InvalidDataError(
                f"{type(self).__name__}.fit: {self._empty_data_message()} "
                f"Fix: {self._empty_data_fix()}"
            )
        w = validate_weights(weights, n_rows)
        if compress_rows:
            unique, counts, _ = compress(data, w)
        else:
            unique, counts = dict(data), w
        keep = counts > 0
        if not keep.all():
            unique = {k: v[keep] for k, v in unique.items()}
            counts = counts[keep]
        return self._prepare(unique, counts), counts, float(counts.sum())

    def _empty_data_message(self) -> str:
        """What the error for an empty summary says is wrong (overridden per model)."""
        return "the summary has no customers (0 rows), so there is nothing to fit."

    def _empty_data_fix(self) -> str:
        """How to fix an empty summary (overridden per model)."""
        return (
            "fit on a summary with customers; if btyd_summary made it, check that "
            "observation_end (or calibration_end) falls after the first purchases and that "
            "filters upstream left some transactions."
        )

    def _fit_at_boundary(self, data: Mapping[str, FloatArray], weights: Any, theta: Any) -> Self:
        """Set the fitted state at ``theta``, a solution at the edge of the search range known
        in closed form (no optimisation, no information: every standard error is NaN)."""
        self._check_config()
        prepared, counts, n_total = self._compressed(data, weights)
        self._set_fitted(np.asarray(theta, dtype=np.float64), prepared, counts, n_total, None, 0)
        return self

    def _warn_unidentified(self) -> None:
        """Emit the IdentifiabilityWarning of the last fit, if any parameter is unidentified."""
        ident: Identification = self._identification
        if not ident.unidentified.any():
            return
        names = [n for n, u in zip(self._param_names, ident.unidentified, strict=True) if u]
        details = []
        for i in np.flatnonzero(ident.unidentified):
            name = self._param_names[i]
            value, rel = self.params_[name], float(ident.raw_se_log[i])
            if ident.at_edge[i]:
                why = "at the edge of the search range"
            elif ident.levels_off[i]:
                why = "the log-likelihood levels off towards the edge"
            elif math.isfinite(rel):
                why = f"standard error {rel:.3g} times the estimate"
            else:
                why = "the log-likelihood is flat in it"
            details.append(f"{name} = {value:.4g} ({why})")
        cls = type(self).__name__
        n = self.n_customers_
        fix = (
            "; the penalizer keeps parameters from growing, not from shrinking to 0."
            if self.penalizer
            else f", or add a small penalizer ({cls}(penalizer=0.01))."
        )
        if len(names) == 1:
            which, interval, rest = "parameter", "Its 95% interval reaches", "its estimate is"
            rest += " arbitrary, its standard error is NaN and predictions that depend on it"
        else:
            which, interval, rest = "parameters", "Their 95% intervals reach", "their estimates"
            rest += " are arbitrary, their standard errors are NaN and predictions that depend on"
            rest += " them"
        warnings.warn(
            IdentifiabilityWarning(
                f"{cls}.fit: the data ({n:,.10g} customer{'' if n == 1 else 's'}) do not "
                f"identify the {which} {', '.join(names)}: {'; '.join(details)}. {interval} "
                f"the edge of the search range [{math.exp(-LOG_BOUND):.0e}, "
                f"{math.exp(LOG_BOUND):.0e}], so {rest} are unreliable. Fix: fit on more "
                f"customers or a longer calibration period (more repeat purchases){fix}"
            ),
            stacklevel=caller_stacklevel(),
        )

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
    ) -> _Run:
        """Minimise ``objective`` from ``start`` (see :class:`_Run`)."""
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
        regular = False
        if hess is not None:
            try:
                chol = np.linalg.cholesky(hess)
                regular = True
            except np.linalg.LinAlgError:
                pass
        if regular:
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
        return _Run(theta, value, grad, hess, regular, res.status != 1, nit, str(res.message))

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
        hess_mean: FloatArray | None,
        nit: int,
    ) -> None:
        params = np.exp(theta)
        names = self._param_names
        k = len(names)
        total_nll = float(self._negloglik(theta, prepared, counts))
        pen = float(self.penalizer)
        # Observed information of the total log-likelihood on the log scale (penalty removed).
        info = np.full((k, k), np.nan) if hess_mean is None else hess_mean * n_total
        if pen:
            info = info - n_total * np.diag(4 * pen * params * params)

        def negloglik(t: FloatArray) -> float:
            with np.errstate(all="ignore"):
                value = float(self._negloglik(t, prepared, counts))
            return value if math.isfinite(value) else math.inf

        # Standard errors (NaN where the data do not identify a parameter), and what the warning
        # reports: with a penalty, which decides the estimates, only parameters left at the edge.
        ident = identification(theta, info, negloglik)
        self._identification = (
            ident._replace(unidentified=ident.at_edge.copy(), levels_off=np.zeros(k, dtype=bool))
            if pen
            else ident
        )
        self.params_: dict[str, float] = {n: float(p) for n, p in zip(names, params, strict=True)}
        self.log_likelihood_ = -total_nll
        self.n_customers_ = n_total
        self.n_iter_ = nit
        self.covariance_ = ident.cov_log * np.outer(params, params)
        self.standard_errors_: dict[str, float] = {
            n: float(p * s) for n, p, s in zip(names, params, ident.se_log, strict=True)
        }
        self._se_log = ident.se_log
        self.unidentified_params_: list[str] = [
            n for n, u in zip(names, ident.unidentified, strict=True) if u
        ]
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * math.log(n_total) - 2 * self.log_likelihood_

    # ------------------------------------------------------------------ fitted state
    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
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
        with np.errstate(invalid="ignore", over="ignore"):
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
