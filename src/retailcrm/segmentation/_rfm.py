"""RFM scores: :func:`rfm_scores` and the estimator :class:`RFMScorer`.

The machinery here (edges fitted as exact order statistics in the engine, scores as a function
of the value alone, the tie report) is shared with RFRC scores (``_rfrc.py``), HML segments and
the value matrix (``_value_matrix.py``).

The one convention, for every dimension and both scales: a customer's score counts the share of
the reference population that is *strictly worse* than the customer's value. With the fitted
edges ``e_1 <= ... <= e_K`` (nearest-rank order statistics ``x_(ceil(j n / B))``):

* ``scale="quantile"`` (``B = bins``): ``score = 1 + #{j : value is strictly better than e_j}``,
  which equals ``1 + min(bins - 1, floor(bins * share strictly worse))``;
* ``scale="percentile"`` (``B = 100``): ``score = #{j : value strictly better than e_j}``, which
  equals ``floor(100 * share strictly worse)``, from 0 to 100.

"Better" is "greater" for frequency, monetary value and response rate, and "smaller" for
recency. A value equal to an edge gets the worse of the two scores: bins are right-closed,
``(e_{j-1}, e_j]``, for the "higher is better" dimensions and left-closed, ``[e_{j-1}, e_j)``,
for recency.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import reduce
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from retailcrm._engine import Engine, collect_polars, lazy_frame, unique_name
from retailcrm._params import check_choice, check_int, parameter_error
from retailcrm.exceptions import (
    DataQualityWarning,
    InvalidDataError,
    MissingColumnsError,
    NotFittedError,
)

__all__ = [
    "Dimension",
    "Fitted",
    "RFMScorer",
    "Scale",
    "ScorerBase",
    "check_fraction",
    "fit_edges",
    "order_statistics",
    "rfm_scores",
    "score_expr",
]

Scale = Literal["quantile", "percentile"]
_SCALES: tuple[Scale, ...] = ("quantile", "percentile")
#: Edges of the percentile scale: 0-100 scores.
PERCENTILE_EDGES = 100
MAX_BINS = 20


@attrs.frozen
class Dimension:
    """One scored dimension: which column, which score column, which way is better.

    ``group`` names the customers scored together: a customer gets null scores in every
    dimension of its group when any input of that group is missing (R, F and M are one group:
    "no purchase").
    """

    name: str
    column: str
    letter: str
    higher_is_better: bool
    group: str

    @property
    def score(self) -> str:
        return f"{self.letter}_score"


@attrs.frozen
class Fitted:
    """Fitted state of a scorer: edges per dimension and what the fit met."""

    edges: dict[str, tuple[float, ...]]
    collapsed: dict[str, list[dict[str, Any]]]
    n_scored: dict[str, int]
    n_unscored: dict[str, int]
    n_rows: int


# -- parameters ----------------------------------------------------------------------------
def check_fraction(value: Any, *, name: str, owner: str) -> Fraction:
    """A share strictly between 0 and 1, as an exact fraction of its decimal text."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and math.isfinite(value) and 0 < value < 1:
        return Fraction(repr(float(value)))
    raise parameter_error(name, owner, "a number strictly between 0 and 1", value)


