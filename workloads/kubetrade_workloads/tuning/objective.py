"""One trial: train the run's algorithm with the suggested hyperparameters, feed
the pruner (each validation Sharpe of an agent, each epoch's validation loss of
a forecaster), stop at the wall-clock deadline, publish the trial's model under the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from ..config.jobs import TrainJob
from ..config.search import SearchConfig
from ..training import splits
from .deadline import Deadline, TrialTimeout
from .space import suggest, with_params
from .trainers import Hooks, train_trial

TRIALS = "trials"
SHARPE_ATTR = "validationSharpe"
"""Each finished trial's per-bar validation Sharpe, for the Deflated Sharpe Ratio."""
TIMED_OUT_ATTR = "timedOut"
"""Set on a trial its deadline stopped (it is recorded FAIL)."""


def trial_uri(output_uri: str, number: int) -> str:
    """Where trial `number` writes its checkpoints, logs, model and card."""
    return f"{output_uri.rstrip('/')}/{TRIALS}/{number:04d}"


def _pruning(trial: optuna.Trial, what: str) -> Callable[[int, float], None]:
    """A feed for the trial's pruner: report a value at a step, raise TrialPruned when
    the pruner says so (the exception leaves the training loop; Optuna records it)."""

    def report(step: int, value: float) -> None:
        worst = -1e9 if trial.study.direction == optuna.study.StudyDirection.MAXIMIZE else 1e9
        trial.report(value if np.isfinite(value) else worst, step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"{what} {value:.3g} at step {step}")

    return report


class Objective:
    """Callable by `study.optimize`: the dataset loads once per worker, not per trial."""

    def __init__(self, job: TrainJob, search: SearchConfig, worker: int) -> None:
        self.job, self.search, self.worker = job, search, worker
        self.data = splits.load(job.dataset_uri, job.training.environment.window)

    def trial_job(self, trial: optuna.Trial) -> TrainJob:
        """The run's job with the trial's hyperparameters, budget and output folder."""
        params = {p.name: suggest(trial, p) for p in self.search.space}
        budget = self.search.trial_timesteps or self.job.training.total_timesteps
        training = with_params(self.job.training, params, budget)
        if training.eval_every is None:
            # The pruner needs several reports per trial: about ten evaluations.
            training = training.model_copy(update={"eval_every": max(budget // 10, 1)})
        return self.job.model_copy(
            update={
                "output_uri": trial_uri(self.job.output_uri, trial.number),
                "training": training,
                "resume_from": None,
            }
        )

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", self.worker)
        job = self.trial_job(trial)
        # The clock starts once the trial's config is known: sampling is not training.
        hooks = Hooks(
            Deadline(self.search.trial_timeout_seconds),
            on_validation=_pruning(trial, "validation sharpe"),
            on_epoch=_pruning(trial, "validation loss"),
        )
        try:
            metrics = train_trial(job, self.data, hooks)
        except TrialTimeout:
            trial.set_user_attr(TIMED_OUT_ATTR, True)
            raise
        sharpe = metrics.get("validationSharpe")
        if sharpe is not None:
            bars = max(self.data.periods_per_year, 1.0)
            # validation.score annualises; the DSR works on per-bar Sharpe ratios.
            trial.set_user_attr(SHARPE_ATTR, float(sharpe) / float(np.sqrt(bars)))
        value = metrics.get(str(self.search.objective))
        if value is None or not np.isfinite(value):
            raise ValueError(f"trial {trial.number} has no finite {self.search.objective}")
        return float(value)


def trial_row(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """One row of the trials table."""
    return {
        "number": trial.number,
        "state": trial.state.name,
        "value": trial.value,
        "worker": trial.user_attrs.get("worker"),
        "steps": trial.last_step,
        "seconds": trial.duration.total_seconds() if trial.duration else None,
        TIMED_OUT_ATTR: bool(trial.user_attrs.get(TIMED_OUT_ATTR)),
        **{f"param.{k}": v for k, v in trial.params.items()},
    }
