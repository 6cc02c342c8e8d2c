"""From the caller's transaction frame to a typed, canonical LazyFrame — and every problem found.

This is where data enters retailcrm: nothing downstream re-validates raw input. The result has
one column per mapped role, renamed to the role (``customer_id``, ``timestamp``, ``amount``,
``order_id``, …), plus ``date`` (the calendar date of ``timestamp``):

* ``amount``, ``quantity`` and ``discount`` are Float64 (numeric text is parsed);
* ``timestamp`` is a naive Datetime (aware values converted to ``schema.timezone`` if given,
  then read as wall-clock time in their zone) or a Date;
* ids keep their type (numbers or text, never a mix).

pandas inputs are inspected natively first (object columns can mix Python types, and pandas
gives row labels); every other engine is inspected with narwhals expressions only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._clock import has_offset, has_plain_time, is_iso_text, wall_clock
from retailcrm._dates import AsOf, parse_as_of
from retailcrm._engine import (
    Engine,
    arrow_refusals,
    collect_polars,
    columns_of,
    engine_of,
    exact_quotient,
    keys_with_several_values,
    missing_columns_error,
    pandas_to_polars,
    polars_through_arrow,
    shared_values,
    unique_name,
    with_row_hash,
)
from retailcrm._params import check_choice
from retailcrm.data._report import Problem, ValidationReport, plain_value
from retailcrm.data._schema import TransactionSchema
from retailcrm.exceptions import (
    ConfigError,
    DataQualityWarning,
    InvalidDataError,
)

__all__ = [
    "EXTREME_FENCE",
    "Duplicates",
    "Inspector",
    "PreparedTransactions",
    "after_as_of",
    "apply_duplicates_policy",
    "check_duplicates",
    "duplicate_lines",
    "extreme_fence",
    "extreme_mask",
    "fence_limit_text",
    "inspect_transactions",
    "minor_units",
    "normalise_columns",
    "prepare_transactions",
    "warn_user",
]

Level = Literal["errors", "all"]
Severity = Literal["error", "warning", "info"]
#: (code, severity, role, mask over canonical columns, message given the count, fix)
Check = tuple[str, Severity, str | None, nw.Expr, Callable[[int], str], str]
NUMERIC_ROLES = ("amount", "quantity", "discount")
ID_ROLES = ("customer_id", "order_id", "product_id")
TEXT_ROLES = ("category", "channel")
N_EXAMPLES = 5
#: Tukey's far-out fence on the log scale: a positive amount is *extreme* when
#: ``log(amount) > Q3 + EXTREME_FENCE * IQR`` of the log of all positive amounts (and a refund
#: when ``log(-amount)`` exceeds the same fence).
EXTREME_FENCE = 3.0

_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


@attrs.frozen(kw_only=True)
class PreparedTransactions:
    """A validated transaction table in canonical form (internal to retailcrm).

    Attributes
    ----------
    frame : narwhals.LazyFrame
        Canonical columns: the mapped roles renamed to the role names, plus ``date``.
    engine : Engine
        The caller's engine, to convert results back.
    schema : TransactionSchema
        The mapping used.
    roles : tuple of str
        The canonical roles present (``customer_id``, ``timestamp``, ``amount`` always).
    as_of : AsOf or None
        The parsed ``as_of``; when given, ``frame`` holds only rows at or before it.
    problems : tuple of Problem
        What inspection found (warnings and info only — errors raise).
    n_lines : int or None
        The number of lines inspection counted (before any ``as_of`` cut or dropped
        duplicates: an upper bound), or ``None`` when not known. Used to size partitions.
    """

    frame: nw.LazyFrame[Any]
    engine: Engine
    schema: TransactionSchema
    roles: tuple[str, ...]
    as_of: AsOf | None
    problems: tuple[Problem, ...] = ()
    source_columns: tuple[str, ...] = ()
    n_lines: int | None = None

    def has(self, role: str) -> bool:
        """True when the optional ``role`` is mapped to an existing column."""
        return role in self.roles

    def until(self, as_of: Any) -> PreparedTransactions:
        """The same validated lines cut at ``as_of`` — no re-validation, no conversion.

        ``as_of`` follows the one rule of :func:`~retailcrm._dates.parse_as_of` (a date or
        midnight means the whole day). It cannot be later than a cut already made: lines after
        that are gone. Cut at many dates (a stage history, a churn label) from one
        preparation; on eager inputs, call :meth:`materialised` first so that every cut reads
        the lines in memory instead of converting the caller's frame again.
        """
        parsed = _as_of_in_zone(parse_as_of(as_of), self.schema)
        if self.as_of is not None and parsed.cutoff > self.as_of.cutoff:
            raise ConfigError(
                f"as_of={parsed.cutoff:%Y-%m-%d %H:%M:%S} is later than the cut these lines "
                f"were prepared with ({self.as_of.cutoff:%Y-%m-%d %H:%M:%S}). Fix: prepare "
                "with the latest date you need and cut earlier dates from it."
            )
        return attrs.evolve(self, frame=self.frame.filter(~after_as_of(parsed)), as_of=parsed)

    def materialised(self) -> PreparedTransactions:
        """Eager inputs: the lines collected once (polars, in memory), so that later cuts and
        aggregations do not repeat the conversion; lazy engines: unchanged (the work stays in
        the engine)."""
        if self.engine.is_lazy:
            return self
        return attrs.evolve(self, frame=self.frame.pipe(collect_polars).lazy())


@attrs.define
class Inspector:
    """Collects problems while normalising one frame."""

    schema: TransactionSchema
    native: Any
    engine: Engine
    level: Level
    problems: list[Problem] = attrs.Factory(list)

    def add(
        self,
        code: str,
        severity: Severity,
        role: str | None,
        count: int,
        message: str,
        fix: str,
        rows: Any = (),
        examples: Any = (),
        examples_of: str = "value",
    ) -> None:
        column = self.schema.roles.get(role) if role else None
        self.problems.append(
            Problem(
                code=code,
                severity=severity,
                column=column,
                count=int(count),
                message=message,
                fix=fix,
                rows=rows,
                examples=examples,
                examples_of=examples_of,
            )
        )


def _not_a_number(role: str) -> Callable[[int], str]:
    return lambda n: f"{_plural(n, 'value')} in {role} {'is' if n == 1 else 'are'} not a number"


def _after_text(as_of: AsOf) -> Callable[[int], str]:
    return lambda n: f"{_plural(n, 'line')} after as_of {as_of.cutoff:%Y-%m-%d %H:%M:%S}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---------------------------------------------------------------------------------------------
# pandas: native pre-pass (object columns, text, time zones), then polars
# ---------------------------------------------------------------------------------------------


def _pandas_prepass(ins: Inspector, roles: Mapping[str, str]) -> Any:
    import pandas as pd

    native = ins.native
    index = native.index
    out: dict[str, Any] = {}
    untouched: dict[str, str] = {}
    for role, col in roles.items():
        series = original = native[col]
        if isinstance(series, pd.DataFrame):
            raise InvalidDataError(
                f"tx: column {col!r} appears more than once. Fix: give each column a unique name."
            )
        before = len(ins.problems)
        if role in NUMERIC_ROLES:
            series = _pd_numeric(ins, role, series, index)
        elif role == "timestamp":
            series = _pd_timestamp(ins, series, index)
        elif role in ID_ROLES or role in TEXT_ROLES:
            series = _pd_labels(ins, role, series, index)
        elif role == "refund" and pd.api.types.is_object_dtype(series.dtype):
            series = _pd_flags(series)
        out[role] = series.reset_index(drop=True)
        if series is original:
            untouched[role] = col
        if any(p.severity == "error" for p in ins.problems[before:]):
            # keep the raw text so null checks do not count unreadable values twice
            out[f"__raw_{role}"] = native[col].astype("string").reset_index(drop=True)
    frame = pd.DataFrame(out, copy=False)
    return frame, untouched


def _prepass_to_polars(
    frame: Any, native: Any, untouched: Mapping[str, str], converted: Any
) -> nw.LazyFrame[Any]:
    """The pre-passed pandas ``frame`` in polars. Columns the pre-pass left as they were are
    taken from ``converted`` (:class:`ConvertedColumns`, made for the duplicate search)
    instead of being converted a second time: on 10M lines that saves the time and the memory
    of a second copy of the string columns."""
    import polars as pl

    if converted is None or converted.frame is None or not untouched:
        return pandas_to_polars(frame)
    reused: dict[str, Any] = {}
    for role, col in untouched.items():
        pos = native.columns.get_loc(col)
        series = converted.series(pos) if isinstance(pos, int) else None
        if series is not None:
            reused[role] = series.alias(role)
    rest = [c for c in frame.columns if c not in reused]
    if rest:
        other = pandas_to_polars(frame[rest]).to_native().collect()
        reused.update({c: other.get_column(c) for c in rest})
    return nw.from_native(pl.DataFrame([reused[c] for c in frame.columns]).lazy())


def _pd_flags(series: Any) -> Any:
    """An object column of booleans (with ``None``) as pandas' nullable boolean, if it is one."""
    values = series.dropna()
    if values.map(lambda v: isinstance(v, bool) or type(v).__name__ == "bool_").all():
        return series.astype("boolean")
    return series.astype("string")


