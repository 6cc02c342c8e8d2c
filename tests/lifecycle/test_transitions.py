"""Transition matrices, flows and rates: hand examples, reconciliation, errors, engines."""

from __future__ import annotations

import itertools
import math

import pandas as pd
import polars as pl
import pytest

from helpers import LOCAL_ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.data import sample_data
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.lifecycle import (
    STAGES,
    churn_rate,
    reactivation_rate,
    rechurn_rate,
    stage_flows,
    stage_history,
    transition_matrix,
)

JAN, FEB, MAR = "2024-01-31", "2024-02-29", "2024-03-31"


def history() -> pd.DataFrame:
    rows = [
        # customer, January, February, March (None: not a row at that date)
        (1, "active", "active", "dormant"),
        (2, "active", "dormant", "churned"),
        (3, "dormant", "reactivated", "dormant"),
        (4, "churned", "churned", "reactivated"),
        (5, None, "new", "active"),
        (6, "reactivated", "active", None),  # gone in March (e.g. deleted)
        (7, "dormant", "dormant", "churned"),
        (8, "prospect", "prospect", "new"),
    ]
    out = []
    for cid, *labels in rows:
        for date, stage in zip((JAN, FEB, MAR), labels, strict=True):
            if stage is not None:
                out.append((cid, pd.Timestamp(date), stage))
    frame = pd.DataFrame(out, columns=["customer_id", "date", "stage"])
    return frame.assign(rule_id=frame["stage"])


def test_counts_by_hand() -> None:
    m = transition_matrix(history(), from_date=JAN, to_date=FEB, order=STAGES)
    assert m.columns.tolist() == ["from", "statistic", *STAGES, "exited", "total"]
    assert m["from"].tolist() == [*STAGES, "entered"]
    labels = ["prospect", "churned", "dormant", "reactivated", "new", "active"]
    m = m.set_index("from")
    assert (m["statistic"] == "customers").all()
    # January -> February, by hand from the table above
    assert m.loc["active", labels].tolist() == [0, 0, 1, 0, 0, 1]  # 1 stays, 2 lapses
    assert m.loc["dormant", labels].tolist() == [0, 0, 1, 1, 0, 0]  # 7 stays, 3 comes back
    assert m.loc["reactivated", labels].tolist() == [0, 0, 0, 0, 0, 1]
    assert m.loc["entered", labels].tolist() == [0, 0, 0, 0, 1, 0]  # 5 enters as new
    assert m["exited"].sum() == 0
    # February -> March: customer 6 exits
    m2 = transition_matrix(history(), from_date=FEB, to_date=MAR).set_index("from")
    assert m2.loc["active", "exited"] == 1 and m2["exited"].sum() == 1


@pytest.mark.parametrize(("start", "end"), [(JAN, FEB), (FEB, MAR), (JAN, MAR)])
def test_totals_reconcile_with_the_stage_counts_at_both_dates(start: str, end: str) -> None:
    h = history()
    m = transition_matrix(h, from_date=start, to_date=end)
    labels = [c for c in m.columns if c not in ("from", "statistic", "exited", "total")]
    at_start = h[h["date"] == start]["stage"].value_counts()
    at_end = h[h["date"] == end]["stage"].value_counts()
    rows = m.set_index("from")
    for label in labels:
        assert rows.loc[label, "total"] == at_start.get(label, 0)
        assert rows[label].sum() == at_end.get(label, 0)
    assert rows.loc["entered", "total"] == len(
        set(h[h["date"] == end]["customer_id"]) - set(h[h["date"] == start]["customer_id"])
    )
    assert rows["exited"].sum() == len(
        set(h[h["date"] == start]["customer_id"]) - set(h[h["date"] == end]["customer_id"])
    )


def test_reconciles_on_a_stage_history_of_sample_data() -> None:
    s = sample_data(300, seed=7)
    dates = ["2024-03-31", "2024-06-30", "2024-09-30"]
    h = stage_history(s.transactions, dates=dates, customers=s.customers)
    for start, end in itertools.pairwise(dates):
        m = transition_matrix(h, from_date=start, to_date=end, order=STAGES).set_index("from")
        counts = {d: h[h["date"] == d]["stage"].value_counts() for d in (start, end)}
        for stage in STAGES:
            assert m.loc[stage, "total"] == counts[start].get(stage, 0)
            assert m[stage].sum() == counts[end].get(stage, 0)
        assert m["exited"].sum() == 0  # a customer never leaves a stage history
        # time only moves forward: a lapsed customer is never "new" or a prospect again
        assert m.loc[["dormant", "churned"], ["new", "prospect"]].to_numpy().sum() == 0


