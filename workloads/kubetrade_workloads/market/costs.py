"""The cost model shared by the trading environment, the simulated broker and the backtest.

A fill's price is the reference price (the bar's open or close) moved against
the trader by slippage; commission is charged on the filled notional. Slippage
is a fixed number of basis points, plus, when `impact_bps` is set, a
volume-based part proportional to participation (order quantity over the
bar's volume, capped at 1).

The scalar methods (one order, plain floats: the broker and both backtest
paths) and the array methods (many orders: the vectorised trading environment)
do the same arithmetic in the same order, so they agree to the last bit; a
test checks it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config.costs import CostConfig
from .history import FloatArray

BPS = 1e-4


@dataclass(frozen=True)
class CostModel:
    """Commission and slippage, in basis points; `allow_short` is the shorting rule."""

    commission_bps: float = 0.0
    slippage_bps: float = 0.0
    impact_bps: float = 0.0
    """Extra slippage at 100% participation; scales linearly with participation."""
    allow_short: bool = False

    def __post_init__(self) -> None:
        for name in ("commission_bps", "slippage_bps", "impact_bps"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")

    @classmethod
    def from_config(cls, config: CostConfig, impact_bps: float = 0.0) -> CostModel:
        """The model a workload's typed `costs` section describes."""
        return cls(
            commission_bps=config.commission_bps,
            slippage_bps=config.slippage_bps,
            impact_bps=impact_bps,
            allow_short=config.allow_short,
        )

    @property
    def commission_rate(self) -> float:
        """Commission as a fraction of filled notional."""
        return self.commission_bps * BPS

    def slippage_rates(self, quantities: FloatArray, volumes: FloatArray) -> FloatArray:
        """Slippage as a fraction of the reference price for |quantity| against the bar volume.

        A bar with no volume counts as full participation, so volume-based slippage
        never divides by zero.
        """
        base = self.slippage_bps * BPS
        if self.impact_bps == 0.0:
            return np.full(np.shape(quantities), base)
        positive = volumes > 0
        safe = np.where(positive, volumes, 1.0)
        # min(|q|, v) / v rather than min(|q| / v, 1): equal, and no overflow on tiny volumes.
        participation = np.where(positive, np.minimum(np.abs(quantities), safe) / safe, 1.0)
        rates: FloatArray = base + self.impact_bps * BPS * participation
        return rates

    def fill_prices(
        self, signed_quantities: FloatArray, references: FloatArray, volumes: FloatArray
    ) -> FloatArray:
        """Prices market orders get: worse than the reference by the slippage rate."""
        side = np.sign(signed_quantities)
        prices: FloatArray = references * (
            1.0 + side * self.slippage_rates(signed_quantities, volumes)
        )
        return prices

    def commissions(self, signed_quantities: FloatArray, prices: FloatArray) -> FloatArray:
        """Commission on each filled notional |quantity| * price."""
        fees: FloatArray = np.abs(signed_quantities) * prices * self.commission_rate
        return fees

    def fill_price(self, signed_quantity: float, reference: float, volume: float) -> float:
        """`fill_prices` for one order, in plain floats (bit-identical to the array version)."""
        rate = self.slippage_bps * BPS
        if self.impact_bps != 0.0:
            participation = min(abs(signed_quantity), volume) / volume if volume > 0 else 1.0
            rate = rate + self.impact_bps * BPS * participation
        side = (signed_quantity > 0) - (signed_quantity < 0)
        return reference * (1.0 + side * rate)

    def commission(self, signed_quantity: float, price: float) -> float:
        """`commissions` for one fill, in plain floats (bit-identical to the array version)."""
        return abs(signed_quantity) * price * self.commission_rate
