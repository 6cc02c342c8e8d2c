"""The retailcrm command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from retailcrm import __version__
from retailcrm.cli import main


def test_demo_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--customers", "300", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "customers" in out and "300 total" in out
    assert "recency (days)" in out and "monetary (net spend)" in out
    assert "top categories by customers" in out
    assert "segments (rule set " in out and "close friends" in out
    assert "BG/NBD          r=" in out and "12-month CLV    mean" in out
    # the segment shares add up to 100%
    shares = [
        float(line.split("%")[0].split()[-1])
        for line in out.split("segments (rule set")[1].split("predictive value")[0].splitlines()[1:]
        if "%" in line
    ]
    assert abs(sum(shares) - 100.0) < 0.5


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"retailcrm {__version__}"
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--as-of", "not-a-date"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("retailcrm: error: as_of='not-a-date' is not an ISO date")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert main(["demo", "--customers", "0"]) == 2


def test_console_script_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "retailcrm.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"retailcrm {__version__}"
