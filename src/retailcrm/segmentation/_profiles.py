"""Segment portraits: what each segment is worth and what sets it apart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._engine import collect_polars, lazy_frame, unique_name
from retailcrm._params import check_int, check_number, parameter_error
from retailcrm.exceptions import InvalidDataError, MissingColumnsError

__all__ = ["UNLABELLED", "segment_profile"]

#: The segment of customers of the feature table without a label.
UNLABELLED = "(unlabelled)"
_RFM = ("recency_days", "frequency", "monetary", "avg_order_value")
_MODES = ("top_category", "top_channel")


def _check_duplicates(lab: nw.LazyFrame[Any], id_col: str) -> None:
    n = unique_name("n", lab.collect_schema())
    dups = (
        lab.group_by(id_col)
        .agg(nw.len().alias(n))
        .filter(nw.col(n) > 1)
        .sort(id_col)
        .head(5)
        .pipe(collect_polars)
    )
    if len(dups):
        examples = dups.get_column(id_col).to_list()
        raise InvalidDataError(
            f"segment_profile: labels has more than one row for some {id_col!r} values, e.g. "
            f"{examples}. Fix: pass one label per customer (the output of segment() or "
            "RuleSet.evaluate)."
        )


def _numeric_columns(schema: Any, exclude: set[str]) -> list[str]:
    return [c for c, d in schema.items() if c not in exclude and d.is_numeric()]


def _modes(lf: nw.LazyFrame[Any], seg: str, column: str) -> dict[str, Any]:
    """Per segment, the most frequent non-missing value of ``column`` (ties: smallest)."""
    n = unique_name("n", lf.collect_schema())
    counts = (
        lf.filter(~nw.col(column).is_null())
        .group_by(seg, column)
        .agg(nw.len().alias(n))
        .pipe(collect_polars)
        .to_native()
    )
    best = counts.sort([seg, n, column], descending=[False, True, False]).unique(
        subset=seg, keep="first", maintain_order=True
    )
    return dict(zip(best.get_column(seg).to_list(), best.get_column(column).to_list(), strict=True))


def _effect_sizes(
    stats: pl.DataFrame, seg: str, columns: Sequence[str]
) -> dict[str, list[tuple[str, float]]]:
    """Cohen's d of each segment against the rest, per column, from per-segment count, mean
    and variance (combined with the parallel-variance formula of Chan, Golub & LeVeque)."""
    out: dict[str, list[tuple[str, float]]] = {s: [] for s in stats.get_column(seg).to_list()}
    rows = list(stats.iter_rows(named=True))
    for i, c in enumerate(columns):
        parts = []
        for row in rows:
            n = row[f"n_{i}"] or 0
            mean = row[f"m_{i}"]
            var = row[f"v_{i}"]
            m2 = 0.0 if var is None or n < 2 or math.isnan(var) else var * (n - 1)
            parts.append((row[seg], n, mean, m2))
        total = sum(p[1] for p in parts)
        if total < 3:
            continue
        grand = sum(p[1] * p[2] for p in parts if p[1]) / total
        m2_total = sum(p[3] + p[1] * (p[2] - grand) ** 2 for p in parts if p[1])
        for name, n_s, m_s, m2_s in parts:
            n_r = total - n_s
            if n_s < 1 or n_r < 1:
                continue
            m_r = (total * grand - n_s * m_s) / n_r
            m2_r = m2_total - m2_s - n_s * (m_s - grand) ** 2 - n_r * (m_r - grand) ** 2
            pooled = (m2_s + max(m2_r, 0.0)) / (total - 2)
            if pooled <= 1e-24:
                continue
            out[name].append((c, (m_s - m_r) / math.sqrt(pooled)))
    return out


def _describe(effects: list[tuple[str, float]], top: int, min_effect: float) -> str:
    strong = sorted(
        ((c, d) for c, d in effects if abs(d) >= min_effect), key=lambda cd: (-abs(cd[1]), cd[0])
    )
    return ", ".join(f"{c} {d:+.1f} sd" for c, d in strong[:top])


def segment_profile(
    features: Any,
    labels: Any,
    *,
    by: str = "segment",
    id_col: str = "customer_id",
    columns: Sequence[str] | None = None,
    top: int = 3,
    min_effect: float = 0.2,
) -> Any:
    """The segment portrait: size, value, RFM, habits and what sets each segment apart.

    Parameters
    ----------
    features : dataframe
        The customer feature table (:func:`~retailcrm.features.customer_features`): needs
        ``id_col``, ``recency_days``, ``frequency``, ``monetary`` and ``avg_order_value``;
        ``top_category`` and ``top_channel`` are used when present.
    labels : dataframe
        One row per customer with ``id_col`` and the label column ``by`` — the output of
        ``segment()``, ``RuleSet.evaluate(label_column=by)`` or a cluster assignment
        (``by="cluster"``) — of the same engine as ``features``.
    by : str
        The label column of ``labels``; also the name of the first output column.
    id_col : str
        The customer key in both frames.
    columns : sequence of str, optional
        Numeric columns of ``features`` compared in ``distinguishing``; default every numeric
        column except ``id_col``.
    top : int
        How many distinguishing features to list per segment.
    min_effect : float
        The smallest ``|d|`` listed (0.2, a "small" effect in Cohen's convention).

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per segment, largest first (ties by label;
        ``"(unlabelled)"`` last): ``by`` (labels as text), ``customers``, ``share`` (of all
        customers of ``features``), ``revenue`` (sum of ``monetary``), ``revenue_share``,
        ``median_*`` and ``mean_*`` of ``recency_days``, ``frequency``, ``monetary`` and
        ``avg_order_value``, ``repurchase_rate``, ``top_category``, ``top_channel`` and
        ``distinguishing`` (e.g. ``"frequency +1.2 sd, monetary +0.9 sd"``; empty when no
        feature reaches ``min_effect``).

    Raises
    ------
    MissingColumnsError
        ``id_col``, ``by`` or a required feature column is missing.
    InvalidDataError
        ``labels`` has two rows for one customer.

    Notes
    -----
    Every customer of ``features`` is counted once: customers without a row in ``labels`` (or
    with a missing label) form the segment ``"(unlabelled)"``; label rows of customers not in
    ``features`` are ignored. Medians and means skip missing values (customers without
    purchases have no recency or spend). ``repurchase_rate`` is the share of the segment's
    buyers (``frequency >= 1``) who bought at least twice (复购率); missing for a segment
    without buyers. ``top_category``/``top_channel`` are the segment's most common value of
    the customers' own top category/channel (ties: the first in sort order); missing when
    the feature table has no such column.

    ``distinguishing`` ranks columns by Cohen's *d* of the segment against all other customers:
    ``(mean_segment - mean_rest) / pooled_sd``, pooled over both groups' non-missing values.
    The engine computes, per segment and column, the count, mean and variance in one
    aggregation; the rest of the customers' mean and variance follow from the segment
    statistics by the parallel-variance formula (Chan, Golub & LeVeque 1979), so no second
    pass over the data is needed.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import segment_profile
    >>> features = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4, 5],
    ...         "recency_days": [3.0, 10.0, 200.0, 250.0, None],
    ...         "frequency": [9, 7, 1, 2, 0],
    ...         "monetary": [900.0, 700.0, 50.0, 80.0, None],
    ...         "avg_order_value": [100.0, 100.0, 50.0, 40.0, None],
    ...     }
    ... )
    >>> labels = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["VIP", "VIP", "Lapsed", "Lapsed"]})
    >>> portrait = segment_profile(features, labels, columns=["recency_days", "frequency"])
    >>> portrait[["segment", "customers", "share", "revenue_share", "repurchase_rate"]]
            segment  customers  share  revenue_share  repurchase_rate
    0        Lapsed          2    0.4       0.075145              0.5
    1           VIP          2    0.4       0.924855              1.0
    2  (unlabelled)          1    0.2       0.000000              NaN
    >>> portrait["distinguishing"].tolist()[1]
    'recency_days -8.7 sd, frequency +6.1 sd'
    """
    owner = "segment_profile"
    for name, value in (("by", by), ("id_col", id_col)):
        if not (isinstance(value, str) and value):
            raise parameter_error(name, owner, "a non-empty string", value)
    n_top = check_int(top, name="top", owner=owner, low=1)
    min_d = check_number(min_effect, name="min_effect", owner=owner, low=0)
    lf, engine = lazy_frame(features, name="features")
    lab, _ = lazy_frame(labels, name="labels")
    schema = lf.collect_schema()
    missing = [c for c in (id_col, *_RFM) if c not in schema]
    if missing:
        raise MissingColumnsError(
            missing,
            available=list(schema),
            role=f"{owner} (features)",
            fix="pass the customer feature table (customer_features).",
        )
    lab_schema = lab.collect_schema()
    missing = [c for c in (id_col, by) if c not in lab_schema]
    if missing:
        raise MissingColumnsError(
            missing,
            available=list(lab_schema),
            role=f"{owner} (labels)",
            fix="pass by= naming the label column (e.g. 'segment', 'cluster').",
        )
    if columns is None:
        compare = _numeric_columns(schema, {id_col})
    else:
        if isinstance(columns, str) or not isinstance(columns, Sequence):
            raise parameter_error("columns", owner, "a sequence of column names or None", columns)
        compare = list(dict.fromkeys(columns))
        absent = [c for c in compare if c not in schema]
        if absent:
            raise MissingColumnsError(absent, available=list(schema), role=f"{owner} (columns)")
        not_numeric = [c for c in compare if not schema[c].is_numeric()]
        if not_numeric:
            raise parameter_error(
                "columns", owner, "numeric columns", not_numeric, "drop the text/date columns."
            )
    _check_duplicates(lab, id_col)

    seg = unique_name("segment", schema)
    buyer = unique_name("buyer", [*schema, seg])
    repeat = unique_name("repeat", [*schema, seg, buyer])
    labelled = lf.join(
        lab.select(nw.col(id_col), nw.col(by).cast(nw.String).alias(seg)),
        on=id_col,
        how="left",
    ).with_columns(
        nw.col(seg).fill_null(UNLABELLED),
        (nw.col("frequency") >= 1).cast(nw.Int64).alias(buyer),
        (nw.col("frequency") >= 2).cast(nw.Int64).alias(repeat),
        *(nw.col(c).cast(nw.Float64) for c in dict.fromkeys([*_RFM, *compare])),
    )
    aggs = [
        nw.len().alias("customers"),
        nw.col("monetary").sum().alias("revenue"),
        nw.col(buyer).sum().alias("buyers"),
        nw.col(repeat).sum().alias("repeaters"),
    ]
    for c in _RFM:
        aggs += [nw.col(c).median().alias(f"median_{c}"), nw.col(c).mean().alias(f"mean_{c}")]
    # comparison statistics under positional names: a compared column may be an RFM column,
    # whose mean_ name is taken
    for i, c in enumerate(compare):
        aggs += [
            nw.col(c).count().alias(f"n_{i}"),
            nw.col(c).mean().alias(f"m_{i}"),
            nw.col(c).var(ddof=1).alias(f"v_{i}"),
        ]
    stats_frame = labelled.group_by(seg).agg(*aggs).pipe(collect_polars).to_native().sort(seg)
    modes = {c: _modes(labelled, seg, c) for c in _MODES if c in schema}
    effects = _effect_sizes(stats_frame, seg, compare)

    total = int(stats_frame.get_column("customers").sum())
    revenue_total = stats_frame.get_column("revenue").fill_null(0.0).sum()
    segments = stats_frame.get_column(seg).to_list()
    table = stats_frame.select(
        pl.col(seg).alias(by),
        pl.col("customers").cast(pl.Int64),
        (pl.col("customers").cast(pl.Float64) / total).alias("share"),
        pl.col("revenue").fill_null(0.0).cast(pl.Float64),
        (
            pl.col("revenue").fill_null(0.0).cast(pl.Float64) / revenue_total
            if revenue_total
            else pl.lit(None, dtype=pl.Float64)
        ).alias("revenue_share"),
        *(pl.col(f"{kind}_{c}").cast(pl.Float64) for c in _RFM for kind in ("median", "mean")),
        pl.when(pl.col("buyers") > 0)
        .then(pl.col("repeaters").cast(pl.Float64) / pl.col("buyers").cast(pl.Float64))
        .otherwise(None)
        .alias("repurchase_rate"),
    ).with_columns(
        *(
            pl.Series(c, [modes.get(c, {}).get(s) for s in segments], dtype=pl.String)
            for c in _MODES
        ),
        pl.Series(
            "distinguishing",
            [_describe(effects[s], n_top, min_d) for s in segments],
            dtype=pl.String,
        ),
    )
    last = pl.when(pl.col(by) == UNLABELLED).then(1).otherwise(0)
    table = table.sort([last, pl.col("customers"), pl.col(by)], descending=[False, True, False])
    return engine.small_native(table, features)
