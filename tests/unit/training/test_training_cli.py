"""`trading-cli train` and `trading-cli train resume` on this machine."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing import markets


def test_train_then_resume_from_the_cli(tmp_path: Path) -> None:
    dataset = markets.dataset(tmp_path / "ds", n=160)
    config = tmp_path / "training.yaml"
    config.write_text(
        "checkpointEvery: 32\n"
        "environment: {window: 5, numEnvs: 2, episodeLength: 16}\n"
        "ppo: {nSteps: 16, batchSize: 32, nEpochs: 1}\n"
    )
    out = tmp_path / "model"
    runner = CliRunner()
    args = [
        "train",
        "--algorithm",
        "PPO",
        "--episodes",
        "4",
        "--dataset",
        dataset,
        "--out",
        str(out),
    ]
    result = runner.invoke(
        app, [*args, "--config", str(config), "--save-best", "--early-stopping", "5"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["steps"] == 64  # 4 episodes of 16 steps
    run = json.loads((out / "run.json").read_text())
    assert run["training"]["saveBest"] is True and run["training"]["earlyStoppingPatience"] == 5

    result = runner.invoke(app, ["train", "resume", "--checkpoint", str(out), "--timesteps", "128"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output[result.output.index("{") :])["steps"] == 128


def test_unknown_algorithm_is_refused() -> None:
    result = CliRunner().invoke(app, ["train", "--algorithm", "DQN"])
    assert result.exit_code != 0 and "unknown algorithm" in result.output
