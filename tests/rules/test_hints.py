"""Hints for slips from other languages and input methods, and names in any script.

* ``AND``/``OR``/``NOT``/``IN``, ``&&``, ``||``, ``!x`` and a single ``=`` each get a hint with a
  caret under the operator, never when the same text is inside a string literal.
* Full-width characters outside string literals are refused (``ast`` would silently read the
  name ``ｆrequency`` as ``frequency``); string literals keep them; ``col('...')`` names a column
  with full-width characters exactly.
* "Did you mean" works for two-character CJK names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import narwhals.stable.v2 as nw
import pandas as pd
import polars as pl
import pytest

from helpers import to_polars
from retailcrm.exceptions import RuleSyntaxError
from retailcrm.rules import Rule, RuleSet, condition_expr

FRAME = pl.DataFrame(
    {
        "customer_id": [1, 2, 3],
        "frequency": [5, 1, 2],
        "monetary": [150.0, 80.0, 300.0],
        "is_vip": [True, False, False],
        "channel": ["AND", "web", "shop"],
        "note": ["a && b", "!x", "a=b"],
        "城市": ["北京", "上海", "北京"],
    }
)


def check(condition: str, frame: pl.DataFrame = FRAME) -> None:
    """Parse, then compile against ``frame`` (both can raise our errors)."""
    RuleSet([Rule("r", condition)]).check(frame)


def error_of(condition: str, frame: pl.DataFrame = FRAME) -> str:
    with pytest.raises(RuleSyntaxError) as info:
        check(condition, frame)
    return str(info.value)


def carets(message: str) -> list[tuple[int, int]]:
    """(column, width) of each caret line of ``message``, counted in the condition's text."""
    found = []
    for line in message.splitlines():
        if line.strip().startswith("^"):
            start = len(line) - len(line.lstrip()) - 4
            found.append((start, line.count("^")))
    return found


# ----------------------------------------------------------------------------------------------
# Operators of other languages
# ----------------------------------------------------------------------------------------------
# (condition, message after "invalid syntax: ", (column, width) of the caret)
OPERATOR_SLIPS: list[tuple[str, str, tuple[int, int]]] = [
    ("frequency >= 2 AND monetary > 100", r"write 'and' instead of 'AND'", (15, 3)),
    ("frequency >= 2 OR is_vip", r"write 'or' instead of 'OR'", (15, 2)),
    ("frequency >= 2 And is_vip", r"write 'and' instead of 'And'", (15, 3)),
    ("frequency > 1 && monetary < 200", r"write 'and' instead of '&&'", (14, 2)),
    ("frequency > 1 || is_vip", r"write 'or' instead of '\|\|'", (14, 2)),
    ("!is_vip", r"write 'not x' instead of '!x'", (0, 1)),
    ("frequency > 1 and !is_vip", r"write 'not x' instead of '!x'", (18, 1)),
    ("NOT is_vip", r"write 'not' instead of 'NOT'", (0, 3)),
    ("frequency = 2", r"to compare write '==' \(a single '=' is not allowed\)", (10, 1)),
    ("(frequency = 2 or is_vip) and monetary > 1", r"to compare write '=='", (11, 1)),
    ("  frequency >= 2 AND is_vip", r"write 'and' instead of 'AND'", (17, 3)),
]


def test_hint_message_in_full() -> None:
    assert error_of("frequency >= 2 AND monetary > 100") == (
        "rule 'r': invalid syntax: write 'and' instead of 'AND'\n"
        "    frequency >= 2 AND monetary > 100\n"
        "                   ^^^"
    )


def test_every_slip_is_reported_at_once() -> None:
    with pytest.raises(RuleSyntaxError, match=r"^4 problems in rule conditions:\n") as info:
        check("frequency = 2 AND monetary > 100 || !is_vip")
    text = str(info.value)
    assert "to compare write '=='" in text
    assert "write 'and' instead of 'AND'" in text
    assert "write 'or' instead of '||'" in text
    assert "write 'not x' instead of '!x'" in text
    assert carets(text) == [(10, 1), (14, 3), (33, 2), (36, 1)]


def test_sql_not_in_gets_both_hints() -> None:
    with pytest.raises(RuleSyntaxError, match="2 problems") as info:
        check("channel NOT IN ['web', 'shop']")
    text = str(info.value)
    assert "write 'not' instead of 'NOT'" in text
    assert "write 'in' instead of 'IN'" in text
    assert carets(text) == [(8, 3), (12, 2)]