def _check_thresholds(
    thresholds: Any, dims: Sequence[Dimension], n_edges: int, owner: str
) -> dict[str, tuple[float, ...]]:
    if thresholds is None:
        return {}
    names = [d.name for d in dims]
    example = f"e.g. thresholds={{'{names[0]}': [...]}} with {n_edges} increasing cut points"
    if not isinstance(thresholds, Mapping):
        raise parameter_error(
            "thresholds", owner, f"a dict of dimension -> cut points ({names})", thresholds, example
        )
    unknown = [k for k in thresholds if k not in names]
    if unknown:
        raise parameter_error(
            "thresholds", owner, f"keyed by the dimensions {names}", unknown, example
        )
    out: dict[str, tuple[float, ...]] = {}
    for key, values in thresholds.items():
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
            raise parameter_error(f"thresholds[{key!r}]", owner, "a list of numbers", values)
        cuts = []
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float | np.number):
                raise parameter_error(f"thresholds[{key!r}]", owner, "a list of numbers", values)
            if not math.isfinite(float(v)):
                raise parameter_error(
                    f"thresholds[{key!r}]", owner, "finite numbers", values, example
                )
            cuts.append(float(v))
        if len(cuts) != n_edges:
            raise parameter_error(
                f"thresholds[{key!r}]",
                owner,
                f"{n_edges} cut points (one fewer than the number of scores)",
                values,
                example,
            )
        if any(b <= a for a, b in itertools.pairwise(cuts)):
            raise parameter_error(
                f"thresholds[{key!r}]", owner, "strictly increasing", values, example
            )
        out[str(key)] = tuple(cuts)
    return out


def _check_weights(weights: Any, dims: Sequence[Dimension], owner: str) -> dict[str, float]:
    if weights is None:
        return {}
    letters = [d.letter for d in dims]
    example = "e.g. weights=" + repr(dict.fromkeys(letters, 1.0))
    if not isinstance(weights, Mapping) or sorted(weights) != sorted(letters):
        raise parameter_error(
            "weights", owner, f"a dict with exactly the keys {letters}", weights, example
        )
    out = {}
    for key, w in weights.items():
        ok = isinstance(w, int | float | np.number) and not isinstance(w, bool)
        if not ok or not math.isfinite(float(w)) or float(w) < 0:
            raise parameter_error(f"weights[{key!r}]", owner, "a finite number >= 0", w, example)
        out[str(key)] = float(w)
    return out


@attrs.frozen
class Settings:
    """Checked parameters of a scorer."""

    dims: tuple[Dimension, ...]
    scale: Scale
    bins: int
    thresholds: dict[str, tuple[float, ...]]
    weights: dict[str, float]
    id_col: str
    kind: str  # "rfm" or "rfrc": names of the cell and total columns

    @property
    def n_edges(self) -> int:
        return self.bins - 1 if self.scale == "quantile" else PERCENTILE_EDGES

    @property
    def base(self) -> int:
        """The lowest score."""
        return 1 if self.scale == "quantile" else 0

    @property
    def cell(self) -> str:
        return f"{self.kind}_cell"

    @property
    def total(self) -> str:
        return f"{self.kind}_score"

    @property
    def output_columns(self) -> list[str]:
        return [self.id_col, *(d.score for d in self.dims), self.cell, self.total]


def settings(
    *,
    owner: str,
    kind: str,
    dims: Sequence[Dimension],
    bins: Any,
    scale: Any,
    thresholds: Any,
    weights: Any,
    id_col: Any,
) -> Settings:
    """Check a scorer's parameters once; every message names ``owner``."""
    scale = check_choice(scale, _SCALES, name="scale", owner=owner)
    bins = check_int(bins, name="bins", owner=owner, low=2, high=MAX_BINS)
    columns = {"id_col": id_col, **{f"{d.name}_col": d.column for d in dims}}
    for name, value in columns.items():
        if not (isinstance(value, str) and value):
            raise parameter_error(name, owner, "a non-empty column name", value)
    if len(set(columns.values())) != len(columns):
        raise parameter_error(
            "columns", owner, "distinct column names", columns, "name each input once."
        )
    n_edges = bins - 1 if scale == "quantile" else PERCENTILE_EDGES
    return Settings(
        dims=tuple(dims),
        scale=scale,
        bins=bins,
        thresholds=_check_thresholds(thresholds, dims, n_edges, owner),
        weights=_check_weights(weights, dims, owner),
        id_col=id_col,
        kind=kind,
    )


