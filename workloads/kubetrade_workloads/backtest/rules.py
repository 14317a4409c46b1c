"""When the backtest trades and what a portfolio is worth; the sizing itself is
`market.rebalance`, shared with the live trader.

The event-driven engine applies these on every bar, the vectorised path only
on the bars where something can trade; it is the same code on the same numbers
(plain floats per order, so that skipping the quiet bars is what makes the
fast path fast), and the two paths agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..market.history import BoolArray, FloatArray
from ..market.rebalance import (
    DUST,
    changed,
    order_delta,
    plan,
    plan_masked,
    sanitize,
    weights,
)
from .settings import Rebalance, RebalanceMode

__all__ = [
    "DUST",
    "equity",
    "order_delta",
    "plan",
    "plan_masked",
    "sanitize",
    "trade_mask",
    "weights",
]


def trade_mask(
    rule: Rebalance,
    bar: int,
    targets: FloatArray,
    previous: FloatArray | None,
    current: FloatArray,
) -> BoolArray:
    """Which symbols the rule trades on this bar.

    `bar` counts from the first traded bar, `previous` is the last bar's targets
    (None on the first bar), `current` the weights held now.
    """
    if rule.mode == RebalanceMode.ON_CHANGE:
        return changed(targets, previous)
    if rule.mode == RebalanceMode.PERIODIC:
        return np.full(targets.shape, bar % rule.every == 0)
    drifted: BoolArray = np.abs(targets - current) > rule.threshold
    return drifted


def equity(cash: float, values: Iterable[float]) -> float:
    """Cash plus the position values, summed exactly (math.fsum).

    An exactly rounded sum does not depend on the order of the values or on
    zeros among them, so the engine (all symbols, from arrays) and the fast path
    (held symbols only) get the same bits.
    """
    return cash + math.fsum(values)
