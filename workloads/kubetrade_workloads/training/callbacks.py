"""The one stable-baselines3 callback a run uses: progress, checkpoints, validation, early stop.

Checkpoints fall on multiples of `checkpointEvery` steps, so a resumed run
checkpoints at the same step counts as one that never stopped. The training
state that must survive a restart (best validation Sharpe, evaluations
without improvement, the best policy so far) travels inside each checkpoint.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

from .checkpoints import CheckpointStore
from .progress import ProgressReporter
from .validation import better

POLICY_FILE = "policy.zip"
BEST_FILE = "best.zip"
# Which logged value is "the loss" differs by algorithm; the first present wins.
_LOSS_KEYS = ("train/loss", "train/value_loss", "train/critic_loss")


def policy_bytes(model: BaseAlgorithm) -> bytes:
    """The model as SB3's zip file (weights, optimiser state, step count), in memory."""
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def _next(steps: int, every: int) -> int:
    return (steps // every + 1) * every


class RunCallback(BaseCallback):
    """Reports progress, writes checkpoints and stops early on validation Sharpe."""

    def __init__(
        self,
        reporter: ProgressReporter,
        store: CheckpointStore,
        checkpoint_every: int,
        *,
        validate: Callable[[BaseAlgorithm], float] | None = None,
        eval_every: int | None = None,
        patience: int | None = None,
        save_best: bool = False,
        state: dict[str, Any] | None = None,
        best_policy: bytes | None = None,
        on_validation: Callable[[int, float], None] | None = None,
    ) -> None:
        super().__init__()
        self.reporter, self.store, self.checkpoint_every = reporter, store, checkpoint_every
        self.validate, self.eval_every = validate, eval_every or checkpoint_every
        self.patience, self.save_best = patience, save_best
        self.state: dict[str, Any] = {"bestSharpe": None, "bestSteps": None, "stale": 0}
        self.state.update(state or {})
        self.best_policy = best_policy
        # A search's trial reports each validation Sharpe here; its pruner may raise
        # to stop the trial (the exception leaves `learn` unchanged).
        self.on_validation = on_validation
        self.last_checkpoint: str | None = None
        self.stopped_early = False
        self._loss: float | None = None
        self._next_checkpoint = self._next_eval = 0

    def _on_training_start(self) -> None:
        self._next_checkpoint = _next(self.num_timesteps, self.checkpoint_every)
        self._next_eval = _next(self.num_timesteps, self.eval_every)

    def _on_step(self) -> bool:
        steps = self.num_timesteps
        self.reporter.update(steps, self.mean_reward(), self.loss())
        if steps >= self._next_checkpoint:
            self._next_checkpoint = _next(steps, self.checkpoint_every)
            self.checkpoint()
        if self.validate is not None and steps >= self._next_eval:
            self._next_eval = _next(steps, self.eval_every)
            return self.evaluate()
        return True

    def mean_reward(self) -> float | None:
        """Mean return of the last finished episodes (VecMonitor's buffer)."""
        episodes = self.model.ep_info_buffer
        if not episodes:
            return None
        return float(np.mean([e["r"] for e in episodes]))

    def loss(self) -> float | None:
        """The latest training loss the algorithm logged."""
        logged = self.model.logger.name_to_value
        for key in _LOSS_KEYS:
            if key in logged and math.isfinite(logged[key]):
                self._loss = float(logged[key])
                break
        return self._loss

    def checkpoint(self) -> str:
        """Save the model and the run state now; return the checkpoint's URI."""
        files = {POLICY_FILE: policy_bytes(self.model)}
        if self.best_policy is not None:
            files[BEST_FILE] = self.best_policy
        steps = self.model.num_timesteps
        self.last_checkpoint = self.store.save(steps, files, {**self.state, "steps": steps})
        return self.last_checkpoint

    def evaluate(self) -> bool:
        """Score on validation; False (stop) once `patience` evaluations brought no gain."""
        if self.validate is None:
            return True
        sharpe = self.validate(self.model)
        self.logger.record("validation/sharpe", sharpe)
        if self.on_validation is not None:
            self.on_validation(self.num_timesteps, sharpe)
        if better(sharpe, self.state["bestSharpe"]):
            self.state.update(bestSharpe=sharpe, bestSteps=self.num_timesteps, stale=0)
            if self.save_best:
                self.best_policy = policy_bytes(self.model)
            return True
        self.state["stale"] += 1
        if self.patience is not None and self.state["stale"] >= self.patience:
            self.stopped_early = True
            return False
        return True
