"""Survey metrics with intervals: Net Promoter Score, CSAT and CES.

Answers are counted in the caller's engine (one ``group_by`` with sums); only the small table
of counts per group comes back, and the interval maths (:mod:`retailcrm.metrics._intervals`)
runs on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np

from retailcrm._dates import PERIODS, Period, period_number, period_start_of
from retailcrm._engine import Engine, collect_polars, lazy_frame, unique_name
from retailcrm._params import check_choice, check_int, check_number, parameter_error
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.metrics import _intervals as iv

__all__ = ["ces", "compare_nps", "csat", "net_promoter_score", "nps_trend"]

NPSInterval = Literal["adjusted_wald", "wald", "bootstrap"]
Invalid = Literal["raise", "drop"]
_NPS_SCALE = (0, 10)
_N_EXAMPLES = 5

_NPS_COLUMNS = (
    "n",
    "n_invalid",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "nps",
    "se",
    "ci_low",
    "ci_high",
    "n_eff",
)


# --- parameters -------------------------------------------------------------------------------


def _keys(by: Any, owner: str) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Sequence) and by and all(isinstance(b, str) for b in by):
        if len(set(by)) != len(by):
            raise parameter_error("by", owner, "distinct column names", by)
        return list(by)
    raise parameter_error(
        "by", owner, "a column name or a list of column names", by, "e.g. by='channel'."
    )


def _check_level(level: Any, owner: str) -> float:
    return check_number(
        level, name="level", owner=owner, low=0, high=1, low_open=True, high_open=True,
        fix="e.g. level=0.95 for a 95% interval.",
    )  # fmt: skip


def _check_scale(scale: Any, owner: str, name: str = "scale") -> tuple[int, int]:
    ok = (
        isinstance(scale, Sequence)
        and not isinstance(scale, str)
        and len(scale) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in scale)
        and scale[0] < scale[1]
    )
    if not ok:
        raise parameter_error(
            name, owner, "a pair of whole numbers (lowest, highest), lowest < highest", scale,
            "e.g. scale=(1, 5).",
        )  # fmt: skip
    return int(scale[0]), int(scale[1])


def _check_box(box: Any, scale: tuple[int, int], owner: str, name: str) -> tuple[int, int]:
    ok = (
        isinstance(box, Sequence)
        and not isinstance(box, str)
        and len(box) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in box)
        and scale[0] <= box[0] <= box[1] <= scale[1]
    )
    if not ok:
        raise parameter_error(
            name, owner, f"a range (low, high) of whole scores within the scale {scale}", box,
            f"e.g. {name}=({scale[1] - 1}, {scale[1]}) for the top two boxes.",
        )  # fmt: skip
    return int(box[0]), int(box[1])


# --- counting in the engine --------------------------------------------------------------------


class _Counts:
    """The engine's aggregation of one answers table, collected (small)."""

    def __init__(self, table: Any, keys: list[str], names: dict[str, str]) -> None:
        self.table = table  # polars DataFrame: keys + temporary columns
        self.keys = keys
        self.names = names  # logical name -> temporary column

    def get(self, name: str) -> np.ndarray:
        return np.asarray(self.table[self.names[name]].fill_null(0).to_numpy(), dtype=float)


def _open(
    responses: Any, columns: list[str], owner: str, name: str = "responses"
) -> tuple[nw.LazyFrame[Any], Engine]:
    lf, engine = lazy_frame(responses, name=name)
    available = lf.collect_schema().names()
    missing = [c for c in columns if c not in available]
    if missing:
        raise MissingColumnsError(
            missing,
            available=available,
            role=name,
            fix=f"pass the right column names to {owner}(score_col=..., by=..., ...).",
        )
    return lf, engine


def _score_dtype_check(lf: nw.LazyFrame[Any], column: str, what: str, name: str) -> None:
    dtype = lf.collect_schema()[column]
    if not dtype.is_numeric():
        raise InvalidDataError(
            f"{name}: column {column!r} holds {dtype}, not numbers; {what}. Fix: convert the "
            f"column to numbers (e.g. pandas.to_numeric) or pass score_col= naming the score."
        )


def _valid_score(column: str, scale: tuple[int, int]) -> nw.Expr:
    f = nw.col(column).cast(nw.Float64)
    low, high = scale
    return (~f.is_null() & ~f.is_nan() & (f >= low) & (f <= high) & (f == f.round(0))).fill_null(
        value=False
    )


