"""assign_stages: each customer's lifecycle stage as of a date."""

from __future__ import annotations

from typing import Any

import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, day_number, parse_as_of
from retailcrm._engine import Engine, lazy_frame_reading
from retailcrm.data._tables import same_engine_frame
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.lifecycle._policy import (
    DEFAULT_POLICY,
    PREVIOUS_COLUMNS,
    LifecyclePolicy,
    stage_rules,
)
from retailcrm.rules import RuleSet

__all__ = [
    "STAGE_COLUMNS",
    "as_previous",
    "assign_stages",
    "check_features",
    "feature_columns",
    "previous_frame",
    "stage_table",
]

#: The columns of a stage table, in order.
STAGE_COLUMNS = ("customer_id", "stage", "rule_id", "stage_since", "days_in_stage")


def feature_columns(rules: RuleSet) -> list[str]:
    """The feature-table columns the rules read (the ``previous_*`` columns excluded)."""
    return [c for c in rules.columns if c not in PREVIOUS_COLUMNS]


def assign_stages(
    features: Any,
    *,
    as_of: Any,
    policy: LifecyclePolicy | RuleSet = DEFAULT_POLICY,
    previous: Any = None,
    lang: str | None = None,
) -> Any:
    """Each customer's lifecycle stage as of a date, and the rule that decided it.

    Parameters
    ----------
    features : dataframe
        The customer feature table as of ``as_of`` (:func:`~retailcrm.customer_features`), of
        any supported engine; it needs ``customer_id`` and the columns the rules read
        (default policy: ``frequency``, ``recency_days``, ``tenure_days``,
        ``consecutive_active_months``, ``orders_30d``; the rhythm policy also
        ``mean_interpurchase_days``).
    as_of : date, datetime or ISO string
        The date the features are as of (required: there is no hidden "today").
    policy : LifecyclePolicy or RuleSet
        The stage definitions (see :class:`LifecyclePolicy`), or your own rule set in mode
        ``"first"``; its rules may read the feature columns and ``previous_stage``,
        ``previous_rule_id`` and ``previous_since`` (the previous assessment's stage, rule id
        and ``stage_since``; null without ``previous`` or for customers not in it).
    previous : dataframe, optional
        The stage table of the previous assessment (a result of this function, same engine):
        ``customer_id``, ``stage``, ``rule_id`` and, optionally, ``stage_since``. It makes
        ``reactivated`` possible and carries ``stage_since`` forward.
    lang : str, optional
        A language of the rule set's translations for the labels, e.g. ``"zh"`` (Simplified
        Chinese); rule ids stay the same.

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per row of ``features``, sorted by
        ``customer_id``: ``customer_id``, ``stage`` (the label), ``rule_id`` (the deciding
        rule; ``"default"`` if none matched), ``stage_since`` (date) and ``days_in_stage``.
        With ``previous``: a customer whose stage is unchanged keeps its previous
        ``stage_since`` (null stays null), any other gets ``as_of`` (the first assessment
        that saw the stage) and 0 days. Without ``previous`` both are null: when the stage
        started is unknown.

    Raises
    ------
    MissingColumnsError
        ``features`` lacks a column the rules need (all are listed), or ``previous`` lacks
        ``customer_id``, ``stage`` or ``rule_id``.
    ConfigError
        Bad ``as_of``, ``policy`` or ``lang``; ``features`` already has a ``previous_*``
        column; ``previous`` of another engine.

    See Also
    --------
    stage_history : Stages at many dates from transactions, validated once.
    LifecyclePolicy : The stage definitions and their precedence.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm import customer_features
    >>> from retailcrm.lifecycle import assign_stages
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["ann", "ann", "bob", "cy", "dee", "dee", "dee"],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-06-20", "2024-05-01",
    ...                                  "2023-10-01", "2024-04-11", "2024-05-15",
    ...                                  "2024-06-03"]),
    ...     "amount": [50.0, 20.0, 35.0, 80.0, 12.0, 30.0, 25.0],
    ... })
    >>> f = customer_features(tx, as_of="2024-06-30")
    >>> assign_stages(f, as_of="2024-06-30")
      customer_id   stage  rule_id stage_since  days_in_stage
    0         ann  active   active         NaT            NaN
    1         bob  active   active         NaT            NaN
    2          cy churned  churned         NaT            NaN
    3         dee  mature   mature         NaT            NaN

    A month later, with the stages of June as ``previous`` and labels in Chinese: Cy came
    back.

    >>> june = assign_stages(f, as_of="2024-06-30")
    >>> tx2 = pd.concat([tx, pd.DataFrame({"customer_id": ["cy"],
    ...     "timestamp": pd.to_datetime(["2024-07-20"]), "amount": [40.0]})])
    >>> f2 = customer_features(tx2, as_of="2024-07-31")
    >>> assign_stages(f2, as_of="2024-07-31", previous=june, lang="zh")
      customer_id stage      rule_id stage_since  days_in_stage
    0         ann  活跃客户       active         NaT            NaN
    1         bob  休眠客户      dormant  2024-07-31            0.0
    2          cy  回流客户  reactivated  2024-07-31            0.0
    3         dee  活跃客户       active  2024-07-31            0.0

    Ann stayed ``active`` (since before the first assessment: ``NaT``); Bob has not bought for
    91 days (``dormant``); Dee bought nothing in July, so she is no longer ``mature``.
    """
    asof = parse_as_of(as_of)
    rules = stage_rules(policy, lang, owner="assign_stages")
    needed = ["customer_id", *feature_columns(rules)]
    lf, engine = lazy_frame_reading(
        features,
        [*needed, *PREVIOUS_COLUMNS],
        complete=lambda schema: set(needed) <= set(schema.names()),
    )
    check_features(lf, needed, rules)
    prev = None
    if previous is not None:
        prev = previous_frame(previous, engine)
    out = stage_table(lf.select(*dict.fromkeys(needed)), prev, rules, asof)
    return engine.to_native(out)


