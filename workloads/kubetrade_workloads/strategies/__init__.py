"""Strategies that run in every mode: the baselines, and models through the policy adapter.

They read only `market` (bars in, target weights out), so the backtest and the
trader both use them and neither imports the other.
"""

from .baselines import BASELINES, BuyAndHold, Momentum, MovingAverageCrossover, baseline

__all__ = ["BASELINES", "BuyAndHold", "Momentum", "MovingAverageCrossover", "baseline"]
