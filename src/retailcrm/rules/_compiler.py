"""Type-check a condition tree against a frame's schema and turn it into a narwhals expression.

Types
-----
Every value in a condition has one of five types: *number*, *text*, *true/false*, *date* and the
literal ``None``. Columns get theirs from the schema (integers, floats and decimals are numbers;
strings, categoricals and enums are text; dates and datetimes are dates). Other column types
(lists, structs, durations, binary) cannot be used.

Portable meaning (the same answer on every engine)
--------------------------------------------------
* **Dates** are compiled to exact integer day numbers (:func:`retailcrm._dates.day_number`), so
  comparing a datetime with ``date('2024-01-01')`` compares calendar days and ignores the time.
* **Arithmetic** (``+ - * /``, unary minus, ``abs``) is done in 64-bit floating point: no
  integer overflow, no engine-specific integer division. ``date - date`` is a whole number of
  days.
* **Division by zero** gives a missing value: ``a / b`` is compiled to
  ``when(b != 0).then(a / b)``, so the comparison it feeds is missing, hence false. Dividing by
  a constant multiplies by its reciprocal (``x / 10`` is ``x * 0.1``), which is what polars does
  anyway; doing it on every engine keeps them equal to the last bit.
* **NaN** in a float column counts as missing.
* **Nulls** propagate (three-valued logic): ``x > 3`` is missing where ``x`` is; ``and``/``or``
  follow Kleene logic (``False and null`` is false, ``True or null`` is true). The rule set turns
  a missing condition into "does not match" (or an error with ``on_null="error"``).
* ``min``/``max`` ignore missing arguments, like SQL's ``LEAST``/``GREATEST``; ``coalesce``
  takes the first non-missing one.
* ``round`` rounds half away from zero (2.5 -> 3, -2.5 -> -3), like a spreadsheet's ROUND.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, cast

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, day_number, day_number_of
from retailcrm.exceptions import did_you_mean
from retailcrm.rules._days import days_since_expr, days_until_expr
from retailcrm.rules._diagnostics import Problem, ProblemsError, show_text
from retailcrm.rules._nodes import (
    Arithmetic,
    Call,
    Column,
    Comparison,
    Logical,
    Membership,
    Node,
    Unary,
    column_names,
    render,
)
from retailcrm.rules._nodes import Literal as Lit

__all__ = [
    "AS_OF_FUNCTIONS",
    "CompiledCondition",
    "ValueType",
    "column_type",
    "compile_condition",
]

ValueType = Literal["int", "float", "string", "boolean", "date", "null", "error"]

AS_OF_FUNCTIONS = frozenset({"days_since", "days_until"})
"""Functions that count days relative to ``as_of``."""

_NUMERIC = frozenset({"int", "float"})
_WORDS: dict[str, str] = {
    "int": "a number",
    "float": "a number",
    "string": "text",
    "boolean": "true/false",
    "date": "a date",
    "null": "None",
    "error": "invalid",
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ROUND_DIGITS = (0, 10)


def _balanced(combine: Callable[[Any, Any], Any], exprs: Sequence[nw.Expr]) -> nw.Expr:
    """Combine ``exprs`` pairwise as a balanced tree (``a & b & c & d`` as ``(a & b) & (c & d)``).

    ``and``/``or`` are associative, so the result is the same as folding left to right, but the
    expression is only log2(n) deep: a condition with hundreds of ``and`` operands would
    otherwise exceed engines' recursion limits.
    """
    if len(exprs) == 1:
        return exprs[0]
    middle = len(exprs) // 2
    return cast(
        nw.Expr, combine(_balanced(combine, exprs[:middle]), _balanced(combine, exprs[middle:]))
    )


def column_type(dtype: Any) -> ValueType | None:
    """The condition type of a narwhals dtype, or ``None`` when rules cannot use it."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype == nw.Decimal:
        return "float"
    if dtype == nw.String or dtype == nw.Categorical or dtype == nw.Enum:
        return "string"
    if dtype == nw.Boolean:
        return "boolean"
    if dtype == nw.Date or dtype == nw.Datetime:
        return "date"
    return None


