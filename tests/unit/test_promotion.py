"""Which version a session trades: pins, following, shadow promotion, rollback on breach."""

from pathlib import Path
from typing import Any

import yaml

from kubetrade_operator.api import TradingSessionSpec
from kubetrade_operator.builders.promotion import ModelPlan, breach_start, plan_models


def _spec(**extra: Any) -> TradingSessionSpec:
    ref = {"name": "ppo", **extra.pop("ref", {})}
    return TradingSessionSpec.model_validate({"modelRef": ref, **extra})


def _model(*phases: str) -> dict[str, Any]:
    versions = [
        {"version": i + 1, "artifactUri": f"file:///m/v{i + 1}", "phase": p, "createdAt": "t"}
        for i, p in enumerate(phases)
    ]
    return {"spec": {"artifactUri": versions[-1]["artifactUri"]}, "status": {"versions": versions}}


def _status(plan: ModelPlan, **trading: Any) -> dict[str, Any]:
    """The session status after writing `plan`, with the trader's report."""
    return {**plan.status(), "trading": trading}


def _traded(plan: ModelPlan, bars: int = 0) -> dict[str, Any]:
    assert plan.model is not None
    return {
        "artifactUri": plan.model["artifactUri"],
        "version": plan.model["version"],
        "bars": bars,
    }


SHADOW = {"mode": "Shadow", "minShadowBars": 50, "maxPValue": 0.05, "minSharpeMargin": 0.2}


def test_first_start_trades_the_newest_ready_version() -> None:
    plan = plan_models(_spec(), _model("Ready", "Ready", "Rejected"), {}, "t0")
    assert plan.model is not None and plan.model["version"] == 2
    assert plan.history[-1]["reason"] == "Initial"
    assert plan.condition.reason == "Swapping"  # the trader has not reported it yet
    again = plan_models(
        _spec(), _model("Ready", "Ready", "Rejected"), _status(plan, model=_traded(plan)), "t1"
    )
    assert again.condition.status == "True" and again.events == []
    assert again.model == plan.model  # nothing moved: `since` stays


def test_no_ready_version_means_no_model() -> None:
    plan = plan_models(_spec(), _model("Rejected", "Evaluating"), {}, "t0")
    assert plan.model is None and plan.condition.reason == "NoReadyVersion"


def test_immediate_follows_a_newer_ready_version_and_remembers_the_previous() -> None:
    first = plan_models(_spec(), _model("Ready"), {}, "t0")
    plan = plan_models(
        _spec(), _model("Ready", "Ready"), _status(first, model=_traded(first, 30)), "t1"
    )
    assert plan.model is not None and plan.model["version"] == 2
    assert plan.previous is not None and plan.previous["version"] == 1
    assert [e.reason for e in plan.events] == ["Followed"]
    assert plan.history[-1] == {
        "time": "t1",
        "version": 2,
        "fromVersion": 1,
        "reason": "Followed",
        "message": "version 2 passed its gates: it replaces version 1",
    }


def test_a_pin_wins_and_a_pin_to_an_unready_version_keeps_the_live_one() -> None:
    first = plan_models(_spec(), _model("Ready", "Ready"), {}, "t0")
    back = plan_models(_spec(ref={"version": 1}), _model("Ready", "Ready"), _status(first), "t1")
    assert back.model is not None and back.model["version"] == 1
    assert back.history[-1]["reason"] == "Pinned"
    bad = plan_models(
        _spec(ref={"version": 3}), _model("Ready", "Ready", "Rejected"), _status(first), "t1"
    )
    assert bad.model == first.model and bad.condition.reason == "VersionNotReady"
    gone = plan_models(_spec(ref={"version": 9}), _model("Ready", "Ready"), _status(first), "t1")
    assert gone.model == first.model and gone.condition.reason == "VersionNotFound"


def test_shadow_promotes_only_a_significant_winner_after_enough_bars() -> None:
    first = plan_models(_spec(promotion=SHADOW), _model("Ready"), {}, "t0")
    started = plan_models(
        _spec(promotion=SHADOW),
        _model("Ready", "Ready"),
        _status(first, model=_traded(first)),
        "t1",
    )
    assert started.model == first.model
    assert started.challenger is not None and started.challenger["version"] == 2
    assert [e.reason for e in started.events] == ["ChallengerStarted"]
    uri = started.challenger["artifactUri"]

    def report(**shadow: Any) -> ModelPlan:
        status = _status(started, model=_traded(first), shadow={"artifactUri": uri, **shadow})
        return plan_models(_spec(promotion=SHADOW), _model("Ready", "Ready"), status, "t2")

    too_early = report(bars=49, sharpeDiff=1.0, pValue=0.001)
    not_significant = report(bars=80, sharpeDiff=1.0, pValue=0.2)
    thin_margin = report(bars=80, sharpeDiff=0.1, pValue=0.01)
    for plan in (too_early, not_significant, thin_margin):
        assert plan.model == first.model and plan.challenger == started.challenger
    won = report(bars=80, sharpeDiff=0.5, pValue=0.01, sharpe=1.5, championSharpe=1.0)
    assert won.model is not None and won.model["version"] == 2 and won.challenger is None
    assert won.previous == first.model
    assert (
        won.history[-1]["reason"] == "Promoted" and "80 shadow bars" in won.history[-1]["message"]
    )


