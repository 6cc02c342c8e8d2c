"""Typing slips in condition text that Python's parser reports badly, or not at all.

Conditions look like Python, but people type them from habits formed elsewhere: ``AND``/``OR``
from SQL, ``&&``/``||``/``!`` from C, JavaScript and spreadsheets, a single ``=`` from SQL and
Excel, and full-width characters (``ｆrequency ＞＝ ２``) from an input method left in full-width
mode. Python says "invalid syntax" to the first kinds and, worse, silently reads a full-width
name as its half-width twin (``ｆrequency`` as ``frequency``: :func:`ast.parse` normalises names
to NFKC). Each slip here becomes a :class:`~retailcrm.rules._diagnostics.Problem` that says what
to write instead, with a caret under the slip.

Everything is looked for *outside* string literals and comments only: ``channel == "AND"``,
``note == "a && b"`` and ``size == "（大）"`` are left exactly as typed.
"""

from __future__ import annotations

import re

from retailcrm.rules._diagnostics import Problem

__all__ = ["code_only", "full_width_problems", "operator_problems"]

_MASK = "0"  # a string literal is masked as a run of digits: an operand, and no operator in it
_MAX_PROBLEMS = 10  # slips shown with a caret; the rest are counted (hostile text has thousands)

# Characters an East Asian input method types in full-width or Chinese-punctuation mode, with
# the character meant. U+FF01..U+FF5E are the full-width forms of ASCII '!'..'~' (offset 0xFEE0).
_IME_PUNCTUATION = {
    "\u3000": " ",  # ideographic space
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u300a": "<",  # 《
    "\u300b": ">",  # 》
    "\u3010": "[",  # 【
    "\u3011": "]",  # 】
    "\u3002": ".",  # 。
}
_FULL_WIDTH = re.compile("[\uff01-\uff5e" + "".join(_IME_PUNCTUATION) + "]")
_WORD_OR_SIGN = re.compile(r"\w+|[^\w ]")

# Operators from other languages: '!' where it does not start '!=', '=' alone, and the words in
# any case (only those not in lower case are slips; spelled out, as re.IGNORECASE would also
# take the Turkish 'ı' for an 'i').
_FOREIGN = re.compile(
    r"&&|\|\||!(?!=)|(?<![=<>!:])=(?!=)"
    r"|\b(?:[Aa][Nn][Dd]|[Oo][Rr]|[Nn][Oo][Tt]|[Ii][Nn])\b"
)
_OPERAND_END = re.compile(r"[\w)\]]")
_OPERAND_START = re.compile(r"[\w(\[\-+!~]")


def code_only(text: str) -> str:
    """``text`` with string literals masked as ``0…0`` and a trailing comment blanked.

    The result has the same length, so positions in it are positions in ``text``. An
    unterminated string runs to the end (Python reports it). Line breaks must already be spaces,
    so a ``#`` comment runs to the end of the text.

    Examples
    --------
    >>> code_only("note == 'a && b' && x # AND")
    'note == 00000000 && x      '
    """
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            out[i:] = " " * (n - i)
            break
        if ch not in "'\"":
            i += 1
            continue
        quote = text[i : i + 3] if text.startswith(ch * 3, i) else ch
        j = i + len(quote)
        while j < n and not text.startswith(quote, j):
            j += 2 if text[j] == "\\" else 1
        end = min(n, j + len(quote))
        out[i:end] = _MASK * (end - i)
        i = end
    return "".join(out)


def _half_width(text: str) -> str:
    return "".join(
        chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else _IME_PUNCTUATION.get(c, c)
        for c in text
    )