def _column_expr(name: str, dtype: Any, kind: ValueType) -> nw.Expr:
    col = nw.col(name)
    if kind == "date":
        return day_number(col)
    if kind == "float":
        return (col if dtype.is_float() else col.cast(nw.Float64)).fill_nan(None)
    if kind == "string" and dtype != nw.String:
        return col.cast(nw.String)
    return col


@attrs.frozen
class _Typed:
    """A compiled sub-expression: its narwhals expression, type and words for messages."""

    expr: nw.Expr | None
    type: ValueType
    words: str

    @property
    def ok(self) -> bool:
        return self.type != "error"


_ERROR = _Typed(None, "error", "invalid")


@attrs.frozen
class CompiledCondition:
    """A condition compiled for one schema.

    Attributes
    ----------
    expr : narwhals.Expr
        Boolean expression with three-valued logic (null where undecidable).
    columns : tuple of str
        The columns the condition reads, in order of first appearance.
    column_exprs : dict
        For each of those columns the expression the condition reads (NaN already null), used to
        report which columns were missing where a condition was null.
    """

    expr: nw.Expr
    columns: tuple[str, ...]
    column_exprs: Mapping[str, nw.Expr]


def _lit_words(node: Lit) -> str:
    if node.kind == "string":
        assert isinstance(node.value, str)
        return f"the text {show_text(node.value, 30)}"
    if node.kind in ("int", "float"):
        return f"the number {node.value!r}"
    if node.kind == "date":
        return f"the date {node.value}"
    if node.kind == "boolean":
        return f"{node.value!r} (true/false)"
    return "None"


def _float(t: _Typed) -> nw.Expr:
    assert t.expr is not None
    return t.expr if t.type == "float" else t.expr.cast(nw.Float64)


