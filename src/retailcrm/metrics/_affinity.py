"""Cross-selling: which categories are bought together (association rules of size 2 and 3)."""

from __future__ import annotations

from typing import Any, Literal

import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._dates import day_number
from retailcrm._engine import Engine, collect_polars, lazy_frame, missing_columns_error
from retailcrm._params import check_choice, check_int, check_number
from retailcrm.data import TransactionSchema
from retailcrm.data._prepare import Duplicates
from retailcrm.metrics._retention import labels_frame, prepared_lines

__all__ = ["category_affinity"]

Basket = Literal["customer", "order"]
_SEP = " + "


def category_affinity(
    tx: Any,
    *,
    as_of: Any = None,
    level: Literal["category", "product_id"] = "category",
    min_support: float = 0.01,
    max_size: int = 2,
    basket: Basket = "customer",
    labels: Any = None,
    by: str | None = None,
    schema: TransactionSchema | None = None,
    duplicates: Duplicates | None = None,
) -> Any:
    """Category affinity: support, confidence and lift of "bought A, also bought B" rules.

    Parameters
    ----------
    tx : dataframe
        Transaction lines of any supported engine, with a ``category`` (or ``product_id``)
        column.
    as_of : date, datetime or ISO string, optional
        Lines after it are ignored; ``None`` (the default) uses every line — there is no
        hidden "today".
    level : {"category", "product_id"}
        The item whose co-occurrence is measured.
    min_support : float
        Itemsets in fewer than this share of baskets are left out (and so are rules built on
        them): items, pairs and triples are pruned in the engine, Apriori-style.
    max_size : {2, 3}
        2: pairs (``A -> B``); 3: also triples (``A + B -> C``).
    basket : {"customer", "order"}
        What counts as "bought together": everything a customer bought up to ``as_of`` (the
        usual CRM reading, "customers who buy hair care also buy home fragrance"), or one
        order (a customer-day where there is no order id).
    labels : dataframe, optional
        One row per customer, ``customer_id`` and a segment column: rules are computed within
        each segment (support relative to the segment's baskets). Customers without a label
        form the missing-label segment.
    by : str, optional
        The segment column of ``labels`` (``None``: its one column besides ``customer_id``).
    schema, duplicates
        As for :func:`~retailcrm.customer_features`.

    Returns
    -------
    dataframe
        Small, of the caller's kind: (the segment column,) ``antecedent`` (an item, or
        two joined by ``" + "`` in name order), ``consequent``, ``size`` (items in the rule),
        ``baskets`` (baskets holding all of them), ``support`` (their share of baskets),
        ``confidence`` (``baskets`` over baskets holding the antecedent) and ``lift``
        (confidence over the consequent's support). Both directions of a pair are rows.
        Sorted by segment, size, confidence (highest first), lift, then names.

    Notes
    -----
    Association rules of Agrawal, Imieliński & Swami (1993): support(A→B) = P(A and B),
    confidence = P(B | A), lift = P(A and B) / (P(A) P(B)); a lift above 1 means A's buyers
    buy B more often than baskets in general. A basket is the set of distinct items of its
    purchase lines (positive amounts); lines with a missing item are ignored. The engine
    self-joins the distinct (basket, item) pairs and counts; only the counts of frequent
    itemsets leave it.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.metrics import category_affinity
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b", "c", "d"],
    ...     "timestamp": pd.to_datetime(["2024-01-05"] * 6),
    ...     "amount": [10.0, 20.0, 15.0, 30.0, 25.0, 5.0],
    ...     "category": ["hair", "home", "hair", "home", "hair", "toys"],
    ... })
    >>> category_affinity(tx, as_of="2024-12-31", min_support=0.25)
      antecedent consequent  size  baskets  support  confidence      lift
    0       home       hair     2        2      0.5    1.000000  1.333333
    1       hair       home     2        2      0.5    0.666667  1.333333
    """
    owner = "category_affinity"
    level = check_choice(
        level, ("category", "product_id"), name="level", owner=owner,
        fix="'category' or 'product_id'.",
    )  # fmt: skip
    support = check_number(
        min_support, name="min_support", owner=owner, low=0.0, high=1.0, low_open=True,
        fix="a share of baskets, e.g. min_support=0.01.",
    )  # fmt: skip
    size = check_int(max_size, name="max_size", owner=owner, low=2, high=3, fix="2 or 3.")
    basket = check_choice(
        basket, ("customer", "order"), name="basket", owner=owner,
        fix="'customer' (all of a customer's purchases) or 'order'.",
    )  # fmt: skip
    prepared = prepared_lines(
        tx, cut=as_of, schema=schema, returns="net", duplicates=duplicates, owner=owner,
        reads=("order_id", level),
    )  # fmt: skip
    if not prepared.has(level):
        column = getattr(prepared.schema, level) or level
        raise missing_columns_error(
            {level: column}, prepared.source_columns, table="tx", schema="TransactionSchema"
        )
    lines = prepared.frame.filter((nw.col("amount_minor") > 0) & ~nw.col(level).is_null())
    group: list[str] = []
    impl = lines.implementation
    if labels is not None:
        frame, key = labels_frame(labels, by, prepared, owner)
        lines = lines.join(frame, on="customer_id", how="left")
        group = [key]
    if basket == "customer":
        bkey = [nw.col("customer_id")]
    elif prepared.has("order_id"):
        # a customer-day for lines without an order id; never null, so joins match
        day = (
            nw.when(nw.col("order_id").is_null())
            .then(day_number(nw.col("date"), impl))
            .otherwise(nw.lit(-(10**9), nw.Int64))
        )
        order = nw.col("order_id").cast(nw.String).fill_null("")
        bkey = [nw.col("customer_id"), order.alias("order_id"), day.alias("__day")]
    else:
        bkey = [nw.col("customer_id"), day_number(nw.col("date"), impl).alias("__day")]
    keyed = lines.select(*group, *bkey, nw.col(level).alias("item"))
    basket_cols = [c for c in keyed.collect_schema().names() if c not in (*group, "item")]
    engine = prepared.engine
    items = keyed.unique()
    if not engine.is_lazy:  # eager callers: the distinct (basket, item) pairs once, in memory
        items = items.pipe(collect_polars).lazy()
    counts = _counts(items, group, basket_cols, support, size, engine, tx)
    return engine.small_native(_rules(counts, group, size), like=tx)


