"""customer_tags: every built-in tag by hand, fitted cuts, tag families, new products, user tags,
Chinese labels, engine parity."""

from __future__ import annotations

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import given, settings

from helpers import ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError, MissingColumnsError, RuleSyntaxError
from retailcrm.rules import Rule, RuleSet
from retailcrm.segmentation import BUILTIN_TAGS, builtin_tags, customer_tags

AS_OF = "2024-12-31"


def features() -> pd.DataFrame:
    """Six customers (rows not in key order), every column the built-in tags read."""
    return pd.DataFrame(
        {
            "customer_id": [3, 1, 2, 4, 5, 6],
            "frequency": [2, 12, 1, 0, 3, 7],
            "orders_365d": [2, 8, 1, 0, 3, 6],
            "orders_30d": [0, 2, 0, 0, 0, 1],
            "monetary": [200.0, 1000.0, 50.0, None, 300.0, 600.0],
            "discount_rate": [0.25, 0.0, 0.2, None, 0.1, 0.05],
            "top_category": ["home", "beauty", "beauty", None, "home", "toys"],
            "top_category_share": [0.9, 0.5, 1.0, None, 0.4, 0.6],
            "n_channels": [1, 3, 1, 0, 2, 1],
            "top_channel": ["web", "store", "app", None, "web", "web"],
            "top_channel_share": [1.0, 0.5, 1.0, None, 0.7, 0.85],
            "views_30d": [4, 0, 0, 3, 0, 2],
            "viewed_not_bought_3d": [False, False, False, False, True, False],
        }
    )


# Hand-computed, customers 1..6:
#  high_frequency  orders_365d >= 6            -> 1 (8), 6 (6)
#  price_sensitive discount_rate >= 0.2        -> 2 (0.2), 3 (0.25); 4 missing -> False
#  prefers:<cat>   top_category_share >= 0.5   -> 1 beauty (0.5), 2 beauty (1.0), 3 home (0.9),
#                                                 6 toys (0.6); 5 home has 0.4 -> none
#  channel:<ch>    top_channel_share >= 0.8    -> 2 app, 3 web, 6 web (0.85); 5 web 0.7 -> none
#  omnichannel     n_channels >= 2             -> 1 (3), 5 (2)
#  big_spender     monetary >= p90 of [50, 200, 300, 600, 1000] (linear: position 0.9 * 4 =
#                  3.6 -> 600 + 0.6 * 400 = 840)   -> 1
#  one_time        frequency == 1              -> 2
#  browses_not_buying viewed_not_bought_3d or (views_30d > 0 and orders_30d == 0)
#                  -> 3 (4 views, 0 orders), 4 (3 views), 5 (flag); 6 has an order in 30d
EXPECTED = {
    "customer_id": [1, 2, 3, 4, 5, 6],
    "high_frequency": [True, False, False, False, False, True],
    "price_sensitive": [False, True, True, False, False, False],
    "prefers:beauty": [True, True, False, False, False, False],
    "prefers:home": [False, False, True, False, False, False],
    "prefers:toys": [False, False, False, False, False, True],
    "channel:app": [False, True, False, False, False, False],
    "channel:store": [False, False, False, False, False, False],
    "channel:web": [False, False, True, False, False, True],
    "omnichannel": [True, False, False, False, True, False],
    "big_spender": [True, False, False, False, False, False],
    "one_time": [False, True, False, False, False, False],
    "browses_not_buying": [False, False, True, True, True, False],
    "tags": [
        ["high_frequency", "prefers:beauty", "omnichannel", "big_spender"],
        ["price_sensitive", "prefers:beauty", "channel:app", "one_time"],
        ["price_sensitive", "prefers:home", "channel:web", "browses_not_buying"],
        ["browses_not_buying"],
        ["omnichannel", "browses_not_buying"],
        ["high_frequency", "prefers:toys", "channel:web"],
    ],
}


@pytest.mark.parametrize("engine", ENGINES)
def test_builtin_tags_by_hand_on_every_engine(engine: str) -> None:
    native = make_native(engine, features())
    out = customer_tags(native)
    assert_same_kind(out, native)
    assert_equal_data(out, EXPECTED)


def test_input_not_mutated_and_every_customer_once() -> None:
    data = features()
    before = data.copy()
    out = customer_tags(data)
    pd.testing.assert_frame_equal(data, before)
    assert sorted(out["customer_id"]) == sorted(data["customer_id"])
    assert out["customer_id"].is_unique


@settings(max_examples=20)
@given(st.permutations(range(6)))
def test_row_order_changes_nothing(order: list[int]) -> None:
    out = customer_tags(features().iloc[order])
    assert_equal_data(out, EXPECTED)


