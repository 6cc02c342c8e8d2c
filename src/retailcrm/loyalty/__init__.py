"""Loyalty programmes: tiers and benefits, tier assignment, points, triggered actions and
programme backtesting, over the customer feature table.

A :class:`TierProgram` is ordered tiers (highest first), each with a qualifying condition, an
optional renewal condition and benefits, plus the policies that move members up and down;
:meth:`TierProgram.assign` applies it as of a date and :func:`simulate_program` replays it over
history. :data:`BOUTIQUE_PROGRAM` is the community fashion boutique's three member groups.
"""

from retailcrm.loyalty._boutique import BOUTIQUE_PROGRAM
from retailcrm.loyalty._points import PointsPolicy, points_ledger, points_summary
from retailcrm.loyalty._simulate import (
    ProgramSimulation,
    program_features,
    reactivation_rate,
    simulate_program,
    tier_migration,
    tier_summary,
)
from retailcrm.loyalty._tiers import BENEFIT_KINDS, Benefit, Tier, TierProgram, Window
from retailcrm.loyalty._triggers import (
    BUILTIN_TRIGGERS,
    STATUSES,
    ContactCap,
    Trigger,
    evaluate_triggers,
)

__all__ = [
    "BENEFIT_KINDS",
    "BOUTIQUE_PROGRAM",
    "BUILTIN_TRIGGERS",
    "STATUSES",
    "Benefit",
    "ContactCap",
    "PointsPolicy",
    "ProgramSimulation",
    "Tier",
    "TierProgram",
    "Trigger",
    "Window",
    "evaluate_triggers",
    "points_ledger",
    "points_summary",
    "program_features",
    "reactivation_rate",
    "simulate_program",
    "tier_migration",
    "tier_summary",
]
