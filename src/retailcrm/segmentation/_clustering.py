"""Customer clusters: k-means on scaled features, named by what distinguishes each cluster."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw
import numpy as np
import polars as pl

from retailcrm._engine import collect_polars, columns_of, lazy_frame, small_to_numpy, unique_name
from retailcrm._params import check_choice, check_int, parameter_error
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError

__all__ = ["CustomerClusters", "cluster_customers"]

Scaling = Literal["log", "robust", "standard"]
SCALINGS: tuple[Scaling, ...] = ("log", "robust", "standard")
#: The cluster of customers with a missing value in a clustering column.
MISSING_CLUSTER = -1
#: Standardized distance from the average above which a feature names a cluster.
NAME_THRESHOLD = 0.5
_N_INIT = 10
_SILHOUETTE_ROWS = 5_000
_MAX_K = 50
_ONE_THREAD_ROWS = 50_000
# How a feature reads when it is low / high in a cluster.
_PHRASES = {
    "recency_days": ("recent", "lapsed"),
    "frequency": ("low frequency", "high frequency"),
    "monetary": ("low spend", "high spend"),
    "avg_order_value": ("small baskets", "large baskets"),
    "tenure_days": ("new", "long-standing"),
    "response_rate": ("unresponsive", "responsive"),
    "discount_rate": ("few discounts", "discount-driven"),
}


@attrs.frozen(eq=False)
class CustomerClusters:
    """The result of :func:`cluster_customers`.

    Attributes
    ----------
    assignments : dataframe
        The caller's kind of frame: ``key`` and ``cluster`` (0, 1, … in order of size in the
        fitting sample, largest first; ``-1`` for customers with a missing value), sorted by
        ``key``, one row per input row.
    profile : dataframe
        The caller's kind of frame, one row per cluster (``-1`` last, when present):
        ``cluster``, ``name`` (e.g. ``"high frequency, high spend"``), ``customers``,
        ``share`` and ``mean_<column>`` for each clustering column (original units).
    n_clusters : int
        The number of clusters (without ``-1``).
    columns : tuple of str
        The clustering columns.
    scaling : str
        The scaling used.
    centers : numpy.ndarray
        Cluster centres in scaled units, one row per cluster in cluster order.
    silhouette : dict
        Silhouette score of each candidate ``k`` tried (``n_clusters="auto"``), else of the
        chosen ``k``.
    sample_rows : int
        Customers the model was fitted on.
    """

    assignments: Any = attrs.field(repr=False)
    profile: Any = attrs.field(repr=False)
    n_clusters: int
    columns: tuple[str, ...]
    scaling: str
    centers: Any = attrs.field(repr=False)
    silhouette: dict[int, float]
    sample_rows: int


def _check_columns(columns: Any) -> tuple[str, ...]:
    if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
        raise parameter_error(
            "columns", "cluster_customers", "a non-empty sequence of column names", columns
        )
    if not all(isinstance(c, str) and c for c in columns) or len(set(columns)) != len(columns):
        raise parameter_error(
            "columns", "cluster_customers", "distinct non-empty column names", columns
        )
    return tuple(columns)


def _check_k_range(k_range: Any) -> tuple[int, int]:
    expected = f"a pair (low, high) of ints with 2 <= low <= high <= {_MAX_K}"
    if not isinstance(k_range, Sequence) or isinstance(k_range, str) or len(k_range) != 2:
        raise parameter_error("k_range", "cluster_customers", expected, k_range)
    low, high = k_range
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
    if not ok or not 2 <= low <= high <= _MAX_K:
        raise parameter_error("k_range", "cluster_customers", expected, k_range)
    return int(low), int(high)


def _present(lf: nw.LazyFrame[Any], columns: Sequence[str]) -> nw.Expr:
    """True where every clustering column has a value (null and NaN are missing)."""
    schema = lf.collect_schema()
    parts = []
    for c in columns:
        part = ~nw.col(c).is_null()
        if schema[c].is_float():
            part = part & ~nw.col(c).is_nan()
        parts.append(part)
    return nw.all_horizontal(*parts, ignore_nulls=False)


def _transform_expr(expr: nw.Expr, scaling: Scaling) -> nw.Expr:
    x = expr.cast(nw.Float64)
    if scaling != "log":
        return x
    # symmetric log: sign(x) * log(1 + |x|) (refund-only customers can have negative spend)
    return nw.when(x >= 0).then((x + 1.0).log()).otherwise(-((1.0 - x).log()))


def _transform_np(x: np.ndarray, scaling: Scaling) -> np.ndarray:
    if scaling != "log":
        return x
    return np.sign(x) * np.log(1.0 + np.abs(x))


def _fit_scaler(x: np.ndarray, scaling: Scaling) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale per column (a zero scale becomes 1)."""
    if scaling == "standard":
        centre, scale = x.mean(axis=0), x.std(axis=0)
    else:  # robust, also after the log transform
        q1, centre, q3 = np.percentile(x, [25, 50, 75], axis=0)
        scale = q3 - q1
        fallback = x.std(axis=0)  # a column with most values equal has IQR 0
        scale = np.where(scale > 0, scale, fallback)
    return centre, np.where(scale > 0, scale, 1.0)