def _count(
    lf: nw.LazyFrame[Any],
    *,
    score_col: str,
    keys: list[str],
    scale: tuple[int, int],
    flags: dict[str, Callable[[nw.Expr], nw.Expr]],
    weights: str | None = None,
    moments: bool = False,
) -> _Counts:
    """Per group: valid answers, invalid ones, the sum of each flag over valid answers and,
    with weights, the weighted sums; with ``moments`` the sum and sum of squares of scores."""
    taken = set(lf.collect_schema().names())
    names: dict[str, str] = {}

    def tmp(logical: str) -> str:
        names[logical] = unique_name(f"_rc_{logical}", taken | set(names.values()))
        return names[logical]

    valid = _valid_score(score_col, scale)
    score = nw.col(score_col).cast(nw.Float64)
    staged: list[nw.Expr] = [valid.cast(nw.Int64).alias(tmp("n"))]
    staged.append((~valid).cast(nw.Int64).alias(tmp("n_invalid")))
    for flag, rule in flags.items():
        staged.append((valid & rule(score)).fill_null(value=False).cast(nw.Int64).alias(tmp(flag)))
    if moments:
        x = nw.when(valid).then(score).otherwise(nw.lit(0.0))
        staged += [x.alias(tmp("s1")), (x * x).alias(tmp("s2"))]
    if weights is not None:
        w = nw.col(weights).cast(nw.Float64)
        bad = valid & (w.is_null() | w.is_nan() | (w < 0) | (w.abs() == float("inf")))
        staged.append(bad.fill_null(value=True).cast(nw.Int64).alias(tmp("bad_weight")))
        vw = nw.when(valid & ~bad.fill_null(value=True)).then(w).otherwise(nw.lit(0.0))
        staged += [vw.alias(tmp("w")), (vw * vw).alias(tmp("w2"))]
        for flag, rule in flags.items():
            on = (valid & rule(score)).fill_null(value=False)
            staged.append(nw.when(on).then(vw).otherwise(nw.lit(0.0)).alias(tmp(f"w_{flag}")))
    sums = [nw.col(c).sum() for c in names.values()]
    frame = lf.select(*[nw.col(k) for k in keys], *staged)
    table = frame.group_by(keys).agg(*sums) if keys else frame.select(*sums)
    collected = table.pipe(collect_polars).to_native()
    if keys:
        collected = collected.sort(keys, nulls_last=True)
    return _Counts(collected, keys, names)


def _raise_invalid(
    lf: nw.LazyFrame[Any],
    engine: Engine,
    native: Any,
    mask: nw.Expr,
    column: str,
    total: int,
    problem: str,
    fix: str,
    name: str = "responses",
) -> None:
    """Raise InvalidDataError naming the column, a few rows (eager inputs) and their values."""
    mask = mask.fill_null(value=False)
    rows: list[Any] = []
    if engine.has_row_labels:
        pl_lf = lf.to_native()
        row = unique_name("_rc_row", lf.collect_schema().names())
        picked = nw.from_native(pl_lf.with_row_index(row)).filter(mask).head(_N_EXAMPLES)
        got = picked.select(row, column).pipe(collect_polars).to_native()
        positions = got[row].to_list()
        index = getattr(native, "index", None)
        rows = list(index[positions].tolist()) if index is not None else positions
    else:
        got = lf.filter(mask).select(column).head(_N_EXAMPLES).pipe(collect_polars).to_native()
    values = got[column].to_list()
    more = f" (and {total - len(values)} more)" if total > len(values) else ""
    where = f"rows {rows!r}{more}, values {values!r}" if rows else f"values {values!r}{more}"
    raise InvalidDataError(f"{name}: {total} {problem} in column {column!r} ({where}). Fix: {fix}")


def _check_counts(
    counts: _Counts,
    lf: nw.LazyFrame[Any],
    engine: Engine,
    native: Any,
    *,
    score_col: str,
    scale: tuple[int, int],
    invalid: str,
    weights: str | None,
    what: str,
) -> None:
    low, high = scale
    n_invalid = int(counts.get("n_invalid").sum())
    if invalid == "raise" and n_invalid:
        _raise_invalid(
            lf, engine, native, ~_valid_score(score_col, scale), score_col, n_invalid,
            f"{'answer is' if n_invalid == 1 else 'answers are'} not whole numbers {low}–{high}"
            " or missing",
            f"{what} are whole points of the scale {low}–{high}: correct or remove these "
            "answers, or pass invalid='drop' to drop them (they are counted in n_invalid).",
        )  # fmt: skip
    if weights is not None and int(counts.get("bad_weight").sum()):
        w = nw.col(weights).cast(nw.Float64)
        bad = _valid_score(score_col, scale) & (
            w.is_null() | w.is_nan() | (w < 0) | (w.abs() == float("inf"))
        )
        _raise_invalid(
            lf, engine, native, bad, weights, int(counts.get("bad_weight").sum()),
            "missing, negative or infinite survey weights",
            "survey weights are finite numbers >= 0; fill or correct them (a weight of 0 "
            "leaves an answer out).",
        )  # fmt: skip


