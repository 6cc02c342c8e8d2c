"""cohort_retention and cohort_matrix: hand-computed cells, reconciliation, engine parity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import LOCAL_ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError
from retailcrm.metrics import cohort_matrix, cohort_retention


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [
        ("a", "2024-01-05", 10.0),
        ("a", "2024-03-02", 20.0),
        ("b", "2024-01-20", 15.0),
        ("b", "2024-02-01", -5.0),  # a refund: revenue, but b is not active in February
        ("c", "2024-02-10", 30.0),
        ("c", "2024-03-15", 25.0),
        ("d", "2024-03-31", 40.0),
        ("e", "2024-02-02", -7.0),  # refunds only: no purchase, no cohort
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


JAN, FEB, MAR = dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)


def test_active_customers_by_hand(tx: pd.DataFrame) -> None:
    # January cohort a, b: active in Jan (2), Feb (none: b's refund is no purchase), Mar (a)
    # February cohort c: Feb, Mar; March cohort d
    result = cohort_retention(tx, as_of="2024-03-31")
    assert_equal_data(
        result,
        {
            "cohort": [JAN, JAN, JAN, FEB, FEB, MAR],
            "offset": [0, 1, 2, 0, 1, 0],
            "cohort_size": [2, 2, 2, 1, 1, 1],
            "value": [2, 0, 1, 1, 1, 1],
            "rate": [1.0, 0.0, 0.5, 1.0, 1.0, 1.0],
        },
    )


def test_active_or_later_by_hand(tx: pd.DataFrame) -> None:
    # January: a's last purchase is at offset 2, b's at 0 -> 2, 1, 1
    result = to_polars(cohort_retention(tx, as_of="2024-03-31", mode="active_or_later"))
    assert result["value"].to_list() == [2, 1, 1, 1, 1, 1]


def test_revenue_and_cumulative_revenue_by_hand(tx: pd.DataFrame) -> None:
    # January cohort: Jan 10 + 15 = 25, Feb -5 (b's refund), Mar 20; per customer / 2
    result = to_polars(cohort_retention(tx, as_of="2024-03-31", value="revenue"))
    assert result["value"].to_list() == [25.0, -5.0, 20.0, 30.0, 25.0, 40.0]
    assert result["rate"].to_list() == [12.5, -2.5, 10.0, 30.0, 25.0, 40.0]
    cumulative = to_polars(cohort_retention(tx, as_of="2024-03-31", value="cumulative_revenue"))
    assert cumulative["value"].to_list() == [25.0, 20.0, 40.0, 30.0, 55.0, 40.0]


def test_weekly_offsets_of_monthly_cohorts(tx: pd.DataFrame) -> None:
    # a: first purchase Fri 2024-01-05 (ISO week of Mon 01-01), then 2024-03-02 (week of
    # Mon 02-26): 8 weeks later
    result = to_polars(cohort_retention(tx, as_of="2024-03-31", period="W"))
    jan = result.filter(pl.col("cohort").cast(pl.Date) == JAN)
    active = jan.filter(pl.col("value") > 0)["offset"].to_list()
    # b: Sat 2024-01-20 is in the week of Mon 01-15, offset 0 from its own first purchase
    assert active == [0, 8]
    assert jan["offset"].max() == 12  # week of 01-01 to the week of Sun 03-31 (Mon 03-25)


def test_matrix_wide(tx: pd.DataFrame) -> None:
    wide = cohort_matrix(cohort_retention(tx, as_of="2024-03-31"))
    assert list(wide.columns) == ["cohort", "0", "1", "2"]
    assert_equal_data(
        wide,
        {
            "cohort": [JAN, FEB, MAR],
            "0": [1.0, 1.0, 1.0],
            "1": [0.0, 1.0, None],
            "2": [0.5, None, None],
        },
    )


def test_options_are_checked(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="mode='active_or_later' counts customers"):
        cohort_retention(tx, as_of="2024-03-31", mode="active_or_later", value="revenue")
    with pytest.raises(ConfigError, match="The 'cohort' parameter of cohort_retention"):
        cohort_retention(tx, as_of="2024-03-31", cohort="month")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="as_of is required"):
        cohort_retention(tx)


_day = st.integers(min_value=0, max_value=120)
_cents = st.integers(min_value=-3000, max_value=9000)
_lines = st.lists(st.tuples(st.sampled_from("abcdef"), _day, _cents), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None)
@given(lines=_lines, cohort=st.sampled_from(["M", "W"]), period=st.sampled_from(["M", "W"]))
def test_cohort_tables_reconcile(
    lines: list[tuple[str, int, int]], cohort: str, period: str
) -> None:
    start = pd.Timestamp("2024-01-01")
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in lines],
            "timestamp": [start + pd.Timedelta(days=d) for _, d, _ in lines],
            "amount": [m / 100 for _, _, m in lines],
        }
    )
    kw = {"as_of": "2024-04-30", "cohort": cohort, "period": period, "duplicates": "keep"}
    active = to_polars(cohort_retention(tx, **kw))
    later = to_polars(cohort_retention(tx, mode="active_or_later", **kw))
    revenue = to_polars(cohort_retention(tx, value="revenue", **kw))
    cumulative = to_polars(cohort_retention(tx, value="cumulative_revenue", **kw))
    # offset 0 equals the cohort size
    first = active.filter(pl.col("offset") == 0)
    assert first["value"].to_list() == first["cohort_size"].to_list()
    # active_or_later never rises along a row, and is at least the active count
    for _, row in later.group_by("cohort"):
        values = row.sort("offset")["value"].to_list()
        assert values == sorted(values, reverse=True)
    assert (later["value"] >= active["value"]).all()
    # revenue cells add up to the net spend of every customer with a purchase (a customer-day
    # is an occasion; it is a purchase when it nets above zero)
    days = tx.assign(day=tx["timestamp"].dt.date, cents=[m for _, _, m in lines])
    nets = days.groupby(["customer_id", "day"])["cents"].sum()
    buyers = set(nets[nets > 0].index.get_level_values(0))
    expected = sum(m for c, _, m in lines if c in buyers) / 100
    assert revenue["value"].sum() == pytest.approx(expected, abs=1e-9)
    sizes = first.select(pl.col("cohort_size").sum()).item() if first.height else 0
    assert sizes == len(buyers)
    # the last cumulative cell of each cohort is its total revenue
    last = cumulative.group_by("cohort").agg(pl.col("value").sort_by("offset").last())
    total = revenue.group_by("cohort").agg(pl.col("value").sum())
    joined = last.join(total, on="cohort")
    for got, want in joined.select("value", "value_right").iter_rows():
        assert got == pytest.approx(want, abs=1e-9)


# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_engine_parity(engine: str, tx: pd.DataFrame) -> None:
    # `engine` (conftest) runs over helpers.ENGINES, Spark included
    native = make_native(engine, tx)
    result = cohort_retention(native, as_of="2024-03-31", mode="active_or_later")
    assert_same_kind(result, native)
    assert_equal_data(result, cohort_retention(tx, as_of="2024-03-31", mode="active_or_later"))
    revenue = cohort_retention(native, as_of="2024-03-31", value="revenue", period="W")
    assert_equal_data(
        revenue, cohort_retention(tx, as_of="2024-03-31", value="revenue", period="W")
    )


def _period_number(day: dt.date, period: str) -> int:
    """Calendar period numbers, written out again for the reference below."""
    days = (day - dt.date(1970, 1, 1)).days
    month = day.year * 12 + day.month - 1
    return {"D": days, "W": (days + 3) // 7, "M": month, "Q": month // 3, "Y": day.year}[period]


def _period_start(day: dt.date, period: str) -> dt.date:
    if period == "D":
        return day
    if period == "W":
        return day - dt.timedelta(days=day.weekday())
    if period == "M":
        return day.replace(day=1)
    if period == "Q":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def _reference_cohorts(
    lines: list[tuple[str, int, int, int, int | None]],
    as_of: dt.date,
    cohort: str,
    period: str,
    mode: str,
    value: str,
) -> dict[tuple[dt.date, int], tuple[int, float]]:
    """cohort_retention's docstring, computed line by line in Python: (cohort, offset) ->
    (cohort size, value)."""
    start = dt.date(2024, 1, 1)
    occasions: dict[tuple[str, object], list[Any]] = {}  # key -> [first date, net cents]
    for customer, day, _hour, cents, order in lines:
        date = start + dt.timedelta(days=day)
        if date > as_of:
            continue
        key = (customer, ("order", order) if order is not None else ("day", date))
        occ = occasions.setdefault(key, [date, 0])
        occ[0], occ[1] = min(occ[0], date), occ[1] + cents
    first: dict[str, dt.date] = {}
    for (customer, _), (date, net) in occasions.items():
        if net > 0:
            first[customer] = min(first.get(customer, date), date)
    cells: dict[tuple[dt.date, int], set[str] | int] = {}
    sizes: dict[dt.date, int] = {}
    for date in first.values():
        name = _period_start(date, cohort)
        sizes[name] = sizes.get(name, 0) + 1
    last_offset: dict[str, int] = {}
    for (customer, _), (date, net) in occasions.items():
        if customer not in first:
            continue
        name = _period_start(first[customer], cohort)
        offset = max(_period_number(date, period) - _period_number(first[customer], period), 0)
        if value == "customers":
            if net > 0:
                last_offset[customer] = max(last_offset.get(customer, 0), offset)
                got = cells.setdefault((name, offset), set())
                assert isinstance(got, set)
                got.add(customer)
        else:
            got_net = cells.get((name, offset), 0)
            assert isinstance(got_net, int)
            cells[(name, offset)] = got_net + net
    out: dict[tuple[dt.date, int], tuple[int, float]] = {}
    for name, size in sizes.items():
        top = _period_number(as_of, period) - _period_number(name, period)
        running = 0
        for k in range(top + 1):
            if value == "customers" and mode == "active_or_later":
                n = sum(
                    1 for c, f in first.items() if _period_start(f, cohort) == name
                    and last_offset[c] >= k
                )  # fmt: skip
                out[(name, k)] = (size, float(n))
            elif value == "customers":
                got = cells.get((name, k), set())
                assert isinstance(got, set)
                out[(name, k)] = (size, float(len(got)))
            else:
                cents = cells.get((name, k), 0)
                assert isinstance(cents, int)
                running += cents
                out[(name, k)] = (size, (running if value == "cumulative_revenue" else cents) / 100)
    return out


_order = st.one_of(st.none(), st.integers(min_value=1, max_value=6))
_any_lines = st.lists(
    st.tuples(
        st.sampled_from("abcdef"),
        st.integers(min_value=0, max_value=500),
        st.integers(min_value=0, max_value=23),
        _cents,
        _order,
    ),
    min_size=1,
    max_size=30,
)
_cases = st.sampled_from(
    [
        ("active", "customers"),
        ("active_or_later", "customers"),
        ("active", "revenue"),
        ("active", "cumulative_revenue"),
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    lines=_any_lines,
    cohort=st.sampled_from(["D", "W", "M", "Q", "Y"]),
    period=st.sampled_from(["D", "W", "M", "Q", "Y"]),
    case=_cases,
    as_of=st.sampled_from([dt.date(2024, 9, 17), dt.date(2025, 5, 31)]),
)
def test_every_cell_equals_a_line_by_line_reference(
    lines: list[tuple[str, int, int, int, int | None]],
    cohort: str,
    period: str,
    case: tuple[str, str],
    as_of: dt.date,
) -> None:
    # every cohort and period unit, order ids (null: one occasion per customer-day), refunds,
    # lines after as_of and times of day: each cell against the definitions, by hand
    mode, value = case
    start = pd.Timestamp("2024-01-01")
    tx = pd.DataFrame(
        {
            "customer_id": [c for c, *_ in lines],
            "order_id": pd.array(
                [None if o is None else f"{c}{o}" for c, _, _, _, o in lines], dtype="string"
            ),
            "timestamp": [start + pd.Timedelta(days=d, hours=h) for _, d, h, _, _ in lines],
            "amount": [m / 100 for _, _, _, m, _ in lines],
        }
    )
    order_keyed = [(c, d, h, m, None if o is None else f"{c}{o}") for c, d, h, m, o in lines]
    kw = {"cohort": cohort, "period": period, "mode": mode, "value": value}
    got = to_polars(cohort_retention(tx, as_of=as_of, duplicates="keep", **kw))
    want = _reference_cohorts(order_keyed, as_of, cohort, period, mode, value)  # type: ignore[arg-type]
    assert got.height == len(want)
    for name, offset, size, cell, rate in got.iter_rows():
        day = name.date() if isinstance(name, dt.datetime) else name
        assert (day, offset) in want, (day, offset)
        want_size, want_value = want[(day, offset)]
        assert size == want_size
        assert cell == pytest.approx(want_value, abs=1e-9)
        assert rate == pytest.approx(want_value / want_size, abs=1e-12)
