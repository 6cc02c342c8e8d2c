"""Problem records and the validation report."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

import attrs

from retailcrm.exceptions import InvalidDataError, MissingColumnsError

__all__ = ["Problem", "ValidationReport"]

Severity = Literal["error", "warning", "info"]
_ORDER = {"error": 0, "warning": 1, "info": 2}


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


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
    examples_of : {"value", "customer_id"}
        What ``examples`` holds.
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
    rows: tuple[Any, ...] = attrs.field(default=(), converter=_tuple)
    examples: tuple[Any, ...] = attrs.field(default=(), converter=_tuple)
    examples_of: Literal["value", "customer_id"] = "value"

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
            of = " customer_id" if self.examples_of == "customer_id" else ""
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
        """The problem with this ``code``; ``KeyError`` if there is none."""
        for p in self.problems:
            if p.code == code:
                return p
        raise KeyError(code)

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
            raise InvalidDataError(_error_text(errors), problems=errors)

    def to_frame(self) -> Any:
        """The problems as a pandas DataFrame (one row per problem)."""
        import pandas as pd

        cols = ["code", "severity", "column", "count", "rows", "examples", "message", "fix"]
        return pd.DataFrame([[getattr(p, c) for c in cols] for p in self.problems], columns=cols)

    def __str__(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        head = (
            f"ValidationReport: {self.n_rows} rows, {n_err} error{'s' if n_err != 1 else ''}, "
            f"{n_warn} warning{'s' if n_warn != 1 else ''}"
        )
        return "\n".join([head, *(p.describe() for p in self.problems)])


def _error_text(errors: Sequence[Problem]) -> str:
    if len(errors) == 1:
        return "invalid transactions: " + errors[0].describe()
    lines = [f"invalid transactions: {len(errors)} problems"]
    lines += [" - " + p.describe() for p in errors]
    return "\n".join(lines)