def _output(columns: dict[str, Any], counts: _Counts, engine: Engine, like: Any) -> Any:
    import polars as pl

    keys = counts.table.select(counts.keys) if counts.keys else pl.DataFrame()
    body = pl.DataFrame(columns)
    clash = [k for k in counts.keys if k in body.columns]
    if clash:
        raise ConfigError(
            f"by names column(s) {clash} that are also result columns. Fix: rename them first."
        )
    out = pl.concat([keys, body], how="horizontal") if counts.keys else body
    return engine.small_native(out, like=like)


def _nullable(values: np.ndarray) -> Any:
    """A float array with NaN as null (polars Series)."""
    import polars as pl

    return pl.Series(values=np.asarray(values, dtype=float), nan_to_null=True)


def _ints(values: np.ndarray) -> Any:
    import polars as pl

    return pl.Series(values=np.rint(np.asarray(values, dtype=float)).astype(np.int64))


# --- NPS ---------------------------------------------------------------------------------------


def _nps_flags() -> dict[str, Callable[[nw.Expr], nw.Expr]]:
    return {"promoters": lambda s: s >= 9, "detractors": lambda s: s <= 6}


def _nps_columns(
    counts: _Counts,
    *,
    weighted: bool,
    ci: str,
    level: float,
    n_boot: int,
    random_state: int,
) -> dict[str, Any]:
    n = counts.get("n")
    pro, det = counts.get("promoters"), counts.get("detractors")
    with np.errstate(divide="ignore", invalid="ignore"):
        if weighted:
            w, w2 = counts.get("w"), counts.get("w2")
            p_pro, p_det = counts.get("w_promoters") / w, counts.get("w_detractors") / w
            n_eff = np.where(w2 > 0, w * w / w2, 0.0)
        else:
            p_pro, p_det, n_eff = pro / n, det / n, n
    empty = n_eff <= 0
    p_pro, p_det = np.where(empty, np.nan, p_pro), np.where(empty, np.nan, p_det)
    if ci == "bootstrap":
        rng = np.random.default_rng(random_state)
        se, low, high = iv.nps_bootstrap(p_pro, p_det, n_eff, level, n_boot=n_boot, rng=rng)
    else:
        se, low, high = iv.nps_wald(p_pro, p_det, n_eff, level, adjusted=ci == "adjusted_wald")
    return {
        "n": _ints(n),
        "n_invalid": _ints(counts.get("n_invalid")),
        "promoters": _ints(pro),
        "passives": _ints(n - pro - det),
        "detractors": _ints(det),
        "promoter_share": _nullable(p_pro),
        "passive_share": _nullable(1.0 - p_pro - p_det),
        "detractor_share": _nullable(p_det),
        "nps": _nullable(100.0 * (p_pro - p_det)),
        "se": _nullable(100.0 * se),
        "ci_low": _nullable(100.0 * low),
        "ci_high": _nullable(100.0 * high),
        "n_eff": _nullable(np.where(empty, np.nan, n_eff)),
    }


def _nps_params(
    owner: str, ci: Any, level: Any, invalid: Any, n_boot: Any, random_state: Any
) -> tuple[str, float, str, int, int]:
    return (
        check_choice(
            ci, ("adjusted_wald", "wald", "bootstrap"), name="ci", owner=owner,
            fix="'adjusted_wald' (Rocks 2016; the default), 'wald' or 'bootstrap'.",
        ),
        _check_level(level, owner),
        check_choice(
            invalid, ("raise", "drop"), name="invalid", owner=owner,
            fix="'raise' (the default) or 'drop' (drop and count them in n_invalid).",
        ),
        check_int(n_boot, name="n_boot", owner=owner, low=100, fix="e.g. n_boot=2000."),
        check_int(random_state, name="random_state", owner=owner, low=0, fix="e.g. 0."),
    )  # fmt: skip


