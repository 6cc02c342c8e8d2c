"""Customer tags: many true/false labels per customer (``RuleSet(mode="all")``).

A tag set is an ordinary :class:`~retailcrm.rules.RuleSet` in mode ``"all"`` over the feature
table. :func:`customer_tags` adds two things a plain rule set cannot express:

* **tag families** — a rule id with a ``{column}`` placeholder, such as
  ``"prefers:{top_category}"``, becomes one tag per distinct value of that column
  (``prefers:beauty``, ``prefers:home``, …), each matching the rows with that value where the
  rule's condition holds;
* **fitted cuts** — a condition may name a column ``p<percent>_<column>`` (``p90_monetary``)
  that the frame lacks; it is the ``percent``-th percentile of ``<column>`` over the rows where
  it is present, computed in the engine, so "big spender" means "in the top 10% by spend" of
  the population being tagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import day_number
from retailcrm._engine import collect_polars, lazy_frame, lazy_frame_reading, unique_name
from retailcrm._params import check_int, check_number, parameter_error
from retailcrm.data._prepare import prepare_transactions
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.rules import Rule, RuleSet

__all__ = ["BUILTIN_TAGS", "builtin_tags", "customer_tags"]

#: The column the new-product tag reads; :func:`customer_tags` computes it from ``tx`` and
#: ``product_launches`` when they are given.
NEW_PRODUCT_COLUMN = "tried_new_product"

_TEMPLATE = re.compile(r"\{([^{}]+)\}")
_CUT = re.compile(r"^p(\d+(?:\.\d+)?)_(.+)$")
_SEPARATOR = "\x1f"  # joins labels before splitting them into the list column

_ZH = {
    "high_frequency": "高频购买",
    "price_sensitive": "价格敏感",
    "prefers:{top_category}": "偏好品类:{top_category}",
    "channel:{top_channel}": "偏好渠道:{top_channel}",
    "omnichannel": "全渠道",
    "big_spender": "高消费",
    "one_time": "仅购一次",
    "new_product_tryer": "尝鲜新品",
    "browses_not_buying": "只看不买",
}


def _percent_text(quantile: float) -> str:
    """``0.9`` -> ``"90"``, ``0.975`` -> ``"97.5"`` (the ``p<percent>_`` of a fitted cut)."""
    return f"{round(quantile * 100, 6):g}"


def builtin_tags(
    *,
    high_frequency_orders: int = 6,
    price_sensitive_share: float = 0.2,
    prefers_share: float = 0.5,
    channel_share: float = 0.8,
    omnichannel_channels: int = 2,
    big_spender_quantile: float = 0.9,
) -> RuleSet:
    """The built-in tags with your thresholds, as a ``RuleSet(mode="all")``.

    Parameters
    ----------
    high_frequency_orders : int
        ``high_frequency``: at least this many orders in the last 365 days (``orders_365d``).
    price_sensitive_share : float
        ``price_sensitive``: ``discount_rate`` (discount over list price of the customer's
        purchases) at least this share, in (0, 1].
    prefers_share : float
        ``prefers:<category>``: the top category holds at least this share of spend
        (``top_category_share``), in (0, 1].
    channel_share : float
        ``channel:<channel>``: the top channel holds at least this share of spend
        (``top_channel_share``), in (0, 1].
    omnichannel_channels : int
        ``omnichannel``: bought in at least this many channels (``n_channels``), 2 or more.
    big_spender_quantile : float
        ``big_spender``: ``monetary`` at or above this quantile of the customers' spend, in
        (0, 1); fitted on the population being tagged (see :func:`customer_tags`).

    Returns
    -------
    RuleSet
        Mode ``"all"``, in this order (ids; the English label is the id):

        ======================== ===================================================================
        ``high_frequency``       ``orders_365d >= high_frequency_orders``
        ``price_sensitive``      ``discount_rate >= price_sensitive_share``
        ``prefers:{top_category}`` one tag per top category: ``top_category_share >= prefers_share``
        ``channel:{top_channel}`` one tag per top channel: ``top_channel_share >= channel_share``
        ``omnichannel``          ``n_channels >= omnichannel_channels``
        ``big_spender``          ``monetary >= p90_monetary`` (the fitted percentile)
        ``one_time``             ``frequency == 1``
        ``new_product_tryer``    ``tried_new_product`` (bought a product soon after its launch)
        ``browses_not_buying``   ``viewed_not_bought_3d or (views_30d > 0 and orders_30d == 0)``
        ======================== ===================================================================

        with Simplified Chinese labels in ``translations["zh"]`` (``.relabel("zh")``).

    Examples
    --------
    >>> from retailcrm.segmentation import builtin_tags
    >>> tags = builtin_tags(high_frequency_orders=4, big_spender_quantile=0.95)
    >>> tags.rules[0].when
    'orders_365d >= 4'
    >>> tags.rules[5].when
    'monetary >= p95_monetary'
    >>> tags.relabel("zh").rules[-1].label
    '只看不买'
    """
    owner = "builtin_tags"
    hf = check_int(high_frequency_orders, name="high_frequency_orders", owner=owner, low=1)
    shares = {
        name: check_number(value, name=name, owner=owner, low=0, high=1, low_open=True)
        for name, value in (
            ("price_sensitive_share", price_sensitive_share),
            ("prefers_share", prefers_share),
            ("channel_share", channel_share),
        )
    }
    omni = check_int(omnichannel_channels, name="omnichannel_channels", owner=owner, low=2)
    q = check_number(
        big_spender_quantile,
        name="big_spender_quantile",
        owner=owner,
        low=0,
        high=1,
        low_open=True,
        high_open=True,
    )
    cut = f"p{_percent_text(q)}_monetary"
    cut_ref = cut if cut.isidentifier() else f"col({cut!r})"
    rules = [
        Rule(
            "high_frequency",
            f"orders_365d >= {hf}",
            description="Bought often: orders in the last 365 days.",
        ),
        Rule(
            "price_sensitive",
            f"discount_rate >= {shares['price_sensitive_share']:g}",
            description="A large share of the list price of purchases was discounted.",
        ),
        Rule(
            "prefers:{top_category}",
            f"top_category_share >= {shares['prefers_share']:g}",
            description="One category holds most of the spend: one tag per category.",
        ),
        Rule(
            "channel:{top_channel}",
            f"top_channel_share >= {shares['channel_share']:g}",
            description="One channel holds most of the spend: one tag per channel.",
        ),
        Rule(
            "omnichannel",
            f"n_channels >= {omni}",
            description="Bought through several channels.",
        ),
        Rule(
            "big_spender",
            f"monetary >= {cut_ref}",
            description="Spend in the top share of the customers being tagged.",
        ),
        Rule("one_time", "frequency == 1", description="Exactly one purchase so far."),
        Rule(
            "new_product_tryer",
            NEW_PRODUCT_COLUMN,
            description="Bought a product soon after its launch.",
        ),
        Rule(
            "browses_not_buying",
            "viewed_not_bought_3d or (views_30d > 0 and orders_30d == 0)",
            description="Browsed recently without buying.",
        ),
    ]
    return RuleSet(rules, mode="all", translations={"zh": dict(_ZH)})


#: The built-in tags with their default thresholds (see :func:`builtin_tags`).
BUILTIN_TAGS: RuleSet = builtin_tags()


# -- helpers ---------------------------------------------------------------------------------
def _empty_list() -> nw.Expr:
    """An empty list of text, the tags of a customer without any."""
    empty: Any = []  # narwhals' lit accepts a list at run time; its hints do not say so
    return nw.lit(empty, dtype=nw.List(nw.String))


def _as_rule_set(tags: Any) -> RuleSet:
    if tags is None:
        return BUILTIN_TAGS
    if isinstance(tags, RuleSet):
        if tags.mode != "all":
            raise parameter_error(
                "tags",
                "customer_tags",
                "a RuleSet with mode='all' or a list of Rules",
                tags.mode,
                "build it with RuleSet(rules, mode='all'): every rule is its own tag.",
                shown=f"a RuleSet with mode={tags.mode!r}",
            )
        return tags
    if isinstance(tags, Rule):
        return RuleSet([tags], mode="all")
    is_list = isinstance(tags, Sequence) and not isinstance(tags, str | bytes)
    if is_list and tags and all(isinstance(t, Rule) for t in tags):
        return RuleSet(list(tags), mode="all")
    raise parameter_error(
        "tags",
        "customer_tags",
        "None (the built-in tags), a RuleSet with mode='all' or a non-empty list of Rules",
        tags,
        shown=type(tags).__name__,
    )


def _template_column(rule: Rule) -> str | None:
    found = _TEMPLATE.findall(rule.id)
    if len(found) > 1:
        raise ConfigError(
            f"Tag {rule.id!r}: a tag family takes one {{column}} placeholder, found "
            f"{len(found)}. Fix: keep one, e.g. 'prefers:{{top_category}}'."
        )
    return found[0] if found else None


def _needed_columns(rule: Rule) -> list[str]:
    column = _template_column(rule)
    return [*rule.columns, *([column] if column else [])]


def _resolve_cuts(lf: nw.LazyFrame[Any], rules: Sequence[Rule]) -> nw.LazyFrame[Any]:
    """Add every fitted-cut column (``p90_monetary``) the rules name and the frame lacks."""
    schema = lf.collect_schema()
    wanted: dict[str, tuple[str, float]] = {}
    for rule in rules:
        for name in rule.columns:
            match = _CUT.match(name)
            if name in schema or match is None or match.group(2) not in schema:
                continue
            percent = float(match.group(1))
            if not 0 < percent < 100:
                raise ConfigError(
                    f"Tag {rule.id!r}: the fitted cut {name!r} needs a percent strictly between "
                    "0 and 100. Fix: e.g. p90_monetary."
                )
            if not schema[match.group(2)].is_numeric():
                raise ConfigError(
                    f"Tag {rule.id!r}: the fitted cut {name!r} needs a numeric column; "
                    f"{match.group(2)!r} is {schema[match.group(2)]}."
                )
            wanted[name] = (match.group(2), percent / 100)
    if not wanted:
        return lf
    row = lf.select(
        nw.col(column).cast(nw.Float64).quantile(q, interpolation="linear").alias(name)
        for name, (column, q) in wanted.items()
    ).pipe(collect_polars)
    return lf.with_columns(
        nw.lit(row.item(0, name), dtype=nw.Float64).alias(name) for name in wanted
    )


def _available(rule: Rule, schema: Any) -> bool:
    for name in _needed_columns(rule):
        match = _CUT.match(name)
        if name not in schema and not (match and match.group(2) in schema):
            return False
    return True


def _expand(rule: Rule, lf: nw.LazyFrame[Any]) -> list[Rule]:
    """A tag family as one rule per distinct value of its column (sorted); others as they are."""
    column = _template_column(rule)
    if column is None:
        return [rule]
    schema = lf.collect_schema()
    if column not in schema:
        raise MissingColumnsError(
            [column],
            available=list(schema),
            role=f"customer_tags (tag family {rule.id!r})",
            fix="compute it (e.g. customer_features with a category/channel column) or "
            "rename the placeholder.",
        )
    dtype = schema[column]
    if not (dtype == nw.String or dtype.is_integer() or dtype == nw.Categorical):
        raise ConfigError(
            f"Tag family {rule.id!r}: the column {column!r} must hold text or whole numbers "
            f"to name tags; it is {dtype}."
        )
    values_frame = lf.select(nw.col(column)).drop_nulls().unique().pipe(collect_polars)
    values = sorted(values_frame.get_column(column).to_list())
    placeholder = "{" + column + "}"
    out = []
    for value in values:
        literal = repr(str(value)) if not isinstance(value, int) else repr(value)
        ref = column if column.isidentifier() else f"col({column!r})"
        out.append(
            Rule(
                rule.id.replace(placeholder, str(value)),
                f"{ref} == {literal} and ({rule.when})",
                label=None if rule.label is None else rule.label.replace(placeholder, str(value)),
                description=rule.description,
            )
        )
    return out


def _new_product_flags(
    tx: Any,
    launches: Any,
    *,
    as_of: Any,
    days: int,
    schema: Any,
    key: str,
) -> nw.LazyFrame[Any]:
    """Per customer with a qualifying line: ``key`` and ``tried_new_product = True``."""
    if as_of is None:
        raise ConfigError(
            "customer_tags: as_of is required with tx (the date the features are as of). "
            "Fix: pass as_of='2024-12-31'."
        )
    prepared = prepare_transactions(tx, schema=schema, as_of=as_of, duplicates="keep")
    if not prepared.has("product_id"):
        raise MissingColumnsError(
            ["product_id"],
            available=list(prepared.source_columns),
            role="customer_tags (tx)",
            fix="map the product column with TransactionSchema(product_id=...).",
        )
    lf_launch, _ = lazy_frame(launches, name="product_launches")
    have = lf_launch.collect_schema()
    missing = [c for c in ("product_id", "launched_at") if c not in have]
    if missing:
        raise MissingColumnsError(
            missing,
            available=list(have),
            role="product_launches",
            fix="pass one row per product with columns product_id and launched_at.",
        )
    taken = [*prepared.frame.collect_schema(), *have]
    launch_day = unique_name("launch_day", taken)
    day = unique_name("day", taken)
    first = (
        lf_launch.select(nw.col("product_id"), day_number(nw.col("launched_at")).alias(launch_day))
        .drop_nulls()
        .group_by("product_id")
        .agg(nw.col(launch_day).min())
    )
    lines = prepared.frame.filter(nw.col("amount") > 0).select(
        nw.col("customer_id"),
        nw.col("product_id"),
        day_number(nw.col("date"), prepared.frame.implementation).alias(day),
    )
    age = nw.col(day) - nw.col(launch_day)
    return (
        lines.join(first, on="product_id", how="inner")
        .filter((age >= 0) & (age < days))
        .select(nw.col("customer_id").alias(key))
        .unique()
        .with_columns(nw.lit(True).alias(NEW_PRODUCT_COLUMN))
    )


def customer_tags(
    features: Any,
    tags: RuleSet | Sequence[Rule] | Rule | None = None,
    *,
    as_of: Any = None,
    tx: Any = None,
    product_launches: Any = None,
    new_product_days: int = 30,
    schema: Any = None,
    key: str = "customer_id",
    list_column: str = "tags",
    skip_unavailable: bool | None = None,
) -> Any:
    """Tag every customer: one true/false column per tag and a list of the tags that apply.

    Parameters
    ----------
    features : dataframe
        The customer feature table (:func:`~retailcrm.features.customer_features`), or any
        frame with one row per ``key``; any supported engine.
    tags : RuleSet, list of Rule or Rule, optional
        Your tags: a ``RuleSet(mode="all")`` or rules (each rule is a tag named by its id).
        ``None`` (default): :data:`BUILTIN_TAGS`; :func:`builtin_tags` changes thresholds, and
        ``BUILTIN_TAGS.relabel("zh")`` gives Chinese labels in the list column.
    as_of : date, datetime or ISO string, optional
        The date of the feature table: for rules that use ``days_since``/``days_until``, and
        required with ``tx``.
    tx, product_launches : dataframe, optional
        Together: transaction lines (mapped by ``schema``, with a product column) and one row
        per product with ``product_id`` and ``launched_at``, of the same engine. They give the
        column ``tried_new_product``: a purchase line (positive amount) on or before ``as_of``
        of a product within ``new_product_days`` days of its launch (launch day = day 0).
        Without them, a ``tried_new_product`` column of ``features`` is used if there is one.
    new_product_days : int
        The window after a launch that counts as "new" (default 30 days).
    schema : TransactionSchema, optional
        Column mapping for ``tx``.
    key : str
        The customer key of ``features``.
    list_column : str
        Name of the list column.
    skip_unavailable : bool, optional
        Leave out tags whose columns the table lacks (a feature table built without events has
        no browsing columns, one without a discount column no ``discount_rate``) instead of
        raising. Default (``None``): skip the built-in tags (rules with a built-in id, as made
        by :func:`builtin_tags`, relabelled or not) and raise for your own (a typo in a column
        name is then an error).

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per row of ``features``, sorted by ``key``: ``key``,
        one boolean column per tag (named by tag id, in rule order; a family gives one column
        per value, values sorted) and ``list_column``, the labels of the tags that apply, in
        the same order (an empty list when none).

    Raises
    ------
    ConfigError
        ``tags`` is not a tag set, a tag family has two placeholders, ``as_of`` missing with
        ``tx``, a clash between ``list_column``, ``key`` and tag ids.
    MissingColumnsError
        ``key`` or a column a tag needs is missing (and not skipped), or ``product_launches``
        lacks ``product_id``/``launched_at``.
    RuleSyntaxError
        A tag's condition does not fit the table's columns.

    Notes
    -----
    A tag whose condition is missing for a customer (e.g. ``monetary`` of a customer without
    purchases) does not apply (the rule set's ``on_null="false"``). Fitted cuts
    (``p<percent>_<column>``) are linear-interpolated percentiles over the non-missing values,
    computed exactly by every engine; they are one aggregation pass. Tag families collect the
    distinct values of their column (a small result) to name the tags, so the set of columns
    depends on the data: tag the population you will compare as one call.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import BUILTIN_TAGS, customer_tags
    >>> features = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4],
    ...         "frequency": [1, 9, 3, 0],
    ...         "orders_365d": [1, 7, 2, 0],
    ...         "monetary": [40.0, 900.0, 120.0, None],
    ...         "top_category": ["toys", "beauty", "beauty", None],
    ...         "top_category_share": [1.0, 0.7, 0.4, None],
    ...     }
    ... )
    >>> out = customer_tags(features)
    >>> out.columns.tolist()
    ['customer_id', 'high_frequency', 'prefers:beauty', 'prefers:toys', 'big_spender', 'one_time', 'tags']
    >>> [list(tags) for tags in out["tags"]]
    [['prefers:toys', 'one_time'], ['high_frequency', 'prefers:beauty', 'big_spender'], [], []]
    >>> zh = customer_tags(features, BUILTIN_TAGS.relabel("zh"))
    >>> list(zh["tags"][1])
    ['高频购买', '偏好品类:beauty', '高消费']
    """
    owner = "customer_tags"
    rule_set = _as_rule_set(tags)
    for name, value in (("key", key), ("list_column", list_column)):
        if not (isinstance(value, str) and value):
            raise parameter_error(name, owner, "a non-empty string", value)
    skip = skip_unavailable
    if skip is not None and not isinstance(skip, bool):
        raise parameter_error("skip_unavailable", owner, "True, False or None", skip)
    days = check_int(new_product_days, name="new_product_days", owner=owner, low=1)
    if (tx is None) != (product_launches is None):
        raise ConfigError(
            "customer_tags: tx and product_launches go together (the new-product tag needs "
            "both). Fix: pass both, or neither."
        )
    # the columns the tags read (and a fitted cut's column); a tag that cannot be computed is
    # reported against every column
    wanted = [key, NEW_PRODUCT_COLUMN]
    for rule in rule_set.rules:
        for name in _needed_columns(rule):
            match = _CUT.match(name)
            wanted += [name, *([match.group(2)] if match else [])]
    builtin_ids = {r.id for r in BUILTIN_TAGS.rules}

    def skipped(rule: Rule) -> bool:  # a tag left out when its columns are missing
        return bool(skip) if skip_unavailable is not None else rule.id in builtin_ids

    lf, engine = lazy_frame_reading(
        features,
        wanted,
        complete=lambda schema: (
            key in schema and all(_available(r, schema) or skipped(r) for r in rule_set.rules)
        ),
    )
    schema_now = lf.collect_schema()
    if key not in schema_now:
        raise MissingColumnsError(
            [key], available=list(schema_now), role=owner, fix="pass key= naming the customer key."
        )
    if tx is not None:
        if NEW_PRODUCT_COLUMN in schema_now:
            raise ConfigError(
                f"customer_tags: features already has a {NEW_PRODUCT_COLUMN!r} column and tx/"
                "product_launches were given to compute it. Fix: pass one or the other."
            )
        flags = _new_product_flags(
            tx, product_launches, as_of=as_of, days=days, schema=schema, key=key
        )
        lf = lf.join(flags, on=key, how="left").with_columns(
            nw.col(NEW_PRODUCT_COLUMN).fill_null(False)
        )
        schema_now = lf.collect_schema()
    rules = [r for r in rule_set.rules if _available(r, schema_now) or not skipped(r)]
    expanded = [e for r in rules for e in _expand(r, lf)]
    lf = _resolve_cuts(lf, expanded)
    clashes = sorted({list_column, key} & {r.id for r in expanded})
    if list_column == key:
        clashes = [key]
    if clashes:
        raise ConfigError(
            f"customer_tags: output column names clash: {clashes} (key={key!r}, "
            f"list_column={list_column!r}). Fix: choose another list_column or rename the tag."
        )
    labels = [r.effective_label for r in expanded]
    bad = [lab for lab in labels if _SEPARATOR in lab]
    if bad:
        raise ConfigError(f"customer_tags: tag labels must not contain '\\x1f': {bad}.")
    if not expanded:
        out = lf.select(nw.col(key)).with_columns(_empty_list().alias(list_column)).sort(key)
        return engine.to_native(out)
    evaluated = attrs.evolve(rule_set, rules=expanded, translations={}).evaluate(
        lf, as_of=as_of, key=key
    )
    tagged = nw.from_native(evaluated)
    assert isinstance(tagged, nw.LazyFrame)
    joined = unique_name("joined", [key, *(r.id for r in expanded)])
    parts = [
        nw.when(nw.col(r.id)).then(nw.lit(lab)) for r, lab in zip(expanded, labels, strict=True)
    ]
    any_tag = nw.any_horizontal(*(nw.col(r.id) for r in expanded), ignore_nulls=True)
    out = (
        tagged.with_columns(
            nw.concat_str(parts, separator=_SEPARATOR, ignore_nulls=True).alias(joined)
        )
        .with_columns(
            nw.when(any_tag)
            .then(nw.col(joined).str.split(_SEPARATOR))
            .otherwise(_empty_list())
            .alias(list_column)
        )
        .drop(joined)
        .sort(key)
    )
    return engine.to_native(out)
