"""Draw the figures of the Gallery page (docs/user-guide/gallery.md) as PNG files.

The page is the script: its ```python blocks run in order in one namespace (as
tests/test_docs.py runs them), and after each block followed by an image
``../assets/gallery/NAME.png`` the figure of the block's ``ax`` is saved as ``NAME.png``.
So each picture is drawn by exactly the code shown above it.

Run by the docs build (docs/hooks/gallery.py); by hand: ``python docs/gallery.py OUT_DIR``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

PAGE = Path(__file__).resolve().parent / "user-guide" / "gallery.md"
BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```\n(?P<after>.*?)(?=^```python|\Z)", re.S | re.M)
IMAGE = re.compile(r"!\[[^\]]*\]\(\.\./assets/gallery/(?P<name>[\w-]+)\.png\)")


def write_gallery(out: Path, page: Path = PAGE) -> list[Path]:
    """Run the page's code blocks and save each pictured figure into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    namespace: dict[str, object] = {"__name__": "__gallery__"}
    written = []
    for block in BLOCK.finditer(page.read_text(encoding="utf-8")):
        namespace.pop("ax", None)
        exec(compile(block["code"], str(page), "exec"), namespace)
        image = IMAGE.search(block["after"])
        if image is None:
            continue
        ax = namespace.get("ax")
        if ax is None:
            raise RuntimeError(f"the block before {image['name']}.png sets no `ax`")
        path = out / f"{image['name']}.png"
        ax.figure.savefig(path, dpi=90)  # type: ignore[attr-defined]
        written.append(path)
        plt.close("all")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("gallery")
    for file in write_gallery(target):
        print(file)
