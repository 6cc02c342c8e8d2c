"""mkdocs hook: draw the Gallery page's figures during the build.

``on_pre_build`` runs docs/gallery.py (the page's own code blocks, in a separate Python
process with the Agg backend) into a temporary folder, once per ``mkdocs serve`` session;
``on_files`` adds the PNGs to the site as ``assets/gallery/NAME.png``. Nothing is written into
docs/, so no generated image is ever committed. Enabled in mkdocs.yml with
``hooks: [docs/hooks/gallery.py]``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

SCRIPT = Path(__file__).resolve().parents[1] / "gallery.py"
_OUT: Path | None = None


def on_pre_build(config: Any) -> None:
    global _OUT
    if _OUT is not None and any(_OUT.glob("*.png")):
        return  # mkdocs serve rebuilds: the figures depend on the sample data only
    _OUT = Path(tempfile.mkdtemp(prefix="retailcrm-gallery-"))
    subprocess.run(
        [sys.executable, str(SCRIPT), str(_OUT / "assets" / "gallery")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def on_files(files: Files, config: Any) -> Files:
    assert _OUT is not None
    for png in sorted((_OUT / "assets" / "gallery").glob("*.png")):
        files.append(
            File(
                png.relative_to(_OUT).as_posix(),
                src_dir=str(_OUT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files
