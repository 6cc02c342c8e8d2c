"""Input tables: column mapping, validation, cleaning and sample data.

Everything enters retailcrm through this subpackage: :class:`TransactionSchema` says which
column plays which role, :func:`validate_transactions` lists every problem at once, and
:func:`clean_transactions` applies explicit policies for returns, duplicates and anomalies.
The side tables — customers, campaign responses, surveys, marketing spend and behaviour
events — have their own schemas and are checked the same way (:func:`validate_customers`,
…, or :func:`validate` for any table, chosen by the schema's type).
"""

from retailcrm.data._clean import CleaningAction, CleaningReport, clean_transactions
from retailcrm.data._report import Problem, ValidationReport
from retailcrm.data._sample import PERSONAS, SampleData, sample_data
from retailcrm.data._schema import (
    EVENT_TYPES,
    CustomerSchema,
    EventSchema,
    ResponseSchema,
    SpendSchema,
    SurveySchema,
    TransactionSchema,
)
from retailcrm.data._tables import (
    validate,
    validate_customers,
    validate_events,
    validate_responses,
    validate_spend,
    validate_surveys,
)
from retailcrm.data._validate import validate_transactions

__all__ = [
    "EVENT_TYPES",
    "PERSONAS",
    "CleaningAction",
    "CleaningReport",
    "CustomerSchema",
    "EventSchema",
    "Problem",
    "ResponseSchema",
    "SampleData",
    "SpendSchema",
    "SurveySchema",
    "TransactionSchema",
    "ValidationReport",
    "clean_transactions",
    "sample_data",
    "validate",
    "validate_customers",
    "validate_events",
    "validate_responses",
    "validate_spend",
    "validate_surveys",
    "validate_transactions",
]
