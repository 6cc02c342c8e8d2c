"""The error tree: our root plus the built-in each error resembles."""

from __future__ import annotations

import pytest

from retailcrm.exceptions import (
    ConfigError,
    ConvergenceError,
    InvalidDataError,
    MissingColumnsError,
    NotFittedError,
    RetailCRMError,
    RuleSyntaxError,
)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (InvalidDataError, ValueError),
        (ConfigError, ValueError),
        (RuleSyntaxError, ValueError),
        (ConvergenceError, RuntimeError),
        (NotFittedError, AttributeError),
    ],
)
def test_hierarchy(cls: type[Exception], builtin: type[Exception]) -> None:
    err = cls("boom")
    assert isinstance(err, RetailCRMError) and isinstance(err, builtin)
    assert str(err) == "boom"


def test_missing_columns_lists_all_with_hints() -> None:
    err = MissingColumnsError(["timestamp", "amount"], available=["Timestamp", "total", "x"])
    assert isinstance(err, KeyError)
    assert str(err).startswith(
        "frame: missing columns 'timestamp' (did you mean 'Timestamp'?), 'amount'."
    )
    assert err.hints == {"timestamp": "Timestamp"}
    assert (
        "Fix: rename the column or map it with TransactionSchema(timestamp=..., amount=...)"
        in str(err)
    )
    assert err.columns == ["timestamp", "amount"]
