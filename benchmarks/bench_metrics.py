"""Benchmark two engine-heavy metrics: acquisition cohorts and category affinity.

What is measured, each in a fresh subprocess (best of ``--repeat`` runs), for each function:

* ``cohort_retention`` — ``cohort_retention(tx, as_of=..., cohort="M", period="M",
  mode="active", value="customers")``: customers active in each month after the month of
  their first purchase, per monthly acquisition cohort;

  - ``retailcrm (polars)`` / ``retailcrm (pandas)`` — on a polars and on a pandas DataFrame
    (conversions included);
  - ``polars floor`` — the same table hand-written directly in polars, checked equal to
    retailcrm's (every cell) on a small sample before anything is timed;
  - ``openretailscience`` — ``CohortAnalysis(tx, "customer_id", "nunique", "month").df``:
    distinct customers per first-month × month offset on Ibis with DuckDB;

* ``category_affinity`` — ``category_affinity(tx, as_of=...)`` with its defaults (category
  pairs, one basket per customer, ``min_support=0.01``): support, confidence and lift of every
  rule "bought A, also bought B";

  - ``retailcrm (polars)`` / ``retailcrm (pandas)`` and a ``polars floor``, as above.

The peer runs with another interpreter (``--peers-python``), so that it never enters the
project's environment. The machinery (cached data, workers, peak memory, report, docs page) is
``bench_features.py``'s; see ``benchmarks/README.md``.

Usage::

    python benchmarks/bench_metrics.py --customers 20000 --repeat 1     # smoke run
    python benchmarks/bench_metrics.py --peers-python /tmp/bench-seg-peers/bin/python \\
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
    results_table,
    run_cases,
    run_worker,
    summarise,
    write_docs,
)

DOCS_PAGE = ROOT / "docs" / "benchmarks" / "metrics.md"
TITLE = "Benchmark: cohorts and category affinity"
MIN_SUPPORT = 0.01  # category_affinity's default
FUNCTIONS = ("cohort_retention", "category_affinity")
PREFIX = {"cohort_retention": "cohorts: ", "category_affinity": "affinity: "}

#: name -> (interpreter, input library, what it computes); a name starts with its function's
#: prefix, which the report drops (each function gets its own tables and its own floor)
CASES: dict[str, tuple[str, str, str]] = {
    "cohorts: polars floor": ("main", "polars", "monthly cohorts × month offsets, active "
                              "customers and rates, hand-written in polars"),
    "cohorts: retailcrm (polars)": ("main", "polars", "cohort_retention(cohort='M', period='M', "
                                    "mode='active', value='customers'), polars in / polars out"),
    "cohorts: retailcrm (pandas)": ("main", "pandas", "the same, pandas in / pandas out"),
    "cohorts: openretailscience": ("peers", "pandas", "CohortAnalysis('customer_id', 'nunique', "
                                   "'month').df: distinct customers with any line, on "
                                   "Ibis/DuckDB, wide"),
    "affinity: polars floor": ("main", "polars", "category pairs in per-customer baskets: "
                               "support, confidence, lift, hand-written in polars"),
    "affinity: retailcrm (polars)": ("main", "polars", "category_affinity(min_support=0.01), "
                                     "polars in / polars out"),
    "affinity: retailcrm (pandas)": ("main", "pandas", "the same, pandas in / pandas out"),
}  # fmt: skip

#: peer case -> the distributions whose versions its record names
PEER_PACKAGES = {"cohorts: openretailscience": ("openretailscience", "ibis-framework", "duckdb")}


# ---------------------------------------------------------------------------------------------
# the floors: the same tables, hand-written directly in polars
# ---------------------------------------------------------------------------------------------


def _cents(pl: Any) -> Any:
    """Amounts in whole cents, rounded half away from zero (so sums are exact)."""
    amount = pl.col("amount").cast(pl.Float64)
    units = (amount.abs() * 100.0 + 0.5).floor().cast(pl.Int64)
    return pl.when(amount < 0).then(-units).otherwise(units).alias("cents")


def floor_cohorts(tx: Any, as_of: dt.date) -> Any:
    """``cohort_retention(tx, as_of=as_of)`` (monthly cohorts and offsets, ``mode="active"``,
    ``value="customers"``) written directly in polars (default policies).

    The same definitions as retailcrm's docstring: an occasion is an order of a customer (a
    customer-day where the order id is null), dated by its first line, and a purchase when its
    net spend in cents is positive; a customer's cohort is the month of their first purchase;
    the cell at offset ``k`` counts the cohort's customers with a purchase ``k`` months later.
    Every cohort gets a row for each offset up to ``as_of``'s month (zeros included). One lazy
    query for the counts, polars' default engine, no validation and no engine boundary; the
    small grid is then filled eagerly.
    """
    import polars as pl

    last_month = as_of.year * 12 + as_of.month - 1
    date = pl.col("date")
    month = date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1
    order_day = pl.when(pl.col("order_id").is_null()).then(date).alias("order_day")
    counts = (
        tx.lazy()
        .select("customer_id", "order_id", pl.col("timestamp").dt.date().alias("date"), _cents(pl))
        .filter(date <= as_of)
        .group_by("customer_id", "order_id", order_day)
        .agg(date.min(), pl.col("cents").sum())
        .filter(pl.col("cents") > 0)
        .select("customer_id", month.alias("month"))
        .unique()
        .with_columns(cohort_no=pl.col("month").min().over("customer_id"))
        .group_by("cohort_no", offset=pl.col("month") - pl.col("cohort_no"))
        .agg(value=pl.len().cast(pl.Int64))
        .collect()
    )
    sizes = counts.filter(pl.col("offset") == 0).select("cohort_no", cohort_size="value")
    return (
        sizes.with_columns(offset=pl.int_ranges(0, last_month - pl.col("cohort_no") + 1))
        .explode("offset")
        .join(counts, on=["cohort_no", "offset"], how="left")
        .with_columns(pl.col("value").fill_null(0))
        .select(
            pl.date(pl.col("cohort_no") // 12, pl.col("cohort_no") % 12 + 1, 1).alias("cohort"),
            pl.col("offset").cast(pl.Int64),
            "cohort_size",
            "value",
            (pl.col("value").cast(pl.Float64) / pl.col("cohort_size").cast(pl.Float64)).alias(
                "rate"
            ),
        )
        .sort("cohort", "offset")
    )


def floor_affinity(tx: Any, as_of: dt.date, min_support: float = MIN_SUPPORT) -> Any:
    """``category_affinity(tx, as_of=as_of, min_support=min_support)`` (category pairs, one
    basket per customer) written directly in polars.

    A basket is the set of distinct categories of a customer's purchase lines (amount above
    zero in cents, category not null) up to ``as_of``. Categories in fewer than
    ``min_support`` of the baskets are dropped before the self-join of (customer, category)
    pairs on the customer; pairs below ``min_support`` are dropped after it. Both directions
    of a pair are rules: support ``n / N``, confidence ``n / n_A``, lift
    ``n N / (n_A n_B)``. The distinct (customer, category) pairs are computed once, in memory.
    """
    import polars as pl

    items = (
        tx.lazy()
        .select("customer_id", "category", pl.col("timestamp").dt.date().alias("date"), _cents(pl))
        .filter(
            (pl.col("date") <= as_of) & (pl.col("cents") > 0) & pl.col("category").is_not_null()
        )
        .select("customer_id", pl.col("category").cast(pl.String))
        .unique()
        .collect()
    )
    total = items.get_column("customer_id").n_unique()
    cut = total * min_support
    singles = items.group_by("category").agg(n=pl.len().cast(pl.Int64)).filter(pl.col("n") >= cut)
    kept = items.lazy().join(singles.lazy().select("category"), on="category", how="semi")
    pairs = (
        kept.join(kept, on="customer_id", suffix="_b")
        .filter(pl.col("category") < pl.col("category_b"))
        .group_by(a="category", b="category_b")
        .agg(n=pl.len().cast(pl.Int64))
        .filter(pl.col("n") >= cut)
        .collect()
    )
    n_a = singles.select(a="category", n_a="n")
    n_b = singles.select(b="category", n_b="n")
    stats = pairs.join(n_a, on="a").join(n_b, on="b")
    n, big_n = pl.col("n").cast(pl.Float64), float(total)

    def rules(x: str, y: str) -> Any:
        nx, ny = pl.col(f"n_{x}").cast(pl.Float64), pl.col(f"n_{y}").cast(pl.Float64)
        return stats.select(
            antecedent=x,
            consequent=y,
            size=pl.lit(2, pl.Int64),
            baskets="n",
            support=n / big_n,
            confidence=n / nx,
            lift=n * big_n / (nx * ny),
        )

    return pl.concat([rules("a", "b"), rules("b", "a")]).sort(
        "size", "confidence", "lift", "antecedent", "consequent",
        descending=[False, True, True, False, False],
    )  # fmt: skip


def retailcrm_cohorts(tx: Any, as_of: str) -> Any:
    """What a retailcrm user writes: monthly acquisition cohorts, active customers."""
    from retailcrm.metrics import cohort_retention

    return cohort_retention(
        tx, as_of=as_of, cohort="M", period="M", mode="active", value="customers"
    )


def retailcrm_affinity(tx: Any, as_of: str) -> Any:
    """What a retailcrm user writes: category pairs with the default ``min_support``."""
    from retailcrm.metrics import category_affinity

    return category_affinity(tx, as_of=as_of, min_support=MIN_SUPPORT)


def check_floor(n_customers: int = 2_000) -> str:
    """Assert that each floor equals retailcrm's output exactly (pandas and polars input), on
    ``bench_features.check_transactions`` at three dates; what was compared."""
    import polars as pl
    from polars.testing import assert_frame_equal

    tx = check_transactions(n_customers)
    ptx = pl.from_pandas(tx)
    dates = ("2023-03-15", "2024-06-30", AS_OF)
    shapes = ""
    for as_of in dates:
        day = dt.date.fromisoformat(as_of)
        cohorts, rules = floor_cohorts(ptx, day), floor_affinity(ptx, day)
        with warnings.catch_warnings():  # retailcrm's data-quality notes on the edge cases
            warnings.simplefilter("ignore")
            for frame in (ptx, tx):
                c = retailcrm_cohorts(frame, as_of)
                got = pl.from_pandas(c) if frame is tx else c
                got = got.with_columns(pl.col("cohort").cast(pl.Date))
                assert_frame_equal(got, cohorts, check_exact=True)
                r = retailcrm_affinity(frame, as_of)
                got = pl.from_pandas(r) if frame is tx else r
                assert_frame_equal(got, rules, check_exact=True)
        shapes = (
            f"cohort_retention's {cohorts.height:,} cells ({cohorts['cohort'].n_unique()} "
            f"cohorts) and category_affinity's {rules.height} rules as of {as_of}"
        )
    return (
        f"{len(tx):,} lines, {ptx['customer_id'].n_unique():,} customers, as_of "
        f"{', '.join(dates)}; pandas and polars input: every cell and every rule exactly "
        f"({shapes})"
    )


# ---------------------------------------------------------------------------------------------
# the cases, run by the workers
# ---------------------------------------------------------------------------------------------


def _case_function(case: str, as_of: str) -> Callable[[Any], Any]:
    day = dt.date.fromisoformat(as_of)
    if case == "cohorts: polars floor":
        return lambda tx: floor_cohorts(tx, day)
    if case == "affinity: polars floor":
        return lambda tx: floor_affinity(tx, day)
    if case.startswith(("cohorts: retailcrm", "affinity: retailcrm")):
        import retailcrm.metrics  # noqa: F401  (imported before the baseline)

        fn = retailcrm_cohorts if case.startswith("cohorts") else retailcrm_affinity
        return lambda tx: fn(tx, as_of)
    if case == "cohorts: openretailscience":
        from openretailscience.analysis.cohort import CohortAnalysis
        from openretailscience.options import option_context

        names = {"column.customer_id": "customer_id", "column.transaction_date": "timestamp"}

        def run(tx: Any) -> Any:
            with option_context(names):
                cohorts = CohortAnalysis(tx, "customer_id", agg_func="nunique", period="month")
            return cohorts.df.reset_index()

        return run
    raise ValueError(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------------
# the report: one header, then each function's tables and targets
# ---------------------------------------------------------------------------------------------


def _split(
    summary: dict[str, dict[str, Any]], function: str
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, str, str]]]:
    """One function's summary and cases, with the function's prefix dropped from the names."""
    prefix = PREFIX[function]
    sub = {c[len(prefix) :]: s for c, s in summary.items() if c.startswith(prefix)}
    cases = {c[len(prefix) :]: spec for c, spec in CASES.items() if c.startswith(prefix)}
    return sub, cases


def targets_table(summary: dict[str, dict[str, Any]], function: str) -> str:
    """The issue's target: pandas and polars input ≤ 1.5× the hand-written polars code. A
    peer's time and memory are shown for information (the issue sets no target on them)."""
    rows = ["| target | measured | verdict |", "|---|---|---|"]
    floor = summary.get("polars floor", {})
    for kind in ("polars", "pandas"):
        s = summary.get(f"retailcrm ({kind})", {})
        if "seconds" in s and "seconds" in floor:
            r = s["seconds"] / floor["seconds"]
            extra = " (conversions included)" if kind == "pandas" else ""
            rows.append(
                f"| `{function}`, {kind} input ≤ 1.5× the hand-written polars code{extra} "
                f"| {s['seconds']:.2f} s vs {floor['seconds']:.2f} s = {r:.2f}× "
                f"| {_verdict(r <= 1.5)} |"
            )
    ours = summary.get("retailcrm (pandas)", {})
    peer = summary.get("openretailscience")
    if peer is None or "seconds" not in ours:
        return "\n".join(rows)
    if "seconds" not in peer:
        why = peer.get("error", "not run")
        rows.append(f"| (no target) pandas input against openretailscience | {why} | — |")
        return "\n".join(rows)
    rows.append(
        f"| (no target) pandas input's time against openretailscience "
        f"| {ours['seconds']:.2f} s vs {peer['seconds']:.2f} s "
        f"= {ours['seconds'] / peer['seconds']:.2f}× | — |"
    )
    rows.append(
        f"| (no target) pandas input's peak memory against openretailscience "
        f"| {_mib(ours['peak_over_load'])} MiB vs {_mib(peer['peak_over_load'])} MiB "
        f"= {ours['peak_over_load'] / peer['peak_over_load']:.2f}× | — |"
    )
    return "\n".join(rows)