@pytest.mark.parametrize(
    "condition",
    [
        "frequency != 2",
        "not is_vip and frequency >= 2 or monetary > 100",
        "channel in ['web'] and channel not in ['shop']",
        'channel == "AND" or channel == "OR" or channel == "NOT"',
        'note == "a && b" or note == "!x" or note == "a=b" or note == "a || b"',
        "note == '''x AND y''' or note == 'it\\'s && ok'",
    ],
)
def test_valid_operators_and_text_in_quotes_are_not_slips(condition: str) -> None:
    check(condition)


def test_words_and_symbols_in_quotes_are_left_alone_when_there_is_a_slip() -> None:
    text = error_of('channel == "AND" && note == "a && b" and note != "!x"')
    assert text == (
        "rule 'r': invalid syntax: write 'and' instead of '&&'\n"
        '    channel == "AND" && note == "a && b" and note != "!x"\n'
        "                     ^^"
    )


def test_not_equal_is_not_taken_for_not() -> None:
    text = error_of("!is_vip and frequency != 2")
    assert carets(text) == [(0, 1)]


def test_single_equals_in_quotes_is_not_taken_for_a_comparison() -> None:
    # Before: any '=' in the text, even inside quotes, turned "invalid syntax" into the '==' hint.
    with pytest.raises(RuleSyntaxError, match=r"^rule 'r': invalid syntax\n") as info:
        check("note == 'a=b' and frequency monetary")
    assert carets(str(info.value)) == [(28, 1)]


def test_keyword_argument_is_not_taken_for_a_comparison() -> None:
    text = error_of("round(monetary, ndigits=2) > 1 AND is_vip")
    assert "write 'and' instead of 'AND'" in text
    assert "'=='" not in text


def test_column_named_like_an_sql_word_still_works() -> None:
    frame = pl.DataFrame({"customer_id": [1], "OR": [3], "x": [1]})
    check("OR > 1", frame)
    check("col('OR') > 1 and x > 0", frame)
    text = error_of("OR > 1 && x > 0", frame)
    assert text.startswith("rule 'r': invalid syntax: write 'and' instead of '&&'\n")


def test_caret_after_chinese_text_counts_terminal_columns() -> None:
    text = error_of("城市 == '北京' AND is_vip")
    condition, caret = text.splitlines()[1:]
    # 城市 and 北京 take two columns each in a terminal: AND starts at column 15, not 11.
    assert caret == "    " + " " * 15 + "^^^"
    assert condition == "    城市 == '北京' AND is_vip"


def test_a_flood_of_slips_is_capped() -> None:
    with pytest.raises(RuleSyntaxError, match=r"^11 problems in rule conditions") as info:
        check("!" * 5_000 + "is_vip")
    assert str(info.value).endswith("rule 'r': … and 4,990 more like these")


# ----------------------------------------------------------------------------------------------
# Did you mean, in any script
# ----------------------------------------------------------------------------------------------
def test_unknown_two_character_chinese_column_suggests_the_close_one() -> None:
    with pytest.raises(
        RuleSyntaxError, match=r"^rule 'r': unknown column '城巿' \(did you mean '城市'\?\)\n"
    ):
        check("城巿 == '北京'")


def test_unknown_column_in_col_suggests_the_close_one() -> None:
    with pytest.raises(RuleSyntaxError, match=r"unknown column '城区' \(did you mean '城市'\?\)"):
        check("col('城区') == '北京'")


# ----------------------------------------------------------------------------------------------
# Full-width characters: refused outside quotes, kept inside, reachable with col()
# ----------------------------------------------------------------------------------------------
# (condition, message after "full-width characters: ", the first caret)
FULL_WIDTH_SLIPS: list[tuple[str, str, tuple[int, int]]] = [
    ("ｆrequency >= 2", r"write 'frequency' instead of 'ｆrequency'", (0, 10)),
    ("frequency ＞＝ 2", r"write '>=' instead of '＞＝'", (10, 4)),
    ("frequency >= ２", r"write '2' instead of '２'", (13, 2)),
    ("frequency >= 2 and\u3000is_vip", r"write ' ' instead of '\\u3000'", (18, 2)),
    (
        "ｆｒｅｑ\u3000＞＝\u3000２",
        r"write 'freq >= 2' instead of 'ｆｒｅｑ\\u3000＞＝\\u3000２'",
        (0, 18),
    ),
    ("is_null（城市）", r"write '\(' instead of '（'", (7, 2)),
    ("channel == “AND”", r"write '\"' instead of '“'", (11, 1)),
]


