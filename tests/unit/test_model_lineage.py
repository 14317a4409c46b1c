"""A Model's dataset checksum and the kind of its fold metrics, as the operator judges them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from kubetrade_operator import kube
from kubetrade_operator.api import ModelSpec, TrainingRunSpec
from kubetrade_operator.api.common import Phase
from kubetrade_operator.builders import training_run as run_builders
from kubetrade_operator.builders.common import Owner
from kubetrade_operator.builders.job_status import PENDING, JobOutcome
from kubetrade_operator.builders.model import (
    CHECKSUM_ANNOTATION,
    checksum_mismatch,
    job_name,
    promotion,
    trained_checksum,
)
from kubetrade_operator.builders.training_run import TRAINING_JOB_ANNOTATION
from kubetrade_operator.handlers import job_owner
from kubetrade_operator.handlers import model as handler
from kubetrade_operator.handlers import training_run as run_handler
from kubetrade_testing import factories
from kubetrade_workloads.config import EvaluationConfig

A, B = "a" * 64, "b" * 64


def _dataset(checksum: str | None) -> dict[str, Any]:
    return {"status": {"phase": "Succeeded", "checksum": checksum}}


def test_the_checksum_reported_for_this_job_wins_over_the_training_runs_record() -> None:
    annotations = {CHECKSUM_ANNOTATION: A}
    assert trained_checksum(annotations, {}, "m-evaluate-1") == A
    reported = {"jobName": "m-evaluate-1", "datasetChecksum": B}
    assert trained_checksum(annotations, reported, "m-evaluate-1") == B
    # Reported for an earlier revision's Job: the model may have been retrained since.
    assert trained_checksum(annotations, reported, "m-evaluate-2") == A
    assert trained_checksum({}, reported, "m-evaluate-2") is None


def test_a_republished_dataset_fails_the_model_naming_both_checksums() -> None:
    failed = checksum_mismatch(A, _dataset(B), "prices")
    assert failed is not None
    assert (failed.phase, failed.reason) == (Phase.FAILED, "DatasetChecksumMismatch")
    assert f"has checksum {B}" in failed.message and f"model card records {A}" in failed.message
    assert checksum_mismatch(A, _dataset(A), "prices") is None
    # Nothing to compare yet: no record, or a Dataset that has not published.
    assert checksum_mismatch(None, _dataset(B), "prices") is None
    assert checksum_mismatch(A, _dataset(None), "prices") is None


def _spec(**gates: Any) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "artifactUri": "file:///m",
            "datasetRef": {"name": "p"},
            "retrainFolds": {"totalTimesteps": 64},
            "gates": gates,
        }
    )


@pytest.mark.parametrize(
    ("sample", "mean", "passed"),
    [("out-of-sample", 0.8, True), ("out-of-sample", 0.2, False), ("in-sample", 3.0, False)],
)
def test_the_fold_gate_trusts_only_out_of_sample_folds(
    sample: str, mean: float, passed: bool
) -> None:
    status = {"metrics": {"foldSharpeMean": mean}, "foldMetricsSample": sample}
    phase, ready, gates = promotion(_spec(minFoldSharpe=0.5), status)
    assert [g["passed"] for g in gates] == [passed]
    assert phase == (Phase.READY if passed else Phase.REJECTED)
    if sample == "in-sample":
        assert "fold metrics are in-sample, not out-of-sample" in ready.message


def test_a_fold_gate_or_fold_retraining_without_walk_forward_is_refused() -> None:
    with pytest.raises(ValidationError, match="minFoldSharpe needs retrainFolds"):
        EvaluationConfig.model_validate({"gates": {"minFoldSharpe": 1.0}})
    with pytest.raises(ValidationError, match="retrainFolds needs walkForward"):
        EvaluationConfig.model_validate({"walkForward": False, "retrainFolds": {}})
    config = EvaluationConfig.model_validate({"retrainFolds": {}})
    assert config.retrain_folds is not None and config.retrain_folds.total_timesteps > 0


class _Index(dict[tuple[str, str], list[dict[str, Any]]]):
    """kopf's index: a key maps to the bodies stored under it."""


