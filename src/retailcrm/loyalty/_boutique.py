"""The community fashion boutique's member groups (拾光衣橱) as a :class:`TierProgram`."""

from __future__ import annotations

from retailcrm.loyalty._tiers import Benefit, Tier, TierProgram

__all__ = ["BOUTIQUE_PROGRAM"]

#: The boutique's three member groups, plus a base level for everyone else, highest first:
#:
#: * ``close_friends`` — *close friends* / 时光挚友: at least 4 purchases in the last 90 days
#:   with an average order over those 90 days of 800 or more (``spend_90d >= 800 *
#:   orders_90d``): priority try-on of new arrivals, a quarterly style report, home wardrobe
#:   styling.
#: * ``potential_partners`` — *potential partners* / 潜力伙伴: 2–3 purchases in the last 90 days
#:   and a clear style preference, read as at least half of the customer's spend in one
#:   category (``top_category_share >= 0.5``): a personal styling guide, alerts for new
#:   arrivals in that style.
#: * ``members`` — other members / 其他会员 (the base tier): 2 or more purchases in the last 180
#:   days without meeting the two groups above, e.g. 4 purchases of a smaller basket.
#: * ``to_be_awakened`` — *to be awakened* / 待唤醒者: at most 1 purchase in the last 180 days
#:   (also registered customers who never bought): a personalised win-back coupon worth 80
#:   (``cost=80`` per member and period, its face value: an upper bound).
#:
#: "The last 3 months" is the 90-day rolling window and "6 months" 180 days; the groups are
#: re-assessed at each date and a member who no longer qualifies moves at once to the group
#: they now qualify for (``downgrade="grace"``, ``grace_days=0``). Chinese names:
#: ``BOUTIQUE_PROGRAM.relabel("zh")``.
BOUTIQUE_PROGRAM = TierProgram(
    tiers=[
        Tier(
            "close_friends",
            "Close friends",
            "orders_90d >= 4 and spend_90d >= 800 * orders_90d",
            benefits=[
                Benefit(
                    "priority_try_on",
                    "priority_access",
                    description="priority try-on of new arrivals",
                ),
                Benefit("style_report", "service", description="quarterly style report"),
                Benefit("home_styling", "service", description="home wardrobe styling"),
            ],
            translations={"zh": "时光挚友"},
        ),
        Tier(
            "potential_partners",
            "Potential partners",
            "2 <= orders_90d <= 3 and top_category_share >= 0.5",
            benefits=[
                Benefit("styling_guide", "service", description="personal styling guide"),
                Benefit(
                    "style_alerts",
                    "priority_access",
                    description="alerts for new arrivals in the preferred style",
                ),
            ],
            translations={"zh": "潜力伙伴"},
        ),
        Tier("members", "Other members", "orders_180d >= 2", translations={"zh": "其他会员"}),
        Tier(
            "to_be_awakened",
            "To be awakened",
            "orders_180d <= 1",
            benefits=[
                Benefit(
                    "winback_coupon",
                    "coupon",
                    value=80,
                    description="personalised win-back coupon",
                    cost=80,
                )
            ],
            translations={"zh": "待唤醒者"},
        ),
    ],
    window="90d",
    downgrade="grace",
    grace_days=0,
    base_tier="members",
)
