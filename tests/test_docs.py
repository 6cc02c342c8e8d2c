"""The pages "Getting started" and "Data and features" show real output: run them and compare.

For each page, the ```python blocks run in one shared namespace, in page order. When a ```text
block follows a block, what the block prints (plus, as in a REPL, the value of its last
expression when that is not ``None``) must equal the text block, trailing whitespace aside.
A ```bash block followed by a ```text block must be a ``retailcrm`` command; it runs in-process
through ``retailcrm.cli.main``, and its timing line ("done in X s") is not compared. Every
```text block must belong to a block that was checked, so no shown output goes stale unseen.

Blocks that use PySpark are checked by a separate test marked ``spark`` (skipped without
pyspark or Java); the other test runs the rest of the page. DuckDB blocks always run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from helpers import REPO_ROOT, spark_session

PAGES = {
    "getting-started": REPO_ROOT / "docs" / "getting-started.md",
    "data-and-features": REPO_ROOT / "docs" / "user-guide" / "data-and-features.md",
}
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
TIMING = re.compile(r"^done in \d+(\.\d+)? s$")


@dataclass(frozen=True)
class Block:
    lang: str
    body: str
    line: int  # line number of the block's first code line in the page

    @property
    def uses_spark(self) -> bool:
        return "pyspark" in self.body


def _blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [
        Block(m.group(1), m.group(2), text.count("\n", 0, m.start(2)) + 1)
        for m in FENCE.finditer(text)
    ]


def _run_python(block: Block, page: Path, namespace: dict[str, Any]) -> str:
    """Run the block; what it prints, then the repr of its last expression if not None.

    Line numbers are shifted so that a traceback points at the page's own lines.
    """
    tree = ast.parse(block.body)
    ast.increment_lineno(tree, block.line - 1)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(ast.Module(body=body, type_ignores=[]), str(page), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(page), "eval"), namespace)
            if value is not None:
                print(repr(value))
    return out.getvalue()


def _run_command(block: Block) -> str:
    """Run a ``retailcrm ...`` shell block in-process; its standard output."""
    from retailcrm.cli import main

    argv = shlex.split(block.body)
    assert argv and argv[0] == "retailcrm", (
        f"line {block.line}: only `retailcrm` commands can be checked, got {block.body!r}"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv[1:])
    assert code == 0, f"line {block.line}: {block.body.strip()!r} exited with {code}"
    return out.getvalue()


def _normalise(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(line for line in lines if not TIMING.match(line))


def _check_page(page: Path, *, spark: bool) -> int:
    """Run the page; compare outputs (of the Spark blocks only, when ``spark``).

    Without ``spark``, Spark blocks are left out. Returns how many outputs were compared.
    """
    blocks = _blocks(page)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    checked = 0
    for i, block in enumerate(blocks):
        shown = blocks[i + 1] if i + 1 < len(blocks) and blocks[i + 1].lang == "text" else None
        if block.lang == "text":
            prev = blocks[i - 1] if i > 0 else None
            assert prev is not None and prev.lang in ("python", "bash"), (
                f"{page.name}, line {block.line}: a text block that follows no code block"
            )
            continue
        if block.uses_spark and not spark:
            continue
        if block.lang == "python":
            actual = _run_python(block, page, namespace)
        elif block.lang == "bash" and shown is not None:
            actual = _run_command(block)
        else:
            continue  # install commands, YAML and the like: nothing to compare
        if shown is None or (spark and not block.uses_spark):
            continue
        assert _normalise(actual) == _normalise(shown.body), (
            f"{page.name}, block at line {block.line} now prints:\n{actual}"
        )
        checked += 1
    return checked


@pytest.fixture(autouse=True)
def _plain_script_display() -> Any:
    """The pages show what a plain ``python script.py`` prints: pandas' default width."""
    with pd.option_context("display.width", 80, "display.max_columns", 20):
        yield


@pytest.mark.parametrize("name", list(PAGES))
def test_page_prints_what_it_shows(name: str, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    checked = _check_page(PAGES[name], spark=False)
    assert checked >= {"getting-started": 2, "data-and-features": 12}[name]


@pytest.mark.spark
def test_spark_example_prints_what_it_shows(tmp_path: Path, monkeypatch: Any) -> None:
    spark_session()  # the shared, configured session (skips without pyspark or Java)
    monkeypatch.chdir(tmp_path)
    assert _check_page(PAGES["data-and-features"], spark=True) == 1


def test_a_stale_output_fails(tmp_path: Path) -> None:
    """The comparison is not vacuous: a page whose shown output is wrong is caught."""
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
