"""Side tables — customers, campaign responses, surveys, marketing spend and behaviour events.

Each table is checked like the transactions (:mod:`retailcrm.data._prepare`): one
:class:`~retailcrm.data.ValidationReport` listing every problem at once, codes of the form
``<role>_<problem>`` (``customer_id_null``, ``registered_at_unparseable``,
``score_out_of_range``, …), up to five example row labels (pandas index labels, polars and
pyarrow row positions) and, on lazy engines (polars lazy, DuckDB, Spark), example values of a
column that identifies the rows: the customer id, or — where the id itself is the problem —
the time or another column of the row (``Problem.examples_of`` names it).

Times are read by the one time rule (:func:`retailcrm._clock.wall_clock`): naive values and
ISO text without an offset as written, instants in the schema's ``timezone`` (or their own
offset or zone). Blank text (``""``, spaces) in a date, number or label column counts as
missing; a blank customer id is an error like a null one.

``prepare_<table>`` raises on errors (:class:`~retailcrm.exceptions.MissingColumnsError`,
:class:`~retailcrm.exceptions.InvalidDataError` listing every error) and returns the canonical
LazyFrame: one column per mapped role, named after the role and typed:

=============  ==============================================================================
customers      ``customer_id``, ``registered_at``, ``birthday`` (Date or naive Datetime), and
               every other column of the frame, unchanged (attributes)
responses      ``customer_id``, ``contacted_at`` (Date or naive Datetime), ``responded``
               (Boolean; null counts as no response)
surveys        ``customer_id``, ``answered_at``, ``score`` (Int64), ``channel``, ``touchpoint``
spend          ``channel``, ``amount`` (Float64), ``start`` and ``end`` (Date: the first and
               last day of the row's month, or its day)
events         ``customer_id``, ``timestamp``, ``event_type`` (one of
               :data:`~retailcrm.data.EVENT_TYPES`; events mapped to ``None`` are dropped),
               ``product_id``, ``category``
=============  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._clock import (
    ISO_RE,
    has_offset,
    has_plain_time,
    is_iso_text,
    wall_clock,
)
from retailcrm._engine import (
    Engine,
    collect_polars,
    columns_of,
    engine_of,
    missing_columns_error,
    pandas_to_polars,
)
from retailcrm.data._report import Problem, ValidationReport, plain_value
from retailcrm.data._schema import (
    EVENT_TYPES,
    CustomerSchema,
    EventSchema,
    ResponseSchema,
    SpendSchema,
    SurveySchema,
    TransactionSchema,
)
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError

__all__ = [
    "TABLES",
    "prepare_customers",
    "prepare_events",
    "prepare_responses",
    "prepare_spend",
    "prepare_surveys",
    "same_engine_frame",
    "validate",
    "validate_customers",
    "validate_events",
    "validate_responses",
    "validate_spend",
    "validate_surveys",
]

Severity = Literal["error", "warning", "info"]
Level = Literal["errors", "all"]
N_EXAMPLES = 5
_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH_PREFIX_RE = r"^\d{4}-(0[1-9]|1[0-2])-"
_LOCAL = ("pandas", "polars", "polars-lazy", "pyarrow")


@attrs.frozen(kw_only=True)
class _Spec:
    """What one side table holds: which roles are ids, times, labels and numbers."""

    table: str
    schema_type: type
    ids: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    #: roles that identify a row on lazy engines, most useful first
    identity: tuple[str, ...] = ()
    #: other columns are passed through (customer attributes)
    keep_others: bool = False


_SPECS = {
    "customers": _Spec(
        table="customers",
        schema_type=CustomerSchema,
        ids=("customer_id",),
        times=("registered_at", "birthday"),
        identity=("customer_id", "registered_at", "birthday"),
        keep_others=True,
    ),
    "responses": _Spec(
        table="responses",
        schema_type=ResponseSchema,
        ids=("customer_id",),
        times=("contacted_at",),
        identity=("customer_id", "contacted_at"),
    ),
    "surveys": _Spec(
        table="surveys",
        schema_type=SurveySchema,
        ids=("customer_id",),
        times=("answered_at",),
        labels=("channel", "touchpoint"),
        numbers=("score",),
        identity=("customer_id", "answered_at"),
    ),
    "spend": _Spec(
        table="spend",
        schema_type=SpendSchema,
        times=("date",),
        labels=("channel",),
        numbers=("amount",),
        identity=("channel", "period", "date"),
    ),
    "events": _Spec(
        table="events",
        schema_type=EventSchema,
        ids=("customer_id", "product_id"),
        times=("timestamp",),
        labels=("category",),
        identity=("customer_id", "timestamp", "product_id"),
    ),
}
#: The side tables, by the name used in messages.
TABLES = tuple(_SPECS)


@attrs.frozen(eq=False)
class _Check:
    """A row-level check: rows where ``mask`` is true have the problem."""

    code: str
    severity: Severity
    role: str | None
    mask: nw.Expr
    message: Callable[[int], str]
    fix: str
    #: list the distinct values of this column (up to five) in the message
    distinct: str | None = None


@attrs.define
class _Run:
    """The state of one inspection: the table, its engine, what was found so far."""

    spec: _Spec
    schema: Any
    engine: Engine
    level: Level
    roles: dict[str, str]
    prefix: str
    problems: list[Problem] = attrs.Factory(list)
    checks: list[_Check] = attrs.Factory(list)
    tallies: dict[str, nw.Expr] = attrs.Factory(dict)
    #: roles with a copy of the caller's raw values (text that had to be read)
    raw: set[str] = attrs.Factory(set)
    #: roles already reported as wrong for the whole column (no row checks)
    broken: set[str] = attrs.Factory(set)

    def raw_name(self, role: str) -> str:
        return f"{self.prefix}_raw_{role}"

    def value(self, role: str) -> str:
        """The column showing a role's values as the caller wrote them."""
        return self.raw_name(role) if role in self.raw else role

    @property
    def all_checks(self) -> bool:
        return self.level == "all"

    def add(
        self,
        code: str,
        severity: Severity,
        role: str | None,
        count: int,
        message: str,
        fix: str,
        rows: Sequence[Any] = (),
        examples: Sequence[Any] = (),
        examples_of: str = "value",
    ) -> None:
        self.problems.append(
            Problem(
                code=code,
                severity=severity,
                column=self.roles.get(role) if role else None,
                count=int(count),
                message=message,
                fix=fix,
                rows=rows,
                examples=examples,
                examples_of=examples_of,
            )
        )

    def check(
        self,
        code: str,
        severity: Severity,
        role: str | None,
        mask: nw.Expr,
        message: Callable[[int], str],
        fix: str,
        distinct: str | None = None,
    ) -> None:
        if severity == "error" or self.all_checks:
            self.checks.append(_Check(code, severity, role, mask, message, fix, distinct))


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


# ---------------------------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------------------------


