"""Per-customer summary input for the models: extraction, validation and compression.

Every model's ``fit`` and prediction methods accept the summary in one of three forms:

- a dataframe (any engine narwhals supports) with the summary columns;
- a mapping of the column names to arrays;
- the columns as arrays, the first positionally (``fit(frequency, recency, T)``) or all as
  keywords (``fit(frequency=..., recency=..., T=...)``).

:func:`summary_input` sorts a method's arguments into a frame or arrays;
:func:`summary_arrays` turns either into a ``dict`` of float64 numpy arrays and checks the
domain invariants where the data enter (the checks of lifetimes' ``_check_inputs``), and
:func:`compress` collapses identical rows into unique rows with counts as weights, which is what
makes a fit on a million customers take seconds. :func:`check_lengths` and
:func:`check_counts` check the horizons and purchase counts the predictions are asked for.

These helpers are private to :mod:`retailcrm.models`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import numpy.typing as npt

from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError, format_rows

__all__ = [
    "FloatArray",
    "as_float_or_array",
    "check_counts",
    "check_lengths",
    "compress",
    "frame_columns",
    "is_frame",
    "summary_arrays",
    "summary_input",
    "validate_weights",
]

FloatArray = npt.NDArray[np.float64]

_N_EXAMPLES = 5

_WHOLE_COLUMNS = frozenset({"frequency", "n_periods"})


def _examples(mask: npt.NDArray[np.bool_]) -> str:
    rows = np.flatnonzero(mask)
    return format_rows([int(i) for i in rows[:_N_EXAMPLES]], total=int(rows.size))


def is_frame(obj: Any) -> bool:
    """Whether ``obj`` is a dataframe of an engine narwhals supports (not a series or array).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models._inputs import is_frame
    >>> is_frame(pd.DataFrame({"x": [1]})), is_frame(pd.Series([1])), is_frame([1, 2])
    (True, False, False)
    """
    if isinstance(obj, nw.DataFrame | nw.LazyFrame):
        return True
    try:
        wrapped = nw.from_native(obj, pass_through=True)
    except (TypeError, ValueError):
        return False
    return isinstance(wrapped, nw.DataFrame | nw.LazyFrame)


def frame_columns(frame: Any) -> list[str]:
    """The column names of a frame of any engine (all of them: for "did you mean" hints)."""
    import pandas as pd

    from retailcrm._engine import lazy_frame

    if isinstance(frame, pd.DataFrame):  # no conversion just to read the names
        return [str(c) for c in frame.columns]
    return [str(c) for c in lazy_frame(frame, name="summary")[0].collect_schema().names()]


def summary_input(
    summary: Any,
    columns: Sequence[str],
    arrays: Mapping[str, Any],
    *,
    aliases: Mapping[str, str] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Sort a model method's summary arguments into ``(frame, arrays)``.

    Parameters
    ----------
    summary : dataframe, mapping, array-like or None
        The method's first summary argument: a frame (returned as the frame), a mapping of
        column names to arrays (its ``columns`` become the arrays), or the first column's array
        given positionally (``fit(frequency, recency, T)``).
    columns : sequence of str
        The summary columns the method reads, the positional one first.
    arrays : mapping of str to array-like
        The columns passed as arrays (``None`` where not given).
    aliases : mapping of str to str, optional
        Other names a column may be given under (``{"n_periods": "T"}`` for BG/BB).

    Returns
    -------
    tuple
        The frame (or None) and the arrays given, by column name.

    Raises
    ------
    ConfigError
        A column is given twice (positionally and as a keyword, or under its alias too), or a
        frame or mapping comes with arrays.

    Examples
    --------
    >>> from retailcrm.models._inputs import summary_input
    >>> summary_input([0, 2], ("frequency", "recency", "T"), {"recency": [0, 3], "T": [5, 5]})
    (None, {'recency': [0, 3], 'T': [5, 5], 'frequency': [0, 2]})
    """
    given = {k: v for k, v in arrays.items() if v is not None}
    if isinstance(summary, Mapping):
        if given:
            raise ConfigError(
                f"Got both a mapping of summary arrays and the arrays {sorted(given)}. "
                "Fix: pass the columns in one of the two ways."
            )
        given = {k: v for k, v in summary.items() if v is not None}
        summary = None
    for name, alias in (aliases or {}).items():
        if alias in given:
            if name in given:
                raise ConfigError(f"Got both {name} and its alias {alias}. Fix: pass one of them.")
            given[name] = given.pop(alias)
    if summary is None:
        return None, {k: v for k, v in given.items() if k in columns}
    if is_frame(summary):
        if given:
            raise ConfigError(
                f"Got both a summary frame and the arrays {sorted(given)}. "
                "Fix: pass either summary=... or the arrays as keywords, not both."
            )
        return summary, given
    first = columns[0]
    if first in given:
        raise ConfigError(
            f"Got {first} twice: as the first argument and as {first}=... . Fix: pass a summary "
            f"frame first, or the {first} array once."
        )
    given[first] = summary
    return None, given


