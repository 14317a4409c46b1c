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
