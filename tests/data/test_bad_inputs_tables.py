"""A catalogue of bad side tables: customers, responses, surveys, spend and events.

Each case states the exact error type and pins its message with a regex, and runs on every
engine where it applies (pandas and polars always; lazy polars, DuckDB and Spark unless the
input cannot exist there, such as a pandas object column of mixed types). customers,
responses and events go through :func:`~retailcrm.customer_features`; surveys and spend,
which no feature reads yet, through :func:`~retailcrm.data.validate` and
:meth:`~retailcrm.data.ValidationReport.raise_for_errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from helpers import make_native
from retailcrm import customer_features
from retailcrm.data import (
    CustomerSchema,
    EventSchema,
    ResponseSchema,
    SpendSchema,
    SurveySchema,
    validate,
)
from retailcrm.exceptions import (
    ConfigError,
    InvalidDataError,
    MissingColumnsError,
    RetailCRMError,
)

AS_OF = "2024-03-31"
ALL = ("pandas-numpy", "polars-eager", "polars-lazy", "duckdb", "spark")
PANDAS = ("pandas-numpy",)
EAGER = ("pandas-numpy", "polars-eager")
#: pandas frames handed to the library during one case, with a deep copy taken before
SEEN: list[tuple[pd.DataFrame, pd.DataFrame]] = []


def native(engine: str, frame: Any) -> Any:
    if not isinstance(frame, pd.DataFrame):
        return frame
    if engine == "pandas-numpy":
        SEEN.append((frame, frame.copy(deep=True)))
        return frame
    return make_native(engine, frame)


def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "timestamp": pd.to_datetime(["2024-01-10", "2024-02-20", "2024-03-01"]),
            "amount": [10.0, 20.0, 30.0],
        }
    )


def customers(**over: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "customer_id": ["c1", "c2", "c4"],
        "registered_at": ["2024-01-01", "2024-02-01", "2024-03-01"],
        "birthday": ["1990-05-01", None, "1985-12-24"],
    }
    return pd.DataFrame(data | over)


def responses(**over: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "customer_id": ["c1", "c2", "c3"],
        "contacted_at": ["2024-03-01", "2024-03-02", "2024-03-03 10:00"],
        "responded": [True, False, True],
    }
    return pd.DataFrame(data | over)


def surveys(**over: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "customer_id": ["c1", "c2", "c3"],
        "answered_at": ["2024-03-01", "2024-03-02", "2024-03-03"],
        "score": [9, 7, 10],
    }
    return pd.DataFrame(data | over)


def spend(**over: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "period": ["2024-01", "2024-02", "2024-03"],
        "channel": ["web", "store", "app"],
        "amount": [100.0, 50.0, 25.0],
    }
    return pd.DataFrame(data | over)


def events(**over: Any) -> pd.DataFrame:
    data: dict[str, Any] = {
        "customer_id": ["c1", "c1", "c2"],
        "timestamp": ["2024-03-01 10:00", "2024-03-01 10:05", "2024-03-02 09:00"],
        "event_type": ["view", "cart", "favourite"],
        "product_id": [1, 1, 2],
    }
    return pd.DataFrame(data | over)


def features(**side: Any) -> Callable[[str], Any]:
    """customer_features of the standard transactions with these side tables (or schemas)."""

    def call(engine: str) -> Any:
        kwargs = {k: native(engine, v() if callable(v) else v) for k, v in side.items()}
        return customer_features(native(engine, tx()), as_of=AS_OF, **kwargs)

    return call


def checked(frame: Callable[[], pd.DataFrame], schema: Any) -> Callable[[str], Any]:
    """validate(table, schema).raise_for_errors() on the engine's frame."""

    def call(engine: str) -> Any:
        return validate(native(engine, frame()), schema).raise_for_errors()

    return call


def other_engine(frame: Callable[[], pd.DataFrame]) -> Callable[[], Any]:
    """A side table in DuckDB while the transactions are pandas (or polars)."""
    return lambda: make_native("duckdb", frame())


