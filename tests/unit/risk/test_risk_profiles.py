"""Risk profiles as shipped templates, and effective limits."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from kubetrade_workloads.config.risk import RiskConfig, RiskLimits, RiskProfile
from kubetrade_workloads.risk import profile


@pytest.mark.parametrize("name", list(RiskProfile))
def test_every_template_is_complete_and_commented(name: RiskProfile) -> None:
    text = profile.template_text(name)
    assert text.startswith("# kubetrade risk profile")
    template = profile.template(name)
    assert template.profile == name
    for section in ("limits", "sizing", "breakers"):
        values = getattr(template, section).model_dump(exclude={"method"})
        assert None not in values.values(), section
    # A profile gives sizing parameters, never a method: a strategy's targets are
    # traded as its weights until a spec asks for sizing (the method is shown, commented).
    assert template.sizing.method is None
    assert "\n  # method: " in text
    # The template is a valid config file as it stands.
    assert RiskConfig.model_validate(yaml.safe_load(text)) == template


def test_profiles_are_ordered_from_careful_to_bold() -> None:
    c, m, a = (profile.effective_limits(RiskConfig(profile=p)) for p in RiskProfile)
    for key in ("maxPositionWeight", "maxGrossExposure", "maxDailyLoss", "maxDrawdown", "maxVar"):
        assert c[key] < m[key] < a[key], key


def test_explicit_values_win_over_the_profile() -> None:
    config = RiskConfig(profile=RiskProfile.CONSERVATIVE, limits=RiskLimits(max_var=0.03))
    limits = profile.effective_limits(config)
    assert limits["maxVar"] == 0.03
    assert limits["maxDrawdown"] == 0.10  # from the conservative template
    assert set(limits) == {
        "maxPositionWeight",
        "maxGrossExposure",
        "maxDailyLoss",
        "maxDrawdown",
        "maxVar",
        "varConfidence",
        "marketDrop",
        "consecutiveLosses",
        "cooldownSeconds",
    }


def test_sizing_and_breakers_merge_field_by_field() -> None:
    config = RiskConfig.model_validate(
        {"profile": "aggressive", "sizing": {"fraction": 0.05}, "breakers": {"cooldownSeconds": 60}}
    )
    eff = profile.resolve(config)
    assert (eff.sizing_method, eff.fraction, eff.kelly_fraction) == (None, 0.05, 0.75)
    chosen = RiskConfig.model_validate({"profile": "aggressive", "sizing": {"method": "kelly"}})
    assert profile.resolve(chosen).sizing_method == "kelly"
    assert (eff.cooldown_seconds, eff.market_drop) == (60, 0.12)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"maxDailyLoss": 0.3, "maxDrawdown": 0.2}, "maxDailyLoss must not exceed"),
        ({"maxPositionWeight": 0.9, "maxGrossExposure": 0.5}, "maxPositionWeight must not exceed"),
    ],
)
def test_cross_field_rules(limits: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RiskLimits.model_validate(limits)
