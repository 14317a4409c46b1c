"""From target weights to order quantities: the arithmetic both backtest paths share.

The event-driven engine applies these on every bar, the vectorised path only
on the bars where something can trade; it is the same code on the same numbers
(plain floats per order, so that skipping the quiet bars is what makes the
fast path fast), and the two paths agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from ..market.history import BoolArray, FloatArray
from .settings import Rebalance, RebalanceMode

DUST = 1e-12
"""Orders worth less than this share of equity are not sent (rounding residue)."""


def sanitize(targets: FloatArray, tradeable: BoolArray, allow_short: bool) -> FloatArray:
    """Targets a portfolio may hold: zero where a symbol has no bars yet, and no
    shorts when shorting is off (a negative target means flat)."""
    out: FloatArray = np.where(tradeable, targets, 0.0)
    return out if allow_short else np.maximum(out, 0.0, out=out)


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
        if previous is None:
            return np.ones(targets.shape, dtype=bool)
        changed: BoolArray = targets != previous
        return changed
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

    `targets` and `prices` are aligned with `columns` (plain floats). Sells go
    first because they free cash, and a risk gate that only lets exposure shrink
    still passes them. Nothing trades once equity is gone.
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
