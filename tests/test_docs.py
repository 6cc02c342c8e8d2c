"""Every page of the docs shows real output: run each page's examples and compare.

Pages: every ``*.md`` file under ``docs/``, found by walking the folder (no list to keep up to
date); each page is one test. What a page's fenced blocks mean:

- ```` ```python ```` blocks run in page order, in one namespace per page, in a fresh temporary
  working directory.
- A ```` ```text ```` block *directly* under a code block (only blank lines between) is that
  block's output. What the block prints, plus, as in a REPL, the ``repr`` of its last
  expression when that is not ``None``, must equal it (trailing whitespace aside). A block that
  raises shows the exception as Python prints it, ``module.Name: message``, after what it
  printed; an exception with no output block under it fails the page.
- A ```` ```bash ```` block with an output block must be a ``retailcrm`` command: it runs
  in-process through ``retailcrm.cli.main``, and its timing line ("done in X s") is not
  compared. Other shell blocks (install commands) do not run.
- A block of another language whose first line is a comment naming a file, such as
  ``# segments.yaml — ordered: ...``, is written to that file when the page reaches it, so the
  blocks after it can read it.
- A ```` ```text ```` block anywhere else is an error: shown output sits right under the code
  that prints it, so it cannot drift away from it unchecked. A figure that is no output (a
  diagram) is fenced ```` ```{.text .figure} ````.

Blocks that use PySpark (the word ``pyspark`` in them) are checked by a second test per page,
marked ``spark`` (skipped without pyspark or Java); the first test runs the rest of the page.
DuckDB blocks always run.

The last test builds the site (``mkdocs build --strict``) and checks that no page loads a
script, style sheet, font or image from another host: formulas are rendered by the KaTeX files
in ``docs/assets/katex``, and the theme loads no web fonts.
"""

from __future__ import annotations

import ast
import contextlib
import html.parser
import io
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest
import threadpoolctl
import yaml

from helpers import REPO_ROOT, spark_session

DOCS = REPO_ROOT / "docs"
OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
TIMING = re.compile(r"^done in \d+(\.\d+)? s$")
FILE_COMMENT = re.compile(r"^\s*(?:#|//)\s*(?P<name>[\w.-]+\.[A-Za-z0-9]+)\b")
OUTPUT_LANGS = ("python", "bash")


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


@dataclass(frozen=True)
class Block:
    lang: str
    classes: tuple[str, ...]
    body: str
    line: int  # line number of the block's first code line in the page
    attached: bool  # only blank lines between this block and the previous block's fence

    @property
    def uses_spark(self) -> bool:
        return "pyspark" in self.body

    @property
    def is_output(self) -> bool:
        return self.lang == "text" and "figure" not in self.classes


def _info(info: str) -> tuple[str, tuple[str, ...]]:
    """The language and classes of a fence's info string: ``python``, ``{.text .figure}``."""
    words = info.strip("{} ").split()
    names = tuple(w.lstrip(".") for w in words if not w.startswith("#") and "=" not in w)
    return (names[0] if names else ""), names[1:]