# (id, call, engines, error, message regex)
Case = tuple[str, Callable[[str], Any], tuple[str, ...], type[Exception], str]
CASES: list[Case] = [
    # ---- customers --------------------------------------------------------------------------
    (
        "customers: key column missing, with a hint",
        features(customers=lambda: customers().rename(columns={"customer_id": "Customer_ID"})),
        ALL,
        MissingColumnsError,
        r"^customers: missing column 'customer_id' \(did you mean 'Customer_ID'\?\).*"
        r"Fix: rename the column\(s\) or map them with CustomerSchema\(customer_id='Customer_ID'\)",
    ),
    (
        "customers: mapped registration column absent",
        features(customers=customers, customer_schema=CustomerSchema(registered_at="signup")),
        ALL,
        MissingColumnsError,
        r"customers: missing column 'signup'.*CustomerSchema\(registered_at='<your column>'\)",
    ),
    (
        "customers: null id",
        features(customers=lambda: customers(customer_id=["c1", None, "c4"])),
        ALL,
        InvalidDataError,
        r"^invalid customers: \[error\] 'customer_id': 1 null customer id — "
        r"(rows \[1\]|e\.g\. registered_at \['2024-02-01'\])\. Fix: drop these rows",
    ),
    (
        "customers: empty-string id",
        features(customers=lambda: customers(customer_id=["c1", "", "c4"])),
        ALL,
        InvalidDataError,
        r"^invalid customers: \[error\] 'customer_id': 1 blank customer id \('' or only spaces\)",
    ),
    (
        "customers: whitespace-only id",
        features(customers=lambda: customers(customer_id=["c1", " \t ", "c4"])),
        ALL,
        InvalidDataError,
        r"1 blank customer id \('' or only spaces\) — (rows \[1\]|e\.g\. registered_at)",
    ),
    (
        "customers: duplicate ids",
        features(customers=lambda: customers(customer_id=["c1", "c4", "c4"])),
        ALL,
        InvalidDataError,
        r"1 row repeats the customer id of an earlier row — (rows \[2\]|e\.g\. customer_id "
        r"\['c4'\]).*drop_duplicates",
    ),
    (
        "customers: US-style registration dates",
        features(customers=lambda: customers(registered_at=["01/05/2024", "2024-02-01", None])),
        ALL,
        InvalidDataError,
        r"1 value in registered_at cannot be read as an ISO date or time — "
        r"(rows \[0\]|e\.g\. customer_id \['c1'\])",
    ),
    (
        "customers: impossible birthday",
        features(customers=lambda: customers(birthday=["1990-02-30", None, "1985-12-24"])),
        ALL,
        InvalidDataError,
        r"1 value in birthday cannot be read as an ISO date or time",
    ),
    (
        "customers: hour 25 in a registration time",
        features(customers=lambda: customers(registered_at=["2024-01-01 25:00", None, None])),
        ALL,
        InvalidDataError,
        r"1 value in registered_at cannot be read",
    ),
    (
        "customers: registration dates as numbers",
        features(customers=lambda: customers(registered_at=[20240101, 20240201, 20240301])),
        ALL,
        InvalidDataError,
        r"registered_at is of type Int64, not a date or datetime.*unit='s'",
    ),
    (
        "customers: offset and plain times mixed",
        features(
            customers=lambda: customers(
                registered_at=["2024-01-01T10:00:00+08:00", "2024-02-01 10:00", "2024-03-01 09:00"]
            )
        ),
        ALL,
        InvalidDataError,
        r"registered_at mixes values with a UTC offset and values without one "
        r"\(1 with, 2 without\)",
    ),
    (
        "customers: ids of mixed kinds",
        features(customers=lambda: customers(customer_id=["c1", 2, "c4"])),
        PANDAS,
        InvalidDataError,
        r"customer_id mixes kinds of values \(2 text, 1 number\).*rows \[1\]",
    ),
    (
        "customers: numeric ids against text ids",
        features(customers=lambda: customers(customer_id=[1, 2, 4])),
        ALL,
        ConfigError,
        r"customers: customer_id is Int64 but the transactions' is String",
    ),
    (
        "customers: attribute named like a feature",
        features(customers=lambda: customers(frequency=[1, 2, 3])),
        ALL,
        ConfigError,
        r"customers: column\(s\) \['frequency'\] clash with feature names",
    ),
    (
        "customers: a column with a role's name that is not that role",
        features(
            customers=lambda: customers().assign(member=["c1", "c2", "c4"]),
            customer_schema=CustomerSchema(customer_id="member"),
        ),
        ALL,
        ConfigError,
        r"customers: column\(s\) \['customer_id'\] have a role's name but are not mapped",
    ),
    (
        "customers: duplicate column names",
        features(customers=lambda: pd.concat([customers(), customers()[["birthday"]]], axis=1)),
        PANDAS,
        InvalidDataError,
        r"customers: column 'birthday' appears more than once",
    ),
    (
        "customers: another engine than the transactions",
        features(customers=other_engine(customers)),
        EAGER,
        ConfigError,
        r"customers is a duckdb frame but the transactions are (pandas|polars)",
    ),
    (
        "customers: not a dataframe",
        features(customers=[{"customer_id": "c1"}]),
        EAGER,
        ConfigError,
        r"customers: expected a dataframe .* got list",
    ),
    (
        "customers: schema of another table",
        features(customers=customers, customer_schema=ResponseSchema()),
        EAGER,
        ConfigError,
        r"the schema of customers must be a CustomerSchema, got ResponseSchema",
    ),
    (
        "customers: several problems at once",
        features(
            customers=lambda: customers(
                customer_id=["c1", None, "c1"], registered_at=["2024-01-01", "x", "2024-03-01"]
            )
        ),
        ALL,
        InvalidDataError,
        r"^invalid customers: 3 problems\n - .*null customer id.*\n - .*registered_at cannot"
        r".*\n - .*repeats the customer id",
    ),
    # ---- responses --------------------------------------------------------------------------
    (
        "responses: responded missing",
        features(responses=lambda: responses().drop(columns="responded")),
        ALL,
        MissingColumnsError,
        r"responses: missing column 'responded'.*ResponseSchema\(responded='<your column>'\)",
    ),
    (
        "responses: contact time under another name",
        features(responses=lambda: responses().rename(columns={"contacted_at": "contacted"})),
        ALL,
        MissingColumnsError,
        r"missing column 'contacted_at' \(did you mean 'contacted'\?\).*"
        r"ResponseSchema\(contacted_at='contacted'\)",
    ),
    (
        "responses: yes/no text",
        features(responses=lambda: responses(responded=["yes", "no", "yes"])),
        ALL,
        InvalidDataError,
        r"responded is of type String, not boolean.*map\(\{'yes': True, 'no': False\}\)",
    ),
    (
        "responses: a count instead of a flag",
        features(responses=lambda: responses(responded=[1, 0, 2])),
        ALL,
        InvalidDataError,
        r"1 value in responded is not boolean \(0 or 1\) — (rows \[2\]|e\.g\. customer_id "
        r"\['c3'\])",
    ),
    (
        "responses: undated contact",
        features(responses=lambda: responses(contacted_at=["2024-03-01", None, "2024-03-03"])),
        ALL,
        InvalidDataError,
        r"1 contact without contacted_at — (rows \[1\]|e\.g\. customer_id \['c2'\])",
    ),
    (
        "responses: blank contact time counts as missing",
        features(responses=lambda: responses(contacted_at=["2024-03-01", "  ", "2024-03-03"])),
        ALL,
        InvalidDataError,
        r"1 contact without contacted_at",
    ),
    (
        "responses: day-first dates",
        features(responses=lambda: responses(contacted_at=["01.03.2024", "2024-03-02", None])),
        ALL,
        InvalidDataError,
        r"^invalid responses: 2 problems\n - .*1 value in contacted_at cannot be read.*\n"
        r" - .*1 contact without contacted_at",
    ),
    (
        "responses: null id",
        features(responses=lambda: responses(customer_id=[None, "c2", "c3"])),
        ALL,
        InvalidDataError,
        r"^invalid responses: .*1 null customer id — (rows \[0\]|e\.g\. contacted_at "
        r"\['2024-03-01'\])",
    ),
    (
        "responses: blank id",
        features(responses=lambda: responses(customer_id=["c1", "", "c3"])),
        ALL,
        InvalidDataError,
        r"^invalid responses: .*1 blank customer id",
    ),
    (
        "responses: contact times as numbers",
        features(responses=lambda: responses(contacted_at=[1.7e9, 1.7e9, 1.7e9])),
        ALL,
        InvalidDataError,
        r"contacted_at is of type Float64, not a date or datetime",
    ),
    (
        "responses: numeric ids against text ids",
        features(responses=lambda: responses(customer_id=[1, 2, 3])),
        ALL,
        ConfigError,
        r"responses: customer_id is Int64 but the transactions' is String",
    ),
    (
        "responses: another engine",
        features(responses=other_engine(responses)),
        EAGER,
        ConfigError,
        r"responses is a duckdb frame but the transactions are",
    ),
    (
        "responses: schema of another table",
        features(responses=responses, response_schema=CustomerSchema()),
        EAGER,
        ConfigError,
        r"the schema of responses must be a ResponseSchema, got CustomerSchema",
    ),
    # ---- surveys ----------------------------------------------------------------------------
    (
        "surveys: score missing",
        checked(lambda: surveys().rename(columns={"score": "nps"}), SurveySchema()),
        ALL,
        MissingColumnsError,
        r"surveys: missing column 'score'.*SurveySchema\(score='<your column>'\)",
    ),
    (
        "surveys: 11 on a 0-10 scale",
        checked(lambda: surveys(score=[9, 11, 10]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"^invalid surveys: \[error\] 'score': 1 score outside the scale 0–10 — "
        r"(rows \[1\]|e\.g\. customer_id \['c2'\])",
    ),
    (
        "surveys: negative score",
        checked(lambda: surveys(score=[-1, 7, 10]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"1 score outside the scale 0–10",
    ),
    (
        "surveys: averaged score",
        checked(lambda: surveys(score=[9.0, 7.5, 10.0]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"1 score is not a whole number — (rows \[1\]|e\.g\. customer_id \['c2'\])",
    ),
    (
        "surveys: score as a word",
        checked(lambda: surveys(score=["9", "seven", "10"]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"1 value in score is not a number",
    ),
    (
        "surveys: missing score",
        checked(lambda: surveys(score=[9.0, None, 10.0]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"1 null or NaN score.*an answer without a score says nothing",
    ),
    (
        "surveys: 0 on a CSAT 1-5 scale",
        checked(lambda: surveys(score=[5, 0, 3]), SurveySchema(scale=(1, 5))),
        ALL,
        InvalidDataError,
        r"1 score outside the scale 1–5",
    ),
    (
        "surveys: boolean scores",
        checked(lambda: surveys(score=[True, False, True]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"score is boolean, not a number",
    ),
    (
        "surveys: undated answer",
        checked(lambda: surveys(answered_at=["2024-03-01", None, "2024-03-03"]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"1 answer without answered_at",
    ),
    (
        "surveys: unreadable answer date",
        checked(lambda: surveys(answered_at=["2024-03-01", "2024-3-2", "x"]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"2 values in answered_at cannot be read as an ISO date or time",
    ),
    (
        "surveys: blank id",
        checked(lambda: surveys(customer_id=["c1", " ", "c3"]), SurveySchema()),
        ALL,
        InvalidDataError,
        r"^invalid surveys: .*1 blank customer id",
    ),
    # ---- spend ------------------------------------------------------------------------------
    (
        "spend: neither a month nor a day",
        checked(lambda: spend().drop(columns="period"), SpendSchema()),
        ALL,
        MissingColumnsError,
        r"spend: missing columns 'period', 'date'.*needs a month or a day for each row",
    ),
    (
        "spend: both a month and a day column",
        checked(lambda: spend(date=["2024-01-05"] * 3), SpendSchema()),
        ALL,
        InvalidDataError,
        r"^invalid spend: .*spend has both a period column 'period' and a date column 'date'"
        r".*SpendSchema\(date=None\)",
    ),
    (
        "spend: month 13",
        checked(lambda: spend(period=["2024-01", "2024-13", "2024-03"]), SpendSchema()),
        ALL,
        InvalidDataError,
        r"1 value in period cannot be read as a month — (rows \[1\]|e\.g\. channel \['store'\])",
    ),
    (
        "spend: month names",
        checked(lambda: spend(period=["Jan 2024", "Feb 2024", "2024-03"]), SpendSchema()),
        ALL,
        InvalidDataError,
        r"2 values in period cannot be read as a month.*'YYYY-MM'",
    ),
    (
        "spend: currency text",
        checked(lambda: spend(amount=["€1,200", "50", "25"]), SpendSchema()),
        ALL,
        InvalidDataError,
        r"1 value in amount is not a number.*currency symbols",
    ),
    (
        "spend: infinite amount",
        checked(lambda: spend(amount=[100.0, float("inf"), 25.0]), SpendSchema()),
        ALL,
        InvalidDataError,
        r"1 infinite amount",
    ),
    (
        "spend: missing amount",
        checked(lambda: spend(amount=[100.0, None, 25.0]), SpendSchema()),
        ALL,
        InvalidDataError,
        r"1 null or NaN amount",
    ),
    (
        "spend: no channel",
        checked(lambda: spend(channel=["web", None, "app"]), SpendSchema()),
        ALL,
        InvalidDataError,
        r"1 row without a channel — (rows \[1\]|e\.g\. period \['2024-02'\])",
    ),
    (
        "spend: blank channel",
        checked(lambda: spend(channel=["web", "", "app"]), SpendSchema()),
        ALL,
        InvalidDataError,
        r"1 blank channel \('' or only spaces\)",
    ),
    (
        "spend: quarterly pandas periods",
        checked(
            lambda: spend(period=pd.period_range("2024Q1", periods=3, freq="Q")), SpendSchema()
        ),
        PANDAS,
        InvalidDataError,
        r"period holds pandas periods of another frequency than months \(period\[Q-DEC\]\)",
    ),
    (
        "spend: unreadable day",
        checked(
            lambda: spend(date=["2024-01-05", "5 Jan", None]).drop(columns="period"),
            SpendSchema(),
        ),
        ALL,
        InvalidDataError,
        r"^invalid spend: 2 problems\n - .*1 value in date cannot be read.*\n - .*1 row without "
        r"date",
    ),
    (
        "spend: checked with the schema of another table",
        checked(spend, ResponseSchema()),
        EAGER,
        MissingColumnsError,
        r"responses: missing columns 'customer_id', 'contacted_at', 'responded'",
    ),
    # ---- events -----------------------------------------------------------------------------
    (
        "events: event type under another name",
        features(events=lambda: events().rename(columns={"event_type": "event_typ"})),
        ALL,
        MissingColumnsError,
        r"events: missing column 'event_type' \(did you mean 'event_typ'\?\)",
    ),
    (
        "events: a typo in a label",
        features(events=lambda: events(event_type=["view", "veiw", "cart"])),
        ALL,
        InvalidDataError,
        r"1 event of unknown type \('veiw'\).*EventSchema\(event_types=",
    ),
    (
        "events: labels of another system",
        features(events=lambda: events(event_type=["pv", "add_to_cart", "pv"])),
        ALL,
        InvalidDataError,
        r"3 events of unknown type \('add_to_cart', 'pv'\)",
    ),
    (
        "events: missing type",
        features(events=lambda: events(event_type=["view", None, "cart"])),
        ALL,
        InvalidDataError,
        r"1 event without an event type",
    ),
    (
        "events: null id",
        features(events=lambda: events(customer_id=["c1", None, "c2"])),
        ALL,
        InvalidDataError,
        r"^invalid events: .*1 null customer id — (rows \[1\]|e\.g\. timestamp "
        r"\['2024-03-01 10:05'\])",
    ),
    (
        "events: blank id",
        features(events=lambda: events(customer_id=["c1", "   ", "c2"])),
        ALL,
        InvalidDataError,
        r"^invalid events: .*1 blank customer id",
    ),
    (
        "events: unreadable time",
        features(events=lambda: events(timestamp=["2024-03-01 10:00", "10:05", None])),
        ALL,
        InvalidDataError,
        r"^invalid events: 2 problems\n - .*1 value in timestamp cannot be read.*\n - .*1 event "
        r"without timestamp",
    ),
    (
        "events: epoch numbers",
        features(events=lambda: events(timestamp=[1709287200, 1709287500, 1709370000])),
        ALL,
        InvalidDataError,
        r"timestamp is of type Int64, not a date or datetime",
    ),
    (
        "events: numeric ids against text ids",
        features(events=lambda: events(customer_id=[1, 1, 2])),
        ALL,
        ConfigError,
        r"events: customer_id is Int64 but the transactions' is String",
    ),
    (
        "events: product ids of another type than the transactions'",
        lambda engine: customer_features(
            native(engine, tx().assign(product_id=[1, 2, 3])),
            as_of=AS_OF,
            events=native(engine, events(product_id=["p1", "p1", "p2"])),
        ),
        ALL,
        ConfigError,
        r"events: product_id is String but the transactions' is Int64",
    ),
    (
        "events: another engine",
        features(events=other_engine(events)),
        EAGER,
        ConfigError,
        r"events is a duckdb frame but the transactions are",
    ),
    (
        "events: schema of another kind",
        features(events=events, event_schema=CustomerSchema()),
        EAGER,
        ConfigError,
        r"event_schema must be an EventSchema, got CustomerSchema",
    ),
]


def _params() -> list[Any]:
    """Every case on its engines — Spark only for the first two cases of each table: the
    checks are the same narwhals expressions DuckDB and polars lazy run in every case, and
    each Spark case costs seconds of query overhead (57 Spark cases took over two minutes)."""
    params = []
    spark_cases: dict[str, int] = {}
    for case in CASES:
        name, call, engines, error, match = case
        table = name.split(":")[0]
        for engine in engines:
            if engine == "spark":
                spark_cases[table] = spark_cases.get(table, 0) + 1
                if spark_cases[table] > 2:
                    continue
            marks = [pytest.mark.spark] if engine == "spark" else []
            params.append(
                pytest.param(call, engine, error, match, id=f"{name} [{engine}]", marks=marks)
            )
    return params


@pytest.mark.parametrize(("call", "engine", "error", "match"), _params())
def test_bad_side_table_raises_our_error(
    call: Callable[[str], Any], engine: str, error: type[Exception], match: str
) -> None:
    SEEN.clear()
    with pytest.raises(error, match=match) as info:
        call(engine)
    assert isinstance(info.value, RetailCRMError)
    for frame, before in SEEN:  # nothing mutated, even on failure
        pd.testing.assert_frame_equal(frame, before)
    if isinstance(info.value, InvalidDataError) and info.value.problems:
        for problem in info.value.problems:
            assert None not in problem.examples or problem.rows, problem


def test_catalogue_size() -> None:
    assert len(CASES) >= 45
    assert sum(len(c[2]) for c in CASES) >= 150  # case x engine runs


# ---- configuration errors: raised when the schema is built -----------------------------------

CONFIG: list[tuple[str, Callable[[], Any], str]] = [
    ("unknown zone", lambda: EventSchema(timezone="Mars/Olympus"), r"EventSchema: unknown time"),
    ("scale upside down", lambda: SurveySchema(scale=(10, 0)), r"lowest < highest. Got \(10, 0\)"),
    ("scale of floats", lambda: SurveySchema(scale=(0.0, 10.0)), r"two whole numbers"),
    ("no time for spend", lambda: SpendSchema(period=None, date=None), r"both None"),
    ("label to a non-type", lambda: EventSchema(event_types={"buy": "purchase"}), r"not an event"),
    ("blank label", lambda: EventSchema(event_types={" ": "view"}), r"non-empty strings"),
    ("one column, two roles", lambda: SurveySchema(channel="score"), r"mapped to both"),
    ("unknown key", lambda: SpendSchema.from_dict({"month": "m"}), r"unknown key\(s\) \['month'\]"),
]


@pytest.mark.parametrize(("build", "match"), [c[1:] for c in CONFIG], ids=[c[0] for c in CONFIG])
def test_bad_schema_raises_config_error(build: Callable[[], Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build()
