"""A rule set compiled for one schema: the expressions ``evaluate`` and ``coverage`` select.

Compiling is cached per (rule set, schema, as_of), and parsing per condition text, so calling a
rule set repeatedly on frames of the same shape only builds narwhals expressions once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf
from retailcrm.rules._compiler import CompiledCondition, compile_condition
from retailcrm.rules._diagnostics import Problem, ProblemsError, syntax_error
from retailcrm.rules._rule import Rule

__all__ = ["DEFAULT_RULE_ID", "Plan", "compile_plan", "count_true", "hidden_column"]

DEFAULT_RULE_ID = "default"
_BLOCK = 64  # rules per when/then chain: deeper chains hit engines' recursion limits


def _first_true(conditions: Sequence[nw.Expr]) -> nw.Expr:
    """Index of the first true condition (a missing one is not true), else ``len(conditions)``.

    Up to 64 rules this is one chained ``when/then``; longer rule sets chain blocks of 64 and
    take the first block that found something (``coalesce``), so the expression stays shallow.
    """
    n = len(conditions)
    blocks = []
    for start in range(0, n, _BLOCK):
        chained: Any = nw
        for k in range(start, min(start + _BLOCK, n)):
            chained = chained.when(conditions[k]).then(nw.lit(k))
        blocks.append(chained)
    if len(blocks) == 1:
        return cast(nw.Expr, blocks[0].otherwise(nw.lit(n)))
    return nw.coalesce(*blocks, nw.lit(n))


@attrs.frozen
class Plan:
    """Compiled conditions of a rule set (three-valued) and what to output for each."""

    rules: tuple[Rule, ...]
    conditions: tuple[CompiledCondition, ...]
    default: str | None

    @property
    def masks(self) -> list[nw.Expr]:
        """One boolean per rule, missing collapsed to False."""
        return [c.expr.fill_null(False) for c in self.conditions]

    def position(self) -> nw.Expr:
        """The index of the first matching rule, else the number of rules.

        A chained ``when/then`` over integers; labels and ids are looked up from it in a second
        step (:meth:`label_of`), several times faster than chaining text values.
        """
        # when/then treats a missing condition as not taken, so no fill_null is needed here.
        return _first_true([c.expr for c in self.conditions])

    def undecided_position(self) -> nw.Expr:
        """The index of the first rule that is not definitely false (true or missing)."""
        return _first_true([c.expr.fill_null(True) for c in self.conditions])

    def label_of(self, position: nw.Expr) -> nw.Expr:
        """The label of the rule at ``position`` (see :meth:`position`), else the default."""
        labels = [r.effective_label for r in self.rules]
        return position.replace_strict(
            list(range(len(labels))), labels, default=self.default, return_dtype=nw.String
        )

    def rule_id_of(self, position: nw.Expr) -> nw.Expr:
        """The id of the rule at ``position``, else ``"default"``."""
        ids = [r.id for r in self.rules]
        return position.replace_strict(
            list(range(len(ids))), ids, default=DEFAULT_RULE_ID, return_dtype=nw.String
        )

    def any_match(self) -> nw.Expr:
        """True where at least one rule matches."""
        return self.position() < len(self.rules)


def count_true(expr: nw.Expr) -> nw.Expr:
    """How many rows ``expr`` is true on, as Int64 (0 for an empty frame)."""
    # Spark cannot sum booleans and DuckDB sums integers to a decimal: cast both ways.
    return expr.cast(nw.Int64).sum().cast(nw.Int64).fill_null(0)


def hidden_column(frame: nw.LazyFrame[Any], name: str) -> str:
    """A working column name that ``frame`` does not already use."""
    taken = set(frame.collect_schema())
    name = f"__retailcrm_{name}"
    while name in taken:
        name += "_"
    return name


@functools.lru_cache(maxsize=256)
def _compile_cached(
    rules: tuple[Rule, ...],
    default: str | None,
    schema: tuple[tuple[str, Any], ...],
    as_of: AsOf | None,
) -> Plan:
    mapping = dict(schema)
    compiled: list[CompiledCondition] = []
    found: list[tuple[str | None, str, Sequence[Problem]]] = []
    for rule in rules:
        try:
            compiled.append(compile_condition(rule._condition, mapping, as_of=as_of))
        except ProblemsError as exc:
            found.append((f"rule {rule.id!r}", rule.when, exc.problems))
    error = syntax_error(found)
    if error is not None:
        raise error
    return Plan(rules=rules, conditions=tuple(compiled), default=default)


def compile_plan(
    rules: tuple[Rule, ...],
    default: str | None,
    schema: Mapping[str, Any],
    as_of: AsOf | None,
) -> Plan:
    """Compile every rule for ``schema``; all problems of all rules raise one RuleSyntaxError."""
    return _compile_cached(rules, default, tuple(schema.items()), as_of)
