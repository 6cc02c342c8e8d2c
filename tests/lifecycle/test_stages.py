"""assign_stages: boundary tables for every rule, previous stages, invariants, engine parity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import hypothesis.strategies as st
import pandas as pd
import polars as pl
import pytest
from hypothesis import assume, given, settings

from helpers import assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm import customer_features
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.lifecycle import STAGES, LifecyclePolicy, assign_stages

OLD = "2023-01-01"  # a registration long before every as_of below: never "new"


def stage_of(
    purchases: list[str],
    as_of: str,
    registered: str | None = OLD,
    amounts: list[float] | None = None,
    policy: LifecyclePolicy | None = None,
) -> str | None:
    """The stage of one customer ("c") from its purchase dates, through customer_features.
    ``None`` when the customer is not a row of the table."""
    tx = pd.DataFrame(
        {
            "customer_id": pd.Series(["c"] * len(purchases), dtype="str"),
            "timestamp": pd.to_datetime(pd.Series(purchases, dtype="str")),
            "amount": pd.Series(amounts or [10.0] * len(purchases), dtype="float64"),
        }
    )
    customers = None
    if registered is not None:
        customers = pd.DataFrame(
            {"customer_id": ["c"], "registered_at": pd.to_datetime([registered])}
        )
    f = customer_features(tx, as_of=as_of, customers=customers)
    out = assign_stages(f, as_of=as_of, **({"policy": policy} if policy else {}))
    return None if out.empty else str(out["stage"].iloc[0])


# (case, purchases, as_of, registered, expected stage) -- the day counts by hand:
BOUNDARIES = [
    # dormant at 90 days without a purchase: 2024-04-01 -> 2024-06-29 is 29+31+29 = 89 days
    ("recency 89", ["2023-06-01", "2024-04-01"], "2024-06-29", OLD, "active"),
    ("recency 90", ["2023-06-01", "2024-04-01"], "2024-06-30", OLD, "dormant"),
    ("recency 91", ["2023-06-01", "2024-04-01"], "2024-07-01", OLD, "dormant"),
    # churned at 180: 2024-01-01 -> 2024-06-28 is 30+29+31+30+31+27 = 178 ... +1 = 179
    ("recency 179", ["2023-06-01", "2024-01-01"], "2024-06-28", OLD, "dormant"),
    ("recency 180", ["2023-06-01", "2024-01-01"], "2024-06-29", OLD, "churned"),
    ("recency 181", ["2023-06-01", "2024-01-01"], "2024-06-30", OLD, "churned"),
    # new for 30 days from registration: 2024-06-01 + 29 = 2024-06-30
    ("registered 29 days ago", ["2024-06-15"], "2024-06-30", "2024-06-01", "new"),
    ("registered 30 days ago", ["2024-06-15"], "2024-07-01", "2024-06-01", "active"),
    ("registered 31 days ago", ["2024-06-15"], "2024-07-02", "2024-06-01", "active"),
    # without registration data, the first purchase starts the tenure
    ("first purchase 29 days ago", ["2024-06-01"], "2024-06-30", None, "new"),
    ("first purchase 30 days ago", ["2024-06-01"], "2024-07-01", None, "active"),
    # registered after the first purchase: tenure starts at the earlier date -> not new
    ("registered after buying", ["2024-01-10", "2024-06-25"], "2024-06-30", "2024-06-20", "active"),
    ("registered on as_of, no purchase", [], "2024-06-30", "2024-06-30", "prospect"),
    ("registered on as_of, bought that day", ["2024-06-30"], "2024-06-30", "2024-06-30", "new"),
    ("registered after as_of", [], "2024-06-30", "2024-07-01", None),
    ("registered long ago, never bought", [], "2024-06-30", OLD, "prospect"),
    ("only a refund", ["2024-06-10"], "2024-06-30", OLD, "prospect"),
    # growing: 2 purchases in the 30-day window as_of-29 .. as_of
    ("two purchases 29 days apart", ["2024-06-01", "2024-06-30"], "2024-06-30", OLD, "growing"),
    # 2024-05-31 is as_of - 30: outside the window; months May+June are only 2 in a row
    ("two purchases 30 days apart", ["2024-05-31", "2024-06-30"], "2024-06-30", OLD, "active"),
    ("two purchases 31 days apart", ["2024-05-30", "2024-06-30"], "2024-06-30", OLD, "active"),
    # mature: a purchase in each of the last 3 calendar months, as_of's month included
    ("April, May, June", ["2024-04-20", "2024-05-20", "2024-06-20"], "2024-06-30", OLD, "mature"),
    (
        "March, May, June (gap)",
        ["2024-03-20", "2024-05-20", "2024-06-20"],
        "2024-06-30",
        OLD,
        "active",
    ),
    (
        "March, April, May, none in June",
        ["2024-03-20", "2024-04-20", "2024-05-20"],
        "2024-06-30",
        OLD,
        "active",
    ),
    (
        "three months, two in June",
        ["2024-04-02", "2024-05-02", "2024-06-02", "2024-06-20"],
        "2024-06-30",
        OLD,
        "mature",
    ),
    (
        "November to January",
        ["2023-11-30", "2023-12-01", "2024-01-01"],
        "2024-01-31",
        OLD,
        "mature",
    ),
    # leap days: 2023-12-01 -> 2024-02-29 is 30 + 31 + 29 = 90 days
    ("leap: 90 days to Feb 29", ["2023-06-01", "2023-12-01"], "2024-02-29", OLD, "dormant"),
    ("leap: 89 days to Feb 29", ["2023-06-01", "2023-12-02"], "2024-02-29", OLD, "active"),
    # 2023-12-02 -> 2024-03-01 is 29 + 31 + 29 + 1 = 90 days (the leap day counts)
    ("leap: 90 days to Mar 1", ["2023-06-01", "2023-12-02"], "2024-03-01", OLD, "dormant"),
    # the same dates a year earlier: 2022-12-02 -> 2023-03-01 is 29 + 31 + 28 + 1 = 89 days
    (
        "no leap: 89 days to Mar 1",
        ["2022-06-01", "2022-12-02"],
        "2023-03-01",
        "2022-01-01",
        "active",
    ),
    (
        "leap: Dec, Jan, Feb 29",
        ["2023-12-15", "2024-01-15", "2024-02-29"],
        "2024-02-29",
        OLD,
        "mature",
    ),
    ("leap: registered Feb 29, 29 days", ["2024-03-01"], "2024-03-28", "2024-02-29", "new"),
    ("leap: registered Feb 29, 30 days", ["2024-03-01"], "2024-03-30", "2024-02-29", "active"),
]


@pytest.mark.parametrize(
    ("purchases", "as_of", "registered", "expected"),
    [case[1:] for case in BOUNDARIES],
    ids=[case[0] for case in BOUNDARIES],
)
def test_boundaries(
    purchases: list[str], as_of: str, registered: str | None, expected: str | None
) -> None:
    amounts = [-10.0] * len(purchases) if expected == "prospect" and purchases else None
    assert stage_of(purchases, as_of, registered, amounts) == expected


def test_precedence_between_overlapping_rules() -> None:
    # new beats growing: registered 10 days ago, 2 purchases since
    assert stage_of(["2024-06-22", "2024-06-28"], "2024-06-30", "2024-06-20") == "new"
    # mature beats growing: April, May and 2 purchases in June
    assert (
        stage_of(["2024-04-05", "2024-05-05", "2024-06-05", "2024-06-25"], "2024-06-30") == "mature"
    )
    # dormant beats the history: mature three months long ago
    assert stage_of(["2024-01-05", "2024-02-05", "2024-03-05"], "2024-06-30") == "dormant"


def test_custom_thresholds_move_the_boundaries() -> None:
    p = LifecyclePolicy(dormant_days=60, churned_days=120, new_days=7, mature_months=2)
    # 2024-05-01 -> 2024-06-30 is 30 + 30 = 60 days
    assert stage_of(["2023-06-01", "2024-05-01"], "2024-06-30", policy=p) == "dormant"
    assert stage_of(["2024-06-23"], "2024-06-30", "2024-06-23", policy=p) == "active"  # 7 days
    assert stage_of(["2024-05-20", "2024-06-20"], "2024-06-30", policy=p) == "mature"


# ---------------------------------------------------------------------------------------------
# previous stages: reactivated, stage_since, days_in_stage
# ---------------------------------------------------------------------------------------------
def features_frame(**columns: list[Any]) -> pd.DataFrame:
    n = len(columns["customer_id"])
    base = {
        "frequency": [3] * n,
        "recency_days": [10] * n,
        "tenure_days": [400] * n,
        "consecutive_active_months": [0] * n,
        "orders_30d": [1] * n,
    }
    return pd.DataFrame({"customer_id": columns.pop("customer_id"), **base, **columns})


def test_reactivated_needs_a_lapsed_previous_stage_and_is_kept_for_its_days() -> None:
    as_of = "2024-06-30"
    f = features_frame(customer_id=[1, 2, 3, 4, 5, 6, 7], recency_days=[5, 5, 5, 5, 5, 100, 5])
    previous = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "stage": ["dormant", "churned", "active", "reactivated", "reactivated", "dormant"],
            "rule_id": ["dormant", "churned", "active", "reactivated", "reactivated", "dormant"],
            # 4: reactivated since 2024-04-02 -> 89 days by 2024-06-30: kept (< 90)
            # 5: since 2024-04-01 -> 90 days: no longer
            "stage_since": pd.to_datetime(
                ["2024-05-31", "2024-01-31", "2024-03-31", "2024-04-02", "2024-04-01", "2024-05-31"]
            ),
        }
    )
    out = assign_stages(f, as_of=as_of, previous=previous)
    assert out["stage"].tolist() == [
        "reactivated",  # dormant -> bought since
        "reactivated",  # churned -> bought since
        "active",  # was active
        "reactivated",  # kept: 89 days in the stage
        "active",  # 90 days: over
        "dormant",  # dormant and still no purchase: dormant beats reactivated
        "active",  # not in previous
    ]
    assert out["stage_since"].tolist() == [
        pd.Timestamp(as_of),
        pd.Timestamp(as_of),
        pd.Timestamp("2024-03-31"),
        pd.Timestamp("2024-04-02"),
        pd.Timestamp(as_of),
        pd.Timestamp("2024-05-31"),
        pd.Timestamp(as_of),
    ]
    # 2024-03-31 -> 2024-06-30: 30 + 31 + 30 = 91; 2024-04-02 -> 89; 2024-05-31 -> 30
    assert out["days_in_stage"].tolist() == [0, 0, 91, 89, 0, 30, 0]


def test_without_previous_stage_since_is_unknown() -> None:
    out = assign_stages(features_frame(customer_id=[1, 2]), as_of="2024-06-30")
    assert list(out.columns) == ["customer_id", "stage", "rule_id", "stage_since", "days_in_stage"]
    assert out["stage_since"].isna().all() and out["days_in_stage"].isna().all()


def test_previous_without_stage_since_and_in_another_language() -> None:
    f = features_frame(customer_id=[1, 2])
    previous = pd.DataFrame(
        {"customer_id": [1, 2], "stage": ["活跃客户", "休眠客户"], "rule_id": ["active", "dormant"]}
    )
    out = assign_stages(f, as_of="2024-06-30", previous=previous)
    # 1: same rule id -> the same stage, its start still unknown; 2: came back
    assert out["stage"].tolist() == ["active", "reactivated"]
    assert out["stage_since"].isna().tolist() == [True, False]


def test_missing_columns_and_reserved_names() -> None:
    f = features_frame(customer_id=[1]).drop(columns=["orders_30d", "tenure_days"])
    with pytest.raises(
        MissingColumnsError, match=r"orders_30d.*tenure_days|tenure_days.*orders_30d"
    ):
        assign_stages(f, as_of="2024-06-30")
    with pytest.raises(MissingColumnsError, match="growing_window_days"):
        assign_stages(
            features_frame(customer_id=[1]),
            as_of="2024-06-30",
            policy=LifecyclePolicy(growing_window_days=14),
        )
    clash = features_frame(customer_id=[1], previous_stage=["x"])
    with pytest.raises(ConfigError, match="reserved for the previous"):
        assign_stages(clash, as_of="2024-06-30")
    with pytest.raises(MissingColumnsError, match="previous: missing"):
        assign_stages(
            features_frame(customer_id=[1]),
            as_of="2024-06-30",
            previous=pd.DataFrame({"customer_id": [1], "stage": ["new"]}),
        )
    with pytest.raises(ConfigError, match="as_of is required"):
        assign_stages(features_frame(customer_id=[1]), as_of=None)


def test_inputs_are_not_mutated() -> None:
    f = features_frame(customer_id=[2, 1], recency_days=[200, 5])
    before = f.copy()
    assign_stages(f, as_of="2024-06-30")
    pd.testing.assert_frame_equal(f, before)


# ---------------------------------------------------------------------------------------------
# invariants (Hypothesis), on features computed from transactions
# ---------------------------------------------------------------------------------------------
BASE = dt.date(2023, 1, 1)
LAPSE = {"churned": 2, "dormant": 1}  # every other stage: 0
RANK = {
    "churned": 0,
    "prospect": 0,
    "dormant": 1,
    "active": 2,
    "new": 2,
    "reactivated": 2,
    "growing": 3,
    "mature": 4,
}

customers_st = st.lists(
    st.tuples(
        st.lists(st.integers(0, 500), min_size=0, max_size=6),  # purchase days after BASE
        st.none() | st.integers(0, 500),  # registration day after BASE
    ),
    min_size=1,
    max_size=4,
)


def _tables(customers: list[tuple[list[int], int | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids, days = [], []
    for i, (purchases, _) in enumerate(customers):
        ids += [f"c{i}"] * len(purchases)
        days += purchases
    tx = pl.DataFrame(
        {
            "customer_id": pl.Series(ids, dtype=pl.String),
            "timestamp": pl.Series(
                [dt.datetime.combine(BASE + dt.timedelta(d), dt.time(12)) for d in days],
                dtype=pl.Datetime("us"),
            ),
            "amount": pl.Series([10.0] * len(ids), dtype=pl.Float64),
        }
    )
    cust = pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(customers))],
            "registered_at": pl.Series(
                [None if r is None else BASE + dt.timedelta(r) for _, r in customers], dtype=pl.Date
            ),
        }
    )
    return tx, cust


def _stages(tx: pl.DataFrame, cust: pl.DataFrame, as_of: dt.date) -> dict[str, str]:
    f = customer_features(tx, as_of=as_of, customers=cust, duplicates="keep")
    out = assign_stages(f, as_of=as_of)
    return dict(zip(out["customer_id"].to_list(), out["stage"].to_list(), strict=True))


@settings(max_examples=15)
@given(customers_st, st.integers(0, 600))
def test_every_customer_gets_exactly_one_stage(customers: list[Any], day: int) -> None:
    tx, cust = _tables(customers)
    as_of = BASE + dt.timedelta(day)
    f = customer_features(tx, as_of=as_of, customers=cust, duplicates="keep")
    out = assign_stages(f, as_of=as_of)
    assert out["customer_id"].to_list() == f["customer_id"].to_list()
    assert out["customer_id"].n_unique() == out.height
    assert set(out["stage"].to_list()) <= set(STAGES)
    assert out["stage"].null_count() == 0 and "default" not in out["rule_id"].to_list()


@settings(max_examples=15)
@given(customers_st, st.integers(0, 300), st.lists(st.integers(1, 120), min_size=1, max_size=4))
def test_time_without_purchases_only_moves_towards_churned(
    customers: list[Any], start: int, steps: list[int]
) -> None:
    tx, cust = _tables(customers)
    last = max((d for p, _ in customers for d in p), default=0)
    day = max(start, last)  # no purchase after the first as_of
    before = _stages(tx, cust, BASE + dt.timedelta(day))
    for step in steps:
        day += step
        now = _stages(tx, cust, BASE + dt.timedelta(day))
        for cid, stage in before.items():
            assert LAPSE.get(now[cid], 0) >= LAPSE.get(stage, 0), (cid, stage, now[cid])
            if stage in ("dormant", "churned"):
                assert now[cid] in ("dormant", "churned")
            if stage == "prospect":
                assert now[cid] == "prospect"
        before = now


@settings(max_examples=15)
@given(customers_st, st.integers(0, 600), st.data())
def test_a_new_purchase_never_worsens_the_stage(customers: list[Any], day: int, data: Any) -> None:
    tx, cust = _tables(customers)
    as_of = BASE + dt.timedelta(day)
    before = _stages(tx, cust, as_of)
    assume(before)
    who = data.draw(st.sampled_from(sorted(before)))
    extra = pl.DataFrame(
        {
            "customer_id": [who],
            "timestamp": pl.Series(
                [dt.datetime.combine(as_of, dt.time(9))], dtype=pl.Datetime("us")
            ),
            "amount": [25.0],
        }
    )
    after = _stages(pl.concat([tx, extra]), cust, as_of)
    assert RANK[after[who]] >= RANK[before[who]], (before[who], after[who])
    assert after[who] not in ("dormant", "churned", "prospect")


# ---------------------------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------------------------
def test_engine_parity(engine: str) -> None:
    f = features_frame(
        customer_id=[3, 1, 2, 4, 5],
        frequency=[0, 4, 2, 6, 1],
        recency_days=[None, 3, 95, 2, 200],
        tenure_days=[3, 300, 400, 500, 600],
        consecutive_active_months=[0, 1, 0, 4, 0],
        orders_30d=[0, 2, 0, 3, 0],
    )
    f["recency_days"] = f["recency_days"].astype("float64")
    previous = pd.DataFrame(
        {
            "customer_id": [1, 2, 4, 5],
            "stage": ["dormant", "active", "mature", "dormant"],
            "rule_id": ["dormant", "active", "mature", "dormant"],
            "stage_since": pd.to_datetime(["2024-03-31", "2024-04-30", "2024-01-31", "2024-04-30"]),
        }
    )
    native = make_native(engine, f)
    out = assign_stages(native, as_of="2024-05-31", previous=make_native(engine, previous))
    assert_same_kind(out, native)
    assert_equal_data(
        out,
        {
            "customer_id": [1, 2, 3, 4, 5],
            "stage": ["reactivated", "dormant", "prospect", "mature", "churned"],
            "rule_id": ["reactivated", "dormant", "prospect", "mature", "churned"],
            # 3 is not in previous: its stage starts at this assessment
            "stage_since": [dt.datetime(2024, 5, 31)] * 3
            + [dt.datetime(2024, 1, 31), dt.datetime(2024, 5, 31)],
            # 2024-01-31 -> 2024-05-31: 29 + 31 + 30 + 31 = 121 days
            "days_in_stage": [0, 0, 0, 121, 0],
        },
    )
    assert to_polars(out).height == 5