def test_manual_never_promotes_by_itself() -> None:
    manual = {**SHADOW, "mode": "Manual"}
    first = plan_models(_spec(promotion=manual), _model("Ready"), {}, "t0")
    started = plan_models(_spec(promotion=manual), _model("Ready", "Ready"), _status(first), "t1")
    assert started.challenger is not None
    shadow = {
        "artifactUri": started.challenger["artifactUri"],
        "bars": 500,
        "sharpeDiff": 2.0,
        "pValue": 1e-6,
    }
    plan = plan_models(
        _spec(promotion=manual), _model("Ready", "Ready"), _status(started, shadow=shadow), "t2"
    )
    assert plan.model == first.model and plan.challenger == started.challenger


def test_a_challenger_the_feed_cannot_run_is_refused_and_not_shadowed_again() -> None:
    first = plan_models(_spec(promotion=SHADOW), _model("Ready"), {}, "t0")
    started = plan_models(_spec(promotion=SHADOW), _model("Ready", "Ready"), _status(first), "t1")
    assert started.challenger is not None
    shadow = {
        "artifactUri": started.challenger["artifactUri"],
        "error": "feature 'rsi_14' cannot be made",
    }
    refused = plan_models(
        _spec(promotion=SHADOW), _model("Ready", "Ready"), _status(started, shadow=shadow), "t2"
    )
    assert refused.challenger is None and refused.refused == [2]
    assert refused.events[0].type == "Warning" and "rsi_14" in refused.events[0].message
    later = plan_models(_spec(promotion=SHADOW), _model("Ready", "Ready"), _status(refused), "t3")
    assert later.challenger is None  # not started again
    newer = plan_models(
        _spec(promotion=SHADOW), _model("Ready", "Ready", "Ready"), _status(refused), "t4"
    )
    assert newer.challenger is not None and newer.challenger["version"] == 3


def test_a_losing_challenger_is_retired_after_max_shadow_bars() -> None:
    policy = {**SHADOW, "maxShadowBars": 200}
    first = plan_models(_spec(promotion=policy), _model("Ready"), {}, "t0")
    started = plan_models(_spec(promotion=policy), _model("Ready", "Ready"), _status(first), "t1")
    assert started.challenger is not None
    shadow = {
        "artifactUri": started.challenger["artifactUri"],
        "bars": 200,
        "sharpeDiff": -0.3,
        "pValue": 0.9,
    }
    plan = plan_models(
        _spec(promotion=policy), _model("Ready", "Ready"), _status(started, shadow=shadow), "t2"
    )
    assert plan.challenger is None and plan.refused == [2]
    assert [e.reason for e in plan.events] == ["ChallengerRetired"]


def test_a_breach_soon_after_promotion_rolls_back_and_the_version_is_not_followed_again() -> None:
    first = plan_models(_spec(), _model("Ready"), {}, "2026-01-01T00:00:00Z")
    followed = plan_models(
        _spec(),
        _model("Ready", "Ready"),
        _status(first, model=_traded(first, 90)),
        "2026-01-02T00:00:00Z",
    )
    on_v2 = _status(followed, model=_traded(followed, 10))
    rolled = plan_models(
        _spec(), _model("Ready", "Ready"), on_v2, "2026-01-02T01:00:00Z", "2026-01-02T00:30:00Z"
    )
    assert rolled.model is not None and rolled.model["version"] == 1
    assert rolled.refused == [2] and rolled.previous is None
    assert rolled.events[0].type == "Warning" and rolled.events[0].reason == "RolledBack"
    assert "10 bar(s) after version 2" in rolled.events[0].message
    settled = plan_models(
        _spec(), _model("Ready", "Ready"), _status(rolled), "2026-01-02T02:00:00Z"
    )
    assert settled.model == rolled.model and settled.events == []


