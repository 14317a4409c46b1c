"""Features: 67 TA-Lib indicators (trend, momentum, volatility, volume) plus
returns, rolling statistics, calendar and regime features; every one causal.

`compute` makes them per symbol, `select` chooses among them on the training
split, `Normalizer` scales every split with training's statistics.
"""

from .catalog import ALL, CATEGORICAL, GROUP_OF, GROUPS, TALIB_GROUPS, FeatureError, candidates
from .make import Features, compute
from .normalize import Normalizer
from .select import Selection, select

__all__ = [
    "ALL",
    "CATEGORICAL",
    "GROUPS",
    "GROUP_OF",
    "TALIB_GROUPS",
    "FeatureError",
    "Features",
    "Normalizer",
    "Selection",
    "candidates",
    "compute",
    "select",
]
