"""Side tables (customers, responses, surveys, spend, events): validation on every engine.

The same report as for transactions: codes, counts, row labels on eager engines and, on lazy
engines, identifying example values — never ``None``. Text dates follow the time rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import pytest

from helpers import make_native, spark_session, to_polars
from retailcrm import TransactionSchema, customer_features, validate_transactions
from retailcrm.data import (
    EVENT_TYPES,
    CustomerSchema,
    EventSchema,
    ResponseSchema,
    SpendSchema,
    SurveySchema,
    ValidationReport,
    sample_data,
    validate,
    validate_customers,
    validate_events,
    validate_responses,
    validate_spend,
    validate_surveys,
)
from retailcrm.data._tables import (
    prepare_customers,
    prepare_events,
    prepare_responses,
    prepare_spend,
    prepare_surveys,
)
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError

LAZY = ("polars-lazy", "duckdb", "spark")
SHANGHAI = "Asia/Shanghai"


def _collect(lf: Any) -> pl.DataFrame:
    return to_polars(lf.to_native())


def _check_rows_or_examples(report: ValidationReport, engine: str, rows: dict[str, tuple]) -> None:
    """Eager engines show the expected row labels; lazy ones show findable examples."""
    for code, expected in rows.items():
        problem = report[code]
        if engine in LAZY:
            assert problem.rows == ()
            assert problem.examples, code
            assert None not in problem.examples, (code, problem.examples)
            assert "" not in [str(e).strip() for e in problem.examples], code
            assert problem.examples_of != "value"
        else:
            assert problem.rows == expected, (code, problem.rows)


# ---- customers ------------------------------------------------------------------------------


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", None, "  ", "c1", "c5", "c6"],
            "registered_at": [
                "2024-01-05",
                "2024-01-06",
                "2024-01-07",
                "2024-03-01",
                "05/02/2024",
                None,
            ],
            "birthday": ["1990-05-01", "", None, "1985-01-01", "1970-01-01", "1961-13-40"],
            "region": ["n", "s", "e", "w", "c", "n"],
        }
    )


def test_customers_report_on_every_engine(engine: str) -> None:
    report = validate_customers(make_native(engine, _customers()))
    assert report.table == "customers"
    assert report.n_rows == 6
    assert set(report.codes) == {
        "customer_id_null",
        "customer_id_blank",
        "registered_at_unparseable",
        "birthday_unparseable",
        "duplicate_customers",
    }
    assert all(p.count == 1 for p in report)
    assert not report.ok
    _check_rows_or_examples(
        report,
        engine,
        {
            "customer_id_null": (1,),
            "customer_id_blank": (2,),
            "registered_at_unparseable": (4,),
            "birthday_unparseable": (5,),
            "duplicate_customers": (3,),
        },
    )
    if engine in LAZY:
        # the row whose id is missing is identified by its registration date
        assert report["customer_id_null"].examples_of == "registered_at"
        assert report["customer_id_null"].examples == ("2024-01-06",)
        assert report["duplicate_customers"].examples == ("c1",)
        assert report["birthday_unparseable"].examples == ("c6",)
    else:
        assert report["registered_at_unparseable"].examples == ("05/02/2024",)


def test_pandas_row_labels_are_index_labels() -> None:
    frame = _customers().set_axis([10, 20, 30, 40, 50, 60])
    report = validate_customers(frame)
    assert report["customer_id_blank"].rows == (30,)
    assert report["duplicate_customers"].rows == (40,)
    assert "rows [30]" in report["customer_id_blank"].describe()


def test_clean_customers_pass_and_are_read_by_the_time_rule(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "registered_at": ["2024-01-05", "2024-03-01T01:30:00+08:00", ""],
            "birthday": ["1990-05-01", None, "  "],
            "tier": ["gold", "silver", None],
        }
    )
    native = make_native(engine, frame)
    assert validate_customers(native).ok
    utc = _collect(prepare_customers(native, CustomerSchema(timezone="UTC"))).sort("customer_id")
    assert utc["registered_at"].to_list() == [
        dt.datetime(2024, 1, 5),
        dt.datetime(2024, 2, 29, 17, 30),  # 01:30 in Shanghai is 17:30 UTC the day before
        None,
    ]
    assert utc["birthday"].to_list() == [dt.datetime(1990, 5, 1), None, None]
    assert utc["tier"].to_list() == ["gold", "silver", None]  # attributes pass through
    own = _collect(prepare_customers(native)).sort("customer_id")
    assert own["registered_at"].to_list()[1] == dt.datetime(2024, 3, 1, 1, 30)


def test_issue_text_registration_dates_and_birthdays_work(engine: str) -> None:
    """The issue: text registration dates or birthdays gave a raw polars ComputeError."""
    tx = pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-10"]),
            "amount": [10.0, 20.0],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c3", "c4"],
            "registered_at": ["2024-01-01", "2024-02-01 12:00:00", "2024-05-01"],
            "birthday": ["1990-05-01", "1985-12-24", None],
        }
    )
    out = customer_features(
        make_native(engine, tx), as_of="2024-03-31", customers=make_native(engine, customers)
    )
    got = to_polars(out).sort("customer_id")
    assert got["customer_id"].to_list() == ["c1", "c2", "c3"]  # c4 registers after as_of
    assert got["tenure_days"].to_list() == [90, 21, 59]
    birthdays = [b if b is None else b.date() for b in got["birthday"].to_list()]
    assert birthdays == [dt.date(1990, 5, 1), None, dt.date(1985, 12, 24)]


def test_customers_inherit_the_transactions_zone(engine: str) -> None:
    tx = pd.DataFrame(
        {"customer_id": ["c1"], "timestamp": pd.to_datetime(["2024-03-10"]), "amount": [1.0]}
    )
    # 20:00 UTC on 31 March is 1 April in Shanghai: registered after as_of there
    customers = pd.DataFrame({"customer_id": ["c9"], "registered_at": ["2024-03-31T20:00:00Z"]})
    kwargs = {"as_of": "2024-03-31", "customers": make_native(engine, customers)}
    plain = to_polars(customer_features(make_native(engine, tx), **kwargs))
    assert plain["customer_id"].to_list() == ["c1", "c9"]
    shanghai = TransactionSchema(timezone=SHANGHAI)
    local = to_polars(customer_features(make_native(engine, tx), schema=shanghai, **kwargs))
    assert local["customer_id"].to_list() == ["c1"]


def test_customers_blank_and_null_ids_stop_customer_features(engine: str) -> None:
    tx = pd.DataFrame(
        {"customer_id": ["c1"], "timestamp": pd.to_datetime(["2024-03-10"]), "amount": [1.0]}
    )
    customers = pd.DataFrame({"customer_id": ["c1", " "], "registered_at": ["2024-01-01"] * 2})
    with pytest.raises(InvalidDataError, match=r"invalid customers: .*1 blank customer id"):
        customer_features(
            make_native(engine, tx), as_of="2024-03-31", customers=make_native(engine, customers)
        )


def test_zoneless_instants_are_reported_on_duckdb() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["c1"],
            "registered_at": pd.to_datetime(["2024-03-01 12:00"]).tz_localize("UTC"),
        }
    )
    native = make_native("duckdb", frame)
    report = validate_customers(native)
    assert report.codes == ("registered_at_zone_assumed",)
    assert report.ok
    assert "registered_at_zone_assumed" not in validate_customers(
        native, schema=CustomerSchema(timezone="UTC")
    )


# ---- responses ------------------------------------------------------------------------------


def test_responses_report_on_every_engine(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "", "c4", "c5"],
            "contacted_at": ["2024-03-01", None, "2024-03-02", "2024-03-03", "03.03.2024"],
            "responded": [1, 0, 1, 2, 0],
        }
    )
    report = validate_responses(make_native(engine, frame))
    assert report.codes == (
        "customer_id_blank",
        "contacted_at_unparseable",
        "contacted_at_null",
        "responded_not_boolean",
    )
    _check_rows_or_examples(
        report,
        engine,
        {
            "customer_id_blank": (2,),
            "contacted_at_null": (1,),
            "contacted_at_unparseable": (4,),
            "responded_not_boolean": (3,),
        },
    )


def test_responses_canonical_form(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "member": ["c1", "c2", "c3"],
            "sent": ["2024-03-01 10:00", "2024-03-02", "2024-03-03"],
            "converted": [True, False, None],
        }
    )
    schema = ResponseSchema(customer_id="member", contacted_at="sent", responded="converted")
    native = make_native(engine, frame)
    report = validate_responses(native, schema=schema)
    assert report.codes == ("responded_null",) and report.ok
    got = _collect(prepare_responses(native, schema)).sort("customer_id")
    assert got.columns == ["customer_id", "contacted_at", "responded"]
    assert got["responded"].to_list() == [True, False, False]
    assert got["contacted_at"].to_list()[0] == dt.datetime(2024, 3, 1, 10, 0)


def test_text_contact_dates_work_in_customer_features(engine: str) -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-10"]),
            "amount": [10.0, 20.0],
        }
    )
    responses = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2"],
            "contacted_at": ["2024-02-01", "2024-04-01", "2024-03-05 09:30"],
            "responded": [True, True, False],
        }
    )
    out = customer_features(
        make_native(engine, tx), as_of="2024-03-31", responses=make_native(engine, responses)
    )
    got = to_polars(out).sort("customer_id")
    assert got["campaigns_received"].to_list() == [1, 1]
    assert got["campaigns_responded"].to_list() == [1, 0]


# ---- surveys --------------------------------------------------------------------------------


def test_surveys_report_on_every_engine(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
            "answered_at": ["2024-03-01"] * 6,
            "score": [9.0, 11.0, 7.5, -1.0, None, 10.0],
        }
    )
    report = validate_surveys(make_native(engine, frame))
    assert report.codes == ("score_null", "score_out_of_range", "score_not_integer")
    assert report["score_out_of_range"].count == 2
    assert "outside the scale 0–10" in report["score_out_of_range"].message
    _check_rows_or_examples(
        report,
        engine,
        {"score_null": (4,), "score_out_of_range": (1, 3), "score_not_integer": (2,)},
    )


def test_surveys_text_scores_and_csat_scale(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "answered_at": pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03"]),
            "rating": ["5", " 4 ", "1"],
            "touchpoint": ["delivery", "store", None],
        }
    )
    schema = SurveySchema(score="rating", scale=(1, 5))
    native = make_native(engine, frame)
    assert validate_surveys(native, schema=schema).ok
    got = _collect(prepare_surveys(native, schema)).sort("customer_id")
    assert got["score"].to_list() == [5, 4, 1]
    assert got.schema["score"] == pl.Int64
    assert got["touchpoint"].to_list() == ["delivery", "store", None]
    nps = validate_surveys(native, schema=SurveySchema(score="rating"))
    assert nps.ok  # 1..5 is within 0..10 too
    assert validate_surveys(
        make_native(engine, frame.assign(rating=["5", "6", "0"])), schema=schema
    ).codes == ("score_out_of_range",)


# ---- spend ----------------------------------------------------------------------------------


def test_spend_months_and_days(engine: str) -> None:
    months = pd.DataFrame(
        {
            "month": ["2024-01", "2024-02-15", "2023-02", "2024-12-01T00:00:00"],
            "channel": ["web", "store", "app", "web"],
            "spend": ["1200.50", "300", "80", "10"],
        }
    )
    schema = SpendSchema(period="month", amount="spend")
    native = make_native(engine, months)
    assert validate_spend(native, schema=schema).ok
    got = _collect(prepare_spend(native, schema)).sort("start")
    assert got.columns == ["channel", "amount", "start", "end"]
    assert got["start"].to_list() == [
        dt.date(2023, 2, 1),
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
        dt.date(2024, 12, 1),
    ]
    assert got["end"].to_list() == [
        dt.date(2023, 2, 28),
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 12, 31),
    ]
    assert got["amount"].to_list() == [80.0, 1200.5, 300.0, 10.0]
    days = pd.DataFrame(
        {"date": ["2024-03-05", "2024-03-06 18:00"], "channel": ["web", "sms"], "amount": [1, 2]}
    )
    by_day = _collect(prepare_spend(make_native(engine, days))).sort("start")
    assert by_day["start"].to_list() == by_day["end"].to_list()
    assert by_day["start"].to_list() == [dt.date(2024, 3, 5), dt.date(2024, 3, 6)]


def test_spend_report_on_every_engine(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "period": ["2024-01", "2024-13", None, "2024-03", "2024-04"],
            "channel": ["web", "app", "web", None, " "],
            "amount": [100.0, float("inf"), -20.0, 5.0, 1.0],
        }
    )
    report = validate_spend(make_native(engine, frame))
    assert report.codes == (
        "channel_null",
        "channel_blank",
        "amount_not_finite",
        "period_unparseable",
        "period_null",
        "amount_negative",
    )
    assert report.errors[-1].code == "period_null"
    _check_rows_or_examples(
        report,
        engine,
        {
            "channel_null": (3,),
            "channel_blank": (4,),
            "amount_not_finite": (1,),
            "period_unparseable": (1,),
            "period_null": (2,),
            "amount_negative": (2,),
        },
    )
    if engine in LAZY:
        assert report["channel_null"].examples_of == "period"
        assert report["amount_not_finite"].examples_of == "channel"


def test_spend_pandas_periods_and_the_sample() -> None:
    monthly = pd.DataFrame(
        {
            "month": pd.period_range("2024-01", periods=2, freq="M"),
            "channel": ["web", "web"],
            "amount": [1.0, 2.0],
        }
    )
    got = _collect(prepare_spend(monthly, SpendSchema(period="month")))
    assert got["end"].to_list() == [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]
    quarterly = monthly.assign(month=pd.period_range("2024Q1", periods=2, freq="Q"))
    assert validate_spend(quarterly, schema=SpendSchema(period="month")).codes == (
        "period_not_monthly",
    )
    sample = sample_data(100, seed=2).marketing_spend
    report = validate_spend(sample, schema=SpendSchema(period="month", amount="spend"))
    assert report.ok and report.problems == ()


def test_spend_period_or_date_is_chosen() -> None:
    both = pd.DataFrame(
        {"period": ["2024-01"], "date": ["2024-01-05"], "channel": ["web"], "amount": [1.0]}
    )
    assert validate_spend(both).codes == ("period_and_date",)
    assert validate_spend(both, schema=SpendSchema(date=None)).ok
    assert validate_spend(both, schema=SpendSchema(period="period", date=None)).ok
    chosen = both.rename(columns={"period": "month"})
    assert validate_spend(chosen, schema=SpendSchema(period="month")).ok  # explicit wins
    with pytest.raises(MissingColumnsError, match=r"spend: missing columns 'period', 'date'"):
        validate_spend(both.drop(columns=["period", "date"])).raise_for_errors()


# ---- events ---------------------------------------------------------------------------------


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c1", None, "c2", "", "c3", "c3"],
            "timestamp": [
                "2024-03-01 10:00",
                "2024-03-01 10:05",
                "2024-03-02",
                "yesterday",
                "2024-03-03",
                "2024-03-04",
                "2024-03-04 09:00",
            ],
            "event_type": ["view", "veiw", "cart", "View ", "favourite", None, "share"],
            "product_id": [1, 2, 3, 4, 5, None, None],
        }
    )


def test_events_report_on_every_engine(engine: str) -> None:
    report = validate_events(make_native(engine, _events()))
    assert set(report.errors) == set(report.problems)
    assert report.codes == (
        "customer_id_null",
        "customer_id_blank",
        "timestamp_unparseable",
        "event_type_null",
        "event_type_unknown",
    )
    assert report["event_type_unknown"].count == 2
    assert report["event_type_unknown"].message == "2 events of unknown type ('share', 'veiw')"
    _check_rows_or_examples(
        report,
        engine,
        {
            "customer_id_null": (2,),
            "customer_id_blank": (4,),
            "timestamp_unparseable": (3,),
            "event_type_null": (5,),
            "event_type_unknown": (1, 6),
        },
    )
    if engine in LAZY:
        assert report["customer_id_null"].examples == ("2024-03-02",)
        assert report["customer_id_null"].examples_of == "timestamp"


def test_event_labels_are_mapped_and_ignored(engine: str) -> None:
    frame = pd.DataFrame(
        {
            "member": [1, 1, 2, 2],
            "at": pd.to_datetime(
                ["2024-03-01 10:00", "2024-03-01 10:05", "2024-03-02 00:00", "2024-03-03 00:00"]
            ),
            "action": ["PV", "add_to_cart", "Favorite", "share"],
            "sku": ["A1", "A1", "B2", None],
        }
    )
    schema = EventSchema(
        customer_id="member",
        timestamp="at",
        event_type="action",
        product_id="sku",
        event_types={"pv": "view", "ADD_TO_CART": "cart", "share": None},
    )
    native = make_native(engine, frame)
    report = validate_events(native, schema=schema)
    assert report.ok and report.codes == ("event_type_ignored",)
    got = _collect(prepare_events(native, schema)).sort("timestamp")
    assert got["event_type"].to_list() == ["view", "cart", "favourite"]  # "share" is dropped
    assert set(got["event_type"].to_list()) <= set(EVENT_TYPES)
    assert got.columns == ["customer_id", "timestamp", "event_type", "product_id"]


def test_sample_events_are_valid() -> None:
    data = sample_data(300, seed=5)
    events = data.events
    assert validate_events(events).problems == ()
    assert set(events["event_type"]) == set(EVENT_TYPES)
    assert (
        events["timestamp"]
        .between(pd.Timestamp(data.start), pd.Timestamp(data.end) + pd.Timedelta(days=1))
        .all()
    )
    assert events["product_id"].isna().equals(events["event_type"] == "search")
    bought = set(
        zip(data.transactions["customer_id"], data.transactions["product_id"], strict=True)
    )
    views = events[events["event_type"] == "view"]
    pairs = list(zip(views["customer_id"], views["product_id"], strict=True))
    viewed_and_bought = sum(p in bought for p in pairs)
    assert 0 < viewed_and_bought < len(pairs)  # views before purchases, and browsing alone
    assert sample_data(300, seed=5).events.equals(events)  # deterministic


# ---- validate(table, schema) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "frame", "function"),
    [
        (CustomerSchema(), _customers, validate_customers),
        (EventSchema(), _events, validate_events),
    ],
)
def test_validate_chooses_by_schema(schema: Any, frame: Any, function: Any) -> None:
    assert validate(frame(), schema) == function(frame(), schema=schema)


def test_validate_dispatches_every_kind() -> None:
    tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01"], "amount": ["x"]})
    assert validate(tx, TransactionSchema()) == validate_transactions(tx)
    assert validate(tx, TransactionSchema()).table == "transactions"
    spend = pd.DataFrame({"date": ["2024-01-01"], "channel": ["web"], "amount": [1.0]})
    assert validate(spend, SpendSchema()).table == "spend"
    answers = pd.DataFrame({"customer_id": ["a"], "answered_at": ["2024-01-01"], "score": [3]})
    assert validate(answers, SurveySchema()).ok
    contacts = pd.DataFrame({"customer_id": ["a"], "contacted_at": ["x"], "responded": [True]})
    assert validate(contacts, ResponseSchema()).codes == ("contacted_at_unparseable",)
    with pytest.raises(ConfigError, match=r"validate needs a schema .* got dict"):
        validate(tx, {"customer_id": "id"})
    with pytest.raises(ConfigError, match=r"validate needs a schema .* got NoneType"):
        validate(tx, None)


def test_reports_raise_with_the_table_name() -> None:
    with pytest.raises(InvalidDataError, match=r"^invalid events: 5 problems\n - \[error\]"):
        validate_events(_events()).raise_for_errors()
    report = validate_customers(_customers().drop(columns="customer_id"))
    assert report.codes == ("missing_columns",) and report.n_rows == -1
    with pytest.raises(MissingColumnsError, match=r"customers: missing column 'customer_id'"):
        report.raise_for_errors()


def test_empty_tables_warn(engine: str) -> None:
    empty = pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype="str"),
            "timestamp": pd.Series([], dtype="datetime64[us]"),
            "event_type": pd.Series([], dtype="str"),
        }
    )
    if engine == "spark":  # Spark infers no schema from an empty pandas frame
        schema = "customer_id string, timestamp timestamp, event_type string"
        native = spark_session().createDataFrame([], schema)
    else:
        native = make_native(engine, empty)
    report = validate_events(native)
    assert report.codes == ("empty",) and report.ok and report.n_rows == 0


def test_nothing_is_mutated() -> None:
    frames = {
        "customers": _customers(),
        "events": _events(),
        "surveys": pd.DataFrame(
            {"customer_id": ["a"], "answered_at": ["2024-01-01"], "score": ["7"]}
        ),
    }
    before = {k: v.copy(deep=True) for k, v in frames.items()}
    validate_customers(frames["customers"])
    validate_events(frames["events"])
    validate_surveys(frames["surveys"])
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, before[name])