def net_promoter_score(
    responses: Any,
    *,
    score_col: str = "score",
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    ci: NPSInterval = "adjusted_wald",
    level: float = 0.95,
    invalid: Invalid = "raise",
    n_boot: int = 2000,
    random_state: int = 0,
) -> Any:
    """Net Promoter Score with its confidence interval, overall or per group.

    Parameters
    ----------
    responses : dataframe
        One row per answer to "How likely are you to recommend us?" on the 0–10 scale (pandas,
        polars eager or lazy, pyarrow, DuckDB or PySpark), e.g. ``sample_data().surveys``.
    score_col : str
        The column of answers: whole numbers 0–10 (integer or float dtype).
    by : str or list of str, optional
        Group columns: one row per group (sorted by them, missing values last).
    weights : str, optional
        A column of survey weights (finite, >= 0). Shares and the NPS are weighted; the
        interval uses Kish's effective sample size ``n_eff = (Σw)² / Σw²`` in place of ``n``.
    ci : {"adjusted_wald", "wald", "bootstrap"}
        The interval. ``"adjusted_wald"`` (Rocks 2016; the best coverage in his comparison,
        also for small samples), ``"wald"`` (the textbook normal interval) or ``"bootstrap"``
        (percentile interval of ``n_boot`` seeded multinomial resamples of the counts).
    level : float
        Confidence level in (0, 1).
    invalid : {"raise", "drop"}
        Answers that are not whole numbers 0–10 (missing, NaN, 7.5, 11, -1): ``"raise"``
        :class:`~retailcrm.exceptions.InvalidDataError` naming the column, example rows and
        values, or ``"drop"`` them; either way ``n_invalid`` counts them.
    n_boot : int
        Bootstrap resamples (``ci="bootstrap"`` only), at least 100.
    random_state : int
        Seed of the bootstrap: equal seeds give equal intervals.

    Returns
    -------
    dataframe
        The caller's kind of frame, one row (per group with ``by``): the ``by`` columns, then
        ``n`` (valid answers), ``n_invalid``, ``promoters`` (9–10), ``passives`` (7–8),
        ``detractors`` (0–6) — counts of answers, unweighted —, ``promoter_share``,
        ``passive_share``, ``detractor_share`` (0..1, weighted with ``weights``), ``nps``
        (−100..100), ``se`` (standard error of the interval's method, in NPS points),
        ``ci_low``, ``ci_high`` (clipped to [−100, 100]) and ``n_eff`` (``n`` without weights).
        A group without valid answers has ``n = 0`` and null shares, NPS, ``se``, interval and
        ``n_eff`` (no error).

    Raises
    ------
    MissingColumnsError
        ``score_col``, a ``by`` column or ``weights`` is not a column.
    InvalidDataError
        Scores are not numbers, or (``invalid="raise"``) not whole numbers 0–10; weights are
        missing, negative or infinite.

    See Also
    --------
    compare_nps : the difference of two NPS, with interval and test.
    nps_trend : the NPS per calendar period.

    Notes
    -----
    ``NPS = 100 (p₊ − p₋)`` with ``p₊`` the share of promoters (9–10) and ``p₋`` of
    detractors (0–6) (Reichheld 2003, "The one number you need to grow", Harvard Business
    Review 81(12)). Answers are one multinomial sample, so
    ``Var(p₊ − p₋) = (p₊ + p₋ − (p₊ − p₋)²) / n``.

    *Wald*: ``NPS ± z·100·√Var``. *Adjusted Wald* (Rocks 2016, "Interval estimation for the
    'net promoter score'", The American Statistician 70(4), 365–372; described in Lewis and
    Sauro, MeasuringU 2021, "Evaluating NPS confidence intervals with real-world data"): add
    3/4 to the promoters and 3/4 to the detractors and 3 to ``n``
    (``ñ = n + 3``, ``p̃₊ = (P + 3/4) / ñ``, ``p̃₋ = (D + 3/4) / ñ``), then
    ``100 (p̃₊ − p̃₋) ± z·100·√((p̃₊ + p̃₋ − (p̃₊ − p̃₋)²) / ñ)``. The reported ``nps`` is the
    plain estimate; the interval is centred on the adjusted one. It stays inside
    [−100, 100] and has a width even when every answer is a promoter, where Wald's is a point.

    Counting is one aggregation in the caller's engine; the interval maths runs on the small
    table of counts.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import net_promoter_score
    >>> answers = pd.DataFrame({"score": [10, 9, 9, 8, 7, 6, 3, 10],
    ...                         "store": ["a", "a", "a", "a", "b", "b", "b", "b"]})
    >>> out = net_promoter_score(answers)
    >>> out[["n", "promoters", "passives", "detractors", "nps"]]
       n  promoters  passives  detractors   nps
    0  8          4         2           2  25.0
    >>> out[["ci_low", "ci_high"]].round(1)
       ci_low  ci_high
    0   -29.4     65.8
    >>> net_promoter_score(answers, by="store")[["store", "n", "nps"]]
      store  n   nps
    0     a  4  75.0
    1     b  4 -25.0
    """
    owner = "net_promoter_score"
    method, level, policy, n_boot, random_state = _nps_params(
        owner, ci, level, invalid, n_boot, random_state
    )
    keys = _keys(by, owner)
    wcol = _weights_name(weights, owner)
    lf, engine = _open(responses, [score_col, *keys, *([wcol] if wcol else [])], owner)
    counts = _nps_counts(lf, engine, responses, score_col, keys, wcol, policy)
    columns = _nps_columns(
        counts, weighted=wcol is not None, ci=method, level=level, n_boot=n_boot,
        random_state=random_state,
    )  # fmt: skip
    return _output(columns, counts, engine, responses)


