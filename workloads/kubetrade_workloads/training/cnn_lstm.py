"""Train the CNN-LSTM forecaster on a dataset, top to bottom.

    trading-cli train --algorithm CNN_LSTM --epochs 50 --dataset DIR --out DIR

1. Read the dataset; fit the feature scaling on its train split.
2. Make (bar, symbol) samples: a window of features -> the next bar's return.
3. Train with AdamW on the mean squared error, float16 with loss scaling on a
   GPU only; checkpoint after every epoch; stop once the validation loss has
   not improved for `patience` epochs, keeping the best weights.
4. Score the forecaster as a policy (forecasts -> weights) on validation.
5. Publish forecaster.pt and its model card.

Under torchrun (a TrainingRun with `spec.distributed`) every pod runs this same
script as one rank of a data-parallel group: each takes its share of every batch
(see distributed.py), and only rank 0 checkpoints, reports and publishes.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.tensorboard import SummaryWriter

from ..config.jobs import TrainJob
from ..config.training import Algorithm, CnnLstmParams
from ..envs.arrays import MarketArrays
from ..envs.trading_env import TradingEnv
from . import artifacts, device, splits, validation
from .checkpoints import Checkpoint, CheckpointError, CheckpointStore, find, resume_point
from .distributed import (
    SOLO,
    World,
    device_for,
    join,
    leave,
    loss_weight,
    same_everywhere,
    share,
    total,
)
from .forecaster import CnnLstm, Samples, forecast, samples, target_scale, windows
from .progress import Progress, ProgressReporter

log = logging.getLogger(__name__)
CHECKPOINT_FILE = "forecaster.pt"


@dataclass(frozen=True)
class Fitted:
    """A trained forecaster and how its training went."""

    model: CnnLstm
    target_scale: float
    best_loss: float
    epochs: int
    stopped_early: bool
    checkpoint_uri: str | None


def _batches(n: int, size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[i : i + size] for i in range(0, n, size)]


def _autocast(amp: bool) -> contextlib.AbstractContextManager[Any]:
    return torch.autocast("cuda", dtype=torch.float16) if amp else contextlib.nullcontext()


def run_epoch(
    model: torch.nn.Module,
    data: MarketArrays,
    found: Samples,
    batch_size: int,
    on: torch.device,
    amp: bool,
    optimizer: tuple[torch.optim.Optimizer, torch.amp.GradScaler] | None = None,
    rng: np.random.Generator | None = None,
    world: World = SOLO,
) -> float:
    """One pass over `found`: a training epoch with `optimizer`, an evaluation without.

    `batch_size` is the global batch: in a world of several ranks each takes its
    share, and the mean loss returned is over every rank's samples."""
    model.train(optimizer is not None)
    summed, count = 0.0, 0
    grad = torch.enable_grad() if optimizer is not None else torch.no_grad()
    with grad:
        for batch in _batches(len(found.targets), batch_size, rng):
            idx, weight = share(world, batch), loss_weight(world, len(batch))
            if not len(idx):
                # Fewer samples than ranks: still step with the others (DDP's
                # gradient all-reduce needs every rank), contributing nothing.
                idx, weight = batch[:1], 0.0
            x = windows(data, found.bars[idx], found.symbols[idx]).to(on)
            y = torch.from_numpy(found.targets[idx]).float().to(on)
            with _autocast(amp):
                errors = torch.nn.functional.mse_loss(model(x).float(), y, reduction="sum")
            if optimizer is not None:
                opt, scaler = optimizer
                opt.zero_grad(set_to_none=True)
                torch.autograd.backward(scaler.scale(errors * weight))
                scaler.step(opt)
                scaler.update()
            if weight:
                summed, count = summed + float(errors.detach()), count + len(idx)
    summed, n = total(world, summed, float(count))
    return summed / max(n, 1.0)


