"""Benchmark the full pipeline, as a user writes it, against ``customer_features`` alone.

What is measured, each in a fresh subprocess (best of ``--repeat`` runs):

* ``pipeline (polars)`` — in one timed call on a polars DataFrame:
  ``validate_transactions(tx)`` → ``customer_features(tx, as_of=...)`` → ``rfm_scores`` →
  ``segment(..., STANDARD_SEGMENTS)`` → ``assign_stages(features, as_of=...)`` →
  ``BOUTIQUE_PROGRAM.assign(features, as_of=...)`` → ``evaluate_triggers`` with the built-in
  triggers whose columns the pipeline has (``tier_lapse`` and ``welcome_back``: the feature
  table with the tiers' ``change`` and ``grace_until`` joined on); every output is forced;
* ``pipeline (pandas)`` — the same on a pandas DataFrame (conversions included);
* ``customer_features (polars)`` / ``customer_features (pandas)`` — the feature table alone,
  the yardstick of the issue's target (the pipeline ≤ 3× the feature table).

Every case is retailcrm (no peer library runs this pipeline). The machinery is
``bench_features.py``'s and the report ``bench_lifecycle.py``'s; see ``benchmarks/README.md``.

Usage::

    python benchmarks/bench_pipeline.py --customers 20000 --repeat 1     # smoke run
    python benchmarks/bench_pipeline.py --write-docs                     # the recorded run
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from bench_features import (
    AS_OF,
    ROOT,
    check_transactions,
    ensure_data,
    parse_args,
    run_cases,
    run_worker,
    summarise,
    write_docs,
)
from bench_lifecycle import ratio_targets, reference_case, report

DOCS_PAGE = ROOT / "docs" / "benchmarks" / "pipeline.md"
TITLE = "Benchmark: the full pipeline"
TARGET = 3.0  # the pipeline ≤ 3× customer_features alone
STEPS = ("report", "features", "scores", "segments", "stages", "tiers", "actions")

#: name -> (interpreter, input library, what it computes)
CASES: dict[str, tuple[str, str, str]] = {
    "customer_features (polars)": ("main", "polars", "customer_features alone, polars in / "
                                   "polars out"),
    "customer_features (pandas)": ("main", "pandas", "customer_features alone, pandas in / "
                                   "pandas out"),
    "pipeline (polars)": ("main", "polars", "validate → features → rfm_scores → segment → "
                          "assign_stages → BOUTIQUE_PROGRAM.assign → evaluate_triggers, "
                          "polars in / polars out"),
    "pipeline (pandas)": ("main", "pandas", "the same, pandas in / pandas out"),
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the pipeline, as a user writes it
# ---------------------------------------------------------------------------------------------


def _rows(frame: Any) -> int:
    """Force a frame (collect a lazy one) and return its number of rows."""
    if hasattr(frame, "collect"):
        frame = frame.collect()
    return len(frame)


def _with_tier_change(features: Any, tiers: Any) -> Any:
    """The feature table with the tiers' ``change`` and ``grace_until`` joined on (what the
    ``tier_lapse`` trigger reads), in the caller's library."""
    import pandas as pd

    columns = ["customer_id", "change", "grace_until"]
    if isinstance(features, pd.DataFrame):
        return features.merge(tiers[columns], on="customer_id", how="left")
    return features.join(tiers.select(columns), on="customer_id", how="left")


def pipeline(tx: Any, as_of: str) -> dict[str, Any]:
    """Transactions to the day's actions, every step's output forced; the outputs by step.

    The triggers are the built-in ones whose columns the table has: ``tier_lapse`` (the
    tiers' ``change`` and ``grace_until``) and ``welcome_back`` (``recency_days``); the
    others need a customers table, events or a points ledger, which the pipeline has not.
    """
    from retailcrm import customer_features, validate_transactions
    from retailcrm.lifecycle import assign_stages
    from retailcrm.loyalty import BOUTIQUE_PROGRAM, BUILTIN_TRIGGERS, evaluate_triggers
    from retailcrm.segmentation import STANDARD_SEGMENTS, rfm_scores, segment

    report = validate_transactions(tx)
    report.raise_for_errors()
    features = customer_features(tx, as_of=as_of)
    scores = rfm_scores(features)
    segments = segment(scores, STANDARD_SEGMENTS)
    stages = assign_stages(features, as_of=as_of)
    tiers = BOUTIQUE_PROGRAM.assign(features, as_of=as_of)
    table = _with_tier_change(features, tiers)
    have = set(table.collect_schema().names() if hasattr(table, "collect_schema") else table)
    triggers = [t for t in BUILTIN_TRIGGERS if set(t.columns) <= have]
    actions = evaluate_triggers(table, triggers, as_of=as_of)
    out = dict(
        zip(STEPS, (report, features, scores, segments, stages, tiers, actions), strict=True)
    )
    for step in STEPS[1:]:
        _rows(out[step])
    return out