def _collect(frame: nw.LazyFrame[Any], engine: Engine) -> pl.DataFrame:
    out: pl.DataFrame = engine.collect_small(frame).to_native()
    return out


def _in_engine(table: pl.DataFrame, engine: Engine, like: Any) -> nw.LazyFrame[Any]:
    """A small polars table as a LazyFrame that joins with the caller's engine."""
    if engine.is_lazy:
        return lazy_frame(engine.small_native(table, like=like), name="tx")[0]
    return nw.from_native(table.lazy())


def _counts(
    items: nw.LazyFrame[Any],
    group: list[str],
    basket_cols: list[str],
    support: float,
    size: int,
    engine: Engine,
    like: Any,
) -> dict[str, pl.DataFrame]:
    """Basket counts of the frequent itemsets (small, collected): ``totals`` (baskets per
    segment), ``singles`` (``item``, ``n``), ``pairs`` (``a < b``, ``n``) and ``triples``.

    The engine does the self-joins on the basket keys (a segment is a function of the basket's
    customer, so segments are never join keys: a missing label joins too); pruning by support
    happens on the small counts, and frequent items (pairs) restrict the next level."""
    if group:
        totals = _collect(
            items.select(*group, *basket_cols)
            .unique()
            .group_by(*group)
            .agg(nw.len().cast(nw.Int64).alias("n_baskets")),
            engine,
        )
    else:
        totals = _collect(
            items.select(*basket_cols).unique().select(nw.len().cast(nw.Int64).alias("n_baskets")),
            engine,
        )
    totals = totals.with_columns(pl.col("n_baskets").cast(pl.Int64))

    def frequent(frame: pl.DataFrame) -> pl.DataFrame:
        joined = (
            frame.join(totals, on=group, how="inner", nulls_equal=True)
            if group
            else frame.join(totals, how="cross")
        )
        kept = joined.filter(pl.col("n") >= pl.col("n_baskets").cast(pl.Float64) * support)
        return kept.drop("n_baskets").with_columns(pl.col("n").cast(pl.Int64))

    count = nw.len().cast(nw.Int64).alias("n")
    singles = frequent(_collect(items.group_by(*group, "item").agg(count), engine))
    out = {"totals": totals, "singles": singles}
    empty = pl.DataFrame(schema={**dict.fromkeys(group, pl.String), "n": pl.Int64})
    if singles.height == 0:
        out["pairs"] = out["triples"] = empty
        return out
    kept = items.filter(nw.col("item").is_in(singles.get_column("item").unique().to_list()))
    left = kept.rename({"item": "a"})
    right = kept.select(*basket_cols, nw.col("item").alias("b"))
    pair_lines = left.join(right, on=basket_cols, how="inner").filter(nw.col("a") < nw.col("b"))
    pairs = frequent(_collect(pair_lines.group_by(*group, "a", "b").agg(count), engine))
    out["pairs"] = pairs
    if size < 3 or pairs.height == 0:
        out["triples"] = empty
        return out
    known = _in_engine(pairs.select("a", "b").unique(), engine, like)
    third = kept.select(*basket_cols, nw.col("item").alias("c"))
    triple_lines = (
        pair_lines.join(known, on=["a", "b"], how="inner")
        .join(third, on=basket_cols, how="inner")
        .filter(nw.col("b") < nw.col("c"))
    )
    out["triples"] = frequent(
        _collect(triple_lines.group_by(*group, "a", "b", "c").agg(count), engine)
    )
    return out


