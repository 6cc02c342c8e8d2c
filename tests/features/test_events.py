"""Behaviour features from events: hand-computed cases on every engine, and invariants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import assert_same_kind, make_native, to_polars
from retailcrm import TransactionSchema, customer_features
from retailcrm.data import EventSchema
from retailcrm.exceptions import ConfigError, InvalidDataError

AS_OF = "2024-03-31"
EVENT_COLUMNS = [
    "views_7d",
    "views_30d",
    "carts_7d",
    "carts_30d",
    "favourites_7d",
    "favourites_30d",
    "days_since_last_view",
    "viewed_not_bought_3d",
]


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "bob", "cy", "dee"],
            "timestamp": pd.to_datetime(
                [
                    "2024-03-01 10:00",
                    "2024-03-29 12:00",
                    "2024-03-10 09:00",
                    "2024-03-30 18:00",
                    "2024-03-30 08:00",
                ]
            ),
            "amount": [10.0, 20.0, 5.0, 7.0, -3.0],
            "product_id": [1, 2, 3, 4, 6],
            "category": ["shoes", "bags", "hats", "shoes", "bags"],
        }
    )


def _events() -> pd.DataFrame:
    rows = [
        # ann: viewed 2 on the 28th, bought it on the 29th; viewed 5 on the 30th, not bought
        ("ann", "2024-03-28 09:00", "view", 2),
        ("ann", "2024-03-29 11:00", "cart", 2),
        ("ann", "2024-03-30 09:00", "view", 5),
        ("ann", "2024-02-20 09:00", "view", 9),  # inside 30 days? no: 40 days before as_of
        ("ann", "2024-03-02 09:00", "favourite", 1),  # 30-day window starts on 2 March
        # bob: bought 3 on the 10th, viewed it again on the 30th (after buying): not bought since
        ("bob", "2024-03-05", "favourite", 3),
        ("bob", "2024-03-30 08:00", "view", 3),
        ("bob", "2024-03-30 08:01", "search", None),
        # cy: viewed 4 on the 29th, bought it on the 30th; a view after as_of is ignored
        ("cy", "2024-03-29 20:00", "view", 4),
        ("cy", "2024-04-02 10:00", "view", 8),
        # dee: only a refund of 6 (no purchase); viewed 6 on the 31st
        ("dee", "2024-03-31 23:00", "view", 6),
        # zed: events only, neither a buyer nor a registered customer: no row
        ("zed", "2024-03-30 10:00", "view", 1),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "event_type", "product_id"])
    frame["product_id"] = frame["product_id"].astype("Int64")
    return frame


EXPECTED = {
    #        views 7/30  carts 7/30  favs 7/30  since  not bought
    "ann": (2, 2, 1, 1, 0, 1, 1, True),
    "bob": (1, 1, 0, 0, 0, 1, 1, True),
    "cy": (1, 1, 0, 0, 0, 0, 2, False),
    "dee": (1, 1, 0, 0, 0, 0, 0, True),
}


def _rows(frame: pl.DataFrame) -> dict[str, tuple[Any, ...]]:
    frame = frame.sort("customer_id")
    return {
        row[0]: tuple(row[1:]) for row in frame.select("customer_id", *EVENT_COLUMNS).iter_rows()
    }


def test_hand_computed_case_on_every_engine(engine: str) -> None:
    native = make_native(engine, _tx())
    events = _events()
    if engine == "pandas-numpy":
        events = events.astype({"product_id": "float64"})  # numpy pandas: NaN for a search
    out = customer_features(
        native, as_of=AS_OF, windows=(7, 30), events=make_native(engine, events)
    )
    assert_same_kind(out, native)
    got = to_polars(out)
    assert _rows(got) == EXPECTED
    assert got.columns[-len(EVENT_COLUMNS) :] == EVENT_COLUMNS  # after the purchase features


def test_registered_customers_without_events_and_column_order() -> None:
    customers = pd.DataFrame(
        {"customer_id": ["ann", "eve"], "registered_at": ["2024-01-01", "2024-02-01"]}
    )
    events = pd.concat(
        [
            _events(),
            pd.DataFrame(
                {
                    "customer_id": ["eve"],
                    "timestamp": ["2024-03-31 08:00"],
                    "event_type": ["view"],
                    "product_id": [7],
                }
            ),
        ]
    )
    out = customer_features(
        _tx(), as_of=AS_OF, windows=(7, 30), customers=customers, events=events
    ).set_index("customer_id")
    assert out.loc["eve", "views_7d"] == 1 and bool(out.loc["eve", "viewed_not_bought_3d"])
    assert out.loc["eve", "frequency"] == 0  # registered, never bought, browses
    assert "zed" not in out.index
    cols = list(out.columns)
    assert cols.index("viewed_not_bought_3d") < cols.index("registered_at")
    no_events = customer_features(
        _tx(), as_of=AS_OF, windows=(7,), customers=customers, events=_events().iloc[0:0]
    ).set_index("customer_id")
    assert (no_events["views_7d"] == 0).all()
    assert not no_events["viewed_not_bought_3d"].any()
    assert no_events["days_since_last_view"].isna().all()


def test_category_is_the_item_without_product_ids(engine: str) -> None:
    tx = _tx().drop(columns="product_id")
    events = pd.DataFrame(
        {
            "customer_id": ["ann", "ann", "bob"],
            "timestamp": pd.to_datetime(
                ["2024-03-29 09:00", "2024-03-30 09:00", "2024-03-30 00:00"]
            ),
            "event_type": ["view", "view", "view"],
            "category": ["bags", "shoes", "hats"],
        }
    )
    out = customer_features(
        make_native(engine, tx), as_of=AS_OF, windows=(7,), events=make_native(engine, events)
    )
    got = to_polars(out).sort("customer_id")
    # ann: bags viewed on the 29th and bought that day; shoes viewed on the 30th, last bought
    # on 1 March. bob bought hats on the 10th, before viewing them again on the 30th.
    assert got["viewed_not_bought_3d"].to_list() == [True, True, False, False]


def test_any_purchase_counts_without_products_or_categories() -> None:
    tx = _tx().drop(columns=["product_id", "category"])
    events = _events().drop(columns="product_id")
    out = customer_features(tx, as_of=AS_OF, windows=(7,), events=events).set_index("customer_id")
    assert out["viewed_not_bought_3d"].to_dict() == {
        "ann": True,  # views on the 30th; last purchase on the 29th
        "bob": True,
        "cy": False,  # viewed on the 29th, bought on the 30th
        "dee": True,  # a refund is not a purchase
    }


def test_datetime_as_of_cuts_events_at_the_instant(engine: str) -> None:
    out = customer_features(
        make_native(engine, _tx()),
        as_of="2024-03-30T08:30:00",
        windows=(7,),
        events=make_native(engine, _events()),
    )
    got = to_polars(out).sort("customer_id")
    # cy's only line (18:00 on the 30th) is after the instant: cy is not a row. ann's 09:00
    # view on the 30th is after it too; bob's 08:00 view is before; dee's view is on the 31st.
    assert got["customer_id"].to_list() == ["ann", "bob", "dee"]
    assert got["views_7d"].to_list() == [1, 1, 0]
    assert got["days_since_last_view"].to_list() == [2, 0, None]


def test_events_follow_the_transactions_zone() -> None:
    tx = _tx()
    events = pd.DataFrame(
        {
            "customer_id": ["ann"],
            "timestamp": ["2024-03-31T20:00:00+00:00"],  # 1 April 04:00 in Shanghai
            "event_type": ["view"],
            "product_id": [5],
        }
    )
    plain = customer_features(tx, as_of=AS_OF, windows=(7,), events=events)
    assert plain.set_index("customer_id").loc["ann", "views_7d"] == 1
    shanghai = customer_features(
        tx,
        as_of=AS_OF,
        windows=(7,),
        events=events,
        schema=TransactionSchema(timezone="Asia/Shanghai"),
    )
    assert shanghai.set_index("customer_id").loc["ann", "views_7d"] == 0
    own = customer_features(
        tx,
        as_of=AS_OF,
        windows=(7,),
        events=events,
        schema=TransactionSchema(timezone="Asia/Shanghai"),
        event_schema=EventSchema(timezone="UTC"),
    )
    assert own.set_index("customer_id").loc["ann", "views_7d"] == 1


def test_event_errors_stop_customer_features(engine: str) -> None:
    events = _events()
    events.loc[3, "event_type"] = "veiw"
    events.loc[4, "customer_id"] = " "
    with pytest.raises(InvalidDataError, match=r"invalid events: 2 problems") as info:
        customer_features(
            make_native(engine, _tx()), as_of=AS_OF, events=make_native(engine, events)
        )
    codes = [p.code for p in info.value.problems]  # type: ignore[attr-defined]
    assert codes == ["customer_id_blank", "event_type_unknown"]


def test_event_ids_of_another_type_are_refused() -> None:
    events = _events().assign(customer_id=range(len(_events())))
    with pytest.raises(ConfigError, match=r"events: customer_id is Int64 but the transactions'"):
        customer_features(_tx(), as_of=AS_OF, events=events)
    with pytest.raises(ConfigError, match=r"event_schema must be an EventSchema"):
        customer_features(_tx(), as_of=AS_OF, events=_events(), event_schema={"a": 1})


# ---- invariants -----------------------------------------------------------------------------

IDS = ["a", "b", "c", "d", "e", "f"]
DAYS = [dt.datetime(2024, 3, 1) + dt.timedelta(days=d, hours=h) for d in range(40) for h in (9, 21)]

lines = st.lists(
    st.tuples(
        st.sampled_from(IDS[:4]),
        st.sampled_from(DAYS),
        st.sampled_from([-5.0, 5.0, 12.5]),
        st.integers(1, 4),
    ),
    min_size=1,
    max_size=12,
)
event_rows = st.lists(
    st.tuples(
        st.sampled_from(IDS),
        st.sampled_from(DAYS),
        st.sampled_from(["view", "cart", "favourite", "search"]),
        st.integers(1, 4),
    ),
    max_size=15,
)
profiles = st.lists(st.sampled_from(IDS), unique=True, max_size=4)


@given(
    lines=lines,
    event_rows=event_rows,
    profiles=profiles,
    flavour=st.sampled_from(["pandas", "polars"]),
)
def test_inputs_untouched_and_every_customer_once(
    lines: list[tuple[Any, ...]],
    event_rows: list[tuple[Any, ...]],
    profiles: list[str],
    flavour: str,
) -> None:
    tx = pd.DataFrame(lines, columns=["customer_id", "timestamp", "amount", "product_id"])
    events = pd.DataFrame(
        event_rows, columns=["customer_id", "timestamp", "event_type", "product_id"]
    ).astype({"timestamp": "datetime64[us]", "product_id": "int64"})
    customers = pd.DataFrame(
        {"customer_id": profiles, "registered_at": ["2024-02-15"] * len(profiles)}
    ).astype({"customer_id": "str"})
    frames = (tx, events, customers)
    before = [f.copy(deep=True) for f in frames]
    if flavour == "polars":
        natives = [pl.from_pandas(f) for f in frames]
        clones = [f.clone() for f in natives]
    else:
        natives, clones = list(frames), []
    as_of = "2024-03-25"
    out = to_polars(
        customer_features(
            natives[0],
            as_of=as_of,
            windows=(7, 30),
            events=natives[1],
            customers=natives[2],
            duplicates="keep",
        )
    )
    for frame, copy in zip(frames, before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)
    for frame, clone in zip(natives if clones else [], clones, strict=False):
        assert frame.equals(clone)
    buyers = set(tx.loc[tx["timestamp"] <= pd.Timestamp("2024-03-25 23:59:59"), "customer_id"])
    expected = sorted(buyers | set(profiles))
    assert out["customer_id"].to_list() == expected  # each exactly once, sorted
    assert out["views_30d"].min() is None or out["views_30d"].min() >= 0
    views = events[(events["event_type"] == "view") & (events["timestamp"] < "2024-03-26")]
    for cid, n in zip(out["customer_id"], out["views_30d"], strict=True):
        window = views[(views["customer_id"] == cid) & (views["timestamp"] >= "2024-02-25")]
        assert n == len(window)
    assert (out["views_7d"] <= out["views_30d"]).all()
    assert out["viewed_not_bought_3d"].null_count() == 0
