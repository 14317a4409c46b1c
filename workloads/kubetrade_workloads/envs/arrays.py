"""A dataset split as the arrays an environment steps over, prepared and checked once.

Everything `step()` touches is here as numpy: prices for fills and marking,
volumes for volume-based slippage, the tradeable mask, and the scaled features
laid out [bars, symbols * features] so that an observation window is one
contiguous slice. Non-finite values are found here, before any training, and
reported with the bar, symbol and feature they sit at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..market.history import BoolArray, FloatArray, History
from .features import FeatureTransform, stack_inputs

Float32Array = np.ndarray[tuple[int, ...], np.dtype[np.float32]]


class NonFiniteError(ValueError):
    """NaN or infinity where training needs numbers: the run fails with this reason."""


@dataclass(frozen=True)
class MarketArrays:
    """One split, ready to step over."""

    times: np.ndarray
    symbols: tuple[str, ...]
    open: FloatArray
    close: FloatArray
    volume: FloatArray
    tradeable: BoolArray
    features: Float32Array
    """Scaled features, [bars, symbols * features]; zero where a symbol is not tradeable yet."""
    feature_names: tuple[str, ...]
    window: int
    first: int
    """The first bar an agent can decide on: its whole window is defined."""
    forecast: FloatArray | None = None
    """Per-symbol forecast made at each bar's close (HYBRID), [bars, symbols]."""

    @property
    def bars(self) -> int:
        """Bars in the split."""
        return len(self.close)

    def when(self, bar: int) -> str:
        """A bar's timestamp, for messages."""
        return str(np.datetime_as_string(self.times[bar], unit="s"))


def _first_bad(values: FloatArray, offset: int) -> tuple[int, int, int]:
    bar, symbol, feature = (int(x[0]) for x in np.nonzero(~np.isfinite(values)))
    return bar + offset, symbol, feature


def prepare(
    history: History,
    transform: FeatureTransform,
    window: int,
    forecast: FloatArray | None = None,
) -> MarketArrays:
    """Apply `transform` to the whole split once and check it can be traded.

    Raises ValueError when the split is too short for the window, and
    NonFiniteError naming the first NaN or infinite feature or price a
    tradeable bar would show the agent.
    """
    first = transform.warmup + window - 1
    n = len(history)
    if n < first + 2:
        raise ValueError(
            f"a split of {n} bars is too short for a window of {window}"
            f" (+{transform.warmup} warm-up): it needs at least {first + 2} bars"
        )
    tradeable = np.asarray(history.tradeable)
    values = transform.apply(stack_inputs(history, transform.inputs))
    values = np.where(tradeable[..., None], values, 0.0)
    seen = values[first - window + 1 :]
    if not np.isfinite(seen).all():
        bar, sym, feat = _first_bad(seen, first - window + 1)
        raise NonFiniteError(
            f"feature {transform.names[feat]!r} of {history.symbols[sym]} is not finite at "
            f"{np.datetime_as_string(history.times[bar], unit='s')}: the dataset has gaps "
            "the environment will not train on"
        )
    for field in ("open", "close"):
        prices = getattr(history, field)
        bad = tradeable & ~(np.isfinite(prices) & (prices > 0))
        if bad.any():
            bar, sym = (int(x[0]) for x in np.nonzero(bad))
            raise NonFiniteError(
                f"{history.symbols[sym]} has a missing or non-positive {field} price at "
                f"{np.datetime_as_string(history.times[bar], unit='s')}"
            )
    if forecast is not None:
        forecast = np.where(tradeable, np.nan_to_num(forecast, nan=0.0), 0.0)
    return MarketArrays(
        times=history.times,
        symbols=history.symbols,
        open=history.open,
        close=history.close,
        volume=history.volume,
        tradeable=tradeable,
        features=values.reshape(n, -1).astype(np.float32),
        feature_names=transform.names,
        window=window,
        first=first,
        forecast=forecast,
    )
