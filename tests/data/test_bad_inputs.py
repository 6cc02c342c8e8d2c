"""A table of bad (and legitimately odd) inputs to customer_features.

Each case states the exact error type and a message fragment — or, where the input is
legitimate, the documented result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

from retailcrm import TransactionSchema, customer_features, validate_transactions
from retailcrm.exceptions import (
    ConfigError,
    DataQualityWarning,
    InvalidDataError,
    MissingColumnsError,
    RetailCRMError,
)

AS_OF = "2024-03-31"


def frame(**overrides: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "customer_id": ["a", "a", "b"],
        "timestamp": pd.to_datetime(["2024-01-10", "2024-02-20", "2024-03-01"]),
        "amount": [10.0, 20.0, 30.0],
    }
    data.update(overrides)
    return pd.DataFrame(data)


ERRORS: list[tuple[str, Callable[[], Any], dict[str, Any], type[Exception], str]] = [
    (
        "missing amount",
        lambda: frame().drop(columns="amount"),
        {},
        MissingColumnsError,
        r"missing column 'amount'",
    ),
    (
        "two missing columns with hint",
        lambda: frame().rename(columns={"amount": "amont", "timestamp": "ts"}),
        {},
        MissingColumnsError,
        r"missing columns 'timestamp', 'amount' \(did you mean 'amont'\?\)",
    ),
    (
        "mapped column absent",
        frame,
        {"schema": TransactionSchema(amount="total")},
        MissingColumnsError,
        r"missing column 'total'.*TransactionSchema\(amount='<your column>'\)",
    ),
    (
        "amounts as words",
        lambda: frame(amount=["10", "twenty", "30"]),
        {},
        InvalidDataError,
        r"1 value in amount is not a number — rows \[1\]",
    ),
    (
        "amounts with thousands separators",
        lambda: frame(amount=["1,200.00", "20", "30"]),
        {},
        InvalidDataError,
        r"amount is not a number — rows \[0\].*thousands separators",
    ),
    (
        "boolean amounts",
        lambda: frame(amount=[True, False, True]),
        {},
        InvalidDataError,
        r"invalid transactions: \[error\] 'amount': amount (is boolean|is of type Boolean)",
    ),
    (
        "null customer id",
        lambda: frame(customer_id=["a", None, "b"]),
        {},
        InvalidDataError,
        r"1 null customer id — rows \[1\]",
    ),
    (
        "NaN amount",
        lambda: frame(amount=[10.0, np.nan, 30.0]),
        {},
        InvalidDataError,
        r"1 null or NaN amount — rows \[1\]",
    ),
    (
        "infinite amount",
        lambda: frame(amount=[10.0, np.inf, 30.0]),
        {},
        InvalidDataError,
        r"1 infinite amount — rows \[1\]",
    ),
    (
        "null timestamp",
        lambda: frame(timestamp=pd.to_datetime(["2024-01-10", None, "2024-03-01"])),
        {},
        InvalidDataError,
        r"1 missing timestamp — rows \[1\]",
    ),
    (
        "unparseable timestamp text",
        lambda: frame(timestamp=["2024-01-10", "last tuesday", "2024-03-01"]),
        {},
        InvalidDataError,
        r"cannot be read as an ISO date or time — rows \[1\]",
    ),
    (
        "US-style dates refused, not guessed",
        lambda: frame(timestamp=["01/10/2024", "02/20/2024", "03/01/2024"]),
        {},
        InvalidDataError,
        r"3 values in timestamp cannot be read",
    ),
    (
        "epoch numbers as timestamps",
        lambda: frame(timestamp=[1704844800, 1708387200, 1709251200]),
        {},
        InvalidDataError,
        r"invalid transactions: \[error\] 'timestamp': timestamp (holds numbers .*unit='s'|is of "
        r"type Int64, not a date or datetime.*seconds since 1970)",
    ),
    (
        "mixed naive and aware",
        lambda: frame(
            timestamp=[
                dt.datetime(2024, 1, 10),
                dt.datetime(2024, 2, 20, tzinfo=dt.UTC),
                dt.datetime(2024, 3, 1),
            ]
        ),
        {},
        InvalidDataError,
        r"mixes values with a UTC offset and values without one \(1 with, 2 without\) — rows \[1\]",
    ),
    (
        "mixed-type ids",
        lambda: frame(customer_id=[1, "1", 2]),
        {},
        InvalidDataError,
        r"customer_id mixes kinds of values .*rows \[1\]",
    ),
    (
        "duplicate column names",
        lambda: pd.concat([frame(), frame()[["amount"]]], axis=1),
        {},
        InvalidDataError,
        r"column 'amount' appears more than once",
    ),
    (
        "several problems at once",
        lambda: frame(customer_id=["a", None, "b"], amount=["x", "2", "3"]),
        {},
        InvalidDataError,
        r"2 problems\n - .*not a number.*\n - .*null customer id",
    ),
    (
        "aware as_of with naive data",
        frame,
        {"as_of": dt.datetime(2024, 3, 31, tzinfo=dt.UTC)},
        ConfigError,
        r"carries a time zone",
    ),
    ("as_of missing", frame, {"as_of": None}, ConfigError, r"as_of is required"),
    ("as_of garbage", frame, {"as_of": "yesterday"}, ConfigError, r"not an ISO date"),
    ("as_of of the wrong type", frame, {"as_of": 20240331}, ConfigError, r"must be a date"),
    ("not a dataframe", lambda: [{"customer_id": 1}], {}, ConfigError, r"expected a dataframe"),
    (
        "schema of the wrong type",
        frame,
        {"schema": {"amount": "x"}},
        ConfigError,
        r"schema must be a TransactionSchema",
    ),
    (
        "explicitly mapped optional column absent",
        frame,
        {"schema": TransactionSchema(category="品类")},
        MissingColumnsError,
        r"missing column '品类'.*\(or category=None if the table has no such column\)",
    ),
    (
        "mapped Chinese column with a typo",
        lambda: frame(城市=["上海", "上海", "北京"]),
        {"schema": TransactionSchema(channel="城巿")},
        MissingColumnsError,
        r"'城巿' \(did you mean '城市'\?\)",
    ),
    (
        "empty-text customer id",
        lambda: frame(customer_id=["a", "", "b"]),
        {},
        InvalidDataError,
        r"1 blank customer id \('' or only spaces\) — rows \[1\]",
    ),
    (
        "white-space customer ids",
        lambda: frame(customer_id=["  ", "a", "\t"]),
        {},
        InvalidDataError,
        r"2 blank customer ids — rows \[0, 2\]|2 blank customer ids \('' or only spaces\) — rows \[0, 2\]",
    ),
    (
        "refund flag as text",
        lambda: frame(退款=["否", "是", "否"]),
        {"schema": TransactionSchema(refund="退款")},
        InvalidDataError,
        r"refund is of type String, not a True/False flag",
    ),
    (
        "refund flag out of 0/1",
        lambda: frame(refund=[0, 1, 5]),
        {},
        InvalidDataError,
        r"1 value in refund is not 0 or 1 — rows \[2\]",
    ),
    (
        "offset and plain text mixed",
        lambda: frame(timestamp=["2024-01-10T10:00:00+08:00", "2024-02-20 10:00", "2024-03-01"]),
        {},
        InvalidDataError,
        r"mixes values with a UTC offset and values without one \(1 with, 1 without\)",
    ),
    (
        "impossible date in ISO text",
        lambda: frame(timestamp=["2024-01-10", "2024-02-30", "2024-03-01"]),
        {},
        InvalidDataError,
        r"could not be read|cannot be read",
    ),
    ("as_of NaT", frame, {"as_of": pd.NaT}, ConfigError, r"as_of is missing \(NaT\)"),
    (
        "as_of numpy NaT",
        frame,
        {"as_of": np.datetime64("NaT")},
        ConfigError,
        r"as_of is missing",
    ),
    ("as_of NaN", frame, {"as_of": float("nan")}, ConfigError, r"as_of is missing \(nan\)"),
    (
        "duplicates policy misspelt",
        frame,
        {"duplicates": "first"},
        ConfigError,
        r"The 'duplicates' parameter of customer_features must be one of \['keep', 'drop'\]\. Got 'first' "
        r"instead\. Fix: 'keep'",
    ),
    (
        "aware text as_of without a schema zone",
        frame,
        {"as_of": "2024-03-31T10:00:00+08:00"},
        ConfigError,
        r"carries a time zone, but the schema names none",
    ),
]


@pytest.mark.parametrize(
    ("case", "build", "kwargs", "error", "match"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_bad_input_raises_our_error(
    case: str, build: Callable[[], Any], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    tx = build()
    before = tx.copy(deep=True) if isinstance(tx, pd.DataFrame) else None
    call = {"as_of": AS_OF, **kwargs}
    with pytest.raises(error, match=match) as info:
        customer_features(tx, **call)
    assert isinstance(info.value, RetailCRMError)
    if before is not None:
        pd.testing.assert_frame_equal(tx, before)  # nothing mutated, even on failure


def test_text_quantity_is_named_by_validation_and_not_read_by_the_features() -> None:
    # no feature counts units: the feature table neither reads nor validates the quantity,
    # validate_transactions (which checks every mapped column) names it
    tx = frame(quantity=["1", "two", "3"])
    with pytest.raises(InvalidDataError, match=r"1 value in quantity is not a number"):
        validate_transactions(tx).raise_for_errors()
    got = customer_features(tx, as_of=AS_OF)
    pd.testing.assert_frame_equal(got, customer_features(tx.drop(columns="quantity"), as_of=AS_OF))


def test_missing_column_fix_uses_the_close_match() -> None:
    with pytest.raises(MissingColumnsError, match=r"TransactionSchema\(timestamp='timestmp'\)"):
        customer_features(frame().rename(columns={"timestamp": "timestmp"}), as_of=AS_OF)


def test_decimal_comma_fix_is_right() -> None:
    with pytest.raises(InvalidDataError, match=r"str.replace\('.', ''\).str.replace\(',', '.'\)"):
        customer_features(frame(amount=["12,50", "1", "2"]), as_of=AS_OF)


def test_missing_columns_error_is_a_key_error_with_hints() -> None:
    with pytest.raises(KeyError) as info:
        customer_features(frame().rename(columns={"amount": "Amount"}), as_of=AS_OF)
    assert info.value.hints == {"amount": "Amount"}  # type: ignore[attr-defined]


# ---- legitimate but unusual inputs: the documented results ----------------------------------


def test_empty_frame_gives_empty_table_with_all_columns() -> None:
    out = customer_features(frame().iloc[0:0], as_of=AS_OF, windows=(30,))
    assert len(out) == 0
    assert list(out.columns)[:5] == [
        "customer_id",
        "first_purchase",
        "last_purchase",
        "recency_days",
        "frequency",
    ]


def test_one_customer() -> None:
    out = customer_features(frame(customer_id=["z", "z", "z"]), as_of=AS_OF)
    assert out["customer_id"].tolist() == ["z"] and out["frequency"].item() == 3


def test_as_of_before_all_data_gives_empty_table() -> None:
    out = customer_features(frame(), as_of="2020-01-01")
    assert len(out) == 0


def test_unicode_ids_are_kept_exactly_and_sorted_by_code_point() -> None:
    ids = ["Zoë", "北京-7", "ann", "Zoë"]
    tx = pd.DataFrame(
        {
            "customer_id": ids,
            "timestamp": pd.to_datetime(["2024-01-01"] * 4),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out = customer_features(tx, as_of=AS_OF)
    assert out["customer_id"].tolist() == ["Zoë", "ann", "北京-7"]
    assert out["monetary"].tolist() == [5.0, 3.0, 2.0]


def test_numeric_text_amounts_are_parsed() -> None:
    as_text = customer_features(frame(amount=[" 10", "20.0", "3e1"]), as_of=AS_OF)
    numeric = customer_features(frame(), as_of=AS_OF)
    pd.testing.assert_frame_equal(as_text, numeric)


def test_iso_text_timestamps_are_parsed() -> None:
    text = customer_features(
        frame(timestamp=["2024-01-10", "2024-02-20T00:00:00", "2024-03-01 00:00"]), as_of=AS_OF
    )
    pd.testing.assert_frame_equal(text, customer_features(frame(), as_of=AS_OF))


def test_duplicated_lines_are_counted_as_given_with_a_warning() -> None:
    """The one default: equal lines are kept (two equal items) and the caller is told; two
    equal lines on one day are one occasion with twice the spend."""
    tx = frame(
        customer_id=["a", "a", "a"],
        timestamp=pd.to_datetime(["2024-01-10"] * 3),
        amount=[20.0, 20.0, 20.0],
    )
    with pytest.warns(DataQualityWarning, match=r"2 lines exactly repeat an earlier line"):
        out = customer_features(tx, as_of=AS_OF)
    assert out["frequency"].item() == 1 and out["monetary"].item() == 60.0
    assert customer_features(tx, as_of=AS_OF, duplicates="drop")["monetary"].item() == 20.0


def test_aware_timestamps_use_their_own_zone_or_the_schema_zone() -> None:
    ts = pd.to_datetime(["2024-03-31 23:30"]).tz_localize("UTC")
    tx = pd.DataFrame({"customer_id": ["a"], "timestamp": ts, "amount": [5.0]})
    utc = customer_features(tx, as_of="2024-03-31")
    assert utc["recency_days"].item() == 0
    berlin = customer_features(
        tx, as_of="2024-04-01", schema=TransactionSchema(timezone="Europe/Berlin")
    )
    assert berlin["last_purchase"].item().date() == dt.date(2024, 4, 1)  # 01:30 in Berlin
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        TransactionSchema(timezone="Mars/Olympus")


def test_polars_date_column_and_int_ids() -> None:
    tx = pl.DataFrame(
        {
            "customer_id": [3, 1, 3],
            "timestamp": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    out = customer_features(tx, as_of=AS_OF)
    assert isinstance(out, pl.DataFrame)
    assert out["customer_id"].to_list() == [1, 3] and out["frequency"].to_list() == [1, 2]


def test_polars_text_errors_name_row_positions() -> None:
    tx = pl.DataFrame(
        {
            "customer_id": ["a", "b"],
            "timestamp": ["2024-01-01", "2024-13-45x"],
            "amount": ["1", "2"],
        }
    )
    with pytest.raises(
        InvalidDataError, match=r"cannot be read as an ISO date or time — rows \[1\]"
    ):
        customer_features(tx, as_of=AS_OF)


#: Cases about pandas object columns (Python objects of mixed kinds) or non-frames have no
#: polars or DuckDB form; every other case runs there too.
PANDAS_ONLY = {
    "not a dataframe",
    "duplicate column names",
    "mixed-type ids",
    "mixed naive and aware",
}
ENGINE_CASES = [e for e in ERRORS if e[0] not in PANDAS_ONLY]


@pytest.mark.parametrize(
    ("case", "build", "kwargs", "error", "match"),
    ENGINE_CASES,
    ids=[e[0] for e in ENGINE_CASES],
)
@pytest.mark.parametrize("engine_name", ["polars-eager", "polars-lazy", "duckdb"])
def test_bad_input_on_other_engines(
    engine_name: str,
    case: str,
    build: Callable[[], Any],
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    """The same catalogue on polars and DuckDB: the same error type; the message's row labels
    are pandas', so only the part before them is compared."""
    from helpers import make_native

    native = make_native(engine_name, build())
    call = {"as_of": AS_OF, **kwargs}
    with pytest.raises(error, match=match.split(" — rows")[0]):
        customer_features(native, **call)


@pytest.mark.parametrize("engine_name", ["polars-eager", "polars-lazy", "duckdb"])
@pytest.mark.parametrize(
    ("role", "values", "kind"),
    [
        ("customer_id", [["a"], ["a"], ["b"]], "List"),
        ("category", [{"k": "tops"}, {"k": "shoes"}, None], "Struct"),
        ("channel", [["app"], None, ["web"]], "List"),
        ("order_id", [{"o": 1}, {"o": 2}, {"o": 3}], "Struct"),
    ],
)
def test_nested_keys_and_labels_are_refused(
    engine_name: str, role: str, values: list[Any], kind: str
) -> None:
    """Lists and structs are no ids or labels: our error, naming the column, its type and the
    fix — not the engine's own failure deep in an aggregation."""
    from helpers import make_native

    native = make_native(engine_name, frame(**{role: values}))
    with pytest.raises(InvalidDataError, match=rf"'{role}': {role} is of type {kind}.*Fix: map"):
        customer_features(native, as_of=AS_OF)
