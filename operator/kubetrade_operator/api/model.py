"""Model: a trained policy, evaluated on held-out data and promoted by gates."""

from __future__ import annotations

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