# -- input -----------------------------------------------------------------------------------
def read_features(
    features: Any, columns: Sequence[str], *, owner: str
) -> tuple[nw.LazyFrame[Any], Engine]:
    """The feature table narrowed to ``columns``; missing or non-numeric columns raise."""
    lf, engine = lazy_frame(features, name="features", columns=list(columns))
    schema = lf.collect_schema()
    missing = [c for c in columns if c not in schema]
    if missing:
        raise MissingColumnsError(
            missing,
            available=list(lazy_frame(features, name="features")[0].collect_schema()),
            role=f"{owner} features",
            fix="pass the feature table of retailcrm.features.customer_features, or name your "
            "columns with the *_col parameters.",
        )
    lf = lf.select(*columns)
    not_numeric = [c for c in columns[1:] if not schema[c].is_numeric()]
    if not_numeric:
        shown = ", ".join(f"{c!r} ({schema[c]})" for c in not_numeric)
        raise InvalidDataError(
            f"{owner}: the column(s) {shown} must be numeric. Fix: cast them to numbers."
        )
    return lf, engine


def _present(column: str, schema: Any) -> nw.Expr:
    """True where the value is there (not null, and not NaN for float columns)."""
    col = nw.col(column)
    if schema[column].is_float():
        return ~(col.is_null() | col.is_nan())
    return ~col.is_null()


def scored_masks(dims: Sequence[Dimension], schema: Any) -> dict[str, nw.Expr]:
    """Per group: true where every input of the group is present."""
    groups: dict[str, list[nw.Expr]] = {}
    for d in dims:
        groups.setdefault(d.group, []).append(_present(d.column, schema))
    return {g: reduce(lambda a, b: a & b, exprs) for g, exprs in groups.items()}


# -- fitting -----------------------------------------------------------------------------------
def order_statistics(
    lf: nw.LazyFrame[Any],
    values: Mapping[str, nw.Expr],
    targets: Mapping[str, Sequence[Fraction]],
    extra: Sequence[nw.Expr] = (),
) -> dict[str, Any]:
    """Exact nearest-rank order statistics, computed in the engine; only they are collected.

    For each name, ``values[name]`` is a numeric expression (null where the row does not count)
    and ``targets[name]`` fractions ``p``; the result ``"{name}#{i}"`` is the
    ``ceil(p * n)``-th smallest non-null value (1-based; ``n`` non-null values, also returned
    as ``"{name}#n"``), with the ``extra`` aggregations by their names. One aggregation counts
    ``n``; then every column is numbered in value order and the few rows at a target position
    are collected (ties are numbered in any order, but hold equal values). Every
    engine gives the same data values: no interpolation, no approximate percentiles.
    """
    taken = set(lf.collect_schema())
    names: dict[str, str] = {}
    for i, name in enumerate(values):
        names[name] = unique_name(f"__v{i}", taken)
        taken.add(names[name])
    work = lf.select(*(values[name].alias(col) for name, col in names.items()))
    counts = work.select(
        *(nw.col(col).count().cast(nw.Int64).alias(f"{name}#n") for name, col in names.items()),
        *extra,
    )
    row: dict[str, Any] = dict(counts.pipe(collect_polars).to_native().row(0, named=True))
    wanted: dict[str, dict[int, int]] = {}
    for name in names:
        n = int(row[f"{name}#n"])
        if n and targets.get(name):
            wanted[name] = {i: math.ceil(p * n) for i, p in enumerate(targets[name])}
    if not wanted:
        return row
    positions = {name: unique_name(f"__position{i}", taken) for i, name in enumerate(wanted)}
    # Nulls are numbered after the n values (or not at all), never at a target position <= n.
    at_target = [
        nw.col(positions[name]).is_in(sorted(set(wanted[name].values()))) for name in wanted
    ]
    found = (
        work.with_columns(
            *(
                nw.col(names[name]).rank("ordinal").cast(nw.Int64).alias(positions[name])
                for name in wanted
            )
        )
        .filter(reduce(lambda a, b: a | b, at_target))
        .pipe(collect_polars)
        .to_native()
    )
    for name, targets_of in wanted.items():
        pairs = found.select(positions[name], names[name]).rows()
        at = dict(pairs)
        for i, m in targets_of.items():
            row[f"{name}#{i}"] = at[m]
    return row