def test_thresholds_through_the_factory() -> None:
    tags = builtin_tags(
        high_frequency_orders=3,
        price_sensitive_share=0.1,
        prefers_share=0.95,
        channel_share=0.5,
        omnichannel_channels=3,
        big_spender_quantile=0.5,
    )
    out = to_polars(customer_tags(features(), tags)).sort("customer_id")
    # orders_365d >= 3: customers 1 (8), 5 (3), 6 (6)
    assert out["high_frequency"].to_list() == [True, False, False, False, True, True]
    # discount_rate >= 0.1: 2 (0.2), 3 (0.25), 5 (0.1)
    assert out["price_sensitive"].to_list() == [False, True, True, False, True, False]
    # top_category_share >= 0.95: only customer 2 (beauty, 1.0); home/toys tags still exist
    assert out["prefers:beauty"].to_list() == [False, True, False, False, False, False]
    assert not out["prefers:home"].any()
    # top_channel_share >= 0.5: 1 store (0.5), 2 app, 3 web, 5 web (0.7), 6 web
    assert out["channel:web"].to_list() == [False, False, True, False, True, True]
    # n_channels >= 3: customer 1
    assert out["omnichannel"].to_list() == [True, False, False, False, False, False]
    # median of [50, 200, 300, 600, 1000] = 300: customers 1, 5 (300), 6
    assert out["big_spender"].to_list() == [True, False, False, False, True, True]


def test_factory_checks_its_parameters() -> None:
    with pytest.raises(ConfigError, match="'big_spender_quantile' parameter of builtin_tags"):
        builtin_tags(big_spender_quantile=1.0)
    with pytest.raises(ConfigError, match="'omnichannel_channels' parameter"):
        builtin_tags(omnichannel_channels=1)
    with pytest.raises(ConfigError, match="'prefers_share' parameter"):
        builtin_tags(prefers_share=0)


def test_fractional_percent_cut() -> None:
    tags = builtin_tags(big_spender_quantile=0.975)
    assert tags.rules[5].when == "monetary >= col('p97.5_monetary')"
    out = to_polars(customer_tags(features()[["customer_id", "monetary"]], tags))
    # position 0.975 * 4 = 3.9: 600 + 0.9 * 400 = 960 -> only customer 1 (1000)
    assert out["big_spender"].to_list() == [True, False, False, False, False, False]


def test_only_the_columns_the_tags_read_are_converted() -> None:
    # a wide pandas feature table with columns no engine can hold (complex numbers, text
    # mixed with numbers) that no tag reads: the same tags as without them, fitted cuts
    # included; a tag that reads one gets our error naming it
    import numpy as np

    from retailcrm.exceptions import InvalidDataError

    data = features()
    wide = data.assign(
        z=np.array([1j] * len(data)), m=[1, "x"] * (len(data) // 2) + [1] * (len(data) % 2)
    )
    assert_equal_data(customer_tags(wide), customer_tags(data))
    with pytest.raises(InvalidDataError, match=r"column 'm' \(object\)"):
        customer_tags(wide, [Rule("m_tag", "m >= 0")])


def test_builtin_tags_without_their_columns_are_left_out() -> None:
    data = features()[["customer_id", "frequency"]]
    out = customer_tags(data)
    assert list(out.columns) == ["customer_id", "one_time", "tags"]
    # the same for the built-ins with other thresholds or labels
    out = customer_tags(data, builtin_tags(high_frequency_orders=2).relabel("zh"))
    assert list(out.columns) == ["customer_id", "one_time", "tags"]
    assert [list(t) for t in out["tags"]] == [[], ["仅购一次"], [], [], [], []]
    with pytest.raises(MissingColumnsError, match=r"tag family 'prefers:\{top_category\}'"):
        customer_tags(data, BUILTIN_TAGS, skip_unavailable=False)
    with pytest.raises(RuleSyntaxError, match="orders_365d"):
        customer_tags(data, BUILTIN_TAGS.rules[:2], skip_unavailable=False)


def test_chinese_labels_keep_ids_as_columns() -> None:
    out = to_polars(customer_tags(features(), BUILTIN_TAGS.relabel("zh"))).sort("customer_id")
    english = to_polars(customer_tags(features())).sort("customer_id")
    assert out.columns == english.columns
    assert out.drop("tags").equals(english.drop("tags"))
    assert out["tags"].to_list()[1] == ["价格敏感", "偏好品类:beauty", "偏好渠道:app", "仅购一次"]


def test_user_defined_tags_and_families() -> None:
    data = features()
    tags = [
        Rule("vip", "monetary >= 600", label="VIP"),
        Rule("likes:{top_category}", "frequency >= 3", label="likes {top_category}"),
    ]
    out = to_polars(customer_tags(data, tags)).sort("customer_id")
    # vip: 1 (1000), 6 (600); likes: frequency >= 3 -> 1 beauty, 5 home, 6 toys
    assert out.columns == ["customer_id", "vip", "likes:beauty", "likes:home", "likes:toys", "tags"]
    assert out["tags"].to_list() == [
        ["VIP", "likes beauty"],
        [],
        [],
        [],
        ["likes home"],
        ["VIP", "likes toys"],
    ]
    same = customer_tags(data, RuleSet(tags, mode="all"))
    assert_equal_data(same, out)


def test_family_values_with_quotes_and_spaces() -> None:
    data = pd.DataFrame({"customer_id": [1, 2, 3], "cat": ["Kid's toys", 'say "hi"', "a b"]})
    out = to_polars(customer_tags(data, [Rule("in:{cat}", "customer_id >= 2")]))
    # values sorted as text (upper case first)
    assert out.columns == ["customer_id", "in:Kid's toys", "in:a b", 'in:say "hi"', "tags"]
    assert out["tags"].to_list() == [[], ['in:say "hi"'], ["in:a b"]]


def test_user_tags_are_strict() -> None:
    with pytest.raises(RuleSyntaxError, match="unknown column 'monetry'"):
        customer_tags(features(), [Rule("vip", "monetry >= 600")])
    with pytest.raises(ConfigError, match="mode='all'"):
        customer_tags(features(), RuleSet([Rule("vip", "monetary >= 600")]))
    with pytest.raises(ConfigError, match="'tags' parameter of customer_tags"):
        customer_tags(features(), "vip")
    with pytest.raises(ConfigError, match="clash"):
        customer_tags(features(), [Rule("tags", "frequency >= 1")])
    with pytest.raises(MissingColumnsError, match="client"):
        customer_tags(features(), key="client")


def test_no_tag_applies_to_anyone_gives_empty_lists() -> None:
    out = to_polars(customer_tags(features(), [Rule("never", "frequency > 100")]))
    assert out["never"].to_list() == [False] * 6
    assert out["tags"].to_list() == [[]] * 6


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 3, 5],
            "timestamp": pd.to_datetime(
                [
                    "2024-03-01 10:00",  # product 10, launched 2024-03-01: day 0 -> new
                    "2024-06-01 10:00",  # product 11, launched 2024-01-01: old
                    "2024-03-30 18:00",  # product 10, day 29 -> new (within 30 days)
                    "2024-03-31 09:00",  # product 10, day 30 -> too late
                    "2024-02-10 09:00",  # product 12, launched 2024-02-15: bought before
                    "2024-03-05 09:00",  # product 10, day 4, but a refund (negative amount)
                ]
            ),
            "amount": [20.0, 30.0, 15.0, 12.0, 8.0, -20.0],
            "product_id": [10, 11, 10, 10, 12, 10],
        }
    )


