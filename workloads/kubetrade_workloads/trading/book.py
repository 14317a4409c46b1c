"""The trader's own books: the portfolio its fills add up to, and the running marks.

A venue's account is the venue's; these books are what the trade store holds,
rebuilt from it on restart, and what reconciliation compares with the venue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from ..market.portfolio import Portfolio
from ..market.ports import PortfolioView
from ..market.types import Fill, Position, Side
from .store import StoredState

DUST_QUANTITY = 1e-9
"""Positions smaller than this are float residue, not holdings."""


class Book:
    """Portfolio, peak equity and the day's opening equity of one session."""

    def __init__(self, state: StoredState) -> None:
        # Accounting mirrors the venue, it does not police it: shorts are booked
        # as they come (the planner never asks for one when shorting is off).
        self.portfolio = Portfolio.restored(
            state.cash,
            state.positions,
            allow_short=True,
            initial_cash=state.initial_cash,
            realised_pnl=state.realised_pnl,
            commissions=state.commissions,
        )
        self.peak_equity = state.peak_equity
        self.day = state.day
        self.day_start_equity = state.day_start_equity
        self.prices: dict[str, float] = {}

    def apply(self, fill: Fill) -> Position | None:
        """Book a fill; return the symbol's position after it (None: flat).

        Partial fills booked from cumulative averages can leave a float residue
        (1e-14 of a share) where the venue holds nothing; that dust is closed at
        the fill's price, so a flat book is flat (and `suspend` can report it).
        """
        self.portfolio.apply(fill)
        left = self.portfolio.quantity(fill.symbol)
        if left != 0.0 and abs(left) < DUST_QUANTITY:
            side = Side.SELL if left > 0 else Side.BUY
            self.portfolio.apply(replace(fill, side=side, quantity=abs(left), commission=0.0))
        return self.portfolio.positions.get(fill.symbol)

    @property
    def initial_cash(self) -> float:
        """Cash the session started with."""
        return self.portfolio.initial_cash

    def mark(self, prices: Mapping[str, float]) -> None:
        """Take the latest prices (symbols without one keep their last)."""
        self.prices.update(prices)

    def marks(self, held: Mapping[str, Position] | None = None) -> dict[str, float]:
        """The latest price of every symbol held (the book's positions when None) or
        priced; a position without a positive price is marked at its own average."""
        held = self.portfolio.positions if held is None else held
        marks = dict(self.prices)
        for symbol, position in held.items():
            if not marks.get(symbol):
                marks[symbol] = position.average_price
        return marks

    def equity(self) -> float:
        """Cash plus positions at the latest prices."""
        return self.portfolio.equity(self.marks())

    def roll_day(self, day: dt.date) -> bool:
        """Start a new day at the current equity; True when the day changed."""
        if self.day == day:
            return False
        self.day, self.day_start_equity = day, self.equity()
        return True

    def update_peak(self) -> float:
        """Raise the peak to the current equity; return the equity."""
        equity = self.equity()
        self.peak_equity = max(self.peak_equity, equity)
        return equity

    def view(
        self, time: dt.datetime, positions: Mapping[str, Position] | None = None
    ) -> PortfolioView:
        """What the risk manager judges orders against (`positions`: pro forma holdings)."""
        actual = self.portfolio.positions
        held = actual if positions is None else positions
        prices = self.marks({**actual, **held})
        cash = self.portfolio.cash
        if positions is not None:
            # Pro forma: the pending orders as if filled at the marks, paid from cash.
            for symbol, pos in positions.items():
                before = actual.get(symbol)
                cash -= (pos.quantity - (before.quantity if before else 0.0)) * prices[symbol]
        equity = cash + sum(p.quantity * prices[s] for s, p in held.items())
        return PortfolioView(
            equity=equity,
            cash=cash,
            positions=dict(held),
            prices=prices,
            peak_equity=max(self.peak_equity, equity),
            day_start_equity=self.day_start_equity,
            time=time,
        )
