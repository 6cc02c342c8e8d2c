"""customer_features: hand-computed cases, engine parity, invariants."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import polars.testing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import LOCAL_ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from reference import reference_features
from retailcrm import customer_features, validate_transactions
from retailcrm._engine import collect_polars
from retailcrm.data import sample_data
from retailcrm.data._prepare import prepare_transactions
from retailcrm.exceptions import (
    ConfigError,
    DataQualityWarning,
    InvalidDataError,
    MissingColumnsError,
)
from retailcrm.features._customer import customer_table, feature_needs


@pytest.fixture(scope="module")
def small_retailer() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    data = sample_data(150, seed=7, start="2024-01-01", end="2024-12-31")
    tx = data.transactions.drop(columns=["product_id"])
    customers = data.customers[["customer_id", "registered_at", "region"]]
    responses = data.campaigns[["customer_id", "contacted_at", "responded"]]
    return tx, customers, responses


def test_hand_computed_small_case() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "ann", "ann", "bob", "bob", "cy"],
            "order_id": [1, 1, 2, 3, 4, 5, 6],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-05 10:00",
                    "2024-01-05 10:00",
                    "2024-02-10 00:00",
                    "2024-03-20 23:59",
                    "2024-03-01 00:00",
                    "2024-03-05 00:00",
                    "2024-04-02 00:00",
                ]
            ),
            "amount": [100.0, 20.0, 80.0, 200.0, 45.0, -45.0, 10.0],
            "category": ["a", "b", "b", "b", "x", "x", "y"],
        }
    )
    f = customer_features(tx, as_of="2024-03-31", windows=(30, 90))
    assert f["customer_id"].tolist() == ["ann", "bob"]  # cy bought after as_of
    ann, bob = f.iloc[0], f.iloc[1]
    assert ann["frequency"] == 3 and ann["monetary"] == 400.0
    assert ann["recency_days"] == 11 and ann["tenure_days"] == 86
    assert ann["mean_interpurchase_days"] == pytest.approx(75 / 2)
    assert (ann["orders_30d"], ann["orders_90d"]) == (1, 3)
    assert (ann["spend_30d"], ann["spend_90d"]) == (200.0, 400.0)
    assert ann["active_months_12"] == 3 and ann["consecutive_active_months"] == 3
    # category mix: a=100, b=300 -> b wins with 300/400
    assert ann["top_category"] == "b" and ann["top_category_share"] == pytest.approx(0.75)
    assert ann["n_categories"] == 2
    # bob's refund is its own order: it reduces spend but the purchase still counts
    assert bob["frequency"] == 1 and bob["monetary"] == 0.0
    assert bob["spend_30d"] == -45.0 and bob["orders_30d"] == 0


def test_returns_policies_differ_as_documented() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "order_id": [10, 10, 11],
            "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-04"]),
            "amount": [50.0, -50.0, 30.0],
        }
    )
    net = customer_features(tx, as_of="2024-01-31").iloc[0]
    excl = customer_features(tx, as_of="2024-01-31", returns="exclude").iloc[0]
    keep = customer_features(tx, as_of="2024-01-31", returns="keep").iloc[0]
    assert (net["frequency"], net["monetary"]) == (1, 30.0)  # order 10 nets to zero
    assert (excl["frequency"], excl["monetary"]) == (2, 80.0)
    assert (keep["frequency"], keep["monetary"]) == (2, 30.0)


def test_as_of_date_includes_whole_day_datetime_is_instant() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-31 18:00"]),
            "amount": [10.0, 20.0],
        }
    )
    assert customer_features(tx, as_of="2024-01-31")["frequency"].item() == 2
    assert customer_features(tx, as_of=dt.date(2024, 1, 31))["frequency"].item() == 2
    assert customer_features(tx, as_of="2024-01-31T12:00")["frequency"].item() == 1
    assert customer_features(tx, as_of=pd.Timestamp("2024-01-31 18:00"))["frequency"].item() == 2


def test_customers_frame_keeps_registered_non_buyers_and_attributes() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "timestamp": pd.to_datetime(["2024-03-01", "2024-03-10"]),
            "amount": [10.0, 20.0],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "c", "d"],
            "registered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-05-01"]),
            "region": ["north", "south", "east"],
        }
    )
    f = customer_features(tx, as_of="2024-03-31", customers=customers)
    assert f["customer_id"].tolist() == ["a", "b", "c"]  # d registers after as_of
    c = f.set_index("customer_id").loc["c"]
    assert c["frequency"] == 0 and np.isnan(c["recency_days"]) and c["monetary"] == 0.0
    assert c["tenure_days"] == 59 and c["region"] == "south"
    a = f.set_index("customer_id").loc["a"]
    assert a["tenure_days"] == 90  # from registration, before the first purchase
    b = f.set_index("customer_id").loc["b"]
    assert b["tenure_days"] == 21 and pd.isna(b["region"])


def test_refunds_discounts_and_responses() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "bob", "bob"],
            "timestamp": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-03-01", "2024-03-05"]),
            "amount": [120.0, 80.0, 45.0, -45.0],
            "discount": [30.0, None, 0.0, 0.0],
        }
    )
    responses = pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "bob", "zed"],
            "contacted_at": pd.to_datetime(
                ["2024-01-01", "2024-05-01", "2024-02-01", "2024-01-01"]
            ),
            "responded": [True, True, False, True],
        }
    )
    f = customer_features(tx, as_of="2024-03-31", responses=responses).set_index("customer_id")
    assert f.index.tolist() == ["ann", "bob"]  # zed is neither buyer nor registered
    assert f.loc["ann", "discount_rate"] == pytest.approx(30 / 230)
    assert f.loc["bob", "refund_amount"] == 45.0 and f.loc["ann", "refund_amount"] == 0.0
    assert f.loc["ann", "campaigns_received"] == 1  # the May contact is after as_of
    assert (f.loc["ann", "response_rate"], f.loc["bob", "response_rate"]) == (1.0, 0.0)
    with pytest.raises(MissingColumnsError, match="responses: missing column 'responded'"):
        customer_features(tx, as_of="2024-03-31", responses=responses.drop(columns="responded"))
    with pytest.raises(InvalidDataError, match="not boolean"):
        customer_features(
            tx, as_of="2024-03-31", responses=responses.assign(responded=["y", "n", "y", "y"])
        )


def test_windows_are_validated() -> None:
    tx = pd.DataFrame(
        {"customer_id": [1], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [1.0]}
    )
    expected = {
        (0,): "positive whole numbers of days",
        (-7,): "positive whole numbers of days",
        (7.5,): "positive whole numbers of days",
        (True,): "positive whole numbers of days",
        (30, 30): r"distinct \(each window once\)",
        "abc": "a sequence of whole numbers of days",
    }
    for bad, what in expected.items():
        pattern = rf"The 'windows' parameter of customer_features must be {what}\. Got .* Fix:"
        with pytest.raises(ConfigError, match=pattern):
            customer_features(tx, as_of="2024-02-01", windows=bad)  # type: ignore[arg-type]
    with pytest.raises(
        ConfigError,
        match=r"The 'returns' parameter of customer_features must be one of "
        r"\['net', 'exclude', 'keep'\]\. Got 'drop' instead\. Fix:",
    ):
        customer_features(tx, as_of="2024-02-01", returns="drop")  # type: ignore[arg-type]


# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_engine_parity(
    engine: str, small_retailer: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
) -> None:
    tx, customers, responses = small_retailer
    expected = customer_features(tx, as_of="2024-10-15", customers=customers, responses=responses)
    assert {"discount_rate", "response_rate", "region", "top_channel"} <= set(expected.columns)
    native = make_native(engine, tx)
    result = customer_features(
        native,
        as_of="2024-10-15",
        customers=make_native(engine, customers),
        responses=make_native(engine, responses),
    )
    assert_same_kind(result, native)
    assert_equal_data(result, expected)


def test_matches_independent_reference(
    small_retailer: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    tx, _, _ = small_retailer
    ref = reference_features(tx, dt.date(2024, 10, 15))
    got = customer_features(tx, as_of="2024-10-15")
    assert_equal_data(got[ref.columns], ref)


# --------------------------------------------------------------------------------------------
# invariants
# --------------------------------------------------------------------------------------------

ids = st.one_of(
    st.lists(st.integers(0, 6), min_size=1, max_size=1),
    st.lists(st.sampled_from(["a", "b", "Zoë", "北京", "c d"]), min_size=1, max_size=1),
)


@st.composite
def transactions(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    use_text = draw(st.booleans())
    pool = ["a", "b", "Zoë", "北京", "c d", "e"] if use_text else [0, 1, 2, 3, 4, 5]
    cust = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 500), min_size=n, max_size=n))
    amounts = draw(
        st.lists(
            st.one_of(st.floats(0.01, 500, allow_nan=False), st.floats(-200, 0, allow_nan=False)),
            min_size=n,
            max_size=n,
        )
    )
    frame = pd.DataFrame(
        {
            "customer_id": cust,
            "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": np.round(amounts, 2),
        }
    )
    if draw(st.booleans()):
        frame["order_id"] = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    return frame


@given(tx=transactions(), as_of_day=st.integers(-10, 520), seed=st.integers(0, 2**16))
def test_invariants(tx: pd.DataFrame, as_of_day: int, seed: int) -> None:
    as_of = (pd.Timestamp("2023-01-01") + pd.Timedelta(days=as_of_day)).date()
    before = tx.copy(deep=True)
    out = customer_features(tx, as_of=as_of, duplicates="keep")
    pd.testing.assert_frame_equal(tx, before)  # input unchanged
    expected_ids = sorted(set(tx.loc[tx["timestamp"].dt.date <= as_of, "customer_id"]))
    assert out["customer_id"].tolist() == expected_ids  # each exactly once, sorted
    shuffled = tx.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    again = customer_features(shuffled, as_of=as_of, duplicates="keep")
    pd.testing.assert_frame_equal(again, out, check_exact=True)  # bit-identical
    if len(out):
        counts = out[["orders_30d", "orders_90d", "orders_180d", "orders_365d"]].to_numpy()
        assert (np.diff(counts, axis=1) >= 0).all()
        assert (out["orders_365d"] <= out["frequency"]).all()
        rec = out["recency_days"].dropna()
        assert (rec >= 0).all()
        buyers = out["first_purchase"].notna()
        assert (out.loc[buyers, "frequency"] >= 1).all()
        assert (out.loc[~buyers, "frequency"] == 0).all()
        assert (out["tenure_days"].dropna() >= out["recency_days"].dropna()).all()
        ref = reference_features(tx, as_of)
        assert_equal_data(out[ref.columns], ref)


def test_fully_refunded_multi_line_order_is_no_purchase_in_any_line_order() -> None:
    """Float sums of cancelling lines are ±1e-15 depending on order; that is not a purchase."""
    amounts = [8.62, -125.12, 125.12, -8.62]
    days = ["2024-01-05", "2024-01-12", "2024-01-05", "2024-01-12"]
    for perm in ([0, 1, 2, 3], [0, 2, 1, 3], [1, 3, 0, 2], [3, 2, 1, 0]):
        tx = pd.DataFrame(
            {
                "customer_id": ["a"] * 4,
                "order_id": [1] * 4,
                "timestamp": pd.to_datetime([days[i] for i in perm]),
                "amount": [amounts[i] for i in perm],
            }
        )
        row = customer_features(tx, as_of="2024-01-31").iloc[0]
        assert row["frequency"] == 0 and pd.isna(row["recency_days"])
        assert abs(row["monetary"]) < 1e-12


@given(
    prices=st.lists(st.floats(0.01, 999.99).map(lambda v: round(v, 2)), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_cancelled_orders_do_not_depend_on_row_order(prices: list[float], seed: int) -> None:
    lines = [(p, "2024-02-01") for p in prices] + [(-p, "2024-02-03") for p in prices]
    tx = pd.DataFrame(
        {
            "customer_id": "a",
            "order_id": 7,
            "timestamp": pd.to_datetime([d for _, d in lines]),
            "amount": [a for a, _ in lines],
        }
    )
    shuffled = tx.sample(frac=1.0, random_state=seed)
    for frame in (tx, shuffled, pl.from_pandas(shuffled.reset_index(drop=True))):
        out = to_polars(customer_features(frame, as_of="2024-02-29", duplicates="keep"))
        assert out["frequency"].to_list() == [0]


def _count_aggregations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets one item per call of the per-partition aggregation."""
    import retailcrm.features._customer as impl

    calls: list[int] = []
    original = impl._aggregate_all
    monkeypatch.setattr(impl, "_aggregate_all", lambda *a: calls.append(1) or original(*a))
    return calls


