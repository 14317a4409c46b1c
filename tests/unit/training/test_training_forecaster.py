"""The CNN-LSTM forecaster and HYBRID: causal, early-stopping, served like the RL agents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from kubetrade_testing import markets, training
from kubetrade_workloads.config.training import CnnLstmParams
from kubetrade_workloads.envs.dataset import open_dataset
from kubetrade_workloads.market.policy import PolicyStrategy
from kubetrade_workloads.training import artifacts, job
from kubetrade_workloads.training.forecaster import CnnLstm
from kubetrade_workloads.training.policies import load_policy


def test_the_forecaster_reads_its_window_in_order_without_peeking() -> None:
    torch.manual_seed(0)
    model = CnnLstm(4, CnnLstmParams(hidden_size=8, layers=1, kernel_size=3, dropout=0.0)).eval()
    x = torch.randn(2, 10, 4)
    h = torch.nn.functional.pad(x.transpose(1, 2), (2, 0))
    conv = model.conv(h)
    changed = x.clone()
    changed[:, 7:] += 1.0  # later bars only
    conv_changed = model.conv(torch.nn.functional.pad(changed.transpose(1, 2), (2, 0)))
    torch.testing.assert_close(conv[..., :7], conv_changed[..., :7])  # causal convolution
    assert model(x).shape == (2,)


def test_cnn_lstm_trains_stops_early_and_serves(tmp_path: Path) -> None:
    work = training.job(
        tmp_path,
        "CNN_LSTM",
        cnnLstm={"epochs": 50, "patience": 1, "hiddenSize": 8, "layers": 1, "learningRate": 0.05},
    )
    result = job.run(work)
    assert result.stopped_early and result.card.steps < 50
    assert (tmp_path / "out" / "forecaster.pt").exists()
    forecaster = result.card.forecaster
    assert forecaster is not None and forecaster.target_scale > 0
    assert np.isfinite(result.card.metrics["validationLoss"])
    policy = load_policy(result.model_uri)
    history = open_dataset(work.dataset_uri).history("test")
    weights = PolicyStrategy(policy).target_weights(history, np.zeros(2))
    assert isinstance(weights, np.ndarray) and weights.shape == (2,)
    assert np.all(weights >= 0) and weights.sum() <= 1.0 + 1e-9


def test_a_resumed_forecaster_continues_from_its_epoch(tmp_path: Path) -> None:
    first = job.run(
        training.job(
            tmp_path,
            "CNN_LSTM",
            cnnLstm={"epochs": 2, "patience": 50, "hiddenSize": 8, "layers": 1},
        )
    )
    assert first.card.steps == 2
    resumed = training.job(
        tmp_path,
        "CNN_LSTM",
        dataset=first.card.dataset.uri,
        resume_from="latest",
        cnnLstm={"epochs": 3, "patience": 50, "hiddenSize": 8, "layers": 1},
    )
    assert job.run(resumed).card.steps == 3


def test_hybrid_blends_forecaster_and_agent(tmp_path: Path) -> None:
    result = job.run(training.job(tmp_path, "HYBRID"))
    card = artifacts.read_card(result.model_uri)
    assert card.files == {"policy": "policy.zip", "forecaster": "forecaster.pt"}
    assert card.training.hybrid is not None and card.training.hybrid.cnn_weight == pytest.approx(
        0.4
    )
    policy = load_policy(result.model_uri)
    assert policy.agent is not None and policy.forecaster is not None and policy.cnn_weight == 0.4
    history = markets.history(n=40, seed=9)
    weights = PolicyStrategy(policy).target_weights(history, np.zeros(2))
    assert np.isfinite(np.asarray(weights)).all()
