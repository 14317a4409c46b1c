"""`trading-cli train ...`: train a model on this machine, exactly as a TrainingRun's pod would.

    trading-cli train --algorithm PPO --timesteps 100000 --dataset datasets/local --out models/ppo
    trading-cli train --algorithm CNN_LSTM --epochs 30 --dataset datasets/local --out models/cnn
    trading-cli train --algorithm HYBRID --cnn-weight 0.3 --rl-weight 0.7 --dataset ... --out ...
    trading-cli train resume --checkpoint models/ppo/checkpoints/rl/step-000000050000

A run writes its TrainJob to `<out>/run.json` first, so `resume` needs only a
checkpoint (or the run folder) to continue where the run stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from kubetrade_workloads.config import TrainJob
    from kubetrade_workloads.training.progress import Progress

ALGORITHMS = ("PPO", "A2C", "SAC", "TD3", "CNN_LSTM", "HYBRID")
RUN_FILE = "run.json"

app = typer.Typer(help="Train RL agents, the CNN-LSTM forecaster and HYBRID models.")


def _uri(path: str) -> str:
    return path if "://" in path else f"file://{Path(path).resolve()}"


class _Bar:
    """A progress bar fed by the training's progress sink (a new bar when the total changes)."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._total = -1
        self._done = 0

    def __call__(self, progress: Progress) -> None:
        if progress.total_steps != self._total:
            self.close()
            self._total, self._done = progress.total_steps, 0
            self._bar = typer.progressbar(length=progress.total_steps, label="training")
            self._bar.__enter__()
        steps = min(progress.steps, self._total)
        self._bar.update(steps - self._done)
        self._done = steps
        if progress.mean_reward is not None:
            self._bar.label = f"training (mean reward {progress.mean_reward:.4g})"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _episode_steps(dataset: str, config: dict[str, Any]) -> int:
    """Steps in one episode: `episodeLength`, or the train split's tradeable bars."""
    environment = config.get("environment", {})
    if environment.get("episodeLength"):
        return int(environment["episodeLength"])
    from kubetrade_workloads.envs.dataset import open_dataset

    bars = len(open_dataset(dataset).history("train"))
    return max(bars - int(environment.get("window", 30)) - 1, 1)


def _run(job: TrainJob) -> None:
    from kubetrade_workloads.training import job as training

    bar = _Bar()
    try:
        result = training.run(job, sink=bar)
    finally:
        bar.close()
    typer.echo(json.dumps(training.summary(job, result), indent=2))


def _write_run(job: TrainJob) -> None:
    import fsspec

    with fsspec.open(f"{job.output_uri.rstrip('/')}/{RUN_FILE}", "w") as fh:
        fh.write(job.model_dump_json(by_alias=True, exclude_none=True, indent=2))


@app.callback(invoke_without_command=True)
def train(
    ctx: typer.Context,
    algorithm: str = typer.Option("PPO", "--algorithm", help=f"One of {', '.join(ALGORITHMS)}."),
    dataset: str = typer.Option("datasets/local", "--dataset", help="Dataset folder or URI."),
    out: str = typer.Option("models/local", "--out", help="Output folder or URI for the model."),
    timesteps: int | None = typer.Option(None, "--timesteps", help="Environment steps (RL)."),
    episodes: int | None = typer.Option(None, "--episodes", help="Episodes (RL): sets timesteps."),
    epochs: int | None = typer.Option(
        None, "--epochs", help="Forecaster epochs (CNN_LSTM, HYBRID)."
    ),
    save_best: bool = typer.Option(False, "--save-best", help="Publish the best validated policy."),
    early_stopping: int | None = typer.Option(
        None, "--early-stopping", help="Stop after N validations without a better Sharpe."
    ),
    cnn_weight: float | None = typer.Option(None, "--cnn-weight", help="HYBRID: forecaster share."),
    rl_weight: float | None = typer.Option(None, "--rl-weight", help="HYBRID: agent share."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same model."),
    config: Path | None = typer.Option(
        None, "--config", help="A TrainingConfig (JSON or YAML, camelCase) the flags override."
    ),
) -> None:
    """Train a model locally with a progress bar; the model lands in --out."""
    if ctx.invoked_subcommand is not None:
        return
    import yaml

    if algorithm not in ALGORITHMS:
        raise typer.BadParameter(f"unknown algorithm {algorithm!r}; one of {', '.join(ALGORITHMS)}")
    spec: dict[str, Any] = yaml.safe_load(config.read_text()) if config else {}
    spec.update(algorithm=algorithm, seed=seed)
    if save_best:
        spec["saveBest"] = True
    if early_stopping is not None:
        spec["earlyStoppingPatience"] = early_stopping
    if epochs is not None:
        spec.setdefault("cnnLstm", {})["epochs"] = epochs
    if cnn_weight is not None or rl_weight is not None:
        cnn = cnn_weight if cnn_weight is not None else 1.0 - float(rl_weight or 0.0)
        rl = rl_weight if rl_weight is not None else 1.0 - cnn
        spec.setdefault("hybrid", {}).update(cnnWeight=cnn, rlWeight=rl)
    if algorithm == "HYBRID":
        spec.setdefault("hybrid", {})
    if episodes is not None:
        timesteps = episodes * _episode_steps(_uri(dataset), spec)
    if timesteps is not None:
        spec["totalTimesteps"] = timesteps
    job = local_job(dataset, out, spec)
    _write_run(job)
    _run(job)


def local_job(dataset: str, out: str, spec: dict[str, Any]) -> TrainJob:
    """A TrainJob on this machine: no owner resource to report to (`optimize` too)."""
    from kubetrade_workloads.config import OwnerRef, TrainingConfig, TrainJob

    return TrainJob(
        owner=OwnerRef(
            api_version="local", kind="TrainingRun", name="local", namespace="local", uid="local"
        ),
        dataset_uri=_uri(dataset),
        output_uri=_uri(out),
        training=TrainingConfig.model_validate(spec),
    )


def _run_folder(checkpoint: str) -> str:
    """The run folder a checkpoint (or a checkpoints folder, or the run folder) belongs to."""
    uri = checkpoint.rstrip("/")
    if "/checkpoints/" in uri or uri.endswith("/checkpoints"):
        return uri[: uri.rindex("/checkpoints")]
    return uri


@app.command()
def resume(
    checkpoint: str = typer.Option(
        ..., "--checkpoint", help="Checkpoint, or the run folder (latest)."
    ),
    out: str | None = typer.Option(None, "--out", help="Write the model elsewhere than the run."),
    timesteps: int | None = typer.Option(None, "--timesteps", help="A new total of steps."),
) -> None:
    """Continue a run from its latest complete checkpoint (or the one given)."""
    import fsspec

    from kubetrade_workloads.config import TrainingConfig, TrainJob

    folder = _run_folder(_uri(checkpoint))
    try:
        with fsspec.open(f"{folder}/{RUN_FILE}", "r") as fh:
            job = TrainJob.model_validate_json(fh.read())
    except FileNotFoundError as err:
        raise typer.BadParameter(f"no {RUN_FILE} in {folder}: is it a trading-cli run?") from err
    training = job.training
    if timesteps is not None:
        training = TrainingConfig.model_validate(
            {**training.to_wire(), "totalTimesteps": timesteps}
        )
    resume_from = _uri(checkpoint) if _uri(checkpoint) != folder else "latest"
    if out is not None and resume_from == "latest":
        resume_from = folder
    job = job.model_copy(
        update={
            "resume_from": resume_from,
            "output_uri": _uri(out) if out else job.output_uri,
            "training": training,
        }
    )
    _write_run(job)
    _run(job)
