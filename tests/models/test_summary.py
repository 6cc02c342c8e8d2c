"""btyd_summary: hand-computed cases, the CDNOW conventions, engine parity, invariants."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import assert_equal_data, assert_same_kind, to_polars
from retailcrm import TransactionSchema, validate_transactions
from retailcrm.data._prepare import prepare_transactions, reading_only
from retailcrm.exceptions import ConfigError, DataQualityWarning, MissingColumnsError
from retailcrm.models import BetaGeoModel, btyd_summary, btyd_summary_excluded

COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value"]
HOLDOUT = ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "ann", "ann", "ann", "bob", "bob", "cy", "dan", "eve"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:30",  # one purchase day: 30
                    "2024-01-15 10:00",  # repeat: 20
                    "2024-01-20 11:00",  # refund day only: ignored
                    "2024-02-12 12:00",  # holdout: 40
                    "2024-01-08 00:00",
                    "2024-01-29 23:59",  # first, then a $0 repeat day
                    "2024-02-05 08:00",  # first purchase in the holdout
                    "2024-01-10 08:00",  # refund only: never a purchase
                    "2024-03-02 08:00",  # after observation_end
                ]
            ),
            "amount": [10.0, 20.0, 20.0, -15.0, 40.0, 12.0, 0.0, 8.0, -5.0, 9.0],
        }
    )


def test_hand_computed_in_weeks_and_days(tx: pd.DataFrame) -> None:
    s = btyd_summary(tx, observation_end="2024-02-29")
    assert list(s.columns) == COLUMNS
    assert s["customer_id"].tolist() == ["ann", "bob", "cy"]  # dan never bought, eve too late
    assert s["frequency"].tolist() == [2, 1, 0]
    np.testing.assert_allclose(s["recency"], [42 / 7, 21 / 7, 0.0])
    np.testing.assert_allclose(s["T"], [59 / 7, 52 / 7, 24 / 7])
    np.testing.assert_allclose(s["monetary_value"], [30.0, 0.0, 0.0])  # (20 + 40) / 2; $0 day

    d = btyd_summary(tx, observation_end="2024-02-29", time_unit="D")
    np.testing.assert_allclose(d["recency"], [42.0, 21.0, 0.0])
    np.testing.assert_allclose(d["T"], [59.0, 52.0, 24.0])
    m = btyd_summary(tx, observation_end="2024-02-29", time_unit="M")
    np.testing.assert_allclose(m["T"], np.array([59.0, 52.0, 24.0]) / 30.4375)


def test_holdout_columns_and_exclusions(tx: pd.DataFrame) -> None:
    s = btyd_summary(tx, observation_end="2024-02-29", calibration_end="2024-01-31", time_unit="D")
    assert list(s.columns) == COLUMNS + HOLDOUT
    assert s["customer_id"].tolist() == ["ann", "bob"]
    assert s["frequency"].tolist() == [1, 1]
    np.testing.assert_allclose(s["recency"], [14.0, 21.0])
    np.testing.assert_allclose(s["T"], [30.0, 23.0])
    np.testing.assert_allclose(s["monetary_value"], [20.0, 0.0])
    assert s["frequency_holdout"].tolist() == [1, 0]
    np.testing.assert_allclose(s["monetary_value_holdout"], [40.0, 0.0])
    np.testing.assert_allclose(s["duration_holdout"], [29.0, 29.0])

    excluded = btyd_summary_excluded(tx, observation_end="2024-02-29", calibration_end="2024-01-31")
    assert excluded["customer_id"].tolist() == ["cy"]
    assert excluded["first_purchase"].dt.strftime("%Y-%m-%d").tolist() == ["2024-02-05"]


def test_a_datetime_observation_end_counts_its_whole_day(tx: pd.DataFrame) -> None:
    by_date = btyd_summary(tx, observation_end="2024-01-29")
    by_time = btyd_summary(tx, observation_end=dt.datetime(2024, 1, 29, 0, 1))
    pd.testing.assert_frame_equal(by_date, by_time)
    assert by_date.loc[by_date["customer_id"] == "bob", "recency"].item() == 3.0  # 23:59 kept


def test_schema_maps_columns(tx: pd.DataFrame) -> None:
    renamed = tx.rename(columns={"customer_id": "member", "timestamp": "at", "amount": "paid"})
    schema = TransactionSchema(customer_id="member", timestamp="at", amount="paid")
    got = btyd_summary(renamed, observation_end="2024-02-29", schema=schema)
    pd.testing.assert_frame_equal(got, btyd_summary(tx, observation_end="2024-02-29"))


def test_parameter_errors(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"'time_unit' parameter of btyd_summary must be one of"):
        btyd_summary(tx, observation_end="2024-02-29", time_unit="Y")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"calibration_end \(2024-02-29\) must be before"):
        btyd_summary(tx, observation_end="2024-02-29", calibration_end="2024-02-29")
    with pytest.raises(ConfigError, match="observation_end is required"):
        btyd_summary(tx, observation_end=None)
    with pytest.raises(ConfigError, match="needs calibration_end"):
        btyd_summary_excluded(tx, observation_end="2024-02-29", calibration_end=None)
    with pytest.raises(MissingColumnsError, match="amount"):
        btyd_summary(tx.drop(columns="amount"), observation_end="2024-02-29")


def test_reads_only_its_columns_but_duplicates_compare_all(
    tx: pd.DataFrame, constructor: object, engine: str
) -> None:
    """Columns btyd_summary does not read are not validated (validate_transactions still
    reports them); a mapped-but-missing column and the refund flag still count, and the
    duplicate search still compares every column."""
    want = btyd_summary(tx, observation_end="2024-02-29")
    junk = tx.assign(quantity=["1", "two"] * 5)
    if engine.startswith("pandas"):  # mixed kinds exist only in object columns
        junk = junk.assign(channel=[1, "web"] * 5)
    got = btyd_summary(constructor(junk), observation_end="2024-02-29")  # type: ignore[operator]
    assert_equal_data(got, want)
    codes = {p.code for p in validate_transactions(junk).problems if p.severity == "error"}
    assert "quantity_not_numeric" in codes

    with pytest.raises(MissingColumnsError, match="till"):
        btyd_summary(tx, observation_end="2024-02-29", schema=TransactionSchema(channel="till"))

    flagged = tx.assign(amount=tx["amount"].abs(), refund=tx["amount"] < 0)
    assert_equal_data(btyd_summary(flagged, observation_end="2024-02-29"), want)

    twice = pd.concat([tx, tx.iloc[[0]]], ignore_index=True)
    with pytest.warns(DataQualityWarning, match="1 lines? exactly repeat"):
        btyd_summary(twice, observation_end="2024-02-29")
    apart = twice.assign(channel=["web"] * len(tx) + ["store"])  # equal but for the channel
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        btyd_summary(apart, observation_end="2024-02-29")


def test_prepared_lines_keep_only_the_read_roles(tx: pd.DataFrame) -> None:
    full = tx.assign(order_id=range(10), quantity=1, channel="web", category="tea")
    names = prepare_transactions(full, duplicates="keep", reads=()).frame.collect_schema().names()
    assert "channel" not in names and "quantity" not in names and "order_id" not in names
    names = prepare_transactions(full, duplicates="keep").frame.collect_schema().names()
    assert {"channel", "quantity", "order_id", "category"} <= set(names)
    schema = TransactionSchema(channel="till", category=None)
    kept = reading_only(schema, ["order_id"], ["customer_id", "order_id", "quantity"])
    assert kept is not None and kept.roles["channel"] == "till"  # missing and explicit: stays
    assert kept.roles["order_id"] == "order_id" and kept.roles.get("quantity") is None


def test_engine_parity(constructor: object, engine: str, tx: pd.DataFrame) -> None:
    native = constructor(tx)  # type: ignore[operator]
    got = btyd_summary(native, observation_end="2024-02-29", calibration_end="2024-01-31")
    assert_same_kind(got, native)
    want = btyd_summary(tx, observation_end="2024-02-29", calibration_end="2024-01-31")
    assert list(want.columns) == COLUMNS + HOLDOUT
    assert_equal_data(got, want)
    excluded = to_polars(
        btyd_summary_excluded(native, observation_end="2024-02-29", calibration_end="2024-01-31")
    )
    assert excluded["customer_id"].to_list() == ["cy"]


# ------------------------------------------------------------------------------------ CDNOW
def test_cdnow_sample_literature_conventions(
    cdnow_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
) -> None:
    s = btyd_summary(cdnow_transactions, observation_end="1997-09-30")
    assert len(s) == 2357
    assert int(s["frequency"].sum()) == 2457
    assert int((s["frequency"] > 0).sum()) == 946
    first_day = s.loc[s["customer_id"] == 1]
    assert first_day["T"].item() == pytest.approx(272 / 7)  # 38.86 weeks, as published
    assert first_day["recency"].item() == pytest.approx(213 / 7)
    # the test-only builder of tests/models/conftest.py agrees exactly
    ref = cdnow_summary.loc[s["customer_id"].to_numpy()]
    for c in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(s[c].to_numpy(), ref[c].to_numpy(), rtol=1e-12, atol=1e-12)


def test_cdnow_reproduces_the_published_bgnbd_log_likelihood(
    cdnow_transactions: pd.DataFrame,
) -> None:
    """Fader, Hardie & Lee (2005): LL -9582.4 at r=0.243, alpha=4.414, a=0.793, b=2.426 —
    reproduced with T measured to 1997-09-30; counting that day again (T + 1/7) would not."""
    s = btyd_summary(cdnow_transactions, observation_end="1997-09-30")
    model = BetaGeoModel().fit(s)
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert model.params_["alpha"] == pytest.approx(4.414, rel=1e-3)
    shifted = s.assign(T=s["T"] + 1 / 7)
    assert BetaGeoModel().fit(shifted).log_likelihood_ == pytest.approx(-9589.9, abs=0.3)


def test_cdnow_calibration_and_holdout(cdnow_transactions: pd.DataFrame) -> None:
    s = btyd_summary(cdnow_transactions, observation_end="1998-06-30", calibration_end="1997-09-30")
    assert len(s) == 2357  # every customer first bought in 1997 Q1
    assert int(s["frequency"].sum()) == 2457
    assert int(s["frequency_holdout"].sum()) == 1882
    assert s["duration_holdout"].unique().tolist() == [39.0]
    assert s.loc[s["customer_id"] == 1, "monetary_value_holdout"].item() == pytest.approx(26.48)
    early = btyd_summary(
        cdnow_transactions, observation_end="1998-06-30", calibration_end="1997-02-15"
    )
    excluded = btyd_summary_excluded(
        cdnow_transactions, observation_end="1998-06-30", calibration_end="1997-02-15"
    )
    assert len(early) + len(excluded) == 2357
    assert len(excluded) == 1128
    assert not set(early["customer_id"]) & set(excluded["customer_id"])


# ------------------------------------------------------------------------------- invariants
lines = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(0, 70),  # day offset
        st.integers(0, 23),  # hour
        st.sampled_from([-25.0, -5.0, 0.0, 3.5, 10.0, 42.0]),
    ),
    min_size=1,
    max_size=40,
)
START = pd.Timestamp("2024-01-01")


def _frame(rows: list[tuple[str, int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "timestamp": [START + pd.Timedelta(days=r[1], hours=r[2]) for r in rows],
            "amount": [r[3] for r in rows],
        }
    )


def _reference(tx: pd.DataFrame, end: pd.Timestamp, cal: pd.Timestamp) -> pd.DataFrame:
    """Plain pandas, from the docstring's definitions."""
    df = tx.assign(date=tx["timestamp"].dt.normalize())
    df = df[df["date"] <= end]
    days = df.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    days = days[days["amount"] >= 0]
    rows = []
    for cust, g in days.groupby("customer_id"):
        g = g.sort_values("date")
        first = g["date"].iloc[0]
        if first > cal:
            continue
        calib = g[g["date"] <= cal]
        hold = g[g["date"] > cal]
        x = len(calib) - 1
        rows.append(
            {
                "customer_id": cust,
                "frequency": x,
                "recency": (calib["date"].iloc[-1] - first).days / 7,
                "T": (cal - first).days / 7,
                "monetary_value": calib["amount"].iloc[1:].mean() if x else 0.0,
                "frequency_holdout": len(hold),
                "monetary_value_holdout": hold["amount"].mean() if len(hold) else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=[*COLUMNS, *HOLDOUT[:2]])


@given(rows=lines, seed=st.integers(0, 1000))
def test_invariants_match_reference_and_ignore_row_order(
    rows: list[tuple[str, int, int, float]], seed: int
) -> None:
    tx = _frame(rows)
    before = tx.copy()
    end, cal = pd.Timestamp("2024-03-01"), pd.Timestamp("2024-02-01")
    s = btyd_summary(tx, observation_end=end.date(), calibration_end=cal.date(), duplicates="keep")
    pd.testing.assert_frame_equal(tx, before)  # input unchanged
    ref = _reference(tx, end, cal)
    assert s["customer_id"].tolist() == sorted(ref["customer_id"])  # each exactly once
    ref = ref.sort_values("customer_id").reset_index(drop=True)
    for c in [*COLUMNS[1:], *HOLDOUT[:2]]:
        np.testing.assert_allclose(s[c].to_numpy(float), ref[c].to_numpy(float), atol=1e-12)
    assert (s["recency"] <= s["T"]).all()
    assert s["frequency"].dtype.kind == "i" and (s["frequency"] >= 0).all()  # whole numbers
    assert (s.loc[s["frequency"] == 0, "recency"] == 0).all()
    assert (s["monetary_value"] >= 0).all()
    shuffled = tx.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    again = btyd_summary(
        shuffled, observation_end=end.date(), calibration_end=cal.date(), duplicates="keep"
    )
    pd.testing.assert_frame_equal(s, again, check_exact=True)  # bit-identical


@given(rows=lines)
def test_every_buyer_appears_exactly_once(rows: list[tuple[str, int, int, float]]) -> None:
    tx = _frame(rows)
    s = btyd_summary(tx, observation_end="2024-03-31", duplicates="keep")
    days = tx.assign(date=tx["timestamp"].dt.normalize()).groupby(["customer_id", "date"])
    buyers = {c for (c, _), net in days["amount"].sum().items() if net >= 0}
    assert s["customer_id"].tolist() == sorted(buyers)


@given(rows=lines, cut=st.sampled_from([None, 10, 31, 45, 70]))
def test_the_polars_plan_equals_the_portable_plan(
    rows: list[tuple[str, int, int, float]], cut: int | None
) -> None:
    """polars (pandas and polars input) aggregates the purchase days in one group-by; DuckDB
    and Spark join each customer's first day. Same per-customer columns, to the bit, with and
    without a holdout and with days after the period's end."""
    from retailcrm._dates import day_number_of
    from retailcrm.features._btyd import _per_customer, _per_customer_polars
    from retailcrm.features._occasions import purchase_days

    prepared = prepare_transactions(_frame(rows), as_of=dt.date(2024, 3, 31), duplicates="keep")
    days = purchase_days(prepared)
    end_day = day_number_of(
        dt.date(2024, 3, 31) if cut is None else dt.date(2024, 1, 1) + dt.timedelta(days=cut)
    )
    for with_holdout in (False, True):
        fast = _per_customer_polars(days, end_day, with_holdout=with_holdout)
        portable = _per_customer(days, end_day, with_holdout=with_holdout)
        got, want = (
            f.sort("customer_id").collect().to_native().select(sorted(f.collect_schema().names()))
            for f in (fast, portable)
        )
        assert got.columns == want.columns
        assert got.cast(want.schema).equals(want), (got, want)
