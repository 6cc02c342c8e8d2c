"""Column mappings: which of the caller's columns plays which role."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from retailcrm.exceptions import ConfigError

__all__ = [
    "EVENT_TYPES",
    "CustomerSchema",
    "EventSchema",
    "ResponseSchema",
    "SpendSchema",
    "SurveySchema",
    "TransactionSchema",
]


def _column_name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"column names must be non-empty strings, got {value!r}")
    return value


def _required(value: Any) -> str:
    name = _column_name(value)
    if name is None:
        raise ConfigError("required roles (customer_id, timestamp, amount) cannot be None")
    return name


class _RoleMapping:
    """Shared behaviour of the schema classes: roles, renaming, dict round-trip."""

    required_roles: ClassVar[tuple[str, ...]] = ()
    optional_roles: ClassVar[tuple[str, ...]] = ()

    @property
    def roles(self) -> dict[str, str]:
        """Mapping role -> the caller's column name, for every role that is mapped."""
        out = {}
        for role in (*self.required_roles, *self.optional_roles):
            col = getattr(self, role)
            if col is not None:
                out[role] = col
        return out

    @property
    def explicit_roles(self) -> dict[str, str]:
        """The optional roles mapped to a column of another name than the role's own.

        Such a mapping is a promise that the column exists: a missing one is an error. A role
        left at its default (its own name) is used only when a column of that name exists.
        """
        return {r: c for r, c in self.roles.items() if r in self.optional_roles and c != r}

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, suitable for YAML or JSON; see :meth:`from_dict`."""
        return attrs.asdict(self)  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Build from :meth:`to_dict` output; unknown keys raise :class:`ConfigError`."""
        known = {f.name for f in attrs.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{cls.__name__}: unknown key(s) {unknown}. Known keys: {sorted(known)}."
            )
        return cls(**data)


def _check_distinct(instance: Any, attribute: Any, value: Any) -> None:
    roles = instance.roles
    seen: dict[str, str] = {}
    for role, col in roles.items():
        if col in seen:
            raise ConfigError(
                f"{type(instance).__name__}: column {col!r} is mapped to both "
                f"{seen[col]!r} and {role!r}. Fix: map each role to its own column."
            )
        seen[col] = role


def _check_zone(instance: Any, attribute: Any, value: Any) -> None:
    """A ``timezone`` must be ``None`` or an IANA zone name."""
    if value is None:
        return
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{type(instance).__name__}: unknown time zone {value!r}. "
            "Fix: use an IANA name such as 'Europe/Berlin' or 'UTC'."
        ) from exc


