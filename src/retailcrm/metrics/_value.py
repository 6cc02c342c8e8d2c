"""Lifetime-value formulas, LTV/CAC and the CAC payback by formula.

These are arithmetic on numbers the caller already has — an average order value, a retention
rate, an acquisition cost — so they take scalars or columns (numpy arrays, pandas or polars
Series) and broadcast like numpy. Always on margin: revenue only by saying so (``margin=1.0``).
The historical value of each customer (``historical_value``) and the cohort form of the
payback (``cohort_payback``) are computed from transactions in the transaction-based metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from retailcrm._params import check_choice, parameter_error

__all__ = ["cac_payback_months", "formula_ltv", "ltv_to_cac", "retention_ltv"]

#: LTV/CAC health bands: (lower bound of the ratio, band), checked from the top.
LTV_CAC_BANDS: tuple[tuple[float, str], ...] = (
    (5.0, "under-investing"),
    (3.0, "healthy"),
    (1.0, "below target"),
    (-np.inf, "losing money"),
)


def _series_kind(value: Any) -> str | None:
    module = type(value).__module__.split(".")[0]
    if type(value).__name__ == "Series" and module in ("pandas", "polars"):
        return module
    return None


def _arrays(
    owner: str, checks: dict[str, tuple[Any, Callable[[np.ndarray], np.ndarray], str]]
) -> tuple[dict[str, np.ndarray], Callable[[np.ndarray], Any]]:
    """Validate and broadcast the inputs; return the arrays and the function that gives the
    result the inputs' shape and kind (float for scalars, the first Series' kind and index
    for Series, a numpy array otherwise). Missing values (NaN, null) pass through."""
    arrays: dict[str, np.ndarray] = {}
    like: Any = None
    for name, (value, ok, expected) in checks.items():
        kind = _series_kind(value)
        if kind is not None and like is None:
            like = value
        try:
            if kind == "pandas":
                arr = value.to_numpy(dtype=float, na_value=np.nan)
            elif kind == "polars":
                arr = value.cast(float).fill_null(np.nan).to_numpy()
            else:
                arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise parameter_error(name, owner, expected, value) from exc
        arr = np.asarray(arr, dtype=float)
        known = arr[~np.isnan(arr)]
        if not (np.isfinite(known).all() and ok(known).all()):
            bad = known[~(np.isfinite(known) & ok(known))][:3]
            shown = repr(value) if arr.ndim == 0 else f"values such as {bad.tolist()}"
            raise parameter_error(name, owner, expected, value, shown=shown)
        arrays[name] = arr
    try:
        shaped = np.broadcast_arrays(*arrays.values())
    except ValueError as exc:
        shapes = {k: v.shape for k, v in arrays.items()}
        raise parameter_error(
            "inputs", owner, "scalars or columns of one length", shapes, shown=str(shapes)
        ) from exc
    arrays = dict(zip(arrays, shaped, strict=True))
    scalar = all(a.ndim == 0 for a in arrays.values())

    def wrap(result: np.ndarray) -> Any:
        result = np.asarray(result, dtype=float)
        if scalar:
            return float(result)
        if _series_kind(like) == "pandas":
            import pandas as pd

            return pd.Series(result, index=like.index)
        if _series_kind(like) == "polars":
            import polars as pl

            return pl.Series(values=result, nan_to_null=True)
        return result

    return arrays, wrap


def _any(a: np.ndarray) -> np.ndarray:
    return np.ones(a.shape, dtype=bool)


def _nonnegative(a: np.ndarray) -> np.ndarray:
    return a >= 0


def formula_ltv(
    aov: Any,
    purchases_per_year: Any,
    lifespan_years: Any,
    margin: Any,
    discount_rate: Any = 0.0,
) -> Any:
    """Lifetime value by the textbook formula: order value × frequency × lifespan × margin.

    Parameters
    ----------
    aov : float or column
        Average order value (revenue per order), >= 0.
    purchases_per_year : float or column
        Orders per customer per year, >= 0.
    lifespan_years : float or column
        Expected length of the relationship in years, >= 0.
    margin : float or column
        Gross margin as a share of revenue, at most 1 (e.g. 0.35). Required: lifetime value
        is on margin. For a *revenue* lifetime value say so with ``margin=1.0``.
    discount_rate : float or column
        Yearly discount rate (e.g. 0.10), >= 0; 0 (the default) does not discount.

    Returns
    -------
    float, numpy array or Series
        A float for scalar inputs; otherwise the inputs broadcast like numpy, as a pandas or
        polars Series when one of them is (the first Series' kind and index) and a numpy array
        else. Missing inputs give missing results.

    Notes
    -----
    ``LTV = aov · f · m · A(L, d)`` with ``A(L, 0) = L`` and, discounting each year's margin
    at the end of the year, ``A(L, d) = Σ_{t=1}^{L} (1 + d)^{−t} = (1 − (1 + d)^{−L}) / d``
    (the annuity factor; the same expression for a fractional ``L``). The undiscounted form is
    the one retail CRM texts give ("average purchase value × purchase frequency ×
    relationship length", e.g. Kumar & Reinartz 2018, *Customer Relationship Management*,
    ch. 6); the discount, margin and retention refine it. :func:`retention_ltv` replaces the
    fixed lifespan by a retention rate.

    Examples
    --------
    >>> from retailcrm.metrics import formula_ltv
    >>> formula_ltv(50.0, 4, 3, margin=0.4)  # 50 × 4 × 0.4 = 80 a year, for 3 years
    240.0
    >>> round(formula_ltv(50.0, 4, 3, margin=0.4, discount_rate=0.1), 2)  # 80 × 2.4869
    198.95
    >>> formula_ltv([50.0, 80.0], 4, 3, margin=1.0)  # revenue, explicitly
    array([600., 960.])
    """
    owner = "formula_ltv"
    arrays, wrap = _arrays(
        owner,
        {
            "aov": (aov, _nonnegative, "numbers >= 0"),
            "purchases_per_year": (purchases_per_year, _nonnegative, "numbers >= 0"),
            "lifespan_years": (lifespan_years, _nonnegative, "numbers >= 0"),
            "margin": (
                margin,
                lambda a: a <= 1,
                "a share of revenue at most 1 (e.g. 0.35, not 35; margin=1.0 for revenue)",
            ),
            "discount_rate": (discount_rate, _nonnegative, "numbers >= 0 (e.g. 0.1 for 10%)"),
        },
    )
    years, d = arrays["lifespan_years"], arrays["discount_rate"]
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(d > 0, (1.0 - (1.0 + d) ** (-years)) / np.where(d > 0, d, 1.0), years)
    yearly = arrays["aov"] * arrays["purchases_per_year"] * arrays["margin"]
    return wrap(yearly * annuity)


def retention_ltv(
    margin_per_period: Any,
    retention_rate: Any,
    discount_rate: Any,
    *,
    timing: Literal["end", "start"] = "end",
) -> Any:
    """Lifetime value from a constant margin, retention rate and discount rate.

    Parameters
    ----------
    margin_per_period : float or column
        Margin per customer per period (e.g. per year): revenue × gross margin, minus the
        cost of keeping the customer.
    retention_rate : float or column
        Share of customers kept from one period to the next, in [0, 1].
    discount_rate : float or column
        Discount rate per period, >= 0 (with ``1 + discount_rate − retention_rate > 0``).
    timing : {"end", "start"}
        ``"end"`` (default): Gupta & Lehmann's form, margins at the end of each period the
        customer is retained for, ``m·r / (1 + i − r)``. ``"start"``: the first margin is
        received now, for sure, ``m·(1 + i) / (1 + i − r)`` — the end form plus ``m``.

    Returns
    -------
    float, numpy array or Series
        As :func:`formula_ltv`.

    Notes
    -----
    With a constant margin ``m``, retention ``r`` and discount rate ``i`` over an infinite
    horizon, ``Σ_{t≥1} m·r^t / (1 + i)^t = m·r / (1 + i − r)``: Gupta & Lehmann (2003),
    "Customers as assets", Journal of Interactive Marketing 17(1), 9–24, whose
    ``r / (1 + i − r)`` is the *margin multiple*. Summing from ``t = 0`` instead (a margin
    now, then the same series) gives ``m·(1 + i) / (1 + i − r)``; the two differ by exactly
    ``m`` and are often confused (Fader & Hardie 2012, "Reconciling and clarifying CLV
    formulas", http://brucehardie.com/notes/024/). Use ``"end"`` for an existing customer
    after this period's margin, ``"start"`` for one about to pay the current period's.

    Examples
    --------
    >>> from retailcrm.metrics import retention_ltv
    >>> round(retention_ltv(100.0, 0.8, 0.1), 2)  # 100 × 0.8 / 0.3
    266.67
    >>> round(retention_ltv(100.0, 0.8, 0.1, timing="start"), 2)  # 100 × 1.1 / 0.3
    366.67
    """
    owner = "retention_ltv"
    timing = check_choice(
        timing, ("end", "start"), name="timing", owner=owner,
        fix="'end' (Gupta & Lehmann 2003: m·r/(1+i−r)) or 'start' (m·(1+i)/(1+i−r)).",
    )  # fmt: skip
    arrays, wrap = _arrays(
        owner,
        {
            "margin_per_period": (margin_per_period, _any, "finite numbers"),
            "retention_rate": (retention_rate, lambda a: (a >= 0) & (a <= 1), "shares in [0, 1]"),
            "discount_rate": (discount_rate, _nonnegative, "numbers >= 0 (e.g. 0.1 for 10%)"),
        },
    )
    m, r, i = arrays["margin_per_period"], arrays["retention_rate"], arrays["discount_rate"]
    if (1.0 + i - r <= 0).any():
        raise parameter_error(
            "retention_rate", owner, "below 1 + discount_rate (an infinite value otherwise)",
            retention_rate, "a retention of 1 needs a positive discount rate.",
        )  # fmt: skip
    numerator = m * r if timing == "end" else m * (1.0 + i)
    return wrap(numerator / (1.0 + i - r))


def ltv_to_cac(ltv: Any, cac: Any) -> Any:
    """The LTV/CAC ratio and its health band.

    Parameters
    ----------
    ltv : float or column
        Lifetime value per customer, on margin (:func:`formula_ltv`, :func:`retention_ltv`,
        a model's prediction or the historical value).
    cac : float or column
        Acquisition cost per new customer, >= 0 (0: acquired for free, the ratio is missing).

    Returns
    -------
    dataframe
        ``ltv``, ``cac``, ``ratio`` (ltv / cac) and ``band``: ``"losing money"`` (ratio
        < 1), ``"below target"`` (1 to < 3), ``"healthy"`` (3 to 5) or ``"under-investing"``
        (> 5); ``ratio`` and ``band`` are missing where ``cac`` is 0 or an input is missing.
        A polars DataFrame when an input is a polars Series, pandas otherwise (a pandas
        Series' index is kept); one row for scalars.

    Notes
    -----
    The bands are a convention of subscription and e-commerce practice, not a law: LTV of at
    least three times CAC is the usual target (Skok, "SaaS metrics 2.0", forEntrepreneurs,
    2013), below 1 each customer costs more than it brings, and far above (> 5) the business
    is likely spending too little on acquisition to grow. Compare LTV and CAC of the same
    customers (a channel, a cohort) and both on margin.

    Examples
    --------
    >>> from retailcrm.metrics import ltv_to_cac
    >>> ltv_to_cac([90.0, 240.0, 300.0, 800.0], [100.0, 100.0, 100.0, 100.0])
         ltv    cac  ratio            band
    0   90.0  100.0    0.9    losing money
    1  240.0  100.0    2.4    below target
    2  300.0  100.0    3.0         healthy
    3  800.0  100.0    8.0  under-investing
    """
    owner = "ltv_to_cac"
    arrays, _ = _arrays(
        owner,
        {
            "ltv": (ltv, _any, "finite numbers"),
            "cac": (cac, _nonnegative, "numbers >= 0"),
        },
    )
    value, cost = (np.atleast_1d(arrays[k]) for k in ("ltv", "cac"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cost > 0, value / np.where(cost > 0, cost, 1.0), np.nan)
    band = np.full(ratio.shape, None, dtype=object)
    for bound, name in reversed(LTV_CAC_BANDS):
        above = ~np.isnan(ratio) & ((ratio > bound) if name == "under-investing" else
                                    (ratio >= bound))  # fmt: skip
        band[above] = name
    like = ltv if _series_kind(ltv) else cac
    if _series_kind(like) == "polars" or _series_kind(ltv) == "polars":
        import polars as pl

        return pl.DataFrame(
            {
                "ltv": pl.Series(values=value, nan_to_null=True),
                "cac": pl.Series(values=cost, nan_to_null=True),
                "ratio": pl.Series(values=ratio, nan_to_null=True),
                "band": pl.Series(values=band.tolist(), dtype=pl.String),
            }
        )
    import pandas as pd

    index = like.index if _series_kind(like) == "pandas" else None
    return pd.DataFrame({"ltv": value, "cac": cost, "ratio": ratio, "band": band}, index=index)


def cac_payback_months(cac: Any, monthly_margin_per_customer: Any) -> Any:
    """Months of margin needed to earn back the acquisition cost, by formula.

    Parameters
    ----------
    cac : float or column
        Acquisition cost per new customer, >= 0.
    monthly_margin_per_customer : float or column
        Gross margin a new customer brings per month (revenue × margin share).

    Returns
    -------
    float, numpy array or Series
        ``cac / monthly_margin_per_customer``, as :func:`formula_ltv` returns; infinite where
        the monthly margin is 0 or negative (never paid back), 0 where ``cac`` is 0.

    Notes
    -----
    The formula form assumes a constant monthly margin and no churn before payback; a common
    target is under 12 months (Skok 2013). The *cohort* form — the first month in which a
    cohort's cumulative gross profit reaches its acquisition cost, with its actual churn —
    needs transactions and is ``cohort_payback`` of the transaction-based metrics, which
    takes ``acquisition_cost``'s output.

    Examples
    --------
    >>> from retailcrm.metrics import cac_payback_months
    >>> cac_payback_months(120.0, 15.0)  # 120 / 15
    8.0
    >>> cac_payback_months([120.0, 120.0], [15.0, 0.0])
    array([ 8., inf])
    """
    owner = "cac_payback_months"
    arrays, wrap = _arrays(
        owner,
        {
            "cac": (cac, _nonnegative, "numbers >= 0"),
            "monthly_margin_per_customer": (monthly_margin_per_customer, _any, "finite numbers"),
        },
    )
    c, m = arrays["cac"], arrays["monthly_margin_per_customer"]
    with np.errstate(divide="ignore", invalid="ignore"):
        months = np.where(c == 0, 0.0, np.where(m > 0, c / np.where(m > 0, m, 1.0), np.inf))
    months = np.where(np.isnan(c) | np.isnan(m), np.nan, months)
    return wrap(months)