def _targets(settings: Settings) -> list[Fraction]:
    n = settings.n_edges
    denominator = settings.bins if settings.scale == "quantile" else PERCENTILE_EDGES
    return [Fraction(j, denominator) for j in range(1, n + 1)]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 or share == 0 else f"{share:.1%}"


def _runs(inner: Sequence[float]) -> list[tuple[int, int, float]]:
    """Runs of equal consecutive inner edges: (first, last) 1-based positions and value."""
    out = []
    start = 0
    for i in range(1, len(inner) + 1):
        if i == len(inner) or inner[i] != inner[start]:
            out.append((start + 1, i, inner[start]))
            start = i
    return out


def fit_edges(lf: nw.LazyFrame[Any], settings: Settings, *, owner: str) -> Fitted:
    """Edges of every dimension on the reference population ``lf`` (a prepared frame)."""
    schema = lf.collect_schema()
    masks = scored_masks(settings.dims, schema)
    values: dict[str, nw.Expr] = {}
    targets: dict[str, list[Fraction]] = {}
    for d in settings.dims:
        sign = 1 if d.higher_is_better else -1
        values[d.name] = nw.when(masks[d.group]).then(nw.col(d.column) * sign)
        if d.name not in settings.thresholds:
            targets[d.name] = _targets(settings)
    row = order_statistics(lf, values, targets, extra=[nw.len().cast(nw.Int64).alias("#rows")])
    n_rows = int(row["#rows"])
    n_scored = {d.name: int(row[f"{d.name}#n"]) for d in settings.dims}
    edges: dict[str, tuple[float, ...]] = {}
    for d in settings.dims:
        if d.name in settings.thresholds:
            inner = list(settings.thresholds[d.name])
        elif n_scored[d.name] == 0:
            raise InvalidDataError(
                f"{owner}: no customer has a {d.name} value ({d.column!r} is missing for all "
                f"{n_rows} rows), so there is nothing to fit {d.name} edges on. Fix: fit on a "
                f"population with values, or pass thresholds={{'{d.name}': [...]}}."
            )
        else:
            stats = [float(row[f"{d.name}#{i}"]) for i in range(settings.n_edges)]
            inner = stats if d.higher_is_better else sorted(-v for v in stats)
        edges[d.name] = (-math.inf, *inner, math.inf)
    collapsed = _collapsed(lf, settings, edges, masks, n_scored)
    return Fitted(
        edges=edges,
        collapsed=collapsed,
        n_scored=n_scored,
        n_unscored={name: n_rows - n for name, n in n_scored.items()},
        n_rows=n_rows,
    )


def _collapsed(
    lf: nw.LazyFrame[Any],
    settings: Settings,
    edges: Mapping[str, tuple[float, ...]],
    masks: Mapping[str, nw.Expr],
    n_scored: Mapping[str, int],
) -> dict[str, list[dict[str, Any]]]:
    """Runs of coinciding fitted edges, with the number of customers tied at that value (one
    more small aggregation, only when there are any)."""
    found: dict[str, list[tuple[int, int, float]]] = {}
    for d in settings.dims:
        runs = [r for r in _runs(edges[d.name][1:-1]) if r[1] > r[0]]
        if runs and d.name not in settings.thresholds:
            found[d.name] = runs
    if not found:
        return {}
    by_name = {d.name: d for d in settings.dims}
    aggs = []
    for name, runs in found.items():
        d = by_name[name]
        for i, (_, _, value) in enumerate(runs):
            tied = masks[d.group] & (nw.col(d.column) == value)
            aggs.append(nw.when(tied).then(1).otherwise(0).sum().cast(nw.Int64).alias(f"{i}{name}"))
    row = lf.select(*aggs).pipe(collect_polars).to_native().row(0, named=True)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, runs in found.items():
        out[name] = [
            {
                "edges": (first, last),
                "value": value,
                "customers": int(row[f"{i}{name}"]),
                "share": int(row[f"{i}{name}"]) / n_scored[name],
            }
            for i, (first, last, value) in enumerate(runs)
        ]
    return out


