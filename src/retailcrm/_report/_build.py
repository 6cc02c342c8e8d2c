"""Computing every section of the report from its input tables.

Each section is computed by the public analysis functions (the report is an application of
the library, like the ``demo`` command) and carries its headline numbers twice: as reading
sentences in the chosen language and, keyed by language-independent rule ids, in
:attr:`Report.numbers`, which the HTML embeds as JSON.
"""

from __future__ import annotations

import base64
import calendar
import datetime as _dt
import io
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from retailcrm._dates import parse_as_of
from retailcrm._params import check_choice, check_int
from retailcrm._report._i18n import LANGS, Lang, feature_names, text
from retailcrm._report._load import Schemas
from retailcrm._version import __version__
from retailcrm.exceptions import (
    ConfigError,
    IdentifiabilityWarning,
    InvalidDataError,
    RetailCRMError,
)

__all__ = ["SECTIONS", "Figure", "Report", "Section", "Table", "build_report"]

#: The report's sections, in order (their ids; the headings are in :mod:`._i18n`).
SECTIONS = ("kpis", "segments", "lifecycle", "loyalty", "cohorts", "nps", "value")

#: Gross margin and monthly discount rate of the predicted-value section (as in the demo).
MARGIN = 0.3
DISCOUNT_RATE = 0.01
#: Segments that need winning back (rule ids of STANDARD_SEGMENTS).
RISK_SEGMENTS = ("about_to_sleep", "at_risk", "cant_lose_them", "hibernating")
#: Stages counted as "active" in the lifecycle reading.
LIVE_STAGES = ("new", "growing", "mature", "active", "reactivated")
#: Months of lifecycle history shown (stage mix and flows).
HISTORY_MONTHS = 12
#: The note shown when figures hold characters no installed font has (Chinese without a CJK
#: font): matplotlib warns once per glyph, the report says it once.
MISSING_FONT_NOTE = (
    "some characters in the figures are missing from the installed fonts and show as boxes; "
    "install a CJK font (e.g. Debian's fonts-noto-cjk) and run the report again"
)
#: Months back of the tier assignment that tier moves are measured from.
TIER_LOOKBACK_MONTHS = 3


@attrs.frozen
class Figure:
    """One embedded picture: its caption and PNG bytes."""

    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@attrs.frozen
