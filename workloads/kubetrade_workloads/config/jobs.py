"""The file a workload pod reads at /etc/kubetrade/config.json.

Each carries the owner it reports to and where to publish, next to the typed
config of the work itself.
"""

from __future__ import annotations

from .base import Frozen
from .data import DataConfig
from .evaluation import EvaluationConfig
from .training import TrainingConfig


class OwnerRef(Frozen):
    """The custom resource a pod reports its progress and results to."""

    api_version: str
    kind: str
    name: str
    namespace: str
    uid: str


class DataJob(Frozen):
    owner: OwnerRef
    output_uri: str
    data: DataConfig


class TrainJob(Frozen):
    owner: OwnerRef
    dataset_uri: str
    """The dataset's manifest URI (or its folder)."""
    output_uri: str
    """Where checkpoints, TensorBoard logs, the policy and its model card go."""
    resume_from: str | None = None
    """`latest` or a checkpoint URI."""
    training: TrainingConfig


class EvalJob(Frozen):
    owner: OwnerRef
    dataset_uri: str
    model_uri: str
    """Folder holding the policy file and its model card."""
    output_uri: str
    """Where the evaluation report goes."""
    evaluation: EvaluationConfig

