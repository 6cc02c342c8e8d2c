"""The condition language: what is refused, how errors read, limits, hostile input and fuzzing."""

from __future__ import annotations

import builtins
import string
import time
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import narwhals.stable.v2 as nw
import polars as pl
import pytest
from hypothesis import given, settings

from helpers import make_native, to_polars
from retailcrm.exceptions import ConfigError, RuleSyntaxError
from retailcrm.rules import Rule, RuleSet, condition_expr
from retailcrm.rules._nodes import render
from retailcrm.rules._parser import MAX_CONDITION_LENGTH, MAX_DEPTH, parse_condition

FRAME = pl.DataFrame(
    {
        "customer_id": [1, 2, 3],
        "orders_90d": [5, None, 0],
        "avg_order_value": [950.0, 80.0, None],
        "region": ["North", None, "East"],
        "is_vip": [True, False, None],
        "birthday": pl.Series(["1990-03-01", None, "2000-02-29"]).str.to_date(),
    }
)


def check(condition: str, frame: pl.DataFrame = FRAME) -> None:
    """Parse, then compile against ``frame`` (both can raise our errors)."""
    RuleSet([Rule("r", condition)]).check(frame, as_of="2024-03-01")


# ----------------------------------------------------------------------------------------------
# Hostile inputs: each raises our error, fast, and does nothing else.
# ----------------------------------------------------------------------------------------------
HOSTILE: list[tuple[str, str]] = [
    ("__import__('os')", "names starting with '__' are reserved"),
    ("__import__('os').system('touch pwned')", "only the rule functions can be called"),
    ("().__class__", "attribute access"),
    ("().__class__.__bases__[0].__subclasses__()", "only the rule functions can be called"),
    ("x.__class__", "attribute access"),
    ("__builtins__", "names starting with '__' are reserved"),
    ("__x__ > 1", "names starting with '__' are reserved"),
    ("open('pwned', 'w')", "unknown function 'open'"),
    ("open('x')", "unknown function 'open'"),
    ("eval('1')", "unknown function 'eval'"),
    ("exec('import os')", "unknown function 'exec'"),
    ("compile('1', 'f', 'eval')", "unknown function 'compile'"),
    ("globals()", "unknown function 'globals'"),
    ("getattr(region, 'upper')", "unknown function 'getattr'"),
    ("breakpoint()", "unknown function 'breakpoint'"),
    ("lambda: 1", "lambda is not allowed"),
    ("(lambda x: x)(1)", "only the rule functions can be called"),
    ("[x for x in range(10)]", "comprehensions are not allowed"),
    ("{x for x in region}", "comprehensions are not allowed"),
    ("{k: v for k, v in region}", "comprehensions are not allowed"),
    ("any(x for x in region)", "unknown function 'any'"),
    ("(x for x in region)", "generator expressions are not allowed"),
    ("10**10**10", r"'\*\*' is not supported"),
    ("2 ** 100000", r"'\*\*' is not supported"),
    ("orders_90d // 2 > 1", "'//' is not supported"),
    ("orders_90d % 2 == 0", "'%' is not supported"),
    ("orders_90d & 1", "'&' is not supported: write 'and'"),
    ("is_vip | is_vip", "'\\|' is not supported: write 'or'"),
    ("~is_vip", "'~' is not supported: write 'not'"),
    ("region * 1000000000 == 'x'", r"'\*' needs numbers, but column 'region' \(text\) is text"),
    ("region[0] == 'N'", "indexing"),
    ("region[::-1] == 'N'", "indexing"),
    ("orders_90d if is_vip else 0", "'x if c else y' is not allowed"),
    ("(y := 1)", "':=' is not allowed"),
    ("f'{region}' == 'x'", "f-strings are not allowed"),
    ("region == b'North'", "bytes literals are not allowed"),
    ("orders_90d == 1j", "complex numbers are not allowed"),
    ("orders_90d == ...", "is not allowed"),
    ("{'a': 1}", "dict literals are not allowed"),
    ("[1, 2]", "a list is only allowed after 'in'"),
    ("region in region", "after 'in' write a list of values"),
    ("orders_90d in [orders_90d]", "may only hold constant values"),
    ("orders_90d in []", "the list after 'in' is empty"),
    ("region in ['a', None]", "None cannot be matched with 'in'"),
    ("orders_90d is None", "'is' is not supported: to test for a missing value write is_null"),
    ("orders_90d == None", "comparing with None is never true"),
    ("orders_90d < 1 in [1]", "'in' cannot be chained"),
    ("abs(*orders_90d)", "unpacking is not allowed"),
    ("round(avg_order_value, ndigits=2) > 1", "keyword arguments are not supported"),
    ("x = 1", "to compare write '=='"),
    ("import os", "invalid syntax"),
    ("orders_90d > 1; orders_90d < 5", "invalid syntax"),
    ("orders_90d > 1\x00", "null bytes"),
    ("region == '\\d'", "invalid escape sequence"),
    ("await orders_90d", "invalid syntax|'await' is not allowed"),
    ("(yield 1)", "'yield'"),
    ("orders_90d >", "invalid syntax"),
    ("(orders_90d > 1", "never closed"),
    ("9" * 30 + " > orders_90d", "outside the 64-bit integer range"),
    ("1e999 > orders_90d", "not finite"),
    ("1" * 5000 + " > orders_90d", "invalid syntax"),
    ("(" * 10_000 + "orders_90d" + ")" * 10_000, "the limit is 10,000"),
    ("(" * 3_000 + "orders_90d > 1" + ")" * 3_000, "too many nested parentheses"),
    ("not " * 2_400 + "is_vip", f"nested more than {MAX_DEPTH} levels"),
    ("-" * 9_000 + "1 > orders_90d", "too deeply nested"),
    ("+".join(["1"] * 4_000) + " > orders_90d", "too deeply nested"),
    ("orders_90d" * 100_000, "characters long"),
    ("'" + "a" * 1_000_000 + "'", "1,000,002 characters long"),
    ("region == '" + "a" * 1_000_000 + "'", "characters long"),
    ("", "the condition is empty"),
    ("   ", "the condition is empty"),
]


