"""mkdocs hook: photograph the HTML report for Getting started during the build.

``on_pre_build`` runs docs/report_screenshot.py (in a separate Python process) into a
temporary folder, once per ``mkdocs serve`` session; ``on_files`` adds the PNG to the site as
``assets/report/report.png``. Nothing is written into docs/, so the image is never committed.
Enabled in mkdocs.yml with ``hooks: [..., docs/hooks/report_screenshot.py]``; needs headless
Chromium (Debian's ``chromium``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

SCRIPT = Path(__file__).resolve().parents[1] / "report_screenshot.py"
_OUT: Path | None = None


def on_pre_build(config: Any) -> None:
    global _OUT
    if _OUT is not None and (_OUT / "assets" / "report" / "report.png").is_file():
        return  # mkdocs serve rebuilds: the screenshot depends on the sample data only
    _OUT = Path(tempfile.mkdtemp(prefix="retailcrm-report-shot-"))
    subprocess.run(
        [sys.executable, str(SCRIPT), str(_OUT / "assets" / "report")],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def on_files(files: Files, config: Any) -> Files:
    assert _OUT is not None
    png = _OUT / "assets" / "report" / "report.png"
    files.append(
        File(
            png.relative_to(_OUT).as_posix(),
            src_dir=str(_OUT),
            dest_dir=config["site_dir"],
            use_directory_urls=config["use_directory_urls"],
        )
    )
    return files
