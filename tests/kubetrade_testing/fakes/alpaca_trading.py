"""Alpaca's Trading API v2 as alpaca-py's `TradingClient` uses it, with a broker behind it.

Routes (under `/v2`): `GET /account`, `POST|GET /orders`, `GET /orders/{id}`,
`GET /orders:by_client_order_id`, `DELETE /orders/{id}` (204),
`DELETE /orders`, `GET /positions`, `GET /positions/{symbol}`,
`DELETE /positions/{symbol}`, `GET /clock`. JSON shapes, status codes and
messages are Alpaca's: 401 for bad keys, 403 when shares or buying power are
short, 422 "client_order_id must be unique" for a reused client order id, 404
for unknown orders, numbers as strings.

Market orders fill at `prices[symbol]`: at once (`fill="immediate"`), half at
once and the rest on the next `tick()` or lookup (`fill="partial"`), or only on
`tick()` (`fill="held"`). `chaos` answers a share of requests with 429, 500 or a
late reply; a 500 or a late reply may come after the order was taken, as on a
real gateway, which is exactly what clients must survive.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .server import FakeService, Response, Seen, json_response

_ORDER = re.compile(r"^/v2/orders/([0-9a-f-]{36})$")
_POSITION = re.compile(r"^/v2/positions/(.+)$")
OPEN = ("new", "accepted", "partially_filled")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(status: int, code: int, message: str) -> Response:
    return json_response({"code": code, "message": message}, status)


@dataclass
class Chaos:
    """Shares of requests that fail, and how long a late reply waits (seconds)."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    delay: float = 0.3
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)  # noqa: S311 - fault injection, not crypto


@dataclass
class _Order:
    id: str
    client_order_id: str
    symbol: str
    side: str
    qty: float
    type: str
    limit_price: float | None
    time_in_force: str
    status: str = "new"
    filled_qty: float = 0.0
    filled_avg_price: float = 0.0
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    filled_at: str | None = None

    def json(self) -> dict[str, Any]:
        crypto = "/" in self.symbol
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "submitted_at": self.created_at,
            "filled_at": self.filled_at,
            "expired_at": None,
            "canceled_at": self.updated_at if self.status == "canceled" else None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.symbol)),
            "symbol": self.symbol,
            "asset_class": "crypto" if crypto else "us_equity",
            "notional": None,
            "qty": f"{self.qty:.9g}",
            "filled_qty": f"{self.filled_qty:.9g}",
            "filled_avg_price": f"{self.filled_avg_price:.9g}" if self.filled_qty else None,
            "order_class": "simple",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "time_in_force": self.time_in_force,
            "limit_price": f"{self.limit_price:.9g}" if self.limit_price is not None else None,
            "stop_price": None,
            "status": self.status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }


