"""`trading-cli trade --local`: a paper session on this machine."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kubetrade_operator.cli.main import app


def test_a_local_paper_session_runs_and_resumes(tmp_path: Path) -> None:
    runner = CliRunner()
    args = [
        "trade",
        "--local",
        "--bars",
        "15",
        "--bar-seconds",
        "0.001",
        "--state-dir",
        str(tmp_path),
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["bars"] == 15 and summary["status"]["trading"]["reconciled"] is True
    assert (tmp_path / "trades.sqlite").exists()
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and json.loads(again.stdout)["bars"] == 15


def test_trade_needs_local_and_a_valid_session(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["trade"]).exit_code == 2
    bad = runner.invoke(
        app, ["trade", "--local", "--bar-seconds", "0", "--state-dir", str(tmp_path)]
    )
    assert bad.exit_code == 2 and "barSeconds" in bad.output
