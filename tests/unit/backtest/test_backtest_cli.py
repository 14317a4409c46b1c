"""`trading-cli backtest` on a published dataset."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing.histories import publish, random_history
from kubetrade_workloads.market.history import FloatArray
from kubetrade_workloads.market.policy import Observation

runner = CliRunner()


def dataset(root: Path, folds: bool = True) -> Path:
    frame = random_history(31, bars=250, symbols=2).frame()
    times = pd.DatetimeIndex(np.sort(frame["timestamp"].unique()))
    spans = [
        {"fold": k, "test": {"start": times[a].isoformat(), "end": times[b].isoformat()}}
        for k, (a, b) in enumerate([(60, 119), (120, 179), (180, 249)], start=1)
    ]
    return publish(root, frame, {"interval": "1d", "folds": spans if folds else []})


def test_json_output_has_metrics_benchmark_and_folds(tmp_path: Path) -> None:
    root = dataset(tmp_path)
    out = tmp_path / "result.json"
    args = [
        "backtest",
        "--dataset",
        str(root),
        "--strategy",
        "ma-crossover",
        "--fast",
        "5",
        "--slow",
        "20",
        "--start",
        "2024-03-01",
        "--commission-bps",
        "5",
        "--output",
        "json",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["strategy"] == "ma-crossover" and doc["mode"] == "vectorized"
    assert doc["start"].startswith("2024-03-01")
    assert {"sharpe", "maxDrawdown", "alpha"} <= set(doc["metrics"])
    assert doc["benchmark"]["kind"] == "buy_and_hold"
    assert len(doc["walkForward"]["folds"]) == 3
    assert "spread" in doc["walkForward"]
    written = json.loads(out.read_text())
    assert len(written["series"]["equity"]) == doc["metrics"]["bars"]


def test_table_output_and_the_event_engine(tmp_path: Path) -> None:
    root = dataset(tmp_path, folds=False)
    args = [
        "backtest",
        "--dataset",
        str(root),
        "--strategy",
        "momentum",
        "--fill",
        "close",
        "--engine",
        "event",
        "--split",
        "test",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Sharpe" in result.output and "benchmark" in result.output
    assert "mode event" in result.output


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", "--dataset", str(tmp_path)])
    assert result.exit_code == 2
    assert "no manifest.json" in result.output
    root = dataset(tmp_path)
    result = runner.invoke(app, ["backtest", "--dataset", str(root), "--strategy", "moon"])
    assert result.exit_code == 2 and "choose from" in result.output
    result = runner.invoke(app, ["backtest", "--dataset", str(root), "--start", "2099-01-01"])
    assert result.exit_code == 2 and "no bars on or after" in result.output


@dataclass(frozen=True)
class NeedsRsi:
    """A policy trained on a feature the dataset lacks."""

    features: tuple[str, ...] = ("close", "rsi_14")
    lookback: int = 3

    def predict(self, observation: Observation) -> FloatArray:
        return np.zeros(len(observation.symbols))


def test_a_model_on_a_dataset_without_its_features_names_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real loader needs torch and a trained model; the CLI's part is the wiring.
    loader = types.ModuleType("kubetrade_workloads.training.policies")
    seen: list[str] = []

    def load_policy(uri: str) -> NeedsRsi:
        seen.append(uri)
        return NeedsRsi()

    loader.load_policy = load_policy  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kubetrade_workloads.training.policies", loader)
    root = dataset(tmp_path)
    result = runner.invoke(app, ["backtest", "--dataset", str(root), "--model", "models/ppo"])
    assert result.exit_code == 2
    assert "lacks features the model was trained on: ['rsi_14']" in result.output
    assert seen == [f"file://{Path('models/ppo').resolve()}"]
