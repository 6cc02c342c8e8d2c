"""TransactionSchema / CustomerSchema: defaults, validation, dict round-trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retailcrm import TransactionSchema
from retailcrm.data import CustomerSchema
from retailcrm.exceptions import ConfigError

names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)


def test_defaults_are_the_role_names() -> None:
    schema = TransactionSchema()
    assert schema.roles["customer_id"] == "customer_id" and schema.roles["channel"] == "channel"
    assert TransactionSchema(order_id=None).roles.get("order_id") is None


@given(
    st.lists(names, min_size=10, max_size=10, unique=True),
    st.sampled_from([None, "UTC", "Asia/Shanghai"]),
    st.integers(0, 6),
)
def test_round_trip_through_json(cols: list[str], tz: str | None, decimals: int) -> None:
    roles = TransactionSchema.required_roles + TransactionSchema.optional_roles
    schema = TransactionSchema(
        **dict(zip(roles, cols, strict=True)), timezone=tz, currency_decimals=decimals
    )
    assert TransactionSchema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema
    assert repr(schema).startswith("TransactionSchema(customer_id=")


def test_invalid_configs() -> None:
    with pytest.raises(ConfigError, match="mapped to both 'customer_id' and 'order_id'"):
        TransactionSchema(order_id="customer_id")
    with pytest.raises(ConfigError, match="cannot be None"):
        TransactionSchema(amount=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="non-empty strings"):
        TransactionSchema(amount="")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['amout'\]"):
        TransactionSchema.from_dict({"amout": "x"})
    with pytest.raises(ValueError, match="unknown time zone"):
        TransactionSchema(timezone="CEST+1")


def test_customer_schema_round_trip() -> None:
    schema = CustomerSchema(customer_id="member", birthday=None)
    assert CustomerSchema.from_dict(schema.to_dict()) == schema
    assert schema.roles == {"customer_id": "member", "registered_at": "registered_at"}


def test_explicit_roles_are_the_ones_mapped_to_another_name() -> None:
    schema = TransactionSchema(category="品类", channel="channel", refund="退款")
    assert schema.explicit_roles == {"category": "品类", "refund": "退款"}
    assert TransactionSchema().explicit_roles == {}


@pytest.mark.parametrize("bad", [-1, 7, 2.0, "2", True, None])
def test_currency_decimals_is_checked(bad: object) -> None:
    with pytest.raises(
        ConfigError,
        match=r"'currency_decimals' parameter of TransactionSchema must be an int in \[0, 6\]",
    ):
        TransactionSchema(currency_decimals=bad)  # type: ignore[arg-type]
