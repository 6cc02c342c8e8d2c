"""Purchase occasions computed once for a backtest (``OccasionHistory``) against the
occasions of the lines cut at each date."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import polars as pl
import polars.testing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retailcrm._engine import collect_polars
from retailcrm.data._prepare import prepare_transactions
from retailcrm.exceptions import ConfigError
from retailcrm.features._customer import customer_table, laid_out_by_customer, laid_out_history
from retailcrm.features._occasions import purchase_occasions

_START = dt.date(2024, 1, 1)
_KEYS = ["customer_id", "date", "day", "net_minor", "is_purchase", "refund_minor"]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns)


_lines = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.one_of(st.none(), st.integers(1, 4)),  # few order ids: reused across dates
        st.integers(0, 9),  # day after _START
        st.sampled_from([-30.0, -5.5, 0.0, 0.01, 7.25, 40.0]),
        st.sampled_from([None, 0.0, 2.5]),
    ),
    min_size=1,
    max_size=40,
)


def _frame(rows: list[tuple[object, ...]], order_ids: bool, discount: bool) -> pd.DataFrame:
    tx = pd.DataFrame(rows, columns=["customer_id", "order_id", "day", "amount", "discount"])
    tx["timestamp"] = pd.Timestamp(_START) + pd.to_timedelta(tx.pop("day"), unit="D")
    tx["order_id"] = tx["order_id"].astype("Int64")
    if not order_ids:
        tx = tx.drop(columns="order_id")
    if not discount:
        tx = tx.drop(columns="discount")
    return tx


@settings(max_examples=60, deadline=None)
@given(
    rows=_lines,
    returns=st.sampled_from(["net", "exclude", "keep"]),
    order_ids=st.booleans(),
    discount=st.booleans(),
    partition_lines=st.sampled_from([3, 10, 1_000]),
    cuts=st.lists(st.integers(-1, 10), min_size=1, max_size=4),
)
def test_history_cut_at_a_date_is_the_occasions_of_the_lines_cut_there(
    rows: list[tuple[object, ...]],
    returns: str,
    order_ids: bool,
    discount: bool,
    partition_lines: int,
    cuts: list[int],
) -> None:
    """Orders whose lines span dates (a later return under the order's id), customer-days of
    lines without an order id, refunds, zero amounts and discounts: at every cut, in every
    partition, the history's occasions are those of the lines cut there."""
    import retailcrm.features._customer as impl

    tx = _frame(rows, order_ids, discount)
    prepared = prepare_transactions(tx, as_of=_START + dt.timedelta(days=10), duplicates="keep")
    original = impl.PARTITION_LINES
    impl.PARTITION_LINES = partition_lines
    try:
        laid = laid_out_by_customer(prepared)
    finally:
        impl.PARTITION_LINES = original
    built = laid_out_history(laid, returns=returns)  # type: ignore[arg-type]
    assert built is not None
    history = built.occasions
    lines = laid.frame.collect().to_native()
    for offset in cuts:
        date = _START + dt.timedelta(days=offset)
        expected = purchase_occasions(prepared.until(date), returns=returns)  # type: ignore[arg-type]
        want = _sorted(expected.pipe(collect_polars).to_native())
        got = _sorted(history.until(date).pipe(collect_polars).to_native())
        polars.testing.assert_frame_equal(got, want)
        for part in lines["__part"].unique().to_list():  # each partition: its customers' own
            ids = lines.filter(pl.col("__part") == part)["customer_id"].unique()
            mine = _sorted(history.until(date, part).pipe(collect_polars).to_native())
            polars.testing.assert_frame_equal(mine, want.filter(pl.col("customer_id").is_in(ids)))


def test_a_later_return_under_the_orders_id_counts_from_its_own_date() -> None:
    """Hand-computed: order 1 bought 100.00 on 1 March and 40.00 of it was returned on 5 March;
    cut on 3 March the order is 100.00 with no refund, on 5 March 60.00 with 40.00 refunded."""
    tx = pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "ann"],
            "order_id": [1, 1, 2],
            "timestamp": pd.to_datetime(
                ["2024-03-01 10:00", "2024-03-05 09:00", "2024-03-04 12:00"]
            ),
            "amount": [100.0, -40.0, 15.0],
        }
    )
    prepared = laid_out_by_customer(prepare_transactions(tx, as_of="2024-03-31"))
    built = laid_out_history(prepared)
    assert built is not None
    history = built.occasions
    assert len(history.split[0]) == 2  # order 1: one row of sums per date
    on_3rd = history.until(dt.date(2024, 3, 3)).pipe(collect_polars).to_native()
    assert on_3rd.select("net_minor", "refund_minor", "is_purchase").rows() == [(10000, 0, True)]
    on_5th = _sorted(history.until(dt.date(2024, 3, 5)).pipe(collect_polars).to_native())
    assert on_5th.select("date", "net_minor", "refund_minor").rows() == [
        (dt.date(2024, 3, 1), 6000, 4000),
        (dt.date(2024, 3, 4), 1500, 0),
    ]


