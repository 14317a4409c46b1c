"""The cost model shared by the environment, the backtest and the simulated broker."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import Frozen


class CostConfig(Frozen):
    commission_bps: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0
    """Commission per trade in basis points of traded notional."""
    slippage_bps: Annotated[float, Field(ge=0.0, le=1000.0)] = 2.0
    """Slippage per trade in basis points of the fill price."""
    allow_short: bool = False
    """Whether positions may go below zero."""