def full_width_problems(text: str) -> list[Problem]:
    """One problem per run of full-width characters outside string literals.

    Python would refuse full-width operators and digits ("invalid character") but read a
    full-width letter in a name as its half-width twin, so ``ｆrequency`` would silently mean
    the column ``frequency``. Both are refused, saying what to type; a column whose name really
    has full-width characters is written ``col('...')``, whose text is taken exactly as typed.

    Examples
    --------
    >>> [problem] = full_width_problems("size == '（大）' and n ＞＝ ２")
    >>> problem.message.split(" (")[0], problem.span
    ("full-width characters: write '>= 2' instead of '＞＝ ２'", (20, 24))
    """
    code = code_only(text)
    if _FULL_WIDTH.search(code) is None:
        return []
    runs: list[list[int]] = []  # [start, end] of each run: words and signs joined by spaces
    for piece in _WORD_OR_SIGN.finditer(code):
        if _FULL_WIDTH.search(piece.group()) is None:
            continue
        start, end = piece.span()
        if runs and not code[runs[-1][1] : start].strip(" "):
            runs[-1][1] = end
        else:
            runs.append([start, end])
    problems = []
    for start, end in runs:
        typed = text[start:end]
        message = (
            f"full-width characters: write {_half_width(typed)!r} instead of {typed!r} "
            "(switch the input method to half-width, 半角)"
        )
        names = [w for w in re.findall(r"\w+", typed) if _half_width(w) != w]
        names = [w for w in names if _half_width(w).isidentifier()]
        if names:
            message += f"; for a column named exactly {names[0]!r} write col({names[0]!r})"
        problems.append(Problem(message, (start, end)))
    return _capped(problems)


def _capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= _MAX_PROBLEMS:
        return problems
    more = len(problems) - _MAX_PROBLEMS
    return [*problems[:_MAX_PROBLEMS], Problem(f"… and {more:,} more like these")]


def _looks_like_operator(code: str, start: int, end: int, binary: bool) -> bool:
    """A word such as ``AND`` stands between operands, so it is not a column named ``AND``."""
    before = start
    while before > 0 and code[before - 1] == " ":
        before -= 1
    after = end
    while after < len(code) and code[after] == " ":
        after += 1
    if binary and (before == 0 or _OPERAND_END.match(code[before - 1]) is None):
        return False
    return after < len(code) and _OPERAND_START.match(code[after]) is not None


def _back_over(code: str, i: int, *, word: bool) -> int:
    """The start of the run of spaces (or of word characters) that ends at ``i``."""
    while i > 0 and ((code[i - 1].isalnum() or code[i - 1] == "_") if word else code[i - 1] == " "):
        i -= 1
    return i


def _keyword_argument(code: str, start: int) -> bool:
    """The ``=`` at ``start`` names an argument, as in ``round(x, ndigits=2)``: not a slip.

    (Keyword arguments are refused later, with their own message, once the text parses.)
    """
    name_end = _back_over(code, start, word=False)
    name_start = _back_over(code, name_end, word=True)
    before = _back_over(code, name_start, word=False)
    if name_start == name_end or before == 0:
        return False
    if code[before - 1] == ",":
        return True
    call = _back_over(code, before - 1, word=False)
    return code[before - 1] == "(" and call > 0 and code[call - 1].isalnum()


def operator_problems(text: str) -> list[Problem]:
    """Problems for operators of other languages: ``AND OR NOT IN && || ! =``.

    Meant for text Python could not parse: each hint says what to write instead, with a caret
    under the operator. Empty when there is none, and then Python's own message stands.
    """
    code = code_only(text)
    problems = []
    for match in _FOREIGN.finditer(code):
        typed = match.group()
        start, end = match.span()
        if typed == "=" and _keyword_argument(code, start):
            continue
        if typed == "=":
            message = "to compare write '==' (a single '=' is not allowed)"
        elif typed == "&&":
            message = "write 'and' instead of '&&'"
        elif typed == "||":
            message = "write 'or' instead of '||'"
        elif typed == "!":
            message = "write 'not x' instead of '!x' ('!' is only used in '!=')"
        elif typed.islower() or not _looks_like_operator(
            code, start, end, binary=typed.lower() != "not"
        ):
            continue
        else:
            message = f"write {typed.lower()!r} instead of {typed!r}"
        problems.append(Problem(f"invalid syntax: {message}", (start, end)))
    return _capped(problems)