def _sample(
    lf: nw.LazyFrame[Any], present: nw.Expr, key: str, columns: Sequence[str], size: int
) -> tuple[np.ndarray, int]:
    """The complete rows (all of them, or an every-``step``-th systematic sample in key order
    — the same rows on every engine) as a float matrix in key order, and their count."""
    complete = lf.filter(present)
    n = int(complete.select(nw.len()).pipe(collect_polars).item())
    chosen = complete
    if n > size:
        step = math.ceil(n / size)
        rank = unique_name("rank", lf.collect_schema())
        chosen = complete.with_columns(
            nw.col(key).rank(method="ordinal").cast(nw.Int64).alias(rank)
        ).filter(nw.col(rank) % step == 0)
    small = chosen.select(nw.col(key), *(nw.col(c).cast(nw.Float64) for c in columns)).sort(key)
    arrays = small_to_numpy(small, list(columns))
    x = np.column_stack([arrays[c] for c in columns]) if arrays else np.empty((0, 0))
    return x.astype(float).reshape(-1, len(columns)), n


def _kmeans(x: np.ndarray, k: int, random_state: int) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=_N_INIT, random_state=random_state).fit(x)


def _choose(
    x: np.ndarray, n_clusters: int | str, k_range: tuple[int, int], random_state: int
) -> tuple[Any, dict[int, float]]:
    from sklearn.metrics import silhouette_score

    distinct = len(np.unique(x, axis=0))
    if n_clusters != "auto":
        assert isinstance(n_clusters, int)
        if distinct < n_clusters:
            raise InvalidDataError(
                f"cluster_customers: n_clusters={n_clusters} but the customers with values in "
                f"every clustering column have only {distinct} distinct rows. Fix: ask for at "
                "most that many clusters."
            )
        model = _kmeans(x, n_clusters, random_state)
        score = {}
        if 2 <= n_clusters < len(x) and distinct > n_clusters:
            score[n_clusters] = float(
                silhouette_score(
                    x,
                    model.labels_,
                    sample_size=min(len(x), _SILHOUETTE_ROWS),
                    random_state=random_state,
                )
            )
        return model, score
    low, high = k_range
    high = min(high, distinct - 1)
    if high < low:
        raise InvalidDataError(
            f"cluster_customers: n_clusters='auto' tries k from {low}, but the customers with "
            f"values in every clustering column have only {distinct} distinct rows (at least "
            f"{low + 1} are needed). Fix: pass a smaller k_range or an int n_clusters."
        )
    scores: dict[int, float] = {}
    models = {}
    for k in range(low, high + 1):
        models[k] = _kmeans(x, k, random_state)
        scores[k] = float(
            silhouette_score(
                x,
                models[k].labels_,
                sample_size=min(len(x), _SILHOUETTE_ROWS),
                random_state=random_state,
            )
        )
    best = max(scores, key=lambda k: (round(scores[k], 12), -k))  # ties: fewer clusters
    return models[best], scores