def fit(
    data: splits.Splits,
    params: CnnLstmParams,
    *,
    seed: int,
    on: torch.device,
    store: CheckpointStore,
    start: Checkpoint | None,
    reporter: ProgressReporter,
    writer: SummaryWriter | None,
    world: World = SOLO,
) -> Fitted:
    """Train (or resume) the forecaster; early stopping on validation loss.

    In a world of several ranks each one calls this with the same data and
    checkpoint; only the main rank writes checkpoints, logs and progress."""
    train, val = data.train, data.validation
    scale = float(start.state["targetScale"]) if start else target_scale(train)
    torch.manual_seed(seed)
    model = CnnLstm(len(train.feature_names), params).to(on)
    opt = torch.optim.AdamW(model.parameters(), lr=params.learning_rate)
    amp = on.type == "cuda" and params.mixed_precision
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    state: dict[str, Any] = {"epoch": 0, "bestLoss": math.inf, "stale": 0, "targetScale": scale}
    best = copy.deepcopy(model.state_dict())
    if start is not None:
        saved = torch.load(
            io.BytesIO(start.files[CHECKPOINT_FILE]), map_location=on, weights_only=True
        )
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        best = saved["best"]
        state.update(start.state)
    # DDP averages gradients across ranks in backward; the bare `model` is what is saved.
    net: torch.nn.Module = DistributedDataParallel(model) if world.distributed else model
    train_samples = samples(train, scale)
    val_samples = samples(val, scale) if val is not None else None
    checkpoint: str | None = start.uri if start else None
    while state["epoch"] < params.epochs and state["stale"] < params.patience:
        epoch = state["epoch"]
        # Seeded per epoch, so a resumed run shuffles and drops out as an unbroken one
        # would, and every rank walks the same global batches.
        torch.manual_seed(seed + epoch)
        rng = np.random.default_rng([seed, epoch])
        loss = run_epoch(
            net, train, train_samples, params.batch_size, on, amp, (opt, scaler), rng, world
        )
        val_loss = (
            run_epoch(model, val, val_samples, params.batch_size, on, amp, world=world)
            if val is not None and val_samples is not None and len(val_samples.targets)
            else loss
        )
        if val_loss < state["bestLoss"]:
            state.update(bestLoss=val_loss, stale=0)
            best = copy.deepcopy(model.state_dict())
        else:
            state["stale"] += 1
        state["epoch"] = epoch + 1
        if world.main:
            if writer is not None:
                writer.add_scalar("train/loss", loss, epoch + 1)
                writer.add_scalar("validation/loss", val_loss, epoch + 1)
            blob = io.BytesIO()
            torch.save(
                {"model": model.state_dict(), "optimizer": opt.state_dict(), "best": best}, blob
            )
            checkpoint = store.save(epoch + 1, {CHECKPOINT_FILE: blob.getvalue()}, state)
            reporter.update(epoch + 1, None, val_loss)
    model.load_state_dict(best)
    stopped = state["stale"] >= params.patience and state["epoch"] < params.epochs
    return Fitted(model, scale, float(state["bestLoss"]), int(state["epoch"]), stopped, checkpoint)


def train_forecaster(
    job: TrainJob, data: splits.Splits, reporter: ProgressReporter, world: World = SOLO
) -> Fitted:
    """Fit the job's forecaster (resuming when asked), with TensorBoard logs; HYBRID's first half."""
    params = job.training.cnn_lstm or CnnLstmParams()
    on = device_for(world, device.pick(job.training.device, Algorithm.CNN_LSTM))
    join(world, on)
    tensorboard = artifacts.tensorboard_dir(job.output_uri)
    start = resume_point(job.resume_from, job.output_uri, "forecaster") if world.main else None
    # Every rank resumes from the checkpoint the main rank chose.
    chosen = same_everywhere(world, start.uri if start else None)
    if chosen and start is None:
        start = find(chosen)
    if start is not None:
        log.info(
            "resuming the forecaster at epoch %s (rank %d of %d)",
            start.state["epoch"],
            world.rank,
            world.size,
        )
    with contextlib.ExitStack() as stack:
        writer = (
            stack.enter_context(SummaryWriter(f"{tensorboard}/CNN_LSTM")) if world.main else None
        )
        fitted = fit(
            data,
            params,
            seed=job.training.seed,
            on=on,
            store=CheckpointStore(artifacts.checkpoints_uri(job.output_uri, "forecaster")),
            start=start,
            reporter=reporter,
            writer=writer,
            world=world,
        )
    if world.main:
        artifacts.upload_tensorboard(tensorboard, job.output_uri)
    return fitted


