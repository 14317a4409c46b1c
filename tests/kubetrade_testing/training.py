"""Small training jobs for tests: a few hundred steps on a tiny dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubetrade_workloads.config import OwnerRef, TrainingConfig, TrainJob

from . import markets

LOCAL = OwnerRef(api_version="local", kind="TrainingRun", name="t", namespace="n", uid="u")

# Hyperparameters small enough that a test run takes a second or two.
TINY: dict[str, dict[str, Any]] = {
    "PPO": {"ppo": {"nSteps": 32, "batchSize": 32, "nEpochs": 1}},
    "A2C": {"a2c": {"nSteps": 8}},
    "SAC": {"sac": {"learningStarts": 32, "batchSize": 16, "bufferSize": 1000}},
    "TD3": {"td3": {"learningStarts": 32, "batchSize": 16, "bufferSize": 1000}},
    "CNN_LSTM": {"cnnLstm": {"epochs": 3, "hiddenSize": 8, "layers": 1, "batchSize": 64}},
    "HYBRID": {
        "hybrid": {"rlAlgorithm": "PPO", "cnnWeight": 0.4, "rlWeight": 0.6},
        "ppo": {"nSteps": 32, "batchSize": 32, "nEpochs": 1},
        "cnnLstm": {"epochs": 2, "hiddenSize": 8, "layers": 1, "batchSize": 64},
    },
}


def config(algorithm: str = "PPO", **overrides: Any) -> TrainingConfig:
    """A tiny TrainingConfig: window 5, two environments, checkpoints every 64 steps."""
    body: dict[str, Any] = {
        "algorithm": algorithm,
        "totalTimesteps": 128,
        "checkpointEvery": 64,
        "environment": {"window": 5, "numEnvs": 2, "episodeLength": 40},
        **TINY[algorithm],
    }
    body.update(overrides)
    return TrainingConfig.model_validate(body)


def job(
    root: Path,
    algorithm: str = "PPO",
    *,
    dataset: str | None = None,
    resume_from: str | None = None,
    **overrides: Any,
) -> TrainJob:
    """A TrainJob on a fresh tiny dataset under `root` (or on `dataset`), output in root/out."""
    uri = dataset or markets.dataset(root / "dataset", n=160)
    return TrainJob(
        owner=LOCAL,
        dataset_uri=uri,
        output_uri=f"file://{root}/out",
        resume_from=resume_from,
        training=config(algorithm, **overrides),
    )