_NO_INPUT = {
    "rfm": "no recency, frequency or monetary value (no purchases)",
    "response": "no response rate (never contacted)",
}


def fit_message(fitted: Fitted, settings: Settings, *, owner: str) -> str | None:
    """The warning text: coinciding edges (dimension, tied share, empty scores) and unscored
    customers; None when there is nothing to report."""
    parts = []
    n_inner = settings.n_edges
    for d in settings.dims:
        runs = sorted(fitted.collapsed.get(d.name, []), key=lambda r: -r["customers"])
        if not runs:
            continue
        first, last = runs[0]["edges"]
        if d.higher_is_better:
            low, high = settings.base + first, settings.base + last - 1
        else:
            low, high = settings.base + n_inner - last + 1, settings.base + n_inner - first
        empty = f"score {low} is" if low == high else f"scores {low}–{high} are"
        text = (
            f"{d.name}: {_percent(runs[0]['share'])} of scored customers share the value "
            f"{_number(runs[0]['value'])}; edges {first}–{last} coincide, so {empty} empty"
        )
        if len(runs) > 1:
            more = sum(r["edges"][1] - r["edges"][0] for r in runs[1:])
            ties = "tie leaves" if len(runs) == 2 else "ties leave"
            text += f" ({len(runs) - 1} more {ties} {more} more score{'s' * (more > 1)} empty)"
        parts.append(text)
    sentences = []
    if parts:
        sentences.append(
            "; ".join(parts) + ". Equal values get equal scores, and scores stay in "
            f"{settings.base}..{settings.base + n_inner} (see edges_ and collapsed_)"
        )
    unscored = []
    seen = set()
    for d in settings.dims:
        missing = fitted.n_unscored[d.name]
        if d.group in seen or not missing:
            continue
        seen.add(d.group)
        scores = ", ".join(x.score for x in settings.dims if x.group == d.group)
        unscored.append(
            f"{missing} of {fitted.n_rows} customers ({_percent(missing / fitted.n_rows)}) have "
            f"{_NO_INPUT.get(d.group, 'missing inputs')} and get null {scores}"
        )
    if unscored:
        sentences.append("; ".join(unscored))
    if not sentences:
        return None
    return f"{owner}: " + ". ".join(sentences) + "."


# -- scoring ---------------------------------------------------------------------------------
def score_expr(dim: Dimension, edges: Sequence[float], base: int) -> nw.Expr:
    """``base + #{inner edges the value is strictly better than}`` (null for a null value)."""
    col = nw.col(dim.column)
    expr: nw.Expr = nw.lit(base, dtype=nw.Int64)
    for first, last, value in _runs(list(edges[1:-1])):
        better = (col > value) if dim.higher_is_better else (col < value)
        term = better.cast(nw.Int64)
        expr = expr + (term * (last - first + 1) if last > first else term)
    return expr


def score_frame(lf: nw.LazyFrame[Any], settings: Settings, fitted: Fitted) -> nw.LazyFrame[Any]:
    """The output frame (not sorted): key, scores, cell and total."""
    schema = lf.collect_schema()
    masks = scored_masks(settings.dims, schema)
    scores = [
        nw.when(masks[d.group])
        .then(score_expr(d, fitted.edges[d.name], settings.base))
        .cast(nw.Int64)
        .alias(d.score)
        for d in settings.dims
    ]
    out = lf.select(nw.col(settings.id_col), *scores)
    separator = "" if settings.scale == "quantile" and settings.bins <= 9 else "-"
    cell = nw.concat_str(
        [nw.col(d.score).cast(nw.String) for d in settings.dims], separator=separator
    )
    if settings.weights:
        total = reduce(
            lambda a, b: a + b,
            [nw.col(d.score).cast(nw.Float64) * settings.weights[d.letter] for d in settings.dims],
        )
    else:
        total = reduce(lambda a, b: a + b, [nw.col(d.score) for d in settings.dims])
    return out.with_columns(cell.alias(settings.cell), total.alias(settings.total))


