"""What each condition means: a table of conditions and the rows they match.

The frame below has missing values in most columns, so the table pins the null policy (a
condition that is missing for a row does not match), Kleene ``and``/``or``, chained comparisons,
``in``, dates, ``days_since``/``days_until``, division by zero, rounding and precedence.

Every case runs on pandas and polars (one test per case); the whole table also runs as one
``mode="all"`` rule set on every engine of the fixture, Spark included.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
import pandas as pd
import polars as pl
import pytest

from helpers import make_native, to_polars
from retailcrm.exceptions import RuleSyntaxError
from retailcrm.rules import Rule, RuleSet, condition_expr

AS_OF = "2024-03-01"
T, F = True, False


def reference() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "k": [0, 1, 2, 3, 4, 5],
            "n": [1, 2, 3, np.nan, 5, 0],
            "x": [1.5, -2.5, np.nan, 0.0, 10.0, 2.5],
            "s": ["North", "South", None, "north", "East", "Northeast"],
            "b": [True, False, True, False, True, False],
            "d": pd.to_datetime(
                ["2024-01-15", "2023-06-30", None, "2024-02-29", "2020-12-31", "2024-03-01"]
            ),
            "bday": pd.to_datetime(
                ["1990-03-01", "1988-02-29", "1970-12-31", None, "2000-03-02", "1999-02-28"]
            ),
            "spaced col": [1, 2, 3, 4, 5, 6],
        }
    )


# (condition, rows 1..6 that match)
CASES: list[tuple[str, list[bool]]] = [
    # comparisons
    ("k >= 3", [F, F, F, T, T, T]),
    ("k == 2", [F, F, T, F, F, F]),
    ("k != 2", [T, T, F, T, T, T]),
    ("x > -1e10", [T, T, F, T, T, T]),
    ("col('spaced col') > 4", [F, F, F, F, T, T]),
    # nulls: a comparison with a missing value is missing, and missing does not match
    ("n > 1", [F, T, T, F, T, F]),
    ("not (n > 1)", [T, F, F, F, F, T]),
    ("n <= 1 or n > 1", [T, T, T, F, T, T]),
    ("is_null(n)", [F, F, F, T, F, F]),
    ("not is_null(n)", [T, T, T, F, T, T]),
    ("is_null(x) or x < 0", [F, T, T, F, F, F]),
    ("coalesce(n, 0) == 0", [F, F, F, T, F, T]),
    ("coalesce(s, 'missing') == 'missing'", [F, F, T, F, F, F]),
    # Kleene logic: False and missing is False, True or missing is True
    ("not (n > 100 and b)", [T, T, T, T, T, T]),
    ("not (n > 100 and not b)", [T, T, T, F, T, T]),
    ("n > 1 or b", [T, T, T, F, T, F]),
    # chained comparisons
    ("2 <= k <= 4", [F, F, T, T, T, F]),
    ("1 < n < 5", [F, T, T, F, F, F]),
    ("0 <= k < n", [T, T, T, F, T, F]),
    ("k == 1 == 1", [F, T, F, F, F, F]),
    # text
    ("s == 'North'", [T, F, F, F, F, F]),
    ("s == 'north'", [F, F, F, T, F, F]),
    ("s != 'North'", [F, T, F, T, T, T]),
    ("contains(s, 'orth')", [T, F, F, T, F, T]),
    ("contains(s, '.')", [F, F, F, F, F, F]),
    ("startswith(s, 'North')", [T, F, F, F, F, T]),
    # in / not in
    ("s in ['North', 'East']", [T, F, F, F, T, F]),
    ("s not in ['North', 'East']", [F, T, F, T, F, T]),
    ("k in [1, 3, 5]", [F, T, F, T, F, T]),
    ("k in (1.0, 2.5)", [F, T, F, F, F, F]),
    ("x in [1.5, 2.5]", [T, F, F, F, F, T]),
    ("d in [date('2024-03-01'), date('2020-12-31')]", [F, F, F, F, T, T]),
    # booleans and precedence of not / and / or
    ("b", [T, F, T, F, T, F]),
    ("not b", [F, T, F, T, F, T]),
    ("b == False", [F, T, F, T, F, T]),
    ("not b and k > 2", [F, F, F, T, F, T]),
    ("not (b and k > 2)", [T, T, T, T, F, T]),
    ("b or k > 3 and n > 4", [T, F, T, F, T, F]),
    ("(b or k > 3) and n > 4", [F, F, F, F, T, F]),
    ("True", [T, T, T, T, T, T]),
    ("False or k == 0", [T, F, F, F, F, F]),
    # arithmetic and its precedence
    ("k * 2 + 1 == 7", [F, F, F, T, F, F]),
    ("1 + k * 2 >= 9", [F, F, F, F, T, T]),
    ("(1 + k) * 2 >= 9", [F, F, F, F, T, T]),
    ("k - 1 > 2", [F, F, F, F, T, T]),
    ("-x > 2", [F, T, F, F, F, F]),
    ("abs(x) == 2.5", [F, T, F, F, F, T]),
    # division by zero is missing
    ("k / n < 1", [T, T, T, F, T, F]),
    ("is_null(k / n)", [F, F, F, T, F, T]),
    # round: half away from zero on every engine
    ("round(x) == 3", [F, F, F, F, F, T]),
    ("round(x) == -3", [F, T, F, F, F, F]),
    ("round(x / 4, 1) == 0.6", [F, F, F, F, F, T]),
    # min / max ignore missing arguments
    ("min(k, n) == 0", [T, F, F, F, F, T]),
    ("max(k, n) >= 3", [F, F, T, T, T, T]),
    ("between(x, 0, 2.5)", [T, F, F, T, F, T]),
    # dates (a datetime compares by its calendar day)
    ("d >= date('2024-01-01')", [T, F, F, T, F, T]),
    ("d == date('2024-02-29')", [F, F, F, T, F, F]),
    ("between(d, date('2023-01-01'), date('2024-02-29'))", [T, T, F, T, F, F]),
    ("d - date('2024-01-01') > 0", [T, F, F, T, F, T]),
    ("max(d, date('2024-01-01')) == date('2024-01-01')", [F, T, T, F, T, F]),
    ("days_since(d) > 200", [F, T, F, F, T, F]),
    ("days_since(d) <= 1", [F, F, F, T, F, T]),
    ("days_since(d) == 46 or days_since(d) == 1156", [T, F, F, F, T, F]),
    ("days_until(bday) == 0", [T, F, F, F, F, F]),
    ("days_until(bday) == 364", [F, T, F, F, F, T]),
    ("days_until(bday) == 305", [F, F, T, F, F, F]),
    ("days_until(bday) <= 7", [T, F, F, F, T, F]),
]


def test_every_function_of_the_language_has_a_case() -> None:
    """The library names its functions in the unknown-function error; each has a meaning above."""
    with pytest.raises(RuleSyntaxError, match="unknown function 'nosuch'") as info:
        RuleSet([Rule("r", "nosuch(k)")]).evaluate(reference())
    listed = re.search(r"The functions are: ([\w, ]+)", str(info.value))
    assert listed is not None, str(info.value)
    functions = listed.group(1).split(", ")
    assert len(functions) >= 10
    assert [f for f in functions if not any(f"{f}(" in cond for cond, _ in CASES)] == []


def _mask(native: Any, condition: str) -> list[bool]:
    rules = RuleSet([Rule("r", condition)], mode="all")
    out = to_polars(rules.evaluate(native, as_of=AS_OF, key="id"))
    return out.get_column("r").to_list()


@pytest.mark.parametrize("engine", ["pandas-numpy", "polars-eager"])
@pytest.mark.parametrize(("condition", "expected"), CASES, ids=[c for c, _ in CASES])
def test_condition_matches_expected_rows(engine: str, condition: str, expected: list[bool]) -> None:
    native = make_native(engine, reference())
    assert _mask(native, condition) == expected


def test_whole_table_on_every_engine(constructor: Callable[[pd.DataFrame], Any]) -> None:
    rules = RuleSet([Rule(f"c{i}", cond) for i, (cond, _) in enumerate(CASES)], mode="all")
    out = to_polars(rules.evaluate(constructor(reference()), as_of=AS_OF, key="id"))
    assert out.get_column("id").to_list() == [1, 2, 3, 4, 5, 6]
    wrong = {
        cond: out.get_column(f"c{i}").to_list()
        for i, (cond, expected) in enumerate(CASES)
        if out.get_column(f"c{i}").to_list() != expected
    }
    assert wrong == {}


def test_condition_expr_matches_table_on_polars_lazy() -> None:
    lf = nw.from_native(pl.from_pandas(reference()).lazy())
    schema = lf.collect_schema()
    exprs = [
        condition_expr(cond, schema, as_of=AS_OF).alias(f"c{i}")
        for i, (cond, _) in enumerate(CASES)
    ]
    out = lf.select(*exprs).collect().to_native()
    assert [out.get_column(f"c{i}").to_list() for i in range(len(CASES))] == [e for _, e in CASES]


def test_nan_counts_as_missing_in_polars_floats() -> None:
    frame = pl.DataFrame({"id": [1, 2], "x": [float("nan"), 3.0]})
    assert _mask(frame, "x > 1") == [False, True]
    assert _mask(frame, "is_null(x)") == [True, False]


def test_categorical_and_enum_columns_are_text() -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "c": pl.Series(["a", "b", None], dtype=pl.Categorical),
            "e": pl.Series(["x", "y", "x"], dtype=pl.Enum(["x", "y"])),
        }
    )
    assert _mask(frame, "c == 'a' or e == 'y'") == [True, True, False]
    assert _mask(frame, "c in ['b'] and startswith(e, 'y')") == [False, True, False]


def test_date_column_of_date_dtype_and_datetime_with_time() -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 2],
            "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 2)],
            "ts": [dt.datetime(2024, 1, 1, 23, 59), dt.datetime(2024, 1, 2, 0, 1)],
        }
    )
    assert _mask(frame, "ts == date('2024-01-01')") == [True, False]
    assert _mask(frame, "d == ts") == [True, True]
    assert _mask(frame, "ts - d == 0") == [True, True]


def test_decimal_column_is_a_number() -> None:
    frame = pl.DataFrame({"id": [1, 2], "m": [1.25, 3.5]}).with_columns(
        pl.col("m").cast(pl.Decimal(10, 2))
    )
    assert _mask(frame, "m > 2 and m * 2 == 7") == [False, True]
