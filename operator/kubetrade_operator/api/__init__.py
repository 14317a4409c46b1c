"""Typed custom-resource models; `make crds` renders them into CRDs."""

from .common import API_VERSION, GROUP, VERSION
from .dataset import DatasetSpec, DatasetStatus
from .kinds import DATASET, KINDS, MODEL, TRADING_SESSION, TRAINING_RUN, Kind
from .model import ModelSpec, ModelStatus
from .trading_session import TradingSessionSpec, TradingSessionStatus
from .training_run import TrainingRunSpec, TrainingRunStatus

__all__ = [
    "API_VERSION",
    "DATASET",
    "GROUP",
    "KINDS",
    "MODEL",
    "TRADING_SESSION",
    "TRAINING_RUN",
    "VERSION",
    "DatasetSpec",
    "DatasetStatus",
    "Kind",
    "ModelSpec",
    "ModelStatus",
    "TradingSessionSpec",
    "TradingSessionStatus",
    "TrainingRunSpec",
    "TrainingRunStatus",
]
