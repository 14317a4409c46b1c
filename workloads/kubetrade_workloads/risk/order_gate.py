"""The arithmetic behind the risk manager's ACTIVE state: sizing, how much of
an order fits under the limits, and the holdings' VaR.

Weights are fractions of equity at the view's prices. VaR is parametric
(normal, zero mean) from the per-bar sample covariance of recent returns,
scaled to one day by sqrt(bars_per_day); with too little history the VaR
limit is not enforced (the manager records a VarUnavailable event), while
the position and exposure limits always are.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from statistics import NormalDist

from ..config.risk import SizingMethod
from ..market.types import Order
from . import sizing
from .events import Trigger
from .exposure import EPS, Exposure
from .history import Matrix, PriceHistory
from .limits import crosses, max_scale_for_cap, max_scale_quadratic, shrinks
from .profile import EffectiveRisk
from .sizing import Vector

# Float tolerance on limit comparisons: an order resized to exactly the limit
# must not read as a breach of it a moment later.
_MARGIN = 1e-9


class OrderGate:
    """Sizing and limit arithmetic over a price history; holds no trading state."""

    def __init__(
        self,
        history: PriceHistory,
        bars_per_day: float,
        periods_per_year: float,
        min_history: int,
        quantity_step: float,
    ) -> None:
        self._history = history
        self._bars_per_day = bars_per_day
        self._periods_per_year = periods_per_year
        self._min_history = min_history
        self._step = quantity_step
        self._blind: set[tuple[str, ...]] = set()
        self._notes: list[str] = []

    def take_notes(self) -> list[str]:
        """Messages about limits that could not be enforced since the last call."""
        out, self._notes = self._notes, []
        return out

    def fit(
        self, order: Order, exposure: Exposure, current: float, risk: EffectiveRisk
    ) -> tuple[float, str]:
        """The largest quantity of `order` within every limit, and the binding limit."""
        delta = order.signed_quantity
        if shrinks(current, delta):
            return order.quantity, ""
        price = exposure.prices.get(order.symbol) or order.limit_price
        if price is None or not price > 0.0:
            return 0.0, f"no price for {order.symbol}, so its size cannot be judged"
        equity = exposure.equity
        if equity <= 0.0:
            return 0.0, "equity is not positive"
        room = risk.max_gross_exposure - exposure.gross(exclude=order.symbol)
        bounds = [
            (
                max_scale_for_cap(current, delta, risk.max_position_weight * equity / price),
                f"limit maxPositionWeight={risk.max_position_weight:g}",
            ),
            (
                max_scale_for_cap(current, delta, room * equity / price),
                f"limit maxGrossExposure={risk.max_gross_exposure:g}",
            ),
        ]
        var_scale = self._var_scale(order.symbol, delta * price / equity, exposure, risk)
        if var_scale is not None:
            bounds.append((var_scale, f"limit maxVar={risk.max_var:g}"))
        scale, why = min(bounds, key=lambda b: b[0])
        if crosses(current, delta):
            scale = max(scale, abs(current) / abs(delta))  # closing is always allowed
        if scale >= 1.0:
            return order.quantity, ""
        quantity = max(scale, 0.0) * order.quantity
        if self._step > 0.0:
            quantity = math.floor(quantity / self._step) * self._step
        return (quantity if quantity > EPS else 0.0), why

    def holdings_var(self, exposure: Exposure, risk: EffectiveRisk) -> float | None:
        """One-day VaR of the holdings as a fraction of equity (None: unknown)."""
        held, w = exposure.held()
        if not held:
            return 0.0
        if exposure.equity <= 0.0:
            return None
        cov = self._covariance(held)
        if cov is None:
            return None
        return _z(risk.var_confidence) * math.sqrt(
            max(float(w @ cov @ w), 0.0) * self._bars_per_day
        )

    def levels(
        self, exposure: Exposure, var: float | None, risk: EffectiveRisk
    ) -> list[tuple[Trigger, str | None]]:
        """The level triggers (gross exposure, VaR) with a detail when breached."""
        gross = exposure.gross() if exposure.equity > 0.0 else math.inf
        over_gross = gross > risk.max_gross_exposure * (1.0 + _MARGIN)
        over_var = var is not None and var > risk.max_var * (1.0 + _MARGIN)
        return [
            (
                Trigger.GROSS_EXPOSURE,
                f"gross exposure {gross:.2f} above {risk.max_gross_exposure:g}"
                if over_gross
                else None,
            ),
            (Trigger.VAR, f"VaR {var:.2%} above {risk.max_var:.2%}" if over_var else None),
        ]

    def size(
        self, symbols: Sequence[str], signals: Vector, risk: EffectiveRisk, method: SizingMethod
    ) -> Vector:
        """Signed weights for signals in [-1, 1] by `method`, capped at the position
        limit (`sizing.sized_weights`, on this history's per-symbol moments)."""
        fixed = method == SizingMethod.FIXED_FRACTION
        return sizing.sized_weights(
            signals,
            None if fixed else self._history.moments(symbols),
            method=method,
            fraction=risk.fraction,
            target_volatility=risk.target_volatility,
            kelly_fraction=risk.kelly_fraction,
            cap=risk.max_position_weight,
            periods_per_year=self._periods_per_year,
            min_history=self._min_history,
        )

    def _var_scale(
        self, symbol: str, step: float, exposure: Exposure, risk: EffectiveRisk
    ) -> float | None:
        # Largest t with z^2 (w + t d)'Σ(w + t d) bars_per_day <= maxVar^2.
        symbols, w = exposure.held(plus=symbol)
        cov = self._covariance(symbols)
        if cov is None:
            return None
        i = symbols.index(symbol)
        budget = (risk.max_var / _z(risk.var_confidence)) ** 2 / self._bars_per_day
        cw = cov @ w
        return max_scale_quadratic(
            step * step * float(cov[i, i]), 2.0 * step * float(cw[i]), float(w @ cw) - budget
        )

    def _covariance(self, symbols: Sequence[str]) -> Matrix | None:
        cov = self._history.covariance(symbols, self._min_history)
        key = tuple(symbols)
        # One note per set of symbols going blind, not one per order.
        if cov is None and key not in self._blind:
            self._blind.add(key)
            self._notes.append(
                f"VaR limit not enforced: fewer than {self._min_history} bars of history "
                f"for {', '.join(symbols)}"
            )
        elif cov is not None:
            self._blind.discard(key)
        return cov


@functools.cache
def _z(confidence: float) -> float:
    """The standard normal quantile of a VaR confidence."""
    return NormalDist().inv_cdf(confidence)
