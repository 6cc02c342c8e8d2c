"""Lifecycle stages as a rule set: :class:`LifecyclePolicy` and the built-in policies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs

from retailcrm._params import check_int, check_number, parameter_error
from retailcrm.exceptions import ConfigError, did_you_mean
from retailcrm.rules import Rule, RuleSet

__all__ = [
    "DEFAULT_POLICY",
    "PREVIOUS_COLUMNS",
    "RHYTHM_POLICY",
    "STAGES",
    "STAGE_LABELS_ZH",
    "LifecyclePolicy",
    "stage_rules",
]

#: The stage ids of the built-in policies, in precedence order: the first rule that matches a
#: customer decides the stage. They are also the English labels.
STAGES: tuple[str, ...] = (
    "prospect",
    "churned",
    "dormant",
    "reactivated",
    "new",
    "mature",
    "growing",
    "active",
)
#: Simplified Chinese labels of the stages (``policy.rules.relabel("zh")``).
STAGE_LABELS_ZH: dict[str, str] = {
    "prospect": "潜在客户",
    "churned": "流失客户",
    "dormant": "休眠客户",
    "reactivated": "回流客户",
    "new": "新客户",
    "mature": "成熟客户",
    "growing": "成长客户",
    "active": "活跃客户",
}
#: Columns that :func:`assign_stages` adds to the feature table before the rules run, from the
#: ``previous`` stage table (null without one): the previous stage, its rule id and the date
#: it started. A custom rule set may use them, like the built-in ``reactivated`` rule does.
PREVIOUS_COLUMNS: tuple[str, ...] = ("previous_stage", "previous_rule_id", "previous_since")
_FINGERPRINT_FORMAT = 1
_OWNER = "LifecyclePolicy"


def _whole(value: Any) -> Any:
    """numpy integers as Python ints (so that dicts of the policy dump to YAML)."""
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu":
        return int(value)
    return value


def _real(value: Any) -> Any:
    """Whole numbers as floats (so that equal policies have equal fingerprints)."""
    value = _whole(value)
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _int(low: int, high: int | None = None) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        check_int(value, name=attribute.name, owner=_OWNER, low=low, high=high)

    return check


def _optional_int(low: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            check_int(value, name=attribute.name, owner=_OWNER, low=low)

    return check


def _scale(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_number(value, name=attribute.name, owner=_OWNER, low=0.0, low_open=True)


@attrs.frozen(kw_only=True)
class LifecyclePolicy:
    """The thresholds of the lifecycle stages, and the rule set they make.

    Stages, in precedence order (the first that applies decides):

    | stage | a customer who, as of the assessment date, ... |
    |---|---|
    | ``prospect`` | has no purchase yet (``frequency == 0``): registered, not bought |
    | ``churned`` | has not bought for ``churned_days`` days or more |
    | ``dormant`` | has not bought for ``dormant_days`` days or more |
    | ``reactivated`` | was dormant or churned at the previous assessment and is not now (so has bought since); kept for ``reactivated_days`` days |
    | ``new`` | started less than ``new_days`` days ago (``tenure_days``: from the registration, or the first purchase when earlier or unregistered) |
    | ``mature`` | bought in each of the last ``mature_months`` calendar months, the month of the assessment date included |
    | ``growing`` | bought at least ``growing_orders`` times in the last ``growing_window_days`` days |
    | ``active`` | any other buyer |

    Parameters
    ----------
    new_days : int
        Days a customer is ``new`` (default 30).
    growing_orders : int
        Purchases in the window that make a customer ``growing`` (default 2).
    growing_window_days : int
        The window, in days (default 30); the feature table needs ``orders_{w}d`` for it.
    mature_months : int
        Consecutive calendar months with a purchase that make a customer ``mature``
        (default 3, at most 12).
    dormant_days, churned_days : int
        Days without a purchase after which a customer is ``dormant`` (default 90) or
        ``churned`` (default 180); ``dormant_days < churned_days``.
    reactivated_days : int
        Days a returning customer stays ``reactivated`` (default 90), counted from the
        assessment at which the return was seen.
    rhythm_days : int, optional
        ``None`` (the default): the day thresholds are the same for everyone. A number of days
        (e.g. 30): each customer's ``dormant_days`` and ``churned_days`` are scaled by
        ``mean_interpurchase_days / rhythm_days``, bounded to
        ``[rhythm_min_scale, rhythm_max_scale]`` (scale 1 for customers with one purchase) —
        a customer who buys every 120 days turns dormant after ``90 * 4 = 360`` days.
    rhythm_min_scale, rhythm_max_scale : float
        Bounds of that scale (default 0.5 and 4).

    Raises
    ------
    ConfigError
        A threshold out of range, or ``dormant_days >= churned_days``, or
        ``rhythm_min_scale > rhythm_max_scale``.

    See Also
    --------
    assign_stages : Stages of a feature table under a policy.

    Notes
    -----
    The precedence is deliberate: a customer without a purchase can be nothing else; the
    lapse stages (``churned``, ``dormant``) come next because they describe the customer now,
    whatever the history; ``reactivated`` follows so that a returning customer gets the
    win-back follow-up before anything else; ``new`` comes before the engagement stages (the
    onboarding playbook); ``mature`` (steady over months) before ``growing`` (a burst in the
    last weeks).

    ``mature`` reads ``consecutive_active_months``, the run of months with a purchase that
    ends in the assessment date's month: assessed at month-ends it means "the last three
    complete months"; assessed mid-month, a customer who has not bought yet this month is not
    ``mature`` (there is no grace for the month in progress).

    Examples
    --------
    >>> from retailcrm.lifecycle import DEFAULT_POLICY, LifecyclePolicy
    >>> DEFAULT_POLICY.dormant_days, DEFAULT_POLICY.churned_days
    (90, 180)
    >>> policy = LifecyclePolicy(dormant_days=60, churned_days=120)
    >>> LifecyclePolicy.from_dict(policy.to_dict()) == policy
    True
    >>> [r.id for r in policy.rules.rules]
    ['prospect', 'churned', 'dormant', 'reactivated', 'new', 'mature', 'growing', 'active']
    >>> policy.rules.rules[1].when
    'recency_days >= 120'
    >>> LifecyclePolicy(dormant_days=200)
    Traceback (most recent call last):
    ...
    retailcrm.exceptions.ConfigError: LifecyclePolicy: dormant_days (200) must be below churned_days (180): a customer is dormant before churned. Fix: raise churned_days or lower dormant_days.
    """

    new_days: int = attrs.field(default=30, converter=_whole, validator=_int(1))
    growing_orders: int = attrs.field(default=2, converter=_whole, validator=_int(1))
    growing_window_days: int = attrs.field(default=30, converter=_whole, validator=_int(1))
    mature_months: int = attrs.field(default=3, converter=_whole, validator=_int(1, 12))
    dormant_days: int = attrs.field(default=90, converter=_whole, validator=_int(1))
    churned_days: int = attrs.field(default=180, converter=_whole, validator=_int(1))
    reactivated_days: int = attrs.field(default=90, converter=_whole, validator=_int(1))
    rhythm_days: int | None = attrs.field(
        default=None, converter=_whole, validator=_optional_int(1)
    )
    rhythm_min_scale: float = attrs.field(default=0.5, converter=_real, validator=_scale)
    rhythm_max_scale: float = attrs.field(default=4.0, converter=_real, validator=_scale)

    def __attrs_post_init__(self) -> None:
        if self.dormant_days >= self.churned_days:
            raise ConfigError(
                f"{_OWNER}: dormant_days ({self.dormant_days}) must be below churned_days "
                f"({self.churned_days}): a customer is dormant before churned. Fix: raise "
                "churned_days or lower dormant_days."
            )
        if self.rhythm_min_scale > self.rhythm_max_scale:
            raise ConfigError(
                f"{_OWNER}: rhythm_min_scale ({self.rhythm_min_scale:g}) must not exceed "
                f"rhythm_max_scale ({self.rhythm_max_scale:g}). Fix: swap them."
            )

    # -- the rules -------------------------------------------------------------------------
    def _lapse(self, days: int) -> str:
        if self.rhythm_days is None:
            return f"recency_days >= {days}"
        scale = (
            f"min(max(coalesce(mean_interpurchase_days / {self.rhythm_days}, 1), "
            f"{self.rhythm_min_scale:g}), {self.rhythm_max_scale:g})"
        )
        return f"recency_days >= {days} * {scale}"

    @property
    def rules(self) -> RuleSet:
        """The stage rule set (mode ``"first"``), with Chinese labels under ``"zh"``.

        Rule ids are the stage names of :data:`STAGES`; ``rules.relabel("zh")`` gives the same
        rules with Simplified Chinese labels.

        Examples
        --------
        >>> from retailcrm.lifecycle import DEFAULT_POLICY
        >>> for rule in DEFAULT_POLICY.rules.rules:
        ...     print(f"{rule.id:<12}{rule.when}")
        prospect    frequency == 0
        churned     recency_days >= 180
        dormant     recency_days >= 90
        reactivated previous_rule_id in ['dormant', 'churned'] or previous_rule_id == 'reactivated' and days_since(previous_since) < 90
        new         tenure_days < 30
        mature      consecutive_active_months >= 3
        growing     orders_30d >= 2
        active      frequency >= 1
        >>> DEFAULT_POLICY.rules.relabel("zh").labels[:3]
        ('潜在客户', '流失客户', '休眠客户')
        """
        w = self.growing_window_days
        conditions = {
            "prospect": "frequency == 0",
            "churned": self._lapse(self.churned_days),
            "dormant": self._lapse(self.dormant_days),
            "reactivated": (
                "previous_rule_id in ['dormant', 'churned'] or previous_rule_id == "
                f"'reactivated' and days_since(previous_since) < {self.reactivated_days}"
            ),
            "new": f"tenure_days < {self.new_days}",
            "mature": f"consecutive_active_months >= {self.mature_months}",
            "growing": f"orders_{w}d >= {self.growing_orders}",
            "active": "frequency >= 1",
        }
        return RuleSet(
            [Rule(stage, conditions[stage]) for stage in STAGES],
            translations={"zh": dict(STAGE_LABELS_ZH)},
        )

    # -- configuration ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain dict for YAML or JSON; :meth:`from_dict` reads it back.

        Examples
        --------
        >>> from retailcrm.lifecycle import LifecyclePolicy
        >>> LifecyclePolicy().to_dict()["churned_days"]
        180
        """
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LifecyclePolicy:
        """A policy from a dict (e.g. loaded from YAML); missing keys take their defaults.

        Raises
        ------
        ConfigError
            Not a mapping, unknown keys (with a "did you mean" hint), or bad values.

        Examples
        --------
        >>> from retailcrm.lifecycle import LifecyclePolicy
        >>> LifecyclePolicy.from_dict({"dormant_days": 60, "churned_days": 120}).dormant_days
        60
        >>> LifecyclePolicy.from_dict({"dormant_day": 60})
        Traceback (most recent call last):
        ...
        retailcrm.exceptions.ConfigError: LifecyclePolicy.from_dict: unknown key 'dormant_day' (did you mean 'dormant_days'?). Allowed keys: ['churned_days', 'dormant_days', 'growing_orders', 'growing_window_days', 'mature_months', 'new_days', 'reactivated_days', 'rhythm_days', 'rhythm_max_scale', 'rhythm_min_scale'].
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{_OWNER}.from_dict needs a mapping (e.g. a dict loaded from YAML or JSON), "
                f"got {type(data).__name__}."
            )
        allowed = [f.name for f in attrs.fields(cls)]
        unknown = []
        for key in data:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                unknown.append(
                    f"unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                )
        if unknown:
            raise ConfigError(
                f"{_OWNER}.from_dict: {'; '.join(unknown)}. Allowed keys: {sorted(allowed)}."
            )
        return cls(**dict(data))

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of the thresholds, to record with results.

        Examples
        --------
        >>> from retailcrm.lifecycle import DEFAULT_POLICY, LifecyclePolicy
        >>> LifecyclePolicy().fingerprint == DEFAULT_POLICY.fingerprint
        True
        >>> LifecyclePolicy(new_days=14).fingerprint == DEFAULT_POLICY.fingerprint
        False
        """
        canonical = {"format": _FINGERPRINT_FORMAT, **self.to_dict()}
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