def _resolve_names(
    available: Sequence[str], columns: Sequence[str], aliases: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """The frame column to read for each summary column (an alias where only it exists), and
    the summary columns found under neither name."""
    names = set(available)
    sources: dict[str, str] = {}
    missing: list[str] = []
    for c in columns:
        alias = (aliases or {}).get(c)
        if c in names:
            sources[c] = c
        elif alias is not None and alias in names:
            sources[c] = alias
        else:
            missing.append(c)
    return sources, missing


def _from_pandas(
    summary: Any, columns: Sequence[str], aliases: Mapping[str, str] | None
) -> dict[str, FloatArray] | None:
    """Fast path for pandas frames with plain numeric columns (None: use narwhals)."""
    import pandas as pd

    if not isinstance(summary, pd.DataFrame):
        return None
    sources, missing = _resolve_names([str(c) for c in summary.columns], columns, aliases)
    if missing:
        return None
    out: dict[str, FloatArray] = {}
    for c, src in sources.items():
        col = summary[src]
        if not (isinstance(col, pd.Series) and col.dtype.kind in "iuf"):
            return None
        out[c] = col.to_numpy(dtype=np.float64, copy=True)
    return out


def _from_frame(
    summary: Any, columns: Sequence[str], aliases: Mapping[str, str] | None
) -> dict[str, FloatArray]:
    fast = _from_pandas(summary, columns, aliases)
    if fast is not None:
        return fast

    from retailcrm._engine import lazy_frame, small_to_numpy

    available = frame_columns(summary)
    sources, missing = _resolve_names(available, columns, aliases)
    if missing:
        raise MissingColumnsError(
            missing,
            available=available,
            role="summary",
            fix="pass the per-customer summary made by btyd_summary, rename the columns, or pass "
            "the arrays as keywords (" + ", ".join(f"{c}=..." for c in missing) + ").",
        )
    lf, engine = lazy_frame(summary, name="summary", columns=list(sources.values()))
    df = engine.collect_small(
        lf.select([nw.col(src).cast(nw.Float64).alias(c) for c, src in sources.items()])
    )
    return {c: np.array(v, dtype=np.float64) for c, v in small_to_numpy(df, columns).items()}


def unique_rows(
    summary: Any, columns: Sequence[str], aliases: Mapping[str, str] | None = None
) -> tuple[dict[str, FloatArray], FloatArray] | None:
    """A DuckDB or Spark summary's distinct rows and how many customers share each, counted in
    the engine; ``None`` for any other input (read row by row, then merged in numpy).

    A model's likelihood depends on a customer only through their summary row, so fitting on
    the distinct (x, t_x, T) rows weighted by their counts is the same fit — and what reaches
    the driver is a few thousand rows, however many customers the table holds.

    Examples
    --------
    >>> import duckdb
    >>> from retailcrm.models._inputs import unique_rows
    >>> rel = duckdb.sql("SELECT * FROM (VALUES (0, 0.0), (2, 3.0), (0, 0.0)) t(frequency, T)")
    >>> data, counts = unique_rows(rel, ["frequency", "T"])
    >>> order = data["frequency"].argsort()
    >>> data["frequency"][order], counts[order]
    (array([0., 2.]), array([2., 1.]))
    """
    from retailcrm._engine import engine_of, lazy_frame, small_to_numpy

    try:
        engine = engine_of(summary, name="summary")
    except Exception:  # not a frame: arrays, mappings and friends take the other path
        return None
    if engine.kind not in ("duckdb", "spark"):
        return None
    sources, missing = _resolve_names(frame_columns(summary), columns, aliases)
    if missing:
        return None  # the row-by-row path raises the error that names them
    lf, engine = lazy_frame(summary, name="summary", columns=list(sources.values()))
    count = "__customers" if "__customers" not in columns else "__customers_"
    small = engine.collect_small(
        lf.select([nw.col(src).cast(nw.Float64).alias(c) for c, src in sources.items()])
        .group_by(*columns)
        .agg(nw.len().cast(nw.Float64).alias(count))
    )
    arrays = small_to_numpy(small, [*columns, count])
    data = {c: np.asarray(arrays[c], dtype=np.float64) for c in columns}
    return data, np.asarray(arrays[count], dtype=np.float64)


def summary_arrays(
    summary: Any = None,
    columns: Sequence[str] = ("frequency", "recency", "T"),
    *,
    validate: bool = True,
    aliases: Mapping[str, str] | None = None,
    **arrays: Any,
) -> dict[str, FloatArray]:
    """Return the summary ``columns`` as float64 arrays, checked against the models' invariants.

    Parameters
    ----------
    summary : dataframe, optional
        A per-customer summary (pandas, polars eager or lazy, pyarrow, DuckDB, PySpark) with the
        ``columns``. Only those columns are collected.
    columns : sequence of str
        The columns needed, e.g. ``("frequency", "recency", "T")``.
    validate : bool
        Check the invariants below (default). Turn off only for arrays already checked.
    aliases : mapping of str to str, optional
        Another name under which a frame may hold a column (read where the column itself is
        absent).
    **arrays : array-like
        The same columns as keyword arrays, used when ``summary`` is None. Extra keywords whose
        value is None are ignored.

    Returns
    -------
    dict of str to numpy.ndarray
        One float64 array per column, in summary row order.

    Raises
    ------
    ConfigError
        Both or neither of ``summary`` and the arrays are given, or the arrays differ in length.
    MissingColumnsError
        The frame lacks a column.
    InvalidDataError
        A value breaks an invariant; every problem is reported at once with example row
        positions (0-based): values missing or not finite; ``frequency`` (and ``n_periods``)
        negative or not whole; ``recency`` negative, above ``T`` (or ``n_periods``), or not 0
        when ``frequency`` is 0; ``T`` negative; ``monetary_value`` not positive where
        ``frequency`` > 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.models._inputs import summary_arrays
    >>> s = pd.DataFrame({"frequency": [0, 2, 1], "recency": [0.0, 3.5, 1.0], "T": [4.0, 5.0, 2.0]})
    >>> summary_arrays(s)["recency"]
    array([0. , 3.5, 1. ])
    >>> summary_arrays(frequency=[1], recency=[3.0], T=[2.0])
    Traceback (most recent call last):
    ...
    retailcrm.exceptions.InvalidDataError: summary: 1 problem. recency is greater than T at row [0]. Fix: ...
    """
    columns = tuple(columns)
    given = {k: v for k, v in arrays.items() if v is not None}
    unknown = sorted(set(given) - set(columns))
    if unknown:
        raise ConfigError(
            f"Unexpected summary arrays {unknown}; expected keywords {list(columns)}. "
            "Fix: pass only the summary columns this model uses."
        )
    if summary is not None and given:
        raise ConfigError(
            f"Got both a summary frame and the arrays {sorted(given)}. "
            "Fix: pass either summary=... or the arrays as keywords, not both."
        )
    if summary is None:
        missing = [c for c in columns if c not in given]
        if missing:
            raise ConfigError(
                f"No summary frame and missing arrays {missing}. Fix: pass summary=<frame with "
                f"columns {list(columns)}> or all of the arrays as keywords."
            )
        data: dict[str, FloatArray] = {}
        for c in columns:
            try:
                arr = np.asarray(given[c], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidDataError(
                    f"summary: {c} must be numeric; could not convert it to float ({exc}). "
                    f"Fix: pass a 1-D array of numbers for {c}."
                ) from exc
            data[c] = np.atleast_1d(arr).ravel() if arr.ndim == 0 else arr
            if data[c].ndim != 1:
                raise ConfigError(
                    f"summary: {c} must be one-dimensional, got shape {arr.shape}. "
                    "Fix: pass one value per customer."
                )
        sizes = {a.size for c, a in data.items() if np.ndim(given[c]) != 0}
        if len(sizes) == 1:  # scalars (e.g. one common T) apply to every customer
            size = sizes.pop()
            for c in data:
                if np.ndim(given[c]) == 0:
                    data[c] = np.full(size, data[c][0])
        lengths = {c: a.size for c, a in data.items()}
        if len(set(lengths.values())) > 1:
            raise ConfigError(
                f"summary arrays differ in length: {lengths}. Fix: pass one value per customer "
                "in every array."
            )
    else:
        data = _from_frame(summary, columns, aliases)
    if validate:
        _validate(data)
    return data


def _validate(data: Mapping[str, FloatArray]) -> None:
    problems: list[str] = []
    for c, a in data.items():
        bad = ~np.isfinite(a)
        if bad.any():
            problems.append(f"{c} is missing, NaN or infinite at {_examples(bad)}")
    # comparisons with NaN are False, so each check below sees only the finite values
    with np.errstate(invalid="ignore"):
        for c in sorted(_WHOLE_COLUMNS & set(data)):
            a = data[c]
            if (a < 0).any():
                problems.append(f"{c} is negative at {_examples(a < 0)}")
            frac = np.isfinite(a) & (a != np.floor(a))
            if frac.any():
                problems.append(f"{c} is not a whole number at {_examples(frac)}")
        for c in ("recency", "T"):
            if c in data and (data[c] < 0).any():
                problems.append(f"{c} is negative at {_examples(data[c] < 0)}")
        if "recency" in data:
            rec = data["recency"]
            for upper in ("T", "n_periods"):
                if upper in data:
                    above = rec > data[upper]
                    if above.any():
                        problems.append(f"recency is greater than {upper} at {_examples(above)}")
            if "frequency" in data:
                stray = (data["frequency"] == 0) & (rec != 0) & np.isfinite(rec)
                if stray.any():
                    problems.append(
                        f"recency is not 0 where frequency is 0 at {_examples(stray)} "
                        "(with no repeat purchase the last purchase is the first)"
                    )
        if "monetary_value" in data:
            mv = data["monetary_value"]
            pos = data["frequency"] > 0 if "frequency" in data else np.ones(mv.shape, bool)
            nonpos = pos & (mv <= 0)
            if nonpos.any():
                problems.append(
                    f"monetary_value is not positive where frequency > 0 at {_examples(nonpos)}"
                )
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        raise InvalidDataError(
            f"summary: {len(problems)} {noun}. "
            + "; ".join(problems)
            + ". Fix: build the summary with btyd_summary (frequency = repeat purchases, a whole "
            "number >= 0; recency = time from the first to the last purchase, 0 without repeat "
            "purchases; T = time from the first purchase to the end of calibration, all in the "
            "same unit), or drop the listed rows."
        )


def validate_weights(weights: Any, n_rows: int) -> FloatArray:
    """Return ``weights`` as a float64 array of ``n_rows`` finite values >= 0 (ones if None).

    Examples
    --------
    >>> from retailcrm.models._inputs import validate_weights
    >>> validate_weights(None, 2)
    array([1., 1.])
    """
    if weights is None:
        return np.ones(n_rows)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != n_rows:
        raise ConfigError(
            f"weights has {w.size} values for {n_rows} summary rows. "
            "Fix: pass one weight (number of customers) per summary row."
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise InvalidDataError(
            f"weights are negative, NaN or infinite at {_examples(bad)}. "
            "Fix: weights count customers per row, so they must be finite and >= 0."
        )
    if not w.sum() > 0:
        raise InvalidDataError("weights sum to 0. Fix: give at least one row a positive weight.")
    return w


def compress(
    data: Mapping[str, FloatArray], weights: FloatArray | None = None
) -> tuple[dict[str, FloatArray], FloatArray, npt.NDArray[np.intp]]:
    """Collapse identical rows of ``data`` into unique rows, summing their weights.

    Parameters
    ----------
    data : mapping of str to array
        Equal-length 1-D arrays (the columns).
    weights : array, optional
        Per-row weights (default 1 each).

    Returns
    -------
    unique : dict of str to numpy.ndarray
        The unique rows, sorted by the columns in order.
    counts : numpy.ndarray
        The total weight of each unique row.
    inverse : numpy.ndarray
        For each input row, the index of its unique row, so ``unique[c][inverse] == data[c]``.

    Examples
    --------
    >>> import numpy as np
    >>> from retailcrm.models._inputs import compress
    >>> u, w, inv = compress({"x": np.array([1.0, 0.0, 1.0]), "t": np.array([2.0, 0.0, 2.0])})
    >>> u["x"], w, inv
    (array([0., 1.]), array([1., 2.]), array([1, 0, 1]))
    """
    names = list(data)
    n = next(iter(data.values())).size if names else 0
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if n == 0:
        return (
            {c: np.asarray(a, dtype=np.float64) for c, a in data.items()},
            w,
            np.zeros(0, np.intp),
        )
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    codes_list = []
    for c in names:
        _, codes = np.unique(data[c], return_inverse=True)
        size = int(codes.max()) + 1
        codes_list.append((codes.ravel(), size))
        radix *= size
    if radix < 2**62:
        for codes, size in codes_list:
            key = key * size + codes
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # pragma: no cover - needs > 2**62 distinct combinations of codes
        stacked = np.stack([codes for codes, _ in codes_list], axis=1)
        _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel().astype(np.intp)
    counts = np.asarray(np.bincount(inverse, weights=w, minlength=first.size), dtype=np.float64)
    unique = {c: np.asarray(data[c], dtype=np.float64)[first] for c in names}
    return unique, counts, inverse


def check_lengths(t: Any, *, name: str = "t") -> FloatArray:
    """Return the lengths of time ``t`` as float64, or raise :class:`ConfigError` unless they
    are finite and >= 0.

    Examples
    --------
    >>> from retailcrm.models._inputs import check_lengths
    >>> check_lengths([0, 2.5])
    array([0. , 2.5])
    """
    arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ConfigError(
            f"{name} must be finite and >= 0 (a length of time in the model's unit). "
            f"Got {t!r} instead."
        )
    return arr


def check_counts(n: Any, *, name: str = "n", what: str = "purchase counts") -> FloatArray:
    """Return the whole numbers ``n`` (>= 0) as float64, or raise :class:`ConfigError`.

    Examples
    --------
    >>> from retailcrm.models._inputs import check_counts
    >>> check_counts([0, 3])
    array([0., 3.])
    """
    arr = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ConfigError(f"{name} must be whole numbers >= 0 ({what}). Got {n!r} instead.")
    return arr


def as_float_or_array(value: Any) -> float | FloatArray:
    """A 0-d result as a Python float, anything else as a float64 array."""
    arr = np.asarray(value, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr
