"""Trader test helpers: the fake venues as fixtures, and a TradeJob factory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubetrade_testing.fakes.alpaca_trading import AlpacaTradingFake
from kubetrade_testing.fakes.binance_trading import BinanceTradingFake
from kubetrade_testing.fakes.server import serve
from kubetrade_testing.market_data import PAIRS, truth
from kubetrade_workloads.config import TradeJob
from kubetrade_workloads.data.sources.credentials import Credentials

ALPACA_KEYS = Credentials({"apiKey": "AKTESTKEY", "apiSecret": "test-secret"}, "test")
BINANCE_KEYS = Credentials({"apiKey": "binance-key", "apiSecret": "binance-secret"}, "test")
LOCAL_OWNER = {
    "apiVersion": "local",
    "kind": "TradingSession",
    "name": "paper",
    "namespace": "default",
    "uid": "local",
}


def trade_job(state_dir: Path, *, session: str = "default/paper", **trading: Any) -> TradeJob:
    """A local paper session (no Lease, no metrics port); keyword arguments go to `trading`."""
    base: dict[str, Any] = {"symbols": ["AAPL", "MSFT"], "barSeconds": 0.0001}
    return TradeJob.model_validate(
        {
            "owner": LOCAL_OWNER,
            "modelUri": "baseline:ma-crossover?fast=3&slow=8",
            "sessionId": session,
            "stateDir": str(state_dir),
            "lease": False,
            "metricsPort": 0,
            "trading": base | trading,
        }
    )


@pytest.fixture
def alpaca_trading() -> Iterator[tuple[AlpacaTradingFake, str]]:
    """Alpaca's trading API for one paper account: (fake, base URL)."""
    fake = AlpacaTradingFake()
    with serve(fake) as url:
        yield fake, url


@pytest.fixture
def binance_trading() -> Iterator[tuple[BinanceTradingFake, str]]:
    """Binance's spot API with an account holding USDT: (fake, base URL)."""
    fake = BinanceTradingFake({"1d": truth(PAIRS, "1d")})
    with serve(fake) as url:
        yield fake, url
