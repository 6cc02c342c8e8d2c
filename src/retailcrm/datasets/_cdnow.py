"""The CDNOW data set, shipped with the package: loaders that return transaction frames.

The two text files next to this module are the CDNOW files of Fader, Hardie & Lee (2005) as
redistributed under the MIT licence in the ``lifetimes`` package (see ``NOTICE.txt``):

- ``CDNOW_master.txt``: one header line, then ``customer_id date number_of_cds dollar_value``;
- ``CDNOW_sample.txt``: no header, ``master_id sample_id date number_of_cds dollar_value``.

Fields are separated by runs of spaces, lines end in CRLF, dates are ``YYYYMMDD``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd
import polars as pl

from retailcrm._params import check_choice

__all__ = ["load_cdnow_master", "load_cdnow_sample"]

Engine = Literal["pandas", "polars"]
_ENGINES: tuple[Engine, ...] = ("pandas", "polars")
_ENGINE_FIX = "engine='pandas' (the default) or engine='polars'; call .lazy() on the polars frame for a LazyFrame."


def _read(filename: str, fields: list[str], *, header_lines: int) -> pd.DataFrame:
    """The file's records as text columns, with the line number of each record."""
    source = resources.files(__package__).joinpath(filename)
    with source.open("rb") as handle:
        raw = pd.read_csv(
            handle,
            sep=r"\s+",
            header=None,
            skiprows=header_lines,
            names=fields,
            dtype=str,
        )
    raw["line"] = np.arange(header_lines + 1, header_lines + 1 + len(raw), dtype=np.int64)
    return raw


def _frame(
    raw: pd.DataFrame, customer_field: str, engine: Engine, extra: tuple[str, ...] = ()
) -> Any:
    """The transaction frame: customer_id, timestamp, amount, quantity, line, then ``extra``
    id columns, in file order."""
    columns: dict[str, Any] = {
        "customer_id": raw[customer_field].astype(np.int64).to_numpy(),
        "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d")
        .astype("datetime64[ns]")
        .to_numpy(),
        "amount": raw["amount"].astype(np.float64).to_numpy(),
        "quantity": raw["quantity"].astype(np.int64).to_numpy(),
        "line": raw["line"].to_numpy(),
    }
    for name in extra:
        columns[name] = raw[name].astype(np.int64).to_numpy()
    if engine == "polars":
        return pl.DataFrame(columns).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))
    return pd.DataFrame(columns)


def load_cdnow_sample(*, engine: Engine = "pandas") -> Any:
    """The CDNOW sample: 6,919 purchase lines of 2,357 customers, 1997-01-01 to 1998-06-30.

    The 1/10 systematic sample of the CDNOW cohort used by Fader, Hardie & Lee (2005) and the
    papers that follow it: every customer who made a first purchase at CDNOW in the first
    quarter of 1997, followed to the end of June 1998. Shipped with retailcrm; no download.

    Parameters
    ----------
    engine : {"pandas", "polars"}, default "pandas"
        The kind of frame returned: a pandas ``DataFrame`` or a polars ``DataFrame`` (call
        ``.lazy()`` on it for a ``LazyFrame``).

    Returns
    -------
    DataFrame
        One row per line of the file, in file order, with columns

        - ``customer_id`` (int): the sample's customer id, 1 to 2,357 — the ids of the
          literature;
        - ``timestamp`` (datetime, midnight): the day of the purchase;
        - ``amount`` (float): dollar value of the line;
        - ``quantity`` (int): number of CDs bought;
        - ``line`` (int): the record's line number in ``CDNOW_sample.txt`` (1 to 6,919);
        - ``master_id`` (int): the same customer's id in :func:`load_cdnow_master`.

    Raises
    ------
    ConfigError
        ``engine`` is not ``"pandas"`` or ``"polars"``.

    See Also
    --------
    load_cdnow_master : the full cohort of 23,570 customers.

    Notes
    -----
    21 records repeat an earlier record to the letter (same customer, day, CDs and dollars):
    separate purchases, which the published figures count. ``line`` tells them apart, so
    retailcrm's duplicate-lines policy (``duplicates=None``: warn about exact repeats) stays
    silent on this frame; drop ``line`` and it warns.

    Eight customers' first purchase is worth $0. The literature's conventions for this sample
    (calibration period 1997-01-01 to 1997-09-30, weeks, purchases on one day are one
    transaction) are those of :func:`retailcrm.features.btyd_summary`.

    Source: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the
    easy way: An alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284. The
    file is the one redistributed under the MIT licence in the ``lifetimes`` package
    (Copyright (c) 2015 Cameron Davidson-Pilon); ``NOTICE.txt`` next to it has the details.

    Examples
    --------
    >>> from retailcrm.datasets import load_cdnow_sample
    >>> tx = load_cdnow_sample()
    >>> tx.head(4)
       customer_id  timestamp  amount  quantity  line  master_id
    0            1 1997-01-01   29.33         2     1          4
    1            1 1997-01-18   29.73         2     2          4
    2            1 1997-08-02   14.96         1     3          4
    3            1 1997-12-12   26.48         2     4          4
    >>> len(tx), tx["customer_id"].nunique()
    (6919, 2357)
    >>> load_cdnow_sample(engine="polars").select("customer_id", "timestamp", "amount").head(2)
    shape: (2, 3)
    ┌─────────────┬─────────────────────┬────────┐
    │ customer_id ┆ timestamp           ┆ amount │
    │ ---         ┆ ---                 ┆ ---    │
    │ i64         ┆ datetime[μs]        ┆ f64    │
    ╞═════════════╪═════════════════════╪════════╡
    │ 1           ┆ 1997-01-01 00:00:00 ┆ 29.33  │
    │ 1           ┆ 1997-01-18 00:00:00 ┆ 29.73  │
    └─────────────┴─────────────────────┴────────┘
    """
    engine = check_choice(
        engine, _ENGINES, name="engine", owner="load_cdnow_sample", fix=_ENGINE_FIX
    )
    raw = _read(
        "CDNOW_sample.txt", ["master_id", "sample_id", "date", "quantity", "amount"], header_lines=0
    )
    return _frame(raw, "sample_id", engine, extra=("master_id",))


