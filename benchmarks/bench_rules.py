"""Benchmark: 20 first-match rules over a customer feature table.

Compares ``retailcrm.rules.RuleSet.evaluate`` with the hand-written vectorized code an analyst
would write (``np.select`` on pandas, a ``when/then`` chain on polars) and with a row-by-row
rule engine (`rule-engine <https://pypi.org/project/rule-engine/>`_), which is not a dependency
of retailcrm: it is timed on a sample, in whichever interpreter has it installed, e.g.::

    python -m venv /tmp/bench-rules && /tmp/bench-rules/bin/pip install rule-engine
    python benchmarks/bench_rules.py --row-engine-python /tmp/bench-rules/bin/python

Every method must produce the same labels and rule ids (checked before anything is printed);
the script prints a markdown table. Times are the best of ``--repeat`` runs after a warm-up
(the warm-up also fills retailcrm's compile cache, as in a real pipeline that runs the same rule
set on many frames); the first, cold call is reported separately.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

# (id, label, retailcrm condition, rule-engine condition where its syntax differs)
RULES: list[tuple[str, str, str, str]] = [
    ("champions", "Champions", "orders_90d >= 4 and avg_order_value >= 800", ""),
    ("loyal_top", "Loyal", "frequency >= 10 and recency_days <= 30", ""),
    ("loyal", "Loyal", "frequency >= 6 and recency_days <= 60", ""),
    ("big_basket", "Big basket", "avg_order_value >= 1500", ""),
    ("rising", "Rising", "orders_90d >= 2 and orders_365d <= 3", ""),
    ("new_high", "New", "tenure_days <= 30 and monetary >= 500", ""),
    ("new", "New", "tenure_days <= 30", ""),
    ("promising", "Promising", "tenure_days <= 90 and frequency >= 2", ""),
    (
        "hair_north",
        "Hair fans",
        "region in ['North', 'East'] and top_category == 'Hair care'",
        "",
    ),
    ("explorer", "Explorer", "n_categories >= 4 and recency_days <= 120", ""),
    ("subscriber", "Subscriber", "is_subscribed and recency_days <= 90", ""),
    (
        "attention",
        "Needs attention",
        "60 < recency_days <= 120 and frequency >= 3",
        "recency_days > 60 and recency_days <= 120 and frequency >= 3",
    ),
    (
        "sleepy",
        "About to sleep",
        "120 < recency_days <= 180",
        "recency_days > 120 and recency_days <= 180",
    ),
    ("vip_at_risk", "At risk", "recency_days > 180 and monetary >= 3000", ""),
    (
        "at_risk",
        "At risk",
        "180 < recency_days <= 365 and frequency >= 3",
        "recency_days > 180 and recency_days <= 365 and frequency >= 3",
    ),
    ("spend_drop", "Spend drop", "spend_90d * 4 < spend_365d * 0.5 and frequency >= 4", ""),
    (
        "hibernating",
        "Hibernating",
        "180 < recency_days <= 365",
        "recency_days > 180 and recency_days <= 365",
    ),
    ("lost_vip", "Lost VIP", "recency_days > 365 and monetary / frequency >= 500", ""),
    (
        "lost_2022",
        "Lost",
        "last_purchase < date('2023-01-01')",
        "last_purchase < d'2023-01-01'",
    ),
    ("lost", "Lost", "recency_days > 365", ""),
]
DEFAULT = "Other"
AS_OF = dt.date(2024, 12, 31)


# -- row-by-row worker: stdlib and rule_engine only (it runs in a throw-away interpreter) ---------
def row_engine_worker(path: str) -> None:
    """Read records from ``path``, label them with rule-engine, print timing and labels (JSON)."""
    import rule_engine

    with open(path, encoding="utf-8") as handle:
        records = json.load(handle)
    for record in records:
        record["last_purchase"] = dt.datetime.fromisoformat(record["last_purchase"])
    start = time.perf_counter()
    compiled = [(rid, label, rule_engine.Rule(text or cond)) for rid, label, cond, text in RULES]
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    labels, ids = [], []
    for record in records:
        for rid, label, rule in compiled:
            if rule.matches(record):
                labels.append(label)
                ids.append(rid)
                break
        else:
            labels.append(DEFAULT)
            ids.append("default")
    seconds = time.perf_counter() - start
    version = getattr(rule_engine, "__version__", "?")
    json.dump(
        {
            "seconds": seconds,
            "compile": compile_seconds,
            "labels": labels,
            "ids": ids,
            "v": version,
        },
        sys.stdout,
    )


# -- data -----------------------------------------------------------------------------------------
def make_features(n: int, seed: int = 7) -> Any:
    """A synthetic customer feature table with ``n`` rows (numpy dtypes, no missing values)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frequency = rng.geometric(0.25, n).astype("int64")
    aov = np.round(rng.lognormal(5.5, 0.8, n), 2)
    recency = rng.integers(0, 900, n)
    tenure = recency + rng.integers(0, 2000, n)
    orders_365d = np.minimum(frequency, rng.poisson(2.0, n))
    orders_90d = np.minimum(orders_365d, rng.poisson(0.8, n))
    spend_365d = np.round(orders_365d * aov, 2)
    spend_90d = np.round(orders_90d * aov * rng.uniform(0.2, 1.5, n), 2)
    last = pd.Timestamp(AS_OF) - pd.to_timedelta(recency, unit="D")
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype="int64"),
            "recency_days": recency.astype("int64"),
            "frequency": frequency,
            "monetary": np.round(frequency * aov, 2),
            "avg_order_value": aov,
            "tenure_days": tenure.astype("int64"),
            "orders_90d": orders_90d.astype("int64"),
            "orders_365d": orders_365d.astype("int64"),
            "spend_90d": spend_90d,
            "spend_365d": spend_365d,
            "n_categories": rng.integers(1, 7, n).astype("int64"),
            "top_category": rng.choice(["Hair care", "Make-up", "Skin care", "Fragrance"], n),
            "region": rng.choice(["North", "South", "East", "West"], n),
            "is_subscribed": rng.random(n) < 0.3,
            "last_purchase": last.values.astype("datetime64[us]"),
        }
    )