def _rules(counts: dict[str, pl.DataFrame], group: list[str], size: int) -> pl.DataFrame:
    """Rules with support, confidence and lift from the frequent itemsets' counts."""
    totals, singles = counts["totals"], counts["singles"]

    def join(frame: pl.DataFrame, other: pl.DataFrame, on: list[str]) -> pl.DataFrame:
        if not on:
            return frame.join(other, how="cross")
        return frame.join(other, on=on, how="inner", nulls_equal=True)

    def one(name: str) -> pl.DataFrame:
        return singles.select(*group, pl.col("item").alias(name), pl.col("n").alias(f"n_{name}"))

    def text(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.String)

    parts = []
    pairs = counts["pairs"]
    if pairs.height:
        stats = join(
            join(join(pairs, one("a"), [*group, "a"]), one("b"), [*group, "b"]), totals, group
        )
        for x, y in (("a", "b"), ("b", "a")):
            parts.append(_rule_rows(stats, group, text(x), f"n_{x}", text(y), f"n_{y}", 2))
    triples = counts["triples"]
    if size == 3 and triples.height:
        pairs_n = pairs.select(*group, "a", "b", pl.col("n").alias("n_xy"))
        for x, y, z in (("a", "b", "c"), ("a", "c", "b"), ("b", "c", "a")):
            stats = join(
                join(
                    join(triples, pairs_n.rename({"a": x, "b": y}), [*group, x, y]),
                    one(z),
                    [*group, z],
                ),
                totals,
                group,
            )
            ante = pl.concat_str([text(x), pl.lit(_SEP), text(y)])
            parts.append(_rule_rows(stats, group, ante, "n_xy", text(z), f"n_{z}", 3))
    schema = {
        **{g: totals.schema.get(g, pl.String) for g in group},
        "antecedent": pl.String,
        "consequent": pl.String,
        "size": pl.Int64,
        "baskets": pl.Int64,
        "support": pl.Float64,
        "confidence": pl.Float64,
        "lift": pl.Float64,
    }
    if not parts:
        return pl.DataFrame(schema=schema)
    result = pl.concat(parts, how="vertical")
    sort_by = [*group, "size", "confidence", "lift", "antecedent", "consequent"]
    desc = [False] * len(group) + [False, True, True, False, False]
    return result.sort(sort_by, descending=desc, nulls_last=True)


def _rule_rows(
    stats: pl.DataFrame,
    group: list[str],
    ante: pl.Expr,
    n_ante: str,
    cons: pl.Expr,
    n_cons: str,
    size: int,
) -> pl.DataFrame:
    """Rows ``ante -> cons`` of a frame holding ``n`` (baskets with all), the antecedent's and
    the consequent's counts and ``n_baskets``."""
    total = pl.col("n_baskets").cast(pl.Float64)
    both = pl.col("n").cast(pl.Float64)
    return stats.select(
        *group,
        ante.alias("antecedent"),
        cons.alias("consequent"),
        pl.lit(size, pl.Int64).alias("size"),
        pl.col("n").cast(pl.Int64).alias("baskets"),
        (both / total).alias("support"),
        (both / pl.col(n_ante).cast(pl.Float64)).alias("confidence"),
        (both * total / (pl.col(n_ante).cast(pl.Float64) * pl.col(n_cons).cast(pl.Float64))).alias(
            "lift"
        ),
    )
