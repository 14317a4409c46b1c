"""The session's `Drifted` condition and retrain request, decided purely from the
trader's drift report (`status.trading.drift`) and the thresholds in `spec.drift`.

The trader measures; the operator judges. No verdict (Unknown) without
thresholds, without a report, or before `minBars` bars on the current model,
so a swap or a restart never raises a false alarm on a near-empty window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubetrade_workloads.config.trading import DriftAction, DriftConfig

from ..api import TradingSessionSpec
from ..conditions import FALSE, TRUE, UNKNOWN, Cond
from .schedule import RUN_REASON, RUN_REQUESTED_AT, parse_time, rfc3339

DRIFTED = "Drifted"
RUN_REASON_DRIFT = "drift"


@dataclass(frozen=True)
class RetrainRequest:
    """A run of the Model's TrainingRun, asked for by setting its run-request annotation."""

    training_run: str
    at: dt.datetime
    reason: str
    """The condition's message: why the session asked."""

    def annotations(self) -> dict[str, str]:
        """The TrainingRun's run-request annotations."""
        return {RUN_REQUESTED_AT: rfc3339(self.at), RUN_REASON: RUN_REASON_DRIFT}

    def record(self) -> dict[str, str]:
        """The session's `status.lastRetrainRequest`."""
        return {"time": rfc3339(self.at), "trainingRun": self.training_run, "reason": self.reason}


def _drifted_features(config: DriftConfig, report: Mapping[str, Any]) -> list[str]:
    """Messages for the features past a threshold, worst PSI first."""
    out = []
    features = report.get("features") or {}
    for name in sorted(features, key=lambda n: -float(features[n].get("psi", 0.0))):
        psi, ks = float(features[name].get("psi", 0.0)), features[name].get("ksPValue")
        over_ks = (
            config.max_ks_p_value is not None and ks is not None and ks < config.max_ks_p_value
        )
        if psi > config.max_psi or over_ks:
            out.append(f"feature {name}: PSI {psi:.3g} (max {config.max_psi:g}), KS p {ks:.3g}")
    return out


def _decayed(config: DriftConfig, decay: Mapping[str, Any] | None) -> str | None:
    """A message when the decay test rejects at `maxDecayPValue`, else None."""
    if not decay or float(decay.get("pValue", 1.0)) >= config.max_decay_p_value:
        return None
    return (
        f"mean return per bar {float(decay['realisedMean']):.3g} against "
        f"{float(decay['expectedMean']):.3g} expected over {decay['bars']} bars "
        f"(t {float(decay['tStat']):.3g}, p {float(decay['pValue']):.3g} < "
        f"{config.max_decay_p_value:g})"
    )


def _reason(features: list[str], decayed: str | None) -> str:
    if features and decayed:
        return "FeatureDriftAndDecay"
    return "FeatureDrift" if features else "PerformanceDecay"


def _calm(report: Mapping[str, Any]) -> str:
    """What a False condition says: the worst feature and the decay test, as they stand."""
    parts = []
    if report.get("maxPsiFeature"):
        parts.append(f"max PSI {float(report['maxPsi']):.3g} ({report['maxPsiFeature']})")
    decay = report.get("decay")
    if decay:
        parts.append(f"decay p {float(decay['pValue']):.3g}")
    return ", ".join(parts or ["no feature or decay verdict yet"]) + f" over {report['bars']} bars"


def cooled_down(config: DriftConfig, status: Mapping[str, Any], now: dt.datetime) -> bool:
    """Whether `cooldownMinutes` have passed since the last retrain request."""
    last = parse_time((status.get("lastRetrainRequest") or {}).get("time"))
    return last is None or now - last >= dt.timedelta(minutes=config.cooldown_minutes)


def drift_verdict(
    spec: TradingSessionSpec,
    status: Mapping[str, Any],
    *,
    training_run: str | None,
    now: dt.datetime,
) -> tuple[Cond, RetrainRequest | None]:
    """The `Drifted` condition, and the retrain to request now (None: none is due)."""
    config = spec.drift
    if config is None:
        return Cond(DRIFTED, UNKNOWN, "NotWatched", "spec.drift sets no thresholds"), None
    report = (status.get("trading") or {}).get("drift")
    if not report:
        return Cond(DRIFTED, UNKNOWN, "NoReport", "the trader has not reported drift yet"), None
    bars = int(report.get("bars", 0))
    if bars < config.min_bars:
        message = f"{bars} of {config.min_bars} bars (spec.drift.minBars) on this model"
        return Cond(DRIFTED, UNKNOWN, "TooFewBars", message), None
    features, decayed = _drifted_features(config, report), _decayed(config, report.get("decay"))
    if not features and decayed is None:
        return Cond(DRIFTED, FALSE, "NoDrift", _calm(report)), None
    message = "; ".join([*features, *([decayed] if decayed else [])])
    cond = Cond(DRIFTED, TRUE, _reason(features, decayed), message)
    if config.action != DriftAction.RETRAIN:
        return cond, None
    if training_run is None:
        return Cond(
            DRIFTED, TRUE, cond.reason, f"{message} (no spec.trainingRunRef to retrain)"
        ), None
    if not cooled_down(config, status, now):
        return cond, None
    return cond, RetrainRequest(training_run, now, message)
