"""One named condition: :class:`Rule`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from retailcrm.rules._config import bad_parameter, check_keys
from retailcrm.rules._diagnostics import ProblemsError, syntax_error
from retailcrm.rules._nodes import Node, column_names
from retailcrm.rules._parser import parse_condition

__all__ = ["Rule"]

_MAX_ID_LENGTH = 200


def _check_id(instance: Rule, attribute: attrs.Attribute[str], value: Any) -> None:
    ok = (
        isinstance(value, str)
        and bool(value)
        and value == value.strip()
        and len(value) <= _MAX_ID_LENGTH
        and value.isprintable()
    )
    if not ok:
        raise bad_parameter(
            "id",
            "Rule",
            f"a non-empty printable string of at most {_MAX_ID_LENGTH} characters without "
            "leading or trailing spaces",
            value,
        )


def _check_when(instance: Rule, attribute: attrs.Attribute[str], value: Any) -> None:
    try:
        parse_condition(value)
    except ProblemsError as exc:
        error = syntax_error([(f"rule {instance.id!r}", value, exc.problems)])
        assert error is not None
        raise error from None


def _check_label(instance: Rule, attribute: attrs.Attribute[str | None], value: Any) -> None:
    if value is not None and not (isinstance(value, str) and value):
        raise bad_parameter("label", "Rule", "a non-empty string or None", value)


def _check_description(instance: Rule, attribute: attrs.Attribute[str], value: Any) -> None:
    if not isinstance(value, str):
        raise bad_parameter("description", "Rule", "a string", value)


@attrs.frozen
class Rule:
    """A named condition over the columns of a frame, with the label it gives matching rows.

    Parameters
    ----------
    id : str
        Unique within a :class:`RuleSet`; reported as the deciding ``rule_id``. ``"default"`` is
        reserved for rows that no rule matches.
    when : str
        The condition, in the rule language (see the user guide, "Writing rules"), e.g.
        ``"orders_90d >= 4 and avg_order_value >= 800"``. It is parsed — and its syntax
        checked — when the rule is created; columns and types are checked against a frame's
        schema when a rule set is evaluated.
    label : str, optional
        What a matching row is labelled (a segment, a stage, a tier). ``None`` means the id.
    description : str
        Free text for people; it does not change results or the rule set's fingerprint.

    Raises
    ------
    RuleSyntaxError
        ``when`` is not a valid condition; the message shows where, with a caret.
    ConfigError
        A parameter has the wrong type or form.

    See Also
    --------
    RuleSet : Ordered rules evaluated over a frame.

    Examples
    --------
    >>> from retailcrm.rules import Rule
    >>> rule = Rule("champions", "orders_90d >= 4 and avg_order_value >= 800", label="Champions")
    >>> rule.effective_label
    'Champions'
    >>> Rule.from_dict(rule.to_dict()) == rule
    True
    >>> Rule("vip", "orders_90d >= ")
    Traceback (most recent call last):
    ...
    retailcrm.exceptions.RuleSyntaxError: rule 'vip': invalid syntax
        orders_90d >=
                      ^
    """

    id: str = attrs.field(validator=_check_id)
    when: str = attrs.field(validator=_check_when)
    label: str | None = attrs.field(default=None, validator=_check_label)
    description: str = attrs.field(default="", validator=_check_description)

    @property
    def effective_label(self) -> str:
        """The label matching rows get: ``label``, or the id when ``label`` is ``None``."""
        return self.id if self.label is None else self.label

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the condition reads, in order of first appearance.

        Examples
        --------
        >>> from retailcrm.rules import Rule
        >>> Rule("r", "orders_90d >= 4 and col('avg order value') >= 800").columns
        ('orders_90d', 'avg order value')
        """
        return column_names(self._condition)

    @property
    def _condition(self) -> Node:
        """The parsed condition (parsing is cached per text)."""
        return parse_condition(self.when)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (``id``, ``when``, and ``label``/``description`` when set).

        Examples
        --------
        >>> from retailcrm.rules import Rule
        >>> Rule("lapsed", "recency_days > 180", label="Lapsed").to_dict()
        {'id': 'lapsed', 'when': 'recency_days > 180', 'label': 'Lapsed'}
        """
        out: dict[str, Any] = {"id": self.id, "when": self.when}
        if self.label is not None:
            out["label"] = self.label
        if self.description:
            out["description"] = self.description
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """Build a rule from a dict such as one item of a YAML rule file.

        Raises
        ------
        ConfigError
            Unknown keys (with a "did you mean" hint), missing ``id`` or ``when``.

        Examples
        --------
        >>> from retailcrm.rules import Rule
        >>> Rule.from_dict({"id": "new", "when": "tenure_days <= 30"})
        Rule(id='new', when='tenure_days <= 30', label=None, description='')
        """
        where = f"rule {data['id']!r}" if isinstance(data, Mapping) and "id" in data else ""
        data = check_keys(
            data,
            owner="Rule",
            allowed=("id", "when", "label", "description"),
            required=("id", "when"),
            where=where,
        )
        return cls(**data)