@pytest.mark.parametrize(("condition", "message"), HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_hostile_input_raises_our_error_fast_and_does_nothing(
    condition: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    calls: list[str] = []
    real_open = builtins.open

    def spy_open(*args: Any, **kwargs: Any) -> Any:
        calls.append(str(args[0]))
        return real_open(*args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    start = time.perf_counter()
    with pytest.raises((RuleSyntaxError, ConfigError), match=message):
        check(condition)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"took {elapsed:.2f}s"
    assert list(tmp_path.iterdir()) == []
    assert calls == []


def test_hostile_message_never_carries_a_megabyte() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        check("region == '" + "a" * 1_000_000 + "'")
    assert len(str(info.value)) < 500


# ----------------------------------------------------------------------------------------------
# Error messages: what, where (caret), how to fix
# ----------------------------------------------------------------------------------------------
def test_unknown_column_has_hint_and_caret() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        check("order_90d >= 4 and avg_order_value >= 800")
    assert str(info.value) == (
        "rule 'r': unknown column 'order_90d' (did you mean 'orders_90d'?)\n"
        "    order_90d >= 4 and avg_order_value >= 800\n"
        "    ^^^^^^^^^"
    )


def test_unknown_column_without_close_match_lists_columns() -> None:
    with pytest.raises(RuleSyntaxError, match=r"unknown column 'zzz'. Available columns: \["):
        check("zzz > 1")


def test_type_mismatch_points_at_the_comparison() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        check("orders_90d >= 1 and region > 3")
    assert str(info.value).endswith(
        "cannot compare column 'region' (text) with the number 3\n"
        "    orders_90d >= 1 and region > 3\n"
        "                        ^^^^^^^^^^"
    )


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("birthday > 5", r"cannot compare column 'birthday' \(a date\) with the number 5; to "),
        ("birthday > '2024-01-01'", r"write a date as date\('2024-01-31'\)"),
        ("region < 'M'", "text can only be compared with == or !=, not <"),
        ("is_vip > False", "true/false can only be compared with == or !=, not >"),
        ("orders_90d and is_vip", r"'and' combines true/false.*did you mean orders_90d > 0\?"),
        ("not orders_90d", "'not' needs a true/false condition"),
        ("orders_90d", "a rule condition must be true or false, but column 'orders_90d'"),
        ("-region == 1", "'-' needs a number, but column 'region' "),
        ("birthday + 1 > birthday", r"'\+' needs numbers.*subtract two dates"),
        ("region in [1, 2]", "the list after 'in' holds the number 1, but column 'region'"),
        ("orders_90d in ['a']", "the list after 'in' holds the text 'a'"),
        ("orders_90d / 0 > 1", "division by the constant 0"),
        ("abs(region) > 1", r"abs\(\) needs a number as argument 1, but column 'region'"),
        ("round(avg_order_value, 11) > 1", "from 0 to 10 as argument 2"),
        ("round(avg_order_value, orders_90d) > 1", "from 0 to 10 as argument 2"),
        ("contains(region, region)", r"contains\(\) needs a text constant as argument 2"),
        ("startswith(orders_90d, 'a')", r"startswith\(\) needs text as argument 1"),
        ("days_since(orders_90d) > 1", r"days_since\(\) needs a date as argument 1"),
        ("days_until(coalesce(birthday, birthday)) < 1", r"days_until\(\) needs a date column"),
        ("between(region, 'a', 'b')", r"between\(\) needs three numbers or three dates"),
        ("min(region, orders_90d) > 1", r"min\(\) needs numbers \(or dates\)"),
        ("coalesce(region, 1) == 1", r"coalesce\(\) needs arguments of one type"),
        ("coalesce(None, None) == 1", r"coalesce\(\) needs at least one argument that is not"),
        ("orders_90d + None > 1", r"None can only be used inside coalesce\(\)"),
        ("is_null(None)", r"None can only be used inside coalesce\(\)"),
        (
            "count(orders_90d) > 1",
            r"unknown function 'count' \(did you mean 'contains'\?\). The functions are: abs, b",
        ),
        ("is_nul(region)", r"unknown function 'is_nul' \(did you mean 'is_null'\?\)"),
        ("is_null(region, 1)", r"is_null\(\) takes 1 argument, got 2"),
        ("between(orders_90d, 1)", r"between\(\) takes 3 arguments, got 2"),
        ("coalesce(orders_90d) > 1", r"coalesce\(\) takes at least 2 arguments, got 1"),
        ("round(avg_order_value, 1, 2) > 1", r"round\(\) takes 1 to 2 arguments, got 3"),
        ("col(region) == 'a'", r"col\(\) takes one text constant"),
        ("col('') == 'a'", r"col\(''\) names no column"),
        ("birthday == date('2024-02-30')", r"date\(\) needs an ISO date 'YYYY-MM-DD'"),
        ("birthday == date(2024)", r"date\(\) takes one text constant"),
        ("col('nope') > 1", "unknown column 'nope'"),
        ("region.upper() == 'A'", "attribute access"),
    ],
)
def test_error_messages(condition: str, message: str) -> None:
    with pytest.raises(RuleSyntaxError, match=message):
        check(condition)


def test_every_problem_of_every_rule_is_reported_at_once() -> None:
    rules = RuleSet(
        [
            Rule("a", "order_90d > 1 and regon == 'x'"),
            Rule("b", "orders_90d > 1"),
            Rule("c", "region > 1"),
        ]
    )
    with pytest.raises(RuleSyntaxError) as info:
        rules.check(FRAME)
    text = str(info.value)
    assert text.startswith("3 problems in rule conditions:\n")
    assert "rule 'a': unknown column 'order_90d'" in text
    assert "rule 'a': unknown column 'regon' (did you mean 'region'?)" in text
    assert "rule 'c': cannot compare column 'region' (text) with the number 1" in text
    assert "rule 'b'" not in text


def test_syntax_error_raised_when_the_rule_is_created() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        Rule("vip", "orders_90d >= 4 and and avg_order_value > 1")
    assert str(info.value) == (
        "rule 'vip': invalid syntax\n"
        "    orders_90d >= 4 and and avg_order_value > 1\n"
        "                        ^"
    )


def test_caret_counts_characters_not_bytes() -> None:
    frame = pl.DataFrame({"région": ["Nord"], "x": [1]})
    with pytest.raises(RuleSyntaxError) as info:
        RuleSet([Rule("r", "région == 'Nörd' and y > 1")]).check(frame)
    lines = str(info.value).splitlines()
    assert lines[1].index("y > 1") == lines[2].index("^")


def test_caret_in_a_long_condition_is_windowed() -> None:
    condition = " and ".join(["orders_90d > 1"] * 100) + " and nope > 1"
    with pytest.raises(RuleSyntaxError) as info:
        check(condition)
    shown, caret = str(info.value).splitlines()[1:3]
    assert shown.startswith("    …")
    assert shown[caret.index("^") :].startswith("nope")
    assert len(shown) < 250


def test_multi_line_condition_reads_line_breaks_as_spaces() -> None:
    condition = "orders_90d >= 4\n  and avg_order_value >= 800\n"
    out = RuleSet([Rule("r", condition)], mode="all").evaluate(FRAME)
    assert out.get_column("r").to_list() == [True, False, False]
    with pytest.raises(RuleSyntaxError, match="unknown column 'nope'") as info:
        check("orders_90d >= 4\n and nope > 1")
    lines = str(info.value).splitlines()
    assert lines[1].index("nope") == lines[2].index("^")


@pytest.mark.parametrize(("condition", "under"), [("   nope > 1", "nope"), ("  x >> 1", "x >> 1")])
def test_leading_spaces_keep_caret_aligned(condition: str, under: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        check(condition)
    lines = str(info.value).splitlines()
    assert lines[1].index(under) == lines[2].index("^")


def test_syntax_error_after_leading_spaces_points_at_the_error() -> None:
    with pytest.raises(RuleSyntaxError) as info:
        check("  orders_90d > 1 and and x")
    lines = str(info.value).splitlines()
    assert lines[2].index("^") == lines[1].index("and and") + len("and ")


def test_condition_must_be_text() -> None:
    with pytest.raises(ConfigError, match="a rule condition must be text, got int"):
        Rule("r", 5)  # type: ignore[arg-type]


def test_limits_are_exact() -> None:
    ok = "orders_90d > 1" + " " * (MAX_CONDITION_LENGTH - len("orders_90d > 1"))
    check(ok)
    with pytest.raises(RuleSyntaxError, match="10,001 characters long; the limit is 10,000"):
        check(ok + " ")
    nested = "not " * (MAX_DEPTH - 2) + "is_vip"
    check(nested)
    with pytest.raises(RuleSyntaxError, match=f"nested more than {MAX_DEPTH} levels"):
        check("not " * (MAX_DEPTH + 1) + "is_vip")


def test_condition_expr_reports_without_rule_id() -> None:
    with pytest.raises(RuleSyntaxError, match=r"^unknown column 'y'") as info:
        condition_expr("y > 1", {"x": nw.Int64})
    assert "rule" not in str(info.value).splitlines()[0]


def test_days_functions_need_as_of() -> None:
    with pytest.raises(ConfigError, match=r"rule 'bday' uses days_until\(\), which count"):
        RuleSet([Rule("ok", "is_vip"), Rule("bday", "days_until(birthday) < 7")]).evaluate(FRAME)
    with pytest.raises(ConfigError, match=r"uses days_since\(\), which count"):
        condition_expr("days_since(birthday) > 1", {"birthday": nw.Date})


def test_unsupported_column_type() -> None:
    frame = pl.DataFrame({"customer_id": [1], "tags": [["a"]]})
    with pytest.raises(RuleSyntaxError, match=r"column 'tags' has type List\(String\), which"):
        RuleSet([Rule("r", "tags == 'a'")]).check(frame)


# ----------------------------------------------------------------------------------------------
# Canonical form and fuzzing
# ----------------------------------------------------------------------------------------------
COLUMNS = ["orders_90d", "avg_order_value", "region", "is_vip", "birthday", "nope"]
FUNCTIONS = [
    "is_null",
    "coalesce",
    "between",
    "abs",
    "min",
    "max",
    "contains",
    "startswith",
    "days_since",
    "days_until",
    "round",
    "col",
    "date",
    "open",
    "__import__",
    "getattr",
]
LEAVES = st.one_of(
    st.sampled_from(COLUMNS),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["True", "False", "None", "'North'", "'a\\'b'", "date('2024-02-29')"]),
    st.text(string.ascii_letters, max_size=5).map(repr),
)


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.sampled_from(
        [
            *("+", "-", "*", "/", "**", "//", "%"),
            *("==", "!=", "<", "<=", ">", ">=", "and", "or", "in", "not in", "is", "&", "|"),
        ]
    )
    return st.one_of(
        st.tuples(children, binary, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, binary, children, binary, children).map(" ".join),
        st.tuples(st.sampled_from(["not ", "-", "+", "~"]), children).map("".join),
        st.tuples(st.sampled_from(FUNCTIONS), st.lists(children, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        st.lists(children, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(children, st.lists(LEAVES, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]} in [{', '.join(t[1])}]"
        ),
        children.map(lambda c: f"{c}.__class__"),
        children.map(lambda c: f"{c}[0]"),
        children.map(lambda c: f"lambda: {c}"),
        children.map(lambda c: f"[v for v in {c}]"),
    )


EXPRESSIONS = st.recursive(LEAVES, _compound, max_leaves=12)


# Well-typed conditions, built from typed parts: these must always compile and evaluate.
NUM_LEAVES = st.one_of(
    st.sampled_from(["orders_90d", "avg_order_value", "col('orders_90d')"]),
    st.sampled_from(["days_since(birthday)", "days_until(birthday)"]),
    # No literal 0: dividing by the constant 0 is (rightly) refused when compiling.
    st.integers(-1000, 1000).filter(bool).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).filter(bool).map(repr),
)


def _num_compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pairs = st.tuples(children, children)
    return st.one_of(
        st.tuples(children, st.sampled_from("+-*/"), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"abs({c})"),
        st.tuples(children, st.integers(0, 3)).map(lambda t: f"round({t[0]}, {t[1]})"),
        pairs.map(lambda t: f"min({t[0]}, {t[1]})"),
        pairs.map(lambda t: f"max({t[0]}, {t[1]})"),
        pairs.map(lambda t: f"coalesce({t[0]}, {t[1]})"),
    )


NUMBERS = st.recursive(NUM_LEAVES, _num_compound, max_leaves=6)
TEXTS = st.sampled_from(["region", "coalesce(region, 'None')", "col('region')"])
BOOL_LEAVES = st.one_of(
    st.sampled_from(["is_vip", "True", "False", "is_null(region)", "is_null(birthday)"]),
    st.tuples(NUMBERS, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), NUMBERS).map(" ".join),
    st.tuples(NUMBERS, NUMBERS, NUMBERS).map(lambda t: f"{t[0]} <= {t[1]} < {t[2]}"),
    st.tuples(NUMBERS, NUMBERS, NUMBERS).map(lambda t: f"between({t[0]}, {t[1]}, {t[2]})"),
    st.tuples(TEXTS, st.sampled_from(["==", "!="]), st.sampled_from(["'North'", "'East'"])).map(
        " ".join
    ),
    st.tuples(TEXTS, st.sampled_from(["in", "not in"])).map(
        lambda t: f"{t[0]} {t[1]} ['North', 'South']"
    ),
    st.tuples(NUMBERS, st.sampled_from(["in", "not in"])).map(
        lambda t: f"{t[0]} {t[1]} [0, 5, 80.0]"
    ),
    TEXTS.map(lambda t: f"contains({t}, 'or')"),
    TEXTS.map(lambda t: f"startswith({t}, 'N')"),
    st.sampled_from(["birthday >= date('1995-01-01')", "birthday - birthday == 0"]),
    st.sampled_from(["is_null(orders_90d / avg_order_value)", "coalesce(is_vip, True)"]),
)


def _bool_compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        children.map(lambda c: f"not ({c})"),
        st.tuples(children, st.sampled_from(["and", "or"]), children).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} or {t[1]} and not {t[2]}"),
    )


