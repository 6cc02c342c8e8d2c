"""The Gallery page's build step: every pictured block draws its figure."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from helpers import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "user-guide" / "gallery.md"


def test_the_page_pictures_every_plot_function() -> None:
    from retailcrm import plotting

    text = PAGE.read_text(encoding="utf-8")
    functions = [n for n in plotting.__all__ if n[0].islower() and n != "cjk_font"]
    assert [n for n in functions if f"plotting.{n}(" not in text] == []


def test_the_build_step_writes_one_png_per_image(tmp_path: Path) -> None:
    """docs/gallery.py on a two-block page: the figure of each block is saved under the name of
    the image that follows it; a block without an image saves nothing."""
    spec = importlib.util.spec_from_file_location("gallery", REPO_ROOT / "docs" / "gallery.py")
    assert spec is not None and spec.loader is not None
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nimport pandas as pd\nfrom retailcrm import plotting\n"
        "ax = plotting.ltv_distribution(pd.DataFrame({'clv': [1.0, 2.0]}))\nprint('x')\n```\n\n"
        "```text\nx\n```\n\n![a](../assets/gallery/first.png)\n\n"
        "```python\nnothing = 1\n```\n\n",
        encoding="utf-8",
    )
    written = gallery.write_gallery(tmp_path / "out", page)
    assert [p.name for p in written] == ["first.png"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    images = re.findall(r"assets/gallery/([\w-]+)\.png", PAGE.read_text(encoding="utf-8"))
    assert len(images) == len(set(images)) >= 17
