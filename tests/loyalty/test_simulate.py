"""simulate_program, program_features and the dashboard tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings

from helpers import ENGINES, LOCAL_ENGINES, assert_equal_data, make_native, to_polars
from retailcrm.data import sample_data
from retailcrm.exceptions import ConfigError, RuleSyntaxError
from retailcrm.loyalty import (
    PointsPolicy,
    Tier,
    TierProgram,
    program_features,
    reactivation_rate,
    simulate_program,
    tier_migration,
    tier_summary,
)

D = dt.date
PROGRAM = TierProgram(
    tiers=[
        Tier("vip", "VIP", "orders_window >= 3", renew="orders_window >= 2"),
        Tier("member", "Member", "orders_window >= 1"),
        Tier("sleeping", "Sleeping", "orders_window == 0"),
    ],
    window="60d",
    downgrade="grace",
    grace_days=0,
)
TX = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 2, 3],
        "timestamp": pd.to_datetime(
            ["2024-01-05", "2024-01-20", "2024-02-10", "2024-01-10", "2024-03-15"]
        ),
        "amount": [100.0, 100.0, 100.0, 50.0, 80.0],
    }
)
DATES = ["2024-01-31", "2024-02-29", "2024-03-31"]


def test_history_migration_costs_and_activity_by_hand() -> None:
    program = attrs.evolve(
        PROGRAM,
        tiers=[
            attrs.evolve(PROGRAM.tiers[0], benefits=[{"id": "gift", "kind": "gift", "cost": 10.0}]),
            *PROGRAM.tiers[1:],
        ],
    )
    sim = simulate_program(TX, program, dates=DATES)
    # 31 Jan (window 2 Dec - 31 Jan): 1 has 2 orders -> member; 2 has 1 -> member
    # 29 Feb (window 31 Dec - 29 Feb): 1 has 3 -> vip (upgrade); 2 has 1 -> member
    # 31 Mar (window 1 Feb - 31 Mar): 1 has 1 -> fails vip renew (2): member; 2 has 0 ->
    #   sleeping; 3 bought on 15 Mar -> member (new)
    assert_equal_data(
        sim.history[["date", "customer_id", "tier", "previous_tier", "change", "rule_id"]],
        {
            "date": [D(2024, 1, 31)] * 2 + [D(2024, 2, 29)] * 2 + [D(2024, 3, 31)] * 3,
            "customer_id": [1, 2, 1, 2, 1, 2, 3],
            "tier": ["member", "member", "vip", "member", "member", "sleeping", "member"],
            "previous_tier": [None, None, "member", "member", "vip", "member", None],
            "change": ["new", "new", "upgrade", "retained", "downgrade", "downgrade", "new"],
            "rule_id": ["member", "member", "vip", "member", "member", "sleeping", "member"],
        },
    )
    assert_equal_data(
        sim.migration,
        {
            "date": [D(2024, 1, 31), D(2024, 2, 29), D(2024, 2, 29), D(2024, 3, 31),
                     D(2024, 3, 31), D(2024, 3, 31)],
            "from_tier": [None, "member", "member", None, "member", "vip"],
            "to_tier": ["member", "member", "vip", "member", "sleeping", "member"],
            "customers": [2, 1, 1, 1, 1, 1],
        },
    )  # fmt: skip
    # one vip on 29 Feb costs 1 x 10
    costs = sim.costs
    assert_equal_data(
        costs[costs["benefit_cost"] > 0],
        {"date": [D(2024, 2, 29)], "tier": ["vip"], "members": [1], "cost_per_member": [10.0],
         "benefit_cost": [10.0]},
    )  # fmt: skip
    assert len(costs) == 9  # 3 dates x 3 tiers, zeros included
    # bought after 31 Jan up to 29 Feb: customer 1 (10 Feb) of the 2 members -> 0.5;
    # after 29 Feb up to 31 Mar: nobody of member (customer 2) nor vip (customer 1)
    assert_equal_data(
        sim.activity,
        {
            "date": [D(2024, 1, 31)] * 3 + [D(2024, 2, 29)] * 3,
            "tier": ["vip", "member", "sleeping"] * 2,
            "members": [0, 2, 0, 1, 1, 0],
            "bought_next": [0, 1, 0, 0, 0, 0],
            "rate": [None, 0.5, None, 0.0, 0.0, None],
        },
    )
    assert sim.liability is None
    assert sim.fingerprint == program.fingerprint


def test_points_liability_per_date() -> None:
    sim = simulate_program(TX, PROGRAM, dates=DATES, points=PointsPolicy(earn_rate=1.0))
    liability = to_polars(sim.liability)
    # 1 point per unit, nothing pending or expired: earned 250, 350 and 430 by each date
    # (31 Jan: 100 + 100 + 50; 29 Feb: + 100; 31 Mar: + 80)
    assert liability["earned"].to_list() == [250, 350, 430]
    assert liability["outstanding_points"].to_list() == [250, 350, 430]


def test_calendar_and_anniversary_window_features() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "timestamp": pd.to_datetime(["2023-03-10", "2023-12-30", "2024-03-09", "2023-07-01"]),
            "amount": [100.0, 40.0, 60.0, 10.0],
        }
    )
    year = TierProgram(tiers=[Tier("t", "T", "spend_window > 0")], window="calendar_year")
    f = program_features(tx, year, as_of="2024-06-30")
    # calendar 2024: a bought 60 on 9 March; b nothing
    assert f[["orders_window", "spend_window"]].values.tolist() == [[1, 60.0], [0, 0.0]]
    anniv = attrs.evolve(year, window="anniversary")
    f = program_features(tx, anniv, as_of="2024-03-09")
    # a's first purchase 10 March 2023: the membership year runs from 10 March 2023, so on
    # 9 March 2024 it holds all three (200); b (1 July 2023): from 1 July 2023 (10)
    assert f[["orders_window", "spend_window"]].values.tolist() == [[3, 200.0], [1, 10.0]]
    f = program_features(tx, anniv, as_of="2024-03-10")
    # on 10 March 2024 a new year starts: nothing yet
    assert f[["orders_window", "spend_window"]].values.tolist() == [[0, 0.0], [1, 10.0]]


def test_dates_are_checked() -> None:
    with pytest.raises(
        ConfigError, match="The 'dates' parameter of simulate_program must be distinct"
    ):
        simulate_program(TX, PROGRAM, dates=["2024-01-31", "2024-01-31"])
    with pytest.raises(ConfigError, match="at least one date"):
        simulate_program(TX, PROGRAM, dates=[])
    with pytest.raises(ConfigError, match="The 'program' parameter of simulate_program"):
        simulate_program(TX, "boutique", dates=DATES)  # type: ignore[arg-type]


lines = st.lists(
    st.tuples(st.integers(1, 4), st.integers(0, 120), st.sampled_from([50.0, 100.0, -50.0])),
    min_size=1,
    max_size=12,
)


@settings(max_examples=6)
@given(
    rows=lines,
    policy=st.sampled_from(["grace", "period_end", "none"]),
    step=st.sampled_from(["one", "to_qualifying"]),
)
def test_simulation_at_each_date_equals_assign_alone(
    rows: list[tuple[int, int, float]], policy: str, step: str
) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in rows],
            "timestamp": [pd.Timestamp("2024-01-01") + pd.Timedelta(days=d) for _, d, _ in rows],
            "amount": [a for _, _, a in rows],
        }
    )
    program = attrs.evolve(PROGRAM, downgrade=policy, downgrade_step=step, grace_days=0)
    dates = ["2024-02-15", "2024-03-31", "2024-05-15"]
    sim = simulate_program(tx, program, dates=dates, duplicates="keep")
    history = sim.history
    previous: Any = None
    for d in dates:
        features = program_features(tx, program, as_of=d, duplicates="keep")
        alone = program.assign(features, as_of=d, previous=previous)
        at = history[history["date"] == pd.Timestamp(d)].drop(columns="date")
        assert_equal_data(at, alone)
        previous = alone


@pytest.mark.parametrize("partition_lines", [None, 100])
def test_simulation_reading_the_mix_and_discount_equals_assign_alone(
    partition_lines: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a backtest computes only the feature columns the programme reads (here the channel mix
    # and the discount rate, not the category mix): they equal the full table's at each date;
    # with partition_lines, its lines are laid out in several customer partitions once
    import retailcrm.features._customer as features_impl

    tx = sample_data(120, seed=3, start="2024-01-01", end="2024-12-31").transactions
    if partition_lines is not None:
        monkeypatch.setattr(features_impl, "PARTITION_LINES", partition_lines)
    program = TierProgram(
        tiers=[
            Tier("app", "App", "top_channel == 'app' and top_channel_share >= 0.6"),
            Tier("bargain", "Bargain", "discount_rate >= 0.05 and orders_90d >= 1"),
            Tier("member", "Member", "orders_window >= 0"),
        ],
        window="180d",
        downgrade="grace",
        grace_days=0,
    )
    dates = ["2024-04-30", "2024-08-31", "2024-12-31"]
    sim = simulate_program(tx, program, dates=dates, duplicates="keep")
    previous: Any = None
    for d in dates:
        features = program_features(tx, program, as_of=d, duplicates="keep")
        alone = program.assign(features, as_of=d, previous=previous)
        at = sim.history[sim.history["date"] == pd.Timestamp(d)].drop(columns="date")
        assert_equal_data(at.reset_index(drop=True), alone)
        previous = alone
    assert set(sim.history["tier"]) == {"app", "bargain", "member"}


@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_a_programme_reading_a_mix_of_absent_lines_is_named(engine: str) -> None:
    # the backtest's history builds the mix of the roles the lines have: a programme reading
    # the category mix of lines without a category gets the rule error naming the column
    # (not the engine's "column not found" from the history)
    program = TierProgram(
        tiers=[
            Tier("fan", "Fan", "top_category_share >= 0.5"),
            Tier("member", "Member", "orders_window >= 0"),
        ],
        window="90d",
    )
    with pytest.raises(RuleSyntaxError, match="top_category_share"):
        simulate_program(make_native(engine, TX), program, dates=DATES)


# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_simulate_engine_parity(engine: str) -> None:
    program = attrs.evolve(PROGRAM, window="calendar_year", downgrade="period_end")
    sim = simulate_program(make_native(engine, TX), program, dates=DATES)
    # calendar 2024 counts every line: 1 has 2, 3, 3 orders; 2 has 1; 3 joins in March
    assert_equal_data(
        to_polars(sim.history).select("date", "customer_id", "tier", "change", "grace_until"),
        {
            "date": [D(2024, 1, 31)] * 2 + [D(2024, 2, 29)] * 2 + [D(2024, 3, 31)] * 3,
            "customer_id": [1, 2, 1, 2, 1, 2, 3],
            "tier": ["member", "member", "vip", "member", "vip", "member", "member"],
            "change": ["new", "new", "upgrade", "retained", "retained", "retained", "new"],
            "grace_until": [None] * 7,
        },
    )
    assert to_polars(sim.costs).height == 9
    assert to_polars(sim.activity)["bought_next"].to_list() == [0, 1, 0, 0, 0, 0]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "spark" and not hasattr(e, "marks")])
def test_summary_migration_and_reactivation(engine: str) -> None:
    before = pd.DataFrame({"customer_id": [1, 2, 3, 4], "tier": ["vip", "sleep", "sleep", "vip"]})
    after = pd.DataFrame({"customer_id": [1, 2, 3, 5], "tier": ["vip", "vip", "sleep", "sleep"]})
    features = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "frequency": [3, 2, 1, 0],
            "monetary": [300.0, 120.0, 80.0, 0.0],
            "last_purchase": pd.to_datetime(["2024-07-02", "2024-07-05", "2024-03-01", None]),
        }
    )
    n_before, n_after, n_features = (make_native(engine, f) for f in (before, after, features))
    # sleep: 2 members (2, 3), revenue 120 + 80 = 200 of 500, repeat 1 of 2 buyers;
    # vip: 2 members (1, 4), revenue 300, repeat 1 of 1 buyer (4 never bought)
    assert_equal_data(
        tier_summary(n_before, n_features),
        {
            "tier": ["sleep", "vip"],
            "members": [2, 2],
            "share": [0.5, 0.5],
            "revenue": [200.0, 300.0],
            "revenue_share": [0.4, 0.6],
            "repurchase_rate": [0.5, 1.0],
        },
    )
    # 1 vip->vip, 2 sleep->vip, 3 sleep->sleep, 4 vip->(gone), 5 (new)->sleep
    assert_equal_data(
        tier_migration(n_before, n_after),
        {
            "from_tier": [None, "sleep", "sleep", "vip", "vip"],
            "to_tier": ["sleep", "sleep", "vip", None, "vip"],
            "customers": [1, 1, 1, 1, 1],
        },
    )
    # sleeping on 30 June: 2 (bought 5 July) and 3 (last bought in March): 1 of 2
    assert_equal_data(
        reactivation_rate(n_before, n_features, as_of="2024-06-30", tier="sleep"),
        {"tier": ["sleep"], "members": [2], "reactivated": [1], "rate": [0.5]},
    )


@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_history_is_sorted_by_date_and_customer(engine: str) -> None:
    """The history comes out by date, then customer, however the lines are ordered (eager
    engines sort each date's assignment instead of the whole history)."""
    tx = TX.assign(customer_id=TX["customer_id"].map({1: "张", 2: "C9", 3: "A1"})).iloc[::-1]
    history = to_polars(simulate_program(make_native(engine, tx), PROGRAM, dates=DATES).history)
    keys = history.select("date", "customer_id").rows()
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys)) == 7
