"""Any ccxt exchange (spot), in its sandbox unless live trading is confirmed.

Orders carry the client order id as ccxt's `clientOrderId` (Binance's
`newClientOrderId`) and are looked up by it (`origClientOrderId`). On a spot
venue a "position" is the balance of the pair's base currency; balances the
account held before the session are the trader's baseline, not its trades.
ccxt's own `timeout` bounds each call; its exceptions map onto the broker
errors: network trouble, rate limits and 5xx are retryable, a refused key
stops the trader, an invalid order is rejected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import ccxt as ccxt_lib

from ...data.sources.ccxt import make_exchange
from ...data.sources.credentials import Credentials
from ...market.types import Order, OrderStatus, OrderType, Position, Side
from .base import (
    Account,
    AuthenticationFailed,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    DuplicateOrder,
    OrderRejected,
)

T = TypeVar("T")
# Binance answers a reused client order id with this (code -2010, mapped to InvalidOrder).
_DUPLICATE = ("Duplicate order sent", "clientOrderId is duplicated", "duplicate")


def _status(raw: Mapping[str, Any]) -> OrderStatus:
    status = raw.get("status")
    filled = float(raw.get("filled") or 0.0)
    if status == "closed":
        return OrderStatus.FILLED
    if status in ("canceled", "expired"):
        return OrderStatus.CANCELED
    if status == "rejected":
        return OrderStatus.REJECTED
    return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW


class CcxtBroker:
    """Spot orders and balances on one ccxt exchange."""

    name = "ccxt"
    # ccxt's rate-limit throttle is not thread-safe: one call at a time.
    max_in_flight = 1

    def __init__(
        self,
        exchange: str,
        credentials: Credentials,
        symbols: tuple[str, ...],
        *,
        sandbox: bool = True,
        url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        client = make_exchange(
            exchange, credentials, timeout_ms=int(timeout * 1000), url=url, sandbox=sandbox
        )
        if client is None:
            raise BrokerError(f"ccxt: no exchange named {exchange!r}")
        missing = credentials.missing("apiKey", "apiSecret")
        if missing:
            raise AuthenticationFailed(
                f"ccxt {exchange}: credentials {missing} are missing; put apiKey and apiSecret "
                "in the Secret named by credentialsSecretRef"
            )
        self._x = client
        self.exchange = exchange
        self.symbols = symbols
        self._loaded = False

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (ccxt_lib.AuthenticationError, ccxt_lib.PermissionDenied) as err:
            raise AuthenticationFailed(f"ccxt {self.exchange}: {what}: {err}") from err
        except ccxt_lib.NetworkError as err:  # timeouts, 5xx, rate limits, DDoS protection
            raise BrokerUnavailable(
                f"ccxt {self.exchange}: {what}: {type(err).__name__}: {err}"
            ) from err
        except ccxt_lib.InvalidOrder as err:
            if any(marker in str(err) for marker in _DUPLICATE):
                raise DuplicateOrder(f"ccxt {self.exchange}: {what}: {err}") from err
            raise OrderRejected(f"ccxt {self.exchange}: {what}: {err}") from err
        except ccxt_lib.ExchangeError as err:
            raise OrderRejected(
                f"ccxt {self.exchange}: {what}: {type(err).__name__}: {err}"
            ) from err

    def _markets(self) -> None:
        if not self._loaded:
            self._call("loading markets", self._x.load_markets)
            self._loaded = True

    def round_quantity(self, symbol: str, quantity: float) -> float:
        """The exchange's lot size, truncated (ccxt's amount_to_precision)."""
        self._markets()
        try:
            return float(self._x.amount_to_precision(symbol, quantity))
        except ccxt_lib.InvalidOrder:
            return 0.0  # below the smallest lot

    def connect(self) -> Account:
        """Load markets and read the balance, which proves the keys work."""
        self._markets()
        return self.account()

    def account(self) -> Account:
        """Free plus used quote currency as cash; equity is priced by the trader."""
        balance = self._call("reading the balance", self._x.fetch_balance)
        quote = self._x.market(self.symbols[0])["quote"] if self.symbols else "USDT"
        cash = float((balance.get("total") or {}).get(quote) or 0.0)
        return Account(cash, cash, quote)

    def place(self, order: Order) -> BrokerOrder:
        """create_order with the client order id."""
        self._markets()
        kind = "limit" if order.type == OrderType.LIMIT else "market"
        raw = self._call(
            f"placing {order.client_order_id}",
            lambda: self._x.create_order(
                order.symbol,
                kind,
                order.side.value,
                order.quantity,
                order.limit_price,
                {"clientOrderId": order.client_order_id},
            ),
        )
        return self._order(raw, order.client_order_id)

    def lookup(self, client_order_id: str, symbol: str) -> BrokerOrder | None:
        """fetch_order by client order id; None when the exchange does not know it."""
        self._markets()
        try:
            raw = self._call(
                f"looking up {client_order_id}",
                lambda: self._x.fetch_order(None, symbol, {"origClientOrderId": client_order_id}),
            )
        except OrderRejected as err:
            if isinstance(err.__cause__, ccxt_lib.OrderNotFound):
                return None
            raise
        return self._order(raw, client_order_id)

    def cancel(self, client_order_id: str, symbol: str) -> None:
        """cancel_order by client order id; an order already done is left alone."""
        self._markets()
        try:
            self._call(
                f"cancelling {client_order_id}",
                lambda: self._x.cancel_order(None, symbol, {"origClientOrderId": client_order_id}),
            )
        except OrderRejected:
            return  # unknown or already done: the next lookup tells

    def positions(self) -> Mapping[str, Position]:
        """Base-currency balances of the traded pairs (average price unknown: 0)."""
        self._markets()
        balance = self._call("reading the balance", self._x.fetch_balance)
        totals = balance.get("total") or {}
        out: dict[str, Position] = {}
        for symbol in self.symbols:
            amount = float(totals.get(self._x.market(symbol)["base"]) or 0.0)
            if amount:
                out[symbol] = Position(symbol, amount, 0.0)
        return out

    def advance(self, time: dt.datetime, prices: Mapping[str, tuple[float, ...]]) -> None:
        """The exchange fills on its own clock."""

    def settle(self) -> bool:
        """The exchange fills on its own clock: nothing changes here."""
        return False

    def close(self) -> None:
        """ccxt's sync client holds a requests session; nothing else to release."""

    def _order(self, raw: Mapping[str, Any], client_order_id: str) -> BrokerOrder:
        filled = float(raw.get("filled") or 0.0)
        market = self._x.market(raw["symbol"])
        fee = raw.get("fee") or {}
        commission = (
            float(fee.get("cost") or 0.0) if fee.get("currency") == market["quote"] else 0.0
        )
        return BrokerOrder(
            client_order_id=str(raw.get("clientOrderId") or client_order_id),
            broker_order_id=str(raw.get("id")),
            symbol=str(raw["symbol"]),
            side=Side(raw["side"]),
            quantity=float(raw.get("amount") or 0.0),
            status=_status(raw),
            filled_quantity=filled,
            average_price=float(raw["average"]) if filled > 0 and raw.get("average") else None,
            commission=commission,
        )