def same_engine_frame(native: Any, engine: Engine, name: str) -> nw.LazyFrame[Any]:
    """A side table as a LazyFrame that can be joined with data of ``engine``.

    pandas, polars and pyarrow frames mix freely (they are computed in polars); DuckDB and
    Spark side tables must be of the same engine as the transactions.
    """
    theirs = engine_of(native, name=name)
    frame = nw.from_native(native)
    if theirs.kind in _LOCAL and engine.kind in _LOCAL:
        if theirs.kind == "pandas":
            return pandas_to_polars(native)
        return frame.lazy(backend="polars") if isinstance(frame, nw.DataFrame) else frame
    if theirs.kind == engine.kind:
        return frame
    raise ConfigError(
        f"{name} is a {theirs.kind} frame but the transactions are {engine.kind}. "
        f"Fix: pass {name} in the same engine (and, for DuckDB, the same connection) as tx."
    )


def _check_engine(theirs: Engine, engine: Engine | None, name: str) -> None:
    if engine is None or theirs.kind == engine.kind:
        return
    if theirs.kind in _LOCAL and engine.kind in _LOCAL:
        return
    raise ConfigError(
        f"{name} is a {theirs.kind} frame but the transactions are {engine.kind}. "
        f"Fix: pass {name} in the same engine (and, for DuckDB, the same connection) as tx."
    )


# ---------------------------------------------------------------------------------------------
# roles and missing columns
# ---------------------------------------------------------------------------------------------


def _check_schema(schema: Any, spec: _Spec) -> Any:
    if schema is None:
        return spec.schema_type()
    if not isinstance(schema, spec.schema_type):
        name = spec.schema_type.__name__
        raise ConfigError(
            f"the schema of {spec.table} must be a {name}, got {type(schema).__name__}. "
            f"Fix: schema={name}(...) with your column names."
        )
    return schema


def _resolve(
    schema: Any, columns: list[str], spec: _Spec
) -> tuple[dict[str, str], Problem | None, MissingColumnsError | None]:
    """The roles to read (role -> column) and, if columns are missing, the problem."""
    explicit = schema.explicit_roles
    roles = {
        r: c
        for r, c in schema.roles.items()
        if r in schema.required_roles or c in columns or r in explicit
    }
    fix: str | None = None
    if isinstance(schema, SpendSchema):
        present = [r for r in ("period", "date") if r in roles and roles[r] in columns]
        if len(present) == 2:
            chosen = [r for r in present if r in explicit]
            if len(chosen) == 1:
                roles.pop("date" if chosen == ["period"] else "period")
            else:
                text = (
                    f"spend has both a period column {roles['period']!r} and a date column "
                    f"{roles['date']!r}"
                )
                fix_text = (
                    "say which one places the spend in time: SpendSchema(date=None) for the "
                    "month, or SpendSchema(period=None) for the day."
                )
                return roles, _problem("period_and_date", text, fix_text), None
        elif not present and not {"period", "date"} & set(roles):
            roles |= {r: c for r, c in schema.roles.items() if r in ("period", "date")}
            fix = (
                "the table needs a month or a day for each row: map a month column "
                "(text such as '2024-03', or dates) with SpendSchema(period=...), or a day "
                "column with SpendSchema(date=...)."
            )
    missing = [c for c in roles.values() if c not in columns]
    if not missing:
        return roles, None, None
    if fix is None:
        err = missing_columns_error(
            {r: c for r, c in roles.items() if c in missing},
            columns,
            table=spec.table,
            schema=spec.schema_type.__name__,
        )
        fix = err.message.split("Fix: ")[-1]
    else:
        err = MissingColumnsError(missing, available=columns, role=spec.table, fix=fix)
    problem = Problem(
        code="missing_columns",
        severity="error",
        column=", ".join(missing),
        count=len(missing),
        message=str(err).split(". Fix:")[0],
        fix=fix,
    )
    return roles, problem, err


def _problem(code: str, message: str, fix: str) -> Problem:
    return Problem(code=code, severity="error", column=None, count=1, message=message, fix=fix)


# ---------------------------------------------------------------------------------------------
# loading: pandas pre-pass (object columns, zones, periods), then narwhals
# ---------------------------------------------------------------------------------------------


def _load(run: _Run, native: Any, columns: list[str]) -> tuple[nw.LazyFrame[Any], Any]:
    """The caller's frame with role columns renamed to their roles (and, for customers, the
    other columns) as a LazyFrame; pandas inputs also give their index."""
    roles = run.roles
    others = [c for c in columns if c not in set(roles.values())] if run.spec.keep_others else []
    clash = sorted(set(others) & set(roles))
    if clash:
        raise ConfigError(
            f"{run.spec.table}: column(s) {clash} have a role's name but are not mapped to that "
            f"role (the schema maps {', '.join(f'{r}={roles[r]!r}' for r in clash)}). "
            "Fix: rename or drop them first."
        )
    if run.engine.kind == "pandas":
        import pandas as pd

        index = native.index
        out: dict[str, Any] = {}
        for role, col in roles.items():
            series = native[col]
            if isinstance(series, pd.DataFrame):
                raise InvalidDataError(
                    f"{run.spec.table}: column {col!r} appears more than once. "
                    "Fix: give each column a unique name."
                )
            out[role] = _pd_role(run, role, series, index).reset_index(drop=True)
        for col in others:
            out[col] = native[col].reset_index(drop=True)
        return pandas_to_polars(pd.DataFrame(out, copy=False)), index
    frame = nw.from_native(native)
    lf = frame.lazy(backend="polars") if isinstance(frame, nw.DataFrame) else frame
    return lf.select(*(nw.col(c).alias(r) for r, c in roles.items()), *others), None


def _pd_rows(index: Any, mask: Any) -> list[Any]:
    return list(index[mask.to_numpy(dtype=bool, na_value=False)][:N_EXAMPLES])


def _pd_role(run: _Run, role: str, series: Any, index: Any) -> Any:
    from pandas.api import types as pdt

    if role in run.spec.times or role == "period":
        return _pd_time(run, role, series, index)
    if role in run.spec.numbers and pdt.is_object_dtype(series.dtype):
        return series.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore").astype(
            "string"
        )
    if role in (*run.spec.ids, *run.spec.labels, "event_type"):
        return _pd_labels(run, role, series, index)
    return series