def metrics_report(
    summary: dict[str, dict[str, Any]],
    meta: dict[str, Any],
    args: Any,
    floor_check: str,
    seconds: float,
) -> str:
    """The results section: ``bench_features.report`` (header, tables, targets) for the first
    function measured, then each other function's tables and targets, each under a heading."""
    blocks = {f: _split(summary, f) for f in FUNCTIONS if _split(summary, f)[0]}
    first, *others = blocks
    sub, cases = blocks[first]

    def targets(s: dict[str, dict[str, Any]]) -> str:
        text = targets_table(s, first)
        for function in others:
            s2, c2 = blocks[function]
            tables = results_table(s2, args.repeat, c2)
            text += f"\n\n### `{function}`\n\n{tables}\n\n{targets_table(s2, function)}"
        return text

    section: str = report(
        sub,
        meta,
        args,
        floor_check,
        seconds,
        script="benchmarks/bench_metrics.py",
        cases=cases,
        data=(
            "cohort_retention with monthly cohorts and offsets (mode='active', "
            "value='customers'); category_affinity of categories, one basket per customer, "
            f"min_support={MIN_SUPPORT}"
        ),
        targets=targets,
    )
    tables = results_table(sub, args.repeat, cases)
    if tables not in section:  # report() places results_table's output verbatim
        raise RuntimeError("bench_features.report no longer holds results_table's output")
    return section.replace(tables, f"### `{first}`\n\n{tables}", 1)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(
        argv,
        description="Time and peak memory of cohort_retention and category_affinity against "
        "polars floors and openretailscience.",
        cases=CASES,
        page=DOCS_PAGE,
        peers="openretailscience",
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
    section = metrics_report(summarise(runs), meta, args, floor_check, time.perf_counter() - t0)
    print()
    print(section)
    if args.write_docs:
        write_docs(section, DOCS_PAGE, TITLE)
        print(f"\nwritten to {DOCS_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
