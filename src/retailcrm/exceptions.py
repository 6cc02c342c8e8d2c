"""The retailcrm error tree.

Every error raised on purpose by retailcrm derives from :class:`RetailCRMError` *and* from the
built-in exception it resembles, so ``except KeyError`` or ``except ValueError`` clauses written
before retailcrm was adopted keep working.

==========================  ===================================  ===========================
class                       also a                               raised when
==========================  ===================================  ===========================
``MissingColumnsError``     ``KeyError``                         required columns are absent
``InvalidDataError``        ``ValueError``                       values break a rule of the data
``ConfigError``             ``ValueError``                       a parameter or config is wrong
``RuleSyntaxError``         ``ConfigError`` (so ``ValueError``)  a rule condition does not parse
``ConvergenceError``        ``RuntimeError``                     a model fit did not converge
``NotFittedError``          ``ValueError``, ``AttributeError``   an estimator is used unfitted
==========================  ===================================  ===========================

Messages say what is wrong, where (column, a few row labels, parameter) and how to fix it.

Examples
--------
>>> from retailcrm.exceptions import MissingColumnsError
>>> err = MissingColumnsError(["amount"], available=["customer_id", "amont"], role="transactions")
>>> print(err)
transactions: missing column 'amount' (did you mean 'amont'?). Available columns: ['customer_id', 'amont']. Fix: rename the column or map it with TransactionSchema(amount=...).
>>> isinstance(err, KeyError)
True
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "ConfigError",
    "ConvergenceError",
    "InvalidDataError",
    "MissingColumnsError",
    "NotFittedError",
    "RetailCRMError",
    "RuleSyntaxError",
]


class RetailCRMError(Exception):
    """Root of every error that retailcrm raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.message


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return the closest candidate to ``name`` (case-insensitive), or ``None``."""
    cands = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in cands}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def format_rows(rows: Sequence[Any], total: int | None = None) -> str:
    """Format a few example row labels: ``"rows [3, 17, 42] (and 12 more)"``."""
    shown = list(rows)
    total = len(shown) if total is None else total
    text = f"row{'s' if total != 1 else ''} {shown!r}"
    if total > len(shown):
        text += f" (and {total - len(shown)} more)"
    return text


class MissingColumnsError(RetailCRMError, KeyError):
    """One or more required columns are missing; all of them are reported at once.

    Attributes
    ----------
    columns : list of str
        The missing column names.
    available : list of str
        The columns the frame has.
    hints : dict
        For each missing column with a close match, the suggested column.
    """

    def __init__(
        self,
        columns: Sequence[str],
        *,
        available: Sequence[str],
        role: str = "frame",
        fix: str | None = None,
    ) -> None:
        self.columns = list(columns)
        self.available = [str(c) for c in available]
        self.hints = {c: h for c in self.columns if (h := did_you_mean(c, self.available))}
        parts = []
        for c in self.columns:
            hint = self.hints.get(c)
            parts.append(f"{c!r} (did you mean {hint!r}?)" if hint else repr(c))
        noun = "column" if len(self.columns) == 1 else "columns"
        fix = fix or (
            "rename the column or map it with TransactionSchema("
            + ", ".join(f"{c}=..." for c in self.columns)
            + ")."
        )
        super().__init__(
            f"{role}: missing {noun} {', '.join(parts)}. "
            f"Available columns: {self.available}. Fix: {fix}"
        )


class InvalidDataError(RetailCRMError, ValueError):
    """Values in the data break a documented rule (wrong type, nulls, impossible values).

    Attributes
    ----------
    problems : list
        The :class:`~retailcrm.data.Problem` records behind the error, when raised from a
        validation report; empty otherwise.
    """

    def __init__(self, message: str, *, problems: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class ConfigError(RetailCRMError, ValueError):
    """A parameter or configuration object is invalid."""


class RuleSyntaxError(ConfigError):
    """A rule condition cannot be parsed or compiled; the message shows where, with a caret."""


class ConvergenceError(RetailCRMError, RuntimeError):
    """A maximum-likelihood fit did not converge; the message says what to try."""


class NotFittedError(RetailCRMError, ValueError, AttributeError):
    """An estimator was used before ``fit``.

    Also a subclass of scikit-learn's ``NotFittedError`` bases (``ValueError`` and
    ``AttributeError``), so scikit-learn utilities treat it the same way.
    """
