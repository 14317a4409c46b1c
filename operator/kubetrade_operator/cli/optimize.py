"""`trading-cli optimize ...` (alias `trading-cli train tune ...`): a hyperparameter
search on this machine, with the study code a TrainingRun's tuning pods run; worker
processes stand in for the pods.

    trading-cli optimize --algorithm PPO --trials 50 --parallel 4 --dataset datasets/local
    trading-cli optimize --algorithm CNN_LSTM --epochs 20 --trials 30 --out models/cnn-sweep
    trading-cli train tune --config search.yaml --trials 20 --out models/ppo-sweep

The study is a journal file in --out (re-running the command continues it); the
best trial's model (policy, forecaster or both) and card land in --out, the
trials table beside them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from kubetrade_workloads.config import TrainJob

ALGORITHMS = ("PPO", "A2C", "SAC", "TD3", "CNN_LSTM", "HYBRID")
SAMPLERS = ("tpe", "cmaes", "random", "grid")
PRUNERS = ("median", "hyperband", "successive_halving", "none")


def _work(job: TrainJob, worker: int) -> dict[str, Any]:
    """One worker process: the same loop a tuning pod runs."""
    import torch

    from kubetrade_workloads.tuning import worker as tuning

    torch.set_num_threads(1)  # N workers on N cores: one thread each
    return tuning.run(job, worker)


def run_workers(job: TrainJob, parallel: int) -> dict[str, Any]:
    """Run `parallel` workers on one study (inline for one); the first worker's summary."""
    if parallel == 1:
        return _work(job, 0)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: torch and fork do not mix, and each worker must import its own Optuna.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(parallel, mp_context=context) as pool:
        summaries = list(pool.map(_work, [job] * parallel, range(parallel)))
    return summaries[0]


def optimize(
    algorithm: str = typer.Option("PPO", "--algorithm", help=f"One of {', '.join(ALGORITHMS)}."),
    trials: int = typer.Option(20, "--trials", help="Trials in the study (maxTrials)."),
    parallel: int = typer.Option(1, "--parallel", help="Worker processes pulling trials."),
    dataset: str = typer.Option("datasets/local", "--dataset", help="Dataset folder or URI."),
    out: str = typer.Option("models/optimize", "--out", help="Folder for the study and the best."),
    timesteps: int | None = typer.Option(None, "--timesteps", help="Each trial's steps (RL)."),
    epochs: int | None = typer.Option(
        None, "--epochs", help="Each trial's forecaster epochs (CNN_LSTM, HYBRID)."
    ),
    trial_timeout: int | None = typer.Option(
        None, "--trial-timeout", help="Fail a trial still training after N seconds."
    ),
    sampler: str = typer.Option("tpe", "--sampler", help=f"One of {', '.join(SAMPLERS)}."),
    pruner: str = typer.Option("median", "--pruner", help=f"One of {', '.join(PRUNERS)}."),
    seed: int = typer.Option(0, "--seed", help="Training and sampler seed."),
    config: Path | None = typer.Option(
        None, "--config", help="A TrainingConfig (JSON or YAML) whose `search` the flags override."
    ),
) -> None:
    """Search hyperparameters locally; the best trial's model lands in --out."""
    import yaml

    from kubetrade_workloads.tuning.space import default_space

    from .train import local_job

    if parallel < 1:
        raise typer.BadParameter("--parallel must be at least 1")
    if algorithm not in ALGORITHMS:
        raise typer.BadParameter(f"unknown algorithm {algorithm!r}; one of {', '.join(ALGORITHMS)}")
    spec: dict[str, Any] = yaml.safe_load(config.read_text()) if config else {}
    spec.update(algorithm=algorithm, seed=seed)
    if algorithm == "HYBRID":
        spec.setdefault("hybrid", {})
    if epochs is not None:
        spec.setdefault("cnnLstm", {})["epochs"] = epochs
    search = spec.setdefault("search", {})
    agent = spec.get("hybrid", {}).get("rlAlgorithm", "PPO")
    search.setdefault("space", default_space(algorithm, agent))
    if algorithm == "CNN_LSTM":
        # The forecaster's pruner hears its validation loss each epoch.
        search.setdefault("objective", "validationLoss")
        search.setdefault("direction", "minimize")
    search.update(maxTrials=trials, parallelism=parallel, sampler=sampler, pruner=pruner, seed=seed)
    if timesteps is not None:
        search["trialTimesteps"] = timesteps
    if trial_timeout is not None:
        search["trialTimeoutSeconds"] = trial_timeout
    job = local_job(dataset, out, spec)
    typer.echo(json.dumps(run_workers(job, parallel), indent=2, default=str))