def _weights_name(weights: Any, owner: str) -> str | None:
    if weights is None or isinstance(weights, str):
        return weights
    raise parameter_error(
        "weights", owner, "a column name or None", weights, "e.g. weights='weight'."
    )


def _nps_counts(
    lf: nw.LazyFrame[Any],
    engine: Engine,
    native: Any,
    score_col: str,
    keys: list[str],
    weights: str | None,
    invalid: str,
) -> _Counts:
    what = "NPS answers"
    _score_dtype_check(lf, score_col, f"{what} are whole numbers", "responses")
    if weights is not None:
        _score_dtype_check(lf, weights, "survey weights are numbers", "responses")
    counts = _count(
        lf, score_col=score_col, keys=keys, scale=_NPS_SCALE, flags=_nps_flags(), weights=weights
    )
    _check_counts(
        counts, lf, engine, native, score_col=score_col, scale=_NPS_SCALE, invalid=invalid,
        weights=weights, what=what,
    )  # fmt: skip
    return counts


def nps_trend(
    responses: Any,
    *,
    period: Period = "M",
    date_col: str = "answered_at",
    score_col: str = "score",
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    ci: NPSInterval = "adjusted_wald",
    level: float = 0.95,
    invalid: Invalid = "raise",
    n_boot: int = 2000,
    random_state: int = 0,
) -> Any:
    """The Net Promoter Score per calendar period (and group), with intervals.

    Parameters
    ----------
    responses : dataframe
        One row per answer, with a date or datetime column ``date_col``.
    period : {"D", "W", "M", "Q", "Y"}
        Calendar period: days, ISO weeks (Monday first), months, quarters or years.
    date_col : str
        When the answer was given (Date or Datetime; a datetime counts by its calendar date).
    score_col, by, weights, ci, level, invalid, n_boot, random_state
        As in :func:`net_promoter_score`.

    Returns
    -------
    dataframe
        ``period`` (the period's first day), the ``by`` columns, then the columns of
        :func:`net_promoter_score`; one row per period (and group) that has answers, sorted.
        Periods without answers have no row.

    Raises
    ------
    InvalidDataError
        ``date_col`` is not a date or has missing values (an answer without a date belongs to
        no period), and as :func:`net_promoter_score`.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import nps_trend
    >>> answers = pd.DataFrame({
    ...     "answered_at": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03",
    ...                                    "2024-02-10", "2024-02-28"]),
    ...     "score": [10, 4, 9, 9, 7],
    ... })
    >>> nps_trend(answers, period="M")[["period", "n", "nps"]]
          period  n        nps
    0 2024-01-01  2   0.000000
    1 2024-02-01  3  66.666667
    """
    owner = "nps_trend"
    method, level, policy, n_boot, random_state = _nps_params(
        owner, ci, level, invalid, n_boot, random_state
    )
    period = check_choice(period, PERIODS, name="period", owner=owner, fix="e.g. period='M'.")
    keys = _keys(by, owner)
    wcol = _weights_name(weights, owner)
    lf, engine = _open(responses, [date_col, score_col, *keys, *([wcol] if wcol else [])], owner)
    dtype = lf.collect_schema()[date_col]
    if not (dtype == nw.Date or isinstance(dtype, nw.Datetime)):
        raise InvalidDataError(
            f"responses: column {date_col!r} holds {dtype}, not dates. Fix: parse it first "
            f"(e.g. pandas.to_datetime) or pass date_col= naming the answer date."
        )
    pcol = unique_name("_rc_period", lf.collect_schema().names())
    lf = lf.with_columns(period_number(nw.col(date_col), period).alias(pcol))
    counts = _nps_counts(lf, engine, responses, score_col, [pcol, *keys], wcol, policy)
    numbers = counts.table[pcol]
    if numbers.null_count():
        n_missing = int(lf.select(nw.col(date_col).is_null().cast(nw.Int64).sum())
                        .pipe(collect_polars).item())  # fmt: skip
        _raise_invalid(
            lf, engine, responses, nw.col(date_col).is_null(), date_col, n_missing,
            "answers have no date",
            "an answer without a date belongs to no period: fill the dates or drop these rows.",
        )  # fmt: skip
    columns = _nps_columns(
        counts, weighted=wcol is not None, ci=method, level=level, n_boot=n_boot,
        random_state=random_state,
    )  # fmt: skip
    import polars as pl

    starts = pl.Series("period", [period_start_of(int(v), period) for v in numbers], pl.Date)
    counts.table = counts.table.with_columns(starts).select("period", *keys)
    counts.keys = ["period", *keys]
    return _output(columns, counts, engine, responses)


