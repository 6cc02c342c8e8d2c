"""Triggered actions: cap, consent, cooldown, holdout, built-in triggers, engine parity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import ENGINES, assert_equal_data, make_native, to_polars
from retailcrm.exceptions import (
    ConfigError,
    InvalidDataError,
    MissingColumnsError,
    RuleSyntaxError,
)
from retailcrm.loyalty import BUILTIN_TRIGGERS, ContactCap, Trigger, evaluate_triggers

TODAY = dt.date(2024, 6, 30)
THREE = [
    Trigger("a_high", "score >= 1", "call", priority=3),
    Trigger("b_mid", "score >= 1", "email", priority=2),
    Trigger("c_low", "score >= 1", "sms", priority=1),
]


def _history(rows: list[tuple[Any, str, int]]) -> pd.DataFrame:
    """(customer, trigger, days before TODAY)."""
    return pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in rows],
            "trigger": [t for _, t, _ in rows],
            "contacted_at": pd.to_datetime([TODAY - dt.timedelta(days=d) for _, _, d in rows]),
        }
    )


def _status(result: Any) -> dict[tuple[Any, str], str]:
    frame = to_polars(result)
    return {(c, t): s for c, t, s in frame.select("customer_id", "trigger", "status").iter_rows()}


# -- the cap -------------------------------------------------------------------------------------


def test_cap_with_three_competing_triggers_keeps_the_highest_priorities() -> None:
    # Cap 2 per 30 days, nothing in the history: the two highest priorities are sent.
    features = pd.DataFrame({"customer_id": [7], "score": [1]})
    out = evaluate_triggers(features, THREE, as_of=TODAY)
    assert _status(out) == {
        (7, "a_high"): "contacted",
        (7, "b_mid"): "contacted",
        (7, "c_low"): "capped",
    }
    assert to_polars(out)["trigger"].to_list() == ["a_high", "b_mid", "c_low"]  # priority order


def test_only_the_columns_the_triggers_read_are_converted() -> None:
    # a wide pandas feature table with columns no engine can hold (complex numbers, text
    # mixed with numbers) that no trigger reads: same actions as without them; a trigger that
    # reads one gets our error naming it
    import numpy as np

    features = pd.DataFrame({"customer_id": [7, 8], "score": [1, 0]})
    wide = features.assign(z=np.array([1j, 2 + 0j]), m=[1, "x"])
    assert_equal_data(
        evaluate_triggers(wide, THREE, as_of=TODAY), evaluate_triggers(features, THREE, as_of=TODAY)
    )
    with pytest.raises(InvalidDataError, match=r"column 'm' \(object\)"):
        evaluate_triggers(wide, [Trigger("m", "m >= 0", "call")], as_of=TODAY)


def test_cap_counts_the_history_inside_the_window_only() -> None:
    # A contact 29 days ago is inside the 30-day window ending today (days -29 .. 0): one slot
    # left. A contact 30 days ago is outside: two slots.
    features = pd.DataFrame({"customer_id": [1, 2], "score": [1, 1]})
    history = _history([(1, "other_campaign", 29), (2, "other_campaign", 30)])
    status = _status(evaluate_triggers(features, THREE, as_of=TODAY, contact_history=history))
    assert [status[(1, t)] for t in ("a_high", "b_mid", "c_low")] == [
        "contacted",
        "capped",
        "capped",
    ]
    assert [status[(2, t)] for t in ("a_high", "b_mid", "c_low")] == [
        "contacted",
        "contacted",
        "capped",
    ]


def test_equal_priorities_are_decided_by_trigger_id() -> None:
    triggers = [
        Trigger("zeta", "score >= 1", "x", priority=1),
        Trigger("alpha", "score >= 1", "y", priority=1),
    ]
    features = pd.DataFrame({"customer_id": [1], "score": [1]})
    out = evaluate_triggers(features, triggers, as_of=TODAY, cap=ContactCap(1, 30))
    assert _status(out) == {(1, "alpha"): "contacted", (1, "zeta"): "capped"}


# -- consent -------------------------------------------------------------------------------------


def test_customers_without_consent_are_never_contacted_but_counted() -> None:
    # 1 consents; 2 said no; 3 has no consent row; 4 has a missing value. Only 1 is contacted;
    # the others appear with status no_consent (and do not use up anyone's cap).
    features = pd.DataFrame({"customer_id": [1, 2, 3, 4], "score": [1, 1, 1, 1]})
    consent = pd.DataFrame({"customer_id": [1, 2, 4], "consent": [True, False, None]})
    out = to_polars(evaluate_triggers(features, THREE[:1], as_of=TODAY, consent=consent))
    assert dict(zip(out["customer_id"], out["status"], strict=True)) == {
        1: "contacted",
        2: "no_consent",
        3: "no_consent",
        4: "no_consent",
    }


# -- cooldown ------------------------------------------------------------------------------------


def test_cooldown_blocks_the_same_trigger_only() -> None:
    # welcome_back has a 7-day cooldown. Customer 1 got it 6 days ago: cooldown; customer 2
    # got it 7 days ago: fires again. Customer 1's other trigger is not cooling down.
    triggers = [
        Trigger("welcome_back", "score >= 1", "coupon", priority=2, cooldown_days=7),
        Trigger("styling", "score >= 1", "tips", priority=1, cooldown_days=0),
    ]
    features = pd.DataFrame({"customer_id": [1, 2], "score": [1, 1]})
    history = _history([(1, "welcome_back", 6), (2, "welcome_back", 7)])
    status = _status(
        evaluate_triggers(
            features, triggers, as_of=TODAY, contact_history=history, cap=ContactCap(5, 30)
        )
    )
    assert status == {
        (1, "welcome_back"): "cooldown",
        (1, "styling"): "contacted",
        (2, "welcome_back"): "contacted",
        (2, "styling"): "contacted",
    }


# -- holdout -------------------------------------------------------------------------------------


def test_holdout_share_is_about_ten_percent_and_stable() -> None:
    # 10 000 qualifying customers, two triggers, no cap pressure: about 10% of each trigger's
    # customers are held out (binomial sd 0.3%, so 9%..11% is > 3 sd), chosen independently
    # per trigger, and the same on a second run.
    ids = list(range(10_000))
    features = pd.DataFrame({"customer_id": ids, "score": [1] * len(ids)})
    triggers = THREE[:2]
    first = to_polars(evaluate_triggers(features, triggers, as_of=TODAY, holdout=0.1))
    for trig in ("a_high", "b_mid"):
        share = (first.filter(pl.col("trigger") == trig)["status"] == "holdout").mean()
        assert 0.09 <= share <= 0.11, (trig, share)
    held = {
        t: set(
            first.filter((pl.col("trigger") == t) & (pl.col("status") == "holdout"))["customer_id"]
        )
        for t in ("a_high", "b_mid")
    }
    assert held["a_high"] != held["b_mid"]
    second = to_polars(
        evaluate_triggers(features, triggers, as_of=TODAY + dt.timedelta(days=1), holdout=0.1)
    )
    assert second.equals(first)
    # the holdout does not use up the cap: all the others are contacted
    assert set(first["status"]) == {"contacted", "holdout"}


@pytest.mark.parametrize("engine", ["pandas-pyarrow", "polars-lazy", "duckdb"])
def test_holdout_is_the_same_on_every_engine(engine: str) -> None:
    # text ids too: the hash reads the id's text
    ids = [f"c{i:04d}" for i in range(2_000)]
    features = pd.DataFrame({"customer_id": ids, "score": [1] * len(ids)})
    expected = evaluate_triggers(features, THREE[:1], as_of=TODAY, holdout=0.25)
    out = evaluate_triggers(make_native(engine, features), THREE[:1], as_of=TODAY, holdout=0.25)
    assert_equal_data(out, expected)
    assert 400 <= (to_polars(expected)["status"] == "holdout").sum() <= 600


# -- built-in triggers ---------------------------------------------------------------------------


def test_builtin_triggers_read_their_documented_columns() -> None:
    # 1: birthday 5 July (5 days away) -> birthday_gift; 2: last purchase 31 days ago ->
    # welcome_back; 3: viewed without buying -> styling_suggestion; 4: on grace until 20 July
    # (20 days) -> tier_lapse; 5: 40 points expiring -> points_expiring; 6: nothing.
    features = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "birthday": pd.to_datetime(
                ["1985-07-05", "1990-01-01", "1990-01-01", "1990-01-01", "1990-01-01", None]
            ),
            "recency_days": [3, 31, 2, 2, 2, 30],
            "viewed_not_bought_3d": [False, False, True, False, False, False],
            "change": ["retained", "new", "new", "grace", "retained", "grace"],
            "grace_until": pd.to_datetime([None, None, None, "2024-07-20", None, "2024-08-30"]),
            "expiring_30d": [0, 0, 0, 0, 40, 0],
        }
    )
    out = to_polars(
        evaluate_triggers(features, BUILTIN_TRIGGERS, as_of=TODAY, cap=ContactCap(5, 30))
    )
    assert list(out.select("customer_id", "trigger").iter_rows()) == [
        (1, "birthday_gift"),
        (2, "welcome_back"),
        (3, "styling_suggestion"),
        (4, "tier_lapse"),
        (5, "points_expiring"),
    ]
    assert set(out["status"]) == {"contacted"}
    zh = evaluate_triggers(
        features, [t.relabel("zh") for t in BUILTIN_TRIGGERS], as_of=TODAY, cap=ContactCap(5, 30)
    )
    assert to_polars(zh)["label"].to_list() == [
        "生日专属礼盒",
        "老友回归券",
        "搭配推荐",
        "会员等级即将到期",
        "积分即将过期",
    ]


# -- configuration and errors -------------------------------------------------------------------


def test_trigger_config_round_trip_and_errors() -> None:
    trig = Trigger("b", "recency_days > 30", "coupon", 2, 14, label="B", translations={"zh": "乙"})
    assert Trigger.from_dict(trig.to_dict()) == trig
    assert trig.fingerprint == Trigger.from_dict(trig.to_dict()).fingerprint
    assert trig.relabel("zh").fingerprint != trig.fingerprint
    with pytest.raises(RuleSyntaxError):
        Trigger("x", "recency_days >", "a")
    with pytest.raises(ConfigError, match="'cooldown_days' parameter of Trigger"):
        Trigger("x", "a > 1", "a", cooldown_days=-1)
    with pytest.raises(ConfigError, match="'language' parameter"):
        trig.relabel("fr")
    with pytest.raises(ConfigError, match="'max_contacts' parameter of ContactCap"):
        ContactCap(max_contacts=-1)
    features = pd.DataFrame({"customer_id": [1], "a": [2]})
    with pytest.raises(ConfigError, match="repeated"):
        evaluate_triggers(features, [Trigger("x", "a > 1", "a")] * 2, as_of=TODAY)
    with pytest.raises(ConfigError, match="'holdout' parameter of evaluate_triggers"):
        evaluate_triggers(features, [Trigger("x", "a > 1", "a")], as_of=TODAY, holdout=1.0)
    with pytest.raises(MissingColumnsError, match="contacted_at"):
        evaluate_triggers(
            features,
            [Trigger("x", "a > 1", "a")],
            as_of=TODAY,
            contact_history=pd.DataFrame({"customer_id": [1], "trigger": ["x"]}),
        )
    with pytest.raises(RuleSyntaxError, match="unknown column"):
        evaluate_triggers(features, [Trigger("x", "b > 1", "a")], as_of=TODAY)
    twice = pd.DataFrame({"customer_id": [1, 1], "a": [2, 3]})
    with pytest.raises(InvalidDataError, match="1 row"):
        evaluate_triggers(twice, [Trigger("x", "a > 1", "a")], as_of=TODAY)


def test_nobody_qualifies_gives_an_empty_list_with_the_columns() -> None:
    features = pd.DataFrame({"customer_id": [1], "score": [0]})
    out = evaluate_triggers(features, THREE, as_of=TODAY)
    assert list(out.columns) == [
        "customer_id",
        "trigger",
        "label",
        "action",
        "priority",
        "status",
        "reason",
    ]
    assert len(out) == 0


# -- engine parity -------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_evaluate_triggers_engine_parity(engine: str) -> None:
    # 1: three triggers, one contact 10 days ago -> only a_high; 2: no consent; 3: b_mid
    # cooling down (cooldown 14, sent 3 days ago), a_high and c_low sent.
    triggers = [THREE[0], attrs_evolve(THREE[1], cooldown_days=14), THREE[2]]
    features = pd.DataFrame({"customer_id": [1, 2, 3], "score": [1, 1, 1]})
    history = _history([(1, "other", 10), (3, "b_mid", 3)])
    consent = pd.DataFrame({"customer_id": [1, 2, 3], "consent": [True, False, True]})
    out = evaluate_triggers(
        make_native(engine, features),
        triggers,
        as_of=TODAY,
        contact_history=make_native(engine, history),
        consent=make_native(engine, consent),
        cap=ContactCap(3, 30),
    )
    # cap 3: customer 1 has 1 in the window -> 2 slots: a_high, b_mid; c_low capped.
    assert_equal_data(
        to_polars(out).select("customer_id", "trigger", "status"),
        {
            "customer_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
            "trigger": ["a_high", "b_mid", "c_low"] * 3,
            "status": [
                "contacted",
                "contacted",
                "capped",
                "no_consent",
                "no_consent",
                "no_consent",
                "contacted",
                "cooldown",
                "contacted",
            ],
        },
    )


def attrs_evolve(trigger: Trigger, **changes: Any) -> Trigger:
    import attrs

    return attrs.evolve(trigger, **changes)


# -- no customer is contacted more than the cap in any window ------------------------------------


@settings(max_examples=25)
@given(
    qualifies=st.lists(
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), max_size=8),
        min_size=5,
        max_size=20,
    ),
    max_contacts=st.integers(1, 3),
    per_days=st.integers(2, 7),
    cooldown=st.integers(0, 3),
)
def test_no_customer_is_contacted_more_than_the_cap_in_any_window(
    qualifies: list[list[tuple[int, int]]], max_contacts: int, per_days: int, cooldown: int
) -> None:
    # Day by day: who qualifies for which of four triggers is random; each day's contacted
    # rows join the history. Every per_days window then holds at most max_contacts contacts.
    triggers = [
        Trigger(f"t{i}", f"q{i}", "act", priority=i % 2, cooldown_days=cooldown) for i in range(4)
    ]
    cap = ContactCap(max_contacts, per_days)
    history = pl.DataFrame(
        schema={"customer_id": pl.Int64, "trigger": pl.String, "contacted_at": pl.Date}
    )
    start = dt.date(2024, 1, 1)
    for offset, pairs in enumerate(qualifies):
        day = start + dt.timedelta(days=offset)
        features = pl.DataFrame(
            {"customer_id": [0, 1, 2]}
            | {f"q{i}": [(c, i) in pairs for c in range(3)] for i in range(4)}
        )
        out = evaluate_triggers(features, triggers, as_of=day, contact_history=history, cap=cap)
        sent = out.filter(pl.col("status") == "contacted").select(
            "customer_id", "trigger", pl.lit(day).alias("contacted_at")
        )
        history = pl.concat([history, sent])
    days = history.with_columns((pl.col("contacted_at") - pl.lit(start)).dt.total_days().alias("d"))
    for (customer,), rows in days.group_by("customer_id"):
        d = sorted(rows["d"].to_list())
        for first in range(len(qualifies)):
            in_window = [x for x in d if first <= x < first + per_days]
            assert len(in_window) <= max_contacts, (customer, first, d)
