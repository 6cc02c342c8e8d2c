"""Draw the screenshot of the HTML report shown in Getting started (docs/getting-started.md).

Builds the report on the built-in sample (``retailcrm report``, English) and photographs the
top of the page with headless Chromium (Debian's ``chromium`` package). Run by the docs build
(docs/hooks/report_screenshot.py) into a temporary folder, so no generated image is committed;
by hand: ``python docs/report_screenshot.py OUT_DIR`` writes ``OUT_DIR/report.png``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from retailcrm.cli import main

CUSTOMERS = 2_000
AS_OF = "2024-12-31"
WINDOW = "1200,1600"  # the header, the KPI section and the start of the segments


def write_screenshot(out: Path) -> Path:
    """Write ``out/report.png``; raises RuntimeError when Chromium is missing or fails."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise RuntimeError(
            "the report screenshot needs headless Chromium: apt-get install chromium"
        )
    out.mkdir(parents=True, exist_ok=True)
    png = out / "report.png"
    with tempfile.TemporaryDirectory(prefix="retailcrm-report-") as tmp:
        page = Path(tmp) / "report.html"
        argv = ["report", "--as-of", AS_OF, "--output", str(page)]
        if main([*argv, "--sample-customers", str(CUSTOMERS)]) != 0:
            raise RuntimeError("retailcrm report failed (see the message above)")
        run = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                f"--screenshot={png}",
                f"--window-size={WINDOW}",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if run.returncode != 0 or not png.is_file():
        raise RuntimeError(f"chromium could not take the screenshot:\n{run.stderr[-2000:]}")
    return png


if __name__ == "__main__":
    print(write_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
