"""Survey metrics: NPS, its comparison and trend, CSAT and CES — hand cases, edge cases,
errors and engine parity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from helpers import ENGINES, assert_equal_data, assert_same_kind, make_native, to_polars
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.metrics import ces, compare_nps, csat, net_promoter_score, nps_trend

Z95 = 1.959963984540054


def answers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "score": [10, 9, 9, 8, 7, 6, 3, 10],
            "store": ["a", "a", "a", "a", "b", "b", "b", "b"],
        }
    )


def test_nps_hand_case() -> None:
    out = net_promoter_score(answers(), ci="wald")
    # promoters 10, 9, 9, 10 = 4; passives 8, 7 = 2; detractors 6, 3 = 2; NPS = 100 (4 - 2)/8
    # Wald se = 100 sqrt((0.5 + 0.25 - 0.25²)/8) = 29.3151
    assert_equal_data(
        out,
        {
            "n": [8],
            "n_invalid": [0],
            "promoters": [4],
            "passives": [2],
            "detractors": [2],
            "promoter_share": [0.5],
            "passive_share": [0.25],
            "detractor_share": [0.25],
            "nps": [25.0],
            "se": [29.315098],
            "ci_low": [25.0 - Z95 * 29.315098],
            "ci_high": [25.0 + Z95 * 29.315098],
            "n_eff": [8.0],
        },
        rel_tol=1e-6,
    )


def test_nps_adjusted_wald_hand_case_and_by() -> None:
    out = net_promoter_score(answers(), by="store")
    # store a: 10, 9, 9, 8 -> P = 3, D = 0, NPS 75. Adjusted: n~ = 7, p+ = 3.75/7, p- = 0.75/7,
    # d~ = 3/7 = 0.428571, Var = (4.5/7 - (3/7)²)/7 = 0.065598, se = 0.256121
    # store b: 7, 6, 3, 10 -> P = 1, D = 2, NPS -25. n~ = 7, p+ = 1.75/7, p- = 2.75/7,
    # d~ = -1/7, Var = (4.5/7 - (1/7)²)/7 = 0.088921, se = 0.298196
    se_a = math.sqrt((4.5 / 7 - (3 / 7) ** 2) / 7)
    se_b = math.sqrt((4.5 / 7 - (1 / 7) ** 2) / 7)
    assert se_a == pytest.approx(0.256121, abs=1e-6)
    assert_equal_data(
        out.loc[:, ["store", "n", "promoters", "detractors", "nps", "se", "ci_low", "ci_high"]],
        {
            "store": ["a", "b"],
            "n": [4, 4],
            "promoters": [3, 1],
            "detractors": [0, 2],
            "nps": [75.0, -25.0],
            "se": [100 * se_a, 100 * se_b],
            "ci_low": [100 * (3 / 7 - Z95 * se_a), 100 * (-1 / 7 - Z95 * se_b)],
            "ci_high": [100 * min(1.0, 3 / 7 + Z95 * se_a), 100 * (-1 / 7 + Z95 * se_b)],
        },
        rel_tol=1e-9,
    )


def test_nps_by_several_columns_sorted() -> None:
    frame = answers().assign(channel=["x", "y"] * 4)
    out = net_promoter_score(frame, by=["store", "channel"])
    assert out[["store", "channel"]].values.tolist() == [
        ["a", "x"],
        ["a", "y"],
        ["b", "x"],
        ["b", "y"],
    ]
    # a/x: 10, 9 -> 100; a/y: 9, 8 -> 50; b/x: 7, 3 -> -50; b/y: 6, 10 -> 0
    assert out["nps"].tolist() == [100.0, 50.0, -50.0, 0.0]


def test_nps_no_answers_is_defined() -> None:
    out = net_promoter_score(answers().iloc[:0])
    assert out["n"].tolist() == [0] and out["promoters"].tolist() == [0]
    assert out[["nps", "se", "ci_low", "ci_high", "n_eff", "promoter_share"]].isna().all(axis=None)


@pytest.mark.parametrize("ci", ["adjusted_wald", "wald", "bootstrap"])
def test_nps_all_promoters_and_all_detractors(ci: str) -> None:
    frame = pd.DataFrame({"score": [9, 10] * 5 + [0, 6] * 5, "g": ["pro"] * 10 + ["det"] * 10})
    out = net_promoter_score(frame, by="g", ci=ci).set_index("g")
    assert out.loc["pro", "nps"] == 100.0 and out.loc["det", "nps"] == -100.0
    assert (out["ci_low"] >= -100).all() and (out["ci_high"] <= 100).all()
    assert out.loc["pro", "ci_high"] == 100.0 and out.loc["det", "ci_low"] == -100.0
    if ci == "adjusted_wald":  # n~ = 13, p+ = 10.75/13, p- = 0.75/13: d~ = 0.769231
        se = math.sqrt((11.5 / 13 - (10 / 13) ** 2) / 13)
        assert out.loc["pro", "ci_low"] == pytest.approx(100 * (10 / 13 - Z95 * se))
        assert out.loc["pro", "ci_low"] < 100.0
    else:  # no variation in the sample: a point
        assert out.loc["pro", "ci_low"] == 100.0


def test_weights_of_one_equal_no_weights() -> None:
    frame = answers().assign(w=1.0, w2=2.0)
    plain = net_promoter_score(frame, by="store")
    assert_equal_data(net_promoter_score(frame, by="store", weights="w"), plain, exact=True)
    assert_equal_data(net_promoter_score(frame, by="store", weights="w2"), plain)  # scale-free


def test_weighted_nps_and_effective_size_by_hand() -> None:
    frame = pd.DataFrame({"score": [10, 10, 5, 8], "w": [3.0, 1.0, 2.0, 2.0]})
    out = net_promoter_score(frame, weights="w", ci="wald")
    # Σw = 8: promoters 4/8 = 0.5, detractors 2/8 = 0.25, NPS 25
    # n_eff = 8² / (9 + 1 + 4 + 4) = 64/18 = 3.5556; se = 100 sqrt(0.6875 / 3.5556) = 43.9725
    assert out["nps"].iloc[0] == pytest.approx(25.0)
    assert out["promoters"].iloc[0] == 2  # counts stay answer counts
    assert out["n_eff"].iloc[0] == pytest.approx(64 / 18)
    assert out["se"].iloc[0] == pytest.approx(100 * math.sqrt(0.6875 / (64 / 18)))


def test_invalid_answers_raise_with_rows_values_and_fix() -> None:
    frame = pd.DataFrame({"score": [10, 7.5, 3, 11, None, 9]}, index=[10, 11, 12, 13, 14, 15])
    with pytest.raises(InvalidDataError, match=r"3 answers are not whole numbers 0–10") as err:
        net_promoter_score(frame)
    text = str(err.value)
    assert "'score'" in text and "rows [11, 13, 14]" in text and "invalid='drop'" in text
    out = net_promoter_score(frame, invalid="drop")
    # kept: 10, 3, 9 -> P 2, D 1: NPS 100/3
    assert out[["n", "n_invalid", "promoters", "detractors"]].values.tolist() == [[3, 3, 2, 1]]
    assert out["nps"].iloc[0] == pytest.approx(100 / 3)


def test_invalid_answers_on_a_lazy_engine_show_values() -> None:
    frame = pl.LazyFrame({"score": [10, -1, 4]})
    with pytest.raises(InvalidDataError, match=r"values \[-1\]"):
        net_promoter_score(frame)


def test_a_group_of_only_invalid_answers_keeps_its_row() -> None:
    frame = pd.DataFrame({"score": [10.0, 12.0], "g": ["ok", "bad"]})
    out = net_promoter_score(frame, by="g", invalid="drop").set_index("g")
    assert out.loc["bad", "n"] == 0 and out.loc["bad", "n_invalid"] == 1
    assert math.isnan(out.loc["bad", "nps"]) and out.loc["ok", "nps"] == 100.0


def test_nps_errors() -> None:
    with pytest.raises(MissingColumnsError, match="'scor'"):
        net_promoter_score(answers(), score_col="scor")
    with pytest.raises(InvalidDataError, match="not numbers"):
        net_promoter_score(answers(), score_col="store")
    with pytest.raises(ConfigError, match="'ci' parameter of net_promoter_score"):
        net_promoter_score(answers(), ci="exact")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'level' parameter"):
        net_promoter_score(answers(), level=95)
    with pytest.raises(InvalidDataError, match="survey weights"):
        net_promoter_score(answers().assign(w=[1.0, -1, 1, 1, 1, 1, 1, 1]), weights="w")


def test_nps_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"score": rng.integers(0, 11, 200)})
    one = net_promoter_score(frame, ci="bootstrap", random_state=7)
    assert_equal_data(net_promoter_score(frame, ci="bootstrap", random_state=7), one, exact=True)
    other = net_promoter_score(frame, ci="bootstrap", random_state=8)
    assert other["se"].iloc[0] != one["se"].iloc[0]
    wald = net_promoter_score(frame, ci="wald")
    assert one["se"].iloc[0] == pytest.approx(wald["se"].iloc[0], rel=0.1)
    assert one["ci_low"].iloc[0] < one["nps"].iloc[0] < one["ci_high"].iloc[0]


def test_input_is_not_mutated() -> None:
    frame = answers()
    before = frame.copy()
    net_promoter_score(frame, by="store")
    pd.testing.assert_frame_equal(frame, before)


def test_compare_nps_by_hand() -> None:
    a = pd.DataFrame({"score": [10, 10, 9, 9, 8, 6, 10, 9]})  # P 6, D 1 of 8: NPS 62.5
    b = pd.DataFrame({"score": [3, 6, 9, 7, 5, 10, 8, 2]})  # P 2, D 4 of 8: NPS -25
    out = compare_nps(a, b, method="wald")
    # Var_a = (0.75 + 0.125 - 0.625²)/8 = 0.0605469; Var_b = (0.25 + 0.5 - 0.25²)/8 = 0.0859375
    # se = 100 sqrt(0.1464844) = 38.2733; z = 0.875 / 0.382733 = 2.286190
    se = math.sqrt(0.0605469 + 0.0859375)
    assert out["difference"].iloc[0] == pytest.approx(87.5)
    assert out["se"].iloc[0] == pytest.approx(100 * se, rel=1e-5)
    assert out["z"].iloc[0] == pytest.approx(0.875 / se, rel=1e-5)
    assert out["p_value"].iloc[0] == pytest.approx(2 * stats.norm.sf(0.875 / se), rel=1e-5)
    assert out["ci_low"].iloc[0] == pytest.approx(100 * (0.875 - Z95 * se), rel=1e-5)
    adjusted = compare_nps(a, b)
    # adjusted: n~ = 11 each; a: (6.75 - 1.75)/11 = 0.454545, b: (2.75 - 4.75)/11 = -0.181818
    assert adjusted["difference"].iloc[0] == pytest.approx(87.5)  # the plain difference
    mid = (adjusted["ci_low"].iloc[0] + adjusted["ci_high"].iloc[0]) / 2
    assert mid == pytest.approx(100 * (5 / 11 + 2 / 11))
    assert list(adjusted.columns) == [
        "n_a", "nps_a", "n_b", "nps_b", "difference", "se", "ci_low", "ci_high", "z", "p_value",
    ]  # fmt: skip


def test_compare_nps_of_equal_samples_is_not_significant() -> None:
    a = pd.DataFrame({"score": [10, 9, 6, 7, 8, 2]})
    out = compare_nps(a, pl.DataFrame(a))
    assert out["difference"].iloc[0] == 0.0 and out["z"].iloc[0] == 0.0
    assert out["p_value"].iloc[0] == pytest.approx(1.0)


def test_nps_trend_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "answered_at": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-10", "2024-04-28"]
            ),
            "score": [10, 4, 9, 9, 7],
        }
    )
    out = nps_trend(frame, period="M")
    # January: 10, 4 -> 0; February: 9, 9 -> 100; March: none (no row); April: 7 -> 0
    assert out["period"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-01",
        "2024-02-01",
        "2024-04-01",
    ]
    assert out["n"].tolist() == [2, 2, 1] and out["nps"].tolist() == [0.0, 100.0, 0.0]
    quarterly = nps_trend(frame, period="Q")
    assert quarterly["n"].tolist() == [4, 1]  # Q1: 10, 4, 9, 9 -> 50
    assert quarterly["nps"].tolist() == [50.0, 0.0]


def test_nps_trend_needs_dates() -> None:
    frame = pd.DataFrame({"answered_at": pd.to_datetime(["2024-01-05", None]), "score": [10, 4]})
    with pytest.raises(InvalidDataError, match="1 answers have no date in column 'answered_at'"):
        nps_trend(frame)
    with pytest.raises(InvalidDataError, match="not dates"):
        nps_trend(frame.assign(answered_at=["2024-01-05", "2024-01-06"]))


def test_csat_by_hand() -> None:
    out = csat(pd.DataFrame({"score": [5, 4, 4, 3, 1]}))
    # satisfied (4-5): 3 of 5 = 0.6; Wilson 95%: [0.2307, 0.8824]
    ref = stats.binomtest(3, 5).proportion_ci(0.95, method="wilson")
    assert_equal_data(
        out,
        {
            "n": [5],
            "n_invalid": [0],
            "satisfied": [3],
            "csat": [0.6],
            "ci_low": [ref.low],
            "ci_high": [ref.high],
        },
    )
    ten = csat(pd.DataFrame({"score": [10, 9, 8, 2]}), scale=(1, 10), satisfied=(8, 10))
    assert ten["csat"].iloc[0] == 0.75  # 10, 9, 8 of 4
    with pytest.raises(InvalidDataError, match="not whole numbers 1–5"):
        csat(pd.DataFrame({"score": [5, 0]}))
    with pytest.raises(ConfigError, match="'satisfied' parameter of csat"):
        csat(pd.DataFrame({"score": [5]}), satisfied=(4, 6))


def test_ces_mean_and_top_box_by_hand() -> None:
    frame = pd.DataFrame({"score": [7, 6, 5, 7, 2]})
    mean = ces(frame, direction="higher_is_easier", method="mean")
    # mean 27/5 = 5.4; s² = (2.56 + 0.36 + 0.16 + 2.56 + 11.56)/4 = 4.3; se = sqrt(4.3/5)
    se = math.sqrt(4.3 / 5)
    q = stats.t.ppf(0.975, 4)
    assert_equal_data(
        mean,
        {
            "n": [5],
            "n_invalid": [0],
            "ces": [5.4],
            "se": [se],
            "ci_low": [5.4 - q * se],
            "ci_high": [5.4 + q * se],
        },
    )
    top = ces(frame, direction="higher_is_easier", method="top_box")
    assert top["ces"].iloc[0] == pytest.approx(0.6)  # 7, 6, 7 in the top boxes 6-7
    low = ces(frame, direction="lower_is_easier", method="top_box")
    assert low["ces"].iloc[0] == pytest.approx(0.2)  # only 2 in the easy boxes 1-2
    custom = ces(frame, direction="higher_is_easier", method="top_box", easy=(5, 7))
    assert custom["ces"].iloc[0] == pytest.approx(0.8)
    one = ces(frame.iloc[:1], direction="higher_is_easier", method="mean")
    assert one["ces"].iloc[0] == 7.0 and math.isnan(one["se"].iloc[0])


def test_ces_direction_and_method_are_required() -> None:
    frame = pd.DataFrame({"score": [7]})
    with pytest.raises(TypeError):
        ces(frame)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="'direction' parameter of ces"):
        ces(frame, direction="up", method="mean")  # type: ignore[arg-type]


def _parity_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "score": [10, 9, 2, 7, 8, 10, 6, 0, 9, 5, 3, 10],
            "store": ["a", "a", "a", "b", "b", "b", "c", "c", "c", None, None, None],
            "w": [1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 2.0, 1.0],
        }
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_net_promoter_score_engine_parity(engine: str) -> None:
    reference = _parity_frame()
    native = make_native(engine, reference)
    got = net_promoter_score(native, by="store", weights="w")
    assert_same_kind(got, native)
    expected = to_polars(net_promoter_score(pl.from_pandas(reference), by="store", weights="w"))
    assert expected["store"].to_list() == ["a", "b", "c", None]
    # store a: 10 (w1), 9 (w2), 2 (w1): promoters 3/4, detractors 1/4: NPS 50
    assert expected["nps"][0] == pytest.approx(50.0)
    assert_equal_data(got, expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_csat_engine_parity(engine: str) -> None:
    reference = _parity_frame().assign(score=lambda d: d["score"] // 2)  # 0..5
    native = make_native(engine, reference)
    got = csat(native, scale=(0, 5), by="store")
    assert_same_kind(got, native)
    # a: 5, 4, 1 -> 2/3; b: 3, 4, 5 -> 2/3; c: 3, 0, 4 -> 1/3; null: 2, 1, 5 -> 1/3
    assert_equal_data(
        to_polars(got).select("store", "n", "satisfied"),
        {"store": ["a", "b", "c", None], "n": [3, 3, 3, 3], "satisfied": [2, 2, 1, 1]},
    )
    assert_equal_data(got, to_polars(csat(pl.from_pandas(reference), scale=(0, 5), by="store")))


@settings(max_examples=25)
@given(
    scores=st.lists(st.integers(0, 10), min_size=0, max_size=40),
    ci=st.sampled_from(["adjusted_wald", "wald", "bootstrap"]),
)
def test_nps_stays_on_its_scale_and_ignores_row_order(scores: list[int], ci: str) -> None:
    frame = pd.DataFrame({"score": scores}, dtype="int64")
    out = net_promoter_score(frame, ci=ci, n_boot=200)
    shuffled = net_promoter_score(frame.iloc[::-1], ci=ci, n_boot=200)
    assert_equal_data(shuffled, out)
    row = out.iloc[0]
    assert row["n"] == len(scores)
    assert row["promoters"] + row["passives"] + row["detractors"] == len(scores)
    if scores:
        assert -100 <= row["ci_low"] <= row["ci_high"] <= 100
        assert -100 <= row["nps"] <= 100
        expected = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
        assert row["nps"] == pytest.approx(expected)
    else:
        assert math.isnan(row["nps"])