def compare_nps(
    a: Any,
    b: Any,
    *,
    level: float = 0.95,
    score_col: str = "score",
    method: Literal["adjusted_wald", "wald"] = "adjusted_wald",
) -> Any:
    """The difference between two Net Promoter Scores, with its interval, z and p-value.

    Parameters
    ----------
    a, b : dataframe
        Two independent samples of answers (e.g. two stores, two quarters, treated and
        control customers), each with the 0–10 column ``score_col``. Invalid answers raise
        (see :func:`net_promoter_score`).
    level : float
        Confidence level in (0, 1).
    score_col : str
        The column of answers in both frames.
    method : {"adjusted_wald", "wald"}
        ``"adjusted_wald"`` adds 3/4 promoter and 3/4 detractor to each sample (and 3 to its
        size) before estimating the difference and its variance, as for one NPS (Rocks 2016);
        ``"wald"`` uses the plain shares.

    Returns
    -------
    dataframe
        One row, ``a``'s kind of frame: ``n_a``, ``nps_a``, ``n_b``, ``nps_b``, ``difference``
        (``nps_a − nps_b``, plain estimates, NPS points), ``se``, ``ci_low``, ``ci_high``,
        ``z`` and ``p_value`` (two-sided, null hypothesis: equal NPS). Null statistics when a
        sample has no answers.

    Notes
    -----
    The samples are independent, so the variance of the difference is the sum of the two
    NPS variances: ``Var = V_a / n_a + V_b / n_b`` with ``V = p₊ + p₋ − (p₊ − p₋)²`` per
    sample (on the adjusted shares and sizes ``n + 3`` for ``"adjusted_wald"``). The interval
    is ``d ± z·√Var`` around the (adjusted) difference ``d``, and ``z = d / √Var`` — the
    method MeasuringU (Sauro, "How to statistically compare two Net Promoter Scores", 2019)
    describes. Everything is reported in NPS points (×100).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import compare_nps
    >>> a = pd.DataFrame({"score": [10, 10, 9, 9, 8, 6, 10, 9]})
    >>> b = pd.DataFrame({"score": [3, 6, 9, 7, 5, 10, 8, 2]})
    >>> out = compare_nps(a, b)
    >>> out[["nps_a", "nps_b", "difference"]]
       nps_a  nps_b  difference
    0   62.5  -25.0        87.5
    >>> out[["ci_low", "ci_high", "z", "p_value"]].round(3)
       ci_low  ci_high      z  p_value
    0  -1.499  128.772  1.915    0.056
    """
    owner = "compare_nps"
    level = _check_level(level, owner)
    method = check_choice(
        method, ("adjusted_wald", "wald"), name="method", owner=owner,
        fix="'adjusted_wald' (the default) or 'wald'.",
    )  # fmt: skip
    parts = []
    engine_a: Engine | None = None
    for name, frame in (("a", a), ("b", b)):
        lf, engine = _open(frame, [score_col], owner, name=name)
        engine_a = engine_a or engine
        _score_dtype_check(lf, score_col, "NPS answers are whole numbers 0–10", name)
        counts = _count(lf, score_col=score_col, keys=[], scale=_NPS_SCALE, flags=_nps_flags())
        _check_counts(
            counts, lf, engine, frame, score_col=score_col, scale=_NPS_SCALE, invalid="raise",
            weights=None, what="NPS answers",
        )  # fmt: skip
        n = float(counts.get("n")[0])
        pro, det = float(counts.get("promoters")[0]), float(counts.get("detractors")[0])
        parts.append((n, pro, det))
    assert engine_a is not None
    out = _compare(parts, level, adjusted=method == "adjusted_wald")
    import polars as pl

    table = pl.DataFrame({k: [v] for k, v in out.items()}, schema_overrides={
        "n_a": pl.Int64, "n_b": pl.Int64}).fill_nan(None)  # fmt: skip
    return engine_a.small_native(table, like=a)