# -- hand-written baselines -------------------------------------------------------------------------
def pandas_by_hand(df: Any) -> Any:
    """What an analyst writes in pandas: boolean masks and np.select."""
    import numpy as np
    import pandas as pd

    rec, freq = df["recency_days"], df["frequency"]
    conditions = [
        (df["orders_90d"] >= 4) & (df["avg_order_value"] >= 800),
        (freq >= 10) & (rec <= 30),
        (freq >= 6) & (rec <= 60),
        df["avg_order_value"] >= 1500,
        (df["orders_90d"] >= 2) & (df["orders_365d"] <= 3),
        (df["tenure_days"] <= 30) & (df["monetary"] >= 500),
        df["tenure_days"] <= 30,
        (df["tenure_days"] <= 90) & (freq >= 2),
        df["region"].isin(["North", "East"]) & (df["top_category"] == "Hair care"),
        (df["n_categories"] >= 4) & (rec <= 120),
        df["is_subscribed"] & (rec <= 90),
        (rec > 60) & (rec <= 120) & (freq >= 3),
        (rec > 120) & (rec <= 180),
        (rec > 180) & (df["monetary"] >= 3000),
        (rec > 180) & (rec <= 365) & (freq >= 3),
        (df["spend_90d"] * 4 < df["spend_365d"] * 0.5) & (freq >= 4),
        (rec > 180) & (rec <= 365),
        (rec > 365) & (df["monetary"] / freq >= 500),
        df["last_purchase"] < pd.Timestamp("2023-01-01"),
        rec > 365,
    ]
    return pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "label": np.select(conditions, [r[1] for r in RULES], DEFAULT),
            "rule_id": np.select(conditions, [r[0] for r in RULES], "default"),
        }
    )


def polars_by_hand(df: Any) -> Any:
    """What an analyst writes in polars: one when/then chain per output column."""
    import polars as pl

    c = pl.col
    rec, freq = c("recency_days"), c("frequency")
    conditions = [
        (c("orders_90d") >= 4) & (c("avg_order_value") >= 800),
        (freq >= 10) & (rec <= 30),
        (freq >= 6) & (rec <= 60),
        c("avg_order_value") >= 1500,
        (c("orders_90d") >= 2) & (c("orders_365d") <= 3),
        (c("tenure_days") <= 30) & (c("monetary") >= 500),
        c("tenure_days") <= 30,
        (c("tenure_days") <= 90) & (freq >= 2),
        c("region").is_in(["North", "East"]) & (c("top_category") == "Hair care"),
        (c("n_categories") >= 4) & (rec <= 120),
        c("is_subscribed") & (rec <= 90),
        (rec > 60) & (rec <= 120) & (freq >= 3),
        (rec > 120) & (rec <= 180),
        (rec > 180) & (c("monetary") >= 3000),
        (rec > 180) & (rec <= 365) & (freq >= 3),
        (c("spend_90d") * 4 < c("spend_365d") * 0.5) & (freq >= 4),
        (rec > 180) & (rec <= 365),
        (rec > 365) & (c("monetary") / freq >= 500),
        c("last_purchase") < dt.datetime(2023, 1, 1),
        rec > 365,
    ]

    def chain(values: list[str], otherwise: str) -> Any:
        expr: Any = pl
        for condition, value in zip(conditions, values, strict=True):
            expr = expr.when(condition).then(pl.lit(value))
        return expr.otherwise(pl.lit(otherwise))

    return df.select(
        "customer_id",
        chain([r[1] for r in RULES], DEFAULT).alias("label"),
        chain([r[0] for r in RULES], "default").alias("rule_id"),
    )


