"""The retailcrm command."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from retailcrm import __version__
from retailcrm.cli import MIN_DEMO_CUSTOMERS, main


def test_demo_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--customers", "300", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "customers" in out and "300 total" in out
    assert "recency (days)" in out and "monetary (net spend)" in out
    assert "top categories by customers" in out
    assert "BG/NBD          r=" in out and "12-month CLV    mean" in out
    assert "headline KPIs" in out and "old_customer_revenue_share" in out
    assert "NPS " in out and "adjusted-Wald 95% interval" in out
    assert "LTV/CAC by acquisition channel" in out
    # the RFM segment counts add up to every customer, the shares to 100%
    block = out.split("RFM segments")[1].split("\n\n")[0].splitlines()[2:]
    rows = [line for line in block if "%" in line and not line.strip().startswith("note")]
    assert sum(int(line.split()[-3].replace(",", "")) for line in rows) == 300
    assert abs(sum(float(line.split()[-2].rstrip("%")) for line in rows) - 100) < 0.6
    # every customer has one lifecycle stage
    stages = out.split("lifecycle stages")[1].split("\n\n")[0].splitlines()[1:]
    assert sum(int(line.split()[-2].replace(",", "")) for line in stages) == 300
    # every customer has one tier
    tiers = out.split("today's triggered actions")[1].split("trigger ")[0].splitlines()[2:]
    assert sum(int(line.split()[-2].replace(",", "")) for line in tiers if "%" in line) == 300


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"retailcrm {__version__}"
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


TOO_FEW = (
    rf"--customers must be at least {MIN_DEMO_CUSTOMERS}, got {{n}}: the demo fits BG/NBD and "
    rf"Gamma-Gamma models, and with fewer than about {MIN_DEMO_CUSTOMERS} customers the sample "
    r"has too few repeat purchases to identify their parameters\. Fix: pass --customers "
    rf"{MIN_DEMO_CUSTOMERS} or more \(the default is 5000\)\."
)
BEFORE_START = (
    r"--as-of {day} is before the sample data's first day, 2023-01-01: there are no purchases "
    r"to analyse yet\. Fix: pass a date from 2023-01-01 to 2024-12-31, or leave --as-of out to "
    r"use the last day\."
)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--customers", "3"], TOO_FEW.format(n=3)),
        (["--customers", "0"], TOO_FEW.format(n=0)),
        (["--customers", "-5"], TOO_FEW.format(n=-5)),
        (["--customers", str(MIN_DEMO_CUSTOMERS - 1)], TOO_FEW.format(n=MIN_DEMO_CUSTOMERS - 1)),
        (
            ["--seed", "-1"],
            r"--seed must be a whole number >= 0, got -1\. Fix: pass --seed 0 or another "
            r"non-negative number \(the same seed always gives the same sample\)\.",
        ),
        (
            ["--as-of", "yesterday"],
            r"--as-of 'yesterday' is not a date\. Fix: pass a date as YYYY-MM-DD \(or "
            r"YYYY-MM-DDTHH:MM:SS\), e\.g\. --as-of 2024-06-30, or leave --as-of out to use the "
            r"last day of the data\.",
        ),
        (["--as-of", "2000-01-01"], BEFORE_START.format(day="2000-01-01")),
        (["--as-of", "2022-12-31"], BEFORE_START.format(day="2022-12-31")),
        (
            ["--customers", "200", "--as-of", "2023-01-01"],
            r"as of 2023-01-01 the sample has 0 customers with purchases and 0 repeat buyers, "
            r"too few for the models \(BetaGeoModel\.fit: the summary has no customers "
            r"\(0 rows\), so there is nothing to fit\)\. Fix: pass more --customers "
            r"\(the default is 5000\) or a later --as-of\.",
        ),
        (
            ["--customers", "200", "--as-of", "2023-06-30"],
            r"as of 2023-06-30 the sample has \d+ customers with purchases and \d+ repeat buyers, "
            r"too few for the models \(BetaGeoModel leaves [a-z, ]+ unidentified.*\)\. Fix: pass "
            r"more --customers \(the default is 5000\) or a later --as-of\.",
        ),
    ],
    ids=[
        "customers-3",
        "customers-0",
        "customers-negative",
        "customers-one-below-minimum",
        "seed-negative",
        "as-of-unparseable",
        "as-of-long-before-the-data",
        "as-of-the-day-before-the-data",
        "as-of-first-day-no-buyers",
        "as-of-too-early-for-the-models",
    ],
)
def test_bad_demo_arguments_give_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err  # exactly one line
    assert re.fullmatch(rf"retailcrm: error: {message}\n", err), err


def test_the_minimum_number_of_customers_works(capsys: pytest.CaptureFixture[str]) -> None:
    # the suite turns warnings into errors, so an unidentified fit would fail here too
    assert main(["demo", "--customers", str(MIN_DEMO_CUSTOMERS)]) == 0
    out, err = capsys.readouterr()
    assert f"{MIN_DEMO_CUSTOMERS} total" in out and "12-month CLV" in out and err == ""


def test_too_few_customers_from_the_console_is_one_line_without_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "retailcrm.cli", "demo", "--customers", "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert re.fullmatch(rf"retailcrm: error: {TOO_FEW.format(n=3)}\n", done.stderr)


def test_console_script_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "retailcrm.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"retailcrm {__version__}"
