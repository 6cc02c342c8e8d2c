"""Benchmark RFM segmentation end to end: transactions → features → RFM scores → segments.

What is measured, each in a fresh subprocess (best of ``--repeat`` runs):

* ``retailcrm (polars)`` — ``customer_features(tx, as_of=..., features=("rfm",))``, then
  ``rfm_scores`` (five quintile scores) and ``segment(..., STANDARD_SEGMENTS)`` (the 10-segment
  R×F map) on a polars DataFrame;
* ``retailcrm (pandas)`` — the same on a pandas DataFrame (conversions included);
* ``polars floor`` — the same segments hand-written directly in polars, checked equal to
  retailcrm's (every customer's scores and segment) on a small sample before anything is timed;
* ``pymc-marketing`` — ``pymc_marketing.clv.rfm_segments`` (which calls ``rfm_summary``):
  quartile scores and its own five named segments;
* ``openretailscience`` — ``RFMSegmentation(tx, ..., 5, 5, 5).df``: NTILE(5) scores on Ibis
  with DuckDB (no named segments).

The peers run with another interpreter (``--peers-python``), so that they never enter the
project's environment. The machinery (cached data, workers, peak memory, report, docs page) is
``bench_features.py``'s; see ``benchmarks/README.md``.

Usage::

    python benchmarks/bench_segmentation.py --customers 20000 --repeat 1     # smoke run
    python benchmarks/bench_segmentation.py --peers-python /tmp/bench-seg-peers/bin/python \\
        --write-docs
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from bench_features import (
    AS_OF,
    ROOT,
    _mib,
    _verdict,
    check_transactions,
    ensure_data,
    parse_args,
    report,
    run_cases,
    run_worker,
    summarise,
    write_docs,
)

DOCS_PAGE = ROOT / "docs" / "benchmarks" / "segmentation.md"
TITLE = "Benchmark: RFM segmentation"
BINS = 5

#: name -> (interpreter, input library, what it computes)
CASES: dict[str, tuple[str, str, str]] = {
    "polars floor": ("main", "polars", "RFM, quintile scores and the 10-segment R×F map, "
                     "hand-written in polars"),
    "retailcrm (polars)": ("main", "polars", "customer_features(features=('rfm',)) → rfm_scores "
                           "→ segment(STANDARD_SEGMENTS), polars in / polars out"),
    "retailcrm (pandas)": ("main", "pandas", "the same, pandas in / pandas out"),
    "pymc-marketing": ("peers", "pandas", "rfm_segments (rfm_summary inside): quartile scores, "
                       "5 named segments"),
    "openretailscience": ("peers", "pandas", "RFMSegmentation(5, 5, 5).df: NTILE scores on "
                          "Ibis/DuckDB, no named segments"),
}  # fmt: skip

#: peer case -> the distributions whose versions its record names
PEER_PACKAGES = {
    "pymc-marketing": ("pymc-marketing",),
    "openretailscience": ("openretailscience", "ibis-framework", "duckdb"),
}

#: The 10-segment R×F map for 5-bin scores, as (label, R range, F range): the same cells as
#: ``retailcrm.segmentation.STANDARD_SEGMENTS`` (the check below proves it on a sample).
RF_MAP: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("Champions", (5, 5), (4, 5)),
    ("Loyal Customers", (3, 4), (4, 5)),
    ("Potential Loyalist", (4, 5), (2, 3)),
    ("New Customers", (5, 5), (1, 1)),
    ("Promising", (4, 4), (1, 1)),
    ("Need Attention", (3, 3), (3, 3)),
    ("About to Sleep", (3, 3), (1, 2)),
    ("Can't Lose Them", (1, 2), (5, 5)),
    ("At Risk", (1, 2), (3, 4)),
    ("Hibernating", (1, 2), (1, 2)),
)
UNSCORED = "Unscored"  # the map's default: customers without a purchase


# ---------------------------------------------------------------------------------------------
# the floor: the same segments, hand-written directly in polars
# ---------------------------------------------------------------------------------------------


def floor_segments(tx: Any, as_of: dt.date, bins: int = BINS) -> Any:
    """``segment(rfm_scores(customer_features(tx, as_of, features=("rfm",))), STANDARD_SEGMENTS)``
    written directly in polars (default policies).

    The same definitions as retailcrm's docstrings: amounts in whole cents (rounded half away
    from zero, so sums are exact); an occasion is an order of a customer (a customer-day where
    the order id is null), a purchase when its net spend is positive; recency counts days from
    the occasion's first date. A customer's score in a dimension is ``1 + min(bins - 1,
    bins * w // n)``, with ``w`` the number of the ``n`` customers with a purchase that are
    strictly worse (larger recency, smaller frequency or spend) — a rank ("min") — so equal
    values get equal scores. Customers without a purchase get null scores and the segment
    "Unscored". One lazy query, polars' default engine, no validation and no engine boundary.
    """
    import polars as pl

    asof_day = (as_of - dt.date(1970, 1, 1)).days
    amount = pl.col("amount").cast(pl.Float64)
    units = (amount.abs() * 100.0 + 0.5).floor().cast(pl.Int64)
    lines = (
        tx.lazy()
        .select(
            "customer_id",
            "order_id",
            pl.col("timestamp").dt.date().alias("date"),
            pl.when(amount < 0).then(-units).otherwise(units).alias("cents"),
        )
        .filter(pl.col("date") <= as_of)
    )
    order_day = pl.when(pl.col("order_id").is_null()).then(pl.col("date")).alias("order_day")
    buy = pl.col("cents") > 0
    per_customer = (
        lines.group_by("customer_id", "order_id", order_day)
        .agg(pl.col("date").min().cast(pl.Int64).alias("day"), pl.col("cents").sum())
        .group_by("customer_id")
        .agg(
            pl.col("day").filter(buy).max().alias("last_day"),
            buy.sum().cast(pl.Int64).alias("frequency"),
            pl.col("cents").sum(),
        )
    )
    scored = pl.col("last_day").is_not_null()  # a customer with a purchase
    n = scored.sum()

    def score(value: pl.Expr) -> pl.Expr:  # value: higher is better
        worse = pl.when(scored).then(value).rank("min").cast(pl.Int64) - 1
        return 1 + ((bins * worse) // n).clip(upper_bound=bins - 1)  # null stays null

    r, f = pl.col("r_score"), pl.col("f_score")
    label: Any = pl
    for name, (r_lo, r_hi), (f_lo, f_hi) in RF_MAP:
        label = label.when(r.is_between(r_lo, r_hi) & f.is_between(f_lo, f_hi)).then(pl.lit(name))
    label = label.otherwise(pl.lit(UNSCORED))
    return (
        per_customer.with_columns(
            recency_days=asof_day - pl.col("last_day"),
            monetary=pl.col("cents") / 100,
            r_score=score(pl.col("last_day")),
            f_score=score(pl.col("frequency")),
            m_score=score(pl.col("cents")),
        )
        .with_columns(segment=label)
        .select("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
                "m_score", "segment")
        .sort("customer_id")
        .collect()
    )  # fmt: skip


def retailcrm_segments(tx: Any, as_of: str) -> tuple[Any, Any]:
    """What a retailcrm user writes: RFM features only, quintile scores, the standard map.

    The scores (``customer_id, r_score, f_score, m_score, rfm_cell, rfm_score``) and the
    segments (``customer_id, segment, rule_id``), each the caller's kind of frame.
    """
    from retailcrm import customer_features
    from retailcrm.segmentation import STANDARD_SEGMENTS, rfm_scores, segment

    features = customer_features(tx, as_of=as_of, features=("rfm",))
    scores = rfm_scores(features)
    return scores, segment(scores, STANDARD_SEGMENTS)


def check_floor(n_customers: int = 2_000) -> str:
    """Assert that the floor gives every customer retailcrm's R, F and M scores and segment
    (pandas and polars input), on ``bench_features.check_transactions``; the segment sizes."""
    import polars as pl
    from polars.testing import assert_frame_equal

    tx = check_transactions(n_customers)
    ptx = pl.from_pandas(tx)
    dates = ("2023-03-15", "2024-06-30", AS_OF)
    columns = ["customer_id", "r_score", "f_score", "m_score", "segment"]
    sizes = ""
    for as_of in dates:
        floor = floor_segments(ptx, dt.date.fromisoformat(as_of)).select(columns)
        with warnings.catch_warnings():  # retailcrm's notes on ties and on buyer-less customers
            warnings.simplefilter("ignore")
            by_polars = retailcrm_segments(ptx, as_of)
            by_pandas = tuple(pl.from_pandas(frame) for frame in retailcrm_segments(tx, as_of))
        for scores, segments in (by_polars, by_pandas):
            got = scores.join(segments, on="customer_id", how="left").select(columns)
            got = got.with_columns(pl.col("segment").cast(pl.String))
            assert_frame_equal(got, floor, check_exact=True, check_dtypes=False)
        counts = (
            floor["segment"].value_counts().sort(["count", "segment"], descending=[True, False])
        )
        sizes = ", ".join(f"{s} {k:,}" for s, k in counts.iter_rows())
    return (
        f"{len(tx):,} lines, {ptx['customer_id'].n_unique():,} customers, as_of "
        f"{', '.join(dates)}; pandas and polars input: every customer's R, F and M scores and "
        f"segment (as of {AS_OF}: {sizes})"
    )


# ---------------------------------------------------------------------------------------------
# the cases, run by the workers
# ---------------------------------------------------------------------------------------------


def _case_function(case: str, as_of: str) -> Callable[[Any], Any]:
    if case == "polars floor":
        day = dt.date.fromisoformat(as_of)
        return lambda tx: floor_segments(tx, day)
    if case.startswith("retailcrm"):
        import retailcrm.segmentation  # noqa: F401  (imported before the baseline)

        return lambda tx: retailcrm_segments(tx, as_of)[1]
    if case == "pymc-marketing":
        from pymc_marketing.clv import rfm_segments

        return lambda tx: rfm_segments(
            tx, "customer_id", "timestamp", "amount", observation_period_end=as_of
        )
    if case == "openretailscience":
        from openretailscience.options import option_context
        from openretailscience.segmentation.rfm import RFMSegmentation

        names = {
            "column.customer_id": "customer_id",
            "column.transaction_id": "order_id",
            "column.transaction_date": "timestamp",
            "column.unit_spend": "amount",
        }

        def run(tx: Any) -> Any:
            with option_context(names):
                return RFMSegmentation(tx, as_of, BINS, BINS, BINS).df.reset_index()

        return run
    raise ValueError(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------------
# the targets
# ---------------------------------------------------------------------------------------------


def targets_table(summary: dict[str, dict[str, Any]]) -> str:
    """The issue's targets: pandas input ≥ 5× faster than pymc-marketing and ≥ 1.5× faster
    than openretailscience, with less peak memory than either; ≤ 1.5× the polars floor."""
    rows = ["| target | measured | verdict |", "|---|---|---|"]
    floor = summary.get("polars floor", {})
    ours = summary.get("retailcrm (pandas)", {})
    for kind in ("pandas", "polars"):
        s = summary.get(f"retailcrm ({kind})", {})
        if "seconds" in s and "seconds" in floor:
            r = s["seconds"] / floor["seconds"]
            extra = " (conversions included)" if kind == "pandas" else ""
            rows.append(
                f"| {kind} input ≤ 1.5× the hand-written polars code{extra} "
                f"| {s['seconds']:.2f} s vs {floor['seconds']:.2f} s = {r:.2f}× "
                f"| {_verdict(r <= 1.5)} |"
            )
    if "seconds" not in ours:
        return "\n".join(rows)
    for peer, factor in (("pymc-marketing", 5.0), ("openretailscience", 1.5)):
        p = summary.get(peer, {})
        if "seconds" not in p:
            why = p.get("error", "not run")
            rows.append(f"| pandas input ≥ {factor:g}× faster than {peer} | {why} | — |")
            continue
        speedup = p["seconds"] / ours["seconds"]
        rows.append(
            f"| pandas input ≥ {factor:g}× faster than {peer} "
            f"| {p['seconds']:.2f} s ÷ {ours['seconds']:.2f} s = {speedup:.2f}× "
            f"| {_verdict(speedup >= factor)} |"
        )
    for peer in ("pymc-marketing", "openretailscience"):
        p = summary.get(peer, {})
        if "peak_over_load" not in p:
            rows.append(f"| pandas input: peak memory below {peer} | {peer} not run | — |")
            continue
        r = ours["peak_over_load"] / p["peak_over_load"]
        rows.append(
            f"| pandas input: peak memory below {peer} "
            f"| {_mib(ours['peak_over_load'])} MiB vs {_mib(p['peak_over_load'])} MiB "
            f"= {r:.2f}× | {_verdict(r < 1)} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(
        argv,
        description="Time and peak memory of RFM segmentation against a polars floor and peers.",
        cases=CASES,
        page=DOCS_PAGE,
        peers="pymc-marketing and openretailscience",
    )
    if args.worker:
        run_worker(
            args.worker,
            args.input,
            AS_OF,
            args.result,
            case_function=_case_function,
            cases=CASES,
            peer_packages=PEER_PACKAGES.get(args.worker, ()),
        )
        return 0
    n_customers = 100_000 if args.quick else args.customers

    t0 = time.perf_counter()
    path, meta = ensure_data(n_customers)
    print(f"data: {meta['lines']:,} lines, {n_customers:,} customers ({path.name})", flush=True)
    floor_check = check_floor()
    print(f"floor check: equal to retailcrm on {floor_check}", flush=True)
    runs = run_cases(args, path, cases=CASES, script=__file__)
    section = report(
        summarise(runs),
        meta,
        args,
        floor_check,
        time.perf_counter() - t0,
        script="benchmarks/bench_segmentation.py",
        cases=CASES,
        data=f"RFM features only, {BINS} quantile scores per dimension, STANDARD_SEGMENTS",
        targets=targets_table,
    )
    print()
    print(section)
    if args.write_docs:
        write_docs(section, DOCS_PAGE, TITLE)
        print(f"\nwritten to {DOCS_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