class Table:
    """A small table shown in a section: header labels and formatted cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@attrs.frozen
class Section:
    """One section: its id, heading, reading sentences, figures, tables and notes."""

    id: str
    title: str
    reading: tuple[str, ...]
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()


@attrs.frozen
class Report:
    """The computed report: sections in order and the numbers behind them.

    ``numbers`` is plain JSON data keyed by rule ids and metric names, the same in every
    language; :meth:`html` renders the self-contained page.
    """

    lang: Lang
    as_of: str
    source: str
    sections: tuple[Section, ...]
    numbers: dict[str, Any]

    def html(self) -> str:
        from retailcrm._report._html import render

        return render(self)

    def write(self, path: Any) -> None:
        """Write :meth:`html` to ``path`` as UTF-8."""
        from pathlib import Path

        Path(path).write_text(self.html(), encoding="utf-8")


@attrs.frozen
class _Inputs:
    transactions: Any
    customers: Any
    responses: Any
    surveys: Any
    spend: Any
    events: Any
    schemas: Schemas


# ----------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------
def build_report(
    transactions: Any = None,
    *,
    as_of: Any,
    customers: Any = None,
    responses: Any = None,
    surveys: Any = None,
    spend: Any = None,
    events: Any = None,
    schemas: Schemas | None = None,
    lang: str = "en",
    sample_customers: int = 5_000,
    source: str | None = None,
    progress: bool = False,
) -> Report:
    """Compute the report from pandas frames, or from the built-in sample when
    ``transactions`` is None (then the sample's other tables fill those not given).

    Raises :class:`~retailcrm.exceptions.RetailCRMError` subclasses for bad input: a bad
    date or language (ConfigError), a missing column (MissingColumnsError), unusable data
    (InvalidDataError).
    """
    owner = "build_report"
    lang = check_choice(lang, LANGS, name="lang", owner=owner, fix="use 'en' or 'zh'.")
    day = parse_as_of(as_of, name="--as-of")
    schemas = schemas or Schemas()
    if transactions is None:
        from retailcrm.data import SpendSchema, sample_data

        n = check_int(sample_customers, name="sample_customers", owner=owner, low=150)
        data = sample_data(n)
        transactions = data.transactions
        customers = data.customers if customers is None else customers
        responses = data.campaigns if responses is None else responses
        surveys = data.surveys if surveys is None else surveys
        events = data.events if events is None else events
        if spend is None:
            spend = data.marketing_spend
            schemas = attrs.evolve(schemas, spend=SpendSchema(period="month", amount="spend"))
        source = source or text(lang, "source_sample", customers=n)
    inputs = _Inputs(transactions, customers, responses, surveys, spend, events, schemas)
    builder = _Builder(inputs, day.date, lang)
    steps: list[tuple[str, Callable[[], Section]]] = [
        ("KPIs", builder.kpis),
        ("segments", builder.segments),
        ("lifecycle", builder.lifecycle),
        ("loyalty", builder.loyalty),
        ("cohorts", builder.cohorts),
        ("NPS", builder.nps),
        ("models", builder.value),
    ]
    with _progress(len(steps) + 1, enabled=progress) as tick:
        tick("features")
        builder.prepare()
        sections = []
        for label, step in steps:
            tick(label)
            section = step()
            notes = tuple(
                text(lang, "missing_font") if n == MISSING_FONT_NOTE else n for n in section.notes
            )
            sections.append(attrs.evolve(section, notes=notes))
    return Report(
        lang=lang,
        as_of=day.date.isoformat(),
        source=source or "",
        sections=tuple(sections),
        numbers={"as_of": day.date.isoformat(), "version": __version__, **builder.numbers},
    )


@contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A tqdm bar on stderr, shown only when ``enabled`` and stderr is a terminal."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda label: None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, file=sys.stderr, leave=False, unit="step", desc="retailcrm report")
    first = True

    def tick(label: str) -> None:
        nonlocal first
        if not first:
            bar.update(1)
        first = False
        bar.set_postfix_str(label)

    try:
        yield tick
        bar.update(1)
    finally:
        bar.close()


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------
def _month_end(year: int, month: int) -> _dt.date:
    return _dt.date(year, month, calendar.monthrange(year, month)[1])


def _months_back(day: _dt.date, months: int) -> _dt.date:
    """The last day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return _month_end(index // 12, index % 12 + 1)


def _num(value: Any) -> float | None:
    """A JSON-safe float (None for NaN or missing)."""
    if value is None:
        return None
    out = float(value)
    return None if out != out else out


def _pct(value: Any) -> str:
    v = _num(value)
    return "–" if v is None else f"{v:.1%}"


_MISSING_GLYPH = re.compile(r"Glyph \d+ .* missing from font")


@contextmanager
def _noted(notes: list[str]) -> Iterator[None]:
    """Warnings raised inside (data quality, missing CJK fonts) become notes of the section,
    each once; matplotlib's one warning per missing glyph becomes one note."""
    with warnings.catch_warnings(record=True, action="always", category=UserWarning) as got:
        yield
    for w in got:
        line = str(w.message).splitlines()[0]
        if _MISSING_GLYPH.match(line):
            line = MISSING_FONT_NOTE
        if line not in notes:
            notes.append(line)


class _Builder:
    """Holds the prepared inputs shared by the sections and collects their numbers."""

    def __init__(self, inputs: _Inputs, as_of: _dt.date, lang: Lang) -> None:
        self.inputs = inputs
        self.as_of = as_of
        self.day = as_of.isoformat()
        self.lang = lang
        self.numbers: dict[str, Any] = {}
        self.tx: Any = None
        self.features: Any = None
        self.tiers: Any = None

    # -- shared ------------------------------------------------------------------------------
    def t(self, key: str, *args: Any, **values: Any) -> str:
        return text(self.lang, key, *args, **values)

    def figure(self, name: str, caption: str, notes: list[str], *args: Any, **kw: Any) -> Figure:
        """Draw ``retailcrm.plotting.<name>(*args, ax=..., **kw)`` and keep it as PNG."""
        fig = _mpl_figure()
        from retailcrm import plotting

        with _noted(notes):
            drawn = getattr(plotting, name)(*args, ax=fig.add_subplot(), **kw)
        return _png(drawn.figure, caption, notes)

    def prepare(self) -> None:
        """Clean the transactions and compute the feature table as of the report's date."""
        from retailcrm.data import clean_transactions
        from retailcrm.features import customer_features

        inp, s = self.inputs, self.inputs.schemas
        notes: list[str] = []
        with _noted(notes):
            self.tx, _ = clean_transactions(inp.transactions, schema=s.transactions, as_of=self.day)
            self.features = customer_features(
                self.tx,
                as_of=self.day,
                schema=s.transactions,
                customers=inp.customers,
                customer_schema=s.customers,
                responses=inp.responses,
                response_schema=s.responses,
                events=inp.events,
                event_schema=s.events,
            )
        self.prepare_notes = notes
        buyers = int((self.features["frequency"] > 0).sum())
        if buyers == 0:
            raise InvalidDataError(
                f"no purchases on or before --as-of {self.day}: there is nothing to report. "
                "Fix: pass a later --as-of, within the transactions' dates."
            )
        self.numbers["customers"] = len(self.features)
        self.numbers["buyers"] = buyers

    # -- sections ----------------------------------------------------------------------------
    def kpis(self) -> Section:
        from retailcrm.metrics import kpi_summary

        notes: list[str] = list(self.prepare_notes)
        with _noted(notes):
            table = kpi_summary(
                self.tx, as_of=self.day, period="M", schema=self.inputs.schemas.transactions
            )
        values = {
            str(r.metric): {
                "current": _num(r.current),
                "previous": _num(r.previous),
                "relative_change": _num(r.relative_change),
            }
            for r in table.itertuples()
        }
        self.numbers["kpis"] = values
        cur = {k: v["current"] or 0.0 for k, v in values.items()}
        change = values.get("revenue", {}).get("relative_change")
        if change is None:
            revenue_change = self.t("change_none")
        elif change >= 0:
            revenue_change = self.t("change_up", change)
        else:
            revenue_change = self.t("change_down", -change)
        customers = int(cur.get("customers", 0))
        reading = (
            self.t(
                "read.kpis",
                month=self.as_of.strftime("%Y-%m"),
                buyers=int(cur.get("buyers", 0)),
                orders=int(cur.get("orders", 0)),
                revenue=cur.get("revenue", 0.0),
                revenue_change=revenue_change,
                aov=cur.get("aov", 0.0),
                repeat=cur.get("repeat_purchase_rate", 0.0),
            ),
            self.t(
                "read.kpis_active",
                active=int(cur.get("active_customers", 0)),
                customers=customers,
                active_share=cur.get("active_customers", 0) / customers if customers else 0.0,
                active_days=180,
                new=int(cur.get("new_customers", 0)),
            ),
        )
        rates = {"repeat_purchase_rate", "old_customer_revenue_share"}
        money = {"revenue", "aov"}

        def fmt(metric: str, v: float | None) -> str:
            if v is None:
                return "–"
            if metric in rates:
                return f"{v:.1%}"
            return f"{v:,.2f}" if metric in money else f"{v:,.0f}"

        rows = tuple(
            (
                self.t(f"kpi.{m}") if f"kpi.{m}" in _KPI_KEYS else m,
                fmt(m, v["current"]),
                fmt(m, v["previous"]),
                "–" if v["relative_change"] is None else f"{v['relative_change']:+.1%}",
            )
            for m, v in values.items()
        )
        header = (self.t("metric"), self.t("current"), self.t("previous"), self.t("change"))
        figure = self._kpi_figure(notes)
        return Section(
            "kpis",
            self.t("kpis"),
            reading,
            figures=(figure,),
            tables=(Table(header, rows),),
            notes=tuple(notes),
        )

    def _kpi_figure(self, notes: list[str]) -> Figure:
        """Revenue (bars) and buyers (line) in each of the last twelve months."""
        from retailcrm.metrics import kpi_summary

        months = self._history_dates()[1:]
        revenue, buyers = [], []
        with _noted(notes):
            for day in months:
                k = kpi_summary(
                    self.tx,
                    as_of=day.isoformat(),
                    period="M",
                    schema=self.inputs.schemas.transactions,
                ).set_index("metric")["current"]
                revenue.append(float(k.get("revenue", 0.0)))
                buyers.append(float(k.get("buyers", 0.0)))
        self.numbers["monthly"] = {
            d.strftime("%Y-%m"): {"revenue": r, "buyers": b}
            for d, r, b in zip(months, revenue, buyers, strict=True)
        }
        fig = _mpl_figure()
        from retailcrm.plotting import PALETTE, cjk_font

        ax = fig.add_subplot()
        labels = [d.strftime("%Y-%m") for d in months]
        ax.bar(labels, revenue, color=PALETTE[0], label=self.t("kpi.revenue"))
        ax.set_ylabel(self.t("kpi.revenue"))
        ax.tick_params(axis="x", labelrotation=45)
        ax.spines["top"].set_visible(False)
        twin = ax.twinx()
        twin.plot(labels, buyers, color=PALETTE[1], marker="o", label=self.t("kpi.buyers"))
        twin.set_ylabel(self.t("kpi.buyers"))
        twin.set_ylim(bottom=0)
        twin.spines["top"].set_visible(False)
        handles = [*ax.get_legend_handles_labels()[0], *twin.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, loc="upper left", frameon=False)
        font = cjk_font() if self.lang == "zh" else None
        if font is not None:  # Chinese labels: the CJK font the plotting package would use
            for item in [*ax.texts, ax.yaxis.label, twin.yaxis.label, *ax.get_legend().texts]:
                item.set_fontfamily([font, "sans-serif"])
        return _png(fig, self.t("fig.kpi_trend"), notes)

    def segments(self) -> Section:
        from retailcrm.segmentation import (
            STANDARD_SEGMENTS,
            rfm_scores,
            segment,
            segment_profile,
        )

        notes: list[str] = []
        scheme = STANDARD_SEGMENTS.relabel(self.lang) if self.lang != "en" else STANDARD_SEGMENTS
        with _noted(notes):
            scores = rfm_scores(self.features)
            labels = segment(scores, scheme)
            profile = segment_profile(self.features, labels)
        ids = labels.assign(rule_id=labels["rule_id"].fillna("default"))
        label_to_id = dict(zip(ids["segment"], ids["rule_id"], strict=True))
        profile = profile.sort_values(["customers", "segment"], ascending=[False, True])
        self.numbers["segments"] = {
            str(label_to_id.get(r.segment, r.segment)): {
                "customers": int(r.customers),
                "share": _num(r.share),
                "revenue_share": _num(r.revenue_share),
                "repurchase_rate": _num(r.repurchase_rate),
            }
            for r in profile.itertuples()
        }
        largest = profile.iloc[0]
        top = profile.sort_values(["revenue_share", "segment"], ascending=[False, True]).iloc[0]
        risk = profile[profile["segment"].map(label_to_id).isin(RISK_SEGMENTS)]
        reading = [
            self.t(
                "read.segments",
                largest=largest["segment"],
                largest_n=int(largest["customers"]),
                largest_share=float(largest["share"]),
                top=top["segment"],
                top_share=float(top["share"]),
                top_revenue=float(top["revenue_share"]),
            )
        ]
        if len(risk):
            reading.append(
                self.t(
                    "read.segments_risk",
                    risk_n=int(risk["customers"].sum()),
                    risk_share=float(risk["share"].sum()),
                    risk_names=("、" if self.lang == "zh" else ", ").join(
                        map(str, risk["segment"])
                    ),
                    risk_revenue=float(risk["revenue_share"].sum()),
                )
            )
        if isinstance(largest.get("distinguishing"), str) and largest["distinguishing"]:
            reading.append(
                self.t(
                    "read.portrait",
                    segment=largest["segment"],
                    distinguishing=feature_names(self.lang, largest["distinguishing"]),
                )
            )
        figures = (
            self.figure("rfm_heatmap", self.t("fig.rfm_heatmap"), notes, scores),
            self.figure("segment_sizes", self.t("fig.segment_sizes"), notes, profile),
            self.figure(
                "segment_portrait",
                self.t("fig.segment_portrait", segment=largest["segment"]),
                notes,
                profile,
                largest["segment"],
            ),
        )
        header = (
            self.t("segment"),
            self.t("customers"),
            self.t("share"),
            self.t("revenue_share"),
            self.t("repurchase_rate"),
        )
        rows = tuple(
            (
                str(r.segment),
                f"{int(r.customers):,}",
                _pct(r.share),
                _pct(r.revenue_share),
                _pct(r.repurchase_rate),
            )
            for r in profile.itertuples()
        )
        return Section(
            "segments",
            self.t("segments"),
            tuple(reading),
            figures=figures,
            tables=(Table(header, rows),),
            notes=tuple(notes),
        )

    def _history_dates(self) -> list[_dt.date]:
        dates = [_months_back(self.as_of, k) for k in range(HISTORY_MONTHS, 0, -1)]
        return [*dates, self.as_of]

    def lifecycle(self) -> Section:
        from retailcrm.lifecycle import assign_stages, stage_flows, stage_history

        notes: list[str] = []
        lang = self.lang if self.lang != "en" else None
        dates = self._history_dates()
        s = self.inputs.schemas
        with _noted(notes):
            stages = assign_stages(self.features, as_of=self.day, lang=lang)
            history = stage_history(
                self.tx,
                dates=dates,
                schema=s.transactions,
                customers=self.inputs.customers,
                customer_schema=s.customers,
                lang=lang,
            )
            flows = stage_flows(history)
        counts = stages["rule_id"].value_counts()
        self.numbers["stages"] = {str(k): int(v) for k, v in sorted(counts.items())}
        total = int(counts.sum()) or 1
        live = int(counts[counts.index.isin(LIVE_STAGES)].sum())
        before, after = (
            history[history["date"] == pd_date]
            for pd_date in _as_history_dates(history, (dates[-2], dates[-1]))
        )
        moves = before[["customer_id", "rule_id"]].merge(
            after[["customer_id", "rule_id"]], on="customer_id", how="outer", suffixes=("_0", "_1")
        )
        changed = moves[moves["rule_id_0"].fillna("") != moves["rule_id_1"].fillna("")]
        to_churn = int((changed["rule_id_1"] == "churned").sum())
        back = int((changed["rule_id_1"] == "reactivated").sum())
        self.numbers["transitions"] = {
            "from": dates[-2].isoformat(),
            "to": dates[-1].isoformat(),
            "changed": len(changed),
            "to_churned": to_churn,
            "to_reactivated": back,
        }
        reading = (
            self.t(
                "read.lifecycle",
                active_n=live,
                active_share=live / total,
                dormant_n=int(counts.get("dormant", 0)),
                churned_n=int(counts.get("churned", 0)),
            ),
            self.t(
                "read.transitions",
                from_date=dates[-2].isoformat(),
                moved=len(changed),
                to_churn=to_churn,
                back=back,
            ),
        )
        figures = (
            self.figure("stage_mix", self.t("fig.stage_mix"), notes, history),
            self.figure("stage_flow", self.t("fig.stage_flow"), notes, flows),
        )
        names = stages.drop_duplicates("rule_id").set_index("rule_id")["stage"]
        header = (self.t("stage"), self.t("customers"), self.t("share"))
        rows = tuple(
            (str(names.get(k, k)), f"{int(v):,}", f"{int(v) / total:.1%}")
            for k, v in counts.items()
        )
        return Section(
            "lifecycle",
            self.t("lifecycle"),
            reading,
            figures=figures,
            tables=(Table(header, rows),),
            notes=tuple(notes),
        )

    def loyalty(self) -> Section:
        from retailcrm.features import customer_features
        from retailcrm.loyalty import (
            BOUTIQUE_PROGRAM,
            BUILTIN_TRIGGERS,
            evaluate_triggers,
            tier_migration,
            tier_summary,
        )

        notes: list[str] = []
        program = BOUTIQUE_PROGRAM.relabel(self.lang) if self.lang != "en" else BOUTIQUE_PROGRAM
        previous_day = _months_back(self.as_of, TIER_LOOKBACK_MONTHS)
        s = self.inputs.schemas
        with _noted(notes):
            earlier = customer_features(
                self.tx,
                as_of=previous_day.isoformat(),
                schema=s.transactions,
                customers=self.inputs.customers,
                customer_schema=s.customers,
            )
            previous = program.assign(earlier, as_of=previous_day.isoformat())
            tiers = program.assign(self.features, as_of=self.day, previous=previous)
            summary = tier_summary(tiers, self.features)
            migration = tier_migration(previous, tiers)
            have = set(self.features.columns) | {"change", "grace_until"}
            table = self.features.merge(
                tiers[["customer_id", "change", "grace_until"]], on="customer_id"
            )
            usable = [
                t.relabel(self.lang) if self.lang != "en" else t
                for t in BUILTIN_TRIGGERS
                if set(t.columns) <= have
            ]
            actions = evaluate_triggers(table, usable, as_of=self.day, holdout=0.1)
        self.tiers = tiers
        names = {
            t.id: (t.translations.get(self.lang, t.name) if self.lang != "en" else t.name)
            for t in BOUTIQUE_PROGRAM.tiers
        }
        by_tier = summary.set_index("tier")
        self.numbers["tiers"] = {
            tier.id: {
                "members": int(by_tier["members"].get(tier.id, 0)),
                "revenue_share": _num(by_tier["revenue_share"].get(tier.id, 0.0)),
            }
            for tier in BOUTIQUE_PROGRAM.tiers
        }
        changes = tiers["change"].value_counts()
        up = int(changes.get("upgrade", 0))
        down = int(changes.get("downgrade", 0)) + int(changes.get("downgrade_step", 0))
        by_status = actions.groupby(["trigger", "status"]).size()
        self.numbers["tier_moves"] = {"upgrade": up, "downgrade": down}
        self.numbers["actions"] = {f"{k[0]}/{k[1]}": int(v) for k, v in by_status.items()}
        members = len(tiers) or 1
        top = next(
            (t for t in BOUTIQUE_PROGRAM.tiers if by_tier["members"].get(t.id, 0) > 0),
            BOUTIQUE_PROGRAM.tiers[0],
        )
        reading = [
            self.t(
                "read.loyalty",
                top_tier=names[top.id],
                top_n=int(by_tier["members"].get(top.id, 0)),
                top_share=int(by_tier["members"].get(top.id, 0)) / members,
                top_revenue=float(by_tier["revenue_share"].get(top.id, 0.0)),
                previous=previous_day.isoformat(),
                up=up,
                down=down,
            )
        ]
        status = actions["status"].value_counts()
        if len(actions):
            contacted, holdout = int(status.get("contacted", 0)), int(status.get("holdout", 0))
            reading.append(
                self.t(
                    "read.actions",
                    selected=len(actions),
                    customers=actions["customer_id"].nunique(),
                    contacted=contacted,
                    holdout=holdout,
                    other=len(actions) - contacted - holdout,
                )
            )
        else:
            reading.append(self.t("read.actions_none"))
        skipped = [t.id for t in BUILTIN_TRIGGERS if not set(t.columns) <= have]
        if skipped:
            reading.append(self.t("read.actions_skipped", skipped=", ".join(skipped)))
        figures = (
            self.figure("tier_distribution", self.t("fig.tier_distribution"), notes, tiers),
            self.figure(
                "tier_migration",
                self.t("fig.tier_migration", previous=previous_day.isoformat()),
                notes,
                migration,
            ),
        )
        statuses = sorted(actions["status"].unique()) if len(actions) else []
        labels = actions.drop_duplicates("trigger").set_index("trigger")["label"]
        header = (self.t("trigger"), *(self.t(f"status.{st}") for st in statuses))
        rows = (
            tuple(
                (
                    str(labels.get(trig, trig)),
                    *(f"{int(by_status.get((trig, st), 0)):,}" for st in statuses),
                )
                for trig in sorted(actions["trigger"].unique())
            )
            if len(actions)
            else ()
        )
        tier_header = (
            self.t("tier"),
            self.t("customers"),
            self.t("share"),
            self.t("revenue_share"),
        )
        tier_rows = tuple(
            (
                names[t.id],
                f"{int(by_tier['members'].get(t.id, 0)):,}",
                f"{int(by_tier['members'].get(t.id, 0)) / members:.1%}",
                _pct(by_tier["revenue_share"].get(t.id, 0.0)),
            )
            for t in BOUTIQUE_PROGRAM.tiers
        )
        tables = (Table(tier_header, tier_rows),) + ((Table(header, rows),) if rows else ())
        return Section(
            "loyalty",
            self.t("loyalty"),
            tuple(reading),
            figures=figures,
            tables=tables,
            notes=tuple(notes),
        )

    def cohorts(self) -> Section:
        from retailcrm.metrics import cohort_retention

        notes: list[str] = []
        with _noted(notes):
            cohorts = cohort_retention(
                self.tx, as_of=self.day, schema=self.inputs.schemas.transactions
            )

        def mean_rate(offset: int) -> float:
            rows = cohorts[cohorts["offset"] == offset]
            size = rows["cohort_size"].sum()
            return float(rows["value"].sum() / size) if size else 0.0

        m1, m3 = mean_rate(1), mean_rate(3)
        n_cohorts = int(cohorts["cohort"].nunique())
        self.numbers["cohorts"] = {"cohorts": n_cohorts, "month_1": m1, "month_3": m3}
        reading = [self.t("read.cohorts", m1=m1, m3=m3, cohorts=n_cohorts)]
        latest = cohorts[cohorts["offset"] == 1].sort_values("cohort")
        if len(latest):
            row = latest.iloc[-1]
            reading.append(
                self.t(
                    "read.cohorts_latest",
                    cohort=str(row["cohort"])[:7],
                    size=int(row["cohort_size"]),
                    rate=float(row["rate"]),
                )
            )
        figure = self.figure("cohort_heatmap", self.t("fig.cohort_heatmap"), notes, cohorts)
        return Section(
            "cohorts", self.t("cohorts"), tuple(reading), figures=(figure,), notes=tuple(notes)
        )

    def nps(self) -> Section:
        from retailcrm.metrics import net_promoter_score

        surveys = self.inputs.surveys
        if surveys is None:
            self.numbers["nps"] = None
            return Section("nps", self.t("nps"), (self.t("read.nps_missing"),))
        import pandas as pd

        schema = self.inputs.schemas.survey
        notes: list[str] = []
        when = pd.to_datetime(surveys[schema.answered_at], errors="coerce")
        answers = surveys[(when.dt.date <= self.as_of).fillna(False).to_numpy()]
        answers = answers.rename(columns={schema.customer_id: "customer_id"})
        with _noted(notes):
            overall = net_promoter_score(answers, score_col=schema.score).iloc[0]
            grouped = answers.merge(
                self.tiers[["customer_id", "tier_name"]], on="customer_id", how="inner"
            ).rename(columns={"tier_name": self.t("tier")})
            by_tier = net_promoter_score(grouped, score_col=schema.score, by=self.t("tier"))
        self.numbers["nps"] = {
            k: _num(overall[k])
            for k in ("n", "nps", "ci_low", "ci_high", "promoter_share", "detractor_share")
        }
        reading = [
            self.t(
                "read.nps",
                nps=float(overall["nps"]),
                low=float(overall["ci_low"]),
                high=float(overall["ci_high"]),
                n=int(overall["n"]),
                promoters=float(overall["promoter_share"]),
                detractors=float(overall["detractor_share"]),
            )
        ]
        if len(by_tier) > 1:
            ordered = by_tier.sort_values("nps")
            reading.append(
                self.t(
                    "read.nps_groups",
                    best=ordered.iloc[-1][self.t("tier")],
                    best_nps=float(ordered.iloc[-1]["nps"]),
                    worst=ordered.iloc[0][self.t("tier")],
                    worst_nps=float(ordered.iloc[0]["nps"]),
                )
            )
        figure = self.figure("nps_by_group", self.t("fig.nps_by_group"), notes, by_tier)
        header = (self.t("group"), self.t("answers"), "NPS", self.t("interval"))
        rows = tuple(
            (
                str(name),
                f"{int(r['n']):,}",
                f"{r['nps']:+.1f}",
                f"[{r['ci_low']:+.1f}, {r['ci_high']:+.1f}]",
            )
            for name, r in [
                (self.t("all_answers"), overall),
                *((row[self.t("tier")], row) for _, row in by_tier.iterrows()),
            ]
        )
        return Section(
            "nps",
            self.t("nps"),
            tuple(reading),
            figures=(figure,),
            tables=(Table(header, rows),),
            notes=tuple(notes),
        )

    def value(self) -> Section:
        from retailcrm.models import btyd_summary, customer_lifetime_value

        notes: list[str] = []
        with _noted(notes):
            summary = btyd_summary(
                self.tx,
                observation_end=self.day,
                time_unit="W",
                schema=self.inputs.schemas.transactions,
            )
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        try:
            bgnbd, spend = _fit_models(summary, repeat)
        except InvalidDataError as exc:
            self.numbers["value"] = None
            return Section(
                "value", self.t("value"), (self.t("read.value_missing", problem=str(exc)),)
            )
        with _noted(notes):
            clv = customer_lifetime_value(
                bgnbd,
                spend,
                repeat,
                horizon=12,
                time_unit="W",
                discount_rate=DISCOUNT_RATE,
                margin=MARGIN,
            )
            alive = bgnbd.probability_alive(summary)["probability_alive"]
            next_year = bgnbd.expected_purchases(52, summary)["expected_purchases"]
        values = clv["clv"].sort_values(ascending=False)
        top_n = max(1, len(values) // 10)
        total = float(values.sum())
        numbers = {
            "params": {k: float(v) for k, v in bgnbd.params_.items()},
            "expected_purchases_52w": float(next_year.sum()),
            "median_probability_alive": float(alive.median()),
            "share_alive_below_half": float((alive < 0.5).mean()),
            "clv_mean": float(values.mean()),
            "clv_total": total,
            "clv_top_decile_share": float(values.iloc[:top_n].sum() / total) if total else 0.0,
        }
        reading = [
            self.t(
                "read.value",
                purchases=numbers["expected_purchases_52w"],
                alive=numbers["median_probability_alive"],
                below=numbers["share_alive_below_half"],
            ),
            self.t(
                "read.clv",
                margin=MARGIN,
                mean=numbers["clv_mean"],
                total=total,
                top_share=numbers["clv_top_decile_share"],
            ),
        ]
        figures = [
            self.figure(
                "frequency_recency_matrix", self.t("fig.frequency_recency_matrix"), notes, bgnbd
            ),
            self.figure(
                "probability_alive_matrix", self.t("fig.probability_alive_matrix"), notes, bgnbd
            ),
            self.figure("ltv_distribution", self.t("fig.ltv_distribution"), notes, clv),
        ]
        tables: tuple[Table, ...] = ()
        if self.inputs.spend is not None:
            cac = self._cac(notes)
            if cac is not None and len(cac):
                ordered = cac.dropna(subset=["cac"]).sort_values(["cac", "channel"])
                by_channel: dict[str, dict[str, Any]] = {
                    str(r.channel): {"new_customers": int(r.new_customers), "cac": _num(r.cac)}
                    for r in cac.itertuples()
                }
                numbers["cac"] = by_channel
                if len(ordered) > 1:
                    reading.append(
                        self.t(
                            "read.cac",
                            best=ordered.iloc[0]["channel"],
                            best_cac=float(ordered.iloc[0]["cac"]),
                            worst=ordered.iloc[-1]["channel"],
                            worst_cac=float(ordered.iloc[-1]["cac"]),
                        )
                    )
                ltv = self._ltv_by_channel()
                for channel, entry in by_channel.items():
                    entry["ltv"] = None if ltv is None else ltv.get(channel)
                figures.append(
                    self.figure("cac_by_channel", self.t("fig.cac_by_channel"), notes, cac, ltv=ltv)
                )
                header: tuple[str, ...] = (
                    self.t("channel"),
                    self.t("new_customers"),
                    self.t("cac"),
                )
                if ltv is not None:
                    header = (*header, self.t("ltv"), self.t("ltv_cac"))
                rows = tuple(
                    (
                        str(r.channel),
                        f"{int(r.new_customers):,}",
                        f"{r.cac:,.2f}",
                        *(
                            ()
                            if ltv is None
                            else (
                                f"{ltv.get(r.channel, float('nan')):,.2f}",
                                f"{ltv.get(r.channel, float('nan')) / r.cac:.1f}",
                            )
                        ),
                    )
                    for r in cac.itertuples()
                )
                tables = (Table(header, rows),)
        self.numbers["value"] = numbers
        return Section(
            "value",
            self.t("value"),
            tuple(reading),
            figures=tuple(figures),
            tables=tables,
            notes=tuple(notes),
        )

    def _ltv_by_channel(self) -> dict[str, float] | None:
        """Historical gross profit per customer (margin :data:`MARGIN`) by acquisition channel,
        when the customers table says each customer's channel."""
        from retailcrm.metrics import historical_value

        if "acquisition_channel" not in self.features.columns:
            return None
        value = historical_value(self.features, margin=MARGIN).merge(
            self.features[["customer_id", "acquisition_channel"]], on="customer_id"
        )
        means = value.groupby("acquisition_channel")["historical_value"].mean()
        return {str(k): float(v) for k, v in means.items()}

    def _cac(self, notes: list[str]) -> Any:
        from retailcrm.metrics import acquisition_cost

        s = self.inputs.schemas
        with _noted(notes):
            return acquisition_cost(
                self.inputs.spend,
                self.tx,
                by=("channel",),
                customers=self.inputs.customers,
                as_of=self.day,
                schema=s.transactions,
                spend_schema=s.spend,
                customer_schema=s.customers,
            )


_KPI_KEYS = frozenset(
    f"kpi.{m}"
    for m in (
        "customers",
        "new_customers",
        "active_customers",
        "buyers",
        "orders",
        "revenue",
        "aov",
        "repeat_purchase_rate",
        "old_customer_revenue_share",
    )
)


def _mpl_figure() -> Any:
    """A matplotlib Figure outside pyplot (no global state, no GUI backend)."""
    try:
        from matplotlib.figure import Figure as MplFigure
    except ImportError as exc:
        raise ConfigError(
            f"the report draws its figures with matplotlib, which is not installed ({exc}). "
            "Fix: pip install 'retailcrm[plot]'."
        ) from None
    return MplFigure(figsize=(8, 4.5), dpi=100, layout=None)


def _png(fig: Any, caption: str, notes: list[str]) -> Figure:
    buffer = io.BytesIO()
    with _noted(notes):
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight", pad_inches=0.15)
    return Figure(caption=caption, png=buffer.getvalue())


def _as_history_dates(history: Any, dates: Sequence[_dt.date]) -> list[Any]:
    """``dates`` as values comparable with the history's ``date`` column."""
    import pandas as pd

    column = history["date"]
    if pd.api.types.is_datetime64_any_dtype(column):
        return [pd.Timestamp(d) for d in dates]
    return list(dates)


def _fit_models(summary: Any, repeat: Any) -> tuple[Any, Any]:
    """BG/NBD on ``summary`` and Gamma-Gamma on ``repeat``, or one InvalidDataError saying
    why they cannot be used (a failed fit or unidentified parameters)."""
    from retailcrm.models import BetaGeoModel, GammaGammaModel

    problem = ""
    try:
        with warnings.catch_warnings(action="ignore", category=IdentifiabilityWarning):
            bgnbd = BetaGeoModel().fit(summary)
            spend = GammaGammaModel().fit(repeat)
    except RetailCRMError as exc:
        problem = str(exc).split(". ")[0]
    else:
        problem = "; ".join(
            f"{type(m).__name__} leaves {', '.join(m.unidentified_params_)} unidentified"
            for m in (bgnbd, spend)
            if m.unidentified_params_
        )
    if problem:
        raise InvalidDataError(
            f"{len(summary):,} customers with purchases and {len(repeat):,} repeat buyers are "
            f"too few ({problem})"
        )
    return bgnbd, spend
