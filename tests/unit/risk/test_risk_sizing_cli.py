"""`trading-cli backtest --risk`: a session's risk section, sizing included, in a backtest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing.histories import publish, random_history
from kubetrade_testing.sizing import wide

runner = CliRunner()


def _dataset(root: Path) -> Path:
    root.mkdir()
    frame = random_history(7, bars=200, symbols=2).frame()
    times = pd.DatetimeIndex(np.sort(frame["timestamp"].unique()))
    spans = [
        {"fold": k, "test": {"start": times[a].isoformat(), "end": times[b].isoformat()}}
        for k, (a, b) in enumerate([(80, 139), (140, 199)], start=1)
    ]
    return publish(root, frame, {"interval": "1d", "folds": spans})


def _backtest(root: Path, *extra: str) -> dict[str, Any]:
    args = ["backtest", "--dataset", str(root), "--strategy", "buy-and-hold", "--fill", "close"]
    args += ["--commission-bps", "0", "--slippage-bps", "0", "--output", "json", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.output)
    return doc


def test_sizing_from_a_risk_file_scales_the_backtest(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds")
    plain = _backtest(root)
    weights = tmp_path / "weights.yaml"
    weights.write_text(yaml.safe_dump(wide()))
    as_weights = _backtest(root, "--risk", str(weights))
    session = tmp_path / "session.yaml"
    spec = {"risk": wide(method="fixed_fraction", fraction=0.1)}
    session.write_text(yaml.safe_dump({"kind": "TradingSession", "spec": spec}))
    sized = _backtest(root, "--risk", str(session))
    gross = [d["metrics"]["grossExposure"] for d in (plain, as_weights, sized)]
    assert (plain["mode"], as_weights["mode"], sized["mode"]) == ("vectorized", "event", "event")
    assert gross[1] == pytest.approx(gross[0], rel=1e-9)  # no method: the same weights
    # Each half-equity target read as a signal of 0.5: 0.1 x 0.5 per symbol, bought
    # once and then drifting with the prices (a tenth of the plain run's gross, roughly).
    assert 0.05 < gross[2] < 0.15 < 0.8 < gross[0]
    assert len(sized["walkForward"]["folds"]) == 2  # each fold through a fresh manager


def test_a_bad_risk_file_is_one_clear_line(tmp_path: Path) -> None:
    root = _dataset(tmp_path / "ds")
    bad = tmp_path / "risk.yaml"
    bad.write_text("sizing:\n  method: yolo\n")
    args = ["backtest", "--dataset", str(root), "--risk", str(bad)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "sizing.method" in result.output
