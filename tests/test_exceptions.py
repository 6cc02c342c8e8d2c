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
    did_you_mean,
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


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("城巿", ["城市", "销售额"], "城市"),  # one character wrong in a two-character name
        ("市城", ["城市"], "城市"),  # two neighbours swapped
        ("店铺名", ["店铺", "城市"], "店铺"),
        ("ｆｒｅｑｕｅｎｃｙ", ["frequency", "recency"], "frequency"),  # full-width letters
        ("Frequency", ["frequency"], "frequency"),
        ("ab", ["ax", "region"], "ax"),  # short ASCII names, too
        ("order_90d", ["orders_90d", "region"], "orders_90d"),
    ],
)
def test_did_you_mean_suggests_close_names_in_any_script(
    name: str, candidates: list[str], expected: str
) -> None:
    assert did_you_mean(name, candidates) == expected


@pytest.mark.parametrize(
    ("name", "candidates"),
    [
        ("城巿", ["城市", "城区"]),  # two names one edit away: no guess
        ("x", ["y", "z"]),  # single characters are not typos of each other
        ("城", ["市"]),
        ("城市", ["销售额", "客户编号"]),
        ("amount", ["total", "customer_id"]),
        ("duration_holdout", ["frequency", "recency", "T"]),
        ("average_order_value", ["avg_basket", "revenue"]),
    ],
)
def test_did_you_mean_does_not_guess_wildly(name: str, candidates: list[str]) -> None:
    assert did_you_mean(name, candidates) is None
