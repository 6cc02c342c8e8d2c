"""Benchmark: the whole pipeline from a parquet file larger than memory allows in pandas.

Runs validate → ``customer_features`` → ``rfm_scores`` → ``segment`` → ``assign_stages`` →
``TierProgram.assign`` → ``evaluate_triggers`` straight from a parquet file, writing every
result back to parquet, on two engines that never load the transactions into memory:

- **DuckDB** (``duckdb.connect(config={"memory_limit": ..., "threads": 2})``,
  ``con.read_parquet(path)``): the feature table is materialised once as a table on the
  caller's connection, everything downstream reads that table, and the results are written
  with ``relation.write_parquet``;
- **polars** (``pl.scan_parquet(path)``): the feature table is collected with polars' streaming
  engine (``collect(engine="streaming")``), everything downstream stays a LazyFrame and is
  written with ``sink_parquet``.

The transactions are ``sample_data(830_000, seed=k)`` for ``k = 0, 1, …`` (about 10 million
lines each), customer ids prefixed with ``k`` so that the chunks are different customers,
written to one parquet file per size in ``benchmarks/.cache/``: 10M lines is chunk 0, 100M
lines chunks 0–9.

Each run is a fresh subprocess; the time includes everything from opening the file to the
last parquet written, and the peak is the process's peak RSS (VmHWM, nothing is loaded
before the clock starts).

Usage (from the repository root)::

    python benchmarks/bench_scale.py --lines 10M,100M --write-docs

Options: ``--lines`` (comma-separated sizes out of 1M, 10M, 100M), ``--cases`` (subset of
``duckdb``, ``polars streaming``), ``--memory-limit`` (DuckDB's, default 4GB), ``--repeat``
(default 1), ``--write-docs`` (rewrites the results section of
``docs/benchmarks/scale.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_features import (
    CACHE,
    MIB,
    ROOT,
    _machine,
    _status_kib,
    _versions,
)

DOCS_PAGE = ROOT / "docs" / "benchmarks" / "scale.md"
AS_OF = "2024-12-31"
CHUNK_CUSTOMERS = 830_000  # sample_data(830_000) has about 10 million lines
CHUNK_CUSTOMERS_1M = 83_000  # the 1M size: one small chunk
SIZES = {"1M": 0, "10M": 1, "100M": 10}  # chunks of CHUNK_CUSTOMERS (1M: one small chunk)
CASES = ("duckdb", "polars streaming")


def data_path(size: str) -> Path:
    return CACHE / f"scale-{size}-lines.parquet"


def run_generate(size: str) -> None:
    """Write the ``size`` file chunk by chunk (one chunk in memory at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from retailcrm.data import sample_data

    path = data_path(size)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    chunks = (
        [(CHUNK_CUSTOMERS_1M, 0)]
        if SIZES[size] == 0
        else [(CHUNK_CUSTOMERS, k) for k in range(SIZES[size])]
    )
    lines = customers = 0
    t0 = time.perf_counter()
    writer = None
    for n, k in chunks:
        tx = sample_data(n, seed=k).transactions
        tx["customer_id"] = f"{k}-" + tx["customer_id"].astype("string")
        tx["order_id"] = tx["order_id"] + k * 10_000_000_000
        table = pa.Table.from_pandas(tx, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=1_000_000)
        lines += len(tx)
        customers += n
        print(f"  chunk {k}: {len(tx):,} lines", flush=True)
        del tx, table
    assert writer is not None
    writer.close()
    tmp.replace(path)
    meta = {"lines": lines, "customers": customers, "seconds": time.perf_counter() - t0}
    path.with_suffix(".json").write_text(json.dumps(meta))


def ensure_data(size: str) -> dict[str, Any]:
    path = data_path(size)
    if not path.exists() or not path.with_suffix(".json").exists():
        print(f"generating {size} lines -> {path.relative_to(ROOT)}", flush=True)
        subprocess.run([sys.executable, __file__, "--generate", size], check=True)
    meta: dict[str, Any] = json.loads(path.with_suffix(".json").read_text())
    return meta


# ---------------------------------------------------------------------------------------------
# worker side: one pipeline run in a fresh process
# ---------------------------------------------------------------------------------------------

TRIGGER_IDS = ("welcome_back", "tier_lapse")


class Steps:
    """Seconds after each step, and each step's own peak RSS (the kernel's high-water mark is
    reset after every step through ``/proc/self/clear_refs``)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.peaks: dict[str, int] = {}
        self._reset()

    @staticmethod
    def _reset() -> None:
        # not Linux, or not allowed: the peaks are then cumulative
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")

    def mark(self, name: str) -> None:
        self.seconds[name] = time.perf_counter() - self.t0
        self.peaks[name] = _status_kib("VmHWM") * 1024
        self._reset()


def pipeline_duckdb(path: Path, out: Path, memory_limit: str) -> Steps:
    """The pipeline on DuckDB; returns the seconds after each step and each step's peak."""
    import duckdb

    from retailcrm import customer_features
    from retailcrm.data import validate_transactions
    from retailcrm.lifecycle import assign_stages
    from retailcrm.loyalty import BOUTIQUE_PROGRAM, BUILTIN_TRIGGERS, evaluate_triggers
    from retailcrm.segmentation import STANDARD_SEGMENTS, rfm_scores, segment

    steps = Steps()
    spill = out / "duckdb-spill"
    con = duckdb.connect(
        config={"memory_limit": memory_limit, "threads": 2, "temp_directory": str(spill)}
    )
    tx = con.read_parquet(str(path))
    report = validate_transactions(tx)
    if not report.ok:
        raise SystemExit(str(report))
    steps.mark("validate")
    features = customer_features(tx, as_of=AS_OF)
    features.to_table("features")  # one pass over the transactions, kept on the connection
    features = con.table("features")
    steps.mark("features")
    segments = segment(rfm_scores(features), STANDARD_SEGMENTS)
    segments.write_parquet(str(out / "segments.parquet"))
    steps.mark("rfm + segments")
    assign_stages(features, as_of=AS_OF).write_parquet(str(out / "stages.parquet"))
    steps.mark("stages")
    tiers = BOUTIQUE_PROGRAM.assign(features, as_of=AS_OF)
    tiers.to_table("tiers")
    tiers = con.table("tiers")
    tiers.write_parquet(str(out / "tiers.parquet"))
    steps.mark("tiers")
    table = features.join(tiers.select("customer_id, change, grace_until"), "customer_id")
    triggers = [t for t in BUILTIN_TRIGGERS if t.id in TRIGGER_IDS]
    evaluate_triggers(table, triggers, as_of=AS_OF).write_parquet(str(out / "actions.parquet"))
    steps.mark("triggers")
    return steps


def pipeline_polars(path: Path, out: Path) -> Steps:
    """The pipeline on a polars ``scan_parquet`` LazyFrame; returns the seconds after each step
    and each step's peak."""
    import polars as pl

    from retailcrm import customer_features
    from retailcrm.data import validate_transactions
    from retailcrm.lifecycle import assign_stages
    from retailcrm.loyalty import BOUTIQUE_PROGRAM, BUILTIN_TRIGGERS, evaluate_triggers
    from retailcrm.segmentation import STANDARD_SEGMENTS, rfm_scores, segment

    steps = Steps()
    tx = pl.scan_parquet(path)
    report = validate_transactions(tx)
    if not report.ok:
        raise SystemExit(str(report))
    steps.mark("validate")
    # one pass over the transactions; the customer table (one row per customer) is kept
    features = customer_features(tx, as_of=AS_OF).collect(engine="streaming").lazy()
    steps.mark("features")
    segment(rfm_scores(features), STANDARD_SEGMENTS).sink_parquet(out / "segments.parquet")
    steps.mark("rfm + segments")
    assign_stages(features, as_of=AS_OF).sink_parquet(out / "stages.parquet")
    steps.mark("stages")
    tiers = BOUTIQUE_PROGRAM.assign(features, as_of=AS_OF).collect().lazy()
    tiers.sink_parquet(out / "tiers.parquet")
    steps.mark("tiers")
    table = features.join(tiers.select("customer_id", "change", "grace_until"), on="customer_id")
    triggers = [t for t in BUILTIN_TRIGGERS if t.id in TRIGGER_IDS]
    evaluate_triggers(table, triggers, as_of=AS_OF).sink_parquet(out / "actions.parquet")
    steps.mark("triggers")
    return steps


def run_worker(case: str, size: str, memory_limit: str, result: Path) -> None:
    import shutil
    import tempfile

    warnings.simplefilter("ignore")  # data-quality notes of the synthetic data: not timed
    import duckdb  # noqa: F401  (imports are not timed)
    import polars  # noqa: F401

    import retailcrm.lifecycle
    import retailcrm.loyalty
    import retailcrm.segmentation  # noqa: F401

    rss_before = _status_kib("VmRSS") * 1024
    out = Path(tempfile.mkdtemp(prefix="retailcrm-scale-"))
    try:
        t0 = time.perf_counter()
        if case == "duckdb":
            steps = pipeline_duckdb(data_path(size), out, memory_limit)
        else:
            steps = pipeline_polars(data_path(size), out)
        seconds = time.perf_counter() - t0
        written = {p.name: p.stat().st_size for p in out.glob("*.parquet")}
        import polars as pl

        rows = {
            name: pl.scan_parquet(out / name).select(pl.len()).collect().item() for name in written
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)
    result.write_text(
        json.dumps(
            {
                "seconds": seconds,
                "steps": steps.seconds,
                "step_peaks": steps.peaks,
                "peak": max(steps.peaks.values()),
                "rss_before": rss_before,
                "rows": rows,
            }
        )
    )


# ---------------------------------------------------------------------------------------------
# parent side
# ---------------------------------------------------------------------------------------------


def measure(case: str, size: str, memory_limit: str, timeout: float) -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            case,
            "--size",
            size,
            "--memory-limit",
            memory_limit,
            "--result",
            str(result),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not result.exists():
            return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
        run: dict[str, Any] = json.loads(result.read_text())
        return run


def _gib(n: float) -> str:
    return f"{n / 1024 / MIB:.2f}"


def report(
    runs: dict[tuple[str, str], list[dict[str, Any]]],
    meta: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    minutes: float,
) -> str:
    versions = _versions(["retailcrm", "duckdb", "polars", "narwhals", "pyarrow", "numpy"])
    versions.pop("python", None)
    command = "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:])
    lines = [
        f"Run on {dt.date.today().isoformat()} with `{command}` "
        f"({args.repeat} run(s) per case, {minutes:.1f} min in all).",
        "",
        f"- **Machine**: {_machine()}.",
        "- **Environment**: python {}.{}.{}, ".format(*sys.version_info[:3])
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        f"- **DuckDB**: `memory_limit='{args.memory_limit}'`, `threads=2`, spilling to a "
        "temporary folder.",
        "- **Steps**: seconds / the step's own peak RSS in GiB (the high-water mark is reset "
        "between steps).",
        "",
        "| engine | lines | customers | wall time (s) | all runs (s) | s per million lines "
        "| peak RSS (GiB) | validate | features | rfm + segments | stages | tiers | triggers |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    best_by: dict[tuple[str, str], float] = {}
    for (case, size), case_runs in runs.items():
        ok = [r for r in case_runs if "error" not in r]
        if not ok:
            err = case_runs[0].get("error")
            lines.append(f"| {case} | {size} | | failed: {err} | | | | | | | | | |")
            continue
        best = min(ok, key=lambda r: r["seconds"])
        best_by[(case, size)] = best["seconds"]
        m = meta[size]
        steps = best["steps"]
        previous = 0.0
        deltas = []
        peaks = best.get("step_peaks", {})
        for name in ("validate", "features", "rfm + segments", "stages", "tiers", "triggers"):
            peak = f" / {_gib(peaks[name])}" if name in peaks else ""
            deltas.append(f"{steps[name] - previous:.1f}{peak}")
            previous = steps[name]
        lines.append(
            f"| {case} | {m['lines']:,} | {m['customers']:,} | {best['seconds']:.1f} | "
            + ", ".join(f"{r['seconds']:.1f}" for r in ok)
            + f" | {best['seconds'] / (m['lines'] / 1e6):.2f} | "
            + f"{_gib(max(r['peak'] for r in ok))} | "
            + " | ".join(deltas)
            + " |"
        )
    lines += ["", "| target | measured | verdict |", "|---|---|---|"]
    for case in args.case_list:
        for small, big in (("1M", "10M"), ("10M", "100M")):
            if (case, small) in best_by and (case, big) in best_by:
                ratio = best_by[(case, big)] / best_by[(case, small)]
                lines_ratio = meta[big]["lines"] / meta[small]["lines"]
                verdict = "**met**" if ratio <= 1.1 * lines_ratio else "**not met**"
                lines.append(
                    f"| {case}: {big} lines ≤ 11× the {small} time "
                    f"({lines_ratio:.1f}× the lines) | {best_by[(case, big)]:.1f} s vs "
                    f"{best_by[(case, small)]:.1f} s = {ratio:.1f}× | {verdict} |"
                )
        for size in ("100M", "10M", "1M"):
            case_runs = [r for r in runs.get((case, size), []) if "error" not in r]
            if case == "duckdb" and case_runs:
                peak = max(r["peak"] for r in case_runs)
                verdict = "**met**" if peak <= 5 * 1024**3 else "**not met**"
                lines.append(
                    f"| duckdb, {size} lines, `memory_limit='{args.memory_limit}'`: peak RSS "
                    f"≤ 5 GiB | {_gib(peak)} GiB | {verdict} |"
                )
                break
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="10M,100M", help="sizes: 1M, 10M, 100M (10M,100M)")
    parser.add_argument("--cases", default=",".join(CASES), help="duckdb, polars streaming")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's memory_limit (4GB)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (1)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run (3600)")
    parser.add_argument("--write-docs", action="store_true", help="write docs/benchmarks/scale.md")
    parser.add_argument("--runs-json", type=Path, help="also write every run's record here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        run_generate(args.generate)
        return 0
    if args.worker:
        run_worker(args.worker, args.size, args.memory_limit, args.result)
        return 0
    sizes = [s.strip() for s in args.lines.split(",")]
    args.case_list = [c.strip() for c in args.cases.split(",")]
    for size in sizes:
        if size not in SIZES:
            parser.error(f"unknown size {size!r}: choose from {', '.join(SIZES)}")
    for case in args.case_list:
        if case not in CASES:
            parser.error(f"unknown case {case!r}: choose from {', '.join(CASES)}")
    t0 = time.perf_counter()
    meta = {size: ensure_data(size) for size in sizes}
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for size in sizes:
        for _ in range(args.repeat):
            for case in args.case_list:
                run = measure(case, size, args.memory_limit, args.timeout)
                runs.setdefault((case, size), []).append(run)
                shown = run.get("error") or f"{run['seconds']:.1f} s, peak {_gib(run['peak'])} GiB"
                print(f"{case} {size}: {shown}", flush=True)
    text = report(runs, meta, args, (time.perf_counter() - t0) / 60)
    if args.runs_json:
        record = {
            "sizes": sizes,
            "cases": args.case_list,
            "meta": meta,
            "runs": {f"{case}|{size}": r for (case, size), r in runs.items()},
        }
        args.runs_json.write_text(json.dumps(record))
    print(text)
    if args.write_docs:
        page = DOCS_PAGE.read_text()
        start, end = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
        head, rest = page.split(start)
        _, tail = rest.split(end)
        DOCS_PAGE.write_text(head + start + "\n" + text + end + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
