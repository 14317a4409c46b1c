"""Train HYBRID: the CNN-LSTM forecaster first, then an RL agent that sees its forecasts.

    trading-cli train --algorithm HYBRID --cnn-weight 0.3 --rl-weight 0.7 --dataset DIR --out DIR

1. Fit the forecaster exactly as CNN_LSTM does (its own checkpoints; a
   resumed run that finished it does not train it again).
2. Forecast every bar of the train and validation splits once.
3. Train the agent (`hybrid.rlAlgorithm`) in an environment whose
   observations carry the forecasts and whose targets are
   `cnnWeight * forecaster's + rlWeight * agent's` weights, so the agent
   learns in the very combination it will be served in.
4. Publish policy.zip, forecaster.pt and one model card.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config.jobs import TrainJob
from ..config.training import Algorithm, CnnLstmParams, HybridParams
from . import artifacts, cnn_lstm, splits, train_rl
from .checkpoints import CheckpointError, resume_point
from .forecaster import forecast
from .progress import Progress, ProgressReporter


def train(job: TrainJob, sink: Callable[[Progress], None] | None = None) -> artifacts.TrainResult:
    """Train the TrainJob's HYBRID model and publish it with its model card."""
    config = job.training
    hybrid = config.hybrid or HybridParams()
    algorithm = Algorithm(hybrid.rl_algorithm)
    data = splits.load(job.dataset_uri, config.environment.window)
    if job.resume_from not in (None, "latest") and not any(
        resume_point(job.resume_from, job.output_uri, part) for part in ("rl", "forecaster")
    ):
        raise CheckpointError(f"no complete checkpoint at {job.resume_from}")
    epochs = (config.cnn_lstm or CnnLstmParams()).epochs
    # Progress counts the forecaster's epochs first, then the agent's steps.
    # Each phase keeps its own history: their steps count different things.
    forecaster_progress = ProgressReporter(
        job.owner,
        epochs,
        sink=sink,
        history=artifacts.history_uri(job.output_uri, artifacts.FORECASTER_HISTORY),
    )
    fitted = cnn_lstm.train_forecaster(job, data, forecaster_progress)

    on = next(fitted.model.parameters()).device
    val_forecast = forecast(fitted.model, data.validation, on) if data.validation else None
    data = data.with_forecasts(forecast(fitted.model, data.train, on), val_forecast)
    reporter = ProgressReporter(
        job.owner, config.total_timesteps, sink=sink, history=artifacts.history_uri(job.output_uri)
    )
    agent = train_rl.learn(job, algorithm, data, reporter, cnn_weight=hybrid.cnn_weight)

    card = artifacts.card(
        job,
        data,
        {
            "rl": train_rl.hyperparameters(config, algorithm),
            "cnnLstm": (config.cnn_lstm or CnnLstmParams()).model_dump(),
            "hybrid": hybrid.model_dump(),
        },
        {**agent.metrics, "forecasterValidationLoss": fitted.best_loss},
        agent.steps,
        {"policy": artifacts.POLICY, "forecaster": artifacts.FORECASTER},
        cnn_lstm.forecaster_card(job, fitted, data),
    )
    files = {
        artifacts.POLICY: agent.policy,
        artifacts.FORECASTER: cnn_lstm.weights_bytes(fitted.model),
    }
    model_uri = artifacts.publish(job.output_uri, files, card)
    reporter.finish(agent.steps, card.metrics, agent.checkpoint_uri)
    return artifacts.TrainResult(card, model_uri, agent.checkpoint_uri, agent.stopped_early)
