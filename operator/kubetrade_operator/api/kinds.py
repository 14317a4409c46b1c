"""The four kinds: names, schema models and printer columns in one table."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from .dataset import DatasetSpec, DatasetStatus
from .model import ModelSpec, ModelStatus
from .trading_session import TradingSessionSpec, TradingSessionStatus
from .training_run import TrainingRunSpec, TrainingRunStatus


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    priority: int = 0
    """0: in `kubectl get`; 1: only in `kubectl get -o wide`."""


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short_name: str
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: tuple[PrinterColumn, ...]

    @property
    def singular(self) -> str:
        return self.kind.lower()


_PHASE = PrinterColumn("Phase", ".status.phase")

DATASET = Kind(
    "Dataset",
    "datasets",
    "ds",
    DatasetSpec,
    DatasetStatus,
    (
        _PHASE,
        PrinterColumn("Rows", ".status.rows", "integer"),
        PrinterColumn("Source", ".spec.source.type"),
        PrinterColumn("Next-Run", ".status.nextScheduleTime", priority=1),
    ),
)
TRAINING_RUN = Kind(
    "TrainingRun",
    "trainingruns",
    "tr",
    TrainingRunSpec,
    TrainingRunStatus,
    (
        _PHASE,
        PrinterColumn("Algorithm", ".spec.algorithm"),
        PrinterColumn("Progress", ".status.progress.percent", "number"),
        PrinterColumn("Reward", ".status.progress.meanReward", "number"),
        PrinterColumn("Trials", ".status.search.trials", "integer"),
        PrinterColumn("Best", ".status.search.bestValue", "number"),
        PrinterColumn("Next-Run", ".status.nextScheduleTime", priority=1),
    ),
)
MODEL = Kind(
    "Model",
    "models",
    "ktm",
    ModelSpec,
    ModelStatus,
    (
        _PHASE,
        PrinterColumn("Version", ".status.latestVersion", "integer"),
        PrinterColumn("Ready-Version", ".status.readyVersion", "integer"),
        PrinterColumn("Sharpe", ".status.metrics.sharpe", "number"),
        PrinterColumn("MaxDD", ".status.metrics.maxDrawdown", "number"),
    ),
)
TRADING_SESSION = Kind(
    "TradingSession",
    "tradingsessions",
    "ts",
    TradingSessionSpec,
    TradingSessionStatus,
    (
        _PHASE,
        PrinterColumn("Mode", ".spec.mode"),
        PrinterColumn("Model", ".spec.modelRef.name"),
        PrinterColumn("Live", ".status.model.version", "integer"),
        PrinterColumn("Challenger", ".status.challenger.version", "integer"),
        PrinterColumn("Equity", ".status.trading.equity", "number"),
        PrinterColumn("PnL", ".status.trading.totalPnl", "number"),
        PrinterColumn("Drawdown", ".status.trading.drawdown", "number"),
        PrinterColumn("Drift-PSI", ".status.trading.drift.maxPsi", "number", priority=1),
        PrinterColumn("Restarts", ".status.restarts", "integer"),
    ),
)

KINDS: tuple[Kind, ...] = (DATASET, TRAINING_RUN, MODEL, TRADING_SESSION)