def _case_function(case: str, as_of: str) -> Callable[[Any], Any]:
    import retailcrm.lifecycle
    import retailcrm.loyalty
    import retailcrm.segmentation  # noqa: F401  (imported before the baseline)
    from retailcrm import customer_features

    if case.startswith("customer_features"):
        return lambda tx: customer_features(tx, as_of=as_of)
    if case.startswith("pipeline"):
        return lambda tx: pipeline(tx, as_of)["actions"]
    raise ValueError(f"unknown case {case!r}")


# ---------------------------------------------------------------------------------------------
# the check: pandas and polars input give the same outputs
# ---------------------------------------------------------------------------------------------


def _as_polars(frame: Any, like: Any) -> Any:
    """A pandas output as polars, its midnight datetimes as dates and categoricals as strings
    where the polars output (``like``) has those; every other dtype must already agree."""
    import polars as pl

    frame = pl.from_pandas(frame)
    casts = []
    for name, dtype in like.schema.items():
        got = frame.schema.get(name)
        if got is None or got == dtype:
            continue
        if dtype == pl.Date and isinstance(got, pl.Datetime):
            values = frame[name]
            assert (values.dt.truncate("1d") == values).all(), f"{name}: times of day in pandas"
            casts.append(pl.col(name).cast(pl.Date))
        elif dtype == pl.String and isinstance(got, pl.Categorical | pl.Enum):
            casts.append(pl.col(name).cast(pl.String))
    return frame.with_columns(casts)


def check_pipeline(n_customers: int = 2_000) -> str:
    """Assert that the pipeline's outputs are equal for pandas and polars input (every step,
    every column and row), on ``bench_features.check_transactions`` at ``AS_OF``."""
    import polars as pl
    from polars.testing import assert_frame_equal

    tx = check_transactions(n_customers)
    ptx = pl.from_pandas(tx)
    with warnings.catch_warnings():  # retailcrm's data-quality notes (no purchases, …)
        warnings.simplefilter("ignore")
        by_pandas = pipeline(tx, AS_OF)
        by_polars = pipeline(ptx, AS_OF)
    assert tuple(by_pandas["report"]) == tuple(by_polars["report"]), "validation reports differ"
    for step in STEPS[1:]:
        want = by_polars[step]
        got = _as_polars(by_pandas[step], want)
        try:
            assert_frame_equal(got, want, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"pipeline step {step!r}: pandas ≠ polars input\n{exc}") from exc
    actions = by_polars["actions"]
    fired = actions["trigger"].value_counts().sort(["count", "trigger"], descending=[True, False])
    return (
        f"the pipeline gives the same validation report ({', '.join(by_polars['report'].codes)}) "
        f"and the same {', '.join(STEPS[1:])} (every column, every row) for pandas and polars "
        f"input on {len(tx):,} lines, {ptx['customer_id'].n_unique():,} customers "
        f"(`bench_features.py`'s edge-case sample), as of {AS_OF}; actions: "
        + (", ".join(f"{t} {k:,}" for t, k in fired.iter_rows()) or "none")
    )


# ---------------------------------------------------------------------------------------------
# the target
# ---------------------------------------------------------------------------------------------


def targets_table(summary: dict[str, dict[str, Any]]) -> str:
    """The issue's target: the pipeline ≤ 3× customer_features alone (same input kind); the
    peak memory recorded."""
    pairs = [
        (f"{kind} input: the pipeline", f"pipeline ({kind})", f"customer_features ({kind})")
        for kind in ("polars", "pandas")
    ]
    rows = ["| target | measured | verdict |", "|---|---|---|"]
    return "\n".join([*rows, *ratio_targets(summary, pairs, TARGET)])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(
        argv,
        description="Time and peak memory of the full pipeline against customer_features alone.",
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
    check = check_pipeline()
    print(f"check: {check}", flush=True)
    runs = run_cases(args, path, cases=CASES, script=__file__)
    section = report(
        summarise(runs),
        meta,
        args,
        check,
        time.perf_counter() - t0,
        script="benchmarks/bench_pipeline.py",
        cases=CASES,
        data=f"as of {AS_OF}, the default windows, LifecyclePolicy and STANDARD_SEGMENTS, "
        "BOUTIQUE_PROGRAM without previous tiers, the triggers tier_lapse and welcome_back, "
        "no customers table",
        reference=lambda case: reference_case(case, CASES, "customer_features"),
        reference_label="customer_features",
        targets=targets_table,
        inputs="The polars cases get the same polars frame, the pandas cases the same pandas "
        "frame.",
    )
    print()
    print(section)
    if args.write_docs:
        write_docs(section, DOCS_PAGE, TITLE)
        print(f"\nwritten to {DOCS_PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
