"""Progress reaches the TrainingRun at a bounded rate, with the fields its status declares."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kubetrade_operator.api.training_run import TrainingProgress, TrainingRunStatus
from kubetrade_workloads import owner_status
from kubetrade_workloads.config import OwnerRef
from kubetrade_workloads.training import progress
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


def _history(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_report_joins_a_history_file_the_status_names(
    patches: list[dict[str, Any]], tmp_path: Path
) -> None:
    clock, uri = _Clock(), f"file://{tmp_path}/run/progress.jsonl"
    reporter = ProgressReporter(OWNER, 100, interval=5.0, clock=clock, history=uri)
    for step in range(1, 101):
        clock.now = step * 0.2  # a report every 25 steps
        reporter.update(step, mean_reward=step / 10, loss=1 / step)
    reporter.finish(100, {}, None)
    points = _history(tmp_path / "run" / "progress.jsonl")
    assert [p["steps"] for p in points] == [1, 26, 51, 76, 100]
    assert points[1]["meanReward"] == 2.6 and points[1]["loss"] == round(1 / 26, 6)
    assert patches[0]["progress"]["historyUri"] == uri
    TrainingProgress.model_validate(patches[0]["progress"])


def test_a_resumed_run_replaces_the_steps_it_repeats(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}/progress.jsonl"
    first = ProgressReporter(None, 100, interval=0.0, clock=_Clock(), history=uri)
    for step in (10, 20, 30, 40):
        first.update(step, mean_reward=1.0)
    again = ProgressReporter(None, 100, interval=0.0, clock=_Clock(), history=uri)
    again.update(25, mean_reward=2.0)  # resumed from the checkpoint at step 25
    points = _history(tmp_path / "progress.jsonl")
    assert [(p["steps"], p["meanReward"]) for p in points] == [(10, 1.0), (20, 1.0), (25, 2.0)]


def test_a_long_history_thins_out_but_spans_the_run_and_keeps_the_newest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "HISTORY_POINTS", 10)
    reporter = ProgressReporter(
        None, 1000, interval=0.0, clock=_Clock(), history=f"file://{tmp_path}/h.jsonl"
    )
    for step in range(1, 101):
        reporter.update(step)
    steps = [p["steps"] for p in _history(tmp_path / "h.jsonl")]
    assert len(steps) <= 10 and steps[-1] == 100 and steps[0] <= 20
    assert steps == sorted(steps)


def test_a_history_that_cannot_be_written_does_not_stop_training(
    patches: list[dict[str, Any]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("not a folder")
    reporter = ProgressReporter(OWNER, 10, history=f"file://{tmp_path}/file/progress.jsonl")
    reporter.update(5, mean_reward=1.0)
    assert patches[-1]["progress"]["steps"] == 5
    assert "could not write the progress history" in caplog.text
