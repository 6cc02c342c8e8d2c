"""clean_transactions: policies, the report, parity, and the caller's frame left alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm import clean_transactions
from retailcrm.exceptions import ConfigError, InvalidDataError


def lines() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 40
    frame = pd.DataFrame(
        {
            "customer_id": [i % 6 for i in range(n)],
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n) * 3, unit="D"),
            "amount": np.round(rng.lognormal(3, 0.3, n), 2),
            "note": [f"n{i}" for i in range(n)],
        },
        index=[f"r{i}" for i in range(n)],
    )
    frame.loc["r1", "amount"] = -20.0
    frame.loc["r2", "amount"] = 0.0
    frame.loc["r3", "amount"] = 99_999.0
    frame.loc["r5"] = frame.loc["r4"]
    return frame


def test_policies_and_report() -> None:
    tx = lines()
    before = tx.copy(deep=True)
    out, report = clean_transactions(
        tx,
        returns="exclude",
        zero_amounts="drop",
        anomalies="drop",
        as_of="2024-03-31",
        duplicates="drop",
    )
    pd.testing.assert_frame_equal(tx, before)
    assert out.index.tolist()[:3] == ["r0", "r4", "r6"]  # labels kept
    rules = {a.rule: (a.rows, a.effect) for a in report.actions}
    assert rules == {
        "duplicates": (1, "dropped"),
        "after_as_of": (9, "dropped"),
        "returns": (1, "dropped"),
        "zero_amounts": (1, "dropped"),
        "anomalies": (1, "dropped"),
    }
    assert report.n_rows_in - report.n_rows_out == report.n_dropped == 13
    assert len(out) == report.n_rows_out == 27


def test_default_keeps_returns_and_reports_them() -> None:
    out, report = clean_transactions(lines())
    assert len(out) == 40  # the one duplicate is kept too: the one default of the library
    kept = {a.rule: a for a in report.actions if a.effect == "kept"}
    assert kept["returns"].rows == 1 and "total -20.00" in kept["returns"].detail
    assert kept["duplicates"].rows == 1 and "duplicates='drop'" in kept["duplicates"].detail


def test_nulls_error_by_default_and_drop_on_request() -> None:
    tx = lines()
    tx.loc["r7", "amount"] = np.nan
    with pytest.raises(InvalidDataError, match="null or NaN amount"):
        clean_transactions(tx)
    out, report = clean_transactions(tx, nulls="drop")
    assert "r7" not in out.index and report.actions[0].rule == "nulls"


def test_bad_policy_names() -> None:
    with pytest.raises(
        ConfigError,
        match=r"The 'returns' parameter of clean_transactions must be one of "
        r"\['net', 'exclude', 'keep'\]\. Got 'drop' instead\.",
    ):
        clean_transactions(lines(), returns="drop")  # type: ignore[arg-type]


def test_engine_parity(engine: str) -> None:
    kwargs = {
        "returns": "exclude",
        "zero_amounts": "drop",
        "anomalies": "drop",
        "as_of": "2024-03-31",
        "duplicates": "drop",
    }
    expected, expected_report = clean_transactions(lines().reset_index(drop=True), **kwargs)  # type: ignore[arg-type]
    native = make_native(engine, lines().reset_index(drop=True))
    got, report = clean_transactions(native, **kwargs)  # type: ignore[arg-type]
    assert_same_kind(got, native)
    assert report.actions == expected_report.actions
    assert_equal_data(to_polars(got).sort("note"), to_polars(expected).sort("note"))


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 20), st.sampled_from([-5.0, 0.0, 5.0, 7.5])),
        min_size=0,
        max_size=25,
    )
)
def test_nothing_is_lost_silently(rows: list[tuple[int, int, float]]) -> None:
    tx = pd.DataFrame(rows, columns=["customer_id", "day", "amount"])
    tx["timestamp"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(tx["day"], unit="D")
    out, report = clean_transactions(tx, returns="exclude", as_of="2024-01-15")
    assert len(tx) - len(out) == report.n_dropped
    assert report.n_rows_in == len(tx)
