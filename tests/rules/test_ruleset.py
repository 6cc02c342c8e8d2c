"""RuleSet: evaluation on every engine, null policy, coverage, exhaustiveness, config round-trip."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pandas as pd
import polars as pl
import pytest
import yaml
from hypothesis import given

from helpers import assert_same_kind, make_native, to_polars
from retailcrm.exceptions import (
    ConfigError,
    InvalidDataError,
    MissingColumnsError,
    RuleSyntaxError,
)
from retailcrm.rules import Rule, RuleSet

AS_OF = "2024-06-30"
NaT = None


def features() -> pd.DataFrame:
    """A small customer feature table (rows deliberately not in key order)."""
    rows = [
        # id, rec, freq, monetary, aov, o90, first_purchase, birthday, region, top_category, sub
        (103, 30, 6, 1800.0, 300.0, 2, "2022-02-02", NaT, "East", "Hair care", True),
        (101, 5, 12, 12000.0, 1000.0, 5, "2020-01-10", "1985-07-03", "North", "Hair care", True),
        (102, 10, 8, 8000.0, 1000.0, 4, "2021-05-05", "1990-01-01", "South", "Make-up", False),
        (104, 3, 1, 90.0, 90.0, 1, "2024-06-10", "2000-02-29", "West", "Skin", False),
        (105, 200, 4, 800.0, 200.0, 0, "2021-01-01", "1970-12-25", "North", "Hair care", False),
        (106, 500, 2, 1500.0, 750.0, 0, "2019-03-03", NaT, "South", "Make-up", True),
        (107, 400, 1, 300.0, 300.0, 0, "2023-05-27", "1975-10-10", "East", "Hair & Body", False),
        (108, np.nan, 0, 0.0, np.nan, 0, NaT, "1999-06-30", "North", None, False),
        (109, 45, 3, 2400.0, 800.0, 3, "2023-01-01", "1988-08-15", "East", "Make-up", True),
        (110, 100, 5, 5000.0, np.nan, 4, "2020-06-30", "1980-07-08", "North", "Hair care", False),
        (111, 7, 1, 50.0, 50.0, 1, "2024-06-05", "1995-06-25", None, "Hair care", True),
        (112, 366, 1, 600.0, 600.0, 0, "2023-06-30", "2004-02-29", "East", "Shoes", False),
    ]
    columns = [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "orders_90d",
        "first_purchase",
        "birthday",
        "region",
        "top_category",
        "is_subscribed",
    ]
    df = pd.DataFrame(rows, columns=columns)
    for c in ("first_purchase", "birthday"):
        df[c] = pd.to_datetime(df[c])
    return df


SEGMENTS = RuleSet(
    [
        Rule("birthday_soon", "days_until(birthday) <= 7 and frequency >= 1", label="Birthday"),
        Rule("champions", "orders_90d >= 4 and avg_order_value >= 800", label="Champions"),
        Rule("loyal", "frequency >= 5 and recency_days <= 60", label="Loyal"),
        Rule("new", "frequency == 1 and days_since(first_purchase) <= 30", label="New"),
        Rule("at_risk", "frequency >= 3 and 90 < recency_days <= 365", label="At risk"),
        Rule("lost_vip", "monetary / frequency >= 500 and recency_days > 365", label="Lost VIP"),
        Rule("hair", "contains(top_category, 'Hair') and region in ['North', 'East']"),
        Rule("prospect", "is_null(recency_days)", label="Prospect"),
    ],
    default="Other",
)
EXPECTED_SEGMENTS = {
    101: ("Birthday", "birthday_soon"),
    102: ("Champions", "champions"),
    103: ("Loyal", "loyal"),
    104: ("New", "new"),
    105: ("At risk", "at_risk"),
    106: ("Lost VIP", "lost_vip"),
    107: ("hair", "hair"),
    108: ("Prospect", "prospect"),
    109: ("Other", "default"),
    110: ("At risk", "at_risk"),
    111: ("New", "new"),
    112: ("Lost VIP", "lost_vip"),
}
TAGS = RuleSet(
    [
        Rule("vip", "avg_order_value >= 800"),
        Rule("subscribed", "is_subscribed"),
        Rule("north", "region == 'North'"),
        Rule("hair", "startswith(top_category, 'Hair')"),
        Rule("lapsed", "recency_days > 180"),
    ],
    mode="all",
)
T, F = True, False
EXPECTED_TAGS = {
    "vip": [T, T, F, F, F, F, F, F, T, F, F, F],
    "subscribed": [T, F, T, F, F, T, F, F, T, F, T, F],
    "north": [T, F, F, F, T, F, F, T, F, T, F, F],
    "hair": [T, F, T, F, T, F, T, F, F, T, T, F],
    "lapsed": [F, F, F, F, T, T, T, F, F, F, F, T],
}
EXPECTED_COVERAGE = {
    "rule_id": [
        "birthday_soon",
        "champions",
        "loyal",
        "new",
        "at_risk",
        "lost_vip",
        "hair",
        "prospect",
        "default",
    ],
    "label": [
        *("Birthday", "Champions", "Loyal", "New", "At risk", "Lost VIP", "hair", "Prospect"),
        "Other",
    ],
    "matched": [1, 2, 3, 2, 2, 2, 5, 1, 1],
    "decided": [1, 1, 1, 2, 2, 2, 1, 1, 1],
}


# ----------------------------------------------------------------------------------------------
# Engine parity
# ----------------------------------------------------------------------------------------------
def test_first_match_on_every_engine(constructor: Callable[[pd.DataFrame], Any]) -> None:
    reference = features()
    native = constructor(reference)
    result = SEGMENTS.evaluate(native, as_of=AS_OF, label_column="segment")
    assert_same_kind(result, native)
    out = to_polars(result)
    assert out.columns == ["customer_id", "segment", "rule_id"]
    assert out.get_column("customer_id").to_list() == sorted(EXPECTED_SEGMENTS)
    got = {r["customer_id"]: (r["segment"], r["rule_id"]) for r in out.iter_rows(named=True)}
    assert got == EXPECTED_SEGMENTS
    pd.testing.assert_frame_equal(reference, features())  # the reference was not touched


def test_tags_on_every_engine(constructor: Callable[[pd.DataFrame], Any]) -> None:
    native = constructor(features())
    result = TAGS.evaluate(native)
    assert_same_kind(result, native)
    out = to_polars(result)
    assert out.columns == ["customer_id", "vip", "subscribed", "north", "hair", "lapsed"]
    assert {c: out.get_column(c).to_list() for c in EXPECTED_TAGS} == EXPECTED_TAGS


def test_coverage_on_every_engine(constructor: Callable[[pd.DataFrame], Any]) -> None:
    native = constructor(features())
    result = SEGMENTS.coverage(native, as_of=AS_OF)
    assert_same_kind(result, native)
    out = to_polars(result)
    assert out.columns == ["rule_id", "label", "matched", "decided", "share"]
    assert out.drop("share").to_dict(as_series=False) == EXPECTED_COVERAGE
    assert out.get_column("share").to_list() == pytest.approx(
        [d / 12 for d in EXPECTED_COVERAGE["decided"]]
    )


def test_on_null_error_on_every_engine(constructor: Callable[[pd.DataFrame], Any]) -> None:
    strict = RuleSet(SEGMENTS.rules, default="Other", on_null="error")
    with pytest.raises(InvalidDataError) as info:
        strict.evaluate(constructor(features()), as_of=AS_OF)
    assert str(info.value) == (
        "on_null='error': 3 rules hit missing values:\n"
        "- rule 'birthday_soon' ('days_until(birthday) <= 7 and frequency >= 1') is missing for "
        "2 rows (columns missing: 'birthday' in 2); e.g. customer_id [103, 106]\n"
        "- rule 'champions' ('orders_90d >= 4 and avg_order_value >= 800') is missing for 1 row "
        "(columns missing: 'avg_order_value' in 1); e.g. customer_id [110]\n"
        "- rule 'lost_vip' ('monetary / frequency >= 500 and recency_days > 365') is missing for "
        "1 row (columns missing: 'recency_days' in 1); e.g. customer_id [108].\n"
        "Fix: handle missing values in the condition with is_null(x) or coalesce(x, value), or "
        "use on_null='false' so that such rows do not match."
    )


RFM_RULES = [
    Rule("champions", "r >= 4 and f >= 4 and m >= 4"),
    Rule("loyal", "f >= 4"),
    Rule("potential", "r >= 4 and f <= 3"),
    Rule("at_risk", "r <= 2 and f >= 3"),
    Rule("hibernating", "r <= 2 and f <= 2"),
    Rule("need_attention", "r == 3"),
]


def rfm_grid() -> pd.DataFrame:
    return pd.DataFrame(itertools.product(range(1, 6), repeat=3), columns=["r", "f", "m"])


def test_exhaustive_grid_on_every_engine(constructor: Callable[[pd.DataFrame], Any]) -> None:
    grid = constructor(rfm_grid())
    assert RuleSet(RFM_RULES).is_exhaustive(grid) is True
    partial = RuleSet(RFM_RULES[:-1])
    assert partial.is_exhaustive(grid) is False
    missing = partial.unmatched(grid)
    assert_same_kind(missing, grid)
    out = to_polars(missing).sort("r", "f", "m")
    expected = [(3, f, m) for f in (1, 2, 3) for m in range(1, 6)]
    assert out.rows() == expected


# ----------------------------------------------------------------------------------------------
# Output shape and invariants
# ----------------------------------------------------------------------------------------------
def test_default_none_gives_missing_label_and_rule_id_default() -> None:
    rules = RuleSet([Rule("vip", "avg_order_value >= 800")])
    out = rules.evaluate(pl.from_pandas(features()), key="customer_id")
    assert out.filter(pl.col("customer_id") == 103).row(0) == (103, None, "default")
    assert out.filter(pl.col("customer_id") == 101).row(0) == (101, "vip", "vip")
    assert out.schema == {"customer_id": pl.Int64, "label": pl.String, "rule_id": pl.String}


def test_output_column_names_are_parameters() -> None:
    out = SEGMENTS.evaluate(
        features(), as_of=AS_OF, label_column="stage", rule_id_column="decided_by"
    )
    assert list(out.columns) == ["customer_id", "stage", "decided_by"]
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list(range(12))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label_column": "customer_id"}, r"output column names clash: \['customer_id'\]"),
        ({"rule_id_column": "label"}, r"output column names clash: \['label'\]"),
        ({"label_column": ""}, "The 'label_column' parameter of RuleSet.evaluate must be a non"),
        ({"key": 5}, "The 'key' parameter of RuleSet.evaluate must be a non-empty string"),
    ],
)
def test_output_column_clashes(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SEGMENTS.evaluate(features(), as_of=AS_OF, **kwargs)


def test_tag_named_like_the_key_clashes() -> None:
    rules = RuleSet([Rule("customer_id", "frequency > 1")], mode="all")
    with pytest.raises(ConfigError, match="or rename the rule"):
        rules.evaluate(features())


def test_missing_key_column() -> None:
    with pytest.raises(MissingColumnsError, match="missing column 'id'") as info:
        TAGS.evaluate(features(), key="id")
    assert isinstance(info.value, KeyError)
    assert "pass key= naming the row key column" in str(info.value)


def test_unknown_column_hint_uses_all_columns_of_a_pandas_frame() -> None:
    with pytest.raises(
        RuleSyntaxError, match=r"unknown column 'regon' \(did you mean 'region'\?\)"
    ):
        RuleSet([Rule("r", "regon == 'North'")]).evaluate(features())


def test_every_row_once_and_sorted_even_with_duplicate_keys() -> None:
    frame = pl.DataFrame({"customer_id": [2, 1, 2], "x": [1, 5, 9]})
    out = RuleSet([Rule("big", "x > 4")], default="small").evaluate(frame)
    assert out.get_column("customer_id").to_list() == [1, 2, 2]
    assert sorted(out.get_column("label").to_list()) == ["big", "big", "small"]


def test_empty_frame() -> None:
    frame = features().iloc[0:0]
    out = SEGMENTS.evaluate(frame, as_of=AS_OF)
    assert list(out.columns) == ["customer_id", "label", "rule_id"]
    assert len(out) == 0
    cov = to_polars(SEGMENTS.coverage(frame, as_of=AS_OF))
    assert cov.get_column("decided").to_list() == [0] * 9
    assert cov.get_column("share").null_count() == 9
    assert SEGMENTS.is_exhaustive(frame, as_of=AS_OF) is True


@given(st.permutations(list(range(12))))
def test_row_order_does_not_matter(order: list[int]) -> None:
    base = pl.from_pandas(features())
    expected = SEGMENTS.evaluate(base, as_of=AS_OF)
    shuffled = SEGMENTS.evaluate(base[order], as_of=AS_OF)
    assert shuffled.equals(expected)


def test_input_is_not_mutated_and_wide_frames_are_narrowed() -> None:
    frame = features()
    frame["unused"] = "x"
    before = frame.copy()
    SEGMENTS.evaluate(frame, as_of=AS_OF)
    TAGS.coverage(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_evaluating_again_gives_the_same_answer_for_each_schema() -> None:
    """Whatever is kept between calls, repeating a call changes nothing, and a frame whose
    column types differ is checked against its own schema, before and after the others."""
    rules = RuleSet([Rule("r", "frequency >= 3 and region == 'North'")], mode="all")
    frame = pl.from_pandas(features())
    first = rules.evaluate(frame)
    assert first.get_column("r").to_list() == [T, F, F, F, T, F, F, F, F, T, F, F]
    for _ in range(3):
        assert rules.evaluate(frame).equals(first)
    as_text = frame.with_columns(pl.col("frequency").cast(pl.String))
    for _ in range(2):
        with pytest.raises(RuleSyntaxError, match=r"column 'frequency' \(text\) with the number 3"):
            rules.evaluate(as_text)
        assert rules.evaluate(frame).equals(first)
    categorical = frame.with_columns(pl.col("region").cast(pl.Categorical))
    assert rules.evaluate(categorical).equals(first)


def test_as_of_changes_days_functions() -> None:
    rules = RuleSet([Rule("soon", "days_until(birthday) <= 7")], mode="all")
    frame = pl.from_pandas(features())
    first = rules.evaluate(frame, as_of="2024-06-30").get_column("soon").sum()
    later = rules.evaluate(frame, as_of="2024-12-20").get_column("soon").sum()
    assert (first, later) == (2, 1)  # 101 (3 July) and 108 (today), then 105 (25 December)


# ----------------------------------------------------------------------------------------------
# Null policy
# ----------------------------------------------------------------------------------------------
def test_on_null_error_in_mode_all_checks_every_rule() -> None:
    strict = RuleSet(TAGS.rules, mode="all", on_null="error")
    with pytest.raises(InvalidDataError, match=r"4 rules hit missing values") as info:
        strict.evaluate(features())
    text = str(info.value)
    assert "rule 'vip' ('avg_order_value >= 800') is missing for 2 rows" in text
    assert "e.g. customer_id [108, 110]" in text
    assert "rule 'subscribed'" not in text


def test_on_null_error_names_division_by_zero_and_more_rows() -> None:
    frame = pl.DataFrame({"customer_id": range(8), "a": [1.0] * 8, "b": [0.0] * 8})
    strict = RuleSet([Rule("ratio", "a / b > 1")], mode="all", on_null="error")
    with pytest.raises(InvalidDataError) as info:
        strict.evaluate(frame)
    assert "no column is missing there, so a division by zero made it missing" in str(info.value)
    assert "e.g. customer_id [0, 1, 2, 3, 4] (and 3 more)" in str(info.value)


def test_on_null_error_passes_when_nulls_are_handled() -> None:
    strict = RuleSet(
        [
            Rule("vip", "coalesce(avg_order_value, 0) >= 800"),
            Rule("lapsed", "not is_null(recency_days) and recency_days > 180"),
        ],
        mode="all",
        on_null="error",
    )
    out = to_polars(strict.evaluate(features()))
    assert out.get_column("vip").sum() == 3
    assert out.get_column("lapsed").sum() == 4


def test_on_null_error_ignores_rows_decided_by_earlier_rules() -> None:
    frame = pl.DataFrame({"customer_id": [1, 2], "a": [5, 0], "b": [None, 1]})
    strict = RuleSet([Rule("first", "a > 1"), Rule("second", "b > 0")], on_null="error")
    out = strict.evaluate(frame)
    assert out.get_column("rule_id").to_list() == ["first", "second"]


# ----------------------------------------------------------------------------------------------
# Coverage
# ----------------------------------------------------------------------------------------------
def test_coverage_mode_all() -> None:
    out = to_polars(TAGS.coverage(features()))
    assert out.get_column("rule_id").to_list() == [*EXPECTED_TAGS, "default"]
    assert out.get_column("matched").to_list() == [3, 5, 4, 6, 4, 1]
    assert out.get_column("decided").to_list() == [3, 5, 4, 6, 4, 1]
    assert out.get_column("label").to_list() == [*EXPECTED_TAGS, None]


def test_coverage_reveals_shadowed_and_dead_rules() -> None:
    rules = RuleSet(
        [
            Rule("active", "recency_days <= 90"),
            Rule("very_active", "recency_days <= 30"),
            Rule("impossible", "frequency < 0"),
        ]
    )
    out = to_polars(rules.coverage(features()))
    rows = {r["rule_id"]: (r["matched"], r["decided"]) for r in out.iter_rows(named=True)}
    assert rows == {
        "active": (6, 6),
        "very_active": (5, 0),  # shadowed by "active"
        "impossible": (0, 0),  # dead
        "default": (6, 6),
    }


# ----------------------------------------------------------------------------------------------
# Configuration, round-trips, fingerprint
# ----------------------------------------------------------------------------------------------
YAML_RULES = """
# segments.yaml: ordered, the first matching rule wins
default: Regular
on_null: "false"
rules:
  - id: champions
    label: Champions
    when: orders_90d >= 4 and avg_order_value >= 800
    description: Frequent, high-basket buyers of the last quarter
  - id: lapsed_vip
    label: Win back
    when: >
      monetary >= 5000
      and recency_days > 90
  - id: birthday
    label: Birthday offer
    when: days_until(birthday) <= 7