def _blocks(page: Path) -> list[Block]:
    """The page's fenced blocks (backticks or tildes, any indentation, as Markdown reads them)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i, last_close = 0, None
    while i < len(lines):
        m = OPENING.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        lang, classes = _info(m.group("info"))
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        assert j < len(lines), f"{page.name}, line {i + 1}: a fence that is never closed"
        body = "\n".join(
            line[len(indent) :] if line.startswith(indent) else line.lstrip()
            for line in lines[i + 1 : j]
        )
        between = lines[last_close + 1 : i] if last_close is not None else ["prose"]
        attached = all(not line.strip() for line in between)
        blocks.append(Block(lang, classes, body + "\n", i + 2, attached))
        last_close, i = j, j + 1
    return blocks


def _exception_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc))


def _run_python(block: Block, page: Path, namespace: dict[str, Any], *, may_raise: bool) -> str:
    """Run the block; what it prints, then the repr of its last expression if not None.

    Line numbers are shifted so that a traceback points at the page's own lines. When the
    block raises and ``may_raise``, the output ends with the exception as Python shows it.
    """
    tree = ast.parse(block.body)
    ast.increment_lineno(tree, block.line - 1)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(ast.Module(body=body, type_ignores=[]), str(page), "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), str(page), "eval"), namespace)
                if value is not None:
                    print(repr(value))
        except Exception as exc:
            if not may_raise:
                raise
            print(_exception_text(exc), end="")
    return out.getvalue()


def _run_command(block: Block, page: Path) -> str:
    """Run a ``retailcrm ...`` shell block in-process; its standard output."""
    from retailcrm.cli import main

    argv = shlex.split(block.body)
    assert argv and argv[0] == "retailcrm", (
        f"{page.name}, line {block.line}: only `retailcrm` commands can be checked, got "
        f"{block.body!r}"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv[1:])
    assert code == 0, f"{page.name}, line {block.line}: {block.body.strip()!r} exited with {code}"
    return out.getvalue()


def _normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if not TIMING.match(line))


def _check_page(page: Path, *, spark: bool) -> int:
    """Run the page in the current directory; compare outputs. Returns how many were compared.

    Without ``spark``, Spark blocks and their outputs are left out; with it, the whole page runs
    and only the Spark blocks' outputs are compared.
    """
    blocks = _blocks(page)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    checked = 0
    for i, block in enumerate(blocks):
        shown = blocks[i + 1] if i + 1 < len(blocks) else None
        if shown is not None and not (shown.is_output and shown.attached):
            shown = None
        where = f"{page.name}, line {block.line}"
        if block.is_output:
            owner = blocks[i - 1] if i > 0 else None
            assert block.attached and owner is not None and owner.lang in OUTPUT_LANGS, (
                f"{where}: a text block that is not directly under a python or bash block. "
                "Put shown output right under the code that prints it; fence a figure that is "
                "not output as ```{.text .figure}"
            )
            continue
        if block.uses_spark and not spark:
            continue
        if block.lang == "python":
            actual = _run_python(block, page, namespace, may_raise=shown is not None)
        elif block.lang == "bash" and shown is not None:
            actual = _run_command(block, page)
        else:
            named = FILE_COMMENT.match(block.body.splitlines()[0]) if block.body.strip() else None
            if named is not None and block.lang not in ("bash", "sh", "console", "text"):
                Path(named.group("name")).write_text(block.body, encoding="utf-8")
            continue  # install commands, figures and the like: nothing to compare
        if shown is None or (spark and not block.uses_spark):
            continue
        assert _normalise(actual) == _normalise(shown.body), f"{where} now prints:\n{actual}"
        checked += 1
    return checked


def _spark_pages() -> list[Path]:
    """Pages with a Python block that uses PySpark (a page that does not parse is left to
    the main test, which reports it)."""

    def uses_spark(page: Path) -> bool:
        try:
            return any(b.lang == "python" and b.uses_spark for b in _blocks(page))
        except AssertionError:
            return False

    return [page for page in _pages() if uses_spark(page)]


@pytest.fixture(autouse=True)
def _plain_script_display() -> Any:
    """The pages show what a plain ``python script.py`` prints: pandas' default width.

    Native thread pools (OpenMP, BLAS) are held to one thread: on a small machine shared with
    other jobs, scikit-learn's OpenMP gradient boosting (the churn examples) is otherwise
    10-20 times slower. The outputs shown do not depend on the number of threads.
    """
    import sklearn.ensemble  # noqa: F401 -- loads OpenMP, so that the limit applies to it

    with (
        pd.option_context("display.width", 80, "display.max_columns", 20),
        threadpoolctl.threadpool_limits(limits=1),
    ):
        yield


@pytest.mark.parametrize("page", _pages(), ids=_page_id)
def test_page_prints_what_it_shows(page: Path, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    _check_page(page, spark=False)


@pytest.mark.spark
@pytest.mark.parametrize("page", _spark_pages(), ids=_page_id)
def test_spark_examples_print_what_they_show(page: Path, tmp_path: Path, monkeypatch: Any) -> None:
    spark_session()  # the shared, configured session (skips without pyspark or Java)
    monkeypatch.chdir(tmp_path)
    assert _check_page(page, spark=True) >= 1


def test_every_page_of_the_site_is_checked() -> None:
    """The pages found are the site's pages: every page in the nav is one of them, and the
    pages with examples do compare output."""
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def nav_pages(item: Any) -> list[str]:
        if isinstance(item, str):
            return [item] if item.endswith(".md") else []
        if isinstance(item, dict):
            return [p for value in item.values() for p in nav_pages(value)]
        return [p for value in item for p in nav_pages(value)]

    found = {_page_id(p) for p in _pages()}
    assert set(nav_pages(config["nav"])) <= found
    outputs = {
        _page_id(p): sum(b.is_output for b in _blocks(p))
        for p in _pages()
        if _page_id(p).startswith(("index", "getting-started", "user-guide/"))
    }
    assert all(count > 0 for name, count in outputs.items() if name != "index.md"), outputs


def test_a_stale_output_fails(tmp_path: Path, monkeypatch: Any) -> None:
    """The comparison is not vacuous: a page whose shown output is wrong is caught."""
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nprint(1 + 1)\n```\n\n```text\n2\n```\n\n"
        "```python\nx = 40\nx + 2\n```\n\n```text\n41\n```\n",
        encoding="utf-8",
    )
    with pytest.raises(AssertionError, match="now prints"):
        _check_page(page, spark=False)
    page.write_text(page.read_text(encoding="utf-8").replace("41", "42"), encoding="utf-8")
    assert _check_page(page, spark=False) == 2


def test_errors_files_and_detached_output(tmp_path: Path, monkeypatch: Any) -> None:
    """Errors are output too; named files are written; output away from its code fails."""
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "page.md"
    page.write_text(
        "```yaml\n# limits.yaml\nlimit: 3\n```\n\n"
        "```python\nimport yaml\n\nwith open('limits.yaml') as f:\n    print(yaml.safe_load(f))\n"
        "int('x')\n```\n\n"
        "```text\n{'limit': 3}\nValueError: invalid literal for int() with base 10: 'x'\n```\n\n"
        "```{.text .figure}\na -> b\n```\n",
        encoding="utf-8",
    )
    assert _check_page(page, spark=False) == 1
    page.write_text("```python\nprint(2)\n```\n\nIt prints:\n\n```text\n2\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="not directly under a python or bash block"):
        _check_page(page, spark=False)
    page.write_text("```python\nint('x')\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="invalid literal"):
        _check_page(page, spark=False)


class _ExternalRequests(html.parser.HTMLParser):
    """Collects the URLs of other hosts that a page would load (not links to follow)."""

    LOADS: ClassVar[dict[str, str]] = {
        "script": "src",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "embed": "src",
    }
    IN_CSS = re.compile(r"(?:url\(|@import)\s*['\"]?((?:https?:)?//[^'\")\s]+)")

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # <link>: style sheets, fonts, preconnects, icons, manifests (<a> links are not loads)
        url = values.get("href") if tag == "link" else values.get(self.LOADS.get(tag, ""))
        if url and re.match(r"^(?:https?:)?//", url):
            self.found.append(f"<{tag}> {url}")
        self.found += self.IN_CSS.findall(values.get("style") or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += self.IN_CSS.findall(data)


def test_built_site_loads_nothing_from_other_hosts(tmp_path: Path) -> None:
    """The site works offline: no script, style sheet, font or image from another host (math
    is rendered by the KaTeX files the site serves itself, and the theme loads no web fonts)."""
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found: list[str] = []
    for page in site.rglob("*.html"):
        parser = _ExternalRequests()
        parser.feed(page.read_text(encoding="utf-8"))
        found += [f"{page.relative_to(site)}: {url}" for url in parser.found]
    for sheet in site.rglob("*.css"):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        for url in _ExternalRequests.IN_CSS.findall(text):
            found.append(f"{sheet.relative_to(site)}: {url}")
    assert not found, "\n".join(found[:20])
    formulas = (site / "user-guide" / "models-formulas" / "index.html").read_text("utf-8")
    assert 'class="arithmatex"' in formulas
    assert (site / "assets" / "katex" / "katex.min.js").is_file()
