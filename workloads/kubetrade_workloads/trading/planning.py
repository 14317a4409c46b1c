"""From target weights to order quantities, as the backtest does it.

The rules are the backtest's (`backtest.rules`), restated here because the
trader may not import the backtest: targets are clipped to what may be held
(no shorts unless allowed, nothing before a symbol's first bar), a symbol is
traded when its target changes, and the orders are sized at the decision
bar's close with sells first, since sells free cash and a REDUCING risk gate
still passes them.
"""

from __future__ import annotations

import math

import numpy as np

from ..market.history import BoolArray, FloatArray

DUST = 1e-12
"""Orders worth less than this share of equity are not sent (rounding residue)."""


def sanitize(targets: FloatArray, tradeable: BoolArray, allow_short: bool) -> FloatArray:
    """Targets a portfolio may hold (a negative target means flat when shorting is off)."""
    out = np.where(tradeable, targets, 0.0)
    return out if allow_short else np.maximum(out, 0.0)


def changed(targets: FloatArray, previous: FloatArray | None) -> BoolArray:
    """Symbols whose target moved since the last bar (all of them on the first bar)."""
    if previous is None or previous.shape != targets.shape:
        return np.ones(targets.shape, dtype=bool)
    out: BoolArray = targets != previous
    return out


def round_down(quantity: float, step: float) -> float:
    """`quantity` rounded toward zero to a multiple of `step` (0: unchanged)."""
    if step <= 0:
        return quantity
    # The small nudge keeps 0.3 / 0.1 from flooring to 2.
    return math.floor(quantity / step + 1e-9) * step


def plan(
    mask: BoolArray,
    targets: FloatArray,
    quantities: FloatArray,
    equity: float,
    prices: FloatArray,
) -> list[tuple[int, float]]:
    """(column, signed quantity) of the orders for the masked symbols, sells first."""
    if not equity > 0:
        return []
    sells: list[tuple[int, float]] = []
    buys: list[tuple[int, float]] = []
    for j in np.flatnonzero(mask).tolist():
        price = float(prices[j])
        if not price > 0:
            continue
        delta = float(targets[j]) * equity / price - float(quantities[j])
        if abs(delta * price) <= DUST * equity:
            continue
        (sells if delta < 0 else buys).append((j, delta))
    return sells + buys
