"""Model: a trained policy, evaluated on held-out data and promoted by gates."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kubetrade_workloads.config import EvaluationConfig
from kubetrade_workloads.config.base import Frozen
from kubetrade_workloads.config.evaluation import FoldSample

from .common import ArtifactUri, CommonStatus, JobPolicy, LocalObjectRef, PodTemplate


class ModelSpec(EvaluationConfig):
    artifact_uri: ArtifactUri
    """file:// or s3:// URI where the policy file and model card live."""
    dataset_ref: LocalObjectRef
    """The Dataset whose test split (and folds) the model is evaluated on."""
    training_run_ref: LocalObjectRef | None = None
    suspend: bool = False
    template: PodTemplate = PodTemplate()
    job: JobPolicy = JobPolicy()
    version_history_limit: Annotated[int, Field(ge=1, le=100)] | None = None
    """Versions kept in `status.versions` (10 when unset); older entries are dropped
    from the list, their artifacts are left where they are."""


DEFAULT_VERSION_HISTORY = 10


class ModelVersion(Frozen):
    """One trained policy: immutable once evaluated, addressable by its number."""

    version: int
    artifact_uri: str
    training_job: str | None = None
    """The training Job that wrote the policy (None for a Model written by hand)."""
    dataset_checksum: str | None = None
    created_at: str
    evaluated_at: str | None = None
    phase: str
    """Evaluating, Ready (gates passed), Rejected (gates failed) or Failed."""
    metrics: dict[str, float] | None = None
    """Headline evaluation figures (Sharpe, drawdown, return, PSR, test bars)."""
    gates_passed: bool | None = None
    report_uri: str | None = None
    """The folder of this version's evaluation report (`evaluation.json`, `report.html`),
    under its `artifactUri`."""


class GateResult(Frozen):
    name: str
    passed: bool
    message: str = ""


class ModelStatus(CommonStatus):
    metrics: dict[str, float] | None = None
    benchmark_metrics: dict[str, float] | None = None
    gates: list[GateResult] | None = None
    dataset_checksum: str | None = None
    """sha256 of the Dataset manifest the model card records (what the model was
    trained on); the model is evaluated only while the Dataset still has it."""
    fold_metrics_sample: FoldSample | None = None
    """Whether the fold metrics (`metrics.foldSharpe*`) are out-of-sample (a model
    retrained per fold, `spec.retrainFolds`) or in-sample (the published model,
    which trained on the folds)."""
    report_uri: str | None = None
    """Where the evaluation wrote its report (`evaluation.json` with every figure,
    `report.html`): a folder under `spec.artifactUri`; the console serves both."""
    versions: list[ModelVersion] | None = None
    """Every policy this Model has held, oldest first (bounded by
    `spec.versionHistoryLimit`); a new one each time `spec.artifactUri` changes."""
    latest_version: int | None = None
    ready_version: int | None = None
    """The newest version whose gates passed: what sessions that follow this Model trade."""
