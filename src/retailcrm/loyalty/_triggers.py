"""Triggered actions: :class:`Trigger`, :class:`ContactCap` and :func:`evaluate_triggers`.

A trigger is a condition over the customer feature table and the action it asks for. The day's
action list honours, in this order: marketing consent, each trigger's cooldown, a stable
hash-based holdout group per trigger, and the contact cap (at most ``max_contacts`` contacts in
any ``per_days`` window).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import day_number, parse_as_of
from retailcrm._engine import collect_polars, lazy_frame, lazy_frame_reading, unique_name
from retailcrm._params import check_int, check_number, parameter_error
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.rules import Rule, condition_expr

__all__ = [
    "BUILTIN_TRIGGERS",
    "STATUSES",
    "ContactCap",
    "Trigger",
    "evaluate_triggers",
]

Status = Literal["contacted", "holdout", "capped", "no_consent", "cooldown"]
#: What happened to each qualifying (customer, trigger), in order of precedence (the first
#: that applies): no consent, cooldown, holdout, capped; otherwise contacted.
STATUSES: tuple[Status, ...] = ("contacted", "holdout", "capped", "no_consent", "cooldown")
ACTION_COLUMNS = ("customer_id", "trigger", "label", "action", "priority", "status", "reason")
_FINGERPRINT_FORMAT = 1


def _check_text(owner: str, *, optional: bool = False) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        if not (isinstance(value, str) and value.strip()):
            expected = "a non-empty string" + (" or None" if optional else "")
            raise parameter_error(attribute.name, owner, expected, value)

    return check


def _check_when(instance: Trigger, attribute: attrs.Attribute[str], value: Any) -> None:
    if not isinstance(value, str):
        raise parameter_error("when", "Trigger", "a condition (text)", value)
    Rule(instance.id, value)  # checks the id and the syntax; raises RuleSyntaxError


def _to_translations(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    try:
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError):
        raise parameter_error(
            "translations", "Trigger", "a mapping language -> label", value, "e.g. {'zh': '…'}."
        ) from None
    for key, label in pairs:
        if not (isinstance(key, str) and key and isinstance(label, str) and label):
            raise parameter_error(
                "translations", "Trigger", "a mapping of non-empty text to text", value
            )
    return tuple(sorted(pairs))


def _check_priority(instance: Any, attribute: Any, value: Any) -> None:
    check_int(value, name="priority", owner="Trigger")


def _check_cooldown(instance: Any, attribute: Any, value: Any) -> None:
    check_int(value, name="cooldown_days", owner="Trigger", low=0)


@attrs.frozen
class Trigger:
    """A triggered action: when ``when`` holds for a customer, do ``action``.

    Parameters
    ----------
    id : str
        Unique among the triggers evaluated together; recorded in the contact history.
    when : str
        A condition in the rule language over the feature table (``days_since()`` and
        ``days_until()`` count from the ``as_of`` of :func:`evaluate_triggers`).
    action : str
        What to do (an offer, a message template id).
    priority : int
        Higher wins when a customer qualifies for more triggers than the cap allows.
    cooldown_days : int
        After contacting a customer for this trigger, do not fire it again for that customer
        until ``cooldown_days`` days have passed (0: no cooldown).
    label : str, optional
        Display name (default: the id).
    description : str
        Free text; also the ``reason`` of the action list when set.
    translations : mapping of str to str
        Labels in other languages, e.g. ``{"zh": "生日专属礼盒"}``; see :meth:`relabel`.

    Examples
    --------
    >>> from retailcrm.loyalty import Trigger
    >>> t = Trigger("winback", "recency_days > 30", "coupon 80", priority=5, cooldown_days=60,
    ...             translations={"zh": "老友回归券"})
    >>> t.relabel("zh").effective_label
    '老友回归券'
    >>> Trigger.from_dict(t.to_dict()) == t
    True
    """

    id: str = attrs.field()
    when: str = attrs.field(validator=_check_when)
    action: str = attrs.field(validator=_check_text("Trigger"))
    priority: int = attrs.field(default=0, validator=_check_priority)
    cooldown_days: int = attrs.field(default=0, validator=_check_cooldown)
    label: str | None = attrs.field(
        default=None, kw_only=True, validator=_check_text("Trigger", optional=True)
    )
    description: str = attrs.field(default="", kw_only=True)
    translations: tuple[tuple[str, str], ...] = attrs.field(
        default=(), kw_only=True, converter=_to_translations
    )

    @property
    def effective_label(self) -> str:
        """``label``, or the id when there is none."""
        return self.id if self.label is None else self.label

    @property
    def reason(self) -> str:
        """Why a customer qualifies: the description, else the condition."""
        return self.description or self.when

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the condition reads, so a caller can keep the triggers its feature
        table can evaluate.

        Examples
        --------
        >>> from retailcrm.loyalty import Trigger
        >>> Trigger("vip", "orders_90d >= 4 and days_until(birthday) <= 7", "gift").columns
        ('orders_90d', 'birthday')
        """
        return Rule(self.id, self.when).columns

    def relabel(self, language: str) -> Trigger:
        """The same trigger with its label in ``language`` (a key of ``translations``).

        Raises
        ------
        ConfigError
            No translation into ``language``.
        """
        table = dict(self.translations)
        if language not in table:
            raise parameter_error(
                "language",
                f"Trigger({self.id!r}).relabel",
                f"one of {sorted(table)}",
                language,
                "add it to the trigger's translations.",
            )
        return attrs.evolve(self, label=table[language])

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for YAML or JSON; :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {
            "id": self.id,
            "when": self.when,
            "action": self.action,
            "priority": self.priority,
            "cooldown_days": self.cooldown_days,
        }
        if self.label is not None:
            out["label"] = self.label
        if self.description:
            out["description"] = self.description
        if self.translations:
            out["translations"] = dict(self.translations)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trigger:
        """Build a trigger from :meth:`to_dict` output; unknown keys raise ConfigError."""
        if not isinstance(data, Mapping):
            raise parameter_error("data", "Trigger.from_dict", "a mapping", data)
        known = [f.name for f in attrs.fields(cls)]
        unknown = sorted(set(data) - set(known))
        missing = [k for k in ("id", "when", "action") if k not in data]
        if unknown or missing:
            raise ConfigError(
                f"Trigger: unknown key(s) {unknown}, missing key(s) {missing}. Known keys: "
                f"{known}. Fix: write id, when and action, and only known keys."
            )
        return cls(**dict(data))

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of what decides the trigger's output."""
        data = {"format": _FINGERPRINT_FORMAT, **self.to_dict()}
        data.pop("description", None)
        data.pop("translations", None)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _check_max(instance: Any, attribute: Any, value: Any) -> None:
    check_int(value, name="max_contacts", owner="ContactCap", low=0)


