"""Ordered rules over a frame: :class:`RuleSet`."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs
import narwhals.stable.v2 as nw

from retailcrm._dates import AsOf, parse_as_of
from retailcrm._engine import Engine, lazy_frame
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.rules._compiler import AS_OF_FUNCTIONS
from retailcrm.rules._config import bad_parameter, check_keys
from retailcrm.rules._coverage import count_unmatched, coverage_table
from retailcrm.rules._nodes import function_names, render
from retailcrm.rules._null_check import raise_on_nulls
from retailcrm.rules._plan import DEFAULT_RULE_ID, Plan, compile_plan, hidden_column
from retailcrm.rules._rule import Rule

__all__ = ["RuleSet"]

Mode = Literal["first", "all"]
OnNull = Literal["false", "error"]
_FINGERPRINT_FORMAT = 1


def _to_rules(value: Any) -> tuple[Rule, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise bad_parameter("rules", "RuleSet", "a list of Rule objects or rule dicts", value)
    out = []
    for item in value:
        if isinstance(item, Rule):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Rule.from_dict(item))
        else:
            raise bad_parameter("rules", "RuleSet", "a list of Rule objects or rule dicts", item)
    return tuple(out)


def _check_rules(instance: RuleSet, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value:
        raise ConfigError(
            "The 'rules' parameter of RuleSet must hold at least one rule. Got none instead."
        )
    counts = Counter(rule.id for rule in value)
    duplicated = [rule_id for rule_id, n in counts.items() if n > 1]
    if duplicated:
        raise ConfigError(
            f"RuleSet: rule ids must be unique; repeated: {duplicated}. Fix: rename the rules."
        )
    if DEFAULT_RULE_ID in counts:
        raise ConfigError(
            f"RuleSet: the rule id {DEFAULT_RULE_ID!r} is reserved for rows that no rule "
            "matches. Fix: rename that rule."
        )


def _check_default(instance: RuleSet, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (isinstance(value, str) and value):
        raise bad_parameter("default", "RuleSet", "a non-empty string or None", value)


def _check_mode(instance: RuleSet, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("first", "all"):
        raise bad_parameter("mode", "RuleSet", "'first' or 'all'", value)


def _check_on_null(instance: RuleSet, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is False:  # YAML reads an unquoted `on_null: false` as a boolean
        raise bad_parameter("on_null", "RuleSet", "'false' or 'error' (in YAML, quote it)", value)
    if value not in ("false", "error"):
        raise bad_parameter("on_null", "RuleSet", "'false' or 'error'", value)


def _to_translations(value: Any) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise bad_parameter(
            "translations", "RuleSet", "a dict of language -> {rule id: label}", value
        )
    out: dict[str, dict[str, str]] = {}
    for lang, labels in value.items():
        if not (isinstance(lang, str) and lang) or not isinstance(labels, Mapping):
            raise bad_parameter(
                "translations", "RuleSet", "a dict of language -> {rule id: label}", value
            )
        out[lang] = {str(k): v for k, v in labels.items()}
    return out


def _check_labels(labels: Mapping[str, Any], rule_set: RuleSet, *, where: str) -> None:
    """Every key a rule id (or ``"default"`` when the set has a default); every label text."""
    ids = [r.id for r in rule_set.rules]
    allowed = [*ids, DEFAULT_RULE_ID] if rule_set.default is not None else ids
    unknown = [k for k in labels if k not in allowed]
    if unknown:
        raise ConfigError(
            f"{where}: {unknown} {'is not a rule id' if len(unknown) == 1 else 'are not rule ids'}"
            f" of this rule set (its ids: {allowed}). Fix: key the labels by rule id."
        )
    bad = {k: v for k, v in labels.items() if not (isinstance(v, str) and v)}
    if bad:
        raise ConfigError(f"{where}: labels must be non-empty text; got {bad}.")


def _check_translations(instance: RuleSet, attribute: attrs.Attribute[Any], value: Any) -> None:
    for lang, labels in value.items():
        _check_labels(labels, instance, where=f"RuleSet translations[{lang!r}]")


def _check_column_name(name: str, value: Any) -> None:
    if not (isinstance(value, str) and value):
        raise bad_parameter(name, "RuleSet.evaluate", "a non-empty string", value)


@attrs.frozen
class RuleSet:
    """Ordered conditions over a frame: segments, stages, tiers (``mode="first"``) or tags.

    Parameters
    ----------
    rules : sequence of Rule or dict
        The rules, in order. Dicts are read with :meth:`Rule.from_dict`.
    default : str, optional
        Label of rows that no rule matches (mode ``"first"`` only); ``None`` leaves it missing.
        Their ``rule_id`` is ``"default"`` either way.
    mode : {"first", "all"}
        ``"first"``: the first matching rule decides each row's single label (segments, stages,
        tiers). ``"all"``: every rule is a separate true/false column (tags).
    on_null : {"false", "error"}
        What a condition that is missing (null) for a row means. ``"false"`` (default): the rule
        does not match that row. ``"error"``: raise
        :class:`~retailcrm.exceptions.InvalidDataError` naming the rule, the missing columns
        and example keys — in mode ``"first"`` only where the rule had to decide the row. The
        check is one extra aggregation pass, computed at once even for lazy inputs.
    translations : dict, optional
        Labels in other languages: ``{"zh": {rule_id: label, "default": label}}``. They change
        nothing until :meth:`relabel` is called with that language; ids not listed keep their
        label. Every built-in scheme of retailcrm ships ``"zh"`` (Simplified Chinese).

    Raises
    ------
    ConfigError
        Empty or duplicated rule ids, the reserved id ``"default"``, a ``default`` with mode
        ``"all"``, or a parameter of the wrong type.
    RuleSyntaxError
        A rule's condition does not parse (raised by :class:`Rule`).

    See Also
    --------
    Rule : One condition and its label.

    Notes
    -----
    Conditions compile to narwhals expressions evaluated in one ``select`` by the caller's engine
    (mode ``"first"`` is a single chained ``when/then``), never row by row. A condition is
    missing for a row when a value it needs is missing (three-valued logic; see the user guide
    for the full policy); ``on_null`` says what that means for the rule.

    Examples
    --------
    >>> import pandas as pd
    >>> from retailcrm.rules import Rule, RuleSet
    >>> features = pd.DataFrame(
    ...     {
    ...         "customer_id": [1, 2, 3, 4],
    ...         "orders_90d": [5, 1, 0, 2],
    ...         "avg_order_value": [950.0, 400.0, None, 120.0],
    ...         "recency_days": [3, 40, 400, None],
    ...     }
    ... )
    >>> segments = RuleSet(
    ...     [
    ...         Rule("champions", "orders_90d >= 4 and avg_order_value >= 800", label="Champions"),
    ...         Rule("active", "recency_days <= 90", label="Active"),
    ...         Rule("lapsed", "recency_days > 365", label="Lapsed"),
    ...     ],
    ...     default="Other",
    ... )
    >>> segments.evaluate(features, label_column="segment")
       customer_id    segment    rule_id
    0            1  Champions  champions
    1            2     Active     active
    2            3     Lapsed     lapsed
    3            4      Other    default
    """

    rules: tuple[Rule, ...] = attrs.field(converter=_to_rules, validator=_check_rules)
    default: str | None = attrs.field(default=None, kw_only=True, validator=_check_default)
    mode: Mode = attrs.field(default="first", kw_only=True, validator=_check_mode)
    on_null: OnNull = attrs.field(default="false", kw_only=True, validator=_check_on_null)
    translations: dict[str, dict[str, str]] = attrs.field(
        factory=dict,
        kw_only=True,
        converter=_to_translations,
        validator=_check_translations,
        eq=False,
        hash=False,
    )

    def __attrs_post_init__(self) -> None:
        if self.mode == "all" and self.default is not None:
            raise ConfigError(
                f"RuleSet: default={self.default!r} only applies to mode='first' (one label per "
                "row); with mode='all' every rule is its own true/false column. Fix: drop "
                "default or use mode='first'."
            )

    # -- configuration ---------------------------------------------------------------------
    @property
    def labels(self) -> tuple[str, ...]:
        """The distinct labels a row can get, in rule order, then the default if set.

        Examples
        --------
        >>> from retailcrm.rules import Rule, RuleSet
        >>> RuleSet([Rule("a", "x > 1", label="High"), Rule("b", "x > 0")], default="Low").labels
        ('High', 'b', 'Low')
        """
        out = [r.effective_label for r in self.rules]
        if self.default is not None:
            out.append(self.default)
        return tuple(dict.fromkeys(out))

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages :meth:`relabel` accepts by name (the keys of ``translations``)."""
        return tuple(self.translations)

    def relabel(self, labels: str | Mapping[str, str]) -> RuleSet:
        """The same rules with other labels: a language of ``translations``, or explicit ones.

        Ids, conditions, order and policies are unchanged, so results in two languages join
        on ``rule_id`` (only the label text differs, and so does :attr:`fingerprint`, which
        covers labels).

        Parameters
        ----------
        labels : str or dict
            A language code of :attr:`translations` (e.g. ``"zh"``), or a dict
            ``{rule_id: label}`` where the key ``"default"`` relabels the default. Rules not
            named keep their label.

        Raises
        ------
        ConfigError
            An unknown language (the known ones are listed) or a key that is not a rule id.

        Examples
        --------
        >>> import pandas as pd
        >>> from retailcrm.rules import Rule, RuleSet
        >>> tiers = RuleSet(
        ...     [Rule("vip", "orders_90d >= 4", label="VIP")],
        ...     default="Regular",
        ...     translations={"zh": {"vip": "贵宾", "default": "普通会员"}},
        ... )
        >>> features = pd.DataFrame({"customer_id": [1, 2], "orders_90d": [6, 0]})
        >>> tiers.relabel("zh").evaluate(features)
           customer_id label rule_id
        0            1    贵宾     vip
        1            2  普通会员  default
        >>> tiers.relabel({"vip": "Gold"}).labels
        ('Gold', 'Regular')
        """
        if isinstance(labels, str):
            if labels not in self.translations:
                known = sorted(self.translations) or "none"
                raise ConfigError(
                    f"RuleSet.relabel: no labels in language {labels!r}; this rule set has "
                    f"translations for: {known}. Fix: pass one of those, or a dict "
                    "{rule_id: label}."
                )
            mapping: Mapping[str, str] = self.translations[labels]
        elif isinstance(labels, Mapping):
            mapping = labels
            _check_labels(mapping, self, where="RuleSet.relabel")
        else:
            raise bad_parameter("labels", "RuleSet.relabel", "a language code or a dict", labels)
        rules = [attrs.evolve(r, label=mapping[r.id]) if r.id in mapping else r for r in self.rules]
        default = mapping.get(DEFAULT_RULE_ID, self.default) if self.default is not None else None
        return attrs.evolve(self, rules=rules, default=default)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rules read, in order of first appearance.

        Examples
        --------
        >>> from retailcrm.rules import Rule, RuleSet
        >>> RuleSet([Rule("a", "x > 1 and y < 2"), Rule("b", "is_null(z) or x == 0")]).columns
        ('x', 'y', 'z')
        """
        return tuple(dict.fromkeys(c for r in self.rules for c in r.columns))

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of what decides the output, to record with results.

        It covers the mode, the null policy, the default and, for each rule in order, its id,
        effective label and canonical condition text (so spacing, quoting and redundant
        parentheses do not matter). Descriptions are left out: they never change a result.

        Examples
        --------
        >>> from retailcrm.rules import Rule, RuleSet
        >>> a = RuleSet([Rule("vip", "orders_90d>=4 and (avg_order_value >= 800)")])
        >>> b = RuleSet([Rule("vip", "orders_90d >= 4 and avg_order_value >= 800", "vip")])
        >>> a.fingerprint == b.fingerprint
        True
        >>> len(a.fingerprint)
        16
        """
        canonical = {
            "format": _FINGERPRINT_FORMAT,
            "mode": self.mode,
            "on_null": self.on_null,
            "default": self.default,
            "rules": [[r.id, r.effective_label, render(r._condition)] for r in self.rules],
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for YAML or JSON; :meth:`from_dict` reads it back.

        Examples
        --------
        >>> from retailcrm.rules import Rule, RuleSet
        >>> RuleSet([Rule("new", "tenure_days <= 30")], default="Other").to_dict()
        {'rules': [{'id': 'new', 'when': 'tenure_days <= 30'}], 'default': 'Other', 'mode': 'first', 'on_null': 'false'}
        """
        out: dict[str, Any] = {
            "rules": [r.to_dict() for r in self.rules],
            "default": self.default,
            "mode": self.mode,
            "on_null": self.on_null,
        }
        if self.translations:
            out["translations"] = {k: dict(v) for k, v in self.translations.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSet:
        """Build a rule set from a dict such as a loaded YAML or JSON rule file.

        Raises
        ------
        ConfigError
            Unknown keys (with a "did you mean" hint), a missing ``rules`` key, bad values.
        RuleSyntaxError
            A condition does not parse.

        Examples
        --------
        >>> import yaml
        >>> from retailcrm.rules import RuleSet
        >>> text = '''
        ... default: Regular
        ... rules:
        ...   - id: vip
        ...     when: orders_90d >= 4 and avg_order_value >= 800
        ...     label: VIP
        ... '''
        >>> RuleSet.from_dict(yaml.safe_load(text)).rules[0].label
        'VIP'
        """
        data = check_keys(
            data,
            owner="RuleSet",
            allowed=("rules", "default", "mode", "on_null", "translations"),
            required=("rules",),
        )
        return cls(
            data["rules"],
            default=data.get("default"),
            mode=data.get("mode", "first"),
            on_null=data.get("on_null", "false"),
            translations=data.get("translations"),
        )

    # -- evaluation ------------------------------------------------------------------------
    def _needs_as_of(self, as_of: Any) -> AsOf | None:
        """``as_of`` parsed, or None when no rule counts days (so it does not split the cache)."""
        users = [(r.id, sorted(function_names(r._condition) & AS_OF_FUNCTIONS)) for r in self.rules]
        users = [(rule_id, used) for rule_id, used in users if used]
        if as_of is not None:
            parsed = parse_as_of(as_of)
            return parsed if users else None
        if users:
            named = "; ".join(
                f"rule {rule_id!r} uses {', '.join(f + '()' for f in used)}"
                for rule_id, used in users
            )
            raise ConfigError(
                f"{named}, which count(s) days from as_of, but as_of was not given. "
                "Fix: pass the date the features are as of, e.g. as_of='2024-12-31'."
            )
        return None

    def _prepare(
        self, frame: Any, as_of: Any, keep: tuple[str, ...] | None
    ) -> tuple[nw.LazyFrame[Any], Engine, Plan]:
        """The frame as a LazyFrame (narrowed to ``keep`` plus the rule columns) and the plan."""
        parsed_as_of = self._needs_as_of(as_of)
        columns = None
        if keep is not None:
            columns = list(dict.fromkeys([*keep, *self.columns]))
        lf, engine = lazy_frame(frame, name="frame", columns=columns)
        schema = lf.collect_schema()
        if columns is not None and not set(columns) <= set(schema):
            # Report unknown columns against every column of the frame, not the narrowed ones.
            lf, engine = lazy_frame(frame, name="frame")
            schema = lf.collect_schema()
        plan = compile_plan(self.rules, self.default, schema, parsed_as_of)
        return lf, engine, plan

    def evaluate(
        self,
        frame: Any,
        as_of: Any = None,
        key: str = "customer_id",
        *,
        label_column: str = "label",
        rule_id_column: str = "rule_id",
    ) -> Any:
        """Apply the rules to every row of ``frame``.

        Parameters
        ----------
        frame : dataframe
            Any supported frame (pandas, polars eager or lazy, pyarrow, DuckDB, PySpark), e.g.
            the customer feature table.
        as_of : date, datetime or ISO string, optional
            The date ``days_since()`` and ``days_until()`` count from; required when a rule
            uses them.
        key : str
            The row key (kept in the output, which is sorted by it).
        label_column, rule_id_column : str
            Output column names in mode ``"first"`` (e.g. ``label_column="segment"``).

        Returns
        -------
        dataframe
            The caller's kind of frame, one row per input row, sorted by ``key``.
            Mode ``"first"``: ``key``, ``label_column`` (text; the default label where no rule
            matched) and ``rule_id_column`` (the deciding rule's id, ``"default"`` where none
            matched). Mode ``"all"``: ``key`` and one true/false column per rule, named by id.

        Raises
        ------
        MissingColumnsError
            ``key`` is not a column of ``frame``.
        RuleSyntaxError
            Conditions use unknown columns, mismatched types, …; every problem of every rule
            is listed, each with a caret.
        ConfigError
            A rule uses ``days_since``/``days_until`` and ``as_of`` is missing; clashing output
            column names.
        InvalidDataError
            ``on_null="error"`` and a rule met a missing value where it had to decide.

        Examples
        --------
        >>> import polars as pl
        >>> from retailcrm.rules import Rule, RuleSet
        >>> features = pl.DataFrame(
        ...     {
        ...         "customer_id": [3, 1, 2],
        ...         "orders_90d": [0, 6, 2],
        ...         "top_category": ["Hair care", "Make-up", None],
        ...     }
        ... )
        >>> tags = RuleSet(
        ...     [Rule("frequent", "orders_90d >= 4"), Rule("hair", "contains(top_category, 'Hair')")],
        ...     mode="all",
        ... )
        >>> tags.evaluate(features)
        shape: (3, 3)
        ┌─────────────┬──────────┬───────┐
        │ customer_id ┆ frequent ┆ hair  │
        │ ---         ┆ ---      ┆ ---   │
        │ i64         ┆ bool     ┆ bool  │
        ╞═════════════╪══════════╪═══════╡
        │ 1           ┆ true     ┆ false │
        │ 2           ┆ false    ┆ false │
        │ 3           ┆ false    ┆ true  │
        └─────────────┴──────────┴───────┘
        """
        _check_column_name("key", key)
        _check_column_name("label_column", label_column)
        _check_column_name("rule_id_column", rule_id_column)
        if self.mode == "first":
            outputs = [key, label_column, rule_id_column]
        else:
            outputs = [key, *(r.id for r in self.rules)]
        clashes = sorted({c for c in outputs if outputs.count(c) > 1})
        if clashes:
            raise ConfigError(
                f"RuleSet.evaluate: output column names clash: {clashes} "
                f"(key={key!r}, outputs {outputs}). Fix: choose different column names"
                + (" or rename the rule." if self.mode == "all" else ".")
            )
        lf, engine, plan = self._prepare(frame, as_of, keep=(key,))
        if key not in lf.collect_schema():
            raise MissingColumnsError(
                [key],
                available=list(lf.collect_schema()),
                role="RuleSet.evaluate",
                fix="pass key= naming the row key column (default 'customer_id').",
            )
        if self.on_null == "error":
            raise_on_nulls(lf, engine, plan, self.mode, key)
        if self.mode == "first":
            position = hidden_column(lf, "position")
            out = lf.with_columns(plan.position().alias(position)).select(
                nw.col(key),
                plan.label_of(nw.col(position)).alias(label_column),
                plan.rule_id_of(nw.col(position)).alias(rule_id_column),
            )
        else:
            out = lf.select(
                nw.col(key),
                *(m.alias(r.id) for r, m in zip(self.rules, plan.masks, strict=True)),
            )
        return engine.to_native(out.sort(key))

    def coverage(self, frame: Any, as_of: Any = None) -> Any:
        """How many rows each rule matches and decides, to find dead and shadowed rules.

        Parameters
        ----------
        frame : dataframe
            Any supported frame.
        as_of : date, datetime or ISO string, optional
            Required when a rule uses ``days_since()`` or ``days_until()``.

        Returns
        -------
        dataframe
            The caller's kind of frame, one row per rule in order and a last row for
            ``"default"``: ``rule_id``, ``label``, ``matched`` (rows where the condition is
            true, whatever the order), ``decided`` (rows this rule labels: the first match in
            mode ``"first"``, every match in mode ``"all"``; for ``"default"``, rows no rule
            matches) and ``share`` (``decided`` / rows; missing for an empty frame).
            A rule with ``decided == 0`` is dead; with ``matched > 0`` it is shadowed by
            earlier rules.

        Examples
        --------
        >>> import pandas as pd
        >>> from retailcrm.rules import Rule, RuleSet
        >>> features = pd.DataFrame({"customer_id": [1, 2, 3, 4], "orders_90d": [5, 4, 1, 0]})
        >>> rules = RuleSet(
        ...     [
        ...         Rule("active", "orders_90d >= 1"),
        ...         Rule("frequent", "orders_90d >= 4"),
        ...     ],
        ...     default="inactive",
        ... )
        >>> rules.coverage(features)
            rule_id     label  matched  decided  share
        0    active    active        3        3   0.75
        1  frequent  frequent        2        0   0.00
        2   default  inactive        1        1   0.25
        """
        lf, engine, plan = self._prepare(frame, as_of, keep=())
        table = coverage_table(plan, lf, engine, self.mode)
        return engine.small_native(table, frame)

    def is_exhaustive(self, grid: Any, as_of: Any = None) -> bool:
        """Whether every row of ``grid`` is matched by at least one rule.

        Use it on a finite grid of all possible inputs, e.g. the 125 combinations of R, F and M
        scores 1–5, to prove that no customer falls through to the default.

        Examples
        --------
        >>> import itertools
        >>> import pandas as pd
        >>> from retailcrm.rules import Rule, RuleSet
        >>> grid = pd.DataFrame(itertools.product(range(1, 6), repeat=3), columns=["r", "f", "m"])
        >>> rfm = RuleSet(
        ...     [
        ...         Rule("champions", "r >= 4 and f >= 4 and m >= 4"),
        ...         Rule("at_risk", "r <= 2 and f >= 3"),
        ...         Rule("others", "r >= 3 or f <= 2"),
        ...     ]
        ... )
        >>> rfm.is_exhaustive(grid)
        True
        >>> RuleSet(rfm.rules[:2]).is_exhaustive(grid)
        False
        """
        lf, engine, plan = self._prepare(grid, as_of, keep=())
        return count_unmatched(plan, lf, engine) == 0

    def unmatched(self, frame: Any, as_of: Any = None) -> Any:
        """The rows of ``frame`` (all columns) that no rule matches.

        Returns the caller's kind of frame; rows keep their input order where the engine
        has one. Use it to see what :meth:`is_exhaustive` found missing.

        Examples
        --------
        >>> import itertools
        >>> import pandas as pd
        >>> from retailcrm.rules import Rule, RuleSet
        >>> grid = pd.DataFrame(itertools.product(range(1, 4), repeat=2), columns=["r", "f"])
        >>> RuleSet([Rule("good", "r + f >= 4"), Rule("new", "r == 3")]).unmatched(grid)
           r  f
        0  1  1
        1  1  2
        2  2  1
        """
        lf, engine, plan = self._prepare(frame, as_of, keep=None)
        return engine.to_native(lf.filter(~plan.any_match()))

    def check(self, frame: Any, as_of: Any = None) -> None:
        """Compile every rule against ``frame``'s schema without evaluating anything.

        Use it to test a rule file in CI: every problem of every rule is reported at once.

        Raises
        ------
        RuleSyntaxError
            Unknown columns, mismatched types, …, each with a caret.
        ConfigError
            ``days_since``/``days_until`` used without ``as_of``.

        Examples
        --------
        >>> import pandas as pd
        >>> from retailcrm.rules import Rule, RuleSet
        >>> features = pd.DataFrame({"customer_id": [1], "orders_90d": [2], "region": ["North"]})
        >>> RuleSet([Rule("a", "order_90d >= 4"), Rule("b", "region > 3")]).check(features)
        Traceback (most recent call last):
        ...
        retailcrm.exceptions.RuleSyntaxError: 2 problems in rule conditions:
        rule 'a': unknown column 'order_90d' (did you mean 'orders_90d'?)
            order_90d >= 4
            ^^^^^^^^^
        rule 'b': cannot compare column 'region' (text) with the number 3
            region > 3
            ^^^^^^^^^^
        """
        self._prepare(frame, as_of, keep=None)
