"""What the trader needs from a venue, beyond the market `Broker` port.

Every adapter (sim, alpaca, ccxt) is a `TradingBroker`: the `Broker` port's
orders, cancels and positions, plus what running against a real venue needs:
an acknowledgement with the venue's view of the order, a lookup by client
order id, and errors that say whether a call may be retried. Those errors are
the contract the order router builds exactly-once on:

- `BrokerUnavailable`: the call may or may not have reached the venue (429,
  5xx, a timeout, a dropped connection). Look the order up before resending.
- `DuplicateOrder`: the venue already has this client order id. Look it up.
- `OrderRejected`: the venue refused the order for good (no retry).
- `AuthenticationFailed`: the credentials were refused; nothing trades.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from ...market.types import Fill, Order, OrderStatus, Position, Side


class BrokerError(RuntimeError):
    """Base of the errors adapters raise; the message is for people."""


class BrokerUnavailable(BrokerError):
    """Retryable: the venue did not answer cleanly, so the outcome is unknown."""


class DuplicateOrder(BrokerError):
    """The venue already holds an order with this client order id."""


class OrderRejected(BrokerError):
    """The venue refused the order; the reason is in the message."""


class AuthenticationFailed(BrokerError):
    """The venue refused the credentials."""


@dataclass(frozen=True)
class BrokerOrder:
    """An order as the venue reports it."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    quantity: float
    status: OrderStatus
    filled_quantity: float
    average_price: float | None
    """Average price of what has filled so far (None: nothing filled)."""
    commission: float = 0.0
    """Commission charged on what has filled so far."""
    reason: str = ""


@dataclass(frozen=True)
class Account:
    """Cash and equity as the venue reports them."""

    cash: float
    equity: float
    currency: str = "USD"


class TradingBroker(Protocol):
    """A venue the trader sends orders to."""

    name: str
    max_in_flight: int
    """Orders of one bar sent at the same time (1: one after another)."""

    def round_quantity(self, symbol: str, quantity: float) -> float:
        """`quantity` rounded down to what the venue accepts for `symbol`."""
        ...

    def connect(self) -> Account:
        """Check the credentials and the account; raise AuthenticationFailed if refused."""
        ...

    def place(self, order: Order) -> BrokerOrder:
        """Send one order and return the venue's acknowledgement."""
        ...

    def lookup(self, client_order_id: str, symbol: str) -> BrokerOrder | None:
        """The venue's view of an order, or None when it has never seen the id."""
        ...

    def cancel(self, client_order_id: str, symbol: str) -> None:
        """Cancel an open order (no error if it is already done)."""
        ...

    def positions(self) -> Mapping[str, Position]:
        """Open positions by symbol, as the venue holds them."""
        ...

    def account(self) -> Account:
        """Cash and equity."""
        ...

    def advance(self, time: dt.datetime, prices: Mapping[str, tuple[float, ...]]) -> None:
        """A bar opened: (open, high, low, close, volume) per symbol. Simulators fill here."""
        ...

    def settle(self) -> bool:
        """The bar's decisions are sent; True when orders changed at the venue since
        (a simulator filling at the close fills here), so the trader syncs them."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


def terminal(status: OrderStatus) -> bool:
    """Whether an order in `status` can no longer change."""
    return status in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED)


def increment(
    order: BrokerOrder,
    previous_quantity: float,
    previous_price: float | None,
    previous_commission: float,
    now: dt.datetime,
) -> Fill | None:
    """The fill that took an order from what the store had to what the venue reports.

    Venues report cumulative quantity, average price and fees; the increment's
    price is what makes the averages agree: (q1 p1 - q0 p0) / (q1 - q0).
    """
    added = order.filled_quantity - previous_quantity
    if added <= 1e-12 or order.average_price is None:
        return None
    paid_before = previous_quantity * (previous_price or 0.0)
    price = (order.filled_quantity * order.average_price - paid_before) / added
    return Fill(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=added,
        price=price,
        commission=max(order.commission - previous_commission, 0.0),
        filled_at=now,
    )
