"""The ``retailcrm`` command: ``retailcrm demo``, ``retailcrm --version``.

Errors reach the terminal as one clear line and exit code 2 (bad input) or 1 (anything else);
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

from retailcrm._version import __version__
from retailcrm.exceptions import ConfigError, InvalidDataError, RetailCRMError

__all__ = ["main"]

#: The smallest ``--customers`` for which the demo works. Measured by running it: with 150
#: customers the BG/NBD and Gamma-Gamma fits identify their parameters for 119 of seeds 0-119
#: (and for 59, 60 and 60 of seeds 0-59 at 160, 180 and 200 customers); with fewer, more
#: seeds leave a parameter unidentified (1 in 20 at 110, 1 in 4 at 60, most at 30 or fewer).
#: The rare seed that still does gets the one-line "too few for the models" error.
MIN_DEMO_CUSTOMERS = 150


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retailcrm",
        description="Retail customer analytics over plain dataframes.",
    )
    parser.add_argument("--version", action="version", version=f"retailcrm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="generate the built-in sample retailer and run the main analyses on it",
        description="Generate the built-in sample data, validate and clean it, compute the "
        "customer feature table as of the last day, segment customers with a rule set, fit "
        "BG/NBD and Gamma-Gamma models and print a readable summary.",
    )
    demo.add_argument(
        "--customers",
        type=int,
        default=5_000,
        help=f"number of customers, at least {MIN_DEMO_CUSTOMERS} (5000)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed, >= 0 (0)")
    demo.add_argument(
        "--as-of", default=None, help="analysis date, YYYY-MM-DD (default: last day of data)"
    )
    return parser


def _check_demo_args(customers: int, seed: int, as_of: str | None) -> None:
    """Reject demo arguments that cannot work, before generating any data."""
    if customers < MIN_DEMO_CUSTOMERS:
        raise ConfigError(
            f"--customers must be at least {MIN_DEMO_CUSTOMERS}, got {customers}: the demo fits "
            f"BG/NBD and Gamma-Gamma models, and with fewer than about {MIN_DEMO_CUSTOMERS} "
            "customers the sample has too few repeat purchases to identify their parameters. "
            f"Fix: pass --customers {MIN_DEMO_CUSTOMERS} or more (the default is 5000)."
        )
    if seed < 0:
        raise ConfigError(
            f"--seed must be a whole number >= 0, got {seed}. Fix: pass --seed 0 or another "
            "non-negative number (the same seed always gives the same sample)."
        )
    if as_of is not None:
        from retailcrm._dates import parse_as_of

        try:
            parse_as_of(as_of, name="--as-of")
        except ConfigError:
            raise ConfigError(
                f"--as-of {as_of!r} is not a date. Fix: pass a date as YYYY-MM-DD (or "
                "YYYY-MM-DDTHH:MM:SS), e.g. --as-of 2024-06-30, or leave --as-of out to use the "
                "last day of the data."
            ) from None


def _quantiles(values: Any) -> str:
    qs = values.quantile([0.1, 0.25, 0.5, 0.75, 0.9]).tolist()
    return "  ".join(f"{v:>9,.1f}" for v in qs)


def run_demo(customers: int, seed: int, as_of: str | None) -> str:
    """Build the demo summary text (also used by the tests)."""
    from retailcrm._dates import parse_as_of
    from retailcrm.data import clean_transactions, sample_data, validate_transactions
    from retailcrm.features import customer_features

    t0 = time.perf_counter()
    _check_demo_args(customers, seed, as_of)
    data = sample_data(customers, seed=seed)
    tx = data.transactions
    if as_of is not None and parse_as_of(as_of).date < data.start:
        raise ConfigError(
            f"--as-of {as_of} is before the sample data's first day, {data.start}: there are no "
            f"purchases to analyse yet. Fix: pass a date from {data.start} to {data.end}, or "
            "leave --as-of out to use the last day."
        )
    as_of = as_of or data.end.isoformat()
    report = validate_transactions(tx, as_of=as_of)
    cleaned, cleaning = clean_transactions(tx, as_of=as_of)
    feats = customer_features(cleaned, as_of=as_of, customers=data.customers)

    buyers = feats[feats["frequency"] > 0]
    lines = [
        f"retailcrm {__version__} demo — synthetic retailer (seed {seed}), as of {as_of}",
        "",
        f"transactions   {len(tx):>10,} lines   {tx['order_id'].nunique():>9,} orders   "
        f"{data.start} → {data.end}",
        f"customers      {len(feats):>10,} total  {len(buyers):>9,} with purchases",
        f"revenue (net)  {feats['monetary'].sum():>13,.2f}",
        f"validation     {len(report.errors)} errors, {len(report.warnings)} warnings "
        f"({', '.join(report.codes) or 'none'})",
        f"cleaning       {cleaning.n_rows_in:,} → {cleaning.n_rows_out:,} lines",
        "",
        "distribution over customers with purchases",
        f"{'':<22}{'p10':>9}  {'p25':>9}  {'p50':>9}  {'p75':>9}  {'p90':>9}",
        f"{'recency (days)':<22}{_quantiles(buyers['recency_days'])}",
        f"{'frequency (orders)':<22}{_quantiles(buyers['frequency'])}",
        f"{'monetary (net spend)':<22}{_quantiles(buyers['monetary'])}",
        f"{'avg order value':<22}{_quantiles(buyers['avg_order_value'])}",
        "",
        "activity",
        f"  bought in the last 90 days   {(feats['orders_90d'] > 0).mean():>6.1%}",
        f"  bought in the last 365 days  {(feats['orders_365d'] > 0).mean():>6.1%}",
        f"  repeat buyers (2+ orders)    {(feats['frequency'] >= 2).mean():>6.1%}",
        "",
        "top categories by customers",
    ]
    top = buyers["top_category"].value_counts().head(5)
    lines += [f"  {name:<14}{count:>8,}" for name, count in top.items()]
    lines += ["", *_segments_section(feats), "", *_clv_section(cleaned, as_of)]
    elapsed = time.perf_counter() - t0
    lines += ["", f"done in {elapsed:.1f} s"]
    return "\n".join(lines)


#: The boutique case's groups (DOMAIN.md), as a first-match rule set over the feature table.
DEMO_SEGMENTS = {
    "rules": [
        {
            "id": "close_friends",
            "when": "orders_90d >= 4 and avg_order_value >= 100",
            "label": "close friends",
        },
        {"id": "potential", "when": "2 <= orders_90d <= 3", "label": "potential partners"},
        {"id": "new", "when": "tenure_days <= 30", "label": "new"},
        {"id": "to_awaken", "when": "orders_180d <= 1", "label": "to be awakened"},
    ],
    "default": "steady",
}


def _segments_section(feats: Any) -> list[str]:
    from retailcrm.rules import RuleSet

    rules = RuleSet.from_dict(DEMO_SEGMENTS)
    seg = rules.evaluate(feats, label_column="segment")
    share = seg["segment"].value_counts(normalize=True)
    out = [f"segments (rule set {rules.fingerprint}, first match wins)"]
    for rule in rules.rules:
        label = rule.effective_label
        out.append(f"  {label:<22}{share.get(label, 0.0):>6.1%}   {rule.when}")
    out.append(f"  {rules.default!s:<22}{share.get(rules.default, 0.0):>6.1%}   (no rule)")
    return out


def _clv_section(tx: Any, as_of: str) -> list[str]:
    from retailcrm.models import btyd_summary, customer_lifetime_value

    summary = btyd_summary(tx, observation_end=as_of, time_unit="W")
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    bgnbd, spend = _fit_models(summary, repeat, as_of)
    clv = customer_lifetime_value(
        bgnbd, spend, repeat, horizon=12, time_unit="W", discount_rate=0.01, margin=0.3
    )
    params = ", ".join(f"{k}={v:.3f}" for k, v in bgnbd.params_.items())
    alive = bgnbd.probability_alive(summary)["probability_alive"]
    next_year = bgnbd.expected_purchases(52, summary)["expected_purchases"]
    top = clv.sort_values("clv", ascending=False).head(3)
    out = [
        "predictive value (BG/NBD + Gamma-Gamma, weeks)",
        f"  BG/NBD          {params}  (log-likelihood {bgnbd.log_likelihood_:,.1f})",
        f"  P(alive)        median {float(_median(alive)):.2f};"
        f" {float((alive < 0.5).mean()):.1%} of customers below 0.5",
        f"  next 52 weeks   {float(next_year.sum()):,.0f} repeat purchases expected",
        f"  12-month CLV    mean {clv['clv'].mean():,.2f} (margin 30%, 1% a month); top: "
        + ", ".join(f"{c} {v:,.0f}" for c, v in zip(top["customer_id"], top["clv"], strict=True)),
    ]
    return out


def _fit_models(summary: Any, repeat: Any, as_of: str) -> tuple[Any, Any]:
    """BG/NBD on ``summary`` and Gamma-Gamma on ``repeat``, or one InvalidDataError saying the
    sample is too small (a fit failed, or left parameters unidentified)."""
    from retailcrm.exceptions import IdentifiabilityWarning
    from retailcrm.models import BetaGeoModel, GammaGammaModel

    problem = ""
    try:
        # an unidentified fit is reported below, as one line, instead of as a warning
        with warnings.catch_warnings(action="ignore", category=IdentifiabilityWarning):
            bgnbd = BetaGeoModel().fit(summary)
            spend = GammaGammaModel().fit(repeat)
    except RetailCRMError as exc:
        problem = str(exc).split(". ")[0]
    else:
        weak = [
            f"{type(m).__name__} leaves {', '.join(m.unidentified_params_)} unidentified"
            for m in (bgnbd, spend)
            if m.unidentified_params_
        ]
        problem = "; ".join(weak)
    if problem:
        raise InvalidDataError(
            f"as of {as_of} the sample has {len(summary):,} customers with purchases and "
            f"{len(repeat):,} repeat buyers, too few for the models ({problem}). Fix: pass more "
            "--customers (the default is 5000) or a later --as-of."
        )
    return bgnbd, spend


def _median(values: Any) -> Any:
    import numpy as np

    return np.median(values)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``retailcrm`` command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "demo":
            print(run_demo(args.customers, args.seed, args.as_of))
        return 0
    except RetailCRMError as exc:
        if args.debug:
            raise
        first = str(exc).splitlines()[0]
        print(f"retailcrm: error: {first}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"retailcrm: unexpected {type(exc).__name__}: {exc} (rerun with --debug)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
