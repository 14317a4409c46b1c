"""The ccxt adapter through ccxt's `binance` against the local Binance spot API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kubetrade_testing.fakes.binance_trading import COMMISSION, BinanceTradingFake
from kubetrade_testing.fakes.server import Response
from kubetrade_testing.market_data import PAIRS
from kubetrade_testing.trading import BINANCE_KEYS, local_runtime, trade_job
from kubetrade_workloads.data.sources.credentials import Credentials
from kubetrade_workloads.market.types import Order, OrderStatus, Side
from kubetrade_workloads.trading.alerts import Alerter
from kubetrade_workloads.trading.assemble import Options
from kubetrade_workloads.trading.brokers import (
    AuthenticationFailed,
    BrokerUnavailable,
    DuplicateOrder,
    OrderRejected,
)
from kubetrade_workloads.trading.brokers.ccxt import CcxtBroker
from kubetrade_workloads.trading.job import run

NOW = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def _broker(url: str, credentials: Credentials = BINANCE_KEYS, timeout: float = 2.0) -> CcxtBroker:
    return CcxtBroker("binance", credentials, PAIRS, url=url, timeout=timeout)


def test_spot_orders_carry_client_ids_and_positions_are_balances(
    binance_trading: tuple[BinanceTradingFake, str],
) -> None:
    fake, url = binance_trading
    fake.prices["BTC/USDT"] = 40_000.0
    fake.balances["BTC"] = 0.5  # held before the session: the baseline
    broker = _broker(url)
    assert broker.connect().cash == 100_000
    quantity = broker.round_quantity("BTC/USDT", 0.123456789)
    assert quantity == pytest.approx(0.12345)  # the LOT_SIZE step, truncated
    ack = broker.place(Order("kt-b1", "BTC/USDT", Side.BUY, quantity, NOW))
    assert ack.status == OrderStatus.FILLED and ack.average_price == pytest.approx(40_000)
    assert ack.commission == pytest.approx(quantity * 40_000 * COMMISSION)
    posted = [r for r in fake.requests if r.method == "POST"][0]
    assert b"newClientOrderId=kt-b1" in posted.body
    with pytest.raises(DuplicateOrder):
        broker.place(Order("kt-b1", "BTC/USDT", Side.BUY, quantity, NOW))
    found = broker.lookup("kt-b1", "BTC/USDT")
    assert found is not None and found.filled_quantity == pytest.approx(quantity)
    assert broker.lookup("kt-none", "BTC/USDT") is None
    assert broker.positions()["BTC/USDT"].quantity == pytest.approx(0.5 + quantity)
    with pytest.raises(OrderRejected, match="insufficient balance"):
        broker.place(Order("kt-b2", "ETH/USDT", Side.SELL, 1.0, NOW))


def test_exchange_errors_map_to_the_broker_contract(
    binance_trading: tuple[BinanceTradingFake, str],
) -> None:
    fake, url = binance_trading
    with pytest.raises(AuthenticationFailed, match="Signature"):
        _broker(url, Credentials({"apiKey": "binance-key", "apiSecret": "wrong"})).connect()
    with pytest.raises(AuthenticationFailed, match="Invalid API-key"):
        _broker(url, Credentials({"apiKey": "other", "apiSecret": "binance-secret"})).connect()
    broker = _broker(url, timeout=0.3)
    broker.connect()
    fake.fail(Response(503, b"Service Unavailable"), when=lambda seen: seen.method == "POST")
    with pytest.raises(BrokerUnavailable):
        broker.place(Order("kt-c1", "BTC/USDT", Side.BUY, 0.01, NOW))
    fake.late["POST /api/v3/order"] = 0.6  # taken, answered too late
    with pytest.raises(BrokerUnavailable, match="RequestTimeout"):
        broker.place(Order("kt-c2", "BTC/USDT", Side.BUY, 0.01, NOW))
    found = broker.lookup("kt-c2", "BTC/USDT")
    assert found is not None and found.status == OrderStatus.FILLED


def test_a_sandbox_session_trades_and_reconciles_on_top_of_its_baseline(
    binance_trading: tuple[BinanceTradingFake, str], tmp_path: Path
) -> None:
    fake, url = binance_trading
    fake.balances["ETH"] = 2.0
    job = trade_job(
        tmp_path,
        symbols=list(PAIRS),
        broker={"type": "ccxt", "exchange": "binance", "url": url},
        interval="1h",
    )
    options = Options(credentials=BINANCE_KEYS)
    first = run(
        job,
        local_runtime(options=options, max_bars=40, alerter=Alerter([])),
    )
    assert first.code == 0 and fake.posts > 0
    again = run(
        job,
        local_runtime(options=options, max_bars=2, alerter=Alerter([])),
    )
    assert again.snapshot is not None and again.snapshot.reconciled, (
        again.snapshot.reconcile_message
    )
