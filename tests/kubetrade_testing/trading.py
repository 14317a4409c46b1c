"""Trader test helpers: the fake venues as fixtures, a TradeJob factory, the Runtime
of an in-process session and its store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kubetrade_testing.fakes.alpaca_trading import AlpacaTradingFake
from kubetrade_testing.fakes.binance_trading import BinanceTradingFake
from kubetrade_testing.fakes.server import serve
from kubetrade_testing.market_data import PAIRS, truth
from kubetrade_workloads.config import TradeJob
from kubetrade_workloads.data.sources.credentials import Credentials
from kubetrade_workloads.trading.alerts import Alert
from kubetrade_workloads.trading.job import Runtime
from kubetrade_workloads.trading.lease import NoLease
from kubetrade_workloads.trading.metrics import TraderMetrics
from kubetrade_workloads.trading.store import TradeStore, open_engine

ALPACA_KEYS = Credentials({"apiKey": "AKTESTKEY", "apiSecret": "test-secret"}, "test")
BINANCE_KEYS = Credentials({"apiKey": "binance-key", "apiSecret": "binance-secret"}, "test")
LOCAL_OWNER = {
    "apiVersion": "local",
    "kind": "TradingSession",
    "name": "paper",
    "namespace": "default",
    "uid": "local",
}


class Collect:
    """An alert channel that keeps what it is sent."""

    name = "collect"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        """Keep `alert`."""
        self.alerts.append(alert)


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


def local_runtime(max_bars: int | None = None, **options: Any) -> Runtime:
    """The Runtime of an in-process session: no Lease, metrics in a registry of its
    own (nothing served); keyword arguments go to `Runtime`."""
    return Runtime(max_bars=max_bars, lease=NoLease(), metrics=TraderMetrics(), **options)


@contextmanager
def trade_store(state_dir: Path) -> Iterator[TradeStore]:
    """The SQLite trade store a local session keeps in `state_dir`, closed after."""
    engine, _ = open_engine(None, state_dir)
    try:
        yield TradeStore(engine)
    finally:
        engine.dispose()


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
