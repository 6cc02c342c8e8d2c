"""``on_null="error"``: find the rows where a rule could not decide because of missing values."""

from __future__ import annotations

from typing import Any, Literal

import narwhals.stable.v2 as nw

from retailcrm._engine import Engine
from retailcrm.exceptions import InvalidDataError
from retailcrm.rules._diagnostics import show_text
from retailcrm.rules._plan import Plan, count_true, hidden_column

__all__ = ["raise_on_nulls"]

_EXAMPLES = 5


def raise_on_nulls(
    frame: nw.LazyFrame[Any],
    engine: Engine,
    plan: Plan,
    mode: Literal["first", "all"],
    key: str,
) -> None:
    """Raise InvalidDataError naming each rule, its missing columns and example keys.

    A rule is blamed for the rows where its condition is missing *and* it had to decide them:
    in mode ``"first"``, where every earlier rule was definitely false (so the rule is the first
    one that is not); in mode ``"all"``, everywhere.
    """
    rules, compiled = plan.rules, plan.conditions
    if mode == "first":
        undecided = hidden_column(frame, "undecided")
        frame = frame.with_columns(plan.undecided_position().alias(undecided))
        masks = [(nw.col(undecided) == k) & cc.expr.is_null() for k, cc in enumerate(compiled)]
    else:
        masks = [cc.expr.is_null() for cc in compiled]
    counts: list[nw.Expr] = []
    for k, (cc, mask) in enumerate(zip(compiled, masks, strict=True)):
        counts.append(count_true(mask).alias(f"n{k}"))
        for j, expr in enumerate(cc.column_exprs.values()):
            counts.append(count_true(mask & expr.is_null()).alias(f"n{k}_{j}"))
    row = engine.collect_small(frame.select(*counts)).to_native().row(0, named=True)
    blocks = []
    for k, (rule, cc, mask) in enumerate(zip(rules, compiled, masks, strict=True)):
        total = int(row[f"n{k}"])
        if total == 0:
            continue
        missing = [
            f"{name!r} in {int(row[f'n{k}_{j}']):,}"
            for j, name in enumerate(cc.column_exprs)
            if row[f"n{k}_{j}"]
        ]
        sample = engine.collect_small(
            frame.filter(mask).select(key).sort(key).head(_EXAMPLES)
        ).get_column(key)
        where = (
            "columns missing: " + ", ".join(missing)
            if missing
            else "no column is missing there, so a division by zero made it missing"
        )
        noun = "row" if total == 1 else "rows"
        more = f" (and {total - len(sample):,} more)" if total > len(sample) else ""
        blocks.append(
            f"rule {rule.id!r} ({show_text(rule.when, 60)}) is missing for {total:,} {noun} "
            f"({where}); e.g. {key} {sample.to_list()!r}{more}"
        )
    if blocks:
        raise InvalidDataError(
            "on_null='error': "
            + (
                "; ".join(blocks)
                if len(blocks) == 1
                else f"{len(blocks)} rules hit missing values:\n- " + "\n- ".join(blocks)
            )
            + ".\nFix: handle missing values in the condition with is_null(x) or "
            "coalesce(x, value), or use on_null='false' so that such rows do not match."
        )
