"""The parsed form of a rule condition: a small tree of immutable nodes.

The parser (:mod:`retailcrm.rules._parser`) turns condition text into these nodes after checking
every Python syntax node against a whitelist; the compiler (:mod:`retailcrm.rules._compiler`)
type-checks them against a frame's schema and turns them into narwhals expressions. Nothing here
knows about Python's ``ast`` or about narwhals.

Every node carries ``span``, the ``(start, end)`` character offsets of the text it came from, so
errors can put a caret under the offending part.

:func:`render` writes a node back as text in one canonical, fully parenthesised form. Rule-set
fingerprints hash that form, so spacing, quoting style and redundant parentheses do not change a
fingerprint, and ``parse(render(node))`` renders to the same text again.
"""

from __future__ import annotations

import datetime as _dt
import keyword
from typing import Literal as _Literal

import attrs

__all__ = [
    "Arithmetic",
    "Call",
    "Column",
    "Comparison",
    "Literal",
    "LiteralKind",
    "Logical",
    "Membership",
    "Node",
    "Span",
    "Unary",
    "column_names",
    "function_names",
    "render",
]

Span = tuple[int, int]
LiteralKind = _Literal["int", "float", "string", "boolean", "date", "null"]
LiteralValue = int | float | str | bool | _dt.date | None

# Bare names that cannot stand for a column: Python keywords and the three constants.
_NOT_BARE = frozenset(keyword.kwlist) | {"True", "False", "None"}


@attrs.frozen
class Literal:
    """A constant: number, text, boolean, ``date('…')`` or ``None``."""

    value: LiteralValue
    kind: LiteralKind
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Column:
    """A column reference, written bare (``orders_90d``) or as ``col('name with spaces')``."""

    name: str
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Unary:
    """``not x``, ``-x`` or ``+x`` (a minus in front of a number literal is folded into it)."""

    op: _Literal["not", "-", "+"]
    operand: Node
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Logical:
    """``a and b and …`` or ``a or b or …`` (Kleene three-valued logic)."""

    op: _Literal["and", "or"]
    operands: tuple[Node, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Comparison:
    """A comparison, possibly chained: ``2 <= x <= 3`` has three operands and two operators."""

    operands: tuple[Node, ...]
    ops: tuple[str, ...]
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Membership:
    """``x in [v1, v2, …]`` or ``x not in [...]``; the values are literals."""

    operand: Node
    values: tuple[Literal, ...]
    negated: bool
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Arithmetic:
    """``a + b``, ``a - b``, ``a * b`` or ``a / b``."""

    op: _Literal["+", "-", "*", "/"]
    left: Node
    right: Node
    span: Span = attrs.field(eq=False)


@attrs.frozen
class Call:
    """A call of one of the rule functions (``is_null``, ``coalesce``, ``days_since``, …)."""

    name: str
    args: tuple[Node, ...]
    span: Span = attrs.field(eq=False)


Node = Literal | Column | Unary | Logical | Comparison | Membership | Arithmetic | Call


def _render_literal(node: Literal) -> str:
    if node.kind == "date":
        assert isinstance(node.value, _dt.date)
        return f"date('{node.value.isoformat()}')"
    return repr(node.value)


def render(node: Node) -> str:
    """Write ``node`` as canonical condition text (fully parenthesised, single-quoted strings)."""
    if isinstance(node, Literal):
        return _render_literal(node)
    if isinstance(node, Column):
        if (
            node.name.isidentifier()
            and node.name not in _NOT_BARE
            and not node.name.startswith("__")
        ):
            return node.name
        return f"col({node.name!r})"
    if isinstance(node, Unary):
        sep = " " if node.op == "not" else ""
        return f"({node.op}{sep}{render(node.operand)})"
    if isinstance(node, Logical):
        return "(" + f" {node.op} ".join(render(o) for o in node.operands) + ")"
    if isinstance(node, Comparison):
        parts = [render(node.operands[0])]
        for op, operand in zip(node.ops, node.operands[1:], strict=True):
            parts += [op, render(operand)]
        return "(" + " ".join(parts) + ")"
    if isinstance(node, Membership):
        op = "not in" if node.negated else "in"
        values = ", ".join(_render_literal(v) for v in node.values)
        return f"({render(node.operand)} {op} [{values}])"
    if isinstance(node, Arithmetic):
        return f"({render(node.left)} {node.op} {render(node.right)})"
    return f"{node.name}(" + ", ".join(render(a) for a in node.args) + ")"


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Logical | Comparison):
        return node.operands
    if isinstance(node, Membership):
        return (node.operand, *node.values)
    if isinstance(node, Arithmetic):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _walk(node: Node) -> list[Node]:
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(_children(current)))
    return out


def column_names(node: Node) -> tuple[str, ...]:
    """The distinct column names ``node`` refers to, in order of first appearance."""
    return tuple(dict.fromkeys(n.name for n in _walk(node) if isinstance(n, Column)))


def function_names(node: Node) -> frozenset[str]:
    """The names of the functions ``node`` calls."""
    return frozenset(n.name for n in _walk(node) if isinstance(n, Call))
