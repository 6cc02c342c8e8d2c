"""The full CDNOW cohort: features as of 1998-07-01 against a plain pandas computation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import assert_equal_data
from reference import reference_features
from retailcrm import customer_features


def load_cdnow_master(path: Path) -> pd.DataFrame:
    """Our own loader: whitespace-separated, one header line, zero-padded text ids; ``line``
    is the record's line in the file (255 records repeat an earlier one to the letter: equal
    purchases, kept distinct as a line id does)."""
    raw = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "quantity": raw["number_of_cds"].astype("int64"),
            "amount": raw["dollar_value"].astype("float64"),
            "line": range(2, len(raw) + 2),
        }
    )


@pytest.fixture(scope="module")
def cdnow(cdnow_dir: Path) -> pd.DataFrame:
    return load_cdnow_master(cdnow_dir / "CDNOW_master.txt")


def test_loader_reads_the_documented_cohort(cdnow: pd.DataFrame) -> None:
    assert len(cdnow) == 69_659
    assert cdnow["customer_id"].nunique() == 23_570
    assert cdnow["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert cdnow["timestamp"].max() == pd.Timestamp("1998-06-30")


def test_features_agree_with_plain_pandas(cdnow: pd.DataFrame) -> None:
    as_of = dt.date(1998, 7, 1)
    got = customer_features(cdnow, as_of=as_of)
    assert len(got) == 23_570 and got["customer_id"].is_unique
    # The plain-pandas reference loops over customers in Python: it checks every 4th customer
    # (a customer's features depend on their own lines only), a quarter of the time.
    ids = sorted(cdnow["customer_id"].unique())[::4]
    ref = reference_features(cdnow[cdnow["customer_id"].isin(ids)], as_of)
    assert len(ref) == len(ids) == 5_893
    mine = got[got["customer_id"].isin(ids)].reset_index(drop=True)
    assert_equal_data(mine[ref.columns], ref)
    # a few hand-checked facts about the cohort
    assert got["first_purchase"].min() == pd.Timestamp("1997-01-01")
    # the cohort joined in Q1 1997; a first *purchase* later than that means every Q1 day of
    # that customer had zero spend (CDNOW has $0 lines), which is not a purchase occasion
    late = set(got.loc[got["first_purchase"] > pd.Timestamp("1997-03-31"), "customer_id"])
    q1 = cdnow[cdnow["timestamp"] <= "1997-03-31"].groupby("customer_id")["amount"].sum()
    buyers = set(got.loc[got["frequency"] > 0, "customer_id"])
    assert late == set(q1[q1 == 0].index) & buyers and len(late) == 2
    assert int(got["frequency"].sum()) == int(
        cdnow.groupby(["customer_id", "timestamp"])["amount"].sum().gt(0).sum()
    )
    assert np.isclose(got["monetary"].sum(), cdnow["amount"].sum())
