"""Every feature by name and group, and which of them a config asks for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...config.data import FeatureConfig, FeatureGroup
from . import calendar, momentum, regime, returns, statistics, trend, volatility, volume
from .inputs import Floats, SymbolBars

Kernel = Callable[[SymbolBars, int], dict[str, Floats]]


class FeatureError(ValueError):
    """Features cannot be made from this input or config; the message says why."""


GROUPS: dict[FeatureGroup, tuple[Kernel, tuple[str, ...]]] = {
    FeatureGroup.TREND: (trend.compute, trend.NAMES),
    FeatureGroup.MOMENTUM: (momentum.compute, momentum.NAMES),
    FeatureGroup.VOLATILITY: (volatility.compute, volatility.NAMES),
    FeatureGroup.VOLUME: (volume.compute, volume.NAMES),
    FeatureGroup.RETURNS: (returns.compute, returns.NAMES),
    FeatureGroup.STATISTICS: (statistics.compute, statistics.NAMES),
    FeatureGroup.CALENDAR: (calendar.compute, calendar.NAMES),
    FeatureGroup.REGIME: (regime.compute, regime.NAMES),
}


@dataclass(frozen=True)
class Part:
    """Features one kernel makes together, and the bars of history their newest
    values need: the larger of `bars` and `windows` times `features.window`.

    Recursive indicators (EMAs, Wilder smoothing) remember where their series
    began; over that many bars what they remember is below 10^-4 of the
    feature's spread (measured on random walks: the longest need of each part
    is noted, and the margin on it is at least a third; the SAR forgets at its first
    reversal, within 40 bars). `tests/unit/data/test_features_live.py` holds
    each part to it. KAMA's memory depends on the market: its smoothing slows
    as prices chop, and on a flat, choppy series it remembers longer than 400
    bars (as it did when every group ran over 400).
    """

    kernel: Kernel
    names: tuple[str, ...]
    bars: int
    windows: int = 0

    def memory(self, window: int) -> int:
        """Bars of history the part's newest values need."""
        return max(self.bars, self.windows * window)


PARTS = (
    Part(trend.slowest, trend.SLOWEST, 400),  # ema_50 300, kama_20 250
    Part(trend.slow, trend.SLOW, 270),  # adx_14 200
    Part(trend.fast, trend.FAST, 120),  # sma_50 and ema_10 60
    Part(momentum.slowest, momentum.SLOWEST, 400),  # rsi_28 300
    Part(momentum.slow, momentum.SLOW, 270),  # rsi_14 and ppo 160
    Part(momentum.fast, momentum.FAST, 120),  # rsi_7 80
    Part(volatility.compute, volatility.NAMES, 270),  # atr_ratio 200
    Part(volume.compute, volume.NAMES, 120),  # force_index_13 80
    Part(returns.compute, returns.NAMES, 60),  # 40
    Part(statistics.compute, statistics.NAMES, 60, 3),  # 2 windows
    Part(calendar.compute, calendar.NAMES, 2),
    # Reads the ADX and directional indicators trend.slow reads (SymbolBars.adx):
    # a category flips when ADX crosses 25, so it needs what they need, and 3 to 4
    # windows for its own measures.
    Part(regime.compute, regime.NAMES, 270, 6),
)
"""Every group's kernel, or the parts it is made of, for making features live."""

TALIB_GROUPS = (
    FeatureGroup.TREND,
    FeatureGroup.MOMENTUM,
    FeatureGroup.VOLATILITY,
    FeatureGroup.VOLUME,
)
"""The technical indicators proper, every one computed by TA-Lib."""
CATEGORICAL = regime.CATEGORICAL
GROUP_OF = {name: group for group, (_, names) in GROUPS.items() for name in names}
ALL = tuple(GROUP_OF)


def candidates(config: FeatureConfig) -> tuple[str, ...]:
    """The features `config` asks for, in catalog order.

    Raises FeatureError naming any indicator the catalog does not have.
    """
    asked = list(config.indicators or ())
    unknown = [name for name in asked if name not in GROUP_OF]
    if unknown:
        raise FeatureError(
            f"features.indicators: unknown {unknown}; known features are listed in the "
            "kubetrade_workloads.data.features catalog"
        )
    groups = config.groups if config.groups is not None else ([] if asked else list(GROUPS))
    wanted = set(asked) | {name for g in groups for name in GROUPS[FeatureGroup(g)][1]}
    return tuple(name for name in ALL if name in wanted)


def kernels(names: tuple[str, ...]) -> list[Kernel]:
    """The group kernels that make `names`, each once, in catalog order."""
    needed = {GROUP_OF[name] for name in names}
    return [kernel for group, (kernel, _) in GROUPS.items() if group in needed]