def _compare(parts: list[tuple[float, float, float]], level: float, *, adjusted: bool) -> dict:
    nan = float("nan")
    plain, centre, variance = [], [], []
    for n, pro, det in parts:
        plain.append(100.0 * (pro - det) / n if n > 0 else nan)
        k = iv.NPS_ADJUSTMENT if adjusted else 0.0
        size = n + 4 * k
        if n > 0:
            p, d = (pro + k) / size, (det + k) / size
            centre.append(p - d)
            variance.append(max(p + d - (p - d) ** 2, 0.0) / size)
        else:
            centre.append(nan)
            variance.append(nan)
    diff = centre[0] - centre[1]
    se = float(np.sqrt(variance[0] + variance[1]))
    stats = iv.normal_difference(diff, se, level)
    if not np.isfinite(se) or se == 0:
        z = nan if not np.isfinite(diff) else (0.0 if diff == 0 else np.copysign(np.inf, diff))
        p_value = nan if not np.isfinite(diff) else (1.0 if diff == 0 else 0.0)
        stats.update(statistic=z, p_value=p_value)
        if np.isfinite(diff):
            stats.update(ci_low=diff, ci_high=diff)
    return {
        "n_a": int(parts[0][0]),
        "nps_a": plain[0],
        "n_b": int(parts[1][0]),
        "nps_b": plain[1],
        "difference": plain[0] - plain[1],
        "se": 100.0 * se,
        "ci_low": 100.0 * stats["ci_low"],
        "ci_high": 100.0 * stats["ci_high"],
        "z": stats["statistic"],
        "p_value": stats["p_value"],
    }


# --- CSAT and CES ------------------------------------------------------------------------------


def csat(
    responses: Any,
    *,
    score_col: str = "score",
    scale: tuple[int, int] = (1, 5),
    satisfied: tuple[int, int] = (4, 5),
    level: float = 0.95,
    by: str | Sequence[str] | None = None,
    invalid: Invalid = "raise",
) -> Any:
    """Customer satisfaction (CSAT): the share of satisfied answers, with a Wilson interval.

    Parameters
    ----------
    responses : dataframe
        One row per answer to "How satisfied were you …?".
    score_col : str
        The column of answers: whole numbers on ``scale``.
    scale : (int, int)
        Lowest and highest answer (default 1–5).
    satisfied : (int, int)
        The answers that count as satisfied, an inclusive range (default 4–5, the "top two
        boxes" of 1–5).
    level : float
        Confidence level in (0, 1).
    by : str or list of str, optional
        Group columns: one row per group, sorted.
    invalid : {"raise", "drop"}
        Answers that are missing or not whole numbers on the scale: raise, or drop and count.

    Returns
    -------
    dataframe
        The caller's kind of frame: the ``by`` columns, ``n`` (valid answers), ``n_invalid``,
        ``satisfied`` (count), ``csat`` (share 0..1, null without answers), ``ci_low``,
        ``ci_high``.

    Notes
    -----
    ``CSAT = satisfied answers / answers`` (top-k-box; the ACSI and most survey tools report
    the 4–5 of 1–5 share). Interval: Wilson (1927), "Probable inference, the law of
    succession, and statistical inference", JASA 22 — good coverage for small samples and
    shares near 0 or 1, unlike the Wald interval (Brown, Cai & DasGupta 2001).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import csat
    >>> answers = pd.DataFrame({"score": [5, 4, 4, 3, 1]})
    >>> csat(answers).round(3)
       n  n_invalid  satisfied  csat  ci_low  ci_high
    0  5          0          3   0.6   0.231    0.882
    """
    owner = "csat"
    scale_ = _check_scale(scale, owner)
    box = _check_box(satisfied, scale_, owner, "satisfied")
    level = _check_level(level, owner)
    invalid = check_choice(invalid, ("raise", "drop"), name="invalid", owner=owner)
    keys = _keys(by, owner)
    lf, engine = _open(responses, [score_col, *keys], owner)
    what = "CSAT answers"
    _score_dtype_check(lf, score_col, f"{what} are whole numbers", "responses")
    flags = {"satisfied": lambda s: (s >= box[0]) & (s <= box[1])}
    counts = _count(lf, score_col=score_col, keys=keys, scale=scale_, flags=flags)
    _check_counts(
        counts, lf, engine, responses, score_col=score_col, scale=scale_, invalid=invalid,
        weights=None, what=what,
    )  # fmt: skip
    n, sat = counts.get("n"), counts.get("satisfied")
    low, high = iv.wilson(sat, n, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, sat / n, np.nan)
    columns = {
        "n": _ints(n),
        "n_invalid": _ints(counts.get("n_invalid")),
        "satisfied": _ints(sat),
        "csat": _nullable(share),
        "ci_low": _nullable(low),
        "ci_high": _nullable(high),
    }
    return _output(columns, counts, engine, responses)