@pytest.mark.parametrize("engine", ["pandas-numpy", "polars-eager"])
def test_partitioned_aggregation_gives_the_same_table(
    engine: str,
    small_retailer: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Large eager inputs are aggregated in customer partitions; the result must not change."""
    import retailcrm.features._customer as impl

    tx, customers, _ = small_retailer
    native = make_native(engine, tx)
    whole = to_polars(customer_features(native, as_of="2024-10-15", customers=customers))
    monkeypatch.setattr(impl, "PARTITION_LINES", 100)  # several partitions on this sample
    calls = _count_aggregations(monkeypatch)
    parts = to_polars(customer_features(native, as_of="2024-10-15", customers=customers))
    assert len(calls) > 3
    polars.testing.assert_frame_equal(parts, whole, rel_tol=1e-12)


@pytest.mark.parametrize("cut", ["2023-06-30", "2024-03-31", "2024-10-15", "2024-12-31"])
def test_lines_laid_out_once_give_the_same_table_at_every_cut(
    cut: str,
    small_retailer: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backtest lays the lines out by customer partition once and cuts them at each date:
    each cut's partitions are slices, and the table is the one of the lines as given."""
    import retailcrm.features._customer as impl

    tx = small_retailer[0]
    prepared = prepare_transactions(tx, as_of="2024-12-31", duplicates="keep")
    until = dt.date.fromisoformat(cut)
    whole = customer_table(prepared.until(until)).pipe(collect_polars).to_native()
    monkeypatch.setattr(impl, "PARTITION_LINES", 100)  # several partitions on this sample
    laid_out = impl.laid_out_by_customer(prepared)
    assert laid_out.frame.collect().to_native()["__part"].n_unique() == -(-len(tx) // 100)
    calls = _count_aggregations(monkeypatch)
    parts = customer_table(laid_out.until(until)).pipe(collect_polars).to_native()
    assert len(calls) == (1 if cut == "2023-06-30" else -(-len(tx) // 100))
    polars.testing.assert_frame_equal(parts, whole, rel_tol=1e-12)


@pytest.mark.parametrize(("engine", "split"), [("polars-lazy", True), ("duckdb", False)])
def test_large_lazy_polars_plans_are_split_by_customers(
    engine: str,
    split: bool,
    small_retailer: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A polars plan of many lines is a sequential concatenation of per-partition plans (one
    group-by state in memory at a time) with the same table; DuckDB's plan is not split."""
    import retailcrm.features._customer as impl

    tx, customers, _ = small_retailer
    native = make_native(engine, tx)
    cust = make_native(engine, customers)
    whole = to_polars(customer_features(native, as_of="2024-10-15", customers=cust))
    monkeypatch.setattr(impl, "LAZY_PARTITION_LINES", 100)  # many partitions on this sample
    calls = _count_aggregations(monkeypatch)
    out = customer_features(native, as_of="2024-10-15", customers=cust)
    assert type(out) is type(native)  # still lazy: nothing collected
    assert len(calls) == (-(-len(tx) // 100) if split else 1)
    polars.testing.assert_frame_equal(to_polars(out), whole, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("groups", "absent"),
    [
        (("rfm",), ["orders_30d", "active_months_12", "top_category", "n_channels"]),
        (["windows"], ["active_months_12", "top_category"]),
        ("months", ["orders_30d", "top_channel"]),
        (("rfm", "mix"), ["spend_365d", "consecutive_active_months"]),
    ],
)
def test_feature_groups_are_the_full_tables_columns(
    small_retailer: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    groups: object,
    absent: list[str],
) -> None:
    tx, customers, _ = small_retailer
    full = customer_features(tx, as_of="2024-10-15", customers=customers)
    part = customer_features(tx, as_of="2024-10-15", customers=customers, features=groups)  # type: ignore[arg-type]
    assert not set(absent) & set(part.columns)
    assert {"recency_days", "frequency", "monetary", "region"} <= set(part.columns)
    assert list(part.columns) == [c for c in full.columns if c in set(part.columns)]
    pd.testing.assert_frame_equal(part, full[list(part.columns)])


@pytest.mark.parametrize("engine_name", ["pandas-numpy", "pandas-pyarrow", "polars-eager"])
def test_without_the_mix_category_and_channel_are_not_read(engine_name: str) -> None:
    """A call that leaves out the mix (and has no events) neither validates nor converts the
    category and channel columns: a channel of mixed kinds fails the full table, not the RFM
    one; the RFM columns are those of a table without that column; an explicitly mapped
    category column that is missing still fails the same way."""
    from retailcrm import TransactionSchema

    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b"],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-03-01", "2024-02-10", "2024-02-10"]),
            "amount": [10.0, 30.0, 5.0, 5.0],
            "category": ["tops", "shoes", None, None],
            "channel": ["app", 3, "store", "store"],  # text and a number: unreadable
        }
    )
    native = make_native(engine_name, tx) if engine_name != "polars-eager" else None
    if native is None:  # polars cannot hold the mixed column: a clean one, then compare
        native = make_native(engine_name, tx.assign(channel=["app", "web", "store", "store"]))
    else:
        with pytest.raises(InvalidDataError, match="channel"):
            customer_features(native, as_of="2024-03-31")
    with pytest.warns(DataQualityWarning, match="1 line exactly repeats"):
        rfm = to_polars(customer_features(native, as_of="2024-03-31", features=("rfm",)))
    with pytest.warns(DataQualityWarning, match="1 line exactly repeats"):
        plain = to_polars(
            customer_features(
                make_native(engine_name, tx.drop(columns=["category", "channel"])),
                as_of="2024-03-31",
                features=("rfm",),
            )
        )
    polars.testing.assert_frame_equal(rfm, plain)
    assert rfm["frequency"].to_list() == [2, 1]
    with pytest.raises(MissingColumnsError, match="kind"):
        customer_features(
            native, as_of="2024-03-31", features=("rfm",), schema=TransactionSchema(category="kind")
        )


@pytest.mark.parametrize("engine_name", ["pandas-numpy", "duckdb"])
def test_quantity_and_without_events_the_product_are_not_read(engine_name: str) -> None:
    """No feature counts units, and only events match on products: unreadable quantity and
    product columns fail neither the full table nor its conversion, and the table is that of
    lines without them; with events the product id is read (and an unreadable one named)."""
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-03-01", "2024-02-10"]),
            "amount": [10.0, 30.0, 5.0],
            "category": ["tops", "shoes", "tops"],
            "quantity": ["two", 1, 3],  # text and numbers: unreadable
            "product_id": [["p1"], "p2", 7],
        }
    )
    if engine_name == "duckdb":  # a relation holds one type per column: text quantities
        tx = tx.assign(quantity=["two", "one", "three"], product_id=["p1", "p2", "p3"])
        with pytest.raises(InvalidDataError, match="quantity"):
            validate_transactions(make_native(engine_name, tx)).raise_for_errors()
    got = to_polars(customer_features(make_native(engine_name, tx), as_of="2024-03-31"))
    plain = tx.drop(columns=["quantity", "product_id"])
    expected = to_polars(customer_features(make_native(engine_name, plain), as_of="2024-03-31"))
    polars.testing.assert_frame_equal(got, expected)
    assert got["top_category"].to_list() == ["shoes", "tops"]
    if engine_name == "pandas-numpy":
        events = pd.DataFrame(
            {
                "customer_id": ["a"],
                "timestamp": pd.to_datetime(["2024-03-02"]),
                "event_type": ["view"],
                "product_id": ["p2"],
            }
        )
        with pytest.raises(InvalidDataError, match="product_id"):
            customer_features(tx, as_of="2024-03-31", events=events)


def test_feature_groups_on_a_lazy_engine() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-03-01", "2024-02-10"]),
            "amount": [10.0, 30.0, 5.0],
        }
    )
    result = to_polars(
        customer_features(make_native("polars-lazy", tx), as_of="2024-03-31", features=("rfm",))
    )
    assert result.columns == [
        "customer_id", "first_purchase", "last_purchase", "recency_days", "frequency",
        "monetary", "avg_order_value", "tenure_days", "mean_interpurchase_days", "refund_amount",
    ]  # fmt: skip
    assert result["recency_days"].to_list() == [30, 50]  # 31 Mar - 1 Mar; 31 Mar - 10 Feb