def _record_status(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The status patches the handler writes, recorded instead of sent."""
    written: list[dict[str, Any]] = []

    async def patch_status(
        kind: str, name: str, namespace: str, changed: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        written.append(changed)
        return changed, str(len(written) + 1)

    monkeypatch.setattr(kube, "patch_status", patch_status)
    monkeypatch.setattr(job_owner, "announce_phase", lambda *_: None)
    return written


def test_the_handler_fails_a_model_whose_dataset_was_republished_without_a_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written = _record_status(monkeypatch)

    async def no_job(*_: Any, **__: Any) -> None:
        raise AssertionError("no evaluation Job on a republished Dataset")

    monkeypatch.setattr(handler, "follow_job", no_job)
    body = factories.model("m", "prices")
    body["metadata"].update(
        namespace="default",
        uid="uid-lineage",
        generation=1,
        resourceVersion="1",
        annotations={CHECKSUM_ANNOTATION: A},
    )
    body["status"] = {}
    indexes = {"datasets": _Index({("default", "prices"): [_dataset(B)]})}

    asyncio.run(handler.reconcile(body, indexes))

    [status] = written
    assert (status["phase"], status["datasetChecksum"]) == ("Failed", A)
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "DatasetChecksumMismatch" and B in failed["message"]


def test_a_new_evaluation_job_clears_the_last_revisions_fold_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written = _record_status(monkeypatch)

    async def new_job(*_: Any, **__: Any) -> job_owner.Followed:
        return job_owner.Followed(PENDING, None, 0)

    monkeypatch.setattr(handler, "follow_job", new_job)
    body = factories.model("m", "prices")
    body["metadata"].update(namespace="default", uid="uid-folds", generation=2, resourceVersion="1")
    # The last revision retrained its folds; this one's Dataset may have none, and
    # its evaluation then reports no label: the old one must not pass minFoldSharpe.
    body["status"] = {
        "observedGeneration": 1,
        "jobName": "m-evaluate-old",
        "metrics": {"foldSharpeMean": 2.0},
        "foldMetricsSample": "out-of-sample",
    }
    indexes = {"datasets": _Index({("default", "prices"): [_dataset(A)]})}

    asyncio.run(handler.reconcile(body, indexes))

    [status] = written
    assert status["jobName"] != "m-evaluate-old"
    assert "foldMetricsSample" in status and status["foldMetricsSample"] is None


def test_an_evaluated_model_is_not_failed_when_its_dataset_is_republished_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its evaluation ran on the data it was trained on; a rolling refresh of the
    # Dataset afterwards must not turn every Model trained on it Failed.
    followed: list[str] = []

    async def same_job(_kind: str, _owner: Any, _status: Any, name: str, *_: Any) -> None:
        followed.append(name)

    monkeypatch.setattr(handler, "follow_job", same_job)
    body = factories.model("m", "prices")
    body["metadata"].update(
        namespace="default", uid="uid-done", generation=1, annotations={CHECKSUM_ANNOTATION: A}
    )
    name = job_name(Owner.from_body("Model", body), ModelSpec.model_validate(body["spec"]))
    body["status"] = {"observedGeneration": 1, "jobName": name, "datasetChecksum": A}
    indexes = {"datasets": _Index({("default", "prices"): [_dataset(B)]})}

    asyncio.run(handler.reconcile(body, indexes))

    assert followed == [name]  # the Job is followed as before, no Failed written


@pytest.mark.parametrize(("edited", "applied"), [(False, 0), (True, 1)])
def test_a_retrained_policy_reaches_its_model_after_a_spec_edit(
    monkeypatch: pytest.MonkeyPatch, edited: bool, applied: int
) -> None:
    """The run's Model is re-applied when the Job that succeeded is not the one it
    holds: after a spec edit, the new revision's policy replaces the first one."""
    _record_status(monkeypatch)
    applies: list[dict[str, Any]] = []

    async def apply(manifest: dict[str, Any]) -> None:
        applies.append(manifest)

    async def succeeded(*_: Any, **__: Any) -> job_owner.Followed:
        return job_owner.Followed(JobOutcome(Phase.SUCCEEDED, "JobComplete", ""), None, 0)

    monkeypatch.setattr(kube, "apply", apply)
    monkeypatch.setattr(run_handler, "follow_job", succeeded)
    body = factories.training_run("ppo", "prices", modelName="ppo-model", totalTimesteps=512)
    body["metadata"].update(namespace="default", uid="uid-run", generation=2, resourceVersion="5")
    body["status"] = {"modelName": "ppo-model", "observedGeneration": 1}
    owner = Owner.from_body("TrainingRun", body)
    current = run_builders.job_name(owner, TrainingRunSpec.model_validate(body["spec"]))
    held = "ppo-train-0ld" if edited else current
    model = {"metadata": {"name": "ppo-model", "annotations": {TRAINING_JOB_ANNOTATION: held}}}
    indexes = {
        "datasets": _Index({("default", "prices"): [_dataset(A)]}),
        "models": _Index({("default", "ppo-model"): [model]}),
    }

    asyncio.run(run_handler.reconcile(body, indexes))

    assert len(applies) == applied
    if applies:
        assert applies[0]["metadata"]["annotations"][TRAINING_JOB_ANNOTATION] == current
        assert current.split("-")[-1] in applies[0]["spec"]["artifactUri"]