def scores(features: Any, settings: Settings, *, owner: str) -> Any:
    """Fit on ``features``, score ``features``: the body of the public functions."""
    columns = [settings.id_col, *(d.column for d in settings.dims)]
    lf, engine = read_features(features, columns, owner=owner)
    fitted = fit_edges(lf, settings, owner=owner)
    message = fit_message(fitted, settings, owner=owner)
    if message:
        warnings.warn(message, DataQualityWarning, stacklevel=3)
    return engine.to_native(score_frame(lf, settings, fitted).sort(settings.id_col))


# -- the estimator -------------------------------------------------------------------------
def _output_container(estimator: Any) -> str:
    """The container scikit-learn's ``set_output`` asks for: "default", "pandas" or "polars"."""
    import sklearn

    config = getattr(estimator, "_sklearn_output_config", {}) or {}
    wanted = config.get("transform", sklearn.get_config().get("transform_output", "default"))
    return str(wanted)


class ScorerBase(TransformerMixin, BaseEstimator):
    """fit/transform shared by :class:`RFMScorer` and ``RFRCScorer``."""

    def _settings(self) -> Settings:
        raise TypeError(f"{type(self).__name__} must define _settings")

    def fit(self, X: Any, y: Any = None) -> ScorerBase:
        """Learn the edges of every dimension on the reference population ``X``.

        Parameters
        ----------
        X : dataframe
            The feature table of the reference population (any supported engine).
        y : ignored
            Accepted for scikit-learn's ``Pipeline``.

        Returns
        -------
        self
        """
        owner = type(self).__name__
        settings = self._settings()
        columns = [settings.id_col, *(d.column for d in settings.dims)]
        lf, _ = read_features(X, columns, owner=owner)
        fitted = fit_edges(lf, settings, owner=owner)
        message = fit_message(fitted, settings, owner=f"{owner}.fit")
        if message:
            warnings.warn(message, DataQualityWarning, stacklevel=2)
        self.edges_ = fitted.edges
        self.collapsed_ = fitted.collapsed
        self.n_unscored_ = fitted.n_unscored
        self.n_scored_ = fitted.n_scored
        self._fitted = fitted
        return self

    def transform(self, X: Any) -> Any:
        """Score ``X`` with the fitted edges.

        Parameters
        ----------
        X : dataframe
            A feature table (any supported engine; any population).

        Returns
        -------
        dataframe
            The caller's kind of frame (or the container chosen with ``set_output``), one row
            per customer sorted by id; see :meth:`get_feature_names_out` for the columns.
        """
        owner = type(self).__name__
        fitted = getattr(self, "_fitted", None)
        if fitted is None:
            raise NotFittedError(
                f"This {owner} instance is not fitted yet. Fix: call fit(features) on a "
                "reference population first (or use fit_transform)."
            )
        settings = self._settings()
        columns = [settings.id_col, *(d.column for d in settings.dims)]
        lf, engine = read_features(X, columns, owner=owner)
        out = score_frame(lf, settings, fitted).sort(settings.id_col)
        container = _output_container(self)
        if container == "polars":
            return out.pipe(collect_polars).to_native()
        if container == "pandas":
            if engine.kind == "pandas":
                return engine.to_native(out)
            return out.pipe(collect_polars).to_native().to_pandas()
        return engine.to_native(out)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """The output column names, e.g. ``customer_id, r_score, f_score, m_score, rfm_cell,
        rfm_score``."""
        return np.asarray(self._settings().output_columns, dtype=object)


# -- RFM ----------------------------------------------------------------------------------------
def rfm_dimensions(
    recency_col: str, frequency_col: str, monetary_col: str
) -> tuple[Dimension, ...]:
    return (
        Dimension("recency", recency_col, "r", higher_is_better=False, group="rfm"),
        Dimension("frequency", frequency_col, "f", higher_is_better=True, group="rfm"),
        Dimension("monetary", monetary_col, "m", higher_is_better=True, group="rfm"),
    )