def ces(
    responses: Any,
    *,
    direction: Literal["higher_is_easier", "lower_is_easier"],
    method: Literal["mean", "top_box"],
    score_col: str = "score",
    scale: tuple[int, int] = (1, 7),
    easy: tuple[int, int] | None = None,
    level: float = 0.95,
    by: str | Sequence[str] | None = None,
    invalid: Invalid = "raise",
) -> Any:
    """Customer Effort Score (CES): the mean answer or the share of "easy" answers.

    CES questions come in two orientations, so ``direction`` and ``method`` have no default:
    the caller says what the numbers mean.

    Parameters
    ----------
    responses : dataframe
        One row per answer.
    direction : {"higher_is_easier", "lower_is_easier"}
        ``"higher_is_easier"``: agreement with "The company made it easy to handle my issue"
        (CES 2.0, 1–7); ``"lower_is_easier"``: "How much effort did you personally have to
        put forth?" (the original CES, 1 = very low effort).
    method : {"mean", "top_box"}
        ``"mean"``: the mean answer, on the scale as asked, with a Student-t interval;
        ``"top_box"``: the share of answers in ``easy``, with a Wilson interval.
    score_col : str
        The column of answers: whole numbers on ``scale``.
    scale : (int, int)
        Lowest and highest answer (default 1–7).
    easy : (int, int), optional
        The answers that count as easy (``method="top_box"``); default: the two answers at
        the easy end of the scale (6–7 of 1–7 when higher is easier, 1–2 when lower is).
    level : float
        Confidence level in (0, 1).
    by : str or list of str, optional
        Group columns.
    invalid : {"raise", "drop"}
        Answers that are missing or not whole numbers on the scale: raise, or drop and count.

    Returns
    -------
    dataframe
        The ``by`` columns, ``n``, ``n_invalid``, ``ces`` (mean answer, or share of easy
        answers 0..1), ``se`` (``s/√n`` for the mean, ``√(p(1−p)/n)`` for the top box),
        ``ci_low``, ``ci_high`` (null without answers, and for the mean with fewer than two).

    Notes
    -----
    Dixon, Freeman & Toman (2010), "Stop trying to delight your customers", Harvard Business
    Review 88(7) introduced the CES; CEB's CES 2.0 is the 1–7 agreement form. Mean: ``x̄ ±
    t₍ₙ₋₁₎·s/√n``. Top box: Wilson interval of the share. With ``"lower_is_easier"`` a lower
    mean is better; the top box counts the low answers.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import ces
    >>> answers = pd.DataFrame({"score": [7, 6, 5, 7, 2]})
    >>> ces(answers, direction="higher_is_easier", method="mean").round(3)
       n  n_invalid  ces     se  ci_low  ci_high
    0  5          0  5.4  0.927   2.826    7.974
    >>> ces(answers, direction="higher_is_easier", method="top_box").round(3)
       n  n_invalid  ces     se  ci_low  ci_high
    0  5          0  0.6  0.219   0.231    0.882
    """
    owner = "ces"
    direction = check_choice(
        direction, ("higher_is_easier", "lower_is_easier"), name="direction", owner=owner,
        fix="say how the question is asked: 'higher_is_easier' (CES 2.0 agreement) or "
        "'lower_is_easier' (effort asked directly).",
    )  # fmt: skip
    method = check_choice(method, ("mean", "top_box"), name="method", owner=owner)
    scale_ = _check_scale(scale, owner)
    if easy is None:
        box = (scale_[1] - 1, scale_[1]) if direction == "higher_is_easier" else (
            scale_[0], scale_[0] + 1)  # fmt: skip
    else:
        box = _check_box(easy, scale_, owner, "easy")
    level = _check_level(level, owner)
    invalid = check_choice(invalid, ("raise", "drop"), name="invalid", owner=owner)
    keys = _keys(by, owner)
    lf, engine = _open(responses, [score_col, *keys], owner)
    what = "CES answers"
    _score_dtype_check(lf, score_col, f"{what} are whole numbers", "responses")
    flags = {"easy": lambda s: (s >= box[0]) & (s <= box[1])}
    counts = _count(
        lf, score_col=score_col, keys=keys, scale=scale_, flags=flags, moments=method == "mean"
    )
    _check_counts(
        counts, lf, engine, responses, score_col=score_col, scale=scale_, invalid=invalid,
        weights=None, what=what,
    )  # fmt: skip
    n = counts.get("n")
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "mean":
            s1, s2 = counts.get("s1"), counts.get("s2")
            value = np.where(n > 0, s1 / n, np.nan)
            var = np.where(n > 1, np.maximum(s2 - n * value * value, 0.0) / (n - 1), np.nan)
            se, low, high = iv.t_interval(value, np.sqrt(var), n, level)
        else:
            k = counts.get("easy")
            value = np.where(n > 0, k / n, np.nan)
            se = np.where(n > 0, np.sqrt(value * (1 - value) / n), np.nan)
            low, high = iv.wilson(k, n, level)
    columns = {
        "n": _ints(n),
        "n_invalid": _ints(counts.get("n_invalid")),
        "ces": _nullable(value),
        "se": _nullable(se),
        "ci_low": _nullable(low),
        "ci_high": _nullable(high),
    }
    return _output(columns, counts, engine, responses)