def forecaster_card(job: TrainJob, fitted: Fitted, data: splits.Splits) -> artifacts.ForecasterCard:
    """The model card's description of the forecaster."""
    return artifacts.ForecasterCard(
        params=job.training.cnn_lstm or CnnLstmParams(),
        features=len(data.transform.names),
        target_scale=fitted.target_scale,
    )


def score_as_policy(job: TrainJob, model: CnnLstm, data: splits.Splits) -> dict[str, float]:
    """Validation Sharpe, return and drawdown of trading on the forecasts alone."""
    if data.validation is None:
        return {}
    val = splits.with_forecast(
        data.validation, forecast(model, data.validation, next(model.parameters()).device)
    )
    whole = job.training.environment.model_copy(update={"episode_length": None})
    # cnn_weight 1: the targets are the forecaster's alone; the agent's action is ignored.
    env = TradingEnv(val, whole, cnn_weight=1.0)
    hold = np.ones(env.action_space.shape or (1,), dtype=np.int64)
    scores = validation.score(validation.run_episode(env, lambda obs: hold), data.periods_per_year)
    return {f"validation{k[0].upper()}{k[1:]}": v for k, v in scores.items()}


def weights_bytes(model: CnnLstm) -> bytes:
    """The forecaster's weights as the file it is published as (on the CPU)."""
    blob = io.BytesIO()
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, blob)
    return blob.getvalue()


def train(job: TrainJob, sink: Callable[[Progress], None] | None = None) -> artifacts.TrainResult:
    """Train the TrainJob's CNN-LSTM forecaster and publish it with its model card
    (rank 0 publishes; the other ranks of a distributed run only train)."""
    params = job.training.cnn_lstm or CnnLstmParams()
    world = World.from_env()
    data = splits.load(job.dataset_uri, job.training.environment.window)
    if (
        job.resume_from not in (None, "latest")
        and resume_point(job.resume_from, job.output_uri, "forecaster") is None
    ):
        raise CheckpointError(f"no complete checkpoint at {job.resume_from}")
    # Rank 0 alone reports, and keeps the loss history the console draws.
    reporter = ProgressReporter(
        job.owner if world.main else None,
        params.epochs,
        sink=sink,
        history=artifacts.history_uri(job.output_uri) if world.main else None,
    )

    try:
        fitted = train_forecaster(job, data, reporter, world)
    finally:
        leave(world)

    card = model_card(job, data, fitted, world)
    if not world.main:
        return artifacts.TrainResult(card, job.output_uri, None, fitted.stopped_early)
    model_uri = publish(job, fitted, card)
    reporter.finish(fitted.epochs, card.metrics, fitted.checkpoint_uri)
    return artifacts.TrainResult(card, model_uri, fitted.checkpoint_uri, fitted.stopped_early)


def model_card(
    job: TrainJob, data: splits.Splits, fitted: Fitted, world: World = SOLO
) -> artifacts.ModelCard:
    """The forecaster's model card: its losses, and (on rank 0) its score as a policy."""
    metrics = {"epochs": float(fitted.epochs), "validationLoss": fitted.best_loss}
    if world.distributed:
        metrics["trainingPods"] = float(world.size)
    if world.main:
        metrics.update(score_as_policy(job, fitted.model, data))
    params = job.training.cnn_lstm or CnnLstmParams()
    files = {"forecaster": artifacts.FORECASTER}
    forecaster = forecaster_card(job, fitted, data)
    return artifacts.card(job, data, params.model_dump(), metrics, fitted.epochs, files, forecaster)


def publish(job: TrainJob, fitted: Fitted, card: artifacts.ModelCard) -> str:
    """forecaster.pt and its card at the job's output; the model's URI."""
    weights = {artifacts.FORECASTER: weights_bytes(fitted.model)}
    return artifacts.publish(job.output_uri, weights, card)
