"""The ``retailcrm report`` subcommand: its arguments and what it runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_report_parser", "run_report"]

_TABLES = (
    # option, Schemas field, the roles read as text from CSV (keys)
    ("--customers", "customers", ("customer_id",)),
    ("--responses", "responses", ("customer_id",)),
    ("--survey", "survey", ("customer_id",)),
    ("--spend", "spend", ("channel",)),
    ("--events", "events", ("customer_id",)),
)


def add_report_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to the ``retailcrm`` subparsers ``sub``."""
    report = sub.add_parser(
        "report",
        help="write a self-contained HTML customer report (English or Chinese)",
        description="Read transactions (CSV or parquet) and optional customer, campaign, "
        "survey, spend and event tables, or use the built-in sample when no file is given, "
        "and write one self-contained HTML report: headline KPIs, segments and portraits, "
        "lifecycle and transitions, loyalty tiers with today's triggered actions, retention "
        "cohorts, NPS (with --survey) and predicted value, each with a plain-language reading.",
    )
    report.add_argument(
        "transactions",
        nargs="?",
        metavar="TRANSACTIONS",
        help="transactions file, .csv or .parquet (default: the built-in sample data)",
    )
    report.add_argument("--customers", metavar="F", help="customers file (registration, ...)")
    report.add_argument("--responses", metavar="F", help="campaign contacts and responses file")
    report.add_argument("--survey", metavar="F", help="survey answers file (0-10 scores: NPS)")
    report.add_argument("--spend", metavar="F", help="marketing spend file (CAC by channel)")
    report.add_argument("--events", metavar="F", help="behaviour events file (views, carts)")
    report.add_argument(
        "--schema",
        metavar="schema.yaml",
        help="YAML file mapping your column names to retailcrm's roles, one section per "
        "table: transactions, customers, responses, survey, spend, events",
    )
    report.add_argument("--as-of", required=True, help="analysis date, YYYY-MM-DD")
    report.add_argument("--output", "-o", required=True, help="the HTML file to write")
    report.add_argument("--lang", choices=("en", "zh"), default="en", help="report language (en)")
    # tests and docs: a smaller built-in sample (not part of the documented interface)
    report.add_argument("--sample-customers", type=int, default=5_000, help=argparse.SUPPRESS)
    return report


def run_report(args: argparse.Namespace, *, progress: bool = True) -> str:
    """Run ``retailcrm report``; returns the line to print."""
    from retailcrm._dates import parse_as_of
    from retailcrm._report._build import build_report
    from retailcrm._report._load import Schemas, read_schemas, read_table
    from retailcrm.exceptions import ConfigError

    try:
        parse_as_of(args.as_of, name="--as-of")
    except ConfigError:
        raise ConfigError(
            f"--as-of {args.as_of!r} is not a date. Fix: pass a date as YYYY-MM-DD (or "
            "YYYY-MM-DDTHH:MM:SS), e.g. --as-of 2024-12-31."
        ) from None
    output = Path(args.output)
    if not output.parent.is_dir():
        raise ConfigError(
            f"--output {output}: the folder {output.parent} does not exist. Fix: create it or "
            "write the report elsewhere."
        )
    given = [opt for opt, field, _ in _TABLES if getattr(args, field) is not None]
    if args.transactions is None and given:
        raise ConfigError(
            f"{', '.join(given)} given without TRANSACTIONS: the built-in sample has its own "
            "tables. Fix: pass your transactions file first, e.g. retailcrm report sales.csv "
            f"{given[0]} ..."
        )
    schemas = read_schemas(args.schema) if args.schema else Schemas()
    tables: dict[str, Any] = {}
    files: list[str] = []
    if args.transactions is not None:
        tx = schemas.transactions
        keys = tuple(c for c in (tx.customer_id, tx.order_id) if c is not None)
        tables["transactions"] = read_table(
            args.transactions, option="TRANSACTIONS", text_columns=keys
        )
        files.append(Path(args.transactions).name)
        for option, field, roles in _TABLES:
            path = getattr(args, field)
            if path is None:
                continue
            schema = getattr(schemas, field)
            keys = tuple(getattr(schema, r) for r in roles if getattr(schema, r, None))
            name = "surveys" if field == "survey" else field
            tables[name] = read_table(path, option=option, text_columns=keys)
            files.append(Path(path).name)
    source = None
    if files:
        from retailcrm._report._i18n import text

        source = text(args.lang, "source_files", files=", ".join(files))
    report = build_report(
        tables.pop("transactions", None),
        as_of=args.as_of,
        schemas=schemas,
        lang=args.lang,
        sample_customers=args.sample_customers,
        source=source,
        progress=progress,
        **tables,
    )
    page = report.html()
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"--output {output}: cannot write the file ({exc.strerror or exc}). Fix: choose a "
            "writable path."
        ) from None
    figures = sum(len(s.figures) for s in report.sections)
    return (
        f"wrote {output} ({len(report.sections)} sections, {figures} figures, "
        f"{len(page.encode('utf-8')) / 1e6:.1f} MB)"
    )