def _pd_rows(index: Any, mask: Any) -> list[Any]:
    return list(index[mask.to_numpy(dtype=bool, na_value=False)][:N_EXAMPLES])


def _pd_numeric(ins: Inspector, role: str, series: Any, index: Any) -> Any:
    import pandas as pd
    from pandas.api import types as pdt

    if pdt.is_bool_dtype(series.dtype):
        ins.add(
            f"{role}_not_numeric",
            "error",
            role,
            len(series),
            f"{role} is boolean, not a number",
            f"map the column to the {role} role only if it holds {role}s.",
        )
        return pd.Series([None] * len(series), dtype="float64", index=series.index)
    if pdt.is_numeric_dtype(series.dtype):
        return series
    if pdt.is_datetime64_any_dtype(series.dtype):
        ins.add(
            f"{role}_not_numeric",
            "error",
            role,
            len(series),
            f"{role} holds dates, not numbers",
            f"check the schema: TransactionSchema({role}=...) must name a numeric column.",
        )
        return pd.Series([None] * len(series), dtype="float64", index=series.index)
    as_text = series.astype("string")
    parsed = pd.to_numeric(as_text.str.strip(), errors="coerce")
    bad = parsed.isna() & series.notna()
    n_bad = int(bad.sum())
    if n_bad:
        ins.add(
            f"{role}_not_numeric",
            "error",
            role,
            n_bad,
            f"{_plural(n_bad, 'value')} in {role} {'is' if n_bad == 1 else 'are'} not a number",
            f"convert {role} to numbers: drop currency symbols and thousands separators and use "
            f"'.' for decimals (for '1.234,50' style text: "
            f"pd.to_numeric(s.str.replace('.', '').str.replace(',', '.'))).",
            rows=_pd_rows(index, bad),
            examples=list(series[bad].head(N_EXAMPLES)),
        )
    else:
        ins.add(
            f"{role}_as_text",
            "info",
            role,
            int(series.notna().sum()),
            f"{role} is stored as text; every value parsed as a number",
            f"store {role} as a numeric column to skip parsing.",
        )
    return parsed.astype("Float64")


def _pd_timestamp(ins: Inspector, series: Any, index: Any) -> Any:
    """pandas timestamps: datetime columns are localised here (pandas keeps each column's zone,
    fixed offsets included); text and Python objects become text read by the shared rule."""
    import datetime as _dt

    import pandas as pd
    from pandas.api import types as pdt

    dtype = series.dtype
    if pdt.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is not None or _arrow_tz(dtype) is not None:
            if ins.schema.timezone:
                series = series.dt.tz_convert(ins.schema.timezone)
            series = series.dt.tz_localize(None)
        return series
    if pdt.is_numeric_dtype(dtype) or pdt.is_bool_dtype(dtype):
        ins.add(
            "timestamp_not_datetime",
            "error",
            "timestamp",
            len(series),
            f"timestamp holds numbers ({dtype}), not dates",
            "convert it, e.g. pd.to_datetime(df[col], unit='s') for epoch seconds or "
            "pd.to_datetime(df[col].astype(str), format='%Y%m%d') for 20240131-style dates.",
        )
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    if pdt.is_object_dtype(dtype):
        # datetime and date objects (aware or not) become ISO text, read by the same rule
        def iso(v: Any) -> Any:
            if isinstance(v, _dt.datetime):
                return v.isoformat(sep=" ")
            if isinstance(v, _dt.date):
                return v.isoformat()
            return v if v is None or isinstance(v, str) else str(v)

        series = series.map(iso, na_action="ignore")
    return series.astype("string")


def _arrow_tz(dtype: Any) -> Any:
    pa_type = getattr(dtype, "pyarrow_dtype", None)
    return getattr(pa_type, "tz", None)


def _pd_labels(ins: Inspector, role: str, series: Any, index: Any) -> Any:
    from pandas.api import types as pdt

    if not pdt.is_object_dtype(series.dtype):
        return series
    nonnull = series.dropna()
    kinds = nonnull.map(
        lambda v: (
            "text"
            if isinstance(v, str)
            else (
                "number" if isinstance(v, int | float) or hasattr(v, "dtype") else type(v).__name__
            )
        )
    )
    counts = kinds.value_counts()
    if len(counts) > 1:
        main = counts.index[0]
        odd = kinds != main
        labels = nonnull.index[odd.to_numpy()]
        ins.add(
            f"{role}_mixed_types",
            "error",
            role,
            int(odd.sum()),
            f"{role} mixes kinds of values ({', '.join(f'{n} {k}' for k, n in counts.items())}), "
            f"so 1 and '1' would be two different keys",
            "convert the column to one type, e.g. df[col].astype(str).",
            rows=list(labels[:N_EXAMPLES]),
            examples=list(series.loc[labels[:N_EXAMPLES]]),
        )
        return series.astype("string")
    if len(counts) == 1 and counts.index[0] == "text":
        return series.astype("string")
    if len(counts) == 1 and counts.index[0] == "number":
        import pandas as pd

        return pd.to_numeric(series)
    return series.astype("string")


