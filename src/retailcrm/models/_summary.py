"""The BTYD summary lives in :mod:`retailcrm.features` (the one place where transaction lines
become purchases); the models re-export it, with the time-unit helpers they share."""

from __future__ import annotations

from retailcrm.features import btyd_summary, btyd_summary_excluded
from retailcrm.features._btyd import TIME_UNIT_DAYS, TimeUnit, check_ends, check_time_unit

__all__ = [
    "TIME_UNIT_DAYS",
    "TimeUnit",
    "btyd_summary",
    "btyd_summary_excluded",
    "check_ends",
    "check_time_unit",
]