#: The default stages: fixed day thresholds (30 / 90 / 180 days, 2 purchases in 30 days,
#: 3 consecutive months).
DEFAULT_POLICY = LifecyclePolicy()
#: Day thresholds scaled to each customer's rhythm (for long-cycle goods): dormant after
#: ``90 * gap / 30`` days — three mean gaps between purchases — and churned after six, with
#: the scale bounded to [0.5, 4] (dormant between 45 and 360 days).
RHYTHM_POLICY = LifecyclePolicy(rhythm_days=30)


def stage_rules(policy: Any, lang: str | None, *, owner: str) -> RuleSet:
    """The rule set of ``policy`` (a :class:`LifecyclePolicy` or a user's own ``RuleSet`` in
    mode ``"first"``), relabelled to ``lang`` when given."""
    if isinstance(policy, LifecyclePolicy):
        rules = policy.rules
    elif isinstance(policy, RuleSet):
        if policy.mode != "first":
            raise parameter_error(
                "policy",
                owner,
                "a LifecyclePolicy or a RuleSet in mode 'first' (one stage per customer)",
                policy.mode,
                fix="build the rule set with mode='first'.",
                shown=f"a RuleSet with mode={policy.mode!r}",
            )
        rules = policy
    else:
        raise parameter_error(
            "policy",
            owner,
            "a LifecyclePolicy or a RuleSet",
            policy,
            fix="e.g. policy=LifecyclePolicy(dormant_days=60, churned_days=120).",
            shown=type(policy).__name__,
        )
    if lang is not None:
        rules = rules.relabel(lang)
    return rules
