"""Fixtures of the model tests: the CDNOW calibration summary (test scaffolding).

The summary is built here with plain pandas, independently of retailcrm's ``btyd_summary``,
following the conventions of Fader, Hardie & Lee (2005) for the 2,357-customer CDNOW sample:
purchases on the same day are one transaction; calibration is 1997-01-01 to 1997-09-30
inclusive; time in weeks of 7 days; ``frequency`` = distinct purchase days - 1, ``recency`` =
(last - first purchase day) / 7 and ``T`` = (1997-09-30 - first purchase day) / 7 (so a customer
who first bought on 1997-01-01 has T = 38.86 weeks, as in the authors' data set).
``monetary_value`` is the mean spend per repeat transaction (0 without repeats). The frame is
indexed by the sample id and also has it as ``customer_id``, as ``btyd_summary``'s has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

CDNOW_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow"
CALIBRATION_END = pd.Timestamp("1997-09-30")


def read_cdnow_sample_lines(path: Path = CDNOW_DIR / "CDNOW_sample.txt") -> pd.DataFrame:
    """The sample file's lines as retailcrm reads them: ``customer_id`` (the sample id),
    ``timestamp`` (the date), ``amount`` (dollars) and ``line`` (the line of the file).

    Every line is one purchase record; 21 of them repeat an earlier line to the letter (two
    equal purchases on one day). The line number keeps them distinct records, so the default
    duplicate policy has nothing to warn about, as with any table that has a line id."""
    raw = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "n_cds", "amount"],
        dtype={"date": str},
    )
    raw["timestamp"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    raw["line"] = range(1, len(raw) + 1)
    return raw[["customer_id", "timestamp", "amount", "line"]]


def load_cdnow_sample(path: Path = CDNOW_DIR / "CDNOW_sample.txt") -> pd.DataFrame:
    """The calibration summary (index: sample_id, also the column customer_id) of the CDNOW
    sample file."""
    tx = read_cdnow_sample_lines(path).rename(
        columns={"customer_id": "sample_id", "timestamp": "date", "amount": "dollars"}
    )
    cal = tx[tx["date"] <= CALIBRATION_END]
    days = cal.groupby(["sample_id", "date"], as_index=False)["dollars"].sum()
    g = days.groupby("sample_id")
    first = g["date"].min()
    last = g["date"].max()
    n_days = g["date"].size()
    total = g["dollars"].sum()
    first_spend = days.sort_values("date").groupby("sample_id")["dollars"].first()
    out = pd.DataFrame(
        {
            "customer_id": first.index.to_numpy(),
            "frequency": (n_days - 1).astype("int64"),
            "recency": (last - first).dt.days / 7.0,
            "T": (CALIBRATION_END - first).dt.days / 7.0,
        }
    )
    repeat_spend = total - first_spend
    out["monetary_value"] = (repeat_spend / out["frequency"]).where(out["frequency"] > 0, 0.0)
    return out


def _sample_path() -> Path:
    path = CDNOW_DIR / "CDNOW_sample.txt"
    if not path.exists():
        why = f"CDNOW sample not found at {path} (expected ../shared/data/cdnow)"
        pytest.skip(reason=why)
    return path


@pytest.fixture(scope="session")
def small() -> dict[str, Any]:
    """The docstrings' six-row summary standing for 135 customers (well identified), as the
    keyword arguments of a transaction model's ``fit``."""
    return {
        "frequency": [0, 1, 4, 5, 6, 7],
        "recency": [0, 1, 10, 9, 3, 3],
        "T": 12,
        "weights": [52, 52, 5, 5, 6, 15],
    }


@pytest.fixture(scope="session")
def small_donors() -> dict[str, Any]:
    """A BG/BB recency-frequency table of 790 donors over 6 opportunities (well identified),
    as the keyword arguments of ``BetaGeoBetaBinomModel.fit``."""
    return {
        "frequency": [6, 5, 3, 2, 1, 1, 0, 4],
        "recency": [6, 6, 5, 2, 1, 3, 0, 6],
        "n_periods": 6,
        "weights": [120, 70, 20, 60, 110, 10, 350, 50],
    }


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """CDNOW sample calibration summary (2,357 customers, weeks); skips if the data is absent."""
    return load_cdnow_sample(_sample_path())


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    """CDNOW sample transaction lines as retailcrm reads them: ``customer_id`` (the sample id),
    ``timestamp`` (the date), ``amount`` (dollars); skips if the data is absent."""
    return read_cdnow_sample_lines(_sample_path())
