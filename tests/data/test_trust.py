"""Regressions of the data-trust issue, each on every engine: mapped columns, ``as_of`` as a day,
refund flags, the one duplicate policy, blank ids and output dtypes."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpers import make_native, to_polars
from retailcrm import TransactionSchema, customer_features, validate_transactions
from retailcrm.data import clean_transactions
from retailcrm.exceptions import (
    ConfigError,
    DataQualityWarning,
    InvalidDataError,
    MissingColumnsError,
)
from retailcrm.models import btyd_summary


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "timestamp": pd.to_datetime(
                ["2024-12-01", "2024-12-01", "2024-12-31 18:00", "2024-12-31"], format="ISO8601"
            ),
            "amount": [100.0, 100.0, 110.0, 40.0],
        }
    )


def _row(result: object, customer: str) -> dict[str, object]:
    frame = to_polars(result)
    return frame.filter(frame["customer_id"] == customer).row(0, named=True)


def test_explicitly_mapped_missing_column_is_an_error(engine: str) -> None:
    native = make_native(engine, _tx())
    schema = TransactionSchema(category="品类")
    with pytest.raises(MissingColumnsError, match=r"missing column '品类'.*category=None"):
        customer_features(native, as_of="2024-12-31", schema=schema, duplicates="keep")
    report = validate_transactions(native, schema=schema)
    assert report.codes == ("missing_columns",)
    # a role left at its default is used only when the column exists, and the report says so
    assert validate_transactions(native).roles == {
        "customer_id": "customer_id",
        "timestamp": "timestamp",
        "amount": "amount",
    }
    with_cat = _tx().assign(品类=["鞋", "鞋", "包", "包"])
    roles = validate_transactions(make_native(engine, with_cat), schema=schema).roles
    assert roles["category"] == "品类"


def test_missing_column_suggests_a_close_chinese_name() -> None:
    frame = _tx().assign(品类名=["鞋", "鞋", "包", "包"])
    with pytest.raises(MissingColumnsError, match=r"'品类' \(did you mean '品类名'\?\)"):
        validate_transactions(frame, schema=TransactionSchema(category="品类")).raise_for_errors()


@pytest.mark.parametrize(
    "as_of",
    [
        "2024-12-31",
        dt.date(2024, 12, 31),
        pd.Timestamp("2024-12-31"),
        np.datetime64("2024-12-31"),
        dt.datetime(2024, 12, 31),
        "2024-12-31T00:00:00",
    ],
    ids=["text", "date", "Timestamp", "datetime64", "datetime", "text-midnight"],
)
def test_as_of_at_midnight_is_the_whole_day(engine: str, as_of: object) -> None:
    native = make_native(engine, _tx())
    row = _row(customer_features(native, as_of=as_of, duplicates="keep"), "a")
    assert row["frequency"] == 2  # 1 Dec (two lines, one day) and 18:00 on 31 Dec
    summary = to_polars(btyd_summary(native, observation_end=as_of, duplicates="keep"))
    assert summary.filter(summary["customer_id"] == "b")["T"].to_list() == [0.0]


def test_as_of_within_the_day_is_an_instant(engine: str) -> None:
    native = make_native(engine, _tx())
    row = _row(customer_features(native, as_of="2024-12-31T12:00", duplicates="keep"), "a")
    assert row["frequency"] == 1


@pytest.mark.parametrize("bad", [None, pd.NaT, np.datetime64("NaT"), "31/12/2024", float("nan")])
def test_bad_as_of_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="Fix:"):
        customer_features(_tx(), as_of=bad, duplicates="keep")
    with pytest.raises(ConfigError, match="Fix:"):
        btyd_summary(_tx(), observation_end=bad, duplicates="keep")
    if bad is not None:  # as_of is optional when cleaning
        with pytest.raises(ConfigError, match="Fix:"):
            clean_transactions(_tx(), as_of=bad)


def test_refund_flag_makes_a_return(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_id": ["o1", "o2", "o3"],
            "timestamp": pd.to_datetime(["2024-12-01", "2024-12-05", "2024-12-02"]),
            "amount": [300.0, 100.0, 50.0],
            "退款": [False, True, False],
        }
    )
    native = make_native(engine, frame)
    schema = TransactionSchema(refund="退款")
    row = _row(customer_features(native, as_of="2024-12-31", schema=schema), "a")
    assert (row["frequency"], row["monetary"], row["refund_amount"]) == (1, 200.0, 100.0)
    excluded = customer_features(native, as_of="2024-12-31", schema=schema, returns="exclude")
    assert _row(excluded, "a")["monetary"] == 300.0
    cleaned, _ = clean_transactions(native, schema=schema, returns="exclude")
    assert to_polars(cleaned)["order_id"].sort().to_list() == ["o1", "o3"]
    unflagged = _row(customer_features(native, as_of="2024-12-31"), "a")
    assert (unflagged["frequency"], unflagged["monetary"]) == (2, 400.0)


def test_refund_flag_must_be_boolean() -> None:
    frame = _tx().assign(refund=["no", "no", "yes", "no"])
    with pytest.raises(InvalidDataError, match=r"refund is of type String, not a True/False flag"):
        customer_features(
            frame, as_of="2024-12-31", schema=TransactionSchema(refund="refund"), duplicates="keep"
        )
    ints = _tx().assign(flag=[0, 1, 2, 0])
    with pytest.raises(InvalidDataError, match=r"1 value in refund is not 0 or 1 — rows \[2\]"):
        customer_features(
            ints, as_of="2024-12-31", schema=TransactionSchema(refund="flag"), duplicates="keep"
        )


def test_one_duplicate_policy_everywhere(engine: str) -> None:
    native = make_native(engine, _tx())
    with pytest.warns(DataQualityWarning, match=r"1 line exactly repeats an earlier line"):
        kept = _row(customer_features(native, as_of="2024-12-31"), "a")
    assert kept["monetary"] == 310.0
    with warnings.catch_warnings(action="error"):
        explicit = _row(customer_features(native, as_of="2024-12-31", duplicates="keep"), "a")
        dropped = _row(customer_features(native, as_of="2024-12-31", duplicates="drop"), "a")
    assert explicit["monetary"] == 310.0 and dropped["monetary"] == 210.0
    cleaned, _ = clean_transactions(native, duplicates="drop")
    assert _row(customer_features(cleaned, as_of="2024-12-31"), "a")["monetary"] == 210.0
    _, default_report = clean_transactions(native)
    kept_rule = {a.rule: a for a in default_report.actions}["duplicates"]
    assert (kept_rule.rows, kept_rule.effect) == (1, "kept")
    with pytest.warns(DataQualityWarning, match="duplicates='drop'"):
        btyd_summary(native, observation_end="2024-12-31")
    got = to_polars(btyd_summary(native, observation_end="2024-12-31", duplicates="drop"))
    assert got.filter(got["customer_id"] == "a")["monetary_value"].to_list() == [110.0]


def test_duplicate_policy_is_checked() -> None:
    with pytest.raises(
        ConfigError,
        match=r"The 'duplicates' parameter of customer_features must be one of \['keep', 'drop'\]",
    ):
        customer_features(_tx(), as_of="2024-12-31", duplicates="first")  # type: ignore[arg-type]


def test_duplicate_warning_points_at_the_callers_line() -> None:
    with pytest.warns(DataQualityWarning) as caught:
        customer_features(_tx(), as_of="2024-12-31")
    assert caught[0].filename == __file__


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_customer_ids_are_errors(engine: str, blank: str) -> None:
    frame = _tx().assign(customer_id=["a", blank, "a", "b"])
    native = make_native(engine, frame)
    report = validate_transactions(native)
    assert report["customer_id_blank"].count == 1
    if engine in ("pandas-numpy", "pandas-nullable", "pandas-pyarrow", "polars-eager"):
        assert report["customer_id_blank"].rows == (1,)
    with pytest.raises(InvalidDataError, match=r"1 blank customer id \('' or only spaces\)"):
        customer_features(native, as_of="2024-12-31", duplicates="keep")


@pytest.mark.parametrize("flavour", ["numpy", "numpy_nullable", "pyarrow"])
def test_datetime_outputs_stay_datetimes(flavour: str) -> None:
    frame = _tx()
    frame = frame if flavour == "numpy" else frame.convert_dtypes(dtype_backend=flavour)
    one_nullable = _tx().assign(amount=pd.array([100, 100, 110, 40], dtype="Int64"))
    for data in (frame, one_nullable):
        out = customer_features(data, as_of="2024-12-31", duplicates="keep")
        for col in ("first_purchase", "last_purchase"):
            assert pd.api.types.is_datetime64_any_dtype(out[col]) or (
                flavour == "pyarrow" and str(out[col].dtype) == "date32[day][pyarrow]"
            ), (flavour, col, out[col].dtype)
            assert out[col].dtype != object


def test_notebook_display_of_reports_and_sample_data() -> None:
    from retailcrm.data import sample_data

    frame = _tx().assign(amount=[100.0, 100.0, 0.0, 40.0])
    report = validate_transactions(frame)
    assert repr(report) == (
        "<ValidationReport: 4 rows, 0 errors, 2 warnings: zero_amount, duplicate_lines>"
    )
    html = report._repr_html_()
    assert html.count("<tr>") == 3  # a header row and one row per problem
    assert "zero_amount" in html and "columns used: customer_id = &#x27;customer_id&#x27;" in html
    with pytest.raises(
        KeyError, match=r"no problem with code 'zero_amounts'.*did you mean 'zero_amount'"
    ):
        report["zero_amounts"]
    _, cleaning = clean_transactions(frame, duplicates="drop")
    assert repr(cleaning) == (
        "<CleaningReport: 4 rows in, 3 out: duplicates 1 dropped, zero_amounts 1 kept>"
    )
    assert "<td" in cleaning._repr_html_() and "duplicates" in cleaning._repr_html_()
    text = repr(sample_data(50, seed=1))
    assert text.splitlines()[0] == "SampleData(2023-01-01 → 2024-12-31)"
    assert len(text.splitlines()) == 7 and "transactions" in text and "events" in text


def test_a_report_escapes_what_it_shows() -> None:
    frame = _tx().rename(columns={"amount": "<i>amt</i>"})
    schema = TransactionSchema(amount="<i>amt</i>")
    html = validate_transactions(frame, schema=schema)._repr_html_()
    assert "<i>" not in html and "amount = &#x27;&lt;i&gt;amt&lt;/i&gt;&#x27;" in html


@pytest.mark.parametrize("engine_name", ["pandas-numpy", "pandas-pyarrow", "polars-eager"])
def test_repeat_detection_is_exact_and_keeps_the_first(engine_name: str) -> None:
    """Hash first, compare exactly after: near-repeats (a different unmapped column, a null
    against a value) are not repeats; every later copy of a line is, the first is kept."""
    from retailcrm._engine import engine_of
    from retailcrm.data._prepare import duplicate_lines

    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "a"],
            "amount": [1.0, 1.0, 1.0, 2.0, None, 1.0],
            "note": ["x", "x", "y", None, None, "x"],
        }
    )
    native = make_native(engine_name, frame)
    n, rows, keep = duplicate_lines(native, engine_of(native))
    assert n == 2 and rows == [1, 5]
    assert keep.tolist() == [True, False, True, True, True, False]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", None]),
            st.sampled_from([1.0, 2.5, None]),
            st.sampled_from(["x", "y", None]),
            st.integers(0, 30),
        ),
        max_size=150,
    ),
    hashed=st.sampled_from([["customer_id"], ["customer_id", "amount"], ["note", "qty"]]),
)
@example(  # 20 shared hashes of qty: polars' is_in finds the candidates
    rows=[("a", 1.0, "x", q % 20) for q in range(60)] + [("b", 2.5, None, q) for q in range(10)],
    hashed=["qty"],
)
def test_repeats_found_from_some_columns_are_those_of_every_column(
    rows: list[tuple[Any, Any, Any, int]], hashed: list[str]
) -> None:
    """A frame's duplicate search may hash only the columns a function reads (lines
    equal in every column are equal in those) and then compare the candidates in every
    column: the same repeats as pandas' own ``duplicated`` — with few shared hashes (numpy
    finds their lines) and with many (polars' ``is_in``)."""
    from retailcrm._engine import engine_of
    from retailcrm.data._prepare import converted_once, duplicate_lines

    frame = pd.DataFrame(rows, columns=["customer_id", "amount", "note", "qty"])
    frame.index = frame.index * 3 + 7  # labels are reported, not positions
    expected = frame.duplicated(keep="first").to_numpy()
    for converted in (None, converted_once(frame, columns=hashed)):
        n, examples, keep = duplicate_lines(frame, engine_of(frame), converted)
        assert n == int(expected.sum())
        assert examples == list(frame.index[expected][:5])
        assert keep.tolist() == (~expected).tolist()
    # a polars frame hashes only ``hashed`` too, then compares the candidates in every column
    native = pl.from_pandas(frame.reset_index(drop=True))
    for columns in (None, hashed):
        n, examples, keep = duplicate_lines(native, engine_of(native), None, columns)
        assert n == int(expected.sum())
        assert examples == np.flatnonzero(expected)[:5].tolist()
        assert keep.tolist() == (~expected).tolist()


@pytest.mark.parametrize(
    "engine_name", ["polars-lazy", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]
)
def test_lazy_repeat_count_is_exact_when_hashes_collide(engine_name: str) -> None:
    """Lazy engines count repeats in the engine, by a hash of each line first: lines whose
    hashes collide are compared exactly. Spark's ``xxhash64`` skips nulls, so ("a", null) and
    (null, "a") hash alike: a count that trusted the hash would call them repeats."""
    from retailcrm._engine import engine_of
    from retailcrm.data._prepare import duplicate_lines

    frame = pd.DataFrame(
        {
            "customer_id": ["a", None, "b", "b", "c", "b"],
            "note": [None, "a", "x", "x", "y", "x"],
        }
    )
    native = make_native(engine_name, frame)
    n, rows, keep = duplicate_lines(native, engine_of(native))
    assert (n, rows, keep) == (2, [], None)
    n, _, _ = duplicate_lines(make_native(engine_name, frame.head(2)), engine_of(native))
    assert n == 0


@pytest.mark.parametrize("timestamps", ["datetime", "text"])
def test_pandas_columns_converted_once_give_the_same_prepared_frame(
    timestamps: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the default duplicate policy a pandas frame goes to polars once, for the duplicate
    search, and validation reuses the columns its pre-pass left alone (a column it changes,
    here text timestamps, is converted on its own): the prepared frame is the same as without
    the sharing (``duplicates="keep"`` converts the mapped columns only), with Chinese column
    names, an unmapped column and a non-default index."""
    from retailcrm.data._prepare import prepare_transactions

    stamps = ["2024-01-02 10:00", "2024-01-02 10:00", "2024-02-03 11:30", "2024-03-04 09:15"]
    tx = pd.DataFrame(
        {
            "会员": ["甲", "甲", "乙", "丙"],
            "时间": stamps if timestamps == "text" else pd.to_datetime(stamps),
            "金额": [10.0, 10.0, -2.5, 7.25],
            "门店": ["上海", "上海", "北京", "上海"],
        },
        index=[10, 11, 12, 13],
    )
    schema = TransactionSchema(customer_id="会员", timestamp="时间", amount="金额")
    from retailcrm.data import _prepare

    calls: dict[str, list[list[str]]] = {"all": [], "mapped": []}
    for fn, key in (("polars_through_arrow", "all"), ("pandas_to_polars", "mapped")):
        real = getattr(_prepare, fn)

        def record(df: Any, _real: Any = real, _key: str = key) -> Any:
            calls[_key].append(list(df.columns))
            return _real(df)

        monkeypatch.setattr(_prepare, fn, record)
    match = r"1 line exactly repeats an earlier line \(rows \[11\]\)"
    with pytest.warns(DataQualityWarning, match=match):
        shared = prepare_transactions(tx, schema=schema).frame.collect().to_native()
    # the mapped columns once, for the duplicate search and validation (the two lines whose
    # mapped columns are equal are then compared in every column, 门店 included, by Arrow)
    assert calls["all"] == [["会员", "时间", "金额"]]
    # only a column the pre-pass changed is converted again
    assert calls["mapped"] == ([["timestamp"]] if timestamps == "text" else [])
    calls["all"].clear()
    alone = prepare_transactions(tx, schema=schema, duplicates="keep").frame.collect().to_native()
    assert shared.equals(alone)
    assert shared.columns == alone.columns