def _launches() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product_id": [10, 11, 12],
            "launched_at": pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-15"]),
        }
    )


@pytest.mark.parametrize("engine", ["pandas-numpy", "polars-lazy", "duckdb"])
def test_new_product_tryer_from_transactions(engine: str) -> None:
    data = features()[["customer_id", "frequency"]]
    out = customer_tags(
        make_native(engine, data),
        as_of=AS_OF,
        tx=make_native(engine, _tx()),
        product_launches=make_native(engine, _launches()),
    )
    got = to_polars(out).sort("customer_id")
    # customers 1 (day 0) and 2 (day 29) bought product 10 within 30 days of its launch
    assert got["new_product_tryer"].to_list() == [True, True, False, False, False, False]
    assert got["one_time"].to_list() == [False, True, False, False, False, False]


def test_new_product_window_and_precomputed_column() -> None:
    data = features()[["customer_id"]]
    out = to_polars(
        customer_tags(
            data, as_of=AS_OF, tx=_tx(), product_launches=_launches(), new_product_days=31
        )
    ).sort("customer_id")
    # 31 days: customer 3's day-30 purchase counts too
    assert out["new_product_tryer"].to_list() == [True, True, True, False, False, False]
    # rows are customers 3, 1, 2, 4, 5, 6: customers 2 and 5 tried a new product
    given = data.assign(tried_new_product=[False, False, True, False, True, False])
    out = to_polars(customer_tags(given)).sort("customer_id")
    assert out["new_product_tryer"].to_list() == [False, True, False, False, True, False]
    with pytest.raises(ConfigError, match="already has a 'tried_new_product'"):
        customer_tags(given, as_of=AS_OF, tx=_tx(), product_launches=_launches())
    with pytest.raises(ConfigError, match="go together"):
        customer_tags(data, as_of=AS_OF, tx=_tx())
    with pytest.raises(ConfigError, match="as_of is required"):
        customer_tags(data, tx=_tx(), product_launches=_launches())
    with pytest.raises(MissingColumnsError, match="launched_at"):
        customer_tags(
            data,
            as_of=AS_OF,
            tx=_tx(),
            product_launches=_launches().rename(columns={"launched_at": "d"}),
        )