class AlpacaTradingFake(FakeService):
    """One Alpaca paper account: orders, fills, positions and cash."""

    no_delay = True

    def __init__(
        self,
        *,
        key: str = "AKTESTKEY",
        secret: str = "test-secret",  # noqa: S107 - the fake's test key
        cash: float = 100_000.0,
        fill: str = "immediate",
        chaos: Chaos | None = None,
        market_open: bool = True,
    ) -> None:
        super().__init__()
        self.key, self.secret = key, secret
        self.cash = cash
        self.fill = fill
        self.chaos = chaos or Chaos()
        self.market_open = market_open
        self.prices: dict[str, float] = {}
        self.orders: dict[str, _Order] = {}
        self.by_client_id: dict[str, _Order] = {}
        self.positions: dict[str, tuple[float, float]] = {}  # symbol -> (signed qty, avg price)
        self.posts = 0  # POST /v2/orders that reached the book (faults excluded)
        self.duplicates = 0  # POSTs refused for a reused client order id
        self.faults = {"429": 0, "500": 0, "timeout": 0}
        self._book = threading.RLock()

    # -- test controls ------------------------------------------------------------

    def tick(self) -> None:
        """Fill every open order the fill policy held back."""
        with self._book:
            for order in list(self.orders.values()):
                if order.status in OPEN:
                    self._execute(order, order.qty - order.filled_qty)

    def price(self, symbol: str) -> float:
        """The price market orders in `symbol` fill at."""
        return self.prices.get(symbol, 100.0)

    # -- the service ---------------------------------------------------------------

    def answer(self, seen: Seen) -> Response:
        """Record the request, apply a registered fault or chaos, then serve it."""
        chaos = self.chaos
        with self._lock:
            fault = self._registered(seen)
            if fault is not None:
                return fault
            roll = chaos.rng.random()
            after = chaos.rng.random() < 0.5
        if seen.path.startswith("/v2/") and seen.path != "/v2/clock":
            if roll < chaos.rate_429:
                self.faults["429"] += 1
                return _error(429, 42910000, "rate limit exceeded")
            roll -= chaos.rate_429
            if roll < chaos.rate_500:
                self.faults["500"] += 1
                if after:
                    self.route(seen)  # taken, then the gateway failed
                return _error(500, 50010000, "internal server error")
            roll -= chaos.rate_500
            if roll < chaos.rate_timeout:
                self.faults["timeout"] += 1
                reply = self.route(seen)
                time.sleep(chaos.delay)
                return reply
        return self.route(seen)

    def route(self, seen: Seen) -> Response:
        """Alpaca's answer to one request."""
        if (
            seen.headers.get("apca-api-key-id") != self.key
            or seen.headers.get("apca-api-secret-key") != self.secret
        ):
            return _error(401, 40110000, "request is not authorized")
        with self._book:
            return self._route(seen)

    def _route(self, seen: Seen) -> Response:
        method, path = seen.method, seen.path
        fixed: dict[tuple[str, str], Callable[[], Response]] = {
            ("GET", "/v2/account"): lambda: json_response(self._account()),
            ("GET", "/v2/clock"): lambda: json_response(self._clock()),
            ("POST", "/v2/orders"): lambda: self._submit(seen.json() or {}),
            ("GET", "/v2/orders"): lambda: self._list(seen.query),
            ("DELETE", "/v2/orders"): self._cancel_all,
            ("GET", "/v2/orders:by_client_order_id"): lambda: self._by_client_id(seen.query),
            ("GET", "/v2/positions"): lambda: json_response(
                [self._position(s) for s in sorted(self.positions)]
            ),
        }
        if (method, path) in fixed:
            return fixed[(method, path)]()
        if match := _ORDER.match(path):
            return self._one_order(method, match.group(1))
        if match := _POSITION.match(path):
            return self._one_position(method, match.group(1))
        return _error(404, 40410000, "endpoint not found")

    def _cancel_all(self) -> Response:
        results = []
        for order in self.orders.values():
            if order.status in OPEN:
                self._cancel(order)
                results.append({"id": order.id, "status": 200, "body": order.json()})
        return json_response(results, 207)

    def _by_client_id(self, query: dict[str, str]) -> Response:
        found = self.by_client_id.get(query.get("client_order_id", ""))
        if found is None:
            return _error(404, 40410000, "order not found")
        self._progress(found)
        return json_response(found.json())

    def _one_order(self, method: str, order_id: str) -> Response:
        found = self.orders.get(order_id)
        if found is None:
            return _error(404, 40410000, "order not found")
        if method == "DELETE":
            if found.status not in OPEN:
                return _error(422, 42210000, f'order is already in "{found.status}" state')
            self._cancel(found)
            return Response(204)
        self._progress(found)
        return json_response(found.json())

    def _one_position(self, method: str, symbol: str) -> Response:
        if symbol not in self.positions:
            return _error(404, 40410000, "position does not exist")
        if method == "DELETE":
            qty, _ = self.positions[symbol]
            side = "sell" if qty > 0 else "buy"
            order = self._new_order(symbol, side, abs(qty), "market", None, str(uuid.uuid4()))
            self._execute(order, order.qty)
            return json_response(order.json())
        return json_response(self._position(symbol))

    # -- the book ------------------------------------------------------------------

    def _submit(self, body: dict[str, Any]) -> Response:
        coid = str(body.get("client_order_id") or uuid.uuid4())
        if coid in self.by_client_id:
            self.duplicates += 1
            return _error(422, 40010001, "client_order_id must be unique")
        try:
            qty = float(body["qty"])
        except (KeyError, TypeError, ValueError):
            return _error(422, 40010001, "qty is required")
        side, kind, symbol = body.get("side"), body.get("type", "market"), str(body.get("symbol"))
        if qty <= 0:
            return _error(422, 40010001, "qty must be > 0")
        if side not in ("buy", "sell") or kind not in ("market", "limit"):
            return _error(422, 40010001, "invalid side or type")
        held = self.positions.get(symbol, (0.0, 0.0))[0]
        if side == "sell" and qty > held + 1e-9:
            return _error(
                403,
                40310000,
                f"insufficient qty available for order (requested: {qty:g}, available: {held:g})",
            )
        if side == "buy" and qty * self.price(symbol) > self.cash + 1e-6:
            return _error(403, 40310000, "insufficient buying power")
        limit = float(body["limit_price"]) if body.get("limit_price") is not None else None
        order = self._new_order(
            symbol, side, qty, kind, limit, coid, body.get("time_in_force", "day")
        )
        self.posts += 1
        if self.fill == "immediate":
            self._execute(order, qty)
        elif self.fill == "partial":
            self._execute(order, round(qty / 2, 9))
        return json_response(order.json())

    def _new_order(
        self,
        symbol: str,
        side: str,
        qty: float,
        kind: str,
        limit: float | None,
        coid: str,
        tif: str = "day",
    ) -> _Order:
        order = _Order(str(uuid.uuid4()), coid, symbol, side, qty, kind, limit, tif)
        self.orders[order.id] = order
        self.by_client_id[coid] = order
        return order

    def _progress(self, order: _Order) -> None:
        # With partial fills, a later look at an order finds the rest filled.
        if self.fill == "partial" and order.status == "partially_filled":
            self._execute(order, order.qty - order.filled_qty)

    def _execute(self, order: _Order, qty: float) -> None:
        if qty <= 0:
            return
        price = self.price(order.symbol)
        if order.type == "limit" and order.limit_price is not None:
            if (order.side == "buy" and price > order.limit_price) or (
                order.side == "sell" and price < order.limit_price
            ):
                return
        total = order.filled_qty + qty
        order.filled_avg_price = (order.filled_avg_price * order.filled_qty + price * qty) / total
        order.filled_qty = total
        order.status = "filled" if total >= order.qty - 1e-12 else "partially_filled"
        order.updated_at = _now()
        order.filled_at = order.updated_at if order.status == "filled" else None
        signed = qty if order.side == "buy" else -qty
        held, avg = self.positions.get(order.symbol, (0.0, 0.0))
        new = held + signed
        if abs(new) < 1e-9:  # Alpaca keeps 9 decimals: less is no position
            self.positions.pop(order.symbol, None)
        else:
            adding = held == 0 or (held > 0) == (signed > 0)
            self.positions[order.symbol] = (
                new,
                (held * avg + signed * price) / new if adding else avg,
            )
        self.cash -= signed * price

    def _cancel(self, order: _Order) -> None:
        order.status = "canceled"
        order.updated_at = _now()

    def _list(self, query: dict[str, str]) -> Response:
        status = query.get("status", "open")
        orders = [
            o
            for o in self.orders.values()
            if status == "all" or (status == "open") == (o.status in OPEN)
        ]
        limit = int(query.get("limit") or 50)
        return json_response([o.json() for o in orders[-limit:]])

    def _position(self, symbol: str) -> dict[str, Any]:
        qty, avg = self.positions[symbol]
        price = self.price(symbol)
        crypto = "/" in symbol
        return {
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_URL, symbol)),
            "symbol": symbol,
            "exchange": "CRYPTO" if crypto else "NASDAQ",
            "asset_class": "crypto" if crypto else "us_equity",
            "asset_marginable": not crypto,
            "avg_entry_price": f"{avg:.9g}",
            "qty": f"{qty:.9g}",
            "qty_available": f"{qty:.9g}",
            "side": "long" if qty > 0 else "short",
            "market_value": f"{qty * price:.9g}",
            "cost_basis": f"{qty * avg:.9g}",
            "unrealized_pl": f"{qty * (price - avg):.9g}",
            "current_price": f"{price:.9g}",
        }

    def _account(self) -> dict[str, Any]:
        value = sum(q * self.price(s) for s, (q, _) in self.positions.items())
        equity = self.cash + value
        return {
            "id": "4d2a7d7c-1d0e-4c3a-9f40-3a7f1b1f0001",
            "account_number": "PA3KUBETRADE",
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "buying_power": f"{self.cash:.2f}",
            "cash": f"{self.cash:.2f}",
            "portfolio_value": f"{equity:.2f}",
            "equity": f"{equity:.2f}",
            "last_equity": f"{equity:.2f}",
            "long_market_value": f"{value:.2f}",
            "short_market_value": "0",
            "pattern_day_trader": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "shorting_enabled": False,
            "multiplier": "1",
            "daytrade_count": 0,
            "created_at": "2024-01-02T14:30:00Z",
        }

    def _clock(self) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return {
            "timestamp": now.isoformat(),
            "is_open": self.market_open,
            "next_open": (now + dt.timedelta(hours=12)).isoformat(),
            "next_close": (now + dt.timedelta(hours=6)).isoformat(),
        }
