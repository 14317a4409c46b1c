"""The simulated broker: fills orders against replayed bars with the shared cost model.

Timing: an order decided on a bar's close fills at the next bar's open
(`NEXT_OPEN`, the default, which cannot trade on a price it has not seen yet)
or at the same bar's close (`CLOSE`). The driver calls `match()` when a bar
opens and after it submits orders; `match()` fills what is due at the
configured price.

Exactly once: a client order id the broker has already seen (open, filled,
cancelled or rejected) is ignored, so a resubmitted order never fills twice.

Volume cap: with `max_participation` set, at most that share of a bar's volume
fills per symbol and bar; the rest stays open for the next bar (a partial fill)
until it fills or is cancelled.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .costs import CostModel
from .history import History
from .portfolio import Portfolio
from .replay import BarClock
from .types import Fill, Order, OrderStatus, OrderType, Position, Side


class FillTiming(StrEnum):
    NEXT_OPEN = "next-open"
    CLOSE = "close"


@dataclass
class _Ticket:
    order: Order
    bar: int
    """The bar the order was submitted on."""
    filled: float = 0.0
    status: OrderStatus = OrderStatus.NEW
    reason: str = ""

    @property
    def remaining(self) -> float:
        return self.order.quantity - self.filled

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class SimBroker:
    """A `Broker` over a History: positions and cash live in a `Portfolio`."""

    def __init__(
        self,
        history: History,
        clock: BarClock,
        costs: CostModel,
        portfolio: Portfolio,
        *,
        timing: FillTiming = FillTiming.NEXT_OPEN,
        max_participation: float | None = None,
    ) -> None:
        if max_participation is not None and not 0 < max_participation <= 1:
            raise ValueError(f"max_participation must be in (0, 1], got {max_participation}")
        self._history = history
        self._clock = clock
        self._costs = costs
        self.portfolio = portfolio
        self.timing = FillTiming(timing)
        self._cap = max_participation
        self._column = {s: j for j, s in enumerate(history.symbols)}
        self._tickets: dict[str, _Ticket] = {}
        self._open: list[_Ticket] = []
        self._fills: list[Fill] = []
        self._used: dict[tuple[int, str], float] = {}

    # -- Broker protocol --------------------------------------------------------

    def submit(self, order: Order) -> None:
        """Accept an order once; an id seen before is ignored. Bad orders are rejected."""
        if order.client_order_id in self._tickets:
            return
        ticket = _Ticket(order, self._clock.index)
        self._tickets[order.client_order_id] = ticket
        reason = self._rejection(order)
        if reason:
            ticket.status, ticket.reason = OrderStatus.REJECTED, reason
            return
        self._open.append(ticket)

    def cancel(self, client_order_id: str) -> None:
        """Cancel an open order; filled, cancelled and unknown ids are left alone."""
        ticket = self._tickets.get(client_order_id)
        if ticket is not None and ticket.is_open:
            ticket.status = OrderStatus.CANCELED
            self._open.remove(ticket)

    def fills(self, since: dt.datetime | None = None) -> Sequence[Fill]:
        """Fills at or after `since` (all when None), oldest first."""
        if since is None:
            return list(self._fills)
        return [f for f in self._fills if f.filled_at >= since]

    def positions(self) -> Mapping[str, Position]:
        """Open positions by symbol."""
        return self.portfolio.positions

    def cash(self) -> float:
        """Cash in the account (negative when buying used more than the cash held)."""
        return self.portfolio.cash

    # -- simulation -------------------------------------------------------------

    def status(self, client_order_id: str) -> tuple[OrderStatus, float, str]:
        """Status, filled quantity and rejection reason of an order."""
        ticket = self._tickets[client_order_id]
        return ticket.status, ticket.filled, ticket.reason

    def open_orders(self) -> list[Order]:
        """Orders not yet completely filled, cancelled or rejected."""
        return [t.order for t in self._open]

    def match(self) -> list[Fill]:
        """Fill what is due on the current bar; return the new fills."""
        i = self._clock.index
        due_before = i if self.timing == FillTiming.NEXT_OPEN else i + 1
        prices = self._history.open if self.timing == FillTiming.NEXT_OPEN else self._history.close
        new: list[Fill] = []
        for ticket in list(self._open):
            if ticket.bar >= due_before:
                continue
            j = self._column[ticket.order.symbol]
            if not self._history.tradeable[i, j]:
                continue
            fill = self._fill(ticket, i, j, float(prices[i, j]))
            if fill is not None:
                new.append(fill)
        return new

    def _fill(self, ticket: _Ticket, i: int, j: int, reference: float) -> Fill | None:
        order = ticket.order
        if order.type == OrderType.LIMIT and not _marketable(order, reference):
            return None
        volume = float(self._history.volume[i, j])
        quantity = ticket.remaining
        if self._cap is not None:
            key = (i, order.symbol)
            room = max(self._cap * volume - self._used.get(key, 0.0), 0.0)
            quantity = min(quantity, room)
            if quantity <= 0:
                return None
            self._used[key] = self._used.get(key, 0.0) + quantity
        signed = quantity if order.side == Side.BUY else -quantity
        price = self._costs.fill_price(signed, reference, volume)
        if order.type == OrderType.LIMIT and order.limit_price is not None:
            # Slippage never takes a limit order past its limit.
            price = min(price, order.limit_price) if signed > 0 else max(price, order.limit_price)
        fill = Fill(
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=quantity,
            price=price,
            commission=self._costs.commission(signed, price),
            filled_at=self._clock.now(),
        )
        self.portfolio.apply(fill)
        self._fills.append(fill)
        ticket.filled += quantity
        if ticket.remaining <= 0:
            ticket.status = OrderStatus.FILLED
            self._open.remove(ticket)
        else:
            ticket.status = OrderStatus.PARTIALLY_FILLED
        return fill

    def _rejection(self, order: Order) -> str:
        if order.symbol not in self._column:
            return f"unknown symbol {order.symbol!r}"
        if not math.isfinite(order.quantity) or order.quantity <= 0:
            return f"quantity must be a positive number, got {order.quantity}"
        if order.type == OrderType.LIMIT and order.limit_price is None:
            return "a limit order needs a limit price"
        if order.side == Side.SELL and not self.portfolio.allow_short:
            # Shorting rule: sells may not exceed what is held net of open sells.
            held = self.portfolio.quantity(order.symbol)
            selling = sum(
                t.remaining
                for t in self._open
                if t.order.symbol == order.symbol and t.order.side == Side.SELL
            )
            if order.quantity > held - selling:
                return f"selling {order.quantity} {order.symbol} with {held} held would go short"
        return ""


def _marketable(order: Order, reference: float) -> bool:
    limit = order.limit_price
    if limit is None:
        return False
    return reference <= limit if order.side == Side.BUY else reference >= limit
