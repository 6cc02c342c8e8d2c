"""The estimator surface shared by the transaction models: BG/NBD, MBG/NBD, Pareto/NBD, BG/BB.

Each model's own module holds its numerics (likelihood, gradient, prediction formulas) as
private hooks; the public methods are written once here:

- :class:`TransactionModel` (all four): reading the summary (a frame keyed by customer, a
  mapping, or arrays: see :mod:`retailcrm.models._keyed`), fitting on it, and the predictions
  for a new customer (:meth:`~TransactionModel.expected_purchases_new_customer`,
  :meth:`~TransactionModel.probability_of_purchases`);
- :class:`ContinuousTimeModel` (BG/NBD, MBG/NBD, Pareto/NBD): ``fit``,
  ``probability_alive``, ``expected_purchases`` and ``conditional_probability_of_purchases``
  on a summary with ``frequency``, ``recency`` and ``T``. BG/BB, whose summary counts
  discrete opportunities (``n_periods``), declares its own three.

Hooks (given the summary columns as float arrays, in the model's time unit, and the checked
horizons; the parameters come from ``self._param_values()``):

``_probability_alive(x, t_x, T)``, ``_expected_purchases(t, x, t_x, T)``,
``_expected_purchases_new(t)`` (default: ``_expected_purchases`` at ``x = t_x = T = 0``),
``_probability_of_purchases(n, t)`` and, for continuous time,
``_conditional_probability_of_purchases(n, t, x, t_x, T)``.

Time units
----------
The continuous-time models measure ``recency``, ``T`` and the horizons ``t`` in one unit: days
(``"D"``), weeks of 7 days (``"W"``) or months of 30.4375 days (``"M"``), the units of
``btyd_summary``. A summary frame does not carry its unit on every engine, so the unit is
*stated*: ``fit(..., time_unit="W")`` records it as ``time_unit_``. A prediction asked with
``time_unit=`` in another unit converts the summary's lengths and the horizon into the model's
unit (probabilities and purchase counts do not depend on the unit, so nothing converts back);
a model fitted without a unit cannot tell whether a stated unit is its own, so asking it in a
unit raises :class:`~retailcrm.exceptions.ConfigError`. Without ``time_unit`` everything is
taken to be in the model's unit, as before units were recorded. BG/BB counts opportunities
and has no time unit.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self

import numpy as np

from retailcrm.exceptions import ConfigError
from retailcrm.models._base import BaseFitter
from retailcrm.models._inputs import (
    FloatArray,
    as_float_or_array,
    check_counts,
    check_lengths,
    summary_arrays,
    summary_input,
    unique_rows,
)
from retailcrm.models._keyed import read_keyed
from retailcrm.models._summary import TimeUnit, check_time_unit

__all__ = ["ContinuousTimeModel", "TransactionModel", "time_scale"]


def time_scale(model_unit: str | None, asked: str | None, *, owner: str) -> float:
    """The factor converting lengths in the ``asked`` unit into the model's unit.

    Parameters
    ----------
    model_unit : {"D", "W", "M"} or None
        The unit the model was fitted in (None: not stated at fit).
    asked : {"D", "W", "M"} or None
        The unit the caller states (None: the model's unit).
    owner : str
        The method asking, for error messages.

    Returns
    -------
    float
        1 when ``asked`` is None or the model's unit; else the ratio of the units' lengths in
        days.

    Raises
    ------
    ConfigError
        ``asked`` is not a unit, or the model does not know its own unit.

    Examples
    --------
    >>> from retailcrm.models._transaction import time_scale
    >>> time_scale("W", "D", owner="expected_purchases")  # 7 days are 1 week
    0.14285714285714285
    >>> time_scale("W", None, owner="expected_purchases")
    1.0
    """
    if asked is None:
        return 1.0
    asked_days = check_time_unit(asked, owner=owner)
    if model_unit is None:
        raise ConfigError(
            f"{owner}: time_unit={asked!r} was given, but the model was fitted without a time "
            "unit, so it cannot tell whether that is its own. Fix: fit with time_unit= (the "
            "unit of the summary's recency and T), or leave time_unit out to mean the model's "
            "unit."
        )
    return asked_days / check_time_unit(model_unit, owner=owner)


class TransactionModel(BaseFitter):
    """Base class of the transaction models (see the module docstring for the hooks)."""

    #: The summary columns: purchases after the first, the last of them, the observation.
    _columns: ClassVar[tuple[str, str, str]] = ("frequency", "recency", "T")
    #: Other names of summary columns (BG/BB reads ``T`` as ``n_periods``).
    _aliases: ClassVar[Mapping[str, str]] = {}
    #: Whether lengths are times in a unit (False: BG/BB's discrete opportunities).
    _continuous: ClassVar[bool] = True

    #: Set by ``fit``: the time unit stated there (None when not stated; always for BG/BB).
    time_unit_: str | None

    # ------------------------------------------------------------------ hooks
    @abc.abstractmethod
    def _probability_alive(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
        """P(alive) of customers with these summaries (the model's numerics)."""

    @abc.abstractmethod
    def _expected_purchases(
        self, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        """Expected purchases in the next ``t`` of customers with these summaries."""

    def _expected_purchases_new(self, t: FloatArray) -> FloatArray:
        zero = np.zeros(t.shape)
        return self._expected_purchases(t, zero, zero, zero)

    @abc.abstractmethod
    def _probability_of_purchases(self, n: FloatArray, t: FloatArray) -> FloatArray:
        """P(exactly ``n`` purchases in ``t``) of a new customer."""

    def _check_summary(self, data: dict[str, FloatArray]) -> None:
        """Model-specific checks of the summary arrays (BG/BB's opportunities)."""

    def _check_horizon(self, t: Any) -> FloatArray:
        """The horizons ``t`` of a prediction, checked (lengths of time by default)."""
        return check_lengths(t)

    # ------------------------------------------------------------------ machinery
    def _summary(
        self, summary: Any, arrays: Mapping[str, Any], *, keyed: bool, owner: str
    ) -> tuple[dict[str, FloatArray], Any]:
        """The summary columns as arrays, and the :class:`~retailcrm.models._keyed.Keys` of a
        frame when ``keyed`` (None for arrays)."""
        frame, given = summary_input(summary, self._columns, arrays, aliases=self._aliases)
        keys = None
        if frame is None:
            data = summary_arrays(None, self._columns, **given)
        elif keyed:
            data, keys = read_keyed(frame, self._columns, owner=owner, aliases=self._aliases)
        else:
            data = summary_arrays(frame, self._columns, aliases=self._aliases)
        self._check_summary(data)
        return data, keys

    def _fit_summary(
        self, summary: Any, arrays: Mapping[str, Any], weights: Any, time_unit: Any
    ) -> Self:
        owner = f"{type(self).__name__}.fit"
        if time_unit is not None:
            if not self._continuous:
                raise self._no_time_unit(owner)
            check_time_unit(time_unit, owner=owner)
        frame, _ = summary_input(summary, self._columns, arrays, aliases=self._aliases)
        merged = unique_rows(frame, self._columns, self._aliases) if weights is None else None
        if merged is not None:  # DuckDB / Spark: distinct rows counted in the engine
            given: dict[str, Any] = dict(merged[0])
            data = summary_arrays(None, self._columns, **given)
            self._check_summary(data)
            return self._fit_data(data, merged[1], fitted={"time_unit_": time_unit})
        data, _ = self._summary(summary, arrays, keyed=False, owner=owner)
        return self._fit_data(data, weights, fitted={"time_unit_": time_unit})

    def _no_time_unit(self, owner: str) -> ConfigError:
        return ConfigError(
            f"{owner}: {type(self).__name__} counts discrete purchase opportunities and has no "
            "time unit. Fix: leave time_unit out (lengths are numbers of opportunities)."
        )

    def _scale(self, time_unit: Any, method: str) -> float:
        """Check the model is fitted; the factor converting ``time_unit`` to its unit."""
        self._check_fitted()
        owner = f"{type(self).__name__}.{method}"
        if time_unit is not None and not self._continuous:
            raise self._no_time_unit(owner)
        return time_scale(getattr(self, "time_unit_", None), time_unit, owner=owner)

    def _predict(
        self,
        name: str,
        summary: Any,
        arrays: Mapping[str, Any],
        scale: float,
        compute: Callable[[FloatArray, FloatArray, FloatArray], FloatArray],
    ) -> Any:
        """``compute`` on the summary columns (lengths converted by ``scale``): a frame with
        ``customer_id`` and the column ``name`` for a summary frame, else an array."""
        self._check_fitted()
        owner = f"{type(self).__name__}.{name}"
        data, keys = self._summary(summary, arrays, keyed=True, owner=owner)
        x, t_x, T = (data[c] for c in self._columns)
        if scale != 1.0:
            t_x, T = t_x * scale, T * scale
        values = np.asarray(compute(x, t_x, T), dtype=np.float64)
        return values if keys is None else keys.frame({name: values}, owner=owner)

    # ------------------------------------------------------------------ shared predictions
    def expected_purchases_new_customer(
        self, t: Any, *, time_unit: TimeUnit | None = None
    ) -> float | FloatArray:
        """Return the expected number of repeat purchases of a new customer in ``(0, t]``.

        Parameters
        ----------
        t : float or array
            Time since the first purchase, in the model's time unit (BG/BB: a whole number of
            opportunities).
        time_unit : {"D", "W", "M"}, optional
            The unit of ``t`` when it is not the model's (continuous-time models fitted with a
            ``time_unit``); it is converted.

        Returns
        -------
        float or numpy.ndarray
            ``E[X(t)]``, a float for scalar ``t``.

        Notes
        -----
        BG/NBD: Fader, Hardie & Lee (2005), equation (9); Pareto/NBD: Schmittlein et al.
        (1987), ``r β / (α (s-1)) [1 - (β / (β+t))^(s-1)]``; BG/BB: Fader, Hardie & Shang
        (2010), equation (9).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15], time_unit="W")
        >>> round(m.expected_purchases_new_customer(10), 3)
        1.619
        >>> round(m.expected_purchases_new_customer(70, time_unit="D"), 3)  # the same 10 weeks
        1.619
        """
        scale = self._scale(time_unit, "expected_purchases_new_customer")
        return as_float_or_array(self._expected_purchases_new(self._check_horizon(t) * scale))

    def probability_of_purchases(
        self, n: Any, t: Any, *, time_unit: TimeUnit | None = None
    ) -> float | FloatArray:
        """Return ``P(X(t) = n)``: the probability that a new customer makes ``n`` repeat
        purchases in ``(0, t]``.

        Parameters
        ----------
        n : int or array of int
            Numbers of repeat purchases.
        t : float or array
            Time since the first purchase, in the model's time unit (BG/BB: a single whole
            number of opportunities).
        time_unit : {"D", "W", "M"}, optional
            The unit of ``t`` when it is not the model's; it is converted.

        Returns
        -------
        float or numpy.ndarray
            The probabilities (broadcast over ``n`` and ``t``), a float for scalar inputs.

        Notes
        -----
        BG/NBD and MBG/NBD: Fader, Hardie & Lee (2005), equation (8), the NBD tail sum as the
        regularised incomplete beta function. Pareto/NBD: the NBD count at the end of the
        customer's life mixed over the Pareto lifetime, ``P(τ > t) NB(n; t) + ∫_0^t f(τ)
        NB(n; τ) dτ``, by 200-point Gauss-Legendre quadrature over ``(β / (β+τ))^s``. BG/BB:
        Fader, Hardie & Shang (2010), equation (8).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> m.probability_of_purchases([0, 1, 2], 10).round(3)
        array([0.356, 0.403, 0.097])
        """
        scale = self._scale(time_unit, "probability_of_purchases")
        nn = check_counts(n)
        return as_float_or_array(self._probability_of_purchases(nn, self._check_horizon(t) * scale))


class ContinuousTimeModel(TransactionModel):
    """The public surface of BG/NBD, MBG/NBD and Pareto/NBD (summary ``frequency``,
    ``recency``, ``T`` in a time unit)."""

    @abc.abstractmethod
    def _conditional_probability_of_purchases(
        self, n: FloatArray, t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
    ) -> FloatArray:
        """P(exactly ``n`` purchases in the next ``t``) of customers with these summaries."""

    def fit(
        self,
        summary: Any = None,
        recency: Any = None,
        T: Any = None,
        *,
        frequency: Any = None,
        weights: Any = None,
        time_unit: TimeUnit | None = None,
    ) -> Self:
        """Fit the model by maximum likelihood and return it.

        Parameters
        ----------
        summary : dataframe, mapping or array-like, optional
            Per-customer summary with columns ``frequency`` (repeat purchases), ``recency``
            (time from the first to the last purchase) and ``T`` (time from the first purchase
            to the end of calibration), of any engine (only those columns are read), or a
            mapping of them to arrays. Or the ``frequency`` array itself, with ``recency`` and
            ``T`` following positionally: ``fit(frequency, recency, T)``.
        recency, T : array-like, optional
            The summary as arrays (a scalar ``T`` applies to every customer).
        frequency : array-like, optional
            The ``frequency`` array as a keyword.
        weights : array-like, optional
            Number of customers each row stands for (default 1); identical rows are merged
            before fitting either way.
        time_unit : {"D", "W", "M"}, optional
            The unit of ``recency`` and ``T``: days, weeks of 7 days or months of 30.4375 days
            (the ``time_unit`` the summary was made with). Recorded as ``time_unit_``, so that
            predictions and :func:`customer_lifetime_value` asked in another unit convert
            (see "Time units" in the models user guide). Default: not stated.

        Returns
        -------
        model
            The fitted model.

        Raises
        ------
        InvalidDataError
            The summary breaks an invariant (e.g. recency > T) or has no customers.
        ConvergenceError
            No starting point converged; the message says what to try.

        Warns
        -----
        IdentifiabilityWarning
            The data do not identify some parameters (too few customers or repeat purchases);
            the message names them, their standard errors are NaN (see "When the data do not
            identify a model" in the models user guide).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit([0, 1, 4, 5, 6, 7], [0, 1, 10, 9, 3, 3], 12,
        ...                        weights=[52, 52, 5, 5, 6, 15], time_unit="W")
        >>> m.n_customers_, m.time_unit_
        (135.0, 'W')
        """
        arrays = {"frequency": frequency, "recency": recency, "T": T}
        return self._fit_summary(summary, arrays, weights, time_unit)

    def probability_alive(
        self,
        summary: Any = None,
        recency: Any = None,
        T: Any = None,
        *,
        frequency: Any = None,
        time_unit: TimeUnit | None = None,
    ) -> Any:
        """Return each customer's probability of being alive at the end of calibration.

        Parameters
        ----------
        summary : dataframe or array-like, optional
            A summary frame of any engine with ``customer_id``, ``frequency``, ``recency`` and
            ``T`` (answered with a frame); or the columns as arrays (answered with an array):
            a mapping of them, or ``frequency`` first, positionally or as a keyword.
        recency, T, frequency : array-like, optional
            The summary as arrays.
        time_unit : {"D", "W", "M"}, optional
            The unit of ``recency`` and ``T`` when it is not the model's; they are converted.

        Returns
        -------
        dataframe or numpy.ndarray
            For a summary frame: the caller's kind of frame with ``customer_id`` and
            ``probability_alive``, one row per summary row (a pandas result keeps the
            summary's index). For arrays: one probability in [0, 1] per customer, in order.

        Notes
        -----
        BG/NBD: ``1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))`` for
        ``x > 0`` and 1 for ``x = 0`` (Fader, Hardie & Lee 2005, equation 11; MBG/NBD uses
        ``b + x`` and applies to ``x = 0`` too). Pareto/NBD: Fader & Hardie (2005),
        equation (18). Both are evaluated in log space, so heavy buyers get finite values.

        Examples
        --------
        >>> import pandas as pd
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> summary = pd.DataFrame({"customer_id": ["ann", "bob"], "frequency": [0, 3],
        ...                         "recency": [0.0, 4.0], "T": [10.0, 12.0]})
        >>> m.probability_alive(summary).round(3)
          customer_id  probability_alive
        0         ann              1.000
        1         bob              0.107
        >>> m.probability_alive([0, 3], [0, 4], [10, 12]).round(3)
        array([1.   , 0.107])
        """
        arrays = {"frequency": frequency, "recency": recency, "T": T}
        scale = self._scale(time_unit, "probability_alive")
        return self._predict("probability_alive", summary, arrays, scale, self._probability_alive)

    def expected_purchases(
        self,
        t: Any,
        summary: Any = None,
        recency: Any = None,
        T: Any = None,
        *,
        frequency: Any = None,
        time_unit: TimeUnit | None = None,
    ) -> Any:
        """Return each customer's expected number of purchases in the next ``t`` time units.

        Parameters
        ----------
        t : float or array
            Length of the future period, in the model's time unit (or ``time_unit``). With a
            summary frame, a single number or one per customer; with arrays it broadcasts
            against the customers.
        summary, recency, T, frequency : dataframe or array-like, optional
            The summary, as for :meth:`probability_alive`.
        time_unit : {"D", "W", "M"}, optional
            The unit of ``t``, ``recency`` and ``T`` when it is not the model's; they are
            converted.

        Returns
        -------
        dataframe or numpy.ndarray
            For a summary frame: the caller's kind of frame with ``customer_id`` and
            ``expected_purchases``. For arrays: the expected purchases (>= 0, non-decreasing in
            ``t``), one per customer.

        Notes
        -----
        BG/NBD and MBG/NBD: Fader, Hardie & Lee (2005), equation (10), with the
        hypergeometric function taken through Euler's transformation so that heavy buyers get
        finite, accurate values. Pareto/NBD: ``P(alive) (r+x)(β+T) / ((α+T)(s-1)) [1 -
        ((β+T)/(β+T+t))^(s-1)]`` (Schmittlein et al. 1987; Fader & Hardie 2005,
        equation 20).

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15], time_unit="W")
        >>> m.expected_purchases(10, frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(3)
        array([0.248, 2.444])
        >>> m.expected_purchases(70, [0, 4], [0, 63], [70, 70], time_unit="D").round(3)
        array([0.248, 2.444])
        """
        arrays = {"frequency": frequency, "recency": recency, "T": T}
        scale = self._scale(time_unit, "expected_purchases")
        tt = self._check_horizon(t) * scale
        return self._predict(
            "expected_purchases",
            summary,
            arrays,
            scale,
            lambda x, t_x, T_: self._expected_purchases(tt, x, t_x, T_),
        )

    def conditional_probability_of_purchases(
        self,
        n: Any,
        t: Any,
        summary: Any = None,
        recency: Any = None,
        T: Any = None,
        *,
        frequency: Any = None,
        time_unit: TimeUnit | None = None,
    ) -> Any:
        """Return each customer's probability of making exactly ``n`` purchases in the next
        ``t`` time units, given their history.

        Parameters
        ----------
        n : int or array of int
            Number of purchases in ``(T, T + t]``.
        t : float or array
            Length of the future period, in the model's time unit (or ``time_unit``).
        summary, recency, T, frequency : dataframe or array-like, optional
            The summary, as for :meth:`probability_alive`. With a frame, ``n`` and ``t`` are
            single numbers or one per customer; with arrays they broadcast against the
            customers.
        time_unit : {"D", "W", "M"}, optional
            The unit of ``t``, ``recency`` and ``T`` when it is not the model's.

        Returns
        -------
        dataframe or numpy.ndarray
            For a summary frame: the caller's kind of frame with ``customer_id`` and
            ``conditional_probability_of_purchases``. For arrays: probabilities in [0, 1], one
            per customer (summing to 1 over ``n``).

        Notes
        -----
        Given ``(x, t_x, T)`` and alive at ``T``, the customer's purchase rate and dropout
        are those of a new customer with updated parameters — BG/NBD: ``Gamma(r+x, alpha+T)``
        and ``Beta(a, b+x)`` (``b+x+1`` in MBG/NBD, which also survived the first purchase);
        Pareto/NBD: ``Gamma(r+x, alpha+T)`` and ``Gamma(s, beta+T)`` (lifetimes are
        memoryless) — and a customer who has dropped out buys nothing. So
        ``P(X(T, T+t] = n) = P(alive) P_new(n, t | updated) + (1 - P(alive)) [n = 0]``, with
        ``P_new`` as in :meth:`probability_of_purchases`. For Pareto/NBD this equals Fader &
        Hardie's (2014) closed form (note 028, equation 16) without its alternating sum of
        hypergeometric terms, so it stays accurate for heavy buyers. Its mean over ``n`` is
        :meth:`expected_purchases`.

        Examples
        --------
        >>> from retailcrm.models import BetaGeoModel
        >>> m = BetaGeoModel().fit(frequency=[0, 1, 4, 5, 6, 7], recency=[0, 1, 10, 9, 3, 3],
        ...     T=12, weights=[52, 52, 5, 5, 6, 15])
        >>> m.conditional_probability_of_purchases(
        ...     0, 10, frequency=[0, 4], recency=[0, 9], T=[10, 10]).round(3)
        array([0.798, 0.277])
        """
        arrays = {"frequency": frequency, "recency": recency, "T": T}
        scale = self._scale(time_unit, "conditional_probability_of_purchases")
        nn = check_counts(n)
        tt = self._check_horizon(t) * scale
        return self._predict(
            "conditional_probability_of_purchases",
            summary,
            arrays,
            scale,
            lambda x, t_x, T_: self._conditional_probability_of_purchases(nn, tt, x, t_x, T_),
        )