SLIPS = [(c, f"invalid syntax: {m}", caret) for c, m, caret in OPERATOR_SLIPS] + [
    (c, rf"full-width characters: {m} \(switch the input method", caret)
    for c, m, caret in FULL_WIDTH_SLIPS
]


@pytest.mark.parametrize(("condition", "message", "caret"), SLIPS, ids=[c for c, _, _ in SLIPS])
def test_slip_gets_a_hint_and_a_caret_under_it(
    condition: str, message: str, caret: tuple[int, int]
) -> None:
    with pytest.raises(RuleSyntaxError, match=rf"(?m)^rule 'r': {message}") as info:
        check(condition)
    assert carets(str(info.value))[0] == caret


def test_full_width_name_hint_in_full() -> None:
    assert error_of("ｆrequency >= 2") == (
        "rule 'r': full-width characters: write 'frequency' instead of 'ｆrequency' "
        "(switch the input method to half-width, 半角); for a column named exactly "
        "'ｆrequency' write col('ｆrequency')\n"
        "    ｆrequency >= 2\n"
        "    ^^^^^^^^^^"
    )


def test_full_width_name_is_refused_even_where_python_would_accept_it() -> None:
    # ast.parse reads 'ｆrequency' as 'frequency': without the check this rule would silently
    # test the column 'frequency' while the frame also has the column the user typed.
    frame = pl.DataFrame({"customer_id": [1], "frequency": [1], "ｆrequency": [9]})
    with pytest.raises(RuleSyntaxError, match=r"write col\('ｆrequency'\)"):
        check("ｆrequency >= 2", frame)
    with pytest.raises(RuleSyntaxError, match="full-width characters"):
        condition_expr("ｆrequency >= 2", nw.from_native(frame).collect_schema())


def test_col_names_a_full_width_column_exactly(constructor: Callable[[pd.DataFrame], Any]) -> None:
    features = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "frequency": [1, 5, 1],
            "ｆrequency": [5, 1, 1],
            "size": ["（大）", "(大)", "大"],
        }
    )
    rules = RuleSet(
        [
            Rule("full_width_column", "col('ｆrequency') >= 2"),
            Rule("half_width_column", "frequency >= 2"),
            Rule("full_width_text", "size == '（大）'"),
            Rule("half_width_text", "size == '(大)'"),
        ],
        mode="all",
    )
    out = to_polars(rules.evaluate(constructor(features)))
    assert out.to_dict(as_series=False) == {
        "customer_id": [1, 2, 3],
        "full_width_column": [True, False, False],
        "half_width_column": [False, True, False],
        "full_width_text": [True, False, False],
        "half_width_text": [False, True, False],
    }


@pytest.mark.parametrize(
    "condition",
    [
        "城市 == '（北京）'",
        "城市 in ['北京，海淀', '上海']",
        "contains(城市, '＞＝２')",
        '城市 == "他说“好”"',
    ],
)
def test_full_width_characters_inside_quotes_are_kept(condition: str) -> None:
    check(condition)


@pytest.mark.parametrize(
    ("condition", "typed", "read"),
    [("ﬁrst > 1", "ﬁrst", "first"), ("ｶﾃｺﾞﾘ == 'a'", "ｶﾃｺﾞﾘ", "カテゴリ")],
)
def test_a_name_python_would_read_as_another_is_refused(
    condition: str, typed: str, read: str
) -> None:
    with pytest.raises(
        RuleSyntaxError,
        match=rf"the name '{typed}' would be read as '{read}' .*col\('{typed}'\)",
    ):
        check(condition, pl.DataFrame({"first": [2], "カテゴリ": ["a"], typed: [2]}))


def test_col_reaches_a_column_python_would_rename() -> None:
    frame = pl.DataFrame({"customer_id": [1, 2], "ｶﾃｺﾞﾘ": ["a", "b"], "カテゴリ": ["b", "a"]})
    out = RuleSet([Rule("r", "col('ｶﾃｺﾞﾘ') == 'a'")], mode="all").evaluate(frame)
    assert out.get_column("r").to_list() == [True, False]
