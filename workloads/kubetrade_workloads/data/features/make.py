"""Making features: every symbol's series through the group kernels, into one
matrix, then the warm-up (rows where some indicator is still undefined) cut.

The loop runs once per symbol and each kernel is a handful of TA-Lib calls on
whole arrays, so the cost per bar is a few C passes; nothing iterates over bars
in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from ...config.data import FeatureConfig
from ...market.bars import COLUMNS, PRICE_COLUMNS
from . import catalog
from .catalog import FeatureError
from .inputs import SymbolBars


@dataclass(frozen=True)
class Features:
    """Bars with their features, sorted by symbol then time, warm-up rows cut."""

    frame: pd.DataFrame
    names: tuple[str, ...]
    warmup_rows: int
    """Rows cut at the start of each symbol before every feature is defined."""
    filled_values: int
    """Undefined values after the warm-up, carried forward from the last defined one."""


def _checked(bars: pd.DataFrame) -> tuple[pd.DataFrame, npt.NDArray[np.intp]]:
    """`bars` sorted by symbol and time, with each row's symbol code.

    Raises FeatureError for anything cleaning would have repaired.
    """
    missing = [c for c in COLUMNS if c not in bars.columns]
    if missing:
        raise FeatureError(f"bar frame lacks columns {missing}")
    if bars.empty:
        raise FeatureError("no bars to compute features from")
    if not isinstance(bars["timestamp"].dtype, pd.DatetimeTZDtype):
        raise FeatureError("features need UTC timestamps; clean the bars first")
    values = bars[[*PRICE_COLUMNS, "volume"]].to_numpy(dtype=np.float64)
    bad = (
        ~np.isfinite(values).all(axis=1)
        | (values[:, :4] <= 0).any(axis=1)
        | (values[:, 4] < 0)
        | (values[:, 1] < values[:, 2])
    )
    if bad.any():
        raise FeatureError(
            f"features need clean bars: {int(bad.sum())} rows have missing, infinite or "
            "impossible values; clean the bars first"
        )
    times = bars["timestamp"].dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").view(np.int64)
    codes, _ = pd.factorize(bars["symbol"])
    order = np.lexsort((times, codes))
    codes, times = codes[order], times[order]
    if ((codes[1:] == codes[:-1]) & (times[1:] == times[:-1])).any():
        raise FeatureError("features need clean bars: duplicated (symbol, timestamp) rows")
    ordered = bars.loc[:, list(COLUMNS)].take(order).reset_index(drop=True)
    ordered["timestamp"] = ordered["timestamp"].dt.as_unit("ns")
    return ordered, codes


def _warmup(block: npt.NDArray[np.float64]) -> tuple[int, int]:
    """The first bar with every feature defined, and values filled after it (in place).

    `block` is one symbol's (features, bars) slice.
    """
    finite = np.isfinite(block)
    first = np.where(finite.any(axis=1), finite.argmax(axis=1), block.shape[1])
    start = int(first.max()) if len(first) else 0
    holes = int((~finite[:, start:]).sum())
    if holes:
        # Carry the last defined value forward: still causal, and rare (an
        # overflow, say) once cleaning has run.
        block[:] = pd.DataFrame(np.where(finite, block, np.nan).T).ffill().to_numpy().T
    return start, holes


class FeatureSink(Protocol):
    """Where `fill` puts each feature's series: row `j` of a [features, bars]
    matrix, or what a caller keeps of it (the live maker keeps tails)."""

    def __setitem__(self, j: int, values: npt.NDArray[np.float64], /) -> None: ...


def fill(
    sink: FeatureSink,
    series: SymbolBars,
    kernels: Sequence[catalog.Kernel],
    column: Mapping[str, int],
    window: int,
) -> None:
    """Run `kernels` over `series` (one symbol's bars, or several laid end to end)
    and put feature `name` at `sink[column[name]]`; what a kernel makes beyond
    `column` is dropped."""
    with np.errstate(all="ignore"):  # warm-up NaNs and flat stretches are expected
        for kernel in kernels:
            for name, values in kernel(series, window).items():
                j = column.get(name)
                if j is not None:
                    sink[j] = values


def compute(bars: pd.DataFrame, config: FeatureConfig) -> Features:
    """The configured features of every symbol in `bars` (clean, canonical bars).

    Raises FeatureError on bars that are not clean, an unknown indicator, or a
    symbol with too few bars for any row to have every feature defined.
    """
    names = catalog.candidates(config)
    if not names:
        raise FeatureError("features: no feature selected by groups and indicators")
    kernels = catalog.kernels(names)
    column = {name: j for j, name in enumerate(names)}
    ordered, codes = _checked(bars)
    times = ordered["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    arrays = [ordered[c].to_numpy(dtype=np.float64) for c in (*PRICE_COLUMNS, "volume")]
    edges = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts, stops = np.r_[0, edges], np.r_[edges, len(ordered)]
    # One row per feature: the transpose is the column-major layout pandas keeps
    # its blocks in, so the frame wraps this array without a copy. float32 is
    # what models consume, and it halves the memory and the Parquet.
    out = np.empty((len(names), len(ordered)), dtype=np.float32)
    # Kernels write into one float64 scratch block reused for every symbol (it
    # stays in cache, and no write converts); the rows past the warm-up are then
    # copied out, converted, in one pass.
    scratch = np.empty((len(names), int((stops - starts).max())), dtype=np.float64)
    keep = np.zeros(len(ordered), dtype=bool)
    kept = filled = 0
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        series = SymbolBars(times[a:b], *(x[a:b] for x in arrays))
        block = scratch[:, : b - a]
        fill(block, series, kernels, column, config.window)
        start, holes = _warmup(block)
        if start >= b - a:
            raise FeatureError(
                f"symbol {ordered['symbol'].iloc[a]}: {b - a} bars are too few for every "
                "feature to be defined (the longest indicators look back about 65 bars, "
                "regime 2 x window)"
            )
        out[:, kept : kept + b - a - start] = block[:, start:]
        keep[a + start : b] = True
        kept += b - a - start
        filled += holes
    frame = pd.concat(
        [
            ordered[keep].reset_index(drop=True),
            pd.DataFrame(out[:, :kept].T, columns=list(names), copy=False),
        ],
        axis=1,
    )
    return Features(frame, names, len(ordered) - kept, filled)