CONDITIONS = st.recursive(BOOL_LEAVES, _bool_compound, max_leaves=5)


def _run(condition: str) -> str:
    """Create, compile and evaluate; anything but our own errors fails the test."""
    try:
        rules = RuleSet([Rule("r", condition)], mode="all")
        out = rules.evaluate(FRAME, as_of="2024-03-01")
    except (RuleSyntaxError, ConfigError):
        return "refused"
    assert out.columns == ["customer_id", "r"]
    assert out.get_column("r").dtype == pl.Boolean
    assert out.get_column("r").null_count() == 0
    assert out.height == FRAME.height
    return "evaluated"


@settings(max_examples=300)
@given(st.text(max_size=80))
def test_fuzz_random_text_raises_only_our_errors(text: str) -> None:
    assert _run(text) in ("refused", "evaluated")


@settings(max_examples=300)
@given(EXPRESSIONS)
def test_fuzz_random_syntax_trees_raise_only_our_errors(condition: str) -> None:
    assert _run(condition) in ("refused", "evaluated")


@settings(max_examples=200)
@given(CONDITIONS)
def test_well_typed_conditions_always_evaluate(condition: str) -> None:
    out = RuleSet([Rule("r", condition)], mode="all").evaluate(FRAME, as_of="2024-03-01")
    assert out.get_column("r").dtype == pl.Boolean
    assert out.get_column("r").null_count() == 0


@settings(max_examples=100)
@given(CONDITIONS)
def test_canonical_form_is_stable_and_means_the_same(condition: str) -> None:
    node = parse_condition(condition)
    text = render(node)
    assert render(parse_condition(text)) == text
    assert parse_condition(text) == node
    original = RuleSet([Rule("r", condition)], mode="all").evaluate(FRAME, as_of="2024-03-01")
    again = RuleSet([Rule("r", text)], mode="all").evaluate(FRAME, as_of="2024-03-01")
    assert again.equals(original)


@settings(max_examples=60)
@given(CONDITIONS)
def test_random_conditions_agree_across_engines(condition: str) -> None:
    rules = RuleSet([Rule("r", condition)], mode="all")
    reference = FRAME.to_pandas()
    expected = rules.evaluate(FRAME, as_of="2024-03-01")
    for engine in ("pandas-nullable", "duckdb"):
        got = to_polars(rules.evaluate(make_native(engine, reference), as_of="2024-03-01"))
        assert got.equals(expected), engine
