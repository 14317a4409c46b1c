"""The TA-Lib functions the kernels call, as compiled, without TA-Lib's wrapper.

`talib.SMA` and friends are wrapped (functools.wraps) to accept pandas and
polars series; the wrapper inspects every argument on every call, which costs
about as much as the indicator itself on a year of daily bars. Kernels pass
float64 NumPy arrays only, so they call the compiled function it wraps.
"""

from __future__ import annotations

from typing import TypeVar, cast

import talib

F = TypeVar("F")


def _compiled(function: F) -> F:
    return cast(F, getattr(function, "__wrapped__", function))


AD = _compiled(talib.AD)
ADOSC = _compiled(talib.ADOSC)
ADX = _compiled(talib.ADX)
APO = _compiled(talib.APO)
AROON = _compiled(talib.AROON)
ATR = _compiled(talib.ATR)
BBANDS = _compiled(talib.BBANDS)
BOP = _compiled(talib.BOP)
CCI = _compiled(talib.CCI)
CORREL = _compiled(talib.CORREL)
DEMA = _compiled(talib.DEMA)
EMA = _compiled(talib.EMA)
HT_TRENDLINE = _compiled(talib.HT_TRENDLINE)
KAMA = _compiled(talib.KAMA)
LINEARREG = _compiled(talib.LINEARREG)
LINEARREG_SLOPE = _compiled(talib.LINEARREG_SLOPE)
MACD = _compiled(talib.MACD)
MAX = _compiled(talib.MAX)
MFI = _compiled(talib.MFI)
MIDPOINT = _compiled(talib.MIDPOINT)
MIDPRICE = _compiled(talib.MIDPRICE)
MIN = _compiled(talib.MIN)
MINUS_DI = _compiled(talib.MINUS_DI)
MINUS_DM = _compiled(talib.MINUS_DM)
MOM = _compiled(talib.MOM)
NATR = _compiled(talib.NATR)
OBV = _compiled(talib.OBV)
PLUS_DI = _compiled(talib.PLUS_DI)
PLUS_DM = _compiled(talib.PLUS_DM)
PPO = _compiled(talib.PPO)
ROC = _compiled(talib.ROC)
RSI = _compiled(talib.RSI)
SAR = _compiled(talib.SAR)
SMA = _compiled(talib.SMA)
STDDEV = _compiled(talib.STDDEV)
STOCHF = _compiled(talib.STOCHF)
STOCHRSI = _compiled(talib.STOCHRSI)
SUM = _compiled(talib.SUM)
T3 = _compiled(talib.T3)
TEMA = _compiled(talib.TEMA)
TRANGE = _compiled(talib.TRANGE)
TRIMA = _compiled(talib.TRIMA)
TRIX = _compiled(talib.TRIX)
TSF = _compiled(talib.TSF)
ULTOSC = _compiled(talib.ULTOSC)
WMA = _compiled(talib.WMA)