def _pd_time(run: _Run, role: str, series: Any, index: Any) -> Any:
    """Datetime columns are localised here (pandas keeps each column's zone, fixed offsets
    included); date, datetime and Period objects become ISO text read by the shared rule."""
    import datetime as _dt

    import pandas as pd
    from pandas.api import types as pdt

    dtype = series.dtype
    if pdt.is_datetime64_any_dtype(dtype):
        arrow_tz = getattr(getattr(dtype, "pyarrow_dtype", None), "tz", None)
        if getattr(dtype, "tz", None) is not None or arrow_tz is not None:
            zone = getattr(run.schema, "timezone", None)
            if zone:
                series = series.dt.tz_convert(zone)
            series = series.dt.tz_localize(None)
        return series
    if isinstance(dtype, pd.PeriodDtype):
        if role == "period" and str(dtype) == "period[M]":
            return series.dt.strftime("%Y-%m").astype("string")
        run.add(
            f"{role}_not_monthly",
            "error",
            role,
            len(series),
            f"{role} holds pandas periods of another frequency than months ({dtype})",
            "give monthly periods (spread quarterly or yearly totals over their months "
            "yourself), or map the day of each row with SpendSchema(date=...).",
        )
        run.broken.add(role)
        return pd.Series([None] * len(series), dtype="string", index=series.index)
    if pdt.is_object_dtype(dtype):
        nonnull = series.dropna()
        if len(nonnull) and all(
            isinstance(v, _dt.date) and not isinstance(v, _dt.datetime) for v in nonnull
        ):
            return series  # date objects: a date column, as Arrow reads them

        def iso(v: Any) -> Any:
            if isinstance(v, _dt.datetime):
                return v.isoformat(sep=" ")
            if isinstance(v, _dt.date):
                return v.isoformat()
            if isinstance(v, pd.Period):
                return v.strftime("%Y-%m") if v.freqstr.startswith("M") else str(v)
            return v if isinstance(v, str) else str(v)

        return series.map(iso, na_action="ignore").astype("string")
    return series


def _pd_labels(run: _Run, role: str, series: Any, index: Any) -> Any:
    """Object columns of ids and labels: one kind of value, or ``<role>_mixed_types``."""
    import pandas as pd
    from pandas.api import types as pdt

    if not pdt.is_object_dtype(series.dtype):
        return series
    nonnull = series.dropna()

    def kind(v: Any) -> str:
        if isinstance(v, str):
            return "text"
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int | float) or hasattr(v, "dtype"):
            return "number"
        return type(v).__name__

    kinds = nonnull.map(kind)
    counts = kinds.value_counts()
    if len(counts) > 1:
        main = counts.index[0]
        odd = (kinds != main).to_numpy()
        labels = nonnull.index[odd]
        run.add(
            f"{role}_mixed_types",
            "error",
            role,
            int(odd.sum()),
            f"{role} mixes kinds of values ({', '.join(f'{n} {k}' for k, n in counts.items())}),"
            " so 1 and '1' would be two different keys",
            "convert the column to one type, e.g. df[col].astype(str).",
            rows=list(labels[:N_EXAMPLES]),
            examples=list(series.loc[labels[:N_EXAMPLES]]),
        )
        return series.map(str, na_action="ignore").astype("string")
    if len(counts) == 1 and counts.index[0] == "number":
        return pd.to_numeric(series)
    return series.map(str, na_action="ignore").astype("string")


# ---------------------------------------------------------------------------------------------
# narwhals: types, then row checks
# ---------------------------------------------------------------------------------------------


def _blank(expr: nw.Expr) -> nw.Expr:
    return expr.str.strip_chars() == ""


