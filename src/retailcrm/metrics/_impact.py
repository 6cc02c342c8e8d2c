"""Programme impact: treated against control, after against before, and their difference in
differences — for rates (repurchase, response) and means (spend, orders), with intervals and
p-values.

Each group is given as a dataframe with the metric's column (aggregated in the caller's engine),
as an array of values, or — for rates — as a ``(successes, n)`` tuple. Only a group's count,
mean and variance come back from the engine; the bootstrap of a mean also needs the values.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
import numpy as np

from retailcrm._engine import Engine, collect_polars, lazy_frame
from retailcrm._params import check_choice, check_int, check_number, parameter_error
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.metrics import _intervals as iv

__all__ = ["compare_groups", "compare_periods", "difference_in_differences"]

Kind = Literal["rate", "mean"]
Method = Literal["z", "welch", "bootstrap"]


@attrs.frozen
class _Sample:
    """One group's summary: size, mean, sample variance and (bootstrap of means) values."""

    n: float
    mean: float
    var: float
    values: np.ndarray | None = None


def _is_frame(value: Any) -> bool:
    if isinstance(value, nw.DataFrame | nw.LazyFrame):
        return True
    module = type(value).__module__.split(".")[0]
    if module == "pandas":
        return type(value).__name__ == "DataFrame"
    if module == "polars":
        return type(value).__name__ in ("DataFrame", "LazyFrame")
    return module in ("duckdb", "pyspark", "pyarrow") and hasattr(value, "columns")


def _from_frame(
    frame: Any, metric: str, name: str, kind: str, need_values: bool
) -> tuple[_Sample, Engine]:
    lf, engine = lazy_frame(frame, name=name)
    available = lf.collect_schema().names()
    if metric not in available:
        raise MissingColumnsError(
            [metric], available=available, role=name,
            fix="pass the name of the metric's column as the first argument, e.g. "
            "compare_groups('repurchased', treated, control).",
        )  # fmt: skip
    dtype = lf.collect_schema()[metric]
    if not (dtype.is_numeric() or dtype == nw.Boolean):
        raise InvalidDataError(
            f"{name}: column {metric!r} holds {dtype}, not numbers. Fix: compare a numeric or "
            "boolean column (0/1 for a rate)."
        )
    v = nw.col(metric).cast(nw.Float64)
    x = nw.when(~v.is_null() & ~v.is_nan()).then(v).otherwise(nw.lit(None, nw.Float64))
    aggs = [x.count().alias("n"), x.mean().alias("mean"), x.var(ddof=1).alias("var")]
    if kind == "rate":
        bad = (~x.is_null() & (x != 0.0) & (x != 1.0)).fill_null(value=False)
        aggs.append(bad.cast(nw.Int64).sum().alias("bad"))
    got = (
        lf.select(x.alias(metric)).select(*aggs).pipe(collect_polars).to_native().row(0, named=True)
    )
    if kind == "rate" and (got["bad"] or 0):
        raise InvalidDataError(
            f"{name}: {got['bad']} values of column {metric!r} are neither 0 nor 1, so it is "
            "not a rate. Fix: pass kind='mean' to compare means, or a 0/1 (boolean) column."
        )
    values = None
    if need_values:
        values = np.asarray(
            lf.filter(~x.is_null()).select(x.alias(metric)).pipe(collect_polars)
            .get_column(metric).to_numpy(), dtype=float,
        )  # fmt: skip
    return _sample(float(got["n"] or 0), got["mean"], got["var"], values), engine


def _sample(n: float, mean: Any, var: Any, values: np.ndarray | None) -> _Sample:
    nan = float("nan")
    return _Sample(
        n=n,
        mean=nan if mean is None else float(mean),
        var=nan if var is None else float(var),
        values=values,
    )


