"""Benchmark ``customer_features`` against a hand-written polars floor and two peers.

What is measured, each in a fresh subprocess (best of ``--repeat`` runs):

* ``retailcrm (polars)`` — ``customer_features(tx)`` on a polars DataFrame;
* ``retailcrm (pandas)`` — the same on a pandas DataFrame (conversion to polars and back
  included);
* ``polars floor`` — the same feature table hand-written directly in polars, checked equal to
  retailcrm's output on a small sample before anything is timed;
* ``lifetimes`` — ``lifetimes.utils.summary_data_from_transaction_data`` (RFM only);
* ``pymc-marketing`` — ``pymc_marketing.clv.rfm_summary`` (RFM only).

The peers run with another interpreter (``--peers-python``), so that they never enter the
project's environment. For each run the worker records the wall time of the call, the
resident set size (RSS) after loading the input and the peak RSS during the call (the kernel's
high-water mark, reset after loading), and the size of the input frame in memory.

Usage::

    python benchmarks/bench_features.py --quick                 # 100k customers, smoke run
    python benchmarks/bench_features.py --peers-python /tmp/bench-peers/bin/python --write-docs

The generated transactions are cached as parquet under ``benchmarks/.cache/``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "features.md"
SEED = 0
AS_OF = "2024-12-31"  # the last day of sample_data's default period
WINDOWS = (30, 90, 180, 365)
MIB = 1024 * 1024
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
BUSY = 0.25  # a run during which other processes used a quarter of the machine or more

#: name -> (interpreter, input library, what it computes)
CASES: dict[str, tuple[str, str, str]] = {
    "polars floor": ("main", "polars", "the full feature table, hand-written in polars"),
    "retailcrm (polars)": ("main", "polars", "customer_features, polars in / polars out"),
    "retailcrm (pandas)": ("main", "pandas", "customer_features, pandas in / pandas out"),
    "lifetimes": ("peers", "pandas", "summary_data_from_transaction_data: frequency, recency, "
                  "T, monetary_value"),
    "pymc-marketing": ("peers", "pandas", "rfm_summary: frequency, recency, T, monetary_value"),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the floor: the same feature table, hand-written directly in polars
# ---------------------------------------------------------------------------------------------


def floor_features(tx: Any, as_of: dt.date, windows: Sequence[int] = WINDOWS) -> Any:
    """``customer_features(tx, as_of=as_of)`` written directly in polars (default policies).

    The same definitions as retailcrm's docstring: an occasion is an order of a customer (a
    customer-day where the order id is null) and a purchase when its net spend is positive;
    a window of ``w`` days counts occasions whose first date is after ``as_of - w``; months are
    calendar months counted back from ``as_of``'s month; category and channel mix weigh
    positive lines by spend, ties going to the smallest name. One lazy query, polars' default
    engine, no validation and no engine boundary: what an expert would write by hand. The
    month features come from a 63-bit mask per customer (bit ``k``: a purchase ``k`` months
    before ``as_of``'s month); a run of 63 months or more raises rather than miscount.
    """
    import polars as pl

    asof_day = (as_of - dt.date(1970, 1, 1)).days
    asof_month = as_of.year * 12 + as_of.month - 1
    amount, discount = pl.col("amount"), pl.col("discount").cast(pl.Float64).fill_null(0.0)
    bought = amount > 0
    lines = (
        tx.lazy()
        .select(
            "customer_id",
            "order_id",
            "category",
            "channel",
            amount.cast(pl.Float64),
            pl.col("timestamp").dt.date().alias("date"),
            pl.when(amount < 0).then(-amount).otherwise(0.0).alias("refund"),
            pl.when(bought).then(discount).otherwise(0.0).alias("discount"),
            pl.when(bought).then(amount + discount).otherwise(0.0).alias("list_amount"),
        )
        .filter(pl.col("date") <= as_of)
    )
    order_day = pl.when(pl.col("order_id").is_null()).then(pl.col("date")).alias("order_day")
    net, day, buy = pl.col("net"), pl.col("day"), pl.col("buy")
    months_ago = asof_month - (
        pl.col("date").dt.year().cast(pl.Int64) * 12 + pl.col("date").dt.month() - 1
    )
    occasions = (
        lines.group_by("customer_id", "order_id", order_day)
        .agg(
            pl.col("date").min(),
            amount.sum().alias("net"),
            pl.col("refund", "discount", "list_amount").sum(),
        )
        .with_columns(
            day=pl.col("date").cast(pl.Int64),
            buy=net > 0,
            # bit k set: a purchase k calendar months before as_of's month (k < 63)
            month_bit=pl.when((net > 0) & (months_ago < 63))
            .then(pl.lit(2, pl.Int64).pow(months_ago))
            .otherwise(0),
        )
    )
    buy_day = pl.when(buy).then(day)
    per_customer = occasions.group_by("customer_id").agg(
        pl.when(buy).then(pl.col("date")).min().alias("first_purchase"),
        pl.when(buy).then(pl.col("date")).max().alias("last_purchase"),
        buy_day.min().alias("first_day"),
        buy_day.max().alias("last_day"),
        buy.sum().cast(pl.Int64).alias("frequency"),
        net.sum().alias("monetary"),
        pl.col("refund").sum().alias("refund_amount"),
        pl.col("discount", "list_amount").sum(),
        *((buy & (day > asof_day - w)).sum().cast(pl.Int64).alias(f"orders_{w}d") for w in windows),
        *(
            pl.when(day > asof_day - w).then(net).otherwise(0.0).sum().alias(f"spend_{w}d")
            for w in windows
        ),
        pl.col("month_bit").bitwise_or().alias("months"),
    )
    freq = pl.col("frequency")
    per_customer = per_customer.with_columns(
        recency_days=asof_day - pl.col("last_day"),
        avg_order_value=pl.when(freq > 0).then(pl.col("monetary") / freq),
        tenure_days=asof_day - pl.col("first_day"),
        mean_interpurchase_days=pl.when(freq > 1).then(
            (pl.col("last_day") - pl.col("first_day")) / (freq - 1)
        ),
        discount_rate=pl.when(pl.col("list_amount") > 0).then(
            pl.col("discount") / pl.col("list_amount")
        ),
        active_months_12=(pl.col("months") & 0xFFF).bitwise_count_ones().cast(pl.Int64),
        consecutive_active_months=pl.col("months").bitwise_trailing_ones().cast(pl.Int64),
    )

    def mix(role: str, plural: str) -> Any:
        spend = pl.col("spend")
        return (
            lines.filter(bought & pl.col(role).is_not_null())
            .group_by("customer_id", role)
            .agg(spend=amount.sum())
            .with_columns(
                top=spend.max().over("customer_id"),
                total=spend.sum().over("customer_id"),
                n=pl.len().over("customer_id"),
            )
            .filter(spend == pl.col("top"))
            .group_by("customer_id")
            .agg(
                pl.col("n").first().cast(pl.Int64).alias(f"n_{plural}"),
                pl.col(role).min().alias(f"top_{role}"),
                (pl.col("top") / pl.col("total")).first().alias(f"top_{role}_share"),
            )
        )

    columns = [
        "customer_id",
        "first_purchase",
        "last_purchase",
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "tenure_days",
        "mean_interpurchase_days",
        *(f"orders_{w}d" for w in windows),
        *(f"spend_{w}d" for w in windows),
        "active_months_12",
        "consecutive_active_months",
        "refund_amount",
        "discount_rate",
        "n_categories",
        "top_category",
        "top_category_share",
        "n_channels",
        "top_channel",
        "top_channel_share",
    ]
    out = (
        per_customer.join(mix("category", "categories"), on="customer_id", how="left")
        .join(mix("channel", "channels"), on="customer_id", how="left")
        .with_columns(pl.col("n_categories", "n_channels").fill_null(0))
        .select(columns)
        .sort("customer_id")
        .collect()
    )
    if (out["consecutive_active_months"] >= 63).any():  # the 63-bit mask cannot tell 63 from more
        raise NotImplementedError("the floor counts runs of consecutive months up to 62")
    return out


def check_transactions(n_customers: int = 2_000) -> Any:
    """The floor check's sample: ``sample_data(n_customers, seed=7)`` with edge cases (pandas).

    Amounts are rounded to quarters, which binary floating point represents exactly, so that
    sums do not depend on the order in which an engine adds them up: a fully refunded order of
    several lines must net to exactly 0 in both implementations (see the docs page). Some order
    ids are nulled (customer-day occasions), some categories nulled, some amounts set to 0,
    and two customers are added for ties and refund-only histories.
    """
    import numpy as np
    import pandas as pd

    from retailcrm.data import sample_data

    tx = sample_data(n_customers, seed=7).transactions
    rng = np.random.default_rng(7)
    tx["amount"] = (tx["amount"] * 4).round() / 4
    tx["discount"] = (tx["discount"] * 4).round() / 4
    tx["order_id"] = tx["order_id"].astype("Int64")
    tx.loc[rng.random(len(tx)) < 0.05, "order_id"] = pd.NA
    tx.loc[rng.random(len(tx)) < 0.02, "category"] = None
    tx.loc[rng.random(len(tx)) < 0.01, "amount"] = 0.0
    edge = pd.DataFrame(
        {
            "order_id": pd.array([9_000_001, 9_000_001, 9_000_002, None], dtype="Int64"),
            "customer_id": ["Z-tie", "Z-tie", "Z-refund", "Z-refund"],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-04-01", "2024-04-02"]),
            "product_id": [1, 2, 3, 4],
            "category": ["beauty", "apparel", "home", "home"],
            "channel": ["web", "app", "app", "app"],
            "quantity": [1, 1, -1, -1],
            "amount": [10.0, 10.0, -5.0, -3.0],
            "discount": [0.0, 1.0, 0.0, 0.0],
        }
    )
    return pd.concat([tx, edge], ignore_index=True)


def check_floor(n_customers: int = 2_000) -> str:
    """Assert that the floor equals ``customer_features`` exactly (pandas and polars input),
    on :func:`check_transactions`."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from retailcrm import customer_features

    tx = check_transactions(n_customers)
    ptx = pl.from_pandas(tx)
    dates = ("2023-03-15", "2024-06-30", AS_OF)
    for as_of in dates:
        floor = floor_features(ptx, dt.date.fromisoformat(as_of))
        assert_frame_equal(customer_features(ptx, as_of=as_of), floor, check_exact=True)
        got = pl.from_pandas(customer_features(tx, as_of=as_of))
        got = got.with_columns(pl.col("first_purchase", "last_purchase").cast(pl.Date))
        assert_frame_equal(got, floor, check_exact=True)
    return (
        f"{len(tx):,} lines, {ptx['customer_id'].n_unique():,} customers, as_of "
        f"{', '.join(dates)}; pandas and polars input"
    )


# ---------------------------------------------------------------------------------------------
# worker side: one measurement in this (fresh) process
# ---------------------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from ``/proc/stat``."""
    with open("/proc/stat") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _release_free_memory() -> None:
    """Hand memory freed while loading back to the OS, so the baseline RSS is honest."""
    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM, ru_maxrss); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") <= _status_kib("VmRSS") + 1024


