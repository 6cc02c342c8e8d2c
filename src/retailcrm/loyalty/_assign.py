"""The core of :meth:`TierProgram.assign`: qualify, renew, grace and floors as one plan of
joins and ``when/then`` chains over the feature table."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, day_number, parse_as_of
from retailcrm._engine import collect_polars, lazy_frame, lazy_frame_reading
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.rules import Rule, RuleSet, condition_expr

if TYPE_CHECKING:
    from retailcrm.loyalty._tiers import TierProgram

__all__ = ["assign_core", "assign_tiers", "normalise_overrides", "normalise_previous"]

OUTPUT_COLUMNS = (
    "customer_id",
    "tier",
    "tier_name",
    "previous_tier",
    "change",
    "rule_id",
    "tier_since",
    "grace_until",
    "benefits",
)
_KEY = "customer_id"


def assign_tiers(
    program: TierProgram, features: Any, *, as_of: Any, previous: Any, overrides: Any
) -> Any:
    """:meth:`TierProgram.assign`: check and convert the inputs, run the core, convert back."""
    asof = parse_as_of(as_of)
    lf, engine = lazy_frame_reading(features, [_KEY, *program.columns])
    names = list(lf.collect_schema().names())
    if _KEY not in names:
        raise MissingColumnsError(
            [_KEY],
            available=names,
            role="features",
            fix="pass the customer feature table (customer_features(...)), keyed by customer_id.",
        )
    check_conditions(program, lf, asof)
    _check_unique(lf, "features")
    prev = None
    if previous is not None:
        prev_lf = _same_engine(previous, lf, "previous")
        prev = normalise_previous(program, prev_lf, lf)
    floors = None
    if overrides is not None:
        over_lf = _same_engine(overrides, lf, "overrides")
        floors = normalise_overrides(program, over_lf, lf, asof)
    out = assign_core(program, lf, as_of=asof, previous=prev, overrides=floors)
    return engine.to_native(out)


def _same_engine(native: Any, features: nw.LazyFrame[Any], name: str) -> nw.LazyFrame[Any]:
    """``native`` as a LazyFrame that can be joined with ``features`` (pandas and polars
    frames all compute in polars; DuckDB and Spark must be the features' engine)."""
    lf, _ = lazy_frame(native, name=name)
    if lf.implementation != features.implementation:
        raise ConfigError(
            f"{name} is a {lf.implementation} frame but features is {features.implementation}."
            f" Fix: pass {name} from the same engine as features."
        )
    return lf


def check_conditions(program: TierProgram, lf: nw.LazyFrame[Any], asof: AsOf) -> None:
    """Compile every condition against ``lf``'s schema: all problems raise at once."""
    rules = [Rule(t.id, t.qualify) for t in program.tiers]
    rules += [Rule(f"{t.id}.renew", t.renew) for t in program.tiers if t.renew is not None]
    RuleSet(rules).check(lf, as_of=_as_of_value(asof))
    anchor = program.window.anchor
    if program.downgrade == "period_end" and anchor is not None:
        schema = lf.collect_schema()
        if anchor not in schema:
            raise MissingColumnsError(
                [anchor],
                available=list(schema),
                role="features",
                fix=f"the anniversary window's anchor {anchor!r} must be a date column of the "
                "feature table.",
            )
        if not (schema[anchor] == nw.Date or schema[anchor] == nw.Datetime):
            raise ConfigError(
                f"features: the anniversary anchor {anchor!r} is {schema[anchor]}, not a date. "
                "Fix: pass a date column."
            )


def _as_of_value(asof: AsOf) -> Any:
    return asof.date if asof.is_date else asof.cutoff


def _check_unique(lf: nw.LazyFrame[Any], name: str) -> None:
    counts = (
        lf.group_by(_KEY)
        .agg(nw.len().alias("n"))
        .filter(nw.col("n") > 1)
        .select(_KEY)
        .sort(_KEY)
        .head(5)
        .pipe(collect_polars)
    )
    if counts.shape[0]:
        shown = counts.get_column(_KEY).to_list()
        raise InvalidDataError(
            f"{name}: customer_id must be unique (one row per customer); repeated: {shown}. "
            f"Fix: keep one row per customer in {name}."
        )


def _align_key(frame: nw.LazyFrame[Any], features: nw.LazyFrame[Any], name: str) -> Any:
    want = features.collect_schema()[_KEY]
    got = frame.collect_schema()[_KEY]
    if (want == nw.String) != (got == nw.String):
        raise ConfigError(
            f"{name}: customer_id is {got} but the feature table's is {want}. "
            "Fix: cast both to the same type (e.g. text) first."
        )
    return frame if got == want else frame.with_columns(nw.col(_KEY).cast(want))


def _date_column(frame: nw.LazyFrame[Any], column: str, name: str) -> nw.Expr:
    dtype = frame.collect_schema()[column]
    if dtype == nw.Date:
        return nw.col(column)
    if dtype == nw.Datetime:
        return nw.col(column).dt.date()
    raise ConfigError(
        f"{name}: column {column!r} is {dtype}, not a date. Fix: pass dates (or datetimes)."
    )


def _check_tiers(
    program: TierProgram, frame: nw.LazyFrame[Any], name: str, *, nullable: bool
) -> None:
    unknown = ~nw.col("tier").is_in(list(program.ids))
    bad = frame.filter(unknown & ~nw.col("tier").is_null() if nullable else unknown)
    found = bad.select("tier").unique().sort("tier").head(5).pipe(collect_polars)
    if found.shape[0] or (not nullable and _has_null(frame)):
        shown = found.get_column("tier").to_list() if found.shape[0] else [None]
        raise InvalidDataError(
            f"{name}: tier values {shown} are not tier ids of the programme "
            f"{list(program.ids)}. Fix: use the tier ids (not the names)."
        )


def _has_null(frame: nw.LazyFrame[Any]) -> bool:
    n = frame.select(nw.col("tier").is_null().cast(nw.Int64).sum()).pipe(collect_polars).item()
    return bool(n)


def _rank(program: TierProgram, expr: nw.Expr) -> nw.Expr:
    """Tier id -> rank (0 = highest); a missing tier -> ``len(tiers)`` (no tier)."""
    n = len(program.tiers)
    return expr.replace_strict(
        list(program.ids), list(range(n)), default=n, return_dtype=nw.Int64
    ).cast(nw.Int64)


def _required(frame: nw.LazyFrame[Any], columns: list[str], name: str, fix: str) -> None:
    names = list(frame.collect_schema().names())
    missing = [c for c in columns if c not in names]
    if missing:
        raise MissingColumnsError(missing, available=names, role=name, fix=fix)


def normalise_previous(
    program: TierProgram, previous: nw.LazyFrame[Any], features: nw.LazyFrame[Any]
) -> nw.LazyFrame[Any]:
    """The previous assessment as ``customer_id, __prev, __prev_since, __grace`` (checked)."""
    _required(
        previous,
        [_KEY, "tier"],
        "previous",
        "pass the previous output of TierProgram.assign (customer_id, tier, tier_since).",
    )
    _check_tiers(program, previous, "previous", nullable=True)
    _check_unique(previous, "previous")
    names = previous.collect_schema().names()
    since = (
        _date_column(previous, "tier_since", "previous")
        if "tier_since" in names
        else nw.lit(None, nw.Date)
    )
    grace = (
        _date_column(previous, "grace_until", "previous")
        if "grace_until" in names
        else nw.lit(None, nw.Date)
    )
    previous = _align_key(previous, features, "previous")
    return previous.select(
        nw.col(_KEY),
        _rank(program, nw.col("tier")).alias("__prev"),
        since.cast(nw.Date).alias("__prev_since"),
        grace.cast(nw.Date).alias("__grace"),
    )


def normalise_overrides(
    program: TierProgram, overrides: nw.LazyFrame[Any], features: nw.LazyFrame[Any], asof: AsOf
) -> nw.LazyFrame[Any]:
    """Active overrides as ``customer_id, __floor`` (the best tier per customer)."""
    _required(
        overrides,
        [_KEY, "tier"],
        "overrides",
        "pass customer_id, tier and optionally until (the last day of the override).",
    )
    _check_tiers(program, overrides, "overrides", nullable=False)
    overrides = _align_key(overrides, features, "overrides")
    if "until" in overrides.collect_schema().names():
        until = _date_column(overrides, "until", "overrides")
        overrides = overrides.filter(until.is_null() | (day_number(until) >= asof.day))
    return overrides.group_by(_KEY).agg(_rank(program, nw.col("tier")).min().alias("__floor"))


def _first_true(masks: list[nw.Expr], otherwise: int) -> nw.Expr:
    chained: Any = nw
    for k, mask in enumerate(masks):
        chained = chained.when(mask).then(nw.lit(k, nw.Int64))
    return chained.otherwise(nw.lit(otherwise, nw.Int64)).cast(nw.Int64)


def _pick(rank: nw.Expr, values: list[nw.Expr], otherwise: nw.Expr) -> nw.Expr:
    """``values[rank]`` (a when/then chain), else ``otherwise``."""
    chained: Any = nw
    for k, value in enumerate(values):
        chained = chained.when(rank == k).then(value)
    return chained.otherwise(otherwise)


def _lookup(rank: nw.Expr, values: list[str], default: str | None) -> nw.Expr:
    return rank.replace_strict(
        list(range(len(values))), values, default=default, return_dtype=nw.String
    )


def _period_end(program: TierProgram, asof: AsOf, schema: Any) -> nw.Expr:
    """The last day a member who starts failing on ``as_of`` keeps the tier (a Date)."""
    if program.downgrade == "grace":
        last = asof.date + _dt.timedelta(days=program.grace_days - 1)
        return nw.lit(last, nw.Date)
    window = program.window
    if window.kind == "calendar_year":
        return nw.lit(_dt.date(asof.date.year, 12, 31), nw.Date)
    if window.kind == "rolling":
        assert window.days is not None
        return nw.lit(asof.date + _dt.timedelta(days=window.days - 1), nw.Date)
    return _next_anniversary(nw.col(str(window.anchor)), asof, schema[window.anchor])


def _next_anniversary(anchor: nw.Expr, asof: AsOf, dtype: Any) -> nw.Expr:
    """The anchor date's first anniversary on or after ``as_of`` (29 February: 28 February in
    common years); ``as_of`` where the anchor is missing."""
    if dtype != nw.Date:
        anchor = anchor.dt.date()
    month, day = anchor.dt.month().cast(nw.Int64), anchor.dt.day().cast(nw.Int64)
    this_year = (month * 100 + day) >= asof.date.month * 100 + asof.date.day
    year = nw.when(this_year).then(nw.lit(asof.date.year)).otherwise(nw.lit(asof.date.year + 1))
    year = year.cast(nw.Int64)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    day = nw.when((month == 2) & (day == 29) & ~leap).then(nw.lit(28)).otherwise(day)

    def pad(e: nw.Expr) -> nw.Expr:
        text = e.cast(nw.Int64).cast(nw.String)
        return nw.when(e < 10).then(nw.concat_str(nw.lit("0"), text)).otherwise(text)

    text = nw.concat_str(year.cast(nw.String), nw.lit("-"), pad(month), nw.lit("-"), pad(day))
    return nw.coalesce(text.str.to_date("%Y-%m-%d"), nw.lit(asof.date, nw.Date))


def assign_core(
    program: TierProgram,
    features: nw.LazyFrame[Any],
    *,
    as_of: AsOf,
    previous: nw.LazyFrame[Any] | None = None,
    overrides: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """Prepared inputs in (``previous`` from :func:`normalise_previous`, ``overrides`` from
    :func:`normalise_overrides`), the assignment out, sorted by customer id."""
    n = len(program.tiers)
    ids = list(program.ids)
    schema = features.collect_schema()
    when = _as_of_value(as_of)
    qualify = [condition_expr(t.qualify, schema, as_of=when) for t in program.tiers]
    renew = [condition_expr(t.renew_condition, schema, as_of=when) for t in program.tiers]
    base = n if program.base_tier is None else ids.index(program.base_tier)
    today = nw.lit(as_of.date, nw.Date)

    # Only the key and the columns the programme reads: no helper name can clash.
    frame = features.select(_KEY, *[c for c in program.columns if c != _KEY])
    frame = frame.with_columns(_first_true(qualify, n).alias("__q_raw"))
    if previous is not None:
        frame = frame.join(previous, on=_KEY, how="left")
    else:
        frame = frame.with_columns(
            nw.lit(None, nw.Int64).alias("__prev"),
            nw.lit(None, nw.Date).alias("__prev_since"),
            nw.lit(None, nw.Date).alias("__grace"),
        )
    P = nw.col("__prev")
    frame = frame.with_columns(
        nw.when(nw.col("__q_raw") == n)
        .then(nw.lit(base, nw.Int64))
        .otherwise(nw.col("__q_raw"))
        .cast(nw.Int64)
        .alias("__q"),
        _pick(P, renew, nw.lit(False)).fill_null(False).alias("__renews"),
        _period_end(program, as_of, schema).alias("__period_end"),
    )
    Q = nw.col("__q")
    is_new = P.is_null()
    fail = ~is_new & (Q > P)
    renewed = fail & nw.col("__renews")
    since_day = day_number(nw.col("__prev_since"))
    held = fail & ~renewed & (since_day == as_of.day).fill_null(False)
    no_down = fail & ~renewed & ~held & nw.lit(program.downgrade == "none")
    failing = fail & ~renewed & ~held & nw.lit(program.downgrade != "none")
    grace_until = nw.coalesce(nw.col("__grace"), nw.col("__period_end"))
    frame = frame.with_columns(
        is_new.alias("__new"),
        (~is_new & (Q < P)).alias("__up"),
        (~is_new & (Q == P)).alias("__same"),
        renewed.alias("__renewed"),
        held.alias("__held"),
        no_down.alias("__no_down"),
        (failing & (day_number(grace_until) >= as_of.day)).alias("__in_grace"),
        (failing & (day_number(grace_until) < as_of.day)).alias("__down"),
        grace_until.alias("__grace_until"),
    )
    target = (P + 1).cast(nw.Int64) if program.downgrade_step == "one" else Q
    qualify_rule = (
        nw.when(nw.col("__q_raw") == n).then(nw.lit("default")).otherwise(_lookup(Q, ids, None))
    )
    frame = frame.with_columns(
        nw.when(nw.col("__down"))
        .then(target)
        .when(nw.col("__new") | nw.col("__up") | nw.col("__same"))
        .then(Q)
        .otherwise(P)
        .cast(nw.Int64)
        .alias("__tier"),
    )
    T = nw.col("__tier")
    frame = frame.with_columns(
        nw.when(nw.col("__new"))
        .then(nw.lit("new"))
        .when(nw.col("__up"))
        .then(nw.lit("upgrade"))
        .when(nw.col("__down"))
        .then(nw.lit("downgrade"))
        .when(nw.col("__in_grace"))
        .then(nw.lit("grace"))
        .otherwise(nw.lit("retained"))
        .alias("__change"),
        nw.when(nw.col("__new") | nw.col("__up") | nw.col("__same"))
        .then(qualify_rule)
        .when(nw.col("__renewed"))
        .then(_lookup(P, [f"{i}.renew" for i in ids], None))
        .when(nw.col("__held"))
        .then(nw.lit("held"))
        .when(nw.col("__no_down"))
        .then(nw.lit("no_downgrade"))
        .when(nw.col("__in_grace"))
        .then(nw.lit("grace"))
        .when(T == Q)
        .then(qualify_rule)
        .otherwise(nw.lit("step_down"))
        .alias("__rule"),
        nw.when(nw.col("__new") | nw.col("__up") | nw.col("__down"))
        .then(today)
        .otherwise(nw.col("__prev_since"))
        .alias("__since"),
        nw.when(nw.col("__in_grace"))
        .then(nw.col("__grace_until"))
        .otherwise(nw.lit(None, nw.Date))
        .alias("__grace_out"),
    )
    if overrides is not None:
        frame = _with_floors(frame.join(overrides, on=_KEY, how="left"), today)
    names = [t.name for t in program.tiers]
    benefits = [",".join(b.id for b in t.benefits) for t in program.tiers]
    return frame.select(
        nw.col(_KEY),
        _lookup(T, ids, None).alias("tier"),
        _lookup(T, names, None).alias("tier_name"),
        _lookup(P, ids, None).alias("previous_tier"),
        nw.col("__change").alias("change"),
        nw.col("__rule").alias("rule_id"),
        nw.col("__since").cast(nw.Date).alias("tier_since"),
        nw.col("__grace_out").cast(nw.Date).alias("grace_until"),
        _lookup(T, benefits, "").alias("benefits"),
    ).sort(_KEY)


def _with_floors(frame: nw.LazyFrame[Any], today: nw.Expr) -> nw.LazyFrame[Any]:
    """Lift customers below an active override's tier to it (rule ``"override"``)."""
    F, P, T = nw.col("__floor"), nw.col("__prev"), nw.col("__tier")
    lift = (~F.is_null() & (F < T)).fill_null(False)
    return frame.with_columns(
        nw.when(lift).then(F).otherwise(T).cast(nw.Int64).alias("__tier"),
        nw.when(lift & P.is_null())
        .then(nw.lit("new"))
        .when(lift & (F < P))
        .then(nw.lit("upgrade"))
        .when(lift & (F == P))
        .then(nw.lit("retained"))
        .when(lift)
        .then(nw.lit("downgrade"))
        .otherwise(nw.col("__change"))
        .alias("__change"),
        nw.when(lift).then(nw.lit("override")).otherwise(nw.col("__rule")).alias("__rule"),
        nw.when(lift & (F == P))
        .then(nw.col("__prev_since"))
        .when(lift)
        .then(today)
        .otherwise(nw.col("__since"))
        .alias("__since"),
        nw.when(lift)
        .then(nw.lit(None, nw.Date))
        .otherwise(nw.col("__grace_out"))
        .alias("__grace_out"),
    )
