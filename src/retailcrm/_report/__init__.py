"""The ``retailcrm report`` command's machinery: read the inputs, compute every section with
the public analysis packages, render one self-contained HTML page (English or Chinese).

Private: the command line is the interface (``retailcrm report --help``); :func:`build_report`
is its Python entry point, used by the tests and the docs' screenshot script.
"""

from __future__ import annotations

from retailcrm._report._build import SECTIONS, Figure, Report, Section, Table, build_report
from retailcrm._report._cli import add_report_parser, run_report
from retailcrm._report._load import Schemas, read_schemas, read_table

__all__ = [
    "SECTIONS",
    "Figure",
    "Report",
    "Schemas",
    "Section",
    "Table",
    "add_report_parser",
    "build_report",
    "read_schemas",
    "read_table",
    "run_report",
]
