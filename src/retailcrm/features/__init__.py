"""Where transactions are aggregated: purchase occasions, the customer feature table and the
BTYD summary — the one place where lines become purchases (see ``_occasions``)."""

from retailcrm.features._btyd import btyd_summary, btyd_summary_excluded
from retailcrm.features._customer import customer_features

__all__ = ["btyd_summary", "btyd_summary_excluded", "customer_features"]
