"""`trading-cli data collect` with a network source, credentials and the bar cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubetrade_operator.cli.data import app
from kubetrade_testing.fakes.binance import BinanceFake


def test_collect_from_an_exchange_twice_fetches_once(
    binance: tuple[BinanceFake, str],
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake, url = binance
    # The command exports these for the workload; put them back afterwards.
    monkeypatch.setenv("KUBETRADE_REDIS_URL", "")
    monkeypatch.setenv("KUBETRADE_CREDENTIALS_DIR", "")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "apiKey").write_text("public-data-needs-none\n")
    args = [
        "collect",
        "--source",
        "ccxt",
        "--exchange",
        "binance",
        "--uri",
        url,
        "--symbols",
        "BTC/USDT,ETH/USDT",
    ]
    args += ["--start", "2024-01-01", "--end", "2024-07-01", "--credentials-dir", str(creds)]
    args += ["--cache", "--cache-ttl", "300", "--redis-url", redis_url]
    runner = CliRunner()
    first = runner.invoke(app, [*args, "--output", str(tmp_path / "one")])
    assert first.exit_code == 0, first.output
    fetched = fake.count("/api/v3/klines")
    second = runner.invoke(app, [*args, "--output", str(tmp_path / "two")])
    assert second.exit_code == 0, second.output
    assert fake.count("/api/v3/klines") == fetched > 0
    summary = json.loads(second.output[second.output.index("{") :])
    assert summary["symbols"] == ["BTC/USDT", "ETH/USDT"]
