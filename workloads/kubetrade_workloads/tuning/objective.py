"""One trial: train the run's algorithm with the suggested hyperparameters, report
each validation Sharpe to the pruner, publish the trial's policy under the run."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import optuna

from ..config.jobs import TrainJob
from ..config.search import SearchConfig
from ..config.training import Algorithm
from ..training import artifacts, splits, train_rl
from ..training.progress import ProgressReporter
from .space import suggest, with_params

TRIALS = "trials"
SHARPE_ATTR = "validationSharpe"
"""Each finished trial's per-bar validation Sharpe, for the Deflated Sharpe Ratio."""


def trial_uri(output_uri: str, number: int) -> str:
    """Where trial `number` writes its checkpoints, logs, policy and card."""
    return f"{output_uri.rstrip('/')}/{TRIALS}/{number:04d}"


class Objective:
    """Callable by `study.optimize`: the dataset loads once per worker, not per trial."""

    def __init__(self, job: TrainJob, search: SearchConfig, worker: int) -> None:
        self.job, self.search, self.worker = job, search, worker
        self.data = splits.load(job.dataset_uri, job.training.environment.window)

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", self.worker)
        params = {p.name: suggest(trial, p) for p in self.search.space}
        budget = self.search.trial_timesteps or self.job.training.total_timesteps
        training = with_params(self.job.training, params, budget)
        if training.eval_every is None:
            # The pruner needs several reports per trial: about ten evaluations.
            training = training.model_copy(update={"eval_every": max(budget // 10, 1)})
        job = self.job.model_copy(
            update={
                "output_uri": trial_uri(self.job.output_uri, trial.number),
                "training": training,
                "resume_from": None,
            }
        )
        started = time.monotonic()

        def on_validation(steps: int, sharpe: float) -> None:
            trial.report(sharpe if np.isfinite(sharpe) else -1e9, steps)
            if trial.should_prune():
                raise optuna.TrialPruned(f"validation sharpe {sharpe:.3g} at step {steps}")
            timeout = self.search.trial_timeout_seconds
            if timeout is not None and time.monotonic() - started > timeout:
                raise TimeoutError(f"trial {trial.number} ran past {timeout}s")

        algorithm = Algorithm(training.algorithm)
        reporter = ProgressReporter(None, budget)  # trials do not race on the run's progress
        agent = train_rl.learn(job, algorithm, self.data, reporter, on_validation=on_validation)
        card = artifacts.card(
            job,
            self.data,
            train_rl.hyperparameters(training, algorithm),
            agent.metrics,
            agent.steps,
            {"policy": artifacts.POLICY},
        )
        artifacts.publish(job.output_uri, {artifacts.POLICY: agent.policy}, card)
        sharpe = agent.metrics.get("validationSharpe")
        if sharpe is not None:
            bars = max(self.data.periods_per_year, 1.0)
            # validation.score annualises; the DSR works on per-bar Sharpe ratios.
            trial.set_user_attr(SHARPE_ATTR, float(sharpe) / float(np.sqrt(bars)))
        value = agent.metrics.get(str(self.search.objective))
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
        **{f"param.{k}": v for k, v in trial.params.items()},
    }