@attrs.frozen(kw_only=True)
class TransactionSchema(_RoleMapping):
    """Maps a transaction table's column names to the roles retailcrm understands.

    Every role defaults to its own name, so ``TransactionSchema()`` fits a frame whose columns
    are already called ``customer_id``, ``timestamp``, ``amount`` and so on. Optional roles
    default to their names too and are used when a column of that name exists; set one to
    ``None`` to ignore such a column.

    Parameters
    ----------
    customer_id, timestamp, amount : str
        Required roles: the customer key, when the line happened (datetime, date or ISO text)
        and the line's value in currency (negative for returns and refunds).
    order_id, quantity, product_id, category, channel, discount, refund : str or None
        Optional roles. ``order_id`` groups lines into orders (a *purchase occasion*); without
        it a customer-day is one occasion. ``refund`` names a boolean flag (``True``, or 1,
        marks a refund line whose amount is stored as a positive number, e.g. ``退款``):
        flagged lines count as returns, under the same returns policy as negative amounts.
        A role mapped to another name than its own must exist in the frame
        (:class:`~retailcrm.exceptions.MissingColumnsError` otherwise); a role left at its
        default is used when a column of that name exists.
    timezone : str or None
        The zone whose calendar counts (an IANA name such as ``"Asia/Shanghai"``). Aware
        timestamps and ISO text with an offset are instants, shown in this zone's wall-clock
        time. ``None``: text keeps its own offset's time, an aware pandas or polars column its
        own zone, and DuckDB ``TIMESTAMPTZ`` / Spark ``TIMESTAMP`` values are read in UTC
        (never in the session zone). Naive timestamps and plain dates are taken as written.
    currency_decimals : int
        Minor units of the currency (2 for yuan and euro cents, 0 for yen). Money is summed in
        whole minor units, so every total is exact and the same in every run, row order and
        engine; amounts are rounded to this many decimals first (half away from zero).

    Examples
    --------
    >>> from retailcrm import TransactionSchema
    >>> schema = TransactionSchema(customer_id="member", timestamp="paid_at", amount="total")
    >>> schema.roles["customer_id"], schema.roles["amount"]
    ('member', 'total')
    >>> TransactionSchema.from_dict(schema.to_dict()) == schema
    True
    """

    required_roles: ClassVar[tuple[str, ...]] = ("customer_id", "timestamp", "amount")
    optional_roles: ClassVar[tuple[str, ...]] = (
        "order_id",
        "quantity",
        "product_id",
        "category",
        "channel",
        "discount",
        "refund",
    )

    customer_id: str = attrs.field(default="customer_id", converter=_required)
    timestamp: str = attrs.field(default="timestamp", converter=_required)
    amount: str = attrs.field(default="amount", converter=_required)
    order_id: str | None = attrs.field(default="order_id", converter=_column_name)
    quantity: str | None = attrs.field(default="quantity", converter=_column_name)
    product_id: str | None = attrs.field(default="product_id", converter=_column_name)
    category: str | None = attrs.field(default="category", converter=_column_name)
    channel: str | None = attrs.field(default="channel", converter=_column_name)
    discount: str | None = attrs.field(default="discount", converter=_column_name)
    refund: str | None = attrs.field(
        default="refund", converter=_column_name, validator=_check_distinct
    )
    timezone: str | None = attrs.field(default=None)
    currency_decimals: int = attrs.field(default=2)

    @currency_decimals.validator
    def _check_decimals(self, attribute: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
            raise ConfigError(
                "The 'currency_decimals' parameter of TransactionSchema must be an int in "
                f"[0, 6]. Got {value!r} instead. Fix: 2 for cents, 0 for currencies without "
                "minor units (yen, won)."
            )

    @timezone.validator
    def _check_timezone(self, attribute: Any, value: str | None) -> None:
        if value is None:
            return
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"TransactionSchema: unknown time zone {value!r}. "
                "Fix: use an IANA name such as 'Europe/Berlin' or 'UTC'."
            ) from exc


@attrs.frozen(kw_only=True)
class CustomerSchema(_RoleMapping):
    """Maps a customers (profile) table's column names to roles.

    Parameters
    ----------
    customer_id : str
        The customer key; must match the transactions' customer ids.
    registered_at : str or None
        Registration date or datetime; ``tenure_days`` counts from it.
    birthday : str or None
        Date of birth (only month and day are used by birthday triggers).
    timezone : str or None
        The zone whose calendar counts for aware datetimes and ISO text with an offset (the
        time rule of :class:`TransactionSchema`). ``None``: in
        :func:`~retailcrm.customer_features`, the transactions' ``timezone``; otherwise each
        value's own offset or zone.

    Notes
    -----
    Other columns of the customers frame are passed through to the feature table as
    attributes (region, gender, ...). Dates may be date or datetime columns or ISO text
    (``"2024-03-01"``); blank text counts as missing. :func:`~retailcrm.data.validate_customers`
    lists every problem.

    Examples
    --------
    >>> from retailcrm.data import CustomerSchema
    >>> CustomerSchema(customer_id="member").roles
    {'customer_id': 'member', 'registered_at': 'registered_at', 'birthday': 'birthday'}
    """

    required_roles: ClassVar[tuple[str, ...]] = ("customer_id",)
    optional_roles: ClassVar[tuple[str, ...]] = ("registered_at", "birthday")

    customer_id: str = attrs.field(default="customer_id", converter=_required)
    registered_at: str | None = attrs.field(default="registered_at", converter=_column_name)
    birthday: str | None = attrs.field(
        default="birthday", converter=_column_name, validator=_check_distinct
    )
    timezone: str | None = attrs.field(default=None, validator=_check_zone)


@attrs.frozen(kw_only=True)
class ResponseSchema(_RoleMapping):
    """Maps a campaign-contacts table's column names to roles (one row per contact).

    Parameters
    ----------
    customer_id : str
        The customer key.
    contacted_at : str
        When the contact was made (date or datetime); contacts after ``as_of`` are ignored.
    responded : str
        Whether the customer responded (boolean, or 0/1; a null counts as no response).
    timezone : str or None
        As for :class:`CustomerSchema`: the zone whose calendar counts for instants.

    Examples
    --------
    >>> from retailcrm.data import ResponseSchema
    >>> ResponseSchema(responded="converted").roles["responded"]
    'converted'
    """

    required_roles: ClassVar[tuple[str, ...]] = ("customer_id", "contacted_at", "responded")
    optional_roles: ClassVar[tuple[str, ...]] = ()

    customer_id: str = attrs.field(default="customer_id", converter=_required)
    contacted_at: str = attrs.field(default="contacted_at", converter=_required)
    responded: str = attrs.field(
        default="responded", converter=_required, validator=_check_distinct
    )
    timezone: str | None = attrs.field(default=None, validator=_check_zone)


