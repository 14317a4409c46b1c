"""Every feature by name and group, and which of them a config asks for."""

from __future__ import annotations

from collections.abc import Callable

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
MEMORY: dict[FeatureGroup, tuple[int, int]] = {
    FeatureGroup.TREND: (400, 0),  # ema_50 needs 300, kama_20 250, adx_14 200
    FeatureGroup.MOMENTUM: (400, 0),  # rsi_28 needs 300, rsi_14 and ppo 160
    FeatureGroup.VOLATILITY: (270, 0),  # atr_ratio needs 200
    FeatureGroup.VOLUME: (110, 0),  # force_index_13 needs 80
    FeatureGroup.RETURNS: (60, 0),
    FeatureGroup.STATISTICS: (60, 3),
    FeatureGroup.CALENDAR: (2, 0),
    FeatureGroup.REGIME: (110, 6),  # 3 to 4 windows at window 20
}
"""Bars of history a group's newest values need, as (bars, windows): the larger of
`bars` and `windows` times `features.window`. Recursive indicators (EMAs, Wilder
smoothing) remember where their series began; over this many bars what they
remember is below 10^-4 of the feature's spread (measured on random walks; the
figures noted are those measurements, and the margin on them is a third).
`tests/unit/data/test_features_live.py` holds each group to it."""
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


def memory(group: FeatureGroup, window: int) -> int:
    """Bars of history the newest values of `group` need (see MEMORY)."""
    bars, windows = MEMORY[group]
    return max(bars, windows * window)
