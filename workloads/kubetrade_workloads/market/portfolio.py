"""Portfolio accounting: cash, positions at average cost, realised and unrealised PnL.

Fills are applied exactly as they come: cash moves by the filled notional and
the commission; a fill that adds to a position moves its average price, one
that reduces it realises PnL against the average price, and one that crosses
zero closes the old position and opens the rest at the fill price. So at every
moment

    equity - initial cash == realised + unrealised - commissions

which the tests check on random fill sequences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np

from .history import FloatArray
from .ports import PortfolioView
from .types import Fill, Position


class ShortingError(ValueError):
    """A fill would leave a short position while shorting is not allowed."""


class Portfolio:
    """Cash and positions of one account, in the account currency."""

    def __init__(self, cash: float, *, allow_short: bool = False) -> None:
        self.initial_cash = float(cash)
        self.cash = float(cash)
        self.allow_short = allow_short
        self.realised_pnl = 0.0
        self.commissions = 0.0
        self._positions: dict[str, Position] = {}

    @classmethod
    def restored(
        cls,
        cash: float,
        positions: Mapping[str, Position],
        *,
        allow_short: bool,
        initial_cash: float | None = None,
        realised_pnl: float = 0.0,
        commissions: float = 0.0,
    ) -> Portfolio:
        """The portfolio a store (or a venue) recorded: `cash`, `positions` at their
        average prices, and the running totals."""
        out = cls(cash if initial_cash is None else initial_cash, allow_short=allow_short)
        out.cash, out.realised_pnl, out.commissions = float(cash), realised_pnl, commissions
        out._positions = {s: p for s, p in positions.items() if p.quantity != 0.0}
        return out

    @property
    def positions(self) -> Mapping[str, Position]:
        """Open positions by symbol (flat symbols are absent)."""
        return dict(self._positions)

    def quantity(self, symbol: str) -> float:
        """Signed quantity held in `symbol` (0 when flat)."""
        pos = self._positions.get(symbol)
        return pos.quantity if pos else 0.0

    def quantities(self, symbols: Sequence[str]) -> FloatArray:
        """Signed quantity held in each of `symbols`, in their order."""
        return np.array([self.quantity(s) for s in symbols])

    def apply(self, fill: Fill) -> None:
        """Book one fill. Raises ShortingError (booking nothing) if it would go short."""
        held = self._positions.get(fill.symbol)
        q0 = held.quantity if held else 0.0
        avg = held.average_price if held else 0.0
        dq = fill.signed_quantity
        q1 = q0 + dq
        if q1 < 0 and not self.allow_short:
            raise ShortingError(
                f"{fill.symbol}: selling {fill.quantity} of {q0} would go short; shorting is off"
            )
        if q0 == 0 or (q0 > 0) == (dq > 0):
            # Opening or adding: the average price is the quantity-weighted mean.
            new_avg = (q0 * avg + dq * fill.price) / q1
        else:
            closed = min(abs(dq), abs(q0))
            direction = 1.0 if q0 > 0 else -1.0
            self.realised_pnl += closed * (fill.price - avg) * direction
            # Crossing zero opens the remainder at the fill price.
            new_avg = fill.price if abs(dq) > abs(q0) else avg
        if q1 == 0:
            self._positions.pop(fill.symbol, None)
        else:
            self._positions[fill.symbol] = Position(fill.symbol, q1, new_avg)
        self.cash -= dq * fill.price + fill.commission
        self.commissions += fill.commission

    def market_value(self, prices: Mapping[str, float]) -> float:
        """Signed value of all positions at `prices`."""
        return sum(p.quantity * prices[s] for s, p in self._positions.items())

    def equity(self, prices: Mapping[str, float]) -> float:
        """Cash plus the positions marked at `prices`."""
        return self.cash + self.market_value(prices)

    def unrealised_pnl(self, prices: Mapping[str, float]) -> float:
        """PnL of open positions against their average prices."""
        return sum(p.quantity * (prices[s] - p.average_price) for s, p in self._positions.items())

    def gross_exposure(self, prices: Mapping[str, float]) -> float:
        """Sum of absolute position values."""
        return sum(abs(p.quantity * prices[s]) for s, p in self._positions.items())

    def view(
        self,
        prices: Mapping[str, float],
        *,
        peak_equity: float,
        day_start_equity: float,
        time: dt.datetime | None = None,
    ) -> PortfolioView:
        """The snapshot a RiskGate judges an order against, taken at `time`."""
        return PortfolioView(
            equity=self.equity(prices),
            cash=self.cash,
            positions=self.positions,
            prices=dict(prices),
            peak_equity=peak_equity,
            day_start_equity=day_start_equity,
            time=time,
        )
