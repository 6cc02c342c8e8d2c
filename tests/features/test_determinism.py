"""Bit-identical results: separate processes, thread counts, row orders and engines give the same
bits (money is summed in whole minor units, see ``TransactionSchema.currency_decimals``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import polars.testing
import pytest

from helpers import REPO_ROOT, make_native, to_polars
from retailcrm import customer_features
from retailcrm.models import btyd_summary

SCRIPT = """
import sys
import pandas as pd
sys.path[:0] = [{tests!r}, {tests_root!r}]
from test_cdnow import load_cdnow_master
from retailcrm import customer_features
from retailcrm.models import btyd_summary

tx = load_cdnow_master({path!r})
if {shuffle}:
    tx = tx.sample(frac=1.0, random_state=7)
customer_features(tx, as_of="1997-09-30", windows=(30, 90)).to_parquet({out!r} + ".f.parquet")
btyd_summary(tx, observation_end="1998-06-30", calibration_end="1997-09-30").to_parquet(
    {out!r} + ".s.parquet"
)
"""


def _run(tmp: Path, name: str, threads: int, shuffle: bool, cdnow_dir: Path) -> tuple[Path, Path]:
    out = tmp / name
    code = SCRIPT.format(
        tests=str(REPO_ROOT / "tests" / "features"),
        tests_root=str(REPO_ROOT / "tests"),
        path=str(cdnow_dir / "CDNOW_master.txt"),
        shuffle=shuffle,
        out=str(out),
    )
    env = {**os.environ, "POLARS_MAX_THREADS": str(threads)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp)
    return Path(f"{out}.f.parquet"), Path(f"{out}.s.parquet")


@pytest.mark.slow
def test_separate_processes_threads_and_row_orders_give_the_same_bits(
    tmp_path: Path, cdnow_dir: Path
) -> None:
    runs = [
        _run(tmp_path, "one", 1, False, cdnow_dir),
        _run(tmp_path, "two", 2, True, cdnow_dir),
        _run(tmp_path, "again", 2, False, cdnow_dir),
    ]
    for i in (0, 1):
        first = pd.read_parquet(runs[0][i])
        for other in runs[1:]:
            pd.testing.assert_frame_equal(first, pd.read_parquet(other[i]), check_exact=True)
    features = pd.read_parquet(runs[0][0])
    assert len(features) == 23_570 and features["monetary"].sum() > 0


def test_engines_give_the_same_bits(engine: str) -> None:
    """Sums that cancel, amounts that are not exact in binary, and divisions by 7 (weeks) that
    polars would round differently from DuckDB and Spark: every engine, the same bits."""
    amounts = [0.1, 0.2, 0.3, -0.6, 19.99, 0.07, 1e6 + 0.01, 33.33, 33.33, 33.34]
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b", "c", "d", "d", "d"],
            "timestamp": pd.to_datetime(["2024-05-01"] * 4 + ["2024-05-02"] * 6),
            "amount": amounts,
            "line": range(10),
        }
    )
    want = to_polars(customer_features(frame, as_of="2024-05-31"))
    got = to_polars(customer_features(make_native(engine, frame), as_of="2024-05-31"))
    polars.testing.assert_frame_equal(
        got.select(pl.exclude("first_purchase", "last_purchase")),
        want.select(pl.exclude("first_purchase", "last_purchase")),
        check_dtypes=False,
        check_exact=True,
    )
    assert want.filter(pl.col("customer_id") == "a")["frequency"].to_list() == [0]
    assert want.filter(pl.col("customer_id") == "d")["monetary"].to_list() == [100.0]
    summary = to_polars(btyd_summary(make_native(engine, frame), observation_end="2024-05-31"))
    reference = to_polars(btyd_summary(frame, observation_end="2024-05-31"))
    polars.testing.assert_frame_equal(summary, reference, check_dtypes=False, check_exact=True)
