"""The rolling windows the trader feeds bar by bar, and the report it publishes.

Per bar, after the bar's orders are out, the trader hands over the newest
bars (enough for one row of model features) and the bar's portfolio return:
O(symbols x features) to store. The statistics (O(window) per feature, some
milliseconds at 30 symbols) are recomputed then, at most every `every`
seconds; `report` only returns the last result. So a snapshot taken anywhere
in a bar (the trader takes one when the day rolls, before it decides) never
puts the statistics on the decision's path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..envs.features import FeatureTransform
from ..market.history import FloatArray, History
from .decay import decay
from .drift import feature_drift
from .reference import DriftReference, Expectation, model_features, read_expectation

DEFAULT_WINDOW = 250
"""Bars in the rolling window when the session says nothing (about a trading year of days)."""


class Ring:
    """The last `size` rows of fixed shape, oldest first on read."""

    def __init__(self, size: int, shape: tuple[int, ...] = ()) -> None:
        self._rows = np.full((size, *shape), np.nan)
        self._next = 0
        self._count = 0

    def push(self, row: FloatArray | float) -> None:
        """Add a row, dropping the oldest once full."""
        self._rows[self._next] = row
        self._next = (self._next + 1) % len(self._rows)
        self._count = min(self._count + 1, len(self._rows))

    def values(self) -> FloatArray:
        """The rows held, in no particular order (the tests here ignore order)."""
        out: FloatArray = self._rows[: self._count] if self._count < len(self._rows) else self._rows
        return out

    def __len__(self) -> int:
        return self._count


@dataclass
class DriftMonitor:
    """Feature drift and performance decay of the model the trader trades now."""

    transform: FeatureTransform | None
    """The model's feature transform; None (a baseline strategy) watches returns only."""
    reference: DriftReference | None
    expectation: Expectation | None
    window: int = DEFAULT_WINDOW
    every: float = 1.0
    """Seconds between recomputed reports at least (the status is written every 2 s)."""
    bars: int = 0
    """Bars observed since the model was swapped in."""
    _features: Ring | None = field(init=False, default=None)
    """[bars, symbols, features], made on the first bar (when the symbols are known)."""
    _returns: Ring = field(init=False)
    _equity: float | None = field(init=False, default=None)
    _report: dict[str, Any] | None = field(init=False, default=None)
    _reported_at: float = field(init=False, default=-np.inf)
    _named: set[str] = field(init=False, default_factory=set)
    """Features reported since the trader started (across swaps)."""

    def __post_init__(self) -> None:
        self.reset(self.transform, self.reference, self.expectation)

    @property
    def lookback(self) -> int:
        """Bars `observe` needs to make the newest bar's features."""
        return 1 + (self.transform.warmup if self.transform else 0)

    def reset(
        self,
        transform: FeatureTransform | None,
        reference: DriftReference | None,
        expectation: Expectation | None,
    ) -> None:
        """Watch another model from now on (a swap): its reference, its expectation, empty windows."""
        self.transform, self.reference, self.expectation = transform, reference, expectation
        self._features = None
        self._returns = Ring(self.window)
        self.bars, self._report = 0, None
        # The last equity is kept: the first bar after a swap has a return too.
        self._reported_at = -np.inf

    def observe(self, recent: History, equity: float) -> None:
        """Take one bar: `recent` ends at it (at least `lookback` bars), `equity` after its close."""
        self.bars += 1
        if self.transform is not None and self.reference is not None and len(recent):
            row = model_features(recent, self.transform)[-1]  # [symbols, features]
            if self._features is None:
                self._features = Ring(self.window, row.shape)
            self._features.push(row)
        if self._equity is not None and self._equity > 0:
            self._returns.push(equity / self._equity - 1.0)
        self._equity = equity
        if time.monotonic() - self._reported_at >= self.every:
            self.refresh()

    def report(self) -> dict[str, Any] | None:
        """The last `status.trading.drift` report (None before the first bar); computes nothing."""
        return self._report

    def refresh(self) -> dict[str, Any] | None:
        """Recompute the report from the windows now (`observe` does when one is due)."""
        if self.bars == 0:
            return None
        self._report = self._compute()
        self._reported_at = time.monotonic()
        return self._report

    def _compute(self) -> dict[str, Any]:
        features: dict[str, Any] = {}
        if self.transform is not None and self.reference is not None and self._features:
            values = self._features.values()
            for j, name in enumerate(self.transform.names):
                ref = self.reference.features.get(name)
                found = feature_drift(ref, values[..., j]) if ref is not None else None
                if found is not None:
                    features[name] = found.status()
        # The status is merge-patched: a key left out keeps its old value, so every
        # feature ever reported and the worst one are nulled when they have no figure.
        gone = {name: None for name in self._named - set(features)}
        self._named |= set(features)
        worst = max(features, key=lambda n: features[n]["psi"]) if features else None
        out: dict[str, Any] = {
            "bars": self.bars,
            "features": features | gone,
            "maxPsi": features[worst]["psi"] if worst else None,
            "maxPsiFeature": worst,
        }
        found_decay = decay(self._returns.values(), self.expectation) if self.expectation else None
        out["decay"] = found_decay.status() if found_decay is not None else None
        return out


def model_references(
    strategy: object, model_uri: str
) -> tuple[FeatureTransform | None, DriftReference | None, Expectation | None]:
    """What to watch a strategy against: its model's feature transform and training
    reference (from the model card), and the evaluation's expectation (beside it).

    A baseline strategy (`baseline:...`) has neither; a card older than the drift
    reference has only its transform; a model not yet evaluated has no expectation.
    Reads a small file: call it where a model is loaded, not inside a bar.
    """
    policy = getattr(strategy, "policy", None)
    card = getattr(policy, "card", None)
    transform = getattr(policy, "transform", None)
    reference = getattr(card, "drift_reference", None)
    if card is None:
        return None, None, None
    return (
        transform if isinstance(transform, FeatureTransform) else None,
        reference if isinstance(reference, DriftReference) else None,
        read_expectation(model_uri),
    )