class _Sampler(threading.Thread):
    """Fallback peak-RSS tracker (polls VmRSS) where the high-water mark cannot be reset."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _status_kib("VmRSS")
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.002):
            self.peak = max(self.peak, _status_kib("VmRSS"))


def _case_function(case: str, as_of: str) -> Callable[[Any], Any]:
    if case == "polars floor":
        day = dt.date.fromisoformat(as_of)
        return lambda tx: floor_features(tx, day)
    if case.startswith("retailcrm"):
        from retailcrm import customer_features

        return lambda tx: customer_features(tx, as_of=as_of)
    if case == "lifetimes":
        from lifetimes.utils import summary_data_from_transaction_data

        return lambda tx: summary_data_from_transaction_data(
            tx,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=as_of,
        )
    if case == "pymc-marketing":
        from pymc_marketing.clv import rfm_summary

        return lambda tx: rfm_summary(
            tx,
            "customer_id",
            "timestamp",
            monetary_value_col="amount",
            observation_period_end=as_of,
        )
    raise ValueError(f"unknown case {case!r}")


def _versions(names: Sequence[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(PackageNotFoundError):
            out[name] = version(name)
    return out


def run_worker(
    case: str,
    path: Path,
    as_of: str,
    result: Path,
    *,
    case_function: Callable[[str, str], Callable[[Any], Any]] = _case_function,
    cases: dict[str, tuple[str, str, str]] = CASES,
    peer_packages: Sequence[str] = (),
) -> None:
    """Load the input, run one case once, write the measurements as JSON to ``result``.

    Another script reuses this with its own ``case_function`` and ``cases`` table; a peer
    case's versions are those of ``peer_packages`` (default: the package named like the case).
    """
    fn = case_function(case, as_of)  # imports happen before the baseline
    library = cases[case][1]
    if library == "polars":
        import polars as pl

        tx = pl.read_parquet(path)
        input_bytes = int(tx.estimated_size())
    else:
        import pandas as pd

        tx = pd.read_parquet(path)
        input_bytes = int(tx.memory_usage(deep=True).sum())
    _release_free_memory()
    rss_loaded = _status_kib("VmRSS")
    sampler = None
    if not _reset_peak():
        sampler = _Sampler()
        sampler.start()
    busy0, cpu0, t0 = _machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter()
    out = fn(tx)
    seconds = time.perf_counter() - t0
    cpu, busy = _own_cpu_seconds() - cpu0, _machine_busy_seconds() - busy0
    if sampler is not None:
        sampler.done.set()
        sampler.join()
        peak = sampler.peak
    else:
        peak = _status_kib("VmHWM")
    names = ["retailcrm", "polars", "pandas", "narwhals", "pyarrow", "numpy"]
    if cases[case][0] == "peers":
        names = [*(peer_packages or [case]), "pandas", "numpy", "scipy", "pyarrow"]
    record = {
        "case": case,
        "seconds": seconds,
        "cpu_seconds": cpu,
        # other processes' CPU use during the call, as a share of the machine's capacity
        "background": max(0.0, busy - cpu) / (seconds * (os.cpu_count() or 1)),
        "rss_loaded": rss_loaded * 1024,
        "peak_rss": peak * 1024,
        "peak_method": "sampled" if sampler is not None else "VmHWM",
        "input_bytes": input_bytes,
        "input_rows": len(tx),
        "output_rows": len(out),
        "output_columns": len(out.columns),
        "versions": _versions(names),
    }
    result.write_text(json.dumps(record))


def run_generate(n_customers: int, path: Path) -> None:
    """Generate ``sample_data(n_customers)`` and cache its transactions as parquet."""
    from retailcrm.data import sample_data

    t0 = time.perf_counter()
    tx = sample_data(n_customers, seed=SEED).transactions
    seconds = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tx.to_parquet(tmp, index=False)
    tmp.replace(path)
    meta = {"customers": n_customers, "lines": len(tx), "seed": SEED, "seconds": seconds}
    path.with_suffix(".json").write_text(json.dumps(meta))


# ---------------------------------------------------------------------------------------------
# parent side: orchestration and the report
# ---------------------------------------------------------------------------------------------


def ensure_data(n_customers: int) -> tuple[Path, dict[str, Any]]:
    path = CACHE / f"transactions-{n_customers}-seed{SEED}.parquet"
    if not path.exists() or not path.with_suffix(".json").exists():
        print(f"generating sample_data({n_customers:_}) -> {path.relative_to(ROOT)}", flush=True)
        cmd = [sys.executable, __file__, "--generate", str(n_customers), "--input", str(path)]
        subprocess.run(cmd, check=True)
    return path, json.loads(path.with_suffix(".json").read_text())


def measure(
    case: str, python: str, path: Path, timeout: float, *, script: str = __file__
) -> dict[str, Any]:
    """Run one case in a fresh subprocess of ``script``; the record, or ``{"error": ...}``."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [python, script, "--worker", case, "--input", str(path), "--result", str(result)]
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        except OSError as exc:
            return {"error": f"cannot run {python}: {exc}"}
        if proc.returncode != 0 or not result.exists():
            lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
            return {"error": lines[-1] if lines else f"exit code {proc.returncode}"}
        return dict(json.loads(result.read_text()))