def _check_scale(instance: Any, attribute: Any, value: Any) -> None:
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    )
    if not ok:
        raise ConfigError(
            f"The 'scale' parameter of SurveySchema must be two whole numbers (lowest, highest) "
            f"with lowest < highest. Got {value!r} instead. Fix: scale=(0, 10) for NPS, "
            "scale=(1, 5) for a five-point CSAT."
        )


def _pair(value: Any) -> Any:
    try:
        return tuple(value)
    except TypeError:
        return value


@attrs.frozen(kw_only=True)
class SurveySchema(_RoleMapping):
    """Maps a survey-answers table's column names to roles (one row per answer).

    Parameters
    ----------
    customer_id, answered_at, score : str
        Required roles: the customer key, when the answer was given (date, datetime or ISO
        text, read by the time rule of :class:`TransactionSchema`) and the score.
    channel, touchpoint : str or None
        Optional labels: where the survey was sent (``"sms"``, ``"app"``) and what it was
        about (``"delivery"``, ``"store visit"``). Used when a column of that name exists.
    scale : (int, int)
        Lowest and highest possible score; every score must be a whole number in it.
        ``(0, 10)`` (NPS) by default, ``(1, 5)`` for a five-point CSAT.
    timezone : str or None
        The zone whose calendar counts for instants (aware datetimes, ISO text with an
        offset); ``None`` keeps each value's own offset or zone.

    Examples
    --------
    >>> from retailcrm.data import SurveySchema
    >>> csat = SurveySchema(score="rating", scale=(1, 5))
    >>> csat.roles["score"], csat.scale
    ('rating', (1, 5))
    >>> SurveySchema.from_dict(csat.to_dict()) == csat
    True
    """

    required_roles: ClassVar[tuple[str, ...]] = ("customer_id", "answered_at", "score")
    optional_roles: ClassVar[tuple[str, ...]] = ("channel", "touchpoint")

    customer_id: str = attrs.field(default="customer_id", converter=_required)
    answered_at: str = attrs.field(default="answered_at", converter=_required)
    score: str = attrs.field(default="score", converter=_required)
    channel: str | None = attrs.field(default="channel", converter=_column_name)
    touchpoint: str | None = attrs.field(
        default="touchpoint", converter=_column_name, validator=_check_distinct
    )
    scale: tuple[int, int] = attrs.field(default=(0, 10), converter=_pair, validator=_check_scale)
    timezone: str | None = attrs.field(default=None, validator=_check_zone)


@attrs.frozen(kw_only=True)
class SpendSchema(_RoleMapping):
    """Maps a marketing-spend table's column names to roles (one row per channel and period).

    Parameters
    ----------
    period, date : str or None
        When the money was spent; one of the two is used. ``period`` is a calendar month:
        text ``"2024-03"`` (an ISO date or datetime in it, such as ``"2024-03-01"``, also
        names its month), a date or datetime column (its month), or a pandas ``Period`` of
        monthly frequency. ``date`` is one day: a date or datetime column or ISO text.
        Both default to their own names; when the table has columns of both names, map the
        one to use to its column (or set the other to ``None``).
    channel, amount : str
        Required roles: the acquisition channel and the money spent (a number, or numeric
        text; negative amounts are credits and are reported as a warning).

    Notes
    -----
    The prepared table has one row per input row with ``channel``, ``amount`` and the
    period's first and last day, ``start`` and ``end`` (the same day for ``date`` rows);
    rows of one channel and period add up.

    Examples
    --------
    >>> from retailcrm.data import SpendSchema
    >>> schema = SpendSchema(period="month", amount="spend")
    >>> schema.roles
    {'channel': 'channel', 'amount': 'spend', 'period': 'month', 'date': 'date'}
    >>> SpendSchema.from_dict(schema.to_dict()) == schema
    True
    """

    required_roles: ClassVar[tuple[str, ...]] = ("channel", "amount")
    optional_roles: ClassVar[tuple[str, ...]] = ("period", "date")

    period: str | None = attrs.field(default="period", converter=_column_name)
    date: str | None = attrs.field(default="date", converter=_column_name)
    channel: str = attrs.field(default="channel", converter=_required)
    amount: str = attrs.field(default="amount", converter=_required, validator=_check_distinct)

    @date.validator
    def _check_when(self, attribute: Any, value: Any) -> None:
        if self.period is None and value is None:
            raise ConfigError(
                "SpendSchema: period and date are both None, so spend cannot be placed in "
                "time. Fix: map one of them, e.g. SpendSchema(period='month') for monthly "
                "totals or SpendSchema(date='day') for daily rows."
            )


