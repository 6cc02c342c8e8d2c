"""Benchmark the loyalty programme: a 12-month backtest, one assessment, the day's triggers.

What is measured, each in a fresh subprocess (best of ``--repeat`` runs):

* ``simulate_program (polars)`` — ``simulate_program(tx, BOUTIQUE_PROGRAM, dates=...)`` at the
  12 month-ends of 2024 on a polars DataFrame (tier history, migration, benefit costs and
  activity; the transactions validated once, only the feature columns the programme reads
  computed at each date);
* ``simulate_program (pandas)`` — the same on a pandas DataFrame (conversions included);
* ``one assign (polars)`` / ``one assign (pandas)`` — one assessment as a user writes it:
  ``program_features(tx, BOUTIQUE_PROGRAM, as_of=...)`` then ``BOUTIQUE_PROGRAM.assign`` at the
  last date, the yardstick of the issue's target (the backtest ≤ 4× one assessment);
* ``12 separate dates (polars)`` / ``(pandas)`` — those two calls at each of the 12 dates, each
  date's tiers passed as ``previous`` to the next and the tables concatenated: what the
  backtest's tier history replaces (checked equal before anything is timed);
* ``evaluate_triggers (polars)`` / ``(pandas)`` — ``evaluate_triggers(table, BUILTIN_TRIGGERS,
  as_of=...)`` on the day's trigger table of every customer: the feature table (with the
  customers and events tables), the points ledger's ``expiring_30d`` and the tier
  assignment's ``change`` and ``grace_until`` joined on. That table is built once per sample
  size and cached as parquet next to the transactions.

Every case is retailcrm (no peer library backtests loyalty programmes). The machinery is
``bench_features.py``'s and the report ``bench_lifecycle.py``'s; see ``benchmarks/README.md``.

Usage::

    python benchmarks/bench_loyalty.py --customers 20000 --repeat 1     # smoke run
    python benchmarks/bench_loyalty.py --write-docs                     # the recorded run
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench_features import (
    AS_OF,
    ROOT,
    SEED,
    _mib,
    check_transactions,
    ensure_data,
    parse_args,
    run_cases,
    run_worker,
    summarise,
    write_docs,
)
from bench_lifecycle import month_ends, ratio_targets, reference_case, report

DOCS_PAGE = ROOT / "docs" / "benchmarks" / "loyalty.md"
TITLE = "Benchmark: loyalty programme"
N_DATES = 12
DATES = month_ends(AS_OF, N_DATES)
TARGET = 4.0  # the 12-date backtest ≤ 4× one assessment

#: name -> (interpreter, input library, what it computes)
CASES: dict[str, tuple[str, str, str]] = {
    "simulate_program (polars)": ("main", "polars", f"simulate_program(BOUTIQUE_PROGRAM) at "
                                  f"{N_DATES} month-ends, polars in / polars out"),
    "simulate_program (pandas)": ("main", "pandas", f"simulate_program(BOUTIQUE_PROGRAM) at "
                                  f"{N_DATES} month-ends, pandas in / pandas out"),
    "one assign (polars)": ("main", "polars", "program_features + BOUTIQUE_PROGRAM.assign at "
                            "the last date, polars"),
    "one assign (pandas)": ("main", "pandas", "program_features + BOUTIQUE_PROGRAM.assign at "
                            "the last date, pandas"),
    f"{N_DATES} separate dates (polars)": ("main", "polars", "program_features + assign at "
                                           f"each of the {N_DATES} dates (previous chained), "
                                           "concatenated, polars"),
    f"{N_DATES} separate dates (pandas)": ("main", "pandas", "the same, pandas"),
    "evaluate_triggers (polars)": ("main", "polars", "evaluate_triggers(BUILTIN_TRIGGERS) on "
                                   "the trigger table of every customer, polars"),
    "evaluate_triggers (pandas)": ("main", "pandas", "the same, pandas"),
}  # fmt: skip
TRIGGER_CASES = frozenset(c for c in CASES if c.startswith("evaluate_triggers"))


def points_policy() -> Any:
    """The points programme whose ledger feeds the ``points_expiring`` trigger: 1 point per
    currency unit, 14 days pending, points expiring 12 months after they were earned."""
    from retailcrm.loyalty import PointsPolicy

    return PointsPolicy(earn_rate=1.0, pending_days=14, expiry="months", expiry_after=12)


# ---------------------------------------------------------------------------------------------
# the cases, run by the workers (and by the check)
# ---------------------------------------------------------------------------------------------


def one_assign(tx: Any, as_of: str, previous: Any = None) -> Any:
    """What a user writes for one assessment: the programme's features, then the tiers."""
    from retailcrm.loyalty import BOUTIQUE_PROGRAM, program_features

    features = program_features(tx, BOUTIQUE_PROGRAM, as_of=as_of)
    return BOUTIQUE_PROGRAM.assign(features, as_of=as_of, previous=previous)


