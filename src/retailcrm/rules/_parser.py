"""Condition text -> :mod:`~retailcrm.rules._nodes` tree, through Python's ``ast`` and a whitelist.

The text is parsed with :func:`ast.parse` in expression mode (which only builds a syntax tree; no
code is ever compiled or run), then every syntax node is checked against a whitelist and
translated. Anything not on the list — attribute access, subscripts, calls of anything but the
rule functions, names starting with ``__``, lambdas, comprehensions, ``**``, f-strings, walrus —
is a :class:`~retailcrm.exceptions.RuleSyntaxError` with a caret under it.

Slips from other languages get a hint rather than Python's bare "invalid syntax" (``AND``,
``&&``, ``||``, ``!x``, a single ``=``), and full-width characters outside string literals are
refused before parsing: ``ast`` would silently read the name ``ｆrequency`` as ``frequency``
(see :mod:`~retailcrm.rules._typos`). For the same reason a name that ``ast`` normalises into
another (``ﬁrst``, half-width ``ｶﾅ``) is refused: a rule names exactly the column typed, and a
column whose name has such characters is written ``col('...')``.

Limits keep hostile input cheap: at most :data:`MAX_CONDITION_LENGTH` characters (checked before
anything else), at most :data:`MAX_DEPTH` levels of nesting, numbers within 64-bit range. Line
breaks are read as spaces, so a condition may span several lines of a YAML file.

Parsing is cached per text (:func:`parse_condition`), so a rule set parses each condition once.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
import math
import warnings
from collections.abc import Callable
from typing import Any, ClassVar
from typing import Literal as _Lit

import attrs

from retailcrm.exceptions import ConfigError, did_you_mean
from retailcrm.rules._diagnostics import Problem, ProblemsError, show_text
from retailcrm.rules._nodes import (
    Arithmetic,
    Call,
    Column,
    Comparison,
    Literal,
    Logical,
    Membership,
    Node,
    Span,
    Unary,
)
from retailcrm.rules._typos import full_width_problems, operator_problems

__all__ = ["FUNCTION_ARITY", "MAX_CONDITION_LENGTH", "MAX_DEPTH", "parse_condition"]

MAX_CONDITION_LENGTH = 10_000
"""Longest condition accepted, in characters (checked before parsing)."""

MAX_DEPTH = 100
"""Deepest nesting accepted: operators, calls and parentheses inside one another."""

FUNCTION_ARITY: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "between": (3, 3),
    "coalesce": (2, None),
    "contains": (2, 2),
    "days_since": (1, 1),
    "days_until": (1, 1),
    "is_null": (1, 1),
    "max": (2, None),
    "min": (2, None),
    "round": (1, 2),
    "startswith": (2, 2),
}
"""The rule functions and their (fewest, most) arguments; ``None`` means no upper bound."""

_SPECIAL_CALLS = ("col", "date")  # not functions: they make a column reference and a literal
_INT64 = (-(2**63), 2**63 - 1)

_COMPARE_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_ARITH_OPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
}
_OPERATOR_HINTS: dict[type[ast.AST], str] = {
    ast.Pow: "'**' is not supported; the arithmetic operators are + - * /",
    ast.FloorDiv: "'//' is not supported; the arithmetic operators are + - * / (and round())",
    ast.Mod: "'%' is not supported; the arithmetic operators are + - * /",
    ast.MatMult: "'@' is not supported; the arithmetic operators are + - * /",
    ast.BitAnd: "'&' is not supported: write 'and'",
    ast.BitOr: "'|' is not supported: write 'or'",
    ast.BitXor: "'^' is not supported; combine conditions with 'and', 'or' and 'not'",
    ast.LShift: "'<<' is not supported; the arithmetic operators are + - * /",
    ast.RShift: "'>>' is not supported; the arithmetic operators are + - * /",
    ast.Invert: "'~' is not supported: write 'not'",
}
_NODE_WORDS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access ('.') is not allowed; for a column whose name has a dot, "
    "write col('a.b')",
    ast.Subscript: "indexing ('x[...]') is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.IfExp: "'x if c else y' is not allowed; write one rule per case (rules are ordered)",
    ast.NamedExpr: "':=' is not allowed",
    ast.JoinedStr: "f-strings are not allowed; write a plain string",
    ast.Dict: "dict literals are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
    ast.Slice: "slices are not allowed",
}


class _Translator:
    """Walks a Python ``ast`` expression and builds nodes, refusing anything off the whitelist."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._bytes = text.encode("utf-8")
        self._char_at: dict[int, int] = {}

    # -- positions -------------------------------------------------------------------------
    def _char(self, byte_offset: int | None) -> int:
        """ast offsets count UTF-8 bytes; carets need characters."""
        if byte_offset is None:
            return 0
        if byte_offset not in self._char_at:
            prefix = self._bytes[:byte_offset].decode("utf-8", errors="replace")
            self._char_at[byte_offset] = len(prefix)
        return self._char_at[byte_offset]

    def span(self, node: ast.AST) -> Span:
        start = self._char(getattr(node, "col_offset", 0))
        end = self._char(getattr(node, "end_col_offset", None) or len(self._bytes))
        return (start, max(end, start + 1))

    def fail(self, node: ast.AST, message: str) -> ProblemsError:
        return ProblemsError([Problem(message, self.span(node))])

    # -- translation -----------------------------------------------------------------------
    def node(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(
                node,
                f"the condition is nested more than {MAX_DEPTH} levels deep; "
                "split it into simpler rules",
            )
        handler = self._HANDLERS.get(type(node))
        if handler is None:
            raise self.fail(node, self._refusal(node))
        return handler(self, node, depth + 1)

    def _refusal(self, node: ast.AST) -> str:
        for kind, words in _NODE_WORDS.items():
            if isinstance(node, kind):
                return words
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return "a list is only allowed after 'in' or 'not in', e.g. region in ['North', 'East']"
        return f"{type(node).__name__} expressions are not allowed in a rule condition"

    def _constant(self, node: ast.Constant, depth: int) -> Literal:
        value = node.value
        span = self.span(node)
        if value is None:
            return Literal(None, "null", span)
        if isinstance(value, bool):
            return Literal(value, "boolean", span)
        if isinstance(value, int):
            return self._int(value, node)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(node, "the number is too large (not finite)")
            return Literal(value, "float", span)
        if isinstance(value, str):
            return Literal(value, "string", span)
        if isinstance(value, bytes):
            raise self.fail(node, "bytes literals are not allowed; write a plain string")
        if isinstance(value, complex):
            raise self.fail(node, "complex numbers are not allowed")
        raise self.fail(node, f"the constant {show_text(repr(value), 20)} is not allowed")

    def _int(self, value: int, node: ast.AST) -> Literal:
        if not _INT64[0] <= value <= _INT64[1]:
            raise self.fail(node, "the number is outside the 64-bit integer range")
        return Literal(value, "int", self.span(node))

    def _as_typed(self, node: ast.Name) -> str:
        """The name as typed; refused when Python read it as another one (NFKC normalisation).

        ``ast`` folds compatibility characters in names (``ﬁrst`` is read as ``first``, the
        half-width ``ｶﾅ`` as ``カナ``), so a rule could name a column other than the one typed.
        Full-width characters are caught before parsing, with their own hint.
        """
        start, end = self.span(node)
        typed = self.text[start:end]
        if typed != node.id:
            raise self.fail(
                node,
                f"the name {typed!r} would be read as {node.id!r} (Python normalises the "
                f"characters of names); write {node.id}, or col({typed!r}) for a column named "
                "exactly as typed",
            )
        return typed

    def _name(self, node: ast.Name, depth: int) -> Column:
        self._as_typed(node)
        if node.id.startswith("__"):
            raise self.fail(
                node, f"the name {node.id!r} is not allowed: names starting with '__' are reserved"
            )
        return Column(node.id, self.span(node))

    def _unary(self, node: ast.UnaryOp, depth: int) -> Node:
        if isinstance(node.op, ast.Not):
            return Unary("not", self.node(node.operand, depth), self.span(node))
        if isinstance(node.op, ast.Invert):
            raise self.fail(node, _OPERATOR_HINTS[ast.Invert])
        operand = self.node(node.operand, depth)
        sign: _Lit["-", "+"] = "-" if isinstance(node.op, ast.USub) else "+"
        if isinstance(operand, Literal) and operand.kind in ("int", "float"):
            assert isinstance(operand.value, int | float)
            value = -operand.value if sign == "-" else operand.value
            if operand.kind == "int":
                assert isinstance(value, int)
                return self._int(value, node)
            return Literal(value, "float", self.span(node))
        return Unary(sign, operand, self.span(node))

    def _boolop(self, node: ast.BoolOp, depth: int) -> Logical:
        op: _Lit["and", "or"] = "and" if isinstance(node.op, ast.And) else "or"
        operands = tuple(self.node(v, depth) for v in node.values)
        return Logical(op, operands, self.span(node))

    def _binop(self, node: ast.BinOp, depth: int) -> Arithmetic:
        op = _ARITH_OPS.get(type(node.op))
        if op is None:
            hint = _OPERATOR_HINTS.get(type(node.op), "this operator is not supported")
            raise self.fail(node, hint)
        left = self.node(node.left, depth)
        right = self.node(node.right, depth)
        return Arithmetic(op, left, right, self.span(node))  # type: ignore[arg-type]

    def _compare(self, node: ast.Compare, depth: int) -> Node:
        ops = node.ops
        membership = [isinstance(o, ast.In | ast.NotIn) for o in ops]
        for o in ops:
            if isinstance(o, ast.Is | ast.IsNot):
                raise self.fail(
                    node, "'is' is not supported: to test for a missing value write is_null(x)"
                )
        if any(membership):
            if len(ops) > 1:
                raise self.fail(node, "'in' cannot be chained with other comparisons")
            return self._membership(node, depth)
        operands = tuple(self.node(o, depth) for o in (node.left, *node.comparators))
        names = tuple(_COMPARE_OPS[type(o)] for o in ops)
        return Comparison(operands, names, self.span(node))

    def _membership(self, node: ast.Compare, depth: int) -> Membership:
        container = node.comparators[0]
        if not isinstance(container, ast.List | ast.Tuple | ast.Set):
            raise self.fail(
                container,
                "after 'in' write a list of values, e.g. region in ['North', 'East']; "
                "to look for text inside text use contains(x, 'text')",
            )
        if not container.elts:
            raise self.fail(container, "the list after 'in' is empty")
        values = []
        for elt in container.elts:
            value = self.node(elt, depth + 1)
            if not isinstance(value, Literal):
                raise self.fail(elt, "the list after 'in' may only hold constant values")
            if value.kind == "null":
                raise self.fail(
                    elt,
                    "None cannot be matched with 'in' (a comparison with a missing value is "
                    "never true); add 'or is_null(x)' instead",
                )
            values.append(value)
        operand = self.node(node.left, depth)
        negated = isinstance(node.ops[0], ast.NotIn)
        return Membership(operand, tuple(values), negated, self.span(node))

    def _call(self, node: ast.Call, depth: int) -> Node:
        func = node.func
        if not isinstance(func, ast.Name):
            prefix = (
                "attribute access ('.') is not allowed; " if isinstance(func, ast.Attribute) else ""
            )
            raise self.fail(
                func,
                prefix + "only the rule functions can be called: " + ", ".join(_all_functions()),
            )
        name = self._as_typed(func)
        if name.startswith("__"):
            raise self.fail(
                func, f"the name {name!r} is not allowed: names starting with '__' are reserved"
            )
        if node.keywords:
            raise self.fail(node.keywords[0].value, "keyword arguments are not supported")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail(arg, _NODE_WORDS[ast.Starred])
        if name in _SPECIAL_CALLS:
            return self._special(node, name)
        arity = FUNCTION_ARITY.get(name)
        if arity is None:
            hint = did_you_mean(name, _all_functions())
            message = f"unknown function {name!r}"
            message += f" (did you mean {hint!r}?)" if hint else ""
            message += ". The functions are: " + ", ".join(_all_functions())
            raise self.fail(func, message)
        low, high = arity
        n = len(node.args)
        if n < low or (high is not None and n > high):
            if high is None:
                expected = f"at least {low} arguments"
            elif low == high:
                expected = f"{low} argument{'s' if low != 1 else ''}"
            else:
                expected = f"{low} to {high} arguments"
            raise self.fail(node, f"{name}() takes {expected}, got {n}")
        args = tuple(self.node(a, depth) for a in node.args)
        return Call(name, args, self.span(node))

    def _special(self, node: ast.Call, name: str) -> Node:
        if len(node.args) != 1:
            raise self.fail(node, f"{name}() takes 1 argument, got {len(node.args)}")
        arg = node.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            example = "col('name with spaces')" if name == "col" else "date('2024-01-31')"
            raise self.fail(arg, f"{name}() takes one text constant, e.g. {example}")
        if name == "col":
            if not arg.value:
                raise self.fail(arg, "col('') names no column")
            return Column(arg.value, self.span(node))
        try:
            value = _dt.date.fromisoformat(arg.value)
        except ValueError:
            raise self.fail(
                arg,
                f"date() needs an ISO date 'YYYY-MM-DD', got {show_text(arg.value, 30)}",
            ) from None
        return Literal(value, "date", self.span(node))

    _HANDLERS: ClassVar[dict[type[ast.AST], Callable[[Any, Any, int], Node]]] = {
        ast.Constant: _constant,
        ast.Name: _name,
        ast.UnaryOp: _unary,
        ast.BoolOp: _boolop,
        ast.BinOp: _binop,
        ast.Compare: _compare,
        ast.Call: _call,
    }


def _all_functions() -> list[str]:
    return sorted([*FUNCTION_ARITY, *_SPECIAL_CALLS])


def _syntax_tree(text: str) -> ast.Expression:
    """Python's parse of ``text`` as one expression; its own failures become our problems."""
    try:
        # Warnings (an invalid escape such as '\d') are errors here, whatever the caller's filters.
        # catch_warnings restores the filters on exit; it is not thread-safe before Python 3.14,
        # but parsing is cached per text, so this runs once per distinct condition.
        with warnings.catch_warnings(action="error"):
            return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        offset = exc.offset if isinstance(exc.offset, int) and exc.lineno in (1, None) else None
        if offset is not None and not 1 <= offset <= len(text):
            offset = len(text.rstrip()) + 1  # "unexpected end": point just past the text
        message = (exc.msg or "invalid syntax").split(" (<unknown>")[0]
        if message.startswith("invalid syntax"):
            # Operators of other languages (AND, &&, ||, !, a single =): say what to write.
            hints = operator_problems(text)
            if hints:
                raise ProblemsError(hints) from None
        else:
            message = f"invalid syntax: {message}"
        span = (offset - 1, offset) if offset and offset >= 1 else None
        raise ProblemsError([Problem(message, span)]) from None
    except Warning as exc:
        raise ProblemsError([Problem(f"invalid syntax: {exc}")]) from None
    except (MemoryError, RecursionError):
        raise ProblemsError(
            [Problem(f"the condition is too deeply nested (at most {MAX_DEPTH} levels)")]
        ) from None


@functools.lru_cache(maxsize=2048)
def _parse_cached(text: str) -> Node:
    flat = text.replace("\r", " ").replace("\n", " ")
    body = flat.lstrip()
    indent = len(flat) - len(body)
    try:
        full_width = full_width_problems(body)
        if full_width:
            raise ProblemsError(full_width)
        node = _Translator(body).node(_syntax_tree(body).body, 0)
    except ProblemsError as exc:
        if indent:
            exc.problems = [_shift(p, indent) for p in exc.problems]
        raise
    return _shift_node(node, indent) if indent else node


def _shift(problem: Problem, by: int) -> Problem:
    if problem.span is None:
        return problem
    return Problem(problem.message, (problem.span[0] + by, problem.span[1] + by))


def _shift_node(node: Node, by: int) -> Node:
    """The same tree with every span moved ``by`` characters (for stripped leading space)."""
    changes: dict[str, Any] = {"span": (node.span[0] + by, node.span[1] + by)}
    if isinstance(node, Unary):
        changes["operand"] = _shift_node(node.operand, by)
    elif isinstance(node, Logical | Comparison):
        changes["operands"] = tuple(_shift_node(o, by) for o in node.operands)
    elif isinstance(node, Membership):
        changes["operand"] = _shift_node(node.operand, by)
        changes["values"] = tuple(_shift_node(v, by) for v in node.values)
    elif isinstance(node, Arithmetic):
        changes["left"] = _shift_node(node.left, by)
        changes["right"] = _shift_node(node.right, by)
    elif isinstance(node, Call):
        changes["args"] = tuple(_shift_node(a, by) for a in node.args)
    return attrs.evolve(node, **changes)


def parse_condition(text: str) -> Node:
    """Parse condition ``text`` into a node tree, or raise ``ProblemsError`` saying where.

    Raises
    ------
    ConfigError
        ``text`` is not a string.
    ProblemsError
        Internal: the caller adds the rule's id and raises
        :class:`~retailcrm.exceptions.RuleSyntaxError`.
    """
    if not isinstance(text, str):
        raise ConfigError(
            f"a rule condition must be text, got {type(text).__name__} "
            f"({show_text(repr(text), 40)}). Fix: write it as a string, e.g. 'orders_90d >= 4'."
        )
    if len(text) > MAX_CONDITION_LENGTH:
        raise ProblemsError(
            [
                Problem(
                    f"the condition is {len(text):,} characters long; the limit is "
                    f"{MAX_CONDITION_LENGTH:,}. Split it into several rules"
                )
            ]
        )
    if not text.strip():
        raise ProblemsError([Problem("the condition is empty; write e.g. 'orders_90d >= 4'")])
    return _parse_cached(text)
