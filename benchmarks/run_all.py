"""Run every benchmark at 1M and 10M transaction lines (and, when asked, 100M) in one command.

Usage (from the repository root, in the project's environment)::

    python benchmarks/run_all.py --peers-python /tmp/bench-peers/bin/python \\
        --seg-peers-python /tmp/bench-seg-peers/bin/python --write-docs

    python benchmarks/run_all.py --lines 1M --repeat 1       # a smoke run of everything
    python benchmarks/run_all.py --lines 1M,10M,100M ...      # with the 100M-line scale runs

Each script runs in its own process with ``--lines <size>``; with ``--write-docs`` every script
writes its page in ``docs/benchmarks/`` (a section per size, "Results: 1M lines", …) and this
command writes ``docs/benchmarks/index.md``: the machine, the versions, the date, the command,
every case's best time at every size and the time-linear-in-lines verdicts (10M ≤ 11× the 1M
time, 100M ≤ 11× the 10M time).

Sizes: 1M and 10M lines run every line-based script (customer features, BTYD summary, RFM
segmentation, cohorts and affinity, stage history, loyalty backtest and triggers, the full
pipeline) and the DuckDB / polars-streaming scale pipeline. 100M lines runs only the scale
pipeline (``bench_scale.py``): the in-memory cases would need the whole table in RAM, which
is what that benchmark shows one does not need. The rule and model benchmarks are not
line-based; ``--with-models-and-rules`` runs them once at their own default sizes.

Peers run only with the interpreters of their own throw-away virtualenvs (see
``benchmarks/README.md``); without them the peer cases are reported as not run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INDEX = ROOT / "docs" / "benchmarks" / "index.md"
START, END = "<!-- bench:all:start -->", "<!-- bench:all:end -->"

# script, which peers' interpreter it takes (None: no peers), docs page
LINE_SCRIPTS = [
    ("bench_features.py", "peers", "features.md"),
    ("bench_btyd.py", "peers", "btyd.md"),
    ("bench_segmentation.py", "seg_peers", "segmentation.md"),
    ("bench_metrics.py", "seg_peers", "metrics.md"),
    ("bench_lifecycle.py", None, "lifecycle.md"),
    ("bench_loyalty.py", None, "loyalty.md"),
    ("bench_pipeline.py", None, "pipeline.md"),
]
SCALE_SIZES = ("1M", "10M", "100M")


def _sh(cmd: list[str]) -> str:
    return shlex.join(["python", *(c.replace(str(ROOT) + "/", "") for c in cmd[1:])])


def run_line_script(
    script: str, size: str, peers: str | None, args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    """One script at one size; returns its runs and data (from ``--runs-json``)."""
    runs_json = out / f"{script}-{size}.json"
    cmd = [sys.executable, str(HERE / script), "--lines", size, "--repeat", str(args.repeat)]
    cmd += ["--runs-json", str(runs_json), "--timeout", str(args.timeout)]
    if peers:
        cmd += ["--peers-python", peers]
    if args.write_docs:
        cmd += ["--write-docs", "--docs-label", f"{size} lines"]
    print(f"\n=== {_sh(cmd)}", flush=True)
    proc = subprocess.run(cmd, check=False)
    if proc.returncode != 0 or not runs_json.exists():
        return {"error": f"exit status {proc.returncode}", "command": _sh(cmd)}
    record: dict[str, Any] = json.loads(runs_json.read_text())
    record["meta"] = json.loads(Path(record["path"]).with_suffix(".json").read_text())
    record["command"] = _sh(cmd)
    return record


def run_scale(sizes: list[str], args: argparse.Namespace, out: Path) -> dict[str, Any]:
    runs_json = out / "scale.json"
    cmd = [sys.executable, str(HERE / "bench_scale.py"), "--lines", ",".join(sizes)]
    cmd += ["--repeat", str(max(1, args.repeat - 2)), "--runs-json", str(runs_json)]
    if args.write_docs:
        cmd.append("--write-docs")
    print(f"\n=== {_sh(cmd)}", flush=True)
    proc = subprocess.run(cmd, check=False)
    if proc.returncode != 0 or not runs_json.exists():
        return {"error": f"exit status {proc.returncode}", "command": _sh(cmd)}
    record: dict[str, Any] = json.loads(runs_json.read_text())
    record["command"] = _sh(cmd)
    return record


def _best(runs: list[dict[str, Any]]) -> float | None:
    times = [r["seconds"] for r in runs if "error" not in r]
    return min(times) if times else None


def index_page(
    results: dict[str, dict[str, Any]],
    scale: dict[str, Any] | None,
    sizes: list[str],
    args: argparse.Namespace,
    minutes: float,
) -> str:
    sys.path.insert(0, str(HERE))
    from bench_features import _machine, _versions

    versions = _versions(["retailcrm", "polars", "pandas", "narwhals", "duckdb", "pyarrow"])
    versions.pop("python", None)
    command = shlex.join(["python", "benchmarks/run_all.py", *args.argv])
    lines = [
        f"Run on {dt.date.today():%Y-%m-%d} with `{command}` ({minutes:.0f} min in all).",
        "",
        f"- **Machine**: {_machine()}.",
        "- **retailcrm's environment**: python {}.{}.{}, ".format(*sys.version_info[:3])
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        f"- **Peers' environments**: `{args.peers_python or 'not given'}` (lifetimes, "
        f"pymc-marketing), `{args.seg_peers_python or 'not given'}` (pymc-marketing, "
        "openretailscience).",
        f"- **Runs per case**: {args.repeat}, best time kept; each page has every run, the "
        "memory and the targets.",
        "",
    ]
    line_sizes = [s for s in sizes if s != "100M"]
    header = "| benchmark | case | " + " | ".join(f"{s} lines (s)" for s in line_sizes)
    ratio_heads = [f"{b} ÷ {a}" for a, b in itertools.pairwise(line_sizes)]
    lines += [
        header + "".join(f" | {h}" for h in ratio_heads) + " |",
        "|---|---|" + "---:|" * (len(line_sizes) + len(ratio_heads)),
    ]
    verdicts: list[str] = []
    for script, _, page in LINE_SCRIPTS:
        per_size = {s: results.get(f"{script}-{s}", {}) for s in line_sizes}
        cases: list[str] = []
        for record in per_size.values():
            cases += [c for c in record.get("runs", {}) if c not in cases]
        for case in cases:
            best = {s: _best(per_size[s].get("runs", {}).get(case, [])) for s in line_sizes}
            cells = [f"{best[s]:.2f}" if best[s] is not None else "—" for s in line_sizes]
            ratios = []
            for a, b in itertools.pairwise(line_sizes):
                ta, tb = best[a], best[b]
                if ta is None or tb is None:
                    ratios.append("—")
                    continue
                lines_a = per_size[a]["meta"]["lines"]
                lines_b = per_size[b]["meta"]["lines"]
                ratio = tb / ta
                ratios.append(f"{ratio:.1f}×")
                if not case.startswith(("lifetimes", "pymc", "openretail", "cohorts: openretail")):
                    ok = ratio <= 1.1 * lines_b / lines_a
                    if not ok:
                        verdicts.append(
                            f"{page}: {case}: {b} lines took {ratio:.1f}× the {a} time "
                            f"({lines_b / lines_a:.1f}× the lines)"
                        )
            lines.append(f"| [{script}]({page}) | {case} | " + " | ".join(cells + ratios) + " |")
    for script, _, _ in LINE_SCRIPTS:
        for s in line_sizes:
            if "error" in results.get(f"{script}-{s}", {}):
                lines.append("")
                lines.append(f"**{script} at {s} lines failed**: {results[f'{script}-{s}']}")
    lines.append("")
    if scale is not None:
        lines.append(
            f"Scale pipeline (DuckDB and polars streaming, [scale.md](scale.md)): "
            f"`{scale.get('command', '')}`."
        )
        lines.append("")
        if "error" in scale:
            lines.append(f"**failed**: {scale['error']}")
        else:
            lines += [
                "| engine | " + " | ".join(f"{s} lines (s)" for s in scale["sizes"]) + " |",
                "|---|" + "---:|" * len(scale["sizes"]),
            ]
            for case in scale["cases"]:
                cells = []
                for s in scale["sizes"]:
                    best = _best(scale["runs"].get(f"{case}|{s}", []))
                    cells.append(f"{best:.1f}" if best is not None else "failed")
                lines.append(f"| {case} | " + " | ".join(cells) + " |")
            lines.append("")
    n_checked = sum(1 for k in results if "error" not in results[k])
    lines.append(
        "**Time linear in lines** (each size ≤ 11× the time of the size ten times smaller, "
        f"retailcrm's and the floors' cases, {n_checked} script runs): "
        + ("met for every case." if not verdicts else "not met for:")
    )
    lines += [f"- {v}" for v in verdicts]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="1M,10M", help="sizes out of 1M, 10M, 100M (1M,10M)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (3)")
    parser.add_argument("--peers-python", help="interpreter with lifetimes and pymc-marketing")
    parser.add_argument(
        "--seg-peers-python", help="interpreter with pymc-marketing and openretailscience"
    )
    parser.add_argument("--only", help="comma-separated subset of the scripts (e.g. bench_btyd.py)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run (3600)")
    parser.add_argument("--write-docs", action="store_true", help="write docs/benchmarks/")
    parser.add_argument(
        "--with-models-and-rules",
        action="store_true",
        help="also run bench_models.py and bench_rules.py once, at their default sizes",
    )
    args = parser.parse_args()
    args.argv = sys.argv[1:]
    sizes = [s.strip() for s in args.lines.split(",")]
    for s in sizes:
        if s not in SCALE_SIZES:
            parser.error(f"unknown size {s!r}: choose from {', '.join(SCALE_SIZES)}")
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    peers = {"peers": args.peers_python, "seg_peers": args.seg_peers_python}
    t0 = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    scale: dict[str, Any] | None = None
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for size in [s for s in sizes if s != "100M"]:
            for script, peer, _ in LINE_SCRIPTS:
                if only and script not in only:
                    continue
                record = run_line_script(script, size, peers[peer] if peer else None, args, out)
                results[f"{script}-{size}"] = record
                failed |= "error" in record
        if not only or "bench_scale.py" in only:
            scale = run_scale(sizes, args, out)
            failed |= "error" in scale
        others: list[str] = []
        if args.with_models_and_rules and not only:
            for script in ("bench_models.py", "bench_rules.py"):
                cmd = [sys.executable, str(HERE / script)]
                print(f"\n=== {_sh(cmd)}", flush=True)
                proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
                print(proc.stdout, proc.stderr, flush=True)
                failed |= proc.returncode != 0
                others += [f"### `{_sh(cmd)}`", "", proc.stdout.strip(), ""]
    text = index_page(results, scale, sizes, args, (time.perf_counter() - t0) / 60)
    if others:  # not line-based: their output as printed
        text += "\n## Models and rules (their own sizes)\n\n" + "\n".join(others)
    print("\n" + text)
    if args.write_docs and not only:
        page = INDEX.read_text() if INDEX.exists() else ""
        if START in page and END in page:
            before, rest = page.split(START, 1)
            page = before + START + "\n" + text + END + rest.split(END, 1)[1]
        else:
            page = f"# Benchmarks\n\n{START}\n{text}{END}\n"
        INDEX.write_text(page)
        print(f"written to {INDEX.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
