"""The training workload: run a TrainJob with the entrypoint of its algorithm family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config.jobs import TrainJob
from ..config.training import Algorithm
from .artifacts import TrainResult
from .progress import Progress


def run(job: TrainJob, sink: Callable[[Progress], None] | None = None) -> TrainResult:
    """Train, publish the model at `job.output_uri`, report to the owner; return the result."""
    algorithm = Algorithm(job.training.algorithm)
    if algorithm == Algorithm.CNN_LSTM:
        from . import cnn_lstm

        return cnn_lstm.train(job, sink)
    if algorithm == Algorithm.HYBRID:
        from . import hybrid

        return hybrid.train(job, sink)
    from . import train_rl

    return train_rl.train(job, sink)


def summary(job: TrainJob, result: TrainResult) -> dict[str, Any]:
    """What the training pod prints when it is done (the status fields it reported)."""
    return {
        "modelUri": job.output_uri,
        "algorithm": str(result.card.algorithm),
        "steps": result.card.steps,
        "metrics": result.card.metrics,
        "checkpointUri": result.checkpoint_uri,
        "stoppedEarly": result.stopped_early,
    }
