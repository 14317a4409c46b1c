"""Walk-forward folds scored honestly.

A Dataset's folds cut its train and validation splits into blocks; the
published model learned from all of them, so scoring it on a fold's test block
measures how well it remembers, not how well it generalises: those metrics are
in-sample. Out-of-sample fold metrics need a fresh model per fold, trained on
the fold's train block only (`retrainFolds`), with the published model's
algorithm and hyperparameters and a small budget.

Each fold's model lives under the evaluation's output:

    folds/<fold>/dataset/   the fold's train block, published as a one-split Dataset
    folds/<fold>/model/     its model card and policy, as a TrainingRun writes them
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..backtest.dataset import Dataset, Fold
from ..backtest.walk_forward import WalkForwardError
from ..config.evaluation import FoldRetraining, FoldSample
from ..config.jobs import EvalJob, OwnerRef, TrainJob
from ..config.training import Algorithm, CnnLstmParams, Device, TrainingConfig
from ..data.publish import write_dataset
from ..market.policy import PolicyStrategy
from ..training.artifacts import ModelCard, TrainedSpan

# Manifest keys write_dataset computes for the fold's own split; the rest
# (features, source, normalisation, config) is the parent's and carries over.
_OWN_KEYS = frozenset(
    {"version", "schema", "rows", "timeRange", "splits", "checksum", "folds", "walkForward"}
)


def _utc(iso: str) -> pd.Timestamp:
    stamp = pd.Timestamp(iso)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def sample(span: TrainedSpan | None, fold: Fold) -> FoldSample:
    """Out-of-sample only when the fold's test window starts after every bar the
    model learned from or was selected on (its card's `trained_span`); a card that
    does not say is in-sample."""
    if span is None or fold.test_start <= _utc(span.end):
        return FoldSample.IN_SAMPLE
    return FoldSample.OUT_OF_SAMPLE


def overall(samples: Iterable[FoldSample]) -> FoldSample:
    """The label of a set of fold metrics: one in-sample fold makes them all in-sample."""
    seen = list(samples)
    if seen and all(s == FoldSample.OUT_OF_SAMPLE for s in seen):
        return FoldSample.OUT_OF_SAMPLE
    return FoldSample.IN_SAMPLE


def fold_dataset(dataset: Dataset, fold: Fold, uri: str) -> str:
    """Publish the fold's train block at `uri` as a Dataset with one `train` split.

    The parent's symbols are kept, so a symbol that lists later is in the fold
    model's universe as in the published model's, only not tradeable yet.
    """
    if fold.train_start is None or fold.train_end is None:
        raise WalkForwardError(
            f"{fold.name}: the Dataset's manifest gives no train window to retrain on; "
            "republish the Dataset with splits.walkForward"
        )
    bars = dataset.bars([s for s in dataset.splits if s != "test"])
    when = bars["timestamp"]
    block = bars[(when >= fold.train_start) & (when <= fold.train_end)].reset_index(drop=True)
    if block.empty:
        raise WalkForwardError(
            f"{fold.name}: no bars between {fold.train_start} and {fold.train_end} to train on"
        )
    extra: dict[str, Any] = {k: v for k, v in dataset.manifest.items() if k not in _OWN_KEYS}
    write_dataset(uri, {"train": block}, extra)
    return uri


def budgeted(training: TrainingConfig, budget: FoldRetraining) -> TrainingConfig:
    """The published model's training config on the fold budget. No early stopping or
    best-policy choice: a fold has no validation split to judge them by. The device is
    `auto`: the evaluation pod may have no GPU where the training pod had one."""
    update: dict[str, Any] = {
        "device": Device.AUTO,
        "total_timesteps": budget.total_timesteps,
        "checkpoint_every": budget.total_timesteps,
        "early_stopping_patience": None,
        "eval_every": None,
        "save_best": False,
    }
    if Algorithm(training.algorithm) in (Algorithm.CNN_LSTM, Algorithm.HYBRID):
        params = training.cnn_lstm or CnnLstmParams()
        update["cnn_lstm"] = params.model_copy(update={"epochs": budget.epochs})
    return training.model_copy(update=update)


class FoldModels:
    """Trains and loads each fold's own model when `walk_forward` asks for it, and
    keeps each model's card: its trained span is what labels the fold."""

    def __init__(
        self, job: EvalJob, card: ModelCard, dataset: Dataset, budget: FoldRetraining
    ) -> None:
        self.job, self.dataset = job, dataset
        self.training = budgeted(card.training, budget)
        self.cards: dict[str, ModelCard] = {}

    def _work(self, fold: Fold) -> TrainJob:
        root = f"{self.job.output_uri.rstrip('/')}/folds/{fold.name}"
        owner = self.job.owner
        return TrainJob(
            # A `local` owner reports nowhere: fold runs must not write the Model's status.
            owner=OwnerRef(
                api_version="local",
                kind=owner.kind,
                name=f"{owner.name}-{fold.name}",
                namespace=owner.namespace,
                uid=owner.uid,
            ),
            dataset_uri=fold_dataset(self.dataset, fold, f"{root}/dataset"),
            output_uri=f"{root}/model",
            training=self.training,
        )

    def __call__(self, fold: Fold) -> PolicyStrategy:
        from ..training import job as training_job  # torch and SB3: only when retraining
        from ..training.policies import load_policy

        try:
            result = training_job.run(self._work(fold))
        except ValueError as err:  # a block too short for the window, say
            raise WalkForwardError(f"{fold.name}: retraining on its train block: {err}") from err
        policy = load_policy(result.model_uri)
        self.cards[fold.name] = policy.card
        return PolicyStrategy(policy)