# ---------------------------------------------------------------------------------------------
# every other engine: narwhals expressions
# ---------------------------------------------------------------------------------------------


def normalise_columns(
    ins: Inspector,
    lf: nw.LazyFrame[Any],
    roles: Mapping[str, str],
    extra: Sequence[nw.Expr] = (),
) -> tuple[nw.LazyFrame[Any], list[Check]]:
    """Type-normalise with narwhals; returns the frame and row-level checks to count."""
    schema = lf.collect_schema()
    exprs: list[nw.Expr] = []
    checks: list[Check] = []
    raw: dict[str, nw.Expr] = {}
    for role, col in roles.items():
        dtype = schema[col]
        c = nw.col(col)
        if role in NUMERIC_ROLES:
            if dtype.is_numeric():
                exprs.append(c.cast(nw.Float64).alias(role))
            elif dtype == nw.String:
                ok = c.str.contains(_NUMBER_RE)
                checks.append(
                    (
                        f"{role}_not_numeric",
                        "error",
                        role,
                        ~nw.col(f"__raw_{role}").is_null()
                        & ~nw.col(f"__raw_{role}").str.contains(_NUMBER_RE),
                        _not_a_number(role),
                        f"convert {role} to numbers (remove currency symbols and thousands separators).",
                    )
                )
                raw[role] = c
                exprs.append(
                    nw.when(ok)
                    .then(c.str.strip_chars())
                    .otherwise(nw.lit(None, nw.String))
                    .cast(nw.Float64)
                    .alias(role)
                )
            else:
                ins.add(
                    f"{role}_not_numeric",
                    "error",
                    role,
                    -1,
                    f"{role} is of type {dtype}, not a number",
                    f"map TransactionSchema({role}=...) to a numeric column.",
                )
                exprs.append(nw.lit(None, nw.Float64).alias(role))
        elif role == "timestamp":
            exprs.append(_nw_timestamp(ins, c, dtype, checks, raw))
        elif role == "refund":
            exprs.append(_nw_refund(ins, c, dtype, checks, raw))
        elif dtype in (nw.Categorical, nw.Enum) or isinstance(dtype, nw.Enum):
            # text semantics everywhere: ordering (ties) by the labels, not by category codes
            exprs.append(c.cast(nw.String).alias(role))
        elif dtype.is_nested() or dtype in (nw.Object, nw.Unknown):
            # lists, structs and arrays are no keys or labels: every engine fails on them later
            # with its own message (polars: "`min` operation not supported for dtype list")
            ins.add(
                f"{role}_not_labels",
                "error",
                role,
                -1,
                f"{role} is of type {dtype}, not text or whole numbers",
                f"map TransactionSchema({role}=...) to a text or integer column, or turn each "
                "value into one label first.",
            )
            exprs.append(nw.lit(None, nw.String).alias(role))
        else:
            exprs.append(c.alias(role))
    kept = [nw.col(c) for c in schema.names() if c.startswith("__raw_")]
    out = lf.select(*exprs, *(e.alias(f"__raw_{r}") for r, e in raw.items()), *kept, *extra)
    if "timestamp" in roles:
        out = _localise(ins, out)
    if "refund" in roles:
        amount = nw.col("amount")
        out = out.with_columns(
            nw.when(nw.col("refund")).then(-amount.abs()).otherwise(amount).alias("amount")
        ).drop("refund")
    return out, checks


def _nw_timestamp(
    ins: Inspector,
    c: nw.Expr,
    dtype: Any,
    checks: list[Check],
    raw: dict[str, nw.Expr],
) -> nw.Expr:
    """The timestamp column as selected before :func:`_localise` applies the time rule."""
    if dtype == nw.Date or isinstance(dtype, nw.Datetime):
        return c.alias("timestamp")
    if dtype == nw.String:
        raw_text = nw.col("__raw_timestamp")
        checks.append(
            (
                "timestamp_unparseable",
                "error",
                "timestamp",
                ~raw_text.is_null() & ~is_iso_text(raw_text),
                lambda n: (
                    f"{_plural(n, 'value')} in timestamp cannot be read as an ISO date or time"
                ),
                "use ISO 8601 text ('2024-01-31', '2024-01-31 14:05:00' or "
                "'2024-01-31T14:05:00+08:00') or a datetime column; parse other formats "
                "yourself, e.g. pd.to_datetime(df[col], format='%d/%m/%Y %H:%M').",
            )
        )
        raw["timestamp"] = c
        return c.alias("timestamp")
    ins.add(
        "timestamp_not_datetime",
        "error",
        "timestamp",
        -1,
        f"timestamp is of type {dtype}, not a date or datetime",
        "convert it to a datetime column (for epoch numbers: seconds since 1970).",
    )
    return nw.lit(None, nw.Datetime("us")).alias("timestamp")


def _nw_refund(
    ins: Inspector,
    c: nw.Expr,
    dtype: Any,
    checks: list[Check],
    raw: dict[str, nw.Expr],
) -> nw.Expr:
    """The refund flag as Boolean: booleans, or integers 0/1; a null flag is no refund."""
    fix = (
        "map TransactionSchema(refund=...) to a column of True/False (or 1/0) that marks refund "
        "lines, or convert it first, e.g. df[col] == '是'."
    )
    if dtype == nw.Boolean:
        return c.fill_null(False).alias("refund")
    if dtype.is_integer():
        raw["refund"] = c
        checks.append(
            (
                "refund_not_boolean",
                "error",
                "refund",
                ~nw.col("__raw_refund").is_null() & ~nw.col("__raw_refund").is_in([0, 1]),
                lambda n: f"{_plural(n, 'value')} in refund {'is' if n == 1 else 'are'} not 0 or 1",
                fix,
            )
        )
        return (c == 1).fill_null(False).alias("refund")
    ins.add(
        "refund_not_boolean",
        "error",
        "refund",
        -1,
        f"refund is of type {dtype}, not a True/False flag",
        fix,
    )
    return nw.lit(False).alias("refund")