#: The event types retailcrm counts; :class:`EventSchema` maps the caller's labels onto them.
EVENT_TYPES = ("view", "cart", "favourite", "search")
_BUILTIN_LABELS: dict[str, str | None] = {t: t for t in EVENT_TYPES}
_BUILTIN_LABELS["favorite"] = "favourite"


def _label_pairs(value: Any) -> tuple[tuple[str, str | None], ...]:
    items = value.items() if isinstance(value, dict) else value
    try:
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"EventSchema: event_types must be a dict of label -> event type, got {value!r}. "
            "Fix: e.g. event_types={'pv': 'view', 'add_to_cart': 'cart', 'share': None}."
        ) from exc
    out: dict[str, str | None] = {}
    for label, kind in pairs:
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(
                f"EventSchema: event type labels must be non-empty strings, got {label!r}."
            )
        if kind is not None and kind not in EVENT_TYPES:
            raise ConfigError(
                f"EventSchema: label {label!r} is mapped to {kind!r}, which is not an event "
                f"type. Fix: map it to one of {list(EVENT_TYPES)}, or to None to ignore it."
            )
        out[label.strip().lower()] = kind
    return tuple(sorted(out.items()))


@attrs.frozen(kw_only=True)
class EventSchema(_RoleMapping):
    """Maps a behaviour-events table's column names to roles (one row per event).

    Parameters
    ----------
    customer_id, timestamp, event_type : str
        Required roles: the customer key, when the event happened (datetime, date or ISO
        text, read by the time rule of :class:`TransactionSchema`) and what happened.
    product_id, category : str or None
        Optional: the product or category the event was about (null for a search, say).
    event_types : dict
        The caller's labels mapped to retailcrm's event types (``"view"``, ``"cart"``,
        ``"favourite"``, ``"search"``), or to ``None`` for events to ignore (``"share"``,
        ``"login"``). Labels are matched after trimming spaces and ignoring case; the four
        type names and ``"favorite"`` are known without mapping. Any other label is an error
        (``event_type_unknown``), so a typo never silently drops events.
    timezone : str or None
        The zone whose calendar counts for instants; ``None`` keeps each value's own offset
        or zone.

    Examples
    --------
    >>> from retailcrm.data import EventSchema
    >>> schema = EventSchema(event_type="action", event_types={"PV": "view", "share": None})
    >>> schema.labels["pv"], schema.labels["share"], schema.labels["favorite"]
    ('view', None, 'favourite')
    >>> EventSchema.from_dict(schema.to_dict()) == schema
    True
    """

    required_roles: ClassVar[tuple[str, ...]] = ("customer_id", "timestamp", "event_type")
    optional_roles: ClassVar[tuple[str, ...]] = ("product_id", "category")

    customer_id: str = attrs.field(default="customer_id", converter=_required)
    timestamp: str = attrs.field(default="timestamp", converter=_required)
    event_type: str = attrs.field(default="event_type", converter=_required)
    product_id: str | None = attrs.field(default="product_id", converter=_column_name)
    category: str | None = attrs.field(
        default="category", converter=_column_name, validator=_check_distinct
    )
    event_types: tuple[tuple[str, str | None], ...] = attrs.field(
        factory=tuple, converter=_label_pairs
    )
    timezone: str | None = attrs.field(default=None, validator=_check_zone)

    @property
    def labels(self) -> dict[str, str | None]:
        """Every known label (trimmed, lower case) -> its event type, or ``None`` (ignored)."""
        return _BUILTIN_LABELS | dict(self.event_types)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (``event_types`` as a dict), suitable for YAML or JSON."""
        out = super().to_dict()
        out["event_types"] = dict(self.event_types)
        return out
