"""LifecyclePolicy: validation, round-trips, fingerprint, the rule sets it builds, labels."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings

from retailcrm.exceptions import ConfigError
from retailcrm.lifecycle import (
    DEFAULT_POLICY,
    RHYTHM_POLICY,
    STAGE_LABELS_ZH,
    STAGES,
    LifecyclePolicy,
    assign_stages,
)
from retailcrm.rules import Rule, RuleSet


def test_default_thresholds_are_the_issue_s() -> None:
    p = DEFAULT_POLICY
    assert (p.new_days, p.growing_orders, p.growing_window_days, p.mature_months) == (
        30,
        2,
        30,
        3,
    )
    assert (p.dormant_days, p.churned_days, p.rhythm_days) == (90, 180, None)


def test_the_rules_are_in_the_documented_precedence_order() -> None:
    rules = DEFAULT_POLICY.rules
    assert [r.id for r in rules.rules] == list(STAGES)
    assert STAGES == (
        "prospect",
        "churned",
        "dormant",
        "reactivated",
        "new",
        "mature",
        "growing",
        "active",
    )
    assert rules.mode == "first"
    assert rules.labels == STAGES


def test_thresholds_reach_the_conditions() -> None:
    p = LifecyclePolicy(
        new_days=14,
        growing_orders=3,
        growing_window_days=90,
        mature_months=4,
        dormant_days=60,
        churned_days=120,
        reactivated_days=45,
    )
    when = {r.id: r.when for r in p.rules.rules}
    assert when["new"] == "tenure_days < 14"
    assert when["growing"] == "orders_90d >= 3"
    assert when["mature"] == "consecutive_active_months >= 4"
    assert when["dormant"] == "recency_days >= 60"
    assert when["churned"] == "recency_days >= 120"
    assert "days_since(previous_since) < 45" in when["reactivated"]


def test_rhythm_policy_scales_the_lapse_thresholds_with_bounds() -> None:
    when = {r.id: r.when for r in RHYTHM_POLICY.rules.rules}
    scale = "min(max(coalesce(mean_interpurchase_days / 30, 1), 0.5), 4)"
    assert when["dormant"] == f"recency_days >= 90 * {scale}"
    assert when["churned"] == f"recency_days >= 180 * {scale}"
    # the other stages are the default's
    default = {r.id: r.when for r in DEFAULT_POLICY.rules.rules}
    for stage in ("prospect", "reactivated", "new", "mature", "growing", "active"):
        assert when[stage] == default[stage]


def test_rhythm_policy_on_a_hand_built_table() -> None:
    # gap 120 days -> scale 120/30 = 4 -> dormant at 360, churned at 720 days
    # gap 7 days -> scale 0.233, bounded to 0.5 -> dormant at 45, churned at 90 days
    # one purchase (no gap) -> scale 1 -> dormant at 90, churned at 180 days
    # gap 45 days -> scale 1.5 -> dormant at 135, churned at 270: 134 is not dormant yet
    f = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "frequency": [5, 5, 8, 1, 1, 3],
            "recency_days": [300, 360, 50, 95, 179, 134],
            "tenure_days": [900, 900, 400, 400, 400, 400],
            "consecutive_active_months": [0] * 6,
            "orders_30d": [0] * 6,
            "mean_interpurchase_days": [120.0, 120.0, 7.0, None, None, 45.0],
        }
    )
    out = assign_stages(f, as_of="2024-06-30", policy=RHYTHM_POLICY)
    assert out["stage"].tolist() == ["active", "dormant", "dormant", "dormant", "dormant", "active"]
    fixed = assign_stages(f, as_of="2024-06-30")
    assert fixed["stage"].tolist() == [
        "churned",
        "churned",
        "active",
        "dormant",
        "dormant",
        "dormant",
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dormant_days": 180}, r"dormant_days \(180\) must be below churned_days \(180\)"),
        ({"dormant_days": 200, "churned_days": 100}, "must be below churned_days"),
        (
            {"new_days": 0},
            r"The 'new_days' parameter of LifecyclePolicy must be an int in \[1, inf\)",
        ),
        ({"mature_months": 13}, r"'mature_months' parameter .* \[1, 12\]"),
        ({"growing_orders": 1.5}, "'growing_orders' parameter"),
        ({"reactivated_days": True}, "'reactivated_days' parameter"),
        ({"rhythm_days": 0}, "'rhythm_days' parameter"),
        ({"rhythm_min_scale": 0}, "'rhythm_min_scale' parameter"),
        ({"rhythm_min_scale": 5.0, "rhythm_max_scale": 4.0}, "must not exceed rhythm_max_scale"),
    ],
)
def test_inconsistent_thresholds_raise(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        LifecyclePolicy(**kwargs)  # type: ignore[arg-type]


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        LifecyclePolicy(30)  # type: ignore[misc]


policies = st.builds(
    lambda new, orders, window, months, dormant, extra, react, rhythm: LifecyclePolicy(
        new_days=new,
        growing_orders=orders,
        growing_window_days=window,
        mature_months=months,
        dormant_days=dormant,
        churned_days=dormant + extra,
        reactivated_days=react,
        rhythm_days=rhythm,
    ),
    st.integers(1, 400),
    st.integers(1, 10),
    st.sampled_from([30, 90, 180, 365]),
    st.integers(1, 12),
    st.integers(1, 400),
    st.integers(1, 400),
    st.integers(1, 400),
    st.none() | st.integers(1, 120),
)


@settings(max_examples=40)
@given(policies)
def test_round_trips_through_dict_yaml_and_json(policy: LifecyclePolicy) -> None:
    assert LifecyclePolicy.from_dict(policy.to_dict()) == policy
    assert LifecyclePolicy.from_dict(yaml.safe_load(yaml.safe_dump(policy.to_dict()))) == policy
    assert LifecyclePolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy
    assert LifecyclePolicy.from_dict(policy.to_dict()).fingerprint == policy.fingerprint
    # every policy's rule set builds and keeps the stage ids
    assert [r.id for r in policy.rules.rules] == list(STAGES)


def test_from_dict_reports_unknown_keys_and_non_mappings() -> None:
    with pytest.raises(
        ConfigError, match="unknown key 'dormant_day' \\(did you mean 'dormant_days'\\?\\)"
    ):
        LifecyclePolicy.from_dict({"dormant_day": 60})
    with pytest.raises(ConfigError, match="needs a mapping"):
        LifecyclePolicy.from_dict([("dormant_days", 60)])  # type: ignore[arg-type]


def test_fingerprint_is_stable_and_sensitive() -> None:
    assert DEFAULT_POLICY.fingerprint == LifecyclePolicy().fingerprint
    assert len(DEFAULT_POLICY.fingerprint) == 16
    assert LifecyclePolicy(churned_days=181).fingerprint != DEFAULT_POLICY.fingerprint
    assert RHYTHM_POLICY.fingerprint != DEFAULT_POLICY.fingerprint


def test_chinese_labels_are_domain_md_s_words_and_keep_rule_ids() -> None:
    zh = DEFAULT_POLICY.rules.relabel("zh")
    assert [r.id for r in zh.rules] == list(STAGES)
    assert dict(zip(STAGES, zh.labels, strict=True)) == STAGE_LABELS_ZH
    assert STAGE_LABELS_ZH == {
        "prospect": "潜在客户",
        "new": "新客户",
        "growing": "成长客户",
        "mature": "成熟客户",
        "active": "活跃客户",
        "dormant": "休眠客户",
        "churned": "流失客户",
        "reactivated": "回流客户",
    }


def test_lang_relabels_assign_stages() -> None:
    f = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "frequency": [0, 3],
            "recency_days": [None, 400],
            "tenure_days": [5, 900],
            "consecutive_active_months": [0, 0],
            "orders_30d": [0, 0],
        }
    )
    out = assign_stages(f, as_of="2024-06-30", lang="zh")
    assert out["stage"].tolist() == ["潜在客户", "流失客户"]
    assert out["rule_id"].tolist() == ["prospect", "churned"]
    with pytest.raises(ConfigError, match="no labels in language 'fr'"):
        assign_stages(f, as_of="2024-06-30", lang="fr")


def test_a_users_own_rule_set_replaces_the_policy() -> None:
    f = pd.DataFrame({"customer_id": [1, 2, 3], "orders_90d": [5, 1, 0]})
    mine = RuleSet(
        [Rule("loyal", "orders_90d >= 4"), Rule("casual", "orders_90d >= 1")], default="sleeping"
    )
    out = assign_stages(f, as_of="2024-06-30", policy=mine)
    assert out["stage"].tolist() == ["loyal", "casual", "sleeping"]
    assert out["rule_id"].tolist() == ["loyal", "casual", "default"]


def test_bad_policy_arguments() -> None:
    f = pd.DataFrame({"customer_id": [1], "x": [1]})
    with pytest.raises(ConfigError, match="'policy' parameter of assign_stages"):
        assign_stages(f, as_of="2024-06-30", policy={"dormant_days": 60})  # type: ignore[arg-type]
    tags = RuleSet([Rule("a", "x > 0")], mode="all")
    with pytest.raises(ConfigError, match="mode 'first'"):
        assign_stages(f, as_of="2024-06-30", policy=tags)


def test_numpy_numbers_and_whole_scales_are_normalised() -> None:
    import numpy as np

    p = LifecyclePolicy(
        dormant_days=np.int64(60), churned_days=120, rhythm_days=30, rhythm_min_scale=1
    )
    assert type(p.dormant_days) is int and p.rhythm_min_scale == 1.0
    assert isinstance(p.rhythm_min_scale, float)
    assert (
        p.fingerprint
        == LifecyclePolicy(
            dormant_days=60, churned_days=120, rhythm_days=30, rhythm_min_scale=1.0
        ).fingerprint
    )
    assert yaml.safe_load(yaml.safe_dump(p.to_dict()))["dormant_days"] == 60
