"""Searches over the CNN-LSTM forecaster and HYBRID, and the per-trial wall-clock
deadline that stops a trial between validations."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from kubetrade_testing import training
from kubetrade_workloads.envs.vec_env import VecTradingEnv
from kubetrade_workloads.training import cnn_lstm
from kubetrade_workloads.tuning import study, worker
from kubetrade_workloads.tuning.deadline import Deadline, TrialTimeout

FORECASTER_SPACE = [
    {"name": "learningRate", "low": 1e-4, "high": 3e-2, "log": True},
    {"name": "hiddenSize", "type": "categorical", "choices": [4, 8, 16]},
]


def _trials(job: Any) -> list[FrozenTrial]:
    store = study.study_storage(job.output_uri)
    trials = optuna.load_study(study_name=worker.study_name(job), storage=store).trials
    assert [t.number for t in trials] == list(range(len(trials)))
    return trials


def _card(folder: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((folder / "model_card.json").read_text())
    return card


def test_a_forecaster_sweep_prunes_on_each_epochs_validation_loss(tmp_path: Path) -> None:
    search = {
        "space": FORECASTER_SPACE,
        "objective": "validationLoss",
        "direction": "minimize",
        "pruner": "median",
        "maxTrials": 8,
        "seed": 3,
    }
    forecaster = {"epochs": 4, "patience": 4, "hiddenSize": 8, "layers": 1, "batchSize": 64}
    job = training.job(tmp_path, "CNN_LSTM", cnnLstm=forecaster, search=search)
    summary = worker.run(job, 0)
    trials = _trials(job)
    assert summary["trials"] == 8 and summary["completed"] >= 2 and summary["pruned"] >= 1
    # The pruner heard one validation loss per epoch, at epochs 1, 2, ...
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    assert all(sorted(t.intermediate_values) == [1, 2, 3, 4] for t in done)
    assert all(max(t.intermediate_values) < 4 for t in trials if t.state == TrialState.PRUNED)
    best = min(done, key=lambda t: t.value or 0.0)
    assert summary["bestValue"] == pytest.approx(best.value)
    assert best.value == pytest.approx(min(best.intermediate_values.values()))  # best epoch kept
    # The best trial's forecaster and card are the run's model.
    out, source = tmp_path / "out", tmp_path / "out" / "trials" / f"{best.number:04d}"
    assert (out / "forecaster.pt").read_bytes() == (source / "forecaster.pt").read_bytes()
    card = _card(out)
    assert card["files"] == {"forecaster": "forecaster.pt"}
    assert card["metrics"]["validationLoss"] == pytest.approx(best.value)
    assert card["hyperparameters"]["hidden_size"] == best.params["hiddenSize"]
    assert card["metrics"]["trials"] == 8


def test_a_hybrid_sweep_varies_the_forecaster_the_agent_and_the_share(tmp_path: Path) -> None:
    space = [
        {"name": "cnnLstm.hiddenSize", "type": "categorical", "choices": [4, 8]},
        {"name": "ppo.learningRate", "low": 1e-4, "high": 1e-2, "log": True},
        {"name": "hybrid.cnnWeight", "low": 0.1, "high": 0.7},
    ]
    search = {"space": space, "pruner": "none", "maxTrials": 2, "seed": 1, "trialTimesteps": 128}
    job = training.job(tmp_path, "HYBRID", search=search)
    summary = worker.run(job, 0)
    assert summary["completed"] == 2
    assert set(summary["bestParams"]) == {
        "cnnLstm.hiddenSize",
        "ppo.learningRate",
        "hybrid.cnnWeight",
    }
    for trial in _trials(job):
        card = _card(tmp_path / "out" / "trials" / f"{trial.number:04d}")
        chosen = card["hyperparameters"]
        assert chosen["cnnLstm"]["hidden_size"] == trial.params["cnnLstm.hiddenSize"]
        assert chosen["rl"]["learning_rate"] == pytest.approx(trial.params["ppo.learningRate"])
        weight = trial.params["hybrid.cnnWeight"]
        assert chosen["hybrid"]["cnn_weight"] == pytest.approx(weight)
        assert chosen["hybrid"]["rl_weight"] == pytest.approx(1.0 - weight)  # the shares sum to 1
    out = tmp_path / "out"
    assert (out / "policy.zip").exists() and (out / "forecaster.pt").exists()
    assert _card(out)["files"] == {"policy": "policy.zip", "forecaster": "forecaster.pt"}


def test_a_deadline_passes_on_its_clock() -> None:
    now = [100.0]
    deadline = Deadline(5.0, clock=lambda: now[0])
    now[0] = 105.0
    deadline.check()  # at the limit: still within it
    now[0] = 105.1
    with pytest.raises(TrialTimeout, match="5 s"):
        deadline.check()
    Deadline(None, clock=lambda: now[0] + 1e9).check()  # no limit set


def _slowed(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, seconds: float) -> None:
    """Make `owner.name` sleep before doing its work: a trial that stalls."""
    original: Callable[..., Any] = getattr(owner, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, slow)


def test_an_agent_stalled_between_evaluations_is_stopped_and_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1000 steps of 4 ms each before the first evaluation: ~4 s; the deadline is 1 s.
    search = {
        "space": [{"name": "learningRate", "low": 1e-4, "high": 1e-3}],
        "pruner": "none",
        "maxTrials": 1,
        "trialTimesteps": 4000,
        "trialTimeoutSeconds": 1,
    }
    job = training.job(tmp_path, "PPO", evalEvery=2000, search=search)
    _slowed(monkeypatch, VecTradingEnv, "step_wait", 0.004)
    with pytest.raises(RuntimeError, match="no trial of 1 completed"):
        worker.run(job, 0)
    (trial,) = _trials(job)
    assert trial.state == TrialState.FAIL and trial.user_attrs["timedOut"] is True
    assert trial.intermediate_values == {}  # stopped before its first evaluation
    rows = json.loads((tmp_path / "out" / "trials.json").read_text())
    assert rows[0]["timedOut"] is True


def test_a_forecaster_stalled_inside_an_epoch_is_stopped_before_the_epoch_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = {
        "space": FORECASTER_SPACE[:1],
        "objective": "validationLoss",
        "direction": "minimize",
        "pruner": "none",
        "maxTrials": 1,
        "trialTimeoutSeconds": 1,
    }
    # Batches of 4 samples, each 50 ms late: one epoch takes several seconds.
    forecaster = {"epochs": 2, "hiddenSize": 4, "layers": 1, "batchSize": 4}
    job = training.job(tmp_path, "CNN_LSTM", cnnLstm=forecaster, search=search)
    _slowed(monkeypatch, cnn_lstm, "windows", 0.05)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="no trial of 1 completed"):
        worker.run(job, 0)
    assert time.monotonic() - started < 30
    (trial,) = _trials(job)
    assert trial.state == TrialState.FAIL and trial.user_attrs["timedOut"] is True
    assert trial.intermediate_values == {}  # no epoch finished
    checkpoints = tmp_path / "out" / "trials" / "0000" / "checkpoints" / "forecaster"
    assert not checkpoints.exists() or not any(checkpoints.iterdir())


def test_a_deadline_out_of_a_trial_leaves_no_hook_behind(tmp_path: Path) -> None:
    import torch

    deadline = Deadline(0.0, clock=iter([0.0, 1.0, 1.0, 1.0]).__next__)
    layer = torch.nn.Linear(2, 1)
    with pytest.raises(TrialTimeout), deadline.enforced():
        layer(torch.zeros(1, 2))
    layer(torch.zeros(1, 2))  # outside: no deadline checked
