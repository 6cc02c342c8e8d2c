"""BOUTIQUE_PROGRAM: the boutique's groups (拾光衣橱) on hand-made feature rows."""

from __future__ import annotations

import itertools

import pandas as pd

from helpers import assert_equal_data
from retailcrm.loyalty import BOUTIQUE_PROGRAM


def test_groups_rules_and_benefits() -> None:
    features = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "orders_90d": [4, 4, 3, 2, 2, 1, 0],
            "spend_90d": [3200.0, 3000.0, 900.0, 500.0, 500.0, 100.0, 0.0],
            "orders_180d": [6, 4, 3, 2, 3, 1, 0],
            "top_category_share": [0.2, 0.9, 0.5, 0.49, 0.8, 1.0, None],
        }
    )
    out = BOUTIQUE_PROGRAM.assign(features, as_of="2024-12-31")
    # 1: 4 orders, 3200 / 4 = 800 average: close friends (>= 800 holds at equality)
    # 2: 4 orders, 3000 / 4 = 750 < 800, and 4 > 3 orders: other members (6 months: 4 >= 2)
    # 3: 3 orders, preference share 0.5: potential partners
    # 4: 2 orders, share 0.49 < 0.5: other members;  5: 2 orders, share 0.8: potential partners
    # 6: 1 purchase in 6 months: to be awakened;  7: never bought: to be awakened
    assert_equal_data(
        out[["customer_id", "tier", "rule_id", "benefits"]],
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "tier": [
                "close_friends", "members", "potential_partners", "members",
                "potential_partners", "to_be_awakened", "to_be_awakened",
            ],
            "rule_id": [
                "close_friends", "members", "potential_partners", "members",
                "potential_partners", "to_be_awakened", "to_be_awakened",
            ],
            "benefits": [
                "priority_try_on,style_report,home_styling", "", "styling_guide,style_alerts",
                "", "styling_guide,style_alerts", "winback_coupon", "winback_coupon",
            ],
        },
    )  # fmt: skip
    zh = BOUTIQUE_PROGRAM.relabel("zh").assign(features, as_of="2024-12-31")
    assert list(zh["tier_name"]) == [
        "时光挚友", "其他会员", "潜力伙伴", "其他会员", "潜力伙伴", "待唤醒者", "待唤醒者"
    ]  # fmt: skip
    assert list(zh["tier"]) == list(out["tier"])  # same ids in both languages


def test_the_groups_cover_every_customer_and_the_coupon_costs_80() -> None:
    grid = pd.DataFrame(
        [
            {
                "orders_90d": o90,
                "orders_180d": o90 + extra,
                "spend_90d": 900.0 * o90,
                "top_category_share": s,
            }
            for o90, extra, s in itertools.product(range(7), range(3), (0.0, 0.5, 1.0))
        ]
    )
    assert BOUTIQUE_PROGRAM.rules.is_exhaustive(grid)
    coupon = BOUTIQUE_PROGRAM.tier("to_be_awakened").benefits[0]
    assert (coupon.kind, coupon.value, coupon.cost) == ("coupon", 80, 80)
    assert BOUTIQUE_PROGRAM.window.days == 90 and BOUTIQUE_PROGRAM.base_tier == "members"
