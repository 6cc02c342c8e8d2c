"""Column mappings: which of the caller's columns plays which role."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from retailcrm.exceptions import ConfigError

__all__ = ["CustomerSchema", "ResponseSchema", "TransactionSchema"]


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
    order_id, quantity, product_id, category, channel, discount : str or None
        Optional roles. ``order_id`` groups lines into orders (a *purchase occasion*); without
        it a customer-day is one occasion.
    timezone : str or None
        For time-zone-aware timestamps: the zone whose calendar dates count (e.g.
        ``"Europe/Berlin"``). ``None`` keeps each column's own zone (the session zone on DuckDB
        and Spark). Naive timestamps are taken as they are.

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
    )

    customer_id: str = attrs.field(default="customer_id", converter=_required)
    timestamp: str = attrs.field(default="timestamp", converter=_required)
    amount: str = attrs.field(default="amount", converter=_required)
    order_id: str | None = attrs.field(default="order_id", converter=_column_name)
    quantity: str | None = attrs.field(default="quantity", converter=_column_name)
    product_id: str | None = attrs.field(default="product_id", converter=_column_name)
    category: str | None = attrs.field(default="category", converter=_column_name)
    channel: str | None = attrs.field(default="channel", converter=_column_name)
    discount: str | None = attrs.field(
        default="discount", converter=_column_name, validator=_check_distinct
    )
    timezone: str | None = attrs.field(default=None)

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

    Notes
    -----
    Other columns of the customers frame are passed through to the feature table as
    attributes (region, gender, ...).

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
        Whether the customer responded (boolean, or 0/1).

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