def _check_per(instance: Any, attribute: Any, value: Any) -> None:
    check_int(value, name="per_days", owner="ContactCap", low=1)


@attrs.frozen
class ContactCap:
    """At most ``max_contacts`` proactive contacts per customer in any ``per_days`` days.

    Counts every contact in the contact history (any trigger or campaign) plus today's.

    Examples
    --------
    >>> from retailcrm.loyalty import ContactCap
    >>> ContactCap()
    ContactCap(max_contacts=2, per_days=30)
    """

    max_contacts: int = attrs.field(default=2, validator=_check_max)
    per_days: int = attrs.field(default=30, validator=_check_per)


#: The boutique's triggered actions (DOMAIN: the 拾光衣橱 case). Each reads columns of the
#: feature table or of tables joined to it by ``customer_id``:
#:
#: * ``birthday_gift``: ``birthday`` (customers table), within 7 days;
#: * ``styling_suggestion``: ``viewed_not_bought_3d`` (the events features);
#: * ``tier_lapse``: ``change`` and ``grace_until`` of a tier assignment
#:   (``TierProgram.assign``): a member kept on grace that ends within 30 days;
#: * ``points_expiring``: ``expiring_30d`` of :func:`~retailcrm.loyalty.points_ledger`;
#: * ``welcome_back``: ``recency_days`` over 30.
BUILTIN_TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "birthday_gift",
        "days_until(birthday) <= 7",
        "gift box (scarf) + coupon 500",
        priority=40,
        cooldown_days=300,
        label="Birthday gift box",
        translations={"en": "Birthday gift box", "zh": "生日专属礼盒"},
    ),
    Trigger(
        "tier_lapse",
        "change == 'grace' and days_since(grace_until) >= -30",
        "renewal reminder: what keeps the tier",
        priority=30,
        cooldown_days=30,
        label="Tier about to lapse",
        translations={"en": "Tier about to lapse", "zh": "会员等级即将到期"},
    ),
    Trigger(
        "styling_suggestion",
        "viewed_not_bought_3d",
        "styling suggestion for the viewed item",
        priority=20,
        cooldown_days=7,
        label="Styling suggestion",
        translations={"en": "Styling suggestion", "zh": "搭配推荐"},
    ),
    Trigger(
        "points_expiring",
        "expiring_30d > 0",
        "points expiry reminder",
        priority=15,
        cooldown_days=30,
        label="Points about to expire",
        translations={"en": "Points about to expire", "zh": "积分即将过期"},
    ),
    Trigger(
        "welcome_back",
        "recency_days > 30",
        "'welcome back, old friend' coupon",
        priority=10,
        cooldown_days=90,
        label="Welcome back, old friend",
        translations={"en": "Welcome back, old friend", "zh": "老友回归券"},
    ),
)


