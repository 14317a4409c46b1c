"""Order-limit arithmetic: how much of an order fits under each limit.

An order of signed quantity `delta` on a position `current` is scaled by a
factor t in [0, 1]; each limit gives the largest t it allows, and the
smallest of them wins. The functions are pure so they can be checked
exhaustively.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..market.types import Position


def shrinks(current: float, delta: float) -> bool:
    """Whether an order moves a position toward zero without crossing it."""
    return current != 0.0 and delta * current < 0.0 and abs(delta) <= abs(current)


def crosses(current: float, delta: float) -> bool:
    """Whether an order closes a position and opens one on the other side."""
    return current != 0.0 and delta * current < 0.0 and abs(delta) > abs(current)


def max_scale_for_cap(current: float, delta: float, cap: float) -> float:
    """Largest t with |current + t * delta| <= cap (negative when even t = 0 breaks it)."""
    if delta > 0.0:
        return (cap - current) / delta
    return (cap + current) / -delta


def max_scale_quadratic(a: float, b: float, c: float) -> float:
    """Largest t with a t^2 + b t + c <= 0 for a >= 0 (a convex quadratic).

    -inf when no t satisfies it, +inf when every large t does.
    """
    if a <= 0.0:
        # For a covariance, d'Σd = 0 forces Σd = 0, so b is 0 as well.
        if b == 0.0:
            return math.inf if c <= 0.0 else -math.inf
        return -c / b if b > 0.0 else math.inf
    disc = b * b - 4.0 * a * c
    if disc < 0.0:
        return -math.inf
    return (-b + math.sqrt(disc)) / (2.0 * a)


def mark(position: Position, prices: Mapping[str, float]) -> float:
    """A position's price: the market's when known, else its average price."""
    price = prices.get(position.symbol)
    return price if price is not None and price > 0.0 else position.average_price
