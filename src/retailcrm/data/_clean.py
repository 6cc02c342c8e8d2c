"""clean_transactions: explicit policies for duplicates, returns, nulls, zeros and anomalies."""

from __future__ import annotations

from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._engine import collect_polars
from retailcrm._params import check_choice
from retailcrm.data._prepare import (
    Inspector,
    after_as_of,
    check_duplicates,
    converted_once,
    duplicate_lines,
    extreme_fence,
    extreme_mask,
    fence_limit_text,
    inspect_transactions,
    normalise_columns,
)
from retailcrm.data._report import html_table
from retailcrm.data._schema import TransactionSchema

__all__ = ["CleaningAction", "CleaningReport", "clean_transactions"]

_POLICIES: dict[str, tuple[str, ...]] = {
    "returns": ("net", "exclude", "keep"),
    "duplicates": ("drop", "keep"),
    "nulls": ("error", "drop"),
    "zero_amounts": ("keep", "drop"),
    "anomalies": ("keep", "drop"),
}


@attrs.frozen(kw_only=True)
class CleaningAction:
    """What one rule did: how many rows it matched and whether they were dropped or kept."""

    rule: str
    policy: str
    rows: int
    effect: Literal["dropped", "kept"]
    detail: str


@attrs.frozen(kw_only=True)
class CleaningReport:
    """Exactly what :func:`clean_transactions` changed.

    Rows are tested against the rules in the order listed; a row dropped by one rule is not
    counted by later ones, so ``n_rows_in - n_rows_out == sum of dropped rows``.
    """

    n_rows_in: int
    n_rows_out: int
    actions: tuple[CleaningAction, ...]

    @property
    def n_dropped(self) -> int:
        """Rows removed in total."""
        return sum(a.rows for a in self.actions if a.effect == "dropped")

    def to_frame(self) -> Any:
        """The actions as a pandas DataFrame."""
        import pandas as pd

        cols = ["rule", "policy", "rows", "effect", "detail"]
        return pd.DataFrame([[getattr(a, c) for c in cols] for a in self.actions], columns=cols)

    def __repr__(self) -> str:
        rules = ", ".join(f"{a.rule} {a.rows} {a.effect}" for a in self.actions) or "no changes"
        return f"<CleaningReport: {self.n_rows_in} rows in, {self.n_rows_out} out: {rules}>"

    def _repr_html_(self) -> str:
        """The actions as a compact table, for notebooks."""
        return html_table(
            f"CleaningReport: {self.n_rows_in} rows in, {self.n_rows_out} out",
            "",
            ("rule", "policy", "rows", "effect", "detail"),
            [(a.rule, a.policy, a.rows, a.effect, a.detail) for a in self.actions],
        )

    def __str__(self) -> str:
        lines = [f"CleaningReport: {self.n_rows_in} rows in, {self.n_rows_out} out"]
        for a in self.actions:
            lines.append(f"- {a.rule} ({a.policy}): {a.rows} {a.effect} — {a.detail}")
        return "\n".join(lines)


