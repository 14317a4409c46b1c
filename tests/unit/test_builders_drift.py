"""The session's `Drifted` condition and retrain request, from the trader's report."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from kubetrade_operator.api import TradingSessionSpec, TradingSessionStatus
from kubetrade_operator.builders.drift import cooled_down, drift_verdict
from kubetrade_operator.builders.schedule import RUN_REASON, RUN_REQUESTED_AT
from kubetrade_operator.conditions import FALSE, TRUE, UNKNOWN
from kubetrade_testing.drift import drift_report

NOW = dt.datetime(2026, 12, 6, 12, 0, 0, tzinfo=dt.UTC)
CALM = {"log_return": {"psi": 0.04, "ksPValue": 0.6}, "range": {"psi": 0.08, "ksPValue": 0.2}}
SHIFTED = CALM | {"range": {"psi": 0.61, "ksPValue": 2e-9}}
NO_DECAY = {"bars": 300, "realisedMean": 4e-4, "expectedMean": 5e-4, "tStat": -0.4, "pValue": 0.34}
DECAY = NO_DECAY | {"realisedMean": -2e-3, "tStat": -3.9, "pValue": 4e-5}


def _spec(**drift: Any) -> TradingSessionSpec:
    return TradingSessionSpec.model_validate({"modelRef": {"name": "ppo"}, "drift": drift})


def _status(bars: int = 300, features: Any = CALM, decay: Any = NO_DECAY, **extra: Any) -> Any:
    report = drift_report(bars, features, decay)
    status = {"trading": {"drift": report}, **extra}
    TradingSessionStatus.model_validate(status)  # the schema declares what the trader writes
    return status


def _verdict(spec: TradingSessionSpec, status: Any, run: str | None = "ppo-train") -> Any:
    return drift_verdict(spec, status, training_run=run, now=NOW)


def test_no_thresholds_no_report_or_too_few_bars_give_no_verdict() -> None:
    no_spec = TradingSessionSpec.model_validate({"modelRef": {"name": "ppo"}})
    assert _verdict(no_spec, _status(features=SHIFTED))[0].reason == "NotWatched"
    cond, request = _verdict(_spec(), {"trading": {"equity": 1.0}})
    assert (cond.status, cond.reason, request) == (UNKNOWN, "NoReport", None)
    cond, request = _verdict(_spec(minBars=100, action="Retrain"), _status(99, SHIFTED, DECAY))
    assert (cond.status, cond.reason, request) == (UNKNOWN, "TooFewBars", None)
    assert cond.message == "99 of 100 bars (spec.drift.minBars) on this model"


def test_a_calm_report_is_false_and_says_where_it_stands() -> None:
    cond, request = _verdict(_spec(action="Retrain"), _status())
    assert (cond.status, cond.reason, request) == (FALSE, "NoDrift", None)
    assert cond.message == "max PSI 0.08 (range), decay p 0.34 over 300 bars"


def test_a_feature_past_max_psi_is_feature_drift_naming_it() -> None:
    cond, request = _verdict(_spec(), _status(features=SHIFTED))
    assert (cond.status, cond.reason, request) == (TRUE, "FeatureDrift", None)  # Alert: no run
    assert cond.message == "feature range: PSI 0.61 (max 0.25), KS p 2e-09"
    assert _verdict(_spec(maxPsi=0.7), _status(features=SHIFTED))[0].status == FALSE


def test_ks_counts_only_when_asked() -> None:
    ks_only = CALM | {"log_return": {"psi": 0.05, "ksPValue": 1e-6}}
    assert _verdict(_spec(), _status(features=ks_only))[0].status == FALSE
    cond, _ = _verdict(_spec(maxKsPValue=0.001), _status(features=ks_only))
    assert (cond.status, cond.reason) == (TRUE, "FeatureDrift")
    assert cond.message.startswith("feature log_return: PSI 0.05")


def test_decay_is_judged_by_its_p_value_not_by_the_returns() -> None:
    cond, _ = _verdict(_spec(), _status(decay=DECAY))
    assert (cond.status, cond.reason) == (TRUE, "PerformanceDecay")
    assert cond.message == (
        "mean return per bar -0.002 against 0.0005 expected over 300 bars (t -3.9, p 4e-05 < 0.01)"
    )
    assert _verdict(_spec(maxDecayPValue=1e-5), _status(decay=DECAY))[0].status == FALSE
    both, _ = _verdict(_spec(), _status(features=SHIFTED, decay=DECAY))
    assert both.reason == "FeatureDriftAndDecay" and "range" in both.message


def test_retrain_requests_a_run_of_the_models_training_run_once_per_cooldown() -> None:
    spec = _spec(action="Retrain", cooldownMinutes=60)
    cond, request = _verdict(spec, _status(features=SHIFTED))
    assert cond.status == TRUE and request is not None
    assert request.training_run == "ppo-train"
    assert request.annotations() == {RUN_REQUESTED_AT: "2026-12-06T12:00:00Z", RUN_REASON: "drift"}
    record = request.record()
    assert record == {
        "time": "2026-12-06T12:00:00Z",
        "trainingRun": "ppo-train",
        "reason": cond.message,
    }
    # Within the cooldown the condition stays True, and nothing is asked again.
    recent = _status(features=SHIFTED, lastRetrainRequest=record | {"time": "2026-12-06T11:01:00Z"})
    assert _verdict(spec, recent) == (cond, None)
    old = _status(features=SHIFTED, lastRetrainRequest=record | {"time": "2026-12-06T11:00:00Z"})
    assert _verdict(spec, old)[1] is not None


def test_a_model_without_a_training_run_says_so_and_asks_nothing() -> None:
    cond, request = _verdict(_spec(action="Retrain"), _status(decay=DECAY), run=None)
    assert request is None and cond.status == TRUE
    assert cond.message.endswith("(no spec.trainingRunRef to retrain)")


def test_a_missing_or_unreadable_last_request_has_cooled_down() -> None:
    spec = _spec(cooldownMinutes=0)
    assert spec.drift is not None
    assert cooled_down(spec.drift, {}, NOW)
    assert cooled_down(spec.drift, {"lastRetrainRequest": {"time": "yesterday"}}, NOW)


@pytest.mark.parametrize(
    ("field", "value"),
    [("maxPsi", 0), ("maxDecayPValue", 1.5), ("minBars", 0), ("window", 5), ("action", "Page")],
)
def test_bad_thresholds_are_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        _spec(**{field: value})