class _Compiler:
    def __init__(self, schema: Mapping[str, Any], as_of: AsOf | None) -> None:
        self.schema = schema
        self.as_of = as_of
        self.problems: list[Problem] = []
        self.columns: dict[str, nw.Expr] = {}

    def problem(self, node: Node, message: str) -> _Typed:
        self.problems.append(Problem(message, node.span))
        return _ERROR

    # -- leaves ----------------------------------------------------------------------------
    def literal(self, node: Lit) -> _Typed:
        words = _lit_words(node)
        if node.kind == "null":
            return _Typed(None, "null", words)
        value = day_number_of(node.value) if node.kind == "date" else node.value  # type: ignore[arg-type]
        return _Typed(nw.lit(value), node.kind, words)

    def column(self, node: Column) -> _Typed:
        name = node.name
        if name not in self.schema:
            hint = did_you_mean(name, self.schema)
            message = f"unknown column {name!r}"
            message += f" (did you mean {hint!r}?)" if hint else ""
            if not hint and len(self.schema) <= 30:
                message += f". Available columns: {list(self.schema)}"
            return self.problem(node, message)
        dtype = self.schema[name]
        kind = column_type(dtype)
        if kind is None:
            return self.problem(
                node,
                f"column {name!r} has type {dtype}, which rules cannot use "
                "(they read numbers, text, booleans and dates)",
            )
        expr = self.columns.setdefault(name, _column_expr(name, dtype, kind))
        return _Typed(expr, kind, f"column {name!r} ({_WORDS[kind]})")

    # -- dispatch --------------------------------------------------------------------------
    def compile(self, node: Node) -> _Typed:
        if isinstance(node, Lit):
            return self.literal(node)
        if isinstance(node, Column):
            return self.column(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Logical):
            return self.logical(node)
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Membership):
            return self.membership(node)
        if isinstance(node, Arithmetic):
            return self.arithmetic(node)
        return self.call(node)

    def no_none(self, node: Node, t: _Typed) -> bool:
        """None is only allowed inside coalesce(); elsewhere it is a problem."""
        if t.type == "null":
            self.problem(
                node,
                "None can only be used inside coalesce(); to test for a missing value write "
                "is_null(x), and to replace one write coalesce(x, 0)",
            )
            return False
        return t.ok

    # -- operators -------------------------------------------------------------------------
    def unary(self, node: Unary) -> _Typed:
        # A run of the same kind of prefix (`not not x`, `- - x`) is folded: deep runs of
        # negations are legal but make some engines' planners crawl.
        logical = node.op == "not"
        run: list[Unary] = []
        inner: Node = node
        while isinstance(inner, Unary) and (inner.op == "not") == logical:
            run.append(inner)
            inner = inner.operand
        t = self.compile(inner)
        if not self.no_none(inner, t):
            return _ERROR
        if logical:
            if t.type != "boolean":
                return self.problem(
                    run[-1],
                    f"'not' needs a true/false condition, but {t.words} is {_WORDS[t.type]}",
                )
            assert t.expr is not None
            return _Typed(~t.expr if len(run) % 2 else t.expr, "boolean", "this condition")
        if t.type not in _NUMERIC:
            return self.problem(
                run[-1], f"'{run[-1].op}' needs a number, but {t.words} is {_WORDS[t.type]}"
            )
        value = _float(t)
        negate = sum(u.op == "-" for u in run) % 2 == 1
        return _Typed(-value if negate else value, "float", "this expression (a number)")

    def logical(self, node: Logical) -> _Typed:
        parts = [(o, self.compile(o)) for o in node.operands]
        ok = True
        for operand, t in parts:
            if not self.no_none(operand, t):
                ok = False
            elif t.type != "boolean":
                hint = ""
                if isinstance(operand, Column) and t.type in _NUMERIC:
                    hint = f" (did you mean {operand.name} > 0?)"
                self.problem(
                    operand,
                    f"'{node.op}' combines true/false conditions, but {t.words} is "
                    f"{_WORDS[t.type]}{hint}",
                )
                ok = False
        if not ok:
            return _ERROR
        exprs = [cast(nw.Expr, t.expr) for _, t in parts]
        combine = operator.and_ if node.op == "and" else operator.or_
        return _Typed(_balanced(combine, exprs), "boolean", "this condition")

    def _pair(self, op: str, left: Node, lt: _Typed, right: Node, rt: _Typed, whole: Node) -> bool:
        """Whether ``left op right`` is well typed; records the problem otherwise."""
        for side, t in ((left, lt), (right, rt)):
            if t.type == "null":
                self.problem(
                    side,
                    f"comparing with None is never true (a comparison with a missing value is "
                    f"missing); write {'not ' if op == '==' else ''}is_null(x) instead"
                    if op in ("==", "!=")
                    else "None cannot be compared; write is_null(x) to test for a missing value",
                )
                return False
        if not (lt.ok and rt.ok):
            return False
        if lt.type in _NUMERIC and rt.type in _NUMERIC:
            return True
        if lt.type == rt.type:
            if lt.type in ("string", "boolean") and op not in ("==", "!="):
                self.problem(
                    whole,
                    f"{_WORDS[lt.type]} can only be compared with == or !=, not {op}",
                )
                return False
            return True
        hint = ""
        pair = {lt.type, rt.type}
        if pair == {"date", "string"}:
            hint = "; write a date as date('2024-01-31')"
        elif pair == {"date", "int"} or pair == {"date", "float"}:
            hint = "; to compare a number of days use days_since(x)"
        self.problem(whole, f"cannot compare {lt.words} with {rt.words}{hint}")
        return False

    def comparison(self, node: Comparison) -> _Typed:
        typed = [self.compile(o) for o in node.operands]
        exprs: list[nw.Expr] = []
        ok = True
        for i, op in enumerate(node.ops):
            left, right = node.operands[i], node.operands[i + 1]
            lt, rt = typed[i], typed[i + 1]
            whole = Comparison((left, right), (op,), (left.span[0], right.span[1]))
            if not self._pair(op, left, lt, right, rt, whole):
                ok = False
                continue
            exprs.append(_COMPARE[op](lt.expr, rt.expr))
        if not ok:
            return _ERROR
        return _Typed(_balanced(operator.and_, exprs), "boolean", "this comparison")

    def membership(self, node: Membership) -> _Typed:
        t = self.compile(node.operand)
        if not self.no_none(node.operand, t):
            return _ERROR
        kinds = {v.kind for v in node.values}
        ok = True
        for v in node.values:
            same = v.kind == t.type or (v.kind in _NUMERIC and t.type in _NUMERIC)
            if not same:
                self.problem(
                    v,
                    f"the list after 'in' holds {_lit_words(v)}, but {t.words} is {_WORDS[t.type]}",
                )
                ok = False
        if not ok:
            return _ERROR
        assert t.expr is not None
        expr = t.expr
        values: list[Any]
        if t.type == "date":
            values = [day_number_of(v.value) for v in node.values]  # type: ignore[arg-type]
        elif t.type == "float" or "float" in kinds:
            expr = _float(t)
            values = [float(v.value) for v in node.values]  # type: ignore[arg-type]
        else:
            values = [v.value for v in node.values]
        result = expr.is_in(list(dict.fromkeys(values)))
        return _Typed(~result if node.negated else result, "boolean", "this condition")

    def arithmetic(self, node: Arithmetic) -> _Typed:
        lt, rt = self.compile(node.left), self.compile(node.right)
        left_ok = self.no_none(node.left, lt)
        right_ok = self.no_none(node.right, rt)
        if not (left_ok and right_ok):
            return _ERROR
        if lt.type == "date" and rt.type == "date" and node.op == "-":
            return _Typed(
                cast(nw.Expr, lt.expr) - cast(nw.Expr, rt.expr), "int", "this number of days"
            )
        if lt.type not in _NUMERIC or rt.type not in _NUMERIC:
            hint = ""
            if "date" in (lt.type, rt.type):
                hint = (
                    "; subtract two dates to get days (last_purchase - first_purchase) or use "
                    "days_since(x)"
                )
            bad = lt if lt.type not in _NUMERIC else rt
            return self.problem(
                node, f"'{node.op}' needs numbers, but {bad.words} is {_WORDS[bad.type]}{hint}"
            )
        a, b = _float(lt), _float(rt)
        if node.op == "+":
            return _Typed(a + b, "float", "this expression (a number)")
        if node.op == "-":
            return _Typed(a - b, "float", "this expression (a number)")
        if node.op == "*":
            return _Typed(a * b, "float", "this expression (a number)")
        if isinstance(node.right, Lit):
            divisor = cast(float, node.right.value)
            if divisor == 0:
                return self.problem(node.right, "division by the constant 0")
            # polars divides by a constant by multiplying with its reciprocal; do the same on
            # every engine so that results agree to the last bit.
            return _Typed(a * nw.lit(1.0 / divisor), "float", "this expression (a number)")
        return _Typed(nw.when(b != 0).then(a / b), "float", "this expression (a number)")

    # -- functions -------------------------------------------------------------------------
    def call(self, node: Call) -> _Typed:
        name = node.name
        if name == "coalesce":
            return self.coalesce(node)
        typed = [self.compile(a) for a in node.args]
        checks = [self.no_none(a, t) for a, t in zip(node.args, typed, strict=True)]
        if not all(checks):
            return _ERROR
        handler = getattr(self, f"fn_{name}")
        return cast(_Typed, handler(node, typed))

    def expect(self, node: Call, i: int, t: _Typed, allowed: frozenset[str], what: str) -> bool:
        if t.type in allowed:
            return True
        self.problem(
            node.args[i],
            f"{node.name}() needs {what} as argument {i + 1}, but {t.words} is {_WORDS[t.type]}",
        )
        return False

    def fn_is_null(self, node: Call, typed: list[_Typed]) -> _Typed:
        (t,) = typed
        assert t.expr is not None
        return _Typed(t.expr.is_null(), "boolean", "this condition")

    def coalesce(self, node: Call) -> _Typed:
        typed = [self.compile(a) for a in node.args]
        if not all(t.ok for t in typed):
            return _ERROR
        kinds = {t.type for t in typed} - {"null"}
        if not kinds:
            return self.problem(node, "coalesce() needs at least one argument that is not None")
        if kinds <= _NUMERIC:
            kind: ValueType = "float" if "float" in kinds else "int"
        elif len(kinds) == 1:
            kind = next(iter(kinds))
        else:
            first = next(t for t in typed if t.type != "null")
            for arg, t in zip(node.args, typed, strict=True):
                if t.type not in ("null", first.type) and not (
                    t.type in _NUMERIC and first.type in _NUMERIC
                ):
                    self.problem(
                        arg,
                        f"coalesce() needs arguments of one type, but {first.words} is "
                        f"{_WORDS[first.type]} and {t.words} is {_WORDS[t.type]}",
                    )
                    break
            return _ERROR
        dtype: Any = {
            "int": nw.Int64,
            "float": nw.Float64,
            "string": nw.String,
            "boolean": nw.Boolean,
            "date": nw.Int64,
        }[kind]
        exprs = []
        for t in typed:
            if t.type == "null":
                exprs.append(nw.lit(None, dtype=dtype))
            elif kind == "float":
                exprs.append(_float(t))
            else:
                exprs.append(cast(nw.Expr, t.expr))
        return _Typed(nw.coalesce(*exprs), kind, "this coalesce()")

    def fn_between(self, node: Call, typed: list[_Typed]) -> _Typed:
        kinds = {t.type for t in typed}
        if not (kinds <= _NUMERIC or kinds == {"date"}):
            return self.problem(
                node,
                "between() needs three numbers or three dates, got "
                + ", ".join(f"{t.words} ({_WORDS[t.type]})" for t in typed),
            )
        x, lo, hi = (cast(nw.Expr, t.expr) for t in typed)
        return _Typed((lo <= x) & (x <= hi), "boolean", "this condition")

    def fn_abs(self, node: Call, typed: list[_Typed]) -> _Typed:
        if not self.expect(node, 0, typed[0], _NUMERIC, "a number"):
            return _ERROR
        return _Typed(_float(typed[0]).abs(), "float", "this expression (a number)")

    def _extreme(self, node: Call, typed: list[_Typed]) -> tuple[list[nw.Expr], ValueType] | None:
        kinds = {t.type for t in typed}
        if kinds == {"date"}:
            return [cast(nw.Expr, t.expr) for t in typed], "date"
        if kinds <= _NUMERIC:
            if "float" in kinds:
                return [_float(t) for t in typed], "float"
            return [cast(nw.Expr, t.expr) for t in typed], "int"
        self.problem(
            node,
            f"{node.name}() needs numbers (or dates), got "
            + ", ".join(f"{t.words} ({_WORDS[t.type]})" for t in typed),
        )
        return None

    def fn_min(self, node: Call, typed: list[_Typed]) -> _Typed:
        found = self._extreme(node, typed)
        if found is None:
            return _ERROR
        return _Typed(nw.min_horizontal(*found[0]), found[1], "this min()")

    def fn_max(self, node: Call, typed: list[_Typed]) -> _Typed:
        found = self._extreme(node, typed)
        if found is None:
            return _ERROR
        return _Typed(nw.max_horizontal(*found[0]), found[1], "this max()")

    def _text_test(self, node: Call, typed: list[_Typed]) -> tuple[nw.Expr, str] | None:
        if not self.expect(node, 0, typed[0], frozenset({"string"}), "text"):
            return None
        pattern = node.args[1]
        if not (isinstance(pattern, Lit) and pattern.kind == "string"):
            self.problem(pattern, f"{node.name}() needs a text constant as argument 2, e.g. 'Hair'")
            return None
        return cast(nw.Expr, typed[0].expr), cast(str, pattern.value)

    def fn_contains(self, node: Call, typed: list[_Typed]) -> _Typed:
        found = self._text_test(node, typed)
        if found is None:
            return _ERROR
        return _Typed(found[0].str.contains(found[1], literal=True), "boolean", "this condition")

    def fn_startswith(self, node: Call, typed: list[_Typed]) -> _Typed:
        found = self._text_test(node, typed)
        if found is None:
            return _ERROR
        return _Typed(found[0].str.starts_with(found[1]), "boolean", "this condition")

    def _as_of_date(self, node: Call) -> AsOf | None:
        if self.as_of is None:
            self.problem(node, f"{node.name}() counts days from as_of; pass as_of=... to evaluate")
        return self.as_of

    def fn_days_since(self, node: Call, typed: list[_Typed]) -> _Typed:
        if not self.expect(node, 0, typed[0], frozenset({"date"}), "a date"):
            return _ERROR
        as_of = self._as_of_date(node)
        if as_of is None:
            return _ERROR
        expr = days_since_expr(cast(nw.Expr, typed[0].expr), as_of.date)
        return _Typed(expr, "int", "this number of days")

    def fn_days_until(self, node: Call, typed: list[_Typed]) -> _Typed:
        if not self.expect(node, 0, typed[0], frozenset({"date"}), "a date"):
            return _ERROR
        arg = node.args[0]
        if not isinstance(arg, Column):
            # Anniversaries need the month and day, so read the date column itself.
            return self.problem(arg, "days_until() needs a date column, e.g. days_until(birthday)")
        as_of = self._as_of_date(node)
        if as_of is None:
            return _ERROR
        expr = days_until_expr(nw.col(arg.name), as_of.date)
        return _Typed(expr, "int", "this number of days")

    def fn_round(self, node: Call, typed: list[_Typed]) -> _Typed:
        if not self.expect(node, 0, typed[0], _NUMERIC, "a number"):
            return _ERROR
        digits = 0
        if len(node.args) == 2:
            arg = node.args[1]
            lo, hi = _ROUND_DIGITS
            if not (
                isinstance(arg, Lit) and arg.kind == "int" and lo <= cast(int, arg.value) <= hi
            ):
                return self.problem(
                    arg, f"round() needs a whole number of digits from {lo} to {hi} as argument 2"
                )
            digits = cast(int, arg.value)
        x = _float(typed[0])
        magnitude = (x.abs() * float(10**digits) + 0.5).floor()
        if digits:
            # Scaling back is off by an ulp on some engines (6 * 0.1); the engine's own round
            # then snaps to the nearest double of the decimal, far from any tie.
            magnitude = (magnitude * (1.0 / 10**digits)).round(digits)
        rounded = nw.when(x < 0).then(-magnitude).otherwise(magnitude)
        return _Typed(rounded, "float", "this expression (a number)")


def compile_condition(
    node: Node, schema: Mapping[str, Any], *, as_of: AsOf | None = None
) -> CompiledCondition:
    """Compile ``node`` for ``schema`` (column name -> narwhals dtype).

    Raises
    ------
    ProblemsError
        Every type problem found (unknown columns, mismatched types, ...), each with a span.
    """
    compiler = _Compiler(schema, as_of)
    typed = compiler.compile(node)
    if typed.ok and typed.type != "boolean":
        compiler.problem(
            node,
            f"a rule condition must be true or false, but {typed.words} is "
            f"{_WORDS[typed.type]}; compare it, e.g. '{_example(node)} > 0'",
        )
    if compiler.problems:
        raise ProblemsError(compiler.problems)
    assert typed.expr is not None
    names = column_names(node)
    return CompiledCondition(
        expr=typed.expr,
        columns=names,
        column_exprs={n: compiler.columns[n] for n in names if n in compiler.columns},
    )


def _example(node: Node) -> str:
    text = render(node)
    return text if len(text) <= 40 else "x"
