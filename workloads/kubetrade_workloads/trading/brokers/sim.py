"""The simulated venue: the shared `SimBroker` and cost model, fed bar by bar.

`SimBroker` fills against a History and a bar clock, as in the backtest; here
the History grows as bars arrive. It is preallocated and written in place, and
when it is full a new one starts, carrying the last bar and the open orders
over, so a long session never copies its whole past.

A simulated account lives only in the trader's store: on restart the venue is
rebuilt from the stored cash, positions and open orders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from ...market.costs import CostModel
from ...market.history import FIELDS, History
from ...market.portfolio import Portfolio
from ...market.replay import BarClock
from ...market.sim_broker import FillTiming, SimBroker
from ...market.types import Fill, Order, OrderStatus, Position
from .base import Account, BrokerOrder, DuplicateOrder


class SimVenue:
    """A `TradingBroker` over SimBroker: fills at the next open (or this close) with costs."""

    name = "sim"
    # The simulator answers in microseconds and is not thread-safe.
    max_in_flight = 1
    _times: np.ndarray
    _fields: dict[str, np.ndarray]
    _tradeable: np.ndarray

    def __init__(
        self,
        symbols: Sequence[str],
        costs: CostModel,
        *,
        cash: float,
        positions: Mapping[str, Position] | None = None,
        timing: FillTiming = FillTiming.NEXT_OPEN,
        capacity: int = 4096,
    ) -> None:
        self.symbols = tuple(symbols)
        self._costs = costs
        self._timing = FillTiming(timing)
        self._capacity = capacity
        self.portfolio = Portfolio.restored(cash, positions or {}, allow_short=costs.allow_short)
        self._orders: dict[str, Order] = {}
        self._executions: dict[str, list[float]] = {}  # id -> [quantity, notional, commission]
        self._epoch(carry=None)

    def _epoch(self, carry: int | None) -> None:
        n, k = self._capacity, len(self.symbols)
        times = np.zeros(n, dtype="datetime64[ns]")
        fields = {f: np.zeros((n, k)) for f in FIELDS}
        tradeable = np.zeros((n, k), dtype=bool)
        old = getattr(self, "_broker", None)
        if carry is not None:
            # Row 0 of the new epoch is the last bar of the old one.
            times[0] = self._times[carry]
            for f in FIELDS:
                fields[f][0] = self._fields[f][carry]
            tradeable[0] = self._tradeable[carry]
        self._times, self._fields, self._tradeable = times, fields, tradeable
        history = History(times, self.symbols, fields, tradeable)
        self._clock = BarClock(history)
        self._broker = SimBroker(
            history,
            self._clock,
            self._costs,
            self.portfolio,
            timing=self._timing,
        )
        if old is not None:
            for order in old.open_orders():
                self._broker.submit(order)

    # -- TradingBroker ------------------------------------------------------------

    def round_quantity(self, symbol: str, quantity: float) -> float:
        """Any quantity fills in simulation."""
        return quantity

    def connect(self) -> Account:
        """Always connected."""
        return self.account()

    def account(self) -> Account:
        """Cash, and equity at the last prices."""
        i = self._clock.index
        prices = dict(zip(self.symbols, self._fields["close"][i].tolist(), strict=True))
        held = self.portfolio.positions
        value = sum(p.quantity * (prices.get(s) or p.average_price) for s, p in held.items())
        return Account(self.portfolio.cash, self.portfolio.cash + value)

    def restore(self, orders: Sequence[tuple[Order, float, float, float]]) -> None:
        """Put orders that were open when the trader stopped back on the book:
        (order, filled quantity, average price, commission); only the rest can fill."""
        for order, filled, average, commission in orders:
            self._orders[order.client_order_id] = order
            self._executions[order.client_order_id] = [filled, filled * average, commission]
            remaining = replace(order, quantity=order.quantity - filled)
            if remaining.quantity > 0:
                self._broker.submit(remaining)

    def place(self, order: Order) -> BrokerOrder:
        """Accept the order (or reject it, e.g. a sell that would go short)."""
        if order.client_order_id in self._orders:
            raise DuplicateOrder(f"sim: {order.client_order_id} was already sent")
        self._orders[order.client_order_id] = order
        self._broker.submit(order)
        found = self.lookup(order.client_order_id, order.symbol)
        assert found is not None  # noqa: S101 - submitted just above
        return found

    def lookup(self, client_order_id: str, symbol: str = "") -> BrokerOrder | None:
        """The order's status and what filled, or None for an id never sent."""
        order = self._orders.get(client_order_id)
        if order is None:
            return None
        status, _, reason = self._broker.status(client_order_id)
        quantity, notional, commission = self._executions.get(client_order_id, [0.0, 0.0, 0.0])
        if status == OrderStatus.NEW and quantity > 0:
            status = OrderStatus.PARTIALLY_FILLED  # filled in part before a restart
        return BrokerOrder(
            client_order_id=client_order_id,
            broker_order_id=client_order_id,
            symbol=order.symbol,
            side=order.side,
            quantity=order.quantity,
            status=status,
            filled_quantity=quantity,
            average_price=notional / quantity if quantity > 0 else None,
            commission=commission,
            reason=reason,
        )

    def cancel(self, client_order_id: str, symbol: str = "") -> None:
        """Cancel an open order."""
        self._broker.cancel(client_order_id)

    def positions(self) -> Mapping[str, Position]:
        """The simulated account's positions."""
        return self.portfolio.positions

    def advance(self, time: dt.datetime, prices: Mapping[str, tuple[float, ...]]) -> None:
        """Write the bar in place, move the clock to it and fill what is due at its open."""
        i = self._clock.index + 1
        if i >= self._capacity:
            self._epoch(carry=self._clock.index)
            i = 1
        self._times[i] = np.datetime64(time.astimezone(dt.UTC).replace(tzinfo=None), "ns")
        for j, symbol in enumerate(self.symbols):
            bar = prices.get(symbol)
            if bar is None:
                for f in FIELDS:
                    self._fields[f][i, j] = self._fields[f][i - 1, j]
                self._fields["volume"][i, j] = 0.0
                continue
            for f, value in zip(FIELDS, bar, strict=True):
                self._fields[f][i, j] = value
            self._tradeable[i, j] = True
        self._clock.index = i
        self._book(self._broker.match())

    def settle(self) -> bool:
        """Fill what is due at this bar's close (CLOSE timing); True when anything did."""
        fills = self._broker.match()
        self._book(fills)
        return bool(fills)

    def _book(self, fills: Sequence[Fill]) -> None:
        for fill in fills:
            record = self._executions.setdefault(fill.client_order_id, [0.0, 0.0, 0.0])
            record[0] += fill.quantity
            record[1] += fill.quantity * fill.price
            record[2] += fill.commission

    def close(self) -> None:
        """Nothing to release."""