def separate_dates(tx: Any, dates: Sequence[str]) -> Any:
    """``one_assign`` at every date, each date's tiers the next one's ``previous``; the
    tables concatenated with a ``date`` column (the caller's kind of frame)."""
    import pandas as pd
    import polars as pl

    previous, parts = None, []
    for d in dates:
        tiers = one_assign(tx, d, previous)
        day = dt.date.fromisoformat(d)
        if isinstance(tiers, pl.DataFrame):
            parts.append(tiers.with_columns(pl.lit(day).alias("date")))
        else:
            parts.append(tiers.assign(date=pd.Timestamp(day)))
        previous = tiers
    if isinstance(parts[0], pl.DataFrame):
        return pl.concat(parts)
    return pd.concat(parts, ignore_index=True)


def simulate(tx: Any, dates: Sequence[str]) -> Any:
    from retailcrm.loyalty import BOUTIQUE_PROGRAM, simulate_program

    return simulate_program(tx, BOUTIQUE_PROGRAM, dates=dates).history


def triggers(table: Any, as_of: str) -> Any:
    from retailcrm.loyalty import BUILTIN_TRIGGERS, evaluate_triggers

    return evaluate_triggers(table, BUILTIN_TRIGGERS, as_of=as_of)


def _case_function(case: str, as_of: str) -> Callable[[Any], Any]:
    import retailcrm.loyalty  # noqa: F401  (imported before the baseline)

    if case.startswith("simulate_program"):
        return lambda tx: simulate(tx, DATES)
    if case.startswith("one assign"):
        return lambda tx: one_assign(tx, as_of)
    if case.startswith(f"{N_DATES} separate dates"):
        return lambda tx: separate_dates(tx, DATES)
    if case in TRIGGER_CASES:
        return lambda table: triggers(table, as_of)
    raise ValueError(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------------
# the trigger table: built once per sample size, cached as parquet
# ---------------------------------------------------------------------------------------------


def trigger_table(sample: Any, as_of: str = AS_OF) -> Any:
    """The table the built-in triggers read, one row per customer (pandas): the feature table
    with the customers and events tables, ``expiring_30d`` of the points ledger, and
    ``change`` and ``grace_until`` of the boutique tiers (assessed a month earlier, then on
    ``as_of``)."""
    from retailcrm import customer_features
    from retailcrm.loyalty import BOUTIQUE_PROGRAM, points_ledger, simulate_program

    tx = sample.transactions
    features = customer_features(tx, as_of=as_of, customers=sample.customers, events=sample.events)
    ledger = points_ledger(tx, points_policy(), as_of=as_of)
    dates = month_ends(as_of, 2)
    history = simulate_program(
        tx, BOUTIQUE_PROGRAM, dates=dates, customers=sample.customers
    ).history
    tiers = history.loc[history["date"] == dt.datetime.fromisoformat(dates[-1])]
    return features.merge(
        ledger[["customer_id", "expiring_30d"]], on="customer_id", how="left"
    ).merge(tiers[["customer_id", "change", "grace_until"]], on="customer_id", how="left")


def trigger_path(transactions: Path) -> Path:
    """The cached trigger table next to the cached transactions of the same sample."""
    return transactions.with_name(transactions.name.replace("transactions-", "trigger-table-", 1))


def run_generate(n_customers: int, path: Path) -> None:
    """Build the trigger table of ``sample_data(n_customers, seed=SEED)`` and cache it."""
    from retailcrm.data import sample_data

    t0 = time.perf_counter()
    table = trigger_table(sample_data(n_customers, seed=SEED))
    seconds = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    table.to_parquet(tmp, index=False)
    tmp.replace(path)
    meta = {"customers": n_customers, "rows": len(table), "columns": len(table.columns),
            "seed": SEED, "as_of": AS_OF, "seconds": seconds}  # fmt: skip
    path.with_suffix(".json").write_text(json.dumps(meta))


def ensure_trigger_table(n_customers: int, transactions: Path) -> dict[str, Any]:
    path = trigger_path(transactions)
    if not path.exists() or not path.with_suffix(".json").exists():
        print(f"building the trigger table -> {path.relative_to(ROOT)}", flush=True)
        cmd = [sys.executable, __file__, "--generate", str(n_customers), "--input", str(path)]
        subprocess.run(cmd, check=True)
    return dict(json.loads(path.with_suffix(".json").read_text()))


# ---------------------------------------------------------------------------------------------
# the check: the backtest equals the separate calls; the triggers agree across engines
# ---------------------------------------------------------------------------------------------


def _polars(frame: Any, dates: Sequence[str]) -> Any:
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_pandas(frame)
    return frame.with_columns(pl.col(dates).cast(pl.Date))


def check_program(n_customers: int = 2_000) -> str:
    """Assert that ``simulate_program``'s tier history equals the chained separate calls at
    every date (pandas and polars input, on ``bench_features.check_transactions``), and that
    ``evaluate_triggers`` gives the same action list for pandas and polars input (on the
    trigger table of ``sample_data(n_customers, seed=7)``)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from retailcrm.data import sample_data

    tx = check_transactions(n_customers)
    ptx = pl.from_pandas(tx)
    dates = ["date", "tier_since", "grace_until"]
    for frame in (ptx, tx):
        history = _polars(simulate(frame, DATES), dates).sort("date", "customer_id")
        loop = _polars(separate_dates(frame, DATES), dates)
        loop = loop.select(history.columns).sort("date", "customer_id")
        assert_frame_equal(history, loop, check_exact=True)
    last = history.filter(pl.col("date") == dt.date.fromisoformat(DATES[-1]))
    counts = last["tier"].value_counts().sort(["count", "tier"], descending=[True, False])
    mix = ", ".join(f"{t} {k:,}" for t, k in counts.iter_rows())

    table = trigger_table(sample_data(n_customers, seed=7))
    by_pandas = pl.from_pandas(triggers(table, AS_OF))
    by_polars = triggers(pl.from_pandas(table), AS_OF)
    assert_frame_equal(by_pandas, by_polars, check_exact=True)
    actions = (
        by_polars["trigger"].value_counts().sort(["count", "trigger"], descending=[True, False])
    )
    fired = ", ".join(f"{t} {k:,}" for t, k in actions.iter_rows())
    return (
        f"`simulate_program`'s tier history equals the {N_DATES} chained `program_features` + "
        f"`BOUTIQUE_PROGRAM.assign` calls (every column, every customer and date) on "
        f"{len(tx):,} lines, {ptx['customer_id'].n_unique():,} customers "
        f"(`bench_features.py`'s edge-case sample), pandas and polars input; tiers on "
        f"{DATES[-1]}: {mix}. `evaluate_triggers` gives the same {by_polars.height:,} actions "
        f"for pandas and polars input on the trigger table of `sample_data({n_customers:_}, "
        f"seed=7)` ({table.shape[1]} columns): {fired}"
    )


# ---------------------------------------------------------------------------------------------
# the targets
# ---------------------------------------------------------------------------------------------


def targets_table(summary: dict[str, dict[str, Any]]) -> str:
    """The issue's target: the 12-date backtest ≤ 4× one assessment; the memory of the
    backtest and the time and memory of the triggers recorded."""
    pairs = [
        (f"{kind} input: simulate_program at {N_DATES} dates", f"simulate_program ({kind})",
         f"one assign ({kind})")
        for kind in ("polars", "pandas")
    ]  # fmt: skip
    rows = ["| target | measured | verdict |", "|---|---|---|"]
    rows += ratio_targets(summary, pairs, TARGET)
    for kind in ("polars", "pandas"):
        s = summary.get(f"evaluate_triggers ({kind})", {})
        if "seconds" not in s:
            continue
        rows.append(
            f"| {kind} input: evaluate_triggers on {s['input_rows']:,} customers, time and "
            f"peak memory recorded (no target) | {s['seconds']:.2f} s, peak "
            f"{_mib(s['peak_over_load'])} MiB over load, {s['output_rows']:,} actions "
            "| — |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(
        argv,
        description="Time and peak memory of the loyalty backtest, one assessment and triggers.",
        cases=CASES,
        page=DOCS_PAGE,
        peers="nothing (no peers here; ignored)",
    )
    if args.worker:
        path = trigger_path(args.input) if args.worker in TRIGGER_CASES else args.input
        run_worker(args.worker, path, AS_OF, args.result, case_function=_case_function, cases=CASES)
        return 0
    if args.generate:
        run_generate(args.generate, args.input)
        return 0
    n_customers = 100_000 if args.quick else args.customers

    t0 = time.perf_counter()
    path, meta = ensure_data(n_customers)
    print(f"data: {meta['lines']:,} lines, {n_customers:,} customers ({path.name})", flush=True)
    table = ""
    if TRIGGER_CASES & set(args.case_list):
        tmeta = ensure_trigger_table(n_customers, path)
        table = (
            f"; the trigger table: {tmeta['rows']:,} customers × {tmeta['columns']} columns "
            f"(built in {tmeta['seconds']:.0f} s)"
        )
        print(f"trigger table: {tmeta['rows']:,} rows × {tmeta['columns']} columns", flush=True)
    check = check_program()
    print(f"check: {check}", flush=True)
    runs = run_cases(args, path, cases=CASES, script=__file__)
    section = report(
        summarise(runs),
        meta,
        args,
        check,
        time.perf_counter() - t0,
        script="benchmarks/bench_loyalty.py",
        cases=CASES,
        data=f"BOUTIQUE_PROGRAM at {N_DATES} month-ends {DATES[0]} … {DATES[-1]} (one "
        f"assessment: {DATES[-1]}), no customers table{table}",
        reference=lambda case: (
            None if case in TRIGGER_CASES else reference_case(case, CASES, "one assign")
        ),
        reference_label="one assign",
        targets=targets_table,
        inputs="The polars cases get the same polars frame, the pandas cases the same pandas "
        "frame (the trigger cases: the cached trigger table instead of the transactions).",
    )
    print()
    print(section)
    if args.write_docs:
        write_docs(section, DOCS_PAGE, TITLE)
        print(f"\nwritten to {DOCS_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