def test_unknown_feature_group_is_a_config_error() -> None:
    tx = pd.DataFrame(
        {"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-01-02"]), "amount": [1.0]}
    )
    with pytest.raises(ConfigError, match=r"'features' parameter .* among \['rfm', 'windows'"):
        customer_features(tx, as_of="2024-03-31", features=("rfmm",))
    with pytest.raises(ConfigError, match="'features' parameter"):
        customer_features(tx, as_of="2024-03-31", features=())


_FULL_COLUMNS = [
    "recency_days",
    "frequency",
    "monetary",
    "orders_30d",
    "spend_180d",
    "orders_45d",
    "active_months_12",
    "discount_rate",
    "n_categories",
    "top_category",
    "top_category_share",
    "n_channels",
    "top_channel",
    "top_channel_share",
]


@settings(max_examples=15, deadline=None)
@given(asked=st.lists(st.sampled_from(_FULL_COLUMNS), min_size=1, max_size=5, unique=True))
def test_feature_needs_compute_the_asked_columns_only_with_the_full_values(
    small_retailer: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], asked: list[str]
) -> None:
    # what a backtest computes at each date (stage_history, simulate_program): the columns
    # asked for equal the full table's, and the unread mix and discount passes are skipped
    tx = small_retailer[0]
    as_of = "2024-09-30"
    needs = feature_needs(asked)
    prepared = prepare_transactions(tx, as_of=as_of, duplicates="keep")
    narrow = customer_table(needs.narrow(prepared), windows=needs.windows, groups=needs.groups)
    got = narrow.pipe(collect_polars).to_native()
    full = to_polars(
        customer_features(tx, as_of=as_of, windows=(30, 45, 90, 180, 365), duplicates="keep")
    )
    assert_equal_data(got.select("customer_id", *asked), full.select("customer_id", *asked))
    for role, plural in (("category", "categories"), ("channel", "channels")):
        mix = {f"n_{plural}", f"top_{role}", f"top_{role}_share"}
        assert bool(mix & set(got.columns)) == bool(mix & set(asked)), role
    assert ("discount_rate" in got.columns) == ("discount_rate" in asked)
    assert ("active_months_12" in got.columns) == ("active_months_12" in asked)
