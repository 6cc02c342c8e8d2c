"""TierProgram.assign: hand-written timelines, invariants (Hypothesis) and engine parity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings

from helpers import LOCAL_ENGINES, assert_equal_data, make_native, to_polars
from retailcrm.exceptions import (
    ConfigError,
    InvalidDataError,
    MissingColumnsError,
    RuleSyntaxError,
)
from retailcrm.loyalty import Benefit, Tier, TierProgram, program_features

LOUNGE = Benefit("lounge", "priority_access", cost=5.0)
COUPON = Benefit("coupon10", "coupon", value=10, cost=2.0)
PROGRAM = TierProgram(
    tiers=[
        Tier(
            "gold", "Gold", "spend_window >= 1000", renew="spend_window >= 800", benefits=[LOUNGE]
        ),
        Tier("silver", "Silver", "spend_window >= 300", benefits=[COUPON]),
        Tier("member", "Member", "spend_window >= 0"),
    ],
    window="365d",
    downgrade="grace",
    grace_days=30,
    base_tier="member",
)
D = dt.date


def features(spend: dict[Any, float]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": list(spend), "spend_window": list(spend.values())})


def step(program: TierProgram, spend: dict[Any, float], as_of: str, **kw: Any) -> pd.DataFrame:
    return program.assign(features(spend), as_of=as_of, **kw)


def row(frame: pd.DataFrame, customer: Any = 1) -> dict[str, Any]:
    out = frame.loc[frame["customer_id"] == customer].iloc[0].to_dict()
    for key in ("tier_since", "grace_until"):
        out[key] = None if pd.isna(out[key]) else pd.Timestamp(out[key]).date()
    for key in ("tier", "previous_tier"):
        out[key] = None if pd.isna(out[key]) else out[key]
    return out


def pick(frame: pd.DataFrame, customer: Any = 1) -> tuple[Any, ...]:
    r = row(frame, customer)
    return (
        r["tier"],
        r["previous_tier"],
        r["change"],
        r["rule_id"],
        r["tier_since"],
        r["grace_until"],
    )


# ----------------------------------------------------------------------------------------------
# Timelines written by hand
# ----------------------------------------------------------------------------------------------
def test_timeline_upgrade_renewal_grace_then_downgrade() -> None:
    jan = step(PROGRAM, {1: 500.0}, "2024-01-31")
    # 500 >= 300: silver, new; benefits of silver
    assert pick(jan) == ("silver", None, "new", "silver", D(2024, 1, 31), None)
    assert row(jan)["benefits"] == "coupon10" and row(jan)["tier_name"] == "Silver"
    feb = step(PROGRAM, {1: 1200.0}, "2024-02-29", previous=jan)
    # 1200 >= 1000: upgrade at once, the tier is new since today
    assert pick(feb) == ("gold", "silver", "upgrade", "gold", D(2024, 2, 29), None)
    mar = step(PROGRAM, {1: 900.0}, "2024-03-31", previous=feb)
    # 900 < 1000 (qualify) but >= 800 (renew): kept by the renewal threshold, since unchanged
    assert pick(mar) == ("gold", "gold", "retained", "gold.renew", D(2024, 2, 29), None)
    apr = step(PROGRAM, {1: 500.0}, "2024-04-30", previous=mar)
    # 500 < 800: failing; grace of 30 days from 30 April keeps it through 29 May
    assert pick(apr) == ("gold", "gold", "grace", "grace", D(2024, 2, 29), D(2024, 5, 29))
    mid_may = step(PROGRAM, {1: 500.0}, "2024-05-15", previous=apr)
    # still within grace: the grace end is not moved
    assert pick(mid_may) == ("gold", "gold", "grace", "grace", D(2024, 2, 29), D(2024, 5, 29))
    may = step(PROGRAM, {1: 500.0}, "2024-05-31", previous=mid_may)
    # 31 May > 29 May: downgraded to the tier it qualifies for (silver, 500 >= 300)
    assert pick(may) == ("silver", "gold", "downgrade", "silver", D(2024, 5, 31), None)
    assert row(may)["benefits"] == "coupon10"


def test_grace_ends_when_the_renewal_holds_again() -> None:
    apr = step(PROGRAM, {1: 500.0}, "2024-04-30", previous=features_prev("gold", "2024-01-01"))
    assert pick(apr)[2:] == ("grace", "grace", D(2024, 1, 1), D(2024, 5, 29))
    may = step(PROGRAM, {1: 850.0}, "2024-05-15", previous=apr)
    # 850 >= 800 renews: retained, grace cleared
    assert pick(may) == ("gold", "gold", "retained", "gold.renew", D(2024, 1, 1), None)


def features_prev(tier: str | None, since: str | None, customer: Any = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [customer], "tier": [tier], "tier_since": pd.to_datetime([since])}
    )


def test_one_step_downgrade_and_held_on_the_same_day() -> None:
    program = attrs.evolve(PROGRAM, downgrade_step="one", grace_days=0)
    prev = features_prev("gold", "2024-01-01")
    first = step(program, {1: 100.0}, "2024-06-30", previous=prev)
    # 100 qualifies for member only; grace_days=0 downgrades at once, one step: gold -> silver,
    # whose own condition does not hold (rule step_down)
    assert pick(first) == ("silver", "gold", "downgrade", "step_down", D(2024, 6, 30), None)
    again = step(program, {1: 100.0}, "2024-06-30", previous=first)
    # the same day again: a tier reached today is not downgraded again today
    assert pick(again) == ("silver", "silver", "retained", "held", D(2024, 6, 30), None)
    later = step(program, {1: 100.0}, "2024-07-31", previous=first)
    # the next assessment steps down again, onto the tier it qualifies for
    assert pick(later) == ("member", "silver", "downgrade", "member", D(2024, 7, 31), None)


def test_downgrade_none_keeps_the_tier() -> None:
    program = attrs.evolve(PROGRAM, downgrade="none", grace_days=0)
    out = step(program, {1: 0.0}, "2024-06-30", previous=features_prev("gold", "2024-01-01"))
    assert pick(out) == ("gold", "gold", "retained", "no_downgrade", D(2024, 1, 1), None)


def test_vip_floor_while_active_then_grace_after_it_ends() -> None:
    overrides = pd.DataFrame(
        {"customer_id": [1, 1, 2], "tier": ["silver", "gold", "silver"],
         "until": pd.to_datetime(["2024-12-31", "2024-06-30", "2024-01-31"])}
    )  # fmt: skip
    jun = step(PROGRAM, {1: 100.0, 2: 100.0}, "2024-06-30", overrides=overrides)
    # customer 1: two active overrides, the higher (gold, until 30 June) is the floor
    assert pick(jun, 1) == ("gold", None, "new", "override", D(2024, 6, 30), None)
    assert row(jun, 1)["benefits"] == "lounge"
    # customer 2: its override ended on 31 January: the qualifying tier
    assert pick(jun, 2) == ("member", None, "new", "member", D(2024, 6, 30), None)
    jul = step(PROGRAM, {1: 100.0, 2: 100.0}, "2024-07-31", previous=jun, overrides=overrides)
    # gold's override has ended, silver's is active: gold fails its renewal and enters grace
    # (31 July + 29 days = 29 August); the silver floor is below gold, so it does not apply
    assert pick(jul, 1) == ("gold", "gold", "grace", "grace", D(2024, 6, 30), D(2024, 8, 29))
    sep = step(PROGRAM, {1: 100.0, 2: 100.0}, "2024-09-30", previous=jul, overrides=overrides)
    # grace over: it would drop to member, but the silver floor holds it at silver
    assert pick(sep, 1) == ("silver", "gold", "downgrade", "override", D(2024, 9, 30), None)


def test_a_return_that_undoes_the_qualifying_purchase_undoes_the_upgrade() -> None:
    program = attrs.evolve(PROGRAM, grace_days=0)
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "order_id": ["o1", "o2", "o2"],
            "timestamp": pd.to_datetime(["2024-01-10", "2024-02-20", "2024-03-03"]),
            "amount": [600.0, 500.0, -500.0],
        }
    )
    jan = program.assign(program_features(tx, program, as_of="2024-01-31"), as_of="2024-01-31")
    assert pick(jan)[:3] == ("silver", None, "new")  # 600 >= 300
    feb_features = program_features(tx, program, as_of="2024-02-29")
    feb = program.assign(feb_features, as_of="2024-02-29", previous=jan)
    assert pick(feb)[:3] == ("gold", "silver", "upgrade")  # 600 + 500 = 1100 >= 1000
    mar_features = program_features(tx, program, as_of="2024-03-31")
    # the refund nets order o2 to 0: it is no longer a purchase and spend is back to 600
    assert mar_features.loc[0, "spend_window"] == 600.0
    assert mar_features.loc[0, "orders_window"] == 1
    mar = program.assign(mar_features, as_of="2024-03-31", previous=feb)
    # 600 < 800 (renew): the upgrade is undone at the re-assessment
    assert pick(mar) == ("silver", "gold", "downgrade", "silver", D(2024, 3, 31), None)


def test_period_end_calendar_year_keeps_the_tier_through_31_december() -> None:
    program = attrs.evolve(PROGRAM, window="calendar_year", downgrade="period_end", grace_days=0)
    dec = step(program, {1: 1500.0}, "2024-12-31")
    assert pick(dec)[:3] == ("gold", None, "new")
    jan = step(program, {1: 0.0}, "2025-01-31", previous=dec)
    # the new year starts from zero: failing, kept until the end of 2025
    assert pick(jan) == ("gold", "gold", "grace", "grace", D(2024, 12, 31), D(2025, 12, 31))
    last = step(program, {1: 100.0}, "2025-12-31", previous=jan)
    assert pick(last)[2:] == ("grace", "grace", D(2024, 12, 31), D(2025, 12, 31))
    after = step(program, {1: 0.0}, "2026-01-31", previous=last)
    # after the period's end: downgraded to the qualifying tier (member)
    assert pick(after) == ("member", "gold", "downgrade", "member", D(2026, 1, 31), None)


def test_period_end_rolling_and_anniversary() -> None:
    rolling = attrs.evolve(PROGRAM, window="90d", downgrade="period_end", grace_days=0)
    out = step(rolling, {1: 0.0}, "2024-06-30", previous=features_prev("gold", "2024-01-01"))
    # rolling 90 days: kept 90 days from the first failing assessment (30 June + 89 days)
    assert pick(out)[5] == D(2024, 9, 27)
    yearly = attrs.evolve(PROGRAM, window="anniversary", downgrade="period_end", grace_days=0)
    f = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "spend_window": [0.0, 0.0, 0.0, 0.0],
            "first_purchase": pd.to_datetime(["2020-08-15", "2020-03-01", "2016-02-29", None]),
        }
    )
    prev = pd.concat([features_prev("gold", "2024-01-01", c) for c in (1, 2, 3, 4)])
    out = yearly.assign(f, as_of="2025-06-30", previous=prev)
    # next anniversary on or after 30 June 2025: 15 Aug 2025; 1 Mar 2026; 28 Feb 2026 (29 Feb
    # in a common year); no anchor: as_of itself (kept today only)
    assert [row(out, c)["grace_until"] for c in (1, 2, 3, 4)] == [
        D(2025, 8, 15), D(2026, 3, 1), D(2026, 2, 28), D(2025, 6, 30)
    ]  # fmt: skip


def test_no_base_tier_leaves_customers_without_a_tier() -> None:
    program = attrs.evolve(PROGRAM, tiers=PROGRAM.tiers[:2], base_tier=None)
    out = step(program, {1: 100.0, 2: 400.0}, "2024-06-30")
    assert pick(out, 1)[:4] == (None, None, "new", "default")
    assert row(out, 1)["benefits"] == ""
    again = step(program, {1: 100.0, 2: 400.0}, "2024-07-31", previous=out)
    # no tier before and none now: retained (no tier); 2 stays silver
    assert pick(again, 1)[2:4] == ("retained", "default")
    assert pick(again, 2)[:3] == ("silver", "silver", "retained")


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------
def test_errors_name_the_problem() -> None:
    with pytest.raises(MissingColumnsError, match="customer_id"):
        PROGRAM.assign(pd.DataFrame({"id": [1], "spend_window": [1.0]}), as_of="2024-01-31")
    with pytest.raises(RuleSyntaxError, match="spend_windows"):
        PROGRAM.assign(
            pd.DataFrame({"customer_id": [1], "spend_windows": [1.0]}), as_of="2024-01-31"
        )
    with pytest.raises(InvalidDataError, match=r"repeated: \[1\]"):
        PROGRAM.assign(features({1: 1.0}).pipe(lambda f: pd.concat([f, f])), as_of="2024-01-31")
    with pytest.raises(InvalidDataError, match=r"\['Gold'\] are not tier ids"):
        step(PROGRAM, {1: 1.0}, "2024-01-31", previous=features_prev("Gold", "2024-01-01"))
    bad = pd.DataFrame({"customer_id": [1], "tier": ["platinum"]})
    with pytest.raises(InvalidDataError, match="platinum"):
        step(PROGRAM, {1: 1.0}, "2024-01-31", overrides=bad)
    other_engine = make_native("duckdb", features_prev("gold", "2024-01-01"))
    with pytest.raises(ConfigError, match="previous is a duckdb frame but features is polars"):
        step(PROGRAM, {1: 1.0}, "2024-01-31", previous=other_engine)
    text_ids = pd.DataFrame({"customer_id": ["1"], "tier": ["gold"]})
    with pytest.raises(ConfigError, match="customer_id is String but the feature table's is Int64"):
        step(PROGRAM, {1: 1.0}, "2024-01-31", previous=text_ids)


def test_only_the_columns_the_programme_reads_are_converted() -> None:
    # a wide pandas feature table with a column no engine can hold (complex numbers, text
    # mixed with numbers): the programme does not read it, so it neither fails nor changes
    # the tiers; a programme that reads it gets our error naming it
    import numpy as np

    f = features({2: 1200.0, 1: 5.0})
    wide = f.assign(z=np.array([1j, 2 + 0j]), m=[1, "x"])
    assert_equal_data(
        PROGRAM.assign(wide, as_of="2024-01-31"), PROGRAM.assign(f, as_of="2024-01-31")
    )
    reads_m = TierProgram(tiers=[Tier("m", "M", "m >= 0")], window="90d")
    with pytest.raises(InvalidDataError, match=r"column 'm' \(object\)"):
        reads_m.assign(wide, as_of="2024-01-31")
    # a column the programme reads is missing: that is the error, whatever else is unreadable
    with pytest.raises(RuleSyntaxError, match="unknown column 'nope'"):
        TierProgram(tiers=[Tier("n", "N", "nope >= 0")], window="90d").assign(
            wide, as_of="2024-01-31"
        )


def test_inputs_are_not_mutated_and_the_kind_is_kept() -> None:
    f = features({2: 1200.0, 1: 5.0})
    before = f.copy()
    out = PROGRAM.assign(f, as_of="2024-01-31")
    pd.testing.assert_frame_equal(f, before)
    assert list(out["customer_id"]) == [1, 2]  # sorted by customer
    assert list(out.columns) == [
        "customer_id", "tier", "tier_name", "previous_tier", "change", "rule_id",
        "tier_since", "grace_until", "benefits",
    ]  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Invariants
# ----------------------------------------------------------------------------------------------
policies = st.fixed_dictionaries(
    {
        "downgrade": st.sampled_from(["grace", "period_end", "none"]),
        "downgrade_step": st.sampled_from(["one", "to_qualifying"]),
        "grace_days": st.integers(0, 40),
        "base_tier": st.sampled_from(["member", None]),
    }
)
spends = st.lists(
    st.sampled_from([0.0, 100.0, 300.0, 850.0, 1000.0, 2000.0]), min_size=1, max_size=8
)


def _program(policy: dict[str, Any]) -> TierProgram:
    if policy["downgrade"] != "grace":
        policy = {**policy, "grace_days": 0}
    return attrs.evolve(PROGRAM, **policy)


@settings(max_examples=15)
@given(policy=policies, before=spends, after=spends, floors=st.lists(st.booleans(), max_size=8))
def test_assign_is_idempotent_and_every_customer_gets_one_row(
    policy: dict[str, Any], before: list[float], after: list[float], floors: list[bool]
) -> None:
    program = _program(policy)
    n = min(len(before), len(after))
    ids = list(range(100, 100 + n))
    first = step(program, dict(zip(ids, before, strict=False)), "2024-03-31")
    overrides = pd.DataFrame(
        {"customer_id": [c for c, f in zip(ids, floors, strict=False) if f], "tier": "silver"}
    )
    spend = dict(zip(ids, after, strict=False))
    out = step(program, spend, "2024-06-30", previous=first, overrides=overrides)
    again = step(program, spend, "2024-06-30", previous=out, overrides=overrides)
    keep = ["customer_id", "tier", "tier_since", "grace_until", "benefits"]
    assert_equal_data(again[keep], out[keep])
    assert list(out["customer_id"]) == ids
    if program.base_tier is not None:
        assert out["tier"].notna().all()
    assert set(out["change"]) <= {"new", "upgrade", "retained", "downgrade", "grace"}


# ----------------------------------------------------------------------------------------------
# Engine parity
# ----------------------------------------------------------------------------------------------
# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_assign_engine_parity(engine: str) -> None:
    program = attrs.evolve(PROGRAM, window="anniversary", downgrade="period_end", grace_days=0)
    f = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "spend_window": [1200.0, 900.0, 100.0, 400.0, 0.0],
            "first_purchase": pd.to_datetime(
                ["2020-01-05", "2019-02-28", "2016-02-29", "2023-07-01", None]
            ),
        }
    )
    prev = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "tier": ["silver", "gold", "gold", "gold"],
            "tier_since": pd.to_datetime(["2024-01-01"] * 4),
            "grace_until": pd.to_datetime([None, None, None, "2025-01-15"]),
        }
    )
    overrides = pd.DataFrame({"customer_id": [5], "tier": ["silver"]})
    out = program.assign(
        make_native(engine, f),
        as_of="2025-06-30",
        previous=make_native(engine, prev),
        overrides=make_native(engine, overrides),
    )
    # 1: 1200 upgrade; 2: 900 renews gold; 3: fails, kept until 28 Feb 2026 (29 Feb anchor);
    # 4: its grace ended 15 Jan 2025: down to silver (400); 5: new, floor silver
    assert_equal_data(
        out,
        {
            "customer_id": [1, 2, 3, 4, 5],
            "tier": ["gold", "gold", "gold", "silver", "silver"],
            "tier_name": ["Gold", "Gold", "Gold", "Silver", "Silver"],
            "previous_tier": ["silver", "gold", "gold", "gold", None],
            "change": ["upgrade", "retained", "grace", "downgrade", "new"],
            "rule_id": ["gold", "gold.renew", "grace", "silver", "override"],
            "tier_since": [
                D(2025, 6, 30),
                D(2024, 1, 1),
                D(2024, 1, 1),
                D(2025, 6, 30),
                D(2025, 6, 30),
            ],
            "grace_until": [None, None, D(2026, 2, 28), None, None],
            "benefits": ["lounge", "lounge", "lounge", "coupon10", "coupon10"],
        },
    )
    assert to_polars(out).height == 5
