"""A portfolio's holdings as weight arrays: what the gate's gross-exposure and VaR
arithmetic reads for every order.

The risk manager judges a decision's orders one after another, each against
the holdings as if the orders allowed before it had filled (pro forma). Read
from a `PortfolioView`'s dicts, every check was a pass over all positions in
Python; with 30 orders a bar those passes were most of the bar's latency. An
`Exposure` is built once per decision and `add` books an allowed order into it
in place, so a check costs a few NumPy operations on arrays of the symbols.

Equity does not move pro forma: an order is booked as bought or sold at the
mark, paid from cash.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

import numpy as np

from ..market.ports import PortfolioView
from .history import Matrix
from .limits import mark

EPS = 1e-12
"""Below this a quantity is no position (it holds no risk)."""


class Exposure:
    """Quantities, marks and weights (fractions of equity) of every symbol of a view."""

    def __init__(self, view: PortfolioView) -> None:
        self.equity = view.equity
        self.prices: Mapping[str, float] = view.prices
        """The view's market prices (sizing reads these; weights read the marks)."""
        self.symbols: list[str] = sorted({*view.positions, *view.prices})
        self._index = {s: i for i, s in enumerate(self.symbols)}
        quantity, price = np.zeros(len(self.symbols)), np.zeros(len(self.symbols))
        for i, s in enumerate(self.symbols):
            position = view.positions.get(s)
            if position is not None:
                quantity[i], price[i] = position.quantity, mark(position, view.prices)
        self._quantity, self._price = quantity, price
        self._weight: Matrix = (
            quantity * price / self.equity if self.equity > 0.0 else np.zeros_like(price)
        )
        self._gross = float(np.abs(self._weight).sum())
        self._unsorted = False
        self._held: tuple[np.ndarray, list[str]] | None = None
        self.booked = False
        """Whether `add` has booked an order into it (it no longer shows the view)."""

    def quantity(self, symbol: str) -> float:
        """The symbol's position (0 when none)."""
        i = self._index.get(symbol)
        return float(self._quantity[i]) if i is not None else 0.0

    def gross(self, exclude: str | None = None) -> float:
        """Sum of absolute weights, optionally leaving one symbol out."""
        i = self._index.get(exclude) if exclude is not None else None
        return self._gross - abs(float(self._weight[i])) if i is not None else self._gross

    def held(self, plus: str | None = None) -> tuple[list[str], Matrix]:
        """The symbols with a position (and `plus`), sorted, and their weights."""
        i = self._slot(plus) if plus is not None else None
        if self._held is None:  # the held set changes rarely; orders mostly resize
            chosen = np.flatnonzero(np.abs(self._quantity) > EPS)
            names = [self.symbols[j] for j in chosen.tolist()]
            if self._unsorted:
                order = np.argsort(names, kind="stable")
                chosen, names = chosen[order], [names[k] for k in order.tolist()]
            self._held = (chosen, names)
        chosen, names = self._held
        if plus is None or i is None or abs(self._quantity[i]) > EPS:  # (i: for mypy)
            return names, self._weight[chosen]
        k = bisect.bisect_left(names, plus)
        return [*names[:k], plus, *names[k:]], self._weight[np.insert(chosen, k, i)]

    def add(self, symbol: str, signed_quantity: float) -> None:
        """Book `signed_quantity` more of `symbol` as filled at its mark."""
        self.booked = True
        i = self._slot(symbol)
        if not self._price[i]:  # a new position's mark: the market price when there is one
            self._price[i] = max(self.prices.get(symbol, 0.0) or 0.0, 0.0)
        was = abs(self._quantity[i]) > EPS
        self._quantity[i] += signed_quantity
        if was != (abs(self._quantity[i]) > EPS):
            self._held = None
        old = float(self._weight[i])
        new = float(self._quantity[i] * self._price[i] / self.equity) if self.equity > 0 else 0.0
        self._weight[i] = new
        self._gross += abs(new) - abs(old)

    def _slot(self, symbol: str) -> int:
        """The symbol's index; one the view had neither price nor position of is added
        with a weight of 0 (as the zero mark it would get)."""
        i = self._index.get(symbol)
        if i is None:
            self._unsorted = True
            self.symbols.append(symbol)
            self._index[symbol] = i = len(self.symbols) - 1
            self._quantity = np.append(self._quantity, 0.0)
            self._price = np.append(self._price, 0.0)
            self._weight = np.append(self._weight, 0.0)
        return i