def _localise(ins: Inspector, lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Apply the time rule (:mod:`retailcrm._clock`) to the selected timestamp column."""
    dtype = lf.collect_schema()["timestamp"]
    if not (dtype == nw.Date or dtype == nw.String or isinstance(dtype, nw.Datetime)):
        return lf
    lf, reading = wall_clock(
        lf, "timestamp", timezone=ins.schema.timezone, engine=ins.engine, dtype=dtype
    )
    if reading.assumed_utc:
        ins.add(
            "timestamp_zone_assumed",
            "info",
            "timestamp",
            -1,
            "timestamp holds instants with no zone of their own (a DuckDB TIMESTAMPTZ or Spark "
            "TIMESTAMP column); their calendar dates are taken in UTC, not in the session time zone",
            "set TransactionSchema(timezone=...) to the zone whose calendar dates count, e.g. "
            "timezone='Asia/Shanghai'.",
        )
    return lf


# ---------------------------------------------------------------------------------------------
# inspection
# ---------------------------------------------------------------------------------------------


def inspect_transactions(
    tx: Any,
    *,
    schema: TransactionSchema | None = None,
    as_of: Any = None,
    level: Level = "all",
    name: str = "tx",
    converted: Any = None,
) -> tuple[PreparedTransactions | None, ValidationReport]:
    """Normalise ``tx`` and find its problems.

    Returns the prepared (but not yet as-of-filtered) transactions — ``None`` when required
    columns are missing — and the report. ``level="errors"`` runs only the checks whose failure
    is an error (what :func:`prepare_transactions` needs); ``"all"`` adds the warnings.
    ``converted`` holds columns of a pandas ``tx`` in polars (:func:`converted_once`), when
    the caller has them for the duplicate search: those columns are then not converted twice.
    """
    if schema is None:
        schema = TransactionSchema()
    elif not isinstance(schema, TransactionSchema):
        raise ConfigError(
            f"schema must be a TransactionSchema, got {type(schema).__name__}. "
            "Fix: schema=TransactionSchema(customer_id=..., timestamp=..., amount=...)."
        )
    parsed_as_of = parse_as_of(as_of) if as_of is not None else None
    engine = engine_of(tx, name=name)
    columns = columns_of(tx)
    explicit = schema.explicit_roles
    roles = {
        r: c
        for r, c in schema.roles.items()
        if c in columns or r in schema.required_roles or r in explicit
    }
    missing = [c for r, c in roles.items() if c not in columns]
    if missing:
        err = missing_columns_error(
            {r: c for r, c in roles.items() if c not in columns},
            columns,
            table=name,
            schema="TransactionSchema",
            explicit=explicit,
        )
        problem = Problem(
            code="missing_columns",
            severity="error",
            column=", ".join(missing),
            count=len(missing),
            message=str(err).split(". Fix:")[0],
            fix=err.message.split("Fix: ")[-1],
        )
        return None, ValidationReport(n_rows=-1, problems=[problem], missing=err, roles=roles)

    ins = Inspector(schema=schema, native=tx, engine=engine, level=level)
    if engine.kind == "pandas":
        frame, untouched = _pandas_prepass(ins, roles)
        lf = _prepass_to_polars(frame, tx, untouched, converted)
        del frame
        lf, checks = normalise_columns(ins, lf, {r: r for r in roles})
        index = tx.index
    else:
        lf0 = nw.from_native(tx)
        if isinstance(lf0, nw.DataFrame):  # polars stays polars; pyarrow goes through polars
            lf0 = lf0.lazy(backend="polars")
        lf, checks = normalise_columns(ins, lf0, roles)
        index = None
    lf = lf.with_columns(nw.col("timestamp").dt.date().alias("date"))

    raw = {c[len("__raw_") :] for c in lf.collect_schema().names() if c.startswith("__raw_")}
    text_ids = lf.collect_schema()["customer_id"] == nw.String
    by_column = {c: r for r, c in roles.items()}
    mistyped = {by_column.get(p.column or "") for p in ins.problems if p.severity == "error"}
    checks += _row_checks(parsed_as_of, level, raw, text_ids, {r for r in mistyped if r} - raw)
    tallies: dict[str, nw.Expr] = {}
    if "timestamp" in raw:
        text = nw.col("__raw_timestamp")
        tallies = {"__n_offset__": has_offset(text), "__n_plain__": has_plain_time(text)}
    counts = _count(lf, checks, ins, tallies)
    n_rows = counts.pop("__n_rows__")
    n_offset, n_plain = counts.pop("__n_offset__", 0), counts.pop("__n_plain__", 0)
    if n_offset and n_plain:
        checks.append(_mixed_zones_check(n_offset, n_plain))
        counts["mixed_timezones"] = min(n_offset, n_plain)
    for code, severity, role, mask, message, fix in checks:
        n = counts.get(code, 0)
        if n:
            rows, examples, examples_of = _examples(lf, mask, role, engine, index)
            ins.add(
                code,
                severity,
                role,
                n,
                message(n),
                fix,
                rows=rows,
                examples=examples,
                examples_of=examples_of,
            )
    if level == "all":
        _frame_checks(ins, lf, tx, engine, n_rows, tuple(roles))
    problems = [p if p.count >= 0 else attrs.evolve(p, count=n_rows) for p in ins.problems]
    report = ValidationReport(n_rows=n_rows, problems=problems, roles=roles)
    raw_cols = [c for c in lf.collect_schema().names() if c.startswith("__raw_")]
    prepared = PreparedTransactions(
        frame=lf.drop(raw_cols) if raw_cols else lf,
        engine=engine,
        schema=schema,
        roles=tuple(roles),
        as_of=parsed_as_of,
        problems=tuple(p for p in report.problems if p.severity != "error"),
        source_columns=tuple(columns),
        n_lines=n_rows,
    )
    return prepared, report


def _null(role: str, raw: set[str], mistyped: set[str]) -> nw.Expr:
    """Null in the normalised column and not because the raw value was unreadable (a column
    of the wrong type is one error, not also a null in every row)."""
    if role in mistyped:
        return nw.col(role).is_null() & nw.lit(False)  # column-shaped, for the sums
    mask = nw.col(role).is_null()
    return mask & nw.col(f"__raw_{role}").is_null() if role in raw else mask


def _blank(role: str) -> nw.Expr:
    """Text that is empty or only white space."""
    return nw.col(role).str.strip_chars() == ""


def _row_checks(
    as_of: AsOf | None,
    level: Level,
    raw: set[str],
    text_ids: bool = True,
    mistyped: set[str] | None = None,
) -> list[Check]:
    mistyped = mistyped or set()
    amount = nw.col("amount")
    checks: list[Check] = []
    if text_ids:
        checks.append(
            (
                "customer_id_blank",
                "error",
                "customer_id",
                _blank("customer_id"),
                lambda n: f"{n} blank customer id{'s' if n != 1 else ''} ('' or only spaces)",
                "drop these rows or fill the id; a blank id is no customer (exports often write "
                "missing ids as empty text).",
            )
        )
    checks += [
        (
            "customer_id_null",
            "error",
            "customer_id",
            _null("customer_id", raw, mistyped),
            lambda n: f"{n} null customer id{'s' if n != 1 else ''}",
            "drop these rows or fill the id; every line must belong to a customer.",
        ),
        (
            "amount_null",
            "error",
            "amount",
            _null("amount", raw, mistyped) | amount.is_nan(),
            lambda n: f"{n} null or NaN amount{'s' if n != 1 else ''}",
            "drop these rows or fill the amount (0 for free items).",
        ),
        (
            "amount_not_finite",
            "error",
            "amount",
            ~(amount.is_nan() | amount.is_null()) & (amount.abs() == float("inf")),
            lambda n: f"{n} infinite amount{'s' if n != 1 else ''}",
            "replace infinite amounts; they usually come from a division by zero upstream.",
        ),
        (
            "timestamp_null",
            "error",
            "timestamp",
            _null("timestamp", raw, mistyped),
            lambda n: f"{n} missing timestamp{'s' if n != 1 else ''}",
            "drop these rows or fill the time; undated lines cannot be placed before or after as_of.",
        ),
    ]
    if level == "all":
        checks += [
            (
                "zero_amount",
                "warning",
                "amount",
                amount == 0,
                lambda n: f"{n} zero amount{'s' if n != 1 else ''}",
                "zero lines are kept but add nothing to spend; drop them if they are not purchases "
                "(e.g. free samples).",
            ),
            (
                "negative_amount",
                "info",
                "amount",
                amount < 0,
                lambda n: f"{n} negative amount{'s' if n != 1 else ''} (returns or refunds)",
                "nothing to do: the returns policy decides (default 'net': refunds reduce spend).",
            ),
        ]
        if as_of is not None:
            checks.append(
                (
                    "after_as_of",
                    "warning",
                    "timestamp",
                    after_as_of(as_of),
                    _after_text(as_of),
                    "these lines are ignored by customer_features for this as_of; pass a later as_of "
                    "to include them.",
                ),
            )
    return checks


def after_as_of(as_of: AsOf) -> nw.Expr:
    if as_of.is_date:
        return nw.col("date") > nw.lit(as_of.date)
    cutoff = as_of.cutoff.replace(tzinfo=None) if as_of.cutoff.tzinfo else as_of.cutoff
    return nw.col("timestamp") > nw.lit(cutoff)


def _mixed_zones_check(n_offset: int, n_plain: int) -> Check:
    """``mixed_timezones``: the minority kind of value is what gets shown."""
    text = nw.col("__raw_timestamp")
    minority = has_offset(text) if n_offset <= n_plain else has_plain_time(text)
    return (
        "mixed_timezones",
        "error",
        "timestamp",
        minority,
        lambda n: (
            "timestamp mixes values with a UTC offset and values without one "
            f"({n_offset} with, {n_plain} without)"
        ),
        "make them consistent: add the offset to the plain values (or drop it everywhere), "
        "then set TransactionSchema(timezone=...) for the zone whose dates count.",
    )


def _count(
    lf: nw.LazyFrame[Any],
    checks: list[Check],
    ins: Inspector,
    tallies: Mapping[str, nw.Expr] | None = None,
) -> dict[str, int]:
    exprs = [nw.len().alias("__n_rows__")]
    exprs += [
        mask.fill_null(False).cast(nw.Int64).sum().alias(code) for code, _, _, mask, _, _ in checks
    ]
    exprs += [m.fill_null(False).cast(nw.Int64).sum().alias(k) for k, m in (tallies or {}).items()]
    try:
        row = lf.select(*exprs).pipe(collect_polars).to_native().row(0, named=True)
    except InvalidDataError:
        raise
    except Exception as exc:  # an engine's parser refusing a value that passed the pattern
        raise InvalidDataError(
            f"tx: the data could not be read ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
            "Fix: check timestamp text for impossible dates such as 2024-02-30, or cast columns "
            "to proper types in your engine first."
        ) from exc
    return {k: int(v or 0) for k, v in row.items()}


#: Columns that find a line again on engines without row labels, in order of preference.
_IDENTITY = ("customer_id", "order_id", "timestamp")


def _examples(
    lf: nw.LazyFrame[Any], mask: nw.Expr, role: str | None, engine: Engine, index: Any
) -> tuple[list[Any], list[Any], str]:
    """Row labels and values (eager engines), or values of the first identifying column that
    the offending rows have (lazy engines: customer id, else order id, else timestamp) — never
    a list of nulls. The third item says what ``examples`` holds."""
    names = lf.collect_schema().names()
    value_col = f"__raw_{role}" if role and f"__raw_{role}" in names else role
    if engine.has_row_labels:
        native = lf.to_native().with_row_index("__row__")
        rows_lf = nw.from_native(native).filter(mask.fill_null(False)).head(N_EXAMPLES)
        got = rows_lf.select("__row__", value_col or "customer_id").pipe(collect_polars).to_native()
        positions = got["__row__"].to_list()
        labels = [index[p] for p in positions] if index is not None else positions
        return labels, got[value_col or "customer_id"].to_list(), "value"
    schema = lf.collect_schema()
    for ident in _IDENTITY:
        if ident == role or ident not in names:
            continue
        col = nw.col(ident)
        findable = ~col.is_null()
        if schema[ident] == nw.String:
            findable = findable & (col.str.strip_chars() != "")
        got = (
            lf.filter(mask.fill_null(False) & findable)
            .select(col.cast(nw.String) if ident == "timestamp" else col)
            .unique()
            .sort(ident)
            .head(N_EXAMPLES)
            .pipe(collect_polars)
            .to_native()
        )
        if got.height:
            return [], [plain_value(v) for v in got[ident].to_list()], ident
    return [], [], "value"


def _frame_checks(
    ins: Inspector,
    lf: nw.LazyFrame[Any],
    tx: Any,
    engine: Engine,
    n_rows: int,
    roles: tuple[str, ...],
) -> None:
    if n_rows == 0:
        ins.add(
            "empty",
            "warning",
            None,
            0,
            "the table has no rows",
            "nothing to analyse: customer_features returns an empty table.",
        )
        return
    # exact duplicate lines, over every column of the caller's frame
    n_dup, dup_rows = _duplicates(tx, engine)
    if n_dup:
        ins.add(
            "duplicate_lines",
            "warning",
            None,
            n_dup,
            f"{_plural(n_dup, 'line')} exactly repeat{'s' if n_dup == 1 else ''} an earlier line",
            "if they are repeats of one line (a doubled export), pass duplicates='drop' (to "
            "clean_transactions, customer_features, btyd_summary, …); by default they are kept "
            "as separate lines (two equal items) with a warning; duplicates='keep' silences it.",
            rows=dup_rows,
        )
    # extreme amounts (documented fence on the log scale)
    fence = extreme_fence(lf)
    if fence is not None:
        mask = extreme_mask(fence)
        got = lf.select(mask.fill_null(False).cast(nw.Int64).sum().alias("n")).pipe(collect_polars)
        n_ext = int(got.item(0, "n") or 0)
        if n_ext:
            rows, examples, examples_of = _examples(
                lf, mask, "amount", engine, tx.index if engine.kind == "pandas" else None
            )
            ins.add(
                "extreme_amount",
                "warning",
                "amount",
                n_ext,
                f"{_plural(n_ext, 'amount')} beyond {fence_limit_text(fence)} (far outside the "
                "usual range on a log scale)",
                "check for data-entry errors (extra digits, cents as units); "
                "clean_transactions(anomalies='drop') removes them.",
                rows=rows,
                examples=examples,
                examples_of=examples_of,
            )
    if "order_id" in roles:
        per_order = _orders_spanning_customers(lf)
        got = per_order.select(nw.len().alias("n")).pipe(collect_polars)
        n_shared = int(got.item(0, "n") or 0)
        if n_shared:
            ex = per_order.select("order_id").head(N_EXAMPLES).pipe(collect_polars).to_native()
            ins.add(
                "order_spans_customers",
                "warning",
                "order_id",
                n_shared,
                f"{_plural(n_shared, 'order id')} belong{'s' if n_shared == 1 else ''} to more "
                "than one customer",
                "order ids are per customer in retailcrm (an occasion is a customer's order); "
                "check for reused ids or merge duplicate customer accounts.",
                examples=sorted(ex["order_id"].to_list(), key=str),
            )


def _orders_spanning_customers(lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """The order ids that more than one customer id has (column ``order_id``)."""
    lines = lf.filter(~nw.col("order_id").is_null())
    return keys_with_several_values(lines, key="order_id", value="customer_id")


def _duplicates(tx: Any, engine: Engine) -> tuple[int, list[Any]]:
    n, rows, _ = duplicate_lines(tx, engine)
    return n, rows


def duplicate_lines(
    tx: Any, engine: Engine, converted: Any = None, hashed: Sequence[str] | None = None
) -> tuple[int, list[Any], Any]:
    """Exact repeats of an earlier line, over every column of the caller's frame.

    Returns the number of repeats, up to five example row labels (pandas index labels, polars
    and pyarrow row positions; none for lazy engines) and, for eager frames, a numpy mask of
    the lines to keep (the first of each group of equal lines), else ``None``.

    Every engine hashes each line to one 64-bit number first; only lines whose hash another
    line shares are compared exactly, so a table without repeats costs one hash per line and
    one pass over the hashes, never a distinct over every column. Eager frames are hashed in
    polars (pandas through Arrow, which shares numeric buffers: measured on 10M lines, faster
    and with a lower peak inside ``btyd_summary`` than hashing the columns one at a time).
    ``converted`` (:func:`converted_once`) may hold only the columns a function reads: lines
    equal in every column are equal in those, so their hashes find the candidates, and only
    the candidates' lines are then compared in every column. ``hashed`` does the same for a
    polars or pyarrow frame: only those columns are hashed (on 10M lines, the columns
    ``btyd_summary`` reads in 0.04 s against 0.13 s for all nine).
    """
    import numpy as np

    if engine.kind == "pandas":
        conv = pandas_columns(tx) if converted is None else converted
        if conv.frame is None:  # cells Arrow cannot type fall back to pandas' own comparison
            dup = tx.duplicated(keep="first").to_numpy()
        elif conv.complete:
            dup = _frame_repeats(conv.frame)
        else:  # lines equal in every column are equal in these: candidates, then every column
            dup = _frame_repeats(conv.frame, lambda rows: _pandas_first_of_equal(tx, rows))
        return int(dup.sum()), list(tx.index[dup][:N_EXAMPLES]), ~dup
    frame = nw.from_native(tx)
    if isinstance(frame, nw.DataFrame):
        pl_df = frame.lazy(backend="polars").pipe(collect_polars).to_native()
        names = [c for c in dict.fromkeys(hashed or ()) if c in pl_df.columns]
        if names and len(names) < pl_df.width:
            dup = _frame_repeats(pl_df.select(names), lambda rows: _first_distinct(pl_df[rows]))
        else:
            dup = _frame_repeats(pl_df)
        return int(dup.sum()), np.flatnonzero(dup)[:N_EXAMPLES].tolist(), ~dup
    return _lazy_repeats(frame), [], None


@attrs.frozen
class ConvertedColumns:
    """Columns of a pandas frame in polars, converted once for the duplicate search and
    reused by validation. ``frame`` is ``None`` when Arrow cannot type one of them."""

    frame: Any
    #: position in the pandas frame -> position in ``frame``
    positions: Mapping[int, int]
    complete: bool  # every column of the pandas frame

    def series(self, native_position: int) -> Any:
        """The converted column at ``native_position`` of the pandas frame, or ``None``."""
        at = self.positions.get(native_position)
        return None if at is None or self.frame is None else self.frame.to_series(at)


def converted_once(
    tx: Any, *, name: str = "tx", columns: Sequence[str] | None = None
) -> ConvertedColumns | None:
    """For a pandas ``tx``: its ``columns`` (default: all) in polars (:func:`pandas_columns`),
    made once for the duplicate search and reused by validation; else ``None``."""
    if engine_of(tx, name=name).kind != "pandas":
        return None
    return pandas_columns(tx, columns)


def pandas_columns(tx: Any, columns: Sequence[str] | None = None) -> ConvertedColumns:
    """``columns`` of a pandas frame (default: every column; the names present, each at
    every position it has) as polars, through Arrow. Converting only the columns a function
    reads saves the copy of the others' text: on 10M lines, 0.2 s and 320 MiB for the
    category and channel columns that ``btyd_summary`` does not read."""
    wanted = None if columns is None else set(columns)
    picked = [
        i
        for i, c in enumerate(tx.columns)
        if wanted is None or (isinstance(c, str) and c in wanted)
    ]
    complete = len(picked) == tx.shape[1]
    if not picked:  # nothing to hash on: every column, so the search stays exact and cheap
        picked, complete = list(range(tx.shape[1])), True
    frame = polars_through_arrow(tx if complete else tx.iloc[:, picked])
    return ConvertedColumns(frame, {p: i for i, p in enumerate(picked)}, complete)


def _first_distinct(frame: Any) -> Any:
    """Numpy mask of the rows of a polars ``frame`` that are the first of their equal rows."""
    import polars as pl

    return frame.select(pl.struct(pl.all()).is_first_distinct()).to_series().to_numpy()


def _pandas_first_of_equal(tx: Any, rows: Any) -> Any:
    """For the pandas lines at positions ``rows`` (ascending): which is the first of its group
    of lines equal in every column (a numpy mask, in the order of ``rows``)."""
    import polars as pl
    import pyarrow as pa

    try:
        columns = [_arrow_take(tx.iloc[:, i], rows) for i in range(tx.shape[1])]
        lines = pl.from_arrow(pa.table(columns, names=[f"c{i}" for i in range(len(columns))]))
    except arrow_refusals():
        return ~tx.iloc[rows].duplicated(keep="first").to_numpy()
    assert isinstance(lines, pl.DataFrame)  # a Table gives a DataFrame
    return _first_distinct(lines)


def _arrow_take(series: Any, rows: Any) -> Any:
    """The values of a pandas ``series`` at positions ``rows`` (ascending) as an Arrow array.

    An Arrow-backed column is taken chunk by chunk: Arrow's take over a chunked text column
    first concatenates its chunks (measured: 225 MiB for 10M lines, for a few hundred rows).
    """
    import numpy as np
    import pyarrow as pa

    to_arrow = getattr(series.array, "__arrow_array__", None)
    if to_arrow is None:  # numpy-backed: pandas gathers, Arrow converts the few values
        return pa.array(series.iloc[rows], from_pandas=True)
    values = to_arrow()
    if isinstance(values, pa.Array):
        return values.take(pa.array(rows))
    starts = np.cumsum([0] + [len(c) for c in values.chunks])
    chunk_of = np.searchsorted(starts, rows, side="right") - 1
    return pa.chunked_array(
        [
            values.chunk(k).take(pa.array(rows[chunk_of == k] - starts[k]))
            for k in np.unique(chunk_of)
        ],
        type=values.type,
    )


def _frame_repeats(pl_df: Any, first_of_equal: Callable[[Any], Any] | None = None) -> Any:
    """Numpy mask of the rows of an eager polars frame that repeat an earlier row exactly.

    ``first_of_equal`` (see :func:`_repeats`) compares the candidate rows; by default, in
    every column of ``pl_df``. Another one makes ``pl_df`` the hashed columns only.
    """
    import numpy as np

    if pl_df.width == 0:
        return np.zeros(pl_df.height, dtype=bool)
    if first_of_equal is None:

        def first_of_equal(rows: Any) -> Any:
            return _first_distinct(pl_df[rows])

    return _repeats(pl_df.hash_rows(), first_of_equal)


#: Up to this many shared line hashes, numpy finds their lines (else polars' ``is_in``).
_FEW_SHARED = 16


def _repeats(hashes: Any, first_of_equal: Callable[[Any], Any]) -> Any:
    """Numpy mask of the lines that repeat an earlier line exactly.

    ``hashes`` is a polars ``Series`` of one hash per line; ``first_of_equal(rows)`` says, for
    the lines at ``rows`` (ascending positions, the candidates whose hash is shared), which is
    the first of its group of exactly equal lines.
    """
    import numpy as np

    n = len(hashes)
    dup = np.zeros(n, dtype=bool)
    if n < 2:
        return dup
    # polars' parallel sort finds the shared hash values (few); only lines with one of them
    # are candidates (numpy's single-threaded sort and a full is_duplicated took twice as long)
    ordered = hashes.sort()
    shared = ordered.filter(ordered == ordered.shift(1)).unique()
    if shared.len() == 0:
        return dup
    if shared.len() <= _FEW_SHARED:  # one vectorised comparison per value
        values = hashes.to_numpy()
        found = np.zeros(n, dtype=bool)
        for value in shared.to_numpy():
            found |= values == value
    else:  # polars' hash set: numpy's isin took 3.0 s for 823 shared values on 10M lines
        found = hashes.is_in(shared).to_numpy()
    candidates = np.flatnonzero(found)
    first = np.asarray(first_of_equal(candidates), dtype=bool)
    dup[candidates[~first]] = True
    return dup


#: Up to this many shared line hashes, the lines behind them are found with a filter on the
#: values (measured on 10M lines with polars: half the time and memory of a semi-join).
_LITERAL_HASHES = 10_000


def _lazy_repeats(frame: nw.LazyFrame[Any]) -> int:
    """The number of exact repeats in a lazy frame, counted in its engine.

    First the hash values that more than one line has (none, in a clean table: then that is
    the whole cost; see ``_engine.shared_values``). Only the lines with one of those hashes
    are then compared exactly: their number minus their number of distinct lines.
    """
    names = frame.collect_schema().names()
    key = unique_name("__line_hash__", names)
    hashed = with_row_hash(frame, names, key)
    if hashed is None:
        n_all = frame.select(nw.len().alias("n")).pipe(collect_polars).item(0, "n")
        n_unique = frame.unique().select(nw.len().alias("n")).pipe(collect_polars).item(0, "n")
        return int(n_all - n_unique)
    shared_plan = shared_values(hashed, key)
    shared = shared_plan.pipe(collect_polars)
    if len(shared) == 0:
        return 0
    if len(shared) <= _LITERAL_HASHES:  # a few shared hashes: a filter, no join to build
        candidates = hashed.filter(nw.col(key).is_in(shared.get_column(key).to_list()))
    else:
        candidates = hashed.join(shared_plan, on=key, how="semi")
    n = unique_name("__n__", names)
    per_line = candidates.drop(key).group_by(*names).agg(nw.len().alias(n))
    got = per_line.select(nw.col(n).sum().alias("lines"), nw.len().alias("distinct"))
    row = got.pipe(collect_polars).row(0)
    return int((row[0] or 0) - row[1])


Duplicates = Literal["keep", "drop"]
_DUPLICATES: tuple[Duplicates, ...] = ("keep", "drop")


def check_duplicates(duplicates: Any, *, owner: str) -> Duplicates | None:
    """The duplicate-lines policy, checked with the one parameter message."""
    if duplicates is None:
        return None
    return check_choice(
        duplicates,
        _DUPLICATES,
        name="duplicates",
        owner=owner,
        fix="'keep' (equal lines are separate items), 'drop' (equal lines are repeats of one "
        "export line) or None (keep them and warn).",
    )


def apply_duplicates_policy(
    tx: Any,
    duplicates: Duplicates | None,
    *,
    name: str = "tx",
    owner: str = "retailcrm",
    converted: Any = None,
    hashed: Sequence[str] | None = None,
) -> Any:
    """The one duplicate-lines policy of every function that reads transactions.

    ``"keep"``: repeats are separate lines (two equal items), not even looked for. ``"drop"``:
    keep the first of each group of lines equal in every column. ``None`` (the default): keep
    them, and warn (:class:`~retailcrm.exceptions.DataQualityWarning`) when there are any.
    Returns the caller's frame, filtered when repeats are dropped (pandas keeps its labels).
    """
    check_duplicates(duplicates, owner=owner)
    if duplicates == "keep":
        return tx
    engine = engine_of(tx, name=name)
    n, rows, keep = duplicate_lines(tx, engine, converted, hashed)
    if not n:
        return tx
    if duplicates is None:
        where = f" (rows {rows}{' …' if n > len(rows) else ''})" if rows else ""
        warn_user(
            DataQualityWarning(
                f"{name}: {_plural(n, 'line')} exactly repeat{'s' if n == 1 else ''} an earlier "
                f"line{where}; kept and counted as separate lines, the default. Fix: pass "
                "duplicates='drop' to drop repeats (e.g. a doubled export), or duplicates='keep' "
                "to keep them without this warning."
            )
        )
        return tx
    if keep is None:
        return nw.from_native(tx).unique(keep="any").to_native()
    if engine.kind == "pandas":
        return tx.loc[keep]
    if engine.kind == "pyarrow":
        import pyarrow as pa

        return tx.filter(pa.array(keep))
    import polars as pl

    return tx.filter(pl.Series(keep))


def warn_user(warning: Warning) -> None:
    """Warn, pointing at the first caller outside retailcrm (its own line, not ours)."""
    import os
    import sys
    import warnings

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is warn_user's caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        level += 1
        frame = frame.f_back  # type: ignore[assignment]
    warnings.warn(warning, stacklevel=level)


def extreme_fence(lf: nw.LazyFrame[Any]) -> tuple[float, float] | None:
    """``(upper, lower)`` amount limits of the extreme-amount rule, or ``None`` (too few rows).

    Positive amounts above ``upper`` and refunds below ``lower`` (a negative number) are extreme.
    The fence is ``exp(Q3 + EXTREME_FENCE * IQR)`` of ``log(amount)`` over positive amounts,
    with quartiles interpolated linearly; it needs at least 20 positive amounts.
    """
    logs = nw.when(nw.col("amount") > 0).then(nw.col("amount")).otherwise(None).log()
    stats = (
        lf.select(
            logs.quantile(0.25, "linear").alias("q1"),
            logs.quantile(0.75, "linear").alias("q3"),
            (nw.col("amount") > 0).cast(nw.Int64).sum().alias("n"),
        )
        .pipe(collect_polars)
        .to_native()
        .row(0, named=True)
    )
    if not stats["n"] or stats["n"] < 20 or stats["q1"] is None:
        return None
    import math

    upper = math.exp(stats["q3"] + EXTREME_FENCE * (stats["q3"] - stats["q1"]))
    return upper, -upper


def extreme_mask(fence: tuple[float, float]) -> nw.Expr:
    upper, lower = fence
    return (nw.col("amount") > upper) | (nw.col("amount") < lower)


def fence_limit_text(fence: tuple[float, float]) -> str:
    """Human text for the fence."""
    return f"±{fence[0]:,.2f}"


def prepare_transactions(
    tx: Any,
    *,
    schema: TransactionSchema | None = None,
    as_of: Any = None,
    name: str = "tx",
    duplicates: Duplicates | None = None,
    reads: Sequence[str] | None = None,
) -> PreparedTransactions:
    """Validate ``tx`` (error-level checks), normalise it and keep rows at or before ``as_of``.

    ``duplicates`` is the duplicate-lines policy (:func:`apply_duplicates_policy`).
    ``reads`` (default: every role) names the optional roles the caller reads: the others
    are left unmapped (:func:`reading_only`) — neither validated nor carried — while the
    duplicate search still compares every column. The frame
    gets ``amount_minor`` (and ``discount_minor``): amounts in whole minor units of
    ``schema.currency_decimals`` (Int64), which every sum of money uses, so that totals are
    exact and bit-identical across runs, row orders and engines; ``amount`` is rounded to match.

    Raises
    ------
    MissingColumnsError
        A required column (or a mapped optional one) is absent.
    InvalidDataError
        An error-level problem was found; the message lists all of them.
    ConfigError
        ``as_of`` is unparseable, or time-zone-aware while the timestamps are naive.
    """
    if as_of is not None:
        parse_as_of(as_of)  # a bad as_of is the first thing to say
    if reads is not None:
        schema = reading_only(schema, reads, columns_of(tx, name=name))
    if duplicates == "drop":
        tx = apply_duplicates_policy(tx, duplicates, name=name)
    elif duplicates is not None and duplicates != "keep":
        apply_duplicates_policy(tx, duplicates, name=name)  # raises the ConfigError
    # pandas under the default policy: the mapped columns go to polars once, for the duplicate
    # search (which compares its few candidates in every column) and for validation
    mapped = _mapped_columns(schema)
    converted = converted_once(tx, name=name, columns=mapped) if duplicates is None else None
    prepared, report = inspect_transactions(
        tx, schema=schema, as_of=as_of, level="errors", name=name, converted=converted
    )
    report.raise_for_errors()
    assert prepared is not None
    if duplicates is None:  # warn about valid data only: errors come first
        apply_duplicates_policy(tx, None, name=name, converted=converted, hashed=mapped)
    del converted  # the prepared frame keeps the columns it uses
    prepared = attrs.evolve(prepared, frame=_with_minor_units(prepared), as_of=None)
    return prepared if as_of is None else prepared.until(as_of)


def _mapped_columns(schema: TransactionSchema | None) -> list[str] | None:
    """The columns ``schema`` maps (what validation reads), or ``None``: every column."""
    if schema is None:
        schema = TransactionSchema()
    elif not isinstance(schema, TransactionSchema):
        return None
    return [c for c in schema.roles.values() if c is not None]


def reading_only(
    schema: TransactionSchema | None, reads: Sequence[str], columns: Sequence[str]
) -> TransactionSchema | None:
    """``schema`` with the optional roles outside ``reads`` unmapped, where that changes
    nothing but the work: a role whose column is present is dropped (a function that does not
    read a column neither validates it nor keeps it in memory: on 10M lines the channel and
    category text of a pandas frame is 300 MiB); an explicitly mapped role whose column is
    missing stays, so that the same schema fails the same way in every function. ``refund``
    always stays: it decides the sign of ``amount``."""
    if schema is None:
        schema = TransactionSchema()
    elif not isinstance(schema, TransactionSchema):
        return schema  # inspect_transactions says what is wrong with it
    present = set(columns)
    unread: dict[str, Any] = {
        role: None
        for role in schema.optional_roles
        if role not in reads and role != "refund" and schema.roles.get(role) in present
    }
    return attrs.evolve(schema, **unread) if unread else schema


def minor_units(expr: nw.Expr, decimals: int) -> nw.Expr:
    """Whole minor units (Int64) of a money amount: rounded half away from zero."""
    scaled = expr.abs() * float(10**decimals) + 0.5
    units = scaled.floor().cast(nw.Int64)
    return nw.when(expr < 0).then(-units).otherwise(units)


def _with_minor_units(prepared: PreparedTransactions) -> nw.LazyFrame[Any]:
    decimals = prepared.schema.currency_decimals
    scale = float(10**decimals)
    exprs = [minor_units(nw.col("amount"), decimals).alias("amount_minor")]
    if prepared.has("discount"):
        exprs.append(minor_units(nw.col("discount"), decimals).alias("discount_minor"))
    frame = prepared.frame.with_columns(*exprs)
    rounded = [exact_quotient(nw.col("amount_minor"), scale).alias("amount")]
    if prepared.has("discount"):
        rounded.append(exact_quotient(nw.col("discount_minor"), scale).alias("discount"))
    return frame.with_columns(*rounded)


def _as_of_in_zone(as_of: AsOf, schema: TransactionSchema) -> AsOf:
    """An aware ``as_of`` is an instant: shown in ``schema.timezone`` like the data, or refused."""
    if not as_of.is_aware:
        return as_of
    zone = schema.timezone
    if zone:
        import zoneinfo

        local = as_of.cutoff.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
        return AsOf(date=local.date(), cutoff=local, is_date=False)
    raise ConfigError(
        f"as_of={as_of.cutoff.isoformat()} carries a time zone, but the schema names none, so "
        "retailcrm cannot tell which calendar it belongs to (times are compared as wall-clock "
        "times). Fix: pass a naive datetime or a date in the zone whose calendar counts, e.g. "
        f"as_of='{as_of.cutoff.replace(tzinfo=None).isoformat()}', or set "
        "TransactionSchema(timezone=...)."
    )
