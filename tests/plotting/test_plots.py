"""Every plot function on the sample results, on empty and one-row results, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from helpers import ENGINES, make_native
from retailcrm import plotting as rp
from retailcrm.exceptions import ConfigError, MissingColumnsError

# name -> (the result it draws, how to draw it)
FRAME_PLOTS: dict[str, tuple[str, Callable[[Any], Axes]]] = {
    "rfm_heatmap": ("scores", rp.rfm_heatmap),
    "segment_sizes": ("profile", rp.segment_sizes),
    "cohort_heatmap": ("cohorts", rp.cohort_heatmap),
    "stage_mix": ("history", rp.stage_mix),
    "stage_flow": ("flows", rp.stage_flow),
    "nps_by_group": ("nps", rp.nps_by_group),
    "tier_distribution": ("tiers", rp.tier_distribution),
    "tier_migration": ("migration", rp.tier_migration),
    "points_liability": ("liability", rp.points_liability),
    "calibration_holdout": ("comparison", rp.calibration_holdout),
    "cumulative_tracking": ("tracking", rp.cumulative_tracking),
    "ltv_distribution": ("clv", rp.ltv_distribution),
    "cac_by_channel": ("cac", rp.cac_by_channel),
}


def _labelled(ax: Axes) -> None:
    assert ax.get_title()
    if ax.axison:
        assert ax.get_xlabel() or ax.get_xticklabels()
        assert ax.get_ylabel()


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


# ----------------------------------------------------------------------------------------------
# On the sample results: what is drawn matches the numbers
# ----------------------------------------------------------------------------------------------
def test_rfm_heatmap_counts_every_scored_customer(results: dict[str, Any]) -> None:
    scores = results["scores"]
    ax = rp.rfm_heatmap(scores)
    _labelled(ax)
    grid = ax.images[0].get_array()
    assert grid.shape == (5, 5)
    assert grid.sum() == scores["r_score"].notna().sum()  # 2000 minus the 7 non-buyers
    assert len(ax.texts) == 25
    # top row is F = 5, first column R = 1
    top_left = ((scores["f_score"] == 5) & (scores["r_score"] == 1)).sum()
    assert grid[0, 0] == top_left


def test_rfm_heatmap_monetary_is_the_cell_mean(results: dict[str, Any]) -> None:
    scores, features = results["scores"], results["features"]
    ax = rp.rfm_heatmap(scores, features=features, value="monetary")
    assert "monetary" in ax.get_title()
    joined = scores.merge(features[["customer_id", "monetary"]], on="customer_id")
    champions = joined[(joined["f_score"] == 5) & (joined["r_score"] == 5)]["monetary"].mean()
    assert ax.images[0].get_array()[0, 4] == pytest.approx(champions)


def test_segment_sizes_draws_both_shares(results: dict[str, Any]) -> None:
    profile = results["profile"]
    ax = rp.segment_sizes(profile)
    _labelled(ax)
    assert len(ax.patches) == 2 * len(profile)
    widths = sorted(p.get_width() for p in ax.patches[: len(profile)])
    assert widths == pytest.approx(sorted(profile["share"]))
    largest = profile.sort_values("share").iloc[-1]
    assert f"{largest['share']:.0%}" in _texts(ax)


def test_segment_portrait_indexes_against_the_weighted_mean(results: dict[str, Any]) -> None:
    profile = results["profile"]
    ax = rp.segment_portrait(profile, "Champions")
    _labelled(ax)
    assert len(ax.patches) == 5
    ok = profile["mean_frequency"].notna()
    overall = np.average(profile.loc[ok, "mean_frequency"], weights=profile.loc[ok, "customers"])
    own = profile.loc[profile["segment"] == "Champions", "mean_frequency"].iloc[0]
    frequency_bar = ax.patches[1]  # recency, frequency, monetary, AOV, repurchase
    assert frequency_bar.get_width() == pytest.approx(100 * own / overall)


def test_cohort_heatmap_has_one_cell_per_row(results: dict[str, Any]) -> None:
    cohorts = results["cohorts"]
    ax = rp.cohort_heatmap(cohorts)
    _labelled(ax)
    cells = ax.images[0].get_array()
    assert cells.count() == len(cohorts) == len(ax.texts)
    assert cells[0, 0] == pytest.approx(1.0)  # offset 0 of the first cohort: everyone


def test_stage_mix_shares_add_up_to_one(results: dict[str, Any]) -> None:
    history = results["history"]
    ax = rp.stage_mix(history)
    _labelled(ax)
    n_dates, n_stages = history["date"].nunique(), history["stage"].nunique()
    assert len(ax.patches) == n_dates * n_stages
    first_date = [p for p in ax.patches if abs(p.get_x() + p.get_width() / 2) < 1e-9]
    assert sum(p.get_height() for p in first_date) == pytest.approx(1.0)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend.index("new") < legend.index("churned")  # lifecycle order


def test_stage_flow_has_blocks_and_bands(results: dict[str, Any]) -> None:
    flows = results["flows"]
    ax = rp.stage_flow(flows)
    assert ax.get_title().endswith("2024-12-31")
    last = flows[(flows["date"] == flows["date"].max()) & (flows["customers"] > 0)]
    expected = last["from"].nunique() + last["to"].nunique() + len(last)
    assert len(ax.patches) == expected
    assert any(t.startswith("churned (") for t in _texts(ax))


def test_nps_by_group_bars_are_the_scores(results: dict[str, Any]) -> None:
    nps = results["nps"]
    ax = rp.nps_by_group(nps)
    _labelled(ax)
    assert len(ax.patches) == len(nps)
    assert [p.get_width() for p in ax.patches] == pytest.approx(list(nps["nps"]))
    assert "acquisition_channel" in ax.get_title()


def test_tier_distribution_counts_every_member(results: dict[str, Any]) -> None:
    tiers = results["tiers"]
    ax = rp.tier_distribution(tiers)
    _labelled(ax)
    assert len(ax.patches) == tiers["tier"].nunique()
    assert sum(p.get_height() for p in ax.patches) == len(tiers)


def test_tier_migration_cells_are_the_counts(results: dict[str, Any]) -> None:
    migration = results["migration"]
    ax = rp.tier_migration(migration)
    _labelled(ax)
    assert ax.images[0].get_array().sum() == migration["customers"].sum()
    assert len(ax.texts) == len(migration)
    assert "(new)" in [t.get_text() for t in ax.get_yticklabels()]


def test_points_liability_ends_at_the_outstanding_points(results: dict[str, Any]) -> None:
    liability = results["liability"]
    ax = rp.points_liability(liability)
    _labelled(ax)
    line = ax.lines[0]
    assert line.get_ydata()[-1] == pytest.approx(liability["outstanding_points"].iloc[-1])
    assert len(line.get_ydata()) == len(liability)


def test_frequency_recency_matrix_cells_are_the_model(results: dict[str, Any]) -> None:
    model = results["model"]
    ax = rp.frequency_recency_matrix(model, T=20, max_frequency=6)
    _labelled(ax)
    grid = ax.images[0].get_array()
    assert grid.shape == (7, 21)  # frequencies 6..0, recencies 0..20
    assert grid.mask[-1, 1:].all() and not grid.mask[-1, 0]  # no repeat: only recency 0
    # row 0 is frequency 6, column 10 is recency 10
    want = model.expected_purchases(1, frequency=[6.0], recency=[10.0], T=[20.0])
    assert grid[0, 10] == pytest.approx(float(want[0]))


def test_probability_alive_matrix_cells_are_the_model(results: dict[str, Any]) -> None:
    model = results["model"]
    ax = rp.probability_alive_matrix(model, T=20, max_frequency=6)
    image = ax.images[0]
    assert image.get_clim() == (0.0, 1.0)
    want = model.probability_alive(frequency=[3.0], recency=[5.0], T=[20.0])
    assert image.get_array()[3, 5] == pytest.approx(float(want[0]))
    default = rp.probability_alive_matrix(model)  # T: a year of the unit, F: 99th percentile
    assert 3 <= default.images[0].get_array().shape[0] - 1 <= 40


def test_calibration_holdout_lines_are_actual_and_predicted(results: dict[str, Any]) -> None:
    comparison = results["comparison"]
    ax = rp.calibration_holdout(comparison)
    _labelled(ax)
    actual, model = ax.lines
    assert list(actual.get_ydata()) == pytest.approx(list(comparison["actual"]))
    assert list(model.get_ydata()) == pytest.approx(list(comparison["predicted"]))


def test_cumulative_tracking_marks_the_holdout(results: dict[str, Any]) -> None:
    tracking = results["tracking"]
    ax = rp.cumulative_tracking(tracking)
    _labelled(ax)
    assert len(ax.lines) == 3
    assert ax.lines[0].get_ydata()[-1] == tracking["actual_cumulative"].iloc[-1]


def test_ltv_distribution_counts_every_customer(results: dict[str, Any]) -> None:
    clv = results["clv"]
    ax = rp.ltv_distribution(clv)
    _labelled(ax)
    assert len(ax.patches) == 30
    assert sum(p.get_height() for p in ax.patches) == clv["clv"].notna().sum()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == f"mean {clv['clv'].mean():,.1f}"


def test_cac_by_channel_with_and_without_ltv(results: dict[str, Any]) -> None:
    cac = results["cac"]
    ax = rp.cac_by_channel(cac)
    _labelled(ax)
    assert [p.get_height() for p in ax.patches] == pytest.approx(list(cac["cac"]))
    partial = rp.cac_by_channel(cac, ltv={cac["channel"].iloc[0]: 60.0, "nowhere": 1.0})
    assert _texts(partial).count("LTV/CAC n/a") == len(cac) - 1  # channels without an LTV
    both = rp.cac_by_channel(cac, ltv=90.0)
    assert len(both.patches) == 2 * len(cac)
    ratio = 90.0 / cac["cac"].iloc[0]
    assert f"LTV/CAC {ratio:.1f}×" in _texts(both)


# ----------------------------------------------------------------------------------------------
# Empty and one-row results, the caller's axes, inputs untouched
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FRAME_PLOTS))
def test_empty_result_draws_a_no_data_note(name: str, results: dict[str, Any]) -> None:
    key, draw = FRAME_PLOTS[name]
    ax = draw(results[key].iloc[0:0])
    assert ax.get_title()
    assert "no data" in _texts(ax)


@pytest.mark.parametrize("name", list(FRAME_PLOTS))
def test_one_row_result_draws_and_labels(name: str, results: dict[str, Any]) -> None:
    key, draw = FRAME_PLOTS[name]
    frame = results[key]
    complete = frame[frame.notna().all(axis=1)]
    one = (complete if len(complete) else frame).head(1)
    before = one.copy()
    _, given = plt.subplots()
    ax = draw(one)
    ax2 = draw(one.copy())
    assert ax.get_title() == ax2.get_title()
    assert "no data" not in _texts(ax)
    pd.testing.assert_frame_equal(one, before)  # not mutated
    assert given is not ax  # a new figure when no ax is given
    assert draw(one, ax=given) is given


def test_one_row_portrait(results: dict[str, Any]) -> None:
    one = results["profile"].head(1)
    ax = rp.segment_portrait(one, one["segment"].iloc[0])
    assert all(p.get_width() == pytest.approx(100) for p in ax.patches)  # it is the overall


def test_empty_portrait(results: dict[str, Any]) -> None:
    ax = rp.segment_portrait(results["profile"].iloc[0:0], "Champions")
    assert "no data" in _texts(ax)


# ----------------------------------------------------------------------------------------------
# Any engine: the same picture
# ----------------------------------------------------------------------------------------------
COHORTS = pd.DataFrame(
    {
        "cohort": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
        "offset": [0, 1, 0],
        "cohort_size": [10, 10, 4],
        "rate": [1.0, 0.4, 1.0],
    }
)


@pytest.mark.parametrize("engine", ENGINES)
def test_any_engine_gives_the_same_picture(engine: str) -> None:
    ax = rp.cohort_heatmap(make_native(engine, COHORTS))
    grid = ax.images[0].get_array()
    # rows 2024-01 then 2024-02; columns offsets 0, 1; 2024-02 has no offset 1 yet
    assert grid.filled(-1).tolist() == [[1.0, 0.4], [1.0, -1]]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2024-01 (n=10)", "2024-02 (n=4)"]


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------
def test_a_frame_of_the_wrong_kind_names_the_missing_columns() -> None:
    with pytest.raises(MissingColumnsError, match=r"cohort_heatmap: missing column 'offset'"):
        rp.cohort_heatmap(pd.DataFrame({"cohort": [1], "rate": [0.5], "offst": [0]}))
    with pytest.raises(MissingColumnsError, match=r"did you mean 'offst'.*cohort_retention"):
        rp.cohort_heatmap(pd.DataFrame({"cohort": [1], "rate": [0.5], "offst": [0]}))


def test_bad_parameters(results: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"'value' parameter of rfm_heatmap must be one of"):
        rp.rfm_heatmap(results["scores"], value="revenue")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"'features' parameter of rfm_heatmap"):
        rp.rfm_heatmap(results["scores"], value="monetary")
    with pytest.raises(ConfigError, match=r"choose one of \[.*'Champions'"):
        rp.segment_portrait(results["profile"], "Nobody")
    with pytest.raises(ConfigError, match=r"'model' parameter of frequency_recency_matrix"):
        rp.frequency_recency_matrix(object())
    with pytest.raises(ConfigError, match=r"'T' parameter of probability_alive_matrix"):
        rp.probability_alive_matrix(results["model"], T=0)


def test_ltv_distribution_leaves_out_infinite_values_and_says_so() -> None:
    """A Gamma-Gamma fit with q <= 1 gives customers without repeat purchases an infinite
    expected spend (with a warning): the histogram draws the finite values and counts the rest."""
    clv = pd.DataFrame({"customer_id": [1, 2, 3, 4], "clv": [10.0, 30.0, np.inf, None]})
    ax = rp.ltv_distribution(clv, bins=2)
    assert sum(p.get_height() for p in ax.patches) == 2
    assert (
        ax.get_title() == "Customer lifetime value: distribution (2 customers; 1 infinite left out)"
    )
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "mean 20.0"
