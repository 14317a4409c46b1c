"""From target weights to order quantities: the rules the backtest and the trader share.

Targets are clipped to what may be held (no shorts unless allowed, nothing
before a symbol's first bar); orders are sized at the decision bar's close,
residues below DUST of equity are not traded, and sells go first because they
free cash and a risk gate that only lets exposure shrink still passes them.
The event-driven backtest, its vectorised path and the live trader all call
these functions, so a strategy trades the same way in each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .history import BoolArray, FloatArray

DUST = 1e-12
"""Orders worth less than this share of equity are not sent (rounding residue)."""


def sanitize(targets: FloatArray, tradeable: BoolArray, allow_short: bool) -> FloatArray:
    """Targets a portfolio may hold: zero where a symbol has no bars yet, and no
    shorts when shorting is off (a negative target means flat)."""
    out: FloatArray = np.where(tradeable, targets, 0.0)
    return out if allow_short else np.maximum(out, 0.0, out=out)


def weights(quantities: FloatArray, prices: FloatArray, equity: float) -> FloatArray:
    """Each holding as a signed fraction of `equity` (zeros when equity is not positive)."""
    if equity <= 0:
        return np.zeros(len(prices))
    out: FloatArray = quantities * prices / equity
    return out


def changed(targets: FloatArray, previous: FloatArray | None) -> BoolArray:
    """Symbols whose target moved since the last bar (all of them on the first bar)."""
    if previous is None or previous.shape != targets.shape:
        return np.ones(targets.shape, dtype=bool)
    out: BoolArray = targets != previous
    return out


def order_delta(target: float, quantity: float, equity: float, price: float) -> float:
    """The signed quantity that takes a holding to its target weight of `equity`.

    Sized at `price` (the decision bar's close). Residues worth less than DUST of
    equity are not traded; callers skip sizing once equity is gone.
    """
    delta = target * equity / price - quantity
    return 0.0 if abs(delta * price) <= DUST * equity else delta


def plan(
    columns: Sequence[int],
    targets: Sequence[float],
    prices: Sequence[float],
    quantities: Sequence[float] | FloatArray,
    equity: float,
) -> list[tuple[int, float]]:
    """Orders for the symbols in `columns`: (position in `columns`, signed quantity),
    sells first.

    `targets` and `prices` are aligned with `columns` (plain floats), `quantities`
    with the symbols. Nothing trades once equity is gone.
    """
    if not equity > 0:
        return []
    sells: list[tuple[int, float]] = []
    buys: list[tuple[int, float]] = []
    for k, j in enumerate(columns):
        delta = order_delta(targets[k], float(quantities[j]), equity, prices[k])
        if delta < 0:
            sells.append((k, delta))
        elif delta > 0:
            buys.append((k, delta))
    return sells + buys


def plan_masked(
    mask: BoolArray,
    targets: FloatArray,
    quantities: FloatArray,
    equity: float,
    prices: FloatArray,
) -> list[tuple[int, float]]:
    """`plan` over the symbols in `mask` that have a price: (symbol index, signed quantity)."""
    columns = [j for j in np.flatnonzero(mask).tolist() if prices[j] > 0]
    orders = plan(
        columns,
        [float(targets[j]) for j in columns],
        [float(prices[j]) for j in columns],
        quantities,
        equity,
    )
    return [(columns[k], delta) for k, delta in orders]


def round_down(quantity: float, step: float) -> float:
    """`quantity` rounded toward zero to a multiple of `step` (0: unchanged)."""
    if step <= 0:
        return quantity
    # The small nudge keeps 0.3 / 0.1 from flooring to 2.
    return math.floor(quantity / step + 1e-9) * step