def rfm_scores(
    features: Any,
    *,
    bins: int = 5,
    scale: Scale = "quantile",
    thresholds: Mapping[str, Sequence[float]] | None = None,
    weights: Mapping[str, float] | None = None,
    recency_col: str = "recency_days",
    frequency_col: str = "frequency",
    monetary_col: str = "monetary",
    id_col: str = "customer_id",
) -> Any:
    """Recency, frequency and monetary scores of every customer, with ties handled exactly.

    The edges are fitted on ``features`` itself; to fit on one period and score another, use
    :class:`RFMScorer` (``rfm_scores(f, ...)`` equals ``RFMScorer(...).fit_transform(f)``).

    Parameters
    ----------
    features : dataframe
        The customer feature table (:func:`retailcrm.features.customer_features`), any engine.
    bins : int, default 5
        Number of scores per dimension with ``scale="quantile"`` (2 to 20); ignored by
        ``scale="percentile"``.
    scale : {"quantile", "percentile"}
        ``"quantile"``: scores ``1..bins``. ``"percentile"``: scores 0 to 100, the share (in
        percent, rounded down) of scored customers strictly worse than the customer — the form
        rules such as ``r_score >= 80 and f_score >= 80 and m_score >= 80`` use.
    thresholds : dict, optional
        Explicit inner cut points per dimension, e.g. ``{"recency": [30, 90, 180, 365]}``:
        strictly increasing, ``bins - 1`` of them (100 for the percentile scale), in the
        column's units (days for recency). Dimensions not named are fitted.
    weights : dict, optional
        ``{"r": wr, "f": wf, "m": wm}`` (numbers >= 0): ``rfm_score`` is the weighted sum
        (float) instead of the plain sum (integer).
    recency_col, frequency_col, monetary_col, id_col : str
        Column names of the inputs.

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per input row, sorted by ``id_col``:
        ``customer_id``; ``r_score``, ``f_score``, ``m_score`` (integers, higher is better in
        every dimension); ``rfm_cell`` (text: ``"545"``, or ``"80-45-100"`` when a score can
        have two digits) and ``rfm_score`` (the sum). Customers with a missing recency,
        frequency or monetary value (no purchases) get null scores, cell and total.

    Raises
    ------
    MissingColumnsError
        An input column is absent.
    InvalidDataError
        An input column is not numeric, or no customer has values to fit edges on.
    ConfigError
        A parameter is invalid.

    Warns
    -----
    DataQualityWarning
        When ties make fitted edges coincide (the dimension, the tied share and the empty
        scores are named) and when customers get null scores (how many).

    See Also
    --------
    RFMScorer : The same scores with edges fitted on a reference population.
    segment : Name segments from the scores (e.g. ``STANDARD_SEGMENTS``).

    Notes
    -----
    A score is a function of the value alone: equal values always get equal scores, never
    split by customer id or row order. With ``n`` scored customers and ``B = bins`` (or 100),
    edge ``j`` is the ``ceil(j n / B)``-th smallest value (nearest rank, exact on every
    engine, computed in the engine; only the edges are collected), and

    * ``scale="quantile"``: ``score = 1 + min(B - 1, floor(B * s))``;
    * ``scale="percentile"``: ``score = floor(100 * s)``,

    where ``s`` is the share of scored customers strictly worse than the customer (a larger
    recency, a smaller frequency or monetary value). A value equal to an edge gets the worse
    score. When many customers share a value (most bought once), several edges coincide: the
    scores between them are empty, the others keep their meaning, and a warning says so.
    The outer edges are ``-inf`` and ``+inf``, so scoring another population (with
    :class:`RFMScorer`) gives new extremes the lowest or highest score.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import rfm_scores
    >>> features = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4, 5],
    ...         "recency_days": [5, 40, 200, 12, 90],
    ...         "frequency": [9, 3, 1, 5, 2],
    ...         "monetary": [820.0, 150.0, 35.0, 410.0, 90.0],
    ...     }
    ... )
    >>> rfm_scores(features)
       customer_id  r_score  f_score  m_score rfm_cell  rfm_score
    0            1        5        5        5      555         15
    1            2        3        3        3      333          9
    2            3        1        1        1      111          3
    3            4        4        4        4      444         12
    4            5        2        2        2      222          6
    """
    owner = "rfm_scores"
    spec = settings(
        owner=owner,
        kind="rfm",
        dims=rfm_dimensions(recency_col, frequency_col, monetary_col),
        bins=bins,
        scale=scale,
        thresholds=thresholds,
        weights=weights,
        id_col=id_col,
    )
    return scores(features, spec, owner=owner)