def _normalise(run: _Run, lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    dtypes = lf.collect_schema()
    exprs: list[nw.Expr] = []
    raw: list[nw.Expr] = []
    for role in run.roles:
        dtype = dtypes[role]
        c = nw.col(role)
        if role in run.broken:
            exprs.append(nw.lit(None, nw.Date).alias(role))
            continue
        if dtype in (nw.Categorical, nw.Enum) or isinstance(dtype, nw.Enum):
            c, dtype = c.cast(nw.String), nw.String()
        if role in run.spec.ids:
            exprs.append(_id_role(run, role, c, dtype))
        elif role in run.spec.times or role == "period":
            exprs.append(_time_role(run, role, c, dtype))
        elif role in run.spec.numbers:
            exprs.append(_number_role(run, role, c, dtype))
        elif role == "responded":
            exprs.append(_responded(run, c, dtype))
        elif role == "event_type":
            exprs.append(_event_type(run, c, dtype))
        else:  # labels
            exprs.append(_label_role(run, role, c, dtype))
        if role in run.raw:  # the handler reads the caller's values in its checks
            raw.append(c.alias(run.raw_name(role)))
    others = [n for n in dtypes.names() if n not in run.roles]
    return lf.select(*exprs, *raw, *others)


def _wrong_type(run: _Run, code: str, role: str, message: str, fix: str) -> None:
    """A column of the wrong type: an error for each of its non-null values (a column of
    nulls, e.g. an empty table's, has none)."""
    run.raw.add(role)
    run.check(code, "error", role, ~nw.col(run.raw_name(role)).is_null(), lambda n: message, fix)


def _id_role(run: _Run, role: str, c: nw.Expr, dtype: Any) -> nw.Expr:
    if role != "customer_id":  # optional ids: blank text is missing
        return (nw.when(~_blank(c)).then(c) if dtype == nw.String else c).alias(role)
    what = f"every {_ROW_NOUN[run.spec.table]} must belong to a customer"
    run.check(
        "customer_id_null",
        "error",
        role,
        nw.col(role).is_null(),
        lambda n: f"{n} null customer id{'s' if n != 1 else ''}",
        f"drop these rows or fill the id; {what}.",
    )
    if dtype == nw.String:
        run.check(
            "customer_id_blank",
            "error",
            role,
            _blank(nw.col(role)),
            lambda n: f"{n} blank customer id{'s' if n != 1 else ''} ('' or only spaces)",
            f"drop these rows or fill the id; {what} (a blank id would lump strangers together).",
        )
    return c.alias(role)


_ROW_NOUN = {
    "customers": "profile",
    "responses": "contact",
    "surveys": "answer",
    "spend": "row",
    "events": "event",
}


def _time_role(run: _Run, role: str, c: nw.Expr, dtype: Any) -> nw.Expr:
    """Time roles (and the spend period) before the clock reads them."""
    required = role in run.schema.required_roles or role in ("date", "period")
    if dtype == nw.Date or isinstance(dtype, nw.Datetime):
        out = c
    elif dtype == nw.String:
        run.raw.add(role)
        raw = nw.col(run.raw_name(role))
        run.check(
            f"{role}_unparseable",
            "error",
            role,
            ~raw.is_null() & ~_blank(raw) & (~_readable(raw, role) | nw.col(role).is_null()),
            lambda n: (
                f"{_plural(n, 'value')} in {role} cannot be read as "
                f"{'a month' if role == 'period' else 'an ISO date or time'}"
            ),
            _PERIOD_FIX if role == "period" else _TIME_FIX,
        )
        # unreadable text (impossible dates such as 2024-02-30 too) is null before the clock
        out = nw.when(~_blank(c) & _readable(c, role)).then(c)
        run.tallies[f"{role}:offset"] = has_offset(raw)
        run.tallies[f"{role}:plain"] = has_plain_time(raw)
    else:
        _wrong_type(
            run,
            f"{role}_not_datetime",
            role,
            f"{role} is of type {dtype}, not a date or datetime",
            _PERIOD_FIX
            if role == "period"
            else "convert it to a datetime column or ISO text ('2024-01-31'); for epoch "
            "seconds: pd.to_datetime(df[col], unit='s').",
        )
        return nw.lit(None, nw.Datetime("us")).alias(role)
    if required:
        raw_missing = (
            nw.col(run.raw_name(role)).is_null() | _blank(nw.col(run.raw_name(role)))
            if role in run.raw
            else nw.lit(value=True)
        )
        run.check(
            f"{role}_null",
            "error",
            role,
            nw.col(role).is_null() & raw_missing,
            lambda n: f"{_plural(n, _ROW_NOUN[run.spec.table])} without {role}",
            f"drop these rows or fill {role}; an undated {_ROW_NOUN[run.spec.table]} cannot "
            "be placed before or after as_of.",
        )
    return out.alias(role)


_TIME_FIX = (
    "use ISO 8601 text ('2024-01-31', '2024-01-31 14:05:00' or '2024-01-31T14:05:00+08:00') "
    "or a date or datetime column; parse other formats yourself, e.g. "
    "pd.to_datetime(df[col], format='%d/%m/%Y')."
)
_PERIOD_FIX = (
    "write each month as text 'YYYY-MM' (e.g. '2024-03'), or give a date column (its month "
    "counts), or map the day of each row with SpendSchema(date=...)."
)


def _days_in_month(y: nw.Expr, m: nw.Expr) -> nw.Expr:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return (
        nw.when(m == 2)
        .then(nw.when(leap).then(nw.lit(29)).otherwise(nw.lit(28)))
        .when(m.is_in([4, 6, 9, 11]))
        .then(nw.lit(30))
        .otherwise(nw.lit(31))
    )


def _number(text: nw.Expr, ok: nw.Expr, start: int, length: int) -> nw.Expr:
    """Digits ``text[start:start+length]`` as Int64 where ``ok`` (no cast of other text)."""
    return nw.when(ok).then(text.str.slice(start, length)).otherwise(nw.lit("1")).cast(nw.Int64)


def _readable(expr: nw.Expr, role: str) -> nw.Expr:
    """ISO text naming a real day and time (a month for the spend period): the pattern, and
    months 1–12, days within their month, hours up to 23, minutes and seconds up to 59."""
    text = expr.str.strip_chars()
    iso = text.str.contains(ISO_RE)
    if role == "period":
        month_only = text.str.contains(_MONTH_RE)
        iso = iso & text.str.contains(_MONTH_PREFIX_RE)
    y, m, d = _number(text, iso, 0, 4), _number(text, iso, 5, 2), _number(text, iso, 8, 2)
    timed = iso & (text.str.len_chars() > 10)
    seconds = timed & (text.str.slice(16, 1) == ":")
    hh, mi, ss = (
        _number(text, timed, 11, 2),
        _number(text, timed, 14, 2),
        _number(text, seconds, 17, 2),
    )
    ok = (
        iso
        & (m >= 1)
        & (m <= 12)
        & (d >= 1)
        & (d <= _days_in_month(y, m))
        & (hh <= 23)
        & (mi <= 59)
        & (ss <= 59)
    )
    return (month_only | ok) if role == "period" else ok


def _number_role(run: _Run, role: str, c: nw.Expr, dtype: Any) -> nw.Expr:
    table = run.spec.table
    if dtype == nw.Boolean or not (dtype.is_numeric() or dtype == nw.String):
        kind = "boolean" if dtype == nw.Boolean else f"of type {dtype}"
        _wrong_type(
            run,
            f"{role}_not_numeric",
            role,
            f"{role} is {kind}, not a number",
            f"map {run.spec.schema_type.__name__}({role}=...) to a numeric column.",
        )
        return nw.lit(None, nw.Float64).alias(role)
    if dtype == nw.String:
        run.raw.add(role)
        raw = nw.col(run.raw_name(role))
        run.check(
            f"{role}_not_numeric",
            "error",
            role,
            ~raw.is_null() & ~_blank(raw) & ~raw.str.contains(_NUMBER_RE),
            lambda n: f"{_plural(n, 'value')} in {role} {_are(n)} not a number",
            f"convert {role} to numbers: drop currency symbols and thousands separators and "
            "use '.' for decimals.",
        )
        value = (
            nw.when(c.str.contains(_NUMBER_RE))
            .then(c.str.strip_chars())
            .otherwise(nw.lit(None, nw.String))
            .cast(nw.Float64)
        )
    else:
        value = c.cast(nw.Float64)
    v = nw.col(role)
    raw_missing = (
        nw.col(run.raw_name(role)).is_null() | _blank(nw.col(run.raw_name(role)))
        if role in run.raw
        else nw.lit(value=True)
    )
    null = (v.is_null() & raw_missing) | (~v.is_null() & v.is_nan())
    finite = ~v.is_null() & ~v.is_nan() & (v.abs() != float("inf"))
    run.check(
        f"{role}_null",
        "error",
        role,
        null,
        lambda n: f"{_plural(n, 'null or NaN ' + role)}",
        f"drop these rows or fill {role}"
        + ("; an answer without a score says nothing." if role == "score" else "."),
    )
    if role == "score":
        low, high = run.schema.scale
        run.check(
            "score_out_of_range",
            "error",
            role,
            ~v.is_null() & ~v.is_nan() & ((v < low) | (v > high)),
            lambda n: f"{_plural(n, 'score')} outside the scale {low}–{high}",
            f"check the survey's scale: set SurveySchema(scale=(lowest, highest)) if it is not "
            f"{low}–{high}, or drop the impossible answers.",
        )
        run.check(
            "score_not_integer",
            "error",
            role,
            finite & (v >= low) & (v <= high) & (v != v.round(0)),
            lambda n: (
                f"{_plural(n, 'score')} {'is not a whole number' if n == 1 else 'are not whole numbers'}"
            ),
            "scores are whole points of the scale (NPS 0–10); round or drop averaged values.",
        )
    else:  # spend amount
        run.check(
            f"{role}_not_finite",
            "error",
            role,
            ~v.is_null() & ~v.is_nan() & (v.abs() == float("inf")),
            lambda n: f"{_plural(n, 'infinite ' + role)}",
            f"replace infinite {role}s; they usually come from a division by zero upstream.",
        )
        run.check(
            f"{role}_negative",
            "warning",
            role,
            finite & (v < 0),
            lambda n: f"{_plural(n, 'negative ' + role)} (credits or refunds)",
            f"negative {table} is kept and reduces the period's total; drop it if it is an "
            "entry error.",
        )
    return value.alias(role)


def _responded(run: _Run, c: nw.Expr, dtype: Any) -> nw.Expr:
    # masks are evaluated on the normalised frame: they read the raw copy
    run.raw.add("responded")
    r = nw.col(run.raw_name("responded"))
    if dtype == nw.Boolean:
        value = c
    elif dtype.is_numeric():
        run.check(
            "responded_not_boolean",
            "error",
            "responded",
            ~r.is_null() & (r.is_nan() | ((r != 0) & (r != 1)))
            if dtype.is_float()
            else ~r.is_null() & (r != 0) & (r != 1),
            lambda n: f"{_plural(n, 'value')} in responded {_are(n)} not boolean (0 or 1)",
            "give True/False (or 1/0) for whether the customer responded.",
        )
        value = c == 1
    else:
        _wrong_type(
            run,
            "responded_not_boolean",
            "responded",
            f"responded is of type {dtype}, not boolean",
            "pass True/False (or 1/0) for whether the customer responded, e.g. "
            "df[col].map({'yes': True, 'no': False}).",
        )
        return nw.lit(None, nw.Boolean).alias("responded")
    run.check(
        "responded_null",
        "warning",
        "responded",
        r.is_null(),
        lambda n: f"{_plural(n, 'contact')} without a responded value (counted as no response)",
        "fill responded with False where the customer did not respond, to say so explicitly.",
    )
    return value.fill_null(value=False).alias("responded")


def _event_type(run: _Run, c: nw.Expr, dtype: Any) -> nw.Expr:
    labels: Mapping[str, str | None] = run.schema.labels

    def normal(expr: nw.Expr) -> nw.Expr:
        text = expr if dtype == nw.String else expr.cast(nw.String)
        return text.str.strip_chars().str.to_lowercase()

    # masks are evaluated on the normalised frame: they read the raw copy
    run.raw.add("event_type")
    r = nw.col(run.raw_name("event_type"))
    run.check(
        "event_type_null",
        "error",
        "event_type",
        r.is_null(),
        lambda n: f"{_plural(n, 'event')} without an event type",
        "drop these rows or fill the type (view, cart, favourite, search).",
    )
    run.check(
        "event_type_unknown",
        "error",
        "event_type",
        ~r.is_null() & ~normal(r).is_in(list(labels)),
        lambda n: f"{_plural(n, 'event')} of unknown type",
        f"map your labels with EventSchema(event_types={{'your label': 'view', ...}}) onto "
        f"{', '.join(EVENT_TYPES)}, or to None to ignore a kind of event.",
        distinct="event_type",
    )
    ignored = [k for k, v in labels.items() if v is None]
    if ignored:
        run.check(
            "event_type_ignored",
            "info",
            "event_type",
            normal(r).is_in(ignored),
            lambda n: f"{_plural(n, 'event')} of types mapped to None (ignored)",
            "nothing to do: EventSchema(event_types=...) says to ignore them.",
        )
    value: Any = nw.lit(None, nw.String)
    for kind in EVENT_TYPES:
        names = [k for k, v in labels.items() if v == kind]
        value = nw.when(normal(c).is_in(names)).then(nw.lit(kind)).otherwise(value)
    return value.alias("event_type")


def _label_role(run: _Run, role: str, c: nw.Expr, dtype: Any) -> nw.Expr:
    if run.spec.table == "spend" and role == "channel":
        run.check(
            "channel_null",
            "error",
            role,
            nw.col(role).is_null(),
            lambda n: f"{_plural(n, 'row')} without a channel",
            "fill the channel (spend that belongs to no channel cannot be set against the "
            "customers it won); use a label such as 'unattributed' if that is the truth.",
        )
        if dtype == nw.String:
            run.check(
                "channel_blank",
                "error",
                role,
                _blank(nw.col(role)),
                lambda n: f"{_plural(n, 'blank channel')} ('' or only spaces)",
                "fill the channel, or use a label such as 'unattributed'.",
            )
        return c.alias(role)
    return (nw.when(~_blank(c)).then(c) if dtype == nw.String else c).alias(role)


# ---------------------------------------------------------------------------------------------
# the clock, the spend period
# ---------------------------------------------------------------------------------------------


def _clock(run: _Run, lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    zone = getattr(run.schema, "timezone", None)
    for role in (*run.spec.times, "period"):
        if role not in run.roles:
            continue
        dtype = lf.collect_schema()[role]
        if role == "period" and dtype == nw.String:
            continue
        if not (dtype == nw.Date or dtype == nw.String or isinstance(dtype, nw.Datetime)):
            continue
        lf, reading = wall_clock(lf, role, timezone=zone, engine=run.engine, dtype=dtype)
        if reading.assumed_utc:
            schema_name = run.spec.schema_type.__name__
            fix = (
                f"set {schema_name}(timezone=...) to the zone whose calendar dates count."
                if hasattr(run.schema, "timezone")
                else "convert the column to naive local time in your engine first."
            )
            run.add(
                f"{role}_zone_assumed",
                "info",
                role,
                -1,
                f"{role} holds instants with no zone of their own (a DuckDB TIMESTAMPTZ or "
                "Spark TIMESTAMP column); their calendar dates are taken in UTC",
                fix,
            )
    if run.spec.table == "spend":
        lf = _spend_span(run, lf)
    return lf


def _two(expr: nw.Expr) -> nw.Expr:
    text = expr.cast(nw.String)
    return nw.when(expr < 10).then(nw.concat_str([nw.lit("0"), text])).otherwise(text)


def _spend_span(run: _Run, lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """``start`` and ``end``: the first and last day of the row's month, or its day."""
    if "date" in run.roles:
        dtype = lf.collect_schema()["date"]
        day = nw.col("date") if dtype == nw.Date else nw.col("date").dt.date()
        return lf.with_columns(day.alias("start"), day.alias("end"))
    dtype = lf.collect_schema()["period"]
    p = nw.col("period")
    if dtype == nw.String:
        text = p.str.strip_chars()
        ok = text.str.contains(_MONTH_RE) | (is_iso_text(p) & text.str.contains(_MONTH_PREFIX_RE))
        year: nw.Expr = nw.when(ok).then(text.str.slice(0, 4)).cast(nw.Int64)
        month: nw.Expr = nw.when(ok).then(text.str.slice(5, 2)).cast(nw.Int64)
    else:
        year, month = p.dt.year().cast(nw.Int64), p.dt.month().cast(nw.Int64)
    y: nw.Expr = nw.col(f"{run.prefix}_y")
    m: nw.Expr = nw.col(f"{run.prefix}_m")
    last = _days_in_month(y, m)
    head = nw.concat_str([y.cast(nw.String), nw.lit("-"), _two(m), nw.lit("-")])
    return (
        lf.with_columns(year.alias(f"{run.prefix}_y"), month.alias(f"{run.prefix}_m"))
        .with_columns(
            nw.concat_str([head, nw.lit("01")]).str.to_date("%Y-%m-%d").alias("start"),
            nw.concat_str([head, _two(last)]).str.to_date("%Y-%m-%d").alias("end"),
        )
        .drop(f"{run.prefix}_y", f"{run.prefix}_m")
    )


# ---------------------------------------------------------------------------------------------
# counting and examples
# ---------------------------------------------------------------------------------------------


def _count(run: _Run, lf: nw.LazyFrame[Any]) -> dict[str, int]:
    exprs = [nw.len().alias("__n_rows__")]
    exprs += [
        c.mask.fill_null(value=False).cast(nw.Int64).sum().alias(f"check:{i}")
        for i, c in enumerate(run.checks)
    ]
    exprs += [
        m.fill_null(value=False).cast(nw.Int64).sum().alias(k) for k, m in run.tallies.items()
    ]
    try:
        row = lf.select(*exprs).pipe(collect_polars).to_native().row(0, named=True)
    except (InvalidDataError, ConfigError):
        raise
    except Exception as exc:  # an engine's parser refusing a value that passed the pattern
        raise InvalidDataError(
            f"{run.spec.table}: the data could not be read ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}). Fix: check date text for impossible dates such as "
            "2024-02-30, or cast columns to proper types in your engine first."
        ) from exc
    return {k: int(v or 0) for k, v in row.items()}


def _findable(expr: nw.Expr, dtype: Any) -> nw.Expr:
    ok = ~expr.is_null()
    return ok & ~_blank(expr) if dtype == nw.String else ok


def _examples(
    run: _Run, lf: nw.LazyFrame[Any], mask: nw.Expr, role: str | None, index: Any
) -> tuple[list[Any], list[Any], str]:
    """Row labels and values (eager engines) or identifying values (lazy engines)."""
    mask = mask.fill_null(value=False)
    if run.engine.has_row_labels:
        native = lf.to_native()
        row = f"{run.prefix}_row"
        value = run.value(role) if role else None
        picked = nw.from_native(native.with_row_index(row)).filter(mask).head(N_EXAMPLES)
        got = picked.select(row, *([value] if value else [])).pipe(collect_polars).to_native()
        positions = got[row].to_list()
        rows = [index[p] for p in positions] if index is not None else positions
        return rows, (got[value].to_list() if value else []), "value"
    dtypes = lf.collect_schema()
    for ident in run.spec.identity:
        if ident == role or ident not in run.roles:
            continue
        col = run.value(ident)
        expr = nw.col(col)
        got = (
            lf.filter(mask & _findable(expr, dtypes[col]))
            .select(expr)
            .unique()
            .sort(col)
            .head(N_EXAMPLES)
            .pipe(collect_polars)
            .to_native()
        )
        if got.height:
            return [], got[col].to_list(), ident
    return [], [], "value"


def _distinct(lf: nw.LazyFrame[Any], mask: nw.Expr, column: str) -> list[Any]:
    got = (
        lf.filter(mask.fill_null(value=False))
        .select(nw.col(column))
        .unique()
        .sort(column)
        .head(N_EXAMPLES)
        .pipe(collect_polars)
        .to_native()
    )
    return [plain_value(v) for v in got[column].to_list()]


def _mixed_text(role: str, n_offset: int, n_plain: int) -> Callable[[int], str]:
    return lambda n: (
        f"{role} mixes values with a UTC offset and values without one "
        f"({n_offset} with, {n_plain} without)"
    )


def _mixed_zones(run: _Run, counts: dict[str, int]) -> None:
    for role in list(run.raw):
        n_offset = counts.pop(f"{role}:offset", 0)
        n_plain = counts.pop(f"{role}:plain", 0)
        if n_offset and n_plain:
            text = nw.col(run.raw_name(role))
            minority = has_offset(text) if n_offset <= n_plain else has_plain_time(text)
            run.checks.append(
                _Check(
                    f"{role}_mixed_timezones",
                    "error",
                    role,
                    minority,
                    _mixed_text(role, n_offset, n_plain),
                    "make them consistent: add the offset to the plain values (or drop it "
                    "everywhere), then set the schema's timezone to the zone whose dates count.",
                )
            )
            counts[f"check:{len(run.checks) - 1}"] = min(n_offset, n_plain)


def _duplicates(run: _Run, lf: nw.LazyFrame[Any], index: Any) -> None:
    """``duplicate_customers``: more than one profile row for a customer id."""
    key = nw.col("customer_id")
    if run.engine.has_row_labels:
        import polars as pl

        native = lf.select("customer_id").pipe(collect_polars).to_native()
        repeat = native.select(
            ~pl.col("customer_id").is_first_distinct() & pl.col("customer_id").is_not_null()
        ).to_series()
        n = int(repeat.sum())
        if not n:
            return
        positions = repeat.arg_true().head(N_EXAMPLES).to_list()
        rows = [index[p] for p in positions] if index is not None else positions
        examples = native["customer_id"].gather(positions).to_list()
        examples_of = "value"
    else:
        per_id = lf.filter(~key.is_null()).group_by("customer_id").agg(nw.len().alias("n"))
        dup = per_id.filter(nw.col("n") > 1)
        got = dup.select((nw.col("n") - 1).sum().alias("n")).pipe(collect_polars)
        n = int(got.item(0, "n") or 0)
        if not n:
            return
        ids = dup.select("customer_id").sort("customer_id").head(N_EXAMPLES)
        rows, examples = [], ids.pipe(collect_polars).to_native()["customer_id"].to_list()
        examples_of = "customer_id"
    run.add(
        "duplicate_customers",
        "error",
        "customer_id",
        n,
        f"{_plural(n, 'row')} repeat{'s' if n == 1 else ''} the customer id of an earlier row",
        "keep one profile per customer (merge duplicate accounts first), e.g. "
        "df.drop_duplicates(subset=[id_col], keep='last').",
        rows=rows,
        examples=examples,
        examples_of=examples_of,
    )


# ---------------------------------------------------------------------------------------------
# inspection
# ---------------------------------------------------------------------------------------------


def _inspect(
    native: Any, schema: Any, table: str, *, level: Level, engine: Engine | None = None
) -> tuple[nw.LazyFrame[Any] | None, ValidationReport]:
    """Normalise a side table and find its problems (``level="errors"``: errors only)."""
    spec = _SPECS[table]
    schema = _check_schema(schema, spec)
    theirs = engine_of(native, name=table)
    _check_engine(theirs, engine, table)
    columns = columns_of(native)
    roles, problem, missing = _resolve(schema, columns, spec)
    if problem is not None:
        report = ValidationReport(
            n_rows=-1, problems=[problem], missing=missing, roles=roles, table=table
        )
        return None, report
    prefix = nw.generate_temporary_column_name(8, [*columns, *roles], prefix="__retailcrm")
    run = _Run(spec=spec, schema=schema, engine=theirs, level=level, roles=roles, prefix=prefix)
    lf, index = _load(run, native, columns)
    lf = _clock(run, _normalise(run, lf))
    counts = _count(run, lf)
    n_rows = counts.pop("__n_rows__")
    _mixed_zones(run, counts)
    for i, check in enumerate(run.checks):
        n = counts.get(f"check:{i}", 0)
        if not n:
            continue
        rows, examples, of = _examples(run, lf, check.mask, check.role, index)
        message = check.message(n)
        if check.distinct:
            values = _distinct(lf, check.mask, run.value(check.distinct))
            message += " (" + ", ".join(repr(v) for v in values) + ")"
        run.add(check.code, check.severity, check.role, n, message, check.fix, rows, examples, of)
    if table == "customers" and n_rows:
        _duplicates(run, lf, index)
    if level == "all" and n_rows == 0:
        run.add(
            "empty",
            "warning",
            None,
            0,
            "the table has no rows",
            f"nothing to use: the {table} add nothing to the analysis.",
        )
    problems = [p if p.count >= 0 else attrs.evolve(p, count=n_rows) for p in run.problems]
    report = ValidationReport(n_rows=n_rows, problems=problems, roles=roles, table=table)
    return _canonical(run, lf), report


def _canonical(run: _Run, lf: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    names = lf.collect_schema().names()
    temporary = [n for n in names if n.startswith(run.prefix)]
    if run.spec.table == "spend":
        return lf.select("channel", "amount", "start", "end")
    if run.spec.table == "surveys":
        lf = lf.with_columns(nw.col("score").round(0).cast(nw.Int64))
    if run.spec.table == "events":
        lf = lf.filter(~nw.col("event_type").is_null())
    return lf.drop(temporary) if temporary else lf


def _prepare(native: Any, schema: Any, table: str, engine: Engine | None) -> nw.LazyFrame[Any]:
    lf, report = _inspect(native, schema, table, level="errors", engine=engine)
    report.raise_for_errors()
    assert lf is not None
    return lf


def prepare_customers(
    customers: Any, schema: CustomerSchema | None = None, *, engine: Engine | None = None
) -> nw.LazyFrame[Any]:
    """Validated, canonical customers (see the module docstring); raises on errors.

    ``engine``: the transactions' engine, when the table is to be joined with them.
    """
    return _prepare(customers, schema, "customers", engine)


def prepare_responses(
    responses: Any, schema: ResponseSchema | None = None, *, engine: Engine | None = None
) -> nw.LazyFrame[Any]:
    """Validated, canonical campaign contacts; raises on errors."""
    return _prepare(responses, schema, "responses", engine)


def prepare_surveys(
    surveys: Any, schema: SurveySchema | None = None, *, engine: Engine | None = None
) -> nw.LazyFrame[Any]:
    """Validated, canonical survey answers; raises on errors."""
    return _prepare(surveys, schema, "surveys", engine)


def prepare_spend(
    spend: Any, schema: SpendSchema | None = None, *, engine: Engine | None = None
) -> nw.LazyFrame[Any]:
    """Validated, canonical marketing spend (``channel, amount, start, end``); raises on errors."""
    return _prepare(spend, schema, "spend", engine)


def prepare_events(
    events: Any, schema: EventSchema | None = None, *, engine: Engine | None = None
) -> nw.LazyFrame[Any]:
    """Validated, canonical behaviour events (ignored types dropped); raises on errors."""
    return _prepare(events, schema, "events", engine)


# ---------------------------------------------------------------------------------------------
# public validation
# ---------------------------------------------------------------------------------------------


def validate_customers(customers: Any, *, schema: CustomerSchema | None = None) -> ValidationReport:
    """Check a customers (profile) table and report every problem found.

    Nothing is changed and nothing is raised for bad data (a missing column is reported as
    ``missing_columns``); :meth:`ValidationReport.raise_for_errors` stops on errors.

    Parameters
    ----------
    customers : dataframe
        One row per customer: pandas, polars (eager or lazy), pyarrow, DuckDB or PySpark.
    schema : CustomerSchema, optional
        Column mapping; ``CustomerSchema()`` (the role names) by default.

    Returns
    -------
    ValidationReport
        Row labels are pandas index labels (polars and pyarrow: row positions); on lazy
        engines ``examples`` holds identifying values instead (``examples_of`` says of which
        role: the customer id, or a date of the row where the id is the problem).

    See Also
    --------
    validate : one entry point for every table, chosen by the schema's type.

    Notes
    -----
    Errors: ``missing_columns``, ``customer_id_null``, ``customer_id_blank``,
    ``customer_id_mixed_types``, ``duplicate_customers``, ``registered_at_unparseable`` and
    ``birthday_unparseable`` (text that is not ISO 8601), ``registered_at_not_datetime`` and
    ``birthday_not_datetime``, ``registered_at_mixed_timezones`` and
    ``birthday_mixed_timezones``. Warning: ``empty``. Info: ``registered_at_zone_assumed``,
    ``birthday_zone_assumed``. Missing dates (null or blank text) are allowed.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import validate_customers
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["c1", " ", "c3", "c1"],
    ...     "registered_at": ["2024-01-05", "2024-02-30x", "", "2024-03-01"],
    ... })
    >>> report = validate_customers(customers)
    >>> report.codes
    ('customer_id_blank', 'registered_at_unparseable', 'duplicate_customers')
    >>> report["duplicate_customers"].rows
    (3,)
    """
    return _inspect(customers, schema, "customers", level="all")[1]


def validate_responses(responses: Any, *, schema: ResponseSchema | None = None) -> ValidationReport:
    """Check a campaign-contacts table (one row per contact) and report every problem found.

    Parameters
    ----------
    responses : dataframe
        pandas, polars (eager or lazy), pyarrow, DuckDB or PySpark.
    schema : ResponseSchema, optional
        Column mapping; ``ResponseSchema()`` by default.

    Returns
    -------
    ValidationReport

    See Also
    --------
    validate_customers : the report's conventions (row labels, lazy engines).

    Notes
    -----
    Errors: ``missing_columns``, ``customer_id_null``, ``customer_id_blank``,
    ``customer_id_mixed_types``, ``contacted_at_null``, ``contacted_at_unparseable``,
    ``contacted_at_not_datetime``, ``contacted_at_mixed_timezones``,
    ``responded_not_boolean`` (not True/False or 1/0). Warnings: ``responded_null`` (counted as
    no response), ``empty``. Info: ``contacted_at_zone_assumed``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import validate_responses
    >>> contacts = pd.DataFrame({
    ...     "customer_id": ["c1", "c2", "c3"],
    ...     "contacted_at": ["2024-03-01", "2024-03-01", None],
    ...     "responded": [1, 0, 2],
    ... })
    >>> print(validate_responses(contacts))  # doctest: +NORMALIZE_WHITESPACE
    ValidationReport: 3 rows, 2 errors, 0 warnings
    [error] 'contacted_at': 1 contact without contacted_at — rows [2]. Fix: drop these rows or fill contacted_at; an undated contact cannot be placed before or after as_of.
    [error] 'responded': 1 value in responded is not boolean (0 or 1) — rows [2]. Fix: give True/False (or 1/0) for whether the customer responded.
    """
    return _inspect(responses, schema, "responses", level="all")[1]


def validate_surveys(surveys: Any, *, schema: SurveySchema | None = None) -> ValidationReport:
    """Check a survey-answers table (NPS, CSAT, …) and report every problem found.

    Parameters
    ----------
    surveys : dataframe
        One row per answer: pandas, polars (eager or lazy), pyarrow, DuckDB or PySpark.
    schema : SurveySchema, optional
        Column mapping and the score ``scale`` (0–10 by default).

    Returns
    -------
    ValidationReport

    See Also
    --------
    validate_customers : the report's conventions (row labels, lazy engines).

    Notes
    -----
    Every score must be a whole number within the scale (NPS answers are integers 0–10).
    Errors: ``missing_columns``, ``customer_id_null``, ``customer_id_blank``,
    ``customer_id_mixed_types``, ``answered_at_null``, ``answered_at_unparseable``,
    ``answered_at_not_datetime``, ``answered_at_mixed_timezones``, ``score_not_numeric``,
    ``score_null`` (null or NaN), ``score_out_of_range``, ``score_not_integer``,
    ``channel_mixed_types``, ``touchpoint_mixed_types``. Warning: ``empty``. Info:
    ``answered_at_zone_assumed``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import validate_surveys
    >>> answers = pd.DataFrame({
    ...     "customer_id": ["c1", "c2", "c3", "c4"],
    ...     "answered_at": pd.to_datetime(["2024-03-01"] * 4),
    ...     "score": [9, 11, 7.5, 10],
    ... })
    >>> report = validate_surveys(answers)
    >>> [(p.code, p.rows) for p in report]
    [('score_out_of_range', (1,)), ('score_not_integer', (2,))]
    """
    return _inspect(surveys, schema, "surveys", level="all")[1]


def validate_spend(spend: Any, *, schema: SpendSchema | None = None) -> ValidationReport:
    """Check a marketing-spend table (per channel and month, or per day) and report problems.

    Parameters
    ----------
    spend : dataframe
        pandas, polars (eager or lazy), pyarrow, DuckDB or PySpark.
    schema : SpendSchema, optional
        Column mapping; a ``period`` (month) or a ``date`` (day) column places each row.

    Returns
    -------
    ValidationReport
        On lazy engines, examples identify rows by their channel (or month or day).

    See Also
    --------
    validate_customers : the report's conventions (row labels, lazy engines).

    Notes
    -----
    Errors: ``missing_columns`` (neither a month nor a day column), ``period_and_date``
    (both, and the schema does not say which), ``channel_null``, ``channel_blank``,
    ``channel_mixed_types``, ``amount_not_numeric``, ``amount_null``, ``amount_not_finite``,
    ``period_unparseable`` (text that is not ``YYYY-MM`` or an ISO date),
    ``period_not_monthly`` (pandas periods of another frequency), ``period_not_datetime``,
    ``period_null``, and for a day column ``date_unparseable``, ``date_not_datetime``,
    ``date_null``, ``date_mixed_timezones``. Warnings: ``amount_negative``, ``empty``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import SpendSchema, validate_spend
    >>> spend = pd.DataFrame({
    ...     "month": ["2024-01", "2024-13", "2024-02"],
    ...     "channel": ["web", "store", " "],
    ...     "spend": ["1200.50", "300", "-50"],
    ... })
    >>> report = validate_spend(spend, schema=SpendSchema(period="month", amount="spend"))
    >>> [(p.code, p.rows) for p in report]
    [('channel_blank', (2,)), ('period_unparseable', (1,)), ('amount_negative', (2,))]
    """
    return _inspect(spend, schema, "spend", level="all")[1]


def validate_events(events: Any, *, schema: EventSchema | None = None) -> ValidationReport:
    """Check a behaviour-events table (views, carts, favourites, searches) and report problems.

    Parameters
    ----------
    events : dataframe
        One row per event: pandas, polars (eager or lazy), pyarrow, DuckDB or PySpark.
    schema : EventSchema, optional
        Column mapping and the mapping of your event labels onto retailcrm's types.

    Returns
    -------
    ValidationReport

    See Also
    --------
    validate_customers : the report's conventions (row labels, lazy engines).

    Notes
    -----
    Errors: ``missing_columns``, ``customer_id_null``, ``customer_id_blank``,
    ``customer_id_mixed_types``, ``timestamp_null``, ``timestamp_unparseable``,
    ``timestamp_not_datetime``, ``timestamp_mixed_timezones``, ``event_type_null``,
    ``event_type_unknown`` (a label that ``EventSchema.event_types`` does not map; the message
    lists up to five), ``event_type_mixed_types``, ``product_id_mixed_types``,
    ``category_mixed_types``. Warning: ``empty``. Info: ``event_type_ignored`` (labels mapped
    to ``None``), ``timestamp_zone_assumed``. Null or blank product ids and categories are
    allowed (a search has none).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import validate_events
    >>> events = pd.DataFrame({
    ...     "customer_id": ["c1", "c1", "c2"],
    ...     "timestamp": ["2024-03-01 10:00", "2024-03-01 10:05", "2024-03-02 09:00"],
    ...     "event_type": ["view", "add_to_cart", "View"],
    ... })
    >>> report = validate_events(events)
    >>> report["event_type_unknown"].message
    "1 event of unknown type ('add_to_cart')"
    """
    return _inspect(events, schema, "events", level="all")[1]


_BY_SCHEMA: dict[type, str] = {
    CustomerSchema: "customers",
    ResponseSchema: "responses",
    SurveySchema: "surveys",
    SpendSchema: "spend",
    EventSchema: "events",
}


def validate(table: Any, schema: Any) -> ValidationReport:
    """Check any input table; the schema's type says which kind of table it is.

    Parameters
    ----------
    table : dataframe
        pandas, polars (eager or lazy), pyarrow, DuckDB or PySpark.
    schema : TransactionSchema, CustomerSchema, ResponseSchema, SurveySchema, SpendSchema or EventSchema
        The column mapping; ``TransactionSchema`` goes to
        :func:`~retailcrm.validate_transactions`, the others to ``validate_customers``,
        ``validate_responses``, ``validate_surveys``, ``validate_spend`` and
        ``validate_events``.

    Returns
    -------
    ValidationReport

    Raises
    ------
    ConfigError
        ``schema`` is not one of the schema classes.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.data import SurveySchema, validate
    >>> answers = pd.DataFrame({"customer_id": ["c1", "c2"],
    ...                         "answered_at": ["2024-03-01", "2024-03-02"],
    ...                         "rating": [5, 6]})
    >>> validate(answers, SurveySchema(score="rating", scale=(1, 5))).codes
    ('score_out_of_range',)
    """
    if isinstance(schema, TransactionSchema):
        from retailcrm.data._validate import validate_transactions

        return validate_transactions(table, schema=schema)
    name = _BY_SCHEMA.get(type(schema))
    if name is None:
        known = ", ".join(["TransactionSchema", *(c.__name__ for c in _BY_SCHEMA)])
        raise ConfigError(
            f"validate needs a schema saying what the table is, got {type(schema).__name__}. "
            f"Fix: pass one of {known}, e.g. validate(df, CustomerSchema())."
        )
    return _inspect(table, schema, name, level="all")[1]
