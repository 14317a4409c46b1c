"""Typed workload configs: the contract between the operator and the pods."""

from .base import Frozen
from .costs import CostConfig
from .data import DataConfig, SourceConfig, SplitConfig
from .evaluation import EvaluationConfig, Gates
from .jobs import DataJob, EvalJob, OwnerRef, TradeJob, TrainJob
from .risk import RiskConfig, RiskLimits, RiskProfile
from .trading import Mode, SecretRef, TradingConfig
from .training import Algorithm, TrainingConfig

__all__ = [
    "Algorithm",
    "CostConfig",
    "DataConfig",
    "DataJob",
    "EvalJob",
    "EvaluationConfig",
    "Frozen",
    "Gates",
    "Mode",
    "OwnerRef",
    "RiskConfig",
    "RiskLimits",
    "RiskProfile",
    "SecretRef",
    "SourceConfig",
    "SplitConfig",
    "TradeJob",
    "TradingConfig",
    "TrainJob",
    "TrainingConfig",
]
