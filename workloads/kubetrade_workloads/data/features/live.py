"""Features of the newest bars, made from recent prices as the Dataset made them.

A trader on a live feed (synthetic, Alpaca, ccxt) receives prices only, while
a model trained on a Dataset reads that Dataset's feature columns. `LiveFeatures`
runs the same group kernels over each symbol's recent bars and scales the rows
with the Dataset's normalisation (carried in the model card), so the model
reads at every bar the numbers it was trained on.

Every kernel is a window over past bars, but recursive ones (EMAs, Wilder
smoothing) keep a trace of where their series started. Each kernel part runs
over the bars its newest values need (`catalog.PARTS`: 400 for the slowest
averages, down to a few windows for rolling statistics), beyond which that trace
is below 10^-4 of the feature's spread; tests/unit/data/test_features_live.py
compares the rows with the features a Dataset published.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ...config.data import FeatureConfig
from ...market.history import FIELDS, FloatArray, History
from . import catalog
from .catalog import FeatureError
from .inputs import SymbolBars
from .make import fill
from .normalize import Normalizer


@dataclass(frozen=True, eq=False)
class LiveFeatures:
    """Named features of each bar from it and the bars before it, scaled as in the Dataset."""

    names: tuple[str, ...]
    window: int
    """The Dataset's rolling-statistics window (`features.window`)."""
    shift: FloatArray
    scale: FloatArray
    bound: FloatArray | None = None
    """+-bound per feature when the Dataset clips features (inf: not clipped)."""

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
        bound = None
        if scaler.clip is not None:
            bound = np.array([scaler.clip if n in scaler.stats else np.inf for n in names])
        return cls(
            tuple(names),
            config.window,
            np.array([s[0] for s in stats]),
            np.array([s[1] for s in stats]),
            bound,
        )

    @cached_property
    def span(self) -> int:
        """Bars of history each row is made from: the most any of its kernels needs."""
        return self._tiers[0][0]

    @cached_property
    def _tiers(self) -> list[tuple[int, list[catalog.Kernel], dict[str, int]]]:
        """(bars of history, the kernel parts that need that many, the row of
        `names` each of their features goes to), longest first."""
        wanted = set(self.names)
        parts = [p for p in catalog.PARTS if wanted.intersection(p.names)]
        spans = sorted({p.memory(self.window) for p in parts}, reverse=True)
        tiers = []
        for span in spans:
            made = [p for p in parts if p.memory(self.window) == span]
            names = {n for p in made for n in p.names}
            rows = {n: j for j, n in enumerate(self.names) if n in names}
            tiers.append((span, [p.kernel for p in made], rows))
        return tiers

    def rows(self, history: History) -> FloatArray:
        """The features of every bar of `history`, shape [names, bars, symbols].

        A row reads its own bar and earlier ones only; rows whose indicators are
        still warming up are NaN.
        """
        return self._scaled(self._one_by_one(history, np.arange(len(history.symbols))))

    def latest(self, history: History, count: int) -> FloatArray:
        """The features of the last `count` bars, shape [names, count, symbols]: what
        `rows` gives for them (to 10^-4 of each feature's spread, see
        `catalog.Part`), made in one pass over all symbols.

        The kernels cost about a hundred TA-Lib and NumPy calls a symbol whatever
        the length of the series, so the symbols are laid end to end and each
        kernel runs once, over the last bars it needs (`catalog.PARTS`).
        That is exact for window indicators once a row is a window into its
        symbol. Recursive ones (EMAs, Wilder smoothing) carry the previous
        symbol's level into the next; every feature is scale-free (levels
        relative to the close, volumes to their mean), so each symbol is first
        scaled to a last close of 1 and a mean volume of 1, and what is carried
        decays over those bars before the rows kept.
        `tests/unit/data/test_features_live.py` checks the result against `rows`
        for symbols four orders of magnitude apart. A symbol with a price that is
        missing or not positive in the window (no bar yet) is made on its own.
        """
        n, k = len(history), len(history.symbols)
        if n < count + self.span:
            return self.rows(history)[:, -count:, :]
        prices = {f: getattr(history, f) for f in FIELDS}
        levels = np.stack([prices[f] for f in FIELDS[:4]])
        whole = (np.isfinite(levels) & (levels > 0)).all(axis=(0, 1))
        whole &= (np.isfinite(prices["volume"]) & (prices["volume"] >= 0)).all(axis=0)
        out = np.full((len(self.names), count, k), np.nan)
        together, alone = np.flatnonzero(whole), np.flatnonzero(~whole)
        if len(together):
            close = prices["close"][-1, together]
            mean_volume = prices["volume"][:, together].mean(axis=0)
            unit = {f: close for f in FIELDS[:4]} | {
                "volume": np.where(mean_volume > 0, mean_volume, 1.0)
            }
            scaled = {f: prices[f][:, together] / unit[f] for f in FIELDS}
            tails = _Tails(out, together, count)
            for span, kernels, rows in self._tiers:
                bars = span + count  # n is at least that (checked above)
                laid = [np.ascontiguousarray(scaled[f][-bars:].T).reshape(-1) for f in FIELDS]
                times = np.tile(history.times[-bars:].view(np.int64), len(together))
                fill(tails, SymbolBars(times, *laid), kernels, rows, self.window)
        if len(alone):
            out[:, :, alone] = self._one_by_one(history, alone)[:, -count:, :]
        return self._scaled(out)

    def _one_by_one(self, history: History, columns: np.ndarray) -> FloatArray:
        """Unscaled features of the symbols in `columns`, each over its own series."""
        out = np.full((len(self.names), len(history), len(columns)), np.nan)
        times = history.times.view(np.int64)
        prices = [getattr(history, f) for f in FIELDS]
        kernels = catalog.kernels(self.names)
        column = {name: j for j, name in enumerate(self.names)}
        for i, k in enumerate(columns.tolist()):
            # TA-Lib reads contiguous float64 arrays: one copy of each column per symbol.
            series = SymbolBars(times, *(np.ascontiguousarray(p[:, k]) for p in prices))
            fill(out[:, :, i], series, kernels, column, self.window)
        return out

    def _scaled(self, raw: FloatArray) -> FloatArray:
        # float32 first, as the Dataset stores features, so both scale the same numbers.
        scaled: FloatArray = (raw.astype(np.float32) - self.shift[:, None, None]) / self.scale[
            :, None, None
        ]
        if self.bound is not None:
            bound = self.bound[:, None, None]
            scaled = np.clip(scaled, -bound, bound)
        return scaled


@dataclass(frozen=True)
class _Tails:
    """Keeps of each feature made over symbols laid end to end the last `count`
    bars of every symbol, in `out[j]` ([count, symbols]); the rest of the
    series (megabytes at 30 symbols) is never copied."""

    out: FloatArray
    columns: np.ndarray
    count: int

    def __setitem__(self, j: int, values: FloatArray) -> None:
        tails = values.reshape(len(self.columns), -1)[:, -self.count :]
        self.out[j][:, self.columns] = tails.T
