"""Tier programmes as configuration: :class:`Benefit`, :class:`Tier`, :class:`Window` and
:class:`TierProgram`."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from retailcrm._params import check_choice, check_int, check_number, parameter_error
from retailcrm.exceptions import ConfigError
from retailcrm.rules import Rule, RuleSet

__all__ = [
    "BENEFIT_KINDS",
    "DECISION_IDS",
    "Benefit",
    "Tier",
    "TierProgram",
    "Window",
]

BenefitKind = Literal[
    "discount", "points_multiplier", "coupon", "gift", "service", "priority_access", "other"
]
#: What a benefit can be.
BENEFIT_KINDS: tuple[BenefitKind, ...] = (
    "discount",
    "points_multiplier",
    "coupon",
    "gift",
    "service",
    "priority_access",
    "other",
)
Downgrade = Literal["none", "period_end", "grace"]
Step = Literal["one", "to_qualifying"]
WindowKind = Literal["rolling", "calendar_year", "anniversary"]
#: ``rule_id`` values of decisions that no tier condition made (reserved: no tier may use them).
DECISION_IDS = ("default", "grace", "held", "no_downgrade", "override", "step_down")
_FINGERPRINT_FORMAT = 1


def _check_keys(
    data: Any, *, owner: str, allowed: tuple[str, ...], required: tuple[str, ...]
) -> Mapping[str, Any]:
    """``data`` as a mapping with only ``allowed`` keys, the ``required`` ones present."""
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{owner}.from_dict needs a mapping (e.g. a dict loaded from YAML or JSON), "
            f"got {type(data).__name__}."
        )
    unknown = [str(k) for k in data if k not in allowed]
    missing = [k for k in required if k not in data]
    if unknown or missing:
        parts = [f"unknown key(s) {unknown}"] if unknown else []
        parts += [f"missing key(s) {missing}"] if missing else []
        raise ConfigError(f"{owner}.from_dict: {'; '.join(parts)}. Allowed keys: {list(allowed)}.")
    return data


def _items(value: Any, cls: Any, *, name: str, owner: str) -> tuple[Any, ...]:
    """A list of ``cls`` objects or of dicts for ``cls.from_dict``, as a tuple of objects."""
    expected = f"a list of {cls.__name__} objects or dicts"
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise parameter_error(name, owner, expected, value)
    out = []
    for item in value:
        if not isinstance(item, cls | Mapping):
            raise parameter_error(name, owner, expected, item)
        out.append(item if isinstance(item, cls) else cls.from_dict(item))
    return tuple(out)


def _check_id(owner: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        ok = isinstance(value, str) and bool(value) and value == value.strip()
        if not ok or not value.isprintable() or "," in value:
            raise parameter_error(
                attribute.name,
                owner,
                "a non-empty printable string without commas or surrounding spaces",
                value,
            )

    return check


def _check_text(owner: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str):
            raise parameter_error(attribute.name, owner, "a string", value)

    return check


def _to_translations(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
    ):
        raise parameter_error(
            "translations", "Tier", "a dict of language -> name, e.g. {'zh': '时光挚友'}", value
        )
    return dict(value)


# ----------------------------------------------------------------------------------------------
# Benefit
# ----------------------------------------------------------------------------------------------
def _check_kind(instance: Benefit, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_choice(value, BENEFIT_KINDS, name="kind", owner="Benefit")


def _check_value(instance: Benefit, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None or isinstance(value, str):
        return
    check_number(value, name="value", owner="Benefit", fix="a number, a text or None")


def _check_cost(instance: Benefit, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        check_number(value, name="cost", owner="Benefit", low=0.0, fix="e.g. cost=80 or None")


@attrs.frozen
class Benefit:
    """What members of a tier get.

    Parameters
    ----------
    id : str
        Unique within a programme (a benefit shared by several tiers is the same object);
        listed in :meth:`TierProgram.assign`'s ``benefits`` column.
    kind : {"discount", "points_multiplier", "coupon", "gift", "service", "priority_access", "other"}
        What sort of benefit it is.
    value : number or str, optional
        Its size: a discount rate, a multiplier, a coupon's face value, or a text.
    description : str
        Free text for people.
    cost : float, optional
        Cost per member per assessment period, for programme costing
        (:func:`~retailcrm.loyalty.simulate_program`); ``None`` when unknown (counted as 0).

    Examples
    --------
    >>> from retailcrm.loyalty import Benefit
    >>> coupon = Benefit("winback_coupon", "coupon", value=80, cost=80)
    >>> Benefit.from_dict(coupon.to_dict()) == coupon
    True
    >>> Benefit("x", "voucher")
    Traceback (most recent call last):
    ...
    retailcrm.exceptions.ConfigError: The 'kind' parameter of Benefit must be one of ['discount', 'points_multiplier', 'coupon', 'gift', 'service', 'priority_access', 'other']. Got 'voucher' instead.
    """

    id: str = attrs.field(validator=_check_id("Benefit"))
    kind: BenefitKind = attrs.field(validator=_check_kind)
    value: float | str | None = attrs.field(default=None, validator=_check_value)
    description: str = attrs.field(default="", validator=_check_text("Benefit"))
    cost: float | None = attrs.field(default=None, validator=_check_cost)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (``id``, ``kind`` and whatever else is set)."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.value is not None:
            out["value"] = self.value
        if self.description:
            out["description"] = self.description
        if self.cost is not None:
            out["cost"] = self.cost
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Benefit:
        """Read :meth:`to_dict`'s output (or one benefit of a YAML file)."""
        data = _check_keys(
            data,
            owner="Benefit",
            allowed=("id", "kind", "value", "description", "cost"),
            required=("id", "kind"),
        )
        return cls(**data)


