"""Transaction tables: column mapping, validation, cleaning and sample data.

Everything enters retailcrm through this subpackage: :class:`TransactionSchema` says which
column plays which role, :func:`validate_transactions` lists every problem at once, and
:func:`clean_transactions` applies explicit policies for returns, duplicates and anomalies.
"""

from retailcrm.data._clean import CleaningAction, CleaningReport, clean_transactions
from retailcrm.data._report import Problem, ValidationReport
from retailcrm.data._sample import PERSONAS, SampleData, sample_data
from retailcrm.data._schema import CustomerSchema, ResponseSchema, TransactionSchema
from retailcrm.data._validate import validate_transactions

__all__ = [
    "PERSONAS",
    "CleaningAction",
    "CleaningReport",
    "CustomerSchema",
    "Problem",
    "ResponseSchema",
    "SampleData",
    "TransactionSchema",
    "ValidationReport",
    "clean_transactions",
    "sample_data",
    "validate_transactions",
]
