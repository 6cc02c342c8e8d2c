"""The CDNOW files shipped in ``retailcrm.datasets``: the loaders against ``../shared/data``.

The shared copies are the independent reference: they are parsed here line by line with plain
Python (no pandas reader), and every field of every record is compared with the loaders'
frames, pandas and polars.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from importlib import resources
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from helpers import SHARED_DATA
from retailcrm.datasets import load_cdnow_master, load_cdnow_sample
from retailcrm.exceptions import ConfigError
from retailcrm.models import btyd_summary

CDNOW = SHARED_DATA / "cdnow"
needs_shared = pytest.mark.skipif(
    not CDNOW.is_dir(),
    reason=f"the reference CDNOW files are not in {CDNOW} (../shared/data is absent)",
)
LOADERS = {"sample": load_cdnow_sample, "master": load_cdnow_master}
FILES = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}


def _reference(name: str) -> pd.DataFrame:
    """The shared file's records, split on whitespace, with their 1-based line numbers."""
    rows = []
    text = (CDNOW / FILES[name]).read_text(encoding="ascii")
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if name == "master" and number == 1:
            assert fields == ["customer_id", "date", "number_of_cds", "dollar_value"]
            continue
        if name == "sample":
            master_id, customer_id, day, cds, dollars = fields
        else:
            customer_id, day, cds, dollars = fields
        row = {
            "customer_id": int(customer_id),
            "timestamp": datetime.strptime(day, "%Y%m%d"),
            "amount": float(dollars),
            "quantity": int(cds),
            "line": number,
        }
        if name == "sample":
            row["master_id"] = int(master_id)
        rows.append(row)
    return pd.DataFrame(rows)


@needs_shared
@pytest.mark.parametrize("name", ["sample", "master"])
def test_shipped_files_are_the_shared_files(name: str) -> None:
    shipped = resources.files("retailcrm.datasets").joinpath(FILES[name]).read_bytes()
    assert shipped == (CDNOW / FILES[name]).read_bytes()


@needs_shared
@pytest.mark.parametrize("name", ["sample", "master"])
def test_every_record_is_read_as_in_the_file(name: str) -> None:
    expected = _reference(name)
    actual = LOADERS[name]()
    assert isinstance(actual, pd.DataFrame)
    assert list(actual.columns) == list(expected.columns)
    dtypes = {column: str(dtype) for column, dtype in actual.dtypes.items()}
    assert dtypes == {
        "customer_id": "int64",
        "timestamp": "datetime64[ns]",
        "amount": "float64",
        "quantity": "int64",
        "line": "int64",
        **({"master_id": "int64"} if name == "sample" else {}),
    }
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


@needs_shared
@pytest.mark.parametrize("name", ["sample", "master"])
def test_polars_frame_has_the_same_records(name: str) -> None:
    frame = LOADERS[name](engine="polars")
    assert isinstance(frame, pl.DataFrame)
    assert frame.schema["timestamp"] == pl.Datetime("us")
    assert frame.schema["customer_id"] == pl.Int64
    expected = _reference(name)
    pd.testing.assert_frame_equal(frame.to_pandas(), expected, check_dtype=False)


@pytest.mark.parametrize(
    ("name", "lines", "customers", "repeats", "first_line"),
    [("sample", 6919, 2357, 21, 1), ("master", 69659, 23570, 255, 2)],
)
def test_sizes_and_exact_repeats(
    name: str, lines: int, customers: int, repeats: int, first_line: int
) -> None:
    tx = LOADERS[name]()
    assert len(tx) == lines
    assert tx["customer_id"].nunique() == customers
    assert tx["line"].tolist() == list(range(first_line, first_line + lines))
    # Records that repeat an earlier one to the letter are separate purchases; only the line
    # number tells them apart.
    assert tx.drop(columns="line").duplicated().sum() == repeats
    assert not tx.duplicated().any()
    assert tx["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert tx["timestamp"].max() == pd.Timestamp("1998-06-30")


def test_sample_summary_has_the_literatures_2357_customers_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the line column keeps the duplicates policy silent
        summary = btyd_summary(load_cdnow_sample(), observation_end="1997-09-30", time_unit="W")
    assert len(summary) == 2357
    assert summary["frequency"].sum() == 2457  # repeat transactions in calibration (FHL 2005)


def test_polars_summary_equals_pandas_summary() -> None:
    pandas_summary = btyd_summary(load_cdnow_sample(), observation_end="1997-09-30")
    polars_summary = btyd_summary(load_cdnow_sample(engine="polars"), observation_end="1997-09-30")
    assert isinstance(polars_summary, pl.DataFrame)
    pd.testing.assert_frame_equal(polars_summary.to_pandas(), pandas_summary, check_dtype=False)


def test_sample_ids_match_the_master_file() -> None:
    """Each sample customer is one master customer, with the same records."""
    sample = load_cdnow_sample()
    master = load_cdnow_master()
    assert sample.groupby("customer_id")["master_id"].nunique().eq(1).all()
    assert sample.groupby("master_id")["customer_id"].nunique().eq(1).all()
    columns = ["timestamp", "amount", "quantity"]
    from_sample = sample.rename(columns={"customer_id": "sample_id", "master_id": "customer_id"})
    from_master = master[master["customer_id"].isin(sample["master_id"])]
    key = ["customer_id", *columns]
    pd.testing.assert_frame_equal(
        from_sample[key].sort_values(key).reset_index(drop=True),
        from_master[key].sort_values(key).reset_index(drop=True),
    )


def test_each_call_returns_a_new_frame() -> None:
    first = load_cdnow_sample()
    first.loc[0, "amount"] = -1.0
    assert load_cdnow_sample().loc[0, "amount"] == 29.33


@pytest.mark.parametrize("loader", [load_cdnow_sample, load_cdnow_master])
def test_unknown_engine_is_refused_with_a_fix(loader: object) -> None:
    with pytest.raises(
        ConfigError,
        match=r"The 'engine' parameter of load_cdnow_\w+ must be one of \['pandas', 'polars'\]\. Got 'spark' instead\. Fix: engine='pandas'",
    ):
        loader(engine="spark")  # type: ignore[operator]


def test_notice_cites_the_source_and_licence() -> None:
    notice = resources.files("retailcrm.datasets").joinpath("NOTICE.txt").read_text("utf-8")
    assert "Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005)" in notice
    assert "The MIT License" in notice
    assert "Cameron Davidson-Pilon" in notice


def test_data_files_sit_inside_the_package_directory() -> None:
    """hatchling ships everything under src/retailcrm, so the wheel carries the files."""
    package = Path(str(resources.files("retailcrm.datasets")))
    assert {"CDNOW_sample.txt", "CDNOW_master.txt", "NOTICE.txt"} <= {
        p.name for p in package.iterdir()
    }