# ----------------------------------------------------------------------------------------------
# Tier
# ----------------------------------------------------------------------------------------------
def _check_condition(instance: Tier, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None and attribute.name == "renew":
        return
    if not isinstance(value, str):
        raise parameter_error(attribute.name, "Tier", "a condition text", value)
    Rule(f"{instance.id}.{attribute.name}", value)  # raises RuleSyntaxError with a caret


def _to_benefits(value: Any) -> tuple[Benefit, ...]:
    return _items(value, Benefit, name="benefits", owner="Tier")


def _check_benefits(instance: Tier, attribute: attrs.Attribute[Any], value: Any) -> None:
    repeated = [k for k, n in Counter(b.id for b in value).items() if n > 1]
    if repeated:
        raise ConfigError(f"Tier {instance.id!r}: benefit ids repeated: {repeated}.")


@attrs.frozen
class Tier:
    """One level of a programme: who reaches it, who keeps it, what it gives.

    Parameters
    ----------
    id : str
        Unique within the programme; the ``tier`` and ``rule_id`` of its members.
    name : str
        The label shown to people (``tier_name`` in :meth:`TierProgram.assign`).
    qualify : str
        Condition (rule language, over the feature table) to reach the tier.
    renew : str, optional
        Condition to *keep* it once held, usually a lower bar than ``qualify`` (hysteresis: a
        member keeps the tier while ``renew`` holds even when ``qualify`` no longer does).
        ``None``: the ``qualify`` condition.
    benefits : sequence of Benefit or dict
        What members get.
    translations : dict, optional
        The name in other languages, e.g. ``{"zh": "时光挚友"}``
        (:meth:`TierProgram.relabel`).

    Examples
    --------
    >>> from retailcrm.loyalty import Tier
    >>> gold = Tier("gold", "Gold", "spend_365d >= 5000", renew="spend_365d >= 4000")
    >>> Tier.from_dict(gold.to_dict()) == gold
    True
    """

    id: str = attrs.field(validator=_check_id("Tier"))
    name: str = attrs.field(validator=_check_text("Tier"))
    qualify: str = attrs.field(validator=_check_condition)
    renew: str | None = attrs.field(default=None, validator=_check_condition)
    benefits: tuple[Benefit, ...] = attrs.field(
        default=(), converter=_to_benefits, validator=_check_benefits
    )
    translations: dict[str, str] = attrs.field(factory=dict, converter=_to_translations, hash=False)

    @property
    def renew_condition(self) -> str:
        """The condition that keeps the tier: ``renew``, else ``qualify``."""
        return self.qualify if self.renew is None else self.renew

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for YAML or JSON."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "qualify": self.qualify}
        if self.renew is not None:
            out["renew"] = self.renew
        if self.benefits:
            out["benefits"] = [b.to_dict() for b in self.benefits]
        if self.translations:
            out["translations"] = dict(self.translations)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tier:
        """Read :meth:`to_dict`'s output (or one tier of a YAML file)."""
        data = _check_keys(
            data,
            owner="Tier",
            allowed=("id", "name", "qualify", "renew", "benefits", "translations"),
            required=("id", "name", "qualify"),
        )
        return cls(**data)


# ----------------------------------------------------------------------------------------------
# Window
# ----------------------------------------------------------------------------------------------
def _check_window_kind(instance: Window, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_choice(value, ("rolling", "calendar_year", "anniversary"), name="kind", owner="Window")


@attrs.frozen
class Window:
    """The qualification window: the span of history a tier's conditions are measured over.

    Use the constructors :meth:`rolling`, :meth:`calendar_year` and :meth:`anniversary`, or the
    text forms ``"90d"``, ``"calendar_year"``, ``"anniversary"`` (``"anniversary:<column>"``).

    * ``rolling(N)``: the last ``N`` days up to the assessment date (``orders_{N}d``,
      ``spend_{N}d`` of the feature table).
    * ``calendar_year()``: from 1 January of the assessment date's year.
    * ``anniversary(anchor)``: from the last anniversary, on or before the assessment date, of
      the member's date in the ``anchor`` column of the feature table (``first_purchase`` by
      default; ``registered_at`` with a customers table); a 29 February anchor has its
      anniversary on 28 February in common years.

    :func:`~retailcrm.loyalty.program_features` adds ``orders_window`` and ``spend_window``
    (purchases and net spend within the window) to the feature table, so conditions can be
    written once for any window. The window also says when a period ends for
    ``downgrade="period_end"`` (see :class:`TierProgram`).

    Examples
    --------
    >>> from retailcrm.loyalty import Window
    >>> Window.parse("90d") == Window.rolling(90)
    True
    >>> Window.anniversary("registered_at").to_text()
    'anniversary:registered_at'
    """

    kind: WindowKind = attrs.field(validator=_check_window_kind)
    days: int | None = None
    anchor: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind == "rolling":
            check_int(self.days, name="days", owner="Window.rolling", low=1, fix="e.g. 90")
        elif self.days is not None:
            raise ConfigError(f"Window: days only applies to rolling windows, not {self.kind!r}.")
        if self.kind == "anniversary":
            if not (isinstance(self.anchor, str) and self.anchor):
                raise parameter_error(
                    "anchor",
                    "Window.anniversary",
                    "a column name",
                    self.anchor,
                    "e.g. 'first_purchase'",
                )
        elif self.anchor is not None:
            raise ConfigError(
                f"Window: anchor only applies to anniversary windows, not {self.kind!r}."
            )

    @classmethod
    def rolling(cls, days: int) -> Window:
        """The last ``days`` days (both ends included: ``as_of - days + 1`` to ``as_of``)."""
        return cls("rolling", days=days)

    @classmethod
    def calendar_year(cls) -> Window:
        """From 1 January of the assessment date's year."""
        return cls("calendar_year")

    @classmethod
    def anniversary(cls, anchor: str = "first_purchase") -> Window:
        """From the member's last anniversary of the date in column ``anchor``."""
        return cls("anniversary", anchor=anchor)

    @classmethod
    def parse(cls, value: Any) -> Window:
        """A :class:`Window`, or its text form (``"90d"``, ``"calendar_year"``,
        ``"anniversary"``, ``"anniversary:registered_at"``)."""
        if isinstance(value, Window):
            return value
        fix = "e.g. '90d', 'calendar_year', 'anniversary' or Window.rolling(90)"
        if isinstance(value, str):
            text = value.strip()
            if text.endswith("d") and text[:-1].isdigit():
                return cls.rolling(int(text[:-1]))
            if text == "calendar_year":
                return cls.calendar_year()
            if text == "anniversary":
                return cls.anniversary()
            if text.startswith("anniversary:") and text.split(":", 1)[1]:
                return cls.anniversary(text.split(":", 1)[1])
        raise parameter_error("window", "TierProgram", "a Window or its text form", value, fix)

    def to_text(self) -> str:
        """The text form that :meth:`parse` reads back."""
        if self.kind == "rolling":
            return f"{self.days}d"
        if self.kind == "calendar_year":
            return "calendar_year"
        return "anniversary" if self.anchor == "first_purchase" else f"anniversary:{self.anchor}"


# ----------------------------------------------------------------------------------------------
# TierProgram
# ----------------------------------------------------------------------------------------------
def _to_window(value: Any) -> Window:
    return Window.parse(value)


def _to_tiers(value: Any) -> tuple[Tier, ...]:
    return _items(value, Tier, name="tiers", owner="TierProgram")


def _check_tiers(instance: TierProgram, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value:
        raise ConfigError("The 'tiers' parameter of TierProgram must hold at least one tier.")
    repeated = [k for k, n in Counter(t.id for t in value).items() if n > 1]
    if repeated:
        raise ConfigError(f"TierProgram: tier ids must be unique; repeated: {repeated}.")
    reserved = [t.id for t in value if t.id in DECISION_IDS or t.id.endswith(".renew")]
    if reserved:
        raise ConfigError(
            f"TierProgram: tier id(s) {reserved} are reserved for rule_id values "
            f"({list(DECISION_IDS)} and '<tier>.renew'). Fix: rename the tier(s)."
        )
    seen: dict[str, Benefit] = {}
    for tier in value:
        for benefit in tier.benefits:
            if benefit.id in seen and seen[benefit.id] != benefit:
                raise ConfigError(
                    f"TierProgram: benefit {benefit.id!r} is defined differently in two tiers. "
                    "Fix: use one Benefit object (or give the variants their own ids)."
                )
            seen[benefit.id] = benefit


@attrs.frozen(kw_only=True)
class TierProgram:
    """A tiered membership programme: ordered tiers and the policies that move members.

    Parameters
    ----------
    tiers : sequence of Tier or dict
        The tiers **from highest to lowest**: the order is the rank. A customer qualifies for
        the highest tier whose ``qualify`` condition holds.
    window : Window or str
        The qualification window (``"365d"`` by default): what the conditions are measured
        over, and the period of ``downgrade="period_end"``.
    upgrade : {"immediate"}
        Upgrades take effect at the assessment where the customer qualifies.
    downgrade : {"grace", "period_end", "none"}
        What happens to a member whose tier's ``renew`` condition (``qualify`` when not set) no
        longer holds. ``"grace"`` (default): the tier is kept for ``grace_days`` days from the
        first assessment that found it failing (``grace_days=0``: downgraded at once).
        ``"period_end"``: kept until the end of the period that assessment falls in — 31
        December for a calendar-year window, the member's next anniversary for an anniversary
        window, ``N`` days for a rolling window of ``N`` days. ``"none"``: never downgraded.
        A downgrade takes effect at the first assessment after the tier's last kept day
        (``grace_until``).
    downgrade_step : {"to_qualifying", "one"}
        Where a downgrade lands: the tier the member now qualifies for (default), or one tier
        down (the next assessment may step down again).
    grace_days : int
        Days of grace for ``downgrade="grace"``.
    base_tier : str, optional
        The id of the tier of customers who qualify for no tier (for example a catch-all
        "member" level). ``None``: such customers have no tier (``tier`` is missing).

    Raises
    ------
    ConfigError
        No tiers, repeated or reserved ids, an unknown ``base_tier``, ``grace_days`` with
        another policy, a parameter of the wrong type.

    Notes
    -----
    Conditions are rules (:mod:`retailcrm.rules`) over the customer feature table: any of its
    columns (``orders_90d``, ``spend_365d``, ``avg_order_value``, ``top_category_share``, …)
    and, from :func:`~retailcrm.loyalty.program_features`, ``orders_window`` and
    ``spend_window``. :attr:`columns` lists the columns a programme reads.

    Examples
    --------
    >>> from retailcrm.loyalty import Benefit, Tier, TierProgram
    >>> program = TierProgram(
    ...     tiers=[
    ...         Tier("gold", "Gold", "spend_365d >= 5000", renew="spend_365d >= 4000",
    ...              benefits=[Benefit("lounge", "priority_access")]),
    ...         Tier("silver", "Silver", "spend_365d >= 1000"),
    ...         Tier("member", "Member", "frequency >= 0"),
    ...     ],
    ...     window="365d",
    ...     downgrade="grace",
    ...     grace_days=30,
    ...     base_tier="member",
    ... )
    >>> program.ids
    ('gold', 'silver', 'member')
    >>> TierProgram.from_dict(program.to_dict()) == program
    True
    """

    tiers: tuple[Tier, ...] = attrs.field(
        converter=_to_tiers, validator=_check_tiers, kw_only=False
    )
    window: Window = attrs.field(factory=lambda: Window.rolling(365), converter=_to_window)
    upgrade: Literal["immediate"] = "immediate"
    downgrade: Downgrade = "grace"
    downgrade_step: Step = "to_qualifying"
    grace_days: int = 0
    base_tier: str | None = None

    def __attrs_post_init__(self) -> None:
        owner = "TierProgram"
        check_choice(self.upgrade, ("immediate",), name="upgrade", owner=owner)
        check_choice(self.downgrade, ("grace", "period_end", "none"), name="downgrade", owner=owner)
        check_choice(
            self.downgrade_step, ("to_qualifying", "one"), name="downgrade_step", owner=owner
        )
        check_int(self.grace_days, name="grace_days", owner=owner, low=0, high=36_500)
        if self.grace_days and self.downgrade != "grace":
            raise ConfigError(
                f"TierProgram: grace_days={self.grace_days} only applies to downgrade='grace' "
                f"(got downgrade={self.downgrade!r}). Fix: drop grace_days or use 'grace'."
            )
        if self.base_tier is not None and self.base_tier not in self.ids:
            raise parameter_error(
                "base_tier", owner, f"one of the tier ids {list(self.ids)} or None", self.base_tier
            )

    # -- description -----------------------------------------------------------------------
    @property
    def ids(self) -> tuple[str, ...]:
        """Tier ids, highest first."""
        return tuple(t.id for t in self.tiers)

    def tier(self, tier_id: str) -> Tier:
        """The tier with this id."""
        for t in self.tiers:
            if t.id == tier_id:
                return t
        raise parameter_error("tier_id", "TierProgram.tier", f"one of {list(self.ids)}", tier_id)

    @property
    def benefits(self) -> tuple[Benefit, ...]:
        """Every benefit of the programme, once, in tier order."""
        seen: dict[str, Benefit] = {}
        for t in self.tiers:
            for b in t.benefits:
                seen.setdefault(b.id, b)
        return tuple(seen.values())

    @property
    def rules(self) -> RuleSet:
        """The qualifying conditions as a :class:`~retailcrm.rules.RuleSet` (mode ``"first"``,
        labels the tier names, translations included), e.g. for ``.coverage(features)``.

        Examples
        --------
        >>> from retailcrm.loyalty import BOUTIQUE_PROGRAM
        >>> BOUTIQUE_PROGRAM.rules.relabel("zh").labels
        ('时光挚友', '潜力伙伴', '其他会员', '待唤醒者')
        """
        languages = sorted({lang for t in self.tiers for lang in t.translations})
        return RuleSet(
            [Rule(t.id, t.qualify, label=t.name) for t in self.tiers],
            translations={
                lang: {t.id: t.translations[lang] for t in self.tiers if lang in t.translations}
                for lang in languages
            },
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """Every feature column the programme reads (conditions, then an anniversary anchor).

        Examples
        --------
        >>> from retailcrm.loyalty import BOUTIQUE_PROGRAM
        >>> BOUTIQUE_PROGRAM.columns
        ('orders_90d', 'spend_90d', 'top_category_share', 'orders_180d')
        """
        names = [c for t in self.tiers for c in Rule(t.id, t.qualify).columns]
        names += [c for t in self.tiers for c in Rule(t.id, t.renew_condition).columns]
        if self.window.kind == "anniversary" and self.downgrade == "period_end":
            names.append(str(self.window.anchor))
        return tuple(dict.fromkeys(names))

    def relabel(self, language: str) -> TierProgram:
        """The same programme with tier names in ``language`` (tiers without a translation
        keep theirs); ids, conditions and policies are unchanged.

        Examples
        --------
        >>> from retailcrm.loyalty import BOUTIQUE_PROGRAM
        >>> [t.name for t in BOUTIQUE_PROGRAM.relabel("zh").tiers]
        ['时光挚友', '潜力伙伴', '其他会员', '待唤醒者']
        """
        known = sorted({lang for t in self.tiers for lang in t.translations})
        if language not in known:
            raise parameter_error("language", "TierProgram.relabel", f"one of {known}", language)
        tiers = [
            attrs.evolve(t, name=t.translations[language]) if language in t.translations else t
            for t in self.tiers
        ]
        return attrs.evolve(self, tiers=tiers)

    # -- round trip ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain dict (lists, dicts, text and numbers) for YAML or JSON."""
        return {
            "tiers": [t.to_dict() for t in self.tiers],
            "window": self.window.to_text(),
            "upgrade": self.upgrade,
            "downgrade": self.downgrade,
            "downgrade_step": self.downgrade_step,
            "grace_days": self.grace_days,
            "base_tier": self.base_tier,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TierProgram:
        """Build a programme from a dict such as a loaded YAML file.

        Examples
        --------
        >>> import yaml
        >>> from retailcrm.loyalty import TierProgram
        >>> text = '''
        ... window: 90d
        ... downgrade: grace
        ... grace_days: 30
        ... tiers:
        ...   - {id: vip, name: VIP, qualify: "orders_90d >= 4", renew: "orders_90d >= 3"}
        ...   - {id: regular, name: Regular, qualify: "orders_90d >= 1"}
        ... '''
        >>> TierProgram.from_dict(yaml.safe_load(text)).tier("vip").renew
        'orders_90d >= 3'
        """
        allowed = (
            "tiers",
            "window",
            "upgrade",
            "downgrade",
            "downgrade_step",
            "grace_days",
            "base_tier",
        )
        data = _check_keys(data, owner="TierProgram", allowed=allowed, required=("tiers",))
        return cls(**data)

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of everything that decides assignments and costs
        (tier names and descriptions of benefits included, translations left out).

        Examples
        --------
        >>> from retailcrm.loyalty import BOUTIQUE_PROGRAM
        >>> len(BOUTIQUE_PROGRAM.fingerprint)
        16
        """
        canonical = {"format": _FINGERPRINT_FORMAT, **self.to_dict()}
        for tier in canonical["tiers"]:
            tier.pop("translations", None)
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    # -- assignment ------------------------------------------------------------------------
    def assign(
        self,
        features: Any,
        *,
        as_of: Any,
        previous: Any = None,
        overrides: Any = None,
    ) -> Any:
        """Every customer's tier as of a date.

        Parameters
        ----------
        features : dataframe
            The customer feature table as of ``as_of`` (one row per ``customer_id``; e.g.
            :func:`~retailcrm.features.customer_features` or
            :func:`~retailcrm.loyalty.program_features`), with the columns in :attr:`columns`.
            It defines the population: every customer in it comes out exactly once; customers
            only in ``previous`` or ``overrides`` are left out.
        as_of : date, datetime or ISO string
            The assessment date.
        previous : dataframe, optional
            The previous assessment (this method's output, or any frame with
            ``customer_id`` and ``tier``, optionally ``tier_since`` and ``grace_until``), one
            row per customer, same engine as ``features``. Without it every customer is
            ``"new"``.
        overrides : dataframe, optional
            Manual or VIP assignments: ``customer_id``, ``tier`` and optionally ``until`` (a
            date; missing means open-ended). An override active on ``as_of`` (``until`` missing
            or on or after ``as_of``) is a *floor*: the customer gets at least that tier.

        Returns
        -------
        dataframe
            The caller's kind of frame, sorted by ``customer_id``: ``customer_id``; ``tier``
            (id; missing when the customer qualifies for nothing and there is no
            ``base_tier``); ``tier_name``; ``previous_tier``; ``change`` (``"new"``,
            ``"upgrade"``, ``"retained"``, ``"downgrade"`` or ``"grace"``); ``rule_id`` (what
            decided, below); ``tier_since`` (date the tier was reached); ``grace_until`` (last
            day a failing member keeps the tier; missing otherwise); ``benefits`` (the tier's
            benefit ids joined by commas, ``""`` for none — a text column works on every
            engine).

        Raises
        ------
        MissingColumnsError
            A column is absent from ``features``, ``previous`` or ``overrides``.
        InvalidDataError
            Unknown tier ids, or a customer repeated in ``previous`` or ``features``.
        ConfigError
            ``previous`` or ``overrides`` of another engine, mismatched key types, a date
            column that is no date.
        RuleSyntaxError
            A condition does not fit the feature table (every problem listed).

        Notes
        -----
        ``rule_id`` is the tier id when its ``qualify`` condition decided, ``"<tier>.renew"``
        when a member kept the tier by its renewal condition, ``"default"`` for the base tier,
        ``"grace"`` (kept within ``grace_until``), ``"no_downgrade"`` (``downgrade="none"``),
        ``"step_down"`` (a one-step downgrade to a tier whose condition does not hold),
        ``"held"`` (a tier reached on ``as_of`` itself is not downgraded again that day) or
        ``"override"``.

        Assessing again with an assessment's own output as ``previous`` and the same
        features gives the same ``tier``, ``tier_since``, ``grace_until`` and ``benefits``
        (``change`` is then ``"retained"``, or ``"grace"`` in a grace period). Features net of
        returns (the default of :func:`~retailcrm.features.customer_features`) make a return
        that undoes a qualifying purchase undo the upgrade at the next assessment, under the
        downgrade policy like any member who stops qualifying.

        Examples
        --------
        >>> import pandas as pd
        >>> from retailcrm.loyalty import Tier, TierProgram
        >>> program = TierProgram(
        ...     tiers=[
        ...         Tier("vip", "VIP", "orders_90d >= 4", renew="orders_90d >= 2"),
        ...         Tier("regular", "Regular", "orders_90d >= 1"),
        ...     ],
        ...     window="90d",
        ... )
        >>> june = pd.DataFrame({"customer_id": [1, 2, 3], "orders_90d": [5, 1, 0]})
        >>> first = program.assign(june, as_of="2024-06-30")
        >>> first[["customer_id", "tier", "change", "rule_id"]]
           customer_id     tier change  rule_id
        0            1      vip    new      vip
        1            2  regular    new  regular
        2            3      NaN    new  default
        >>> july = pd.DataFrame({"customer_id": [1, 2, 3], "orders_90d": [3, 4, 0]})
        >>> second = program.assign(july, as_of="2024-07-31", previous=first)
        >>> second[["customer_id", "tier", "previous_tier", "change", "rule_id"]]
           customer_id tier previous_tier    change    rule_id
        0            1  vip           vip  retained  vip.renew
        1            2  vip       regular   upgrade        vip
        2            3  NaN           NaN  retained    default
        """
        from retailcrm.loyalty._assign import assign_tiers

        return assign_tiers(self, features, as_of=as_of, previous=previous, overrides=overrides)
