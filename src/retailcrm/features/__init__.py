"""The customer feature table: the one place where transactions are aggregated per customer."""

from retailcrm.features._customer import customer_features

__all__ = ["customer_features"]