def _check_triggers(triggers: Any) -> tuple[Trigger, ...]:
    if isinstance(triggers, Trigger):
        triggers = (triggers,)
    if isinstance(triggers, str | bytes | Mapping) or not isinstance(triggers, Iterable):
        raise parameter_error("triggers", "evaluate_triggers", "a list of Trigger", triggers)
    out = tuple(triggers)
    if not out or not all(isinstance(t, Trigger) for t in out):
        raise parameter_error(
            "triggers", "evaluate_triggers", "a non-empty list of Trigger", triggers
        )
    ids = [t.id for t in out]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(
            f"evaluate_triggers: trigger ids must be unique; repeated: {repeated}. "
            "Fix: rename the triggers."
        )
    return out


def _require(lf: nw.LazyFrame[Any], columns: tuple[str, ...], *, name: str, fix: str) -> None:
    available = list(lf.collect_schema().names())
    missing = [c for c in columns if c not in available]
    if missing:
        raise MissingColumnsError(missing, available=available, role=name, fix=fix)


def _check_date(lf: nw.LazyFrame[Any], column: str, name: str) -> None:
    dtype = lf.collect_schema()[column]
    if dtype != nw.Date and dtype != nw.Datetime:
        raise InvalidDataError(
            f"{name}: column {column!r} is of type {dtype}, not a date. Fix: convert it, "
            f"e.g. pd.to_datetime(df[{column!r}])."
        )