def test_no_rollback_for_an_old_breach_a_late_breach_or_a_pin() -> None:
    first = plan_models(_spec(), _model("Ready"), {}, "2026-01-01T00:00:00Z")
    followed = plan_models(
        _spec(), _model("Ready", "Ready"), _status(first), "2026-01-02T00:00:00Z"
    )
    early = _status(followed, model=_traded(followed, 10))
    before = plan_models(_spec(), _model("Ready", "Ready"), early, "t", "2026-01-01T12:00:00Z")
    assert before.model == followed.model  # the breach began before the promotion
    late = _status(followed, model=_traded(followed, 51))
    assert (
        plan_models(_spec(), _model("Ready", "Ready"), late, "t", "2026-01-03T00:00:00Z").model
        == followed.model
    )
    pinned = plan_models(
        _spec(ref={"version": 2}), _model("Ready", "Ready"), _status(first), "2026-01-02T00:00:00Z"
    )
    on_pin = _status(pinned, model=_traded(pinned, 1))
    kept = plan_models(
        _spec(ref={"version": 2}), _model("Ready", "Ready"), on_pin, "t", "2026-01-03T00:00:00Z"
    )
    assert kept.model == pinned.model


def test_a_live_version_whose_gates_now_fail_is_left_for_the_newest_ready_one() -> None:
    first = plan_models(_spec(), _model("Ready", "Ready"), {}, "t0")
    plan = plan_models(_spec(), _model("Ready", "Rejected"), _status(first), "t1")
    assert plan.model is not None and plan.model["version"] == 1


def test_breach_start_reads_the_risk_breached_condition() -> None:
    assert breach_start(None) is None
    assert (
        breach_start([{"type": "RiskBreached", "status": "False", "lastTransitionTime": "x"}])
        is None
    )
    assert (
        breach_start([{"type": "RiskBreached", "status": "True", "lastTransitionTime": "x"}]) == "x"
    )


def test_a_ready_model_from_before_versions_is_traded_as_one_unnumbered_version() -> None:
    legacy = {"spec": {"artifactUri": "file:///m/old"}, "status": {"phase": "Ready"}}
    plan = plan_models(_spec(), legacy, {}, "t0")
    assert plan.model is not None and plan.model["artifactUri"] == "file:///m/old"
    assert "version" not in plan.model  # status drops nulls: none is written
    versioned = plan_models(_spec(), _model("Ready"), _status(plan), "t1")
    assert versioned.model is not None and versioned.model["version"] == 1
    assert [e.reason for e in versioned.events] == ["Followed"]
    unready = plan_models(_spec(), {**legacy, "status": {"phase": "Evaluating"}}, {}, "t0")
    assert unready.model is None


def test_the_worked_example_shadows_with_a_policy_that_would_sign_off() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    doc = yaml.safe_load((examples / "lifecycle" / "tradingsession-shadow.yaml").read_text())
    spec = TradingSessionSpec.model_validate(doc["spec"])
    nightly = yaml.safe_load((examples / "schedules" / "trainingrun-nightly.yaml").read_text())
    assert (
        spec.model_ref.name == nightly["spec"]["modelName"]
    )  # it trades what the schedule retrains
    assert spec.model_ref.version is None and spec.promotion is not None
    assert spec.promotion.mode == "Shadow" and spec.promotion.max_p_value <= 0.05
    assert spec.promotion.min_shadow_bars >= 100 and spec.promotion.rollback_window_bars > 0
    assert spec.drift is not None and spec.drift.action == "Retrain"


def test_a_version_the_trader_refuses_is_dropped_for_the_one_it_still_trades() -> None:
    first = plan_models(_spec(), _model("Ready"), {}, "t0")
    followed = plan_models(
        _spec(), _model("Ready", "Ready"), _status(first, model=_traded(first)), "t1"
    )
    assert followed.model is not None and followed.model["version"] == 2
    refusal = {
        "artifactUri": "file:///m/v2",
        "reason": "trained on SPY, QQQ; the session trades AAPL",
    }
    still_v1 = {**_traded(first, 40), "refused": refusal}
    back = plan_models(_spec(), _model("Ready", "Ready"), _status(followed, model=still_v1), "t2")
    assert back.model is not None and back.model["version"] == 1 and back.refused == [2]
    assert back.events[0].type == "Warning" and back.events[0].reason == "TraderRefused"
    assert "trained on SPY" in back.events[0].message
    assert back.condition.status == "True"  # it trades what the operator now chose
    pinned = plan_models(
        _spec(ref={"version": 2}), _model("Ready", "Ready"), _status(first, model=still_v1), "t3"
    )
    assert pinned.model is not None and pinned.model["version"] == 2  # a pin is the person's
    assert (
        pinned.condition.reason == "TraderRefused" and "trained on SPY" in pinned.condition.message
    )