def test_row_shares_with_wilson_intervals() -> None:
    m = transition_matrix(history(), from_date=JAN, to_date=FEB, normalize=True, order=STAGES)
    share = m[m["statistic"] == "share"].set_index("from")
    labels = [c for c in m.columns if c not in ("from", "statistic", "total")]
    for _, row in share.iterrows():
        if row["total"] > 0:
            assert math.isclose(row[labels].sum(), 1.0)
    assert share.loc["active", "dormant"] == 0.5
    # Wilson 95 %, k = 1, n = 2: z = 1.959964, p = 0.5, denominator 1 + z^2/2 = 2.920729,
    # centre (0.5 + z^2/4) / 2.920729 = 0.5, half-width z / 2.920729 * sqrt(0.25/2 + z^2/16)
    # = 0.671052 * 0.604228 = 0.405468 -> [0.094532, 0.905468]
    rows = m[m["from"] == "active"].set_index("statistic")
    assert rows.loc["low", "dormant"] == pytest.approx(0.094532, abs=1e-6)
    assert rows.loc["high", "dormant"] == pytest.approx(0.905468, abs=1e-6)
    # k = 0, n = 2: [0, z^2/(n + z^2)] = [0, 3.841459 / 5.841459 = 0.657620]
    assert rows.loc["low", "new"] == 0.0
    assert rows.loc["high", "new"] == pytest.approx(0.657620, abs=1e-6)
    # a 90 % interval is narrower
    narrow = transition_matrix(history(), from_date=JAN, to_date=FEB, normalize=True, level=0.9)
    nrows = narrow[narrow["from"] == "active"].set_index("statistic")
    assert nrows.loc["high", "dormant"] < rows.loc["high", "dormant"]
    # an empty row has no shares
    empty = m[(m["from"] == "new") & (m["statistic"] == "share")]
    assert empty["total"].iloc[0] == 0 and empty["active"].isna().all()


def test_any_label_column() -> None:
    h = history().assign(
        segment=lambda d: d["stage"].map(
            lambda s: "lapsed" if s in ("dormant", "churned") else "live"
        )
    )
    m = transition_matrix(h, from_date=JAN, to_date=MAR, label="segment").set_index("from")
    # January live: 1, 2, 6, 8 -> March 1 lapsed, 2 lapsed, 6 gone, 8 live
    assert m.loc["live", ["lapsed", "live", "exited"]].tolist() == [2, 1, 1]
    # January lapsed: 3, 4, 7 -> 3 lapsed, 4 live, 7 lapsed
    assert m.loc["lapsed", ["lapsed", "live", "exited"]].tolist() == [2, 1, 0]


def test_errors() -> None:
    h = history()
    with pytest.raises(ConfigError, match=r"from_date .* must be before to_date"):
        transition_matrix(h, from_date=FEB, to_date=JAN)
    with pytest.raises(MissingColumnsError, match="segment"):
        transition_matrix(h, from_date=JAN, to_date=FEB, label="segment")
    with pytest.raises(InvalidDataError, match="more than one row at one date"):
        transition_matrix(pd.concat([h, h.head(1)]), from_date=JAN, to_date=FEB)
    with pytest.raises(InvalidDataError, match="missing"):
        transition_matrix(
            h.assign(stage=h["stage"].where(h["customer_id"] != 2)), from_date=JAN, to_date=FEB
        )
    with pytest.raises(ConfigError, match="reserved"):
        transition_matrix(h.replace({"stage": {"new": "total"}}), from_date=JAN, to_date=FEB)
    with pytest.raises(ConfigError, match="'level' parameter"):
        transition_matrix(h, from_date=JAN, to_date=FEB, level=1.5)
    with pytest.raises(ConfigError, match="'normalize' parameter"):
        transition_matrix(h, from_date=JAN, to_date=FEB, normalize="yes")  # type: ignore[arg-type]


