"""Problem records and the validation report."""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

import attrs

from retailcrm.exceptions import InvalidDataError, MissingColumnsError

__all__ = ["Problem", "ValidationReport", "html_table", "plain_value"]

Severity = Literal["error", "warning", "info"]
_ORDER = {"error": 0, "warning": 1, "info": 2}


def _plain_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(plain_value(v) for v in value)


def plain_value(value: Any) -> Any:
    """numpy / pandas scalars -> Python scalars, for readable messages."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _role_dict(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(value).items()}


@attrs.frozen(kw_only=True)
class Problem:
    """One finding of :func:`~retailcrm.validate_transactions`.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"amount_not_numeric"``; see the Data guide for the list.
    severity : {"error", "warning", "info"}
        Errors stop :func:`~retailcrm.customer_features`; warnings are handled by a documented
        policy (e.g. ignored or cleaned); info records a policy being applied.
    column : str or None
        The caller's column name the problem is about.
    count : int
        How many rows have it.
    rows : tuple
        Up to five example row labels (pandas index labels, or row positions for polars and
        pyarrow). Empty for lazy engines (DuckDB, Spark, polars lazy), which have no row order.
    examples : tuple
        Up to five example values: the offending values where rows have labels, otherwise (lazy
        engines) the customer ids of offending rows — ``examples_of`` says which.
    examples_of : str
        What ``examples`` holds: ``"value"``, or the role whose values identify the offending
        rows on lazy engines (``"customer_id"``; for a side table whose customer id is itself
        missing, another role such as ``"timestamp"``).
    message : str
        What is wrong.
    fix : str
        How to fix it.
    """

    code: str
    severity: Severity
    column: str | None
    count: int
    message: str
    fix: str
    rows: tuple[Any, ...] = attrs.field(default=(), converter=_plain_tuple)
    examples: tuple[Any, ...] = attrs.field(default=(), converter=_plain_tuple)
    examples_of: str = "value"

    def describe(self) -> str:
        """One line: severity, column, message, examples and fix."""
        where = f"{self.column!r}: " if self.column else ""
        text = f"[{self.severity}] {where}{self.message}"
        if self.rows:
            more = (
                f" (and {self.count - len(self.rows)} more)" if self.count > len(self.rows) else ""
            )
            text += f" — rows {list(self.rows)}{more}"
        elif self.examples:
            of = "" if self.examples_of == "value" else f" {self.examples_of}"
            text += f" — e.g.{of} {list(self.examples)}"
        return f"{text}. Fix: {self.fix}"


def _by_severity(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: _ORDER[p.severity]))


@attrs.frozen(kw_only=True)
class ValidationReport:
    """Every problem found in a transaction table, most severe first.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm import validate_transactions
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", None],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-09"]),
    ...     "amount": [25.0, 0.0, 12.5],
    ... })
    >>> report = validate_transactions(tx)
    >>> report.ok
    False
    >>> print(report)
    ValidationReport: 3 rows, 1 error, 1 warning
    [error] 'customer_id': 1 null customer id — rows [2]. Fix: drop these rows or fill the id; every line must belong to a customer.
    [warning] 'amount': 1 zero amount — rows [1]. Fix: zero lines are kept but add nothing to spend; drop them if they are not purchases (e.g. free samples).
    """

    n_rows: int
    problems: tuple[Problem, ...] = attrs.field(converter=_by_severity)
    missing: MissingColumnsError | None = None
    #: Which of the caller's columns played which role (role -> column): the required roles,
    #: every explicitly mapped role, and the optional roles found under their default names.
    #: The data guide lists which features each role adds.
    roles: dict[str, str] = attrs.field(factory=dict, converter=_role_dict)
    #: The kind of table checked ("transactions", "customers", "events", …), named in errors.
    table: str = "transactions"

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems with severity ``"error"``."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems with severity ``"warning"``."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings and info allowed)."""
        return not self.errors

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def __getitem__(self, code: str) -> Problem:
        """The problem with this ``code``; ``KeyError`` (with a hint) if there is none."""
        for p in self.problems:
            if p.code == code:
                return p
        raise KeyError(_unknown_code(code, self.codes))

    def __contains__(self, code: object) -> bool:
        return any(p.code == code for p in self.problems)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of all problems found."""
        return tuple(p.code for p in self.problems)

    def raise_for_errors(self) -> None:
        """Raise if there are errors: :class:`MissingColumnsError` for missing columns,
        otherwise :class:`InvalidDataError` listing every error at once."""
        if self.missing is not None:
            raise self.missing
        errors = self.errors
        if errors:
            raise InvalidDataError(_error_text(errors, self.table), problems=errors)

    def to_frame(self) -> Any:
        """The problems as a pandas DataFrame (one row per problem)."""
        import pandas as pd

        cols = ["code", "severity", "column", "count", "rows", "examples", "message", "fix"]
        return pd.DataFrame([[getattr(p, c) for c in cols] for p in self.problems], columns=cols)

    def __repr__(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        codes = ", ".join(self.codes) or "no problems"
        return (
            f"<ValidationReport: {self.n_rows} rows, {n_err} error{'s' if n_err != 1 else ''}, "
            f"{n_warn} warning{'s' if n_warn != 1 else ''}: {codes}>"
        )

    def _repr_html_(self) -> str:
        """A compact table of the problems, for notebooks."""
        head = html.escape(str(self).splitlines()[0])
        roles = ", ".join(f"{r} = {c!r}" for r, c in self.roles.items())
        rows = [
            (p.severity, p.code, p.column or "", p.count, _where(p), p.message, p.fix)
            for p in self.problems
        ]
        return html_table(
            head,
            f"columns used: {roles}" if roles else "",
            ("severity", "code", "column", "rows", "examples", "message", "fix"),
            rows,
        )

    def __str__(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        head = (
            f"ValidationReport: {self.n_rows} rows, {n_err} error{'s' if n_err != 1 else ''}, "
            f"{n_warn} warning{'s' if n_warn != 1 else ''}"
        )
        return "\n".join([head, *(p.describe() for p in self.problems)])


def _unknown_code(code: object, codes: Sequence[str]) -> str:
    from retailcrm.exceptions import did_you_mean

    known = sorted(set(codes))
    hint = did_you_mean(str(code), known) if isinstance(code, str) else None
    text = f"no problem with code {code!r} in this report"
    if hint:
        text += f" (did you mean {hint!r}?)"
    return text + f". Codes found: {known}. Test first with `code in report`."


def _where(p: Problem) -> str:
    if p.rows:
        more = f" (+{p.count - len(p.rows)})" if p.count > len(p.rows) else ""
        return f"rows {list(p.rows)}{more}"
    if p.examples:
        of = "" if p.examples_of == "value" else f"{p.examples_of} "
        return f"e.g. {of}{list(p.examples)}"
    return ""


def html_table(
    title: str, subtitle: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> str:
    """A small self-contained HTML table (escaped), as notebooks display it."""
    cell = "padding:2px 8px;text-align:left;vertical-align:top"
    head = "".join(f'<th style="{cell}">{html.escape(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}">{html.escape(str(v))}</td>' for v in row) + "</tr>"
        for row in rows
    )
    sub = f"<div><small>{html.escape(subtitle)}</small></div>" if subtitle else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" if rows else ""
    return f"<div><strong>{title}</strong>{sub}{table}</div>"


def _error_text(errors: Sequence[Problem], table: str = "transactions") -> str:
    if len(errors) == 1:
        return f"invalid {table}: " + errors[0].describe()
    lines = [f"invalid {table}: {len(errors)} problems"]
    lines += [" - " + p.describe() for p in errors]
    return "\n".join(lines)
