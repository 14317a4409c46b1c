"""Risk: analytics (VaR, expected shortfall, stress tests, rolling risk), the
risk profiles, and the risk manager that sits between every strategy and its
broker in backtest, paper and live alike."""

from .events import RiskEvent, RiskEventKind, TradingState
from .manager import RiskManager
from .profile import EffectiveRisk, effective_limits, resolve

__all__ = [
    "EffectiveRisk",
    "RiskEvent",
    "RiskEventKind",
    "RiskManager",
    "TradingState",
    "effective_limits",
    "resolve",
]
