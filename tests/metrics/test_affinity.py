"""category_affinity: hand-computed support, confidence and lift; baskets; segments; parity."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from helpers import assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.metrics import category_affinity


@pytest.fixture
def tx() -> pd.DataFrame:
    rows = [
        ("a", 1, "2024-01-05", "hair", 10.0),
        ("a", 1, "2024-01-05", "home", 20.0),
        ("a", 2, "2024-02-05", "toys", 5.0),
        ("b", 3, "2024-01-06", "hair", 15.0),
        ("b", 3, "2024-01-06", "home", 30.0),
        ("c", 4, "2024-01-07", "hair", 25.0),
        ("c", 5, "2024-03-07", "toys", 8.0),
        ("c", 5, "2024-03-07", "books", -8.0),  # a refund line: not bought
        ("d", 6, "2024-01-08", "home", 5.0),
        ("e", 7, "2024-01-09", "books", 12.0),
    ]
    columns = ["customer_id", "order_id", "timestamp", "category", "amount"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


def test_pairs_by_hand(tx: pd.DataFrame) -> None:
    # customer baskets: a {hair, home, toys}, b {hair, home}, c {hair, toys}, d {home},
    # e {books}: N = 5; min_support 0.3 keeps itemsets in >= 1.5 baskets:
    # hair 3, home 3, toys 2 (books 1 is pruned); hair+home 2, hair+toys 2 (home+toys 1 pruned)
    #   toys -> hair: 2/2 = 1,   lift 2*5/(2*3) = 5/3
    #   hair -> toys: 2/3,       lift 5/3
    #   hair -> home: 2/3,       lift 2*5/(3*3) = 10/9;  home -> hair the same
    result = category_affinity(tx, as_of="2024-12-31", min_support=0.3)
    assert_equal_data(
        result,
        {
            "antecedent": ["toys", "hair", "hair", "home"],
            "consequent": ["hair", "toys", "home", "hair"],
            "size": [2, 2, 2, 2],
            "baskets": [2, 2, 2, 2],
            "support": [0.4, 0.4, 0.4, 0.4],
            "confidence": [1.0, 2 / 3, 2 / 3, 2 / 3],
            "lift": [5 / 3, 5 / 3, 10 / 9, 10 / 9],
        },
    )


def test_triples_by_hand(tx: pd.DataFrame) -> None:
    # min_support 0.2 (one basket): the triple hair+home+toys (a) is kept:
    #   home + toys -> hair: 1/1 (home+toys in 1 basket), lift 1*5/(1*3) = 5/3
    #   hair + home -> toys: 1/2, lift 1*5/(2*2) = 1.25
    #   hair + toys -> home: 1/2, lift 1*5/(2*3) = 5/6
    result = to_polars(category_affinity(tx, as_of="2024-12-31", min_support=0.2, max_size=3))
    triples = result.filter(pl.col("size") == 3)
    assert triples.select("antecedent", "consequent", "baskets").rows() == [
        ("home + toys", "hair", 1),
        ("hair + home", "toys", 1),
        ("hair + toys", "home", 1),
    ]
    assert triples["confidence"].to_list() == pytest.approx([1.0, 0.5, 0.5])
    assert triples["lift"].to_list() == pytest.approx([5 / 3, 1.25, 5 / 6])
    assert result.filter(pl.col("size") == 2).height == 6  # three pairs, both directions


def test_order_baskets(tx: pd.DataFrame) -> None:
    # orders: {hair, home} (1), {toys} (2), {hair, home} (3), {hair} (4), {toys} (5),
    # {home} (6), {books} (7): N = 7; hair+home in 2 orders; toys is never with hair now
    result = to_polars(category_affinity(tx, as_of="2024-12-31", min_support=0.2, basket="order"))
    assert result.select("antecedent", "consequent").rows() == [
        ("hair", "home"),
        ("home", "hair"),
    ]
    assert result["support"].to_list() == pytest.approx([2 / 7, 2 / 7])
    assert result["lift"].to_list() == pytest.approx([2 * 7 / (3 * 3)] * 2)


def test_per_segment(tx: pd.DataFrame) -> None:
    labels = pd.DataFrame({"customer_id": ["a", "b"], "tier": ["x", "x"]})
    # x: a {hair, home, toys}, b {hair, home}: hair+home in 2 of 2 -> confidence 1, lift 1
    # no label (c, d, e): c {hair, toys}, d {home}, e {books}: hair+toys in 1 of 3 ->
    # support 1/3, confidence 1, lift 1 * 3 / (1 * 1) = 3
    result = to_polars(category_affinity(tx, as_of="2024-12-31", min_support=0.3, labels=labels))
    x = result.filter(pl.col("tier") == "x")
    assert x.select("antecedent", "consequent", "lift").rows()[:2] == [
        ("hair", "home", 1.0),
        ("home", "hair", 1.0),
    ]
    unlabelled = result.filter(pl.col("tier").is_null())
    assert unlabelled.select("antecedent", "consequent", "support", "lift").rows() == [
        ("hair", "toys", pytest.approx(1 / 3), pytest.approx(3.0)),
        ("toys", "hair", pytest.approx(1 / 3), pytest.approx(3.0)),
    ]
    assert result["tier"].to_list()[-1] is None  # the missing label sorts last


def test_parameters_are_checked(tx: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="The 'min_support' parameter of category_affinity"):
        category_affinity(tx, as_of="2024-12-31", min_support=0)
    with pytest.raises(ConfigError, match="The 'max_size' parameter of category_affinity"):
        category_affinity(tx, as_of="2024-12-31", max_size=4)
    with pytest.raises(MissingColumnsError, match="category"):
        category_affinity(tx.drop(columns="category"), as_of="2024-12-31")


def test_engine_parity(engine: str, tx: pd.DataFrame) -> None:
    # `engine` (conftest) runs over helpers.ENGINES, Spark included
    native = make_native(engine, tx)
    result = category_affinity(native, as_of="2024-12-31", min_support=0.2)
    assert_same_kind(result, native)
    assert_equal_data(result, category_affinity(tx, as_of="2024-12-31", min_support=0.2))


def test_lines_without_order_id_form_customer_day_baskets() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b"],
            "order_id": [None, None, 1.0, None, None],
            "timestamp": pd.to_datetime(["2024-01-01"] * 3 + ["2024-01-02"] * 2),
            "category": ["x", "y", "z", "x", "y"],
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    # baskets: a's day without order {x, y}, a's order 1 {z}, b's day {x, y}: N = 3
    # x+y in 2 -> support 2/3, confidence 1, lift 2*3/(2*2) = 1.5
    result = to_polars(category_affinity(tx, as_of="2024-12-31", basket="order", min_support=0.1))
    assert result.select("antecedent", "consequent", "baskets").rows() == [
        ("x", "y", 2),
        ("y", "x", 2),
    ]
    assert result["lift"].to_list() == pytest.approx([1.5, 1.5])


def test_as_of_is_optional_and_none_means_every_line() -> None:
    # The contract: category_affinity(tx, *, level="category", min_support=..., by=None).
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "b", "c"],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-02-01", "2024-01-05"]
            ),
            "amount": [1.0, 1.0, 1.0, 1.0, 1.0],
            "category": ["x", "y", "x", "y", "x"],
        }
    )
    every_line = category_affinity(tx, min_support=0.1)
    assert every_line.equals(category_affinity(tx, as_of="2024-12-31", min_support=0.1))
    # x->y: baskets {a, b} of 3 hold both, support 2/3, confidence 2/3 (x in a, b, c).
    row = every_line[(every_line["antecedent"] == "x") & (every_line["consequent"] == "y")]
    assert row["support"].item() == pytest.approx(2 / 3)
    assert row["confidence"].item() == pytest.approx(2 / 3)
    # Cut before b's y line: only a holds both.
    cut = category_affinity(tx, as_of="2024-01-31", min_support=0.1)
    row = cut[(cut["antecedent"] == "x") & (cut["consequent"] == "y")]
    assert row["support"].item() == pytest.approx(1 / 3)
