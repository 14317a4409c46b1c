"""Features of the newest bars, made from recent prices as the Dataset made them.

A trader on a live feed (synthetic, Alpaca, ccxt) receives prices only, while
a model trained on a Dataset reads that Dataset's feature columns. `LiveFeatures`
runs the same group kernels over each symbol's recent bars and scales the rows
with the Dataset's normalisation (carried in the model card), so the model
reads at every bar the numbers it was trained on.

Every kernel is a window over past bars, but recursive ones (EMAs, Wilder
smoothing) keep a trace of where their series started. Over `span` bars (eight
times the rolling window, at least 400) that trace has decayed below float32
precision, the precision the Dataset stores; tests/unit/data/test_features_live.py
compares the rows with the features a Dataset published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...config.data import FeatureConfig
from ...market.history import FIELDS, FloatArray, History
from . import catalog
from .catalog import FeatureError
from .inputs import SymbolBars
from .make import fill
from .normalize import Normalizer

MIN_SPAN = 400


@dataclass(frozen=True)
class LiveFeatures:
    """Named features of each bar from the bars before it, scaled as in the Dataset."""

    names: tuple[str, ...]
    window: int
    """The Dataset's rolling-statistics window (`features.window`)."""
    shift: FloatArray
    scale: FloatArray

    @classmethod
    def of(
        cls,
        names: Sequence[str],
        config: FeatureConfig,
        normalization: Mapping[str, Any] | None,
    ) -> LiveFeatures:
        """Features `names` made with `config`, scaled by a manifest's `normalization`.

        Raises FeatureError for a name the catalog does not have.
        """
        unknown = [n for n in names if n not in catalog.GROUP_OF]
        if unknown:
            raise FeatureError(f"features {unknown} are not in the feature catalog")
        scaler = Normalizer.from_dict(normalization) if normalization else Normalizer.none()
        stats = [scaler.stats.get(n, (0.0, 1.0)) for n in names]
        return cls(
            tuple(names),
            config.window,
            np.array([s[0] for s in stats]),
            np.array([s[1] for s in stats]),
        )

    @property
    def span(self) -> int:
        """Bars of history each row is made from."""
        return max(MIN_SPAN, 8 * self.window)

    def rows(self, history: History) -> FloatArray:
        """The features of every bar of `history`, shape [names, bars, symbols].

        A row reads its own bar and earlier ones only; rows whose indicators are
        still warming up are NaN.
        """
        names = self.names
        column = {name: j for j, name in enumerate(names)}
        kernels = catalog.kernels(names)
        times = history.times.view(np.int64)
        prices = [getattr(history, f) for f in FIELDS]
        out = np.full((len(names), len(history), len(history.symbols)), np.nan)
        for k in range(len(history.symbols)):
            # TA-Lib reads contiguous float64 arrays: one copy of each column per symbol.
            series = SymbolBars(times, *(np.ascontiguousarray(p[:, k]) for p in prices))
            fill(out[:, :, k], series, kernels, column, self.window)
        # float32 first, as the Dataset stores features, so both scale the same numbers.
        scaled: FloatArray = (out.astype(np.float32) - self.shift[:, None, None]) / self.scale[
            :, None, None
        ]
        return scaled
