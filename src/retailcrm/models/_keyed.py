"""Predictions keyed by customer: a summary frame in, the same kind of frame out.

Every prediction of :mod:`retailcrm.models` answers in the form it was asked in. Given a
summary *frame* (any engine) with ``customer_id`` and the summary columns, it returns the
caller's kind of frame with ``customer_id`` and one named column per prediction, one row per
summary row: a pandas result keeps the summary's index, polars eager stays eager, polars lazy,
DuckDB and PySpark get a lazy frame of their engine (see
:meth:`retailcrm._engine.Engine.small_native`). Given arrays (or a mapping of arrays) it returns
a numpy array in row order.

:func:`read_keyed` collects the customer ids and the summary columns of a frame in one pass
(a summary is a small result: one row per customer) and :class:`Keys` turns per-customer values
back into the caller's kind of frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import narwhals.stable.v2 as nw
import numpy as np
import polars as pl

from retailcrm._engine import Engine, lazy_frame, small_to_numpy
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.models._inputs import FloatArray, frame_columns, summary_arrays

__all__ = ["CUSTOMER_ID", "Keys", "read_keyed"]

#: The column that keys a summary's rows and every prediction made from it.
CUSTOMER_ID = "customer_id"


class Keys(NamedTuple):
    """The customers of a summary frame, and how to answer in the caller's kind of frame."""

    ids: pl.Series  # customer_id, in the order of the collected rows
    engine: Engine
    native: Any  # the caller's frame

    def frame(self, values: Mapping[str, Any], *, owner: str) -> Any:
        """``customer_id`` and ``values`` (one float per customer each) as the caller's kind
        of frame; ``owner`` names the method in the error for values of the wrong shape."""
        n = self.ids.len()
        columns: dict[str, Any] = {CUSTOMER_ID: self.ids}
        for name, value in values.items():
            arr = np.asarray(value, dtype=np.float64)
            if arr.shape != (n,):
                raise ConfigError(
                    f"{owner}: with a summary frame the answer is one {name} per customer, but "
                    f"the arguments give an array of shape {arr.shape} for {n} customers. Fix: "
                    "pass single numbers (or one per customer), or pass the summary as arrays "
                    "(frequency=..., recency=..., ...) to get a numpy array of any shape."
                )
            columns[name] = arr
        out = self.engine.small_native(pl.DataFrame(columns), self.native)
        if self.engine.kind == "pandas" and hasattr(self.native, "index"):
            out.index = self.native.index  # the rows are in the summary's order
        return out


def read_keyed(
    frame: Any,
    columns: Sequence[str],
    *,
    owner: str,
    aliases: Mapping[str, str] | None = None,
    validate: bool = True,
) -> tuple[dict[str, FloatArray], Keys]:
    """The summary ``columns`` of ``frame`` as float64 arrays, and its customers.

    Parameters
    ----------
    frame : dataframe
        A per-customer summary of any engine with ``customer_id`` and ``columns``.
    columns : sequence of str
        The summary columns to read.
    owner : str
        The method reading them, for error messages.
    aliases : mapping of str to str, optional
        Another name under which the frame may hold a column (BG/BB's ``T`` for
        ``n_periods``).
    validate : bool, default True
        Check the models' invariants (see :func:`~retailcrm.models._inputs.summary_arrays`).

    Returns
    -------
    tuple
        The arrays by column name, and the :class:`Keys` to answer with.

    Raises
    ------
    MissingColumnsError
        ``customer_id`` or a summary column is missing (all of them named at once).
    InvalidDataError
        A value breaks an invariant of the summary.

    Examples
    --------
    >>> import polars as pl
    >>> from retailcrm.models._keyed import read_keyed
    >>> summary = pl.DataFrame({"customer_id": ["a", "b"], "frequency": [0, 2]})
    >>> data, keys = read_keyed(summary, ["frequency"], owner="example")
    >>> data["frequency"], keys.ids.to_list()
    (array([0., 2.]), ['a', 'b'])
    >>> keys.frame({"doubled": 2 * data["frequency"]}, owner="example")
    shape: (2, 2)
    ┌─────────────┬─────────┐
    │ customer_id ┆ doubled │
    │ ---         ┆ ---     │
    │ str         ┆ f64     │
    ╞═════════════╪═════════╡
    │ a           ┆ 0.0     │
    │ b           ┆ 4.0     │
    └─────────────┴─────────┘
    """
    aliases = aliases or {}
    available = frame_columns(frame)
    names = set(available)
    sources: dict[str, str] = {}
    missing = [] if CUSTOMER_ID in names else [CUSTOMER_ID]
    for c in columns:
        alias = aliases.get(c)
        if c in names or alias is None or alias not in names:
            sources[c] = c
            if c not in names:
                missing.append(c)
        else:
            sources[c] = alias
    if missing:
        index = getattr(getattr(frame, "index", None), "name", None)
        moved = f" ({CUSTOMER_ID} is the index here: pass summary.reset_index())"
        raise MissingColumnsError(
            missing,
            available=available,
            role="summary",
            fix=f"{owner} answers a summary frame with one row per customer, so it needs "
            f"{CUSTOMER_ID} and the columns {list(columns)} (btyd_summary makes them)"
            f"{moved if index == CUSTOMER_ID else ''}; or pass the columns as arrays ("
            + ", ".join(f"{c}=..." for c in columns)
            + ") to get a numpy array.",
        )
    lf, engine = lazy_frame(frame, name="summary", columns=(CUSTOMER_ID, *sources.values()))
    small = engine.collect_small(
        lf.select(
            nw.col(CUSTOMER_ID),
            *[nw.col(src).cast(nw.Float64).alias(c) for c, src in sources.items()],
        )
    )
    data = summary_arrays(None, columns, validate=validate, **small_to_numpy(small, columns))
    ids = small.get_column(CUSTOMER_ID).to_native()
    return data, Keys(ids, engine, frame)