def test_flows_by_hand_and_reconciled() -> None:
    flows = stage_flows(history())
    assert flows.columns.tolist() == ["date", "from", "to", "customers"]
    feb = flows[flows["date"] == FEB].set_index(["from", "to"])["customers"]
    assert feb.to_dict() == {
        ("active", "active"): 1,
        ("active", "dormant"): 1,
        ("churned", "churned"): 1,
        ("dormant", "dormant"): 1,
        ("dormant", "reactivated"): 1,
        ("entered", "new"): 1,
        ("prospect", "prospect"): 1,
        ("reactivated", "active"): 1,
    }
    mar = flows[flows["date"] == MAR]
    assert mar[mar["to"] == "exited"]["customers"].sum() == 1
    # every date's arrivals are that date's stage counts
    h = history()
    for date in (FEB, MAR):
        arrived = (
            flows[(flows["date"] == date) & (flows["to"] != "exited")]
            .groupby("to")["customers"]
            .sum()
        )
        assert arrived.to_dict() == h[h["date"] == date]["stage"].value_counts().to_dict()
    one = stage_flows(history()[history()["date"] == JAN])
    assert one.empty and one.columns.tolist() == ["date", "from", "to", "customers"]


def test_rates_by_hand() -> None:
    h = history()
    # churn, January -> March: counted 1, 2, 3, 6?, 7 (not prospect 8, not churned 4); 6 is
    # gone in March -> not counted: 1, 2, 3, 7 -> churned in March: 2, 7 -> 2 / 4
    c = churn_rate(h, from_date=JAN, to_date=MAR)
    assert c[["customers", "moved", "rate"]].iloc[0].tolist() == [4, 2, 0.5]
    assert c.columns.tolist() == [
        "from_date",
        "to_date",
        "customers",
        "moved",
        "rate",
        "rate_low",
        "rate_high",
    ]
    # reactivation, January -> February: lapsed 3, 4, 7 -> back: 3 -> 1 / 3
    r = reactivation_rate(h, from_date=JAN, to_date=FEB)
    assert r[["customers", "moved"]].iloc[0].tolist() == [3, 1]
    assert r["rate"].iloc[0] == pytest.approx(1 / 3)
    # re-churn, February -> March: reactivated 3 -> dormant -> 1 / 1
    rr = rechurn_rate(h, from_date=FEB, to_date=MAR)
    assert rr[["customers", "moved", "rate"]].iloc[0].tolist() == [1, 1, 1.0]
    # Wilson, k = n = 1: [1 / (1 + z^2) = 1 / 4.841459 = 0.206549, 1]
    assert rr["rate_low"].iloc[0] == pytest.approx(0.206549, abs=1e-6)
    assert rr["rate_high"].iloc[0] == 1.0
    # nobody counted: missing rate
    none = rechurn_rate(h[h["stage"] != "reactivated"], from_date=JAN, to_date=FEB)
    assert none["customers"].iloc[0] == 0 and pd.isna(none["rate"].iloc[0])
    # a date that is not in the history is an error, not an empty period
    with pytest.raises(
        ConfigError, match=r"no rows at 2024-02-28\. Its dates: 2024-01-31, 2024-02-29, 2024-03-31"
    ):
        rechurn_rate(h, from_date=JAN, to_date="2024-02-28")


# Spark: the parity catalogue (tests/test_parity.py) runs this function there.
@pytest.mark.parametrize("engine", LOCAL_ENGINES)
def test_engine_parity(engine: str) -> None:
    native = make_native(engine, history())
    m = transition_matrix(native, from_date=JAN, to_date=MAR)
    assert_same_kind(m, native)
    assert_equal_data(m, transition_matrix(history(), from_date=JAN, to_date=MAR))
    flows = stage_flows(native)
    assert_equal_data(flows, stage_flows(history()))
    rate = churn_rate(native, from_date=JAN, to_date=MAR)
    assert_equal_data(rate, churn_rate(history(), from_date=JAN, to_date=MAR))
    assert to_polars(m).filter(pl.col("from") == "entered")["total"].item() == 1