def _bucket(customer: Any, trigger: str) -> float:
    """A stable number in [0, 1) for (trigger, customer): BLAKE2b of their text."""
    digest = hashlib.blake2b(f"{trigger}\x1f{customer}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def evaluate_triggers(
    features: Any,
    triggers: Iterable[Trigger],
    *,
    as_of: Any,
    contact_history: Any = None,
    cap: ContactCap = ContactCap(),
    consent: Any = None,
    holdout: float | None = None,
) -> Any:
    """The day's action list: who qualifies for which trigger, and whether to contact them.

    Parameters
    ----------
    features : dataframe
        The customer feature table (any engine; one row per ``customer_id``), with any
        columns the triggers read joined on (a tier assignment, a points ledger).
    triggers : sequence of Trigger
        Distinct ids; e.g. :data:`BUILTIN_TRIGGERS`.
    as_of : date, datetime or ISO string
        Today: ``days_since()``/``days_until()`` count from it; cooldowns and the cap window
        end on it.
    contact_history : dataframe, optional
        Past contacts, same engine as ``features``: ``customer_id``, ``trigger`` and
        ``contacted_at`` (date or datetime; contacts after ``as_of``'s date are ignored).
        Every row counts towards the cap, whatever its trigger (record other campaigns too);
        rows of a trigger start its cooldown. Append the ``"contacted"`` rows of each day's
        result to it.
    cap : ContactCap
        At most ``cap.max_contacts`` contacts per customer in any ``cap.per_days`` days,
        counting the history and today's contacts.
    consent : dataframe, optional
        ``customer_id``, ``consent`` (true/false), same engine as ``features``. A customer
        without a row, with a missing value, or with any ``False`` row is never contacted
        (status ``"no_consent"``). ``None``: every customer may be contacted.
    holdout : float, optional
        Share in [0, 1) of each trigger's eligible customers kept as a control group (status
        ``"holdout"``, reported, not contacted), chosen by a stable hash of the trigger id and
        the customer id's text: the same customers on every day, run and engine.

    Returns
    -------
    dataframe
        The caller's kind of frame, one row per qualifying (customer, trigger), sorted by
        ``customer_id``, then priority (highest first), then trigger id: ``customer_id``,
        ``trigger`` (id), ``label``, ``action``, ``priority``, ``status`` (one of
        ``"contacted"``, ``"holdout"``, ``"capped"``, ``"no_consent"``, ``"cooldown"``) and
        ``reason`` (the trigger's description, else its condition). Customers who qualify
        for nothing are not rows.

    Raises
    ------
    MissingColumnsError
        ``customer_id`` missing from ``features``, or a column of ``contact_history`` or
        ``consent``.
    RuleSyntaxError
        A trigger's condition does not fit the feature table.
    InvalidDataError
        A ``customer_id`` repeated in ``features``; ``contacted_at`` is not a date.
    ConfigError
        Bad ``as_of``, ``cap``, ``holdout`` or repeated trigger ids.

    Notes
    -----
    Status precedence: ``no_consent``, then ``cooldown`` (the trigger contacted this customer
    less than ``cooldown_days`` days ago), then ``holdout``, then the cap: a customer with
    ``k`` contacts in the history within the last ``per_days`` days (today included) gets at
    most ``max_contacts - k`` more today, taken by priority (highest first), then trigger id;
    the rest are ``"capped"``. Since each day keeps the window that ends on it within the cap,
    every ``per_days`` window is.

    Everything runs in the caller's engine, and a lazy input gives a lazy result: the
    conditions, the history, consent, cooldowns and the cap (a window over each customer's
    candidates). Only with ``holdout`` are the candidate (customer, trigger) pairs collected,
    to hash them in Python the same way on every engine.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.loyalty import ContactCap, Trigger, evaluate_triggers
    >>> features = pd.DataFrame({"customer_id": [1, 2, 3], "recency_days": [45, 10, 90],
    ...                          "orders_90d": [1, 5, 0]})
    >>> triggers = [
    ...     Trigger("winback", "recency_days > 30", "coupon 80", priority=1),
    ...     Trigger("vip", "orders_90d >= 4", "priority try-on", priority=2),
    ...     Trigger("lapsed", "recency_days > 60", "call", priority=3),
    ... ]
    >>> consent = pd.DataFrame({"customer_id": [1, 2, 3], "consent": [True, True, False]})
    >>> out = evaluate_triggers(features, triggers, as_of="2024-06-30",
    ...                         cap=ContactCap(max_contacts=1, per_days=30), consent=consent)
    >>> out[["customer_id", "trigger", "status"]]
       customer_id  trigger      status
    0            1  winback   contacted
    1            2      vip   contacted
    2            3   lapsed  no_consent
    3            3  winback  no_consent
    """
    owner = "evaluate_triggers"
    parsed = parse_as_of(as_of)
    trigger_list = _check_triggers(triggers)
    if not isinstance(cap, ContactCap):
        raise parameter_error("cap", owner, "a ContactCap", cap, "e.g. ContactCap(2, 30).")
    share = None
    if holdout is not None:
        share = check_number(
            holdout, name="holdout", owner=owner, low=0, high=1, high_open=True, fix="e.g. 0.1."
        )
    today = parsed.day
    lf, engine = lazy_frame_reading(
        features, ["customer_id", *(c for t in trigger_list for c in t.columns)]
    )
    _require(lf, ("customer_id",), name="features", fix="pass the customer feature table.")
    repeated = (
        lf.select((nw.len() - nw.col("customer_id").n_unique()).alias("n"))
        .pipe(collect_polars)
        .item(0, "n")
    )
    if repeated:
        raise InvalidDataError(
            f"features: {repeated} row(s) repeat a customer_id. Fix: pass one row per "
            "customer (the customer feature table, with other tables joined on customer_id)."
        )
    schema = lf.collect_schema()
    candidates = nw.concat(
        [
            lf.filter(condition_expr(t.when, schema, as_of=as_of)).select(
                nw.col("customer_id"),
                nw.lit(t.id, nw.String).alias("trigger"),
                nw.lit(t.effective_label, nw.String).alias("label"),
                nw.lit(t.action, nw.String).alias("action"),
                nw.lit(t.priority, nw.Int64).alias("priority"),
                nw.lit(t.cooldown_days, nw.Int64).alias("cooldown_days"),
                nw.lit(t.reason, nw.String).alias("reason"),
            )
            for t in trigger_list
        ],
        how="vertical",
    )
    if contact_history is not None:
        hist, _ = lazy_frame(contact_history, name="contact_history")
        _require(
            hist,
            ("customer_id", "trigger", "contacted_at"),
            name="contact_history",
            fix="pass past contacts as customer_id, trigger, contacted_at.",
        )
        _check_date(hist, "contacted_at", "contact_history")
        horizon = max([cap.per_days, *(t.cooldown_days for t in trigger_list)])
        recent = (
            hist.select(
                "customer_id",
                nw.col("trigger").cast(nw.String),
                day_number(nw.col("contacted_at")).alias("day"),
            )
            .filter((nw.col("day") <= today) & (nw.col("day") > today - horizon))
            .join(candidates.select("customer_id").unique(), on="customer_id", how="inner")
        )
        last = recent.group_by("customer_id", "trigger").agg(
            nw.col("day").max().cast(nw.Int64).alias("last_contact")
        )
        counts = (
            recent.filter(nw.col("day") > today - cap.per_days)
            .group_by("customer_id")
            .agg(nw.len().cast(nw.Int64).alias("recent_contacts"))
        )
        candidates = candidates.join(last, on=["customer_id", "trigger"], how="left").join(
            counts, on="customer_id", how="left"
        )
    else:
        candidates = candidates.with_columns(
            nw.lit(None, nw.Int64).alias("last_contact"),
            nw.lit(0, nw.Int64).alias("recent_contacts"),
        )
    if consent is not None:
        given, _ = lazy_frame(consent, name="consent")
        _require(
            given,
            ("customer_id", "consent"),
            name="consent",
            fix="pass a table of customer_id and consent (True/False).",
        )
        agreed = given.group_by("customer_id").agg(
            (nw.col("consent").fill_null(False).cast(nw.Int64).min() == 1).alias("consent"),
        )
        candidates = candidates.join(agreed, on="customer_id", how="left")
    else:
        candidates = candidates.with_columns(nw.lit(True).alias("consent"))
    held = _holdout(candidates, share, engine, features) if share else None
    if held is not None:
        candidates = candidates.join(held, on=["customer_id", "trigger"], how="left")
    in_holdout = nw.col("held").fill_null(False) if held is not None else nw.lit(False)
    last_contact = nw.col("last_contact")
    cooling = ~last_contact.is_null() & (nw.lit(today) - last_contact < nw.col("cooldown_days"))
    status = (
        nw.when(~nw.col("consent").fill_null(False))
        .then(nw.lit("no_consent"))
        .when(cooling)
        .then(nw.lit("cooldown"))
        .when(in_holdout)
        .then(nw.lit("holdout"))
        .otherwise(nw.lit("eligible"))
    )
    order = unique_name("__order__", schema.names())
    candidates = candidates.with_columns(
        status.alias("status"),
        (-nw.col("priority")).alias(order),
        nw.col("recent_contacts").fill_null(0),
    )
    # the cap, in the engine: a customer's eligible candidates are ranked by priority (highest
    # first), then trigger id; the first (max_contacts - recent contacts) are contacted
    eligible = nw.col("status") == "eligible"
    rank = eligible.cast(nw.Int64).cum_sum().over("customer_id", order_by=[order, "trigger"])
    allowed = (nw.lit(cap.max_contacts) - nw.col("recent_contacts")).clip(lower_bound=0)
    result = (
        candidates.with_columns(
            nw.when(eligible & (rank.cast(nw.Int64) <= allowed))
            .then(nw.lit("contacted"))
            .when(eligible)
            .then(nw.lit("capped"))
            .otherwise(nw.col("status"))
            .alias("status")
        )
        .select(*ACTION_COLUMNS)
        .sort(["customer_id", "priority", "trigger"], descending=[False, True, False])
    )
    return engine.to_native(result)


def _holdout(
    candidates: nw.LazyFrame[Any], share: float, engine: Any, features: Any
) -> nw.LazyFrame[Any]:
    """The (customer, trigger) pairs in the holdout group, as a frame of ``features``' engine.

    The hash is BLAKE2b of the trigger id and the customer id's text, computed in Python so
    that it is the same on every engine: the candidate pairs (two columns, one row per
    customer and trigger that qualifies) are collected for it; everything else stays in the
    engine.
    """
    import polars as pl

    pairs = candidates.select("customer_id", "trigger").pipe(collect_polars).to_native()
    keep = [
        _bucket(c, t) < share
        for c, t in zip(pairs["customer_id"].to_list(), pairs["trigger"].to_list(), strict=True)
    ]
    held = pairs.filter(pl.Series(keep, dtype=pl.Boolean)).with_columns(pl.lit(True).alias("held"))
    if not engine.is_lazy:
        return nw.from_native(held.lazy())
    return nw.from_native(engine.small_native(held, like=features))
