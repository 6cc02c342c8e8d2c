"""Tier programme configuration: validation, dict/YAML round trips, fingerprints, labels."""

from __future__ import annotations

import attrs
import hypothesis.strategies as st
import pytest
import yaml
from hypothesis import given, settings

from retailcrm.exceptions import ConfigError, RuleSyntaxError
from retailcrm.loyalty import BENEFIT_KINDS, BOUTIQUE_PROGRAM, Benefit, Tier, TierProgram, Window

GOLD = Tier("gold", "Gold", "spend_365d >= 5000", renew="spend_365d >= 4000",
            benefits=[Benefit("lounge", "priority_access", cost=5)], translations={"zh": "金卡"})  # fmt: skip
SILVER = Tier("silver", "Silver", "spend_365d >= 1000")


def test_benefit_kinds_and_checks() -> None:
    assert "points_multiplier" in BENEFIT_KINDS
    assert Benefit("m", "points_multiplier", value=2).value == 2
    with pytest.raises(ConfigError, match="The 'kind' parameter of Benefit must be one of"):
        Benefit("x", "voucher")
    with pytest.raises(
        ConfigError, match="The 'cost' parameter of Benefit must be a finite number in \\[0, inf\\)"
    ):
        Benefit("x", "gift", cost=-1)
    with pytest.raises(ConfigError, match="without commas"):
        Benefit("a,b", "gift")


def test_tier_conditions_are_parsed_at_once() -> None:
    with pytest.raises(RuleSyntaxError, match=r"gold\.qualify"):
        Tier("gold", "Gold", "spend_365d >= ")
    with pytest.raises(RuleSyntaxError, match=r"gold\.renew"):
        Tier("gold", "Gold", "spend_365d >= 1", renew="and")
    assert GOLD.renew_condition == "spend_365d >= 4000"
    assert SILVER.renew_condition == SILVER.qualify
    with pytest.raises(ConfigError, match="benefit ids repeated"):
        Tier("t", "T", "x > 1", benefits=[Benefit("a", "gift"), Benefit("a", "gift")])


def test_program_validation() -> None:
    with pytest.raises(ConfigError, match="at least one tier"):
        TierProgram(tiers=[])
    with pytest.raises(ConfigError, match="must be a list of Tier objects or dicts"):
        TierProgram(tiers="gold")
    with pytest.raises(ConfigError, match="must be a list of Benefit objects or dicts"):
        Tier("t", "T", "x > 1", benefits=["lounge"])
    with pytest.raises(ConfigError, match=r"repeated: \['gold'\]"):
        TierProgram(tiers=[GOLD, GOLD])
    with pytest.raises(ConfigError, match="reserved"):
        TierProgram(tiers=[Tier("grace", "Grace", "x > 1")])
    with pytest.raises(ConfigError, match="The 'base_tier' parameter of TierProgram"):
        TierProgram(tiers=[GOLD], base_tier="bronze")
    with pytest.raises(ConfigError, match="grace_days=30 only applies to downgrade='grace'"):
        TierProgram(tiers=[GOLD], downgrade="period_end", grace_days=30)
    with pytest.raises(ConfigError, match="The 'downgrade' parameter of TierProgram"):
        TierProgram(tiers=[GOLD], downgrade="yearly")
    with pytest.raises(ConfigError, match="The 'downgrade_step' parameter"):
        TierProgram(tiers=[GOLD], downgrade_step="two")
    with pytest.raises(
        ConfigError, match="The 'grace_days' parameter of TierProgram must be an int"
    ):
        TierProgram(tiers=[GOLD], grace_days=-1)
    other = attrs.evolve(GOLD, id="gold2", benefits=[Benefit("lounge", "gift")])
    with pytest.raises(ConfigError, match="'lounge' is defined differently"):
        TierProgram(tiers=[GOLD, other])


def test_windows() -> None:
    assert Window.parse("90d") == Window.rolling(90)
    assert Window.parse("calendar_year").kind == "calendar_year"
    assert Window.parse("anniversary").anchor == "first_purchase"
    assert Window.parse("anniversary:registered_at") == Window.anniversary("registered_at")
    for w in (Window.rolling(30), Window.calendar_year(), Window.anniversary("registered_at")):
        assert Window.parse(w.to_text()) == w
    with pytest.raises(ConfigError, match="The 'window' parameter of TierProgram"):
        TierProgram(tiers=[GOLD], window="quarterly")
    with pytest.raises(ConfigError, match=r"The 'days' parameter of Window\.rolling"):
        Window.rolling(0)


def test_round_trip_through_yaml_and_fingerprint() -> None:
    program = TierProgram(
        tiers=[GOLD, SILVER], window="calendar_year", downgrade="period_end", base_tier="silver"
    )
    text = yaml.safe_dump(program.to_dict(), allow_unicode=True)
    back = TierProgram.from_dict(yaml.safe_load(text))
    assert back == program
    assert back.fingerprint == program.fingerprint
    assert attrs.evolve(program, downgrade="none").fingerprint != program.fingerprint
    # translations do not change results, so they are not in the fingerprint
    assert program.relabel("zh").tiers[0].name == "金卡"
    assert BOUTIQUE_PROGRAM.relabel("zh").tiers[0].translations == {"zh": "时光挚友"}
    with pytest.raises(ConfigError, match="unknown key"):
        TierProgram.from_dict({"tiers": [GOLD.to_dict()], "windows": "90d"})
    with pytest.raises(ConfigError, match=r"The 'language' parameter of TierProgram\.relabel"):
        program.relabel("fr")


def test_rules_columns_and_benefits() -> None:
    program = TierProgram(tiers=[GOLD, SILVER])
    assert program.ids == ("gold", "silver")
    assert program.columns == ("spend_365d",)
    assert [b.id for b in program.benefits] == ["lounge"]
    assert program.rules.labels == ("Gold", "Silver")
    assert program.rules.relabel("zh").labels == ("金卡", "Silver")
    assert program.tier("silver") is SILVER


tiers = st.lists(
    st.builds(
        Tier,
        id=st.sampled_from(["a", "b", "c", "d"]),
        name=st.text(min_size=1, max_size=5),
        qualify=st.sampled_from(["orders_90d >= 4", "spend_365d > 10", "frequency >= 0"]),
        renew=st.sampled_from([None, "orders_90d >= 2"]),
        benefits=st.just(()),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda t: t.id,
)


@settings(max_examples=30)
@given(
    tiers=tiers,
    window=st.sampled_from(["30d", "calendar_year", "anniversary"]),
    downgrade=st.sampled_from(["none", "period_end", "grace"]),
    step=st.sampled_from(["one", "to_qualifying"]),
)
def test_every_program_round_trips(
    tiers: list[Tier], window: str, downgrade: str, step: str
) -> None:
    program = TierProgram(tiers=tiers, window=window, downgrade=downgrade, downgrade_step=step)
    assert TierProgram.from_dict(program.to_dict()) == program
    assert yaml.safe_load(yaml.safe_dump(program.to_dict())) == program.to_dict()


def test_tiers_are_the_one_positional_argument_as_the_issue_writes_it() -> None:
    # The contract: TierProgram(tiers, *, window=..., ...).
    program = TierProgram(BOUTIQUE_PROGRAM.tiers, window="90d", base_tier="members")
    assert program.ids == BOUTIQUE_PROGRAM.ids
    with pytest.raises(TypeError):
        TierProgram(BOUTIQUE_PROGRAM.tiers, "90d")  # type: ignore[misc]