def check_features(lf: nw.LazyFrame[Any], needed: list[str], rules: RuleSet) -> None:
    """Every column the rules need is present; no ``previous_*`` column is."""
    names = list(lf.collect_schema().names())
    missing = [c for c in dict.fromkeys(needed) if c not in names]
    if missing:
        windows = [c for c in missing if c.startswith("orders_") and c.endswith("d")]
        fix = (
            f"compute the feature table with a window for {windows} (customer_features("
            "..., windows=...)) or change the policy's growing_window_days."
            if windows
            else "compute the table with retailcrm.customer_features, or change the rules."
        )
        raise MissingColumnsError(missing, available=names, role="features", fix=fix)
    clash = [c for c in PREVIOUS_COLUMNS if c in names]
    if clash:
        raise ConfigError(
            f"features: column(s) {clash} are reserved for the previous assessment's stages. "
            "Fix: rename or drop them."
        )


def previous_frame(previous: Any, engine: Engine) -> nw.LazyFrame[Any]:
    """The previous stage table as ``customer_id, previous_stage, previous_rule_id,
    previous_since`` joinable with data of ``engine``."""
    lf = same_engine_frame(previous, engine, "previous")
    names = list(lf.collect_schema().names())
    missing = [c for c in ("customer_id", "stage", "rule_id") if c not in names]
    if missing:
        raise MissingColumnsError(
            missing,
            available=names,
            role="previous",
            fix="pass the result of assign_stages (or stage_history at one date) as previous.",
        )
    return as_previous(lf)


def as_previous(stages: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """A stage table renamed to the ``previous_*`` columns the next assessment reads."""
    since = nw.lit(None, nw.Date)
    if "stage_since" in stages.collect_schema().names():
        since = nw.col("stage_since")
        if stages.collect_schema()["stage_since"] != nw.Date:
            since = since.cast(nw.Date)
    return stages.select(
        nw.col("customer_id"),
        nw.col("stage").cast(nw.String).alias("previous_stage"),
        nw.col("rule_id").cast(nw.String).alias("previous_rule_id"),
        since.alias("previous_since"),
    )


def stage_table(
    features: nw.LazyFrame[Any],
    previous: nw.LazyFrame[Any] | None,
    rules: RuleSet,
    asof: AsOf,
) -> nw.LazyFrame[Any]:
    """The core of :func:`assign_stages`: checked features (``customer_id`` and the rule
    columns) and the previous stage table (as made by :func:`previous_frame`) in, the stage
    table (:data:`STAGE_COLUMNS`, sorted by ``customer_id``) out."""
    if previous is None:
        lf = features.with_columns(
            nw.lit(None, nw.String).alias("previous_stage"),
            nw.lit(None, nw.String).alias("previous_rule_id"),
            nw.lit(None, nw.Date).alias("previous_since"),
        )
    else:
        key_type = features.collect_schema()["customer_id"]
        if previous.collect_schema()["customer_id"] != key_type:
            previous = previous.with_columns(nw.col("customer_id").cast(key_type))
        lf = features.join(previous, on="customer_id", how="left")
    staged = nw.from_native(
        rules.evaluate(lf.to_native(), as_of=asof.date, label_column="stage"), allow_series=None
    )
    if previous is None:
        return staged.with_columns(
            nw.lit(None, nw.Date).alias("stage_since"),
            nw.lit(None, nw.Int64).alias("days_in_stage"),
        ).select(*STAGE_COLUMNS)
    # the same label, or the same deciding rule (the same stage in another language)
    kept = (nw.col("previous_stage") == nw.col("stage")) | (
        nw.col("previous_rule_id") == nw.col("rule_id")
    )
    since = (
        nw.when(kept.fill_null(False))
        .then(nw.col("previous_since"))
        .otherwise(nw.lit(asof.date, nw.Date))
    )
    out = (
        staged.join(previous, on="customer_id", how="left")
        .with_columns(since.alias("stage_since"))
        .with_columns(
            (nw.lit(asof.day) - day_number(nw.col("stage_since")))
            .cast(nw.Int64)
            .alias("days_in_stage")
        )
        .select(*STAGE_COLUMNS)
    )
    return out.sort("customer_id")
