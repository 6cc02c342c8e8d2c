"""Points ledger: expiry, refunds, pending, FIFO redemption, engine parity, the ledger identity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import LOCAL_ENGINES, assert_equal_data, make_native, to_polars
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.loyalty import PointsPolicy, points_ledger, points_summary

COLUMNS = ["customer_id", "earned", "pending", "expired", "redeemed", "balance", "expiring_30d"]


def _tx(rows: list[tuple[Any, ...]], columns: tuple[str, ...] = ()) -> pd.DataFrame:
    cols = columns or ("customer_id", "timestamp", "amount")
    frame = pd.DataFrame(rows, columns=list(cols))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def _redemptions(rows: list[tuple[Any, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "redeemed_at", "points"])
    frame["redeemed_at"] = pd.to_datetime(frame["redeemed_at"])
    return frame


def _row(ledger: Any, customer: Any) -> dict[str, int]:
    frame = to_polars(ledger).filter(pl.col("customer_id") == customer)
    assert frame.height == 1
    return frame.drop("customer_id").row(0, named=True)


# -- expiry ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "last_valid", "first_gone"),
    [(2023, "2023-02-28", "2023-03-01"), (2024, "2024-02-29", "2024-03-01")],
)
def test_31_january_plus_one_month_is_the_end_of_february(
    year: int, last_valid: str, first_gone: str
) -> None:
    # 120.00 spent on 31 January, 1 point per unit: 120 points, valid through the last day of
    # February (28 in 2023, 29 in the leap year 2024), gone the day after.
    tx = _tx([("ann", f"{year}-01-31", 120.0)])
    policy = PointsPolicy(expiry="months", expiry_after=1)
    on_last_day = _row(points_ledger(tx, policy, as_of=last_valid), "ann")
    assert on_last_day == {
        "earned": 120,
        "pending": 0,
        "expired": 0,
        "redeemed": 0,
        "balance": 120,
        "expiring_30d": 120,
    }
    after = _row(points_ledger(tx, policy, as_of=first_gone), "ann")
    assert (after["expired"], after["balance"], after["expiring_30d"]) == (120, 0, 0)


def test_month_end_clamping_and_the_expiring_window() -> None:
    # 30 November + 3 months -> 28 February 2025 (last valid day). As of 30 January 2025 that
    # is 29 days away: inside the 30-day window (as_of .. as_of + 29); as of 29 January it is
    # 30 days away, outside.
    tx = _tx([("ann", "2024-11-30", 50.0)])
    policy = PointsPolicy(expiry_after=3)
    assert _row(points_ledger(tx, policy, as_of="2025-01-30"), "ann")["expiring_30d"] == 50
    assert _row(points_ledger(tx, policy, as_of="2025-01-29"), "ann")["expiring_30d"] == 0


def test_year_end_expiry() -> None:
    # earned in 2023, expiry_after=1: valid through 31 December 2024.
    tx = _tx([("ann", "2023-03-15", 10.0)])
    policy = PointsPolicy(expiry="year_end", expiry_after=1)
    assert _row(points_ledger(tx, policy, as_of="2024-12-31"), "ann")["balance"] == 10
    assert _row(points_ledger(tx, policy, as_of="2025-01-01"), "ann")["expired"] == 10


# -- refunds, multipliers, rounding ------------------------------------------------------------


def test_refund_reverses_the_points_it_earned_at_the_same_rate() -> None:
    # Order o1 (gold member, 1.5x): shoes 300 (bonus 2x -> 300*1*1.5*2 = 900 points) and a
    # scarf 99.99 (1.5x -> 149.985 -> 149); the shoes come back 10 days later in the same
    # order: -900. Net 149 points, dated 1 March (the order's first line).
    tx = _tx(
        [
            ("ann", "2024-03-01", 300.0, "o1", "shoes"),
            ("ann", "2024-03-01", 99.99, "o1", "scarves"),
            ("ann", "2024-03-11", -300.0, "o1", "shoes"),
        ],
        ("customer_id", "timestamp", "amount", "order_id", "category"),
    )
    tiers = pd.DataFrame({"customer_id": ["ann"], "tier": ["gold"]})
    policy = PointsPolicy(tier_multipliers={"gold": 1.5}, category_bonuses={"shoes": 2.0})
    row = _row(points_ledger(tx, policy, as_of="2024-03-31", tiers=tiers), "ann")
    assert (row["earned"], row["balance"]) == (149, 149)
    # Per-order rounding: 900 + 149.985 - 900 = 149.985 -> 149 as well; before the refund
    # it is 1049.985 -> 1049.
    by_order = attrs_evolve(policy, rounding="order")
    assert (
        _row(points_ledger(tx, by_order, as_of="2024-03-05", tiers=tiers), "ann")["earned"] == 1049
    )


def attrs_evolve(policy: PointsPolicy, **changes: Any) -> PointsPolicy:
    import attrs

    return attrs.evolve(policy, **changes)


def test_order_refunded_beyond_its_points_earns_nothing() -> None:
    # 0.57 * 100 = 56.99999999999999 in floating point: the tolerance floors it to 57, not 56.
    tx = _tx(
        [
            ("ann", "2024-01-02", 0.57, "o1"),
            ("ann", "2024-01-05", 10.0, "o2"),
            ("ann", "2024-01-06", -20.0, "o2"),
        ],
        ("customer_id", "timestamp", "amount", "order_id"),
    )
    row = _row(points_ledger(tx, PointsPolicy(earn_rate=100.0), as_of="2024-01-31"), "ann")
    assert row["earned"] == 57  # o2 nets -1000 points: 0, never negative


# -- pending -----------------------------------------------------------------------------------


def test_points_pending_until_the_return_window_passes() -> None:
    # bought 1 March, pending 14 days: available from 15 March.
    tx = _tx([("ann", "2024-03-01", 80.0)])
    policy = PointsPolicy(pending_days=14)
    during = _row(points_ledger(tx, policy, as_of="2024-03-14"), "ann")
    assert (during["pending"], during["balance"]) == (80, 0)
    after = _row(points_ledger(tx, policy, as_of="2024-03-15"), "ann")
    assert (after["pending"], after["balance"]) == (0, 80)


def test_points_never_expire_before_they_are_available() -> None:
    # year-end expiry of the earning year, 30 days pending: 20 December's points would lapse on
    # 31 December before they could be used; they are valid through 19 January instead.
    tx = _tx([("ann", "2024-12-20", 10.0)])
    policy = PointsPolicy(expiry="year_end", expiry_after=0, pending_days=30)
    assert _row(points_ledger(tx, policy, as_of="2025-01-19"), "ann")["balance"] == 10
    assert _row(points_ledger(tx, policy, as_of="2025-01-20"), "ann")["expired"] == 10


# -- FIFO --------------------------------------------------------------------------------------

FIFO_TX = [("ann", "2024-01-01", 100.0), ("ann", "2024-03-01", 50.0)]


def test_redemption_consumes_the_oldest_points_first() -> None:
    # Lots: 100 (1 Jan, last valid 1 Apr) and 50 (1 Mar, last valid 1 Jun). 120 redeemed on
    # 15 March take all 100 of the old lot and 20 of the new one. As of 10 April nothing
    # expired (newest-first would have left 70 of the old lot to lapse): balance 30. As of
    # 2 June the remaining 30 expired.
    tx = _tx(FIFO_TX)
    red = _redemptions([("ann", "2024-03-15", 120)])
    policy = PointsPolicy(expiry_after=3)
    april = _row(points_ledger(tx, policy, as_of="2024-04-10", redemptions=red), "ann")
    assert april == {
        "earned": 150,
        "pending": 0,
        "expired": 0,
        "redeemed": 120,
        "balance": 30,
        "expiring_30d": 0,
    }
    june = _row(points_ledger(tx, policy, as_of="2024-06-02", redemptions=red), "ann")
    assert (june["expired"], june["balance"]) == (30, 0)


def test_partly_used_lot_lapses_with_its_remainder() -> None:
    # 60 of the 100 old points used on 15 January; the other 40 lapse after 1 April; the 50 new
    # points stay. As of 5 May: 150 - 40 - 60 = 50; expiring by 1 June (27 days): 50.
    tx = _tx(FIFO_TX)
    red = _redemptions([("ann", "2024-01-15", 60)])
    row = _row(
        points_ledger(tx, PointsPolicy(expiry_after=3), as_of="2024-05-05", redemptions=red), "ann"
    )
    assert (row["expired"], row["balance"], row["expiring_30d"]) == (40, 50, 50)


def test_redemption_on_the_last_valid_day_still_uses_the_lot() -> None:
    # 1 April is the old lot's last valid day: 100 redeemed that day use it entirely.
    tx = _tx(FIFO_TX)
    red = _redemptions([("ann", "2024-04-01", 100)])
    row = _row(
        points_ledger(tx, PointsPolicy(expiry_after=3), as_of="2024-04-30", redemptions=red), "ann"
    )
    assert (row["expired"], row["balance"]) == (0, 50)


def test_redemption_only_customer_and_later_redemptions() -> None:
    # bob redeemed without earning here: he appears once, with a negative balance; a
    # redemption after as_of is ignored.
    tx = _tx([("ann", "2024-01-01", 10.0)])
    red = _redemptions([("bob", "2024-01-05", 5), ("ann", "2024-02-01", 3)])
    out = to_polars(points_ledger(tx, PointsPolicy(), as_of="2024-01-31", redemptions=red))
    assert out["customer_id"].to_list() == ["ann", "bob"]
    assert _row(out, "bob")["balance"] == -5
    assert _row(out, "ann")["redeemed"] == 0


# -- summary -----------------------------------------------------------------------------------


def test_points_summary_liability_and_breakage() -> None:
    # earned 150 + 10, expired 40, redeemed 60: outstanding 160 - 100 = 60 points, at 0.01
    # each: 0.60; breakage 40 / (40 + 60) = 0.4.
    tx = _tx([*FIFO_TX, ("bob", "2024-05-01", 10.0)])
    red = _redemptions([("ann", "2024-01-15", 60)])
    ledger = points_ledger(tx, PointsPolicy(expiry_after=3), as_of="2024-05-05", redemptions=red)
    summary = to_polars(points_summary(ledger, point_value=0.01)).row(0, named=True)
    assert summary["customers"] == 2
    assert summary["outstanding_points"] == 60
    assert summary["liability"] == pytest.approx(0.6)
    assert summary["breakage_rate"] == pytest.approx(0.4)


def test_breakage_is_missing_when_nothing_settled() -> None:
    ledger = points_ledger(_tx([("ann", "2024-01-01", 10.0)]), PointsPolicy(), as_of="2024-01-02")
    assert to_polars(points_summary(ledger))["breakage_rate"].to_list() == [None]


# -- errors and config -------------------------------------------------------------------------


def test_policy_round_trip_and_validation() -> None:
    policy = PointsPolicy(
        earn_rate=0.5, category_bonuses={"shoes": 2}, expiry="year_end", expiry_after=1
    )
    assert PointsPolicy.from_dict(policy.to_dict()) == policy
    assert policy.fingerprint == PointsPolicy.from_dict(policy.to_dict()).fingerprint
    assert policy.fingerprint != PointsPolicy().fingerprint
    with pytest.raises(ConfigError, match="'earn_rate' parameter of PointsPolicy"):
        PointsPolicy(earn_rate=0)
    with pytest.raises(ConfigError, match="'expiry_after' parameter of PointsPolicy"):
        PointsPolicy(expiry="months", expiry_after=0)
    with pytest.raises(ConfigError, match="'rounding' parameter"):
        PointsPolicy(rounding="up")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown key"):
        PointsPolicy.from_dict({"earn": 1})


def test_input_errors_name_the_fix() -> None:
    tx = _tx([("ann", "2024-01-01", 10.0)])
    with pytest.raises(ConfigError, match="tiers=<table"):
        points_ledger(tx, PointsPolicy(tier_multipliers={"gold": 2}), as_of="2024-02-01")
    with pytest.raises(ConfigError, match="no category column"):
        points_ledger(tx, PointsPolicy(category_bonuses={"shoes": 2}), as_of="2024-02-01")
    bad = pd.DataFrame(
        {"customer_id": ["ann"], "when": [pd.Timestamp("2024-01-02")], "points": [1]}
    )
    with pytest.raises(MissingColumnsError, match="redeemed_at"):
        points_ledger(tx, PointsPolicy(), as_of="2024-02-01", redemptions=bad)
    negative = _redemptions([("ann", "2024-01-02", -3)])
    with pytest.raises(InvalidDataError, match=r"1 row.*\[\('ann', -3\)\]"):
        points_ledger(tx, PointsPolicy(), as_of="2024-02-01", redemptions=negative)
    twice = pd.DataFrame({"customer_id": ["ann", "ann"], "tier": ["gold", "silver"]})
    with pytest.raises(InvalidDataError, match="more than once"):
        points_ledger(
            tx, PointsPolicy(tier_multipliers={"gold": 2}), as_of="2024-02-01", tiers=twice
        )


def test_inputs_are_not_mutated() -> None:
    tx = _tx(FIFO_TX)
    red = _redemptions([("ann", "2024-01-15", 60)])
    before_tx, before_red = tx.copy(), red.copy()
    points_ledger(tx, PointsPolicy(), as_of="2024-05-05", redemptions=red)
    pd.testing.assert_frame_equal(tx, before_tx)
    pd.testing.assert_frame_equal(red, before_red)


# -- engine parity -----------------------------------------------------------------------------


# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_points_ledger_engine_parity(engine: str) -> None:
    # ann: lots 100 (1 Jan, gold 2x -> 200) and 50 (1 Mar -> 100), 120 redeemed on 15 Mar
    #   -> as of 10 Apr: earned 300, redeemed 120, expired 200 - 120 = 80 (old lot's rest,
    #   last valid 1 Apr), balance 100; the new lot's last valid day 1 Jun is 52 days away.
    # bob: 40 bought on 5 Apr, 15 refunded in the same order on 6 Apr: 25 pending (14 days).
    tx = _tx(
        [
            (1, "2024-01-01", 100.0, "a1"),
            (1, "2024-03-01", 50.0, "a2"),
            (2, "2024-04-05", 40.0, "b1"),
            (2, "2024-04-06", -15.0, "b1"),
        ],
        ("customer_id", "timestamp", "amount", "order_id"),
    )
    red = _redemptions([(1, "2024-03-15", 120)])
    tiers = pd.DataFrame({"customer_id": [1, 2], "tier": ["gold", "base"]})
    policy = PointsPolicy(tier_multipliers={"gold": 2.0}, pending_days=14, expiry_after=3)
    native = make_native(engine, tx)
    out = points_ledger(
        native,
        policy,
        as_of="2024-04-10",
        redemptions=make_native(engine, red),
        tiers=make_native(engine, tiers),
    )
    expected = {
        "customer_id": [1, 2],
        "earned": [300, 25],
        "pending": [0, 25],
        "expired": [80, 0],
        "redeemed": [120, 0],
        "balance": [100, 0],
        "expiring_30d": [0, 0],
    }
    assert_equal_data(out, expected)


# -- the ledger identity and FIFO against a day-by-day reference -------------------------------

START = dt.date(2024, 1, 1)


def _reference(
    lines: list[tuple[int, int, int, float]],
    redemptions: list[tuple[int, int, int]],
    policy: PointsPolicy,
    as_of: int,
    feasible: list[tuple[int, int, int]] | None = None,
) -> dict[int, dict[str, int]] | None:
    """Day-by-day simulation of lots and FIFO redemptions; None when a redemption overdraws.

    With ``feasible`` (a list to fill), each redemption is cut to the points spendable on its
    day instead, and the redemptions actually made are appended to it."""
    from collections import defaultdict

    orders: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
    for cust, order, day, amount in lines:
        if day <= as_of:
            orders[(cust, order)].append((day, amount))
    lots: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (cust, _), items in orders.items():
        pts = sum(int(abs(a) + 1e-9) * (1 if a >= 0 else -1) for _, a in items)
        if pts > 0:
            lots[cust][min(d for d, _ in items)] += pts
    out = {}
    custs = {c for c, _ in orders} | {c for c, d, _ in redemptions if d <= as_of}
    for cust in custs:
        earn = sorted(lots[cust].items())
        remaining = [p for _, p in earn]
        avail = [d + policy.pending_days for d, _ in earn]
        last = []
        for d, _ in earn:
            month = (START + dt.timedelta(days=d)).replace(day=1)
            y, m = divmod(month.month - 1 + policy.expiry_after, 12)
            first = dt.date(month.year + y, m + 1, 1)
            length = ((first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - first).days
            day_of = min((START + dt.timedelta(days=d)).day, length)
            last.append((first.replace(day=day_of) - START).days)
        last = [max(e, a) for e, a in zip(last, avail, strict=True)]
        expired = redeemed = 0
        for day in range(0, as_of + 1):
            for i, e in enumerate(last):
                if e == day - 1:
                    expired += remaining[i]
                    remaining[i] = 0
            for c, d, r in redemptions:
                if c == cust and d == day:
                    spendable = sum(
                        p for p, a, e in zip(remaining, avail, last, strict=True) if a <= day <= e
                    )
                    if feasible is not None:
                        r = min(r, spendable)
                        if r:
                            feasible.append((c, d, r))
                    if r > spendable:
                        return None
                    redeemed += r
                    for i in range(len(remaining)):
                        if avail[i] <= day and last[i] >= day and r:
                            used = min(r, remaining[i])
                            remaining[i] -= used
                            r -= used
        pending = sum(p for p, a in zip(remaining, avail, strict=True) if a > as_of)
        out[cust] = {
            "earned": sum(p for _, p in earn),
            "pending": pending,
            "expired": expired,
            "redeemed": redeemed,
            "balance": sum(remaining) - pending,
            "expiring_30d": sum(
                p for p, e in zip(remaining, last, strict=True) if as_of <= e <= as_of + 29
            ),
        }
    return out


line_st = st.tuples(
    st.integers(1, 3), st.integers(0, 3), st.integers(0, 150), st.integers(-40, 200)
)
redemption_st = st.tuples(st.integers(1, 3), st.integers(10, 220), st.integers(1, 120))


@settings(max_examples=40)
@given(
    lines=st.lists(line_st, min_size=1, max_size=12),
    wanted=st.lists(redemption_st, max_size=5),
    pending=st.sampled_from([0, 7, 40]),
    months=st.sampled_from([1, 2]),
    as_of=st.integers(30, 220),
)
def test_ledger_identity_and_fifo_match_a_day_by_day_reference(
    lines: list[tuple[int, int, int, int]],
    wanted: list[tuple[int, int, int]],
    pending: int,
    months: int,
    as_of: int,
) -> None:
    # Redemptions are first cut to what is spendable on their day (by the reference), so the
    # ledger and the reference see the same valid redemptions.
    policy = PointsPolicy(pending_days=pending, expiry_after=months)
    items = [(c, o, d, float(a)) for c, o, d, a in lines]
    redemptions: list[tuple[int, int, int]] = []
    _reference(items, sorted(wanted, key=lambda r: r[1]), policy, as_of, feasible=redemptions)
    tx = pl.DataFrame(
        {
            "customer_id": [c for c, _, _, _ in lines],
            "order_id": [f"{c}-{o}" for c, o, _, _ in lines],
            "timestamp": [START + dt.timedelta(days=d) for _, _, d, _ in lines],
            "amount": [float(a) for _, _, _, a in lines],
        }
    )
    red = pl.DataFrame(
        {
            "customer_id": [c for c, _, _ in redemptions],
            "redeemed_at": [START + dt.timedelta(days=d) for _, d, _ in redemptions],
            "points": [p for _, _, p in redemptions],
        },
        schema={"customer_id": pl.Int64, "redeemed_at": pl.Date, "points": pl.Int64},
    )
    ledger = points_ledger(
        tx,
        policy,
        as_of=START + dt.timedelta(days=as_of),
        redemptions=red,
        duplicates="keep",
    )
    # the identity holds for every customer
    ident = ledger.select(
        (pl.col("earned") - pl.col("expired") - pl.col("redeemed"))
        == (pl.col("balance") + pl.col("pending"))
    )
    assert ident.to_series().all()
    reference = _reference(items, redemptions, policy, as_of)
    assert reference is not None
    got = {r["customer_id"]: {k: r[k] for k in COLUMNS[1:]} for r in ledger.iter_rows(named=True)}
    assert got == reference


def test_the_reference_refuses_an_overdraft() -> None:
    # the reference used above is itself checked: 10 points cannot pay for 11
    policy = PointsPolicy()
    assert _reference([(1, 0, 0, 10.0)], [(1, 5, 11)], policy, 30) is None
    assert _reference([(1, 0, 0, 10.0)], [(1, 5, 10)], policy, 30) == {
        1: {
            "earned": 10,
            "pending": 0,
            "expired": 0,
            "redeemed": 10,
            "balance": 0,
            "expiring_30d": 0,
        }
    }