def _ordered_centres(model: Any) -> np.ndarray:
    """Centres ordered by sample size (largest first), ties by the centre's coordinates."""
    centres = np.asarray(model.cluster_centers_, dtype=float)
    sizes = np.bincount(model.labels_, minlength=len(centres))
    order = sorted(range(len(centres)), key=lambda i: (-sizes[i], tuple(centres[i])))
    return centres[order]


def _phrase(column: str, z: float) -> str:
    low, high = _PHRASES.get(column, (f"low {column}", f"high {column}"))
    return high if z > 0 else low


def _name(zs: dict[str, float]) -> str:
    strong = sorted(
        ((c, z) for c, z in zs.items() if z is not None and abs(z) >= NAME_THRESHOLD),
        key=lambda cz: (-abs(cz[1]), cz[0]),
    )
    return ", ".join(_phrase(c, z) for c, z in strong[:3]) or "typical"


def _profile(
    lf: nw.LazyFrame[Any],
    cluster: str,
    scaled: dict[str, str],
    columns: Sequence[str],
) -> pl.DataFrame:
    """Per cluster: size, original means and (for the name) standardized mean differences."""
    total = int(lf.select(nw.len()).pipe(collect_polars).item())
    per = (
        lf.group_by(cluster)
        .agg(
            nw.len().alias("customers"),
            *(nw.col(c).cast(nw.Float64).mean().alias(f"mean_{c}") for c in columns),
            *(nw.col(s).mean().alias(f"scaled_{c}") for c, s in scaled.items()),
        )
        .pipe(collect_polars)
        .to_native()
    )
    overall = (
        lf.filter(nw.col(cluster) != MISSING_CLUSTER)
        .select(
            *(nw.col(s).mean().alias(f"m_{c}") for c, s in scaled.items()),
            *(nw.col(s).std(ddof=0).alias(f"s_{c}") for c, s in scaled.items()),
        )
        .pipe(collect_polars)
        .to_native()
        .row(0, named=True)
    )
    names = []
    for row in per.iter_rows(named=True):
        if row[cluster] == MISSING_CLUSTER:
            names.append("missing values")
            continue
        zs: dict[str, float] = {}
        for c in columns:
            sd = overall[f"s_{c}"]
            if sd is not None and sd > 0:
                zs[c] = (row[f"scaled_{c}"] - overall[f"m_{c}"]) / sd
        names.append(_name(zs))
    out = per.with_columns(
        pl.Series("name", names, dtype=pl.String),
        (pl.col("customers").cast(pl.Float64) / total).alias("share"),
        pl.col("customers").cast(pl.Int64),
        pl.col(cluster).cast(pl.Int64),
    )
    order = pl.when(pl.col(cluster) == MISSING_CLUSTER).then(1).otherwise(0)
    return out.sort(order, cluster).select(
        cluster, "name", "customers", "share", *(f"mean_{c}" for c in columns)
    )


