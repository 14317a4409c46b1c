"""TrainingRun: train a policy on a Dataset and publish it as a Model."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kubetrade_workloads.config import EvaluationConfig, TrainingConfig
from kubetrade_workloads.config.base import Frozen

from .common import (
    ArtifactUri,
    CommonStatus,
    JobPolicy,
    LocalObjectRef,
    PodTemplate,
    Schedule,
    ScheduleStatus,
)


class TrainingRunSpec(TrainingConfig):
    dataset_ref: LocalObjectRef
    """The Dataset to train on; it must be Succeeded."""
    model_name: (
        Annotated[
            str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
        ]
        | None
    ) = None
    """The Model to create or update on success; the run's name when unset."""
    resume_from: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    """`latest` or a checkpoint URI to continue from."""
    artifact_uri: ArtifactUri | None = None
    """file:// or s3:// folder under which each revision and each requested run writes
    its policy and model card (`<run>-<revision>[-<stamp>]`, never reused: every
    retrain is a new Model version); `<artifact root>/models/<model>` when unset."""
    evaluation: EvaluationConfig | None = None
    """Benchmark, costs and promotion gates of the Model the run creates."""
    suspend: bool = False
    schedule: Schedule | None = None
    """Retrain on a cron schedule: each due time trains on the Dataset's newest
    successful version and publishes a new Model version."""
    template: PodTemplate = PodTemplate()
    job: JobPolicy = JobPolicy()


class TrainingProgress(Frozen):
    """Written by the training pod, at a bounded rate."""

    steps: int | None = None
    total_steps: int | None = None
    percent: float | None = None
    mean_reward: float | None = None
    loss: float | None = None
    eta_seconds: float | None = None
    updated_at: str | None = None


class SearchStatus(Frozen):
    """A hyperparameter search's trials, written by its worker pods after each trial."""

    trials: int | None = None
    running: int | None = None
    completed: int | None = None
    pruned: int | None = None
    failed: int | None = None
    best_trial: int | None = None
    best_value: float | None = None
    best_params: dict[str, float] | None = None
    model_uri: str | None = None
    """The best trial's policy, published as the run's output."""


class TrainingRunStatus(CommonStatus, ScheduleStatus):
    progress: TrainingProgress | None = None
    search: SearchStatus | None = None
    model_name: str | None = None
    checkpoint_uri: str | None = None
    metrics: dict[str, float] | None = None
