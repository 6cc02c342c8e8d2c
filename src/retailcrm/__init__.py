"""retailcrm: retail customer analytics over plain dataframes.

The entry points are re-exported here: :class:`TransactionSchema`,
:func:`validate_transactions`, :func:`clean_transactions` and :func:`customer_features`.
Subpackages (``retailcrm.rules``, ``retailcrm.models``, …) export their own names.
"""

from retailcrm._version import __version__
from retailcrm.data import TransactionSchema, clean_transactions, validate, validate_transactions
from retailcrm.features import customer_features

__all__ = [
    "TransactionSchema",
    "__version__",
    "clean_transactions",
    "customer_features",
    "validate",
    "validate_transactions",
]
