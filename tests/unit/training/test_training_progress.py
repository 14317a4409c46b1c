"""Progress reaches the TrainingRun at a bounded rate, with the fields its status declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kubetrade_operator.api.training_run import TrainingProgress, TrainingRunStatus
from kubetrade_workloads import owner_status
from kubetrade_workloads.config import OwnerRef
from kubetrade_workloads.training.progress import Progress, ProgressReporter

OWNER = OwnerRef(
    api_version="kubetrade.io/v1alpha1", kind="TrainingRun", name="r", namespace="n", uid="u"
)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def patches(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def report(owner: OwnerRef, fields: Mapping[str, Any]) -> bool:
        sent.append(dict(fields))
        return True

    monkeypatch.setattr(owner_status, "report", report)
    return sent


def test_reports_at_most_every_interval(patches: list[dict[str, Any]]) -> None:
    clock = _Clock()
    seen: list[Progress] = []
    reporter = ProgressReporter(
        OWNER, 1000, interval=5.0, sink=seen.append, sink_interval=1.0, clock=clock
    )
    for step in range(1, 1001):
        clock.now = step * 0.01  # 100 steps a second for 10 s
        reporter.update(step, mean_reward=0.5, loss=0.1)
    assert len(patches) == 2  # at 0.01 s and at 5.01 s
    assert 9 <= len(seen) <= 11
    progress = patches[-1]["progress"]
    assert progress["steps"] == 501 and progress["totalSteps"] == 1000
    assert progress["percent"] == 50.1
    assert progress["etaSeconds"] == pytest.approx(4.99, abs=0.01)
    TrainingProgress.model_validate(progress)  # only fields the status schema declares


def test_finish_reports_metrics_and_the_checkpoint(patches: list[dict[str, Any]]) -> None:
    reporter = ProgressReporter(OWNER, 100, clock=_Clock())
    reporter.update(40, mean_reward=1.0)
    reporter.finish(100, {"validationSharpe": 1.2, "undefined": float("nan")}, "file:///c/step-1")
    final = patches[-1]
    assert final["progress"]["percent"] == 100.0 and final["progress"]["etaSeconds"] == 0.0
    assert final["metrics"] == {"validationSharpe": 1.2}  # JSON has no NaN
    assert final["checkpointUri"] == "file:///c/step-1"
    TrainingRunStatus.model_validate(final)


def test_a_local_run_reports_to_no_one(patches: list[dict[str, Any]]) -> None:
    reporter = ProgressReporter(None, 10)
    reporter.update(5)
    reporter.finish(10, {}, None)
    assert patches == [] and reporter.last is not None and reporter.last.percent == 100.0
