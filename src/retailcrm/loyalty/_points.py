"""Points: :class:`PointsPolicy`, the per-customer :func:`points_ledger` and :func:`points_summary`.

The ledger model
----------------
* **Lots.** Each order (a customer-day for lines without an order id, the occasion rule of the
  feature table) earns one lot of points, dated by its first line. Refund lines of the order
  reverse the points they earned at the same rate (same tier multiplier, same category bonus),
  whenever they happen; an order whose refunds exceed what it earned earns nothing (never a
  negative lot).
* **Pending.** A lot is *pending* until ``pending_days`` after it was earned (the return
  window), then *available*.
* **Expiry.** A lot's last valid day is ``expiry_after`` months after it was earned (31 January
  + 1 month is 28 February, or 29 in a leap year) or 31 December of the earning year plus
  ``expiry_after`` years — never before the lot becomes available.
* **Redemptions** consume the oldest unexpired points first (FIFO).

Because lots become available and expire in the order they were earned, FIFO is a frontier in
cumulative-points space: with ``C_i`` the cumulative points of the lots up to lot ``i`` and
``R(d)`` the points redeemed on or before day ``d``, the points expired by ``as_of`` are
``max(0, max_i(C_i - R(E_i)))`` over the lots whose last valid day ``E_i`` is before ``as_of``.
The engine computes it with window sums over the union of lot and redemption events, so no
engine collects per-transaction data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, day_number, parse_as_of
from retailcrm._engine import collect_polars, lazy_frame, unique_name
from retailcrm._params import check_choice, check_int, check_number, parameter_error
from retailcrm.data import TransactionSchema
from retailcrm.data._prepare import (
    Duplicates,
    PreparedTransactions,
    check_duplicates,
    prepare_transactions,
)
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError

__all__ = ["PointsPolicy", "points_ledger", "points_summary", "points_table"]

Rounding = Literal["line", "order"]
Expiry = Literal["months", "year_end", "never"]
ROUNDINGS: tuple[Rounding, ...] = ("line", "order")
EXPIRIES: tuple[Expiry, ...] = ("months", "year_end", "never")
#: Tolerance of the floor of points (0.57 * 100 is 56.999999999999993 in floating point).
FLOOR_TOLERANCE = 1e-9
LEDGER_COLUMNS = (
    "customer_id",
    "earned",
    "pending",
    "expired",
    "redeemed",
    "balance",
    "expiring_30d",
)
_FINGERPRINT_FORMAT = 1
_OWNER = "PointsPolicy"


def _multipliers(value: Any, name: str) -> tuple[tuple[str, float], ...]:
    """A mapping of names to multipliers as sorted (name, factor) pairs, checked."""
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    try:
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError):
        raise parameter_error(
            name, _OWNER, "a mapping of names to multipliers", value, "e.g. {'gold': 2.0}."
        ) from None
    out = []
    for key, factor in pairs:
        if not (isinstance(key, str) and key):
            raise parameter_error(
                name, _OWNER, "a mapping with non-empty text keys", value, "e.g. {'gold': 2.0}."
            )
        out.append((key, check_number(factor, name=f"{name}[{key!r}]", owner=_OWNER, low=0)))
    keys = [k for k, _ in out]
    if len(set(keys)) != len(keys):
        raise parameter_error(name, _OWNER, "a mapping with distinct keys", value)
    return tuple(sorted(out))


def _tier_multipliers(value: Any) -> tuple[tuple[str, float], ...]:
    return _multipliers(value, "tier_multipliers")


def _category_bonuses(value: Any) -> tuple[tuple[str, float], ...]:
    return _multipliers(value, "category_bonuses")


def _check_rate(instance: Any, attribute: Any, value: Any) -> None:
    check_number(
        value,
        name="earn_rate",
        owner=_OWNER,
        low=0,
        low_open=True,
        fix="points per currency unit, e.g. earn_rate=1.0.",
    )


def _check_rounding(instance: Any, attribute: Any, value: Any) -> None:
    check_choice(
        value,
        ROUNDINGS,
        name="rounding",
        owner=_OWNER,
        fix="'line' (each line's points floored) or 'order' (each order's total floored).",
    )


def _check_pending(instance: Any, attribute: Any, value: Any) -> None:
    check_int(value, name="pending_days", owner=_OWNER, low=0, high=3660)


def _check_expiry(instance: Any, attribute: Any, value: Any) -> None:
    check_choice(
        value,
        EXPIRIES,
        name="expiry",
        owner=_OWNER,
        fix="'months' (expiry_after months after earning), 'year_end' (31 December of the "
        "earning year plus expiry_after years) or 'never'.",
    )


def _check_after(instance: Any, attribute: Any, value: Any) -> None:
    low = 1 if instance.expiry == "months" else 0
    check_int(value, name="expiry_after", owner=_OWNER, low=low, high=1200)


@attrs.frozen(kw_only=True)
class PointsPolicy:
    """How points are earned, held back, and expire.

    Parameters
    ----------
    earn_rate : float
        Points per currency unit of a line's amount (before multipliers), > 0.
    rounding : {"line", "order"}
        ``"line"``: each line's points are rounded toward zero, so a refund line reverses
        exactly what its purchase line earned. ``"order"``: the order's net points are
        rounded down once.
    tier_multipliers : mapping of str to float
        Tier id -> multiplier of the earn rate (a ``tiers`` table says each customer's tier);
        other tiers and customers without one earn at 1x.
    category_bonuses : mapping of str to float
        Category -> multiplier (the transactions need a ``category`` column); other
        categories earn at 1x. Both multipliers apply: ``earn_rate * tier * category``.
    pending_days : int
        Days after earning during which points are *pending* (not redeemable) — the return
        window; a refund within it takes back points never available.
    expiry : {"months", "year_end", "never"}
        ``"months"``: points earned on day ``d`` are valid up to and including ``d`` plus
        ``expiry_after`` calendar months, clamped to the month's end (31 January + 1 month is
        28 or 29 February). ``"year_end"``: valid up to 31 December of the earning year plus
        ``expiry_after`` years. ``"never"``: they do not expire. Points never expire before
        they become available.
    expiry_after : int
        Months (``"months"``, at least 1) or years (``"year_end"``, 0 = the earning year).

    Examples
    --------
    >>> from retailcrm.loyalty import PointsPolicy
    >>> policy = PointsPolicy(earn_rate=1.0, tier_multipliers={"gold": 2.0}, pending_days=14)
    >>> policy.expiry, policy.expiry_after
    ('months', 12)
    >>> PointsPolicy.from_dict(policy.to_dict()) == policy
    True
    >>> len(policy.fingerprint)
    16
    """

    earn_rate: float = attrs.field(default=1.0, validator=_check_rate)
    rounding: Rounding = attrs.field(default="line", validator=_check_rounding)
    tier_multipliers: tuple[tuple[str, float], ...] = attrs.field(
        default=(), converter=_tier_multipliers
    )
    category_bonuses: tuple[tuple[str, float], ...] = attrs.field(
        default=(), converter=_category_bonuses
    )
    pending_days: int = attrs.field(default=0, validator=_check_pending)
    expiry: Expiry = attrs.field(default="months", validator=_check_expiry)
    expiry_after: int = attrs.field(default=12, validator=_check_after)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for YAML or JSON; :meth:`from_dict` reads it back."""
        return {
            "earn_rate": self.earn_rate,
            "rounding": self.rounding,
            "tier_multipliers": dict(self.tier_multipliers),
            "category_bonuses": dict(self.category_bonuses),
            "pending_days": self.pending_days,
            "expiry": self.expiry,
            "expiry_after": self.expiry_after,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PointsPolicy:
        """Build a policy from :meth:`to_dict` output; unknown keys raise ConfigError."""
        if not isinstance(data, Mapping):
            raise parameter_error("data", "PointsPolicy.from_dict", "a mapping", data)
        known = [f.name for f in attrs.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                f"PointsPolicy: unknown key(s) {unknown}. Known keys: {known}. Fix: remove "
                "or rename them."
            )
        return cls(**dict(data))

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of the policy, to record with results."""
        text = json.dumps(
            {"format": _FINGERPRINT_FORMAT, **self.to_dict()},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# calendar arithmetic on integer expressions
# ---------------------------------------------------------------------------------------------


def _is_leap(y: nw.Expr) -> nw.Expr:
    return ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)


def _new_year_day(y: nw.Expr) -> nw.Expr:
    """Day number of 1 January of year ``y`` (an Int64 expression)."""
    y1 = y - 1
    leap = (y1 // 4 - 492) - (y1 // 100 - 19) + (y1 // 400 - 4)
    return (y - 1970) * 365 + leap


def _date_day(y: nw.Expr, m: nw.Expr, d: nw.Expr) -> nw.Expr:
    """Day number of the date (y, m, d) — all Int64 expressions, d valid for the month."""
    before = (m * 367 - 362) // 12 + nw.when(m > 2).then(
        nw.when(_is_leap(y)).then(nw.lit(-1)).otherwise(nw.lit(-2))
    ).otherwise(nw.lit(0))
    return _new_year_day(y) + before + d - 1


def _month_length(y: nw.Expr, m: nw.Expr) -> nw.Expr:
    feb = nw.when(_is_leap(y)).then(nw.lit(29)).otherwise(nw.lit(28))
    short = m.is_in([4, 6, 9, 11])
    return nw.when(m == 2).then(feb).otherwise(nw.when(short).then(nw.lit(30)).otherwise(31))


def _with_expiry_day(frame: nw.LazyFrame[Any], policy: PointsPolicy) -> nw.LazyFrame[Any]:
    """Add ``expiry_day``: the last valid day (day number) of points earned on ``earned_on``
    (before the pending floor), staged in a few columns so the expressions stay small."""
    if policy.expiry == "never":
        return frame.with_columns(nw.lit(2**40, nw.Int64).alias("expiry_day"))
    date = nw.col("earned_on")
    y = date.dt.year().cast(nw.Int64)
    if policy.expiry == "year_end":
        return frame.with_columns(
            (_new_year_day(y + policy.expiry_after + 1) - 1).cast(nw.Int64).alias("expiry_day")
        )
    names = frame.collect_schema().names()
    ty, tm, dd, ml = (unique_name(f"_{n}", names) for n in ("ty", "tm", "dd", "ml"))
    months = y * 12 + date.dt.month().cast(nw.Int64) - 1 + policy.expiry_after
    return (
        frame.with_columns(
            (months // 12).alias(ty),
            (months % 12 + 1).alias(tm),
            date.dt.day().cast(nw.Int64).alias(dd),
        )
        .with_columns(_month_length(nw.col(ty), nw.col(tm)).cast(nw.Int64).alias(ml))
        .with_columns(
            _date_day(
                nw.col(ty),
                nw.col(tm),
                nw.when(nw.col(dd) > nw.col(ml)).then(nw.col(ml)).otherwise(nw.col(dd)),
            )
            .cast(nw.Int64)
            .alias("expiry_day")
        )
        .drop(ty, tm, dd, ml)
    )


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------


def _require(lf: nw.LazyFrame[Any], columns: tuple[str, ...], *, name: str, fix: str) -> None:
    available = list(lf.collect_schema().names())
    missing = [c for c in columns if c not in available]
    if missing:
        raise MissingColumnsError(missing, available=available, role=name, fix=fix)


def _prepare_redemptions(native: Any, as_of: AsOf) -> nw.LazyFrame[Any]:
    """Redemptions per (customer, day) up to ``as_of``: customer_id, day, redeemed (Int64)."""
    lf, _ = lazy_frame(native, name="redemptions")
    cols = ("customer_id", "redeemed_at", "points")
    _require(
        lf,
        cols,
        name="redemptions",
        fix="pass a table with customer_id, redeemed_at (date or datetime) and points "
        "(whole points redeemed, >= 0), renaming your columns.",
    )
    schema = lf.collect_schema()
    if schema["redeemed_at"] != nw.Date and schema["redeemed_at"] != nw.Datetime:
        raise InvalidDataError(
            f"redemptions: column 'redeemed_at' is of type {schema['redeemed_at']}, not a "
            "date. Fix: convert it, e.g. pd.to_datetime(df['redeemed_at'])."
        )
    if not schema["points"].is_numeric():
        raise InvalidDataError(
            f"redemptions: column 'points' is of type {schema['points']}, not a number. "
            "Fix: store whole points as integers."
        )
    pts = nw.col("points").cast(nw.Float64)
    bad = (
        nw.col("customer_id").is_null()
        | nw.col("redeemed_at").is_null()
        | nw.col("points").is_null()
        | pts.is_nan()
        | (pts < 0)
        | (pts != pts.floor())
    )
    n_bad = lf.select(bad.cast(nw.Int64).sum().alias("n")).pipe(collect_polars).item(0, "n")
    if n_bad:
        shown = lf.filter(bad).select("customer_id", "points").head(3).pipe(collect_polars).rows()
        raise InvalidDataError(
            f"redemptions: {n_bad} row(s) have a missing customer_id, redeemed_at or points, "
            f"or points that are negative or not whole, e.g. (customer_id, points) {shown}. "
            "Fix: drop or correct those rows; points are whole numbers >= 0."
        )
    return (
        lf.select(
            nw.col("customer_id"),
            day_number(nw.col("redeemed_at")).alias("day"),
            nw.col("points").cast(nw.Int64).alias("redeemed"),
        )
        .filter(nw.col("day") <= as_of.day)
        .group_by("customer_id", "day")
        .agg(nw.col("redeemed").sum().cast(nw.Int64))
    )


def _prepare_tiers(native: Any) -> nw.LazyFrame[Any]:
    lf, _ = lazy_frame(native, name="tiers")
    _require(
        lf,
        ("customer_id", "tier"),
        name="tiers",
        fix="pass the tier assignment table (customer_id, tier), e.g. program.assign(...).",
    )
    counts = (
        lf.select(
            nw.len().alias("rows"),
            nw.col("customer_id").n_unique().alias("customers"),
        )
        .pipe(collect_polars)
        .to_native()
        .row(0, named=True)
    )
    if counts["rows"] != counts["customers"]:
        raise InvalidDataError(
            f"tiers: {counts['rows'] - counts['customers']} customer(s) appear more than once. "
            "Fix: pass one tier per customer (tiers are constant over the ledger's period)."
        )
    return lf.select("customer_id", nw.col("tier").cast(nw.String))


def _mapped(column: str, pairs: tuple[tuple[str, float], ...]) -> nw.Expr:
    expr: nw.Expr = nw.lit(1.0)
    for key, factor in reversed(pairs):
        expr = nw.when(nw.col(column) == key).then(nw.lit(float(factor))).otherwise(expr)
    return expr


def _toward_zero(x: nw.Expr) -> nw.Expr:
    whole = (x.abs() + FLOOR_TOLERANCE).floor().cast(nw.Int64)
    return nw.when(x < 0).then(-whole).otherwise(whole)


# ---------------------------------------------------------------------------------------------
# the core
# ---------------------------------------------------------------------------------------------


def _lots(
    prepared: PreparedTransactions, policy: PointsPolicy, tiers: nw.LazyFrame[Any] | None
) -> nw.LazyFrame[Any]:
    """Lots per (customer, earning day): ``points`` (> 0), ``earn_day``, ``avail_day``,
    ``expiry_day``."""
    lines = prepared.frame
    names = lines.collect_schema().names()
    factor: nw.Expr = nw.lit(float(policy.earn_rate))
    if policy.tier_multipliers:
        if tiers is None:
            raise ConfigError(
                "points_ledger: the policy has tier_multipliers but no tiers table was given. "
                "Fix: pass tiers=<table of customer_id, tier>."
            )
        tier = unique_name("tier", names)
        lines = lines.join(tiers.rename({"tier": tier}), on="customer_id", how="left")
        factor = factor * _mapped(tier, policy.tier_multipliers)
    if policy.category_bonuses:
        if not prepared.has("category"):
            raise ConfigError(
                "points_ledger: the policy has category_bonuses but the transactions have no "
                "category column. Fix: map TransactionSchema(category=...) or drop the bonuses."
            )
        factor = factor * _mapped("category", policy.category_bonuses)
    scale = float(10**prepared.schema.currency_decimals)
    minor = nw.col("amount_minor").cast(nw.Float64)
    raw = minor * factor / (minor * 0.0 + scale)
    key = "order_id" if prepared.has("order_id") else "date"
    pts = unique_name("points", names)
    lines = lines.select(*dict.fromkeys(["customer_id", key, "date"]), raw.alias(pts))
    if policy.rounding == "line":
        per_order = nw.col(pts).pipe(_toward_zero).sum()
    else:
        per_order = nw.col(pts).sum()
    orders = lines.group_by("customer_id", key).agg(
        nw.col("date").min().alias("earned_on"), per_order.alias("points")
    )
    if policy.rounding == "order":
        orders = orders.with_columns(nw.col("points").pipe(_toward_zero))
    orders = _with_expiry_day(
        orders.filter(nw.col("points") > 0).with_columns(
            day_number(nw.col("earned_on")).alias("earn_day")
        ),
        policy,
    )
    return (
        orders.group_by("customer_id", "earn_day")
        .agg(nw.col("points").sum().cast(nw.Int64), nw.col("expiry_day").max())
        .with_columns((nw.col("earn_day") + policy.pending_days).alias("avail_day"))
        .with_columns(
            nw.when(nw.col("expiry_day") < nw.col("avail_day"))
            .then(nw.col("avail_day"))
            .otherwise(nw.col("expiry_day"))
            .alias("expiry_day")
        )
    )


def points_table(
    prepared: PreparedTransactions,
    policy: PointsPolicy,
    *,
    redemptions: nw.LazyFrame[Any] | None = None,
    tiers: nw.LazyFrame[Any] | None = None,
) -> nw.LazyFrame[Any]:
    """The core of :func:`points_ledger`: prepared lines cut at their ``as_of``, prepared
    redemptions (per customer and day, see ``_prepare_redemptions``) and tiers in; the ledger
    out as a narwhals LazyFrame sorted by ``customer_id``."""
    as_of = prepared.as_of
    if as_of is None:
        raise ConfigError("points_table needs lines cut at an as_of: prepared.until(as_of).")
    today = as_of.day
    lots = _lots(prepared, policy, tiers).with_columns(
        nw.col("points")
        .cum_sum()
        .over("customer_id", order_by="earn_day")
        .cast(nw.Int64)
        .alias("cum")
    )
    if redemptions is None:
        id_type = lots.collect_schema()["customer_id"]
        redemptions = lots.filter(nw.col("points") < 0).select(
            nw.col("customer_id").cast(id_type),
            nw.lit(0, nw.Int64).alias("day"),
            nw.lit(0, nw.Int64).alias("redeemed"),
        )
    # FIFO: the points expired are max(0, max over expired lots of C_i - R(E_i)), with R(E_i)
    # the points redeemed on or before the lot's last valid day E_i (a window sum over the
    # stream of redemptions and expiries, redemptions first on the same day).
    stream = nw.concat(
        [
            redemptions.select(
                "customer_id",
                "day",
                nw.lit(0, nw.Int64).alias("kind"),
                nw.col("redeemed").cast(nw.Int64).alias("redeemed"),
                nw.lit(0, nw.Int64).alias("cum"),
            ),
            lots.filter(nw.col("expiry_day") < today).select(
                "customer_id",
                nw.col("expiry_day").alias("day"),
                nw.lit(1, nw.Int64).alias("kind"),
                nw.lit(0, nw.Int64).alias("redeemed"),
                nw.col("cum"),
            ),
        ],
        how="vertical",
    )
    lapsed = (
        stream.with_columns(
            nw.col("redeemed")
            .cum_sum()
            .over("customer_id", order_by=["day", "kind"])
            .cast(nw.Int64)
            .alias("redeemed_by")
        )
        .filter(nw.col("kind") == 1)
        .group_by("customer_id")
        .agg((nw.col("cum") - nw.col("redeemed_by")).max().alias("expired"))
        .with_columns(
            nw.when(nw.col("expired") > 0).then(nw.col("expired")).otherwise(0).cast(nw.Int64)
        )
    )
    pending = nw.col("avail_day") > today
    earned = lots.group_by("customer_id").agg(
        nw.col("points").sum().cast(nw.Int64).alias("earned"),
        nw.when(pending).then(nw.col("points")).otherwise(0).sum().cast(nw.Int64).alias("pending"),
    )
    redeemed = redemptions.group_by("customer_id").agg(
        nw.col("redeemed").sum().cast(nw.Int64).alias("redeemed")
    )
    customers = nw.concat(
        [prepared.frame.select("customer_id"), redemptions.select("customer_id")], how="vertical"
    ).unique()
    ledger = (
        customers.join(earned, on="customer_id", how="left")
        .join(redeemed, on="customer_id", how="left")
        .join(lapsed, on="customer_id", how="left")
        .with_columns(
            *(
                nw.col(c).fill_null(0).cast(nw.Int64)
                for c in ("earned", "pending", "redeemed", "expired")
            )
        )
        .with_columns(
            (nw.col("earned") - nw.col("expired") - nw.col("redeemed") - nw.col("pending")).alias(
                "balance"
            )
        )
    )
    # Points of each unexpired lot still held: clip(C_i - F, 0, points_i), F = redeemed +
    # expired (the FIFO frontier); those whose last valid day is within the next 30 days.
    frontier = ledger.select(
        "customer_id", (nw.col("redeemed") + nw.col("expired")).alias("frontier")
    )
    held = nw.col("cum") - nw.col("frontier")
    clipped = (
        nw.when(held < 0)
        .then(nw.lit(0, nw.Int64))
        .otherwise(nw.when(held > nw.col("points")).then(nw.col("points")).otherwise(held))
    )
    soon = (
        lots.filter((nw.col("expiry_day") >= today) & (nw.col("expiry_day") <= today + 29))
        .join(frontier, on="customer_id", how="inner")
        .group_by("customer_id")
        .agg(clipped.sum().cast(nw.Int64).alias("expiring_30d"))
    )
    return (
        ledger.join(soon, on="customer_id", how="left")
        .with_columns(nw.col("expiring_30d").fill_null(0).cast(nw.Int64))
        .select(*LEDGER_COLUMNS)
        .sort("customer_id")
    )


def points_ledger(
    tx: Any,
    policy: PointsPolicy,
    *,
    as_of: Any,
    redemptions: Any = None,
    tiers: Any = None,
    schema: TransactionSchema | None = None,
    duplicates: Duplicates | None = None,
) -> Any:
    """Each customer's points as of a date: earned, pending, expired, redeemed, balance.

    Parameters
    ----------
    tx : dataframe
        Transaction lines (any supported engine), validated once like every reader of
        transactions. Negative amounts (or lines flagged ``refund``) are refunds: they reverse
        the points of their order at the rate it earned them.
    policy : PointsPolicy
        Earn rate, multipliers, pending period and expiry.
    as_of : date, datetime or ISO string
        The ledger date. Lines after it are ignored; a date includes the whole day.
    redemptions : dataframe, optional
        Points spent, same engine as ``tx``: ``customer_id``, ``redeemed_at`` (date or
        datetime) and ``points`` (whole, >= 0); counted by day, those after ``as_of``'s date
        ignored. They consume the oldest unexpired points first (FIFO).
    tiers : dataframe, optional
        ``customer_id``, ``tier`` (one row per customer, same engine as ``tx``) for the
        policy's ``tier_multipliers``. The tier is taken as constant over the whole period:
        to apply tier changes, compute the ledger per period with that period's tiers.
    schema : TransactionSchema, optional
        Column mapping for ``tx``.
    duplicates : {"keep", "drop"} or None
        The duplicate-lines policy of every reader of transactions.

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per customer with a line or a redemption, sorted
        by ``customer_id``; whole points (Int64): ``earned`` (net of refunds), ``pending``
        (not yet redeemable), ``expired``, ``redeemed``, ``balance`` (redeemable now) and
        ``expiring_30d`` (points held now whose last valid day is within the next 30 days,
        ``as_of`` to ``as_of + 29``, pending ones included). Always
        ``earned - expired - redeemed == balance + pending``.

    Raises
    ------
    MissingColumnsError
        A required column of ``tx``, ``redemptions`` or ``tiers`` is absent.
    InvalidDataError
        Invalid transactions; redemptions with missing or negative or fractional points; a
        customer twice in ``tiers``.
    ConfigError
        Bad ``as_of``; tier multipliers without ``tiers``; category bonuses without a
        ``category`` column.

    See Also
    --------
    points_summary : Programme totals: outstanding liability and breakage.

    Notes
    -----
    Points of a line are ``amount * earn_rate * tier multiplier * category bonus``, rounded
    toward zero per line (or per order, ``rounding="order"``) with a 1e-9 tolerance. An order
    (a customer-day without order ids) is one lot, dated by its first line, so a refund reverses
    its own order's points even weeks later; without order ids a refund on a later day finds
    no purchase to reverse. An order refunded beyond what it earned earns 0.

    FIFO is exact and computed in the engine with window sums (see the module notes); a
    redemption that exceeds the points available when it happened (or a refund that reversed
    points already spent) leaves a negative ``balance``.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import PointsPolicy, points_ledger
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["ann", "ann", "bob"],
    ...     "timestamp": pd.to_datetime(["2023-01-31", "2023-06-01", "2023-06-20"]),
    ...     "amount": [120.0, 80.0, 45.5],
    ... })
    >>> redeemed = pd.DataFrame({
    ...     "customer_id": ["ann"], "redeemed_at": pd.to_datetime(["2023-02-20"]), "points": [20],
    ... })
    >>> policy = PointsPolicy(expiry="months", expiry_after=3, pending_days=14)
    >>> points_ledger(tx, policy, as_of="2023-06-30", redemptions=redeemed)
      customer_id  earned  pending  expired  redeemed  balance  expiring_30d
    0         ann     200        0      100        20       80             0
    1         bob      45       45        0         0        0             0
    """
    check_duplicates(duplicates, owner="points_ledger")
    if not isinstance(policy, PointsPolicy):
        raise parameter_error("policy", "points_ledger", "a PointsPolicy", policy)
    parsed = parse_as_of(as_of)
    prepared = prepare_transactions(tx, schema=schema, as_of=as_of, duplicates=duplicates)
    table = points_table(
        prepared,
        policy,
        redemptions=None if redemptions is None else _prepare_redemptions(redemptions, parsed),
        tiers=None if tiers is None else _prepare_tiers(tiers),
    )
    return prepared.engine.to_native(table)


def points_summary(ledger: Any, *, point_value: float = 1.0) -> Any:
    """Programme totals of a :func:`points_ledger`: liability and breakage.

    Parameters
    ----------
    ledger : dataframe
        The output of :func:`points_ledger` (any engine).
    point_value : float
        The cost of one point in currency, >= 0 (e.g. 0.01 when 100 points buy 1 yuan).

    Returns
    -------
    dataframe
        One row, the caller's kind of frame: ``customers``, ``earned``, ``pending``,
        ``expired``, ``redeemed``, ``balance``, ``expiring_30d`` (totals),
        ``outstanding_points`` (``balance + pending``: points the programme still owes),
        ``liability`` (``outstanding_points * point_value``) and ``breakage_rate``
        (``expired / (expired + redeemed)``: the share of settled points that lapsed unused;
        missing when nothing has been settled yet).

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import points_summary
    >>> ledger = pd.DataFrame({
    ...     "customer_id": ["ann", "bob"], "earned": [200, 45], "pending": [0, 45],
    ...     "expired": [100, 0], "redeemed": [20, 0], "balance": [80, 0], "expiring_30d": [0, 0],
    ... })
    >>> points_summary(ledger, point_value=0.01)[["outstanding_points", "liability", "breakage_rate"]]
       outstanding_points  liability  breakage_rate
    0                 125       1.25       0.833333
    """
    value = check_number(point_value, name="point_value", owner="points_summary", low=0)
    lf, engine = lazy_frame(ledger, name="ledger")
    _require(
        lf,
        LEDGER_COLUMNS,
        name="ledger",
        fix="pass the output of points_ledger(...).",
    )
    sums = [nw.col(c).sum().cast(nw.Int64).alias(c) for c in LEDGER_COLUMNS[1:]]
    settled = nw.col("expired") + nw.col("redeemed")
    out = (
        lf.select(nw.len().cast(nw.Int64).alias("customers"), *sums)
        .with_columns((nw.col("balance") + nw.col("pending")).alias("outstanding_points"))
        .with_columns(
            (nw.col("outstanding_points").cast(nw.Float64) * value).alias("liability"),
            nw.when(settled > 0)
            .then(nw.col("expired").cast(nw.Float64) / settled.cast(nw.Float64))
            .otherwise(nw.lit(None, nw.Float64))
            .alias("breakage_rate"),
        )
    )
    return engine.to_native(out)