def clean_transactions(
    tx: Any,
    *,
    schema: TransactionSchema | None = None,
    returns: Literal["net", "exclude", "keep"] = "net",
    duplicates: Literal["drop", "keep"] | None = None,
    nulls: Literal["error", "drop"] = "error",
    zero_amounts: Literal["keep", "drop"] = "keep",
    anomalies: Literal["keep", "drop"] = "keep",
    as_of: Any = None,
) -> tuple[Any, CleaningReport]:
    """Clean a transaction table under explicit policies; never touches the caller's frame.

    Parameters
    ----------
    tx : dataframe
        Transaction lines (pandas, polars eager or lazy, pyarrow, DuckDB or PySpark).
    schema : TransactionSchema, optional
        Column mapping.
    returns : {"net", "exclude", "keep"}
        Negative amounts (returns and refunds). ``"net"`` (default) keeps them so that they
        reduce spend and an order whose net spend is not positive is no purchase occasion
        downstream; ``"exclude"`` drops them; ``"keep"`` keeps them unmarked (downstream, pass
        ``returns="keep"`` to :func:`~retailcrm.customer_features`).
    duplicates : {"keep", "drop"} or None
        Exact duplicate lines (equal in *every* column). ``"drop"``: keep the first, drop the
        repeats (a repeated export). ``"keep"``: keep them (two equal items). ``None`` (the
        default of every function that reads transactions): keep them; the report counts them
        as kept, so the choice is visible.
    nulls : {"error", "drop"}
        Lines with a null customer id, amount or timestamp: raise (default) or drop.
    zero_amounts : {"keep", "drop"}
        Lines with amount 0.
    anomalies : {"keep", "drop"}
        Extreme amounts, by the rule of :func:`~retailcrm.validate_transactions`.
    as_of : date, datetime or str, optional
        When given, lines after it are dropped (out of the analysis window).

    Returns
    -------
    cleaned : dataframe
        Same kind and columns as ``tx``; pandas keeps the original index labels.
    report : CleaningReport
        Every rule with its policy and the number of rows it dropped or kept.

    Raises
    ------
    MissingColumnsError, InvalidDataError
        As :func:`~retailcrm.customer_features` would (for ``nulls="error"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import clean_transactions
    >>> tx = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "timestamp": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-09", "2024-01-05"]),
    ...     "amount": [30.0, 30.0, -30.0, 12.0],
    ... })
    >>> cleaned, report = clean_transactions(tx, returns="exclude", duplicates="drop")
    >>> cleaned.index.tolist()
    [0, 3]
    >>> print(report)
    CleaningReport: 4 rows in, 2 out
    - duplicates (drop): 1 dropped — exact repeats of an earlier line
    - returns (exclude): 1 dropped — negative amounts (total -30.00)
    >>> print(clean_transactions(tx)[1])
    CleaningReport: 4 rows in, 4 out
    - duplicates (keep): 1 kept — exact repeats of an earlier line (the default; duplicates='drop' drops them)
    - returns (net): 1 kept — negative amounts (total -30.00)
    """
    for name, value in (
        ("returns", returns),
        ("nulls", nulls),
        ("zero_amounts", zero_amounts),
        ("anomalies", anomalies),
    ):
        check_choice(value, _POLICIES[name], name=name, owner="clean_transactions")
    check_duplicates(duplicates, owner="clean_transactions")
    converted = converted_once(tx)  # pandas: for the duplicate search and validation both
    prepared, report = inspect_transactions(
        tx, schema=schema, as_of=as_of, level="errors", converted=converted
    )
    if report.missing is not None:
        raise report.missing
    assert prepared is not None
    null_codes = {"customer_id_null", "amount_null", "timestamp_null"}
    blocking = [p for p in report.errors if not (nulls == "drop" and p.code in null_codes)]
    if blocking:
        attrs.evolve(report, problems=blocking).raise_for_errors()

    canon = prepared.frame
    engine = prepared.engine
    amount = nw.col("amount")
    rules: list[tuple[str, str, nw.Expr | None, bool, str]] = []
    null_mask = (
        nw.col("customer_id").is_null()
        | amount.is_null()
        | amount.is_nan()
        | nw.col("timestamp").is_null()
    )
    rules.append(
        ("nulls", nulls, null_mask, nulls == "drop", "null customer id, amount or timestamp")
    )
    rules.append(
        (
            "duplicates",
            duplicates or "keep",
            None,
            duplicates == "drop",
            "exact repeats of an earlier line"
            + (" (the default; duplicates='drop' drops them)" if duplicates is None else ""),
        )
    )
    if prepared.as_of is not None:
        rules.append(
            (
                "after_as_of",
                "drop",
                after_as_of(prepared.as_of),
                True,
                f"lines after as_of {prepared.as_of.cutoff:%Y-%m-%d %H:%M:%S}",
            )
        )
    rules.append(("returns", returns, amount < 0, returns == "exclude", "negative amounts"))
    rules.append(("zero_amounts", zero_amounts, amount == 0, zero_amounts == "drop", "amount is 0"))
    fence = extreme_fence(canon.filter(~null_mask))
    if fence is not None:
        rules.append(
            (
                "anomalies",
                anomalies,
                extreme_mask(fence),
                anomalies == "drop",
                f"amounts beyond {fence_limit_text(fence)}",
            )
        )

    if engine.has_row_labels:
        return _clean_eager(tx, canon, engine, rules, converted)
    return _clean_lazy(tx, canon, prepared, rules)