def cluster_customers(
    features: Any,
    *,
    columns: Sequence[str] = ("recency_days", "frequency", "monetary"),
    n_clusters: int | Literal["auto"] = "auto",
    k_range: tuple[int, int] = (2, 8),
    scaling: Scaling = "log",
    sample_size: int = 20_000,
    random_state: int = 0,
    key: str = "customer_id",
) -> CustomerClusters:
    """Group customers by k-means on scaled features, and name each group.

    Parameters
    ----------
    features : dataframe
        The customer feature table (or any frame with one row per ``key``); any engine.
    columns : sequence of str
        Numeric columns to cluster on (default R, F and M).
    n_clusters : int or "auto"
        The number of clusters, or ``"auto"``: the ``k`` in ``k_range`` with the best
        silhouette score (ties: the smaller ``k``).
    k_range : (int, int)
        Smallest and largest ``k`` tried by ``"auto"`` (both included).
    scaling : {"log", "robust", "standard"}
        ``"log"`` (default): ``sign(x) * log(1 + |x|)`` — spend and counts are right-skewed —
        then robust scaling; ``"robust"``: ``(x - median) / IQR``; ``"standard"``:
        ``(x - mean) / sd``. Scales are fitted on the fitting sample (an IQR of 0 falls back to
        the sd, a zero sd to 1).
    sample_size : int
        The model is fitted on at most this many customers: all of them when there are fewer,
        else every ``step``-th customer in ``key`` order (the same customers on every engine;
        one ranking pass over the key). Every customer is then assigned, in the engine, to
        the nearest centre.
    random_state : int
        Seed of k-means (``n_init=10``) and of the silhouette subsample (5,000 rows).
    key : str
        The customer key column (unique per row).

    Returns
    -------
    CustomerClusters
        ``assignments`` (``key``, ``cluster``) in the caller's kind of frame, a named
        ``profile`` table, the centres and silhouette scores.

    Raises
    ------
    MissingColumnsError
        ``key`` or a clustering column is missing.
    ConfigError
        A bad parameter, or a clustering column that is not numeric.
    InvalidDataError
        Too few distinct complete customers for the clusters asked for.

    Notes
    -----
    Customers with a missing value in a clustering column (customers without purchases have
    no ``recency_days`` and ``monetary``) are not clustered: they get cluster ``-1``, named
    "missing values", and are never dropped.

    Determinism: the same input gives the same clusters with the same numbers. The fitting
    sample is taken in key order, scaled and clustered in numpy/scikit-learn with a fixed seed;
    clusters are numbered by their size in that sample (largest first, ties by centre). The
    assignment — nearest centre in scaled units, ties to the lower number — runs in the
    engine as expressions, so lazy inputs stay lazy.

    Names: for each cluster and column, the standardized difference between the cluster's
    mean scaled value and the mean of all clustered customers (in units of their sd); up to
    three columns with ``|z| >= 0.5``, strongest first, name the cluster (``"recent, high
    frequency"``); a cluster with none is ``"typical"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import cluster_customers
    >>> features = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4, 5, 6, 7],
    ...         "recency_days": [5.0, 8.0, 6.0, 300.0, 280.0, 310.0, None],
    ...         "frequency": [12, 15, 11, 1, 1, 2, 0],
    ...         "monetary": [900.0, 1200.0, 950.0, 40.0, 35.0, 60.0, None],
    ...     }
    ... )
    >>> result = cluster_customers(features, n_clusters=2)
    >>> result.assignments["cluster"].tolist()
    [0, 0, 0, 1, 1, 1, -1]
    >>> result.profile[["cluster", "name", "customers"]]
       cluster                                name  customers
    0        0  recent, high spend, high frequency          3
    1        1    lapsed, low spend, low frequency          3
    2       -1                      missing values          1

    """
    owner = "cluster_customers"
    cols = _check_columns(columns)
    if not (isinstance(n_clusters, str) and n_clusters == "auto"):
        valid = isinstance(n_clusters, int) and not isinstance(n_clusters, bool)
        if not valid or not 2 <= n_clusters <= _MAX_K:
            raise parameter_error(
                "n_clusters", owner, f"'auto' or an int in [2, {_MAX_K}]", n_clusters
            )
    k_low_high = _check_k_range(k_range)
    scale_kind = check_choice(scaling, SCALINGS, name="scaling", owner=owner)
    size = check_int(sample_size, name="sample_size", owner=owner, low=10)
    seed = check_int(random_state, name="random_state", owner=owner, low=0)
    if not (isinstance(key, str) and key):
        raise parameter_error("key", owner, "a non-empty string", key)
    # pandas inputs are narrowed to the key and the clustering columns before conversion
    lf, engine = lazy_frame(features, name="features", columns=[key, *cols])
    schema = lf.collect_schema()
    missing = [c for c in (key, *cols) if c not in schema]
    if missing:
        raise MissingColumnsError(
            missing,
            available=list(columns_of(features, name="features")),  # every column
            role=owner,
            fix="pass columns= naming numeric columns of the feature table.",
        )
    not_numeric = [f"{c} ({schema[c]})" for c in cols if not schema[c].is_numeric()]
    if not_numeric:
        raise ConfigError(
            f"cluster_customers: clustering columns must be numeric; not numeric: "
            f"{not_numeric}. Fix: choose numeric columns."
        )
    present = _present(lf, cols)
    x_raw, _ = _sample(lf, present, key, cols, size)
    x_t = _transform_np(x_raw, scale_kind)
    if len(x_t) < 2:
        raise InvalidDataError(
            f"cluster_customers: {len(x_t)} customer(s) have values in every clustering column "
            f"{list(cols)}; at least 2 are needed. Fix: check the columns (customers without "
            "purchases have no recency_days and monetary)."
        )
    centre, scale = _fit_scaler(x_t, scale_kind)
    x = (x_t - centre) / scale
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    # k-means on a sample of a few thousand rows is fastest on one thread: OpenMP's start-up
    # and spinning cost more than the work (10x on a busy machine)
    with threadpool_limits(limits=1 if len(x) <= _ONE_THREAD_ROWS else None):
        model, scores = _choose(x, n_clusters, k_low_high, seed)
    centres = _ordered_centres(model)

    taken = set(columns_of(features, name="features"))  # every column, not only those read
    scaled = {c: unique_name(f"scaled_{c}", taken) for c in cols}
    taken |= set(scaled.values())
    dist = [unique_name(f"distance_{i}", taken) for i in range(len(centres))]
    taken |= set(dist)
    nearest = unique_name("nearest", taken)
    cluster = "cluster" if key != "cluster" else unique_name("cluster", taken)
    staged = lf.select(
        nw.col(key),
        *(nw.col(c) for c in cols),
        present.alias(nearest),
    ).with_columns(
        ((_transform_expr(nw.col(c), scale_kind) - float(centre[j])) / float(scale[j])).alias(
            scaled[c]
        )
        for j, c in enumerate(cols)
    )
    staged = staged.with_columns(
        nw.sum_horizontal(
            *(
                (nw.col(scaled[c]) - float(centres[i, j]))
                * (nw.col(scaled[c]) - float(centres[i, j]))
                for j, c in enumerate(cols)
            )
        ).alias(dist[i])
        for i in range(len(centres))
    )
    smallest = nw.min_horizontal(*(nw.col(d) for d in dist))
    chain: Any = nw.when(nw.col(dist[0]) == smallest).then(nw.lit(0))
    for i in range(1, len(dist)):
        chain = chain.when(nw.col(dist[i]) == smallest).then(nw.lit(i))
    labelled = staged.with_columns(
        nw.when(nw.col(nearest))
        .then(chain.otherwise(nw.lit(0)))
        .otherwise(nw.lit(MISSING_CLUSTER))
        .cast(nw.Int64)
        .alias(cluster)
    )
    profile = _profile(labelled, cluster, scaled, cols)
    assignments = labelled.select(nw.col(key), nw.col(cluster)).sort(key)
    return CustomerClusters(
        assignments=engine.to_native(assignments),
        profile=engine.small_native(profile, features),
        n_clusters=len(centres),
        columns=cols,
        scaling=scale_kind,
        centers=centres,
        silhouette=scores,
        sample_rows=len(x),
    )
