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

Warnings derive from :class:`RetailCRMWarning` (a ``UserWarning``), so one filter silences or
escalates them all (a warnings filter with the category ``RetailCRMWarning``):

==========================  ===================================  ===========================
class                       also a                               emitted when
==========================  ===================================  ===========================
``IdentifiabilityWarning``  ``UserWarning``                      fitted parameters are not identified
``DataQualityWarning``      ``UserWarning``                      a default policy met data it decides
==========================  ===================================  ===========================

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
    "DataQualityWarning",
    "IdentifiabilityWarning",
    "InvalidDataError",
    "MissingColumnsError",
    "NotFittedError",
    "RetailCRMError",
    "RetailCRMWarning",
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
    """Return the candidate closest to ``name``, or ``None`` when none is close.

    Names are compared after Unicode NFKC normalisation and case folding, so ``'Timestamp'``
    answers ``'timestamp'`` and ``'frequency'`` answers the full-width ``'ｆｒｅｑｕｅｎｃｙ'``.
    Otherwise the closest candidate by :func:`difflib.get_close_matches` (similarity at least
    0.6) is returned. That similarity is below 0.6 for two-character names that differ in one
    character, common with Chinese, Japanese and Korean column names (``'城巿'`` for ``'城市'``),
    so a candidate exactly one edit away (one character replaced, inserted or deleted, or two
    neighbours swapped) is suggested too, when it is the only one and both names have at least
    two characters: ``'x'`` is not taken for a typo of ``'y'``.

    Examples
    --------
    >>> did_you_mean("order_90d", ["orders_90d", "region"])
    'orders_90d'
    >>> did_you_mean("timestamp", ["Timestamp", "amount"])
    'Timestamp'
    >>> did_you_mean("城巿", ["城市", "销售额"])
    '城市'
    >>> did_you_mean("城巿", ["城市", "城区"]) is None  # two names one edit away: no guess
    True
    >>> did_you_mean("x", ["y", "z"]) is None
    True
    """
    import unicodedata

    def fold(text: str) -> str:
        return unicodedata.normalize("NFKC", text).casefold()

    def one_edit(a: str, b: str) -> bool:
        if len(a) > len(b):
            a, b = b, a
        if len(b) - len(a) > 1 or a == b:
            return False
        start = 0
        while start < len(a) and a[start] == b[start]:
            start += 1
        if len(a) < len(b):  # one insertion
            return a[start:] == b[start + 1 :]
        if a[start + 1 :] == b[start + 1 :]:  # one replacement
            return True
        return (
            a[start : start + 2] == b[start : start + 2][::-1] and a[start + 2 :] == b[start + 2 :]
        )

    folded = {fold(str(c)): str(c) for c in candidates}
    key = fold(name)
    if key in folded:
        return folded[key]
    match = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    if match:
        return folded[match[0]]
    near = [c for k, c in folded.items() if min(len(k), len(key)) >= 2 and one_edit(key, k)]
    return near[0] if len(near) == 1 else None


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


class RetailCRMWarning(UserWarning):
    """Root of every warning that retailcrm emits on purpose."""


class IdentifiabilityWarning(RetailCRMWarning, UserWarning):
    """A model was fitted, but its data do not identify some of its parameters.

    The message names those parameters (their estimates are arbitrary and their standard
    errors NaN) and says what to do: more customers, a longer calibration period or a small
    penalizer. The criterion is described in the models user guide ("When the data do not
    identify a model").
    """


class DataQualityWarning(RetailCRMWarning, UserWarning):
    """The data have something a documented default policy decided silently otherwise.

    For example exact duplicate lines kept under the default ``duplicates="keep"``: the
    message says how many and how to choose explicitly (which silences the warning).
    """
