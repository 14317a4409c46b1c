"""Alpaca through alpaca-py's `TradingClient`: paper unless live is confirmed.

Retries are the order router's job, not the library's: alpaca-py would resend
`POST /orders` after a 429 or 504 three times, three seconds apart, while the
router first asks `GET /v2/orders:by_client_order_id` whether the order got
through. So the client is built through `RESTClient`'s public constructor with
a retry list no server answers with, and every call runs under a `Deadline`.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests

with warnings.catch_warnings():
    # alpaca-py 0.44 imports websockets.legacy for its streaming clients, unused here.
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.common.enums import BaseURL
    from alpaca.common.exceptions import APIError
    from alpaca.common.rest import RESTClient
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from ...data.sources.credentials import Credentials
from ...market.cadence import is_crypto
from ...market.rebalance import round_down
from ...market.types import Order, OrderStatus, OrderType, Position, Side
from .base import (
    Account,
    AuthenticationFailed,
    BrokerOrder,
    BrokerUnavailable,
    DuplicateOrder,
    OrderRejected,
    terminal,
)
from .deadline import Deadline

T = TypeVar("T")
QUANTITY_STEP = 1e-6
# A status no server sends: alpaca-py treats an empty retry list as "use the default".
_NO_RETRY = [999]
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_STATUS = {
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "suspended": OrderStatus.REJECTED,
}


class _Client(TradingClient):
    """A TradingClient that leaves retries to the caller and answers with the API's
    JSON (`raw_data`): its pydantic models cost a fifth of a call's CPU, for fields
    the broker reads by name anyway."""

    def __init__(self, key: str, secret: str, *, paper: bool, url: str | None) -> None:
        base = url or (BaseURL.TRADING_PAPER if paper else BaseURL.TRADING_LIVE)
        RESTClient.__init__(
            self,
            base_url=base,
            api_key=key,
            secret_key=secret,
            api_version="v2",
            sandbox=paper,
            raw_data=True,
            retry_exception_codes=_NO_RETRY,
        )
        # A session that trusts the environment reads the proxy variables and
        # ~/.netrc again on every request (another fifth of a call's CPU); the
        # environment is read once here instead, with the same effect.
        session = self._session
        address = base.value if isinstance(base, BaseURL) else base
        session.proxies.update(requests.utils.get_environ_proxies(address))
        session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        session.trust_env = False


def _float(value: Any) -> float:
    return float(value) if value not in (None, "") else 0.0


def _json(raw: object, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BrokerUnavailable(f"alpaca: unexpected {what} response {type(raw).__name__}")
    return raw


def _describe(err: APIError) -> str:
    try:
        return str(err.message)
    except (ValueError, KeyError, TypeError):
        return str(err)[:300]


class AlpacaBroker:
    """Orders, positions and the account of one Alpaca account."""

    name = "alpaca"
    # A bar's orders go out together: alpaca-py's session pools connections.
    max_in_flight = 8

    def __init__(
        self,
        credentials: Credentials,
        *,
        paper: bool = True,
        url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        missing = credentials.missing("apiKey", "apiSecret")
        if missing:
            raise AuthenticationFailed(
                f"alpaca: credentials {missing} are missing; put apiKey and apiSecret in the "
                "Secret named by credentialsSecretRef"
            )
        self.paper = paper
        self._client = _Client(
            credentials["apiKey"], credentials["apiSecret"], paper=paper, url=url
        )
        self._deadline = Deadline(timeout, "alpaca", workers=2 * self.max_in_flight)

    def _call(self, what: str, fn: Callable[[], T], *, forbidden_is_auth: bool = False) -> T:
        try:
            return self._deadline.call(what, fn)
        except APIError as err:
            code = err.status_code or 0
            detail = f"alpaca: {what}: HTTP {code}: {_describe(err)}"
            # 403 on an order means "not enough shares or buying power", not bad keys.
            if code == 401 or (code == 403 and forbidden_is_auth):
                raise AuthenticationFailed(detail) from err
            if code == 429 or code >= 500:
                raise BrokerUnavailable(detail) from err
            if code == 422 and "client_order_id must be unique" in str(err):
                raise DuplicateOrder(detail) from err
            raise OrderRejected(detail) from err
        except requests.RequestException as err:
            raise BrokerUnavailable(f"alpaca: {what}: {type(err).__name__}: {err}") from err

    def round_quantity(self, symbol: str, quantity: float) -> float:
        """Down to a millionth: Alpaca takes fractional quantities up to 9 decimals."""
        return round_down(quantity, QUANTITY_STEP)

    def connect(self) -> Account:
        """The account, which proves the keys work; refuse a blocked account."""
        raw = _json(
            self._call("reading the account", self._client.get_account, forbidden_is_auth=True),
            "account",
        )
        if raw.get("trading_blocked") or raw.get("account_blocked"):
            raise AuthenticationFailed(f"alpaca: account {raw.get('account_number')} is blocked")
        return Account(
            _float(raw.get("cash")), _float(raw.get("equity")), raw.get("currency") or "USD"
        )

    def account(self) -> Account:
        """Cash and equity."""
        return self.connect()

    def place(self, order: Order) -> BrokerOrder:
        """POST /v2/orders with the order's client order id."""
        side = OrderSide.BUY if order.side == Side.BUY else OrderSide.SELL
        # Crypto pairs trade around the clock and take GTC; equities take DAY.
        tif = TimeInForce.GTC if is_crypto(order.symbol) else TimeInForce.DAY
        fields: dict[str, Any] = {
            "symbol": order.symbol,
            "qty": order.quantity,
            "side": side,
            "time_in_force": tif,
            "client_order_id": order.client_order_id,
        }
        request = (
            LimitOrderRequest(**fields, limit_price=order.limit_price)
            if order.type == OrderType.LIMIT
            else MarketOrderRequest(**fields)
        )
        raw = self._call(
            f"placing {order.client_order_id}", lambda: self._client.submit_order(request)
        )
        return self._order(raw)

    def lookup(self, client_order_id: str, symbol: str = "") -> BrokerOrder | None:
        """GET /v2/orders:by_client_order_id; None when Alpaca does not know the id."""
        try:
            raw = self._call(
                f"looking up {client_order_id}",
                lambda: self._client.get_order_by_client_id(client_order_id),
            )
        except OrderRejected as err:
            if isinstance(err.__cause__, APIError) and err.__cause__.status_code == 404:
                return None
            raise
        return self._order(raw)

    def cancel(self, client_order_id: str, symbol: str = "") -> None:
        """DELETE /v2/orders/{id}; an order already done is left alone."""
        found = self.lookup(client_order_id)
        if found is None or terminal(found.status):
            return
        try:
            self._call(
                f"cancelling {client_order_id}",
                lambda: self._client.cancel_order_by_id(found.broker_order_id),
            )
        except OrderRejected:
            return  # 422: it filled or was cancelled meanwhile; the next lookup tells

    def positions(self) -> Mapping[str, Position]:
        """GET /v2/positions, signed (short positions negative)."""
        raw = self._call("reading positions", self._client.get_all_positions)
        if not isinstance(raw, list):
            raise BrokerUnavailable(f"alpaca: unexpected positions response {type(raw).__name__}")
        out: dict[str, Position] = {}
        for p in raw:
            position = _json(p, "position")
            try:
                size = _float(position["qty"])
                side = position.get("side") or ("short" if size < 0 else "long")
                if side not in ("long", "short"):
                    raise ValueError(f"side {side!r}")
                symbol = str(position["symbol"])
                quantity = -abs(size) if side == "short" else abs(size)
                out[symbol] = Position(symbol, quantity, _float(position.get("avg_entry_price")))
            except (KeyError, ValueError, TypeError) as err:
                # Unknown, not empty: reconciliation waits and then halts rather than
                # trading against holdings it could not read.
                raise BrokerUnavailable(f"alpaca: malformed position: {err!r}") from err
        return out

    def advance(self, time: dt.datetime, prices: Mapping[str, tuple[float, ...]]) -> None:
        """Alpaca fills on its own clock; nothing to do on a bar."""

    def settle(self) -> bool:
        """Alpaca fills on its own clock: nothing changes here."""
        return False

    def close(self) -> None:
        """Stop the call pool."""
        self._deadline.close()

    @staticmethod
    def _order(raw: object) -> BrokerOrder:
        order = _json(raw, "order")
        try:
            filled = _float(order.get("filled_qty"))
            price = _float(order.get("filled_avg_price")) if filled > 0 else None
            if price is not None and not price > 0:
                raise ValueError(f"{filled:g} filled without a price")
            return BrokerOrder(
                client_order_id=str(order["client_order_id"]),
                broker_order_id=str(order["id"]),
                symbol=str(order["symbol"]),
                side=_SIDES[str(order["side"])],  # a fill booked the wrong way is worse than none
                quantity=_float(order.get("qty")),
                status=_STATUS.get(str(order["status"]), OrderStatus.NEW),
                filled_quantity=filled,
                average_price=price,
            )
        except (KeyError, ValueError, TypeError) as err:
            raise BrokerUnavailable(f"alpaca: malformed order response: {err!r}") from err
