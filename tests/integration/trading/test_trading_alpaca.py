"""The alpaca adapter and whole paper sessions through alpaca-py against the local Alpaca server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kubetrade_testing.fakes.alpaca_trading import AlpacaTradingFake, Chaos
from kubetrade_testing.fakes.server import json_response
from kubetrade_testing.trading import ALPACA_KEYS, local_runtime, trade_job, trade_store
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
from kubetrade_workloads.trading.brokers.alpaca import AlpacaBroker
from kubetrade_workloads.trading.job import run

NOW = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def _order(coid: str = "kt-1", quantity: float = 10, side: Side = Side.BUY) -> Order:
    return Order(coid, "AAPL", side, quantity, NOW)


def test_orders_go_through_alpaca_py_with_their_client_ids(
    alpaca_trading: tuple[AlpacaTradingFake, str],
) -> None:
    fake, url = alpaca_trading
    broker = AlpacaBroker(ALPACA_KEYS, url=url, timeout=2)
    assert broker.paper and broker.connect().cash == 100_000
    fake.fill = "partial"
    ack = broker.place(_order())
    assert (ack.status, ack.filled_quantity, ack.average_price) == (
        OrderStatus.PARTIALLY_FILLED,
        5,
        100,
    )
    posted = [r for r in fake.requests if r.method == "POST"][0]
    assert posted.json()["client_order_id"] == "kt-1" and posted.json()["time_in_force"] == "day"
    with pytest.raises(DuplicateOrder, match="client_order_id must be unique"):
        broker.place(_order())
    found = broker.lookup("kt-1")
    assert found is not None and found.status == OrderStatus.FILLED and found.filled_quantity == 10
    assert fake.count("/v2/orders:by_client_order_id") == 1
    assert broker.lookup("kt-unknown") is None
    assert broker.positions()["AAPL"].quantity == 10
    with pytest.raises(OrderRejected, match="insufficient qty"):
        broker.place(_order("kt-2", 50, Side.SELL))
    assert broker.round_quantity("AAPL", 1.23456789) == pytest.approx(1.234567)
    broker.close()


def test_a_limit_order_rests_and_cancels(alpaca_trading: tuple[AlpacaTradingFake, str]) -> None:
    fake, url = alpaca_trading
    broker = AlpacaBroker(ALPACA_KEYS, url=url, timeout=2)
    fake.prices["AAPL"] = 120.0
    limit = Order("kt-l", "AAPL", Side.BUY, 3, NOW, type="limit", limit_price=110.0)  # type: ignore[arg-type]
    assert broker.place(limit).status == OrderStatus.NEW
    broker.cancel("kt-l")
    found = broker.lookup("kt-l")
    assert found is not None and found.status == OrderStatus.CANCELED
    broker.cancel("kt-l")  # already done: nothing happens
    assert [r.method for r in fake.requests if r.path.startswith("/v2/orders/")] == ["DELETE"]
    broker.close()


@pytest.mark.parametrize(
    ("chaos", "expected"),
    [
        (Chaos(rate_429=1.0), "HTTP 429"),
        (Chaos(rate_500=1.0, seed=1), "HTTP 500"),
        (Chaos(rate_timeout=1.0, delay=0.5), "no answer within 0.2s"),
    ],
)
def test_rate_limits_server_errors_and_timeouts_are_retryable(
    alpaca_trading: tuple[AlpacaTradingFake, str], chaos: Chaos, expected: str
) -> None:
    fake, url = alpaca_trading
    broker = AlpacaBroker(ALPACA_KEYS, url=url, timeout=0.2)
    fake.chaos = chaos
    with pytest.raises(BrokerUnavailable, match=expected):
        broker.place(_order())
    assert fake.count("/v2/orders") == 1  # alpaca-py's own retry is off: the router decides
    broker.close()


def test_refused_credentials_stop_the_session_before_any_order(
    alpaca_trading: tuple[AlpacaTradingFake, str], tmp_path: Path
) -> None:
    fake, url = alpaca_trading
    job = trade_job(tmp_path, broker={"type": "alpaca", "url": url})
    wrong = Credentials({"apiKey": "AKTESTKEY", "apiSecret": "wrong"})
    out = run(
        job,
        local_runtime(options=Options(credentials=wrong), alerter=Alerter([])),
    )
    assert out.code == 2 and "HTTP 401: request is not authorized" in out.reason
    assert fake.posts == 0 and [r.path for r in fake.requests] == ["/v2/account"]
    with pytest.raises(AuthenticationFailed, match="missing"):
        AlpacaBroker(Credentials({}))


def test_a_paper_session_trades_and_reconciles_after_a_restart(
    alpaca_trading: tuple[AlpacaTradingFake, str], tmp_path: Path
) -> None:
    fake, url = alpaca_trading
    job = trade_job(tmp_path, broker={"type": "alpaca", "url": url})
    runtime = local_runtime(options=Options(credentials=ALPACA_KEYS))
    first = run(job, runtime)
    assert first.code == 0 and fake.posts > 0
    out = run(
        job,
        local_runtime(options=Options(credentials=ALPACA_KEYS), max_bars=5),
    )
    assert out.snapshot is not None and out.snapshot.reconciled is True
    assert out.snapshot.reconcile_message.endswith("positions match the venue")


def test_a_position_the_store_does_not_know_halts_the_trader(
    alpaca_trading: tuple[AlpacaTradingFake, str], tmp_path: Path
) -> None:
    fake, url = alpaca_trading
    job = trade_job(tmp_path, broker={"type": "alpaca", "url": url})
    options = Options(credentials=ALPACA_KEYS)
    run(job, local_runtime(options=options, max_bars=40))
    fake.positions["MSFT"] = (
        fake.positions.get("MSFT", (0.0, 0.0))[0] + 7.0,
        100.0,
    )  # traded by hand
    posts = fake.posts
    out = run(
        job,
        local_runtime(options=options, max_bars=10, alerter=Alerter([])),
    )
    snap = out.snapshot
    assert snap is not None and snap.reconciled is False and snap.trading_state == "HALTED"
    assert "MSFT: store" in snap.reconcile_message and "venue" in snap.reconcile_message
    status = snap.status()["trading"]
    assert status["reconciled"] is False and status["tradingState"] == "HALTED"
    assert fake.posts == posts  # halted: nothing new was sent
    with trade_store(tmp_path) as store:
        events = store.risk_events(job.session_id)
    assert any(
        e["kind"] == "HaltRequested" and "reconciliation failed" in e["detail"] for e in events
    )


def test_a_blocked_account_is_refused(alpaca_trading: tuple[AlpacaTradingFake, str]) -> None:
    fake, url = alpaca_trading
    account = AlpacaTradingFake()._account() | {"trading_blocked": True}
    fake.fail(json_response(account), when=lambda seen: seen.path == "/v2/account")
    with pytest.raises(AuthenticationFailed, match="blocked"):
        AlpacaBroker(ALPACA_KEYS, url=url).connect()


def test_a_malformed_order_answer_is_an_unknown_outcome(
    alpaca_trading: tuple[AlpacaTradingFake, str],
) -> None:
    fake, url = alpaca_trading
    fake.fail(json_response({"status": "new"}), when=lambda seen: seen.method == "POST")
    broker = AlpacaBroker(ALPACA_KEYS, url=url, timeout=2)
    # Unknown, not rejected: the router looks the order up before sending it again.
    with pytest.raises(BrokerUnavailable, match="malformed order response"):
        broker.place(_order("kt-bad"))
    assert broker.lookup("kt-bad") is None  # the fake answered for it: it never saw it


def test_the_proxy_settings_are_read_once_from_the_environment(
    alpaca_trading: tuple[AlpacaTradingFake, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = alpaca_trading
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    session = AlpacaBroker(ALPACA_KEYS, paper=True)._client._session
    assert session.proxies.get("https") == "http://proxy.example:3128"
    assert not session.trust_env  # not re-read (with ~/.netrc) on every request
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert AlpacaBroker(ALPACA_KEYS, url=url)._client._session.proxies == {}


@pytest.mark.parametrize(
    ("change", "why"),
    [({"side": "hold"}, "'hold'"), ({"filled_avg_price": None}, "without a price")],
)
def test_an_order_answer_with_a_bad_side_or_no_fill_price_books_nothing(
    alpaca_trading: tuple[AlpacaTradingFake, str], change: dict[str, object], why: str
) -> None:
    fake, url = alpaca_trading
    broker = AlpacaBroker(ALPACA_KEYS, url=url, timeout=2)
    broker.place(_order("kt-real"))
    placed = fake.by_client_id["kt-real"].json()  # the venue's answer, then spoilt
    assert isinstance(placed, dict) and float(placed["filled_qty"]) > 0
    fake.fail(json_response(placed | change), when=lambda seen: seen.method == "GET")
    with pytest.raises(BrokerUnavailable, match=why):
        broker.lookup("kt-real")


def test_positions_that_cannot_be_read_are_unknown_not_empty(
    alpaca_trading: tuple[AlpacaTradingFake, str],
) -> None:
    fake, url = alpaca_trading
    broker = AlpacaBroker(ALPACA_KEYS, url=url, timeout=2)
    fake.fail(json_response([{"symbol": "AAPL"}]), when=lambda seen: seen.path == "/v2/positions")
    with pytest.raises(BrokerUnavailable, match="malformed position"):
        broker.positions()
    fake.fail(json_response({"oops": 1}), when=lambda seen: seen.path == "/v2/positions")
    with pytest.raises(BrokerUnavailable, match="unexpected positions response"):
        broker.positions()
    short = [{"symbol": "AAPL", "qty": "-3", "avg_entry_price": "100"}]  # no side: the sign says
    fake.fail(json_response(short), when=lambda seen: seen.path == "/v2/positions")
    assert broker.positions()["AAPL"].quantity == -3
