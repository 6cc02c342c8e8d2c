"""Programme impact: compare_groups, compare_periods and difference_in_differences."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats

from helpers import assert_equal_data, to_polars
from retailcrm.exceptions import ConfigError, InvalidDataError, MissingColumnsError
from retailcrm.metrics import compare_groups, compare_periods, difference_in_differences

Z95 = 1.959963984540054
COLUMNS = [
    "metric", "n_treated", "n_control", "treated", "control", "difference", "relative_lift",
    "se", "ci_low", "ci_high", "statistic", "p_value", "method",
]  # fmt: skip


def test_rate_from_counts_by_hand() -> None:
    out = compare_groups("repurchase", (42, 100), (35, 100))
    # d = 0.07, lift 0.07/0.35 = 0.2; unpooled se = sqrt(.42*.58/100 + .35*.65/100) = 0.068637
    # pooled p = 0.385: z = 0.07 / sqrt(.385*.615*.02) = 1.017220, p = 0.30905
    se = math.sqrt(0.42 * 0.58 / 100 + 0.35 * 0.65 / 100)
    z = 0.07 / math.sqrt(0.385 * 0.615 * 0.02)
    assert list(out.columns) == COLUMNS
    assert_equal_data(
        out,
        {
            "metric": ["repurchase"],
            "n_treated": [100],
            "n_control": [100],
            "treated": [0.42],
            "control": [0.35],
            "difference": [0.07],
            "relative_lift": [0.2],
            "se": [se],
            "ci_low": [0.07 - Z95 * se],
            "ci_high": [0.07 + Z95 * se],
            "statistic": [z],
            "p_value": [2 * stats.norm.sf(z)],
            "method": ["z"],
        },
    )


def test_rate_input_forms_agree() -> None:
    treated = np.r_[np.ones(42), np.zeros(58)]
    control = np.r_[np.ones(35), np.zeros(65)]
    counts = compare_groups("r", (42, 100), (35, 100))
    arrays = compare_groups("r", treated, control)
    series = compare_groups("r", pd.Series(treated.astype(bool)), pl.Series(control))
    frames = compare_groups(
        "r", pd.DataFrame({"r": treated}), pl.DataFrame({"r": control, "other": 1})
    )
    for other in (arrays, series, frames):
        assert_equal_data(other, counts)


def test_frames_give_the_first_frames_kind_and_ignore_missing_values() -> None:
    treated = pl.LazyFrame({"r": [1.0, 0.0, None, 1.0]})  # 2 of 3 observed
    out = compare_groups("r", treated, (1, 3))
    assert isinstance(out, pl.LazyFrame)
    got = out.collect()
    assert got["n_treated"].to_list() == [3] and got["treated"][0] == pytest.approx(2 / 3)
    con = duckdb.connect()
    relation = con.from_arrow(pl.DataFrame({"r": [1, 0, 0, 1, 1]}).to_arrow())
    ddb = compare_groups("r", relation, (1, 5))
    assert type(ddb).__module__.startswith("duckdb")
    assert to_polars(ddb)["difference"][0] == pytest.approx(0.4)  # 3/5 - 1/5


def test_means_welch_matches_scipy() -> None:
    treated = [12.0, 15.0, 11.0, 19.0, 14.0, 13.0]
    control = [9.0, 10.0, 14.0, 8.0, 11.0]
    out = compare_groups("spend", treated, control, kind="mean")
    ref = stats.ttest_ind(treated, control, equal_var=False)
    ci = ref.confidence_interval(0.95)
    # means 14 and 10.4: d = 3.6, lift 3.6/10.4
    row = out.iloc[0]
    assert row["difference"] == pytest.approx(3.6)
    assert row["relative_lift"] == pytest.approx(3.6 / 10.4)
    assert row["statistic"] == pytest.approx(ref.statistic)
    assert row["p_value"] == pytest.approx(ref.pvalue)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert row["method"] == "welch"
    frames = compare_groups(
        "spend", pd.DataFrame({"spend": treated}), pd.DataFrame({"spend": control}), kind="mean"
    )
    assert_equal_data(frames, out)


def test_bootstrap_is_seeded_for_rates_and_means() -> None:
    one = compare_groups("r", (42, 100), (35, 100), method="bootstrap", random_state=3)
    two = compare_groups("r", (42, 100), (35, 100), method="bootstrap", random_state=3)
    assert_equal_data(one, two, exact=True)
    assert one["ci_low"].iloc[0] < 0.07 < one["ci_high"].iloc[0]
    assert one["statistic"].isna().all() and one["method"].iloc[0] == "bootstrap"
    rng = np.random.default_rng(0)
    a, b = rng.normal(10, 2, 80), rng.normal(9, 2, 70)
    boot = compare_groups("x", a, b, kind="mean", method="bootstrap")
    welch = compare_groups("x", a, b, kind="mean")
    assert boot["difference"].iloc[0] == pytest.approx(welch["difference"].iloc[0])
    assert boot["ci_low"].iloc[0] == pytest.approx(welch["ci_low"].iloc[0], abs=0.15)
    frames = compare_groups(
        "x", pl.DataFrame({"x": a}), pl.DataFrame({"x": b}), kind="mean", method="bootstrap"
    )
    assert_equal_data(frames, boot)


def test_relative_lift_is_missing_when_control_is_zero() -> None:
    out = compare_groups("r", (5, 50), (0, 50))
    assert out["difference"].iloc[0] == pytest.approx(0.1)
    assert out["relative_lift"].isna().all()


def test_compare_periods_by_hand() -> None:
    out = compare_periods("repurchase", (30, 200), (84, 200))
    # 15% -> 42%: d = 0.27, lift 0.27/0.15 = 1.8; se = sqrt(.42*.58/200 + .15*.85/200)
    se = math.sqrt(0.42 * 0.58 / 200 + 0.15 * 0.85 / 200)
    assert list(out.columns[:5]) == ["metric", "n_after", "n_before", "after", "before"]
    row = out.iloc[0]
    assert (row["before"], row["after"]) == (0.15, 0.42)
    assert row["difference"] == pytest.approx(0.27)
    assert row["relative_lift"] == pytest.approx(1.8)
    assert row["ci_low"] == pytest.approx(0.27 - Z95 * se)
    # pooled p = 114/400 = 0.285: z = 0.27 / sqrt(.285*.715*.01) = 5.98115
    z = 0.27 / math.sqrt(0.285 * 0.715 * 0.01)
    assert row["statistic"] == pytest.approx(z)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(z))


def test_difference_in_differences_by_hand() -> None:
    out = difference_in_differences("r", (30, 200), (84, 200), (32, 200), (40, 200))
    # treated 0.15 -> 0.42 (+0.27), control 0.16 -> 0.20 (+0.04): DiD 0.23
    # Var = (.15*.85 + .42*.58 + .16*.84 + .2*.8)/200 = 0.0033275
    se = math.sqrt(0.0033275)
    row = out.iloc[0]
    assert row["treated_change"] == pytest.approx(0.27)
    assert row["control_change"] == pytest.approx(0.04)
    assert row["did"] == pytest.approx(0.23)
    assert row["se"] == pytest.approx(se)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.23 - Z95 * se, 0.23 + Z95 * se))
    assert row["statistic"] == pytest.approx(0.23 / se)
    boot = difference_in_differences(
        "r", (30, 200), (84, 200), (32, 200), (40, 200), method="bootstrap"
    ).iloc[0]
    assert boot["did"] == pytest.approx(0.23)
    assert boot["ci_low"] == pytest.approx(row["ci_low"], abs=0.02)
    assert boot["ci_high"] == pytest.approx(row["ci_high"], abs=0.02)


def test_difference_in_differences_of_means() -> None:
    tb, ta = [10.0, 12.0, 11.0], [15.0, 17.0, 16.0]
    cb, ca = [9.0, 11.0, 10.0], [10.0, 12.0, 11.0]
    out = difference_in_differences("spend", tb, ta, cb, ca, kind="mean").iloc[0]
    # changes +5 and +1: DiD 4; each cell has s² = 1 and n = 3: se = sqrt(4/3)
    assert out["did"] == pytest.approx(4.0)
    assert out["se"] == pytest.approx(math.sqrt(4 / 3))
    boot = difference_in_differences("spend", tb, ta, cb, ca, kind="mean", method="bootstrap")
    assert boot["did"].iloc[0] == pytest.approx(4.0)


def test_impact_errors() -> None:
    with pytest.raises(InvalidDataError, match="neither 0 nor 1"):
        compare_groups("r", pd.DataFrame({"r": [0, 2]}), (1, 2))
    with pytest.raises(InvalidDataError, match="other than 0 and 1"):
        compare_groups("r", [0.0, 0.5], (1, 2))
    with pytest.raises(ConfigError, match="'method' parameter of compare_groups"):
        compare_groups("r", (1, 2), (1, 2), method="welch")
    with pytest.raises(ConfigError, match=r"\(successes, n\) tuple"):
        compare_groups("r", (3, 2), (1, 2))
    with pytest.raises(ConfigError, match="kind='mean'"):
        compare_groups("x", (1, 2), (1, 2), kind="mean")
    with pytest.raises(InvalidDataError, match="control: no observations"):
        compare_groups("r", (1, 2), [])
    with pytest.raises(InvalidDataError, match="at least two"):
        compare_groups("x", [1.0, 2.0], [3.0], kind="mean")
    with pytest.raises(MissingColumnsError, match="'r'"):
        compare_groups("r", pd.DataFrame({"x": [1]}), (1, 2))
    with pytest.raises(ConfigError, match="'method' parameter of difference_in_differences"):
        difference_in_differences("x", [1.0, 2], [1.0, 2], [1.0, 2], [1.0, 2], kind="mean",
                                  method="welch")  # type: ignore[arg-type]  # fmt: skip
