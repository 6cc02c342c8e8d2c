"""Benchmark the BTYD summary against a hand-written polars floor and two peers.

What is measured, each in a fresh subprocess (best of ``--repeat`` runs):

* ``retailcrm (polars)`` — ``retailcrm.models.btyd_summary(tx, observation_end=...,
  time_unit="D")`` on a polars DataFrame: frequency, recency, T and monetary value per
  customer, purchases counted per day;
* ``retailcrm (pandas)`` — the same on a pandas DataFrame (conversions included);
* ``polars floor`` — the same table hand-written directly in polars, checked equal to
  retailcrm's output on a small sample before anything is timed;
* ``lifetimes`` — ``lifetimes.utils.summary_data_from_transaction_data`` with a monetary
  column;
* ``pymc-marketing`` — ``pymc_marketing.clv.utils.rfm_summary`` with a monetary column.

Days are the unit everywhere (``time_unit="D"``, the peers' default ``freq``/``time_unit``).
The peers run with another interpreter (``--peers-python``), so that they never enter the
project's environment. The machinery (cached data, workers, peak memory, report, docs page) is
``bench_features.py``'s; see ``benchmarks/README.md``.

Usage::

    python benchmarks/bench_btyd.py --customers 20000 --repeat 1 \\
        --peers-python /tmp/bench-peers/bin/python                      # smoke run
    python benchmarks/bench_btyd.py --peers-python /tmp/bench-peers/bin/python --write-docs
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

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

DOCS_PAGE = ROOT / "docs" / "benchmarks" / "btyd.md"
TITLE = "Benchmark: BTYD summary"
TIME_UNIT: Literal["D"] = "D"  # days, the peers' default unit
FLOOR_LIMIT = 1.5  # btyd_summary ≤ 1.5× the floor
PEER_SPEEDUP = 8.0  # each peer's time ÷ ours ≥ 8

#: name -> (interpreter, input library, what it computes)
CASES: dict[str, tuple[str, str, str]] = {
    "polars floor": ("main", "polars", "frequency, recency, T, monetary_value per customer, "
                     "hand-written in polars"),
    "retailcrm (polars)": ("main", "polars", "btyd_summary(time_unit='D'), polars in / polars "
                           "out"),
    "retailcrm (pandas)": ("main", "pandas", "btyd_summary(time_unit='D'), pandas in / pandas "
                           "out"),
    "lifetimes": ("peers", "pandas", "summary_data_from_transaction_data: frequency, recency, "
                  "T, monetary_value"),
    "pymc-marketing": ("peers", "pandas", "clv.utils.rfm_summary: frequency, recency, T, "
                       "monetary_value"),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the floor: the same summary, hand-written directly in polars
# ---------------------------------------------------------------------------------------------


def floor_btyd(tx: Any, observation_end: dt.date) -> Any:
    """``btyd_summary(tx, observation_end=observation_end, time_unit="D")`` written directly
    in polars (default policies, no calibration period).

    The same definitions as retailcrm's docstring: amounts in whole cents (rounded half away
    from zero, so sums are exact); all of a customer's lines of one calendar day up to
    ``observation_end`` are one purchase when they net to zero or more, and days netting below
    zero are dropped; ``frequency`` counts the purchase days after the first, ``recency`` and
    ``T`` are the days from the first purchase day to the last one and to ``observation_end``,
    and ``monetary_value`` is the mean net spend of the repeat days (0 without any). A customer
    without a purchase day is left out. One lazy query, polars' default engine, no validation
    and no engine boundary: what an expert would write by hand.

    ``monetary_value`` is computed as ``cents / (100 * frequency)``, one correctly rounded
    division; retailcrm divides by 100 and then by ``frequency``. The two agree to the bit
    whenever ``cents / 100`` is exact (the check's amounts are quarters) and otherwise differ
    by at most one unit in the last place.
    """
    import polars as pl

    end_day = (observation_end - dt.date(1970, 1, 1)).days
    amount = pl.col("amount").cast(pl.Float64)
    units = (amount.abs() * 100.0 + 0.5).floor().cast(pl.Int64)
    day, cents = pl.col("day"), pl.col("cents")
    days = (
        tx.lazy()
        .select(
            "customer_id",
            pl.col("timestamp").dt.date().cast(pl.Int64).alias("day"),
            pl.when(amount < 0).then(-units).otherwise(units).alias("cents"),
        )
        .filter(day <= end_day)
        .group_by("customer_id", "day")
        .agg(cents.sum())
        .filter(cents >= 0)  # a day netting below zero is neither a purchase nor spend
    )
    freq = pl.col("frequency")
    return (
        days.group_by("customer_id")
        .agg(
            day.min().alias("first"),
            day.max().alias("last"),
            (pl.len().cast(pl.Int64) - 1).alias("frequency"),
            # all spend less the first day's: faster than filtering the repeat days
            (cents.sum() - cents.sort_by("day").first()).alias("repeat_cents"),
        )
        .select(
            "customer_id",
            freq,
            (pl.col("last") - pl.col("first")).cast(pl.Float64).alias("recency"),
            (end_day - pl.col("first")).cast(pl.Float64).alias("T"),
            pl.when(freq > 0)
            .then(pl.col("repeat_cents") / (freq * 100.0))
            .otherwise(0.0)
            .alias("monetary_value"),
        )
        .sort("customer_id")
        .collect()
    )


def retailcrm_btyd(tx: Any, as_of: str) -> Any:
    """What a retailcrm user writes: the BTYD summary in days (the caller's kind of frame)."""
    from retailcrm.models import btyd_summary

    return btyd_summary(tx, observation_end=as_of, time_unit=TIME_UNIT)


def check_floor(n_customers: int = 2_000) -> str:
    """Assert that the floor equals ``btyd_summary`` exactly (pandas and polars input), on
    ``bench_features.check_transactions`` at three dates."""
    import polars as pl
    from polars.testing import assert_frame_equal

    tx = check_transactions(n_customers)
    ptx = pl.from_pandas(tx)
    dates = ("2023-03-15", "2024-06-30", AS_OF)
    repeaters = ""
    for as_of in dates:
        floor = floor_btyd(ptx, dt.date.fromisoformat(as_of))
        with warnings.catch_warnings():  # retailcrm's data-quality notes (zero amounts, …)
            warnings.simplefilter("ignore")
            by_polars = retailcrm_btyd(ptx, as_of)
            by_pandas = pl.from_pandas(retailcrm_btyd(tx, as_of))
        for got in (by_polars, by_pandas):
            assert_frame_equal(got, floor, check_exact=True)
        repeaters = (
            f"{floor.height:,} customers with a purchase day, "
            f"{(floor['frequency'] > 0).sum():,} with repeat purchases"
        )
    return (
        f"{len(tx):,} lines, {ptx['customer_id'].n_unique():,} customers, observation_end "
        f"{', '.join(dates)}; pandas and polars input: every column of every customer, "
        f"bit for bit (as of {AS_OF}: {repeaters})"
    )


# ---------------------------------------------------------------------------------------------
# the cases, run by the workers
# ---------------------------------------------------------------------------------------------


def _case_function(case: str, as_of: str) -> Callable[[Any], Any]:
    if case == "polars floor":
        day = dt.date.fromisoformat(as_of)
        return lambda tx: floor_btyd(tx, day)
    if case.startswith("retailcrm"):
        import retailcrm.models  # noqa: F401  (imported before the baseline)

        return lambda tx: retailcrm_btyd(tx, as_of)
    if case == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data

        return lambda tx: summary_data_from_transaction_data(
            tx,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=as_of,
            freq=TIME_UNIT,
        )
    if case == "pymc-marketing":
        from pymc_marketing.clv.utils import rfm_summary

        return lambda tx: rfm_summary(
            tx,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=as_of,
            time_unit=TIME_UNIT,
        )
    raise ValueError(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------------
# the targets
# ---------------------------------------------------------------------------------------------


def targets_table(summary: dict[str, dict[str, Any]]) -> str:
    """The issue's targets: btyd_summary ≤ 1.5× the floor with pandas and with polars input;
    ≥ 8× faster than lifetimes and than pymc-marketing; peak memory below both peers."""
    rows = ["| target | measured | verdict |", "|---|---|---|"]
    floor = summary.get("polars floor", {})
    ours = {kind: summary.get(f"retailcrm ({kind})", {}) for kind in ("pandas", "polars")}
    peers = ("lifetimes", "pymc-marketing")
    for kind, s in ours.items():
        label = f"{kind} input ≤ {FLOOR_LIMIT:g}× the hand-written polars code"
        if kind == "pandas":
            label += " (conversions included)"
        if "seconds" not in s or "seconds" not in floor:
            rows.append(f"| {label} | {s.get('error') or floor.get('error') or 'not run'} | — |")
            continue
        r = s["seconds"] / floor["seconds"]
        rows.append(
            f"| {label} | {s['seconds']:.2f} s vs {floor['seconds']:.2f} s = {r:.2f}× "
            f"| {_verdict(r <= FLOOR_LIMIT)} |"
        )
    for kind, s in ours.items():
        if "seconds" not in s:
            continue
        for peer in peers:
            p = summary.get(peer, {})
            label = f"{kind} input ≥ {PEER_SPEEDUP:g}× faster than {peer}"
            if "seconds" not in p:
                rows.append(f"| {label} | {p.get('error', 'not run')} | — |")
                continue
            speedup = p["seconds"] / s["seconds"]
            rows.append(
                f"| {label} | {p['seconds']:.2f} s ÷ {s['seconds']:.2f} s = {speedup:.2f}× "
                f"| {_verdict(speedup >= PEER_SPEEDUP)} |"
            )
    for kind, s in ours.items():
        if "peak_over_load" not in s:
            continue
        for peer in peers:
            p = summary.get(peer, {})
            label = f"{kind} input: peak memory below {peer}"
            if "peak_over_load" not in p:
                rows.append(f"| {label} | {p.get('error', 'not run')} | — |")
                continue
            r = s["peak_over_load"] / p["peak_over_load"]
            rows.append(
                f"| {label} | {_mib(s['peak_over_load'])} MiB vs "
                f"{_mib(p['peak_over_load'])} MiB = {r:.2f}× | {_verdict(r < 1)} |"
            )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(
        argv,
        description="Time and peak memory of btyd_summary against a polars floor and peers.",
        cases=CASES,
        page=DOCS_PAGE,
        peers="lifetimes and pymc-marketing",
    )
    if args.worker:
        run_worker(
            args.worker, args.input, AS_OF, args.result, case_function=_case_function, cases=CASES
        )
        return 0
    n_customers = 100_000 if args.quick else args.customers

    t0 = time.perf_counter()
    path, meta = ensure_data(n_customers)
    print(f"data: {meta['lines']:,} lines, {n_customers:,} customers ({path.name})", flush=True)
    floor_check = check_floor()
    print(f"floor check: equal to btyd_summary on {floor_check}", flush=True)
    runs = run_cases(args, path, cases=CASES, script=__file__)
    section = report(
        summarise(runs),
        meta,
        args,
        floor_check,
        time.perf_counter() - t0,
        script="benchmarks/bench_btyd.py",
        cases=CASES,
        data="time in days (`time_unit='D'`, the peers' `freq='D'` / `time_unit='D'`), "
        "monetary value from `amount`, no calibration period",
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
