"""Two-way value segmentations: :func:`value_matrix` (value × loyalty) and :func:`hml_segments`
(heavy / medium / light / zero spenders), with their maps :data:`VALUE_MATRIX` and
:data:`HML_TIERS`."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import reduce
from typing import Any

import narwhals.stable.v2 as nw

from retailcrm._params import check_number, parameter_error
from retailcrm.rules import Rule, RuleSet, condition_expr
from retailcrm.segmentation._maps import UNSCORED, UNSCORED_ZH, VALUE_MATRIX_ZH
from retailcrm.segmentation._rfm import (
    Dimension,
    check_fraction,
    order_statistics,
    read_features,
    scored_masks,
)

__all__ = ["HML_TIERS", "VALUE_MATRIX", "hml_segments", "value_matrix"]

VALUE_MATRIX = RuleSet(
    [
        Rule("gold", "high_value and high_loyalty", label="Gold"),
        Rule("potential", "high_loyalty and not high_value", label="Potential"),
        Rule("churn_risk", "high_value and not high_loyalty", label="Churn risk"),
        Rule("low_value", "not high_value and not high_loyalty", label="Low value"),
    ],
    default=UNSCORED,
    translations={"zh": {**VALUE_MATRIX_ZH, "default": UNSCORED_ZH}},
)
"""The value matrix over the two flags of :func:`value_matrix`, first match wins:
``gold`` (黄金客户): high value and high loyalty; ``potential`` (潜力客户): high loyalty, low
value — they come back, develop their basket; ``churn_risk`` (流失风险客户): high value, low
loyalty — valuable but not attached; ``low_value`` (低价值客户): low value, low loyalty.
Customers with a missing input get the default, "Unscored".
"""

HML_TIERS = RuleSet(
    [
        Rule("heavy", "spend_band == 3", label="Heavy"),
        Rule("medium", "spend_band == 2", label="Medium"),
        Rule("light", "spend_band == 1", label="Light"),
    ],
    default="Zero spend",
    translations={
        "zh": {
            "heavy": "重度消费客户",
            "medium": "中度消费客户",
            "light": "轻度消费客户",
            "default": "零消费客户",
        }
    },
)
"""Heavy / medium / light / zero spenders over the ``spend_band`` column of
:func:`hml_segments` (3, 2, 1; null for customers without spend): heavy 重度消费客户,
medium 中度消费客户, light 轻度消费客户; the default is "Zero spend" (零消费客户).
"""


def apply_map(
    lf: nw.LazyFrame[Any], rules: RuleSet, *, label_column: str, rule_id_column: str = "rule_id"
) -> nw.LazyFrame[Any]:
    """``lf`` with the label and rule id of a mode-"first" rule set added, in the engine."""
    schema = lf.collect_schema()
    masks = [condition_expr(r.when, schema) for r in rules.rules]
    default_label = nw.lit(rules.default, dtype=nw.String)
    label = reduce(
        lambda rest, item: nw.when(item[0]).then(nw.lit(item[1].effective_label)).otherwise(rest),
        reversed(list(zip(masks, rules.rules, strict=True))),
        default_label,
    )
    rule_id = reduce(
        lambda rest, item: nw.when(item[0]).then(nw.lit(item[1].id)).otherwise(rest),
        reversed(list(zip(masks, rules.rules, strict=True))),
        nw.lit("default", dtype=nw.String),
    )
    return lf.with_columns(label.alias(label_column), rule_id.alias(rule_id_column))


def _check_threshold(value: Any, name: str) -> float | None:
    if value is None:
        return None
    return check_number(value, name=name, owner="value_matrix")


def value_matrix(
    features: Any,
    value_col: str = "monetary",
    loyalty_col: str = "frequency",
    *,
    value_threshold: float | None = None,
    loyalty_threshold: float | None = None,
    id_col: str = "customer_id",
) -> Any:
    """The value matrix: high/low value × high/low loyalty → gold, potential, churn risk, low
    value.

    Parameters
    ----------
    features : dataframe
        The customer feature table (or any frame with the two columns), any engine.
    value_col : str
        The value measure, e.g. ``"monetary"`` or ``"avg_order_value"``; higher is more.
    loyalty_col : str
        The loyalty measure, e.g. ``"frequency"`` or ``"active_months_12"``.
    value_threshold, loyalty_threshold : float, optional
        A customer is *high* when strictly above the threshold. Not given: the median of the
        customers of ``features`` that have both values (the lower median, a data value,
        computed exactly in the engine), so with a heavy tie (most bought once) the tied
        customers are all *low*, never split.
    id_col : str
        The customer key.

    Returns
    -------
    dataframe
        The caller's kind of frame, sorted by ``id_col``: ``customer_id``, ``high_value`` and
        ``high_loyalty`` (booleans; null when that customer's value or loyalty is missing),
        ``segment`` and ``rule_id`` — :data:`VALUE_MATRIX` applied to the two flags: ``gold``
        (both high), ``potential`` (high loyalty, low value), ``churn_risk`` (high value, low
        loyalty), ``low_value`` (both low); customers with a missing input are ``"Unscored"``.
        For Chinese labels: ``segment(result, VALUE_MATRIX.relabel("zh"))``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import value_matrix
    >>> features = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4, 5],
    ...         "frequency": [9, 1, 6, 1, 0],
    ...         "monetary": [800.0, 900.0, 60.0, 40.0, None],
    ...     }
    ... )
    >>> value_matrix(features)
       customer_id high_value high_loyalty     segment     rule_id
    0            1       True         True        Gold        gold
    1            2       True        False  Churn risk  churn_risk
    2            3      False         True   Potential   potential
    3            4      False        False   Low value   low_value
    4            5       None         None    Unscored     default
    """
    owner = "value_matrix"
    for name, value in (("value_col", value_col), ("loyalty_col", loyalty_col), ("id_col", id_col)):
        if not (isinstance(value, str) and value):
            raise parameter_error(name, owner, "a non-empty column name", value)
    if value_col == loyalty_col:
        raise parameter_error("loyalty_col", owner, "a column other than value_col", loyalty_col)
    thresholds = {
        "value": _check_threshold(value_threshold, "value_threshold"),
        "loyalty": _check_threshold(loyalty_threshold, "loyalty_threshold"),
    }
    lf, engine = read_features(features, [id_col, value_col, loyalty_col], owner=owner)
    dims = (
        Dimension("value", value_col, "v", higher_is_better=True, group="both"),
        Dimension("loyalty", loyalty_col, "l", higher_is_better=True, group="both"),
    )
    mask = scored_masks(dims, lf.collect_schema())["both"]
    missing = {
        d.name: nw.when(mask).then(nw.col(d.column)) for d in dims if thresholds[d.name] is None
    }
    if missing:
        row = order_statistics(lf, missing, {name: [Fraction(1, 2)] for name in missing})
        for name in missing:
            fitted = row.get(f"{name}#0")
            if fitted is None:
                raise parameter_error(
                    f"{name}_threshold",
                    owner,
                    "given when no customer has both a value and a loyalty value",
                    None,
                    "fit on a population with values, or pass the threshold.",
                )
            thresholds[name] = float(fitted)
    flags = lf.select(
        nw.col(id_col),
        *(
            nw.when(mask).then(nw.col(d.column) > thresholds[d.name]).alias(f"high_{d.name}")
            for d in dims
        ),
    )
    out = apply_map(flags, VALUE_MATRIX, label_column="segment")
    return engine.to_native(out.sort(id_col))


def hml_segments(
    features: Any,
    *,
    value_col: str = "monetary",
    cuts: Sequence[float] = (0.8, 0.5),
    id_col: str = "customer_id",
) -> Any:
    """Heavy, medium, light and zero spenders by their spend percentile among spenders.

    Parameters
    ----------
    features : dataframe
        The customer feature table, any engine.
    value_col : str
        The spend column.
    cuts : (float, float)
        ``(heavy, medium)``: a spender is *heavy* when at least that share of spenders spend
        strictly less (0.8: the top 20%), *medium* when at least the second share does, else
        *light*. Shares strictly between 0 and 1, the first larger.
    id_col : str
        The customer key.

    Returns
    -------
    dataframe
        The caller's kind of frame, sorted by ``id_col``: ``customer_id``, ``spend_band``
        (3 heavy, 2 medium, 1 light; null for zero spenders), ``segment`` and ``rule_id`` —
        :data:`HML_TIERS` applied to ``spend_band``. Zero spenders are customers whose spend
        is missing or not positive; they do not count in the percentiles. Equal spend, equal
        band.

    Notes
    -----
    With ``n`` spenders, a spender with spend ``v`` is heavy when ``v > x_(ceil(0.8 n))``,
    the nearest-rank order statistic — the same as "at least 80% of spenders spend strictly
    less" — computed exactly in the engine.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.segmentation import hml_segments
    >>> features = pd.DataFrame(
    ...     {"customer_id": range(1, 13), "monetary": [*range(10, 110, 10), 0.0, None]}
    ... )
    >>> hml_segments(features)["segment"].tolist()
    ['Light', 'Light', 'Light', 'Light', 'Light', 'Medium', 'Medium', 'Medium', 'Heavy', 'Heavy', 'Zero spend', 'Zero spend']
    """
    owner = "hml_segments"
    for name, value in (("value_col", value_col), ("id_col", id_col)):
        if not (isinstance(value, str) and value):
            raise parameter_error(name, owner, "a non-empty column name", value)
    if isinstance(cuts, str | bytes) or not isinstance(cuts, Sequence) or len(cuts) != 2:
        raise parameter_error("cuts", owner, "two shares (heavy, medium), e.g. (0.8, 0.5)", cuts)
    heavy, medium = (check_fraction(c, name="cuts", owner=owner) for c in cuts)
    if not heavy > medium:
        raise parameter_error(
            "cuts", owner, "(heavy, medium) with heavy > medium", cuts, "e.g. cuts=(0.8, 0.5)."
        )
    lf, engine = read_features(features, [id_col, value_col], owner=owner)
    dim = Dimension("spend", value_col, "s", higher_is_better=True, group="spend")
    present = scored_masks([dim], lf.collect_schema())["spend"]
    spender = present & (nw.col(value_col) > 0)
    row = order_statistics(
        lf, {"spend": nw.when(spender).then(nw.col(value_col))}, {"spend": [heavy, medium]}
    )
    col = nw.col(value_col)
    if row["spend#n"] == 0:
        band = nw.lit(None, dtype=nw.Int64)
    else:
        high, mid = float(row["spend#0"]), float(row["spend#1"])
        band = (
            nw.when(spender & (col > high))
            .then(nw.lit(3))
            .otherwise(
                nw.when(spender & (col > mid))
                .then(nw.lit(2))
                .otherwise(nw.when(spender).then(nw.lit(1)))
            )
        )
    out = lf.select(nw.col(id_col), band.cast(nw.Int64).alias("spend_band"))
    out = apply_map(out, HML_TIERS, label_column="segment")
    return engine.to_native(out.sort(id_col))