class RFMScorer(ScorerBase):
    """RFM scores with edges learned on a reference population (scikit-learn transformer).

    ``fit`` learns the edges of recency, frequency and monetary value on one population (say
    the customers as of the end of last quarter); ``transform`` scores any population with
    them (this quarter's), so a score means the same thing over time. Parameters are those of
    :func:`rfm_scores`, which equals ``RFMScorer(...).fit_transform``.

    Parameters
    ----------
    bins, scale, thresholds, weights, recency_col, frequency_col, monetary_col, id_col
        As in :func:`rfm_scores`.

    Attributes
    ----------
    edges_ : dict
        Dimension (``"recency"``, ``"frequency"``, ``"monetary"``) -> edges, ascending in the
        column's units, the outer ones ``-inf`` and ``+inf``; coinciding edges are kept.
    collapsed_ : dict
        Dimension -> runs of coinciding fitted edges: ``{"edges": (first, last), "value": v,
        "customers": k, "share": k / n_scored}`` (positions as in ``edges_``). Empty when no
        edges coincide.
    n_unscored_ : dict
        Dimension -> customers of the reference population with null scores.
    n_scored_ : dict
        Dimension -> customers the edges were fitted on.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import RFMScorer
    >>> last_quarter = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4],
    ...         "recency_days": [5, 40, 200, 12],
    ...         "frequency": [9, 3, 1, 5],
    ...         "monetary": [820.0, 150.0, 35.0, 410.0],
    ...     }
    ... )
    >>> scorer = RFMScorer(bins=4).fit(last_quarter)
    >>> scorer.edges_["frequency"]
    (-inf, 1.0, 3.0, 5.0, inf)
    >>> this_quarter = pd.DataFrame(
    ...     {
    ...         "customer_id": [7, 8],
    ...         "recency_days": [1, 400],
    ...         "frequency": [30, 1],
    ...         "monetary": [5000.0, 10.0],
    ...     }
    ... )
    >>> scorer.transform(this_quarter)
       customer_id  r_score  f_score  m_score rfm_cell  rfm_score
    0            7        4        4        4      444         12
    1            8        1        1        1      111          3
    """

    def __init__(
        self,
        *,
        bins: int = 5,
        scale: Scale = "quantile",
        thresholds: Mapping[str, Sequence[float]] | None = None,
        weights: Mapping[str, float] | None = None,
        recency_col: str = "recency_days",
        frequency_col: str = "frequency",
        monetary_col: str = "monetary",
        id_col: str = "customer_id",
    ) -> None:
        self.bins = bins
        self.scale = scale
        self.thresholds = thresholds
        self.weights = weights
        self.recency_col = recency_col
        self.frequency_col = frequency_col
        self.monetary_col = monetary_col
        self.id_col = id_col

    def _settings(self) -> Settings:
        return settings(
            owner=type(self).__name__,
            kind="rfm",
            dims=rfm_dimensions(self.recency_col, self.frequency_col, self.monetary_col),
            bins=self.bins,
            scale=self.scale,
            thresholds=self.thresholds,
            weights=self.weights,
            id_col=self.id_col,
        )
