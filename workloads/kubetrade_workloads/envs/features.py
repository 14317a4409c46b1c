"""What a model reads per symbol, and how it is scaled: one transform for training and serving.

A `FeatureTransform` names the raw per-symbol inputs it reads from a `History`
(the dataset's feature columns, or plain OHLCV) and turns a [bars, symbols,
inputs] block into model features. The environment applies it once to a whole
split; a trained policy applies it to the observation window the backtest or
the trader hands it. Both go through `apply`, so a model sees the same numbers
in training and in production.

With plain OHLCV the transform derives stationary series (log returns, bar
range, body, volume change), which need one bar before the window: that is
`warmup`. Every output row reads only its own bar and the one before, so the
transform is causal. Scaling is a z-score with statistics fitted on the
training split only and carried in the model card; values are clipped to
+-`CLIP` so that one bad print cannot swamp a network's inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..market.history import FloatArray, History
from ..market.policy import PRICE_FEATURES

DERIVED = ("log_return", "range", "body", "volume_change")
CLIP = 10.0
_STD_FLOOR = 1e-8


class FeatureError(ValueError):
    """Inputs a transform cannot use; the message names the feature."""


def dataset_features(manifest: Mapping[str, Any]) -> tuple[str, ...]:
    """Feature column names a dataset manifest declares (empty when it declares none).

    Entries are names, or objects with a `name`.
    """
    declared = manifest.get("features") or ()
    names = [item if isinstance(item, str) else item.get("name") for item in declared]
    if not all(isinstance(n, str) and n for n in names):
        raise FeatureError(f"manifest features must be names, got {declared!r}")
    return tuple(str(n) for n in names)


def stack_inputs(history: History, names: Sequence[str]) -> FloatArray:
    """The named per-symbol columns of `history` as one [bars, symbols, inputs] array."""
    available = history.features
    missing = [n for n in names if n not in PRICE_FEATURES and n not in available]
    if missing:
        raise FeatureError(f"the bars lack features {missing}")
    columns = [getattr(history, n) if n in PRICE_FEATURES else available[n] for n in names]
    return np.stack(columns, axis=-1).astype(np.float64, copy=False)


def _derive(raw: FloatArray) -> FloatArray:
    """OHLCV [bars, symbols, 5] to DERIVED [bars, symbols, 4]; the first bar is NaN."""
    o, h, low, c, v = (raw[..., i] for i in range(5))
    out = np.full((*raw.shape[:-1], len(DERIVED)), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:, :, 0] = np.log(c[1:] / c[:-1])
        out[..., 1] = np.log(h / low)
        out[..., 2] = np.log(c / o)
        lv = np.log1p(np.maximum(v, 0.0))
        out[1:, :, 3] = lv[1:] - lv[:-1]
    out[0, :, 1:3] = np.nan  # keep the first row uniformly undefined: it is warm-up
    return out


def _moments(flat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation per column over finite values (0 and 1 when undefined)."""
    finite = np.isfinite(flat)
    count = np.maximum(finite.sum(axis=0), 1)
    mean = np.where(finite, flat, 0.0).sum(axis=0) / count
    var = (np.where(finite, flat - mean, 0.0) ** 2).sum(axis=0) / count
    std = np.sqrt(var)
    return mean, np.where(std > _STD_FLOOR, std, 1.0)


@dataclass(frozen=True)
class FeatureTransform:
    """Raw inputs -> scaled model features; fitted once, then fixed."""

    inputs: tuple[str, ...]
    """Per-symbol columns read from the bars (a Policy's `features`)."""
    names: tuple[str, ...]
    """Model features, in the order of the last axis of `apply`'s result."""
    derived: bool
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def warmup(self) -> int:
        """Bars needed before the first one with defined features."""
        return 1 if self.derived else 0

    @classmethod
    def fit(cls, history: History, features: Sequence[str] = ()) -> FeatureTransform:
        """Fit on the training split: the dataset's `features`, or derived OHLCV when empty."""
        derived = not features
        inputs = tuple(PRICE_FEATURES) if derived else tuple(features)
        names = DERIVED if derived else inputs
        unscaled = cls(inputs, names, derived, (0.0,) * len(names), (1.0,) * len(names))
        values = unscaled.apply(stack_inputs(history, inputs), scale=False)
        mean, std = _moments(values[unscaled.warmup :].reshape(-1, len(names)))
        return cls(inputs, names, derived, tuple(map(float, mean)), tuple(map(float, std)))

    def apply(self, raw: FloatArray, *, scale: bool = True) -> FloatArray:
        """[bars, symbols, inputs] -> [bars, symbols, features]; row t reads rows <= t only."""
        if raw.shape[-1] != len(self.inputs):
            raise FeatureError(f"expected {len(self.inputs)} inputs, got {raw.shape[-1]}")
        values = _derive(raw) if self.derived else np.array(raw, dtype=np.float64)
        if not scale:
            return values
        scaled: FloatArray = np.clip(
            (values - np.asarray(self.mean)) / np.asarray(self.std), -CLIP, CLIP
        )
        return scaled

    def to_card(self) -> dict[str, Any]:
        """The model card's `normalisation` entry."""
        return {
            "method": "zscore",
            "fittedOn": "train",
            "clip": CLIP,
            "inputs": list(self.inputs),
            "features": list(self.names),
            "derived": self.derived,
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> FeatureTransform:
        """Rebuild from a model card's `normalisation` entry."""
        return cls(
            inputs=tuple(card["inputs"]),
            names=tuple(card["features"]),
            derived=bool(card["derived"]),
            mean=tuple(float(x) for x in card["mean"]),
            std=tuple(float(x) for x in card["std"]),
        )
