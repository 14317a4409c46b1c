"""Automated selection on the training split: drop near-constant features,
then, of each highly correlated pair, the one later in the catalog.

Only training rows are read, so nothing about the validation or test period
shapes which features a model sees. Near-constant is judged scale-free, as
variance over mean square (0 for a constant, 1 for a zero-mean signal): a
feature measured in tiny units (a one-minute return) is not a constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...config.data import FeatureConfig

# Correlations settle well before this many rows; more only costs memory.
MAX_ROWS = 200_000


@dataclass(frozen=True)
class Selection:
    """The features kept, in catalog order, and why each other one was dropped."""

    chosen: tuple[str, ...]
    dropped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The record the manifest keeps."""
        return {
            "candidates": len(self.chosen) + len(self.dropped),
            "chosen": list(self.chosen),
            "dropped": dict(self.dropped),
        }


def _sample(train: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    values = train.loc[:, list(names)].to_numpy(dtype=np.float64)
    if len(values) > MAX_ROWS:  # an even stride keeps every part of the period
        values = values[:: -(-len(values) // MAX_ROWS)]
    return values


def select(train: pd.DataFrame, names: Sequence[str], config: FeatureConfig) -> Selection:
    """Choose among `names` using the rows of `train` only."""
    values = _sample(train, names)
    dropped: dict[str, str] = {}
    with np.errstate(all="ignore"):
        variance = np.nanvar(values, axis=0)
        square = np.nanmean(values * values, axis=0)
        spread = np.where(square > 0, variance / square, 0.0)
    live = []
    for j, name in enumerate(names):
        if not spread[j] > config.variance_threshold:
            dropped[name] = f"near-constant (variance/mean square {spread[j]:.3g})"
        else:
            live.append(j)
    if not live:
        return Selection((), dropped)
    block = values[:, live]
    block = (block - np.nanmean(block, axis=0)) / np.nanstd(block, axis=0)
    block = np.nan_to_num(block)
    corr = np.abs(block.T @ block / len(block))
    kept: list[int] = []
    for i in range(len(live)):
        if kept:
            k = int(np.argmax(corr[i, kept]))
            if corr[i, kept[k]] > config.correlation_threshold:
                dropped[names[live[i]]] = (
                    f"correlated {corr[i, kept[k]]:.3f} with {names[live[kept[k]]]}"
                )
                continue
        kept.append(i)
    return Selection(tuple(names[live[i]] for i in kept), dropped)
