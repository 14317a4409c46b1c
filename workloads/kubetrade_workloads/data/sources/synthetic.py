"""Synthetic OHLCV bars: the embedded default source, deterministic from a seed.

Symbols of one kind (equities on NYSE sessions; crypto pairs 24/7 and currency
pairs on the FX week, one round-the-clock factor) share a market factor, so
they are correlated, and a market regime that switches
between calm, volatile and trending (up or down) spells lasting weeks. Rare
jumps fatten the tails; equities gap overnight. Intraday volume and
volatility follow the U shape of a trading day. Each symbol's own noise comes
from a stream keyed by (seed, symbol), so a symbol's path does not change
when other symbols are added to the request.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...config.data import Interval, SourceConfig
from ...market import bars
from ...market.cadence import Market
from ...market.cadence import market_of_symbol as _market
from . import calendar
from .base import parse_interval

# (annual drift, annual volatility) of the calm, volatile and trending regimes.
_REGIMES = np.array([[0.06, 0.12], [-0.10, 0.40], [0.35, 0.16]])
_REGIME_DAYS = 40.0  # mean length of a regime spell, in trading days
_JUMPS_PER_YEAR = np.array([2.0, 10.0, 3.0])
_CRYPTO_VOL = 2.0  # crypto is about twice as volatile as equities
_DEFAULT_YEARS = 3


@dataclass(frozen=True)
class _Clock:
    """The bar grid of one kind of symbol and what a bar is worth in time."""

    stamps: pd.DatetimeIndex
    dt_year: float  # one bar as a fraction of a trading year
    bars_per_day: float
    position: np.ndarray  # 0..1 within the trading day
    first_of_day: np.ndarray  # bool: the bar opens a session (equities gap here)


def _clock(crypto: bool, interval: Interval, start: dt.date, end: dt.date) -> _Clock:
    stamps = calendar.grid(crypto, interval, start, end)
    days_per_year = 365.0 if crypto else 252.0
    minutes_per_day = 1440.0 if crypto else 390.0
    if interval == Interval.DAY:
        per_day = 1.0
        position = np.full(len(stamps), 0.5)
        first = np.zeros(len(stamps), dtype=bool)
    else:
        per_day = minutes_per_day / calendar.MINUTES[interval]
        position = calendar.session_position(stamps, crypto)
        dates = stamps.tz_convert("UTC" if crypto else "America/New_York").normalize()
        first = (
            np.r_[False, np.asarray(dates[1:] != dates[:-1])] if len(stamps) else np.zeros(0, bool)
        )
        if crypto:
            first[:] = False  # no overnight: a crypto day runs into the next
    return _Clock(stamps, 1.0 / (days_per_year * per_day), per_day, position, first)


def _regimes(rng: np.random.Generator, n: int, per_day: float) -> tuple[np.ndarray, np.ndarray]:
    """Regime id per bar and the sign of the trend during each spell."""
    p_switch = min(1.0, 1.0 / (_REGIME_DAYS * per_day))
    spells = max(8, int(n * p_switch * 3) + 8)
    lengths = rng.geometric(p_switch, spells)
    while lengths.sum() < n:  # rare: draw more spells until the grid is covered
        lengths = np.r_[lengths, rng.geometric(p_switch, spells)]
    # Each spell moves to one of the two other regimes, so spells really differ.
    steps = rng.integers(1, 3, len(lengths))
    kinds = (np.cumsum(steps) + rng.integers(0, 3)) % 3
    signs = rng.choice([-1.0, 1.0], len(lengths))
    return np.repeat(kinds, lengths)[:n], np.repeat(signs, lengths)[:n]


def _symbol_rng(seed: int, symbol: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(symbol.encode())])


def _ushape(position: np.ndarray) -> np.ndarray:
    # Busier at the open and the close than at lunch; mean one over a session.
    return 0.6 + 1.2 * (2.0 * position - 1.0) ** 2


def _simulate(
    seed: int,
    crypto: bool,
    symbols: Sequence[str],
    interval: Interval,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    clock = _clock(crypto, interval, start, end)
    n = len(clock.stamps)
    market_rng = np.random.default_rng([seed, 1 if crypto else 0])
    regime, trend_sign = _regimes(market_rng, n, clock.bars_per_day)
    drift = _REGIMES[regime, 0] * np.where(regime == 2, trend_sign, 1.0)
    vol = _REGIMES[regime, 1] * (_CRYPTO_VOL if crypto else 1.0)
    intraday = interval != Interval.DAY
    shape = _ushape(clock.position) if intraday and not crypto else np.ones(n)
    sigma = vol * np.sqrt(clock.dt_year) * np.sqrt(shape)
    market = market_rng.standard_normal(n)
    frames = []
    for symbol in sorted(symbols):
        rng = _symbol_rng(seed, symbol)
        rho = rng.uniform(0.5, 0.85)  # correlation with the market factor
        shock = rho * market + np.sqrt(1.0 - rho**2) * rng.standard_normal(n)
        jump_p = _JUMPS_PER_YEAR[regime] * clock.dt_year
        jumps = (rng.random(n) < jump_p) * rng.normal(-0.01, 0.05, n)
        gaps = clock.first_of_day * rng.normal(0.0, 0.3 * vol / np.sqrt(252.0), n)
        log_ret = (drift - 0.5 * vol**2) * clock.dt_year + sigma * shock + jumps + gaps
        p0 = np.exp(rng.uniform(np.log(0.5), np.log(60000.0))) if crypto else rng.uniform(20, 400)
        log_close = np.log(p0) + np.cumsum(log_ret)
        prev = np.r_[np.log(p0), log_close[:-1]]
        log_open = prev + gaps + rng.normal(0.0, 0.1, n) * sigma
        wick = np.abs(rng.normal(0.0, 0.5, (2, n))) * sigma
        open_, close = np.exp(log_open), np.exp(log_close)
        high = np.maximum(open_, close) * np.exp(wick[0])
        low = np.minimum(open_, close) * np.exp(-wick[1])
        base = np.exp(rng.uniform(8.0, 12.0) if crypto else rng.uniform(13.0, 16.0))
        activity = shape * (vol / _REGIMES[0, 1]) ** 0.5 * (1.0 + 2.0 * np.abs(shock))
        noise = rng.lognormal(0.0, 0.3, n)
        volume = np.round(base / clock.bars_per_day * activity * noise)
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": clock.stamps,
                    "symbol": symbol,
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": volume,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else bars.empty()


class SyntheticSource:
    """Deterministic synthetic bars: same seed, symbols and range, same frame."""

    name = "synthetic"
    cache_identity = None  # generating is faster than a cache round trip

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fetch(
        self, symbols: Sequence[str], interval: str, start: dt.date, end: dt.date | None
    ) -> pd.DataFrame:
        """Bars in [start, end); an open end means three years of bars (not 'today',
        which would make the output depend on the day it ran)."""
        step = parse_interval(interval)
        stop = end or start + dt.timedelta(days=365 * _DEFAULT_YEARS)
        # Currency pairs move with the round-the-clock factor, on the FX week.
        parts = [
            _simulate(self.seed, crypto, names, step, start, stop)
            for crypto in (False, True)
            if (names := [s for s in symbols if (_market(s) != Market.EQUITIES) == crypto])
        ]
        frame = pd.concat(parts, ignore_index=True) if parts else bars.empty()
        fx = frame["symbol"].map(_market) == Market.FX
        if fx.any():
            stamps = pd.DatetimeIndex(frame["timestamp"])
            week = stamps.day_of_week < 5 if step == Interval.DAY else calendar.in_fx_week(stamps)
            frame = frame[~fx.to_numpy() | week].reset_index(drop=True)
        out = bars.conform(frame)
        out["timestamp"] = out["timestamp"].astype("datetime64[ns, UTC]")
        return out


def generate(config: SourceConfig) -> pd.DataFrame:
    """The synthetic bars a `type: synthetic` source config describes."""
    return SyntheticSource(config.seed).fetch(
        config.symbols, config.interval, config.start, config.end
    )