def _machine() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    return f"{os.cpu_count()} cores ({model}){mem}, {platform.system()} {platform.release()}"


def _mib(n: float) -> str:
    return f"{n / MIB:,.0f}"


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per case: best time, all times, largest peak over the RSS after loading, sizes."""
    out: dict[str, dict[str, Any]] = {}
    for case, records in runs.items():
        ok = [r for r in records if "error" not in r]
        if not ok:
            out[case] = {"error": records[0]["error"] if records else "not run"}
            continue
        best = min(ok, key=lambda r: r["seconds"])
        out[case] = {
            "seconds": best["seconds"],
            "all_seconds": [r["seconds"] for r in ok],
            "all_busy": [r["background"] >= BUSY for r in ok],
            "all_peaks": [r["peak_rss"] - r["rss_loaded"] for r in ok],
            "cpu_seconds": best["cpu_seconds"],
            "background": best["background"],
            "peak_over_load": max(r["peak_rss"] - r["rss_loaded"] for r in ok),
            "rss_loaded": best["rss_loaded"],
            "input_bytes": best["input_bytes"],
            "input_rows": best["input_rows"],
            "output_rows": best["output_rows"],
            "output_columns": best["output_columns"],
            "versions": best["versions"],
            "peak_method": best["peak_method"],
        }
    return out


def results_table(
    summary: dict[str, dict[str, Any]],
    repeat: int,
    cases: dict[str, tuple[str, str, str]] = CASES,
) -> str:
    """Two markdown tables: time, then memory."""
    floor = summary.get("polars floor", {}).get("seconds")
    timing = [
        f"| case | computes | rows × columns out | wall time, best of {repeat} (s) | all runs (s) "
        "| × floor | CPU time of the best run (s) | other load during it |",
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
        ratio = f"{s['seconds'] / floor:.2f}×" if floor else "—"
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
    note = (
        f"\\* other processes used {BUSY:.0%} or more of the machine during that run "
        "(the peers use one core, so they barely notice; polars uses both)."
    )
    return "\n".join([*timing, "", note, "", *memory])


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def targets_table(summary: dict[str, dict[str, Any]]) -> str:
    rows = ["| target | measured | verdict |", "|---|---|---|"]
    floor = summary.get("polars floor", {})
    ours = {
        "polars": summary.get("retailcrm (polars)", {}),
        "pandas": summary.get("retailcrm (pandas)", {}),
    }
    # the features issue asked for ≤ 1.3× (polars) and ≤ 1.6× (pandas); the scale issue
    # tightened pandas input to ≤ 1.3× as well: both pandas rows are reported
    limits = {"polars": (1.3,), "pandas": (1.6, 1.3)}
    for kind, s in ours.items():
        if "seconds" in s and "seconds" in floor:
            r = s["seconds"] / floor["seconds"]
            extra = " (conversion included)" if kind == "pandas" else ""
            for limit in limits[kind]:
                rows.append(
                    f"| {kind} input ≤ {limit}× the floor{extra} "
                    f"| {s['seconds']:.2f} s vs {floor['seconds']:.2f} s = {r:.2f}× "
                    f"| {_verdict(r <= limit)} |"
                )
    for kind, s in ours.items():
        for peer in ("lifetimes", "pymc-marketing"):
            p = summary.get(peer, {})
            if "seconds" not in s:
                continue
            if "seconds" not in p:
                rows.append(f"| {kind} input faster than {peer} | {peer} not run | — |")
                continue
            r = s["seconds"] / p["seconds"]
            rows.append(
                f"| {kind} input faster than {peer} (RFM summary only) "
                f"| {s['seconds']:.2f} s vs {p['seconds']:.2f} s = {r:.2f}× "
                f"| {_verdict(r < 1)} |"
            )
    for kind, s in ours.items():
        if "peak_over_load" not in s:
            continue
        r = s["peak_over_load"] / s["input_bytes"]
        rows.append(
            f"| {kind} input: peak memory ≤ 2.5× the input frame "
            f"| {_mib(s['peak_over_load'])} MiB over a {_mib(s['input_bytes'])} MiB frame "
            f"= {r:.2f}× | {_verdict(r <= 2.5)} |"
        )
        for peer in ("lifetimes", "pymc-marketing"):
            p = summary.get(peer, {})
            if "peak_over_load" not in p:
                rows.append(f"| {kind} input: peak memory below {peer} | {peer} not run | — |")
                continue
            r = s["peak_over_load"] / p["peak_over_load"]
            rows.append(
                f"| {kind} input: peak memory below {peer} "
                f"| {_mib(s['peak_over_load'])} MiB vs {_mib(p['peak_over_load'])} MiB "
                f"= {r:.2f}× | {_verdict(r < 1)} |"
            )
    return "\n".join(rows)


def report(
    summary: dict[str, dict[str, Any]],
    meta: dict[str, Any],
    args: argparse.Namespace,
    floor_check: str,
    seconds: float,
    *,
    script: str = "benchmarks/bench_features.py",
    cases: dict[str, tuple[str, str, str]] = CASES,
    data: str = f"windows {WINDOWS}",
    targets: Callable[[dict[str, dict[str, Any]]], str] = targets_table,
) -> str:
    """The results section: the run, its environments and data, then the three tables.

    ``floor_check`` completes "the floor equals retailcrm's output on …"; another script
    passes its own ``script``, ``cases``, ``data`` (after "as of <date>, ") and ``targets``.
    """
    command = shlex.join(["python", script, *args.argv])
    main_versions = next(
        (s["versions"] for c, s in summary.items() if cases[c][0] == "main" and "versions" in s),
        {},
    )
    peer_versions: dict[str, str] = {}
    for c, s in summary.items():
        if cases[c][0] == "peers" and "versions" in s:
            peer_versions.update(s["versions"])

    def fmt(v: dict[str, str]) -> str:
        return ", ".join(f"{k} {x}" for k, x in v.items()) or "—"

    how = {"VmHWM": "the kernel's high-water mark VmHWM", "sampled": "RSS sampled every 2 ms"}
    peak_methods = {how[s["peak_method"]] for s in summary.values() if "peak_method" in s}
    return "\n".join(
        [
            f"Run on {dt.date.today():%Y-%m-%d} with `{command}` "
            f"({args.repeat} run{'s' if args.repeat != 1 else ''} per case, "
            f"{seconds / 60:.1f} min in all).",
            "",
            f"- **Machine**: {_machine()}.",
            f"- **retailcrm's environment**: {fmt(main_versions)}.",
            f"- **Peers' environment** (`{args.peers_python or 'not given'}`): "
            f"{fmt(peer_versions)}.",
            f"- **Data**: `sample_data({meta['customers']:_}, seed={meta['seed']})` — "
            f"{meta['lines']:,} transaction lines, as of {AS_OF}, {data}.",
            f"- **Floor check** (before timing): the floor equals retailcrm's output on "
            f"{floor_check}.",
            "- **Method**: every run is a fresh subprocess that imports its library, loads the "
            "cached parquet file, frees what loading left behind, records its RSS, resets the "
            "kernel's peak-RSS mark and times one call; runs go round-robin over the cases. "
            "The floor and retailcrm (polars) get the same polars frame, the others the same "
            "pandas frame. *Peak over load* is the largest (peak RSS − RSS after load) over "
            f"the runs ({', '.join(sorted(peak_methods))}). *Other load* is the CPU time other "
            "processes used during the best run, as a share of the machine: the machine is "
            "shared, and a run with other load is slower than it should be.",
            "",
            results_table(summary, args.repeat, cases),
            "",
            targets(summary),
        ]
    )


DOCS_LABEL: str | None = None  # set by parse_args from --docs-label


def write_docs(
    section: str, page: Path = DOCS_PAGE, title: str = "Benchmark: customer features"
) -> None:
    """Replace the generated section of the docs page, keeping the hand-written text.

    With ``--docs-label`` (e.g. "1M lines", as ``run_all.py`` passes), the section has its
    own markers and, the first time, its own heading "Results: <label>" at the end of the
    page; without it, the page's main results section is replaced.
    """
    start, end = START, END
    if DOCS_LABEL:
        start = START.replace("results:", f"results:{DOCS_LABEL}:")
        end = END.replace("results:", f"results:{DOCS_LABEL}:")
    block = f"{start}\n{section}\n{end}"
    if page.exists() and start in (text := page.read_text()) and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        page.write_text(before + block + after)
        return
    if page.exists() and DOCS_LABEL:
        page.write_text(
            page.read_text().rstrip("\n") + f"\n\n## Results: {DOCS_LABEL}\n\n{block}\n"
        )
        return
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"# {title}\n\n{block}\n")


LINES_PER_CUSTOMER = 12.04  # sample_data: 12,036,559 lines for 1,000,000 customers


def _size(text: str) -> int:
    """``"10M"``, ``"1.5M"``, ``"200k"`` or ``"250000"`` as a number."""
    text = text.strip().upper().replace("_", "")
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return round(float(text.rstrip("KM")) * scale)


def parse_args(
    argv: list[str],
    *,
    description: str,
    cases: dict[str, tuple[str, str, str]] = CASES,
    page: Path = DOCS_PAGE,
    peers: str = "lifetimes and pymc-marketing",
) -> argparse.Namespace:
    """The command line of a benchmark script; ``args.case_list``: the cases chosen."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--customers", type=int, default=1_000_000, help="sample size (1M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case, best time kept (3)")
    parser.add_argument(
        "--lines",
        help="sample size in transaction lines instead (e.g. 1M, 10M: about 12 per customer)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 100k customers")
    parser.add_argument("--peers-python", help=f"interpreter with {peers}")
    parser.add_argument("--cases", help="comma-separated subset of: " + ", ".join(cases))
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run (1800)")
    parser.add_argument("--write-docs", action="store_true", help=f"write {page.relative_to(ROOT)}")
    parser.add_argument(
        "--docs-label", help="with --write-docs: write a section of its own (e.g. '1M lines')"
    )
    parser.add_argument("--runs-json", type=Path, help="also write every run's record here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.worker or args.generate:
        return args
    global DOCS_LABEL
    DOCS_LABEL = args.docs_label
    if args.lines:
        args.customers = round(_size(args.lines) / LINES_PER_CUSTOMER)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.case_list = [c.strip() for c in args.cases.split(",")] if args.cases else list(cases)
    unknown = [c for c in args.case_list if c not in cases]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; choose from {list(cases)}")
    return args


def run_cases(
    args: argparse.Namespace,
    path: Path,
    *,
    cases: dict[str, tuple[str, str, str]] = CASES,
    script: str = __file__,
) -> dict[str, list[dict[str, Any]]]:
    """Measure ``args.case_list``, ``args.repeat`` times each, printing every run."""
    # round robin (floor, polars, pandas, peers, floor, ...): a busy spell on the machine then
    # hits every case alike instead of one case's runs
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case in args.case_list}
    for i in range(args.repeat):
        for case in args.case_list:
            if runs[case] and "error" in runs[case][-1]:
                continue
            python = sys.executable if cases[case][0] == "main" else args.peers_python
            if python is None:
                runs[case].append({"error": "pass --peers-python"})
                continue
            record = measure(case, python, path, args.timeout, script=script)
            runs[case].append(record)
            shown = record.get("error") or (
                f"{record['seconds']:.2f} s (CPU {record['cpu_seconds']:.2f} s, background "
                f"{record['background']:.0%}), peak over load "
                f"{_mib(record['peak_rss'] - record['rss_loaded'])} MiB"
            )
            print(f"  run {i + 1}/{args.repeat} {case}: {shown}", flush=True)
    if args.runs_json:
        args.runs_json.write_text(json.dumps({"path": str(path), "runs": runs}))
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(
        argv,
        description="Time and peak memory of customer_features against a polars floor and peers.",
    )
    if args.worker:
        run_worker(args.worker, args.input, AS_OF, args.result)
        return 0
    if args.generate:
        run_generate(args.generate, args.input)
        return 0
    n_customers = 100_000 if args.quick else args.customers

    t0 = time.perf_counter()
    path, meta = ensure_data(n_customers)
    print(f"data: {meta['lines']:,} lines, {n_customers:,} customers ({path.name})", flush=True)
    floor_check = check_floor()
    print(f"floor check: equal to customer_features on {floor_check}", flush=True)
    runs = run_cases(args, path)
    section = report(summarise(runs), meta, args, floor_check, time.perf_counter() - t0)
    print()
    print(section)
    if args.write_docs:
        write_docs(section)
        print(f"\nwritten to {DOCS_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
