"""`trading-cli train tune` is `trading-cli optimize` by another name, and both
search the forecaster with its own objective."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing import markets


def _options(*command: str) -> set[str]:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    return set(re.findall(r"--[a-z][a-z-]+", result.output))


def test_train_tune_is_optimize_under_another_name() -> None:
    help_text = CliRunner().invoke(app, ["train", "tune", "--help"]).output
    assert "Alias of `trading-cli optimize`" in help_text
    assert _options("train", "tune") == _options("optimize")
    assert {"--algorithm", "--trials", "--parallel", "--trial-timeout", "--epochs"} <= _options(
        "optimize"
    )
    assert "tune" in CliRunner().invoke(app, ["train", "--help"]).output


def test_train_tune_searches_the_forecaster_on_its_validation_loss(tmp_path: Path) -> None:
    dataset = markets.dataset(tmp_path / "ds", n=160)
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        app,
        [
            "train", "tune", "--algorithm", "CNN_LSTM", "--epochs", "2", "--trials", "3",
            "--dataset", dataset, "--out", str(out), "--sampler", "random",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["trials"] == 3 and summary["completed"] >= 1
    card = json.loads((out / "model_card.json").read_text())
    assert card["files"] == {"forecaster": "forecaster.pt"}
    # Minimised: the best value is the lowest validation loss of the completed trials.
    rows = json.loads((out / "trials.json").read_text())
    losses = [r["value"] for r in rows if r["state"] == "COMPLETE"]
    assert summary["bestValue"] == min(losses) == card["metrics"]["validationLoss"]
    assert {"param.learningRate", "param.hiddenSize"} <= set(rows[0])


def test_an_unknown_algorithm_is_refused_by_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", "tune", "--algorithm", "DQN"])
    assert result.exit_code != 0 and "DQN" in result.output
