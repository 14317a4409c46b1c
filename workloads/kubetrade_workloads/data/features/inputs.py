"""One symbol's bars as the arrays TA-Lib reads, with the series several
feature groups share computed once."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import numpy.typing as npt

from . import ta

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def safe_div(num: Floats, den: Floats) -> Floats:
    """num / den, 0 where den is 0.

    TA-Lib carries a NaN forward through every running sum it feeds, so a
    single 0/0 in the middle of a series would blank the rest of it; a flat
    stretch of prices reads as "no signal" (0) instead.
    """
    out = np.asarray(num / den, dtype=np.float64)
    zero = den == 0
    if zero.any():  # rare, so the common case costs one division and one comparison
        out[zero] = 0.0
        out[np.isnan(num)] = np.nan  # still warming up stays "not yet", not 0
    return out


def rel(level: Floats, close: Floats) -> Floats:
    """A price level as a fraction away from the close, so symbols of any price compare.

    `level` may be one series or a stack of them (one per row); closes are
    positive (features refuse bars that are not), so no division needs guarding.
    """
    return np.asarray(level / close - 1.0, dtype=np.float64)


class SymbolBars:
    """Contiguous float64 OHLCV arrays and nanosecond UTC times of one symbol."""

    def __init__(
        self, times: Ints, open_: Floats, high: Floats, low: Floats, close: Floats, volume: Floats
    ) -> None:
        self.times = times
        self.open = open_
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume

    def __len__(self) -> int:
        return len(self.close)

    @cached_property
    def log_prices(self) -> tuple[Floats, Floats, Floats, Floats]:
        """Log open, high, low and close: returns and bar shapes are differences of these."""
        return np.log(self.open), np.log(self.high), np.log(self.low), np.log(self.close)

    @cached_property
    def returns(self) -> Floats:
        """Log close-to-close returns; NaN on the first bar, which has none."""
        log_close = self.log_prices[3]
        out = np.empty_like(log_close)
        out[0] = np.nan
        np.subtract(log_close[1:], log_close[:-1], out=out[1:])
        return out

    @cached_property
    def adx(self) -> Floats:
        return np.asarray(ta.ADX(self.high, self.low, self.close, 14))

    @cached_property
    def plus_di(self) -> Floats:
        return np.asarray(ta.PLUS_DI(self.high, self.low, self.close, 14))

    @cached_property
    def minus_di(self) -> Floats:
        return np.asarray(ta.MINUS_DI(self.high, self.low, self.close, 14))

    def volume_mean(self, window: int) -> Floats:
        """Mean volume over `window` bars (the scale volume features divide by)."""
        return np.asarray(ta.SMA(self.volume, window))
