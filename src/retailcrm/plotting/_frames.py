"""Result frames of any engine, read once into pandas for drawing (results are small)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd

from retailcrm._engine import collect_polars
from retailcrm.exceptions import MissingColumnsError

__all__ = ["to_pandas"]


def to_pandas(
    native: Any, *, required: Sequence[str], owner: str, produced_by: str
) -> pd.DataFrame:
    """``native`` (pandas, polars eager or lazy, DuckDB, PySpark, pyarrow, narwhals) as a new
    pandas frame, after checking that it has the ``required`` columns of the result of
    ``produced_by``. The caller's frame is never modified."""
    frame = native if isinstance(native, nw.DataFrame | nw.LazyFrame) else nw.from_native(native)
    columns = list(frame.collect_schema().names())
    missing = [c for c in required if c not in columns]
    if missing:
        raise MissingColumnsError(
            missing,
            available=columns,
            role=owner,
            fix=f"pass the result of {produced_by} (or rename your columns to match it).",
        )
    if isinstance(frame, nw.LazyFrame):
        frame = frame.pipe(collect_polars)
    polars_frame = frame.to_polars()
    out: pd.DataFrame = polars_frame.to_pandas()
    return out
