"""The CNN-LSTM forecaster trained data-parallel by torchrun: two "pods" (processes
meeting at a c10d rendezvous on loopback, started with the operator's own command
line) reach the loss one process reaches on the same data, publish one model, and
resume together from the run's checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubetrade_testing import markets, training
from kubetrade_testing.torchrun import run_pods
from kubetrade_workloads.training import artifacts, job
from kubetrade_workloads.training.checkpoints import CheckpointStore

# No dropout: with it, each rank draws masks for its own slice, a different stream
# from the one process's; without it the only difference is float summation order.
PARAMS = {"hiddenSize": 8, "layers": 1, "batchSize": 64, "dropout": 0.0, "patience": 50}
TOLERANCE = 1e-4
"""Relative difference allowed between the single-process and the two-pod best
validation loss (observed: 3e-8; gloo sums gradients in another order)."""


def test_two_pods_reach_the_single_pod_loss_and_publish_one_model(tmp_path: Path) -> None:
    data = markets.dataset(tmp_path / "dataset", n=160)
    one = job.run(
        training.job(tmp_path / "one", "CNN_LSTM", dataset=data, cnnLstm={**PARAMS, "epochs": 3})
    )
    work = training.job(tmp_path / "two", "CNN_LSTM", dataset=data, cnnLstm={**PARAMS, "epochs": 3})
    logs = run_pods(work, tmp_path, pods=2)

    card = artifacts.read_card(work.output_uri)
    assert card.metrics["trainingPods"] == 2 and card.steps == 3
    assert card.metrics["validationLoss"] == pytest.approx(
        one.card.metrics["validationLoss"], rel=TOLERANCE
    )
    # Only rank 0 publishes and checkpoints: one model, one checkpoint per epoch.
    store = CheckpointStore(artifacts.checkpoints_uri(work.output_uri, "forecaster"))
    assert store.latest() is not None and store.latest().state["epoch"] == 3  # type: ignore[union-attr]
    assert sum('"modelUri"' in log for log in logs) == 2  # both ranks finished and said so


def test_a_distributed_run_resumes_from_its_checkpoint_on_every_pod(tmp_path: Path) -> None:
    data = markets.dataset(tmp_path / "dataset", n=160)
    first = training.job(tmp_path, "CNN_LSTM", dataset=data, cnnLstm={**PARAMS, "epochs": 2})
    run_pods(first, tmp_path, pods=2)
    assert artifacts.read_card(first.output_uri).steps == 2

    # The pods are replaced (as the Job replaces a lost one): both resume at epoch 2.
    more = training.job(
        tmp_path, "CNN_LSTM", dataset=data, resume_from="latest", cnnLstm={**PARAMS, "epochs": 4}
    )
    run_pods(more, tmp_path, pods=2)
    card = artifacts.read_card(more.output_uri)
    assert card.steps == 4 and card.metrics["trainingPods"] == 2

    straight = job.run(
        training.job(
            tmp_path / "straight", "CNN_LSTM", dataset=data, cnnLstm={**PARAMS, "epochs": 4}
        )
    )
    assert card.metrics["validationLoss"] == pytest.approx(
        straight.card.metrics["validationLoss"], rel=TOLERANCE
    )


def test_rank_0_alone_keeps_the_loss_history(tmp_path: Path) -> None:
    data = markets.dataset(tmp_path / "dataset", n=160)
    work = training.job(tmp_path, "CNN_LSTM", dataset=data, cnnLstm={**PARAMS, "epochs": 2})
    run_pods(work, tmp_path, pods=2)
    history = Path(artifacts.history_uri(work.output_uri).removeprefix("file://"))
    rows = [json.loads(line) for line in history.read_text().splitlines()]
    assert [r["steps"] for r in rows][-1] == 2 and all("loss" in r for r in rows)
