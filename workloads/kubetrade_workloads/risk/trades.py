"""Round trips from fills, for the consecutive-losses breaker.

A trade opens when a position leaves zero and closes when it returns to
zero (or flips side); its profit is the realised PnL of all its closing
fills less every commission paid along the way, as freqtrade counts a trade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..market.types import Fill, Position

_EPS = 1e-12


@dataclass
class _Open:
    quantity: float
    average_price: float
    pnl: float


class RoundTrips:
    """Tracks open trades per symbol and reports each one as it closes."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}

    def sync(self, positions: Mapping[str, Position]) -> None:
        """Take the broker's positions as the truth (after a restart, or a missed fill)."""
        for symbol in list(self._open):
            if symbol not in positions or abs(positions[symbol].quantity) <= _EPS:
                del self._open[symbol]
        for symbol, pos in positions.items():
            trade = self._open.get(symbol)
            if abs(pos.quantity) <= _EPS:
                continue
            if trade is None or not math.isclose(trade.quantity, pos.quantity, rel_tol=1e-9):
                pnl = trade.pnl if trade is not None else 0.0
                self._open[symbol] = _Open(pos.quantity, pos.average_price, pnl)

    def apply(self, fill: Fill) -> float | None:
        """Book a fill; return the PnL of the trade it closes, or None."""
        trade = self._open.get(fill.symbol, _Open(0.0, 0.0, 0.0))
        delta, fee_per_unit = fill.signed_quantity, fill.commission / fill.quantity
        if trade.quantity == 0.0 or trade.quantity * delta > 0.0:
            size = trade.quantity + delta
            trade.average_price = (trade.quantity * trade.average_price + delta * fill.price) / size
            trade.quantity, trade.pnl = size, trade.pnl - fill.commission
            self._open[fill.symbol] = trade
            return None
        closed = min(abs(delta), abs(trade.quantity))
        direction = math.copysign(1.0, trade.quantity)
        trade.pnl += closed * ((fill.price - trade.average_price) * direction - fee_per_unit)
        remaining = trade.quantity + delta
        if abs(remaining) <= _EPS:
            del self._open[fill.symbol]
            return trade.pnl
        if remaining * trade.quantity < 0.0:
            opened = abs(delta) - closed
            self._open[fill.symbol] = _Open(remaining, fill.price, -opened * fee_per_unit)
            return trade.pnl
        trade.quantity = remaining
        return None
