"""Normalisation with statistics from the training split only, applied to all.

Validation and test rows are scaled by what was known when training ended, as
a live model's inputs will be; so min-max scaled values outside training's
range fall outside [0, 1], as they should. One shift and scale per feature,
pooled over symbols, so a model card can carry them to a trading session.
Category codes (the regime) are left as they are.

`clip`, when a config asks for it, bounds every scaled feature to +-clip: a
feature's tail, never a price, and the same bound in training and trading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...config.data import Normalization


@dataclass(frozen=True)
class Normalizer:
    """Per feature (shift, scale): value -> (value - shift) / scale."""

    method: Normalization
    stats: dict[str, tuple[float, float]] = field(default_factory=dict)
    clip: float | None = None

    @classmethod
    def fit(
        cls,
        train: pd.DataFrame,
        names: Iterable[str],
        method: Normalization,
        skip: Iterable[str] = (),
        clip: float | None = None,
    ) -> Normalizer:
        """Statistics of `names` over the rows of `train`; scaled values bounded by `clip`."""
        method = Normalization(method)
        fitted = [n for n in names if n not in set(skip)]
        if method == Normalization.NONE:
            # Clipping alone still needs to know which columns are features.
            return cls(method, {n: (0.0, 1.0) for n in fitted} if clip else {}, clip)
        values = train.loc[:, fitted].to_numpy(dtype=np.float64)
        if method == Normalization.ZSCORE:
            shift, scale = values.mean(axis=0), values.std(axis=0)
        else:
            shift, scale = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
        # A constant column would divide by zero; it is only shifted.
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        stats = {n: (float(a), float(b)) for n, a, b in zip(fitted, shift, scale, strict=True)}
        return cls(method, stats, clip)

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """`frame` with its fitted feature columns normalised; other columns untouched."""
        if not self.stats:
            return frame
        names = list(self.stats)
        shift = np.array([self.stats[n][0] for n in names])
        scale = np.array([self.stats[n][1] for n in names])
        values = (frame[names].to_numpy(dtype=np.float64) - shift) / scale
        if self.clip is not None:
            values = np.clip(values, -self.clip, self.clip)
        out = frame.copy()
        out[names] = values.astype(np.float32)
        return out

    def as_dict(self) -> dict[str, object]:
        """The record the manifest and a model card keep."""
        keys = _keys(self.method)
        out: dict[str, object] = {
            "method": str(self.method),
            "stats": {n: dict(zip(keys, v, strict=True)) for n, v in self.stats.items()},
        }
        return out | ({"clip": self.clip} if self.clip is not None else {})

    @classmethod
    def none(cls) -> Normalizer:
        """The identity: features as they were made."""
        return cls(Normalization.NONE)

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Normalizer:
        """Back from `as_dict` (a manifest's or a model card's `normalization`).

        Raises ValueError for a record whose stats lack the method's two keys.
        """
        method = Normalization(record.get("method", Normalization.NONE))
        keys = _keys(method)
        try:
            stats = {
                name: (float(values[keys[0]]), float(values[keys[1]]))
                for name, values in (record.get("stats") or {}).items()
            }
        except (KeyError, TypeError) as err:
            raise ValueError(f"normalization stats need {keys} per feature: {err}") from err
        clip = record.get("clip")
        return cls(method, stats, float(clip) if clip is not None else None)


def _keys(method: Normalization) -> tuple[str, str]:
    """What a record calls a feature's shift and scale under `method`."""
    return ("mean", "std") if method == Normalization.ZSCORE else ("min", "range")
