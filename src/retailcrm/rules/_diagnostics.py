"""Error messages for rule conditions: what is wrong, in which rule, with a caret under it.

Every problem found while parsing or compiling is a :class:`Problem`. All the problems of a rule
set are collected and reported together in one :class:`~retailcrm.exceptions.RuleSyntaxError`::

    rule 'vip': unknown column 'order_90d' (did you mean 'orders_90d'?)
        order_90d >= 4 and avg_order_value >= 800
        ^^^^^^^^^

Long conditions are cut to a window around the caret, so a megabyte of text never ends up in a
message. The caret is placed by terminal columns, so it stays under its place after Chinese,
Japanese or Korean text (each such character takes two columns).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import attrs

from retailcrm.exceptions import RuleSyntaxError
from retailcrm.rules._nodes import Span

__all__ = ["Problem", "ProblemsError", "format_problem", "show_text", "syntax_error"]

_WINDOW = 100  # characters of condition shown on each side of the caret at most


@attrs.frozen
class Problem:
    """One thing wrong with a condition, located by a character span of its text."""

    message: str
    span: Span | None = None


class ProblemsError(Exception):
    """Raised inside the parser and compiler; turned into RuleSyntaxError with the rule's id."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems[0].message if problems else "")
        self.problems = list(problems)


def show_text(text: str, limit: int = 60) -> str:
    """``text`` in quotes, shortened to ``limit`` characters for messages."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"… ({len(text):,} characters)"


def _caret_block(text: str, span: Span) -> str:
    start, end = span
    start = max(0, min(start, len(text)))
    end = max(start + 1, min(end, len(text)))
    lo = max(0, start - _WINDOW)
    hi = min(len(text), max(end, start + 1) + _WINDOW)
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    shown = prefix + text[lo:hi] + suffix
    pad = len(prefix) + _columns(text[lo:start])
    width = max(1, _columns(text[start : min(end, hi)]))
    return f"    {shown}\n    {' ' * pad}{'^' * width}"


def _columns(text: str) -> int:
    """Terminal columns ``text`` takes: wide and full-width (CJK) characters take two."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def format_problem(problem: Problem, text: str, where: str | None) -> str:
    """The message for one problem: ``where: message`` and the condition with a caret."""
    head = f"{where}: {problem.message}" if where else problem.message
    if problem.span is None or not text:
        return head
    flat = text.replace("\r", " ").replace("\n", " ")
    return f"{head}\n{_caret_block(flat, problem.span)}"


def syntax_error(
    found: Sequence[tuple[str | None, str, Sequence[Problem]]],
) -> RuleSyntaxError | None:
    """One RuleSyntaxError listing every problem of every ``(where, text, problems)``, if any."""
    blocks = [format_problem(p, text, where) for where, text, problems in found for p in problems]
    if not blocks:
        return None
    if len(blocks) == 1:
        return RuleSyntaxError(blocks[0])
    return RuleSyntaxError(f"{len(blocks)} problems in rule conditions:\n" + "\n".join(blocks))
