"""Fit time of retailcrm's BG/NBD and Pareto/NBD against lifetimes (benchmark only).

Usage::

    /work/venv/bin/python benchmarks/bench_models.py --lifetimes-python /tmp/lt/bin/python

Data: the CDNOW sample's 39-week calibration summary (2,357 customers, weeks) and one million
synthetic customers simulated from the BG/NBD process at daily resolution (T = 1..365 days,
integer days, ``r = 0.25, alpha = 30, a = 0.8, b = 2.5``). lifetimes is run in its own
interpreter (``--lifetimes-python``, a throw-away virtualenv; lifetimes is not a dependency),
on exactly the same arrays, passed through a temporary ``.npz`` file. Each time is the best of
``--repeat`` runs and covers the whole ``fit`` call (input conversion, compression, optimiser,
standard errors).

``--blas-threads N`` caps the BLAS thread pools at ``N`` in both processes (threadpoolctl here,
``OPENBLAS_NUM_THREADS`` etc. for lifetimes). On a small, busy machine OpenBLAS's worker
threads can make SciPy's L-BFGS-B (which calls BLAS on tiny vectors) many times slower; this
flag shows how much of a fit's time that is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from retailcrm.datasets import load_cdnow_sample
from retailcrm.models import BetaGeoModel, ParetoNBDModel

LIFETIMES_SCRIPT = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, scipy, lifetimes
from lifetimes import BetaGeoFitter, ParetoNBDFitter
d = np.load(sys.argv[1]); repeat = int(sys.argv[2]); models = sys.argv[3].split(",")
s = pd.DataFrame({"frequency": d["frequency"], "recency": d["recency"], "T": d["T"]})
out = {"versions": {"lifetimes": lifetimes.__version__, "numpy": np.__version__,
                    "pandas": pd.__version__, "scipy": scipy.__version__}}
for name, cls in [("bgnbd", BetaGeoFitter), ("pareto", ParetoNBDFitter)]:
    if name not in models:
        continue
    best = float("inf")
    for _ in range(repeat):
        m = cls()
        t0 = time.perf_counter(); m.fit(s["frequency"], s["recency"], s["T"])
        best = min(best, time.perf_counter() - t0)
    out[name] = {"seconds": best, "params": {k: float(v) for k, v in m.params_.items()}}
print(json.dumps(out))
"""


def cdnow_summary() -> pd.DataFrame:
    """The summary, built here with plain pandas (the same input for both libraries)."""
    tx = load_cdnow_sample().rename(columns={"customer_id": "sample_id", "timestamp": "date"})
    end = pd.Timestamp("1997-09-30")
    days = tx[tx["date"] <= end].groupby(["sample_id", "date"], as_index=False).size()
    g = days.groupby("sample_id")["date"]
    return pd.DataFrame(
        {
            "frequency": g.size() - 1,
            "recency": (g.max() - g.min()).dt.days / 7.0,
            "T": (end - g.min()).dt.days / 7.0,
        }
    )


def synthetic_bgnbd(n: int, seed: int = 0) -> pd.DataFrame:
    """BG/NBD customers at daily resolution: integer-day purchase times, T in 1..365 days."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = 0.25, 30.0, 0.8, 2.5
    T = rng.integers(1, 366, n).astype(float)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    tx = np.zeros(n)
    t = np.zeros(n)
    alive = np.ones(n, bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        t[idx] += rng.exponential(1 / lam[idx])
        buy = t[idx] <= T[idx]
        bi = idx[buy]
        x[bi] += 1
        tx[bi] = np.floor(t[bi])
        alive[idx[~buy]] = False
        alive[bi] = rng.random(bi.size) >= p[bi]
    tx = np.where(x > 0, tx, 0.0)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})


def time_fit(cls: type, s: pd.DataFrame, repeat: int) -> tuple[float, dict[str, float]]:
    best = float("inf")
    params: dict[str, float] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = cls().fit(s)
        best = min(best, time.perf_counter() - t0)
        params = m.params_
    return best, params


def run_lifetimes(
    python: str, s: pd.DataFrame, repeat: int, models: str, blas_threads: int | None = None
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(
            path,
            frequency=s["frequency"].to_numpy(float),
            recency=s["recency"].to_numpy(float),
            T=s["T"].to_numpy(float),
        )
        script = Path(tmp) / "lt.py"
        script.write_text(LIFETIMES_SCRIPT)
        env = dict(os.environ)
        if blas_threads is not None:
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env[var] = str(blas_threads)
        res = subprocess.run(
            [python, str(script), str(path), str(repeat), models],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lifetimes-python", help="python of a virtualenv with lifetimes installed")
    ap.add_argument("--n", type=int, default=1_000_000, help="synthetic customers")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--skip-lifetimes-pareto-large",
        action="store_true",
        help="do not run lifetimes' Pareto/NBD on the synthetic data (slow)",
    )
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="cap the BLAS thread pools of both libraries at this many threads",
    )
    args = ap.parse_args()
    limit: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=args.blas_threads, user_api="blas")
    with limit:
        run(args)


def run(args: argparse.Namespace) -> None:
    rows = []
    datasets = [
        ("CDNOW sample (2,357, weeks)", cdnow_summary(), args.repeat),
        (f"synthetic BG/NBD ({args.n:,}, days)", synthetic_bgnbd(args.n), 1),
    ]
    for label, s, rep in datasets:
        lt = {}
        if args.lifetimes_python:
            models = (
                "bgnbd"
                if (args.skip_lifetimes_pareto_large and "synthetic" in label)
                else "bgnbd,pareto"
            )
            lt = run_lifetimes(args.lifetimes_python, s, rep, models, args.blas_threads)
            print("lifetimes versions:", lt["versions"], file=sys.stderr)
        for name, cls in [("bgnbd", BetaGeoModel), ("pareto", ParetoNBDModel)]:
            ours, params = time_fit(cls, s, rep)
            theirs = lt.get(name, {}).get("seconds")
            rows.append(
                {
                    "data": label,
                    "model": {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD"}[name],
                    "retailcrm_s": round(ours, 4),
                    "lifetimes_s": None if theirs is None else round(theirs, 4),
                    "speedup": None if theirs is None else round(theirs / ours, 1),
                    "params": {k: round(v, 4) for k, v in params.items()},
                    "lifetimes_params": {
                        k: round(v, 4) for k, v in lt.get(name, {}).get("params", {}).items()
                    },
                }
            )
            print(rows[-1], file=sys.stderr)
    cols = ["data", "model", "retailcrm_s", "lifetimes_s", "speedup"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join("—" if row[c] is None else str(row[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