def load_cdnow_master(*, engine: Engine = "pandas") -> Any:
    """The CDNOW master file: 69,659 purchase lines of 23,570 customers, 1997-01-01 to 1998-06-30.

    The full cohort of Fader, Hardie & Lee (2005): every customer who made a first purchase at
    CDNOW in the first quarter of 1997, followed to the end of June 1998.
    :func:`load_cdnow_sample` is the 1/10 sample of it that the papers use.

    Parameters
    ----------
    engine : {"pandas", "polars"}, default "pandas"
        The kind of frame returned: a pandas ``DataFrame`` or a polars ``DataFrame`` (call
        ``.lazy()`` on it for a ``LazyFrame``).

    Returns
    -------
    DataFrame
        One row per record of the file, in file order, with columns

        - ``customer_id`` (int): the customer's id in the master file, 1 to 23,570;
        - ``timestamp`` (datetime, midnight): the day of the purchase;
        - ``amount`` (float): dollar value of the line;
        - ``quantity`` (int): number of CDs bought;
        - ``line`` (int): the record's line number in ``CDNOW_master.txt`` (2 to 69,660: line 1
          is the header).

    Raises
    ------
    ConfigError
        ``engine`` is not ``"pandas"`` or ``"polars"``.

    See Also
    --------
    load_cdnow_sample : the 1/10 sample of the literature.

    Notes
    -----
    255 records repeat an earlier record to the letter: separate purchases, told apart by
    ``line``, so retailcrm's duplicate-lines policy does not warn about them.

    Source: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the
    easy way: An alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284. The
    file is the one redistributed under the MIT licence in the ``lifetimes`` package
    (Copyright (c) 2015 Cameron Davidson-Pilon); ``NOTICE.txt`` next to it has the details.

    Examples
    --------
    >>> from retailcrm.datasets import load_cdnow_master
    >>> tx = load_cdnow_master()
    >>> tx.head(3)
       customer_id  timestamp  amount  quantity  line
    0            1 1997-01-01   11.77         1     2
    1            2 1997-01-12   12.00         1     3
    2            2 1997-01-12   77.00         5     4
    >>> len(tx), tx["customer_id"].nunique()
    (69659, 23570)
    """
    engine = check_choice(
        engine, _ENGINES, name="engine", owner="load_cdnow_master", fix=_ENGINE_FIX
    )
    raw = _read("CDNOW_master.txt", ["customer_id", "date", "quantity", "amount"], header_lines=1)
    return _frame(raw, "customer_id", engine)