@pytest.mark.parametrize("cut", ["2023-06-30", "2024-03-31", "2024-10-15 12:30", "2024-12-31"])
@pytest.mark.parametrize("returns", ["net", "keep"])
def test_feature_table_from_the_history_is_the_table_of_the_lines(
    cut: str, returns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``customer_table(history=...)`` equals the table of the lines, in several partitions;
    a cut within a day (not a whole date) reads the lines instead."""
    import retailcrm.features._customer as impl
    from retailcrm.data import sample_data

    tx = sample_data(n_customers=300, seed=3).transactions
    prepared = prepare_transactions(tx, as_of="2024-12-31", duplicates="keep")
    monkeypatch.setattr(impl, "PARTITION_LINES", 500)
    laid = laid_out_by_customer(prepared)
    history = laid_out_history(laid, returns=returns)  # type: ignore[arg-type]
    assert history is not None and len(history.parts) > 2
    cut_at = prepared.until(cut)
    whole = customer_table(cut_at, returns=returns).pipe(collect_polars).to_native()  # type: ignore[arg-type]
    calls: list[int] = []
    original = impl.purchase_occasions
    monkeypatch.setattr(
        impl, "purchase_occasions", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    table = customer_table(laid.until(cut), returns=returns, history=history)  # type: ignore[arg-type]
    polars.testing.assert_frame_equal(table.pipe(collect_polars).to_native(), whole)
    assert bool(calls) == (" " in cut)  # the lines are grouped only for a cut within a day


def test_a_history_is_refused_where_it_does_not_apply() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["ann", "bob"],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-02"]),
            "amount": [10.0, 20.0],
        }
    )
    prepared = prepare_transactions(tx, as_of="2024-03-31")
    laid = laid_out_by_customer(prepared)
    history = laid_out_history(laid, returns="net")
    assert history is not None
    with pytest.raises(ConfigError, match="returns='net'"):
        customer_table(laid, returns="keep", history=history)
    with pytest.raises(ConfigError, match="laid_out_by_customer"):
        customer_table(prepared.materialised(), history=history)
    lazy = prepare_transactions(pl.from_pandas(tx).lazy(), as_of="2024-03-31")
    assert laid_out_history(lazy) is None
    with pytest.raises(ConfigError, match="eager lines only"):
        customer_table(lazy, history=history)


@pytest.mark.parametrize("partition_lines", [500, 1_000_000])
def test_a_backtest_history_replaces_the_lines_at_its_dates(
    partition_lines: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built for some dates with the category and channel mix, the history gives at each of
    them the table of the lines without reading a line (they are dropped); another cut is
    refused then, and read from the lines when they are kept."""
    import retailcrm.features._customer as impl
    from retailcrm.data import sample_data

    tx = sample_data(n_customers=300, seed=5).transactions
    prepared = prepare_transactions(tx, as_of="2024-12-31", duplicates="keep")
    assert prepared.has("category") and prepared.has("channel")
    monkeypatch.setattr(impl, "PARTITION_LINES", partition_lines)
    laid = laid_out_by_customer(prepared)
    dates = [dt.date(2023, 3, 31), dt.date(2024, 2, 29), dt.date(2024, 12, 31)]
    mix = ("category", "channel")
    history = laid_out_history(laid, dates=reversed(dates), mix=mix, lines_kept=False)
    assert history is not None and history.dates == tuple(dates)
    assert (len(history.parts) > 2) == (partition_lines == 500)
    empty = impl.lines_dropped(laid)
    assert empty.frame.collect().to_native().height == 0
    read: list[str] = []
    original_occ, original_mix = impl.purchase_occasions, impl._mix
    monkeypatch.setattr(
        impl, "purchase_occasions", lambda *a, **k: read.append("occ") or original_occ(*a, **k)
    )

    def counting_mix(p: object, role: str, returns: object, spend: object = None) -> object:
        if spend is None:
            read.append(role)
        return original_mix(p, role, returns, spend)  # type: ignore[arg-type]

    monkeypatch.setattr(impl, "_mix", counting_mix)
    for date in dates:
        whole = customer_table(prepared.until(date)).pipe(collect_polars).to_native()
        read.clear()
        table = customer_table(empty.until(date), history=history).pipe(collect_polars)
        assert read == []  # no line read
        polars.testing.assert_frame_equal(table.to_native(), whole)
    with pytest.raises(ConfigError, match="not one of them"):
        customer_table(empty.until("2024-06-30"), history=history)
    with pytest.raises(ConfigError, match="not one of them"):
        customer_table(empty.until("2024-02-29 12:00"), history=history)
    kept = laid_out_history(laid, dates=dates, mix=mix)
    assert kept is not None and kept.lines_kept
    for cut in ("2024-06-30", "2024-02-29 12:00", "2024-02-29"):
        whole = customer_table(prepared.until(cut)).pipe(collect_polars).to_native()
        read.clear()
        table = customer_table(laid.until(cut), history=kept).pipe(collect_polars)
        polars.testing.assert_frame_equal(table.to_native(), whole)
        # another cut reads the mix from the lines (and, within a day, the occasions)
        assert sorted(set(read) - {"occ"}) == (
            [] if cut == "2024-02-29" else ["category", "channel"]
        )
        assert ("occ" in read) == (cut == "2024-02-29 12:00")
