"""The user-guide page "Writing rules" shows real output: run its examples and compare.

Each ```python block runs in one shared namespace, in page order; when a ```text block follows,
the value of the block's last expression (or the error it raises) must print exactly as shown.
The page's YAML block is saved as ``segments.yaml`` in a temporary working directory first.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "user-guide" / "rules.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(PAGE.read_text(encoding="utf-8"))]


def _run(code: str, namespace: dict[str, Any]) -> str:
    """Run ``code``; the printed value of its last expression, or ``module.Error: message``."""
    tree = ast.parse(code)
    last = tree.body[-1] if isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    try:
        exec(compile(ast.Module(body=body, type_ignores=[]), str(PAGE), "exec"), namespace)
        if last is None:
            return ""
        value = eval(compile(ast.Expression(last.value), str(PAGE), "eval"), namespace)
    except Exception as exc:
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    return str(value)


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_examples_print_what_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = _blocks()
    (yaml_text,) = [body for lang, body in blocks if lang == "yaml"]
    (tmp_path / "segments.yaml").write_text(yaml_text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    checked = 0
    for i, (lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        shown = _run(body, namespace)
        if i + 1 < len(blocks) and blocks[i + 1][0] == "text":
            assert _normalise(shown) == _normalise(blocks[i + 1][1]), body
            checked += 1
    assert checked >= 11
    stated = re.search(r"`rules.fingerprint` is `'([0-9a-f]{16})'`", PAGE.read_text("utf-8"))
    assert stated is not None
    assert namespace["rules"].fingerprint == stated.group(1)
