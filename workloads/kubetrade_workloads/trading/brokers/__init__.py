"""Venues the trader sends orders to: the simulated one (the default), Alpaca, ccxt."""

from __future__ import annotations

from ...config.trading import BrokerType, Mode, TradingConfig
from ...data.sources.credentials import Credentials
from ...market.costs import CostModel
from ...market.types import Position
from .base import (
    Account,
    AuthenticationFailed,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    DuplicateOrder,
    OrderRejected,
    TradingBroker,
)

__all__ = [
    "Account",
    "AuthenticationFailed",
    "BrokerError",
    "BrokerOrder",
    "BrokerUnavailable",
    "DuplicateOrder",
    "OrderRejected",
    "TradingBroker",
    "is_live",
    "open_broker",
]


def is_live(config: TradingConfig) -> bool:
    """Real money only with mode live AND confirmLive (the API server enforces both too)."""
    return config.mode == Mode.LIVE and config.confirm_live


def open_broker(
    config: TradingConfig,
    symbols: tuple[str, ...],
    credentials: Credentials,
    *,
    cash: float,
    positions: dict[str, Position],
    timeout: float = 10.0,
) -> TradingBroker:
    """The venue `config.broker` names; `cash` and `positions` seed the simulated one."""
    kind = BrokerType(config.broker.type)
    if kind == BrokerType.ALPACA:
        from .alpaca import AlpacaBroker

        return AlpacaBroker(
            credentials, paper=not is_live(config), url=config.broker.url, timeout=timeout
        )
    if kind == BrokerType.CCXT:
        from .ccxt import CcxtBroker

        return CcxtBroker(
            config.broker.exchange or "",
            credentials,
            symbols,
            sandbox=not is_live(config),
            url=config.broker.url,
            timeout=timeout,
        )
    from .sim import SimVenue

    costs = CostModel.from_config(config.costs)
    return SimVenue(symbols, costs, cash=cash, positions=positions)
