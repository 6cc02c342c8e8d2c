"""Markov projection of the stage mix and migration CLV (Pfeifer & Carraway 2000)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from helpers import ENGINES, assert_equal_data, make_native
from retailcrm.exceptions import ConfigError, MissingColumnsError
from retailcrm.lifecycle import migration_clv, project_stage_mix, transition_matrix


def matrix() -> pd.DataFrame:
    """Counts over one period; states sorted as transition_matrix gives them."""
    return pd.DataFrame(
        {
            "from": ["active", "churned", "dormant", "entered"],
            "statistic": ["customers"] * 4,
            "active": [60, 0, 20, 5],
            "churned": [10, 100, 30, 0],
            "dormant": [30, 0, 50, 0],
            "exited": [0, 0, 0, 0],
            "total": [100, 100, 100, 5],
        }
    )


def test_migration_clv_three_stage_hand_example() -> None:
    # P (rows active, churned, dormant) = [[.6, .1, .3], [0, 1, 0], [.2, .3, .5]],
    # R = [100, 0, 10], d = 0.1, T = 2:
    #   P R   = [0.6*100 + 0.3*10, 0, 0.2*100 + 0.5*10] = [63, 0, 25]
    #   P^2 R = P [63, 0, 25] = [0.6*63 + 0.3*25, 0, 0.2*63 + 0.5*25] = [45.3, 0, 25.1]
    #   V = R + P R / 1.1 + P^2 R / 1.21
    #     = [100 + 57.272727 + 37.438017, 0, 10 + 22.727273 + 20.743802]
    #     = [194.710744, 0, 53.471075]
    out = migration_clv(
        matrix(), {"active": 100.0, "dormant": 10.0, "churned": 0.0}, discount_rate=0.1, steps=2
    )
    assert out["stage"].tolist() == ["active", "churned", "dormant"]
    np.testing.assert_allclose(out["clv"], [194.710744, 0.0, 53.471075], atol=1e-6)
    # T = 0: this period only
    now = migration_clv(
        matrix(), {"active": 100, "dormant": 10, "churned": 0}, discount_rate=0.1, steps=0
    )
    assert now["clv"].tolist() == [100.0, 0.0, 10.0]


def test_migration_clv_matches_the_closed_form_for_a_long_horizon() -> None:
    # sum over t of (P / (1 + d))^t R -> (I - P / (1 + d))^-1 R as T grows
    p = np.array([[0.6, 0.1, 0.3], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    r = np.array([100.0, 0.0, 10.0])
    closed = np.linalg.solve(np.eye(3) - p / 1.05, r)
    out = migration_clv(
        matrix(), {"active": 100, "dormant": 10, "churned": 0}, discount_rate=0.05, steps=2000
    )
    np.testing.assert_allclose(out["clv"], closed, rtol=1e-9, atol=1e-9)


def test_project_stage_mix_hand_example() -> None:
    # m1 = [1000, 0, 0] P = [600, 100, 300];
    # m2 = [600*.6 + 300*.2, 600*.1 + 100 + 300*.3, 600*.3 + 300*.5] = [420, 250, 330]
    out = project_stage_mix(matrix(), {"active": 1000}, steps=2)
    assert out.columns.tolist() == ["step", "active", "churned", "dormant"]
    np.testing.assert_allclose(
        out[["active", "churned", "dormant"]].to_numpy(),
        [[1000, 0, 0], [600, 100, 300], [420, 250, 330]],
    )
    assert out["step"].tolist() == [0, 1, 2]


def test_shares_give_the_same_answers_as_counts() -> None:
    h = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 1, 2, 3, 4, 5],
            "date": pd.to_datetime(["2024-01-31"] * 4 + ["2024-02-29"] * 5),
            "stage": [
                "active",
                "active",
                "active",
                "dormant",
                "active",
                "dormant",
                "active",
                "active",
                "new",
            ],
        }
    )
    counts = transition_matrix(h, from_date="2024-01-31", to_date="2024-02-29")
    shares = transition_matrix(h, from_date="2024-01-31", to_date="2024-02-29", normalize=True)
    mix = {"active": 30, "dormant": 10, "new": 5}
    assert_equal_data(project_stage_mix(counts, mix, 3), project_stage_mix(shares, mix, 3))
    values = {"active": 50.0, "dormant": 5.0, "new": 20.0}
    assert_equal_data(
        migration_clv(counts, values, discount_rate=0.02, steps=5),
        migration_clv(shares, values, discount_rate=0.02, steps=5),
    )
    # "new" had no customers at the start: it stays put (identity row); m1 = m0 P:
    # active: 30 * 2/3 + 10 * 1 = 30, dormant: 30 * 1/3 = 10, new 5
    step1 = project_stage_mix(counts, mix, 1).iloc[1]
    assert step1[["active", "dormant", "new"]].tolist() == pytest.approx([30.0, 10.0, 5.0])


def test_exits_leave_the_population() -> None:
    m = matrix().assign(exited=[20, 0, 0, 0], total=[120, 100, 100, 5])
    # active row: 60, 10, 30 of 120 -> [.5, 1/12, .25], one sixth exits
    out = project_stage_mix(m, {"active": 120}, steps=1)
    assert out.iloc[1][["active", "churned", "dormant"]].tolist() == pytest.approx([60, 10, 30])


def test_errors() -> None:
    with pytest.raises(ConfigError, match="missing states: \\['churned'\\]"):
        migration_clv(matrix(), {"active": 1, "dormant": 1}, discount_rate=0.1, steps=2)
    with pytest.raises(ConfigError, match="not states of the matrix: \\['vip'\\]"):
        project_stage_mix(matrix(), {"vip": 3}, steps=2)
    with pytest.raises(ConfigError, match="'discount_rate' parameter of migration_clv"):
        migration_clv(
            matrix(), {"active": 1, "dormant": 1, "churned": 0}, discount_rate=-0.1, steps=2
        )
    with pytest.raises(ConfigError, match="'steps' parameter of project_stage_mix"):
        project_stage_mix(matrix(), {"active": 3}, steps=-1)
    with pytest.raises(MissingColumnsError, match="statistic"):
        project_stage_mix(matrix().drop(columns=["statistic"]), {"active": 3}, steps=1)
    with pytest.raises(ConfigError, match="'current_mix' parameter"):
        project_stage_mix(matrix(), [("active", 3)], steps=1)


@pytest.mark.parametrize("engine", [e for e in ENGINES if isinstance(e, str)])  # not Spark
def test_results_follow_the_matrix_kind(engine: str) -> None:
    native = make_native(engine, matrix())
    out = migration_clv(
        native,
        pd.Series({"active": 100.0, "dormant": 10.0, "churned": 0.0}),
        discount_rate=0.1,
        steps=2,
    )
    assert_equal_data(
        out,
        {"stage": ["active", "churned", "dormant"], "clv": [194.710744, 0.0, 53.471075]},
        abs_tol=1e-6,
    )
    mix = project_stage_mix(native, {"active": 1000}, steps=1)
    assert_equal_data(
        mix,
        {
            "step": [0, 1],
            "active": [1000.0, 600.0],
            "churned": [0.0, 100.0],
            "dormant": [0.0, 300.0],
        },
    )
    if engine == "polars-lazy":
        assert isinstance(mix, pl.LazyFrame)