def _from_values(value: Any, name: str, kind: str, owner: str) -> _Sample:
    if isinstance(value, tuple):
        if kind != "rate":
            raise parameter_error(
                name, owner, "values (an array or a dataframe) for kind='mean'", value,
                "(successes, n) tuples describe rates; pass the values for a mean.",
            )  # fmt: skip
        ok = (
            len(value) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
            and 0 <= value[0] <= value[1]
            and float(value[0]).is_integer()
            and float(value[1]).is_integer()
        )
        if not ok:
            raise parameter_error(
                name, owner, "a (successes, n) tuple of whole numbers, 0 <= successes <= n",
                value, "e.g. (42, 100) for 42 successes out of 100.",
            )  # fmt: skip
        x, n = float(value[0]), float(value[1])
        p = x / n if n else float("nan")
        return _Sample(n=n, mean=p, var=p * (1 - p) * n / (n - 1) if n > 1 else float("nan"))
    if hasattr(value, "to_numpy"):
        try:
            arr = np.asarray(value.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        except TypeError:
            arr = np.asarray(value.to_numpy(), dtype=float)
    else:
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise parameter_error(
                name, owner, "a dataframe, an array of values or a (successes, n) tuple",
                type(value).__name__, shown=type(value).__name__,
            ) from exc  # fmt: skip
    if arr.ndim != 1:
        raise parameter_error(
            name, owner, "one-dimensional values", f"shape {arr.shape}", shown=f"shape {arr.shape}"
        )
    arr = arr[~np.isnan(arr)]
    if kind == "rate" and not np.isin(arr, (0.0, 1.0)).all():
        raise InvalidDataError(
            f"{name}: values other than 0 and 1 (e.g. {arr[~np.isin(arr, (0.0, 1.0))][:3]!r}) "
            "are not a rate. Fix: pass kind='mean' to compare means, or 0/1 values."
        )
    n = float(arr.size)
    return _Sample(
        n=n,
        mean=float(arr.mean()) if n else float("nan"),
        var=float(arr.var(ddof=1)) if n > 1 else float("nan"),
        values=arr,
    )


def _samples(
    groups: dict[str, Any], metric: Any, kind: str, method: str, owner: str
) -> tuple[dict[str, _Sample], Engine | None, Any]:
    if not isinstance(metric, str):
        raise parameter_error(
            "metric", owner, "the metric's name (a column name for dataframe groups)", metric,
            "e.g. 'repurchased'.",
        )  # fmt: skip
    need_values = kind == "mean" and method == "bootstrap"
    out: dict[str, _Sample] = {}
    engine: Engine | None = None
    like: Any = None
    for name, value in groups.items():
        if _is_frame(value):
            sample, eng = _from_frame(value, metric, name, kind, need_values)
            if engine is None:
                engine, like = eng, value
        else:
            sample = _from_values(value, name, kind, owner)
        if sample.n < 1:
            raise InvalidDataError(
                f"{name}: no observations of {metric!r} (missing values are not counted). "
                "Fix: pass a non-empty group."
            )
        if (kind == "mean" and method != "bootstrap") and sample.n < 2:
            raise InvalidDataError(
                f"{name}: one observation of {metric!r}; a variance needs at least two. "
                "Fix: pass larger groups, or method='bootstrap'."
            )
        out[name] = sample
    return out, engine, like


def _check(
    kind: Any, method: Any, level: Any, n_boot: Any, random_state: Any, owner: str, *,
    did: bool = False,
) -> tuple[str, str, float, int, int]:  # fmt: skip
    kind = check_choice(
        kind, ("rate", "mean"), name="kind", owner=owner,
        fix="'rate' (0/1 values or (successes, n)) or 'mean' (values).",
    )  # fmt: skip
    analytic = "z" if did or kind == "rate" else "welch"
    method = analytic if method is None else method
    method = check_choice(
        method, (analytic, "bootstrap"), name="method", owner=owner,
        fix=f"{analytic!r} (the analytic {'normal' if analytic == 'z' else 'Welch t'} "
        f"interval for kind={kind!r}) or 'bootstrap'.",
    )  # fmt: skip
    level = check_number(
        level, name="level", owner=owner, low=0, high=1, low_open=True, high_open=True,
        fix="e.g. level=0.95.",
    )  # fmt: skip
    n_boot = check_int(n_boot, name="n_boot", owner=owner, low=100, fix="e.g. n_boot=2000.")
    random_state = check_int(random_state, name="random_state", owner=owner, low=0)
    return kind, method, level, n_boot, random_state


def _two_groups(
    metric: str,
    first: Any,
    second: Any,
    names: tuple[str, str],
    *,
    kind: Any,
    method: Any,
    level: Any,
    n_boot: Any,
    random_state: Any,
    owner: str,
) -> Any:
    """``first − second`` as a one-row result named after ``names`` (first, second)."""
    kind, method, level, n_boot, random_state = _check(
        kind, method, level, n_boot, random_state, owner
    )
    samples, engine, like = _samples(
        {names[0]: first, names[1]: second}, metric, kind, method, owner
    )
    a, b = samples[names[0]], samples[names[1]]
    rng = np.random.default_rng(random_state)
    if method == "z":
        stats = iv.two_proportion_z(a.mean * a.n, a.n, b.mean * b.n, b.n, level)
    elif method == "welch":
        stats = iv.welch(a.mean, a.var, a.n, b.mean, b.var, b.n, level)
    elif kind == "rate":
        groups = [(a.mean * a.n, a.n), (b.mean * b.n, b.n)]
        stats = iv.bootstrap_rate_difference(groups, [1.0, -1.0], level, n_boot=n_boot, rng=rng)
    else:
        assert a.values is not None and b.values is not None
        stats = iv.bootstrap_mean_difference(
            [a.values, b.values], [1.0, -1.0], level, n_boot=n_boot, rng=rng
        )
    row = {
        "metric": metric,
        f"n_{names[0]}": int(a.n),
        f"n_{names[1]}": int(b.n),
        names[0]: a.mean,
        names[1]: b.mean,
        "difference": stats["difference"],
        "relative_lift": stats["difference"] / b.mean if b.mean != 0 else float("nan"),
        "se": stats["se"],
        "ci_low": stats["ci_low"],
        "ci_high": stats["ci_high"],
        "statistic": stats["statistic"],
        "p_value": stats["p_value"],
        "method": method,
    }
    return _result(row, engine, like)


def _result(row: dict[str, Any], engine: Engine | None, like: Any) -> Any:
    import polars as pl

    table = pl.DataFrame({k: [v] for k, v in row.items()}).fill_nan(None)
    if engine is None:
        return table.to_pandas()
    return engine.small_native(table, like=like)


def compare_groups(
    metric: str,
    treated: Any,
    control: Any,
    *,
    kind: Kind = "rate",
    method: Method | None = None,
    level: float = 0.95,
    n_boot: int = 2000,
    random_state: int = 0,
) -> Any:
    """Treated against control: difference, relative lift, interval and p-value.

    For statements such as "members who got the birthday coupon repurchased at 42% against
    35% in the holdout group".

    Parameters
    ----------
    metric : str
        The metric's name. When a group is a dataframe, its column holding the metric (one
        row per customer, e.g. a feature table with a 0/1 ``repurchased`` column); otherwise
        the label of the result.
    treated, control : dataframe, array-like or (successes, n)
        Each group as

        * a dataframe of any engine with the column ``metric`` (missing values are not
          observations): the engine computes the count, mean and variance;
        * a one-dimensional array, list, pandas or polars Series of values (NaN dropped);
        * for ``kind="rate"``, a ``(successes, n)`` tuple (a tuple is always read so: pass a
          list or an array for values).

        Rates take 0/1 (or boolean) values.
    kind : {"rate", "mean"}
        A proportion (share of customers who did something) or a mean (spend, orders).
    method : {"z", "welch", "bootstrap"}, optional
        ``"z"`` (rates; the default for them), ``"welch"`` (means; the default for them) or
        ``"bootstrap"`` (either; ``n_boot`` seeded resamples of each group).
    level : float
        Confidence level in (0, 1).
    n_boot : int
        Bootstrap resamples (``method="bootstrap"``), at least 100.
    random_state : int
        Seed of the bootstrap.

    Returns
    -------
    dataframe
        One row — the kind of the first dataframe given, pandas when no group is a
        dataframe: ``metric``, ``n_treated``, ``n_control``, ``treated``, ``control`` (the
        groups' rates or means), ``difference`` (treated − control), ``relative_lift``
        (difference / control; null when control is 0), ``se``, ``ci_low``, ``ci_high``,
        ``statistic`` (z or t; null for the bootstrap), ``p_value`` (two-sided, null
        hypothesis: no difference) and ``method``.

    Raises
    ------
    InvalidDataError
        A group is empty (or has one value for Welch), or a rate has values other than 0/1.

    See Also
    --------
    compare_periods : the same for after against before.
    difference_in_differences : the change of the treated group net of the control's.

    Notes
    -----
    *Two-proportion z* (rates): the interval is ``d ± z·√(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂)``
    (unpooled), the test uses the pooled ``p = (x₁ + x₂)/(n₁ + n₂)``:
    ``z = d / √(p(1−p)(1/n₁ + 1/n₂))`` (Fleiss, Levin & Paik 2003, *Statistical Methods for
    Rates and Proportions*, ch. 2). *Welch* (means): ``t = d / √(s₁²/n₁ + s₂²/n₂)`` with
    Welch–Satterthwaite degrees of freedom (Welch 1947); the p-value equals
    :func:`scipy.stats.ttest_ind` with ``equal_var=False``. *Bootstrap*: each group
    resampled with replacement (a rate as a binomial of its size and rate); percentile
    interval; p-value ``(1 + #{|d* − d| ≥ |d|}) / (1 + B)`` (the resampled differences
    centred on the estimate, Efron & Tibshirani 1993, ch. 16).

    The groups are independent samples. Randomise who is treated (a holdout group): with
    self-selected groups the difference mixes the programme with who chose it.

    Examples
    --------
    >>> from retailcrm.metrics import compare_groups
    >>> out = compare_groups("repurchase", (42, 100), (35, 100))
    >>> out[["treated", "control", "difference", "relative_lift"]].round(3)
       treated  control  difference  relative_lift
    0     0.42     0.35        0.07            0.2
    >>> out[["ci_low", "ci_high", "p_value"]].round(3)
       ci_low  ci_high  p_value
    0  -0.065    0.205    0.309
    """
    return _two_groups(
        metric, treated, control, ("treated", "control"), kind=kind, method=method,
        level=level, n_boot=n_boot, random_state=random_state, owner="compare_groups",
    )  # fmt: skip


def compare_periods(
    metric: str,
    before: Any,
    after: Any,
    *,
    kind: Kind = "rate",
    method: Method | None = None,
    level: float = 0.95,
    n_boot: int = 2000,
    random_state: int = 0,
) -> Any:
    """After against before: difference, relative lift, interval and p-value.

    For statements such as "the middle tier's repurchase rate rose from 15% to 42%".
    Parameters, methods and formulas are those of :func:`compare_groups`, with ``after`` in
    the place of ``treated`` and ``before`` in the place of ``control``.

    Parameters
    ----------
    metric : str
        The metric's name (the column of dataframe groups).
    before, after : dataframe, array-like or (successes, n)
        The two periods' observations (see :func:`compare_groups`).
    kind : {"rate", "mean"}
        A proportion or a mean.
    method : {"z", "welch", "bootstrap"}, optional
        As in :func:`compare_groups`.
    level : float
        Confidence level in (0, 1).
    n_boot : int
        Bootstrap resamples.
    random_state : int
        Seed of the bootstrap.

    Returns
    -------
    dataframe
        One row: ``metric``, ``n_after``, ``n_before``, ``after``, ``before``,
        ``difference`` (after − before), ``relative_lift`` (difference / before), ``se``,
        ``ci_low``, ``ci_high``, ``statistic``, ``p_value``, ``method``.

    Notes
    -----
    The periods are treated as independent samples. When the same customers are measured
    twice the true standard error is usually smaller (positive correlation), so the interval
    is on the wide side. A before/after change also contains whatever else changed between
    the periods (season, prices): :func:`difference_in_differences` with a control group
    removes what both groups share.

    Examples
    --------
    >>> from retailcrm.metrics import compare_periods
    >>> out = compare_periods("repurchase", (30, 200), (84, 200))
    >>> out[["before", "after", "difference", "p_value"]].round(4)
       before  after  difference  p_value
    0    0.15   0.42        0.27      0.0
    """
    return _two_groups(
        metric, after, before, ("after", "before"), kind=kind, method=method, level=level,
        n_boot=n_boot, random_state=random_state, owner="compare_periods",
    )  # fmt: skip


def difference_in_differences(
    metric: str,
    treated_before: Any,
    treated_after: Any,
    control_before: Any,
    control_after: Any,
    *,
    kind: Kind = "rate",
    method: Literal["z", "bootstrap"] | None = None,
    level: float = 0.95,
    n_boot: int = 2000,
    random_state: int = 0,
) -> Any:
    """Difference in differences: the treated group's change net of the control group's.

    Parameters
    ----------
    metric : str
        The metric's name (the column of dataframe groups).
    treated_before, treated_after, control_before, control_after : dataframe, array-like or (successes, n)
        The four cells, each as in :func:`compare_groups`.
    kind : {"rate", "mean"}
        A proportion or a mean.
    method : {"z", "bootstrap"}, optional
        ``"z"`` (normal interval; the default) or ``"bootstrap"`` (each cell resampled).
    level : float
        Confidence level in (0, 1).
    n_boot : int
        Bootstrap resamples.
    random_state : int
        Seed of the bootstrap.

    Returns
    -------
    dataframe
        One row: ``metric``, ``n_treated_before``, ``n_treated_after``, ``n_control_before``,
        ``n_control_after``, the four cells' rates or means (``treated_before``, …),
        ``treated_change``, ``control_change``, ``did`` (treated change − control change),
        ``se``, ``ci_low``, ``ci_high``, ``statistic`` (z; null for the bootstrap),
        ``p_value`` and ``method``.

    Notes
    -----
    ``DiD = (ȳ_TA − ȳ_TB) − (ȳ_CA − ȳ_CB)``; with four independent cells
    ``Var(DiD) = Σ s²/n`` over the cells (``p(1−p)/n`` for rates), and the interval is
    ``DiD ± z·√Var``. The estimate is the programme's effect when both groups would have
    changed alike without it (parallel trends; Angrist & Pischke 2009, *Mostly Harmless
    Econometrics*, ch. 5). Cells holding the same customers before and after are correlated;
    as in :func:`compare_periods`, the independent-cells interval is then usually wide.

    Examples
    --------
    >>> from retailcrm.metrics import difference_in_differences
    >>> out = difference_in_differences("repurchase", (30, 200), (84, 200), (32, 200), (40, 200))
    >>> out[["treated_change", "control_change", "did"]].round(3)
       treated_change  control_change   did
    0            0.27            0.04  0.23
    >>> out[["ci_low", "ci_high"]].round(3)
       ci_low  ci_high
    0   0.117    0.343
    """
    owner = "difference_in_differences"
    kind_, method_, level, n_boot, random_state = _check(
        kind, method, level, n_boot, random_state, owner, did=True
    )
    cells = {
        "treated_before": treated_before,
        "treated_after": treated_after,
        "control_before": control_before,
        "control_after": control_after,
    }
    samples, engine, like = _samples(cells, metric, kind_, method_, owner)
    tb, ta = samples["treated_before"], samples["treated_after"]
    cb, ca = samples["control_before"], samples["control_after"]
    order = [ta, tb, ca, cb]
    signs = [1.0, -1.0, -1.0, 1.0]
    did = (ta.mean - tb.mean) - (ca.mean - cb.mean)
    rng = np.random.default_rng(random_state)
    if method_ == "z":
        if kind_ == "rate":
            var = sum(s.mean * (1 - s.mean) / s.n for s in order)
        else:
            var = sum(s.var / s.n for s in order)
        stats = iv.normal_difference(did, float(np.sqrt(var)), level)
    elif kind_ == "rate":
        groups = [(s.mean * s.n, s.n) for s in order]
        stats = iv.bootstrap_rate_difference(groups, signs, level, n_boot=n_boot, rng=rng)
    else:
        values = [s.values for s in order]
        if any(v is None for v in values):
            raise ConfigError("the bootstrap of means needs every cell's values")
        stats = iv.bootstrap_mean_difference(
            [v for v in values if v is not None], signs, level, n_boot=n_boot, rng=rng
        )
    row: dict[str, Any] = {"metric": metric}
    row.update({f"n_{k}": int(samples[k].n) for k in cells})
    row.update({k: samples[k].mean for k in cells})
    row.update(
        treated_change=ta.mean - tb.mean,
        control_change=ca.mean - cb.mean,
        did=stats["difference"],
        se=stats["se"],
        ci_low=stats["ci_low"],
        ci_high=stats["ci_high"],
        statistic=stats["statistic"],
        p_value=stats["p_value"],
        method=method_,
    )
    return _result(row, engine, like)
