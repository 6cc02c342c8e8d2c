"""How many rows each rule matches and decides: the table behind ``RuleSet.coverage``.

All counts come from one aggregation pass over the frame; the small result (one row per rule
plus the default) is then handed back as the caller's kind of frame, in the caller's engine.
"""

from __future__ import annotations

from typing import Any, Literal

import narwhals.stable.v2 as nw
import polars as pl

from retailcrm._engine import Engine
from retailcrm.rules._plan import DEFAULT_RULE_ID, Plan, count_true, hidden_column

__all__ = ["COVERAGE_SCHEMA", "count_unmatched", "coverage_table"]

COVERAGE_SCHEMA = {
    "rule_id": pl.String,
    "label": pl.String,
    "matched": pl.Int64,
    "decided": pl.Int64,
    "share": pl.Float64,
}


def coverage_table(
    plan: Plan, frame: nw.LazyFrame[Any], engine: Engine, mode: Literal["first", "all"]
) -> pl.DataFrame:
    """One row per rule and one for the default: matched, decided and share of rows."""
    masks = plan.masks
    n = len(masks)
    position = hidden_column(frame, "position")
    frame = frame.with_columns(plan.position().alias(position))
    first = nw.col(position)
    exprs = [count_true(m).alias(f"m{k}") for k, m in enumerate(masks)]
    if mode == "first":
        exprs += [count_true(first == k).alias(f"d{k}") for k in range(n + 1)]
    else:
        exprs += [count_true(m).alias(f"d{k}") for k, m in enumerate(masks)]
        exprs.append(count_true(first == n).alias(f"d{n}"))
    exprs.append(nw.len().cast(nw.Int64).alias("total"))
    row = engine.collect_small(frame.select(*exprs)).to_native().row(0, named=True)
    total = int(row["total"])
    decided = [int(row[f"d{k}"]) for k in range(n + 1)]
    matched = [int(row[f"m{k}"]) for k in range(n)] + [decided[n]]
    return pl.DataFrame(
        {
            "rule_id": [r.id for r in plan.rules] + [DEFAULT_RULE_ID],
            "label": [r.effective_label for r in plan.rules] + [plan.default],
            "matched": matched,
            "decided": decided,
            "share": [d / total if total else None for d in decided],
        },
        schema=COVERAGE_SCHEMA,
    )


def count_unmatched(plan: Plan, frame: nw.LazyFrame[Any], engine: Engine) -> int:
    """The number of rows that no rule matches."""
    out = engine.collect_small(frame.select(count_true(~plan.any_match()).alias("n")))
    return int(out.item(0, "n"))
