"""The file a workload pod reads at /etc/kubetrade/config.json.

Each carries the owner it reports to and where to publish, next to the typed
config of the work itself.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Frozen
from .data import DataConfig
from .evaluation import EvaluationConfig
from .trading import TradingConfig
from .training import TrainingConfig

STATE_DIR = "/var/lib/kubetrade/state"
"""Where a trader pod keeps its SQLite store (the operator mounts a volume there)."""
METRICS_PORT = 9102
"""The trader's Prometheus port (the operator names it `metrics`)."""


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


class TradeJob(Frozen):
    """What the trader pod of a TradingSession reads."""

    owner: OwnerRef
    """The TradingSession: status goes there, its spec is watched for risk edits and
    `suspend`, and its Lease is `<name>-trader` in its namespace."""
    model_uri: str
    """Folder holding the policy file and its model card, or `baseline:<name>` for a
    built-in strategy (buy-and-hold, sma-crossover, momentum)."""
    dataset_uri: str | None = None
    """The Model's dataset: the replay feed reads `replay_split` of it."""
    replay_split: str = "test"
    session_id: Annotated[str, Field(min_length=1, max_length=253)]
    """Namespace of client order ids and of the trade store's rows; stable across
    restarts of one session, unique across sessions (the operator uses the UID)."""
    trading: TradingConfig
    state_dir: str = STATE_DIR
    """Where the SQLite trade store lives when no store URL is configured."""
    lease: bool = True
    """Hold the coordination Lease before trading (off only for local runs)."""
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = METRICS_PORT
    """Prometheus metrics port; 0 turns the endpoint off."""