def _detail(rule: str, detail: str, total: float | None) -> str:
    if rule == "returns" and total is not None:
        return f"{detail} (total {total:.2f})"
    return detail


def _clean_eager(
    tx: Any,
    canon: Any,
    engine: Any,
    rules: list[tuple[str, str, nw.Expr | None, bool, str]],
    converted: Any = None,
) -> tuple[Any, CleaningReport]:
    import polars as pl

    frame = canon.pipe(collect_polars)
    n_in = len(frame)
    _, _, keep_first = duplicate_lines(tx, engine, converted)  # the one detection of repeats
    dup_series = pl.Series(~keep_first, dtype=pl.Boolean)
    alive = pl.Series([True] * n_in, dtype=pl.Boolean)
    actions = []
    for rule, policy, mask, drop, detail in rules:
        hit = (
            dup_series
            if mask is None
            else frame.select(mask.fill_null(False)).to_native().to_series()
        )
        hit = hit.cast(pl.Boolean) & alive
        n = int(hit.sum())
        total = None
        if rule == "returns":
            total = float(frame.to_native().filter(hit)["amount"].sum()) if n else 0.0
        if n or drop:
            actions.append(
                CleaningAction(
                    rule=rule,
                    policy=policy,
                    rows=n,
                    effect="dropped" if drop else "kept",
                    detail=_detail(rule, detail, total),
                )
            )
        if drop:
            alive = alive & ~hit
    keep = alive.to_numpy()
    if engine.kind == "pandas":
        out = tx.loc[keep].copy()
    elif engine.kind == "pyarrow":
        out = tx.filter(keep)
    else:
        out = tx.filter(pl.Series(keep))
    actions = [a for a in actions if a.rows or a.effect == "dropped"]
    return out, CleaningReport(
        n_rows_in=n_in, n_rows_out=int(keep.sum()), actions=tuple(a for a in actions if a.rows)
    )


def _clean_lazy(
    tx: Any, canon: Any, prepared: Any, rules: list[tuple[str, str, nw.Expr | None, bool, str]]
) -> tuple[Any, CleaningReport]:
    """Lazy engines: the caller's columns ride along, renamed, next to the canonical ones."""
    frame = nw.from_native(tx)
    frame = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
    source = list(prepared.source_columns)
    hidden = [f"__src_{i}" for i in range(len(source))]
    ins = Inspector(schema=prepared.schema, native=tx, engine=prepared.engine, level="errors")
    present = {r: c for r, c in prepared.schema.roles.items() if c in source}
    work, _ = normalise_columns(
        ins, frame, present, extra=[nw.col(c).alias(h) for c, h in zip(source, hidden, strict=True)]
    )
    work = work.with_columns(nw.col("timestamp").dt.date().alias("date"))

    def count(f: Any) -> int:
        return int(f.select(nw.len().alias("n")).pipe(collect_polars).item(0, "n"))

    n_in = count(work)
    actions = []
    current = work
    for rule, policy, mask, drop, detail in rules:
        total = None
        if mask is None:
            deduped = current.unique(subset=hidden, keep="any")
            n = count(current) - count(deduped)
            if drop:
                current = deduped
        else:
            m = mask.fill_null(False)
            stats = (
                current.select(
                    m.cast(nw.Int64).sum().alias("n"),
                    nw.when(m).then(nw.col("amount")).otherwise(nw.lit(0.0)).sum().alias("total"),
                )
                .pipe(collect_polars)
                .to_native()
                .row(0, named=True)
            )
            n = int(stats["n"] or 0)
            total = float(stats["total"] or 0.0)
            if drop:
                current = current.filter(~m)
        if n:
            actions.append(
                CleaningAction(
                    rule=rule,
                    policy=policy,
                    rows=n,
                    effect="dropped" if drop else "kept",
                    detail=_detail(rule, detail, total if rule == "returns" else None),
                )
            )
    out = current.select(*(nw.col(h).alias(c) for c, h in zip(source, hidden, strict=True)))
    return prepared.engine.to_native(out), CleaningReport(
        n_rows_in=n_in, n_rows_out=count(current), actions=tuple(actions)
    )
