"""Benchmark ``stage_history`` at 24 month-ends against one and 24 separate stage assessments.

What is measured, each in a fresh subprocess (best of ``--repeat`` runs):

* ``stage_history (polars)`` — ``retailcrm.lifecycle.stage_history(tx, dates=...)`` at the 24
  month-ends of 2023 and 2024 on a polars DataFrame: the transactions validated once, only the
  feature columns the stage rules read computed at each date;
* ``stage_history (pandas)`` — the same on a pandas DataFrame (conversions included);
* ``one date (polars)`` / ``one date (pandas)`` — one assessment as a user writes it:
  ``customer_features(tx, as_of=...)`` then ``assign_stages(features, as_of=...)`` at the last
  date, the yardstick of the issue's target (the history ≤ 6× one date, not 24×);
* ``24 separate dates (polars)`` / ``(pandas)`` — those two calls at each of the 24 dates, each
  date's stages passed as ``previous`` to the next and the 24 tables concatenated: what
  ``stage_history`` replaces, with the same result (checked before anything is timed).

Every case is retailcrm (no peer library classifies lifecycle stages). The machinery (cached
data, workers, peak memory, docs page) is ``bench_features.py``'s; see ``benchmarks/README.md``.
``bench_loyalty.py`` reuses this script's report.

Usage::

    python benchmarks/bench_lifecycle.py --customers 20000 --repeat 1     # smoke run
    python benchmarks/bench_lifecycle.py --write-docs                     # the recorded run
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench_features import (
    AS_OF,
    BUSY,
    ROOT,
    _machine,
    _mib,
    _verdict,
    check_transactions,
    ensure_data,
    parse_args,
    run_cases,
    run_worker,
    summarise,
    write_docs,
)

DOCS_PAGE = ROOT / "docs" / "benchmarks" / "lifecycle.md"
TITLE = "Benchmark: lifecycle stage history"
N_DATES = 24
TARGET = 6.0  # stage_history at 24 dates ≤ 6× one date

#: name -> (interpreter, input library, what it computes)
CASES: dict[str, tuple[str, str, str]] = {
    "stage_history (polars)": ("main", "polars", f"stage_history at {N_DATES} month-ends, "
                               "polars in / polars out"),
    "stage_history (pandas)": ("main", "pandas", f"stage_history at {N_DATES} month-ends, "
                               "pandas in / pandas out"),
    "one date (polars)": ("main", "polars", "customer_features + assign_stages at the last "
                          "date, polars"),
    "one date (pandas)": ("main", "pandas", "customer_features + assign_stages at the last "
                          "date, pandas"),
    f"{N_DATES} separate dates (polars)": ("main", "polars", f"customer_features + "
                                           f"assign_stages at each of the {N_DATES} dates "
                                           "(previous chained), concatenated, polars"),
    f"{N_DATES} separate dates (pandas)": ("main", "pandas", "the same, pandas"),
}  # fmt: skip


def month_ends(last: str = AS_OF, n: int = N_DATES) -> list[str]:
    """The ``n`` month-ends up to the month of ``last`` (ISO strings, oldest first)."""
    day = dt.date.fromisoformat(last)
    out = []
    year, month = day.year, day.month
    for _ in range(n):
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        out.append((nxt - dt.timedelta(days=1)).isoformat())
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


DATES = month_ends()


# ---------------------------------------------------------------------------------------------
# the cases, run by the workers (and by the check)
# ---------------------------------------------------------------------------------------------


def one_date(tx: Any, as_of: str, previous: Any = None) -> Any:
    """What a user writes for one assessment: the feature table, then the stages."""
    from retailcrm import customer_features
    from retailcrm.lifecycle import assign_stages

    return assign_stages(customer_features(tx, as_of=as_of), as_of=as_of, previous=previous)


def separate_dates(tx: Any, dates: Sequence[str]) -> Any:
    """``one_date`` at every date, each date's stages the next one's ``previous``; the tables
    concatenated with a ``date`` column (the caller's kind of frame)."""
    import pandas as pd
    import polars as pl

    previous, parts = None, []
    for d in dates:
        stages = one_date(tx, d, previous)
        day = dt.date.fromisoformat(d)
        if isinstance(stages, pl.DataFrame):
            parts.append(stages.with_columns(pl.lit(day).alias("date")))
        else:
            parts.append(stages.assign(date=pd.Timestamp(day)))
        previous = stages
    if isinstance(parts[0], pl.DataFrame):
        return pl.concat(parts)
    return pd.concat(parts, ignore_index=True)


def _case_function(case: str, as_of: str) -> Callable[[Any], Any]:
    import retailcrm.lifecycle  # noqa: F401  (imported before the baseline)

    if case.startswith("stage_history"):
        from retailcrm.lifecycle import stage_history

        return lambda tx: stage_history(tx, dates=DATES)
    if case.startswith("one date"):
        return lambda tx: one_date(tx, as_of)
    if case.startswith(f"{N_DATES} separate dates"):
        return lambda tx: separate_dates(tx, DATES)
    raise ValueError(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------------
# the check: stage_history equals the separate calls
# ---------------------------------------------------------------------------------------------


def _history_polars(frame: Any) -> Any:
    """A stage history (either kind of frame) as polars, in one column order and row order."""
    import polars as pl

    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_pandas(frame)
    columns = ["date", "customer_id", "stage", "rule_id", "stage_since", "days_in_stage"]
    return (
        frame.select(columns)
        .with_columns(
            pl.col("date", "stage_since").cast(pl.Date),
            pl.col("days_in_stage").cast(pl.Float64),
        )
        .sort("date", "customer_id")
    )


def check_history(n_customers: int = 2_000) -> str:
    """Assert that ``stage_history`` equals the chained separate calls at every date (pandas
    and polars input), on ``bench_features.check_transactions``; the stage mix at the last
    date."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from retailcrm.lifecycle import stage_history

    tx = check_transactions(n_customers)
    ptx = pl.from_pandas(tx)
    for frame in (ptx, tx):
        history = _history_polars(stage_history(frame, dates=DATES))
        loop = _history_polars(separate_dates(frame, DATES))
        assert_frame_equal(history, loop, check_exact=True)
    last = history.filter(pl.col("date") == dt.date.fromisoformat(DATES[-1]))
    counts = last["stage"].value_counts().sort(["count", "stage"], descending=[True, False])
    mix = ", ".join(f"{s} {k:,}" for s, k in counts.iter_rows())
    return (
        f"`stage_history` equals the {N_DATES} chained `customer_features` + `assign_stages` "
        f"calls (every customer's stage, rule, `stage_since` and `days_in_stage` at every "
        f"date) on {len(tx):,} lines, {ptx['customer_id'].n_unique():,} customers "
        f"(`bench_features.py`'s edge-case sample), pandas and polars input; "
        f"{history.height:,} rows; stages on {DATES[-1]}: {mix}"
    )


# ---------------------------------------------------------------------------------------------
# the report (bench_loyalty.py uses it too)
# ---------------------------------------------------------------------------------------------


def reference_case(case: str, cases: dict[str, tuple[str, str, str]], prefix: str) -> str | None:
    """The one-date case of ``case``'s input library (named ``"<prefix> (<library>)"``)."""
    name = f"{prefix} ({cases[case][1]})"
    return name if name in cases else None


def results_table(
    summary: dict[str, dict[str, Any]],
    repeat: int,
    cases: dict[str, tuple[str, str, str]],
    reference: Callable[[str], str | None],
    reference_label: str,
) -> str:
    """Two markdown tables: time (with the ratio to ``reference(case)``), then memory."""
    timing = [
        f"| case | computes | rows × columns out | wall time, best of {repeat} (s) | all runs (s) "
        f"| × {reference_label} | CPU time of the best run (s) | other load during it |",
        "|---|---|---|---:|---|---:|---:|---:|",
    ]
    memory = [
        "| case | input frame in memory (MiB) | RSS after load (MiB) | peak over load (MiB) "
        "| peak ÷ input | all runs (MiB) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for case, s in summary.items():
        what = cases[case][2]
        if "error" in s:
            timing.append(f"| {case} | {what} | not run: {s['error']} | | | | | |")
            memory.append(f"| {case} | not run | | | | |")
            continue
        ref = reference(case)
        base = summary.get(ref, {}).get("seconds") if ref else None
        ratio = f"{s['seconds'] / base:.2f}×" if base else "—"
        runs = ", ".join(
            f"{t:.2f}{'*' if busy else ''}"
            for t, busy in zip(s["all_seconds"], s["all_busy"], strict=True)
        )
        timing.append(
            f"| {case} | {what} | {s['output_rows']:,} × {s['output_columns']} "
            f"| {s['seconds']:.2f} | {runs} | {ratio} | {s['cpu_seconds']:.2f} "
            f"| {s['background']:.0%} |"
        )
        memory.append(
            f"| {case} | {_mib(s['input_bytes'])} | {_mib(s['rss_loaded'])} "
            f"| {_mib(s['peak_over_load'])} | {s['peak_over_load'] / s['input_bytes']:.2f}× "
            f"| {', '.join(_mib(p) for p in s['all_peaks'])} |"
        )
    note = f"\\* other processes used {BUSY:.0%} or more of the machine during that run."
    return "\n".join([*timing, "", note, "", *memory])


def ratio_targets(
    summary: dict[str, dict[str, Any]],
    pairs: Sequence[tuple[str, str, str]],
    limit: float,
) -> list[str]:
    """Target rows "<case> ≤ limit × <reference>" and a recorded peak-memory row per pair
    ``(label, case, reference)``."""
    rows = []
    for label, case, ref in pairs:
        s, r = summary.get(case, {}), summary.get(ref, {})
        if "seconds" not in s or "seconds" not in r:
            why = s.get("error") or r.get("error") or "not run"
            rows.append(f"| {label} ≤ {limit:g}× {ref} | {why} | — |")
            continue
        x = s["seconds"] / r["seconds"]
        rows.append(
            f"| {label} ≤ {limit:g}× {ref} "
            f"| {s['seconds']:.2f} s vs {r['seconds']:.2f} s = {x:.2f}× "
            f"| {_verdict(x <= limit)} |"
        )
    for label, case, ref in pairs:
        s, r = summary.get(case, {}), summary.get(ref, {})
        if "peak_over_load" not in s or "peak_over_load" not in r:
            continue
        x = s["peak_over_load"] / r["peak_over_load"]
        rows.append(
            f"| {label}: peak memory recorded (no target) "
            f"| {_mib(s['peak_over_load'])} MiB vs {_mib(r['peak_over_load'])} MiB for {ref} "
            f"= {x:.2f}× | — |"
        )
    return rows


def targets_table(summary: dict[str, dict[str, Any]]) -> str:
    """The issue's target: the 24-date history ≤ 6× one date (not 24×), peak memory recorded."""
    pairs = [
        (f"{kind} input: stage_history at {N_DATES} dates", f"stage_history ({kind})",
         f"one date ({kind})")
        for kind in ("polars", "pandas")
    ]  # fmt: skip
    rows = ["| target | measured | verdict |", "|---|---|---|"]
    return "\n".join([*rows, *ratio_targets(summary, pairs, TARGET)])


def report(
    summary: dict[str, dict[str, Any]],
    meta: dict[str, Any],
    args: argparse.Namespace,
    check: str,
    seconds: float,
    *,
    script: str,
    cases: dict[str, tuple[str, str, str]],
    data: str,
    reference: Callable[[str], str | None],
    reference_label: str,
    targets: Callable[[dict[str, dict[str, Any]]], str],
    inputs: str,
) -> str:
    """The results section: the run, its environment and data, the check, the tables.

    ``data`` follows "N transaction lines, "; ``check`` is the sentence of the check made
    before timing; ``inputs`` says which frame each case gets.
    """
    command = shlex.join(["python", script, *args.argv])
    versions = next((s["versions"] for s in summary.values() if "versions" in s), {})
    how = {"VmHWM": "the kernel's high-water mark VmHWM", "sampled": "RSS sampled every 2 ms"}
    peak_methods = {how[s["peak_method"]] for s in summary.values() if "peak_method" in s}
    return "\n".join(
        [
            f"Run on {dt.date.today():%Y-%m-%d} with `{command}` "
            f"({args.repeat} run{'s' if args.repeat != 1 else ''} per case, "
            f"{seconds / 60:.1f} min in all).",
            "",
            f"- **Machine**: {_machine()}.",
            f"- **Environment**: {', '.join(f'{k} {v}' for k, v in versions.items()) or '—'}.",
            f"- **Data**: `sample_data({meta['customers']:_}, seed={meta['seed']})` — "
            f"{meta['lines']:,} transaction lines, {data}.",
            f"- **Check** (before timing): {check}.",
            "- **Method**: every run is a fresh subprocess that imports retailcrm, loads the "
            f"cached parquet file, frees what loading left behind, records its RSS, resets the "
            f"kernel's peak-RSS mark and times one call; runs go round-robin over the cases. "
            f"{inputs} *Peak over load* is the largest (peak RSS − RSS after load) over the "
            f"runs ({', '.join(sorted(peak_methods)) or '—'}). *Other load* is the CPU time "
            "other processes used during the best run, as a share of the machine: the machine "
            "is shared, and a run with other load is slower than it should be.",
            "",
            results_table(summary, args.repeat, cases, reference, reference_label),
            "",
            targets(summary),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(
        argv,
        description="Time and peak memory of stage_history against one and 24 separate dates.",
        cases=CASES,
        page=DOCS_PAGE,
        peers="nothing (no peers here; ignored)",
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
    check = check_history()
    print(f"check: {check}", flush=True)
    runs = run_cases(args, path, cases=CASES, script=__file__)
    section = report(
        summarise(runs),
        meta,
        args,
        check,
        time.perf_counter() - t0,
        script="benchmarks/bench_lifecycle.py",
        cases=CASES,
        data=f"{N_DATES} month-ends {DATES[0]} … {DATES[-1]}, the default LifecyclePolicy, "
        "no customers table",
        reference=lambda case: reference_case(case, CASES, "one date"),
        reference_label="one date",
        targets=targets_table,
        inputs="The polars cases get the same polars frame, the pandas cases the same pandas "
        "frame.",
    )
    print()
    print(section)
    if args.write_docs:
        write_docs(section, DOCS_PAGE, TITLE)
        print(f"\nwritten to {Path(DOCS_PAGE).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
