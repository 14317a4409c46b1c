"""How one trial trains, per kind of algorithm: the single run's own training
(`train_rl.learn`, `cnn_lstm.train_forecaster`) wired to the search's hooks, and
the trial's model published under its own folder.

    agents (PPO, A2C, SAC, TD3)  the validation Sharpe at each evaluation -> pruner
    CNN_LSTM                     the validation loss after each epoch -> pruner
    HYBRID                       the forecaster, then the agent's validation Sharpe -> pruner

The deadline is checked at every progress update (see deadline.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config.jobs import TrainJob
from ..config.training import Algorithm, CnnLstmParams, HybridParams
from ..training import artifacts, cnn_lstm, splits, train_rl
from ..training.forecaster import forecast
from ..training.progress import ProgressReporter
from .deadline import Deadline


class TrialReporter(ProgressReporter):
    """A trial's progress: off the run's status (trials would race on it), with the
    deadline checked at every update and, given `on_loss`, each update's loss
    passed on (the forecaster's update after each epoch carries its validation loss)."""

    def __init__(
        self,
        total_steps: int,
        deadline: Deadline,
        on_loss: Callable[[int, float], None] | None = None,
    ) -> None:
        super().__init__(None, total_steps)
        self.deadline, self.on_loss = deadline, on_loss

    def update(
        self,
        steps: int,
        mean_reward: float | None = None,
        loss: float | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Check the deadline, pass the loss on, then record progress as any run does."""
        self.deadline.check()
        if self.on_loss is not None and loss is not None:
            self.on_loss(steps, loss)
        super().update(steps, mean_reward, loss, force=force)


@dataclass(frozen=True)
class Hooks:
    """What a trial's training calls back: the deadline and the pruner's two feeds."""

    deadline: Deadline
    on_validation: Callable[[int, float], None]
    """An agent's evaluation: (steps, validation Sharpe)."""
    on_epoch: Callable[[int, float], None]
    """A forecaster's epoch: (epoch, validation loss)."""


def train_trial(job: TrainJob, data: splits.Splits, hooks: Hooks) -> dict[str, float]:
    """Train the trial's job (its own output folder), publish its model; its metrics."""
    algorithm = Algorithm(job.training.algorithm)
    with hooks.deadline.enforced():
        if algorithm == Algorithm.CNN_LSTM:
            return _forecaster(job, data, hooks)
        if algorithm == Algorithm.HYBRID:
            return _hybrid(job, data, hooks)
        return _agent(job, algorithm, data, hooks)


def _agent(
    job: TrainJob, algorithm: Algorithm, data: splits.Splits, hooks: Hooks
) -> dict[str, float]:
    reporter = TrialReporter(job.training.total_timesteps, hooks.deadline)
    agent = train_rl.learn(job, algorithm, data, reporter, on_validation=hooks.on_validation)
    params = train_rl.hyperparameters(job.training, algorithm)
    card = artifacts.card(
        job, data, params, agent.metrics, agent.steps, {"policy": artifacts.POLICY}
    )
    artifacts.publish(job.output_uri, {artifacts.POLICY: agent.policy}, card)
    return agent.metrics


def _forecaster(job: TrainJob, data: splits.Splits, hooks: Hooks) -> dict[str, float]:
    params = job.training.cnn_lstm or CnnLstmParams()
    reporter = TrialReporter(params.epochs, hooks.deadline, on_loss=hooks.on_epoch)
    fitted = cnn_lstm.train_forecaster(job, data, reporter)
    card = cnn_lstm.model_card(job, data, fitted)
    cnn_lstm.publish(job, fitted, card)
    return dict(card.metrics)


def _hybrid(job: TrainJob, data: splits.Splits, hooks: Hooks) -> dict[str, float]:
    config = job.training
    hybrid = config.hybrid or HybridParams()
    algorithm = Algorithm(hybrid.rl_algorithm)
    forecaster = config.cnn_lstm or CnnLstmParams()
    # The forecaster's epochs are not reported: the study scores the agent, by Sharpe.
    fitted = cnn_lstm.train_forecaster(job, data, TrialReporter(forecaster.epochs, hooks.deadline))
    on = next(fitted.model.parameters()).device
    val_forecast = forecast(fitted.model, data.validation, on) if data.validation else None
    data = data.with_forecasts(forecast(fitted.model, data.train, on), val_forecast)
    reporter = TrialReporter(config.total_timesteps, hooks.deadline)
    agent = train_rl.learn(
        job,
        algorithm,
        data,
        reporter,
        cnn_weight=hybrid.cnn_weight,
        on_validation=hooks.on_validation,
    )
    params = {
        "rl": train_rl.hyperparameters(config, algorithm),
        "cnnLstm": forecaster.model_dump(),
        "hybrid": hybrid.model_dump(),
    }
    metrics = {**agent.metrics, "forecasterValidationLoss": fitted.best_loss}
    names = {"policy": artifacts.POLICY, "forecaster": artifacts.FORECASTER}
    card = artifacts.card(
        job, data, params, metrics, agent.steps, names, cnn_lstm.forecaster_card(job, fitted, data)
    )
    files = {
        artifacts.POLICY: agent.policy,
        artifacts.FORECASTER: cnn_lstm.weights_bytes(fitted.model),
    }
    artifacts.publish(job.output_uri, files, card)
    return metrics
