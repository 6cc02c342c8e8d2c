"""The report as one self-contained HTML page.

Everything is inline: the CSS, the figures (base64 PNG ``data:`` URIs) and the numbers (a JSON
block that browsers do not execute). There is no script, no stylesheet link, no web font and no
URL of any other host; text uses the reader's system fonts, with Chinese fonts of the common
systems named in the font stack.
"""

from __future__ import annotations

import json
from html import escape
from typing import TYPE_CHECKING

from retailcrm._report._i18n import text
from retailcrm._version import __version__

if TYPE_CHECKING:
    from retailcrm._report._build import Report, Section, Table

__all__ = ["render"]

_CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #1d2430;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
    "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
  line-height: 1.5; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { margin: 0 0 4px; font-size: 1.9rem; }
header p { margin: 0; color: #566074; }
nav { margin: 18px 0 8px; }
nav ol { display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 0; margin: 0;
  list-style: none; }
nav a { color: #0b5cad; text-decoration: none; }
section { background: #fff; border: 1px solid #e1e5eb; border-radius: 8px;
  padding: 18px 22px; margin: 18px 0; }
section h2 { margin: 0 0 10px; font-size: 1.35rem; }
.reading p { margin: 0 0 8px; font-size: 1.02rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
  gap: 14px; margin: 12px 0; }
figure { margin: 0; }
.figures figure:only-child { max-width: 760px; }
figure img { width: 100%; height: auto; border: 1px solid #eef0f3; border-radius: 4px; }
figcaption { font-size: .9rem; color: #566074; margin-top: 4px; }
table { border-collapse: collapse; margin: 10px 0; font-size: .92rem; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e8ebef; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f3f7; }
.notes { font-size: .85rem; color: #7a4b00; margin: 8px 0 0; padding-left: 18px; }
footer { font-size: .8rem; color: #8a93a3; margin-top: 24px; }
"""


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(section: Section, lang: str) -> str:
    parts = [f'<section id="{escape(section.id)}">', f"<h2>{escape(section.title)}</h2>"]
    parts.append(
        '<div class="reading">'
        + "".join(f"<p>{escape(line)}</p>" for line in section.reading)
        + "</div>"
    )
    if section.figures:
        parts.append('<div class="figures">')
        for fig in section.figures:
            parts.append(
                f'<figure><img src="{fig.data_uri}" alt="{escape(fig.caption)}">'
                f"<figcaption>{escape(fig.caption)}</figcaption></figure>"
            )
        parts.append("</div>")
    parts.extend(_table(t) for t in section.tables)
    if section.notes:
        note = text(lang, "note")  # type: ignore[arg-type]
        parts.append(
            '<ul class="notes">'
            + "".join(f"<li>{escape(note)}: {escape(n)}</li>" for n in section.notes)
            + "</ul>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def render(report: Report) -> str:
    """The report's HTML page."""
    lang = report.lang
    title = text(lang, "title")
    subtitle = text(lang, "subtitle", source=report.source, as_of=report.as_of, version=__version__)
    toc = "".join(
        f'<li><a href="#{escape(s.id)}">{escape(s.title)}</a></li>' for s in report.sections
    )
    # the numbers as JSON; "<" escaped so no text can close the element early
    numbers = json.dumps(report.numbers, ensure_ascii=True, sort_keys=True).replace("<", "\\u003c")
    body = "\n".join(_section(s, lang) for s in report.sections)
    html_lang = "zh-Hans" if lang == "zh" else "en"
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="retailcrm {escape(__version__)}">
<title>{escape(title)} — {escape(report.as_of)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>
<nav aria-label="{escape(text(lang, "contents"))}"><ol>{toc}</ol></nav>
{body}
<footer>retailcrm {escape(__version__)}</footer>
</main>
<script type="application/json" id="retailcrm-numbers">{numbers}</script>
</body>
</html>
"""