"""


def test_load_from_yaml_and_evaluate(tmp_path: Path) -> None:
    path = tmp_path / "segments.yaml"
    path.write_text(YAML_RULES, encoding="utf-8")
    rules = RuleSet.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert [r.id for r in rules.rules] == ["champions", "lapsed_vip", "birthday"]
    assert rules.rules[0].description == "Frequent, high-basket buyers of the last quarter"
    out = rules.evaluate(features(), as_of=AS_OF)
    assert dict(zip(out["customer_id"], out["label"], strict=True)) == {
        101: "Champions",
        102: "Champions",
        103: "Regular",
        104: "Regular",
        105: "Regular",
        106: "Regular",
        107: "Regular",
        108: "Birthday offer",
        109: "Regular",
        110: "Win back",
        111: "Regular",
        112: "Regular",
    }


def test_load_from_json_file(tmp_path: Path) -> None:
    path = tmp_path / "segments.json"
    path.write_text(json.dumps(SEGMENTS.to_dict(), indent=2), encoding="utf-8")
    loaded = RuleSet.from_dict(json.loads(path.read_text(encoding="utf-8")))
    assert loaded == SEGMENTS
    assert loaded.fingerprint == SEGMENTS.fingerprint


CONDITIONS = [
    "orders_90d >= 4 and avg_order_value >= 800",
    "recency_days > 180",
    "region in ['North', 'East']",
    "days_until(birthday) <= 7",
    "is_null(recency_days) or frequency == 0",
    "2 <= orders_90d <= 3",
]
RULES = st.builds(
    Rule,
    id=st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=8),
    when=st.sampled_from(CONDITIONS),
    label=st.none() | st.text(min_size=1, max_size=10),
    description=st.text(max_size=20),
)


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    rules = draw(st.lists(RULES, min_size=1, max_size=5, unique_by=lambda r: r.id))
    rules = [r for r in rules if r.id != "default"] or [Rule("x", "recency_days > 1")]
    mode = draw(st.sampled_from(["first", "all"]))
    default = draw(st.none() | st.text(min_size=1, max_size=8)) if mode == "first" else None
    return RuleSet(
        rules, default=default, mode=mode, on_null=draw(st.sampled_from(["false", "error"]))
    )


@given(rule_sets())
def test_dict_yaml_and_json_round_trip(rules: RuleSet) -> None:
    assert RuleSet.from_dict(rules.to_dict()) == rules
    assert RuleSet.from_dict(yaml.safe_load(yaml.safe_dump(rules.to_dict()))) == rules
    assert RuleSet.from_dict(json.loads(json.dumps(rules.to_dict()))) == rules
    for rule in rules.rules:
        assert Rule.from_dict(rule.to_dict()) == rule


def test_fingerprint_is_pinned() -> None:
    # A change here means results recorded with older fingerprints can no longer be matched.
    assert SEGMENTS.fingerprint == "cbbf9e47cdb034cb"


def test_fingerprint_ignores_layout_and_descriptions_but_not_meaning() -> None:
    base = RuleSet([Rule("a", "x >= 4 and y == 'N'", label="A"), Rule("b", "x < 1")])
    same = RuleSet(
        [Rule("a", '(x>=4) and (y == "N")', label="A", description="doc"), Rule("b", "x<1", "b")]
    )
    assert same.fingerprint == base.fingerprint
    variants = [
        RuleSet([Rule("a", "x >= 5 and y == 'N'", label="A"), Rule("b", "x < 1")]),
        RuleSet([Rule("a", "x >= 4 and y == 'N'", label="B"), Rule("b", "x < 1")]),
        RuleSet([Rule("b", "x < 1"), Rule("a", "x >= 4 and y == 'N'", label="A")]),
        RuleSet([Rule("a", "x >= 4 and y == 'N'", label="A"), Rule("c", "x < 1")]),
        RuleSet(base.rules, default="Other"),
        RuleSet(base.rules, mode="all"),
        RuleSet(base.rules, on_null="error"),
        RuleSet([Rule("a", "x >= 4 or y == 'N'", label="A"), Rule("b", "x < 1")]),
    ]
    prints = {v.fingerprint for v in variants}
    assert len(prints) == len(variants)
    assert base.fingerprint not in prints


def test_labels() -> None:
    assert SEGMENTS.labels == (
        "Birthday",
        "Champions",
        "Loyal",
        "New",
        "At risk",
        "Lost VIP",
        "hair",
        "Prospect",
        "Other",
    )


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: RuleSet([]), ConfigError, "must hold at least one rule. Got none instead."),
        (
            lambda: RuleSet([Rule("a", "x > 1"), Rule("a", "x > 2")]),
            ConfigError,
            r"rule ids must be unique; repeated: \['a'\]",
        ),
        (
            lambda: RuleSet([Rule("default", "x > 1")]),
            ConfigError,
            "the rule id 'default' is reserved",
        ),
        (
            lambda: RuleSet([Rule("a", "x > 1")], mode="any"),  # type: ignore[arg-type]
            ConfigError,
            "The 'mode' parameter of RuleSet must be 'first' or 'all'. Got 'any' instead.",
        ),
        (
            lambda: RuleSet([Rule("a", "x > 1")], on_null="skip"),  # type: ignore[arg-type]
            ConfigError,
            "The 'on_null' parameter of RuleSet must be 'false' or 'error'. Got 'skip' instead.",
        ),
        (
            lambda: RuleSet.from_dict(
                yaml.safe_load("on_null: false\nrules: [{id: a, when: x > 1}]")
            ),
            ConfigError,
            r"must be 'false' or 'error' \(in YAML, quote it\). Got False instead.",
        ),
        (
            lambda: RuleSet([Rule("a", "x > 1")], default=""),
            ConfigError,
            "The 'default' parameter of RuleSet must be a non-empty string or None",
        ),
        (
            lambda: RuleSet([Rule("a", "x > 1")], mode="all", default="x"),
            ConfigError,
            "default='x' only applies to mode='first'",
        ),
        (
            lambda: RuleSet("x > 1"),  # type: ignore[arg-type]
            ConfigError,
            "The 'rules' parameter of RuleSet must be a list of Rule objects or rule dicts",
        ),
        (
            lambda: RuleSet([5]),  # type: ignore[list-item]
            ConfigError,
            "Got 5 instead",
        ),
        (lambda: Rule(" a", "x > 1"), ConfigError, "The 'id' parameter of Rule must be"),
        (lambda: Rule("", "x > 1"), ConfigError, "Got '' instead"),
        (lambda: Rule("a", "x > 1", label=""), ConfigError, "'label' parameter of Rule"),
        (
            lambda: Rule("a", "x > 1", description=None),  # type: ignore[arg-type]
            ConfigError,
            "The 'description' parameter of Rule must be a string. Got None instead.",
        ),
        (
            lambda: RuleSet.from_dict({"rules": [{"id": "a", "when": "x > 1"}], "mod": "all"}),
            ConfigError,
            r"RuleSet.from_dict: unknown key 'mod' \(did you mean 'mode'\?\)",
        ),
        (
            lambda: RuleSet.from_dict({"default": "x"}),
            ConfigError,
            "RuleSet.from_dict: missing key 'rules'",
        ),
        (
            lambda: RuleSet.from_dict({"rules": [{"id": "a", "when": "x > 1", "lable": "A"}]}),
            ConfigError,
            r"Rule.from_dict \(rule 'a'\): unknown key 'lable' \(did you mean 'label'\?\)",
        ),
        (
            lambda: RuleSet.from_dict({"rules": [{"id": "a"}]}),
            ConfigError,
            "missing key 'when'",
        ),
        (lambda: RuleSet.from_dict(["x"]), ConfigError, "needs a mapping"),  # type: ignore[arg-type]
    ],
)
def test_config_errors(build: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build()


def test_rules_accept_dicts_and_are_tuples() -> None:
    rules = RuleSet([{"id": "a", "when": "x > 1"}, Rule("b", "x > 2")])
    assert rules.rules == (Rule("a", "x > 1"), Rule("b", "x > 2"))
    assert "RuleSet(rules=(Rule(id='a'" in repr(rules)


def test_default_none_on_every_engine(constructor: Callable[[pd.DataFrame], Any]) -> None:
    frame = pd.DataFrame({"customer_id": [2, 1, 3], "x": [5, 0, np.nan]})
    rules = RuleSet([Rule("big", "x > 1"), Rule("zero", "x == 0", label="Zero")])
    out = to_polars(rules.evaluate(constructor(frame)))
    assert out.rows() == [(1, "Zero", "zero"), (2, "big", "big"), (3, None, "default")]
    cov = to_polars(rules.coverage(constructor(frame)))
    assert cov.get_column("label").to_list() == ["big", "Zero", None]


@pytest.mark.parametrize("engine", ["polars-lazy", "duckdb"])
def test_hundreds_of_rules_keep_first_match_order(engine: str) -> None:
    # 150 rules span three when/then blocks; overlapping conditions check the order across them.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"customer_id": range(500), "x": rng.integers(0, 400, 500)})
    frame.loc[::7, "x"] = np.nan
    thresholds = list(range(300, 0, -2))  # rule k: x >= 300 - 2k
    rules = RuleSet(
        [Rule(f"r{k}", f"x >= {t}", label=f"L{k % 7}") for k, t in enumerate(thresholds)],
        default="low",
    )

    def first(x: float) -> tuple[str, str]:
        for k, t in enumerate(thresholds):
            if x == x and x >= t:
                return f"L{k % 7}", f"r{k}"
        return "low", "default"

    out = to_polars(rules.evaluate(make_native(engine, frame)))
    assert out.select("label", "rule_id").rows() == [first(x) for x in frame["x"]]
    cov = to_polars(rules.coverage(make_native(engine, frame)))
    assert cov.get_column("decided").sum() == 500
    assert cov.get_column("decided").to_list()[-1] == sum(
        1 for x in frame["x"] if first(x)[1] == "default"
    )
    strict = RuleSet(rules.rules[:100], default="low", on_null="error")
    with pytest.raises(InvalidDataError, match=r"rule 'r0' \('x >= 300'\) is missing for 72 rows"):
        strict.evaluate(make_native(engine, frame))


@pytest.mark.parametrize("engine", ["polars-eager", "duckdb"])
def test_long_and_chains_evaluate(engine: str) -> None:
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "x": [0, 5, 9]})
    condition = " and ".join(f"x >= {i % 5}" for i in range(600))
    assert len(condition) < 10_000
    out = to_polars(
        RuleSet([Rule("r", condition)], mode="all").evaluate(make_native(engine, frame))
    )
    assert out.get_column("r").to_list() == [False, True, True]


# -- relabelling -------------------------------------------------------------------------------
def _tiers_with_translations() -> RuleSet:
    return RuleSet(
        [Rule("vip", "orders_90d >= 4", label="VIP"), Rule("active", "orders_90d >= 1")],
        default="Regular",
        translations={"zh": {"vip": "贵宾", "active": "活跃", "default": "普通会员"}},
    )


def test_relabel_by_language_keeps_ids_and_conditions() -> None:
    rs = _tiers_with_translations()
    zh = rs.relabel("zh")
    assert zh.labels == ("贵宾", "活跃", "普通会员")
    assert [r.id for r in zh.rules] == ["vip", "active"]
    assert [r.when for r in zh.rules] == [r.when for r in rs.rules]
    assert zh.fingerprint != rs.fingerprint  # labels are part of the output
    features = pd.DataFrame({"customer_id": [1, 2, 3], "orders_90d": [5, 1, 0]})
    en = rs.evaluate(features, label_column="tier")
    cn = zh.evaluate(features, label_column="tier")
    assert list(en["rule_id"]) == list(cn["rule_id"]) == ["vip", "active", "default"]
    assert list(cn["tier"]) == ["贵宾", "活跃", "普通会员"]


def test_relabel_with_a_partial_dict_keeps_other_labels() -> None:
    rs = _tiers_with_translations().relabel({"vip": "Gold"})
    assert rs.labels == ("Gold", "active", "Regular")


def test_relabel_errors_name_the_known_languages_and_ids() -> None:
    rs = _tiers_with_translations()
    with pytest.raises(ConfigError, match=r"language 'fr'.*\['zh'\]"):
        rs.relabel("fr")
    with pytest.raises(ConfigError, match=r"\['gold'\] is not a rule id"):
        rs.relabel({"gold": "Gold"})
    with pytest.raises(ConfigError, match="translations\\['zh'\\]"):
        RuleSet([Rule("a", "x > 1")], translations={"zh": {"b": "乙"}})
    with pytest.raises(ConfigError, match="non-empty text"):
        rs.relabel({"vip": ""})


def test_translations_round_trip_through_dict() -> None:
    rs = _tiers_with_translations()
    again = RuleSet.from_dict(rs.to_dict())
    assert again.translations == rs.translations
    assert again.relabel("zh").labels == rs.relabel("zh").labels