# -- timing -----------------------------------------------------------------------------------------
def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def run_row_engine(python: str | None, records: list[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        import rule_engine  # noqa: F401
    except ImportError:
        if python is None:
            return None
    else:
        python = python or sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "records.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(records, handle, default=str)
        out = subprocess.run(
            [python, __file__, "--row-engine-worker", path], capture_output=True, text=True
        )
    if out.returncode != 0:
        raise RuntimeError(f"the rule-engine worker failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--row-engine-sample", type=int, default=20_000)
    parser.add_argument("--row-engine-python", default=None)
    parser.add_argument("--row-engine-worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.row_engine_worker:
        row_engine_worker(args.row_engine_worker)
        return

    import duckdb
    import polars as pl

    from retailcrm.rules import Rule, RuleSet

    rules = RuleSet(
        [Rule(rid, cond, label=label) for rid, label, cond, _ in RULES], default=DEFAULT
    )
    pdf = make_features(args.rows)
    pldf = pl.from_pandas(pdf)

    start = time.perf_counter()
    expected = rules.evaluate(pdf)
    cold = time.perf_counter() - start

    con = duckdb.connect()
    relation = con.from_arrow(pldf.to_arrow())
    timings: dict[str, float] = {}
    results: dict[str, Any] = {}
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("pandas: hand-written `np.select`", lambda: pandas_by_hand(pdf)),
        ("pandas: `RuleSet.evaluate`", lambda: rules.evaluate(pdf)),
        ("polars: hand-written `when/then`", lambda: polars_by_hand(pldf)),
        ("polars: `RuleSet.evaluate`", lambda: rules.evaluate(pldf)),
        ("DuckDB: `RuleSet.evaluate` (+ fetch)", lambda: rules.evaluate(relation).pl()),
    ]
    for name, fn in cases:
        timings[name], results[name] = best_of(args.repeat, fn)

    reference = pl.from_pandas(expected)
    for name, result in results.items():
        frame = result if isinstance(result, pl.DataFrame) else pl.from_pandas(result)
        frame = frame.sort("customer_id")
        assert frame.get_column("label").equals(reference.get_column("label")), name
        assert frame.get_column("rule_id").equals(reference.get_column("rule_id")), name

    sample = pdf.head(args.row_engine_sample)
    records = sample.assign(last_purchase=sample["last_purchase"].astype(str)).to_dict("records")
    row = run_row_engine(args.row_engine_python, records)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:,.0f} ms"

    print(f"20 first-match rules, {args.rows:,} customers, best of {args.repeat}\n")
    print("| method | time | vs hand-written (same engine) |")
    print("| --- | ---: | ---: |")
    base = {"pandas": timings["pandas: hand-written `np.select`"]}
    base["polars"] = timings["polars: hand-written `when/then`"]
    for name, seconds in timings.items():
        engine = name.split(":")[0]
        ratio = f"{seconds / base[engine]:.2f}×" if engine in base else "–"
        print(f"| {name} | {ms(seconds)} | {ratio} |")
    print(f"| pandas: `RuleSet.evaluate`, first call in the process (cold) | {ms(cold)} | – |")
    if row is None:
        print("| rule-engine, row by row | not run (rule-engine not installed) | – |")
        return
    n = len(records)
    head = reference.head(n)
    assert row["labels"] == head.get_column("label").to_list(), "rule-engine labels differ"
    assert row["ids"] == head.get_column("rule_id").to_list(), "rule-engine rule ids differ"
    per_million = row["seconds"] / n * args.rows
    ours = timings["pandas: `RuleSet.evaluate`"]
    print(
        f"| rule-engine {row['v']}, row by row ({n:,}-row sample, scaled to {args.rows:,}) "
        f"| {ms(per_million)} | {per_million / ours:,.0f}× slower than `RuleSet.evaluate` "
        "on pandas |"
    )


if __name__ == "__main__":
    main()
