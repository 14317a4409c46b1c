"""The trader's job file, its venue choice and its model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kubetrade_testing.trading import ALPACA_KEYS, BINANCE_KEYS, trade_job
from kubetrade_workloads.config import TradeJob, TradingConfig
from kubetrade_workloads.data.sources.credentials import Credentials
from kubetrade_workloads.trading.brokers import (
    AuthenticationFailed,
    BrokerError,
    is_live,
    open_broker,
)
from kubetrade_workloads.trading.brokers.alpaca import AlpacaBroker
from kubetrade_workloads.trading.brokers.ccxt import CcxtBroker
from kubetrade_workloads.trading.brokers.sim import SimVenue
from kubetrade_workloads.trading.lease import NoLease, holder_identity
from kubetrade_workloads.trading.model import ModelError, load_model

LIVE = {"mode": "live", "confirmLive": True, "credentialsSecretRef": {"name": "keys"}}


def test_a_trade_job_round_trips_with_the_operators_fields(tmp_path: Path) -> None:
    job = trade_job(tmp_path)
    wire = job.to_wire()
    assert TradeJob.model_validate(wire) == job
    assert {
        "owner",
        "modelUri",
        "sessionId",
        "trading",
        "stateDir",
        "lease",
        "metricsPort",
        "replaySplit",
    } <= set(wire)
    with pytest.raises(ValidationError, match="sessionId"):
        TradeJob.model_validate(wire | {"sessionId": ""})
    with pytest.raises(ValidationError, match="extra"):
        TradeJob.model_validate(wire | {"unknown": 1})


def test_alert_settings_are_validated() -> None:
    config = TradingConfig.model_validate(
        {
            "alerts": {
                "email": {"smtpHost": "mail", "sender": "t@k.io", "recipients": ["d@k.io"]},
                "minSeverity": "critical",
            }
        }
    )
    assert config.alerts.email is not None and config.alerts.email.smtp_port == 587
    with pytest.raises(ValidationError, match="recipients"):
        TradingConfig.model_validate(
            {"alerts": {"email": {"smtpHost": "mail", "sender": "t@k.io", "recipients": []}}}
        )
    with pytest.raises(ValidationError, match="url"):
        TradingConfig.model_validate({"broker": {"type": "alpaca", "url": "ftp://x"}})


def test_paper_unless_live_is_confirmed() -> None:
    assert not is_live(TradingConfig())
    live = TradingConfig.model_validate(LIVE | {"broker": {"type": "alpaca"}})
    assert is_live(live)
    paper = open_broker(
        TradingConfig.model_validate({"broker": {"type": "alpaca"}}),
        ("AAPL",),
        ALPACA_KEYS,
        cash=0,
        positions={},
    )
    assert isinstance(paper, AlpacaBroker) and paper.paper
    real = open_broker(live, ("AAPL",), ALPACA_KEYS, cash=0, positions={})
    assert isinstance(real, AlpacaBroker) and not real.paper
    for broker in (paper, real):
        broker.close()


def test_the_ccxt_venue_is_a_sandbox_unless_live() -> None:
    config = TradingConfig.model_validate({"broker": {"type": "ccxt", "exchange": "binance"}})
    sandbox = open_broker(config, ("BTC/USDT",), BINANCE_KEYS, cash=0, positions={})
    assert isinstance(sandbox, CcxtBroker)
    assert "testnet" in str(sandbox._x.urls["api"])  # noqa: SLF001 - ccxt's own URL table
    live = TradingConfig.model_validate(LIVE | {"broker": {"type": "ccxt", "exchange": "binance"}})
    real = open_broker(live, ("BTC/USDT",), BINANCE_KEYS, cash=0, positions={})
    assert "testnet" not in str(real._x.urls["api"])  # noqa: SLF001
    with pytest.raises(BrokerError, match="no exchange named"):
        CcxtBroker("nope", BINANCE_KEYS, ("BTC/USDT",))
    with pytest.raises(AuthenticationFailed, match="apiSecret"):
        CcxtBroker("binance", Credentials({"apiKey": "k"}), ("BTC/USDT",))


def test_the_sim_venue_is_the_default() -> None:
    venue = open_broker(TradingConfig(), ("AAPL",), Credentials(), cash=1_000, positions={})
    assert isinstance(venue, SimVenue) and venue.connect().cash == 1_000


def test_models_and_baselines_load_by_uri(tmp_path: Path) -> None:
    loaded = load_model("baseline:ma-crossover?fast=3&slow=8")
    assert loaded.symbols is None and loaded.strategy.lookback == 8
    assert load_model("baseline:momentum?window=5&top=1").strategy.lookback == 6
    with pytest.raises(ModelError, match="unknown strategy"):
        load_model("baseline:nope")
    with pytest.raises(ModelError, match="fast"):
        load_model("baseline:ma-crossover?fast=9&slow=8")


def test_local_runs_need_no_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    lease = NoLease()
    assert lease.held and lease.acquire(None)  # type: ignore[arg-type]
    monkeypatch.setenv("HOSTNAME", "paper-trader-7d9f-abcde")
    assert holder_identity() == "paper-trader-7d9f-abcde"
