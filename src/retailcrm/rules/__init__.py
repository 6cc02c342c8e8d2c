"""A small, safe condition language compiled to vectorized dataframe expressions.

Named segments, lifecycle stages, customer tags, loyalty tiers and triggered actions are all
ordered conditions over the customer feature table. Business users write the conditions as text
(and keep them in YAML or JSON); :class:`RuleSet` checks them against the frame's schema and runs
them as one vectorized narwhals ``select`` on the caller's engine (pandas, polars, DuckDB,
PySpark), with an explicit, documented policy for missing values.

The language is Python-like but is never run as Python: conditions are parsed with :mod:`ast`,
every syntax node is checked against a whitelist and translated to narwhals expressions.

Examples
--------
>>> import pandas as pd
>>> from retailcrm.rules import Rule, RuleSet
>>> features = pd.DataFrame({"customer_id": [1, 2], "orders_90d": [6, 0]})
>>> RuleSet([Rule("vip", "orders_90d >= 4", label="VIP")], default="Regular").evaluate(features)
   customer_id    label rule_id
0            1      VIP     vip
1            2  Regular default
"""

from retailcrm.rules._condition import condition_expr
from retailcrm.rules._rule import Rule
from retailcrm.rules._ruleset import RuleSet

__all__ = ["Rule", "RuleSet", "condition_expr"]
