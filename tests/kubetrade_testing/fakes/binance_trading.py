"""Binance's signed spot trading API as ccxt's `binance` uses it, with a book behind it.

Adds to the public market routes of `BinanceFake`: `GET /api/v3/account`,
`POST|GET|DELETE /api/v3/order` and `GET /api/v3/openOrders`. Requests carry
`X-MBX-APIKEY` and an HMAC-SHA256 `signature` of the query (GET, DELETE) or
the form body (POST) made with the secret, as Binance checks them: an unknown
key answers 401 -2015, a bad signature 400 -1022. Orders are keyed by
`newClientOrderId`; a reused one answers -2010 "Duplicate order sent.", an
unknown one -2013 "Order does not exist.". Market orders fill at `prices`,
with a commission in the quote asset. `fail` (from FakeService) makes matching
requests answer 5xx or arrive late (after the order was taken).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pandas as pd

from .binance import BinanceFake
from .server import Response, Seen, json_response

COMMISSION = 0.001  # 10 bps, in the quote asset


def _error(status: int, code: int, msg: str) -> Response:
    return json_response({"code": code, "msg": msg}, status)


@dataclass
class _Order:
    order_id: int
    client_id: str
    symbol: str
    side: str
    type: str
    qty: float
    price: float | None
    status: str = "NEW"
    executed: float = 0.0
    quote: float = 0.0
    commission: float = 0.0
    time: int = field(default_factory=lambda: int(time.time() * 1000))

    def json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_id,
            "price": f"{self.price or 0:.8f}",
            "origQty": f"{self.qty:.8f}",
            "executedQty": f"{self.executed:.8f}",
            "cummulativeQuoteQty": f"{self.quote:.8f}",
            "status": self.status,
            "timeInForce": "GTC",
            "type": self.type,
            "side": self.side,
            "stopPrice": "0.00000000",
            "icebergQty": "0.00000000",
            "time": self.time,
            "updateTime": self.time,
            "isWorking": True,
            "workingTime": self.time,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


class BinanceTradingFake(BinanceFake):
    """One spot account on the fake Binance: balances, orders, fills."""

    no_delay = True

    def __init__(
        self,
        bars: Mapping[str, pd.DataFrame],
        *,
        key: str = "binance-key",
        secret: str = "binance-secret",  # noqa: S107 - the fake's test key
        balances: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(bars)
        self.key, self.secret = key, secret
        self.balances: dict[str, float] = dict(balances or {"USDT": 100_000.0})
        self.prices: dict[str, float] = {}
        self.orders: dict[str, _Order] = {}
        self.fill = True
        self.late: dict[str, float] = {}  # path -> seconds to wait after serving, once
        self.posts = 0
        self._next_id = 1000
        self._book = threading.RLock()

    def route(self, seen: Seen) -> Response:
        """Market data as BinanceFake; signed routes here."""
        if seen.path not in ("/api/v3/account", "/api/v3/order", "/api/v3/openOrders"):
            return super().route(seen)
        if seen.headers.get("x-mbx-apikey") != self.key:
            return _error(401, -2015, "Invalid API-key, IP, or permissions for action.")
        raw = seen.body.decode() if seen.method == "POST" else _raw_query(seen)
        params = dict(parse_qsl(raw, keep_blank_values=True))
        signed = raw.rsplit("&signature=", 1)[0]
        expected = hmac.new(self.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
        if params.get("signature") != expected:
            return _error(400, -1022, "Signature for this request is not valid.")
        with self._book:
            reply = self._signed(seen.method, seen.path, params)
        delay = self.late.pop(f"{seen.method} {seen.path}", 0.0)
        if delay:
            time.sleep(delay)  # taken, but the answer comes too late
        return reply

    def _signed(self, method: str, path: str, params: dict[str, str]) -> Response:
        if path == "/api/v3/account":
            return json_response(self._account())
        if path == "/api/v3/openOrders":
            return json_response(
                [o.json() for o in self.orders.values() if o.status in ("NEW", "PARTIALLY_FILLED")]
            )
        if method == "POST":
            return self._new_order(params)
        order = self.orders.get(params.get("origClientOrderId", ""))
        if order is None:
            return _error(400, -2013, "Order does not exist.")
        if method == "DELETE":
            if order.status not in ("NEW", "PARTIALLY_FILLED"):
                return _error(400, -2011, "Unknown order sent.")
            order.status = "CANCELED"
        return json_response(order.json())

    def _new_order(self, params: dict[str, str]) -> Response:
        client_id = params.get("newClientOrderId", f"x-{self._next_id}")
        if client_id in self.orders:
            return _error(400, -2010, "Duplicate order sent.")
        pair = self.pairs.get(params.get("symbol", ""))
        if pair is None:
            return _error(400, -1121, "Invalid symbol.")
        base, quote = pair.split("/")
        qty = float(params.get("quantity") or 0)
        side, kind = params.get("side", ""), params.get("type", "")
        price = self.prices.get(pair, 100.0)
        if side == "SELL" and qty > self.balances.get(base, 0.0) + 1e-12:
            return _error(400, -2010, "Account has insufficient balance for requested action.")
        if side == "BUY" and qty * price > self.balances.get(quote, 0.0):
            return _error(400, -2010, "Account has insufficient balance for requested action.")
        self._next_id += 1
        order = _Order(self._next_id, client_id, params["symbol"], side, kind, qty, None)
        self.orders[client_id] = order
        self.posts += 1
        if self.fill and kind == "MARKET":
            self._execute(order, base, quote, price)
        body = order.json() | {"transactTime": order.time}
        if order.executed:
            fee = f"{order.commission:.8f}"
            body["fills"] = [
                {
                    "price": f"{price:.8f}",
                    "qty": f"{order.executed:.8f}",
                    "commission": fee,
                    "commissionAsset": quote,
                    "tradeId": order.order_id,
                }
            ]
        return json_response(body)

    def _execute(self, order: _Order, base: str, quote: str, price: float) -> None:
        notional = order.qty * price
        order.executed, order.quote, order.status = order.qty, notional, "FILLED"
        order.commission = notional * COMMISSION
        sign = 1.0 if order.side == "BUY" else -1.0
        self.balances[base] = self.balances.get(base, 0.0) + sign * order.qty
        self.balances[quote] = self.balances.get(quote, 0.0) - sign * notional - order.commission

    def _account(self) -> dict[str, Any]:
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "updateTime": int(time.time() * 1000),
            "accountType": "SPOT",
            "balances": [
                {"asset": a, "free": f"{v:.8f}", "locked": "0.00000000"}
                for a, v in sorted(self.balances.items())
            ],
            "permissions": ["SPOT"],
        }


def _raw_query(seen: Seen) -> str:
    # The signature covers the query as sent; ccxt encodes it as urlencode does.
    return urlencode(seen.query)
