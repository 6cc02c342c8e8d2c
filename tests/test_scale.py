"""Per-transaction work stays in the engine: Spark and DuckDB in, Spark and DuckDB out.

The shared Spark session of the tests (``helpers.spark_session``) runs with
``spark.driver.maxResultSize`` at 1 MiB, Spark's smallest setting. The transactions built here
are generated inside Spark and are larger than that: collecting them to the driver fails (the
first test proves it), so every call below that returns at all has kept them in Spark. What is
collected is what the library documents as small — fitted score edges, unique (x, t_x, T)
rows, summaries — and the tests' own small aggregates of the results.

The same transactions are built in pandas from the same formulas, and the results are compared
by value: counts per segment, stage, tier and action, and the BTYD and cohort summaries.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from helpers import assert_equal_data, duckdb_connection, spark_session, to_polars
from retailcrm import customer_features
from retailcrm.data import validate_transactions
from retailcrm.exceptions import DataQualityWarning
from retailcrm.lifecycle import assign_stages
from retailcrm.loyalty import BOUTIQUE_PROGRAM, BUILTIN_TRIGGERS, evaluate_triggers
from retailcrm.metrics import cohort_retention
from retailcrm.models import btyd_summary
from retailcrm.segmentation import STANDARD_SEGMENTS, rfm_scores, segment

N_LINES = 60_000
N_CUSTOMERS = 12_000
AS_OF = "2024-12-31"
PERIOD_SECONDS = 730 * 86_400
CATEGORIES = ["dress", "shoes", "bags", "coats", "tops"]
CHANNELS = ["store", "online", "app"]
TRIGGERS = [t for t in BUILTIN_TRIGGERS if t.id in ("welcome_back", "tier_lapse")]


def _pandas_transactions() -> pd.DataFrame:
    """The transactions of :func:`_spark_transactions`, built in pandas from the same formulas."""
    i = np.arange(N_LINES, dtype=np.int64)
    return pd.DataFrame(
        {
            "customer_id": [f"C{c:07d}" for c in i % N_CUSTOMERS],
            "order_id": i,
            "timestamp": pd.Timestamp("2023-01-01")
            + pd.to_timedelta((i * 7919) % PERIOD_SECONDS, unit="s"),
            "amount": ((i * 31) % 20_000) / 100 + 1,
            "category": np.array(CATEGORIES)[i % 5],
            "channel": np.array(CHANNELS)[i % 3],
        }
    )


def _spark_transactions() -> Any:
    spark = spark_session()  # started before any Column is built
    from pyspark.sql import functions as F

    i = F.col("id")
    return spark.range(N_LINES).select(
        F.concat(F.lit("C"), F.lpad((i % N_CUSTOMERS).cast("string"), 7, "0")).alias("customer_id"),
        i.alias("order_id"),
        (
            F.lit("2023-01-01 00:00:00").cast("timestamp_ntz")
            + F.make_interval(secs=((i * 7919) % PERIOD_SECONDS).cast("int"))
        ).alias("timestamp"),
        (((i * 31) % 20_000) / 100 + 1).cast("double").alias("amount"),
        F.element_at(F.array(*map(F.lit, CATEGORIES)), (i % 5 + 1).cast("int")).alias("category"),
        F.element_at(F.array(*map(F.lit, CHANNELS)), (i % 3 + 1).cast("int")).alias("channel"),
    )


def _pipeline(tx: Any, *, materialise: Any, validate: bool = True) -> dict[str, Any]:
    """validate → features → RFM → segments → stages → tiers → triggers, as a user writes it
    (``customer_features`` validates too: Spark skips the separate report, to save time)."""
    if validate:
        assert validate_transactions(tx).ok
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # customers without a purchase
        features = materialise(customer_features(tx, as_of=AS_OF))
        segments = segment(rfm_scores(features), STANDARD_SEGMENTS)
    tiers = materialise(BOUTIQUE_PROGRAM.assign(features, as_of=AS_OF))
    if isinstance(features, pd.DataFrame):
        table = features.merge(tiers[["customer_id", "change", "grace_until"]], on="customer_id")
    else:  # Spark and DuckDB: the engine's own join
        table = features.join(tiers.select("customer_id", "change", "grace_until"), "customer_id")
    return {
        "features": features,
        "segments": segments,
        "stages": assign_stages(features, as_of=AS_OF),
        "tiers": tiers,
        "actions": evaluate_triggers(table, TRIGGERS, as_of=AS_OF),
    }


def _counts(frame: Any, column: str) -> pd.DataFrame:
    """Rows per value of ``column`` (a small aggregate, computed in the frame's engine)."""
    if hasattr(frame, "groupBy"):
        small = frame.groupBy(column).count().withColumnRenamed("count", "n")
    elif type(frame).__name__ == "DuckDBPyRelation":
        small = frame.aggregate(f'"{column}", count(*) AS n')
    else:
        small = frame.groupby(column, dropna=False).size().rename("n").reset_index()
    out = to_polars(small).to_pandas()
    out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out.sort_values(column, key=lambda s: s.astype(str)).reset_index(drop=True)


@pytest.fixture(scope="module")
def pandas_results() -> dict[str, Any]:
    tx = _pandas_transactions()
    results = _pipeline(tx, materialise=lambda frame: frame)
    results["tx"] = tx
    return results


@pytest.mark.spark
def test_the_spark_transactions_are_larger_than_the_driver_may_collect() -> None:
    tx = _spark_transactions()
    limit = spark_session().sparkContext.getConf().get("spark.driver.maxResultSize")
    assert limit == "1m"
    with pytest.raises(Exception, match="maxResultSize"):
        tx.collect()


@pytest.mark.spark
def test_the_pipeline_runs_on_spark_without_collecting_transactions(
    tmp_path: Any, pandas_results: dict[str, Any]
) -> None:
    from pyspark.sql import DataFrame

    spark = spark_session()

    def materialise(frame: Any) -> Any:  # written to parquet and read back, as in production
        path = str(tmp_path / f"t{len(list(tmp_path.iterdir()))}.parquet")
        frame.write.parquet(path)
        return spark.read.parquet(path)

    results = _pipeline(_spark_transactions(), materialise=materialise, validate=False)
    for name, frame in results.items():
        assert isinstance(frame, DataFrame), name
    assert results["features"].count() == N_CUSTOMERS
    for name, column in [
        ("segments", "segment"),
        ("stages", "stage"),
        ("tiers", "tier"),
        ("actions", "status"),
    ]:
        assert_equal_data(_counts(results[name], column), _counts(pandas_results[name], column))


@pytest.mark.spark
def test_transaction_summaries_stay_on_spark(pandas_results: dict[str, Any]) -> None:
    from pyspark.sql import DataFrame

    tx = _spark_transactions()
    pandas_tx = pandas_results["tx"]
    for call in (
        lambda t: btyd_summary(t, observation_end=AS_OF),
        lambda t: cohort_retention(t, as_of=AS_OF),
    ):
        result = call(tx)
        assert isinstance(result, DataFrame)
        expected = to_polars(call(pandas_tx))
        keys = expected.columns[:2]
        assert_equal_data(to_polars(result).sort(keys), expected.sort(keys), rel_tol=1e-12)


def test_duckdb_results_stay_on_the_callers_connection(pandas_results: dict[str, Any]) -> None:
    con = duckdb_connection()
    tx = con.from_df(pandas_results["tx"])

    def materialise(frame: Any) -> Any:
        name = f"scale_{abs(hash(frame.sql_query()))}"
        frame.to_table(name)
        return con.table(name)

    results = _pipeline(tx, materialise=materialise)
    for name, frame in results.items():
        view = f"scale_view_{name}"
        frame.create_view(view)  # fails if the relation belongs to another connection
        rows = con.sql(f"SELECT count(*) FROM {view}").fetchall()
        assert rows == [(len(pandas_results[name]),)]
    for name, column in [("segments", "segment"), ("stages", "stage"), ("tiers", "tier")]:
        assert_equal_data(_counts(results[name], column), _counts(pandas_results[name], column))
